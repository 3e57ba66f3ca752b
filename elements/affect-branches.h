/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/* The "affect-branches" query: which feature branches of affectfeatures
 * something downstream reads.
 *
 * affectfeatures sends it downstream from its src pad (when it starts and
 * whenever it renegotiates: new video caps, a RECONFIGURE event from
 * downstream). It is a non-serialized GST_QUERY_CUSTOM whose structure is
 * named "affect-branches"; every element that knows what it reads adds its
 * branches to it:
 *
 *   affect-branches, branches=(GstAffectModalities)image+expression,
 *       answers=(string)"affectfuse0: expression (expression baseline)"
 *
 * "branches" is absent until somebody answers; "answers" lists who asked
 * for what, for the debug log. Answers are ORed: an element never removes
 * what another asked for.
 *
 * An answering element adds its own branches and forwards the query
 * downstream (so that what comes after it adds its own), then returns
 * FALSE on purpose: a tee forwards a query to its src pads one after the
 * other and stops at the first that returns TRUE (gst_pad_query_default()),
 * so returning FALSE lets every branch of a tee answer. The sender reads
 * the result from the structure, never from the return value.
 *
 * Known limit: a branch of the pipeline that ends without any answering
 * element (an appsink reading every feature, say) next to one that answers
 * is not seen; set affectfeatures' "branches" property in such a pipeline.
 * When nothing answers at all, affectfeatures computes every branch. */

#ifndef __AFFECT_BRANCHES_H__
#define __AFFECT_BRANCHES_H__

#include <gst/affect/affectmeta.h>
#include <gst/gst.h>

G_BEGIN_DECLS

#define AFFECT_BRANCHES_QUERY_NAME "affect-branches"

/* Every branch affectfeatures computes. */
#define AFFECT_BRANCHES_ALL                                   \
  (GST_AFFECT_MODALITY_IMAGE | GST_AFFECT_MODALITY_EXPRESSION \
      | GST_AFFECT_MODALITY_SPEECH | GST_AFFECT_MODALITY_WORDS)

/* A new query, nobody answered yet. */
GstQuery *affect_branches_query_new (void);

/* Whether @query is an affect-branches query. */
gboolean affect_branches_query_is (GstQuery *query);

/* Adds @branches, asked by @answerer because of @why (a short phrase for
 * the log, e.g. "expression baseline"), to @query. */
void affect_branches_query_add (GstQuery *query, GstObject *answerer,
    GstAffectModalities branches, const gchar *why);

/* Whether somebody answered @query; then sets @branches to what was asked
 * and, when @answers is not NULL, to who asked for what (transfer none,
 * valid while @query lives). */
gboolean affect_branches_query_parse (
    GstQuery *query, GstAffectModalities *branches, const gchar **answers);

/* The branches a fusion network reads, from its "features" metadata value
 * ("img=…,exp=…,spe=…,wrd=…", see docs/fusion.md): the image branch always,
 * plus each branch named there. FALSE (and @branches unset) when
 * @features cannot be read that way. */
gboolean affect_branches_from_fusion_features (
    const gchar *features, GstAffectModalities *branches);

/* "image+expression", "none", ...: free with g_free(). */
gchar *affect_branches_to_string (GstAffectModalities branches);

G_END_DECLS

#endif /* __AFFECT_BRANCHES_H__ */
