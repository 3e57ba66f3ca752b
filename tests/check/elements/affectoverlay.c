/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/* Tests of the affectoverlay element: pixels of the box outline, of the
 * inside of the box and far away, frames without faces, absent tasks,
 * every listed format, odd sizes, faces cut by the border, many faces,
 * property changes while PLAYING, the overlay-composition meta path, and a
 * PNG a person can look at (affectoverlay-sample.png in the test build
 * folder). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cairo.h>
#include <gst/affect/affectmeta.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>

#include "affect-image.h"

#define RED 0xffff0000u
#define WHITE 0xffffffffu

/* The formats the element must draw on (at least). */
static const gchar *const formats[] = { "BGRx", "BGRA", "RGBx", "RGBA", "RGB",
  "BGR", "xRGB", "ARGB", "I420", "YV12", "NV12", "NV21", "Y444", "Y42B", "YUY2",
  "UYVY", "AYUV", "GRAY8" };

static const gchar *const expr_labels[7] = { "Neutral", "Anger", "Disgust",
  "Fear", "Happiness", "Sadness", "Surprise" };

/* ------------------------------------------------------------------ */
/* Frames and pixels                                                   */
/* ------------------------------------------------------------------ */

/* A frame of @info filled with one colour given as 8-bit ARGB (RGB
 * formats) or AYUV (YUV and grey formats), through the format's pack
 * function. */
static GstBuffer *
new_uniform_frame (const GstVideoInfo *info, const guint8 px[4])
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, info->size, NULL);
  const GstVideoFormatInfo *finfo = info->finfo;
  GstVideoFrame frame;
  guint8 *line;
  gint x, y, width = GST_VIDEO_INFO_WIDTH (info);

  gst_buffer_memset (buf, 0, 0, info->size);
  fail_unless (gst_video_frame_map (&frame, info, buf, GST_MAP_WRITE));
  fail_unless (finfo->unpack_format == GST_VIDEO_FORMAT_AYUV
               || finfo->unpack_format == GST_VIDEO_FORMAT_ARGB);
  line = g_malloc (4 * (width + 16));
  for (x = 0; x < width + 16; x++)
    memcpy (line + 4 * x, px, 4);
  for (y = 0; y < GST_VIDEO_INFO_HEIGHT (info); y++)
    finfo->pack_func (finfo, GST_VIDEO_PACK_FLAG_NONE, line, 0, frame.data,
        frame.info.stride, GST_VIDEO_CHROMA_SITE_UNKNOWN, y, width);
  g_free (line);
  gst_video_frame_unmap (&frame);
  GST_BUFFER_PTS (buf) = 0;
  GST_BUFFER_DURATION (buf) = 40 * GST_MSECOND;
  return buf;
}

static const guint8 grey[4] = { 0xff, 128, 128, 128 };

/* Unpacked (8-bit ARGB or AYUV) copy of a mapped frame. */
typedef struct {
  gint width, height;
  guint8 *px; /* 4 bytes per pixel */
  gboolean yuv;
} Pixels;

static void
pixels_from_buffer (Pixels *p, const GstVideoInfo *info, GstBuffer *buf)
{
  const GstVideoFormatInfo *finfo = info->finfo;
  GstVideoFrame frame;
  gint y;

  p->width = GST_VIDEO_INFO_WIDTH (info);
  p->height = GST_VIDEO_INFO_HEIGHT (info);
  p->yuv = finfo->unpack_format == GST_VIDEO_FORMAT_AYUV;
  p->px = g_malloc (4 * (gsize)(p->width + 16) * p->height);
  fail_unless (gst_video_frame_map (&frame, info, buf, GST_MAP_READ));
  for (y = 0; y < p->height; y++)
    finfo->unpack_func (finfo, GST_VIDEO_PACK_FLAG_NONE,
        p->px + 4 * (gsize)p->width * y, frame.data, frame.info.stride, 0, y,
        p->width);
  gst_video_frame_unmap (&frame);
}

static void
pixels_clear (Pixels *p)
{
  g_clear_pointer (&p->px, g_free);
}

static const guint8 *
pixel_at (const Pixels *p, gint x, gint y)
{
  fail_unless (x >= 0 && y >= 0 && x < p->width && y < p->height);
  return p->px + 4 * ((gsize)p->width * y + x);
}

static gboolean
pixel_is (const Pixels *p, gint x, gint y, const guint8 want[4])
{
  const guint8 *v = pixel_at (p, x, y);

  /* the alpha/x byte is not compared */
  return v[1] == want[1] && v[2] == want[2] && v[3] == want[3];
}

/* Whether the pixel shows the opaque colour @argb: exactly in RGB formats;
 * in YUV ones the luma within 3, by the BT.601 or the BT.709 matrix (which
 * one GstVideoOverlayComposition uses is its business), limited range;
 * chroma is not checked (subsampled in some formats). */
static gboolean
pixel_has_color (const Pixels *p, gint x, gint y, guint32 argb)
{
  const guint8 *v = pixel_at (p, x, y);
  gint r = (argb >> 16) & 0xff, g = (argb >> 8) & 0xff, b = argb & 0xff;
  gdouble y601, y709;

  if (!p->yuv)
    return v[1] == r && v[2] == g && v[3] == b;
  y601 = 16 + 219 * (0.299 * r + 0.587 * g + 0.114 * b) / 255.0;
  y709 = 16 + 219 * (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255.0;
  return fabs (v[1] - y601) <= 3.0 || fabs (v[1] - y709) <= 3.0;
}

static void
describe_pixel (const Pixels *p, gint x, gint y, gchar *out, gsize size)
{
  const guint8 *v = pixel_at (p, x, y);

  g_snprintf (
      out, size, "(%d,%d) = %02x %02x %02x %02x", x, y, v[0], v[1], v[2], v[3]);
}

/* Number of pixels that differ between two unpacked frames; @mask
 * (nullable) gets 1 where they differ. */
static guint
count_changed (const Pixels *a, const Pixels *b, guint8 *mask)
{
  gsize i, n = (gsize)a->width * a->height;
  guint count = 0;

  fail_unless (a->width == b->width && a->height == b->height);
  for (i = 0; i < n; i++) {
    gboolean diff = memcmp (a->px + 4 * i + 1, b->px + 4 * i + 1, 3) != 0;
    if (mask)
      mask[i] = diff;
    count += diff;
  }
  return count;
}

static gboolean
buffers_equal (GstBuffer *a, GstBuffer *b)
{
  GstMapInfo ma, mb;
  gboolean eq;

  fail_unless (gst_buffer_map (a, &ma, GST_MAP_READ));
  fail_unless (gst_buffer_map (b, &mb, GST_MAP_READ));
  eq = ma.size == mb.size && memcmp (ma.data, mb.data, ma.size) == 0;
  gst_buffer_unmap (a, &ma);
  gst_buffer_unmap (b, &mb);
  return eq;
}

/* ------------------------------------------------------------------ */
/* Metas                                                               */
/* ------------------------------------------------------------------ */

static void
predictions_for (GstAffectPredictions *p, guint id, GstAffectTasks tasks)
{
  guint n_au, i;
  const gchar *const *au_labels = gst_affect_abaw_au_labels (&n_au);
  gfloat e[7], a[GST_AFFECT_MAX_AU], sum = 0;

  gst_affect_predictions_init (p);
  if (tasks & GST_AFFECT_TASK_EXPRESSION) {
    for (i = 0; i < 7; i++) {
      e[i] = 1.0f / (1.0f + (gfloat)((i + id) % 7));
      sum += e[i];
    }
    for (i = 0; i < 7; i++)
      e[i] /= sum;
    fail_unless (gst_affect_predictions_set_expression (p, 7, expr_labels, e));
  }
  if (tasks & GST_AFFECT_TASK_AU) {
    for (i = 0; i < n_au; i++)
      a[i] = (gfloat)((i * 7 + id * 3) % 11) / 10.0f;
    fail_unless (gst_affect_predictions_set_au (p, n_au, au_labels, a));
  }
  if (tasks & GST_AFFECT_TASK_VA)
    gst_affect_predictions_set_va (p, 0.6f, -0.3f);
  p->modalities = GST_AFFECT_MODALITY_IMAGE | GST_AFFECT_MODALITY_EXPRESSION;
}

static void
add_face (GstBuffer *buf, guint id, gfloat x, gfloat y, gfloat w, gfloat h,
    GstAffectTasks tasks, gboolean with_predictions)
{
  GstAffectFaceMeta *m
      = gst_buffer_add_affect_face_meta (buf, id, x, y, w, h, 0.9f);
  gfloat pts[2 * GST_AFFECT_N_LANDMARKS];
  guint i;

  fail_unless (m != NULL);
  /* a ring of landmarks inside the box, away from its centre */
  for (i = 0; i < GST_AFFECT_N_LANDMARKS; i++) {
    gdouble t = 2 * G_PI * i / GST_AFFECT_N_LANDMARKS;
    pts[2 * i] = x + w / 2 + 0.4 * w * cos (t);
    pts[2 * i + 1] = y + h / 2 + 0.4 * h * sin (t);
  }
  gst_affect_face_meta_set_landmarks (m, pts, GST_AFFECT_N_LANDMARKS);
  if (with_predictions) {
    GstAffectPredictions p;

    predictions_for (&p, id, tasks);
    fail_unless (gst_buffer_add_affect_predictions_meta (buf, id, &p) != NULL);
  }
}

#define ALL_TASKS \
  (GST_AFFECT_TASK_AU | GST_AFFECT_TASK_EXPRESSION | GST_AFFECT_TASK_VA)

/* ------------------------------------------------------------------ */
/* Harness                                                             */
/* ------------------------------------------------------------------ */

static GstHarness *
new_harness (const gchar *format, gint width, gint height, GstVideoInfo *info)
{
  GstHarness *h = gst_harness_new ("affectoverlay");
  gchar *caps = g_strdup_printf (
      "video/x-raw,format=%s,width=%d,height=%d,framerate=25/1", format, width,
      height);

  gst_harness_set_src_caps_str (h, caps);
  fail_unless (gst_video_info_set_format (
      info, gst_video_format_from_string (format), width, height));
  g_free (caps);
  return h;
}

/* Pushes @in (keeping a reference of the caller's) and pulls the result. */
static GstBuffer *
push_pull (GstHarness *h, GstBuffer *in)
{
  GstBuffer *out;

  fail_unless_equals_int (
      gst_harness_push (h, gst_buffer_ref (in)), GST_FLOW_OK);
  out = gst_harness_pull (h);
  fail_unless (out != NULL);
  return out;
}

/* Renders one frame of @format with the given element settings and faces
 * (added by @add) and returns it unpacked. */
typedef void (*AddFaces) (GstBuffer *buf, gpointer data);

static void
render (Pixels *out, const gchar *format, gint width, gint height,
    const gchar *draw, AddFaces add, gpointer data)
{
  GstVideoInfo info;
  GstHarness *h = new_harness (format, width, height, &info);
  GstBuffer *in = new_uniform_frame (&info, grey), *res;

  /* one colour for every face (the default is a colour per track) */
  gst_util_set_object_arg (G_OBJECT (h->element), "color-mode", "single");
  g_object_set (h->element, "box-color", RED, "line-width", 2.0, NULL);
  if (draw && draw[0] == '\0')
    g_object_set (h->element, "draw", 0, NULL);
  else if (draw)
    gst_util_set_object_arg (G_OBJECT (h->element), "draw", draw);
  add (in, data);
  res = push_pull (h, in);
  pixels_from_buffer (out, &info, res);
  gst_buffer_unref (res);
  gst_buffer_unref (in);
  gst_harness_teardown (h);
}

/* ------------------------------------------------------------------ */
/* The layout, as the element logs it                                  */
/* ------------------------------------------------------------------ */

/* One face of a frame, from the element's "layout" debug line: the track,
 * its colour, the area kept clear (box outline and tag) and the panel, as
 * [x0, y0, x1, y1). */
typedef struct {
  guint track;
  guint32 color;
  gint keep[4];
  gchar form[16];
  gint panel[4];
} Logged;

static GMutex log_lock;
static GArray *log_faces;   /* Logged, since log_reset() */
static guint log_headlines; /* headline changes, since log_reset() */

static void
layout_log_func (GstDebugCategory *category, GstDebugLevel level,
    const gchar *file, const gchar *function, gint line, GObject *object,
    GstDebugMessage *message, gpointer user_data)
{
  const gchar *msg;
  Logged l = { 0 };
  gint x, y, w, h;

  if (strcmp (gst_debug_category_get_name (category), "affectoverlay") != 0)
    return;
  msg = gst_debug_message_get (message);
  g_mutex_lock (&log_lock);
  if (log_faces == NULL) {
    g_mutex_unlock (&log_lock);
    return;
  }
  if (sscanf (msg,
          "layout track=%u color=%x keep=%d,%d,%d,%d "
          "panel=%15[a-z],%d,%d,%d,%d",
          &l.track, &l.color, &l.keep[0], &l.keep[1], &l.keep[2], &l.keep[3],
          l.form, &x, &y, &w, &h)
      == 11) {
    l.panel[0] = x;
    l.panel[1] = y;
    l.panel[2] = x + w;
    l.panel[3] = y + h;
    g_array_append_val (log_faces, l);
  } else if (strstr (msg, ": headline ")) {
    log_headlines++;
  }
  g_mutex_unlock (&log_lock);
}

/* Starts reading the element's debug output (the "layout" and "headline"
 * lines at level DEBUG). The log function is installed once and stays (each
 * change of GStreamer's list of log functions keeps the old list for
 * readers in flight, see tests/gst-affect.supp); the default one, which
 * would print these lines too, is taken out then. */
static void
log_start (void)
{
  static gboolean installed = FALSE;

  if (!installed) {
    gst_debug_remove_log_function (gst_debug_log_default);
    gst_debug_add_log_function (layout_log_func, NULL, NULL);
    installed = TRUE;
  }
  g_mutex_lock (&log_lock);
  log_faces = g_array_new (FALSE, TRUE, sizeof (Logged));
  log_headlines = 0;
  g_mutex_unlock (&log_lock);
  gst_debug_set_threshold_for_name ("affectoverlay", GST_LEVEL_DEBUG);
}

static void
log_stop (void)
{
  gst_debug_unset_threshold_for_name ("affectoverlay");
  g_mutex_lock (&log_lock);
  g_array_free (log_faces, TRUE);
  log_faces = NULL;
  g_mutex_unlock (&log_lock);
}

static void
log_reset (void)
{
  g_mutex_lock (&log_lock);
  g_array_set_size (log_faces, 0);
  log_headlines = 0;
  g_mutex_unlock (&log_lock);
}

static const Logged *
logged_face (guint i)
{
  fail_unless (i < log_faces->len);
  return &g_array_index (log_faces, Logged, i);
}

static gboolean
rects_overlap (const gint a[4], const gint b[4])
{
  return MIN (a[2], b[2]) > MAX (a[0], b[0])
         && MIN (a[3], b[3]) > MAX (a[1], b[1]);
}

/* Checks the logged layout of one frame of @width × @height with @n faces
 * whose boxes ([x, y, w, h]) are @boxes: every face has a panel, inside the
 * frame, that overlaps no other panel, no box (its outline) and no area
 * kept clear; returns the number of compact panels. */
static guint
check_no_overlap (
    const gfloat (*boxes)[4], guint n, gint width, gint height, gint lw)
{
  guint i, j, compact = 0;

  fail_unless_equals_int (log_faces->len, n);
  for (i = 0; i < n; i++) {
    const Logged *a = logged_face (i);

    fail_if (strcmp (a->form, "none") == 0, "track %u: no panel", a->track);
    compact += strcmp (a->form, "compact") == 0;
    fail_unless (a->panel[0] >= 0 && a->panel[1] >= 0 && a->panel[2] <= width
                     && a->panel[3] <= height,
        "track %u: panel %d,%d-%d,%d leaves the frame", a->track, a->panel[0],
        a->panel[1], a->panel[2], a->panel[3]);
    for (j = 0; j < n; j++) {
      const Logged *b = logged_face (j);
      /* the box as the test placed it, with its outline */
      gint box[4]
          = { (gint)floor (boxes[j][0]) - lw, (gint)floor (boxes[j][1]) - lw,
              (gint)ceil (boxes[j][0] + boxes[j][2]) + lw,
              (gint)ceil (boxes[j][1] + boxes[j][3]) + lw };

      fail_if (rects_overlap (a->panel, box),
          "panel of track %u (%d,%d-%d,%d) covers the box of track %u "
          "(%d,%d-%d,%d)",
          a->track, a->panel[0], a->panel[1], a->panel[2], a->panel[3],
          b->track, box[0], box[1], box[2], box[3]);
      fail_if (rects_overlap (a->panel, b->keep),
          "panel of track %u covers the tag or box of track %u", a->track,
          b->track);
      if (j != i)
        fail_if (rects_overlap (a->panel, b->panel),
            "panels of tracks %u (%d,%d-%d,%d) and %u (%d,%d-%d,%d) overlap",
            a->track, a->panel[0], a->panel[1], a->panel[2], a->panel[3],
            b->track, b->panel[0], b->panel[1], b->panel[2], b->panel[3]);
    }
  }
  return compact;
}

/* Marks [r[0], r[2]) × [r[1], r[3]) in a mask of @w × @h. */
static void
mask_rect (guint8 *mask, gint w, gint h, const gint r[4])
{
  gint x, y;

  for (y = MAX (0, r[1]); y < MIN (h, r[3]); y++)
    for (x = MAX (0, r[0]); x < MIN (w, r[2]); x++)
      mask[(gsize)y * w + x] = 1;
}

/* The logged layout is what is drawn: no pixel changed outside the logged
 * boxes, tags and panels, and the panels are filled. */
static void
check_log_matches_pixels (const Pixels *px, const Pixels *ref)
{
  gsize n = (gsize)px->width * px->height, i;
  guint8 *changed = g_malloc (n), *allowed = g_malloc0 (n);
  guint k;

  count_changed (px, ref, changed);
  for (k = 0; k < log_faces->len; k++) {
    mask_rect (allowed, px->width, px->height, logged_face (k)->keep);
    mask_rect (allowed, px->width, px->height, logged_face (k)->panel);
  }
  for (i = 0; i < n; i++)
    fail_unless (!changed[i] || allowed[i],
        "(%d,%d) drawn outside every logged part", (gint)(i % px->width),
        (gint)(i / px->width));
  for (k = 0; k < log_faces->len; k++) {
    const gint *r = logged_face (k)->panel;
    guint count = 0, area = (r[2] - r[0]) * (r[3] - r[1]);
    gint x, y;

    if (strcmp (logged_face (k)->form, "none") == 0)
      continue;
    for (y = r[1]; y < r[3]; y++)
      for (x = r[0]; x < r[2]; x++)
        count += changed[(gsize)y * px->width + x];
    fail_unless (
        count > area * 0.9, "panel %u: %u of %u pixels drawn", k, count, area);
  }
  g_free (changed);
  g_free (allowed);
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

GST_START_TEST (test_properties)
{
  GstElement *e = gst_element_factory_make ("affectoverlay", NULL);
  guint draw, box, text;
  gint placement;
  gchar *font;
  gdouble lw;
  gchar *klass;

  fail_unless (e != NULL);
  g_object_get (e, "draw", &draw, "box-color", &box, "text-color", &text,
      "placement", &placement, "font-desc", &font, "line-width", &lw, NULL);
  /* all but landmarks */
  fail_unless_equals_int (draw, 0x3b);
  fail_unless_equals_int (text, 0xffffffff);
  fail_unless (box >> 24 == 0xff);
  fail_unless_equals_int (placement, 0);
  fail_unless (font == NULL);
  fail_unless_equals_float (lw, 0.0);

  gst_util_set_object_arg (G_OBJECT (e), "draw", "boxes+landmarks");
  gst_util_set_object_arg (G_OBJECT (e), "placement", "below");
  g_object_set (e, "box-color", 0x80112233u, "text-color", 0xff000000u,
      "font-desc", "Serif 9", "line-width", 3.5, NULL);
  g_object_get (e, "draw", &draw, "box-color", &box, "text-color", &text,
      "placement", &placement, "font-desc", &font, "line-width", &lw, NULL);
  fail_unless_equals_int (draw, 0x5);
  fail_unless_equals_int (box, 0x80112233u);
  fail_unless_equals_int (text, 0xff000000u);
  fail_unless_equals_int (placement, 4);
  fail_unless_equals_string (font, "Serif 9");
  fail_unless_equals_float (lw, 3.5);
  g_free (font);

  klass = g_strdup (gst_element_factory_get_metadata (
      gst_element_get_factory (e), GST_ELEMENT_METADATA_KLASS));
  fail_unless_equals_string (klass, "Analyzer/Visualization/Video");
  g_free (klass);
  gst_object_unref (e);
}

GST_END_TEST;

/* No face metas: the frame goes through bit-identical, in every format;
 * also with predictions of a track that has no face meta. */
GST_START_TEST (test_no_faces_identical)
{
  guint f;

  for (f = 0; f < G_N_ELEMENTS (formats); f++) {
    GstVideoInfo info;
    GstHarness *h = new_harness (formats[f], 321, 241, &info);
    GstBuffer *in = new_uniform_frame (&info, grey), *ref, *out;
    GstAffectPredictions p;
    GstMapInfo map;
    guint i;

    /* some texture, so that a careless pack/unpack would show */
    fail_unless (gst_buffer_map (in, &map, GST_MAP_WRITE));
    for (i = 0; i < map.size; i++)
      map.data[i] = (guint8)(i * 7 + (i >> 8));
    gst_buffer_unmap (in, &map);
    ref = gst_buffer_copy_deep (in);

    out = push_pull (h, in);
    fail_unless (buffers_equal (out, ref), "%s: frame changed", formats[f]);
    gst_buffer_unref (out);

    predictions_for (&p, 3, ALL_TASKS);
    gst_buffer_add_affect_predictions_meta (in, 3, &p);
    out = push_pull (h, in);
    fail_unless (buffers_equal (out, ref),
        "%s: frame changed by a face-less prediction", formats[f]);
    gst_buffer_unref (out);

    gst_buffer_unref (ref);
    gst_buffer_unref (in);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

typedef struct {
  gfloat x, y, w, h;
  GstAffectTasks tasks;
  gboolean predictions;
} OneFace;

static void
add_one_face (GstBuffer *buf, gpointer data)
{
  const OneFace *f = data;

  add_face (buf, 7, f->x, f->y, f->w, f->h, f->tasks, f->predictions);
}

/* Box outline in the box colour, inside and far away unchanged, a panel
 * right of the box: for every format. */
GST_START_TEST (test_box_pixels_all_formats)
{
  /* x and y odd: the 2-pixel outline covers whole chroma blocks */
  OneFace face = { 101, 61, 120, 140, ALL_TASKS, TRUE };
  guint f;

  for (f = 0; f < G_N_ELEMENTS (formats); f++) {
    Pixels px, ref;
    GstVideoInfo info;
    GstBuffer *in;
    gchar msg[64];
    gint x, y, changed_right = 0;

    gst_video_info_set_format (
        &info, gst_video_format_from_string (formats[f]), 640, 480);
    in = new_uniform_frame (&info, grey);
    pixels_from_buffer (&ref, &info, in);
    gst_buffer_unref (in);

    render (&px, formats[f], 640, 480, NULL, add_one_face, &face);

    /* the outline: columns 100-101 and 219-220, rows 60-61 and 200-201 */
    for (y = 80; y < 190; y += 9) {
      describe_pixel (&px, 100, y, msg, sizeof (msg));
      fail_unless (
          pixel_has_color (&px, 100, y, RED), "%s: left %s", formats[f], msg);
      fail_unless (pixel_has_color (&px, 101, y, RED), "%s: left", formats[f]);
      describe_pixel (&px, 220, y, msg, sizeof (msg));
      fail_unless (
          pixel_has_color (&px, 220, y, RED), "%s: right %s", formats[f], msg);
    }
    for (x = 120; x < 210; x += 9) {
      fail_unless (pixel_has_color (&px, x, 61, RED), "%s: top", formats[f]);
      describe_pixel (&px, x, 201, msg, sizeof (msg));
      fail_unless (
          pixel_has_color (&px, x, 201, RED), "%s: bottom %s", formats[f], msg);
    }
    /* well inside the box (away from the landmark ring, which is not
     * drawn by default anyway) and far away: unchanged */
    for (y = 110; y < 150; y += 3)
      for (x = 140; x < 180; x += 3) {
        describe_pixel (&px, x, y, msg, sizeof (msg));
        fail_unless (pixel_is (&px, x, y, pixel_at (&ref, x, y)),
            "%s: inside %s", formats[f], msg);
      }
    for (y = 300; y < 480; y += 7)
      for (x = 0; x < 640; x += 7)
        fail_unless (pixel_is (&px, x, y, pixel_at (&ref, x, y)),
            "%s: far (%d,%d)", formats[f], x, y);
    /* just outside the outline: unchanged */
    fail_unless (pixel_is (&px, 98, 150, pixel_at (&ref, 98, 150)));
    fail_unless (pixel_is (&px, 103, 150, pixel_at (&ref, 103, 150)));
    /* the panel is right of the box */
    for (y = 60; y < 200; y++)
      for (x = 224; x < 330; x++)
        changed_right += !pixel_is (&px, x, y, pixel_at (&ref, x, y));
    fail_unless (changed_right > 2000, "%s: no panel (%d pixels)", formats[f],
        changed_right);

    pixels_clear (&px);
    pixels_clear (&ref);
  }
}

GST_END_TEST;

/* Nothing drawn for an absent task: the frame is the same as with that
 * part switched off; a present task does draw. */
GST_START_TEST (test_absent_tasks)
{
  OneFace face = { 101, 61, 120, 140, 0, TRUE };
  Pixels all, off, full, expr_only, none;
  guint8 *mask_full, *mask_expr;
  gsize i, n;
  guint only_full = 0;

  /* expression only: AU and VA flags make no difference */
  face.tasks = GST_AFFECT_TASK_EXPRESSION;
  render (&all, "BGRx", 640, 480, "boxes+ids+expression+au+va", add_one_face,
      &face);
  render (&off, "BGRx", 640, 480, "boxes+ids+expression", add_one_face, &face);
  fail_unless_equals_int (count_changed (&all, &off, NULL), 0);
  pixels_clear (&off);
  /* and the expression part does draw something */
  render (&off, "BGRx", 640, 480, "boxes+ids", add_one_face, &face);
  fail_unless (count_changed (&all, &off, NULL) > 500);
  pixels_clear (&off);
  pixels_clear (&all);

  /* AU only */
  face.tasks = GST_AFFECT_TASK_AU;
  render (&all, "BGRx", 640, 480, NULL, add_one_face, &face);
  render (&off, "BGRx", 640, 480, "boxes+ids+au", add_one_face, &face);
  fail_unless_equals_int (count_changed (&all, &off, NULL), 0);
  pixels_clear (&off);
  render (&off, "BGRx", 640, 480, "boxes+ids", add_one_face, &face);
  fail_unless (count_changed (&all, &off, NULL) > 500);
  pixels_clear (&off);
  pixels_clear (&all);

  /* VA only */
  face.tasks = GST_AFFECT_TASK_VA;
  render (&all, "BGRx", 640, 480, NULL, add_one_face, &face);
  render (&off, "BGRx", 640, 480, "boxes+ids+va", add_one_face, &face);
  fail_unless_equals_int (count_changed (&all, &off, NULL), 0);
  pixels_clear (&off);
  render (&off, "BGRx", 640, 480, "boxes+ids", add_one_face, &face);
  fail_unless (count_changed (&all, &off, NULL) > 500);
  pixels_clear (&off);
  pixels_clear (&all);

  /* no task at all, and no predictions meta: only box and tag */
  face.tasks = 0;
  render (&all, "BGRx", 640, 480, NULL, add_one_face, &face);
  render (&off, "BGRx", 640, 480, "boxes+ids", add_one_face, &face);
  fail_unless_equals_int (count_changed (&all, &off, NULL), 0);
  pixels_clear (&all);
  face.predictions = FALSE;
  render (&all, "BGRx", 640, 480, NULL, add_one_face, &face);
  fail_unless_equals_int (count_changed (&all, &off, NULL), 0);
  pixels_clear (&all);
  face.predictions = TRUE;

  /* the panel grows downwards: where the AU grid and the VA disc are drawn
   * with all tasks, a frame with the expression alone is unchanged, and
   * what the expression alone draws is drawn with all tasks too */
  face.tasks = ALL_TASKS;
  render (&full, "BGRx", 640, 480, NULL, add_one_face, &face);
  face.tasks = GST_AFFECT_TASK_EXPRESSION;
  render (&expr_only, "BGRx", 640, 480, NULL, add_one_face, &face);
  face.predictions = FALSE;
  render (&none, "BGRx", 640, 480, "", add_one_face, &face);
  fail_unless_equals_int (count_changed (&none, &off, NULL) > 0, TRUE);
  n = (gsize)full.width * full.height;
  mask_full = g_malloc (n);
  mask_expr = g_malloc (n);
  count_changed (&full, &none, mask_full);
  count_changed (&expr_only, &none, mask_expr);
  for (i = 0; i < n; i++) {
    fail_if (mask_expr[i] && !mask_full[i],
        "pixel (%d,%d) only drawn with "
        "the expression alone",
        (gint)(i % full.width), (gint)(i / full.width));
    if (mask_full[i] && !mask_expr[i]) {
      /* AU grid / VA disc area: untouched without those tasks */
      fail_unless (
          memcmp (expr_only.px + 4 * i + 1, none.px + 4 * i + 1, 3) == 0);
      only_full++;
    }
  }
  fail_unless (only_full > 2000, "AU grid and VA disc: %u pixels", only_full);
  g_free (mask_full);
  g_free (mask_expr);
  pixels_clear (&full);
  pixels_clear (&expr_only);
  pixels_clear (&none);
  pixels_clear (&off);
}

GST_END_TEST;

static void
add_two_close_faces (GstBuffer *buf, gpointer data)
{
  add_face (buf, 1, 201, 101, 80, 100, ALL_TASKS, TRUE);
  add_face (buf, 2, 301, 101, 80, 100, ALL_TASKS, TRUE);
}

/* placement=auto keeps panels off other faces: the panel of the first
 * face goes left (right of it is the second face), the second's right. */
GST_START_TEST (test_auto_placement)
{
  Pixels px;
  gint x, y, left = 0, right = 0;

  render (&px, "BGRx", 640, 480, NULL, add_two_close_faces, NULL);
  for (y = 110; y < 200; y += 2) {
    for (x = 120; x < 196; x += 2)
      left += !pixel_is (&px, x, y, grey);
    for (x = 390; x < 460; x += 2)
      right += !pixel_is (&px, x, y, grey);
    /* the inside of both boxes is free */
    for (x = 215; x < 265; x += 5)
      fail_unless (pixel_is (&px, x, y, grey), "(%d,%d)", x, y);
    for (x = 315; x < 365; x += 5)
      fail_unless (pixel_is (&px, x, y, grey), "(%d,%d)", x, y);
  }
  fail_unless (left > 1000, "no panel left of face 1: %d", left);
  fail_unless (right > 1000, "no panel right of face 2: %d", right);
  pixels_clear (&px);

  /* placement=right: the first panel covers the second face */
  {
    GstVideoInfo info;
    GstHarness *h = new_harness ("BGRx", 640, 480, &info);
    GstBuffer *in = new_uniform_frame (&info, grey), *out;
    guint covered = 0;

    gst_util_set_object_arg (G_OBJECT (h->element), "placement", "right");
    add_two_close_faces (in, NULL);
    out = push_pull (h, in);
    pixels_from_buffer (&px, &info, out);
    for (y = 110; y < 200; y += 2)
      for (x = 315; x < 365; x += 5)
        covered += !pixel_is (&px, x, y, grey);
    fail_unless (covered > 100);
    pixels_clear (&px);
    gst_buffer_unref (out);
    gst_buffer_unref (in);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

typedef struct {
  gint width, height;
} FrameSize;

static void
add_border_faces (GstBuffer *buf, gpointer data)
{
  const FrameSize *s = data;

  /* cut by the left/bottom border, by the right/top border, and one
   * completely outside */
  add_face (buf, 1, -41, s->height - 61, 101, 121, ALL_TASKS, TRUE);
  add_face (buf, 2, s->width - 51, -31, 91, 101, ALL_TASKS, TRUE);
  add_face (buf, 3, s->width + 50, s->height + 50, 40, 40, ALL_TASKS, TRUE);
  /* and a huge one, far bigger than the frame */
  add_face (buf, 4, -1e6f, -1e6f, 3e6f, 3e6f, ALL_TASKS, TRUE);
}

/* 321×241 with faces cut by the borders, in every format: no crash, the
 * visible parts of the outlines drawn, the stride handled. */
GST_START_TEST (test_odd_size_border_faces)
{
  FrameSize size = { 321, 241 };
  guint f;

  for (f = 0; f < G_N_ELEMENTS (formats); f++) {
    Pixels px;
    gchar msg[64];

    render (&px, formats[f], size.width, size.height, "boxes", add_border_faces,
        &size);
    /* face 1: right edge column 58-59, top row 179-180 */
    describe_pixel (&px, 59, 220, msg, sizeof (msg));
    fail_unless (
        pixel_has_color (&px, 59, 220, RED), "%s: %s", formats[f], msg);
    fail_unless (pixel_has_color (&px, 20, 180, RED), "%s", formats[f]);
    /* face 2: left edge columns 269-270, bottom rows 69-70 */
    fail_unless (pixel_has_color (&px, 270, 30, RED), "%s", formats[f]);
    fail_unless (pixel_has_color (&px, 300, 69, RED), "%s", formats[f]);
    /* the last column and row are reachable and untouched in between */
    fail_unless (pixel_is (&px, 320, 120, grey), "%s", formats[f]);
    fail_unless (pixel_is (&px, 160, 240, grey), "%s", formats[f]);
    fail_unless (pixel_is (&px, 160, 120, grey), "%s", formats[f]);
    pixels_clear (&px);
  }
}

GST_END_TEST;

static void
add_many_faces (GstBuffer *buf, gpointer data)
{
  guint i;

  for (i = 0; i < 50; i++)
    add_face (buf, 100 + i, 20 + (i % 10) * 60, 20 + (i / 10) * 90, 40, 50,
        ALL_TASKS, TRUE);
}

/* 50 faces: all drawn (the last one's outline is visible), nothing in the
 * free strip at the bottom. */
GST_START_TEST (test_many_faces)
{
  Pixels px;
  GstVideoInfo info;
  GstBuffer *in;
  Pixels ref;
  gint x;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, 640, 560);
  in = new_uniform_frame (&info, grey);
  pixels_from_buffer (&ref, &info, in);
  gst_buffer_unref (in);

  render (&px, "I420", 640, 560, NULL, add_many_faces, NULL);
  fail_unless (pixel_has_color (&px, 560, 400, RED));
  pixels_clear (&px);

  /* boxes only: every box is there and the inside is untouched */
  render (&px, "I420", 640, 560, "boxes", add_many_faces, NULL);
  for (x = 0; x < 50; x++) {
    gint bx = 20 + (x % 10) * 60, by = 20 + (x / 10) * 90;

    fail_unless (pixel_has_color (&px, bx, by + 25, RED), "face %d", x);
    fail_unless (pixel_is (&px, bx + 20, by + 25, pixel_at (&ref, 0, 0)));
  }
  for (x = 0; x < 640; x += 5)
    fail_unless (pixel_is (&px, x, 550, pixel_at (&ref, 0, 0)));
  pixels_clear (&px);
  pixels_clear (&ref);
}

GST_END_TEST;

/* Properties changed from another thread while buffers flow, then a change
 * that must show on the next frame. */
typedef struct {
  GstElement *element;
  gint stop;
} Stress;

static gpointer
stress_thread (gpointer data)
{
  Stress *s = data;
  static const gchar *const fonts[]
      = { NULL, "Sans 8", "Serif Bold 14", "Monospace", "7" };
  static const gchar *const draws[]
      = { "boxes", "boxes+ids+expression+au+va+landmarks", "", "va+au" };
  static const gchar *const places[]
      = { "auto", "left", "right", "above", "below" };
  guint i = 0;

  while (!g_atomic_int_get (&s->stop)) {
    g_object_set (s->element, "font-desc", fonts[i % G_N_ELEMENTS (fonts)],
        "box-color", 0xff000000u | (i * 2654435761u >> 8), "text-color",
        0xff000000u | (i * 40503u), "line-width", (gdouble)(i % 7), NULL);
    gst_util_set_object_arg (
        G_OBJECT (s->element), "draw", draws[i % G_N_ELEMENTS (draws)]);
    gst_util_set_object_arg (
        G_OBJECT (s->element), "placement", places[i % G_N_ELEMENTS (places)]);
    i++;
    g_usleep (500);
  }
  return NULL;
}

GST_START_TEST (test_property_change_playing)
{
  GstVideoInfo info;
  GstHarness *h = new_harness ("NV12", 320, 240, &info);
  Stress s = { h->element, 0 };
  GThread *thread;
  GstBuffer *in, *out;
  Pixels px;
  guint i;
  const guint n = g_getenv ("AFFECT_UNDER_VALGRIND") ? 20 : 200;

  fail_unless_equals_int (GST_STATE (h->element), GST_STATE_PLAYING);
  thread = g_thread_new ("stress", stress_thread, &s);
  for (i = 0; i < n; i++) {
    in = new_uniform_frame (&info, grey);
    add_face (in, 1 + i % 3, 30 + i % 50, 40, 80, 90, ALL_TASKS, TRUE);
    add_face (in, 9, 200, 100, 60, 60, i % 2 ? ALL_TASKS : 0, TRUE);
    GST_BUFFER_PTS (in) = i * 40 * GST_MSECOND;
    fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
    gst_buffer_unref (gst_harness_pull (h));
  }
  g_atomic_int_set (&s.stop, 1);
  g_thread_join (thread);

  /* a colour set now shows on the next frame */
  gst_util_set_object_arg (G_OBJECT (h->element), "color-mode", "single");
  g_object_set (h->element, "box-color", WHITE, "line-width", 2.0, NULL);
  gst_util_set_object_arg (G_OBJECT (h->element), "draw", "boxes");
  in = new_uniform_frame (&info, grey);
  add_face (in, 1, 101, 41, 80, 90, ALL_TASKS, TRUE);
  out = push_pull (h, in);
  pixels_from_buffer (&px, &info, out);
  fail_unless (pixel_has_color (&px, 101, 80, WHITE));
  fail_unless (pixel_is (&px, 140, 80, grey));
  pixels_clear (&px);
  gst_buffer_unref (out);
  gst_buffer_unref (in);

  gst_harness_teardown (h);
}

GST_END_TEST;

/* A bigger font makes a bigger panel; a font change while running is
 * taken at the next frame. */
GST_START_TEST (test_font_change)
{
  GstVideoInfo info;
  GstHarness *h = new_harness ("BGRx", 640, 480, &info);
  GstBuffer *in = new_uniform_frame (&info, grey), *out;
  Pixels ref, small, big;
  guint n_small, n_big;

  pixels_from_buffer (&ref, &info, in);
  add_face (in, 1, 51, 41, 80, 90, ALL_TASKS, TRUE);
  g_object_set (h->element, "font-desc", "Sans 6", NULL);
  out = push_pull (h, in);
  pixels_from_buffer (&small, &info, out);
  gst_buffer_unref (out);
  g_object_set (h->element, "font-desc", "Sans 16", NULL);
  out = push_pull (h, in);
  pixels_from_buffer (&big, &info, out);
  gst_buffer_unref (out);
  n_small = count_changed (&small, &ref, NULL);
  n_big = count_changed (&big, &ref, NULL);
  fail_unless (
      n_big > 2 * n_small, "Sans 16: %u pixels, Sans 6: %u", n_big, n_small);

  pixels_clear (&ref);
  pixels_clear (&small);
  pixels_clear (&big);
  gst_buffer_unref (in);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Values nobody should write, but anybody can: no crash, no warning, the
 * valid parts still drawn. */
GST_START_TEST (test_bad_values)
{
  GstVideoInfo info;
  GstHarness *h = new_harness ("I420", 320, 240, &info);
  GstBuffer *in = new_uniform_frame (&info, grey), *out;
  const gchar *const labels[3] = { "ok", "bad \xff\xfe utf-8", "" };
  const gfloat probs[3] = { 0.5f, 0.25f, 0.25f };
  GstAffectPredictionsMeta *pm;
  GstAffectFaceMeta *fm;
  GstAffectPredictions p;
  Pixels px;

  gst_util_set_object_arg (G_OBJECT (h->element), "color-mode", "single");
  g_object_set (h->element, "box-color", RED, "line-width", 2.0, NULL);
  gst_util_set_object_arg (
      G_OBJECT (h->element), "draw", "boxes+ids+landmarks+expression+au+va");

  /* a NaN box: skipped */
  fm = gst_buffer_add_affect_face_meta (in, 1, 10, 10, 20, 20, 1.0f);
  fm->x = NAN;
  /* NaN/Inf predictions, invalid UTF-8 and empty labels, NaN landmarks */
  add_face (in, 2, 101, 61, 60, 70, 0, FALSE);
  fm = gst_buffer_get_affect_face_meta_by_track (in, 2);
  fm->landmarks[3][0] = NAN;
  fm->landmarks[4][1] = INFINITY;
  gst_affect_predictions_init (&p);
  fail_unless (gst_affect_predictions_set_expression (&p, 3, labels, probs));
  gst_affect_predictions_set_va (&p, NAN, INFINITY);
  pm = gst_buffer_add_affect_predictions_meta (in, 2, &p);
  fail_unless (pm != NULL);
  pm->predictions.expr[1] = NAN;
  pm->predictions.expr_index = 7;
  /* an AU count past the capacity: the AU part is left out */
  pm->predictions.tasks |= GST_AFFECT_TASK_AU;
  pm->predictions.n_au = GST_AFFECT_MAX_AU + 5;

  out = push_pull (h, in);
  pixels_from_buffer (&px, &info, out);
  fail_unless (pixel_has_color (&px, 101, 100, RED));
  fail_unless (pixel_is (&px, 20, 20, grey));
  pixels_clear (&px);
  gst_buffer_unref (out);
  gst_buffer_unref (in);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Whether a rectangle of @comp covers the pixel (@x, @y). */
static gboolean
composition_covers (GstVideoOverlayComposition *comp, gint x, gint y)
{
  guint i, n = gst_video_overlay_composition_n_rectangles (comp);

  for (i = 0; i < n; i++) {
    gint rx, ry;
    guint rw, rh;

    gst_video_overlay_rectangle_get_render_rectangle (
        gst_video_overlay_composition_get_rectangle (comp, i), &rx, &ry, &rw,
        &rh);
    if (x >= rx && y >= ry && x < rx + (gint)rw && y < ry + (gint)rh)
      return TRUE;
  }
  return FALSE;
}

/* With meta:GstVideoOverlayComposition caps the overlay is attached as a
 * meta (rectangles near what is drawn, after upstream's) and the pixels are
 * kept. */
GST_START_TEST (test_attach_meta)
{
  GstHarness *h = gst_harness_new ("affectoverlay");
  GstVideoInfo info;
  GstBuffer *in, *ref, *out, *up_pixels;
  GstVideoOverlayCompositionMeta *meta;
  GstVideoOverlayRectangle *up_rect;
  GstVideoOverlayComposition *up;
  guint n;

  gst_harness_set_src_caps_str (h,
      "video/x-raw(meta:GstVideoOverlayComposition),format=I420,width=320,"
      "height=240,framerate=25/1");
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, 320, 240);
  in = new_uniform_frame (&info, grey);
  ref = gst_buffer_copy_deep (in);
  add_face (in, 1, 11, 21, 60, 70, ALL_TASKS, TRUE);
  add_face (in, 2, 250, 150, 50, 50, 0, FALSE);
  out = push_pull (h, in);
  fail_unless (buffers_equal (out, ref));
  meta = gst_buffer_get_video_overlay_composition_meta (out);
  fail_unless (meta != NULL);
  n = gst_video_overlay_composition_n_rectangles (meta->overlay);
  fail_unless (n >= 2);
  /* face 2 (no predictions, 1-pixel outline on 240 lines): its edges and
   * the tag above it are covered, its inside is not */
  fail_unless (composition_covers (meta->overlay, 250, 175));
  fail_unless (composition_covers (meta->overlay, 299, 175));
  fail_unless (composition_covers (meta->overlay, 275, 150));
  fail_unless (composition_covers (meta->overlay, 275, 199));
  fail_unless (composition_covers (meta->overlay, 253, 145));
  fail_unless (!composition_covers (meta->overlay, 275, 175));
  fail_unless (!composition_covers (meta->overlay, 249, 175));
  /* face 1: the panel right of it */
  fail_unless (composition_covers (meta->overlay, 90, 60));
  gst_buffer_unref (out);

  /* an upstream composition is kept, ours added after it */
  up_pixels = gst_buffer_new_allocate (NULL, 4 * 4 * 4, NULL);
  gst_buffer_memset (up_pixels, 0, 0xff, 64);
  gst_buffer_add_video_meta (up_pixels, GST_VIDEO_FRAME_FLAG_NONE,
      GST_VIDEO_OVERLAY_COMPOSITION_FORMAT_RGB, 4, 4);
  up_rect = gst_video_overlay_rectangle_new_raw (
      up_pixels, 0, 0, 4, 4, GST_VIDEO_OVERLAY_FORMAT_FLAG_NONE);
  up = gst_video_overlay_composition_new (up_rect);
  gst_buffer_add_video_overlay_composition_meta (in, up);
  out = push_pull (h, in);
  fail_unless (buffers_equal (out, ref));
  meta = gst_buffer_get_video_overlay_composition_meta (out);
  fail_unless (meta != NULL);
  fail_unless_equals_int (
      gst_video_overlay_composition_n_rectangles (meta->overlay), n + 1);
  fail_unless (gst_video_overlay_composition_get_rectangle (meta->overlay, 0)
               == up_rect);
  gst_buffer_unref (out);

  gst_video_overlay_composition_unref (up);
  gst_video_overlay_rectangle_unref (up_rect);
  gst_buffer_unref (up_pixels);
  gst_buffer_unref (ref);
  gst_buffer_unref (in);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Events go through, in order; EOS too. */
GST_START_TEST (test_events)
{
  GstVideoInfo info;
  GstHarness *h = new_harness ("RGB", 64, 48, &info);
  GstEvent *e;
  GstBuffer *in = new_uniform_frame (&info, grey);

  add_face (in, 1, 5, 5, 20, 20, ALL_TASKS, TRUE);
  gst_buffer_unref (push_pull (h, in));
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  /* stream-start, caps, segment, eos */
  e = gst_harness_pull_event (h);
  fail_unless_equals_int (GST_EVENT_TYPE (e), GST_EVENT_STREAM_START);
  gst_event_unref (e);
  e = gst_harness_pull_event (h);
  fail_unless_equals_int (GST_EVENT_TYPE (e), GST_EVENT_CAPS);
  gst_event_unref (e);
  e = gst_harness_pull_event (h);
  fail_unless_equals_int (GST_EVENT_TYPE (e), GST_EVENT_SEGMENT);
  gst_event_unref (e);
  e = gst_harness_pull_event (h);
  fail_unless_equals_int (GST_EVENT_TYPE (e), GST_EVENT_EOS);
  gst_event_unref (e);
  gst_buffer_unref (in);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* Photos, golden faces and PNGs                                       */
/* ------------------------------------------------------------------ */

static gchar *
cache_dir (void)
{
  const gchar *env = g_getenv ("AFFECT_CACHE_DIR");

  if (env && env[0])
    return g_strdup (env);
  return g_build_filename (g_get_user_cache_dir (), "gst-affect", NULL);
}

/* A region of a demo photo, shown scaled to a frame of @out_w × @out_h:
 * (x, y) its top-left corner in the photo and @scale frame pixels per photo
 * pixel. */
typedef struct {
  const gchar *sample;
  gdouble x, y, scale;
} Crop;

/* Fills a BGRx frame with the photo region; FALSE when the photo is
 * missing. */
static gboolean
load_photo (const Crop *crop, gint out_w, gint out_h, guint8 *bgrx, gint stride)
{
  gchar *dir = cache_dir ();
  gchar *file = g_strdup_printf ("%s.png", crop->sample);
  gchar *path = g_build_filename (dir, "test-inputs", file, NULL);
  guint8 *rgb = NULL, *argb;
  gint w, h, x, y, src_stride;
  GError *err = NULL;
  cairo_surface_t *src, *dst;
  cairo_t *cr;

  g_free (dir);
  g_free (file);
  if (!g_file_test (path, G_FILE_TEST_EXISTS)
      || !affect_image_load_png (path, &rgb, &w, &h, &err)) {
    g_printerr ("note: %s not available (%s); the PNG gets a synthetic "
                "background (run affect-fetch-models and "
                "tests/golden/face-api/prepare.sh for the photo)\n",
        path, err ? err->message : "missing");
    g_clear_error (&err);
    g_free (path);
    return FALSE;
  }
  g_free (path);

  src = cairo_image_surface_create (CAIRO_FORMAT_RGB24, w, h);
  argb = cairo_image_surface_get_data (src);
  src_stride = cairo_image_surface_get_stride (src);
  cairo_surface_flush (src);
  for (y = 0; y < h; y++)
    for (x = 0; x < w; x++) {
      const guint8 *p = rgb + 3 * ((gsize)w * y + x);
      *(guint32 *)(argb + (gsize)src_stride * y + 4 * x)
          = 0xff000000u | (p[0] << 16) | (p[1] << 8) | p[2];
    }
  cairo_surface_mark_dirty (src);
  g_free (rgb);

  dst = cairo_image_surface_create_for_data (
      bgrx, CAIRO_FORMAT_RGB24, out_w, out_h, stride);
  cr = cairo_create (dst);
  cairo_scale (cr, crop->scale, crop->scale);
  cairo_set_source_surface (cr, src, -crop->x, -crop->y);
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_GOOD);
  cairo_paint (cr);
  cairo_destroy (cr);
  cairo_surface_destroy (dst);
  cairo_surface_destroy (src);
  return TRUE;
}

static void
synthetic_background (gint w, gint h, guint8 *bgrx, gint stride)
{
  gint x, y;

  for (y = 0; y < h; y++)
    for (x = 0; x < w; x++) {
      guint8 *p = bgrx + (gsize)stride * y + 4 * x;
      p[0] = 60 + x * 120 / w;
      p[1] = 70 + y * 120 / h;
      p[2] = 90;
      p[3] = 0xff;
    }
}

/* A BGRx frame of the photo region (or a synthetic background). */
static GstBuffer *
new_photo_frame (const GstVideoInfo *info, const Crop *crop)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, info->size, NULL);
  GstVideoFrame frame;
  gint w = GST_VIDEO_INFO_WIDTH (info), h = GST_VIDEO_INFO_HEIGHT (info);
  guint8 *data;
  gint stride;

  /* rows the scaled photo only partly covers are blended with this */
  gst_buffer_memset (buf, 0, 0, info->size);

  fail_unless (gst_video_frame_map (&frame, info, buf, GST_MAP_WRITE));
  data = GST_VIDEO_FRAME_PLANE_DATA (&frame, 0);
  stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);
  if (!load_photo (crop, w, h, data, stride))
    synthetic_background (w, h, data, stride);
  gst_video_frame_unmap (&frame);
  GST_BUFFER_PTS (buf) = 0;
  GST_BUFFER_DURATION (buf) = 40 * GST_MSECOND;
  return buf;
}

/* Adds the faces @picked (indices into the golden face-api output of the
 * photo; all of them when @picked is NULL) as track @first_id, @first_id +
 * @id_step, ..., with face-api's boxes, landmarks and expression
 * probabilities, and illustrative AU and VA values. Returns the number of
 * faces added; 0 when the golden file is missing. */
static guint
add_golden_faces (GstBuffer *buf, const Crop *crop, const guint *picked,
    guint n_picked, guint first_id, guint id_step)
{
  const gchar *srcdir = g_getenv ("AFFECT_TEST_SRCDIR");
  gchar *file = g_strdup_printf ("%s.json", crop->sample);
  gchar *path = g_build_filename (
      srcdir ? srcdir : "tests", "golden", "face-api", file, NULL);
  JsonParser *parser = json_parser_new ();
  JsonArray *ssd, *faces;
  /* face-api order -> ABAW order (expr_labels) */
  static const guint to_abaw[7] = { 0, 4, 5, 1, 3, 2, 6 };
  static const gfloat au_demo[12] = { 0.12f, 0.65f, 0.30f, 0.85f, 0.45f, 0.20f,
    0.92f, 0.05f, 0.38f, 0.55f, 0.75f, 0.15f };
  static const gfloat va_demo[5][2] = { { 0.55f, 0.4f }, { -0.35f, 0.2f },
    { 0.1f, -0.45f }, { 0.7f, 0.65f }, { -0.2f, -0.1f } };
  guint n_au, k, i, n;
  const gchar *const *au_labels = gst_affect_abaw_au_labels (&n_au);
  gboolean ok;

  ok = json_parser_load_from_file (parser, path, NULL);
  g_free (path);
  g_free (file);
  if (!ok) {
    g_object_unref (parser);
    return 0;
  }
  ssd = json_object_get_array_member (
      json_node_get_object (json_parser_get_root (parser)), "ssd");
  faces = json_object_get_array_member (
      json_node_get_object (json_parser_get_root (parser)), "faces");
  n = picked ? n_picked : json_array_get_length (ssd);
  for (k = 0; k < n; k++) {
    guint f = picked ? picked[k] : k, id = first_id + k * id_step;
    JsonArray *box = json_object_get_array_member (
        json_array_get_object_element (ssd, f), "box");
    JsonObject *face = json_array_get_object_element (faces, f);
    JsonArray *lms = json_object_get_array_member (face, "landmarks");
    JsonArray *expr = json_object_get_array_member (face, "expression");
    gfloat pts[2 * GST_AFFECT_N_LANDMARKS], e[7], au[GST_AFFECT_MAX_AU];
    GstAffectFaceMeta *m;
    GstAffectPredictions p;

    m = gst_buffer_add_affect_face_meta (buf, id,
        (json_array_get_double_element (box, 0) - crop->x) * crop->scale,
        (json_array_get_double_element (box, 1) - crop->y) * crop->scale,
        json_array_get_double_element (box, 2) * crop->scale,
        json_array_get_double_element (box, 3) * crop->scale,
        json_object_get_double_member (
            json_array_get_object_element (ssd, f), "score"));
    fail_unless (m != NULL);
    for (i = 0; i < GST_AFFECT_N_LANDMARKS; i++) {
      JsonArray *pt = json_array_get_array_element (lms, i);
      pts[2 * i]
          = (json_array_get_double_element (pt, 0) - crop->x) * crop->scale;
      pts[2 * i + 1]
          = (json_array_get_double_element (pt, 1) - crop->y) * crop->scale;
    }
    gst_affect_face_meta_set_landmarks (m, pts, GST_AFFECT_N_LANDMARKS);

    for (i = 0; i < 7; i++)
      e[to_abaw[i]] = json_array_get_double_element (expr, i);
    gst_affect_predictions_init (&p);
    fail_unless (gst_affect_predictions_set_expression (&p, 7, expr_labels, e));
    /* AU and VA: illustrative values (no AU/VA model in this test) */
    for (i = 0; i < n_au; i++)
      au[i] = au_demo[(i + 5 * k) % G_N_ELEMENTS (au_demo)];
    fail_unless (gst_affect_predictions_set_au (&p, n_au, au_labels, au));
    gst_affect_predictions_set_va (&p, va_demo[k % 5][0], va_demo[k % 5][1]);
    fail_unless (gst_buffer_add_affect_predictions_meta (buf, id, &p) != NULL);
  }
  g_object_unref (parser);
  return n;
}

/* Writes a BGRx frame to <builddir>/@name. */
static void
write_png (const GstVideoInfo *info, GstBuffer *buf, const gchar *name)
{
  const gchar *builddir = g_getenv ("AFFECT_TEST_BUILDDIR");
  gchar *path = g_build_filename (builddir ? builddir : ".", name, NULL);
  gint w = GST_VIDEO_INFO_WIDTH (info), h = GST_VIDEO_INFO_HEIGHT (info);
  GstVideoFrame frame;
  cairo_surface_t *surface;
  cairo_status_t status;

  fail_unless (gst_video_frame_map (&frame, info, buf, GST_MAP_READ));
  /* BGRx is cairo's RGB24 on little-endian machines; write through a
   * copy so that big-endian ones get correct colours too */
  surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, w, h);
  {
    guint8 *dst = cairo_image_surface_get_data (surface);
    gint dst_stride = cairo_image_surface_get_stride (surface), x, y;
    const guint8 *src = GST_VIDEO_FRAME_PLANE_DATA (&frame, 0);
    gint src_stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);

    cairo_surface_flush (surface);
    for (y = 0; y < h; y++)
      for (x = 0; x < w; x++) {
        const guint8 *p = src + (gsize)src_stride * y + 4 * x;
        *(guint32 *)(dst + (gsize)dst_stride * y + 4 * x)
            = 0xff000000u | (p[2] << 16) | (p[1] << 8) | p[0];
      }
    cairo_surface_mark_dirty (surface);
  }
  gst_video_frame_unmap (&frame);
  status = cairo_surface_write_to_png (surface, path);
  cairo_surface_destroy (surface);
  fail_unless_equals_int (status, CAIRO_STATUS_SUCCESS);
  fail_unless (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  g_printerr ("affectoverlay: wrote %s\n", path);
  g_free (path);
}

static void
add_synthetic_faces (GstBuffer *buf)
{
  add_face (buf, 3, 90, 80, 90, 120, ALL_TASKS, TRUE);
  add_face (buf, 8, 380, 120, 80, 110, ALL_TASKS, TRUE);
}

/* The crop of sample2 shown (a 4:3 region of the 1920×1367 photo with two
 * of its three faces), scaled to 640×480. */
static const Crop sample2_crop = { "sample2", 200.0, 40.0, 640.0 / 1200.0 };

GST_START_TEST (test_sample_png)
{
  static const guint picked[2] = { 2, 1 }; /* the two left faces */
  GstVideoInfo info;
  GstHarness *h = new_harness ("BGRx", 640, 480, &info);
  GstBuffer *in = new_photo_frame (&info, &sample2_crop), *out;

  if (add_golden_faces (in, &sample2_crop, picked, 2, 3, 5) == 0)
    add_synthetic_faces (in);
  fail_unless_equals_int (gst_buffer_get_n_affect_faces (in), 2);

  gst_util_set_object_arg (
      G_OBJECT (h->element), "draw", "boxes+ids+landmarks+expression+au+va");
  out = push_pull (h, in);
  write_png (&info, out, "affectoverlay-sample.png");
  fail_if (buffers_equal (in, out));

  gst_buffer_unref (out);
  gst_buffer_unref (in);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* Colours, placement, compact form, sizes, steadiness                 */
/* ------------------------------------------------------------------ */

/* The colour of the pixel (@x, @y) of an RGB frame as 0xRRGGBB. */
static guint32
rgb_at (const Pixels *p, gint x, gint y)
{
  const guint8 *v = pixel_at (p, x, y);

  fail_if (p->yuv);
  return ((guint32)v[1] << 16) | ((guint32)v[2] << 8) | v[3];
}

/* ------------------------------------------------------------------ */
/* Head pose axes                                                      */
/* ------------------------------------------------------------------ */

#define POSE_RED 0xff2020
#define POSE_GREEN 0x20e020
#define POSE_BLUE 0x2080ff

typedef struct {
  gboolean has_pose;
  gfloat yaw, pitch, roll;
} PoseCase;

/* One 100 × 100 face at (110, 70), its nose tip (landmark 30) at the box
 * centre (160, 120). */
static void
add_pose_face (GstBuffer *buf, gpointer data)
{
  const PoseCase *c = data;
  GstAffectFaceMeta *m;

  add_face (buf, 1, 110, 70, 100, 100, 0, FALSE);
  m = gst_buffer_get_affect_face_meta_by_track (buf, 1);
  m->landmarks[30][0] = 160.0f;
  m->landmarks[30][1] = 120.0f;
  if (c->has_pose)
    gst_affect_face_meta_set_pose (m, buf, c->yaw, c->pitch, c->roll);
}

/* The colour of the pixel at @d pixels from the nose tip in the direction
 * (@dx, @dy). */
static guint32
pose_pixel (const Pixels *px, gdouble dx, gdouble dy, gdouble d)
{
  return rgb_at (px, (gint)lround (160 + d * dx), (gint)lround (120 + d * dy));
}

/* draw=pose: three axes from the nose tip, 40 px long (0.4 × the box),
 * red to the face's left, green up, blue out of the face; rotated with the
 * pose; nothing without a pose or without the flag. */
GST_START_TEST (test_pose_axes)
{
  PoseCase frontal = { TRUE, 0, 0, 0 }, rolled = { TRUE, 0, 0, 90 };
  PoseCase turned = { TRUE, 90, 0, 0 }, none = { FALSE, 0, 0, 0 };
  Pixels px, ref, boxes;
  gint d;

  render (&ref, "BGRx", 320, 240, "", add_pose_face, &frontal);

  /* frontal: red to the image right, green up; blue points at the viewer
   * (no length) */
  render (&px, "BGRx", 320, 240, "pose", add_pose_face, &frontal);
  for (d = 5; d <= 36; d += 4) {
    fail_unless_equals_int (pose_pixel (&px, 1, 0, d), POSE_RED);
    fail_unless_equals_int (pose_pixel (&px, 0, -1, d), POSE_GREEN);
  }
  /* nothing to the left, below or beyond the axes' ends */
  fail_unless (rgb_at (&px, 160 - 20, 120) == rgb_at (&ref, 160 - 20, 120));
  fail_unless (rgb_at (&px, 160, 120 + 20) == rgb_at (&ref, 160, 120 + 20));
  fail_unless (rgb_at (&px, 160 + 46, 120) == rgb_at (&ref, 160 + 46, 120));
  fail_unless (rgb_at (&px, 160, 120 - 46) == rgb_at (&ref, 160, 120 - 46));
  /* only near the axes: the rest of the frame is untouched */
  fail_unless (count_changed (&px, &ref, NULL) < 2 * 45 * 8);
  pixels_clear (&px);

  /* roll 90 (clockwise): the face's left points down, its up to the right */
  render (&px, "BGRx", 320, 240, "pose", add_pose_face, &rolled);
  for (d = 5; d <= 36; d += 4) {
    fail_unless_equals_int (pose_pixel (&px, 0, 1, d), POSE_RED);
    fail_unless_equals_int (pose_pixel (&px, 1, 0, d), POSE_GREEN);
  }
  pixels_clear (&px);

  /* yaw 90 (turned to its left): forward points to the image right, its
   * left away from the viewer (no length), up stays up */
  render (&px, "BGRx", 320, 240, "pose", add_pose_face, &turned);
  for (d = 5; d <= 36; d += 4) {
    fail_unless_equals_int (pose_pixel (&px, 1, 0, d), POSE_BLUE);
    fail_unless_equals_int (pose_pixel (&px, 0, -1, d), POSE_GREEN);
  }
  pixels_clear (&px);

  /* no pose, or the flag off: the same frame as drawing nothing */
  render (&px, "BGRx", 320, 240, "pose", add_pose_face, &none);
  fail_unless_equals_int (count_changed (&px, &ref, NULL), 0);
  pixels_clear (&px);
  render (&boxes, "BGRx", 320, 240, "boxes", add_pose_face, &none);
  render (&px, "BGRx", 320, 240, "boxes", add_pose_face, &frontal);
  fail_unless_equals_int (count_changed (&px, &boxes, NULL), 0);
  pixels_clear (&px);
  pixels_clear (&boxes);
  pixels_clear (&ref);
}

GST_END_TEST;

/* The axes are a part the panels keep clear of, and the logged layout
 * still covers every drawn pixel. */
GST_START_TEST (test_pose_axes_layout)
{
  PoseCase frontal = { TRUE, 0, 0, 0 };
  Pixels px, ref;

  render (&ref, "BGRx", 320, 240, "", add_pose_face, &frontal);
  log_start ();
  render (&px, "BGRx", 320, 240, "boxes+ids+pose", add_pose_face, &frontal);
  fail_unless_equals_int (log_faces->len, 1);
  /* the axes reach 40 px from (160, 120), inside the box: the kept area
   * is the box outline (and tag) */
  fail_unless (
      logged_face (0)->keep[0] <= 110 && logged_face (0)->keep[2] >= 210);
  check_log_matches_pixels (&px, &ref);
  log_stop ();
  pixels_clear (&px);
  pixels_clear (&ref);
}

GST_END_TEST;

/* Every track its own colour (box and tag), also for ids equal modulo the
 * palette size, kept from frame to frame; a new track takes a colour no
 * visible one has; color-mode=single paints every face in box-color. */
GST_START_TEST (test_track_colors)
{
  static const guint ids[6] = { 1, 2, 3, 4, 5, 15 };
  GstVideoInfo info;
  GstHarness *h = new_harness ("BGRx", 640, 480, &info);
  GstBuffer *in, *out;
  guint32 color[6], c;
  Pixels px;
  guint i, j;

  gst_util_set_object_arg (G_OBJECT (h->element), "draw", "boxes+ids");
  g_object_set (h->element, "line-width", 4.0, NULL);
  log_start ();

  in = new_uniform_frame (&info, grey);
  for (i = 0; i < 6; i++)
    add_face (in, ids[i], 12 + i * 105, 100, 80, 100, ALL_TASKS, TRUE);
  out = push_pull (h, in);
  pixels_from_buffer (&px, &info, out);
  fail_unless_equals_int (log_faces->len, 6);
  for (i = 0; i < 6; i++) {
    /* the left edge of the box, and the tag above it */
    color[i] = rgb_at (&px, 12 + i * 105, 150);
    fail_unless_equals_int (rgb_at (&px, 12 + i * 105 + 1, 150), color[i]);
    fail_unless_equals_int (rgb_at (&px, 12 + i * 105 + 1, 92), color[i]);
    fail_unless_equals_int (logged_face (i)->color & 0xffffff, color[i]);
    fail_if (color[i] == 0x808080, "track %u not drawn", ids[i]);
    for (j = 0; j < i; j++)
      fail_if (color[i] == color[j], "tracks %u and %u: both 0x%06x", ids[i],
          ids[j], color[i]);
  }
  pixels_clear (&px);
  gst_buffer_unref (out);
  gst_buffer_unref (in);

  /* next frame: the same tracks elsewhere and in another order, and a new
   * one */
  log_reset ();
  in = new_uniform_frame (&info, grey);
  GST_BUFFER_PTS (in) = 40 * GST_MSECOND;
  add_face (in, 16, 300, 330, 80, 100, ALL_TASKS, TRUE);
  for (i = 6; i-- > 0;)
    add_face (in, ids[i], 12 + (5 - i) * 105, 120, 80, 100, ALL_TASKS, TRUE);
  out = push_pull (h, in);
  pixels_from_buffer (&px, &info, out);
  for (i = 0; i < 6; i++)
    fail_unless_equals_int (rgb_at (&px, 12 + (5 - i) * 105, 170), color[i]);
  c = rgb_at (&px, 300, 380);
  for (i = 0; i < 6; i++)
    fail_if (c == color[i], "the new track has the colour of track %u", ids[i]);
  pixels_clear (&px);
  gst_buffer_unref (out);

  /* one colour for all */
  gst_util_set_object_arg (G_OBJECT (h->element), "color-mode", "single");
  g_object_set (h->element, "box-color", RED, NULL);
  GST_BUFFER_PTS (in) = 80 * GST_MSECOND;
  out = push_pull (h, in);
  pixels_from_buffer (&px, &info, out);
  for (i = 0; i < 6; i++)
    fail_unless (pixel_has_color (&px, 12 + (5 - i) * 105, 170, RED));
  fail_unless (pixel_has_color (&px, 300, 380, RED));
  pixels_clear (&px);
  gst_buffer_unref (out);
  gst_buffer_unref (in);

  log_stop ();
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A crowded frame: eight faces with all tasks on 640×480. */
static const gfloat crowd[8][4] = { { 30, 60, 72, 84 }, { 190, 40, 70, 86 },
  { 350, 70, 74, 80 }, { 520, 50, 70, 84 }, { 40, 290, 76, 88 },
  { 200, 260, 70, 84 }, { 370, 300, 72, 86 }, { 530, 280, 70, 82 } };

static void
add_crowd (GstBuffer *buf, gpointer data)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (crowd); i++)
    add_face (buf, 1 + i, crowd[i][0], crowd[i][1], crowd[i][2], crowd[i][3],
        ALL_TASKS, TRUE);
}

/* placement=auto in a crowded frame: every face gets a panel, no panel
 * covers another panel, a box or a tag; some fall back to the compact form;
 * the logged layout is what is drawn. With room, all panels are full. */
GST_START_TEST (test_crowded_no_overlap)
{
  GstVideoInfo info;
  GstHarness *h = new_harness ("BGRx", 640, 480, &info);
  GstBuffer *in = new_uniform_frame (&info, grey), *out;
  Pixels px, ref;
  guint compact;

  pixels_from_buffer (&ref, &info, in);
  g_object_set (h->element, "line-width", 2.0, NULL);
  log_start ();
  add_crowd (in, NULL);
  out = push_pull (h, in);
  compact = check_no_overlap (crowd, G_N_ELEMENTS (crowd), 640, 480, 1);
  fail_unless (compact > 0, "no compact panel");
  pixels_from_buffer (&px, &info, out);
  check_log_matches_pixels (&px, &ref);
  write_png (&info, out, "affectoverlay-crowded.png");
  pixels_clear (&px);
  gst_buffer_unref (out);
  gst_buffer_unref (in);

  /* the same faces on a frame four times as big: room for full panels */
  gst_harness_teardown (h);
  h = new_harness ("GRAY8", 2560, 1920, &info);
  g_object_set (h->element, "line-width", 2.0, "font-desc", "Sans 9", NULL);
  in = new_uniform_frame (&info, grey);
  {
    gfloat big[8][4];
    guint i, k;

    for (i = 0; i < 8; i++)
      for (k = 0; k < 4; k++)
        big[i][k] = crowd[i][k] * 4;
    for (i = 0; i < 8; i++)
      add_face (in, 1 + i, big[i][0], big[i][1], big[i][2], big[i][3],
          ALL_TASKS, TRUE);
    log_reset ();
    out = push_pull (h, in);
    fail_unless_equals_int (check_no_overlap (big, 8, 2560, 1920, 1), 0);
    gst_buffer_unref (out);
  }
  gst_buffer_unref (in);
  pixels_clear (&ref);
  log_stop ();
  gst_harness_teardown (h);
}

GST_END_TEST;

/* draw=...+compact: one line per face (the top expression, valence and
 * arousal), far fewer pixels than the panel; with only AUs the active ones;
 * with no prediction, nothing. */
GST_START_TEST (test_compact_mode)
{
  GstVideoInfo info;
  GstHarness *h = new_harness ("BGRx", 640, 480, &info);
  GstBuffer *in = new_uniform_frame (&info, grey), *out;
  Pixels ref, full, comp;
  guint n_full, n_comp, i;
  const gint font_px = 12;

  pixels_from_buffer (&ref, &info, in);
  add_face (in, 1, 101, 101, 90, 110, ALL_TASKS, TRUE);
  add_face (in, 2, 400, 101, 90, 110, GST_AFFECT_TASK_AU, TRUE);
  add_face (in, 3, 250, 330, 90, 110, GST_AFFECT_TASK_VA, TRUE);
  add_face (in, 4, 480, 330, 90, 110, 0, FALSE);
  log_start ();

  out = push_pull (h, in);
  pixels_from_buffer (&full, &info, out);
  gst_buffer_unref (out);
  n_full = count_changed (&full, &ref, NULL);
  for (i = 0; i < 3; i++)
    fail_unless_equals_string (logged_face (i)->form, "full");

  log_reset ();
  gst_util_set_object_arg (
      G_OBJECT (h->element), "draw", "boxes+ids+expression+au+va+compact");
  out = push_pull (h, in);
  pixels_from_buffer (&comp, &info, out);
  gst_buffer_unref (out);
  n_comp = count_changed (&comp, &ref, NULL);
  fail_unless (
      n_comp * 3 < n_full, "compact: %u pixels, full: %u", n_comp, n_full);
  fail_unless_equals_int (log_faces->len, 4);
  for (i = 0; i < 3; i++) {
    const Logged *l = logged_face (i);
    gint ph = l->panel[3] - l->panel[1];

    fail_unless_equals_string (l->form, "compact");
    /* one line of text */
    fail_unless (ph > font_px && ph < 2.5 * font_px, "height %d", ph);
  }
  fail_unless_equals_string (logged_face (3)->form, "none");
  check_log_matches_pixels (&comp, &ref);

  /* the line of the AU-only face names its active AUs: it is wider than
   * the same face's line with no AU active */
  {
    gint w_active = logged_face (1)->panel[2] - logged_face (1)->panel[0];
    GstAffectPredictionsMeta *pm
        = gst_buffer_get_affect_predictions_meta_by_track (in, 2);
    gint w_none;

    for (i = 0; i < pm->predictions.n_au; i++)
      pm->predictions.au[i] = 0.1f;
    log_reset ();
    GST_BUFFER_PTS (in) = GST_SECOND;
    gst_buffer_unref (push_pull (h, in));
    w_none = logged_face (1)->panel[2] - logged_face (1)->panel[0];
    fail_unless (w_active > w_none + 2 * font_px, "%d vs %d", w_active, w_none);
  }

  pixels_clear (&ref);
  pixels_clear (&full);
  pixels_clear (&comp);
  gst_buffer_unref (in);
  log_stop ();
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Fonts and lines follow the frame height, less than proportionally: the
 * box outline is 2 pixels on 360 and 480 lines, 3 on 720, 4 on 1080, 6 on
 * 2160; the text grows with the frame, stays readable at 360 lines, and
 * takes a smaller share of a 4K frame than of a 360-line one. */
GST_START_TEST (test_scaling)
{
  static const struct {
    gint w, h, lw;
  } sizes[] = { { 640, 360, 2 }, { 640, 480, 2 }, { 1280, 720, 3 },
    { 1920, 1080, 4 }, { 3840, 2160, 6 } };
  guint n = G_N_ELEMENTS (sizes), i;
  gint tag_h[5], panel_h[5];

  if (g_getenv ("AFFECT_UNDER_VALGRIND"))
    n--; /* no 4K frame under valgrind */
  log_start ();
  for (i = 0; i < n; i++) {
    GstVideoInfo info;
    GstHarness *h = new_harness ("BGRx", sizes[i].w, sizes[i].h, &info);
    GstBuffer *in = new_uniform_frame (&info, grey), *out;
    gint fx = sizes[i].w / 4 + 1, fy = sizes[i].h / 4 + 1, x = fx, lw = 0;
    Pixels px;

    gst_util_set_object_arg (G_OBJECT (h->element), "color-mode", "single");
    g_object_set (h->element, "box-color", RED, NULL);
    add_face (
        in, 1, fx, fy, sizes[i].h / 5.0f, sizes[i].h / 4.0f, ALL_TASKS, TRUE);
    log_reset ();
    out = push_pull (h, in);
    pixels_from_buffer (&px, &info, out);
    /* the outline across the left edge, at mid-height */
    while (x > 0 && pixel_has_color (&px, x - 1, fy + sizes[i].h / 8, RED))
      x--;
    while (pixel_has_color (&px, x + lw, fy + sizes[i].h / 8, RED))
      lw++;
    fail_unless_equals_int (lw, sizes[i].lw);
    fail_unless_equals_int (log_faces->len, 1);
    fail_unless_equals_string (logged_face (0)->form, "full");
    tag_h[i] = logged_face (0)->keep[3] - logged_face (0)->keep[1]
               - (gint)(sizes[i].h / 4.0f) - lw;
    panel_h[i] = logged_face (0)->panel[3] - logged_face (0)->panel[1];
    GST_INFO ("%dx%d: outline %d, tag %d, panel %d", sizes[i].w, sizes[i].h, lw,
        tag_h[i], panel_h[i]);
    if (i > 0) {
      fail_unless (tag_h[i] >= tag_h[i - 1]);
      fail_unless (panel_h[i] >= panel_h[i - 1]);
      /* a smaller share of a bigger frame */
      fail_unless ((gdouble)panel_h[i] / sizes[i].h
                   <= (gdouble)panel_h[i - 1] / sizes[i - 1].h + 1e-9);
    }
    pixels_clear (&px);
    gst_buffer_unref (out);
    gst_buffer_unref (in);
    gst_harness_teardown (h);
  }
  /* a 10-pixel font on 360 lines: the tag (one bold line) is at least 11
   * pixels high */
  fail_unless (tag_h[0] >= 11, "tag of %d pixels on 360 lines", tag_h[0]);
  /* 1080 lines: between 1.5 and 2.25 (= 1080 / 480) times the text of 480
   * lines */
  fail_unless (panel_h[3] > 1.5 * panel_h[1] && panel_h[3] < 2.25 * panel_h[1],
      "panel %d on 1080 lines, %d on 480", panel_h[3], panel_h[1]);
  log_stop ();
}

GST_END_TEST;

/* Expression probabilities of a still face seen through noise: two classes
 * close together, each frame a little different. */
static void
noisy_tie (GRand *rand, gfloat e[7])
{
  guint i;
  gfloat sum = 0;

  for (i = 0; i < 7; i++)
    e[i] = 0.02f + 0.02f * (gfloat)g_rand_double (rand);
  e[0] = 0.40f + 0.12f * (gfloat)g_rand_double (rand);
  e[4] = 0.40f + 0.12f * (gfloat)g_rand_double (rand);
  for (i = 0; i < 7; i++)
    sum += e[i];
  for (i = 0; i < 7; i++)
    e[i] /= sum;
}

static guint
argmax7 (const gfloat e[7])
{
  guint i, best = 0;

  for (i = 1; i < 7; i++)
    if (e[i] > e[best])
      best = i;
  return best;
}

/* Pushes @n frames (25 fps from @first) of track 1 with the expression of
 * @probs (all frames the same when @rand is NULL, else noisy_tie()); returns
 * the number of changes of the arg max. */
static guint
push_expression_frames (GstHarness *h, const GstVideoInfo *info, GRand *rand,
    const gfloat probs[7], guint first, guint n)
{
  guint i, changes = 0, prev = G_MAXUINT;

  for (i = first; i < first + n; i++) {
    GstBuffer *in = new_uniform_frame (info, grey), *out;
    GstAffectPredictionsMeta *pm;
    GstAffectPredictions p;
    gfloat e[7];

    if (rand)
      noisy_tie (rand, e);
    else
      memcpy (e, probs, sizeof (e));
    if (prev != G_MAXUINT && argmax7 (e) != prev)
      changes++;
    prev = argmax7 (e);
    GST_BUFFER_PTS (in) = i * 40 * GST_MSECOND;
    fail_unless (gst_buffer_add_affect_face_meta (in, 1, 60, 60, 80, 90, 1.0f));
    gst_affect_predictions_init (&p);
    fail_unless (gst_affect_predictions_set_expression (&p, 7, expr_labels, e));
    gst_buffer_add_affect_predictions_meta (in, 1, &p);
    out = push_pull (h, in);
    /* the metadata is not changed by the smoothing */
    pm = gst_buffer_get_affect_predictions_meta_by_track (out, 1);
    fail_unless (pm != NULL);
    fail_unless (memcmp (pm->predictions.expr, e, sizeof (e)) == 0);
    gst_buffer_unref (out);
    gst_buffer_unref (in);
  }
  return changes;
}

/* A still face whose top expression flips from frame to frame through noise
 * keeps its headline with the default smoothing and hysteresis; without
 * them the headline follows every flip; a real change of expression still
 * shows within a third of a second. */
GST_START_TEST (test_steady_headline)
{
  static const gfloat happy[7]
      = { 0.05f, 0.02f, 0.02f, 0.02f, 0.85f, 0.02f, 0.02f };
  GstVideoInfo info;
  GstHarness *h = new_harness ("GRAY8", 320, 240, &info);
  GRand *rand = g_rand_new_with_seed (7);
  guint raw_changes;

  gst_util_set_object_arg (
      G_OBJECT (h->element), "draw", "boxes+expression+compact");
  log_start ();

  /* as they come */
  g_object_set (h->element, "smoothing", 0.0, "hysteresis", 0.0, NULL);
  raw_changes = push_expression_frames (h, &info, rand, NULL, 0, 100);
  fail_unless (raw_changes > 20, "%u changes of the arg max", raw_changes);
  fail_unless_equals_int (log_headlines, raw_changes);

  /* the defaults, on a new track */
  gst_harness_teardown (h);
  h = new_harness ("GRAY8", 320, 240, &info);
  gst_util_set_object_arg (
      G_OBJECT (h->element), "draw", "boxes+expression+compact");
  log_reset ();
  raw_changes = push_expression_frames (h, &info, rand, NULL, 0, 100);
  fail_unless (raw_changes > 20);
  fail_unless_equals_int (log_headlines, 0);

  /* the face turns happy: one change, within 8 frames (0.32 s) */
  push_expression_frames (h, &info, NULL, happy, 100, 8);
  fail_unless_equals_int (log_headlines, 1);
  push_expression_frames (h, &info, NULL, happy, 108, 20);
  fail_unless_equals_int (log_headlines, 1);

  g_rand_free (rand);
  log_stop ();
  gst_harness_teardown (h);
}

GST_END_TEST;

/* The demo photo with five faces (sample5), as 640×480, 640×360,
 * 1920×1080 and 3840×2160 frames, with every part drawn: no panel covers a
 * face or another panel. Writes affectoverlay-scene-<w>x<h>.png (the first
 * three) and affectoverlay-scene-640x480-compact.png. */
GST_START_TEST (test_scene_pngs)
{
  static const struct {
    gint w, h;
    Crop crop;
    gboolean png;
  } scenes[] = {
    { 640, 480, { "sample5", 28, 0, 640.0 / 1864 }, TRUE },
    { 640, 360, { "sample5", 0, 100, 1.0 / 3 }, TRUE },
    { 1920, 1080, { "sample5", 0, 100, 1.0 }, TRUE },
    { 3840, 2160, { "sample5", 0, 100, 2.0 }, FALSE },
  };
  guint n = G_N_ELEMENTS (scenes), i, k, compact;

  if (g_getenv ("AFFECT_UNDER_VALGRIND"))
    n = 1; /* 640×480 only (and its compact form) under valgrind */
  log_start ();
  for (i = 0; i < n + 1; i++) {
    /* the last round: 640×480 again, compact */
    guint s = i < n ? i : 0;
    GstVideoInfo info;
    GstHarness *h = new_harness ("BGRx", scenes[s].w, scenes[s].h, &info);
    GstBuffer *in = new_photo_frame (&info, &scenes[s].crop), *out;
    GstAffectFaceMeta *face;
    gpointer state = NULL;
    gfloat boxes[8][4];
    guint n_faces;
    gchar *name;

    n_faces = add_golden_faces (in, &scenes[s].crop, NULL, 0, 1, 1);
    fail_unless_equals_int (n_faces, 5);
    k = 0;
    while ((face = gst_buffer_iterate_affect_face_meta (in, &state))) {
      boxes[k][0] = face->x;
      boxes[k][1] = face->y;
      boxes[k][2] = face->width;
      boxes[k][3] = face->height;
      k++;
    }
    gst_util_set_object_arg (G_OBJECT (h->element), "draw",
        i < n ? "boxes+ids+landmarks+expression+au+va"
              : "boxes+ids+landmarks+expression+au+va+compact");
    log_reset ();
    out = push_pull (h, in);
    compact = check_no_overlap (
        (const gfloat (*)[4])boxes, n_faces, scenes[s].w, scenes[s].h, 0);
    GST_INFO ("%dx%d: %u compact panels", scenes[s].w, scenes[s].h, compact);
    if (i == n)
      fail_unless_equals_int (compact, n_faces);
    if (i == n || scenes[s].png) {
      name = g_strdup_printf ("affectoverlay-scene-%dx%d%s.png", scenes[s].w,
          scenes[s].h, i == n ? "-compact" : "");
      write_png (&info, out, name);
      g_free (name);
    }
    gst_buffer_unref (out);
    gst_buffer_unref (in);
    gst_harness_teardown (h);
  }
  log_stop ();
}

GST_END_TEST;

/* gst-check only watches the criticals of a few log domains; handle those
 * of the metadata library the same way. */
static void
library_log_func (const gchar *domain, GLogLevelFlags level,
    const gchar *message, gpointer user_data)
{
  if (!_gst_check_expecting_log)
    fail ("Unexpected critical/warning: %s: %s", domain, message);
  if (level & G_LOG_LEVEL_CRITICAL)
    _gst_check_raised_critical = TRUE;
  if (level & G_LOG_LEVEL_WARNING)
    _gst_check_raised_warning = TRUE;
}

static Suite *
affectoverlay_suite (void)
{
  Suite *s = suite_create ("affectoverlay");
  TCase *tc = tcase_create ("general");

  g_log_set_handler ("GStreamer-Affect",
      G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING, library_log_func, NULL);

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_properties);
  tcase_add_test (tc, test_no_faces_identical);
  tcase_add_test (tc, test_box_pixels_all_formats);
  tcase_add_test (tc, test_absent_tasks);
  tcase_add_test (tc, test_auto_placement);
  tcase_add_test (tc, test_odd_size_border_faces);
  tcase_add_test (tc, test_many_faces);
  tcase_add_test (tc, test_bad_values);
  tcase_add_test (tc, test_property_change_playing);
  tcase_add_test (tc, test_font_change);
  tcase_add_test (tc, test_attach_meta);
  tcase_add_test (tc, test_events);
  tcase_add_test (tc, test_sample_png);
  tcase_add_test (tc, test_track_colors);
  tcase_add_test (tc, test_pose_axes);
  tcase_add_test (tc, test_pose_axes_layout);
  tcase_add_test (tc, test_crowded_no_overlap);
  tcase_add_test (tc, test_compact_mode);
  tcase_add_test (tc, test_scaling);
  tcase_add_test (tc, test_steady_headline);
  tcase_add_test (tc, test_scene_pngs);
  return s;
}

GST_CHECK_MAIN (affectoverlay);
