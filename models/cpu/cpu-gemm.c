/* gst-affect — models/cpu/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The CPU backend: fully connected layers (row blocks through sgemm, the
 * provider in affect-gemm.c).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include "cpu-private.h"

gboolean
cpu_linear_prepare (AffectBackend *be, AffectLinear *lin)
{
  lin->priv = NULL;
  return TRUE;
}

void
cpu_linear_free (AffectBackend *be, AffectLinear *lin)
{
  lin->priv = NULL;
}

typedef struct {
  AffectLinear *lin;
  const float *x;
  float *y;
  gsize rows_per_item;
} LinearJob;

/* Batch items [start, end): one affect_sgemm() per item, so an item's
 * result does not depend on the batch size or threads. */
static void
linear_range (gpointer data, gsize start, gsize end, int tid)
{
  LinearJob *j = data;
  AffectLinear *lin = j->lin;
  gsize i;

  for (i = start; i < end; i++) {
    const float *x = j->x + i * j->rows_per_item * lin->in;
    float *y = j->y + i * j->rows_per_item * lin->out;
    cpu_sgemm_rm ((int)j->rows_per_item, lin->out, lin->in, x, lin->in,
        lin->weight, lin->out, 0.0f, y, lin->out);
    cpu_bias_act_rows (
        y, j->rows_per_item, lin->out, lin->out, lin->bias, AFFECT_ACT_NONE);
  }
}

void
cpu_linear_forward (AffectBackend *be, AffectLinear *lin, const AffectTensor *x,
    AffectTensor *y, gsize rows)
{
  LinearJob j = { lin, x->data, y->data, rows / (gsize)x->n };

  cpu_begin (be);
  cpu_parallel_for (be, (gsize)x->n,
      cpu_grain (be, (double)j.rows_per_item * lin->in * lin->out),
      linear_range, &j);
  cpu_end (be);
}

/* ---- padding, concatenation -------------------------------------------- */
