# shellcheck shell=bash
# build: configures $build with -G Ninja (Release, BIRDIE_CUDA=ON, CUDA arch $arch) and
# builds only what the later stages run (ninja -k 0: what fails to build is "not built"
# there, the rest is checked). GPU_CHECK_PREBUILT: an archive of scripts/pack_gpu_build.sh
# used instead, when its programs' libraries resolve here. Writes no result file; when
# nothing can be built (configure failed) the driver skips the later stages.

# What the stages run beyond the cuda_* suites (bench/peers/run.sh: bench and step_bench);
# add an app here when a stage needs another.
build_apps=(bench step_bench init_bench pretrain checkpoint_parity experiment phonebook_eval mqar_eval qa_eval
            choice_eval generate decode_bench)

# NCCL where the CUDA toolkit has none: the copy PyTorch's Python environment carries
# (the nvidia-nccl wheel: include/nccl.h and lib/libnccl.so.2), for engine/CMakeLists.txt.
nccl_args() {
  local toolkit d
  toolkit=$(dirname "$(command -v nvcc 2> /dev/null || echo /usr/local/cuda/bin/nvcc)")/..
  for d in "$toolkit/include" /usr/include /usr/local/include; do
    [ -f "$d/nccl.h" ] && return 0
  done
  d=$(python3 -c 'import nvidia.nccl as n; print(list(n.__path__)[0])' 2> /dev/null) || return 0
  [ -f "$d/include/nccl.h" ] && [ -f "$d/lib/libnccl.so.2" ] &&
    echo "-DNCCL_INCLUDE_DIR=$d/include -DNCCL_LIBRARY=$d/lib/libnccl.so.2"
}

stage_build() {
  build_steps
  local rc=$?
  [ "$rc" -ne 1 ] || build_failed=1  # 1: nothing to build with; 2: some targets not built
  return "$rc"
}

build_steps() {
  if [ -n "${GPU_CHECK_PREBUILT:-}" ]; then
    use_prebuilt "$GPU_CHECK_PREBUILT" && return 0
  fi
  if [ -f "$build/CMakeCache.txt" ] && ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$build/CMakeCache.txt"; then
    log_note "build: $build was configured with another generator; starting afresh"
    rm -rf "$build"
  fi
  out_of_time build configure && return 1
  # shellcheck disable=SC2046  # nccl_args: none, or two -D arguments
  run_step build configure "$(cap "$stage_limit")" "$logs/build_configure.txt" \
    cmake -G Ninja -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBIRDIE_CUDA=ON \
      "-DCMAKE_CUDA_ARCHITECTURES=$arch" "${cmake_dep_args[@]}" $(nccl_args)
  if [ "$step_timed_out" = 1 ]; then timeout_row build configure; return 1; fi
  if [ "$step_rc" -ne 0 ]; then
    record build configure FAILED "$step_secs" "$(grep -m 1 -E 'CMake Error|Could not|not found' "$logs/build_configure.txt" | cut -c1-160)"
    return 1
  fi
  # Where each dependency was found (the prefix or the system).
  { echo "dependencies as configured:"
    grep -E '^(doctest|tomlplusplus|nlohmann_json)_DIR|^pkgcfg_lib_|^PKG_CONFIG_EXECUTABLE|^CMAKE_CUDA_COMPILER:' "$build/CMakeCache.txt"
  } >> "$log"
  record build configure ok "$step_secs" "$(grep -m 1 -oE 'The CUDA compiler identification is .*' "$logs/build_configure.txt" ||
    echo "build files in $build (reconfigured)"); $(grep -m 1 -oE 'birdie: (NCCL found|no NCCL)[^:]*' "$logs/build_configure.txt")"

  local targets
  mapfile -t targets < <(ninja -C "$build" -t targets all 2> /dev/null | sed -n -E 's/^(cuda_[A-Za-z0-9_]+_tests):.*/\1/p' | sort -u)
  targets+=("${build_apps[@]}")
  mapfile -t targets < <(printf '%s\n' "${targets[@]}" | sort -u)
  out_of_time build "ninja" && return 1
  local cpu0 cpu1 t name="ninja ${#targets[@]} targets -j$jobs"
  # The programs are linked afresh each time (seconds), so one that fails to build cannot
  # leave an older binary, from an earlier run, for the later stages to test.
  for t in "${targets[@]}"; do rm -f "$build/tests/$t" "$build/apps/$t"; done
  children_cpu
  cpu0=$cpu_seconds
  # -k 0: one target that does not compile leaves the others built, and checked.
  run_step build "$name" "$(cap "$stage_limit")" "$logs/build_ninja.txt" \
    cmake --build "$build" -j "$jobs" --target "${targets[@]}" -- -k 0
  children_cpu
  cpu1=$cpu_seconds
  log_note "build: targets ${targets[*]}; CPU user+sys $((cpu1 - cpu0)) s"
  if [ "$step_rc" -eq 0 ]; then
    record build "$name" ok "$step_secs" "CPU user+sys $((cpu1 - cpu0)) s; $(grep -cE '^\[[0-9]+/[0-9]+\]' "$logs/build_ninja.txt") build steps"
    return 0
  fi
  local stale=()
  for t in "${targets[@]}"; do
    [ -x "$build/tests/$t" ] || [ -x "$build/apps/$t" ] || stale+=("$t")
  done
  log_note "build: not built: ${stale[*]}"
  if [ "$step_timed_out" = 1 ]; then
    timeout_row build "$name"
    log_note "build: the stages go on with the targets that were built"
  else
    record build "$name" FAILED "$step_secs" \
      "not built: ${stale[*]}; first error: $({ grep -m 1 -E 'error:|Error' "$logs/build_ninja.txt" ||
        grep -m 1 FAILED "$logs/build_ninja.txt"; } | cut -c1-160)"
  fi
  return 2  # the stages go on with what was built
}

# GPU_CHECK_PREBUILT=ARCHIVE (scripts/pack_gpu_build.sh): the programs built elsewhere from
# this commit. Used when every library they need resolves here (the CUDA runtime's folder
# added to the search path); otherwise the build stage compiles here as usual.
use_prebuilt() {
  local archive=$1 cudalib="" d missing made_from
  if [ ! -f "$archive" ]; then
    record build prebuilt SKIPPED - "GPU_CHECK_PREBUILT=$archive: no such file; building here" benign
    return 1
  fi
  rm -rf "$build"
  mkdir -p "$build"
  if ! tar -xzf "$archive" -C "$build"; then
    record build prebuilt SKIPPED - "$archive does not unpack; building here" benign
    rm -rf "$build"
    return 1
  fi
  made_from=$(cat "$build/PREBUILT_COMMIT" 2> /dev/null || echo unknown)
  if [ "$commit" != "unknown (no .git)" ] && [ "$made_from" != "$commit" ]; then
    record build prebuilt SKIPPED - "$archive was built from $made_from, this tree is $commit; building here" benign
    rm -rf "$build"
    return 1
  fi
  for d in "$(dirname "$(command -v nvcc 2> /dev/null || echo /usr/local/cuda/bin/nvcc)")/../lib64" \
           /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
    [ -d "$d" ] && { cudalib=$(cd "$d" && pwd); break; }
  done
  [ -n "$cudalib" ] && export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$cudalib"
  missing=$(for f in "$build"/tests/cuda_*_tests "$build"/apps/*; do ldd "$f" 2>&1 | grep 'not found'; done |
            sed -E 's/^[[:space:]]*//' | sort -u | paste -sd ';' | cut -c1-200)
  if [ -n "$missing" ]; then
    record build prebuilt SKIPPED - "$archive: not usable here ($missing); building here" benign
    rm -rf "$build"
    return 1
  fi
  # shellcheck disable=SC2012  # a count of files
  record build prebuilt ok 0 "$(ls "$build"/tests/cuda_*_tests "$build"/apps/* | wc -l) programs from $archive (commit $made_from); CUDA libraries from ${cudalib:-the system}"
}
