"""The Hawk LM (Griffin's RG-LRU block, docs/method.md §5, model/hawk/) in plain PyTorch, for the peer benchmark.

The block, the forward pass, the parameter shapes and the step-by-step references (the
convolution and the RG-LRU, float64-exact) are scripts/hawk_twin.py's, imported; this
file adds what a training step needs: the engine's initialization (model/hawk/hawk_block.cpp,
model/initialization.h), the convolution with resets as a few shifted products, and the
RG-LRU with its linear recurrence h_t = a_t h_{t-1} + x_t left to a pluggable
`recurrence` (a chunked eager scan here, flash-linear-attention or accelerated-scan in
variants.py). Runs on Debian's torch 1.13 as well as on torch 2.x.

The RG-LRU, as kernels/rglru.h: with proj = [x | r | i] and c = 8,
    log a_t = -c * sigmoid(r_t) * softplus(-lambda),
    h_t = a_t * h_{t-1} + sqrt(1 - a_t^2) * (sigmoid(i_t) * x_t),
where a_t = 0 at a restart (the state forgets; sqrt(1 - a_t^2) = 1). Here log a_t = -inf
there, so that a_t = exp(log a_t) = 0 and sqrt(-expm1(2 log a_t)) = 1 exactly, with zero
gradients. The gate arithmetic and the recurrence run in fp32, as the engine's kernel does
(in bf16, a = 0.999 rounds to 1 and 1 - a^2 to 0); the output goes back to proj's dtype.
"""
import math
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import gated_ssm as m  # noqa: E402
import hawk_twin as twin  # noqa: E402

MODEL_KEYS = m.MODEL_KEYS | {"mlp_hidden", "conv_width"}
random_batch = m.random_batch
reference_conv1d = twin.conv1d
reference_rglru = twin.rglru
BLOCK_WEIGHTS = twin.BLOCK_WEIGHTS


def load_config(path):
    return m.load_config(path, MODEL_KEYS, {"conv_width": 4}, expected="hawk")


def parameter_count(cfg):
    return sum(math.prod(shape) for shape in twin.hawk_shapes(cfg).values())


def griffin_lambda(C):
    """Λ with σ(Λ)^8 evenly spread over [0.9, 0.999] across each half of the C channels
    (model/hawk/hawk_block.cpp)."""
    half = C // 2 if C % 2 == 0 else C
    k = torch.arange(C, dtype=torch.float64) % half
    u = k / (half - 1) if half > 1 else torch.zeros(C, dtype=torch.float64)
    a = (0.9 + 0.099 * u) ** (1.0 / 8.0)
    return torch.log(a / (1.0 - a))


def init_parameters(cfg, device="cpu", seed=1):
    """The engine's scheme: gated_ssm.initialize's rules, Λ as griffin_lambda and the
    convolution's σ = 1/sqrt(K). fp32, requiring gradients."""
    def own(name, shape):
        if name.endswith("temporal.lambda"):
            return griffin_lambda(shape[0])
        if name.endswith("temporal.conv.weight"):
            return 1.0 / math.sqrt(shape[0])
        return None
    return m.initialize(twin.hawk_shapes(cfg), cfg["layers"], device, seed, own)


def decays(name):
    """Whether AdamW decays this parameter (the engine's parameter specs): matrices yes;
    norms, biases and Λ no."""
    return not (name.endswith("norm.weight") or name.endswith(".bias") or name.endswith("lambda"))


def _shift(t, k):
    """t[:, s - k] at time s along dim 1 (k < 0: reads ahead), -1 where out of range."""
    T = t.shape[1]
    if k >= 0:
        return torch.cat([torch.full_like(t[:, :k], -1), t[:, : T - k]], dim=1)
    return torch.cat([t[:, -k:], torch.full_like(t[:, :-k], -1)], dim=1)


def conv1d(x, weight, bias, reset, bidirectional):
    """kernels/conv1d.h, as hawk_twin.conv1d reads it, in K shifted products: x [B, T, C],
    weight [K, C], bias [C], computed in x's dtype. The causal channels read x[t-k] within
    t's segment; the reverse half of a bidirectional block reads x[t+k] within the segment,
    neither end a suffix token (bit 1)."""
    B, T, C = x.shape
    K = weight.shape[0]
    weight, bias = weight.to(x.dtype), bias.to(x.dtype)
    half = C // 2 if bidirectional else C
    start = (reset & 1) != 0
    segment = torch.cumsum(torch.cat([torch.ones_like(start[:, :1]), start[:, 1:]], 1).int(), dim=1)
    suffix = ((reset & 2) != 0).int()
    fwd, rev = x[..., :half], x[..., half:]
    out_f = bias[:half] + weight[0, :half] * fwd
    out_r = bias[half:] + weight[0, half:] * rev
    for k in range(1, min(K, T)):
        same = (_shift(segment, k) == segment).to(x.dtype)[..., None]
        out_f = out_f + weight[k, :half] * F.pad(fwd[:, : T - k], (0, 0, k, 0)) * same
        if bidirectional:
            ahead = (_shift(segment, -k) == segment) & (suffix == 0) & (_shift(suffix, -k) == 0)
            out_r = out_r + weight[k, half:] * F.pad(rev[:, k:], (0, 0, 0, k)) * ahead.to(x.dtype)[..., None]
    return torch.cat([out_f, out_r], dim=-1) if bidirectional else out_f


def rglru(proj, lam, reset, bidirectional, recurrence):
    """hawk_twin.rglru with the linear recurrence left to `recurrence(log_a, x, dtype)`:
    log_a and x fp32 (f64 for f64 proj) [B, T, C] in scan order (gated_ssm.to_scan_order),
    log_a = -inf where the state restarts, dtype proj's (the compute dtype, in which a
    kernel may take its inputs). It returns h in scan order (any float dtype)."""
    C = lam.shape[0]
    dtype = torch.float64 if proj.dtype == torch.float64 else torch.float32  # f64: the model check
    x, r, i = proj.to(dtype).split(C, dim=-1)
    # Every row starts like a segment (kernels/rglru.h), whatever its first bit.
    reset = torch.cat([reset[:, :1] | 1, reset[:, 1:]], dim=1)
    restart = m.restart_mask(reset, C, bidirectional)
    log_a = m.to_scan_order(-twin.RGLRU_C * torch.sigmoid(r) * F.softplus(-lam.to(dtype)), bidirectional)
    log_a = log_a.masked_fill(restart, float("-inf"))
    drive = torch.sqrt(-torch.expm1(2 * log_a)) * m.to_scan_order(torch.sigmoid(i) * x, bidirectional)
    return m.to_scan_order(recurrence(log_a, drive, proj.dtype), bidirectional).to(proj.dtype)


def eager_recurrence(log_a, x, dtype=None):
    """The eager peer's recurrence: gated_ssm's chunked fp32 scan with its hand-written backward."""
    return m.LinearScan.apply(torch.exp(log_a), x)


def make_block(recurrence):
    """hawk_twin.hawk_block with this file's convolution and RG-LRU around `recurrence`."""
    def rglru_op(proj, lam, reset, bidirectional):
        return rglru(proj, lam, reset, bidirectional, recurrence)

    def block(*args):
        return twin.hawk_block(*args, conv=conv1d, rglru=rglru_op)
    return block


def forward(p, cfg, tokens, reset, block):
    """Logits [B*T, vocab] (hawk_twin.forward) with `block` of make_block."""
    return twin.forward(p, cfg, tokens, reset, block)
