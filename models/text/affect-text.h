/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The text part's header: the WordPiece tokenizer and the BERT encoder.
 */

#ifndef __AFFECT_TEXT_H__
#define __AFFECT_TEXT_H__

#include "affect-engine.h"
#include "affect-tokenizer.h"
#include "affect-bert.h"

#endif /* __AFFECT_TEXT_H__ */
