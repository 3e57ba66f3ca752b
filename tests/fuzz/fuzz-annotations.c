/* gst-affect — tests/fuzz
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libFuzzer target for the text files affect-evaluate reads
 * (models/tools/affect-annotations.c): Aff-Wild2 / ABAW annotation files,
 * affectsink `abaw` prediction files and the --map file. The first byte
 * picks the reader (its value modulo 7: 0..5 = AU, EXPR, VA annotation or
 * prediction, 6 = map), the rest is the file. A file that is accepted must
 * hold what its kind allows (header names that are not numbers, the right
 * number of values per line, each value valid for the task and role; map
 * entries with a folder and a track-N); a refused one must give an error
 * naming the file.
 */

#include <glib.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "affect-annotations.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define CHECK(cond)                                                          \
  G_STMT_START                                                               \
  {                                                                          \
    if (!(cond)) {                                                           \
      fprintf (stderr, "fuzz-annotations: invariant failed: %s (line %d)\n", \
          #cond, __LINE__);                                                  \
      abort ();                                                              \
    }                                                                        \
  }                                                                          \
  G_STMT_END

#define NAME "fuzz.txt"

static void
check_error (GError *error)
{
  CHECK (error != NULL);
  CHECK (error->domain == AFFECT_ANN_ERROR);
  CHECK (g_str_has_prefix (error->message, NAME ":"));
  g_error_free (error);
}

static void
check_table (const AffectAnnTable *t, AffectAnnTask task, AffectAnnRole role,
    const uint8_t *data, size_t size)
{
  gsize newlines = 0;

  CHECK (strcmp (t->path, NAME) == 0);
  CHECK (t->n_names >= 1 && (guint)t->n_names == g_strv_length (t->names));
  for (int j = 0; j < t->n_names; j++) {
    const gchar *n = t->names[j];
    CHECK (n[0] != '\0');
    CHECK (!g_ascii_isspace (n[0]) && !g_ascii_isspace (n[strlen (n) - 1]));
    CHECK (strchr (n, ',') == NULL && strchr (n, '\n') == NULL);
  }
  switch (task) {
    case AFFECT_ANN_AU:
      CHECK (t->n_values == t->n_names);
      break;
    case AFFECT_ANN_EXPR:
      CHECK (t->n_values == 1 && t->n_names >= 2);
      break;
    case AFFECT_ANN_VA:
      CHECK (t->n_values == 2 && t->n_names == 2);
      break;
    default:
      CHECK (!"task");
  }
  for (size_t i = 0; i < size; i++)
    newlines += data[i] == '\n';
  CHECK (t->n_rows <= newlines);
  CHECK (t->n_rows == 0 || t->values != NULL);
  for (gsize i = 0; i < t->n_rows; i++) {
    for (int j = 0; j < t->n_values; j++) {
      float v = t->values[i * t->n_values + j];
      gchar *problem = affect_ann_check_value (task, role, t, v);
      CHECK (isfinite (v));
      /* The stored float passes the check the parsed double passed. */
      if (problem) {
        fprintf (stderr, "row %" G_GSIZE_FORMAT " value %d (%g): %s\n", i, j, v,
            problem);
        CHECK (!"stored values pass the checks");
      }
    }
    (void)affect_ann_pred_row_valid (task, t, i);
  }
}

static void
check_map (GHashTable *map)
{
  GHashTableIter it;
  gpointer k, v;

  g_hash_table_iter_init (&it, map);
  while (g_hash_table_iter_next (&it, &k, &v)) {
    const AffectAnnMapEntry *e = v;
    CHECK (((const gchar *)k)[0] != '#');
    CHECK (e->folder != NULL && e->folder[0] != '\0');
    CHECK (affect_ann_is_track_name (e->track, strlen (e->track)));
    CHECK (e->line >= 1);
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  GError *error = NULL;
  int mode;

  /* A g_return_if_fail () in the code under test is a bug. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR);
  if (size == 0)
    return 0;
  mode = data[0] % 7;
  data++;
  size--;
  if (mode == 6) {
    GHashTable *map
        = affect_ann_map_parse (NAME, (const gchar *)data, size, &error);
    if (!map) {
      check_error (error);
      return 0;
    }
    CHECK (error == NULL);
    check_map (map);
    g_hash_table_unref (map);
  } else {
    AffectAnnTask task = (AffectAnnTask)(mode / 2);
    AffectAnnRole role = mode % 2 ? AFFECT_ANN_PRED : AFFECT_ANN_LABEL;
    AffectAnnTable *t = affect_ann_table_parse (
        NAME, (const gchar *)data, size, task, role, &error);
    if (!t) {
      check_error (error);
      return 0;
    }
    CHECK (error == NULL);
    check_table (t, task, role, data, size);
    affect_ann_table_free (t);
  }
  return 0;
}
