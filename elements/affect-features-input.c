/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/* The request pad of an optional input of affectfeatures: see
 * affect-features-input.h. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "affect-features-input.h"

GST_DEBUG_CATEGORY_EXTERN (gst_affect_features_debug);
#define GST_CAT_DEFAULT gst_affect_features_debug

void
affect_features_input_init (
    AffectFeaturesInput *input, GstAggregator *agg, const gchar *name)
{
  input->agg = agg;
  input->name = name;
  input->pad = NULL;
}

GstPad *
affect_features_input_request_pad (
    AffectFeaturesInput *input, GstPadTemplate *templ)
{
  GstAffectFeaturesPad *pad;

  GST_OBJECT_LOCK (input->agg);
  if (input->pad != NULL) {
    GST_OBJECT_UNLOCK (input->agg);
    GST_WARNING_OBJECT (
        input->agg, "there is already a pad named '%s'", input->name);
    return NULL;
  }
  pad = g_object_new (GST_TYPE_AFFECT_FEATURES_PAD, "name", input->name,
      "direction", GST_PAD_SINK, "template", templ, NULL);
  input->pad = pad;
  GST_OBJECT_UNLOCK (input->agg);
  GST_PAD_SET_ACCEPT_TEMPLATE (pad);
  gst_element_add_pad (GST_ELEMENT (input->agg), GST_PAD (pad));
  return GST_PAD (pad);
}

gboolean
affect_features_input_release_pad (AffectFeaturesInput *input, GstPad *pad)
{
  gboolean was_ours;

  GST_OBJECT_LOCK (input->agg);
  was_ours = pad == GST_PAD (input->pad);
  if (was_ours)
    input->pad = NULL;
  GST_OBJECT_UNLOCK (input->agg);
  return was_ours;
}

gboolean
affect_features_input_has_pad (AffectFeaturesInput *input, GstPad *pad)
{
  gboolean ret;

  GST_OBJECT_LOCK (input->agg);
  ret = pad != NULL && pad == GST_PAD (input->pad);
  GST_OBJECT_UNLOCK (input->agg);
  return ret;
}

GstAggregatorPad *
affect_features_input_ref_pad (AffectFeaturesInput *input)
{
  GstAggregatorPad *pad = NULL;

  GST_OBJECT_LOCK (input->agg);
  if (input->pad != NULL)
    pad = gst_object_ref (GST_AGGREGATOR_PAD (input->pad));
  GST_OBJECT_UNLOCK (input->agg);
  return pad;
}
