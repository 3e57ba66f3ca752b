/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/**
 * SECTION:element-affectsink
 * @title: affectsink
 *
 * Writes the face and affect metadata of video buffers (#GstAffectFaceMeta,
 * #GstAffectFeaturesMeta, #GstAffectPredictionsMeta) to files. The video
 * itself is not written.
 *
 * Three formats are available (#GstAffectSink:format):
 *
 * - `jsonl`: one JSON object per frame and line,
 *   `{"schema":1,"pts":…,"frame":…,"faces":[…]}`;
 * - `csv`: a header line, then one row per face and frame; the columns are
 *   decided from the first frame that carries faces;
 * - `abaw`: the annotation layout of the Aff-Wild2 / ABAW challenge: in the
 *   folder given by #GstAffectSink:location, one `track-<id>.AU.txt`,
 *   `track-<id>.EXPR.txt` and `track-<id>.VA.txt` per track, one line per
 *   frame of the stream.
 *
 * With #GstAffectSink:tidy, the jsonl and csv formats write analysis-ready
 * tables (one record per face and frame, one variable per column, as
 * pandas and R expect): the csv table gains the time in seconds, a success
 * flag, the top expression label and the landmark columns
 * `x_0…x_67,y_0…y_67` (OpenFace's names), and jsonl writes one flat
 * object per face and frame with the same keys, so that
 * `pandas.read_json (path, lines=True)` gives a table.
 *
 * The head pose of a face (`facecrop` fits it to the landmarks) is written
 * in degrees: `yaw,pitch,roll` csv columns after `score` (present when the
 * first frame with faces has a pose), a `"pose":{"yaw":…,"pitch":…,
 * "roll":…}` object in jsonl, `yaw`, `pitch` and `roll` keys in flat jsonl.
 * Conventions: docs/metadata.md, "Head pose".
 *
 * Faces are the #GstAffectFaceMeta of the buffer; features and predictions
 * are joined to them by track id. A predictions (or, with
 * #GstAffectSink:features, a features) meta whose track has no face meta on
 * that buffer still gives a face entry, without box and score.
 *
 * The frame number is the buffer offset when it is set, otherwise a counter
 * of the buffers rendered since the element started or since the last
 * flush. After a flush or a seek the element keeps appending to its files.
 * Everything is flushed (fflush) on EOS, on flush-stop and when the element
 * stops; write errors (disk full, ...) are reported as resource errors.
 *
 * See docs/elements/affectsink.md for the exact file layouts.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=100 ! affectsink location=out.jsonl
 * ]| Writes 100 JSON lines with empty face lists: nothing upstream adds face
 * metadata here.
 *
 * In a real pipeline the face analysis elements of this plugin come before
 * the sink (shown as `...`):
 * |[
 * gst-launch-1.0 filesrc location=talk.mp4 ! decodebin ! videoconvert ! ... !
 *     affectsink format=csv features=true location=talk.csv
 * ]| Writes a CSV table with the feature vectors.
 * |[
 * gst-launch-1.0 filesrc location=video-12.mp4 ! decodebin ! videoconvert !
 *     ... ! affectsink format=abaw abaw-task=expr location=annotations/
 * ]| Writes `annotations/track-<id>.EXPR.txt` for every face track.
 * |[
 * gst-launch-1.0 filesrc location=talk.mp4 ! decodebin ! videoconvert !
 *     ... ! affectsink format=jsonl tidy=true location=talk-faces.jsonl
 * ]| One flat JSON object per face and frame, for
 * `pandas.read_json ("talk-faces.jsonl", lines=True)`.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>
#include <gst/affect/affectmeta.h>

#include "gstaffectsink.h"

#include "affect-branches.h"
#include "affect-engine.h"

GST_DEBUG_CATEGORY_STATIC (gst_affect_sink_debug);
#define GST_CAT_DEFAULT gst_affect_sink_debug

#define DEFAULT_LOCATION NULL
#define DEFAULT_FORMAT GST_AFFECT_SINK_FORMAT_JSONL
#define DEFAULT_FEATURES FALSE
#define DEFAULT_ABAW_TASK GST_AFFECT_SINK_ABAW_TASK_ALL
#define DEFAULT_TIDY FALSE

/* At most this many tracks keep their ABAW files open at once; the least
 * recently written ones are closed and reopened in append mode when their
 * face comes back, so that long streams with many tracks do not run out of
 * file descriptors. */
#define ABAW_MAX_OPEN_TRACKS 64

/* Largest jump of the frame number (buffer offset) that is filled with
 * invalid lines in the abaw format: about 9 hours at 30 fps. */
#define ABAW_MAX_GAP 1000000u

enum {
  PROP_0,
  PROP_LOCATION,
  PROP_FORMAT,
  PROP_FEATURES,
  PROP_ABAW_TASK,
  PROP_TIDY,
};

enum { ABAW_AU = 0, ABAW_EXPR = 1, ABAW_VA = 2, ABAW_N_FILES = 3 };

static const gchar *const abaw_suffix[ABAW_N_FILES] = { "AU", "EXPR", "VA" };

/* Short names of the feature branches, in GstAffectBranch order. */
static const gchar *const branch_key[GST_AFFECT_N_BRANCHES]
    = { "img", "exp", "spe", "wrd" };

/* Expression names used by other label sets (face-api) mapped onto the
 * ABAW expression classes. */
static const struct {
  const gchar *name;
  const gchar *abaw;
} expr_synonyms[] = {
  { "neutral", "Neutral" },
  { "angry", "Anger" },
  { "disgusted", "Disgust" },
  { "fearful", "Fear" },
  { "happy", "Happiness" },
  { "sad", "Sadness" },
  { "surprised", "Surprise" },
};

/* One face of the frame being written: the metas of one track id. */
typedef struct {
  guint track_id;
  GstAffectFaceMeta *face;
  GstAffectPredictionsMeta *pred;
  GstAffectFeaturesMeta *feat;
} FaceEntry;

typedef struct {
  guint track_id;
  gboolean created; /* the files exist (truncated at creation) */
  gboolean open;
  FILE *files[ABAW_N_FILES];
  gchar *paths[ABAW_N_FILES];
  guint64 lines; /* frame lines written to each file */
  guint64 last_used;
} AbawTrack;

struct _GstAffectSink {
  GstBaseSink parent;

  /* properties, protected by the object lock */
  gchar *location;
  GstAffectSinkFormat format;
  gboolean features;
  GstAffectSinkAbawTask abaw_task;
  gboolean tidy;

  /* streaming state: copies of the properties taken in start() */
  gchar *cur_location;
  GstAffectSinkFormat cur_format;
  gboolean cur_features;
  gboolean cur_tidy;
  gboolean abaw_files[ABAW_N_FILES];

  FILE *file;      /* jsonl and csv */
  GString *line;   /* text of the frame being written */
  GArray *entries; /* FaceEntry of the frame being written */
  guint64 counter; /* buffers rendered since start/flush */

  /* csv columns, decided by the first frame with faces */
  gboolean csv_header_done;
  GPtrArray *csv_expr_labels; /* interned strings */
  GPtrArray *csv_au_labels;   /* interned strings */
  gboolean csv_va;
  gboolean csv_pose; /* yaw,pitch,roll columns */
  guint csv_feat_sizes[GST_AFFECT_N_BRANCHES];

  /* abaw */
  GHashTable *tracks; /* track id -> AbawTrack */
  guint n_open_tracks;
  guint64 abaw_next; /* lines every file must have at the end */
  GString *abaw_au_header;
  GString *abaw_expr_header;
  const gchar *const *abaw_au_labels;
  guint abaw_n_au;
  const gchar *const *abaw_expr_labels;
  guint abaw_n_expr;
  gint abaw_other_index;
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE (
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS ("video/x-raw(ANY)"));

#define gst_affect_sink_parent_class parent_class
G_DEFINE_TYPE (GstAffectSink, gst_affect_sink, GST_TYPE_BASE_SINK);
GST_ELEMENT_REGISTER_DEFINE (
    affectsink, "affectsink", GST_RANK_NONE, GST_TYPE_AFFECT_SINK);

static void gst_affect_sink_set_property (
    GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec);
static void gst_affect_sink_get_property (
    GObject *object, guint prop_id, GValue *value, GParamSpec *pspec);
static void gst_affect_sink_finalize (GObject *object);
static gboolean gst_affect_sink_start (GstBaseSink *sink);
static gboolean gst_affect_sink_stop (GstBaseSink *sink);
static gboolean gst_affect_sink_event (GstBaseSink *sink, GstEvent *event);
static gboolean gst_affect_sink_query (GstBaseSink *sink, GstQuery *query);
static GstFlowReturn gst_affect_sink_render (
    GstBaseSink *sink, GstBuffer *buffer);

GType
gst_affect_sink_format_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = { { GST_AFFECT_SINK_FORMAT_JSONL,
                                           "JSON Lines, one object per frame",
                                           "jsonl" },
    { GST_AFFECT_SINK_FORMAT_CSV, "CSV, one row per face and frame", "csv" },
    { GST_AFFECT_SINK_FORMAT_ABAW,
        "ABAW / Aff-Wild2 annotation files, one per track and task", "abaw" },
    { 0, NULL, NULL } };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstAffectSinkFormat", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_affect_sink_abaw_task_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    { GST_AFFECT_SINK_ABAW_TASK_AU, "Action units (track-N.AU.txt)", "au" },
    { GST_AFFECT_SINK_ABAW_TASK_EXPR, "Expressions (track-N.EXPR.txt)",
        "expr" },
    { GST_AFFECT_SINK_ABAW_TASK_VA, "Valence and arousal (track-N.VA.txt)",
        "va" },
    { GST_AFFECT_SINK_ABAW_TASK_ALL, "All three files", "all" },
    { 0, NULL, NULL }
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstAffectSinkAbawTask", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static void
gst_affect_sink_class_init (GstAffectSinkClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *basesink_class = GST_BASE_SINK_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (
      gst_affect_sink_debug, "affectsink", 0, "Affect metadata writer");

  gobject_class->set_property = gst_affect_sink_set_property;
  gobject_class->get_property = gst_affect_sink_get_property;
  gobject_class->finalize = gst_affect_sink_finalize;

  /**
   * GstAffectSink:location:
   *
   * The file to write (formats jsonl and csv), or the folder where the
   * annotation files go (format abaw; created when missing). Required.
   */
  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "Location",
          "File to write (jsonl, csv), or folder of the annotation files "
          "(abaw, created if missing)",
          DEFAULT_LOCATION,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_READY));

  /**
   * GstAffectSink:format:
   *
   * The output format.
   */
  g_object_class_install_property (gobject_class, PROP_FORMAT,
      g_param_spec_enum ("format", "Format", "Output format",
          GST_TYPE_AFFECT_SINK_FORMAT, DEFAULT_FORMAT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_READY));

  /**
   * GstAffectSink:features:
   *
   * Whether the jsonl and csv formats include the branch feature vectors of
   * #GstAffectFeaturesMeta. The abaw format never does.
   */
  g_object_class_install_property (gobject_class, PROP_FEATURES,
      g_param_spec_boolean ("features", "Features",
          "Include the feature vectors (image, expression, speech, words) "
          "in the jsonl and csv formats",
          DEFAULT_FEATURES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_READY));

  /**
   * GstAffectSink:abaw-task:
   *
   * Which annotation files the abaw format writes for each track.
   */
  g_object_class_install_property (gobject_class, PROP_ABAW_TASK,
      g_param_spec_enum ("abaw-task", "ABAW task",
          "Annotation files written per track in the abaw format",
          GST_TYPE_AFFECT_SINK_ABAW_TASK, DEFAULT_ABAW_TASK,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_READY));

  /**
   * GstAffectSink:tidy:
   *
   * Analysis-ready tables: one record per face and frame with one variable
   * per column. The csv format adds the columns `timestamp` (seconds),
   * `success`, `expression` (the top label) and the landmarks
   * `x_0…x_67,y_0…y_67`; the jsonl format writes one flat JSON object per
   * face and frame (the same keys) instead of one object per frame. The
   * abaw format ignores it.
   */
  g_object_class_install_property (gobject_class, PROP_TIDY,
      g_param_spec_boolean ("tidy", "Tidy tables",
          "One record per face and frame, one variable per column: csv gains "
          "timestamp (s), success, expression and landmark columns "
          "(x_0..x_67, y_0..y_67); jsonl writes one flat object per face "
          "(for pandas.read_json (lines=True))",
          DEFAULT_TIDY,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_READY));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class, "Affect metadata sink",
      "Sink/Analyzer/Video",
      "Writes face, feature and affect prediction metadata to JSON Lines, "
      "CSV or ABAW annotation files",
      "gst-affect developers <https://github.com/gst-affect/gst-affect>");

  basesink_class->start = GST_DEBUG_FUNCPTR (gst_affect_sink_start);
  basesink_class->stop = GST_DEBUG_FUNCPTR (gst_affect_sink_stop);
  basesink_class->event = GST_DEBUG_FUNCPTR (gst_affect_sink_event);
  basesink_class->query = GST_DEBUG_FUNCPTR (gst_affect_sink_query);
  basesink_class->render = GST_DEBUG_FUNCPTR (gst_affect_sink_render);

  gst_type_mark_as_plugin_api (GST_TYPE_AFFECT_SINK_FORMAT, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_AFFECT_SINK_ABAW_TASK, 0);
}

static void
gst_affect_sink_init (GstAffectSink *self)
{
  self->location = g_strdup (DEFAULT_LOCATION);
  self->format = DEFAULT_FORMAT;
  self->features = DEFAULT_FEATURES;
  self->abaw_task = DEFAULT_ABAW_TASK;
  self->tidy = DEFAULT_TIDY;

  self->line = g_string_sized_new (4096);
  self->entries = g_array_new (FALSE, TRUE, sizeof (FaceEntry));
  self->csv_expr_labels = g_ptr_array_new ();
  self->csv_au_labels = g_ptr_array_new ();
  self->abaw_au_header = g_string_new (NULL);
  self->abaw_expr_header = g_string_new (NULL);

  /* a file writer: rendering as fast as possible is what one wants */
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
}

static void
gst_affect_sink_finalize (GObject *object)
{
  GstAffectSink *self = GST_AFFECT_SINK (object);

  g_free (self->location);
  g_free (self->cur_location);
  g_string_free (self->line, TRUE);
  g_array_free (self->entries, TRUE);
  g_ptr_array_free (self->csv_expr_labels, TRUE);
  g_ptr_array_free (self->csv_au_labels, TRUE);
  g_string_free (self->abaw_au_header, TRUE);
  g_string_free (self->abaw_expr_header, TRUE);
  if (self->tracks)
    g_hash_table_destroy (self->tracks);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_affect_sink_set_property (
    GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  GstAffectSink *self = GST_AFFECT_SINK (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_free (self->location);
      self->location = g_value_dup_string (value);
      break;
    case PROP_FORMAT:
      self->format = g_value_get_enum (value);
      break;
    case PROP_FEATURES:
      self->features = g_value_get_boolean (value);
      break;
    case PROP_ABAW_TASK:
      self->abaw_task = g_value_get_enum (value);
      break;
    case PROP_TIDY:
      self->tidy = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_affect_sink_get_property (
    GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  GstAffectSink *self = GST_AFFECT_SINK (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_value_set_string (value, self->location);
      break;
    case PROP_FORMAT:
      g_value_set_enum (value, self->format);
      break;
    case PROP_FEATURES:
      g_value_set_boolean (value, self->features);
      break;
    case PROP_ABAW_TASK:
      g_value_set_enum (value, self->abaw_task);
      break;
    case PROP_TIDY:
      g_value_set_boolean (value, self->tidy);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* ------------------------------------------------------------------ */
/* Text helpers                                                        */
/* ------------------------------------------------------------------ */

/* The shortest decimal form (6 to 9 significant digits) that reads back as
 * the same float32; locale independent. Non-finite values are written as
 * @nonfinite. */
static void
append_float (GString *s, gfloat v, const gchar *nonfinite)
{
  static const gchar *const formats[] = { "%.6g", "%.7g", "%.8g" };
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
  guint i;

  if (!isfinite (v)) {
    g_string_append (s, nonfinite);
    return;
  }
  for (i = 0; i < G_N_ELEMENTS (formats); i++) {
    g_ascii_formatd (buf, sizeof (buf), formats[i], v);
    if ((gfloat)g_ascii_strtod (buf, NULL) == v) {
      g_string_append (s, buf);
      return;
    }
  }
  g_string_append (s, g_ascii_formatd (buf, sizeof (buf), "%.9g", v));
}

static void
append_uint64 (GString *s, guint64 v)
{
  gchar buf[24];
  gint i = sizeof (buf);

  do {
    buf[--i] = '0' + (gchar)(v % 10);
    v /= 10;
  } while (v > 0);
  g_string_append_len (s, buf + i, sizeof (buf) - i);
}

/* A time in seconds, exactly (up to nanoseconds): "12", "0.04",
 * "3600.000000001". */
static void
append_seconds (GString *s, GstClockTime t)
{
  guint64 frac = t % GST_SECOND;
  gchar digits[10];
  gint len = 9;

  append_uint64 (s, t / GST_SECOND);
  if (frac == 0)
    return;
  g_snprintf (digits, sizeof (digits), "%09u", (guint)frac);
  while (len > 0 && digits[len - 1] == '0')
    len--;
  g_string_append_c (s, '.');
  g_string_append_len (s, digits, len);
}

static void
append_json_float_array (GString *s, const gfloat *v, guint n)
{
  guint i;

  g_string_append_c (s, '[');
  for (i = 0; i < n; i++) {
    if (i > 0)
      g_string_append_c (s, ',');
    append_float (s, v[i], "null");
  }
  g_string_append_c (s, ']');
}

static void
append_json_string_array (GString *s, const gchar *const *v, guint n)
{
  guint i;

  g_string_append_c (s, '[');
  for (i = 0; i < n; i++) {
    if (i > 0)
      g_string_append_c (s, ',');
    affect_json_append_string (s, v[i]);
  }
  g_string_append_c (s, ']');
}

/* A CSV field, quoted (RFC 4180) only when it needs to be. */
static void
append_csv_string (GString *s, const gchar *str)
{
  const gchar *p;

  if (str == NULL)
    return;
  if (strpbrk (str, ",\"\r\n") == NULL) {
    g_string_append (s, str);
    return;
  }
  g_string_append_c (s, '"');
  for (p = str; *p; p++) {
    if (*p == '"')
      g_string_append_c (s, '"');
    g_string_append_c (s, *p);
  }
  g_string_append_c (s, '"');
}

static gboolean
write_all (GstAffectSink *self, FILE *f, const gchar *path, const gchar *data,
    gsize len)
{
  if (len == 0)
    return TRUE;
  errno = 0;
  if (fwrite (data, 1, len, f) != len) {
    gint err = errno ? errno : EIO;

    GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
        ("Error while writing to file \"%s\".", path),
        ("%s", g_strerror (err)));
    return FALSE;
  }
  return TRUE;
}

static gboolean
flush_file (GstAffectSink *self, FILE *f, const gchar *path)
{
  errno = 0;
  if (fflush (f) != 0) {
    gint err = errno ? errno : EIO;

    GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
        ("Error while writing to file \"%s\".", path),
        ("%s", g_strerror (err)));
    return FALSE;
  }
  return TRUE;
}

static gboolean
close_file (GstAffectSink *self, FILE *f, const gchar *path)
{
  gboolean ok = flush_file (self, f, path);

  if (fclose (f) != 0 && ok) {
    GST_ELEMENT_ERROR (self, RESOURCE, CLOSE,
        ("Error closing file \"%s\".", path), GST_ERROR_SYSTEM);
    ok = FALSE;
  }
  return ok;
}

/* ------------------------------------------------------------------ */
/* Collecting the faces of a frame                                     */
/* ------------------------------------------------------------------ */

static FaceEntry *
find_entry (GArray *entries, guint track_id)
{
  guint i;

  for (i = 0; i < entries->len; i++) {
    FaceEntry *e = &g_array_index (entries, FaceEntry, i);
    if (e->track_id == track_id)
      return e;
  }
  return NULL;
}

static FaceEntry *
add_entry (GArray *entries, guint track_id)
{
  FaceEntry e = { track_id, NULL, NULL, NULL };

  g_array_append_val (entries, e);
  return &g_array_index (entries, FaceEntry, entries->len - 1);
}

/* Face metas first, in buffer order, then the tracks that only have
 * predictions (and, when @with_features, only features). Should a track
 * carry two metas of one kind, the first one wins. */
static void
collect_entries (GstBuffer *buffer, GArray *entries, gboolean with_features)
{
  gpointer state = NULL;
  GstAffectFaceMeta *face;
  GstAffectPredictionsMeta *pred;
  GstAffectFeaturesMeta *feat;
  FaceEntry *e;

  g_array_set_size (entries, 0);

  while ((face = gst_buffer_iterate_affect_face_meta (buffer, &state))) {
    if (find_entry (entries, face->track_id) == NULL)
      add_entry (entries, face->track_id)->face = face;
  }

  state = NULL;
  while ((pred = gst_buffer_iterate_affect_predictions_meta (buffer, &state))) {
    e = find_entry (entries, pred->track_id);
    if (e == NULL)
      e = add_entry (entries, pred->track_id);
    if (e->pred == NULL)
      e->pred = pred;
  }

  state = NULL;
  while ((feat = gst_buffer_iterate_affect_features_meta (buffer, &state))) {
    e = find_entry (entries, feat->track_id);
    if (e == NULL) {
      if (!with_features)
        continue;
      e = add_entry (entries, feat->track_id);
    }
    if (e->feat == NULL)
      e->feat = feat;
  }
}

static inline gboolean
has_task (const FaceEntry *e, GstAffectTasks task)
{
  return e->pred != NULL && (e->pred->predictions.tasks & task) != 0;
}

static inline gboolean
has_expression (const FaceEntry *e)
{
  return has_task (e, GST_AFFECT_TASK_EXPRESSION)
         && e->pred->predictions.n_expr > 0
         && e->pred->predictions.n_expr <= GST_AFFECT_MAX_EXPR;
}

static inline gboolean
has_au (const FaceEntry *e)
{
  return has_task (e, GST_AFFECT_TASK_AU) && e->pred->predictions.n_au > 0
         && e->pred->predictions.n_au <= GST_AFFECT_MAX_AU;
}

/* The "success" of the tidy tables: the face was found on this frame and
 * its landmarks fitted (OpenFace's meaning). */
static inline gboolean
entry_success (const FaceEntry *e)
{
  return e->face != NULL && e->face->has_landmarks;
}

static const gfloat *
entry_branch (const FaceEntry *e, guint branch, guint *size)
{
  const gfloat *data;

  *size = 0;
  if (e->feat == NULL || !(e->feat->present & (1u << branch)))
    return NULL;
  data = e->feat->data[branch];
  if (data == NULL)
    return NULL;
  *size = e->feat->sizes[branch];
  return data;
}

/* The predicted expression: expr_index when it is valid, else the arg max. */
static gint
entry_expr_index (const FaceEntry *e)
{
  const GstAffectPredictions *p = &e->pred->predictions;
  gint best = 0;
  guint i;

  if (p->expr_index >= 0 && (guint)p->expr_index < p->n_expr)
    return p->expr_index;
  for (i = 1; i < p->n_expr; i++) {
    if (p->expr[i] > p->expr[best])
      best = i;
  }
  return best;
}

static gint
find_label (const gchar *const *labels, guint n, const gchar *label)
{
  guint i;

  if (label == NULL)
    return -1;
  for (i = 0; i < n; i++) {
    if (labels[i] == label)
      return i;
  }
  for (i = 0; i < n; i++) {
    if (labels[i] && g_ascii_strcasecmp (labels[i], label) == 0)
      return i;
  }
  return -1;
}

/* ------------------------------------------------------------------ */
/* JSON Lines                                                          */
/* ------------------------------------------------------------------ */

static void
jsonl_append_frame (
    GstAffectSink *self, GString *s, GstClockTime pts, guint64 frame)
{
  guint i, b;

  g_string_append (s, "{\"schema\":1,\"pts\":");
  if (GST_CLOCK_TIME_IS_VALID (pts))
    append_uint64 (s, pts);
  else
    g_string_append (s, "null");
  g_string_append (s, ",\"frame\":");
  append_uint64 (s, frame);
  g_string_append (s, ",\"faces\":[");

  for (i = 0; i < self->entries->len; i++) {
    const FaceEntry *e = &g_array_index (self->entries, FaceEntry, i);
    const GstAffectPredictions *p = e->pred ? &e->pred->predictions : NULL;

    if (i > 0)
      g_string_append_c (s, ',');
    g_string_append (s, "{\"id\":");
    append_uint64 (s, e->track_id);

    if (e->face) {
      const GstAffectFaceMeta *f = e->face;
      guint k;

      g_string_append (s, ",\"box\":[");
      append_float (s, f->x, "null");
      g_string_append_c (s, ',');
      append_float (s, f->y, "null");
      g_string_append_c (s, ',');
      append_float (s, f->width, "null");
      g_string_append_c (s, ',');
      append_float (s, f->height, "null");
      g_string_append (s, "],\"score\":");
      append_float (s, f->score, "null");
      if (f->has_landmarks) {
        g_string_append (s, ",\"landmarks\":[");
        for (k = 0; k < GST_AFFECT_N_LANDMARKS; k++) {
          if (k > 0)
            g_string_append_c (s, ',');
          g_string_append_c (s, '[');
          append_float (s, f->landmarks[k][0], "null");
          g_string_append_c (s, ',');
          append_float (s, f->landmarks[k][1], "null");
          g_string_append_c (s, ']');
        }
        g_string_append_c (s, ']');
      }
      if (f->has_pose) {
        g_string_append (s, ",\"pose\":{\"yaw\":");
        append_float (s, f->yaw, "null");
        g_string_append (s, ",\"pitch\":");
        append_float (s, f->pitch, "null");
        g_string_append (s, ",\"roll\":");
        append_float (s, f->roll, "null");
        g_string_append_c (s, '}');
      }
    }

    if (has_expression (e)) {
      g_string_append (s, ",\"expression\":{\"labels\":");
      append_json_string_array (s, p->expr_labels, p->n_expr);
      g_string_append (s, ",\"probs\":");
      append_json_float_array (s, p->expr, p->n_expr);
      g_string_append_c (s, '}');
    }
    if (has_au (e)) {
      g_string_append (s, ",\"au\":{\"labels\":");
      append_json_string_array (s, p->au_labels, p->n_au);
      g_string_append (s, ",\"probs\":");
      append_json_float_array (s, p->au, p->n_au);
      g_string_append_c (s, '}');
    }
    if (has_task (e, GST_AFFECT_TASK_VA)) {
      g_string_append (s, ",\"va\":[");
      append_float (s, p->valence, "null");
      g_string_append_c (s, ',');
      append_float (s, p->arousal, "null");
      g_string_append_c (s, ']');
    }

    if (self->cur_features && e->feat) {
      gboolean first = TRUE;

      for (b = 0; b < GST_AFFECT_N_BRANCHES; b++) {
        guint size;
        const gfloat *data = entry_branch (e, b, &size);

        if (data == NULL)
          continue;
        g_string_append (s, first ? ",\"features\":{\"" : ",\"");
        g_string_append (s, branch_key[b]);
        g_string_append (s, "\":");
        append_json_float_array (s, data, size);
        first = FALSE;
      }
      if (!first)
        g_string_append_c (s, '}');
    }
    g_string_append_c (s, '}');
  }
  g_string_append (s, "]}\n");
}

/* "key": — a JSON member name made of @prefix and @name */
static void
append_json_key (GString *s, const gchar *prefix, const gchar *name)
{
  if (prefix == NULL) {
    affect_json_append_string (s, name);
  } else {
    gchar *key = g_strconcat (prefix, name, NULL);

    affect_json_append_string (s, key);
    g_free (key);
  }
  g_string_append_c (s, ':');
}

static void
append_json_member_float (
    GString *s, const gchar *prefix, const gchar *name, gfloat v)
{
  g_string_append_c (s, ',');
  append_json_key (s, prefix, name);
  append_float (s, v, "null");
}

/* tidy=true: one flat object per face and frame; a key is left out when
 * its value is absent, so that pandas makes it NaN. */
static void
jsonl_append_flat (
    GstAffectSink *self, GString *s, GstClockTime pts, guint64 frame)
{
  guint i, k, b;
  gchar name[32];

  for (i = 0; i < self->entries->len; i++) {
    const FaceEntry *e = &g_array_index (self->entries, FaceEntry, i);
    const GstAffectPredictions *p = e->pred ? &e->pred->predictions : NULL;

    g_string_append (s, "{\"frame\":");
    append_uint64 (s, frame);
    if (GST_CLOCK_TIME_IS_VALID (pts)) {
      g_string_append (s, ",\"pts\":");
      append_uint64 (s, pts);
      g_string_append (s, ",\"timestamp\":");
      append_seconds (s, pts);
    }
    g_string_append (s, ",\"id\":");
    append_uint64 (s, e->track_id);
    g_string_append (
        s, entry_success (e) ? ",\"success\":1" : ",\"success\":0");

    if (e->face) {
      append_json_member_float (s, NULL, "x", e->face->x);
      append_json_member_float (s, NULL, "y", e->face->y);
      append_json_member_float (s, NULL, "w", e->face->width);
      append_json_member_float (s, NULL, "h", e->face->height);
      append_json_member_float (s, NULL, "score", e->face->score);
      if (e->face->has_pose) {
        append_json_member_float (s, NULL, "yaw", e->face->yaw);
        append_json_member_float (s, NULL, "pitch", e->face->pitch);
        append_json_member_float (s, NULL, "roll", e->face->roll);
      }
    }

    if (has_expression (e)) {
      gint best = entry_expr_index (e);

      g_string_append (s, ",\"expression\":");
      affect_json_append_string (s, p->expr_labels[best]);
      for (k = 0; k < p->n_expr; k++)
        append_json_member_float (s, "expr_", p->expr_labels[k], p->expr[k]);
      g_string_append (s, ",\"expr_index\":");
      append_uint64 (s, best);
    }
    if (has_au (e)) {
      for (k = 0; k < p->n_au; k++)
        append_json_member_float (s, NULL, p->au_labels[k], p->au[k]);
    }
    if (has_task (e, GST_AFFECT_TASK_VA)) {
      append_json_member_float (s, NULL, "valence", p->valence);
      append_json_member_float (s, NULL, "arousal", p->arousal);
    }

    if (e->face && e->face->has_landmarks) {
      for (k = 0; k < GST_AFFECT_N_LANDMARKS; k++) {
        g_snprintf (name, sizeof (name), "x_%u", k);
        append_json_member_float (s, NULL, name, e->face->landmarks[k][0]);
      }
      for (k = 0; k < GST_AFFECT_N_LANDMARKS; k++) {
        g_snprintf (name, sizeof (name), "y_%u", k);
        append_json_member_float (s, NULL, name, e->face->landmarks[k][1]);
      }
    }

    if (self->cur_features && e->feat) {
      for (b = 0; b < GST_AFFECT_N_BRANCHES; b++) {
        guint size;
        const gfloat *data = entry_branch (e, b, &size);

        for (k = 0; data && k < size; k++) {
          g_snprintf (name, sizeof (name), "%s_%u", branch_key[b], k);
          append_json_member_float (s, NULL, name, data[k]);
        }
      }
    }
    g_string_append (s, "}\n");
  }
}

/* ------------------------------------------------------------------ */
/* CSV                                                                 */
/* ------------------------------------------------------------------ */

static void
csv_decide_columns (GstAffectSink *self)
{
  guint i, k, b;

  for (i = 0; i < self->entries->len; i++) {
    const FaceEntry *e = &g_array_index (self->entries, FaceEntry, i);
    const GstAffectPredictions *p = e->pred ? &e->pred->predictions : NULL;

    if (self->csv_expr_labels->len == 0 && has_expression (e)) {
      for (k = 0; k < p->n_expr; k++)
        g_ptr_array_add (self->csv_expr_labels,
            (gpointer)g_intern_string (p->expr_labels[k]));
    }
    if (self->csv_au_labels->len == 0 && has_au (e)) {
      for (k = 0; k < p->n_au; k++)
        g_ptr_array_add (
            self->csv_au_labels, (gpointer)g_intern_string (p->au_labels[k]));
    }
    if (has_task (e, GST_AFFECT_TASK_VA))
      self->csv_va = TRUE;
    if (e->face && e->face->has_pose)
      self->csv_pose = TRUE;
    if (self->cur_features) {
      for (b = 0; b < GST_AFFECT_N_BRANCHES; b++) {
        guint size;

        if (self->csv_feat_sizes[b] == 0 && entry_branch (e, b, &size))
          self->csv_feat_sizes[b] = size;
      }
    }
  }
}

static void
csv_append_header (GstAffectSink *self, GString *s)
{
  guint i, b;

  if (self->cur_tidy)
    g_string_append (s, "pts,frame,timestamp,id,success,x,y,w,h,score");
  else
    g_string_append (s, "pts,frame,id,x,y,w,h,score");
  if (self->csv_pose)
    g_string_append (s, ",yaw,pitch,roll");
  if (self->cur_tidy && self->csv_expr_labels->len > 0)
    g_string_append (s, ",expression");
  for (i = 0; i < self->csv_expr_labels->len; i++) {
    gchar *name = g_strconcat ("expr_",
        (const gchar *)g_ptr_array_index (self->csv_expr_labels, i), NULL);

    g_string_append_c (s, ',');
    append_csv_string (s, name);
    g_free (name);
  }
  if (self->csv_expr_labels->len > 0)
    g_string_append (s, ",expr_index");
  for (i = 0; i < self->csv_au_labels->len; i++) {
    g_string_append_c (s, ',');
    append_csv_string (s, g_ptr_array_index (self->csv_au_labels, i));
  }
  if (self->csv_va)
    g_string_append (s, ",valence,arousal");
  if (self->cur_tidy) {
    for (i = 0; i < GST_AFFECT_N_LANDMARKS; i++)
      g_string_append_printf (s, ",x_%u", i);
    for (i = 0; i < GST_AFFECT_N_LANDMARKS; i++)
      g_string_append_printf (s, ",y_%u", i);
  }
  for (b = 0; b < GST_AFFECT_N_BRANCHES; b++) {
    for (i = 0; i < self->csv_feat_sizes[b]; i++)
      g_string_append_printf (s, ",%s_%u", branch_key[b], i);
  }
  g_string_append_c (s, '\n');
}

static void
csv_append_rows (
    GstAffectSink *self, GString *s, GstClockTime pts, guint64 frame)
{
  guint i, k, b;

  for (i = 0; i < self->entries->len; i++) {
    const FaceEntry *e = &g_array_index (self->entries, FaceEntry, i);
    const GstAffectPredictions *p = e->pred ? &e->pred->predictions : NULL;
    guint n_expr_cols = self->csv_expr_labels->len;
    guint n_au_cols = self->csv_au_labels->len;

    if (GST_CLOCK_TIME_IS_VALID (pts))
      append_uint64 (s, pts);
    g_string_append_c (s, ',');
    append_uint64 (s, frame);
    if (self->cur_tidy) {
      g_string_append_c (s, ',');
      if (GST_CLOCK_TIME_IS_VALID (pts))
        append_seconds (s, pts);
    }
    g_string_append_c (s, ',');
    append_uint64 (s, e->track_id);
    if (self->cur_tidy)
      g_string_append (s, entry_success (e) ? ",1" : ",0");
    if (e->face) {
      g_string_append_c (s, ',');
      append_float (s, e->face->x, "");
      g_string_append_c (s, ',');
      append_float (s, e->face->y, "");
      g_string_append_c (s, ',');
      append_float (s, e->face->width, "");
      g_string_append_c (s, ',');
      append_float (s, e->face->height, "");
      g_string_append_c (s, ',');
      append_float (s, e->face->score, "");
    } else {
      g_string_append (s, ",,,,,");
    }
    if (self->csv_pose) {
      if (e->face && e->face->has_pose) {
        g_string_append_c (s, ',');
        append_float (s, e->face->yaw, "");
        g_string_append_c (s, ',');
        append_float (s, e->face->pitch, "");
        g_string_append_c (s, ',');
        append_float (s, e->face->roll, "");
      } else {
        g_string_append (s, ",,,");
      }
    }

    if (n_expr_cols > 0 && self->cur_tidy) {
      g_string_append_c (s, ',');
      if (has_expression (e))
        append_csv_string (s, p->expr_labels[entry_expr_index (e)]);
    }
    if (n_expr_cols > 0) {
      gboolean have = has_expression (e);
      gint pred_col = -1;

      for (k = 0; k < n_expr_cols; k++) {
        const gchar *label = g_ptr_array_index (self->csv_expr_labels, k);
        gint j = -1;

        g_string_append_c (s, ',');
        if (!have)
          continue;
        if (k < p->n_expr && p->expr_labels[k] == label)
          j = k;
        else
          j = find_label (p->expr_labels, p->n_expr, label);
        if (j >= 0)
          append_float (s, p->expr[j], "");
        if (j >= 0 && j == entry_expr_index (e))
          pred_col = k;
      }
      g_string_append_c (s, ',');
      if (pred_col >= 0)
        append_uint64 (s, pred_col);
    }

    for (k = 0; k < n_au_cols; k++) {
      const gchar *label = g_ptr_array_index (self->csv_au_labels, k);
      gint j;

      g_string_append_c (s, ',');
      if (!has_au (e))
        continue;
      if (k < p->n_au && p->au_labels[k] == label)
        j = k;
      else
        j = find_label (p->au_labels, p->n_au, label);
      if (j >= 0)
        append_float (s, p->au[j], "");
    }

    if (self->csv_va) {
      if (has_task (e, GST_AFFECT_TASK_VA)) {
        g_string_append_c (s, ',');
        append_float (s, p->valence, "");
        g_string_append_c (s, ',');
        append_float (s, p->arousal, "");
      } else {
        g_string_append (s, ",,");
      }
    }

    if (self->cur_tidy) {
      gboolean have = e->face && e->face->has_landmarks;

      for (b = 0; b < 2; b++) {
        for (k = 0; k < GST_AFFECT_N_LANDMARKS; k++) {
          g_string_append_c (s, ',');
          if (have)
            append_float (s, e->face->landmarks[k][b], "");
        }
      }
    }

    for (b = 0; b < GST_AFFECT_N_BRANCHES; b++) {
      guint size = 0;
      const gfloat *data;

      if (self->csv_feat_sizes[b] == 0)
        continue;
      data = entry_branch (e, b, &size);
      for (k = 0; k < self->csv_feat_sizes[b]; k++) {
        g_string_append_c (s, ',');
        if (data && k < size)
          append_float (s, data[k], "");
      }
    }
    g_string_append_c (s, '\n');
  }
}

/* ------------------------------------------------------------------ */
/* ABAW annotation files                                               */
/* ------------------------------------------------------------------ */

static void
abaw_track_free (gpointer data)
{
  AbawTrack *t = data;
  guint i;

  /* Only reached with files still open on an error path: close quietly. */
  for (i = 0; i < ABAW_N_FILES; i++) {
    if (t->files[i])
      fclose (t->files[i]);
    g_free (t->paths[i]);
  }
  g_free (t);
}

static AbawTrack *
abaw_track_new (GstAffectSink *self, guint track_id)
{
  AbawTrack *t = g_new0 (AbawTrack, 1);
  gchar name[64];
  guint i;

  t->track_id = track_id;
  for (i = 0; i < ABAW_N_FILES; i++) {
    g_snprintf (
        name, sizeof (name), "track-%u.%s.txt", track_id, abaw_suffix[i]);
    t->paths[i] = g_build_filename (self->cur_location, name, NULL);
  }
  return t;
}

static gboolean
abaw_close_track (GstAffectSink *self, AbawTrack *t)
{
  gboolean ok = TRUE;
  guint i;

  for (i = 0; i < ABAW_N_FILES; i++) {
    if (t->files[i]) {
      const gchar *path = t->paths[i];

      if (!close_file (self, t->files[i], path))
        ok = FALSE;
      t->files[i] = NULL;
    }
  }
  if (t->open) {
    t->open = FALSE;
    self->n_open_tracks--;
  }
  return ok;
}

static gboolean
abaw_open_track (GstAffectSink *self, AbawTrack *t)
{
  guint i;

  if (t->open)
    return TRUE;

  if (self->n_open_tracks >= ABAW_MAX_OPEN_TRACKS) {
    GHashTableIter iter;
    gpointer value;
    AbawTrack *oldest = NULL;

    g_hash_table_iter_init (&iter, self->tracks);
    while (g_hash_table_iter_next (&iter, NULL, &value)) {
      AbawTrack *o = value;
      if (o->open && (oldest == NULL || o->last_used < oldest->last_used))
        oldest = o;
    }
    if (oldest && !abaw_close_track (self, oldest))
      return FALSE;
  }

  for (i = 0; i < ABAW_N_FILES; i++) {
    const gchar *path;

    if (!self->abaw_files[i])
      continue;
    path = t->paths[i];
    t->files[i] = g_fopen (path, t->created ? "ab" : "wb");
    if (t->files[i] == NULL) {
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
          ("Could not open file \"%s\" for writing.", path), GST_ERROR_SYSTEM);
      t->open = TRUE;
      self->n_open_tracks++;
      abaw_close_track (self, t);
      return FALSE;
    }
    if (!t->created) {
      const gchar *header = i == ABAW_AU     ? self->abaw_au_header->str
                            : i == ABAW_EXPR ? self->abaw_expr_header->str
                                             : "valence,arousal\n";

      if (!write_all (self, t->files[i], path, header, strlen (header))) {
        t->open = TRUE;
        self->n_open_tracks++;
        abaw_close_track (self, t);
        return FALSE;
      }
    }
  }
  t->created = TRUE;
  t->open = TRUE;
  self->n_open_tracks++;
  return TRUE;
}

static void
abaw_append_au (GstAffectSink *self, GString *s, const FaceEntry *e)
{
  const GstAffectPredictions *p = e ? &e->pred->predictions : NULL;
  guint k;

  for (k = 0; k < self->abaw_n_au; k++) {
    gint j = -1;

    if (k > 0)
      g_string_append_c (s, ',');
    if (p)
      j = find_label (p->au_labels, p->n_au, self->abaw_au_labels[k]);
    if (j < 0 || isnan (p->au[j]))
      g_string_append (s, "-1");
    else
      g_string_append_c (s, p->au[j] >= 0.5f ? '1' : '0');
  }
  g_string_append_c (s, '\n');
}

static gint
abaw_expr_class (GstAffectSink *self, const gchar *label)
{
  gint j;
  guint i;

  j = find_label (self->abaw_expr_labels, self->abaw_n_expr, label);
  if (j >= 0)
    return j;
  for (i = 0; label && i < G_N_ELEMENTS (expr_synonyms); i++) {
    if (g_ascii_strcasecmp (label, expr_synonyms[i].name) == 0)
      return find_label (
          self->abaw_expr_labels, self->abaw_n_expr, expr_synonyms[i].abaw);
  }
  /* a class the challenge does not know */
  return self->abaw_other_index;
}

/* Writes the line of @frame (and invalid lines for the frames before it that
 * the track missed) to the files of @t. @e is NULL for a frame without the
 * track. */
static gboolean
abaw_write_track (
    GstAffectSink *self, AbawTrack *t, guint64 frame, const FaceEntry *e)
{
  static const gchar *const invalid_va = "-5,-5\n";
  static const gchar *const invalid_expr = "-1\n";
  guint64 n_fill;
  guint i;

  if (frame < t->lines)
    return TRUE;
  if (!abaw_open_track (self, t))
    return FALSE;
  n_fill = frame - t->lines + (e == NULL ? 1 : 0);

  for (i = 0; i < ABAW_N_FILES; i++) {
    GString *s = self->line;
    guint64 n;
    const gchar *path;
    gboolean ok = TRUE;

    if (t->files[i] == NULL)
      continue;

    /* the invalid lines, written in chunks */
    g_string_truncate (s, 0);
    for (n = 0; n < n_fill && ok; n++) {
      if (i == ABAW_AU)
        abaw_append_au (self, s, NULL);
      else
        g_string_append (s, i == ABAW_EXPR ? invalid_expr : invalid_va);
      if (s->len >= 65536 || n + 1 == n_fill) {
        path = t->paths[i];
        ok = write_all (self, t->files[i], path, s->str, s->len);
        g_string_truncate (s, 0);
      }
    }
    if (!ok)
      return FALSE;

    if (e != NULL) {
      if (i == ABAW_AU) {
        if (has_au (e))
          abaw_append_au (self, s, e);
        else
          abaw_append_au (self, s, NULL);
      } else if (i == ABAW_EXPR) {
        if (has_expression (e)) {
          const GstAffectPredictions *p = &e->pred->predictions;
          gint c = abaw_expr_class (self, p->expr_labels[entry_expr_index (e)]);

          if (c >= 0)
            append_uint64 (s, c);
          else
            g_string_append (s, "-1");
          g_string_append_c (s, '\n');
        } else {
          g_string_append (s, invalid_expr);
        }
      } else {
        const GstAffectPredictions *p = e->pred ? &e->pred->predictions : NULL;

        if (has_task (e, GST_AFFECT_TASK_VA) && isfinite (p->valence)
            && isfinite (p->arousal)) {
          append_float (s, p->valence, "");
          g_string_append_c (s, ',');
          append_float (s, p->arousal, "");
          g_string_append_c (s, '\n');
        } else {
          g_string_append (s, invalid_va);
        }
      }
      path = t->paths[i];
      ok = write_all (self, t->files[i], path, s->str, s->len);
      if (!ok)
        return FALSE;
    }
  }
  t->lines = frame + 1;
  t->last_used = frame;
  return TRUE;
}

static GstFlowReturn
abaw_render (GstAffectSink *self, guint64 frame)
{
  guint64 line;
  guint i;

  /* frames going backwards (seek, flush) are appended */
  line = MAX (frame, self->abaw_next);
  /* a jump ahead is dropped frames, filled with invalid lines; an absurd one
   * (an offset that is not a frame number) is not worth gigabytes of them */
  if (line - self->abaw_next > ABAW_MAX_GAP) {
    GST_WARNING_OBJECT (self,
        "buffer offset %" G_GUINT64_FORMAT " jumps more than %u frames "
        "ahead, appending instead",
        frame, ABAW_MAX_GAP);
    line = self->abaw_next;
  }

  for (i = 0; i < self->entries->len; i++) {
    const FaceEntry *e = &g_array_index (self->entries, FaceEntry, i);
    AbawTrack *t
        = g_hash_table_lookup (self->tracks, GUINT_TO_POINTER (e->track_id));

    if (t == NULL) {
      t = abaw_track_new (self, e->track_id);
      g_hash_table_insert (self->tracks, GUINT_TO_POINTER (e->track_id), t);
      GST_DEBUG_OBJECT (
          self, "new track %u at line %" G_GUINT64_FORMAT, e->track_id, line);
    }
    if (!abaw_write_track (self, t, line, e))
      return GST_FLOW_ERROR;
  }
  self->abaw_next = line + 1;
  return GST_FLOW_OK;
}

/* Completes every file to the last frame seen and flushes it; with @close,
 * closes the files as well. */
static gboolean
abaw_finish (GstAffectSink *self, gboolean close)
{
  GHashTableIter iter;
  gpointer value;
  gboolean ok = TRUE;

  if (self->tracks == NULL)
    return TRUE;

  g_hash_table_iter_init (&iter, self->tracks);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    AbawTrack *t = value;
    guint i;

    if (t->lines < self->abaw_next) {
      if (!abaw_write_track (self, t, self->abaw_next - 1, NULL)) {
        ok = FALSE;
        continue;
      }
    }
    if (close) {
      if (!abaw_close_track (self, t))
        ok = FALSE;
    } else if (t->open) {
      for (i = 0; i < ABAW_N_FILES; i++) {
        const gchar *path;

        if (t->files[i] == NULL)
          continue;
        path = t->paths[i];
        if (!flush_file (self, t->files[i], path))
          ok = FALSE;
      }
    }
  }
  return ok;
}

static gboolean
abaw_start (GstAffectSink *self)
{
  guint i;

  if (g_mkdir_with_parents (self->cur_location, 0755) != 0) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
        ("Could not create the folder \"%s\" for the annotation files.",
            self->cur_location),
        GST_ERROR_SYSTEM);
    return FALSE;
  }

  self->abaw_au_labels = gst_affect_abaw_au_labels (&self->abaw_n_au);
  self->abaw_expr_labels
      = gst_affect_abaw_expression_labels (&self->abaw_n_expr);
  if (self->abaw_au_labels == NULL)
    self->abaw_n_au = 0;
  if (self->abaw_expr_labels == NULL)
    self->abaw_n_expr = 0;
  self->abaw_other_index
      = find_label (self->abaw_expr_labels, self->abaw_n_expr, "Other");

  g_string_truncate (self->abaw_au_header, 0);
  for (i = 0; i < self->abaw_n_au; i++) {
    if (i > 0)
      g_string_append_c (self->abaw_au_header, ',');
    g_string_append (self->abaw_au_header, self->abaw_au_labels[i]);
  }
  g_string_append_c (self->abaw_au_header, '\n');
  g_string_truncate (self->abaw_expr_header, 0);
  for (i = 0; i < self->abaw_n_expr; i++) {
    if (i > 0)
      g_string_append_c (self->abaw_expr_header, ',');
    g_string_append (self->abaw_expr_header, self->abaw_expr_labels[i]);
  }
  g_string_append_c (self->abaw_expr_header, '\n');

  self->tracks = g_hash_table_new_full (NULL, NULL, NULL, abaw_track_free);
  self->n_open_tracks = 0;
  self->abaw_next = 0;
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* GstBaseSink                                                         */
/* ------------------------------------------------------------------ */

static gboolean
gst_affect_sink_start (GstBaseSink *sink)
{
  GstAffectSink *self = GST_AFFECT_SINK (sink);
  GstAffectSinkAbawTask task;
  guint b;

  GST_OBJECT_LOCK (self);
  g_free (self->cur_location);
  self->cur_location = g_strdup (self->location);
  self->cur_format = self->format;
  self->cur_features = self->features;
  self->cur_tidy = self->tidy;
  task = self->abaw_task;
  GST_OBJECT_UNLOCK (self);

  self->counter = 0;
  self->csv_header_done = FALSE;
  g_ptr_array_set_size (self->csv_expr_labels, 0);
  g_ptr_array_set_size (self->csv_au_labels, 0);
  self->csv_va = FALSE;
  self->csv_pose = FALSE;
  for (b = 0; b < GST_AFFECT_N_BRANCHES; b++)
    self->csv_feat_sizes[b] = 0;
  self->abaw_files[ABAW_AU] = task == GST_AFFECT_SINK_ABAW_TASK_AU
                              || task == GST_AFFECT_SINK_ABAW_TASK_ALL;
  self->abaw_files[ABAW_EXPR] = task == GST_AFFECT_SINK_ABAW_TASK_EXPR
                                || task == GST_AFFECT_SINK_ABAW_TASK_ALL;
  self->abaw_files[ABAW_VA] = task == GST_AFFECT_SINK_ABAW_TASK_VA
                              || task == GST_AFFECT_SINK_ABAW_TASK_ALL;

  if (self->cur_location == NULL || self->cur_location[0] == '\0') {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("No file name specified for writing."),
        ("Set the \"location\" property of affectsink."));
    return FALSE;
  }

  if (self->cur_format == GST_AFFECT_SINK_FORMAT_ABAW)
    return abaw_start (self);

  self->file = g_fopen (self->cur_location, "wb");
  if (self->file == NULL) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
        ("Could not open file \"%s\" for writing.", self->cur_location),
        GST_ERROR_SYSTEM);
    return FALSE;
  }
  GST_DEBUG_OBJECT (self, "writing to %s", self->cur_location);
  return TRUE;
}

/* A CSV stream that never had a face still gets its header line. */
static gboolean
csv_ensure_header (GstAffectSink *self)
{
  if (self->file == NULL || self->cur_format != GST_AFFECT_SINK_FORMAT_CSV
      || self->csv_header_done)
    return TRUE;
  g_string_truncate (self->line, 0);
  csv_append_header (self, self->line);
  self->csv_header_done = TRUE;
  return write_all (
      self, self->file, self->cur_location, self->line->str, self->line->len);
}

static gboolean
gst_affect_sink_stop (GstBaseSink *sink)
{
  GstAffectSink *self = GST_AFFECT_SINK (sink);

  if (self->file) {
    csv_ensure_header (self);
    close_file (self, self->file, self->cur_location);
    self->file = NULL;
  }
  if (self->tracks) {
    abaw_finish (self, TRUE);
    g_hash_table_destroy (self->tracks);
    self->tracks = NULL;
  }
  g_array_set_size (self->entries, 0);
  /* errors were posted on the bus; the resources are released anyway */
  return TRUE;
}

/* Hands everything written so far to the OS; at EOS (@eos) a CSV table
 * without any face also gets its header. */
static gboolean
gst_affect_sink_flush_output (GstAffectSink *self, gboolean eos)
{
  if (self->file) {
    if (eos && !csv_ensure_header (self))
      return FALSE;
    return flush_file (self, self->file, self->cur_location);
  }
  if (self->tracks)
    return abaw_finish (self, FALSE);
  return TRUE;
}

static gboolean
gst_affect_sink_event (GstBaseSink *sink, GstEvent *event)
{
  GstAffectSink *self = GST_AFFECT_SINK (sink);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_EOS:
      /* everything is written out before the EOS message is posted */
      if (!gst_affect_sink_flush_output (self, TRUE)) {
        gst_event_unref (event);
        return FALSE;
      }
      break;
    case GST_EVENT_FLUSH_STOP:
      if (!gst_affect_sink_flush_output (self, FALSE)) {
        gst_event_unref (event);
        return FALSE;
      }
      self->counter = 0;
      break;
    default:
      break;
  }
  return GST_BASE_SINK_CLASS (parent_class)->event (sink, event);
}

/* affectfeatures asks which feature branches are read (affect-branches.h):
 * all of them when the feature vectors are written, none otherwise. */
static gboolean
gst_affect_sink_query (GstBaseSink *sink, GstQuery *query)
{
  GstAffectSink *self = GST_AFFECT_SINK (sink);
  gboolean features;

  if (!affect_branches_query_is (query))
    return GST_BASE_SINK_CLASS (parent_class)->query (sink, query);

  GST_OBJECT_LOCK (self);
  features = self->features && self->format != GST_AFFECT_SINK_FORMAT_ABAW;
  GST_OBJECT_UNLOCK (self);
  affect_branches_query_add (query, GST_OBJECT (self),
      features ? AFFECT_BRANCHES_ALL : GST_AFFECT_MODALITY_NONE,
      features ? "writes the features" : "writes no feature");
  /* FALSE on purpose: a tee then asks its other branches too */
  return FALSE;
}

static GstFlowReturn
gst_affect_sink_render (GstBaseSink *sink, GstBuffer *buffer)
{
  GstAffectSink *self = GST_AFFECT_SINK (sink);
  GstClockTime pts = GST_BUFFER_PTS (buffer);
  guint64 frame;
  GstFlowReturn ret = GST_FLOW_OK;

  frame = GST_BUFFER_OFFSET_IS_VALID (buffer) ? GST_BUFFER_OFFSET (buffer)
                                              : self->counter;
  self->counter++;

  collect_entries (buffer, self->entries,
      self->cur_features && self->cur_format != GST_AFFECT_SINK_FORMAT_ABAW);
  GST_LOG_OBJECT (self, "frame %" G_GUINT64_FORMAT " with %u faces", frame,
      self->entries->len);

  g_string_truncate (self->line, 0);
  switch (self->cur_format) {
    case GST_AFFECT_SINK_FORMAT_JSONL:
      if (self->cur_tidy)
        jsonl_append_flat (self, self->line, pts, frame);
      else
        jsonl_append_frame (self, self->line, pts, frame);
      break;
    case GST_AFFECT_SINK_FORMAT_CSV:
      if (!self->csv_header_done && self->entries->len > 0) {
        csv_decide_columns (self);
        csv_append_header (self, self->line);
        self->csv_header_done = TRUE;
      }
      if (self->csv_header_done)
        csv_append_rows (self, self->line, pts, frame);
      break;
    case GST_AFFECT_SINK_FORMAT_ABAW:
      ret = abaw_render (self, frame);
      break;
  }

  if (ret == GST_FLOW_OK && self->file
      && !write_all (self, self->file, self->cur_location, self->line->str,
          self->line->len))
    ret = GST_FLOW_ERROR;

  g_array_set_size (self->entries, 0);
  /* keep a big line buffer of one frame from pinning memory */
  if (self->line->allocated_len > (1 << 20)) {
    g_string_free (self->line, TRUE);
    self->line = g_string_sized_new (4096);
  }
  return ret;
}
