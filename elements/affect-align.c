/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "affect-align.h"

#include <math.h>
#include <string.h>

/* ArcFace template for 112 × 112 crops (eye centres, nose tip, mouth
 * corners, in the order of affect_align_five_points()). */
static const double arcface_112[5][2] = {
  { 38.2946, 51.6963 },
  { 73.5318, 51.5014 },
  { 56.0252, 71.7366 },
  { 41.5493, 92.3655 },
  { 70.7299, 92.2041 },
};

void
affect_align_five_points (const float (*landmarks)[2], float pts[5][2])
{
  int i;

  memset (pts, 0, 5 * sizeof (pts[0]));
  for (i = 36; i < 42; i++) {
    pts[0][0] += landmarks[i][0] / 6.0f;
    pts[0][1] += landmarks[i][1] / 6.0f;
    pts[1][0] += landmarks[i + 6][0] / 6.0f;
    pts[1][1] += landmarks[i + 6][1] / 6.0f;
  }
  pts[2][0] = landmarks[30][0];
  pts[2][1] = landmarks[30][1];
  pts[3][0] = landmarks[48][0];
  pts[3][1] = landmarks[48][1];
  pts[4][0] = landmarks[54][0];
  pts[4][1] = landmarks[54][1];
}

void
affect_align_template (int size, double margin, double tpl[5][2])
{
  double shrink = 1.0 / (1.0 + 2.0 * MAX (margin, 0.0));
  double scale = size / 112.0;
  int i, k;

  for (i = 0; i < 5; i++)
    for (k = 0; k < 2; k++)
      tpl[i][k] = ((arcface_112[i][k] - 56.0) * shrink + 56.0) * scale;
}

gboolean
affect_align_similarity (
    const double (*src)[2], const double (*dst)[2], int n, double m[6])
{
  double sx = 0, sy = 0, dx = 0, dy = 0, norm = 0, pa = 0, pb = 0;
  double a, b;
  int i;

  g_return_val_if_fail (n >= 2, FALSE);

  for (i = 0; i < n; i++) {
    sx += src[i][0];
    sy += src[i][1];
    dx += dst[i][0];
    dy += dst[i][1];
  }
  sx /= n;
  sy /= n;
  dx /= n;
  dy /= n;

  for (i = 0; i < n; i++) {
    double x = src[i][0] - sx, y = src[i][1] - sy;
    double u = dst[i][0] - dx, v = dst[i][1] - dy;

    norm += x * x + y * y;
    pa += x * u + y * v;
    pb += x * v - y * u;
  }
  if (!(norm > 1e-12) || !isfinite (norm))
    return FALSE;

  a = pa / norm;
  b = pb / norm;
  m[0] = a;
  m[1] = -b;
  m[3] = b;
  m[4] = a;
  m[2] = dx - (a * sx - b * sy);
  m[5] = dy - (b * sx + a * sy);
  return isfinite (m[2]) && isfinite (m[5]);
}

gboolean
affect_align_invert (const double m[6], double inv[6])
{
  double det = m[0] * m[4] - m[1] * m[3];

  if (!(fabs (det) > 1e-12) || !isfinite (det))
    return FALSE;
  inv[0] = m[4] / det;
  inv[1] = -m[1] / det;
  inv[3] = -m[3] / det;
  inv[4] = m[0] / det;
  inv[2] = -(inv[0] * m[2] + inv[1] * m[5]);
  inv[5] = -(inv[3] * m[2] + inv[4] * m[5]);
  return TRUE;
}

/* One channel triple at integer (x, y), black outside the image. */
static inline const guint8 *
pixel_at (const AffectImage *img, int x, int y)
{
  static const guint8 black[3] = { 0, 0, 0 };

  if (x < 0 || y < 0 || x >= img->width || y >= img->height)
    return black;
  return img->data + (gsize)y * img->stride + (gsize)x * 3;
}

void
affect_align_warp (
    const AffectImage *img, const double inv[6], int size, guint8 *dst)
{
  int u, v, c;

  for (v = 0; v < size; v++) {
    guint8 *row = dst + (gsize)v * size * 3;

    for (u = 0; u < size; u++) {
      double x = inv[0] * u + inv[1] * v + inv[2];
      double y = inv[3] * u + inv[4] * v + inv[5];
      double fx, fy;
      int x0, y0;
      const guint8 *p00, *p01, *p10, *p11;

      if (!(x > -1.0 && y > -1.0 && x < img->width && y < img->height)) {
        row[3 * u] = row[3 * u + 1] = row[3 * u + 2] = 0;
        continue;
      }
      x0 = (int)floor (x);
      y0 = (int)floor (y);
      fx = x - x0;
      fy = y - y0;
      p00 = pixel_at (img, x0, y0);
      p01 = pixel_at (img, x0 + 1, y0);
      p10 = pixel_at (img, x0, y0 + 1);
      p11 = pixel_at (img, x0 + 1, y0 + 1);
      for (c = 0; c < 3; c++) {
        double top = p00[c] + (p01[c] - p00[c]) * fx;
        double bot = p10[c] + (p11[c] - p10[c]) * fx;
        double val = top + (bot - top) * fy;

        row[3 * u + c] = (guint8)CLAMP (lround (val), 0, 255);
      }
    }
  }
}

gboolean
affect_align_crop (const AffectImage *img, const float (*landmarks)[2],
    int size, double margin, guint8 *dst)
{
  float pts[5][2];
  double src[5][2], tpl[5][2], m[6], inv[6];
  int i;

  affect_align_five_points (landmarks, pts);
  for (i = 0; i < 5; i++) {
    src[i][0] = pts[i][0];
    src[i][1] = pts[i][1];
  }
  affect_align_template (size, margin, tpl);
  if (!affect_align_similarity (src, tpl, 5, m)
      || !affect_align_invert (m, inv)) {
    memset (dst, 0, (gsize)size * size * 3);
    return FALSE;
  }
  affect_align_warp (img, inv, size, dst);
  return TRUE;
}
