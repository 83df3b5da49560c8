#!/usr/bin/env python3
# Compiles the decoding kernels kernels/cuda/sampling.cu and attention_decode.cu for the
# host through scripts/cuda_emulation/cuda_shim.h (g++, AddressSanitizer + UBSan; the launch
# rewrite of scripts/kernel_emulation.py), with the CPU sampling reference
# kernels/cpu/sampling.cpp beside them, and runs
# scripts/cuda_emulation/decoding_emulation_tests.cpp: the sampling kernel's tokens against
# the reference's, the batched decoding attention against f64. No GPU needed.
#   scripts/emulate_decoding_kernels.py [--keep DIR]
import os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kernel_emulation import run_emulation  # noqa: E402

if __name__ == "__main__":
  # The engine's error and dtype code and the CPU sampling reference, without the shim.
  run_emulation("decoding_emulation_tests", ["decoding_emulation_tests.cpp"],
                kernels=["sampling.cu", "attention_decode.cu"],
                host_sources=["engine/error.cpp", "engine/dtype.cpp", "kernels/cpu/sampling.cpp"])
