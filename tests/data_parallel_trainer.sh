#!/usr/bin/env bash
# Data-parallel trainer steps in which one rank's share of a step holds no counted targets
# (tests/data_parallel_trainer.cpp): 2 ranks under mpirun against a world of one, with
# the optimizer state replicated and sharded (ZeRO-1), the gradients summed in one bucket
# or one per block. Every rank must issue the same collectives whatever its share held: a
# rank that issued others would hang (ended here by BIRDIE_COLLECTIVE_TIMEOUT and a
# timeout) or sum the wrong ranges. Each 2-rank run must finish, match the world of one's
# losses and gradient norms within 1e-5 relative (the ranks sum in another order) and its
# validation losses bitwise (each set's loss comes from one rank), and resume bitwise
# after a cut (checked by the program itself).
#   tests/data_parallel_trainer.sh PROGRAM mpi|no-mpi
set -euo pipefail
program=$1
if [ "${2:-}" != mpi ] || ! command -v mpirun > /dev/null; then
  echo "SKIPPED: this build has no MPI (bash scripts/setup.sh installs libopenmpi-dev and openmpi-bin; then rebuild)"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
export BIRDIE_COLLECTIVE_TIMEOUT=20
mpi=(timeout 120 mpirun -np 2 --oversubscribe -x OMP_NUM_THREADS -x OPENBLAS_NUM_THREADS -x BIRDIE_COLLECTIVE_TIMEOUT)

"$program" "$work/one.txt"
check() {  # check NAME [ARGS...]: 2 ranks with ARGS against the world of one
  local name=$1
  shift
  local status=0
  "${mpi[@]}" "$program" "$work/$name.txt" "$@" > "$work/$name.log" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    echo "$name: the 2-rank run failed (exit status $status; 124: it hung):"
    tail -n 20 "$work/$name.log"
    exit 1
  fi
  python3 - "$work/one.txt" "$work/$name.txt" "$name" <<'PY'
import math, sys
def read(path):
    validation, steps = [], []
    for line in open(path):
        f = line.split()
        if f[0] == "validation": validation.append(float(f[2]))
        else: steps.append((int(f[1]), float(f[2]), float(f[3]), int(f[4])))
    return validation, steps
(v1, s1), (v2, s2), name = read(sys.argv[1]), read(sys.argv[2]), sys.argv[3]
assert len(v1) == len(v2) == 3, (v1, v2)
assert math.isnan(v1[1]) and math.isnan(v2[1]), f"{name}: the set without targets has loss {v2[1]}"
assert [v for i, v in enumerate(v1) if i != 1] == [v for i, v in enumerate(v2) if i != 1], \
    f"{name}: validation losses {v2} against {v1}"
assert len(s1) == len(s2) == 8, (len(s1), len(s2))
worst = 0.0
for a, b in zip(s1, s2):
    assert a[0] == b[0] and a[3] == b[3], f"{name}: step {a[0]} counted {b[3]} targets against {a[3]}"
    for k, key in ((1, "loss"), (2, "gradient norm")):
        rel = abs(a[k] - b[k]) / abs(a[k])
        worst = max(worst, rel)
        assert rel <= 1e-5, f"{name}, step {a[0]}: {key} {b[k]} against {a[k]}"
print(f"{name}: 8 steps on 2 ranks (steps 2-6 with a rank or a micro-batch without targets) match 1 rank, "
      f"largest relative difference {worst:.2e}; validation losses bitwise equal; resumed bitwise")
PY
}
check replicated
check zero --zero
check buckets --bucket-elements 64
check zero-buckets --zero --bucket-elements 64
echo "data parallel trainer: all checks passed"
