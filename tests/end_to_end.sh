#!/usr/bin/env bash
# End to end on the CPU: prepare a small data set, pretrain a tiny model with Birdie and
# with NTP (in bf16 compute), check that a run cut in two jobs (--stop-after-steps, then --resume) gives
# exactly the losses and mixtures of an uninterrupted one (also with a class floor), that
# non-finite steps are skipped and stop the run after schedule.max_bad_steps, and that it
# does not resume with another tokenizer, evaluate it on phone books, on MQAR (after a short fine-tuning), on question
# answering and on multiple choice (tests/fixtures), generate text, check that a bad
# configuration or precision is refused with exit code 2, and that the planning tools
# (memory_plan, step_bench) read run configurations.
#   tests/end_to_end.sh BUILD_DIR SOURCE_DIR
source "$(dirname "$0")/support/shell_test.sh"
# refused PATTERN COMMAND...: the command exits with code 2 and its stderr contains PATTERN.
refused() {
  local pattern=$1 status
  shift
  set +e
  "$@" 2> "$work/refused.log"
  status=$?
  set -e
  cat "$work/refused.log"
  test "$status" -eq 2
  grep -q -- "$pattern" "$work/refused.log"
}

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

step "the policy beside training (objectives.policy_lag_steps=2): cut inside a pending switch, resumed, equal to one job"
lagged=("${tiny[@]}" --set objectives.policy_lag_steps=2)
"$apps/pretrain" "${lagged[@]}" --set run.output="\"$work/lagged\"" > "$work/lagged.log"
grep -q "beside training" "$work/lagged.log"
"$apps/pretrain" "${lagged[@]}" --set run.output="\"$work/lagged_cut\"" --stop-after-steps 5 > /dev/null
"$apps/pretrain" "${lagged[@]}" --set run.output="\"$work/lagged_cut\"" --resume > /dev/null
python3 - "$work/lagged" "$work/lagged_cut" "$work/birdie" <<'PY'
import json, sys
def read(folder, name, keys):
    return [{k: json.loads(l).get(k) for k in keys} for l in open(f"{folder}/{name}")]
lagged, cut, direct = sys.argv[1:]
for name, keys in [("metrics.jsonl", ["step", "loss", "grad_norm"]), ("evaluations.jsonl", ["step", "losses", "mixture"])]:
    assert read(lagged, name, keys) == read(cut, name, keys), f"{name}: the cut lagged run differs"
# The lag changes when mixtures apply, so training differs from the run without it.
assert read(lagged, "metrics.jsonl", ["loss"]) != read(direct, "metrics.jsonl", ["loss"]), "the lag changed nothing"
print("lagged runs: one job and two jobs identical; different from the run without lag")
PY

step "a class floor (objectives.class_floor=0.1): every mixture keeps each class at 0.1; cut and resumed, equal to one job"
floored=("${tiny[@]}" --set objectives.class_floor=0.1)
"$apps/pretrain" "${floored[@]}" --set run.output="\"$work/floored\"" > /dev/null
"$apps/pretrain" "${floored[@]}" --set run.output="\"$work/floored_cut\"" --stop-after-steps 5 > /dev/null
"$apps/pretrain" "${floored[@]}" --set run.output="\"$work/floored_cut\"" --resume > /dev/null
grep -q "^class_floor = 0.1$" "$work/floored/config.toml"
python3 - "$work/floored" "$work/floored_cut" <<'PY'
import json, sys
def read(folder, name, keys):
    return [{k: json.loads(l).get(k) for k in keys} for l in open(f"{folder}/{name}")]
one, cut = sys.argv[1:]
for name, keys in [("metrics.jsonl", ["step", "loss", "grad_norm"]), ("evaluations.jsonl", ["step", "losses", "mixture"])]:
    assert read(one, name, keys) == read(cut, name, keys), f"{name}: the cut run with a class floor differs"
lines = [json.loads(l) for l in open(f"{one}/evaluations.jsonl")]
for line in lines:
    assert line["class_floor"] == 0.1 and min(line["mixture_by_class"].values()) >= 0.1 - 1e-9, line
print("class floor: held in", len(lines), "evaluations; one job and two jobs identical")
PY
refused "Fix: resume with the same objectives.class_floor" \
  "$apps/pretrain" "${tiny[@]}" --set run.output="\"$work/floored_cut\"" --resume --set objectives.class_floor=0.05
refused "floor × classes must be ≤ 1" "$apps/pretrain" "${tiny[@]}" --set run.output="\"$work/bad\"" \
  --set objectives.class_floor=0.2
refused "objectives.class_floor applies to the reward-driven mixture only" \
  "$apps/pretrain" "${tiny[@]}" --set run.output="\"$work/bad\"" --set objectives.class_floor=0.1 --set objectives.mixture=ntp

step "non-finite steps are skipped, reported with their numbers, and schedule.max_bad_steps stops the run (exit 3)"
# A learning rate of 1e30 (an infinite one is refused) moves the weights so far in step 1
# that steps 2, 3 and 4 have a non-finite loss, AdamW skips them on the device, and the third in a row stops the run
# without a checkpoint.
set +e
"$apps/pretrain" "${tiny[@]}" --set run.output="\"$work/diverged\"" --set objectives.mixture=ntp \
  --set optimizer.lr=1e30 --set schedule.max_bad_steps=3 > "$work/diverged.log" 2> "$work/diverged.err"
status=$?
set -e
cat "$work/diverged.err"
test "$status" -eq 3
grep -q "3 non-finite steps in a row at step 4: stopping" "$work/diverged.err"
grep -q "^step 4: non-finite loss or gradient (loss -\?nan, norm -\?nan): skipped (3 in a row)$" "$work/diverged.log"
python3 - "$work/diverged" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1] + "/metrics.jsonl")]
assert [(r["step"], r.get("skipped", False)) for r in rows] == [(1, False), (2, True), (3, True), (4, True)], rows
PY
test -z "$(ls -A "$work/diverged/checkpoints" 2> /dev/null)"

step "a run does not continue with another tokenizer (its data folder prepared again)"
cp "$work/resumed/tokenizer.model" "$work/tokenizer.saved"
printf 'x' >> "$work/resumed/tokenizer.model"
set +e
"$apps/pretrain" "${tiny[@]}" --set run.output="\"$work/resumed\"" --resume 2> "$work/retokenized.log"
status=$?
set -e
tail -1 "$work/retokenized.log"
test "$status" -ne 0
grep -q "prepared again" "$work/retokenized.log"
cp "$work/tokenizer.saved" "$work/resumed/tokenizer.model"

step "pretrain with NTP, in bf16 compute over fp32 master weights"
"$apps/pretrain" "${tiny[@]}" --set run.output="\"$work/ntp\"" --set objectives.mixture=ntp --set schedule.steps=6 \
  --set run.precision=bf16 | tee "$work/ntp.log"
grep -q 'computing in bf16' "$work/ntp.log"
grep -q '"policy":"ntp"' "$work/ntp/evaluations.jsonl"
python3 -c "import json, math, sys; rows = [json.loads(l) for l in open(sys.argv[1])]; \
assert rows and all(math.isfinite(r['loss']) for r in rows), rows" "$work/ntp/metrics.jsonl"

step "phone-book evaluation"
"$apps/phonebook_eval" --checkpoint "$work/birdie" --entries 4 --queries 1,2 --books 2 --protocol paper \
  --finetune-steps 2 --finetune-rows 2 --split-names --curve-every 1 --curve-books 2 --json "$work/phonebook.json"
python3 -c "import json, sys; r = json.load(open(sys.argv[1])); f = r['finetune']; \
assert 0 <= r['accuracy'] <= 1, r['accuracy']; \
assert (f['protocol'], f['steps'], f['rows'], f['lr'], f['weight_decay']) == ('paper', 2, 2, 5e-5, 0.0), f; \
assert [p['step'] for p in f['curve']] == [0, 1, 2], f['curve']; \
assert 1 <= f['entries'][0] <= f['entries'][1] and f['queries'] == [1, 32] and f['split_names'], f" \
  "$work/phonebook.json"
# Cases from a file: the optional entries/queries fields group them; one too long for the
# context is skipped and counted; a malformed line is refused naming the file, line and field.
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
cases = [{"prompt": "Ann Lee: 123-456-7890\nWhat is Ann Lee's number?", "answer": "123-456-7890", "entries": 1},
         {"prompt": "Bo Li: 000-111-2222\nCy Ho: 333-444-5555\nNumbers of Bo Li and Cy Ho?",
          "answer": "000-111-2222, 333-444-5555", "entries": 2, "queries": 2},
         {"prompt": "word " * 400, "answer": "123-456-7890"}]
open(f"{work}/cases.jsonl", "w").write("".join(json.dumps(c) + "\n" for c in cases))
open(f"{work}/bad_cases.jsonl", "w").write(json.dumps(cases[0]) + "\n" + '{"prompt": "x", "answer": 5}\n')
PY
"$apps/phonebook_eval" --checkpoint "$work/birdie" --cases "$work/cases.jsonl" --json "$work/cases.json" \
  | tee "$work/cases.txt"
grep -q "1 cases skipped: longer than the context" "$work/cases.txt"
python3 -c "import json, sys; r = json.load(open(sys.argv[1])); \
assert r['skipped_cases'] == 1 and len(r['cases']) == 2, r; \
assert sorted((t['entries'], t['queries']) for t in r['table']) == [(1, 1), (2, 2)], r['table']" "$work/cases.json"
refused "bad_cases.jsonl:2: field 'answer': expected a string" \
  "$apps/phonebook_eval" --checkpoint "$work/birdie" --cases "$work/bad_cases.jsonl"
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
"$apps/mqar_eval" --checkpoint "$work/birdie" --pairs 2,8 --queries 1 --instances 2 --context 16 \
  --json "$work/mqar_short.json" | tee "$work/mqar_short.txt"
grep -q "2 instances skipped" "$work/mqar_short.txt"
python3 -c "import json, sys; r = json.load(open(sys.argv[1])); \
assert r['skipped_instances'] == 2 and r['instances'] == 2, r; \
assert [(t['pairs'], t['cases'], t['skipped']) for t in r['table']] == [(2, 2, 0), (8, 0, 2)], r['table']" \
  "$work/mqar_short.json"
refused "--queries 4" "$apps/mqar_eval" --checkpoint "$work/birdie" --pairs 2 --queries 4

step "question answering and multiple choice on the fixtures"
"$apps/qa_eval" --checkpoint "$work/birdie" --data tests/fixtures/qa.jsonl --max-answer-tokens 8 \
  --buckets 32,64 --json "$work/qa.json"
"$apps/choice_eval" --checkpoint "$work/birdie" --data tests/fixtures/choices.jsonl --json "$work/choices.json"
python3 - "$work/qa.json" "$work/choices.json" tests/fixtures/qa.jsonl <<'PY'
import json, sys
qa, mc = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
items = [json.loads(l) for l in open(sys.argv[3]) if l.strip()]
assert qa["items"] == len(items) == len(qa["records"]) == 12, qa["items"]
assert qa["scored"] + qa["skipped"] == 12 and qa["skipped"] >= 1 and qa["scored"] >= 1, (qa["scored"], qa["skipped"])
scored = [r for r in qa["records"] if not r["skipped"]]
assert len(scored) == qa["scored"]
for r, item in zip(qa["records"], items):
    assert r["answerable"] == bool(item["answers"]) and r["prompt_tokens"] > 0, r
    if r["skipped"]:
        assert r["prompt_tokens"] + 1 + qa["max_answer_tokens"] > qa["context"], r
    else:
        assert r["prompt_tokens"] + 1 + qa["max_answer_tokens"] <= qa["context"], r
        assert isinstance(r["contains"], bool) and 0 <= r["f1"] <= 1 and isinstance(r["generated"], str), r
table = {row["bucket"]: row for row in qa["table"]}
assert table["all"]["items"] == qa["scored"], table
assert sum(row["items"] for row in qa["table"] if row["bucket"] != "all") == qa["scored"], table
assert table["all"]["unanswerable"] == sum(not r["answerable"] for r in scored), table
assert all(0 <= row[k] <= 1 for row in qa["table"] for k in ("contains", "f1", "exact")), table
print(f"qa: {qa['scored']} scored, {qa['skipped']} skipped, contains {table['all']['contains']:.3f}")

assert mc["items"] == mc["scored"] == len(mc["records"]) == 8 and mc["skipped"] == 0, mc["items"]
for r in mc["records"]:
    n = r["choices"]
    assert 2 <= n <= 4 and len(r["loss_mean"]) == len(r["loss_sum"]) == len(r["choice_tokens"]) == n, r
    assert all(m > 0 and abs(s - m * t) <= 1e-6 * s for m, s, t in zip(r["loss_mean"], r["loss_sum"], r["choice_tokens"])), r
    assert r["prediction"] == min(range(n), key=lambda i: r["loss_mean"][i]), r
    assert r["correct"] == (r["prediction"] == r["label"]) and r["correct_sum"] == (r["prediction_sum"] == r["label"]), r
assert 0 <= mc["accuracy"] <= 1 and 0 <= mc["accuracy_sum"] <= 1
assert abs(mc["accuracy"] - sum(r["correct"] for r in mc["records"]) / 8) < 1e-12
by_n = [row for row in mc["table"] if row["choices"] != "all"]
assert sum(row["items"] for row in by_n) == 8 and mc["table"][-1]["items"] == 8, mc["table"]
print(f"choices: accuracy {mc['accuracy']:.3f} (sum {mc['accuracy_sum']:.3f})")
PY
# Bad input is refused with exit code 2, naming the file, the line and the field.
printf '%s\n' '{"prompt": "p", "choices": ["x", "y"], "label": 0}' '{"prompt": "p", "choices": ["x", "y"], "label": 2}' \
  > "$work/bad_choices.jsonl"
refused "bad_choices.jsonl:2: field 'label': 2 is not a choice index" \
  "$apps/choice_eval" --checkpoint "$work/birdie" --data "$work/bad_choices.jsonl"

step "generate"
"$apps/generate" --checkpoint "$work/birdie" --prompt "The fortune says" --max-tokens 12 --temperature 0.8 \
  > "$work/generated.txt" 2> "$work/generate.log"
cat "$work/generate.log" "$work/generated.txt"
grep -q "mode ntp" "$work/generate.log"
"$apps/generate" --checkpoint "$work/birdie" --prompt "The fortune says" --max-tokens 12 --mode prefix_lm \
  --show-reserved
refused "mode poetry is not a mode" "$apps/generate" --checkpoint "$work/birdie" --prompt "x" --mode poetry

step "generate_batch: a JSONL of prompts in batches, each line's completion the one generate gives it alone"
printf '%s\n' '{"prompt": "The fortune says"}' '{"prompt": "A"}' '{"prompt": "Never give up, never", "seed": 41}' \
  '{"prompt": "Q"}' > "$work/prompts.jsonl"
"$apps/generate_batch" --checkpoint "$work/birdie" --input "$work/prompts.jsonl" --output "$work/completions.jsonl" \
  --batch 3 --max-tokens 10 --temperature 0.9 --top-k 40 --top-p 0.95 --seed 7 2> "$work/generate_batch.log"
cat "$work/generate_batch.log" "$work/completions.jsonl"
grep -q "4 prompts in batches of 3" "$work/generate_batch.log"
python3 - "$work/completions.jsonl" "$apps/generate" "$work/birdie" <<'PY'
import json, subprocess, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert [l["prompt"] for l in lines] == ["The fortune says", "A", "Never give up, never", "Q"], lines
for i, (line, seed) in enumerate(zip(lines, [7, 8, 41, 10])):
  assert 1 <= line["tokens"] <= 10 and line["stopped"] in ("eos", "length"), line
  alone = subprocess.run([sys.argv[2], "--checkpoint", sys.argv[3], "--prompt", line["prompt"], "--max-tokens", "10",
                          "--temperature", "0.9", "--top-k", "40", "--top-p", "0.95", "--seed", str(seed)],
                         check=True, capture_output=True, text=True).stdout
  assert alone == line["completion"] + "\n", (i, alone, line)
PY
printf '%s\n' '{"prompt": "fine"}' '{"text": "no prompt"}' > "$work/bad_prompts.jsonl"
refused 'bad_prompts.jsonl:2: each line must be an object with a string "prompt"' \
  "$apps/generate_batch" --checkpoint "$work/birdie" --input "$work/bad_prompts.jsonl" --output "$work/bad.jsonl"
test ! -e "$work/bad.jsonl"
refused "top-p must be in (0, 1]" "$apps/generate_batch" --checkpoint "$work/birdie" --input "$work/prompts.jsonl" \
  --output "$work/bad.jsonl" --top-p 1.5

step "checkpoint_parity: the checkpoint's logits in fp32 against bf16 emulation on the CPU"
"$apps/checkpoint_parity" "$work/birdie" --device cpu --rows 2 --seq 64 | tee "$work/parity.log"
grep -q "PASSED" "$work/parity.log"
refused "needs a positive number" "$apps/checkpoint_parity" "$work/birdie" --device cpu --rows 0

step "a bad configuration is refused with exit code 2"
refused "unknown key 'model.width'" "$apps/pretrain" "${tiny[@]}" --set run.output="\"$work/bad\"" --set model.width=3

step "an unknown precision is refused with exit code 2"
refused 'run.precision must be' "$apps/pretrain" "${tiny[@]}" --set run.output="\"$work/bad\"" --set run.precision=fp16

step "the planning tools read a run configuration and its model configuration alike"
test "$("$apps/memory_plan" configs/paper-1.4b.toml | tail -1)" = "$("$apps/memory_plan" configs/model/paper.toml | tail -1)"
step "memory_plan per rank: ZeRO-1 over 8 ranks keeps an eighth of the moments (8P/8 bytes) and a gradient shard"
python3 - "$("$apps/memory_plan" configs/model/paper.toml | grep moments)" \
  "$("$apps/memory_plan" configs/model/paper.toml --ranks 8 --zero 1 | grep moments)" <<'PY'
import sys
whole, shard = (float(line.split()[-2]) for line in sys.argv[1:3])
assert abs(shard - whole / 8) < 0.01, (whole, shard)
PY
"$apps/step_bench" --model configs/tiny-cpu.toml --rows 1 --seq 128 --steps 1 --warmup 0 --precision bf16
# Accumulated micro-batches: twice the tokens a step, the same mean loss (the first step's,
# before any update), and a count of 0 refused.
"$apps/step_bench" --model configs/model/tiny.toml --rows 1 --seq 128 --steps 1 --warmup 0 > "$work/step1.txt"
"$apps/step_bench" --model configs/model/tiny.toml --rows 1 --seq 128 --steps 1 --warmup 0 --accumulate 2 \
  > "$work/step2.txt"
grep -q "1 x 128 tokens x 2 micro-batches accumulated" "$work/step2.txt"
[ "$(grep -o 'loss [0-9.]*' "$work/step1.txt")" = "$(grep -o 'loss [0-9.]*' "$work/step2.txt")" ] ||
  { echo "step_bench --accumulate 2 changed the loss"; cat "$work/step1.txt" "$work/step2.txt"; exit 1; }
refused "needs a positive number" "$apps/step_bench" --model configs/model/tiny.toml --accumulate 0
for model in tiny hawk-tiny transformer-tiny; do
  "$apps/decode_bench" --model "configs/model/$model.toml" --batches 1,3 --tokens 4 --prompt 8 --bandwidth 10 \
    --json "$work/decode_$model.json"
  python3 -c "import json, sys; r = json.load(open(sys.argv[1])); assert len(r['runs']) == 2 and \
all(x['tokens_per_s'] > 0 for x in r['runs']), r" "$work/decode_$model.json"
done

step "end-to-end: all checks passed"
