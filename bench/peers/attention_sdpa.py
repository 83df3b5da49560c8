#!/usr/bin/env python3
"""PyTorch's attention on the shapes, masks and FLOP count of `apps/bench --attention`.

    python3 bench/peers/attention_sdpa.py [--rows 8] [--seq 2048] [--width 2048]
        [--head-dims 64,128] [--masks causal,prefix] [--repeats 20] [--variants sdpa,flex]

bf16 q, k, v [rows, heads, seq, head dim] (heads = width / head dim), one sample a row;
causal, or prefix-LM with the first half of the row the prompt (bidirectional) and the
rest causal, as the engine's rows. Variants:
  sdpa  torch.nn.functional.scaled_dot_product_attention: causal on the flash backend
        (is_causal=True); prefix with a boolean mask, which the flash backend does not
        take, on the memory-efficient backend;
  flex  torch.nn.attention.flex_attention (compiled) with the same mask as a block mask
        (fully masked blocks skipped, as the engine's kernels do).
FLOPs: 4 · head dim per (query, key) pair the mask lets through forward, 2.5 times that
backward; a causal row counts seq(seq+1)/2 pairs. Timing: CUDA events, warm-up runs, the
median of the repeats. Rows are printed as apps/bench prints its own, tagged with the
variant, so the two outputs sit side by side. A variant that cannot run says why.
Exit status 0 when it ran, 1 without CUDA or torch, 2 on bad arguments.
"""
import argparse
import statistics
import sys


def pairs(seq, prompt):
    return prompt * prompt + (seq * (seq + 1) - prompt * (prompt + 1)) // 2


def median_ms(torch, fn, warmup, repeats):
    for _ in range(warmup):
        fn()
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    times = []
    for _ in range(repeats):
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    return statistics.median(times)


def row(what, shape, ms, tflops):
    print(f"{what:<40} {shape:<22} {ms:9.3f} ms {tflops:9.1f} TFLOP/s", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=8)
    p.add_argument("--seq", type=int, default=2048)
    p.add_argument("--width", type=int, default=2048, help="heads × head dim")
    p.add_argument("--head-dims", default="64,128")
    p.add_argument("--masks", default="causal,prefix")
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--variants", default="sdpa,flex")
    args = p.parse_args()
    masks = args.masks.split(",")
    variants = args.variants.split(",")
    if any(m not in ("causal", "prefix") for m in masks) or any(v not in ("sdpa", "flex") for v in variants):
        p.error("--masks takes causal,prefix; --variants sdpa,flex")
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        print("attention_sdpa: torch is not importable", file=sys.stderr)
        return 1
    if not torch.cuda.is_available():
        print("attention_sdpa: no CUDA device visible", file=sys.stderr)
        return 1
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name(0)}", flush=True)

    B, T = args.rows, args.seq
    for Dh in (int(d) for d in args.head_dims.split(",")):
        H = args.width // Dh
        for mask in masks:
            prompt = T // 2 if mask == "prefix" else 0
            flops = 4.0 * Dh * pairs(T, prompt) * B * H
            shape = f"{B}x{T}x{H}x{Dh} bf16"
            gen = torch.Generator(device="cuda").manual_seed(2024)

            def operand(scale):
                x = (torch.rand(B, T, H, Dh, device="cuda", generator=gen) * 2 - 1) * scale
                return x.to(torch.bfloat16).transpose(1, 2).detach().requires_grad_(True)  # [B, H, T, Dh] view

            q, k, v = operand(2.0), operand(2.0), operand(1.0)
            dout = torch.rand(B, H, T, Dh, device="cuda", generator=gen).to(torch.bfloat16)
            i = torch.arange(T, device="cuda")
            allowed = (i[None, :] <= i[:, None]) | ((i[:, None] < prompt) & (i[None, :] < prompt))

            for variant in variants:
                try:
                    if variant == "sdpa":
                        from torch.nn.attention import SDPBackend, sdpa_kernel
                        backend = SDPBackend.FLASH_ATTENTION if mask == "causal" else SDPBackend.EFFICIENT_ATTENTION
                        tag = "sdpa flash" if mask == "causal" else "sdpa efficient, mask"

                        def forward():
                            with sdpa_kernel(backend):
                                if mask == "causal":
                                    return F.scaled_dot_product_attention(q, k, v, is_causal=True)
                                return F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
                    else:
                        from torch.nn.attention.flex_attention import create_block_mask, flex_attention
                        tag = "flex (compiled)"

                        def mask_mod(b, h, qi, ki):
                            return (ki <= qi) | ((qi < prompt) & (ki < prompt))

                        block_mask = create_block_mask(mask_mod, None, None, T, T, device="cuda")
                        compiled = torch.compile(flex_attention)

                        def forward():
                            return compiled(q, k, v, block_mask=block_mask)

                    def both():
                        out = forward()
                        out.backward(dout)

                    with torch.no_grad():
                        fwd_ms = median_ms(torch, forward, args.warmup, args.repeats)
                    both_ms = median_ms(torch, both, args.warmup, args.repeats)
                    row(f"attention forward {mask} [{tag}]", shape, fwd_ms, flops / (fwd_ms * 1e-3) / 1e12)
                    row(f"attention fwd+bwd {mask} [{tag}]", shape, both_ms, 3.5 * flops / (both_ms * 1e-3) / 1e12)
                except Exception as e:  # a variant this torch cannot run: say why, keep the others
                    print(f"attention {mask} [{variant}] {shape}: skipped: {type(e).__name__}: {e}", flush=True)
                q.grad = k.grad = v.grad = None
    return 0


if __name__ == "__main__":
    sys.exit(main())
