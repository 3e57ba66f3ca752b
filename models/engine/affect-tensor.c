/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Tensors: allocation on a backend, host copies.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "affect-backend.h"

/* Number of elements of an n×h×w×c tensor, or 0 when a dimension is not
 * positive or the byte size would overflow. */
static gsize
checked_n_elements (int n, int h, int w, int c)
{
  gsize total = 1, bytes;

  if (n <= 0 || h <= 0 || w <= 0 || c <= 0)
    return 0;
  if (!g_size_checked_mul (&total, total, (gsize)n)
      || !g_size_checked_mul (&total, total, (gsize)h)
      || !g_size_checked_mul (&total, total, (gsize)w)
      || !g_size_checked_mul (&total, total, (gsize)c)
      || !g_size_checked_mul (&bytes, total, sizeof (float)))
    return 0;
  /* Keep every flattened index addressable as a signed 64-bit value. */
  if (bytes > G_MAXSSIZE)
    return 0;
  return total;
}

static AffectTensor *
tensor_alloc (AffectBackend *backend, int n, int h, int w, int c, gboolean zero)
{
  AffectTensor *t;
  gsize count;

  g_return_val_if_fail (backend != NULL, NULL);
  count = checked_n_elements (n, h, w, c);
  if (count == 0) {
    g_critical (
        "affect_tensor_new: invalid tensor shape [%d, %d, %d, %d] "
        "(every dimension must be positive and the size must fit in memory)",
        n, h, w, c);
    return NULL;
  }

  t = g_new0 (AffectTensor, 1);
  t->n = n;
  t->h = h;
  t->w = w;
  t->c = c;
  t->backend = affect_backend_ref (backend);
  t->owns_data = TRUE;
  t->data = backend->ops->alloc (backend, count * sizeof (float));
  if (t->data == NULL) {
    /* A device backend records why (naming the device); otherwise record
     * it here. No critical: the ops pass the NULL along and the caller
     * takes the failure with affect_backend_take_error(). */
    if (!affect_backend_has_error (backend))
      affect_backend_set_error (backend,
          "backend %s: allocating a tensor (%" G_GSIZE_FORMAT
          " bytes) failed: out of memory",
          backend->ops->name, count * sizeof (float));
    affect_backend_unref (backend);
    g_free (t);
    return NULL;
  }
  if (zero) {
    float *host = affect_tensor_host_data (t);
    if (host != NULL) {
      memset (host, 0, count * sizeof (float));
    } else {
      float *zeros = g_try_new0 (float, count);
      if (zeros == NULL) {
        affect_backend_set_error (backend,
            "backend %s: allocating a tensor (%" G_GSIZE_FORMAT
            " bytes of zeros on the host) failed: out of memory",
            backend->ops->name, count * sizeof (float));
        affect_tensor_free (t);
        return NULL;
      }
      backend->ops->upload (backend, t, zeros, count);
      g_free (zeros);
    }
  }
  return t;
}

AffectTensor *
affect_tensor_new (AffectBackend *backend, int n, int h, int w, int c)
{
  return tensor_alloc (backend, n, h, w, c, FALSE);
}

AffectTensor *
affect_tensor_new_zeros (AffectBackend *backend, int n, int h, int w, int c)
{
  return tensor_alloc (backend, n, h, w, c, TRUE);
}

void
affect_tensor_free (AffectTensor *t)
{
  if (t == NULL)
    return;
  if (t->owns_data && t->data != NULL)
    t->backend->ops->free (t->backend, t->data);
  affect_backend_unref (t->backend);
  g_free (t);
}

gsize
affect_tensor_n_elements (const AffectTensor *t)
{
  AFFECT_PASS_FAILURE (t, 0);
  g_return_val_if_fail (t != NULL, 0);
  return (gsize)t->n * (gsize)t->h * (gsize)t->w * (gsize)t->c;
}

void
affect_tensor_upload (AffectTensor *t, const float *src)
{
  AFFECT_PASS_FAILURE (t, );
  g_return_if_fail (t != NULL);
  g_return_if_fail (src != NULL);
  t->backend->ops->upload (t->backend, t, src, affect_tensor_n_elements (t));
}

void
affect_tensor_download (const AffectTensor *t, float *dst)
{
  AFFECT_PASS_FAILURE (t, );
  g_return_if_fail (t != NULL);
  g_return_if_fail (dst != NULL);
  t->backend->ops->download (t->backend, t, dst, affect_tensor_n_elements (t));
}

float *
affect_tensor_host_data (AffectTensor *t)
{
  AFFECT_PASS_FAILURE (t, NULL);
  g_return_val_if_fail (t != NULL, NULL);
  if (!t->backend->ops->host_memory)
    return NULL;
  return t->data;
}
