/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Streaming speech features. See affect-speech.h.
 *
 * Storage: the samples, the raw pitch lags and their correlations live in
 * GArrays read from a head index. Pulling a frame moves the heads; the
 * consumed front is cut off (one memmove of what is left) only once it is
 * at least as long as what is left, so every sample is moved at most once
 * on average and pulling is linear in the samples pushed, whatever the
 * backlog. Raw pitch frames are computed when a frame needs them, so at
 * most win_length of them (and their correlations) are kept.
 */

#include "affect-speech.h"

#include <math.h>
#include <string.h>

GQuark
affect_speech_error_quark (void)
{
  return g_quark_from_static_string ("affect-speech-error-quark");
}

struct _AffectSpeech {
  AffectSpeechOptions opts;
  AffectMfcc *mfcc;
  AffectPitch *pitch;
  guint shift;  /* samples per frame (MFCC shift == pitch frame size) */
  guint wsize;  /* MFCC window */
  guint span;   /* pitch span: frame + lags */
  guint before; /* median window: frames before / after the centre */
  guint after;

  GArray *buf;    /* double samples; buf[buf_head] is sample buf_start */
  guint buf_head; /* consumed elements at the front of buf */
  guint64 buf_start;
  guint64 total; /* samples pushed */
  GArray *raw;   /* guint raw lags; raw[raw_head] is raw frame raw_start */
  GArray *corr;  /* double, n_corr per raw frame, same head (x n_corr) */
  guint raw_head;
  guint n_corr;
  guint64 raw_start;
  guint64 n_raw;    /* raw lags computed */
  guint64 next_row; /* next frame to compute */
  GArray *queue;    /* AffectSpeechFrame computed during a push */
  guint queue_head;
  gboolean finished;
  guint64 nonfinite;
  guint64 peak_held;
  guint64 moved;
  guint64 peak_queued;
  guint *win;
  guint *scratch;
};

void
affect_speech_options_init (AffectSpeechOptions *opts)
{
  g_return_if_fail (opts != NULL);
  memset (opts, 0, sizeof (*opts));
  opts->sample_rate = 16000.0;
  opts->input_scale = 32768.0;
  affect_mfcc_options_init (&opts->mfcc);
  affect_pitch_options_init (&opts->pitch);
}

AffectSpeech *
affect_speech_new (const AffectSpeechOptions *opts, GError **error)
{
  AffectSpeechOptions o;
  AffectSpeech *s;
  AffectMfcc *mfcc;
  AffectPitch *pitch;

  if (opts)
    o = *opts;
  else
    affect_speech_options_init (&o);
  if (!(o.input_scale > 0.0) || !isfinite (o.input_scale)) {
    g_set_error (error, AFFECT_SPEECH_ERROR, AFFECT_SPEECH_ERROR_INVALID_OPTION,
        "speech features: input_scale must be a positive number (got %g)",
        o.input_scale);
    return NULL;
  }
  o.mfcc.sample_frequency = o.sample_rate;
  o.pitch.sample_rate = o.sample_rate;
  mfcc = affect_mfcc_new (&o.mfcc, error);
  if (mfcc == NULL)
    return NULL;
  pitch = affect_pitch_new (&o.pitch, error);
  if (pitch == NULL) {
    affect_mfcc_free (mfcc);
    return NULL;
  }
  if (affect_mfcc_window_shift (mfcc) != affect_pitch_frame_size (pitch)) {
    g_set_error (error, AFFECT_SPEECH_ERROR, AFFECT_SPEECH_ERROR_INVALID_OPTION,
        "speech features: the MFCC frame shift (%u samples) must equal the "
        "pitch frame size (%u samples); set mfcc.frame_shift_ms and "
        "pitch.frame_time to the same duration",
        affect_mfcc_window_shift (mfcc), affect_pitch_frame_size (pitch));
    affect_mfcc_free (mfcc);
    affect_pitch_free (pitch);
    return NULL;
  }

  s = g_new0 (AffectSpeech, 1);
  s->opts = o;
  s->mfcc = mfcc;
  s->pitch = pitch;
  s->shift = affect_mfcc_window_shift (mfcc);
  s->wsize = affect_mfcc_window_size (mfcc);
  s->span = affect_pitch_span (pitch);
  s->before = (o.pitch.win_length - 1) / 2;
  s->after = o.pitch.win_length / 2;
  s->buf = g_array_new (FALSE, FALSE, sizeof (double));
  s->raw = g_array_new (FALSE, FALSE, sizeof (guint));
  s->corr = g_array_new (FALSE, FALSE, sizeof (double));
  s->queue = g_array_new (FALSE, FALSE, sizeof (AffectSpeechFrame));
  s->n_corr = affect_pitch_n_lags (pitch) + 1;
  s->win = g_new (guint, o.pitch.win_length);
  s->scratch = g_new (guint, o.pitch.win_length);
  return s;
}

void
affect_speech_free (AffectSpeech *s)
{
  if (s == NULL)
    return;
  affect_mfcc_free (s->mfcc);
  affect_pitch_free (s->pitch);
  g_array_unref (s->buf);
  g_array_unref (s->raw);
  g_array_unref (s->corr);
  g_array_unref (s->queue);
  g_free (s->win);
  g_free (s->scratch);
  g_free (s);
}

void
affect_speech_reset (AffectSpeech *s)
{
  g_return_if_fail (s != NULL);
  g_array_set_size (s->buf, 0);
  g_array_set_size (s->raw, 0);
  g_array_set_size (s->corr, 0);
  g_array_set_size (s->queue, 0);
  s->buf_head = s->raw_head = s->queue_head = 0;
  s->buf_start = s->total = 0;
  s->raw_start = s->n_raw = 0;
  s->next_row = 0;
  s->finished = FALSE;
  s->nonfinite = 0;
  s->peak_held = s->moved = s->peak_queued = 0;
}

const AffectSpeechOptions *
affect_speech_get_options (const AffectSpeech *s)
{
  return &s->opts;
}

guint
affect_speech_num_ceps (const AffectSpeech *s)
{
  return s->opts.mfcc.num_ceps;
}

guint
affect_speech_frame_shift (const AffectSpeech *s)
{
  return s->shift;
}

guint
affect_speech_latency_samples (const AffectSpeech *s)
{
  /* Raw pitch frame i + after needs (i + after) * shift + span samples. */
  guint64 p = (guint64)s->after * s->shift + s->span;
  return (guint)MAX (p, (guint64)s->wsize);
}

guint64
affect_speech_num_frames (const AffectSpeech *s, guint64 n)
{
  return affect_mfcc_num_frames (s->mfcc, n);
}

guint64
affect_speech_samples_pushed (const AffectSpeech *s)
{
  return s->total;
}

guint64
affect_speech_nonfinite_samples (const AffectSpeech *s)
{
  return s->nonfinite;
}

void
affect_speech_get_stats (const AffectSpeech *s, AffectSpeechStats *stats)
{
  g_return_if_fail (s != NULL && stats != NULL);
  memset (stats, 0, sizeof (*stats));
  stats->samples_held = s->buf->len - s->buf_head;
  stats->peak_samples_held = s->peak_held;
  stats->samples_moved = s->moved;
  stats->raw_pitch_frames = s->n_raw;
  stats->frames_queued = s->queue->len - s->queue_head;
  stats->peak_frames_queued = s->peak_queued;
}

/* Marks the first @k live elements of @a (each @width array elements wide)
 * as consumed. The front is cut off once it is at least as long as what
 * is left, so that each element is moved at most once on average; the
 * number of elements moved is added to @moved when not NULL. */
static void
drop_front (GArray *a, guint *head, guint k, guint width, guint64 *moved)
{
  guint live;

  *head += k * width;
  g_assert (*head <= a->len);
  live = a->len - *head;
  if (live == 0) {
    g_array_set_size (a, 0);
    *head = 0;
  } else if (*head >= live) {
    if (moved)
      *moved += live / width;
    g_array_remove_range (a, 0, *head);
    *head = 0;
  }
}

static inline double
clean_sample (AffectSpeech *s, double v)
{
  if (!isfinite (v)) {
    s->nonfinite++;
    return 0.0;
  }
  return v * s->opts.input_scale;
}

static gboolean compute_frame (AffectSpeech *s, AffectSpeechFrame *frame);

/* Computes every frame the samples allow into the queue, which drops the
 * samples no later frame needs: afterwards fewer than
 * affect_speech_latency_samples () samples are held. */
static void
queue_ready_frames (AffectSpeech *s)
{
  AffectSpeechFrame f;

  while (compute_frame (s, &f)) {
    g_array_append_val (s->queue, f);
    s->peak_queued = MAX (s->peak_queued, s->queue->len - s->queue_head);
  }
}

/* Makes room for @m more samples (m <= AFFECT_SPEECH_MAX_BACKLOG) and
 * returns where they go. */
static double *
reserve_samples (AffectSpeech *s, gsize m)
{
  guint old;

  if ((s->buf->len - s->buf_head) + m > AFFECT_SPEECH_MAX_BACKLOG)
    queue_ready_frames (s);
  old = s->buf->len;
  g_array_set_size (s->buf, old + (guint)m);
  s->peak_held = MAX (s->peak_held, s->buf->len - s->buf_head);
  return &g_array_index (s->buf, double, old);
}

/* Appends @n samples, read from @f (float) or else @d (double). */
static inline void
push_samples (AffectSpeech *s, const float *f, const double *d, gsize n)
{
  if (s->finished) {
    g_warning ("affect_speech_push after affect_speech_finish: ignored");
    return;
  }
  for (gsize done = 0; done < n;) {
    const gsize m = MIN (n - done, AFFECT_SPEECH_MAX_BACKLOG);
    double *dst = reserve_samples (s, m);
    for (gsize i = 0; i < m; i++)
      dst[i] = clean_sample (s, f ? (double)f[done + i] : d[done + i]);
    done += m;
    s->total += m;
  }
}

void
affect_speech_push (AffectSpeech *s, const float *samples, gsize n)
{
  g_return_if_fail (s != NULL);
  g_return_if_fail (samples != NULL || n == 0);
  push_samples (s, samples, NULL, n);
}

void
affect_speech_push_double (AffectSpeech *s, const double *samples, gsize n)
{
  g_return_if_fail (s != NULL);
  g_return_if_fail (samples != NULL || n == 0);
  push_samples (s, NULL, samples, n);
}

void
affect_speech_finish (AffectSpeech *s)
{
  g_return_if_fail (s != NULL);
  s->finished = TRUE;
}

static const double *
sample_at (AffectSpeech *s, guint64 abs)
{
  g_assert (abs >= s->buf_start);
  return &g_array_index (s->buf, double, s->buf_head + (abs - s->buf_start));
}

static guint
raw_at (AffectSpeech *s, guint64 t)
{
  g_assert (t >= s->raw_start && t < s->n_raw);
  return g_array_index (s->raw, guint, s->raw_head + (t - s->raw_start));
}

/* Computes the raw pitch lags up to frame @last (inclusive); the caller
 * made sure that the samples allow it. */
static void
advance_raw (AffectSpeech *s, guint64 last)
{
  while (s->n_raw <= last) {
    const guint64 start = s->n_raw * s->shift;
    guint lag;
    g_array_set_size (s->corr, s->corr->len + s->n_corr);
    lag = affect_pitch_frame_lag (s->pitch, sample_at (s, start),
        (gsize)MIN (s->total - start, (guint64)s->span),
        &g_array_index (s->corr, double, s->corr->len - s->n_corr));
    g_array_append_val (s->raw, lag);
    s->n_raw++;
  }
}

/* The next frame, when the samples pushed so far allow it. */
static gboolean
compute_frame (AffectSpeech *s, AffectSpeechFrame *frame)
{
  const guint64 i = s->next_row;
  const guint64 start = i * s->shift;
  guint64 last_raw, need;
  guint lag;

  if (start + s->wsize > s->total)
    return FALSE;
  need = i + s->after;
  if (s->finished) {
    /* nf >= i + 1 since start + wsize <= total */
    last_raw = affect_pitch_num_frames (s->pitch, s->total) - 1;
    need = MIN (need, last_raw);
  } else {
    if (need * s->shift + s->span > s->total)
      return FALSE;
    last_raw = G_MAXUINT64;
  }
  advance_raw (s, need);

  for (guint j = 0; j < s->opts.pitch.win_length; j++) {
    gint64 t = (gint64)i - (gint64)s->before + j;
    guint64 u = t < 0 ? 0 : (guint64)t;
    if (u > last_raw)
      u = last_raw;
    s->win[j] = raw_at (s, u);
  }
  lag = affect_pitch_median (s->win, s->opts.pitch.win_length, s->scratch);

  memset (frame, 0, sizeof (*frame));
  frame->index = i;
  frame->time = (double)start / s->opts.sample_rate;
  frame->n_mfcc = s->opts.mfcc.num_ceps;
  affect_mfcc_compute_frame (
      s->mfcc, sample_at (s, start), frame->mfcc, NULL, &frame->log_energy);
  frame->f0_hz = s->opts.sample_rate / (1e-9 + (double)lag);
  frame->voicing = affect_pitch_voicing_from_corr (
      &g_array_index (s->corr, double,
          (gsize)s->raw_head * s->n_corr
              + (gsize)(i - s->raw_start) * s->n_corr),
      lag);
  frame->voiced = frame->voicing >= s->opts.pitch.voicing_threshold;
  s->next_row++;

  /* Drop what no later frame needs. */
  {
    const guint64 keep_sample = MIN (s->next_row * s->shift, s->total);
    const guint64 keep_raw
        = s->next_row > s->before ? s->next_row - s->before : 0;
    if (keep_sample > s->buf_start) {
      drop_front (s->buf, &s->buf_head, (guint)(keep_sample - s->buf_start), 1,
          &s->moved);
      s->buf_start = keep_sample;
    }
    if (keep_raw > s->raw_start) {
      guint corr_head = s->raw_head * s->n_corr;
      const guint k = (guint)(keep_raw - s->raw_start);
      drop_front (s->raw, &s->raw_head, k, 1, NULL);
      drop_front (s->corr, &corr_head, k, s->n_corr, NULL);
      g_assert (corr_head == s->raw_head * s->n_corr);
      s->raw_start = keep_raw;
    }
  }
  return TRUE;
}

gboolean
affect_speech_pull (AffectSpeech *s, AffectSpeechFrame *frame)
{
  g_return_val_if_fail (s != NULL && frame != NULL, FALSE);

  if (s->queue_head < s->queue->len) {
    *frame = g_array_index (s->queue, AffectSpeechFrame, s->queue_head);
    drop_front (s->queue, &s->queue_head, 1, 1, NULL);
    return TRUE;
  }
  return compute_frame (s, frame);
}
