#!/usr/bin/env python3
"""Text in, text out, on llama.cpp's text goldens (shared/fixtures/lfm2-text)
and the tokenizer fixtures: compiles the checkpoint (its tokenizer goes into
the .lqw file, or is compiled in with --embed-weights) and checks, through the
generated program's command line:
  * `-p PROMPT -n 16 --temp 0`: the streamed text, the prompt ids and the 16
    generated ids of each golden;
  * `--tokenize -f FILE [--parse-special] [--no-bos]` on a sample of the
    tokenizer cases, and `--detokenize` back to the text;
  * `--stop STRING`: the text up to the first occurrence, without it;
  * `--chat --system`: the first turn's prompt ids equal the rendered chat
    fixture's; the second turn feeds only its new ids and generates what a
    fresh run on the whole conversation's ids generates (the caches carry
    over exactly);
  * errors: a model without a tokenizer, a .lqw file without one.
One PASS/FAIL line per check and a summary."""
import argparse
import json
import os
import subprocess
import sys


def run(cmd, stdin=None, ok=True):
    p = subprocess.run(cmd, input=stdin, capture_output=True)
    if ok and p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (cmd[0], p.returncode, p.stderr.decode(errors="replace")))
    return p


def ids_of(stderr, what):
    line = [l for l in stderr.decode().splitlines() if l.startswith(what + ":")][0]
    rest = line.split(":", 1)[1].strip()
    return [int(x) for x in rest.split(",")] if rest else []


class Checks:
    def __init__(self):
        self.failed = 0

    def check(self, ok, what, detail=""):
        self.failed += not ok
        print("%s %s%s" % ("PASS" if ok else "FAIL", what, "" if ok else ": " + detail))


def goldens(c, lm, fixture):
    for line in open(os.path.join(fixture, "lfm2-text", "golden_text.jsonl")):
        g = json.loads(line)
        p = run([lm, "-p", g["prompt"], "-n", str(g["n_predict"]), "--temp", "0", "--show-ids", "-t", "2"])
        text = p.stdout[:-1] if p.stdout.endswith(b"\n") else p.stdout
        want = bytes.fromhex(g["generated_text_hex"])
        got_ids, got_prompt = ids_of(p.stderr, "generated ids"), ids_of(p.stderr, "prompt ids")
        c.check(text == want and got_ids == g["generated_ids"] and got_prompt == g["prompt_ids"],
                "golden %s: text, prompt ids and generated ids" % g["name"],
                "text %r vs %r, ids %s vs %s" % (text[:60], want[:60], got_ids, g["generated_ids"]))
        stop = want[len(want) // 2:len(want) // 2 + 4].decode("utf-8", "ignore")
        if stop and stop.strip():
            p = run([lm, "-p", g["prompt"], "-n", "16", "--stop", stop])
            cut = want[:want.index(stop.encode())]
            c.check(p.stdout == cut + b"\n", "golden %s: --stop %r" % (g["name"], stop),
                    "%r vs %r" % (p.stdout[-40:], cut[-40:]))


def tokenize_cases(c, lm, fixture, out):
    cases = [json.loads(l) for l in open(os.path.join(fixture, "tokenizer", "cases.jsonl"))]
    bad, n = [], 0
    for i, case in enumerate(cases):
        if i % 9 and case["category"] not in ("special_text", "utf8_edge", "whitespace_ctrl"):
            continue
        path = os.path.join(out, "case.txt")
        open(path, "wb").write(case["text"].encode("utf-8"))
        flags = (["--parse-special"] if case["parse_special"] else []) + ([] if case["add_bos"] else ["--no-bos"])
        p = run([lm, "--tokenize", "-f", path] + flags)
        ids = [int(x) for x in p.stdout.decode().strip().split(",")] if p.stdout.strip() else []
        n += 1
        if ids != case["ids"]:
            bad.append("%s: %s vs %s" % (case["name"], ids[:10], case["ids"][:10]))
            continue
        if ids:
            d = run([lm, "--detokenize", ",".join(map(str, ids))]).stdout
            if d != case["detok"].encode("utf-8") + b"\n":
                bad.append("%s: detokenized %r" % (case["name"], d[:40]))
    c.check(not bad, "--tokenize/--detokenize on %d tokenizer cases" % n, "; ".join(bad[:5]))


def chat(c, lm, fixture):
    fx = {json.loads(l)["name"]: json.loads(l) for l in open(os.path.join(fixture, "tokenizer", "chat.jsonl"))}
    su = fx["system_user"]
    system, user = su["messages"][0]["content"], su["messages"][1]["content"]
    p = run([lm, "--chat", "--system", system, "-n", "8", "--show-ids"],
            stdin=(user + "\nAnd one more?\n").encode())
    lines = [l for l in p.stderr.decode().splitlines() if l.startswith(("prompt ids:", "generated ids:"))]
    turns = [[int(x) for x in l.split(":", 1)[1].split(",")] for l in lines]
    c.check(turns[0] == su["ids"], "chat: first turn's prompt ids = chat.jsonl system_user",
            "%s vs %s" % (turns[0][:12], su["ids"][:12]))
    whole = turns[0] + turns[1] + turns[2]
    fresh = run([lm, "--prompt-ids", ",".join(map(str, whole)), "-n", "8"]).stdout.decode().strip()
    c.check([int(x) for x in fresh.split(",")] == turns[3],
            "chat: turn 2 on the carried-over caches = a fresh run on the whole conversation",
            "%s vs %s" % (fresh, turns[3]))


def errors(c, lm, liquidc, fixture, out):
    plain = os.path.join(out, "notok")
    run([liquidc, os.path.join(fixture, "lfm2-small", "hf"), "-o", plain, "--max-context", "64"])
    p = run([plain, "-p", "hello"], ok=False)
    c.check(p.returncode == 1 and b"compiled without a tokenizer" in p.stderr,
            "a model without a tokenizer: -p is an error", p.stderr.decode(errors="replace"))
    p = run([lm, "-p", "hello", "--weights", plain + ".lqw"], ok=False)
    c.check(p.returncode == 1 and b"error:" in p.stderr, "another model's .lqw is refused",
            p.stderr.decode(errors="replace"))
    p = run([lm, "--tokenize"], ok=False)
    c.check(p.returncode == 2 and b"error:" in p.stderr, "--tokenize without text is a usage error",
            p.stderr.decode(errors="replace"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--liquidc", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--checkpoint", required=True, help="relative to fixtures/lfm2-text")
    ap.add_argument("--out", required=True)
    ap.add_argument("--errors", action="store_true")
    ap.add_argument("liquidc_args", nargs="*")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    lm = os.path.join(a.out, "lm")
    run([a.liquidc, os.path.join(a.fixtures, "lfm2-text", a.checkpoint), "-o", lm, "--max-context", "256",
         "--max-rows", "16"] + a.liquidc_args)
    c = Checks()
    goldens(c, lm, a.fixtures)
    tokenize_cases(c, lm, a.fixtures, a.out)
    chat(c, lm, a.fixtures)
    if a.errors:
        errors(c, lm, a.liquidc, a.fixtures, a.out)
    print("text e2e: %d failed" % c.failed)
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
