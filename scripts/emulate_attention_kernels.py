#!/usr/bin/env python3
# Compiles kernels/cuda/attention.cu, attention_backward.cu, attention_tensor_core.cu,
# attention_tensor_core_backward.cu, rotary.cu and segments.cu for the host through
# scripts/cuda_emulation/cuda_shim.h (g++, AddressSanitizer + UBSan; the launch rewrite of
# scripts/emulate_cuda_kernels.py) and runs scripts/cuda_emulation/attention_emulation_tests.cpp:
# the real kernels and launchers against dense f64 references, with bounds, shared-memory
# and launch-limit checks. No GPU needed (about a minute).
#   scripts/emulate_attention_kernels.py [--keep DIR]
import os, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from emulate_cuda_kernels import rewrite, root, emu  # noqa: E402

def main():
  args = sys.argv[1:]
  work = args[args.index("--keep") + 1] if "--keep" in args else tempfile.mkdtemp(prefix="attention_emulation_")
  os.makedirs(work, exist_ok=True)
  units = []
  for name in ("attention.cu", "attention_backward.cu", "attention_tensor_core.cu",
               "attention_tensor_core_backward.cu", "rotary.cu", "segments.cu"):
    with open(os.path.join(root, "kernels", "cuda", name)) as f:
      text = rewrite(f.read())
    unit = os.path.join(work, name.replace(".cu", "_emulated.cpp"))
    with open(unit, "w") as f:
      f.write('#line 1 "kernels/cuda/%s"\n' % name + text)
    units.append(unit)
  flags = ["-std=c++20", "-O1", "-g", "-pthread", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-unknown-pragmas",
           "-fsanitize=address,undefined", "-fno-sanitize-recover=undefined", "-fno-omit-frame-pointer"]
  shim = ["-DBIRDIE_WITH_CUDA", "-I" + os.path.join(emu, "include"), "-I" + emu, "-I" + root,
          "-include", os.path.join(emu, "cuda_shim.h")]
  objs = []
  for src in ("engine/error.cpp", "engine/dtype.cpp"):
    obj = os.path.join(work, os.path.basename(src) + ".o")
    subprocess.run(["g++"] + flags + ["-I" + root, "-c", os.path.join(root, src), "-o", obj], check=True)
    objs.append(obj)
  exe = os.path.join(work, "attention_emulation_tests")
  subprocess.run(["g++"] + flags + shim + units + [os.path.join(emu, "attention_emulation_tests.cpp")] + objs +
                 ["-o", exe], check=True)
  env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0", UBSAN_OPTIONS="print_stacktrace=1")
  sys.exit(subprocess.run([exe], env=env).returncode)

if __name__ == "__main__":
  main()
