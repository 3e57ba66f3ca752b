/* gst-affect
 * Copyright (C) 2026 gst-affect developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/* The text input of affectfeatures: see affect-features-text.h and the
 * element documentation (gstaffectfeatures.c) for what f_wrd is. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <pango/pango.h>

#include "affect-features-text.h"
#include "affect-engine-settings.h"
#include "affect-features-input.h"
#include "affect-text.h"
#include "gstaffectfeatures.h"

GST_DEBUG_CATEGORY_EXTERN (gst_affect_features_debug);
#define GST_CAT_DEFAULT gst_affect_features_debug

/* A text cue without a duration lasts this long. */
#define DEFAULT_CUE_DURATION (2 * GST_SECOND)

/* One text cue over [start, end) (running time): its words spread evenly
 * over it, or, for a one-word buffer, that one word over all of it. */
typedef struct {
  GstClockTime start, end;
  guint n_words;
  int hidden;
  float *emb; /* [n_words, hidden] */
} TextCue;

struct _AffectFeaturesText {
  /* the element and the request pad (`text`) */
  AffectFeaturesInput input;

  /* streaming state, the aggregator's thread: the markup flag of the
   * caps, the word model (loaded with the first cue unless explicit) and
   * the cues not yet past */
  gboolean markup;
  AffectEngineSettings *engine; /* the element's, from start to stop */
  gchar *word_model;
  /* the word model's entry in the process-wide cache (affect-shared.h:
   * shared with other instances of the same settings on a GPU backend, and
   * on cpu while batch-window > 0) and its network */
  AffectSharedNet *bert_net;
  AffectBert *bert;
  gboolean bert_tried;
  gboolean untimed_text_warned;
  GQueue cues;
};

static void
text_cue_free (TextCue *cue)
{
  g_free (cue->emb);
  g_free (cue);
}

AffectFeaturesText *
affect_features_text_new (GstAggregator *agg)
{
  AffectFeaturesText *text = g_new0 (AffectFeaturesText, 1);

  affect_features_input_init (&text->input, agg, "text");
  g_queue_init (&text->cues);
  return text;
}

void
affect_features_text_free (AffectFeaturesText *text)
{
  if (text == NULL)
    return;
  affect_features_text_stop (text);
  g_free (text);
}

/* ------------------------------------------------------------------ */
/* The request pad                                                     */
/* ------------------------------------------------------------------ */

GstPad *
affect_features_text_request_pad (
    AffectFeaturesText *text, GstPadTemplate *templ)
{
  return affect_features_input_request_pad (&text->input, templ);
}

gboolean
affect_features_text_release_pad (AffectFeaturesText *text, GstPad *pad)
{
  return affect_features_input_release_pad (&text->input, pad);
}

gboolean
affect_features_text_has_pad (AffectFeaturesText *text, GstPad *pad)
{
  return affect_features_input_has_pad (&text->input, pad);
}

GstAggregatorPad *
affect_features_text_ref_pad (AffectFeaturesText *text)
{
  return affect_features_input_ref_pad (&text->input);
}

/* ------------------------------------------------------------------ */
/* Streaming                                                           */
/* ------------------------------------------------------------------ */

/* The word model of @dir from the cache, with the sharing of the engine
 * settings; NULL with @error. */
static AffectBert *
acquire_bert (AffectFeaturesText *text, const gchar *dir, GError **error)
{
  text->bert_net = affect_engine_settings_acquire_path (text->engine,
      GST_ELEMENT (text->input.agg), affect_bert_class (), dir, error);
  return text->bert_net != NULL ? affect_shared_net_get_net (text->bert_net)
                                : NULL;
}

gboolean
affect_features_text_start (AffectFeaturesText *text,
    AffectEngineSettings *engine, const gchar *word_model)
{
  GError *error = NULL;

  text->engine = engine;
  g_free (text->word_model);
  text->word_model = g_strdup (word_model);

  /* An explicit word model is loaded now, so that a wrong or corrupt one
   * fails the start; the default one is loaded with the first cue. */
  if (text->word_model != NULL && *text->word_model) {
    gchar *dir = affect_bert_find (text->word_model, &error);

    if (dir != NULL)
      text->bert = acquire_bert (text, dir, &error);
    g_free (dir);
    text->bert_tried = TRUE;
    if (text->bert == NULL) {
      GST_ELEMENT_ERROR (text->input.agg, RESOURCE, OPEN_READ,
          ("Cannot load the word model \"%s\"", text->word_model),
          ("%s", error ? error->message : "unknown error"));
      g_clear_error (&error);
      affect_features_text_stop (text);
      return FALSE;
    }
  }
  return TRUE;
}

void
affect_features_text_flush (AffectFeaturesText *text)
{
  g_queue_clear_full (&text->cues, (GDestroyNotify)text_cue_free);
}

void
affect_features_text_release_model (AffectFeaturesText *text)
{
  text->bert = NULL;
  if (text->bert_net != NULL)
    affect_engine_settings_release_net (
        GST_ELEMENT (text->input.agg), &text->bert_net);
  text->bert_tried = FALSE;
}

void
affect_features_text_stop (AffectFeaturesText *text)
{
  affect_features_text_flush (text);
  affect_features_text_release_model (text);
  text->engine = NULL;
  g_clear_pointer (&text->word_model, g_free);
  text->untimed_text_warned = FALSE;
}

void
affect_features_text_set_caps (AffectFeaturesText *text, GstCaps *caps)
{
  GstStructure *st = gst_caps_get_structure (caps, 0);
  const gchar *format = gst_structure_get_string (st, "format");

  text->markup = gst_structure_has_name (st, "text/x-raw") && format
                 && strcmp (format, "pango-markup") == 0;
}

/* Loads the word model once; without it the word branch is absent. */
static void
load_bert (AffectFeaturesText *text)
{
  GError *error = NULL;
  gchar *dir;

  if (text->bert_tried)
    return;
  text->bert_tried = TRUE;

  dir = affect_bert_find (text->word_model, &error);
  if (dir != NULL)
    text->bert = acquire_bert (text, dir, &error);
  if (text->bert == NULL) {
    GST_ELEMENT_WARNING (text->input.agg, RESOURCE, NOT_FOUND,
        ("No word model: the word branch is absent; install it with "
         "affect-fetch-word-model"),
        ("%s", error ? error->message : "unknown error"));
    g_clear_error (&error);
  } else {
    GST_INFO_OBJECT (text->input.agg, "word model %s", dir);
  }
  g_free (dir);
}

/* TRUE when @plain is one word as a word-per-buffer source (Whisper's word
 * times, affecttranscribe granularity=word) sends it: some text and no
 * white space inside (white space around it ignored). Such a word may hold
 * several words of the BERT basic tokenizer ("Hello," "don't"). */
static gboolean
is_one_word (const gchar *plain)
{
  const gchar *p = plain;
  gboolean seen = FALSE, gap = FALSE;

  for (; *p; p = g_utf8_next_char (p)) {
    if (g_unichar_isspace (g_utf8_get_char (p))) {
      gap = seen;
    } else {
      if (gap)
        return FALSE;
      seen = TRUE;
    }
  }
  return seen;
}

/* Turns one text buffer into a cue of word embeddings: one per word of the
 * basic tokenizer, spread evenly over the cue, or, when the buffer holds
 * exactly one word (is_one_word), one embedding (the mean of all its
 * pieces) over the buffer's whole span. */
static void
push_text (AffectFeaturesText *text, GstAggregatorPad *tpad, GstBuffer *buf)
{
  GstClockTime start;
  GstMapInfo map;
  gchar *plain = NULL;
  GError *error = NULL;
  AffectBertText *t;
  TextCue *cue;
  guint i, n, j;
  gboolean one_word;
  int h;

  if (gst_buffer_get_size (buf) == 0)
    return;
  GST_OBJECT_LOCK (tpad);
  start = gst_segment_to_running_time (
      &tpad->segment, GST_FORMAT_TIME, GST_BUFFER_PTS (buf));
  GST_OBJECT_UNLOCK (tpad);
  if (!GST_CLOCK_TIME_IS_VALID (start)) {
    /* e.g. the final hypothesis of Debian's pocketsphinx 0.8 element */
    if (!text->untimed_text_warned)
      GST_ELEMENT_WARNING (text->input.agg, STREAM, FORMAT,
          ("Ignoring text without time stamps: it cannot be aligned with "
           "the video"),
          ("text buffer %" GST_PTR_FORMAT " (further ones are ignored "
           "silently)",
              buf));
    text->untimed_text_warned = TRUE;
    return;
  }

  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    return;
  if (!g_utf8_validate ((const gchar *)map.data, map.size, NULL)) {
    GST_ELEMENT_WARNING (text->input.agg, STREAM, DECODE,
        ("Skipping a text cue that is not valid UTF-8"),
        ("cue at %" GST_TIME_FORMAT ", %" G_GSIZE_FORMAT " bytes",
            GST_TIME_ARGS (GST_BUFFER_PTS (buf)), map.size));
    gst_buffer_unmap (buf, &map);
    return;
  }
  if (text->markup) {
    if (!pango_parse_markup (
            (const gchar *)map.data, map.size, 0, NULL, &plain, NULL, &error)) {
      GST_ELEMENT_WARNING (text->input.agg, STREAM, DECODE,
          ("Skipping a text cue with invalid markup"), ("%s", error->message));
      g_clear_error (&error);
      gst_buffer_unmap (buf, &map);
      return;
    }
  } else {
    plain = g_strndup ((const gchar *)map.data, map.size);
  }
  gst_buffer_unmap (buf, &map);

  load_bert (text);
  if (text->bert == NULL) {
    g_free (plain);
    return;
  }
  one_word = is_one_word (plain);
  t = affect_bert_embed_text (text->bert, plain, -1, &error);
  g_free (plain);
  /* a GPU failure (device memory, a kernel, a copy) is an element error
   * naming the op; the cue is dropped */
  if (!affect_engine_settings_check_backend (NULL,
          GST_ELEMENT (text->input.agg),
          affect_shared_net_get_backend (text->bert_net))) {
    g_clear_pointer (&t, affect_bert_text_free);
    g_clear_error (&error);
    return;
  }
  if (t == NULL) {
    GST_ELEMENT_WARNING (text->input.agg, STREAM, FAILED,
        ("Could not embed a text cue"), ("%s", error->message));
    g_clear_error (&error);
    return;
  }

  h = t->hidden_size;
  cue = g_new0 (TextCue, 1);
  cue->start = start;
  cue->end = start
             + (GST_BUFFER_DURATION_IS_VALID (buf) ? GST_BUFFER_DURATION (buf)
                                                   : DEFAULT_CUE_DURATION);
  cue->hidden = h;
  cue->emb = g_new0 (float, (gsize)MAX (t->tokens->n_tokens, 1) * h);
  /* a word = the consecutive tokens sharing its byte span, or, in a
   * one-word buffer, every token of a word (only [CLS] and [SEP] have
   * none) */
  n = 0;
  for (i = 0; i < t->tokens->n_tokens;) {
    gint32 ws = t->tokens->word_start[i];
    guint pieces = 0;
    float *e = cue->emb + (gsize)n * h;

    if (ws < 0) {
      i++;
      continue;
    }
    for (; i < t->tokens->n_tokens
           && (one_word ? t->tokens->word_start[i] >= 0
                        : t->tokens->word_start[i] == ws);
         i++) {
      const float *hid = t->hidden + (gsize)i * h;

      for (j = 0; j < (guint)h; j++)
        e[j] += hid[j];
      pieces++;
    }
    for (j = 0; j < (guint)h; j++)
      e[j] /= pieces;
    n++;
  }
  cue->n_words = n;
  affect_bert_text_free (t);
  GST_DEBUG_OBJECT (text->input.agg,
      "cue %" GST_TIME_FORMAT "-%" GST_TIME_FORMAT ": %u words%s",
      GST_TIME_ARGS (cue->start), GST_TIME_ARGS (cue->end), n,
      one_word ? " (a one-word buffer: its own span)" : "");
  g_queue_push_tail (&text->cues, cue);
}

GstFlowReturn
affect_features_text_collect (AffectFeaturesText *text, GstAggregatorPad *tpad,
    GstClockTime t, gboolean timeout, gboolean embed)
{
  for (;;) {
    GstBuffer *tbuf = gst_aggregator_pad_peek_buffer (tpad);
    GstClockTime start;

    if (tbuf == NULL) {
      if (gst_aggregator_pad_is_eos (tpad) || timeout)
        return GST_FLOW_OK;
      return GST_AGGREGATOR_FLOW_NEED_DATA;
    }
    GST_OBJECT_LOCK (tpad);
    start = gst_segment_to_running_time (
        &tpad->segment, GST_FORMAT_TIME, GST_BUFFER_PTS (tbuf));
    GST_OBJECT_UNLOCK (tpad);
    gst_buffer_unref (tbuf);
    if (GST_CLOCK_TIME_IS_VALID (start) && start > t)
      return GST_FLOW_OK;

    tbuf = gst_aggregator_pad_pop_buffer (tpad);
    if (tbuf == NULL)
      continue;
    if (embed)
      push_text (text, tpad, tbuf);
    else
      GST_LOG_OBJECT (text->input.agg,
          "nothing reads f_wrd: dropping %" GST_PTR_FORMAT, tbuf);
    gst_buffer_unref (tbuf);
  }
}

const float *
affect_features_text_word_at (
    AffectFeaturesText *text, GstClockTime t, guint *size)
{
  GList *l;
  TextCue *cue;

  while ((cue = g_queue_peek_head (&text->cues)) && cue->end <= t)
    text_cue_free (g_queue_pop_head (&text->cues));

  for (l = text->cues.head; l; l = l->next) {
    guint k;

    cue = l->data;
    if (cue->start > t || cue->end <= t || cue->n_words == 0)
      continue;
    k = (guint)gst_util_uint64_scale (
        t - cue->start, cue->n_words, cue->end - cue->start);
    k = MIN (k, cue->n_words - 1);
    *size = cue->hidden;
    return cue->emb + (gsize)k * cue->hidden;
  }
  return NULL;
}
