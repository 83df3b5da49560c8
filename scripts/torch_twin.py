#!/usr/bin/python3
"""An independent PyTorch twin of the Gated SSM LM (docs/method.md §5), for the end-to-end check.

It loads a tiny checkpoint written in this engine's format (model.safetensors: the
weights by name, the model config in the metadata), runs a fixed packed batch with
several segments and resets through the model in float64, and writes the expected
logits, loss and every parameter gradient to a fixture that tests/twin_tests.cpp
compares against (1e-4 relative in fp32). The model itself (forward, the step-by-step
gated scan) lives in bench/peers/gated_ssm.py, shared with the peer benchmark.

Regenerate the committed fixture (Debian's python3-torch is enough; run from the
repository root):

    /usr/bin/python3 scripts/torch_twin.py --make-checkpoint tests/fixtures/twin/model.safetensors
    /usr/bin/python3 scripts/torch_twin.py tests/fixtures/twin/model.safetensors \\
        --out tests/fixtures/twin/expected.safetensors

Any checkpoint of the engine can be checked the same way: pass its model.safetensors.
"""
import argparse
import json
import math
import struct
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench" / "peers"))
from gated_ssm import forward  # noqa: E402  (the model, shared with the peer benchmark)

DTYPES = {"F32": torch.float32, "F64": torch.float64, "I32": torch.int32}
NAMES = {v: k for k, v in DTYPES.items()}


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    data = blob[8 + n :]
    tensors = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        t = torch.frombuffer(bytearray(data[b:end]), dtype=DTYPES[e["dtype"]])
        tensors[name] = t.reshape(e["shape"]).clone()
    return tensors, meta


def write_safetensors(path, tensors, meta):
    header, offset, chunks = {"__metadata__": {"format": "pt", **meta}}, 0, []
    for name, t in tensors.items():
        raw = t.contiguous().numpy().tobytes()
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        chunks.append(raw)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


# Two rows: prompt+suffix, an empty-prompt sample (reset 3), a second prompt, padding.
BATCH_TOKENS = [[5, 6, 7, 4, 8, 9, 4, 10, 3, 6, 5, 0], [7, 7, 8, 9, 4, 5, 6, 3, 8, 4, 9, 0]]
BATCH_TARGETS = [[-1, -1, -1, 8, 9, 3, 10, 3, -1, -1, -1, -1], [-1, -1, -1, -1, 5, 6, 3, -1, -1, 9, 3, -1]]
BATCH_RESET = [[1, 0, 0, 2, 2, 2, 3, 2, 1, 0, 0, 1], [1, 0, 0, 0, 2, 2, 2, 1, 0, 2, 2, 1]]


def random_checkpoint(path, cfg, shapes, seed, own=lambda name, shape, t: None):
    """Writes a tiny checkpoint of random weights: norms near 1, matrices with std
    1/sqrt(fan_in), the rest std 0.5, unless own(name, shape, draw) returns the value."""
    g = torch.Generator().manual_seed(seed)
    tensors = {}
    for name, shape in shapes.items():
        t = torch.randn(shape, generator=g, dtype=torch.float64)
        mine = own(name, shape, t)
        if mine is not None:
            t = mine
        elif name.endswith("norm.weight"):
            t = 1.0 + 0.2 * t
        elif len(shape) == 2 and name != "embedding.weight":
            t = t / math.sqrt(shape[1])
        else:
            t = 0.5 * t
        tensors[name] = t.float()
    write_safetensors(path, tensors, {"config": json.dumps(cfg)})
    print(f"wrote {path}")


def make_checkpoint(path):
    cfg = {"vocab": 11, "dim": 6, "state": 8, "layers": 2, "bidirectional": "alternate",
           "tie_embeddings": False, "norm_eps": 1e-5}
    D, N, V = cfg["dim"], cfg["state"], cfg["vocab"]
    shapes = {"embedding.weight": (V, D)}
    for l in range(cfg["layers"]):
        shapes.update({f"blocks.{l}.norm.weight": (D,), f"blocks.{l}.in_proj.weight": (4 * N, D),
                       f"blocks.{l}.in_proj.bias": (4 * N,), f"blocks.{l}.out_proj.weight": (D, N)})
    shapes.update({"final_norm.weight": (D,), "head.weight": (V, D)})
    random_checkpoint(path, cfg, shapes, 2024)


def twin_main(doc, forward, make_checkpoint):
    """The command line of every twin: write a random checkpoint, or the expected logits,
    loss and gradients of a checkpoint on the fixed batch, computed in float64."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", nargs="?", help="a model.safetensors written by the engine")
    parser.add_argument("--out", help="where to write the expected values")
    parser.add_argument("--make-checkpoint", metavar="PATH", help="write a random tiny checkpoint and stop")
    args = parser.parse_args()
    if args.make_checkpoint:
        return make_checkpoint(args.make_checkpoint)
    if not args.checkpoint or not args.out:
        parser.error("give a checkpoint and --out (or --make-checkpoint PATH)")
    weights, meta = read_safetensors(args.checkpoint)
    cfg = json.loads(meta["config"])
    params = {k: v.double().requires_grad_(True) for k, v in weights.items()}
    tokens, targets, reset = (torch.tensor(b, dtype=torch.int32) for b in (BATCH_TOKENS, BATCH_TARGETS, BATCH_RESET))
    logits = forward(params, cfg, tokens, reset)
    loss = torch.nn.functional.cross_entropy(logits, targets.reshape(-1).long(), ignore_index=-1)
    loss.backward()
    out = {"batch.tokens": tokens, "batch.targets": targets, "batch.reset": reset,
           "expected.logits": logits.detach(), "expected.loss": loss.detach().reshape(1)}
    out.update({f"expected.grad.{k}": v.grad for k, v in params.items()})
    write_safetensors(args.out, out, {"checkpoint": args.checkpoint, "torch": torch.__version__})
    print(f"loss {loss.item():.6f}; wrote {args.out}")


if __name__ == "__main__":
    twin_main(__doc__, forward, make_checkpoint)
