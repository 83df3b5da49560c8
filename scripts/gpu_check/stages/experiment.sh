# shellcheck shell=bash
# experiment: the Birdie comparison (apps/experiment on GPU_CHECK_EXPERIMENT_CONFIG), or a
# piece of it: the arms GPU_CHECK_EXPERIMENT_ARMS (default: every arm of the file, comma-
# or space-separated) at the seeds GPU_CHECK_EXPERIMENT_SEEDS (default 1, e.g. "2,3"), each
# arm as its own process at once: a small model leaves the GPU idle during each arm's
# evaluations, critic and fine-tuning, so two arms side by side take little longer than
# one; arms are independent run folders and batches do not depend on timing, so only the
# wall times change. Then --report-only reads every arm. Writes experiment.txt: each arm's
# log, clipped, and the report; and OUTDIR/pieces/<output>/<arm>/seed-<s>/, each finished
# unit's results without its checkpoints (JSON, logs, config: small enough to commit), which
# `experiment --report-only --from DIR` merges with the other pieces.

experiment_config=${GPU_CHECK_EXPERIMENT_CONFIG:-configs/experiments/small-gpu.toml}

# Interrupted at the limit, the arms stop cleanly (SIGINT: pretrain writes its checkpoint)
# and the same stage resumes them on the same machine.
stage_experiment() {
  built experiment "$build/apps/experiment" "$build/apps/pretrain" "$build/apps/phonebook_eval" || return 1
  local config="$repo/$experiment_config" run_config data arms arm pids=() rc failed=() i t0=$SECONDS
  local report=${result[experiment]}
  [ -f "$config" ] || config=$experiment_config
  run_config=$(sed -n -E 's/^run *= *"([^"]+)".*/\1/p' "$config")
  data=$(sed -n -E 's/^path *= *"([^"]+)".*/\1/p' "$repo/$run_config")
  if [ ! -f "$repo/$data/manifest.json" ]; then
    record experiment "-" SKIPPED - "no prepared data in $data (prepare it here with prepare_data and carry it)"
    return 1
  fi
  if ! gpu_visible; then no_gpu_row experiment "$experiment_config"; return 0; fi
  local seeds=${GPU_CHECK_EXPERIMENT_SEEDS:-1} output
  if [ -n "${GPU_CHECK_EXPERIMENT_ARMS:-}" ]; then
    read -r -a arms <<< "$(echo "$GPU_CHECK_EXPERIMENT_ARMS" | tr ',' ' ')"
  else
    read -r -a arms <<< "$(sed -n -E 's/^arms *= *\[(.*)\].*/\1/p' "$config" | tr -d '",')"
  fi
  output=$(sed -n -E 's/^output *= *"([^"]+)".*/\1/p' "$config")
  : > "$report"
  local lim; lim=$(cap "$stage_limit")
  log_note ""
  log_note "=== [experiment] ${arms[*]} (seeds $seeds) at once, limit $lim s ($(date -u +%T)): experiment --config $experiment_config"
  for arm in "${arms[@]}"; do
    (cd "$repo" && exec timeout -s INT -k 30 "$lim" "${line_buffered[@]}" "$build/apps/experiment" --config "$config" \
      --arms "$arm" --seeds "$seeds" --drop-checkpoints) < /dev/null > "$logs/experiment_$arm.txt" 2>&1 &
    pids+=($!)
  done
  for i in "${!arms[@]}"; do
    wait "${pids[$i]}"; rc=$?
    { echo "=== arm ${arms[$i]}: exit status $rc after $((SECONDS - t0)) s"; clip "$logs/experiment_${arms[$i]}.txt" 30 40; echo; } \
      >> "$report"
    [ "$rc" -eq 0 ] || failed+=("${arms[$i]} (exit $rc)")
  done
  (cd "$repo" && "$build/apps/experiment" --config "$config" --report-only) > "$logs/experiment_report.txt" 2>&1
  { echo "=== report"; cat "$logs/experiment_report.txt"; } >> "$report"
  # The finished units' results come back; checkpoints (dropped by then) do not.
  local unit
  for unit in "$repo/$output"/*/seed-*/; do
    [ -f "$unit/experiment_state.json" ] || continue
    mkdir -p "$out/pieces/$output/$(basename "$(dirname "$unit")")"
    rsync -a --exclude checkpoints --exclude tokenizer.model "$unit" \
      "$out/pieces/$output/$(basename "$(dirname "$unit")")/$(basename "$unit")/" 2>/dev/null ||
      cp -r "$unit" "$out/pieces/$output/$(basename "$(dirname "$unit")")/"
  done
  cp "$repo/$output"/results.* "$out/pieces/$output/" 2>/dev/null
  local secs=$((SECONDS - t0))
  if [ ${#failed[@]} -gt 0 ]; then
    record experiment "${arms[*]}" FAILED "$secs" "${failed[*]}"
  else
    record experiment "${arms[*]}" ok "$secs" "digit accuracy over every book: $(awk -F'|' '/^## Phone-book/ { t = 1; next }
      /^## / { t = 0 } t && $3 ~ /[0-9]/ { gsub(/ /, "", $2); gsub(/ /, "", $3); printf "%s %s; ", $2, $3 }' \
      "$logs/experiment_report.txt")"
  fi
}
