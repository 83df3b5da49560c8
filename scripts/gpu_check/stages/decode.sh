# shellcheck shell=bash
# decode: decoding on the device (model/batch_generator.h). First the decoding GPU suite
# (cuda_generation_tests: the sampling kernel against the CPU reference, the batched
# decoding attention, and for each architecture the graph-captured step against the plain
# launches, which must give the same tokens); then apps/decode_bench at bf16 for each model
# of GPU_CHECK_DECODE_MODELS (configs/model/<name>.toml; default: the three architectures
# at small and base): batches 1, 8 and 64, 128 tokens a row, the graph and the plain path,
# batch 1 against the weight-bandwidth bound (the measured copy bandwidth); then the
# PyTorch peer bench/peers/decode.py (the Gated SSM's step, eager and
# torch.compile(mode="reduce-overhead"), small and base, with decode_bench's figures from
# the same command), when a Python with torch is found ($PYTHON, python3, /usr/bin/python3).
# Writes decode.txt: each run's output, clipped, and the peer's table.

decode_bench_cap=60
decode_peer_cap=300
# shellcheck disable=SC2206  # names split at spaces
decode_models=(${GPU_CHECK_DECODE_MODELS:-small base hawk-small hawk-base transformer-small transformer-base})

stage_decode() {
  built decode "$build/tests/cuda_generation_tests" "$build/apps/decode_bench" || return 1
  local report=${result[decode]}
  gpu_report decode "cuda_generation_tests, decode_bench ${decode_models[*]}" || return 0
  local model name file figures python
  if ! out_of_time decode cuda_generation_tests; then
    file="$logs/decode_cuda_generation_tests.txt"
    run_step decode cuda_generation_tests "$(cap 120)" "$file" "$build/tests/cuda_generation_tests" --duration=true
    clip_step "$report" cuda_generation_tests "$file" 30 30
    step_row decode cuda_generation_tests "$file" "$(doctest_counts "$file")"
  fi
  for model in "${decode_models[@]}"; do
    name="decode_bench $model bf16"
    out_of_time decode "$name" && continue
    file="$logs/decode_bench_$model.txt"
    run_step decode "$name" "$(cap "$decode_bench_cap")" "$file" "$build/apps/decode_bench" \
      --model "$repo/configs/model/$model.toml" --device cuda --precision bf16 --batches 1,8,64 --tokens 128 \
      --json "$logs/decode_bench_$model.json"
    clip_step "$report" "$name" "$file" 20 10
    figures=$(grep -oE 'bound [0-9]+ tokens/s|batch +[0-9]+ +(graph|plain) +[0-9]+ tokens/s|[0-9]+% of the bound' "$file" |
              sed -E 's/ +/ /g' | paste -sd ',' | sed 's/,/, /g')
    step_row decode "$name" "$file" "$figures"
  done
  python=$(torch_python tomllib)
  if [ -z "$python" ]; then
    record decode "bench/peers/decode.py" SKIPPED - "skipped: no Python with torch (set PYTHON)" benign
    return 0
  fi
  out_of_time decode "torch peer" && return 0
  file="$logs/decode_peer.txt"
  run_step decode "torch peer" "$(cap "$decode_peer_cap")" "$logs/decode_peer_stdout.txt" \
    env PYTHONUNBUFFERED=1 "$python" "$repo/bench/peers/decode.py" --out "$file" --build "$build" --device cuda \
      --configs small,base --batches 1,8,64 --tokens 128
  [ -f "$file" ] && { echo "== bench/peers/decode.py"; cat "$file"; echo; } >> "$report"
  step_row decode "torch peer" "$logs/decode_peer_stdout.txt" "$(grep -cE '^(small|base) ' "$file" 2> /dev/null) rows"
}
