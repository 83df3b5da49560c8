#!/usr/bin/env python3
# Compiles scripts/cuda_emulation/warp_mma_emulation_tests.cpp (the wrappers of
# kernels/cuda/warp_mma.cuh: mma.sync, ldmatrix, cp.async) for the host through
# scripts/cuda_emulation/cuda_shim.h (g++, AddressSanitizer + UBSan) and runs it. No GPU
# needed (seconds).
#   scripts/emulate_warp_mma.py [--keep DIR]
import os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kernel_emulation import run_emulation  # noqa: E402

if __name__ == "__main__":
  run_emulation("warp_mma_emulation_tests", ["warp_mma_emulation_tests.cpp"])
