#!/usr/bin/env bash
# Writes the seed inputs of the fuzz harnesses that the repository has no fixture for into
# tests/fuzz/seeds/<harness>/: the outputs of the project's own programs on a small corpus
# (prepare_data: a manifest, token shards, a tokenizer; pretrain: its logs and checkpoint
# files) and a few hand-written lines. They are kept in the repository; run this again
# (then commit) when a format changes. Needs the zstd program (apt-get install zstd).
#   bash tests/fuzz/make_seeds.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
cd "$(dirname "$0")/../.."
seeds=tests/fuzz/seeds
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$work/corpus.jsonl" <<'PY'
import json, random, sys
r = random.Random(1)
words = ("the a of and to in is was he for it with as his on be at by had are but from or have an they which one you "
         "were her all she there would their we him been has when who will more no if out so said what up its about "
         "into than them can only other new some could time these two may then do first any my now").split()
with open(sys.argv[1], "w") as f:
    for i in range(3000):
        text = " ".join(r.choice(words) for _ in range(r.randint(20, 120)))
        text += f"\nCall 555-{r.randint(0, 999):03d}-{r.randint(0, 9999):04d}.\n"
        f.write(json.dumps({"text": text, "id": i}) + "\n")
PY
"$build/apps/prepare_data" --corpus "$work/corpus.jsonl" --out "$work/data" --vocab 512 > /dev/null
"$build/apps/prepare_data" --corpus "$work/corpus.jsonl" --out "$work/small_shards" --vocab 512 --shard-tokens 200 > /dev/null
"$build/apps/pretrain" --config configs/tiny-cpu.toml --set data.path="\"$work/data\"" --set run.output="\"$work/run\"" \
  --set model.vocab=512 --set model.dim=4 --set model.state=4 --set model.layers=1 --set model.tie_embeddings=true \
  --set batch.sequence_length=64 --set batch.rows=1 --set batch.min_pack_tokens=16 --set schedule.steps=3 \
  --set schedule.log_every=1 --set schedule.checkpoint_every=3 --set optimizer.warmup_steps=1 \
  --set objectives.mixture=uniform --set objectives.validation_samples=1 \
  --set objectives.grid="\"configs/objectives/micro_grid.toml\"" > /dev/null

rm -rf "$seeds"
mkdir -p "$seeds"/{token_shard,manifest,tokenizer,corpus_jsonl,corpus_jsonl_zst,run_logs,safetensors,done_marker,experiment_state,phonebook_cases}
cp "$work/small_shards/train_00000.bin" "$work/small_shards/validation_00000.bin" "$seeds/token_shard/"
cp "$work/data/manifest.json" "$seeds/manifest/"
cp "$work/data/tokenizer.model" "$seeds/tokenizer/"
head -c 6000 "$work/corpus.jsonl" | head -n -1 > "$seeds/corpus_jsonl/corpus.jsonl"
printf '{"text": "caf\\u00e9 \\ud83d\\ude42 \\n tab\\t"}\n\n  \n{"text": ""}\n{"id": 3}\n[1, 2]\n{"text": 5}\n{"text": "last line without a newline"}' \
  > "$seeds/corpus_jsonl/odd_lines.jsonl"
for f in "$seeds"/corpus_jsonl/*.jsonl; do zstd -q -19 "$f" -o "$seeds/corpus_jsonl_zst/$(basename "$f").zst"; done
head -n 3 "$work/run/metrics.jsonl" > "$seeds/run_logs/metrics.jsonl"
printf '{"step":4,"skipped":true}\n' >> "$seeds/run_logs/metrics.jsonl"
cp "$work/run/evaluations.jsonl" "$seeds/run_logs/evaluations.jsonl"
cp "$work/run/checkpoints/step_00000003/training_state.safetensors" "$seeds/safetensors/"
cp "$work/run/checkpoints/step_00000003/model.safetensors" "$seeds/safetensors/"
cp "$work/run/checkpoints/step_00000003/DONE" "$seeds/done_marker/DONE"
printf 'complete\n' > "$seeds/done_marker/DONE-without-checksums"
printf '{\n  "pretrain": 812.5,\n  "evaluate": 95.25,\n  "validation": 12\n}\n' > "$seeds/experiment_state/experiment_state.json"
printf '{\n  "pretrain": 3.5\n}\n' > "$seeds/experiment_state/after_pretrain.json"
cat > "$seeds/phonebook_cases/cases.jsonl" <<'JSONL'
{"prompt": "Ann Lee: 123-456-7890\nWhat is Ann Lee's number?", "answer": "123-456-7890", "entries": 1}
{"prompt": "Bo Li: 000-111-2222\nCy Ho: 333-444-5555\nNumbers of Bo Li and Cy Ho?", "answer": "000-111-2222, 333-444-5555", "entries": 2, "queries": 2}
{"prompt": "word word", "answer": "123-456-7890"}
JSONL
du -sh "$seeds"
