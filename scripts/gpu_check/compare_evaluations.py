#!/usr/bin/env python3
"""The evaluators on the GPU against the same commands on the CPU (gpu_check's evaluators stage).

    compare_evaluations.py DIR

DIR holds one result per run, named ARCH.EVALUATOR.ROLE.PRECISION.json (the evaluator's
--json file) or .txt (generate's output), ROLE "reference" (the CPU) or "tested" (the GPU).
Each tested result is compared with the reference of the same architecture, evaluator and
precision:

  outputs  the items whose generated answer (phone book, MQAR, QA, generate's text) or
           prediction (choice) is the same on both devices, out of all items;
  score    the evaluator's headline figure on each device (digit accuracy, accuracy, the
           share of answers containing a label, the normalized choice accuracy);
  losses   the largest relative difference of the losses both record (choice losses,
           the phone-book fine-tuning curve), where there are any.

fp32 on both devices differs only in summation order, so nearly every output must agree.
bf16 (the GPU against the CPU's bf16 emulation) rounds every layer's output, and a
near-tie then flips a greedy choice and everything generated after it: its bounds catch a
broken path (one that agrees with the CPU on nothing). Where the evaluator first
fine-tunes the model (phone book, MQAR), bf16 weights drift apart over the steps (other
summation orders, each AdamW update rounded), and a barely trained model's digits are
near-ties: there bf16 bounds the score and the losses, not the outputs (seen on an H200:
1 of 16 phone-book answers equal, digit accuracy 0.169 against 0.175, losses within
9e-4). Prints one row per comparison and exits 1 when any row is outside its bounds or a
result is missing.
"""
import json
import math
import pathlib
import sys

# (least share of equal outputs, largest |score difference|, largest relative loss difference)
BOUNDS = {"fp32": (0.95, 0.05, 1e-3), "bf16": (0.5, 0.1, 0.05)}
FINE_TUNED = {"phonebook", "mqar"}  # their bf16 outputs are not bounded (above)


def items(evaluator, result):
    """(the per-item outputs compared, the headline score, the losses) of one result."""
    if evaluator == "generate":
        return [result], None, []
    if evaluator == "phonebook":
        curve = (result.get("finetune") or {}).get("curve", [])
        return ([c["generated"] for c in result["cases"]], result["accuracy"],
                [p["loss"] for p in curve])
    if evaluator == "mqar":
        return [c["generated"] for c in result["cases"]], result["accuracy"], []
    scored = [r for r in result["records"] if not r.get("skipped")]
    if evaluator == "qa":
        return [r["generated"] for r in scored], result["table"][-1]["contains"], []
    if evaluator == "choice":
        return ([r["prediction"] for r in scored], result["accuracy"],
                [loss for r in scored for loss in r["loss_mean"]])
    raise ValueError(f"unknown evaluator {evaluator!r}")


def load(path):
    return path.read_text() if path.suffix == ".txt" else json.loads(path.read_text())


def relative_difference(a, b):
    worst = 0.0
    for x, y in zip(a, b):
        if not (math.isfinite(x) and math.isfinite(y)):
            return math.inf
        worst = max(worst, abs(x - y) / max(abs(y), 1e-6))
    return worst


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: compare_evaluations.py DIR")
    folder = pathlib.Path(sys.argv[1])
    runs = sorted(p for p in folder.iterdir() if p.suffix in (".json", ".txt") and p.name.count(".") == 4)
    failures = 0
    print(f"{'architecture':<12} {'evaluator':<10} {'precision':<9} {'outputs equal':>14} "
          f"{'score cpu':>9} {'score gpu':>9} {'losses':>9}  verdict")
    for gpu in (p for p in runs if p.name.split(".")[2] == "tested"):
        arch, evaluator, _, precision, _ = gpu.name.split(".")
        cpu = gpu.with_name(f"{arch}.{evaluator}.reference.{precision}{gpu.suffix}")
        if not cpu.exists():
            print(f"{arch:<12} {evaluator:<10} {precision:<9} {'':>14} {'':>9} {'':>9} {'':>9}  "
                  f"FAILED: no reference result {cpu.name}")
            failures += 1
            continue
        gpu_items, gpu_score, gpu_losses = items(evaluator, load(gpu))
        cpu_items, cpu_score, cpu_losses = items(evaluator, load(cpu))
        least_equal, score_bound, loss_bound = BOUNDS[precision]
        if precision == "bf16" and evaluator in FINE_TUNED:
            least_equal = 0.0
        problems = []
        if len(gpu_items) != len(cpu_items):
            problems.append(f"{len(gpu_items)} items on the GPU, {len(cpu_items)} on the CPU")
        equal = sum(a == b for a, b in zip(gpu_items, cpu_items))
        share = equal / max(len(cpu_items), 1)
        if share < least_equal:
            problems.append(f"outputs equal {share:.2f} < {least_equal}")
        if cpu_score is not None and abs(gpu_score - cpu_score) > score_bound:
            problems.append(f"|score difference| > {score_bound}")
        losses = relative_difference(gpu_losses, cpu_losses) if cpu_losses else None
        if losses is not None and not losses <= loss_bound:
            problems.append(f"losses differ by {losses:.2g} > {loss_bound}")
        failures += bool(problems)
        score = (lambda s: "" if s is None else f"{s:.3f}")
        print(f"{arch:<12} {evaluator:<10} {precision:<9} {f'{equal}/{len(cpu_items)}':>14} "
              f"{score(cpu_score):>9} {score(gpu_score):>9} {'' if losses is None else f'{losses:.1e}':>9}  "
              f"{'FAILED: ' + '; '.join(problems) if problems else 'ok'}")
    if not any(p.name.split(".")[2] == "tested" for p in runs):
        print(f"no tested results in {folder}")
        failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
