# shellcheck shell=bash
# parity: runs each built cuda_* suite (doctest: the GPU kernels against the CPU
# references), the cheap important ones first, each under its own cap. A suite's exit 77
# means no GPU (SKIPPED, or FAILED where nvidia-smi lists one). Writes parity.txt: each
# suite's output with its per-test-case durations, clipped.

# The scan suite checks every scan kernel at the model's shape against one f64 reference:
# about 19 s a kernel on an H200 (the host's comparisons of 100M-element outputs, mostly).
parity_suite_cap=${GPU_CHECK_PARITY_SUITE_CAP:-120}

stage_parity() {
  local suites exe name file
  mapfile -t suites < <(cuda_suites)
  if [ ${#suites[@]} -eq 0 ]; then
    record parity "-" SKIPPED - "no cuda_* suite built (the build stage failed or did not run)"
    return 1
  fi
  : > "${result[parity]}"
  for exe in "${suites[@]}"; do
    name=$(basename "$exe")
    out_of_time parity "$name" && continue
    file="$logs/parity_$name.txt"
    run_step parity "$name" "$(cap "$parity_suite_cap")" "$file" "$exe" --duration=true
    clip_step "${result[parity]}" "$name" "$file" 200 40
    if [ "$step_timed_out" = 1 ]; then
      timeout_row parity "$name"
    elif [ "$step_rc" -eq 77 ]; then
      gpu_state=no
      no_gpu_row parity "$name"
    elif [ "$step_rc" -eq 0 ]; then
      gpu_state=yes
      record parity "$name" ok "$step_secs" "$(doctest_counts "$file")"
    else
      record parity "$name" FAILED "$step_secs" "exit $step_rc; $(doctest_counts "$file")"
    fi
  done
}
