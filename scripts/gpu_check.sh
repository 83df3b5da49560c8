#!/usr/bin/env bash
# One command on a GPU machine (nvcc, CMake, no package registry): build the CUDA backend,
# run the GPU parity suites (plain and under compute-sanitizer memcheck), run the kernel
# benchmarks and whole-step benchmarks (apps/step_bench), keep the full log, print a short
# table last.
#
#   scripts/gpu_check.sh OUTDIR
#
# Dependencies beyond the CUDA toolkit come from .debs/ (filled by
# scripts/fetch_gpu_debs.sh on a machine with the registry): each package is unpacked with
# `dpkg -x` into OUTDIR/prefix, the absolute /usr paths inside its pkg-config and CMake
# files are rewritten to the prefix, and CMake and pkg-config are pointed there. Without
# .debs/ the system's packages are used. The packages are Debian 12's: a machine with an
# older C library than 2.36 may refuse their shared libraries (the log then says so at
# the first test).
#
# Environment: BIRDIE_GPU_ARCH (default 90) sets CMAKE_CUDA_ARCHITECTURES for this build
# only; BIRDIE_GPU_JOBS (default: all cores) the build parallelism.
# Exit status: 0 when every step passed, else 1 (the table says which step failed).
set -uo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
repo=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
log="$out/gpu_check.log"
summary="$out/summary.txt"
: > "$log"
: > "$summary"
build="$out/build"
prefix="$out/prefix"
arch="${BIRDIE_GPU_ARCH:-90}"
jobs="${BIRDIE_GPU_JOBS:-$(nproc)}"
status=0

note() { echo "$*" | tee -a "$log"; }
record() {  # record STEP RESULT [DETAIL]
  printf '%-34s %-8s %s\n' "$1" "$2" "${3:-}" >> "$summary"
  [ "$2" = "ok" ] || status=1
}
step() {  # step NAME command...: runs with output appended to the log
  local name=$1
  shift
  note "=== $name: $*"
  local start=$SECONDS
  if "$@" >> "$log" 2>&1; then
    record "$name" ok "$((SECONDS - start)) s"
    return 0
  fi
  record "$name" FAILED "$((SECONDS - start)) s, see $log"
  return 1
}

# --- dependencies from .debs/ -------------------------------------------------------
unpack_debs() {
  rm -rf "$prefix"
  mkdir -p "$prefix"
  local deb
  for deb in "$repo"/.debs/*.deb; do
    dpkg -x "$deb" "$prefix" || return 1
  done
  # pkg-config and CMake package files name /usr absolutely: point them into the prefix.
  find "$prefix" \( -name '*.pc' -o -name '*.cmake' \) -type f -print0 |
    xargs -0 sed -i -E "s#(^|[=\"[:space:];(])/usr#\1$prefix/usr#g"
  # OpenBLAS's pkg-config file is normally an alternatives link made at install time.
  local multiarch=usr/lib/x86_64-linux-gnu
  if [ -f "$prefix/$multiarch/openblas-pthread/pkgconfig/openblas.pc" ]; then
    mkdir -p "$prefix/$multiarch/pkgconfig"
    cp "$prefix/$multiarch/openblas-pthread/pkgconfig/openblas.pc" "$prefix/$multiarch/pkgconfig/openblas.pc"
  fi
  # Same for the unversioned library link the linker looks for.
  if [ -f "$prefix/$multiarch/openblas-pthread/libopenblas.so.0" ] && [ ! -e "$prefix/$multiarch/openblas-pthread/libopenblas.so" ]; then
    ln -s libopenblas.so.0 "$prefix/$multiarch/openblas-pthread/libopenblas.so"
  fi
}

cmake_args=(-S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBIRDIE_CUDA=ON
            "-DCMAKE_CUDA_ARCHITECTURES=$arch")
if compgen -G "$repo/.debs/*.deb" > /dev/null; then
  if step "unpack .debs" unpack_debs; then
    multiarch="$prefix/usr/lib/x86_64-linux-gnu"
    export PKG_CONFIG_PATH="$multiarch/pkgconfig:$multiarch/openblas-pthread/pkgconfig:$prefix/usr/share/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
    export LD_LIBRARY_PATH="$multiarch:$multiarch/openblas-pthread${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    cmake_args+=("-DCMAKE_PREFIX_PATH=$prefix/usr;$multiarch/cmake;$prefix/usr/share/cmake")
  fi
else
  note "no .debs/: using the system's packages"
  record "unpack .debs" skipped "no .debs/ (system packages)"
fi

# --- configure, build ----------------------------------------------------------------
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true; nvcc --version | tail -1; } >> "$log" 2>&1
built=0
if step "configure" cmake "${cmake_args[@]}"; then
  if step "build (-j$jobs)" cmake --build "$build" -j "$jobs"; then built=1; fi
fi

# --- tests ---------------------------------------------------------------------------
if [ $built = 1 ]; then
  # A skipped GPU suite means no GPU was visible: on this machine that is a failure.
  gpu_tests="$out/ctest_gpu.txt"
  note "=== ctest: GPU suites"
  start=$SECONDS
  if ctest --test-dir "$build" -R '^cuda_' --output-on-failure > "$gpu_tests" 2>&1; then
    if grep -q 'Skipped' "$gpu_tests"; then
      record "ctest: GPU suites" SKIPPED "no GPU visible to the suites ($(grep -c 'Skipped ' "$gpu_tests") skipped)"
    else
      record "ctest: GPU suites" ok "$((SECONDS - start)) s, $(grep -E 'tests passed' "$gpu_tests")"
    fi
  else
    record "ctest: GPU suites" FAILED "$(grep -E 'tests passed|tests failed' "$gpu_tests")"
  fi
  cat "$gpu_tests" >> "$log"
  step "ctest: all suites" ctest --test-dir "$build" --output-on-failure
  sanitizer=$(command -v compute-sanitizer || true)
  if [ -z "$sanitizer" ] && command -v nvcc > /dev/null; then
    candidate="$(dirname "$(command -v nvcc)")/compute-sanitizer"
    [ -x "$candidate" ] && sanitizer=$candidate
  fi
  if [ -n "$sanitizer" ]; then
    for exe in "$build"/tests/cuda_*_tests; do
      [ -x "$exe" ] || continue
      step "memcheck $(basename "$exe")" "$sanitizer" --tool memcheck --error-exitcode 1 \
        --leak-check no "$exe"
    done
  else
    record "memcheck" FAILED "compute-sanitizer not found on PATH"
  fi
  bench_out="$out/bench.txt"
  note "=== bench"
  if "$build/apps/bench" > "$bench_out" 2>&1; then
    if grep -q '^SKIPPED' "$bench_out"; then record "bench" SKIPPED "$(head -1 "$bench_out")"; else record "bench" ok; fi
  else
    record "bench" FAILED "see $bench_out"
  fi
  cat "$bench_out" >> "$log"
  # Whole training steps in bf16 compute: tokens/s, MFU and peak memory. The paper
  # configuration at 4 x 2048 is the memory claim of the model (one 80 GB GPU).
  steps_out="$out/step_bench.txt"
  : > "$steps_out"
  for run in "small 8 2048" "base 8 2048" "paper 4 2048" "paper 8 2048 --recompute"; do
    set -- $run
    step "step_bench $run" "$build/apps/step_bench" --model "$repo/configs/model/$1.toml" --rows "$2" \
      --seq "$3" ${4:-} --device cuda --precision bf16 --steps 5
    tail -n 4 "$log" | grep -E '^(step_bench|  )' >> "$steps_out"
  done
fi

# --- the short table last ------------------------------------------------------------
{
  echo
  echo "gpu_check summary ($(date -u +%FT%TZ), full log: $log)"
  cat "$summary"
  if [ -f "${bench_out:-/nonexistent}" ]; then
    echo
    grep -E '^(device|ceilings|op |scan|gemm|rmsnorm|cross)' "$bench_out" || true
  fi
  if [ -s "${steps_out:-/nonexistent}" ]; then
    echo
    cat "$steps_out"
  fi
} | tee -a "$log"
exit $status
