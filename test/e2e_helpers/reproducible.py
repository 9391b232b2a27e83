"""Compiles each case twice (different TMPDIR) and compares every file."""
import argparse
import filecmp
import os
import subprocess
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--liquidc", required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--fixtures", required=True)
a = ap.parse_args()
cell = os.path.join(a.fixtures, "ncps", "cfc_autoncp32_4.json")
ltc = os.path.join(a.fixtures, "ncps", "ltc_units32.json")
cases = [(k, [cell, "--emit=" + k, "-o", "m." + k])
         for k in ("exe", "lib", "obj", "asm", "llvm", "mlir", "vector", "llvm-dialect")]
cases += [
    ("halide", [ltc, "--backend=halide", "-o", "ltc"]),
    ("aarch64", [cell, "--target=aarch64-linux", "-o", "cell-a64"]),
    ("lm-f16", [os.path.join(a.fixtures, "lfm2-small", "lfm2-small-f16.gguf"), "-o", "lm"]),
    ("lm-lib", [os.path.join(a.fixtures, "lfm2-small", "lfm2-small-f16.gguf"), "--emit=lib",
                "-o", "liblm.a"]),
    ("moe-q8", [os.path.join(a.out, "moe", "model-q8_0.gguf"), "-o", "moe"]),
    ("q4km", [os.path.join(a.out, "gen", "model-q4_k_m.gguf"), "-o", "q4km"]),
]
compared = differ = 0
for name, args in cases:
    outs = []
    for run in ("a", "b"):
        d = os.path.join(a.out, run, name)
        os.makedirs(d, exist_ok=True)
        env = dict(os.environ, TMPDIR=os.path.join(a.out, "t1" if run == "a" else "t2"))
        r = subprocess.run([a.liquidc, *args], cwd=d, env=env, capture_output=True, text=True)
        if r.returncode != 0:
            print(f"FAIL {name}: liquidc exit {r.returncode}: {r.stderr.strip()}")
            sys.exit(1)
        outs.append(d)
    files = sorted(os.listdir(outs[0]))
    if not files or files != sorted(os.listdir(outs[1])):
        print(f"DIFFERS {name}: different files {files} / {sorted(os.listdir(outs[1]))}")
        differ += 1
        continue
    for f in files:
        compared += 1
        if not filecmp.cmp(os.path.join(outs[0], f), os.path.join(outs[1], f), shallow=False):
            print(f"DIFFERS {name}: {f}")
            differ += 1
print(f"reproducible: {compared} artifacts compared, {differ} differ")
