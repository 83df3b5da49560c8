#!/usr/bin/env bash
# The run command: installs what is missing, builds, prepares the demo corpus (fortunes,
# from a Debian package), pretrains the tiny Gated SSM with Birdie on the CPU for a few
# minutes, fine-tunes it briefly on phone books and evaluates it (accuracy before and
# after, against random guessing), and says where the plot and the metrics are.
# Run it again to continue an interrupted run (it resumes from the last checkpoint).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
apps=${BUILD_DIR:-build}/apps
run=runs/tiny-cpu

# Prepared again when missing or made by older tokenizer rules (no "tokenizer_rules": 2 in
# the manifest), which pretrain refuses; a run trained on the old tokens is set aside.
if ! grep -qs '"tokenizer_rules": 2' data_out/fortunes/manifest.json; then
  if [ -f data_out/fortunes/manifest.json ] && [ -d "$run" ]; then mv "$run" "$run.old-tokenizer-$(date +%s)"; fi
  "$apps"/prepare_data --corpus fortunes --out data_out/fortunes
fi
"$apps"/pretrain --config configs/tiny-cpu.toml --resume "$@"
# Phone books: fine-tuned on books of one entry (find the one number asked for and copy it
# out after the question; names split from the evaluation's), then evaluated on held-out
# books of 1 and 2 entries, with the held-out accuracy along the way.
"$apps"/phonebook_eval --checkpoint "$run" --entries 1,2 --queries 1 --books 16 --finetune-steps 600 \
  --finetune-entries 1,1 --finetune-queries 1,1 --split-names --curve-every 100 --curve-books 16 \
  --curve-entries 1 --curve-queries 1 --json "$run/phonebook.json"
"$apps"/generate --checkpoint "$run" --prompt "A fortune for today:" --max-tokens 32 --temperature 0.8

retrieval=$(python3 - "$run/phonebook.json" <<'PY'
import json, sys
table = json.load(open(sys.argv[1]))["table"]
print(", ".join("%d-entry books %.2f" % (row["entries"], row["accuracy"]) for row in table))
PY
)

cat <<EOM

Phone-book digit accuracy after fine-tuning: $retrieval (random guessing: 0.10)
Run folder: $run
  plot         $run/plot.svg  (losses, and the mixture's class probabilities over training)
  metrics      $run/metrics.jsonl, $run/evaluations.jsonl
  phone book   $run/phonebook.json
  checkpoints  $run/checkpoints
EOM
