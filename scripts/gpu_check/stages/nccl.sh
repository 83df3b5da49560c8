# shellcheck shell=bash
# nccl: the data-parallel NCCL path on the one GPU there is. pretrain (configs/tiny-cpu.toml
# on cuda, next-token, 10 steps) plain, then with its collectives through a one-rank NCCL
# communicator (BIRDIE_NCCL=1): in one bucket after the backward pass; in a bucket per block
# during it (on NCCL's own stream); with ZeRO-1 (the gradient reduce-scatter and the weights'
# all-gather through NCCL), in one bucket and in a bucket per block. Each must log the plain
# run's losses and gradient norms, bit for bit. Writes no result file (the runs are in the
# logs folder).

nccl_variants=(nccl buckets zero zero-buckets)

stage_nccl() {
  built nccl "$build/apps/pretrain" || return 1
  local vocab variant args t0 library passed=()
  prepared_data nccl || return 1
  if ! gpu_visible; then no_gpu_row nccl "BIRDIE_NCCL=1 against plain"; return 0; fi
  # Without NCCL in the build, BIRDIE_NCCL=1 is ignored and the runs would agree trivially.
  library=$(sed -n 's/^NCCL_LIBRARY:FILEPATH=//p' "$build/CMakeCache.txt" 2> /dev/null)
  if [ -z "$library" ] || [[ $library == *NOTFOUND ]]; then
    record nccl "-" FAILED - "this build has no NCCL (NCCL_LIBRARY ${library:-unset} in $build/CMakeCache.txt)"
    return 1
  fi
  t0=$SECONDS
  for variant in plain "${nccl_variants[@]}"; do
    rm -rf "$logs/nccl-$variant"
    args=(--config "$repo/configs/tiny-cpu.toml" --set 'run.device="cuda"' --set "data.path=\"$pretrain_data\""
          --set "model.vocab=$vocab" --set "run.output=\"$logs/nccl-$variant\"" --set 'objectives.mixture="ntp"'
          --set schedule.steps=10 --set schedule.log_every=1)
    [[ $variant == *buckets ]] && args+=(--set optimizer.bucket_mib=0.01)
    [[ $variant == zero* ]] && args+=(--set optimizer.zero=1)
    run_step nccl "$variant" "$(cap 30)" "$logs/nccl_$variant.txt" \
      env "BIRDIE_NCCL=$([ "$variant" = plain ] && echo 0 || echo 1)" "$build/apps/pretrain" "${args[@]}"
    if [ "$step_rc" -ne 0 ]; then
      record nccl "$variant" FAILED "$step_secs" "exit $step_rc: $(tail -n 1 "$logs/nccl_$variant.txt" | cut -c1-160)"
      [ "$variant" = plain ] && return 1
    elif [ "$variant" != plain ]; then
      passed+=("$variant")
    fi
  done
  for variant in "${passed[@]}"; do
    if cmp -s <(grep -oE '"(loss|grad_norm)":[^,]+' "$logs/nccl-plain/metrics.jsonl") \
              <(grep -oE '"(loss|grad_norm)":[^,]+' "$logs/nccl-$variant/metrics.jsonl"); then
      record nccl "BIRDIE_NCCL=1 ($variant) against plain" ok $((SECONDS - t0)) "10 steps, the same losses and gradient norms, bit for bit ($library)"
    else
      record nccl "BIRDIE_NCCL=1 ($variant) against plain" FAILED $((SECONDS - t0)) "the logged losses or gradient norms differ"
    fi
  done
}
