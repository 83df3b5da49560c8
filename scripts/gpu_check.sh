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
# This file holds the command line, the stage registry and the loop over the stages; the
# bookkeeping (time limits, summary rows, signals) is scripts/gpu_check/lib.sh and each
# stage's code scripts/gpu_check/stages/<name>.sh (stage_<name>). A new stage: one file
# there and one `register` line below.
#
# Stages, in this order (limit = default time limit in seconds; estimate = expected time
# on a 16-core H100 machine):
#
#   stage       limit  estimate  what
#   deps           30      5     unpack .debs/ (scripts/fetch_gpu_debs.sh) into .gpu-prefix/;
#                                check that pkg-config from there runs and finds the .pc files
#   build         180     60     configure with -G Ninja (Release, BIRDIE_CUDA=ON, sm_90) and
#                                build only the cuda_* suites and the apps the stages run
#                                (stages/build.sh lists them); ninja -k 0, so a target that
#                                fails leaves the others built, and the later stages test
#                                those ("not built" for the rest)
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
#   nccl           90     30     the data-parallel NCCL path at world size 1: pretrain (tiny,
#                                next-token, 10 steps on cuda) with and without BIRDIE_NCCL=1
#                                (one bucket, and a bucket per block during the backward pass)
#                                must log the same losses and gradient norms, bit for bit
#   architectures 150     80     Hawk and the Transformer at their "small" shape
#                                (configs/model/{hawk,transformer}-small.toml): apps/step_bench
#                                bf16 8x2048, 40 next-token steps of pretrain on
#                                data_out/fortunes (the loss must fall), then apps/generate
#                                from the checkpoint (the decoders on the GPU)
#   experiment    480    300     apps/experiment on GPU_CHECK_EXPERIMENT_CONFIG (default
#                                configs/experiments/small-gpu.toml; its prepared data carried),
#                                every arm as its own process at once, then --report-only
#   total        1880   1070     (~18 minutes expected, the pretrain run hidden behind the
#                                sanitizers: more than one 10-minute command holds, so a run
#                                names the stages it needs with --stage, in the order given.
#                                The whole run is also held to GPU_CHECK_BUDGET = 570 s, so
#                                it ends inside one command even when stages run to their
#                                limits: a later stage then gets what is left, or is
#                                recorded TIMEOUT.)
#
# The build estimate: on the 2-core development machine (2026-11-26), a fresh build folder
# with the 6 cuda_* suites, bench, step_bench and their libraries (116 build steps) took
# 275 s of CPU; over 16 cores that is 17 s, the longest compile (kernels/cuda/embedding.cu,
# ~15 s) and the links after it make the critical path ~30 s, and with configure (~10 s)
# and a 1.5x margin for another CPU about 60 s. A second run finds the build done and
# takes seconds; the build row reports the CPU time it took. The GPU stages' figures are
# guesses until the first run on a GPU: the suites and bench run for seconds, the
# sanitizers slow kernels 10-100x (hence the per-suite caps and the [large] exclusion), and
# step_bench's paper model initialises 1.4B parameters before its steps.
#
# Result files in OUTDIR (all small; full outputs stay in build-gpu-logs/, outside it):
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
#   experiment.txt  each arm's log, clipped, and the experiment's report
# A full run empties OUTDIR's result files first; a --stage run rewrites its own result
# file (any sanitizer stage: sanitizers.txt) and summary.txt, and appends to the log.
#
# Outside OUTDIR (git-ignored): the build tree build-gpu/ (GPU_CHECK_BUILD_DIR), the
# unpacked packages .gpu-prefix/ (GPU_CHECK_PREFIX), the full step outputs build-gpu-logs/
# (GPU_CHECK_LOGS). Without .debs/ the system's packages are used. The packages are Debian
# 12's: a machine with a C library older than 2.36 may refuse their binaries (the deps
# stage says so).
#
# Environment: BIRDIE_GPU_ARCH (default 90) sets CMAKE_CUDA_ARCHITECTURES; BIRDIE_GPU_JOBS
# (default: all cores) the build parallelism; GPU_CHECK_LIMIT_<STAGE> (e.g.
# GPU_CHECK_LIMIT_MEMCHECK=200) a stage's limit in seconds; GPU_CHECK_BUDGET (default 570)
# the whole run's; GPU_CHECK_PREBUILT an archive of scripts/pack_gpu_build.sh to use in
# place of the build (when its libraries resolve here); GPU_CHECK_PRETRAIN_SECONDS
# (default 130) and GPU_CHECK_PRETRAIN_DATA (default data_out/fortunes) the pretrain run's
# length and prepared data; GPU_CHECK_PEERS_ARGS more options for bench/peers/peers.py
# (e.g. --variants eager,fla,ascan).
#
# Exit status: 0 every step passed; 1 a step failed, timed out or was interrupted; 3 nothing
# failed but steps were skipped (no GPU visible, or --stage without a build); 2 bad
# arguments; 128+N when stopped by signal N. Skipping the peers stage because
# bench/peers/run.sh is absent, or deps because .debs/ is, leaves a run complete.
set -uo pipefail
shopt -s nullglob

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
here="$repo/scripts/gpu_check"
budget=${GPU_CHECK_BUDGET:-570}  # seconds for the whole run, so it ends inside one command

# --- the stages ---------------------------------------------------------------------------
# In the order a full run takes them: the name (its code is stage_NAME, in
# scripts/gpu_check/stages/), the default limit in seconds (GPU_CHECK_LIMIT_NAME overrides
# it), the result file it writes in OUTDIR ("-": none) and what it does, for --list.
stage_names=()
declare -A default_limit=() stage_result=() stage_what=()
register() { stage_names+=("$1"); default_limit[$1]=$2; stage_result[$1]=$3; stage_what[$1]=$4; }
#        name          limit  result file     what
register deps             30  -               "unpack .debs/ into the prefix; pkg-config from there"
register build           180  -               "configure (-G Ninja) and build the cuda_* suites, apps/bench, apps/step_bench"
register parity          150  parity.txt      "the cuda_* suites (GPU against the CPU references)"
register bench            45  bench.txt       "apps/bench (kernels against copy bandwidth and GEMM peak)"
register step_bench      150  step_bench.txt  "apps/init_bench paper (cuda), apps/step_bench bf16: small 8x2048, base 8x2048, paper 4x2048"
register peers           240  peers.txt       "bash bench/peers/run.sh OUTFILE BUILD_DIR --device cuda --quick: eager, fla, ascan; then compile"
register pretrain          5  pretrain.txt    "starts pretrain (small, Birdie) for GPU_CHECK_PRETRAIN_SECONDS beside the later stages; checkpoint_parity after them"
register memcheck        120  sanitizers.txt  "compute-sanitizer memcheck on every cuda_* suite, [large] left out"
register racecheck       130  sanitizers.txt  "racecheck on the scan and ops suites, [large] left out"
register initcheck        45  sanitizers.txt  "initcheck on the scan and ops suites, [large] left out"
register profile         150  profile.txt     "ncu: the scan kernels' bandwidth and stalls; the paper step's time per kernel family"
register nccl             90  -               "pretrain tiny on cuda, 10 steps, with and without BIRDIE_NCCL=1: the same losses, bit for bit"
register architectures   150  -               "Hawk and the Transformer (small) on cuda: step_bench, 40 steps of pretrain, generate from the checkpoint"
register experiment      480  experiment.txt  "apps/experiment on GPU_CHECK_EXPERIMENT_CONFIG, every arm at once (one process each), then its report"

limit_of() {
  local var="GPU_CHECK_LIMIT_${1^^}"
  echo "${!var:-${default_limit[$1]}}"
}

# --- the command line ---------------------------------------------------------------------
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
  echo "budget for the whole run: $budget s"
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

# --- where things go ----------------------------------------------------------------------
mkdir -p "$out_arg" || exit 2
out=$(cd "$out_arg" && pwd)
build=${GPU_CHECK_BUILD_DIR:-$repo/build-gpu}
prefix=${GPU_CHECK_PREFIX:-$repo/.gpu-prefix}
logs=${GPU_CHECK_LOGS:-$repo/build-gpu-logs}
arch=${BIRDIE_GPU_ARCH:-90}
jobs=${BIRDIE_GPU_JOBS:-$(nproc)}
log="$out/gpu_check.log"
summary="$out/summary.txt"
declare -A result=()  # a stage's result file in OUTDIR: ${result[NAME]}
for s in "${stage_names[@]}"; do
  [ "${stage_result[$s]}" = - ] || result[$s]="$out/${stage_result[$s]}"
done

if [ ${#only[@]} -eq 0 ]; then  # a full run starts from an empty OUTDIR and log folder
  run_stages=("${stage_names[@]}")
  rm -f "$log" "$summary" "${result[@]}"
  rm -rf "$logs"
else  # a stage run again rewrites its result file
  run_stages=("${only[@]}")
  for s in "${only[@]}"; do
    [ -z "${result[$s]:-}" ] || rm -f "${result[$s]}"
  done
fi
mkdir -p "$logs"
: > "$summary"
touch "$log"

# The bookkeeping and the stages read the settings above.
# shellcheck source=scripts/gpu_check/lib.sh
source "$here/lib.sh"
for f in "$here"/stages/*.sh; do
  # shellcheck disable=SC1090
  source "$f"
done
for s in "${stage_names[@]}"; do
  declare -F "stage_$s" > /dev/null || { echo "gpu_check: no function stage_$s in $here/stages/" >&2; exit 2; }
done

# From here on every way out (the end, a signal, an error) prints the summary.
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM
trap 'on_signal HUP' HUP
trap finish EXIT

# --- the run ------------------------------------------------------------------------------
detect_gpu
use_prefix
log_environment

build_failed=0  # set by stage_build when there is no build to run anything with
for stage in "${run_stages[@]}"; do
  stage_limit=$(limit_of "$stage")
  stage_deadline=$((SECONDS + stage_limit))
  if [ $((budget_end - SECONDS)) -lt 3 ]; then
    record "$stage" "-" TIMEOUT - "not started: the run's budget of $budget s was spent"
    continue
  fi
  if [ "$build_failed" = 1 ] && [ "$stage" != peers ]; then  # peers is tried even then
    record "$stage" "-" SKIPPED - "the build could not be configured"
    continue
  fi
  "stage_$stage"
done
pretrain_finish  # the background pretrain run, hidden behind the stages after it
current_stage=""
reached_end=1
exit 0  # finish (the EXIT trap) sets the status and prints the summary
