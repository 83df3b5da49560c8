# shellcheck shell=bash
# The bookkeeping every stage of scripts/gpu_check.sh shares: the run's clock, one row of
# the summary per step, running a step under its limit, the end (summary and exit status,
# also on a signal), and what the stages ask of the machine (a GPU, the built programs,
# the prepared data, the unpacked packages). Sourced by the driver once OUTDIR, the build,
# log and prefix folders and the budget are known ($out, $build, $logs, $prefix, $budget).

# shellcheck source=scripts/torch_python.sh
source "$repo/scripts/torch_python.sh"

# --- the summary rows ---------------------------------------------------------------------
# Every step ends in one row: ok, FAILED, TIMEOUT, SKIPPED or INTERRUPTED. The counts decide
# the exit status (finish, below).
summary_rows=()
failures=0      # FAILED, TIMEOUT and INTERRUPTED rows
skips=0         # SKIPPED rows but the benign ones
no_gpu_skips=0  # of those, skipped for want of a GPU
commit=$(git -C "$repo" rev-parse --short HEAD 2> /dev/null || echo "unknown (no .git)")

log_note() { printf '%s\n' "$*" >> "$log"; }

record() {  # record STAGE STEP RESULT SECONDS DETAIL [benign]: one row of the summary
  local row
  row=$(printf '%-10s %-28s %-11s %5s  %s' "$1" "$2" "$3" "$4" "${5:-}")
  summary_rows+=("$row")
  printf '%s\n' "$row" >> "$summary"
  log_note "--> $row"
  case $3 in
    FAILED|TIMEOUT|INTERRUPTED) failures=$((failures + 1)) ;;
    SKIPPED) [ -n "${6:-}" ] || skips=$((skips + 1)) ;;  # a benign skip leaves the run complete
  esac
}

timeout_row() {  # timeout_row STAGE STEP: the step run last was killed at its limit
  record "$1" "$2" TIMEOUT "$step_secs" "killed at its limit of $step_lim s (stage limit $stage_limit s, run budget $budget s)"
}

# step_row STAGE STEP OUTPUT OK_DETAIL: the row of the step run last: TIMEOUT, FAILED with
# its exit status and OUTPUT's last line, or ok with OK_DETAIL.
step_row() {
  if [ "$step_timed_out" = 1 ]; then
    timeout_row "$1" "$2"
  elif [ "$step_rc" -ne 0 ]; then
    record "$1" "$2" FAILED "$step_secs" "exit $step_rc: $(tail -n 1 "$3" | cut -c1-160)"
  else
    record "$1" "$2" ok "$step_secs" "$4"
  fi
}

# --- result files -------------------------------------------------------------------------
clip() {  # clip FILE HEAD TAIL: the whole file, or its first HEAD and last TAIL lines
  local file=$1 head_n=$2 tail_n=$3 n
  [ -f "$file" ] || return 0
  n=$(wc -l < "$file")
  if [ "$n" -le $((head_n + tail_n)) ]; then
    cut -c1-400 "$file"
  else
    head -n "$head_n" "$file" | cut -c1-400
    echo "[... $((n - head_n - tail_n)) lines left out; the whole output is $file ...]"
    tail -n "$tail_n" "$file" | cut -c1-400
  fi
}

clip_step() {  # clip_step RESULT_FILE TITLE OUTPUT HEAD TAIL: the step run last, into RESULT_FILE
  { echo "=== $2: exit status $step_rc after $step_secs s"; clip "$3" "$4" "$5"; echo; } >> "$1"
}

doctest_counts() {  # "23/23 test cases passed, 0 failed" from a doctest output, else its last line
  local counts
  counts=$(grep -E '^\[doctest\] test cases:' "$1" | tail -n 1 | sed -E 's/\[doctest\] test cases: *([0-9]+) \| *([0-9]+) passed \| *([0-9]+) failed.*/\2\/\1 test cases passed, \3 failed/')
  if [ -n "$counts" ]; then echo "$counts"; else tail -n 1 "$1" | cut -c1-160; fi
}

# step_losses OUTPUT: the first and the last "step N/M  loss X" line of a pretrain output,
# into the caller's locals first and last.
step_losses() {
  first=$(grep -m 1 -oE '^step [0-9]+/[0-9]+  loss [0-9.]+' "$1")
  last=$(grep -oE '^step [0-9]+/[0-9]+  loss [0-9.]+' "$1" | tail -n 1)
}
loss_fell() {  # loss_fell FIRST LAST: the loss of LAST below that of FIRST (step_losses' lines)
  awk -v a="${1##* }" -v b="${2##* }" 'BEGIN { exit !(b < a) }'
}

# --- the clock ----------------------------------------------------------------------------
# Each stage has a deadline (its limit, set by the driver) and the whole run one (the
# budget); a step gets the lesser of its own cap and what is left of both.
stage_limit=0
stage_deadline=0
budget_end=$((SECONDS + budget))
left() { local a=$((stage_deadline - SECONDS)) b=$((budget_end - SECONDS)); echo $((a < b ? a : b)); }
cap() { local l; l=$(left); echo $(($1 < l ? $1 : l)); }

# A step with no time left in its stage (or in the whole run) is not started.
out_of_time() {  # out_of_time STAGE STEP
  if [ "$(left)" -lt 3 ]; then
    record "$1" "$2" TIMEOUT - "not started: the stage's limit ($stage_limit s) or the run's budget ($budget s) was spent"
    return 0
  fi
  return 1
}

# --- running a step -----------------------------------------------------------------------
# The step running now, for the signal handler and the summary.
current_pid=""
current_stage=""
current_step=""
current_t0=0
current_limit=0
# Lines of each step's output kept in the log.
log_tail_ok=40
log_tail_failed=150

# run_step STAGE STEP LIMIT OUTPUT command...: the command under `timeout LIMIT`, stdout
# and stderr into OUTPUT, the tail of OUTPUT into the log. Sets step_rc, step_secs,
# step_timed_out and step_lim (LIMIT, for timeout_row). Runs in the background and waits,
# so a signal reaches the trap at once.
run_step() {
  local stage=$1 step=$2 lim=$3 output=$4
  shift 4
  step_lim=$lim
  log_note ""
  log_note "=== [$stage] $step (limit $lim s, $(date -u +%T)): $*"
  current_stage=$stage current_step=$step current_t0=$SECONDS current_limit=$lim
  timeout -k 10 "$lim" "$@" < /dev/null > "$output" 2>&1 &
  current_pid=$!
  wait "$current_pid"
  step_rc=$?
  current_pid=""
  step_secs=$((SECONDS - current_t0))
  step_timed_out=0
  if { [ "$step_rc" -eq 124 ] || [ "$step_rc" -eq 137 ]; } && [ "$step_secs" -ge $((lim - 1)) ]; then
    step_timed_out=1
  fi
  if [ "$step_rc" -eq 0 ]; then
    tail -n "$log_tail_ok" "$output" | cut -c1-400 >> "$log"
  else
    tail -n "$log_tail_failed" "$output" | cut -c1-400 >> "$log"
  fi
  log_note "(exit status $step_rc after $step_secs s)"
}

kill_steps() {  # kill_steps PID...: the steps' `timeout`s and everything they started
  # timeout leads its own process group: signal the group, so the command's children stop too.
  local pid i
  for pid in "$@"; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null; done
  for i in 1 2 3 4 5; do
    kill -0 "$@" 2>/dev/null || break  # true while any of them runs
    sleep 1
  done
  for pid in "$@"; do kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null; done
}
kill_current() { [ -z "$current_pid" ] || kill_steps "$current_pid"; }

# --- steps at once ------------------------------------------------------------------------
# Independent steps that share the GPU without needing all of it (the suites): their wall
# time is the longest one's rather than the sum.
#
# run_at_once STAGE JOBS CAP COMMAND_FN ROW_FN NAME...: one step per NAME, up to JOBS at a
# time, each under CAP and what is left of the stage. COMMAND_FN NAME sets the array
# step_command and the output file step_output; as each step ends, step_rc, step_secs,
# step_lim, step_timed_out and step_output are set as run_step sets them, and ROW_FN NAME
# records its row.
# The steps run_at_once started and that have not ended: pid -> "STAGE STEP", their start
# (SECONDS) and their limit, for the signal handler.
declare -A running_steps=() running_since=() running_limit=()

run_at_once() {
  local stage=$1 jobs=$2 step_cap=$3 command_fn=$4 row_fn=$5
  shift 5
  local queue=("$@") name pid lim
  local -A output_of=()
  while [ ${#queue[@]} -gt 0 ] || [ ${#running_steps[@]} -gt 0 ]; do
    while [ ${#queue[@]} -gt 0 ] && [ ${#running_steps[@]} -lt "$jobs" ]; do
      name=${queue[0]}
      queue=("${queue[@]:1}")
      out_of_time "$stage" "$name" && continue
      "$command_fn" "$name"
      lim=$(cap "$step_cap")
      log_note ""
      log_note "=== [$stage] $name (limit $lim s, $(date -u +%T), up to $jobs at once): ${step_command[*]}"
      timeout -k 10 "$lim" "${step_command[@]}" < /dev/null > "$step_output" 2>&1 &
      pid=$!
      running_steps[$pid]="$stage $name" running_since[$pid]=$SECONDS running_limit[$pid]=$lim
      output_of[$pid]=$step_output
    done
    [ ${#running_steps[@]} -gt 0 ] || break
    # The first step that has ended (bash reaps it and keeps its status for `wait PID`;
    # `wait -n` can miss a job that ended before it was called).
    pid=""
    while [ -z "$pid" ]; do
      for name in "${!running_steps[@]}"; do
        kill -0 "$name" 2> /dev/null || { pid=$name; break; }
      done
      [ -n "$pid" ] || sleep 0.5
    done
    wait "$pid"
    step_rc=$?
    name=${running_steps[$pid]#* }
    unset "running_steps[$pid]"
    step_secs=$((SECONDS - running_since[$pid])) step_lim=${running_limit[$pid]} step_output=${output_of[$pid]}
    step_timed_out=0
    if { [ "$step_rc" -eq 124 ] || [ "$step_rc" -eq 137 ]; } && [ "$step_secs" -ge $((step_lim - 1)) ]; then
      step_timed_out=1
    fi
    tail -n "$([ "$step_rc" -eq 0 ] && echo "$log_tail_ok" || echo "$log_tail_failed")" "$step_output" |
      cut -c1-400 >> "$log"
    log_note "(the above: [$stage] $name, exit status $step_rc after $step_secs s)"
    "$row_fn" "$name"
  done
}

# A program's stdout line by line, so one killed at its limit keeps its output:
# "${line_buffered[@]}" before the command.
line_buffered=()
if command -v stdbuf > /dev/null; then line_buffered=(stdbuf -oL -eL); fi

children_cpu() {  # sets cpu_seconds: user+sys of this shell's finished children
  times > "$logs/.times"  # in this shell: a $(...) subshell would have no children yet
  cpu_seconds=$(tail -n 1 "$logs/.times" | awk '{ s = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); s += a[1] * 60 + a[2] } printf "%d", s }')
}

# --- the end ------------------------------------------------------------------------------
# The driver traps INT, TERM and HUP with on_signal and EXIT with finish, so the summary is
# printed however the run ends.
finished=0
reached_end=0  # the driver got past the last stage
interrupted=""

on_signal() {
  interrupted=$1
  local pid
  [ ${#running_steps[@]} -eq 0 ] || kill_steps "${!running_steps[@]}"
  for pid in "${!running_steps[@]}"; do
    record "${running_steps[$pid]%% *}" "${running_steps[$pid]#* }" INTERRUPTED $((SECONDS - running_since[$pid])) \
      "stopped by SIG$1 (the step's limit was ${running_limit[$pid]} s)"
  done
  if [ ${#running_steps[@]} -gt 0 ]; then
    running_steps=()
  elif [ -n "$current_pid" ]; then
    kill_current
    record "$current_stage" "$current_step" INTERRUPTED $((SECONDS - current_t0)) \
      "stopped by SIG$1 (the step's limit was $current_limit s)"
    current_pid=""
  else
    record "${current_stage:-gpu_check}" "-" INTERRUPTED - "stopped by SIG$1 between steps"
  fi
  case $1 in INT) exit 130 ;; TERM) exit 143 ;; HUP) exit 129 ;; *) exit 1 ;; esac
}

finish() {
  local rc=$?
  [ "$finished" = 1 ] && return
  finished=1
  trap '' INT TERM HUP
  [ -n "$current_pid" ] && kill_current
  [ ${#running_steps[@]} -eq 0 ] || kill_steps "${!running_steps[@]}"
  # The pretrain stage's run, still in the background (stages/pretrain.sh).
  if [ -n "${pretrain_pid:-}" ] && kill -0 "$pretrain_pid" 2> /dev/null; then
    kill -TERM -- "-$pretrain_pid" 2> /dev/null || kill -TERM "$pretrain_pid" 2> /dev/null
    record pretrain train INTERRUPTED $((SECONDS - pretrain_t0)) "stopped with the script"
  fi
  local verdict
  if [ -n "$interrupted" ]; then
    verdict="INTERRUPTED by SIG$interrupted"
  elif [ "$reached_end" = 0 ]; then
    verdict="ABORTED: the script stopped early with exit status $rc (see the end of gpu_check.log)"
    [ "$rc" -ne 0 ] || rc=1
  elif [ "$failures" -gt 0 ]; then
    verdict="FAILED ($failures step(s) failed, timed out or were interrupted)"
    rc=1
  elif [ "$no_gpu_skips" -gt 0 ]; then
    verdict="INCOMPLETE: no GPU visible, $skips step(s) skipped"
    rc=3
  elif [ "$skips" -gt 0 ]; then
    verdict="INCOMPLETE: $skips step(s) skipped (see their rows)"
    rc=3
  else
    verdict="PASSED"
    rc=0
  fi
  {
    echo
    echo "gpu_check summary: $(date -u +%FT%TZ), commit $commit, GPU: ${gpu_name:-none listed by nvidia-smi}, $((SECONDS)) s"
    echo "stages run: ${run_stages[*]}; results in $out (log: gpu_check.log)"
    printf '%-10s %-28s %-11s %5s  %s\n' stage step result secs detail
    printf '%s\n' "${summary_rows[@]}"
    echo "overall: $verdict"
  } > "$logs/summary.tmp"
  mv "$logs/summary.tmp" "$summary"
  cat "$summary" >> "$log"
  cat "$summary"
  exit "$rc"
}

# --- the GPU ------------------------------------------------------------------------------
# nvidia-smi says whether the machine has a GPU; the suites' own device query (exit 77: none)
# whether this build sees it. A stage without a GPU records a SKIPPED row (exit status 3),
# or a FAILED one where nvidia-smi lists a GPU the build cannot see.
gpu_listed=0
gpu_name=""
gpu_state=""  # yes / no, from the suites' own device query, once

detect_gpu() {
  if command -v nvidia-smi > /dev/null && nvidia-smi -L 2> /dev/null | grep -q '^GPU '; then
    gpu_listed=1
    gpu_name=$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2> /dev/null | head -n 1)
  fi
}

gpu_visible() {
  if [ -z "$gpu_state" ]; then
    local probe="$build/tests/cuda_scan_tests"
    if [ -x "$probe" ]; then
      timeout 60 "$probe" --test-case=no-such-test-case > /dev/null 2>&1 < /dev/null
      if [ $? -eq 77 ]; then gpu_state=no; else gpu_state=yes; fi
    elif [ "$gpu_listed" = 1 ]; then
      gpu_state=yes
    else
      gpu_state=no
    fi
  fi
  [ "$gpu_state" = yes ]
}

no_gpu_row() {  # no_gpu_row STAGE STEP: skipped for want of a GPU (a failure where nvidia-smi lists one)
  if [ "$gpu_listed" = 1 ]; then
    record "$1" "$2" FAILED - "nvidia-smi lists a GPU ($gpu_name) but the CUDA runtime of this build sees none"
  else
    record "$1" "$2" SKIPPED - "no GPU visible"
    no_gpu_skips=$((no_gpu_skips + 1))
  fi
}

gpu_report() {  # gpu_report STAGE STEP: empties the stage's report; without a GPU, it and a row say so (false)
  : > "${result[$1]}"
  gpu_visible && return 0
  echo "$1: not run, no GPU visible" > "${result[$1]}"
  no_gpu_row "$1" "$2"
  return 1
}

# --- what the stages run ------------------------------------------------------------------
built() {  # built STAGE FILE...: the files exist, or a SKIPPED row
  local f
  for f in "${@:2}"; do
    if [ ! -x "$f" ]; then
      record "$1" "-" SKIPPED - "not built: $f (the build stage failed or did not run)"
      return 1
    fi
  done
}

# cuda_suites [NAME...]: the built cuda_* suites, the long ones first; with names
# ("attention", "hawk_kernels"), those suites, built or not (`built` says which are not).
cuda_suites() {
  local first=(scan ops matmul autograd mixed_precision generation) s exe
  if [ $# -gt 0 ]; then
    for s in "$@"; do echo "$build/tests/cuda_${s}_tests"; done
    return
  fi
  local seen=" "
  for s in "${first[@]}"; do
    exe="$build/tests/cuda_${s}_tests"
    [ -x "$exe" ] && { echo "$exe"; seen+="$exe "; }
  done
  for exe in "$build"/tests/cuda_*_tests; do
    [ -x "$exe" ] && [[ $seen != *" $exe "* ]] && echo "$exe"
  done
}

find_sanitizer() {  # compute-sanitizer's path: on PATH, next to nvcc, or in /usr/local/cuda
  local s
  s=$(command -v compute-sanitizer || true)
  if [ -z "$s" ]; then
    for s in "$(dirname "$(command -v nvcc 2> /dev/null || echo /usr/local/cuda/bin/nvcc)")/compute-sanitizer" \
             /usr/local/cuda/bin/compute-sanitizer /usr/local/cuda/compute-sanitizer/compute-sanitizer; do
      [ -x "$s" ] && break
      s=""
    done
  fi
  echo "$s"
}

# The prepared data the pretrain, nccl and architectures stages train on.
pretrain_data=${GPU_CHECK_PRETRAIN_DATA:-$repo/data_out/fortunes}

# prepared_data STAGE [HINT]: the data is there, its vocabulary size in $vocab; else a
# SKIPPED row ("no prepared data in ..." and HINT).
prepared_data() {
  if [ ! -f "$pretrain_data/manifest.json" ]; then
    record "$1" "-" SKIPPED - "no prepared data in $pretrain_data${2:- (prepare_data --corpus fortunes here, and carry it)}"
    return 1
  fi
  vocab=$(grep -oE '"vocab_size": *[0-9]+' "$pretrain_data/manifest.json" | grep -oE '[0-9]+$')
}

# --- the unpacked packages ----------------------------------------------------------------
# The deps stage unpacks .debs/ into $prefix; use_prefix then points PATH, the loader,
# pkg-config and CMake (cmake_dep_args) there. The driver calls it before the stages too,
# so a --stage run on an earlier run's prefix sees the same environment.
debs=("$repo"/.debs/*.deb)
# shellcheck disable=SC2012  # sizes and names, for a stamp
deb_stamp=$( ((${#debs[@]})) && ls -l "${debs[@]}" | awk '{ print $5, $NF }' | md5sum | cut -c1-32)
multiarch="$prefix/usr/lib/x86_64-linux-gnu"
pkg_config_wrapper="$prefix/bin/pkg-config"
cmake_dep_args=()
prefix_in_env=0

use_prefix() {  # the environment that builds and runs against the unpacked packages
  [ ${#debs[@]} -gt 0 ] && [ -f "$prefix/.stamp" ] || return 0
  if [ "$prefix_in_env" = 0 ]; then
    prefix_in_env=1
    export PATH="$prefix/bin:$PATH"
    export LD_LIBRARY_PATH="$multiarch:$multiarch/openblas-pthread${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export PKG_CONFIG_LIBDIR="$multiarch/pkgconfig:$multiarch/openblas-pthread/pkgconfig:$prefix/usr/lib/pkgconfig:$prefix/usr/share/pkgconfig"
    unset PKG_CONFIG_PATH
  fi
  cmake_dep_args=("-DCMAKE_PREFIX_PATH=$prefix/usr")
  if [ -f "$prefix/.system-pkg-config" ]; then
    cmake_dep_args+=("-DPKG_CONFIG_EXECUTABLE=$(cat "$prefix/.system-pkg-config")")
  elif [ -x "$pkg_config_wrapper" ]; then
    cmake_dep_args+=("-DPKG_CONFIG_EXECUTABLE=$pkg_config_wrapper")
  fi
}

# --- the log's header ---------------------------------------------------------------------
log_environment() {
  {
    echo
    echo "gpu_check $(date -u +%FT%TZ): stages ${run_stages[*]}; commit $commit"
    echo "machine: $(nproc) cores, $(uname -r); GPU: ${gpu_name:-none listed by nvidia-smi}"
    echo "tools: $(nvcc --version 2> /dev/null | grep -m 1 release); $(cmake --version 2> /dev/null | head -n 1); ninja $(ninja --version 2> /dev/null); compute-sanitizer: $(find_sanitizer)"
    echo "build $build (CUDA arch $arch, -j$jobs); prefix $prefix; full step outputs $logs; budget $budget s"
    [ "$gpu_listed" = 1 ] && nvidia-smi 2>&1 | head -n 20
  } >> "$log"
}
