/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Face crops for the face networks, following face-api's NetInput and
 * FaceLandmarks code paths (see affect-image.h and FACE_MODELS.md).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "affect-image.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <png.h>

/* Refuse decoded images above this many pixels (about 16k × 16k). */
#define MAX_PNG_PIXELS (1u << 28)

GQuark
affect_image_error_quark (void)
{
  return g_quark_from_static_string ("affect-image-error-quark");
}

gboolean
affect_image_is_valid (const AffectImage *img)
{
  return img != NULL && img->data != NULL && img->width > 0 && img->height > 0
         && img->width <= G_MAXINT / 3 && img->stride >= 3 * img->width;
}

gboolean
affect_image_crop_box (
    const AffectImage *img, const AffectBox *box, int used[4])
{
  double x, y, right, bottom, cx, cy, cw, ch;

  g_return_val_if_fail (affect_image_is_valid (img), FALSE);
  g_return_val_if_fail (box != NULL, FALSE);
  g_return_val_if_fail (used != NULL, FALSE);

  x = box->x;
  y = box->y;
  right = x + (double)box->width;
  bottom = y + (double)box->height;
  if (!isfinite (x) || !isfinite (y) || !isfinite (right) || !isfinite (bottom))
    return FALSE;

  /* Box.clipAtImageBorders() then Box.floor() */
  cx = MAX (x, 0.0);
  cy = MAX (y, 0.0);
  cw = MIN (right - cx, img->width - cx);
  ch = MIN (bottom - cy, img->height - cy);
  cx = floor (cx);
  cy = floor (cy);
  cw = floor (cw);
  ch = floor (ch);

  if (cw < 1.0 || ch < 1.0 || cx >= img->width || cy >= img->height)
    return FALSE;

  used[0] = (int)cx;
  used[1] = (int)cy;
  used[2] = (int)cw;
  used[3] = (int)ch;
  return TRUE;
}

/* Pixel (r, c), channel ch of the crop padded to a square; zero outside. */
static inline double
padded_pixel (const AffectImage *img, const int crop[4], int top, int left,
    int r, int c, int ch)
{
  r -= top;
  c -= left;
  if (r < 0 || r >= crop[3] || c < 0 || c >= crop[2])
    return 0.0;
  return img->data[(gsize)(crop[1] + r) * img->stride + (gsize)(crop[0] + c) * 3
                   + ch];
}

gboolean
affect_image_face_input_host (const AffectImage *img, const AffectBox *box,
    int size, float *dst, int used[4])
{
  static const float mean[3]
      = { AFFECT_FACE_MEAN_R, AFFECT_FACE_MEAN_G, AFFECT_FACE_MEAN_B };
  int crop[4];
  int side, diff, after, before, top = 0, left = 0;
  double ratio;
  int r, c, ch;

  g_return_val_if_fail (affect_image_is_valid (img), FALSE);
  g_return_val_if_fail (box != NULL, FALSE);
  g_return_val_if_fail (size > 0, FALSE);
  g_return_val_if_fail (dst != NULL, FALSE);

  if (!affect_image_crop_box (img, box, crop))
    return FALSE;
  if (used)
    memcpy (used, crop, sizeof (crop));

  /* padToSquare (centred): round (d / 2) after, the rest before */
  side = MAX (crop[2], crop[3]);
  diff = ABS (crop[2] - crop[3]);
  after = (diff + 1) / 2;
  before = diff - after;
  if (crop[3] > crop[2])
    left = before;
  else
    top = before;

  /* resizeBilinear, alignCorners = false, halfPixelCenters = false */
  ratio = (double)side / (double)size;
  for (r = 0; r < size; r++) {
    double sy = ratio * r;
    int y0 = (int)floor (sy);
    int y1 = MIN ((int)ceil (sy), side - 1);
    double fy = sy - y0;

    for (c = 0; c < size; c++) {
      double sx = ratio * c;
      int x0 = (int)floor (sx);
      int x1 = MIN ((int)ceil (sx), side - 1);
      double fx = sx - x0;
      float *out = dst + ((gsize)r * size + c) * 3;

      for (ch = 0; ch < 3; ch++) {
        double tl = padded_pixel (img, crop, top, left, y0, x0, ch);
        double tr = padded_pixel (img, crop, top, left, y0, x1, ch);
        double bl = padded_pixel (img, crop, top, left, y1, x0, ch);
        double br = padded_pixel (img, crop, top, left, y1, x1, ch);
        double t = tl + (tr - tl) * fx;
        double b = bl + (br - bl) * fx;
        float v = (float)(t + (b - t) * fy);
        float centred = v - mean[ch];

        out[ch] = centred / 255.0f;
      }
    }
  }
  return TRUE;
}

gboolean
affect_image_face_input (const AffectImage *img, const AffectBox *box, int size,
    AffectTensor *dst, int index, int used[4])
{
  gsize item;
  float *host;
  gboolean ok;

  AFFECT_PASS_FAILURE (dst, FALSE);
  g_return_val_if_fail (dst != NULL, FALSE);
  g_return_val_if_fail (dst->h == size && dst->w == size && dst->c == 3, FALSE);
  g_return_val_if_fail (index >= 0 && index < dst->n, FALSE);

  item = (gsize)size * size * 3;
  host = affect_tensor_host_data (dst);
  if (host)
    return affect_image_face_input_host (
        img, box, size, host + item * index, used);

  /* Device tensor: the API copies whole tensors only. */
  host = g_new (float, item * dst->n);
  affect_tensor_download (dst, host);
  ok = affect_image_face_input_host (img, box, size, host + item * index, used);
  if (ok)
    affect_tensor_upload (dst, host);
  g_free (host);
  return ok;
}

AffectBox
affect_landmarks_aligned_rect (const float points[68][2])
{
  double min_x = INFINITY, min_y = INFINITY, max_x = 0.0, max_y = 0.0;
  double w, h, pad_x, pad_y;
  AffectBox box;
  int i;

  for (i = 0; i < 68; i++) {
    double px = points[i][0], py = points[i][1];

    min_x = px < min_x ? px : min_x;
    min_y = py < min_y ? py : min_y;
    max_x = px > max_x ? px : max_x;
    max_y = py > max_y ? py : max_y;
  }

  /* minBbox (...).pad (0.2 w, 0.2 h) */
  w = max_x - min_x;
  h = max_y - min_y;
  pad_x = w * 0.2;
  pad_y = h * 0.2;
  box.x = (float)(min_x - pad_x / 2.0);
  box.y = (float)(min_y - pad_y / 2.0);
  box.width = (float)(w + pad_x);
  box.height = (float)(h + pad_y);
  return box;
}

static void
centre_of (const float points[68][2], int first, int last, double *x, double *y)
{
  double sx = 0.0, sy = 0.0;
  int i;

  for (i = first; i <= last; i++) {
    sx += points[i][0];
    sy += points[i][1];
  }
  *x = sx / (last - first + 1);
  *y = sy / (last - first + 1);
}

/* as Point.magnitude (): sqrt (x^2 + y^2), not hypot () */
static double
distance (double ax, double ay, double bx, double by)
{
  double dx = ax - bx, dy = ay - by;

  return sqrt (dx * dx + dy * dy);
}

AffectBox
affect_landmarks_dlib_rect (const float points[68][2], int crop_w, int crop_h)
{
  double cx[3], cy[3];
  double dist, size, ref_x, ref_y, x, y;
  AffectBox box;

  centre_of (points, 36, 41, &cx[0], &cy[0]);
  centre_of (points, 42, 47, &cx[1], &cy[1]);
  centre_of (points, 48, 67, &cx[2], &cy[2]);

  dist = (distance (cx[2], cy[2], cx[0], cy[0])
             + distance (cx[2], cy[2], cx[1], cy[1]))
         / 2.0;
  size = floor (dist / 0.45);
  ref_x = (cx[0] + cx[1] + cx[2]) / 3.0;
  ref_y = (cy[0] + cy[1] + cy[2]) / 3.0;
  x = floor (MAX (0.0, ref_x - 0.5 * size));
  y = floor (MAX (0.0, ref_y - 0.43 * size));

  box.x = (float)x;
  box.y = (float)y;
  box.width = (float)MIN (size, crop_w + x);
  box.height = (float)MIN (size, crop_h + y);
  return box;
}

gboolean
affect_image_load_png (
    const gchar *path, guint8 **rgb, int *w, int *h, GError **error)
{
  png_image image;
  guint8 *buf;
  FILE *fp;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (rgb != NULL && w != NULL && h != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  fp = fopen (path, "rb");
  if (fp == NULL) {
    g_set_error (error, AFFECT_IMAGE_ERROR, AFFECT_IMAGE_ERROR_IO,
        "%s: cannot open: %s", path, g_strerror (errno));
    return FALSE;
  }

  memset (&image, 0, sizeof (image));
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_stdio (&image, fp)) {
    g_set_error (error, AFFECT_IMAGE_ERROR, AFFECT_IMAGE_ERROR_FORMAT,
        "%s: not a readable PNG: %s", path, image.message);
    png_image_free (&image);
    fclose (fp);
    return FALSE;
  }

  if (image.width == 0 || image.height == 0
      || (guint64)image.width * image.height > MAX_PNG_PIXELS) {
    g_set_error (error, AFFECT_IMAGE_ERROR, AFFECT_IMAGE_ERROR_FORMAT,
        "%s: unsupported image size %ux%u", path, image.width, image.height);
    png_image_free (&image);
    fclose (fp);
    return FALSE;
  }

  image.format = PNG_FORMAT_RGB;
  /* zero-filled: any alpha is composited onto black */
  buf = g_try_malloc0 ((gsize)image.width * image.height * 3);
  if (buf == NULL) {
    g_set_error (error, AFFECT_IMAGE_ERROR, AFFECT_IMAGE_ERROR_IO,
        "%s: out of memory for %ux%u pixels", path, image.width, image.height);
    png_image_free (&image);
    fclose (fp);
    return FALSE;
  }

  if (!png_image_finish_read (
          &image, NULL, buf, (png_int_32)image.width * 3, NULL)) {
    g_set_error (error, AFFECT_IMAGE_ERROR, AFFECT_IMAGE_ERROR_FORMAT,
        "%s: cannot decode PNG: %s", path, image.message);
    png_image_free (&image);
    g_free (buf);
    fclose (fp);
    return FALSE;
  }
  fclose (fp);

  *rgb = buf;
  *w = (int)image.width;
  *h = (int)image.height;
  return TRUE;
}
