# shellcheck shell=bash
# peers: the PyTorch peer benchmark (bench/peers/run.sh OUTFILE BUILD_DIR --device cuda
# --quick) in three runs, each capped, so that one cannot cost the others their rows: the
# Gated SSM's eager, fla and ascan with the scan comparison (the engine's figures from
# bench.txt when the bench stage wrote them); Hawk's eager, fla and ascan at hawk-small and
# hawk-base, step only (hawk-paper left out for the stage's time); then the Gated SSM's
# compile, step only, in what is left (torch.compile's compilation last). Absent script: a
# benign skip. Writes peers.txt: the runs' OUTFILEs.

stage_peers() {
  if [ ! -f "$repo/bench/peers/run.sh" ]; then
    record peers "bench/peers/run.sh" SKIPPED - "skipped: bench/peers/run.sh not present" benign
    return 0
  fi
  if ! gpu_visible; then no_gpu_row peers "bench/peers/run.sh"; return 0; fi
  rm -f "${result[peers]}"
  local saved_bench=() part variants part_cap extra file stdout
  grep -q '^scan forward' "${result[bench]}" 2> /dev/null && saved_bench=(--bench-output "${result[bench]}")
  for part in "main eager,fla,ascan 120" "hawk eager,fla,ascan 70" "compile compile 240"; do
    read -r part variants part_cap <<< "$part"
    extra=("${saved_bench[@]}")
    [ "$part" = hawk ] && extra=(--configs "hawk-small,hawk-base" --no-scan)
    [ "$part" = compile ] && extra=(--no-scan)
    out_of_time peers "peers $part $variants" && continue
    file="$logs/peers_$part.txt"
    stdout="$logs/peers_${part}_stdout.txt"
    # shellcheck disable=SC2086  # GPU_CHECK_PEERS_ARGS: options, split on spaces
    run_step peers "peers $part $variants" "$(cap "$part_cap")" "$stdout" \
      env PYTHONUNBUFFERED=1 bash "$repo/bench/peers/run.sh" "$file" "$build" --device cuda --quick \
        --variants "$variants" "${extra[@]}" ${GPU_CHECK_PEERS_ARGS:-}
    [ -f "$file" ] && { cat "$file"; echo; } >> "${result[peers]}"
    if [ "$step_timed_out" = 1 ] || [ "$step_rc" -ne 0 ]; then
      step_row peers "peers $part $variants" "$stdout" ""
    elif [ ! -s "$file" ]; then
      record peers "peers $part $variants" FAILED "$step_secs" "exit 0 but it wrote no $file"
    else
      record peers "peers $part $variants" ok "$step_secs" "$(grep -cE '^(hawk-)?(small|base|paper) ' "$file") step rows, $(grep -cE '^[0-9]+x[0-9]+x[0-9]+ ' "$file") scan rows"
    fi
  done
}
