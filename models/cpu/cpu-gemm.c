/* gst-affect — models/cpu/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The CPU backend: fully connected layers (the packed panels of cpu-gru.c
 * for items of few rows, else sgemm per item, the provider in
 * affect-gemm.c).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include "cpu-private.h"

/* An item with at most this many rows (one row per face or per clip, the
 * rows of a frame) goes through the packed panels of cpu-gru.c: a GEMM
 * library packs its B operand at every call, which costs more than the
 * product for so few rows (oneDNN: 74 us for one row of 256 -> 1024, the
 * panels 5 us). Larger items keep one affect_sgemm () each. */
#define LINEAR_PANEL_MAX_ROWS 16
/* Below this many multiply-adds a panel product stays on one thread (waking
 * a worker and waiting for it costs 5-25 us here: 2 M multiply-adds on two
 * threads took longer than on one). */
#define LINEAR_MIN_PARALLEL_MACS (4.0 * 1024.0 * 1024.0)
/* Items of more rows are cut into blocks of this many rows, one
 * affect_sgemm () each, so that a single large item (Whisper's encoder:
 * 1500 rows) runs on every thread of the pool. The blocks depend on the
 * item's rows alone, not on the threads or the batch. */
#define LINEAR_ROW_BLOCK 256

typedef struct {
  CpuPanels panels; /* packed on first use (under the backend lock) */
  gboolean packed;
} CpuLinear;

gboolean
cpu_linear_prepare (AffectBackend *be, AffectLinear *lin)
{
  lin->priv = g_new0 (CpuLinear, 1);
  return TRUE;
}

void
cpu_linear_free (AffectBackend *be, AffectLinear *lin)
{
  CpuLinear *cl = lin->priv;

  if (cl != NULL) {
    cpu_panels_clear (&cl->panels);
    g_free (cl);
  }
  lin->priv = NULL;
}

typedef struct {
  AffectLinear *lin;
  const float *x;
  float *y;
  gsize rows_per_item;
  const CpuPanels *panels;
  gboolean split_rows; /* panels path: threads take rows, else panels */
  gsize rows;
  gsize blocks_per_item; /* sgemm path: row blocks of an item */
} LinearJob;

/* Row blocks [start, end) of the batch items (blocks_per_item each): one
 * affect_sgemm() per block, so an item's result does not depend on the
 * batch size or threads. */
static void
linear_range (gpointer data, gsize start, gsize end, int tid)
{
  LinearJob *j = data;
  AffectLinear *lin = j->lin;
  gsize u;

  for (u = start; u < end; u++) {
    const gsize item = u / j->blocks_per_item;
    const gsize r0 = (u % j->blocks_per_item) * LINEAR_ROW_BLOCK;
    const gsize rows = MIN (LINEAR_ROW_BLOCK, j->rows_per_item - r0);
    const gsize row = item * j->rows_per_item + r0;
    const float *x = j->x + row * lin->in;
    float *y = j->y + row * lin->out;

    cpu_sgemm_rm ((int)rows, lin->out, lin->in, x, lin->in, lin->weight,
        lin->out, 0.0f, y, lin->out);
    cpu_bias_act_rows (y, rows, lin->out, lin->out, lin->bias, AFFECT_ACT_NONE);
  }
}

/* Rows or panels [start, end) of a panel product: every row is computed
 * alone, so neither the batch nor the split changes a result. */
static void
linear_panels_range (gpointer data, gsize start, gsize end, int tid)
{
  LinearJob *j = data;
  const int in = j->lin->in, out = j->lin->out;

  if (j->split_rows)
    cpu_panels_run (j->panels, j->x + start * in, in, (int)(end - start),
        j->y + start * out, out, 0, j->panels->np);
  else
    cpu_panels_run (
        j->panels, j->x, in, (int)j->rows, j->y, out, (int)start, (int)end);
}

void
cpu_linear_forward (AffectBackend *be, AffectLinear *lin, const AffectTensor *x,
    AffectTensor *y, gsize rows)
{
  LinearJob j = { lin, x->data, y->data, rows / (gsize)x->n };
  CpuLinear *cl = lin->priv;
  int threads = cpu_begin (be);

  if (j.rows_per_item <= LINEAR_PANEL_MAX_ROWS && !cl->packed) {
    /* weight [in, out]: element (output o, input i) at i * out + o */
    cl->packed = cpu_panels_init (&cl->panels, lin->out, lin->in, lin->weight,
        1, lin->out, lin->bias, NULL);
    /* half the bytes to read where every weight is a half float (weights
     * from a float16 file): the same bits */
    if (cl->packed)
      cpu_panels_to_half (&cl->panels);
    if (!cl->packed)
      g_warning ("cpu backend: no memory to pack a %d -> %d layer; using "
                 "sgemm",
          lin->in, lin->out);
  }
  if (j.rows_per_item <= LINEAR_PANEL_MAX_ROWS && cl->packed) {
    const double macs = (double)rows * lin->in * lin->out;

    j.panels = &cl->panels;
    j.rows = rows;
    if (macs < LINEAR_MIN_PARALLEL_MACS)
      threads = 1;
    j.split_rows = rows >= (gsize)16 * threads;
    if (threads == 1)
      linear_panels_range (
          &j, 0, j.split_rows ? rows : (gsize)cl->panels.np, 0);
    else if (j.split_rows)
      cpu_parallel_for (be, rows, 8, linear_panels_range, &j);
    else
      cpu_parallel_for (be, (gsize)cl->panels.np, 1, linear_panels_range, &j);
  } else {
    j.blocks_per_item
        = MAX ((j.rows_per_item + LINEAR_ROW_BLOCK - 1) / LINEAR_ROW_BLOCK, 1);
    cpu_parallel_for (be, (gsize)x->n * j.blocks_per_item,
        cpu_grain (be, (double)MIN (j.rows_per_item, LINEAR_ROW_BLOCK) * lin->in
                           * lin->out),
        linear_range, &j);
  }
  cpu_end (be);
}

/* ---- padding, concatenation -------------------------------------------- */
