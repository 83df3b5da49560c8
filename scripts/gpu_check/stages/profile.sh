# shellcheck shell=bash
# profile: Nsight Compute with --clock-control none (the card's clocks as they are) on what
# limits the figures furthest from docs/design.md's targets: one launch of each scan kernel of
# apps/bench (speed of light, memory, occupancy, warp stalls; GPU_CHECK_PROFILE_SCAN=0
# leaves it out; GPU_CHECK_PROFILE_SCAN_REGEX picks the kernels by a regular expression on
# their demangled names instead, e.g. 'split<__nv_bfloat16, 2, 4, 16>|tiles<__nv_bfloat16, 2>'
# for one_pass_tile64 and the one-pass RG-LRU), and every kernel of one training step of each model of
# GPU_CHECK_PROFILE_MODELS (configs/model/<name>.toml, default paper; 4x2048 for the paper
# shapes, 8x2048 for the others), timed and grouped by family (scripts/ncu_kernel_times.py)
# against the step's unprofiled time. Writes profile.txt: the scan kernels' reports and
# one table per model.

# shellcheck disable=SC2206  # names split at spaces
profile_models=(${GPU_CHECK_PROFILE_MODELS:-paper})

find_ncu() {
  local s
  s=$(command -v ncu || true)
  for s in $s /usr/local/cuda/bin/ncu /opt/nvidia/nsight-compute/*/ncu; do
    [ -x "$s" ] && { echo "$s"; return; }
  done
}

stage_profile() {
  built profile "$build/apps/bench" "$build/apps/step_bench" || return 1
  if ! gpu_visible; then no_gpu_row profile "ncu"; return 0; fi
  local ncu file report=${result[profile]}
  ncu=$(find_ncu)
  if [ -z "$ncu" ]; then record profile "-" FAILED - "ncu not found (PATH, /usr/local/cuda/bin, /opt/nvidia/nsight-compute)"; return 1; fi
  : > "$report"
  if [ "${GPU_CHECK_PROFILE_SCAN:-1}" != 0 ] && ! out_of_time profile "scan kernels"; then
    file="$logs/profile_scan.txt"
    # The second launch of each scan kernel (function-name invocation count): the first
    # shape of apps/bench, 8x2048x2560, causal.
    local kernels=(--kernel-id '::regex:^scan_:2')
    [ -n "${GPU_CHECK_PROFILE_SCAN_REGEX:-}" ] &&
      kernels=(--kernel-name-base demangled --kernel-id "::regex:${GPU_CHECK_PROFILE_SCAN_REGEX}:2")
    run_step profile "scan kernels" "$(cap 90)" "$file" "$ncu" --clock-control none "${kernels[@]}" \
      --section SpeedOfLight --section MemoryWorkloadAnalysis --section Occupancy --section LaunchStats \
      --section WarpStateStats "$build/apps/bench" --repeats 1
    grep -vE '^(scan|rglru|gemm|rmsnorm|cross-entropy|adamw|embedding) ' "$file" > "$file.short"  # bench's own rows
    clip_step "$report" "ncu on apps/bench's scan kernels" "$file.short" 700 20
    step_row profile "scan kernels" "$file" "$(grep -c 'Context [0-9]*, Stream' "$file") kernel reports"
  fi
  local model
  for model in "${profile_models[@]}"; do profile_step "$ncu" "$model"; done
}

# profile_step NCU MODEL: every kernel of one bf16 step of configs/model/MODEL.toml.
profile_step() {
  local ncu=$1 model=$2 rows=8 file step_ms report=${result[profile]} attempt
  [[ $model == *paper ]] && rows=4
  local shape=(--model "$repo/configs/model/$model.toml" --rows "$rows" --seq 2048 --device cuda --precision bf16)
  out_of_time profile "$model step" && return 1
  file="$logs/profile_step_bench_$model.txt"
  run_step profile "$model step (no profiler)" "$(cap 40)" "$file" "$build/apps/step_bench" "${shape[@]}" \
    --warmup 1 --steps 3
  step_ms=$(grep -oE 'median [0-9.]+ ms' "$file" | grep -oE '[0-9.]+' | head -n 1)
  # The NVTX filter keeps the kernels of the step alone; should it match nothing, the whole
  # program (the model's initialization besides the step) is profiled instead.
  local filter=(--nvtx --nvtx-include 'step_bench.step/') found=""
  for attempt in filtered whole; do
    [ "$attempt" = whole ] && filter=()
    out_of_time profile "$model step" && return 1
    rm -f "$logs/profile_step_$model.csv"
    run_step profile "$model step" "$(cap 120)" "$logs/profile_step_stdout_$model.txt" "$ncu" --clock-control none \
      --cache-control none "${filter[@]}" --metrics gpu__time_duration.sum --csv --print-units base \
      --log-file "$logs/profile_step_$model.csv" "$build/apps/step_bench" "${shape[@]}" --warmup 0 --steps 1
    python3 "$repo/scripts/ncu_kernel_times.py" "$logs/profile_step_$model.csv" ${step_ms:+--step-ms "$step_ms"} \
      --top 25 > "$logs/profile_table_$model.txt" 2>&1
    {
      echo "=== ncu on one step of $model ${rows}x2048 bf16 ($attempt): exit status $step_rc after $step_secs s" \
           "(unprofiled median ${step_ms:-?} ms)"
      cat "$logs/profile_table_$model.txt"
    } >> "$report"
    found=$(grep -m 1 'kernel time' "$logs/profile_table_$model.txt")
    [ -n "$found" ] && break
  done
  step_row profile "$model step" "$logs/profile_step_stdout_$model.txt" "$(cut -c1-160 <<< "$found")"
}
