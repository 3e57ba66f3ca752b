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

#include "affect-video.h"

#include <string.h>

struct _AffectVideoRgb {
  guint8 *data; /* packed RGB, stride = 3 * width */
  gsize size;   /* allocated bytes */
  GstVideoConverter *converter;
  GstVideoInfo in_info;  /* what @converter was made for */
  GstVideoInfo out_info; /* RGB, same size */
  int converter_threads;
};

AffectVideoRgb *
affect_video_rgb_new (void)
{
  return g_new0 (AffectVideoRgb, 1);
}

void
affect_video_rgb_reset (AffectVideoRgb *conv)
{
  g_return_if_fail (conv != NULL);

  g_clear_pointer (&conv->converter, gst_video_converter_free);
  g_clear_pointer (&conv->data, g_free);
  conv->size = 0;
}

void
affect_video_rgb_free (AffectVideoRgb *conv)
{
  if (conv == NULL)
    return;
  affect_video_rgb_reset (conv);
  g_free (conv);
}

static guint8 *
ensure_buffer (AffectVideoRgb *conv, int width, int height)
{
  gsize need = (gsize)width * (gsize)height * 3;

  if (conv->size < need) {
    g_free (conv->data);
    conv->data = g_malloc (need);
    conv->size = need;
  }
  return conv->data;
}

/* Byte offsets of R, G and B in one pixel of a packed format, and its
 * pixel stride; FALSE for formats that are not packed 8-bit RGB. */
static gboolean
packed_layout (GstVideoFormat format, int *r, int *g, int *b, int *pstride)
{
  switch (format) {
    case GST_VIDEO_FORMAT_RGB:
      *r = 0, *g = 1, *b = 2, *pstride = 3;
      return TRUE;
    case GST_VIDEO_FORMAT_BGR:
      *r = 2, *g = 1, *b = 0, *pstride = 3;
      return TRUE;
    case GST_VIDEO_FORMAT_RGBA:
    case GST_VIDEO_FORMAT_RGBx:
      *r = 0, *g = 1, *b = 2, *pstride = 4;
      return TRUE;
    case GST_VIDEO_FORMAT_BGRA:
    case GST_VIDEO_FORMAT_BGRx:
      *r = 2, *g = 1, *b = 0, *pstride = 4;
      return TRUE;
    case GST_VIDEO_FORMAT_ARGB:
    case GST_VIDEO_FORMAT_xRGB:
      *r = 1, *g = 2, *b = 3, *pstride = 4;
      return TRUE;
    case GST_VIDEO_FORMAT_ABGR:
    case GST_VIDEO_FORMAT_xBGR:
      *r = 3, *g = 2, *b = 1, *pstride = 4;
      return TRUE;
    default:
      return FALSE;
  }
}

static gboolean
convert_generic (AffectVideoRgb *conv, const GstVideoFrame *frame,
    int n_threads, guint8 *dst, GError **error)
{
  const GstVideoInfo *info = &frame->info;
  GstVideoFrame out_frame;
  GstBuffer *out_buf;
  int width = GST_VIDEO_INFO_WIDTH (info);
  int height = GST_VIDEO_INFO_HEIGHT (info);
  gsize size = (gsize)width * height * 3;

  if (conv->converter != NULL
      && (!gst_video_info_is_equal (&conv->in_info, info)
          || conv->converter_threads != n_threads))
    g_clear_pointer (&conv->converter, gst_video_converter_free);

  if (conv->converter == NULL) {
    GstStructure *config;
    guint threads = n_threads > 0 ? (guint)n_threads : g_get_num_processors ();

    if (!gst_video_info_set_format (
            &conv->out_info, GST_VIDEO_FORMAT_RGB, width, height)) {
      g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
          "Cannot describe a %dx%d RGB frame", width, height);
      return FALSE;
    }
    /* The converter wants the same rate, aspect and interlacing. */
    conv->out_info.fps_n = GST_VIDEO_INFO_FPS_N (info);
    conv->out_info.fps_d = GST_VIDEO_INFO_FPS_D (info);
    conv->out_info.par_n = GST_VIDEO_INFO_PAR_N (info);
    conv->out_info.par_d = GST_VIDEO_INFO_PAR_D (info);
    conv->out_info.interlace_mode = GST_VIDEO_INFO_INTERLACE_MODE (info);
    /* Tightly packed rows (GStreamer pads RGB rows to 4 bytes). */
    conv->out_info.stride[0] = width * 3;
    conv->out_info.size = size;
    /* Keep the colorimetry of the input so no gamut/primaries conversion
     * happens, only the matrix; no dithering (networks see plain 8 bit). */
    config = gst_structure_new ("GstVideoConverter",
        GST_VIDEO_CONVERTER_OPT_DITHER_METHOD, GST_TYPE_VIDEO_DITHER_METHOD,
        GST_VIDEO_DITHER_NONE, GST_VIDEO_CONVERTER_OPT_THREADS, G_TYPE_UINT,
        threads, NULL);
    conv->converter = gst_video_converter_new (
        (GstVideoInfo *)info, &conv->out_info, config);
    if (conv->converter == NULL) {
      g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
          "Cannot convert %s frames to RGB",
          gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (info)));
      return FALSE;
    }
    conv->in_info = *info;
    conv->converter_threads = n_threads;
  }

  /* Wrap our own buffer in a GstBuffer for the converter; the memory
   * stays ours (no free function). */
  out_buf = gst_buffer_new_wrapped_full (
      GST_MEMORY_FLAG_NO_SHARE, dst, size, 0, size, NULL, NULL);
  if (!gst_video_frame_map (
          &out_frame, &conv->out_info, out_buf, GST_MAP_WRITE)) {
    gst_buffer_unref (out_buf);
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED,
        "Cannot map the RGB conversion buffer");
    return FALSE;
  }
  gst_video_converter_frame (conv->converter, frame, &out_frame);
  gst_video_frame_unmap (&out_frame);
  gst_buffer_unref (out_buf);
  return TRUE;
}

gboolean
affect_video_rgb_convert (AffectVideoRgb *conv, const GstVideoFrame *frame,
    int n_threads, AffectImage *img, GError **error)
{
  const GstVideoInfo *info;
  int width, height, r, g, b, ps;
  guint8 *dst;

  g_return_val_if_fail (conv != NULL, FALSE);
  g_return_val_if_fail (frame != NULL, FALSE);
  g_return_val_if_fail (img != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  info = &frame->info;
  width = GST_VIDEO_INFO_WIDTH (info);
  height = GST_VIDEO_INFO_HEIGHT (info);
  if (width <= 0 || height <= 0) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
        "Invalid frame size %dx%d", width, height);
    return FALSE;
  }

  if (packed_layout (GST_VIDEO_INFO_FORMAT (info), &r, &g, &b, &ps)) {
    const guint8 *src = GST_VIDEO_FRAME_PLANE_DATA (frame, 0);
    int sstride = GST_VIDEO_FRAME_PLANE_STRIDE (frame, 0);
    int y;

    if (ps == 3 && r == 0) {
      /* Already packed RGB: borrow the frame. */
      img->width = width;
      img->height = height;
      img->stride = sstride;
      img->data = src;
      return TRUE;
    }

    dst = ensure_buffer (conv, width, height);
    for (y = 0; y < height; y++) {
      const guint8 *s = src + (gsize)y * sstride;
      guint8 *d = dst + (gsize)y * width * 3;
      int x;

      for (x = 0; x < width; x++, s += ps, d += 3) {
        d[0] = s[r];
        d[1] = s[g];
        d[2] = s[b];
      }
    }
  } else {
    dst = ensure_buffer (conv, width, height);
    if (!convert_generic (conv, frame, n_threads, dst, error))
      return FALSE;
  }

  img->width = width;
  img->height = height;
  img->stride = width * 3;
  img->data = dst;
  return TRUE;
}
