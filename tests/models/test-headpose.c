/* gst-affect — tests/models
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The head-pose estimator (models/face/affect-headpose.c) on synthetic
 * projections of its own 3-D face shape with known poses:
 *  - a grid of yaw -60..60, pitch -40..40, roll -45..45 at several
 *    distances, positions in the frame and image sizes: recovered within
 *    0.01° without noise and within 2° with uniform ±1 px noise;
 *  - the sign conventions (yaw positive: nose to the image right; pitch
 *    positive: nose up; roll positive: clockwise in the image);
 *  - affect_head_pose_rotation() agrees with the fitted rotation, and
 *    affect_head_pose_project() reproduces the landmarks;
 *  - degenerate input (NaN, infinity, all points equal, points on a line,
 *    an empty image) gives FALSE and NaN angles.
 */

#include <check.h>
#include <glib.h>
#include <math.h>
#include <string.h>

#include "affect-headpose.h"

typedef struct {
  int width, height;
  /* distance of the nose tip from the camera (mm) and its offset from
   * the optical axis in fractions of the distance */
  double distance, off_x, off_y;
} Setup;

static const Setup setups[] = {
  { 640, 480, 450.0, 0.0, 0.0 },
  { 640, 480, 800.0, 0.15, -0.1 },
  { 1920, 1080, 600.0, -0.2, 0.1 },
  { 1920, 1080, 1500.0, 0.1, 0.05 },
  { 1280, 720, 1000.0, 0.0, -0.15 },
};

/* Projects the model with the pose (camera rotation of the angles, nose tip
 * at @s's position) and the camera model of the estimator. */
static void
synthesise (
    const Setup *s, float yaw, float pitch, float roll, float points[68][2])
{
  const float (*model)[3] = affect_head_pose_model ();
  AffectHeadPose pose;
  int i;

  memset (&pose, 0, sizeof (pose));
  affect_head_pose_rotation (yaw, pitch, roll, pose.rotation);
  pose.translation[0] = (float)(s->off_x * s->distance);
  pose.translation[1] = (float)(s->off_y * s->distance);
  pose.translation[2] = (float)s->distance;
  for (i = 0; i < 68; i++)
    ck_assert (affect_head_pose_project (
        &pose, s->width, s->height, model[i], points[i]));
}

static void
run_grid (gboolean noise, double tolerance, double *worst_out)
{
  GRand *rand = g_rand_new_with_seed (1234);
  double worst = 0.0;
  guint n = 0, k;
  int yaw, pitch, roll, i;

  for (k = 0; k < G_N_ELEMENTS (setups); k++) {
    for (yaw = -60; yaw <= 60; yaw += 15) {
      for (pitch = -40; pitch <= 40; pitch += 10) {
        for (roll = -45; roll <= 45; roll += 15) {
          float points[68][2];
          AffectHeadPose pose;
          double e;

          synthesise (&setups[k], yaw, pitch, roll, points);
          if (noise) {
            for (i = 0; i < 68; i++) {
              points[i][0] += (float)g_rand_double_range (rand, -1.0, 1.0);
              points[i][1] += (float)g_rand_double_range (rand, -1.0, 1.0);
            }
          }
          ck_assert_msg (affect_head_pose_estimate (
                             points, setups[k].width, setups[k].height, &pose),
              "fit failed at yaw %d pitch %d roll %d (setup %u)", yaw, pitch,
              roll, k);
          e = MAX (fabs (pose.yaw - yaw),
              MAX (fabs (pose.pitch - pitch), fabs (pose.roll - roll)));
          ck_assert_msg (e <= tolerance,
              "setup %u%s: true (%d, %d, %d), got (%.3f, %.3f, %.3f)", k,
              noise ? " with noise" : "", yaw, pitch, roll, pose.yaw,
              pose.pitch, pose.roll);
          if (!noise)
            ck_assert_float_le (pose.rms_error, 1e-2f);
          worst = MAX (worst, e);
          n++;
        }
      }
    }
  }
  ck_assert_uint_eq (n, G_N_ELEMENTS (setups) * 9 * 9 * 7);
  g_rand_free (rand);
  *worst_out = worst;
}

START_TEST (test_grid_exact)
{
  double worst;

  run_grid (FALSE, 0.01, &worst);
  g_print ("worst noise-free error %.2e degrees\n", worst);
}
END_TEST

START_TEST (test_grid_noise)
{
  double worst;

  run_grid (TRUE, 2.0, &worst);
  g_print ("worst error with noise %.3f degrees\n", worst);
}
END_TEST

/* Mean x (or y) of some landmarks. */
static float
mean_coord (float points[68][2], const int *idx, int n, int axis)
{
  float m = 0.0f;
  int i;

  for (i = 0; i < n; i++)
    m += points[idx[i]][axis] / n;
  return m;
}

START_TEST (test_conventions)
{
  static const int eyes[4] = { 36, 39, 42, 45 };
  const Setup *s = &setups[0];
  float p0[68][2], p[68][2];
  AffectHeadPose pose;

  synthesise (s, 0, 0, 0, p0);
  /* The frontal face is upright and not mirrored: the face's right eye
   * (36-41) on the image left, the brows above the eyes, the chin below. */
  ck_assert_float_lt (p0[36][0], p0[45][0]);
  ck_assert_float_lt (p0[19][1], p0[37][1]);
  ck_assert_float_gt (p0[8][1], p0[57][1]);

  /* yaw > 0: the face turns to its left, the nose tip moves to the image
   * right of the eyes' centre. */
  synthesise (s, 30, 0, 0, p);
  ck_assert_float_gt (p[30][0] - mean_coord (p, eyes, 4, 0),
      p0[30][0] - mean_coord (p0, eyes, 4, 0) + 5.0f);
  ck_assert (affect_head_pose_estimate (p, s->width, s->height, &pose));
  ck_assert_float_gt (pose.yaw, 29.9f);

  /* pitch > 0: looks up, the nose tip moves up relative to the eyes. */
  synthesise (s, 0, 20, 0, p);
  ck_assert_float_lt (p[30][1] - mean_coord (p, eyes, 4, 1),
      p0[30][1] - mean_coord (p0, eyes, 4, 1) - 5.0f);
  ck_assert (affect_head_pose_estimate (p, s->width, s->height, &pose));
  ck_assert_float_gt (pose.pitch, 19.9f);

  /* roll > 0: clockwise in the image, the eye on the image right (45) goes
   * below the one on the left (36). */
  synthesise (s, 0, 0, 20, p);
  ck_assert_float_gt (p[45][1], p[36][1] + 5.0f);
  ck_assert (affect_head_pose_estimate (p, s->width, s->height, &pose));
  ck_assert_float_gt (pose.roll, 19.9f);
}
END_TEST

START_TEST (test_rotation_and_projection)
{
  const Setup *s = &setups[2];
  const float (*model)[3] = affect_head_pose_model ();
  float p[68][2], r[3][3], uv[2];
  AffectHeadPose pose;
  int i, j;

  synthesise (s, -35, 12, 25, p);
  ck_assert (affect_head_pose_estimate (p, s->width, s->height, &pose));
  affect_head_pose_rotation (pose.yaw, pose.pitch, pose.roll, r);
  for (i = 0; i < 3; i++)
    for (j = 0; j < 3; j++)
      ck_assert_float_eq_tol (r[i][j], pose.rotation[i][j], 1e-4f);
  /* the nose tip is the model's origin: the translation is where it is */
  ck_assert_float_eq_tol (pose.translation[2], s->distance, 0.01 * s->distance);
  for (i = 0; i < 68; i++) {
    ck_assert (
        affect_head_pose_project (&pose, s->width, s->height, model[i], uv));
    ck_assert_float_eq_tol (uv[0], p[i][0], 0.05f);
    ck_assert_float_eq_tol (uv[1], p[i][1], 0.05f);
  }
  /* a point behind the camera does not project */
  {
    float behind[3] = { 0.0f, 0.0f, 2.0f * s->distance };
    AffectHeadPose front;

    memset (&front, 0, sizeof (front));
    affect_head_pose_rotation (0, 0, 0, front.rotation);
    front.translation[2] = (float)s->distance;
    ck_assert (
        !affect_head_pose_project (&front, s->width, s->height, behind, uv));
  }
}
END_TEST

static void
assert_fails (float p[68][2], int width, int height)
{
  AffectHeadPose pose;

  pose.yaw = pose.pitch = pose.roll = 1.0f;
  ck_assert (!affect_head_pose_estimate (p, width, height, &pose));
  ck_assert (isnan (pose.yaw));
  ck_assert (isnan (pose.pitch));
  ck_assert (isnan (pose.roll));
  ck_assert (isnan (pose.rms_error));
}

START_TEST (test_degenerate)
{
  float p[68][2], good[68][2];
  int i;

  synthesise (&setups[0], 10, 5, 0, good);

  memcpy (p, good, sizeof (p));
  p[17][0] = NAN;
  assert_fails (p, 640, 480);

  memcpy (p, good, sizeof (p));
  p[60][1] = INFINITY;
  assert_fails (p, 640, 480);

  for (i = 0; i < 68; i++) {
    p[i][0] = 123.0f;
    p[i][1] = 45.0f;
  }
  assert_fails (p, 640, 480);

  for (i = 0; i < 68; i++) {
    p[i][0] = 0.0f;
    p[i][1] = 0.0f;
  }
  assert_fails (p, 640, 480);

  /* all on one line */
  for (i = 0; i < 68; i++) {
    p[i][0] = 100.0f + 2.0f * i;
    p[i][1] = 50.0f + 1.0f * i;
  }
  assert_fails (p, 640, 480);

  /* no image */
  assert_fails (good, 0, 480);
  assert_fails (good, 640, -1);

  /* the good points do fit */
  {
    AffectHeadPose pose;

    ck_assert (affect_head_pose_estimate (good, 640, 480, &pose));
    ck_assert_float_eq_tol (pose.yaw, 10.0f, 1e-3f);
  }
}
END_TEST

static Suite *
headpose_suite (void)
{
  Suite *s = suite_create ("headpose");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 300);
  tcase_add_test (tc, test_grid_exact);
  tcase_add_test (tc, test_grid_noise);
  tcase_add_test (tc, test_conventions);
  tcase_add_test (tc, test_rotation_and_projection);
  tcase_add_test (tc, test_degenerate);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr;
  int failed;

  sr = srunner_create (headpose_suite ());
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
