/* gst-affect — tests/models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The face networks (landmarks, expression, recognition) and their image
 * preprocessing.
 *
 *  - crop / pad / resize / normalise rules on hand-computed cases;
 *  - synthetic safetensors files: every tensor present with the right shape
 *    loads; a wrong shape, a missing tensor or a corrupt file gives a GError
 *    naming the file and the tensor; zero weights with chosen biases give
 *    outputs computable by hand (post-processing, softmax, residual
 *    shortcuts with zero-extended channels);
 *  - parity with the original JavaScript face-api on the six demo photos
 *    (tests/golden/face-api/sampleN.json): crop boxes identical, landmarks
 *    within 0.05 px, expression probabilities within 1e-4, descriptor and
 *    both 256-d features with cosine similarity >= 0.99999, network inputs
 *    bit-identical to tensors-sample1.json;
 *  - batch 1 vs batch N (with chunking) and 1 vs 2 threads give identical
 *    results.
 *
 * The parity tests need the converted models and the decoded test inputs
 * (affect-fetch-models, i.e. models/face/fetch-face-models.sh). Without them they
 * are skipped, unless AFFECT_REQUIRE_MODELS=1. Under valgrind
 * (AFFECT_UNDER_VALGRIND=1) only sample1 and smaller batches are run.
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

#include "affect-expression.h"
#include "affect-image.h"
#include "affect-landmarks.h"
#include "affect-modelpath.h"
#include "affect-recognition.h"
#include "affect-safetensors.h"
#include "test-tools.h"

#define LANDMARK_TOL_PX 0.05
#define PROB_TOL 1e-4
#define COSINE_MIN 0.99999

static gboolean
under_valgrind (void)
{
  return g_strcmp0 (g_getenv ("AFFECT_UNDER_VALGRIND"), "1") == 0;
}

/* Skip (return FALSE) when something fetched by affect-fetch-models is
 * missing, or fail when AFFECT_REQUIRE_MODELS=1. */
static gboolean
require (gboolean present, const gchar *what)
{
  if (present)
    return TRUE;
  ck_assert_msg (g_strcmp0 (g_getenv ("AFFECT_REQUIRE_MODELS"), "1") != 0,
      "%s is missing and AFFECT_REQUIRE_MODELS=1: fetch the models and "
      "test inputs with affect-fetch-models (models/face/fetch-face-models.sh)",
      what);
  g_printerr ("SKIP: %s is missing; run affect-fetch-models "
              "(models/face/fetch-face-models.sh) to fetch the models and test "
              "inputs\n",
      what);
  return FALSE;
}

static gchar *
model_path (const gchar *name)
{
  GError *err = NULL;
  gchar *path = affect_model_find (name, NULL, &err);

  if (path == NULL) {
    g_printerr ("%s\n", err->message);
    g_error_free (err);
  }
  return path;
}

static gchar *
input_path (int sample)
{
  gchar *cache = affect_cache_dir ();
  gchar *file = g_strdup_printf ("sample%d.png", sample);
  gchar *path = g_build_filename (cache, "test-inputs", file, NULL);

  g_free (cache);
  g_free (file);
  return path;
}

/* ---- the three nets, loaded together -------------------------------- */

typedef struct {
  AffectBackend *backend;
  AffectLandmarkNet *lm;
  AffectExpressionNet *ex;
  AffectRecognitionNet *rec;
} Nets;

static gboolean
nets_load (Nets *nets, int n_threads)
{
  gchar *lm = model_path ("face_landmark_68_model");
  gchar *ex = model_path ("face_expression_model");
  gchar *rec = model_path ("face_recognition_model");
  GError *err = NULL;
  gboolean ok = require (lm && ex && rec,
      "face_landmark_68_model, "
      "face_expression_model or face_recognition_model .safetensors");

  memset (nets, 0, sizeof (*nets));
  if (ok) {
    nets->backend = affect_backend_cpu_new (n_threads);
    nets->lm = affect_landmark_net_new (nets->backend, lm, &err);
    ck_assert_msg (nets->lm != NULL, "%s", err ? err->message : "?");
    nets->ex = affect_expression_net_new (nets->backend, ex, &err);
    ck_assert_msg (nets->ex != NULL, "%s", err ? err->message : "?");
    nets->rec = affect_recognition_net_new (nets->backend, rec, &err);
    ck_assert_msg (nets->rec != NULL, "%s", err ? err->message : "?");
  }
  g_free (lm);
  g_free (ex);
  g_free (rec);
  return ok;
}

static void
nets_free (Nets *nets)
{
  affect_landmark_net_free (nets->lm);
  affect_expression_net_free (nets->ex);
  affect_recognition_net_free (nets->rec);
  if (nets->backend)
    affect_backend_unref (nets->backend);
}

/* ---- golden data ------------------------------------------------------ */

typedef struct {
  int index;
  JsonParser *parser;
  JsonObject *root;
  JsonArray *faces;
  int n;
  AffectBox *boxes; /* SSD boxes */
  guint8 *rgb;
  AffectImage img;
} Sample;

static void
read_doubles (JsonArray *arr, double *dst, guint n, const gchar *what)
{
  guint i;

  ck_assert_msg (arr != NULL && json_array_get_length (arr) == n,
      "golden %s: expected %u numbers", what, n);
  for (i = 0; i < n; i++)
    dst[i] = json_array_get_double_element (arr, i);
}

static void
read_ints (JsonArray *arr, int *dst, guint n, const gchar *what)
{
  double v[8];
  guint i;

  g_assert (n <= G_N_ELEMENTS (v));
  read_doubles (arr, v, n, what);
  for (i = 0; i < n; i++)
    dst[i] = (int)v[i];
}

static JsonObject *
face_obj (Sample *s, int i)
{
  return json_array_get_object_element (s->faces, i);
}

/* Loads sampleN.json and sampleN.png (checking the pixels' sha256).
 * Returns FALSE (skip) if the PNG is missing. */
static gboolean
sample_load (Sample *s, int index)
{
  gchar *json = g_strdup_printf ("sample%d.json", index);
  gchar *gpath = affect_test_golden_path ("face-api", json);
  gchar *ipath = input_path (index);
  GError *err = NULL;
  JsonArray *ssd;
  GChecksum *sum;
  int w, h, i;

  memset (s, 0, sizeof (*s));
  s->index = index;
  g_free (json);

  if (!require (g_file_test (ipath, G_FILE_TEST_EXISTS), ipath)) {
    g_free (gpath);
    g_free (ipath);
    return FALSE;
  }

  s->parser = affect_test_load_json (gpath);
  s->root = json_node_get_object (json_parser_get_root (s->parser));
  s->faces = json_object_get_array_member (s->root, "faces");
  ssd = json_object_get_array_member (s->root, "ssd");
  s->n = json_array_get_length (s->faces);
  ck_assert_int_eq (s->n, json_array_get_length (ssd));
  ck_assert_int_gt (s->n, 0);

  s->boxes = g_new (AffectBox, s->n);
  for (i = 0; i < s->n; i++) {
    JsonObject *det = json_array_get_object_element (ssd, i);
    double b[4];

    read_doubles (json_object_get_array_member (det, "box"), b, 4, "box");
    s->boxes[i].x = b[0];
    s->boxes[i].y = b[1];
    s->boxes[i].width = b[2];
    s->boxes[i].height = b[3];
  }

  ck_assert_msg (affect_image_load_png (ipath, &s->rgb, &w, &h, &err), "%s",
      err ? err->message : "?");
  ck_assert_int_eq (w, json_object_get_int_member (s->root, "width"));
  ck_assert_int_eq (h, json_object_get_int_member (s->root, "height"));

  sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (sum, s->rgb, (gsize)w * h * 3);
  ck_assert_msg (g_strcmp0 (g_checksum_get_string (sum),
                     json_object_get_string_member (s->root, "rgb_sha256"))
                     == 0,
      "%s: decoded RGB pixels differ from the ones the golden fixture %s "
      "was made from (sha256 %s, expected %s); re-create the test inputs "
      "with affect-fetch-models",
      ipath, gpath, g_checksum_get_string (sum),
      json_object_get_string_member (s->root, "rgb_sha256"));
  g_checksum_free (sum);

  s->img.width = w;
  s->img.height = h;
  s->img.stride = 3 * w;
  s->img.data = s->rgb;

  g_free (gpath);
  g_free (ipath);
  return TRUE;
}

static void
sample_clear (Sample *s)
{
  g_clear_object (&s->parser);
  g_free (s->boxes);
  g_free (s->rgb);
}

static double
cosine (const float *a, const double *b, int n)
{
  double ab = 0, aa = 0, bb = 0;
  int i;

  for (i = 0; i < n; i++) {
    ab += a[i] * b[i];
    aa += (double)a[i] * a[i];
    bb += b[i] * b[i];
  }
  if (aa == 0 && bb == 0)
    return 1.0;
  return ab / sqrt (aa * bb);
}

/* ---- image preprocessing ---------------------------------------------- */

static const float mean_rgb[3] = { 122.782f, 117.001f, 104.298f };

static float
normalised (float p, int ch)
{
  float c = p - mean_rgb[ch];
  return c / 255.0f;
}

/* A w × h image whose pixel (x, y, ch) is (x * 7 + y * 13 + ch * 50) % 256. */
static guint8 *
make_pattern (int w, int h, AffectImage *img)
{
  guint8 *data = g_new (guint8, (gsize)w * h * 3);
  int x, y, ch;

  for (y = 0; y < h; y++)
    for (x = 0; x < w; x++)
      for (ch = 0; ch < 3; ch++)
        data[(y * w + x) * 3 + ch] = (x * 7 + y * 13 + ch * 50) % 256;
  img->width = w;
  img->height = h;
  img->stride = 3 * w;
  img->data = data;
  return data;
}

static AffectBox
mkbox (float x, float y, float w, float h)
{
  AffectBox b = { x, y, w, h };
  return b;
}

static guint8
pattern (int x, int y, int ch)
{
  return (x * 7 + y * 13 + ch * 50) % 256;
}

START_TEST (test_crop_box)
{
  AffectImage img;
  guint8 *data = make_pattern (10, 8, &img);
  AffectBox box;
  int used[4];

  /* inside: floor of x, y, w, h separately */
  box = mkbox (1.7f, 2.2f, 5.9f, 3.5f);
  ck_assert (affect_image_crop_box (&img, &box, used));
  ck_assert_int_eq (used[0], 1);
  ck_assert_int_eq (used[1], 2);
  ck_assert_int_eq (used[2], 5);
  ck_assert_int_eq (used[3], 3);

  /* clipped at the top-left: width = right - 0, then floored */
  box = mkbox (-5.5f, -3.0f, 12.75f, 5.5f);
  ck_assert (affect_image_crop_box (&img, &box, used));
  ck_assert_int_eq (used[0], 0);
  ck_assert_int_eq (used[1], 0);
  ck_assert_int_eq (used[2], 7);
  ck_assert_int_eq (used[3], 2);

  /* clipped at the bottom-right */
  box = mkbox (6.5f, 5.25f, 100.0f, 100.0f);
  ck_assert (affect_image_crop_box (&img, &box, used));
  ck_assert_int_eq (used[0], 6);
  ck_assert_int_eq (used[1], 5);
  ck_assert_int_eq (used[2], 3);
  ck_assert_int_eq (used[3], 2);

  /* nothing inside, degenerate, not finite */
  box = mkbox (10.0f, 0.0f, 5.0f, 5.0f);
  ck_assert (!affect_image_crop_box (&img, &box, used));
  box = mkbox (-20.0f, 0.0f, 19.0f, 5.0f);
  ck_assert (!affect_image_crop_box (&img, &box, used));
  box = mkbox (1.0f, 1.0f, 0.5f, 5.0f);
  ck_assert (!affect_image_crop_box (&img, &box, used));
  box = mkbox (NAN, 1.0f, 3.0f, 3.0f);
  ck_assert (!affect_image_crop_box (&img, &box, used));
  box = mkbox (1.0f, 1.0f, INFINITY, 3.0f);
  ck_assert (!affect_image_crop_box (&img, &box, used));

  g_free (data);
}

END_TEST;

/* Crop 3 wide × 6 high, padded to 6 × 6 (d = 3: 2 columns after, 1 before)
 * and "resized" to 6: the resize is the identity, so the padding layout and
 * the normalisation are checked exactly. */
START_TEST (test_face_input_padding)
{
  AffectImage img;
  guint8 *data = make_pattern (10, 8, &img);
  AffectBox box = { 2.0f, 1.0f, 3.0f, 6.0f };
  float out[6 * 6 * 3];
  int used[4], r, c, ch;

  ck_assert (affect_image_face_input_host (&img, &box, 6, out, used));
  ck_assert_int_eq (used[2], 3);
  ck_assert_int_eq (used[3], 6);
  for (r = 0; r < 6; r++) {
    for (c = 0; c < 6; c++) {
      for (ch = 0; ch < 3; ch++) {
        float p = (c >= 1 && c < 4) ? pattern (2 + c - 1, 1 + r, ch) : 0.0f;
        ck_assert_float_eq (out[(r * 6 + c) * 3 + ch], normalised (p, ch));
      }
    }
  }

  /* 5 wide × 2 high: d = 3, rows: 1 before, 2 after */
  box = mkbox (4.0f, 3.0f, 5.0f, 2.0f);
  ck_assert (affect_image_face_input_host (&img, &box, 5, out, NULL));
  for (r = 0; r < 5; r++) {
    for (c = 0; c < 5; c++) {
      for (ch = 0; ch < 3; ch++) {
        float p = (r >= 1 && r < 3) ? pattern (4 + c, 3 + r - 1, ch) : 0.0f;
        ck_assert_float_eq (out[(r * 5 + c) * 3 + ch], normalised (p, ch));
      }
    }
  }
  g_free (data);
}

END_TEST;

/* TensorFlow's legacy bilinear rule, computed by hand: 2 × 2 → 4 × 4
 * samples rows/columns at 0, 0.5, 1, 1.5 (clamped to 1); 4 × 4 → 3 × 3 at
 * 0, 4/3, 8/3. */
START_TEST (test_face_input_resize)
{
  guint8 px[4 * 4 * 3];
  AffectImage img = { 4, 4, 12, px };
  AffectBox box = { 1.0f, 1.0f, 2.0f, 2.0f };
  float out[4 * 4 * 3];
  /* channel 0 of the 2 × 2 crop: a b / c d */
  const double a = 10, b = 50, c = 90, d = 250;
  const double pos[4] = { 0, 0.5, 1, 1 };
  int i, r, col;

  memset (px, 0, sizeof (px));
  px[(1 * 4 + 1) * 3] = a;
  px[(1 * 4 + 2) * 3] = b;
  px[(2 * 4 + 1) * 3] = c;
  px[(2 * 4 + 2) * 3] = d;

  ck_assert (affect_image_face_input_host (&img, &box, 4, out, NULL));
  for (r = 0; r < 4; r++) {
    for (col = 0; col < 4; col++) {
      double fy = pos[r], fx = pos[col];
      double top = a + (b - a) * fx, bottom = c + (d - c) * fx;
      float v = (float)(top + (bottom - top) * fy);
      ck_assert_float_eq (out[(r * 4 + col) * 3], normalised (v, 0));
      ck_assert_float_eq (out[(r * 4 + col) * 3 + 1], normalised (0, 1));
    }
  }

  /* downscale 4 → 3: source positions 0, 4/3, 8/3 (the last one clamps
   * its upper neighbour to row 3) */
  for (i = 0; i < 16; i++)
    px[i * 3] = (guint8)(i * 15);
  box = mkbox (0.0f, 0.0f, 4.0f, 4.0f);
  ck_assert (affect_image_face_input_host (&img, &box, 3, out, NULL));
  for (r = 0; r < 3; r++) {
    for (col = 0; col < 3; col++) {
      double sy = r * (4.0 / 3.0), sx = col * (4.0 / 3.0);
      int y0 = (int)floor (sy), x0 = (int)floor (sx);
      int y1 = MIN (y0 + 1, 3), x1 = MIN (x0 + 1, 3);
      double p00 = px[(y0 * 4 + x0) * 3], p01 = px[(y0 * 4 + x1) * 3];
      double p10 = px[(y1 * 4 + x0) * 3], p11 = px[(y1 * 4 + x1) * 3];
      double top = p00 + (p01 - p00) * (sx - x0);
      double bottom = p10 + (p11 - p10) * (sx - x0);
      float v = (float)(top + (bottom - top) * (sy - y0));
      ck_assert_float_eq (out[(r * 3 + col) * 3], normalised (v, 0));
    }
  }
}

END_TEST;

START_TEST (test_face_input_tensor)
{
  AffectBackend *be = affect_backend_cpu_new (1);
  AffectTensor *t = affect_tensor_new_zeros (be, 2, 8, 8, 3);
  AffectImage img;
  guint8 *data = make_pattern (10, 8, &img);
  AffectBox box = { 1.0f, 0.0f, 8.0f, 8.0f };
  float host[8 * 8 * 3], *all;
  int used[4];

  ck_assert (affect_image_face_input (&img, &box, 8, t, 1, used));
  ck_assert (affect_image_face_input_host (&img, &box, 8, host, NULL));
  all = g_new (float, 2 * 8 * 8 * 3);
  affect_tensor_download (t, all);
  ck_assert (memcmp (all + 8 * 8 * 3, host, sizeof (host)) == 0);
  ck_assert_float_eq (all[0], 0.0f); /* item 0 untouched */
  ck_assert_float_eq (host[0], normalised (pattern (1, 0, 0), 0));

  box.x = 50.0f;
  ck_assert (!affect_image_face_input (&img, &box, 8, t, 0, used));

  g_free (all);
  g_free (data);
  affect_tensor_free (t);
  affect_backend_unref (be);
}

END_TEST;

START_TEST (test_crop_rects)
{
  float pts[68][2];
  AffectBox r;
  int i;

  /* landmarks spanning x 100..200, y 50..250 */
  for (i = 0; i < 68; i++) {
    pts[i][0] = 100.0f + (i % 11) * 10.0f;
    pts[i][1] = 50.0f + (i % 5) * 50.0f;
  }
  r = affect_landmarks_aligned_rect (pts);
  ck_assert_float_eq_tol (r.x, 90.0f, 1e-4);
  ck_assert_float_eq_tol (r.y, 30.0f, 1e-4);
  ck_assert_float_eq_tol (r.width, 120.0f, 1e-4);
  ck_assert_float_eq_tol (r.height, 240.0f, 1e-4);

  /* dlib rect: eyes at (100, 100) and (140, 100), mouth at (120, 130):
   * d = sqrt (20² + 30²) = 36.0555, size = floor (d / 0.45) = 80,
   * ref = (120, 110) → x = 80, y = floor (110 - 34.4) = 75 */
  for (i = 36; i <= 41; i++) {
    pts[i][0] = 100.0f + (i - 38.5f);
    pts[i][1] = 100.0f;
  }
  for (i = 42; i <= 47; i++) {
    pts[i][0] = 140.0f + (i - 44.5f);
    pts[i][1] = 100.0f;
  }
  for (i = 48; i <= 67; i++) {
    pts[i][0] = 120.0f;
    pts[i][1] = 130.0f + (i - 57.5f);
  }
  r = affect_landmarks_dlib_rect (pts, 200, 200);
  ck_assert_float_eq (r.x, 80.0f);
  ck_assert_float_eq (r.y, 75.0f);
  ck_assert_float_eq (r.width, 80.0f);
  ck_assert_float_eq (r.height, 80.0f);

  /* near the top-left corner x, y clamp to 0 */
  for (i = 36; i <= 67; i++) {
    pts[i][0] -= 100.0f;
    pts[i][1] -= 100.0f;
  }
  r = affect_landmarks_dlib_rect (pts, 200, 200);
  ck_assert_float_eq (r.x, 0.0f);
  ck_assert_float_eq (r.y, 0.0f);
  ck_assert_float_eq (r.width, 80.0f);
}

END_TEST;

START_TEST (test_load_png_errors)
{
  gchar *dir = g_dir_make_tmp ("affect-facenets-XXXXXX", NULL);
  gchar *path = g_build_filename (dir, "not-a.png", NULL);
  gchar *missing = g_build_filename (dir, "missing.png", NULL);
  GError *err = NULL;
  guint8 *rgb = NULL;
  int w, h;

  ck_assert (g_file_set_contents (path, "GIF89a not a png", -1, NULL));
  ck_assert (!affect_image_load_png (path, &rgb, &w, &h, &err));
  ck_assert (
      g_error_matches (err, AFFECT_IMAGE_ERROR, AFFECT_IMAGE_ERROR_FORMAT));
  ck_assert_msg (strstr (err->message, path) != NULL, "%s", err->message);
  g_clear_error (&err);

  ck_assert (!affect_image_load_png (missing, &rgb, &w, &h, &err));
  ck_assert (g_error_matches (err, AFFECT_IMAGE_ERROR, AFFECT_IMAGE_ERROR_IO));
  ck_assert_msg (strstr (err->message, missing) != NULL, "%s", err->message);
  g_clear_error (&err);
  ck_assert (rgb == NULL);

  g_unlink (path);
  g_rmdir (dir);
  g_free (path);
  g_free (missing);
  g_free (dir);
}

END_TEST;

/* ---- synthetic models ------------------------------------------------- */

typedef struct {
  gchar *name;
  guint n_dims;
  int64_t shape[4];
  float *data;
  gsize count;
} Spec;

static void
spec_free (gpointer p)
{
  Spec *s = p;

  g_free (s->name);
  g_free (s->data);
  g_free (s);
}

/* Adds a zero-filled F32 tensor; the shape is 0-terminated. */
static Spec *
spec_add (GPtrArray *specs, const gchar *name, int d0, int d1, int d2, int d3)
{
  Spec *s = g_new0 (Spec, 1);
  int dims[4] = { d0, d1, d2, d3 };
  guint i;

  s->name = g_strdup (name);
  s->count = 1;
  for (i = 0; i < 4 && dims[i] > 0; i++) {
    s->shape[i] = dims[i];
    s->count *= dims[i];
  }
  s->n_dims = i;
  s->data = g_new0 (float, s->count);
  g_ptr_array_add (specs, s);
  return s;
}

static Spec *
spec_find (GPtrArray *specs, const gchar *name)
{
  guint i;

  for (i = 0; i < specs->len; i++) {
    Spec *s = g_ptr_array_index (specs, i);
    if (strcmp (s->name, name) == 0)
      return s;
  }
  ck_abort_msg ("no synthetic tensor %s", name);
  return NULL;
}

/* The tensors of face_landmark_68_model / face_expression_model (tfjs
 * manifest names and shapes) with @n_out outputs. */
static GPtrArray *
facefeat_specs (int n_out)
{
  static const int width[4] = { 32, 64, 128, 256 };
  GPtrArray *specs = g_ptr_array_new_with_free_func (spec_free);
  gchar name[64];
  int b, j;

  for (b = 0; b < 4; b++) {
    for (j = 0; j < 4; j++) {
      int cin = (j == 0) ? (b == 0 ? 3 : width[b - 1]) : width[b];
      int cout = width[b];

      if (b == 0 && j == 0) {
        spec_add (specs, "dense0/conv0/filters", 3, 3, 3, 32);
      } else {
        g_snprintf (
            name, sizeof (name), "dense%d/conv%d/depthwise_filter", b, j);
        spec_add (specs, name, 3, 3, cin, 1);
        g_snprintf (
            name, sizeof (name), "dense%d/conv%d/pointwise_filter", b, j);
        spec_add (specs, name, 1, 1, cin, cout);
      }
      g_snprintf (name, sizeof (name), "dense%d/conv%d/bias", b, j);
      spec_add (specs, name, cout, 0, 0, 0);
    }
  }
  spec_add (specs, "fc/weights", 256, n_out, 0, 0);
  spec_add (specs, "fc/bias", n_out, 0, 0, 0);
  return specs;
}

static void
unit_specs (GPtrArray *specs, const gchar *prefix, int k, int cin, int cout)
{
  gchar name[96];

  g_snprintf (name, sizeof (name), "%s/conv/filters", prefix);
  spec_add (specs, name, k, k, cin, cout);
  g_snprintf (name, sizeof (name), "%s/conv/bias", prefix);
  spec_add (specs, name, cout, 0, 0, 0);
  g_snprintf (name, sizeof (name), "%s/scale/weights", prefix);
  spec_add (specs, name, cout, 0, 0, 0);
  g_snprintf (name, sizeof (name), "%s/scale/biases", prefix);
  spec_add (specs, name, cout, 0, 0, 0);
}

/* The tensors of face_recognition_model. */
static GPtrArray *
recognition_specs (void)
{
  static const struct {
    const gchar *name;
    int cin, cout;
  } res[] = { { "conv32_1", 32, 32 }, { "conv32_2", 32, 32 },
    { "conv32_3", 32, 32 }, { "conv64_down", 32, 64 }, { "conv64_1", 64, 64 },
    { "conv64_2", 64, 64 }, { "conv64_3", 64, 64 }, { "conv128_down", 64, 128 },
    { "conv128_1", 128, 128 }, { "conv128_2", 128, 128 },
    { "conv256_down", 128, 256 }, { "conv256_1", 256, 256 },
    { "conv256_2", 256, 256 }, { "conv256_down_out", 256, 256 } };
  GPtrArray *specs = g_ptr_array_new_with_free_func (spec_free);
  gchar prefix[64];
  guint i;

  unit_specs (specs, "conv32_down", 7, 3, 32);
  for (i = 0; i < G_N_ELEMENTS (res); i++) {
    g_snprintf (prefix, sizeof (prefix), "%s/conv1", res[i].name);
    unit_specs (specs, prefix, 3, res[i].cin, res[i].cout);
    g_snprintf (prefix, sizeof (prefix), "%s/conv2", res[i].name);
    unit_specs (specs, prefix, 3, res[i].cout, res[i].cout);
  }
  spec_add (specs, "fc", 256, 128, 0, 0);
  return specs;
}

static void
write_specs (GPtrArray *specs, const gchar *path)
{
  AffectStWriter *w = affect_st_writer_new ();
  GError *err = NULL;
  guint i;

  for (i = 0; i < specs->len; i++) {
    Spec *s = g_ptr_array_index (specs, i);
    ck_assert_msg (
        affect_st_writer_add (w, s->name, AFFECT_DTYPE_F32, s->n_dims, s->shape,
            s->data, s->count * sizeof (float), &err),
        "%s", err ? err->message : "?");
  }
  ck_assert_msg (
      affect_st_writer_write (w, path, &err), "%s", err ? err->message : "?");
  affect_st_writer_free (w);
}

static gchar *tmp_dir;

static gchar *
tmp_file (const gchar *name)
{
  if (tmp_dir == NULL) {
    tmp_dir = g_dir_make_tmp ("affect-facenets-XXXXXX", NULL);
    ck_assert (tmp_dir != NULL);
  }
  return g_build_filename (tmp_dir, name, NULL);
}

static void
tmp_cleanup (void)
{
  GDir *dir;
  const gchar *name;

  if (tmp_dir == NULL)
    return;
  dir = g_dir_open (tmp_dir, 0, NULL);
  while (dir && (name = g_dir_read_name (dir))) {
    gchar *p = g_build_filename (tmp_dir, name, NULL);
    g_unlink (p);
    g_free (p);
  }
  if (dir)
    g_dir_close (dir);
  g_rmdir (tmp_dir);
  g_clear_pointer (&tmp_dir, g_free);
}

/* Zero weights: every convolution outputs 0, so the landmark output is
 * fc/bias; the post-processing is checked against the formula of
 * FACE_MODELS.md evaluated in double. */
START_TEST (test_synthetic_landmarks)
{
  GPtrArray *specs = facefeat_specs (136);
  gchar *path = tmp_file ("lm.safetensors");
  Spec *bias = spec_find (specs, "fc/bias");
  AffectBackend *be = affect_backend_cpu_new (1);
  AffectLandmarkNet *net;
  AffectImage img;
  guint8 *data = make_pattern (60, 40, &img);
  AffectBox boxes[2]
      = { { 5.5f, 3.25f, 30.0f, 20.0f }, { -4.0f, 10.0f, 20.0f, 45.0f } };
  float pts[2][68][2];
  int crops[2][4], f, i;
  GError *err = NULL;

  for (i = 0; i < 136; i++)
    bias->data[i] = 0.25f + 0.004f * i;
  write_specs (specs, path);

  net = affect_landmark_net_new (be, path, &err);
  ck_assert_msg (net != NULL, "%s", err ? err->message : "?");
  ck_assert (
      affect_landmark_net_run_full (net, &img, boxes, 2, pts, crops, &err));

  /* box 1 is clipped: crop (0, 10, 16, 30) */
  ck_assert_int_eq (crops[0][0], 5);
  ck_assert_int_eq (crops[0][2], 30);
  ck_assert_int_eq (crops[1][0], 0);
  ck_assert_int_eq (crops[1][1], 10);
  ck_assert_int_eq (crops[1][2], 16);
  ck_assert_int_eq (crops[1][3], 30);

  for (f = 0; f < 2; f++) {
    double w = crops[f][2], h = crops[f][3];
    double s = 112.0 / MAX (w, h), ws = w * s, hs = h * s;
    double pad_x = ws < hs ? (hs - ws) / 2 : 0,
           pad_y = hs < ws ? (ws - hs) / 2 : 0;

    for (i = 0; i < 68; i++) {
      double x = (bias->data[2 * i] * 112.0 - pad_x) / ws * w + boxes[f].x;
      double y = (bias->data[2 * i + 1] * 112.0 - pad_y) / hs * h + boxes[f].y;
      ck_assert_float_eq_tol (pts[f][i][0], x, 1e-3);
      ck_assert_float_eq_tol (pts[f][i][1], y, 1e-3);
    }
  }

  /* argument errors */
  boxes[1] = mkbox (70.0f, 0.0f, 10.0f, 10.0f);
  ck_assert (!affect_landmark_net_run (net, &img, boxes, 2, pts, &err));
  ck_assert (g_error_matches (err, AFFECT_IMAGE_ERROR, AFFECT_IMAGE_ERROR_BOX));
  ck_assert_msg (
      strstr (err->message, "face box 1") != NULL, "%s", err->message);
  g_clear_error (&err);
  ck_assert (!affect_landmark_net_run (net, &img, boxes, 0, pts, &err));
  ck_assert (
      g_error_matches (err, AFFECT_IMAGE_ERROR, AFFECT_IMAGE_ERROR_ARGUMENT));
  g_clear_error (&err);

  affect_landmark_net_free (net);
  affect_backend_unref (be);
  g_ptr_array_unref (specs);
  g_free (data);
  g_free (path);
  tmp_cleanup ();
}

END_TEST;

START_TEST (test_synthetic_expression)
{
  static const float logits[7] = { 1.0f, 2.0f, 3.0f, 0.0f, -1.0f, 0.5f, 0.0f };
  GPtrArray *specs = facefeat_specs (7);
  gchar *path = tmp_file ("ex.safetensors");
  AffectBackend *be = affect_backend_cpu_new (2);
  AffectExpressionNet *net;
  AffectImage img;
  guint8 *data = make_pattern (50, 50, &img);
  AffectBox box = { 1.0f, 2.0f, 40.0f, 30.0f };
  float probs[7], feats[256];
  double sum = 0;
  GError *err = NULL;
  int i;

  memcpy (spec_find (specs, "fc/bias")->data, logits, sizeof (logits));
  write_specs (specs, path);
  net = affect_expression_net_new (be, path, &err);
  ck_assert_msg (net != NULL, "%s", err ? err->message : "?");
  ck_assert (
      affect_expression_net_run (net, &img, &box, 1, probs, feats, &err));

  for (i = 0; i < 7; i++)
    sum += exp (logits[i]);
  for (i = 0; i < 7; i++)
    ck_assert_float_eq_tol (probs[i], exp (logits[i]) / sum, 1e-6);
  for (i = 0; i < 256; i++)
    ck_assert_float_eq (feats[i], 0.0f);
  ck_assert_str_eq (
      affect_expression_labels[AFFECT_EXPRESSION_NEUTRAL], "neutral");
  ck_assert_str_eq (
      affect_expression_labels[AFFECT_EXPRESSION_SURPRISED], "surprised");

  affect_expression_net_free (net);
  affect_backend_unref (be);
  g_ptr_array_unref (specs);
  g_free (data);
  g_free (path);
  tmp_cleanup ();
}

END_TEST;

/* Zero filters; the stem's affine shift is 1, so after it every value is
 * 1 on 32 channels. The residual units add 0, the down blocks' average
 * pools keep 1 and append zero channels, the bottom/right zero padding of
 * the small main paths adds 0: the features are 1 on channels 0..31 and 0
 * elsewhere, and the descriptor is the sum of the first 32 rows of fc. */
START_TEST (test_synthetic_recognition)
{
  GPtrArray *specs = recognition_specs ();
  gchar *path = tmp_file ("rec.safetensors");
  AffectBackend *be = affect_backend_cpu_new (1);
  AffectRecognitionNet *net;
  Spec *fc = spec_find (specs, "fc");
  AffectImage img;
  guint8 *data = make_pattern (64, 48, &img);
  AffectBox box = { 3.0f, 4.0f, 40.0f, 41.0f };
  float desc[128], feats[256];
  GError *err = NULL;
  int i, j;

  for (i = 0; i < 32; i++)
    spec_find (specs, "conv32_down/scale/biases")->data[i] = 1.0f;
  for (i = 0; i < 256 * 128; i++)
    fc->data[i] = (float)sin (i * 0.37);
  write_specs (specs, path);

  net = affect_recognition_net_new (be, path, &err);
  ck_assert_msg (net != NULL, "%s", err ? err->message : "?");
  ck_assert (
      affect_recognition_net_run (net, &img, &box, 1, desc, feats, &err));
  for (i = 0; i < 256; i++)
    ck_assert_float_eq (feats[i], i < 32 ? 1.0f : 0.0f);
  for (j = 0; j < 128; j++) {
    double want = 0;
    for (i = 0; i < 32; i++)
      want += fc->data[i * 128 + j];
    ck_assert_float_eq_tol (desc[j], want, 1e-5);
  }

  affect_recognition_net_free (net);
  affect_backend_unref (be);
  g_ptr_array_unref (specs);
  g_free (data);
  g_free (path);
  tmp_cleanup ();
}

END_TEST;

typedef enum { NET_LANDMARKS, NET_EXPRESSION, NET_RECOGNITION } NetKind;

/* Loads @path as @kind; must fail with a message naming the file and
 * @tensor (when not NULL). */
static void
assert_load_fails (NetKind kind, const gchar *path, const gchar *tensor)
{
  AffectBackend *be = affect_backend_cpu_new (1);
  GError *err = NULL;
  gpointer net = NULL;
  gchar *base;

  switch (kind) {
    case NET_LANDMARKS:
      net = affect_landmark_net_new (be, path, &err);
      break;
    case NET_EXPRESSION:
      net = affect_expression_net_new (be, path, &err);
      break;
    case NET_RECOGNITION:
      net = affect_recognition_net_new (be, path, &err);
      break;
  }
  ck_assert_msg (net == NULL, "%s loaded although it is broken", path);
  ck_assert (err != NULL);
  base = g_path_get_basename (path);
  ck_assert_msg (strstr (err->message, base) != NULL,
      "error does not name the file: %s", err->message);
  g_free (base);
  if (tensor)
    ck_assert_msg (strstr (err->message, tensor) != NULL,
        "error does not name tensor %s: %s", tensor, err->message);
  g_error_free (err);
  affect_backend_unref (be);
}

START_TEST (test_bad_models)
{
  gchar *path = tmp_file ("bad.safetensors");
  GPtrArray *specs;
  Spec *s;

  /* wrong shape deep inside the landmark net */
  specs = facefeat_specs (136);
  s = spec_find (specs, "dense2/conv1/pointwise_filter");
  s->shape[3] = 127;
  s->count = 128 * 127;
  write_specs (specs, path);
  assert_load_fails (NET_LANDMARKS, path, "dense2/conv1/pointwise_filter");
  g_ptr_array_unref (specs);

  /* a landmark model is not an expression model: fc/weights is [256, 136] */
  specs = facefeat_specs (136);
  write_specs (specs, path);
  assert_load_fails (NET_EXPRESSION, path, "fc/weights");
  g_ptr_array_unref (specs);

  /* missing tensor */
  specs = facefeat_specs (7);
  g_ptr_array_remove (specs, spec_find (specs, "fc/bias"));
  write_specs (specs, path);
  assert_load_fails (NET_EXPRESSION, path, "fc/bias");
  g_ptr_array_unref (specs);

  /* recognition: wrong affine size, missing fc */
  specs = recognition_specs ();
  s = spec_find (specs, "conv128_1/conv2/scale/weights");
  s->shape[0] = 127;
  s->count = 127;
  write_specs (specs, path);
  assert_load_fails (NET_RECOGNITION, path, "conv128_1/conv2/scale/weights");
  g_ptr_array_unref (specs);

  specs = recognition_specs ();
  g_ptr_array_remove (specs, spec_find (specs, "fc"));
  write_specs (specs, path);
  assert_load_fails (NET_RECOGNITION, path, "fc");
  g_ptr_array_unref (specs);

  /* not safetensors at all, truncated header, missing file */
  ck_assert (g_file_set_contents (path, "this is not a model", -1, NULL));
  assert_load_fails (NET_LANDMARKS, path, NULL);
  ck_assert (g_file_set_contents (path, "\xff\xff\xff\x7f\0\0\0\0{", 9, NULL));
  assert_load_fails (NET_RECOGNITION, path, NULL);
  g_unlink (path);
  assert_load_fails (NET_EXPRESSION, path, NULL);

  g_free (path);
  tmp_cleanup ();
}

END_TEST;

/* ---- parity with the JavaScript face-api ------------------------------- */

/* The normalised network inputs of face 0 of sample1, as dumped from the
 * first convolution of each net in JS, must be bit-identical. */
START_TEST (test_golden_inputs)
{
  static const struct {
    const gchar *summary, *crop;
    int size;
  } nets[] = {
    { "landmark_input", "landmark_crop", 112 },
    { "expression_input", "expression_crop", 112 },
    { "recognition_input", "descriptor_crop", 150 },
  };
  gchar *tpath = affect_test_golden_path ("face-api", "tensors-sample1.json");
  JsonParser *parser;
  JsonObject *root;
  Sample s;
  guint k;

  if (!sample_load (&s, 1)) {
    g_free (tpath);
    return;
  }
  parser = affect_test_load_json (tpath);
  root = json_node_get_object (json_parser_get_root (parser));

  for (k = 0; k < G_N_ELEMENTS (nets); k++) {
    JsonObject *sum = json_object_get_object_member (root, nets[k].summary);
    int size = nets[k].size, crop[4], used[4];
    gsize count = (gsize)size * size * 3, i;
    float *x = g_new (float, count);
    double first[64], total = 0, want_total, mn = INFINITY, mx = -INFINITY;
    AffectBox box;

    read_ints (json_object_get_array_member (face_obj (&s, 0), nets[k].crop),
        crop, 4, nets[k].crop);
    box = mkbox (crop[0], crop[1], crop[2], crop[3]);
    ck_assert (affect_image_face_input_host (&s.img, &box, size, x, used));
    ck_assert (memcmp (used, crop, sizeof (crop)) == 0);

    read_doubles (
        json_object_get_array_member (sum, "first64"), first, 64, "first64");
    for (i = 0; i < 64; i++)
      ck_assert_msg (x[i] == (float)first[i],
          "%s[%" G_GSIZE_FORMAT "]: %.9g, JS %.9g", nets[k].summary, i, x[i],
          first[i]);
    for (i = 0; i < count; i++) {
      total += x[i];
      mn = MIN (mn, x[i]);
      mx = MAX (mx, x[i]);
    }
    want_total = json_object_get_double_member (sum, "sum");
    ck_assert_msg (fabs (total - want_total) <= 1e-9 * fabs (want_total),
        "%s: sum %.12g, JS %.12g", nets[k].summary, total, want_total);
    ck_assert_float_eq (mn, json_object_get_double_member (sum, "min"));
    ck_assert_float_eq (mx, json_object_get_double_member (sum, "max"));
    g_free (x);
  }

  g_object_unref (parser);
  g_free (tpath);
  sample_clear (&s);
}

END_TEST;

typedef struct {
  double lm_px, lm_raw, prob, rect;
  double cos_desc, cos_ex_feat, cos_rec_feat, desc_dist;
  int n_faces;
} Stats;

/* Crops and results of one sample, computed the way face-api chains the
 * nets: landmarks on the SSD boxes, expression on the aligned rects of OUR
 * landmarks, descriptor on the dlib rects of our landmarks. */
typedef struct {
  float (*pts)[68][2];
  int (*lm_crops)[4], (*ex_crops)[4], (*rec_crops)[4];
  AffectBox *ex_boxes, *rec_boxes;
  float *probs, *ex_feats, *desc, *rec_feats;
} Results;

static void
results_run (Nets *nets, const AffectImage *img, const AffectBox *boxes, int n,
    Results *r)
{
  GError *err = NULL;
  int i;

  r->pts = (float (*)[68][2])g_new (float, n * 68 * 2);
  r->lm_crops = (int (*)[4])g_new (int, 4 * n);
  r->ex_crops = (int (*)[4])g_new (int, 4 * n);
  r->rec_crops = (int (*)[4])g_new (int, 4 * n);
  r->ex_boxes = g_new (AffectBox, n);
  r->rec_boxes = g_new (AffectBox, n);
  r->probs = g_new (float, n * 7);
  r->ex_feats = g_new (float, n * 256);
  r->desc = g_new (float, n * 128);
  r->rec_feats = g_new (float, n * 256);

  ck_assert_msg (affect_landmark_net_run_full (
                     nets->lm, img, boxes, n, r->pts, r->lm_crops, &err),
      "%s", err ? err->message : "?");
  for (i = 0; i < n; i++) {
    r->ex_boxes[i] = affect_landmarks_aligned_rect (r->pts[i]);
    r->rec_boxes[i] = affect_landmarks_dlib_rect (
        r->pts[i], r->lm_crops[i][2], r->lm_crops[i][3]);
  }
  ck_assert_msg (affect_expression_net_run_full (nets->ex, img, r->ex_boxes, n,
                     r->probs, r->ex_feats, r->ex_crops, &err),
      "%s", err ? err->message : "?");
  ck_assert_msg (affect_recognition_net_run_full (nets->rec, img, r->rec_boxes,
                     n, r->desc, r->rec_feats, r->rec_crops, &err),
      "%s", err ? err->message : "?");
}

static void
results_clear (Results *r)
{
  g_free (r->pts);
  g_free (r->lm_crops);
  g_free (r->ex_crops);
  g_free (r->rec_crops);
  g_free (r->ex_boxes);
  g_free (r->rec_boxes);
  g_free (r->probs);
  g_free (r->ex_feats);
  g_free (r->desc);
  g_free (r->rec_feats);
}

static void
assert_crop (
    const int got[4], JsonObject *face, const gchar *member, int sample, int f)
{
  int want[4];

  read_ints (json_object_get_array_member (face, member), want, 4, member);
  ck_assert_msg (memcmp (got, want, sizeof (want)) == 0,
      "sample%d face %d %s: (%d, %d, %d, %d), JS (%d, %d, %d, %d)", sample, f,
      member, got[0], got[1], got[2], got[3], want[0], want[1], want[2],
      want[3]);
}

static void
check_sample (Nets *nets, int index, Stats *st)
{
  Results r;
  Sample s;
  int f, i;

  if (!sample_load (&s, index))
    return;
  results_run (nets, &s.img, s.boxes, s.n, &r);

  for (f = 0; f < s.n; f++) {
    JsonObject *face = face_obj (&s, f);
    JsonArray *lms = json_object_get_array_member (face, "landmarks");
    double raw[136], rect[4], probs[7], desc[128], feat[256], c, dist = 0;
    AffectTensor *in, *out;
    float host_raw[136];
    float *x;

    /* landmarks */
    assert_crop (r.lm_crops[f], face, "landmark_crop", index, f);
    ck_assert_int_eq (json_array_get_length (lms), 68);
    for (i = 0; i < 68; i++) {
      double p[2];
      read_doubles (json_array_get_array_element (lms, i), p, 2, "landmark");
      st->lm_px = MAX (st->lm_px, fabs (r.pts[f][i][0] - p[0]));
      st->lm_px = MAX (st->lm_px, fabs (r.pts[f][i][1] - p[1]));
    }
    ck_assert_msg (st->lm_px <= LANDMARK_TOL_PX,
        "sample%d face %d: landmarks differ by %g px", index, f, st->lm_px);

    /* the raw output through the tensor-level API */
    x = g_new (float, 112 * 112 * 3);
    ck_assert (
        affect_image_face_input_host (&s.img, &s.boxes[f], 112, x, NULL));
    in = affect_tensor_new (nets->backend, 1, 112, 112, 3);
    affect_tensor_upload (in, x);
    out = affect_landmark_net_forward (nets->lm, in);
    ck_assert_int_eq (affect_tensor_n_elements (out), 136);
    affect_tensor_download (out, host_raw);
    read_doubles (json_object_get_array_member (face, "landmarks_raw"), raw,
        136, "landmarks_raw");
    for (i = 0; i < 136; i++)
      st->lm_raw = MAX (st->lm_raw, fabs (host_raw[i] - raw[i]));
    affect_tensor_free (in);
    affect_tensor_free (out);
    g_free (x);

    /* expression */
    read_doubles (json_object_get_array_member (face, "aligned_rect"), rect, 4,
        "aligned_rect");
    st->rect = MAX (st->rect, fabs (r.ex_boxes[f].x - rect[0]));
    st->rect = MAX (st->rect, fabs (r.ex_boxes[f].y - rect[1]));
    st->rect = MAX (st->rect, fabs (r.ex_boxes[f].width - rect[2]));
    st->rect = MAX (st->rect, fabs (r.ex_boxes[f].height - rect[3]));
    assert_crop (r.ex_crops[f], face, "expression_crop", index, f);
    read_doubles (json_object_get_array_member (face, "expression"), probs, 7,
        "expression");
    for (i = 0; i < 7; i++)
      st->prob = MAX (st->prob, fabs (r.probs[f * 7 + i] - probs[i]));
    ck_assert_msg (st->prob <= PROB_TOL,
        "sample%d face %d: expression differs by %g", index, f, st->prob);
    read_doubles (json_object_get_array_member (face, "expression_feature"),
        feat, 256, "expression_feature");
    c = cosine (r.ex_feats + f * 256, feat, 256);
    st->cos_ex_feat = MIN (st->cos_ex_feat, c);
    ck_assert_msg (c >= COSINE_MIN,
        "sample%d face %d: expression feature cosine %.9f", index, f, c);

    /* descriptor */
    assert_crop (r.rec_crops[f], face, "descriptor_crop", index, f);
    read_doubles (json_object_get_array_member (face, "descriptor"), desc, 128,
        "descriptor");
    c = cosine (r.desc + f * 128, desc, 128);
    st->cos_desc = MIN (st->cos_desc, c);
    ck_assert_msg (c >= COSINE_MIN, "sample%d face %d: descriptor cosine %.9f",
        index, f, c);
    for (i = 0; i < 128; i++)
      dist += (r.desc[f * 128 + i] - desc[i]) * (r.desc[f * 128 + i] - desc[i]);
    st->desc_dist = MAX (st->desc_dist, sqrt (dist));
    read_doubles (json_object_get_array_member (face, "recognition_feature"),
        feat, 256, "recognition_feature");
    c = cosine (r.rec_feats + f * 256, feat, 256);
    st->cos_rec_feat = MIN (st->cos_rec_feat, c);
    ck_assert_msg (c >= COSINE_MIN,
        "sample%d face %d: recognition feature cosine %.9f", index, f, c);
    st->n_faces++;
  }

  results_clear (&r);
  sample_clear (&s);
}

START_TEST (test_golden_parity)
{
  Stats st = { 0, 0, 0, 0, 1, 1, 1, 0, 0 };
  int last = under_valgrind () ? 1 : 6;
  Nets nets;
  int i;

  if (!nets_load (&nets, 2))
    return;
  for (i = 1; i <= last; i++)
    check_sample (&nets, i, &st);
  g_printerr (
      "face nets vs JS face-api, %d faces: landmarks max |d| %.3g px "
      "(raw %.3g), aligned rect max |d| %.3g px, expression max |d| %.3g, "
      "1 - cosine: descriptor %.3g (max L2 distance %.3g), expression "
      "feature %.3g, recognition feature %.3g\n",
      st.n_faces, st.lm_px, st.lm_raw, st.rect, st.prob, 1 - st.cos_desc,
      st.desc_dist, 1 - st.cos_ex_feat, 1 - st.cos_rec_feat);
  nets_free (&nets);
}

END_TEST;

static void
assert_results_equal (
    const Results *a, int ia, const Results *b, int ib, const gchar *what)
{
  ck_assert_msg (memcmp (a->pts[ia], b->pts[ib], sizeof (a->pts[0])) == 0,
      "%s: landmarks differ", what);
  ck_assert_msg (
      memcmp (a->probs + ia * 7, b->probs + ib * 7, 7 * sizeof (float)) == 0,
      "%s: expression differs", what);
  ck_assert_msg (memcmp (a->ex_feats + ia * 256, b->ex_feats + ib * 256,
                     256 * sizeof (float))
                     == 0,
      "%s: expression features differ", what);
  ck_assert_msg (
      memcmp (a->desc + ia * 128, b->desc + ib * 128, 128 * sizeof (float))
          == 0,
      "%s: descriptor differs", what);
  ck_assert_msg (memcmp (a->rec_feats + ia * 256, b->rec_feats + ib * 256,
                     256 * sizeof (float))
                     == 0,
      "%s: recognition features differ", what);
}

/* Batch of N (more than one chunk of AFFECT_FACENET_MAX_BATCH) vs one face
 * at a time. */
START_TEST (test_batch_consistency)
{
  Nets nets;
  Sample s;
  Results all, one;
  AffectBox *boxes;
  int n, i;

  if (!nets_load (&nets, 2))
    return;
  if (!sample_load (&s, 1)) {
    nets_free (&nets);
    return;
  }
  n = under_valgrind () ? s.n : 6 * s.n;
  boxes = g_new (AffectBox, n);
  for (i = 0; i < n; i++)
    boxes[i] = s.boxes[i % s.n];

  results_run (&nets, &s.img, boxes, n, &all);
  for (i = 0; i < n; i++) {
    gchar *what;

    if (i >= s.n && i != n - 1)
      continue; /* the copies equal the first ones */
    what = g_strdup_printf ("face %d of a batch of %d vs alone", i, n);
    results_run (&nets, &s.img, &boxes[i], 1, &one);
    assert_results_equal (&all, i, &one, 0, what);
    results_clear (&one);
    g_free (what);
  }
  for (i = s.n; i < n; i++)
    assert_results_equal (&all, i, &all, i % s.n, "repeated face");

  results_clear (&all);
  g_free (boxes);
  sample_clear (&s);
  nets_free (&nets);
}

END_TEST;

START_TEST (test_threads)
{
  Nets one, two;
  Sample s;
  Results r1, r2;
  int i;

  if (!nets_load (&one, 1))
    return;
  if (!nets_load (&two, 2) || !sample_load (&s, 1)) {
    nets_free (&one);
    nets_free (&two);
    return;
  }
  ck_assert_int_eq (affect_backend_get_n_threads (one.backend), 1);
  ck_assert_int_eq (affect_backend_get_n_threads (two.backend), 2);
  results_run (&one, &s.img, s.boxes, s.n, &r1);
  results_run (&two, &s.img, s.boxes, s.n, &r2);
  for (i = 0; i < s.n; i++)
    assert_results_equal (&r1, i, &r2, i, "1 vs 2 threads");
  results_clear (&r1);
  results_clear (&r2);
  sample_clear (&s);
  nets_free (&one);
  nets_free (&two);
}

END_TEST;

static Suite *
facenets_suite (void)
{
  Suite *s = suite_create ("facenets");
  TCase *tc = tcase_create ("image");
  TCase *tn = tcase_create ("nets");
  TCase *tg = tcase_create ("golden");

  tcase_add_test (tc, test_crop_box);
  tcase_add_test (tc, test_face_input_padding);
  tcase_add_test (tc, test_face_input_resize);
  tcase_add_test (tc, test_face_input_tensor);
  tcase_add_test (tc, test_crop_rects);
  tcase_add_test (tc, test_load_png_errors);
  suite_add_tcase (s, tc);

  tcase_add_test (tn, test_synthetic_landmarks);
  tcase_add_test (tn, test_synthetic_expression);
  tcase_add_test (tn, test_synthetic_recognition);
  tcase_add_test (tn, test_bad_models);
  suite_add_tcase (s, tn);

  tcase_set_timeout (tg, 0);
  tcase_add_test (tg, test_golden_inputs);
  tcase_add_test (tg, test_golden_parity);
  tcase_add_test (tg, test_batch_consistency);
  tcase_add_test (tg, test_threads);
  suite_add_tcase (s, tg);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (facenets_suite ());
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  tmp_cleanup ();
  return failed == 0 ? 0 : 1;
}
