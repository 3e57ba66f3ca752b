/* gst-affect — tests/torture
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <math.h>

#include "affect-safetensors.h"
#include "random-fusion-model.h"

#define D_IMG 256
#define D_EXP 256
#define D_SPE 16
#define D_WRD 384
#define N_AU 12
#define N_EXPR 8
#define N_VA 2

static const char *const au_labels = "AU1,AU2,AU4,AU6,AU7,AU10,AU12,AU15,"
                                     "AU23,AU24,AU25,AU26";
static const char *const expr_labels = "Neutral,Anger,Disgust,Fear,Happiness,"
                                       "Sadness,Surprise,Other";
static const char *const features = "img=face_recognition_model,"
                                    "exp=face_expression_model,"
                                    "spe=affect-speech,wrd=affect-bert";

typedef struct {
  AffectStWriter *w;
  GRand *rand;
  gboolean ok;
  GError **error;
} Writer;

/* kind: 'w' uniform in ±1/sqrt(fan_in) (fan_in = d1, or 1 for vectors),
 * 'b' small uniform, '1' ones, '0' zeros */
static void
add (Writer *wr, char kind, const gchar *fmt, const gchar *part, int64_t d0,
    int64_t d1)
{
  int64_t shape[2] = { d0, d1 };
  guint n_dims = d1 > 0 ? 2 : 1;
  gsize n = (gsize)d0 * (d1 > 0 ? (gsize)d1 : 1);
  float *v = g_new (float, n);
  double a = d1 > 0 ? 1.0 / sqrt ((double)d1) : 0.1;
  gchar *name = g_strdup_printf (fmt, part);

  for (gsize i = 0; i < n; i++) {
    switch (kind) {
      case '1':
        v[i] = 1.0f;
        break;
      case '0':
        v[i] = 0.0f;
        break;
      default:
        v[i] = (float)g_rand_double_range (wr->rand, -a, a);
        break;
    }
  }
  if (wr->ok)
    wr->ok = affect_st_writer_add (wr->w, name, AFFECT_DTYPE_F32, n_dims, shape,
        v, n * sizeof (float), wr->error);
  g_free (name);
  g_free (v);
}

gboolean
affect_test_write_random_fusion_model (const gchar *path, guint32 seed,
    int clip_len, int hidden, int mlp_hidden, GError **error)
{
  static const char *const branches[] = { "exp", "spe", "wrd" };
  static const int dims[] = { D_EXP, D_SPE, D_WRD };
  static const char *const tasks[] = { "au", "expr", "va" };
  static const int n_out[] = { N_AU, N_EXPR, N_VA };
  const int64_t H = hidden, Z = D_IMG + 3 * (int64_t)hidden;
  Writer wr;
  gchar buf[32];

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (hidden > 0 && hidden % 2 == 0, FALSE);
  g_return_val_if_fail (clip_len > 0 && mlp_hidden > 0, FALSE);

  wr.w = affect_st_writer_new ();
  wr.rand = g_rand_new_with_seed (seed);
  wr.ok = TRUE;
  wr.error = error;

  affect_st_writer_add_metadata (wr.w, "format", "gst-affect-fusion");
  affect_st_writer_add_metadata (wr.w, "version", "1");
#define META_INT(key, val)                          \
  do {                                              \
    g_snprintf (buf, sizeof (buf), "%d", (int)val); \
    affect_st_writer_add_metadata (wr.w, key, buf); \
  } while (0)
  META_INT ("clip_len", clip_len);
  META_INT ("hidden", hidden);
  META_INT ("heads", 2);
  META_INT ("mlp_hidden", mlp_hidden);
  META_INT ("d_img", D_IMG);
  META_INT ("d_exp", D_EXP);
  META_INT ("d_spe", D_SPE);
  META_INT ("d_wrd", D_WRD);
#undef META_INT
  affect_st_writer_add_metadata (wr.w, "tasks", "au,expr,va");
  affect_st_writer_add_metadata (wr.w, "au_labels", au_labels);
  affect_st_writer_add_metadata (wr.w, "expr_labels", expr_labels);
  affect_st_writer_add_metadata (wr.w, "features", features);

  for (guint m = 0; m < G_N_ELEMENTS (branches); m++) {
    const gchar *s = branches[m];

    add (&wr, 'w', "gru_%s.weight_ih_l0", s, 3 * H, dims[m]);
    add (&wr, 'w', "gru_%s.weight_hh_l0", s, 3 * H, H);
    add (&wr, 'b', "gru_%s.bias_ih_l0", s, 3 * H, 0);
    add (&wr, 'b', "gru_%s.bias_hh_l0", s, 3 * H, 0);
    add (&wr, 'w', "query_%s.weight", s, H, D_IMG);
    add (&wr, 'b', "query_%s.bias", s, H, 0);
    add (&wr, 'w', "attn_%s.in_proj_weight", s, 3 * H, H);
    add (&wr, 'b', "attn_%s.in_proj_bias", s, 3 * H, 0);
    add (&wr, 'w', "attn_%s.out_proj.weight", s, H, H);
    add (&wr, 'b', "attn_%s.out_proj.bias", s, H, 0);
    add (&wr, '1', "norm1_%s.weight", s, H, 0);
    add (&wr, '0', "norm1_%s.bias", s, H, 0);
    add (&wr, 'w', "ffn_%s.0.weight", s, 4 * H, H);
    add (&wr, 'b', "ffn_%s.0.bias", s, 4 * H, 0);
    add (&wr, 'w', "ffn_%s.2.weight", s, H, 4 * H);
    add (&wr, 'b', "ffn_%s.2.bias", s, H, 0);
    add (&wr, '1', "norm2_%s.weight", s, H, 0);
    add (&wr, '0', "norm2_%s.bias", s, H, 0);
    add (&wr, 'b', "missing_%s", s, H, 0);
  }
  for (guint k = 0; k < G_N_ELEMENTS (tasks); k++) {
    add (&wr, 'w', "head_%s.0.weight", tasks[k], mlp_hidden, Z);
    add (&wr, 'b', "head_%s.0.bias", tasks[k], mlp_hidden, 0);
    add (&wr, 'w', "head_%s.2.weight", tasks[k], n_out[k], mlp_hidden);
    add (&wr, 'b', "head_%s.2.bias", tasks[k], n_out[k], 0);
  }
  if (wr.ok)
    wr.ok = affect_st_writer_write (wr.w, path, error);
  g_rand_free (wr.rand);
  affect_st_writer_free (wr.w);
  return wr.ok;
}
