/* gst-affect — models/asr
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Whisper's decoder from the engine's ops; see affect-whisper-decoder.h.
 */

#include "affect-whisper-decoder.h"

#include "affect-backend.h"

#include <math.h>
#include <string.h>

#define LN_EPS 1e-5

typedef struct {
  AffectTensor *sa_g, *sa_b, *ca_g, *ca_b, *ff_g, *ff_b;
  AffectLinear *qkv, *sa_out, *ca_q, *ca_kv, *ca_out, *fc1, *fc2;
  /* self-attention cache: the whole Q|K|V rows [1, 1, max_len, 3 D] (the K
   * and V columns are read through strided views) */
  AffectTensor *cache;
  /* cross K|V of the current window [1, 1, T, 2 D] */
  AffectTensor *cross;
} Layer;

struct _AffectWhisperDecoder {
  AffectBackend *backend;
  int width, n_heads, n_layers, vocab, max_len;
  AffectTensor *embedding; /* [1, 1, V, D] */
  /* the same weights as the output projection (V outputs): a linear layer,
   * so that the backend packs them for few rows (the CPU backend's panels:
   * one pass over the weights per step on every thread, not a GEMM that
   * pads the row and repacks the weights at each call) */
  AffectLinear *logits_proj;
  AffectTensor *positions; /* [1, 1, max_len, D] */
  AffectTensor *ln_g, *ln_b;
  Layer *layers;
  int length;   /* tokens in the caches */
  int n_frames; /* T of the window; 0 = no audio */
  int *capture; /* (layer, head) pairs */
  int n_capture;
  AffectWhisperTime logits_time;
};

static gfloat *
get (AffectCt2File *m, const gchar *name, gint rank, guint32 d0, guint32 d1,
    GError **error)
{
  const guint32 dims[2] = { d0, d1 };

  return affect_ct2_get_f32 (m, name, rank, dims, error);
}

static AffectTensor *
get_vector (AffectWhisperDecoder *dec, AffectCt2File *m, const gchar *prefix,
    const gchar *leaf, GError **error)
{
  gchar *name = g_strconcat (prefix, leaf, NULL);
  gfloat *v = get (m, name, 1, dec->width, 0, error);
  AffectTensor *t = NULL;

  if (v)
    t = affect_tensor_new_from_data (dec->backend, 1, 1, 1, dec->width, v);
  g_free (v);
  g_free (name);
  return t;
}

static AffectLinear *
get_linear (AffectWhisperDecoder *dec, AffectCt2File *m, const gchar *prefix,
    const gchar *leaf, int in, int out, GError **error)
{
  gchar *wn = g_strconcat (prefix, leaf, "/weight", NULL);
  gchar *bn = g_strconcat (prefix, leaf, "/bias", NULL);
  gfloat *w = get (m, wn, 2, out, in, error), *b = NULL;
  AffectLinear *lin = NULL;

  if (w)
    b = get (m, bn, 1, out, 0, error);
  if (w && b)
    lin = affect_linear_new (dec->backend, in, out, w, TRUE, b);
  g_free (w);
  g_free (b);
  g_free (wn);
  g_free (bn);
  return lin;
}

AffectWhisperDecoder *
affect_whisper_decoder_new (
    AffectBackend *backend, AffectCt2File *m, GError **error)
{
  AffectWhisperDecoder *dec;
  const AffectCt2Variable *emb, *pos;
  int heads;
  gfloat *w;
  int l;

  g_return_val_if_fail (backend != NULL && m != NULL, NULL);

  emb = affect_ct2_find (m, "decoder/embeddings/weight");
  pos = affect_ct2_find (m, "decoder/position_encodings/encodings");
  if (!emb || emb->rank != 2 || emb->dims[0] == 0 || emb->dims[1] == 0
      || emb->dims[1] % 64 != 0 || emb->dims[1] > 4096 || !pos || pos->rank != 2
      || pos->dims[1] != emb->dims[1] || pos->dims[0] == 0
      || pos->dims[0] > 4096) {
    g_set_error (error, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_MISMATCH,
        "not a Whisper decoder: decoder/embeddings/weight or "
        "decoder/position_encodings/encodings missing or of the wrong shape");
    return NULL;
  }
  if (!affect_ct2_get_num_heads (
          m, "decoder/num_heads", emb->dims[1], &heads, error))
    return NULL;
  dec = g_new0 (AffectWhisperDecoder, 1);
  dec->backend = affect_backend_ref (backend);
  dec->vocab = (int)emb->dims[0];
  dec->width = (int)emb->dims[1];
  dec->max_len = (int)pos->dims[0];
  dec->n_heads = heads;
  l = (int)affect_ct2_count_layers (m, "decoder");
  dec->n_layers = l;
  dec->layers = g_new0 (Layer, MAX (l, 1));

  if (!(w = get (
            m, "decoder/embeddings/weight", 2, dec->vocab, dec->width, error)))
    goto fail;
  dec->embedding
      = affect_tensor_new_from_data (backend, 1, 1, dec->vocab, dec->width, w);
  dec->logits_proj
      = affect_linear_new (backend, dec->width, dec->vocab, w, TRUE, NULL);
  g_free (w);
  if (!dec->logits_proj) {
    g_set_error (error, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_MISMATCH,
        "Whisper decoder: no memory for the output projection");
    goto fail;
  }
  if (!(w = get (m, "decoder/position_encodings/encodings", 2, dec->max_len,
            dec->width, error)))
    goto fail;
  dec->positions = affect_tensor_new_from_data (
      backend, 1, 1, dec->max_len, dec->width, w);
  g_free (w);
  if (!(dec->ln_g = get_vector (dec, m, "decoder/layer_norm", "/gamma", error))
      || !(dec->ln_b
           = get_vector (dec, m, "decoder/layer_norm", "/beta", error)))
    goto fail;

  for (l = 0; l < dec->n_layers; l++) {
    Layer *L = &dec->layers[l];
    const int D = dec->width;
    gchar *p = g_strdup_printf ("decoder/layer_%d", l);
    gchar *sa = g_strconcat (p, "/self_attention", NULL);
    gchar *ca = g_strconcat (p, "/attention", NULL);
    gchar *ff = g_strconcat (p, "/ffn", NULL);
    gboolean ok
        = (L->sa_g = get_vector (dec, m, sa, "/layer_norm/gamma", error))
          && (L->sa_b = get_vector (dec, m, sa, "/layer_norm/beta", error))
          && (L->ca_g = get_vector (dec, m, ca, "/layer_norm/gamma", error))
          && (L->ca_b = get_vector (dec, m, ca, "/layer_norm/beta", error))
          && (L->ff_g = get_vector (dec, m, ff, "/layer_norm/gamma", error))
          && (L->ff_b = get_vector (dec, m, ff, "/layer_norm/beta", error))
          && (L->qkv = get_linear (dec, m, sa, "/linear_0", D, 3 * D, error))
          && (L->sa_out = get_linear (dec, m, sa, "/linear_1", D, D, error))
          && (L->ca_q = get_linear (dec, m, ca, "/linear_0", D, D, error))
          && (L->ca_kv = get_linear (dec, m, ca, "/linear_1", D, 2 * D, error))
          && (L->ca_out = get_linear (dec, m, ca, "/linear_2", D, D, error))
          && (L->fc1 = get_linear (dec, m, ff, "/linear_0", D, 4 * D, error))
          && (L->fc2 = get_linear (dec, m, ff, "/linear_1", 4 * D, D, error));

    g_free (p);
    g_free (sa);
    g_free (ca);
    g_free (ff);
    if (!ok)
      goto fail;
    L->cache = affect_tensor_new_zeros (backend, 1, 1, dec->max_len, 3 * D);
  }
  return dec;

fail:
  affect_whisper_decoder_free (dec);
  return NULL;
}

void
affect_whisper_decoder_free (AffectWhisperDecoder *dec)
{
  int l;

  if (!dec)
    return;
  for (l = 0; l < dec->n_layers; l++) {
    Layer *L = &dec->layers[l];

    g_clear_pointer (&L->sa_g, affect_tensor_free);
    g_clear_pointer (&L->sa_b, affect_tensor_free);
    g_clear_pointer (&L->ca_g, affect_tensor_free);
    g_clear_pointer (&L->ca_b, affect_tensor_free);
    g_clear_pointer (&L->ff_g, affect_tensor_free);
    g_clear_pointer (&L->ff_b, affect_tensor_free);
    g_clear_pointer (&L->qkv, affect_linear_free);
    g_clear_pointer (&L->sa_out, affect_linear_free);
    g_clear_pointer (&L->ca_q, affect_linear_free);
    g_clear_pointer (&L->ca_kv, affect_linear_free);
    g_clear_pointer (&L->ca_out, affect_linear_free);
    g_clear_pointer (&L->fc1, affect_linear_free);
    g_clear_pointer (&L->fc2, affect_linear_free);
    g_clear_pointer (&L->cache, affect_tensor_free);
    g_clear_pointer (&L->cross, affect_tensor_free);
  }
  g_free (dec->layers);
  g_clear_pointer (&dec->embedding, affect_tensor_free);
  g_clear_pointer (&dec->logits_proj, affect_linear_free);
  g_clear_pointer (&dec->positions, affect_tensor_free);
  g_clear_pointer (&dec->ln_g, affect_tensor_free);
  g_clear_pointer (&dec->ln_b, affect_tensor_free);
  g_free (dec->capture);
  affect_backend_unref (dec->backend);
  g_free (dec);
}

int
affect_whisper_decoder_get_width (AffectWhisperDecoder *dec)
{
  return dec->width;
}

int
affect_whisper_decoder_get_n_heads (AffectWhisperDecoder *dec)
{
  return dec->n_heads;
}

int
affect_whisper_decoder_get_n_layers (AffectWhisperDecoder *dec)
{
  return dec->n_layers;
}

int
affect_whisper_decoder_get_vocab_size (AffectWhisperDecoder *dec)
{
  return dec->vocab;
}

int
affect_whisper_decoder_get_max_length (AffectWhisperDecoder *dec)
{
  return dec->max_len;
}

int
affect_whisper_decoder_get_length (AffectWhisperDecoder *dec)
{
  return dec->length;
}

void
affect_whisper_decoder_set_audio (
    AffectWhisperDecoder *dec, const AffectTensor *enc)
{
  int l;

  /* NULL after a failure recorded on the backend: the next forward
   * returns it */
  AFFECT_PASS_FAILURE (enc, );
  g_return_if_fail (enc != NULL && enc->c == dec->width);
  for (l = 0; l < dec->n_layers; l++) {
    Layer *L = &dec->layers[l];

    g_clear_pointer (&L->cross, affect_tensor_free);
    L->cross = affect_linear_forward (L->ca_kv, enc);
  }
  dec->n_frames = enc->n * enc->h * enc->w;
  dec->length = 0;
}

void
affect_whisper_decoder_reset (AffectWhisperDecoder *dec)
{
  dec->length = 0;
}

void
affect_whisper_decoder_set_capture_heads (
    AffectWhisperDecoder *dec, const int *pairs, int n)
{
  int i;

  g_free (dec->capture);
  dec->capture = NULL;
  dec->n_capture = 0;
  for (i = 0; i < n; i++)
    g_return_if_fail (pairs[2 * i] >= 0 && pairs[2 * i] < dec->n_layers
                      && pairs[2 * i + 1] >= 0
                      && pairs[2 * i + 1] < dec->n_heads);
  dec->capture = g_memdup2 (pairs, sizeof (int) * 2 * MAX (n, 1));
  dec->n_capture = n;
}

/* A copy of @x normalised by (@g, @b). */
static AffectTensor *
normed (AffectWhisperDecoder *dec, AffectTensor *x, AffectTensor *g,
    AffectTensor *b)
{
  AffectTensor *h;

  if (x == NULL)
    return NULL;
  h = affect_tensor_new (dec->backend, 1, 1, x->w, x->c);
  affect_tensor_copy (h, x);
  affect_layer_norm_inplace (h, g, b, LN_EPS);
  return h;
}

/* Self-attention of the @n new rows (their Q|K|V already appended to the
 * cache at rows [length, length + n)) over the cached rows [0, length + n),
 * causal: returns [1, 1, n, D]. */
static AffectTensor *
self_attention (AffectWhisperDecoder *dec, Layer *L, int n)
{
  const int D = dec->width, H = dec->n_heads, d = D / H;
  const int T = dec->length + n;
  const gsize ld = 3 * (gsize)D;
  AffectTensor *scores = affect_tensor_new (dec->backend, 1, H, n, T);
  AffectTensor *out = affect_tensor_new (dec->backend, 1, 1, n, D);
  AffectMatView q
      = { L->cache, (gsize)dec->length * ld, n, d, (int)ld, { 0, (gsize)d } };
  AffectMatView k = { L->cache, (gsize)D, T, d, (int)ld, { 0, (gsize)d } };
  AffectMatView v = { L->cache, 2 * (gsize)D, T, d, (int)ld, { 0, (gsize)d } };
  AffectMatView s = affect_mat_view (scores);
  AffectMatView o = { out, 0, n, d, D, { 0, (gsize)d } };

  affect_matmul_strided (&q, FALSE, &k, TRUE, &s, 1, H, 1.0f, 0.0f);
  affect_softmax_masked_inplace (scores, 1.0f / sqrtf ((float)d), NULL, T - n);
  affect_matmul_strided (&s, FALSE, &v, FALSE, &o, 1, H, 1.0f, 0.0f);
  affect_tensor_free (scores);
  return out;
}

/* Cross-attention of @q [1, 1, n, D] over the window's K|V; copies the
 * scaled scores of the capture heads of layer @l into @captured. */
static AffectTensor *
cross_attention (
    AffectWhisperDecoder *dec, int l, AffectTensor *q, gfloat *captured)
{
  Layer *L = &dec->layers[l];
  const int D = dec->width, H = dec->n_heads, d = D / H;
  const int T = dec->n_frames;
  const float scale = 1.0f / sqrtf ((float)d);
  AffectTensor *scores, *out;
  AffectMatView qv, k, v, s, o;
  int c, n;

  /* NULL after a failure recorded on the backend: passed along */
  if (q == NULL)
    return NULL;
  n = q->w;
  scores = affect_tensor_new (dec->backend, 1, H, n, T);
  out = affect_tensor_new (dec->backend, 1, 1, n, D);
  qv = (AffectMatView){ q, 0, n, d, D, { 0, (gsize)d } };
  k = (AffectMatView){ L->cross, 0, T, d, 2 * D, { 0, (gsize)d } };
  v = (AffectMatView){ L->cross, (gsize)D, T, d, 2 * D, { 0, (gsize)d } };
  s = affect_mat_view (scores);
  o = (AffectMatView){ out, 0, n, d, D, { 0, (gsize)d } };

  affect_matmul_strided (&qv, FALSE, &k, TRUE, &s, 1, H, 1.0f, 0.0f);
  if (captured) {
    gfloat *all = NULL;

    for (c = 0; c < dec->n_capture; c++) {
      gfloat *dst = captured + (gsize)c * n * T;
      gsize i, size = (gsize)n * T;

      if (dec->capture[2 * c] != l)
        continue;
      if (!all) {
        all = g_new (gfloat, (gsize)H * n * T);
        affect_tensor_download (scores, all);
      }
      memcpy (dst, all + (gsize)dec->capture[2 * c + 1] * size,
          size * sizeof (gfloat));
      for (i = 0; i < size; i++)
        dst[i] *= scale;
    }
    g_free (all);
  }
  affect_softmax_masked_inplace (scores, scale, NULL, -1);
  affect_matmul_strided (&s, FALSE, &v, FALSE, &o, 1, H, 1.0f, 0.0f);
  affect_tensor_free (scores);
  return out;
}

gboolean
affect_whisper_decoder_forward (AffectWhisperDecoder *dec, const gint32 *tokens,
    int n, gboolean all_rows, gfloat *logits, gfloat *captured, GError **error)
{
  AffectTensor *x, *p, *h, *y, *a;
  gint32 *pos_ids;
  int i, l;

  g_return_val_if_fail (dec != NULL && tokens != NULL && n > 0, FALSE);
  /* a failure recorded on the backend (an allocation, a kernel) since the
   * last forward or in the encoder: stop the generation with it */
  if (affect_backend_has_error (dec->backend))
    return affect_backend_take_error (dec->backend, error);
  if (dec->n_frames == 0) {
    g_set_error (error, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_MISMATCH,
        "Whisper decoder: no audio window set");
    return FALSE;
  }
  if (dec->length + n > dec->max_len) {
    g_set_error (error, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_MISMATCH,
        "Whisper decoder: %d + %d tokens pass the maximum length %d",
        dec->length, n, dec->max_len);
    return FALSE;
  }
  for (i = 0; i < n; i++)
    if (tokens[i] < 0 || tokens[i] >= dec->vocab) {
      g_set_error (error, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_MISMATCH,
          "Whisper decoder: token %d is not in the vocabulary (%d)", tokens[i],
          dec->vocab);
      return FALSE;
    }

  pos_ids = g_new (gint32, n);
  for (i = 0; i < n; i++)
    pos_ids[i] = dec->length + i;
  x = affect_gather_rows (dec->embedding, tokens, n);
  p = affect_gather_rows (dec->positions, pos_ids, n);
  g_free (pos_ids);
  if (x == NULL) {
    /* an allocation failure recorded on the backend: the layers below read
     * the shape of x */
    affect_tensor_free (p);
    if (affect_backend_take_error (dec->backend, error))
      g_set_error (error, AFFECT_CT2_ERROR, AFFECT_CT2_ERROR_MISMATCH,
          "Whisper decoder: the embeddings could not be computed");
    return FALSE;
  }
  affect_binary_inplace (x, p, AFFECT_BINARY_ADD);
  affect_tensor_free (p);

  for (l = 0; l < dec->n_layers; l++) {
    Layer *L = &dec->layers[l];

    /* self-attention with the cache */
    h = normed (dec, x, L->sa_g, L->sa_b);
    y = affect_linear_forward (L->qkv, h);
    affect_tensor_free (h);
    affect_append_rows (L->cache, y, dec->length);
    affect_tensor_free (y);
    a = self_attention (dec, L, n);
    y = affect_linear_forward (L->sa_out, a);
    affect_tensor_free (a);
    affect_binary_inplace (x, y, AFFECT_BINARY_ADD);
    affect_tensor_free (y);

    /* cross-attention over the window */
    h = normed (dec, x, L->ca_g, L->ca_b);
    y = affect_linear_forward (L->ca_q, h);
    affect_tensor_free (h);
    a = cross_attention (dec, l, y, captured);
    affect_tensor_free (y);
    y = affect_linear_forward (L->ca_out, a);
    affect_tensor_free (a);
    affect_binary_inplace (x, y, AFFECT_BINARY_ADD);
    affect_tensor_free (y);

    /* MLP */
    h = normed (dec, x, L->ff_g, L->ff_b);
    y = affect_linear_forward (L->fc1, h);
    affect_tensor_free (h);
    affect_gelu_inplace (y);
    h = affect_linear_forward (L->fc2, y);
    affect_tensor_free (y);
    affect_binary_inplace (x, h, AFFECT_BINARY_ADD);
    affect_tensor_free (h);
  }
  dec->length += n;

  if (logits) {
    AffectWhisperClock clock;
    AffectTensor *last
        = all_rows ? x
                   : affect_tensor_view (
                       x, (gsize)(n - 1) * dec->width, 1, 1, 1, dec->width);

    affect_whisper_clock_start (&clock);
    affect_layer_norm_inplace (last, dec->ln_g, dec->ln_b, LN_EPS);
    y = affect_linear_forward (dec->logits_proj, last);
    affect_tensor_download (y, logits);
    affect_tensor_free (y);
    if (last != x)
      affect_tensor_free (last);
    affect_whisper_time_add (&dec->logits_time, &clock);
  }
  affect_tensor_free (x);
  if (affect_backend_has_error (dec->backend))
    return affect_backend_take_error (dec->backend, error);
  return TRUE;
}

AffectWhisperTime *
affect_whisper_decoder_get_logits_time (AffectWhisperDecoder *dec)
{
  return &dec->logits_time;
}
