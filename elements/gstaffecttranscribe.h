/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

#ifndef __GST_AFFECT_TRANSCRIBE_H__
#define __GST_AFFECT_TRANSCRIBE_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/**
 * GstAffectTranscribeGranularity:
 * @GST_AFFECT_TRANSCRIBE_GRANULARITY_WORD: one text buffer per word
 * @GST_AFFECT_TRANSCRIBE_GRANULARITY_SEGMENT: one text buffer per segment
 *
 * What one output buffer of affecttranscribe holds.
 */
typedef enum {
  GST_AFFECT_TRANSCRIBE_GRANULARITY_WORD,
  GST_AFFECT_TRANSCRIBE_GRANULARITY_SEGMENT,
} GstAffectTranscribeGranularity;

#define GST_TYPE_AFFECT_TRANSCRIBE_GRANULARITY \
  (gst_affect_transcribe_granularity_get_type ())
GType gst_affect_transcribe_granularity_get_type (void);

#define GST_TYPE_AFFECT_TRANSCRIBE (gst_affect_transcribe_get_type ())
G_DECLARE_FINAL_TYPE (GstAffectTranscribe, gst_affect_transcribe, GST,
    AFFECT_TRANSCRIBE, GstElement)

GST_ELEMENT_REGISTER_DECLARE (affecttranscribe);

G_END_DECLS

#endif /* __GST_AFFECT_TRANSCRIBE_H__ */
