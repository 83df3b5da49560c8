#!/usr/bin/env bash
# The experiment program end to end on the CPU, tiny: seven arms (birdie, ntp, scratch, ntp
# on Hawk and on a Transformer, and two custom arms: birdie with a class floor and a fixed
# weights file) of a few steps each, then the same command again, which must redo nothing.
#   tests/experiment.sh BUILD_DIR SOURCE_DIR
source "$(dirname "$0")/support/shell_test.sh"

"$apps/prepare_data" --out "$work/data" --vocab 1024 > "$work/prepare.log"
printf '[weights]\nnext_token = 1\ncopying_l16_32 = 3\n' > "$work/retrieval.toml"
cat > "$work/tiny.toml" <<TOML
[experiment]
output = "$work/out"
run = "configs/experiments/micro-cpu-run.toml"
arms = ["birdie", "ntp", "scratch", "ntp@hawk", "ntp@transformer", "floor", "retrieval"]
models = { hawk = "configs/experiments/micro-cpu-hawk-run.toml", transformer = "configs/experiments/micro-cpu-transformer-run.toml" }
seeds = 1
set = ["data.path=\"$work/data\"", "model.vocab=1024", "model.dim=48", "model.layers=2",
       "batch.sequence_length=128", "batch.rows=2", "batch.min_pack_tokens=32", "schedule.steps=3",
       "schedule.log_every=1", "optimizer.warmup_steps=1", "objectives.validation_samples=1",
       "objectives.candidates=32", "objectives.critic_iterations=5"]

[arms.floor]
mixture = "birdie"
set = ["objectives.class_floor=0.1"]

[arms.retrieval]
mixture = "$work/retrieval.toml"
bidirectional = "none"

[finetune]
steps = 2
rows = 2
curve_every = 1
curve_books = 2
curve_entries = [1]
curve_queries = [1]
threshold = 0.05

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
assert list(arms) == ["birdie", "ntp", "scratch", "ntp@hawk", "ntp@transformer", "floor", "retrieval"], list(arms)
# Steps-to-threshold: the curve's books (1 entry, 1 query) and the level, then per arm and
# seed the first curve step at or above it (one seed: the curve in the file is that seed's).
t = r["steps_to_threshold"]
assert t["threshold"] == 0.05 and t["curve_entries"] == [1] and t["curve_queries"] == [1], t
assert t["curve_books"] == 2 and "2 held-out books of 1 entry and 1 query" in t["curve"], t
for name, arm in arms.items():
    assert 0 <= arm["accuracy"]["mean"] <= 1, arm
    assert [p["step"] for p in arm["finetune_curve"]] == [0, 1, 2], arm["finetune_curve"]
    assert len(arm["validation_by_class"]) == 7, arm["validation_by_class"]
    # Each retrieval configuration of the grid one by one (3 copying, 4 deshuffling, 4
    # selective copying in the micro grid); the copying class is their mean.
    c = arm["validation_of_retrieval_configurations"]
    assert len(c) == 11 and all(name.split("_")[0] in ("copying", "selective", "deshuffling") for name in c), c
    copying = [v["mean"] for k, v in c.items() if k.startswith("copying_")]
    assert abs(sum(copying) / len(copying) - arm["validation_by_class"]["copying"]["mean"]) < 1e-6 * max(copying)
    s = arm["steps_to_threshold"]
    crossed = [p["step"] for p in arm["finetune_curve"] if p["accuracy"]["mean"] >= 0.05]
    expected = crossed[0] if crossed else None
    assert s["seeds"] == [{"seed": 1, "step": expected}], (name, s, arm["finetune_curve"])
    assert s["reached"] == (expected is not None) and s["of"] == 1, s
    assert s["mean"] == expected and s["min"] == expected and s["max"] == expected, s
assert arms["floor"]["overrides"] == ["objectives.mixture=\"birdie\"", "model.bidirectional=\"alternate\"",
                                      "objectives.class_floor=0.1"], arms["floor"]["overrides"]
assert arms["scratch"]["budget"]["pretrain_tokens"] == 0
assert arms["ntp"]["budget"]["pretrain_tokens"] == arms["birdie"]["budget"]["pretrain_tokens"] == 3 * 2 * 128
assert arms["ntp@hawk"]["budget"]["pretrain_tokens"] == arms["ntp@transformer"]["budget"]["pretrain_tokens"] == 3 * 2 * 128
params = {name: arm["budget"]["parameters"] for name, arm in arms.items()}
assert len({params["ntp"], params["ntp@hawk"], params["ntp@transformer"]}) == 3, params
print("results.json: 7 arms (Gated SSM, Hawk, Transformer, two custom), curves, steps to threshold, "
      "per-class validation losses; parameters", params)
PY
grep -q "^## Fine-tuning steps to 0.05 held-out digit accuracy" "$work/out/results.md"
grep -q "^| floor | " "$work/out/results.md"
grep -q "^## Validation loss of each retrieval configuration" "$work/out/results.md"
grep -q "threshold 0.05" "$work/out/finetune.svg"
grep -q "stroke-dasharray" "$work/out/finetune.svg"
python3 - "$work/out" <<'PY'
import json, sys
out = sys.argv[1]
# The custom arms pretrain with their settings: the floor arm's every mixture keeps each
# class at 0.1 or more; the fixed arm draws from its weights file, every layer causal.
assert "class_floor = 0.1" in open(f"{out}/floor/seed-1/config.toml").read()
lines = [json.loads(l) for l in open(f"{out}/floor/seed-1/evaluations.jsonl")]
assert lines, "no evaluation"
for line in lines:
    assert line["class_floor"] == 0.1, line
    assert min(line["mixture_by_class"].values()) >= 0.1 - 1e-9, line["mixture_by_class"]
config = open(f"{out}/retrieval/seed-1/config.toml").read()
assert 'retrieval.toml"' in config and 'bidirectional = "none"' in config, config
mixture = json.loads(open(f"{out}/retrieval/seed-1/evaluations.jsonl").readline())["mixture_by_class"]
assert abs(mixture["copying"] - 0.75) < 1e-9 and abs(mixture["next_token"] - 0.25) < 1e-9, mixture
assert json.load(open(f"{out}/ntp/seed-1/phonebook.json"))["finetune"]["curve_entries"] == [1]
print("custom arms: the floor held in", len(lines), "evaluations; the fixed arm's mixture", mixture)
PY
grep -q 'architecture = "hawk"' "$work/out/ntp@hawk/seed-1/config.toml"
grep -q 'architecture = "transformer"' "$work/out/ntp@transformer/seed-1/config.toml"
python3 - <<'PY'
print("each arm's run folder records its architecture")
PY

# The same command again: every step is found done and nothing is retrained.
"$apps/experiment" --config "$work/tiny.toml" | tee "$work/second.log"
test "$(grep -c 'done before' "$work/second.log")" -eq 21
! grep -q '\] pretrain \.\.\.' "$work/second.log"

# The same experiment in two pieces (two jobs, two output folders, checkpoints dropped in
# one), merged by one report: the same results as the one-piece run.
"$apps/experiment" --config "$work/tiny.toml" --set experiment.output="\"$work/piece-a\"" --arms ntp,birdie \
  > "$work/piece-a.log"
grep -q "this piece: 2 of the 7 arm-seed units" "$work/piece-a.log"
test ! -e "$work/piece-a/scratch"
"$apps/experiment" --config "$work/tiny.toml" --set experiment.output="\"$work/piece-b\"" \
  --arms scratch,ntp@hawk,ntp@transformer,floor,retrieval --seeds 1 --drop-checkpoints > "$work/piece-b.log"
test ! -e "$work/piece-b/floor/seed-1/checkpoints" && test -s "$work/piece-b/floor/seed-1/validation.json"
"$apps/experiment" --config "$work/tiny.toml" --set experiment.output="\"$work/merged\"" --report-only \
  --from "$work/piece-a" --from "$work/piece-b" > "$work/merged.log"
python3 - "$work/out/results.json" "$work/merged/results.json" <<'PY'
import json, sys
one, merged = (json.load(open(f)) for f in sys.argv[1:])
# Wall times are the jobs' own; everything else is the same.
for r in (one, merged):
    for arm in r["arms"].values():
        del arm["budget"]["pretrain_seconds"], arm["budget"]["evaluate_seconds"]
assert merged["complete_units"] == 7 and one["made_by"] == merged["made_by"], merged["made_by"]
assert one == merged, "the merged report differs from the one-piece report"
print("two pieces merged: the one-piece results, made by", merged["made_by"])
PY
# Pieces made by other data (or experiment, or code) are refused, naming what differs.
cp -r "$work/piece-b" "$work/piece-c"
python3 - "$work/piece-c/floor/seed-1/piece.json" <<'PY'
import json, sys
stamp = json.load(open(sys.argv[1]))
stamp["data"] = "0123456789abcdef"
json.dump(stamp, open(sys.argv[1], "w"))
PY
set +e
"$apps/experiment" --config "$work/tiny.toml" --set experiment.output="\"$work/merged-c\"" --report-only \
  --from "$work/piece-a" --from "$work/piece-c" > "$work/merged-c.log" 2>&1
status=$?
set -e
cat "$work/merged-c.log"
test "$status" -eq 2
grep -q "cannot merge floor seed 1 in .*piece-c/floor/seed-1 with .*: made by another experiment, data or code (data [0-9a-f]* against 0123456789abcdef)" "$work/merged-c.log"
# A unit started by another experiment is not continued.
set +e
"$apps/experiment" --config "$work/tiny.toml" --set experiment.output="\"$work/piece-c\"" --arms floor \
  > "$work/continue-c.log" 2>&1
status=$?
set -e
test "$status" -eq 2
grep -q "was started by another experiment, data or code" "$work/continue-c.log"
! "$apps/experiment" --config "$work/tiny.toml" --arms nosuch > /dev/null 2>&1
! "$apps/experiment" --config "$work/tiny.toml" --seeds 2 > /dev/null 2>&1

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
set +e
"$apps/experiment" --config "$work/tiny.toml" --set arms.floor.floor=0.1 2> "$work/bad.log"
status=$?
set -e
test "$status" -eq 2
grep -q "unknown key 'arms.floor.floor'" "$work/bad.log"
# A floor the grid cannot hold (7 classes × 0.5 > 1) is refused before anything runs.
set +e
"$apps/experiment" --config "$work/tiny.toml" --set experiment.output="\"$work/refused\"" \
  --set 'arms.floor.set=["objectives.class_floor=0.5"]' 2> "$work/bad.log"
status=$?
set -e
cat "$work/bad.log"
test "$status" -eq 2
grep -q "objectives.class_floor = 0.5 with 7 objective classes" "$work/bad.log"
test ! -e "$work/refused/birdie"
echo "experiment: all checks passed"
