/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/* Which branches affectfeatures computes (elements/affect-branches.h):
 * the answers of affectfuse, affectsink and affectoverlay to the
 * "affect-branches" query, their combination through a tee, and in
 * pipelines the feature metas that come out of affectfeatures: the
 * expression baseline gets no image feature, a fusion network or
 * `affectsink features=true` every branch, nothing answering every branch,
 * the branches property wins, a branch linked to a tee while playing is
 * asked too (RECONFIGURE).
 *
 * The pipeline tests run the face networks: they need the converted
 * weights and are skipped with a message when those are missing, unless
 * AFFECT_REQUIRE_MODELS=1 (then they fail). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <glib/gstdio.h>
#include <gst/affect/affectmeta.h>
#include <gst/check/gstcheck.h>
#include <gst/video/video.h>

#include "affect-check.h"
#include "affect-modelpath.h"
#include "affect-safetensors.h"

#define VISUAL (GST_AFFECT_MODALITY_IMAGE | GST_AFFECT_MODALITY_EXPRESSION)
#define ALL                                                   \
  (GST_AFFECT_MODALITY_IMAGE | GST_AFFECT_MODALITY_EXPRESSION \
      | GST_AFFECT_MODALITY_SPEECH | GST_AFFECT_MODALITY_WORDS)

/* the "features" value of the plugin's own extractors (affectfuse's
 * default) */
#define PLUGIN_FEATURES                                   \
  "img=face_recognition_model,exp=face_expression_model," \
  "spe=affect-speech,wrd=affect-bert"

#define W 240
#define H 200
#define CAPS_STR "video/x-raw,format=RGB,width=240,height=200,framerate=30/1"
#define N_FRAMES 3
#define TRACK 1

/* present flags recorded for a frame without a features meta */
#define NO_META (-1)

/* made by main() (the tests run in child processes) */
static gchar *scratch = NULL;

static const gchar *
scratch_dir (void)
{
  fail_unless (scratch != NULL);
  return scratch;
}

/* A file of the scratch folder (g_free). */
static gchar *
scratch_file (const gchar *name)
{
  return g_build_filename (scratch_dir (), name, NULL);
}

/* ------------------------------------------------------------------ */
/* The query, as an element downstream of affectfeatures sees it       */
/* ------------------------------------------------------------------ */

/* Sends the query affectfeatures sends to @pad; returns whether somebody
 * answered, with what in @branches and who in @answers (g_free). */
static gboolean
ask (GstPad *pad, guint *branches, gchar **answers)
{
  GstQuery *q = gst_query_new_custom (
      GST_QUERY_CUSTOM, gst_structure_new_empty ("affect-branches"));
  const GstStructure *s;
  gboolean answered;

  gst_pad_query (pad, q);
  s = gst_query_get_structure (q);
  fail_unless (gst_structure_has_name (s, "affect-branches"));
  answered = gst_structure_get_flags (
      s, "branches", GST_TYPE_AFFECT_MODALITIES, branches);
  if (answers != NULL)
    *answers = g_strdup (gst_structure_get_string (s, "answers"));
  gst_query_unref (q);
  return answered;
}

/* Asks the sink pad of the first element of the bin @desc. */
static gboolean
ask_bin (const gchar *desc, guint *branches, gchar **answers)
{
  GError *err = NULL;
  GstElement *bin = gst_parse_bin_from_description (desc, FALSE, &err);
  GstElement *first;
  GstIterator *it;
  GValue v = G_VALUE_INIT;
  GstPad *pad;
  gboolean ret;

  fail_unless (bin != NULL, "%s: %s", desc, err ? err->message : "?");
  /* the element whose sink pad is not linked: the start of the chain */
  first = NULL;
  it = gst_bin_iterate_elements (GST_BIN (bin));
  while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
    GstElement *e = g_value_get_object (&v);
    GstPad *sink = gst_element_get_static_pad (e, "sink");

    if (sink != NULL && !gst_pad_is_linked (sink))
      first = gst_object_ref (e);
    if (sink != NULL)
      gst_object_unref (sink);
    g_value_reset (&v);
  }
  g_value_unset (&v);
  gst_iterator_free (it);
  fail_unless (first != NULL, "%s: no first element", desc);

  pad = gst_element_get_static_pad (first, "sink");
  ret = ask (pad, branches, answers);
  gst_object_unref (pad);
  gst_object_unref (first);
  gst_object_unref (bin);
  return ret;
}

static void
check_bin (const gchar *desc, gboolean answered, guint expected)
{
  guint b = 0;
  gchar *answers = NULL;

  fail_unless_equals_int (ask_bin (desc, &b, &answers), answered);
  if (answered) {
    fail_unless (answers != NULL && *answers, "%s: no answers", desc);
    fail_unless (b == expected, "%s: branches 0x%x, expected 0x%x (%s)", desc,
        b, expected, answers);
  }
  g_free (answers);
}

/* A copy of the golden fusion model "all" whose "features" metadata is
 * @features. */
static gchar *
fusion_model (const gchar *name, const gchar *features)
{
  const gchar *srcdir = g_getenv ("AFFECT_TEST_SRCDIR");
  gchar *src, *path;
  AffectStFile *in;
  AffectStWriter *w;
  const gchar **keys;
  GError *err = NULL;
  guint i;

  fail_unless (srcdir != NULL, "AFFECT_TEST_SRCDIR not set");
  src = g_build_filename (
      srcdir, "golden", "fusion", "model-all.safetensors", NULL);
  in = affect_st_open (src, &err);
  fail_unless (in != NULL, "%s", err ? err->message : "?");
  w = affect_st_writer_new ();
  keys = affect_st_get_metadata_keys (in);
  for (i = 0; keys[i] != NULL; i++)
    affect_st_writer_add_metadata (w, keys[i],
        g_str_equal (keys[i], "features")
            ? features
            : affect_st_get_metadata (in, keys[i]));
  g_free (keys);
  for (i = 0; i < affect_st_get_n_tensors (in); i++) {
    const AffectStTensor *t = affect_st_get_tensor_by_index (in, i);

    fail_unless (affect_st_writer_add (w, t->name, t->dtype, t->n_dims,
                     t->shape, t->data, t->n_bytes, &err),
        "%s", err ? err->message : "?");
  }
  path = scratch_file (name);
  fail_unless (
      affect_st_writer_write (w, path, &err), "%s", err ? err->message : "?");
  affect_st_writer_free (w);
  affect_st_close (in);
  g_free (src);
  return path;
}

/* What affectfuse asks for with its fusion network @model (features check
 * @check, NULL = none) loaded: the element is started, alone. */
static guint
fuse_reads (const gchar *model, const gchar *check)
{
  GstElement *e = gst_element_factory_make ("affectfuse", NULL);
  GstPad *pad;
  guint b = 0;

  fail_unless (e != NULL);
  g_object_set (e, "model", model, "features", check, NULL);
  fail_unless (
      gst_element_set_state (e, GST_STATE_PAUSED) == GST_STATE_CHANGE_SUCCESS);
  pad = gst_element_get_static_pad (e, "sink");
  fail_unless (ask (pad, &b, NULL), "affectfuse did not answer");
  gst_object_unref (pad);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_object_unref (e);
  return b;
}

static gboolean
have_core_plugins (const gchar *test)
{
  if (affect_check_load_system_plugin ("libgstcoreelements.so")
      && affect_check_load_system_plugin ("libgstapp.so"))
    return TRUE;
  g_print ("SKIP %s: the core elements or appsrc not found (set "
           "AFFECT_TEST_SYSTEM_PLUGIN_DIR)\n",
      test);
  return FALSE;
}

/* What each element answers, alone and followed by others; no network
 * runs here. */
GST_START_TEST (test_answers)
{
  gchar *model;
  guint b = 0;

  if (!have_core_plugins ("test_answers"))
    return;

  /* nothing that knows what it reads: no answer */
  check_bin ("fakesink", FALSE, 0);
  check_bin ("queue ! fakesink", FALSE, 0);

  check_bin ("affectsink", TRUE, 0);
  check_bin ("affectsink features=true", TRUE, ALL);
  check_bin ("affectsink features=true format=abaw", TRUE, 0);
  check_bin ("affectoverlay ! fakesink", TRUE, 0);
  /* affectoverlay and affectfuse forward: what comes after them adds */
  check_bin ("affectoverlay ! queue ! affectsink features=true", TRUE, ALL);
  check_bin ("affectfuse ! fakesink", TRUE, GST_AFFECT_MODALITY_EXPRESSION);
  check_bin ("affectfuse ! affectsink features=true", TRUE, ALL);
  check_bin ("affectfuse ! affectoverlay ! affectsink", TRUE,
      GST_AFFECT_MODALITY_EXPRESSION);

  /* a fusion network not loaded yet: it may read anything */
  model = fusion_model ("all.safetensors", PLUGIN_FEATURES);
  {
    GstElement *e = gst_element_factory_make ("affectfuse", NULL);
    GstPad *pad = gst_element_get_static_pad (e, "sink");

    g_object_set (e, "model", model, NULL);
    fail_unless (ask (pad, &b, NULL));
    fail_unless_equals_int (b, ALL);
    gst_object_unref (pad);
    gst_object_unref (e);
  }

  /* loaded: the image branch and the branches its "features" names */
  fail_unless_equals_int (fuse_reads (model, PLUGIN_FEATURES), ALL);
  g_free (model);
  model = fusion_model ("visual.safetensors",
      "img=face_recognition_model,exp=face_expression_model");
  fail_unless_equals_int (fuse_reads (model, NULL), VISUAL);
  g_free (model);
  model = fusion_model ("speech.safetensors", "spe=affect-speech");
  fail_unless_equals_int (fuse_reads (model, NULL),
      GST_AFFECT_MODALITY_IMAGE | GST_AFFECT_MODALITY_SPEECH);
  g_free (model);
  /* a value not in the key=value form says nothing: every branch */
  model = fusion_model ("other.safetensors", "golden-test-features");
  fail_unless_equals_int (fuse_reads (model, NULL), ALL);
  g_free (model);
}

GST_END_TEST;

/* A tee asks all its branches, whatever their order: the answers add up. */
GST_START_TEST (test_answers_tee)
{
  gchar *answers = NULL;
  guint b = 0;

  if (!have_core_plugins ("test_answers_tee"))
    return;

  check_bin ("tee name=t t. ! queue ! affectfuse ! fakesink "
             "t. ! queue ! affectsink features=true",
      TRUE, ALL);
  check_bin ("tee name=t t. ! queue ! affectsink features=true "
             "t. ! queue ! affectfuse ! fakesink",
      TRUE, ALL);
  check_bin ("tee name=t t. ! queue ! affectoverlay ! fakesink "
             "t. ! queue ! affectfuse ! fakesink",
      TRUE, GST_AFFECT_MODALITY_EXPRESSION);
  check_bin ("tee name=t t. ! queue ! affectsink "
             "t. ! queue ! affectfuse ! fakesink",
      TRUE, GST_AFFECT_MODALITY_EXPRESSION);
  check_bin ("tee name=t t. ! queue ! affectoverlay ! fakesink "
             "t. ! queue ! affectsink features=true",
      TRUE, ALL);
  /* the README pipeline: affectfuse, then a tee to the overlay and the
   * sink */
  check_bin ("affectfuse ! tee name=t t. ! queue ! affectoverlay ! fakesink "
             "t. ! queue ! affectsink",
      TRUE, GST_AFFECT_MODALITY_EXPRESSION);
  check_bin ("affectfuse ! tee name=t t. ! queue ! affectoverlay ! fakesink "
             "t. ! queue ! affectsink features=true",
      TRUE, ALL);

  /* every answerer is named, with its reason */
  fail_unless (ask_bin ("tee name=t t. ! queue ! affectfuse name=fu ! "
                        "fakesink t. ! queue ! affectsink name=si",
      &b, &answers));
  fail_unless_equals_int (b, GST_AFFECT_MODALITY_EXPRESSION);
  fail_unless (
      strstr (answers, "fu: expression (expression baseline)"), "%s", answers);
  fail_unless (strstr (answers, "si: none"), "%s", answers);
  g_free (answers);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* Pipelines: what affectfeatures computes                             */
/* ------------------------------------------------------------------ */

static gboolean
need_models (const gchar *test)
{
  const gchar *const names[]
      = { "face_expression_model", "face_recognition_model" };
  GString *why = g_string_new (NULL);
  gboolean found;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (names); i++) {
    GError *err = NULL;
    gchar *path = affect_model_find (names[i], NULL, &err);

    if (path == NULL)
      g_string_append_printf (why, "%s; ", err->message);
    g_clear_error (&err);
    g_free (path);
  }
  if (why->len > 0) {
    fail_if (g_strcmp0 (g_getenv ("AFFECT_REQUIRE_MODELS"), "1") == 0,
        "%s: models missing: %s", test, why->str);
    g_print ("SKIP %s: models missing (fetch them with affect-fetch-models): "
             "%s\n",
        test, why->str);
  }
  found = why->len == 0;
  g_string_free (why, TRUE);
  return found && have_core_plugins (test);
}

/* A frame (a colour gradient) with one face with 68 landmarks: eyes,
 * mouth and the rest laid out as on a real face. */
static GstBuffer *
face_frame (guint i)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, W * H * 3, NULL);
  GstAffectFaceMeta *meta;
  gfloat pts[GST_AFFECT_N_LANDMARKS * 2];
  GstMapInfo map;
  guint x, y, k;

  fail_unless (gst_buffer_map (buf, &map, GST_MAP_WRITE));
  for (y = 0; y < H; y++)
    for (x = 0; x < W; x++) {
      guint8 *p = map.data + ((gsize)y * W + x) * 3;

      p[0] = (guint8)(x + 10 * i);
      p[1] = (guint8)y;
      p[2] = (guint8)((x + y) / 2);
    }
  gst_buffer_unmap (buf, &map);
  GST_BUFFER_PTS (buf) = i * GST_SECOND / 30;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 30;

  meta = gst_buffer_add_affect_face_meta (buf, TRACK, 70, 50, 100, 120, 0.9f);
  for (k = 0; k < GST_AFFECT_N_LANDMARKS; k++) {
    gfloat px, py;

    if (k < 17) { /* jaw */
      px = 72 + 96 * k / 16.0f;
      py = 110 + 50 * (1 - ((k - 8) * (k - 8)) / 64.0f);
    } else if (k < 27) { /* brows */
      px = 85 + 70 * (k - 17) / 9.0f;
      py = 85;
    } else if (k < 36) { /* nose */
      px = 120;
      py = 95 + 3 * (k - 27);
    } else if (k < 42) { /* left eye */
      px = 95 + 3 * (k - 36);
      py = 100 + (k % 2);
    } else if (k < 48) { /* right eye */
      px = 135 + 3 * (k - 42);
      py = 100 + (k % 2);
    } else { /* mouth */
      px = 105 + 30 * (k - 48) / 19.0f;
      py = 145 + (k % 3);
    }
    pts[2 * k] = px;
    pts[2 * k + 1] = py;
  }
  gst_affect_face_meta_set_landmarks (meta, pts, GST_AFFECT_N_LANDMARKS);
  return buf;
}

typedef struct {
  GMutex lock;
  GArray *present; /* gint per frame out of affectfeatures, NO_META */
} Seen;

static GstPadProbeReturn
record_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Seen *seen = user_data;
  GstAffectFeaturesMeta *m = gst_buffer_get_affect_features_meta_by_track (
      GST_PAD_PROBE_INFO_BUFFER (info), TRACK);
  gint present = m ? (gint)m->present : NO_META;

  g_mutex_lock (&seen->lock);
  g_array_append_val (seen->present, present);
  g_mutex_unlock (&seen->lock);
  return GST_PAD_PROBE_OK;
}

static GstElement *
make_pipeline (const gchar *desc, Seen *seen)
{
  GError *err = NULL;
  GstElement *pipe, *f;
  GstPad *src;

  pipe = gst_parse_launch (desc, &err);
  fail_unless (
      pipe != NULL && err == NULL, "%s: %s", desc, err ? err->message : "?");
  f = gst_bin_get_by_name (GST_BIN (pipe), "f");
  fail_unless (f != NULL, "%s: no element f", desc);
  src = gst_element_get_static_pad (f, "src");
  g_mutex_init (&seen->lock);
  seen->present = g_array_new (FALSE, FALSE, sizeof (gint));
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER, record_probe, seen, NULL);
  gst_object_unref (src);
  gst_object_unref (f);
  return pipe;
}

static void
push (GstElement *pipe, guint i)
{
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  GstFlowReturn flow = GST_FLOW_ERROR;
  GstBuffer *buf = face_frame (i);

  g_signal_emit_by_name (src, "push-buffer", buf, &flow);
  gst_buffer_unref (buf);
  fail_unless_equals_int (flow, GST_FLOW_OK);
  gst_object_unref (src);
}

static void
finish (GstElement *pipe)
{
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  GstFlowReturn flow = GST_FLOW_ERROR;
  GstBus *bus = gst_element_get_bus (pipe);

  g_signal_emit_by_name (src, "end-of-stream", &flow);
  fail_unless_equals_int (flow, GST_FLOW_OK);
  affect_check_wait_eos (bus, 300 * GST_SECOND);
  gst_object_unref (bus);
  gst_object_unref (src);
  gst_element_set_state (pipe, GST_STATE_NULL);
}

/* Runs "appsrc ! affectfeatures @props ! @downstream" on N_FRAMES frames
 * with a face and checks that every frame out of affectfeatures has the
 * present flags @expected (NO_META: no features meta). */
static void
check_computed (const gchar *props, const gchar *downstream, gint expected)
{
  gchar *desc
      = g_strdup_printf ("appsrc name=src format=time caps=\"" CAPS_STR "\" ! "
                         "affectfeatures name=f %s ! %s",
          props, downstream);
  Seen seen;
  GstElement *pipe = make_pipeline (desc, &seen);
  guint i;

  fail_unless (gst_element_set_state (pipe, GST_STATE_PLAYING)
               != GST_STATE_CHANGE_FAILURE);
  for (i = 0; i < N_FRAMES; i++)
    push (pipe, i);
  finish (pipe);

  fail_unless_equals_int (seen.present->len, N_FRAMES);
  for (i = 0; i < seen.present->len; i++) {
    gint got = g_array_index (seen.present, gint, i);

    fail_unless (got == expected, "%s: frame %u: present %d, expected %d", desc,
        i, got, expected);
  }
  g_array_unref (seen.present);
  g_mutex_clear (&seen.lock);
  gst_object_unref (pipe);
  g_free (desc);
}

/* The expression baseline reads f_exp only: the image network does not
 * run. */
GST_START_TEST (test_baseline_no_image)
{
  gchar *path, *down;

  if (!need_models ("test_baseline_no_image"))
    return;
  check_computed (
      "", "affectfuse ! fakesink sync=false", GST_AFFECT_MODALITY_EXPRESSION);
  /* README's pipeline, without features in the file */
  path = scratch_file ("readme.jsonl");
  down = g_strdup_printf (
      "affectfuse ! tee name=t t. ! queue ! affectoverlay ! fakesink "
      "sync=false t. ! queue ! affectsink location=%s",
      path);
  check_computed ("", down, GST_AFFECT_MODALITY_EXPRESSION);
  g_free (down);
  g_free (path);
}

GST_END_TEST;

/* A fusion network trained on every branch gets them all (the speech and
 * words branches are absent without audio and text pads). */
GST_START_TEST (test_fusion_model_all)
{
  gchar *model, *down;

  if (!need_models ("test_fusion_model_all"))
    return;
  model = fusion_model ("all.safetensors", PLUGIN_FEATURES);
  /* the model's inputs are not 256 floats: it predicts nothing here, and
   * that is not what is tested */
  down = g_strdup_printf (
      "affectfuse model=%s mode=causal ! fakesink sync=false", model);
  check_computed ("", down, VISUAL);
  g_free (down);
  g_free (model);
}

GST_END_TEST;

/* affectsink features=true after the baseline writes every feature:
 * everything is computed. */
GST_START_TEST (test_sink_features_after_baseline)
{
  gchar *path, *down, *contents = NULL;

  if (!need_models ("test_sink_features_after_baseline"))
    return;
  path = scratch_file ("features.jsonl");
  down = g_strdup_printf (
      "affectfuse ! affectsink features=true location=%s", path);
  check_computed ("", down, VISUAL);
  fail_unless (g_file_get_contents (path, &contents, NULL, NULL));
  fail_unless (strstr (contents, "\"img\"") != NULL, "no f_img in %s", path);
  g_free (contents);
  g_unlink (path);
  g_free (down);
  g_free (path);

  /* and a sink that writes no feature asks for none */
  path = scratch_file ("no-features.jsonl");
  down = g_strdup_printf ("affectsink location=%s", path);
  check_computed ("", down, NO_META);
  g_free (down);
  g_free (path);
}

GST_END_TEST;

/* Nothing downstream says what it reads (an application may read any
 * feature): every branch. */
GST_START_TEST (test_nothing_answers)
{
  if (!need_models ("test_nothing_answers"))
    return;
  check_computed ("", "fakesink sync=false", VISUAL);
  check_computed ("", "queue ! fakesink sync=false", VISUAL);
}

GST_END_TEST;

/* The branches property, once set, wins over what downstream asks. */
GST_START_TEST (test_explicit_branches_win)
{
  gchar *path, *down;

  if (!need_models ("test_explicit_branches_win"))
    return;
  check_computed ("branches=image", "affectfuse ! fakesink sync=false",
      GST_AFFECT_MODALITY_IMAGE);
  path = scratch_file ("explicit.jsonl");
  down = g_strdup_printf ("affectsink location=%s", path);
  check_computed ("branches=image+expression", down, VISUAL);
  g_free (down);
  g_free (path);
  check_computed ("branches=expression", "fakesink sync=false",
      GST_AFFECT_MODALITY_EXPRESSION);
}

GST_END_TEST;

/* A tee with affectsink features=true on one branch: every branch is
 * computed, whether the tee is before or after affectfuse. */
GST_START_TEST (test_tee_with_features_sink)
{
  gchar *path, *down;

  if (!need_models ("test_tee_with_features_sink"))
    return;
  path = scratch_file ("tee.jsonl");
  down = g_strdup_printf (
      "affectfuse ! tee name=t t. ! queue ! affectoverlay ! fakesink "
      "sync=false t. ! queue ! affectsink features=true location=%s",
      path);
  check_computed ("", down, VISUAL);
  g_free (down);
  down = g_strdup_printf ("tee name=t t. ! queue ! affectfuse ! fakesink "
                          "sync=false t. ! queue ! affectsink features=true "
                          "location=%s",
      path);
  check_computed ("", down, VISUAL);
  g_free (down);
  g_free (path);
}

GST_END_TEST;

/* A branch linked to a tee while playing sends RECONFIGURE upstream:
 * affectfeatures asks again before its next frame. */
GST_START_TEST (test_reconfigure)
{
  Seen seen;
  GstElement *pipe, *tee, *sink;
  GstPad *tpad, *spad;
  GstSample *sample = NULL;
  GstElement *appsink;
  gchar *path;

  if (!need_models ("test_reconfigure"))
    return;
  pipe = make_pipeline ("appsrc name=src format=time caps=\"" CAPS_STR "\" ! "
                        "affectfeatures name=f ! tee name=t ! affectfuse ! "
                        "appsink name=out sync=false",
      &seen);
  appsink = gst_bin_get_by_name (GST_BIN (pipe), "out");
  fail_unless (gst_element_set_state (pipe, GST_STATE_PLAYING)
               != GST_STATE_CHANGE_FAILURE);

  push (pipe, 0);
  g_signal_emit_by_name (appsink, "pull-sample", &sample);
  fail_unless (sample != NULL);
  gst_sample_unref (sample);
  g_mutex_lock (&seen.lock);
  fail_unless_equals_int (seen.present->len, 1);
  fail_unless_equals_int (
      g_array_index (seen.present, gint, 0), GST_AFFECT_MODALITY_EXPRESSION);
  g_mutex_unlock (&seen.lock);

  /* a new branch that writes the features */
  sink = gst_element_factory_make ("affectsink", NULL);
  path = scratch_file ("reconfigure.jsonl");
  g_object_set (sink, "features", TRUE, "location", path, "sync", FALSE,
      "async", FALSE, NULL);
  g_free (path);
  gst_bin_add (GST_BIN (pipe), sink);
  fail_unless (gst_element_sync_state_with_parent (sink));
  tee = gst_bin_get_by_name (GST_BIN (pipe), "t");
  tpad = gst_element_request_pad_simple (tee, "src_%u");
  spad = gst_element_get_static_pad (sink, "sink");
  fail_unless_equals_int (gst_pad_link (tpad, spad), GST_PAD_LINK_OK);

  push (pipe, 1);
  g_signal_emit_by_name (appsink, "pull-sample", &sample);
  fail_unless (sample != NULL);
  gst_sample_unref (sample);
  g_mutex_lock (&seen.lock);
  fail_unless_equals_int (seen.present->len, 2);
  fail_unless_equals_int (g_array_index (seen.present, gint, 1), VISUAL);
  g_mutex_unlock (&seen.lock);

  finish (pipe);
  gst_object_unref (spad);
  gst_element_release_request_pad (tee, tpad);
  gst_object_unref (tpad);
  gst_object_unref (tee);
  gst_object_unref (appsink);
  g_array_unref (seen.present);
  g_mutex_clear (&seen.lock);
  gst_object_unref (pipe);
}

GST_END_TEST;

static Suite *
affectfeatures_branches_suite (void)
{
  Suite *s = suite_create ("affectfeatures_branches");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, test_answers);
  tcase_add_test (tc, test_answers_tee);
  tcase_add_test (tc, test_baseline_no_image);
  tcase_add_test (tc, test_fusion_model_all);
  tcase_add_test (tc, test_sink_features_after_baseline);
  tcase_add_test (tc, test_nothing_answers);
  tcase_add_test (tc, test_explicit_branches_win);
  tcase_add_test (tc, test_tee_with_features_sink);
  tcase_add_test (tc, test_reconfigure);
  return s;
}

int
main (int argc, char **argv)
{
  Suite *s;
  int ret;

  gst_check_init (&argc, &argv);
  scratch = g_dir_make_tmp ("affectfeatures-branches-XXXXXX", NULL);
  g_assert (scratch != NULL);
  s = affectfeatures_branches_suite ();
  ret = gst_check_run_suite (s, "affectfeatures_branches", __FILE__);
  if (scratch != NULL) {
    GDir *d = g_dir_open (scratch, 0, NULL);
    const gchar *name;

    while (d && (name = g_dir_read_name (d))) {
      gchar *p = g_build_filename (scratch, name, NULL);

      g_unlink (p);
      g_free (p);
    }
    if (d)
      g_dir_close (d);
    g_rmdir (scratch);
    g_free (scratch);
  }
  return ret;
}
