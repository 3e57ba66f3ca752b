#!/usr/bin/env python3
# gst-affect — tests/e2e
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Data and training side of the end-to-end test (issue 6 item 6).

    python e2e_train.py --out DIR [--dims synthetic|plugin] [options]

1. Makes synthetic face tracks: per frame an image feature, an expression,
   a speech and a word feature (each branch missing on some frames, the
   speech and word branches on whole stretches), and labels with a planted
   signal: the 12 AUs, the expression class (8) and valence/arousal of
   frame t are functions of the image feature of frame t and of the
   expression features of frames t+1 and t+2, plus noise (the AUs mostly
   of the image feature).
2. Cuts the training tracks into clips exactly as `affectfuse` builds its
   centred windows: frames [t - T//2, t + T - T//2), zeros for frames
   outside the track or without the branch, a branch present when any
   frame of the clip has it, the image feature of frame t; one clip per
   frame that has an image feature. Writes them as the clips file of
   models/fusion/train.py.
3. Trains with models/fusion/train.py (the recipe; a small network, a few
   epochs, 2 threads), then writes the model file with export.py.
4. Writes heldout.safetensors: a held-out stream of frames with several
   tracks (the layout below), its labels, and the predictions of the
   exported model computed here with PyTorch on centred and on causal
   clips (the reference for the element).

Held-out file (F frames, K track slots; track id = slot + 1):
  on [F, K] U8 (the track has a features meta on the frame),
  has [F, K, 4] U8 (branch img, exp, spe, wrd present),
  img [F, K, D_img], exp/spe/wrd [F, K, D_m] F32 (zeros when absent),
  au_label [F, K, 12] I32, expr_label [F, K] I32, va_label [F, K, 2] F32
  (-1 / -1 / -5 = no label), ref_{centred,causal}_{au,expr,va} F32
  (zeros where there is no prediction); metadata: features, clip_len.

With --dims plugin the sizes are those of affectfeatures (256, 256, 16,
384) and the features value is the plugin's default: the model is then
run in a gst-launch pipeline by run-e2e.sh (no held-out file is needed;
the training set is smaller, it only has to be a model of the recipe).
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
FUSION = os.path.join(HERE, "..", "..", "models", "fusion")
sys.path.insert(0, FUSION)

import torch  # noqa: E402
from safetensors import safe_open  # noqa: E402
from safetensors.numpy import save_file  # noqa: E402

from export import DEFAULT_FEATURES  # noqa: E402
from fusion_model import FusionNet  # noqa: E402

N_AU = 12
N_EXPR = 8
BRANCHES = ("img", "exp", "spe", "wrd")
# the expression frames that carry signal for frame t: t+1 and t+2 (inside
# the centred clip, outside the causal one)
EXP_OFFSETS = (1, 2)
N_SIG = 4  # signal components taken from each source


class Planted:
    """The hidden rule from features to labels (random, fixed by seed)."""

    def __init__(self, rng):
        d = 2 * N_SIG
        self.w_au = rng.standard_normal((d, N_AU)) / np.sqrt(d)
        # AUs are states of the face in the frame: mostly the image part
        self.w_au[:N_SIG] *= 1.5
        self.w_au[N_SIG:] *= 0.5
        # sparse AUs (as in real data), positive rates about 10 to 45 %
        self.b_au = rng.uniform(-1.6, -0.2, N_AU)
        self.w_ex = rng.standard_normal((d, N_EXPR)) / np.sqrt(d)
        self.w_va = rng.standard_normal((d, 2)) / np.sqrt(d)

    def signal(self, img, exp, has_exp, t):
        """s(t): image part and the mean expression part, [2 * N_SIG]."""
        n = img.shape[0]
        e = np.zeros(N_SIG)
        for o in EXP_OFFSETS:
            k = t + o
            if 0 <= k < n and has_exp[k]:
                e += exp[k, :N_SIG]
        e *= 2.0 / len(EXP_OFFSETS)
        return np.concatenate([img[t, :N_SIG], e])

    def labels(self, s, rng, noise=0.25):
        au = ((s @ self.w_au + self.b_au
               + noise * rng.standard_normal(N_AU)) > 0).astype(np.int32)
        expr = int(np.argmax(s @ self.w_ex
                             + noise * rng.standard_normal(N_EXPR)))
        va = np.tanh(1.2 * (s @ self.w_va)
                     + noise * rng.standard_normal(2)).astype(np.float32)
        return au, expr, va


def make_track(n, dims, rng, words):
    """Features and presence of one track of n frames."""
    feats = {b: rng.standard_normal((n, dims[b])).astype(np.float32)
             for b in BRANCHES}
    has = np.ones((n, 4), dtype=bool)
    has[:, 0] = rng.random(n) > 0.05          # image: a few frames without
    has[:, 1] = rng.random(n) > 0.1           # expression: 10 % missing
    # speech in stretches of 12 frames, 2 of 3 stretches present
    has[:, 2] = ((np.arange(n) + rng.integers(12)) // 12) % 3 != 0
    has[:, 3] = words & (rng.random(n) > 0.3)
    for i, b in enumerate(BRANCHES):
        feats[b][~has[:, i]] = 0.0
    return feats, has


def track_labels(rule, feats, has, rng, p_missing=0.1):
    n = has.shape[0]
    au = np.full((n, N_AU), -1, dtype=np.int32)
    expr = np.full(n, -1, dtype=np.int32)
    va = np.full((n, 2), -5.0, dtype=np.float32)
    for t in range(n):
        s = rule.signal(feats["img"], feats["exp"], has[:, 1], t)
        a, e, v = rule.labels(s, rng)
        if rng.random() >= p_missing:
            au[t] = a
        if rng.random() >= p_missing:
            expr[t] = e
        if rng.random() >= p_missing:
            va[t] = v
    return au, expr, va


def clip(feats, has, t, clip_len, centred):
    """The clip of frame t as affectfuse builds it."""
    n = has.shape[0]
    start = t - clip_len // 2 if centred else t - clip_len + 1
    out = {}
    present = np.zeros(3, dtype=np.float32)
    for i, b in enumerate(BRANCHES[1:]):
        x = np.zeros((clip_len, feats[b].shape[1]), dtype=np.float32)
        for j in range(clip_len):
            k = start + j
            if 0 <= k < n and has[k, i + 1]:
                x[j] = feats[b][k]
                present[i] = 1.0
        out[b] = x
    out["img"] = feats["img"][t]
    out["present"] = present
    return out


def training_clips(rule, dims, n_tracks, n_frames, clip_len, rng):
    cols = {k: [] for k in ("img", "exp", "spe", "wrd", "present",
                            "au_label", "expr_label", "va_label", "video")}
    for v in range(n_tracks):
        feats, has = make_track(n_frames, dims, rng, words=v % 3 == 0)
        au, expr, va = track_labels(rule, feats, has, rng)
        for t in range(n_frames):
            if not has[t, 0]:
                continue
            c = clip(feats, has, t, clip_len, centred=True)
            for k in ("img", "exp", "spe", "wrd", "present"):
                cols[k].append(c[k])
            cols["au_label"].append(au[t])
            cols["expr_label"].append(expr[t])
            cols["va_label"].append(va[t])
            cols["video"].append(v)
    data = {k: np.stack(v) for k, v in cols.items()}
    data["au_label"] = data["au_label"].astype(np.int32)
    data["expr_label"] = data["expr_label"].astype(np.int32)
    data["video"] = data["video"].astype(np.int32)
    return data


# Held-out stream: (first frame, end frame, frames without the track)
HELDOUT_TRACKS = ((0, 160, ()), (12, 130, (40, 41, 42)), (0, 70, ()),
                  (60, 160, (100,)))
HELDOUT_FRAMES = 160


def heldout_stream(rule, dims, rng):
    f_n, k_n = HELDOUT_FRAMES, len(HELDOUT_TRACKS)
    st = {"on": np.zeros((f_n, k_n), np.uint8),
          "has": np.zeros((f_n, k_n, 4), np.uint8),
          "au_label": np.full((f_n, k_n, N_AU), -1, np.int32),
          "expr_label": np.full((f_n, k_n), -1, np.int32),
          "va_label": np.full((f_n, k_n, 2), -5.0, np.float32)}
    for b in BRANCHES:
        st[b] = np.zeros((f_n, k_n, dims[b]), np.float32)
    tracks = []
    for k, (first, end, gaps) in enumerate(HELDOUT_TRACKS):
        feats, has = make_track(f_n, dims, rng, words=k == 1)
        on = np.zeros(f_n, dtype=bool)
        on[first:end] = True
        on[list(gaps)] = False
        has &= on[:, None]
        for i, b in enumerate(BRANCHES):
            feats[b][~has[:, i]] = 0.0
        au, expr, va = track_labels(rule, feats, has, rng)
        st["on"][:, k] = on
        st["has"][:, k] = has
        for b in BRANCHES:
            st[b][:, k] = feats[b]
        keep = has[:, 0]  # labels only where a prediction is expected
        st["au_label"][keep, k] = au[keep]
        st["expr_label"][keep, k] = expr[keep]
        st["va_label"][keep, k] = va[keep]
        tracks.append((feats, has))
    return st, tracks


def load_model(path):
    with safe_open(path, framework="pt") as f:
        md = f.metadata()
        sd = {k: f.get_tensor(k) for k in f.keys()}
    model = FusionNet(
        d_img=int(md["d_img"]), d_exp=int(md["d_exp"]),
        d_spe=int(md["d_spe"]), d_wrd=int(md["d_wrd"]),
        hidden=int(md["hidden"]), heads=int(md["heads"]),
        mlp_hidden=int(md["mlp_hidden"]), clip_len=int(md["clip_len"]),
        tasks=md["tasks"].split(","), n_expr=len(md["expr_labels"].split(",")))
    model.load_state_dict(sd)
    model.eval()
    return model, md


def reference(model, st, tracks, clip_len, centred):
    f_n, k_n = st["on"].shape
    ref = {"au": np.zeros((f_n, k_n, N_AU), np.float32),
           "expr": np.zeros((f_n, k_n, N_EXPR), np.float32),
           "va": np.zeros((f_n, k_n, 2), np.float32)}
    for k, (feats, has) in enumerate(tracks):
        idx = [t for t in range(f_n) if has[t, 0]]
        cs = [clip(feats, has, t, clip_len, centred) for t in idx]
        batch = {b: torch.from_numpy(np.stack([c[b] for c in cs]))
                 for b in ("img", "exp", "spe", "wrd", "present")}
        out = model.predict(batch["img"], batch["exp"], batch["spe"],
                            batch["wrd"], batch["present"])
        for task in ref:
            ref[task][idx, k] = out[task].numpy()
    return ref


def heldout_metrics(st):
    """The metrics of the PyTorch reference predictions (for the log; the C
    test computes its own from what the element outputs)."""
    import metrics

    keep = st["has"][:, :, 0].astype(bool)
    labels = {"au": st["au_label"][keep], "expr": st["expr_label"][keep],
              "va": st["va_label"][keep]}
    res = {}
    for name in ("centred", "causal"):
        preds = {t: st[f"ref_{name}_{t}"][keep] for t in ("au", "expr", "va")}
        m = metrics.evaluate(labels, preds, N_EXPR)
        res[name] = {k: round(float(m[k]), 3)
                     for k in ("au_f1", "expr_f1", "ccc_mean", "total")}
    return res


def run(cmd):
    print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
    subprocess.run(cmd, check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--dims", choices=("synthetic", "plugin"),
                    default="synthetic")
    ap.add_argument("--clip-len", type=int, default=6)
    ap.add_argument("--tracks", type=int, default=0,
                    help="training tracks (default: 30, plugin: 8)")
    ap.add_argument("--frames", type=int, default=60,
                    help="frames per training track")
    ap.add_argument("--hidden", type=int, default=16)
    ap.add_argument("--heads", type=int, default=2)
    ap.add_argument("--mlp-hidden", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=0,
                    help="default: 20, plugin: 1")
    ap.add_argument("--lr", type=float, default=0.03)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    plugin = args.dims == "plugin"
    if plugin:
        dims = {"img": 256, "exp": 256, "spe": 16, "wrd": 384}
        features = DEFAULT_FEATURES
    else:
        dims = {"img": 16, "exp": 12, "spe": 6, "wrd": 8}
        features = "e2e-synthetic:" + ",".join(
            f"{b}={dims[b]}" for b in BRANCHES)
    n_tracks = args.tracks or (8 if plugin else 30)
    epochs = args.epochs or (1 if plugin else 20)
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    rule = Planted(rng)
    torch.set_num_threads(args.threads)

    t0 = time.monotonic()
    data = training_clips(rule, dims, n_tracks, args.frames, args.clip_len,
                          rng)
    clips_path = os.path.join(args.out, "clips.safetensors")
    save_file(data, clips_path, metadata={"features": features})
    t1 = time.monotonic()
    run_dir = os.path.join(args.out, "run")
    run([sys.executable, os.path.join(FUSION, "train.py"),
         "--data", clips_path, "-o", run_dir, "--fold", "none",
         "--hidden", str(args.hidden), "--heads", str(args.heads),
         "--mlp-hidden", str(args.mlp_hidden), "--epochs", str(epochs),
         "--restart-epochs", str(epochs), "--lr", str(args.lr),
         "--threads", str(args.threads), "--seed", str(args.seed)])
    t2 = time.monotonic()
    model_path = os.path.join(args.out, "model.safetensors")
    run([sys.executable, os.path.join(FUSION, "export.py"),
         os.path.join(run_dir, "all.pt"), "-o", model_path])
    model, md = load_model(model_path)
    if md["features"] != features:
        raise SystemExit(f"{model_path}: features {md['features']!r}, "
                         f"expected {features!r}")
    report = {"clips": int(data["img"].shape[0]), "epochs": epochs,
              "data_s": round(t1 - t0, 2), "train_s": round(t2 - t1, 2),
              "model": model_path, "features": features}

    if not plugin:
        st, tracks = heldout_stream(rule, dims, rng)
        for centred, name in ((True, "centred"), (False, "causal")):
            ref = reference(model, st, tracks, args.clip_len, centred)
            for task, v in ref.items():
                st[f"ref_{name}_{task}"] = v
        save_file(st, os.path.join(args.out, "heldout.safetensors"),
                  metadata={"features": features,
                            "clip_len": str(args.clip_len)})
        report["heldout"] = os.path.join(args.out, "heldout.safetensors")
        report["pytorch_metrics"] = heldout_metrics(st)
    report["total_s"] = round(time.monotonic() - t0, 2)
    with open(os.path.join(args.out, "report.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report), file=sys.stderr)


if __name__ == "__main__":
    main()
