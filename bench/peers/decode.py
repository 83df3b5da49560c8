"""Decoding peer: the engine's batched decoding against the Gated SSM's one-token step in
PyTorch, on the same device, at the same batch sizes.

  python3 bench/peers/decode.py --out FILE --build BUILD_DIR [--device cuda|cpu]
      [--configs small,base] [--batches 1,8,64] [--tokens N] [--variants eager,compile]

The engine's figures come from apps/decode_bench run in the same command (bf16 compute on
cuda, fp32 on the cpu; the step captured in a CUDA graph and the plain launches). The
peer decodes greedily, B sequences at once, with the engine's shapes (bench/peers/
gated_ssm.py, same distribution of weights): embedding, per block
x + W_out (GeLU(o) * h) with the forward state h = sigmoid(f) h + sigmoid(i) z kept in fp32
buffers updated in place (a bidirectional block's reverse channels see the token alone:
h = sigmoid(i) z), the final norm, the head and the argmax, all on the device; the chosen
token feeds the next step without a copy to the host. Variants:
  eager    the step as written;
  compile  torch.compile(mode="reduce-overhead", fullgraph=True): Inductor's kernels
           replayed as a CUDA graph (cuda only).
Before timing, the step's logits are checked against the full forward pass of
gated_ssm.forward on a small causal model (relative error below 1e-4 in fp32).
Tokens/s counts every row's tokens; the first steps warm up (and compile).
"""
import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gated_ssm as G  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
WARMUP = 5


class DecodeStep(torch.nn.Module):
    """One token for B sequences: tokens [B] -> logits [B, V] (or the argmax, greedy)."""

    def __init__(self, params, cfg, batch, dtype, device):
        super().__init__()
        self.cfg = cfg
        self.names = {}
        for name, t in params.items():
            key = name.replace(".", "_")
            self.register_buffer(key, t.detach().to(device=device, dtype=dtype))
            self.names[name] = key
        N = cfg["state"]
        self.forward_channels = [N // 2 if G.is_bidirectional(cfg, l) else N for l in range(cfg["layers"])]
        for l, nf in enumerate(self.forward_channels):
            self.register_buffer(f"state_{l}", torch.zeros(batch, nf, device=device, dtype=torch.float32))

    def p(self, name):
        return getattr(self, self.names[name])

    def logits(self, tokens):
        cfg, N, eps = self.cfg, self.cfg["state"], self.cfg["norm_eps"]
        x = self.p("embedding.weight")[tokens]
        for l in range(cfg["layers"]):
            pre = f"blocks.{l}."
            proj = F.linear(G.rmsnorm(x, self.p(pre + "norm.weight"), eps), self.p(pre + "in_proj.weight"),
                            self.p(pre + "in_proj.bias")).float()
            i, f, z, o = proj.split(N, dim=-1)
            drive = torch.sigmoid(i) * z
            nf = self.forward_channels[l]
            state = getattr(self, f"state_{l}")
            forward = torch.sigmoid(f[:, :nf]) * state + drive[:, :nf]
            state.copy_(forward)
            h = torch.cat([forward, drive[:, nf:]], dim=-1)
            x = x + F.linear((F.gelu(o) * h).to(x.dtype), self.p(pre + "out_proj.weight"))
        head = self.p("embedding.weight" if cfg["tie_embeddings"] else "head.weight")
        return F.linear(G.rmsnorm(x, self.p("final_norm.weight"), eps), head)

    def forward(self, tokens):
        return self.logits(tokens).argmax(-1)


def check_step(device):
    """The step's logits against gated_ssm.forward on a small causal model, token by token."""
    cfg = {"vocab": 50, "dim": 32, "state": 16, "layers": 2, "bidirectional": "none", "tie_embeddings": False,
           "norm_eps": 1e-5}
    params = G.init_parameters(cfg, device=device, seed=3)
    T = 7
    tokens = torch.randint(0, cfg["vocab"], (1, T), device=device)
    reset = torch.zeros(1, T, dtype=torch.int32, device=device)
    reset[0, 0] = 1
    with torch.no_grad():
        full = G.forward(params, cfg, tokens, reset)
        step = DecodeStep(params, cfg, 1, torch.float32, device)
        got = torch.stack([step.logits(tokens[:, t])[0] for t in range(T)])
    error = ((got - full).norm() / full.norm()).item()
    if not error < 1e-4:
        raise RuntimeError(f"the peer's one-token step is off its full forward pass: relative error {error:.2e}")
    return error


def sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


def peer_tokens_per_s(cfg, batch, tokens, variant, device):
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    params = G.init_parameters(cfg, device=device, seed=1)
    step = DecodeStep(params, cfg, batch, dtype, device)
    del params
    run = step
    mark = lambda: None  # noqa: E731
    if variant == "compile":
        run = torch.compile(step, mode="reduce-overhead", fullgraph=True)
        compiler = getattr(torch, "compiler", None)
        mark = getattr(compiler, "cudagraph_mark_step_begin", mark) if compiler else mark
    token = torch.randint(0, cfg["vocab"], (batch,), device=device)
    with torch.no_grad():
        for _ in range(WARMUP):
            mark()
            token = run(token).clone()
        sync(device)
        start = time.perf_counter()
        for _ in range(tokens):
            mark()
            token = run(token).clone()
        sync(device)
        seconds = time.perf_counter() - start
    return batch * tokens / seconds


def engine_runs(args, config, batches):
    with tempfile.TemporaryDirectory() as work:
        report = Path(work) / "decode.json"
        cmd = [str(args.build / "apps" / "decode_bench"), "--model", str(ROOT / "configs" / "model" / f"{config}.toml"),
               "--device", args.device, "--batches", ",".join(map(str, batches)), "--tokens", str(args.tokens),
               "--json", str(report)]
        if args.device == "cuda":
            cmd += ["--precision", "bf16"]
        print("$", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True)
        return json.loads(report.read_text())


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--build", required=True, type=Path, help="the engine's build folder (apps/decode_bench)")
    p.add_argument("--device", choices=["cuda", "cpu"], default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--configs", default="small,base", help="Gated SSM configurations of configs/model/")
    p.add_argument("--batches", default="1,8,64")
    p.add_argument("--tokens", type=int, default=128, help="timed tokens per row")
    p.add_argument("--variants", default="eager,compile")
    args = p.parse_args()
    batches = [int(b) for b in args.batches.split(",")]
    variants = args.variants.split(",")
    lines = []

    def say(text=""):  # written as it comes, so a run stopped at a time limit keeps its rows
        print(text, flush=True)
        lines.append(text)
        args.out.write_text("\n".join(lines) + "\n")

    error = check_step(args.device)
    say(f"decoding peer on {args.device} ({torch.__version__}): the peer's step matches its full forward pass "
        f"(relative error {error:.1e}); tokens/s over all rows, greedy, {args.tokens} timed tokens a row")
    say(f"{'config':8} {'batch':>5} {'bound':>8} {'engine graph':>13} {'engine plain':>13} "
        + " ".join(f"{'torch ' + v:>14}" for v in variants) + f" {'engine/best torch':>18}")
    failed = False
    for config in args.configs.split(","):
        cfg = G.load_config(ROOT / "configs" / "model" / f"{config}.toml")
        engine = engine_runs(args, config, batches)
        for batch in batches:
            rows = [r for r in engine["runs"] if r["batch"] == batch]
            graph = next((r["tokens_per_s"] for r in rows if r["graph"]), None)
            plain = next((r["tokens_per_s"] for r in rows if not r["graph"]), None)
            peers = []
            for variant in variants:
                if variant == "compile" and args.device != "cuda":
                    peers.append(None)
                    continue
                try:
                    peers.append(peer_tokens_per_s(cfg, batch, args.tokens, variant, args.device))
                except Exception as e:  # a failed variant keeps the others' rows
                    failed = True
                    peers.append(None)
                    say(f"  {config} batch {batch} torch {variant} failed: {type(e).__name__}: {e}")
                if args.device == "cuda":
                    torch.cuda.empty_cache()
            best_engine = max(x for x in (graph, plain) if x is not None)
            best_peer = max((x for x in peers if x is not None), default=None)
            bound = engine["batch1_bound_tokens_per_s"] * (1 if batch == 1 else float("nan"))
            fmt = lambda x: f"{x:.0f}" if x is not None and x == x else "-"  # noqa: E731
            say(f"{config:8} {batch:5d} {fmt(bound):>8} {fmt(graph):>13} {fmt(plain):>13} "
                + " ".join(f"{fmt(x):>14}" for x in peers)
                + f" {(f'{best_engine / best_peer:.2f}' if best_peer else '-'):>18}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
