"""The Gated SSM LM (docs/method.md §5) in plain PyTorch, shaped and initialized as the engine's.

Used by scripts/torch_twin.py (the float64 twin behind tests/fixtures/twin) and by the
peer benchmark (bench/peers/peers.py). Runs on Debian's torch 1.13 as well as on
torch 2.x.

Parameters are a dict name -> tensor with the engine's names and shapes
(model/gated_ssm_lm.cpp, model/gated_ssm_block.cpp). The gated scan comes in two forms:

- reference_gated_scan: the recurrence one step at a time, the literal reading of
  kernels/scan.h (slow; the fixture and every correctness check use it);
- gated_scan(proj, reset, bidirectional, recurrence): the same op with the linear
  recurrence h_t = a_t * h_{t-1} + x_t left to a pluggable `recurrence` (a chunked eager
  scan here, flash-linear-attention or accelerated-scan kernels in peers.py). The reverse
  half of a bidirectional scan runs on the time-flipped sequence, so every recurrence is
  causal and both halves go through one call.
"""
import math
import tomllib

import torch
import torch.nn.functional as F

MODEL_KEYS = {"vocab", "dim", "state", "layers", "bidirectional", "tie_embeddings", "norm_eps"}


def architecture(path):
    """model.architecture of a configuration file (the engine's default: gated_ssm)."""
    with open(path, "rb") as f:
        return tomllib.load(f).get("model", {}).get("architecture", "gated_ssm")


def load_config(path, keys=MODEL_KEYS, defaults=None, expected="gated_ssm"):
    """The [model] table of a model or run configuration (configs/model/*.toml): `keys`,
    those absent taken from `defaults`; the architecture must be `expected`."""
    with open(path, "rb") as f:
        table = tomllib.load(f).get("model")
    if table is None:
        raise ValueError(f"{path}: no [model] table")
    if table.get("architecture", "gated_ssm") != expected:
        raise ValueError(f"{path}: architecture {table['architecture']}, not {expected}")
    table = {**(defaults or {}), **table}
    missing = keys - set(table)
    if missing:
        raise ValueError(f"{path}: [model] lacks {', '.join(sorted(missing))}")
    return {k: table[k] for k in keys}


def is_bidirectional(cfg, layer):
    return cfg["bidirectional"] == "all" or (cfg["bidirectional"] == "alternate" and layer % 2 == 0)


def parameter_count(cfg):
    D, N, V, L = cfg["dim"], cfg["state"], cfg["vocab"], cfg["layers"]
    block = D + 4 * N * D + 4 * N + D * N
    return V * D + L * block + D + (0 if cfg["tie_embeddings"] else V * D)


def init_parameters(cfg, device="cpu", seed=1):
    """The engine's scheme (model/gated_ssm_block.cpp, model/initialization.h): norms 1,
    biases 0, matrices truncated normal (±2σ) with σ = 1/sqrt(fan_in), out_proj further
    scaled by 1/sqrt(2·layers), the embedding σ = 1. Same distribution, not the same
    numbers (the engine draws from its own Philox stream). fp32, requiring gradients."""
    D, N, V, L = cfg["dim"], cfg["state"], cfg["vocab"], cfg["layers"]
    shapes = {"embedding.weight": (V, D)}
    for l in range(L):
        shapes.update({f"blocks.{l}.norm.weight": (D,), f"blocks.{l}.in_proj.weight": (4 * N, D),
                       f"blocks.{l}.in_proj.bias": (4 * N,), f"blocks.{l}.out_proj.weight": (D, N)})
    shapes["final_norm.weight"] = (D,)
    if not cfg["tie_embeddings"]:
        shapes["head.weight"] = (V, D)
    return initialize(shapes, L, device, seed)


def initialize(shapes, layers, device="cpu", seed=1, own=lambda name, shape: None):
    """Parameters {name: shape} by the rules of model/initialization.h, drawn in order;
    `own(name, shape)` gives a parameter's own start: a tensor (its values) or a float
    (the truncated normal's σ), or None for the rules."""
    g = torch.Generator(device=device).manual_seed(seed)
    params = {}
    for name, shape in shapes.items():
        mine = own(name, shape)
        if isinstance(mine, torch.Tensor):
            t = mine.to(device=device, dtype=torch.float32)
        elif mine is None and name.endswith("norm.weight"):
            t = torch.ones(shape, device=device)
        elif mine is None and name.endswith(".bias"):
            t = torch.zeros(shape, device=device)
        else:
            std = 1.0 if name == "embedding.weight" else 1.0 / math.sqrt(shape[1])
            if name.endswith("out_proj.weight"):
                std /= math.sqrt(2.0 * layers)
            std = std if mine is None else mine
            # torch.nn.init.trunc_normal_ takes no generator in torch 1.13: inverse CDF by hand.
            u = torch.rand(shape, generator=g, device=device) * (2 * _PHI2 - 1) + (1 - _PHI2)
            t = torch.erfinv(2 * u - 1) * (math.sqrt(2.0) * std)
        params[name] = t.requires_grad_(True)
    return params


_PHI2 = 0.5 * (1.0 + math.erf(2.0 / math.sqrt(2.0)))  # Φ(2)


def decays(name):
    """Whether AdamW decays this parameter: matrices yes, norms and biases no. (The engine
    also exempts the forget-gate rows [N, 2N) of in_proj.weight; a peer decays the whole
    matrix, which changes no timing.)"""
    return not (name.endswith("norm.weight") or name.endswith(".bias"))


def reference_gated_scan(proj, reset, bidirectional):
    """y = GeLU(o) * h with h_t = sigmoid(f) h_prev + sigmoid(i) z, the reset bit set of kernels/scan.h."""
    B, T, four_n = proj.shape
    N = four_n // 4
    i, f, z, o = proj.split(N, dim=-1)
    drive, keep = torch.sigmoid(i) * z, torch.sigmoid(f)
    start, causal = (reset & 1) != 0, (reset & 2) != 0
    nf = N // 2 if bidirectional else N
    h, states = torch.zeros(B, nf, dtype=proj.dtype, device=proj.device), []
    for t in range(T):
        h = torch.where(start[:, t, None], torch.zeros_like(h), keep[:, t, :nf] * h) + drive[:, t, :nf]
        states.append(h)
    H = torch.stack(states, 1)
    if bidirectional:
        h, back = torch.zeros(B, N - nf, dtype=proj.dtype, device=proj.device), [None] * T
        last = torch.ones(B, dtype=torch.bool, device=proj.device)
        for t in reversed(range(T)):
            stop = causal[:, t] | (start[:, t + 1] if t + 1 < T else last)
            h = torch.where(stop[:, None], torch.zeros_like(h), keep[:, t, nf:] * h) + drive[:, t, nf:]
            back[t] = h
        H = torch.cat([H, torch.stack(back, 1)], dim=-1)
    return torch.nn.functional.gelu(o) * H


def restart_mask(reset, N, bidirectional):
    """[B, T, N] bool in scan order: where the recurrence forgets the previous state.
    Causal channels restart at a segment start (bit 0); the reverse channels, seen on the
    time-flipped sequence, restart where the reverse scan stops: at a causal token (bit 1)
    and at the last token of a segment."""
    B, T = reset.shape
    start = (reset & 1) != 0
    if not bidirectional:
        return start[:, :, None].expand(B, T, N)
    nf = N // 2
    next_start = torch.cat([start[:, 1:], torch.ones_like(start[:, :1])], dim=1)
    stop = ((reset & 2) != 0) | next_start
    return torch.cat([start[:, :, None].expand(B, T, nf), stop.flip(1)[:, :, None].expand(B, T, N - nf)], dim=-1)


def to_scan_order(t, bidirectional):
    """Flips the reverse half's channels in time (its own inverse)."""
    if not bidirectional:
        return t
    nf = t.shape[-1] // 2
    return torch.cat([t[..., :nf], t[..., nf:].flip(1)], dim=-1)


def gated_scan(proj, reset, bidirectional, recurrence):
    """reference_gated_scan with the recurrence left to `recurrence(f, x, restart)`: f the
    forget-gate pre-activations and x = sigmoid(i) * z, both [B, T, N] in scan order, restart
    the mask of restart_mask. It returns h in scan order (any float dtype). Elementwise
    work stays in proj's dtype; the recurrence chooses its own."""
    N = proj.shape[-1] // 4
    i, f, z, o = proj.split(N, dim=-1)
    x = to_scan_order(torch.sigmoid(i) * z, bidirectional)
    h = recurrence(to_scan_order(f, bidirectional), x, restart_mask(reset, N, bidirectional))
    return F.gelu(o) * to_scan_order(h, bidirectional).to(proj.dtype)


def chunked_linear_scan(a, x, chunk=64):
    """h_t = a_t * h_{t-1} + x_t along dim 1 of [B, T, N] (h_{-1} = 0), without autograd:
    a sequential pass inside chunks of `chunk` steps (all chunks at once), then one over
    the chunks carrying the state in, so 2·sqrt(T) vector steps instead of T."""
    B, T, N = x.shape
    C = min(chunk, T)
    pad = (-T) % C
    if pad:
        a, x = F.pad(a, (0, 0, 0, pad)), F.pad(x, (0, 0, 0, pad))
    K = (T + pad) // C
    a4, x4 = a.reshape(B, K, C, N), x.reshape(B, K, C, N)
    steps = [x4[:, :, 0]]
    for c in range(1, C):
        steps.append(torch.addcmul(x4[:, :, c], a4[:, :, c], steps[-1]))
    h = torch.stack(steps, dim=2)
    decay = torch.cumprod(a4, dim=2)  # product of the gates since the chunk's start
    carry = [torch.zeros_like(h[:, 0, 0])]
    for k in range(1, K):
        carry.append(torch.addcmul(h[:, k - 1, -1], decay[:, k - 1, -1], carry[-1]))
    h = torch.addcmul(h, decay, torch.stack(carry, dim=1)[:, :, None])
    return h.reshape(B, K * C, N)[:, :T]


class LinearScan(torch.autograd.Function):
    """chunked_linear_scan with its gradient: dx_t = dh_t + a_{t+1} dx_{t+1} (the same scan
    on the flipped sequence), da_t = dx_t * h_{t-1}. Saves a and h only."""

    @staticmethod
    def forward(ctx, a, x):
        h = chunked_linear_scan(a, x)
        ctx.save_for_backward(a, h)
        return h

    @staticmethod
    def backward(ctx, dh):
        a, h = ctx.saved_tensors
        a_next = torch.cat([a[:, 1:], torch.zeros_like(a[:, :1])], dim=1)
        dx = chunked_linear_scan(a_next.flip(1), dh.flip(1)).flip(1)
        h_prev = torch.cat([torch.zeros_like(h[:, :1]), h[:, :-1]], dim=1)
        return dx * h_prev, dx


def eager_recurrence(f, x, restart):
    """The eager peer's recurrence: the chunked scan in fp32 (the engine's state is fp32)."""
    a = torch.sigmoid(f.float()).masked_fill(restart, 0.0)
    return LinearScan.apply(a, x.float())


def rmsnorm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def gated_ssm_block(x, norm_w, in_w, in_b, out_w, reset, bidirectional, eps, scan):
    """x + out_proj(scan(in_proj(rmsnorm(x))))."""
    proj = F.linear(rmsnorm(x, norm_w, eps), in_w, in_b)
    return x + F.linear(scan(proj, reset, bidirectional), out_w)


def forward(p, cfg, tokens, reset, scan=reference_gated_scan, block=gated_ssm_block):
    """Logits [B*T, vocab]; `scan(proj, reset, bidirectional)` and `block` are swappable."""
    x = p["embedding.weight"][tokens.long()]
    for l in range(cfg["layers"]):
        w = [p[f"blocks.{l}.{n}"] for n in ("norm.weight", "in_proj.weight", "in_proj.bias", "out_proj.weight")]
        x = block(x, *w, reset, is_bidirectional(cfg, l), cfg["norm_eps"], scan)
    h = rmsnorm(x, p["final_norm.weight"], cfg["norm_eps"])
    head = p["embedding.weight"] if cfg["tie_embeddings"] else p["head.weight"]
    return F.linear(h, head).reshape(-1, cfg["vocab"])


def random_batch(rows, seq, vocab, device="cpu", seed=123):
    """A packed batch like apps/step_bench's: samples of 200-600 tokens (shorter at a row's
    end), each a prompt read both ways then a causal half; targets on the causal half."""
    g = torch.Generator(device="cpu").manual_seed(seed)
    reset = torch.zeros(rows, seq, dtype=torch.int32)
    for r in range(rows):
        t = 0
        while t < seq:
            length = min(200 + int(torch.randint(400, (1,), generator=g)), seq - t)
            reset[r, t] = 1
            reset[r, t + length // 2 : t + length] |= 2
            t += length
    tokens = torch.randint(vocab, (rows, seq), generator=g, dtype=torch.int32)
    targets = torch.where((reset & 2) != 0, tokens, torch.full_like(tokens, -1))
    return tokens.to(device), targets.to(device), reset.to(device)
