#!/usr/bin/python3
"""Flash, RAM and instructions per step of cells on the microcontroller
targets (docs/cli.md's table). Not a test: it measures.

For each model and target: liquidc --emit=lib, then bench/mcu_footprint.c
linked against the library and, with -DBASELINE, without it:
  flash  = the programs' difference in text + data (the library's code, its
           constants and whatever it pulls from the C library: nothing today),
           split into weights (4 bytes a float) and code;
  RAM    = the arena (the header's P_ARENA_BYTES, a static in .bss) + the
           stack high-water mark of the steps (the stack painted below main's
           frame; includes the caller's frame of 8 + 4 * (inputs + outputs)
           bytes or so);
  instructions per step = (instructions of a run with 10 steps - of a run
           with 0 steps) / 10, counted by qemu-system with one instruction
           per translation block and the exec log (-singlestep -d exec,nochain).

  bench/mcu_footprint.py [--liquidc build/bin/liquidc] [--fixtures ../shared/fixtures]
                         [--targets ...] [--weights f32,q8]

--weights q8 compiles with --quantize=q8 (int8 matrices, a scale per output);
an LTC has no matrix to quantize and is measured in f32 only.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "test", "sweep"))
sys.path.insert(0, os.path.join(REPO, "test", "e2e_helpers"))
from fixtures import write_safetensors  # noqa: E402
from ncps_e2e import mcu_program  # noqa: E402

QEMU = {"cortex-m4f": ["qemu-system-arm", "-M", "mps2-an386", "-cpu", "cortex-m4"],
        "cortex-m55": ["qemu-system-arm", "-M", "mps3-an547", "-cpu", "cortex-m55"],
        "rv32imafc": ["qemu-system-riscv32", "-M", "virt", "-bios", "none"]}
SIZE = {"cortex-m4f": "arm-none-eabi-size", "cortex-m55": "arm-none-eabi-size",
        "rv32imafc": "riscv64-unknown-elf-size"}


def cfc64(work):
    """CfC(8, 64), one backbone layer of 128 (random weights: sizes only)."""
    import cell_sweep
    c = {"cls": "CfC", "S": 8, "mixed": False, "prefix": False, "units": 64, "bb_layers": 1,
         "bb_units": 128, "act": "lecun_tanh", "dropout": 0.0, "drop_numbering": False,
         "mode": "default", "proj": None}
    tensors, _ = cell_sweep.make_weights(c, np.random.default_rng(1))
    spec = cell_sweep.make_spec(c)
    spec["name"] = "cfc_units64"
    with open(os.path.join(work, "cell.json"), "w") as f:
        json.dump(spec, f)
    write_safetensors(os.path.join(work, "cell.safetensors"), tensors)
    return os.path.join(work, "cell.json")


def sh(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr[-2000:]}")
    return p.stdout


def flash_ram(target, elf):
    text, data, bss = map(int, sh([SIZE[target], elf]).splitlines()[1].split()[:3])
    return text + data, bss


def instructions(target, elf):
    with tempfile.NamedTemporaryFile(suffix=".log") as log:
        sh(QEMU[target] + ["-nographic", "-monitor", "none", "-serial", "none", "-semihosting-config",
                           "enable=on,target=native", "-singlestep", "-d", "exec,nochain", "-D", log.name,
                           "-kernel", elf], timeout=900)
        with open(log.name, errors="replace") as f:
            return sum(1 for line in f if line.startswith("Trace"))


def measure(a, name, spec, target, weights, work):
    d = os.path.join(work, f"{name}-{target}-{weights}")
    os.makedirs(d)
    lib = os.path.join(d, "libm.a")
    sh([a.liquidc, spec, "--emit=lib", "--target=" + target, "--name=m", "-o", lib]
       + (["--quantize=q8"] if weights == "q8" else []))
    with open(os.path.join(d, "mdefs.h"), "w") as f:
        f.write('#include "m.h"\n#define MODEL_ARENA m_arena\n#define MODEL_INPUT_SIZE m_INPUT_SIZE\n'
                "#define MODEL_OUTPUT_SIZE m_OUTPUT_SIZE\n#define MODEL_INIT m_init\n#define MODEL_STEP m_step\n")
    src = os.path.join(REPO, "bench", "mcu_footprint.c")
    base = mcu_program(a.liquidc, target)
    elfs = {}
    for key, flags in (("base", ["-DBASELINE"]), ("s0", ["-DSTEPS=0"]), ("s4", ["-DSTEPS=4"]),
                       ("s10", ["-DSTEPS=10"])):
        elfs[key] = os.path.join(d, key + ".elf")
        extra = [] if key == "base" else ["-I", d, '-DMODEL_HEADER="mdefs.h"', lib]
        sh(base + flags + [src] + extra + ["-o", elfs[key]])
    out = sh(["liquid-mcu-run", QEMU_BOARD[target], elfs["s4"]])
    stack = int(out.split("stack")[1].split()[0])
    with open(os.path.join(d, "m.h")) as f:
        hdr = f.read()
    wfloats = int(hdr.split("m_WEIGHTS_FLOATS ")[1].split()[0])
    arena = int(hdr.split("m_ARENA_BYTES (")[1].split()[0]) * 4
    fl, ram = flash_ram(target, elfs["s4"])
    fl0, ram0 = flash_ram(target, elfs["base"])
    per_step = (instructions(target, elfs["s10"]) - instructions(target, elfs["s0"])) / 10
    return dict(weights=4 * wfloats, code=fl - fl0 - 4 * wfloats, arena=arena, bss=ram - ram0, stack=stack,
                insns=per_step)


QEMU_BOARD = {"cortex-m4f": "mps2-an386", "cortex-m55": "mps3-an547", "rv32imafc": "riscv32-virt"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--liquidc", default=os.path.join(REPO, "build", "bin", "liquidc"))
    ap.add_argument("--fixtures", default=os.path.join(os.path.dirname(REPO), "shared", "fixtures"))
    ap.add_argument("--targets", default="cortex-m4f,cortex-m55,rv32imafc")
    ap.add_argument("--weights", default="f32,q8", help="f32, q8 or both")
    a = ap.parse_args()
    os.environ["PATH"] = os.path.dirname(os.path.abspath(a.liquidc)) + os.pathsep + os.environ["PATH"]
    work = tempfile.mkdtemp(prefix="mcu_footprint_")
    ncps = os.path.join(a.fixtures, "ncps")
    models = [("CfC(8,32), backbone 128", os.path.join(ncps, "cfc_units32.json")),
              ("CfC(8,64), backbone 128", None),
              ("wired CfC, AutoNCP(32,4)", os.path.join(ncps, "cfc_autoncp32_4.json")),
              ("LTC(8,32)", os.path.join(ncps, "ltc_units32.json"))]
    print("| model | target | as | weights (B) | code (B) | arena (B) | stack (B) | RAM (B) | instructions/step |")
    print("|---|---|---|---|---|---|---|---|---|")
    for i, (name, spec) in enumerate(models):
        if spec is None:
            os.makedirs(os.path.join(work, "cfc64"))
            spec = cfc64(os.path.join(work, "cfc64"))
        for w in a.weights.split(","):
            if w == "q8" and name.startswith("LTC"):
                continue
            for t in a.targets.split(","):
                r = measure(a, f"model{i}", spec, t, w, work)
                print(f"| {name} | {t} | {w} | {r['weights']:,} | {r['code']:,} | {r['arena']:,} | "
                      f"{r['stack']:,} | {r['arena'] + r['stack']:,} | {r['insns']:,.0f} |", flush=True)
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
