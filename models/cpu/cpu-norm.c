/* gst-affect — models/cpu/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The CPU backend: the normalisation family (softmax).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include "cpu-private.h"

void
cpu_softmax (AffectBackend *be, AffectTensor *x)
{
  const gsize rows = (gsize)x->n * x->h * x->w;
  const int c = x->c;
  double *e = g_new (double, c);
  gsize r;
  int i;

  for (r = 0; r < rows; r++) {
    float *p = x->data + r * c;
    float max = p[0];
    double sum = 0.0;
    for (i = 1; i < c; i++)
      max = p[i] > max ? p[i] : max;
    for (i = 0; i < c; i++) {
      e[i] = exp ((double)p[i] - (double)max);
      sum += e[i];
    }
    for (i = 0; i < c; i++)
      p[i] = (float)(e[i] / sum);
  }
  g_free (e);
}
