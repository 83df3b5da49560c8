#!/usr/bin/env bash
# The experiment program end to end on the CPU, tiny: five arms (birdie, ntp, scratch, and
# ntp on Hawk and on a Transformer) of a few steps each, then the same command again, which
# must redo nothing.
#   tests/experiment.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
cd "$2"
apps=$build/apps
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$apps/prepare_data" --out "$work/data" --vocab 1024 > "$work/prepare.log"
cat > "$work/tiny.toml" <<TOML
[experiment]
output = "$work/out"
run = "configs/experiments/micro-cpu-run.toml"
arms = ["birdie", "ntp", "scratch", "ntp@hawk", "ntp@transformer"]
models = { hawk = "configs/experiments/micro-cpu-hawk-run.toml", transformer = "configs/experiments/micro-cpu-transformer-run.toml" }
seeds = 1
set = ["data.path=\"$work/data\"", "model.vocab=1024", "model.dim=48", "model.layers=2",
       "batch.sequence_length=128", "batch.rows=2", "batch.min_pack_tokens=32", "schedule.steps=3",
       "schedule.log_every=1", "optimizer.warmup_steps=1", "objectives.validation_samples=1",
       "objectives.candidates=32", "objectives.critic_iterations=5"]

[finetune]
steps = 2
rows = 2
curve_every = 1
curve_books = 2

[evaluation]
entries = [2]
queries = [1]
books = 2
TOML

"$apps/experiment" --config "$work/tiny.toml" | tee "$work/first.log"
for file in results.json results.md accuracy.svg finetune.svg; do test -s "$work/out/$file"; done
test -d "$work/out/ntp/seed-1/checkpoints"
python3 - "$work/out/results.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
arms = r["arms"]
assert list(arms) == ["birdie", "ntp", "scratch", "ntp@hawk", "ntp@transformer"], list(arms)
for name, arm in arms.items():
    assert 0 <= arm["accuracy"]["mean"] <= 1, arm
    assert [p["step"] for p in arm["finetune_curve"]] == [0, 1, 2], arm["finetune_curve"]
    assert len(arm["validation_by_class"]) == 7, arm["validation_by_class"]
assert arms["scratch"]["budget"]["pretrain_tokens"] == 0
assert arms["ntp"]["budget"]["pretrain_tokens"] == arms["birdie"]["budget"]["pretrain_tokens"] == 3 * 2 * 128
assert arms["ntp@hawk"]["budget"]["pretrain_tokens"] == arms["ntp@transformer"]["budget"]["pretrain_tokens"] == 3 * 2 * 128
params = {name: arm["budget"]["parameters"] for name, arm in arms.items()}
assert len({params["ntp"], params["ntp@hawk"], params["ntp@transformer"]}) == 3, params
print("results.json: 5 arms (Gated SSM, Hawk, Transformer), curves, per-class validation losses; parameters", params)
PY
grep -q 'architecture = "hawk"' "$work/out/ntp@hawk/seed-1/config.toml"
grep -q 'architecture = "transformer"' "$work/out/ntp@transformer/seed-1/config.toml"
python3 - <<'PY'
print("each arm's run folder records its architecture")
PY

# The same command again: every step is found done and nothing is retrained.
"$apps/experiment" --config "$work/tiny.toml" | tee "$work/second.log"
test "$(grep -c 'done before' "$work/second.log")" -eq 15
! grep -q '\] pretrain \.\.\.' "$work/second.log"

# Ctrl-C during a pre-training: passed on once, so pretrain writes its checkpoint; the
# experiment exits 130 and says how to continue.
"$apps/experiment" --config "$work/tiny.toml" --set experiment.output="\"$work/stopped\"" \
  --set 'experiment.arms=["ntp"]' --set 'experiment.set=["data.path=\"'"$work"'/data\"", "model.vocab=1024", "model.dim=48", "model.layers=2", "batch.sequence_length=128", "batch.rows=2", "batch.min_pack_tokens=32", "schedule.steps=100000", "schedule.log_every=1"]' \
  > "$work/stopped.log" 2>&1 &
experiment=$!
for _ in $(seq 600); do
  grep -qs "^step 2/" "$work/stopped/ntp/seed-1/pretrain.log" && break
  sleep 0.1
done
kill -INT "$experiment"
set +e
wait "$experiment"
status=$?
set -e
cat "$work/stopped.log"
test "$status" -eq 130
grep -q "run the same command again to continue" "$work/stopped.log"
ls "$work/stopped/ntp/seed-1/checkpoints" | grep -q step_

# A bad experiment file is refused with exit code 2, naming the key.
set +e
"$apps/experiment" --config "$work/tiny.toml" --set experiment.arms='["birdie", "gpt"]' 2> "$work/bad.log"
status=$?
set -e
cat "$work/bad.log"
test "$status" -eq 2
grep -q "unknown arm 'gpt'" "$work/bad.log"
set +e
"$apps/experiment" --config "$work/tiny.toml" --set experiment.arms='["birdie@gpt"]' 2> "$work/bad.log"
status=$?
set -e
test "$status" -eq 2
grep -q "names the model 'gpt', which experiment.models does not define" "$work/bad.log"
echo "experiment: all checks passed"
