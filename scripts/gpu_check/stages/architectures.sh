# shellcheck shell=bash
# architectures: Hawk and the Transformer at their "small" shape on the GPU: apps/step_bench
# bf16 8x2048 (tokens/s beside the step_bench stage's Gated SSM), 40 next-token steps of
# pretrain on the prepared data (configs/small-gpu.toml with the architecture's [model]
# table; the loss must fall), then apps/generate from that checkpoint (the decoders).
# Writes no result file (the outputs are in the logs folder).

architectures=(hawk transformer)  # each at configs/model/<name>-small.toml

stage_architectures() {
  built architectures "$build/apps/pretrain" "$build/apps/step_bench" "$build/apps/generate" || return 1
  local vocab arch run config output first last
  prepared_data architectures || return 1
  if ! gpu_visible; then no_gpu_row architectures "hawk and transformer"; return 0; fi
  for arch in "${architectures[@]}"; do
    out_of_time architectures "$arch" && return 1
    output="$logs/architectures_${arch}_bench.txt"
    run_step architectures "$arch step_bench" "$(cap 35)" "$output" \
      "$build/apps/step_bench" --model "$repo/configs/model/$arch-small.toml" --device cuda --precision bf16 \
      --rows 8 --seq 2048 --steps 3 --warmup 1
    record architectures "$arch step_bench" "$(ok_or_failed)" "$step_secs" "$(grep -m 1 -E 'step: median' "$output" | cut -c1-160)"

    config="$logs/architectures_$arch.toml"
    small_gpu_config_with_model "$repo/configs/model/$arch-small.toml" "$config"
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

    output="$logs/architectures_${arch}_generate.txt"
    run_step architectures "$arch generate" "$(cap 30)" "$output" \
      "$build/apps/generate" --checkpoint "$run" --prompt "The" --max-tokens 32 --device cuda
    record architectures "$arch generate" "$(ok_or_failed)" "$step_secs" "$(head -n 1 "$output" | cut -c1-160)"
  done
}

ok_or_failed() { if [ "$step_rc" -eq 0 ]; then echo ok; else echo FAILED; fi; }

# small_gpu_config_with_model MODEL_TOML OUT: configs/small-gpu.toml with MODEL_TOML's
# [model] table in place of its own.
small_gpu_config_with_model() {
  python3 - "$repo/configs/small-gpu.toml" "$1" "$2" <<'PY'
import re, sys
run, model, out = (open(p).read() if i < 2 else p for i, p in enumerate(sys.argv[1:]))
table = re.search(r"^\[model\]\n.*?(?=^\[|\Z)", model, re.S | re.M).group(0)
open(out, "w").write(re.sub(r"^\[model\]\n.*?(?=^\[)", table.rstrip("\n") + "\n\n", run, count=1, flags=re.S | re.M))
PY
}
