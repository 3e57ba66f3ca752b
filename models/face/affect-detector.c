/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared parts of the face detectors: input preparation, IoU and greedy
 * non-maximum suppression. See affect-detector.h.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "affect-detector.h"

GQuark
affect_detector_error_quark (void)
{
  return g_quark_from_static_string ("affect-detector-error-quark");
}

/* JavaScript's Math.round: halves go towards +infinity. */
static double
js_round (double v)
{
  return floor (v + 0.5);
}

void
affect_detector_geometry_init (
    AffectDetectorGeometry *geom, int image_width, int image_height, int size)
{
  double scale;
  int max_side;

  g_return_if_fail (geom != NULL);

  max_side = MAX (image_width, image_height);
  if (max_side < 1)
    max_side = 1;
  scale = (double)size / (double)max_side;

  geom->size = size;
  geom->image_width = image_width;
  geom->image_height = image_height;
  geom->reshaped_width = (int)js_round (image_width * scale);
  geom->reshaped_height = (int)js_round (image_height * scale);
  /* A very thin image can round to 0; keep the correction factors finite. */
  geom->reshaped_width = CLAMP (geom->reshaped_width, 1, size);
  geom->reshaped_height = CLAMP (geom->reshaped_height, 1, size);
}

gboolean
affect_detector_check_image (const AffectImage *img, GError **error)
{
  if (img == NULL || img->data == NULL) {
    g_set_error (error, AFFECT_DETECTOR_ERROR,
        AFFECT_DETECTOR_ERROR_INVALID_ARGUMENT, "No image data given");
    return FALSE;
  }
  if (img->width < 1 || img->height < 1
      || img->width > AFFECT_DETECTOR_MAX_IMAGE_SIDE
      || img->height > AFFECT_DETECTOR_MAX_IMAGE_SIDE) {
    g_set_error (error, AFFECT_DETECTOR_ERROR,
        AFFECT_DETECTOR_ERROR_INVALID_ARGUMENT,
        "Image size %d×%d is outside 1…%d pixels per side", img->width,
        img->height, AFFECT_DETECTOR_MAX_IMAGE_SIDE);
    return FALSE;
  }
  if (img->stride < 3 * img->width) {
    g_set_error (error, AFFECT_DETECTOR_ERROR,
        AFFECT_DETECTOR_ERROR_INVALID_ARGUMENT,
        "Image stride %d is smaller than 3 × width (%d)", img->stride,
        3 * img->width);
    return FALSE;
  }
  return TRUE;
}

/* One output row or column of the legacy bilinear rule. */
typedef struct {
  int i0, i1;
  double frac;
} Tap;

static void
compute_taps (Tap *taps, int out_size, int in_size)
{
  double ratio = (double)in_size / (double)out_size;
  int i;

  for (i = 0; i < out_size; i++) {
    double src = ratio * i;
    double fl = floor (src);

    taps[i].i0 = MAX (0, (int)fl);
    taps[i].frac = src - taps[i].i0;
    taps[i].i1 = MIN (in_size - 1, (int)ceil (src));
  }
}

static inline void
normalise_pixel (float *dst, const float v[3], AffectDetectorNorm norm)
{
  /* Float32 operations in the order tfjs performs them. */
  static const float mean[3] = { 117.001f, 114.697f, 97.404f };
  int c;

  if (norm == AFFECT_DETECTOR_NORM_TINY_FACE) {
    for (c = 0; c < 3; c++) {
      float d = v[c] - mean[c];
      dst[c] = d / 255.0f;
    }
  } else {
    for (c = 0; c < 3; c++) {
      float d = v[c] / 127.5f;
      dst[c] = d - 1.0f;
    }
  }
}

/* Pixel of the zero-padded square (the image occupies its top-left). */
static inline const guint8 *
padded_pixel (const AffectImage *img, int y, int x)
{
  static const guint8 zero[3] = { 0, 0, 0 };

  if (y >= img->height || x >= img->width)
    return zero;
  return img->data + (gsize)y * img->stride + (gsize)x * 3;
}

void
affect_detector_preprocess (
    const AffectImage *img, int size, AffectDetectorNorm norm, float *dst)
{
  int side, r, col, c;

  g_return_if_fail (img != NULL && img->data != NULL && dst != NULL);
  g_return_if_fail (size > 0);

  side = MAX (img->width, img->height);

  if (side == size) {
    /* tfjs skips the resize when the padded square is already S × S. */
    for (r = 0; r < size; r++) {
      for (col = 0; col < size; col++) {
        const guint8 *p = padded_pixel (img, r, col);
        float v[3] = { p[0], p[1], p[2] };

        normalise_pixel (dst + ((gsize)r * size + col) * 3, v, norm);
      }
    }
    return;
  }

  {
    Tap *rows = g_new (Tap, size);
    Tap *cols = g_new (Tap, size);

    compute_taps (rows, size, side);
    compute_taps (cols, size, side);

    for (r = 0; r < size; r++) {
      const Tap *ty = &rows[r];

      for (col = 0; col < size; col++) {
        const Tap *tx = &cols[col];
        const guint8 *tl = padded_pixel (img, ty->i0, tx->i0);
        const guint8 *tr = padded_pixel (img, ty->i0, tx->i1);
        const guint8 *bl = padded_pixel (img, ty->i1, tx->i0);
        const guint8 *br = padded_pixel (img, ty->i1, tx->i1);
        float v[3];

        for (c = 0; c < 3; c++) {
          double top = tl[c] + (tr[c] - (double)tl[c]) * tx->frac;
          double bottom = bl[c] + (br[c] - (double)bl[c]) * tx->frac;

          v[c] = (float)(top + (bottom - top) * ty->frac);
        }
        normalise_pixel (dst + ((gsize)r * size + col) * 3, v, norm);
      }
    }

    g_free (rows);
    g_free (cols);
  }
}

AffectTensor *
affect_detector_make_input (AffectBackend *backend, const AffectImage *img,
    int size, AffectDetectorNorm norm, AffectDetectorGeometry *geom,
    GError **error)
{
  AffectTensor *t;
  float *buf;

  g_return_val_if_fail (backend != NULL, NULL);

  if (!affect_detector_check_image (img, error))
    return NULL;
  if (size < 1 || size > AFFECT_DETECTOR_MAX_INPUT_SIZE) {
    g_set_error (error, AFFECT_DETECTOR_ERROR,
        AFFECT_DETECTOR_ERROR_INVALID_ARGUMENT,
        "Detector input size %d is outside 1…%d", size,
        AFFECT_DETECTOR_MAX_INPUT_SIZE);
    return NULL;
  }

  buf = g_new (float, (gsize)size *size * 3);
  affect_detector_preprocess (img, size, norm, buf);
  t = affect_tensor_new (backend, 1, size, size, 3);
  affect_tensor_upload (t, buf);
  g_free (buf);

  if (geom)
    affect_detector_geometry_init (geom, img->width, img->height, size);
  return t;
}

double
affect_box_iou (const AffectBox *a, const AffectBox *b)
{
  double area_a, area_b, iw, ih, inter;

  g_return_val_if_fail (a != NULL && b != NULL, 0.0);

  area_a = (double)a->width * a->height;
  area_b = (double)b->width * b->height;
  if (!(area_a > 0.0) || !(area_b > 0.0))
    return 0.0;

  iw = MIN ((double)a->x + a->width, (double)b->x + b->width)
       - MAX ((double)a->x, (double)b->x);
  ih = MIN ((double)a->y + a->height, (double)b->y + b->height)
       - MAX ((double)a->y, (double)b->y);
  if (iw <= 0.0 || ih <= 0.0)
    return 0.0;

  inter = iw * ih;
  return inter / (area_a + area_b - inter);
}

typedef struct {
  float score;
  int index;
} Ranked;

static int
compare_ranked (const void *pa, const void *pb)
{
  const Ranked *a = pa, *b = pb;

  /* Descending score; NaN scores sort last; ties by ascending index. */
  if (a->score > b->score || (!isnan (a->score) && isnan (b->score)))
    return -1;
  if (a->score < b->score || (isnan (a->score) && !isnan (b->score)))
    return 1;
  return (a->index > b->index) - (a->index < b->index);
}

int
affect_detection_nms (
    AffectDetection *dets, int n, double iou_threshold, int max_keep)
{
  Ranked *ranked;
  AffectDetection *kept;
  int i, j, n_kept = 0;

  g_return_val_if_fail (n >= 0, 0);
  g_return_val_if_fail (n == 0 || dets != NULL, 0);

  if (n == 0)
    return 0;
  if (max_keep <= 0 || max_keep > n)
    max_keep = n;

  ranked = g_new (Ranked, n);
  for (i = 0; i < n; i++) {
    ranked[i].score = dets[i].score;
    ranked[i].index = i;
  }
  qsort (ranked, n, sizeof (Ranked), compare_ranked);

  kept = g_new (AffectDetection, max_keep);
  for (i = 0; i < n && n_kept < max_keep; i++) {
    const AffectDetection *cand = &dets[ranked[i].index];
    gboolean keep = TRUE;

    for (j = 0; j < n_kept; j++) {
      if (affect_box_iou (&cand->box, &kept[j].box) > iou_threshold) {
        keep = FALSE;
        break;
      }
    }
    if (keep)
      kept[n_kept++] = *cand;
  }

  memcpy (dets, kept, sizeof (AffectDetection) * n_kept);
  g_free (kept);
  g_free (ranked);
  return n_kept;
}
