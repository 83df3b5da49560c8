"""The engine's side of the peer benchmark: apps/step_bench's training step, and the gated
scan's times from its kernel benchmark (apps/bench on a GPU, apps/cpu_bench on the CPU)."""
import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


class EngineError(Exception):
    pass


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
    """(tokens/s, millions of parameters) of apps/step_bench on this configuration."""
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
