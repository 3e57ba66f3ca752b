/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/**
 * SECTION:element-facecrop
 * @title: facecrop
 *
 * Finds the faces of a video, follows them from frame to frame and
 * attaches to every buffer, for every face, a #GstAffectFaceMeta (track
 * id, box, score, 68 landmarks and, when asked for, an aligned crop)
 * together with a #GstVideoRegionOfInterestMeta of type "face".
 *
 * Faces come from one of face-api's detectors (#GstFaceCrop:detector
 * `tiny` or `ssd`), or, with `none`, from the "face" ROI metas that an
 * upstream detector put on the buffers. On each face the 68-point
 * landmark network runs on the detection box; the aligned crop is a
 * #GstFaceCrop:crop-size² RGB image made by the least-squares similarity
 * transform that maps the eye centres, the nose tip and the mouth corners
 * onto the ArcFace five-point template. The crops are only made when
 * something reads them: with #GstFaceCrop:attach-crops (an application
 * that reads them from the metas) or `output=crops`.
 *
 * With #GstFaceCrop:detect-interval N > 1 the detector runs on every N-th
 * frame only; in between each face is followed by running the landmark
 * network on its previous box.
 *
 * Track ids are stable while a face stays in view, are never reused in a
 * stream (they restart at 1 only when the element goes from READY to
 * PAUSED), and a track ends after #GstFaceCrop:max-missed frames without
 * that face. A flush (seek) ends all tracks.
 *
 * By default (`output=meta`) the video is not modified. With
 * `output=crops` the element outputs the aligned crop of one track
 * (#GstFaceCrop:crop-track) as crop-size × crop-size RGB video, e.g. to
 * prepare a data set; frames without that face are black and flagged
 * %GST_BUFFER_FLAG_GAP, so that the frame count matches the input.
 *
 * Models: tiny_face_detector_model, ssd_mobilenetv1_model and
 * face_landmark_68_model (`affect-fetch-models` downloads them), looked up
 * in #GstFaceCrop:model-location, $AFFECT_MODEL_DIR, the installed models
 * folder and the cache.
 *
 * See docs/elements/facecrop.md for the details.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 filesrc location=talk.mp4 ! decodebin ! videoconvert !
 *     facecrop ! affectsink location=faces.jsonl
 * ]| Writes the face boxes and landmarks of every frame.
 * |[
 * gst-launch-1.0 filesrc location=talk.mp4 ! decodebin ! videoconvert !
 *     facecrop output=crops crop-size=224 ! videoconvert ! pngenc !
 *     multifilesink location=face-%05d.png
 * ]| Writes the aligned crop of the largest face of every frame.
 * |[
 * gst-launch-1.0 v4l2src ! videoconvert ! facecrop detect-interval=5
 *     detector=tiny ! fakesink
 * ]| Detects every fifth frame and tracks in between.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include <gst/affect/affectmeta.h>

#include "gstfacecrop.h"
#include "affect-align.h"
#include "affect-track.h"
#include "affect-video.h"
#include "affect-face.h"
#include "affect-engine.h"
#include "affect-engine-settings.h"
#include "affect-misconfig.h"

GST_DEBUG_CATEGORY_STATIC (gst_face_crop_debug);
#define GST_CAT_DEFAULT gst_face_crop_debug

#define DEFAULT_DETECTOR GST_FACE_CROP_DETECTOR_TINY
#define DEFAULT_THRESHOLD 0.5f
#define DEFAULT_MIN_FACE_SIZE 20
#define DEFAULT_DETECT_INTERVAL 1
#define DEFAULT_MAX_FACES 8
#define DEFAULT_MAX_MISSED 5
#define DEFAULT_CROP_SIZE 224
#define DEFAULT_MARGIN 0.0
#define DEFAULT_OUTPUT GST_FACE_CROP_OUTPUT_META
#define DEFAULT_CROP_TRACK -1
#define DEFAULT_ATTACH_CROPS FALSE
/* The tiny detector's input side: what it was trained at, and the size
 * every frame was resized to before the property existed. */
#define DEFAULT_DETECTOR_SIZE AFFECT_TINY_FACE_DEFAULT_INPUT_SIZE
#define DETECTOR_SIZE_STEP 32

#define MAX_FACES_LIMIT 64
#define MIN_CROP_SIZE 16
#define MAX_CROP_SIZE 1024
/* Detections asked from the detectors before size filtering. */
#define MAX_DETECTIONS 100

#define TINY_MODEL "tiny_face_detector_model"
#define SSD_MODEL "ssd_mobilenetv1_model"
#define LANDMARK_MODEL "face_landmark_68_model"

enum {
  PROP_0,
  PROP_DETECTOR,
  PROP_THRESHOLD,
  PROP_MIN_FACE_SIZE,
  PROP_DETECT_INTERVAL,
  PROP_MAX_FACES,
  PROP_MAX_MISSED,
  PROP_CROP_SIZE,
  PROP_MARGIN,
  PROP_OUTPUT,
  PROP_CROP_TRACK,
  PROP_ATTACH_CROPS,
  PROP_DETECTOR_SIZE,
  /* backend, n-threads, model-location (affect-engine-settings.h) */
  PROP_ENGINE,
};

/* Per-frame copy of the properties. */
typedef struct {
  GstFaceCropDetector detector;
  gfloat threshold;
  gint min_face_size;
  gint detect_interval;
  gint max_faces;
  gint max_missed;
  gint crop_size;
  gdouble margin;
  gint crop_track;
  gboolean attach_crops;
  gint detector_size;
  gint64 batch_window; /* µs, engine settings */
} Settings;

struct _GstFaceCrop {
  GstVideoFilter parent;

  /* properties, protected by the object lock */
  GstFaceCropDetector detector;
  gfloat threshold;
  gint min_face_size;
  gint detect_interval;
  gint max_faces;
  gint max_missed;
  gint crop_size;
  gdouble margin;
  GstFaceCropOutput output;
  gint crop_track;
  gboolean attach_crops;
  gint detector_size;
  /* backend, n-threads, model-location and the backend in use */
  AffectEngineSettings engine;

  /* streaming state (start() to stop()) */
  /* the networks, shared with the other instances of the same settings
   * (affect_engine_settings_acquire_net()) */
  AffectSharedNet *landmark_net;
  AffectSharedNet *tiny; /* at tiny_size: one network per input size */
  gint tiny_size;
  AffectSharedNet *ssd;
  AffectVideoRgb *rgb;
  AffectTracker *tracker;
  guint64 frame_count; /* frames since start or flush */
  gboolean following;  /* output=crops, crop-track=-1 */
  guint follow_id;
  gint width, height; /* of the negotiated input */

  /* scratch, reused between frames */
  AffectDetection *dets;
  AffectTrackDetection *tdets;
  AffectBox *boxes;
  float (*points)[68][2];
  GstVideoRegionOfInterestMeta **rois;
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE (
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (AFFECT_VIDEO_CAPS));

static GstStaticPadTemplate src_template
    = GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC, GST_PAD_ALWAYS,
        GST_STATIC_CAPS (AFFECT_VIDEO_CAPS "; " GST_VIDEO_CAPS_MAKE ("RGB")));

#define gst_face_crop_parent_class parent_class
G_DEFINE_TYPE (GstFaceCrop, gst_face_crop, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (
    facecrop, "facecrop", GST_RANK_NONE, GST_TYPE_FACE_CROP);

GType
gst_face_crop_detector_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    { GST_FACE_CROP_DETECTOR_TINY, "TinyFaceDetector (fast)", "tiny" },
    { GST_FACE_CROP_DETECTOR_SSD, "SSD MobileNet v1 (slower, more accurate)",
        "ssd" },
    { GST_FACE_CROP_DETECTOR_NONE,
        "No detector: use upstream ROI metas of type \"face\"", "none" },
    { 0, NULL, NULL },
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstFaceCropDetector", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_face_crop_output_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    { GST_FACE_CROP_OUTPUT_META, "Video unchanged, faces as metadata", "meta" },
    { GST_FACE_CROP_OUTPUT_CROPS,
        "Aligned crop of one track as crop-size x crop-size RGB video",
        "crops" },
    { 0, NULL, NULL },
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstFaceCropOutput", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/* ------------------------------------------------------------------ */
/* Models                                                              */
/* ------------------------------------------------------------------ */

/* Takes the shared network of @detector (tiny: at @size) unless it is
 * held already; posts the element error on failure. */
static gboolean
load_detector (GstFaceCrop *self, GstFaceCropDetector detector, gint size)
{
  if (detector == GST_FACE_CROP_DETECTOR_TINY
      && (self->tiny == NULL || self->tiny_size != size)) {
    affect_engine_settings_release_net (GST_ELEMENT (self), &self->tiny);
    self->tiny = affect_engine_settings_acquire_net (&self->engine,
        GST_ELEMENT (self), affect_tiny_face_class (size), TINY_MODEL);
    self->tiny_size = size;
    return self->tiny != NULL;
  }
  if (detector == GST_FACE_CROP_DETECTOR_SSD && self->ssd == NULL) {
    self->ssd = affect_engine_settings_acquire_net (
        &self->engine, GST_ELEMENT (self), affect_ssd_class (), SSD_MODEL);
    return self->ssd != NULL;
  }
  return TRUE;
}

/* The networks (after n-threads changed: they are shared at a thread
 * count; the detectors are taken again by load_detector()). */
static void
release_networks (GstFaceCrop *self)
{
  affect_engine_settings_release_net (GST_ELEMENT (self), &self->tiny);
  affect_engine_settings_release_net (GST_ELEMENT (self), &self->ssd);
  affect_engine_settings_release_net (GST_ELEMENT (self), &self->landmark_net);
}

static void
free_models (GstFaceCrop *self)
{
  release_networks (self);
  affect_engine_settings_stop (&self->engine);
}

static gboolean
gst_face_crop_start (GstBaseTransform *trans)
{
  GstFaceCrop *self = GST_FACE_CROP (trans);
  GstFaceCropDetector detector;
  gint detector_size;

  GST_OBJECT_LOCK (self);
  detector = self->detector;
  detector_size = self->detector_size;
  GST_OBJECT_UNLOCK (self);

  if (!affect_engine_settings_start (&self->engine, GST_ELEMENT (self)))
    return FALSE;

  self->landmark_net = affect_engine_settings_acquire_net (&self->engine,
      GST_ELEMENT (self), affect_landmark_net_class (), LANDMARK_MODEL);
  if (self->landmark_net == NULL)
    goto fail;

  if (!load_detector (self, detector, detector_size))
    goto fail;

  self->rgb = affect_video_rgb_new ();
  self->tracker = affect_tracker_new ();
  self->frame_count = 0;
  self->following = FALSE;
  self->width = self->height = 0;
  self->dets = g_new (AffectDetection, MAX_DETECTIONS);
  self->tdets = g_new (AffectTrackDetection, MAX_FACES_LIMIT);
  self->boxes = g_new (AffectBox, MAX_FACES_LIMIT);
  self->points = g_malloc_n (MAX_FACES_LIMIT, sizeof (float[68][2]));
  self->rois = g_new0 (GstVideoRegionOfInterestMeta *, MAX_FACES_LIMIT);
  GST_DEBUG_OBJECT (self, "started, backend %s",
      affect_backend_get_name (self->engine.backend));
  return TRUE;

fail:
  free_models (self);
  return FALSE;
}

static gboolean
gst_face_crop_stop (GstBaseTransform *trans)
{
  GstFaceCrop *self = GST_FACE_CROP (trans);

  free_models (self);
  g_clear_pointer (&self->rgb, affect_video_rgb_free);
  g_clear_pointer (&self->tracker, affect_tracker_free);
  g_clear_pointer (&self->dets, g_free);
  g_clear_pointer (&self->tdets, g_free);
  g_clear_pointer (&self->boxes, g_free);
  g_clear_pointer (&self->points, g_free);
  g_clear_pointer (&self->rois, g_free);
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Caps                                                                */
/* ------------------------------------------------------------------ */

static GstCaps *
gst_face_crop_transform_caps (GstBaseTransform *trans,
    GstPadDirection direction, GstCaps *caps, GstCaps *filter)
{
  GstFaceCrop *self = GST_FACE_CROP (trans);
  GstFaceCropOutput output;
  gint crop_size;
  GstCaps *ret;
  guint i;

  GST_OBJECT_LOCK (self);
  output = self->output;
  crop_size = self->crop_size;
  GST_OBJECT_UNLOCK (self);

  if (output == GST_FACE_CROP_OUTPUT_META) {
    /* In place: the same caps on both sides, restricted to our formats. */
    GstCaps *tmpl = gst_static_pad_template_get_caps (&sink_template);

    ret = gst_caps_intersect (caps, tmpl);
    gst_caps_unref (tmpl);
  } else {
    ret = gst_caps_new_empty ();
    for (i = 0; i < gst_caps_get_size (caps); i++) {
      const GstStructure *s = gst_caps_get_structure (caps, i);
      const GValue *fps = gst_structure_get_value (s, "framerate");
      GstCaps *one;

      if (direction == GST_PAD_SINK) {
        one = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING,
            "RGB", "width", G_TYPE_INT, crop_size, "height", G_TYPE_INT,
            crop_size, "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
      } else {
        one = gst_static_pad_template_get_caps (&sink_template);
        one = gst_caps_make_writable (one);
      }
      if (fps != NULL)
        gst_caps_set_value (one, "framerate", fps);
      ret = gst_caps_merge (ret, one);
    }
  }

  if (filter != NULL) {
    GstCaps *tmp
        = gst_caps_intersect_full (filter, ret, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref (ret);
    ret = tmp;
  }
  GST_DEBUG_OBJECT (self, "%s caps %" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT,
      direction == GST_PAD_SINK ? "sink" : "src", caps, ret);
  return ret;
}

static gboolean
gst_face_crop_set_info (GstVideoFilter *filter, GstCaps *incaps,
    GstVideoInfo *in_info, GstCaps *outcaps, GstVideoInfo *out_info)
{
  GstFaceCrop *self = GST_FACE_CROP (filter);
  GstFaceCropOutput output;

  GST_OBJECT_LOCK (self);
  output = self->output;
  GST_OBJECT_UNLOCK (self);

  if (output == GST_FACE_CROP_OUTPUT_CROPS) {
    if (GST_VIDEO_INFO_FORMAT (out_info) != GST_VIDEO_FORMAT_RGB
        || GST_VIDEO_INFO_WIDTH (out_info) != GST_VIDEO_INFO_HEIGHT (out_info)
        || GST_VIDEO_INFO_WIDTH (out_info) < MIN_CROP_SIZE) {
      GST_ERROR_OBJECT (self, "output=crops needs square RGB output caps");
      return FALSE;
    }
    gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), FALSE);
  } else {
    gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
  }

  if (self->tracker != NULL
      && (GST_VIDEO_INFO_WIDTH (in_info) != self->width
          || GST_VIDEO_INFO_HEIGHT (in_info) != self->height)) {
    GST_DEBUG_OBJECT (self, "frame size changed: ending all tracks");
    affect_tracker_clear (self->tracker);
    self->following = FALSE;
    self->frame_count = 0;
  }
  self->width = GST_VIDEO_INFO_WIDTH (in_info);
  self->height = GST_VIDEO_INFO_HEIGHT (in_info);
  return TRUE;
}

static gboolean
gst_face_crop_transform_meta (
    GstBaseTransform *trans, GstBuffer *outbuf, GstMeta *meta, GstBuffer *inbuf)
{
  GType api = meta->info->api;

  /* output=crops: the face metadata goes along with the crops (box and
   * landmarks stay in the coordinates of the input frame). */
  if (api == GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE
      || api == GST_AFFECT_FACE_META_API_TYPE
      || api == GST_AFFECT_FEATURES_META_API_TYPE
      || api == GST_AFFECT_PREDICTIONS_META_API_TYPE)
    return TRUE;

  return GST_BASE_TRANSFORM_CLASS (parent_class)
      ->transform_meta (trans, outbuf, meta, inbuf);
}

static gboolean
gst_face_crop_sink_event (GstBaseTransform *trans, GstEvent *event)
{
  GstFaceCrop *self = GST_FACE_CROP (trans);

  if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_STOP && self->tracker) {
    GST_DEBUG_OBJECT (self, "flush: ending all tracks");
    affect_tracker_clear (self->tracker);
    self->frame_count = 0;
    self->following = FALSE;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

/* ------------------------------------------------------------------ */
/* Processing                                                          */
/* ------------------------------------------------------------------ */

static void
read_settings (GstFaceCrop *self, Settings *s)
{
  GST_OBJECT_LOCK (self);
  s->detector = self->detector;
  s->threshold = self->threshold;
  s->min_face_size = self->min_face_size;
  s->detect_interval = self->detect_interval;
  s->max_faces = self->max_faces;
  s->max_missed = self->max_missed;
  s->crop_size = self->crop_size;
  s->margin = self->margin;
  s->crop_track = self->crop_track;
  s->attach_crops = self->attach_crops;
  s->detector_size = self->detector_size;
  GST_OBJECT_UNLOCK (self);
  s->batch_window = affect_engine_settings_get_batch_window (
      &self->engine, GST_ELEMENT (self));
}

/* Keeps a detection if it is large enough and has pixels in the image. */
static gboolean
usable_box (const AffectImage *img, const AffectBox *box, gint min_size)
{
  int used[4];

  if (!(box->width >= min_size && box->height >= min_size))
    return FALSE;
  return affect_image_crop_box (img, box, used) && used[2] > 0 && used[3] > 0;
}

/* The detections of this frame, best first, at most @s->max_faces.
 * Returns their number (boxes in self->tdets, upstream ROIs in
 * self->rois), or -1 after posting an error. */
static gint
detect_faces (GstFaceCrop *self, const Settings *s, const AffectImage *img,
    GstBuffer *meta_buf)
{
  GError *error = NULL;
  gint n = 0, n_raw, i;

  if (s->detector == GST_FACE_CROP_DETECTOR_NONE) {
    GQuark face = g_quark_from_static_string (GST_AFFECT_ROI_TYPE);
    GstVideoRegionOfInterestMeta *roi;
    gpointer state = NULL;

    while ((
        roi = (GstVideoRegionOfInterestMeta *)gst_buffer_iterate_meta_filtered (
            meta_buf, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
      AffectBox box = { roi->x, roi->y, roi->w, roi->h };

      if (roi->roi_type != face || n >= s->max_faces)
        continue;
      if (!usable_box (img, &box, s->min_face_size))
        continue;
      self->tdets[n].box = box;
      self->tdets[n].score = 1.0f;
      self->rois[n] = roi;
      n++;
    }
    return n;
  }

  if (s->detector == GST_FACE_CROP_DETECTOR_TINY)
    n_raw = affect_tiny_face_detect_shared (self->tiny, s->batch_window, img,
        s->detector_size, s->threshold, self->dets, MAX_DETECTIONS, &error);
  else
    n_raw = affect_ssd_detect_shared (self->ssd, s->batch_window, img,
        s->threshold, MAX_DETECTIONS, self->dets, MAX_DETECTIONS, &error);
  if (n_raw < 0) {
    /* a GPU failure (device memory, a kernel, a copy) names the device and
     * the op */
    if (!affect_engine_settings_post_run_error (GST_ELEMENT (self),
            s->detector == GST_FACE_CROP_DETECTOR_TINY ? self->tiny : self->ssd,
            error))
      GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Face detection failed"),
          ("%s", error->message));
    g_error_free (error);
    return -1;
  }

  for (i = 0; i < n_raw && n < s->max_faces; i++) {
    if (!usable_box (img, &self->dets[i].box, s->min_face_size))
      continue;
    self->tdets[n].box = self->dets[i].box;
    self->tdets[n].score = self->dets[i].score;
    self->rois[n] = NULL;
    n++;
  }
  return n;
}

/* Head pose of the track from its landmarks (models/face/affect-headpose.h);
 * a failed fit (NaN angles) leaves the face without pose. */
static void
set_head_pose (GstFaceCrop *self, GstBuffer *buf, GstAffectFaceMeta *meta,
    const AffectTrack *t)
{
  AffectHeadPose pose;

  if (affect_head_pose_estimate (
          (const float (*)[2])t->landmarks, self->width, self->height, &pose)) {
    gst_affect_face_meta_set_pose (meta, buf, pose.yaw, pose.pitch, pose.roll);
    GST_LOG_OBJECT (self,
        "track %u pose yaw %.1f pitch %.1f roll %.1f (fit error %.2f px)",
        t->id, pose.yaw, pose.pitch, pose.roll, pose.rms_error);
  } else {
    gst_affect_face_meta_clear_pose (meta, buf);
    GST_DEBUG_OBJECT (self, "track %u: no head pose from its landmarks", t->id);
  }
}

static gboolean
run_landmarks (GstFaceCrop *self, const AffectImage *img, gint n)
{
  GError *error = NULL;
  gboolean ok;

  if (n == 0)
    return TRUE;
  ok = affect_landmark_net_run_shared (self->landmark_net,
      affect_engine_settings_get_batch_window (
          &self->engine, GST_ELEMENT (self)),
      img, self->boxes, n, self->points, NULL, &error);
  if (!ok) {
    /* a GPU failure (device memory, a kernel, a copy) names the device and
     * the op */
    if (!affect_engine_settings_post_run_error (
            GST_ELEMENT (self), self->landmark_net, error))
      GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Landmark detection failed"),
          ("%s", error->message));
    g_error_free (error);
    return FALSE;
  }
  return TRUE;
}

static GstBuffer *
make_crop (
    const AffectImage *img, const AffectTrack *t, gint size, gdouble margin)
{
  GstBuffer *crop
      = gst_buffer_new_allocate (NULL, (gsize)size * size * 3, NULL);
  GstMapInfo map;

  if (crop == NULL)
    return NULL;
  if (!gst_buffer_map (crop, &map, GST_MAP_WRITE)) {
    gst_buffer_unref (crop);
    return NULL;
  }
  affect_align_crop (
      img, (const float (*)[2])t->landmarks, size, margin, map.data);
  gst_buffer_unmap (crop, &map);
  return crop;
}

/* Which track output=crops shows on this frame, or NULL. With
 * crop-track=-1 the largest face is chosen and then followed as long as its
 * track lives (missing frames of that track are black). */
static AffectTrack *
choose_crop_track (GstFaceCrop *self, const Settings *s)
{
  AffectTrack *best = NULL;
  guint i, n = affect_tracker_get_n_tracks (self->tracker);
  guint want;

  if (s->crop_track >= 0) {
    want = (guint)s->crop_track;
  } else if (self->following) {
    want = self->follow_id;
  } else {
    for (i = 0; i < n; i++) {
      AffectTrack *t = affect_tracker_get_track (self->tracker, i);

      if (t->seen
          && (best == NULL
              || t->box.width * t->box.height
                     > best->box.width * best->box.height))
        best = t;
    }
    if (best != NULL) {
      self->following = TRUE;
      self->follow_id = best->id;
    }
    return best;
  }

  for (i = 0; i < n; i++) {
    AffectTrack *t = affect_tracker_get_track (self->tracker, i);

    if (t->id == want)
      return t->seen ? t : NULL;
  }
  /* the followed track has ended: choose again */
  if (s->crop_track < 0) {
    self->following = FALSE;
    return choose_crop_track (self, s);
  }
  return NULL;
}

static void
write_crop_frame (GstVideoFrame *out, GstBuffer *crop, gint size)
{
  guint8 *dst = GST_VIDEO_FRAME_PLANE_DATA (out, 0);
  gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (out, 0);
  gint w = GST_VIDEO_FRAME_WIDTH (out), h = GST_VIDEO_FRAME_HEIGHT (out);
  GstMapInfo map;
  gint y;

  if (crop != NULL && w == size && h == size
      && gst_buffer_map (crop, &map, GST_MAP_READ)) {
    for (y = 0; y < h; y++)
      memcpy (dst + (gsize)y * stride, map.data + (gsize)y * size * 3,
          (gsize)size * 3);
    gst_buffer_unmap (crop, &map);
    GST_BUFFER_FLAG_UNSET (out->buffer, GST_BUFFER_FLAG_GAP);
    return;
  }
  for (y = 0; y < h; y++)
    memset (dst + (gsize)y * stride, 0, (gsize)w * 3);
  GST_BUFFER_FLAG_SET (out->buffer, GST_BUFFER_FLAG_GAP);
}

/* Analyses @in and attaches the metas to @meta_buf; for output=crops,
 * also fills @out. */
static GstFlowReturn
gst_face_crop_process (GstFaceCrop *self, GstVideoFrame *in,
    GstBuffer *meta_buf, GstVideoFrame *out)
{
  GError *error = NULL;
  AffectImage img;
  Settings s;
  gboolean detect;
  GstBuffer *chosen_crop = NULL;
  AffectTrack *chosen;
  guint i, n_tracks;
  gint n;

  read_settings (self, &s);
  if (out != NULL)
    s.crop_size = GST_VIDEO_FRAME_WIDTH (out);
  /* n-threads changed while playing: the landmark network shared at the
   * new count (the thread count is part of what is shared) */
  if (affect_engine_settings_sync_threads (&self->engine, GST_ELEMENT (self))) {
    release_networks (self);
    self->landmark_net = affect_engine_settings_acquire_net (&self->engine,
        GST_ELEMENT (self), affect_landmark_net_class (), LANDMARK_MODEL);
    if (self->landmark_net == NULL)
      return GST_FLOW_ERROR;
  }

  if (!affect_video_rgb_convert (
          self->rgb, in, self->engine.cur_n_threads, &img, &error)) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("Cannot convert the frame for the face networks"),
        ("%s", error->message));
    g_error_free (error);
    return GST_FLOW_ERROR;
  }
  if (!load_detector (self, s.detector, s.detector_size))
    return GST_FLOW_ERROR;

  affect_tracker_begin_frame (self->tracker);
  detect = s.detector == GST_FACE_CROP_DETECTOR_NONE
           || self->frame_count % (guint64)s.detect_interval == 0;
  self->frame_count++;

  if (detect) {
    gint k;

    n = detect_faces (self, &s, &img, meta_buf);
    if (n < 0)
      return GST_FLOW_ERROR;
    for (k = 0; k < n; k++)
      self->boxes[k] = self->tdets[k].box;
    if (!run_landmarks (self, &img, n))
      return GST_FLOW_ERROR;
    for (k = 0; k < n; k++)
      memcpy (
          self->tdets[k].landmarks, self->points[k], sizeof (self->points[k]));
    affect_tracker_match (self->tracker, self->tdets, n, s.max_faces);
  } else {
    AffectTrack *follow[MAX_FACES_LIMIT];
    gint k;

    n = 0;
    n_tracks = affect_tracker_get_n_tracks (self->tracker);
    for (i = 0; i < n_tracks && n < s.max_faces; i++) {
      AffectTrack *t = affect_tracker_get_track (self->tracker, i);

      /* only faces seen on the previous frame are followed */
      if (t->missed > 0 || !usable_box (&img, &t->box, 1))
        continue;
      follow[n] = t;
      self->boxes[n] = t->box;
      n++;
    }
    if (!run_landmarks (self, &img, n))
      return GST_FLOW_ERROR;
    for (k = 0; k < n; k++)
      affect_tracker_follow (follow[k], (const float (*)[2])self->points[k]);
  }
  affect_tracker_end_frame (self->tracker, s.max_missed);

  chosen = out != NULL ? choose_crop_track (self, &s) : NULL;

  n_tracks = affect_tracker_get_n_tracks (self->tracker);
  for (i = 0; i < n_tracks; i++) {
    AffectTrack *t = affect_tracker_get_track (self->tracker, i);
    GstAffectFaceMeta *meta;
    GstBuffer *crop;

    if (!t->seen)
      continue;
    if (s.detector == GST_FACE_CROP_DETECTOR_NONE && t->det_index >= 0)
      meta = gst_buffer_add_affect_face_meta_for_roi (
          meta_buf, self->rois[t->det_index], t->id, t->score);
    else
      meta = gst_buffer_add_affect_face_meta (meta_buf, t->id, t->box.x,
          t->box.y, t->box.width, t->box.height, t->score);
    if (meta == NULL)
      continue;
    gst_affect_face_meta_set_landmarks (
        meta, &t->landmarks[0][0], GST_AFFECT_N_LANDMARKS);
    set_head_pose (self, meta_buf, meta, t);
    /* the aligned crops cost about a tenth of the pipeline: made only when
     * asked for (attach-crops) or shown (output=crops) */
    if (!s.attach_crops && out == NULL)
      crop = NULL;
    else
      crop = make_crop (&img, t, s.crop_size, s.margin);
    if (crop != NULL) {
      gst_affect_face_meta_set_crop (meta, crop, s.crop_size);
      if (t == chosen)
        chosen_crop = gst_buffer_ref (crop);
      gst_buffer_unref (crop);
    }
    GST_LOG_OBJECT (self, "track %u box %.1f,%.1f %.1fx%.1f score %.3f", t->id,
        t->box.x, t->box.y, t->box.width, t->box.height, t->score);
  }

  if (out != NULL) {
    write_crop_frame (out, chosen_crop, s.crop_size);
    if (chosen_crop)
      gst_buffer_unref (chosen_crop);
  }
  return GST_FLOW_OK;
}

static GstFlowReturn
gst_face_crop_transform_frame_ip (GstVideoFilter *filter, GstVideoFrame *frame)
{
  return gst_face_crop_process (
      GST_FACE_CROP (filter), frame, frame->buffer, NULL);
}

static GstFlowReturn
gst_face_crop_transform_frame (
    GstVideoFilter *filter, GstVideoFrame *in, GstVideoFrame *out)
{
  return gst_face_crop_process (GST_FACE_CROP (filter), in, out->buffer, out);
}

/* ------------------------------------------------------------------ */
/* GObject                                                             */
/* ------------------------------------------------------------------ */

static void
gst_face_crop_set_property (
    GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  GstFaceCrop *self = GST_FACE_CROP (object);
  gboolean reconfigure = FALSE;

  if (affect_engine_settings_set_property (
          &self->engine, GST_ELEMENT (self), PROP_ENGINE, prop_id, value))
    return;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_DETECTOR:
      self->detector = g_value_get_enum (value);
      break;
    case PROP_THRESHOLD:
      self->threshold = g_value_get_float (value);
      break;
    case PROP_MIN_FACE_SIZE:
      self->min_face_size = g_value_get_int (value);
      break;
    case PROP_DETECT_INTERVAL:
      self->detect_interval = g_value_get_int (value);
      break;
    case PROP_MAX_FACES:
      self->max_faces = g_value_get_int (value);
      break;
    case PROP_MAX_MISSED:
      self->max_missed = g_value_get_int (value);
      break;
    case PROP_CROP_SIZE:
      reconfigure = self->crop_size != g_value_get_int (value);
      self->crop_size = g_value_get_int (value);
      break;
    case PROP_MARGIN:
      self->margin = g_value_get_double (value);
      break;
    case PROP_OUTPUT:
      reconfigure = self->output != (GstFaceCropOutput)g_value_get_enum (value);
      self->output = g_value_get_enum (value);
      break;
    case PROP_CROP_TRACK:
      self->crop_track = g_value_get_int (value);
      break;
    case PROP_ATTACH_CROPS:
      self->attach_crops = g_value_get_boolean (value);
      break;
    case PROP_DETECTOR_SIZE: {
      gint size = g_value_get_int (value);

      /* the network's stride: a multiple of 32 */
      self->detector_size = MAX (
          DETECTOR_SIZE_STEP, size / DETECTOR_SIZE_STEP * DETECTOR_SIZE_STEP);
      if (self->detector_size != size)
        GST_WARNING_OBJECT (self,
            "detector-size %d is not a multiple of %d: using %d", size,
            DETECTOR_SIZE_STEP, self->detector_size);
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);

  if (reconfigure)
    gst_base_transform_reconfigure_src (GST_BASE_TRANSFORM (self));
}

static void
gst_face_crop_get_property (
    GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  GstFaceCrop *self = GST_FACE_CROP (object);

  if (affect_engine_settings_get_property (
          &self->engine, GST_ELEMENT (self), PROP_ENGINE, prop_id, value))
    return;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_DETECTOR:
      g_value_set_enum (value, self->detector);
      break;
    case PROP_THRESHOLD:
      g_value_set_float (value, self->threshold);
      break;
    case PROP_MIN_FACE_SIZE:
      g_value_set_int (value, self->min_face_size);
      break;
    case PROP_DETECT_INTERVAL:
      g_value_set_int (value, self->detect_interval);
      break;
    case PROP_MAX_FACES:
      g_value_set_int (value, self->max_faces);
      break;
    case PROP_MAX_MISSED:
      g_value_set_int (value, self->max_missed);
      break;
    case PROP_CROP_SIZE:
      g_value_set_int (value, self->crop_size);
      break;
    case PROP_MARGIN:
      g_value_set_double (value, self->margin);
      break;
    case PROP_OUTPUT:
      g_value_set_enum (value, self->output);
      break;
    case PROP_CROP_TRACK:
      g_value_set_int (value, self->crop_track);
      break;
    case PROP_ATTACH_CROPS:
      g_value_set_boolean (value, self->attach_crops);
      break;
    case PROP_DETECTOR_SIZE:
      g_value_set_int (value, self->detector_size);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_face_crop_finalize (GObject *object)
{
  GstFaceCrop *self = GST_FACE_CROP (object);

  affect_engine_settings_clear (&self->engine);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* Answers the "affect-upstream" query of the elements downstream
 * (affect-misconfig.h): a face source is here. */
static gboolean
gst_face_crop_query (
    GstBaseTransform *trans, GstPadDirection direction, GstQuery *query)
{
  if (direction == GST_PAD_SRC && affect_upstream_query_is (query)) {
    affect_upstream_query_add (query, "facecrop", GST_OBJECT (trans));
    return TRUE;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)
      ->query (trans, direction, query);
}

static void
gst_face_crop_class_init (GstFaceCropClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  GST_DEBUG_CATEGORY_INIT (
      gst_face_crop_debug, "facecrop", 0, "Face detection and alignment");

  gobject_class->set_property = gst_face_crop_set_property;
  gobject_class->get_property = gst_face_crop_get_property;
  gobject_class->finalize = gst_face_crop_finalize;

  /**
   * GstFaceCrop:detector:
   *
   * Where the faces come from: face-api's TinyFaceDetector, its SSD
   * MobileNet v1, or (`none`) the ROI metas of type "face" of an upstream
   * element. `tiny` is the default: on the demo photos it finds the same
   * faces as `ssd` at a fraction of the cost (docs/elements/facecrop.md).
   * May be changed while playing (the other model is loaded then).
   */
  g_object_class_install_property (gobject_class, PROP_DETECTOR,
      g_param_spec_enum ("detector", "Detector",
          "Face detector: tiny, ssd, or none (use upstream \"face\" ROI "
          "metas)",
          GST_TYPE_FACE_CROP_DETECTOR, DEFAULT_DETECTOR,
          rw | GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstFaceCrop:threshold:
   *
   * Minimum detection score of a face (not used with detector=none).
   */
  g_object_class_install_property (gobject_class, PROP_THRESHOLD,
      g_param_spec_float ("threshold", "Threshold",
          "Minimum detection score of a face", 0.0f, 1.0f, DEFAULT_THRESHOLD,
          rw | GST_PARAM_MUTABLE_PLAYING | GST_PARAM_CONTROLLABLE));

  /**
   * GstFaceCrop:min-face-size:
   *
   * Faces whose box is narrower or lower than this (in frame pixels) are
   * ignored.
   */
  g_object_class_install_property (gobject_class, PROP_MIN_FACE_SIZE,
      g_param_spec_int ("min-face-size", "Minimum face size",
          "Smallest face box side in pixels", 0, 65536, DEFAULT_MIN_FACE_SIZE,
          rw | GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstFaceCrop:detect-interval:
   *
   * Run the detector on every N-th frame (1 = every frame); in between,
   * faces are followed with the landmark network. Ignored with
   * detector=none (upstream ROIs are used on every frame).
   */
  g_object_class_install_property (gobject_class, PROP_DETECT_INTERVAL,
      g_param_spec_int ("detect-interval", "Detect interval",
          "Detect faces every N frames, track in between", 1, 10000,
          DEFAULT_DETECT_INTERVAL, rw | GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstFaceCrop:max-faces:
   *
   * Most faces handled per frame (the best scores first).
   */
  g_object_class_install_property (gobject_class, PROP_MAX_FACES,
      g_param_spec_int ("max-faces", "Maximum faces",
          "Most faces handled per frame", 1, MAX_FACES_LIMIT, DEFAULT_MAX_FACES,
          rw | GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstFaceCrop:max-missed:
   *
   * A track ends when its face has not been found on more than this many
   * consecutive frames; if the face comes back within that time it keeps
   * its id.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_MISSED,
      g_param_spec_int ("max-missed", "Maximum missed frames",
          "Frames a face may be missing before its track ends", 0, 100000,
          DEFAULT_MAX_MISSED, rw | GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstFaceCrop:crop-size:
   *
   * Side in pixels of the aligned face crops (and of the output video with
   * output=crops).
   */
  g_object_class_install_property (gobject_class, PROP_CROP_SIZE,
      g_param_spec_int ("crop-size", "Crop size",
          "Side of the aligned face crops in pixels", MIN_CROP_SIZE,
          MAX_CROP_SIZE, DEFAULT_CROP_SIZE, rw | GST_PARAM_MUTABLE_READY));

  /**
   * GstFaceCrop:margin:
   *
   * Extra context around the aligned face: the ArcFace template is shrunk
   * so that the crop shows this fraction of its side more on each side (0
   * = the ArcFace framing, from the eyebrows to the chin).
   */
  g_object_class_install_property (gobject_class, PROP_MARGIN,
      g_param_spec_double ("margin", "Margin",
          "Fraction of the crop added around the aligned face on each side",
          0.0, 1.0, DEFAULT_MARGIN, rw | GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstFaceCrop:output:
   *
   * `meta`: the video passes unchanged with the face metas. `crops`: the
   * output is crop-size × crop-size RGB video showing the aligned crop of
   * #GstFaceCrop:crop-track (black GAP-flagged frames when it is absent).
   */
  g_object_class_install_property (gobject_class, PROP_OUTPUT,
      g_param_spec_enum ("output", "Output",
          "meta: video unchanged with face metadata; crops: the aligned crop "
          "of one track as video",
          GST_TYPE_FACE_CROP_OUTPUT, DEFAULT_OUTPUT,
          rw | GST_PARAM_MUTABLE_READY));

  /**
   * GstFaceCrop:crop-track:
   *
   * Track shown with output=crops; -1 follows the largest face (and keeps
   * following that track while it lasts).
   */
  g_object_class_install_property (gobject_class, PROP_CROP_TRACK,
      g_param_spec_int ("crop-track", "Crop track",
          "Track id shown with output=crops (-1 = the largest face)", -1,
          G_MAXINT, DEFAULT_CROP_TRACK, rw | GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstFaceCrop:attach-crops:
   *
   * Whether every #GstAffectFaceMeta carries the aligned crop
   * (#GstFaceCrop:crop-size² RGB, see gst_affect_face_meta_set_crop()).
   * Off by default: no element of the plugin reads the crops, and making
   * them costs about a tenth of the pipeline's CPU time. An application
   * that reads the crops from the metas turns it on; output=crops always
   * makes them. May be changed while playing (from the next frame).
   */
  g_object_class_install_property (gobject_class, PROP_ATTACH_CROPS,
      g_param_spec_boolean ("attach-crops", "Attach crops",
          "Attach the aligned face crop to every face meta (always done with "
          "output=crops)",
          DEFAULT_ATTACH_CROPS, rw | GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstFaceCrop:detector-size:
   *
   * Side of the square network input of the tiny detector: the frame is
   * padded to a square and resized to this size before detection, so the
   * smallest face found grows with the frame size (a 1920×1080 frame is
   * shrunk 4.6 times at 416). Larger values find smaller faces, at a
   * cost that grows with the square of the size. A multiple of 32 (another
   * value is rounded down to one); the default, 416, is the size the
   * network was trained at and what every frame was resized to before the
   * property existed. The ssd detector has a fixed input of 512 and
   * ignores it. May be changed while playing.
   */
  g_object_class_install_property (gobject_class, PROP_DETECTOR_SIZE,
      g_param_spec_int ("detector-size", "Detector input size",
          "Side of the square the frame is resized to for detector=tiny (a "
          "multiple of 32; larger finds smaller faces, slower); detector=ssd "
          "always uses 512",
          DETECTOR_SIZE_STEP, AFFECT_DETECTOR_MAX_INPUT_SIZE,
          DEFAULT_DETECTOR_SIZE, rw | GST_PARAM_MUTABLE_PLAYING));

  /* GstFaceCrop:backend, GstFaceCrop:n-threads, GstFaceCrop:model-location:
   * the engine settings shared with affectfeatures and affectfuse
   * (affect-engine-settings.h). n-threads also sizes the colour
   * conversion; the models are tiny_face_detector_model,
   * ssd_mobilenetv1_model and face_landmark_68_model. */
  affect_engine_settings_install (gobject_class, PROP_ENGINE);
  /**
   * GstFaceCrop:batch-window:
   *
   * Microseconds the detector and the landmark network wait for the
   * requests of other facecrop instances in the process that share them
   * (same model file, backend and n-threads; for detector=tiny the same
   * detector-size), to run them as one batch; 0 (the default) runs each
   * frame at once. Results do not depend on it.
   */
  affect_engine_settings_install_batch_window (gobject_class, PROP_ENGINE);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "Face crop",
      "Filter/Analyzer/Video",
      "Detects, tracks and aligns faces: landmarks, track ids and aligned "
      "crops as metadata, or the crops as video",
      "gst-affect developers");

  trans_class->start = GST_DEBUG_FUNCPTR (gst_face_crop_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_face_crop_stop);
  trans_class->transform_caps
      = GST_DEBUG_FUNCPTR (gst_face_crop_transform_caps);
  trans_class->transform_meta
      = GST_DEBUG_FUNCPTR (gst_face_crop_transform_meta);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_face_crop_sink_event);
  trans_class->query = GST_DEBUG_FUNCPTR (gst_face_crop_query);
  filter_class->set_info = GST_DEBUG_FUNCPTR (gst_face_crop_set_info);
  filter_class->transform_frame
      = GST_DEBUG_FUNCPTR (gst_face_crop_transform_frame);
  filter_class->transform_frame_ip
      = GST_DEBUG_FUNCPTR (gst_face_crop_transform_frame_ip);

  gst_type_mark_as_plugin_api (GST_TYPE_FACE_CROP_DETECTOR, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_FACE_CROP_OUTPUT, 0);
}

static void
gst_face_crop_init (GstFaceCrop *self)
{
  self->detector = DEFAULT_DETECTOR;
  self->threshold = DEFAULT_THRESHOLD;
  self->min_face_size = DEFAULT_MIN_FACE_SIZE;
  self->detect_interval = DEFAULT_DETECT_INTERVAL;
  self->max_faces = DEFAULT_MAX_FACES;
  self->max_missed = DEFAULT_MAX_MISSED;
  self->crop_size = DEFAULT_CROP_SIZE;
  self->margin = DEFAULT_MARGIN;
  self->output = DEFAULT_OUTPUT;
  self->crop_track = DEFAULT_CROP_TRACK;
  self->attach_crops = DEFAULT_ATTACH_CROPS;
  self->detector_size = DEFAULT_DETECTOR_SIZE;
  affect_engine_settings_init (&self->engine);

  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
}
