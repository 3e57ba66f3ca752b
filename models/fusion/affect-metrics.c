/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * ABAW metrics: see affect-metrics.h.
 */

#include "affect-metrics.h"

#include <math.h>

double
affect_metrics_f1_counts (guint64 tp, guint64 fp, guint64 fn)
{
  double denom = 2.0 * tp + (double)fp + (double)fn;
  return denom > 0.0 ? 2.0 * tp / denom : 0.0;
}

double
affect_metrics_au_f1 (const int *labels, const float *probs, gsize n, int n_au,
    float threshold, double *per_au)
{
  double mean = 0.0;

  g_return_val_if_fail (n_au > 0, 0.0);
  g_return_val_if_fail (n == 0 || (labels != NULL && probs != NULL), 0.0);

  for (int j = 0; j < n_au; j++) {
    guint64 tp = 0, fp = 0, fn = 0;
    double f1;
    for (gsize i = 0; i < n; i++) {
      int l = labels[i * n_au + j];
      gboolean p = probs[i * n_au + j] >= threshold;
      if (l < 0)
        continue;
      if (l > 0 && p)
        tp++;
      else if (l == 0 && p)
        fp++;
      else if (l > 0 && !p)
        fn++;
    }
    f1 = affect_metrics_f1_counts (tp, fp, fn);
    if (per_au)
      per_au[j] = f1;
    mean += f1;
  }
  return mean / n_au;
}

double
affect_metrics_expr_f1 (const int *labels, const int *pred, gsize n,
    int n_classes, double *per_class)
{
  guint64 *tp, *fp, *fn;
  double mean = 0.0;

  g_return_val_if_fail (n_classes > 0, 0.0);
  g_return_val_if_fail (n == 0 || (labels != NULL && pred != NULL), 0.0);

  tp = g_new0 (guint64, n_classes);
  fp = g_new0 (guint64, n_classes);
  fn = g_new0 (guint64, n_classes);
  for (gsize i = 0; i < n; i++) {
    int l = labels[i], p = pred[i];
    if (l < 0 || l >= n_classes)
      continue;
    if (p == l) {
      tp[l]++;
    } else {
      fn[l]++;
      if (p >= 0 && p < n_classes)
        fp[p]++;
    }
  }
  for (int k = 0; k < n_classes; k++) {
    double f1 = affect_metrics_f1_counts (tp[k], fp[k], fn[k]);
    if (per_class)
      per_class[k] = f1;
    mean += f1;
  }
  g_free (tp);
  g_free (fp);
  g_free (fn);
  return mean / n_classes;
}

int
affect_metrics_argmax (const float *scores, int n_classes)
{
  int best = 0;

  g_return_val_if_fail (scores != NULL && n_classes > 0, 0);
  for (int k = 1; k < n_classes; k++)
    if (scores[k] > scores[best])
      best = k;
  return best;
}

/* CCC over the @n entries x[i * stride], y[i * stride] with y > -5. */
static double
ccc_strided (const float *x, const float *y, gsize n, gsize stride,
    gboolean skip_missing)
{
  double sx = 0.0, sy = 0.0, mx, my, vx = 0.0, vy = 0.0, cov = 0.0, denom;
  gsize m = 0;

  for (gsize i = 0; i < n; i++) {
    if (skip_missing && y[i * stride] <= AFFECT_METRICS_NO_VA + 0.5f)
      continue;
    sx += x[i * stride];
    sy += y[i * stride];
    m++;
  }
  if (m == 0)
    return 0.0;
  mx = sx / m;
  my = sy / m;
  for (gsize i = 0; i < n; i++) {
    double dx, dy;
    if (skip_missing && y[i * stride] <= AFFECT_METRICS_NO_VA + 0.5f)
      continue;
    dx = x[i * stride] - mx;
    dy = y[i * stride] - my;
    vx += dx * dx;
    vy += dy * dy;
    cov += dx * dy;
  }
  vx /= m;
  vy /= m;
  cov /= m;
  denom = vx + vy + (mx - my) * (mx - my);
  return denom > 0.0 ? 2.0 * cov / denom : 0.0;
}

double
affect_metrics_ccc (const float *x, const float *y, gsize n)
{
  g_return_val_if_fail (n == 0 || (x != NULL && y != NULL), 0.0);
  return ccc_strided (x, y, n, 1, FALSE);
}

void
affect_metrics_va_ccc (const float *labels, const float *pred, gsize n,
    double *ccc_v, double *ccc_a, double *ccc_mean)
{
  double v = 0.0, a = 0.0;

  g_return_if_fail (n == 0 || (labels != NULL && pred != NULL));
  if (n > 0) {
    v = ccc_strided (pred, labels, n, 2, TRUE);
    a = ccc_strided (pred + 1, labels + 1, n, 2, TRUE);
  }
  if (ccc_v)
    *ccc_v = v;
  if (ccc_a)
    *ccc_a = a;
  if (ccc_mean)
    *ccc_mean = 0.5 * (v + a);
}

double
affect_metrics_total (double au_f1, double expr_f1, double ccc_mean)
{
  return au_f1 + expr_f1 + ccc_mean;
}
