# shellcheck shell=bash
# bench: apps/bench, the kernels against the measured copy bandwidth and bf16 GEMM peak
# (its "ceilings" line in the row). bench itself says SKIPPED without a GPU. Writes
# bench.txt: its whole output (the peers stage's scan comparison reads it).

stage_bench() {
  built bench "$build/apps/bench" || return 1
  out_of_time bench "apps/bench" && return 1
  local output=${result[bench]}
  run_step bench "apps/bench" "$(cap "$stage_limit")" "$output" "${line_buffered[@]}" "$build/apps/bench"
  if [ "$step_timed_out" = 0 ] && [ "$step_rc" -eq 0 ] && grep -q '^SKIPPED' "$output"; then
    no_gpu_row bench "apps/bench"
  else
    step_row bench "apps/bench" "$output" "$(grep -m 1 '^ceilings' "$output" | cut -c1-160)"
  fi
}
