# shellcheck shell=bash
# memcheck, racecheck, initcheck: the cuda_* suites under compute-sanitizer, test cases
# named [large] left out, GPU_CHECK_SANITIZER_JOBS suites at a time (default 3), each under
# its own cap. memcheck runs every suite, racecheck and initcheck the suites with
# shared-memory kernels (scan, ops, attention, hawk_kernels); GPU_CHECK_<TOOL>_SUITES
# ("attention hawk_kernels") names others. A sanitizer error (exit 99) or a test failing
# under it fails the suite's row. Writes sanitizers.txt (shared by the three): each run's
# report, clipped (the sanitizer's lines and doctest's totals when it passed).

memcheck_suite_cap=40
race_init_suite_cap=100
sanitizer_jobs=${GPU_CHECK_SANITIZER_JOBS:-3}
# racecheck watches shared memory only; these two cases run shared-memory-free kernels
# over 17.8M elements, and racecheck alone took over 25 s on them (H200, 2026-11-26).
racecheck_exclude=',*grid-stride loops going round twice*,*AdamW past the grid cap*'

# shellcheck disable=SC2086  # GPU_CHECK_<TOOL>_SUITES: names split at spaces
stage_memcheck() { run_sanitizer memcheck "$memcheck_suite_cap" "" ${GPU_CHECK_MEMCHECK_SUITES:-}; }
# shellcheck disable=SC2086
stage_racecheck() {
  run_sanitizer racecheck "$race_init_suite_cap" "$racecheck_exclude" ${GPU_CHECK_RACECHECK_SUITES:-scan ops attention hawk_kernels}
}
# shellcheck disable=SC2086
stage_initcheck() { run_sanitizer initcheck "$race_init_suite_cap" "" ${GPU_CHECK_INITCHECK_SUITES:-scan ops attention hawk_kernels}; }

# run_sanitizer TOOL SUITE_CAP MORE_EXCLUDED [SUITE-NAME...]: TOOL on the named suites
# (none: every built suite); MORE_EXCLUDED: test-case patterns left out beyond [large]
# (",PATTERN,...", or "").
run_sanitizer() {
  local tool=$1 suite_cap=$2 suites
  sanitizer_exclude="*[large]*$3"
  shift 3
  mapfile -t suites < <(cuda_suites "$@")
  built "$tool" "${suites[@]}" || return 1
  [ ${#suites[@]} -gt 0 ] || { record "$tool" "-" SKIPPED - "no cuda_* suite built"; return 1; }
  if ! gpu_visible; then
    if [ $# -eq 0 ]; then no_gpu_row "$tool" "all ${#suites[@]} cuda_* suites"; else no_gpu_row "$tool" "$*"; fi
    return 0
  fi
  sanitizer=$(find_sanitizer)
  if [ -z "$sanitizer" ]; then
    record "$tool" "-" FAILED - "compute-sanitizer not found (PATH, next to nvcc, /usr/local/cuda)"
    return 1
  fi
  sanitizer_tool=$tool
  run_at_once "$tool" "$sanitizer_jobs" "$suite_cap" sanitizer_command sanitizer_row "${suites[@]##*/}"
}

sanitizer_command() {  # exit 99: the sanitizer found errors; another non-zero status: a test failed under it
  step_command=("$sanitizer" --tool "$sanitizer_tool" --error-exitcode 99 --print-limit 20 "$build/tests/$1"
                "--test-case-exclude=$sanitizer_exclude")
  step_output="$logs/${sanitizer_tool}_$1.txt"
}

sanitizer_row() {
  local tool=$sanitizer_tool file=$step_output summary_line
  summary_line=$(grep -E '(ERROR|RACECHECK) SUMMARY' "$file" | tail -n 1 | sed -E 's/^=+ *//')
  {
    echo "=== $tool $1: exit status $step_rc after $step_secs s"
    if [ "$step_rc" -eq 0 ]; then  # passed: the sanitizer's own lines and doctest's totals
      grep -E '^=========|^\[doctest\]' "$file" > "$file.short"
      clip "$file.short" 30 10
    else
      clip "$file" 120 30
    fi
    echo
  } >> "${result[$tool]}"
  if [ "$step_timed_out" = 1 ]; then
    timeout_row "$tool" "$1"
  elif [ "$step_rc" -eq 0 ]; then
    record "$tool" "$1" ok "$step_secs" "$summary_line"
  elif [ "$step_rc" -eq 99 ]; then
    record "$tool" "$1" FAILED "$step_secs" "${summary_line:-sanitizer errors}"
  else
    grep -v '^=========' "$file" > "$file.app"
    record "$tool" "$1" FAILED "$step_secs" \
      "exit $step_rc under the sanitizer (a test failed or the suite did not run): $(doctest_counts "$file.app")"
  fi
}
