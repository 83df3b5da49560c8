#!/usr/bin/python3
"""An independent PyTorch twin of the Transformer baseline LM (model/transformer/), for the
end-to-end check in tests/transformer_model_tests.cpp.

Written from the definitions, not from the engine's kernels: the attention mask is built
as a [T, T] matrix from the reset bits (kernels/attention.h: a segment starts at t = 0 and
at bit 0; query i sees key j in its segment iff j <= i, or, in a bidirectional block, both
are prompt tokens, bit 1 clear), the rotary angles from each token's position in its
segment (kernels/rotary.h, rotate-half pairs (d, d + Dh/2)), softmax attention with
-inf masking. It loads a tiny checkpoint in the engine's format (model.safetensors: the
weights by name, the model config in the metadata), runs a fixed packed batch with
several samples, empty prompts and padding through the model in float64, and writes the
expected logits, loss and every parameter gradient.

Regenerate the committed fixture (Debian's python3-torch is enough; from the repository
root):

    /usr/bin/python3 scripts/transformer_twin.py --make-checkpoint tests/fixtures/transformer_twin/model.safetensors
    /usr/bin/python3 scripts/transformer_twin.py tests/fixtures/transformer_twin/model.safetensors \\
        --out tests/fixtures/transformer_twin/expected.safetensors
"""
import math
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from torch_twin import random_checkpoint, twin_main  # noqa: E402


def rmsnorm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def segments_and_positions(reset_row):
    """Per token: its segment's index and its position inside the segment."""
    segment, position, s, p = [], [], -1, 0
    for t, r in enumerate(reset_row):
        if t == 0 or (r & 1):
            s, p = s + 1, 0
        segment.append(s)
        position.append(p)
        p += 1
    return segment, position


def attention_mask(reset_row, prefix):
    """[T, T] bool: query i may read key j."""
    segment, _ = segments_and_positions(reset_row)
    prompt = [(r & 2) == 0 for r in reset_row]
    T = len(reset_row)
    mask = torch.zeros(T, T, dtype=torch.bool)
    for i in range(T):
        for j in range(T):
            if segment[i] == segment[j] and (j <= i or (prefix and prompt[i] and prompt[j])):
                mask[i, j] = True
    return mask


def rotary(x, positions, base):
    """x [T, H, Dh] rotated by the angle position * base^(-2d/Dh) on pairs (d, d + Dh/2)."""
    Dh = x.shape[-1]
    half = Dh // 2
    inv = torch.tensor([base ** (-2.0 * d / Dh) for d in range(half)], dtype=torch.float64)
    angle = torch.tensor(positions, dtype=torch.float64)[:, None] * inv[None, :]  # [T, half]
    c, s = torch.cos(angle)[:, None, :].to(x.dtype), torch.sin(angle)[:, None, :].to(x.dtype)
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * c - x2 * s, x2 * c + x1 * s], dim=-1)


def forward(p, cfg, tokens, reset):
    """Logits [B*T, vocab]."""
    D, H, L = cfg["dim"], cfg["heads"], cfg["layers"]
    Dh = D // H
    eps, base = cfg["norm_eps"], cfg.get("rope_base", 10000.0)
    bidirectional = cfg["bidirectional"]
    rows = []
    for b in range(tokens.shape[0]):
        reset_row = [int(r) for r in reset[b]]
        _, positions = segments_and_positions(reset_row)
        T = len(reset_row)
        x = p["embedding.weight"][tokens[b].long()]  # [T, D]
        for l in range(L):
            g = lambda n: p[f"blocks.{l}.{n}"]  # noqa: E731
            prefix = bidirectional == "all" or (bidirectional == "alternate" and l % 2 == 0)
            u = rmsnorm(x, g("attention_norm.weight"), eps)
            q = rotary((u @ g("attention.q_proj.weight").T).reshape(T, H, Dh), positions, base)
            k = rotary((u @ g("attention.k_proj.weight").T).reshape(T, H, Dh), positions, base)
            v = (u @ g("attention.v_proj.weight").T).reshape(T, H, Dh)
            scores = torch.einsum("ihd,jhd->hij", q, k) / math.sqrt(Dh)
            scores = scores.masked_fill(~attention_mask(reset_row, prefix)[None], float("-inf"))
            attended = torch.einsum("hij,jhd->ihd", torch.softmax(scores, dim=-1), v).reshape(T, D)
            x = x + attended @ g("attention.out_proj.weight").T
            u = rmsnorm(x, g("mlp_norm.weight"), eps)
            hidden = F.gelu(u @ g("mlp.gate_proj.weight").T) * (u @ g("mlp.up_proj.weight").T)
            x = x + hidden @ g("mlp.out_proj.weight").T
        x = rmsnorm(x, p["final_norm.weight"], eps)
        head = p["embedding.weight"] if cfg["tie_embeddings"] else p["head.weight"]
        rows.append(x @ head.T)
    return torch.cat(rows, dim=0)


def make_checkpoint(path):
    cfg = {"architecture": "transformer", "vocab": 11, "dim": 8, "state": 0, "layers": 3, "heads": 2,
           "mlp_hidden": 12, "rope_base": 100.0, "bidirectional": "alternate", "tie_embeddings": False,
           "norm_eps": 1e-5}
    D, M, V = cfg["dim"], cfg["mlp_hidden"], cfg["vocab"]
    shapes = {"embedding.weight": (V, D)}
    for l in range(cfg["layers"]):
        shapes.update({f"blocks.{l}.attention_norm.weight": (D,), f"blocks.{l}.attention.q_proj.weight": (D, D),
                       f"blocks.{l}.attention.k_proj.weight": (D, D), f"blocks.{l}.attention.v_proj.weight": (D, D),
                       f"blocks.{l}.attention.out_proj.weight": (D, D), f"blocks.{l}.mlp_norm.weight": (D,),
                       f"blocks.{l}.mlp.gate_proj.weight": (M, D), f"blocks.{l}.mlp.up_proj.weight": (M, D),
                       f"blocks.{l}.mlp.out_proj.weight": (D, M)})
    shapes.update({"final_norm.weight": (D,), "head.weight": (V, D)})

    def own(name, shape, t):
        # q and k larger than 1/sqrt(fan_in), so the softmax is far from uniform.
        if "q_proj" in name or "k_proj" in name:
            return 2.0 * t / math.sqrt(shape[1])
        return None

    random_checkpoint(path, cfg, shapes, 2025, own)


if __name__ == "__main__":
    twin_main(__doc__, forward, make_checkpoint)
