#!/usr/bin/env python3
"""Trains the bundled example: a CfC (ncps semantics and state_dict names) that
predicts the next sample of a noisy oscillation, so that run closed-loop it
continues the wave. Writes oscillator.safetensors (the spec is oscillator.json).
Needs python3-torch (Debian); the trained weights are committed, so users do
not need to run this.
"""
import json, math, struct
import numpy as np
import torch
from torch import nn

torch.manual_seed(7)
H, BB = 16, 32  # units, backbone units


class CfC(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn_cell = nn.Module()
        c = self.rnn_cell
        c.backbone = nn.Sequential(nn.Linear(1 + H, BB))
        c.ff1, c.ff2, c.time_a, c.time_b = (nn.Linear(BB, H) for _ in range(4))
        self.fc = nn.Linear(H, 1)

    def step(self, x, h, ts=1.0):
        c = self.rnn_cell
        z = c.backbone(torch.cat([x, h], 1))
        z = 1.7159 * torch.tanh(0.666 * z)                      # lecun_tanh
        f1, f2 = torch.tanh(c.ff1(z)), torch.tanh(c.ff2(z))
        t = torch.sigmoid(c.time_a(z) * ts + c.time_b(z))
        h = f1 * (1 - t) + t * f2                               # mode "default"
        return self.fc(h), h


def batch(n, T):
    t = torch.arange(T + 1, dtype=torch.float32)
    w = 0.15 + 0.1 * torch.rand(n, 1)
    phi = 2 * math.pi * torch.rand(n, 1)
    a = 0.6 + 0.4 * torch.rand(n, 1)
    clean = a * torch.sin(w * t + phi)
    noisy = clean + 0.08 * torch.randn_like(clean)
    return noisy[:, :-1], clean[:, 1:]


m = CfC()
opt = torch.optim.Adam(m.parameters(), lr=3e-3)
for it in range(1500):
    x, y = batch(64, 80)
    h = torch.zeros(64, H)
    loss = 0
    for k in range(x.shape[1]):
        p, h = m.step(x[:, k:k + 1], h)
        loss = loss + ((p[:, 0] - y[:, k]) ** 2).mean()
    loss = loss / x.shape[1]
    opt.zero_grad(); loss.backward(); opt.step()
    if it % 100 == 0:
        print("iter %d loss %.5f" % (it, loss.item()), flush=True)

sd = {k: v.detach().numpy().astype(np.float32) for k, v in m.state_dict().items()}
header, blob = {}, b""
for k in sorted(sd):
    a = np.ascontiguousarray(sd[k])
    header[k] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [len(blob), len(blob) + a.nbytes]}
    blob += a.tobytes()
hj = json.dumps(header).encode()
hj += b" " * ((8 - len(hj) % 8) % 8)
open("oscillator.safetensors", "wb").write(struct.pack("<Q", len(hj)) + hj + blob)
print("final loss %.5f" % loss.item())
