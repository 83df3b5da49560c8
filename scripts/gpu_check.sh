#!/usr/bin/env bash
# The one prepared command for a GPU machine (one H100 or H200, 16 cores, nvcc, CMake,
# ninja, compute-sanitizer; no package registry; at most 10 minutes a command): builds
# what the check runs, runs the GPU parity suites, the suites under compute-sanitizer, the
# kernel and whole-step benchmarks and the PyTorch peer benchmark, each stage under its
# own time limit, and always ends with a summary table, also when a stage fails, times
# out or the script itself is interrupted.
#
#   scripts/gpu_check.sh OUTDIR                  # every stage, in the order below
#   scripts/gpu_check.sh OUTDIR --stage NAME     # one stage again on the existing build
#                                                # (--stage may be repeated)
#   scripts/gpu_check.sh --list                  # the stages and their limits
#
# Stages, in this order (limit = default time limit in seconds; estimate = expected
# time on a 16-core H100 machine, see below):
#
#   stage       limit  estimate  what
#   deps           30      5     unpack .debs/ (scripts/fetch_gpu_debs.sh) into .gpu-prefix/;
#                                check that pkg-config from there runs and finds the .pc files
#   build         180     60     configure with -G Ninja (Release, BIRDIE_CUDA=ON, sm_90) and
#                                build only the cuda_* test suites, apps/bench, step_bench,
#                                init_bench, pretrain, checkpoint_parity (and peer_targets
#                                below); ninja -k 0, so a target that fails leaves the others
#                                built, and the later stages test those ("not built" for the rest)
#   parity        150    100     each cuda_* suite (doctest; GPU kernels against the CPU
#                                references), 120 s at most per suite (GPU_CHECK_PARITY_SUITE_CAP)
#   bench          45     30     apps/bench: kernels against the measured copy bandwidth and
#                                bf16 GEMM peak
#   step_bench    150     70     apps/init_bench on the paper model on the GPU (its weights
#                                against the CPU's fingerprint), then apps/step_bench, bf16,
#                                1 warm-up + 3 steps each: small 8x2048 (--host-times), base
#                                8x2048 (and batch-1 generation), paper 4x2048 (--host-times,
#                                and --evaluation: Birdie's own cost), 70 s at most each
#   peers         240    150     bash bench/peers/run.sh OUTFILE BUILD_DIR --device cuda --quick,
#                                twice: eager, fla and ascan with the scan comparison (its
#                                engine rows from the bench stage's output), 150 s at most; then
#                                torch.compile, step only, in what is left (skipped when that
#                                script is not in the tree)
#   pretrain        5      0     starts pretrain in the background: configs/small-gpu.toml
#                                (Birdie mixture) on data_out/fortunes for
#                                GPU_CHECK_PRETRAIN_SECONDS (130), beside the stages below;
#                                after them: a falling loss, an evaluation and a checkpoint,
#                                then apps/checkpoint_parity (that checkpoint's logits on the
#                                CPU against the GPU's), 60 s at most
#   memcheck      120     90     compute-sanitizer memcheck on every cuda_* suite (scan, ops,
#                                matmul first), test cases named [large] left out, 40 s at
#                                most per suite
#   racecheck     130     60     racecheck on the scan and ops suites, [large] left out,
#                                100 s at most per suite (ops took over 25 s on an H200)
#   initcheck      45     25     initcheck on the scan and ops suites, likewise (ops: 11 s)
#   profile       150     90     Nsight Compute (ncu --clock-control none): one launch of each
#                                scan kernel of apps/bench (speed of light, memory, occupancy,
#                                warp stalls); every kernel of one paper 4x2048 step, timed and
#                                grouped by family (scripts/ncu_kernel_times.py) against the
#                                unprofiled step time
#   nccl           90     30     the data-parallel NCCL path at world size 1: pretrain (tiny model,
#                                next-token, 10 steps on cuda) with and without BIRDIE_NCCL=1
#                                (the gradients through a one-rank NCCL all-reduce, in one
#                                bucket and in a bucket per block during the backward pass)
#                                must log the same losses and gradient norms, bit for bit
#   architectures 150     80     Hawk and the Transformer, each at its "small" shape
#                                (configs/model/{hawk,transformer}-small.toml, matched to the Gated
#                                SSM small): apps/step_bench bf16 8x2048 (tokens/s beside the
#                                step_bench stage's Gated SSM), 40 next-token steps of pretrain on
#                                data_out/fortunes (the loss must fall), then apps/generate from
#                                the checkpoint (the decoders on the GPU)
#   experiment    480    300     apps/experiment on GPU_CHECK_EXPERIMENT_CONFIG (default
#                                configs/experiments/small-gpu.toml; its prepared data carried),
#                                every arm as its own process at once, then --report-only;
#                                experiment.txt holds each arm's log and the report
#   total        1880   1070     (~18 minutes expected, the pretrain run hidden behind the
#                                sanitizers: more than one 10-minute command holds, so a run
#                                names the stages it needs with --stage, in the order given.
#                                The whole run is also held to GPU_CHECK_BUDGET = 570 s, so
#                                it ends inside one command even when stages run to their
#                                limits: a later stage then gets what is left, or is
#                                recorded TIMEOUT.)
#
# The build estimate: on the 2-core development machine (2026-11-26, shared with other
# builds, so CPU seconds rather than wall time), a fresh build folder, -G Ninja,
# CMAKE_CUDA_ARCHITECTURES=90, exactly these targets (116 build steps: the 6 cuda_*
# suites, bench, step_bench and every library they link) took 275 s of CPU (user 256 s +
# sys 19 s; 12 min 42 s wall at -j2 on the shared cores). Over 16 cores that is 17 s; the
# longest single compile (kernels/cuda/embedding.cu, about 15 s of CPU by the ninja log
# scaled to the CPU total) plus the links after it set the critical path at about 30 s;
# with configure (CUDA compiler detection, ~10 s) and a 1.5x margin for a different CPU,
# about 60 s, well inside the 180 s limit. (The script's own build row, on a second fresh
# build here, said 280 s of CPU.) A second run on the same machine finds the build done
# and takes seconds. The GPU stages' figures are guesses until the first run
# on a GPU: the parity suites and bench run for seconds, memcheck slows kernels 10-100x
# (hence the per-suite caps and the [large] exclusion), and step_bench's paper model
# initialises 1.4B parameters before its steps. The build stage's row reports the CPU
# time it took on the machine that ran it.
#
# Result files in OUTDIR (9, all small; full outputs stay in build-gpu-logs/, outside it):
#   summary.txt     the table printed last: one row per step (ok, FAILED, TIMEOUT with its
#                   limit, SKIPPED with the reason, INTERRUPTED), then the overall result
#   gpu_check.log   environment, then per step its command and the last 40 lines of its
#                   output (150 when it failed)
#   parity.txt      each parity suite's output (per-test-case durations), clipped
#   sanitizers.txt  each compute-sanitizer run's report, clipped
#   bench.txt       apps/bench's output
#   step_bench.txt  apps/step_bench's output for the three configurations
#   peers.txt       the peer benchmark's OUTFILE
#   pretrain.txt    the pretrain run's output, clipped, and checkpoint_parity's
#   profile.txt     ncu's scan kernel reports and the paper step's time per kernel family
# A full run empties OUTDIR's result files first; a --stage run rewrites its own result
# file (any sanitizer stage: sanitizers.txt) and summary.txt, and appends to the log.
#
# Outside OUTDIR (git-ignored): the build tree build-gpu/ (GPU_CHECK_BUILD_DIR), the
# unpacked packages .gpu-prefix/ (GPU_CHECK_PREFIX), the full step outputs build-gpu-logs/.
# Without .debs/ the system's packages are used. The packages are Debian 12's: a machine
# with a C library older than 2.36 may refuse their binaries (the deps stage says so).
#
# Environment: BIRDIE_GPU_ARCH (default 90) sets CMAKE_CUDA_ARCHITECTURES; BIRDIE_GPU_JOBS
# (default: all cores) the build parallelism; GPU_CHECK_LIMIT_<STAGE> (e.g.
# GPU_CHECK_LIMIT_MEMCHECK=200) a stage's limit in seconds; GPU_CHECK_BUDGET (default 570)
# the whole run's; GPU_CHECK_PREBUILT an archive of scripts/pack_gpu_build.sh to use in
# place of the build (when its libraries resolve here); GPU_CHECK_PRETRAIN_SECONDS (default 130) and GPU_CHECK_PRETRAIN_DATA
# (default data_out/fortunes) the pretrain run's length and prepared data; GPU_CHECK_PEERS_ARGS
# more options for bench/peers/peers.py (e.g. --variants eager,fla,ascan).
# Exit status: 0 every step passed; 1 a step failed, timed out or was interrupted; 3 nothing
# failed but steps were skipped (no GPU visible, or --stage without a build); 2 bad
# arguments; 128+N when stopped by signal N. Skipping the peers stage because
# bench/peers/run.sh is absent, or deps because .debs/ is, leaves a run complete.
set -uo pipefail
shopt -s nullglob

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

stage_names=(deps build parity bench step_bench peers pretrain memcheck racecheck initcheck profile nccl architectures experiment)
declare -A default_limit=([deps]=30 [build]=180 [parity]=150 [memcheck]=120 [racecheck]=130
                          [initcheck]=45 [bench]=45 [step_bench]=150 [peers]=240 [pretrain]=5
                          [profile]=150 [nccl]=90 [architectures]=150 [experiment]=480)
declare -A stage_what=(
  [deps]="unpack .debs/ into the prefix; pkg-config from there"
  [build]="configure (-G Ninja) and build the cuda_* suites, apps/bench, apps/step_bench"
  [parity]="the cuda_* suites (GPU against the CPU references)"
  [memcheck]="compute-sanitizer memcheck on every cuda_* suite, [large] left out"
  [racecheck]="racecheck on the scan and ops suites, [large] left out"
  [initcheck]="initcheck on the scan and ops suites, [large] left out"
  [bench]="apps/bench (kernels against copy bandwidth and GEMM peak)"
  [step_bench]="apps/init_bench paper (cuda), apps/step_bench bf16: small 8x2048, base 8x2048, paper 4x2048"
  [peers]="bash bench/peers/run.sh OUTFILE BUILD_DIR --device cuda --quick: eager, fla, ascan; then compile"
  [profile]="ncu: the scan kernels' bandwidth and stalls; the paper step's time per kernel family"
  [pretrain]="starts pretrain (small, Birdie) for GPU_CHECK_PRETRAIN_SECONDS beside the later stages; checkpoint_parity after them"
  [nccl]="pretrain tiny on cuda, 10 steps, with and without BIRDIE_NCCL=1: the same losses, bit for bit"
  [architectures]="Hawk and the Transformer (small) on cuda: step_bench, 40 steps of pretrain, generate from the checkpoint"
  [experiment]="apps/experiment on GPU_CHECK_EXPERIMENT_CONFIG, every arm at once (one process each), then its report")
# Targets the peer benchmark needs from BUILD_DIR beyond the suites (add here if it grows).
peer_targets=(step_bench bench)
# Per-step caps inside a stage (a step also never outlives its stage's limit). The scan
# suite checks every scan kernel at the model's shape against one f64 reference: about 19 s
# a kernel on an H200 (the host's comparisons of 100M-element outputs, mostly).
parity_suite_cap=${GPU_CHECK_PARITY_SUITE_CAP:-120}
memcheck_suite_cap=40
race_init_suite_cap=100
step_bench_run_cap=70
# Lines of each step's output kept in the log.
log_tail_ok=40
log_tail_failed=150

limit_of() {
  local var="GPU_CHECK_LIMIT_${1^^}"
  echo "${!var:-${default_limit[$1]}}"
}

usage() {
  echo "usage: $0 OUTDIR [--stage NAME]...   (run every stage, or only the named ones)" >&2
  echo "       $0 --list                      (the stages and their time limits)" >&2
  exit 2
}

list_stages() {
  local s
  for s in "${stage_names[@]}"; do
    printf '%-11s %4s s  %s\n' "$s" "$(limit_of "$s")" "${stage_what[$s]}"
  done
  echo "budget for the whole run: ${GPU_CHECK_BUDGET:-570} s"
}

out_arg=""
only=()
while [ $# -gt 0 ]; do
  case $1 in
    --list) list_stages; exit 0 ;;
    --stage) [ $# -ge 2 ] || usage; only+=("$2"); shift 2 ;;
    --stage=*) only+=("${1#--stage=}"); shift ;;
    -h|--help) usage ;;
    -*) echo "gpu_check: unknown option '$1'" >&2; usage ;;
    *) [ -z "$out_arg" ] || usage; out_arg=$1; shift ;;
  esac
done
[ -n "$out_arg" ] || usage
for s in "${only[@]}"; do
  [ -n "${default_limit[$s]:-}" ] || { echo "gpu_check: no stage '$s' (--list shows them)" >&2; exit 2; }
done

mkdir -p "$out_arg" || exit 2
out=$(cd "$out_arg" && pwd)
build=${GPU_CHECK_BUILD_DIR:-$repo/build-gpu}
prefix=${GPU_CHECK_PREFIX:-$repo/.gpu-prefix}
logs=${GPU_CHECK_LOGS:-$repo/build-gpu-logs}
arch=${BIRDIE_GPU_ARCH:-90}
jobs=${BIRDIE_GPU_JOBS:-$(nproc)}
budget=${GPU_CHECK_BUDGET:-570}

log="$out/gpu_check.log"
summary="$out/summary.txt"
parity_file="$out/parity.txt"
sanitizer_file="$out/sanitizers.txt"
bench_file="$out/bench.txt"
steps_file="$out/step_bench.txt"
peers_file="$out/peers.txt"
pretrain_file="$out/pretrain.txt"
profile_file="$out/profile.txt"
experiment_file="$out/experiment.txt"

if [ ${#only[@]} -eq 0 ]; then
  run_stages=("${stage_names[@]}")
  rm -f "$log" "$summary" "$parity_file" "$sanitizer_file" "$bench_file" "$steps_file" "$peers_file" "$pretrain_file" \
    "$profile_file" "$experiment_file"
  rm -rf "$logs"
else
  run_stages=("${only[@]}")
  for s in "${only[@]}"; do  # a stage run again rewrites its result file
    case $s in
      parity) rm -f "$parity_file" ;;
      memcheck|racecheck|initcheck) rm -f "$sanitizer_file" ;;
      bench) rm -f "$bench_file" ;;
      step_bench) rm -f "$steps_file" ;;
      peers) rm -f "$peers_file" ;;
      pretrain) rm -f "$pretrain_file" ;;
      profile) rm -f "$profile_file" ;;
      experiment) rm -f "$experiment_file" ;;
    esac
  done
fi
mkdir -p "$logs"
: > "$summary"
touch "$log"

# --- bookkeeping ---------------------------------------------------------------------
summary_rows=()
failures=0
skips=0
no_gpu_skips=0
current_pid=""
current_stage=""
current_step=""
current_t0=0
current_limit=0
finished=0
reached_end=0
interrupted=""
gpu_name=""
commit=$(git -C "$repo" rev-parse --short HEAD 2> /dev/null || echo "unknown (no .git)")

log_note() { printf '%s\n' "$*" >> "$log"; }

record() {  # record STAGE STEP RESULT SECONDS DETAIL [benign]: one row of the summary
  local row
  row=$(printf '%-10s %-28s %-11s %5s  %s' "$1" "$2" "$3" "$4" "${5:-}")
  summary_rows+=("$row")
  printf '%s\n' "$row" >> "$summary"
  log_note "--> $row"
  case $3 in
    FAILED|TIMEOUT|INTERRUPTED) failures=$((failures + 1)) ;;
    SKIPPED) [ -n "${6:-}" ] || skips=$((skips + 1)) ;;  # a benign skip leaves the run complete
  esac
}

clip() {  # clip FILE HEAD TAIL: the whole file, or its first HEAD and last TAIL lines
  local file=$1 head_n=$2 tail_n=$3 n
  [ -f "$file" ] || return 0
  n=$(wc -l < "$file")
  if [ "$n" -le $((head_n + tail_n)) ]; then
    cut -c1-400 "$file"
  else
    head -n "$head_n" "$file" | cut -c1-400
    echo "[... $((n - head_n - tail_n)) lines left out; the whole output is $file ...]"
    tail -n "$tail_n" "$file" | cut -c1-400
  fi
}

children_cpu() {  # sets cpu_seconds: user+sys of this shell's finished children
  times > "$logs/.times"  # in this shell: a $(...) subshell would have no children yet
  cpu_seconds=$(tail -n 1 "$logs/.times" | awk '{ s = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); s += a[1] * 60 + a[2] } printf "%d", s }')
}

stage_deadline=0
budget_end=$((SECONDS + budget))
left() { local a=$((stage_deadline - SECONDS)) b=$((budget_end - SECONDS)); echo $((a < b ? a : b)); }
cap() { local l; l=$(left); echo $(($1 < l ? $1 : l)); }

# run_step STAGE STEP LIMIT OUTPUT command...: the command under `timeout LIMIT`, stdout
# and stderr into OUTPUT, the tail of OUTPUT into the log. Sets step_rc, step_secs and
# step_timed_out. Runs in the background and waits, so a signal reaches the trap at once.
run_step() {
  local stage=$1 step=$2 lim=$3 output=$4
  shift 4
  log_note ""
  log_note "=== [$stage] $step (limit $lim s, $(date -u +%T)): $*"
  current_stage=$stage current_step=$step current_t0=$SECONDS current_limit=$lim
  timeout -k 10 "$lim" "$@" < /dev/null > "$output" 2>&1 &
  current_pid=$!
  wait "$current_pid"
  step_rc=$?
  current_pid=""
  step_secs=$((SECONDS - current_t0))
  step_timed_out=0
  if { [ "$step_rc" -eq 124 ] || [ "$step_rc" -eq 137 ]; } && [ "$step_secs" -ge $((lim - 1)) ]; then
    step_timed_out=1
  fi
  if [ "$step_rc" -eq 0 ]; then
    tail -n "$log_tail_ok" "$output" | cut -c1-400 >> "$log"
  else
    tail -n "$log_tail_failed" "$output" | cut -c1-400 >> "$log"
  fi
  log_note "(exit status $step_rc after $step_secs s)"
}

# A step with no time left in its stage (or in the whole run) is not started.
out_of_time() {  # out_of_time STAGE STEP
  if [ "$(left)" -lt 3 ]; then
    record "$1" "$2" TIMEOUT - "not started: the stage's limit ($stage_limit s) or the run's budget ($budget s) was spent"
    return 0
  fi
  return 1
}

timeout_row() {  # timeout_row STAGE STEP
  record "$1" "$2" TIMEOUT "$step_secs" "killed at its limit of $step_lim s (stage limit $stage_limit s, run budget $budget s)"
}

kill_current() {
  [ -n "$current_pid" ] || return 0
  # timeout leads its own process group: signal the group, so the command's children stop too.
  kill -TERM -- "-$current_pid" 2>/dev/null || kill -TERM "$current_pid" 2>/dev/null
  local i
  for i in 1 2 3 4 5; do
    kill -0 "$current_pid" 2>/dev/null || break
    sleep 1
  done
  kill -KILL -- "-$current_pid" 2>/dev/null || kill -KILL "$current_pid" 2>/dev/null
}

on_signal() {
  interrupted=$1
  if [ -n "$current_pid" ]; then
    kill_current
    record "$current_stage" "$current_step" INTERRUPTED $((SECONDS - current_t0)) \
      "stopped by SIG$1 (the step's limit was $current_limit s)"
    current_pid=""
  else
    record "${current_stage:-gpu_check}" "-" INTERRUPTED - "stopped by SIG$1 between steps"
  fi
  case $1 in INT) exit 130 ;; TERM) exit 143 ;; HUP) exit 129 ;; *) exit 1 ;; esac
}

finish() {
  local rc=$?
  [ "$finished" = 1 ] && return
  finished=1
  trap '' INT TERM HUP
  [ -n "$current_pid" ] && kill_current
  if [ -n "${pretrain_pid:-}" ] && kill -0 "$pretrain_pid" 2> /dev/null; then  # still running in the background
    kill -TERM -- "-$pretrain_pid" 2> /dev/null || kill -TERM "$pretrain_pid" 2> /dev/null
    record pretrain train INTERRUPTED $((SECONDS - pretrain_t0)) "stopped with the script"
  fi
  local verdict
  if [ -n "$interrupted" ]; then
    verdict="INTERRUPTED by SIG$interrupted"
  elif [ "$reached_end" = 0 ]; then
    verdict="ABORTED: the script stopped early with exit status $rc (see the end of gpu_check.log)"
    [ "$rc" -ne 0 ] || rc=1
  elif [ "$failures" -gt 0 ]; then
    verdict="FAILED ($failures step(s) failed, timed out or were interrupted)"
    rc=1
  elif [ "$no_gpu_skips" -gt 0 ]; then
    verdict="INCOMPLETE: no GPU visible, $skips step(s) skipped"
    rc=3
  elif [ "$skips" -gt 0 ]; then
    verdict="INCOMPLETE: $skips step(s) skipped (see their rows)"
    rc=3
  else
    verdict="PASSED"
    rc=0
  fi
  {
    echo
    echo "gpu_check summary: $(date -u +%FT%TZ), commit $commit, GPU: ${gpu_name:-none listed by nvidia-smi}, $((SECONDS)) s"
    echo "stages run: ${run_stages[*]}; results in $out (log: gpu_check.log)"
    printf '%-10s %-28s %-11s %5s  %s\n' stage step result secs detail
    printf '%s\n' "${summary_rows[@]}"
    echo "overall: $verdict"
  } > "$logs/summary.tmp"
  mv "$logs/summary.tmp" "$summary"
  cat "$summary" >> "$log"
  cat "$summary"
  exit "$rc"
}
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM
trap 'on_signal HUP' HUP
trap finish EXIT

# --- dependencies from .debs/ -----------------------------------------------------------
multiarch="$prefix/usr/lib/x86_64-linux-gnu"
pkg_config_wrapper="$prefix/bin/pkg-config"
cmake_dep_args=()

# Run under `timeout` through `bash -c`, so it reads everything from the environment.
unpack_debs() {
  set -e
  rm -rf "$prefix"
  mkdir -p "$prefix/bin" "$prefix/.ar"
  local deb
  for deb in "$repo"/.debs/*.deb; do
    if command -v dpkg-deb > /dev/null; then
      dpkg-deb -x "$deb" "$prefix"
    else  # no dpkg: a .deb is an ar archive holding data.tar.*
      (cd "$prefix/.ar" && rm -f data.tar.* && ar x "$deb" && tar -xf data.tar.* -C "$prefix")
    fi
    echo "unpacked $(basename "$deb")"
  done
  rm -rf "$prefix/.ar"
  # pkg-config and CMake package files name /usr absolutely: point them into the prefix.
  find "$prefix" \( -name '*.pc' -o -name '*.cmake' \) -type f -print0 |
    xargs -0 -r sed -i -E "s#(^|[=\"[:space:];(])/usr#\1$prefix/usr#g"
  # OpenBLAS's pkg-config file and unversioned library link are alternatives links made
  # at install time.
  if [ -f "$multiarch/openblas-pthread/pkgconfig/openblas.pc" ]; then
    mkdir -p "$multiarch/pkgconfig"
    cp "$multiarch/openblas-pthread/pkgconfig/openblas.pc" "$multiarch/pkgconfig/openblas.pc"
  fi
  if [ -f "$multiarch/openblas-pthread/libopenblas.so.0" ] && [ ! -e "$multiarch/openblas-pthread/libopenblas.so" ]; then
    ln -s libopenblas.so.0 "$multiarch/openblas-pthread/libopenblas.so"
  fi
  # pkgconf needs its library (libpkgconf.so.3, from the prefix too): a wrapper that finds
  # it and searches only the prefix's .pc files, so CMake can call it with any environment.
  if [ -x "$prefix/usr/bin/pkgconf" ]; then
    cat > "$pkg_config_wrapper" <<EOF
#!/bin/sh
# pkg-config from .debs/ (Debian 12's pkgconf), unpacked by scripts/gpu_check.sh.
LD_LIBRARY_PATH="$multiarch\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" \\
PKG_CONFIG_LIBDIR="\${PKG_CONFIG_LIBDIR:-$multiarch/pkgconfig:$multiarch/openblas-pthread/pkgconfig:$prefix/usr/lib/pkgconfig:$prefix/usr/share/pkgconfig}" \\
  exec "$prefix/usr/bin/pkgconf" "\$@"
EOF
    chmod +x "$pkg_config_wrapper"
  fi
  echo "$deb_stamp" > "$prefix/.stamp"
}

prefix_in_env=0
use_prefix() {  # the environment that builds and runs against the unpacked packages
  [ ${#debs[@]} -gt 0 ] && [ -f "$prefix/.stamp" ] || return 0
  if [ "$prefix_in_env" = 0 ]; then
    prefix_in_env=1
    export PATH="$prefix/bin:$PATH"
    export LD_LIBRARY_PATH="$multiarch:$multiarch/openblas-pthread${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export PKG_CONFIG_LIBDIR="$multiarch/pkgconfig:$multiarch/openblas-pthread/pkgconfig:$prefix/usr/lib/pkgconfig:$prefix/usr/share/pkgconfig"
    unset PKG_CONFIG_PATH
  fi
  cmake_dep_args=("-DCMAKE_PREFIX_PATH=$prefix/usr")
  if [ -f "$prefix/.system-pkg-config" ]; then
    cmake_dep_args+=("-DPKG_CONFIG_EXECUTABLE=$(cat "$prefix/.system-pkg-config")")
  elif [ -x "$pkg_config_wrapper" ]; then
    cmake_dep_args+=("-DPKG_CONFIG_EXECUTABLE=$pkg_config_wrapper")
  fi
}

debs=("$repo"/.debs/*.deb)
deb_stamp=$( ((${#debs[@]})) && ls -l "${debs[@]}" | awk '{ print $5, $NF }' | md5sum | cut -c1-32)
export repo prefix multiarch pkg_config_wrapper deb_stamp
export -f unpack_debs

stage_deps() {
  if [ ${#debs[@]} -eq 0 ]; then
    record deps ".debs/" SKIPPED - "no .debs/: the system's packages are used" benign
    return 0
  fi
  if [ -f "$prefix/.stamp" ] && [ "$(cat "$prefix/.stamp")" = "$deb_stamp" ]; then
    record deps "unpack ${#debs[@]} packages" ok 0 "already in $prefix"
  else
    out_of_time deps unpack && return 1
    step_lim=$(cap "$stage_limit")
    run_step deps "unpack ${#debs[@]} packages" "$step_lim" "$logs/deps_unpack.txt" bash -c unpack_debs
    if [ "$step_timed_out" = 1 ]; then timeout_row deps "unpack ${#debs[@]} packages"; return 1; fi
    if [ "$step_rc" -ne 0 ]; then
      record deps "unpack ${#debs[@]} packages" FAILED "$step_secs" "$(tail -n 1 "$logs/deps_unpack.txt")"
      return 1
    fi
    record deps "unpack ${#debs[@]} packages" ok "$step_secs" "into $prefix"
  fi
  rm -f "$prefix/.system-pkg-config"
  use_prefix
  # The unpacked pkg-config must run here (C library new enough) and find the .pc files.
  out_of_time deps pkg-config && return 1
  step_lim=$(cap 15)
  run_step deps "pkg-config from the prefix" "$step_lim" "$logs/deps_pkgconfig.txt" \
    sh -c '"$1" --version && "$1" --modversion openblas libzstd sentencepiece && "$1" --cflags --libs openblas' sh "$pkg_config_wrapper"
  if [ "$step_rc" -eq 0 ]; then
    record deps "pkg-config from the prefix" ok "$step_secs" \
      "pkgconf $(head -n 1 "$logs/deps_pkgconfig.txt"); openblas, libzstd, sentencepiece found in $prefix"
    return 0
  fi
  local system_pc="" candidate
  for candidate in /usr/bin/pkg-config /usr/local/bin/pkg-config /bin/pkg-config; do
    [ -x "$candidate" ] && { system_pc=$candidate; break; }
  done
  if [ -n "$system_pc" ] && "$system_pc" --modversion openblas libzstd sentencepiece > /dev/null 2>&1; then
    echo "$system_pc" > "$prefix/.system-pkg-config"
    use_prefix
    record deps "pkg-config from the prefix" ok "$step_secs" \
      "the prefix's pkgconf does not run here ($(tail -n 1 "$logs/deps_pkgconfig.txt" | cut -c1-80)); using $system_pc on the prefix's .pc files"
    return 0
  fi
  record deps "pkg-config from the prefix" FAILED "$step_secs" "$(tail -n 1 "$logs/deps_pkgconfig.txt" | cut -c1-160)"
  return 1
}

# --- build ------------------------------------------------------------------------------
cuda_suites() {  # the built cuda_* suites, the cheap important ones first
  local first=(scan ops matmul autograd mixed_precision generation) s exe
  local seen=" "
  for s in "${first[@]}"; do
    exe="$build/tests/cuda_${s}_tests"
    [ -x "$exe" ] && { echo "$exe"; seen+="$exe "; }
  done
  for exe in "$build"/tests/cuda_*_tests; do
    [ -x "$exe" ] && [[ $seen != *" $exe "* ]] && echo "$exe"
  done
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
  record build prebuilt ok 0 "$(ls "$build"/tests/cuda_*_tests "$build"/apps/* | wc -l) programs from $archive (commit $made_from); CUDA libraries from ${cudalib:-the system}"
}

stage_build() {
  if [ -n "${GPU_CHECK_PREBUILT:-}" ]; then
    use_prebuilt "$GPU_CHECK_PREBUILT" && return 0
  fi
  if [ -f "$build/CMakeCache.txt" ] && ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$build/CMakeCache.txt"; then
    log_note "build: $build was configured with another generator; starting afresh"
    rm -rf "$build"
  fi
  out_of_time build configure && return 1
  step_lim=$(cap "$stage_limit")
  run_step build configure "$step_lim" "$logs/build_configure.txt" \
    cmake -G Ninja -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBIRDIE_CUDA=ON \
      "-DCMAKE_CUDA_ARCHITECTURES=$arch" "${cmake_dep_args[@]}"
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
    echo "build files in $build (reconfigured)")"

  local targets
  mapfile -t targets < <(ninja -C "$build" -t targets all 2> /dev/null | sed -n -E 's/^(cuda_[A-Za-z0-9_]+_tests):.*/\1/p' | sort -u)
  targets+=(bench step_bench init_bench pretrain checkpoint_parity experiment phonebook_eval generate "${peer_targets[@]}")
  mapfile -t targets < <(printf '%s\n' "${targets[@]}" | sort -u)
  out_of_time build "ninja" && return 1
  step_lim=$(cap "$stage_limit")
  local cpu0 cpu1 t
  # The programs are linked afresh each time (seconds), so one that fails to build cannot
  # leave an older binary, from an earlier run, for the later stages to test.
  for t in "${targets[@]}"; do rm -f "$build/tests/$t" "$build/apps/$t"; done
  children_cpu
  cpu0=$cpu_seconds
  # -k 0: one target that does not compile leaves the others built, and checked.
  run_step build "ninja ${#targets[@]} targets -j$jobs" "$step_lim" "$logs/build_ninja.txt" \
    cmake --build "$build" -j "$jobs" --target "${targets[@]}" -- -k 0
  children_cpu
  cpu1=$cpu_seconds
  local name="ninja ${#targets[@]} targets -j$jobs"
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

# --- GPU visibility ---------------------------------------------------------------------
gpu_listed=0
if command -v nvidia-smi > /dev/null && nvidia-smi -L 2> /dev/null | grep -q '^GPU '; then
  gpu_listed=1
  gpu_name=$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2> /dev/null | head -n 1)
fi
gpu_state=""  # yes / no, from the suites' own device query, once
gpu_visible() {
  if [ -z "$gpu_state" ]; then
    local probe="$build/tests/cuda_scan_tests"
    if [ -x "$probe" ]; then
      timeout 60 "$probe" --test-case=no-such-test-case > /dev/null 2>&1 < /dev/null
      if [ $? -eq 77 ]; then gpu_state=no; else gpu_state=yes; fi
    elif [ "$gpu_listed" = 1 ]; then
      gpu_state=yes
    else
      gpu_state=no
    fi
  fi
  [ "$gpu_state" = yes ]
}
no_gpu_row() {  # no_gpu_row STAGE STEP: skipped for want of a GPU (a failure where nvidia-smi lists one)
  if [ "$gpu_listed" = 1 ]; then
    record "$1" "$2" FAILED - "nvidia-smi lists a GPU ($gpu_name) but the CUDA runtime of this build sees none"
  else
    record "$1" "$2" SKIPPED - "no GPU visible"
    no_gpu_skips=$((no_gpu_skips + 1))
  fi
}
built() {  # built STAGE FILE...: the files exist, or a SKIPPED row
  local f
  for f in "${@:2}"; do
    if [ ! -x "$f" ]; then
      record "$1" "-" SKIPPED - "not built: $f (the build stage failed or did not run)"
      return 1
    fi
  done
}

# --- parity -----------------------------------------------------------------------------
doctest_counts() {  # "23/23 test cases passed, 0 failed" from a doctest output, else its last line
  local counts
  counts=$(grep -E '^\[doctest\] test cases:' "$1" | tail -n 1 | sed -E 's/\[doctest\] test cases: *([0-9]+) \| *([0-9]+) passed \| *([0-9]+) failed.*/\2\/\1 test cases passed, \3 failed/')
  if [ -n "$counts" ]; then echo "$counts"; else tail -n 1 "$1" | cut -c1-160; fi
}

stage_parity() {
  local suites exe name file
  mapfile -t suites < <(cuda_suites)
  if [ ${#suites[@]} -eq 0 ]; then
    record parity "-" SKIPPED - "no cuda_* suite built (the build stage failed or did not run)"
    return 1
  fi
  : > "$parity_file"
  for exe in "${suites[@]}"; do
    name=$(basename "$exe")
    out_of_time parity "$name" && continue
    step_lim=$(cap "$parity_suite_cap")
    file="$logs/parity_$name.txt"
    run_step parity "$name" "$step_lim" "$file" "$exe" --duration=true
    { echo "=== $name: exit status $step_rc after $step_secs s"; clip "$file" 200 40; echo; } >> "$parity_file"
    if [ "$step_timed_out" = 1 ]; then
      timeout_row parity "$name"
    elif [ "$step_rc" -eq 77 ]; then
      gpu_state=no
      no_gpu_row parity "$name"
    elif [ "$step_rc" -eq 0 ]; then
      gpu_state=yes
      record parity "$name" ok "$step_secs" "$(doctest_counts "$file")"
    else
      record parity "$name" FAILED "$step_secs" "exit $step_rc; $(doctest_counts "$file")"
    fi
  done
}

# --- compute-sanitizer ------------------------------------------------------------------
find_sanitizer() {
  local s
  s=$(command -v compute-sanitizer || true)
  if [ -z "$s" ]; then
    for s in "$(dirname "$(command -v nvcc 2> /dev/null || echo /usr/local/cuda/bin/nvcc)")/compute-sanitizer" \
             /usr/local/cuda/bin/compute-sanitizer /usr/local/cuda/compute-sanitizer/compute-sanitizer; do
      [ -x "$s" ] && break
      s=""
    done
  fi
  echo "$s"
}

stage_sanitizer() {  # stage_sanitizer TOOL SUITE_CAP [SUITE-NAME...]  (no names: every suite)
  local tool=$1 suite_cap=$2 suites exe name file sanitizer summary_line
  shift 2
  if [ $# -eq 0 ]; then
    mapfile -t suites < <(cuda_suites)
  else
    suites=()
    for name in "$@"; do suites+=("$build/tests/cuda_${name}_tests"); done
  fi
  built "$tool" "${suites[@]}" || return 1
  [ ${#suites[@]} -gt 0 ] || { record "$tool" "-" SKIPPED - "no cuda_* suite built"; return 1; }
  if ! gpu_visible; then
    if [ $# -eq 0 ]; then no_gpu_row "$tool" "all ${#suites[@]} cuda_* suites"; else no_gpu_row "$tool" "$*"; fi
    return 0
  fi
  sanitizer=$(find_sanitizer)
  if [ -z "$sanitizer" ]; then
    record "$tool" "-" FAILED - "compute-sanitizer not found (PATH, next to nvcc, /usr/local/cuda)"
    return 1
  fi
  for exe in "${suites[@]}"; do
    name=$(basename "$exe")
    out_of_time "$tool" "$name" && continue
    step_lim=$(cap "$suite_cap")
    file="$logs/${tool}_$name.txt"
    local exclude='*[large]*'
    # racecheck watches shared memory only; these two cases run shared-memory-free kernels
    # over 17.8M elements, and racecheck alone took over 25 s on them (H200, 2026-11-26).
    [ "$tool" = racecheck ] && exclude+=',*grid-stride loops going round twice*,*AdamW past the grid cap*'
    # Exit 99: the sanitizer found errors; another non-zero status: a test failed under it.
    run_step "$tool" "$name" "$step_lim" "$file" "$sanitizer" --tool "$tool" --error-exitcode 99 \
      --print-limit 20 "$exe" "--test-case-exclude=$exclude"
    summary_line=$(grep -E '(ERROR|RACECHECK) SUMMARY' "$file" | tail -n 1 | sed -E 's/^=+ *//')
    {
      echo "=== $tool $name: exit status $step_rc after $step_secs s"
      if [ "$step_rc" -eq 0 ]; then  # passed: the sanitizer's own lines and doctest's totals
        grep -E '^=========|^\[doctest\]' "$file" > "$file.short"
        clip "$file.short" 30 10
      else
        clip "$file" 120 30
      fi
      echo
    } >> "$sanitizer_file"
    if [ "$step_timed_out" = 1 ]; then
      timeout_row "$tool" "$name"
    elif [ "$step_rc" -eq 0 ]; then
      record "$tool" "$name" ok "$step_secs" "$summary_line"
    elif [ "$step_rc" -eq 99 ]; then
      record "$tool" "$name" FAILED "$step_secs" "${summary_line:-sanitizer errors}"
    else
      record "$tool" "$name" FAILED "$step_secs" \
        "exit $step_rc under the sanitizer (a test failed or the suite did not run): $(grep -v '^=========' "$file" > "$file.app"; doctest_counts "$file.app")"
    fi
  done
}

# --- benchmarks -------------------------------------------------------------------------
line_buffered() {  # stdout line by line, so a program killed at its limit keeps its output
  if command -v stdbuf > /dev/null; then echo stdbuf -oL -eL; fi
}

stage_bench() {
  built bench "$build/apps/bench" || return 1
  out_of_time bench "apps/bench" && return 1
  step_lim=$(cap "$stage_limit")
  run_step bench "apps/bench" "$step_lim" "$bench_file" $(line_buffered) "$build/apps/bench"
  if [ "$step_timed_out" = 1 ]; then
    timeout_row bench "apps/bench"
  elif [ "$step_rc" -ne 0 ]; then
    record bench "apps/bench" FAILED "$step_secs" "exit $step_rc: $(tail -n 1 "$bench_file" | cut -c1-160)"
  elif grep -q '^SKIPPED' "$bench_file"; then
    no_gpu_row bench "apps/bench"
  else
    record bench "apps/bench" ok "$step_secs" "$(grep -m 1 '^ceilings' "$bench_file" | cut -c1-160)"
  fi
}

stage_step_bench() {
  built step_bench "$build/apps/step_bench" || return 1
  : > "$steps_file"
  if ! gpu_visible; then
    echo "step_bench: not run, no GPU visible" > "$steps_file"
    no_gpu_row step_bench "small, base, paper"
    return 0
  fi
  local run model nrows seq name file figures
  # The paper model's initialization on the GPU: time, and the CPU's weights bit for bit.
  if [ -x "$build/apps/init_bench" ] && ! out_of_time step_bench "init paper"; then
    file="$logs/init_bench_paper.txt"
    run_step step_bench "init paper (cuda)" "$(cap "$step_bench_run_cap")" "$file" "$build/apps/init_bench" \
      "$repo/configs/model/paper.toml" --device cuda --seed 1234 --expect 0xbd54c068eaf0f725
    { echo "=== init paper (cuda): exit status $step_rc after $step_secs s"; clip "$file" 20 10; echo; } >> "$steps_file"
    if [ "$step_timed_out" = 1 ]; then timeout_row step_bench "init paper (cuda)"
    elif [ "$step_rc" -ne 0 ]; then
      record step_bench "init paper (cuda)" FAILED "$step_secs" "exit $step_rc: $(tail -n 1 "$file" | cut -c1-160)"
    else record step_bench "init paper (cuda)" ok "$step_secs" "$(tail -n 1 "$file" | cut -c1-160)"
    fi
  fi
  for run in "small 8 2048" "base 8 2048" "paper 4 2048"; do
    read -r model nrows seq <<< "$run"
    name="$model ${nrows}x$seq bf16"
    out_of_time step_bench "$name" && continue
    step_lim=$(cap "$step_bench_run_cap")
    file="$logs/step_bench_$model.txt"
    local generation=(--host-times)  # where the host spends the step (it issued ~90% of it)
    [ "$model" = base ] && generation=(--generate 256)  # batch-1 decoding tokens/s, base only
    [ "$model" = paper ] && generation+=(--evaluation)  # Birdie's own cost at the paper schedule
    run_step step_bench "$name" "$step_lim" "$file" $(line_buffered) "$build/apps/step_bench" \
      --model "$repo/configs/model/$model.toml" --rows "$nrows" --seq "$seq" --device cuda \
      --precision bf16 --warmup 1 --steps 3 "${generation[@]}"
    { echo "=== $name: exit status $step_rc after $step_secs s"; clip "$file" 70 20; echo; } >> "$steps_file"
    figures=$(grep -oE 'median [0-9.]+ ms|[0-9]+ tokens/s|MFU [0-9.]+%|memory in use: [0-9.]+ GiB|decoded at [0-9]+ tokens/s|[0-9.]+% of training wall time' "$file" | paste -sd ',' | sed 's/,/, /g')
    if [ "$step_timed_out" = 1 ]; then
      timeout_row step_bench "$name"
    elif [ "$step_rc" -ne 0 ]; then
      record step_bench "$name" FAILED "$step_secs" "exit $step_rc: $(tail -n 1 "$file" | cut -c1-160)"
    else
      record step_bench "$name" ok "$step_secs" "$figures"
    fi
  done
}

stage_peers() {
  if [ ! -f "$repo/bench/peers/run.sh" ]; then
    record peers "bench/peers/run.sh" SKIPPED - "skipped: bench/peers/run.sh not present" benign
    return 0
  fi
  if ! gpu_visible; then no_gpu_row peers "bench/peers/run.sh"; return 0; fi
  rm -f "$peers_file"
  # The scan comparison reads the bench stage's full-size figures when it has them.
  local saved_bench=() part variants extra file
  grep -q '^scan forward' "$bench_file" 2> /dev/null && saved_bench=(--bench-output "$bench_file")
  # Two runs, so that torch.compile's compilation time cannot cost the other peers their
  # rows: the eager and kernel peers with the scan comparison, then compile (step only).
  local part_cap
  for part in "main eager,fla,ascan 150" "compile compile 240"; do
    read -r part variants part_cap <<< "$part"
    extra=("${saved_bench[@]}")
    [ "$part" = compile ] && extra=(--no-scan)
    out_of_time peers "peers $variants" && continue
    step_lim=$(cap "$part_cap")
    file="$logs/peers_$part.txt"
    run_step peers "peers $variants" "$step_lim" "$logs/peers_${part}_stdout.txt" \
      env PYTHONUNBUFFERED=1 bash "$repo/bench/peers/run.sh" "$file" "$build" --device cuda --quick \
        --variants "$variants" "${extra[@]}" ${GPU_CHECK_PEERS_ARGS:-}
    [ -f "$file" ] && { cat "$file"; echo; } >> "$peers_file"
    if [ "$step_timed_out" = 1 ]; then
      timeout_row peers "peers $variants"
    elif [ "$step_rc" -ne 0 ]; then
      record peers "peers $variants" FAILED "$step_secs" "exit $step_rc: $(tail -n 1 "$logs/peers_${part}_stdout.txt" | cut -c1-160)"
    elif [ ! -s "$file" ]; then
      record peers "peers $variants" FAILED "$step_secs" "exit 0 but it wrote no $file"
    else
      record peers "peers $variants" ok "$step_secs" "$(grep -cE '^(small|base|paper) ' "$file") step rows, $(grep -cE '^[0-9]+x[0-9]+x[0-9]+ ' "$file") scan rows"
    fi
  done
}

# --- profile (Nsight Compute) -------------------------------------------------------------
find_ncu() {
  local s
  s=$(command -v ncu || true)
  for s in $s /usr/local/cuda/bin/ncu /opt/nvidia/nsight-compute/*/ncu; do
    [ -x "$s" ] && { echo "$s"; return; }
  done
}

# What limits the figures furthest from DESIGN.md's targets: the scan kernels (one launch
# of each, bandwidth, occupancy and warp stalls) and the paper model's step (every kernel
# of one step timed, grouped by family, against the step's unprofiled wall time). ncu with
# --clock-control none: the card's clocks are left as they are.
stage_profile() {
  built profile "$build/apps/bench" "$build/apps/step_bench" || return 1
  if ! gpu_visible; then no_gpu_row profile "ncu"; return 0; fi
  local ncu file step_ms
  ncu=$(find_ncu)
  if [ -z "$ncu" ]; then record profile "-" FAILED - "ncu not found (PATH, /usr/local/cuda/bin, /opt/nvidia/nsight-compute)"; return 1; fi
  : > "$profile_file"
  if ! out_of_time profile "scan kernels"; then
    file="$logs/profile_scan.txt"
    # The second launch of each scan kernel (function-name invocation count): the first
    # shape of apps/bench, 8x2048x2560, causal.
    run_step profile "scan kernels" "$(cap 90)" "$file" "$ncu" --clock-control none --kernel-id '::regex:^scan_:2' \
      --section SpeedOfLight --section MemoryWorkloadAnalysis --section Occupancy --section LaunchStats \
      --section WarpStateStats "$build/apps/bench" --repeats 1
    grep -vE '^(scan|gemm|rmsnorm|cross-entropy|adamw|embedding) ' "$file" > "$file.short"  # bench's own rows
    { echo "=== ncu on apps/bench's scan kernels: exit status $step_rc after $step_secs s"; clip "$file.short" 700 20; echo; } >> "$profile_file"
    if [ "$step_timed_out" = 1 ]; then timeout_row profile "scan kernels"
    elif [ "$step_rc" -ne 0 ]; then record profile "scan kernels" FAILED "$step_secs" "exit $step_rc: $(tail -n 1 "$file" | cut -c1-160)"
    else record profile "scan kernels" ok "$step_secs" "$(grep -c 'Context [0-9]*, Stream' "$file") kernel reports"
    fi
  fi
  out_of_time profile "paper step" && return 1
  file="$logs/profile_step_bench.txt"
  run_step profile "paper step (no profiler)" "$(cap 40)" "$file" "$build/apps/step_bench" \
    --model "$repo/configs/model/paper.toml" --rows 4 --seq 2048 --device cuda --precision bf16 --warmup 1 --steps 3
  step_ms=$(grep -oE 'median [0-9.]+ ms' "$file" | grep -oE '[0-9.]+' | head -n 1)
  # The NVTX filter keeps the kernels of the step alone; should it match nothing, the whole
  # program (the model's initialization besides the step) is profiled instead.
  local filter=(--nvtx --nvtx-include 'step_bench.step/') attempt
  for attempt in filtered whole; do
    [ "$attempt" = whole ] && filter=()
    out_of_time profile "paper step" && return 1
    rm -f "$logs/profile_step.csv"
    run_step profile "paper step" "$(cap 120)" "$logs/profile_step_stdout.txt" "$ncu" --clock-control none \
      --cache-control none "${filter[@]}" --metrics gpu__time_duration.sum --csv --print-units base \
      --log-file "$logs/profile_step.csv" "$build/apps/step_bench" --model "$repo/configs/model/paper.toml" \
      --rows 4 --seq 2048 --device cuda --precision bf16 --warmup 0 --steps 1
    {
      echo "=== ncu on one step of paper 4x2048 bf16 ($attempt): exit status $step_rc after $step_secs s" \
           "(unprofiled median ${step_ms:-?} ms)"
      python3 "$repo/scripts/ncu_kernel_times.py" "$logs/profile_step.csv" ${step_ms:+--step-ms "$step_ms"} --top 25 2>&1
    } >> "$profile_file"
    grep -q 'kernel time' "$profile_file" && break
  done
  if [ "$step_timed_out" = 1 ]; then timeout_row profile "paper step"
  elif [ "$step_rc" -ne 0 ]; then record profile "paper step" FAILED "$step_secs" "exit $step_rc: $(tail -n 1 "$logs/profile_step_stdout.txt" | cut -c1-160)"
  else record profile "paper step" ok "$step_secs" "$(grep -m 1 'kernel time' "$profile_file" | cut -c1-160)"
  fi
}

# GPU_CHECK_PRETRAIN_SECONDS makes pretrain write its checkpoint and exit 130, as an
# interrupted run does; then apps/checkpoint_parity loads that checkpoint on the CPU.
pretrain_seconds=${GPU_CHECK_PRETRAIN_SECONDS:-130}
pretrain_data=${GPU_CHECK_PRETRAIN_DATA:-$repo/data_out/fortunes}
pretrain_run="$logs/pretrain-run"
pretrain_stdout="$logs/pretrain_stdout.txt"
pretrain_pid=""
pretrain_t0=0
pretrain_secs=0

stage_pretrain() {
  built pretrain "$build/apps/pretrain" "$build/apps/checkpoint_parity" || return 1
  if [ ! -f "$pretrain_data/manifest.json" ]; then
    record pretrain "-" SKIPPED - "no prepared data in $pretrain_data: prepare_data --corpus fortunes --out data_out/fortunes here, and carry data_out/fortunes"
    return 1
  fi
  if ! gpu_visible; then no_gpu_row pretrain "small, Birdie mixture"; return 0; fi
  local vocab budget_left
  vocab=$(grep -oE '"vocab_size": *[0-9]+' "$pretrain_data/manifest.json" | grep -oE '[0-9]+$')
  # Leave the checkpoint check its minute inside the run's budget.
  budget_left=$((budget_end - SECONDS - 60))
  pretrain_secs=$((pretrain_seconds < budget_left ? pretrain_seconds : budget_left))
  if [ "$pretrain_secs" -lt 30 ]; then
    record pretrain "-" TIMEOUT - "not started: $budget_left s of the run's budget left, under the 30 s a run needs"
    return 1
  fi
  rm -rf "$pretrain_run"
  local args=(--config "$repo/configs/small-gpu.toml" --set "data.path=$pretrain_data" --set "model.vocab=$vocab"
              --set "run.output=$pretrain_run" --set schedule.steps=3000 --set schedule.log_every=25
              --set schedule.checkpoint_every=100000 --set optimizer.warmup_steps=100 --set batch.workers=6)
  log_note ""
  log_note "=== [pretrain] in the background for $pretrain_secs s ($(date -u +%T)): pretrain ${args[*]}"
  # --foreground: the SIGINT goes to pretrain alone, once (a second one means "exit at once").
  timeout --foreground --preserve-status -s INT -k 30 "$pretrain_secs" $(line_buffered) "$build/apps/pretrain" "${args[@]}" \
    < /dev/null > "$pretrain_stdout" 2>&1 &
  pretrain_pid=$!
  pretrain_t0=$SECONDS
  record pretrain "start ($pretrain_secs s, background)" ok 0 "configs/small-gpu.toml, Birdie mixture, $(basename "$pretrain_data") (vocab $vocab), beside the sanitizers"
}

pretrain_finish() {
  [ -n "$pretrain_pid" ] || return 0
  current_stage=pretrain current_step="train" current_pid=$pretrain_pid current_t0=$pretrain_t0
  current_limit=$pretrain_secs
  wait "$pretrain_pid"
  local rc=$? secs=$((SECONDS - pretrain_t0)) first last evaluations checkpoint verdict=ok
  current_pid="" pretrain_pid=""
  tail -n "$log_tail_ok" "$pretrain_stdout" | cut -c1-400 >> "$log"
  log_note "(exit status $rc after $secs s)"
  first=$(grep -m 1 -oE '^step [0-9]+/[0-9]+  loss [0-9.]+' "$pretrain_stdout")
  last=$(grep -oE '^step [0-9]+/[0-9]+  loss [0-9.]+' "$pretrain_stdout" | tail -n 1)
  evaluations=$(grep -c '^evaluation @' "$pretrain_stdout")
  checkpoint=$(ls -d "$pretrain_run"/checkpoints/step_[0-9]* 2> /dev/null | grep -v partial | tail -n 1)
  local detail="exit $rc; ${first:-no step logged} -> ${last:-none}; $evaluations evaluations; checkpoint ${checkpoint:+$(basename "$checkpoint")}"
  # 130: stopped by its SIGINT at the planned time (the checkpoint then written); 0: finished.
  if [ "$rc" -ne 130 ] && [ "$rc" -ne 0 ]; then verdict=FAILED
  elif [ -z "$checkpoint" ] || [ "$evaluations" -lt 1 ] || [ -z "$first" ] ||
       ! awk -v a="${first##* }" -v b="${last##* }" 'BEGIN { exit !(b < a) }'; then
    verdict=FAILED detail="$detail (wanted: a falling loss, an evaluation and a checkpoint)"
  fi
  record pretrain "train $secs s" "$verdict" "$secs" "$detail"
  { echo "=== pretrain: exit status $rc after $secs s"; clip "$pretrain_stdout" 40 60; echo; } > "$pretrain_file"
  [ -n "$checkpoint" ] || return 1
  step_lim=60
  [ $((budget_end - SECONDS)) -lt "$step_lim" ] && step_lim=$((budget_end - SECONDS))
  if [ "$step_lim" -lt 5 ]; then
    record pretrain "checkpoint on the CPU" TIMEOUT - "not started: the run's budget of $budget s was spent"
    return 1
  fi
  stage_limit=$step_lim
  run_step pretrain "checkpoint on the CPU" "$step_lim" "$logs/checkpoint_parity.txt" \
    "$build/apps/checkpoint_parity" "$checkpoint"
  { echo "=== checkpoint_parity: exit status $step_rc after $step_secs s"; cat "$logs/checkpoint_parity.txt"; } >> "$pretrain_file"
  if [ "$step_timed_out" = 1 ]; then timeout_row pretrain "checkpoint on the CPU"
  elif [ "$step_rc" -ne 0 ]; then
    record pretrain "checkpoint on the CPU" FAILED "$step_secs" "exit $step_rc: $(tail -n 1 "$logs/checkpoint_parity.txt" | cut -c1-160)"
  else
    record pretrain "checkpoint on the CPU" ok "$step_secs" "$(grep -m 1 'cpu fp32' "$logs/checkpoint_parity.txt" | sed 's/^ *//' | cut -c1-160)"
  fi
}

# The NCCL path of data-parallel training on the one GPU there is: the same run with its
# collectives through a one-rank NCCL communicator (BIRDIE_NCCL=1) must match the plain one,
# in one bucket after the backward pass and in a bucket per block during it (on NCCL's own
# stream).
stage_nccl() {
  built nccl "$build/apps/pretrain" || return 1
  if [ ! -f "$pretrain_data/manifest.json" ]; then
    record nccl "-" SKIPPED - "no prepared data in $pretrain_data (prepare_data --corpus fortunes here, and carry it)"
    return 1
  fi
  if ! gpu_visible; then no_gpu_row nccl "BIRDIE_NCCL=1 against plain"; return 0; fi
  local vocab variant args t0=$SECONDS
  vocab=$(grep -oE '"vocab_size": *[0-9]+' "$pretrain_data/manifest.json" | grep -oE '[0-9]+$')
  for variant in plain nccl buckets; do
    rm -rf "$logs/nccl-$variant"
    args=(--config "$repo/configs/tiny-cpu.toml" --set 'run.device="cuda"' --set "data.path=\"$pretrain_data\""
          --set "model.vocab=$vocab" --set "run.output=\"$logs/nccl-$variant\"" --set 'objectives.mixture="ntp"'
          --set schedule.steps=10 --set schedule.log_every=1)
    [ $variant = buckets ] && args+=(--set optimizer.bucket_mib=0.01)
    run_step nccl "$variant" "$(cap 30)" "$logs/nccl_$variant.txt" env BIRDIE_NCCL=$([ $variant = plain ] && echo 0 || echo 1) \
      "$build/apps/pretrain" "${args[@]}"
    if [ "$step_rc" -ne 0 ]; then
      record nccl "$variant" FAILED "$step_secs" "exit $step_rc: $(tail -n 1 "$logs/nccl_$variant.txt" | cut -c1-160)"
      return 1
    fi
  done
  for variant in nccl buckets; do
    if cmp -s <(grep -oE '"(loss|grad_norm)":[^,]+' "$logs/nccl-plain/metrics.jsonl") \
              <(grep -oE '"(loss|grad_norm)":[^,]+' "$logs/nccl-$variant/metrics.jsonl"); then
      record nccl "BIRDIE_NCCL=1 ($variant) against plain" ok $((SECONDS - t0)) "10 steps, the same losses and gradient norms, bit for bit"
    else
      record nccl "BIRDIE_NCCL=1 ($variant) against plain" FAILED $((SECONDS - t0)) "the logged losses or gradient norms differ"
    fi
  done
}

# The other two architectures on the GPU: speed beside the Gated SSM, a short pretrain whose
# loss must fall, and generation from its checkpoint.
stage_architectures() {
  built architectures "$build/apps/pretrain" "$build/apps/step_bench" "$build/apps/generate" || return 1
  if [ ! -f "$pretrain_data/manifest.json" ]; then
    record architectures "-" SKIPPED - "no prepared data in $pretrain_data (prepare_data --corpus fortunes here, and carry it)"
    return 1
  fi
  if ! gpu_visible; then no_gpu_row architectures "hawk and transformer"; return 0; fi
  local vocab arch run config first last
  vocab=$(grep -oE '"vocab_size": *[0-9]+' "$pretrain_data/manifest.json" | grep -oE '[0-9]+$')
  for arch in hawk transformer; do
    out_of_time architectures "$arch" && return 1
    run_step architectures "$arch step_bench" "$(cap 35)" "$logs/architectures_${arch}_bench.txt" \
      "$build/apps/step_bench" --model "$repo/configs/model/$arch-small.toml" --device cuda --precision bf16 \
      --rows 8 --seq 2048 --steps 3 --warmup 1
    record architectures "$arch step_bench" "$([ "$step_rc" -eq 0 ] && echo ok || echo FAILED)" "$step_secs" \
      "$(grep -m 1 -E 'step: median' "$logs/architectures_${arch}_bench.txt" | cut -c1-160)"
    # configs/small-gpu.toml with this architecture's [model] table.
    config="$logs/architectures_$arch.toml"
    python3 - "$repo/configs/small-gpu.toml" "$repo/configs/model/$arch-small.toml" "$config" <<'PY'
import re, sys
run, model, out = (open(p).read() if i < 2 else p for i, p in enumerate(sys.argv[1:]))
table = re.search(r"^\[model\]\n.*?(?=^\[|\Z)", model, re.S | re.M).group(0)
open(out, "w").write(re.sub(r"^\[model\]\n.*?(?=^\[)", table.rstrip("\n") + "\n\n", run, count=1, flags=re.S | re.M))
PY
    run="$logs/architectures-$arch"
    rm -rf "$run"
    out_of_time architectures "$arch pretrain" && return 1
    run_step architectures "$arch pretrain" "$(cap 60)" "$logs/architectures_${arch}_pretrain.txt" \
      "$build/apps/pretrain" --config "$config" --set "data.path=\"$pretrain_data\"" --set "model.vocab=$vocab" \
      --set "run.output=\"$run\"" --set 'objectives.mixture="ntp"' --set schedule.steps=40 --set schedule.log_every=10 \
      --set optimizer.warmup_steps=5
    first=$(grep -m 1 -oE '^step [0-9]+/[0-9]+  loss [0-9.]+' "$logs/architectures_${arch}_pretrain.txt")
    last=$(grep -oE '^step [0-9]+/[0-9]+  loss [0-9.]+' "$logs/architectures_${arch}_pretrain.txt" | tail -n 1)
    if [ "$step_rc" -ne 0 ] || [ -z "$last" ] || \
       ! awk -v a="${first##* }" -v b="${last##* }" 'BEGIN { exit !(b < a) }'; then
      record architectures "$arch pretrain" FAILED "$step_secs" "exit $step_rc; ${first:-no step} -> ${last:-none}"
      continue
    fi
    record architectures "$arch pretrain" ok "$step_secs" "$first -> $last"
    run_step architectures "$arch generate" "$(cap 30)" "$logs/architectures_${arch}_generate.txt" \
      "$build/apps/generate" --checkpoint "$run" --prompt "The" --max-tokens 32 --device cuda
    record architectures "$arch generate" "$([ "$step_rc" -eq 0 ] && echo ok || echo FAILED)" "$step_secs" \
      "$(head -n 1 "$logs/architectures_${arch}_generate.txt" | cut -c1-160)"
  done
}

# The Birdie comparison (apps/experiment) with every arm as its own process at once: a
# small model leaves the GPU idle during each arm's evaluations, critic and fine-tuning,
# so two arms side by side take little longer than one. Arms are independent run folders
# and batches do not depend on timing, so this changes no figure but the wall times. The
# report then reads every arm. Interrupted at the limit, the arms stop cleanly (SIGINT:
# pretrain writes its checkpoint) and the same stage resumes them on the same machine.
experiment_config=${GPU_CHECK_EXPERIMENT_CONFIG:-configs/experiments/small-gpu.toml}
stage_experiment() {
  built experiment "$build/apps/experiment" "$build/apps/pretrain" "$build/apps/phonebook_eval" || return 1
  local config="$repo/$experiment_config" run_config data arms arm pids=() rc failed=() t0=$SECONDS
  [ -f "$config" ] || config=$experiment_config
  run_config=$(sed -n -E 's/^run *= *"([^"]+)".*/\1/p' "$config")
  data=$(sed -n -E 's/^path *= *"([^"]+)".*/\1/p' "$repo/$run_config")
  if [ ! -f "$repo/$data/manifest.json" ]; then
    record experiment "-" SKIPPED - "no prepared data in $data (prepare it here with prepare_data and carry it)"
    return 1
  fi
  if ! gpu_visible; then no_gpu_row experiment "$experiment_config"; return 0; fi
  read -r -a arms <<< "$(sed -n -E 's/^arms *= *\[(.*)\].*/\1/p' "$config" | tr -d '",')"
  : > "$experiment_file"
  local lim; lim=$(cap "$(limit_of experiment)")
  log_note ""
  log_note "=== [experiment] ${arms[*]} at once, limit $lim s ($(date -u +%T)): experiment --config $experiment_config"
  for arm in "${arms[@]}"; do
    (cd "$repo" && exec timeout -s INT -k 30 "$lim" $(line_buffered) "$build/apps/experiment" --config "$config" \
      --set "experiment.arms=[\"$arm\"]") < /dev/null > "$logs/experiment_$arm.txt" 2>&1 &
    pids+=($!)
  done
  for i in "${!arms[@]}"; do
    wait "${pids[$i]}"; rc=$?
    { echo "=== arm ${arms[$i]}: exit status $rc after $((SECONDS - t0)) s"; clip "$logs/experiment_${arms[$i]}.txt" 30 40; echo; } \
      >> "$experiment_file"
    [ "$rc" -eq 0 ] || failed+=("${arms[$i]} (exit $rc)")
  done
  (cd "$repo" && "$build/apps/experiment" --config "$config" --report-only) > "$logs/experiment_report.txt" 2>&1
  { echo "=== report"; cat "$logs/experiment_report.txt"; } >> "$experiment_file"
  local secs=$((SECONDS - t0))
  if [ ${#failed[@]} -gt 0 ]; then
    record experiment "${arms[*]}" FAILED "$secs" "${failed[*]}"
  else
    record experiment "${arms[*]}" ok "$secs" "digit accuracy over every book: $(awk -F'|' '/^## Phone-book/ { t = 1; next }
      /^## / { t = 0 } t && $3 ~ /[0-9]/ { gsub(/ /, "", $2); gsub(/ /, "", $3); printf "%s %s; ", $2, $3 }' \
      "$logs/experiment_report.txt")"
  fi
}

# --- the run ----------------------------------------------------------------------------
use_prefix
{
  echo
  echo "gpu_check $(date -u +%FT%TZ): stages ${run_stages[*]}; commit $commit"
  echo "machine: $(nproc) cores, $(uname -r); GPU: ${gpu_name:-none listed by nvidia-smi}"
  echo "tools: $(nvcc --version 2> /dev/null | grep -m 1 release); $(cmake --version 2> /dev/null | head -n 1); ninja $(ninja --version 2> /dev/null); compute-sanitizer: $(find_sanitizer)"
  echo "build $build (CUDA arch $arch, -j$jobs); prefix $prefix; full step outputs $logs; budget $budget s"
  [ "$gpu_listed" = 1 ] && nvidia-smi 2>&1 | head -n 20
} >> "$log"

build_failed=0
for stage in "${run_stages[@]}"; do
  stage_limit=$(limit_of "$stage")
  stage_deadline=$((SECONDS + stage_limit))
  if [ $((budget_end - SECONDS)) -lt 3 ]; then
    record "$stage" "-" TIMEOUT - "not started: the run's budget of $budget s was spent"
    continue
  fi
  if [ "$build_failed" = 1 ] && [ "$stage" != peers ]; then
    record "$stage" "-" SKIPPED - "the build could not be configured"
    continue
  fi
  case $stage in
    deps) stage_deps ;;
    build) stage_build; [ $? -ne 1 ] || build_failed=1 ;;  # 1: nothing to build with
    parity) stage_parity ;;
    memcheck) stage_sanitizer memcheck "$memcheck_suite_cap" ;;
    racecheck) stage_sanitizer racecheck "$race_init_suite_cap" scan ops ;;
    initcheck) stage_sanitizer initcheck "$race_init_suite_cap" scan ops ;;
    bench) stage_bench ;;
    step_bench) stage_step_bench ;;
    peers) stage_peers ;;
    pretrain) stage_pretrain ;;
    profile) stage_profile ;;
    nccl) stage_nccl ;;
    architectures) stage_architectures ;;
    experiment) stage_experiment ;;
  esac
done
pretrain_finish
current_stage=""
reached_end=1
exit 0  # finish (the EXIT trap) sets the status and prints the summary
