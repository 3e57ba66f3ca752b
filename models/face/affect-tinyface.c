/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * TinyFaceDetector forward pass and decoding. See affect-tinyface.h and
 * docs/networks.md ("Detectors").
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include "affect-safetensors.h"
#include "affect-tinyface.h"

#define N_SEP 5
#define BOX_ENCODING 5 /* tx, ty, tw, th, confidence */

/* Anchor sizes (width, height) in grid cells. */
static const double tiny_anchors[AFFECT_TINY_FACE_N_ANCHORS][2] = {
  { 1.603231, 2.094468 },
  { 6.041143, 7.080126 },
  { 2.882459, 3.518061 },
  { 4.266906, 5.178857 },
  { 9.041765, 10.66308 },
};

/* Channels of conv0 and of conv1..conv5. */
static const int sep_channels[N_SEP + 1] = { 16, 32, 64, 128, 256, 512 };

struct _AffectTinyFace {
  AffectBackend *backend;
  AffectConv *conv0;      /* 3×3 VALID 3→16, leaky */
  AffectConv *sep[N_SEP]; /* conv1..conv5: sep 3×3 SAME, leaky */
  AffectConv *conv8;      /* 1×1 512→25 */
};

static float *
load (AffectStFile *file, const gchar *name, guint n_dims, const int64_t *shape,
    GError **error)
{
  return affect_st_get_f32 (file, name, n_dims, shape, error);
}

AffectTinyFace *
affect_tiny_face_new (AffectBackend *backend, const gchar *path, GError **error)
{
  AffectTinyFace *tf;
  AffectStFile *file;
  float *w = NULL, *w2 = NULL, *b = NULL;
  int i;

  g_return_val_if_fail (backend != NULL, NULL);

  if (path == NULL) {
    g_set_error (error, AFFECT_DETECTOR_ERROR, AFFECT_DETECTOR_ERROR_MODEL,
        "No weights file given for the tiny face detector");
    return NULL;
  }

  file = affect_st_open (path, error);
  if (!file)
    return NULL;

  tf = g_new0 (AffectTinyFace, 1);
  tf->backend = affect_backend_ref (backend);

  {
    const int64_t fshape[4] = { 3, 3, 3, sep_channels[0] };
    const int64_t bshape[1] = { sep_channels[0] };

    if (!(w = load (file, "conv0/filters", 4, fshape, error))
        || !(b = load (file, "conv0/bias", 1, bshape, error)))
      goto fail;
    tf->conv0 = affect_conv_new (backend, 3, 3, 3, sep_channels[0], 1,
        AFFECT_PAD_VALID, w, b, AFFECT_ACT_LEAKY);
    g_clear_pointer (&w, g_free);
    g_clear_pointer (&b, g_free);
  }

  for (i = 0; i < N_SEP; i++) {
    int cin = sep_channels[i], cout = sep_channels[i + 1];
    const int64_t dshape[4] = { 3, 3, cin, 1 };
    const int64_t pshape[4] = { 1, 1, cin, cout };
    const int64_t bshape[1] = { cout };
    gchar *dname = g_strdup_printf ("conv%d/depthwise_filter", i + 1);
    gchar *pname = g_strdup_printf ("conv%d/pointwise_filter", i + 1);
    gchar *bname = g_strdup_printf ("conv%d/bias", i + 1);
    gboolean ok = (w = load (file, dname, 4, dshape, error))
                  && (w2 = load (file, pname, 4, pshape, error))
                  && (b = load (file, bname, 1, bshape, error));

    g_free (dname);
    g_free (pname);
    g_free (bname);
    if (!ok)
      goto fail;
    /* face-api pads by one on each side and runs a VALID separable
     * convolution: that is SAME for a 3×3 stride-1 kernel. */
    tf->sep[i] = affect_conv_new_separable (backend, 3, 3, cin, cout, 1,
        AFFECT_PAD_SAME, w, w2, b, AFFECT_ACT_LEAKY);
    g_clear_pointer (&w, g_free);
    g_clear_pointer (&w2, g_free);
    g_clear_pointer (&b, g_free);
  }

  {
    const int n_out = AFFECT_TINY_FACE_N_ANCHORS * BOX_ENCODING;
    const int64_t fshape[4] = { 1, 1, sep_channels[N_SEP], n_out };
    const int64_t bshape[1] = { n_out };

    if (!(w = load (file, "conv8/filters", 4, fshape, error))
        || !(b = load (file, "conv8/bias", 1, bshape, error)))
      goto fail;
    tf->conv8 = affect_conv_new (backend, 1, 1, sep_channels[N_SEP], n_out, 1,
        AFFECT_PAD_VALID, w, b, AFFECT_ACT_NONE);
    g_clear_pointer (&w, g_free);
    g_clear_pointer (&b, g_free);
  }

  affect_st_close (file);
  return tf;

fail:
  g_free (w);
  g_free (w2);
  g_free (b);
  affect_st_close (file);
  affect_tiny_face_free (tf);
  return NULL;
}

void
affect_tiny_face_free (AffectTinyFace *tf)
{
  int i;

  if (tf == NULL)
    return;
  g_clear_pointer (&tf->conv0, affect_conv_free);
  for (i = 0; i < N_SEP; i++)
    g_clear_pointer (&tf->sep[i], affect_conv_free);
  g_clear_pointer (&tf->conv8, affect_conv_free);
  g_clear_pointer (&tf->backend, affect_backend_unref);
  g_free (tf);
}

/* Replaces *x by op(*x). */
static void
replace (AffectTensor **x, AffectTensor *y)
{
  affect_tensor_free (*x);
  *x = y;
}

AffectTensor *
affect_tiny_face_forward (AffectTinyFace *tf, const AffectTensor *input)
{
  AffectTensor *x;
  int i;

  g_return_val_if_fail (tf != NULL, NULL);
  /* NULL after a failure recorded on the backend: passed along */
  AFFECT_PASS_FAILURE (input, NULL);
  g_return_val_if_fail (input != NULL, NULL);
  g_return_val_if_fail (input->n >= 1 && input->c == 3, NULL);
  g_return_val_if_fail (input->h == input->w, NULL);
  g_return_val_if_fail (input->h >= 32 && input->h % 32 == 0, NULL);

  x = affect_conv_forward (tf->conv0, input);
  replace (&x, affect_max_pool (x, 2, 2, AFFECT_PAD_SAME));
  for (i = 0; i < N_SEP; i++) {
    replace (&x, affect_conv_forward (tf->sep[i], x));
    /* The last pool keeps the grid size (stride 1, padded bottom/right). */
    replace (
        &x, affect_max_pool (x, 2, i < N_SEP - 1 ? 2 : 1, AFFECT_PAD_SAME));
  }
  replace (&x, affect_conv_forward (tf->conv8, x));
  return x;
}

static double
sigmoid (double v)
{
  return 1.0 / (1.0 + exp (-v));
}

static gboolean
check_input_size (int input_size, GError **error)
{
  if (input_size < 32 || input_size > AFFECT_DETECTOR_MAX_INPUT_SIZE
      || input_size % 32 != 0) {
    g_set_error (error, AFFECT_DETECTOR_ERROR,
        AFFECT_DETECTOR_ERROR_INVALID_ARGUMENT,
        "Tiny face detector input size %d is not a multiple of 32 in "
        "32…%d",
        input_size, AFFECT_DETECTOR_MAX_INPUT_SIZE);
    return FALSE;
  }
  return TRUE;
}

/* The detections from the raw output @raw ([cells, cells, 25]) of one
 * image. */
static int
tiny_decode (const float *raw, int cells, const AffectDetectorGeometry *geom_p,
    float score_threshold, AffectDetection *out, int max_out)
{
  const AffectDetectorGeometry geom = *geom_p;
  AffectDetection *cands;
  double cfx, cfy, ref_size;
  int n_cands = 0, n_kept, row, col, a, i;
  gsize n_cells_total = (gsize)cells * cells;

  /* Box correction for the padding: face-api uses the larger reshaped side
   * as the reference (equal to S except for rounding). */
  ref_size = MAX (geom.reshaped_width, geom.reshaped_height);
  cfx = ref_size / geom.reshaped_width;
  cfy = ref_size / geom.reshaped_height;

  cands = g_new (AffectDetection, n_cells_total * AFFECT_TINY_FACE_N_ANCHORS);
  for (row = 0; row < cells; row++) {
    for (col = 0; col < cells; col++) {
      for (a = 0; a < AFFECT_TINY_FACE_N_ANCHORS; a++) {
        const float *v
            = raw
              + (((gsize)row * cells + col) * AFFECT_TINY_FACE_N_ANCHORS + a)
                    * BOX_ENCODING;
        double score = sigmoid (v[4]);
        double cx, cy, w, h, x, y;
        AffectDetection *d;

        if (!(score > score_threshold))
          continue;

        cx = ((col + sigmoid (v[0])) / cells) * cfx;
        cy = ((row + sigmoid (v[1])) / cells) * cfy;
        w = ((exp (v[2]) * tiny_anchors[a][0]) / cells) * cfx;
        h = ((exp (v[3]) * tiny_anchors[a][1]) / cells) * cfy;
        x = cx - w / 2;
        y = cy - h / 2;

        d = &cands[n_cands++];
        d->box.x = x * geom.image_width;
        d->box.y = y * geom.image_height;
        d->box.width = ((x + w) - x) * geom.image_width;
        d->box.height = ((y + h) - y) * geom.image_height;
        d->score = (float)score;
      }
    }
  }

  /* face-api pops the best of a stable ascending sort, so among equal
   * scores the later cell wins: reverse so that our NMS (ties: lower index
   * first) picks the same one. */
  for (i = 0; i < n_cands / 2; i++) {
    AffectDetection tmp = cands[i];

    cands[i] = cands[n_cands - 1 - i];
    cands[n_cands - 1 - i] = tmp;
  }

  n_kept = affect_detection_nms (
      cands, n_cands, AFFECT_TINY_FACE_IOU_THRESHOLD, 0);
  n_kept = MIN (n_kept, max_out);
  if (n_kept > 0)
    memcpy (out, cands, sizeof (AffectDetection) * n_kept);
  g_free (cands);
  return n_kept;
}

int
affect_tiny_face_detect (AffectTinyFace *tf, const AffectImage *img,
    int input_size, float score_threshold, AffectDetection *out, int max_out,
    GError **error)
{
  AffectDetectorGeometry geom;
  AffectTensor *input, *output;
  float *raw;
  int cells, n_kept;

  g_return_val_if_fail (tf != NULL, -1);
  g_return_val_if_fail (max_out >= 0, -1);
  g_return_val_if_fail (max_out == 0 || out != NULL, -1);

  if (!check_input_size (input_size, error))
    return -1;

  input = affect_detector_make_input (tf->backend, img, input_size,
      AFFECT_DETECTOR_NORM_TINY_FACE, &geom, error);
  if (!input)
    return -1;
  output = affect_tiny_face_forward (tf, input);
  affect_tensor_free (input);
  if (!output) {
    g_set_error (error, AFFECT_DETECTOR_ERROR,
        AFFECT_DETECTOR_ERROR_INVALID_ARGUMENT,
        "Tiny face detector forward pass failed");
    return -1;
  }

  cells = output->h;
  raw = g_new (
      float, (gsize)cells *cells *AFFECT_TINY_FACE_N_ANCHORS *BOX_ENCODING);
  affect_tensor_download (output, raw);
  affect_tensor_free (output);

  n_kept = tiny_decode (raw, cells, &geom, score_threshold, out, max_out);
  g_free (raw);
  return n_kept;
}

/* ---- as a shared network ------------------------------------------------ */

#define N_SIZES (AFFECT_DETECTOR_MAX_INPUT_SIZE / 32)

static AffectSharedNetClass shared_classes[N_SIZES];
static gchar shared_kinds[N_SIZES][40];

static gpointer
shared_load (AffectBackend *backend, const gchar *path, GError **error)
{
  return affect_tiny_face_new (backend, path, error);
}

static void
shared_free (gpointer net)
{
  affect_tiny_face_free (net);
}

static gboolean
shared_forward (const AffectSharedNetClass *klass, gpointer net,
    const float *in, int n, float *out, float *features)
{
  AffectTinyFace *tf = net;
  int size = GPOINTER_TO_INT (klass->user_data);
  AffectTensor *input, *output;

  input = affect_tensor_new (tf->backend, n, size, size, 3);
  if (input == NULL)
    return FALSE;
  affect_tensor_upload (input, in);
  output = affect_tiny_face_forward (tf, input);
  affect_tensor_free (input);
  if (output == NULL)
    return FALSE;
  affect_tensor_download (output, out);
  affect_tensor_free (output);
  return TRUE;
}

const AffectSharedNetClass *
affect_tiny_face_class (int input_size)
{
  static gsize init = 0;

  g_return_val_if_fail (check_input_size (input_size, NULL), NULL);

  if (g_once_init_enter (&init)) {
    int i;

    for (i = 0; i < N_SIZES; i++) {
      AffectSharedNetClass *k = &shared_classes[i];
      int size = 32 * (i + 1), cells = size / 32;

      g_snprintf (shared_kinds[i], sizeof (shared_kinds[i]),
          "tiny_face_detector@%d", size);
      k->kind = shared_kinds[i];
      k->load = shared_load;
      k->free = shared_free;
      k->forward = shared_forward;
      k->in_dim = size * size * 3;
      k->out_dim = cells * cells * AFFECT_TINY_FACE_N_ANCHORS * BOX_ENCODING;
      k->feat_dim = 0;
      /* a 2048² input is 48 MiB of floats, its first layer 16 times that */
      k->max_batch = size <= 640 ? 8 : 1;
      k->user_data = GINT_TO_POINTER (size);
    }
    g_once_init_leave (&init, 1);
  }
  return &shared_classes[input_size / 32 - 1];
}

int
affect_tiny_face_detect_shared (AffectSharedNet *shared, gint64 window_us,
    const AffectImage *img, int input_size, float score_threshold,
    AffectDetection *out, int max_out, GError **error)
{
  AffectDetectorGeometry geom;
  int cells = input_size / 32, n_kept = -1;
  float *in, *raw;
  GError *failure = NULL;

  g_return_val_if_fail (shared != NULL, -1);
  g_return_val_if_fail (max_out >= 0, -1);
  g_return_val_if_fail (max_out == 0 || out != NULL, -1);

  if (!check_input_size (input_size, error)
      || !affect_detector_check_image (img, error))
    return -1;
  g_return_val_if_fail (affect_shared_net_get_class (shared)
                            == affect_tiny_face_class (input_size),
      -1);

  in = g_new (float, (gsize)input_size *input_size * 3);
  affect_detector_preprocess (
      img, input_size, AFFECT_DETECTOR_NORM_TINY_FACE, in);
  affect_detector_geometry_init (&geom, img->width, img->height, input_size);
  raw = g_new (
      float, (gsize)cells *cells *AFFECT_TINY_FACE_N_ANCHORS *BOX_ENCODING);
  if (affect_shared_net_run (shared, window_us, in, 1, raw, NULL, &failure))
    n_kept = tiny_decode (raw, cells, &geom, score_threshold, out, max_out);
  else if (failure != NULL)
    g_propagate_error (error, failure);
  else
    g_set_error (error, AFFECT_DETECTOR_ERROR,
        AFFECT_DETECTOR_ERROR_INVALID_ARGUMENT,
        "Tiny face detector forward pass failed");
  g_free (in);
  g_free (raw);
  return n_kept;
}
