/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The face part's header: images and boxes, the face detectors (TinyFace,
 * SSD), the 68-landmark, expression and recognition networks and the image
 * feature network built on them, and the head pose from the landmarks.
 */

#ifndef __AFFECT_FACE_H__
#define __AFFECT_FACE_H__

#include "affect-engine.h"
#include "affect-image.h"
#include "affect-detector.h"
#include "affect-tinyface.h"
#include "affect-ssd.h"
#include "affect-landmarks.h"
#include "affect-expression.h"
#include "affect-recognition.h"
#include "affect-facefeat.h"
#include "affect-headpose.h"

#endif /* __AFFECT_FACE_H__ */
