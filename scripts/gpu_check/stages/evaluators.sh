# shellcheck shell=bash
# evaluators: phonebook_eval and mqar_eval (each with fine-tuning), qa_eval, choice_eval and
# generate --mode ntp on the GPU against the same commands on the CPU, in fp32 and in bf16,
# on a tiny checkpoint of each architecture trained there on the GPU
# (scripts/gpu_check/evaluations.sh; compare_evaluations.py's bounds). Writes
# evaluators.txt: the training lines, the runs' timings and the comparison table.

stage_evaluators() {
  local apps=(pretrain phonebook_eval mqar_eval qa_eval choice_eval generate) report=${result[evaluators]} output
  built evaluators "${apps[@]/#/$build/apps/}" || return 1
  prepared_data evaluators || return 1
  if ! gpu_visible; then no_gpu_row evaluators "cpu against cuda"; return 0; fi
  out_of_time evaluators "cpu against cuda" && return 1
  output="$logs/evaluators.txt"
  run_step evaluators "cpu against cuda" "$(cap "$stage_limit")" "$output" \
    bash "$here/evaluations.sh" "$build" "$pretrain_data" "$logs/evaluators" cuda
  { cat "$output"; echo; echo "=== each run's time"; cat "$logs/evaluators/logs/timings.txt" 2> /dev/null; } > "$report"
  step_row evaluators "cpu against cuda" "$output" \
    "$(grep -c ' ok$' "$output") comparisons within bounds; $(grep -m 1 'evaluator runs' "$output")"
}
