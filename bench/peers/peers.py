"""The engine against PyTorch implementations of the same models (the Gated SSM, Hawk), on one device, in one run.

Normally started through bench/peers/run.sh (see bench/peers/README.md):

    python3 bench/peers/peers.py --out FILE --build BUILD_DIR --device cuda|cpu
                                 [--configs small,base,paper,hawk-small | --models ssm,hawk]
                                 [--variants eager,compile,fla,ascan] [--quick] [--repeat R]

For each model configuration it times the whole training step (forward, backward, AdamW
with gradient clipping) of the engine (BUILD_DIR/apps/step_bench) and of each peer
variant on the same packed shapes; then, when a Gated SSM configuration is among them,
the gated scan's forward and backward at the shapes of the engine's kernel benchmark
(BUILD_DIR/apps/bench on a GPU, BUILD_DIR/apps/cpu_bench on the CPU). Every ratio is
engine speed / peer speed: above 1 the engine is faster. Exit status: 0 when it ran
(skipped variants say why), 1 when the engine failed or a variant failed its check or
crashed, 2 on bad arguments.
"""
import argparse
import contextlib
import datetime
import gc
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gated_ssm as m  # noqa: E402
import variants as v  # noqa: E402
from engine import REPO, EngineError, engine_scans, engine_step  # noqa: E402

# Rows x sequence of the step comparison: apps/step_bench's GPU shapes; small ones on the CPU.
# A Hawk configuration hawk-SIZE takes SIZE's.
STEP_SHAPES = {"cuda": {"tiny": (8, 2048), "small": (8, 2048), "base": (8, 2048), "paper": (4, 2048)},
               "cpu": {"tiny": (4, 512), "small": (2, 256), "base": (1, 256), "paper": (1, 128)}}
DEFAULT_CONFIGS = {"cuda": "small,base,paper", "cpu": "tiny,small"}
CONFIG_PREFIX = {"ssm": "", "hawk": "hawk-"}  # --models: the default configurations' names


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


def bench_reset(B, T, device):
    """The reset pattern of the engine's scan benchmark: apps/bench's (a sample every 512
    tokens, its last 128 causal) on a GPU, all zeros as apps/cpu_bench on the CPU."""
    if device != "cuda":
        return torch.zeros(B, T, dtype=torch.int32)
    t = torch.arange(T)
    row = ((t % 512 == 0).int() | ((t % 512 >= 384).int() * 2)).to(torch.int32)
    return row.expand(B, T).contiguous().to(device)


# ---------------------------------------------------------------------------- measurements

def peer_step(arch, name, recurrence, cfg, rows, seq, args, precision):
    """Median tokens/s of the whole training step and the first step's seconds."""
    device, model = args.device, v.MODULES[arch]
    params = model.init_parameters(cfg, device)
    groups = [{"params": [p for n, p in params.items() if model.decays(n)], "weight_decay": 0.1},
              {"params": [p for n, p in params.items() if not model.decays(n)], "weight_decay": 0.0}]
    extra = {"fused": True} if device == "cuda" else {}
    optimizer = torch.optim.AdamW(groups, lr=1e-4, betas=(0.9, 0.95), eps=1e-8, **extra)
    tokens, targets, reset = m.random_batch(rows, seq, cfg["vocab"], device)
    targets = targets.reshape(-1).long()
    forward = v.step_forward(arch, name, recurrence)
    autocast = (torch.autocast(device_type=device, dtype=torch.bfloat16) if precision == "bf16"
                else contextlib.nullcontext())
    times = []
    for _ in range(args.warmup + args.steps):
        sync(device)
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        with autocast:
            logits = forward(params, cfg, tokens, reset)
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
    scan = v.scan_function(name, recurrence)
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


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--build", required=True, type=Path, help="the engine's build folder")
    p.add_argument("--device", choices=["cuda", "cpu"], required=True)
    which = p.add_mutually_exclusive_group()
    which.add_argument("--configs", help="model configurations, by name in configs/model/, Gated SSM or Hawk"
                       " (default: " + "; ".join(f"{d}: {c}" for d, c in DEFAULT_CONFIGS.items()) + ")")
    which.add_argument("--models", help=f"of {', '.join(v.MODELS)}: each model's default configurations"
                       " (hawk: hawk-SIZE for each default SIZE; default ssm)")
    p.add_argument("--variants", default=v.DEFAULT_VARIANTS,
                   help=f"of {', '.join(v.VARIANTS['hawk'])} (default {v.DEFAULT_VARIANTS})")
    p.add_argument("--rows", type=int, help="rows per step for every configuration (default: per configuration)")
    p.add_argument("--seq", type=int, help="tokens per row (default: per configuration)")
    p.add_argument("--quick", action="store_true", help="fewer steps and repeats; apps/bench --quick")
    p.add_argument("--repeat", type=int, help="whole comparisons per configuration, medians kept (default: 3 on cpu, 1 on cuda)")
    p.add_argument("--no-scan", action="store_true", help="skip the scan comparison")
    p.add_argument("--bench-output", type=Path, help="cuda: read the engine's scan times from this saved output of"
                   " apps/bench (run in the same command) instead of running apps/bench again")
    args = p.parse_args()
    args.build = args.build.resolve()
    for model in (args.models or "ssm").split(","):
        if model not in v.MODELS:
            p.error(f"unknown model '{model}' (--models takes {', '.join(v.MODELS)})")
    defaults = DEFAULT_CONFIGS[args.device].split(",")
    args.configs = (args.configs.split(",") if args.configs else
                    [CONFIG_PREFIX[model] + size for model in (args.models or "ssm").split(",") for size in defaults])
    known = sorted(f.stem for f in (REPO / "configs" / "model").glob("*.toml"))
    args.archs = {}
    for config in args.configs:
        if config not in known:
            p.error(f"no configs/model/{config}.toml (--configs takes names of {', '.join(known)})")
        args.archs[config] = m.architecture(REPO / "configs" / "model" / f"{config}.toml")
        if args.archs[config] not in v.MODULES:
            p.error(f"{config}: architecture {args.archs[config]} has no PyTorch peer here"
                    f" (of {', '.join(v.MODULES)})")
    for name in args.variants.split(","):
        if name not in v.VARIANTS["hawk"]:
            p.error(f"unknown variant '{name}' (--variants takes {', '.join(v.VARIANTS['hawk'])})")
    return args


def prepare_variants(args, say, failures, notes):
    """{architecture: {variant: recurrence}} of those that can run here and pass their
    check, for each architecture among the configurations."""
    recurrences = {}
    for arch in dict.fromkeys(args.archs.values()):
        label = "" if arch == "gated_ssm" else f"{arch} "
        if arch == "hawk":
            err = guarded("check hawk model", v.check_hawk_model, args.device, failures, notes)
            if err is not None:
                say(f"check hawk model: max relative error of the logits {err:.1e} (float64, 2x96 tokens, 2 blocks:"
                    f" bench/peers/hawk.py's forward, eager, vs scripts/hawk_twin.py's){'' if err <= 1e-9 else ' FAILED'}")
                if err > 1e-9:
                    failures.append("check hawk model: error above 1e-9")
        found = recurrences[arch] = {}
        for name in args.variants.split(","):
            try:
                found[name] = v.make_recurrence(arch, name, args.device)
            except v.Skip as e:
                say(f"skipped {label}{name}: {e}")
        for name, recurrence in list(found.items()):
            checked = guarded(f"check {label}{name}", lambda: v.check_variant(arch, name, recurrence, args.device),
                              args.device, failures, notes)
            if checked is None:
                del found[name]
                continue
            errors, what, compared = checked
            ok = max(errors) <= v.CHECK_TOLERANCE
            say(f"check {label}{name}: max relative error " + ", ".join(f"{w} {e:.1e}" for w, e in zip(what, errors))
                + f" ({compared}){'' if ok else ' FAILED'}")
            if not ok:
                failures.append(f"check {label}{name}: error above {v.CHECK_TOLERANCE}")
                del found[name]
    say()
    for arch, found in recurrences.items():
        for name in found:
            say(f"  {'' if arch == 'gated_ssm' else arch + ' '}{name}: {v.VARIANTS[arch][name]}")
    say()
    return recurrences


def step_table(args, recurrences, precision, say, failures, notes):
    say(f"Training step, tokens/s (median of {args.steps} steps after {args.warmup} warm-up"
        + (f"; median of {args.repeat} repeats of the comparison" if args.repeat > 1 else "") + ")")
    width = max([8] + [len(c) for c in args.configs])
    say(f"{'config':<{width}} {'rows x seq':<11} {'variant':<14} {'engine':>10} {'peer':>10} {'ratio':>7}")
    for config in args.configs:
        config_path = REPO / "configs" / "model" / f"{config}.toml"
        arch = args.archs[config]
        model, found = v.MODULES[arch], recurrences[arch]
        cfg = model.load_config(config_path)
        rows, seq = STEP_SHAPES[args.device].get(config.removeprefix("hawk-"), (2, 256))
        rows, seq = args.rows or rows, args.seq or seq
        engine, peers, firsts = [], {n: [] for n in found}, {}
        for _ in range(args.repeat):
            tps, engine_m = engine_step(args, config_path, rows, seq, precision, args.warmup, args.steps)
            engine.append(tps)
            if f"{model.parameter_count(cfg) / 1e6:.1f}" != f"{engine_m:.1f}":
                failures.append(f"{config}: the engine has {engine_m}M parameters, the peer "
                                f"{model.parameter_count(cfg) / 1e6:.1f}M")
            for name, recurrence in found.items():
                result = guarded(f"{config} step {name}",
                                 lambda: peer_step(arch, name, recurrence, cfg, rows, seq, args, precision),
                                 args.device, failures, notes)
                if result:
                    peers[name].append(result[0])
                    firsts.setdefault(name, result[1])
        engine_tps, engine_range = spread(engine)
        for name in found:
            if not peers[name]:
                say(f"{config:<{width}} {f'{rows}x{seq}':<11} {name:<14} {engine_tps:>10.0f} {'-':>10} {'-':>7}")
                continue
            peer_tps, peer_range = spread(peers[name])
            ranges = f"   (ranges: engine {engine_range}, peer {peer_range})" if engine_range else ""
            say(f"{config:<{width}} {f'{rows}x{seq}':<11} {name:<14} {engine_tps:>10.0f} {peer_tps:>10.0f}"
                f" {engine_tps / peer_tps:>7.2f}{ranges}")
        if "compile" in firsts:
            say(f"{'':<{width}} compile: first step (compilation included) {firsts['compile']:.1f} s")


def scan_table(args, recurrences, say, failures, notes):
    """The gated scan against the engine's kernel benchmark, which times no other recurrence."""
    if args.no_scan:
        say("\nscan comparison skipped (--no-scan)")
        return
    if "gated_ssm" not in recurrences:
        say("\nscan comparison skipped: the engine's kernel benchmark times the Gated SSM's scan only,"
            " and no Gated SSM configuration was asked for")
        return
    cases = engine_scans(args)
    say()
    if isinstance(cases, str):
        say(f"scan comparison skipped: {cases}")
        return
    cuda = args.device == "cuda"
    say(f"Gated scan, ms (median of {args.scan_repeats} after {args.scan_warmup} warm-up; {'bf16' if cuda else 'fp32'}"
        f" proj; engine: {'apps/bench' if cuda else 'apps/cpu_bench'})")
    say(f"{'B x T x N':<16} {'direction':<14} {'variant':<14} {'eng fwd':>8} {'peer fwd':>9} {'ratio':>6}"
        f" {'eng bwd':>8} {'peer bwd':>9} {'ratio':>6}")
    for B, T, N, direction, efwd, ebwd in cases:
        operands = guarded(f"scan {B}x{T}x{N} operands", lambda: scan_operands(B, T, N, args.device),
                           args.device, failures, notes)
        for name, recurrence in recurrences["gated_ssm"].items() if operands else []:
            r = guarded(f"scan {B}x{T}x{N} {direction} {name}",
                        lambda: peer_scan(name, recurrence, operands, direction == "bidirectional", args),
                        args.device, failures, notes)
            shape = f"{B}x{T}x{N}"
            if r is None:
                say(f"{shape:<16} {direction:<14} {name:<14} {efwd:>8.3f} {'-':>9} {'-':>6} {ebwd:>8.3f} {'-':>9} {'-':>6}")
            else:
                say(f"{shape:<16} {direction:<14} {name:<14} {efwd:>8.3f} {r[0]:>9.3f} {r[0] / efwd:>6.2f}"
                    f" {ebwd:>8.3f} {r[1]:>9.3f} {r[1] / ebwd:>6.2f}")


def main():
    args = parse_args()
    cuda = args.device == "cuda"
    if cuda and not torch.cuda.is_available():
        raise SystemExit(f"peers: --device cuda but torch {torch.__version__} sees no GPU")
    args.warmup, args.steps = (2, 3) if args.quick else ((3, 10) if cuda else (1, 3))
    args.scan_warmup, args.scan_repeats = (2, 3) if args.quick else (3, 10 if cuda else 7)
    args.repeat = args.repeat or (1 if cuda else 3)
    precision = "bf16" if cuda else "fp32"
    if not cuda:  # as many threads as the engine's OpenMP loops (torch may default to fewer)
        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS") or os.cpu_count()))
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

    recurrences = prepare_variants(args, say, failures, notes)
    try:
        step_table(args, recurrences, precision, say, failures, notes)
        scan_table(args, recurrences, say, failures, notes)
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
