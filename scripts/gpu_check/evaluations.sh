#!/usr/bin/env bash
# The evaluators on a device against the same commands on the CPU, for each architecture:
#
#   scripts/gpu_check/evaluations.sh BUILD_DIR DATA_DIR WORK_DIR [DEVICE]
#
# Trains a tiny checkpoint of each architecture (configs/tiny-cpu.toml with the [model]
# table of configs/model/{tiny,hawk-tiny,transformer-tiny}.toml, next-token prediction,
# EVALUATIONS_TRAIN_STEPS steps, default 300; EVALUATIONS_ARCHITECTURES names fewer) on
# DEVICE (default cuda), then runs
# phonebook_eval (with fine-tuning), mqar_eval (with fine-tuning), qa_eval, choice_eval and
# generate --mode ntp on it twice per precision (fp32, bf16): on the CPU (the reference)
# and on DEVICE (tested), EVALUATIONS_JOBS runs at a time (default: cores / 2). The results
# go to WORK_DIR/results/ARCH.EVALUATOR.{reference,tested}.PRECISION.{json,txt}, and
# scripts/gpu_check/compare_evaluations.py compares them (its table is the last output).
# DEVICE cpu runs the CPU against itself: how the CPU-side test checks this script.
# Exit status: compare_evaluations.py's (0 every comparison within bounds), else the
# failing step's.
set -euo pipefail
if [ $# -lt 3 ] || [ $# -gt 4 ]; then sed -n '2,3p' "$0" >&2; exit 2; fi
device=${4:-cuda}
build=$(cd "$1" && pwd) data=$(cd "$2" && pwd)
rm -rf "$3"
mkdir -p "$3/results" "$3/logs"
work=$(cd "$3" && pwd)
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"  # the configs name the objective grid from the repository's root
steps=${EVALUATIONS_TRAIN_STEPS:-300}
jobs=${EVALUATIONS_JOBS:-$(( $(nproc) / 2 > 0 ? $(nproc) / 2 : 1 ))}
vocab=$(grep -oE '"vocab_size": *[0-9]+' "$data/manifest.json" | grep -oE '[0-9]+$') ||
  { echo "evaluations: no vocab_size in $data/manifest.json (prepare_data --out $data)" >&2; exit 2; }

declare -A model_file=([gated_ssm]=tiny [hawk]=hawk-tiny [transformer]=transformer-tiny)
# shellcheck disable=SC2206  # names split at spaces
architectures=(${EVALUATIONS_ARCHITECTURES:-gated_ssm hawk transformer})
for arch in "${architectures[@]}"; do
  python3 "$repo/scripts/gpu_check/with_model.py" "$repo/configs/tiny-cpu.toml" \
    "$repo/configs/model/${model_file[$arch]}.toml" "$work/$arch.toml"
  SECONDS=0
  "$build/apps/pretrain" --config "$work/$arch.toml" --set "run.device=\"$device\"" --set "data.path=\"$data\"" \
    --set "model.vocab=$vocab" --set "run.output=\"$work/$arch\"" --set 'objectives.mixture="ntp"' \
    --set "schedule.steps=$steps" --set schedule.log_every=50 --set "schedule.checkpoint_every=$steps" \
    --set optimizer.warmup_steps=20 > "$work/logs/$arch.pretrain.txt" 2>&1 ||
    { echo "evaluations: pretrain of $arch on $device failed:" >&2; tail -n 20 "$work/logs/$arch.pretrain.txt" >&2; exit 1; }
  echo "$arch: trained $steps steps on $device in $SECONDS s: $(grep -oE '^step [0-9]+/[0-9]+  loss [0-9.]+' \
    "$work/logs/$arch.pretrain.txt" | sed -n '1p;$p' | paste -sd ' ' | sed 's/ step/ ->/')"
done

# One line per run: the result's name, then the command (the device options last).
runs="$work/runs.txt"
{
  for arch in "${architectures[@]}"; do
    for precision in fp32 bf16; do
      for role in reference tested; do
        dev=$([ $role = reference ] && echo cpu || echo "$device")
        at="--checkpoint $work/$arch --device $dev --precision $precision"
        echo "$arch.phonebook.$role.$precision.json $build/apps/phonebook_eval --finetune-steps 30 --finetune-rows 4 --finetune-entries 1,4 --finetune-queries 1,1 --entries 1,4 --queries 1 --books 8 --seed 7 --curve-every 10 --curve-books 4 $at"
        echo "$arch.mqar.$role.$precision.json $build/apps/mqar_eval --pairs 4,8 --queries 1,4 --instances 8 --seed 7 --finetune-steps 20 --finetune-rows 4 $at"
        echo "$arch.qa.$role.$precision.json $build/apps/qa_eval --data $repo/tests/fixtures/qa.jsonl $at"
        echo "$arch.choice.$role.$precision.json $build/apps/choice_eval --data $repo/tests/fixtures/choices.jsonl $at"
        echo "$arch.generate.$role.$precision.txt $build/apps/generate --mode ntp --prompt The --max-tokens 48 $at"
      done
    done
  done
} > "$runs"

# Each run: the --json file for the evaluators, the standard output for generate; the log
# beside it. A failed run leaves its log's tail on stderr and no result (compare reports it).
run_one() {
  local result=$1 command=$2 base
  base=$(basename "$result")
  local t0=$SECONDS
  if [[ $result == *.json ]]; then
    $command --json "$result" > "$work/logs/$base.log" 2>&1
  else
    $command > "$result.partial" 2> "$work/logs/$base.log" && mv "$result.partial" "$result"
  fi || { echo "evaluations: $base failed:" >&2; tail -n 5 "$work/logs/$base.log" >&2; return 0; }
  echo "$base $((SECONDS - t0)) s"
}
export -f run_one
export work
# Each run's CPU threads (OpenMP for the CPU backend, OpenBLAS): the cores shared among
# the runs at once (left at all cores, 8 runs x 16 threads took 10-30x longer).
OMP_NUM_THREADS=$(( $(nproc) / jobs > 1 ? $(nproc) / jobs : 1 ))
export OMP_NUM_THREADS OPENBLAS_NUM_THREADS=$OMP_NUM_THREADS
SECONDS=0
while read -r result command; do
  printf '%s\0%s\0' "$work/results/$result" "$command"
done < "$runs" | xargs -0 -n 2 -P "$jobs" bash -c 'run_one "$1" "$2"' run_one > "$work/logs/timings.txt"
echo "$(wc -l < "$runs") evaluator runs ($jobs at a time) in $SECONDS s"
python3 "$repo/scripts/gpu_check/compare_evaluations.py" "$work/results"
