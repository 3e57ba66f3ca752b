/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * FaceExpressionNet (see affect-expression.h).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "affect-expression.h"
#include "affect-facefeat.h"

#include <string.h>

const gchar *const affect_expression_labels[AFFECT_EXPRESSION_N_LABELS]
    = { "neutral", "happy", "sad", "angry", "fearful", "disgusted",
        "surprised" };

struct _AffectExpressionNet {
  AffectBackend *backend;
  AffectFaceFeat *feat;
  AffectLinear *fc;
};

/* The whole network, or with @head_only its FC layer alone. */
static AffectExpressionNet *
expression_net_load (AffectBackend *backend, const gchar *safetensors_path,
    gboolean head_only, GError **error)
{
  AffectExpressionNet *net = g_new0 (AffectExpressionNet, 1);

  if (!affect_facefeat_load_net (backend, safetensors_path, head_only,
          AFFECT_EXPRESSION_N_LABELS, &net->feat, &net->fc, error)) {
    g_free (net);
    return NULL;
  }
  net->backend = affect_backend_ref (backend);
  return net;
}

AffectExpressionNet *
affect_expression_net_new (
    AffectBackend *backend, const gchar *safetensors_path, GError **error)
{
  return expression_net_load (backend, safetensors_path, FALSE, error);
}

AffectExpressionNet *
affect_expression_net_new_head (
    AffectBackend *backend, const gchar *safetensors_path, GError **error)
{
  return expression_net_load (backend, safetensors_path, TRUE, error);
}

void
affect_expression_net_free (AffectExpressionNet *net)
{
  if (net == NULL)
    return;
  affect_facefeat_free (net->feat);
  affect_linear_free (net->fc);
  affect_backend_unref (net->backend);
  g_free (net);
}

AffectTensor *
affect_expression_net_forward_features (AffectExpressionNet *net,
    const AffectTensor *input, AffectTensor **features)
{
  AffectTensor *feat, *out;

  g_return_val_if_fail (net != NULL, NULL);
  g_return_val_if_fail (net->feat != NULL, NULL); /* a head-only net */

  feat = affect_facefeat_forward (net->feat, input);
  if (feat == NULL)
    return NULL;
  out = affect_linear_forward (net->fc, feat);
  affect_softmax_inplace (out);
  if (features)
    *features = feat;
  else
    affect_tensor_free (feat);
  return out;
}

AffectTensor *
affect_expression_net_forward (
    AffectExpressionNet *net, const AffectTensor *input)
{
  return affect_expression_net_forward_features (net, input, NULL);
}

static AffectTensor *
forward_cb (gpointer net, const AffectTensor *input, AffectTensor **features)
{
  return affect_expression_net_forward_features (net, input, features);
}

gboolean
affect_expression_net_run_full (AffectExpressionNet *net,
    const AffectImage *img, const AffectBox *boxes, int n, float *probs,
    float *features, int (*crops)[4], GError **error)
{
  g_return_val_if_fail (net != NULL, FALSE);
  g_return_val_if_fail (net->feat != NULL, FALSE); /* a head-only net */
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  if (!affect_facenet_check_args (img, boxes, n, probs, error))
    return FALSE;

  affect_facenet_run_batched (net->backend, net, forward_cb, img, boxes, n,
      AFFECT_EXPRESSION_INPUT_SIZE, probs, AFFECT_EXPRESSION_N_LABELS, features,
      AFFECT_EXPRESSION_N_FEATURES, crops);
  return TRUE;
}

gboolean
affect_expression_net_run (AffectExpressionNet *net, const AffectImage *img,
    const AffectBox *boxes, int n, float *probs, float *features,
    GError **error)
{
  return affect_expression_net_run_full (
      net, img, boxes, n, probs, features, NULL, error);
}

gboolean
affect_expression_net_classify (
    AffectExpressionNet *net, const float *features, int n, float *probs)
{
  AffectTensor *x, *out;

  g_return_val_if_fail (net != NULL, FALSE);
  g_return_val_if_fail (n >= 0, FALSE);
  g_return_val_if_fail (n == 0 || (features != NULL && probs != NULL), FALSE);

  if (n == 0)
    return TRUE;
  /* an allocation failure is recorded on the backend */
  x = affect_tensor_new (net->backend, n, 1, 1, AFFECT_EXPRESSION_N_FEATURES);
  if (x == NULL)
    return FALSE;
  affect_tensor_upload (x, features);
  out = affect_linear_forward (net->fc, x);
  affect_tensor_free (x);
  if (out == NULL)
    return FALSE;
  affect_softmax_inplace (out);
  affect_tensor_download (out, probs);
  affect_tensor_free (out);
  return TRUE;
}

/* ---- as a shared network ------------------------------------------------ */

static gpointer
shared_load (AffectBackend *backend, const gchar *path, GError **error)
{
  return affect_expression_net_new (backend, path, error);
}

static void
shared_free (gpointer net)
{
  affect_expression_net_free (net);
}

static gboolean
shared_forward (const AffectSharedNetClass *klass, gpointer net,
    const float *in, int n, float *out, float *features)
{
  return affect_facenet_forward_host (((AffectExpressionNet *)net)->backend,
      net, forward_cb, AFFECT_EXPRESSION_INPUT_SIZE, in, n, out, features);
}

static const AffectSharedNetClass shared_class = {
  .kind = "face_expression",
  .load = shared_load,
  .free = shared_free,
  .forward = shared_forward,
  .in_dim = AFFECT_EXPRESSION_INPUT_SIZE * AFFECT_EXPRESSION_INPUT_SIZE * 3,
  .out_dim = AFFECT_EXPRESSION_N_LABELS,
  .feat_dim = AFFECT_EXPRESSION_N_FEATURES,
  .max_batch = AFFECT_FACENET_MAX_BATCH,
};

const AffectSharedNetClass *
affect_expression_net_class (void)
{
  return &shared_class;
}

gboolean
affect_expression_net_run_shared (AffectSharedNet *shared, gint64 window_us,
    const AffectImage *img, const AffectBox *boxes, int n, float *probs,
    float *features, int (*crops)[4], GError **error)
{
  g_return_val_if_fail (shared != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  if (!affect_facenet_check_args (img, boxes, n, probs, error))
    return FALSE;
  return affect_facenet_run_shared (shared, window_us, img, boxes, n,
      AFFECT_EXPRESSION_INPUT_SIZE, probs, features, crops, error);
}
