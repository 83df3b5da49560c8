#!/usr/bin/env bash
# What a cluster does to a run, one case per call (each a CTest test of its own; exit 77,
# a skip, where the machine cannot stage the failure):
#   disk-full    a checkpoint write that meets a file-size limit (ulimit -f): exit code 4
#                with "is the disk full?", every earlier checkpoint intact, no partial
#                folder, and once the limit is lifted --resume continues exactly; prepare_data
#                under it: exit code 4, no partial shard
#   full-tmpfs   the same on a full file system (a small tmpfs in a private mount
#                namespace), then made larger
#   sigterm      SIGTERM as a checkpoint's folder is made (strace injects it there): the
#                checkpoint completes, the next step stops with one more (exit 130), and
#                --resume continues exactly; SIGTERM twice (the second one exits at once)
#                in the middle of a checkpoint: no checkpoint of that step, the earlier
#                ones intact, --resume continues exactly
#   data-shard   a training shard deleted mid-run: the run is unaffected (its mapping
#                keeps the tokens), a resume without it is refused naming it; a shard
#                truncated mid-run: exit code 4 naming it, a checkpoint of the last step
#                trained (nothing trained is lost), every checkpoint intact, and --resume
#                continues exactly once it is restored
#   read-only    a run folder on a read-only file system (a read-only bind mount in a
#                private mount namespace; a folder without write permission when not
#                root), new or to resume: exit code 4 before any training, nothing changed
#   tests/cluster_failures.sh BUILD_DIR SOURCE_DIR CASE
source "$(dirname "$0")/support/small_run.sh"
case_name=$3

skip() {
  echo "skipped: $*"
  exit 77
}

# A private mount namespace where this process may mount (root with CAP_SYS_ADMIN).
can_mount() { unshare -m true 2> /dev/null; }

# trained_steps OUT: the step numbers of the progress lines in a pretrain's stdout.
trained_steps() { sed -n 's/^step \([0-9]*\)\/.*/\1/p' "$1" | tr '\n' ' '; }

case $case_name in
disk-full)
  step "the reference: 8 steps; the base: 4 steps (checkpoints 2, 4)"
  "$apps/pretrain" "${run[@]}" --set run.output="\"$work/reference\"" > /dev/null
  "$apps/pretrain" "${run[@]}" --set run.output="\"$work/base\"" --stop-after-steps 4 > /dev/null
  model_bytes=$(stat -c %s "$work/base/checkpoints/step_00000004/model.safetensors")
  # A limit below a checkpoint's first file and above every other file of the run.
  limit_kib=$((model_bytes * 3 / 4 / 1024))
  for f in config.toml metrics.jsonl evaluations.jsonl plot.svg tokenizer.model; do
    test "$(stat -c %s "$work/reference/$f")" -lt $((limit_kib * 1024))
  done

  step "resume under a file-size limit of $limit_kib KiB: the checkpoint of step 6 cannot be written"
  cp -a "$work/base" "$work/limited"
  (
    ulimit -f "$limit_kib"
    exits 4 "cannot write $work/limited/checkpoints/step_00000006.partial/model.safetensors.tmp: File too large (is the disk full?)" \
      "$apps/pretrain" "${run[@]}" --set run.output="\"$work/limited\"" --resume
  )
  good_checkpoints "$work/limited" 2 4
  step "the limit lifted: --resume continues exactly"
  "$apps/pretrain" "${run[@]}" --set run.output="\"$work/limited\"" --resume > /dev/null
  good_checkpoints "$work/limited" 2 4 6 8
  same_losses "$work/reference" "$work/limited"

  step "prepare_data under the same limit: exit code 4, no partial shard left"
  (
    ulimit -f "$limit_kib"
    exits 4 "prepare_data: error: writing shard $work/data_limited/train_00000.bin.partial failed: File too large (is the disk full?)" \
      "$apps/prepare_data" --corpus "$work/corpus.jsonl" --out "$work/data_limited" --vocab 400
  )
  test -z "$(find "$work/data_limited" -name '*.partial')"
  ;;

full-tmpfs)
  can_mount || skip "a tmpfs of its own needs a private mount namespace (root with CAP_SYS_ADMIN)"
  step "the reference: 8 steps; the base: 4 steps (checkpoints 2, 4)"
  "$apps/pretrain" "${run[@]}" --set run.output="\"$work/reference\"" > /dev/null
  "$apps/pretrain" "${run[@]}" --set run.output="\"$work/base\"" --stop-after-steps 4 > /dev/null
  model_bytes=$(stat -c %s "$work/base/checkpoints/step_00000004/model.safetensors")
  step "a full file system: a tmpfs with room for the run so far and little more"
  used_kib=$(du -sk "$work/base" | cut -f1)
  mkdir "$work/small"
  set +e
  unshare -m bash -c '
    set -euo pipefail
    source "$1"; shift
    mount -t tmpfs -o size=$((used_kib + model_bytes / 2048))k tmpfs "$work/small"
    cp -a "$work/base/." "$work/small/"
    exits 4 "No space left on device (is the disk full?)" \
      "$apps/pretrain" "${run[@]}" --set run.output="\"$work/small\"" --resume
    good_checkpoints "$work/small" 2 4
    mount -o remount,size=$((used_kib * 4))k "$work/small"  # room made
    "$apps/pretrain" "${run[@]}" --set run.output="\"$work/small\"" --resume > /dev/null
    good_checkpoints "$work/small" 2 4 6 8
    same_losses "$work/reference" "$work/small"
  ' bash <(declare -p work apps build run used_kib model_bytes; declare -f exits good_checkpoints same_losses step)
  status=$?
  set -e
  test "$status" -eq 0
  ;;

sigterm)
  command -v strace > /dev/null || skip "strace is not installed (bash scripts/setup.sh installs it)"
  strace -f -qq -o /dev/null true 2> /dev/null || skip "strace cannot trace here (ptrace not permitted)"
  step "the reference: 8 steps; the base: 4 steps (checkpoints 2, 4)"
  "$apps/pretrain" "${run[@]}" --set run.output="\"$work/reference\"" > /dev/null
  "$apps/pretrain" "${run[@]}" --set run.output="\"$work/base\"" --stop-after-steps 4 > /dev/null

  step "SIGTERM as the folder of checkpoint 6 is made: it completes, step 7 stops with another"
  cp -a "$work/base" "$work/once"
  set +e
  strace -f -qq -o /dev/null -e trace=mkdir,mkdirat -e inject=mkdir,mkdirat:signal=SIGTERM:when=1 \
    "$apps/pretrain" "${run[@]}" --set run.output="\"$work/once\"" --resume > "$work/once.out" 2> "$work/once.err"
  status=$?
  set -e
  cat "$work/once.err"
  test "$status" -eq 130
  grep -q "stop requested" "$work/once.err"
  test "$(trained_steps "$work/once.out")" = "5 6 7 "
  good_checkpoints "$work/once" 2 4 6 7
  "$apps/pretrain" "${run[@]}" --set run.output="\"$work/once\"" --resume > /dev/null
  same_losses "$work/reference" "$work/once"

  step "SIGTERM twice in checkpoint 6, the second once its first file is written: exit at once"
  cp -a "$work/base" "$work/twice"
  # Which rename puts the checkpoint's first file in place: the renames before its folder
  # is made (the logs, config.toml, plot.svg), plus one. A dry run counts them.
  cp -a "$work/base" "$work/dry"
  strace -f -qq -o "$work/trace" -e trace=mkdir,mkdirat,rename,renameat,renameat2 \
    "$apps/pretrain" "${run[@]}" --set run.output="\"$work/dry\"" --resume --stop-after-steps 2 > /dev/null
  renames=$(sed '/step_00000006.partial"/q' "$work/trace" | grep -c 'rename')
  grep -q "rename(.*step_00000006.partial/model.safetensors.tmp" <(grep rename "$work/trace" | sed -n "$((renames + 1))p")
  set +e
  strace -f -qq -o /dev/null -e trace=mkdir,mkdirat,rename,renameat,renameat2 \
    -e inject=mkdir,mkdirat:signal=SIGTERM:when=1 \
    -e inject=rename,renameat,renameat2:signal=SIGTERM:when=$((renames + 1)) \
    "$apps/pretrain" "${run[@]}" --set run.output="\"$work/twice\"" --resume > "$work/twice.out" 2> "$work/twice.err"
  status=$?
  set -e
  cat "$work/twice.err"
  test "$status" -eq $((128 + 15))
  test -f "$work/twice/checkpoints/step_00000006.partial/model.safetensors"  # cut in the middle
  test ! -e "$work/twice/checkpoints/step_00000006"
  mv "$work/twice/checkpoints/step_00000006.partial" "$work/step_6.partial"  # good_checkpoints sees no partial
  good_checkpoints "$work/twice" 2 4
  mv "$work/step_6.partial" "$work/twice/checkpoints/step_00000006.partial"
  "$apps/pretrain" "${run[@]}" --set run.output="\"$work/twice\"" --resume > "$work/twice.out"
  grep -q "resume: continuing from $work/twice/checkpoints/step_00000004 (step 4)" "$work/twice.out"
  good_checkpoints "$work/twice" 2 4 6 8  # the partial folder replaced by the real one
  same_losses "$work/reference" "$work/twice"
  ;;

data-shard)
  long=("${run[@]}" --set schedule.steps=100000)
  step "a training shard deleted while the run reads it: the run goes on unaffected"
  cp -a "$work/data" "$work/data_deleted"
  "$apps/pretrain" "${long[@]}" --set data.path="\"$work/data_deleted\"" --set run.output="\"$work/deleted\"" \
    --stop-after-steps 80 > "$work/deleted.out" &
  job=$!
  for _ in $(seq 600); do grep -q "^step " "$work/deleted.out" && break; sleep 0.05; done
  kill -0 $job  # still training
  rm "$work/data_deleted"/train_*.bin
  wait $job
  test "$(trained_steps "$work/deleted.out" | wc -w)" -eq 80
  "$apps/pretrain" "${long[@]}" --set run.output="\"$work/reference\"" --stop-after-steps 80 > /dev/null
  same_losses "$work/reference" "$work/deleted"
  step "a resume without it is refused, naming the folder and the fix"
  exits 2 "data folder $work/data_deleted has no train" \
    "$apps/pretrain" "${long[@]}" --set data.path="\"$work/data_deleted\"" --set run.output="\"$work/deleted\"" --resume

  step "a training shard truncated while the run reads it: exit code 4 naming it, the last trained step kept"
  cp -a "$work/data" "$work/data_cut"
  # Checkpoints every 3 steps: the data fails 4 prefetched batches after the truncation,
  # between two checkpoints.
  cut=("${long[@]}" --set schedule.checkpoint_every=3)
  "$apps/pretrain" "${cut[@]}" --set data.path="\"$work/data_cut\"" --set run.output="\"$work/cut\"" \
    > "$work/cut.out" 2> "$work/cut.err" &
  job=$!
  for _ in $(seq 600); do [ -f "$work/cut/checkpoints/step_00000003/DONE" ] && break; sleep 0.05; done
  test -f "$work/cut/checkpoints/step_00000003/DONE"
  for shard in "$work/data_cut"/train_*.bin; do truncate -s 0 "$shard"; done
  set +e
  wait $job
  status=$?
  set -e
  cat "$work/cut.err"
  test "$status" -eq 4
  grep -q "pretrain: cannot read the token shard $work/data_cut/train_00000.bin any more" "$work/cut.err"
  # A checkpoint being written at that moment stays a partial folder, which no resume reads.
  for partial in "$work/cut/checkpoints"/*.partial; do [ -e "$partial" ] && mv "$partial" "$work/"; done
  mapfile -t kept < <(ls "$work/cut/checkpoints" | sed 's/^step_0*//')
  echo "checkpoints left: ${kept[*]}"
  good_checkpoints "$work/cut" "${kept[@]}"
  # Nothing trained is lost: the newest checkpoint holds the last step trained.
  trained=($(trained_steps "$work/cut.out"))
  echo "last step trained: ${trained[-1]}"
  test "${kept[-1]}" -eq "${trained[-1]}"
  [ $((trained[-1] % 3)) -eq 0 ] || grep -q "^the data failed at step $((trained[-1] + 1)): keeping step ${trained[-1]}" "$work/cut.out"
  step "the shard restored: --resume continues exactly"
  cp "$work/data"/train_*.bin "$work/data_cut/"
  "$apps/pretrain" "${cut[@]}" --set data.path="\"$work/data_cut\"" --set run.output="\"$work/cut\"" --resume \
    --stop-after-steps 2 > "$work/resumed.out"
  last=${kept[-1]}
  grep -q "resume: continuing from .*(step $last)" "$work/resumed.out"
  "$apps/pretrain" "${long[@]}" --set run.output="\"$work/reference_cut\"" --stop-after-steps $((last + 2)) > /dev/null
  same_losses "$work/reference_cut" "$work/cut"
  ;;

read-only)
  step "a run to resume, then its location made read-only"
  mkdir "$work/location"
  "$apps/pretrain" "${run[@]}" --set run.output="\"$work/location/run\"" --stop-after-steps 4 > /dev/null
  (cd "$work/location" && find . -exec stat -c '%n %s %Y' {} + | sort) > "$work/before"
  check_refused() {
    exits 4 "cannot write in the run folder $work/location/$1 .*: $2. Fix: give the job a folder on a writable file system" \
      "$apps/pretrain" "${run[@]}" --set run.output="\"$work/location/$1\"" "${@:3}"
    ! grep -q "^step " "$work/exits.out"  # refused before any training
  }
  if [ "$(id -u)" -ne 0 ]; then
    chmod -R a-w "$work/location"
    check_refused new "Permission denied"
    check_refused run "Permission denied" --resume
    chmod -R u+w "$work/location"
  else
    can_mount || skip "as root a read-only location needs a private mount namespace (CAP_SYS_ADMIN)"
    unshare -m bash -c '
      set -euo pipefail
      source "$1"
      mount --bind "$work/location" "$work/location"
      mount -o remount,bind,ro "$work/location"
      check_refused new "Read-only file system"
      check_refused run "Read-only file system" --resume
    ' bash <(declare -p work apps build run; declare -f exits check_refused)
  fi
  (cd "$work/location" && find . -exec stat -c '%n %s %Y' {} + | sort) | diff "$work/before" -
  ;;

*) echo "unknown case '$case_name' (disk-full, full-tmpfs, sigterm, data-shard, read-only)" >&2; exit 2 ;;
esac
echo "cluster failures: $case_name passed"
