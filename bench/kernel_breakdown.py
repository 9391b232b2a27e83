#!/usr/bin/env python3
"""Kernel-level breakdown of a program built with --backend=halide
--halide-profile: reads the report Halide's profiler prints at exit (stderr
of the run) and the --dump-kernels folder of the same build (kernels.txt,
NAME.cost), and prints per kernel its time, share, calls, and the FLOP/s and
weight GB/s that time implies, then the totals per kind of kernel.

  bench/kernel_breakdown.py PROFILE.txt KERNELS_DIR [--tokens N] [--threads N]

The profiler samples every millisecond: kernels that ran for less than a few
milliseconds in all are noise. --tokens: rows the run computed (prompt +
decoded tokens), to turn per-row FLOPs from the cost lines into FLOP/s
(--head-rows: the rows the head ran on, one per prompt chunk and decoded
token, as it skips the other prompt rows);
--threads: the program's threads (each calls a product for its share of the
weights, so a product's weights are read once per `threads` calls).
"""
import argparse
import os
import re
import sys
from collections import defaultdict


def parse_profile(path):
    """{pipeline: (total_ms, runs)} from Halide's profiler report."""
    out, name = {}, None
    for line in open(path, errors="replace"):
        m = re.match(r"^ total time: ([0-9.]+) ms\s+samples: (\d+)\s+runs: (\d+)", line)
        if m and name:
            out[name] = (float(m.group(1)), int(m.group(3)))
            name = None
        elif line.strip() and not line.startswith(" "):
            name = line.strip()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("profile")
    ap.add_argument("kernels")
    ap.add_argument("--tokens", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--head-rows", type=int, default=0,
                    help="rows the head ran on (one per prompt chunk and decoded token); default --tokens")
    a = ap.parse_args()
    prof = parse_profile(a.profile)
    if not prof:
        sys.exit("kernel_breakdown: no Halide profiler report in " + a.profile)
    info = {}
    for line in open(os.path.join(a.kernels, "kernels.txt")):
        parts = line.split("  ")
        info[parts[0]] = (parts[1], parts[-1].strip())
    per = defaultdict(lambda: [0.0, 0])
    for pipe, (ms, runs) in prof.items():
        k = re.sub(r"_(rows4|row1|conv|attention|epilogue)$", "", pipe)
        per[k][0] += ms
        per[k][1] += runs
    total = sum(v[0] for v in per.values())
    if total == 0:
        print("(no profiler samples: the run was shorter than the 1 ms sampling period)")
    share = lambda ms: 100 * ms / total if total else 0.0
    print("%-10s %-44s %9s %6s %7s %9s %8s  %s" % ("kernel", "what", "ms", "share", "calls", "GFLOP/s", "GB/s", "weight"))
    kinds = defaultdict(float)
    for k, (ms, runs) in sorted(per.items(), key=lambda kv: -kv[1][0]):
        what, weight = info.get(k, ("?", "?"))
        cost = open(os.path.join(a.kernels, k + ".cost")).read() if os.path.exists(os.path.join(a.kernels, k + ".cost")) else ""
        flops = re.search(r"per row ([0-9.e+]+) FLOPs", cost)
        wbytes = re.search(r"weights ([0-9.e+]+) bytes", cost)
        is_head = "lm_head" in weight or "embed_tokens" in weight
        rows = (a.head_rows or a.tokens) if is_head else a.tokens
        gf = "%.1f" % (float(flops.group(1)) * rows / ms / 1e6) if flops and rows and ms else "-"
        # every weight is read once per `threads` calls (each thread its share)
        gb = "%.1f" % (float(wbytes.group(1)) * runs / a.threads / ms / 1e6) if wbytes and ms else "-"
        print("%-10s %-44s %9.1f %5.1f%% %7d %9s %8s  %s" % (k, what[:44], ms, share(ms), runs, gf, gb, weight[:60]))
        kind = what.split(" [")[0]
        for pat, name in ((r"in_proj", "conv in_proj"), (r"conv\.out_proj", "conv out_proj"),
                          (r"q_proj", "attention q/k/v"), (r"self_attn\.out_proj", "attention out_proj"),
                          (r"w1\.weight\+", "ffn w1+w3"), (r"w2\.weight", "ffn w2"),
                          (r"embed_tokens|lm_head", "head"), (r"q_layernorm", "attention scores/values"),
                          (r"conv\.conv", "short conv")):
            if re.search(pat, weight):
                kind = name
                break
        kinds[kind] += ms
    print("\nby kind (%.1f ms of Halide kernels in all):" % total)
    for kind, ms in sorted(kinds.items(), key=lambda kv: -kv[1]):
        print("  %-26s %9.1f ms %5.1f%%" % (kind, ms, share(ms)))


if __name__ == "__main__":
    main()
