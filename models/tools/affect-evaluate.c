/* gst-affect — models/tools
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * affect-evaluate --pred PRED_DIR [--au DIR] [--expr DIR] [--va DIR]
 *                 [--map FILE] [--json OUT] [-v]
 *
 * Scores `affectsink format=abaw` outputs against Aff-Wild2 / ABAW
 * annotation sets with the challenge metrics (models/fusion/affect-metrics.h):
 * mean F1 over the action units, mean F1 over the expression classes, CCC
 * of valence and arousal and their mean, and the multi-task total.
 *
 * PRED_DIR holds one affectsink `abaw` folder per video; an annotation
 * `<name>.txt` is scored against PRED_DIR/<folder>/track-N.<TASK>.txt where
 * the folder and track come from --map, else the folder is <name> (or
 * <name> without a `_left` / `_right` suffix) and the track is its only
 * one, or the one with the most valid frames. As in ABAW every labelled
 * frame counts: a missing prediction is filled (AU 0, EXPR class 0, VA 0)
 * and counted. Metrics are computed over the frames of all videos pooled.
 * See docs/evaluate.md.
 */

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "affect-annotations.h"
#include "affect-metrics.h"

static const gchar *const task_suffix[AFFECT_ANN_N_TASKS]
    = { "AU", "EXPR", "VA" };
static const gchar *const task_json[AFFECT_ANN_N_TASKS]
    = { "au", "expr", "va" };

static gchar *opt_pred = NULL;
static gchar *opt_ann[AFFECT_ANN_N_TASKS] = { NULL, NULL, NULL };
static gchar *opt_map = NULL;
static gchar *opt_json = NULL;
static gboolean opt_verbose = FALSE;
static gboolean opt_version = FALSE;

static GOptionEntry entries[] = {
  { "pred", 'p', 0, G_OPTION_ARG_FILENAME, &opt_pred,
      "Folder with one affectsink 'abaw' folder per video (required)",
      "PRED_DIR" },
  { "au", 0, 0, G_OPTION_ARG_FILENAME, &opt_ann[AFFECT_ANN_AU],
      "Folder of AU annotation files (<video>.txt)", "ANN_DIR" },
  { "expr", 0, 0, G_OPTION_ARG_FILENAME, &opt_ann[AFFECT_ANN_EXPR],
      "Folder of expression annotation files (<video>.txt)", "ANN_DIR" },
  { "va", 0, 0, G_OPTION_ARG_FILENAME, &opt_ann[AFFECT_ANN_VA],
      "Folder of valence-arousal annotation files (<video>.txt)", "ANN_DIR" },
  { "map", 'm', 0, G_OPTION_ARG_FILENAME, &opt_map,
      "Mapping file: lines '<annotation name> <video folder>/track-N'",
      "FILE" },
  { "json", 'j', 0, G_OPTION_ARG_FILENAME, &opt_json,
      "Also write the scores as JSON to OUT ('-' = standard output)", "OUT" },
  { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose,
      "Print one line per video and task on standard error", NULL },
  { "version", 0, 0, G_OPTION_ARG_NONE, &opt_version, "Print the version",
      NULL },
  { NULL }
};

static void warn (const gchar *format, ...) G_GNUC_PRINTF (1, 2);

static void
warn (const gchar *format, ...)
{
  va_list args;
  gchar *msg;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("affect-evaluate: warning: %s\n", msg);
  g_free (msg);
}

typedef struct {
  gchar *name;
  guint64 id;
} TrackName;

static gint
track_cmp (gconstpointer a, gconstpointer b)
{
  const TrackName *x = *(TrackName *const *)a, *y = *(TrackName *const *)b;
  return x->id < y->id ? -1 : x->id > y->id;
}

static void
track_name_free (gpointer p)
{
  TrackName *t = p;
  g_free (t->name);
  g_free (t);
}

/* The tracks with a track-N.{AU,EXPR,VA}.txt file in @dir, by number. */
static GPtrArray *
list_tracks (const gchar *dir, GError **error)
{
  GDir *d = g_dir_open (dir, 0, error);
  GPtrArray *tracks;
  GHashTable *seen;
  const gchar *f;

  if (!d)
    return NULL;
  tracks = g_ptr_array_new_with_free_func (track_name_free);
  seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  while ((f = g_dir_read_name (d))) {
    const gchar *dot = strchr (f, '.');
    gchar *name;
    gboolean task_file = FALSE;

    if (!dot || !affect_ann_is_track_name (f, dot - f))
      continue;
    for (int k = 0; k < AFFECT_ANN_N_TASKS; k++) {
      gchar *suffix = g_strdup_printf (".%s.txt", task_suffix[k]);
      task_file |= strcmp (dot, suffix) == 0;
      g_free (suffix);
    }
    if (!task_file)
      continue;
    name = g_strndup (f, dot - f);
    if (g_hash_table_contains (seen, name)) {
      g_free (name);
    } else {
      TrackName *t = g_new0 (TrackName, 1);
      t->name = g_strdup (name);
      if (!g_ascii_string_to_unsigned (
              name + 6, 10, 0, G_MAXUINT64, &t->id, NULL))
        t->id = G_MAXUINT64;
      g_ptr_array_add (tracks, t);
      g_hash_table_add (seen, name);
    }
  }
  g_dir_close (d);
  g_hash_table_unref (seen);
  g_ptr_array_sort (tracks, track_cmp);
  return tracks;
}

/* ---- the evaluation --------------------------------------------------- */

typedef struct {
  gchar *name;
  gchar *track; /* "<folder>/track-N" or NULL */
  gsize frames, pred_frames, labelled, filled;
} VideoResult;

static void
video_result_free (gpointer p)
{
  VideoResult *v = p;
  g_free (v->name);
  g_free (v->track);
  g_free (v);
}

typedef struct {
  gboolean enabled;
  gchar **names; /* AU names or classes, from the first annotation file */
  gchar *names_from;
  int n;
  guint64 *tp, *fp, *fn; /* per AU / class */
  GArray *va_label, *va_pred;
  GPtrArray *videos; /* VideoResult */
  gsize frames, labelled, filled;
  double per[64];
  double score, ccc_v, ccc_a;
} TaskEval;

typedef struct {
  const gchar *pred_dir;
  GHashTable *map;          /* annotation name -> AffectAnnMapEntry, or NULL */
  GHashTable *track_choice; /* folder -> "track-N" or "" (cache) */
  TaskEval task[AFFECT_ANN_N_TASKS];
} Eval;

/* Number of frames with a prediction in the files of @track (the tasks
 * evaluated). */
static gboolean
count_valid (
    Eval *ev, const gchar *dir, const gchar *track, gsize *out, GError **error)
{
  *out = 0;
  for (int k = 0; k < AFFECT_ANN_N_TASKS; k++) {
    gchar *file, *path;
    AffectAnnTable *t;

    if (!ev->task[k].enabled)
      continue;
    file = g_strdup_printf ("%s.%s.txt", track, task_suffix[k]);
    path = g_build_filename (dir, file, NULL);
    g_free (file);
    if (!g_file_test (path, G_FILE_TEST_EXISTS)) {
      g_free (path);
      continue;
    }
    t = affect_ann_table_load (path, (AffectAnnTask)k, AFFECT_ANN_PRED, error);
    g_free (path);
    if (!t)
      return FALSE;
    for (gsize i = 0; i < t->n_rows; i++)
      *out += affect_ann_pred_row_valid ((AffectAnnTask)k, t, i);
    affect_ann_table_free (t);
  }
  return TRUE;
}

/* The track used for the annotations matched to @folder (cached): the only
 * one, or the one with the most valid frames (the lowest number on ties).
 * Returns "" when the folder has no track file. */
static const gchar *
choose_track (Eval *ev, const gchar *folder, GError **error)
{
  const gchar *cached = g_hash_table_lookup (ev->track_choice, folder);
  gchar *dir;
  GPtrArray *tracks;
  gchar *choice = NULL;

  if (cached)
    return cached;
  dir = g_build_filename (ev->pred_dir, folder, NULL);
  tracks = list_tracks (dir, error);
  if (!tracks) {
    g_free (dir);
    return NULL;
  }
  if (tracks->len == 0) {
    choice = g_strdup ("");
  } else if (tracks->len == 1) {
    choice = g_strdup (((TrackName *)tracks->pdata[0])->name);
  } else {
    gsize best = 0;
    GString *counts = g_string_new (NULL);
    for (guint i = 0; i < tracks->len; i++) {
      const gchar *name = ((TrackName *)tracks->pdata[i])->name;
      gsize n;
      if (!count_valid (ev, dir, name, &n, error)) {
        g_string_free (counts, TRUE);
        g_ptr_array_unref (tracks);
        g_free (choice);
        g_free (dir);
        return NULL;
      }
      g_string_append_printf (
          counts, "%s%s %" G_GSIZE_FORMAT, i ? ", " : "", name, n);
      if (!choice || n > best) {
        g_free (choice);
        choice = g_strdup (name);
        best = n;
      }
    }
    warn ("%s: %u tracks (valid frames: %s); using %s, the one with the most "
          "valid frames (name the track with --map)",
        dir, tracks->len, counts->str, choice);
    g_string_free (counts, TRUE);
  }
  g_ptr_array_unref (tracks);
  g_free (dir);
  g_hash_table_insert (ev->track_choice, g_strdup (folder), choice);
  return choice;
}

/* Finds the prediction file of annotation @name for @task. *pred_path is
 * NULL (no prediction) or the file, which may not exist; *label the
 * "<folder>/track-N" used, or the folder when it has no track file. */
static gboolean
resolve_prediction (Eval *ev, const gchar *name, AffectAnnTask task,
    gchar **pred_path, gchar **label, GError **error)
{
  gchar *folder = NULL, *file;
  const gchar *track = NULL;

  *pred_path = NULL;
  *label = NULL;
  if (ev->map) {
    AffectAnnMapEntry *e = g_hash_table_lookup (ev->map, name);
    if (e) {
      gchar *dir = g_build_filename (ev->pred_dir, e->folder, NULL);
      gboolean any = FALSE;
      for (int k = 0; k < AFFECT_ANN_N_TASKS && !any; k++) {
        gchar *f = g_strdup_printf ("%s.%s.txt", e->track, task_suffix[k]);
        gchar *p = g_build_filename (dir, f, NULL);
        any = g_file_test (p, G_FILE_TEST_IS_REGULAR);
        g_free (p);
        g_free (f);
      }
      if (!any) {
        g_set_error (error, AFFECT_ANN_ERROR, AFFECT_ANN_ERROR_INPUT,
            "%s:%" G_GSIZE_FORMAT ": no file %s/%s.{AU,EXPR,VA}.txt", opt_map,
            e->line, dir, e->track);
        g_free (dir);
        return FALSE;
      }
      file = g_strdup_printf ("%s.%s.txt", e->track, task_suffix[task]);
      *pred_path = g_build_filename (dir, file, NULL);
      *label = g_strdup_printf ("%s/%s", e->folder, e->track);
      g_free (file);
      g_free (dir);
      return TRUE;
    }
  }

  {
    gchar *dir = g_build_filename (ev->pred_dir, name, NULL);
    if (g_file_test (dir, G_FILE_TEST_IS_DIR)) {
      folder = g_strdup (name);
    } else {
      const gchar *suffixes[] = { "_left", "_right" };
      for (int s = 0; s < 2 && !folder; s++) {
        if (g_str_has_suffix (name, suffixes[s])) {
          gchar *base = g_strndup (name, strlen (name) - strlen (suffixes[s]));
          gchar *bdir = g_build_filename (ev->pred_dir, base, NULL);
          if (g_file_test (bdir, G_FILE_TEST_IS_DIR))
            folder = base;
          else
            g_free (base);
          g_free (bdir);
        }
      }
    }
    g_free (dir);
  }
  if (!folder)
    return TRUE;
  track = choose_track (ev, folder, error);
  if (!track) {
    g_free (folder);
    return FALSE;
  }
  if (*track) {
    file = g_strdup_printf ("%s.%s.txt", track, task_suffix[task]);
    *pred_path = g_build_filename (ev->pred_dir, folder, file, NULL);
    *label = g_strdup_printf ("%s/%s", folder, track);
    g_free (file);
    if (strcmp (folder, name) != 0)
      warn ("%s: no folder %s; using %s, which a '_left'/'_right' twin may "
            "share (name the tracks with --map)",
          name, name, *label);
  } else {
    *label = g_strdup (folder); /* a folder without any track file */
  }
  g_free (folder);
  return TRUE;
}

static gboolean
names_equal (gchar **a, gchar **b)
{
  for (; *a && *b; a++, b++)
    if (g_ascii_strcasecmp (*a, *b) != 0)
      return FALSE;
  return *a == NULL && *b == NULL;
}

/* For each annotation column / class, the prediction column / class of the
 * same name (case-insensitive), or -1. */
static int *
match_names (gchar **ann, int n_ann, gchar **pred)
{
  int *m = g_new (int, n_ann);
  for (int j = 0; j < n_ann; j++) {
    m[j] = -1;
    for (int q = 0; pred[q]; q++)
      if (g_ascii_strcasecmp (ann[j], pred[q]) == 0) {
        m[j] = q;
        break;
      }
  }
  return m;
}

/* Scores one annotation file against its prediction. */
static gboolean
eval_video (Eval *ev, AffectAnnTask task, const gchar *ann_dir,
    const gchar *file, GError **error)
{
  TaskEval *te = &ev->task[task];
  gchar *name = affect_ann_strip_txt (file);
  gchar *ann_path = g_build_filename (ann_dir, file, NULL);
  gchar *pred_path = NULL, *label = NULL;
  AffectAnnTable *ann = NULL, *pred = NULL;
  int *cols = NULL, *cls = NULL;
  VideoResult *vr = NULL;
  gboolean ok = FALSE;

  ann = affect_ann_table_load (ann_path, task, AFFECT_ANN_LABEL, error);
  if (!ann)
    goto done;
  if (!te->names) {
    te->names = g_strdupv (ann->names);
    te->names_from = g_strdup (ann_path);
    te->n = ann->n_names;
    if (task != AFFECT_ANN_VA && te->n > (int)G_N_ELEMENTS (te->per)) {
      g_set_error (error, AFFECT_ANN_ERROR, AFFECT_ANN_ERROR_INPUT,
          "%s:1: %d columns, at most %d are supported", ann_path, te->n,
          (int)G_N_ELEMENTS (te->per));
      goto done;
    }
    te->tp = g_new0 (guint64, te->n);
    te->fp = g_new0 (guint64, te->n);
    te->fn = g_new0 (guint64, te->n);
  } else if (!names_equal (te->names, ann->names)) {
    gchar *a = g_strjoinv (",", ann->names), *b = g_strjoinv (",", te->names);
    g_set_error (error, AFFECT_ANN_ERROR, AFFECT_ANN_ERROR_INPUT,
        "%s:1: header '%s' differs from '%s' in %s; all annotation files of "
        "a task must have the same columns",
        ann_path, a, b, te->names_from);
    g_free (a);
    g_free (b);
    goto done;
  }

  if (!resolve_prediction (ev, name, task, &pred_path, &label, error))
    goto done;
  if (pred_path && g_file_test (pred_path, G_FILE_TEST_EXISTS)) {
    pred = affect_ann_table_load (pred_path, task, AFFECT_ANN_PRED, error);
    if (!pred)
      goto done;
  }

  vr = g_new0 (VideoResult, 1);
  vr->name = g_strdup (name);
  vr->track = pred ? g_strdup (label) : NULL;
  vr->frames = ann->n_rows;
  vr->pred_frames = pred ? pred->n_rows : 0;

  if (!pred) {
    if (pred_path)
      warn ("%s: no prediction file %s; every labelled frame is filled",
          ann_path, pred_path);
    else if (label)
      warn ("%s: no track-N.{AU,EXPR,VA}.txt file in %s%s%s; every labelled "
            "frame is filled",
          ann_path, ev->pred_dir, G_DIR_SEPARATOR_S, label);
    else
      warn ("%s: no prediction folder %s%s in %s (nor a --map line); every "
            "labelled frame is filled",
          ann_path, name,
          g_str_has_suffix (name, "_left") || g_str_has_suffix (name, "_right")
              ? " (nor the name without _left/_right)"
              : "",
          ev->pred_dir);
  } else {
    if (pred->n_rows < ann->n_rows)
      warn ("%s: %" G_GSIZE_FORMAT " frames predicted, %" G_GSIZE_FORMAT
            " annotated; the labelled frames after the last prediction are "
            "filled",
          pred_path, pred->n_rows, ann->n_rows);
    else if (pred->n_rows > ann->n_rows)
      warn ("%s: %" G_GSIZE_FORMAT " frames predicted, %" G_GSIZE_FORMAT
            " annotated; the extra predictions are ignored",
          pred_path, pred->n_rows, ann->n_rows);
    if (task == AFFECT_ANN_AU) {
      cols = match_names (ann->names, ann->n_names, pred->names);
      for (int j = 0; j < ann->n_names; j++)
        if (cols[j] < 0)
          warn ("%s: no column %s; it is filled with 0", pred_path,
              ann->names[j]);
    } else if (task == AFFECT_ANN_EXPR) {
      /* prediction class -> annotation class */
      int *back = match_names (pred->names, pred->n_names, ann->names);
      cls = back;
      if (!names_equal (pred->names, ann->names)) {
        gchar *a = g_strjoinv (",", ann->names),
              *b = g_strjoinv (",", pred->names);
        warn ("%s: classes '%s' differ from the annotation's '%s'; classes "
              "are matched by name, a class the annotation does not have is "
              "a wrong prediction",
            pred_path, b, a);
        g_free (a);
        g_free (b);
      }
    }
  }

  for (gsize i = 0; i < ann->n_rows; i++) {
    const float *l = ann->values + i * ann->n_values;
    const float *p
        = pred && i < pred->n_rows ? pred->values + i * pred->n_values : NULL;
    gboolean labelled = FALSE, filled = FALSE;

    switch (task) {
      case AFFECT_ANN_AU:
        for (int j = 0; j < ann->n_values; j++) {
          float v = p && cols[j] >= 0 ? p[cols[j]] : -1.0f;
          gboolean active;
          if (l[j] < 0.0f)
            continue;
          labelled = TRUE;
          if (v < 0.0f) {
            filled = TRUE;
            v = 0.0f;
          }
          active = v >= AFFECT_METRICS_AU_THRESHOLD;
          if (l[j] > 0.0f && active)
            te->tp[j]++;
          else if (l[j] > 0.0f)
            te->fn[j]++;
          else if (active)
            te->fp[j]++;
        }
        break;
      case AFFECT_ANN_EXPR: {
        int lc = (int)l[0], pc;
        if (lc < 0)
          break;
        labelled = TRUE;
        if (!p || p[0] < 0.0f) {
          filled = TRUE;
          pc = 0;
        } else {
          pc = cls[(int)p[0]]; /* -1: a class the annotation lacks */
        }
        if (pc == lc) {
          te->tp[lc]++;
        } else {
          te->fn[lc]++;
          if (pc >= 0)
            te->fp[pc]++;
        }
        break;
      }
      case AFFECT_ANN_VA: {
        float pv[2];
        if (l[0] == AFFECT_METRICS_NO_VA && l[1] == AFFECT_METRICS_NO_VA)
          break;
        labelled = TRUE;
        for (int d = 0; d < 2; d++) {
          pv[d] = p ? p[d] : AFFECT_METRICS_NO_VA;
          if (pv[d] == AFFECT_METRICS_NO_VA) {
            pv[d] = 0.0f;
            filled |= l[d] != AFFECT_METRICS_NO_VA;
          }
        }
        g_array_append_vals (te->va_label, l, 2);
        g_array_append_vals (te->va_pred, pv, 2);
        break;
      }
      default:
        g_assert_not_reached ();
    }
    vr->labelled += labelled;
    vr->filled += filled;
  }
  te->frames += vr->frames;
  te->labelled += vr->labelled;
  te->filled += vr->filled;
  if (opt_verbose)
    g_printerr ("%-4s %s: %s, %" G_GSIZE_FORMAT " frames (%" G_GSIZE_FORMAT
                " predicted), %" G_GSIZE_FORMAT " labelled, %" G_GSIZE_FORMAT
                " filled\n",
        task_suffix[task], name, vr->track ? vr->track : "no prediction",
        vr->frames, vr->pred_frames, vr->labelled, vr->filled);
  g_ptr_array_add (te->videos, vr);
  ok = TRUE;

done:
  g_free (cols);
  g_free (cls);
  affect_ann_table_free (ann);
  affect_ann_table_free (pred);
  g_free (pred_path);
  g_free (label);
  g_free (ann_path);
  g_free (name);
  return ok;
}

static gint
str_ptr_cmp (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar *const *)a, *(const gchar *const *)b);
}

static gboolean
eval_task (Eval *ev, AffectAnnTask task, const gchar *ann_dir, GError **error)
{
  TaskEval *te = &ev->task[task];
  GDir *d = g_dir_open (ann_dir, 0, error);
  GPtrArray *files;
  const gchar *f;
  gboolean ok = TRUE;

  if (!d)
    return FALSE;
  files = g_ptr_array_new_with_free_func (g_free);
  while ((f = g_dir_read_name (d))) {
    gchar *p;
    if (!g_str_has_suffix (f, ".txt"))
      continue;
    p = g_build_filename (ann_dir, f, NULL);
    if (g_file_test (p, G_FILE_TEST_IS_REGULAR))
      g_ptr_array_add (files, g_strdup (f));
    g_free (p);
  }
  g_dir_close (d);
  if (files->len == 0) {
    g_set_error (error, AFFECT_ANN_ERROR, AFFECT_ANN_ERROR_INPUT,
        "%s: no annotation files (<video>.txt) for %s", ann_dir,
        task_suffix[task]);
    g_ptr_array_unref (files);
    return FALSE;
  }
  g_ptr_array_sort (files, str_ptr_cmp);

  for (guint i = 0; i < files->len && ok; i++)
    ok = eval_video (ev, task, ann_dir, files->pdata[i], error);
  g_ptr_array_unref (files);
  if (!ok)
    return FALSE;

  if (te->labelled == 0)
    warn ("%s: no labelled frame; the %s scores are 0", ann_dir,
        task_suffix[task]);
  if (task == AFFECT_ANN_VA) {
    double mean;
    affect_metrics_va_ccc ((const float *)te->va_label->data,
        (const float *)te->va_pred->data, te->va_label->len / 2, &te->ccc_v,
        &te->ccc_a, &mean);
    te->score = mean;
  } else {
    double sum = 0.0;
    for (int j = 0; j < te->n; j++) {
      te->per[j] = affect_metrics_f1_counts (te->tp[j], te->fp[j], te->fn[j]);
      sum += te->per[j];
    }
    te->score = te->n > 0 ? sum / te->n : 0.0;
  }
  return TRUE;
}

/* ---- output ----------------------------------------------------------- */

static void
print_table (Eval *ev)
{
  gboolean all = TRUE;

  g_print ("%-5s %7s %10s %10s %8s  %s\n", "Task", "Videos", "Frames",
      "Labelled", "Filled", "Score");
  for (int k = 0; k < AFFECT_ANN_N_TASKS; k++) {
    TaskEval *te = &ev->task[k];
    if (!te->enabled) {
      all = FALSE;
      continue;
    }
    g_print ("%-5s %7u %10" G_GSIZE_FORMAT " %10" G_GSIZE_FORMAT
             " %8" G_GSIZE_FORMAT "  %.4f  ",
        task_suffix[k], te->videos->len, te->frames, te->labelled, te->filled,
        te->score);
    if (k == AFFECT_ANN_AU)
      g_print ("mean F1 over %d AUs\n", te->n);
    else if (k == AFFECT_ANN_EXPR)
      g_print ("mean F1 over %d classes\n", te->n);
    else
      g_print ("mean CCC (valence %.4f, arousal %.4f)\n", te->ccc_v, te->ccc_a);
  }
  if (all)
    g_print ("%-5s %7s %10s %10s %8s  %.4f  AU F1 + EXPR F1 + mean CCC\n",
        "Total", "", "", "", "",
        affect_metrics_total (ev->task[AFFECT_ANN_AU].score,
            ev->task[AFFECT_ANN_EXPR].score, ev->task[AFFECT_ANN_VA].score));
  for (int k = 0; k < AFFECT_ANN_VA; k++) {
    TaskEval *te = &ev->task[k];
    if (!te->enabled)
      continue;
    g_print ("\n%s F1:", task_suffix[k]);
    for (int j = 0; j < te->n; j++)
      g_print ("%s%s %.4f",
          j % (k == AFFECT_ANN_AU ? 6 : 4) == 0 ? "\n " : "  ", te->names[j],
          te->per[j]);
    g_print ("\n");
  }
}

static gboolean
write_json (Eval *ev, const gchar *path, GError **error)
{
  JsonBuilder *b = json_builder_new ();
  JsonGenerator *gen;
  JsonNode *root;
  gboolean all = TRUE, ok = TRUE;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "pred_dir");
  json_builder_add_string_value (b, ev->pred_dir);
  for (int k = 0; k < AFFECT_ANN_N_TASKS; k++) {
    TaskEval *te = &ev->task[k];
    if (!te->enabled) {
      all = FALSE;
      continue;
    }
    json_builder_set_member_name (b, task_json[k]);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "frames");
    json_builder_add_int_value (b, te->frames);
    json_builder_set_member_name (b, "labelled");
    json_builder_add_int_value (b, te->labelled);
    json_builder_set_member_name (b, "filled");
    json_builder_add_int_value (b, te->filled);
    if (k == AFFECT_ANN_VA) {
      json_builder_set_member_name (b, "ccc_valence");
      json_builder_add_double_value (b, te->ccc_v);
      json_builder_set_member_name (b, "ccc_arousal");
      json_builder_add_double_value (b, te->ccc_a);
      json_builder_set_member_name (b, "ccc_mean");
      json_builder_add_double_value (b, te->score);
    } else {
      json_builder_set_member_name (b, "f1_mean");
      json_builder_add_double_value (b, te->score);
      json_builder_set_member_name (b, "f1");
      json_builder_begin_object (b);
      for (int j = 0; j < te->n; j++) {
        json_builder_set_member_name (b, te->names[j]);
        json_builder_add_double_value (b, te->per[j]);
      }
      json_builder_end_object (b);
    }
    json_builder_set_member_name (b, "videos");
    json_builder_begin_array (b);
    for (guint i = 0; i < te->videos->len; i++) {
      VideoResult *v = te->videos->pdata[i];
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, v->name);
      json_builder_set_member_name (b, "track");
      if (v->track)
        json_builder_add_string_value (b, v->track);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "frames");
      json_builder_add_int_value (b, v->frames);
      json_builder_set_member_name (b, "pred_frames");
      json_builder_add_int_value (b, v->pred_frames);
      json_builder_set_member_name (b, "labelled");
      json_builder_add_int_value (b, v->labelled);
      json_builder_set_member_name (b, "filled");
      json_builder_add_int_value (b, v->filled);
      json_builder_end_object (b);
    }
    json_builder_end_array (b);
    json_builder_end_object (b);
  }
  if (all) {
    json_builder_set_member_name (b, "total");
    json_builder_add_double_value (
        b, affect_metrics_total (ev->task[AFFECT_ANN_AU].score,
               ev->task[AFFECT_ANN_EXPR].score, ev->task[AFFECT_ANN_VA].score));
  }
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  gen = json_generator_new ();
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  if (strcmp (path, "-") == 0) {
    gchar *s = json_generator_to_data (gen, NULL);
    g_print ("%s\n", s);
    g_free (s);
  } else {
    ok = json_generator_to_file (gen, path, error);
  }
  g_object_unref (gen);
  json_node_unref (root);
  g_object_unref (b);
  return ok;
}

static void
eval_clear (Eval *ev)
{
  for (int k = 0; k < AFFECT_ANN_N_TASKS; k++) {
    TaskEval *te = &ev->task[k];
    g_strfreev (te->names);
    g_free (te->names_from);
    g_free (te->tp);
    g_free (te->fp);
    g_free (te->fn);
    if (te->va_label)
      g_array_unref (te->va_label);
    if (te->va_pred)
      g_array_unref (te->va_pred);
    if (te->videos)
      g_ptr_array_unref (te->videos);
  }
  if (ev->map)
    g_hash_table_unref (ev->map);
  if (ev->track_choice)
    g_hash_table_unref (ev->track_choice);
}

static gboolean
run (GError **error)
{
  Eval ev;
  gboolean ok = FALSE;

  memset (&ev, 0, sizeof (ev));
  ev.pred_dir = opt_pred;
  if (!g_file_test (opt_pred, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, AFFECT_ANN_ERROR, AFFECT_ANN_ERROR_INPUT,
        "%s: not a folder", opt_pred);
    return FALSE;
  }
  ev.track_choice
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (opt_map) {
    ev.map = affect_ann_map_load (opt_map, error);
    if (!ev.map)
      goto done;
  }
  for (int k = 0; k < AFFECT_ANN_N_TASKS; k++) {
    TaskEval *te = &ev.task[k];
    te->enabled = opt_ann[k] != NULL;
    te->videos = g_ptr_array_new_with_free_func (video_result_free);
    te->va_label = g_array_new (FALSE, FALSE, sizeof (float));
    te->va_pred = g_array_new (FALSE, FALSE, sizeof (float));
  }
  for (int k = 0; k < AFFECT_ANN_N_TASKS; k++)
    if (ev.task[k].enabled
        && !eval_task (&ev, (AffectAnnTask)k, opt_ann[k], error))
      goto done;

  if (!opt_json || strcmp (opt_json, "-") != 0)
    print_table (&ev);
  if (opt_json && !write_json (&ev, opt_json, error))
    goto done;
  ok = TRUE;

done:
  eval_clear (&ev);
  return ok;
}

int
main (int argc, char **argv)
{
  GOptionContext *ctx;
  GError *error = NULL;
  int ret = 0;

  setlocale (LC_ALL, "");
  ctx = g_option_context_new ("- score affectsink ABAW outputs");
  g_option_context_set_summary (ctx,
      "Score the affectsink 'abaw' outputs in PRED_DIR against Aff-Wild2 / "
      "ABAW annotation files:\nmean F1 over the AUs, mean F1 over the "
      "expression classes, CCC of valence and arousal,\nand the multi-task "
      "total (AU F1 + EXPR F1 + mean CCC). See docs/evaluate.md.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("affect-evaluate: %s\n", error->message);
    g_clear_error (&error);
    ret = 2;
    goto out;
  }
  if (opt_version) {
    g_print ("affect-evaluate %s\n", AFFECT_VERSION);
    goto out;
  }
  if (argc != 1 || !opt_pred
      || !(opt_ann[AFFECT_ANN_AU] || opt_ann[AFFECT_ANN_EXPR]
           || opt_ann[AFFECT_ANN_VA])) {
    gchar *help = g_option_context_get_help (ctx, TRUE, NULL);
    g_printerr ("affect-evaluate: %s\n\n%s",
        argc != 1 ? "unexpected argument"
                  : (!opt_pred ? "--pred is required"
                               : "give at least one of --au, --expr, --va"),
        help);
    g_free (help);
    ret = 2;
    goto out;
  }
  if (!run (&error)) {
    g_printerr ("affect-evaluate: %s\n", error ? error->message : "failed");
    g_clear_error (&error);
    ret = 1;
  }

out:
  g_option_context_free (ctx);
  g_free (opt_pred);
  for (int k = 0; k < AFFECT_ANN_N_TASKS; k++)
    g_free (opt_ann[k]);
  g_free (opt_map);
  g_free (opt_json);
  return ret;
}
