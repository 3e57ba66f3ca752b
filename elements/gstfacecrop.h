/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

#ifndef __GST_FACE_CROP_H__
#define __GST_FACE_CROP_H__

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>

G_BEGIN_DECLS

/**
 * GstFaceCropDetector:
 * @GST_FACE_CROP_DETECTOR_TINY: face-api's TinyFaceDetector (416 × 416
 *   input)
 * @GST_FACE_CROP_DETECTOR_SSD: face-api's SSD MobileNet v1 (512 × 512
 *   input)
 * @GST_FACE_CROP_DETECTOR_NONE: no detector: the faces are the
 *   #GstVideoRegionOfInterestMeta of type "face" put on the buffers
 *   upstream
 *
 * Where facecrop's faces come from.
 */
typedef enum {
  GST_FACE_CROP_DETECTOR_TINY = 0,
  GST_FACE_CROP_DETECTOR_SSD = 1,
  GST_FACE_CROP_DETECTOR_NONE = 2
} GstFaceCropDetector;

/**
 * GstFaceCropOutput:
 * @GST_FACE_CROP_OUTPUT_META: the video passes through unchanged, faces
 *   are attached as metadata
 * @GST_FACE_CROP_OUTPUT_CROPS: the output is the aligned crop of one
 *   track as crop-size × crop-size RGB video
 *
 * What facecrop outputs.
 */
typedef enum {
  GST_FACE_CROP_OUTPUT_META = 0,
  GST_FACE_CROP_OUTPUT_CROPS = 1
} GstFaceCropOutput;

GType gst_face_crop_detector_get_type (void);
#define GST_TYPE_FACE_CROP_DETECTOR (gst_face_crop_detector_get_type ())

GType gst_face_crop_output_get_type (void);
#define GST_TYPE_FACE_CROP_OUTPUT (gst_face_crop_output_get_type ())

#define GST_TYPE_FACE_CROP (gst_face_crop_get_type ())
G_DECLARE_FINAL_TYPE (
    GstFaceCrop, gst_face_crop, GST, FACE_CROP, GstVideoFilter);

GST_ELEMENT_REGISTER_DECLARE (facecrop);

G_END_DECLS

#endif /* __GST_FACE_CROP_H__ */
