#!/usr/bin/env python3
# Compiles the CUDA kernels of kernels/cuda/{scan,scan_one_pass,scan_one_pass_split,rmsnorm,embedding,elementwise,
# cross_entropy,reduce,conv1d,rglru,rglru_one_pass,rglru_step,adamw,gated_gelu}.cu for the
# host (g++, AddressSanitizer + UBSan) through scripts/cuda_emulation/cuda_shim.h and runs
# scripts/cuda_emulation/emulation_tests.cpp (with its cases, *_emulation_cases.cpp): the real kernel and launcher source, on the
# CPU, against f64 references, with bounds, alignment and launch-limit checks. No GPU
# needed. The only source rewrite: `k<<<config>>>(args)` becomes
# `::emu::launch(k, config)(args)` and `extern __shared__ T name[];` a pointer to the
# launch's dynamic shared memory.
#   scripts/emulate_cuda_kernels.py [--keep DIR] [--big]
#       [scan|embedding|rmsnorm|sum_rows|cross_entropy|reduce|conv1d|rglru|rglru_step|adamw|gated_gelu ...]
# (--big adds a scan with B·chunks > 65535, minutes more; sections default to all.)
import os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kernel_emulation import run_emulation  # noqa: E402

sources = ["scan.cu", "scan_one_pass.cu", "scan_one_pass_split.cu", "rmsnorm.cu", "embedding.cu", "elementwise.cu", "cross_entropy.cu", "reduce.cu", "conv1d.cu", "rglru.cu", "rglru_one_pass.cu", "rglru_step.cu", "adamw.cu", "gated_gelu.cu"]

if __name__ == "__main__":
  # The engine's error and dtype code, without the shim.
  run_emulation("emulation_tests", ["emulation_tests.cpp", "recurrence_emulation_cases.cpp", "layer_emulation_cases.cpp"],
                kernels=sources,
                host_sources=["engine/error.cpp", "engine/dtype.cpp"], pass_arguments=True,
                temp_prefix="cuda_emulation_")
