/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * FaceLandmark68Net (see affect-landmarks.h).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "affect-landmarks.h"
#include "affect-facefeat.h"

#include <math.h>
#include <string.h>

#define N_OUT (2 * AFFECT_LANDMARKS_N_POINTS)

struct _AffectLandmarkNet {
  AffectBackend *backend;
  AffectFaceFeat *feat;
  AffectLinear *fc;
};

AffectLandmarkNet *
affect_landmark_net_new (
    AffectBackend *backend, const gchar *safetensors_path, GError **error)
{
  AffectLandmarkNet *net = g_new0 (AffectLandmarkNet, 1);

  if (!affect_facefeat_load_net (backend, safetensors_path, FALSE, N_OUT,
          &net->feat, &net->fc, error)) {
    g_free (net);
    return NULL;
  }
  net->backend = affect_backend_ref (backend);
  return net;
}

void
affect_landmark_net_free (AffectLandmarkNet *net)
{
  if (net == NULL)
    return;
  affect_facefeat_free (net->feat);
  affect_linear_free (net->fc);
  affect_backend_unref (net->backend);
  g_free (net);
}

AffectTensor *
affect_landmark_net_forward (AffectLandmarkNet *net, const AffectTensor *input)
{
  AffectTensor *feat, *out;

  g_return_val_if_fail (net != NULL, NULL);

  feat = affect_facefeat_forward (net->feat, input);
  if (feat == NULL)
    return NULL;
  out = affect_linear_forward (net->fc, feat);
  affect_tensor_free (feat);
  return out;
}

/* FaceLandmark68NetBase.postProcess () followed by the shift by the
 * detection box: the tensor arithmetic is float32, the Point arithmetic
 * double. */
static void
post_process (const float *v, const int crop[4], const AffectBox *box,
    float points[68][2])
{
  double w = crop[2], h = crop[3];
  double s = AFFECT_LANDMARKS_INPUT_SIZE / MAX (w, h);
  double ws = w * s, hs = h * s;
  float pad_x = (float)(ws < hs ? fabs (ws - hs) / 2.0 : 0.0);
  float pad_y = (float)(hs < ws ? fabs (ws - hs) / 2.0 : 0.0);
  float ws_f = (float)ws, hs_f = (float)hs;
  const float size_f = (float)AFFECT_LANDMARKS_INPUT_SIZE;
  int i;

  for (i = 0; i < AFFECT_LANDMARKS_N_POINTS; i++) {
    float x_rel = (v[2 * i] * size_f - pad_x) / ws_f;
    float y_rel = (v[2 * i + 1] * size_f - pad_y) / hs_f;

    /* FaceLandmarks68 (rel, {w, h}).shiftBy (box.x, box.y) recomputes the
     * relative position as (rel w) / w before scaling and shifting */
    double rx = ((double)x_rel * w) / w;
    double ry = ((double)y_rel * h) / h;

    points[i][0] = (float)(rx * w + (double)box->x);
    points[i][1] = (float)(ry * h + (double)box->y);
  }
}

static void
run_chunk (AffectLandmarkNet *net, const AffectImage *img,
    const AffectBox *boxes, int n, float (*points)[68][2], int (*crops)[4])
{
  AffectTensor *input, *out;
  float *host, *res;
  int (*used)[4];
  int i;

  used = (int (*)[4])g_new (int, 4 * n);
  host = affect_facenet_prepare_batch (
      img, boxes, n, AFFECT_LANDMARKS_INPUT_SIZE, used);

  input = affect_tensor_new (net->backend, n, AFFECT_LANDMARKS_INPUT_SIZE,
      AFFECT_LANDMARKS_INPUT_SIZE, 3);
  affect_tensor_upload (input, host);
  g_free (host);

  out = affect_landmark_net_forward (net, input);
  affect_tensor_free (input);

  /* zeros when the forward failed (a failure recorded on the backend) */
  res = g_new0 (float, (gsize)n *N_OUT);
  affect_tensor_download (out, res);
  affect_tensor_free (out);

  for (i = 0; i < n; i++) {
    post_process (res + (gsize)i * N_OUT, used[i], &boxes[i], points[i]);
    if (crops)
      memcpy (crops[i], used[i], sizeof (used[i]));
  }
  g_free (res);
  g_free (used);
}

gboolean
affect_landmark_net_run_full (AffectLandmarkNet *net, const AffectImage *img,
    const AffectBox *boxes, int n, float (*points)[68][2], int (*crops)[4],
    GError **error)
{
  int start;

  g_return_val_if_fail (net != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  if (!affect_facenet_check_args (img, boxes, n, points, error))
    return FALSE;

  for (start = 0; start < n; start += AFFECT_FACENET_MAX_BATCH) {
    int count = MIN (n - start, AFFECT_FACENET_MAX_BATCH);

    run_chunk (net, img, boxes + start, count, points + start,
        crops ? crops + start : NULL);
  }
  return TRUE;
}

gboolean
affect_landmark_net_run (AffectLandmarkNet *net, const AffectImage *img,
    const AffectBox *boxes, int n, float (*points)[68][2], GError **error)
{
  return affect_landmark_net_run_full (net, img, boxes, n, points, NULL, error);
}

/* ---- as a shared network ------------------------------------------------ */

static gpointer
shared_load (AffectBackend *backend, const gchar *path, GError **error)
{
  return affect_landmark_net_new (backend, path, error);
}

static void
shared_free (gpointer net)
{
  affect_landmark_net_free (net);
}

static AffectTensor *
forward_cb (gpointer net, const AffectTensor *input, AffectTensor **features)
{
  g_assert (features == NULL);
  return affect_landmark_net_forward (net, input);
}

static gboolean
shared_forward (const AffectSharedNetClass *klass, gpointer net,
    const float *in, int n, float *out, float *features)
{
  return affect_facenet_forward_host (((AffectLandmarkNet *)net)->backend, net,
      forward_cb, AFFECT_LANDMARKS_INPUT_SIZE, in, n, out, NULL);
}

static const AffectSharedNetClass landmark_class = {
  .kind = "face_landmark_68",
  .load = shared_load,
  .free = shared_free,
  .forward = shared_forward,
  .in_dim = AFFECT_LANDMARKS_INPUT_SIZE * AFFECT_LANDMARKS_INPUT_SIZE * 3,
  .out_dim = N_OUT,
  .feat_dim = 0,
  .max_batch = AFFECT_FACENET_MAX_BATCH,
};

const AffectSharedNetClass *
affect_landmark_net_class (void)
{
  return &landmark_class;
}

gboolean
affect_landmark_net_run_shared (AffectSharedNet *shared, gint64 window_us,
    const AffectImage *img, const AffectBox *boxes, int n,
    float (*points)[68][2], int (*crops)[4], GError **error)
{
  int (*used)[4];
  float *res;
  int i;

  g_return_val_if_fail (shared != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  if (!affect_facenet_check_args (img, boxes, n, points, error))
    return FALSE;

  used = (int (*)[4])g_new (int, 4 * n);
  /* zeros when the forward failed (a failure recorded on the backend) */
  res = g_new0 (float, (gsize)n *N_OUT);
  if (!affect_facenet_run_shared (shared, window_us, img, boxes, n,
          AFFECT_LANDMARKS_INPUT_SIZE, res, NULL, used, error)) {
    g_free (res);
    g_free (used);
    return FALSE;
  }
  for (i = 0; i < n; i++) {
    post_process (res + (gsize)i * N_OUT, used[i], &boxes[i], points[i]);
    if (crops)
      memcpy (crops[i], used[i], sizeof (used[i]));
  }
  g_free (res);
  g_free (used);
  return TRUE;
}
