# shellcheck shell=bash
# peers: the PyTorch peer benchmark (bench/peers/run.sh OUTFILE BUILD_DIR --device cuda
# --quick) in two runs, so torch.compile's compilation cannot cost the others their rows:
# eager, fla and ascan with the scan comparison (the engine's figures from bench.txt when
# the bench stage wrote them), then compile, step only, in what is left. Absent script: a
# benign skip. Writes peers.txt: both runs' OUTFILEs.

stage_peers() {
  if [ ! -f "$repo/bench/peers/run.sh" ]; then
    record peers "bench/peers/run.sh" SKIPPED - "skipped: bench/peers/run.sh not present" benign
    return 0
  fi
  if ! gpu_visible; then no_gpu_row peers "bench/peers/run.sh"; return 0; fi
  rm -f "${result[peers]}"
  local saved_bench=() part variants part_cap extra file stdout
  grep -q '^scan forward' "${result[bench]}" 2> /dev/null && saved_bench=(--bench-output "${result[bench]}")
  for part in "main eager,fla,ascan 150" "compile compile 240"; do
    read -r part variants part_cap <<< "$part"
    extra=("${saved_bench[@]}")
    [ "$part" = compile ] && extra=(--no-scan)
    out_of_time peers "peers $variants" && continue
    file="$logs/peers_$part.txt"
    stdout="$logs/peers_${part}_stdout.txt"
    # shellcheck disable=SC2086  # GPU_CHECK_PEERS_ARGS: options, split on spaces
    run_step peers "peers $variants" "$(cap "$part_cap")" "$stdout" \
      env PYTHONUNBUFFERED=1 bash "$repo/bench/peers/run.sh" "$file" "$build" --device cuda --quick \
        --variants "$variants" "${extra[@]}" ${GPU_CHECK_PEERS_ARGS:-}
    [ -f "$file" ] && { cat "$file"; echo; } >> "${result[peers]}"
    if [ "$step_timed_out" = 1 ] || [ "$step_rc" -ne 0 ]; then
      step_row peers "peers $variants" "$stdout" ""
    elif [ ! -s "$file" ]; then
      record peers "peers $variants" FAILED "$step_secs" "exit 0 but it wrote no $file"
    else
      record peers "peers $variants" ok "$step_secs" "$(grep -cE '^(small|base|paper) ' "$file") step rows, $(grep -cE '^[0-9]+x[0-9]+x[0-9]+ ' "$file") scan rows"
    fi
  done
}
