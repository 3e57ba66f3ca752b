/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * FaceFeatureExtractor (see affect-facefeat.h).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "affect-facefeat.h"

#include <stdarg.h>
#include <string.h>

#define N_BLOCKS 4
#define N_CONVS 4

struct _AffectFaceFeat {
  AffectBackend *backend;
  AffectConv *conv[N_BLOCKS][N_CONVS];
};

gfloat *
affect_facefeat_get_weights (
    AffectStFile *file, const gchar *name, GError **error, ...)
{
  int64_t shape[AFFECT_ST_MAX_DIMS];
  guint n_dims = 0;
  va_list ap;
  int d;

  va_start (ap, error);
  while ((d = va_arg (ap, int)) != 0) {
    g_assert (n_dims < AFFECT_ST_MAX_DIMS);
    shape[n_dims++] = d;
  }
  va_end (ap);

  return affect_st_get_f32 (file, name, n_dims, shape, error);
}

static AffectConv *
load_separable (AffectBackend *backend, AffectStFile *file, const gchar *prefix,
    int cin, int cout, int stride, AffectActivation act, GError **error)
{
  gchar *name;
  gfloat *dw = NULL, *pw = NULL, *bias = NULL;
  AffectConv *conv = NULL;

  name = g_strdup_printf ("%s/depthwise_filter", prefix);
  dw = affect_facefeat_get_weights (file, name, error, 3, 3, cin, 1, 0);
  g_free (name);
  if (dw == NULL)
    goto out;

  name = g_strdup_printf ("%s/pointwise_filter", prefix);
  pw = affect_facefeat_get_weights (file, name, error, 1, 1, cin, cout, 0);
  g_free (name);
  if (pw == NULL)
    goto out;

  name = g_strdup_printf ("%s/bias", prefix);
  bias = affect_facefeat_get_weights (file, name, error, cout, 0);
  g_free (name);
  if (bias == NULL)
    goto out;

  conv = affect_conv_new_separable (
      backend, 3, 3, cin, cout, stride, AFFECT_PAD_SAME, dw, pw, bias, act);

out:
  g_free (dw);
  g_free (pw);
  g_free (bias);
  return conv;
}

static AffectConv *
load_first (AffectBackend *backend, AffectStFile *file, GError **error)
{
  gfloat *filters, *bias;
  AffectConv *conv = NULL;

  filters = affect_facefeat_get_weights (
      file, "dense0/conv0/filters", error, 3, 3, 3, 32, 0);
  if (filters == NULL)
    return NULL;
  bias = affect_facefeat_get_weights (file, "dense0/conv0/bias", error, 32, 0);
  if (bias != NULL)
    conv = affect_conv_new (backend, 3, 3, 3, 32, 2, AFFECT_PAD_SAME, filters,
        bias, AFFECT_ACT_RELU);
  g_free (filters);
  g_free (bias);
  return conv;
}

AffectFaceFeat *
affect_facefeat_new (AffectBackend *backend, AffectStFile *file, GError **error)
{
  static const int width[N_BLOCKS] = { 32, 64, 128, 256 };
  AffectFaceFeat *feat;
  int b, j;

  g_return_val_if_fail (backend != NULL, NULL);
  g_return_val_if_fail (file != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  feat = g_new0 (AffectFaceFeat, 1);
  feat->backend = affect_backend_ref (backend);

  for (b = 0; b < N_BLOCKS; b++) {
    for (j = 0; j < N_CONVS; j++) {
      AffectConv *conv;

      if (b == 0 && j == 0) {
        conv = load_first (backend, file, error);
      } else {
        gchar *prefix = g_strdup_printf ("dense%d/conv%d", b, j);
        int cin = (j == 0) ? width[b - 1] : width[b];

        /* o1 = relu (c0 (x)); c1..c3 are not activated */
        conv = load_separable (backend, file, prefix, cin, width[b],
            j == 0 ? 2 : 1, j == 0 ? AFFECT_ACT_RELU : AFFECT_ACT_NONE, error);
        g_free (prefix);
      }
      if (conv == NULL) {
        affect_facefeat_free (feat);
        return NULL;
      }
      feat->conv[b][j] = conv;
    }
  }
  return feat;
}

void
affect_facefeat_free (AffectFaceFeat *feat)
{
  int b, j;

  if (feat == NULL)
    return;
  for (b = 0; b < N_BLOCKS; b++)
    for (j = 0; j < N_CONVS; j++)
      affect_conv_free (feat->conv[b][j]);
  affect_backend_unref (feat->backend);
  g_free (feat);
}

gboolean
affect_facefeat_load_net (AffectBackend *backend, const gchar *path,
    gboolean head_only, int n_out, AffectFaceFeat **feat, AffectLinear **fc,
    GError **error)
{
  AffectStFile *file;
  gfloat *w = NULL, *b = NULL;

  g_return_val_if_fail (backend != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  *feat = NULL;
  *fc = NULL;
  file = affect_st_open (path, error);
  if (file == NULL)
    return FALSE;
  if (!head_only) {
    *feat = affect_facefeat_new (backend, file, error);
    if (*feat == NULL)
      goto out;
  }
  w = affect_facefeat_get_weights (
      file, "fc/weights", error, AFFECT_FACEFEAT_N_FEATURES, n_out, 0);
  if (w != NULL)
    b = affect_facefeat_get_weights (file, "fc/bias", error, n_out, 0);
  if (b != NULL)
    *fc = affect_linear_new (
        backend, AFFECT_FACEFEAT_N_FEATURES, n_out, w, FALSE, b);
  else
    g_clear_pointer (feat, affect_facefeat_free);

out:
  g_free (w);
  g_free (b);
  affect_st_close (file);
  return b != NULL;
}

static AffectTensor *
dense_block (AffectConv *const conv[N_CONVS], const AffectTensor *x)
{
  AffectTensor *o1, *o2, *o3, *o4, *t;

  o1 = affect_conv_forward (conv[0], x); /* relu included */
  o2 = affect_conv_forward (conv[1], o1);

  t = affect_add (o1, o2);
  affect_activate_inplace (t, AFFECT_ACT_RELU);
  o3 = affect_conv_forward (conv[2], t);
  affect_tensor_free (t);

  t = affect_add (o2, o3);
  affect_add_inplace (t, o1); /* o1 + (o2 + o3) */
  affect_activate_inplace (t, AFFECT_ACT_RELU);
  o4 = affect_conv_forward (conv[3], t);
  affect_tensor_free (t);

  /* o1 + (o2 + (o3 + o4)); float addition is commutative */
  affect_add_inplace (o4, o3);
  affect_add_inplace (o4, o2);
  affect_add_inplace (o4, o1);
  affect_activate_inplace (o4, AFFECT_ACT_RELU);

  affect_tensor_free (o1);
  affect_tensor_free (o2);
  affect_tensor_free (o3);
  return o4;
}

AffectTensor *
affect_facefeat_forward (AffectFaceFeat *feat, const AffectTensor *input)
{
  AffectTensor *x, *next, *pooled;
  int b;

  g_return_val_if_fail (feat != NULL, NULL);
  /* NULL after a failure recorded on the backend: passed along */
  AFFECT_PASS_FAILURE (input, NULL);
  g_return_val_if_fail (input != NULL, NULL);
  g_return_val_if_fail (input->h == AFFECT_FACEFEAT_INPUT_SIZE
                            && input->w == AFFECT_FACEFEAT_INPUT_SIZE
                            && input->c == 3,
      NULL);

  x = dense_block (feat->conv[0], input);
  for (b = 1; b < N_BLOCKS; b++) {
    next = dense_block (feat->conv[b], x);
    affect_tensor_free (x);
    x = next;
  }
  pooled = affect_avg_pool (x, 7, 2, AFFECT_PAD_VALID);
  affect_tensor_free (x);
  return pooled;
}

gboolean
affect_facenet_check_args (const AffectImage *img, const AffectBox *boxes,
    int n, const void *out, GError **error)
{
  int i, used[4];

  if (!affect_image_is_valid (img)) {
    g_set_error (error, AFFECT_IMAGE_ERROR, AFFECT_IMAGE_ERROR_ARGUMENT,
        "invalid image description");
    return FALSE;
  }
  if (n < 1 || boxes == NULL || out == NULL) {
    g_set_error (error, AFFECT_IMAGE_ERROR, AFFECT_IMAGE_ERROR_ARGUMENT,
        "need at least one face box and an output array (n = %d)", n);
    return FALSE;
  }
  for (i = 0; i < n; i++) {
    if (!affect_image_crop_box (img, &boxes[i], used)) {
      g_set_error (error, AFFECT_IMAGE_ERROR, AFFECT_IMAGE_ERROR_BOX,
          "face box %d (x %g, y %g, %g x %g) has no pixel inside the "
          "%d x %d image",
          i, boxes[i].x, boxes[i].y, boxes[i].width, boxes[i].height,
          img->width, img->height);
      return FALSE;
    }
  }
  return TRUE;
}

float *
affect_facenet_prepare_batch (const AffectImage *img, const AffectBox *boxes,
    int n, int size, int (*used)[4])
{
  gsize item = (gsize)size * size * 3;
  float *host = g_new (float, item *n);
  int i;

  for (i = 0; i < n; i++) {
    gboolean ok = affect_image_face_input_host (
        img, &boxes[i], size, host + item * i, used[i]);

    g_assert (ok); /* checked by affect_facenet_check_args () */
  }
  return host;
}

static void
run_chunk (AffectBackend *backend, gpointer net, AffectFacenetForward forward,
    const AffectImage *img, const AffectBox *boxes, int n, int size, float *out,
    float *features, int (*crops)[4])
{
  AffectTensor *input, *result, *feat = NULL;
  int (*used)[4];
  float *host;

  used = (int (*)[4])g_new (int, 4 * n);
  host = affect_facenet_prepare_batch (img, boxes, n, size, used);

  input = affect_tensor_new (backend, n, size, size, 3);
  affect_tensor_upload (input, host);
  g_free (host);

  result = forward (net, input, features ? &feat : NULL);
  affect_tensor_free (input);

  affect_tensor_download (result, out);
  affect_tensor_free (result);
  if (feat) {
    affect_tensor_download (feat, features);
    affect_tensor_free (feat);
  }
  if (crops)
    memcpy (crops, used, sizeof (int) * 4 * n);
  g_free (used);
}

void
affect_facenet_run_batched (AffectBackend *backend, gpointer net,
    AffectFacenetForward forward, const AffectImage *img,
    const AffectBox *boxes, int n, int size, float *out, int out_dim,
    float *features, int feat_dim, int (*crops)[4])
{
  int start;

  for (start = 0; start < n; start += AFFECT_FACENET_MAX_BATCH) {
    int count = MIN (n - start, AFFECT_FACENET_MAX_BATCH);

    run_chunk (backend, net, forward, img, boxes + start, count, size,
        out + (gsize)start * out_dim,
        features ? features + (gsize)start * feat_dim : NULL,
        crops ? crops + start : NULL);
  }
}

gboolean
affect_facenet_forward_host (AffectBackend *backend, gpointer net,
    AffectFacenetForward forward, int size, const float *in, int n, float *out,
    float *features)
{
  AffectTensor *input, *result, *feat = NULL;

  input = affect_tensor_new (backend, n, size, size, 3);
  if (input == NULL)
    return FALSE;
  affect_tensor_upload (input, in);
  result = forward (net, input, features ? &feat : NULL);
  affect_tensor_free (input);
  if (result == NULL)
    return FALSE;
  affect_tensor_download (result, out);
  affect_tensor_free (result);
  if (feat) {
    affect_tensor_download (feat, features);
    affect_tensor_free (feat);
  }
  return TRUE;
}

gboolean
affect_facenet_run_shared (AffectSharedNet *shared, gint64 window_us,
    const AffectImage *img, const AffectBox *boxes, int n, int size, float *out,
    float *features, int (*crops)[4], GError **error)
{
  int (*used)[4] = (int (*)[4])g_new (int, 4 * n);
  float *host = affect_facenet_prepare_batch (img, boxes, n, size, used);
  GError *failure = NULL;
  gboolean ok;

  ok = affect_shared_net_run (
      shared, window_us, host, n, out, features, &failure);
  g_free (host);
  if (ok && crops)
    memcpy (crops, used, sizeof (int) * 4 * n);
  g_free (used);
  if (failure != NULL)
    g_propagate_error (error, failure);
  else if (!ok)
    g_set_error (error, AFFECT_IMAGE_ERROR, AFFECT_IMAGE_ERROR_FAILED,
        "the forward pass of the face network failed (%d faces)", n);
  return ok;
}
