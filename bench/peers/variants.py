"""The peer variants: who runs the linear recurrence h_t = a_t h_{t-1} + x_t inside the
Gated SSM's gated scan (gated_ssm.py) and Hawk's RG-LRU (hawk.py), the forward pass a
training step calls, and each variant's check against the step-by-step references."""
import torch
import torch.nn.functional as F

import gated_ssm as m
import hawk

MODELS = {"ssm": "gated_ssm", "hawk": "hawk"}  # --models name: the configurations' architecture
MODULES = {"gated_ssm": m, "hawk": hawk}
DEFAULT_VARIANTS = "eager,compile,fla,ascan"
VARIANTS = {
    "gated_ssm": {
        "eager": "eager PyTorch; scan: chunked fp32 recurrence (bench/peers/gated_ssm.py) with a hand-written backward",
        "compile": "torch.compile(dynamic=True) of each block (norm, projections, gates, GeLU; the recurrence stays"
                   " the eager chunked scan, opaque to the compiler)",
        "fla": "scan by flash-linear-attention's chunk_hgrn (Triton), g = logsigmoid(f), -inf at restarts",
        "fla-recurrent": "scan by flash-linear-attention's fused_recurrent_hgrn (Triton), as fla",
        "ascan": "scan by accelerated-scan's Triton kernel (accelerated_scan.scalar), fp32 gates, 0 at restarts",
        "ascan-warp": "scan by accelerated-scan's CUDA warp kernel (JIT-compiled by nvcc at import), as ascan",
    },
    "hawk": {
        "eager": "eager PyTorch; RG-LRU gates in fp32, the recurrence by the chunked fp32 scan (bench/peers/gated_ssm.py)"
                 " with a hand-written backward; the convolution in K shifted products",
        "compile": "torch.compile(dynamic=True) of each block (norms, projections, convolution, RG-LRU gates, gated MLP;"
                   " the recurrence stays the eager chunked scan, opaque to the compiler)",
        "fla": "recurrence by flash-linear-attention's chunk_hgrn (Triton), g = log a (-inf at restarts), g and x in the"
               " compute dtype",
        "fla-recurrent": "recurrence by flash-linear-attention's fused_recurrent_hgrn (Triton), as fla",
        "ascan": "recurrence by accelerated-scan's Triton kernel (accelerated_scan.scalar), fp32 a = exp(log a)"
                 " (0 at restarts) and x",
        "ascan-warp": "recurrence by accelerated-scan's CUDA warp kernel (JIT-compiled by nvcc at import), as ascan",
    },
}
CHECK_TOLERANCE = 1e-3  # max |peer - reference| / max |reference|, in fp32


class Skip(Exception):
    """A variant that cannot run here, with the reason."""


def fla_recurrence(kernel):
    # fla: h_t = exp(g_t) h_{t-1} + x_t, fp32 state inside, inputs in the compute dtype.
    def recurrence(f, x, restart):
        g = F.logsigmoid(f).masked_fill(restart, float("-inf"))
        return kernel(x.contiguous(), g.contiguous())[0]
    return recurrence


def ascan_recurrence(scan):
    # accelerated-scan: h_t = a_t h_{t-1} + x_t over [B, C, T]; its kernels accumulate in the
    # input dtype, so the gates and inputs go in as fp32 (the engine's state is fp32).
    def recurrence(f, x, restart):
        a = torch.sigmoid(f.float()).masked_fill(restart, 0.0)
        return scan(a.transpose(1, 2).contiguous(), x.float().transpose(1, 2).contiguous()).transpose(1, 2)
    return recurrence


def fla_log_recurrence(kernel):
    # Hawk's log a_t is fla's g_t as it is (exp(-inf) = 0 at restarts); in log space the
    # compute dtype keeps a's relative accuracy near 1.
    def recurrence(log_a, x, dtype):
        return kernel(x.to(dtype).contiguous(), log_a.to(dtype).contiguous())[0]
    return recurrence


def ascan_log_recurrence(scan):
    # As ascan_recurrence: fp32 a_t = exp(log a_t) (0 at restarts) and x_t, layout [B, C, T].
    def recurrence(log_a, x, dtype):
        return scan(torch.exp(log_a).transpose(1, 2).contiguous(), x.transpose(1, 2).contiguous()).transpose(1, 2)
    return recurrence


def load_kernel(name):
    """fla's or accelerated-scan's kernel of a variant, or Skip with the reason."""
    hint = "bench/peers/run.sh installs it from .wheels/ (scripts/fetch_gpu_wheels.sh fetches them)"
    if name.startswith("fla"):
        try:
            from fla.ops.hgrn import chunk_hgrn, fused_recurrent_hgrn
        except Exception as e:  # ImportError, or a Triton/torch mismatch at import
            raise Skip(f"flash-linear-attention is not importable ({type(e).__name__}: {e}); {hint}")
        return chunk_hgrn if name == "fla" else fused_recurrent_hgrn
    module = "accelerated_scan.scalar" if name == "ascan" else "accelerated_scan.warp"
    try:
        return __import__(module, fromlist=["scan"]).scan
    except Exception as e:
        raise Skip(f"{module} is not importable ({type(e).__name__}: {e}); {hint}")


def make_recurrence(arch, name, device):
    """The variant's recurrence for the architecture's op, or Skip with the reason."""
    eager = MODULES[arch].eager_recurrence
    if name == "eager":
        return eager
    if name == "compile":
        if not hasattr(torch, "compile"):
            raise Skip(f"torch {torch.__version__} has no torch.compile (needs torch >= 2.0)")
        if device != "cuda":
            raise Skip("device is cpu: torch.compile is compared on the GPU only")
        # Traced, the chunked scan unrolls into hundreds of ops per block and its
        # compilation outlasted a 150 s budget on an H200 (2026-11-26); left opaque, the
        # compiler fuses everything around it and compiles in seconds.
        return torch.compiler.disable(eager)
    if device != "cuda":
        raise Skip("device is cpu: its kernels run on CUDA only")
    kernel = load_kernel(name)
    if name.startswith("fla"):
        return (fla_recurrence if arch == "gated_ssm" else fla_log_recurrence)(kernel)
    return (ascan_recurrence if arch == "gated_ssm" else ascan_log_recurrence)(kernel)


_built = {}


def scan_function(name, recurrence):
    """The Gated SSM's scan(proj, reset, bidirectional) of a variant, built once per variant
    (compiled for `compile`) so that a compiled function sees the same object, no
    recompilation, at every call."""
    if name not in _built:
        def scan(proj, reset, bidirectional):
            return m.gated_scan(proj, reset, bidirectional, recurrence)
        _built[name] = scan
        if name == "compile":
            _built["compile scan"] = torch.compile(scan, dynamic=True)
            _built["compile block"] = torch.compile(m.gated_ssm_block, dynamic=True)
    return _built["compile scan" if name == "compile" else name]


def step_forward(arch, name, recurrence):
    """forward(params, cfg, tokens, reset) -> logits of the training step, built once per
    variant: for `compile`, compiled blocks around the plain recurrence (the block's
    compilation takes the Gated SSM's scan in)."""
    key = (arch, name)
    if key not in _built:
        if arch == "gated_ssm":
            scan_function(name, recurrence)
            scan, block = _built[name], _built["compile block"] if name == "compile" else m.gated_ssm_block
            _built[key] = lambda p, cfg, tokens, reset: m.forward(p, cfg, tokens, reset, scan, block)
        else:
            block = hawk.make_block(recurrence)
            block = torch.compile(block, dynamic=True) if name == "compile" else block
            _built[key] = lambda p, cfg, tokens, reset: hawk.forward(p, cfg, tokens, reset, block)
    return _built[key]


def check_reset(B, T, seed=7):
    """Short segments (5-40 tokens), a third of them with an empty prompt (reset 3)."""
    g = torch.Generator().manual_seed(seed)
    reset = torch.zeros(B, T, dtype=torch.int32)
    for b in range(B):
        t = 0
        while t < T:
            length = min(int(torch.randint(5, 41, (1,), generator=g)), T - t)
            reset[b, t + length // 2 : t + length] = 2
            reset[b, t] = 3 if length % 3 == 0 else 1
            t += length
    return reset


def relative_error(a, b):
    err = float((a.double() - b.double()).abs().max() / b.abs().max())
    return err if err == err else float("inf")  # NaN counts as a failure


def check_ssm(name, recurrence, device):
    """Max relative error of y and dproj against the step-by-step reference, fp32."""
    B, T, N = 2, 256, 64
    g = torch.Generator().manual_seed(11)
    reset = check_reset(B, T).to(device)
    scan = scan_function(name, recurrence)
    errors = [0.0, 0.0]
    for bidirectional in (False, True):
        proj = (2 * torch.randn(B, T, 4 * N, generator=g)).to(device).requires_grad_(True)
        dy = torch.randn(B, T, N, generator=g).to(device)
        ref = m.reference_gated_scan(proj, reset, bidirectional)
        (dref,) = torch.autograd.grad(ref, proj, dy)
        y = scan(proj, reset, bidirectional)
        (dproj,) = torch.autograd.grad(y, proj, dy)
        for k, (a, b) in enumerate(((y, ref), (dproj, dref))):
            errors[k] = max(errors[k], relative_error(a, b))
    return errors


_hawk_references = []


def hawk_references():
    """[(bidirectional, reset, proj, lambda, dy, (y, dproj, dlambda))]: hawk_twin's
    step-by-step RG-LRU in float64 on the CPU, computed once for every variant's check."""
    if not _hawk_references:
        B, T, C = 2, 256, 64
        g = torch.Generator().manual_seed(13)
        reset = check_reset(B, T)
        for bidirectional in (False, True):
            proj = 2 * torch.randn(B, T, 3 * C, generator=g)
            lam = hawk.griffin_lambda(C).float() + 0.5 * torch.randn(C, generator=g)
            dy = torch.randn(B, T, C, generator=g)
            p64, l64 = proj.double().requires_grad_(True), lam.double().requires_grad_(True)
            y = hawk.reference_rglru(p64, l64, reset, bidirectional)
            _hawk_references.append((bidirectional, reset, proj, lam, dy,
                                     (y.detach(), *torch.autograd.grad(y, (p64, l64), dy.double()))))
    return _hawk_references


def check_hawk(recurrence, device):
    """Max relative error of y, dproj and dlambda of hawk.rglru around the variant's
    recurrence against hawk_twin's RG-LRU, fp32 on the device."""
    errors = [0.0, 0.0, 0.0]
    for bidirectional, reset, proj, lam, dy, expected in hawk_references():
        proj, lam = proj.to(device).requires_grad_(True), lam.to(device).requires_grad_(True)
        y = hawk.rglru(proj, lam, reset.to(device), bidirectional, recurrence)
        got = (y, *torch.autograd.grad(y, (proj, lam), dy.to(device)))
        for k, (a, b) in enumerate(zip(got, expected)):
            errors[k] = max(errors[k], relative_error(a.cpu(), b))
    return errors


def check_variant(arch, name, recurrence, device):
    """(errors, their names, what was compared): max relative errors of the variant's op
    against the step-by-step reference in fp32."""
    if arch == "gated_ssm":
        return (check_ssm(name, recurrence, device), ("y", "dproj"),
                "fp32, 2x256 tokens, N=64, causal and bidirectional, vs the step-by-step reference")
    return (check_hawk(recurrence, device), ("y", "dproj", "dlambda"),
            "fp32, 2x256 tokens, C=64, causal and bidirectional, vs the step-by-step RG-LRU of scripts/hawk_twin.py")


def check_hawk_model():
    """Max relative error of the logits of hawk.forward (the shifted-product convolution,
    the eager RG-LRU) against hawk_twin.forward (both literal), float64 on the CPU, on a
    small model with short segments and empty prompts."""
    cfg = {"vocab": 97, "dim": 16, "state": 24, "layers": 2, "bidirectional": "alternate", "tie_embeddings": False,
           "norm_eps": 1e-5, "mlp_hidden": 20, "conv_width": 4}
    params = {k: v.detach().double() for k, v in hawk.init_parameters(cfg, seed=3).items()}
    reset = check_reset(2, 96, seed=17)
    tokens = torch.randint(cfg["vocab"], (2, 96), generator=torch.Generator().manual_seed(19))
    with torch.no_grad():
        got = hawk.forward(params, cfg, tokens, reset, hawk.make_block(hawk.eager_recurrence))
        return relative_error(got, hawk.twin.forward(params, cfg, tokens, reset))
