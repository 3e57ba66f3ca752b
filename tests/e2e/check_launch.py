#!/usr/bin/env python3
# gst-affect — tests/e2e
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks the output of the gst-launch-1.0 run of run-e2e.sh (launch).

    python check_launch.py --model M --frames N --size WxH \
        --with PREFIX --without PREFIX

PREFIX.jsonl is what affectsink (features=true) wrote, PREFIX.rgb the raw
RGB frames affectoverlay drew on; "with" ran affectfuse model=M, "without"
had no affectfuse. Checks:

- every frame is in the JSONL; some faces were found;
- with the model: every face with an image feature carries "au" (the
  model's 12 AU labels), "expression" (its class labels, probabilities
  summing to 1) and "va"; the values equal the PyTorch module on the
  centred clips built from the features in the JSONL (|d| <= 1e-4), i.e.
  the model trained by the recipe is what ran in the pipeline;
- without it: the same faces, and no predictions;
- affectoverlay drew the predictions: on every frame, the frames with and
  without predictions differ in many pixels (the panel with the expression
  bars, the AU grid and the valence/arousal disc), and not at all on the
  frames without faces.

Exit status 0 when every check passes, 1 otherwise (the reason on stderr).
"""

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

from e2e_train import load_model  # noqa: E402

TOL = 1e-4
# pixels that must differ on a frame whose faces got predictions: the
# panel at the default font size on 480 lines is about 150 x 200 pixels.
MIN_CHANGED = 3000


def fail(msg):
    print("check_launch.py: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def read_jsonl(path, n_frames):
    with open(path) as f:
        frames = [json.loads(line) for line in f if line.strip()]
    if len(frames) != n_frames:
        fail(f"{path}: {len(frames)} frames, expected {n_frames}")
    return frames


def centred_clip(feats_by_frame, f, clip_len, key, dim):
    """[T, dim] window of branch @key around frame @f (zeros where the
    track or the branch is absent, and outside the stream) and whether the
    branch is present in it."""
    x = np.zeros((clip_len, dim), dtype=np.float32)
    present = False
    start = f - clip_len // 2
    for j in range(clip_len):
        k = start + j
        if 0 <= k < len(feats_by_frame):
            v = feats_by_frame[k]
            if v is not None and key in v:
                x[j] = np.asarray(v[key], dtype=np.float32)
                present = True
    return x, present


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--frames", type=int, required=True)
    ap.add_argument("--size", required=True)
    ap.add_argument("--with", dest="with_", required=True)
    ap.add_argument("--without", required=True)
    args = ap.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    model, md = load_model(args.model)
    clip_len = int(md["clip_len"])
    au_labels = md["au_labels"].split(",")
    expr_labels = md["expr_labels"].split(",")
    dims = {k: int(md["d_" + k]) for k in ("img", "exp", "spe", "wrd")}

    with_ = read_jsonl(args.with_ + ".jsonl", args.frames)
    without = read_jsonl(args.without + ".jsonl", args.frames)

    # features per track and frame
    tracks = {}
    for f, rec in enumerate(with_):
        for face in rec["faces"]:
            tracks.setdefault(face["id"], [None] * args.frames)[f] = \
                face.get("features", {})
    if not tracks:
        fail("no face found in the frames")

    n_pred = 0
    worst = 0.0
    for f, rec in enumerate(with_):
        for face in rec["faces"]:
            feats = face.get("features", {})
            has_pred = any(k in face for k in ("au", "expression", "va"))
            if "img" not in feats:
                if has_pred:
                    fail(f"frame {f} face {face['id']}: predictions without "
                         "an image feature")
                continue
            for k in ("au", "expression", "va"):
                if k not in face:
                    fail(f"frame {f} face {face['id']}: no '{k}' in {face}")
            if face["au"]["labels"] != au_labels:
                fail(f"frame {f}: AU labels {face['au']['labels']}, model "
                     f"{au_labels}")
            if face["expression"]["labels"] != expr_labels:
                fail(f"frame {f}: expression labels "
                     f"{face['expression']['labels']}, model {expr_labels}")
            if abs(sum(face["expression"]["probs"]) - 1.0) > 1e-4:
                fail(f"frame {f}: expression probabilities do not sum to 1")
            # the same prediction with PyTorch, from the logged features
            by_frame = tracks[face["id"]]
            img = np.asarray(feats["img"], dtype=np.float32)
            if img.shape != (dims["img"],):
                fail(f"frame {f}: image feature of size {img.shape}")
            xs, present = {}, []
            for key in ("exp", "spe", "wrd"):
                xs[key], p = centred_clip(by_frame, f, clip_len, key,
                                          dims[key])
                present.append(1.0 if p else 0.0)
            out = model.predict(
                torch.from_numpy(img)[None], torch.from_numpy(xs["exp"])[None],
                torch.from_numpy(xs["spe"])[None],
                torch.from_numpy(xs["wrd"])[None],
                torch.tensor([present]))
            got = {"au": face["au"]["probs"],
                   "expr": face["expression"]["probs"], "va": face["va"]}
            for task in ("au", "expr", "va"):
                d = np.abs(out[task][0].numpy() - np.asarray(got[task]))
                worst = max(worst, float(d.max()))
                if d.max() > TOL:
                    fail(f"frame {f} face {face['id']} {task}: pipeline "
                         f"{got[task]}, PyTorch {out[task][0].tolist()}")
            n_pred += 1
    if n_pred == 0:
        fail("no face got predictions")
    print(f"{n_pred} face predictions in {args.frames} frames equal "
          f"PyTorch's (max |d| = {worst:.2g})")

    # the run without affectfuse: same faces, no predictions
    for f, (a, b) in enumerate(zip(with_, without)):
        if [x["id"] for x in a["faces"]] != [x["id"] for x in b["faces"]]:
            fail(f"frame {f}: the faces differ between the two runs")
        for face in b["faces"]:
            if any(k in face for k in ("au", "expression", "va")):
                fail(f"frame {f}: predictions without affectfuse")

    # the overlay
    size = width * height * 3
    raw = {}
    for name, prefix in (("with", args.with_), ("without", args.without)):
        data = np.fromfile(prefix + ".rgb", dtype=np.uint8)
        if data.size != size * args.frames:
            fail(f"{prefix}.rgb: {data.size} bytes, expected "
                 f"{size * args.frames}")
        raw[name] = data.reshape(args.frames, height, width, 3)
    for f, rec in enumerate(with_):
        changed = int(np.any(raw["with"][f] != raw["without"][f],
                             axis=-1).sum())
        predicted = any("au" in face for face in rec["faces"])
        if predicted and changed < MIN_CHANGED:
            fail(f"frame {f}: the overlay with predictions differs from the "
                 f"one without in {changed} pixels only")
        if not predicted and changed:
            fail(f"frame {f}: no predictions, yet the overlays differ")
        print(f"frame {f}: {len(rec['faces'])} faces, overlay changed "
              f"{changed} pixels")
    print("OK")


if __name__ == "__main__":
    main()
