#!/usr/bin/env python3
"""The tokenizer fixtures (../shared/fixtures/tokenizer, from llama.cpp)
against liquid-tokenize, which runs the runtime's C tokenizer on the image
liquidc builds: every encode case (ids and piece-concatenation round trip),
every single-id piece (with and without special rendering, end-of-generation
flags) and every chat rendering (text and ids), for the GGUF and the HF form
of each vocabulary; the two forms must give the same image byte for byte.
Prints one PASS/FAIL line per check group and a summary."""
import argparse
import json
import os
import subprocess
import sys


def run_jsonl(tool, checkpoint, requests, out_dir, tag):
    path = os.path.join(out_dir, tag + ".in.jsonl")
    with open(path, "w") as f:
        for r in requests:
            f.write(json.dumps(r) + "\n")
    p = subprocess.run([tool, checkpoint, "--jsonl", path], capture_output=True)
    if p.returncode != 0:
        sys.exit("liquid-tokenize failed on %s: %s" % (checkpoint, p.stderr.decode(errors="replace")))
    return [json.loads(l) for l in p.stdout.decode().splitlines()]


def check_cases(tool, checkpoint, cases, out_dir, tag):
    reqs = [{"text": c["text"], "add_bos": c["add_bos"], "parse_special": c["parse_special"]}
            for c in cases]
    got = run_jsonl(tool, checkpoint, reqs, out_dir, tag)
    bad = []
    for c, g in zip(cases, got):
        if g["ids"] != c["ids"]:
            bad.append("%s (bos=%s special=%s): ids %s, expected %s" % (
                c["name"], c["add_bos"], c["parse_special"], g["ids"][:12], c["ids"][:12]))
        elif bytes.fromhex(g["detok_hex"]) != c["detok"].encode("utf-8"):
            bad.append("%s: detokenized text differs" % c["name"])
    return len(cases), bad


def check_pieces(tool, checkpoint, pieces, out_dir, tag):
    ids = [p["id"] for p in pieces]
    with_sp, without = run_jsonl(tool, checkpoint, [{"ids": ids, "special": True},
                                                    {"ids": ids, "special": False}], out_dir, tag)
    bad = []
    for i, p in enumerate(pieces):
        if with_sp["pieces_hex"][i] != p["piece_hex"]:
            bad.append("id %d: piece %s, expected %s" % (p["id"], with_sp["pieces_hex"][i], p["piece_hex"]))
        if without["pieces_hex"][i] != p["piece_nospecial_hex"]:
            bad.append("id %d: piece without specials %s, expected %s" % (
                p["id"], without["pieces_hex"][i], p["piece_nospecial_hex"]))
        if with_sp["eog"][i] != p["is_eog"]:
            bad.append("id %d: end of generation %s, expected %s" % (p["id"], with_sp["eog"][i], p["is_eog"]))
    return len(pieces), bad


def check_chat(tool, checkpoint, chats, out_dir, tag):
    # The ids of chat.jsonl are the lfm2-style vocabulary's (llama-tokenize
    # with it); the rendered text is the same for both.
    check_ids = tag.startswith("lfm2")
    got = run_jsonl(tool, checkpoint, [{"messages": c["messages"],
                                        "add_generation_prompt": c["add_generation_prompt"]}
                                       for c in chats], out_dir, tag)
    bad = []
    for c, g in zip(chats, got):
        if g["prompt"] != c["prompt"]:
            bad.append("%s: rendered %r, expected %r" % (c["name"], g["prompt"][:80], c["prompt"][:80]))
        elif check_ids and g["ids"] != c["ids"]:
            bad.append("%s: ids %s, expected %s" % (c["name"], g["ids"][:12], c["ids"][:12]))
    return len(chats), bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True)
    ap.add_argument("--fixture", required=True, help="fixtures/tokenizer")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    load = lambda name: [json.loads(l) for l in open(os.path.join(a.fixture, name))]
    pieces = json.load(open(os.path.join(a.fixture, "pieces.json")))["pieces"]
    chats = load("chat.jsonl")
    failed = 0
    for style, cases_file in (("lfm2", "cases.jsonl"), ("gpt2", "cases_gpt2.jsonl")):
        cases = load(cases_file)
        folder = os.path.join(a.fixture, "bpe-%s-style" % style)
        images = []
        for form, ckpt in (("gguf", os.path.join(folder, "vocab.gguf")), ("hf", folder)):
            tag = "%s-%s" % (style, form)
            for what, fn, data in (("cases", check_cases, cases), ("pieces", check_pieces, pieces),
                                   ("chat", check_chat, chats)):
                n, bad = fn(a.tool, ckpt, data, a.out, tag + "-" + what)
                for b in bad[:10]:
                    print("  " + b)
                print("%s %s %s: %d/%d" % ("FAIL" if bad else "PASS", tag, what, n - len(bad), n))
                failed += bool(bad)
            img = os.path.join(a.out, tag + ".image")
            subprocess.run([a.tool, ckpt, "--image-out", img], check=True)
            images.append(open(img, "rb").read())
        same = images[0] == images[1]
        print("%s %s: GGUF and HF images identical (%d bytes)" % ("PASS" if same else "FAIL", style,
                                                                  len(images[0])))
        failed += not same
    print("tokenizer fixtures: %d failed" % failed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
