/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

#ifndef __GST_AFFECT_FEATURES_H__
#define __GST_AFFECT_FEATURES_H__

#include <gst/gst.h>
#include <gst/base/gstaggregator.h>

G_BEGIN_DECLS

/**
 * GstAffectFeaturesPad:
 *
 * A sink pad of affectfeatures: the always-present `video` pad and the
 * `audio` and `text` request pads.
 */
#define GST_TYPE_AFFECT_FEATURES_PAD (gst_affect_features_pad_get_type ())
G_DECLARE_FINAL_TYPE (GstAffectFeaturesPad, gst_affect_features_pad, GST,
    AFFECT_FEATURES_PAD, GstAggregatorPad);

#define GST_TYPE_AFFECT_FEATURES (gst_affect_features_get_type ())
G_DECLARE_FINAL_TYPE (GstAffectFeatures, gst_affect_features, GST,
    AFFECT_FEATURES, GstAggregator);

GST_ELEMENT_REGISTER_DECLARE (affectfeatures);

G_END_DECLS

#endif /* __GST_AFFECT_FEATURES_H__ */
