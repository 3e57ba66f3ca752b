/* gst-affect — models/cpu/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The CPU backend: activations (also the convolutions' epilogue), add,
 * unary ops, zero padding and channel concatenation.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include "cpu-private.h"

#define CPU_SIMD_KERNELS "cpu-elementwise-kernels.h"
#include "cpu-simd.h"
#undef CPU_SIMD_KERNELS

/* ---- activations ------------------------------------------------------- */

void
cpu_activate (float *restrict p, gsize n, AffectActivation act)
{
  CPU_SIMD_PICK (activate) (p, n, act);
}

void
cpu_bias_act_rows (float *y, gsize rows, int nc, int ld, const float *bias,
    AffectActivation act)
{
  CPU_SIMD_PICK (bias_act_rows) (y, rows, nc, ld, bias, act);
}

void
cpu_pad (AffectBackend *be, const AffectTensor *x, AffectTensor *y, int top,
    int left)
{
  const gsize c = (gsize)x->c;
  const gsize yrow = (gsize)y->w * c, xrow = (gsize)x->w * c;
  const gsize lpad = (gsize)left * c, rpad = yrow - xrow - lpad;
  const int bottom = y->h - x->h - top;
  int n, r;

  /* Write every output element once: zero borders, copied interior. */
  for (n = 0; n < x->n; n++) {
    float *img = y->data + (gsize)n * y->h * yrow;
    memset (img, 0, (gsize)top * yrow * sizeof (float));
    for (r = 0; r < x->h; r++) {
      float *row = img + (gsize)(r + top) * yrow;
      memset (row, 0, lpad * sizeof (float));
      memcpy (row + lpad, x->data + ((gsize)n * x->h + r) * xrow,
          xrow * sizeof (float));
      memset (row + lpad + xrow, 0, rpad * sizeof (float));
    }
    memset (img + (gsize)(top + x->h) * yrow, 0,
        (gsize)bottom * yrow * sizeof (float));
  }
}

void
cpu_concat_channels (AffectBackend *be, const AffectTensor *a,
    const AffectTensor *b, AffectTensor *y)
{
  gsize p, pix = (gsize)a->n * a->h * a->w;

  for (p = 0; p < pix; p++) {
    memcpy (
        y->data + p * y->c, a->data + p * a->c, (gsize)a->c * sizeof (float));
    memcpy (y->data + p * y->c + a->c, b->data + p * b->c,
        (gsize)b->c * sizeof (float));
  }
}

void
cpu_pad_channels (AffectBackend *be, const AffectTensor *x, AffectTensor *y)
{
  gsize p, pix = (gsize)x->n * x->h * x->w;

  for (p = 0; p < pix; p++) {
    memcpy (
        y->data + p * y->c, x->data + p * x->c, (gsize)x->c * sizeof (float));
    memset (
        y->data + p * y->c + x->c, 0, (gsize)(y->c - x->c) * sizeof (float));
  }
}

/* ---- elementwise ------------------------------------------------------- */

typedef struct {
  const float *a, *b;
  float *y;
  AffectUnaryOp op;
} ElemJob;

static void
add_range (gpointer data, gsize start, gsize end, int tid)
{
  ElemJob *j = data;

  CPU_SIMD_PICK (add_floats)
  (j->a + start, j->b + start, j->y + start, end - start);
}

void
cpu_add (AffectBackend *be, const AffectTensor *a, const AffectTensor *b,
    AffectTensor *y)
{
  ElemJob j = { a->data, b->data, y->data, 0 };

  cpu_begin (be);
  cpu_parallel_for (be, affect_tensor_n_elements (y),
      MAX (ELEMENTWISE_GRAIN, cpu_grain (be, 1.0)), add_range, &j);
  cpu_end (be);
}

static void
unary_range (gpointer data, gsize start, gsize end, int tid)
{
  ElemJob *j = data;
  float *restrict p = j->y;
  gsize i;

  switch (j->op) {
    case AFFECT_UNARY_RELU:
      cpu_activate (p + start, end - start, AFFECT_ACT_RELU);
      break;
    case AFFECT_UNARY_RELU6:
      cpu_activate (p + start, end - start, AFFECT_ACT_RELU6);
      break;
    case AFFECT_UNARY_LEAKY:
      cpu_activate (p + start, end - start, AFFECT_ACT_LEAKY);
      break;
    case AFFECT_UNARY_SIGMOID:
      for (i = start; i < end; i++)
        p[i] = (float)(1.0 / (1.0 + exp (-(double)p[i])));
      break;
    case AFFECT_UNARY_TANH:
      for (i = start; i < end; i++)
        p[i] = (float)tanh ((double)p[i]);
      break;
    case AFFECT_UNARY_GELU:
      cpu_gelu (p + start, end - start);
      break;
  }
}

void
cpu_unary (AffectBackend *be, AffectTensor *x, AffectUnaryOp op)
{
  ElemJob j = { NULL, NULL, x->data, op };

  cpu_begin (be);
  cpu_parallel_for (be, affect_tensor_n_elements (x),
      MAX (ELEMENTWISE_GRAIN,
          cpu_grain (be, op <= AFFECT_UNARY_LEAKY ? 1.0 : 20.0)),
      unary_range, &j);
  cpu_end (be);
}
