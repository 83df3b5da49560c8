# Sourced by the shell tests that drive pretrain through a failure (tests/run_folder_lock.sh,
# tests/cluster_failures.sh): a small data set in $work/data, a tiny run's flags in
# ${run[@]} (2 layers, 128-token rows, checkpoints every 2 steps, 8 steps: seconds on the
# CPU) and the checks they share. Expects $1 = BUILD_DIR, $2 = SOURCE_DIR; sets apps, work
# (tests/support/shell_test.sh).
source "$(dirname "${BASH_SOURCE[0]}")/shell_test.sh"

step "a small data set"
python3 - "$work/corpus.jsonl" <<'PY'
import json, random, sys
r = random.Random(7)
words = "the of and to in is was he for it with as his on be at by had are but from or have an they".split()
with open(sys.argv[1], "w") as f:
    for i in range(2000):
        f.write(json.dumps({"text": " ".join(r.choice(words) for _ in range(r.randint(20, 100))) + "\n"}) + "\n")
PY
"$apps/prepare_data" --corpus "$work/corpus.jsonl" --out "$work/data" --vocab 400 > /dev/null

run=(--config configs/tiny-cpu.toml --set data.path="\"$work/data\"" --set model.vocab=400 --set model.dim=16
  --set model.state=16 --set model.layers=2 --set batch.sequence_length=128 --set batch.rows=2
  --set batch.min_pack_tokens=32 --set schedule.steps=8 --set schedule.log_every=1 --set schedule.checkpoint_every=2
  --set schedule.keep_checkpoints=0 --set optimizer.warmup_steps=2 --set objectives.mixture=uniform
  --set objectives.validation_samples=1 --set objectives.grid="\"configs/objectives/micro_grid.toml\"")

# exits CODE PATTERN COMMAND...: the command exits with CODE and its stderr contains PATTERN.
exits() {
  local code=$1 pattern=$2 status
  shift 2
  set +e
  "$@" > "$work/exits.out" 2> "$work/exits.err"
  status=$?
  set -e
  cat "$work/exits.err"
  if [ "$status" -ne "$code" ]; then echo "expected exit code $code, got $status: $*" >&2; return 1; fi
  grep -q -- "$pattern" "$work/exits.err" || { echo "expected '$pattern' in the errors" >&2; return 1; }
}

# same_losses REFERENCE RUN: RUN's metrics equal REFERENCE's, step for step (loss and
# gradient norm; the timings differ).
same_losses() {
  python3 - "$1/metrics.jsonl" "$2/metrics.jsonl" <<'PY'
import json, sys
a, b = ([(r["step"], r.get("loss"), r.get("grad_norm")) for r in map(json.loads, open(p))] for p in sys.argv[1:])
assert a == b and a, f"the resumed run differs from the uninterrupted one:\n{a}\n{b}"
PY
}

# good_checkpoints RUN STEP...: exactly these checkpoints and no partial folder, each
# complete (generate loads it: its DONE marker's sizes and checksums match its files).
good_checkpoints() {
  local folder=$1 s expected=""
  shift
  for s in "$@"; do expected+="step_$(printf '%08d' "$s") "; done
  test "$(ls "$folder/checkpoints" | tr '\n' ' ')" = "$expected" ||
    { echo "checkpoints: $(ls "$folder/checkpoints" | tr '\n' ' '), expected $expected" >&2; return 1; }
  for s in "$@"; do
    "$apps/generate" --checkpoint "$folder/checkpoints/step_$(printf '%08d' "$s")" --prompt "the" --max-tokens 2 \
      > /dev/null 2> "$work/generate.err" || { cat "$work/generate.err"; return 1; }
    if grep -q "damaged" "$work/generate.err"; then cat "$work/generate.err"; return 1; fi
  done
}
