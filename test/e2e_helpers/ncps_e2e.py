#!/usr/bin/env python3
"""End-to-end check of liquidc against the ncps reference sets.

For every set in FIXTURES/ncps: compile the spec with liquidc (exe, or lib +
a C program linked through the generated header), run it on the stored
inputs with regular (1.0) and irregular time spans, and compare outputs and
final states with the stored torch results. Prints one line per set and
exits 1 if any error exceeds the tolerance.
"""
import argparse
import os
import subprocess
import sys

import numpy as np

from fixtures import load_safetensors, run

TOL = 1e-5


LIB_MAIN = r"""
#include <stdio.h>
#include <stdlib.h>
#include "%(p)s.h"
/* usage: prog x.bin ts.bin|- B T out.bin : writes y [B,T,OUT] then h [B,STATE] (then c) */
int main(int argc, char **argv) {
  int B = atoi(argv[3]), T = atoi(argv[4]);
  float *x = malloc(sizeof(float) * B * T * %(p)s_INPUT_SIZE), *ts = NULL;
  FILE *f = fopen(argv[1], "rb");
  if (!f || fread(x, sizeof(float), (size_t)B * T * %(p)s_INPUT_SIZE, f) != (size_t)B * T * %(p)s_INPUT_SIZE) return 3;
  fclose(f);
  if (argv[2][0] != '-') {
    ts = malloc(sizeof(float) * B * T);
    f = fopen(argv[2], "rb");
    if (!f || fread(ts, sizeof(float), (size_t)B * T, f) != (size_t)B * T) return 3;
    fclose(f);
  }
  %(p)s_ctx *m = %(p)s_create(NULL);
  if (!m) { fprintf(stderr, "%%s\n", %(p)s_last_error()); return 1; }
  float *y = malloc(sizeof(float) * B * T * %(p)s_OUTPUT_SIZE);
  float *h = malloc(sizeof(float) * B * %(p)s_STATE_SIZE);
  float *c = malloc(sizeof(float) * B * (%(p)s_CELL_STATE_SIZE + 1));
  for (int b = 0; b < B; ++b) {
    %(p)s_reset(m);
    if (%(p)s_run(m, x + (size_t)b * T * %(p)s_INPUT_SIZE, ts ? ts + (size_t)b * T : NULL, T,
                  y + (size_t)b * T * %(p)s_OUTPUT_SIZE)) { fprintf(stderr, "%%s\n", %(p)s_last_error()); return 1; }
    %(p)s_get_state(m, 0, h + (size_t)b * %(p)s_STATE_SIZE);
    if (%(p)s_NUM_STATES == 2) %(p)s_get_state(m, 1, c + (size_t)b * %(p)s_CELL_STATE_SIZE);
  }
  %(p)s_destroy(m);
  f = fopen(argv[5], "wb");
  fwrite(y, sizeof(float), (size_t)B * T * %(p)s_OUTPUT_SIZE, f);
  fwrite(h, sizeof(float), (size_t)B * %(p)s_STATE_SIZE, f);
  if (%(p)s_NUM_STATES == 2) fwrite(c, sizeof(float), (size_t)B * %(p)s_CELL_STATE_SIZE, f);
  fclose(f);
  free(x); free(ts); free(y); free(h); free(c);
  return 0;
}
"""


# A bare-metal program around a microcontroller library (the arena API of
# liquid_mcu.h.in), reading and writing files through semihosting.
MCU_LIB_MAIN = r"""
#include <stdio.h>
#include <stdlib.h>
#include "%(p)s.h"
static %(p)s_arena arena;
/* usage: prog x.bin ts.bin|- B T out.bin : writes y [B,T,OUT] then h [B,STATE] (then c) */
int main(int argc, char **argv) {
  if (argc < 6) return 2;
  int B = atoi(argv[3]), T = atoi(argv[4]);
  size_t nx = (size_t)B * T * %(p)s_INPUT_SIZE;
  float *x = malloc(sizeof(float) * nx), *ts = NULL;
  FILE *f = fopen(argv[1], "rb");
  if (!x || !f || fread(x, sizeof(float), nx, f) != nx) return 3;
  fclose(f);
  if (argv[2][0] != '-') {
    ts = malloc(sizeof(float) * B * T);
    f = fopen(argv[2], "rb");
    if (!ts || !f || fread(ts, sizeof(float), (size_t)B * T, f) != (size_t)B * T) return 3;
    fclose(f);
  }
  float *y = malloc(sizeof(float) * B * T * %(p)s_OUTPUT_SIZE);
  float *h = malloc(sizeof(float) * B * %(p)s_STATE_SIZE);
  float *c = malloc(sizeof(float) * B * (%(p)s_CELL_STATE_SIZE + 1));
  if (!y || !h || !c) return 4;
  for (int b = 0; b < B; ++b) {
    %(p)s_init(&arena);
    for (int t = 0; t < T; ++t) {
      size_t r = (size_t)b * T + t;
      if (%(p)s_step(&arena, x + r * %(p)s_INPUT_SIZE, ts ? ts[r] : 1.0f, y + r * %(p)s_OUTPUT_SIZE)) return 5;
    }
    %(p)s_get_state(&arena, 0, h + (size_t)b * %(p)s_STATE_SIZE);
    if (%(p)s_NUM_STATES == 2) %(p)s_get_state(&arena, 1, c + (size_t)b * %(p)s_CELL_STATE_SIZE);
  }
  f = fopen(argv[5], "wb");
  if (!f) return 6;
  fwrite(y, sizeof(float), (size_t)B * T * %(p)s_OUTPUT_SIZE, f);
  fwrite(h, sizeof(float), (size_t)B * %(p)s_STATE_SIZE, f);
  if (%(p)s_NUM_STATES == 2) fwrite(c, sizeof(float), (size_t)B * %(p)s_CELL_STATE_SIZE, f);
  return fclose(f) ? 7 : 0;
}
"""

# How a user links a microcontroller library into a semihosting program:
# the compiler and flags liquidc --print-link-flags gives (the target's gcc,
# picolibc, semihosting and the board's memory map, from the target registry).
MCU_TARGETS = ("cortex-m4f", "cortex-m55", "rv32imafc")


def mcu_program(liquidc, target):
    """The C compiler command (a list) that links a program for microcontroller `target`."""
    out = subprocess.run([liquidc, "--print-link-flags", "--target=" + target], capture_output=True,
                         text=True, check=True).stdout
    return out.split() + ["-O2"]


def cross_cc(target):
    """The C compiler for the target's programs (liquidc --list-targets)."""
    for prefix, cc in (("aarch64", "aarch64-linux-gnu-gcc"), ("riscv64", "riscv64-linux-gnu-gcc")):
        if target.startswith(prefix):
            return cc
    return "cc"


def check_set(args, name):
    spec = os.path.join(args.fixtures, "ncps", name + ".json")
    ref = load_safetensors(os.path.join(args.fixtures, "ncps", name + ".safetensors"))
    work = os.path.join(args.out, name)
    os.makedirs(work, exist_ok=True)
    env = dict(os.environ)
    if cross_cc(args.target) != "cc" or args.target in MCU_TARGETS:
        env.pop("LIQUIDC_CFLAGS", None)  # sanitizer runtimes exist for x86-64 only
    x, ts = ref["io.input"], ref["io.timespans"]
    B, T = x.shape[0], x.shape[1]
    has_c = "io.c_final" in ref
    results = {}
    if args.mode == "exe":
        exe = os.path.join(work, name)
        run([args.liquidc, spec, "-o", exe, "--target=" + args.target, "--backend=" + args.backend]
            + args.liquidc_args, env)
        np.save(os.path.join(work, "x.npy"), x)
        np.save(os.path.join(work, "t.npy"), ts)
        for irregular in (False, True):
            cmd = args.runner + [exe, "--input", os.path.join(work, "x.npy"),
                                 "--output", os.path.join(work, "y.npy"),
                                 "--state-out", os.path.join(work, "h.npy")]
            if has_c:
                cmd += ["--cell-state-out", os.path.join(work, "c.npy")]
            if irregular:
                cmd += ["--timespans", os.path.join(work, "t.npy")]
            run(cmd)
            got = {"output": np.load(os.path.join(work, "y.npy")), "h_final": np.load(os.path.join(work, "h.npy"))}
            if has_c:
                got["c_final"] = np.load(os.path.join(work, "c.npy"))
            results[irregular] = got
    else:
        prefix = name
        lib = os.path.join(work, "lib%s.a" % prefix)
        mcu = mcu_program(args.liquidc, args.target) if args.target in MCU_TARGETS else None
        run([args.liquidc, spec, "-o", lib, "--emit=lib", "--target=" + args.target,
             "--backend=" + args.backend] + args.liquidc_args, env)
        src = os.path.join(work, "main.c")
        open(src, "w").write((MCU_LIB_MAIN if mcu else LIB_MAIN) % {"p": prefix})
        prog = os.path.join(work, "prog")
        if mcu:  # the library needs nothing but itself (no -lm)
            run(mcu + ["-I", work, src, lib, "-o", prog])
        else:
            cc = cross_cc(args.target)
            cflags = env.get("LIQUIDC_CFLAGS", "").split()
            run([cc, "-O1", "-I", work, src, lib, "-lm", "-ldl", "-lpthread", "-o", prog] + cflags)
        x.astype(np.float32).tofile(os.path.join(work, "x.bin"))
        ts.astype(np.float32).tofile(os.path.join(work, "t.bin"))
        for irregular in (False, True):
            out = os.path.join(work, "out.bin")
            run(args.runner + [prog, os.path.join(work, "x.bin"),
                               os.path.join(work, "t.bin") if irregular else "-", str(B), str(T), out])
            flat = np.fromfile(out, dtype=np.float32)
            ny = ref["io.output"].size
            nh = ref["io.h_final"].size
            got = {"output": flat[:ny].reshape(ref["io.output"].shape),
                   "h_final": flat[ny:ny + nh].reshape(ref["io.h_final"].shape)}
            if has_c:
                got["c_final"] = flat[ny + nh:].reshape(ref["io.c_final"].shape)
            results[irregular] = got
    worst = 0.0
    parts = []
    for irregular, got in results.items():
        sfx = "_ts" if irregular else ""
        for key, val in got.items():
            want = ref["io." + key + sfx]
            if val.shape != want.shape:
                raise RuntimeError("%s: %s has shape %s, expected %s" % (name, key, val.shape, want.shape))
            err = float(np.abs(val.astype(np.float64) - want).max())
            worst = max(worst, err)
            parts.append("%s%s=%.1e" % (key, "(ts)" if irregular else "", err))
    return worst, " ".join(parts)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--liquidc", required=True)
    ap.add_argument("--backend", default="llvm", help="liquidc --backend")
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--target", default="host")
    ap.add_argument("--mode", choices=["exe", "lib"], default="exe")
    ap.add_argument("--runner", default="", help="command prefix that runs target programs")
    ap.add_argument("--liquidc-args", default="", help="more liquidc options (--quantize=q8)")
    ap.add_argument("--tol", type=float, default=TOL, help="max abs error allowed (default 1e-5)")
    ap.add_argument("sets", nargs="*")
    args = ap.parse_args()
    args.runner = args.runner.split()
    args.liquidc_args = args.liquidc_args.split()
    sets = args.sets or sorted(f[:-5] for f in os.listdir(os.path.join(args.fixtures, "ncps")) if f.endswith(".json"))
    failed = 0
    for name in sets:
        try:
            worst, detail = check_set(args, name)
            ok = worst <= args.tol
        except RuntimeError as e:
            ok, worst, detail = False, float("nan"), str(e)
        failed += not ok
        print("%s %s [%s %s] max_abs_err=%.2e %s" % ("PASS" if ok else "FAIL", name, args.target, args.mode, worst, detail))
    print("ncps e2e: %d passed, %d failed" % (len(sets) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
