#!/usr/bin/env python3
"""State snapshots of a compiled language model (--save-state/--load-state):
  * a prompt evaluated in two runs, the second starting from the first's
    snapshot, gives logits bit-identical to one run over the whole prompt;
  * text generation split in two runs (the second from the snapshot, with an
    empty prompt: it goes on from the token the first generated last) prints
    exactly the text of one run;
  * another model's snapshot, a truncated one and a file that is none are
    refused with one line naming the file.
One PASS/FAIL line per check."""
import argparse
import os
import subprocess
import sys

import numpy as np


def run(cmd, ok=True):
    p = subprocess.run(cmd, capture_output=True)
    if ok and p.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), p.stderr.decode(errors="replace")))
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--liquidc", required=True)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--other", required=True, help="another checkpoint")
    ap.add_argument("--out", required=True)
    ap.add_argument("--text", action="store_true", help="the checkpoint has a tokenizer")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    lm, other = os.path.join(a.out, "lm"), os.path.join(a.out, "other")
    run([a.liquidc, a.checkpoint, "-o", lm, "--max-context", "128", "--max-rows", "8"])
    run([a.liquidc, a.other, "-o", other, "--max-context", "128", "--max-rows", "8"])
    f = lambda name: os.path.join(a.out, name)
    failed = 0

    def check(ok, what, detail=""):
        nonlocal failed
        failed += not ok
        print("%s %s%s" % ("PASS" if ok else "FAIL", what, "" if ok else ": " + detail))

    p1, p2 = ",".join(str(5 + i) for i in range(16)), ",".join(str(40 + i) for i in range(11))
    run([lm, "--prompt-ids", p1 + "," + p2, "--prefill-only", "--dump-logits", f("whole.npy")])
    s = run([lm, "--prompt-ids", p1, "--prefill-only", "--save-state", f("s.bin")])
    run([lm, "--load-state", f("s.bin"), "--prompt-ids", p2, "--prefill-only", "--dump-logits", f("rest.npy")])
    whole, rest = np.load(f("whole.npy")), np.load(f("rest.npy"))
    check(np.array_equal(whole[16:], rest), "prefill from a snapshot: logits bit-identical to one run",
          "max diff %g" % np.abs(whole[16:] - rest).max())
    size = os.path.getsize(f("s.bin"))
    check(b"state: %d bytes at position 16" % size in s.stderr, "the snapshot's size is reported",
          s.stderr.decode(errors="replace"))
    if a.text:
        full = run([lm, "-p", "The capital of France is", "-n", "14"]).stdout
        one = run([lm, "-p", "The capital of France is", "-n", "5", "--save-state", f("t.bin")]).stdout
        two = run([lm, "--load-state", f("t.bin"), "-p", "", "-n", "9"]).stdout
        check(full == one[:-1] + two, "generation from a snapshot continues the text exactly",
              "%r vs %r + %r" % (full, one, two))
    run([other, "--prompt-ids", "5,6,7", "--prefill-only", "--save-state", f("o.bin")])
    bad = {"another model's": f("o.bin"), "a truncated": f("cut.bin"), "not a": f("junk.bin")}
    open(f("cut.bin"), "wb").write(open(f("s.bin"), "rb").read()[:-4])
    open(f("junk.bin"), "wb").write(b"hello")
    for what, path in bad.items():
        p = run([lm, "--load-state", path, "--prompt-ids", p2], ok=False)
        err = p.stderr.decode(errors="replace")
        check(p.returncode == 1 and err.count("\n") == 1 and path in err,
              "%s snapshot is refused" % what, err)
    print("state e2e: %d failed" % failed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
