#!/usr/bin/env bash
# pretrain --resume when the newest checkpoint is damaged or incomplete: the checkpoint
# files truncated, changed or removed at random offsets (a fixed seed), the DONE marker
# lost or garbled. Each time the run names what is wrong, falls back to the newest good
# checkpoint with a warning, keeps the damaged one (set aside as step_N.damaged, byte for
# byte as it was) and continues exactly as an uninterrupted run; two damaged checkpoints
# fall back two; none good is exit 2 naming each, with nothing moved; keep_checkpoints = 1
# is refused; an evaluator given the run folder uses the newest good checkpoint too.
#   tests/checkpoint_fallback.sh BUILD_DIR SOURCE_DIR [SEED]
source "$(dirname "$0")/support/small_run.sh"
RANDOM=${3:-29}
run=("${run[@]/schedule.keep_checkpoints=0/schedule.keep_checkpoints=3}")

step "the reference: 8 steps in one job; the base: 6 steps (checkpoints 2, 4, 6)"
"$apps/pretrain" "${run[@]}" --set run.output="\"$work/reference\"" > /dev/null
"$apps/pretrain" "${run[@]}" --set run.output="\"$work/base\"" --stop-after-steps 6 > /dev/null
ls "$work/base/checkpoints"

# same_losses RUN: the run's metrics equal the reference's, step for step.
same_losses() {
  python3 - "$work/reference/metrics.jsonl" "$1/metrics.jsonl" <<'PY'
import json, sys
a, b = ([(r["step"], r.get("loss"), r.get("grad_norm")) for r in map(json.loads, open(p))] for p in sys.argv[1:])
assert a == b and len(a) == 8, f"the resumed run differs from the uninterrupted one:\n{a}\n{b}"
PY
}

# damage KIND FOLDER: damages one checkpoint folder; prints what the warning must say.
damage() {
  local kind=$1 folder=$2 file size offset
  case $kind in
    truncate-model|truncate-state|flip-model|flip-state|extend-state|cut-header)
      file=$folder/model.safetensors
      case $kind in *state) file=$folder/training_state.safetensors ;; esac
      size=$(stat -c %s "$file")
      offset=$(( (RANDOM * 32768 + RANDOM) % size ))
      case $kind in
        truncate-*) truncate -s "$offset" "$file"; echo "(truncated)" ;;
        flip-*)
          printf "\\x$(printf %02x $(( ($(od -An -tu1 -j "$offset" -N1 "$file") + 1 + RANDOM % 255) % 256 )))" |
            dd of="$file" bs=1 seek="$offset" conv=notrunc status=none
          echo "does not match the checksum DONE records" ;;
        extend-*) head -c $((1 + RANDOM % 100)) /dev/urandom >> "$file"; echo "(longer than written)" ;;
        cut-header) printf '\xff\xff\xff\xff' | dd of="$file" bs=1 seek=$((RANDOM % 8)) conv=notrunc status=none
          echo "does not match the checksum DONE records" ;;
      esac ;;
    no-done) rm "$folder/DONE"; echo "no DONE marker" ;;
    garbled-done) printf 'compl\x00te\n' > "$folder/DONE"; echo "is not a DONE marker" ;;
    lost-file) rm "$folder/training_state.safetensors"; echo "training_state.safetensors is missing" ;;
  esac
}

for kind in truncate-model truncate-state flip-model flip-state extend-state cut-header no-done garbled-done lost-file; do
  step "the newest checkpoint damaged: $kind"
  case_dir=$work/case-$kind
  cp -a "$work/base" "$case_dir"
  newest=$case_dir/checkpoints/step_00000006
  expected=$(damage "$kind" "$newest")
  (cd "$newest" && find . -type f -exec sha256sum {} + | sort -k2) > "$work/damaged.sums"
  "$apps/pretrain" "${run[@]}" --set run.output="\"$case_dir\"" --resume > "$work/out.log" 2> "$work/err.log"
  cat "$work/err.log"
  grep -q "warning: checkpoint $newest is damaged or incomplete: .*$expected" "$work/err.log"
  grep -q "Falling back to an earlier checkpoint; the damaged one is kept as $newest.damaged" "$work/err.log"
  grep -q "resume: continuing from $case_dir/checkpoints/step_00000004 (step 4)" "$work/out.log"
  (cd "$newest.damaged" && find . -type f -exec sha256sum {} + | sort -k2) | diff - "$work/damaged.sums"
  same_losses "$case_dir"
  test -f "$case_dir/checkpoints/step_00000008/DONE"
  rm -rf "$case_dir"
done

step "the two newest damaged: back to step 2"
case_dir=$work/case-two
cp -a "$work/base" "$case_dir"
damage truncate-model "$case_dir/checkpoints/step_00000006" > /dev/null
damage no-done "$case_dir/checkpoints/step_00000004" > /dev/null
"$apps/pretrain" "${run[@]}" --set run.output="\"$case_dir\"" --resume > "$work/out.log" 2> "$work/err.log"
test "$(grep -c "is damaged or incomplete" "$work/err.log")" -eq 2
grep -q "continuing from $case_dir/checkpoints/step_00000002 (step 2)" "$work/out.log"
test -d "$case_dir/checkpoints/step_00000006.damaged" && test -d "$case_dir/checkpoints/step_00000004.damaged"
same_losses "$case_dir"

step "an evaluator given the run folder passes over a damaged newest checkpoint too"
damage flip-model "$case_dir/checkpoints/step_00000008" > /dev/null
"$apps/generate" --checkpoint "$case_dir" --prompt "the" --max-tokens 4 > /dev/null 2> "$work/err.log"
grep -q "warning: checkpoint $case_dir/checkpoints/step_00000008 is damaged or incomplete: .*checksum.*Using $case_dir/checkpoints/step_00000006 instead" \
  "$work/err.log"
test -d "$case_dir/checkpoints/step_00000008"  # an evaluator moves nothing

step "none good: exit 2, each one named, nothing moved"
case_dir=$work/case-none
cp -a "$work/base" "$case_dir"
for s in 2 4 6; do damage "$(echo truncate-state flip-model no-done | cut -d' ' -f$((s / 2)))" "$case_dir/checkpoints/step_0000000$s" > /dev/null; done
set +e
"$apps/pretrain" "${run[@]}" --set run.output="\"$case_dir\"" --resume > /dev/null 2> "$work/err.log"
status=$?
set -e
cat "$work/err.log"
test "$status" -eq 2
grep -q "no good checkpoint in $case_dir/checkpoints" "$work/err.log"
for s in 2 4 6; do grep -q "step_0000000$s: " "$work/err.log"; test -d "$case_dir/checkpoints/step_0000000$s"; done
test -z "$(find "$case_dir/checkpoints" -name '*.damaged')"

step "keep_checkpoints = 1 is refused: there would be nothing to fall back to"
set +e
"$apps/pretrain" "${run[@]}" --set run.output="\"$work/one\"" --set schedule.keep_checkpoints=1 > /dev/null 2> "$work/err.log"
status=$?
set -e
cat "$work/err.log"
test "$status" -eq 2
grep -q "schedule.keep_checkpoints must be at least 2" "$work/err.log"
echo "checkpoint fallback: all cases passed"
