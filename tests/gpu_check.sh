#!/usr/bin/env bash
# scripts/gpu_check.sh without a GPU, in seconds and without compiling anything:
#   1. --list names every stage with its limit (GPU_CHECK_LIMIT_<STAGE> changes one), and
#      every stage has its stage_<name> in scripts/gpu_check/stages/; a bad option, an
#      unknown --stage and a missing OUTDIR exit 2 with a message;
#   2. the stages that need no build step, on this build's programs with no GPU visible
#      (CUDA_VISIBLE_DEVICES empty, an nvidia-smi that lists none), and again on an empty
#      build folder: every row SKIPPED ("no GPU visible", or "not built" where the build has
#      no CUDA), the summary printed and in OUTDIR/summary.txt, exit status 3;
#   3. on fakes (an nvidia-smi that lists a GPU, two cuda_*_tests suites that sleep, which
#      the parity stage runs at once): SIGINT and SIGTERM during them give their
#      INTERRUPTED rows, exit 130 and 143, and both are stopped; a parity limit of 6 s gives a TIMEOUT row (killed at the limit),
#      one of 2 s a TIMEOUT row (not started), exit 1; a --stage run rewrites only its own
#      result file.
#   tests/gpu_check.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)
script="$source_dir/scripts/gpu_check.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Only this test's settings: none from the caller's environment.
while read -r var; do unset "$var"; done < <(compgen -e | grep -E '^(GPU_CHECK_|BIRDIE_GPU_)' || true)

fail() { echo "FAILED: $*" >&2; exit 1; }
expect_rc() {  # expect_rc WANTED GOT WHAT
  [ "$2" -eq "$1" ] || { cat "$work/stdout" "$work/stderr" >&2 2> /dev/null || true; fail "$3: exit status $2, wanted $1"; }
}
has() {  # has FILE EXTENDED-REGEX WHAT
  grep -qE -- "$2" "$1" || { cat "$1" >&2; fail "$3: no line matching '$2' in $1"; }
}
rows() {  # the summary's step rows
  sed -n '/^stage  *step  *result  *secs  *detail$/,/^overall:/p' "$1" | sed '1d;$d'
}

# --- 1. the command line ------------------------------------------------------------------
stages=(deps build parity bench step_bench decode peers attention pretrain memcheck racecheck initcheck profile nccl
        architectures evaluators experiment)
GPU_CHECK_LIMIT_PARITY=7 bash "$script" --list > "$work/list"
for s in "${stages[@]}"; do
  has "$work/list" "^$s +[0-9]+ s  [^ ]" "--list: $s"
done
has "$work/list" "^parity +7 s  " "--list: GPU_CHECK_LIMIT_PARITY"
has "$work/list" "^budget for the whole run: 570 s$" "--list: the budget"
while read -r s _; do
  [ "$s" = budget ] && continue
  grep -qE "^stage_$s\(\)" "$source_dir"/scripts/gpu_check/stages/*.sh ||
    fail "--list names $s, but no stages/*.sh defines stage_$s"
done < "$work/list"

set +e
bash "$script" "$work/out" --bogus > "$work/stdout" 2> "$work/stderr"
expect_rc 2 $? "a bad option"
has "$work/stderr" "unknown option '--bogus'" "a bad option"
bash "$script" "$work/out" --stage parity --stage no_such_stage > "$work/stdout" 2> "$work/stderr"
expect_rc 2 $? "an unknown stage"
has "$work/stderr" "no stage 'no_such_stage'" "an unknown stage"
bash "$script" --stage parity > "$work/stdout" 2> "$work/stderr"
expect_rc 2 $? "no OUTDIR"
has "$work/stderr" "^usage: " "no OUTDIR"
set -e
[ ! -e "$work/out" ] || fail "a bad command line made $work/out"

# --- 2. no GPU ----------------------------------------------------------------------------
mkdir -p "$work/no-gpu" "$work/data" "$work/empty-build"
printf '#!/bin/sh\necho "NVIDIA-SMI has failed: no devices were found" >&2\nexit 6\n' > "$work/no-gpu/nvidia-smi"
chmod +x "$work/no-gpu/nvidia-smi"
echo '{"vocab_size": 512}' > "$work/data/manifest.json"
no_build_stages=(parity bench step_bench decode peers attention pretrain memcheck racecheck initcheck profile nccl architectures
                 evaluators experiment)
no_gpu_run() {  # no_gpu_run BUILD_DIR NAME: the stages above on BUILD_DIR, checked
  local dir=$1 name=$2 out="$work/$2" rc
  set +e
  PATH="$work/no-gpu:$PATH" CUDA_VISIBLE_DEVICES="" GPU_CHECK_BUILD_DIR="$dir" GPU_CHECK_LOGS="$work/$name-logs" \
    GPU_CHECK_PREFIX="$work/$name-prefix" GPU_CHECK_PRETRAIN_DATA="$work/data" \
    bash "$script" "$out" "${no_build_stages[@]/#/--stage=}" > "$work/stdout" 2> "$work/stderr"
  rc=$?
  set -e
  expect_rc 3 "$rc" "$name: no GPU"
  cmp -s "$work/stdout" "$out/summary.txt" || fail "$name: the printed summary is not OUTDIR/summary.txt"
  has "$out/summary.txt" "^gpu_check summary: .*GPU: none listed by nvidia-smi" "$name: the summary's header"
  has "$out/summary.txt" "^overall: INCOMPLETE: " "$name: the verdict"
  has "$out/gpu_check.log" "^--> parity " "$name: the log"
  rows "$out/summary.txt" > "$work/rows"
  [ -s "$work/rows" ] || fail "$name: no rows in the summary"
  if grep -vE '^[a-z_]+ +.* SKIPPED +- +' "$work/rows"; then fail "$name: rows other than SKIPPED (above)"; fi
  local s
  for s in "${no_build_stages[@]}"; do
    grep -qE "^$s " "$work/rows" || fail "$name: no row for $s"
  done
  has "$work/rows" "^peers +.*(no GPU visible|not present)" "$name: peers"
  if [ -x "$dir/tests/cuda_scan_tests" ]; then  # a CUDA build: its suites said "no GPU"
    has "$work/rows" "^parity +cuda_scan_tests +SKIPPED +- +no GPU visible$" "$name: the scan suite"
    has "$work/rows" "^memcheck +all [0-9]+ cuda_\* suites +SKIPPED +- +no GPU visible$" "$name: memcheck"
  else
    has "$work/rows" "^parity +- +SKIPPED +- +no cuda_\* suite built" "$name: parity without suites"
  fi
  if [ ! -x "$dir/apps/pretrain" ]; then
    has "$work/rows" "^nccl +- +SKIPPED +- +not built: $dir/apps/pretrain " "$name: nccl without pretrain"
  else
    has "$work/rows" "^nccl +BIRDIE_NCCL=1 against plain +SKIPPED +- +no GPU visible$" "$name: nccl"
    has "$work/rows" "^evaluators +cpu against cuda +SKIPPED +- +no GPU visible$" "$name: evaluators"
  fi
}
no_gpu_run "$build" this-build
no_gpu_run "$work/empty-build" empty-build

# --- 3. interrupted, and past its limit (fakes) -------------------------------------------
mkdir -p "$work/gpu" "$work/fake-build/tests"
cat > "$work/gpu/nvidia-smi" <<'EOF'
#!/bin/sh
case "$*" in
  -L) echo "GPU 0: Fake GPU (UUID: GPU-0)" ;;
  *--query-gpu*) echo "Fake GPU, 1 MiB, 1.0" ;;
  *) echo "a fake nvidia-smi" ;;
esac
EOF
for suite in fake other; do  # two suites, which the parity stage runs at once
  cat > "$work/fake-build/tests/cuda_${suite}_tests" <<EOF
#!/bin/sh
echo \$\$ > "$work/$suite.pid"
exec sleep 60
EOF
  chmod +x "$work/fake-build/tests/cuda_${suite}_tests"
done
chmod +x "$work/gpu/nvidia-smi"
fake_env=(PATH="$work/gpu:$PATH" GPU_CHECK_BUILD_DIR="$work/fake-build" GPU_CHECK_LOGS="$work/fake-logs"
          GPU_CHECK_PREFIX="$work/fake-prefix")

interrupt() {  # interrupt SIGNAL WANTED_STATUS
  local out="$work/int-$1" rc
  rm -f "$work/fake.pid" "$work/other.pid"
  set -m  # the run in its own process group, where SIGINT is not ignored
  env "${fake_env[@]}" bash "$script" "$out" --stage parity --stage bench > "$work/stdout" 2> "$work/stderr" &
  local pid=$!
  set +m
  for _ in $(seq 100); do  # until both suites run
    [ -s "$work/fake.pid" ] && [ -s "$work/other.pid" ] && break
    sleep 0.2
  done
  [ -s "$work/fake.pid" ] && [ -s "$work/other.pid" ] || fail "SIG$1: the two fake suites did not run at once"
  kill -"$1" "$pid"
  set +e
  wait "$pid"
  rc=$?
  set -e
  expect_rc "$2" "$rc" "SIG$1 during a step"
  has "$out/summary.txt" "^parity +cuda_fake_tests +INTERRUPTED +[0-9]+  stopped by SIG$1 " "SIG$1: the step's row"
  has "$out/summary.txt" "^parity +cuda_other_tests +INTERRUPTED +[0-9]+  stopped by SIG$1 " "SIG$1: the other step's row"
  has "$out/summary.txt" "^overall: INTERRUPTED by SIG$1$" "SIG$1: the verdict"
  has "$work/stdout" "^overall: INTERRUPTED by SIG$1$" "SIG$1: the printed summary"
  if grep -qE '^bench ' "$out/summary.txt"; then fail "SIG$1: the run went on to the bench stage"; fi
  ! kill -0 "$(cat "$work/fake.pid")" 2> /dev/null || fail "SIG$1: the suite still runs"
  ! kill -0 "$(cat "$work/other.pid")" 2> /dev/null || fail "SIG$1: the other suite still runs"
}
interrupt INT 130
interrupt TERM 143

set +e
env "${fake_env[@]}" GPU_CHECK_LIMIT_PARITY=6 bash "$script" "$work/limit" --stage parity > "$work/stdout" 2> "$work/stderr"
expect_rc 1 $? "a suite past the parity stage's limit"
set -e
has "$work/limit/summary.txt" "^parity +cuda_fake_tests +TIMEOUT +[0-9]+  killed at its limit of [0-9]+ s \(stage limit 6 s, run budget 570 s\)$" \
  "the stage's limit"
has "$work/limit/summary.txt" "^parity +cuda_other_tests +TIMEOUT +[0-9]+  killed at its limit " "the stage's limit: the other suite"
has "$work/limit/summary.txt" "^overall: FAILED \(2 step" "the stage's limit: the verdict"
has "$work/limit/parity.txt" "^=== cuda_fake_tests: exit status 124 " "the stage's limit: parity.txt"

set +e
env "${fake_env[@]}" GPU_CHECK_LIMIT_PARITY=2 bash "$script" "$work/limit" --stage parity --stage bench > "$work/stdout" 2> "$work/stderr"
expect_rc 1 $? "a parity limit too short to start a suite"
set -e
has "$work/limit/summary.txt" "^parity +cuda_fake_tests +TIMEOUT +- +not started: the stage's limit \(2 s\)" "a short limit"
has "$work/limit/summary.txt" "^parity +cuda_other_tests +TIMEOUT +- +not started: " "a short limit: the other suite"
has "$work/limit/summary.txt" "^bench +- +SKIPPED +- +not built: " "a short limit: the next stage"
[ ! -e "$work/limit/parity.txt" ] || [ ! -s "$work/limit/parity.txt" ] ||
  fail "a --stage parity run kept the earlier parity.txt"

# A --stage run rewrites its own result file and the summary, and appends to the log.
echo "earlier" > "$work/limit/profile.txt"
set +e
env "${fake_env[@]}" bash "$script" "$work/limit" --stage bench > "$work/stdout" 2> "$work/stderr"
expect_rc 3 $? "--stage bench without a build"
set -e
has "$work/limit/profile.txt" "^earlier$" "--stage bench: another stage's result file"
[ "$(grep -c '^gpu_check summary: ' "$work/limit/gpu_check.log")" -eq 3 ] || fail "--stage runs: the log was not appended to"
[ "$(rows "$work/limit/summary.txt" | wc -l)" -eq 1 ] || fail "--stage bench: the summary holds earlier rows"
# step_bench's variants: a model's step again under a variable (a fake step_bench that
# prints the kernels its environment chose); a malformed variant is a FAILED row.
mkdir -p "$work/fake-build/apps"
cat > "$work/fake-build/apps/step_bench" <<'EOF'
#!/bin/sh
echo "scan ${BIRDIE_SCAN_KERNEL:-by_shape}, rglru ${BIRDIE_RGLRU_KERNEL:-three_pass}: median 150.0 ms, 54613 tokens/s, MFU 45.9%"
EOF
chmod +x "$work/fake-build/apps/step_bench"
set +e
env "${fake_env[@]}" GPU_CHECK_STEP_BENCH_MODELS=paper \
  GPU_CHECK_STEP_BENCH_VARIANTS="paper:BIRDIE_SCAN_KERNEL=one_pass_tile64 hawk-base:BIRDIE_RGLRU_KERNEL=one_pass paper" \
  bash "$script" "$work/steps" --stage step_bench > "$work/stdout" 2> "$work/stderr"
expect_rc 1 $? "--stage step_bench with a malformed variant"
set -e
has "$work/steps/summary.txt" "^step_bench +paper 4x2048 bf16, BIRDIE_SCAN_KERNEL=one_pass_tile64 +ok +[0-9]+ +median 150.0 ms, 54613 tokens/s, MFU 45.9%" \
  "step_bench: the paper step under one_pass_tile64"
has "$work/steps/summary.txt" "^step_bench +hawk-base 8x2048 bf16, BIRDIE_RGLRU_KERNEL=one_pass +ok " "step_bench: Hawk base under the one-pass RG-LRU"
has "$work/steps/summary.txt" "^step_bench +paper +FAILED +- +GPU_CHECK_STEP_BENCH_VARIANTS: not MODEL:VARIABLE=VALUE" "step_bench: a malformed variant"
has "$work/fake-logs/step_bench_paper_BIRDIE_SCAN_KERNEL_one_pass_tile64.txt" "^scan one_pass_tile64, rglru three_pass:" \
  "step_bench: the variable reached the paper run"
has "$work/fake-logs/step_bench_hawk-base_BIRDIE_RGLRU_KERNEL_one_pass.txt" "^scan by_shape, rglru one_pass:" \
  "step_bench: the variable reached the Hawk run"
has "$work/fake-logs/step_bench_paper.txt" "^scan by_shape, rglru three_pass:" "step_bench: the first paper run keeps the defaults"
echo "gpu_check: command line, no-GPU runs, signals and limits as expected"
