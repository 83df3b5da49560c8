# shellcheck shell=bash
# resume: the training step's decisions on the device (AdamW's clip factor and its
# non-finite check) keep pretrain exact on cuda. configs/tiny-cpu.toml on cuda, Birdie
# mixture, 12 steps in one job, then the same run cut after step 5 and resumed: the logged
# losses, gradient norms and mixtures must be equal bit for bit. Then an lr of 1e30: steps
# 2-4 are non-finite, skipped on the device, and the third in a row stops the run with exit
# 3. Writes no result file (the runs are in the logs folder).

stage_resume() {
  built resume "$build/apps/pretrain" || return 1
  local vocab args t0
  prepared_data resume || return 1
  if ! gpu_visible; then no_gpu_row resume "cut and resumed on cuda"; return 0; fi
  t0=$SECONDS
  args=(--config "$repo/configs/tiny-cpu.toml" --set 'run.device="cuda"' --set "data.path=\"$pretrain_data\""
        --set "model.vocab=$vocab" --set schedule.steps=12 --set schedule.log_every=1 --set schedule.checkpoint_every=100
        --set optimizer.warmup_steps=2 --set objectives.validation_samples=1)
  rm -rf "$logs/resume-one" "$logs/resume-cut" "$logs/resume-diverged"
  run_step resume "12 steps in one job" "$(cap 40)" "$logs/resume_one.txt" \
    "$build/apps/pretrain" "${args[@]}" --set "run.output=\"$logs/resume-one\""
  [ "$step_rc" -eq 0 ] || { step_row resume "12 steps in one job" "$logs/resume_one.txt"; return 1; }
  run_step resume "5 steps" "$(cap 40)" "$logs/resume_cut.txt" \
    "$build/apps/pretrain" "${args[@]}" --set "run.output=\"$logs/resume-cut\"" --stop-after-steps 5
  [ "$step_rc" -eq 0 ] || { step_row resume "5 steps" "$logs/resume_cut.txt"; return 1; }
  run_step resume "--resume" "$(cap 40)" "$logs/resume_resumed.txt" \
    "$build/apps/pretrain" "${args[@]}" --set "run.output=\"$logs/resume-cut\"" --resume
  [ "$step_rc" -eq 0 ] || { step_row resume "--resume" "$logs/resume_resumed.txt"; return 1; }
  if python3 - "$logs/resume-one" "$logs/resume-cut" <<'PY'
import json, sys
def read(folder, name, keys):
    return [[json.loads(line).get(k) for k in keys] for line in open(f"{folder}/{name}")]
for name, keys in [("metrics.jsonl", ["step", "loss", "grad_norm"]), ("evaluations.jsonl", ["step", "mixture"])]:
    one, cut = read(sys.argv[1], name, keys), read(sys.argv[2], name, keys)
    if not one or one != cut:
        sys.exit(f"{name}: the resumed run differs from one job")
PY
  then
    record resume "cut at 5 and resumed" ok $((SECONDS - t0)) "12 steps: the same losses, gradient norms and mixtures as one job, bit for bit"
  else
    record resume "cut at 5 and resumed" FAILED $((SECONDS - t0)) "the logged losses, gradient norms or mixtures differ from one job's"
  fi
  run_step resume "lr 1e30" "$(cap 40)" "$logs/resume_diverged.txt" \
    "$build/apps/pretrain" "${args[@]}" --set "run.output=\"$logs/resume-diverged\"" --set 'objectives.mixture="ntp"' \
    --set optimizer.lr=1e30 --set schedule.max_bad_steps=3
  if [ "$step_rc" -eq 3 ] && grep -q "3 non-finite steps in a row at step 4: stopping" "$logs/resume_diverged.txt"; then
    record resume "non-finite steps skipped" ok "$step_secs" "lr 1e30: steps 2-4 skipped on the device, exit 3 at step 4"
  else
    record resume "non-finite steps skipped" FAILED "$step_secs" "exit $step_rc: $(tail -n 1 "$logs/resume_diverged.txt" | cut -c1-160)"
  fi
}
