# shellcheck shell=bash
# attention: the engine's attention against PyTorch's in one stage, on the same shapes,
# masks and FLOP count: apps/bench --attention (bf16, 8 rows of T = 2048, heads × head
# dim 2048 at head dims 64 and 128, causal and prefix-LM, forward and forward+backward
# TFLOP/s against the measured bf16 GEMM peak), then bench/peers/attention_sdpa.py
# (scaled_dot_product_attention: flash for causal, memory-efficient with the prefix mask;
# FlexAttention with a block mask). The Python is $PYTHON, else the first of python3,
# /usr/bin/python3 that imports torch. Writes attention.txt: both outputs.

stage_attention() {
  built attention "$build/apps/bench" || return 1
  if ! gpu_visible; then no_gpu_row attention "apps/bench --attention"; return 0; fi
  local output=${result[attention]} engine="$logs/attention_engine.txt" peer="$logs/attention_peer.txt"
  local python
  rm -f "$output"
  out_of_time attention "apps/bench --attention" && return 1
  run_step attention "apps/bench --attention" "$(cap 90)" "$engine" "${line_buffered[@]}" "$build/apps/bench" --attention
  cat "$engine" >> "$output"
  step_row attention "apps/bench --attention" "$engine" \
    "$(grep -m 1 'attention fwd+bwd causal .*x128 ' "$engine" | tr -s ' ' | cut -c1-160)"
  python=$(torch_python)
  if [ -z "$python" ]; then
    record attention "attention_sdpa.py" SKIPPED - "no Python with torch (tried ${PYTHON:-} python3 /usr/bin/python3)"
    return 0
  fi
  out_of_time attention "attention_sdpa.py" && return 1
  run_step attention "attention_sdpa.py" "$(cap 240)" "$peer" env PYTHONUNBUFFERED=1 "$python" \
    "$repo/bench/peers/attention_sdpa.py"
  { echo; cat "$peer"; } >> "$output"
  step_row attention "attention_sdpa.py" "$peer" "$(grep -c 'TFLOP/s' "$peer") rows, $(grep -c 'skipped' "$peer") skipped"
}
