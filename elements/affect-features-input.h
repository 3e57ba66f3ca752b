/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/* The request pad of one optional input of affectfeatures (internal to the
 * plugin), shared by the `audio` (affect-features-audio.c) and `text`
 * (affect-features-text.c) inputs: at most one pad of that name, its
 * pointer guarded by the element's object lock. */

#ifndef __AFFECT_FEATURES_INPUT_H__
#define __AFFECT_FEATURES_INPUT_H__

#include <gst/base/gstaggregator.h>
#include <gst/gst.h>

#include "gstaffectfeatures.h"

G_BEGIN_DECLS

typedef struct {
  GstAggregator *agg;        /* the element (not a reference: it owns us) */
  const gchar *name;         /* the pad's name, static: "audio", "text" */
  GstAffectFeaturesPad *pad; /* the request pad, the element's object lock */
} AffectFeaturesInput;

void affect_features_input_init (
    AffectFeaturesInput *input, GstAggregator *agg, const gchar *name);

/* A new pad of @templ named input->name, added to the element; NULL (with
 * a warning in the log) when there is one already. */
GstPad *affect_features_input_request_pad (
    AffectFeaturesInput *input, GstPadTemplate *templ);
/* Forgets @pad when it is the input's pad; returns whether it was. */
gboolean affect_features_input_release_pad (
    AffectFeaturesInput *input, GstPad *pad);
gboolean affect_features_input_has_pad (
    AffectFeaturesInput *input, GstPad *pad);
/* The pad (a new reference) or NULL. */
GstAggregatorPad *affect_features_input_ref_pad (AffectFeaturesInput *input);

G_END_DECLS

#endif /* __AFFECT_FEATURES_INPUT_H__ */
