/* gst-affect — models/tools
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The text files affect-evaluate reads (docs/evaluate.md), parsed from
 * memory so that they can be fuzzed (tests/fuzz/fuzz-annotations.c):
 *  - Aff-Wild2 / ABAW annotation files and affectsink `abaw` prediction
 *    files: a header line of comma-separated column names, then one line
 *    of comma-separated numbers per frame (AU: one 1/0/-1 label or [0, 1]
 *    / -1 prediction per AU; EXPR: one class index or -1; VA: valence,
 *    arousal in [-1, 1] or -5). A UTF-8 byte order mark and '\r' are
 *    ignored, empty lines only at the end; NUL bytes are refused.
 *  - the --map file: lines '<annotation name> <video folder>/track-N',
 *    blank lines and '#' comments ignored.
 * Every error names the file (as given) and, for a line, its number.
 * No GStreamer here.
 */

#ifndef __AFFECT_ANNOTATIONS_H__
#define __AFFECT_ANNOTATIONS_H__

#include <glib.h>

G_BEGIN_DECLS

#define AFFECT_ANN_ERROR (affect_ann_error_quark ())
GQuark affect_ann_error_quark (void);

enum { AFFECT_ANN_ERROR_INPUT };

typedef enum {
  AFFECT_ANN_AU,
  AFFECT_ANN_EXPR,
  AFFECT_ANN_VA,
  AFFECT_ANN_N_TASKS
} AffectAnnTask;

/* What a file holds, for the checks of its values. */
typedef enum {
  AFFECT_ANN_LABEL,
  AFFECT_ANN_PRED,
} AffectAnnRole;

typedef struct {
  gchar *path;
  gchar **names; /* header columns (AU names, class names, valence,arousal) */
  int n_names;
  int n_values; /* values per data line */
  gsize n_rows;
  float *values; /* n_rows * n_values */
} AffectAnnTable;

/* Parses @len bytes of @data (need not end with a NUL); @path names the
 * file in errors. NULL with @error on any problem. */
AffectAnnTable *affect_ann_table_parse (const gchar *path, const gchar *data,
    gsize len, AffectAnnTask task, AffectAnnRole role, GError **error);
/* Reads @path and parses it. */
AffectAnnTable *affect_ann_table_load (
    const gchar *path, AffectAnnTask task, AffectAnnRole role, GError **error);
void affect_ann_table_free (AffectAnnTable *t);

/* Checks one value of a data line of @t; returns NULL or what is wrong
 * (free with g_free). */
gchar *affect_ann_check_value (
    AffectAnnTask task, AffectAnnRole role, const AffectAnnTable *t, double v);

/* Whether row @i of a prediction table holds a prediction. */
gboolean affect_ann_pred_row_valid (
    AffectAnnTask task, const AffectAnnTable *t, gsize i);

typedef struct {
  gchar *folder; /* relative to PRED_DIR */
  gchar *track;  /* "track-N" */
  gsize line;
} AffectAnnMapEntry;

/* Annotation name (without ".txt") -> AffectAnnMapEntry. @data: as for
 * affect_ann_table_parse, except that the text ends at a NUL byte (as
 * when the file is read into a string). */
GHashTable *affect_ann_map_parse (
    const gchar *path, const gchar *data, gsize len, GError **error);
GHashTable *affect_ann_map_load (const gchar *path, GError **error);
void affect_ann_map_entry_free (gpointer entry);

/* "track-N" (@len bytes of @s) with N a decimal number. */
gboolean affect_ann_is_track_name (const gchar *s, gsize len);
/* @name without a ".txt" suffix (g_free). */
gchar *affect_ann_strip_txt (const gchar *name);

G_END_DECLS

#endif /* __AFFECT_ANNOTATIONS_H__ */
