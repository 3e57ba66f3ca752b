/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * SsdMobilenetv1 forward pass and decoding. See affect-ssd.h and
 * docs/networks.md ("Detectors").
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include "affect-safetensors.h"
#include "affect-ssd.h"

#define N_BLOCKS 13
#define N_EXTRA 8
#define N_PREDICTORS 6
#define BN_EPSILON 0.001f

/* Output channels of conv_0 (index 0) and of blocks 1..13. */
static const int block_channels[N_BLOCKS + 1]
    = { 32, 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024 };

static int
block_stride (int block)
{
  return (block == 2 || block == 4 || block == 6 || block == 12) ? 2 : 1;
}

/* Prediction/Conv2d_i_pointwise: kernel, stride, in, out. */
static const int extra_layers[N_EXTRA][4] = {
  { 1, 1, 1024, 256 },
  { 3, 2, 256, 512 },
  { 1, 1, 512, 128 },
  { 3, 2, 128, 256 },
  { 1, 1, 256, 128 },
  { 3, 2, 128, 256 },
  { 1, 1, 256, 64 },
  { 3, 2, 64, 128 },
};

/* Box predictors: input channels and anchors per location. */
static const int predictor_in[N_PREDICTORS] = { 512, 1024, 512, 256, 256, 128 };
static const int predictor_anchors[N_PREDICTORS] = { 3, 6, 6, 6, 6, 6 };

struct _AffectSsd {
  AffectBackend *backend;
  AffectConv *conv0;
  AffectConv *depthwise[N_BLOCKS];
  AffectConv *pointwise[N_BLOCKS];
  AffectConv *extra[N_EXTRA];
  AffectConv *box_encoding[N_PREDICTORS];
  AffectConv *class_predictor[N_PREDICTORS];
  float *anchors; /* [5118][4] */
};

/* Loads @n_dims-dimensional tensor "@prefix/@suffix". */
static float *
load (AffectStFile *file, const gchar *prefix, const gchar *suffix,
    guint n_dims, const int64_t *shape, GError **error)
{
  gchar *name = g_strconcat (prefix, "/", suffix, NULL);
  float *data = affect_st_get_f32 (file, name, n_dims, shape, error);

  g_free (name);
  return data;
}

/* conv + convolution_bn_offset + ReLU6 ("pointwise" layers). */
static AffectConv *
load_offset_conv (AffectSsd *ssd, AffectStFile *file, const gchar *prefix,
    int k, int stride, int cin, int cout, GError **error)
{
  const int64_t wshape[4] = { k, k, cin, cout };
  const int64_t bshape[1] = { cout };
  float *w, *b = NULL;
  AffectConv *conv = NULL;

  if ((w = load (file, prefix, "weights", 4, wshape, error))
      && (b = load (file, prefix, "convolution_bn_offset", 1, bshape, error)))
    conv = affect_conv_new (ssd->backend, k, k, cin, cout, stride,
        AFFECT_PAD_SAME, w, b, AFFECT_ACT_RELU6);
  g_free (w);
  g_free (b);
  return conv;
}

/* depthwise 3×3 + batch norm + ReLU6. */
static AffectConv *
load_depthwise (AffectSsd *ssd, AffectStFile *file, int block, GError **error)
{
  int c = block_channels[block - 1];
  const int64_t wshape[4] = { 3, 3, c, 1 };
  const int64_t vshape[1] = { c };
  static const gchar *const bn_names[4] = { "BatchNorm/moving_mean",
    "BatchNorm/moving_variance", "BatchNorm/gamma", "BatchNorm/beta" };
  gchar *prefix = g_strdup_printf ("MobilenetV1/Conv2d_%d_depthwise", block);
  float *w, *bn[4] = { NULL, NULL, NULL, NULL };
  AffectConv *conv = NULL;
  gboolean ok;
  int i;

  ok = (w = load (file, prefix, "depthwise_weights", 4, wshape, error)) != NULL;
  for (i = 0; ok && i < 4; i++)
    ok = (bn[i] = load (file, prefix, bn_names[i], 1, vshape, error)) != NULL;
  if (ok) {
    conv = affect_conv_new_depthwise (ssd->backend, 3, 3, c,
        block_stride (block), AFFECT_PAD_SAME, w, NULL, AFFECT_ACT_RELU6);
    affect_conv_set_batch_norm (conv, bn[0], bn[1], bn[2], bn[3], BN_EPSILON);
  }
  g_free (w);
  for (i = 0; i < 4; i++)
    g_free (bn[i]);
  g_free (prefix);
  return conv;
}

/* 1×1 conv + bias, no activation (box predictors). */
static AffectConv *
load_predictor (AffectSsd *ssd, AffectStFile *file, int p, const gchar *kind,
    int cout, GError **error)
{
  int cin = predictor_in[p];
  const int64_t wshape[4] = { 1, 1, cin, cout };
  const int64_t bshape[1] = { cout };
  gchar *prefix = g_strdup_printf ("Prediction/BoxPredictor_%d/%s", p, kind);
  float *w, *b = NULL;
  AffectConv *conv = NULL;

  if ((w = load (file, prefix, "weights", 4, wshape, error))
      && (b = load (file, prefix, "biases", 1, bshape, error)))
    conv = affect_conv_new (ssd->backend, 1, 1, cin, cout, 1, AFFECT_PAD_SAME,
        w, b, AFFECT_ACT_NONE);
  g_free (w);
  g_free (b);
  g_free (prefix);
  return conv;
}

AffectSsd *
affect_ssd_new (AffectBackend *backend, const gchar *path, GError **error)
{
  AffectSsd *ssd;
  AffectStFile *file;
  int i;

  g_return_val_if_fail (backend != NULL, NULL);

  if (path == NULL) {
    g_set_error (error, AFFECT_DETECTOR_ERROR, AFFECT_DETECTOR_ERROR_MODEL,
        "No weights file given for the SSD face detector");
    return NULL;
  }

  file = affect_st_open (path, error);
  if (!file)
    return NULL;

  ssd = g_new0 (AffectSsd, 1);
  ssd->backend = affect_backend_ref (backend);

  ssd->conv0 = load_offset_conv (ssd, file, "MobilenetV1/Conv2d_0_pointwise", 3,
      2, 3, block_channels[0], error);
  if (!ssd->conv0)
    goto fail;

  for (i = 1; i <= N_BLOCKS; i++) {
    gchar *prefix;

    ssd->depthwise[i - 1] = load_depthwise (ssd, file, i, error);
    if (!ssd->depthwise[i - 1])
      goto fail;
    prefix = g_strdup_printf ("MobilenetV1/Conv2d_%d_pointwise", i);
    ssd->pointwise[i - 1] = load_offset_conv (ssd, file, prefix, 1, 1,
        block_channels[i - 1], block_channels[i], error);
    g_free (prefix);
    if (!ssd->pointwise[i - 1])
      goto fail;
  }

  for (i = 0; i < N_EXTRA; i++) {
    gchar *prefix = g_strdup_printf ("Prediction/Conv2d_%d_pointwise", i);

    ssd->extra[i] = load_offset_conv (ssd, file, prefix, extra_layers[i][0],
        extra_layers[i][1], extra_layers[i][2], extra_layers[i][3], error);
    g_free (prefix);
    if (!ssd->extra[i])
      goto fail;
  }

  for (i = 0; i < N_PREDICTORS; i++) {
    ssd->box_encoding[i] = load_predictor (
        ssd, file, i, "BoxEncodingPredictor", predictor_anchors[i] * 4, error);
    if (!ssd->box_encoding[i])
      goto fail;
    ssd->class_predictor[i] = load_predictor (ssd, file, i, "ClassPredictor",
        predictor_anchors[i] * AFFECT_SSD_N_CLASSES, error);
    if (!ssd->class_predictor[i])
      goto fail;
  }

  {
    const int64_t ashape[3] = { 1, AFFECT_SSD_N_ANCHORS, 4 };

    ssd->anchors
        = affect_st_get_f32 (file, "Output/extra_dim", 3, ashape, error);
    if (!ssd->anchors)
      goto fail;
  }

  affect_st_close (file);
  return ssd;

fail:
  affect_st_close (file);
  affect_ssd_free (ssd);
  return NULL;
}

void
affect_ssd_free (AffectSsd *ssd)
{
  int i;

  if (ssd == NULL)
    return;
  g_clear_pointer (&ssd->conv0, affect_conv_free);
  for (i = 0; i < N_BLOCKS; i++) {
    g_clear_pointer (&ssd->depthwise[i], affect_conv_free);
    g_clear_pointer (&ssd->pointwise[i], affect_conv_free);
  }
  for (i = 0; i < N_EXTRA; i++)
    g_clear_pointer (&ssd->extra[i], affect_conv_free);
  for (i = 0; i < N_PREDICTORS; i++) {
    g_clear_pointer (&ssd->box_encoding[i], affect_conv_free);
    g_clear_pointer (&ssd->class_predictor[i], affect_conv_free);
  }
  g_free (ssd->anchors);
  g_clear_pointer (&ssd->backend, affect_backend_unref);
  g_free (ssd);
}

const float *
affect_ssd_get_anchors (AffectSsd *ssd)
{
  g_return_val_if_fail (ssd != NULL, NULL);
  return ssd->anchors;
}

/* Runs predictor @p on @x and appends its outputs for every batch item to
 * the host arrays @enc and @cls ([n][5118][4] and [n][5118][3]) at anchor
 * offset *@offset. FALSE when an op failed (@x NULL or an output not
 * allocated: a failure recorded on the backend, docs/inference-core.md). */
static gboolean
run_predictor (AffectSsd *ssd, int p, const AffectTensor *x, float *enc,
    float *cls, int *offset)
{
  AffectTensor *te, *tc;
  gsize per_item;
  float *he, *hc;
  int b;

  if (x == NULL)
    return FALSE;
  te = affect_conv_forward (ssd->box_encoding[p], x);
  tc = affect_conv_forward (ssd->class_predictor[p], x);
  if (te == NULL || tc == NULL) {
    affect_tensor_free (te);
    affect_tensor_free (tc);
    return FALSE;
  }
  per_item = (gsize)te->h * te->w * predictor_anchors[p];
  he = g_new (float, affect_tensor_n_elements (te));
  hc = g_new (float, affect_tensor_n_elements (tc));

  affect_tensor_download (te, he);
  affect_tensor_download (tc, hc);
  /* [h, w, anchors·k] in row-major order is already row → col → anchor. */
  for (b = 0; b < te->n; b++) {
    memcpy (enc + ((gsize)b * AFFECT_SSD_N_ANCHORS + *offset) * 4,
        he + b * per_item * 4, per_item * 4 * sizeof (float));
    memcpy (cls
                + ((gsize)b * AFFECT_SSD_N_ANCHORS + *offset)
                      * AFFECT_SSD_N_CLASSES,
        hc + b * per_item * AFFECT_SSD_N_CLASSES,
        per_item * AFFECT_SSD_N_CLASSES * sizeof (float));
  }
  *offset += (int)per_item;

  g_free (he);
  g_free (hc);
  affect_tensor_free (te);
  affect_tensor_free (tc);
  return TRUE;
}

static void
replace (AffectTensor **x, AffectTensor *y)
{
  affect_tensor_free (*x);
  *x = y;
}

gboolean
affect_ssd_forward (AffectSsd *ssd, const AffectTensor *input,
    AffectTensor **box_encodings, AffectTensor **class_logits)
{
  AffectTensor *x;
  float *enc, *cls;
  int i, n, offset = 0;
  gboolean ok = TRUE;

  g_return_val_if_fail (ssd != NULL, FALSE);
  /* NULL after a failure recorded on the backend: passed along */
  AFFECT_PASS_FAILURE (input, FALSE);
  g_return_val_if_fail (input != NULL, FALSE);
  g_return_val_if_fail (box_encodings != NULL && class_logits != NULL, FALSE);
  g_return_val_if_fail (input->n >= 1 && input->c == 3, FALSE);
  g_return_val_if_fail (
      input->h == AFFECT_SSD_INPUT_SIZE && input->w == AFFECT_SSD_INPUT_SIZE,
      FALSE);

  n = input->n;
  enc = g_new (float, (gsize)n *AFFECT_SSD_N_ANCHORS * 4);
  cls = g_new (float, (gsize)n *AFFECT_SSD_N_ANCHORS *AFFECT_SSD_N_CLASSES);

  /* Backbone. */
  x = affect_conv_forward (ssd->conv0, input);
  for (i = 0; i < N_BLOCKS; i++) {
    replace (&x, affect_conv_forward (ssd->depthwise[i], x));
    replace (&x, affect_conv_forward (ssd->pointwise[i], x));
    if (i + 1 == 11) {
      /* Block 11 feeds predictor 0. */
      ok = run_predictor (ssd, 0, x, enc, cls, &offset) && ok;
    }
  }

  /* Head: predictor 1 on block 13, then on extra layers 1, 3, 5, 7. */
  ok = run_predictor (ssd, 1, x, enc, cls, &offset) && ok;
  for (i = 0; i < N_EXTRA; i++) {
    replace (&x, affect_conv_forward (ssd->extra[i], x));
    if (i % 2 == 1)
      ok = run_predictor (ssd, 2 + i / 2, x, enc, cls, &offset) && ok;
  }
  affect_tensor_free (x);
  if (!ok) {
    g_free (enc);
    g_free (cls);
    return FALSE;
  }

  if (offset != AFFECT_SSD_N_ANCHORS) {
    g_critical (
        "SSD produced %d anchors instead of %d", offset, AFFECT_SSD_N_ANCHORS);
    g_free (enc);
    g_free (cls);
    return FALSE;
  }

  *box_encodings
      = affect_tensor_new (ssd->backend, n, 1, AFFECT_SSD_N_ANCHORS, 4);
  affect_tensor_upload (*box_encodings, enc);
  *class_logits = affect_tensor_new (
      ssd->backend, n, 1, AFFECT_SSD_N_ANCHORS, AFFECT_SSD_N_CLASSES);
  affect_tensor_upload (*class_logits, cls);
  g_free (enc);
  g_free (cls);
  if (*box_encodings == NULL || *class_logits == NULL) {
    g_clear_pointer (box_encodings, affect_tensor_free);
    g_clear_pointer (class_logits, affect_tensor_free);
    return FALSE;
  }
  return TRUE;
}

void
affect_ssd_decode_box (const float anchor[4], const float enc[4], float box[4])
{
  /* Each statement is one float32 tfjs op (exp evaluated in double). */
  float size_y = anchor[2] - anchor[0];
  float size_x = anchor[3] - anchor[1];
  float half_y = size_y / 2.0f;
  float half_x = size_x / 2.0f;
  float center_y = anchor[0] + half_y;
  float center_x = anchor[1] + half_x;
  float th = enc[2] / 5.0f;
  float tw = enc[3] / 5.0f;
  float ey = (float)exp (th);
  float ex = (float)exp (tw);
  float hy = ey * size_y;
  float hx = ex * size_x;
  float div_y = hy / 2.0f;
  float div_x = hx / 2.0f;
  float ty = enc[0] / 10.0f;
  float tx = enc[1] / 10.0f;
  float my = ty * size_y;
  float mx = tx * size_x;
  float cy = my + center_y;
  float cx = mx + center_x;

  box[0] = cy - div_y;
  box[1] = cx - div_x;
  box[2] = cy + div_y;
  box[3] = cx + div_x;
}

/* The detections from the raw outputs @enc and @cls of one image. */
static int
ssd_decode (AffectSsd *ssd, const AffectDetectorGeometry *geom,
    const float *enc, const float *cls, float min_confidence, int max_results,
    AffectDetection *out, int max_out)
{
  AffectDetection *cands;
  double pad_x, pad_y;
  int i, n_cands = 0, n_kept, n_out = 0;

  /* Candidates in anchor space (relative to the 512 input, unclipped):
   * NMS runs on these boxes, as in face-api. */
  cands = g_new (AffectDetection, AFFECT_SSD_N_ANCHORS);
  for (i = 0; i < AFFECT_SSD_N_ANCHORS; i++) {
    float logit = cls[i * AFFECT_SSD_N_CLASSES + 1];
    float score = (float)(1.0 / (1.0 + exp (-(double)logit)));
    float box[4];
    AffectDetection *d;

    if (!(score > min_confidence))
      continue;
    affect_ssd_decode_box (ssd->anchors + i * 4, enc + i * 4, box);
    d = &cands[n_cands++];
    d->box.x = box[1];
    d->box.y = box[0];
    d->box.width = box[3] - box[1];
    d->box.height = box[2] - box[0];
    d->score = score;
  }

  n_kept = affect_detection_nms (
      cands, n_cands, AFFECT_SSD_IOU_THRESHOLD, max_results);

  pad_x = (double)AFFECT_SSD_INPUT_SIZE / geom->reshaped_width;
  pad_y = (double)AFFECT_SSD_INPUT_SIZE / geom->reshaped_height;
  for (i = 0; i < n_kept && n_out < max_out; i++) {
    const AffectBox *b = &cands[i].box;
    double top = MAX (0.0, (double)b->y) * pad_y;
    double bottom = MIN (1.0, (double)b->y + b->height) * pad_y;
    double left = MAX (0.0, (double)b->x) * pad_x;
    double right = MIN (1.0, (double)b->x + b->width) * pad_x;

    /* A box wholly outside the input has nothing to show. */
    if (!(right > left) || !(bottom > top))
      continue;
    out[n_out].box.x = left * geom->image_width;
    out[n_out].box.y = top * geom->image_height;
    out[n_out].box.width = (right - left) * geom->image_width;
    out[n_out].box.height = (bottom - top) * geom->image_height;
    out[n_out].score = cands[i].score;
    n_out++;
  }
  g_free (cands);
  return n_out;
}

static gboolean
check_detect_args (int max_results, GError **error)
{
  if (max_results < 1) {
    g_set_error (error, AFFECT_DETECTOR_ERROR,
        AFFECT_DETECTOR_ERROR_INVALID_ARGUMENT,
        "SSD max-results must be at least 1 (got %d)", max_results);
    return FALSE;
  }
  return TRUE;
}

int
affect_ssd_detect (AffectSsd *ssd, const AffectImage *img, float min_confidence,
    int max_results, AffectDetection *out, int max_out, GError **error)
{
  AffectDetectorGeometry geom;
  AffectTensor *input, *tenc = NULL, *tcls = NULL;
  float *enc, *cls;
  int n_out;

  g_return_val_if_fail (ssd != NULL, -1);
  g_return_val_if_fail (max_out >= 0, -1);
  g_return_val_if_fail (max_out == 0 || out != NULL, -1);

  if (!check_detect_args (max_results, error))
    return -1;

  input = affect_detector_make_input (ssd->backend, img, AFFECT_SSD_INPUT_SIZE,
      AFFECT_DETECTOR_NORM_SSD, &geom, error);
  if (!input)
    return -1;
  if (!affect_ssd_forward (ssd, input, &tenc, &tcls)) {
    affect_tensor_free (input);
    g_set_error (error, AFFECT_DETECTOR_ERROR,
        AFFECT_DETECTOR_ERROR_INVALID_ARGUMENT,
        "SSD face detector forward pass failed");
    return -1;
  }
  affect_tensor_free (input);

  enc = g_new (float, AFFECT_SSD_N_ANCHORS * 4);
  cls = g_new (float, AFFECT_SSD_N_ANCHORS *AFFECT_SSD_N_CLASSES);
  affect_tensor_download (tenc, enc);
  affect_tensor_download (tcls, cls);
  affect_tensor_free (tenc);
  affect_tensor_free (tcls);

  n_out = ssd_decode (
      ssd, &geom, enc, cls, min_confidence, max_results, out, max_out);
  g_free (enc);
  g_free (cls);
  return n_out;
}

/* ---- as a shared network ------------------------------------------------ */

static gpointer
shared_load (AffectBackend *backend, const gchar *path, GError **error)
{
  return affect_ssd_new (backend, path, error);
}

static void
shared_free (gpointer net)
{
  affect_ssd_free (net);
}

/* @in: n prepared inputs; @out: the box encodings, @features: the class
 * logits (always asked for). */
static gboolean
shared_forward (const AffectSharedNetClass *klass, gpointer net,
    const float *in, int n, float *out, float *features)
{
  AffectSsd *ssd = net;
  AffectTensor *input, *tenc = NULL, *tcls = NULL;

  g_return_val_if_fail (features != NULL, FALSE);
  input = affect_tensor_new (
      ssd->backend, n, AFFECT_SSD_INPUT_SIZE, AFFECT_SSD_INPUT_SIZE, 3);
  if (input == NULL)
    return FALSE;
  affect_tensor_upload (input, in);
  if (!affect_ssd_forward (ssd, input, &tenc, &tcls)) {
    affect_tensor_free (input);
    return FALSE;
  }
  affect_tensor_free (input);
  affect_tensor_download (tenc, out);
  affect_tensor_download (tcls, features);
  affect_tensor_free (tenc);
  affect_tensor_free (tcls);
  return TRUE;
}

static const AffectSharedNetClass shared_class = {
  .kind = "ssd_mobilenetv1",
  .load = shared_load,
  .free = shared_free,
  .forward = shared_forward,
  .in_dim = AFFECT_SSD_INPUT_SIZE * AFFECT_SSD_INPUT_SIZE * 3,
  .out_dim = AFFECT_SSD_N_ANCHORS * 4,
  .feat_dim = AFFECT_SSD_N_ANCHORS * AFFECT_SSD_N_CLASSES,
  .max_batch = 8,
};

const AffectSharedNetClass *
affect_ssd_class (void)
{
  return &shared_class;
}

int
affect_ssd_detect_shared (AffectSharedNet *shared, gint64 window_us,
    const AffectImage *img, float min_confidence, int max_results,
    AffectDetection *out, int max_out, GError **error)
{
  AffectSsd *ssd;
  AffectDetectorGeometry geom;
  float *in, *enc, *cls;
  GError *failure = NULL;
  int n_out = -1;

  g_return_val_if_fail (shared != NULL, -1);
  g_return_val_if_fail (max_out >= 0, -1);
  g_return_val_if_fail (max_out == 0 || out != NULL, -1);
  ssd = affect_shared_net_get_net (shared);

  if (!check_detect_args (max_results, error)
      || !affect_detector_check_image (img, error))
    return -1;

  in = g_new (float, (gsize)AFFECT_SSD_INPUT_SIZE *AFFECT_SSD_INPUT_SIZE * 3);
  affect_detector_preprocess (
      img, AFFECT_SSD_INPUT_SIZE, AFFECT_DETECTOR_NORM_SSD, in);
  affect_detector_geometry_init (
      &geom, img->width, img->height, AFFECT_SSD_INPUT_SIZE);
  enc = g_new (float, AFFECT_SSD_N_ANCHORS * 4);
  cls = g_new (float, AFFECT_SSD_N_ANCHORS *AFFECT_SSD_N_CLASSES);
  if (affect_shared_net_run (shared, window_us, in, 1, enc, cls, &failure))
    n_out = ssd_decode (
        ssd, &geom, enc, cls, min_confidence, max_results, out, max_out);
  else if (failure != NULL)
    g_propagate_error (error, failure);
  else
    g_set_error (error, AFFECT_DETECTOR_ERROR,
        AFFECT_DETECTOR_ERROR_INVALID_ARGUMENT,
        "SSD face detector forward pass failed");
  g_free (in);
  g_free (enc);
  g_free (cls);
  return n_out;
}
