#!/usr/bin/env python3
# Compiles scripts/cuda_emulation/warp_mma_emulation_tests.cpp (the wrappers of
# kernels/cuda/warp_mma.cuh: mma.sync, ldmatrix, cp.async) for the host through
# scripts/cuda_emulation/cuda_shim.h (g++, AddressSanitizer + UBSan) and runs it. No GPU
# needed (seconds).
#   scripts/emulate_warp_mma.py [--keep DIR]
import os, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from emulate_cuda_kernels import root, emu  # noqa: E402

def main():
  args = sys.argv[1:]
  work = args[args.index("--keep") + 1] if "--keep" in args else tempfile.mkdtemp(prefix="warp_mma_emulation_")
  os.makedirs(work, exist_ok=True)
  flags = ["-std=c++20", "-O1", "-g", "-pthread", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-unknown-pragmas",
           "-fsanitize=address,undefined", "-fno-sanitize-recover=undefined", "-fno-omit-frame-pointer"]
  shim = ["-DBIRDIE_WITH_CUDA", "-I" + os.path.join(emu, "include"), "-I" + emu, "-I" + root,
          "-include", os.path.join(emu, "cuda_shim.h")]
  exe = os.path.join(work, "warp_mma_emulation_tests")
  subprocess.run(["g++"] + flags + shim + [os.path.join(emu, "warp_mma_emulation_tests.cpp"), "-o", exe], check=True)
  env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0", UBSAN_OPTIONS="print_stacktrace=1")
  sys.exit(subprocess.run([exe], env=env).returncode)

if __name__ == "__main__":
  main()
