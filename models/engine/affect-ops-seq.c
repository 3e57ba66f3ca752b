/* gst-affect — models/engine/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The sequence and transformer ops of affect-tensor.h (matmul, layer norm,
 * GELU, masked softmax, gather, broadcast arithmetic, KV-cache rows, GRU,
 * 1-D convolution): argument, shape and bounds checks, then exactly one
 * entry of the backend table each (affect-backend.h). Views.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include "affect-ops-private.h"

static gboolean
check_same_backend (
    const AffectTensor *a, const AffectTensor *b, const gchar *func)
{
  if (b != NULL && b->backend != a->backend) {
    g_critical ("%s: tensors on different backends (%s and %s)", func,
        a->backend->ops->name, b->backend->ops->name);
    return FALSE;
  }
  return TRUE;
}

/* ---- views ------------------------------------------------------------- */

/* Whether two element ranges of tensors share memory (compared as address
 * ranges, conservatively: the span from the first to the last element). */
static gboolean
ranges_overlap (const AffectTensor *a, gsize alo, gsize ahi,
    const AffectTensor *b, gsize blo, gsize bhi)
{
  const float *pa = a->data + alo, *pb = b->data + blo;

  return pa < pb + (bhi - blo) && pb < pa + (ahi - alo);
}

AffectTensor *
affect_tensor_new_from_data (
    AffectBackend *backend, int n, int h, int w, int c, const float *src)
{
  AffectTensor *t;

  g_return_val_if_fail (src != NULL, NULL);
  t = affect_tensor_new (backend, n, h, w, c);
  if (t != NULL)
    affect_tensor_upload (t, src);
  return t;
}

AffectTensor *
affect_tensor_view (
    AffectTensor *parent, gsize offset, int n, int h, int w, int c)
{
  AffectTensor *v;
  gsize count, total;

  AFFECT_PASS_FAILURE (parent, NULL);
  g_return_val_if_fail (parent != NULL && parent->data != NULL, NULL);
  if (n <= 0 || h <= 0 || w <= 0 || c <= 0) {
    g_critical ("%s: invalid shape " SHAPE_FMT, G_STRFUNC, n, h, w, c);
    return NULL;
  }
  total = affect_tensor_n_elements (parent);
  count = (gsize)n;
  if (!g_size_checked_mul (&count, count, (gsize)h)
      || !g_size_checked_mul (&count, count, (gsize)w)
      || !g_size_checked_mul (&count, count, (gsize)c) || offset > total
      || count > total - offset) {
    g_critical ("%s: a " SHAPE_FMT " view at element %" G_GSIZE_FORMAT
                " does not fit in a " SHAPE_FMT " tensor",
        G_STRFUNC, n, h, w, c, offset, SHAPE_ARGS (parent));
    return NULL;
  }
  v = g_new0 (AffectTensor, 1);
  v->n = n;
  v->h = h;
  v->w = w;
  v->c = c;
  v->data = parent->data + offset;
  v->backend = affect_backend_ref (parent->backend);
  v->owns_data = FALSE;
  return v;
}

AffectTensor *
affect_tensor_reshape (AffectTensor *parent, int n, int h, int w, int c)
{
  AFFECT_PASS_FAILURE (parent, NULL);
  g_return_val_if_fail (parent != NULL, NULL);
  if ((gint64)n * h * w * c != (gint64)affect_tensor_n_elements (parent)) {
    g_critical ("%s: cannot reshape " SHAPE_FMT " to " SHAPE_FMT, G_STRFUNC,
        SHAPE_ARGS (parent), n, h, w, c);
    return NULL;
  }
  return affect_tensor_view (parent, 0, n, h, w, c);
}

void
affect_tensor_copy (AffectTensor *dst, const AffectTensor *src)
{
  gsize count;

  if (!affect_ops_check_tensor (dst, AFFECT_OP_COPY_ROWS, G_STRFUNC)
      || !affect_ops_check_tensor (src, AFFECT_OP_COPY_ROWS, G_STRFUNC)
      || !check_same_backend (dst, src, G_STRFUNC))
    return;
  count = affect_tensor_n_elements (src);
  if (count != affect_tensor_n_elements (dst)) {
    g_critical ("%s: " SHAPE_FMT " into " SHAPE_FMT ": sizes differ", G_STRFUNC,
        SHAPE_ARGS (src), SHAPE_ARGS (dst));
    return;
  }
  if (dst->data == src->data)
    return;
  if (ranges_overlap (dst, 0, count, src, 0, count)) {
    g_critical ("%s: source and destination overlap", G_STRFUNC);
    return;
  }
  /* rows of c floats: n·h·w rows, as one batch */
  if ((gsize)src->n * src->h * src->w > G_MAXINT) {
    g_critical ("%s: tensor too large for one copy", G_STRFUNC);
    return;
  }
  dst->backend->ops->copy_rows (dst->backend, src, 0, src->c, 0, dst, 0, src->c,
      0, src->n * src->h * src->w, src->c, 1);
}

/* ---- matmul ------------------------------------------------------------ */

AffectMatView
affect_mat_view (const AffectTensor *t)
{
  AffectMatView v = { 0 };

  AFFECT_PASS_FAILURE (t, v);
  g_return_val_if_fail (t != NULL, v);
  v.t = (AffectTensor *)t;
  v.offset = 0;
  v.rows = t->w;
  v.cols = t->c;
  v.ld = t->c;
  v.stride[0] = (gsize)t->h * t->w * t->c;
  v.stride[1] = (gsize)t->w * t->c;
  return v;
}

/* TRUE when every element the view addresses for a batch0 × batch1 batch
 * lies inside its tensor. */
static gboolean
view_in_bounds (const AffectMatView *v, int batch0, int batch1)
{
  gsize total, last = v->offset, step;

  if (v->t == NULL || v->rows <= 0 || v->cols <= 0 || v->ld < v->cols)
    return FALSE;
  total = affect_tensor_n_elements (v->t);
  if (!g_size_checked_mul (&step, (gsize)(batch0 - 1), v->stride[0])
      || !g_size_checked_add (&last, last, step)
      || !g_size_checked_mul (&step, (gsize)(batch1 - 1), v->stride[1])
      || !g_size_checked_add (&last, last, step)
      || !g_size_checked_mul (&step, (gsize)(v->rows - 1), (gsize)v->ld)
      || !g_size_checked_add (&last, last, step)
      || !g_size_checked_add (&last, last, (gsize)(v->cols - 1)))
    return FALSE;
  return last < total;
}

/* The half-open element range [lo, hi) a view spans, for overlap tests. */
static void
view_span (const AffectMatView *v, int batch0, int batch1, gsize *lo, gsize *hi)
{
  *lo = v->offset;
  *hi = v->offset + (gsize)(batch0 - 1) * v->stride[0]
        + (gsize)(batch1 - 1) * v->stride[1] + (gsize)(v->rows - 1) * v->ld
        + (gsize)v->cols;
}

/* TRUE when the batch0 × batch1 matrices of an output view are disjoint:
 * at each batch level (inner first) the matrices are either stacked (the
 * stride is at least the extent of what it repeats) or side by side within
 * the rows (the stride is at least their width and all of them fit in ld),
 * as with the heads of a [B, S, heads·d] tensor. */
static gboolean
view_matrices_disjoint (const AffectMatView *v, int batch0, int batch1)
{
  /* what is repeated: "width" columns in each of "rows" rows, or a block of
   * "extent" elements when stacked */
  gsize width = (gsize)v->cols;
  gsize extent = (gsize)(v->rows - 1) * v->ld + v->cols;
  gboolean rowwise = TRUE; /* the repeated unit is width × rows */
  const int batch[2] = { batch1, batch0 };
  const gsize stride[2] = { v->stride[1], v->stride[0] };
  int level;

  for (level = 0; level < 2; level++) {
    if (batch[level] <= 1)
      continue;
    if (stride[level] >= extent) {
      extent += (gsize)(batch[level] - 1) * stride[level];
      rowwise = FALSE;
    } else if (rowwise && v->rows >= 1 && stride[level] >= width
               && (gsize)(batch[level] - 1) * stride[level] + width
                      <= (gsize)v->ld) {
      width += (gsize)(batch[level] - 1) * stride[level];
      extent += (gsize)(batch[level] - 1) * stride[level];
    } else {
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
views_overlap (
    const AffectMatView *a, const AffectMatView *y, int batch0, int batch1)
{
  gsize alo, ahi, ylo, yhi;
  const float *abase, *ybase;

  if (a->t->data == NULL || y->t->data == NULL)
    return FALSE;
  view_span (a, batch0, batch1, &alo, &ahi);
  view_span (y, batch0, batch1, &ylo, &yhi);
  abase = a->t->data + alo;
  ybase = y->t->data + ylo;
  return abase < ybase + (yhi - ylo) && ybase < abase + (ahi - alo);
}

gboolean
affect_matmul_strided (const AffectMatView *a, gboolean trans_a,
    const AffectMatView *b, gboolean trans_b, AffectMatView *y, int batch0,
    int batch1, float alpha, float beta)
{
  int m, n, k, kb;

  g_return_val_if_fail (a != NULL && b != NULL && y != NULL, FALSE);
  if (!affect_ops_check_tensor (a->t, AFFECT_OP_MATMUL, G_STRFUNC)
      || !affect_ops_check_tensor (b->t, AFFECT_OP_MATMUL, G_STRFUNC)
      || !affect_ops_check_tensor (y->t, AFFECT_OP_MATMUL, G_STRFUNC)
      || !check_same_backend (a->t, b->t, G_STRFUNC)
      || !check_same_backend (a->t, y->t, G_STRFUNC))
    return FALSE;
  if (batch0 <= 0 || batch1 <= 0) {
    g_critical ("%s: invalid batch %d × %d", G_STRFUNC, batch0, batch1);
    return FALSE;
  }
  m = trans_a ? a->cols : a->rows;
  k = trans_a ? a->rows : a->cols;
  kb = trans_b ? b->cols : b->rows;
  n = trans_b ? b->rows : b->cols;
  if (k != kb || y->rows != m || y->cols != n) {
    g_critical ("%s: op(a) is %d × %d, op(b) %d × %d, y %d × %d", G_STRFUNC, m,
        k, kb, n, y->rows, y->cols);
    return FALSE;
  }
  if (!view_in_bounds (a, batch0, batch1) || !view_in_bounds (b, batch0, batch1)
      || !view_in_bounds (y, batch0, batch1)) {
    g_critical ("%s: a view addresses elements outside its tensor (or has "
                "ld < cols)",
        G_STRFUNC);
    return FALSE;
  }
  if (views_overlap (a, y, batch0, batch1)
      || views_overlap (b, y, batch0, batch1)) {
    g_critical ("%s: the output overlaps an input", G_STRFUNC);
    return FALSE;
  }
  if (!view_matrices_disjoint (y, batch0, batch1)) {
    g_critical (
        "%s: the output matrices of the batch overlap each other", G_STRFUNC);
    return FALSE;
  }
  a->t->backend->ops->matmul (a->t->backend, a, trans_a, b, trans_b, y, m, n, k,
      batch0, batch1, alpha, beta);
  return TRUE;
}

AffectTensor *
affect_matmul (const AffectTensor *a, const AffectTensor *b, gboolean trans_a,
    gboolean trans_b, float alpha)
{
  AffectMatView va, vb, vy;
  AffectTensor *y;
  int m, n;

  if (!affect_ops_check_tensor (a, AFFECT_OP_MATMUL, G_STRFUNC)
      || !affect_ops_check_tensor (b, AFFECT_OP_MATMUL, G_STRFUNC)
      || !check_same_backend (a, b, G_STRFUNC))
    return NULL;
  if (!((b->n == a->n && b->h == a->h) || (b->n == 1 && b->h == 1))) {
    g_critical ("%s: a " SHAPE_FMT " and b " SHAPE_FMT
                ": b must have a's batch or be one matrix",
        G_STRFUNC, SHAPE_ARGS (a), SHAPE_ARGS (b));
    return NULL;
  }
  va = affect_mat_view (a);
  vb = affect_mat_view (b);
  if (b->n == 1 && b->h == 1)
    vb.stride[0] = vb.stride[1] = 0;
  m = trans_a ? a->c : a->w;
  n = trans_b ? b->w : b->c;
  if ((trans_a ? a->w : a->c) != (trans_b ? b->c : b->w)) {
    g_critical ("%s: a " SHAPE_FMT "%s and b " SHAPE_FMT
                "%s: inner dimensions differ",
        G_STRFUNC, SHAPE_ARGS (a), trans_a ? "ᵀ" : "", SHAPE_ARGS (b),
        trans_b ? "ᵀ" : "");
    return NULL;
  }
  y = affect_tensor_new (a->backend, a->n, a->h, m, n);
  if (y == NULL)
    return NULL;
  vy = affect_mat_view (y);
  if (!affect_matmul_strided (
          &va, trans_a, &vb, trans_b, &vy, a->n, a->h, alpha, 0.0f)) {
    affect_tensor_free (y);
    return NULL;
  }
  return y;
}

/* ---- normalisation and activations ------------------------------------- */

static gboolean
check_param_vector (const AffectTensor *p, const AffectTensor *x,
    const gchar *what, const gchar *func)
{
  if (p == NULL)
    return TRUE;
  if (p->data == NULL || !check_same_backend (x, p, func))
    return FALSE;
  if (affect_tensor_n_elements (p) != (gsize)x->c) {
    g_critical ("%s: %s " SHAPE_FMT " has not %d elements", func, what,
        SHAPE_ARGS (p), x->c);
    return FALSE;
  }
  return TRUE;
}

void
affect_layer_norm_inplace (AffectTensor *x, const AffectTensor *gamma,
    const AffectTensor *beta, double eps)
{
  if (!affect_ops_check_tensor (x, AFFECT_OP_LAYER_NORM, G_STRFUNC)
      || !check_param_vector (gamma, x, "gamma", G_STRFUNC)
      || !check_param_vector (beta, x, "beta", G_STRFUNC))
    return;
  if (!(eps >= 0.0)) {
    g_critical ("%s: invalid eps %g", G_STRFUNC, eps);
    return;
  }
  x->backend->ops->layer_norm (x->backend, x, gamma, beta, eps);
}

void
affect_gelu_inplace (AffectTensor *x)
{
  if (!affect_ops_check_tensor (x, AFFECT_OP_GELU, G_STRFUNC))
    return;
  x->backend->ops->unary (x->backend, x, AFFECT_UNARY_GELU);
}

void
affect_softmax_masked_inplace (
    AffectTensor *x, float scale, const AffectTensor *mask, int causal_offset)
{
  if (!affect_ops_check_tensor (x, AFFECT_OP_SOFTMAX_MASKED, G_STRFUNC))
    return;
  if (mask != NULL) {
    if (mask->data == NULL || !check_same_backend (x, mask, G_STRFUNC))
      return;
    if (!((mask->n == x->n || mask->n == 1) && mask->h == 1 && mask->w == 1
            && mask->c == x->c)) {
      g_critical ("%s: mask " SHAPE_FMT " does not fit scores " SHAPE_FMT
                  " (expected [%d or 1, 1, 1, %d])",
          G_STRFUNC, SHAPE_ARGS (mask), SHAPE_ARGS (x), x->n, x->c);
      return;
    }
  }
  x->backend->ops->softmax_masked (x->backend, x, scale, mask, causal_offset);
}

/* ---- gather, arithmetic, cache rows ------------------------------------ */

AffectTensor *
affect_gather_rows (const AffectTensor *table, const gint32 *ids, gsize n_ids)
{
  AffectTensor *y;
  gsize i, vocab;

  if (!affect_ops_check_tensor (table, AFFECT_OP_GATHER_ROWS, G_STRFUNC))
    return NULL;
  g_return_val_if_fail (ids != NULL, NULL);
  if (n_ids == 0 || n_ids > G_MAXINT) {
    g_critical ("%s: invalid number of ids %" G_GSIZE_FORMAT, G_STRFUNC, n_ids);
    return NULL;
  }
  vocab = (gsize)table->n * table->h * table->w;
  for (i = 0; i < n_ids; i++) {
    if (ids[i] < 0 || (gsize)ids[i] >= vocab) {
      g_critical ("%s: id %d at %" G_GSIZE_FORMAT
                  " is outside [0, %" G_GSIZE_FORMAT ")",
          G_STRFUNC, ids[i], i, vocab);
      return NULL;
    }
  }
  y = affect_tensor_new (table->backend, 1, 1, (int)n_ids, table->c);
  if (y == NULL)
    return NULL;
  table->backend->ops->gather_rows (table->backend, table, ids, n_ids, y);
  return y;
}

void
affect_binary_inplace (
    AffectTensor *a, const AffectTensor *b, AffectBinaryOp op)
{
  if (!affect_ops_check_tensor (a, AFFECT_OP_BINARY, G_STRFUNC)
      || !affect_ops_check_tensor (b, AFFECT_OP_BINARY, G_STRFUNC)
      || !check_same_backend (a, b, G_STRFUNC))
    return;
  if (op < AFFECT_BINARY_ADD || op > AFFECT_BINARY_MUL) {
    g_critical ("%s: invalid op %d", G_STRFUNC, op);
    return;
  }
  if (affect_tensor_n_elements (a) % affect_tensor_n_elements (b) != 0) {
    g_critical ("%s: b " SHAPE_FMT " cannot be repeated over a " SHAPE_FMT,
        G_STRFUNC, SHAPE_ARGS (b), SHAPE_ARGS (a));
    return;
  }
  a->backend->ops->binary (a->backend, a, b, op);
}

void
affect_scale_inplace (AffectTensor *x, float alpha, float beta)
{
  if (!affect_ops_check_tensor (x, AFFECT_OP_SCALE, G_STRFUNC))
    return;
  x->backend->ops->scale (x->backend, x, alpha, beta);
}

gboolean
affect_append_rows (AffectTensor *cache, const AffectTensor *x, int row)
{
  if (!affect_ops_check_tensor (cache, AFFECT_OP_COPY_ROWS, G_STRFUNC)
      || !affect_ops_check_tensor (x, AFFECT_OP_COPY_ROWS, G_STRFUNC)
      || !check_same_backend (cache, x, G_STRFUNC))
    return FALSE;
  if (x->n != cache->n || x->h != cache->h || x->c != cache->c || row < 0
      || x->w > cache->w - row) {
    g_critical ("%s: cannot append " SHAPE_FMT
                " at row %d of a cache " SHAPE_FMT,
        G_STRFUNC, SHAPE_ARGS (x), row, SHAPE_ARGS (cache));
    return FALSE;
  }
  if ((gint64)x->n * x->h > G_MAXINT) {
    g_critical ("%s: too many matrices", G_STRFUNC);
    return FALSE;
  }
  if (ranges_overlap (cache, 0, affect_tensor_n_elements (cache), x, 0,
          affect_tensor_n_elements (x))) {
    g_critical ("%s: the rows to append overlap the cache", G_STRFUNC);
    return FALSE;
  }
  cache->backend->ops->copy_rows (cache->backend, x, 0, x->c,
      (gsize)x->w * x->c, cache, (gsize)row * cache->c, cache->c,
      (gsize)cache->w * cache->c, x->w, x->c, x->n * x->h);
  return TRUE;
}

/* ---- GRU --------------------------------------------------------------- */

AffectGru *
affect_gru_new (AffectBackend *backend, int input_size, int hidden_size,
    const float *w_ih, const float *w_hh, const float *b_ih, const float *b_hh)
{
  AffectGru *gru;
  gsize g;

  g_return_val_if_fail (backend != NULL, NULL);
  g_return_val_if_fail (w_ih != NULL && w_hh != NULL, NULL);
  if (input_size <= 0 || hidden_size <= 0 || input_size > (1 << 20)
      || hidden_size > (1 << 20)) {
    g_critical (
        "%s: invalid sizes %d -> %d", G_STRFUNC, input_size, hidden_size);
    return NULL;
  }
  if (!affect_backend_supports_op (backend, AFFECT_OP_GRU)) {
    g_critical ("%s: backend %s does not implement this op", G_STRFUNC,
        backend->ops->name);
    return NULL;
  }
  g = (gsize)3 * hidden_size;
  gru = g_new0 (AffectGru, 1);
  gru->backend = affect_backend_ref (backend);
  gru->input_size = input_size;
  gru->hidden_size = hidden_size;
  gru->w_ih = g_try_new (float, g *input_size);
  gru->w_hh = g_try_new (float, g *hidden_size);
  gru->b_ih = g_try_new0 (float, g);
  gru->b_hh = g_try_new0 (float, g);
  if (!gru->w_ih || !gru->w_hh || !gru->b_ih || !gru->b_hh) {
    g_critical ("%s: out of memory for a %d -> %d GRU", G_STRFUNC, input_size,
        hidden_size);
    affect_gru_free (gru);
    return NULL;
  }
  memcpy (gru->w_ih, w_ih, g * input_size * sizeof (float));
  memcpy (gru->w_hh, w_hh, g * hidden_size * sizeof (float));
  if (b_ih)
    memcpy (gru->b_ih, b_ih, g * sizeof (float));
  if (b_hh)
    memcpy (gru->b_hh, b_hh, g * sizeof (float));
  return gru;
}

AffectTensor *
affect_gru_forward (
    AffectGru *gru, const AffectTensor *x, const AffectTensor *h0)
{
  AffectTensor *y;
  gboolean ok = TRUE;

  g_return_val_if_fail (gru != NULL, NULL);
  if (!affect_ops_check_tensor (x, AFFECT_OP_GRU, G_STRFUNC))
    return NULL;
  if (x->backend != gru->backend) {
    g_critical ("%s: input on backend %s, layer on backend %s", G_STRFUNC,
        x->backend->ops->name, gru->backend->ops->name);
    return NULL;
  }
  if (x->h != 1 || x->c != gru->input_size) {
    g_critical ("%s: input " SHAPE_FMT " is not [B, 1, T, %d]", G_STRFUNC,
        SHAPE_ARGS (x), gru->input_size);
    return NULL;
  }
  if (h0 != NULL
      && (h0->data == NULL || !check_same_backend (x, h0, G_STRFUNC)
          || h0->n != x->n || h0->h != 1 || h0->w != 1
          || h0->c != gru->hidden_size)) {
    g_critical ("%s: initial state is not [%d, 1, 1, %d]", G_STRFUNC, x->n,
        gru->hidden_size);
    return NULL;
  }
  if (!g_atomic_int_get (&gru->prepared)) {
    affect_ops_prepare_lock ();
    if (!gru->prepared) {
      ok = gru->backend->ops->gru_prepare (gru->backend, gru);
      if (ok)
        g_atomic_int_set (&gru->prepared, TRUE);
    }
    affect_ops_prepare_unlock ();
    if (!ok && gru->backend->ops->host_memory) {
      g_critical ("%s: backend %s could not prepare a %d -> %d GRU", G_STRFUNC,
          gru->backend->ops->name, gru->input_size, gru->hidden_size);
      return NULL;
    }
    /* a device backend recorded why (affect_backend_set_error): the
     * output is returned uncomputed, the caller checks the backend */
    if (!ok)
      affect_backend_set_error (gru->backend,
          "%s: could not prepare a layer on device %d", G_STRFUNC,
          gru->backend->device_id);
  }
  y = affect_tensor_new (x->backend, x->n, 1, x->w, gru->hidden_size);
  if (y == NULL)
    return NULL;
  if (ok)
    gru->backend->ops->gru_forward (gru->backend, gru, x, h0, y);
  return y;
}

int
affect_gru_get_hidden_size (AffectGru *gru)
{
  g_return_val_if_fail (gru != NULL, 0);
  return gru->hidden_size;
}

void
affect_gru_free (AffectGru *gru)
{
  if (gru == NULL)
    return;
  if (gru->prepared || gru->priv)
    gru->backend->ops->gru_free (gru->backend, gru);
  g_free (gru->w_ih);
  g_free (gru->w_hh);
  g_free (gru->b_ih);
  g_free (gru->b_hh);
  affect_backend_unref (gru->backend);
  g_free (gru);
}

/* ---- 1-D convolution ---------------------------------------------------- */

struct _AffectConv1d {
  AffectConv *conv; /* 1 × k, VALID, over [B, 1, T + 2 pad, cin] */
  int k, cin, cout, stride, pad;
};

AffectConv1d *
affect_conv1d_new (AffectBackend *backend, int k, int cin, int cout, int stride,
    int pad, const float *weight, const float *bias)
{
  AffectConv1d *c;
  float *hwio;
  int o, i, t;

  g_return_val_if_fail (backend != NULL && weight != NULL, NULL);
  if (k <= 0 || cin <= 0 || cout <= 0 || stride <= 0 || pad < 0
      || (gint64)k * cin * cout > G_MAXINT) {
    g_critical ("%s: invalid geometry k %d, %d -> %d, stride %d, pad %d",
        G_STRFUNC, k, cin, cout, stride, pad);
    return NULL;
  }
  /* PyTorch [cout, cin, k] -> HWIO [1, k, cin, cout] */
  hwio = g_try_new (float, (gsize)k *cin *cout);
  if (hwio == NULL) {
    g_critical ("%s: out of memory", G_STRFUNC);
    return NULL;
  }
  for (o = 0; o < cout; o++)
    for (i = 0; i < cin; i++)
      for (t = 0; t < k; t++)
        hwio[((gsize)t * cin + i) * cout + o]
            = weight[((gsize)o * cin + i) * k + t];
  c = g_new0 (AffectConv1d, 1);
  c->k = k;
  c->cin = cin;
  c->cout = cout;
  c->stride = stride;
  c->pad = pad;
  c->conv = affect_conv_new (backend, 1, k, cin, cout, stride, AFFECT_PAD_VALID,
      hwio, bias, AFFECT_ACT_NONE);
  g_free (hwio);
  if (c->conv == NULL) {
    g_free (c);
    return NULL;
  }
  return c;
}

AffectTensor *
affect_conv1d_forward (AffectConv1d *conv, const AffectTensor *x)
{
  AffectTensor *padded, *y;

  g_return_val_if_fail (conv != NULL, NULL);
  AFFECT_PASS_FAILURE (x, NULL);
  if (x == NULL || x->data == NULL || x->h != 1 || x->c != conv->cin) {
    g_critical ("%s: input is not [B, 1, T, %d]", G_STRFUNC, conv->cin);
    return NULL;
  }
  if ((gint64)x->w + 2 * (gint64)conv->pad < conv->k) {
    g_critical ("%s: %d frames are fewer than the kernel (%d, pad %d)",
        G_STRFUNC, x->w, conv->k, conv->pad);
    return NULL;
  }
  if (conv->pad == 0)
    return affect_conv_forward (conv->conv, x);
  padded = affect_pad (x, 0, 0, conv->pad, conv->pad);
  if (padded == NULL)
    return NULL;
  y = affect_conv_forward (conv->conv, padded);
  affect_tensor_free (padded);
  return y;
}

void
affect_conv1d_free (AffectConv1d *conv)
{
  if (conv == NULL)
    return;
  affect_conv_free (conv->conv);
  g_free (conv);
}
