"""A float64 numpy reference forward of LFM2 / LFM2-MoE from an HF folder.

Written from the model equations (docs: ../shared/notes/models.md), not from
liquidc's lowering: embedding, per layer RMSNorm -> short conv or attention
(per-head RMSNorm, NeoX RoPE, causal GQA) -> residual -> RMSNorm -> SwiGLU
feed-forward or the routed experts -> residual, final RMSNorm and the tied or
separate head. The router follows llama.cpp's build_moe_ffn: scores sigmoid
(or softmax), the top-k of score + expert_bias chosen (ties: the lower expert
id), weights = the chosen scores, divided by their sum when normalized, times
routed_scaling_factor.
"""
import json
import os

import numpy as np

from fixtures import load_safetensors


def quantize_rows_q8(x):
    """ggml's Q8_0 activation rule on the rows of x (last dimension a multiple
    of 32): per block d = max|x| / 127 in float32, q = round(x / d) ties away
    from zero, kept as q * d with d in half precision. Returns (the quantized
    x in float64, x / d per block [blocks, 32], d [blocks, 1])."""
    b = np.asarray(x, np.float32).reshape(-1, 32)
    d = np.abs(b).max(1, keepdims=True) / np.float32(127)
    inv = np.where(d != 0, np.float32(1) / np.where(d != 0, d, 1), 0).astype(np.float32)
    v = b * inv
    t = np.trunc(v)
    q = np.where(np.abs(v - t) >= 0.5, t + np.sign(v), t)
    return (q * d.astype(np.float16).astype(np.float64)).reshape(np.shape(x)), v, d


class Lfm2Ref:
    def __init__(self, folder, weights=None, config=None):
        self.c = config or json.load(open(os.path.join(folder, "config.json")))
        self.w = weights or load_safetensors(os.path.join(folder, "model.safetensors"))
        self.w = {k: np.asarray(v, dtype=np.float64) for k, v in self.w.items()}
        c = self.c
        self.H = c["hidden_size"]
        self.eps = c.get("norm_eps", 1e-5)
        self.heads, self.kv = c["num_attention_heads"], c["num_key_value_heads"]
        self.hd = self.H // self.heads
        self.theta = c.get("rope_theta", 1e6)
        self.attn = [t == "full_attention" for t in c["layer_types"]]
        self.moe = c.get("model_type") in ("lfm2_moe", "lfm2moe")
        self.routes = {}  # layer -> [T, k] chosen experts
        self.act_q8 = False  # quantize the products' inputs like ggml's Q8_0 kernels

    def mm(self, x, w):
        """x @ w.T; with act_q8 each row of x is first quantized per block of 32
        (d = max|x| / 127 in float32, kept in half precision; q = roundf(x / d),
        ties away from zero), as llama.cpp does before its Q8_0 dot products."""
        if self.act_q8 and x.shape[-1] % 32 == 0:
            x = quantize_rows_q8(x)[0]
        return x @ w.T

    def rms(self, x, g):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + self.eps) * g

    def conv(self, p, h):
        T, H = h.shape
        bcx = self.mm(h, self.w[p + "conv.in_proj.weight"])
        b, cg, xx = bcx[:, :H], bcx[:, H:2 * H], bcx[:, 2 * H:]
        bx = b * xx
        k = self.w[p + "conv.conv.weight"].reshape(H, -1)
        L = k.shape[1]
        pad = np.concatenate([np.zeros((L - 1, H)), bx])
        y = sum(k[:, j] * pad[j:j + T] for j in range(L))
        return self.mm(cg * y, self.w[p + "conv.out_proj.weight"])

    def rope(self, x):  # x [T, n, hd], NeoX halves
        T, hd = x.shape[0], self.hd
        ang = np.arange(T)[:, None] * self.theta ** (-2.0 * np.arange(hd // 2) / hd)
        cos, sin = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
        a, b = x[..., :hd // 2], x[..., hd // 2:]
        return np.concatenate([a * cos - b * sin, b * cos + a * sin], -1)

    def attention(self, p, h):
        T, hd = h.shape[0], self.hd
        q = self.mm(h, self.w[p + "self_attn.q_proj.weight"]).reshape(T, self.heads, hd)
        k = self.mm(h, self.w[p + "self_attn.k_proj.weight"]).reshape(T, self.kv, hd)
        v = self.mm(h, self.w[p + "self_attn.v_proj.weight"]).reshape(T, self.kv, hd)
        q = self.rope(self.rms(q, self.w[p + "self_attn.q_layernorm.weight"]))
        k = self.rope(self.rms(k, self.w[p + "self_attn.k_layernorm.weight"]))
        rep = self.heads // self.kv
        k, v = np.repeat(k, rep, 1), np.repeat(v, rep, 1)
        s = np.einsum("thd,uhd->htu", q, k) / np.sqrt(hd)
        s = s + np.triu(np.full((T, T), -np.inf), 1)
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        o = np.einsum("htu,uhd->thd", s, v).reshape(T, -1)
        return self.mm(o, self.w[p + "self_attn.out_proj.weight"])

    def swiglu(self, f, w1, w3, w2):
        g = self.mm(f, w1)
        return self.mm(g / (1 + np.exp(-g)) * self.mm(f, w3), w2)

    def route(self, logits, bias):
        """[T, E] router logits -> (chosen [T, k], weights [T, k])."""
        c = self.c
        if c.get("scoring_func", "sigmoid") == "softmax":
            e = np.exp(logits - logits.max(-1, keepdims=True))
            probs = e / e.sum(-1, keepdims=True)
        else:
            probs = 1 / (1 + np.exp(-logits))
        sel = probs + bias
        k = c["num_experts_per_tok"]
        chosen = np.argsort(-sel, axis=-1, kind="stable")[:, :k]
        wts = np.take_along_axis(probs, chosen, -1)
        if c.get("norm_topk_prob", True):
            wts = wts / wts.sum(-1, keepdims=True)
        return chosen, wts * c.get("routed_scaling_factor", 1.0)

    def experts(self, i, p, f):
        E = self.c["num_experts"]
        logits = f @ self.w[p + "gate.weight"].T
        use_bias = self.c.get("use_expert_bias", True) and (p + "expert_bias") in self.w
        chosen, wts = self.route(logits, self.w[p + "expert_bias"] if use_bias else np.zeros(E))
        self.routes[i] = chosen
        y = np.zeros_like(f)
        act_q8, self.act_q8 = self.act_q8, False  # liquidc's expert kernels take float inputs
        for t in range(f.shape[0]):
            for e, wt in zip(chosen[t], wts[t]):
                q = "%sexperts.%d." % (p, e)
                y[t] += wt * self.swiglu(f[t:t + 1], self.w[q + "w1.weight"], self.w[q + "w3.weight"],
                                         self.w[q + "w2.weight"])[0]
        self.act_q8 = act_q8
        return y

    def forward(self, ids):
        """Logits [T, vocab] of the prompt `ids`."""
        x = self.w["model.embed_tokens.weight"][np.asarray(ids)]
        for i, is_attn in enumerate(self.attn):
            p = "model.layers.%d." % i
            h = self.rms(x, self.w[p + "operator_norm.weight"])
            x = x + (self.attention(p, h) if is_attn else self.conv(p, h))
            f = self.rms(x, self.w[p + "ffn_norm.weight"])
            if self.moe and i >= self.c.get("num_dense_layers", 2):
                x = x + self.experts(i, p + "feed_forward.", f)
            else:
                q = p + "feed_forward."
                x = x + self.swiglu(f, self.w[q + "w1.weight"], self.w[q + "w3.weight"], self.w[q + "w2.weight"])
        x = self.rms(x, self.w["model.embedding_norm.weight"])
        head = self.w.get("lm_head.weight", self.w["model.embed_tokens.weight"])
        return self.mm(x, head)


def save_safetensors(path, tensors):
    """Writes {name: float32 array} as a safetensors file."""
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name], dtype=np.float32)
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + a.nbytes]}
        blobs.append(a.tobytes())
        off += a.nbytes
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for b in blobs:
            f.write(b)
