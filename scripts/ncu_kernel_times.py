#!/usr/bin/env python3
"""Where a training step's GPU time goes, from Nsight Compute's per-kernel durations.

    ncu --metrics gpu__time_duration.sum --csv --print-units base --log-file STEP.csv PROGRAM ...
    python3 scripts/ncu_kernel_times.py STEP.csv [--step-ms MS] [--top K]

Groups the kernels by family (GEMMs, the gated scan, RMSNorm, cross-entropy, AdamW,
embedding, the rest by name) and prints launches, milliseconds and share of the kernel
total, then the K most expensive kernel names. With --step-ms (the step's wall time
measured without the profiler) it also prints the time no kernel ran: launch gaps and
host work. ncu runs each kernel alone, so its durations leave out the overlap of
consecutive kernels; the sum is an upper bound of the kernels' share of a step.
Exit status 1 when the file holds no kernel durations (the filter matched nothing).
"""
import argparse
import csv
import re
import sys
from collections import defaultdict

FAMILIES = [  # (family, pattern on the kernel's name), first match wins
    ("GEMM (cuBLASLt)", re.compile(r"nvjet|xmma|gemm|cutlass|cublas|sm90_", re.I)),
    ("gated scan", re.compile(r"^scan_|scan_step", re.I)),
    ("attention", re.compile(r"^attention_", re.I)),
    ("rotary", re.compile(r"^rotary", re.I)),
    ("RG-LRU", re.compile(r"^rglru|lambda_sum", re.I)),
    ("conv1d", re.compile(r"^conv_", re.I)),
    ("RMSNorm", re.compile(r"rmsnorm", re.I)),
    ("cross-entropy", re.compile(r"cross_entropy|softmax", re.I)),
    ("AdamW", re.compile(r"adamw", re.I)),
    ("embedding", re.compile(r"embedding", re.I)),
    ("reductions and norms", re.compile(r"sum|norm|reduce", re.I)),
]
UNIT_NS = {"nsecond": 1.0, "ns": 1.0, "usecond": 1e3, "us": 1e3, "msecond": 1e6, "ms": 1e6, "second": 1e9, "s": 1e9}


def short_name(name):
    """The kernel's own name: no return type, namespaces, template arguments or parameters."""
    name = name.replace("(anonymous namespace)", "")
    depth, out = 0, []
    for ch in name:
        depth += ch == "<"
        if depth == 0:
            out.append(ch)
        depth -= ch == ">"
    words = "".join(out).split("(")[0].split()
    return words[-1].split("::")[-1] if words else name


def family(name):
    return next((f for f, pattern in FAMILIES if pattern.search(name)), "other: " + name)


def read_durations(path):
    """[(kernel name, nanoseconds)] from ncu's CSV (lines of other output are skipped)."""
    with open(path, newline="") as f:
        lines = [line for line in f if line.startswith('"')]
    rows = list(csv.DictReader(lines))
    out = []
    for row in rows:
        if row.get("Metric Name") != "gpu__time_duration.sum":
            continue
        scale = UNIT_NS.get(row.get("Metric Unit", "nsecond").strip(), None)
        if scale is None:
            raise SystemExit(f"{path}: unknown unit '{row['Metric Unit']}' for gpu__time_duration.sum")
        out.append((short_name(row["Kernel Name"]), float(row["Metric Value"].replace(",", "")) * scale))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("csv")
    p.add_argument("--step-ms", type=float, help="the step's wall time without the profiler")
    p.add_argument("--top", type=int, default=15)
    args = p.parse_args()
    durations = read_durations(args.csv)
    if not durations:
        print(f"{args.csv}: no gpu__time_duration.sum rows (no kernel was profiled)")
        return 1
    total = sum(ns for _, ns in durations)
    by_family, by_name = defaultdict(lambda: [0, 0.0]), defaultdict(lambda: [0, 0.0])
    for name, ns in durations:
        for table, key in ((by_family, family(name)), (by_name, name)):
            table[key][0] += 1
            table[key][1] += ns
    print(f"{len(durations)} kernel launches, {total / 1e6:.2f} ms of kernel time (each kernel timed alone by ncu)")
    if args.step_ms:
        gap = args.step_ms - total / 1e6
        print(f"step wall time {args.step_ms:.2f} ms without the profiler: kernels {100 * total / 1e6 / args.step_ms:.1f}%,"
              f" the rest {gap:.2f} ms ({100 * gap / args.step_ms:.1f}%: launch gaps, host work, overlap)")
    print(f"\n{'family':<40} {'launches':>8} {'ms':>9} {'share':>7}")
    for key, (count, ns) in sorted(by_family.items(), key=lambda kv: -kv[1][1]):
        print(f"{key[:40]:<40} {count:>8} {ns / 1e6:>9.2f} {100 * ns / total:>6.1f}%")
    print(f"\n{'kernel (top ' + str(args.top) + ')':<60} {'launches':>8} {'ms':>9} {'mean us':>9}")
    for key, (count, ns) in sorted(by_name.items(), key=lambda kv: -kv[1][1])[: args.top]:
        print(f"{key[:60]:<60} {count:>8} {ns / 1e6:>9.2f} {ns / count / 1e3:>9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
