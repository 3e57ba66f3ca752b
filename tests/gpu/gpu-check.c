/* gst-affect — tests/gpu/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * gpu-check: whole-network parity (CUDA against CPU) and throughput of the
 * networks on every available backend, for the GPU check bundle
 * (make-bundle.sh, run-bundle.sh). Not a test: it prints tables and asserts
 * nothing about time.
 *
 *   gpu-check [--models DIR] [--bert DIR] [--fusion FILE]
 *             [--batches 1,8,32,128] [--seconds S] [--threads N]
 *             [--part cuda|cuda-own|cpu|all] [--parity-only]
 *
 * --part cuda-own runs the CUDA part with cuDNN turned off
 * (AFFECT_CUDA_CUDNN=0: the module's own convolution kernels) and only the
 * convolutional networks (the face networks and the chain), labelled
 * "cuda-own"; --part cuda uses cuDNN when the module finds it (its device
 * line names the cuDNN version, or "no cuDNN").
 *
 * Lines (tab-separated, for run-bundle.sh):
 *   BACKEND <name> <available 0/1> <device or reason>
 *   PARITY <net> <batch> <max |cuda - cpu|> <that / max |cpu|> <name>
 *   RATE <what> <backend> <batch> <items/s> <median ms per call>
 * <what>: tiny, landmarks, expression, recognition (images/s), chain (the
 * tiny detector on each frame, then landmarks, expression and recognition
 * on one face per frame: face-frames/s), bert (sentences of 32 tokens/s),
 * fusion (parity CUDA vs CPU, clips/s on each).
 * A backend that is not available gets "RATE <what> <backend> - no device".
 *
 * Inputs are random (seeded), the same for every backend. Each rate is the
 * median of calls repeated for about --seconds (at least 3), after one
 * untimed call; a call includes the download of its outputs.
 */

#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "affect-tensor.h"
#include "affect-modelpath.h"
#include "affect-tinyface.h"
#include "affect-landmarks.h"
#include "affect-expression.h"
#include "affect-recognition.h"
#include "affect-bert.h"
#include "affect-fusion.h"

typedef enum {
  NET_TINY,
  NET_LANDMARKS,
  NET_EXPRESSION,
  NET_RECOGNITION,
  N_NETS
} NetId;

static const struct {
  const gchar *name, *file;
  int size;
} net_info[N_NETS] = {
  { "tiny", "tiny_face_detector_model", 416 },
  { "landmarks", "face_landmark_68_model", 112 },
  { "expression", "face_expression_model", 112 },
  { "recognition", "face_recognition_model", 150 },
};

typedef struct {
  AffectBackend *be;
  gpointer net[N_NETS];
  AffectBert *bert;
} Engine;

static gchar *opt_models, *opt_bert, *opt_fusion, *opt_batches;
static double opt_seconds = 2.0;
static int opt_threads = 0;
static gboolean opt_parity_only;
static gchar *opt_part;
/* the CUDA backend's label: "cuda", or "cuda-own" without cuDNN */
static const gchar *gpu_label = "cuda";
static gboolean with_bert = TRUE;

static gboolean
engine_load (Engine *e, AffectBackend *be, GError **error)
{
  int i;

  memset (e, 0, sizeof (*e));
  e->be = be;
  for (i = 0; i < N_NETS; i++) {
    gchar *path = affect_model_find (net_info[i].file, opt_models, error);

    if (path == NULL)
      return FALSE;
    switch (i) {
      case NET_TINY:
        e->net[i] = affect_tiny_face_new (be, path, error);
        break;
      case NET_LANDMARKS:
        e->net[i] = affect_landmark_net_new (be, path, error);
        break;
      case NET_EXPRESSION:
        e->net[i] = affect_expression_net_new (be, path, error);
        break;
      default:
        e->net[i] = affect_recognition_net_new (be, path, error);
        break;
    }
    g_free (path);
    if (e->net[i] == NULL)
      return FALSE;
  }
  if (with_bert) {
    gchar *dir = affect_bert_find (opt_bert, NULL);

    /* BERT is optional (the bundle may lack it): reported per line. */
    if (dir != NULL)
      e->bert = affect_bert_new (be, dir, NULL);
    g_free (dir);
  }
  return TRUE;
}

static void
engine_clear (Engine *e)
{
  if (e->net[NET_TINY])
    affect_tiny_face_free (e->net[NET_TINY]);
  if (e->net[NET_LANDMARKS])
    affect_landmark_net_free (e->net[NET_LANDMARKS]);
  if (e->net[NET_EXPRESSION])
    affect_expression_net_free (e->net[NET_EXPRESSION]);
  if (e->net[NET_RECOGNITION])
    affect_recognition_net_free (e->net[NET_RECOGNITION]);
  if (e->bert)
    affect_bert_free (e->bert);
  memset (e, 0, sizeof (*e));
}

/* Random input [batch, size, size, 3] in [-0.5, 0.5), the same for every
 * backend. */
static float *
random_input (int batch, int size, guint32 seed)
{
  const gsize n = (gsize)batch * size * size * 3;
  float *d = g_new (float, n);
  GRand *r = g_rand_new_with_seed (seed);
  gsize i;

  for (i = 0; i < n; i++)
    d[i] = (float)g_rand_double_range (r, -0.5, 0.5);
  g_rand_free (r);
  return d;
}

/* One forward of @net on @in; the output downloaded into a new array
 * (*n_out floats). */
static float *
net_run (Engine *e, NetId id, const AffectTensor *in, gsize *n_out)
{
  AffectTensor *out = NULL;
  float *host;

  switch (id) {
    case NET_TINY:
      out = affect_tiny_face_forward (e->net[id], in);
      break;
    case NET_LANDMARKS:
      out = affect_landmark_net_forward (e->net[id], in);
      break;
    case NET_EXPRESSION:
      out = affect_expression_net_forward (e->net[id], in);
      break;
    default:
      out = affect_recognition_net_forward (e->net[id], in);
      break;
  }
  if (out == NULL)
    return NULL;
  *n_out = affect_tensor_n_elements (out);
  host = g_new (float, *n_out);
  affect_tensor_download (out, host);
  affect_tensor_free (out);
  return host;
}

static float *
net_run_host (Engine *e, NetId id, int batch, const float *data, gsize *n_out)
{
  const int s = net_info[id].size;
  AffectTensor *in = affect_tensor_new (e->be, batch, s, s, 3);
  float *out;

  affect_tensor_upload (in, data);
  out = net_run (e, id, in, n_out);
  affect_tensor_free (in);
  return out;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median ms of @call repeated for about opt_seconds (at least 3 times)
 * after one untimed call. */
typedef gboolean (*CallFunc) (gpointer data);

static double
time_calls (CallFunc call, gpointer data)
{
  GArray *ms = g_array_new (FALSE, FALSE, sizeof (double));
  gint64 start;
  double med;

  if (!call (data)) {
    g_array_free (ms, TRUE);
    return -1;
  }
  start = g_get_monotonic_time ();
  while (ms->len < 3 || (g_get_monotonic_time () - start) < opt_seconds * 1e6) {
    gint64 t0 = g_get_monotonic_time ();
    double v;

    if (!call (data))
      break;
    v = (g_get_monotonic_time () - t0) / 1000.0;
    g_array_append_val (ms, v);
    if (ms->len >= 1000)
      break;
  }
  g_array_sort (ms, cmp_double);
  med = ms->len ? g_array_index (ms, double, ms->len / 2) : -1;
  g_array_free (ms, TRUE);
  return med;
}

typedef struct {
  Engine *e;
  NetId id;
  int batch;
  AffectTensor *in[N_NETS];
} NetCall;

static gboolean
net_call (gpointer data)
{
  NetCall *c = data;
  gsize n;
  float *out = net_run (c->e, c->id, c->in[c->id], &n);

  g_free (out);
  return out != NULL;
}

/* The visual chain on @batch frames: the detector on every frame, then the
 * three face networks on one face crop per frame. */
static gboolean
chain_call (gpointer data)
{
  NetCall *c = data;
  int i;

  for (i = 0; i < N_NETS; i++) {
    gsize n;
    float *out = net_run (c->e, (NetId)i, c->in[i], &n);

    if (out == NULL)
      return FALSE;
    g_free (out);
  }
  return TRUE;
}

typedef struct {
  AffectBert *bert;
  int batch, len;
  gint32 *ids, *mask;
  float *hidden;
} BertCall;

static gboolean
bert_call (gpointer data)
{
  BertCall *c = data;

  return affect_bert_encode (
      c->bert, c->ids, c->mask, c->batch, c->len, c->hidden, NULL);
}

static void
bert_call_init (BertCall *c, AffectBert *bert, int batch, int len)
{
  GRand *r = g_rand_new_with_seed (11);
  int i;

  c->bert = bert;
  c->batch = batch;
  c->len = len;
  c->ids = g_new (gint32, batch * len);
  c->mask = g_new (gint32, batch * len);
  c->hidden
      = g_new (float, (gsize)batch *len *affect_bert_get_hidden_size (bert));
  for (i = 0; i < batch * len; i++) {
    const int pos = i % len, valid = len - (i / len) % 5; /* some padding */

    c->ids[i] = pos == 0 ? 101 : g_rand_int_range (r, 1000, 20000);
    c->mask[i] = pos < valid;
  }
  g_rand_free (r);
}

static void
bert_call_clear (BertCall *c)
{
  g_free (c->ids);
  g_free (c->mask);
  g_free (c->hidden);
}

static void
report_parity (
    const gchar *what, int batch, const float *ref, const float *got, gsize n)
{
  double max_ref = 0, max_d = 0;
  gsize i;

  for (i = 0; i < n; i++) {
    double d = fabs ((double)got[i] - ref[i]);

    max_ref = MAX (max_ref, fabs ((double)ref[i]));
    if (!(d <= max_d)) /* NaN propagates */
      max_d = isnan (d) ? NAN : d;
  }
  printf ("PARITY\t%s\t%d\t%.3g\t%.3g\t%s\n", what, batch, max_d,
      max_d / (max_ref + 1e-20), gpu_label);
  fflush (stdout);
}

static void
parity (Engine *cpu, Engine *gpu)
{
  int i;

  for (i = 0; i < N_NETS; i++) {
    const int batch = i == NET_TINY ? 2 : 8;
    float *in = random_input (batch, net_info[i].size, 100 + i);
    gsize n1 = 0, n2 = 0;
    float *a = net_run_host (cpu, (NetId)i, batch, in, &n1);
    float *b = net_run_host (gpu, (NetId)i, batch, in, &n2);

    if (a && b && n1 == n2)
      report_parity (net_info[i].name, batch, a, b, n1);
    else
      printf ("PARITY\t%s\t%d\tfailed\tfailed\t%s\n", net_info[i].name, batch,
          gpu_label);
    g_free (a);
    g_free (b);
    g_free (in);
  }
  if (!with_bert) {
    /* cuda-own: no BERT line (no convolutions) */
  } else if (cpu->bert && gpu->bert) {
    BertCall a, b;

    bert_call_init (&a, cpu->bert, 8, 64);
    bert_call_init (&b, gpu->bert, 8, 64);
    if (bert_call (&a) && bert_call (&b))
      report_parity ("bert", 8, a.hidden, b.hidden,
          (gsize)8 * 64 * affect_bert_get_hidden_size (cpu->bert));
    else
      printf ("PARITY\tbert\t8\tfailed\tfailed\tcuda\n");
    bert_call_clear (&a);
    bert_call_clear (&b);
  } else {
    printf ("PARITY\tbert\t8\tno model\tno model\tcuda\n");
  }
  fflush (stdout);
}

static void
rates (Engine *e, const gchar *be_name, GArray *batches)
{
  guint bi;
  int i;

  for (bi = 0; bi < batches->len; bi++) {
    const int batch = g_array_index (batches, int, bi);
    NetCall c = { e, 0, batch, { NULL } };
    double ms;

    for (i = 0; i < N_NETS; i++) {
      float *d = random_input (batch, net_info[i].size, 200 + i);

      c.in[i] = affect_tensor_new (
          e->be, batch, net_info[i].size, net_info[i].size, 3);
      affect_tensor_upload (c.in[i], d);
      g_free (d);
    }
    for (i = 0; i < N_NETS; i++) {
      c.id = (NetId)i;
      ms = time_calls (net_call, &c);
      printf ("RATE\t%s\t%s\t%d\t%.1f\t%.3f\n", net_info[i].name, be_name,
          batch, batch * 1000.0 / ms, ms);
      fflush (stdout);
    }
    ms = time_calls (chain_call, &c);
    printf ("RATE\tchain\t%s\t%d\t%.1f\t%.3f\n", be_name, batch,
        batch * 1000.0 / ms, ms);
    fflush (stdout);
    for (i = 0; i < N_NETS; i++)
      affect_tensor_free (c.in[i]);
  }
  if (e->bert) {
    BertCall c;
    double ms;

    bert_call_init (&c, e->bert, 32, 32);
    ms = time_calls (bert_call, &c);
    printf ("RATE\tbert\t%s\t32\t%.1f\t%.3f\n", be_name, 32 * 1000.0 / ms, ms);
    bert_call_clear (&c);
  } else if (with_bert) {
    printf ("RATE\tbert\t%s\t32\t-\tno model\n", be_name);
  }
  fflush (stdout);
}

typedef struct {
  AffectFusion *f;
  int n, t;
  float *img, *x[3], *au, *expr, *va;
  guint8 *present;
} FusionCall;

static gboolean
fusion_call (gpointer data)
{
  FusionCall *c = data;

  return affect_fusion_run (c->f, c->n, c->t, c->img, c->x[0], c->x[1], c->x[2],
      c->present, c->au, c->expr, c->va, NULL);
}

/* One fusion model on a backend, with a call of 64 random clips (same
 * inputs on every backend: seed 5). */
static gboolean
fusion_call_init (FusionCall *c, AffectBackend *be, GError **error)
{
  const AffectFusionInfo *info;
  GRand *r;
  gsize i;
  int b;

  memset (c, 0, sizeof (*c));
  if (opt_fusion == NULL) {
    g_set_error_literal (
        error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "no model given");
    return FALSE;
  }
  if ((c->f = affect_fusion_new (be, opt_fusion, error)) == NULL)
    return FALSE;
  info = affect_fusion_get_info (c->f);
  c->n = 64;
  c->t = info->clip_len;
  r = g_rand_new_with_seed (5);
  c->img = g_new (float, (gsize)c->n * info->d_img);
  for (i = 0; i < (gsize)c->n * info->d_img; i++)
    c->img[i] = (float)g_rand_double_range (r, -1, 1);
  for (b = 0; b < 3; b++) {
    const gsize n = (gsize)c->n * c->t * info->d_branch[b];

    c->x[b] = g_new (float, n);
    for (i = 0; i < n; i++)
      c->x[b][i] = (float)g_rand_double_range (r, -1, 1);
  }
  g_rand_free (r);
  c->present = g_new (guint8, c->n * 3);
  memset (c->present, 1, c->n * 3);
  /* au, expr, va side by side, for the parity line */
  c->au = g_new0 (float, c->n *(12 + 8 + 2));
  c->expr = c->au + c->n * 12;
  c->va = c->expr + c->n * 8;
  return TRUE;
}

static void
fusion_call_clear (FusionCall *c)
{
  int b;

  g_free (c->img);
  for (b = 0; b < 3; b++)
    g_free (c->x[b]);
  g_free (c->present);
  g_free (c->au);
  if (c->f)
    affect_fusion_free (c->f);
}

/* The fusion network on the CPU and, when there is one, on the CUDA
 * backend: parity of the outputs (AU, EXPR, VA) and clips/s. */
static void
fusion_check (AffectBackend *cpu_be, AffectBackend *gpu_be, gboolean do_cpu,
    gboolean do_cuda)
{
  GError *error = NULL;
  FusionCall c, g;
  gboolean have_c, have_g = FALSE;
  double ms;

  have_c = fusion_call_init (&c, cpu_be, &error);
  if (!have_c) {
    printf ("PARITY\tfusion\t64\t%s\t-\tcuda\n", error->message);
    printf ("RATE\tfusion\tcpu\t64\t-\t%s\n", error->message);
    g_clear_error (&error);
    fusion_call_clear (&c);
    fflush (stdout);
    return;
  }
  if (do_cuda && gpu_be == NULL) {
    printf ("PARITY\tfusion\t-\tno device\tno device\tcuda\n");
  } else if (do_cuda) {
    have_g = fusion_call_init (&g, gpu_be, &error);
    if (!have_g) {
      printf ("PARITY\tfusion\t64\tfailed\t%s\tcuda\n", error->message);
      g_clear_error (&error);
    } else if (fusion_call (&c) && fusion_call (&g)) {
      report_parity ("fusion", 64, c.au, g.au, (gsize)c.n * (12 + 8 + 2));
    } else {
      printf ("PARITY\tfusion\t64\tfailed\tfailed\tcuda\n");
    }
    if (have_g && !opt_parity_only) {
      ms = time_calls (fusion_call, &g);
      printf ("RATE\tfusion\tcuda\t64\t%.1f\t%.3f\n", g.n * 1000.0 / ms, ms);
    }
    fusion_call_clear (&g);
  }
  if (do_cpu) {
    ms = time_calls (fusion_call, &c);
    printf ("RATE\tfusion\tcpu\t64\t%.1f\t%.3f\n", c.n * 1000.0 / ms, ms);
  }
  fflush (stdout);
  fusion_call_clear (&c);
}

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = { { "models", 0, 0, G_OPTION_ARG_STRING, &opt_models,
                                 "folder of the face models", "DIR" },
    { "bert", 0, 0, G_OPTION_ARG_STRING, &opt_bert, "BERT folder", "DIR" },
    { "fusion", 0, 0, G_OPTION_ARG_STRING, &opt_fusion,
        "fusion model (.safetensors)", "FILE" },
    { "batches", 0, 0, G_OPTION_ARG_STRING, &opt_batches,
        "batch sizes (default 1,8,32,128)", "LIST" },
    { "seconds", 0, 0, G_OPTION_ARG_DOUBLE, &opt_seconds,
        "time per rate (default 2)", "S" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &opt_threads,
        "CPU threads (default all cores)", "N" },
    { "part", 0, 0, G_OPTION_ARG_STRING, &opt_part,
        "cuda (parity and CUDA rates), cuda-own (the same for the face "
        "networks without cuDNN), cpu (CPU rates) or all (default)",
        "PART" },
    { "parity-only", 0, 0, G_OPTION_ARG_NONE, &opt_parity_only,
        "only the parity lines (e.g. on the emulated module)", NULL },
    { NULL } };
  GOptionContext *ctx = g_option_context_new ("- GPU parity and throughput");
  GError *error = NULL;
  GArray *batches = g_array_new (FALSE, FALSE, sizeof (int));
  AffectBackend *cpu_be, *gpu_be;
  Engine cpu, gpu;
  gchar **parts;
  int i, status = 0;
  gboolean do_cuda, do_cpu;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("gpu-check: %s\n", error->message);
    return 2;
  }
  g_option_context_free (ctx);
  parts = g_strsplit (opt_batches ? opt_batches : "1,8,32,128", ",", -1);
  for (i = 0; parts[i]; i++) {
    int b = atoi (parts[i]);
    if (b > 0)
      g_array_append_val (batches, b);
  }
  g_strfreev (parts);

  if (g_strcmp0 (opt_part, "cuda-own") == 0) {
    /* read by the module when the backend is created */
    g_setenv ("AFFECT_CUDA_CUDNN", "0", TRUE);
    gpu_label = "cuda-own";
    with_bert = FALSE;
  }
  do_cuda = g_strcmp0 (opt_part, "cpu") != 0;
  do_cpu = g_strcmp0 (opt_part, "cuda") != 0
           && g_strcmp0 (opt_part, "cuda-own") != 0 && !opt_parity_only;
  cpu_be = affect_backend_new ("cpu", opt_threads, &error);
  g_assert_no_error (error);
  printf (
      "BACKEND\tcpu\t1\t%d threads\n", affect_backend_get_n_threads (cpu_be));
  gpu_be = do_cuda ? affect_backend_new ("cuda", 1, &error) : NULL;
  if (!do_cuda) {
    /* the other part reports the CUDA backend */
  } else if (gpu_be == NULL) {
    printf ("BACKEND\t%s\t0\t%s\n", gpu_label, error->message);
    g_clear_error (&error);
  } else {
    GPtrArray *list = affect_backend_list ();
    guint j;

    for (j = 0; j < list->len; j++) {
      AffectBackendInfo *b = g_ptr_array_index (list, j);
      if (strcmp (b->name, "cuda") == 0)
        printf ("BACKEND\t%s\t1\t%s\n", gpu_label, b->devices[0]);
    }
    g_ptr_array_unref (list);
  }
  fflush (stdout);

  if (!engine_load (&cpu, cpu_be, &error)) {
    g_printerr ("gpu-check: %s\n", error->message);
    return 1;
  }
  if (gpu_be != NULL) {
    if (!engine_load (&gpu, gpu_be, &error)) {
      g_printerr ("gpu-check: cuda: %s\n", error->message);
      g_clear_error (&error);
      engine_clear (&gpu);
      status = 1;
    } else {
      parity (&cpu, &gpu);
      if (!opt_parity_only)
        rates (&gpu, gpu_label, batches);
      engine_clear (&gpu);
    }
  } else if (do_cuda) {
    for (i = 0; i < N_NETS; i++)
      printf ("PARITY\t%s\t-\tno device\tno device\t%s\n", net_info[i].name,
          gpu_label);
    if (with_bert)
      printf ("PARITY\tbert\t-\tno device\tno device\t%s\n", gpu_label);
    printf ("RATE\t-\t%s\t-\t-\tno device\n", gpu_label);
  }
  if (do_cpu)
    rates (&cpu, "cpu", batches);
  if (with_bert) /* cuda-own: only the convolutional networks */
    fusion_check (cpu_be, gpu_be, do_cpu, do_cuda);
  engine_clear (&cpu);
  affect_backend_unref (cpu_be);
  if (gpu_be)
    affect_backend_unref (gpu_be);
  g_array_free (batches, TRUE);
  return status;
}
