/* gst-affect — models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BERT encoder (Hugging Face BertModel, last_hidden_state) for the word
 * branch. Loads a Hugging Face BERT directory:
 *   model.safetensors  F32 weights with the standard names, with or without
 *                      the "bert." prefix (embeddings.word_embeddings.weight,
 *                      encoder.layer.N.attention.self.query.weight, ...);
 *   config.json        hidden_size, num_hidden_layers, num_attention_heads,
 *                      intermediate_size, max_position_embeddings,
 *                      type_vocab_size, vocab_size, layer_norm_eps,
 *                      hidden_act ("gelu": the erf form);
 *   vocab.txt (+ optional tokenizer_config.json) for the tokenizer.
 * Every tensor's shape is checked at load time; errors name the file and
 * the tensor.
 *
 * The computation: embeddings (word + absolute position + token type 0),
 * LayerNorm, then N post-LayerNorm layers (multi-head self-attention with
 * the padding mask, dense + residual + LayerNorm, dense + erf GELU, dense +
 * residual + LayerNorm). It is written with the engine's tensor ops
 * (affect-tensor.h) on the backend given to affect_bert_new(): the weights
 * are uploaded once as tensors of that backend, and every step of the
 * forward pass is one op of its table, so any backend that implements the
 * sequence and transformer ops runs it.
 *
 * No GStreamer here.
 */

#ifndef __AFFECT_BERT_H__
#define __AFFECT_BERT_H__

#include <glib.h>

#include "affect-shared.h"
#include "affect-tensor.h"
#include "affect-tokenizer.h"

G_BEGIN_DECLS

#define AFFECT_BERT_ERROR (affect_bert_error_quark ())
GQuark affect_bert_error_quark (void);

typedef enum {
  AFFECT_BERT_ERROR_NOT_FOUND, /* no model directory */
  AFFECT_BERT_ERROR_CONFIG,    /* config.json missing or unsupported */
  AFFECT_BERT_ERROR_WEIGHTS,   /* a tensor missing or of the wrong shape */
  AFFECT_BERT_ERROR_INPUT      /* bad ids, sizes */
} AffectBertError;

/* The default word model: a folder of this name in the model lookup
 * places (see affect_bert_find). */
#define AFFECT_BERT_DEFAULT_MODEL "all-MiniLM-L6-v2"

typedef struct _AffectBert AffectBert;

/* Finds a BERT directory (one holding model.safetensors), g_free.
 * @explicit_dir: when non-empty, used as is (an error if it is not such a
 * folder). Otherwise, in order: $AFFECT_MODEL_DIR/all-MiniLM-L6-v2,
 * AFFECT_DATADIR/models/all-MiniLM-L6-v2, <cache>/models/all-MiniLM-L6-v2.
 * The error lists the places tried and says how to fetch the model
 * (affect-fetch-word-model). */
gchar *affect_bert_find (const gchar *explicit_dir, GError **error);

/* Loads the model in @dir (weights, config and tokenizer) onto @backend
 * (NULL: a CPU backend with all cores), which runs every encode. */
AffectBert *affect_bert_new (
    AffectBackend *backend, const gchar *dir, GError **error);
void affect_bert_free (AffectBert *bert);

/* The model as a shared-only kind of shared network (affect-shared.h, kind
 * "bert"): affect_shared_net_acquire (affect_bert_class (), dir, …) with
 * the model's folder (as affect_bert_find() gives it) loads it with
 * affect_bert_new() on the entry's backend; the key holds the identity of
 * the folder's model.safetensors. affect_shared_net_get_net() is the
 * AffectBert, which its holders run from any thread at once: an
 * AffectBert is read-only after loading (weights, config, tokenizer) and
 * every affect_bert_encode() / affect_bert_embed_text() call has its own
 * activations; the ops of the backend take turns. */
const AffectSharedNetClass *affect_bert_class (void);

int affect_bert_get_hidden_size (AffectBert *bert);
int affect_bert_get_num_layers (AffectBert *bert);
/* max_position_embeddings: the longest sequence, [CLS] and [SEP] included. */
int affect_bert_get_max_length (AffectBert *bert);
AffectTokenizer *affect_bert_get_tokenizer (AffectBert *bert);

/* @ids and @mask are [batch, seq_len] (mask 1 = token, 0 = padding; NULL =
 * all tokens); writes last_hidden_state [batch, seq_len, hidden] to
 * @hidden. seq_len <= max length, ids in [0, vocab_size). Padded positions
 * get values too (as in PyTorch) but they mean nothing. */
gboolean affect_bert_encode (AffectBert *bert, const gint32 *ids,
    const gint32 *mask, int batch, int seq_len, float *hidden, GError **error);

/* One text through tokenizer and encoder. */
typedef struct {
  AffectTokens *tokens; /* ids, word byte offsets ([CLS]/[SEP]: -1) */
  int hidden_size;
  float *hidden; /* [tokens->n_tokens, hidden_size] */
} AffectBertText;

/* Tokenises @text (@len bytes or -1) truncated to the model's max length
 * and encodes it. Empty text gives [CLS] [SEP] only (two rows). */
AffectBertText *affect_bert_embed_text (
    AffectBert *bert, const gchar *text, gssize len, GError **error);
void affect_bert_text_free (AffectBertText *t);

G_END_DECLS

#endif /* __AFFECT_BERT_H__ */
