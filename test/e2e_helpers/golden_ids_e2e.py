#!/usr/bin/env python3
"""Greedy ids against llama.cpp's text goldens (shared/fixtures/lfm2-text):
compiles the checkpoint, feeds each golden's prompt ids and checks the 16
generated ids. The model's vocabulary (50,261: GPT-2's plus LFM2's specials)
is not a multiple of any vector width, so its last 85 logits come from the
head's partial column tile. Prints one line per prompt; exits 1 on any
mismatch."""
import argparse
import json
import os
import sys

from fixtures import run


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--liquidc", required=True)
    ap.add_argument("--fixture", required=True, help="FIXTURES/lfm2-text")
    ap.add_argument("--checkpoint", required=True, help="relative to the fixture folder")
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", default="2")
    ap.add_argument("liquidc_args", nargs="*")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    lm = os.path.join(a.out, "lm")
    run([a.liquidc, os.path.join(a.fixture, a.checkpoint), "-o", lm, "--max-context", "256"] + a.liquidc_args)
    failed = 0
    with open(os.path.join(a.fixture, "golden_text.jsonl")) as f:
        goldens = [json.loads(line) for line in f if line.strip()]
    for g in goldens:
        out = run([lm, "--prompt-ids", ",".join(map(str, g["prompt_ids"])), "--n-predict",
                   str(g["n_predict"]), "--threads", a.threads])
        ids = [int(t) for t in out.strip().splitlines()[-1].split(",")]
        ok = ids == g["generated_ids"]
        failed += not ok
        print("%s %s: %d prompt ids, %d/%d generated ids equal%s" % (
            "PASS" if ok else "FAIL", g["name"], len(g["prompt_ids"]),
            sum(x == y for x, y in zip(ids, g["generated_ids"])), len(g["generated_ids"]),
            "" if ok else " (got %s, llama.cpp %s)" % (ids, g["generated_ids"])))
    print("golden ids: %d failed" % failed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
