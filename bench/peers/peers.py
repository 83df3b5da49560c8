"""The engine against PyTorch implementations of the same Gated SSM LM, on one device, in one run.

Normally started through bench/peers/run.sh (see bench/peers/README.md):

    python3 bench/peers/peers.py --out FILE --build BUILD_DIR --device cuda|cpu
                                 [--configs small,base,paper] [--variants eager,compile,fla,ascan]
                                 [--quick] [--repeat R]

For each model configuration it times the whole training step (forward, backward, AdamW
with gradient clipping) of the engine (BUILD_DIR/apps/step_bench) and of each peer
variant on the same packed shapes; then the gated scan's forward and backward at the
shapes of the engine's kernel benchmark (BUILD_DIR/apps/bench on a GPU,
BUILD_DIR/apps/cpu_bench on the CPU). Every ratio is engine speed / peer speed: above 1
the engine is faster. Exit status: 0 when it ran (skipped variants say why), 1 when the
engine failed or a variant failed its check or crashed, 2 on bad arguments.
"""
import argparse
import contextlib
import datetime
import gc
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gated_ssm as m  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
# Rows x sequence of the step comparison: apps/step_bench's GPU shapes; small ones on the CPU.
STEP_SHAPES = {"cuda": {"tiny": (8, 2048), "small": (8, 2048), "base": (8, 2048), "paper": (4, 2048)},
               "cpu": {"tiny": (4, 512), "small": (2, 256), "base": (1, 256), "paper": (1, 128)}}
DEFAULT_CONFIGS = {"cuda": "small,base,paper", "cpu": "tiny,small"}
DEFAULT_VARIANTS = "eager,compile,fla,ascan"
VARIANTS = {
    "eager": "eager PyTorch; scan: chunked fp32 recurrence (bench/peers/gated_ssm.py) with a hand-written backward",
    "compile": "torch.compile(dynamic=True) of each block (norm, projections, gates, GeLU; the recurrence stays"
               " the eager chunked scan, opaque to the compiler)",
    "fla": "scan by flash-linear-attention's chunk_hgrn (Triton), g = logsigmoid(f), -inf at restarts",
    "fla-recurrent": "scan by flash-linear-attention's fused_recurrent_hgrn (Triton), as fla",
    "ascan": "scan by accelerated-scan's Triton kernel (accelerated_scan.scalar), fp32 gates, 0 at restarts",
    "ascan-warp": "scan by accelerated-scan's CUDA warp kernel (JIT-compiled by nvcc at import), as ascan",
}
CHECK_TOLERANCE = 1e-3  # max |peer - reference| / max |reference|, in fp32


class Skip(Exception):
    """A variant that cannot run here, with the reason."""


class EngineError(Exception):
    pass


# ---------------------------------------------------------------------------- variants

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


def make_recurrence(name, device):
    """The variant's recurrence, or Skip with the reason."""
    if name == "eager":
        return m.eager_recurrence
    if name == "compile":
        if not hasattr(torch, "compile"):
            raise Skip(f"torch {torch.__version__} has no torch.compile (needs torch >= 2.0)")
        if device != "cuda":
            raise Skip("device is cpu: torch.compile is compared on the GPU only")
        # Traced, the chunked scan unrolls into hundreds of ops per block and its
        # compilation outlasted a 150 s budget on an H200 (2026-11-26); left opaque, the
        # compiler fuses everything around it and compiles in seconds.
        return torch.compiler.disable(m.eager_recurrence)
    if device != "cuda":
        raise Skip("device is cpu: its kernels run on CUDA only")
    hint = "bench/peers/run.sh installs it from .wheels/ (scripts/fetch_gpu_wheels.sh fetches them)"
    if name.startswith("fla"):
        try:
            from fla.ops.hgrn import chunk_hgrn, fused_recurrent_hgrn
        except Exception as e:  # ImportError, or a Triton/torch mismatch at import
            raise Skip(f"flash-linear-attention is not importable ({type(e).__name__}: {e}); {hint}")
        return fla_recurrence(chunk_hgrn if name == "fla" else fused_recurrent_hgrn)
    module = "accelerated_scan.scalar" if name == "ascan" else "accelerated_scan.warp"
    try:
        scan = __import__(module, fromlist=["scan"]).scan
    except Exception as e:
        raise Skip(f"{module} is not importable ({type(e).__name__}: {e}); {hint}")
    return ascan_recurrence(scan)


_built = {}


def scan_function(name, recurrence):
    """scan(proj, reset, bidirectional) of a variant, built once per variant (compiled for
    `compile`) so that a compiled function sees the same object, no recompilation, at
    every call."""
    if name not in _built:
        def scan(proj, reset, bidirectional):
            return m.gated_scan(proj, reset, bidirectional, recurrence)
        _built[name] = scan
        if name == "compile":
            _built["compile scan"] = torch.compile(scan, dynamic=True)
            _built["compile block"] = torch.compile(m.gated_ssm_block, dynamic=True)
    return _built["compile scan" if name == "compile" else name]


def step_functions(name, recurrence):
    """(scan, block) of the training step: for `compile`, the compiled block around the
    plain scan (the block's compilation takes the scan in)."""
    scan_function(name, recurrence)
    if name == "compile":
        return _built[name], _built["compile block"]
    return _built[name], m.gated_ssm_block


# ---------------------------------------------------------------------------- helpers

def sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


def free_memory(device):
    gc.collect()
    if device == "cuda":
        torch.cuda.empty_cache()


def is_oom(e):
    return isinstance(e, RuntimeError) and "out of memory" in str(e)


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


def check_variant(name, recurrence, device):
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
            err = float((a.float() - b).abs().max() / b.abs().max())
            errors[k] = max(errors[k], err if err == err else float("inf"))  # NaN counts as a failure
    return errors


def run_engine(cmd):
    if not Path(cmd[0]).exists():
        build = Path(cmd[0]).parents[1]
        raise EngineError(f"engine binary {cmd[0]} not found: build it with cmake -S {REPO} -B {build}"
                          f" && cmake --build {build} --target step_bench bench cpu_bench")
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        raise EngineError(f"{' '.join(cmd)} exited with {done.returncode}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return done.stdout


def engine_step(args, config_path, rows, seq, precision, warmup, steps):
    out = run_engine([str(args.build / "apps" / "step_bench"), "--model", str(config_path),
                      "--rows", str(rows), "--seq", str(seq), "--device", args.device,
                      "--precision", precision, "--warmup", str(warmup), "--steps", str(steps)])
    step = re.search(r"step: median ([0-9.]+) ms \(.*?\), ([0-9.]+) tokens/s", out)
    params = re.search(r", ([0-9.]+)M parameters", out)
    if not step or not params:
        raise EngineError(f"cannot read step_bench's output:\n{out}")
    return float(step.group(2)), float(params.group(1))


def engine_scans(args):
    """[(B, T, N, direction, forward ms, backward ms)] from the engine's kernel benchmark,
    or a string saying why there are none."""
    if args.device == "cuda":
        if args.bench_output:
            out = args.bench_output.read_text()
        else:
            out = run_engine([str(args.build / "apps" / "bench")] + (["--quick"] if args.quick else []))
        if "SKIPPED" in out:
            return "apps/bench measured nothing: " + out.strip()
        found = {}
        for line in out.splitlines():
            r = re.match(r"scan (forward|backward) (causal|bidirectional)\s+(\d+)x(\d+)x(\d+) bf16\s+([0-9.]+) ms", line)
            if r:
                key = (int(r.group(3)), int(r.group(4)), int(r.group(5)) // 4, r.group(2))
                found.setdefault(key, {})[r.group(1)] = float(r.group(6))
        cases = [(*k, v["forward"], v["backward"]) for k, v in found.items() if len(v) == 2]
    else:
        out = run_engine([str(args.build / "apps" / "cpu_bench"), "--repeats", str(args.scan_repeats)])
        pattern = r"gated scan (causal|bidirectional) B=(\d+) T=(\d+) N=(\d+): forward ([0-9.]+) ms .*backward ([0-9.]+) ms"
        cases = [(int(r.group(2)), int(r.group(3)), int(r.group(4)), r.group(1), float(r.group(5)), float(r.group(6)))
                 for r in map(lambda l: re.match(pattern, l), out.splitlines()) if r]
    return cases or f"no scan rows in the engine's benchmark output:\n{out}"


def bench_reset(B, T, device):
    """The reset pattern of the engine's scan benchmark: apps/bench's (a sample every 512
    tokens, its last 128 causal) on a GPU, all zeros as apps/cpu_bench on the CPU."""
    if device != "cuda":
        return torch.zeros(B, T, dtype=torch.int32)
    t = torch.arange(T)
    row = ((t % 512 == 0).int() | ((t % 512 >= 384).int() * 2)).to(torch.int32)
    return row.expand(B, T).contiguous().to(device)


# ---------------------------------------------------------------------------- measurements

def peer_step(name, recurrence, cfg, rows, seq, args, precision):
    """Median tokens/s of the whole training step and the first step's seconds."""
    device = args.device
    params = m.init_parameters(cfg, device)
    groups = [{"params": [p for n, p in params.items() if m.decays(n)], "weight_decay": 0.1},
              {"params": [p for n, p in params.items() if not m.decays(n)], "weight_decay": 0.0}]
    extra = {"fused": True} if device == "cuda" else {}
    optimizer = torch.optim.AdamW(groups, lr=1e-4, betas=(0.9, 0.95), eps=1e-8, **extra)
    tokens, targets, reset = m.random_batch(rows, seq, cfg["vocab"], device)
    targets = targets.reshape(-1).long()
    scan, block = step_functions(name, recurrence)
    autocast = (torch.autocast(device_type=device, dtype=torch.bfloat16) if precision == "bf16"
                else contextlib.nullcontext())
    times = []
    for _ in range(args.warmup + args.steps):
        sync(device)
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        with autocast:
            logits = m.forward(params, cfg, tokens, reset, scan, block)
            loss = F.cross_entropy(logits, targets, ignore_index=-1)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(params.values()), 1.0)
        optimizer.step()
        loss.item()  # waits for the device
        times.append(time.perf_counter() - start)
    return rows * seq / statistics.median(times[args.warmup:]), times[0]


def scan_operands(B, T, N, device):
    """proj uniform in [-2, 2] and dy in [-1, 1] (bf16 on a GPU, fp32 on the CPU), the reset mask."""
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    g = torch.Generator(device=device).manual_seed(5)
    proj = torch.empty(B, T, 4 * N, device=device, dtype=dtype).uniform_(-2, 2, generator=g).requires_grad_(True)
    dy = torch.empty(B, T, N, device=device, dtype=dtype).uniform_(-1, 1, generator=g)
    return proj, dy, bench_reset(B, T, device)


def peer_scan(name, recurrence, operands, bidirectional, args):
    """Median forward and backward milliseconds of the variant's gated scan (training
    forward: autograd records; backward: dproj from dy)."""
    device, (proj, dy, reset) = args.device, operands
    scan = scan_function(name, recurrence)
    fwd, bwd = [], []
    for i in range(args.scan_warmup + args.scan_repeats):
        sync(device)
        start = time.perf_counter()
        y = scan(proj, reset, bidirectional)
        sync(device)
        middle = time.perf_counter()
        torch.autograd.grad(y, proj, dy)
        sync(device)
        if i >= args.scan_warmup:
            fwd.append(middle - start)
            bwd.append(time.perf_counter() - middle)
        del y
    return 1e3 * statistics.median(fwd), 1e3 * statistics.median(bwd)


def guarded(what, fn, device, failures, notes):
    """Runs fn; an out-of-memory becomes a note, another error a failure; None then."""
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 - every failure is reported, the run goes on
        if is_oom(e):
            notes.append(f"{what}: out of device memory, not measured")
        else:
            failures.append(f"{what}: {type(e).__name__}: {e}")
        return None
    finally:
        free_memory(device)


# ---------------------------------------------------------------------------- report

def describe_machine(device):
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
    text = f"{platform.node()}: {cpu}, {os.cpu_count()} cores"
    if device == "cuda":
        text += f"; GPU {torch.cuda.get_device_name(0)}"
    return text + f"; load average at start {os.getloadavg()[0]:.2f}"


def commit():
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                               capture_output=True, text=True).stdout.strip()
        return rev + (" (with uncommitted changes)" if dirty else "")
    except OSError:
        return "unknown"


def spread(samples):
    """Median of repeated figures and, when there are several, their range as text."""
    return statistics.median(samples), (f"{min(samples):.0f}-{max(samples):.0f}" if len(samples) > 1 else "")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--build", required=True, type=Path, help="the engine's build folder")
    p.add_argument("--device", choices=["cuda", "cpu"], required=True)
    p.add_argument("--configs", help="model configurations, by name in configs/model/ (default: "
                   + "; ".join(f"{d}: {c}" for d, c in DEFAULT_CONFIGS.items()) + ")")
    p.add_argument("--variants", default=DEFAULT_VARIANTS, help=f"of {', '.join(VARIANTS)} (default {DEFAULT_VARIANTS})")
    p.add_argument("--rows", type=int, help="rows per step for every configuration (default: per configuration)")
    p.add_argument("--seq", type=int, help="tokens per row (default: per configuration)")
    p.add_argument("--quick", action="store_true", help="fewer steps and repeats; apps/bench --quick")
    p.add_argument("--repeat", type=int, help="whole comparisons per configuration, medians kept (default: 3 on cpu, 1 on cuda)")
    p.add_argument("--no-scan", action="store_true", help="skip the scan comparison")
    p.add_argument("--bench-output", type=Path, help="cuda: read the engine's scan times from this saved output of"
                   " apps/bench (run in the same command) instead of running apps/bench again")
    args = p.parse_args()
    args.build = args.build.resolve()
    cuda = args.device == "cuda"
    if cuda and not torch.cuda.is_available():
        raise SystemExit(f"peers: --device cuda but torch {torch.__version__} sees no GPU")
    args.warmup, args.steps = (2, 3) if args.quick else ((3, 10) if cuda else (1, 3))
    args.scan_warmup, args.scan_repeats = (2, 3) if args.quick else (3, 10 if cuda else 7)
    args.repeat = args.repeat or (1 if cuda else 3)
    precision = "bf16" if cuda else "fp32"
    if not cuda:  # as many threads as the engine's OpenMP loops (torch may default to fewer)
        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS") or os.cpu_count()))
    configs = (args.configs or DEFAULT_CONFIGS[args.device]).split(",")
    known = sorted(f.stem for f in (REPO / "configs" / "model").glob("*.toml"))
    for config in configs:
        if config not in known:
            p.error(f"no configs/model/{config}.toml (--configs takes names of {', '.join(known)})")
    for name in args.variants.split(","):
        if name not in VARIANTS:
            p.error(f"unknown variant '{name}' (--variants takes {', '.join(VARIANTS)})")
    torch.manual_seed(0)

    failures, notes = [], []
    args.out.parent.mkdir(parents=True, exist_ok=True)
    out = args.out.open("w")

    def say(text=""):  # written as it comes, so a run stopped at a time limit keeps its rows
        print(text, flush=True)
        out.write(text + "\n")
        out.flush()

    say(f"birdie peer benchmark, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")
    say(f"machine: {describe_machine(args.device)}")
    say(f"torch {torch.__version__}, Python {platform.python_version()}; commit {commit()}; engine build {args.build}")
    if cuda:
        say("precision: engine bf16 compute with fp32 master weights, gradients and AdamW moments;"
            " peers fp32 parameters under torch.autocast(bf16), fused AdamW")
    else:
        say(f"precision: fp32 on both sides (the engine's CPU path is fp32); {torch.get_num_threads()} threads on both"
            " sides (the engine's OpenMP default, OMP_NUM_THREADS if set)")
    say("every step: forward, backward, gradient clipping to norm 1, AdamW (lr 1e-4, betas 0.9/0.95, decay 0.1)")
    say("ratio = engine speed / peer speed (tokens/s ratio, or peer ms / engine ms): above 1 the engine is faster")
    say()

    recurrences = {}
    for name in args.variants.split(","):
        try:
            recurrences[name] = make_recurrence(name, args.device)
        except Skip as e:
            say(f"skipped {name}: {e}")
    for name, recurrence in list(recurrences.items()):
        errors = guarded(f"check {name}", lambda: check_variant(name, recurrence, args.device), args.device, failures, notes)
        if errors is None:
            del recurrences[name]
            continue
        ok = max(errors) <= CHECK_TOLERANCE
        say(f"check {name}: max relative error y {errors[0]:.1e}, dproj {errors[1]:.1e} (fp32, 2x256 tokens, N=64,"
            f" causal and bidirectional, vs the step-by-step reference){'' if ok else ' FAILED'}")
        if not ok:
            failures.append(f"check {name}: error above {CHECK_TOLERANCE}")
            del recurrences[name]
    say()
    for name in recurrences:
        say(f"  {name}: {VARIANTS[name]}")
    say()

    try:
        say(f"Training step, tokens/s (median of {args.steps} steps after {args.warmup} warm-up"
            + (f"; median of {args.repeat} repeats of the comparison" if args.repeat > 1 else "") + ")")
        say(f"{'config':<8} {'rows x seq':<11} {'variant':<14} {'engine':>10} {'peer':>10} {'ratio':>7}")
        for config in configs:
            config_path = REPO / "configs" / "model" / f"{config}.toml"
            cfg = m.load_config(config_path)
            rows, seq = STEP_SHAPES[args.device].get(config, (2, 256))
            rows, seq = args.rows or rows, args.seq or seq
            engine, peers, firsts = [], {n: [] for n in recurrences}, {}
            for _ in range(args.repeat):
                tps, engine_m = engine_step(args, config_path, rows, seq, precision, args.warmup, args.steps)
                engine.append(tps)
                if f"{m.parameter_count(cfg) / 1e6:.1f}" != f"{engine_m:.1f}":
                    failures.append(f"{config}: the engine has {engine_m}M parameters, the peer "
                                    f"{m.parameter_count(cfg) / 1e6:.1f}M")
                for name, recurrence in recurrences.items():
                    result = guarded(f"{config} step {name}", lambda: peer_step(name, recurrence, cfg, rows, seq, args, precision),
                                     args.device, failures, notes)
                    if result:
                        peers[name].append(result[0])
                        firsts.setdefault(name, result[1])
            engine_tps, engine_range = spread(engine)
            for name in recurrences:
                if not peers[name]:
                    say(f"{config:<8} {f'{rows}x{seq}':<11} {name:<14} {engine_tps:>10.0f} {'-':>10} {'-':>7}")
                    continue
                peer_tps, peer_range = spread(peers[name])
                ranges = f"   (ranges: engine {engine_range}, peer {peer_range})" if engine_range else ""
                say(f"{config:<8} {f'{rows}x{seq}':<11} {name:<14} {engine_tps:>10.0f} {peer_tps:>10.0f}"
                    f" {engine_tps / peer_tps:>7.2f}{ranges}")
            if "compile" in firsts:
                say(f"{'':<8} compile: first step (compilation included) {firsts['compile']:.1f} s")

        if args.no_scan:
            say("\nscan comparison skipped (--no-scan)")
        else:
            cases = engine_scans(args)
            say()
            if isinstance(cases, str):
                say(f"scan comparison skipped: {cases}")
            else:
                dtype = "bf16" if cuda else "fp32"
                say(f"Gated scan, ms (median of {args.scan_repeats} after {args.scan_warmup} warm-up; {dtype} proj;"
                    f" engine: {'apps/bench' if cuda else 'apps/cpu_bench'})")
                say(f"{'B x T x N':<16} {'direction':<14} {'variant':<14} {'eng fwd':>8} {'peer fwd':>9} {'ratio':>6}"
                    f" {'eng bwd':>8} {'peer bwd':>9} {'ratio':>6}")
                for B, T, N, direction, efwd, ebwd in cases:
                    operands = guarded(f"scan {B}x{T}x{N} operands", lambda: scan_operands(B, T, N, args.device),
                                       args.device, failures, notes)
                    for name, recurrence in recurrences.items() if operands else []:
                        r = guarded(f"scan {B}x{T}x{N} {direction} {name}",
                                    lambda: peer_scan(name, recurrence, operands, direction == "bidirectional", args),
                                    args.device, failures, notes)
                        shape = f"{B}x{T}x{N}"
                        if r is None:
                            say(f"{shape:<16} {direction:<14} {name:<14} {efwd:>8.3f} {'-':>9} {'-':>6} {ebwd:>8.3f} {'-':>9} {'-':>6}")
                        else:
                            say(f"{shape:<16} {direction:<14} {name:<14} {efwd:>8.3f} {r[0]:>9.3f} {r[0] / efwd:>6.2f}"
                                f" {ebwd:>8.3f} {r[1]:>9.3f} {r[1] / ebwd:>6.2f}")
    except EngineError as e:
        failures.append(f"engine: {e}")

    say(f"\nload average at the end: {os.getloadavg()[0]:.2f} (1 min), {os.getloadavg()[1]:.2f} (5 min)")
    for note in notes:
        say(f"note: {note}")
    for failure in failures:
        say(f"FAILED {failure}")
    out.close()
    print(f"wrote {args.out}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
