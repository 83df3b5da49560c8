# shellcheck shell=bash
# architectures: Hawk and the Transformer at their "small" shape on the GPU: 40 next-token
# steps of pretrain in bf16 on the prepared data (configs/small-gpu.toml with the
# architecture's [model] table; the loss must fall), that checkpoint's logits on the CPU
# against the GPU's (apps/checkpoint_parity: bf16 against fp32 within its tolerance), then
# apps/generate from it (the decoders). Their speed is the step_bench stage's. Writes no
# result file (the outputs are in the logs folder).

architectures=(hawk transformer)  # each at configs/model/<name>-small.toml

stage_architectures() {
  built architectures "$build/apps/pretrain" "$build/apps/checkpoint_parity" "$build/apps/generate" || return 1
  local vocab arch run config output first last
  prepared_data architectures || return 1
  if ! gpu_visible; then no_gpu_row architectures "hawk and transformer"; return 0; fi
  for arch in "${architectures[@]}"; do
    config="$logs/architectures_$arch.toml"
    python3 "$here/with_model.py" "$repo/configs/small-gpu.toml" "$repo/configs/model/$arch-small.toml" "$config"
    run="$logs/architectures-$arch"
    rm -rf "$run"
    out_of_time architectures "$arch pretrain" && return 1
    output="$logs/architectures_${arch}_pretrain.txt"
    run_step architectures "$arch pretrain" "$(cap 60)" "$output" \
      "$build/apps/pretrain" --config "$config" --set "data.path=\"$pretrain_data\"" --set "model.vocab=$vocab" \
      --set "run.output=\"$run\"" --set 'objectives.mixture="ntp"' --set schedule.steps=40 --set schedule.log_every=10 \
      --set optimizer.warmup_steps=5
    step_losses "$output"
    if [ "$step_rc" -ne 0 ] || [ -z "$last" ] || ! loss_fell "$first" "$last"; then
      record architectures "$arch pretrain" FAILED "$step_secs" "exit $step_rc; ${first:-no step} -> ${last:-none}"
      continue
    fi
    record architectures "$arch pretrain" ok "$step_secs" "$first -> $last"

    out_of_time architectures "$arch checkpoint on the CPU" && return 1
    output="$logs/architectures_${arch}_checkpoint_parity.txt"
    run_step architectures "$arch checkpoint on the CPU" "$(cap 60)" "$output" "$build/apps/checkpoint_parity" "$run"
    step_row architectures "$arch checkpoint on the CPU" "$output" \
      "$(grep -m 1 'cpu fp32' "$output" | sed 's/^ *//' | cut -c1-160)"

    out_of_time architectures "$arch generate" && return 1
    output="$logs/architectures_${arch}_generate.txt"
    run_step architectures "$arch generate" "$(cap 30)" "$output" \
      "$build/apps/generate" --checkpoint "$run" --prompt "The" --max-tokens 32 --device cuda
    step_row architectures "$arch generate" "$output" "$(head -n 1 "$output" | cut -c1-160)"
  done
}
