# Compiling and running the CUDA kernel emulation: the launch rewrite of the kernel source,
# the g++ flags (AddressSanitizer + UBSan) and include path of scripts/cuda_emulation/cuda_shim.h,
# and the build and run of one emulation test program. Used by scripts/emulate_*.py.
import os, re, subprocess, sys, tempfile

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
emu = os.path.join(root, "scripts", "cuda_emulation")

flags = ["-std=c++20", "-O1", "-g", "-pthread", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-unknown-pragmas",
         "-fsanitize=address,undefined", "-fno-sanitize-recover=undefined", "-fno-omit-frame-pointer"]
shim = ["-DBIRDIE_WITH_CUDA", "-I" + os.path.join(emu, "include"), "-I" + emu, "-I" + root,
        "-include", os.path.join(emu, "cuda_shim.h")]

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

def run_emulation(name, tests, kernels=(), host_sources=(), pass_arguments=False, temp_prefix=None):
  """Builds the emulation test program `name` from the scripts/cuda_emulation sources `tests`,
  the rewritten kernels/cuda sources `kernels` (compiled with the shim) and the repository
  sources `host_sources` (compiled without it) in the folder given by `--keep DIR` on the
  command line (else a temporary one), runs it (with the command line's other arguments when
  `pass_arguments`) and exits with its status."""
  args = sys.argv[1:]
  keep = args[args.index("--keep") + 1] if "--keep" in args else None
  work = keep or tempfile.mkdtemp(prefix=temp_prefix or name.replace("_tests", "_"))
  os.makedirs(work, exist_ok=True)
  units = []
  for kernel in kernels:
    with open(os.path.join(root, "kernels", "cuda", kernel)) as f:
      text = rewrite(f.read())
    unit = os.path.join(work, kernel.replace(".cu", "_emulated.cpp"))
    with open(unit, "w") as f:
      f.write('#line 1 "kernels/cuda/%s"\n' % kernel + text)
    units.append(unit)
  objs = []
  for src in host_sources:
    obj = os.path.join(work, os.path.basename(src) + ".o")
    subprocess.run(["g++"] + flags + ["-I" + root, "-c", os.path.join(root, src), "-o", obj], check=True)
    objs.append(obj)
  exe = os.path.join(work, name)
  subprocess.run(["g++"] + flags + shim + units + [os.path.join(emu, t) for t in tests] + objs + ["-o", exe],
                 check=True)
  env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0", UBSAN_OPTIONS="print_stacktrace=1")
  passed = [a for i, a in enumerate(args) if a != "--keep" and (i == 0 or args[i - 1] != "--keep")]
  if not pass_arguments: passed = []
  sys.exit(subprocess.run([exe] + passed, env=env).returncode)
