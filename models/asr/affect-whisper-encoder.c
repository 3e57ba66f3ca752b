/* gst-affect — models/asr
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Whisper's encoder from the engine's ops; see affect-whisper-encoder.h.
 */

#include "affect-whisper-encoder.h"

#include "affect-whisper-mel.h"

#include <math.h>

#define LN_EPS 1e-5
#define N_CTX (AFFECT_WHISPER_CHUNK_FRAMES / 2)

typedef struct {
  AffectTensor *ln1_g, *ln1_b, *ln2_g, *ln2_b;
  AffectLinear *qkv, *out, *fc1, *fc2;
} Layer;

struct _AffectWhisperEncoder {
  AffectBackend *backend;
  int n_mels, width, n_heads, n_layers;
  AffectConv1d *conv1, *conv2;
  AffectTensor *positions; /* [1, 1, 1500, width] */
  AffectTensor *ln_g, *ln_b;
  Layer *layers;
  /* the attention scores [1, H, T, T] (54 MB for tiny.en), kept from layer
   * to layer and window to window: a fresh buffer of that size is fresh
   * pages from the kernel (faults and zeroing) at every layer */
  AffectTensor *scores;
};

/* A float32 copy of @name with the given rank and dims (0 = any). */
static gfloat *
get (AffectCt2File *m, const gchar *name, gint rank, guint32 d0, guint32 d1,
    guint32 d2, GError **error)
{
  const guint32 dims[3] = { d0, d1, d2 };

  return affect_ct2_get_f32 (m, name, rank, dims, error);
}

static AffectTensor *
get_vector (AffectWhisperEncoder *enc, AffectCt2File *m, const gchar *name,
    GError **error)
{
  gfloat *v = get (m, name, 1, enc->width, 0, 0, error);
  AffectTensor *t;

  if (!v)
    return NULL;
  t = affect_tensor_new_from_data (enc->backend, 1, 1, 1, enc->width, v);
  g_free (v);
  return t;
}

static AffectLinear *
get_linear (AffectWhisperEncoder *enc, AffectCt2File *m, const gchar *prefix,
    int in, int out, GError **error)
{
  gchar *wn = g_strconcat (prefix, "/weight", NULL);
  gchar *bn = g_strconcat (prefix, "/bias", NULL);
  gfloat *w = get (m, wn, 2, out, in, 0, error), *b = NULL;
  AffectLinear *lin = NULL;

  if (w)
    b = get (m, bn, 1, out, 0, 0, error);
  if (w && b)
    lin = affect_linear_new (enc->backend, in, out, w, TRUE, b);
  g_free (w);
  g_free (b);
  g_free (wn);
  g_free (bn);
  return lin;
}

AffectWhisperEncoder *
affect_whisper_encoder_new (
    AffectBackend *backend, AffectCt2File *m, GError **error)
{
  AffectWhisperEncoder *enc;
  const AffectCt2Variable *c1;
  gfloat *w = NULL, *b = NULL;
  int heads;
  int l;

  g_return_val_if_fail (backend != NULL && m != NULL, NULL);

  c1 = affect_ct2_find (m, "encoder/conv1/weight");
  if (!c1 || c1->rank != 3 || c1->dims[2] != 3 || c1->dims[0] == 0
      || c1->dims[0] % 64 != 0 || c1->dims[0] > 4096
      || (c1->dims[1] != 80 && c1->dims[1] != 128)) {
    g_set_error (error, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_MISMATCH,
        "not a Whisper encoder: encoder/conv1/weight missing or not "
        "[width, 80 or 128, 3]");
    return NULL;
  }
  if (!affect_ct2_get_num_heads (
          m, "encoder/num_heads", c1->dims[0], &heads, error))
    return NULL;
  enc = g_new0 (AffectWhisperEncoder, 1);
  enc->backend = affect_backend_ref (backend);
  enc->width = (int)c1->dims[0];
  enc->n_mels = (int)c1->dims[1];
  enc->n_heads = heads;
  l = (int)affect_ct2_count_layers (m, "encoder");
  enc->n_layers = l;
  enc->layers = g_new0 (Layer, MAX (l, 1));

  if (!(w = get (
            m, "encoder/conv1/weight", 3, enc->width, enc->n_mels, 3, error))
      || !(b = get (m, "encoder/conv1/bias", 1, enc->width, 0, 0, error)))
    goto fail;
  enc->conv1
      = affect_conv1d_new (backend, 3, enc->n_mels, enc->width, 1, 1, w, b);
  g_clear_pointer (&w, g_free);
  g_clear_pointer (&b, g_free);
  if (!(w = get (
            m, "encoder/conv2/weight", 3, enc->width, enc->width, 3, error))
      || !(b = get (m, "encoder/conv2/bias", 1, enc->width, 0, 0, error)))
    goto fail;
  enc->conv2
      = affect_conv1d_new (backend, 3, enc->width, enc->width, 2, 1, w, b);
  g_clear_pointer (&w, g_free);
  g_clear_pointer (&b, g_free);
  if (!(w = get (m, "encoder/position_encodings/encodings", 2, N_CTX,
            enc->width, 0, error)))
    goto fail;
  enc->positions
      = affect_tensor_new_from_data (backend, 1, 1, N_CTX, enc->width, w);
  g_clear_pointer (&w, g_free);
  if (!(enc->ln_g = get_vector (enc, m, "encoder/layer_norm/gamma", error))
      || !(enc->ln_b = get_vector (enc, m, "encoder/layer_norm/beta", error)))
    goto fail;

  for (l = 0; l < enc->n_layers; l++) {
    Layer *L = &enc->layers[l];
    gchar *p = g_strdup_printf ("encoder/layer_%d", l);
    gchar *sa = g_strconcat (p, "/self_attention", NULL);
    gchar *ffn = g_strconcat (p, "/ffn", NULL);
    gchar *n1g = g_strconcat (sa, "/layer_norm/gamma", NULL);
    gchar *n1b = g_strconcat (sa, "/layer_norm/beta", NULL);
    gchar *n2g = g_strconcat (ffn, "/layer_norm/gamma", NULL);
    gchar *n2b = g_strconcat (ffn, "/layer_norm/beta", NULL);
    gchar *qkv = g_strconcat (sa, "/linear_0", NULL);
    gchar *out = g_strconcat (sa, "/linear_1", NULL);
    gchar *fc1 = g_strconcat (ffn, "/linear_0", NULL);
    gchar *fc2 = g_strconcat (ffn, "/linear_1", NULL);
    gboolean ok
        = (L->ln1_g = get_vector (enc, m, n1g, error))
          && (L->ln1_b = get_vector (enc, m, n1b, error))
          && (L->ln2_g = get_vector (enc, m, n2g, error))
          && (L->ln2_b = get_vector (enc, m, n2b, error))
          && (L->qkv
              = get_linear (enc, m, qkv, enc->width, 3 * enc->width, error))
          && (L->out = get_linear (enc, m, out, enc->width, enc->width, error))
          && (L->fc1
              = get_linear (enc, m, fc1, enc->width, 4 * enc->width, error))
          && (L->fc2
              = get_linear (enc, m, fc2, 4 * enc->width, enc->width, error));

    g_free (p);
    g_free (sa);
    g_free (ffn);
    g_free (n1g);
    g_free (n1b);
    g_free (n2g);
    g_free (n2b);
    g_free (qkv);
    g_free (out);
    g_free (fc1);
    g_free (fc2);
    if (!ok)
      goto fail;
  }
  return enc;

fail:
  g_free (w);
  g_free (b);
  affect_whisper_encoder_free (enc);
  return NULL;
}

void
affect_whisper_encoder_free (AffectWhisperEncoder *enc)
{
  int l;

  if (!enc)
    return;
  for (l = 0; l < enc->n_layers; l++) {
    Layer *L = &enc->layers[l];

    g_clear_pointer (&L->ln1_g, affect_tensor_free);
    g_clear_pointer (&L->ln1_b, affect_tensor_free);
    g_clear_pointer (&L->ln2_g, affect_tensor_free);
    g_clear_pointer (&L->ln2_b, affect_tensor_free);
    g_clear_pointer (&L->qkv, affect_linear_free);
    g_clear_pointer (&L->out, affect_linear_free);
    g_clear_pointer (&L->fc1, affect_linear_free);
    g_clear_pointer (&L->fc2, affect_linear_free);
  }
  g_free (enc->layers);
  g_clear_pointer (&enc->conv1, affect_conv1d_free);
  g_clear_pointer (&enc->conv2, affect_conv1d_free);
  g_clear_pointer (&enc->positions, affect_tensor_free);
  g_clear_pointer (&enc->ln_g, affect_tensor_free);
  g_clear_pointer (&enc->ln_b, affect_tensor_free);
  g_clear_pointer (&enc->scores, affect_tensor_free);
  affect_backend_unref (enc->backend);
  g_free (enc);
}

int
affect_whisper_encoder_get_width (AffectWhisperEncoder *enc)
{
  return enc->width;
}

int
affect_whisper_encoder_get_n_mels (AffectWhisperEncoder *enc)
{
  return enc->n_mels;
}

/* Multi-head self-attention of @qkv [1, 1, T, 3 D] (rows q | k | v, heads of
 * d = D / H side by side in each): returns [1, 1, T, D]. */
static AffectTensor *
attention (AffectWhisperEncoder *enc, AffectTensor *qkv)
{
  const int D = enc->width, H = enc->n_heads, d = D / H;
  int T;
  AffectTensor *scores, *out;
  AffectMatView q, k, v, s, o;

  /* NULL after a failure recorded on the backend: passed along */
  if (qkv == NULL)
    return NULL;
  T = qkv->w;
  out = affect_tensor_new (enc->backend, 1, 1, T, D);
  q = (AffectMatView){ qkv, 0, T, d, 3 * D, { 0, (gsize)d } };
  k = (AffectMatView){ qkv, (gsize)D, T, d, 3 * D, { 0, (gsize)d } };
  v = (AffectMatView){ qkv, 2 * (gsize)D, T, d, 3 * D, { 0, (gsize)d } };
  o = (AffectMatView){ out, 0, T, d, D, { 0, (gsize)d } };
  if (!enc->scores || enc->scores->w != T)
    g_clear_pointer (&enc->scores, affect_tensor_free);
  if (!enc->scores)
    enc->scores = affect_tensor_new (enc->backend, 1, H, T, T);
  scores = enc->scores;
  s = affect_mat_view (scores);
  affect_matmul_strided (&q, FALSE, &k, TRUE, &s, 1, H, 1.0f, 0.0f);
  affect_softmax_masked_inplace (scores, 1.0f / sqrtf ((float)d), NULL, -1);
  affect_matmul_strided (&s, FALSE, &v, FALSE, &o, 1, H, 1.0f, 0.0f);
  return out;
}

AffectTensor *
affect_whisper_encoder_forward (AffectWhisperEncoder *enc, const gfloat *mel)
{
  const int F = AFFECT_WHISPER_CHUNK_FRAMES, M = enc->n_mels;
  gfloat *tm = g_new (gfloat, (gsize)F * M);
  AffectTensor *x, *h, *y;
  int l, t, b;

  /* bins × time -> time × bins (frames as rows) */
  for (t = 0; t < F; t++)
    for (b = 0; b < M; b++)
      tm[(gsize)t * M + b] = mel[(gsize)b * F + t];
  h = affect_tensor_new_from_data (enc->backend, 1, 1, F, M, tm);
  g_free (tm);
  x = affect_conv1d_forward (enc->conv1, h);
  affect_tensor_free (h);
  affect_gelu_inplace (x);
  h = affect_conv1d_forward (enc->conv2, x);
  affect_tensor_free (x);
  affect_gelu_inplace (h);
  x = h;
  /* NULL after a failure recorded on the backend (docs/inference-core.md):
   * the layers below read its shape */
  if (x == NULL)
    return NULL;
  affect_binary_inplace (x, enc->positions, AFFECT_BINARY_ADD);

  for (l = 0; l < enc->n_layers; l++) {
    Layer *L = &enc->layers[l];
    AffectTensor *qkv, *att;

    h = affect_tensor_new (enc->backend, 1, 1, x->w, x->c);
    affect_tensor_copy (h, x);
    affect_layer_norm_inplace (h, L->ln1_g, L->ln1_b, LN_EPS);
    qkv = affect_linear_forward (L->qkv, h);
    affect_tensor_free (h);
    att = attention (enc, qkv);
    affect_tensor_free (qkv);
    y = affect_linear_forward (L->out, att);
    affect_tensor_free (att);
    affect_binary_inplace (x, y, AFFECT_BINARY_ADD);
    affect_tensor_free (y);

    h = affect_tensor_new (enc->backend, 1, 1, x->w, x->c);
    affect_tensor_copy (h, x);
    affect_layer_norm_inplace (h, L->ln2_g, L->ln2_b, LN_EPS);
    y = affect_linear_forward (L->fc1, h);
    affect_tensor_free (h);
    affect_gelu_inplace (y);
    h = affect_linear_forward (L->fc2, y);
    affect_tensor_free (y);
    affect_binary_inplace (x, h, AFFECT_BINARY_ADD);
    affect_tensor_free (h);
  }
  affect_layer_norm_inplace (x, enc->ln_g, enc->ln_b, LN_EPS);
  return x;
}
