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
# Phone books: a brief fine-tune on small books (the paper's protocol scaled down: names
# split from the evaluation's), with the held-out accuracy before and after it.
"$apps"/phonebook_eval --checkpoint "$run" --entries 2,4 --queries 1 --books 4 --finetune-steps 60 \
  --finetune-entries 2,8 --finetune-queries 1,2 --split-names --curve-every 20 --curve-books 8 \
  --json "$run/phonebook.json"
"$apps"/generate --checkpoint "$run" --prompt "A fortune for today:" --max-tokens 32 --temperature 0.8

cat <<EOM

Run folder: $run
  plot         $run/plot.svg  (losses, and the mixture's class probabilities over training)
  metrics      $run/metrics.jsonl, $run/evaluations.jsonl
  phone book   $run/phonebook.json
  checkpoints  $run/checkpoints
EOM
