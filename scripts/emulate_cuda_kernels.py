#!/usr/bin/env python3
# Compiles the CUDA kernels of kernels/cuda/{scan,scan_one_pass,scan_one_pass_split,rmsnorm,embedding,elementwise,
# cross_entropy,reduce,conv1d,rglru,adamw}.cu for the
# host (g++, AddressSanitizer + UBSan) through scripts/cuda_emulation/cuda_shim.h and runs
# scripts/cuda_emulation/emulation_tests.cpp: the real kernel and launcher source, on the
# CPU, against f64 references, with bounds, alignment and launch-limit checks. No GPU
# needed. The only source rewrite: `k<<<config>>>(args)` becomes
# `::emu::launch(k, config)(args)` and `extern __shared__ T name[];` a pointer to the
# launch's dynamic shared memory.
#   scripts/emulate_cuda_kernels.py [--keep DIR] [--big]
#       [scan|embedding|rmsnorm|sum_rows|cross_entropy|reduce|conv1d|rglru|adamw ...]
# (--big adds a scan with B·chunks > 65535, minutes more; sections default to all.)
import os, re, subprocess, sys, tempfile

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
emu = os.path.join(root, "scripts", "cuda_emulation")
sources = ["scan.cu", "scan_one_pass.cu", "scan_one_pass_split.cu", "rmsnorm.cu", "embedding.cu", "elementwise.cu", "cross_entropy.cu", "reduce.cu", "conv1d.cu", "rglru.cu", "adamw.cu"]

def rewrite(text):
  out = []; i = 0
  while True:
    j = text.find("<<<", i)
    if j < 0:
      out.append(text[i:]); break
    # the kernel expression ends just before <<< (whitespace allowed) and may carry
    # template arguments: walk back over them and the (qualified) name
    k = j
    while text[k - 1].isspace(): k -= 1
    end = k
    if text[k - 1] == ">":
      depth = 0
      while True:
        k -= 1
        if text[k] == ">": depth += 1
        elif text[k] == "<":
          depth -= 1
          if depth == 0: break
    while text[k - 1].isalnum() or text[k - 1] in "_:": k -= 1
    kernel = text[k:end]
    close = text.find(">>>", j)
    config = text[j + 3:close]
    assert text[close + 3] == "(", text[close:close + 20]
    out.append(text[i:k]); out.append("::emu::launch(%s, %s)" % (kernel, config))
    i = close + 3
  text = "".join(out)
  return re.sub(r"extern __shared__ (\w+) (\w+)\[\];", r"\1* \2 = ::emu::dynamic_shared<\1>();", text)

def main():
  args = sys.argv[1:]
  keep = args[args.index("--keep") + 1] if "--keep" in args else None
  work = keep or tempfile.mkdtemp(prefix="cuda_emulation_")
  os.makedirs(work, exist_ok=True)
  units = []
  for name in sources:
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
  exe = os.path.join(work, "emulation_tests")
  # The engine's error and dtype code, without the shim.
  objs = []
  for src in ("engine/error.cpp", "engine/dtype.cpp"):
    obj = os.path.join(work, os.path.basename(src) + ".o")
    subprocess.run(["g++"] + flags + ["-I" + root, "-c", os.path.join(root, src), "-o", obj], check=True)
    objs.append(obj)
  subprocess.run(["g++"] + flags + shim + units + [os.path.join(emu, "emulation_tests.cpp")] + objs +
                 ["-o", exe], check=True)
  env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0", UBSAN_OPTIONS="print_stacktrace=1")
  passed = [a for i, a in enumerate(args) if a != "--keep" and (i == 0 or args[i - 1] != "--keep")]
  sys.exit(subprocess.run([exe] + passed, env=env).returncode)

if __name__ == "__main__":  # importable: scripts/emulate_attention_kernels.py reuses rewrite()
  main()
