# shellcheck shell=bash
# step_bench: apps/init_bench initialises the paper model on the GPU (its weights against
# the CPU's fingerprint), then apps/step_bench times bf16 training steps of small 8x2048
# (--host-times), base 8x2048 (and batch-1 generation) and paper 4x2048 (--host-times and
# --evaluation), each under its own cap; the rows hold the step times, tokens/s and MFU.
# Writes step_bench.txt: each run's output, clipped.

step_bench_run_cap=70

stage_step_bench() {
  built step_bench "$build/apps/step_bench" || return 1
  local report=${result[step_bench]}
  : > "$report"
  if ! gpu_visible; then
    echo "step_bench: not run, no GPU visible" > "$report"
    no_gpu_row step_bench "small, base, paper"
    return 0
  fi
  local run model nrows seq name file figures
  # The paper model's initialization on the GPU: time, and the CPU's weights bit for bit.
  if [ -x "$build/apps/init_bench" ] && ! out_of_time step_bench "init paper"; then
    file="$logs/init_bench_paper.txt"
    run_step step_bench "init paper (cuda)" "$(cap "$step_bench_run_cap")" "$file" "$build/apps/init_bench" \
      "$repo/configs/model/paper.toml" --device cuda --seed 1234 --expect 0xbd54c068eaf0f725
    clip_step "$report" "init paper (cuda)" "$file" 20 10
    step_row step_bench "init paper (cuda)" "$file" "$(tail -n 1 "$file" | cut -c1-160)"
  fi
  for run in "small 8 2048" "base 8 2048" "paper 4 2048"; do
    read -r model nrows seq <<< "$run"
    name="$model ${nrows}x$seq bf16"
    out_of_time step_bench "$name" && continue
    file="$logs/step_bench_$model.txt"
    local generation=(--host-times)  # where the host spends the step (it issued ~90% of it)
    [ "$model" = base ] && generation=(--generate 256)  # batch-1 decoding tokens/s, base only
    [ "$model" = paper ] && generation+=(--evaluation)  # Birdie's own cost at the paper schedule
    run_step step_bench "$name" "$(cap "$step_bench_run_cap")" "$file" "${line_buffered[@]}" "$build/apps/step_bench" \
      --model "$repo/configs/model/$model.toml" --rows "$nrows" --seq "$seq" --device cuda \
      --precision bf16 --warmup 1 --steps 3 "${generation[@]}"
    clip_step "$report" "$name" "$file" 70 20
    figures=$(grep -oE 'median [0-9.]+ ms|[0-9]+ tokens/s|MFU [0-9.]+%|memory in use: [0-9.]+ GiB|decoded at [0-9]+ tokens/s|[0-9.]+% of training wall time' "$file" | paste -sd ',' | sed 's/,/, /g')
    step_row step_bench "$name" "$file" "$figures"
  done
}
