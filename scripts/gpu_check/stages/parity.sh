# shellcheck shell=bash
# parity: runs each built cuda_* suite (doctest: the GPU kernels against the CPU
# references), GPU_CHECK_PARITY_JOBS at a time (default 6), the long ones first, each under
# its own cap (GPU_CHECK_PARITY_SUITES="attention ops": those alone). A suite's exit 77 means no GPU (SKIPPED, or FAILED where nvidia-smi lists
# one). Writes parity.txt: each suite's output with its per-test-case durations, clipped,
# in the order the suites ended.

# The scan suite checks every scan kernel at the model's shape against one f64 reference:
# about 19 s a kernel on an H200 (the host's comparisons of 100M-element outputs, mostly),
# and those comparisons, not the GPU, are what the suites spend their time on: several at
# once take about as long as the longest.
parity_suite_cap=${GPU_CHECK_PARITY_SUITE_CAP:-120}
parity_jobs=${GPU_CHECK_PARITY_JOBS:-6}

stage_parity() {
  local suites
  # shellcheck disable=SC2086  # names split at spaces
  mapfile -t suites < <(cuda_suites ${GPU_CHECK_PARITY_SUITES:-})
  if [ ${#suites[@]} -eq 0 ]; then
    record parity "-" SKIPPED - "no cuda_* suite built (the build stage failed or did not run)"
    return 1
  fi
  built parity "${suites[@]}" || return 1
  : > "${result[parity]}"
  run_at_once parity "$parity_jobs" "$parity_suite_cap" parity_command parity_row "${suites[@]##*/}"
}

parity_command() {  # the suite's own threads (OpenMP, OpenBLAS): the cores shared among the suites at once
  local threads=$(( $(nproc) / parity_jobs > 1 ? $(nproc) / parity_jobs : 1 ))
  step_command=(env "OMP_NUM_THREADS=$threads" "OPENBLAS_NUM_THREADS=$threads" "$build/tests/$1" --duration=true)
  step_output="$logs/parity_$1.txt"
}

parity_row() {
  clip_step "${result[parity]}" "$1" "$step_output" 200 40
  if [ "$step_timed_out" = 1 ]; then
    timeout_row parity "$1"
  elif [ "$step_rc" -eq 77 ]; then
    gpu_state=no
    no_gpu_row parity "$1"
  elif [ "$step_rc" -eq 0 ]; then
    gpu_state=yes
    record parity "$1" ok "$step_secs" "$(doctest_counts "$step_output")"
  else
    record parity "$1" FAILED "$step_secs" "exit $step_rc; $(doctest_counts "$step_output")"
  fi
}
