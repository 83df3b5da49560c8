#!/usr/bin/env bash
# Runs one fuzz harness (tests/fuzz/) on its seeds, as CTest does:
#   run_harness.sh HARNESS WORKDIR [FLAGS...] -- SEED...
# The seeds (files, or every file of a folder) are copied into WORKDIR/seeds; the harness
# runs on WORKDIR/corpus (where a libFuzzer build keeps the new inputs it finds, from one
# run to the next) and WORKDIR/seeds, and writes a failing input into WORKDIR. FLAGS are
# libFuzzer's (-runs=N -seed=S -max_len=L -timeout=T), which driver.cpp reads too.
#   BIRDIE_FUZZ_SECONDS=S  fuzz for S seconds instead of the fixed number of runs
#   BIRDIE_FUZZ_SEED=N     another seed for the mutations
set -euo pipefail
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
if [ -n "${BIRDIE_FUZZ_SEED:-}" ]; then
  flags=("${flags[@]/#-seed=*/-seed=$BIRDIE_FUZZ_SEED}")
fi
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
echo "fuzz: $(basename "$harness") on $n seed files (${*}) with ${flags[*]}"
exec "$harness" "${flags[@]}" -artifact_prefix="$work/" "$work/corpus" "$work/seeds"
