#!/usr/bin/env python3
"""A language model as a library (liquidc --emit=lib): the archive and header
link into a C program that runs the golden prompt through P_lm_forward in
chunks of --max-rows and writes every position's logits; they must equal,
bit for bit, what the executable compiled from the same checkpoint dumps
(same kernel, same runtime), and match llama.cpp's golden within 1e-3.
Also checks the library's errors: a bad token id, a weights file of another
model. Prints one line per check and exits 1 on any failure."""
import argparse, os, shutil, sys
import numpy as np

from fixtures import load_safetensors, run

PROGRAM = r'''
#include "%(p)s.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
    /* argv: weights (or "-": embedded), threads, out.bin, ids... */
    int n = argc - 4;
    int32_t *ids = malloc(sizeof(int32_t) * (size_t)n);
    for (int i = 0; i < n; ++i) ids[i] = atoi(argv[4 + i]);
    %(p)s_lm *m = %(p)s_lm_create(strcmp(argv[1], "-") ? argv[1] : NULL, atoi(argv[2]));
    if (!m) { fprintf(stderr, "create: %%s\n", %(p)s_lm_last_error()); return 3; }
    FILE *f = fopen(argv[3], "wb");
    for (int pos = 0; pos < n; pos += %(p)s_MAX_ROWS) {
        int rows = n - pos < %(p)s_MAX_ROWS ? n - pos : %(p)s_MAX_ROWS;
        if (%(p)s_lm_forward(m, ids + pos, rows, pos, rows)) {
            fprintf(stderr, "forward: %%s\n", %(p)s_lm_last_error()); return 4;
        }
        fwrite(%(p)s_lm_logits(m), sizeof(float), (size_t)rows * %(p)s_VOCAB, f);
    }
    fclose(f);
    int32_t bad = %(p)s_VOCAB;
    if (%(p)s_lm_forward(m, &bad, 1, n, 1) == 0) { fprintf(stderr, "bad id accepted\n"); return 5; }
    fprintf(stderr, "bad id: %%s\n", %(p)s_lm_last_error());
    %(p)s_lm_destroy(m);
    return 0;
}
'''


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--liquidc", required=True)
    ap.add_argument("--fixture", required=True)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--other", required=True, help="another checkpoint (its .lqw must be refused)")
    ap.add_argument("--embed", action="store_true")
    ap.add_argument("--liquidc-flag", action="append", default=[], help="one more liquidc flag")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    if os.path.exists(a.out):
        shutil.rmtree(a.out)
    os.makedirs(a.out)
    ckpt = os.path.join(a.fixture, a.checkpoint)
    common = ["--max-context", "128", "--max-rows", "4"] + (["--embed-weights"] if a.embed else [])
    common += a.liquidc_flag
    lib = os.path.join(a.out, "liblm.a")
    run([a.liquidc, ckpt, "-o", lib, "--emit=lib", "--name", "lm"] + common)
    exe = os.path.join(a.out, "lm")
    run([a.liquidc, ckpt, "-o", exe] + common)
    other = os.path.join(a.out, "other")
    run([a.liquidc, a.other, "-o", other, "--max-context", "128"])
    failed = 0

    def report(ok, what):
        nonlocal failed
        failed += not ok
        print("%s %s %s" % ("PASS" if ok else "FAIL", a.checkpoint, what))

    report(os.path.exists(os.path.join(a.out, "lm.h")), "lib: archive and header lm.h")
    report(os.path.exists(lib + ".lqw") != a.embed, "lib: weights %s" %
           ("compiled in" if a.embed else "in liblm.a.lqw"))
    src = os.path.join(a.out, "use.c")
    with open(src, "w") as f:
        f.write(PROGRAM % {"p": "lm"})
    prog = os.path.join(a.out, "use")
    run(["cc", "-std=c11", "-O1", "-I", a.out, src, lib, "-lpthread", "-lm", "-ldl", "-o", prog])

    gp = load_safetensors(os.path.join(a.fixture, "golden_prefill.safetensors"))
    ids = [str(int(i)) for i in gp["ids"]]
    weights = "-" if a.embed else lib + ".lqw"
    out = os.path.join(a.out, "logits.bin")
    msg = run([prog, weights, "2", out] + ids)
    got = np.fromfile(out, dtype=np.float32).reshape(len(ids), -1)
    dump = os.path.join(a.out, "exe.npy")
    run([exe, "--prompt-ids", ",".join(ids), "--prefill-only", "--dump-logits", dump,
         "--threads", "2"])
    ref = np.load(dump)
    report(got.shape == ref.shape and np.array_equal(got, ref),
           "lib logits == exe logits, bit for bit (%d x %d)" % got.shape)
    err = float(np.abs(got - gp["logits_llamacpp_f32"]).max())
    report(err <= 1e-3, "lib vs llama.cpp: max_abs_err=%.2e" % err)
    report("outside the vocabulary" in msg, "lib: a bad token id is an error")
    try:
        run([prog, other + ".lqw", "1", out] + ids)
        report(False, "lib: another model's weights refused")
    except RuntimeError as e:
        report("does not match model" in str(e), "lib: another model's weights refused")
    print("lm lib e2e: %d failed" % failed)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
