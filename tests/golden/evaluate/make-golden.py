#!/usr/bin/env python3
# gst-affect — tests/golden/evaluate
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Make the affect-evaluate fixtures (run by hand, see README.md).

    /tmp/fusion/venv/bin/python tests/golden/evaluate/make-golden.py

Writes, next to this script, random Aff-Wild2-style annotation sets
(ann/AU, ann/EXPR, ann/VA), random affectsink `abaw` prediction folders
(pred/<video>/track-N.<TASK>.txt), a mapping file (map.txt) and
expected.json: the scores scikit-learn (F1) and numpy (CCC) give on the
frames pooled by the rules of docs/evaluate.md, implemented here on their
own (not by running affect-evaluate).

The cases:
  vidA        one track; no VA prediction file (its VA frames are filled)
  vidB        two tracks, no map entry: the one with the most valid frames
              (summed over the three tasks) is used; its AU file is short
  vidC        one track, prediction files longer than the annotations,
              AU columns and expression classes in another order,
              AU probabilities (threshold 0.5) instead of 0/1
  vidD_left   two annotated faces of folder vidD, named by map.txt
  vidD_right  (vidD_left -> vidD/track-3, vidD_right -> vidD/track-0)
  vidE        no prediction folder at all; its EXPR file has CRLF endings
  vidF_right  no folder vidF_right, no map entry: folder vidF is used
"""

import json
import os
import shutil
import sys

import numpy as np
from sklearn.metrics import f1_score

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "models", "fusion"))

import metrics  # noqa: E402

AU = ["AU1", "AU2", "AU4", "AU6", "AU7", "AU10", "AU12", "AU15", "AU23",
      "AU24", "AU25", "AU26"]
EXPR = ["Neutral", "Anger", "Disgust", "Fear", "Happiness", "Sadness",
        "Surprise", "Other"]
VA = ["valence", "arousal"]
TASKS = ("AU", "EXPR", "VA")

rng = np.random.default_rng(20261129)

# video -> frames, and the tasks annotated
VIDEOS = {
    "vidA": (50, TASKS),
    "vidB": (60, TASKS),
    "vidC": (40, TASKS),
    "vidD_left": (55, TASKS),
    "vidD_right": (55, TASKS),
    "vidE": (30, ("AU", "EXPR")),
    "vidF_right": (35, ("EXPR", "VA")),
}


# ---- random annotations --------------------------------------------------

def make_labels(task, n):
    if task == "AU":
        lab = rng.integers(0, 2, (n, 12))
        lab[rng.random((n, 12)) < 0.03] = -1          # a single AU unlabelled
        lab[rng.random(n) < 0.15] = -1                # whole frame unlabelled
        return lab.astype(np.float64)
    if task == "EXPR":
        lab = rng.integers(0, 8, (n, 1))
        lab[rng.random(n) < 0.15] = -1
        return lab.astype(np.float64)
    lab = np.round(rng.uniform(-1, 1, (n, 2)), 4)
    lab[rng.random((n, 2)) < 0.04] = -5               # one dimension
    lab[rng.random(n) < 0.12] = -5                    # whole frame
    return lab


def make_pred(task, lab, n, probs=False):
    """Predictions loosely tied to the labels (so the scores are not all
    near chance), with frames lacking a prediction."""
    m = min(n, lab.shape[0])
    if task == "AU":
        p = rng.integers(0, 2, (n, 12)).astype(np.float64)
        agree = rng.random((m, 12)) < 0.6
        p[:m][agree] = np.maximum(lab[:m][agree], 0)
        if probs:
            p = np.where(p > 0, rng.uniform(0.5, 1.0, p.shape),
                         rng.uniform(0.0, 0.5, p.shape))
            p = np.round(p, 2)  # 0.5 exactly is active
        p[rng.random(n) < 0.1] = -1
        return p
    if task == "EXPR":
        p = rng.integers(0, 8, (n, 1)).astype(np.float64)
        agree = rng.random(m) < 0.4
        p[:m][agree] = np.maximum(lab[:m][agree], 0)
        p[rng.random(n) < 0.1] = -1
        return p
    p = np.empty((n, 2))
    p[:m] = np.clip(0.6 * np.where(lab[:m] > -4, lab[:m], 0)
                    + rng.normal(0, 0.4, (m, 2)), -1, 1)
    p[m:] = rng.uniform(-1, 1, (n - m, 2))
    p = np.round(p, 4)
    p[rng.random(n) < 0.1] = -5
    return p


def fmt(task, row, role):
    if task == "VA":
        return ",".join("-5" if v == -5 else "%.4f" % v for v in row)
    if task == "AU" and role == "pred":
        return ",".join("%d" % v if v in (-1, 0, 1) else "%.2f" % v
                        for v in row)
    return ",".join("%d" % v for v in row)


def write_table(path, header, rows, task, role, crlf=False):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    nl = "\r\n" if crlf else "\n"
    with open(path, "w", newline="") as f:
        f.write(",".join(header) + nl)
        for r in rows:
            f.write(fmt(task, r, role) + nl)


HEADER = {"AU": AU, "EXPR": EXPR, "VA": VA}


def valid_rows(task, p):
    if task == "AU":
        return int(np.sum(np.any(p >= 0, axis=1)))
    if task == "EXPR":
        return int(np.sum(p[:, 0] >= 0))
    return int(np.sum(np.any(p != -5, axis=1)))


def main():
    for d in ("ann", "pred"):
        shutil.rmtree(os.path.join(HERE, d), ignore_errors=True)

    labels = {}  # (task, video) -> array
    for video, (n, tasks) in VIDEOS.items():
        for task in tasks:
            labels[task, video] = make_labels(task, n)
            write_table(os.path.join(HERE, "ann", task, video + ".txt"),
                        HEADER[task], labels[task, video], task, "label",
                        crlf=(video == "vidE" and task == "EXPR"))

    # predictions: (folder, track) -> {task: (header, rows)}
    preds = {}

    def add(folder, track, task, rows, header=None):
        preds.setdefault((folder, track), {})[task] = (
            header or HEADER[task], rows)

    def lab(task, video, n):
        if (task, video) in labels:
            return labels[task, video]
        return np.full((n, 1 if task == "EXPR" else len(HEADER[task])),
                       -5.0 if task == "VA" else -1.0)

    # vidA: one track, AU and EXPR only
    for task in ("AU", "EXPR"):
        add("vidA", "track-0", task, make_pred(task, lab(task, "vidA", 50), 50))
    # vidB: track-1 mostly invalid, track-4 the better one (AU short)
    for task in TASKS:
        p1 = make_pred(task, lab(task, "vidB", 60), 60)
        p1[: 40] = -5 if task == "VA" else -1
        add("vidB", "track-1", task, p1)
        add("vidB", "track-4", task,
            make_pred(task, lab(task, "vidB", 60), 45 if task == "AU" else 60))
    # vidC: longer files, other column / class order, AU probabilities
    au_perm = rng.permutation(12)
    ex_perm = rng.permutation(8)
    pc = make_pred("AU", lab("AU", "vidC", 40), 48, probs=True)
    add("vidC", "track-2", "AU", pc[:, au_perm], [AU[j] for j in au_perm])
    pe = make_pred("EXPR", lab("EXPR", "vidC", 40), 48)
    inv = np.argsort(ex_perm)  # class k is written at column inv[k]
    pe_w = np.where(pe >= 0, inv[np.maximum(pe, 0).astype(int)], -1)
    add("vidC", "track-2", "EXPR", pe_w.astype(np.float64),
        [EXPR[k] for k in ex_perm])
    add("vidC", "track-2", "VA", make_pred("VA", lab("VA", "vidC", 40), 48))
    # vidD: two faces, mapped; a third track nobody uses
    for task in TASKS:
        add("vidD", "track-3", task,
            make_pred(task, lab(task, "vidD_left", 55), 55))
        add("vidD", "track-0", task,
            make_pred(task, lab(task, "vidD_right", 55), 55))
        add("vidD", "track-9", task,
            make_pred(task, lab(task, "vidD_right", 55), 55))
    # vidF: one track, found from vidF_right
    for task in TASKS:
        add("vidF", "track-7", task,
            make_pred(task, lab(task, "vidF_right", 35), 35))

    for (folder, track), files in preds.items():
        for task, (header, rows) in files.items():
            write_table(os.path.join(HERE, "pred", folder,
                                     "%s.%s.txt" % (track, task)),
                        header, rows, task, "pred")

    with open(os.path.join(HERE, "map.txt"), "w") as f:
        f.write("# annotation name -> <video folder>/track-N\n"
                "vidD_left  vidD/track-3\n"
                "vidD_right.txt\tvidD/track-0\n"
                "\n"
                "vidZ vidZ/track-1\n")

    # ---- the expected scores, by the documented rules -------------------
    mapping = {"vidD_left": ("vidD", "track-3"),
               "vidD_right": ("vidD", "track-0")}

    def choose(folder):
        tracks = sorted({t for (fo, t) in preds if fo == folder},
                        key=lambda t: int(t[6:]))
        if len(tracks) == 1:
            return tracks[0]
        counts = [sum(valid_rows(task, preds[folder, t][task][1])
                      for task in TASKS if task in preds[folder, t])
                  for t in tracks]
        return tracks[int(np.argmax(counts))]  # first on ties

    def resolve(video):
        if video in mapping:
            return mapping[video]
        if any(fo == video for (fo, _) in preds):
            return video, choose(video)
        for suffix in ("_left", "_right"):
            base = video[: -len(suffix)]
            if video.endswith(suffix) and any(fo == base for (fo, _) in preds):
                return base, choose(base)
        return None

    assert resolve("vidB") == ("vidB", "track-4")
    assert resolve("vidF_right") == ("vidF", "track-7")
    assert resolve("vidE") is None

    expected = {}
    pooled_l, pooled_p = {}, {}
    for task in TASKS:
        videos = []
        all_l, all_p = [], []
        for video in sorted(VIDEOS):
            if (task, video) not in labels:
                continue
            lab_t = labels[task, video]
            n = lab_t.shape[0]
            where = resolve(video)
            track = None
            pred = None
            header = HEADER[task]
            if where and task in preds.get(where, {}):
                header, pred = preds[where][task]
                track = "%s/%s" % where
            # prediction aligned with the annotation columns / classes
            width = lab_t.shape[1]
            missing = -5.0 if task == "VA" else -1.0
            p = np.full((n, width), missing)
            if pred is not None:
                m = min(n, pred.shape[0])
                if task == "AU":
                    for j, name in enumerate(AU):
                        p[:m, j] = pred[:m, header.index(name)]
                elif task == "EXPR":
                    cls = np.array([EXPR.index(h) for h in header])
                    p[:m, 0] = np.where(pred[:m, 0] >= 0,
                                        cls[np.maximum(pred[:m, 0], 0)
                                            .astype(int)], -1)
                else:
                    p[:m] = pred[:m]
            if task == "VA":
                lab_ok = lab_t != -5
                labelled = np.any(lab_ok, axis=1)
                filled = np.any(lab_ok & (p == -5), axis=1)
                p = np.where(p == -5, 0.0, p)
            else:
                lab_ok = lab_t >= 0
                labelled = np.any(lab_ok, axis=1)
                filled = np.any(lab_ok & (p < 0), axis=1)
                p = np.where(p < 0, 0.0, p)
            videos.append(dict(
                name=video, track=track, frames=n,
                pred_frames=0 if pred is None else int(pred.shape[0]),
                labelled=int(labelled.sum()), filled=int(filled.sum())))
            all_l.append(lab_t)
            all_p.append(p)
        L = np.concatenate(all_l)
        P = np.concatenate(all_p)
        pooled_l[task], pooled_p[task] = L, P
        e = dict(frames=int(L.shape[0]),
                 labelled=sum(v["labelled"] for v in videos),
                 filled=sum(v["filled"] for v in videos),
                 videos=videos)
        if task == "AU":
            per = []
            for j in range(12):
                keep = L[:, j] >= 0
                per.append(float(f1_score(
                    L[keep, j].astype(int),
                    (P[keep, j] >= 0.5).astype(int), zero_division=0)))
            e["f1_mean"] = float(np.mean(per))
            e["f1"] = dict(zip(AU, per))
        elif task == "EXPR":
            keep = L[:, 0] >= 0
            per = f1_score(L[keep, 0].astype(int), P[keep, 0].astype(int),
                           labels=list(range(8)), average=None,
                           zero_division=0)
            macro = f1_score(L[keep, 0].astype(int), P[keep, 0].astype(int),
                             labels=list(range(8)), average="macro",
                             zero_division=0)
            e["f1_mean"] = float(macro)
            e["f1"] = dict(zip(EXPR, [float(x) for x in per]))
        else:
            # the tool reads the text values as float32
            L32 = L.astype(np.float32).astype(np.float64)
            P32 = P.astype(np.float32).astype(np.float64)
            cc = []
            for d in range(2):
                keep = L[:, d] != -5
                x, y = P32[keep, d], L32[keep, d]
                cov = np.mean((x - x.mean()) * (y - y.mean()))
                cc.append(float(2 * cov / (x.var() + y.var()
                                           + (x.mean() - y.mean()) ** 2)))
            e["ccc_valence"], e["ccc_arousal"] = cc
            e["ccc_mean"] = 0.5 * (cc[0] + cc[1])
        expected[task.lower()] = e

    # models/fusion/metrics.py agrees
    au_m, _ = metrics.au_f1(pooled_l["AU"], pooled_p["AU"])
    ex_m, _ = metrics.expr_f1(pooled_l["EXPR"][:, 0],
                              pooled_p["EXPR"][:, 0].astype(int), 8)
    v, a, _ = metrics.va_ccc(pooled_l["VA"].astype(np.float32),
                             pooled_p["VA"].astype(np.float32))
    assert abs(au_m - expected["au"]["f1_mean"]) < 1e-12
    assert abs(ex_m - expected["expr"]["f1_mean"]) < 1e-12
    assert abs(v - expected["va"]["ccc_valence"]) < 1e-12
    assert abs(a - expected["va"]["ccc_arousal"]) < 1e-12

    expected["total"] = (expected["au"]["f1_mean"]
                         + expected["expr"]["f1_mean"]
                         + expected["va"]["ccc_mean"])
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    print("AU %.4f EXPR %.4f CCC %.4f total %.4f" % (
        expected["au"]["f1_mean"], expected["expr"]["f1_mean"],
        expected["va"]["ccc_mean"], expected["total"]))


if __name__ == "__main__":
    main()
