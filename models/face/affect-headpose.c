/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Head pose by a perspective-n-point fit of a generic 3-D face shape to the
 * 68 landmarks; conventions and method in affect-headpose.h.
 */

#include "affect-headpose.h"

#include <math.h>
#include <string.h>

#define DEG(r) ((r) * (180.0 / G_PI))
#define RAD(d) ((d) * (G_PI / 180.0))

/* The generic face, in millimetres, axes and origin as in
 * affect-headpose.h (X to the face's left, Y up, Z out of the face, origin
 * at the nose tip).
 *
 * Where the numbers come from: six anchor points follow the approximate
 * 3-D head model published by S. Mallick, "Head Pose Estimation using
 * OpenCV and Dlib", LearnOpenCV, 2016 (nose tip (0, 0, 0), chin
 * (0, -330, -65), outer eye corners (±225, 170, -135), mouth corners
 * (±150, -150, -125), in units of about 0.2 mm), scaled to millimetres;
 * the other points are laid out by hand between them from average adult
 * proportions (L. G. Farkas, "Anthropometry of the Head and Face", 1994:
 * face width at the tragi about 140 mm, intercanthal width about 32 mm,
 * eye fissure about 30 mm, mouth width about 50 mm, nose width about
 * 30 mm, lower face height about 70 mm). The jaw line (points 0-16) is a
 * half ellipse from ear to ear through the chin, 144 mm wide, its ends
 * 32 mm above the nose tip and the chin 74 mm below it, its depth running
 * from 95 mm behind the nose tip at the ears to 20 mm at the chin. The shape is symmetric: point i and
 * its mirror in the iBUG order have opposite X and the same Y and Z. It is
 * a generic shape, not a fitted mean of a face database: poses of real
 * faces come out with a bias of a few degrees that depends on the face. */
static float face_model[AFFECT_HEAD_POSE_N_POINTS][3];
static gsize face_model_once = 0;

static const float brow[5][3] = {
  /* 17..21: the right brow (image left), outer to inner */
  { -57.0f, 54.0f, -45.0f },
  { -47.0f, 60.0f, -33.0f },
  { -36.0f, 62.0f, -26.0f },
  { -25.0f, 61.0f, -22.0f },
  { -14.0f, 58.0f, -20.0f },
};

static const float nose[9][3] = {
  /* 27..30: the bridge, nasion to tip */
  { 0.0f, 40.0f, -20.0f },
  { 0.0f, 27.0f, -13.0f },
  { 0.0f, 13.0f, -6.0f },
  { 0.0f, 0.0f, 0.0f },
  /* 31..35: the lower edge, right wing to left wing */
  { -13.0f, -6.0f, -16.0f },
  { -7.0f, -8.0f, -12.0f },
  { 0.0f, -9.0f, -10.0f },
  { 7.0f, -8.0f, -12.0f },
  { 13.0f, -6.0f, -16.0f },
};

static const float right_eye[6][3] = {
  /* 36..41: outer corner, upper lid (2), inner corner, lower lid (2) */
  { -45.0f, 38.0f, -27.0f },
  { -37.0f, 42.0f, -23.0f },
  { -27.0f, 42.0f, -22.0f },
  { -17.0f, 37.0f, -24.0f },
  { -27.0f, 34.0f, -22.0f },
  { -37.0f, 34.0f, -23.0f },
};

static const float mouth[20][3] = {
  /* 48..59: outer lip contour from the right corner, upper lip first */
  { -28.0f, -27.0f, -25.0f },
  { -18.0f, -22.0f, -15.0f },
  { -7.0f, -19.0f, -11.0f },
  { 0.0f, -20.0f, -10.0f },
  { 7.0f, -19.0f, -11.0f },
  { 18.0f, -22.0f, -15.0f },
  { 28.0f, -27.0f, -25.0f },
  { 18.0f, -36.0f, -16.0f },
  { 8.0f, -40.0f, -12.0f },
  { 0.0f, -41.0f, -11.0f },
  { -8.0f, -40.0f, -12.0f },
  { -18.0f, -36.0f, -16.0f },
  /* 60..67: inner lip contour from the right corner */
  { -24.0f, -27.0f, -21.0f },
  { -7.0f, -25.0f, -13.0f },
  { 0.0f, -25.0f, -12.0f },
  { 7.0f, -25.0f, -13.0f },
  { 24.0f, -27.0f, -21.0f },
  { 7.0f, -30.0f, -13.0f },
  { 0.0f, -30.0f, -12.0f },
  { -7.0f, -30.0f, -13.0f },
};

static void
build_model (void)
{
  int i;

  /* 0..16: jaw line, a half ellipse from the right ear through the chin
   * (point 8) to the left ear. */
  for (i = 0; i <= 16; i++) {
    double t = G_PI * i / 16.0;

    face_model[i][0] = (float)(-72.0 * cos (t));
    face_model[i][1] = (float)(32.0 - 106.0 * sin (t));
    face_model[i][2] = (float)(-20.0 - 75.0 * fabs (cos (t)));
  }
  /* 17..26: brows; 22..26 mirror 21..17. */
  for (i = 0; i < 5; i++) {
    memcpy (face_model[17 + i], brow[i], sizeof (brow[i]));
    face_model[26 - i][0] = -brow[i][0];
    face_model[26 - i][1] = brow[i][1];
    face_model[26 - i][2] = brow[i][2];
  }
  for (i = 0; i < 9; i++)
    memcpy (face_model[27 + i], nose[i], sizeof (nose[i]));
  /* 36..41 right eye; 42..47 the left eye, its mirror: 42 inner corner,
   * 43-44 upper lid, 45 outer corner, 46-47 lower lid. */
  for (i = 0; i < 6; i++)
    memcpy (face_model[36 + i], right_eye[i], sizeof (right_eye[i]));
  {
    static const int mirror[6] = { 39, 38, 37, 36, 41, 40 };

    for (i = 0; i < 6; i++) {
      face_model[42 + i][0] = -right_eye[mirror[i] - 36][0];
      face_model[42 + i][1] = right_eye[mirror[i] - 36][1];
      face_model[42 + i][2] = right_eye[mirror[i] - 36][2];
    }
  }
  for (i = 0; i < 20; i++)
    memcpy (face_model[48 + i], mouth[i], sizeof (mouth[i]));
}

const float (*affect_head_pose_model (void))[3]
{
  if (g_once_init_enter (&face_model_once)) {
    build_model ();
    g_once_init_leave (&face_model_once, 1);
  }
  return (const float (*)[3])face_model;
}

double
affect_head_pose_focal (int width, int height)
{
  (void)height;
  return (double)width;
}

/* ---- small linear algebra (double) ---- */

static void
mat3_mul (const double a[3][3], const double b[3][3], double out[3][3])
{
  double r[3][3];
  int i, j;

  for (i = 0; i < 3; i++)
    for (j = 0; j < 3; j++)
      r[i][j] = a[i][0] * b[0][j] + a[i][1] * b[1][j] + a[i][2] * b[2][j];
  memcpy (out, r, sizeof (r));
}

static gboolean
mat3_inverse (const double m[3][3], double inv[3][3])
{
  double det, c[3][3];
  int i, j;

  c[0][0] = m[1][1] * m[2][2] - m[1][2] * m[2][1];
  c[0][1] = m[0][2] * m[2][1] - m[0][1] * m[2][2];
  c[0][2] = m[0][1] * m[1][2] - m[0][2] * m[1][1];
  c[1][0] = m[1][2] * m[2][0] - m[1][0] * m[2][2];
  c[1][1] = m[0][0] * m[2][2] - m[0][2] * m[2][0];
  c[1][2] = m[0][2] * m[1][0] - m[0][0] * m[1][2];
  c[2][0] = m[1][0] * m[2][1] - m[1][1] * m[2][0];
  c[2][1] = m[0][1] * m[2][0] - m[0][0] * m[2][1];
  c[2][2] = m[0][0] * m[1][1] - m[0][1] * m[1][0];
  det = m[0][0] * c[0][0] + m[0][1] * c[1][0] + m[0][2] * c[2][0];
  if (!(fabs (det) > 1e-12))
    return FALSE;
  for (i = 0; i < 3; i++)
    for (j = 0; j < 3; j++)
      inv[i][j] = c[i][j] / det;
  return TRUE;
}

static double
vec3_norm (const double v[3])
{
  return sqrt (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
}

/* exp ([w]×): Rodrigues' formula. */
static void
rotation_from_vector (const double w[3], double r[3][3])
{
  double th = vec3_norm (w), k[3], c, s, v;
  int i, j;

  if (th < 1e-12) {
    /* first order */
    r[0][0] = 1.0, r[0][1] = -w[2], r[0][2] = w[1];
    r[1][0] = w[2], r[1][1] = 1.0, r[1][2] = -w[0];
    r[2][0] = -w[1], r[2][1] = w[0], r[2][2] = 1.0;
    return;
  }
  for (i = 0; i < 3; i++)
    k[i] = w[i] / th;
  c = cos (th);
  s = sin (th);
  v = 1.0 - c;
  for (i = 0; i < 3; i++)
    for (j = 0; j < 3; j++)
      r[i][j] = v * k[i] * k[j] + (i == j ? c : 0.0);
  r[0][1] -= s * k[2];
  r[0][2] += s * k[1];
  r[1][0] += s * k[2];
  r[1][2] -= s * k[0];
  r[2][0] -= s * k[1];
  r[2][1] += s * k[0];
}

/* Solves the n × n system a x = b (a and b destroyed) by Gaussian
 * elimination with partial pivoting. */
static gboolean
solve_linear (double *a, double *b, double *x, int n)
{
  int i, j, k;

  for (k = 0; k < n; k++) {
    int p = k;
    double best = fabs (a[k * n + k]);

    for (i = k + 1; i < n; i++) {
      if (fabs (a[i * n + k]) > best) {
        best = fabs (a[i * n + k]);
        p = i;
      }
    }
    if (!(best > 1e-300))
      return FALSE;
    if (p != k) {
      for (j = 0; j < n; j++) {
        double t = a[k * n + j];

        a[k * n + j] = a[p * n + j];
        a[p * n + j] = t;
      }
      {
        double t = b[k];

        b[k] = b[p];
        b[p] = t;
      }
    }
    for (i = k + 1; i < n; i++) {
      double f = a[i * n + k] / a[k * n + k];

      for (j = k; j < n; j++)
        a[i * n + j] -= f * a[k * n + j];
      b[i] -= f * b[k];
    }
  }
  for (i = n - 1; i >= 0; i--) {
    double s = b[i];

    for (j = i + 1; j < n; j++)
      s -= a[i * n + j] * x[j];
    x[i] = s / a[i * n + i];
  }
  return TRUE;
}

/* ---- the fit ---- */

typedef struct {
  const float (*model)[3];
  const float (*points)[2];
  double f, cx, cy;
} Problem;

/* Sum of squared reprojection errors of (r, t); +inf when a point is at or
 * behind the camera. */
static double
reprojection_cost (const Problem *pb, const double r[3][3], const double t[3])
{
  double cost = 0.0;
  int i;

  for (i = 0; i < AFFECT_HEAD_POSE_N_POINTS; i++) {
    const float *p = pb->model[i];
    double x = r[0][0] * p[0] + r[0][1] * p[1] + r[0][2] * p[2] + t[0];
    double y = r[1][0] * p[0] + r[1][1] * p[1] + r[1][2] * p[2] + t[1];
    double z = r[2][0] * p[0] + r[2][1] * p[1] + r[2][2] * p[2] + t[2];
    double du, dv;

    if (!(z > 1e-6))
      return INFINITY;
    du = pb->f * x / z + pb->cx - pb->points[i][0];
    dv = pb->f * y / z + pb->cy - pb->points[i][1];
    cost += du * du + dv * dv;
  }
  return cost;
}

/* Normal equations of the linearised problem in (δ, Δt), x = exp ([δ]×) R p
 * + t + Δt: h (6 × 6) = JᵀJ, g = Jᵀ r. */
static void
normal_equations (const Problem *pb, const double r[3][3], const double t[3],
    double h[36], double g[6])
{
  int i, j, k;

  memset (h, 0, 36 * sizeof (double));
  memset (g, 0, 6 * sizeof (double));
  for (i = 0; i < AFFECT_HEAD_POSE_N_POINTS; i++) {
    const float *p = pb->model[i];
    double q[3], x[3], ju[6], jv[6], du, dv, iz;

    for (k = 0; k < 3; k++)
      q[k] = r[k][0] * p[0] + r[k][1] * p[1] + r[k][2] * p[2];
    for (k = 0; k < 3; k++)
      x[k] = q[k] + t[k];
    iz = 1.0 / x[2];
    du = pb->f * x[0] * iz + pb->cx - pb->points[i][0];
    dv = pb->f * x[1] * iz + pb->cy - pb->points[i][1];
    /* d(u, v)/dx, times dx/dδ = -[q]× and dx/dΔt = I */
    {
      double a[3] = { pb->f * iz, 0.0, -pb->f * x[0] * iz * iz };
      double b[3] = { 0.0, pb->f * iz, -pb->f * x[1] * iz * iz };
      /* row · (-[q]×) = row × q ... written out: (-[q]×) columns are
       * e_k × q */
      double qx[3][3] = {
        { 0.0, q[2], -q[1] },
        { -q[2], 0.0, q[0] },
        { q[1], -q[0], 0.0 },
      };

      for (k = 0; k < 3; k++) {
        ju[k] = a[0] * qx[0][k] + a[1] * qx[1][k] + a[2] * qx[2][k];
        jv[k] = b[0] * qx[0][k] + b[1] * qx[1][k] + b[2] * qx[2][k];
        ju[3 + k] = a[k];
        jv[3 + k] = b[k];
      }
    }
    for (j = 0; j < 6; j++) {
      g[j] += ju[j] * du + jv[j] * dv;
      for (k = 0; k < 6; k++)
        h[j * 6 + k] += ju[j] * ju[k] + jv[j] * jv[k];
    }
  }
}

/* Scaled-orthographic start: the affine map M (2 × 3) that best takes the
 * centred model to the centred landmarks, M = s [r1; r2]. */
static gboolean
initial_estimate (const Problem *pb, double r[3][3], double t[3])
{
  double pm[3] = { 0 }, um[2] = { 0 }, a[3][3] = { { 0 } }, ai[3][3];
  double b[2][3] = { { 0 } }, m[2][3], n0, n1, c[3], d[3], nc, nd, s, z;
  int i, j, k;
  const int n = AFFECT_HEAD_POSE_N_POINTS;

  for (i = 0; i < n; i++) {
    for (k = 0; k < 3; k++)
      pm[k] += pb->model[i][k] / n;
    um[0] += pb->points[i][0] / n;
    um[1] += pb->points[i][1] / n;
  }
  for (i = 0; i < n; i++) {
    double pc[3], uc[2];

    for (k = 0; k < 3; k++)
      pc[k] = pb->model[i][k] - pm[k];
    uc[0] = pb->points[i][0] - um[0];
    uc[1] = pb->points[i][1] - um[1];
    for (j = 0; j < 3; j++) {
      for (k = 0; k < 3; k++)
        a[j][k] += pc[j] * pc[k];
      b[0][j] += uc[0] * pc[j];
      b[1][j] += uc[1] * pc[j];
    }
  }
  if (!mat3_inverse (a, ai))
    return FALSE;
  for (j = 0; j < 2; j++)
    for (k = 0; k < 3; k++)
      m[j][k] = b[j][0] * ai[0][k] + b[j][1] * ai[1][k] + b[j][2] * ai[2][k];

  n0 = vec3_norm (m[0]);
  n1 = vec3_norm (m[1]);
  if (!(n0 > 1e-9 && n1 > 1e-9))
    return FALSE;
  s = 0.5 * (n0 + n1);
  /* The nearest pair of orthonormal rows: bisector and its normal. */
  for (k = 0; k < 3; k++) {
    double e0 = m[0][k] / n0, e1 = m[1][k] / n1;

    c[k] = e0 + e1;
    d[k] = e0 - e1;
  }
  nc = vec3_norm (c);
  nd = vec3_norm (d);
  if (!(nc > 1e-6 && nd > 1e-6))
    return FALSE;
  for (k = 0; k < 3; k++) {
    r[0][k] = (c[k] / nc + d[k] / nd) / G_SQRT2;
    r[1][k] = (c[k] / nc - d[k] / nd) / G_SQRT2;
  }
  r[2][0] = r[0][1] * r[1][2] - r[0][2] * r[1][1];
  r[2][1] = r[0][2] * r[1][0] - r[0][0] * r[1][2];
  r[2][2] = r[0][0] * r[1][1] - r[0][1] * r[1][0];

  /* Depth of the model's centroid from the scale, then the translation
   * that puts the centroid on the landmarks' centroid. */
  z = pb->f / s;
  {
    double rp[3];

    for (k = 0; k < 3; k++)
      rp[k] = r[k][0] * pm[0] + r[k][1] * pm[1] + r[k][2] * pm[2];
    t[0] = (um[0] - pb->cx) * z / pb->f - rp[0];
    t[1] = (um[1] - pb->cy) * z / pb->f - rp[1];
    t[2] = z - rp[2];
  }
  return TRUE;
}

static void
pose_fail (AffectHeadPose *pose)
{
  int i;

  pose->yaw = pose->pitch = pose->roll = NAN;
  memset (pose->rotation, 0, sizeof (pose->rotation));
  for (i = 0; i < 3; i++)
    pose->rotation[i][i] = 1.0f;
  memset (pose->translation, 0, sizeof (pose->translation));
  pose->rms_error = NAN;
}

/* View-frame rotation (x right, y up, z towards the viewer) of the camera
 * rotation: R_view = D R_cam, D = diag (1, -1, -1). */
static void
angles_from_rotation (
    const double rc[3][3], double *yaw, double *pitch, double *roll)
{
  double rv[3][3];
  int j;

  for (j = 0; j < 3; j++) {
    rv[0][j] = rc[0][j];
    rv[1][j] = -rc[1][j];
    rv[2][j] = -rc[2][j];
  }
  /* rv = Rz (γ) Ry (β) Rx (α), γ = -roll, β = yaw, α = -pitch */
  *yaw = DEG (asin (CLAMP (-rv[2][0], -1.0, 1.0)));
  *pitch = -DEG (atan2 (rv[2][1], rv[2][2]));
  *roll = -DEG (atan2 (rv[1][0], rv[0][0]));
}

void
affect_head_pose_rotation (
    float yaw, float pitch, float roll, float rotation[3][3])
{
  double a = RAD (-(double)pitch), b = RAD ((double)yaw);
  double c = RAD (-(double)roll);
  double rx[3][3] = {
    { 1, 0, 0 },
    { 0, cos (a), -sin (a) },
    { 0, sin (a), cos (a) },
  };
  double ry[3][3] = {
    { cos (b), 0, sin (b) },
    { 0, 1, 0 },
    { -sin (b), 0, cos (b) },
  };
  double rz[3][3] = {
    { cos (c), -sin (c), 0 },
    { sin (c), cos (c), 0 },
    { 0, 0, 1 },
  };
  double rv[3][3];
  int j;

  mat3_mul (ry, rx, rv);
  mat3_mul (rz, rv, rv);
  for (j = 0; j < 3; j++) {
    rotation[0][j] = (float)rv[0][j];
    rotation[1][j] = (float)-rv[1][j];
    rotation[2][j] = (float)-rv[2][j];
  }
}

gboolean
affect_head_pose_estimate (
    const float (*points)[2], int width, int height, AffectHeadPose *pose)
{
  Problem pb;
  double r[3][3], t[3], cost, lambda = 1e-3, mean[2] = { 0 }, spread = 0.0;
  double yaw, pitch, roll;
  gboolean converged = FALSE;
  int i, it, k;
  const int n = AFFECT_HEAD_POSE_N_POINTS;

  g_return_val_if_fail (pose != NULL, FALSE);
  pose_fail (pose);
  g_return_val_if_fail (points != NULL, FALSE);

  if (width <= 0 || height <= 0)
    return FALSE;
  for (i = 0; i < n; i++) {
    if (!isfinite (points[i][0]) || !isfinite (points[i][1]))
      return FALSE;
    mean[0] += points[i][0] / n;
    mean[1] += points[i][1] / n;
  }
  for (i = 0; i < n; i++) {
    double dx = points[i][0] - mean[0], dy = points[i][1] - mean[1];

    spread += (dx * dx + dy * dy) / n;
  }
  if (!(sqrt (spread) > 1e-3))
    return FALSE;

  pb.model = affect_head_pose_model ();
  pb.points = points;
  pb.f = affect_head_pose_focal (width, height);
  pb.cx = 0.5 * width;
  pb.cy = 0.5 * height;

  if (!initial_estimate (&pb, r, t))
    return FALSE;
  cost = reprojection_cost (&pb, r, t);
  if (!isfinite (cost))
    return FALSE;

  /* Levenberg-Marquardt (Marquardt's scaling of the damping by the
   * diagonal). */
  for (it = 0; it < 200 && !converged; it++) {
    double h[36], g[6], a[36], b[6], step[6], rn[3][3], dr[3][3], tn[3];
    double cn;
    gboolean accepted = FALSE;

    normal_equations (&pb, r, t, h, g);
    while (lambda < 1e12) {
      memcpy (a, h, sizeof (a));
      for (k = 0; k < 6; k++) {
        a[k * 6 + k] += lambda * (h[k * 6 + k] + 1e-9);
        b[k] = -g[k];
      }
      if (!solve_linear (a, b, step, 6))
        break;
      rotation_from_vector (step, dr);
      mat3_mul (dr, r, rn);
      for (k = 0; k < 3; k++)
        tn[k] = t[k] + step[3 + k];
      cn = reprojection_cost (&pb, rn, tn);
      if (cn < cost) {
        double rel = (cost - cn) / MAX (cost, 1e-30);

        memcpy (r, rn, sizeof (r));
        memcpy (t, tn, sizeof (t));
        cost = cn;
        lambda = MAX (lambda * 0.1, 1e-12);
        accepted = TRUE;
        converged = rel < 1e-12;
        break;
      }
      lambda *= 10.0;
    }
    if (!accepted)
      break; /* no step lowers the cost: at the minimum */
  }

  /* Keep the rotation orthonormal after the updates (re-orthonormalise
   * rows 0 and 1, row 2 their cross product). */
  {
    double n0 = vec3_norm (r[0]), dot;

    for (k = 0; k < 3; k++)
      r[0][k] /= n0;
    dot = r[0][0] * r[1][0] + r[0][1] * r[1][1] + r[0][2] * r[1][2];
    for (k = 0; k < 3; k++)
      r[1][k] -= dot * r[0][k];
    n0 = vec3_norm (r[1]);
    for (k = 0; k < 3; k++)
      r[1][k] /= n0;
    r[2][0] = r[0][1] * r[1][2] - r[0][2] * r[1][1];
    r[2][1] = r[0][2] * r[1][0] - r[0][0] * r[1][2];
    r[2][2] = r[0][0] * r[1][1] - r[0][1] * r[1][0];
  }
  cost = reprojection_cost (&pb, r, t);
  if (!isfinite (cost))
    return FALSE;

  angles_from_rotation (r, &yaw, &pitch, &roll);
  if (!isfinite (yaw) || !isfinite (pitch) || !isfinite (roll))
    return FALSE;

  pose->yaw = (float)yaw;
  pose->pitch = (float)pitch;
  pose->roll = (float)roll;
  for (i = 0; i < 3; i++) {
    for (k = 0; k < 3; k++)
      pose->rotation[i][k] = (float)r[i][k];
    pose->translation[i] = (float)t[i];
  }
  pose->rms_error = (float)sqrt (cost / n);
  return TRUE;
}

gboolean
affect_head_pose_project (const AffectHeadPose *pose, int width, int height,
    const float xyz[3], float uv[2])
{
  double x[3], f = affect_head_pose_focal (width, height);
  int k;

  g_return_val_if_fail (pose != NULL && xyz != NULL && uv != NULL, FALSE);

  for (k = 0; k < 3; k++)
    x[k] = (double)pose->rotation[k][0] * xyz[0]
           + (double)pose->rotation[k][1] * xyz[1]
           + (double)pose->rotation[k][2] * xyz[2] + pose->translation[k];
  if (!(x[2] > 1e-6))
    return FALSE;
  uv[0] = (float)(f * x[0] / x[2] + 0.5 * width);
  uv[1] = (float)(f * x[1] / x[2] + 0.5 * height);
  return TRUE;
}
