#!/usr/bin/env bash
# Data-parallel pretraining on the CPU, 2 ranks under mpirun (engine/distributed.h):
#   1. 2 ranks × 2 rows train as 1 rank × 4 rows: the same loss and gradient norm at every
#      one of 20 steps, within 1e-5 relative (the gradients are summed in another order,
#      so the bits differ), with the optimizer state replicated and sharded (ZeRO-1), the
#      gradients summed in one bucket or one per block (optimizer.bucket_mib); a
#      sharded 2-rank run cut after 8 steps and resumed on 1 rank × 4 rows matches too;
#   2. Birdie with its evaluations on 2 ranks: the ranks keep choosing the same mixture
#      (pretrain checks it at every switch), and a run cut after 6 steps and resumed ends
#      bitwise equal to the uncut one;
#   3. SIGTERM to the ranks stops every rank at one step with one checkpoint, from which
#      the run resumes (not SIGINT to mpirun: Open MPI then stops forwarding the ranks'
#      output, so rank 0 can block writing its log, and kills them 1 s after passing them
#      SIGTERM, too soon on a loaded machine; docs/multi_gpu.md); a rank killed mid-run ends the whole job within 60 s, and the
#      launcher names it; a rank stopped mid-run (SIGSTOP) makes another end the job after
#      BIRDIE_COLLECTIVE_TIMEOUT seconds, naming the collective it waited in.
#   tests/data_parallel.sh BUILD_DIR SOURCE_DIR mpi|no-mpi
set -euo pipefail
build=$(cd "$1" && pwd)
cd "$2"
if [ "${3:-}" != mpi ] || ! command -v mpirun > /dev/null; then
  echo "SKIPPED: this build has no MPI (bash scripts/setup.sh installs libopenmpi-dev and openmpi-bin; then rebuild)"
  exit 77
fi
apps=$build/apps
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# CI runs as root on 2 cores; every rank computes on one thread (equal thread counts keep
# the replicated state identical).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
mpi=(mpirun -np 2 --oversubscribe -x OMP_NUM_THREADS -x OPENBLAS_NUM_THREADS)

"$apps/prepare_data" --out "$work/data" --vocab 1024 > "$work/prepare.log"
common=(--config configs/tiny-cpu.toml --set "data.path=\"$work/data\"" --set model.vocab=1024 --set model.dim=32
        --set model.state=64 --set model.layers=2 --set batch.sequence_length=128 --set batch.min_pack_tokens=32
        --set schedule.log_every=1 --set schedule.checkpoint_every=1000 --set optimizer.warmup_steps=2
        --set objectives.validation_samples=1 --set objectives.candidates=32 --set objectives.critic_iterations=5)

echo "== 1 rank x 4 rows against 2 ranks x 2 rows (replicated, ZeRO-1, resumed on 1 rank), next-token prediction"
ntp=("${common[@]}" --set 'objectives.mixture="ntp"' --set schedule.steps=20)
"$apps/pretrain" "${ntp[@]}" --set "run.output=\"$work/one\"" --set batch.rows=4 > "$work/one.log"
"${mpi[@]}" "$apps/pretrain" "${ntp[@]}" --set "run.output=\"$work/two\"" --set batch.rows=2 > "$work/two.log"
grep -q "data parallel: 2 ranks" "$work/two.log"
"${mpi[@]}" "$apps/pretrain" "${ntp[@]}" --set "run.output=\"$work/zero\"" --set batch.rows=2 --set optimizer.zero=1 \
  > "$work/zero.log"
# Buckets of 0.01 MiB: every block's gradients summed on their own while the backward pass
# goes on to the blocks before it.
"${mpi[@]}" "$apps/pretrain" "${ntp[@]}" --set "run.output=\"$work/buckets\"" --set batch.rows=2 \
  --set optimizer.bucket_mib=0.01 > "$work/buckets.log"
"${mpi[@]}" "$apps/pretrain" "${ntp[@]}" --set "run.output=\"$work/zero-buckets\"" --set batch.rows=2 \
  --set optimizer.zero=1 --set optimizer.bucket_mib=0.01 > "$work/zero-buckets.log"
"${mpi[@]}" "$apps/pretrain" "${ntp[@]}" --set "run.output=\"$work/reshard\"" --set batch.rows=2 --set optimizer.zero=1 \
  --stop-after-steps 8 > "$work/reshard1.log"
"$apps/pretrain" "${ntp[@]}" --set "run.output=\"$work/reshard\"" --set batch.rows=4 --resume > "$work/reshard2.log"
compare() {  # compare REFERENCE OTHER WHAT: loss and gradient norm at each of the 20 steps
  python3 - "$@" <<'PY'
import json, sys
one, two = ([json.loads(l) for l in open(p + "/metrics.jsonl")] for p in sys.argv[1:3])
assert [r["step"] for r in one] == list(range(1, 21)) == [r["step"] for r in two], "20 logged steps each"
worst = 0.0
for a, b in zip(one, two):
    for key in ("loss", "grad_norm"):
        rel = abs(a[key] - b[key]) / abs(a[key])
        worst = max(worst, rel)
        assert rel <= 1e-5, f"{sys.argv[3]}, step {a['step']}: {key} {a[key]} against {b[key]}"
print(f"{sys.argv[3]}: loss {one[0]['loss']:.4f} -> {one[-1]['loss']:.4f} over 20 steps; "
      f"largest relative difference {worst:.2e}")
PY
}
compare "$work/one" "$work/two" "2 ranks x 2 rows against 1 x 4"
compare "$work/one" "$work/zero" "2 ranks x 2 rows, ZeRO-1, against 1 x 4"
compare "$work/one" "$work/buckets" "2 ranks x 2 rows, a bucket per block, against 1 x 4"
compare "$work/one" "$work/zero-buckets" "2 ranks x 2 rows, ZeRO-1 and a bucket per block, against 1 x 4"
compare "$work/one" "$work/reshard" "2 ranks, ZeRO-1, cut at step 8 and resumed on 1 rank x 4 rows, against 1 x 4"

echo "== Birdie on 2 ranks with ZeRO-1: cut after 6 steps and resumed, against uncut (12 steps)"
birdie=("${common[@]}" --set 'objectives.mixture="birdie"' --set schedule.steps=12 --set batch.rows=2
        --set optimizer.zero=1)
"${mpi[@]}" "$apps/pretrain" "${birdie[@]}" --set "run.output=\"$work/uncut\"" > "$work/uncut.log"
"${mpi[@]}" "$apps/pretrain" "${birdie[@]}" --set "run.output=\"$work/cut\"" --stop-after-steps 6 > "$work/cut1.log"
"${mpi[@]}" "$apps/pretrain" "${birdie[@]}" --set "run.output=\"$work/cut\"" --resume > "$work/cut2.log"
grep -q "resume: continuing from" "$work/cut2.log"
python3 - "$work/uncut" "$work/cut" <<'PY'
import json, sys
def read(folder):
    metrics = [json.loads(l) for l in open(folder + "/metrics.jsonl")]
    evaluations = [json.loads(l) for l in open(folder + "/evaluations.jsonl")]
    return ([(r["step"], r["loss"], r["grad_norm"]) for r in metrics],
            [(e["step"], e["decision"], e["mixture"]) for e in evaluations])
(m1, e1), (m2, e2) = read(sys.argv[1]), read(sys.argv[2])
assert len(m1) == 12 and len(e1) >= 3, (len(m1), len(e1))
assert m1 == m2, "the resumed run's steps differ from the uncut run's"
assert e1 == e2, "the resumed run's evaluations differ from the uncut run's"
print(f"12 steps and {len(e1)} evaluations, bitwise equal after the cut; decisions: "
      + ", ".join(d for _, d, _ in e1))
PY

wait_for_step() {  # wait_for_step LOG N: until the run has logged step N (60 s at most)
  for _ in $(seq 1 120); do
    grep -q "^step $2/" "$1" 2> /dev/null && return 0
    sleep 0.5
  done
  echo "the 2-rank run did not reach step $2:"; cat "$1"; exit 1
}

echo "== SIGTERM to the ranks: one checkpoint, then --resume"
long=("${ntp[@]}" --set batch.rows=2 --set schedule.steps=100000)
"${mpi[@]}" "$apps/pretrain" "${long[@]}" --set "run.output=\"$work/stopped\"" > "$work/stopped.log" 2>&1 &
launcher=$!
wait_for_step "$work/stopped.log" 3
kill -TERM $(pgrep -f "pretrain.*$work/stopped" | grep -v "^$launcher$")
wait "$launcher" || true
grep -q "^stopped at step" "$work/stopped.log" || { echo "no clean stop:"; tail -n 20 "$work/stopped.log"; exit 1; }
stopped=$(ls "$work/stopped/checkpoints")
[ "$(echo "$stopped" | wc -l)" -eq 1 ] || { echo "expected one checkpoint, found: $stopped"; exit 1; }
"${mpi[@]}" "$apps/pretrain" "${long[@]}" --set "run.output=\"$work/stopped\"" --resume --stop-after-steps 2 \
  > "$work/resumed.log"
grep -q "resume: continuing from .*$stopped" "$work/resumed.log"
echo "stopped cleanly at $stopped, resumed from it"

echo "== a rank killed mid-run ends the job"
"${mpi[@]}" "$apps/pretrain" "${long[@]}" --set "run.output=\"$work/killed\"" > "$work/killed.log" 2>&1 &
launcher=$!
wait_for_step "$work/killed.log" 2
victim=$(pgrep -f "pretrain.*$work/killed" | grep -v "^$launcher$" | tail -n 1)
kill -9 "$victim"
start=$SECONDS
status=0
timeout 60 tail --pid="$launcher" -f /dev/null || { echo "the job still runs 60 s after a rank died"; kill -9 "$launcher"; exit 1; }
wait "$launcher" || status=$?
[ "$status" -ne 0 ] || { echo "the job exited 0 after a rank was killed"; exit 1; }
grep -iE "rank [0-9]+|process rank" "$work/killed.log" | head -n 2
echo "the job ended $((SECONDS - start)) s after rank process $victim was killed (exit status $status)"
echo "== a rank that stops answering ends the job after BIRDIE_COLLECTIVE_TIMEOUT"
BIRDIE_COLLECTIVE_TIMEOUT=3 "${mpi[@]}" -x BIRDIE_COLLECTIVE_TIMEOUT "$apps/pretrain" "${long[@]}" \
  --set "run.output=\"$work/hung\"" > "$work/hung.log" 2>&1 &
launcher=$!
wait_for_step "$work/hung.log" 2
victim=$(pgrep -f "pretrain.*$work/hung" | grep -v "^$launcher$" | tail -n 1)
kill -STOP "$victim"
start=$SECONDS
status=0
timeout 60 tail --pid="$launcher" -f /dev/null || { echo "the job still runs 60 s after a rank stopped"; kill -9 "$launcher"; kill -9 "$victim"; exit 1; }
wait "$launcher" || status=$?
kill -9 "$victim" 2> /dev/null || true
[ "$status" -ne 0 ] || { echo "the job exited 0 after a rank stopped"; exit 1; }
grep -m 1 "has waited" "$work/hung.log" || { echo "no rank reported the wait:"; tail -n 20 "$work/hung.log"; exit 1; }
echo "the job ended $((SECONDS - start)) s after rank process $victim was stopped (exit status $status)"
echo "data parallel: all checks passed"
