#!/usr/bin/env bash
# Runs one fuzz harness (tests/fuzz/) on its seeds, as CTest does:
#   run_harness.sh HARNESS WORKDIR [FLAGS...] -- SEED...
# The seeds (files, or every file of a folder) are copied into WORKDIR/seeds; the harness
# runs on WORKDIR/corpus (where a libFuzzer build keeps the new inputs it finds, from one
# run to the next) and WORKDIR/seeds, and writes a failing input into WORKDIR. FLAGS are
# libFuzzer's (-runs=N -max_len=L -timeout=T), which driver.cpp reads too.
#   BIRDIE_FUZZ_SECONDS=S  fuzz for S seconds instead of the fixed number of runs
#   BIRDIE_FUZZ_SEED=N     the seed of the mutations. Unset, it is drawn from the source's
#                          commit and the day (UTC): every CI run on a new commit or a new
#                          day explores other inputs, and the same commit on the same day
#                          repeats them. The seed is printed, and on a failure the commands
#                          that replay it.
set -euo pipefail
arguments=("$@")
harness=$1
work=$2
shift 2
flags=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  flags+=("$1")
  shift
done
[ $# -gt 0 ] && shift
if [ -n "${BIRDIE_FUZZ_SECONDS:-}" ] && [ "$BIRDIE_FUZZ_SECONDS" != 0 ]; then
  flags=("${flags[@]/#-runs=*/-runs=-1}" "-max_total_time=$BIRDIE_FUZZ_SECONDS")
fi
mutation_seed=${BIRDIE_FUZZ_SEED:-}
if [ -z "$mutation_seed" ]; then
  source_dir=$(cd "$(dirname "$0")/../.." && pwd)
  commit=$(git -C "$source_dir" rev-parse HEAD 2> /dev/null || echo "no-commit")
  mutation_seed=$(( 16#$(printf '%s %s' "$commit" "$(date -u +%F)" | sha256sum | cut -c1-7) + 1 ))
fi
kept=()
for flag in ${flags[@]+"${flags[@]}"}; do [[ $flag == -seed=* ]] || kept+=("$flag"); done
flags=(${kept[@]+"${kept[@]}"} "-seed=$mutation_seed")
rm -rf "$work/seeds"
mkdir -p "$work/seeds" "$work/corpus"
n=0
for seed in "$@"; do
  if [ -d "$seed" ]; then find "$seed" -type f | LC_ALL=C sort; else echo "$seed"; fi
done > "$work/seed_files"
while IFS= read -r file; do
  n=$((n + 1))
  cp "$file" "$work/seeds/$(printf '%03d' "$n")-$(basename "$file")"
done < "$work/seed_files"
name=$(basename "$harness")
echo "fuzz: $name on $n seed files (${*}) with ${flags[*]} (mutation seed $mutation_seed)"
status=0
"$harness" "${flags[@]}" -artifact_prefix="$work/" "$work/corpus" "$work/seeds" || status=$?
if [ "$status" -ne 0 ]; then
  echo "fuzz: $name failed with mutation seed $mutation_seed. Replay this run:"
  echo "  BIRDIE_FUZZ_SEED=$mutation_seed bash $(printf '%q' "$0")$(printf ' %q' "${arguments[@]}")"
  for input in $(ls -t "$work"/crash-* "$work"/timeout-* "$work"/leak-* "$work"/oom-* 2> /dev/null | head -1); do
    echo "fuzz: replay the failing input alone: $harness $input"
  done
fi
exit "$status"
