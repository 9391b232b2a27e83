"""The cases of the bad-input corpus (bad_inputs.py): what each writes into its
folder, the command, and the pattern its one line of stderr must match.
LIQUIDC, CELL (cfc_fc32_4: 8 inputs, 32 units), CELL_LQW (the same with its
weights in cell-lqw.lqw) and LM (lfm2-small, vocabulary 1024, context 64)
stand for the programs."""
import json
import os
import struct


class Case:
    def __init__(self, name, argv, want, files=None):
        self.name, self.argv, self.want, self.files = name, argv, want, files or {}

    def setup(self, folder):
        for rel, content in self.files.items():
            if content is None:                   # a file the case leaves out
                continue
            p = os.path.join(folder, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            if callable(content):
                content(p)
            else:
                with open(p, "wb") as f:
                    f.write(content if isinstance(content, bytes) else content.encode())


# ---------------------------------------------------------------- builders

def safetensors(tensors, header_extra=None, raw_header=None, data=None):
    """tensors: name -> (dtype, shape, bytes)."""
    header, blob = {}, b""
    for name, (dtype, shape, payload) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(blob), len(blob) + len(payload)]}
        blob += payload
    header.update(header_extra or {})
    h = raw_header if raw_header is not None else json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + (blob if data is None else data)


def npy(shape, payload=None, descr="<f4"):
    d = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, tuple(shape))
    d += " " * ((64 - (10 + len(d) + 1) % 64) % 64) + "\n"
    n = 1
    for s in shape:
        n *= s
    body = payload if payload is not None else b"\0" * (4 * n)
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(d)) + d.encode() + body


def gguf(kvs=(), tensors=(), version=3, n_tensors=None, n_kv=None, tail=b""):
    """kvs: (key, type, packed value bytes); tensors: (name, dims, ggml type, offset)."""
    s = lambda t: struct.pack("<Q", len(t)) + t.encode()
    out = b"GGUF" + struct.pack("<I", version)
    out += struct.pack("<Q", len(tensors) if n_tensors is None else n_tensors)
    out += struct.pack("<Q", len(kvs) if n_kv is None else n_kv)
    for key, ty, val in kvs:
        out += s(key) + struct.pack("<I", ty) + val
    for name, dims, ty, off in tensors:
        out += s(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<I", ty) + struct.pack("<Q", off)
    return out + tail


def gstr(v):
    return struct.pack("<Q", len(v)) + v.encode()


def with_value(st_bytes, tensor, index, value):
    """A copy of safetensors `st_bytes` with float32 element `index` of
    `tensor` set to `value`."""
    n = struct.unpack("<Q", st_bytes[:8])[0]
    header = json.loads(st_bytes[8:8 + n])
    data = bytearray(st_bytes[8 + n:])
    struct.pack_into("<f", data, header[tensor]["data_offsets"][0] + 4 * index, value)
    return st_bytes[:8 + n] + bytes(data)


def corrupt_copy(program_file, at, flips=1):
    """A setup step: a copy of the built programs' file (bad_inputs.py puts
    them in $BAD_INPUTS_PROGRAMS) with `flips` bytes from byte `at` on
    inverted."""
    def make(p):
        with open(os.path.join(os.environ["BAD_INPUTS_PROGRAMS"], program_file), "rb") as f:
            b = bytearray(f.read())
        for i in range(at, min(at + flips, len(b))):
            b[i] ^= 0xFF
        with open(p, "wb") as f:
            f.write(b)
    return make


def deep(n, inner="1"):
    return "[" * n + inner + "]" * n


def link(target):
    return lambda p: os.symlink(target, p)


def fifo(p):
    os.mkfifo(p)


# ---------------------------------------------------------------- the cases

def all_cases(fixtures):
    ncps = os.path.join(fixtures, "ncps")
    hf = os.path.join(fixtures, "lfm2-small", "hf")
    with open(os.path.join(ncps, "cfc_fc32_4.json")) as f:
        spec = json.load(f)
    with open(os.path.join(ncps, "cfc_fc32_4.safetensors"), "rb") as f:
        weights = f.read()
    with open(os.path.join(hf, "config.json")) as f:
        config = json.load(f)
    with open(os.path.join(hf, "model.safetensors"), "rb") as f:
        hf_weights = f.read()

    def spec_with(**changes):
        s = dict(spec)
        for k, v in changes.items():
            if v is None:
                s.pop(k, None)
            else:
                s[k] = v
        return json.dumps(s)

    def cell(name, argv, want, **files):
        """A case compiling spec s.json (+ s.safetensors) with liquidc."""
        base = {"s.json": json.dumps(spec), "s.safetensors": weights}
        base.update(files)
        return Case(name, ["LIQUIDC"] + argv, want, base)

    def hf_folder(cfg=None, st=None, extra=None):
        files = {"m/config.json": json.dumps(cfg if cfg is not None else config)}
        files["m/model.safetensors"] = st if st is not None else link(os.path.join(hf, "model.safetensors"))
        files.update(extra or {})
        return files

    def config_with(**changes):
        c = dict(config)
        c.update(changes)
        return c

    x = npy((2, 3, 8))
    cases = [
        # ---- liquidc's command line and paths
        Case("cli-no-input", ["LIQUIDC"], r"liquidc: error: no input model"),
        Case("cli-missing-input", ["LIQUIDC", "nope.json", "-o", "out"], r"nope\.json"),
        Case("cli-dev-zero", ["LIQUIDC", "/dev/zero", "-o", "out"], r"/dev/zero: not a regular file or a folder"),
        Case("cli-fifo", ["LIQUIDC", "p", "-o", "out"], r"p: not a regular file or a folder", {"p": fifo}),
        Case("cli-unknown-flag", ["LIQUIDC", "--frobnicate", "x"], r"liquidc: error: Unknown command line argument .--frobnicate."),
        Case("cli-two-inputs", ["LIQUIDC", "a", "b"], r"liquidc: error: Too many positional arguments"),
        Case("cli-escape-in-path", ["LIQUIDC", "\x1b[2Jx.json", "-o", "out"], r"x\.json"),
        cell("cli-unknown-target", ["s.json", "-o", "out", "--target=sparc"], r"unknown target 'sparc'"),
        cell("cli-bad-emit", ["s.json", "-o", "out", "--emit=bin"], r"Cannot find option named 'bin'"),
        cell("cli-no-output", ["s.json", "--emit=exe"], r"no output file \(-o\)"),
        cell("cli-output-dev-null", ["s.json", "--emit=exe", "-o", "/dev/null"],
             r"/dev/null: exists and is not a regular file"),
        cell("cli-output-folder", ["s.json", "--emit=exe", "-o", "d"], r"d: exists and is not a regular file",
             **{"d/keep": "x"}),
        cell("cli-output-is-input", ["s.json", "--emit=exe", "-o", "s.json"], r"s\.json: is the input s\.json"),
        cell("cli-output-is-weights", ["s.json", "--emit=exe", "-o", "s.safetensors"],
             r"s\.safetensors: is the input .*s\.safetensors"),
        cell("cli-output-no-folder", ["s.json", "--emit=exe", "-o", "no/such/out"], r"no/such"),
        cell("cli-target-cpu-bogus", ["s.json", "--emit=exe", "-o", "out", "--target-cpu=bogus"],
             r"--target-cpu 'bogus' is not a CPU of \S+"),
        cell("cli-target-features-bogus", ["s.json", "--emit=exe", "-o", "out", "--target-features=+avx2,+nonsense"],
             r"--target-features '\+nonsense' is not a feature of \S+"),
        cell("cli-target-features-sign", ["s.json", "--emit=exe", "-o", "out", "--target-features=avx2"],
             r"--target-features 'avx2' must start with \+ or -"),
        cell("cli-quantize-cell", ["s.json", "--emit=exe", "-o", "out", "--quantize=q4"],
             r"cells take --quantize=q8 \(int8 weights with a scale per output\), not q4"),
        Case("cli-lm-output-in-checkpoint", ["LIQUIDC", "m", "-o", "m/config.json"],
             r"m/config\.json: is a file of the input folder m", hf_folder()),
        Case("cli-lm-max-context-0", ["LIQUIDC", "m", "-o", "lm", "--max-context", "0"],
             r"--max-context must be 1\.\.262144 tokens, not 0", hf_folder()),
        Case("cli-lm-max-context-huge", ["LIQUIDC", "m", "-o", "lm", "--max-context", "2147483647"],
             r"--max-context must be 1\.\.262144", hf_folder()),
        Case("cli-lm-max-context-overflow", ["LIQUIDC", "m", "-o", "lm", "--max-context", "99999999999"],
             r"max-context", hf_folder()),
        Case("cli-lm-max-rows", ["LIQUIDC", "m", "-o", "lm", "--max-rows", "5000"],
             r"--max-rows must be 1\.\.4096", hf_folder()),
        Case("cli-lm-quantize-bad", ["LIQUIDC", "m", "-o", "lm", "--quantize=q5"],
             r"--quantize must be none, q8 or q4, not 'q5'", hf_folder()),
        Case("cli-lm-weight-type-bad", ["LIQUIDC", "m", "-o", "lm", "--weight-type=q3"],
             r"--weight-type must be auto, f32, f16, q8 or q4, not 'q3'", hf_folder()),
        Case("cli-lm-lqw-is-dev", ["LIQUIDC", "m", "-o", "lm", "--weights-out", "/dev/null"],
             r"/dev/null: exists and is not a regular file", hf_folder()),
        # ---- ncps specs
        cell("spec-truncated", ["s.json", "-o", "out", "--emit=exe"], r"s\.json: invalid JSON",
             **{"s.json": json.dumps(spec)[:200]}),
        cell("spec-deep", ["s.json", "-o", "out", "--emit=exe"], r"s\.json.*JSON nests deeper than 64 levels",
             **{"s.json": '{"class": ' + deep(100000) + "}"}),
        cell("spec-deep-small", ["s.json", "-o", "out", "--emit=exe"], r"s\.json.*deeper than 64",
             **{"s.json": '{"class": ' + deep(65) + "}"}),
        cell("spec-array", ["s.json", "-o", "out", "--emit=exe"], r"s\.json: spec is not a JSON object",
             **{"s.json": "[1, 2]"}),
        cell("spec-empty", ["s.json", "-o", "out", "--emit=exe"], r"s\.json", **{"s.json": ""}),
        cell("spec-no-class", ["s.json", "-o", "out", "--emit=exe"], r"s\.json: .*'class'",
             **{"s.json": spec_with(**{"class": None})}),
        cell("spec-bad-class", ["s.json", "-o", "out", "--emit=exe"], r"s\.json: .*class",
             **{"s.json": spec_with(**{"class": "GRU"})}),
        cell("spec-class-number", ["s.json", "-o", "out", "--emit=exe"], r"s\.json: .*class",
             **{"s.json": spec_with(**{"class": 7})}),
        cell("spec-input-size-0", ["s.json", "-o", "out", "--emit=exe"], r"s\.json: .*input_size",
             **{"s.json": spec_with(input_size=0)}),
        cell("spec-input-size-negative", ["s.json", "-o", "out", "--emit=exe"], r"s\.json: .*input_size",
             **{"s.json": spec_with(input_size=-8)}),
        cell("spec-input-size-huge", ["s.json", "-o", "out", "--emit=exe"], r"s\.json: .*input_size",
             **{"s.json": spec_with(input_size=10 ** 15)}),
        cell("spec-input-size-float", ["s.json", "-o", "out", "--emit=exe"], r"s\.json: .*input_size",
             **{"s.json": spec_with(input_size=8.5)}),
        cell("spec-units-missing", ["s.json", "-o", "out", "--emit=exe"], r"s\.json: .*units",
             **{"s.json": spec_with(units=None)}),
        cell("spec-units-huge", ["s.json", "-o", "out", "--emit=exe"], r"s\.json: .*units",
             **{"s.json": spec_with(units={"type": "FullyConnected", "args": {"units": 10 ** 12}})}),
        cell("spec-duplicate-key", ["s.json", "-o", "out", "--emit=exe"], r"s\.json: .*duplicate.*class",
             **{"s.json": '{"class": "CfC", ' + json.dumps(spec)[1:]}),
        cell("spec-nul-bytes", ["s.json", "-o", "out", "--emit=exe"], r"s\.json",
             **{"s.json": b"\0" * 64}),
        cell("spec-escape-in-class", ["s.json", "-o", "out", "--emit=exe"], r"s\.json: .*class",
             **{"s.json": spec_with(**{"class": "\x1b]0;pwned\x07\x1b[2J"})}),
        # ---- the spec's safetensors weights
        cell("st-missing", ["s.json", "-o", "out", "--emit=exe"], r"s\.safetensors",
             **{"s.safetensors": None}),
        cell("st-three-bytes", ["s.json", "-o", "out", "--emit=exe"], r"s\.safetensors",
             **{"s.safetensors": b"abc"}),
        cell("st-header-past-end", ["s.json", "-o", "out", "--emit=exe"],
             r"s\.safetensors: .*header length 1099511627776 exceeds",
             **{"s.safetensors": struct.pack("<Q", 1 << 40) + b"{}"}),
        cell("st-header-not-json", ["s.json", "-o", "out", "--emit=exe"],
             r"s\.safetensors: .*malformed header JSON", **{"s.safetensors": safetensors({}, raw_header=b"{nope")}),
        cell("st-header-deep", ["s.json", "-o", "out", "--emit=exe"],
             r"s\.safetensors: .*deeper than 64",
             **{"s.safetensors": safetensors({}, raw_header=('{"a": ' + deep(50000) + "}").encode())}),
        cell("st-header-array", ["s.json", "-o", "out", "--emit=exe"],
             r"s\.safetensors: .*not an object", **{"s.safetensors": safetensors({}, raw_header=b"[]")}),
        cell("st-empty", ["s.json", "-o", "out", "--emit=exe"], r"s\.safetensors",
             **{"s.safetensors": safetensors({})}),
        cell("st-bad-dtype", ["s.json", "-o", "out", "--emit=exe"], r"s\.safetensors: .*dtype",
             **{"s.safetensors": safetensors({"param.rnn_cell.layer_0.ff1.bias": ("Q99", [32], b"\0" * 128)})}),
        cell("st-offsets-past-data", ["s.json", "-o", "out", "--emit=exe"], r"s\.safetensors: .*ff1\.bias",
             **{"s.safetensors": safetensors({"param.rnn_cell.layer_0.ff1.bias": ("F32", [32], b"\0" * 128)},
                                             data=b"\0" * 16)}),
        cell("st-shape-overflow", ["s.json", "-o", "out", "--emit=exe"], r"s\.safetensors: .*ff1\.bias",
             **{"s.safetensors": safetensors({"param.rnn_cell.layer_0.ff1.bias":
                                              ("F32", [2 ** 62, 2 ** 62], b"\0" * 128)})}),
        cell("st-negative-shape", ["s.json", "-o", "out", "--emit=exe"], r"s\.safetensors: .*ff1\.bias",
             **{"s.safetensors": safetensors({"param.rnn_cell.layer_0.ff1.bias": ("F32", [-32], b"\0" * 128)})}),
        cell("st-size-mismatch", ["s.json", "-o", "out", "--emit=exe"], r"s\.safetensors: .*ff1\.bias",
             **{"s.safetensors": safetensors({"param.rnn_cell.layer_0.ff1.bias": ("F32", [32], b"\0" * 100)})}),
        cell("st-wrong-shape", ["s.json", "-o", "out", "--emit=exe"], r"ff1\.weight",
             **{"s.safetensors": safetensors({k: ("F32", [3], b"\0" * 12) for k in
                                              ["param.rnn_cell.layer_0.ff1.weight"]})}),
        cell("st-escape-in-name", ["s.json", "-o", "out", "--emit=exe"], r"s\.safetensors",
             **{"s.safetensors": safetensors({"\x1b[2Jevil": ("F32", [1], b"\0" * 4)})}),
        cell("st-nan-strict", ["s.json", "-o", "out", "--emit=exe", "--strict"],
             r"s\.json: tensor 'rnn_cell\.layer_0\.time_a\.bias' has 1 NaN or infinite value \(the first at element 3\)",
             **{"s.safetensors": with_value(weights, "param.rnn_cell.layer_0.time_a.bias", 3, float("nan"))}),
        cell("st-inf-strict", ["s.json", "-o", "out", "--emit=exe", "--strict"],
             r"s\.json: tensor 'rnn_cell\.layer_0\.ff2\.weight' has 1 NaN or infinite value",
             **{"s.safetensors": with_value(weights, "param.rnn_cell.layer_0.ff2.weight", 0, float("-inf"))}),
        cell("st-weights-override-missing", ["s.json", "-o", "out", "--emit=exe", "--weights", "w.safetensors"],
             r"w\.safetensors"),
        # ---- Hugging Face folders
        Case("hf-no-config", ["LIQUIDC", "m", "-o", "lm"], r"m",
             {"m/model.safetensors": link(os.path.join(hf, "model.safetensors"))}),
        Case("hf-config-malformed", ["LIQUIDC", "m", "-o", "lm"], r"m/config\.json: malformed JSON",
             hf_folder(extra={"m/config.json": "{"})),
        Case("hf-config-deep", ["LIQUIDC", "m", "-o", "lm"], r"m/config\.json: JSON nests deeper",
             hf_folder(extra={"m/config.json": '{"model_type": ' + deep(200000) + "}"})),
        Case("hf-config-not-object", ["LIQUIDC", "m", "-o", "lm"], r"m/config\.json: JSON is not an object",
             hf_folder(extra={"m/config.json": "7"})),
        Case("hf-model-type", ["LIQUIDC", "m", "-o", "lm"], r"m/config\.json.*model_type",
             hf_folder(cfg=config_with(model_type="llama"))),
        Case("hf-negative-context", ["LIQUIDC", "m", "-o", "lm"],
             r"m/config\.json: value -5 out of range \[0, 1099511627776\].*max_position_embeddings",
             hf_folder(cfg=config_with(max_position_embeddings=-5))),
        Case("hf-tokenizer-sparse-ids", ["LIQUIDC", "m", "-o", "lm"],
             r"m/tokenizer\.json: token ids reach 16000000 but only 3 tokens are defined",
             hf_folder(extra={"m/tokenizer.json": json.dumps(
                 {"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": []},
                  "pre_tokenizer": {"type": "ByteLevel"},
                  "added_tokens": [{"id": 16000000, "content": "<x>", "special": True}]})})),
        Case("hf-escape-model-type", ["LIQUIDC", "m", "-o", "lm"], r"m/config\.json.*model_type",
             hf_folder(cfg=config_with(model_type="\x1b]0;pwned\x07"))),
        Case("hf-escape-tensor", ["LIQUIDC", "m", "-o", "lm"], r"m/model\.safetensors",
             hf_folder(st=safetensors({"model.layers.0.\x1b[2J": ("F32", [1], b"\0" * 4)}))),
        Case("hf-escape-dtype", ["LIQUIDC", "m", "-o", "lm"], r"m/model\.safetensors",
             hf_folder(st=safetensors({"model.embed_tokens.weight": ("\x1b[2J", [1], b"\0" * 4)}))),
        Case("hf-nan-strict", ["LIQUIDC", "m", "-o", "lm", "--strict", "--max-context", "64"],
             r"m: tensor 'model\.layers\.1\.feed_forward\.w2\.weight' has 1 NaN or infinite value",
             hf_folder(st=with_value(hf_weights, "model.layers.1.feed_forward.w2.weight", 7, float("nan")))),
        Case("hf-hidden-negative", ["LIQUIDC", "m", "-o", "lm"], r"m/config\.json.*hidden_size",
             hf_folder(cfg=config_with(hidden_size=-256))),
        Case("hf-hidden-string", ["LIQUIDC", "m", "-o", "lm"], r"m/config\.json.*hidden_size",
             hf_folder(cfg=config_with(hidden_size="256"))),
        Case("hf-vocab-huge", ["LIQUIDC", "m", "-o", "lm"], r"m/.*vocab",
             hf_folder(cfg=config_with(vocab_size=10 ** 12))),
        Case("hf-layers-zero", ["LIQUIDC", "m", "-o", "lm"], r"m/config\.json.*num_hidden_layers",
             hf_folder(cfg=config_with(num_hidden_layers=0))),
        Case("hf-heads-mismatch", ["LIQUIDC", "m", "-o", "lm"], r"m/config\.json.*head",
             hf_folder(cfg=config_with(num_attention_heads=3))),
        Case("hf-no-weights", ["LIQUIDC", "m", "-o", "lm"], r"m",
             {"m/config.json": json.dumps(config)}),
        Case("hf-empty-weights", ["LIQUIDC", "m", "-o", "lm"], r"m/model\.safetensors.*not found|tensor",
             hf_folder(st=safetensors({}))),
        Case("hf-truncated-weights", ["LIQUIDC", "m", "-o", "lm"], r"m/model\.safetensors",
             hf_folder(st=b"\x10\0\0\0\0\0\0\0{")),
        # ---- GGUF files
        Case("gguf-magic-only", ["LIQUIDC", "m.gguf", "-o", "lm"], r"m\.gguf", {"m.gguf": b"GGUF"}),
        Case("gguf-version", ["LIQUIDC", "m.gguf", "-o", "lm"], r"m\.gguf.*version", {"m.gguf": gguf(version=99)}),
        Case("gguf-tensor-count-huge", ["LIQUIDC", "m.gguf", "-o", "lm"], r"m\.gguf",
             {"m.gguf": gguf(n_tensors=1 << 60)}),
        Case("gguf-kv-count-huge", ["LIQUIDC", "m.gguf", "-o", "lm"], r"m\.gguf",
             {"m.gguf": gguf(n_kv=1 << 60)}),
        Case("gguf-string-huge", ["LIQUIDC", "m.gguf", "-o", "lm"], r"m\.gguf",
             {"m.gguf": gguf(kvs=[("general.architecture", 8, struct.pack("<Q", 1 << 62) + b"lfm2")])}),
        Case("gguf-bad-kv-type", ["LIQUIDC", "m.gguf", "-o", "lm"], r"m\.gguf",
             {"m.gguf": gguf(kvs=[("general.architecture", 77, b"\0" * 8)])}),
        Case("gguf-array-huge", ["LIQUIDC", "m.gguf", "-o", "lm"], r"m\.gguf",
             {"m.gguf": gguf(kvs=[("x", 9, struct.pack("<I", 4) + struct.pack("<Q", 1 << 61))])}),
        Case("gguf-no-architecture", ["LIQUIDC", "m.gguf", "-o", "lm"], r"m\.gguf.*architecture",
             {"m.gguf": gguf()}),
        Case("gguf-wrong-architecture", ["LIQUIDC", "m.gguf", "-o", "lm"], r"m\.gguf.*llama",
             {"m.gguf": gguf(kvs=[("general.architecture", 8, gstr("llama"))])}),
        Case("gguf-escape-architecture", ["LIQUIDC", "m.gguf", "-o", "lm"], r"m\.gguf.*architecture",
             {"m.gguf": gguf(kvs=[("general.architecture", 8, gstr("\x1b]0;pwned\x07\x1b[2J"))])}),
        Case("gguf-escape-key", ["LIQUIDC", "m.gguf", "-o", "lm"], r"m\.gguf",
             {"m.gguf": gguf(kvs=[("\x1b[2J", 77, b"")])}),
        Case("gguf-escape-tensor", ["LIQUIDC", "m.gguf", "-o", "lm"], r"m\.gguf",
             {"m.gguf": gguf(kvs=[("general.architecture", 8, gstr("lfm2"))],
                             tensors=[("\x1b[2Jx", [4, 4], 999, 0)])}),
        Case("gguf-tensor-dims-huge", ["LIQUIDC", "m.gguf", "-o", "lm"], r"m\.gguf",
             {"m.gguf": gguf(kvs=[("general.architecture", 8, gstr("lfm2"))],
                             tensors=[("token_embd.weight", [1 << 40, 1 << 40], 0, 0)])}),
        Case("gguf-tensor-bad-type", ["LIQUIDC", "m.gguf", "-o", "lm"], r"m\.gguf",
             {"m.gguf": gguf(kvs=[("general.architecture", 8, gstr("lfm2"))],
                             tensors=[("token_embd.weight", [4, 4], 999, 0)])}),
        Case("gguf-truncated-kv", ["LIQUIDC", "m.gguf", "-o", "lm"], r"m\.gguf",
             {"m.gguf": gguf(kvs=[("general.architecture", 8, gstr("lfm2"))])[:-3]}),
        # ---- the cell program
        Case("cell-no-input", ["CELL", "--output", "y.npy"], r"--input"),
        Case("cell-missing-input", ["CELL", "--input", "x.npy", "--output", "y.npy"], r"x\.npy"),
        Case("cell-not-npy", ["CELL", "--input", "x.npy", "--output", "y.npy"], r"x\.npy: not a \.npy file",
             {"x.npy": "hello"}),
        Case("cell-wrong-width", ["CELL", "--input", "x.npy", "--output", "y.npy"],
             r"x\.npy: expected shape \(batch, time, 8\)", {"x.npy": npy((2, 3, 5))}),
        Case("cell-2d-input", ["CELL", "--input", "x.npy", "--output", "y.npy"], r"x\.npy: expected shape",
             {"x.npy": npy((2, 8))}),
        Case("cell-huge-batch", ["CELL", "--input", "x.npy", "--output", "y.npy"],
             r"x\.npy: a batch of 576460752303423488 is more than", {"x.npy": npy((2 ** 59, 0, 8), b"")}),
        Case("cell-big-batch", ["CELL", "--input", "x.npy", "--output", "y.npy"],
             r"x\.npy: a batch of 134217728", {"x.npy": npy((2 ** 27, 0, 8), b"")}),
        Case("cell-long-sequence", ["CELL", "--input", "x.npy", "--output", "y.npy"],
             r"x\.npy: a sequence length", {"x.npy": npy((0, 2 ** 40, 8), b"")}),
        Case("cell-npy-truncated", ["CELL", "--input", "x.npy", "--output", "y.npy"], r"x\.npy: truncated",
             {"x.npy": npy((2, 3, 8))[:-5]}),
        Case("cell-npy-trailing", ["CELL", "--input", "x.npy", "--output", "y.npy"], r"x\.npy: .*trailing",
             {"x.npy": npy((2, 3, 8)) + b"xx"}),
        Case("cell-npy-dtype", ["CELL", "--input", "x.npy", "--output", "y.npy"], r"x\.npy",
             {"x.npy": npy((2, 3, 8), descr="<i8", payload=b"\0" * 8 * 48)}),
        Case("cell-npy-fortran", ["CELL", "--input", "x.npy", "--output", "y.npy"], r"x\.npy",
             {"x.npy": npy((2, 3, 8)).replace(b"'fortran_order': False", b"'fortran_order': True ")}),
        Case("cell-npy-header-huge", ["CELL", "--input", "x.npy", "--output", "y.npy"], r"x\.npy",
             {"x.npy": b"\x93NUMPY\x02\x00" + struct.pack("<I", 1 << 31) + b"{"}),
        Case("cell-input-dev-zero", ["CELL", "--input", "/dev/zero", "--output", "y.npy"], r"/dev/zero"),
        Case("cell-timespans-shape", ["CELL", "--input", "x.npy", "--timespans", "t.npy", "--output", "y.npy"],
             r"t\.npy: .*\[batch, time\]", {"x.npy": x, "t.npy": npy((2, 4))}),
        Case("cell-state-shape", ["CELL", "--input", "x.npy", "--state", "h.npy", "--output", "y.npy"],
             r"h\.npy", {"x.npy": x, "h.npy": npy((2, 31))}),
        Case("cell-output-dev-null", ["CELL", "--input", "x.npy", "--output", "/dev/null"],
             r"/dev/null: exists and is not a regular file", {"x.npy": x}),
        Case("cell-output-folder", ["CELL", "--input", "x.npy", "--output", "d"],
             r"d: exists and is not a regular file", {"x.npy": x, "d/keep": "x"}),
        Case("cell-same-output-twice", ["CELL", "--input", "x.npy", "--output", "y.npy", "--state-out", "y.npy"],
             r"y\.npy: given for two outputs", {"x.npy": x}),
        Case("cell-threads-bad", ["CELL", "--input", "x.npy", "--output", "y.npy", "--threads", "abc"],
             r"--threads", {"x.npy": x}),
        Case("cell-threads-huge", ["CELL", "--input", "x.npy", "--output", "y.npy", "--threads", "100000"],
             r"--threads", {"x.npy": x}),
        Case("cell-unknown-flag", ["CELL", "--frob"], r"--frob"),
        Case("cell-weights-garbage", ["CELL", "--input", "x.npy", "--output", "y.npy", "--weights", "w.lqw"],
             r"w\.lqw", {"x.npy": x, "w.lqw": b"LQWEIGHT" + b"\xff" * 40}),
        Case("cell-weights-flipped", ["CELL_LQW", "--input", "x.npy", "--output", "y.npy", "--weights", "w.lqw"],
             r"w\.lqw: checksum .* does not match", {"x.npy": x, "w.lqw": corrupt_copy("cell-lqw.lqw", 64)}),
        Case("cell-bench-bad", ["CELL", "--bench", "-5"], r"--bench"),
        # ---- the language-model program
        Case("lm-ids-bad", ["LM", "--prompt-ids", "1,x,3"], r"--prompt-ids"),
        Case("lm-ids-out-of-vocab", ["LM", "--prompt-ids", "1,99999"], r"99999"),
        Case("lm-ids-negative", ["LM", "--prompt-ids", "-4"], r"--prompt-ids"),
        Case("lm-ids-past-context", ["LM", "--prompt-ids", ",".join(["1"] * 70)], r"64"),
        Case("lm-prompt-file-dev-zero", ["LM", "--prompt-file", "/dev/zero"], r"/dev/zero: longer than 64 MiB"),
        Case("lm-prompt-file-missing", ["LM", "--prompt-file", "ids.txt"], r"ids\.txt: cannot open"),
        Case("lm-dump-dev-null", ["LM", "--prompt-ids", "1,2", "--dump-logits", "/dev/null"],
             r"/dev/null: exists and is not a regular file"),
        Case("lm-save-state-folder", ["LM", "--prompt-ids", "1,2", "--save-state", "d"],
             r"d: exists and is not a regular file", {"d/keep": "x"}),
        Case("lm-load-state-missing", ["LM", "--prompt-ids", "1,2", "--load-state", "s.bin"], r"s\.bin"),
        Case("lm-load-state-garbage", ["LM", "--prompt-ids", "1,2", "--load-state", "s.bin"], r"s\.bin",
             {"s.bin": b"\x01" * 1000}),
        Case("lm-threads-bad", ["LM", "--prompt-ids", "1,2", "--threads", "x"], r"--threads"),
        Case("lm-n-predict-bad", ["LM", "--prompt-ids", "1,2", "-n", "lots"], r"-n|--n-predict"),
        Case("lm-weights-missing", ["LM", "--prompt-ids", "1,2", "--weights", "w.lqw"], r"w\.lqw"),
        Case("lm-weights-garbage", ["LM", "--prompt-ids", "1,2", "--weights", "w.lqw"], r"w\.lqw",
             {"w.lqw": b"LQWEIGHT" + b"\0" * 100}),
        Case("lm-weights-one-byte-flipped", ["LM", "--prompt-ids", "1,2", "--weights", "w.lqw"],
             r"w\.lqw: checksum .* does not match the header's", {"w.lqw": corrupt_copy("lm.lqw", 5000)}),
        Case("lm-weights-5000-bytes-flipped", ["LM", "--prompt-ids", "1,2", "--weights", "w.lqw"],
             r"w\.lqw: checksum .*\(the file is corrupt", {"w.lqw": corrupt_copy("lm.lqw", 100000, 5000)}),
        Case("lm-weights-tokenizer-flipped", ["LM", "--prompt-ids", "1,2", "--weights", "w.lqw"],
             r"w\.lqw: checksum", {"w.lqw": corrupt_copy("lm.lqw", -1)}),
        Case("lm-bench-bad-list", ["LM", "--bench", "-p", "1,,2"], r"-p"),
        Case("lm-unknown-flag", ["LM", "--frob"], r"--frob"),
        Case("lm-escape-in-ids", ["LM", "--prompt-ids", "\x1b]0;x\x07"], r"--prompt-ids"),
        Case("cell-escape-in-path", ["CELL", "--input", "\x1b[2Jx.npy", "--output", "y.npy"], r"x\.npy"),
    ]
    return cases
