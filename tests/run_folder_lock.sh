#!/usr/bin/env bash
# One job per run folder (engine/folder_lock.h): two pretrain jobs started at once on one
# folder, one trains and the other is refused at once with exit code 2, naming the first's
# host and process; a job killed with SIGKILL leaves a lock file but no lock, so --resume
# continues at once and exactly; a resume while the first job still runs is refused too;
# an experiment whose output folder is held is refused before any arm starts.
#   tests/run_folder_lock.sh BUILD_DIR SOURCE_DIR
source "$(dirname "$0")/support/small_run.sh"
host=$(hostname)

# 24 steps: the first job is still training when the second starts, however loaded the machine.
run+=(--set schedule.steps=24 --set schedule.checkpoint_every=4)
step "the reference: 24 steps"
"$apps/pretrain" "${run[@]}" --set run.output="\"$work/reference\"" > /dev/null

step "two jobs started at once on one folder: one trains, one is refused with exit code 2"
"$apps/pretrain" "${run[@]}" --set run.output="\"$work/both\"" > "$work/a.out" 2> "$work/a.err" &
a=$!
"$apps/pretrain" "${run[@]}" --set run.output="\"$work/both\"" > "$work/b.out" 2> "$work/b.err" &
b=$!
set +e
wait $a; status_a=$?
wait $b; status_b=$?
set -e
cat "$work/a.err" "$work/b.err"
echo "exit codes: $status_a $status_b"
if [ "$status_a" -eq 0 ]; then winner=$a; refused=b; test "$status_b" -eq 2
else winner=$b; refused=a; test "$status_a" -eq 2; test "$status_b" -eq 0; fi
grep -q "pretrain: $work/both is in use by another job: host $host, process $winner (pretrain, since .*), which holds the lock $work/both/job.lock" \
  "$work/$refused.err"
grep -q "Fix: wait for that job to end or stop it" "$work/$refused.err"
! grep -q "^step " "$work/$refused.out"  # refused before any training
same_losses "$work/reference" "$work/both"

step "a job killed with SIGKILL during training: its lock goes with it"
"$apps/pretrain" "${run[@]}" --set run.output="\"$work/killed\"" --set schedule.steps=100000 > "$work/killed.out" &
holder=$!
for _ in $(seq 600); do [ -d "$work/killed/checkpoints/step_00000008" ] && break; sleep 0.1; done
test -d "$work/killed/checkpoints/step_00000008"
step "while it runs, a resume on its folder is refused at once"
started=$(date +%s%N)
exits 2 "is in use by another job: host $host, process $holder (pretrain" \
  "$apps/pretrain" "${run[@]}" --set run.output="\"$work/killed\"" --resume
echo "refused in $(( ($(date +%s%N) - started) / 1000000 )) ms"
kill -9 $holder
wait $holder || true
test -f "$work/killed/job.lock"  # the file is left; the kernel dropped the lock
step "after SIGKILL, --resume takes the folder and continues exactly"
"$apps/pretrain" "${run[@]}" --set run.output="\"$work/killed\"" --set schedule.steps=100000 --resume \
  --stop-after-steps 2 > "$work/resumed.out" 2> "$work/resumed.err" || { cat "$work/resumed.err"; exit 1; }
grep "resume: continuing from" "$work/resumed.out"
last=$(sed -n 's/^resume: continuing from .* (step \([0-9]*\))$/\1/p' "$work/resumed.out")
"$apps/pretrain" "${run[@]}" --set run.output="\"$work/long\"" --set schedule.steps=100000 \
  --stop-after-steps $((last + 2)) > /dev/null
same_losses "$work/long" "$work/killed"
step "an experiment's output folder in use (held here by flock(1), the same OS lock): refused at once"
cat > "$work/experiment.toml" <<TOML
[experiment]
output = "$work/experiment"
run = "configs/experiments/micro-cpu-run.toml"
arms = ["scratch"]
seeds = 1
set = ["data.path=\"$work/data\"", "model.vocab=400", "model.dim=16", "model.layers=2", "batch.sequence_length=128"]
TOML
mkdir -p "$work/experiment"
flock "$work/experiment/job.lock" sleep 30 &
holder=$!
for _ in $(seq 100); do flock -n "$work/experiment/job.lock" true || break; sleep 0.05; done
exits 2 "experiment: $work/experiment is in use by another job, which holds the lock $work/experiment/job.lock (it did not write" \
  "$apps/experiment" --config "$work/experiment.toml"
test ! -e "$work/experiment/scratch"  # no arm started
kill $holder
wait $holder || true
echo "run folder lock: all cases passed"
