#!/usr/bin/env python3
# Compiles kernels/cuda/attention.cu, attention_backward.cu, attention_tensor_core.cu,
# attention_tensor_core_backward.cu, rotary.cu and segments.cu for the host through
# scripts/cuda_emulation/cuda_shim.h (g++, AddressSanitizer + UBSan; the launch rewrite of
# scripts/kernel_emulation.py) and runs scripts/cuda_emulation/attention_emulation_tests.cpp:
# the real kernels and launchers against dense f64 references, with bounds, shared-memory
# and launch-limit checks. No GPU needed (about a minute).
#   scripts/emulate_attention_kernels.py [--keep DIR]
import os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kernel_emulation import run_emulation  # noqa: E402

if __name__ == "__main__":
  run_emulation("attention_emulation_tests", ["attention_emulation_tests.cpp"],
                kernels=["attention.cu", "attention_backward.cu", "attention_tensor_core.cu",
                         "attention_tensor_core_backward.cu", "rotary.cu", "segments.cu"],
                host_sources=["engine/error.cpp", "engine/dtype.cpp"])
