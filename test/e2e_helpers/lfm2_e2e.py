#!/usr/bin/env python3
"""End-to-end check of liquidc on an LFM2 checkpoint against llama.cpp goldens.

Compiles the checkpoint (HF folder or GGUF) into a generator, then
  prefill: logits of the golden prompt (one batched call per --max-rows chunk)
           vs golden_prefill.safetensors, max abs error and argmax;
  decode:  the greedy decode protocol of golden_decode.json: identical ids and
           per-step logits within the tolerance.
Prints one line per check and exits 1 on any failure.
"""
import argparse, os, sys
import numpy as np

from fixtures import load_safetensors, run


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--liquidc", required=True)
    ap.add_argument("--fixture", required=True, help="e.g. FIXTURES/lfm2-small")
    ap.add_argument("--checkpoint", required=True, help="path relative to the fixture folder")
    ap.add_argument("--golden", default="logits_llamacpp_f32", help="prefill golden tensor")
    ap.add_argument("--tol", type=float, default=1e-3)
    ap.add_argument("--argmax-against", default=None,
                    help="prefill golden whose argmax must match (default: --golden; none: report only)")
    ap.add_argument("--no-decode", action="store_true")
    ap.add_argument("--max-rows", default="16")
    ap.add_argument("--threads", default="2", help="threads of the generated program")
    ap.add_argument("--embed", action="store_true", help="compile the weights into the program")
    ap.add_argument("--target", default=None, help="liquidc --target")
    ap.add_argument("--quantize", default=None, help="liquidc --quantize")
    ap.add_argument("--backend", default=None, help="liquidc --backend")
    ap.add_argument("--liquidc-flag", action="append", default=[],
                    help="one more liquidc flag (repeatable)")
    ap.add_argument("--runner", default="", help="command prefix that runs the program (qemu)")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    exe = os.path.join(a.out, "lm")
    env = dict(os.environ)
    if a.runner:
        env.pop("LIQUIDC_CFLAGS", None)  # sanitizer runtimes exist for x86-64 only
    run([a.liquidc, os.path.join(a.fixture, a.checkpoint), "-o", exe, "--max-context", "128",
         "--max-rows", a.max_rows] + (["--embed-weights"] if a.embed else []) +
        (["--target", a.target] if a.target else []) +
        (["--quantize", a.quantize] if a.quantize else []) +
        (["--backend", a.backend] if a.backend else []) + a.liquidc_flag, env)
    prog = a.runner.split() + [exe]
    if a.embed and os.path.exists(exe + ".lqw"):
        raise RuntimeError("--embed-weights wrote " + exe + ".lqw")
    failed = 0

    def report(ok, what):
        nonlocal failed
        failed += not ok
        print("%s %s %s" % ("PASS" if ok else "FAIL", a.checkpoint, what))

    gp = load_safetensors(os.path.join(a.fixture, "golden_prefill.safetensors"))
    ids = ",".join(str(i) for i in gp["ids"])
    dump = os.path.join(a.out, "prefill.npy")
    run(prog + ["--prompt-ids", ids, "--prefill-only", "--dump-logits", dump, "--threads", a.threads])
    got = np.load(dump)
    ref = gp[a.golden]
    err = float(np.abs(got - ref).max())
    report(got.shape == ref.shape and err <= a.tol, "prefill %s: max_abs_err=%.2e (tol %.0e)" % (a.golden, err, a.tol))
    if a.argmax_against != "none":
        am = gp[a.argmax_against or a.golden].argmax(1)
        report(bool((got.argmax(1) == am).all()), "prefill argmax: %d/%d" % ((got.argmax(1) == am).sum(), len(am)))
    else:
        for k in ("logits_llamacpp_f32", a.golden):
            print("INFO argmax vs %s: %d/%d" % (k, (got.argmax(1) == gp[k].argmax(1)).sum(), len(got)))

    if not a.no_decode:
        gd = load_safetensors(os.path.join(a.fixture, "golden_decode.safetensors"))
        want = [int(i) for i in gd["generated_ids"]]
        dump = os.path.join(a.out, "decode.npy")
        out = run(prog + ["--prompt-ids", ",".join(str(i) for i in gd["prompt_ids"]),
                   "--n-predict", str(len(want)), "--dump-logits", dump, "--threads", a.threads]
                  ).strip().splitlines()[-1]
        got_ids = [int(x) for x in out.split(",")]
        report(got_ids == want, "decode ids: %s" % ("identical" if got_ids == want else "%s != %s" % (got_ids, want)))
        # without --dump-logits a prompt chunk computes the head on its last row only
        out = run(prog + ["--prompt-ids", ",".join(str(i) for i in gd["prompt_ids"]),
                          "--n-predict", str(len(want)), "--threads", a.threads]).strip().splitlines()[-1]
        plain = [int(x) for x in out.split(",")]
        report(plain == want, "decode ids without --dump-logits (head on the last prompt row): %s"
               % ("identical" if plain == want else "%s != %s" % (plain, want)))
        ref = np.concatenate([gd["prompt_logits_llamacpp_f32"], gd["step_logits_llamacpp_f32"]])
        got = np.load(dump)
        err = float(np.abs(got - ref).max()) if got.shape == ref.shape else float("inf")
        report(err <= a.tol, "decode logits (prompt + %d steps): max_abs_err=%.2e" % (len(ref) - len(gd["prompt_ids"]), err))
    print("lfm2 e2e: %d failed" % failed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
