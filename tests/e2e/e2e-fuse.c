/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/* End-to-end test of the fusion network (issue 6 item 6), element side.
 *
 * tests/e2e/e2e_train.py made synthetic face tracks with a planted signal,
 * trained a small model with the recipe (models/fusion/train.py) and
 * exported it; it also wrote a held-out stream (several tracks that come
 * and go, branches missing on some frames), its labels and the PyTorch
 * predictions of the exported model on centred and causal clips. This
 * program pushes that stream frame by frame, one GstAffectFeaturesMeta per
 * track, through `affectfuse model=FILE` (GstHarness), collects the
 * predictions meta of every frame and track and checks:
 *
 *  - test_centred_matches_pytorch, test_causal_matches_pytorch: every frame
 *    with an image feature gets predictions with the model's tasks and
 *    labels, equal to PyTorch's on the clip built the way the model was
 *    trained (|d| <= 1e-4); frames without one get none; the modalities
 *    name the branches present in the clip;
 *  - test_metrics_beat_chance: AU mean F1, EXPR macro F1 and mean CCC of
 *    the element's (centred) predictions against the labels, computed with
 *    models/fusion/affect-metrics.h, clearly above chance: the best of constant
 *    predictors (all AUs active, the majority class, constant
 *    valence/arousal: CCC 0) and of the element's own predictions shuffled
 *    over the frames (same distribution, alignment broken);
 *  - test_causal_misaligned: the labels depend on the expression features
 *    of the two frames after t, which only the centred clip holds; the
 *    same model run in causal mode (a window misaligned with training)
 *    scores clearly lower.
 *
 * Environment (set by run-e2e.sh): AFFECT_E2E_MODEL, AFFECT_E2E_HELDOUT. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include <gst/affect/affectmeta.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include "affect-metrics.h"
#include "affect-safetensors.h"

#define N_AU 12
#define N_EXPR 8
#define N_BR 4
#define CAPS "video/x-raw,format=GRAY8,width=4,height=2,framerate=25/1"

/* How far above chance the metrics must be (see test_metrics_beat_chance;
 * observed with seed 1: AU F1 0.63 vs 0.36, EXPR F1 0.39 vs 0.13, CCC 0.70
 * vs 0, causal total 1.28 vs centred 1.71; seeds 2 and 3 alike). */
#define AU_MARGIN 0.10
#define EXPR_MARGIN 0.10
#define CCC_MIN 0.40
#define CAUSAL_DROP 0.20
#define TOL 1e-4f

typedef struct {
  guint n_frames, n_tracks, clip_len;
  guint dims[N_BR];
  gchar *features;
  guint8 *on;                                  /* [F, K] */
  guint8 *has;                                 /* [F, K, 4] */
  gfloat *x[N_BR];                             /* [F, K, D_b] */
  gint *au_label;                              /* [F, K, 12] */
  gint *expr_label;                            /* [F, K] */
  gfloat *va_label;                            /* [F, K, 2] */
  gfloat *ref_au[2], *ref_expr[2], *ref_va[2]; /* [0] centred, [1] causal */
} Heldout;

typedef struct {
  gboolean *got;             /* [F, K] */
  gfloat *au;                /* [F, K, 12] */
  gfloat *expr;              /* [F, K, 8] */
  gint *expr_index;          /* [F, K] */
  gfloat *va;                /* [F, K, 2] */
  GstAffectModalities *mods; /* [F, K] */
} Outputs;

static const gchar *const branch_key[N_BR] = { "img", "exp", "spe", "wrd" };

static const gchar *
need_env (const gchar *name)
{
  const gchar *v = g_getenv (name);

  fail_unless (v != NULL && *v != '\0',
      "%s is not set: run this test through tests/e2e/run-e2e.sh", name);
  return v;
}

/* Copies tensor @name, of @dtype and @n elements, into a new buffer. */
static gpointer
read_tensor (AffectStFile *f, const gchar *name, AffectDType dtype, gsize n)
{
  const AffectStTensor *t = affect_st_find (f, name);

  fail_unless (t != NULL, "%s: no tensor '%s'", affect_st_get_path (f), name);
  fail_unless (t->dtype == dtype, "%s: tensor '%s' is %s, expected %s",
      affect_st_get_path (f), name, affect_dtype_name (t->dtype),
      affect_dtype_name (dtype));
  fail_unless (t->n_elements == n,
      "%s: tensor '%s' has %" G_GSIZE_FORMAT
      " elements, expected %" G_GSIZE_FORMAT,
      affect_st_get_path (f), name, t->n_elements, n);
  return g_memdup2 (t->data, t->n_bytes);
}

static Heldout *
heldout_load (void)
{
  const gchar *path = need_env ("AFFECT_E2E_HELDOUT");
  const gchar *modes[2] = { "centred", "causal" };
  GError *err = NULL;
  AffectStFile *f = affect_st_open (path, &err);
  const AffectStTensor *t;
  Heldout *h;
  gsize fk;
  guint b, m;

  fail_unless (f != NULL, "%s", err ? err->message : "?");
  h = g_new0 (Heldout, 1);
  t = affect_st_find (f, "on");
  fail_unless (t != NULL && t->n_dims == 2, "%s: no 2-D tensor 'on'", path);
  h->n_frames = t->shape[0];
  h->n_tracks = t->shape[1];
  fk = (gsize)h->n_frames * h->n_tracks;
  h->features = g_strdup (affect_st_get_metadata (f, "features"));
  fail_unless (h->features != NULL, "%s: no features metadata", path);
  fail_unless (affect_st_get_metadata (f, "clip_len") != NULL,
      "%s: no clip_len metadata", path);
  h->clip_len
      = g_ascii_strtoull (affect_st_get_metadata (f, "clip_len"), NULL, 10);
  h->on = read_tensor (f, "on", AFFECT_DTYPE_U8, fk);
  h->has = read_tensor (f, "has", AFFECT_DTYPE_U8, fk * N_BR);
  for (b = 0; b < N_BR; b++) {
    t = affect_st_find (f, branch_key[b]);
    fail_unless (t != NULL && t->n_dims == 3, "%s: no 3-D tensor '%s'", path,
        branch_key[b]);
    h->dims[b] = t->shape[2];
    h->x[b] = read_tensor (f, branch_key[b], AFFECT_DTYPE_F32, fk * h->dims[b]);
  }
  h->au_label = read_tensor (f, "au_label", AFFECT_DTYPE_I32, fk * N_AU);
  h->expr_label = read_tensor (f, "expr_label", AFFECT_DTYPE_I32, fk);
  h->va_label = read_tensor (f, "va_label", AFFECT_DTYPE_F32, fk * 2);
  for (m = 0; m < 2; m++) {
    gchar *n;

    n = g_strdup_printf ("ref_%s_au", modes[m]);
    h->ref_au[m] = read_tensor (f, n, AFFECT_DTYPE_F32, fk * N_AU);
    g_free (n);
    n = g_strdup_printf ("ref_%s_expr", modes[m]);
    h->ref_expr[m] = read_tensor (f, n, AFFECT_DTYPE_F32, fk * N_EXPR);
    g_free (n);
    n = g_strdup_printf ("ref_%s_va", modes[m]);
    h->ref_va[m] = read_tensor (f, n, AFFECT_DTYPE_F32, fk * 2);
    g_free (n);
  }
  affect_st_close (f);
  fail_unless (h->clip_len >= 1 && h->n_frames > h->clip_len);
  return h;
}

static void
heldout_free (Heldout *h)
{
  guint b, m;

  g_free (h->features);
  g_free (h->on);
  g_free (h->has);
  for (b = 0; b < N_BR; b++)
    g_free (h->x[b]);
  g_free (h->au_label);
  g_free (h->expr_label);
  g_free (h->va_label);
  for (m = 0; m < 2; m++) {
    g_free (h->ref_au[m]);
    g_free (h->ref_expr[m]);
    g_free (h->ref_va[m]);
  }
  g_free (h);
}

static void
outputs_free (Outputs *o)
{
  g_free (o->got);
  g_free (o->au);
  g_free (o->expr);
  g_free (o->expr_index);
  g_free (o->va);
  g_free (o->mods);
  g_free (o);
}

static GstBuffer *
make_frame (const Heldout *h, guint f)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 8, NULL);
  guint k, b;

  gst_buffer_memset (buf, 0, (guint8)f, 8);
  GST_BUFFER_PTS (buf) = gst_util_uint64_scale (f, GST_SECOND, 25);
  GST_BUFFER_DURATION (buf) = GST_SECOND / 25;
  GST_BUFFER_OFFSET (buf) = f;
  for (k = 0; k < h->n_tracks; k++) {
    gsize fk = (gsize)f * h->n_tracks + k;
    GstAffectFeaturesMeta *m;

    if (!h->on[fk])
      continue;
    m = gst_buffer_add_affect_features_meta (buf, k + 1);
    for (b = 0; b < N_BR; b++)
      if (h->has[fk * N_BR + b])
        gst_affect_features_meta_set (
            m, b, h->x[b] + fk * h->dims[b], h->dims[b]);
  }
  return buf;
}

/* Records the predictions metas of output buffer @buf (frame @f). */
static void
collect (const Heldout *h, Outputs *o, GstBuffer *buf, guint f)
{
  const gchar *const *au_names = gst_affect_abaw_au_labels (NULL);
  const gchar *const *expr_names = gst_affect_abaw_expression_labels (NULL);
  GstAffectPredictionsMeta *m;
  gpointer state = NULL;
  guint i;

  fail_unless_equals_uint64 (
      GST_BUFFER_PTS (buf), gst_util_uint64_scale (f, GST_SECOND, 25));
  while ((m = gst_buffer_iterate_affect_predictions_meta (buf, &state))) {
    const GstAffectPredictions *p = &m->predictions;
    guint k = m->track_id - 1;
    gsize fk = (gsize)f * h->n_tracks + k;

    fail_unless (m->track_id >= 1 && m->track_id <= h->n_tracks,
        "frame %u: predictions for unknown track %u", f, m->track_id);
    fail_if (o->got[fk], "frame %u track %u: two predictions", f, k + 1);
    o->got[fk] = TRUE;
    fail_unless_equals_int (p->tasks,
        GST_AFFECT_TASK_AU | GST_AFFECT_TASK_EXPRESSION | GST_AFFECT_TASK_VA);
    fail_unless_equals_int (p->n_au, N_AU);
    fail_unless_equals_int (p->n_expr, N_EXPR);
    for (i = 0; i < N_AU; i++) {
      fail_unless_equals_string (p->au_labels[i], au_names[i]);
      o->au[fk * N_AU + i] = p->au[i];
    }
    for (i = 0; i < N_EXPR; i++) {
      fail_unless_equals_string (p->expr_labels[i], expr_names[i]);
      o->expr[fk * N_EXPR + i] = p->expr[i];
    }
    o->expr_index[fk] = p->expr_index;
    o->va[fk * 2] = p->valence;
    o->va[fk * 2 + 1] = p->arousal;
    o->mods[fk] = p->modalities;
  }
}

/* Runs the held-out stream through affectfuse in @mode ("centred" or
 * "causal") and returns what came out; every buffer must come out once, in
 * order. */
static Outputs *
run_stream (const Heldout *h, const gchar *mode)
{
  const gchar *model = need_env ("AFFECT_E2E_MODEL");
  gsize fk = (gsize)h->n_frames * h->n_tracks;
  GstElement *e = gst_element_factory_make ("affectfuse", NULL);
  Outputs *o = g_new0 (Outputs, 1);
  GstHarness *harness;
  GstBuffer *buf;
  guint f, n_out = 0;

  fail_unless (e != NULL, "affectfuse not found (GST_PLUGIN_PATH)");
  o->got = g_new0 (gboolean, fk);
  o->au = g_new0 (gfloat, fk * N_AU);
  o->expr = g_new0 (gfloat, fk * N_EXPR);
  o->expr_index = g_new0 (gint, fk);
  o->va = g_new0 (gfloat, fk * 2);
  o->mods = g_new0 (GstAffectModalities, fk);

  g_object_set (e, "model", model, "features", h->features, NULL);
  gst_util_set_object_arg (G_OBJECT (e), "mode", mode);
  harness = gst_harness_new_with_element (e, "sink", "src");
  gst_object_unref (e);
  gst_harness_set_src_caps_str (harness, CAPS);
  for (f = 0; f < h->n_frames; f++) {
    fail_unless_equals_int (
        gst_harness_push (harness, make_frame (h, f)), GST_FLOW_OK);
    while ((buf = gst_harness_try_pull (harness))) {
      collect (h, o, buf, n_out++);
      gst_buffer_unref (buf);
    }
  }
  fail_unless (gst_harness_push_event (harness, gst_event_new_eos ()));
  while ((buf = gst_harness_try_pull (harness))) {
    collect (h, o, buf, n_out++);
    gst_buffer_unref (buf);
  }
  fail_unless_equals_int (n_out, h->n_frames);
  gst_harness_teardown (harness);
  return o;
}

/* The modalities of the clip of frame @f, track slot @k. */
static GstAffectModalities
clip_modalities (const Heldout *h, gboolean centred, guint f, guint k)
{
  const gint t = h->clip_len;
  gint start = centred ? (gint)f - t / 2 : (gint)f - t + 1;
  GstAffectModalities mods = GST_AFFECT_MODALITY_IMAGE;
  gint j;
  guint b;

  for (j = start; j < start + t; j++) {
    if (j < 0 || j >= (gint)h->n_frames)
      continue;
    for (b = 1; b < N_BR; b++)
      if (h->has[((gsize)j * h->n_tracks + k) * N_BR + b])
        mods |= 1 << b;
  }
  return mods;
}

static void
check_against_pytorch (const Heldout *h, const Outputs *o, guint m)
{
  gsize fk, n_pred = 0;
  guint i;
  gfloat worst = 0;

  for (fk = 0; fk < (gsize)h->n_frames * h->n_tracks; fk++) {
    guint f = fk / h->n_tracks, k = fk % h->n_tracks;

    if (!h->has[fk * N_BR]) {
      fail_if (o->got[fk],
          "frame %u track %u: predictions without image "
          "feature",
          f, k + 1);
      continue;
    }
    fail_unless (o->got[fk], "frame %u track %u: no predictions", f, k + 1);
    n_pred++;
    fail_unless_equals_int (o->mods[fk], clip_modalities (h, m == 0, f, k));
    for (i = 0; i < N_AU; i++) {
      gfloat d = fabsf (o->au[fk * N_AU + i] - h->ref_au[m][fk * N_AU + i]);

      worst = MAX (worst, d);
      fail_unless (d <= TOL, "frame %u track %u AU %u: %g, PyTorch %g", f,
          k + 1, i, o->au[fk * N_AU + i], h->ref_au[m][fk * N_AU + i]);
    }
    for (i = 0; i < N_EXPR; i++) {
      gfloat d
          = fabsf (o->expr[fk * N_EXPR + i] - h->ref_expr[m][fk * N_EXPR + i]);

      worst = MAX (worst, d);
      fail_unless (d <= TOL, "frame %u track %u expr %u: %g, PyTorch %g", f,
          k + 1, i, o->expr[fk * N_EXPR + i], h->ref_expr[m][fk * N_EXPR + i]);
    }
    fail_unless_equals_int (o->expr_index[fk],
        affect_metrics_argmax (o->expr + fk * N_EXPR, N_EXPR));
    for (i = 0; i < 2; i++) {
      gfloat d = fabsf (o->va[fk * 2 + i] - h->ref_va[m][fk * 2 + i]);

      worst = MAX (worst, d);
      fail_unless (d <= TOL, "frame %u track %u va %u: %g, PyTorch %g", f,
          k + 1, i, o->va[fk * 2 + i], h->ref_va[m][fk * 2 + i]);
    }
  }
  fail_unless (n_pred > h->n_frames, "too few predictions to compare");
  g_print ("%s: %" G_GSIZE_FORMAT " predictions equal PyTorch's, max |d| = "
           "%.2g\n",
      m == 0 ? "centred" : "causal", n_pred, worst);
}

GST_START_TEST (test_centred_matches_pytorch)
{
  Heldout *h = heldout_load ();
  Outputs *o = run_stream (h, "centred");

  check_against_pytorch (h, o, 0);
  outputs_free (o);
  heldout_free (h);
}

GST_END_TEST;

GST_START_TEST (test_causal_matches_pytorch)
{
  Heldout *h = heldout_load ();
  Outputs *o = run_stream (h, "causal");

  check_against_pytorch (h, o, 1);
  outputs_free (o);
  heldout_free (h);
}

GST_END_TEST;

/* The predictions and labels of the frames that got predictions, as flat
 * arrays for affect-metrics.h. */
typedef struct {
  gsize n;
  gint *au_label, *expr_label;
  gfloat *va_label;
  gfloat *au;
  gint *expr;
  gfloat *va;
} Flat;

static Flat *
flatten (const Heldout *h, const Outputs *o)
{
  gsize fk, total = (gsize)h->n_frames * h->n_tracks;
  Flat *fl = g_new0 (Flat, 1);

  fl->au_label = g_new (gint, total * N_AU);
  fl->expr_label = g_new (gint, total);
  fl->va_label = g_new (gfloat, total * 2);
  fl->au = g_new (gfloat, total * N_AU);
  fl->expr = g_new (gint, total);
  fl->va = g_new (gfloat, total * 2);
  for (fk = 0; fk < total; fk++) {
    gsize n = fl->n;

    if (!o->got[fk])
      continue;
    memcpy (
        fl->au_label + n * N_AU, h->au_label + fk * N_AU, N_AU * sizeof (gint));
    fl->expr_label[n] = h->expr_label[fk];
    memcpy (fl->va_label + n * 2, h->va_label + fk * 2, 2 * sizeof (gfloat));
    memcpy (fl->au + n * N_AU, o->au + fk * N_AU, N_AU * sizeof (gfloat));
    fl->expr[n] = affect_metrics_argmax (o->expr + fk * N_EXPR, N_EXPR);
    memcpy (fl->va + n * 2, o->va + fk * 2, 2 * sizeof (gfloat));
    fl->n++;
  }
  return fl;
}

static void
flat_free (Flat *fl)
{
  g_free (fl->au_label);
  g_free (fl->expr_label);
  g_free (fl->va_label);
  g_free (fl->au);
  g_free (fl->expr);
  g_free (fl->va);
  g_free (fl);
}

typedef struct {
  double au_f1, expr_f1, ccc_mean, total;
} Scores;

static Scores
score (const Flat *fl, const gfloat *au, const gint *expr, const gfloat *va)
{
  Scores s;

  s.au_f1 = affect_metrics_au_f1 (
      fl->au_label, au, fl->n, N_AU, AFFECT_METRICS_AU_THRESHOLD, NULL);
  s.expr_f1
      = affect_metrics_expr_f1 (fl->expr_label, expr, fl->n, N_EXPR, NULL);
  affect_metrics_va_ccc (fl->va_label, va, fl->n, NULL, NULL, &s.ccc_mean);
  s.total = affect_metrics_total (s.au_f1, s.expr_f1, s.ccc_mean);
  return s;
}

/* Chance levels: the best of the constant predictors (every AU active,
 * every AU inactive; the majority class; constant valence/arousal) and of
 * the predictions @fl shuffled over the frames (a fixed permutation), each
 * scored with the same metric code. */
static Scores
chance (const Flat *fl)
{
  gsize n = fl->n, i;
  gfloat *ones = g_new (gfloat, n * N_AU), *zeros = g_new0 (gfloat, n * N_AU);
  gfloat *va_const = g_new (gfloat, n * 2);
  gfloat *au_sh = g_new (gfloat, n * N_AU), *va_sh = g_new (gfloat, n * 2);
  gint *expr_const = g_new (gint, n), *expr_sh = g_new (gint, n);
  gsize *perm = g_new (gsize, n);
  gsize counts[N_EXPR] = { 0 };
  GRand *rand = g_rand_new_with_seed (20261129);
  gint major = 0, c;
  Scores s, t;

  for (i = 0; i < n * N_AU; i++)
    ones[i] = 1.0f;
  for (i = 0; i < n; i++) {
    if (fl->expr_label[i] >= 0 && fl->expr_label[i] < N_EXPR)
      counts[fl->expr_label[i]]++;
    va_const[2 * i] = 0.1f;
    va_const[2 * i + 1] = -0.1f;
  }
  for (c = 1; c < N_EXPR; c++)
    if (counts[c] > counts[major])
      major = c;
  for (i = 0; i < n; i++)
    expr_const[i] = major;
  /* Fisher-Yates */
  for (i = 0; i < n; i++)
    perm[i] = i;
  for (i = n - 1; i > 0; i--) {
    gsize j = g_rand_int_range (rand, 0, i + 1), tmp = perm[i];

    perm[i] = perm[j];
    perm[j] = tmp;
  }
  for (i = 0; i < n; i++) {
    memcpy (au_sh + i * N_AU, fl->au + perm[i] * N_AU, N_AU * sizeof (gfloat));
    expr_sh[i] = fl->expr[perm[i]];
    va_sh[2 * i] = fl->va[2 * perm[i]];
    va_sh[2 * i + 1] = fl->va[2 * perm[i] + 1];
  }

  s = score (fl, ones, expr_const, va_const);
  t = score (fl, zeros, expr_const, va_const);
  s.au_f1 = MAX (s.au_f1, t.au_f1);
  g_print ("chance, constant:  AU F1 %.3f  EXPR F1 %.3f  CCC %.3f\n", s.au_f1,
      s.expr_f1, s.ccc_mean);
  t = score (fl, au_sh, expr_sh, va_sh);
  g_print ("chance, shuffled:  AU F1 %.3f  EXPR F1 %.3f  CCC %.3f\n", t.au_f1,
      t.expr_f1, t.ccc_mean);
  s.au_f1 = MAX (s.au_f1, t.au_f1);
  s.expr_f1 = MAX (s.expr_f1, t.expr_f1);
  s.ccc_mean = MAX (s.ccc_mean, t.ccc_mean);
  s.total = affect_metrics_total (s.au_f1, s.expr_f1, s.ccc_mean);

  g_rand_free (rand);
  g_free (ones);
  g_free (zeros);
  g_free (va_const);
  g_free (au_sh);
  g_free (va_sh);
  g_free (expr_const);
  g_free (expr_sh);
  g_free (perm);
  return s;
}

static Scores
stream_scores (const Heldout *h, const gchar *mode, Scores *chance_out)
{
  Outputs *o = run_stream (h, mode);
  Flat *fl = flatten (h, o);
  Scores s = score (fl, fl->au, fl->expr, fl->va);

  g_print ("%s (%" G_GSIZE_FORMAT " predictions): AU F1 %.3f  EXPR F1 %.3f  "
           "CCC %.3f  total %.3f\n",
      mode, fl->n, s.au_f1, s.expr_f1, s.ccc_mean, s.total);
  if (chance_out)
    *chance_out = chance (fl);
  flat_free (fl);
  outputs_free (o);
  return s;
}

GST_START_TEST (test_metrics_beat_chance)
{
  Heldout *h = heldout_load ();
  Scores ch, s = stream_scores (h, "centred", &ch);

  fail_unless (s.au_f1 >= ch.au_f1 + AU_MARGIN,
      "AU F1 %.3f not above chance %.3f + %.2f", s.au_f1, ch.au_f1, AU_MARGIN);
  fail_unless (s.expr_f1 >= ch.expr_f1 + EXPR_MARGIN,
      "EXPR F1 %.3f not above chance %.3f + %.2f", s.expr_f1, ch.expr_f1,
      EXPR_MARGIN);
  fail_unless (s.ccc_mean >= ch.ccc_mean + CCC_MIN,
      "mean CCC %.3f not above chance %.3f + %.2f", s.ccc_mean, ch.ccc_mean,
      CCC_MIN);
  heldout_free (h);
}

GST_END_TEST;

GST_START_TEST (test_causal_misaligned)
{
  Heldout *h = heldout_load ();
  Scores centred = stream_scores (h, "centred", NULL);
  Scores causal = stream_scores (h, "causal", NULL);

  fail_unless (causal.total <= centred.total - CAUSAL_DROP,
      "causal total %.3f not clearly below centred %.3f", causal.total,
      centred.total);
  heldout_free (h);
}

GST_END_TEST;

static Suite *
e2e_fuse_suite (void)
{
  Suite *s = suite_create ("e2e_fuse");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 300);
  tcase_add_test (tc, test_centred_matches_pytorch);
  tcase_add_test (tc, test_causal_matches_pytorch);
  tcase_add_test (tc, test_metrics_beat_chance);
  tcase_add_test (tc, test_causal_misaligned);
  return s;
}

GST_CHECK_MAIN (e2e_fuse);
