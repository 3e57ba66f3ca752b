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

#include <gst/gst.h>

#include "gstaffectsink.h"
#include "gstfacecrop.h"
#include "gstaffectfeatures.h"
#include "gstaffectfuse.h"
#include "gstaffectoverlay.h"
#include "gstaffecttranscribe.h"

static gboolean
plugin_init (GstPlugin *plugin)
{
  gboolean ret = FALSE;

  ret |= GST_ELEMENT_REGISTER (affectsink, plugin);
  ret |= GST_ELEMENT_REGISTER (facecrop, plugin);
  ret |= GST_ELEMENT_REGISTER (affectfeatures, plugin);
  ret |= GST_ELEMENT_REGISTER (affectfuse, plugin);
  ret |= GST_ELEMENT_REGISTER (affectoverlay, plugin);
  ret |= GST_ELEMENT_REGISTER (affecttranscribe, plugin);

  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, affect,
    "Facial affect analysis in video: faces, landmarks and expressions "
    "(pretrained); action units and valence/arousal only with a fusion "
    "model you train yourself (affectfuse model=FILE)",
    plugin_init, VERSION, "LGPL", PACKAGE, GST_PACKAGE_ORIGIN)
