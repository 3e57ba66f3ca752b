/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/* The `audio` input of affectfeatures (internal to the plugin): the
 * request pad, the conversion to 16 kHz mono, the speech feature extractor
 * and the alignment of its 10-ms frames with the video frames (f_spe).
 *
 * An AffectFeaturesAudio lives as long as the element. Its pad pointer is
 * guarded by the element's object lock; everything else is used from the
 * aggregator's streaming thread (and start/stop). Errors are posted on the
 * element. */

#ifndef __AFFECT_FEATURES_AUDIO_H__
#define __AFFECT_FEATURES_AUDIO_H__

#include <gst/base/gstaggregator.h>
#include <gst/gst.h>

#include "affect-speech.h"

G_BEGIN_DECLS

/* Floats of f_spe at most: the MFCCs, log energy, F0 (Hz) and voicing. */
#define AFFECT_FEATURES_SPEECH_MAX (AFFECT_MFCC_MAX_CEPS + 3)

typedef struct _AffectFeaturesAudio AffectFeaturesAudio;

AffectFeaturesAudio *affect_features_audio_new (GstAggregator *agg);
void affect_features_audio_free (AffectFeaturesAudio *audio);

/* The request pad: a new `audio` pad of @templ (NULL when there is one
 * already); the speech latency is set on the aggregator. */
GstPad *affect_features_audio_request_pad (
    AffectFeaturesAudio *audio, GstPadTemplate *templ);
/* Forgets @pad when it is the audio pad (latency back to 0); returns
 * whether it was. */
gboolean affect_features_audio_release_pad (
    AffectFeaturesAudio *audio, GstPad *pad);
gboolean affect_features_audio_has_pad (
    AffectFeaturesAudio *audio, GstPad *pad);
/* The audio pad (a new reference) or NULL. */
GstAggregatorPad *affect_features_audio_ref_pad (AffectFeaturesAudio *audio);

/* Streaming: start() creates the extractor (FALSE with an error posted),
 * stop() drops it; flush() forgets the queued audio (flushing seek). */
gboolean affect_features_audio_start (AffectFeaturesAudio *audio);
void affect_features_audio_stop (AffectFeaturesAudio *audio);
void affect_features_audio_flush (AffectFeaturesAudio *audio);

/* The CAPS of the audio pad; FALSE with an error posted when they cannot
 * be converted. */
gboolean affect_features_audio_set_caps (
    AffectFeaturesAudio *audio, GstAggregatorPad *pad, GstCaps *caps);

/* Consumes audio until it covers @end (running time) plus the latency of
 * the extractor. GST_FLOW_OK when the frame can be processed,
 * GST_AGGREGATOR_FLOW_NEED_DATA to wait for more audio, GST_FLOW_ERROR
 * (posted). */
GstFlowReturn affect_features_audio_collect (AffectFeaturesAudio *audio,
    GstAggregatorPad *apad, GstClockTime end, gboolean timeout);

/* The mean of the speech frames whose centre lies in [@start, @end) into
 * @out (AFFECT_FEATURES_SPEECH_MAX floats); drops the frames before @end.
 * Returns the number of frames, and their size in @n_features. */
guint affect_features_audio_pool (AffectFeaturesAudio *audio,
    GstClockTime start, GstClockTime end, float *out, guint *n_features);

G_END_DECLS

#endif /* __AFFECT_FEATURES_AUDIO_H__ */
