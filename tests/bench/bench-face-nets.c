/* gst-affect — tests/bench/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * bench-face-nets: speed of the tensor-level forward passes of the five
 * face networks of models/ on the CPU backend, and of the machine's OpenBLAS
 * sgemm for reference. Not a test: it asserts nothing about time.
 *
 * For every selected network, batch size and thread count it builds a CPU
 * backend with that many threads, loads the network, fills a normalised
 * input of the network's shape with random values in [-0.5, 0.5), runs
 * --warmup untimed forward passes, then --iters timed ones (each including
 * the allocation and release of its output tensors, as a caller would),
 * and prints one tab-separated line per configuration:
 *
 *   RESULT c <net> <batch> <threads> <median ms/iter> <mean ms/iter>
 *          <images/s from the median> <GFLOP/s from the median> <min ms>
 *
 * GFLOP/s counts 2 × the multiply-adds of the convolutions and fully
 * connected layers (bias, activations, pooling and additions not counted),
 * computed from the architecture in FACE_MODELS.md by the functions below.
 * The sgemm line is
 *
 *   SGEMM <threads> <m=n=k> <median ms> <GFLOP/s from the median>
 *         <GFLOP/s from the fastest iteration>
 *
 * run-bench.sh runs this and bench_torch.py and prints the comparison.
 */

#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "affect-gemm.h"

#include "affect-tensor.h"
#include "affect-modelpath.h"
#include "affect-landmarks.h"
#include "affect-expression.h"
#include "affect-recognition.h"
#include "affect-tinyface.h"
#include "affect-ssd.h"

/* ---- multiply-add counts per image ------------------------------------ */

typedef struct {
  int h, w, c;
  double macs;
} Shape;

static int
out_size (int in, int k, int stride, gboolean same)
{
  return same ? (in + stride - 1) / stride : (in - k) / stride + 1;
}

static void
count_conv (Shape *s, int k, int cout, int stride, gboolean same)
{
  s->h = out_size (s->h, k, stride, same);
  s->w = out_size (s->w, k, stride, same);
  s->macs += (double)s->h * s->w * k * k * s->c * cout;
  s->c = cout;
}

static void
count_depthwise (Shape *s, int k, int stride, gboolean same)
{
  s->h = out_size (s->h, k, stride, same);
  s->w = out_size (s->w, k, stride, same);
  s->macs += (double)s->h * s->w * k * k * s->c;
}

static void
count_separable (Shape *s, int cout, int stride, gboolean same)
{
  count_depthwise (s, 3, stride, same);
  count_conv (s, 1, cout, 1, TRUE);
}

static double
macs_tiny_face (void)
{
  Shape s = { 416, 416, 3, 0 };
  int i;

  count_conv (&s, 3, 16, 1, FALSE); /* 414 */
  s.h = s.w = (s.h + 1) / 2;        /* max-pool 2/2 SAME: 207 */
  for (i = 1; i <= 5; i++) {
    s.h += 2; /* zero pad 1 each side, then VALID */
    s.w += 2;
    count_separable (&s, 16 << i, 1, FALSE);
    if (i < 5)
      s.h = s.w = (s.h + 1) / 2;
  }
  count_conv (&s, 1, 25, 1, TRUE);
  return s.macs;
}

static double
macs_ssd (void)
{
  static const int cout[13]
      = { 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024 };
  static const int extra_k[8] = { 1, 3, 1, 3, 1, 3, 1, 3 };
  static const int extra_c[8] = { 256, 512, 128, 256, 128, 256, 64, 128 };
  static const int anchors[6] = { 3, 6, 6, 6, 6, 6 };
  Shape s = { 512, 512, 3, 0 }, feats[6];
  int i, n_feats = 0;

  count_conv (&s, 3, 32, 2, TRUE);
  for (i = 1; i <= 13; i++) {
    int stride = (i == 2 || i == 4 || i == 6 || i == 12) ? 2 : 1;
    count_separable (&s, cout[i - 1], stride, TRUE);
    if (i == 11 || i == 13)
      feats[n_feats++] = s;
  }
  for (i = 0; i < 8; i++) {
    count_conv (&s, extra_k[i], extra_c[i], extra_k[i] == 3 ? 2 : 1, TRUE);
    if (i % 2)
      feats[n_feats++] = s;
  }
  for (i = 0; i < 6; i++) {
    Shape f = feats[i];
    f.macs = 0;
    /* box encodings (4 per anchor) + class logits (3 per anchor) */
    count_conv (&f, 1, anchors[i] * 7, 1, TRUE);
    s.macs += f.macs;
  }
  return s.macs;
}

static double
macs_face_feature (int n_out)
{
  Shape s = { 112, 112, 3, 0 };
  int b, j;

  for (b = 0; b < 4; b++) {
    if (b == 0)
      count_conv (&s, 3, 32, 2, TRUE);
    else
      count_separable (&s, s.c * 2, 2, TRUE);
    for (j = 1; j <= 3; j++)
      count_separable (&s, s.c, 1, TRUE);
  }
  return s.macs + 256.0 * n_out; /* avg-pool, then FC */
}

static double
macs_recognition (void)
{
  static const int widths[14]
      = { 32, 32, 32, 64, 64, 64, 64, 128, 128, 128, 256, 256, 256, 256 };
  static const gboolean down[14] = { 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1 };
  Shape s = { 150, 150, 3, 0 };
  int i;

  count_conv (&s, 7, 32, 2, FALSE);        /* 72 */
  s.h = s.w = out_size (s.h, 3, 2, FALSE); /* max-pool 3/2 VALID: 35 */
  for (i = 0; i < 14; i++) {
    int shortcut = down[i] ? s.h / 2 : s.h;

    count_conv (&s, 3, widths[i], down[i] ? 2 : 1, !down[i]);
    count_conv (&s, 3, widths[i], 1, TRUE);
    s.h = s.w = MAX (s.h, shortcut); /* main path zero-padded */
  }
  return s.macs + 256.0 * 128;
}

/* ---- the networks behind one interface -------------------------------- */

typedef struct {
  const gchar *name; /* short name used on the command line */
  const gchar *file; /* <file>.safetensors */
  int size;          /* input side */
  gboolean detector; /* batch 1 only */
  int default_iters;
  double macs;
} NetInfo;

static NetInfo nets[] = {
  { "tiny", "tiny_face_detector_model", 416, TRUE, 16, 0 },
  { "ssd", "ssd_mobilenetv1_model", 512, TRUE, 8, 0 },
  { "landmarks", "face_landmark_68_model", 112, FALSE, 60, 0 },
  { "expression", "face_expression_model", 112, FALSE, 60, 0 },
  { "recognition", "face_recognition_model", 150, FALSE, 24, 0 },
};

typedef struct {
  NetInfo *info;
  gpointer net;
} Net;

static gboolean
net_load (
    Net *n, NetInfo *info, AffectBackend *be, const gchar *dir, GError **error)
{
  gchar *path = affect_model_find (info->file, dir, error);

  n->info = info;
  n->net = NULL;
  if (!path)
    return FALSE;
  if (!strcmp (info->name, "tiny"))
    n->net = affect_tiny_face_new (be, path, error);
  else if (!strcmp (info->name, "ssd"))
    n->net = affect_ssd_new (be, path, error);
  else if (!strcmp (info->name, "landmarks"))
    n->net = affect_landmark_net_new (be, path, error);
  else if (!strcmp (info->name, "expression"))
    n->net = affect_expression_net_new (be, path, error);
  else if (!strcmp (info->name, "recognition"))
    n->net = affect_recognition_net_new (be, path, error);
  g_free (path);
  return n->net != NULL;
}

/* Appends the n*h*w*c floats of @t to @f (NULL @t: nothing). */
static gboolean
dump_tensor (FILE *f, const AffectTensor *t)
{
  gsize count;
  float *host;
  gboolean ok;

  if (!t)
    return TRUE;
  count = affect_tensor_n_elements (t);
  host = g_new (float, count);
  affect_tensor_download (t, host);
  ok = fwrite (host, sizeof (float), count, f) == count;
  g_free (host);
  return ok;
}

/* One forward pass; the outputs are released, after being appended to
 * @dump when it is not NULL. FALSE if the net refused. */
static gboolean
net_forward (Net *n, const AffectTensor *in, FILE *dump)
{
  const gchar *name = n->info->name;
  AffectTensor *out = NULL, *extra = NULL;

  if (!strcmp (name, "tiny"))
    out = affect_tiny_face_forward (n->net, in);
  else if (!strcmp (name, "ssd")) {
    if (!affect_ssd_forward (n->net, in, &out, &extra))
      return FALSE;
  } else if (!strcmp (name, "landmarks"))
    out = affect_landmark_net_forward (n->net, in);
  else if (!strcmp (name, "expression"))
    out = affect_expression_net_forward (n->net, in);
  else if (!strcmp (name, "recognition"))
    out = affect_recognition_net_forward (n->net, in);
  if (!out)
    return FALSE;
  if (dump && (!dump_tensor (dump, out) || !dump_tensor (dump, extra)))
    g_printerr ("bench-face-nets: could not write the output dump\n");
  affect_tensor_free (out);
  if (extra)
    affect_tensor_free (extra);
  return TRUE;
}

static void
net_free (Net *n)
{
  const gchar *name = n->info->name;

  if (!n->net)
    return;
  if (!strcmp (name, "tiny"))
    affect_tiny_face_free (n->net);
  else if (!strcmp (name, "ssd"))
    affect_ssd_free (n->net);
  else if (!strcmp (name, "landmarks"))
    affect_landmark_net_free (n->net);
  else if (!strcmp (name, "expression"))
    affect_expression_net_free (n->net);
  else if (!strcmp (name, "recognition"))
    affect_recognition_net_free (n->net);
  n->net = NULL;
}

/* ---- timing ------------------------------------------------------------ */

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double
median (double *v, int n)
{
  qsort (
      v, n, sizeof (double), (int (*) (const void *, const void *))cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double
mean (const double *v, int n)
{
  double s = 0;
  int i;

  for (i = 0; i < n; i++)
    s += v[i];
  return s / n;
}

/* OpenBLAS sgemm of n×n by n×n with @threads threads. */
static void
bench_sgemm (int threads, int n, int iters)
{
  float *a = g_new (float, (gsize)n *n);
  float *b = g_new (float, (gsize)n *n);
  float *c = g_new0 (float, (gsize)n *n);
  double *ms = g_new (double, iters);
  GRand *rand = g_rand_new_with_seed (7);
  gsize i;
  int it;
  double med;

  for (i = 0; i < (gsize)n * n; i++) {
    a[i] = (float)g_rand_double_range (rand, -1, 1);
    b[i] = (float)g_rand_double_range (rand, -1, 1);
  }
  /* the GEMM the networks use (oneDNN, or CBLAS without it) */
  affect_sgemm (threads, FALSE, FALSE, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
  for (it = 0; it < iters; it++) {
    gint64 t0 = g_get_monotonic_time ();
    affect_sgemm (threads, FALSE, FALSE, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    ms[it] = (g_get_monotonic_time () - t0) / 1000.0;
  }
  med = median (ms, iters);
  /* median () sorted @ms */
  printf ("SGEMM\t%d\t%d\t%.3f\t%.2f\t%.2f\n", threads, n, med,
      2.0 * n * n * (double)n / (med * 1e6),
      2.0 * n * n * (double)n / (ms[0] * 1e6));
  fflush (stdout);
  g_rand_free (rand);
  g_free (a);
  g_free (b);
  g_free (c);
  g_free (ms);
}

/* Writes <dump_dir>/<net>-b<batch>.in.f32 (the input, NHWC float32) and
 * .out.f32 (the outputs, NHWC float32; for the SSD box encodings then class
 * logits), for bench_torch.py --check. */
static void
dump_run (Net *n, const AffectTensor *in, int batch, const gchar *dump_dir)
{
  gchar *base = g_strdup_printf ("%s/%s-b%d", dump_dir, n->info->name, batch);
  gchar *in_path = g_strconcat (base, ".in.f32", NULL);
  gchar *out_path = g_strconcat (base, ".out.f32", NULL);
  FILE *fi = fopen (in_path, "wb"), *fo = fopen (out_path, "wb");

  if (!fi || !fo || !dump_tensor (fi, in) || !net_forward (n, in, fo))
    g_printerr ("bench-face-nets: could not write %s\n", base);
  if (fi)
    fclose (fi);
  if (fo)
    fclose (fo);
  g_free (in_path);
  g_free (out_path);
  g_free (base);
}

static gboolean
bench_net (NetInfo *info, int batch, int threads, int iters, int warmup,
    const gchar *dir, const gchar *dump_dir, GError **error)
{
  AffectBackend *be = affect_backend_cpu_new (threads);
  AffectTensor *in;
  Net n;
  float *data;
  gsize i, count;
  double *ms, med;
  GRand *rand;
  int it;
  gboolean ok = TRUE;

  if (!net_load (&n, info, be, dir, error)) {
    affect_backend_unref (be);
    return FALSE;
  }
  in = affect_tensor_new (be, batch, info->size, info->size, 3);
  count = affect_tensor_n_elements (in);
  data = g_new (float, count);
  rand = g_rand_new_with_seed (42);
  for (i = 0; i < count; i++)
    data[i] = (float)g_rand_double_range (rand, -0.5, 0.5);
  affect_tensor_upload (in, data);

  ms = g_new (double, iters);
  for (it = 0; it < warmup && ok; it++)
    ok = net_forward (&n, in, NULL);
  for (it = 0; it < iters && ok; it++) {
    gint64 t0 = g_get_monotonic_time ();
    ok = net_forward (&n, in, NULL);
    ms[it] = (g_get_monotonic_time () - t0) / 1000.0;
  }
  if (ok) {
    double avg = mean (ms, iters);
    med = median (ms, iters);
    /* median () sorted @ms: ms[0] is the fastest iteration */
    printf ("RESULT\tc\t%s\t%d\t%d\t%.3f\t%.3f\t%.2f\t%.2f\t%.3f\n", info->name,
        batch, threads, med, avg, batch * 1000.0 / med,
        2.0 * info->macs * batch / (med * 1e6), ms[0]);
    fflush (stdout);
    if (dump_dir)
      dump_run (&n, in, batch, dump_dir);
  } else {
    g_set_error (error, g_quark_from_static_string ("bench-face-nets"), 1,
        "%s: the forward pass refused a [%d, %d, %d, 3] input", info->name,
        batch, info->size, info->size);
  }
  g_free (ms);
  g_free (data);
  g_rand_free (rand);
  affect_tensor_free (in);
  net_free (&n);
  affect_backend_unref (be);
  return ok;
}

static GArray *
parse_ints (const gchar *s, const gchar *what, GError **error)
{
  gchar **parts = g_strsplit (s, ",", -1);
  GArray *a = g_array_new (FALSE, FALSE, sizeof (int));
  int i;

  for (i = 0; parts[i]; i++) {
    gint64 v;
    if (!g_ascii_string_to_signed (parts[i], 10, 1, 4096, &v, error)) {
      g_prefix_error (error, "--%s: ", what);
      g_array_unref (a);
      g_strfreev (parts);
      return NULL;
    }
    g_array_append_val (a, v);
  }
  g_strfreev (parts);
  return a;
}

int
main (int argc, char **argv)
{
  gchar *opt_nets = NULL, *opt_batches = NULL, *opt_threads = NULL;
  gchar *opt_dir = NULL, *opt_dump = NULL;
  int opt_iters = 0, opt_warmup = 2, opt_sgemm_n = 1024;
  gboolean opt_no_sgemm = FALSE, opt_macs = FALSE;
  GOptionEntry entries[] = {
    { "nets", 0, 0, G_OPTION_ARG_STRING, &opt_nets,
        "Networks (tiny,ssd,landmarks,expression,recognition)", "LIST" },
    { "batches", 0, 0, G_OPTION_ARG_STRING, &opt_batches,
        "Batch sizes of the face nets (default 1,8; detectors: 1)", "LIST" },
    { "threads", 0, 0, G_OPTION_ARG_STRING, &opt_threads,
        "Thread counts (default 1,2)", "LIST" },
    { "iters", 0, 0, G_OPTION_ARG_INT, &opt_iters,
        "Timed iterations (default: per network)", "N" },
    { "warmup", 0, 0, G_OPTION_ARG_INT, &opt_warmup,
        "Untimed iterations first (default 2)", "N" },
    { "model-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_dir,
        "Folder of the .safetensors files (default: the usual lookup)", "DIR" },
    { "dump", 0, 0, G_OPTION_ARG_FILENAME, &opt_dump,
        "Write each network's input and outputs (float32) to DIR for "
        "bench_torch.py --check",
        "DIR" },
    { "sgemm-size", 0, 0, G_OPTION_ARG_INT, &opt_sgemm_n,
        "Side of the sgemm reference (default 1024)", "N" },
    { "no-sgemm", 0, 0, G_OPTION_ARG_NONE, &opt_no_sgemm,
        "Skip the sgemm reference", NULL },
    { "macs", 0, 0, G_OPTION_ARG_NONE, &opt_macs,
        "Print the multiply-adds per image of each network and exit", NULL },
    { NULL }
  };
  GOptionContext *ctx;
  GError *error = NULL;
  GArray *batches = NULL, *threads = NULL;
  gchar **names;
  guint i, j, k, t;
  int status = 0;

  ctx = g_option_context_new ("- speed of the face networks (not a test)");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    fprintf (stderr, "bench-face-nets: %s\n", error->message);
    return 2;
  }
  g_option_context_free (ctx);
  if (opt_iters < 0 || opt_warmup < 0 || opt_sgemm_n < 16) {
    fprintf (stderr, "bench-face-nets: bad --iters, --warmup or "
                     "--sgemm-size\n");
    return 2;
  }

  nets[0].macs = macs_tiny_face ();
  nets[1].macs = macs_ssd ();
  nets[2].macs = macs_face_feature (136);
  nets[3].macs = macs_face_feature (7);
  nets[4].macs = macs_recognition ();
  if (opt_macs) {
    for (i = 0; i < G_N_ELEMENTS (nets); i++)
      printf ("MACS\t%s\t%.0f\n", nets[i].name, nets[i].macs);
    return 0;
  }

  batches = parse_ints (opt_batches ? opt_batches : "1,8", "batches", &error);
  if (batches)
    threads = parse_ints (opt_threads ? opt_threads : "1,2", "threads", &error);
  if (!threads) {
    fprintf (stderr, "bench-face-nets: %s\n", error->message);
    return 2;
  }
  names = g_strsplit (
      opt_nets ? opt_nets : "tiny,ssd,landmarks,expression,recognition", ",",
      -1);
  for (k = 0; names[k]; k++) {
    for (i = 0; i < G_N_ELEMENTS (nets); i++)
      if (!strcmp (names[k], nets[i].name))
        break;
    if (i == G_N_ELEMENTS (nets)) {
      fprintf (stderr, "bench-face-nets: unknown network '%s'\n", names[k]);
      return 2;
    }
  }

  printf ("# GEMM: %s\n", affect_gemm_provider ());
  /* The sgemm reference goes first: the CPU backend sets OpenBLAS's thread
   * count itself before its own calls. */
  if (!opt_no_sgemm)
    for (t = 0; t < threads->len; t++)
      bench_sgemm (g_array_index (threads, int, t), opt_sgemm_n, 10);

  for (k = 0; names[k]; k++) {
    NetInfo *info = NULL;
    for (i = 0; i < G_N_ELEMENTS (nets); i++)
      if (!strcmp (names[k], nets[i].name))
        info = &nets[i];
    for (j = 0; j < batches->len; j++) {
      int batch = g_array_index (batches, int, j);
      if (info->detector && batch != 1)
        continue;
      for (t = 0; t < threads->len; t++) {
        int nt = g_array_index (threads, int, t);
        int iters = opt_iters ? opt_iters : info->default_iters;
        if (!info->detector && batch > 1)
          iters = MAX (3, iters / 4);
        if (!bench_net (info, batch, nt, iters, opt_warmup, opt_dir, opt_dump,
                &error)) {
          fprintf (stderr, "bench-face-nets: %s\n", error->message);
          g_clear_error (&error);
          status = 1;
          goto next_net;
        }
      }
    }
  next_net:;
  }

  g_strfreev (names);
  g_array_unref (batches);
  g_array_unref (threads);
  g_free (opt_nets);
  g_free (opt_batches);
  g_free (opt_threads);
  g_free (opt_dir);
  g_free (opt_dump);
  return status;
}
