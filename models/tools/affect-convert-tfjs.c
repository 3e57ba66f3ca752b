/* gst-affect — models/tools
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * affect-convert-tfjs: converts a TensorFlow.js weights manifest (+ its .bin
 * shards) into one safetensors file. Tensor names and shapes are kept exactly
 * as in the manifest; quantised values are dequantised to F32 (int32
 * tensors are stored as I32).
 */

#include <glib.h>
#include <locale.h>
#include <stdlib.h>

#include "affect-safetensors.h"
#include "affect-tfjs.h"

#ifndef AFFECT_VERSION
#define AFFECT_VERSION "unknown"
#endif

#define DEFAULT_SOURCE_PREFIX "@vladmandic/face-api@1.7.15 model/"

static gboolean
convert (const gchar *manifest, const gchar *output, const gchar *source,
    GError **error)
{
  AffectTfjsModel *model;
  AffectStWriter *writer;
  gchar *name, *src;
  gboolean ok = TRUE;
  guint i;

  model = affect_tfjs_load (manifest, error);
  if (!model)
    return FALSE;

  name = affect_tfjs_model_name (manifest);
  src = source ? g_strdup (source)
               : g_strconcat (DEFAULT_SOURCE_PREFIX, name, NULL);

  writer = affect_st_writer_new ();
  affect_st_writer_add_metadata (writer, "source", src);
  affect_st_writer_add_metadata (writer, "format", "tfjs-converted");
  affect_st_writer_add_metadata (writer, "name", name);
  affect_st_writer_add_metadata (
      writer, "converter", "affect-convert-tfjs " AFFECT_VERSION);
  {
    gchar *base = g_path_get_basename (manifest);
    gchar *key = g_strconcat ("sha256:", base, NULL);
    affect_st_writer_add_metadata (writer, key, model->manifest_sha256);
    g_free (key);
    g_free (base);
  }
  for (i = 0; i < model->n_shards; i++) {
    gchar *key = g_strconcat ("sha256:", model->shards[i].path, NULL);
    affect_st_writer_add_metadata (writer, key, model->shards[i].sha256);
    g_free (key);
  }

  for (i = 0; ok && i < model->n_tensors; i++) {
    const AffectTfjsTensor *t = &model->tensors[i];
    ok = affect_st_writer_add (writer, t->name, t->dtype, t->n_dims, t->shape,
        t->data, t->n_bytes, error);
  }
  if (ok)
    ok = affect_st_writer_write (writer, output, error);

  affect_st_writer_free (writer);
  affect_tfjs_model_free (model);
  g_free (src);
  g_free (name);
  return ok;
}

int
main (int argc, char **argv)
{
  gchar *source = NULL;
  gboolean quiet = FALSE;
  GOptionEntry entries[] = {
    { "source", 's', 0, G_OPTION_ARG_STRING, &source,
        "Value of the 'source' metadata (default: \"" DEFAULT_SOURCE_PREFIX
        "<name>\")",
        "TEXT" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print nothing on success",
        NULL },
    { NULL }
  };
  GOptionContext *ctx;
  GError *error = NULL;
  int ret = EXIT_SUCCESS;

  setlocale (LC_ALL, "");
  ctx = g_option_context_new ("MANIFEST.json OUTPUT.safetensors");
  g_option_context_set_summary (ctx,
      "Converts TensorFlow.js weights (a *-weights_manifest.json and the .bin "
      "files it names)\ninto one safetensors file: tensor names and shapes as "
      "in the manifest, values\ndequantised to F32 (int32 tensors as I32).");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("affect-convert-tfjs: %s\n", error->message);
    g_clear_error (&error);
    g_option_context_free (ctx);
    return 2;
  }
  if (argc != 3) {
    gchar *help = g_option_context_get_help (ctx, TRUE, NULL);
    g_printerr ("%s", help);
    g_free (help);
    g_option_context_free (ctx);
    return 2;
  }
  g_option_context_free (ctx);

  if (!convert (argv[1], argv[2], source, &error)) {
    g_printerr ("affect-convert-tfjs: %s\n", error->message);
    g_clear_error (&error);
    ret = EXIT_FAILURE;
  } else if (!quiet) {
    g_print ("wrote %s\n", argv[2]);
  }
  g_free (source);
  return ret;
}
