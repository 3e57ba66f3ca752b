/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/* Pipeline tests of the visual chain
 *
 *   filesrc ! rawvideoparse ! facecrop ! affectfeatures ! affectfuse ! ...
 *
 * Input clips: the tests write their own clips from the demo photos
 * decoded by the golden helper ($CACHE/test-inputs/sampleN.png) as raw
 * video files (planar I420 or packed RGB, the default GstVideoInfo layout)
 * and read them back with filesrc ! rawvideoparse. Raw video is the
 * deterministic choice: no encoder, no decoder, the analysed pixels are
 * exactly the pixels written, and only gst-plugins-base (rawparse) and the
 * core elements are needed; they are loaded explicitly from
 * $AFFECT_TEST_SYSTEM_PLUGIN_DIR because the test environment hides the
 * system plugins.
 *
 * The "one face" clips look at a 640×480 window of sample6.png around its
 * fourth face (face-api SSD box 250,467 210×291; tiny detector score 0.95
 * at this scale), reduced 2:1 to 320×240 by averaging 2×2 blocks, the
 * window sliding up by one source pixel every fourth frame (the face
 * drifts down by 1/8 pixel per frame; no other face enters).
 *
 * Tests:
 *  - golden: each of the six demo photos at full size through the chain
 *    with detector=ssd and detector=tiny; the face count and the boxes must
 *    equal face-api's (tests/golden/face-api/sampleN.json, lists `ssd` and
 *    `tiny`) within 3 px, and with ssd the top expression of every face
 *    must be face-api's top expression relabelled to the ABAW names;
 *  - seek: two flushing seeks while playing (forward, then back); frames
 *    continue from the seek position, track ids restart with new ids;
 *  - eos: EOS sent by the application mid-clip; affectsink has one JSON line
 *    for each frame that reached it;
 *  - run300: 300 frames through the whole demo pipeline (tee into
 *    affectoverlay and affectsink).
 *
 * Under valgrind (AFFECT_UNDER_VALGRIND=1, set by `meson test --setup
 * valgrind`) one frame through the four networks takes about a minute on
 * the shared 2-core machine, so there the golden comparisons are left out
 * (SSD on one photo alone takes ten minutes), and the clips are short: the
 * seek test uses 12 frames, the EOS test stops after 3, the long run has 10
 * frames (22 min in all, clean). The CI's valgrind stage leaves this test
 * out (it is not in the `valgrind` suite); the CI runs it in full, 300
 * frames included, in the AddressSanitizer/LeakSanitizer/UBSan stage of
 * tests/setup-and-run.sh (the 300-frame run takes about 80 s there).
 *
 * Models and test PNGs missing: the whole executable is skipped (exit 77)
 * with a message, or fails when AFFECT_REQUIRE_MODELS=1. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <gst/video/video.h>
#include <gst/affect/affect.h>
#include <json-glib/json-glib.h>

#include "affect-check.h"
#include "affect-image.h"
#include "affect-modelpath.h"

#define CLIP_W 320
#define CLIP_H 240
#define CLIP_FPS 30
#define BOX_TOLERANCE_PX 3.0

/* ------------------------------------------------------------------ */
/* Inputs                                                              */
/* ------------------------------------------------------------------ */

static gboolean
require_models (void)
{
  return g_strcmp0 (g_getenv ("AFFECT_REQUIRE_MODELS"), "1") == 0;
}

static gboolean
under_valgrind (void)
{
  return g_strcmp0 (g_getenv ("AFFECT_UNDER_VALGRIND"), "1") == 0;
}

static gchar *
sample_png_path (guint n)
{
  gchar *cache = affect_cache_dir ();
  gchar *name = g_strdup_printf ("sample%u.png", n);
  gchar *path = g_build_filename (cache, "test-inputs", name, NULL);

  g_free (name);
  g_free (cache);
  return path;
}

static gchar *
golden_json_path (guint n)
{
  const gchar *srcdir = g_getenv ("AFFECT_TEST_SRCDIR");
  gchar *name = g_strdup_printf ("sample%u.json", n);
  gchar *path;

  if (srcdir == NULL)
    srcdir = "tests";
  path = g_build_filename (srcdir, "golden", "face-api", name, NULL);
  g_free (name);
  return path;
}

/* NULL when every model and test PNG is there, else why not (g_free). */
static gchar *
missing_inputs (void)
{
  static const gchar *const names[] = { "tiny_face_detector_model",
    "ssd_mobilenetv1_model", "face_landmark_68_model", "face_expression_model",
    "face_recognition_model" };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (names); i++) {
    GError *err = NULL;
    gchar *path = affect_model_find (names[i], NULL, &err);

    if (path == NULL) {
      gchar *why = g_strdup_printf ("%s (run affect-fetch-models, i.e. "
                                    "models/face/fetch-face-models.sh)",
          err->message);

      g_error_free (err);
      return why;
    }
    g_free (path);
  }
  for (i = 1; i <= 6; i++) {
    gchar *png = sample_png_path (i);

    if (!g_file_test (png, G_FILE_TEST_EXISTS)) {
      gchar *why = g_strdup_printf ("%s missing (run affect-fetch-models, "
                                    "then tests/golden/face-api/prepare.sh)",
          png);

      g_free (png);
      return why;
    }
    g_free (png);
  }
  return NULL;
}

static gboolean
have_factory (const gchar *name)
{
  GstElementFactory *f = gst_element_factory_find (name);

  if (f == NULL)
    return FALSE;
  gst_object_unref (f);
  return TRUE;
}

/* NULL when the system elements the pipelines need are available. */
static gchar *
missing_system_elements (void)
{
  static const gchar *const core[] = { "libgstcoreelements.so", NULL };
  static const gchar *const rawparse[] = { "libgstrawparse.so", NULL };
  static const gchar *const theora[] = { "libgsttheora.so", NULL };
  static const gchar *const ogg[] = { "libgstogg.so", NULL };
  static const gchar *const needed[]
      = { "filesrc", "filesink", "queue", "tee", "fakesink", "rawvideoparse",
          "theoraenc", "theoradec", "oggmux", "oggdemux" };
  guint i;

  if (!have_factory ("filesrc"))
    affect_check_load_system_plugins (core);
  if (!have_factory ("rawvideoparse"))
    affect_check_load_system_plugins (rawparse);
  if (!have_factory ("theoraenc"))
    affect_check_load_system_plugins (theora);
  if (!have_factory ("oggmux"))
    affect_check_load_system_plugins (ogg);
  for (i = 0; i < G_N_ELEMENTS (needed); i++) {
    if (!have_factory (needed[i]))
      return g_strdup_printf ("element %s not found (set "
                              "AFFECT_TEST_SYSTEM_PLUGIN_DIR to the "
                              "GStreamer plugin folder)",
          needed[i]);
  }
  return NULL;
}

/* ------------------------------------------------------------------ */
/* Clips                                                               */
/* ------------------------------------------------------------------ */

typedef struct {
  guint8 *rgb;
  gint width, height;
} Picture;

static void
picture_load (Picture *p, guint n)
{
  gchar *path = sample_png_path (n);
  GError *err = NULL;

  fail_unless (
      affect_image_load_png (path, &p->rgb, &p->width, &p->height, &err),
      "%s: %s", path, err ? err->message : "?");
  g_free (path);
}

static void
remove_file (gchar *path)
{
  g_unlink (path);
  g_free (path);
}

/* The scratch folder of this run, made by main() and removed at the end. */
static gchar *scratch_dir = NULL;

/* A file name in the scratch folder (g_free). */
static gchar *
scratch_path (const gchar *name)
{
  return g_build_filename (scratch_dir, name, NULL);
}

static void
remove_scratch_dir (void)
{
  GDir *dir = g_dir_open (scratch_dir, 0, NULL);
  const gchar *name;

  while (dir && (name = g_dir_read_name (dir)))
    remove_file (scratch_path (name));
  if (dir)
    g_dir_close (dir);
  g_rmdir (scratch_dir);
  g_clear_pointer (&scratch_dir, g_free);
}

/* Frame @index of the one-face clip, packed RGB CLIP_W × CLIP_H. */
static void
render_one_face_frame (const Picture *p, guint index, guint8 *dst)
{
  const gint x0 = 355 - 320, y0 = 612 - 240 - (gint)(index / 4);
  gint x, y, c;

  for (y = 0; y < CLIP_H; y++) {
    for (x = 0; x < CLIP_W; x++) {
      for (c = 0; c < 3; c++) {
        gint sx = CLAMP (x0 + 2 * x, 0, p->width - 2);
        gint sy = CLAMP (y0 + 2 * y, 0, p->height - 2);
        const guint8 *s = p->rgb + ((gsize)sy * p->width + sx) * 3 + c;
        guint sum = s[0] + s[3] + s[p->width * 3] + s[p->width * 3 + 3];

        dst[((gsize)y * CLIP_W + x) * 3 + c] = (guint8)((sum + 2) / 4);
      }
    }
  }
}

/* Writes @n_frames of the one-face clip as raw I420 to a new file; returns
 * its path (g_free). @first_rgb (nullable) receives frame 0 in RGB. */
static gchar *
write_one_face_clip (guint n_frames, guint8 **first_rgb)
{
  gchar *name = g_strdup_printf ("one-face-%u.i420", n_frames);
  gchar *path = scratch_path (name);
  GstVideoInfo rgb_info, yuv_info;
  GstVideoConverter *conv;
  GstBuffer *rgb_buf, *yuv_buf;
  Picture pic;
  FILE *f;
  guint i;

  g_free (name);
  picture_load (&pic, 6);
  gst_video_info_set_format (&rgb_info, GST_VIDEO_FORMAT_RGB, CLIP_W, CLIP_H);
  gst_video_info_set_format (&yuv_info, GST_VIDEO_FORMAT_I420, CLIP_W, CLIP_H);
  conv = gst_video_converter_new (&rgb_info, &yuv_info,
      gst_structure_new ("options", GST_VIDEO_CONVERTER_OPT_DITHER_METHOD,
          GST_TYPE_VIDEO_DITHER_METHOD, GST_VIDEO_DITHER_NONE,
          GST_VIDEO_CONVERTER_OPT_THREADS, G_TYPE_UINT, 1, NULL));
  rgb_buf = gst_buffer_new_allocate (NULL, rgb_info.size, NULL);
  yuv_buf = gst_buffer_new_allocate (NULL, yuv_info.size, NULL);
  f = g_fopen (path, "wb");
  fail_unless (f != NULL, "cannot write %s", path);

  for (i = 0; i < n_frames; i++) {
    GstVideoFrame in, out;
    GstMapInfo map;
    gint y;

    fail_unless (gst_video_frame_map (&in, &rgb_info, rgb_buf, GST_MAP_WRITE));
    {
      guint8 *packed = g_malloc ((gsize)CLIP_W * CLIP_H * 3);

      render_one_face_frame (&pic, i, packed);
      for (y = 0; y < CLIP_H; y++)
        memcpy ((guint8 *)GST_VIDEO_FRAME_PLANE_DATA (&in, 0)
                    + (gsize)y * GST_VIDEO_FRAME_PLANE_STRIDE (&in, 0),
            packed + (gsize)y * CLIP_W * 3, CLIP_W * 3);
      if (i == 0 && first_rgb)
        *first_rgb = packed;
      else
        g_free (packed);
    }
    fail_unless (gst_video_frame_map (&out, &yuv_info, yuv_buf, GST_MAP_WRITE));
    gst_video_converter_frame (conv, &in, &out);
    gst_video_frame_unmap (&out);
    gst_video_frame_unmap (&in);

    gst_buffer_map (yuv_buf, &map, GST_MAP_READ);
    fail_unless_equals_int (fwrite (map.data, 1, map.size, f), map.size);
    gst_buffer_unmap (yuv_buf, &map);
  }
  fail_unless (fclose (f) == 0);
  gst_buffer_unref (rgb_buf);
  gst_buffer_unref (yuv_buf);
  gst_video_converter_free (conv);
  g_free (pic.rgb);
  return path;
}

/* Writes sample @n at full size as one raw RGB frame (default strides). */
static gchar *
write_sample_frame (guint n, gint *width, gint *height)
{
  gchar *name = g_strdup_printf ("sample%u.rgb", n);
  gchar *path = scratch_path (name);
  GstVideoInfo info;
  Picture pic;
  guint8 *row;
  FILE *f;
  gint y;

  g_free (name);
  picture_load (&pic, n);
  gst_video_info_set_format (
      &info, GST_VIDEO_FORMAT_RGB, pic.width, pic.height);
  row = g_malloc0 (GST_VIDEO_INFO_PLANE_STRIDE (&info, 0));
  f = g_fopen (path, "wb");
  fail_unless (f != NULL, "cannot write %s", path);
  for (y = 0; y < pic.height; y++) {
    memcpy (row, pic.rgb + (gsize)y * pic.width * 3, (gsize)pic.width * 3);
    fail_unless (fwrite (row, 1, GST_VIDEO_INFO_PLANE_STRIDE (&info, 0), f)
                 == (gsize)GST_VIDEO_INFO_PLANE_STRIDE (&info, 0));
  }
  fail_unless (fclose (f) == 0);
  g_free (row);
  *width = pic.width;
  *height = pic.height;
  g_free (pic.rgb);
  return path;
}

/* Encodes the raw I420 clip @raw to Theora in Ogg, a key frame every 15
 * frames; returns the new file's path (g_free). */
static gchar *
encode_ogg_clip (const gchar *raw)
{
  gchar *path = g_strdup_printf ("%s.ogg", raw);
  gchar *desc = g_strdup_printf (
      "filesrc name=src ! rawvideoparse format=i420 width=%d height=%d "
      "framerate=%d/1 ! theoraenc keyframe-freq=15 keyframe-force=15 ! "
      "oggmux ! filesink name=out",
      CLIP_W, CLIP_H, CLIP_FPS);
  GError *err = NULL;
  GstElement *pipe = gst_parse_launch (desc, &err), *e;
  GstBus *bus;
  GstMessage *msg;

  fail_unless (
      pipe != NULL && err == NULL, "%s: %s", desc, err ? err->message : "?");
  e = gst_bin_get_by_name (GST_BIN (pipe), "src");
  g_object_set (e, "location", raw, NULL);
  gst_object_unref (e);
  e = gst_bin_get_by_name (GST_BIN (pipe), "out");
  g_object_set (e, "location", path, NULL);
  gst_object_unref (e);
  bus = gst_element_get_bus (pipe);
  fail_if (gst_element_set_state (pipe, GST_STATE_PLAYING)
           == GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_timed_pop_filtered (
      bus, GST_CLOCK_TIME_NONE, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS,
      "encoding the Ogg clip failed");
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (pipe);
  g_free (desc);
  return path;
}

/* ------------------------------------------------------------------ */
/* What reaches the sink                                               */
/* ------------------------------------------------------------------ */

#define MAX_FACES 16

typedef struct {
  guint track_id;
  gfloat box[4];
  gboolean has_expr;
  gchar top[32];
} FaceRecord;

typedef struct {
  GstClockTime pts;
  guint epoch; /* number of FLUSH_STOP events before this frame */
  guint n_faces;
  FaceRecord faces[MAX_FACES];
  gboolean differs; /* frame 0 only: pixels differ from the clip's */
} FrameRecord;

typedef struct {
  GMutex lock;
  GArray *frames; /* FrameRecord */
  guint epoch;
  const guint8 *reference_rgb; /* nullable: frame 0 of the clip, RGB */
} Recorder;

static void
recorder_init (Recorder *r)
{
  g_mutex_init (&r->lock);
  r->frames = g_array_new (FALSE, TRUE, sizeof (FrameRecord));
  r->epoch = 0;
  r->reference_rgb = NULL;
}

static void
recorder_clear (Recorder *r)
{
  g_array_unref (r->frames);
  g_mutex_clear (&r->lock);
}

static guint
recorder_count (Recorder *r, guint epoch)
{
  guint i, n = 0;

  g_mutex_lock (&r->lock);
  for (i = 0; i < r->frames->len; i++)
    if (g_array_index (r->frames, FrameRecord, i).epoch == epoch)
      n++;
  g_mutex_unlock (&r->lock);
  return n;
}

/* TRUE if the I420 frame in @buf differs from @rgb somewhere by more than
 * the colour conversion round trip can explain (compared on luma). */
static gboolean
frame_differs (GstBuffer *buf, GstPad *pad, const guint8 *rgb)
{
  GstCaps *caps = gst_pad_get_current_caps (pad);
  GstVideoInfo info;
  GstVideoFrame frame;
  guint changed = 0;
  gint x, y;

  fail_unless (caps && gst_video_info_from_caps (&info, caps));
  gst_caps_unref (caps);
  fail_unless (GST_VIDEO_INFO_FORMAT (&info) == GST_VIDEO_FORMAT_I420);
  fail_unless (gst_video_frame_map (&frame, &info, buf, GST_MAP_READ));
  for (y = 0; y < CLIP_H; y++) {
    const guint8 *luma = (const guint8 *)GST_VIDEO_FRAME_PLANE_DATA (&frame, 0)
                         + (gsize)y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);

    for (x = 0; x < CLIP_W; x++) {
      const guint8 *p = rgb + ((gsize)y * CLIP_W + x) * 3;
      gdouble l
          = 16.0 + (65.481 * p[0] + 128.553 * p[1] + 24.966 * p[2]) / 255.0;

      if (fabs (l - luma[x]) > 12.0)
        changed++;
    }
  }
  gst_video_frame_unmap (&frame);
  return changed > 50;
}

static GstPadProbeReturn
record_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Recorder *r = user_data;

  if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_EVENT_FLUSH) {
    GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);

    GST_LOG_OBJECT (pad, "%" GST_PTR_FORMAT, ev);
    if (GST_EVENT_TYPE (ev) == GST_EVENT_FLUSH_STOP) {
      g_mutex_lock (&r->lock);
      r->epoch++;
      g_mutex_unlock (&r->lock);
    }
  } else if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
    FrameRecord rec;
    GstAffectFaceMeta *face;
    gpointer state = NULL;

    memset (&rec, 0, sizeof (rec));
    rec.pts = GST_BUFFER_PTS (buf);
    while ((face = gst_buffer_iterate_affect_face_meta (buf, &state))
           && rec.n_faces < MAX_FACES) {
      FaceRecord *f = &rec.faces[rec.n_faces++];
      GstAffectPredictionsMeta *pm
          = gst_buffer_get_affect_predictions_meta_by_track (
              buf, face->track_id);

      f->track_id = face->track_id;
      f->box[0] = face->x;
      f->box[1] = face->y;
      f->box[2] = face->width;
      f->box[3] = face->height;
      if (pm && (pm->predictions.tasks & GST_AFFECT_TASK_EXPRESSION)
          && pm->predictions.expr_index >= 0
          && (guint)pm->predictions.expr_index < pm->predictions.n_expr) {
        f->has_expr = TRUE;
        g_strlcpy (f->top,
            pm->predictions.expr_labels[pm->predictions.expr_index],
            sizeof (f->top));
      }
    }
    g_mutex_lock (&r->lock);
    rec.epoch = r->epoch;
    GST_LOG_OBJECT (pad, "frame %u pts %" GST_TIME_FORMAT " epoch %u faces %u",
        r->frames->len, GST_TIME_ARGS (rec.pts), rec.epoch, rec.n_faces);
    if (r->reference_rgb && r->frames->len == 0)
      rec.differs = frame_differs (buf, pad, r->reference_rgb);
    g_array_append_val (r->frames, rec);
    g_mutex_unlock (&r->lock);
  }
  return GST_PAD_PROBE_OK;
}

static void
attach_recorder (GstElement *pipe, const gchar *sink_name, Recorder *r)
{
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), sink_name);
  GstPad *pad = gst_element_get_static_pad (sink, "sink");

  gst_pad_add_probe (pad,
      GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_FLUSH, record_probe,
      r, NULL);
  gst_object_unref (pad);
  gst_object_unref (sink);
}

/* ------------------------------------------------------------------ */
/* Running pipelines                                                   */
/* ------------------------------------------------------------------ */

static GstElement *
make_pipeline (const gchar *desc, const gchar *clip, const gchar *jsonl)
{
  GError *err = NULL;
  GstElement *pipe = gst_parse_launch (desc, &err), *e;

  fail_unless (
      pipe != NULL && err == NULL, "%s: %s", desc, err ? err->message : "?");
  e = gst_bin_get_by_name (GST_BIN (pipe), "src");
  g_object_set (e, "location", clip, NULL);
  gst_object_unref (e);
  if (jsonl) {
    e = gst_bin_get_by_name (GST_BIN (pipe), "jsonl");
    g_object_set (e, "location", jsonl, NULL);
    gst_object_unref (e);
  }
  return pipe;
}

/* Fails on an error message; returns TRUE on EOS. Waits up to @timeout. */
static gboolean
poll_bus (GstBus *bus, GstClockTime timeout)
{
  GstMessage *msg = gst_bus_timed_pop_filtered (
      bus, timeout, GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
  gboolean eos = FALSE;

  if (msg == NULL)
    return FALSE;
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *err = NULL;
    gchar *dbg = NULL;

    gst_message_parse_error (msg, &err, &dbg);
    fail ("error from %s: %s (%s)", GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)),
        err->message, dbg ? dbg : "");
  }
  eos = TRUE;
  gst_message_unref (msg);
  return eos;
}

static void
play_to_eos (GstElement *pipe)
{
  GstBus *bus = gst_element_get_bus (pipe);

  fail_if (gst_element_set_state (pipe, GST_STATE_PLAYING)
           == GST_STATE_CHANGE_FAILURE);
  while (!poll_bus (bus, GST_CLOCK_TIME_NONE))
    ;
  gst_object_unref (bus);
}

/* Plays until @n frames of @epoch have reached the recorder (or EOS). */
static void
play_until (GstElement *pipe, Recorder *r, guint epoch, guint n)
{
  GstBus *bus = gst_element_get_bus (pipe);

  while (recorder_count (r, epoch) < n) {
    if (poll_bus (bus, 20 * GST_MSECOND))
      fail ("EOS before %u frames after seek %u", n, epoch);
  }
  gst_object_unref (bus);
}

static void
stop_pipeline (GstElement *pipe)
{
  fail_unless_equals_int (
      gst_element_set_state (pipe, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (pipe);
}

/* ------------------------------------------------------------------ */
/* Golden                                                              */
/* ------------------------------------------------------------------ */

/* face-api label order → ABAW names */
static const gchar *
abaw_name_of_face_api (guint index)
{
  static const gchar *const names[] = { "Neutral", "Happiness", "Sadness",
    "Anger", "Fear", "Disgust", "Surprise" };

  fail_unless (index < G_N_ELEMENTS (names));
  return names[index];
}

static void
read_box (JsonArray *a, gdouble box[4])
{
  guint i;

  fail_unless_equals_int (json_array_get_length (a), 4);
  for (i = 0; i < 4; i++)
    box[i] = json_array_get_double_element (a, i);
}

/* Runs sample @n through the chain with @detector and compares with the
 * golden list of that detector. */
static void
check_golden_sample (guint n, const gchar *detector)
{
  gchar *json_path = golden_json_path (n), *clip, *desc;
  JsonParser *parser = json_parser_new ();
  GError *err = NULL;
  JsonObject *root;
  JsonArray *boxes, *faces;
  GstElement *pipe;
  Recorder rec;
  FrameRecord *fr;
  gboolean used[MAX_FACES] = { FALSE };
  gint width, height;
  guint i, j;

  fail_unless (json_parser_load_from_file (parser, json_path, &err), "%s: %s",
      json_path, err ? err->message : "?");
  root = json_node_get_object (json_parser_get_root (parser));
  boxes = json_object_get_array_member (root, detector);
  faces = json_object_get_array_member (root, "faces");

  clip = write_sample_frame (n, &width, &height);
  desc = g_strdup_printf (
      "filesrc name=src ! rawvideoparse format=rgb width=%d height=%d "
      "framerate=1/1 ! facecrop detector=%s ! affectfeatures ! affectfuse ! "
      "fakesink name=sink sync=false",
      width, height, detector);
  pipe = make_pipeline (desc, clip, NULL);
  recorder_init (&rec);
  attach_recorder (pipe, "sink", &rec);
  play_to_eos (pipe);
  stop_pipeline (pipe);

  fail_unless_equals_int (rec.frames->len, 1);
  fr = &g_array_index (rec.frames, FrameRecord, 0);
  fail_unless (fr->n_faces == json_array_get_length (boxes),
      "sample%u, detector %s: %u faces, face-api found %u", n, detector,
      fr->n_faces, json_array_get_length (boxes));

  /* match every golden box to the nearest unused face */
  for (i = 0; i < json_array_get_length (boxes); i++) {
    JsonObject *g = json_array_get_object_element (boxes, i);
    gdouble gb[4], best_d = G_MAXDOUBLE, worst = 0.0;
    gint best = -1;

    read_box (json_object_get_array_member (g, "box"), gb);
    for (j = 0; j < fr->n_faces; j++) {
      gdouble dx
          = fr->faces[j].box[0] + fr->faces[j].box[2] / 2 - (gb[0] + gb[2] / 2);
      gdouble dy
          = fr->faces[j].box[1] + fr->faces[j].box[3] / 2 - (gb[1] + gb[3] / 2);

      if (!used[j] && dx * dx + dy * dy < best_d) {
        best_d = dx * dx + dy * dy;
        best = j;
      }
    }
    fail_unless (best >= 0);
    used[best] = TRUE;
    for (j = 0; j < 4; j++)
      worst = MAX (worst, fabs (fr->faces[best].box[j] - gb[j]));
    fail_unless (worst <= BOX_TOLERANCE_PX,
        "sample%u, %s face %u: box %.1f,%.1f %.1fx%.1f, face-api "
        "%.1f,%.1f %.1fx%.1f (off by %.2f px)",
        n, detector, i, fr->faces[best].box[0], fr->faces[best].box[1],
        fr->faces[best].box[2], fr->faces[best].box[3], gb[0], gb[1], gb[2],
        gb[3], worst);
    GST_INFO ("sample%u %s face %u: box off by %.3f px, top %s", n, detector, i,
        worst, fr->faces[best].top);

    /* every face gets an expression; with ssd it must be face-api's */
    fail_unless (fr->faces[best].has_expr,
        "sample%u, %s face %u: no expression prediction", n, detector, i);
    if (g_str_equal (detector, "ssd")) {
      JsonArray *probs = json_object_get_array_member (
          json_array_get_object_element (faces, i), "expression");
      guint k, top = 0;

      for (k = 1; k < json_array_get_length (probs); k++)
        if (json_array_get_double_element (probs, k)
            > json_array_get_double_element (probs, top))
          top = k;
      fail_unless_equals_string (
          fr->faces[best].top, abaw_name_of_face_api (top));
    }
  }

  recorder_clear (&rec);
  remove_file (clip);
  g_free (desc);
  g_free (json_path);
  g_object_unref (parser);
}

GST_START_TEST (test_golden_ssd)
{
  check_golden_sample (__i__ + 1, "ssd");
}

GST_END_TEST;

GST_START_TEST (test_golden_tiny)
{
  check_golden_sample (__i__ + 1, "tiny");
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* Seek and flush                                                      */
/* ------------------------------------------------------------------ */

static guint
max_track_id (Recorder *r, guint epoch)
{
  guint i, j, m = 0;

  for (i = 0; i < r->frames->len; i++) {
    FrameRecord *f = &g_array_index (r->frames, FrameRecord, i);

    if (f->epoch == epoch)
      for (j = 0; j < f->n_faces; j++)
        m = MAX (m, f->faces[j].track_id);
  }
  return m;
}

/* Frame number of @pts in a CLIP_FPS clip (rawvideoparse's timestamps may
 * be rounded down by a nanosecond). */
static guint64
frame_of_pts (GstClockTime pts)
{
  fail_unless (GST_CLOCK_TIME_IS_VALID (pts));
  return gst_util_uint64_scale_round (pts, CLIP_FPS, GST_SECOND);
}

/* Checks the frames of @epoch: they start at frame @first, follow each
 * other frame by frame, nearly all show the face with an expression, and
 * their track ids are all above @min_id. */
static void
check_epoch (Recorder *r, guint epoch, guint64 first, guint min_id)
{
  guint64 expect = first;
  guint i, j, n = 0, with_face = 0;

  for (i = 0; i < r->frames->len; i++) {
    FrameRecord *f = &g_array_index (r->frames, FrameRecord, i);

    if (f->epoch != epoch)
      continue;
    fail_unless (frame_of_pts (f->pts) == expect,
        "seek %u, buffer %u: pts %" GST_TIME_FORMAT
        ", expected frame %" G_GUINT64_FORMAT,
        epoch, n, GST_TIME_ARGS (f->pts), expect);
    expect++;
    if (f->n_faces == 1 && f->faces[0].has_expr)
      with_face++;
    for (j = 0; j < f->n_faces; j++)
      fail_unless (f->faces[j].track_id > min_id,
          "seek %u: track id %u was already used before the flush", epoch,
          f->faces[j].track_id);
    n++;
  }
  fail_unless (n > 0);
  fail_unless (with_face * 10 >= n * 9,
      "seek %u: the face was found on %u of %u frames", epoch, with_face, n);
}

GST_START_TEST (test_seek_flush)
{
  /* under valgrind a frame costs about a minute: a 12-frame clip there */
  const gboolean vg = under_valgrind ();
  const guint n_frames = vg ? 12 : 60;
  gchar *raw = write_one_face_clip (n_frames, NULL);
  gchar *clip = encode_ogg_clip (raw);
  const gchar *desc = "filesrc name=src ! oggdemux ! theoradec ! facecrop ! "
                      "affectfeatures ! affectfuse ! fakesink name=sink "
                      "sync=false";
  GstElement *pipe = make_pipeline (desc, clip, NULL);
  /* frames 45 and 30 (9 and 6 under valgrind) */
  GstClockTime seek1
      = gst_util_uint64_scale (n_frames * 3 / 4, GST_SECOND, CLIP_FPS),
      seek2 = gst_util_uint64_scale (n_frames / 2, GST_SECOND, CLIP_FPS);
  Recorder rec;
  guint id0, id1;

  recorder_init (&rec);
  attach_recorder (pipe, "sink", &rec);
  fail_if (gst_element_set_state (pipe, GST_STATE_PLAYING)
           == GST_STATE_CHANGE_FAILURE);

  play_until (pipe, &rec, 0, vg ? 2 : 6);
  fail_unless (gst_element_seek_simple (pipe, GST_FORMAT_TIME,
      GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE, seek1));
  play_until (pipe, &rec, 1, vg ? 1 : 4);
  fail_unless (gst_element_seek_simple (pipe, GST_FORMAT_TIME,
      GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE, seek2));
  play_to_eos (pipe);
  stop_pipeline (pipe);

  /* a flushing seek gives exactly one FLUSH_STOP here */
  fail_unless_equals_int (rec.epoch, 2);
  id0 = max_track_id (&rec, 0);
  id1 = max_track_id (&rec, 1);
  fail_unless (id0 >= 1);
  check_epoch (&rec, 0, 0, 0);
  check_epoch (&rec, 1, frame_of_pts (seek1), id0);
  check_epoch (&rec, 2, frame_of_pts (seek2), MAX (id0, id1));
  /* after the last seek the clip plays to its end */
  fail_unless_equals_int (
      recorder_count (&rec, 2), n_frames - frame_of_pts (seek2));

  recorder_clear (&rec);
  remove_file (clip);
  remove_file (raw);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* EOS mid-clip, and the 300-frame run                                 */
/* ------------------------------------------------------------------ */

/* Checks that @path has one JSON object per recorded frame, in order, with
 * the same pts and face count, and an expression for each face that had
 * one. */
static void
check_jsonl (const gchar *path, Recorder *r)
{
  gchar *text = NULL, **lines;
  GError *err = NULL;
  guint i, n = 0;

  fail_unless (g_file_get_contents (path, &text, NULL, &err), "%s: %s", path,
      err ? err->message : "?");
  lines = g_strsplit (text, "\n", -1);
  for (i = 0; lines[i] && lines[i][0]; i++) {
    JsonParser *parser = json_parser_new ();
    JsonObject *o;
    JsonArray *faces;
    FrameRecord *f;
    guint j;

    fail_unless (json_parser_load_from_data (parser, lines[i], -1, &err),
        "%s line %u: %s", path, i + 1, err ? err->message : "?");
    fail_unless (i < r->frames->len, "%s: more lines than frames", path);
    f = &g_array_index (r->frames, FrameRecord, i);
    o = json_node_get_object (json_parser_get_root (parser));
    fail_unless_equals_uint64 (json_object_get_int_member (o, "pts"), f->pts);
    faces = json_object_get_array_member (o, "faces");
    fail_unless_equals_int (json_array_get_length (faces), f->n_faces);
    for (j = 0; j < f->n_faces; j++) {
      JsonObject *face = json_array_get_object_element (faces, j);

      fail_unless_equals_int (
          json_object_get_int_member (face, "id"), f->faces[j].track_id);
      fail_unless (
          json_object_has_member (face, "expression") == f->faces[j].has_expr);
    }
    g_object_unref (parser);
    n++;
  }
  fail_unless_equals_int (n, r->frames->len);
  g_strfreev (lines);
  g_free (text);
}

GST_START_TEST (test_eos_mid_clip)
{
  const guint n_frames = under_valgrind () ? 20 : 60;
  const guint eos_after = under_valgrind () ? 3 : 10;
  gchar *clip = write_one_face_clip (n_frames, NULL);
  gchar *jsonl = scratch_path ("eos.jsonl");
  /* the queue puts rawvideoparse in push mode, where the source acts on an
   * EOS event sent to the pipeline; it holds at most 4 blocks of the file */
  gchar *desc = g_strdup_printf (
      "filesrc name=src ! queue max-size-buffers=4 ! rawvideoparse "
      "format=i420 width=%d height=%d framerate=%d/1 ! facecrop ! "
      "affectfeatures ! affectfuse ! affectsink name=jsonl sync=false",
      CLIP_W, CLIP_H, CLIP_FPS);
  GstElement *pipe = make_pipeline (desc, clip, jsonl);
  Recorder rec;
  GstBus *bus;

  recorder_init (&rec);
  attach_recorder (pipe, "jsonl", &rec);
  fail_if (gst_element_set_state (pipe, GST_STATE_PLAYING)
           == GST_STATE_CHANGE_FAILURE);
  play_until (pipe, &rec, 0, eos_after);
  fail_unless (gst_element_send_event (pipe, gst_event_new_eos ()));
  bus = gst_element_get_bus (pipe);
  while (!poll_bus (bus, GST_CLOCK_TIME_NONE))
    ;
  gst_object_unref (bus);
  stop_pipeline (pipe);

  GST_INFO ("EOS after %u of %u frames", rec.frames->len, n_frames);
  fail_unless (rec.frames->len >= eos_after && rec.frames->len < n_frames,
      "%u frames reached the sink", rec.frames->len);
  check_epoch (&rec, 0, 0, 0);
  check_jsonl (jsonl, &rec);

  recorder_clear (&rec);
  remove_file (clip);
  remove_file (jsonl);
  g_free (desc);
}

GST_END_TEST;

GST_START_TEST (test_run_300_frames)
{
  /* 300 frames natively (and under ASan); 10 under valgrind, where each
   * frame of the four networks costs about a minute */
  const guint n_frames = under_valgrind () ? 10 : 300;
  guint8 *first_rgb = NULL;
  gchar *clip = write_one_face_clip (n_frames, &first_rgb);
  gchar *jsonl = scratch_path ("run300.jsonl");
  gchar *desc = g_strdup_printf (
      "filesrc name=src ! rawvideoparse format=i420 width=%d height=%d "
      "framerate=%d/1 ! facecrop ! affectfeatures ! affectfuse ! tee name=t "
      "t. ! queue ! affectoverlay ! fakesink name=sink sync=false "
      "t. ! queue ! affectsink name=jsonl sync=false",
      CLIP_W, CLIP_H, CLIP_FPS);
  GstElement *pipe = make_pipeline (desc, clip, jsonl);
  gint64 start = g_get_monotonic_time ();
  Recorder rec, rec_sink;
  GHashTable *ids = g_hash_table_new (NULL, NULL);
  guint i, j;

  recorder_init (&rec);
  recorder_init (&rec_sink);
  rec.reference_rgb = first_rgb;
  attach_recorder (pipe, "sink", &rec);
  attach_recorder (pipe, "jsonl", &rec_sink);
  play_to_eos (pipe);
  stop_pipeline (pipe);
  GST_INFO ("300 frames in %.1f s", (g_get_monotonic_time () - start) / 1e6);

  fail_unless_equals_int (rec.frames->len, n_frames);
  fail_unless_equals_int (rec_sink.frames->len, n_frames);
  check_epoch (&rec, 0, 0, 0);
  /* the overlay drew on the video branch */
  fail_unless (g_array_index (rec.frames, FrameRecord, 0).n_faces == 1);
  fail_unless (g_array_index (rec.frames, FrameRecord, 0).differs,
      "affectoverlay drew nothing on the first frame");
  /* one face, followed: very few track ids */
  for (i = 0; i < rec.frames->len; i++) {
    FrameRecord *f = &g_array_index (rec.frames, FrameRecord, i);

    for (j = 0; j < f->n_faces; j++)
      g_hash_table_add (ids, GUINT_TO_POINTER (f->faces[j].track_id));
  }
  fail_unless (g_hash_table_size (ids) <= 2, "%u track ids for one face",
      g_hash_table_size (ids));
  check_jsonl (jsonl, &rec_sink);

  g_hash_table_unref (ids);
  recorder_clear (&rec);
  recorder_clear (&rec_sink);
  remove_file (clip);
  remove_file (jsonl);
  g_free (first_rgb);
  g_free (desc);
}

GST_END_TEST;

static Suite *
visual_suite (void)
{
  Suite *s = suite_create ("pipelines-visual");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, under_valgrind () ? 3000 : 300);
  /* the full-size golden runs take ten minutes and more under valgrind;
   * facecrop's own tests cover the same code there */
  if (!under_valgrind ()) {
    tcase_add_loop_test (tc, test_golden_ssd, 0, 6);
    tcase_add_loop_test (tc, test_golden_tiny, 0, 6);
  }
  tcase_add_test (tc, test_seek_flush);
  tcase_add_test (tc, test_eos_mid_clip);
  tcase_add_test (tc, test_run_300_frames);
  return s;
}

int
main (int argc, char **argv)
{
  GError *err = NULL;
  gchar *why;
  Suite *s;
  int ret;

  gst_check_init (&argc, &argv);
  why = missing_inputs ();
  if (why == NULL)
    why = missing_system_elements ();
  if (why != NULL) {
    gboolean fail_now = require_models ();

    g_printerr ("%s: %s%s\n", fail_now ? "FAIL" : "SKIP", why,
        fail_now ? " (AFFECT_REQUIRE_MODELS=1)" : "");
    g_free (why);
    return fail_now ? 1 : 77;
  }
  scratch_dir = g_dir_make_tmp ("affect-visual-XXXXXX", &err);
  if (scratch_dir == NULL) {
    g_printerr ("FAIL: no scratch folder: %s\n", err->message);
    g_error_free (err);
    return 1;
  }
  s = visual_suite ();
  ret = gst_check_run_suite (s, "pipelines-visual", __FILE__);
  remove_scratch_dir ();
  return ret;
}
