# gst-affect — models/fusion
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""ABAW metrics (numpy only; checked against scikit-learn by
tests/golden/fusion/make-golden.py, and mirrored in C by
models/fusion/affect-metrics.c).

- AU: F1 of each of the 12 action units (binary, prediction = p >= 0.5),
  averaged over the AUs;
- EXPR: macro F1 over the expression classes (the mean of the per-class F1
  over all K classes; a class that is neither predicted nor labelled
  counts as F1 = 0, as scikit-learn's f1_score(average="macro",
  labels=range(K), zero_division=0));
- VA: concordance correlation coefficient
  CCC = 2 cov(x, y) / (var x + var y + (mean x - mean y)^2) with population
  (1/n) moments, for valence and for arousal, and their mean;
- multi-task total: AU F1 + EXPR F1 + mean CCC.

Frames without a label (AU -1, EXPR -1, VA -5) are left out of each metric.
"""

import numpy as np

AU_THRESHOLD = 0.5


def f1_binary(y_true, y_pred):
    """F1 of the positive class; 0 when there are no positives at all
    (zero_division=0)."""
    y_true = np.asarray(y_true).astype(bool)
    y_pred = np.asarray(y_pred).astype(bool)
    tp = np.sum(y_true & y_pred)
    fp = np.sum(~y_true & y_pred)
    fn = np.sum(y_true & ~y_pred)
    denom = 2 * tp + fp + fn
    return float(2 * tp / denom) if denom > 0 else 0.0


def au_f1(labels, probs, threshold=AU_THRESHOLD):
    """labels [n, A] in {0, 1, -1}; probs [n, A]. Returns (mean, per AU)."""
    labels = np.asarray(labels)
    probs = np.asarray(probs)
    per = []
    for j in range(labels.shape[1]):
        keep = labels[:, j] >= 0
        per.append(f1_binary(labels[keep, j] == 1,
                             probs[keep, j] >= threshold))
    return float(np.mean(per)), per


def expr_f1(labels, pred, n_classes):
    """labels [n] class index or -1; pred [n] class index (or [n, K]
    scores). Returns (macro F1, per class)."""
    labels = np.asarray(labels)
    pred = np.asarray(pred)
    if pred.ndim == 2:
        pred = np.argmax(pred, axis=1)
    keep = labels >= 0
    labels, pred = labels[keep], pred[keep]
    per = [f1_binary(labels == k, pred == k) for k in range(n_classes)]
    return float(np.mean(per)), per


def ccc(x, y):
    """Concordance correlation coefficient of predictions x and labels y
    (population moments, float64)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.size == 0:
        return 0.0
    mx, my = x.mean(), y.mean()
    vx, vy = x.var(), y.var()
    cov = np.mean((x - mx) * (y - my))
    denom = vx + vy + (mx - my) ** 2
    return float(2 * cov / denom) if denom > 0 else 0.0


def va_ccc(labels, pred):
    """labels [n, 2] (valence, arousal; -5 = none); pred [n, 2].
    Returns (ccc_v, ccc_a, mean)."""
    labels = np.asarray(labels, dtype=np.float64)
    pred = np.asarray(pred, dtype=np.float64)
    out = []
    for j in range(2):
        keep = labels[:, j] > -4.5  # -5 = no label
        out.append(ccc(pred[keep, j], labels[keep, j]))
    return out[0], out[1], 0.5 * (out[0] + out[1])


def total(au=None, expr=None, va_mean=None):
    """Multi-task total: AU F1 + EXPR F1 + mean CCC (missing terms = 0)."""
    return sum(v for v in (au, expr, va_mean) if v is not None)


def evaluate(labels, outputs, n_expr):
    """labels/outputs: dicts with keys au, expr, va (numpy arrays; outputs
    already activated). Returns a dict of metrics for the keys present in
    both."""
    res = {}
    if "au" in labels and "au" in outputs:
        res["au_f1"], _ = au_f1(labels["au"], outputs["au"])
    if "expr" in labels and "expr" in outputs:
        res["expr_f1"], _ = expr_f1(labels["expr"], outputs["expr"], n_expr)
    if "va" in labels and "va" in outputs:
        res["ccc_v"], res["ccc_a"], res["ccc_mean"] = va_ccc(
            labels["va"], outputs["va"])
    res["total"] = total(res.get("au_f1"), res.get("expr_f1"),
                         res.get("ccc_mean"))
    return res
