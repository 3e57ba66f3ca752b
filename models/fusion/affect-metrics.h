/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The ABAW challenge metrics (the C twin of models/fusion/metrics.py,
 * checked against scikit-learn in tests/models/test-fusion.c):
 *
 *  - AU: the F1 score of each action unit (binary, predicted active when
 *    the probability is >= the threshold, 0.5), averaged over the AUs;
 *  - EXPR: macro F1, the mean over all K classes of the per-class F1;
 *  - VA: the concordance correlation coefficient
 *    CCC = 2 cov(x, y) / (var x + var y + (mean x - mean y)^2) with
 *    population (1/n) moments, for valence and arousal, and their mean;
 *  - the multi-task total: AU F1 + EXPR F1 + mean CCC.
 *
 * F1 = 2 tp / (2 tp + fp + fn), and 0 when the denominator is 0 (no
 * positive labelled nor predicted), as scikit-learn's zero_division=0.
 * Frames without a label (AU -1, EXPR -1, VA -5) are left out; a metric
 * with no labelled frame is 0. Sums are accumulated in double.
 * GLib only.
 */

#ifndef __AFFECT_METRICS_H__
#define __AFFECT_METRICS_H__

#include <glib.h>

G_BEGIN_DECLS

#define AFFECT_METRICS_NO_AU (-1)
#define AFFECT_METRICS_NO_EXPR (-1)
#define AFFECT_METRICS_NO_VA (-5.0f)
#define AFFECT_METRICS_AU_THRESHOLD 0.5f

/* F1 of the positive class from counts. */
double affect_metrics_f1_counts (guint64 tp, guint64 fp, guint64 fn);

/* labels [n, n_au] (1, 0, or -1 = no label), probs [n, n_au]. Returns the
 * mean F1 over the AUs; @per_au (n_au entries) may be NULL. */
double affect_metrics_au_f1 (const int *labels, const float *probs, gsize n,
    int n_au, float threshold, double *per_au);

/* labels [n] (class in 0..n_classes-1, or -1 = no label; other values are
 * left out too), pred [n] class indices. Returns the macro F1; @per_class
 * (n_classes entries) may be NULL. */
double affect_metrics_expr_f1 (const int *labels, const int *pred, gsize n,
    int n_classes, double *per_class);

/* Index of the largest of scores [n_classes] (the first on ties). */
int affect_metrics_argmax (const float *scores, int n_classes);

/* CCC of predictions @x and labels @y, n values each (0 when n == 0 or
 * both are constant and equal). */
double affect_metrics_ccc (const float *x, const float *y, gsize n);

/* labels [n, 2] and pred [n, 2] (valence, arousal); rows whose label is -5
 * (per dimension) are left out. Any output may be NULL. */
void affect_metrics_va_ccc (const float *labels, const float *pred, gsize n,
    double *ccc_v, double *ccc_a, double *ccc_mean);

/* AU F1 + EXPR F1 + mean CCC. */
double affect_metrics_total (double au_f1, double expr_f1, double ccc_mean);

G_END_DECLS

#endif /* __AFFECT_METRICS_H__ */
