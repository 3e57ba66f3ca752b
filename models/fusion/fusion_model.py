# gst-affect — models/fusion
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The fusion network of issue 6 ("The network" is the contract).

For one face track and a clip of T frames (centre index c = T // 2):

- x_img [D_img]: image feature of frame c; x_m [T, D_m] for the clip
  branches m in (exp, spe, wrd); present[m] in {0, 1} per clip;
- per branch: h_m = GRU_m(x_m) (one layer, hidden H, zero initial state);
  q_m = query_m(x_img); a_m = attn_m(q_m, h_m, h_m);
  u_m = norm1_m(q_m + a_m); c_m = norm2_m(u_m + ffn_m(u_m));
  an absent branch gives c_m = missing_m (a learned vector of size H);
- z = concat(x_img, c_exp, c_spe, c_wrd);
- heads Linear(|z| -> H_mlp), ReLU, Linear(H_mlp -> n): au (12, sigmoid),
  expr (K, softmax), va (2, tanh); any non-empty subset.

The attribute names below are the tensor names of the model file (the C
inference in models/fusion/affect-fusion.c reads them); do not rename them.
"""

import math

import torch
from torch import nn

BRANCHES = ("exp", "spe", "wrd")
TASKS = ("au", "expr", "va")

ABAW_AU_LABELS = ("AU1", "AU2", "AU4", "AU6", "AU7", "AU10", "AU12", "AU15",
                  "AU23", "AU24", "AU25", "AU26")
ABAW_EXPR_LABELS = ("Neutral", "Anger", "Disgust", "Fear", "Happiness",
                    "Sadness", "Surprise", "Other")


class FusionNet(nn.Module):
    """GRU + cross-attention per clip branch, multi-task heads.

    forward() takes img [N, D_img], exp [N, T, D_exp], spe [N, T, D_spe],
    wrd [N, T, D_wrd], present [N, 3] (0/1 or bool, order exp, spe, wrd) and
    returns a dict of raw outputs (logits) for the tasks of the model;
    predict() applies the output activations (sigmoid, softmax, tanh).
    """

    def __init__(self, d_img=256, d_exp=256, d_spe=15, d_wrd=768,
                 hidden=256, heads=8, mlp_hidden=256, clip_len=32,
                 tasks=TASKS, n_au=12, n_expr=8):
        super().__init__()
        tasks = tuple(tasks)
        if not tasks or any(t not in TASKS for t in tasks):
            raise ValueError(f"tasks must be a non-empty subset of {TASKS}")
        if hidden % heads != 0:
            raise ValueError("hidden must be a multiple of heads")
        self.dims = {"img": d_img, "exp": d_exp, "spe": d_spe, "wrd": d_wrd}
        self.hidden = hidden
        self.heads = heads
        self.mlp_hidden = mlp_hidden
        self.clip_len = clip_len
        self.tasks = tuple(t for t in TASKS if t in tasks)
        self.n_out = {"au": n_au, "expr": n_expr, "va": 2}
        H = hidden
        for m in BRANCHES:
            setattr(self, f"gru_{m}",
                    nn.GRU(self.dims[m], H, num_layers=1, batch_first=True))
            setattr(self, f"query_{m}", nn.Linear(d_img, H))
            setattr(self, f"attn_{m}",
                    nn.MultiheadAttention(H, heads, batch_first=True))
            setattr(self, f"norm1_{m}", nn.LayerNorm(H))
            setattr(self, f"ffn_{m}",
                    nn.Sequential(nn.Linear(H, 4 * H), nn.ReLU(),
                                  nn.Linear(4 * H, H)))
            setattr(self, f"norm2_{m}", nn.LayerNorm(H))
            setattr(self, f"missing_{m}",
                    nn.Parameter(torch.randn(H) * 0.02))
        z = d_img + 3 * H
        for t in self.tasks:
            setattr(self, f"head_{t}",
                    nn.Sequential(nn.Linear(z, mlp_hidden), nn.ReLU(),
                                  nn.Linear(mlp_hidden, self.n_out[t])))

    def branch(self, m, img, x):
        """c_m for every sample, as if the branch were present: [N, H]."""
        h, _ = getattr(self, f"gru_{m}")(x)
        q = getattr(self, f"query_{m}")(img).unsqueeze(1)
        a, _ = getattr(self, f"attn_{m}")(q, h, h, need_weights=False)
        u = getattr(self, f"norm1_{m}")(q + a)
        c = getattr(self, f"norm2_{m}")(u + getattr(self, f"ffn_{m}")(u))
        return c.squeeze(1)

    def embed(self, img, exp, spe, wrd, present):
        xs = {"exp": exp, "spe": spe, "wrd": wrd}
        present = present.to(torch.bool)
        parts = [img]
        for i, m in enumerate(BRANCHES):
            c = self.branch(m, img, xs[m])
            missing = getattr(self, f"missing_{m}").unsqueeze(0)
            parts.append(torch.where(present[:, i:i + 1], c,
                                     missing.expand_as(c)))
        return torch.cat(parts, dim=1)

    def forward(self, img, exp, spe, wrd, present):
        z = self.embed(img, exp, spe, wrd, present)
        return {t: getattr(self, f"head_{t}")(z) for t in self.tasks}

    @staticmethod
    def activate(out):
        res = {}
        for t, v in out.items():
            if t == "au":
                res[t] = torch.sigmoid(v)
            elif t == "expr":
                res[t] = torch.softmax(v, dim=-1)
            else:
                res[t] = torch.tanh(v)
        return res

    @torch.no_grad()
    def predict(self, img, exp, spe, wrd, present):
        return self.activate(self.forward(img, exp, spe, wrd, present))

    def config(self):
        return {
            "clip_len": self.clip_len, "hidden": self.hidden,
            "heads": self.heads, "mlp_hidden": self.mlp_hidden,
            "d_img": self.dims["img"], "d_exp": self.dims["exp"],
            "d_spe": self.dims["spe"], "d_wrd": self.dims["wrd"],
            "tasks": list(self.tasks), "n_au": self.n_out["au"],
            "n_expr": self.n_out["expr"],
        }


def centre_index(clip_len):
    return clip_len // 2


def randomize_(model, seed=0, scale=0.3):
    """Random weights everywhere (for parity fixtures): normal * scale,
    LayerNorm weights around 1."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            r = torch.randn(p.shape, generator=g)
            if ".weight" in name and name.startswith("norm"):
                p.copy_(1.0 + 0.2 * r)
            else:
                fan = p.shape[-1] if p.dim() > 1 else 1
                p.copy_(r * scale / math.sqrt(max(fan, 1)) * 2.0
                        if p.dim() > 1 else r * scale)
    return model
