/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/* The `text` input of affectfeatures (internal to the plugin): the request
 * pad, the cues (markup stripped, words spread over the cue's time, or a
 * one-word buffer's word over exactly its own time), their
 * contextual word embeddings from the BERT word model and the word spoken
 * at a given time (f_wrd).
 *
 * An AffectFeaturesText lives as long as the element. Its pad pointer is
 * guarded by the element's object lock; everything else is used from the
 * aggregator's streaming thread (and start/stop). Errors and warnings are
 * posted on the element. */

#ifndef __AFFECT_FEATURES_TEXT_H__
#define __AFFECT_FEATURES_TEXT_H__

#include <gst/base/gstaggregator.h>
#include <gst/gst.h>

#include "affect-engine-settings.h"
#include "affect-engine.h"

G_BEGIN_DECLS

typedef struct _AffectFeaturesText AffectFeaturesText;

AffectFeaturesText *affect_features_text_new (GstAggregator *agg);
void affect_features_text_free (AffectFeaturesText *text);

/* The request pad: a new `text` pad of @templ (NULL when there is one
 * already). */
GstPad *affect_features_text_request_pad (
    AffectFeaturesText *text, GstPadTemplate *templ);
/* Forgets @pad when it is the text pad; returns whether it was. */
gboolean affect_features_text_release_pad (
    AffectFeaturesText *text, GstPad *pad);
gboolean affect_features_text_has_pad (AffectFeaturesText *text, GstPad *pad);
/* The text pad (a new reference) or NULL. */
GstAggregatorPad *affect_features_text_ref_pad (AffectFeaturesText *text);

/* start(): the word model is acquired from the process-wide cache with
 * the element's engine settings @engine (affect_engine_settings_acquire_
 * path(): one loaded model for every instance of the same settings on a
 * GPU backend, and on cpu while batch-window > 0; else one of the
 * instance's own), which must stay started until stop(); an explicit
 * @word_model (a folder) is loaded now, so that a wrong one fails the start
 * (FALSE, error posted); NULL or "" loads the default one with the first
 * cue. stop() drops the model and the cues; flush() drops the cues.
 * release_model() drops the model only (the element's n-threads or
 * batch-window changed: affect_engine_settings_sync_threads()); the next
 * cue acquires it again with the new settings. */
gboolean affect_features_text_start (AffectFeaturesText *text,
    AffectEngineSettings *engine, const gchar *word_model);
void affect_features_text_stop (AffectFeaturesText *text);
void affect_features_text_release_model (AffectFeaturesText *text);
void affect_features_text_flush (AffectFeaturesText *text);

/* The CAPS of the text pad: pango-markup is stripped. */
void affect_features_text_set_caps (AffectFeaturesText *text, GstCaps *caps);

/* Consumes the cues that start at or before @t (running time); with
 * @embed FALSE (nothing reads f_wrd) they are dropped without running the
 * word model. GST_FLOW_OK, or GST_AGGREGATOR_FLOW_NEED_DATA to wait for a
 * cue starting after @t. */
GstFlowReturn affect_features_text_collect (AffectFeaturesText *text,
    GstAggregatorPad *tpad, GstClockTime t, gboolean timeout, gboolean embed);

/* The embedding of the word spoken at @t (@size floats), or NULL; drops
 * the cues that ended before @t. */
const float *affect_features_text_word_at (
    AffectFeaturesText *text, GstClockTime t, guint *size);

G_END_DECLS

#endif /* __AFFECT_FEATURES_TEXT_H__ */
