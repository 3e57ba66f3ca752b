/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/* Tests of the facecrop element: caps, faces on the demo photos against
 * the golden face-api boxes, landmarks, aligned crops (checked against an
 * independent computation), crops only when asked for (attach-crops,
 * output=crops), tracking, detector=none, output=crops, odd sizes and
 * formats, property changes while playing, flush and errors.
 *
 * The tests that run the networks need the converted models and the test
 * PNGs (affect-fetch-models, tests/golden/face-api/prepare.sh); without
 * them they are skipped with a message, or fail when
 * AFFECT_REQUIRE_MODELS=1. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <gst/affect/affectmeta.h>
#include <json-glib/json-glib.h>

#include "affect-check-sample.h"
#include "affect-image.h"
#include "affect-headpose.h"
#include "affect-modelpath.h"

#define FORMATS "RGB", "BGR", "RGBA", "BGRA", "RGBx", "BGRx", "I420", "NV12"
static const gchar *const formats[] = { FORMATS };

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* TRUE when the models and the test PNGs are there; otherwise prints why
 * the test is skipped (or fails with AFFECT_REQUIRE_MODELS=1). */
static gboolean
have_inputs (void)
{
  static const gchar *const names[] = { "tiny_face_detector_model",
    "ssd_mobilenetv1_model", "face_landmark_68_model" };

  return affect_check_have_inputs (names, G_N_ELEMENTS (names), "sample1.png");
}

static gboolean
under_valgrind (void)
{
  return g_getenv ("AFFECT_UNDER_VALGRIND") != NULL;
}

typedef AffectCheckImage Image;

/* @src shrunk by an integer @factor (mean of factor² pixels), placed at
 * the top-left of a @w × @h grey canvas. */
static Image
shrink_into (const Image *src, gint factor, gint w, gint h)
{
  Image dst = { g_malloc ((gsize)w * h * 3), w, h };
  gint x, y, c, i, j;

  memset (dst.rgb, 128, (gsize)w * h * 3);
  for (y = 0; y < h && (y + 1) * factor <= src->height; y++) {
    for (x = 0; x < w && (x + 1) * factor <= src->width; x++) {
      for (c = 0; c < 3; c++) {
        guint sum = 0;

        for (j = 0; j < factor; j++)
          for (i = 0; i < factor; i++)
            sum += src->rgb[((gsize)(y * factor + j) * src->width + x * factor
                                + i)
                                * 3
                            + c];
        dst.rgb[((gsize)y * w + x) * 3 + c]
            = (guint8)((sum + factor * factor / 2) / (factor * factor));
      }
    }
  }
  return dst;
}

/* A buffer of format @format holding @img (converted from RGB with
 * GstVideoConverter when needed). */
static GstBuffer *
make_buffer (const Image *img, const gchar *format)
{
  GstVideoInfo rgb_info, info;
  GstVideoFrame in, out;
  GstBuffer *rgb_buf, *buf;
  GstVideoConverter *conv;
  gint y;

  gst_video_info_set_format (
      &rgb_info, GST_VIDEO_FORMAT_RGB, img->width, img->height);
  rgb_buf = gst_buffer_new_allocate (NULL, rgb_info.size, NULL);
  fail_unless (gst_video_frame_map (&in, &rgb_info, rgb_buf, GST_MAP_WRITE));
  for (y = 0; y < img->height; y++)
    memcpy ((guint8 *)GST_VIDEO_FRAME_PLANE_DATA (&in, 0)
                + (gsize)y * GST_VIDEO_FRAME_PLANE_STRIDE (&in, 0),
        img->rgb + (gsize)y * img->width * 3, (gsize)img->width * 3);
  gst_video_frame_unmap (&in);

  if (g_str_equal (format, "RGB"))
    return rgb_buf;

  gst_video_info_set_format (
      &info, gst_video_format_from_string (format), img->width, img->height);
  buf = gst_buffer_new_allocate (NULL, info.size, NULL);
  conv = gst_video_converter_new (&rgb_info, &info, NULL);
  fail_unless (conv != NULL);
  fail_unless (gst_video_frame_map (&in, &rgb_info, rgb_buf, GST_MAP_READ));
  fail_unless (gst_video_frame_map (&out, &info, buf, GST_MAP_WRITE));
  gst_video_converter_frame (conv, &in, &out);
  gst_video_frame_unmap (&out);
  gst_video_frame_unmap (&in);
  gst_video_converter_free (conv);
  gst_buffer_unref (rgb_buf);
  return buf;
}

static GstBuffer *
make_grey (gint w, gint h, const gchar *format)
{
  Image img = { g_malloc ((gsize)w * h * 3), w, h };
  GstBuffer *buf;

  memset (img.rgb, 128, (gsize)w * h * 3);
  buf = make_buffer (&img, format);
  g_free (img.rgb);
  return buf;
}

static gchar *
caps_str (const gchar *format, gint w, gint h)
{
  return g_strdup_printf ("video/x-raw,format=%s,width=%d,height=%d,"
                          "framerate=25/1,pixel-aspect-ratio=1/1",
      format, w, h);
}

static GstHarness *
new_harness (const gchar *launch, const gchar *format, gint width, gint height)
{
  GstHarness *h = gst_harness_new_parse (launch);
  gchar *caps = caps_str (format, width, height);

  gst_harness_set_src_caps_str (h, caps);
  g_free (caps);
  return h;
}

/* The facecrop element of a harness (borrowed: the harness keeps it). */
static GstElement *
fc_of (GstHarness *h)
{
  GstElement *fc = gst_harness_find_element (h, "facecrop");

  fail_unless (fc != NULL);
  gst_object_unref (fc);
  return fc;
}

/* Pushes @buf (a new reference is taken) and returns the output. */
static GstBuffer *
push_pull (GstHarness *h, GstBuffer *buf)
{
  fail_unless_equals_int (
      gst_harness_push (h, gst_buffer_ref (buf)), GST_FLOW_OK);
  return gst_harness_pull (h);
}

static guint
count_face_rois (GstBuffer *buf)
{
  GstVideoRegionOfInterestMeta *roi;
  gpointer state = NULL;
  guint n = 0;

  while (
      (roi = (GstVideoRegionOfInterestMeta *)gst_buffer_iterate_meta_filtered (
           buf, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    if (roi->roi_type == g_quark_from_string (GST_AFFECT_ROI_TYPE))
      n++;
  }
  return n;
}

/* Sorted track ids of @buf. */
static GArray *
track_ids (GstBuffer *buf)
{
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (guint));
  GstAffectFaceMeta *f;
  gpointer state = NULL;
  guint i, j;

  while ((f = gst_buffer_iterate_affect_face_meta (buf, &state)))
    g_array_append_val (ids, f->track_id);
  for (i = 0; i < ids->len; i++)
    for (j = i + 1; j < ids->len; j++)
      if (g_array_index (ids, guint, j) < g_array_index (ids, guint, i)) {
        guint t = g_array_index (ids, guint, i);
        g_array_index (ids, guint, i) = g_array_index (ids, guint, j);
        g_array_index (ids, guint, j) = t;
      }
  return ids;
}

static void
assert_same_ids (GArray *a, GArray *b)
{
  guint i;

  fail_unless_equals_int (a->len, b->len);
  for (i = 0; i < a->len; i++)
    fail_unless_equals_int (
        g_array_index (a, guint, i), g_array_index (b, guint, i));
}

static void
assert_distinct (GArray *ids)
{
  guint i;

  for (i = 1; i < ids->len; i++)
    fail_unless (
        g_array_index (ids, guint, i - 1) < g_array_index (ids, guint, i),
        "track ids not distinct");
}

/* Bilinear sample of @img at (x, y), pixel centres at integers, black
 * outside. */
static double
sample (const Image *img, double x, double y, gint c)
{
  gint x0 = (gint)floor (x), y0 = (gint)floor (y), i, j;
  double fx = x - x0, fy = y - y0, v = 0.0;

  for (j = 0; j < 2; j++)
    for (i = 0; i < 2; i++) {
      gint xi = x0 + i, yj = y0 + j;
      double w = (i ? fx : 1 - fx) * (j ? fy : 1 - fy);

      if (xi >= 0 && yj >= 0 && xi < img->width && yj < img->height)
        v += w * img->rgb[((gsize)yj * img->width + xi) * 3 + c];
    }
  return v;
}

/* Solves the 4 × 4 normal equations of the similarity u = a x - b y + tx,
 * v = b x + a y + ty (Gaussian elimination; a different method from the
 * element's closed form). */
static void
similarity_normal_eq (
    const double src[5][2], const double dst[5][2], double p[4])
{
  double A[4][5] = { { 0 } };
  gint i, r, c, k;

  for (i = 0; i < 5; i++) {
    double rows[2][5] = {
      { src[i][0], -src[i][1], 1, 0, dst[i][0] },
      { src[i][1], src[i][0], 0, 1, dst[i][1] },
    };
    for (k = 0; k < 2; k++)
      for (r = 0; r < 4; r++)
        for (c = 0; c < 5; c++)
          A[r][c] += rows[k][r] * rows[k][c];
  }
  for (r = 0; r < 4; r++) {
    gint piv = r;
    for (k = r + 1; k < 4; k++)
      if (fabs (A[k][r]) > fabs (A[piv][r]))
        piv = k;
    for (c = 0; c < 5; c++) {
      double t = A[r][c];
      A[r][c] = A[piv][c];
      A[piv][c] = t;
    }
    for (k = 0; k < 4; k++) {
      double f;
      if (k == r)
        continue;
      f = A[k][r] / A[r][r];
      for (c = 0; c < 5; c++)
        A[k][c] -= f * A[r][c];
    }
  }
  for (r = 0; r < 4; r++)
    p[r] = A[r][4] / A[r][r];
}

/* Checks the crop of @face against @img: the crop pixel (u, v) must be
 * the frame sampled at the inverse of the similarity from the five points
 * to the ArcFace template scaled to the crop size. */
static void
check_crop (const Image *img, GstAffectFaceMeta *face, gdouble margin)
{
  static const double tpl112[5][2]
      = { { 38.2946, 51.6963 }, { 73.5318, 51.5014 }, { 56.0252, 71.7366 },
          { 41.5493, 92.3655 }, { 70.7299, 92.2041 } };
  double src[5][2] = { { 0 } }, dst[5][2], p[4], det;
  guint S = face->crop_size;
  GstMapInfo map;
  gint i, k, checked = 0, bad = 0;

  fail_unless (face->crop != NULL);
  fail_unless (face->has_landmarks);
  for (i = 0; i < 6; i++)
    for (k = 0; k < 2; k++) {
      src[0][k] += face->landmarks[36 + i][k] / 6.0;
      src[1][k] += face->landmarks[42 + i][k] / 6.0;
    }
  for (k = 0; k < 2; k++) {
    src[2][k] = face->landmarks[30][k];
    src[3][k] = face->landmarks[48][k];
    src[4][k] = face->landmarks[54][k];
  }
  for (i = 0; i < 5; i++)
    for (k = 0; k < 2; k++)
      dst[i][k]
          = ((tpl112[i][k] - 56.0) / (1.0 + 2.0 * margin) + 56.0) * S / 112.0;
  similarity_normal_eq (src, dst, p);
  det = p[0] * p[0] + p[1] * p[1];
  fail_unless (det > 0);

  fail_unless (gst_buffer_map (face->crop, &map, GST_MAP_READ));
  fail_unless_equals_int (map.size, S * S * 3);
  for (i = 0; i < 200; i++) {
    guint u = (i * 37) % S, v = (i * 101 + 7) % S;
    double du = u - p[2], dv = v - p[3];
    /* inverse of [a -b; b a] is [a b; -b a] / (a² + b²) */
    double x = (p[0] * du + p[1] * dv) / det;
    double y = (-p[1] * du + p[0] * dv) / det;
    gint c;

    if (x < 1 || y < 1 || x > img->width - 2 || y > img->height - 2)
      continue;
    for (c = 0; c < 3; c++) {
      double want = sample (img, x, y, c);
      gint got = map.data[((gsize)v * S + u) * 3 + c];
      if (fabs (want - got) > 1.01)
        bad++;
    }
    checked++;
  }
  gst_buffer_unmap (face->crop, &map);
  fail_unless (checked > 50, "too few crop pixels inside the frame");
  fail_unless_equals_int (bad, 0);
}

typedef struct {
  double box[4];
} GoldenBox;

static gchar *
golden_path (guint n)
{
  const gchar *srcdir = g_getenv ("AFFECT_TEST_SRCDIR");
  gchar *name = g_strdup_printf ("sample%u.json", n);
  gchar *path = g_build_filename (
      srcdir ? srcdir : "tests", "golden", "face-api", name, NULL);

  g_free (name);
  return path;
}

static gboolean
have_golden (guint n)
{
  gchar *path = golden_path (n);
  gchar *cache = affect_cache_dir ();
  gchar *name = g_strdup_printf ("sample%u.png", n);
  gchar *png = g_build_filename (cache, "test-inputs", name, NULL);
  gboolean ok = g_file_test (path, G_FILE_TEST_EXISTS)
                && g_file_test (png, G_FILE_TEST_EXISTS);

  g_free (png);
  g_free (name);
  g_free (cache);
  g_free (path);
  return ok;
}

/* The "tiny" or "ssd" list of tests/golden/face-api/sampleN.json. */
static GArray *
load_golden (guint n, const gchar *list)
{
  gchar *path = golden_path (n);
  JsonParser *parser = json_parser_new ();
  GError *err = NULL;
  GArray *boxes = g_array_new (FALSE, FALSE, sizeof (GoldenBox));
  JsonArray *arr;
  guint i, k;

  fail_unless (json_parser_load_from_file (parser, path, &err),
      "cannot read %s: %s", path, err ? err->message : "?");
  arr = json_object_get_array_member (
      json_node_get_object (json_parser_get_root (parser)), list);
  for (i = 0; i < json_array_get_length (arr); i++) {
    JsonArray *b = json_object_get_array_member (
        json_array_get_object_element (arr, i), "box");
    GoldenBox gb;
    for (k = 0; k < 4; k++)
      gb.box[k] = json_array_get_double_element (b, k);
    g_array_append_val (boxes, gb);
  }
  g_object_unref (parser);
  g_free (path);
  return boxes;
}

/* ------------------------------------------------------------------ */
/* Tests without models                                                */
/* ------------------------------------------------------------------ */

GST_START_TEST (test_caps_accept)
{
  GstElement *fc = gst_element_factory_make ("facecrop", NULL);
  GstPad *sink;
  guint i;

  fail_unless (fc != NULL);
  sink = gst_element_get_static_pad (fc, "sink");
  for (i = 0; i < G_N_ELEMENTS (formats); i++) {
    gchar *s = caps_str (formats[i], 321, 241);
    GstCaps *caps = gst_caps_from_string (s);

    fail_unless (gst_pad_query_accept_caps (sink, caps), "%s refused", s);
    gst_caps_unref (caps);
    g_free (s);
  }
  {
    static const gchar *const bad[]
        = { "GRAY8", "YUY2", "RGB16", "I420_10LE", "v210" };
    for (i = 0; i < G_N_ELEMENTS (bad); i++) {
      gchar *s = caps_str (bad[i], 320, 240);
      GstCaps *caps = gst_caps_from_string (s);

      fail_if (gst_pad_query_accept_caps (sink, caps), "%s accepted", s);
      gst_caps_unref (caps);
      g_free (s);
    }
  }
  gst_object_unref (sink);
  gst_object_unref (fc);
}

GST_END_TEST;

GST_START_TEST (test_properties)
{
  GstElement *fc = gst_element_factory_make ("facecrop", NULL);
  gint detector, output, crop_size, interval, max_faces, max_missed, track;
  gfloat threshold;
  gdouble margin;
  gchar *backend = NULL, *loc = NULL;

  g_object_get (fc, "detector", &detector, "threshold", &threshold,
      "detect-interval", &interval, "max-faces", &max_faces, "max-missed",
      &max_missed, "crop-size", &crop_size, "margin", &margin, "output",
      &output, "crop-track", &track, "backend", &backend, "model-location",
      &loc, NULL);
  fail_unless_equals_int (detector, 0); /* tiny */
  fail_unless_equals_float (threshold, 0.5f);
  fail_unless_equals_int (interval, 1);
  fail_unless_equals_int (max_faces, 8);
  fail_unless_equals_int (max_missed, 5);
  fail_unless_equals_int (crop_size, 224);
  fail_unless_equals_float (margin, 0.0);
  fail_unless_equals_int (output, 0);
  fail_unless_equals_int (track, -1);
  fail_unless_equals_string (backend, "auto");
  fail_unless (loc == NULL);
  g_free (backend);
  /* the crops are made on demand: off by default, switchable while
   * playing */
  {
    gboolean attach = TRUE;
    GParamSpec *pspec = g_object_class_find_property (
        G_OBJECT_GET_CLASS (fc), "attach-crops");

    g_object_get (fc, "attach-crops", &attach, NULL);
    fail_if (attach);
    fail_unless (pspec != NULL);
    fail_unless (pspec->flags & GST_PARAM_MUTABLE_PLAYING);
  }
  gst_object_unref (fc);
}

GST_END_TEST;

static void
expect_start_error (const gchar *props, const gchar *needle)
{
  GstElement *fc = gst_parse_launch (props, NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;
  gchar *dbg = NULL;

  fail_unless (fc != NULL);
  gst_element_set_bus (fc, bus);
  fail_unless_equals_int (
      gst_element_set_state (fc, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no error message on the bus");
  gst_message_parse_error (msg, &err, &dbg);
  GST_INFO ("error: %s (%s)", err->message, dbg);
  fail_unless (strstr (err->message, needle) || (dbg && strstr (dbg, needle)),
      "'%s' not in error '%s' / '%s'", needle, err->message, dbg);
  g_error_free (err);
  g_free (dbg);
  gst_message_unref (msg);
  gst_element_set_state (fc, GST_STATE_NULL);
  gst_element_set_bus (fc, NULL);
  gst_object_unref (bus);
  gst_object_unref (fc);
}

GST_START_TEST (test_missing_models)
{
  gchar *dir = g_dir_make_tmp ("facecrop-XXXXXX", NULL);
  gchar *launch = g_strdup_printf ("facecrop model-location=\"%s\"", dir);

  expect_start_error (launch, "affect-fetch-models");
  g_free (launch);
  launch = g_strdup_printf ("facecrop backend=nonsense");
  expect_start_error (launch, "nonsense");
  g_free (launch);
  g_rmdir (dir);
  g_free (dir);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* Tests with models                                                   */
/* ------------------------------------------------------------------ */

GST_START_TEST (test_no_face)
{
  static const gchar *const launches[]
      = { "facecrop", "facecrop detector=ssd" };
  guint i, f;

  if (!have_inputs ())
    return;
  for (i = 0; i < G_N_ELEMENTS (launches); i++) {
    for (f = 0; f < G_N_ELEMENTS (formats); f++) {
      GstHarness *h = new_harness (launches[i], formats[f], 160, 120);
      GstBuffer *in = make_grey (160, 120, formats[f]);
      GstBuffer *out = push_pull (h, in);

      fail_unless (out != NULL);
      fail_unless_equals_int (gst_buffer_get_n_affect_faces (out), 0);
      fail_unless_equals_int (count_face_rois (out), 0);
      /* the video is untouched */
      fail_unless_equals_int (
          gst_buffer_get_size (out), gst_buffer_get_size (in));
      {
        GstMapInfo a, b;
        fail_unless (gst_buffer_map (in, &a, GST_MAP_READ));
        fail_unless (gst_buffer_map (out, &b, GST_MAP_READ));
        fail_unless (memcmp (a.data, b.data, a.size) == 0);
        gst_buffer_unmap (out, &b);
        gst_buffer_unmap (in, &a);
      }
      gst_buffer_unref (out);
      gst_buffer_unref (in);
      gst_harness_teardown (h);
      if (under_valgrind ())
        break;
    }
  }
}

GST_END_TEST;

static void
check_golden (const gchar *detector, guint sample_n)
{
  Image img = affect_check_load_sample (sample_n);
  GArray *golden = load_golden (sample_n, detector);
  gchar *launch
      = g_strdup_printf ("facecrop detector=%s attach-crops=true", detector);
  GstHarness *h = new_harness (launch, "RGB", img.width, img.height);
  GstBuffer *in = make_buffer (&img, "RGB");
  GstBuffer *out = push_pull (h, in);
  GstAffectFaceMeta *f;
  gpointer state = NULL;
  guint i, matched = 0;

  fail_unless (golden->len > 0);
  fail_unless_equals_int (gst_buffer_get_n_affect_faces (out), golden->len);
  fail_unless_equals_int (count_face_rois (out), golden->len);
  while ((f = gst_buffer_iterate_affect_face_meta (out, &state))) {
    GstVideoRegionOfInterestMeta *roi;

    for (i = 0; i < golden->len; i++) {
      const double *g = g_array_index (golden, GoldenBox, i).box;
      if (fabs (f->x - g[0]) < 3 && fabs (f->y - g[1]) < 3
          && fabs (f->width - g[2]) < 3 && fabs (f->height - g[3]) < 3) {
        matched++;
        break;
      }
    }
    fail_unless (i < golden->len, "%s box %.1f,%.1f %.1fx%.1f not in golden",
        detector, f->x, f->y, f->width, f->height);
    fail_unless (f->score > 0.5f && f->score <= 1.0f);
    fail_unless (f->has_landmarks);
    /* landmarks lie around the box */
    for (i = 0; i < GST_AFFECT_N_LANDMARKS; i++) {
      fail_unless (f->landmarks[i][0] > f->x - 0.25 * f->width
                   && f->landmarks[i][0] < f->x + 1.25 * f->width);
      fail_unless (f->landmarks[i][1] > f->y - 0.25 * f->height
                   && f->landmarks[i][1] < f->y + 1.25 * f->height);
    }
    fail_unless_equals_int (f->crop_size, 224);
    fail_unless_equals_int (gst_buffer_get_size (f->crop), 224 * 224 * 3);
    check_crop (&img, f, 0.0);
    roi = gst_buffer_get_video_region_of_interest_meta_id (out, f->roi_id);
    fail_unless (roi != NULL);
    fail_unless (
        gst_video_region_of_interest_meta_get_param (roi, "affect-face"));
  }
  fail_unless_equals_int (matched, golden->len);

  gst_buffer_unref (out);
  gst_buffer_unref (in);
  gst_harness_teardown (h);
  g_free (launch);
  g_array_unref (golden);
  g_free (img.rgb);
}

GST_START_TEST (test_golden_tiny)
{
  guint n;

  if (!have_inputs ())
    return;
  check_golden ("tiny", 1);
  /* the other photos when their fixtures are there */
  for (n = 2; n <= 6 && !under_valgrind (); n++)
    if (have_golden (n))
      check_golden ("tiny", n);
}

GST_END_TEST;

GST_START_TEST (test_golden_ssd)
{
  guint n;

  if (!have_inputs ())
    return;
  check_golden ("ssd", 1);
  /* the other photos when their fixtures are there */
  for (n = 2; n <= 6 && !under_valgrind (); n++)
    if (have_golden (n))
      check_golden ("ssd", n);
}

GST_END_TEST;

/* sample1 at a third of its size on a 640 × 480 grey canvas. */
static Image
small_scene (void)
{
  Image big = affect_check_load_sample (1);
  Image img = shrink_into (&big, 3, 640, 480);

  g_free (big.rgb);
  return img;
}

/* Head pose: every face with landmarks gets the pose that
 * affect_head_pose_estimate() fits to its landmarks in the frame, mirrored
 * into the ROI's "affect-face" param; mirroring the photo turns yaw and
 * roll the other way. */
static void
check_pose (GstBuffer *out, gint width, gint height)
{
  GstAffectFaceMeta *f;
  gpointer state = NULL;
  guint n = 0;

  while ((f = gst_buffer_iterate_affect_face_meta (out, &state))) {
    AffectHeadPose pose;
    GstVideoRegionOfInterestMeta *roi;
    const GstStructure *s;
    gfloat v;

    fail_unless (f->has_landmarks);
    fail_unless (f->has_pose, "track %u has no pose", f->track_id);
    fail_unless (affect_head_pose_estimate (
        (const float (*)[2])f->landmarks, width, height, &pose));
    fail_unless_equals_float (f->yaw, pose.yaw);
    fail_unless_equals_float (f->pitch, pose.pitch);
    fail_unless_equals_float (f->roll, pose.roll);
    fail_unless (fabsf (f->yaw) < 90.0f && fabsf (f->pitch) < 90.0f
                 && fabsf (f->roll) < 90.0f);
    /* a face: the shape fits within a few percent of the face size */
    fail_unless (
        pose.rms_error < 0.05f * f->width, "fit error %.1f px", pose.rms_error);
    roi = gst_buffer_get_video_region_of_interest_meta_id (out, f->roi_id);
    s = gst_video_region_of_interest_meta_get_param (roi, "affect-face");
    fail_unless (gst_structure_get (s, "yaw", G_TYPE_FLOAT, &v, NULL));
    fail_unless_equals_float (v, f->yaw);
    fail_unless (gst_structure_get (s, "pitch", G_TYPE_FLOAT, &v, NULL));
    fail_unless_equals_float (v, f->pitch);
    fail_unless (gst_structure_get (s, "roll", G_TYPE_FLOAT, &v, NULL));
    fail_unless_equals_float (v, f->roll);
    n++;
  }
  fail_unless (n > 0);
}

static Image
mirror_image (const Image *src)
{
  Image dst = { g_malloc ((gsize)src->width * src->height * 3), src->width,
    src->height };
  gint x, y;

  for (y = 0; y < src->height; y++)
    for (x = 0; x < src->width; x++)
      memcpy (dst.rgb + 3 * ((gsize)y * src->width + x),
          src->rgb + 3 * ((gsize)y * src->width + (src->width - 1 - x)), 3);
  return dst;
}

GST_START_TEST (test_head_pose)
{
  Image img, mir;
  GstHarness *h;
  GstBuffer *in, *out, *min, *mout;
  GstAffectFaceMeta *f;
  gpointer state = NULL;
  guint turned = 0;

  if (!have_inputs ())
    return;
  img = small_scene ();
  mir = mirror_image (&img);
  h = new_harness ("facecrop", "RGB", img.width, img.height);
  in = make_buffer (&img, "RGB");
  out = push_pull (h, in);
  check_pose (out, img.width, img.height);
  gst_harness_teardown (h);

  h = new_harness ("facecrop", "RGB", mir.width, mir.height);
  min = make_buffer (&mir, "RGB");
  mout = push_pull (h, min);
  check_pose (mout, mir.width, mir.height);

  /* the same faces, mirrored: yaw and roll change sign (the landmark net
   * is not exactly mirror-symmetric: checked on the clearly turned or
   * tilted faces only) */
  fail_unless_equals_int (gst_buffer_get_n_affect_faces (mout),
      gst_buffer_get_n_affect_faces (out));
  while ((f = gst_buffer_iterate_affect_face_meta (out, &state))) {
    GstAffectFaceMeta *g, *best = NULL;
    gpointer st = NULL;
    gfloat cx = f->x + 0.5f * f->width, best_d = G_MAXFLOAT;

    while ((g = gst_buffer_iterate_affect_face_meta (mout, &st))) {
      gfloat d = fabsf ((img.width - (g->x + 0.5f * g->width)) - cx)
                 + fabsf (g->y - f->y);
      if (d < best_d) {
        best_d = d;
        best = g;
      }
    }
    fail_unless (best != NULL && best_d < 0.2f * f->width);
    if (fabsf (f->yaw) > 8.0f) {
      fail_unless (best->yaw * f->yaw < 0.0f, "yaw %.1f mirrored %.1f", f->yaw,
          best->yaw);
      turned++;
    }
    if (fabsf (f->roll) > 8.0f) {
      fail_unless (best->roll * f->roll < 0.0f, "roll %.1f mirrored %.1f",
          f->roll, best->roll);
      turned++;
    }
    fail_unless (fabsf (best->pitch - f->pitch) < 8.0f,
        "pitch %.1f mirrored %.1f", f->pitch, best->pitch);
  }
  fail_unless (turned > 0, "no turned or tilted face to check");

  gst_buffer_unref (mout);
  gst_buffer_unref (min);
  gst_buffer_unref (out);
  gst_buffer_unref (in);
  gst_harness_teardown (h);
  g_free (mir.rgb);
  g_free (img.rgb);
}

GST_END_TEST;

GST_START_TEST (test_tracking)
{
  Image img;
  GstHarness *h;
  GstBuffer *in, *out;
  GArray *first_ids = NULL;
  guint i;

  if (!have_inputs ())
    return;
  img = small_scene ();
  in = make_buffer (&img, "RGB");
  h = new_harness ("facecrop", "RGB", 640, 480);
  for (i = 0; i < 5; i++) {
    GArray *ids;

    out = push_pull (h, in);
    ids = track_ids (out);
    fail_unless (ids->len >= 2, "expected several faces, got %u", ids->len);
    assert_distinct (ids);
    if (first_ids == NULL)
      first_ids = ids;
    else {
      assert_same_ids (first_ids, ids);
      g_array_unref (ids);
    }
    gst_buffer_unref (out);
  }

  /* a flush ends the tracks; ids are not reused */
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  {
    GstSegment seg;
    gst_segment_init (&seg, GST_FORMAT_TIME);
    fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
  }
  out = push_pull (h, in);
  {
    GArray *ids = track_ids (out);
    fail_unless_equals_int (ids->len, first_ids->len);
    fail_unless (g_array_index (ids, guint, 0)
                 > g_array_index (first_ids, guint, first_ids->len - 1));
    g_array_unref (ids);
  }
  gst_buffer_unref (out);

  /* grey frames: the faces are gone; after max-missed frames they end and
   * come back with new ids */
  g_object_set (fc_of (h), "max-missed", 1, NULL);
  {
    GstBuffer *grey = make_grey (640, 480, "RGB");
    for (i = 0; i < 2; i++) {
      out = push_pull (h, grey);
      fail_unless_equals_int (gst_buffer_get_n_affect_faces (out), 0);
      gst_buffer_unref (out);
    }
    gst_buffer_unref (grey);
  }
  out = push_pull (h, in);
  {
    GArray *ids = track_ids (out);
    fail_unless_equals_int (ids->len, first_ids->len);
    fail_unless (g_array_index (ids, guint, 0)
                 > g_array_index (first_ids, guint, first_ids->len - 1)
                       + first_ids->len - 1);
    g_array_unref (ids);
  }
  gst_buffer_unref (out);

  /* EOS goes through */
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  {
    GstEvent *ev;
    gboolean eos = FALSE;
    while ((ev = gst_harness_try_pull_event (h))) {
      eos |= GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
      gst_event_unref (ev);
    }
    fail_unless (eos);
  }

  g_array_unref (first_ids);
  gst_buffer_unref (in);
  gst_harness_teardown (h);
  g_free (img.rgb);
}

GST_END_TEST;

/* Moving the scene a little between frames: detect-interval=3 follows the
 * faces with the landmark network and keeps the ids. */
GST_START_TEST (test_detect_interval)
{
  Image img, shifted;
  GstHarness *h;
  GArray *first_ids = NULL;
  guint i;
  gint y;

  if (!have_inputs ())
    return;
  img = small_scene ();
  shifted.width = img.width;
  shifted.height = img.height;
  shifted.rgb = g_malloc ((gsize)img.width * img.height * 3);
  h = new_harness (
      "facecrop detect-interval=3 attach-crops=true", "RGB", 640, 480);
  for (i = 0; i < 7; i++) {
    gint dx = 2 * i; /* pan right by 2 px per frame */
    GstBuffer *in, *out;
    GArray *ids;
    GstAffectFaceMeta *f;
    gpointer state = NULL;

    memset (shifted.rgb, 128, (gsize)img.width * img.height * 3);
    for (y = 0; y < img.height; y++)
      memcpy (shifted.rgb + ((gsize)y * img.width + dx) * 3,
          img.rgb + (gsize)y * img.width * 3, (gsize)(img.width - dx) * 3);
    in = make_buffer (&shifted, "RGB");
    out = push_pull (h, in);
    ids = track_ids (out);
    fail_unless (ids->len >= 2);
    assert_distinct (ids);
    while ((f = gst_buffer_iterate_affect_face_meta (out, &state))) {
      fail_unless (f->has_landmarks);
      fail_unless (f->crop != NULL);
    }
    if (first_ids == NULL)
      first_ids = ids;
    else {
      assert_same_ids (first_ids, ids);
      g_array_unref (ids);
    }
    gst_buffer_unref (out);
    gst_buffer_unref (in);
  }
  g_array_unref (first_ids);
  gst_harness_teardown (h);
  g_free (shifted.rgb);
  g_free (img.rgb);
}

GST_END_TEST;

GST_START_TEST (test_detector_none)
{
  Image img;
  GArray *golden;
  GstHarness *h;
  GstBuffer *in, *out;
  GstAffectFaceMeta *f;
  gpointer state = NULL;
  guint i, n = 0;

  if (!have_inputs ())
    return;
  img = affect_check_load_sample (1);
  golden = load_golden (1, "ssd");
  h = new_harness (
      "facecrop detector=none attach-crops=true", "RGB", img.width, img.height);
  in = make_buffer (&img, "RGB");
  for (i = 0; i < golden->len; i++) {
    const double *g = g_array_index (golden, GoldenBox, i).box;
    GstVideoRegionOfInterestMeta *roi
        = gst_buffer_add_video_region_of_interest_meta (
            in, "face", (guint)g[0], (guint)g[1], (guint)g[2], (guint)g[3]);
    roi->id = 0; /* an upstream element that does not number its ROIs */
  }
  /* a non-face ROI is left alone */
  gst_buffer_add_video_region_of_interest_meta (in, "person", 0, 0, 50, 50);

  out = push_pull (h, in);
  fail_unless_equals_int (gst_buffer_get_n_affect_faces (out), golden->len);
  fail_unless_equals_int (count_face_rois (out), golden->len);
  while ((f = gst_buffer_iterate_affect_face_meta (out, &state))) {
    GstVideoRegionOfInterestMeta *roi
        = gst_buffer_get_video_region_of_interest_meta_id (out, f->roi_id);
    fail_unless (roi != NULL);
    fail_unless_equals_int (roi->roi_type, g_quark_from_string ("face"));
    fail_unless_equals_float (f->x, (gfloat)roi->x);
    fail_unless_equals_float (f->width, (gfloat)roi->w);
    fail_unless_equals_float (f->score, 1.0f);
    fail_unless (f->has_landmarks);
    check_crop (&img, f, 0.0);
    n++;
  }
  fail_unless_equals_int (n, golden->len);
  gst_buffer_unref (out);

  /* next frame: same ROIs, same tracks */
  {
    GArray *a, *b;
    GstBuffer *in2 = gst_buffer_copy (in);

    out = push_pull (h, in);
    a = track_ids (out);
    gst_buffer_unref (out);
    out = push_pull (h, in2);
    b = track_ids (out);
    assert_same_ids (a, b);
    assert_distinct (a);
    g_array_unref (a);
    g_array_unref (b);
    gst_buffer_unref (out);
    gst_buffer_unref (in2);
  }

  gst_buffer_unref (in);
  gst_harness_teardown (h);
  g_array_unref (golden);
  g_free (img.rgb);
}

GST_END_TEST;

GST_START_TEST (test_output_crops)
{
  Image img;
  GstHarness *h;
  GstBuffer *in, *out, *grey;
  GstCaps *caps;
  GstStructure *s;
  gint w = 0, hh = 0, fn = 0, fd = 0;
  GstAffectFaceMeta *largest = NULL, *f;
  gpointer state = NULL;
  GstMapInfo a, b;
  guint y;

  if (!have_inputs ())
    return;
  img = small_scene ();
  h = new_harness (
      "facecrop output=crops crop-size=112 margin=0.1", "RGB", 640, 480);
  in = make_buffer (&img, "RGB");
  out = push_pull (h, in);

  caps = gst_pad_get_current_caps (h->sinkpad);
  fail_unless (caps != NULL);
  s = gst_caps_get_structure (caps, 0);
  fail_unless_equals_string (gst_structure_get_string (s, "format"), "RGB");
  fail_unless (gst_structure_get_int (s, "width", &w));
  fail_unless (gst_structure_get_int (s, "height", &hh));
  fail_unless (gst_structure_get_fraction (s, "framerate", &fn, &fd));
  fail_unless_equals_int (w, 112);
  fail_unless_equals_int (hh, 112);
  fail_unless_equals_int (fn, 25);
  fail_unless_equals_int (fd, 1);
  gst_caps_unref (caps);

  /* the metas travel with the crop; the frame is the largest face's crop */
  fail_unless (gst_buffer_get_n_affect_faces (out) >= 2);
  fail_if (GST_BUFFER_FLAG_IS_SET (out, GST_BUFFER_FLAG_GAP));
  while ((f = gst_buffer_iterate_affect_face_meta (out, &state))) {
    fail_unless_equals_int (f->crop_size, 112);
    check_crop (&img, f, 0.1);
    if (!largest || f->width * f->height > largest->width * largest->height)
      largest = f;
  }
  fail_unless (gst_buffer_map (largest->crop, &a, GST_MAP_READ));
  fail_unless (gst_buffer_map (out, &b, GST_MAP_READ));
  for (y = 0; y < 112; y++)
    fail_unless (memcmp (a.data + y * 336, b.data + y * 336, 336) == 0);
  gst_buffer_unmap (out, &b);
  gst_buffer_unmap (largest->crop, &a);
  gst_buffer_unref (out);

  /* no face: a black frame flagged GAP */
  grey = make_grey (640, 480, "RGB");
  out = push_pull (h, grey);
  fail_unless (GST_BUFFER_FLAG_IS_SET (out, GST_BUFFER_FLAG_GAP));
  fail_unless (gst_buffer_map (out, &b, GST_MAP_READ));
  for (y = 0; y < b.size; y++)
    fail_unless (b.data[y] == 0);
  gst_buffer_unmap (out, &b);
  gst_buffer_unref (out);
  gst_buffer_unref (grey);

  /* crop-track picks a given track (the smallest face here) */
  {
    GstBuffer *probe = push_pull (h, in);
    GstAffectFaceMeta *smallest = NULL;
    GstBuffer *crop;

    state = NULL;
    while ((f = gst_buffer_iterate_affect_face_meta (probe, &state)))
      if (!smallest
          || f->width * f->height < smallest->width * smallest->height)
        smallest = f;
    g_object_set (fc_of (h), "crop-track", (gint)smallest->track_id, NULL);
    out = push_pull (h, in);
    fail_if (GST_BUFFER_FLAG_IS_SET (out, GST_BUFFER_FLAG_GAP));
    crop = gst_buffer_get_affect_face_meta_by_track (out, smallest->track_id)
               ->crop;
    fail_unless (gst_buffer_map (crop, &a, GST_MAP_READ));
    fail_unless (gst_buffer_map (out, &b, GST_MAP_READ));
    for (y = 0; y < 112; y++)
      fail_unless (memcmp (a.data + y * 336, b.data + y * 336, 336) == 0);
    gst_buffer_unmap (out, &b);
    gst_buffer_unmap (crop, &a);
    gst_buffer_unref (out);
    gst_buffer_unref (probe);

    /* a track that does not exist: black */
    g_object_set (fc_of (h), "crop-track", 100000, NULL);
    out = push_pull (h, in);
    fail_unless (GST_BUFFER_FLAG_IS_SET (out, GST_BUFFER_FLAG_GAP));
    gst_buffer_unref (out);
  }

  gst_buffer_unref (in);
  gst_harness_teardown (h);
  g_free (img.rgb);
}

GST_END_TEST;

/* The same scene as 321 × 241 in every format gives the same number of
 * faces; and switching formats on a running element renegotiates. */
GST_START_TEST (test_odd_size_formats)
{
  Image big, img;
  GstHarness *h;
  GstBuffer *rgb_out = NULL;
  guint f, n_rgb = 0;

  if (!have_inputs ())
    return;
  big = affect_check_load_sample (1);
  img = shrink_into (&big, 6, 321, 241); /* 320 × 213 of picture */
  g_free (big.rgb);
  h = gst_harness_new_parse ("facecrop min-face-size=10 attach-crops=true");
  for (f = 0; f < G_N_ELEMENTS (formats); f++) {
    gchar *caps = caps_str (formats[f], 321, 241);
    GstBuffer *in = make_buffer (&img, formats[f]);
    GstBuffer *out;
    guint n;

    gst_harness_set_src_caps_str (h, caps);
    out = push_pull (h, in);
    n = gst_buffer_get_n_affect_faces (out);
    if (f == 0) {
      n_rgb = n;
      fail_unless (n_rgb >= 2, "only %u faces at 321x241", n_rgb);
      rgb_out = gst_buffer_ref (out);
    }
    fail_unless_equals_int (n, n_rgb);
    /* the networks saw the same RGB pixels: identical crops for the
     * packed formats; through 4:2:0 YUV the colours lose detail (the
     * RGB -> I420 -> RGB round trip alone differs by about 7 per channel on
     * average) and the landmarks move a little, so only a loose bound
     * (it catches swapped channels or a wrong matrix) */
    {
      GstAffectFaceMeta *fm, *ref;
      gpointer state = NULL;

      while ((fm = gst_buffer_iterate_affect_face_meta (out, &state))) {
        GstMapInfo a, b;
        gsize k;
        guint64 diff = 0;

        ref = gst_buffer_get_affect_face_meta_by_track (rgb_out, fm->track_id);
        fail_unless (ref != NULL, "%s: track %u not in the RGB run", formats[f],
            fm->track_id);
        fail_unless (gst_buffer_map (fm->crop, &a, GST_MAP_READ));
        fail_unless (gst_buffer_map (ref->crop, &b, GST_MAP_READ));
        fail_unless_equals_int (a.size, b.size);
        for (k = 0; k < a.size; k++)
          diff += ABS ((gint)a.data[k] - (gint)b.data[k]);
        gst_buffer_unmap (ref->crop, &b);
        gst_buffer_unmap (fm->crop, &a);
        if (f < 6)
          fail_unless (diff == 0, "%s: crop differs from RGB", formats[f]);
        else
          fail_unless ((double)diff / a.size < 16.0,
              "%s: mean crop difference %.2f", formats[f],
              (double)diff / a.size);
      }
    }
    gst_buffer_unref (out);
    gst_buffer_unref (in);
    g_free (caps);
  }

  gst_buffer_unref (rgb_out);

  /* tiny frames: no face, no trouble */
  {
    gchar *caps = caps_str ("I420", 7, 5);
    GstBuffer *in = make_grey (7, 5, "I420"), *out;

    gst_harness_set_src_caps_str (h, caps);
    out = push_pull (h, in);
    fail_unless_equals_int (gst_buffer_get_n_affect_faces (out), 0);
    gst_buffer_unref (out);
    gst_buffer_unref (in);
    g_free (caps);
  }
  gst_harness_teardown (h);
  g_free (img.rgb);
}

GST_END_TEST;

GST_START_TEST (test_max_faces)
{
  Image img;
  GstHarness *h;
  GstBuffer *in, *out;

  if (!have_inputs ())
    return;
  img = small_scene ();
  in = make_buffer (&img, "RGB");
  h = new_harness ("facecrop max-faces=1", "RGB", 640, 480);
  out = push_pull (h, in);
  fail_unless_equals_int (gst_buffer_get_n_affect_faces (out), 1);
  gst_buffer_unref (out);
  g_object_set (fc_of (h), "max-faces", 8, NULL);
  out = push_pull (h, in);
  fail_unless (gst_buffer_get_n_affect_faces (out) >= 2);
  gst_buffer_unref (out);
  /* a huge minimum size removes every face */
  g_object_set (fc_of (h), "min-face-size", 1000, NULL);
  out = push_pull (h, in);
  fail_unless_equals_int (gst_buffer_get_n_affect_faces (out), 0);
  gst_buffer_unref (out);
  gst_buffer_unref (in);
  gst_harness_teardown (h);
  g_free (img.rgb);
}

GST_END_TEST;

static gpointer
poke_properties (gpointer data)
{
  GstElement *fc = data;
  guint i;

  for (i = 0; i < 200; i++) {
    g_object_set (fc, "threshold", (i % 2) ? 0.3f : 0.9f, "detect-interval",
        1 + i % 3, "max-faces", 1 + i % 8, "margin", (i % 4) * 0.1,
        "crop-track", (gint)(i % 3) - 1, "min-face-size", i % 40, NULL);
    if (i % 50 == 25)
      g_object_set (fc, "detector", (i % 100 == 25) ? 1 : 0, NULL);
    g_usleep (2000);
  }
  return NULL;
}

GST_START_TEST (test_properties_while_playing)
{
  Image img;
  GstHarness *h;
  GstBuffer *in;
  GThread *thread;
  guint i;

  if (!have_inputs ())
    return;
  img = small_scene ();
  in = make_buffer (&img, "RGB");
  h = new_harness ("facecrop", "RGB", 640, 480);
  thread = g_thread_new ("poke", poke_properties, fc_of (h));
  for (i = 0; i < (under_valgrind () ? 3 : 12); i++) {
    GstBuffer *out = push_pull (h, in);
    fail_unless (gst_buffer_get_n_affect_faces (out) <= 8);
    gst_buffer_unref (out);
  }
  g_thread_join (thread);
  gst_buffer_unref (in);
  gst_harness_teardown (h);
  g_free (img.rgb);
}

GST_END_TEST;

/* Counts the face metas of @buf that carry a crop; checks each such crop
 * against @img. */
static guint
count_crops (GstBuffer *buf, const Image *img, guint size)
{
  GstAffectFaceMeta *f;
  gpointer state = NULL;
  guint n = 0;

  while ((f = gst_buffer_iterate_affect_face_meta (buf, &state))) {
    if (f->crop == NULL) {
      fail_unless_equals_int (f->crop_size, 0);
      continue;
    }
    fail_unless_equals_int (f->crop_size, size);
    check_crop (img, f, 0.0);
    n++;
  }
  return n;
}

/* The aligned crops are made only when something reads them: not by
 * default, for every face with attach-crops (also switched while playing),
 * and for every face with output=crops, with the same pixels. */
GST_START_TEST (test_attach_crops)
{
  Image img;
  GstHarness *h, *hc;
  GstBuffer *in, *out, *crops_out;
  GstAffectFaceMeta *f;
  gpointer state = NULL;
  guint n_faces;

  if (!have_inputs ())
    return;
  img = small_scene ();
  in = make_buffer (&img, "RGB");

  /* default: faces and landmarks, no crop */
  h = new_harness ("facecrop", "RGB", 640, 480);
  out = push_pull (h, in);
  n_faces = gst_buffer_get_n_affect_faces (out);
  fail_unless (n_faces >= 2, "expected several faces, got %u", n_faces);
  fail_unless_equals_int (count_crops (out, &img, 224), 0);
  while ((f = gst_buffer_iterate_affect_face_meta (out, &state)))
    fail_unless (f->has_landmarks);
  gst_buffer_unref (out);

  /* asked for while playing: every face from the next frame on */
  g_object_set (fc_of (h), "attach-crops", TRUE, NULL);
  out = push_pull (h, in);
  fail_unless_equals_int (gst_buffer_get_n_affect_faces (out), n_faces);
  fail_unless_equals_int (count_crops (out, &img, 224), n_faces);
  gst_buffer_unref (out);
  gst_harness_teardown (h);

  /* output=crops: crops on every face too, the same pixels as asked for
   * with attach-crops (fresh elements: the same track ids) */
  h = new_harness ("facecrop attach-crops=true", "RGB", 640, 480);
  out = push_pull (h, in);
  hc = new_harness ("facecrop output=crops", "RGB", 640, 480);
  crops_out = push_pull (hc, in);
  fail_unless_equals_int (count_crops (crops_out, &img, 224), n_faces);
  state = NULL;
  while ((f = gst_buffer_iterate_affect_face_meta (out, &state))) {
    GstAffectFaceMeta *g
        = gst_buffer_get_affect_face_meta_by_track (crops_out, f->track_id);
    GstMapInfo a, b;

    fail_unless (g != NULL && g->crop != NULL && f->crop != NULL);
    fail_unless (gst_buffer_map (f->crop, &a, GST_MAP_READ));
    fail_unless (gst_buffer_map (g->crop, &b, GST_MAP_READ));
    fail_unless_equals_int (a.size, b.size);
    fail_unless (memcmp (a.data, b.data, a.size) == 0, "track %u: crops differ",
        f->track_id);
    gst_buffer_unmap (g->crop, &b);
    gst_buffer_unmap (f->crop, &a);
  }
  gst_buffer_unref (crops_out);
  gst_harness_teardown (hc);

  /* and off again while playing */
  gst_buffer_unref (out);
  g_object_set (fc_of (h), "attach-crops", FALSE, NULL);
  out = push_pull (h, in);
  fail_unless_equals_int (gst_buffer_get_n_affect_faces (out), n_faces);
  fail_unless_equals_int (count_crops (out, &img, 224), 0);
  gst_buffer_unref (out);

  gst_buffer_unref (in);
  gst_harness_teardown (h);
  g_free (img.rgb);
}

GST_END_TEST;

/* n-threads may change while playing (as in affectfeatures and
 * affectfuse): the next frame runs with the new count and gives the same
 * faces and landmarks. */
GST_START_TEST (test_n_threads_while_playing)
{
  static const gint steps[] = { 1, 2, 0, 1 };
  Image img;
  GstHarness *h;
  GstBuffer *in, *ref = NULL;
  guint s;

  if (!have_inputs ())
    return;
  img = small_scene ();
  in = make_buffer (&img, "RGB");
  h = new_harness ("facecrop n-threads=1", "RGB", 640, 480);
  for (s = 0; s < G_N_ELEMENTS (steps); s++) {
    GstBuffer *out;
    gint got = -1;

    g_object_set (fc_of (h), "n-threads", steps[s], NULL);
    g_object_get (fc_of (h), "n-threads", &got, NULL);
    fail_unless_equals_int (got, steps[s]);
    out = push_pull (h, in);
    if (ref == NULL) {
      ref = out;
      fail_unless (gst_buffer_get_n_affect_faces (ref) >= 2);
      continue;
    }
    fail_unless (gst_buffer_get_n_affect_faces (out)
                 == gst_buffer_get_n_affect_faces (ref));
    {
      GstAffectFaceMeta *f;
      gpointer state = NULL;

      while ((f = gst_buffer_iterate_affect_face_meta (out, &state))) {
        GstAffectFaceMeta *g
            = gst_buffer_get_affect_face_meta_by_track (ref, f->track_id);

        fail_unless (g != NULL, "step %u: track %u is new", s, f->track_id);
        fail_unless_equals_float (f->x, g->x);
        fail_unless_equals_float (f->width, g->width);
        fail_unless (
            memcmp (f->landmarks, g->landmarks, sizeof (f->landmarks)) == 0,
            "step %u (n-threads %d): landmarks of track %u differ", s, steps[s],
            f->track_id);
      }
    }
    gst_buffer_unref (out);
  }
  gst_buffer_unref (ref);
  gst_buffer_unref (in);
  gst_harness_teardown (h);
  g_free (img.rgb);
}

GST_END_TEST;

static Suite *
facecrop_suite (void)
{
  Suite *s = suite_create ("facecrop");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, under_valgrind () ? 3000 : 300);
  tcase_add_test (tc, test_caps_accept);
  tcase_add_test (tc, test_properties);
  tcase_add_test (tc, test_missing_models);
  tcase_add_test (tc, test_no_face);
  tcase_add_test (tc, test_golden_tiny);
  tcase_add_test (tc, test_golden_ssd);
  tcase_add_test (tc, test_head_pose);
  tcase_add_test (tc, test_tracking);
  tcase_add_test (tc, test_detect_interval);
  tcase_add_test (tc, test_detector_none);
  tcase_add_test (tc, test_output_crops);
  tcase_add_test (tc, test_odd_size_formats);
  tcase_add_test (tc, test_max_faces);
  tcase_add_test (tc, test_properties_while_playing);
  tcase_add_test (tc, test_attach_crops);
  tcase_add_test (tc, test_n_threads_while_playing);
  return s;
}

GST_CHECK_MAIN (facecrop);
