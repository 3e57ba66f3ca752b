/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Umbrella header of libgstaffect-1.0: include this one. */

#ifndef __GST_AFFECT_H__
#define __GST_AFFECT_H__

#include <gst/affect/affect-prelude.h>
#include <gst/affect/affectmeta.h>
#include <gst/affect/affectface.h>
#include <gst/affect/affect-enumtypes.h>

#endif /* __GST_AFFECT_H__ */
