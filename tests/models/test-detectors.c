/* gst-affect — tests/models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The two face detectors (TinyFaceDetector, SsdMobilenetv1) and their shared
 * helpers (input preparation, IoU, NMS).
 *
 * Parity tests compare against the golden outputs of the original JavaScript
 * face-api (tests/golden/face-api/sampleN.json) on the PNG versions of the
 * demo photos. They need the converted models and the PNG inputs in the
 * model cache; without them they are skipped (or fail when
 * AFFECT_REQUIRE_MODELS=1). Under valgrind (AFFECT_UNDER_VALGRIND set) only
 * sample1 is run.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "affect-detector.h"
#include "affect-image.h"
#include "affect-safetensors.h"
#include "affect-ssd.h"
#include "affect-tinyface.h"
#include "test-tools.h"

#define N_SAMPLES 6
#define MAX_DETS 128
#define MIN_IOU 0.99
#define MAX_SCORE_DIFF 1e-3

#define FETCH_HINT                                              \
  "run affect-fetch-models (models/face/fetch-face-models.sh) " \
  "to fetch and convert the face-api models, then "             \
  "tests/golden/face-api/prepare.sh for the test PNGs"

/* ---- locating models, inputs and golden files ------------------------- */

static gchar *
cache_dir (void)
{
  const gchar *env = g_getenv ("AFFECT_CACHE_DIR");

  if (env && *env)
    return g_strdup (env);
  return g_build_filename (g_get_user_cache_dir (), "gst-affect", NULL);
}

static gchar *
model_path (const gchar *name)
{
  const gchar *dir = g_getenv ("AFFECT_MODEL_DIR");
  gchar *file = g_strconcat (name, ".safetensors", NULL);
  gchar *path;

  if (dir && *dir) {
    path = g_build_filename (dir, file, NULL);
  } else {
    gchar *cache = cache_dir ();

    path = g_build_filename (cache, "models", file, NULL);
    g_free (cache);
  }
  g_free (file);
  return path;
}

static gchar *
input_path (int sample)
{
  gchar *cache = cache_dir ();
  gchar *file = g_strdup_printf ("sample%d.png", sample);
  gchar *path = g_build_filename (cache, "test-inputs", file, NULL);

  g_free (file);
  g_free (cache);
  return path;
}

static gchar *
golden_path (const gchar *file)
{
  const gchar *srcdir = g_getenv ("AFFECT_TEST_SRCDIR");

  if (!srcdir)
    return NULL;
  return g_build_filename (srcdir, "golden", "face-api", file, NULL);
}

static gboolean
require_models (void)
{
  const gchar *env = g_getenv ("AFFECT_REQUIRE_MODELS");

  return env && g_strcmp0 (env, "0") != 0 && *env;
}

/* Returns TRUE if every path exists; otherwise prints a skip message (or
 * fails the test when models are required) and returns FALSE. */
static gboolean
have_files (const gchar *what, gchar **paths)
{
  int i;

  for (i = 0; paths[i]; i++) {
    if (!g_file_test (paths[i], G_FILE_TEST_IS_REGULAR)) {
      if (require_models ())
        ck_abort_msg ("%s missing: %s (%s)", what, paths[i], FETCH_HINT);
      g_print ("SKIP %s: %s missing; %s\n", what, paths[i], FETCH_HINT);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
under_valgrind (void)
{
  return g_getenv ("AFFECT_UNDER_VALGRIND") != NULL;
}

static AffectBackend *
test_backend (void)
{
  return affect_backend_cpu_new (2);
}

/* ---- IoU and NMS on hand-made boxes ------------------------------------ */

static AffectBox
box (float x, float y, float w, float h)
{
  AffectBox b = { x, y, w, h };
  return b;
}

START_TEST (test_iou)
{
  AffectBox a = box (0, 0, 2, 2), b = box (1, 0, 2, 2);
  AffectBox big = box (0, 0, 4, 4), small = box (1, 1, 2, 2);
  AffectBox far = box (10, 10, 1, 1), touch = box (2, 0, 2, 2);
  AffectBox empty = box (0, 0, 0, 2), negative = box (0, 0, -2, 2);

  ck_assert_double_eq_tol (affect_box_iou (&a, &a), 1.0, 1e-12);
  /* intersection 2, union 6 */
  ck_assert_double_eq_tol (affect_box_iou (&a, &b), 1.0 / 3.0, 1e-12);
  ck_assert_double_eq_tol (affect_box_iou (&b, &a), 1.0 / 3.0, 1e-12);
  /* contained: 4 / 16 */
  ck_assert_double_eq_tol (affect_box_iou (&big, &small), 0.25, 1e-12);
  ck_assert_double_eq (affect_box_iou (&a, &far), 0.0);
  ck_assert_double_eq (affect_box_iou (&a, &touch), 0.0);
  ck_assert_double_eq (affect_box_iou (&empty, &empty), 0.0);
  ck_assert_double_eq (affect_box_iou (&negative, &a), 0.0);
}

END_TEST

static AffectDetection
det (float x, float y, float w, float h, float score)
{
  AffectDetection d = { { x, y, w, h }, score };
  return d;
}

START_TEST (test_nms)
{
  AffectDetection d[5];
  int n;

  /* a (0.9) suppresses b (IoU 90/110); d overlaps a by 50/150 = 0.33 and
   * the suppressed b by 60/140 = 0.43: only kept boxes count, so d stays at
   * threshold 0.4 but goes at 0.3. c is alone and best. */
  d[0] = det (0, 0, 10, 10, 0.9f);    /* a */
  d[1] = det (1, 0, 10, 10, 0.8f);    /* b */
  d[2] = det (20, 20, 10, 10, 0.95f); /* c */
  d[3] = det (5, 0, 10, 10, 0.7f);    /* d */
  n = affect_detection_nms (d, 4, 0.4, 0);
  ck_assert_int_eq (n, 3);
  ck_assert_float_eq (d[0].score, 0.95f);
  ck_assert_float_eq (d[1].score, 0.9f);
  ck_assert_float_eq (d[2].score, 0.7f);
  ck_assert_float_eq (d[2].box.x, 5.0f);

  d[0] = det (0, 0, 10, 10, 0.9f);
  d[1] = det (1, 0, 10, 10, 0.8f);
  d[2] = det (20, 20, 10, 10, 0.95f);
  d[3] = det (5, 0, 10, 10, 0.7f);
  n = affect_detection_nms (d, 4, 0.3, 0);
  ck_assert_int_eq (n, 2);
  ck_assert_float_eq (d[0].score, 0.95f);
  ck_assert_float_eq (d[1].score, 0.9f);

  /* max_keep */
  d[0] = det (0, 0, 10, 10, 0.9f);
  d[1] = det (1, 0, 10, 10, 0.8f);
  d[2] = det (20, 20, 10, 10, 0.95f);
  d[3] = det (5, 0, 10, 10, 0.7f);
  n = affect_detection_nms (d, 4, 0.4, 2);
  ck_assert_int_eq (n, 2);
  ck_assert_float_eq (d[1].score, 0.9f);

  /* IoU equal to the threshold does not suppress (strictly greater does). */
  d[0] = det (0, 0, 2, 2, 0.9f);
  d[1] = det (1, 0, 2, 2, 0.8f);
  n = affect_detection_nms (d, 2, 1.0 / 3.0, 0);
  ck_assert_int_eq (n, 2);
  n = affect_detection_nms (d, 2, 0.33, 0);
  ck_assert_int_eq (n, 1);

  /* Equal scores: the lower index wins. */
  d[0] = det (0, 0, 10, 10, 0.5f);
  d[1] = det (0.5f, 0, 10, 10, 0.5f);
  n = affect_detection_nms (d, 2, 0.5, 0);
  ck_assert_int_eq (n, 1);
  ck_assert_float_eq (d[0].box.x, 0.0f);

  /* Empty input. */
  ck_assert_int_eq (affect_detection_nms (NULL, 0, 0.5, 0), 0);
}

END_TEST

START_TEST (test_ssd_decode)
{
  /* anchor: size 0.2 × 0.4, centre (0.2, 0.4); encodings (ty, tx, th, tw) */
  static const float anchor[4] = { 0.1f, 0.2f, 0.3f, 0.6f };
  const float enc[4] = { 1.0f, -2.0f, 0.0f, 5.0f * (float)G_LN2 };
  float b[4];

  affect_ssd_decode_box (anchor, enc, b);
  /* cy = 1/10 · 0.2 + 0.2, cx = -2/10 · 0.4 + 0.4, h = 0.2, w = 2 · 0.4 */
  ck_assert_float_eq_tol (b[0], 0.22f - 0.1f, 1e-6f);
  ck_assert_float_eq_tol (b[1], 0.32f - 0.4f, 1e-6f);
  ck_assert_float_eq_tol (b[2], 0.22f + 0.1f, 1e-6f);
  ck_assert_float_eq_tol (b[3], 0.32f + 0.4f, 1e-6f);
}

END_TEST

/* ---- input preparation ------------------------------------------------- */

START_TEST (test_geometry)
{
  AffectDetectorGeometry g;

  affect_detector_geometry_init (&g, 1920, 1280, 416);
  ck_assert_int_eq (g.reshaped_width, 416);
  ck_assert_int_eq (g.reshaped_height, 277); /* 277.33 */
  affect_detector_geometry_init (&g, 1920, 1367, 512);
  ck_assert_int_eq (g.reshaped_width, 512);
  ck_assert_int_eq (g.reshaped_height, 365); /* 364.53 */
  affect_detector_geometry_init (&g, 10, 1000, 416);
  ck_assert_int_eq (g.reshaped_width, 4); /* 4.16 */
  ck_assert_int_eq (g.reshaped_height, 416);
  /* 0.416 rounds to 0: kept at 1 so that the box correction stays finite */
  affect_detector_geometry_init (&g, 1000, 1, 416);
  ck_assert_int_eq (g.reshaped_height, 1);
  /* halves round up, as JavaScript's Math.round: 3 * 416 / 8 = 156,
   * 5 * 4 / 8 = 2.5 -> 3 */
  affect_detector_geometry_init (&g, 8, 5, 4);
  ck_assert_int_eq (g.reshaped_width, 4);
  ck_assert_int_eq (g.reshaped_height, 3);
}

END_TEST

START_TEST (test_preprocess_resize)
{
  /* A 2×1 image, padded to 2×2 (zero row below), resized to 4×4: with
   * ratio 0.5 the source positions are 0, 0.5, 1, 1.5 (clamped to 1). */
  static const guint8 pix[6] = { 100, 50, 0, 200, 150, 255 };
  AffectImage img = { 2, 1, 6, pix };
  /* Expected resized RGB values, worked out by hand. */
  static const float expect[4][4][3] = {
    { { 100, 50, 0 }, { 150, 100, 127.5f }, { 200, 150, 255 },
        { 200, 150, 255 } },
    { { 50, 25, 0 }, { 75, 50, 63.75f }, { 100, 75, 127.5f },
        { 100, 75, 127.5f } },
    { { 0, 0, 0 }, { 0, 0, 0 }, { 0, 0, 0 }, { 0, 0, 0 } },
    { { 0, 0, 0 }, { 0, 0, 0 }, { 0, 0, 0 }, { 0, 0, 0 } },
  };
  static const float mean[3] = { 117.001f, 114.697f, 97.404f };
  float out[4 * 4 * 3];
  int r, c, k;

  affect_detector_preprocess (&img, 4, AFFECT_DETECTOR_NORM_SSD, out);
  for (r = 0; r < 4; r++)
    for (c = 0; c < 4; c++)
      for (k = 0; k < 3; k++)
        ck_assert_float_eq_tol (
            out[(r * 4 + c) * 3 + k], expect[r][c][k] / 127.5f - 1.0f, 1e-7f);

  affect_detector_preprocess (&img, 4, AFFECT_DETECTOR_NORM_TINY_FACE, out);
  for (r = 0; r < 4; r++)
    for (c = 0; c < 4; c++)
      for (k = 0; k < 3; k++)
        ck_assert_float_eq_tol (out[(r * 4 + c) * 3 + k],
            (expect[r][c][k] - mean[k]) / 255.0f, 1e-7f);
  /* the zero padding normalises to -mean/255 */
  ck_assert_float_eq_tol (out[(3 * 4 + 3) * 3 + 2], -97.404f / 255.0f, 1e-7f);
}

END_TEST

START_TEST (test_preprocess_no_resize)
{
  /* 4×3 image with a row stride larger than 3·width: the square is already
   * 4×4, so pixels are copied and the fourth row is zero. */
  guint8 pix[3 * 16];
  AffectImage img = { 4, 3, 16, pix };
  float out[4 * 4 * 3];
  int r, c, k;

  for (r = 0; r < 3; r++)
    for (c = 0; c < 16; c++)
      pix[r * 16 + c] = (guint8)(r * 40 + c * 7);

  affect_detector_preprocess (&img, 4, AFFECT_DETECTOR_NORM_SSD, out);
  for (r = 0; r < 4; r++)
    for (c = 0; c < 4; c++)
      for (k = 0; k < 3; k++) {
        float p = r < 3 ? pix[r * 16 + c * 3 + k] : 0.0f;
        ck_assert_float_eq (out[(r * 4 + c) * 3 + k], p / 127.5f - 1.0f);
      }
}

END_TEST

START_TEST (test_bad_image)
{
  AffectBackend *be = test_backend ();
  static const guint8 pix[12] = { 0 };
  AffectImage img = { 2, 2, 5, pix }; /* stride < 3 * width */
  GError *err = NULL;
  AffectTensor *t;

  t = affect_detector_make_input (
      be, &img, 32, AFFECT_DETECTOR_NORM_SSD, NULL, &err);
  ck_assert_ptr_null (t);
  ck_assert (g_error_matches (
      err, AFFECT_DETECTOR_ERROR, AFFECT_DETECTOR_ERROR_INVALID_ARGUMENT));
  ck_assert (strstr (err->message, "stride") != NULL);
  g_clear_error (&err);

  img.stride = 6;
  img.width = 0;
  t = affect_detector_make_input (
      be, &img, 32, AFFECT_DETECTOR_NORM_SSD, NULL, &err);
  ck_assert_ptr_null (t);
  ck_assert_ptr_nonnull (err);
  g_clear_error (&err);

  t = affect_detector_make_input (
      be, NULL, 32, AFFECT_DETECTOR_NORM_SSD, NULL, &err);
  ck_assert_ptr_null (t);
  ck_assert_ptr_nonnull (err);
  g_clear_error (&err);

  affect_backend_unref (be);
}

END_TEST

/* ---- broken model files ------------------------------------------------ */

static gchar *
write_tmp_file (const gchar *name, const void *data, gsize size)
{
  gchar *dir = g_dir_make_tmp ("affect-detect-XXXXXX", NULL);
  gchar *path;

  ck_assert_ptr_nonnull (dir);
  path = g_build_filename (dir, name, NULL);
  ck_assert (g_file_set_contents (path, data, size, NULL));
  g_free (dir);
  return path;
}

static void
remove_tmp_file (gchar *path)
{
  gchar *dir = g_path_get_dirname (path);

  g_unlink (path);
  g_rmdir (dir);
  g_free (dir);
  g_free (path);
}

/* A safetensors file with the given F32 tensors (zeros). */
static gchar *
write_model (const gchar *name, int n, const gchar **names,
    const int64_t (*shapes)[4], const guint *n_dims)
{
  AffectStWriter *w = affect_st_writer_new ();
  gchar *dir = g_dir_make_tmp ("affect-detect-XXXXXX", NULL);
  gchar *path = g_build_filename (dir, name, NULL);
  GError *err = NULL;
  int i;

  for (i = 0; i < n; i++) {
    gsize count = 1;
    guint k;
    gpointer zeros;

    for (k = 0; k < n_dims[i]; k++)
      count *= shapes[i][k];
    zeros = g_malloc0 (count * sizeof (float));
    ck_assert (affect_st_writer_add (w, names[i], AFFECT_DTYPE_F32, n_dims[i],
        shapes[i], zeros, count * sizeof (float), &err));
    g_free (zeros);
  }
  ck_assert_msg (
      affect_st_writer_write (w, path, &err), "%s", err ? err->message : "?");
  affect_st_writer_free (w);
  g_free (dir);
  return path;
}

START_TEST (test_missing_model)
{
  AffectBackend *be = test_backend ();
  GError *err = NULL;
  const gchar *path = "/nonexistent/affect/tiny_face_detector_model."
                      "safetensors";

  ck_assert_ptr_null (affect_tiny_face_new (be, path, &err));
  ck_assert_ptr_nonnull (err);
  ck_assert_msg (strstr (err->message, path) != NULL, "%s", err->message);
  g_clear_error (&err);

  ck_assert_ptr_null (affect_ssd_new (be, path, &err));
  ck_assert_ptr_nonnull (err);
  ck_assert_msg (strstr (err->message, path) != NULL, "%s", err->message);
  g_clear_error (&err);

  ck_assert_ptr_null (affect_tiny_face_new (be, NULL, &err));
  ck_assert (g_error_matches (
      err, AFFECT_DETECTOR_ERROR, AFFECT_DETECTOR_ERROR_MODEL));
  g_clear_error (&err);

  affect_backend_unref (be);
}

END_TEST

START_TEST (test_corrupt_model)
{
  AffectBackend *be = test_backend ();
  GError *err = NULL;
  static const char junk[] = "\x20\x00\x00\x00\x00\x00\x00\x00{not json";
  gchar *path = write_tmp_file ("junk.safetensors", junk, sizeof (junk) - 1);

  ck_assert_ptr_null (affect_tiny_face_new (be, path, &err));
  ck_assert_ptr_nonnull (err);
  ck_assert_msg (
      strstr (err->message, "junk.safetensors") != NULL, "%s", err->message);
  g_clear_error (&err);
  ck_assert_ptr_null (affect_ssd_new (be, path, &err));
  ck_assert_ptr_nonnull (err);
  g_clear_error (&err);
  remove_tmp_file (path);

  affect_backend_unref (be);
}

END_TEST

START_TEST (test_incomplete_model)
{
  AffectBackend *be = test_backend ();
  GError *err = NULL;
  static const gchar *names[2] = { "conv0/filters", "conv0/bias" };
  static const int64_t good[2][4] = { { 3, 3, 3, 16 }, { 16 } };
  static const int64_t bad[2][4] = { { 3, 3, 3, 8 }, { 16 } };
  static const guint dims[2] = { 4, 1 };
  gchar *path;

  /* conv0 complete, conv1 absent */
  path = write_model ("tiny.safetensors", 2, names, good, dims);
  ck_assert_ptr_null (affect_tiny_face_new (be, path, &err));
  ck_assert (g_error_matches (err, AFFECT_ST_ERROR, AFFECT_ST_ERROR_NOT_FOUND));
  ck_assert_msg (strstr (err->message, "conv1/depthwise_filter") != NULL, "%s",
      err->message);
  ck_assert_msg (
      strstr (err->message, "tiny.safetensors") != NULL, "%s", err->message);
  g_clear_error (&err);
  /* the SSD needs other tensors altogether */
  ck_assert_ptr_null (affect_ssd_new (be, path, &err));
  ck_assert_msg (
      strstr (err->message, "MobilenetV1/Conv2d_0_pointwise/weights") != NULL,
      "%s", err->message);
  g_clear_error (&err);
  remove_tmp_file (path);

  /* wrong shape */
  path = write_model ("tiny.safetensors", 2, names, bad, dims);
  ck_assert_ptr_null (affect_tiny_face_new (be, path, &err));
  ck_assert (g_error_matches (err, AFFECT_ST_ERROR, AFFECT_ST_ERROR_MISMATCH));
  ck_assert_msg (
      strstr (err->message, "conv0/filters") != NULL, "%s", err->message);
  g_clear_error (&err);
  remove_tmp_file (path);

  affect_backend_unref (be);
}

END_TEST

/* ---- with the real models ---------------------------------------------- */

typedef struct {
  AffectBackend *be;
  AffectTinyFace *tiny;
  AffectSsd *ssd;
} Models;

/* Loads both detectors, or returns FALSE after a skip message. */
static gboolean
models_load (Models *m)
{
  gchar *paths[3] = { model_path ("tiny_face_detector_model"),
    model_path ("ssd_mobilenetv1_model"), NULL };
  GError *err = NULL;
  gboolean ok = have_files ("detector models", paths);

  memset (m, 0, sizeof (*m));
  if (ok) {
    m->be = test_backend ();
    m->tiny = affect_tiny_face_new (m->be, paths[0], &err);
    ck_assert_msg (m->tiny != NULL, "%s", err ? err->message : "?");
    m->ssd = affect_ssd_new (m->be, paths[1], &err);
    ck_assert_msg (m->ssd != NULL, "%s", err ? err->message : "?");
  }
  g_free (paths[0]);
  g_free (paths[1]);
  return ok;
}

static void
models_clear (Models *m)
{
  g_clear_pointer (&m->tiny, affect_tiny_face_free);
  g_clear_pointer (&m->ssd, affect_ssd_free);
  g_clear_pointer (&m->be, affect_backend_unref);
}

static gchar *
rgb_sha256 (const guint8 *rgb, int w, int h)
{
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, rgb, (gsize)w * h * 3);
}

/* Golden detections "tiny" or "ssd" of @obj. */
static int
golden_dets (JsonObject *obj, const gchar *key, AffectDetection *out, int max)
{
  JsonArray *arr = json_object_get_array_member (obj, key);
  guint i, n;

  ck_assert_ptr_nonnull (arr);
  n = json_array_get_length (arr);
  ck_assert_int_le (n, max);
  for (i = 0; i < n; i++) {
    JsonObject *d = json_array_get_object_element (arr, i);
    JsonArray *b = json_object_get_array_member (d, "box");

    ck_assert_int_eq (json_array_get_length (b), 4);
    out[i].box.x = json_array_get_double_element (b, 0);
    out[i].box.y = json_array_get_double_element (b, 1);
    out[i].box.width = json_array_get_double_element (b, 2);
    out[i].box.height = json_array_get_double_element (b, 3);
    out[i].score = json_object_get_double_member (d, "score");
  }
  return (int)n;
}

/* Each golden face must be matched by a distinct detection with IoU >=
 * MIN_IOU and a score within MAX_SCORE_DIFF. */
static void
compare_dets (const gchar *what, const AffectDetection *want, int n_want,
    const AffectDetection *got, int n_got)
{
  gboolean used[MAX_DETS] = { FALSE };
  int i, j;

  ck_assert_msg (n_got == n_want, "%s: %d faces, the reference has %d", what,
      n_got, n_want);
  for (i = 0; i < n_want; i++) {
    int best = -1;
    double best_iou = -1.0;

    for (j = 0; j < n_got; j++) {
      double iou = affect_box_iou (&want[i].box, &got[j].box);

      if (!used[j] && iou > best_iou) {
        best_iou = iou;
        best = j;
      }
    }
    ck_assert_msg (best >= 0 && best_iou >= MIN_IOU,
        "%s: reference face %d (%.2f %.2f %.2f %.2f) best IoU %.5f", what, i,
        want[i].box.x, want[i].box.y, want[i].box.width, want[i].box.height,
        best_iou);
    ck_assert_msg (fabs (want[i].score - got[best].score) <= MAX_SCORE_DIFF,
        "%s: face %d score %.6f, reference %.6f", what, i, got[best].score,
        want[i].score);
    used[best] = TRUE;
    g_print ("%s face %d: IoU %.7f, |dscore| %.2e, max |dbox| %.2e px\n", what,
        i, best_iou, fabs (want[i].score - got[best].score),
        MAX (MAX (fabs (want[i].box.x - got[best].box.x),
                 fabs (want[i].box.y - got[best].box.y)),
            MAX (fabs (want[i].box.width - got[best].box.width),
                fabs (want[i].box.height - got[best].box.height))));
  }
}

START_TEST (test_golden)
{
  int sample = _i;
  gchar *file = g_strdup_printf ("sample%d.json", sample);
  gchar *paths[3] = { input_path (sample), golden_path (file), NULL };
  Models m;
  JsonParser *parser;
  JsonObject *root;
  GError *err = NULL;
  guint8 *rgb = NULL;
  int w, h, n;
  gchar *sha;
  AffectImage img;
  AffectDetection want[MAX_DETS], got[MAX_DETS];

  g_free (file);
  if (under_valgrind () && sample != 1)
    goto out;
  if (!paths[1]) {
    g_print ("SKIP: AFFECT_TEST_SRCDIR not set (run through meson test)\n");
    goto out;
  }
  if (!have_files ("golden inputs", paths) || !models_load (&m))
    goto out;

  parser = affect_test_load_json (paths[1]);
  root = json_node_get_object (json_parser_get_root (parser));

  ck_assert_msg (affect_image_load_png (paths[0], &rgb, &w, &h, &err), "%s",
      err ? err->message : "?");
  ck_assert_int_eq (w, json_object_get_int_member (root, "width"));
  ck_assert_int_eq (h, json_object_get_int_member (root, "height"));
  sha = rgb_sha256 (rgb, w, h);
  ck_assert_msg (
      g_strcmp0 (sha, json_object_get_string_member (root, "rgb_sha256")) == 0,
      "%s: decoded RGB differs from the one "
      "the reference was made from (%s)",
      paths[0], sha);
  g_free (sha);

  img.width = w;
  img.height = h;
  img.stride = 3 * w;
  img.data = rgb;

  n = affect_tiny_face_detect (m.tiny, &img, 416, 0.5f, got, MAX_DETS, &err);
  ck_assert_msg (n >= 0, "%s", err ? err->message : "?");
  {
    gchar *what = g_strdup_printf ("sample%d tiny", sample);

    compare_dets (
        what, want, golden_dets (root, "tiny", want, MAX_DETS), got, n);
    g_free (what);
  }

  n = affect_ssd_detect (m.ssd, &img, 0.5f, 100, got, MAX_DETS, &err);
  ck_assert_msg (n >= 0, "%s", err ? err->message : "?");
  {
    gchar *what = g_strdup_printf ("sample%d ssd", sample);

    compare_dets (
        what, want, golden_dets (root, "ssd", want, MAX_DETS), got, n);
    g_free (what);
  }

  g_free (rgb);
  g_object_unref (parser);
  models_clear (&m);
out:
  g_free (paths[0]);
  g_free (paths[1]);
}

END_TEST

/* Summary of a normalised input in tests/golden/face-api/tensors-sample1.json
 * (sum, min, max, first 64 values) against ours. */
static void
compare_input_summary (
    JsonObject *summary, const float *x, gsize n, const gchar *what)
{
  JsonArray *first = json_object_get_array_member (summary, "first64");
  double sum = 0, mn = INFINITY, mx = -INFINITY;
  double want_sum = json_object_get_double_member (summary, "sum");
  gsize i;

  for (i = 0; i < n; i++) {
    sum += x[i];
    mn = MIN (mn, x[i]);
    mx = MAX (mx, x[i]);
  }
  for (i = 0; i < json_array_get_length (first); i++)
    ck_assert_msg ((float)json_array_get_double_element (first, i) == x[i],
        "%s: value %u is %.9g, reference %.9g", what, (guint)i, x[i],
        json_array_get_double_element (first, i));
  ck_assert_msg (
      (float)json_object_get_double_member (summary, "min") == (float)mn,
      "%s: min %.9g", what, mn);
  ck_assert_msg (
      (float)json_object_get_double_member (summary, "max") == (float)mx,
      "%s: max %.9g", what, mx);
  /* exact inputs give the same sum up to summation order */
  ck_assert_msg (
      fabs (sum - want_sum) <= 1e-6 * MAX (1.0, fabs (want_sum)) + 1e-3,
      "%s: sum %.9g, reference %.9g", what, sum, want_sum);
  g_print ("%s: first %u values, min and max exact; sum %.6f vs %.6f\n", what,
      json_array_get_length (first), sum, want_sum);
}

START_TEST (test_input_parity)
{
  gchar *paths[3]
      = { input_path (1), golden_path ("tensors-sample1.json"), NULL };
  JsonParser *parser;
  JsonObject *root;
  GError *err = NULL;
  guint8 *rgb = NULL;
  int w, h;
  AffectImage img;
  float *buf;

  if (!paths[1]) {
    g_print ("SKIP: AFFECT_TEST_SRCDIR not set (run through meson test)\n");
    goto out;
  }
  if (!have_files ("golden inputs", paths))
    goto out;

  parser = affect_test_load_json (paths[1]);
  root = json_node_get_object (json_parser_get_root (parser));
  ck_assert (affect_image_load_png (paths[0], &rgb, &w, &h, &err));
  img.width = w;
  img.height = h;
  img.stride = 3 * w;
  img.data = rgb;

  buf = g_new (float, 512 * 512 * 3);
  affect_detector_preprocess (&img, 416, AFFECT_DETECTOR_NORM_TINY_FACE, buf);
  compare_input_summary (json_object_get_object_member (root, "tiny_input"),
      buf, 416 * 416 * 3, "tiny input");
  affect_detector_preprocess (&img, 512, AFFECT_DETECTOR_NORM_SSD, buf);
  compare_input_summary (json_object_get_object_member (root, "ssd_input"), buf,
      512 * 512 * 3, "ssd input");

  g_free (buf);
  g_free (rgb);
  g_object_unref (parser);
out:
  g_free (paths[0]);
  g_free (paths[1]);
}

END_TEST

static void
check_sane (const AffectDetection *d, int n, float threshold,
    const AffectImage *img, gboolean clipped)
{
  int i;

  for (i = 0; i < n; i++) {
    ck_assert (isfinite (d[i].box.x) && isfinite (d[i].box.y));
    ck_assert (isfinite (d[i].box.width) && isfinite (d[i].box.height));
    ck_assert (d[i].box.width > 0 && d[i].box.height > 0);
    ck_assert (d[i].score > threshold && d[i].score <= 1.0f);
    if (i > 0)
      ck_assert (d[i].score <= d[i - 1].score);
    if (clipped) {
      /* SSD boxes are clipped to the network input: they may reach past
       * the shorter side (padding) but not past the input's edge, mapped
       * back with the rounded reshaped size. */
      AffectDetectorGeometry g;

      affect_detector_geometry_init (
          &g, img->width, img->height, AFFECT_SSD_INPUT_SIZE);
      ck_assert (d[i].box.x >= 0 && d[i].box.y >= 0);
      ck_assert (d[i].box.x + d[i].box.width
                 <= img->width * (double)g.size / g.reshaped_width * 1.0001);
      ck_assert (d[i].box.y + d[i].box.height
                 <= img->height * (double)g.size / g.reshaped_height * 1.0001);
    }
  }
}

/* Odd image sizes: no crash, sane boxes. */
START_TEST (test_odd_sizes)
{
  static const int sizes[][2] = { { 321, 241 }, { 1, 1 }, { 1000, 10 },
    { 10, 1000 }, { 1000, 1 }, { 416, 416 }, { 512, 300 } };
  Models m;
  guint s, n_sizes = G_N_ELEMENTS (sizes);

  if (!models_load (&m))
    return;

  /* the first three only under valgrind (slow there) */
  if (under_valgrind ())
    n_sizes = 3;
  for (s = 0; s < n_sizes; s++) {
    int w = sizes[s][0], h = sizes[s][1], x, y, n;
    guint8 *pix = g_malloc ((gsize)w * h * 3);
    AffectImage img = { w, h, 3 * w, pix };
    AffectDetection d[MAX_DETS];
    GError *err = NULL;

    /* smooth gradient with some texture */
    for (y = 0; y < h; y++)
      for (x = 0; x < w; x++) {
        guint8 *p = pix + ((gsize)y * w + x) * 3;
        p[0] = (guint8)(x * 255 / MAX (w - 1, 1));
        p[1] = (guint8)(y * 255 / MAX (h - 1, 1));
        p[2] = (guint8)((x ^ y) & 0xff);
      }

    n = affect_tiny_face_detect (m.tiny, &img, 416, 0.5f, d, MAX_DETS, &err);
    ck_assert_msg (n >= 0, "%d×%d: %s", w, h, err ? err->message : "?");
    check_sane (d, n, 0.5f, &img, FALSE);
    /* a low threshold yields candidates: still sane */
    n = affect_tiny_face_detect (m.tiny, &img, 128, 0.01f, d, 5, &err);
    ck_assert_msg (
        n >= 0 && n <= 5, "%d×%d: %s", w, h, err ? err->message : "?");
    check_sane (d, n, 0.01f, &img, FALSE);

    /* under valgrind the SSD runs on the 1000×10 image only */
    if (under_valgrind () && !(w == 1000 && h == 10)) {
      g_free (pix);
      continue;
    }
    n = affect_ssd_detect (m.ssd, &img, 0.5f, 100, d, MAX_DETS, &err);
    ck_assert_msg (n >= 0, "%d×%d: %s", w, h, err ? err->message : "?");
    check_sane (d, n, 0.5f, &img, TRUE);
    n = affect_ssd_detect (m.ssd, &img, 0.01f, 7, d, MAX_DETS, &err);
    ck_assert_msg (
        n >= 0 && n <= 7, "%d×%d: %s", w, h, err ? err->message : "?");
    check_sane (d, n, 0.01f, &img, TRUE);
    g_free (pix);
  }

  models_clear (&m);
}

END_TEST

START_TEST (test_bad_arguments)
{
  static const guint8 pix[3] = { 1, 2, 3 };
  AffectImage img = { 1, 1, 3, pix };
  AffectDetection d[4];
  GError *err = NULL;
  Models m;

  if (!models_load (&m))
    return;

  ck_assert_int_eq (
      affect_tiny_face_detect (m.tiny, &img, 100, 0.5f, d, 4, &err), -1);
  ck_assert (g_error_matches (
      err, AFFECT_DETECTOR_ERROR, AFFECT_DETECTOR_ERROR_INVALID_ARGUMENT));
  g_clear_error (&err);
  ck_assert_int_eq (
      affect_tiny_face_detect (m.tiny, &img, 4096, 0.5f, d, 4, &err), -1);
  g_clear_error (&err);
  ck_assert_int_eq (affect_ssd_detect (m.ssd, &img, 0.5f, 0, d, 4, &err), -1);
  g_clear_error (&err);
  img.data = NULL;
  ck_assert_int_eq (affect_ssd_detect (m.ssd, &img, 0.5f, 10, d, 4, &err), -1);
  g_clear_error (&err);
  ck_assert_int_eq (
      affect_tiny_face_detect (m.tiny, &img, 416, 0.5f, d, 4, &err), -1);
  g_clear_error (&err);

  models_clear (&m);
}

END_TEST

static Suite *
detectors_suite (void)
{
  Suite *s = suite_create ("detectors");
  TCase *tc = tcase_create ("general");
  TCase *tg = tcase_create ("golden");

  tcase_add_test (tc, test_iou);
  tcase_add_test (tc, test_nms);
  tcase_add_test (tc, test_ssd_decode);
  tcase_add_test (tc, test_geometry);
  tcase_add_test (tc, test_preprocess_resize);
  tcase_add_test (tc, test_preprocess_no_resize);
  tcase_add_test (tc, test_bad_image);
  tcase_add_test (tc, test_missing_model);
  tcase_add_test (tc, test_corrupt_model);
  tcase_add_test (tc, test_incomplete_model);
  suite_add_tcase (s, tc);

  tcase_set_timeout (tg, 300);
  tcase_add_test (tg, test_input_parity);
  tcase_add_loop_test (tg, test_golden, 1, N_SAMPLES + 1);
  tcase_add_test (tg, test_odd_sizes);
  tcase_add_test (tg, test_bad_arguments);
  suite_add_tcase (s, tg);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (detectors_suite ());
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
