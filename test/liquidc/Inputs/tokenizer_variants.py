#!/usr/bin/env python3
"""Writes HF folders DIR/<variant>/ next to the lfm2-text fixture's weights
(symlinked), each with one thing in its tokenizer files that liquidc must
refuse: an unrecognised chat template, a normalizer, another pre-tokenizer
regex, a merge whose result is not a token, broken JSON, an added token with
lstrip."""
import json
import os
import sys

out, fixture = sys.argv[1], sys.argv[2]
hf = os.path.join(fixture, "lfm2-text", "hf")
tok = json.load(open(os.path.join(hf, "tokenizer.json")))
cfg = json.load(open(os.path.join(hf, "tokenizer_config.json")))


def variant(name, t=None, c=None, raw=None):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    for f in ("config.json", "model.safetensors"):
        if not os.path.exists(os.path.join(d, f)):
            os.symlink(os.path.join(hf, f), os.path.join(d, f))
    with open(os.path.join(d, "tokenizer.json"), "w") as f:
        f.write(raw if raw is not None else json.dumps(t if t is not None else tok))
    with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
        json.dump(c if c is not None else cfg, f)


variant("template", c=dict(cfg, chat_template="{% for m in messages %}[INST] {{ m['content'] }} [/INST]{% endfor %}"))
variant("normalizer", t=dict(tok, normalizer={"type": "NFC"}))
regex = json.loads(json.dumps(tok))
regex["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "\\w+|\\s+"
variant("regex", t=regex)
merge = json.loads(json.dumps(tok))
merge["model"]["merges"].insert(0, ["Ġ", "Ġ"])  # GPT-2 has no "ĠĠ" token
variant("merge", t=merge)
variant("badjson", raw='{"model": {"type": "BPE", ')
lstrip = json.loads(json.dumps(tok))
lstrip["added_tokens"][2]["lstrip"] = True
variant("lstrip", t=lstrip)
