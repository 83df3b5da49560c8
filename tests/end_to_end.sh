#!/usr/bin/env bash
# End to end on the CPU: prepare a small data set, pretrain a tiny model with Birdie and
# with NTP (in bf16 compute), check that a run cut in two jobs (--stop-after-steps, then --resume) gives
# exactly the losses and mixtures of an uninterrupted one, evaluate it on phone books and
# on MQAR (after a short fine-tuning), generate text, check that a bad configuration or
# precision is refused with exit code 2, and that the planning tools (memory_plan,
# step_bench) read run configurations.
#   tests/end_to_end.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
cd "$2"
apps=$build/apps
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step() { printf '\n== %s\n' "$*"; }

step "prepare a small data set"
"$apps/prepare_data" --out "$work/data" --vocab 1024 > "$work/prepare.log"
tail -3 "$work/prepare.log"

tiny=(--config configs/tiny-cpu.toml
  --set data.path="\"$work/data\"" --set model.vocab=1024 --set model.dim=32 --set model.state=64
  --set model.layers=2 --set batch.sequence_length=128 --set batch.rows=4 --set batch.min_pack_tokens=32
  --set schedule.steps=12 --set schedule.log_every=1 --set schedule.checkpoint_every=100
  --set optimizer.warmup_steps=2 --set objectives.validation_samples=1 --set objectives.candidates=64
  --set objectives.critic_iterations=20)

step "pretrain with Birdie, 12 steps in one go"
"$apps/pretrain" "${tiny[@]}" --set run.output="\"$work/birdie\""

step "the same run in two jobs: 5 steps, then --resume"
"$apps/pretrain" "${tiny[@]}" --set run.output="\"$work/resumed\"" --stop-after-steps 5
"$apps/pretrain" "${tiny[@]}" --set run.output="\"$work/resumed\"" --resume

step "compare: identical losses, gradient norms and mixtures"
python3 - "$work/birdie" "$work/resumed" <<'PY'
import json, sys
def read(folder, name, keys):
    rows = [json.loads(l) for l in open(f"{folder}/{name}")]
    return [{k: r.get(k) for k in keys} for r in rows]
a, b = sys.argv[1], sys.argv[2]
for name, keys in [("metrics.jsonl", ["step", "loss", "grad_norm", "lr"]),
                   ("evaluations.jsonl", ["step", "losses", "mixture", "explored"])]:
    x, y = read(a, name, keys), read(b, name, keys)
    assert len(x) > 0, f"{name}: empty"
    assert x == y, f"{name} differs between the uninterrupted and the resumed run:\n{x}\n{y}"
    print(f"{name}: {len(x)} records identical")
PY
test -s "$work/birdie/plot.svg"

step "pretrain with NTP, in bf16 compute over fp32 master weights"
"$apps/pretrain" "${tiny[@]}" --set run.output="\"$work/ntp\"" --set objectives.mixture=ntp --set schedule.steps=6 \
  --set run.precision=bf16 | tee "$work/ntp.log"
grep -q 'computing in bf16' "$work/ntp.log"
grep -q '"policy":"ntp"' "$work/ntp/evaluations.jsonl"
python3 -c "import json, math, sys; rows = [json.loads(l) for l in open(sys.argv[1])]; \
assert rows and all(math.isfinite(r['loss']) for r in rows), rows" "$work/ntp/metrics.jsonl"

step "phone-book evaluation"
"$apps/phonebook_eval" --checkpoint "$work/birdie" --entries 4 --queries 1,2 --books 2 --finetune-steps 2 \
  --json "$work/phonebook.json"
grep -q '"accuracy"' "$work/phonebook.json"
# Books too long for the context are shrunk, reported as such, and grouped by their real size.
"$apps/phonebook_eval" --checkpoint "$work/birdie" --entries 64 --queries 1 --books 2 --context 160 \
  --json "$work/shrunk.json" | tee "$work/shrunk.txt"
grep -q "2 of 2 books were shrunk" "$work/shrunk.txt"
python3 -c "import json, sys; r = json.load(open(sys.argv[1])); \
assert r['shrunk_books'] == len(r['cases']) == 2, r['shrunk_books']; \
assert all(c['shrunk'] and c['requested_entries'] == 64 and 1 <= c['entries'] < 64 for c in r['cases']), r['cases']; \
assert all(t['entries'] < 64 for t in r['table']), r['table']; \
assert all('<' not in c['generated'] for c in r['cases'])" "$work/shrunk.json"

step "MQAR evaluation after 2 fine-tuning steps, with a learning curve"
"$apps/mqar_eval" --checkpoint "$work/birdie" --pairs 2,4 --queries 1,2 --instances 2 --finetune-steps 2 \
  --finetune-rows 2 --curve-every 1 --curve-instances 4 --json "$work/mqar.json" | tee "$work/mqar.txt"
grep -q "random guessing: 1/" "$work/mqar.txt"
python3 -c "import json, sys; r = json.load(open(sys.argv[1])); \
assert [(t['pairs'], t['queries'], t['cases']) for t in r['table']] == [(2, 1, 2), (2, 2, 2), (4, 1, 2), (4, 2, 2)], r['table']; \
assert all(0 <= t['accuracy'] <= 1 for t in r['table']) and 0 <= r['accuracy'] <= 1, r['table']; \
assert [p['step'] for p in r['curve']] == [0, 1, 2], r['curve']; \
assert all(0 <= p['accuracy'] <= 1 for p in r['curve']), r['curve']; \
assert 0 < r['random_guess_accuracy'] < 0.01 and r['finetune']['steps'] == 2, r; \
assert len(r['cases']) == 8 and all(len(c['expected']) == c['queries'] and 0 <= c['accuracy'] <= 1 for c in r['cases'])" \
  "$work/mqar.json"
# An instance longer than the context is skipped and counted; more queries than pairs is refused.
"$apps/mqar_eval" --checkpoint "$work/birdie" --pairs 2,8 --queries 1 --instances 2 --context 12 \
  --json "$work/mqar_short.json" | tee "$work/mqar_short.txt"
grep -q "2 instances skipped" "$work/mqar_short.txt"
python3 -c "import json, sys; r = json.load(open(sys.argv[1])); \
assert r['skipped_instances'] == 2 and r['instances'] == 2, r; \
assert [(t['pairs'], t['cases'], t['skipped']) for t in r['table']] == [(2, 2, 0), (8, 0, 2)], r['table']" \
  "$work/mqar_short.json"
set +e
"$apps/mqar_eval" --checkpoint "$work/birdie" --pairs 2 --queries 4 2> "$work/mqar_bad.log"
status=$?
set -e
cat "$work/mqar_bad.log"
test "$status" -eq 2
grep -q -- "--queries 4" "$work/mqar_bad.log"

step "generate"
"$apps/generate" --checkpoint "$work/birdie" --prompt "The fortune says" --max-tokens 12 --temperature 0.8 \
  > "$work/generated.txt"
cat "$work/generated.txt"

step "a bad configuration is refused with exit code 2"
set +e
"$apps/pretrain" "${tiny[@]}" --set run.output="\"$work/bad\"" --set model.width=3 2> "$work/bad.log"
status=$?
set -e
cat "$work/bad.log"
test "$status" -eq 2
grep -q "unknown key 'model.width'" "$work/bad.log"

step "an unknown precision is refused with exit code 2"
set +e
"$apps/pretrain" "${tiny[@]}" --set run.output="\"$work/bad\"" --set run.precision=fp16 2> "$work/bad.log"
status=$?
set -e
cat "$work/bad.log"
test "$status" -eq 2
grep -q 'run.precision must be' "$work/bad.log"

step "the planning tools read a run configuration and its model configuration alike"
test "$("$apps/memory_plan" configs/paper-1.4b.toml | tail -1)" = "$("$apps/memory_plan" configs/model/paper.toml | tail -1)"
"$apps/step_bench" --model configs/tiny-cpu.toml --rows 1 --seq 128 --steps 1 --warmup 0 --precision bf16

step "end-to-end: all checks passed"
