#!/usr/bin/env python3
# gst-affect — tests/golden/fusion
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Make the fusion-network and metric fixtures (run by hand, see README.md).

    python3 -m venv /tmp/fusion/venv
    /tmp/fusion/venv/bin/pip install torch numpy safetensors scikit-learn
    /tmp/fusion/venv/bin/python tests/golden/fusion/make-golden.py

For each config: model-<name>.safetensors (random weights, written by
models/fusion/export.py), inputs-<name>.safetensors (random clips, some
branches absent) and outputs-<name>.safetensors (the PyTorch module's
activated outputs, computed in float64 from the same float32 weights and
inputs). metrics.json: random labels/predictions and the scikit-learn /
numpy metric values.
"""

import json
import os
import sys

import numpy as np
import torch
from safetensors.torch import save_file
from sklearn.metrics import f1_score

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "models", "fusion"))

import metrics  # noqa: E402
from export import save_model  # noqa: E402
from fusion_model import FusionNet, randomize_  # noqa: E402

FEATURES = "golden-test-features"

CONFIGS = {
    # all heads, 8 expression classes
    "all": dict(d_img=10, d_exp=7, d_spe=5, d_wrd=9, hidden=16, heads=2,
                mlp_hidden=12, clip_len=6, tasks=("au", "expr", "va"),
                n_expr=8, n=7, drop_wrd=False),
    # a subset of heads (expr with 7 classes, va), wrd absent in every clip
    # (and left out of the input file)
    "subset": dict(d_img=8, d_exp=6, d_spe=4, d_wrd=5, hidden=12, heads=3,
                   mlp_hidden=10, clip_len=5, tasks=("expr", "va"),
                   n_expr=7, n=6, drop_wrd=True),
    # hidden 32, 4 heads
    "h32": dict(d_img=12, d_exp=8, d_spe=6, d_wrd=10, hidden=32, heads=4,
                mlp_hidden=16, clip_len=4, tasks=("au", "expr", "va"),
                n_expr=8, n=5, drop_wrd=False),
    # clip length 8, AU head only
    "clip8": dict(d_img=6, d_exp=5, d_spe=3, d_wrd=4, hidden=8, heads=2,
                  mlp_hidden=8, clip_len=8, tasks=("au",), n_expr=8, n=6,
                  drop_wrd=False),
}


def make_config(name, cfg, seed):
    torch.manual_seed(seed)
    kw = {k: v for k, v in cfg.items() if k not in ("n", "drop_wrd")}
    model = FusionNet(**kw)
    randomize_(model, seed=seed)
    model.eval()
    save_model(model, os.path.join(HERE, f"model-{name}.safetensors"),
               features=FEATURES)

    g = torch.Generator().manual_seed(seed + 100)
    n, t = cfg["n"], cfg["clip_len"]
    inputs = {
        "img": torch.randn(n, cfg["d_img"], generator=g),
        "exp": torch.randn(n, t, cfg["d_exp"], generator=g),
        "spe": torch.randn(n, t, cfg["d_spe"], generator=g),
        "wrd": torch.randn(n, t, cfg["d_wrd"], generator=g),
    }
    present = (torch.rand(n, 3, generator=g) > 0.35).float()
    present[0] = 1.0            # one clip with everything
    present[1] = 0.0            # one clip with no clip branch at all
    if cfg["drop_wrd"]:
        present[:, 2] = 0.0
    # frames without data inside a present clip are zeros
    inputs["exp"][2, : t // 2] = 0.0
    inputs["present"] = present
    if cfg["drop_wrd"]:
        inputs["wrd"] = torch.zeros(n, t, cfg["d_wrd"])
    with torch.no_grad():
        m64 = FusionNet(**kw).double()
        m64.load_state_dict({k: v.double() for k, v in
                             model.state_dict().items()})
        m64.eval()
        out = m64.predict(inputs["img"].double(), inputs["exp"].double(),
                          inputs["spe"].double(), inputs["wrd"].double(),
                          inputs["present"])
        out32 = model.predict(inputs["img"], inputs["exp"], inputs["spe"],
                              inputs["wrd"], inputs["present"])
    for k in out:
        d = (out[k].float() - out32[k]).abs().max().item()
        print(f"{name}/{k}: float32 vs float64 PyTorch max |d| = {d:.2e}")
    saved = dict(inputs)
    if cfg["drop_wrd"]:
        del saved["wrd"]
    save_file({k: v.contiguous() for k, v in saved.items()},
              os.path.join(HERE, f"inputs-{name}.safetensors"),
              metadata={"features": FEATURES})
    save_file({k: v.float().contiguous() for k, v in out.items()},
              os.path.join(HERE, f"outputs-{name}.safetensors"))


def ccc_np(x, y):
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    cov = np.mean((x - x.mean()) * (y - y.mean()))
    return 2 * cov / (x.var() + y.var() + (x.mean() - y.mean()) ** 2)


def make_metrics(seed=7):
    rng = np.random.default_rng(seed)
    n, n_au, k = 60, 12, 8
    au_labels = (rng.random((n, n_au)) < 0.3).astype(np.int64)
    au_labels[rng.random((n, n_au)) < 0.1] = -1
    au_labels[:, 11] = 0                      # an AU that never occurs
    au_probs = np.round(rng.random((n, n_au)), 4).astype(np.float32)
    au_probs[:, 11] = 0.1                     # ... and is never predicted
    au_probs[3, 0] = 0.5                      # the threshold itself is active
    expr_labels = rng.integers(0, k - 1, n)   # class 7 never labelled
    expr_labels[rng.random(n) < 0.1] = -1
    expr_pred = rng.integers(0, k, n)
    va_labels = np.round(rng.uniform(-1, 1, (n, 2)), 4).astype(np.float32)
    va_labels[rng.random((n, 2)) < 0.1] = -5.0
    va_pred = np.round(np.clip(0.6 * va_labels + rng.normal(0, 0.4, (n, 2)),
                               -1, 1), 4).astype(np.float32)

    per_au = []
    for j in range(n_au):
        keep = au_labels[:, j] >= 0
        per_au.append(f1_score(au_labels[keep, j],
                               (au_probs[keep, j] >= 0.5).astype(int),
                               labels=[1], average="binary", pos_label=1,
                               zero_division=0))
    keep = expr_labels >= 0
    per_cls = f1_score(expr_labels[keep], expr_pred[keep],
                       labels=list(range(k)), average=None,
                       zero_division=0)
    macro = f1_score(expr_labels[keep], expr_pred[keep],
                     labels=list(range(k)), average="macro",
                     zero_division=0)
    cccs = []
    for j in range(2):
        kv = va_labels[:, j] != -5.0
        cccs.append(ccc_np(va_pred[kv, j], va_labels[kv, j]))
    res = {
        "au_f1": float(np.mean(per_au)), "au_f1_per": [float(v) for v in
                                                       per_au],
        "expr_f1": float(macro), "expr_f1_per": [float(v) for v in per_cls],
        "ccc_v": float(cccs[0]), "ccc_a": float(cccs[1]),
        "ccc_mean": float(np.mean(cccs)),
    }
    res["total"] = res["au_f1"] + res["expr_f1"] + res["ccc_mean"]

    # models/fusion/metrics.py must agree with scikit-learn too
    ours = metrics.evaluate({"au": au_labels, "expr": expr_labels,
                             "va": va_labels},
                            {"au": au_probs, "expr": expr_pred,
                             "va": va_pred}, k)
    for key in ("au_f1", "expr_f1", "ccc_v", "ccc_a", "ccc_mean", "total"):
        assert abs(ours[key] - res[key]) < 1e-12, (key, ours[key], res[key])

    doc = {
        "_comment": "Random labels and predictions; metric values from "
                    "scikit-learn f1_score (zero_division=0) and CCC in "
                    "numpy (population moments). Made by make-golden.py.",
        "n": n, "n_au": n_au, "n_expr": k,
        "au_labels": au_labels.ravel().tolist(),
        "au_probs": [float(v) for v in au_probs.ravel()],
        "expr_labels": expr_labels.tolist(),
        "expr_pred": expr_pred.tolist(),
        "va_labels": [float(v) for v in va_labels.ravel()],
        "va_pred": [float(v) for v in va_pred.ravel()],
        "expected": res,
    }
    with open(os.path.join(HERE, "metrics.json"), "w") as f:
        json.dump(doc, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print("metrics:", json.dumps(res))


def main():
    torch.set_default_dtype(torch.float32)
    for i, (name, cfg) in enumerate(CONFIGS.items()):
        make_config(name, cfg, seed=10 + i)
    make_metrics()


if __name__ == "__main__":
    main()
