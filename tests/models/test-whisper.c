/* gst-affect — tests/models
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Whisper recognition (models/asr/) against faster-whisper / ctranslate2
 * (tests/golden/asr/whisper-decode-golden.json, make-golden-decode.py):
 *  - the decoder's logits for a fixed prompt and eight greedy steps (KV
 *    cache) on espeak-fox's first window;
 *  - the tokenizer (ids to text, special tokens);
 *  - greedy decoding with Whisper's rules: token sequences, texts and
 *    segment times of every test recording (a silent one and one longer
 *    than 30 s included);
 *  - word timestamps (within 20 ms).
 * Needs the tiny.en model (skipped without it, a failure with
 * AFFECT_REQUIRE_MODELS=1).
 */

#include <check.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <sndfile.h>
#include <string.h>

#include "affect-ct2.h"
#include "affect-whisper-decoder.h"
#include "affect-whisper-encoder.h"
#include "affect-whisper-mel.h"
#include "affect-whisper.h"
#include "test-tools.h"

/* ctranslate2's float32 logits vs ours (golden rounded to 1e-4) */
#define LOGITS_TOL 5e-4

/* the affect-transcribe program (argument 1) */
static const gchar *transcribe_tool = NULL;

/* a file of tests/golden/asr/ */
static gchar *
golden_path (const gchar *file)
{
  return affect_test_golden_path ("asr", file);
}

static JsonParser *
load_golden_file (const gchar *name)
{
  gchar *path = golden_path (name);
  JsonParser *p = affect_test_load_json (path);

  g_free (path);
  return p;
}

static JsonParser *
load_golden (void)
{
  return load_golden_file ("whisper-decode-golden.json");
}

static JsonObject *
golden_root (JsonParser *p)
{
  return json_node_get_object (json_parser_get_root (p));
}

/* 16-bit samples / 32768, as the reference decodes them */
static gfloat *
read_wav (const gchar *rel, gsize *n)
{
  gchar *path = golden_path (rel);
  gint rate = 0;
  gfloat *x = affect_test_read_wav_s16 (path, &rate, n);

  ck_assert_int_eq (rate, 16000);
  g_free (path);
  return x;
}

static gchar *
require_tiny (void)
{
  GError *err = NULL;
  gchar *dir = affect_ct2_find_whisper ("tiny.en", NULL, &err);

  if (dir)
    return dir;
  ck_assert_msg (g_strcmp0 (g_getenv ("AFFECT_REQUIRE_MODELS"), "1") != 0,
      "Whisper tiny.en missing and AFFECT_REQUIRE_MODELS=1: %s", err->message);
  g_printerr ("SKIP: %s\n", err->message);
  g_error_free (err);
  return NULL;
}

static gint32 *
int_array (JsonArray *a, guint *n)
{
  guint i, len = json_array_get_length (a);
  gint32 *v = g_new (gint32, MAX (len, 1));

  for (i = 0; i < len; i++)
    v[i] = (gint32)json_array_get_int_element (a, i);
  *n = len;
  return v;
}

/* ---- the decoder ---------------------------------------------------------- */

START_TEST (test_decoder_logits)
{
  GError *err = NULL;
  gchar *dir = require_tiny (), *path;
  JsonParser *p;
  JsonObject *lo;
  JsonArray *steps, *ids_a;
  AffectCt2File *f;
  AffectBackend *be;
  AffectWhisperEncoder *enc;
  AffectWhisperDecoder *dec;
  AffectWhisperMel *m;
  AffectTensor *y;
  gint32 *prompt, *gen, *ids;
  guint n_prompt, n_gen, n_ids, s, k;
  gsize n, n_frames;
  gfloat *x, *mel, *win, *logits;
  double worst = 0.0;
  int V;

  if (!dir)
    return;
  be = affect_backend_cpu_new (2);
  path = g_build_filename (dir, "model.bin", NULL);
  f = affect_ct2_open (path, &err);
  ck_assert_msg (f != NULL, "%s", err ? err->message : "?");
  enc = affect_whisper_encoder_new (be, f, &err);
  ck_assert_msg (enc != NULL, "%s", err ? err->message : "?");
  dec = affect_whisper_decoder_new (be, f, &err);
  ck_assert_msg (dec != NULL, "%s", err ? err->message : "?");
  affect_ct2_close (f);
  V = affect_whisper_decoder_get_vocab_size (dec);
  ck_assert_int_eq (V, 51864);
  ck_assert_int_eq (affect_whisper_decoder_get_width (dec), 384);
  ck_assert_int_eq (affect_whisper_decoder_get_n_layers (dec), 4);
  ck_assert_int_eq (affect_whisper_decoder_get_n_heads (dec), 6);
  ck_assert_int_eq (affect_whisper_decoder_get_max_length (dec), 448);

  p = load_golden ();
  lo = json_object_get_object_member (golden_root (p), "logits");
  prompt = int_array (json_object_get_array_member (lo, "start"), &n_prompt);
  gen = int_array (json_object_get_array_member (lo, "generated"), &n_gen);
  ids_a = json_object_get_array_member (lo, "ids");
  ids = int_array (ids_a, &n_ids);
  steps = json_object_get_array_member (lo, "steps");
  ck_assert_uint_ge (json_array_get_length (steps), 4);

  /* no audio yet: an error */
  ck_assert (!affect_whisper_decoder_forward (
      dec, prompt, n_prompt, FALSE, NULL, NULL, &err));
  ck_assert (err != NULL);
  g_clear_error (&err);

  m = affect_whisper_mel_new (80);
  x = read_wav ("espeak-fox.wav", &n);
  mel = affect_whisper_mel_compute (
      m, x, n, AFFECT_WHISPER_DEFAULT_PADDING, &n_frames);
  win = g_new (gfloat, 80 * AFFECT_WHISPER_CHUNK_FRAMES);
  affect_whisper_mel_window (mel, 80, n_frames, 0, n_frames - 1, win);
  y = affect_whisper_encoder_forward (enc, win);
  affect_whisper_decoder_set_audio (dec, y);
  affect_tensor_free (y);

  /* the prompt at once, then one token per step: step s's logits are the
   * prediction after prompt + gen[0..s) */
  logits = g_new (gfloat, V);
  ck_assert (affect_whisper_decoder_forward (
      dec, prompt, n_prompt, FALSE, logits, NULL, &err));
  for (s = 0; s < json_array_get_length (steps); s++) {
    JsonObject *st = json_array_get_object_element (steps, s);
    JsonArray *vals = json_object_get_array_member (st, "values");
    JsonArray *top = json_object_get_array_member (st, "top");
    double mx = -INFINITY, mean = 0.0;
    int i, best = 0;

    for (i = 0; i < V; i++) {
      mean += logits[i];
      if (logits[i] > mx) {
        mx = logits[i];
        best = i;
      }
    }
    mean /= V;
    /* the greedy choice is the reference's */
    ck_assert_int_eq (best, json_array_get_int_element (top, 0));
    ck_assert_int_eq (best, gen[s]);
    ck_assert (
        fabs (mx - json_object_get_double_member (st, "max")) <= LOGITS_TOL);
    ck_assert (
        fabs (mean - json_object_get_double_member (st, "mean")) <= LOGITS_TOL);
    for (k = 0; k < n_ids; k++) {
      double want = json_array_get_double_element (vals, k);
      double d = fabs (logits[ids[k]] - want);

      ck_assert_msg (d <= LOGITS_TOL, "step %u id %d: %.5f != %.5f", s, ids[k],
          logits[ids[k]], want);
      worst = MAX (worst, d);
    }
    ck_assert_int_eq (
        affect_whisper_decoder_get_length (dec), (int)(n_prompt + s));
    if (s + 1 < json_array_get_length (steps))
      ck_assert (affect_whisper_decoder_forward (
          dec, &gen[s], 1, FALSE, logits, NULL, &err));
  }
  g_print ("decoder: logits max |diff| %.2e over %u steps x %u ids\n", worst,
      json_array_get_length (steps), n_ids);

  /* the same sequence in one call (all rows) gives the same logits as the
   * step-by-step cache, and a reset starts again at position 0 */
  {
    guint total = n_prompt + json_array_get_length (steps) - 1;
    gint32 *all = g_new (gint32, total);
    gfloat *rows = g_new (gfloat, (gsize)total * V);
    double dmax = 0.0;
    int i;

    memcpy (all, prompt, n_prompt * sizeof (gint32));
    memcpy (all + n_prompt, gen, (total - n_prompt) * sizeof (gint32));
    affect_whisper_decoder_reset (dec);
    ck_assert_int_eq (affect_whisper_decoder_get_length (dec), 0);
    ck_assert (affect_whisper_decoder_forward (
        dec, all, total, TRUE, rows, NULL, &err));
    for (i = 0; i < V; i++)
      dmax = MAX (dmax, fabs (rows[(gsize)(total - 1) * V + i] - logits[i]));
    ck_assert_msg (dmax <= 1e-3, "batched vs cached: %g", dmax);
    /* past the 448 positions: an error, nothing changes */
    {
      gint32 *many = g_new0 (gint32, 448);

      ck_assert (!affect_whisper_decoder_forward (
          dec, many, 448, FALSE, NULL, NULL, &err));
      ck_assert (err != NULL);
      g_clear_error (&err);
      g_free (many);
    }
    ck_assert_int_eq (affect_whisper_decoder_get_length (dec), (int)total);
    g_free (all);
    g_free (rows);
  }

  g_free (logits);
  g_free (prompt);
  g_free (gen);
  g_free (ids);
  g_free (win);
  g_free (mel);
  g_free (x);
  affect_whisper_mel_free (m);
  affect_whisper_decoder_free (dec);
  affect_whisper_encoder_free (enc);
  affect_backend_unref (be);
  g_object_unref (p);
  g_free (path);
  g_free (dir);
}
END_TEST

/* ---- the tokenizer -------------------------------------------------------- */

START_TEST (test_tokenizer)
{
  GError *err = NULL;
  gchar *dir = require_tiny ();
  AffectWhisperTokenizer *tok;
  const AffectWhisperSpecials *sp;
  JsonParser *p;
  JsonArray *recs, *sup;
  AffectBackend *be;
  AffectWhisper *w;
  const gint32 *ids;
  gsize n, nb;
  const guint8 *b;
  guint r, s, k;
  gchar *text;

  if (!dir)
    return;
  ck_assert (affect_whisper_tokenizer_new ("/nonexistent", &err) == NULL);
  ck_assert (err != NULL);
  g_clear_error (&err);

  tok = affect_whisper_tokenizer_new (dir, &err);
  ck_assert_msg (tok != NULL, "%s", err ? err->message : "?");
  sp = affect_whisper_tokenizer_get_specials (tok);
  ck_assert_int_eq (affect_whisper_tokenizer_get_vocab_size (tok), 51864);
  ck_assert (!affect_whisper_tokenizer_is_multilingual (tok));
  ck_assert_int_eq (sp->eot, 50256);
  ck_assert_int_eq (sp->sot, 50257);
  ck_assert_int_eq (sp->translate, 50357);
  ck_assert_int_eq (sp->transcribe, 50358);
  ck_assert_int_eq (sp->sot_lm, 50359);
  ck_assert_int_eq (sp->sot_prev, 50360);
  ck_assert_int_eq (sp->no_speech, 50361); /* <|nocaptions|> in tiny.en */
  ck_assert_int_eq (sp->no_timestamps, 50362);
  ck_assert_int_eq (sp->timestamp_begin, 50363);
  ck_assert_int_eq (sp->timestamp_end, 51863);
  ck_assert_str_eq (
      affect_whisper_tokenizer_get_token (tok, 50363), "<|0.00|>");
  ck_assert_str_eq (
      affect_whisper_tokenizer_get_token (tok, 51863), "<|30.00|>");
  ck_assert (affect_whisper_tokenizer_get_token (tok, 51864) == NULL);
  ck_assert (affect_whisper_tokenizer_get_token (tok, -1) == NULL);
  ck_assert (fabs (affect_whisper_tokenizer_timestamp (tok, 50363 + 151) - 3.02)
             < 1e-9);
  ck_assert (affect_whisper_tokenizer_timestamp (tok, 383) < 0);
  ck_assert_int_eq (
      affect_whisper_tokenizer_lookup (tok, "<|notimestamps|>"), 50362);
  ck_assert_int_eq (affect_whisper_tokenizer_lookup (tok, "no such token"), -1);
  /* byte-level BPE: "Ġ" is a space, "Ċ" a newline, "!" itself */
  b = affect_whisper_tokenizer_get_bytes (tok, 220, &nb);
  ck_assert (b != NULL && nb == 1 && b[0] == ' ');
  b = affect_whisper_tokenizer_get_bytes (tok, 198, &nb);
  ck_assert (b != NULL && nb == 1 && b[0] == '\n');
  b = affect_whisper_tokenizer_get_bytes (tok, 0, &nb);
  ck_assert (b != NULL && nb == 1 && b[0] == '!');
  ck_assert (affect_whisper_tokenizer_get_bytes (tok, sp->eot, &nb) == NULL);
  /* specials and timestamps are left out of the text */
  {
    const gint32 seq[] = { 50257, 50363, 383, 2068, 50256, 50400 };

    text = affect_whisper_tokenizer_decode (tok, seq, G_N_ELEMENTS (seq));
    ck_assert_str_eq (text, " The quick");
    g_free (text);
  }
  /* a byte sequence cut inside a character becomes U+FFFD, never invalid */
  {
    gint32 id = -1, i;

    for (i = 0; i < sp->eot && id < 0; i++) {
      b = affect_whisper_tokenizer_get_bytes (tok, i, &nb);
      if (b && nb == 1 && b[0] >= 0xc2 && b[0] < 0xf0)
        id = i; /* a lone lead byte */
    }
    ck_assert_int_ge (id, 0);
    text = affect_whisper_tokenizer_decode (tok, &id, 1);
    ck_assert (g_utf8_validate (text, -1, NULL));
    ck_assert_str_eq (text, "\xef\xbf\xbd");
    g_free (text);
  }
  ids = affect_whisper_tokenizer_get_suppress_ids_begin (tok, &n);
  ck_assert_uint_eq (n, 2);
  ck_assert_int_eq (ids[0], 220);
  ck_assert_int_eq (ids[1], 50256);
  affect_whisper_tokenizer_get_alignment_heads (tok, &n);
  ck_assert_uint_eq (n, 8);

  /* every golden segment's tokens decode to its text */
  p = load_golden ();
  recs = json_object_get_array_member (golden_root (p), "recordings");
  for (r = 0; r < json_array_get_length (recs); r++) {
    JsonArray *segs = json_object_get_array_member (
        json_array_get_object_element (recs, r), "segments");

    for (s = 0; s < json_array_get_length (segs); s++) {
      JsonObject *so = json_array_get_object_element (segs, s);
      guint nt;
      gint32 *t = int_array (json_object_get_array_member (so, "tokens"), &nt);

      text = affect_whisper_tokenizer_decode (tok, t, nt);
      ck_assert_str_eq (text, json_object_get_string_member (so, "text"));
      g_free (text);
      g_free (t);
    }
  }
  affect_whisper_tokenizer_free (tok);

  /* the suppressed tokens are the reference's */
  be = affect_backend_cpu_new (2);
  w = affect_whisper_new (be, dir, &err);
  ck_assert_msg (w != NULL, "%s", err ? err->message : "?");
  sup = json_object_get_array_member (golden_root (p), "suppress_tokens");
  ids = affect_whisper_get_suppress_tokens (w, &n);
  ck_assert_uint_eq (n, json_array_get_length (sup));
  for (k = 0; k < n; k++)
    ck_assert_int_eq (ids[k], json_array_get_int_element (sup, k));
  affect_whisper_free (w);
  affect_backend_unref (be);
  g_object_unref (p);
  g_free (dir);
}
END_TEST

/* ---- transcription -------------------------------------------------------- */

/* the recording @rec of the golden file: a committed clip, the 3-s silence
 * or the long one (as make-golden-decode.py's long_recording()) */
static gfloat *
recording (JsonObject *rec, gsize *n)
{
  const gchar *name = json_object_get_string_member (rec, "name");
  gfloat *x;

  if (json_object_get_string_member (rec, "file")) {
    x = read_wav (json_object_get_string_member (rec, "file"), n);
  } else if (g_str_equal (name, "silence-3s")) {
    *n = 48000;
    x = g_new0 (gfloat, *n);
  } else {
    static const gchar *const order[] = { "espeak-fox.wav", "espeak-asr.wav",
      "../speech/austen-0930.wav", "espeak-stella.wav" };
    GArray *a = g_array_new (FALSE, TRUE, sizeof (gfloat));
    guint rep, i;

    ck_assert_str_eq (name, "long");
    for (rep = 0; rep < 2; rep++)
      for (i = 0; i < G_N_ELEMENTS (order); i++) {
        gsize m;
        gfloat *c = read_wav (order[i], &m);

        g_array_append_vals (a, c, (guint)m);
        g_array_set_size (a, a->len + 16000);
        g_free (c);
      }
    *n = a->len;
    x = (gfloat *)g_array_free (a, FALSE);
  }
  ck_assert_uint_eq (*n, json_object_get_int_member (rec, "n_samples"));
  return x;
}

static void
progress_cb (double done, double total, gpointer user_data)
{
  double *last = user_data;

  ck_assert (done >= last[0] && done <= total + 1e-9);
  last[0] = done;
  last[1] += 1;
}

/* every recording of @golden (a file of make-golden-decode.py) transcribed
 * with the model in @dir */
static void
check_transcriptions (const gchar *dir, const gchar *golden, gboolean words,
    gboolean previous_text)
{
  GError *err = NULL;
  JsonParser *p;
  JsonArray *recs;
  AffectBackend *be;
  AffectWhisper *w;
  AffectWhisperOptions opt;
  guint r, s, k;
  double worst_word = 0.0, worst_lp = 0.0;

  be = affect_backend_cpu_new (2);
  w = affect_whisper_new (be, dir, &err);
  ck_assert_msg (w != NULL, "%s", err ? err->message : "?");
  affect_whisper_options_init (&opt);
  opt.word_timestamps = words;
  opt.condition_on_previous_text = previous_text;
  p = load_golden_file (golden);
  recs = json_object_get_array_member (golden_root (p), "recordings");
  ck_assert_uint_ge (json_array_get_length (recs), 1);
  for (r = 0; r < json_array_get_length (recs); r++) {
    JsonObject *rec = json_array_get_object_element (recs, r);
    const gchar *name = json_object_get_string_member (rec, "name");
    JsonArray *segs = json_object_get_array_member (
        rec, words ? "segments_words" : "segments");
    gsize n;
    gfloat *x = recording (rec, &n);
    double prog[2] = { 0.0, 0.0 };
    GPtrArray *got
        = affect_whisper_transcribe (w, x, n, &opt, progress_cb, prog, &err);

    ck_assert_msg (got != NULL, "%s", err ? err->message : "?");
    ck_assert_msg (got->len == json_array_get_length (segs),
        "%s: %u segments, reference %u", name, got->len,
        json_array_get_length (segs));
    ck_assert (prog[1] >= 1);
    ck_assert (fabs (prog[0] - (n / 160) / 100.0) < 1e-9);
    for (s = 0; s < got->len; s++) {
      AffectWhisperSegment *g = g_ptr_array_index (got, s);
      JsonObject *so = json_array_get_object_element (segs, s);
      guint nt;
      gint32 *t = int_array (json_object_get_array_member (so, "tokens"), &nt);

      g_print ("%s%s [%.2f-%.2f]%s\n", name, words ? " (words)" : "", g->start,
          g->end, g->text);
      ck_assert_str_eq (g->text, json_object_get_string_member (so, "text"));
      ck_assert_uint_eq (g->n_tokens, nt);
      for (k = 0; k < nt; k++)
        ck_assert_int_eq (g->tokens[k], t[k]);
      ck_assert_uint_eq (g->seek, json_object_get_int_member (so, "seek"));
      ck_assert_msg (
          fabs (g->start - json_object_get_double_member (so, "start")) < 1e-3
              && fabs (g->end - json_object_get_double_member (so, "end"))
                     < 1e-3,
          "%s segment %u: %.3f-%.3f, reference %.3f-%.3f", name, s, g->start,
          g->end, json_object_get_double_member (so, "start"),
          json_object_get_double_member (so, "end"));
      ck_assert (fabs (g->no_speech_prob
                       - json_object_get_double_member (so, "no_speech_prob"))
                 < 1e-3);
      worst_lp = MAX (
          worst_lp, fabs (g->avg_logprob
                          - json_object_get_double_member (so, "avg_logprob")));
      if (words) {
        JsonArray *wa = json_object_get_array_member (so, "words");

        ck_assert_uint_eq (g->n_words, json_array_get_length (wa));
        for (k = 0; k < g->n_words; k++) {
          JsonObject *wo = json_array_get_object_element (wa, k);
          double ds = fabs (
              g->words[k].start - json_object_get_double_member (wo, "start"));
          double de = fabs (
              g->words[k].end - json_object_get_double_member (wo, "end"));

          ck_assert_str_eq (
              g->words[k].word, json_object_get_string_member (wo, "word"));
          ck_assert_msg (ds <= 0.02 + 1e-6 && de <= 0.02 + 1e-6,
              "%s word %u \"%s\": %.2f-%.2f, reference %.2f-%.2f", name, k,
              g->words[k].word, g->words[k].start, g->words[k].end,
              json_object_get_double_member (wo, "start"),
              json_object_get_double_member (wo, "end"));
          ck_assert (fabs (g->words[k].probability
                           - json_object_get_double_member (wo, "probability"))
                     < 1e-2);
          worst_word = MAX (worst_word, MAX (ds, de));
        }
      } else {
        ck_assert (g->words == NULL && g->n_words == 0);
      }
      g_free (t);
    }
    g_ptr_array_unref (got);
    g_free (x);
  }
  g_print ("transcription%s: avg_logprob max |diff| %.2e",
      words ? " (words)" : "", worst_lp);
  if (words)
    g_print (", word times max |diff| %.3f s", worst_word);
  g_print ("\n");
  ck_assert (worst_lp < 1e-2);
  affect_whisper_free (w);
  affect_backend_unref (be);
  g_object_unref (p);
}

START_TEST (test_transcribe)
{
  gchar *dir = require_tiny ();

  if (dir) {
    JsonParser *p = load_golden ();

    /* four clips, the silence and the long one */
    ck_assert_uint_eq (json_array_get_length (json_object_get_array_member (
                           golden_root (p), "recordings")),
        6);
    g_object_unref (p);
    check_transcriptions (dir, "whisper-decode-golden.json", FALSE, FALSE);
  }
  g_free (dir);
}
END_TEST

START_TEST (test_word_timestamps)
{
  gchar *dir = require_tiny ();

  if (dir)
    check_transcriptions (dir, "whisper-decode-golden.json", TRUE, FALSE);
  g_free (dir);
}
END_TEST

/* condition_on_previous_text: the long recording's second window is
 * decoded after the first one's text (and comes out differently) */
START_TEST (test_previous_text)
{
  gchar *dir = require_tiny ();

  if (dir) {
    check_transcriptions (dir, "whisper-prevtext-golden.json", FALSE, TRUE);
    check_transcriptions (dir, "whisper-prevtext-golden.json", TRUE, TRUE);
  }
  g_free (dir);
}
END_TEST

/* the multilingual base model (start sequence with <|en|><|transcribe|>,
 * no-speech probability at the <|startoftranscript|> position): only when
 * it is installed (affect-fetch-asr-model base; the test set-up fetches
 * tiny.en only) */
START_TEST (test_base_model)
{
  GError *err = NULL;
  gchar *dir = affect_ct2_find_whisper ("base", NULL, &err);

  if (!dir) {
    g_printerr ("SKIP: %s\n", err->message);
    g_error_free (err);
    return;
  }
  check_transcriptions (dir, "whisper-base-golden.json", FALSE, FALSE);
  check_transcriptions (dir, "whisper-base-golden.json", TRUE, FALSE);
  {
    AffectBackend *be = affect_backend_cpu_new (2);
    AffectWhisper *w = affect_whisper_new (be, dir, &err);
    AffectWhisperOptions opt;
    gfloat silence[16000] = { 0 };

    ck_assert_msg (w != NULL, "%s", err ? err->message : "?");
    ck_assert (affect_whisper_tokenizer_is_multilingual (
        affect_whisper_get_tokenizer (w)));
    /* an unknown language is an error */
    affect_whisper_options_init (&opt);
    opt.language = "xx";
    ck_assert (
        affect_whisper_transcribe (w, silence, 16000, &opt, NULL, NULL, &err)
        == NULL);
    ck_assert (err != NULL);
    g_clear_error (&err);
    affect_whisper_free (w);
    affect_backend_unref (be);
  }
  g_free (dir);
}
END_TEST

START_TEST (test_dtw)
{
  /* a diagonal of 3 rows over 5 columns; the path the reference's
   * algorithm takes (a diagonal move only where it is strictly cheaper, so
   * a staircase here), from (0, 0) to (2, 4) */
  const gfloat x[15] = { 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1 };
  gint *rows, *cols;
  gsize len = affect_whisper_dtw (x, 3, 5, &rows, &cols), k;
  const gint want_r[] = { 0, 0, 1, 1, 2, 2, 2 },
             want_c[] = { 0, 1, 1, 2, 2, 3, 4 };

  ck_assert_uint_eq (len, 7);
  for (k = 0; k < len; k++) {
    ck_assert_int_eq (rows[k], want_r[k]);
    ck_assert_int_eq (cols[k], want_c[k]);
  }
  g_free (rows);
  g_free (cols);
}
END_TEST

/* ---- affect-transcribe ---------------------------------------------------- */

static void
write_wav (const gchar *path, const gfloat *x, gsize n, int rate, int channels)
{
  SF_INFO info = { 0 };
  SNDFILE *sf;

  info.samplerate = rate;
  info.channels = channels;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  sf = sf_open (path, SFM_WRITE, &info);
  ck_assert_msg (sf != NULL, "%s: %s", path, sf_strerror (NULL));
  ck_assert_int_eq (sf_writef_float (sf, x, (sf_count_t)n), (sf_count_t)n);
  sf_close (sf);
}

static JsonObject *
golden_recording (JsonParser *p, const gchar *name)
{
  JsonArray *recs
      = json_object_get_array_member (golden_root (p), "recordings");
  guint r;

  for (r = 0; r < json_array_get_length (recs); r++) {
    JsonObject *rec = json_array_get_object_element (recs, r);

    if (g_str_equal (json_object_get_string_member (rec, "name"), name))
      return rec;
  }
  ck_abort_msg ("no golden recording %s", name);
  return NULL;
}

/* the JSON output's segments against the golden "segments_words" */
static void
check_tool_json (const gchar *path, JsonObject *rec)
{
  JsonParser *jp = affect_test_load_json (path);
  JsonArray *got, *want;
  guint s, k;

  got = json_object_get_array_member (
      json_node_get_object (json_parser_get_root (jp)), "segments");
  want = json_object_get_array_member (rec, "segments_words");
  ck_assert_uint_eq (json_array_get_length (got), json_array_get_length (want));
  for (s = 0; s < json_array_get_length (got); s++) {
    JsonObject *g = json_array_get_object_element (got, s);
    JsonObject *o = json_array_get_object_element (want, s);
    JsonArray *gw = json_object_get_array_member (g, "words");
    JsonArray *ow = json_object_get_array_member (o, "words");

    ck_assert_str_eq (json_object_get_string_member (g, "text"),
        json_object_get_string_member (o, "text"));
    ck_assert (fabs (json_object_get_double_member (g, "start")
                     - json_object_get_double_member (o, "start"))
               < 1e-3);
    ck_assert (fabs (json_object_get_double_member (g, "end")
                     - json_object_get_double_member (o, "end"))
               < 1e-3);
    ck_assert_uint_eq (json_array_get_length (gw), json_array_get_length (ow));
    for (k = 0; k < json_array_get_length (gw); k++) {
      JsonObject *a = json_array_get_object_element (gw, k);
      JsonObject *b = json_array_get_object_element (ow, k);

      ck_assert_str_eq (json_object_get_string_member (a, "word"),
          json_object_get_string_member (b, "word"));
      ck_assert (fabs (json_object_get_double_member (a, "start")
                       - json_object_get_double_member (b, "start"))
                 <= 0.02 + 1e-6);
      ck_assert (fabs (json_object_get_double_member (a, "end")
                       - json_object_get_double_member (b, "end"))
                 <= 0.02 + 1e-6);
    }
  }
  g_object_unref (jp);
}

START_TEST (test_tool)
{
  gchar *dir = require_tiny (), *tmp, *wav, *srt, *vtt, *json, *out = NULL,
        *errs = NULL, *text;
  JsonParser *p;
  gsize n;
  gfloat *x;

  if (!dir)
    return;
  ck_assert_msg (transcribe_tool != NULL, "no affect-transcribe path given");
  p = load_golden ();
  tmp = g_dir_make_tmp ("test-transcribe-XXXXXX", NULL);
  ck_assert (tmp != NULL);
  wav = golden_path ("espeak-fox.wav");
  srt = g_build_filename (tmp, "fox.srt", NULL);
  vtt = g_build_filename (tmp, "fox.vtt", NULL);
  json = g_build_filename (tmp, "fox.json", NULL);

  /* SubRip, WebVTT, JSON and text by the output's extension or --format */
  {
    const gchar *a1[] = { wav, "-t", "2", "-o", srt, NULL };
    const gchar *a2[] = { wav, "-t", "2", "-o", vtt, NULL };
    const gchar *a3[] = { wav, "-t", "2", "-o", json, NULL };
    const gchar *a4[] = { wav, "-t", "2", "--no-words", NULL };

    ck_assert_int_eq (
        affect_test_run_tool (transcribe_tool, a1, NULL, NULL), 0);
    ck_assert (g_file_get_contents (srt, &text, NULL, NULL));
    ck_assert_str_eq (text, "1\n00:00:00,000 --> 00:00:03,040\n"
                            "The quick round-fark jump over the lazy dog.\n\n");
    g_free (text);
    ck_assert_int_eq (
        affect_test_run_tool (transcribe_tool, a2, NULL, NULL), 0);
    ck_assert (g_file_get_contents (vtt, &text, NULL, NULL));
    ck_assert_str_eq (text, "WEBVTT\n\n00:00:00.000 --> 00:00:03.040\n"
                            "The quick round-fark jump over the lazy dog.\n\n");
    g_free (text);
    ck_assert_int_eq (
        affect_test_run_tool (transcribe_tool, a3, &out, &errs), 0);
    /* a short file: no progress line */
    ck_assert_msg (strstr (errs, "progress") == NULL, "%s", errs);
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&errs, g_free);
    check_tool_json (json, golden_recording (p, "espeak-fox"));
    /* segments only: the times of the decoding, not of the words */
    ck_assert_int_eq (
        affect_test_run_tool (transcribe_tool, a4, &out, NULL), 0);
    ck_assert_str_eq (
        out, "[0.00 --> 3.20] The quick round-fark jump over the lazy dog.\n");
    g_clear_pointer (&out, g_free);
  }

  /* 44.1 kHz stereo: mixed down and resampled, the same words come out */
  x = read_wav ("espeak-fox.wav", &n);
  {
    gsize m = n * 441 / 160, i;
    gfloat *st = g_new (gfloat, 2 * m);
    gchar *path = g_build_filename (tmp, "fox-44k.wav", NULL);
    const gchar *a[] = { path, "-t", "2", "--no-words", NULL };

    /* linear interpolation is enough for this */
    for (i = 0; i < m; i++) {
      double pos = i * 160.0 / 441.0;
      gsize j = (gsize)pos;
      double f = pos - j;
      gfloat v = (gfloat)(j + 1 < n ? x[j] * (1 - f) + x[j + 1] * f : x[n - 1]);

      st[2 * i] = st[2 * i + 1] = v;
    }
    write_wav (path, st, m, 44100, 2);
    ck_assert_int_eq (affect_test_run_tool (transcribe_tool, a, &out, NULL), 0);
    ck_assert_msg (strstr (out, "lazy dog") != NULL, "%s", out);
    g_clear_pointer (&out, g_free);
    g_free (st);
    g_free (path);
  }
  g_free (x);

  /* a recording over 30 s: a progress line, and the reference's result */
  {
    JsonObject *rec = golden_recording (p, "long");
    gchar *path = g_build_filename (tmp, "long.wav", NULL);
    gchar *lj = g_build_filename (tmp, "long.json", NULL);
    const gchar *a[] = { path, "-t", "2", "-o", lj, NULL };

    x = recording (rec, &n);
    write_wav (path, x, n, 16000, 1);
    ck_assert_int_eq (
        affect_test_run_tool (transcribe_tool, a, NULL, &errs), 0);
    ck_assert_msg (strstr (errs, "progress") != NULL, "%s", errs);
    ck_assert_msg (strstr (errs, "(100%)") != NULL, "%s", errs);
    g_clear_pointer (&errs, g_free);
    check_tool_json (lj, rec);
    g_free (x);
    g_unlink (path);
    g_unlink (lj);
    g_free (path);
    g_free (lj);
  }

  /* errors: a status and a message, no output */
  {
    const gchar *a1[] = { "/nonexistent.wav", NULL };
    const gchar *a2[] = { wav, "-o", "out.xyz", NULL };
    const gchar *a3[] = { wav, "--model-dir", "/nonexistent", NULL };
    const gchar *a4[] = { NULL };

    ck_assert_int_ne (
        affect_test_run_tool (transcribe_tool, a1, &out, &errs), 0);
    ck_assert_msg (strstr (errs, "cannot read") != NULL, "%s", errs);
    ck_assert_str_eq (out, "");
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&errs, g_free);
    ck_assert_int_ne (
        affect_test_run_tool (transcribe_tool, a2, NULL, &errs), 0);
    ck_assert_msg (strstr (errs, "format") != NULL, "%s", errs);
    g_clear_pointer (&errs, g_free);
    ck_assert_int_ne (
        affect_test_run_tool (transcribe_tool, a3, NULL, &errs), 0);
    ck_assert_msg (strstr (errs, "/nonexistent") != NULL, "%s", errs);
    g_clear_pointer (&errs, g_free);
    ck_assert_int_ne (
        affect_test_run_tool (transcribe_tool, a4, NULL, NULL), 0);
  }

  g_unlink (srt);
  g_unlink (vtt);
  g_unlink (json);
  {
    gchar *f = g_build_filename (tmp, "fox-44k.wav", NULL);

    g_unlink (f);
    g_free (f);
  }
  g_rmdir (tmp);
  g_free (srt);
  g_free (vtt);
  g_free (json);
  g_free (wav);
  g_free (tmp);
  g_object_unref (p);
  g_free (dir);
}
END_TEST

static Suite *
whisper_suite (void)
{
  Suite *s = suite_create ("whisper");
  TCase *td = tcase_create ("decoder"), *tt;

  tcase_set_timeout (td, 600);
  tcase_add_test (td, test_decoder_logits);
  tcase_add_test (td, test_tokenizer);
  tcase_add_test (td, test_dtw);
  suite_add_tcase (s, td);
  tt = tcase_create ("transcribe");
  tcase_set_timeout (tt, 900);
  tcase_add_test (tt, test_transcribe);
  tcase_add_test (tt, test_word_timestamps);
  tcase_add_test (tt, test_tool);
  tcase_add_test (tt, test_previous_text);
  tcase_add_test (tt, test_base_model);
  suite_add_tcase (s, tt);
  return s;
}

int
main (int argc, char **argv)
{
  SRunner *sr;
  int failed;

  if (argc > 1)
    transcribe_tool = argv[1];
  sr = srunner_create (whisper_suite ());
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
