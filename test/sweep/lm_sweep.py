#!/usr/bin/python3
"""Differential sweep of liquidc over the LFM2 / LFM2-MoE model space.

For each path P (a weight format, backend or target) and each k < --n, one
random configuration is drawn from numpy.random.default_rng([seed, id(P), k])
(`--paths P --index k` re-runs exactly that one; paths never share draws):

  1. shape: the shared sweep's draw (shared/tools/lfm2_sweep.py: dense or MoE,
     any vocabulary, 1..12 layers with attention nowhere / everywhere / at
     random, conv L 2..4, FFN widths arbitrary or auto-adjusted, tied or not,
     2..32 experts, top-k <= E, 0..2 dense layers, expert bias or not, prompts
     of 1..16 or 60..80 tokens), and for half of the configurations attention
     geometry beyond it: any even head_dim 8..256, heads : kv-heads 1..8;
     then a tenth of the attention-free ones get any hidden size (8..599, odd
     too), a tenth conv L 5..8, a twentieth of the MoE ones a single expert;
     plus a compile-time --max-rows of 1..8 for a third of them, which splits
     the prompt over several calls, and --threads 1, 2 or 3;
  2. liquid-lfm2-gen writes the checkpoint as P reads it (HF F32 / F16 /
     BF16, or a GGUF F32 / F16 / Q8_0 / Q4_K_M file; the Q4_K_M paths draw
     dense models with hidden 256 or 512, so the K blocks are used);
  3. liquidc compiles it with P's options, the program runs (under qemu for
     cross targets) with --prompt-ids, --n-predict and --dump-logits;
  4. shared/tools/lfm2_reference.py (float64) runs the same model,
     teacher-forced with the program's ids, with the weights the artifact
     holds: where P stores a tensor as F16 or Q8_0 (GGUF files, --weight-type
     f16, --quantize=q8), the reference reads that tensor rounded the same way
     (F16 round-to-nearest, ggml's Q8_0 rule; a Q4_K_M file's tensors
     dequantized by gguf_np.py), so the only difference left is float32
     arithmetic.

Tolerance (one for every path, `--tol`): 3e-4 absolute on every logit, and
every greedy id equal to the reference's argmax wherever its top-1/top-2
margin exceeds 3e-4. Why: the reference has the artifact's exact weights, so
the error is float32 rounding in sums of <= ~1.5k terms with O(1) logits:
observed 1e-6 .. 8e-5 over 510 configurations; weights rounded once more
than the checkpoint says gave 5e-4, a wrong tile, row or rounding rule
1e-2 .. 4. (The project asks 1e-3 of F32; this is tighter.)
(Against unrounded F32 weights the formats themselves cost ~5e-3 (F16) and
~0.2 (Q8_0) on logits: docs/cli.md.)

A failure prints the command that reproduces it; --keep-failures keeps its
folder. Exit status 1 when any configuration fails. Ends with the line
`lm sweep: N passed, M failed`.
"""
import argparse
import concurrent.futures
import json
import os
import shlex
import shutil
import sys
import tempfile
import time

import numpy as np

sys.dont_write_bytecode = True
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "test", "e2e_helpers"))
from fixtures import write_safetensors  # noqa: E402
from lfm2_ref import quantize_rows_q8  # noqa: E402  (ggml's Q8_0 activation rule)
from q8_e2e import q8 as q8_round  # noqa: E402  (ggml's Q8_0 quantize + dequantize)
from sweep_common import TARGET_PATHS, known_runner_bug, last_line, run, unavailable  # noqa: E402

# name -> liquidc options, checkpoint source (then the CPU targets, sweep_common.py)
PATHS = {
    "hf-f32": dict(args=[]),
    "hf-f16": dict(args=[], hf_dtype="f16"),
    "hf-bf16": dict(args=[], hf_dtype="bf16"),
    "gguf-f32": dict(args=[], gguf="f32"),
    "gguf-f16": dict(args=[], gguf="f16"),
    "gguf-q8_0": dict(args=[], gguf="q8_0"),
    "quantize-q8": dict(args=["--quantize=q8"]),
    "weight-type-f16": dict(args=["--weight-type=f16"]),
    "halide": dict(args=["--backend=halide"]),
    "halide-gguf-f16": dict(args=["--backend=halide"], gguf="f16"),
    "halide-q8": dict(args=["--backend=halide", "--quantize=q8"]),
    **TARGET_PATHS,
    "quantize-q4": dict(args=["--quantize=q4"]),
    "quantize-q4-int8": dict(args=["--quantize=q4", "--activations=q8"]),
    "quantize-q8-int8": dict(args=["--quantize=q8", "--activations=q8"]),
    "gguf-q8_0-int8": dict(args=["--activations=q8"], gguf="q8_0"),
    # no dot-product instruction: the same integer arithmetic spelled out, 8 lanes
    "x86-64-v3-q4-int8": dict(args=["--target=x86-64-v3", "--quantize=q4", "--activations=q8"],
                              needs="avx2"),
    "aarch64-q4-int8": dict(args=["--target=aarch64-linux", "--quantize=q4", "--activations=q8"],
                            runner=TARGET_PATHS["aarch64"]["runner"], cc="aarch64-linux-gnu-gcc"),
    # liquid-lfm2-gen's Q4_K_M mix (Q4_K, Q6_K; Q8_0 where rows are not whole
    # super-blocks of 256), computed from the blocks as stored (q4k, q6k);
    # dense models with hidden 256 or 512 (see draw)
    "gguf-q4_k_m": dict(args=[], gguf="q4_k_m"),
    "gguf-q4_k_m-int8": dict(args=["--activations=q8"], gguf="q4_k_m"),
    # half precision and the K blocks' half scales where the target has no
    # half conversions (integer code: riscv64 without Zfhmin)
    "riscv64-gguf-f16": dict(TARGET_PATHS["riscv64"], gguf="f16"),
    "riscv64-rvv-gguf-q4_k_m-int8": dict(TARGET_PATHS["riscv64-rvv"], gguf="q4_k_m",
                                         args=["--target=riscv64-rvv", "--activations=q8"]),
}
PATH_IDS = {name: i for i, name in enumerate(PATHS)}  # append new paths at the end


def shared_tools(shared):
    tools = os.path.join(shared, "tools")
    if not os.path.isfile(os.path.join(tools, "lfm2_sweep.py")):
        sys.exit(f"lm_sweep: no oracle at {tools}/lfm2_sweep.py (set --shared or LIQUID_SHARED)")
    sys.path.insert(0, tools)
    global lfm2_sweep, lfm2_reference
    import lfm2_reference  # noqa: E402,F401
    import lfm2_sweep  # noqa: E402


def draw(seed, path, k):
    """Configuration k of `path`: the shared draw, widened (see the docstring)."""
    rng = np.random.default_rng([seed, PATH_IDS[path], k])
    c = lfm2_sweep.draw_config(rng)
    if rng.random() < 0.5:                        # any even head_dim, any GQA ratio
        while True:
            hd = int(rng.choice([8, 16, 24, 48, 80, 96, 160, 256])) if rng.random() < 0.6 \
                else 2 * int(rng.integers(4, 129))
            ratio = int(rng.integers(1, 9))
            kv = int(rng.integers(1, 5))
            if hd * ratio * kv <= 768:
                break
        c.update(head_dim=hd, kv_heads=kv, heads=kv * ratio, hidden=kv * ratio * hd)
        if c["moe"]:
            budget = 24_000_000 // max(1, 3 * c["hidden"] * c["experts"] * c["layers"])
            c["expert_ffn"] = min(c["expert_ffn"], max(8, budget))
    u = rng.random()
    if u < 0.1 and not c["attn"]:                 # no attention: any hidden size, odd ones too
        c.update(head_dim=0, kv_heads=1, heads=1, hidden=int(rng.integers(8, 600)))
        c["head_dim"] = c["hidden"]
    elif u < 0.2:                                 # longer conv kernels
        c["conv_l"] = int(rng.integers(5, 9))
    elif u < 0.25 and c["moe"]:                   # a single expert
        c.update(experts=1, top_k=1)
    if PATHS[path].get("gguf") == "q4_k_m":
        # K blocks need rows of whole 256s: hidden 256 or 512, FFN widths a
        # multiple of 256 half the time (else ffn_down falls back to Q8_0 or
        # F16); dense (MoE experts have no 4-bit kernels: a compile error)
        hidden = 256 * int(rng.integers(1, 3))
        hd = int(rng.choice([h for h in (32, 64, 128, 256) if h <= hidden]))
        kv = int(rng.choice([d for d in (1, 2, 4) if hidden // hd % d == 0]))
        c.update(moe=False, hidden=hidden, head_dim=hd, heads=hidden // hd, kv_heads=kv)
        if rng.random() < 0.5:
            c.update(ffn=256 * int(rng.integers(1, 5)), patch=None)
    c["max_rows"] = int(rng.integers(1, 9)) if rng.random() < 1 / 3 else None
    c["threads"] = 1 + k % 3
    return c


def f16_round(w):
    return np.asarray(w, np.float32).astype(np.float16).astype(np.float32)


# Tolerance where int8 input rounding had near ties (ActQ8): one int8 step of
# one input moved logits by up to 7e-2 in the sweeps; a wrong scale, sum or
# zero point gives O(1).
TIE_TOL = 0.2


def q4_round(w):
    """liquidc's --quantize=q4 rule (Q4_0's meaning) along the last dimension:
    d = (the value of largest magnitude) / -8 rounded to f16, q = clamp(round(x
    / d) + 8, 0, 15) (ties to even), value = (q - 8) d."""
    b = np.asarray(w, np.float32).reshape(-1, 32)
    m = b[np.arange(len(b)), np.abs(b).argmax(1)][:, None]
    d = (m / np.float32(-8)).astype(np.float16).astype(np.float32)
    q = np.clip(np.rint(b / np.where(d != 0, d, 1)) + 8, 0, 15)
    return np.where(d != 0, (q - 8) * d, 0).astype(np.float32).reshape(w.shape)


class ActQ8(np.ndarray):
    """A product's weight whose inputs the artifact quantizes to int8
    (--activations=q8): x @ W.T quantizes each row of x per block of 32 as
    ggml's Q8_0 activations (d = max|x| / 127 in float32 kept as f16, q =
    round(x / d) ties away from zero) first. The reference calls `h @ W.T`;
    a subclass's reflected product runs first.

    Rounding is discontinuous: where the float64 forward puts an input
    within NEAR_TIE of a rounding boundary (x / d of a half-integer, or d of
    an f16 midpoint), the artifact's float32 input may land on the other
    side, and one int8 step moves later logits by ~1e-2. Such near ties are
    counted (`near_ties`); the sweep then allows TIE_TOL instead."""
    near_ties = 0
    NEAR_TIE = 1e-3

    def __rmatmul__(self, x):
        xq, v, d = quantize_rows_q8(x)
        t = np.trunc(v)
        ActQ8.near_ties += int((np.abs(np.abs(v - t) - 0.5) < ActQ8.NEAR_TIE).sum())
        h = d.astype(np.float16).astype(np.float32)
        up = np.nextafter(d.astype(np.float16), np.float16(np.inf)).astype(np.float32)
        mid = (h + up) / 2  # an f16 midpoint near d (above or below)
        dn = np.nextafter(d.astype(np.float16), np.float16(-np.inf)).astype(np.float32)
        close = np.minimum(np.abs(d - mid), np.abs(d - (h + dn) / 2)) < 1e-5 * np.abs(d)
        ActQ8.near_ties += int(close.sum())
        return xq @ np.asarray(self)


def int8_reference(path, folder, c):
    """The float64 oracle for P; with --activations=q8 the inputs of every
    product with integer-block weights (not the experts, not the router) are
    quantized as the artifact quantizes them."""
    if "--activations=q8" not in PATHS[path]["args"]:
        return lfm2_reference.LFM2Reference(folder)
    types = c.get("gguf_types")                      # a GGUF file's: its integer blocks
    blocks = lambda name, a: (a.ndim == 2 and ".experts." not in name and
                              (types[name] not in ("F32", "F16", "BF16") if types else
                               artifact_rounding(path, name, a, c) in ("q8", "q4")))

    class Ref(lfm2_reference.LFM2Reference):
        def _w(self, name, shape=None, optional=False):
            a = super()._w(name, shape, optional)
            return a.view(ActQ8) if a is not None and name != "model.embed_tokens.weight" and \
                blocks(name, a) else a

    r = Ref(folder)
    if r.lm_head is r.embed and blocks("model.embed_tokens.weight", r.embed):
        r.lm_head = r.embed.view(ActQ8)               # the tied head is a product
    return r


def artifact_rounding(path, name, w, c):
    """How P stores HF tensor `name` (the importer's and liquid-lfm2-gen's rules):
    None (exact), "f16", "q8" or "q4"."""
    if w.ndim < 2 or name.endswith("conv.conv.weight") or name.endswith("feed_forward.gate.weight"):
        return None                               # norms, biases, conv kernels, routers stay F32
    spec = PATHS[path]
    expert = ".experts." in name
    if "--quantize=q4" in spec["args"]:
        if expert:                                # experts: int8 (no 4-bit expert kernels)
            return "q8" if c["hidden"] % 32 == 0 and c["expert_ffn"] % 32 == 0 else None
        return "q4" if w.shape[-1] % 32 == 0 else None
    if spec.get("gguf") == "f16":
        return "f16"
    if spec.get("gguf") == "q8_0":
        return "q8" if w.shape[-1] % 32 == 0 else "f16"
    if "--quantize=q8" in spec["args"]:
        if expert:                                # experts: int8 only when H and I are whole blocks
            return "q8" if c["hidden"] % 32 == 0 and c["expert_ffn"] % 32 == 0 else None
        return "q8" if w.shape[-1] % 32 == 0 else None
    if "--weight-type=f16" in spec["args"]:
        return None if name == "model.embed_tokens.weight" else "f16"  # the gather stays F32
    return None


def reference_folder(path, hf, c, work):
    """The HF folder the reference reads: `hf` itself, or a copy whose tensors
    are rounded as the artifact stores them."""
    spec = PATHS[path]
    if spec.get("gguf") == "q4_k_m":                # the file's blocks, dequantized exactly
        return gguf_reference(hf, c, work)
    if spec.get("gguf") in (None, "f32") and not {"--weight-type=f16", "--quantize=q8",
                                                   "--quantize=q4"} & set(spec["args"]):
        return hf                                 # the artifact holds the checkpoint's values
    raw = lfm2_reference.load_hf_weights(hf)
    with open(os.path.join(hf, "config.json")) as f:
        cfg = json.load(f)
    out = {}
    for name, w in raw.items():
        w = np.asarray(w, np.float32)
        r = artifact_rounding(path, name, w, c)
        out[name] = (q8_round(w) if r == "q8" else q4_round(w) if r == "q4" else
                     f16_round(w) if r == "f16" else w)
    if "--weight-type=f16" in PATHS[path]["args"] and "lm_head.weight" not in raw:
        # a tied head is a product (F16) over the embedding table (gathered as F32)
        out["lm_head.weight"] = f16_round(raw["model.embed_tokens.weight"])
        cfg["tie_word_embeddings"] = False
        cfg.pop("tie_embedding", None)
    ref = os.path.join(work, "reference-hf")
    os.makedirs(ref)
    write_safetensors(os.path.join(ref, "model.safetensors"), out)
    with open(os.path.join(ref, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    return ref


def gguf_reference(hf, c, work):
    """An HF copy of the GGUF file's tensors dequantized (gguf_np); records
    each tensor's ggml type in c["gguf_types"] for int8_reference."""
    import gguf_np
    raw = lfm2_reference.load_hf_weights(hf)
    dec = gguf_np.load(os.path.join(hf, "model-q4_k_m.gguf"))
    c["gguf_types"] = {name: ty for name, (_, ty) in dec.items()}
    out = {}
    for name, w in raw.items():
        if name not in dec:
            raise ValueError(f"gguf_reference: {name} is not in the GGUF file")
        out[name] = dec[name][0].astype(np.float32).reshape(np.asarray(w).shape)
    ref = os.path.join(work, "reference-hf")
    os.makedirs(ref)
    write_safetensors(os.path.join(ref, "model.safetensors"), out)
    shutil.copy(os.path.join(hf, "config.json"), os.path.join(ref, "config.json"))
    return ref


def commands(a, path, c, work):
    """(generator, liquidc, program) command lines of one configuration."""
    spec = PATHS[path]
    hf = os.path.join(work, "hf")
    gen = lfm2_sweep.gen_command(a.gen, c, hf, spec.get("hf_dtype", "f32"))
    gen[gen.index("--gguf") + 1] = spec.get("gguf", "none")
    src = os.path.join(hf, f"model-{spec['gguf']}.gguf") if spec.get("gguf") else hf
    lm = os.path.join(work, "out", "lm")
    comp = [a.liquidc, src, "-o", lm] + spec["args"]
    if c["max_rows"]:
        comp += ["--max-rows", str(c["max_rows"])]
    prog = spec.get("runner", []) + [lm, "--prompt-ids", ",".join(map(str, c["prompt"])),
                                     "--n-predict", str(c["n_predict"]), "--dump-logits",
                                     os.path.join(work, "out", "logits.npy"),
                                     "--threads", str(c["threads"])]
    return gen, comp, prog


def sweep_one(a, path, k, c=None):
    """Runs configuration c (default: draw k of `path`); returns (status,
    cause, details, command lines, work folder, configuration)."""
    c = c or draw(a.seed, path, k)
    work = tempfile.mkdtemp(prefix=f"lmsweep_{path}_{k}_", dir=a.workdir)
    os.makedirs(os.path.join(work, "out"))
    gen, comp, prog = commands(a, path, c, work)
    cmds = [" ".join(shlex.quote(x) for x in cmd) for cmd in (gen, comp, prog)]
    d = {}
    try:
        rc, _, se, d["t_gen"] = run(gen, 300)
        if rc:
            return "FAIL", f"liquid-lfm2-gen rc {rc}: {last_line(se)}", d, cmds, work, c
        hf = os.path.join(work, "hf")
        if c["patch"]:
            with open(os.path.join(hf, "config.json")) as f:
                cfg = json.load(f)
            cfg.update(c["patch"])
            with open(os.path.join(hf, "config.json"), "w") as f:
                json.dump(cfg, f, indent=1)
        rc, so, se, d["t_compile"] = run(comp, a.timeout)
        if rc:
            return "FAIL", f"liquidc rc {rc}: {last_line(se + so)}", d, cmds, work, c
        rc, so, se, d["t_run"] = run(prog, a.timeout)
        if rc:
            return "FAIL", f"program rc {rc}: {last_line(se + so)}{known_runner_bug(se + so)}", d, cmds, work, c
        try:
            ids = [int(t) for t in last_line(so).split(",") if t.strip()]
            logits = np.load(os.path.join(work, "out", "logits.npy"))
        except (ValueError, OSError) as e:
            return "FAIL", f"unreadable program output: {e}", d, cmds, work, c
        t0 = time.monotonic()
        ref = int8_reference(path, reference_folder(path, hf, c, work), c)
        d["t_ref"] = time.monotonic() - t0
        ActQ8.near_ties = 0
        status, cause, d2 = lfm2_sweep.compare(c, logits, ids, ref, a.tol, a.tol)
        if status != "PASS" and ActQ8.near_ties:  # the oracle cannot say which side
            ties = ActQ8.near_ties
            status, cause, d2 = lfm2_sweep.compare(c, logits, ids, ref, TIE_TOL, TIE_TOL)
            cause = (cause + " " if cause else "") + f"(int8 inputs: {ties} near ties, tol {TIE_TOL})"
        d.update(d2)
        d["t_check"] = time.monotonic() - t0
        return status, cause, d, cmds, work, c
    except Exception as e:                        # an oracle error is reported, not raised
        return "FAIL", f"sweep/reference error: {type(e).__name__}: {e}", d, cmds, work, c


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=5, help="configurations per path")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--paths", default="all", help="comma-separated: " + ",".join(PATHS))
    ap.add_argument("--index", type=int, nargs="*", help="run only these indices k")
    ap.add_argument("--liquidc", default=os.path.join(REPO, "build", "bin", "liquidc"))
    ap.add_argument("--gen", default=os.path.join(REPO, "build", "bin", "liquid-lfm2-gen"))
    ap.add_argument("--shared", default=os.environ.get("LIQUID_SHARED",
                                                      os.path.join(os.path.dirname(REPO), "shared")))
    ap.add_argument("--tol", type=float, default=3e-4)
    ap.add_argument("--keep-failures", metavar="DIR")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--timeout", type=int, default=600)
    ap.add_argument("-j", "--jobs", type=int, default=1)
    ap.add_argument("--cases", metavar="FILE", help="run the named configurations of FILE (JSON lines: "
                    '{"name", "path", "config"}, as a failure prints them) instead of drawing')
    ap.add_argument("--list-paths", action="store_true", help="print the path names and exit")
    a = ap.parse_args(argv)
    if a.list_paths:
        print("\n".join(PATHS))
        return 0
    shared_tools(a.shared)
    paths = list(PATHS) if a.paths == "all" else a.paths.split(",")
    for p in paths:
        if p not in PATHS:
            ap.error(f"unknown path '{p}' (known: {', '.join(PATHS)})")
    jobs = []
    for p in paths:
        if unavailable(PATHS[p]):
            print(f"# SKIPPED path {p}: this machine cannot run it ({unavailable(PATHS[p])})", flush=True)
            continue
        jobs += [(p, k, None) for k in (a.index if a.index is not None else range(a.n))]
    if a.cases:
        with open(a.cases) as f:
            cases = [json.loads(line) for line in f if line.strip() and not line.startswith("#")]
        jobs = [(case["path"], case["name"], case["config"]) for case in cases]
    print(f"# lm sweep --seed {a.seed} --n {a.n} tol {a.tol:g}: {len(jobs)} configurations", flush=True)
    fails = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as pool:
        futures = [pool.submit(sweep_one, a, p, k, c) for p, k, c in jobs]
        for (p, k, _), fut in zip(jobs, futures):
            status, cause, d, cmds, work, c = fut.result()
            nums = (f" err {d['err']:.2e} (prefill {d['prefill']:.1e} decode {d['decode']:.1e}"
                    f" at {d['at']}) ids {d['ids']}" if "err" in d else "")
            extra = f" max_rows {c['max_rows']}" if c["max_rows"] else ""
            steps = ("t_gen", "t_compile", "t_run", "t_check")
            if all(t in d for t in steps):  # where the sweep's time goes (seconds)
                extra += " | s gen/compile/run/check " + "/".join(f"{d[t]:.1f}" for t in steps)
            print(f"[{p} {k}] {status}{' ' + cause if cause else ''}{nums} | {lfm2_sweep.describe(c)}"
                  f" threads {c['threads']}{extra}", flush=True)
            if status != "PASS":
                fails += 1
                which = f"--cases {a.cases}" if a.cases else f"--seed {a.seed} --paths {p} --index {k}"
                print(f"    reproduce: /usr/bin/python3 {os.path.relpath(__file__, REPO)} {which} "
                      f"--keep-failures /tmp/lmsweep-fail", flush=True)
                for cmd in cmds:
                    print(f"    {cmd}", flush=True)
                if c["patch"]:
                    print(f"    config.json patch: {json.dumps(c['patch'])}", flush=True)
                case = {"name": f"{p}-{a.seed}-{k}", "path": p, "config": c}
                print(f"    as a regression case (test/sweep/lm-regressions.jsonl): {json.dumps(case)}",
                      flush=True)
                if a.keep_failures:
                    dst = os.path.join(a.keep_failures, f"{p}_{a.seed}_{k}")
                    shutil.rmtree(dst, ignore_errors=True)
                    shutil.copytree(work, dst)
            shutil.rmtree(work, ignore_errors=True)
    print(f"lm sweep: {len(jobs) - fails} passed, {fails} failed")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
