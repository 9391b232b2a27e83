#!/usr/bin/env python3
"""Self-contained tests of the liquidc C runtime (runtime/), without liquidc.

Run through run_runtime_tests.sh:  CC=cc CFLAGS=... run_runtime_tests.sh BUILD_DIR

Builds the `exe` runtime (liquid_main.c + liquid_model.c) and the `lib`
runtime against fake kernels (fake_kernel.c) and hand-written configs, then
checks numerics against the recurrences computed here with numpy, the error
handling on bad inputs, and the lib API (test_lib.c).
"""
import os
import re
import shlex
import shutil
import struct
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
RUNTIME = os.path.join(ROOT, "runtime")

WARN = ["-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror"]

passed = 0
failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"  ok    {name}")
    else:
        failed += 1
        print(f"  FAIL  {name}" + (f": {detail}" if detail else ""))
    return ok


# --------------------------------------------------------------------------
# models (must agree with fake_config.h, fakemm_config.h, fake_kernel.c)
# --------------------------------------------------------------------------
FAKE = dict(prefix="fake", inp=4, out=3, s0=4, s1=0, nw=7, hash=0x0123456789ABCDEF)
FAKEMM = dict(prefix="fakemm", inp=3, out=2, s0=5, s1=5, nw=12, hash=0xFEDCBA9876543210)


def ref_fake(w, x, ts, h0):
    """x [B,T,4], ts [B,T], h0 [B,4] -> y [B,T,3], h [B,4] (float32)."""
    a, bias = w[:4], w[4:7]
    h = h0.astype(np.float32).copy()
    B, T, _ = x.shape
    y = np.zeros((B, T, 3), np.float32)
    for t in range(T):
        h = (a * h + x[:, t, :] * ts[:, t:t + 1]).astype(np.float32)
        y[:, t, :] = h[:, :3] + bias
    return y, h


def ref_fakemm(w, x, ts, h0, c0):
    a, g, bias = w[:5], w[5:10], w[10:12]
    h = h0.astype(np.float32).copy()
    c = c0.astype(np.float32).copy()
    B, T, _ = x.shape
    y = np.zeros((B, T, 2), np.float32)
    idx = np.arange(5) % 3
    for t in range(T):
        c = (g * c + x[:, t, idx] * ts[:, t:t + 1]).astype(np.float32)
        h = (a * h + c).astype(np.float32)
        y[:, t, :] = h[:, :2] + bias
    return y, h, c


def lqw_bytes(weights, hash_, count=None, magic=b"LQWEIGHT", version=1):
    weights = np.asarray(weights, "<f4")
    count = len(weights) if count is None else count
    hdr = magic + struct.pack("<IIQQ", version, 0, hash_, count)
    hdr += b"\0" * (64 - len(hdr))
    return hdr + weights.tobytes()


def npy_raw(header, data, version=(1, 0)):
    """A .npy file with the given header dict text (padded) and raw data."""
    prelen = 10 if version[0] == 1 else 12
    total = (prelen + len(header) + 1 + 63) // 64 * 64
    header = header + " " * (total - prelen - len(header) - 1) + "\n"
    lenfield = struct.pack("<H" if version[0] == 1 else "<I", len(header))
    return b"\x93NUMPY" + bytes(version) + lenfield + header.encode("latin1") + data


def npy_bytes(arr, version=(1, 0), descr=None, fortran=False, shape=None):
    """Hand-made .npy, to control version/descr/shape independently of numpy."""
    arr = np.asarray(arr)
    descr = descr or arr.dtype.str
    shape = arr.shape if shape is None else shape
    shp = f"({shape[0]},)" if len(shape) == 1 else "(" + ", ".join(map(str, shape)) + ")"
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, shp)
    return npy_raw(header, arr.tobytes(order="F" if fortran else "C"), version)


# --------------------------------------------------------------------------
# build helpers
# --------------------------------------------------------------------------
def run_cmd(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def build(name, cmd):
    r = run_cmd(cmd)
    msg = (r.stdout + r.stderr).strip()
    check(f"build {name}", r.returncode == 0 and not msg, msg[-2000:] or " ".join(cmd))
    return r.returncode == 0


def gen_header(model, out_path, embedded=0):
    with open(os.path.join(RUNTIME, "liquid_model.h.in")) as f:
        text = f.read()
    subst = {
        "P": model["prefix"], "MODEL_NAME": '"%s"' % model["prefix"],
        "INPUT_SIZE": model["inp"], "OUTPUT_SIZE": model["out"],
        "NUM_STATES": 2 if model["s1"] else 1, "STATE_SIZE": model["s0"],
        "CELL_STATE_SIZE": model["s1"], "WEIGHTS_FLOATS": model["nw"],
        "WEIGHTS_HASH": "0x%016xULL" % model["hash"], "EMBEDDED_WEIGHTS": embedded,
    }
    for k, v in subst.items():
        text = text.replace("@%s@" % k, str(v))
    leftover = re.findall(r"@[A-Z_]*@", text)
    check("header template: every token substituted", not leftover and "@" not in text,
          str(leftover))
    with open(out_path, "w") as f:
        f.write(text)


# --------------------------------------------------------------------------
# exe helpers
# --------------------------------------------------------------------------
class Exe:
    def __init__(self, path, wdir, weights=None):
        self.path, self.wdir, self.weights = path, wdir, weights

    def run(self, *args, weights=True, prefix=()):
        cmd = list(prefix) + [self.path] + list(args)
        if weights and self.weights:
            cmd += ["--weights", self.weights]
        return run_cmd(cmd, cwd=self.wdir)


def save(path, arr):
    np.save(path, arr, allow_pickle=False)
    return path


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


def temporaries(p):
    """The programs' temporary files beside output p (p-XXXXXX, mkstemp)."""
    d = os.path.dirname(p) or "."
    return [os.path.join(d, f) for f in os.listdir(d)
            if re.fullmatch(re.escape(os.path.basename(p)) + r"-[A-Za-z0-9]{6}", f)]


def clean(*paths):
    for p in paths:
        for q in [p] + temporaries(p):
            if os.path.exists(q):
                os.remove(q)


def expect_ok(name, r, outputs):
    ok = r.returncode == 0 and all(os.path.exists(p) for p in outputs) and not r.stderr
    return check(name + " (runs)", ok, f"rc={r.returncode} stderr={r.stderr.strip()!r}")


def expect_error(name, r, rc, outputs, must_contain=()):
    lines = r.stderr.splitlines()
    left = [p for p in outputs if os.path.exists(p) or temporaries(p)]
    detail = f"rc={r.returncode} (want {rc}) stderr={r.stderr.strip()!r} left={left}"
    ok = (r.returncode == rc and len(lines) == 1 and lines[0].startswith("error: ")
          and not left and all(s in lines[0] for s in must_contain))
    check(name, ok, detail)


def close(a, b):
    return a.shape == b.shape and a.dtype == np.float32 and np.allclose(a, b, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------
def main():
    if len(sys.argv) != 2:
        print("usage: runtime_tests.py BUILD_DIR", file=sys.stderr)
        return 2
    bdir = os.path.abspath(sys.argv[1])
    os.makedirs(bdir, exist_ok=True)
    wdir = os.path.join(bdir, "work")
    shutil.rmtree(wdir, ignore_errors=True)
    os.makedirs(wdir)
    cc = shlex.split(os.environ.get("CC") or "cc")
    cflags = shlex.split(os.environ.get("CFLAGS") or "-O2")
    os.environ.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
    rng = np.random.default_rng(1234)

    # weights
    w_fake = np.concatenate([rng.uniform(0.3, 0.9, 4), rng.normal(size=3)]).astype(np.float32)
    w_mm = np.concatenate([rng.uniform(0.3, 0.9, 10), rng.normal(size=2)]).astype(np.float32)
    f_w = write(os.path.join(wdir, "fake.lqw"), lqw_bytes(w_fake, FAKE["hash"]))
    f_wmm = write(os.path.join(wdir, "fakemm.lqw"), lqw_bytes(w_mm, FAKEMM["hash"]))
    blob = write(os.path.join(bdir, "fakeemb_weights.bin"), w_fake.astype("<f4").tobytes())

    # ---------------------------------------------------------------- builds
    print("runtime: building with", " ".join(cc + cflags))
    src = [os.path.join(RUNTIME, "liquid_main.c"), os.path.join(RUNTIME, "liquid_model.c"),
           os.path.join(HERE, "fake_kernel.c")]
    cfg = {m: os.path.join(HERE, f"{m}_config.h") for m in ("fake", "fakemm")}
    emb_cfg = os.path.join(bdir, "fakeemb_config.h")
    with open(cfg["fake"]) as f:
        text = f.read()
    text = text.replace("LQ_PREFIX fake", "LQ_PREFIX fakeemb").replace('"fake"', '"fakeemb"')
    text = text.replace("#define LQ_EMBEDDED_WEIGHTS 0",
                        '#define LQ_EMBEDDED_WEIGHTS 1\n#define LQ_WEIGHTS_PATH "%s"' % blob)
    with open(emb_cfg, "w") as f:
        f.write(text)
    cfg["fakeemb"] = emb_cfg

    exes = {}
    for m in ("fake", "fakemm", "fakeemb"):
        out = os.path.join(bdir, m + "_model")
        if build(f"exe {m}", cc + cflags + WARN + ["-include", cfg[m]] + src + ["-lm", "-o", out]):
            exes[m] = out

    # lib: public headers from the template; the runtime is compiled with the
    # generated header force-included too, so prototype mismatches fail.
    lib_ok = True
    objs = []
    for m, model in (("fake", FAKE), ("fakemm", FAKEMM)):
        hdr = os.path.join(bdir, m + ".h")
        gen_header(model, hdr)
        for s, o in (("liquid_model.c", f"{m}_model.o"), ("fake_kernel.c", f"{m}_kernel.o")):
            srcp = os.path.join(RUNTIME if s == "liquid_model.c" else HERE, s)
            extra = ["-include", hdr] if s == "liquid_model.c" else []
            obj = os.path.join(bdir, o)
            lib_ok &= build(f"lib {m} {s}", cc + cflags + WARN +
                            ["-fPIC", "-fvisibility=hidden", "-include", cfg[m]] +
                            extra + ["-c", srcp, "-o", obj])
            objs.append(obj)
    test_lib = os.path.join(bdir, "test_lib")
    if lib_ok:
        lib_ok = build("lib test program (two models in one binary)",
                       cc + cflags + WARN + ["-I", bdir, os.path.join(HERE, "test_lib.c")] + objs +
                       ["-lm", "-o", test_lib])

    # the same objects as shared libraries
    test_lib_so = os.path.join(bdir, "test_lib_shared")
    so_ok = lib_ok
    if lib_ok:
        for m in ("fake", "fakemm"):
            so = os.path.join(bdir, f"lib{m}.so")
            so_ok &= build(f"shared lib{m}.so", cc + cflags + ["-shared", "-o", so] +
                           [o for o in objs if os.path.basename(o).startswith(m + "_")] + ["-lm"])
        if so_ok:
            so_ok = build("lib test program against the shared libraries",
                          cc + cflags + WARN + ["-I", bdir, os.path.join(HERE, "test_lib.c"),
                                                "-L", bdir, "-Wl,-rpath," + bdir, "-lfake",
                                                "-lfakemm", "-lm", "-o", test_lib_so])
        nm = shutil.which("nm")
        if so_ok and nm:
            r = run_cmd([nm, "-D", "--defined-only", os.path.join(bdir, "libfake.so")])
            syms = {ln.split()[-1] for ln in r.stdout.splitlines() if ln.strip()}
            api = {"fake_" + n for n in ("create", "last_error", "reset", "step", "run",
                                         "get_state", "set_state", "state_size", "destroy",
                                         "create_batch", "batch_rows", "batch_threads", "step_batch")}
            # the kernel is liquidc's object; its visibility is liquidc's choice
            check("shared lib exports exactly the API", syms - {"fake_kernel_step", "fake_kernel_step_rows"} == api,
                  str(sorted(syms ^ api)))

    # ------------------------------------------------------------ exe: fake
    B, T = 3, 7
    x = rng.normal(size=(B, T, 4)).astype(np.float32)
    ts = rng.uniform(0.1, 2.0, size=(B, T)).astype(np.float32)
    h0 = rng.normal(size=(B, 4)).astype(np.float32)
    f_x = save(os.path.join(wdir, "x.npy"), x)
    f_t = save(os.path.join(wdir, "t.npy"), ts)
    f_t3 = save(os.path.join(wdir, "t3.npy"), ts[:, :, None])
    f_h0 = save(os.path.join(wdir, "h0.npy"), h0)
    f_y = os.path.join(wdir, "y.npy")
    f_h = os.path.join(wdir, "h.npy")
    ones = np.ones((B, T), np.float32)
    zeros4 = np.zeros((B, 4), np.float32)

    if "fake" in exes:
        print("runtime: exe (single state)")
        e = Exe(exes["fake"], wdir, f_w)

        clean(f_y)
        r = e.run("--input", f_x, "--output", f_y)
        if expect_ok("no timespans, no state", r, [f_y]):
            y_ref, _ = ref_fake(w_fake, x, ones, zeros4)
            check("no timespans, no state: output matches", close(np.load(f_y), y_ref))

        clean(f_y, f_h)
        r = e.run("--input", f_x, "--timespans", f_t, "--output", f_y, "--state-out", f_h)
        if expect_ok("timespans [B,T] + state-out", r, [f_y, f_h]):
            y_ref, h_ref = ref_fake(w_fake, x, ts, zeros4)
            check("timespans [B,T]: output matches", close(np.load(f_y), y_ref))
            check("timespans [B,T]: final state matches", close(np.load(f_h), h_ref))

        clean(f_y, f_h)
        r = e.run("--input=" + f_x, "--timespans=" + f_t3, "--state=" + f_h0, "--output=" + f_y,
                  "--state-out=" + f_h)
        if expect_ok("timespans [B,T,1] + --state, --flag=value syntax", r, [f_y, f_h]):
            y_ref, h_ref = ref_fake(w_fake, x, ts, h0)
            check("with --state: output matches", close(np.load(f_y), y_ref))
            check("with --state: final state matches", close(np.load(f_h), h_ref))

        # float64 input and npy format versions 2.0 / 3.0
        clean(f_y)
        f_x64 = write(os.path.join(wdir, "x64.npy"), npy_bytes(x.astype("<f8"), version=(2, 0)))
        f_t30 = write(os.path.join(wdir, "t30.npy"), npy_bytes(ts, version=(3, 0)))
        r = e.run("--input", f_x64, "--timespans", f_t30, "--output", f_y)
        if expect_ok("float64 input (npy 2.0), timespans npy 3.0", r, [f_y]):
            y_ref, _ = ref_fake(w_fake, x, ts, zeros4)
            check("float64 input: output matches", close(np.load(f_y), y_ref))

        # rows are independent: a single row gives the same result as in the batch
        clean(f_y)
        f_x1 = save(os.path.join(wdir, "x1.npy"), x[1:2])
        f_t1 = save(os.path.join(wdir, "t1.npy"), ts[1:2])
        r = e.run("--input", f_x1, "--timespans", f_t1, "--output", f_y)
        if expect_ok("single batch row", r, [f_y]):
            y_ref, _ = ref_fake(w_fake, x, ts, zeros4)
            check("batch rows are independent", close(np.load(f_y), y_ref[1:2]))

        # zero-length sequences
        clean(f_y, f_h)
        f_x0 = save(os.path.join(wdir, "x0.npy"), np.zeros((2, 0, 4), np.float32))
        r = e.run("--input", f_x0, "--output", f_y, "--state-out", f_h)
        if expect_ok("time = 0", r, [f_y, f_h]):
            check("time = 0: shapes", np.load(f_y).shape == (2, 0, 3) and
                  np.load(f_h).shape == (2, 4) and not np.load(f_h).any())

        # output overwrites an existing file atomically
        write(f_y, b"old")
        r = e.run("--input", f_x, "--output", f_y)
        check("existing output is replaced", r.returncode == 0 and np.load(f_y).shape == (B, T, 3)
              and not temporaries(f_y))

        # outputs never replace a device, nor write through a planted link
        r = e.run("--input", f_x, "--output", os.devnull)
        expect_error("a device as --output", r, 2, [], ["exists and is not a regular file"])
        victim = write(os.path.join(wdir, "victim"), b"keep")
        link = os.path.join(wdir, "y-link.npy")
        os.symlink(victim, link)
        r = e.run("--input", f_x, "--output", link)
        check("an output link is replaced, not written through",
              r.returncode == 0 and open(victim, "rb").read() == b"keep"
              and not os.path.islink(link) and np.load(link).shape == (B, T, 3))

        # an empty array may claim any batch: bounded before a buffer is sized
        clean(f_y)
        for shape, what in (((2 ** 59, 0, x.shape[2]), "a batch of 576460752303423488"),
                            ((2 ** 27, 0, x.shape[2]), "a batch of 134217728"),
                            ((0, 2 ** 40, x.shape[2]), "a sequence length of 1099511627776")):
            d = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % (shape,)
            d += " " * ((64 - (10 + len(d) + 1) % 64) % 64) + "\n"
            f_huge = write(os.path.join(wdir, "huge.npy"),
                           b"\x93NUMPY\x01\x00" + struct.pack("<H", len(d)) + d.encode())
            r = e.run("--input", f_huge, "--output", f_y)
            expect_error(f"input shape {shape}", r, 1, [f_y], [what, "at most"])

        # help / version / bench
        r = e.run("--help", weights=False)
        flags = ["--input", "--timespans", "--state", "--output", "--state-out", "--weights",
                 "--bench", "--batch", "--threads", "--help", "--version"]
        check("--help lists every flag", r.returncode == 0 and all(f in r.stdout for f in flags)
              and "--cell-state" not in r.stdout, r.stdout)
        r = e.run("--version", weights=False)
        check("--version", r.returncode == 0 and "fake" in r.stdout, r.stdout + r.stderr)
        r = e.run("--bench", "2000")
        check("--bench on zeros", r.returncode == 0 and
              re.fullmatch(r"steps=2000 batch=1 threads=1 us_per_step=\d+\.\d{3} "
                           r"sequence_steps_per_s=\d+\n", r.stdout) is not None,
              r.stdout + r.stderr)
        clean(f_y)
        r = e.run("--bench", "50", "--input", f_x, "--timespans", f_t)
        check("--bench with --input", r.returncode == 0 and not os.path.exists(f_y) and
              re.fullmatch(r"steps=50 batch=1 threads=1 us_per_step=\d+\.\d{3} "
                           r"sequence_steps_per_s=\d+\n", r.stdout) is not None,
              r.stdout + r.stderr)
        r = e.run("--bench", "50", "--batch", "9", "--threads", "2")
        check("--bench --batch: one step of 9 rows on 2 threads", r.returncode == 0 and
              re.fullmatch(r"steps=50 batch=9 threads=2 us_per_step=\d+\.\d{3} "
                           r"sequence_steps_per_s=\d+\n", r.stdout) is not None,
              r.stdout + r.stderr)
        for args, what in ((["--bench", "5", "--batch", "0"], "--batch"),
                           (["--bench", "5", "--batch", "x"], "--batch"),
                           (["--input", f_x, "--output", f_y, "--batch", "4"], "--batch"),
                           (["--bench", "5", "--threads", "65"], "--threads")):
            r = e.run(*args)
            check(f"bad {' '.join(args[-2:])}: usage error naming the flag", r.returncode == 2 and
                  r.stderr.startswith("error: " + what) and r.stderr.count("\n") == 1
                  and not os.path.exists(f_y), r.stderr)

        # ---------------------------------------------------- bad inputs
        print("runtime: exe error handling")
        outs = [f_y, f_h]
        clean(*outs)

        def bad(name, args, rc, must=(), weights=True):
            clean(*outs)
            expect_error(name, e.run(*args, weights=weights), rc, outs, must)

        def badfile(name, fname, data, rc=1, flag="--input", must=()):
            p = write(os.path.join(wdir, fname), data)
            args = ["--input", f_x, "--output", f_y, "--state-out", f_h]
            if flag == "--input":
                args[1] = p
            else:
                args += [flag, p]
            bad(name, args, rc, (p,) + tuple(must))

        bad("missing input file", ["--input", os.path.join(wdir, "nope.npy"), "--output", f_y],
            1, ("nope.npy",))
        badfile("wrong dtype (int32)", "xi.npy", npy_bytes(x.astype("<i4")), must=("dtype",))
        badfile("wrong dtype (float16)", "xh.npy", npy_bytes(x.astype("<f2")), must=("dtype",))
        badfile("big-endian float32", "xbe.npy", npy_bytes(x.astype(">f4")), must=("dtype",))
        badfile("wrong feature count", "x5.npy", npy_bytes(np.zeros((B, T, 5), np.float32)),
                must=("(batch, time, 4)", "(3, 7, 5)"))
        badfile("2-D input", "x2d.npy", npy_bytes(np.zeros((T, 4), np.float32)),
                must=("(7, 4)",))
        full = npy_bytes(x)
        badfile("truncated data", "xtr.npy", full[:-5], must=("truncated",))
        badfile("truncated header", "xth.npy", full[:40])
        badfile("trailing data", "xtd.npy", full + b"\0\0\0\0")
        badfile("not an npy file", "xg.npy", b"hello, world\n" * 10, must=("not a .npy",))
        badfile("empty file", "xe.npy", b"")
        badfile("fortran order", "xf.npy", npy_bytes(x, fortran=True), must=("fortran",))
        badfile("malformed header dict", "xm.npy",
                npy_raw("{'descr': '<f4' 'fortran_order': False, 'shape': (3, 7, 4), }",
                        x.tobytes()), must=("header",))
        badfile("header without shape", "xns.npy",
                npy_raw("{'descr': '<f4', 'fortran_order': False}", x.tobytes()),
                must=("shape",))
        badfile("absurd shape", "xa.npy", npy_bytes(x, shape=(10**15, 10**6, 4)))
        badfile("unsupported npy version", "xv.npy", npy_bytes(x, version=(9, 0)))
        badfile("timespans wrong shape", "tw.npy", npy_bytes(np.zeros((B, T + 1), np.float32)),
                flag="--timespans", must=("(3, 7)", "(3, 8)"))
        badfile("state wrong batch", "hw.npy", npy_bytes(np.zeros((B + 1, 4), np.float32)),
                flag="--state", must=("(3, 4)", "(4, 4)"))
        badfile("state wrong units", "hu.npy", npy_bytes(np.zeros((B, 5), np.float32)),
                flag="--state")
        bad("missing --output", ["--input", f_x], 2, ("--output",))
        bad("missing --input", ["--output", f_y], 2, ("--input",))
        bad("unknown flag", ["--input", f_x, "--output", f_y, "--frobnicate"], 2,
            ("--frobnicate",))
        bad("positional argument", ["--input", f_x, "--output", f_y, "extra"], 2)
        bad("flag without value", ["--input", f_x, "--output"], 2, ("--output",))
        bad("flag given twice", ["--input", f_x, "--input", f_x, "--output", f_y], 2)
        bad("--cell-state on a single-state model", ["--input", f_x, "--output", f_y,
            "--cell-state", f_h0], 2, ("--cell-state",))
        bad("--cell-state-out on a single-state model", ["--input", f_x, "--output", f_y,
            "--cell-state-out", f_h], 2)
        bad("same file for two outputs", ["--input", f_x, "--output", f_y, "--state-out", f_y],
            2)
        bad("bad --bench value", ["--input", f_x, "--bench", "ten"], 2, ("--bench",))
        bad("--weights missing (not embedded)", ["--input", f_x, "--output", f_y], 2,
            ("--weights",), weights=False)
        bad("unwritable output directory", ["--input", f_x, "--output",
            os.path.join(wdir, "no", "such", "dir", "y.npy")], 1)
        # the failed run must not touch a partially-written second output either
        bad("second output unwritable", ["--input", f_x, "--output", f_y, "--state-out",
            os.path.join(wdir, "no", "dir", "h.npy")], 1)

        def badw(name, data, must):
            p = write(os.path.join(wdir, "bad.lqw"), data)
            clean(*outs)
            expect_error(name, e.run("--input", f_x, "--output", f_y, "--weights", p,
                                     weights=False), 1, outs, (p,) + must)

        badw("weights: bad magic", lqw_bytes(w_fake, FAKE["hash"], magic=b"NOTLQWGT"),
             ("magic",))
        badw("weights: layout hash of another model", lqw_bytes(w_mm, FAKEMM["hash"]),
             ("layout hash 0xfedcba9876543210 does not match model 0x0123456789abcdef",))
        badw("weights: bad version", lqw_bytes(w_fake, FAKE["hash"], version=3), ("version",))
        badw("weights: version 2 without its tokenizer section",
             lqw_bytes(w_fake, FAKE["hash"], version=2), ("tokenizer section",))
        badw("weights: wrong float count", lqw_bytes(np.zeros(8), FAKE["hash"]), ("8",))
        badw("weights: truncated", lqw_bytes(w_fake, FAKE["hash"])[:-3], ("truncated",))
        badw("weights: header only", lqw_bytes(w_fake, FAKE["hash"])[:30], ("header",))
        badw("weights: empty file", b"", ())
        clean(*outs)
        r = e.run("--input", f_x, "--output", f_y, "--weights", os.path.join(wdir, "none.lqw"),
                  weights=False)
        expect_error("weights: file not found", r, 1, outs, ("none.lqw",))

        # a failing run leaves an existing output untouched
        write(f_y, b"sentinel")
        r = e.run("--input", os.path.join(wdir, "xi.npy"), "--output", f_y)
        with open(f_y, "rb") as f:
            check("failed run leaves an existing output untouched",
                  r.returncode == 1 and f.read() == b"sentinel")
        clean(f_y)

    # ------------------------------------------------------- exe: fakemm
    if "fakemm" in exes:
        print("runtime: exe (mixed memory, two states)")
        e = Exe(exes["fakemm"], wdir, f_wmm)
        xm = rng.normal(size=(B, T, 3)).astype(np.float32)
        hm = rng.normal(size=(B, 5)).astype(np.float32)
        cm = rng.normal(size=(B, 5)).astype(np.float32)
        f_xm = save(os.path.join(wdir, "xm.npy"), xm)
        f_hm = save(os.path.join(wdir, "hm.npy"), hm)
        f_cm = save(os.path.join(wdir, "cm.npy"), cm)
        f_c = os.path.join(wdir, "c.npy")
        clean(f_y, f_h, f_c)
        r = e.run("--input", f_xm, "--timespans", f_t, "--state", f_hm, "--cell-state", f_cm,
                  "--output", f_y, "--state-out", f_h, "--cell-state-out", f_c)
        if expect_ok("both states in and out", r, [f_y, f_h, f_c]):
            y_ref, h_ref, c_ref = ref_fakemm(w_mm, xm, ts, hm, cm)
            check("mixed memory: output, hidden and cell state match",
                  close(np.load(f_y), y_ref) and close(np.load(f_h), h_ref) and
                  close(np.load(f_c), c_ref))
        clean(f_y, f_c)
        r = e.run("--input", f_xm, "--output", f_y, "--cell-state-out", f_c)
        if expect_ok("default zero states", r, [f_y, f_c]):
            y_ref, _, c_ref = ref_fakemm(w_mm, xm, ones, np.zeros((B, 5), np.float32),
                                         np.zeros((B, 5), np.float32))
            check("mixed memory, zero states: matches", close(np.load(f_y), y_ref) and
                  close(np.load(f_c), c_ref))
        r = e.run("--help", weights=False)
        check("--help lists --cell-state flags", r.returncode == 0 and "--cell-state " in r.stdout
              and "--cell-state-out" in r.stdout)
        clean(f_y, f_c)
        f_cw = save(os.path.join(wdir, "cw.npy"), np.zeros((B, 4), np.float32))
        expect_error("cell state wrong shape", e.run("--input", f_xm, "--cell-state", f_cw,
                     "--output", f_y, "--cell-state-out", f_c), 1, [f_y, f_c], ("(3, 5)",))
        expect_error("fake weights in fakemm", e.run("--input", f_xm, "--output", f_y,
                     "--weights", f_w, weights=False), 1, [f_y], ("layout hash",))
        clean(f_y, f_h, f_c)

    # ------------------------------------------------------- exe: embedded
    if "fakeemb" in exes:
        print("runtime: exe (embedded weights)")
        e = Exe(exes["fakeemb"], wdir, None)
        clean(f_y)
        r = e.run("--input", f_x, "--timespans", f_t, "--output", f_y)
        if expect_ok("embedded weights", r, [f_y]):
            y_ref, _ = ref_fake(w_fake, x, ts, zeros4)
            check("embedded weights: output matches", close(np.load(f_y), y_ref))
        # --weights overrides the embedded weights (same layout hash)
        w2 = (w_fake * 0.5).astype(np.float32)
        f_w2 = write(os.path.join(wdir, "w2.lqw"), lqw_bytes(w2, FAKE["hash"]))
        clean(f_y)
        r = e.run("--input", f_x, "--output", f_y, "--weights", f_w2)
        if expect_ok("--weights overrides embedded weights", r, [f_y]):
            y_ref, _ = ref_fake(w2, x, ones, zeros4)
            check("--weights override: output matches", close(np.load(f_y), y_ref))
        clean(f_y)

    # ------------------------------------------------------------ lib API
    if lib_ok:
        print("runtime: lib API (test_lib)")
        r = run_cmd([test_lib, f_w, f_wmm])
        for line in r.stdout.splitlines():
            m = re.match(r"(PASS|FAIL) (.*)", line)
            if m:
                check("lib: " + m.group(2), m.group(1) == "PASS")
        check("lib: test program exits cleanly", r.returncode == 0 and not r.stderr,
              f"rc={r.returncode} {r.stderr.strip()}")
    if so_ok:
        r = run_cmd([test_lib_so, f_w, f_wmm])
        check("lib: test program against the shared libraries passes",
              r.returncode == 0 and not r.stderr and "FAIL" not in r.stdout,
              f"rc={r.returncode} {r.stderr.strip()} {r.stdout[-500:]}")

    # ------------------------------------------- cross targets (optional)
    cross(bdir, wdir, src, emb_cfg, f_x, f_t, w_fake, x, ts, zeros4)

    print(f"runtime: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


def cross(bdir, wdir, src, emb_cfg, f_x, f_t, w_fake, x, ts, zeros4):
    """Embedded-weights exe for aarch64 / riscv64 when a cross gcc and qemu exist."""
    for arch in ("aarch64", "riscv64"):
        gcc = shutil.which(f"{arch}-linux-gnu-gcc")
        if not gcc:
            print(f"  skip  {arch}: no {arch}-linux-gnu-gcc")
            continue
        print(f"runtime: cross {arch}")
        out = os.path.join(bdir, f"fakeemb_{arch}")
        if not build(f"exe fakeemb for {arch}", [gcc, "-O2"] + WARN + ["-include", emb_cfg] + src +
                     ["-lm", "-o", out]):
            continue
        qemu = shutil.which(f"qemu-{arch}") or shutil.which(f"qemu-{arch}-static")
        sysroot = f"/usr/{arch}-linux-gnu"
        if not qemu or not os.path.isdir(sysroot):
            print(f"  skip  running {arch}: no qemu-{arch} or {sysroot}")
            continue
        f_y = os.path.join(wdir, f"y_{arch}.npy")
        clean(f_y)
        r = run_cmd([qemu, "-L", sysroot, out, "--input", f_x, "--timespans", f_t,
                     "--output", f_y])
        if expect_ok(f"{arch} embedded exe under qemu", r, [f_y]):
            y_ref, _ = ref_fake(w_fake, x, ts, zeros4)
            check(f"{arch}: output matches", close(np.load(f_y), y_ref))
        clean(f_y)


if __name__ == "__main__":
    sys.exit(main())
