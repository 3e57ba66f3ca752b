/* gst-affect — tests/models
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared networks and cross-stream batching (models/engine/affect-shared.h)
 * on the cpu backend, with the landmark, expression and recognition
 * networks:
 *
 * - users with the same settings share one loaded network (the cache's
 *   counters), a symbolic link to the file too; another thread count,
 *   another kind, a copy of the file or a released entry do not; threads
 *   asking at once load it once;
 * - the outputs of a shared network equal those of a network of one's own,
 *   bit for bit, unbatched and batched with other threads' inputs (the
 *   batches are made deterministic: a batch closes when every holder has
 *   a request queued, and the window is far longer than the test);
 * - the same for the tiny face (at input size 416) and SSD detectors on the
 *   demo photos: batched detections equal those found alone;
 * - a holder that releases the entry wakes the leader waiting for it;
 * - the shared-only kinds (tcase "shared-only", light enough for valgrind
 *   with CK_RUN_CASE=shared-only): the fusion network (the golden model
 *   of tests/golden/fusion) and the BERT word model are shared by users of
 *   the same settings (holders 2), not across thread counts; the BERT
 *   entry is keyed on its folder's model.safetensors; affect_shared_net_
 *   run() refuses them; two threads running one shared fusion network (or
 *   BERT) at once get, bit for bit, the outputs of a sequential run on a
 *   one-thread network of their own.
 *
 * The networks need the face models (affect-fetch-models) and the word
 * model (affect-fetch-word-model): without them the tests are skipped,
 * unless AFFECT_REQUIRE_MODELS=1.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "affect-bert.h"
#include "affect-engine.h"
#include "affect-expression.h"
#include "affect-fusion.h"
#include "affect-landmarks.h"
#include "affect-recognition.h"
#include "affect-ssd.h"
#include "affect-tinyface.h"
#include "test-tools.h"

#define LANDMARK_MODEL "face_landmark_68_model"
#define EXPRESSION_MODEL "face_expression_model"
#define RECOGNITION_MODEL "face_recognition_model"

/* A window no test may wait out: batches close because every holder has a
 * request in (or a holder left), never because the window ends. */
#define FOREVER_US (G_GINT64_CONSTANT (3600) * G_USEC_PER_SEC)

#define N_STREAMS 4

static gchar *
model_path (const gchar *name)
{
  GError *err = NULL;
  gchar *path = affect_model_find (name, NULL, &err);

  if (path == NULL) {
    ck_assert_msg (g_strcmp0 (g_getenv ("AFFECT_REQUIRE_MODELS"), "1") != 0,
        "%s: %s (AFFECT_REQUIRE_MODELS=1)", name, err->message);
    g_printerr ("SKIP: %s; run affect-fetch-models\n", err->message);
    g_error_free (err);
  }
  return path;
}

/* ---- frames: random pixels, a few boxes each ---------------------------- */

#define FRAME_W 173
#define FRAME_H 131
#define MAX_FACES 3

typedef struct {
  guint8 *rgb;
  AffectImage img;
  AffectBox boxes[MAX_FACES];
  int n;
} Frame;

static void
frame_init (Frame *f, guint32 seed, int n)
{
  GRand *rand = g_rand_new_with_seed (seed);
  int i;

  f->rgb = g_malloc (FRAME_W * FRAME_H * 3);
  for (i = 0; i < FRAME_W * FRAME_H * 3; i++)
    f->rgb[i] = (guint8)g_rand_int_range (rand, 0, 256);
  f->img.width = FRAME_W;
  f->img.height = FRAME_H;
  f->img.stride = FRAME_W * 3;
  f->img.data = f->rgb;
  f->n = n;
  for (i = 0; i < n; i++) {
    f->boxes[i].x = (float)g_rand_double_range (rand, 0, 80);
    f->boxes[i].y = (float)g_rand_double_range (rand, 0, 50);
    f->boxes[i].width = (float)g_rand_double_range (rand, 30, 90);
    f->boxes[i].height = (float)g_rand_double_range (rand, 30, 80);
  }
  g_rand_free (rand);
}

static void
frame_clear (Frame *f)
{
  g_free (f->rgb);
}

/* ---- one call of a network: alone (a network of its own) or shared ----- */

typedef enum { NET_LANDMARKS, NET_EXPRESSION, NET_RECOGNITION } NetKind;

typedef struct {
  float points[MAX_FACES][68][2];
  float out[MAX_FACES][AFFECT_RECOGNITION_N_DESCRIPTOR];
  float features[MAX_FACES][256];
  int crops[MAX_FACES][4];
} Result;

static const gchar *
kind_model (NetKind kind)
{
  return kind == NET_LANDMARKS    ? LANDMARK_MODEL
         : kind == NET_EXPRESSION ? EXPRESSION_MODEL
                                  : RECOGNITION_MODEL;
}

static const AffectSharedNetClass *
kind_class (NetKind kind)
{
  return kind == NET_LANDMARKS    ? affect_landmark_net_class ()
         : kind == NET_EXPRESSION ? affect_expression_net_class ()
                                  : affect_recognition_net_class ();
}

/* The reference: the network loaded on a backend of its own, unbatched. */
static void
run_alone (NetKind kind, const gchar *path, const Frame *f,
    gboolean with_features, Result *r)
{
  AffectBackend *be = affect_backend_cpu_new (1);
  GError *err = NULL;
  gboolean ok = FALSE;

  memset (r, 0, sizeof (*r));
  if (kind == NET_LANDMARKS) {
    AffectLandmarkNet *net = affect_landmark_net_new (be, path, &err);

    ck_assert_msg (net != NULL, "%s", err ? err->message : "");
    ok = affect_landmark_net_run_full (
        net, &f->img, f->boxes, f->n, r->points, r->crops, &err);
    affect_landmark_net_free (net);
  } else if (kind == NET_EXPRESSION) {
    AffectExpressionNet *net = affect_expression_net_new (be, path, &err);
    float probs[MAX_FACES * AFFECT_EXPRESSION_N_LABELS];
    int i;

    ck_assert_msg (net != NULL, "%s", err ? err->message : "");
    ok = affect_expression_net_run_full (net, &f->img, f->boxes, f->n, probs,
        with_features ? &r->features[0][0] : NULL, r->crops, &err);
    for (i = 0; i < f->n; i++)
      memcpy (r->out[i], probs + i * AFFECT_EXPRESSION_N_LABELS,
          sizeof (float) * AFFECT_EXPRESSION_N_LABELS);
    affect_expression_net_free (net);
  } else {
    AffectRecognitionNet *net = affect_recognition_net_new (be, path, &err);

    ck_assert_msg (net != NULL, "%s", err ? err->message : "");
    ok = affect_recognition_net_run_full (net, &f->img, f->boxes, f->n,
        &r->out[0][0], with_features ? &r->features[0][0] : NULL, r->crops,
        &err);
    affect_recognition_net_free (net);
  }
  ck_assert_msg (ok, "%s", err ? err->message : "");
  affect_backend_unref (be);
}

static void
run_shared (NetKind kind, AffectSharedNet *shared, gint64 window_us,
    const Frame *f, gboolean with_features, Result *r)
{
  GError *err = NULL;
  gboolean ok;

  memset (r, 0, sizeof (*r));
  if (kind == NET_LANDMARKS) {
    ok = affect_landmark_net_run_shared (
        shared, window_us, &f->img, f->boxes, f->n, r->points, r->crops, &err);
  } else if (kind == NET_EXPRESSION) {
    float probs[MAX_FACES * AFFECT_EXPRESSION_N_LABELS];
    int i;

    ok = affect_expression_net_run_shared (shared, window_us, &f->img, f->boxes,
        f->n, probs, with_features ? &r->features[0][0] : NULL, r->crops, &err);
    for (i = 0; i < f->n; i++)
      memcpy (r->out[i], probs + i * AFFECT_EXPRESSION_N_LABELS,
          sizeof (float) * AFFECT_EXPRESSION_N_LABELS);
  } else {
    ok = affect_recognition_net_run_shared (shared, window_us, &f->img,
        f->boxes, f->n, &r->out[0][0],
        with_features ? &r->features[0][0] : NULL, r->crops, &err);
  }
  ck_assert_msg (ok, "%s", err ? err->message : "");
}

/* Bit for bit (memcmp: -0.0 and NaN payloads count). */
static void
assert_same (const Result *a, const Result *b, const gchar *what)
{
  ck_assert_msg (memcmp (a, b, sizeof (*a)) == 0,
      "%s: results differ from the network run alone", what);
}

/* ---- sharing ------------------------------------------------------------ */

START_TEST (test_share_same_settings)
{
  gchar *lm = model_path (LANDMARK_MODEL);
  gchar *ex = model_path (EXPRESSION_MODEL);
  gchar *dir, *link, *copy, *contents;
  AffectSharedNet *a, *b, *c, *d, *e, *f, *g;
  AffectSharedNetStats st;
  GError *err = NULL;
  gsize len;
  guint loads, live;

  if (lm == NULL || ex == NULL) {
    g_free (lm);
    g_free (ex);
    return;
  }
  loads = affect_shared_net_count_loads ();
  live = affect_shared_net_count_live ();

  a = affect_shared_net_acquire (
      affect_landmark_net_class (), lm, "cpu", 0, 1, &err);
  ck_assert_msg (a != NULL, "%s", err ? err->message : "");
  ck_assert_uint_eq (affect_shared_net_count_loads (), loads + 1);
  ck_assert_uint_eq (affect_shared_net_count_live (), live + 1);
  ck_assert_str_eq (
      affect_backend_get_name (affect_shared_net_get_backend (a)), "cpu");
  ck_assert_int_eq (affect_shared_net_get_n_threads (a), 1);

  /* same settings: the same network, nothing loaded */
  b = affect_shared_net_acquire (
      affect_landmark_net_class (), lm, "cpu", 0, 1, &err);
  ck_assert (b == a);
  ck_assert (affect_shared_net_get_net (b) == affect_shared_net_get_net (a));
  /* "auto" is what it resolves to (cpu here, or a GPU backend: then it is
   * another entry, loaded once more) */
  c = affect_shared_net_acquire (
      affect_landmark_net_class (), lm, "auto", 0, 1, &err);
  ck_assert (c != NULL);
  if (g_strcmp0 (
          affect_backend_get_name (affect_shared_net_get_backend (c)), "cpu")
      == 0)
    ck_assert (c == a);
  /* a symbolic link to the file is the same file */
  dir = g_dir_make_tmp ("affect-shared-XXXXXX", &err);
  ck_assert_msg (dir != NULL, "%s", err ? err->message : "");
  link = g_build_filename (dir, "link.safetensors", NULL);
  ck_assert_int_eq (symlink (lm, link), 0);
  d = affect_shared_net_acquire (
      affect_landmark_net_class (), link, "cpu", 0, 1, &err);
  ck_assert (d == a);
  affect_shared_net_get_stats (a, &st);
  ck_assert_int_eq (st.holders, c == a ? 4 : 3);

  /* another thread count: another backend, loaded again */
  e = affect_shared_net_acquire (
      affect_landmark_net_class (), lm, "cpu", 0, 2, &err);
  ck_assert (e != NULL && e != a);
  ck_assert_int_eq (affect_shared_net_get_n_threads (e), 2);
  ck_assert (
      affect_shared_net_get_backend (e) != affect_shared_net_get_backend (a));
  /* another network */
  f = affect_shared_net_acquire (
      affect_expression_net_class (), ex, "cpu", 0, 1, &err);
  ck_assert (f != NULL && f != a && f != e);
  /* a copy of the file is another file */
  copy = g_build_filename (dir, "copy.safetensors", NULL);
  ck_assert (g_file_get_contents (lm, &contents, &len, NULL));
  ck_assert (g_file_set_contents (copy, contents, len, NULL));
  g_free (contents);
  g = affect_shared_net_acquire (
      affect_landmark_net_class (), copy, "cpu", 0, 1, &err);
  ck_assert (g != NULL && g != a && g != e);
  ck_assert_uint_eq (
      affect_shared_net_count_loads (), loads + (c == a ? 4 : 5));
  ck_assert_uint_eq (affect_shared_net_count_live (), live + (c == a ? 4 : 5));

  /* errors: a missing file, an unknown backend, a file of another model */
  ck_assert (affect_shared_net_acquire (affect_landmark_net_class (),
                 "/nonexistent/x.safetensors", "cpu", 0, 1, &err)
             == NULL);
  ck_assert (err != NULL && err->domain == G_FILE_ERROR);
  g_clear_error (&err);
  ck_assert (affect_shared_net_acquire (
                 affect_landmark_net_class (), lm, "nonesuch", 0, 1, &err)
             == NULL);
  ck_assert (err != NULL && err->domain == AFFECT_BACKEND_ERROR);
  g_clear_error (&err);
  ck_assert (affect_shared_net_acquire (
                 affect_recognition_net_class (), lm, "cpu", 0, 1, &err)
             == NULL);
  ck_assert (err != NULL);
  g_clear_error (&err);

  /* the last release frees; the next acquire loads again */
  affect_shared_net_release (g);
  affect_shared_net_release (f);
  affect_shared_net_release (e);
  affect_shared_net_release (d);
  affect_shared_net_release (c);
  affect_shared_net_release (b);
  ck_assert_uint_eq (affect_shared_net_count_live (), live + 1);
  affect_shared_net_release (a);
  ck_assert_uint_eq (affect_shared_net_count_live (), live);
  loads = affect_shared_net_count_loads ();
  a = affect_shared_net_acquire (
      affect_landmark_net_class (), lm, "cpu", 0, 1, &err);
  ck_assert (a != NULL);
  ck_assert_uint_eq (affect_shared_net_count_loads (), loads + 1);
  affect_shared_net_release (a);

  g_unlink (copy);
  g_unlink (link);
  g_rmdir (dir);
  g_free (copy);
  g_free (link);
  g_free (dir);
  g_free (lm);
  g_free (ex);
}

END_TEST;

typedef struct {
  const gchar *path;
  AffectSharedNet *got;
} Acquirer;

static gpointer
acquire_thread (gpointer data)
{
  Acquirer *a = data;

  a->got = affect_shared_net_acquire (
      affect_expression_net_class (), a->path, "cpu", 0, 1, NULL);
  return NULL;
}

/* Threads asking for one network at once: loaded once, one entry. */
START_TEST (test_concurrent_acquire)
{
  gchar *path = model_path (EXPRESSION_MODEL);
  Acquirer acq[N_STREAMS];
  GThread *threads[N_STREAMS];
  guint loads, live;
  int i;

  if (path == NULL)
    return;
  loads = affect_shared_net_count_loads ();
  live = affect_shared_net_count_live ();
  for (i = 0; i < N_STREAMS; i++) {
    acq[i].path = path;
    threads[i] = g_thread_new ("acquire", acquire_thread, &acq[i]);
  }
  for (i = 0; i < N_STREAMS; i++)
    g_thread_join (threads[i]);
  ck_assert_uint_eq (affect_shared_net_count_loads (), loads + 1);
  ck_assert_uint_eq (affect_shared_net_count_live (), live + 1);
  for (i = 0; i < N_STREAMS; i++)
    ck_assert (acq[i].got != NULL && acq[i].got == acq[0].got);
  ck_assert_int_eq (affect_shared_net_get_holders (acq[0].got), N_STREAMS);
  for (i = 0; i < N_STREAMS; i++)
    affect_shared_net_release (acq[i].got);
  ck_assert_uint_eq (affect_shared_net_count_live (), live);
  g_free (path);
}

END_TEST;

/* Unbatched, a shared network gives what a network of one's own gives. */
START_TEST (test_shared_outputs_unchanged)
{
  NetKind kind = (NetKind)_i;
  gchar *path = model_path (kind_model (kind));
  AffectSharedNet *shared;
  Result alone, shared_r;
  Frame f;

  if (path == NULL)
    return;
  frame_init (&f, 7 + _i, MAX_FACES);
  shared
      = affect_shared_net_acquire (kind_class (kind), path, "cpu", 0, 2, NULL);
  ck_assert (shared != NULL);

  run_alone (kind, path, &f, TRUE, &alone);
  run_shared (kind, shared, 0, &f, TRUE, &shared_r);
  assert_same (&alone, &shared_r, kind_model (kind));
  if (kind != NET_LANDMARKS) {
    run_alone (kind, path, &f, FALSE, &alone);
    run_shared (kind, shared, 0, &f, FALSE, &shared_r);
    assert_same (&alone, &shared_r, "without features");
  }

  affect_shared_net_release (shared);
  frame_clear (&f);
  g_free (path);
}

END_TEST;

/* ---- batching ----------------------------------------------------------- */

#define N_ROUNDS 3

typedef struct {
  NetKind kind;
  AffectSharedNet *shared; /* this stream's reference */
  gint64 window_us;
  Frame frames[N_ROUNDS];
  gboolean with_features;
  Result results[N_ROUNDS];
} Stream;

static gpointer
stream_thread (gpointer data)
{
  Stream *s = data;
  int r;

  for (r = 0; r < N_ROUNDS; r++)
    run_shared (s->kind, s->shared, s->window_us, &s->frames[r],
        s->with_features, &s->results[r]);
  return NULL;
}

/* N_STREAMS threads, each a holder of the entry, call N_ROUNDS times with
 * different frames and face counts; every round is one batch of all of
 * them (the batch closes when every holder is in). Each result must equal
 * the network run alone on that frame. */
static void
check_batched (NetKind kind, gint64 window_us, gboolean expect_batches)
{
  gchar *path = model_path (kind_model (kind));
  Stream streams[N_STREAMS];
  GThread *threads[N_STREAMS];
  AffectSharedNetStats before, after;
  int i, r;

  if (path == NULL)
    return;
  for (i = 0; i < N_STREAMS; i++) {
    Stream *s = &streams[i];

    s->kind = kind;
    s->window_us = window_us;
    /* stream 0 asks for no features: mixed requests in one batch */
    s->with_features = i != 0;
    s->shared = affect_shared_net_acquire (
        kind_class (kind), path, "cpu", 0, 1, NULL);
    ck_assert (s->shared != NULL && s->shared == streams[0].shared);
    for (r = 0; r < N_ROUNDS; r++)
      frame_init (&s->frames[r], 1000 * i + r, 1 + (i + r) % MAX_FACES);
  }
  affect_shared_net_get_stats (streams[0].shared, &before);
  ck_assert_int_eq (before.holders, N_STREAMS);

  for (i = 0; i < N_STREAMS; i++)
    threads[i] = g_thread_new ("stream", stream_thread, &streams[i]);
  for (i = 0; i < N_STREAMS; i++)
    g_thread_join (threads[i]);

  affect_shared_net_get_stats (streams[0].shared, &after);
  ck_assert_uint_eq (after.requests - before.requests, N_STREAMS * N_ROUNDS);
  if (expect_batches) {
    ck_assert_uint_eq (after.batches - before.batches, N_ROUNDS);
    ck_assert_uint_eq (after.max_requests, N_STREAMS);
  } else {
    ck_assert_uint_eq (after.batches - before.batches, N_STREAMS * N_ROUNDS);
  }

  for (i = 0; i < N_STREAMS; i++) {
    Stream *s = &streams[i];

    for (r = 0; r < N_ROUNDS; r++) {
      Result alone;
      gchar *what = g_strdup_printf ("%s, stream %d, round %d (%d faces)",
          kind_model (kind), i, r, s->frames[r].n);

      run_alone (kind, path, &s->frames[r], s->with_features, &alone);
      assert_same (&alone, &s->results[r], what);
      g_free (what);
      frame_clear (&s->frames[r]);
    }
  }
  for (i = 0; i < N_STREAMS; i++)
    affect_shared_net_release (streams[i].shared);
  g_free (path);
}

START_TEST (test_batched_bit_identical)
{
  check_batched ((NetKind)_i, FOREVER_US, TRUE);
}

END_TEST;

START_TEST (test_unbatched_threads)
{
  check_batched (NET_LANDMARKS, 0, FALSE);
}

END_TEST;

typedef struct {
  AffectSharedNet *shared;
  Frame *frame;
  Result result;
} Leader;

static gpointer
leader_thread (gpointer data)
{
  Leader *l = data;

  run_shared (
      NET_LANDMARKS, l->shared, FOREVER_US, l->frame, FALSE, &l->result);
  return NULL;
}

/* Two holders; one calls and waits for the other, which shuts down
 * instead: its release lets the batch run at once (otherwise this test
 * would hang for an hour and time out). */
START_TEST (test_release_wakes_leader)
{
  gchar *path = model_path (LANDMARK_MODEL);
  AffectSharedNet *a, *b;
  AffectSharedNetStats st, before;
  Leader leader;
  Result alone;
  GThread *t;
  Frame f;

  if (path == NULL)
    return;
  frame_init (&f, 99, 2);
  a = affect_shared_net_acquire (
      affect_landmark_net_class (), path, "cpu", 0, 1, NULL);
  b = affect_shared_net_acquire (
      affect_landmark_net_class (), path, "cpu", 0, 1, NULL);
  ck_assert (a != NULL && a == b);
  affect_shared_net_get_stats (a, &before);

  leader.shared = a;
  leader.frame = &f;
  t = g_thread_new ("leader", leader_thread, &leader);
  /* until its request is queued */
  do {
    g_usleep (1000);
    affect_shared_net_get_stats (a, &st);
  } while (st.requests < before.requests + 1);
  affect_shared_net_release (b);
  g_thread_join (t);

  affect_shared_net_get_stats (a, &st);
  ck_assert_int_eq (st.holders, 1);
  ck_assert_uint_eq (st.batches, before.batches + 1);
  run_alone (NET_LANDMARKS, path, &f, FALSE, &alone);
  assert_same (&alone, &leader.result, "after the other holder left");

  affect_shared_net_release (a);
  frame_clear (&f);
  g_free (path);
}

END_TEST;

/* ---- detectors ---------------------------------------------------------- */

#define TINY_MODEL "tiny_face_detector_model"
#define SSD_MODEL "ssd_mobilenetv1_model"
#define TINY_SIZE 416
#define MAX_DETS 64

typedef struct {
  gboolean ssd;
  AffectSharedNet *shared;
  AffectImage img;
  guint8 *rgb;
  AffectDetection dets[N_ROUNDS][MAX_DETS];
  int n_dets[N_ROUNDS];
} DetStream;

static int
detect_alone (gboolean ssd, const gchar *path, const AffectImage *img,
    AffectDetection *dets)
{
  AffectBackend *be = affect_backend_cpu_new (1);
  GError *err = NULL;
  int n;

  memset (dets, 0, sizeof (AffectDetection) * MAX_DETS);
  if (ssd) {
    AffectSsd *net = affect_ssd_new (be, path, &err);

    ck_assert_msg (net != NULL, "%s", err ? err->message : "");
    n = affect_ssd_detect (net, img, 0.05f, 100, dets, MAX_DETS, &err);
    affect_ssd_free (net);
  } else {
    AffectTinyFace *net = affect_tiny_face_new (be, path, &err);

    ck_assert_msg (net != NULL, "%s", err ? err->message : "");
    n = affect_tiny_face_detect (
        net, img, TINY_SIZE, 0.05f, dets, MAX_DETS, &err);
    affect_tiny_face_free (net);
  }
  ck_assert_msg (n >= 0, "%s", err ? err->message : "");
  affect_backend_unref (be);
  return n;
}

static gpointer
det_thread (gpointer data)
{
  DetStream *s = data;
  GError *err = NULL;
  int r;

  for (r = 0; r < N_ROUNDS; r++) {
    memset (s->dets[r], 0, sizeof (s->dets[r]));
    s->n_dets[r]
        = s->ssd ? affect_ssd_detect_shared (s->shared, FOREVER_US, &s->img,
              0.05f, 100, s->dets[r], MAX_DETS, &err)
                 : affect_tiny_face_detect_shared (s->shared, FOREVER_US,
                     &s->img, TINY_SIZE, 0.05f, s->dets[r], MAX_DETS, &err);
    ck_assert_msg (s->n_dets[r] >= 0, "%s", err ? err->message : "");
  }
  return NULL;
}

/* Four threads detect on four photos (of different sizes), N_ROUNDS times,
 * batched; each equals the detector run alone on that photo. */
START_TEST (test_detectors_batched)
{
  gboolean ssd = _i == 1;
  gchar *path = model_path (ssd ? SSD_MODEL : TINY_MODEL);
  const AffectSharedNetClass *klass
      = ssd ? affect_ssd_class () : affect_tiny_face_class (TINY_SIZE);
  DetStream streams[N_STREAMS];
  GThread *threads[N_STREAMS];
  AffectSharedNetStats before, after;
  gchar *cache = affect_cache_dir ();
  int i, r, total = 0;

  if (path == NULL) {
    g_free (cache);
    return;
  }
  for (i = 0; i < N_STREAMS; i++) {
    gchar *name = g_strdup_printf ("sample%d.png", i + 1);
    gchar *png = g_build_filename (cache, "test-inputs", name, NULL);
    DetStream *s = &streams[i];
    GError *err = NULL;
    int w, h;

    g_free (name);
    if (!g_file_test (png, G_FILE_TEST_EXISTS)) {
      ck_assert_msg (g_strcmp0 (g_getenv ("AFFECT_REQUIRE_MODELS"), "1") != 0,
          "%s missing (AFFECT_REQUIRE_MODELS=1)", png);
      g_printerr ("SKIP: %s missing; run affect-fetch-models\n", png);
      g_free (png);
      while (--i >= 0) {
        g_free (streams[i].rgb);
        affect_shared_net_release (streams[i].shared);
      }
      g_free (cache);
      g_free (path);
      return;
    }
    ck_assert_msg (affect_image_load_png (png, &s->rgb, &w, &h, &err), "%s",
        err ? err->message : "");
    g_free (png);
    s->img.width = w;
    s->img.height = h;
    s->img.stride = 3 * w;
    s->img.data = s->rgb;
    s->ssd = ssd;
    s->shared = affect_shared_net_acquire (klass, path, "cpu", 0, 1, NULL);
    ck_assert (s->shared != NULL && s->shared == streams[0].shared);
  }
  affect_shared_net_get_stats (streams[0].shared, &before);

  for (i = 0; i < N_STREAMS; i++)
    threads[i] = g_thread_new ("detect", det_thread, &streams[i]);
  for (i = 0; i < N_STREAMS; i++)
    g_thread_join (threads[i]);

  affect_shared_net_get_stats (streams[0].shared, &after);
  ck_assert_uint_eq (after.batches - before.batches, N_ROUNDS);
  ck_assert_uint_eq (after.max_requests, N_STREAMS);

  for (i = 0; i < N_STREAMS; i++) {
    AffectDetection alone[MAX_DETS];
    int n = detect_alone (ssd, path, &streams[i].img, alone);

    for (r = 0; r < N_ROUNDS; r++) {
      ck_assert_int_eq (streams[i].n_dets[r], n);
      ck_assert_msg (memcmp (alone, streams[i].dets[r], sizeof (alone)) == 0,
          "%s, photo %d, round %d: batched detections differ from alone",
          ssd ? "ssd" : "tiny", i + 1, r);
    }
    total += n;
    g_free (streams[i].rgb);
    affect_shared_net_release (streams[i].shared);
  }
  ck_assert_int_gt (total, 0); /* the photos have faces */
  g_free (cache);
  g_free (path);
}

END_TEST;

/* ---- shared-only kinds: the fusion network and BERT ----------------- */

#define N_CLIPS 3
#define N_RUNS 4

static gchar *
fusion_model (void)
{
  return affect_test_golden_path ("fusion", "model-all.safetensors");
}

static gchar *
bert_dir (void)
{
  GError *err = NULL;
  gchar *dir = affect_bert_find (NULL, &err);

  if (dir == NULL) {
    ck_assert_msg (g_strcmp0 (g_getenv ("AFFECT_REQUIRE_MODELS"), "1") != 0,
        "word model: %s (AFFECT_REQUIRE_MODELS=1)", err->message);
    g_printerr ("SKIP: %s; run affect-fetch-word-model\n", err->message);
    g_error_free (err);
  }
  return dir;
}

static int n_criticals;

static void
count_critical (const gchar *domain, GLogLevelFlags level, const gchar *message,
    gpointer data)
{
  if (level & G_LOG_LEVEL_CRITICAL)
    n_criticals++;
}

/* Acquires @klass for @path twice with the same settings and once with
 * another thread count; checks the sharing and that affect_shared_net_run()
 * refuses the kind. */
static void
check_shared_only (const AffectSharedNetClass *klass, const gchar *path)
{
  AffectSharedNet *a, *b, *c;
  GError *err = NULL;
  GLogFunc saved;
  float in = 0.0f, out = 0.0f;
  guint loads = affect_shared_net_count_loads ();

  ck_assert (klass->forward == NULL);
  a = affect_shared_net_acquire (klass, path, "cpu", 0, 1, &err);
  ck_assert_msg (a != NULL, "%s: %s", klass->kind, err ? err->message : "");
  b = affect_shared_net_acquire (klass, path, "cpu", 0, 1, &err);
  ck_assert (b == a);
  ck_assert (affect_shared_net_get_net (b) == affect_shared_net_get_net (a));
  ck_assert_int_eq (affect_shared_net_get_holders (a), 2);
  ck_assert_uint_eq (affect_shared_net_count_loads (), loads + 1);
  ck_assert (affect_shared_net_get_class (a) == klass);

  /* another thread count: another entry, another network and backend */
  c = affect_shared_net_acquire (klass, path, "cpu", 0, 2, &err);
  ck_assert_msg (c != NULL, "%s", err ? err->message : "");
  ck_assert (c != a);
  ck_assert (affect_shared_net_get_net (c) != affect_shared_net_get_net (a));
  ck_assert_int_eq (affect_shared_net_get_n_threads (c), 2);
  ck_assert_int_eq (affect_shared_net_get_n_threads (a), 1);
  ck_assert_int_eq (affect_shared_net_get_holders (c), 1);
  ck_assert_uint_eq (affect_shared_net_count_loads (), loads + 2);

  /* never batched: run() refuses with a critical */
  n_criticals = 0;
  saved = g_log_set_default_handler (count_critical, NULL);
  ck_assert (!affect_shared_net_run (a, 0, &in, 1, &out, NULL, NULL));
  g_log_set_default_handler (saved, NULL);
  ck_assert_int_eq (n_criticals, 1);

  affect_shared_net_release (c);
  affect_shared_net_release (b);
  ck_assert_int_eq (affect_shared_net_get_holders (a), 1);
  affect_shared_net_release (a);
}

START_TEST (test_fusion_shared)
{
  gchar *path = fusion_model ();

  check_shared_only (affect_fusion_class (), path);
  g_free (path);
}

END_TEST;

START_TEST (test_bert_shared)
{
  gchar *dir = bert_dir (), *tmp, *link, *empty;
  AffectSharedNet *a, *b;
  GError *err = NULL;

  if (dir == NULL)
    return;
  check_shared_only (affect_bert_class (), dir);

  /* the key is the folder's weights: a link to the folder is the same
   * model; a folder without model.safetensors fails, naming that file */
  tmp = g_dir_make_tmp ("affect-shared-bert-XXXXXX", &err);
  ck_assert (tmp != NULL);
  link = g_build_filename (tmp, "link", NULL);
  ck_assert_int_eq (symlink (dir, link), 0);
  a = affect_shared_net_acquire (affect_bert_class (), dir, "cpu", 0, 1, &err);
  ck_assert_msg (a != NULL, "%s", err ? err->message : "");
  b = affect_shared_net_acquire (affect_bert_class (), link, "cpu", 0, 1, &err);
  ck_assert (b == a);
  affect_shared_net_release (b);
  affect_shared_net_release (a);
  empty = g_build_filename (tmp, "empty", NULL);
  ck_assert_int_eq (g_mkdir (empty, 0700), 0);
  a = affect_shared_net_acquire (
      affect_bert_class (), empty, "cpu", 0, 1, &err);
  ck_assert (a == NULL);
  ck_assert (err != NULL && err->domain == G_FILE_ERROR);
  ck_assert_msg (
      strstr (err->message, "model.safetensors") != NULL, "%s", err->message);
  g_clear_error (&err);
  g_rmdir (empty);
  g_unlink (link);
  g_rmdir (tmp);
  g_free (empty);
  g_free (link);
  g_free (tmp);
  g_free (dir);
}

END_TEST;

/* The inputs and outputs of one fusion run (run @r of a thread). */
typedef struct {
  float *img, *x[AFFECT_FUSION_N_BRANCHES];
  guint8 present[N_CLIPS * AFFECT_FUSION_N_BRANCHES];
  float *out[AFFECT_FUSION_N_TASKS];
} FusionRun;

static void
fusion_run_init (FusionRun *run, const AffectFusionInfo *info, guint32 seed)
{
  GRand *rand = g_rand_new_with_seed (seed);
  gsize i, n;
  int m, k;

  n = (gsize)N_CLIPS * info->d_img;
  run->img = g_new (float, n);
  for (i = 0; i < n; i++)
    run->img[i] = (float)g_rand_double_range (rand, -1, 1);
  for (m = 0; m < AFFECT_FUSION_N_BRANCHES; m++) {
    n = (gsize)N_CLIPS * info->clip_len * info->d_branch[m];
    run->x[m] = g_new (float, n);
    for (i = 0; i < n; i++)
      run->x[m][i] = (float)g_rand_double_range (rand, -1, 1);
  }
  /* a branch missing here and there (the seed decides) */
  for (i = 0; i < G_N_ELEMENTS (run->present); i++)
    run->present[i] = g_rand_int_range (rand, 0, 4) != 0;
  for (k = 0; k < AFFECT_FUSION_N_TASKS; k++)
    run->out[k] = info->has_task[k]
                      ? g_new0 (float, (gsize)N_CLIPS * info->n_out[k])
                      : NULL;
  g_rand_free (rand);
}

static void
fusion_run_clear (FusionRun *run)
{
  int m, k;

  g_free (run->img);
  for (m = 0; m < AFFECT_FUSION_N_BRANCHES; m++)
    g_free (run->x[m]);
  for (k = 0; k < AFFECT_FUSION_N_TASKS; k++)
    g_free (run->out[k]);
}

static gboolean
fusion_run (const AffectFusion *fusion, FusionRun *run)
{
  return affect_fusion_run (fusion, N_CLIPS,
      affect_fusion_get_info (fusion)->clip_len, run->img, run->x[0], run->x[1],
      run->x[2], run->present, run->out[0], run->out[1], run->out[2], NULL);
}

typedef struct {
  int id; /* 0 or 1 */
  AffectSharedNet *shared;
  GMutex *lock; /* the threads start together */
  GCond *cond;
  int *ready;
  FusionRun runs[N_RUNS];
  AffectBertText *texts[N_RUNS];
  gboolean ok;
} Worker;

static const gchar *const sentences[] = {
  "I am so happy to see you again.",
  "This is the worst day of my life, nothing works.",
  "Well, I don't know; maybe we could try it tomorrow?",
  "Hello.",
  "The quick brown fox jumps over the lazy dog near the riverbank.",
  "Are you serious? That's absolutely wonderful news!",
  "Okay.",
  "She said nothing, and then she left the room without a word.",
};

static void
worker_wait_start (Worker *w)
{
  g_mutex_lock (w->lock);
  (*w->ready)++;
  g_cond_broadcast (w->cond);
  while (*w->ready < 2)
    g_cond_wait (w->cond, w->lock);
  g_mutex_unlock (w->lock);
}

/* Runs @func on the two workers @w in two threads that start together,
 * both on @shared, and waits for them. */
static void
run_workers (Worker w[2], AffectSharedNet *shared, GThreadFunc func)
{
  GMutex lock;
  GCond cond;
  GThread *threads[2];
  int ready = 0, t;

  g_mutex_init (&lock);
  g_cond_init (&cond);
  for (t = 0; t < 2; t++) {
    w[t].id = t;
    w[t].shared = shared;
    w[t].lock = &lock;
    w[t].cond = &cond;
    w[t].ready = &ready;
  }
  for (t = 0; t < 2; t++)
    threads[t] = g_thread_new ("worker", func, &w[t]);
  for (t = 0; t < 2; t++)
    g_thread_join (threads[t]);
  g_mutex_clear (&lock);
  g_cond_clear (&cond);
}

static gpointer
fusion_worker (gpointer data)
{
  Worker *w = data;
  const AffectFusion *fusion = affect_shared_net_get_net (w->shared);
  int r;

  worker_wait_start (w);
  w->ok = TRUE;
  for (r = 0; r < N_RUNS; r++)
    w->ok = w->ok && fusion_run (fusion, &w->runs[r]);
  return NULL;
}

/* Two threads run one shared fusion network (a 2-thread backend) at once,
 * each on inputs of its own; every output equals, bit for bit, that of a
 * sequential run on a one-thread network of one's own. */
START_TEST (test_fusion_shared_threads)
{
  gchar *path = fusion_model ();
  AffectFusion *alone = affect_fusion_load (path, NULL);
  const AffectFusionInfo *info;
  int t, r, k;
  Worker w[2];
  GError *err = NULL;
  AffectSharedNet *shared;

  ck_assert (alone != NULL);
  info = affect_fusion_get_info (alone);
  shared = affect_shared_net_acquire (
      affect_fusion_class (), path, "cpu", 0, 2, &err);
  ck_assert_msg (shared != NULL, "%s", err ? err->message : "");
  for (t = 0; t < 2; t++)
    for (r = 0; r < N_RUNS; r++)
      fusion_run_init (&w[t].runs[r], info, 1000 + t * N_RUNS + r);
  run_workers (w, shared, fusion_worker);

  for (t = 0; t < 2; t++) {
    ck_assert (w[t].ok);
    for (r = 0; r < N_RUNS; r++) {
      FusionRun ref;

      fusion_run_init (&ref, info, 1000 + t * N_RUNS + r);
      ck_assert (fusion_run (alone, &ref));
      for (k = 0; k < AFFECT_FUSION_N_TASKS; k++) {
        if (!info->has_task[k])
          continue;
        ck_assert_msg (memcmp (ref.out[k], w[t].runs[r].out[k],
                           sizeof (float) * N_CLIPS * info->n_out[k])
                           == 0,
            "thread %d, run %d, head %s: the shared network's outputs "
            "differ from a sequential run",
            t, r, affect_fusion_task_name (k));
      }
      fusion_run_clear (&ref);
      fusion_run_clear (&w[t].runs[r]);
    }
  }
  affect_shared_net_release (shared);
  affect_fusion_free (alone);
  g_free (path);
}

END_TEST;

static gpointer
bert_worker (gpointer data)
{
  Worker *w = data;
  AffectBert *bert = affect_shared_net_get_net (w->shared);
  int r;

  worker_wait_start (w);
  w->ok = TRUE;
  for (r = 0; r < N_RUNS; r++) {
    /* thread t takes sentences t, t + 2, … */
    w->texts[r]
        = affect_bert_embed_text (bert, sentences[w->id + 2 * r], -1, NULL);
    w->ok = w->ok && w->texts[r] != NULL;
  }
  return NULL;
}

/* The same for BERT: two threads embed sentences at once on one shared
 * model (a 2-thread backend); each embedding equals, bit for bit, that of
 * a sequential run on a one-thread model of one's own. */
START_TEST (test_bert_shared_threads)
{
  gchar *dir = bert_dir ();
  AffectBackend *one;
  AffectBert *alone;
  AffectSharedNet *shared;
  GError *err = NULL;
  int t, r;
  Worker w[2];

  G_STATIC_ASSERT (G_N_ELEMENTS (sentences) >= 2 * N_RUNS);
  if (dir == NULL)
    return;
  one = affect_backend_cpu_new (1);
  alone = affect_bert_new (one, dir, &err);
  ck_assert_msg (alone != NULL, "%s", err ? err->message : "");
  shared = affect_shared_net_acquire (
      affect_bert_class (), dir, "cpu", 0, 2, &err);
  ck_assert_msg (shared != NULL, "%s", err ? err->message : "");
  run_workers (w, shared, bert_worker);

  for (t = 0; t < 2; t++) {
    ck_assert (w[t].ok);
    for (r = 0; r < N_RUNS; r++) {
      AffectBertText *ref
          = affect_bert_embed_text (alone, sentences[t + 2 * r], -1, &err);
      AffectBertText *got = w[t].texts[r];

      ck_assert_msg (ref != NULL, "%s", err ? err->message : "");
      ck_assert_uint_eq (ref->tokens->n_tokens, got->tokens->n_tokens);
      ck_assert_int_eq (ref->hidden_size, got->hidden_size);
      ck_assert_msg (
          memcmp (ref->hidden, got->hidden,
              sizeof (float) * ref->tokens->n_tokens * ref->hidden_size)
              == 0,
          "thread %d, sentence \"%s\": the shared model's embedding "
          "differs from a sequential run",
          t, sentences[t + 2 * r]);
      affect_bert_text_free (ref);
      affect_bert_text_free (got);
    }
  }
  affect_shared_net_release (shared);
  affect_bert_free (alone);
  affect_backend_unref (one);
  g_free (dir);
}

END_TEST;

static Suite *
shared_suite (void)
{
  Suite *s = suite_create ("shared");
  TCase *tc = tcase_create ("shared");
  TCase *only = tcase_create ("shared-only");

  tcase_add_test (tc, test_share_same_settings);
  tcase_add_test (tc, test_concurrent_acquire);
  tcase_add_loop_test (
      tc, test_shared_outputs_unchanged, NET_LANDMARKS, NET_RECOGNITION + 1);
  tcase_add_loop_test (
      tc, test_batched_bit_identical, NET_LANDMARKS, NET_RECOGNITION + 1);
  tcase_add_test (tc, test_unbatched_threads);
  tcase_add_loop_test (tc, test_detectors_batched, 0, 2);
  tcase_add_test (tc, test_release_wakes_leader);
  suite_add_tcase (s, tc);
  tcase_add_test (only, test_fusion_shared);
  tcase_add_test (only, test_bert_shared);
  tcase_add_test (only, test_fusion_shared_threads);
  tcase_add_test (only, test_bert_shared_threads);
  suite_add_tcase (s, only);
  return s;
}

int
main (void)
{
  return affect_test_run_suite (shared_suite ());
}
