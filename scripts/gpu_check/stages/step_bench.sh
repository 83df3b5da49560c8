# shellcheck shell=bash
# step_bench: apps/init_bench initialises the paper Gated SSM on the GPU (its weights
# against the CPU's fingerprint), then apps/step_bench times bf16 training steps of each
# model of GPU_CHECK_STEP_BENCH_MODELS (configs/model/<name>.toml; default: the three
# architectures at small and base 8x2048 and paper 4x2048): 1 warm-up + 3 steps, with
# --host-times at small and paper, batch-1 generation at base, and Birdie's own cost
# (--evaluation) for the paper Gated SSM, each under its own cap; then the paper Gated SSM
# at the paper's batch (--accumulate 130, 1 warm-up + 1 step), and then each variant of
# GPU_CHECK_STEP_BENCH_VARIANTS: MODEL:VARIABLE=VALUE, that model's step once more with
# that environment (e.g. "paper:BIRDIE_SCAN_KERNEL=one_pass_tile64
# hawk-base:BIRDIE_RGLRU_KERNEL=one_pass"; default none), so that a kernel measured faster
# alone is measured in the step too. The rows hold the step time, tokens/s, MFU and peak
# memory. Writes step_bench.txt: each run's output, clipped.

step_bench_run_cap=70
# shellcheck disable=SC2206  # names split at spaces
step_bench_models=(${GPU_CHECK_STEP_BENCH_MODELS:-small base paper hawk-small hawk-base hawk-paper
                   transformer-small transformer-base transformer-paper})
# shellcheck disable=SC2206
step_bench_variants=(${GPU_CHECK_STEP_BENCH_VARIANTS:-})

# The figures of a step_bench output, for its summary row.
step_figures() {
  grep -oE 'median [0-9.]+ ms|[0-9]+ tokens/s|MFU [0-9.]+%|memory in use: [0-9.]+ GiB' "$1" | paste -sd ',' | sed 's/,/, /g'
}

stage_step_bench() {
  built step_bench "$build/apps/step_bench" || return 1
  local report=${result[step_bench]}
  gpu_report step_bench "${step_bench_models[*]}" || return 0
  local model nrows name file figures options
  # The paper model's initialization on the GPU: time, and the CPU's weights bit for bit.
  if [[ " ${step_bench_models[*]} " == *" paper "* ]] && [ -x "$build/apps/init_bench" ] &&
     ! out_of_time step_bench "init paper"; then
    file="$logs/init_bench_paper.txt"
    run_step step_bench "init paper (cuda)" "$(cap "$step_bench_run_cap")" "$file" "$build/apps/init_bench" \
      "$repo/configs/model/paper.toml" --device cuda --seed 1234 --expect 0xbd54c068eaf0f725
    clip_step "$report" "init paper (cuda)" "$file" 20 10
    step_row step_bench "init paper (cuda)" "$file" "$(tail -n 1 "$file" | cut -c1-160)"
  fi
  for model in "${step_bench_models[@]}"; do
    nrows=8 options=()
    case $model in
      *small) options=(--host-times) ;;  # where the host spends the step
      *base) options=(--generate 256) ;;  # batch-1 decoding tokens/s
      *paper) nrows=4 options=(--host-times) ;;
    esac
    [ "$model" = paper ] && options+=(--evaluation)  # Birdie's own cost at the paper schedule
    name="$model ${nrows}x2048 bf16"
    out_of_time step_bench "$name" && continue
    file="$logs/step_bench_$model.txt"
    run_step step_bench "$name" "$(cap "$step_bench_run_cap")" "$file" "${line_buffered[@]}" "$build/apps/step_bench" \
      --model "$repo/configs/model/$model.toml" --rows "$nrows" --seq 2048 --device cuda \
      --precision bf16 --warmup 1 --steps 3 "${options[@]}"
    clip_step "$report" "$name" "$file" 70 20
    figures=$(grep -oE 'median [0-9.]+ ms|[0-9]+ tokens/s|MFU [0-9.]+%|memory in use: [0-9.]+ GiB|decoded at [0-9]+ tokens/s|[0-9.]+% of training wall time' "$file" | paste -sd ',' | sed 's/,/, /g')
    step_row step_bench "$name" "$file" "$figures"
  done
  # The paper step at the paper's batch: 130 micro-batches of 4x2048 accumulated before one
  # AdamW (configs/paper-1.4b.toml), so AdamW's share is that of training (about 20 s a step).
  if [[ " ${step_bench_models[*]} " == *" paper "* ]] && ! out_of_time step_bench "paper 4x2048 x130 bf16"; then
    name="paper 4x2048 x130 bf16"
    file="$logs/step_bench_paper_accumulate.txt"
    run_step step_bench "$name" "$(cap "$step_bench_run_cap")" "$file" "${line_buffered[@]}" "$build/apps/step_bench" \
      --model "$repo/configs/model/paper.toml" --rows 4 --seq 2048 --accumulate 130 --device cuda \
      --precision bf16 --warmup 1 --steps 1
    clip_step "$report" "$name" "$file" 30 10
    step_row step_bench "$name" "$file" "$(step_figures "$file")"
  fi
  local variant setting
  for variant in "${step_bench_variants[@]}"; do
    model=${variant%%:*} setting=${variant#*:} nrows=8
    if [ "$model" = "$variant" ] || [[ $setting != *=* ]]; then
      record step_bench "$variant" FAILED - "GPU_CHECK_STEP_BENCH_VARIANTS: not MODEL:VARIABLE=VALUE"
      continue
    fi
    [[ $model == *paper ]] && nrows=4
    name="$model ${nrows}x2048 bf16, $setting"
    out_of_time step_bench "$name" && continue
    file="$logs/step_bench_${model}_${setting//[^A-Za-z0-9_]/_}.txt"
    run_step step_bench "$name" "$(cap "$step_bench_run_cap")" "$file" env "$setting" \
      "${line_buffered[@]}" "$build/apps/step_bench" --model "$repo/configs/model/$model.toml" --rows "$nrows" \
      --seq 2048 --device cuda --precision bf16 --warmup 1 --steps 3
    clip_step "$report" "$name" "$file" 30 10
    step_row step_bench "$name" "$file" "$(step_figures "$file")"
  done
}
