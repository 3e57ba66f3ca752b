/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/* make-demo-clip: builds the demo video of gst-affect from still photos.
 *
 *   make-demo-clip [-o demo.mp4] [-s 3] [--size 640x480] [--fps 30]
 *                  [--zoom 1.1] [PHOTO.jpg ...]
 *
 * Without PHOTO arguments the six demo photos of the face model package are
 * used, $CACHE/face-api-1.7.15/demo/sample1..6.jpg, where CACHE is
 * ${AFFECT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gst-affect} (put there
 * by affect-fetch-models).
 *
 * Every photo is decoded by GStreamer (filesrc ! jpegdec ! videoconvert !
 * appsink, RGB) and shown for a few seconds with a slow "Ken Burns" move: a
 * crop rectangle with the aspect ratio of the output is interpolated (eased)
 * between the largest such rectangle at one side of the photo and a
 * rectangle zoomed in by --zoom at its centre, zooming in on even photos and
 * out on odd ones. The frames are rendered here (box-filter reduction by an
 * integer factor, then bilinear sampling) and pushed into appsrc; the
 * encoding is appsrc ! videoconvert ! I420 ! x264enc ! h264parse ! mp4mux !
 * filesink (x264enc is in gstreamer1.0-plugins-ugly).
 *
 * The file is written as OUTPUT.part and renamed when complete, so an
 * existing OUTPUT is always a whole clip. Exit status: 0 on success, 1 on
 * error (with a message on stderr). */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>

#define DEMO_N_PHOTOS 6

typedef struct {
  guint8 *rgb; /* packed RGB, stride 3 * width */
  gint width, height;
} Photo;

typedef struct {
  gdouble x, y, w, h;
} Rect;

static void
photo_clear (Photo *p)
{
  g_clear_pointer (&p->rgb, g_free);
  p->width = p->height = 0;
}

/* Turns the error message @msg (consumed) into a GError prefixed with
 * @what. */
static void
set_error_from_message (GstMessage *msg, const gchar *what, GError **error)
{
  GError *err = NULL;
  gchar *dbg = NULL;

  gst_message_parse_error (msg, &err, &dbg);
  g_set_error (error, err->domain, err->code, "%s: %s%s%s", what, err->message,
      dbg ? "\n  " : "", dbg ? dbg : "");
  g_clear_error (&err);
  g_free (dbg);
  gst_message_unref (msg);
}

/* Pops an error message from @bus (waiting up to @timeout) and turns it into
 * a GError prefixed with @what. Returns TRUE if there was one. */
static gboolean
pop_bus_error (
    GstBus *bus, GstClockTime timeout, const gchar *what, GError **error)
{
  GstMessage *msg;

  msg = gst_bus_timed_pop_filtered (bus, timeout, GST_MESSAGE_ERROR);
  if (msg == NULL)
    return FALSE;
  set_error_from_message (msg, what, error);
  return TRUE;
}

/* Decodes the JPEG @path to packed RGB with a small GStreamer pipeline. */
static gboolean
decode_photo (const gchar *path, Photo *out, GError **error)
{
  GstElement *pipe, *src, *sink;
  GstSample *sample = NULL;
  GstBus *bus;
  GstVideoInfo info;
  GstVideoFrame frame;
  gboolean ok = FALSE;
  gint y;

  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR)) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
        "%s: no such file (run affect-fetch-models, "
        "i.e. bash models/face/fetch-face-models.sh, to get the demo photos)",
        path);
    return FALSE;
  }

  pipe = gst_parse_launch ("filesrc name=src ! jpegdec ! videoconvert ! "
                           "video/x-raw,format=RGB ! appsink name=sink",
      error);
  if (pipe == NULL) {
    g_prefix_error (error, "cannot build the JPEG decoder (is "
                           "gstreamer1.0-plugins-good installed?): ");
    return FALSE;
  }
  src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  g_object_set (src, "location", path, NULL);
  g_object_set (sink, "sync", FALSE, NULL);
  bus = gst_element_get_bus (pipe);

  if (gst_element_set_state (pipe, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE) {
    if (!pop_bus_error (bus, 0, path, error))
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_STATE_CHANGE,
          "%s: cannot start the decoder", path);
    goto done;
  }

  sample = gst_app_sink_pull_sample (GST_APP_SINK (sink));
  if (sample == NULL) {
    if (!pop_bus_error (bus, 0, path, error))
      g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
          "%s: no picture decoded", path);
    goto done;
  }

  if (!gst_video_info_from_caps (&info, gst_sample_get_caps (sample))
      || !gst_video_frame_map (
          &frame, &info, gst_sample_get_buffer (sample), GST_MAP_READ)) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
        "%s: cannot read the decoded picture", path);
    goto done;
  }
  out->width = GST_VIDEO_INFO_WIDTH (&info);
  out->height = GST_VIDEO_INFO_HEIGHT (&info);
  out->rgb = g_malloc ((gsize)out->width * out->height * 3);
  for (y = 0; y < out->height; y++) {
    memcpy (out->rgb + (gsize)y * out->width * 3,
        (const guint8 *)GST_VIDEO_FRAME_PLANE_DATA (&frame, 0)
            + (gsize)y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0),
        (gsize)out->width * 3);
  }
  gst_video_frame_unmap (&frame);
  ok = TRUE;

done:
  if (sample)
    gst_sample_unref (sample);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (pipe);
  return ok;
}

/* Averages @factor × @factor blocks of @p (in place; the last partial
 * blocks are averaged over the pixels they have). */
static void
photo_reduce (Photo *p, gint factor)
{
  gint w, h, x, y, i, j, c;
  guint8 *dst;

  if (factor <= 1)
    return;
  w = (p->width + factor - 1) / factor;
  h = (p->height + factor - 1) / factor;
  dst = g_malloc ((gsize)w * h * 3);
  for (y = 0; y < h; y++) {
    for (x = 0; x < w; x++) {
      guint sum[3] = { 0, 0, 0 }, n = 0;

      for (j = y * factor; j < MIN ((y + 1) * factor, p->height); j++) {
        for (i = x * factor; i < MIN ((x + 1) * factor, p->width); i++) {
          const guint8 *s = p->rgb + ((gsize)j * p->width + i) * 3;

          for (c = 0; c < 3; c++)
            sum[c] += s[c];
          n++;
        }
      }
      for (c = 0; c < 3; c++)
        dst[((gsize)y * w + x) * 3 + c] = (guint8)((sum[c] + n / 2) / n);
    }
  }
  g_free (p->rgb);
  p->rgb = dst;
  p->width = w;
  p->height = h;
}

/* Renders the rectangle @r (in pixels of @p) into @dst (@out_w × @out_h
 * packed RGB, @stride bytes per row) by bilinear sampling, pixel centres
 * mapped onto pixel centres. */
static void
render_rect (const Photo *p, const Rect *r, guint8 *dst, gint out_w, gint out_h,
    gint stride)
{
  gint *x0 = g_new (gint, out_w);
  gfloat *wx = g_new (gfloat, out_w);
  gint x, y, c;

  for (x = 0; x < out_w; x++) {
    gdouble sx = r->x + (x + 0.5) * r->w / out_w - 0.5;

    sx = CLAMP (sx, 0.0, p->width - 1.0);
    x0[x] = MIN ((gint)sx, p->width - 2);
    if (x0[x] < 0)
      x0[x] = 0;
    wx[x] = (gfloat)(sx - x0[x]);
  }
  for (y = 0; y < out_h; y++) {
    gdouble sy = r->y + (y + 0.5) * r->h / out_h - 0.5;
    const guint8 *row0, *row1;
    guint8 *d = dst + (gsize)y * stride;
    gint y0;
    gfloat wy;

    sy = CLAMP (sy, 0.0, p->height - 1.0);
    y0 = MAX (0, MIN ((gint)sy, p->height - 2));
    wy = (gfloat)(sy - y0);
    row0 = p->rgb + (gsize)y0 * p->width * 3;
    row1 = p->rgb + (gsize)MIN (y0 + 1, p->height - 1) * p->width * 3;
    for (x = 0; x < out_w; x++) {
      const gint i0 = x0[x] * 3, i1 = MIN (x0[x] + 1, p->width - 1) * 3;

      for (c = 0; c < 3; c++) {
        gfloat top = row0[i0 + c] + wx[x] * (row0[i1 + c] - row0[i0 + c]);
        gfloat bot = row1[i0 + c] + wx[x] * (row1[i1 + c] - row1[i0 + c]);

        d[3 * x + c] = (guint8)(top + wy * (bot - top) + 0.5f);
      }
    }
  }
  g_free (x0);
  g_free (wx);
}

/* The two ends of the move on a photo of @w × @h with the output aspect
 * @aspect: the largest rectangle of that aspect at one side (left for even
 * @index, right for odd), and the same zoomed in by @zoom around the photo
 * centre. Even photos go wide → zoomed, odd ones zoomed → wide. */
static void
plan_move (gint w, gint h, gdouble aspect, gdouble zoom, guint index,
    Rect *start, Rect *end)
{
  Rect wide, tight;

  if ((gdouble)w / h > aspect) {
    wide.h = h;
    wide.w = h * aspect;
  } else {
    wide.w = w;
    wide.h = w / aspect;
  }
  wide.y = (h - wide.h) / 2;
  wide.x = (index % 2 == 0) ? 0 : w - wide.w;
  tight.w = wide.w / zoom;
  tight.h = wide.h / zoom;
  tight.x = (w - tight.w) / 2;
  tight.y = (h - tight.h) / 2;
  *start = (index % 2 == 0) ? wide : tight;
  *end = (index % 2 == 0) ? tight : wide;
}

/* Waits until appsrc has room for another frame, failing on a pipeline
 * error. */
static gboolean
wait_for_room (GstAppSrc *src, GstBus *bus, guint64 max_bytes, GError **error)
{
  while (gst_app_src_get_current_level_bytes (src) >= max_bytes) {
    if (pop_bus_error (bus, 5 * GST_MSECOND, "encoding", error))
      return FALSE;
  }
  return !pop_bus_error (bus, 0, "encoding", error);
}

typedef struct {
  gchar *output;
  gdouble seconds;
  gint width, height, fps;
  gdouble zoom;
  gboolean quiet;
} Options;

static gboolean
encode_clip (const Options *opt, gchar **photos, guint n_photos, GError **error)
{
  GstElement *pipe, *sink, *src;
  GstBus *bus;
  GstVideoInfo info;
  GstCaps *caps;
  gchar *part = g_strdup_printf ("%s.part", opt->output);
  const guint frames_per_photo
      = MAX (1, (guint)lround (opt->seconds * opt->fps));
  const guint total = frames_per_photo * n_photos;
  guint64 max_bytes;
  guint64 n = 0;
  gboolean ok = FALSE;
  GstMessage *msg;
  guint i, f;

  pipe = gst_parse_launch (
      "appsrc name=src format=time ! videoconvert ! video/x-raw,format=I420 ! "
      "x264enc name=enc ! video/x-h264,profile=high ! h264parse ! "
      "mp4mux ! filesink name=sink",
      error);
  if (pipe == NULL) {
    g_prefix_error (error, "cannot build the H.264/MP4 encoder (are "
                           "gstreamer1.0-plugins-ugly and -good installed?): ");
    g_free (part);
    return FALSE;
  }
  src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  g_object_set (sink, "location", part, NULL);
  {
    GstElement *enc = gst_bin_get_by_name (GST_BIN (pipe), "enc");

    /* a key frame every second keeps seeking in the demo clip cheap; no
     * B-frames, so that the first frame's timestamp in the MP4 is 0 */
    g_object_set (enc, "key-int-max", (guint)opt->fps, "bframes", 0, NULL);
    gst_object_unref (enc);
  }
  gst_video_info_set_format (
      &info, GST_VIDEO_FORMAT_RGB, opt->width, opt->height);
  GST_VIDEO_INFO_FPS_N (&info) = opt->fps;
  GST_VIDEO_INFO_FPS_D (&info) = 1;
  caps = gst_video_info_to_caps (&info);
  gst_app_src_set_caps (GST_APP_SRC (src), caps);
  gst_caps_unref (caps);
  max_bytes = 4 * GST_VIDEO_INFO_SIZE (&info);
  g_object_set (src, "max-bytes", max_bytes, "block", FALSE, NULL);
  bus = gst_element_get_bus (pipe);

  if (gst_element_set_state (pipe, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE) {
    if (!pop_bus_error (bus, 0, "encoding", error))
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_STATE_CHANGE,
          "cannot start the encoder (can %s be written?)", part);
    goto done;
  }

  for (i = 0; i < n_photos; i++) {
    Photo photo = { NULL, 0, 0 };
    Rect a, b;
    gint factor;

    if (!decode_photo (photos[i], &photo, error))
      goto done;
    plan_move (photo.width, photo.height, (gdouble)opt->width / opt->height,
        opt->zoom, i, &a, &b);
    /* reduce so that bilinear sampling of the tightest rectangle never
     * skips source pixels (ratio between 1 and 2) */
    factor = MAX (1, (gint)floor (MIN (a.w, b.w) / opt->width));
    photo_reduce (&photo, factor);

    for (f = 0; f < frames_per_photo; f++) {
      gdouble t
          = frames_per_photo > 1 ? (gdouble)f / (frames_per_photo - 1) : 0.0;
      gdouble s = t * t * (3.0 - 2.0 * t); /* ease in and out */
      Rect r = { (a.x + s * (b.x - a.x)) / factor,
        (a.y + s * (b.y - a.y)) / factor, (a.w + s * (b.w - a.w)) / factor,
        (a.h + s * (b.h - a.h)) / factor };
      GstBuffer *buf
          = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&info), NULL);
      GstMapInfo map;

      gst_buffer_map (buf, &map, GST_MAP_WRITE);
      render_rect (&photo, &r, map.data, opt->width, opt->height,
          GST_VIDEO_INFO_PLANE_STRIDE (&info, 0));
      gst_buffer_unmap (buf, &map);
      GST_BUFFER_PTS (buf) = gst_util_uint64_scale (n, GST_SECOND, opt->fps);
      GST_BUFFER_DURATION (buf)
          = gst_util_uint64_scale (n + 1, GST_SECOND, opt->fps)
            - GST_BUFFER_PTS (buf);
      GST_BUFFER_OFFSET (buf) = n;

      if (!wait_for_room (GST_APP_SRC (src), bus, max_bytes, error)) {
        gst_buffer_unref (buf);
        photo_clear (&photo);
        goto done;
      }
      if (gst_app_src_push_buffer (GST_APP_SRC (src), buf) != GST_FLOW_OK) {
        if (!pop_bus_error (bus, GST_SECOND, "encoding", error))
          g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED,
              "encoding stopped at frame %" G_GUINT64_FORMAT, n);
        photo_clear (&photo);
        goto done;
      }
      n++;
      if (!opt->quiet && (n % opt->fps == 0 || n == total))
        g_printerr (
            "\rmake-demo-clip: frame %" G_GUINT64_FORMAT "/%u", n, total);
    }
    photo_clear (&photo);
  }
  if (!opt->quiet)
    g_printerr ("\n");

  gst_app_src_end_of_stream (GST_APP_SRC (src));
  msg = gst_bus_timed_pop_filtered (
      bus, GST_CLOCK_TIME_NONE, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    set_error_from_message (msg, "encoding", error);
  } else {
    gst_message_unref (msg);
    ok = TRUE;
  }

done:
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (pipe);
  if (ok && g_rename (part, opt->output) != 0) {
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
        "cannot rename %s to %s: %s", part, opt->output, g_strerror (errno));
    ok = FALSE;
  }
  if (!ok)
    g_unlink (part);
  g_free (part);
  return ok;
}

static gchar *
default_cache_dir (void)
{
  const gchar *env = g_getenv ("AFFECT_CACHE_DIR");

  if (env != NULL && *env != '\0')
    return g_strdup (env);
  /* g_get_user_cache_dir() honours XDG_CACHE_HOME, else ~/.cache */
  return g_build_filename (g_get_user_cache_dir (), "gst-affect", NULL);
}

int
main (int argc, char **argv)
{
  Options opt = { NULL, 3.0, 640, 480, 30, 1.1, FALSE };
  gchar *size = NULL, **photos = NULL, **args = NULL;
  GError *error = NULL;
  GOptionContext *ctx;
  guint n_photos;
  gint ret = 1;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opt.output,
        "Output MP4 file (default: demo-clip.mp4)", "FILE" },
    { "seconds", 's', 0, G_OPTION_ARG_DOUBLE, &opt.seconds,
        "Seconds per photo (default: 3)", "S" },
    { "size", 0, 0, G_OPTION_ARG_STRING, &size, "Frame size (default: 640x480)",
        "WxH" },
    { "fps", 0, 0, G_OPTION_ARG_INT, &opt.fps,
        "Frames per second (default: 30)", "N" },
    { "zoom", 0, 0, G_OPTION_ARG_DOUBLE, &opt.zoom,
        "Zoom factor of the slow move on each photo (default: 1.1)", "Z" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &opt.quiet,
        "Do not print the progress", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &args, NULL,
        "[PHOTO.jpg ...]" },
    { NULL }
  };

  ctx = g_option_context_new ("[PHOTO.jpg ...] - build the gst-affect demo "
                              "clip");
  g_option_context_set_description (ctx,
      "Without photos, the six demo photos of the face model package are "
      "used:\n"
      "$CACHE/face-api-1.7.15/demo/sample1..6.jpg, CACHE = "
      "${AFFECT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gst-affect}.\n");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("make-demo-clip: %s\n", error->message);
    goto out;
  }

  if (size != NULL
      && (sscanf (size, "%dx%d", &opt.width, &opt.height) != 2 || opt.width < 16
          || opt.height < 16 || opt.width > 8192 || opt.height > 8192
          || opt.width % 2 || opt.height % 2)) {
    g_printerr ("make-demo-clip: bad --size '%s' (want WxH, even numbers "
                "from 16 to 8192)\n",
        size);
    goto out;
  }
  if (!(opt.seconds > 0.0 && opt.seconds <= 3600.0) || opt.fps < 1
      || opt.fps > 240 || !(opt.zoom >= 1.0 && opt.zoom <= 4.0)) {
    g_printerr ("make-demo-clip: --seconds must be in (0, 3600], --fps in "
                "[1, 240], --zoom in [1, 4]\n");
    goto out;
  }
  if (opt.output == NULL)
    opt.output = g_strdup ("demo-clip.mp4");

  if (args != NULL && args[0] != NULL) {
    photos = g_strdupv (args);
  } else {
    gchar *cache = default_cache_dir ();
    guint i;

    photos = g_new0 (gchar *, DEMO_N_PHOTOS + 1);
    for (i = 0; i < DEMO_N_PHOTOS; i++) {
      gchar *name = g_strdup_printf ("sample%u.jpg", i + 1);

      photos[i]
          = g_build_filename (cache, "face-api-1.7.15", "demo", name, NULL);
      g_free (name);
    }
    g_free (cache);
  }
  n_photos = g_strv_length (photos);

  if (!encode_clip (&opt, photos, n_photos, &error)) {
    g_printerr ("make-demo-clip: %s\n", error->message);
    goto out;
  }
  if (!opt.quiet)
    g_printerr ("make-demo-clip: wrote %s (%u photos, %g s each, %dx%d, "
                "%d fps)\n",
        opt.output, n_photos, opt.seconds, opt.width, opt.height, opt.fps);
  ret = 0;

out:
  g_clear_error (&error);
  g_option_context_free (ctx);
  g_strfreev (photos);
  g_strfreev (args);
  g_free (size);
  g_free (opt.output);
  return ret;
}
