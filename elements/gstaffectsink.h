/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

#ifndef __GST_AFFECT_SINK_H__
#define __GST_AFFECT_SINK_H__

#include <gst/gst.h>
#include <gst/base/gstbasesink.h>

G_BEGIN_DECLS

/**
 * GstAffectSinkFormat:
 * @GST_AFFECT_SINK_FORMAT_JSONL: one JSON object per frame and line
 * @GST_AFFECT_SINK_FORMAT_CSV: comma-separated values, one row per face
 *   and frame
 * @GST_AFFECT_SINK_FORMAT_ABAW: Aff-Wild2 (ABAW challenge) annotation files,
 *   one per track and task, in a folder
 *
 * Output format of affectsink.
 */
typedef enum {
  GST_AFFECT_SINK_FORMAT_JSONL = 0,
  GST_AFFECT_SINK_FORMAT_CSV = 1,
  GST_AFFECT_SINK_FORMAT_ABAW = 2
} GstAffectSinkFormat;

/**
 * GstAffectSinkAbawTask:
 * @GST_AFFECT_SINK_ABAW_TASK_AU: action units only (`*.AU.txt`)
 * @GST_AFFECT_SINK_ABAW_TASK_EXPR: expressions only (`*.EXPR.txt`)
 * @GST_AFFECT_SINK_ABAW_TASK_VA: valence/arousal only (`*.VA.txt`)
 * @GST_AFFECT_SINK_ABAW_TASK_ALL: the three files
 *
 * Which ABAW annotation files affectsink writes in the abaw format.
 */
typedef enum {
  GST_AFFECT_SINK_ABAW_TASK_AU = 0,
  GST_AFFECT_SINK_ABAW_TASK_EXPR = 1,
  GST_AFFECT_SINK_ABAW_TASK_VA = 2,
  GST_AFFECT_SINK_ABAW_TASK_ALL = 3
} GstAffectSinkAbawTask;

GType gst_affect_sink_format_get_type (void);
#define GST_TYPE_AFFECT_SINK_FORMAT (gst_affect_sink_format_get_type ())

GType gst_affect_sink_abaw_task_get_type (void);
#define GST_TYPE_AFFECT_SINK_ABAW_TASK (gst_affect_sink_abaw_task_get_type ())

#define GST_TYPE_AFFECT_SINK (gst_affect_sink_get_type ())
G_DECLARE_FINAL_TYPE (
    GstAffectSink, gst_affect_sink, GST, AFFECT_SINK, GstBaseSink);

GST_ELEMENT_REGISTER_DECLARE (affectsink);

G_END_DECLS

#endif /* __GST_AFFECT_SINK_H__ */
