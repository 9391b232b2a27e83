"""A small GGUF reader for the sweep's oracle: every tensor of a file,
dequantized exactly (float64) from the block layouts ggml documents (F32,
F16, BF16, Q8_0, Q4_K, Q6_K), keyed by the Hugging Face name the LFM2
importer gives it. Independent of liquidc's reader (a test's second opinion).
"""
import struct

import numpy as np

# GGUF metadata value types -> struct format (8 string, 9 array)
_SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
           10: "<Q", 11: "<q", 12: "<d"}
# ggml tensor types: (name, values a block, bytes a block)
_TYPES = {0: ("F32", 1, 4), 1: ("F16", 1, 2), 8: ("Q8_0", 32, 34), 12: ("Q4_K", 256, 144),
          14: ("Q6_K", 256, 210), 30: ("BF16", 1, 2)}

_LAYER = {"attn_norm.weight": "operator_norm.weight", "ffn_norm.weight": "ffn_norm.weight",
          "shortconv.conv.weight": "conv.conv.weight",
          "shortconv.in_proj.weight": "conv.in_proj.weight",
          "shortconv.out_proj.weight": "conv.out_proj.weight",
          "attn_q.weight": "self_attn.q_proj.weight", "attn_k.weight": "self_attn.k_proj.weight",
          "attn_v.weight": "self_attn.v_proj.weight",
          "attn_output.weight": "self_attn.out_proj.weight",
          "attn_q_norm.weight": "self_attn.q_layernorm.weight",
          "attn_k_norm.weight": "self_attn.k_layernorm.weight",
          "ffn_gate.weight": "feed_forward.w1.weight", "ffn_up.weight": "feed_forward.w3.weight",
          "ffn_down.weight": "feed_forward.w2.weight"}
_TOP = {"token_embd.weight": "model.embed_tokens.weight",
        "token_embd_norm.weight": "model.embedding_norm.weight",
        "output_norm.weight": "model.embedding_norm.weight", "output.weight": "lm_head.weight"}


def hf_name(name):
    if name in _TOP:
        return _TOP[name]
    parts = name.split(".", 2)
    if parts[0] == "blk" and len(parts) == 3 and parts[2] in _LAYER:
        return f"model.layers.{parts[1]}.{_LAYER[parts[2]]}"
    raise ValueError(f"gguf_np: no Hugging Face name for tensor '{name}'")


class _Reader:
    def __init__(self, data):
        self.d, self.p = data, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.d, self.p)[0]
        self.p += struct.calcsize(fmt)
        return v

    def string(self):
        n = self.take("<Q")
        s = bytes(self.d[self.p:self.p + n]).decode("utf-8")
        self.p += n
        return s

    def value(self, t):
        if t == 8:
            return self.string()
        if t == 9:
            et, n = self.take("<I"), self.take("<Q")
            return [self.value(et) for _ in range(n)]
        return self.take(_SCALAR[t])


def _f16(b):
    """Little-endian halves (a column of 2-byte slices, or a flat run) as float64, flat."""
    return np.ascontiguousarray(b).view("<f2").astype(np.float64).reshape(-1)


def _q8_0(raw):
    b = raw.reshape(-1, 34)
    return (_f16(b[:, :2].copy()).reshape(-1, 1) * b[:, 2:].view(np.int8)).reshape(-1)


def _scale_min_k4(s):
    """The 8 six-bit scales and mins of each Q4_K block's 12 scale bytes."""
    s = s.astype(np.int64)
    sc, mn = np.empty((len(s), 8), np.int64), np.empty((len(s), 8), np.int64)
    sc[:, :4], mn[:, :4] = s[:, 0:4] & 63, s[:, 4:8] & 63
    sc[:, 4:] = (s[:, 8:12] & 0xF) | ((s[:, 0:4] >> 6) << 4)
    mn[:, 4:] = (s[:, 8:12] >> 4) | ((s[:, 4:8] >> 6) << 4)
    return sc, mn


def _q4_k(raw):
    b = raw.reshape(-1, 144)
    d, dmin = _f16(b[:, 0:2].copy()), _f16(b[:, 2:4].copy())
    sc, mn = _scale_min_k4(b[:, 4:16])
    qs = b[:, 16:].reshape(-1, 4, 32).astype(np.int64)        # 4 chunks of 64 values
    q = np.stack([qs & 0xF, qs >> 4], axis=2).reshape(-1, 8, 32)  # sub-block 2j: low, 2j+1: high
    y = d[:, None, None] * sc[:, :, None] * q - dmin[:, None, None] * mn[:, :, None]
    return y.reshape(-1)


def _q6_k(raw):
    b = raw.reshape(-1, 210)
    ql, qh = b[:, :128].astype(np.int64), b[:, 128:192].astype(np.int64)
    sc, d = b[:, 192:208].view(np.int8).astype(np.int64), _f16(b[:, 208:210].copy())
    y = np.empty((len(b), 256))
    for n in range(2):                                       # two halves of 128 values
        l, h, s = ql[:, 64 * n:64 * n + 64], qh[:, 32 * n:32 * n + 32], sc[:, 8 * n:8 * n + 8]
        quarters = [(l[:, :32] & 0xF) | ((h & 3) << 4), (l[:, 32:] & 0xF) | (((h >> 2) & 3) << 4),
                    (l[:, :32] >> 4) | (((h >> 4) & 3) << 4), (l[:, 32:] >> 4) | (((h >> 6) & 3) << 4)]
        for i, qv in enumerate(quarters):                    # values 32i .. 32i + 31 of the half
            scale = np.repeat(s[:, 2 * i:2 * i + 2], 16, axis=1)  # a scale per 16
            y[:, 128 * n + 32 * i:128 * n + 32 * i + 32] = d[:, None] * scale * (qv - 32)
    return y.reshape(-1)


def _decode(ty, raw, n):
    name = _TYPES[ty][0]
    if name == "F32":
        return raw.view("<f4").astype(np.float64)
    if name == "F16":
        return _f16(raw)
    if name == "BF16":
        return (raw.view("<u2").astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    return {"Q8_0": _q8_0, "Q4_K": _q4_k, "Q6_K": _q6_k}[name](raw)


def load(path):
    """{hf name: (float64 array in GGUF's row-major order, ggml type name)}."""
    data = np.fromfile(path, np.uint8)
    r = _Reader(data)
    if bytes(data[:4]) != b"GGUF":
        raise ValueError(f"{path}: not a GGUF file")
    r.p = 4
    r.take("<I")                                            # version
    nt, nkv = r.take("<Q"), r.take("<Q")
    align = 32
    for _ in range(nkv):
        key, t = r.string(), r.take("<I")
        v = r.value(t)
        if key == "general.alignment":
            align = int(v)
    infos = []
    for _ in range(nt):
        name, nd = r.string(), r.take("<I")
        dims = [r.take("<Q") for _ in range(nd)]
        infos.append((name, dims, r.take("<I"), r.take("<Q")))
    base = (r.p + align - 1) // align * align
    out = {}
    for name, dims, ty, off in infos:
        if ty not in _TYPES:
            raise ValueError(f"{path}: tensor '{name}' has ggml type {ty}, which gguf_np cannot read")
        n = int(np.prod(dims))
        _, per, nbytes = _TYPES[ty]
        raw = data[base + off:base + off + n // per * nbytes].copy()
        out[hf_name(name)] = (_decode(ty, raw, n), _TYPES[ty][0])
    return out
