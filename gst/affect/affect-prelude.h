/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

#ifndef __GST_AFFECT_PRELUDE_H__
#define __GST_AFFECT_PRELUDE_H__

#include <gst/gst.h>

#ifndef GST_AFFECT_API
#ifdef BUILDING_GST_AFFECT
#define GST_AFFECT_API GST_API_EXPORT
#else
#define GST_AFFECT_API GST_API_IMPORT
#endif
#endif

#endif /* __GST_AFFECT_PRELUDE_H__ */
