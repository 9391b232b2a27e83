#!/usr/bin/env python3
"""Router checks of compiled LFM2-MoE models against the numpy reference.

Starts from a random moe-small checkpoint (liquid-lfm2-gen), edits its router
and config for each case, compiles it with liquidc and compares the prefill
logits (and greedy decode ids) with lfm2_ref.py, whose routing is
llama.cpp's. Cases:
  base       sigmoid, bias, top-2, normalized
  ties       three experts with identical router rows and biases: the tie at
             the top-k boundary goes to the lower ids
  k=E        every expert chosen (num_experts_per_tok = num_experts)
  bias       a large bias on one expert: it is chosen for every row, with
             its unbiased score as weight; the output must differ from the
             unbiased-selection model and from bias-in-the-weights routing
  softmax    scoring_func softmax (and differs from sigmoid)
  raw        norm_topk_prob false, routed_scaling_factor 2.5
  width40    expert width 40 (padded halves), 4 experts, top-3
Prints one line per check; exits 1 on any failure.
"""
import argparse
import copy
import json
import os
import sys

import numpy as np

from fixtures import load_safetensors, run
from lfm2_ref import Lfm2Ref, save_safetensors

class BiasInWeights(Lfm2Ref):
    """The known mistake (mlx-lm#1883): the expert bias also in the weights."""

    def route(self, logits, bias):
        chosen, _ = Lfm2Ref.route(self, logits, bias)
        s = np.take_along_axis(1 / (1 + np.exp(-logits)) + bias, chosen, -1)
        return chosen, s / s.sum(-1, keepdims=True)


PROMPT = [5, 17, 300, 42, 7, 9, 911, 128, 64, 3, 77, 501, 2, 640]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--liquidc", required=True)
    ap.add_argument("--gen", required=True, help="liquid-lfm2-gen")
    ap.add_argument("--out", required=True)
    ap.add_argument("--tol", type=float, default=2e-4)
    a = ap.parse_args()
    base_dir = os.path.join(a.out, "base")
    run([a.gen, "--preset", "moe-small", "--out", base_dir, "--seed", "7", "--gguf", "none", "--quiet"])
    cfg0 = json.load(open(os.path.join(base_dir, "config.json")))
    w0 = load_safetensors(os.path.join(base_dir, "model.safetensors"))
    E = cfg0["num_experts"]
    moe_layers = range(cfg0["num_dense_layers"], cfg0["num_hidden_layers"])
    failed = 0

    def report(ok, what):
        nonlocal failed
        failed += not ok
        print("%s %s" % ("PASS" if ok else "FAIL", what))

    def compiled(name, cfg, w, threads="2", max_rows="6"):
        d = os.path.join(a.out, name)
        os.makedirs(d, exist_ok=True)
        json.dump(cfg, open(os.path.join(d, "config.json"), "w"), indent=1)
        save_safetensors(os.path.join(d, "model.safetensors"), w)
        exe = os.path.join(d, "lm")
        run([a.liquidc, d, "-o", exe, "--max-context", "64", "--max-rows", max_rows])
        dump = os.path.join(d, "prefill.npy")
        run([exe, "--prompt-ids", ",".join(map(str, PROMPT)), "--prefill-only", "--dump-logits", dump,
             "--threads", threads])
        return np.load(dump), exe

    def check(name, cfg, w, threads="2", max_rows="6", decode=False):
        """Compiled prefill vs the reference; returns (compiled, reference)."""
        got, exe = compiled(name, cfg, w, threads, max_rows)
        ref_model = Lfm2Ref(None, weights=w, config=cfg)
        ref = ref_model.forward(PROMPT)
        err = float(np.abs(got - ref).max())
        report(err <= a.tol, "%s: prefill max_abs_err=%.2e (tol %.0e), %s threads, %s rows a call"
               % (name, err, a.tol, threads, max_rows))
        if decode:
            out = run([exe, "--prompt-ids", ",".join(map(str, PROMPT)), "--n-predict", "6",
                       "--threads", threads]).strip().splitlines()[-1]
            got_ids = [int(x) for x in out.split(",")]
            ids, want = list(PROMPT), []
            for _ in range(6):
                want.append(int(Lfm2Ref(None, weights=w, config=cfg).forward(ids)[-1].argmax()))
                ids.append(want[-1])
            report(got_ids == want, "%s: greedy decode ids %s" % (name, "identical" if got_ids == want
                                                                 else "%s != %s" % (got_ids, want)))
        return got, ref_model

    # base: also on 1 and 3 threads, and one row a call (decode path only)
    base, _ = check("base", cfg0, w0, decode=True)
    for threads, rows in (("1", "16"), ("3", "4"), ("2", "1")):
        got, _ = compiled("base-%s-%s" % (threads, rows), cfg0, w0, threads, rows)
        report(np.array_equal(got, base) or float(np.abs(got - base).max()) <= 1e-5,
               "base: %s threads, %s rows a call: max diff to base %.1e" % (threads, rows,
                                                                          float(np.abs(got - base).max())))

    # ties: experts 2, 4, 6 share the router row of expert 2 and a bias far
    # above the others; with top-2 the tie at the boundary must pick 2 and 4.
    w = copy.deepcopy(w0)
    for i in moe_layers:
        p = "model.layers.%d.feed_forward." % i
        g, b = w[p + "gate.weight"].copy(), w[p + "expert_bias"].copy()
        for e in (4, 6):
            g[e] = g[2]
        b[[2, 4, 6]] = 5.0
        w[p + "gate.weight"], w[p + "expert_bias"] = g, b
    got_t, ref = check("ties", cfg0, w)
    chosen = np.concatenate([ref.routes[i] for i in moe_layers])
    report(bool((np.sort(chosen, 1) == [2, 4]).all()), "ties: reference routes every row to experts 2 and 4")
    # the same model with expert 6's tie-breaking preferred must differ
    alt = copy.deepcopy(w)
    for i in moe_layers:
        p = "model.layers.%d.feed_forward." % i
        alt[p + "expert_bias"][6] += 1e-3
    ref_alt = Lfm2Ref(None, weights=alt, config=cfg0).forward(PROMPT)
    report(float(np.abs(got_t - ref_alt).max()) > 100 * a.tol,
           "ties: the other tie order gives different logits (%.2e apart)" % float(np.abs(got_t - ref_alt).max()))

    # k = E
    cfg = dict(cfg0, num_experts_per_tok=E)
    check("k=E", cfg, w0, decode=True)

    # bias: expert 5 always chosen; weights stay unbiased
    w = copy.deepcopy(w0)
    for i in moe_layers:
        w["model.layers.%d.feed_forward.expert_bias" % i][5] = 3.0
    got_b, ref = check("bias", cfg0, w)
    chosen = np.concatenate([ref.routes[i] for i in moe_layers])
    report(bool((chosen == 5).any(1).all()), "bias: reference chooses expert 5 for every row")
    d0 = float(np.abs(got_b - base).max())
    report(d0 > 100 * a.tol, "bias: selection changed the output (%.2e from the unbiased model)" % d0)
    d1 = float(np.abs(got_b - BiasInWeights(None, weights=w, config=cfg0).forward(PROMPT)).max())
    report(d1 > 100 * a.tol, "bias: output differs from bias-in-the-weights routing (%.2e)" % d1)

    # softmax
    cfg = dict(cfg0, scoring_func="softmax")
    got_s, _ = check("softmax", cfg, w0, decode=True)
    d = float(np.abs(got_s - base).max())
    report(d > 100 * a.tol, "softmax: differs from the sigmoid router (%.2e)" % d)

    # raw weights, scaled
    cfg = dict(cfg0, norm_topk_prob=False, routed_scaling_factor=2.5)
    check("raw", cfg, w0)

    # an expert width that is not a multiple of the vector width (padding of
    # the interleaved gate/up halves), 4 experts top-3
    odd_dir = os.path.join(a.out, "odd-base")
    run([a.gen, "--preset", "moe-small", "--out", odd_dir, "--seed", "3", "--gguf", "none", "--quiet",
         "--expert-ffn", "40", "--experts", "4", "--top-k", "3"])
    check("width40", json.load(open(os.path.join(odd_dir, "config.json"))),
          load_safetensors(os.path.join(odd_dir, "model.safetensors")), decode=True)

    print("moe router e2e: %d failed" % failed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
