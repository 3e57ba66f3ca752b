/* gst-affect — models/tools
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * affect-transcribe: speech recognition (Whisper, models/asr/) of an audio
 * file, with segment and word times.
 *
 *   affect-transcribe FILE [-o OUT.srt|OUT.vtt|OUT.json] [options]
 *
 * Reads anything libsndfile reads, mixes down to mono and resamples to
 * 16 kHz (affect-audiofile.h), transcribes in 30-s windows (docs/asr.md)
 * and writes SubRip, WebVTT or JSON (segments with their words) chosen by
 * the output's extension or --format; without -o, text lines
 * "[start --> end] text" on standard output. On files longer than one
 * window a progress line goes to standard error (--quiet: none).
 */

#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "affect-audiofile.h"
#include "affect-ct2.h"
#include "affect-whisper-mel.h"
#include "affect-whisper.h"

typedef enum { FMT_TEXT, FMT_SRT, FMT_VTT, FMT_JSON } Format;

typedef struct {
  FILE *err;
  gboolean tty;
  gboolean shown;
} Progress;

static void
on_progress (double done, double total, gpointer user_data)
{
  Progress *p = user_data;

  fprintf (p->err, "affect-transcribe: progress %.1f / %.1f s (%.0f%%)%s", done,
      total, total > 0 ? 100.0 * done / total : 100.0, p->tty ? "\r" : "\n");
  fflush (p->err);
  p->shown = TRUE;
}

/* hh:mm:ss,mmm (SRT) or hh:mm:ss.mmm (WebVTT) */
static void
put_time (GString *s, double t, char sep)
{
  gint64 ms = (gint64)llround (MAX (t, 0.0) * 1000.0);

  g_string_append_printf (s, "%02" G_GINT64_FORMAT ":%02d:%02d%c%03d",
      ms / 3600000, (int)(ms / 60000 % 60), (int)(ms / 1000 % 60), sep,
      (int)(ms % 1000));
}

static gchar *
stripped (const gchar *text)
{
  return g_strstrip (g_strdup (text));
}

static gchar *
format_subtitles (GPtrArray *segs, Format fmt)
{
  GString *s = g_string_new (fmt == FMT_VTT ? "WEBVTT\n\n" : "");
  guint i;

  for (i = 0; i < segs->len; i++) {
    AffectWhisperSegment *g = g_ptr_array_index (segs, i);
    gchar *t = stripped (g->text);

    if (fmt == FMT_TEXT) {
      g_string_append_printf (s, "[%.2f --> %.2f] %s\n", g->start, g->end, t);
    } else {
      if (fmt == FMT_SRT)
        g_string_append_printf (s, "%u\n", i + 1);
      put_time (s, g->start, fmt == FMT_SRT ? ',' : '.');
      g_string_append (s, " --> ");
      put_time (s, g->end, fmt == FMT_SRT ? ',' : '.');
      g_string_append_printf (s, "\n%s\n\n", t);
    }
    g_free (t);
  }
  return g_string_free (s, FALSE);
}

static gchar *
format_json (GPtrArray *segs, const gchar *input, const gchar *model,
    double duration, gboolean words)
{
  JsonBuilder *b = json_builder_new ();
  JsonGenerator *gen = json_generator_new ();
  JsonNode *root;
  gchar *out;
  guint i;
  gsize k;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "input");
  json_builder_add_string_value (b, input);
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, model);
  json_builder_set_member_name (b, "duration");
  json_builder_add_double_value (b, duration);
  json_builder_set_member_name (b, "segments");
  json_builder_begin_array (b);
  for (i = 0; i < segs->len; i++) {
    AffectWhisperSegment *g = g_ptr_array_index (segs, i);

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "start");
    json_builder_add_double_value (b, g->start);
    json_builder_set_member_name (b, "end");
    json_builder_add_double_value (b, g->end);
    json_builder_set_member_name (b, "text");
    json_builder_add_string_value (b, g->text);
    json_builder_set_member_name (b, "avg_logprob");
    json_builder_add_double_value (b, g->avg_logprob);
    json_builder_set_member_name (b, "no_speech_prob");
    json_builder_add_double_value (b, g->no_speech_prob);
    if (words) {
      json_builder_set_member_name (b, "words");
      json_builder_begin_array (b);
      for (k = 0; k < g->n_words; k++) {
        json_builder_begin_object (b);
        json_builder_set_member_name (b, "word");
        json_builder_add_string_value (b, g->words[k].word);
        json_builder_set_member_name (b, "start");
        json_builder_add_double_value (b, g->words[k].start);
        json_builder_set_member_name (b, "end");
        json_builder_add_double_value (b, g->words[k].end);
        json_builder_set_member_name (b, "probability");
        json_builder_add_double_value (b, g->words[k].probability);
        json_builder_end_object (b);
      }
      json_builder_end_array (b);
    }
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  out = json_generator_to_data (gen, NULL);
  json_node_unref (root);
  g_object_unref (gen);
  g_object_unref (b);
  return out;
}

static gboolean
parse_format (const gchar *name, Format *fmt)
{
  if (g_ascii_strcasecmp (name, "srt") == 0)
    *fmt = FMT_SRT;
  else if (g_ascii_strcasecmp (name, "vtt") == 0)
    *fmt = FMT_VTT;
  else if (g_ascii_strcasecmp (name, "json") == 0)
    *fmt = FMT_JSON;
  else if (g_ascii_strcasecmp (name, "text") == 0
           || g_ascii_strcasecmp (name, "txt") == 0)
    *fmt = FMT_TEXT;
  else
    return FALSE;
  return TRUE;
}

/* --profile: where the time went, on stderr */
static void
print_profile (AffectWhisper *w, const AffectWhisperTime *read,
    const AffectWhisperTime *run, double audio_seconds)
{
  const AffectWhisperTime *p = affect_whisper_get_profile (w);
  int i;

  g_printerr ("profile: %.2f s of audio; wall / CPU seconds (CPU: every "
              "thread of the process)\n",
      audio_seconds);
  g_printerr ("  %-20s %7s %9s %9s %11s\n", "part", "calls", "wall s", "CPU s",
      "wall ms/call");
  g_printerr ("  %-20s %7" G_GUINT64_FORMAT " %9.3f %9.3f %11.3f\n",
      "read audio", read->count, read->wall, read->cpu,
      1e3 * read->wall / MAX (read->count, 1));
  for (i = 0; i < AFFECT_WHISPER_N_PARTS; i++)
    g_printerr ("  %-20s %7" G_GUINT64_FORMAT " %9.3f %9.3f %11.3f\n",
        affect_whisper_part_name (i), p[i].count, p[i].wall, p[i].cpu,
        1e3 * p[i].wall / MAX (p[i].count, 1));
  g_printerr ("  %-20s %7" G_GUINT64_FORMAT " %9.3f %9.3f %11.3f\n",
      "transcribe (all)", run->count, run->wall, run->cpu,
      1e3 * run->wall / MAX (run->count, 1));
}

int
main (int argc, char **argv)
{
  gchar *output = NULL, *model = NULL, *model_dir = NULL, *backend_name = NULL,
        *format = NULL, *language = NULL;
  gint threads = 0;
  gboolean no_words = FALSE, quiet = FALSE, previous_text = FALSE,
           profile = FALSE;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
        "Write to OUT (.srt, .vtt or .json; default: text on stdout)", "OUT" },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format,
        "srt, vtt, json or text (default: from OUT's extension)", "FMT" },
    { "model", 'm', 0, G_OPTION_ARG_STRING, &model,
        "Whisper model name (default " AFFECT_WHISPER_DEFAULT_MODEL ")",
        "NAME" },
    { "model-dir", 0, 0, G_OPTION_ARG_FILENAME, &model_dir,
        "A CTranslate2 Whisper folder (model.bin, config.json, "
        "vocabulary.txt)",
        "DIR" },
    { "language", 'l', 0, G_OPTION_ARG_STRING, &language,
        "Language code for a multilingual model (default en)", "CODE" },
    { "backend", 'b', 0, G_OPTION_ARG_STRING, &backend_name,
        "Inference backend (default auto)", "NAME" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads,
        "CPU threads (0 = all cores)", "N" },
    { "no-words", 0, 0, G_OPTION_ARG_NONE, &no_words,
        "No word timestamps (segments only)", NULL },
    { "condition-on-previous-text", 0, 0, G_OPTION_ARG_NONE, &previous_text,
        "Prompt each 30-s window with the text so far", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress line", NULL },
    { "profile", 0, 0, G_OPTION_ARG_NONE, &profile,
        "Print where the time went (model load, log-mel, encoder, decoder "
        "steps, alignment) on stderr",
        NULL },
    { NULL }
  };
  GOptionContext *ctx = g_option_context_new ("FILE");
  GError *error = NULL;
  AffectBackend *be = NULL;
  AffectWhisper *w = NULL;
  AffectWhisperOptions opt;
  GPtrArray *segs = NULL;
  gchar *dir = NULL, *text = NULL;
  float *x = NULL;
  gsize n = 0;
  int rate = 0, channels = 0, ret = 1;
  Format fmt = FMT_TEXT;
  Progress prog = { stderr, FALSE, FALSE };
  AffectWhisperTime read_time = { 0 }, run_time = { 0 };
  AffectWhisperClock clock;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_summary (ctx,
      "Speech recognition (Whisper) of an audio file: SubRip, WebVTT or JSON\n"
      "with segment and word times. Any file libsndfile reads; mixed down\n"
      "to mono and resampled to 16 kHz. See docs/asr.md.");
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("affect-transcribe: %s\n", error->message);
    goto done;
  }
  if (argc != 2) {
    gchar *help = g_option_context_get_help (ctx, TRUE, NULL);

    g_printerr ("%s", help);
    g_free (help);
    goto done;
  }
  if (format) {
    if (!parse_format (format, &fmt)) {
      g_printerr ("affect-transcribe: unknown format '%s' (srt, vtt, json, "
                  "text)\n",
          format);
      goto done;
    }
  } else if (output) {
    const gchar *dot = strrchr (output, '.');

    if (!dot || strchr (dot, G_DIR_SEPARATOR)
        || !parse_format (dot + 1, &fmt)) {
      g_printerr ("affect-transcribe: cannot tell the format of '%s' "
                  "(.srt, .vtt, .json or .txt; or --format)\n",
          output);
      goto done;
    }
  }

  affect_whisper_clock_start (&clock);
  x = affect_audiofile_read_mono (argv[1], &n, &rate, &channels, &error);
  if (!x) {
    g_printerr ("affect-transcribe: %s\n", error->message);
    goto done;
  }
  if (rate != AFFECT_WHISPER_SAMPLE_RATE) {
    gsize n16;
    float *y = affect_audiofile_resample (
        x, n, rate, AFFECT_WHISPER_SAMPLE_RATE, &n16);

    g_free (x);
    x = y;
    n = n16;
  }
  affect_whisper_time_add (&read_time, &clock);

  dir = affect_ct2_find_whisper (
      model ? model : AFFECT_WHISPER_DEFAULT_MODEL, model_dir, &error);
  if (!dir) {
    g_printerr ("affect-transcribe: %s\n", error->message);
    goto done;
  }
  be = affect_backend_new (backend_name, threads, &error);
  if (!be) {
    g_printerr ("affect-transcribe: %s\n", error->message);
    goto done;
  }
  w = affect_whisper_new (be, dir, &error);
  if (!w) {
    g_printerr ("affect-transcribe: %s\n", error->message);
    goto done;
  }
  affect_whisper_options_init (&opt);
  opt.word_timestamps = !no_words;
  opt.condition_on_previous_text = previous_text;
  if (language)
    opt.language = language;
  prog.tty = isatty (fileno (stderr));
  affect_whisper_clock_start (&clock);
  segs = affect_whisper_transcribe (w, x, n, &opt,
      !quiet && n > AFFECT_WHISPER_CHUNK_SAMPLES ? on_progress : NULL, &prog,
      &error);
  affect_whisper_time_add (&run_time, &clock);
  if (prog.shown && prog.tty)
    fputc ('\n', stderr);
  if (!segs) {
    g_printerr ("affect-transcribe: %s\n", error->message);
    goto done;
  }
  if (profile)
    print_profile (
        w, &read_time, &run_time, (double)n / AFFECT_WHISPER_SAMPLE_RATE);
  if (fmt == FMT_JSON)
    text = format_json (
        segs, argv[1], dir, (double)n / AFFECT_WHISPER_SAMPLE_RATE, !no_words);
  else
    text = format_subtitles (segs, fmt);
  if (output) {
    if (!g_file_set_contents (output, text, -1, &error)) {
      g_printerr ("affect-transcribe: %s\n", error->message);
      goto done;
    }
  } else {
    fputs (text, stdout);
  }
  ret = 0;

done:
  g_clear_error (&error);
  if (segs)
    g_ptr_array_unref (segs);
  affect_whisper_free (w);
  if (be)
    affect_backend_unref (be);
  g_free (text);
  g_free (dir);
  g_free (x);
  g_free (output);
  g_free (model);
  g_free (model_dir);
  g_free (backend_name);
  g_free (format);
  g_free (language);
  g_option_context_free (ctx);
  return ret;
}
