/* gst-affect — word model speed: tokens per second of the BERT encoder
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   bench-words [--threads N] [--seq-len S] [--batch B] [--seconds T] DIR
 *   bench-words --make-random DIR   (a BERT-base-sized model with random
 *                                     weights, written with our safetensors
 *                                     writer: H 768, 12 layers, 12 heads,
 *                                     intermediate 3072, vocab 30522)
 *
 * Prints one line "words-bench ... tokens_per_s=X ... tokens_per_s_best=Y
 * gemm=..." per run (X from the mean time per call, Y from the fastest
 * call; gemm: the GEMM provider, oneDNN or OpenBLAS with
 * AFFECT_GEMM=openblas). The
 * input is a fixed pseudo-random id sequence of S tokens ([CLS] ... [SEP]).
 * Used by tests/golden/words/bench-words.sh, which runs PyTorch on the same
 * folder with the same threads right after.
 */

#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "affect-bert.h"
#include "affect-gemm.h"
#include "affect-safetensors.h"

static gboolean
make_random (const gchar *dir)
{
  const int H = 768, L = 12, I = 3072, P = 512, V = 30522;
  AffectStWriter *w = affect_st_writer_new ();
  GError *err = NULL;
  guint32 s = 1;
  gchar *path, *cfg;
  GString *vocab;
  float *buf = g_new (float, (gsize)V *H);
  int l, k, i;
  struct {
    const gchar *name;
    int d0, d1;
  } t[64];
  int nt = 0;

#define ADD(n, a, b) (t[nt].name = (n), t[nt].d0 = (a), t[nt].d1 = (b), nt++)
  ADD (g_strdup ("embeddings.word_embeddings.weight"), V, H);
  ADD (g_strdup ("embeddings.position_embeddings.weight"), P, H);
  ADD (g_strdup ("embeddings.token_type_embeddings.weight"), 2, H);
  ADD (g_strdup ("embeddings.LayerNorm.weight"), H, 0);
  ADD (g_strdup ("embeddings.LayerNorm.bias"), H, 0);

  g_mkdir_with_parents (dir, 0755);
  for (k = 0; k < nt; k++) {
    int64_t shape[2] = { t[k].d0, t[k].d1 };
    gsize n = (gsize)t[k].d0 * MAX (t[k].d1, 1);
    for (i = 0; i < (int)n; i++) {
      s = s * 1664525u + 1013904223u;
      buf[i] = ((float)(s >> 8) / (float)(1u << 24) - 0.5f) * 0.04f;
    }
    affect_st_writer_add (w, t[k].name, AFFECT_DTYPE_F32, t[k].d1 ? 2 : 1,
        shape, buf, n * sizeof (float), &err);
    g_free ((gchar *)t[k].name);
  }
  for (l = 0; l < L; l++) {
    const struct {
      const gchar *n;
      int d0, d1;
    } pl[] = {
      { "attention.self.query.weight", H, H },
      { "attention.self.query.bias", H, 0 },
      { "attention.self.key.weight", H, H },
      { "attention.self.key.bias", H, 0 },
      { "attention.self.value.weight", H, H },
      { "attention.self.value.bias", H, 0 },
      { "attention.output.dense.weight", H, H },
      { "attention.output.dense.bias", H, 0 },
      { "attention.output.LayerNorm.weight", H, 0 },
      { "attention.output.LayerNorm.bias", H, 0 },
      { "intermediate.dense.weight", I, H },
      { "intermediate.dense.bias", I, 0 },
      { "output.dense.weight", H, I },
      { "output.dense.bias", H, 0 },
      { "output.LayerNorm.weight", H, 0 },
      { "output.LayerNorm.bias", H, 0 },
    };
    for (k = 0; k < (int)G_N_ELEMENTS (pl); k++) {
      gchar *name = g_strdup_printf ("encoder.layer.%d.%s", l, pl[k].n);
      int64_t shape[2] = { pl[k].d0, pl[k].d1 };
      gsize n = (gsize)pl[k].d0 * MAX (pl[k].d1, 1);
      gboolean ln = strstr (pl[k].n, "LayerNorm.weight") != NULL;
      for (i = 0; i < (int)n; i++) {
        s = s * 1664525u + 1013904223u;
        buf[i] = (ln ? 1.0f : 0.0f)
                 + ((float)(s >> 8) / (float)(1u << 24) - 0.5f) * 0.04f;
      }
      affect_st_writer_add (w, name, AFFECT_DTYPE_F32, pl[k].d1 ? 2 : 1, shape,
          buf, n * sizeof (float), &err);
      g_free (name);
    }
  }
  g_free (buf);
  path = g_build_filename (dir, "model.safetensors", NULL);
  if (!affect_st_writer_write (w, path, &err)) {
    g_printerr ("%s\n", err->message);
    return FALSE;
  }
  g_free (path);
  affect_st_writer_free (w);

  cfg = g_strdup_printf (
      "{\"model_type\": \"bert\", \"hidden_size\": %d, "
      "\"num_hidden_layers\": %d, \"num_attention_heads\": 12, "
      "\"intermediate_size\": %d, \"max_position_embeddings\": %d, "
      "\"type_vocab_size\": 2, \"vocab_size\": %d, \"layer_norm_eps\": "
      "1e-12, \"hidden_act\": \"gelu\", \"architectures\": [\"BertModel\"]}",
      H, L, I, P, V);
  path = g_build_filename (dir, "config.json", NULL);
  g_file_set_contents (path, cfg, -1, NULL);
  g_free (path);
  g_free (cfg);

  vocab = g_string_new ("[PAD]\n");
  for (i = 1; i < V; i++) {
    if (i == 100)
      g_string_append (vocab, "[UNK]\n");
    else if (i == 101)
      g_string_append (vocab, "[CLS]\n");
    else if (i == 102)
      g_string_append (vocab, "[SEP]\n");
    else if (i == 103)
      g_string_append (vocab, "[MASK]\n");
    else
      g_string_append_printf (vocab, "tok%d\n", i);
  }
  path = g_build_filename (dir, "vocab.txt", NULL);
  g_file_set_contents (path, vocab->str, vocab->len, NULL);
  g_free (path);
  g_string_free (vocab, TRUE);
  return TRUE;
}

int
main (int argc, char **argv)
{
  gint threads = 1, seq = 128, batch = 1;
  gdouble seconds = 3.0;
  gchar *random_dir = NULL;
  GOptionEntry entries[] = { { "threads", 0, 0, G_OPTION_ARG_INT, &threads,
                                 "threads", "N" },
    { "seq-len", 0, 0, G_OPTION_ARG_INT, &seq, "tokens per sequence", "S" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "sequences per call", "B" },
    { "seconds", 0, 0, G_OPTION_ARG_DOUBLE, &seconds, "time to run", "T" },
    { "make-random", 0, 0, G_OPTION_ARG_FILENAME, &random_dir,
        "write a BERT-base-sized random model to DIR", "DIR" },
    { NULL } };
  GOptionContext *ctx = g_option_context_new ("DIR");
  GError *err = NULL;
  AffectBackend *be;
  AffectBert *bert;
  gint32 *ids, *mask;
  float *out;
  gint64 t0, t1, c0, best = G_MAXINT64;
  int runs = 0, i, vocab;
  guint32 s = 7;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("%s\n", err->message);
    return 2;
  }
  g_option_context_free (ctx);
  if (random_dir)
    return make_random (random_dir) ? 0 : 1;
  if (argc != 2 || seq < 2 || batch < 1 || threads < 1) {
    g_printerr ("usage: %s [options] DIR (see --help)\n", argv[0]);
    return 2;
  }

  be = affect_backend_cpu_new (threads);
  bert = affect_bert_new (be, argv[1], &err);
  if (!bert) {
    g_printerr ("%s\n", err->message);
    return 1;
  }
  vocab
      = (int)affect_tokenizer_get_vocab_size (affect_bert_get_tokenizer (bert));
  ids = g_new (gint32, batch * seq);
  mask = g_new (gint32, batch * seq);
  out = g_new (float, (gsize)batch *seq *affect_bert_get_hidden_size (bert));
  for (i = 0; i < batch * seq; i++) {
    s = s * 1664525u + 1013904223u;
    ids[i] = 1000 + (int)((s >> 8) % (guint32)(vocab - 1000));
    mask[i] = 1;
  }
  for (i = 0; i < batch; i++) {
    ids[i * seq] = 101;
    ids[i * seq + seq - 1] = 102;
  }
  /* warm-up */
  affect_bert_encode (bert, ids, mask, batch, seq, out, NULL);
  t0 = c0 = g_get_monotonic_time ();
  do {
    affect_bert_encode (bert, ids, mask, batch, seq, out, NULL);
    runs++;
    t1 = g_get_monotonic_time ();
    best = MIN (best, t1 - c0);
    c0 = t1;
  } while ((t1 - t0) < seconds * 1e6 || runs < 3);
  /* The mean, and the fastest call (the better estimate on a shared
   * machine, where calls are descheduled at random). */
  printf ("words-bench impl=gst-affect model=%s threads=%d batch=%d seq=%d "
          "runs=%d ms_per_call=%.2f tokens_per_s=%.0f min_ms=%.2f "
          "tokens_per_s_best=%.0f gemm=\"%s\"\n",
      argv[1], threads, batch, seq, runs, (t1 - t0) / 1e3 / runs,
      (double)runs * batch * seq / ((t1 - t0) / 1e6), best / 1e3,
      (double)batch * seq / (best / 1e6), affect_gemm_provider ());
  g_free (ids);
  g_free (mask);
  g_free (out);
  affect_bert_free (bert);
  affect_backend_unref (be);
  return 0;
}
