#!/usr/bin/env python3
"""Per-step latency of compiled CfC / LTC cells (batch 1, one thread).

Writes random-weight checkpoints for CfC(8, 64, backbone 128) and
LTC(8, 64) (fully connected wiring), compiles them with liquidc, runs each
executable's --bench mode and prints microseconds per step next to the
step's FLOP count and the fraction of this machine's FMA peak
(2 FMA units x 8 lanes x 2 FLOP per cycle). Best of 5 runs: the machine is
a shared VM and single runs vary by up to 15%. Not a test.
"""
import argparse, json, os, re, struct, subprocess, sys
import numpy as np


def write_safetensors(path, tensors):
    header, blob = {}, b""
    for k in sorted(tensors):
        a = np.ascontiguousarray(tensors[k], dtype=np.float32)
        header[k] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [len(blob), len(blob) + a.nbytes]}
        blob += a.tobytes()
    hj = json.dumps(header).encode()
    hj += b" " * ((8 - len(hj) % 8) % 8)
    open(path, "wb").write(struct.pack("<Q", len(hj)) + hj + blob)


def cfc(rng, inp=8, units=64, bb=128):
    t = {"rnn_cell.backbone.0.weight": rng.normal(0, 0.1, (bb, inp + units)),
         "rnn_cell.backbone.0.bias": rng.normal(0, 0.1, bb)}
    for h in ("ff1", "ff2", "time_a", "time_b"):
        t["rnn_cell.%s.weight" % h] = rng.normal(0, 0.1, (units, bb))
        t["rnn_cell.%s.bias" % h] = rng.normal(0, 0.1, units)
    spec = {"class": "CfC", "input_size": inp, "units": units, "backbone_units": bb, "backbone_layers": 1}
    flops = 2 * bb * (inp + units) + 2 * 4 * units * bb + 12 * units
    return spec, t, flops


def ltc(rng, inp=8, n=64, unfolds=6):
    t = {"rnn_cell.gleak": rng.uniform(0.001, 1, n), "rnn_cell.vleak": rng.uniform(-0.2, 0.2, n),
         "rnn_cell.cm": rng.uniform(0.4, 0.6, n), "rnn_cell.sigma": rng.uniform(3, 8, (n, n)),
         "rnn_cell.mu": rng.uniform(0.3, 0.8, (n, n)), "rnn_cell.w": rng.uniform(0.001, 1, (n, n)),
         "rnn_cell.erev": rng.choice([-1.0, 1.0, 1.0], (n, n)), "rnn_cell.sparsity_mask": np.ones((n, n)),
         "rnn_cell.sensory_sigma": rng.uniform(3, 8, (inp, n)), "rnn_cell.sensory_mu": rng.uniform(0.3, 0.8, (inp, n)),
         "rnn_cell.sensory_w": rng.uniform(0.001, 1, (inp, n)), "rnn_cell.sensory_erev": rng.choice([-1.0, 1.0, 1.0], (inp, n)),
         "rnn_cell.sensory_sparsity_mask": np.ones((inp, n)),
         "rnn_cell.input_w": np.ones(inp), "rnn_cell.input_b": np.zeros(inp),
         "rnn_cell.output_w": np.ones(n), "rnn_cell.output_b": np.zeros(n)}
    spec = {"class": "LTC", "input_size": inp, "units": n, "ode_unfolds": unfolds}
    # per synapse and unfold: sub, mul, sigmoid (exp counted as 1, add, div), 2 mul-add
    flops = unfolds * n * n * 9 + inp * n * 9 + unfolds * n * 10
    return spec, t, flops


def cpu_ghz():
    try:
        mhz = [float(l.split(":")[1]) for l in open("/proc/cpuinfo") if l.startswith("cpu MHz")]
        return max(mhz) / 1000.0
    except Exception:
        return 3.0


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--liquidc", default=os.path.join(os.path.dirname(__file__), "..", "build", "bin", "liquidc"))
    ap.add_argument("--out", default="/tmp/liquid-bench")
    ap.add_argument("--steps", type=int, default=200000)
    ap.add_argument("--target", default="host")
    ap.add_argument("--backends", default="llvm,halide",
                    help="kernel generators to compare, in one run (liquidc --backend)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(0)
    ghz = cpu_ghz()
    peak = ghz * 32.0  # GFLOP/s: 2 FMA x 8 lanes x 2
    print("machine: %.2f GHz (from /proc/cpuinfo), single-thread AVX2 FMA peak %.0f GFLOP/s" % (ghz, peak))
    for name, (spec, tensors, flops) in (("cfc_8_64", cfc(rng)), ("ltc_8_64", ltc(rng))):
        st = os.path.join(args.out, name + ".safetensors")
        write_safetensors(st, tensors)
        js = os.path.join(args.out, name + ".json")
        json.dump(spec, open(js, "w"))
        exes = {}
        for be in args.backends.split(","):
            exes[be] = os.path.join(args.out, name + "-" + be)
            subprocess.run([args.liquidc, js, "-o", exes[be], "--target=" + args.target,
                            "--backend=" + be], check=True)
        best = {}
        for _ in range(5):  # alternate the backends, keep each one's best
            for be, exe in exes.items():
                out = subprocess.run(["taskset", "-c", "0", exe, "--bench", str(args.steps)], check=True,
                                     stdout=subprocess.PIPE, universal_newlines=True).stdout
                us = float(re.search(r"us_per_step=([0-9.]+)", out).group(1))
                best[be] = min(us, best.get(be, us))
        for be, us in best.items():
            gflops = flops / (us * 1e3)
            print("%-9s %-7s %8.3f us/step  %7d FLOP/step  %6.2f GFLOP/s  %5.1f%% of FMA peak" %
                  (name, be, us, flops, gflops, 100.0 * gflops / peak))


if __name__ == "__main__":
    sys.exit(main())
