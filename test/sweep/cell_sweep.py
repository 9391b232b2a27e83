#!/usr/bin/python3
"""Differential sweep of liquidc over the ncps cell family (CfC, wired CfC, LTC).

Config k of path P comes from numpy.random.default_rng([seed, id(P), k]), id(P)
= P's position in PATHS (new paths go at the end, so draws never change):
paths see different shapes, and `--paths P --index k` re-runs exactly one.
The same generator then draws weights and inputs; `--set key=JSON` overrides
a drawn field (to shrink a failure by hand).

Configuration space:
  * CfC, int units 1..96: mode default / no_gate / pure; backbone 0..3 layers
    of 1..160 units, activation lecun_tanh / tanh / relu / silu / gelu;
    backbone_dropout 0 / 0.1 / 0.3 and, independently, the Sequential numbering
    with or without the dropout shift (0,2,5,8 / 0,2,4,6; the loader takes both).
  * wired CfC: NCP(inter 1..20, command 1..20, motor 1..16), AutoNCP(units
    4..64, output_size < units-2; split as ncps and the loader compute it),
    FullyConnected(1..64); random {0,1} masks (ncps stores |adjacency|) on each
    layer's input block, density 0.05..1, and on the recurrent block in a quarter
    of the configs (ncps: all ones).
  * LTC: int units 1..64 (all-ones masks, as ncps) or one of the wirings with
    random masks on both synapse matrices and its output size (motor /
    output_size / output_dim); ode_unfolds 1..12, epsilon 0 / 1e-8 / 1e-6 / 1e-3,
    implicit_param_constraints true / false, input and output mapping affine /
    linear / none. ncps' initial ranges (gleak, w U(0.001, 1), cm U(0.4, 0.6),
    sigma U(3, 8), mu U(0.3, 0.8), erev +-1 on synapses): positive with or
    without the softplus.
  * All: input_size 1..20, mixed_memory in a quarter, proj_size 1..32 for a
    third of the CfCs, `param.` key prefix in a fifth; batch 1..5, 1..12 steps,
    timespans 1.0 or U(0.05, 3) per row and step, initial h (and c) in a third.
    Xavier-uniform matrices and U(+-1/sqrt(fan_in)) biases as ncps initialises
    them, inputs U(-1, 1): O(1) activations, not saturated.

Paths: exe (host), lib (static library + header driven by a C program: per
batch row reset / set_state, then one _run call on even rows and T _step calls
on odd rows, get_state), halide (--backend=halide), x86-64-v2/-v3/-v4 (skipped
without AVX2 / AVX-512), aarch64 (aarch64-linux under qemu-aarch64), riscv64
(riscv64-linux, RV64GC) and riscv64-rvv (qemu-riscv64 -cpu rv64,v=true,vlen=128);
exe-batch (batch 6..70 on 2 threads) and lib-batch (the library's batch
context on 3 threads, one cell_step_batch call per step); cortex-m4f,
cortex-m55 and rv32imafc (bare-metal test programs under qemu-system, through
liquid-mcu-run); q8, q8-lib, q8-batch, q8-x86-64-v3, q8-cortex-m4f,
q8-cortex-m55 and q8-aarch64 (--quantize=q8: the drawn weight matrices are made int8 per output row first,
int8_rows, so the int8 program must meet the same tolerance: a wrong scale,
byte offset or tile gives 1e-2 .. 1).

Oracle: tools/ncps_reference.py of --shared DIR (default $LIQUID_SHARED, else
../shared beside the repo; float64, independent of the compiler), imported and
run on the same spec, safetensors and float32 inputs. Tolerance (--tol) 1e-5
absolute on every output and the final h (and c): what is left is float32
arithmetic, observed <= ~1e-6 on the fixtures (the oracle matches torch float32
to 3.8e-7) and <= 2.6e-6 over 900 configs here (--n 100; the largest in deep
no_gate backbones, whose state grows with T); a wrong mask, index, tile or
equation gives 1e-3 .. 1. Any liquidc error is a FAIL: no shape is unsupported.

Output: `[P k] PASS|FAIL cause err=E | config | seconds | repro: CMD` per config;
a failure adds its liquidc, program and oracle commands (in the --keep-failures
folder, /tmp/cell_sweep_repro for the repro command), and the last line is
`cell sweep: N passed, M failed`; exit status 1 if any failed. Emulator crashes
known to be QEMU bugs (sweep_common.KNOWN_RUNNER_BUGS) are named in the cause, still FAILs.
"""
import argparse
import concurrent.futures
import json
import math
import os
import shlex
import shutil
import sys
import tempfile
import time

import numpy as np

sys.dont_write_bytecode = True                     # keep the shared tools folder clean
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "test", "e2e_helpers"))
from fixtures import write_safetensors  # noqa: E402
from sweep_common import TARGET_PATHS, known_runner_bug, last_line, run, unavailable  # noqa: E402
REPRO_DIR = "/tmp/cell_sweep_repro"
DEFAULTS = {"liquidc": os.path.join(REPO, "build", "bin", "liquidc"), "tol": 1e-5, "extra_liquidc_args": "",
            "shared": os.path.abspath(os.environ.get("LIQUID_SHARED", os.path.join(os.path.dirname(REPO), "shared")))}
PATHS = {   # name -> liquidc options, artifact kind (then the CPU targets, sweep_common.py)
    "exe": dict(args=[]),
    "lib": dict(args=["--emit=lib"], lib=True),
    "halide": dict(args=["--backend=halide"]),
    **TARGET_PATHS,
    # batches of 6..70 rows: the batched kernel's row groups and tail, on threads
    "exe-batch": dict(args=[], batch=True, run_args=["--threads", "2"]),
    "lib-batch": dict(args=["--emit=lib"], lib=True, batch=True),
    # microcontrollers: bare-metal test programs under qemu-system (semihosting)
    "cortex-m4f": dict(args=["--target=cortex-m4f"], runner=["liquid-mcu-run", "mps2-an386"],
                       cc="arm-none-eabi-gcc", tools=["qemu-system-arm"]),
    "cortex-m55": dict(args=["--target=cortex-m55"], runner=["liquid-mcu-run", "mps3-an547"],
                       cc="arm-none-eabi-gcc", tools=["qemu-system-arm"]),
    "rv32imafc": dict(args=["--target=rv32imafc"], runner=["liquid-mcu-run", "riscv32-virt"],
                      cc="riscv64-unknown-elf-gcc", tools=["qemu-system-riscv32"]),
    # --quantize=q8: the weight matrices drawn already int8 with a scale per output (prequantize),
    # so the program must match the oracle as closely as in f32
    "q8": dict(args=["--quantize=q8"], q8=True),
    "q8-lib": dict(args=["--quantize=q8", "--emit=lib"], lib=True, q8=True),
    "q8-batch": dict(args=["--quantize=q8"], q8=True, batch=True, run_args=["--threads", "2"]),
    "q8-x86-64-v3": dict(args=["--quantize=q8", "--target=x86-64-v3"], q8=True, needs="avx2"),
    "q8-cortex-m4f": dict(args=["--quantize=q8", "--target=cortex-m4f"], q8=True,
                          runner=["liquid-mcu-run", "mps2-an386"], cc="arm-none-eabi-gcc",
                          tools=["qemu-system-arm"]),
    "q8-cortex-m55": dict(args=["--quantize=q8", "--target=cortex-m55"], q8=True,
                          runner=["liquid-mcu-run", "mps3-an547"], cc="arm-none-eabi-gcc",
                          tools=["qemu-system-arm"]),
    "q8-aarch64": dict(TARGET_PATHS["aarch64"], args=["--quantize=q8", "--target=aarch64-linux"], q8=True),
}
PATH_IDS = {name: i for i, name in enumerate(PATHS)}
ACTS = ["lecun_tanh", "tanh", "relu", "silu", "gelu"]
MAPS = ["affine", "linear", "none"]
ncps_reference = None


# ----------------------------------------------------------------------------- configuration
def draw_config(rng):
    """A random point of the configuration space (a flat dict of plain values)."""
    u = rng.random()
    c = {"cls": "CfC" if u < 0.4 else "WiredCfC" if u < 0.65 else "LTC",
         "S": int(rng.integers(1, 21)), "mixed": bool(rng.random() < 0.25),
         "prefix": bool(rng.random() < 0.2)}
    if c["cls"] == "CfC":
        c.update(units=int(rng.integers(1, 97)), bb_layers=int(rng.integers(0, 4)),
                 bb_units=int(rng.integers(1, 161)), act=str(rng.choice(ACTS)),
                 dropout=float(rng.choice([0.0, 0.0, 0.1, 0.3])),
                 drop_numbering=bool(rng.random() < 0.5))        # 0,2,5,8 instead of 0,2,4,6
    elif c["cls"] == "LTC" and rng.random() < 0.4:
        c["units"] = int(rng.integers(1, 65))
    else:
        w = c["wiring"] = str(rng.choice(["NCP", "AutoNCP", "FullyConnected"]))
        if w == "NCP":
            c["ncp"] = [int(rng.integers(1, 21)), int(rng.integers(1, 21)), int(rng.integers(1, 17))]
        elif w == "AutoNCP":
            n = int(rng.integers(4, 65))
            c["auto"] = [n, int(rng.integers(1, n - 2))]
        else:
            c["units"] = int(rng.integers(1, 65))
            if c["cls"] == "LTC" and rng.random() < 0.5:     # WiredCfC outputs all units: no output_dim
                c["out_dim"] = int(rng.integers(1, c["units"] + 1))
        c.update(density=round(float(rng.uniform(0.05, 1.0)), 3), rec_sparse=bool(rng.random() < 0.25))
    if c["cls"] == "LTC":
        c.update(unfolds=int(rng.integers(1, 13)), eps=float(rng.choice([0.0, 1e-8, 1e-6, 1e-3])),
                 implicit=bool(rng.random() < 0.5), in_map=str(rng.choice(MAPS)),
                 out_map=str(rng.choice(MAPS)))
    else:
        c["mode"] = str(rng.choice(["default", "no_gate", "pure"]))
        c["proj"] = int(rng.integers(1, 33)) if rng.random() < 1 / 3 else None
    c.update(B=int(rng.integers(1, 6)), T=int(rng.integers(1, 13)),
             irregular=bool(rng.random() < 0.5), init_state=bool(rng.random() < 1 / 3))
    return c


def autoncp_split(units, out):
    """ncps AutoNCP: command = max(int(0.4 * (units - out)), 1), inter = the rest."""
    cmd = max(int(0.4 * (units - out)), 1)
    return [units - out - cmd, cmd, out]


def layer_sizes(c):
    """Sizes of the wired CfC layers; [N] for an LTC or an int-units CfC."""
    w = c.get("wiring")
    sizes = list(c["ncp"]) if w == "NCP" else autoncp_split(*c["auto"]) if w == "AutoNCP" else [c["units"]]
    return sizes if c["cls"] == "WiredCfC" else [sum(sizes)]


def ltc_motor(c):
    """The LTC output size M (motor neurons)."""
    w = c.get("wiring")
    return c["ncp"][2] if w == "NCP" else c["auto"][1] if w == "AutoNCP" else c.get("out_dim") or c["units"]


def describe(c):
    s = [c["cls"]]
    if c.get("wiring"):
        arg = c.get("ncp") or c.get("auto") or [c["units"]] + ([c["out_dim"]] if c.get("out_dim") else [])
        s.append(f"{c['wiring']}({','.join(map(str, arg))})={layer_sizes(c)} dens={c['density']}"
                 + (" rec-sparse" if c["rec_sparse"] else ""))
    else:
        s.append(f"units={c['units']}")
    s.append(f"in={c['S']}")
    if c["cls"] == "CfC":
        s.append(f"bb={c['bb_layers']}x{c['bb_units']}/{c['act']}" if c["bb_layers"] else "bb=0")
        if c["bb_layers"] > 1 and (c["dropout"] or c["drop_numbering"]):
            s.append(f"drop={c['dropout']}/{'0,2,5' if c['drop_numbering'] else '0,2,4'}")
    if c["cls"] == "LTC":
        s.append(f"M={ltc_motor(c)} unfolds={c['unfolds']} eps={c['eps']:g} "
                 f"{'implicit' if c['implicit'] else 'explicit'} in={c['in_map']} out={c['out_map']}")
    else:
        s.append(c["mode"] + (f" proj={c['proj']}" if c["proj"] else ""))
    s += ["mixed"] * c["mixed"] + ["param."] * c["prefix"]
    s.append(f"B={c['B']} T={c['T']}{' ts' if c['irregular'] else ''}{' h0' if c['init_state'] else ''}")
    return " ".join(s)


# ----------------------------------------------------------------------------- spec, weights, inputs
def make_spec(c):
    spec = {"name": "cell", "class": "LTC" if c["cls"] == "LTC" else "CfC",
            "input_size": c["S"], "weights": "cell.safetensors", "mixed_memory": c["mixed"]}
    w = c.get("wiring")
    if w == "NCP":
        args = dict(zip(["inter_neurons", "command_neurons", "motor_neurons"], c["ncp"]))
    elif w == "AutoNCP":
        args = {"units": c["auto"][0], "output_size": c["auto"][1], "sparsity_level": 0.5, "seed": 22222}
    else:
        args = {"units": c["units"], **({"output_dim": c["out_dim"]} if c.get("out_dim") else {})}
    spec["units"] = {"type": w, "args": args} if w else c["units"]
    if c["cls"] == "LTC":
        spec.update(ode_unfolds=c["unfolds"], epsilon=c["eps"], implicit_param_constraints=c["implicit"],
                    input_mapping=c["in_map"], output_mapping=c["out_map"])
        return spec
    spec["mode"] = c["mode"]
    if c["proj"]:
        spec["proj_size"] = c["proj"]
    if c["cls"] == "CfC":
        spec.update(activation=c["act"], backbone_units=c["bb_units"], backbone_layers=c["bb_layers"],
                    backbone_dropout=c["dropout"])
    return spec


def make_weights(c, rng):
    """The ncps state_dict of configuration c; returns (tensors, state size)."""
    t = {}
    uni = lambda shape, lo, hi: rng.uniform(lo, hi, shape)

    def linear(name, n_out, n_in, bias=True):
        a = math.sqrt(6.0 / (n_in + n_out))                   # xavier_uniform_
        t[name + ".weight"] = uni((n_out, n_in), -a, a)
        if bias:
            t[name + ".bias"] = uni((n_out,), -1 / math.sqrt(n_in), 1 / math.sqrt(n_in))

    def heads(p, n_in, h):
        linear(p + "ff1", h, n_in)
        if c["mode"] == "pure":
            t[p + "w_tau"], t[p + "A"] = uni((1, h), -0.5, 0.5), uni((1, h), 0.5, 1.5)
        else:
            for head in ("ff2", "time_a", "time_b"):
                linear(p + head, h, n_in)

    def mask(shape):
        return (rng.random(shape) < c["density"]).astype(np.float64)

    S = c["S"]
    if c["cls"] == "CfC":
        H, bl, bu = c["units"], c["bb_layers"], c["bb_units"]
        for i in range(bl):
            idx = 0 if i == 0 else (3 * i - 1 if c["drop_numbering"] else 2 * i)
            linear(f"rnn_cell.backbone.{idx}", bu, S + H if i == 0 else bu)
        heads("rnn_cell.", bu if bl else S + H, H)
        N, out = H, H
    elif c["cls"] == "WiredCfC":
        n_in = S
        for l, h in enumerate(layer_sizes(c)):
            p = f"rnn_cell.layer_{l}."
            heads(p, n_in + h, h)
            rec = mask((h, h)) if c["rec_sparse"] else np.ones((h, h))
            t[p + "sparsity_mask"] = np.concatenate([mask((h, n_in)), rec], axis=1)
            n_in = h
        N, out = sum(layer_sizes(c)), layer_sizes(c)[-1]
    else:
        N, M = layer_sizes(c)[0], ltc_motor(c)
        wired = bool(c.get("wiring"))
        p = "rnn_cell."
        t.update({p + "gleak": uni(N, 0.001, 1.0), p + "vleak": uni(N, -0.2, 0.2), p + "cm": uni(N, 0.4, 0.6)})
        for pre, rows in (("", N), ("sensory_", S)):
            m = mask((rows, N)) if wired else np.ones((rows, N))
            t[p + pre + "sigma"], t[p + pre + "mu"] = uni((rows, N), 3, 8), uni((rows, N), 0.3, 0.8)
            t[p + pre + "w"] = uni((rows, N), 0.001, 1.0)
            t[p + pre + "erev"] = m * rng.choice([-1.0, 1.0, 1.0], (rows, N))
            t[p + pre + "sparsity_mask"] = m
        for side, n, mp in (("input", S, c["in_map"]), ("output", M, c["out_map"])):
            if mp != "none":
                t[f"{p}{side}_w"] = uni(n, 0.5, 1.5)
            if mp == "affine":
                t[f"{p}{side}_b"] = uni(n, -0.2, 0.2)
        out = M
    if c["mixed"]:
        linear("lstm.input_map", 4 * N, S)
        t["lstm.input_map.bias"] = uni(4 * N, -0.1, 0.1)
        linear("lstm.recurrent_map", 4 * N, N, bias=False)
    if c.get("proj"):
        linear("fc", c["proj"], out)
        out = c["proj"]
    if c.get("q8"):
        prequantize(t, c)
    if c["prefix"]:
        t = {"param." + k: v for k, v in t.items()}
    return t, N


def int8_rows(w):
    """w with each row r replaced by s_r * round(w_r / s_r), s_r = max |w_r| / 127 (in float32):
    what liquidc's q8c stores, so quantizing it again loses nothing."""
    w = w.astype(np.float32)
    s = np.abs(w).max(axis=1, keepdims=True) / np.float32(127)
    q = np.round(w / np.where(s == 0, 1, s))
    return (q * s).astype(np.float64)


def prequantize(t, c):
    """Makes every matrix of a cell product (as liquid-fuse-cfc fuses them: a masked layer
    with its mask applied, an LSTM's input and recurrent maps side by side) int8 per row."""
    for name in [k for k in t if k.endswith(".weight") and not k.startswith("lstm.")]:
        mask = t.get(name.rsplit(".", 2)[0] + ".sparsity_mask")
        head = name.rsplit(".", 2)[1]
        t[name] = int8_rows(t[name] * mask if mask is not None and head in ("ff1", "ff2") else t[name])
    if c["mixed"]:
        a, b = t["lstm.input_map.weight"], t["lstm.recurrent_map.weight"]
        both = int8_rows(np.concatenate([a, b], axis=1))
        t["lstm.input_map.weight"], t["lstm.recurrent_map.weight"] = both[:, :a.shape[1]], both[:, a.shape[1]:]


def make_inputs(c, rng, N):
    B, T = c["B"], c["T"]
    d = {"x": rng.uniform(-1, 1, (B, T, c["S"]))}
    if c["irregular"]:
        d["t"] = rng.uniform(0.05, 3.0, (B, T))
    if c["init_state"]:
        d["h0"] = rng.uniform(-1, 1, (B, N))
        if c["mixed"]:
            d["c0"] = rng.uniform(-1, 1, (B, N))
    return {k: v.astype(np.float32) for k, v in d.items()}


# ----------------------------------------------------------------------------- the lib driver
LIB_MAIN = r"""
/* prog x.bin t.bin|- h0.bin|- c0.bin|- B T out.bin: writes y [B,T,OUT], h [B,N] (, c [B,N]) */
int main(int argc, char **argv) {
  if (argc != 8) return 2;
  size_t B = atoi(argv[5]), T = atoi(argv[6]), N = cell_STATE_SIZE, C = cell_CELL_STATE_SIZE;
  float *x = rd(argv[1], B * T * cell_INPUT_SIZE), *ts = rd(argv[2], B * T);
  float *h0 = rd(argv[3], B * N), *c0 = rd(argv[4], B * C);
  float *y = malloc(sizeof(float) * (B * T * cell_OUTPUT_SIZE + 1));
  float *h = malloc(sizeof(float) * B * N), *c = malloc(sizeof(float) * (B * C + 1));
  cell_ctx *m = cell_create(NULL);
  if (!m) { fprintf(stderr, "%s\n", cell_last_error()); return 1; }
  for (size_t b = 0; b < B; ++b) {  /* even rows: one cell_run call; odd rows: T cell_step calls */
    cell_reset(m);
    int bad = (h0 && cell_set_state(m, 0, h0 + b * N)) || (c0 && cell_set_state(m, 1, c0 + b * C));
    if (b % 2 == 0)
      bad |= cell_run(m, x + b * T * cell_INPUT_SIZE, ts ? ts + b * T : NULL, (int64_t)T, y + b * T * cell_OUTPUT_SIZE);
    else
      for (size_t t = 0; t < T; ++t)
        bad |= cell_step(m, x + (b * T + t) * cell_INPUT_SIZE, ts ? ts[b * T + t] : 1.0f,
                         y + (b * T + t) * cell_OUTPUT_SIZE);
    bad |= cell_get_state(m, 0, h + b * N) || (cell_NUM_STATES == 2 && cell_get_state(m, 1, c + b * C));
    if (bad) { fprintf(stderr, "%s\n", cell_last_error()); return 1; }
  }
  cell_destroy(m);
  return write_out(argv[7], y, h, c, B, T, N, C);
}
"""
LIB_OUT = r"""
static int write_out(const char *path, const float *y, const float *h, const float *c, size_t B,
                     size_t T, size_t N, size_t C) {
  FILE *f = fopen(path, "wb");
  return !f || fwrite(y, sizeof(float), B * T * cell_OUTPUT_SIZE, f) + fwrite(h, sizeof(float), B * N, f) +
                    fwrite(c, sizeof(float), B * C, f) != (B * T * cell_OUTPUT_SIZE + B * N + B * C) || fclose(f);
}
"""
LIB_HEAD = r"""#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cell.h"
static int write_out(const char *path, const float *y, const float *h, const float *c, size_t B,
                     size_t T, size_t N, size_t C);
static float *rd(const char *p, size_t n) {
  if (p[0] == '-') return NULL;
  float *a = malloc(sizeof(float) * (n ? n : 1));
  FILE *f = fopen(p, "rb");
  if (!a || !f || fread(a, sizeof(float), n, f) != n) { fprintf(stderr, "cannot read %s\n", p); exit(3); }
  fclose(f);
  return a;
}
"""
LIB_MAIN = LIB_HEAD + LIB_MAIN + LIB_OUT
LIB_BATCH_MAIN = LIB_HEAD + r"""
/* the same arguments: one batch context of B rows on 3 threads, one step_batch call per step */
int main(int argc, char **argv) {
  if (argc != 8) return 2;
  size_t B = atoi(argv[5]), T = atoi(argv[6]), N = cell_STATE_SIZE, C = cell_CELL_STATE_SIZE;
  size_t I = cell_INPUT_SIZE, O = cell_OUTPUT_SIZE;
  float *x = rd(argv[1], B * T * I), *ts = rd(argv[2], B * T);
  float *h0 = rd(argv[3], B * N), *c0 = rd(argv[4], B * C);
  float *y = malloc(sizeof(float) * (B * T * O + 1)), *xs = malloc(sizeof(float) * B * I);
  float *dts = malloc(sizeof(float) * B), *ys = malloc(sizeof(float) * B * O);
  float *h = malloc(sizeof(float) * B * N), *c = malloc(sizeof(float) * (B * C + 1));
  cell_ctx *m = cell_create_batch(NULL, (int64_t)B, 3);
  if (!m) { fprintf(stderr, "%s\n", cell_last_error()); return 1; }
  int bad = cell_batch_rows(m) != (int64_t)B || cell_step(m, x, 1.0f, NULL) == 0;  /* one-row calls refused */
  bad |= (h0 && cell_set_state(m, 0, h0)) || (c0 && cell_set_state(m, 1, c0));
  for (size_t t = 0; t < T; ++t) {
    for (size_t b = 0; b < B; ++b) {
      memcpy(xs + b * I, x + (b * T + t) * I, sizeof(float) * I);
      dts[b] = ts ? ts[b * T + t] : 1.0f;
    }
    bad |= cell_step_batch(m, xs, ts ? dts : NULL, ys);
    for (size_t b = 0; b < B; ++b)
      memcpy(y + (b * T + t) * O, ys + b * O, sizeof(float) * O);
  }
  bad |= cell_get_state(m, 0, h) || (cell_NUM_STATES == 2 && cell_get_state(m, 1, c));
  if (bad) { fprintf(stderr, "batch driver: %s\n", cell_last_error()); return 1; }
  cell_destroy(m);
  /* each row again in a one-sequence context: bit-identical results */
  cell_ctx *one = cell_create(NULL);
  float *y1 = malloc(sizeof(float) * (T * O + 1)), *h1 = malloc(sizeof(float) * N), *c1 = malloc(sizeof(float) * (C + 1));
  for (size_t b = 0; b < B; ++b) {
    cell_reset(one);
    if (h0) cell_set_state(one, 0, h0 + b * N);
    if (c0) cell_set_state(one, 1, c0 + b * C);
    cell_run(one, x + b * T * I, ts ? ts + b * T : NULL, (int64_t)T, y1);
    cell_get_state(one, 0, h1);
    if (cell_NUM_STATES == 2) cell_get_state(one, 1, c1);
    if (memcmp(y1, y + b * T * O, sizeof(float) * T * O) || memcmp(h1, h + b * N, sizeof(float) * N) ||
        (C && memcmp(c1, c + b * C, sizeof(float) * C))) {
      fprintf(stderr, "batch driver: row %zu differs from a one-sequence context\n", b);
      return 1;
    }
  }
  cell_destroy(one);
  return write_out(argv[7], y, h, c, B, T, N, C);
}
""" + LIB_OUT


# ----------------------------------------------------------------------------- one configuration
def commands(a, path, c, work):
    """(liquidc, C compiler or None, program, oracle) command lines of one configuration in `work`."""
    P, j = PATHS[path], lambda f: os.path.join(work, f)
    given = [(k, flag) for k, flag, on in (("t", "--timespans", c["irregular"]), ("h0", "--state", c["init_state"]),
                                            ("c0", "--cell-state", c["init_state"] and c["mixed"])) if on]
    inputs = ["--input", j("x.npy")] + [x for k, flag in given for x in (flag, j(k + ".npy"))]
    outs = lambda p: ["--output", j(p + "y.npy"), "--state-out", j(p + "h.npy")] + (
        ["--cell-state-out", j(p + "c.npy")] if c["mixed"] else [])
    comp = [a.liquidc, j("cell.json"), "-o", j("libcell.a" if P.get("lib") else "prog")] + P["args"] \
        + shlex.split(a.extra_liquidc_args)
    cc = None
    if P.get("lib"):
        cc = [P.get("cc", "cc"), "-O1", "-I", work, j("main.c"), j("libcell.a"), "-lm", "-ldl",
              "-lpthread", "-o", j("prog")] + os.environ.get("LIQUIDC_CFLAGS", "").split()
        have = {k for k, _ in given}
        prog = [j("prog"), j("x.bin")] + [j(k + ".bin") if k in have else "-" for k in ("t", "h0", "c0")] \
            + [str(c["B"]), str(c["T"]), j("out.bin")]
    else:
        prog = [j("prog")] + inputs + outs("") + P.get("run_args", [])
    oracle = ["/usr/bin/python3", os.path.join(a.shared, "tools", "ncps_reference.py"), j("cell.json"),
              "--f64"] + inputs + outs("ref_")
    return comp, cc, P.get("runner", []) + prog, oracle


def read_outputs(work, want):
    """The program's outputs, shaped like the oracle's `want` ({y, h[, c]})."""
    if not os.path.exists(os.path.join(work, "out.bin")):        # exe: y.npy, h.npy, c.npy
        return {key: np.load(os.path.join(work, key + ".npy")) for key in want}
    flat = np.fromfile(os.path.join(work, "out.bin"), np.float32)
    ends = np.cumsum([w.size for w in want.values()])
    if flat.size != ends[-1]:
        raise ValueError(f"out.bin has {flat.size} floats, expected {ends[-1]}")
    return {key: flat[e - w.size:e].reshape(w.shape) for (key, w), e in zip(want.items(), ends)}


def load_oracle(shared):
    """Imports shared/tools/ncps_reference.py (once per process)."""
    global ncps_reference
    if ncps_reference is None:
        tools = os.path.join(shared, "tools")
        if not os.path.isfile(os.path.join(tools, "ncps_reference.py")):
            sys.exit(f"cell_sweep: no oracle at {tools}/ncps_reference.py (set --shared or LIQUID_SHARED)")
        sys.path.insert(0, tools)
        import ncps_reference as mod
        ncps_reference = mod


def check(a, c, rng, cmds, work):
    """Writes configuration c into `work`, compiles, runs and compares; returns (cause or "", error)."""
    tensors, N = make_weights(c, rng)
    data = make_inputs(c, rng, N)
    with open(os.path.join(work, "cell.json"), "w") as f:
        json.dump(make_spec(c), f, indent=1)
    write_safetensors(os.path.join(work, "cell.safetensors"), tensors)
    if cmds[1]:
        with open(os.path.join(work, "main.c"), "w") as f:
            f.write(LIB_BATCH_MAIN if c.get("batch") else LIB_MAIN)
    for name, v in data.items():
        np.save(os.path.join(work, name + ".npy"), v)
        v.tofile(os.path.join(work, name + ".bin"))
    for what, cmd in zip(("compile: liquidc", "cc:", "run: program"), cmds[:3]):
        rc, so, se, _ = run(cmd, a.timeout) if cmd else (0, "", "", 0)
        if rc:
            return f"{what} rc {rc}: {last_line(so + se)}{known_runner_bug(so + se)}", float("nan")
    ref = ncps_reference.NcpsReference(os.path.join(work, "cell.json"))
    f64 = lambda key: data[key].astype(np.float64) if key in data else None
    y, h, cs = ref.run(f64("x"), f64("t"), f64("h0"), f64("c0"))
    want = {"y": y, "h": h, "c": cs} if c["mixed"] else {"y": y, "h": h}
    for key, w in want.items():
        np.save(os.path.join(work, f"ref_{key}.npy"), w)
    got, errs = read_outputs(work, want), {}
    for key, w in want.items():
        if got[key].shape != w.shape:
            return f"shape: {key} {got[key].shape} != {w.shape}", float("nan")
        if not np.all(np.isfinite(got[key])):
            return f"nonfinite: {key} has NaN/Inf", float("nan")
        errs[key] = float(np.abs(got[key].astype(np.float64) - w).max()) if w.size else 0.0
    err = max(errs.values())
    if err <= a.tol:
        return "", err
    worst = max(errs, key=errs.get)
    at = np.unravel_index(np.argmax(np.abs(got[worst] - want[worst])), want[worst].shape)
    detail = " ".join(f"{key}={v:.1e}" for key, v in errs.items())
    return f"mismatch: {detail} (worst {worst} at {tuple(map(int, at))})", err


def sweep_one(a, path, k):
    """Configuration k of `path`: returns (cause or "" if it passed, error, configuration, commands, work)."""
    load_oracle(a.shared)
    rng = np.random.default_rng([a.seed, PATH_IDS[path], k])
    c = draw_config(rng)
    while PATHS[path].get("q8") and c["cls"] == "LTC" and not c["mixed"]:
        c = draw_config(rng)   # an LTC alone has no matrix to quantize: draw again
    if PATHS[path].get("batch"):
        c.update(B=int(rng.integers(6, 71)), batch=True)
    if PATHS[path].get("q8"):
        c.update(q8=True)
    c.update(a.overrides)
    work = tempfile.mkdtemp(prefix=f"cellsweep_{path}_{k}_", dir=a.workdir)
    cmds = commands(a, path, c, work)
    try:
        cause, err = check(a, c, rng, cmds, work)
    except Exception as e:                                     # a sweep or oracle error is a FAIL too
        cause, err = f"sweep/oracle error: {type(e).__name__}: {e}", float("nan")
    return cause, err, c, cmds, work


def sweep_line(a, path, k):
    """Runs one configuration and returns (ok, the lines to print); keeps or removes its folder."""
    t0 = time.time()
    cause, err, c, cmds, work = sweep_one(a, path, k)
    ok = not cause
    dest = os.path.join(a.keep_failures or REPRO_DIR, f"{path}-{k}")
    repro = (f"/usr/bin/python3 {os.path.relpath(os.path.abspath(__file__))} --seed {a.seed} --paths {path} "
             f"--index {k} --keep-failures {shlex.quote(a.keep_failures or REPRO_DIR)}")
    for key, default in DEFAULTS.items():
        v = getattr(a, key)
        repro += f" --{key.replace('_', '-')}={shlex.quote(str(v))}" if v != default else ""
    repro += "".join(f" --set {shlex.quote(s)}" for s in a.set)
    status = "PASS" if ok else "FAIL " + cause
    lines = [f"[{path} {k}] {status} err={err:.2e} | {describe(c)} | {time.time() - t0:.1f}s | repro: {repro}"]
    if not ok:
        for name, cmd in zip(("liquidc", "cc", "run", "oracle"), cmds):
            if cmd:
                lines.append(f"    {name}: " + " ".join(shlex.quote(x) for x in cmd).replace(work, dest))
        if a.keep_failures:
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(work, dest)
            with open(os.path.join(dest, "repro.txt"), "w") as f:
                f.write("\n".join(lines) + "\n" + json.dumps(c) + "\n")
    shutil.rmtree(work, ignore_errors=True)
    return ok, lines


def parse_set(s):
    key, _, val = s.partition("=")
    try:
        return key, json.loads(val)
    except ValueError:
        return key, val


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10, help="configurations per path")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--paths", default="all", help="comma-separated: " + ",".join(PATHS))
    ap.add_argument("--index", type=int, nargs="+", help="run only these indices k")
    ap.add_argument("--liquidc", default=DEFAULTS["liquidc"])
    ap.add_argument("--shared", default=DEFAULTS["shared"],
                    help="the shared folder (tools/ncps_reference.py); default $LIQUID_SHARED or ../shared")
    ap.add_argument("--tol", type=float, default=DEFAULTS["tol"])
    ap.add_argument("--keep-failures", "--keep", metavar="DIR")
    ap.add_argument("--workdir", default=None, help="where the temporary folders go")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per command")
    ap.add_argument("-j", "--jobs", type=int, default=1)
    ap.add_argument("--extra-liquidc-args", default=DEFAULTS["extra_liquidc_args"], help="appended to every liquidc command")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                    help="override a drawn configuration field, e.g. --set units=3 (for shrinking)")
    ap.add_argument("--list-paths", action="store_true", help="print the path names and exit")
    a = ap.parse_args(argv)
    if a.list_paths:
        print("\n".join(PATHS))
        return 0
    a.liquidc, a.shared = os.path.abspath(a.liquidc), os.path.abspath(a.shared)
    a.overrides = dict(parse_set(s) for s in a.set)
    if a.keep_failures:
        a.keep_failures = os.path.abspath(a.keep_failures)
    load_oracle(a.shared)
    paths = list(PATHS) if a.paths == "all" else a.paths.split(",")
    jobs = []
    for p in paths:
        if p not in PATHS:
            ap.error(f"unknown path '{p}' (known: {', '.join(PATHS)})")
        if unavailable(PATHS[p]):
            print(f"# SKIPPED path {p}: this machine cannot run it ({unavailable(PATHS[p])})")
            continue
        jobs += [(p, k) for k in (a.index if a.index is not None else range(a.n))]
    print(f"# cell sweep --seed {a.seed} --n {a.n} tol {a.tol:g}: {len(jobs)} configurations", flush=True)
    fails = 0
    with concurrent.futures.ProcessPoolExecutor(max_workers=max(1, a.jobs)) as pool:
        for ok, lines in pool.map(sweep_line, [a] * len(jobs), *zip(*jobs) if jobs else ([], [])):
            fails += not ok
            print("\n".join(lines), flush=True)
    print(f"cell sweep: {len(jobs) - fails} passed, {fails} failed")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
