# shellcheck shell=bash
# pretrain: starts apps/pretrain on configs/small-gpu.toml (Birdie mixture) on the prepared
# data in the background for GPU_CHECK_PRETRAIN_SECONDS, beside the later stages; the
# driver calls pretrain_finish after them: the run must show a falling loss, an evaluation
# and a checkpoint, which apps/checkpoint_parity then loads on the CPU (its logits against
# the GPU's). Writes pretrain.txt: the run's output, clipped, and checkpoint_parity's.

# GPU_CHECK_PRETRAIN_SECONDS makes pretrain write its checkpoint and exit 130, as an
# interrupted run does.
pretrain_seconds=${GPU_CHECK_PRETRAIN_SECONDS:-130}
pretrain_run="$logs/pretrain-run"
pretrain_stdout="$logs/pretrain_stdout.txt"
pretrain_pid=""  # the background run (finish stops it if the script ends first)
pretrain_t0=0
pretrain_secs=0

stage_pretrain() {
  built pretrain "$build/apps/pretrain" "$build/apps/checkpoint_parity" || return 1
  local vocab budget_left
  prepared_data pretrain ": prepare_data --corpus fortunes --out data_out/fortunes here, and carry data_out/fortunes" || return 1
  if ! gpu_visible; then no_gpu_row pretrain "small, Birdie mixture"; return 0; fi
  # Leave the checkpoint check its minute inside the run's budget.
  budget_left=$((budget_end - SECONDS - 60))
  pretrain_secs=$((pretrain_seconds < budget_left ? pretrain_seconds : budget_left))
  if [ "$pretrain_secs" -lt 30 ]; then
    record pretrain "-" TIMEOUT - "not started: $budget_left s of the run's budget left, under the 30 s a run needs"
    return 1
  fi
  rm -rf "$pretrain_run"
  local args=(--config "$repo/configs/small-gpu.toml" --set "data.path=$pretrain_data" --set "model.vocab=$vocab"
              --set "run.output=$pretrain_run" --set schedule.steps=3000 --set schedule.log_every=25
              --set schedule.checkpoint_every=100000 --set optimizer.warmup_steps=100 --set batch.workers=6)
  log_note ""
  log_note "=== [pretrain] in the background for $pretrain_secs s ($(date -u +%T)): pretrain ${args[*]}"
  # --foreground: the SIGINT goes to pretrain alone, once (a second one means "exit at once").
  timeout --foreground --preserve-status -s INT -k 30 "$pretrain_secs" "${line_buffered[@]}" "$build/apps/pretrain" "${args[@]}" \
    < /dev/null > "$pretrain_stdout" 2>&1 &
  pretrain_pid=$!
  pretrain_t0=$SECONDS
  record pretrain "start ($pretrain_secs s, background)" ok 0 "configs/small-gpu.toml, Birdie mixture, $(basename "$pretrain_data") (vocab $vocab), beside the sanitizers"
}

pretrain_finish() {
  [ -n "$pretrain_pid" ] || return 0
  current_stage=pretrain current_step="train" current_pid=$pretrain_pid current_t0=$pretrain_t0
  current_limit=$pretrain_secs
  wait "$pretrain_pid"
  local rc=$? secs=$((SECONDS - pretrain_t0)) first last evaluations checkpoint="" d verdict=ok
  current_pid="" pretrain_pid=""
  tail -n "$log_tail_ok" "$pretrain_stdout" | cut -c1-400 >> "$log"
  log_note "(exit status $rc after $secs s)"
  step_losses "$pretrain_stdout"
  evaluations=$(grep -c '^evaluation @' "$pretrain_stdout")
  for d in "$pretrain_run"/checkpoints/step_[0-9]*; do  # the last complete one
    [[ $d == *partial* ]] || checkpoint=$d
  done
  local detail="exit $rc; ${first:-no step logged} -> ${last:-none}; $evaluations evaluations; checkpoint ${checkpoint:+$(basename "$checkpoint")}"
  # 130: stopped by its SIGINT at the planned time (the checkpoint then written); 0: finished.
  if [ "$rc" -ne 130 ] && [ "$rc" -ne 0 ]; then verdict=FAILED
  elif [ -z "$checkpoint" ] || [ "$evaluations" -lt 1 ] || [ -z "$first" ] || ! loss_fell "$first" "$last"; then
    verdict=FAILED detail="$detail (wanted: a falling loss, an evaluation and a checkpoint)"
  fi
  record pretrain "train $secs s" "$verdict" "$secs" "$detail"
  { echo "=== pretrain: exit status $rc after $secs s"; clip "$pretrain_stdout" 40 60; echo; } > "${result[pretrain]}"
  [ -n "$checkpoint" ] || return 1
  local lim=60
  [ $((budget_end - SECONDS)) -lt "$lim" ] && lim=$((budget_end - SECONDS))
  if [ "$lim" -lt 5 ]; then
    record pretrain "checkpoint on the CPU" TIMEOUT - "not started: the run's budget of $budget s was spent"
    return 1
  fi
  stage_limit=$lim
  local output="$logs/checkpoint_parity.txt"
  run_step pretrain "checkpoint on the CPU" "$lim" "$output" "$build/apps/checkpoint_parity" "$checkpoint"
  { echo "=== checkpoint_parity: exit status $step_rc after $step_secs s"; cat "$output"; } >> "${result[pretrain]}"
  step_row pretrain "checkpoint on the CPU" "$output" "$(grep -m 1 'cpu fp32' "$output" | sed 's/^ *//' | cut -c1-160)"
}
