/* gst-affect — tests/models
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The affect-plot command (models/tools/affect-plot.c), on generated
 * affectsink JSON Lines:
 *  - one track with expressions, AUs and valence/arousal: a PNG and an SVG
 *    of the size it reports, the colours of the parts in the PNG;
 *  - ten tracks, some without AUs or VA: a taller figure, the ten track
 *    colours; --tracks keeps only the listed ones;
 *  - expressions only: no heat map, no VA lines, a smaller figure;
 *  - the same data as flat records (one face per line, as affectsink
 *    tidy=true writes them): the same picture;
 *  - malformed files and command lines: a message naming the file and line,
 *    and a non-zero exit status.
 *
 * Usage: test-models-plot PATH-TO-affect-plot
 * (exit 77 = skipped when no path is given).
 */

#include <cairo.h>
#include <check.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test-tools.h"

static const gchar *tool_path = NULL;
static gchar *tmp_dir = NULL;

static const gchar *const expr_labels[7] = { "Neutral", "Anger", "Disgust",
  "Fear", "Happiness", "Sadness", "Surprise" };
static const gchar *const au_labels[12] = { "AU1", "AU2", "AU4", "AU6", "AU7",
  "AU10", "AU12", "AU15", "AU23", "AU24", "AU25", "AU26" };

/* Colours the tool draws with (models/tools/affect-plot.c). */
#define TRACK_GREEN 0x2ecc71 /* track 1 */
#define HAPPINESS 0xfbc02d
#define HEAT_LOW 0x141a33  /* activation 0 */
#define HEAT_HIGH 0xffe34d /* activation 1 */
#define VALENCE 0xd35400
static const guint32 palette[10] = { 0x2ecc71, 0x3d9df2, 0xff9f1a, 0xff5cb0,
  0xf2dc1d, 0xa77bff, 0x1fd8e6, 0xff4d4d, 0xa8e61d, 0x9a9a9a };

/* ---- generated inputs ------------------------------------------------- */

typedef enum {
  PART_EXPR = 1 << 0,
  PART_AU = 1 << 1,
  PART_VA = 1 << 2,
} Parts;

static void
append_number (GString *s, gdouble v)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append (s, g_ascii_formatd (buf, sizeof (buf), "%.6g", v));
}

/* The predictions of track @id at frame @f: smooth waves, the AUs going
 * from 0 to 1, the expression turning happy in the second half. */
static void
values (guint id, guint f, gdouble e[7], gdouble au[12], gdouble va[2])
{
  gdouble sum = 0;
  guint k;

  for (k = 0; k < 7; k++) {
    e[k] = 0.05 + 0.05 * (1 + sin (0.1 * f + k + id));
    if (k == 4 && f >= 45)
      e[k] += 2.0;
    sum += e[k];
  }
  for (k = 0; k < 7; k++)
    e[k] /= sum;
  for (k = 0; k < 12; k++)
    au[k] = (k % 2 == 0) ? (f < 30 ? 0.0 : 1.0) : 0.5 + 0.5 * sin (0.2 * f + k);
  va[0] = 0.8 * sin (0.05 * f + id);
  va[1] = 0.6 * cos (0.07 * f + id);
}

static void
append_labelled (
    GString *s, const gchar *const *labels, const gdouble *v, guint n)
{
  guint k;

  g_string_append (s, "{\"labels\":[");
  for (k = 0; k < n; k++)
    g_string_append_printf (s, "%s\"%s\"", k ? "," : "", labels[k]);
  g_string_append (s, "],\"probs\":[");
  for (k = 0; k < n; k++) {
    if (k)
      g_string_append_c (s, ',');
    append_number (s, v[k]);
  }
  g_string_append (s, "]}");
}

/* A file of affectsink records: @n_frames frames at 30 fps, tracks @ids
 * (track i has the parts parts[i]). Returns its path. */
static gchar *
write_frames (const gchar *name, guint n_frames, const guint *ids,
    const Parts *parts, guint n_tracks)
{
  GString *s = g_string_new (NULL);
  gchar *path = g_build_filename (tmp_dir, name, NULL);
  guint f, i;

  for (f = 0; f < n_frames; f++) {
    g_string_append_printf (s,
        "{\"schema\":1,\"pts\":%" G_GUINT64_FORMAT ",\"frame\":%u,\"faces\":[",
        (guint64)f * 1000000000 / 30, f);
    for (i = 0; i < n_tracks; i++) {
      gdouble e[7], au[12], va[2];

      values (ids[i], f, e, au, va);
      g_string_append_printf (s,
          "%s{\"id\":%u,\"box\":[10,20,30,40],\"score\":0.9", i ? "," : "",
          ids[i]);
      if (parts[i] & PART_EXPR) {
        g_string_append (s, ",\"expression\":");
        append_labelled (s, expr_labels, e, 7);
      }
      if (parts[i] & PART_AU) {
        g_string_append (s, ",\"au\":");
        append_labelled (s, au_labels, au, 12);
      }
      if (parts[i] & PART_VA) {
        g_string_append (s, ",\"va\":[");
        append_number (s, va[0]);
        g_string_append_c (s, ',');
        append_number (s, va[1]);
        g_string_append_c (s, ']');
      }
      g_string_append_c (s, '}');
    }
    g_string_append (s, "]}\n");
  }
  ck_assert (g_file_set_contents (path, s->str, s->len, NULL));
  g_string_free (s, TRUE);
  return path;
}

/* The same as flat records (affectsink tidy=true): one face per line, the
 * time in seconds, expr_<label>, AU<n>, valence and arousal as numbers,
 * the box and landmarks as x, y, w, h, x_<i>, y_<i>. */
static gchar *
write_flat (const gchar *name, guint n_frames, guint id)
{
  GString *s = g_string_new (NULL);
  gchar *path = g_build_filename (tmp_dir, name, NULL);
  guint f, k;

  for (f = 0; f < n_frames; f++) {
    gdouble e[7], au[12], va[2];
    gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

    values (id, f, e, au, va);
    /* as affectsink tidy=true writes them (the time in seconds as
     * "timestamp"; here every other line as "time", which is read too),
     * the seconds being those the tool makes of write_frames()'s pts */
    g_string_append_printf (s, "{\"frame\":%u,\"%s\":%s", f,
        f % 2 ? "time" : "timestamp",
        g_ascii_formatd (buf, sizeof (buf), "%.17g",
            (gdouble)((guint64)f * 1000000000 / 30) / 1e9));
    g_string_append_printf (s,
        ",\"id\":%u,\"success\":1,\"x\":10,\"y\":20,\"w\":30,\"h\":40,"
        "\"score\":0.9,\"expression\":\"Happiness\"",
        id);
    for (k = 0; k < 7; k++) {
      g_string_append_printf (s, ",\"expr_%s\":", expr_labels[k]);
      append_number (s, e[k]);
    }
    g_string_append (s, ",\"expr_index\":4");
    for (k = 0; k < 12; k++) {
      g_string_append_printf (s, ",\"%s\":", au_labels[k]);
      append_number (s, au[k]);
    }
    g_string_append (s, ",\"valence\":");
    append_number (s, va[0]);
    g_string_append (s, ",\"arousal\":");
    append_number (s, va[1]);
    for (k = 0; k < 68; k++)
      g_string_append_printf (s, ",\"x_%u\":%u", k, 10 + k % 30);
    for (k = 0; k < 68; k++)
      g_string_append_printf (s, ",\"y_%u\":%u", k, 20 + k % 40);
    g_string_append (s, "}\n");
  }
  ck_assert (g_file_set_contents (path, s->str, s->len, NULL));
  g_string_free (s, TRUE);
  return path;
}

/* ---- running the tool and reading its output -------------------------- */

/* Runs affect-plot @in -o @out with @extra arguments (NULL-terminated);
 * returns its exit status and its stderr in *@err (nullable). */
static int
plot (const gchar *in, const gchar *out, const gchar *const *extra, gchar **err)
{
  const gchar *args[16];
  guint n = 0;
  gchar *o = NULL, *e = NULL;
  int rc;

  if (in)
    args[n++] = in;
  if (out) {
    args[n++] = "-o";
    args[n++] = out;
  }
  for (; extra && *extra && n < G_N_ELEMENTS (args) - 1; extra++)
    args[n++] = *extra;
  args[n] = NULL;
  rc = affect_test_run_tool (tool_path, args, &o, &e);
  if (rc == 0)
    ck_assert_msg (strstr (o, "wrote") != NULL, "stdout: %s", o);
  if (err)
    *err = e;
  else
    g_free (e);
  g_free (o);
  return rc;
}

static cairo_surface_t *
read_png (const gchar *path)
{
  cairo_surface_t *s = cairo_image_surface_create_from_png (path);

  ck_assert_msg (
      cairo_surface_status (s) == CAIRO_STATUS_SUCCESS, "%s: not a PNG", path);
  return s;
}

/* Number of pixels of exactly @rgb. */
static guint
count_color (cairo_surface_t *s, guint32 rgb)
{
  gint w = cairo_image_surface_get_width (s);
  gint h = cairo_image_surface_get_height (s);
  gint stride = cairo_image_surface_get_stride (s), x, y;
  const guint8 *data;
  guint n = 0;

  cairo_surface_flush (s);
  data = cairo_image_surface_get_data (s);
  for (y = 0; y < h; y++)
    for (x = 0; x < w; x++)
      n += (*(const guint32 *)(data + (gsize)y * stride + 4 * x) & 0xffffff)
           == rgb;
  return n;
}

/* Numbers of pixels of exactly each of the @n colours @rgb, in one pass. */
static void
count_colors (cairo_surface_t *s, const guint32 *rgb, guint n, guint *counts)
{
  gint w = cairo_image_surface_get_width (s);
  gint h = cairo_image_surface_get_height (s);
  gint stride = cairo_image_surface_get_stride (s), x, y;
  const guint8 *data;
  guint k;

  memset (counts, 0, n * sizeof (guint));
  cairo_surface_flush (s);
  data = cairo_image_surface_get_data (s);
  for (y = 0; y < h; y++)
    for (x = 0; x < w; x++) {
      guint32 v
          = *(const guint32 *)(data + (gsize)y * stride + 4 * x) & 0xffffff;

      for (k = 0; k < n; k++)
        if (v == rgb[k])
          counts[k]++;
    }
}

/* Number of pixels within @tol (per channel) of @rgb. */
static guint
count_near (cairo_surface_t *s, guint32 rgb, gint tol)
{
  gint w = cairo_image_surface_get_width (s);
  gint h = cairo_image_surface_get_height (s);
  gint stride = cairo_image_surface_get_stride (s), x, y;
  const guint8 *data;
  guint n = 0;

  cairo_surface_flush (s);
  data = cairo_image_surface_get_data (s);
  for (y = 0; y < h; y++)
    for (x = 0; x < w; x++) {
      guint32 v = *(const guint32 *)(data + (gsize)y * stride + 4 * x);
      gint sh, ok = 1;

      for (sh = 0; sh <= 16; sh += 8)
        ok &= abs ((gint)((v >> sh) & 0xff) - (gint)((rgb >> sh) & 0xff))
              <= tol;
      n += ok;
    }
  return n;
}

/* The width and height of an SVG written by the tool (cairo, px units). */
static void
svg_size (const gchar *path, gint *w, gint *h)
{
  gchar *text = NULL, *p;

  ck_assert (g_file_get_contents (path, &text, NULL, NULL));
  p = strstr (text, "<svg");
  ck_assert_msg (p != NULL, "%s: no <svg> element", path);
  p = strstr (p, "width=\"");
  ck_assert (p != NULL);
  *w = atoi (p + 7);
  ck_assert (strncmp (p + 7 + strspn (p + 7, "0123456789."), "px", 2) == 0);
  p = strstr (p, "height=\"");
  ck_assert (p != NULL);
  *h = atoi (p + 8);
  g_free (text);
}

static gchar *
out_path (const gchar *name)
{
  return g_build_filename (tmp_dir, name, NULL);
}

/* ---- tests ------------------------------------------------------------ */

static gint
one_track (void)
{
  static const guint ids[1] = { 1 };
  static const Parts parts[1] = { PART_EXPR | PART_AU | PART_VA };
  static const gchar *const width[] = { "--width", "1200", NULL };
  gchar *in = write_frames ("one.jsonl", 90, ids, parts, 1);
  gchar *png = out_path ("one.png");
  cairo_surface_t *s;
  gint h;

  ck_assert_int_eq (plot (in, png, width, NULL), 0);
  s = read_png (png);
  h = cairo_image_surface_get_height (s);
  cairo_surface_destroy (s);
  g_free (in);
  g_free (png);
  return h;
}

/* One track with every part: PNG and SVG of the same size, the width asked
 * for; the track colour, the expression areas, both ends of the heat map
 * and the valence line are drawn. */
START_TEST (test_one_track)
{
  static const guint ids[1] = { 1 };
  static const Parts parts[1] = { PART_EXPR | PART_AU | PART_VA };
  static const gchar *const width[] = { "--width", "1200", NULL };
  gchar *in = write_frames ("one.jsonl", 90, ids, parts, 1);
  gchar *png = out_path ("one.png"), *svg = out_path ("one.svg");
  cairo_surface_t *s;
  gint w, h, sw, sh;

  ck_assert_int_eq (plot (in, png, width, NULL), 0);
  s = read_png (png);
  w = cairo_image_surface_get_width (s);
  h = cairo_image_surface_get_height (s);
  ck_assert_int_eq (w, 1200);
  ck_assert_int_gt (h, 400);
  ck_assert_int_gt (count_color (s, TRACK_GREEN), 100);
  ck_assert_int_gt (count_color (s, HAPPINESS), 5000);
  ck_assert_int_gt (count_color (s, HEAT_LOW), 1000);
  ck_assert_int_gt (count_color (s, HEAT_HIGH), 1000);
  ck_assert_int_gt (count_near (s, VALENCE, 40), 100);
  cairo_surface_destroy (s);

  ck_assert_int_eq (plot (in, svg, width, NULL), 0);
  svg_size (svg, &sw, &sh);
  ck_assert_int_eq (sw, w);
  ck_assert_int_eq (sh, h);

  g_free (in);
  g_free (png);
  g_free (svg);
}
END_TEST

/* Ten tracks with arbitrary ids, some without AUs or VA, one missing for a
 * while: a taller figure with the ten track colours; --tracks keeps two. */
START_TEST (test_ten_tracks)
{
  static const guint ids[10] = { 3, 7, 12, 13, 20, 21, 22, 40, 41, 99 };
  Parts parts[10];
  static const gchar *const only[] = { "--tracks", "7, 40", NULL };
  gchar *in, *png = out_path ("ten.png"), *svg = out_path ("ten.svg");
  cairo_surface_t *s;
  gint h1 = one_track (), h, h2, sw, sh;
  guint i, counts[10];

  for (i = 0; i < 10; i++)
    parts[i] = PART_EXPR | (i % 3 ? PART_AU : 0) | (i % 4 ? PART_VA : 0);
  in = write_frames ("ten.jsonl", 90, ids, parts, 10);
  ck_assert_int_eq (plot (in, png, NULL, NULL), 0);
  s = read_png (png);
  h = cairo_image_surface_get_height (s);
  ck_assert_int_eq (cairo_image_surface_get_width (s), 1400);
  ck_assert_int_gt (h, 5 * h1);
  count_colors (s, palette, 10, counts);
  for (i = 0; i < 10; i++)
    ck_assert_msg (counts[i] >= 144, "track colour %u (0x%06x): %u pixels", i,
        palette[i], counts[i]);
  cairo_surface_destroy (s);

  ck_assert_int_eq (plot (in, svg, NULL, NULL), 0);
  svg_size (svg, &sw, &sh);
  ck_assert_int_eq (sw, 1400);
  ck_assert_int_eq (sh, h);

  ck_assert_int_eq (plot (in, png, only, NULL), 0);
  s = read_png (png);
  h2 = cairo_image_surface_get_height (s);
  ck_assert_int_lt (h2, h / 3);
  /* tracks 7 and 40 have ids 7 and 40: their own colours (6 and 9 mod 10 =
   * indices 6 and 9); others are absent */
  count_colors (s, palette, 10, counts);
  ck_assert_int_ge (counts[6], 144);
  ck_assert_int_ge (counts[9], 144);
  for (i = 0; i < 10; i++)
    if (i != 6 && i != 9)
      ck_assert_int_eq (counts[i], 0);
  cairo_surface_destroy (s);

  g_free (in);
  g_free (png);
  g_free (svg);
}
END_TEST

/* Expressions only: no heat map, no valence line, a smaller figure. */
START_TEST (test_expression_only)
{
  static const guint ids[2] = { 1, 2 };
  static const Parts parts[2] = { PART_EXPR, PART_EXPR };
  gchar *in = write_frames ("expr.jsonl", 60, ids, parts, 2);
  gchar *png = out_path ("expr.png");
  cairo_surface_t *s;

  ck_assert_int_eq (plot (in, png, NULL, NULL), 0);
  s = read_png (png);
  ck_assert_int_gt (count_color (s, HAPPINESS), 1000);
  ck_assert_int_eq (count_color (s, HEAT_LOW), 0);
  ck_assert_int_eq (count_color (s, HEAT_HIGH), 0);
  ck_assert_int_eq (count_near (s, VALENCE, 40), 0);
  /* two tracks with one part each take less room than one with three */
  ck_assert_int_lt (cairo_image_surface_get_height (s), one_track ());
  cairo_surface_destroy (s);
  g_free (in);
  g_free (png);
}
END_TEST

/* Flat records (one face per line: "timestamp" or "time", expr_<label>,
 * AU<n>, valence, arousal, and keys that are not plotted) give the same
 * picture as the same data in frame records. */
START_TEST (test_flat_records)
{
  static const guint ids[1] = { 5 };
  static const Parts parts[1] = { PART_EXPR | PART_AU | PART_VA };
  static const gchar *const title[] = { "--title", "same", NULL };
  gchar *frames = write_frames ("nested.jsonl", 90, ids, parts, 1);
  gchar *flat = write_flat ("flat.jsonl", 90, 5);
  gchar *a = out_path ("nested.png"), *b = out_path ("flat.png");
  cairo_surface_t *sa, *sb;
  gint h, y, stride;

  ck_assert_int_eq (plot (frames, a, title, NULL), 0);
  ck_assert_int_eq (plot (flat, b, title, NULL), 0);
  sa = read_png (a);
  sb = read_png (b);
  h = cairo_image_surface_get_height (sa);
  ck_assert_int_eq (cairo_image_surface_get_height (sb), h);
  ck_assert_int_eq (
      cairo_image_surface_get_width (sb), cairo_image_surface_get_width (sa));
  stride = cairo_image_surface_get_stride (sa);
  ck_assert_int_eq (cairo_image_surface_get_stride (sb), stride);
  for (y = 0; y < h; y++)
    ck_assert_msg (memcmp (cairo_image_surface_get_data (sa) + y * stride,
                       cairo_image_surface_get_data (sb) + y * stride, stride)
                       == 0,
        "row %d differs", y);
  ck_assert_int_gt (count_color (sb, HEAT_HIGH), 1000);
  cairo_surface_destroy (sa);
  cairo_surface_destroy (sb);
  g_free (frames);
  g_free (flat);
  g_free (a);
  g_free (b);
}
END_TEST

/* Malformed files: exit status 1 and a message with the file and line. */
static const struct {
  const gchar *content;
  const gchar *message;
} bad_files[] = {
  { "{\"pts\":0,\"faces\":[]}\n{\"pts\":1,\"faces\":[{\"id\":1,"
    "\"va\":[0.1,0.2]}]}\n{\"pts\":2,\"faces\":[{\"id\":1,\"va\":[0.1,\n",
      ":3:" },
  { "{\"pts\":0,\"faces\":{}}\n", ":1: \"faces\" is not an array" },
  { "[1,2,3]\n", ":1: not a JSON object" },
  { "{\"faces\":[]}\n", ":1: no time" },
  { "{\"pts\":0,\"faces\":[{\"va\":[0,0]}]}\n", ":1: a face without" },
  { "{\"pts\":0,\"faces\":[{\"id\":1,\"expression\":{\"labels\":[\"a\"],"
    "\"probs\":[0.5,0.5]}}]}\n",
      "1 labels but 2 probabilities" },
  { "{\"pts\":0,\"faces\":[{\"id\":1,\"va\":[0.5]}]}\n",
      "\"va\" is not a [v, a] pair" },
  { "{\"pts\":0,\"faces\":[{\"id\":1,\"au\":{\"labels\":[\"AU1\"],"
    "\"probs\":[\"x\"]}}]}\n",
      "is not a number" },
  /* faces, but nothing to plot */
  { "{\"pts\":0,\"faces\":[{\"id\":1,\"box\":[1,2,3,4]}]}\n",
      "nothing to plot" },
  { "", "nothing to plot" },
};

START_TEST (test_malformed)
{
  gchar *in = out_path ("bad.jsonl"), *png = out_path ("bad.png"), *err = NULL;

  g_unlink (png);
  ck_assert (g_file_set_contents (in, bad_files[_i].content, -1, NULL));
  ck_assert_int_eq (plot (in, png, NULL, &err), 1);
  ck_assert_msg (strstr (err, "bad.jsonl") != NULL, "stderr: %s", err);
  ck_assert_msg (strstr (err, bad_files[_i].message) != NULL,
      "case %d: stderr \"%s\" lacks \"%s\"", _i, err, bad_files[_i].message);
  ck_assert (!g_file_test (png, G_FILE_TEST_EXISTS));
  g_free (err);
  g_free (in);
  g_free (png);
}
END_TEST

/* Bad command lines: exit status 2; a missing input: 1. */
START_TEST (test_bad_usage)
{
  static const guint ids[1] = { 1 };
  static const Parts parts[1] = { PART_VA };
  static const gchar *const narrow[] = { "--width", "100", NULL };
  static const gchar *const bad_tracks[] = { "--tracks", "1,x", NULL };
  gchar *in = write_frames ("ok.jsonl", 10, ids, parts, 1);
  gchar *png = out_path ("x.png"), *pdf = out_path ("x.pdf");
  gchar *missing = out_path ("missing.jsonl"), *err = NULL;

  ck_assert_int_eq (plot (in, NULL, NULL, NULL), 2);
  ck_assert_int_eq (plot (in, pdf, NULL, &err), 2);
  ck_assert (strstr (err, ".png or .svg") != NULL);
  g_free (err);
  ck_assert_int_eq (plot (in, png, narrow, NULL), 2);
  ck_assert_int_eq (plot (in, png, bad_tracks, NULL), 2);
  ck_assert_int_eq (plot (missing, png, NULL, &err), 1);
  ck_assert (strstr (err, "missing.jsonl") != NULL);
  g_free (err);
  /* and the good one works */
  ck_assert_int_eq (plot (in, png, NULL, NULL), 0);

  g_free (in);
  g_free (png);
  g_free (pdf);
  g_free (missing);
}
END_TEST

static Suite *
plot_suite (void)
{
  Suite *s = suite_create ("affect-plot");
  TCase *tc = tcase_create ("plots");

  tcase_set_timeout (tc, 300);
  tcase_add_test (tc, test_one_track);
  tcase_add_test (tc, test_ten_tracks);
  tcase_add_test (tc, test_expression_only);
  tcase_add_test (tc, test_flat_records);
  suite_add_tcase (s, tc);

  tc = tcase_create ("errors");
  tcase_set_timeout (tc, 300);
  tcase_add_loop_test (tc, test_malformed, 0, G_N_ELEMENTS (bad_files));
  tcase_add_test (tc, test_bad_usage);
  suite_add_tcase (s, tc);
  return s;
}

int
main (int argc, char **argv)
{
  SRunner *sr;
  int failed;

  if (argc < 2) {
    g_print ("affect-plot path not given: skipping\n");
    return 77;
  }
  tool_path = argv[1];
  tmp_dir = g_dir_make_tmp ("affect-plot-XXXXXX", NULL);
  g_assert (tmp_dir != NULL);
  sr = srunner_create (plot_suite ());
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  {
    /* the files of the test, then the folder */
    GDir *dir = g_dir_open (tmp_dir, 0, NULL);
    const gchar *name;

    while (dir && (name = g_dir_read_name (dir))) {
      gchar *p = g_build_filename (tmp_dir, name, NULL);

      g_unlink (p);
      g_free (p);
    }
    if (dir)
      g_dir_close (dir);
    g_rmdir (tmp_dir);
  }
  g_free (tmp_dir);
  return failed == 0 ? 0 : 1;
}
