#!/usr/bin/python3
"""An independent PyTorch twin of the Hawk LM (docs/method.md §5, model/hawk/), for the end-to-end check.

It loads a tiny checkpoint written in the engine's format (model.safetensors: the weights by
name, the model config in the metadata), runs the packed batch of scripts/torch_twin.py
(several segments, prompts, suffixes, an empty prompt, padding) through the model in float64,
and writes the expected logits, loss and every parameter gradient to a fixture that
tests/hawk_model_tests.cpp compares against (1e-4 relative in fp32).

Everything is written literally from the semantics in the headers, one token at a time:
the depthwise convolution with resets (kernels/conv1d.h), the RG-LRU (kernels/rglru.h),
the block (model/hawk/hawk_block.h); nothing is shared with the engine but the file format.

Regenerate the committed fixture (Debian's python3-torch is enough; from the repository root):

    /usr/bin/python3 scripts/hawk_twin.py --make-checkpoint tests/fixtures/hawk_twin/model.safetensors
    /usr/bin/python3 scripts/hawk_twin.py tests/fixtures/hawk_twin/model.safetensors \\
        --out tests/fixtures/hawk_twin/expected.safetensors
"""
import math
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from torch_twin import random_checkpoint, twin_main  # noqa: E402

RGLRU_C = 8.0


def is_bidirectional(cfg, layer):
    return cfg["bidirectional"] == "all" or (cfg["bidirectional"] == "alternate" and layer % 2 == 0)


def rmsnorm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def segments(reset_row):
    """first[t], last[t]: the ends of t's segment (one starts at 0 and at every bit-0 token)."""
    T = len(reset_row)
    first, last = [0] * T, [0] * T
    for t in range(T):
        first[t] = t if t == 0 or reset_row[t] & 1 else first[t - 1]
    for t in reversed(range(T)):
        last[t] = t if t == T - 1 or reset_row[t + 1] & 1 else last[t + 1]
    return first, last


def conv1d(x, weight, bias, reset, bidirectional):
    """kernels/conv1d.h: x [B, T, C], weight [K, C], bias [C]."""
    B, T, C = x.shape
    K = weight.shape[0]
    half = C // 2 if bidirectional else C
    rows = []
    for b in range(B):
        r = [int(v) for v in reset[b]]
        first, last = segments(r)
        outs = []
        for t in range(T):
            fwd = bias[:half].clone()
            for k in range(K):
                if t - k >= first[t]:
                    fwd = fwd + weight[k, :half] * x[b, t - k, :half]
            parts = [fwd]
            if bidirectional:
                rev = bias[half:] + weight[0, half:] * x[b, t, half:]
                for k in range(1, K):
                    s = t + k
                    if s <= last[t] and not (r[t] & 2) and not (r[s] & 2):
                        rev = rev + weight[k, half:] * x[b, s, half:]
                parts.append(rev)
            outs.append(torch.cat(parts))
        rows.append(torch.stack(outs))
    return torch.stack(rows)


def rglru(proj, lam, reset, bidirectional):
    """kernels/rglru.h: proj [B, T, 3C] = [x | r | i] (the engine's two operands x and gates
    side by side), lam [C] → h [B, T, C]."""
    B, T, C3 = proj.shape
    C = C3 // 3
    half = C // 2 if bidirectional else C
    x, r, i = proj[..., :C], torch.sigmoid(proj[..., C : 2 * C]), torch.sigmoid(proj[..., 2 * C :])
    log_a = -RGLRU_C * r * F.softplus(-lam)  # a = σ(Λ)^(c·r)
    rows = []
    for b in range(B):
        rr = [int(v) for v in reset[b]]
        first, last = segments(rr)
        out = [[None, None] for _ in range(T)]
        h = torch.zeros(half, dtype=proj.dtype)
        for t in range(T):  # forward half, left to right
            sl = slice(0, half)
            drive = i[b, t, sl] * x[b, t, sl]
            if t == 0 or rr[t] & 1:
                h = drive
            else:
                a = torch.exp(log_a[b, t, sl])
                h = a * h + torch.sqrt(1 - a * a) * drive
            out[t][0] = h
        if bidirectional:
            h = torch.zeros(C - half, dtype=proj.dtype)
            for t in reversed(range(T)):  # reverse half, right to left
                sl = slice(half, C)
                drive = i[b, t, sl] * x[b, t, sl]
                if last[t] == t or rr[t] & 2:
                    h = drive
                else:
                    a = torch.exp(log_a[b, t, sl])
                    h = a * h + torch.sqrt(1 - a * a) * drive
                out[t][1] = h
        rows.append(torch.stack([torch.cat([p for p in o if p is not None]) for o in out]))
    return torch.stack(rows)


# A block's parameters after its prefix, in the order hawk_block takes them.
BLOCK_WEIGHTS = ("temporal_norm.weight", "temporal.in_proj.weight", "temporal.conv.weight", "temporal.conv.bias",
                 "temporal.gates.weight", "temporal.gates.bias", "temporal.lambda", "temporal.out_proj.weight",
                 "mlp_norm.weight", "mlp.in_proj.weight", "mlp.out_proj.weight")


def hawk_block(x, norm_w, in_w, conv_w, conv_b, gates_w, gates_b, lam, out_w, mlp_norm_w, mlp_in_w, mlp_out_w,
               reset, bidirectional, eps, conv=conv1d, rglru=rglru):
    """model/hawk/hawk_block.h; `conv` and `rglru` (signatures of conv1d and rglru) are
    swappable (the peer benchmark, bench/peers/hawk.py, runs its own)."""
    C, M = lam.shape[0], mlp_out_w.shape[1]
    u = rmsnorm(x, norm_w, eps)
    gz = F.linear(u, in_w)
    g, z = gz[..., :C], gz[..., C:]
    c = conv(z, conv_w, conv_b, reset, bidirectional)
    gates = F.linear(c, gates_w, gates_b)
    h = rglru(torch.cat([c, gates], -1), lam, reset, bidirectional)
    x = x + F.linear(F.gelu(g) * h, out_w)
    up = F.linear(rmsnorm(x, mlp_norm_w, eps), mlp_in_w)
    return x + F.linear(F.gelu(up[..., :M]) * up[..., M:], mlp_out_w)


def forward(p, cfg, tokens, reset, block=hawk_block):
    """Logits [B*T, vocab]; `block` (hawk_block's signature) is swappable."""
    x = p["embedding.weight"][tokens.long()]
    for l in range(cfg["layers"]):
        w = [p[f"blocks.{l}.{n}"] for n in BLOCK_WEIGHTS]
        x = block(x, *w, reset, is_bidirectional(cfg, l), cfg["norm_eps"])
    h = rmsnorm(x, p["final_norm.weight"], cfg["norm_eps"])
    head = p["embedding.weight"] if cfg["tie_embeddings"] else p["head.weight"]
    return F.linear(h, head).reshape(-1, cfg["vocab"])


def hawk_shapes(cfg):
    """{name: shape} of the engine's parameters, in its registry order (model/hawk/hawk_lm.cpp)."""
    D, C, V, M, K = cfg["dim"], cfg["state"], cfg["vocab"], cfg["mlp_hidden"], cfg["conv_width"]
    shapes = {"embedding.weight": (V, D)}
    for l in range(cfg["layers"]):
        pre = f"blocks.{l}."
        shapes.update({pre + "temporal_norm.weight": (D,), pre + "temporal.in_proj.weight": (2 * C, D),
                       pre + "temporal.conv.weight": (K, C), pre + "temporal.conv.bias": (C,),
                       pre + "temporal.gates.weight": (2 * C, C), pre + "temporal.gates.bias": (2 * C,),
                       pre + "temporal.lambda": (C,), pre + "temporal.out_proj.weight": (D, C),
                       pre + "mlp_norm.weight": (D,), pre + "mlp.in_proj.weight": (2 * M, D),
                       pre + "mlp.out_proj.weight": (D, M)})
    shapes["final_norm.weight"] = (D,)
    if not cfg["tie_embeddings"]:
        shapes["head.weight"] = (V, D)
    return shapes


def make_checkpoint(path):
    cfg = {"architecture": "hawk", "vocab": 11, "dim": 6, "state": 8, "layers": 2, "bidirectional": "alternate",
           "tie_embeddings": False, "norm_eps": 1e-5, "mlp_hidden": 10, "conv_width": 3}
    shapes = hawk_shapes(cfg)

    def own(name, shape, t):
        if name.endswith("lambda"):
            return 2.0 + t  # σ(Λ)^8 from about 0.1 to 0.9: the recurrence matters over the short rows
        if name.endswith("conv.weight"):
            return t / math.sqrt(shape[0])
        return None

    random_checkpoint(path, cfg, shapes, 2025, own)


if __name__ == "__main__":
    twin_main(__doc__, forward, make_checkpoint)
