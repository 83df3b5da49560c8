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
# The stages, in the order of the registry below, each with its default time limit and a
# line saying what it does (`--list` prints them; each stage file's header says more):
# deps and build (the packages of .debs/, the programs), parity (every cuda_* suite), bench
# and step_bench (kernels, training steps of the three architectures), decode (batched
# decoding on the device: graph against plain launches, tokens/s against the weight-
# bandwidth bound, the PyTorch peer compiled), peers (PyTorch on the same model), attention
# (the engine's attention beside PyTorch's), pretrain (a real run in the background, its
# checkpoint on the CPU),
# memcheck, racecheck, initcheck (compute-sanitizer), profile (Nsight Compute), nccl (the
# data-parallel path on one GPU), architectures (Hawk and the Transformer: train, the
# checkpoint on the CPU, generate), evaluators (every evaluator on the GPU against the CPU),
# experiment (apps/experiment, every arm at once). All of them need about 30 minutes, more
# than one 10-minute command holds: a command names the stages it runs with --stage, in
# the order given, and the whole run is held to GPU_CHECK_BUDGET (570 s), so it ends inside
# one command even when stages run to their limits (a later stage then gets what is left,
# or a TIMEOUT row). Measured on an H200 (bench/RESULTS.md): the build ~45 s on 16 cores,
# the parity suites ~100 s at once (the scan suite's host comparisons the longest).
#
# Result files in OUTDIR (all small; full outputs stay in build-gpu-logs/, outside it):
#   summary.txt     the table printed last: one row per step (ok, FAILED, TIMEOUT with its
#                   limit, SKIPPED with the reason, INTERRUPTED), then the overall result
#   gpu_check.log   environment, then per step its command and the last 40 lines of its
#                   output (150 when it failed)
#   parity.txt      each parity suite's output (per-test-case durations), clipped
#   sanitizers.txt  each compute-sanitizer run's report, clipped
#   bench.txt       apps/bench's output
#   step_bench.txt  apps/step_bench's output for each model
#   decode.txt      cuda_generation_tests, apps/decode_bench for each model, the torch peer's table
#   evaluators.txt  the evaluators' comparison table (GPU against CPU) and their timings
#   peers.txt       the peer benchmark's OUTFILE
#   attention.txt   apps/bench --attention and bench/peers/attention_sdpa.py, one after the other
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
# (e.g. --variants eager,fla,ascan); GPU_CHECK_PARITY_JOBS and GPU_CHECK_SANITIZER_JOBS
# the suites run at once (6, 3); GPU_CHECK_<MEMCHECK|RACECHECK|INITCHECK>_SUITES the suites
# a sanitizer runs ("attention hawk_kernels"); GPU_CHECK_STEP_BENCH_MODELS the models
# step_bench times ("hawk-small transformer-paper", configs/model/<name>.toml);
# GPU_CHECK_STEP_BENCH_VARIANTS steps to time once more under a variable
# ("paper:BIRDIE_SCAN_KERNEL=one_pass_tile64 hawk-base:BIRDIE_RGLRU_KERNEL=one_pass").
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
register parity          150  parity.txt      "the cuda_* suites (GPU against the CPU references), several at once"
register bench            45  bench.txt       "apps/bench (kernels against copy bandwidth and GEMM peak)"
register step_bench      420  step_bench.txt  "apps/init_bench paper (cuda), apps/step_bench bf16: each architecture at small, base 8x2048 and paper 4x2048"
register decode          420  decode.txt      "cuda_generation_tests (graph against plain launches), apps/decode_bench bf16 batches 1,8,64 (three architectures, small and base), bench/peers/decode.py (torch.compile reduce-overhead)"
register peers           240  peers.txt       "bash bench/peers/run.sh OUTFILE BUILD_DIR --device cuda --quick: eager, fla, ascan (Gated SSM; Hawk small and base); then compile"
register attention       330  attention.txt   "apps/bench --attention and bench/peers/attention_sdpa.py: bf16 T=2048, head dims 64/128, causal/prefix, fwd and fwd+bwd TFLOP/s beside PyTorch SDPA and FlexAttention"
register pretrain          5  pretrain.txt    "starts pretrain (small, Birdie) for GPU_CHECK_PRETRAIN_SECONDS beside the later stages; checkpoint_parity after them"
register memcheck        120  sanitizers.txt  "compute-sanitizer memcheck on every cuda_* suite, [large] left out"
register racecheck       130  sanitizers.txt  "racecheck on the scan, ops, attention and hawk_kernels suites, [large] left out"
register initcheck        60  sanitizers.txt  "initcheck on the scan, ops, attention and hawk_kernels suites, [large] left out"
register profile         150  profile.txt     "ncu: the scan kernels' bandwidth and stalls; the paper step's time per kernel family"
register nccl             90  -               "pretrain tiny on cuda, 10 steps, plain and with BIRDIE_NCCL=1 (buckets, ZeRO-1): the same losses, bit for bit"
register resume           60  -               "pretrain tiny on cuda: cut at step 5 and resumed equals one job bit for bit; lr 1e30 skips steps on the device"
register architectures   150  -               "Hawk and the Transformer (small) on cuda: 40 steps of pretrain, the checkpoint on the CPU, generate"
register evaluators      240  evaluators.txt  "phonebook, mqar, qa, choice and generate on cuda against the CPU, fp32 and bf16, each architecture"
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
