/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Seeded state torture (issue 14 item 6). A pipeline is driven by a seeded
 * PRNG through random state changes (NULL, READY, PAUSED, PLAYING, up and
 * down), flushing seeks (accurate or key-unit, to random positions), EOS
 * sent in mid-stream and short stretches of playing, while a watchdog
 * thread watches for progress (a state change or seek completing, a bus
 * message, a buffer at a sink). When there is none for the stall limit it
 * prints the step, the last GStreamer log lines, the stacks of all threads
 * (gdb "thread apply all bt" when gdb is installed, else the kernel's
 * /proc/self/task/\*\/{comm,wchan,stack}) and a dot graph of the pipeline,
 * then ends the process with status 3 (the test fails). A single step
 * lasting more than three times the stall limit counts as a stall too
 * (buffers flowing in one branch must not hide a blocked state change).
 *
 * Pipelines (one test case each):
 *   full:    filesrc (an 8-s raw clip of a demo photo, made at test time)
 *            ! rawvideoparse ! facecrop ! f.video,
 *            audiotestsrc ! f.audio, filesrc (SRT) ! subparse ! f.text,
 *            affectfeatures name=f ! affectfuse model=RANDOM ! fakesink
 *   video:   the same without the audio and text pads
 *   sources: the same three sources, each into a fakesink, none of our
 *            elements: a stall here is GStreamer's, not ours
 * The fusion model has random weights and the plugin's feature sizes
 * (random-fusion-model.h), written at test time, so the fusion network runs
 * on every frame without PyTorch.
 *
 * Environment:
 *   AFFECT_TORTURE_SEED     the PRNG seed (default 1, so that CI is
 *                           repeatable; "random" picks one; printed)
 *   AFFECT_TORTURE_STEPS    steps per pipeline (default 20; video 13)
 *   AFFECT_TORTURE_STALL_S  seconds without progress that count as a stall
 *                           (default 60)
 *   AFFECT_TORTURE_DUMP_DIR where the dot graph of a stall goes (default:
 *                           the test's build folder, else the temp folder)
 *   AFFECT_TORTURE_VERBOSE  1: print every step (default: every 10th)
 *   AFFECT_TORTURE_EOS_IN_PAUSED  1: send EOS in PAUSED too (stalls in
 *                           GstBaseSrc, GStreamer's behaviour: see
 *                           tests/torture/README.md); by default the
 *                           pipeline goes to PLAYING before an EOS
 *   GST_DEBUG               the log categories kept for the stall report
 *                           (default GST_STATES:4 and our elements at 4;
 *                           the lines are kept in memory, printed on a
 *                           stall only)
 * One pipeline only: CK_RUN_CASE=full (or video, sources). A long run:
 *   AFFECT_TORTURE_STEPS=5000 CK_DEFAULT_TIMEOUT=0 CK_RUN_CASE=full \
 *       meson test -C BUILD torture   (or the executable under the env of
 *       /work/runtests.sh); see tests/torture/README.md.
 *
 * Needs the face models (face detector, landmarks, expression, recognition),
 * the word model and the photo sample2.png of
 * $AFFECT_CACHE_DIR/test-inputs (tests/golden/face-api/prepare.sh): skipped
 * without them unless AFFECT_REQUIRE_MODELS=1.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <glib/gstdio.h>
#include <gst/affect/affectmeta.h>
#include <gst/check/gstcheck.h>

#include "affect-check.h"
#include "random-fusion-model.h"

#define DEFAULT_STEPS 20
#define DEFAULT_STALL_S 60
#define LOG_RING 1000
/* seeks go to [0, SEEK_RANGE) */
#define SEEK_RANGE (6 * GST_SECOND)

/* ------------------------------------------------------------------ */
/* Progress, log ring and watchdog                                     */
/* ------------------------------------------------------------------ */

static gint progress;       /* bumped on every sign of progress */
static gint sink_buffers;   /* buffers seen at the sinks */
static gint fused_buffers;  /* buffers with fusion predictions */
static gint speech_buffers; /* ... that used the speech branch */
static gint words_buffers;  /* ... that used the word branch */
static GMutex step_lock;
static gchar *step_text;     /* what the driver is doing */
static gint64 step_start;    /* since when (monotonic), step_lock */
static GstElement *dump_bin; /* the pipeline, for the dot graph */

static GMutex log_lock;
static gchar *log_ring[LOG_RING];
static guint log_next;

static GThread *watchdog;
static gint watchdog_stop;
static guint stall_s = DEFAULT_STALL_S;

static void
bump (void)
{
  g_atomic_int_inc (&progress);
}

static void set_step (const gchar *fmt, ...) G_GNUC_PRINTF (1, 2);

static void
set_step (const gchar *fmt, ...)
{
  va_list ap;
  gchar *s;

  va_start (ap, fmt);
  s = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_mutex_lock (&step_lock);
  g_free (step_text);
  step_text = s;
  step_start = g_get_monotonic_time ();
  g_mutex_unlock (&step_lock);
}

static void
ring_log (GstDebugCategory *category, GstDebugLevel level, const gchar *file,
    const gchar *function, gint line, GObject *object, GstDebugMessage *message,
    gpointer user_data)
{
  gchar *s;

  /* the driver's get_state () polling would fill the ring */
  if (function && g_str_has_suffix (function, "get_state_func"))
    return;
  s = gst_debug_log_get_line (
      category, level, file, function, line, object, message);
  g_mutex_lock (&log_lock);
  g_free (log_ring[log_next]);
  log_ring[log_next] = s;
  log_next = (log_next + 1) % LOG_RING;
  g_mutex_unlock (&log_lock);
}

static void
print_log_ring (void)
{
  g_mutex_lock (&log_lock);
  fprintf (stderr, "---- last GStreamer log lines (oldest first) ----\n");
  for (guint i = 0; i < LOG_RING; i++) {
    const gchar *s = log_ring[(log_next + i) % LOG_RING];
    if (s)
      fputs (s, stderr);
  }
  g_mutex_unlock (&log_lock);
}

/* Prints a file of /proc (small text) to stderr. */
static void
print_proc_file (const gchar *path, const gchar *label)
{
  gchar *text = NULL;

  if (g_file_get_contents (path, &text, NULL, NULL)) {
    fprintf (stderr, "%s: %s%s", label, text,
        (*text && text[strlen (text) - 1] == '\n') ? "" : "\n");
    g_free (text);
  }
}

/* gdb's backtraces of every thread; FALSE when gdb could not give them. */
static gboolean
print_gdb_stacks (void)
{
  gchar *gdb = g_find_program_in_path ("gdb");
  gchar *timeout = g_find_program_in_path ("timeout");
  gchar *pid = g_strdup_printf ("%d", (int)getpid ());
  GPtrArray *argv = g_ptr_array_new ();
  gchar *out = NULL;
  gint status = -1;
  gboolean ok = FALSE;

  if (!gdb) {
    fprintf (stderr, "---- gdb not installed: no user-space stacks ----\n");
    goto done;
  }
  if (timeout) {
    g_ptr_array_add (argv, timeout);
    g_ptr_array_add (argv, (gpointer) "120");
  }
  g_ptr_array_add (argv, gdb);
  g_ptr_array_add (argv, (gpointer) "-nx");
  g_ptr_array_add (argv, (gpointer) "-batch");
  g_ptr_array_add (argv, (gpointer) "-p");
  g_ptr_array_add (argv, pid);
  g_ptr_array_add (argv, (gpointer) "-ex");
  g_ptr_array_add (argv, (gpointer) "set pagination off");
  g_ptr_array_add (argv, (gpointer) "-ex");
  g_ptr_array_add (argv, (gpointer) "thread apply all bt");
  g_ptr_array_add (argv, NULL);
  fprintf (stderr, "---- thread stacks (gdb -p %s) ----\n", pid);
  fflush (stderr);
  if (g_spawn_sync (NULL, (gchar **)argv->pdata, NULL,
          G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL, &status, NULL)
      && out && strstr (out, "Thread ") != NULL) {
    fputs (out, stderr);
    ok = TRUE;
  } else {
    fprintf (stderr, "gdb gave no backtraces (ptrace not permitted?)\n");
  }
done:
  g_ptr_array_unref (argv);
  g_free (out);
  g_free (pid);
  g_free (gdb);
  g_free (timeout);
  return ok;
}

/* The kernel's view of every thread: name, wait channel, kernel stack
 * (the stack file needs root). */
static void
print_proc_stacks (void)
{
  GDir *dir = g_dir_open ("/proc/self/task", 0, NULL);
  const gchar *tid;

  fprintf (stderr, "---- threads (/proc/self/task) ----\n");
  if (!dir)
    return;
  while ((tid = g_dir_read_name (dir))) {
    gchar *p;

    fprintf (stderr, "thread %s\n", tid);
    p = g_strdup_printf ("/proc/self/task/%s/comm", tid);
    print_proc_file (p, "  comm");
    g_free (p);
    p = g_strdup_printf ("/proc/self/task/%s/wchan", tid);
    print_proc_file (p, "  wchan");
    g_free (p);
    p = g_strdup_printf ("/proc/self/task/%s/stack", tid);
    print_proc_file (p, "  stack");
    g_free (p);
  }
  g_dir_close (dir);
}

static void
print_dot_graph (void)
{
  const gchar *dir = g_getenv ("AFFECT_TORTURE_DUMP_DIR");
  gchar *path, *data;

  if (!dir)
    dir = g_getenv ("AFFECT_TEST_BUILDDIR");
  if (!dir)
    dir = g_get_tmp_dir ();
  path = g_strdup_printf ("%s/torture-stall-%d.dot", dir, (int)getpid ());
  fprintf (stderr, "---- pipeline graph: %s ----\n", path);
  fflush (stderr);
  /* takes the elements' object locks: last, in case one is held forever */
  data = gst_debug_bin_to_dot_data (
      GST_BIN (dump_bin), GST_DEBUG_GRAPH_SHOW_ALL);
  if (!g_file_set_contents (path, data, -1, NULL))
    fprintf (stderr, "could not write %s\n", path);
  else
    fprintf (stderr, "written (dot -Tsvg %s > stall.svg)\n", path);
  g_free (data);
  g_free (path);
}

/* Prints what the process is doing and ends it (status 3): the test
 * fails. */
static void
report_stall (const gchar *what)
{
  g_mutex_lock (&step_lock);
  fprintf (stderr,
      "\n==== STALL: %s; step: %s ====\n"
      "buffers at the sinks so far: %d\n",
      what, step_text ? step_text : "?", g_atomic_int_get (&sink_buffers));
  g_mutex_unlock (&step_lock);
  print_log_ring ();
  if (!print_gdb_stacks ())
    print_proc_stacks ();
  print_dot_graph ();
  fprintf (stderr, "==== end of the stall report ====\n");
  fflush (stderr);
  fflush (stdout);
  _exit (3);
}

static gpointer
watchdog_func (gpointer data)
{
  gint last = g_atomic_int_get (&progress);
  gint64 since = g_get_monotonic_time ();

  while (!g_atomic_int_get (&watchdog_stop)) {
    gint now_p = g_atomic_int_get (&progress);
    gint64 now = g_get_monotonic_time ();

    gint64 started;

    g_mutex_lock (&step_lock);
    started = step_start;
    g_mutex_unlock (&step_lock);
    if (now_p != last) {
      last = now_p;
      since = now;
    } else if (now - since > (gint64)stall_s * G_USEC_PER_SEC) {
      gchar *what = g_strdup_printf ("no progress for %u s", stall_s);
      report_stall (what);
    }
    /* buffers flowing in one branch do not hide a step that never ends */
    if (started && now - started > 3 * (gint64)stall_s * G_USEC_PER_SEC) {
      gchar *what
          = g_strdup_printf ("one step has lasted more than %u s", 3 * stall_s);
      report_stall (what);
    }
    g_usleep (G_USEC_PER_SEC / 4);
  }
  return NULL;
}

/* ------------------------------------------------------------------ */
/* Pipelines                                                           */
/* ------------------------------------------------------------------ */

typedef enum {
  PIPE_FULL,
  PIPE_VIDEO,
  PIPE_SOURCES,
} PipeKind;

static const gchar *const pipe_names[] = { "full", "video", "sources" };

static gchar *
write_srt (const gchar *dir)
{
  GString *s = g_string_new (NULL);
  gchar *path = g_build_filename (dir, "torture.srt", NULL);
  static const gchar *const lines[] = { "I am happy to see you today",
    "this is not what we wanted", "well, maybe it is fine after all",
    "look at that", "no no no", "thank you very much" };

  /* a cue every second over 8 s, the last one past the seek range */
  for (guint i = 0; i < 8; i++) {
    g_string_append_printf (s, "%u\n00:00:%02u,100 --> 00:00:%02u,900\n%s\n\n",
        i + 1, i, i, lines[i % G_N_ELEMENTS (lines)]);
  }
  fail_unless (g_file_set_contents (path, s->str, -1, NULL));
  g_string_free (s, TRUE);
  return path;
}

/* CLIP_FRAMES frames of the photo at 10 fps, 320x240 I420, made once by
 * make_clip (): a source that streams (and takes an EOS event) for 8 s,
 * longer than the seek range. */
#define CLIP_FRAMES 80
#define CLIP_CAPS \
  "video/x-raw,format=I420,width=320,height=240,pixel-aspect-ratio=1/1"
#define VIDEO_SRC                                                  \
  "filesrc location=\"%s\" ! rawvideoparse format=i420 width=320 " \
  "height=240 framerate=10/1 "
#define AUDIO_SRC                                             \
  "audiotestsrc samplesperbuffer=1600 freq=220 volume=0.3 ! " \
  "audio/x-raw,format=F32LE,rate=16000,channels=1 "
#define TEXT_SRC "filesrc location=\"%s\" ! subparse "

static gchar *
make_clip (const gchar *dir, const gchar *photo)
{
  gchar *path = g_build_filename (dir, "clip.i420", NULL);
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! pngdec ! "
                                 "videoconvert ! videoscale ! " CLIP_CAPS
                                 " ! imagefreeze num-buffers=%d ! "
                                 "video/x-raw,framerate=10/1 ! "
                                 "filesink location=\"%s\"",
      photo, CLIP_FRAMES, path);
  GError *err = NULL;
  GstElement *p = gst_parse_launch (desc, &err);
  GstBus *bus;
  GstMessage *msg;

  fail_unless (p != NULL, "%s: %s", desc, err ? err->message : "");
  bus = gst_element_get_bus (p);
  fail_unless (
      gst_element_set_state (p, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_timed_pop_filtered (
      bus, GST_CLOCK_TIME_NONE, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS,
      "making the clip failed: %s", desc);
  gst_message_unref (msg);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (p);
  g_free (desc);
  return path;
}

static gchar *
pipeline_description (PipeKind kind, const gchar *clip, const gchar *model,
    const gchar *srt, gboolean sync)
{
  const gchar *s = sync ? "true" : "false";

  switch (kind) {
    case PIPE_FULL:
      return g_strdup_printf (VIDEO_SRC
          "! facecrop ! f.video " AUDIO_SRC "! f.audio " TEXT_SRC "! f.text "
          "affectfeatures name=f ! affectfuse model=\"%s\" ! "
          "fakesink name=sink0 sync=%s",
          clip, srt, model, s);
    case PIPE_VIDEO:
      return g_strdup_printf (VIDEO_SRC "! facecrop ! affectfeatures ! "
                                        "affectfuse model=\"%s\" ! "
                                        "fakesink name=sink0 sync=%s",
          clip, model, s);
    case PIPE_SOURCES:
    default:
      return g_strdup_printf (VIDEO_SRC
          "! fakesink name=sink0 sync=%s " AUDIO_SRC
          "! fakesink name=sink1 sync=%s " TEXT_SRC
          "! fakesink name=sink2 sync=%s",
          clip, s, s, srt, s);
  }
}

static GstPadProbeReturn
sink_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstAffectPredictionsMeta *m;
  gpointer state = NULL;
  gboolean fused = FALSE, spe = FALSE, wrd = FALSE;

  while ((m = gst_buffer_iterate_affect_predictions_meta (buf, &state))) {
    if (m->predictions.n_au > 0)
      fused = TRUE;
    if (m->predictions.modalities & GST_AFFECT_MODALITY_SPEECH)
      spe = TRUE;
    if (m->predictions.modalities & GST_AFFECT_MODALITY_WORDS)
      wrd = TRUE;
  }
  if (fused)
    g_atomic_int_inc (&fused_buffers);
  if (spe)
    g_atomic_int_inc (&speech_buffers);
  if (wrd)
    g_atomic_int_inc (&words_buffers);
  g_atomic_int_inc (&sink_buffers);
  bump ();
  return GST_PAD_PROBE_OK;
}

static GstBusSyncReply
bus_sync (GstBus *bus, GstMessage *msg, gpointer user_data)
{
  bump ();
  return GST_BUS_PASS;
}

/* ------------------------------------------------------------------ */
/* The driver                                                          */
/* ------------------------------------------------------------------ */

typedef struct {
  GstElement *pipeline;
  GstBus *bus;
  GRand *rand;
  GstState state;   /* the state last reached */
  gboolean got_eos; /* an EOS message since the last flush / READY */
  guint n_errors;
  gchar *first_error;
} Driver;

/* Takes the bus messages; errors are kept (the first one fails the test). */
static void
drain_bus (Driver *d)
{
  GstMessage *msg;

  while ((msg = gst_bus_pop (d->bus))) {
    switch (GST_MESSAGE_TYPE (msg)) {
      case GST_MESSAGE_ERROR: {
        GError *err = NULL;
        gchar *dbg = NULL;

        gst_message_parse_error (msg, &err, &dbg);
        d->n_errors++;
        if (!d->first_error)
          d->first_error = g_strdup_printf ("%s: %s (%s)",
              GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), err->message,
              dbg ? dbg : "");
        g_printerr ("error from %s: %s\n",
            GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), err->message);
        g_error_free (err);
        g_free (dbg);
        break;
      }
      case GST_MESSAGE_EOS:
        d->got_eos = TRUE;
        break;
      default:
        break;
    }
    gst_message_unref (msg);
  }
}

/* Waits until the pipeline has finished its state change (the watchdog
 * ends the process when it never does). */
static GstStateChangeReturn
wait_state (Driver *d)
{
  GstStateChangeReturn ret;
  GstState cur, pending;

  do {
    ret = gst_element_get_state (
        d->pipeline, &cur, &pending, 100 * GST_MSECOND);
    drain_bus (d);
  } while (ret == GST_STATE_CHANGE_ASYNC);
  if (ret != GST_STATE_CHANGE_FAILURE)
    d->state = cur;
  bump ();
  return ret;
}

static void
change_state (Driver *d, GstState target)
{
  GstStateChangeReturn ret;

  ret = gst_element_set_state (d->pipeline, target);
  bump ();
  if (ret == GST_STATE_CHANGE_ASYNC)
    ret = wait_state (d);
  else if (ret != GST_STATE_CHANGE_FAILURE)
    d->state = target;
  fail_if (ret == GST_STATE_CHANGE_FAILURE, "state change to %s failed: %s",
      gst_element_state_get_name (target),
      d->first_error ? d->first_error : "no error message");
  if (target <= GST_STATE_READY)
    d->got_eos = FALSE;
}

static void
play_for (Driver *d, guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64)ms * 1000;

  while (g_get_monotonic_time () < end) {
    g_usleep (20 * 1000);
    drain_bus (d);
  }
}

static void
run_torture (PipeKind kind)
{
  const gchar *env;
  gchar *cache, *photo, *tmp, *model, *srt, *desc, *clip;
  guint32 seed;
  guint steps, i;
  GError *err = NULL;
  Driver d = {
    0,
  };
  gboolean sync;
  GstIterator *it;
  GValue item = G_VALUE_INIT;
  gboolean done = FALSE;
  gboolean eos_in_paused;

  if (g_getenv ("AFFECT_CACHE_DIR"))
    cache = g_strdup (g_getenv ("AFFECT_CACHE_DIR"));
  else
    cache = g_build_filename (g_get_user_cache_dir (), "gst-affect", NULL);
  photo = g_build_filename (cache, "test-inputs", "sample2.png", NULL);
  if (!g_file_test (photo, G_FILE_TEST_IS_REGULAR)) {
    fail_if (g_strcmp0 (g_getenv ("AFFECT_REQUIRE_MODELS"), "1") == 0,
        "%s missing (tests/golden/face-api/prepare.sh)", photo);
    g_print ("SKIP torture %s: %s missing (tests/golden/face-api/"
             "prepare.sh)\n",
        pipe_names[kind], photo);
    g_free (photo);
    g_free (cache);
    return;
  }
  if (!affect_check_load_system_plugin ("libgstcoreelements.so")
      || !affect_check_load_system_plugin ("libgstpng.so")
      || !affect_check_load_system_plugin ("libgstimagefreeze.so")
      || !affect_check_load_system_plugin ("libgstvideoconvertscale.so")
      || !affect_check_load_system_plugin ("libgstaudiotestsrc.so")
      || !affect_check_load_system_plugin ("libgstsubparse.so")
      || !affect_check_load_system_plugin ("libgstrawparse.so")) {
    fail_if (g_strcmp0 (g_getenv ("AFFECT_REQUIRE_MODELS"), "1") == 0,
        "system plugins missing");
    g_print ("SKIP torture %s: system plugins (png, imagefreeze, "
             "videoconvertscale, audiotestsrc, subparse, rawparse) not found\n",
        pipe_names[kind]);
    g_free (photo);
    g_free (cache);
    return;
  }

  env = g_getenv ("AFFECT_TORTURE_SEED");
  if (env && g_strcmp0 (env, "random") == 0)
    seed = g_random_int ();
  else
    seed = env ? (guint32)g_ascii_strtoull (env, NULL, 10) : 1;
  env = g_getenv ("AFFECT_TORTURE_STEPS");
  steps = env ? (guint)g_ascii_strtoull (env, NULL, 10)
              : (kind == PIPE_VIDEO ? 2 * DEFAULT_STEPS / 3 : DEFAULT_STEPS);
  eos_in_paused
      = g_strcmp0 (g_getenv ("AFFECT_TORTURE_EOS_IN_PAUSED"), "1") == 0;
  env = g_getenv ("AFFECT_TORTURE_STALL_S");
  stall_s = env ? MAX (1, (guint)g_ascii_strtoull (env, NULL, 10))
                : DEFAULT_STALL_S;
  g_print ("torture %s: seed %u (AFFECT_TORTURE_SEED=%u to repeat), %u "
           "steps, stall limit %u s\n",
      pipe_names[kind], seed, seed, steps, stall_s);

  tmp = g_dir_make_tmp ("affect-torture-XXXXXX", NULL);
  fail_unless (tmp != NULL);
  model = g_build_filename (tmp, "fusion.safetensors", NULL);
  fail_unless (
      affect_test_write_random_fusion_model (model, seed, 6, 16, 32, &err),
      "%s", err ? err->message : "");
  srt = write_srt (tmp);
  clip = make_clip (tmp, photo);
  d.rand = g_rand_new_with_seed (seed);
  sync = g_rand_boolean (d.rand);
  desc = pipeline_description (kind, clip, model, srt, sync);
  g_print ("pipeline (sinks sync=%s): %s\n", sync ? "true" : "false", desc);

  /* the log lines kept for a stall report */
  gst_debug_remove_log_function (gst_debug_log_default);
  gst_debug_add_log_function (ring_log, NULL, NULL);
  if (!g_getenv ("GST_DEBUG"))
    gst_debug_set_threshold_from_string ("GST_STATES:4,facecrop:4,"
                                         "affectfeatures:4,affectfuse:4,"
                                         "aggregator:4",
        TRUE);
  gst_debug_set_active (TRUE);

  d.pipeline = gst_parse_launch (desc, &err);
  fail_unless (d.pipeline != NULL, "%s: %s", desc, err ? err->message : "");
  dump_bin = d.pipeline;
  d.bus = gst_element_get_bus (d.pipeline);
  gst_bus_set_sync_handler (d.bus, bus_sync, NULL, NULL);
  it = gst_bin_iterate_sinks (GST_BIN (d.pipeline));
  while (!done) {
    switch (gst_iterator_next (it, &item)) {
      case GST_ITERATOR_OK: {
        GstPad *pad = gst_element_get_static_pad (
            GST_ELEMENT (g_value_get_object (&item)), "sink");
        gst_pad_add_probe (
            pad, GST_PAD_PROBE_TYPE_BUFFER, sink_probe, NULL, NULL);
        gst_object_unref (pad);
        g_value_reset (&item);
        break;
      }
      case GST_ITERATOR_RESYNC:
        gst_iterator_resync (it);
        break;
      default:
        done = TRUE;
        break;
    }
  }
  g_value_unset (&item);
  gst_iterator_free (it);

  g_atomic_int_set (&sink_buffers, 0);
  g_atomic_int_set (&fused_buffers, 0);
  g_atomic_int_set (&speech_buffers, 0);
  g_atomic_int_set (&words_buffers, 0);
  g_atomic_int_set (&watchdog_stop, 0);
  g_mutex_lock (&step_lock);
  step_start = 0;
  g_mutex_unlock (&step_lock);
  watchdog = g_thread_new ("torture-watchdog", watchdog_func, NULL);

  d.state = GST_STATE_NULL;
  for (i = 0; i < steps; i++) {
    gint r = g_rand_int_range (d.rand, 0, 100);
    gboolean verbose
        = g_strcmp0 (g_getenv ("AFFECT_TORTURE_VERBOSE"), "1") == 0;

    if (r < 35 || d.state < GST_STATE_PAUSED) {
      /* PAUSED and PLAYING more often than NULL and READY */
      static const GstState targets[]
          = { GST_STATE_NULL, GST_STATE_READY, GST_STATE_PAUSED,
              GST_STATE_PAUSED, GST_STATE_PLAYING, GST_STATE_PLAYING };
      GstState t = targets[g_rand_int_range (d.rand, 0, 6)];

      set_step ("%u: %s -> %s", i, gst_element_state_get_name (d.state),
          gst_element_state_get_name (t));
      if (verbose || i % 10 == 0)
        g_print ("step %s\n", step_text);
      change_state (&d, t);
    } else if (r < 70) {
      gboolean accurate = g_rand_boolean (d.rand);
      GstClockTime pos
          = (GstClockTime)g_rand_double_range (d.rand, 0, (gdouble)SEEK_RANGE);
      GstSeekFlags flags
          = GST_SEEK_FLAG_FLUSH
            | (accurate ? GST_SEEK_FLAG_ACCURATE : GST_SEEK_FLAG_KEY_UNIT);
      gboolean ok;

      set_step ("%u: flushing %s seek to %" GST_TIME_FORMAT " in %s", i,
          accurate ? "accurate" : "key-unit", GST_TIME_ARGS (pos),
          gst_element_state_get_name (d.state));
      if (verbose || i % 10 == 0)
        g_print ("step %s\n", step_text);
      ok = gst_element_seek_simple (d.pipeline, GST_FORMAT_TIME, flags, pos);
      bump ();
      if (!ok)
        g_print ("step %u: the seek was not handled\n", i);
      d.got_eos = FALSE;
      wait_state (&d);
    } else if (r < 80) {
      /* gst_element_send_event (EOS) on a bin whose non-live sources are
       * blocked in a prerolled sink (PAUSED) waits for their streaming
       * lock until the pipeline plays or flushes: GStreamer's behaviour
       * (GstBaseSrc), see tests/torture/README.md. Unless asked for, the
       * pipeline goes to PLAYING first. */
      if (d.state == GST_STATE_PAUSED && !eos_in_paused) {
        set_step ("%u: PAUSED -> PLAYING before an EOS", i);
        change_state (&d, GST_STATE_PLAYING);
      }
      set_step ("%u: EOS in %s", i, gst_element_state_get_name (d.state));
      if (verbose || i % 10 == 0)
        g_print ("step %s\n", step_text);
      gst_element_send_event (d.pipeline, gst_event_new_eos ());
      bump ();
    } else {
      guint ms = g_rand_int_range (d.rand, 50, 400);

      set_step ("%u: %u ms in %s", i, ms, gst_element_state_get_name (d.state));
      if (verbose || i % 10 == 0)
        g_print ("step %s\n", step_text);
      play_for (&d, ms);
    }
    drain_bus (&d);
    fail_unless (
        d.n_errors == 0, "step %u (seed %u): %s", i, seed, d.first_error);
  }

  /* After the torture, the pipeline still plays from the start to an EOS:
   * flushing seek to 0 in PLAYING, then EOS, and the EOS message comes. */
  set_step ("final: PLAYING, seek to 0, EOS");
  g_print ("step %s\n", step_text);
  change_state (&d, GST_STATE_PLAYING);
  fail_unless (gst_element_seek_simple (d.pipeline, GST_FORMAT_TIME,
      GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE, 0));
  d.got_eos = FALSE;
  wait_state (&d);
  play_for (&d, 300);
  gst_element_send_event (d.pipeline, gst_event_new_eos ());
  {
    gint64 end = g_get_monotonic_time () + (gint64)stall_s * G_USEC_PER_SEC;

    while (!d.got_eos && d.n_errors == 0) {
      if (g_get_monotonic_time () > end)
        report_stall ("no EOS message after the final EOS");
      play_for (&d, 50);
    }
  }
  fail_unless (d.n_errors == 0, "final (seed %u): %s", seed, d.first_error);
  set_step ("final: NULL");
  change_state (&d, GST_STATE_NULL);

  g_atomic_int_set (&watchdog_stop, 1);
  g_thread_join (watchdog);
  g_print ("torture %s (seed %u): %d buffers at the sinks, %d with fusion "
           "predictions (%d with speech, %d with words)\n",
      pipe_names[kind], seed, g_atomic_int_get (&sink_buffers),
      g_atomic_int_get (&fused_buffers), g_atomic_int_get (&speech_buffers),
      g_atomic_int_get (&words_buffers));
  fail_unless (
      g_atomic_int_get (&sink_buffers) > 0, "no buffer reached a sink");
  if (kind != PIPE_SOURCES)
    fail_unless (g_atomic_int_get (&fused_buffers) > 0,
        "no buffer with fusion predictions (is the face found?)");

  gst_debug_remove_log_function (ring_log);
  gst_debug_add_log_function (gst_debug_log_default, NULL, NULL);
  dump_bin = NULL;
  gst_bus_set_sync_handler (d.bus, NULL, NULL, NULL);
  gst_object_unref (d.bus);
  gst_object_unref (d.pipeline);
  g_rand_free (d.rand);
  g_free (d.first_error);
  g_unlink (model);
  g_unlink (srt);
  g_unlink (clip);
  g_rmdir (tmp);
  g_free (desc);
  g_free (srt);
  g_free (clip);
  g_free (model);
  g_free (tmp);
  g_free (photo);
  g_free (cache);
}

GST_START_TEST (test_torture_full)
{
  run_torture (PIPE_FULL);
}

GST_END_TEST;

GST_START_TEST (test_torture_video)
{
  run_torture (PIPE_VIDEO);
}

GST_END_TEST;

GST_START_TEST (test_torture_sources)
{
  run_torture (PIPE_SOURCES);
}

GST_END_TEST;

static Suite *
torture_suite (void)
{
  Suite *s = suite_create ("torture");
  const gchar *names[] = { "full", "video", "sources" };
  const TFun tests[]
      = { test_torture_full, test_torture_video, test_torture_sources };

#ifdef __linux__
  /* gdb, a child of this process, may attach for the stall report */
  prctl (PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
#endif
  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    TCase *tc = tcase_create (names[i]);
    /* a long run (AFFECT_TORTURE_STEPS) has no time limit of check's: the
     * watchdog ends a stalled run */
    if (g_getenv ("AFFECT_TORTURE_STEPS"))
      tcase_set_timeout (tc, 0);
    tcase_add_test (tc, tests[i]);
    suite_add_tcase (s, tc);
  }
  return s;
}

GST_CHECK_MAIN (torture);
