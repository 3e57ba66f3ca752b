/* gst-affect — models/asr
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Whisper transcription; see affect-whisper.h. The window loop, the
 * segment splitting and the word timing follow faster-whisper 1.2's
 * transcribe.py (generate_segments, _split_segments_by_timestamps,
 * add_word_timestamps, find_alignment, merge_punctuations); the decoding
 * rules and the alignment follow CTranslate2 4.x's Whisper model.
 */

#include "affect-whisper.h"

#include "affect-ct2.h"
#include "affect-whisper-decoder.h"
#include "affect-whisper-encoder.h"
#include "affect-whisper-mel.h"

#include <gio/gio.h>
#include <math.h>
#include <string.h>

#define MAX_LENGTH 448 /* faster-whisper's max_length */
#define TIME_PRECISION 0.02
#define FRAMES_PER_SECOND 100
#define TOKENS_PER_SECOND 50
#define INPUT_STRIDE 2
#define MEDIAN_WIDTH 7

static const gchar PREPEND_PUNCT[] = "\"'“¿([{-";
static const gchar APPEND_PUNCT[] = "\"'.。,，!！?？:：”)]}、";
/* Python's string.punctuation */
static const gchar ASCII_PUNCT[] = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

struct _AffectWhisper {
  AffectBackend *backend;
  AffectWhisperMel *mel;
  AffectWhisperEncoder *enc;
  AffectWhisperDecoder *dec;
  AffectWhisperTokenizer *tok;
  const AffectWhisperSpecials *sp;
  GArray *suppress; /* gint32, sorted, unique */
  int vocab;
  AffectWhisperTime profile[AFFECT_WHISPER_N_PARTS];
};

void
affect_whisper_options_init (AffectWhisperOptions *opt)
{
  memset (opt, 0, sizeof (*opt));
  opt->no_speech_threshold = 0.6;
  opt->log_prob_threshold = -1.0;
  opt->max_initial_timestamp = 1.0;
  opt->suppress_blank = TRUE;
  opt->language = "en";
}

void
affect_whisper_segment_free (AffectWhisperSegment *seg)
{
  gsize i;

  if (!seg)
    return;
  for (i = 0; i < seg->n_words; i++)
    g_free (seg->words[i].word);
  g_free (seg->words);
  g_free (seg->text);
  g_free (seg->tokens);
  g_free (seg);
}

static gint
cmp_int32 (gconstpointer a, gconstpointer b)
{
  gint32 x = *(const gint32 *)a, y = *(const gint32 *)b;

  return x < y ? -1 : x > y;
}

AffectWhisper *
affect_whisper_new (AffectBackend *backend, const gchar *dir, GError **error)
{
  AffectWhisper *w = g_new0 (AffectWhisper, 1);
  gchar *path = g_build_filename (dir, "model.bin", NULL);
  AffectCt2File *f;
  const gint32 *ids;
  gsize n, i;
  const int *heads;
  AffectWhisperClock clock;

  affect_whisper_clock_start (&clock);
  w->backend = affect_backend_ref (backend);
  f = affect_ct2_open (path, error);
  g_free (path);
  if (!f)
    goto fail;
  w->enc = affect_whisper_encoder_new (backend, f, error);
  if (w->enc)
    w->dec = affect_whisper_decoder_new (backend, f, error);
  affect_ct2_close (f);
  if (!w->enc || !w->dec)
    goto fail;
  if (!(w->tok = affect_whisper_tokenizer_new (dir, error)))
    goto fail;
  w->vocab = affect_whisper_decoder_get_vocab_size (w->dec);
  if (affect_whisper_tokenizer_get_vocab_size (w->tok) != w->vocab) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "%s: vocabulary.txt has %d tokens, model.bin %d", dir,
        affect_whisper_tokenizer_get_vocab_size (w->tok), w->vocab);
    goto fail;
  }
  w->sp = affect_whisper_tokenizer_get_specials (w->tok);
  w->mel = affect_whisper_mel_new (
      (guint)affect_whisper_encoder_get_n_mels (w->enc));
  if (!w->mel) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "%s: unsupported number of mel bins", dir);
    goto fail;
  }
  heads = affect_whisper_tokenizer_get_alignment_heads (w->tok, &n);
  for (i = 0; i < n; i++)
    if (heads[2 * i] < 0
        || heads[2 * i] >= affect_whisper_decoder_get_n_layers (w->dec)
        || heads[2 * i + 1] < 0
        || heads[2 * i + 1] >= affect_whisper_decoder_get_n_heads (w->dec)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "%s: config.json alignment head (%d, %d) is not in the decoder", dir,
          heads[2 * i], heads[2 * i + 1]);
      goto fail;
    }
  affect_whisper_decoder_set_capture_heads (w->dec, heads, (int)n);

  /* as faster-whisper's get_suppressed_tokens (-1): the model's list and
   * the task / start tokens */
  w->suppress = g_array_new (FALSE, FALSE, sizeof (gint32));
  ids = affect_whisper_tokenizer_get_suppress_ids (w->tok, &n);
  for (i = 0; i < n; i++)
    if (ids[i] >= 0 && ids[i] < w->vocab)
      g_array_append_val (w->suppress, ids[i]);
  {
    const gint32 extra[] = { w->sp->transcribe, w->sp->translate, w->sp->sot,
      w->sp->sot_prev, w->sp->sot_lm, w->sp->no_speech };

    for (i = 0; i < G_N_ELEMENTS (extra); i++)
      if (extra[i] >= 0)
        g_array_append_val (w->suppress, extra[i]);
  }
  g_array_sort (w->suppress, cmp_int32);
  for (i = 1, n = w->suppress->len ? 1 : 0; i < w->suppress->len; i++)
    if (g_array_index (w->suppress, gint32, i)
        != g_array_index (w->suppress, gint32, n - 1))
      g_array_index (w->suppress, gint32, n++)
          = g_array_index (w->suppress, gint32, i);
  g_array_set_size (w->suppress, (guint)n);
  affect_whisper_time_add (&w->profile[AFFECT_WHISPER_PART_LOAD], &clock);
  return w;

fail:
  affect_whisper_free (w);
  return NULL;
}

void
affect_whisper_free (AffectWhisper *w)
{
  if (!w)
    return;
  g_clear_pointer (&w->mel, affect_whisper_mel_free);
  g_clear_pointer (&w->enc, affect_whisper_encoder_free);
  g_clear_pointer (&w->dec, affect_whisper_decoder_free);
  g_clear_pointer (&w->tok, affect_whisper_tokenizer_free);
  if (w->suppress)
    g_array_unref (w->suppress);
  affect_backend_unref (w->backend);
  g_free (w);
}

AffectWhisperTokenizer *
affect_whisper_get_tokenizer (AffectWhisper *w)
{
  return w->tok;
}

const gint32 *
affect_whisper_get_suppress_tokens (AffectWhisper *w, gsize *n)
{
  *n = w->suppress->len;
  return (const gint32 *)w->suppress->data;
}

const AffectWhisperTime *
affect_whisper_get_profile (AffectWhisper *w)
{
  w->profile[AFFECT_WHISPER_PART_LOGITS]
      = *affect_whisper_decoder_get_logits_time (w->dec);
  return w->profile;
}

void
affect_whisper_reset_profile (AffectWhisper *w)
{
  memset (w->profile, 0, sizeof (w->profile));
  memset (affect_whisper_decoder_get_logits_time (w->dec), 0,
      sizeof (AffectWhisperTime));
}

const gchar *
affect_whisper_part_name (AffectWhisperPart part)
{
  static const gchar *const names[AFFECT_WHISPER_N_PARTS] = {
    "load",
    "log-mel",
    "encoder",
    "cross K|V",
    "prompt",
    "decoder step",
    "  of which logits",
    "rules",
    "align pass",
    "align DTW",
  };

  g_return_val_if_fail (part < AFFECT_WHISPER_N_PARTS, NULL);
  return names[part];
}

/* ---- greedy decoding of one window ---------------------------------------- */

typedef struct {
  GArray *tokens; /* gint32, without the final eot */
  double sum_logprob, avg_logprob, no_speech_prob;
} Generation;

static void
mask_range (gfloat *logits, gint32 from, gint32 to)
{
  gint32 i;

  for (i = MAX (from, 0); i < to; i++)
    logits[i] = -INFINITY;
}

/* log Σ exp over [from, to) */
static double
logsumexp (const gfloat *x, gint32 from, gint32 to)
{
  double mx = -INFINITY, s = 0.0;
  gint32 i;

  for (i = from; i < to; i++)
    mx = MAX (mx, x[i]);
  if (mx == -INFINITY)
    return -INFINITY;
  for (i = from; i < to; i++)
    s += exp (x[i] - mx);
  return mx + log (s);
}

static gboolean
generate (AffectWhisper *w, const gint32 *prompt, int n_prompt, int sot_index,
    const AffectWhisperOptions *opt, Generation *g, GError **error)
{
  const AffectWhisperSpecials *sp = w->sp;
  const int V = w->vocab;
  const gint32 ts_begin = sp->timestamp_begin, ts_end = sp->timestamp_end;
  const gint32 max_initial
      = ts_begin
        + (gint32)nearbyint (opt->max_initial_timestamp / TIME_PRECISION);
  const int max_steps = MIN (MAX_LENGTH / 2, MAX_LENGTH - (n_prompt - 1));
  gfloat *logits = g_new (gfloat, V);
  int step;
  gboolean ok = TRUE;
  AffectWhisperClock clock;

  g->tokens = g_array_new (FALSE, FALSE, sizeof (gint32));
  g->sum_logprob = 0.0;
  g->no_speech_prob = 0.0;
  affect_whisper_decoder_reset (w->dec);
  affect_whisper_clock_start (&clock);
  /* the prompt up to <|startoftranscript|> (the previous text before it,
   * if any): the no-speech probability is read from the logits predicted
   * there, as CTranslate2 does; then the rest of the start sequence, whose
   * last logits start the decoding */
  if (!affect_whisper_decoder_forward (
          w->dec, prompt, sot_index + 1, FALSE, logits, NULL, error))
    goto fail;
  g->no_speech_prob = exp (logits[sp->no_speech] - logsumexp (logits, 0, V));
  if (sot_index + 1 < n_prompt
      && !affect_whisper_decoder_forward (w->dec, prompt + sot_index + 1,
          n_prompt - sot_index - 1, FALSE, logits, NULL, error))
    goto fail;
  affect_whisper_time_add (&w->profile[AFFECT_WHISPER_PART_PROMPT], &clock);
  for (step = 0; step < max_steps; step++) {
    const gint32 *seq = (const gint32 *)g->tokens->data;
    gboolean check = FALSE, lse_valid = FALSE;
    gint32 best = 0, i;
    double lse = 0.0;
    gsize k, n;

    affect_whisper_clock_start (&clock);
    /* suppressed tokens, blanks at the start */
    for (k = 0; k < w->suppress->len; k++)
      logits[g_array_index (w->suppress, gint32, k)] = -INFINITY;
    if (step == 0 && opt->suppress_blank) {
      const gint32 *b
          = affect_whisper_tokenizer_get_suppress_ids_begin (w->tok, &n);

      for (k = 0; k < n; k++)
        if (b[k] >= 0 && b[k] < V)
          logits[b[k]] = -INFINITY;
    }
    /* the timestamp rules */
    logits[sp->no_timestamps] = -INFINITY;
    if (step == 0) {
      mask_range (logits, 0, ts_begin);
      mask_range (logits, max_initial + 1, ts_end + 1);
    } else {
      gint32 last = seq[step - 1];

      if (last >= ts_begin) {
        gint32 penultimate = step - 1 > 0 ? seq[step - 2] : last;

        if (penultimate >= ts_begin) {
          mask_range (logits, ts_begin, ts_end + 1);
        } else {
          mask_range (logits, 0, sp->eot);
          check = TRUE;
        }
      } else {
        check = TRUE;
      }
      for (i = step - 1; i >= 0; i--)
        if (seq[i] >= ts_begin) {
          mask_range (logits, ts_begin, seq[i]);
          break;
        }
    }
    if (check) {
      double ts_lp, text_max = -INFINITY;

      lse = logsumexp (logits, 0, V);
      ts_lp = logsumexp (logits, ts_begin, ts_end + 1) - lse;
      for (i = 0; i < ts_begin; i++)
        text_max = MAX (text_max, logits[i] - lse);
      if (ts_lp > text_max)
        mask_range (logits, 0, ts_begin);
      else
        lse_valid = TRUE; /* the logits are those it summed */
    }

    for (i = 1; i < V; i++)
      if (logits[i] > logits[best])
        best = i;
    if (!lse_valid)
      lse = logsumexp (logits, 0, V);
    g->sum_logprob += logits[best] - lse;
    affect_whisper_time_add (&w->profile[AFFECT_WHISPER_PART_RULES], &clock);
    if (best == sp->eot)
      break;
    g_array_append_val (g->tokens, best);
    if (step + 1 < max_steps) {
      affect_whisper_clock_start (&clock);
      if (!affect_whisper_decoder_forward (
              w->dec, &best, 1, FALSE, logits, NULL, error)) {
        ok = FALSE;
        break;
      }
      affect_whisper_time_add (&w->profile[AFFECT_WHISPER_PART_STEP], &clock);
    }
  }
  /* as faster-whisper recovers it from CTranslate2's length-normalised
   * score */
  g->avg_logprob = g->sum_logprob / (g->tokens->len + 1);
  g_free (logits);
  if (!ok)
    g_array_unref (g->tokens);
  return ok;

fail:
  g_free (logits);
  g_array_unref (g->tokens);
  return FALSE;
}

/* ---- segments ----------------------------------------------------------- */

typedef struct {
  gsize seek;
  double start, end;
  GArray *tokens; /* gint32 */
  GArray *words;  /* AffectWhisperWord */
} Sub;

static void
sub_clear (Sub *s)
{
  guint i;

  if (s->tokens)
    g_array_unref (s->tokens);
  if (s->words) {
    for (i = 0; i < s->words->len; i++)
      g_free (g_array_index (s->words, AffectWhisperWord, i).word);
    g_array_unref (s->words);
  }
}

static Sub *
sub_add (GArray *subs, gsize seek, double start, double end,
    const gint32 *tokens, gsize n)
{
  Sub s = { seek, start, end, g_array_new (FALSE, FALSE, sizeof (gint32)),
    g_array_new (FALSE, FALSE, sizeof (AffectWhisperWord)) };

  g_array_append_vals (s.tokens, tokens, (guint)n);
  g_array_append_val (subs, s);
  return &g_array_index (subs, Sub, subs->len - 1);
}

/* _split_segments_by_timestamps: fills @subs, returns the new seek */
static gsize
split_segments (AffectWhisper *w, const gint32 *tok, gsize n,
    double time_offset, gsize segment_size, double segment_duration, gsize seek,
    GArray *subs, gboolean *single_ending)
{
  const gint32 tb = w->sp->timestamp_begin;
  GArray *slices = g_array_new (FALSE, FALSE, sizeof (gsize));
  gsize i;

  *single_ending = n >= 2 && tok[n - 2] < tb && tok[n - 1] >= tb;
  for (i = 1; i < n; i++)
    if (tok[i] >= tb && tok[i - 1] >= tb)
      g_array_append_val (slices, i);
  if (slices->len > 0) {
    gsize last = 0, k;

    if (*single_ending)
      g_array_append_val (slices, n);
    for (k = 0; k < slices->len; k++) {
      gsize cur = g_array_index (slices, gsize, k);
      double start = time_offset + (tok[last] - tb) * TIME_PRECISION;
      double end = time_offset + (tok[cur - 1] - tb) * TIME_PRECISION;

      sub_add (subs, seek, start, end, tok + last, cur - last);
      last = cur;
    }
    if (*single_ending)
      seek += segment_size;
    else
      seek += (gsize)(tok[last - 1] - tb) * INPUT_STRIDE;
  } else {
    double duration = segment_duration;
    gint32 last_ts = -1;

    for (i = 0; i < n; i++)
      if (tok[i] >= tb)
        last_ts = tok[i];
    if (last_ts >= 0 && last_ts != tb)
      duration = (last_ts - tb) * TIME_PRECISION;
    sub_add (subs, seek, time_offset, time_offset + duration, tok, n);
    seek += segment_size;
  }
  g_array_unref (slices);
  return seek;
}

/* ---- word timestamps ---------------------------------------------------- */

gsize
affect_whisper_dtw (
    const gfloat *x, gsize n, gsize m, gint **rows_out, gint **cols_out)
{
  const gsize W = m + 1;
  gfloat *cost = g_new (gfloat, (n + 1) * W);
  gint8 *trace = g_new (gint8, (n + 1) * W);
  GArray *ri = g_array_new (FALSE, FALSE, sizeof (gint));
  GArray *ci = g_array_new (FALSE, FALSE, sizeof (gint));
  gsize i, j, k, len;

  for (k = 0; k < (n + 1) * W; k++) {
    cost[k] = INFINITY;
    trace[k] = -1;
  }
  cost[0] = 0.0f;
  for (j = 1; j <= m; j++)
    for (i = 1; i <= n; i++) {
      const gfloat c0 = cost[(i - 1) * W + j - 1], c1 = cost[(i - 1) * W + j],
                   c2 = cost[i * W + j - 1];
      gfloat c;
      gint8 t;

      if (c0 < c1 && c0 < c2) {
        c = c0;
        t = 0;
      } else if (c1 < c0 && c1 < c2) {
        c = c1;
        t = 1;
      } else {
        c = c2;
        t = 2;
      }
      cost[i * W + j] = -x[(i - 1) * m + j - 1] + c;
      trace[i * W + j] = t;
    }
  for (j = 0; j <= m; j++)
    trace[j] = 2;
  for (i = 0; i <= n; i++)
    trace[i * W] = 1;
  i = n;
  j = m;
  while (i > 0 || j > 0) {
    gint a = (gint)i - 1, b = (gint)j - 1;
    gint8 t = trace[i * W + j];

    g_array_append_val (ri, a);
    g_array_append_val (ci, b);
    if (t == 0) {
      i--;
      j--;
    } else if (t == 1) {
      i--;
    } else {
      j--;
    }
  }
  len = ri->len;
  /* reverse */
  for (k = 0; k < len / 2; k++) {
    gint *r = (gint *)ri->data, *c = (gint *)ci->data, tmp;

    tmp = r[k];
    r[k] = r[len - 1 - k];
    r[len - 1 - k] = tmp;
    tmp = c[k];
    c[k] = c[len - 1 - k];
    c[len - 1 - k] = tmp;
  }
  *rows_out = (gint *)g_array_free (ri, FALSE);
  *cols_out = (gint *)g_array_free (ci, FALSE);
  g_free (cost);
  g_free (trace);
  return len;
}

/* median filter of width MEDIAN_WIDTH along a row of @m, with reflection at
 * the edges (in place; rows shorter than the half width stay as they are) */
static void
median_row (gfloat *row, gsize m)
{
  const gint rank = MEDIAN_WIDTH / 2;
  gfloat *in, win[MEDIAN_WIDTH];
  gsize j;
  gint k;

  if (m <= (gsize)rank)
    return;
  in = g_memdup2 (row, m * sizeof (gfloat));
  for (j = 0; j < m; j++) {
    for (k = -rank; k <= rank; k++) {
      gint64 r = ABS ((gint64)j + k);

      if (r >= (gint64)m)
        r = (gint64)m - (r - (gint64)m) - 2;
      win[k + rank] = in[r];
    }
    /* insertion sort: the same median as a full sort, without qsort's
     * calls through a comparison function (7 values per frame) */
    for (k = 1; k < MEDIAN_WIDTH; k++) {
      const gfloat v = win[k];
      gint l = k - 1;

      while (l >= 0 && win[l] > v) {
        win[l + 1] = win[l];
        l--;
      }
      win[l + 1] = v;
    }
    row[j] = win[rank];
  }
  g_free (in);
}

typedef struct {
  gchar *word;
  GArray *tokens; /* gint32 */
  double start, end, probability;
} Timing;

static void
timing_clear (Timing *t)
{
  g_free (t->word);
  if (t->tokens)
    g_array_unref (t->tokens);
}

static gchar *
decode_bytes (AffectWhisper *w, const gint32 *ids, gsize n, gboolean *valid)
{
  GString *s = g_string_new (NULL);
  gsize i;

  for (i = 0; i < n; i++) {
    gsize nb;
    const guint8 *b;

    if (ids[i] >= w->sp->eot)
      continue;
    b = affect_whisper_tokenizer_get_bytes (w->tok, ids[i], &nb);
    if (b)
      g_string_append_len (s, (const gchar *)b, (gssize)nb);
  }
  *valid = g_utf8_validate (s->str, (gssize)s->len, NULL);
  return g_string_free (s, FALSE);
}

/* split_tokens_on_spaces (over split_tokens_on_unicode): words and their
 * tokens; a group of tokens ends where its bytes are valid UTF-8 */
static GArray *
split_words (AffectWhisper *w, const gint32 *tok, gsize n)
{
  GArray *words = g_array_new (FALSE, TRUE, sizeof (Timing));
  GArray *cur = g_array_new (FALSE, FALSE, sizeof (gint32));
  gsize i;

  for (i = 0; i < n; i++) {
    gboolean valid;
    gchar *sub;

    g_array_append_val (cur, tok[i]);
    sub = decode_bytes (w, (const gint32 *)cur->data, cur->len, &valid);
    if (!valid && i + 1 < n) {
      g_free (sub);
      continue;
    }
    if (!valid) {
      gchar *fixed = g_utf8_make_valid (sub, -1);

      g_free (sub);
      sub = fixed;
    }
    {
      gboolean special = g_array_index (cur, gint32, 0) >= w->sp->eot;
      gboolean with_space = sub[0] == ' ';
      gchar *stripped = g_strstrip (g_strdup (sub));
      gboolean punct = strstr (ASCII_PUNCT, stripped) != NULL;

      g_free (stripped);
      if (special || with_space || punct || words->len == 0) {
        Timing t
            = { sub, g_array_new (FALSE, FALSE, sizeof (gint32)), 0, 0, 0 };

        g_array_append_vals (t.tokens, cur->data, cur->len);
        g_array_append_val (words, t);
      } else {
        Timing *t = &g_array_index (words, Timing, words->len - 1);
        gchar *joined = g_strconcat (t->word, sub, NULL);

        g_free (t->word);
        g_free (sub);
        t->word = joined;
        g_array_append_vals (t->tokens, cur->data, cur->len);
      }
    }
    g_array_set_size (cur, 0);
  }
  g_array_unref (cur);
  return words;
}

static gsize
affect_whisper_alignment_heads (AffectWhisper *w)
{
  gsize n;

  affect_whisper_tokenizer_get_alignment_heads (w->tok, &n);
  return n;
}

/* find_alignment: per word (eot excluded) its tokens, start, end and mean
 * token probability, in window-relative seconds. */
static GArray *
find_alignment (AffectWhisper *w, const gint32 *sot_seq, int n_sot,
    const gint32 *text, gsize n_text, gsize num_frames, GError **error)
{
  const int V = w->vocab;
  gsize n_heads = affect_whisper_alignment_heads (w);
  const gsize n_in = n_sot + 1 + n_text + 1;
  const gsize T = 1500; /* encoder frames of a window */
  gsize frames = MIN (num_frames / 2, T);
  gint32 *in = g_new (gint32, n_in);
  gfloat *logits = g_new (gfloat, n_in * V);
  gfloat *cap = g_new (gfloat, MAX (n_heads, 1) * n_in * T);
  gfloat *weights, *probs;
  GArray *words = NULL;
  gsize h, r, j, k, len;
  gint *rows, *cols;
  double *jump_times;
  gsize n_jumps;
  AffectWhisperClock clock;

  if (n_text == 0 || n_heads == 0 || frames == 0)
    goto empty;
  memcpy (in, sot_seq, n_sot * sizeof (gint32));
  in[n_sot] = w->sp->no_timestamps;
  memcpy (in + n_sot + 1, text, n_text * sizeof (gint32));
  in[n_in - 1] = w->sp->eot;
  if (n_in > (gsize)affect_whisper_decoder_get_max_length (w->dec)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "word timestamps: %zu tokens pass the decoder's length", n_in);
    goto fail;
  }
  affect_whisper_decoder_reset (w->dec);
  affect_whisper_clock_start (&clock);
  if (!affect_whisper_decoder_forward (
          w->dec, in, (int)n_in, TRUE, logits, cap, error))
    goto fail;
  affect_whisper_time_add (&w->profile[AFFECT_WHISPER_PART_ALIGN], &clock);
  affect_whisper_clock_start (&clock);

  /* token probabilities: softmax over the text tokens (ids < eot) */
  probs = g_new (gfloat, n_text);
  for (k = 0; k < n_text; k++) {
    const gfloat *row = logits + (n_sot + k) * V;
    double lse = logsumexp (row, 0, w->sp->eot);

    probs[k] = (gfloat)exp (row[text[k]] - lse);
  }

  /* per head: softmax over the content frames, normalise over the rows,
   * median filter over the frames; then the mean over the heads */
  weights = g_new0 (gfloat, n_in * frames);
  for (h = 0; h < n_heads; h++) {
    gfloat *a = g_new (gfloat, n_in * frames);

    for (r = 0; r < n_in; r++) {
      const gfloat *src = cap + (h * n_in + r) * T;
      gfloat *dst = a + r * frames;
      double mx = -INFINITY, s = 0.0;

      for (j = 0; j < frames; j++)
        mx = MAX (mx, src[j]);
      for (j = 0; j < frames; j++)
        s += exp (src[j] - mx);
      for (j = 0; j < frames; j++)
        dst[j] = (gfloat)(exp (src[j] - mx) / s);
    }
    for (j = 0; j < frames; j++) {
      double mean = 0.0, var = 0.0;

      for (r = 0; r < n_in; r++)
        mean += a[r * frames + j];
      mean /= n_in;
      for (r = 0; r < n_in; r++)
        var += (a[r * frames + j] - mean) * (a[r * frames + j] - mean);
      var /= n_in;
      for (r = 0; r < n_in; r++)
        a[r * frames + j] = (gfloat)((a[r * frames + j] - mean) / sqrt (var));
    }
    for (r = 0; r < n_in; r++)
      median_row (a + r * frames, frames);
    for (k = 0; k < n_in * frames; k++)
      weights[k] += a[k];
    g_free (a);
  }
  for (k = 0; k < n_in * frames; k++)
    weights[k] /= (gfloat)n_heads;

  /* DTW over the rows of the no-timestamps token and the text tokens */
  len = affect_whisper_dtw (
      weights + n_sot * frames, n_text + 1, frames, &rows, &cols);
  jump_times = g_new (double, len);
  n_jumps = 0;
  for (k = 0; k < len; k++)
    if (k == 0 || rows[k] != rows[k - 1])
      jump_times[n_jumps++] = (double)cols[k] / TOKENS_PER_SECOND;

  {
    gint32 *with_eot = g_new (gint32, n_text + 1);
    gsize boundary = 0;

    memcpy (with_eot, text, n_text * sizeof (gint32));
    with_eot[n_text] = w->sp->eot;
    words = split_words (w, with_eot, n_text + 1);
    g_free (with_eot);
    /* the last "word" is the eot */
    if (words->len <= 1) {
      for (k = 0; k < words->len; k++)
        timing_clear (&g_array_index (words, Timing, k));
      g_array_set_size (words, 0);
    } else {
      Timing *last = &g_array_index (words, Timing, words->len - 1);

      timing_clear (last);
      g_array_set_size (words, words->len - 1);
    }
    for (k = 0; k < words->len; k++) {
      Timing *t = &g_array_index (words, Timing, k);
      gsize end = boundary + t->tokens->len;
      double p = 0.0;

      g_assert (end < n_jumps);
      t->start = jump_times[boundary];
      t->end = jump_times[end];
      for (j = boundary; j < end; j++)
        p += probs[j];
      t->probability = p / (double)(end - boundary);
      boundary = end;
    }
  }
  g_free (jump_times);
  g_free (rows);
  g_free (cols);
  g_free (weights);
  g_free (probs);
  g_free (in);
  g_free (logits);
  g_free (cap);
  affect_whisper_time_add (&w->profile[AFFECT_WHISPER_PART_DTW], &clock);
  return words;

empty:
  g_free (in);
  g_free (logits);
  g_free (cap);
  return g_array_new (FALSE, TRUE, sizeof (Timing));

fail:
  g_free (in);
  g_free (logits);
  g_free (cap);
  return NULL;
}

static gboolean
str_in (const gchar *haystack, const gchar *needle)
{
  return strstr (haystack, needle) != NULL;
}

static void
merge_punctuations (GArray *al)
{
  gint i, j;

  /* prepended punctuation joins the following word */
  i = (gint)al->len - 2;
  j = (gint)al->len - 1;
  while (i >= 0) {
    Timing *prev = &g_array_index (al, Timing, i);
    Timing *next = &g_array_index (al, Timing, j);
    gchar *stripped = g_strstrip (g_strdup (prev->word));

    if (prev->word[0] == ' ' && str_in (PREPEND_PUNCT, stripped)) {
      gchar *joined = g_strconcat (prev->word, next->word, NULL);
      GArray *toks = g_array_new (FALSE, FALSE, sizeof (gint32));

      g_array_append_vals (toks, prev->tokens->data, prev->tokens->len);
      g_array_append_vals (toks, next->tokens->data, next->tokens->len);
      g_free (next->word);
      next->word = joined;
      g_array_unref (next->tokens);
      next->tokens = toks;
      g_free (prev->word);
      prev->word = g_strdup ("");
      g_array_set_size (prev->tokens, 0);
    } else {
      j = i;
    }
    g_free (stripped);
    i--;
  }
  /* appended punctuation joins the previous word */
  i = 0;
  j = 1;
  while (j < (gint)al->len) {
    Timing *prev = &g_array_index (al, Timing, i);
    Timing *next = &g_array_index (al, Timing, j);
    gsize pl = strlen (prev->word);

    if (!(pl > 0 && prev->word[pl - 1] == ' ')
        && str_in (APPEND_PUNCT, next->word)) {
      gchar *joined = g_strconcat (prev->word, next->word, NULL);

      g_free (prev->word);
      prev->word = joined;
      g_array_append_vals (prev->tokens, next->tokens->data, next->tokens->len);
      g_free (next->word);
      next->word = g_strdup ("");
      g_array_set_size (next->tokens, 0);
    } else {
      i = j;
    }
    j++;
  }
}

static gint
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return x < y ? -1 : x > y;
}

/* Python's round (x, 2) for the values met here */
static double
round2 (double x)
{
  return nearbyint (x * 100.0) / 100.0;
}

static gboolean
is_sentence_end (const gchar *word)
{
  /* Python's "in" on a string: any substring of the marks */
  return str_in (".。!！?？", word);
}

/* add_word_timestamps for one window's segments */
static gboolean
add_word_timestamps (AffectWhisper *w, GArray *subs, const gint32 *sot_seq,
    int n_sot, gsize num_frames, double last_speech_timestamp, GError **error)
{
  GArray *text = g_array_new (FALSE, FALSE, sizeof (gint32));
  gsize *per_sub = g_new0 (gsize, MAX (subs->len, 1));
  GArray *al;
  double median = 0.0, max_duration;
  guint s, k, word_index = 0;
  double time_offset;

  if (subs->len == 0) {
    g_array_unref (text);
    g_free (per_sub);
    return TRUE;
  }
  for (s = 0; s < subs->len; s++) {
    Sub *sub = &g_array_index (subs, Sub, s);

    for (k = 0; k < sub->tokens->len; k++) {
      gint32 t = g_array_index (sub->tokens, gint32, k);

      if (t < w->sp->eot) {
        g_array_append_val (text, t);
        per_sub[s]++;
      }
    }
  }
  al = find_alignment (w, sot_seq, n_sot, (const gint32 *)text->data, text->len,
      num_frames, error);
  g_array_unref (text);
  if (!al) {
    g_free (per_sub);
    return FALSE;
  }

  {
    double *d = g_new (double, MAX (al->len, 1));
    gsize nd = 0;

    for (k = 0; k < al->len; k++) {
      Timing *t = &g_array_index (al, Timing, k);

      if (t->end - t->start != 0.0)
        d[nd++] = t->end - t->start;
    }
    if (nd > 0) {
      qsort (d, nd, sizeof (double), cmp_double);
      median = nd % 2 ? d[nd / 2] : (d[nd / 2 - 1] + d[nd / 2]) / 2.0;
    }
    median = MIN (0.7, median);
    max_duration = median * 2;
    if (nd > 0)
      for (k = 1; k < al->len; k++) {
        Timing *t = &g_array_index (al, Timing, k);
        Timing *p = &g_array_index (al, Timing, k - 1);

        if (t->end - t->start > max_duration) {
          if (is_sentence_end (t->word))
            t->end = t->start + max_duration;
          else if (is_sentence_end (p->word))
            t->start = t->end - max_duration;
        }
      }
    g_free (d);
  }
  merge_punctuations (al);

  time_offset
      = (double)g_array_index (subs, Sub, 0).seek / (double)FRAMES_PER_SECOND;
  for (s = 0; s < subs->len; s++) {
    Sub *sub = &g_array_index (subs, Sub, s);
    gsize saved = 0;
    GArray *words = sub->words;

    while (word_index < al->len && saved < per_sub[s]) {
      Timing *t = &g_array_index (al, Timing, word_index);

      if (t->word[0]) {
        AffectWhisperWord wd
            = { g_strdup (t->word), round2 (time_offset + t->start),
                round2 (time_offset + t->end), t->probability };

        g_array_append_val (words, wd);
      }
      saved += t->tokens->len;
      word_index++;
    }
    if (words->len > 0) {
      AffectWhisperWord *w0 = &g_array_index (words, AffectWhisperWord, 0);
      AffectWhisperWord *wl
          = &g_array_index (words, AffectWhisperWord, words->len - 1);

      if (w0->end - last_speech_timestamp > median * 4
          && (w0->end - w0->start > max_duration
              || (words->len > 1
                  && g_array_index (words, AffectWhisperWord, 1).end - w0->start
                         > max_duration * 2))) {
        if (words->len > 1) {
          AffectWhisperWord *w1 = &g_array_index (words, AffectWhisperWord, 1);

          if (w1->end - w1->start > max_duration) {
            double boundary = MAX (w1->end / 2, w1->end - max_duration);

            w0->end = w1->start = boundary;
          }
        }
        w0->start = MAX (0, w0->end - max_duration);
      }
      if (sub->start < w0->end && sub->start - 0.5 > w0->start)
        w0->start = MAX (0, MIN (w0->end - median, sub->start));
      else
        sub->start = w0->start;
      if (sub->end > wl->start && sub->end + 0.5 < wl->end)
        wl->end = MAX (wl->start + median, sub->end);
      else
        sub->end = wl->end;
      last_speech_timestamp = sub->end;
    }
  }
  for (k = 0; k < al->len; k++)
    timing_clear (&g_array_index (al, Timing, k));
  g_array_unref (al);
  g_free (per_sub);
  return TRUE;
}

/* utils.get_end: the end of the last word, else of the last segment */
static gboolean
get_end (GArray *subs, double *end)
{
  gint s;

  for (s = (gint)subs->len - 1; s >= 0; s--) {
    Sub *sub = &g_array_index (subs, Sub, s);

    if (sub->words->len > 0) {
      *end = g_array_index (sub->words, AffectWhisperWord, sub->words->len - 1)
                 .end;
      return TRUE;
    }
  }
  if (subs->len == 0)
    return FALSE;
  *end = g_array_index (subs, Sub, subs->len - 1).end;
  return TRUE;
}

/* ---- the window loop ---------------------------------------------------- */

static gboolean
is_blank (const gchar *s)
{
  for (; *s; s++)
    if (!g_ascii_isspace (*s))
      return FALSE;
  return TRUE;
}

GPtrArray *
affect_whisper_transcribe (AffectWhisper *w, const gfloat *samples,
    gsize n_samples, const AffectWhisperOptions *opt_in,
    AffectWhisperProgress progress, gpointer user_data, GError **error)
{
  AffectWhisperOptions opt;
  GPtrArray *out;
  gint32 sot_seq[3];
  int n_sot = 0;
  GArray *all_tokens, *prompt;
  gsize n_frames, content, seek = 0;
  gfloat *mel, *win;
  const guint n_mels = affect_whisper_mel_get_n_mels (w->mel);
  double last_speech_timestamp = 0.0, total;
  AffectWhisperClock clock;

  if (opt_in)
    opt = *opt_in;
  else
    affect_whisper_options_init (&opt);

  sot_seq[n_sot++] = w->sp->sot;
  if (affect_whisper_tokenizer_is_multilingual (w->tok)) {
    gchar *name = g_strdup_printf ("<|%s|>", opt.language ? opt.language : "");
    gint32 lang = affect_whisper_tokenizer_lookup (w->tok, name);

    g_free (name);
    if (lang < 0 || lang <= w->sp->sot || lang >= w->sp->translate) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "unknown language \"%s\"", opt.language ? opt.language : "(none)");
      return NULL;
    }
    sot_seq[n_sot++] = lang;
    sot_seq[n_sot++] = w->sp->transcribe;
  }
  all_tokens = g_array_new (FALSE, FALSE, sizeof (gint32));
  prompt = g_array_new (FALSE, FALSE, sizeof (gint32));

  out = g_ptr_array_new_with_free_func (
      (GDestroyNotify)affect_whisper_segment_free);
  affect_whisper_clock_start (&clock);
  mel = affect_whisper_mel_compute (
      w->mel, samples, n_samples, AFFECT_WHISPER_DEFAULT_PADDING, &n_frames);
  affect_whisper_time_add (&w->profile[AFFECT_WHISPER_PART_MEL], &clock);
  content = n_frames > 0 ? n_frames - 1 : 0;
  total = content / (double)FRAMES_PER_SECOND;
  win = g_new (gfloat, (gsize)n_mels * AFFECT_WHISPER_CHUNK_FRAMES);

  while (seek < content) {
    const double time_offset = seek / (double)FRAMES_PER_SECOND;
    const gsize segment_size
        = MIN (AFFECT_WHISPER_CHUNK_FRAMES, content - seek);
    const double segment_duration = segment_size / (double)FRAMES_PER_SECOND;
    const gsize previous_seek = seek;
    AffectTensor *enc;
    Generation g;
    GArray *subs;
    gboolean single_ending;
    guint s;

    affect_whisper_clock_start (&clock);
    affect_whisper_mel_window (mel, n_mels, n_frames, seek, segment_size, win);
    enc = affect_whisper_encoder_forward (w->enc, win);
    affect_whisper_time_add (&w->profile[AFFECT_WHISPER_PART_ENCODER], &clock);
    affect_whisper_clock_start (&clock);
    affect_whisper_decoder_set_audio (w->dec, enc);
    affect_tensor_free (enc);
    affect_whisper_time_add (&w->profile[AFFECT_WHISPER_PART_CROSS_KV], &clock);
    /* get_prompt: the previous text (at most 223 tokens) after
     * <|startofprev|>, then the start sequence */
    g_array_set_size (prompt, 0);
    if (opt.condition_on_previous_text && all_tokens->len > 0
        && w->sp->sot_prev >= 0) {
      const guint keep = MIN (all_tokens->len, MAX_LENGTH / 2 - 1);

      g_array_append_val (prompt, w->sp->sot_prev);
      g_array_append_vals (prompt,
          &g_array_index (all_tokens, gint32, all_tokens->len - keep), keep);
    }
    g_array_append_vals (prompt, sot_seq, n_sot);
    if (!generate (w, (const gint32 *)prompt->data, (int)prompt->len,
            (int)prompt->len - n_sot, &opt, &g, error))
      goto fail;

    if (opt.no_speech_threshold >= 0) {
      gboolean skip = g.no_speech_prob > opt.no_speech_threshold;

      if (g.avg_logprob > opt.log_prob_threshold)
        skip = FALSE;
      if (skip) {
        seek += segment_size;
        g_array_unref (g.tokens);
        if (progress)
          progress (MIN (content, seek) / (double)FRAMES_PER_SECOND, total,
              user_data);
        continue;
      }
    }

    subs = g_array_new (FALSE, TRUE, sizeof (Sub));
    g_array_set_clear_func (subs, (GDestroyNotify)sub_clear);
    seek = split_segments (w, (const gint32 *)g.tokens->data, g.tokens->len,
        time_offset, segment_size, segment_duration, seek, subs,
        &single_ending);
    if (opt.word_timestamps) {
      double last_end;

      if (!add_word_timestamps (w, subs, sot_seq, n_sot, segment_size,
              last_speech_timestamp, error)) {
        g_array_unref (subs);
        g_array_unref (g.tokens);
        goto fail;
      }
      if (!single_ending && get_end (subs, &last_end) && last_end > time_offset)
        seek = (gsize)nearbyint (last_end * FRAMES_PER_SECOND);
      if (get_end (subs, &last_end))
        last_speech_timestamp = last_end;
    }
    for (s = 0; s < subs->len; s++) {
      Sub *sub = &g_array_index (subs, Sub, s);
      gchar *text = affect_whisper_tokenizer_decode (
          w->tok, (const gint32 *)sub->tokens->data, sub->tokens->len);
      AffectWhisperSegment *seg;

      if (sub->start == sub->end || is_blank (text)) {
        g_free (text);
        continue;
      }
      seg = g_new0 (AffectWhisperSegment, 1);
      seg->seek = previous_seek;
      seg->start = sub->start;
      seg->end = sub->end;
      seg->text = text;
      seg->n_tokens = sub->tokens->len;
      seg->tokens = g_memdup2 (
          sub->tokens->data, sizeof (gint32) * MAX (sub->tokens->len, 1));
      seg->avg_logprob = g.avg_logprob;
      seg->no_speech_prob = g.no_speech_prob;
      if (opt.word_timestamps) {
        seg->n_words = sub->words->len;
        seg->words = (AffectWhisperWord *)g_array_free (sub->words, FALSE);
        sub->words = g_array_new (FALSE, FALSE, sizeof (AffectWhisperWord));
      }
      g_ptr_array_add (out, seg);
      g_array_append_vals (all_tokens, seg->tokens, (guint)seg->n_tokens);
    }
    g_array_unref (subs);
    g_array_unref (g.tokens);
    if (progress)
      progress (
          MIN (content, seek) / (double)FRAMES_PER_SECOND, total, user_data);
    /* a window that does not move (no timestamps at all is impossible here,
     * but a last word ending at the window's start would loop) */
    if (seek <= previous_seek)
      seek = previous_seek + segment_size;
  }
  g_free (win);
  g_free (mel);
  g_array_unref (all_tokens);
  g_array_unref (prompt);
  return out;

fail:
  g_free (win);
  g_free (mel);
  g_array_unref (all_tokens);
  g_array_unref (prompt);
  g_ptr_array_unref (out);
  return NULL;
}
