/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The engine part's header: tensors, backends (by name from the registry),
 * the ops, safetensors files and model lookup. Elements and tools include
 * this one header per part (affect-engine.h, affect-face.h, affect-speech.h,
 * affect-text.h, affect-fusion.h), never the files behind them.
 */

#ifndef __AFFECT_ENGINE_H__
#define __AFFECT_ENGINE_H__

#include "affect-tensor.h"
#include "affect-safetensors.h"
#include "affect-modelpath.h"
#include "affect-shared.h"

#endif /* __AFFECT_ENGINE_H__ */
