/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * FaceRecognitionNet (see affect-recognition.h).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "affect-recognition.h"
#include "affect-facefeat.h"

#include <string.h>

typedef enum {
  BLOCK_SAME, /* residual at the same size */
  BLOCK_DOWN  /* residual with stride 2 */
} BlockKind;

typedef struct {
  const gchar *name;
  BlockKind kind;
  int cin, cout;
} BlockInfo;

static const BlockInfo blocks[] = {
  { "conv32_1", BLOCK_SAME, 32, 32 },
  { "conv32_2", BLOCK_SAME, 32, 32 },
  { "conv32_3", BLOCK_SAME, 32, 32 },
  { "conv64_down", BLOCK_DOWN, 32, 64 },
  { "conv64_1", BLOCK_SAME, 64, 64 },
  { "conv64_2", BLOCK_SAME, 64, 64 },
  { "conv64_3", BLOCK_SAME, 64, 64 },
  { "conv128_down", BLOCK_DOWN, 64, 128 },
  { "conv128_1", BLOCK_SAME, 128, 128 },
  { "conv128_2", BLOCK_SAME, 128, 128 },
  { "conv256_down", BLOCK_DOWN, 128, 256 },
  { "conv256_1", BLOCK_SAME, 256, 256 },
  { "conv256_2", BLOCK_SAME, 256, 256 },
  { "conv256_down_out", BLOCK_DOWN, 256, 256 },
};

#define N_BLOCKS G_N_ELEMENTS (blocks)

struct _AffectRecognitionNet {
  AffectBackend *backend;
  AffectConv *stem; /* conv32_down */
  AffectConv *unit[N_BLOCKS][2];
  AffectLinear *fc;
};

/* conv + bias, then the per-channel affine "scale", then @act. */
static AffectConv *
load_unit (AffectBackend *backend, AffectStFile *file, const gchar *prefix,
    int k, int cin, int cout, int stride, AffectPadding padding,
    AffectActivation act, GError **error)
{
  gchar *name;
  gfloat *filters = NULL, *bias = NULL, *scale = NULL, *shift = NULL;
  AffectConv *conv = NULL;

  name = g_strdup_printf ("%s/conv/filters", prefix);
  filters = affect_facefeat_get_weights (file, name, error, k, k, cin, cout, 0);
  g_free (name);
  if (filters == NULL)
    goto out;

  name = g_strdup_printf ("%s/conv/bias", prefix);
  bias = affect_facefeat_get_weights (file, name, error, cout, 0);
  g_free (name);
  if (bias == NULL)
    goto out;

  name = g_strdup_printf ("%s/scale/weights", prefix);
  scale = affect_facefeat_get_weights (file, name, error, cout, 0);
  g_free (name);
  if (scale == NULL)
    goto out;

  name = g_strdup_printf ("%s/scale/biases", prefix);
  shift = affect_facefeat_get_weights (file, name, error, cout, 0);
  g_free (name);
  if (shift == NULL)
    goto out;

  conv = affect_conv_new (
      backend, k, k, cin, cout, stride, padding, filters, bias, act);
  affect_conv_set_affine (conv, scale, shift);

out:
  g_free (filters);
  g_free (bias);
  g_free (scale);
  g_free (shift);
  return conv;
}

AffectRecognitionNet *
affect_recognition_net_new (
    AffectBackend *backend, const gchar *safetensors_path, GError **error)
{
  AffectRecognitionNet *net;
  AffectStFile *file;
  gfloat *w;
  guint i;

  g_return_val_if_fail (backend != NULL, NULL);
  g_return_val_if_fail (safetensors_path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  file = affect_st_open (safetensors_path, error);
  if (file == NULL)
    return NULL;

  net = g_new0 (AffectRecognitionNet, 1);
  net->backend = affect_backend_ref (backend);

  net->stem = load_unit (backend, file, "conv32_down", 7, 3, 32, 2,
      AFFECT_PAD_VALID, AFFECT_ACT_RELU, error);
  if (net->stem == NULL)
    goto fail;

  for (i = 0; i < N_BLOCKS; i++) {
    const BlockInfo *info = &blocks[i];
    gboolean down = info->kind == BLOCK_DOWN;
    gchar *prefix;

    prefix = g_strdup_printf ("%s/conv1", info->name);
    net->unit[i][0] = load_unit (backend, file, prefix, 3, info->cin,
        info->cout, down ? 2 : 1, down ? AFFECT_PAD_VALID : AFFECT_PAD_SAME,
        AFFECT_ACT_RELU, error);
    g_free (prefix);
    if (net->unit[i][0] == NULL)
      goto fail;

    prefix = g_strdup_printf ("%s/conv2", info->name);
    net->unit[i][1] = load_unit (backend, file, prefix, 3, info->cout,
        info->cout, 1, AFFECT_PAD_SAME, AFFECT_ACT_NONE, error);
    g_free (prefix);
    if (net->unit[i][1] == NULL)
      goto fail;
  }

  w = affect_facefeat_get_weights (file, "fc", error,
      AFFECT_RECOGNITION_N_FEATURES, AFFECT_RECOGNITION_N_DESCRIPTOR, 0);
  if (w == NULL)
    goto fail;
  net->fc = affect_linear_new (backend, AFFECT_RECOGNITION_N_FEATURES,
      AFFECT_RECOGNITION_N_DESCRIPTOR, w, FALSE, NULL);
  g_free (w);

  affect_st_close (file);
  return net;

fail:
  affect_st_close (file);
  affect_recognition_net_free (net);
  return NULL;
}

void
affect_recognition_net_free (AffectRecognitionNet *net)
{
  guint i;

  if (net == NULL)
    return;
  affect_conv_free (net->stem);
  for (i = 0; i < N_BLOCKS; i++) {
    affect_conv_free (net->unit[i][0]);
    affect_conv_free (net->unit[i][1]);
  }
  affect_linear_free (net->fc);
  affect_backend_unref (net->backend);
  g_free (net);
}

/* One residual block; consumes nothing, returns a new tensor. */
static AffectTensor *
residual (AffectRecognitionNet *net, guint i, const AffectTensor *x)
{
  AffectTensor *a, *main, *shortcut = NULL, *t;

  a = affect_conv_forward (net->unit[i][0], x);
  main = affect_conv_forward (net->unit[i][1], a);
  affect_tensor_free (a);

  if (blocks[i].kind == BLOCK_SAME) {
    affect_add_inplace (main, x);
    affect_activate_inplace (main, AFFECT_ACT_RELU);
    return main;
  }

  shortcut = affect_avg_pool (x, 2, 2, AFFECT_PAD_VALID);
  if (main == NULL || shortcut == NULL) {
    /* a failure recorded on the backend (docs/inference-core.md) */
    affect_tensor_free (main);
    affect_tensor_free (shortcut);
    return NULL;
  }
  if (shortcut->c < main->c) {
    t = affect_pad_channels (shortcut, main->c);
    affect_tensor_free (shortcut);
    shortcut = t;
    if (shortcut == NULL) {
      affect_tensor_free (main);
      return NULL;
    }
  }
  if (main->h < shortcut->h || main->w < shortcut->w) {
    t = affect_pad (main, 0, shortcut->h - main->h, 0, shortcut->w - main->w);
    affect_tensor_free (main);
    main = t;
  }
  affect_add_inplace (shortcut, main);
  affect_tensor_free (main);
  affect_activate_inplace (shortcut, AFFECT_ACT_RELU);
  return shortcut;
}

AffectTensor *
affect_recognition_net_forward_features (AffectRecognitionNet *net,
    const AffectTensor *input, AffectTensor **features)
{
  AffectTensor *x, *t, *pooled, *out;
  guint i;

  g_return_val_if_fail (net != NULL, NULL);
  /* NULL after a failure recorded on the backend: passed along */
  AFFECT_PASS_FAILURE (input, NULL);
  g_return_val_if_fail (input != NULL, NULL);
  g_return_val_if_fail (input->h == AFFECT_RECOGNITION_INPUT_SIZE
                            && input->w == AFFECT_RECOGNITION_INPUT_SIZE
                            && input->c == 3,
      NULL);

  t = affect_conv_forward (net->stem, input);
  x = affect_max_pool (t, 3, 2, AFFECT_PAD_VALID);
  affect_tensor_free (t);

  for (i = 0; i < N_BLOCKS; i++) {
    t = residual (net, i, x);
    affect_tensor_free (x);
    x = t;
  }

  pooled = affect_global_mean (x);
  affect_tensor_free (x);
  out = affect_linear_forward (net->fc, pooled);
  if (features)
    *features = pooled;
  else
    affect_tensor_free (pooled);
  return out;
}

AffectTensor *
affect_recognition_net_forward (
    AffectRecognitionNet *net, const AffectTensor *input)
{
  return affect_recognition_net_forward_features (net, input, NULL);
}

static AffectTensor *
forward_cb (gpointer net, const AffectTensor *input, AffectTensor **features)
{
  return affect_recognition_net_forward_features (net, input, features);
}

gboolean
affect_recognition_net_run_full (AffectRecognitionNet *net,
    const AffectImage *img, const AffectBox *boxes, int n, float *descriptors,
    float *features, int (*crops)[4], GError **error)
{
  g_return_val_if_fail (net != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  if (!affect_facenet_check_args (img, boxes, n, descriptors, error))
    return FALSE;

  affect_facenet_run_batched (net->backend, net, forward_cb, img, boxes, n,
      AFFECT_RECOGNITION_INPUT_SIZE, descriptors,
      AFFECT_RECOGNITION_N_DESCRIPTOR, features, AFFECT_RECOGNITION_N_FEATURES,
      crops);
  return TRUE;
}

gboolean
affect_recognition_net_run (AffectRecognitionNet *net, const AffectImage *img,
    const AffectBox *boxes, int n, float *descriptors, float *features,
    GError **error)
{
  return affect_recognition_net_run_full (
      net, img, boxes, n, descriptors, features, NULL, error);
}

/* ---- as a shared network ------------------------------------------------ */

static gpointer
shared_load (AffectBackend *backend, const gchar *path, GError **error)
{
  return affect_recognition_net_new (backend, path, error);
}

static void
shared_free (gpointer net)
{
  affect_recognition_net_free (net);
}

static gboolean
shared_forward (const AffectSharedNetClass *klass, gpointer net,
    const float *in, int n, float *out, float *features)
{
  return affect_facenet_forward_host (((AffectRecognitionNet *)net)->backend,
      net, forward_cb, AFFECT_RECOGNITION_INPUT_SIZE, in, n, out, features);
}

static const AffectSharedNetClass shared_class = {
  .kind = "face_recognition",
  .load = shared_load,
  .free = shared_free,
  .forward = shared_forward,
  .in_dim = AFFECT_RECOGNITION_INPUT_SIZE * AFFECT_RECOGNITION_INPUT_SIZE * 3,
  .out_dim = AFFECT_RECOGNITION_N_DESCRIPTOR,
  .feat_dim = AFFECT_RECOGNITION_N_FEATURES,
  .max_batch = AFFECT_FACENET_MAX_BATCH,
};

const AffectSharedNetClass *
affect_recognition_net_class (void)
{
  return &shared_class;
}

gboolean
affect_recognition_net_run_shared (AffectSharedNet *shared, gint64 window_us,
    const AffectImage *img, const AffectBox *boxes, int n, float *descriptors,
    float *features, int (*crops)[4], GError **error)
{
  g_return_val_if_fail (shared != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  if (!affect_facenet_check_args (img, boxes, n, descriptors, error))
    return FALSE;
  return affect_facenet_run_shared (shared, window_us, img, boxes, n,
      AFFECT_RECOGNITION_INPUT_SIZE, descriptors, features, crops, error);
}
