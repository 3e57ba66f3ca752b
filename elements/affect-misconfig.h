/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/* Pipelines that run but can never give a prediction: one warning and one
 * element message, so that neither a person reading GST_DEBUG=2 nor an
 * application is left with a silent, empty result (docs/elements/<element>.md,
 * "Misconfiguration").
 *
 * affectfeatures and affectfuse watch the metas of the buffers they get,
 * from their start (READY→PAUSED) or the last flush, and when the meta they
 * need never came (after AFFECT_MISCONFIG_FRAMES frames, or at EOS when
 * fewer came) they call affect_misconfig_post() once; a flush or a restart
 * watches afresh. It posts, on @element:
 *
 * - a GST_MESSAGE_WARNING, domain GST_CORE_ERROR, code
 *   GST_CORE_ERROR_PAD, whose text names the cause and the fix and whose
 *   details are the structure below;
 * - a GST_MESSAGE_ELEMENT with the structure
 *
 *     affect-misconfiguration, reason=(string)no-features,
 *         text=(string)"...", hint=(string)"...", frames=(guint64)30
 *         [, branch=(string)image]
 *
 *   reason: AFFECT_MISCONFIG_REASON_* below; text: what is wrong; hint: how
 *   to fix it; frames: the frames seen when it was decided; branch (only
 *   with missing-branch): the feature branch that never came.
 *
 * Whether faces can come at all is asked upstream with the
 * "affect-upstream" query (a non-serialized GST_QUERY_CUSTOM): facecrop
 * answers it (field "facecrop" = its name, and returns TRUE); affectfeatures
 * adds its name (field "affectfeatures") and passes it on upstream. So "no
 * face in any frame" behind a facecrop (a legitimate stream without faces)
 * is told apart from "nothing upstream makes faces". */

#ifndef __AFFECT_MISCONFIG_H__
#define __AFFECT_MISCONFIG_H__

#include <gst/gst.h>

G_BEGIN_DECLS

#define AFFECT_MISCONFIG_MESSAGE_NAME "affect-misconfiguration"

/* No face meta at all and no facecrop upstream. */
#define AFFECT_MISCONFIG_REASON_NO_FACES "no-faces"
/* Face metas but never a features meta (no affectfeatures upstream). */
#define AFFECT_MISCONFIG_REASON_NO_FEATURES "no-features"
/* Features metas but never the branch the element needs. */
#define AFFECT_MISCONFIG_REASON_MISSING_BRANCH "missing-branch"

/* Frames watched before deciding (about one second of video). */
#define AFFECT_MISCONFIG_FRAMES 30

#define AFFECT_UPSTREAM_QUERY_NAME "affect-upstream"

/* Posts the warning and the element message (see above). @branch: only
 * for AFFECT_MISCONFIG_REASON_MISSING_BRANCH, else NULL. */
void affect_misconfig_post (GstElement *element, const gchar *reason,
    const gchar *branch, guint64 frames, const gchar *text, const gchar *hint);

/* A new "affect-upstream" query, nobody answered yet. */
GstQuery *affect_upstream_query_new (void);

/* Whether @query is an "affect-upstream" query. */
gboolean affect_upstream_query_is (GstQuery *query);

/* Sets the field @role ("facecrop" or "affectfeatures") of @query to the
 * name of @answerer (the first one met upstream is kept). */
void affect_upstream_query_add (
    GstQuery *query, const gchar *role, GstObject *answerer);

/* Asks upstream of @sinkpad what is there; TRUE when a facecrop answered
 * (@affectfeatures, when not NULL, is set to whether an affectfeatures was
 * met on the way). */
gboolean affect_upstream_has_facecrop (
    GstPad *sinkpad, gboolean *affectfeatures);

G_END_DECLS

#endif /* __AFFECT_MISCONFIG_H__ */
