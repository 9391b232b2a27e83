#!/usr/bin/env python3
"""Seed corpora for the libFuzzer harnesses (test/fuzz), one folder each.

Seeds come from the reference fixtures (../shared/fixtures: the ncps
checkpoints, the tokenizers and the llama.cpp GGUF headers) shrunk so that a
fuzzer runs fast on them, and from liquid-lfm2-gen (tiny random LFM2 and
LFM2-MoE checkpoints in every GGUF type it writes). Multi-file inputs are
joined with the harnesses' part separator (FuzzCommon.h).

usage: make_seeds.py --out DIR --lfm2-gen BIN --tokenize BIN [--fixtures DIR]
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

SEP = b"\n#--liquid-fuzz-part--#\n"
HARNESSES = ["safetensors", "gguf", "hf-checkpoint", "tokenizer", "tokenizer-image",
             "ncps", "npy", "lqw", "mlir"]


def put(out, harness, name, data):
    d = os.path.join(out, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def tiny_models(out, gen, work):
    """liquid-lfm2-gen checkpoints small enough to fuzz (a few KB to ~200 KB)."""
    shapes = {
        "dense": ["--preset", "small", "--vocab", "24", "--hidden", "16", "--layers", "2",
                  "--heads", "2", "--kv-heads", "1", "--ffn", "32", "--attn-layers", "1"],
        "moe": ["--preset", "moe-small", "--vocab", "24", "--hidden", "16", "--layers", "2",
                "--heads", "2", "--kv-heads", "1", "--experts", "4", "--top-k", "2",
                "--expert-ffn", "16", "--ffn", "32", "--dense-layers", "1", "--attn-layers", "1"],
        "k256": ["--preset", "small", "--vocab", "16", "--hidden", "256", "--layers", "1",
                 "--heads", "2", "--kv-heads", "1", "--ffn", "256", "--attn-layers", "none"],
    }
    for name, args in shapes.items():
        types = ["q4_k_m"] if name == "k256" else ["f32", "f16", "q8_0"]
        for ty in types:
            d = os.path.join(work, f"{name}-{ty}")
            subprocess.run([gen, *args, "--gguf", ty, "--hf-dtype",
                            "f16" if ty == "f16" else "f32", "--out", d, "--quiet"], check=True)
            put(out, "gguf", f"gen-{name}-{ty}.gguf", read(os.path.join(d, f"model-{ty}.gguf")))
            if ty in ("f32", "f16"):
                cfg = read(os.path.join(d, "config.json"))
                st = read(os.path.join(d, "model.safetensors"))
                put(out, "hf-checkpoint", f"gen-{name}-{ty}", cfg + SEP + st)
                put(out, "safetensors", f"gen-{name}-{ty}.safetensors", st)


def shrink_tokenizer(path, keep=600):
    """The fixture's byte-level BPE tokenizer.json cut to `keep` tokens and the
    merges among them, its added (special) tokens renumbered after them."""
    tok = json.loads(read(path))
    vocab = {k: v for k, v in tok["model"]["vocab"].items() if v < keep}
    merges = []
    for m in tok["model"]["merges"]:
        a, b = m if isinstance(m, list) else m.split(" ", 1)
        if a in vocab and b in vocab and a + b in vocab:
            merges.append(m)
    nid = keep
    for t in tok["added_tokens"]:
        t["id"] = nid
        vocab[t["content"]] = nid
        nid += 1
    tok["model"]["vocab"] = vocab
    tok["model"]["merges"] = merges
    return json.dumps(tok, ensure_ascii=False).encode()


def tokenizer_seeds(out, fixtures, tokenize, work):
    texts = [b"Hello world", b"<|im_start|>user\nhi<|im_end|>", "caf\u00e9 123 \u2014 ok".encode(),
             b"\xff\xfe  \t\n"]
    tdir = os.path.join(fixtures, "tokenizer")
    for style in ("bpe-lfm2-style", "bpe-gpt2-style"):
        src = os.path.join(tdir, style)
        if not os.path.isdir(src):
            continue
        small = shrink_tokenizer(os.path.join(src, "tokenizer.json"))
        cfg = read(os.path.join(src, "tokenizer_config.json"))
        for i, t in enumerate(texts):
            put(out, "tokenizer", f"{style}-{i}", small + SEP + cfg + SEP + t)
        d = os.path.join(work, style)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "tokenizer.json"), "wb") as f:
            f.write(small)
        with open(os.path.join(d, "tokenizer_config.json"), "wb") as f:
            f.write(cfg)
        img = os.path.join(work, style + ".img")
        subprocess.run([tokenize, d, "--image-out", img], check=True)
        put(out, "tokenizer-image", style, read(img) + SEP + texts[2])
        put(out, "hf-checkpoint", f"tokenizer-{style}", SEP + SEP + small + SEP + cfg)


def fixture_seeds(out, fixtures):
    ncps = os.path.join(fixtures, "ncps")
    if os.path.isdir(ncps):
        for f in sorted(os.listdir(ncps)):
            if f.endswith(".json"):
                stem = f[:-5]
                st = read(os.path.join(ncps, stem + ".safetensors"))
                put(out, "ncps", stem, read(os.path.join(ncps, f)) + SEP + st)
                put(out, "safetensors", stem + ".safetensors", st)
    # The headers (metadata and tensor infos) of llama.cpp's own GGUF files:
    # their tensor data is cut, which the reader must report.
    for sub in ("lfm2-small-quants", "lfm2moe-small"):
        d = os.path.join(fixtures, sub)
        if not os.path.isdir(d):
            continue
        for f in sorted(os.listdir(d)):
            if f.endswith(".gguf"):
                with open(os.path.join(d, f), "rb") as fh:
                    put(out, "gguf", "head-" + f, fh.read(24 << 10))


def npy(shape, descr="<f4", version=1, data=None):
    hdr = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (
        descr, "(" + "".join(f"{d}, " for d in shape).rstrip(" ") + ")")
    pad = 64 - (10 + len(hdr) + 1) % 64
    hdr = (hdr + " " * pad + "\n").encode()
    n = 1
    for d in shape:
        n *= d
    item = 8 if descr.endswith("8") else 4
    body = data if data is not None else bytes(range(256)) * (n * item // 256 + 1)
    pre = b"\x93NUMPY" + bytes([version, 0])
    pre += struct.pack("<H" if version == 1 else "<I", len(hdr))
    return pre + hdr + body[:n * item]


def runtime_seeds(out):
    put(out, "npy", "f4-2x3", npy((2, 3)))
    put(out, "npy", "f8-4", npy((4,), "<f8"))
    put(out, "npy", "be-f4-2x2x2", npy((2, 2, 2), ">f4"))
    put(out, "npy", "v2-f4-1x5x4", npy((1, 5, 4), version=2))
    put(out, "npy", "scalar", npy(()))
    weights = struct.pack("<7f", 0.5, 0.25, 0.75, 1.0, 0.1, -0.2, 0.3)
    for version in (1, 2):
        hdr = b"LQWEIGHT" + struct.pack("<I4xQQQQQ", version, 0x0123456789abcdef, 7, 0, 0, 0)
        put(out, "lqw", f"fake-v{version}", hdr + weights)


def mlir_seeds(out, root):
    for sub in ("test/Dialect", "test/Passes"):
        d = os.path.join(root, sub)
        for f in sorted(os.listdir(d)):
            if not f.endswith(".mlir"):
                continue
            text = read(os.path.join(d, f))
            # one seed per split-input-file chunk, small ones only
            for i, chunk in enumerate(text.split(b"// -----")):
                if 0 < len(chunk) <= 8192:
                    put(out, "mlir", f"{f[:-5]}-{i}.mlir", chunk)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--lfm2-gen", required=True)
    ap.add_argument("--tokenize", required=True)
    ap.add_argument("--fixtures", default="")
    a = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    shutil.rmtree(a.out, ignore_errors=True)
    with tempfile.TemporaryDirectory() as work:
        tiny_models(a.out, a.lfm2_gen, work)
        if a.fixtures and os.path.isdir(a.fixtures):
            fixture_seeds(a.out, a.fixtures)
            tokenizer_seeds(a.out, a.fixtures, a.tokenize, work)
        else:
            print("make_seeds: no fixtures: the ncps, tokenizer and llama.cpp GGUF seeds are "
                  "left out", file=sys.stderr)
    runtime_seeds(a.out)
    mlir_seeds(a.out, root)
    for h in HARNESSES:
        d = os.path.join(a.out, h)
        os.makedirs(d, exist_ok=True)
        print(f"  {h}: {len(os.listdir(d))} seeds")


if __name__ == "__main__":
    main()
