#!/usr/bin/env bash
# gpu_check's evaluators stage without a GPU: scripts/gpu_check/evaluations.sh with the CPU
# as the tested device too (a tiny Gated SSM, a few steps), so every evaluator runs in both
# precisions and compare_evaluations.py must find every pair within bounds (the CPU against
# itself: the same outputs); then one tested result changed (the phone book's answers) must
# fail its row, and a missing reference must fail too.
#   tests/gpu_check_evaluations.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAILED: $*" >&2; exit 1; }

"$build/apps/prepare_data" --out "$work/data" --vocab 1024 > "$work/prepare.log"
EVALUATIONS_ARCHITECTURES=gated_ssm EVALUATIONS_TRAIN_STEPS=5 \
  bash "$source_dir/scripts/gpu_check/evaluations.sh" "$build" "$work/data" "$work/run" cpu > "$work/out.txt" 2>&1 ||
  { cat "$work/out.txt" >&2; fail "evaluations.sh, the CPU against itself"; }
cat "$work/out.txt"
[ "$(grep -cE '^gated_ssm +[a-z]+ +(fp32|bf16) .* ok$' "$work/out.txt")" -eq 10 ] ||
  fail "wanted 10 comparisons within bounds (5 evaluators, 2 precisions)"

compare="$source_dir/scripts/gpu_check/compare_evaluations.py"
results="$work/run/results"
python3 - "$results/gated_ssm.phonebook.tested.fp32.json" <<'PY'
import json, sys
result = json.load(open(sys.argv[1]))
for case in result["cases"]:
    case["generated"] = "000-000-0000"
json.dump(result, open(sys.argv[1], "w"))
PY
if python3 "$compare" "$results" > "$work/changed.txt"; then fail "a changed result passed the comparison"; fi
grep -qE '^gated_ssm +phonebook +fp32 +0/[0-9]+ .*FAILED: outputs equal 0.00' "$work/changed.txt" ||
  { cat "$work/changed.txt" >&2; fail "no FAILED row for the changed phone-book answers"; }
[ "$(grep -c 'FAILED' "$work/changed.txt")" -eq 1 ] || { cat "$work/changed.txt" >&2; fail "other rows failed too"; }

rm "$results/gated_ssm.qa.reference.bf16.json"
if python3 "$compare" "$results" > "$work/missing.txt"; then fail "a missing reference passed the comparison"; fi
grep -qE '^gated_ssm +qa +bf16 .*FAILED: no reference result' "$work/missing.txt" ||
  { cat "$work/missing.txt" >&2; fail "no FAILED row for the missing reference"; }
echo "gpu_check evaluators: the CPU against itself within bounds; a changed and a missing result fail"
