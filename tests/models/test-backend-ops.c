/* gst-affect — tests/models/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Backend conformance: every op of the backend table (affect-backend.h,
 * AffectOp) on every backend under test, over many shapes (odd sizes,
 * batches 1/3/8, transposed, strided, broadcast and masked variants,
 * minimal sizes), against a float64 reference written here with plain
 * loops (independent of the backend code). See "Testing a backend" in
 * docs/inference-core.md.
 *
 * Backends: test_backend_names() (today "cpu" plus the names listed in
 * AFFECT_TEST_BACKENDS, comma or space separated), each at 1 and 2 threads.
 * A backend skips (with a line on stdout) the op families its
 * supports_op() refuses. Where the backend documents results bit-identical
 * across thread counts (backend_thread_invariant()), every case also runs
 * on a 1-thread instance of the same backend and the 2-thread results must
 * match it bit for bit.
 *
 * Errors are normalised: for each case, max |y − ref| / (max |ref| + 1e-20)
 * over the output must not exceed the op's threshold:
 *
 *   family           threshold  why
 *   conv               2e-6   float sums of K = kh·kw·cin ≤ 400 products
 *   conv_depthwise     2e-6   float sums of kh·kw products
 *   conv_separable     2e-6   depthwise output rounded, then K = cin sums
 *   linear             2e-6   float sums of K ≤ 257 products
 *   pad                0      data movement: exact
 *   max_pool           0      a maximum of inputs: exact
 *   avg_pool           1e-6   float sum of ≤ 25 values, one division
 *   global_mean        1e-6   mean of ≤ 143 values per channel
 *   add                1.2e-7 one float32 rounding (2⁻²³)
 *   activate           2.4e-7 relu/relu6 exact, leaky 2 roundings (tfjs)
 *   sigmoid, tanh      1e-6   libm-class accuracy of a float result
 *   softmax            1e-6   exp, sum and division per row
 *   concat_channels    0      exact
 *   pad_channels       0      exact
 *   resize_bilinear    1e-6   computed in double, stored float
 *   matmul             2e-6   float sums of K ≤ 131 products, alpha, beta
 *   layer_norm         2e-6   statistics in double, affine in float
 *   gelu               2e-6   erf approximated within 1e-6 (header)
 *   softmax_masked     1e-6   as softmax; fully masked rows exactly 0
 *   gather_rows        0      exact
 *   binary             1.2e-7 one float32 rounding
 *   scale              2.4e-7 a multiply and an add
 *   copy_rows          0      append_rows, tensor copy: exact
 *   gru                1e-5   T ≤ 17 steps of gates (errors stay bounded)
 *   conv1d             2e-6   as conv (1 × k, K = k·cin)
 *
 * Guards: inputs are views into a larger tensor whose other elements are
 * NaN (an out-of-bounds read makes the result NaN, and the inputs must not
 * change); outputs written in place or through AffectMatView are views
 * into a larger tensor filled with a sentinel that must survive the op
 * (out-of-bounds writes). Strided matmul views also fill the gaps between
 * rows (ld > cols) and between batch items. Ops that allocate their own
 * output are checked through their input guards.
 *
 * Under valgrind (AFFECT_UNDER_VALGRIND set) the cases marked big and
 * those with more than 20000 output elements are skipped, and so is the
 * bit-identity rerun (the normal run checks it).
 */

#include <check.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <affect-backend.h>
#include <affect-tensor.h>

#include "cpu-private.h"
#include "cpu-simd.h"

/* ---- op families and thresholds ---------------------------------------- */

typedef enum {
  T_CONV,
  T_CONV_DEPTHWISE,
  T_CONV_SEPARABLE,
  T_LINEAR,
  T_PAD,
  T_MAX_POOL,
  T_AVG_POOL,
  T_GLOBAL_MEAN,
  T_ADD,
  T_ACTIVATE,
  T_SIGMOID,
  T_TANH,
  T_SOFTMAX,
  T_CONCAT_CHANNELS,
  T_PAD_CHANNELS,
  T_RESIZE_BILINEAR,
  T_MATMUL,
  T_LAYER_NORM,
  T_GELU,
  T_SOFTMAX_MASKED,
  T_GATHER_ROWS,
  T_BINARY,
  T_SCALE,
  T_COPY_ROWS,
  T_GRU,
  T_CONV1D,
  T_LAST
} TestOp;

typedef struct {
  const gchar *name;
  AffectOp ops[2]; /* the table entries the family needs */
  int n_ops;
  double threshold; /* max |y - ref| / (max |ref| + NORM_EPS) */
} TestOpInfo;

/* Keep in sync with the table in the comment above and in
 * docs/inference-core.md ("Testing a backend"). */
static const TestOpInfo test_ops[T_LAST] = {
  [T_CONV] = { "conv", { AFFECT_OP_CONV }, 1, 2e-6 },
  [T_CONV_DEPTHWISE]
  = { "conv_depthwise", { AFFECT_OP_CONV_DEPTHWISE }, 1, 2e-6 },
  [T_CONV_SEPARABLE]
  = { "conv_separable", { AFFECT_OP_CONV_SEPARABLE }, 1, 2e-6 },
  [T_LINEAR] = { "linear", { AFFECT_OP_LINEAR }, 1, 2e-6 },
  [T_PAD] = { "pad", { AFFECT_OP_PAD }, 1, 0.0 },
  [T_MAX_POOL] = { "max_pool", { AFFECT_OP_MAX_POOL }, 1, 0.0 },
  [T_AVG_POOL] = { "avg_pool", { AFFECT_OP_AVG_POOL }, 1, 1e-6 },
  [T_GLOBAL_MEAN] = { "global_mean", { AFFECT_OP_GLOBAL_MEAN }, 1, 1e-6 },
  [T_ADD] = { "add", { AFFECT_OP_ADD }, 1, 1.2e-7 },
  [T_ACTIVATE] = { "activate", { AFFECT_OP_ACTIVATE }, 1, 2.4e-7 },
  [T_SIGMOID] = { "sigmoid", { AFFECT_OP_SIGMOID }, 1, 1e-6 },
  [T_TANH] = { "tanh", { AFFECT_OP_TANH }, 1, 1e-6 },
  [T_SOFTMAX] = { "softmax", { AFFECT_OP_SOFTMAX }, 1, 1e-6 },
  [T_CONCAT_CHANNELS]
  = { "concat_channels", { AFFECT_OP_CONCAT_CHANNELS }, 1, 0.0 },
  [T_PAD_CHANNELS] = { "pad_channels", { AFFECT_OP_PAD_CHANNELS }, 1, 0.0 },
  [T_RESIZE_BILINEAR]
  = { "resize_bilinear", { AFFECT_OP_RESIZE_BILINEAR }, 1, 1e-6 },
  [T_MATMUL] = { "matmul", { AFFECT_OP_MATMUL }, 1, 2e-6 },
  [T_LAYER_NORM] = { "layer_norm", { AFFECT_OP_LAYER_NORM }, 1, 2e-6 },
  [T_GELU] = { "gelu", { AFFECT_OP_GELU }, 1, 2e-6 },
  [T_SOFTMAX_MASKED]
  = { "softmax_masked", { AFFECT_OP_SOFTMAX_MASKED }, 1, 1e-6 },
  [T_GATHER_ROWS] = { "gather_rows", { AFFECT_OP_GATHER_ROWS }, 1, 0.0 },
  [T_BINARY] = { "binary", { AFFECT_OP_BINARY }, 1, 1.2e-7 },
  [T_SCALE] = { "scale", { AFFECT_OP_SCALE }, 1, 2.4e-7 },
  [T_COPY_ROWS] = { "copy_rows", { AFFECT_OP_COPY_ROWS }, 1, 0.0 },
  [T_GRU] = { "gru", { AFFECT_OP_GRU }, 1, 1e-5 },
  [T_CONV1D] = { "conv1d", { AFFECT_OP_CONV, AFFECT_OP_PAD }, 2, 2e-6 },
};

/* The names of the table's ops. Adding an AffectOp breaks the build here
 * until the op has a name and a test family (test_every_op_covered). */
#define OP(x) [x] = #x
static const gchar *const op_names[] = {
  OP (AFFECT_OP_CONV),
  OP (AFFECT_OP_CONV_DEPTHWISE),
  OP (AFFECT_OP_CONV_SEPARABLE),
  OP (AFFECT_OP_LINEAR),
  OP (AFFECT_OP_PAD),
  OP (AFFECT_OP_MAX_POOL),
  OP (AFFECT_OP_AVG_POOL),
  OP (AFFECT_OP_GLOBAL_MEAN),
  OP (AFFECT_OP_ADD),
  OP (AFFECT_OP_ACTIVATE),
  OP (AFFECT_OP_SIGMOID),
  OP (AFFECT_OP_TANH),
  OP (AFFECT_OP_SOFTMAX),
  OP (AFFECT_OP_CONCAT_CHANNELS),
  OP (AFFECT_OP_PAD_CHANNELS),
  OP (AFFECT_OP_RESIZE_BILINEAR),
  OP (AFFECT_OP_MATMUL),
  OP (AFFECT_OP_LAYER_NORM),
  OP (AFFECT_OP_GELU),
  OP (AFFECT_OP_SOFTMAX_MASKED),
  OP (AFFECT_OP_GATHER_ROWS),
  OP (AFFECT_OP_BINARY),
  OP (AFFECT_OP_SCALE),
  OP (AFFECT_OP_COPY_ROWS),
  OP (AFFECT_OP_GRU),
};
#undef OP
G_STATIC_ASSERT (G_N_ELEMENTS (op_names) == AFFECT_OP_LAST);

#define NORM_EPS 1e-20

/* Under valgrind, larger outputs are skipped. */
#define VALGRIND_MAX_OUTPUT 20000

/* Floats of guard on each side of a guarded tensor. */
#define GUARD 37
/* Written around outputs; any op with non-trivial parameters changes it. */
#define OUT_GUARD (-7.0e29f)

/* ---- backends under test ------------------------------------------------ */

/* The names of the backends to test: every backend the registry offers as
 * available here (affect_backend_list(): "cpu", and "cuda" or any other
 * module found through AFFECT_BACKEND_PATH or the installed folder when its
 * probe succeeds), plus the names listed in AFFECT_TEST_BACKENDS (which
 * must then be creatable: a listed name that is not fails the run). */
static GPtrArray *
test_backend_names (void)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const gchar *env = g_getenv ("AFFECT_TEST_BACKENDS");
  GPtrArray *reg = affect_backend_list ();

  for (guint i = 0; i < reg->len; i++) {
    const AffectBackendInfo *info = g_ptr_array_index (reg, i);
    if (info->available)
      g_ptr_array_add (names, g_strdup (info->name));
    else
      g_print ("backend %s not available here (%s): not tested\n", info->name,
          info->reason ? info->reason : "no reason given");
  }
  g_ptr_array_unref (reg);
  if (env != NULL) {
    gchar **v = g_strsplit_set (env, ", ", -1);
    for (gchar **p = v; *p != NULL; p++) {
      gboolean seen = FALSE;
      if (**p == '\0')
        continue;
      for (guint i = 0; i < names->len; i++)
        seen |= g_ascii_strcasecmp (names->pdata[i], *p) == 0;
      if (!seen)
        g_ptr_array_add (names, g_strdup (*p));
    }
    g_strfreev (v);
  }
  return names;
}

/* Whether a backend documents results bit-identical across thread counts.
 * The CPU backend does (docs/inference-core.md, "Determinism"), and so does
 * affect_backend_new() for every backend; a backend that cannot promise it
 * must say so in its documentation and be listed here. */
static gboolean
backend_thread_invariant (const gchar *name)
{
  return TRUE;
}

typedef struct {
  gchar *backend;
  int n_threads;
} Config;

static Config *configs;
static int n_configs;

static gboolean
under_valgrind (void)
{
  return g_getenv ("AFFECT_UNDER_VALGRIND") != NULL;
}

/* The state of one test (one op family on one configuration). */
typedef struct {
  const Config *cfg;
  TestOp op;
  AffectBackend *be;  /* the backend under test */
  AffectBackend *be1; /* the same backend on 1 thread (bit-identity), or
                       * NULL */
  GRand *rng;
  double worst;
  gchar *worst_case;
  int n_cases;
} Ctx;

static Ctx ctx;

static AffectBackend *
backend_new (const gchar *name, int n_threads)
{
  GError *err = NULL;
  AffectBackend *be = affect_backend_new (name, n_threads, &err);

  ck_assert_msg (be != NULL, "backend \"%s\" (%d threads) not available: %s",
      name, n_threads, err ? err->message : "no error");
  ck_assert_str_eq (affect_backend_get_name (be), name);
  return be;
}

/* Sets up ctx for @op on configuration @config. FALSE (after printing why)
 * when the backend does not implement the family: the caller then only
 * checks that the op is refused and calls ctx_end(). */
static gboolean
ctx_begin (int config, TestOp op)
{
  const TestOpInfo *info = &test_ops[op];

  memset (&ctx, 0, sizeof (ctx));
  ctx.cfg = &configs[config];
  ctx.op = op;
  ctx.rng = g_rand_new_with_seed (20260311 + 977 * op);
  ctx.be = backend_new (ctx.cfg->backend, ctx.cfg->n_threads);
  for (int i = 0; i < info->n_ops; i++) {
    if (!affect_backend_supports_op (ctx.be, info->ops[i])) {
      g_print ("%s (%d threads): skipping %s: supports_op (%s) is FALSE\n",
          ctx.cfg->backend, ctx.cfg->n_threads, info->name,
          op_names[info->ops[i]]);
      return FALSE;
    }
  }
  if (ctx.cfg->n_threads > 1 && backend_thread_invariant (ctx.cfg->backend)
      && !under_valgrind ())
    ctx.be1 = backend_new (ctx.cfg->backend, 1);
  return TRUE;
}

static void
ctx_end (void)
{
  if (ctx.n_cases > 0)
    g_print ("%s (%d threads): %-16s %3d cases, worst normalised error "
             "%.3g (threshold %.3g)%s%s%s\n",
        ctx.cfg->backend, ctx.cfg->n_threads, test_ops[ctx.op].name,
        ctx.n_cases, ctx.worst, test_ops[ctx.op].threshold,
        ctx.worst_case ? ": " : "", ctx.worst_case ? ctx.worst_case : "",
        ctx.be1 ? ", bit-identical to 1 thread" : "");
  affect_backend_unref (ctx.be);
  affect_backend_unref (ctx.be1);
  g_rand_free (ctx.rng);
  g_free (ctx.worst_case);
  memset (&ctx, 0, sizeof (ctx));
}

/* ---- host data ----------------------------------------------------------- */

static float *
rnd (gsize n, double lo, double hi)
{
  float *v = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    v[i] = (float)g_rand_double_range (ctx.rng, lo, hi);
  return v;
}

static float
nan_guard (void)
{
  const guint32 bits = 0x7fc0beefu;
  float f;
  memcpy (&f, &bits, sizeof (f));
  return f;
}

static gsize
count4 (int n, int h, int w, int c)
{
  return (gsize)n * h * w * c;
}

/* ---- guarded tensors ----------------------------------------------------- */

/* A view in the middle of a larger tensor. Inputs: the rest is NaN and the
 * whole parent must be unchanged after the op. Outputs: the rest is
 * OUT_GUARD and must be unchanged. */
typedef struct {
  AffectTensor *parent, *t;
  float *init; /* the parent's contents at creation */
  gsize offset, count, total;
  gboolean input;
} Buf;

static void
buf_init (Buf *b, AffectBackend *be, int n, int h, int w, int c,
    const float *data, gboolean input)
{
  const float guard = input ? nan_guard () : OUT_GUARD;

  b->count = count4 (n, h, w, c);
  /* The offset depends on the shape only (the same in both runs of a
   * bit-identity check), and varies the alignment. */
  b->offset = GUARD + (gsize)(n + h + w + c) % 4;
  b->total = b->count + b->offset + GUARD;
  b->input = input;
  b->init = g_new (float, b->total);
  for (gsize i = 0; i < b->total; i++)
    b->init[i] = guard;
  if (data != NULL)
    memcpy (b->init + b->offset, data, b->count * sizeof (float));
  b->parent = affect_tensor_new (be, 1, 1, 1, (int)b->total);
  ck_assert_ptr_nonnull (b->parent);
  affect_tensor_upload (b->parent, b->init);
  b->t = affect_tensor_view (b->parent, b->offset, n, h, w, c);
  ck_assert_ptr_nonnull (b->t);
}

static Buf *
buf_in (
    Buf *b, AffectBackend *be, int n, int h, int w, int c, const float *data)
{
  buf_init (b, be, n, h, w, c, data, TRUE);
  return b;
}

static void
buf_check (const Buf *b, const gchar *what)
{
  float *now = g_new (float, b->total);

  affect_tensor_download (b->parent, now);
  for (gsize i = 0; i < b->total; i++) {
    gboolean inside = i >= b->offset && i < b->offset + b->count;
    if (inside && !b->input)
      continue;
    ck_assert_msg (memcmp (&now[i], &b->init[i], sizeof (float)) == 0,
        "[%s, %d threads] %s: %s: %s %" G_GSIZE_FORMAT
        " changed from %.9g to %.9g",
        ctx.cfg->backend, ctx.cfg->n_threads, test_ops[ctx.op].name, what,
        i < b->offset ? "guard before the tensor, at -"
        : inside      ? "input element"
                      : "guard after the tensor, at +",
        i < b->offset ? b->offset - i
        : inside      ? i - b->offset
                      : i - b->offset - b->count,
        b->init[i], now[i]);
  }
  g_free (now);
}

static float *
download (const AffectTensor *t)
{
  float *v;

  ck_assert_ptr_nonnull (t);
  v = g_new (float, affect_tensor_n_elements (t));
  affect_tensor_download (t, v);
  return v;
}

static void
buf_clear (Buf *b)
{
  affect_tensor_free (b->t);
  affect_tensor_free (b->parent);
  g_free (b->init);
  memset (b, 0, sizeof (*b));
}

/* Checks the guards, downloads the view and frees the buffer. */
static float *
buf_finish (Buf *b, const gchar *what)
{
  float *v;

  buf_check (b, what);
  v = download (b->t);
  buf_clear (b);
  return v;
}

static void
assert_shape (const AffectTensor *t, int n, int h, int w, int c)
{
  ck_assert_ptr_nonnull (t);
  ck_assert_msg (t->n == n && t->h == h && t->w == w && t->c == c,
      "[%s, %d threads] %s: shape [%d, %d, %d, %d], expected [%d, %d, %d, "
      "%d]",
      ctx.cfg->backend, ctx.cfg->n_threads, test_ops[ctx.op].name, t->n, t->h,
      t->w, t->c, n, h, w, c);
}

/* ---- comparisons ----------------------------------------------------------- */

static void
check_close (const gchar *desc, const float *got, const double *ref, gsize n)
{
  const double thr = test_ops[ctx.op].threshold;
  double max_ref = 0.0, max_err = -1.0, err;
  gsize at = 0;

  for (gsize i = 0; i < n; i++) {
    double e = isfinite (got[i]) ? fabs ((double)got[i] - ref[i]) : INFINITY;
    if (e > max_err) {
      max_err = e;
      at = i;
    }
    max_ref = MAX (max_ref, fabs (ref[i]));
  }
  if (n == 0)
    return;
  err = max_err / (max_ref + NORM_EPS);
  ctx.n_cases++;
  if (err > ctx.worst || ctx.worst_case == NULL) {
    ctx.worst = err;
    g_free (ctx.worst_case);
    ctx.worst_case = g_strdup (desc);
  }
  ck_assert_msg (err <= thr,
      "[%s, %d threads] %s, %s: normalised error %.3g > %.3g: element "
      "%" G_GSIZE_FORMAT " is %.9g, expected %.9g (max |ref| %.6g)",
      ctx.cfg->backend, ctx.cfg->n_threads, test_ops[ctx.op].name, desc, err,
      thr, at, got[at], ref[at], max_ref);
}

static void
check_bits (const gchar *desc, const gchar *how, const float *got,
    const float *want, gsize n)
{
  for (gsize i = 0; i < n; i++)
    ck_assert_msg (memcmp (&got[i], &want[i], sizeof (float)) == 0,
        "[%s, %d threads] %s, %s: %s: element %" G_GSIZE_FORMAT
        " is %.9g, expected %.9g (bit-identical)",
        ctx.cfg->backend, ctx.cfg->n_threads, test_ops[ctx.op].name, desc, how,
        i, got[i], want[i]);
}

/* Runs one case on the backend under test and compares with @ref; then, if
 * the backend promises bit-identical results across thread counts, on its
 * 1-thread twin. @run returns the n floats of the output (g_free). */
typedef float *(*RunFunc) (AffectBackend *be, gconstpointer args);

static void
verify (const gchar *desc, RunFunc run, gconstpointer args, const double *ref,
    gsize n)
{
  float *got;

  if (n > VALGRIND_MAX_OUTPUT && under_valgrind ())
    return;
  got = run (ctx.be, args);
  check_close (desc, got, ref, n);
  if (ctx.be1 != NULL) {
    float *got1 = run (ctx.be1, args);
    check_bits (
        desc, "2 threads against 1 (documented bit-identical)", got, got1, n);
    g_free (got1);
  }
  g_free (got);
}

/* Expect exactly one critical naming @func from the calls between begin and
 * end (bad arguments are reported, never fatal). */
static int n_criticals;
static gchar *last_critical;
static GLogFunc saved_handler;

static void
count_log (const gchar *domain, GLogLevelFlags level, const gchar *message,
    gpointer data)
{
  if (level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)) {
    n_criticals++;
    g_free (last_critical);
    last_critical = g_strdup (message);
  }
}

static void
expect_critical_begin (void)
{
  n_criticals = 0;
  g_clear_pointer (&last_critical, g_free);
  saved_handler = g_log_set_default_handler (count_log, NULL);
}

static void
expect_critical_end (const gchar *func, const gchar *what)
{
  g_log_set_default_handler (saved_handler, NULL);
  ck_assert_msg (n_criticals == 1,
      "[%s, %d threads] %s: %d criticals, expected 1 (last: %s)",
      ctx.cfg->backend, ctx.cfg->n_threads, what, n_criticals,
      last_critical ? last_critical : "none");
  ck_assert_msg (strstr (last_critical, func) != NULL,
      "[%s, %d threads] %s: the critical \"%s\" does not name %s",
      ctx.cfg->backend, ctx.cfg->n_threads, what, last_critical, func);
  g_clear_pointer (&last_critical, g_free);
}

#define EXPECT_CRITICAL(func, call)    \
  G_STMT_START                         \
  {                                    \
    expect_critical_begin ();          \
    call;                              \
    expect_critical_end (func, #call); \
  }                                    \
  G_STMT_END

/* TF window rule, written independently of the library. */
static void
ref_window (int in, int k, int s, AffectPadding p, int *out, int *before)
{
  if (p == AFFECT_PAD_VALID) {
    *out = (in - k) / s + 1;
    *before = 0;
  } else {
    int total;
    *out = (in + s - 1) / s;
    total = (*out - 1) * s + k - in;
    *before = total > 0 ? total / 2 : 0;
  }
}

static double
ref_act (double v, AffectActivation act)
{
  switch (act) {
    case AFFECT_ACT_RELU:
      return v > 0 ? v : 0;
    case AFFECT_ACT_RELU6:
      return v < 0 ? 0 : (v > 6 ? 6 : v);
    case AFFECT_ACT_LEAKY:
      return v > 0 ? v : 0.1 * v;
    default:
      return v;
  }
}

static const gchar *
act_name (AffectActivation act)
{
  static const gchar *names[] = { "none", "relu", "relu6", "leaky" };
  return names[act];
}

static const gchar *
pad_name (AffectPadding p)
{
  return p == AFFECT_PAD_SAME ? "SAME" : "VALID";
}

/* ---- convolutions ---------------------------------------------------------- */

typedef enum {
  FOLD_NONE,
  FOLD_AFFINE,   /* scale and shift */
  FOLD_SCALE,    /* scale only */
  FOLD_SHIFT,    /* shift only */
  FOLD_BN,       /* batch norm with gamma and beta */
  FOLD_BN_PLAIN, /* batch norm without gamma and beta */
  FOLD_TWICE     /* an affine, then batch norm: the folds compose */
} Fold;

static const gchar *fold_names[] = { "", " +affine", " +scale", " +shift",
  " +bn", " +bn(plain)", " +affine+bn" };

typedef struct {
  int n, h, w, cin, cout, kh, kw, stride;
  AffectPadding pad;
  AffectActivation act;
  gboolean bias;
  Fold fold;
  gboolean big;
} ConvCase;

typedef enum { KIND_REGULAR, KIND_DEPTHWISE, KIND_SEPARABLE } ConvKind;

typedef struct {
  ConvKind kind;
  const ConvCase *cs;
  int cout, oh, ow, pt, pl;
  float *x, *filter, *dw, *pw, *bias;
  float *scale, *shift, *mean, *var, *gamma, *beta;
  float eps;
} ConvArgs;

static void
conv_args_init (ConvArgs *a, ConvKind kind, const ConvCase *cs)
{
  const int cout = kind == KIND_DEPTHWISE ? cs->cin : cs->cout;
  const gsize taps = (gsize)cs->kh * cs->kw;

  memset (a, 0, sizeof (*a));
  a->kind = kind;
  a->cs = cs;
  a->cout = cout;
  ref_window (cs->h, cs->kh, cs->stride, cs->pad, &a->oh, &a->pt);
  ref_window (cs->w, cs->kw, cs->stride, cs->pad, &a->ow, &a->pl);
  a->x = rnd (count4 (cs->n, cs->h, cs->w, cs->cin), -1, 1);
  if (kind == KIND_REGULAR)
    a->filter = rnd (taps * cs->cin * cout, -1, 1);
  if (kind != KIND_REGULAR)
    a->dw = rnd (taps * cs->cin, -1, 1);
  if (kind == KIND_SEPARABLE)
    a->pw = rnd ((gsize)cs->cin * cout, -1, 1);
  if (cs->bias)
    a->bias = rnd (cout, -0.5, 0.5);
  a->scale = rnd (cout, 0.25, 2);
  a->shift = rnd (cout, -1, 1);
  a->mean = rnd (cout, -0.5, 0.5);
  a->var = rnd (cout, 0.05, 2);
  a->gamma = rnd (cout, 0.5, 1.5);
  a->beta = rnd (cout, -0.5, 0.5);
  a->eps = 1e-3f;
}

static void
conv_args_clear (ConvArgs *a)
{
  g_free (a->x);
  g_free (a->filter);
  g_free (a->dw);
  g_free (a->pw);
  g_free (a->bias);
  g_free (a->scale);
  g_free (a->shift);
  g_free (a->mean);
  g_free (a->var);
  g_free (a->gamma);
  g_free (a->beta);
}

/* The folds and the activation after conv + bias, in double. */
static double
ref_conv_post (const ConvArgs *a, double v, int o)
{
  const Fold f = a->cs->fold;

  if (f == FOLD_AFFINE || f == FOLD_SCALE || f == FOLD_TWICE)
    v *= a->scale[o];
  if (f == FOLD_AFFINE || f == FOLD_SHIFT || f == FOLD_TWICE)
    v += a->shift[o];
  if (f == FOLD_BN || f == FOLD_TWICE)
    v = (v - a->mean[o]) * a->gamma[o] / sqrt ((double)a->var[o] + a->eps)
        + a->beta[o];
  if (f == FOLD_BN_PLAIN)
    v = (v - a->mean[o]) / sqrt ((double)a->var[o] + a->eps);
  return ref_act (v, a->cs->act);
}

static double *
ref_conv (const ConvArgs *a)
{
  const ConvCase *cs = a->cs;
  const int cin = cs->cin, cout = a->cout;
  double *y = g_new0 (double, count4 (cs->n, a->oh, a->ow, cout));
  double *dw = g_new (double, cin);
  double *out = y;

  for (int n = 0; n < cs->n; n++)
    for (int oy = 0; oy < a->oh; oy++)
      for (int ox = 0; ox < a->ow; ox++, out += cout) {
        /* depthwise sums (no bias) for the depthwise and separable kinds */
        for (int ci = 0; ci < cin && a->kind != KIND_REGULAR; ci++) {
          double s = 0.0;
          for (int ky = 0; ky < cs->kh; ky++)
            for (int kx = 0; kx < cs->kw; kx++) {
              int iy = oy * cs->stride - a->pt + ky;
              int ix = ox * cs->stride - a->pl + kx;
              if (iy < 0 || iy >= cs->h || ix < 0 || ix >= cs->w)
                continue;
              s += (double)
                       a->x[(((gsize)n * cs->h + iy) * cs->w + ix) * cin + ci]
                   * a->dw[((gsize)ky * cs->kw + kx) * cin + ci];
            }
          dw[ci] = s;
        }
        for (int o = 0; o < cout; o++) {
          double s = a->bias ? a->bias[o] : 0.0;
          if (a->kind == KIND_DEPTHWISE) {
            s += dw[o];
          } else if (a->kind == KIND_SEPARABLE) {
            for (int ci = 0; ci < cin; ci++)
              s += dw[ci] * a->pw[(gsize)ci * cout + o];
          } else {
            for (int ky = 0; ky < cs->kh; ky++)
              for (int kx = 0; kx < cs->kw; kx++) {
                int iy = oy * cs->stride - a->pt + ky;
                int ix = ox * cs->stride - a->pl + kx;
                const float *xp, *fp;
                if (iy < 0 || iy >= cs->h || ix < 0 || ix >= cs->w)
                  continue;
                xp = a->x + (((gsize)n * cs->h + iy) * cs->w + ix) * cin;
                fp = a->filter + (((gsize)ky * cs->kw + kx) * cin) * cout + o;
                for (int ci = 0; ci < cin; ci++)
                  s += (double)xp[ci] * fp[(gsize)ci * cout];
              }
          }
          out[o] = ref_conv_post (a, s, o);
        }
      }
  g_free (dw);
  return y;
}

static void
conv_fold (AffectConv *conv, const ConvArgs *a)
{
  switch (a->cs->fold) {
    case FOLD_AFFINE:
      affect_conv_set_affine (conv, a->scale, a->shift);
      break;
    case FOLD_SCALE:
      affect_conv_set_affine (conv, a->scale, NULL);
      break;
    case FOLD_SHIFT:
      affect_conv_set_affine (conv, NULL, a->shift);
      break;
    case FOLD_BN:
      affect_conv_set_batch_norm (
          conv, a->mean, a->var, a->gamma, a->beta, a->eps);
      break;
    case FOLD_BN_PLAIN:
      affect_conv_set_batch_norm (conv, a->mean, a->var, NULL, NULL, a->eps);
      break;
    case FOLD_TWICE:
      affect_conv_set_affine (conv, a->scale, a->shift);
      affect_conv_set_batch_norm (
          conv, a->mean, a->var, a->gamma, a->beta, a->eps);
      break;
    default:
      break;
  }
}

static float *
run_conv (AffectBackend *be, gconstpointer data)
{
  const ConvArgs *a = data;
  const ConvCase *cs = a->cs;
  AffectConv *conv = NULL;
  AffectTensor *y;
  Buf x;
  int oh = -1, ow = -1;

  switch (a->kind) {
    case KIND_REGULAR:
      conv = affect_conv_new (be, cs->kh, cs->kw, cs->cin, cs->cout, cs->stride,
          cs->pad, a->filter, a->bias, cs->act);
      break;
    case KIND_DEPTHWISE:
      conv = affect_conv_new_depthwise (be, cs->kh, cs->kw, cs->cin, cs->stride,
          cs->pad, a->dw, a->bias, cs->act);
      break;
    case KIND_SEPARABLE:
      conv = affect_conv_new_separable (be, cs->kh, cs->kw, cs->cin, cs->cout,
          cs->stride, cs->pad, a->dw, a->pw, a->bias, cs->act);
      break;
  }
  ck_assert_ptr_nonnull (conv);
  buf_in (&x, be, cs->n, cs->h, cs->w, cs->cin, a->x);
  if (cs->fold != FOLD_NONE) {
    /* Fold after a first forward: the backend must prepare again. */
    y = affect_conv_forward (conv, x.t);
    assert_shape (y, cs->n, a->oh, a->ow, a->cout);
    affect_tensor_free (y);
    conv_fold (conv, a);
  }
  y = affect_conv_forward (conv, x.t);
  assert_shape (y, cs->n, a->oh, a->ow, a->cout);
  affect_conv_get_output_size (conv, cs->h, cs->w, &oh, &ow);
  ck_assert_int_eq (oh, a->oh);
  ck_assert_int_eq (ow, a->ow);
  buf_check (&x, "input");
  buf_clear (&x);
  affect_conv_free (conv);
  {
    float *v = download (y);
    affect_tensor_free (y);
    return v;
  }
}

static void
conv_family (
    int config, ConvKind kind, TestOp op, const ConvCase *cases, gsize n_cases)
{
  if (!ctx_begin (config, op)) {
    float f[9] = { 0 };
    AffectConv *conv = NULL;
    expect_critical_begin ();
    if (kind == KIND_REGULAR)
      conv = affect_conv_new (
          ctx.be, 3, 3, 1, 1, 1, AFFECT_PAD_SAME, f, NULL, AFFECT_ACT_NONE);
    else if (kind == KIND_DEPTHWISE)
      conv = affect_conv_new_depthwise (
          ctx.be, 3, 3, 1, 1, AFFECT_PAD_SAME, f, NULL, AFFECT_ACT_NONE);
    else
      conv = affect_conv_new_separable (
          ctx.be, 3, 3, 1, 1, 1, AFFECT_PAD_SAME, f, f, NULL, AFFECT_ACT_NONE);
    expect_critical_end ("affect_conv_new", "an unsupported convolution");
    ck_assert_ptr_null (conv);
    ctx_end ();
    return;
  }
  for (gsize i = 0; i < n_cases; i++) {
    const ConvCase *cs = &cases[i];
    ConvArgs a;
    double *ref;
    gchar *desc;

    if (cs->big && under_valgrind ())
      continue;
    conv_args_init (&a, kind, cs);
    ref = ref_conv (&a);
    desc = g_strdup_printf ("[%d, %d, %d, %d] %dx%d -> %d, stride %d %s, "
                            "%s%s%s",
        cs->n, cs->h, cs->w, cs->cin, cs->kh, cs->kw, a.cout, cs->stride,
        pad_name (cs->pad), act_name (cs->act), cs->bias ? ", bias" : "",
        fold_names[cs->fold]);
    verify (desc, run_conv, &a, ref, count4 (cs->n, a.oh, a.ow, a.cout));
    g_free (desc);
    g_free (ref);
    conv_args_clear (&a);
  }
  ctx_end ();
}

#define V AFFECT_PAD_VALID
#define S AFFECT_PAD_SAME
#define A0 AFFECT_ACT_NONE
#define AR AFFECT_ACT_RELU
#define A6 AFFECT_ACT_RELU6
#define AL AFFECT_ACT_LEAKY

/* n, h, w, cin, cout, kh, kw, stride, padding, act, bias, fold, big */
static const ConvCase conv_cases[] = {
  { 1, 1, 1, 1, 1, 1, 1, 1, V, A0, FALSE },             /* minimal */
  { 1, 1, 1, 2, 3, 3, 3, 1, S, A0, TRUE },              /* all padding */
  { 1, 7, 9, 3, 8, 3, 3, 2, S, AR, TRUE },              /* RGB, stride 2 */
  { 3, 5, 6, 3, 33, 3, 3, 1, S, AL, TRUE },             /* few cin, 32+1 */
  { 1, 8, 8, 16, 16, 3, 3, 2, S, A6, TRUE },            /* even size, s2 */
  { 8, 4, 5, 5, 7, 1, 1, 1, V, A0, TRUE },              /* 1×1 s1 */
  { 3, 9, 7, 6, 5, 1, 1, 2, S, AR, FALSE },             /* 1×1 s2 */
  { 1, 11, 10, 4, 9, 5, 5, 2, V, A0, TRUE },            /* 5×5 VALID */
  { 1, 3, 2, 7, 4, 5, 5, 1, S, A0, TRUE },              /* k > input */
  { 3, 6, 7, 2, 3, 1, 3, 1, S, A0, TRUE },              /* 1×3 */
  { 1, 7, 5, 3, 2, 3, 1, 2, V, AL, TRUE },              /* 3×1 */
  { 1, 5, 5, 2, 4, 5, 5, 3, S, AR, TRUE },              /* stride 3 */
  { 1, 4, 4, 8, 130, 3, 3, 1, S, AR, TRUE },            /* channel blocks */
  { 1, 3, 3, 16, 257, 1, 1, 1, V, A6, TRUE },           /* 1×1 blocks */
  { 2, 30, 29, 13, 24, 3, 3, 1, S, AR, TRUE, 0, TRUE }, /* pixel blocks */
  { 1, 5, 5, 4, 6, 3, 3, 1, S, AR, TRUE, FOLD_BN },
  { 3, 5, 5, 4, 6, 3, 3, 2, V, A6, TRUE, FOLD_AFFINE },
  { 1, 5, 4, 3, 5, 3, 3, 1, S, AL, FALSE, FOLD_SCALE },
  { 1, 4, 6, 5, 3, 1, 1, 1, V, A0, FALSE, FOLD_SHIFT },
  { 8, 3, 3, 2, 4, 3, 3, 1, S, A0, TRUE, FOLD_BN_PLAIN },
  { 3, 4, 3, 6, 5, 3, 3, 1, S, AR, TRUE, FOLD_TWICE },
};

/* cout is ignored (= cin) */
static const ConvCase depthwise_cases[] = {
  { 1, 1, 1, 1, 0, 1, 1, 1, V, A0, FALSE },
  { 1, 1, 1, 3, 0, 3, 3, 1, S, A0, TRUE },
  { 1, 7, 9, 3, 0, 3, 3, 2, S, AR, TRUE },
  { 3, 6, 7, 8, 0, 3, 3, 1, S, A6, TRUE },
  { 1, 9, 8, 19, 0, 3, 3, 2, S, AL, TRUE },  /* 8 + 8 + 3 */
  { 1, 6, 7, 32, 0, 3, 3, 1, S, AR, TRUE },  /* two pixels */
  { 3, 5, 8, 64, 0, 3, 3, 1, V, A0, FALSE }, /* two pixels */
  { 1, 7, 7, 37, 0, 5, 5, 2, S, A0, TRUE },  /* 32 + 5 */
  { 8, 4, 5, 33, 0, 3, 3, 1, S, A6, TRUE },
  { 1, 6, 11, 64, 0, 3, 3, 2, S, AR, TRUE },           /* s2, 2 pixels */
  { 1, 2, 3, 5, 0, 5, 5, 1, S, AR, TRUE },             /* k > input */
  { 1, 9, 6, 4, 0, 1, 3, 1, S, A0, TRUE },             /* 1×3 */
  { 1, 40, 41, 32, 0, 3, 3, 1, S, AR, TRUE, 0, TRUE }, /* big */
  { 3, 5, 5, 6, 0, 3, 3, 1, S, AR, TRUE, FOLD_BN },
  { 1, 6, 5, 40, 0, 3, 3, 2, S, A6, FALSE, FOLD_AFFINE },
  { 1, 4, 4, 9, 0, 3, 3, 1, V, A0, TRUE, FOLD_TWICE },
};

static const ConvCase separable_cases[] = {
  { 1, 1, 1, 1, 1, 1, 1, 1, V, A0, FALSE },
  { 1, 1, 1, 2, 3, 3, 3, 1, S, A0, TRUE },
  { 1, 7, 9, 3, 8, 3, 3, 2, S, AR, TRUE },
  { 3, 6, 7, 8, 17, 3, 3, 1, S, A6, TRUE },
  { 1, 9, 8, 19, 5, 3, 3, 2, S, AL, TRUE },
  { 1, 6, 7, 32, 33, 3, 3, 1, S, AR, TRUE },
  { 8, 4, 5, 16, 8, 3, 3, 1, V, A0, FALSE },
  { 1, 7, 7, 37, 2, 5, 5, 2, S, A0, TRUE },
  { 1, 4, 4, 16, 130, 3, 3, 1, S, AR, TRUE },           /* channel blocks */
  { 1, 24, 23, 16, 24, 3, 3, 1, S, AR, TRUE, 0, TRUE }, /* big */
  { 3, 5, 5, 6, 4, 3, 3, 1, S, AR, TRUE, FOLD_BN },
  { 1, 6, 5, 12, 7, 3, 3, 2, S, A6, FALSE, FOLD_AFFINE },
  { 1, 4, 4, 9, 3, 3, 3, 1, V, A0, TRUE, FOLD_BN_PLAIN },
};

START_TEST (test_conv)
{
  conv_family (_i, KIND_REGULAR, T_CONV, conv_cases, G_N_ELEMENTS (conv_cases));
}

END_TEST;

START_TEST (test_conv_depthwise)
{
  conv_family (_i, KIND_DEPTHWISE, T_CONV_DEPTHWISE, depthwise_cases,
      G_N_ELEMENTS (depthwise_cases));
}

END_TEST;

START_TEST (test_conv_separable)
{
  conv_family (_i, KIND_SEPARABLE, T_CONV_SEPARABLE, separable_cases,
      G_N_ELEMENTS (separable_cases));
}

END_TEST;

/* ---- fully connected ------------------------------------------------------- */

typedef struct {
  int n, h, w, in, out;
  gboolean transposed, bias;
} LinearCase;

typedef struct {
  const LinearCase *cs;
  float *x, *weight, *bias;
} LinearArgs;

static float *
run_linear (AffectBackend *be, gconstpointer data)
{
  const LinearArgs *a = data;
  const LinearCase *cs = a->cs;
  AffectLinear *lin = affect_linear_new (
      be, cs->in, cs->out, a->weight, cs->transposed, a->bias);
  AffectTensor *y;
  Buf x;
  float *v;

  ck_assert_ptr_nonnull (lin);
  buf_in (&x, be, cs->n, cs->h, cs->w, cs->in, a->x);
  y = affect_linear_forward (lin, x.t);
  assert_shape (y, cs->n, cs->h, cs->w, cs->out);
  buf_check (&x, "input");
  buf_clear (&x);
  affect_linear_free (lin);
  v = download (y);
  affect_tensor_free (y);
  return v;
}

static const LinearCase linear_cases[] = {
  { 1, 1, 1, 1, 1, FALSE, FALSE },
  { 1, 1, 1, 7, 3, FALSE, TRUE },
  { 3, 1, 1, 16, 9, TRUE, TRUE },
  { 8, 1, 1, 33, 17, FALSE, TRUE },
  { 2, 3, 5, 12, 7, TRUE, FALSE }, /* rows = n·h·w */
  { 3, 1, 4, 257, 10, FALSE, TRUE },
  { 1, 1, 3, 64, 130, TRUE, TRUE },
  { 8, 2, 1, 5, 1, FALSE, TRUE },
};

START_TEST (test_linear)
{
  if (!ctx_begin (_i, T_LINEAR)) {
    float f[4] = { 0 };
    EXPECT_CRITICAL ("affect_linear_new",
        ck_assert_ptr_null (affect_linear_new (ctx.be, 2, 2, f, FALSE, NULL)));
    ctx_end ();
    return;
  }
  for (gsize i = 0; i < G_N_ELEMENTS (linear_cases); i++) {
    const LinearCase *cs = &linear_cases[i];
    const gsize rows = count4 (cs->n, cs->h, cs->w, 1);
    LinearArgs a = { cs, rnd (rows * cs->in, -1, 1),
      rnd ((gsize)cs->in * cs->out, -1, 1),
      cs->bias ? rnd (cs->out, -1, 1) : NULL };
    double *ref = g_new (double, rows * cs->out);
    gchar *desc;

    for (gsize r = 0; r < rows; r++)
      for (int o = 0; o < cs->out; o++) {
        double s = a.bias ? a.bias[o] : 0.0;
        for (int k = 0; k < cs->in; k++)
          s += (double)a.x[r * cs->in + k]
               * (cs->transposed ? a.weight[(gsize)o * cs->in + k]
                                 : a.weight[(gsize)k * cs->out + o]);
        ref[r * cs->out + o] = s;
      }
    desc = g_strdup_printf ("[%d, %d, %d, %d] -> %d%s%s", cs->n, cs->h, cs->w,
        cs->in, cs->out, cs->transposed ? ", [out, in] weights" : "",
        cs->bias ? ", bias" : "");
    verify (desc, run_linear, &a, ref, rows * cs->out);
    g_free (desc);
    g_free (ref);
    g_free (a.x);
    g_free (a.weight);
    g_free (a.bias);
  }
  ctx_end ();
}

END_TEST;

/* ---- the CPU backend's half-float panels ------------------------------- */

/* @n random half floats (normal and subnormal, zeros, both signs), as
 * floats: m 2^e with |m| < 2048 and e in [-24, 4]. */
static float *
rnd_half (GRand *rng, gsize n)
{
  float *v = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    v[i] = ldexpf ((float)g_rand_int_range (rng, -2047, 2048),
        g_rand_int_range (rng, -24, 5));
  return v;
}

/* cpu_panels_to_half () takes exactly the weights that are half floats. */
START_TEST (test_f16_panels_pack)
{
  const float not_half[] = { 0.1f, 65520.0f, 0x1p-25f, 1.0f + 0x1p-11f,
    0x1p-24f * 1.5f, INFINITY, NAN, 0x1p-130f };
  GRand *rng = g_rand_new_with_seed (20261208);
  float *w = rnd_half (rng, 40 * 7);
  CpuPanels p;

  w[0] = -0.0f;
  w[1] = 65504.0f;        /* the largest half */
  w[2] = -0x1p-24f;       /* the smallest subnormal */
  w[3] = 0x1p-14f;        /* the smallest normal */
  w[4] = 1023 * 0x1p-24f; /* the largest subnormal */
  g_unsetenv ("AFFECT_CPU_F16_PANELS");
  ck_assert (cpu_panels_init (&p, 40, 7, w, 7, 1, NULL, NULL));
  ck_assert (cpu_panels_to_half (&p));
  ck_assert_ptr_null (p.w);
  ck_assert_ptr_nonnull (p.wh);
  for (int o = 0; o < 40; o++)
    for (int i = 0; i < 7; i++) {
      const float back
          = cpu_half_to_float (p.wh[(o / CPU_PANEL) * 7 * CPU_PANEL
                                    + i * CPU_PANEL + o % CPU_PANEL]);
      ck_assert_msg (memcmp (&back, &w[o * 7 + i], sizeof (back)) == 0,
          "weight (%d, %d): %a packed as %a", o, i, w[o * 7 + i], back);
    }
  cpu_panels_clear (&p);

  for (gsize k = 0; k < G_N_ELEMENTS (not_half); k++) {
    w[5] = not_half[k];
    ck_assert (cpu_panels_init (&p, 40, 7, w, 7, 1, NULL, NULL));
    ck_assert_msg (!cpu_panels_to_half (&p), "%a taken as a half", w[5]);
    ck_assert_ptr_nonnull (p.w);
    ck_assert_ptr_null (p.wh);
    cpu_panels_clear (&p);
  }

  w[5] = 1.0f;
  g_setenv ("AFFECT_CPU_F16_PANELS", "0", TRUE);
  ck_assert (cpu_panels_init (&p, 40, 7, w, 7, 1, NULL, NULL));
  ck_assert (!cpu_panels_to_half (&p));
  ck_assert_ptr_null (p.wh);
  cpu_panels_clear (&p);
  g_unsetenv ("AFFECT_CPU_F16_PANELS");
  g_free (w);
  g_rand_free (rng);
}

END_TEST;

/* A layer of half-float weights gives the same bits with half panels (the
 * default) and float32 ones (AFFECT_CPU_F16_PANELS=0), on 1 and 2 threads,
 * for 1, 3 and 8 rows, on the SIMD level of the run (the suite runs this
 * program at each). Large enough (4.2 M multiply-adds a row) for two
 * threads to split a row's panels; the last panel partial. */
START_TEST (test_f16_panels_same_bits)
{
  const int in = under_valgrind () ? 40 : 384;
  const int out = under_valgrind () ? 75 : 11000;
  const int row_counts[] = { 1, 3, 8 };
  GRand *rng = g_rand_new_with_seed (20261209);
  float *w = rnd_half (rng, (gsize)in * out);
  float *bias = g_new (float, out);
  float *x = g_new (float, 8 * in);

  for (int o = 0; o < out; o++)
    bias[o] = (float)g_rand_double_range (rng, -1, 1);
  for (int i = 0; i < 8 * in; i++)
    x[i] = (float)g_rand_double_range (rng, -1, 1);
  for (int threads = 1; threads <= 2; threads++) {
    AffectBackend *be = backend_new ("cpu", threads);

    for (gsize r = 0; r < G_N_ELEMENTS (row_counts); r++) {
      const int rows = row_counts[r];
      float *y[2];

      for (int half = 0; half < 2; half++) {
        AffectLinear *lin;
        AffectTensor *t;
        Buf xb;

        g_setenv ("AFFECT_CPU_F16_PANELS", half ? "1" : "0", TRUE);
        lin = affect_linear_new (be, in, out, w, TRUE, bias);
        ck_assert_ptr_nonnull (lin);
        buf_in (&xb, be, rows, 1, 1, in, x);
        t = affect_linear_forward (lin, xb.t);
        assert_shape (t, rows, 1, 1, out);
        buf_clear (&xb);
        affect_linear_free (lin);
        y[half] = download (t);
        affect_tensor_free (t);
      }
      for (gsize i = 0; i < (gsize)rows * out; i++)
        ck_assert_msg (memcmp (&y[0][i], &y[1][i], sizeof (float)) == 0,
            "%d threads, %d rows: element %" G_GSIZE_FORMAT
            ": %a with half panels, %a without",
            threads, rows, i, y[1][i], y[0][i]);
      g_free (y[0]);
      g_free (y[1]);
    }
    affect_backend_unref (be);
  }
  g_unsetenv ("AFFECT_CPU_F16_PANELS");
  g_free (x);
  g_free (bias);
  g_free (w);
  g_rand_free (rng);
}

END_TEST;

/* ---- padding, pooling, mean ------------------------------------------------ */

typedef struct {
  int n, h, w, c;
  int a, b, cc, d; /* pad: top, bottom, left, right; pool: k, stride, pad */
} SpatialCase;

typedef struct {
  const SpatialCase *cs;
  TestOp op;
  float *x;
  int oh, ow;
} SpatialArgs;

static float *
run_spatial (AffectBackend *be, gconstpointer data)
{
  const SpatialArgs *a = data;
  const SpatialCase *cs = a->cs;
  AffectTensor *y = NULL;
  Buf x;
  float *v;

  buf_in (&x, be, cs->n, cs->h, cs->w, cs->c, a->x);
  switch (a->op) {
    case T_PAD:
      y = affect_pad (x.t, cs->a, cs->b, cs->cc, cs->d);
      break;
    case T_MAX_POOL:
      y = affect_max_pool (x.t, cs->a, cs->b, (AffectPadding)cs->cc);
      break;
    case T_AVG_POOL:
      y = affect_avg_pool (x.t, cs->a, cs->b, (AffectPadding)cs->cc);
      break;
    case T_GLOBAL_MEAN:
      y = affect_global_mean (x.t);
      break;
    default:
      g_assert_not_reached ();
  }
  assert_shape (y, cs->n, a->oh, a->ow, cs->c);
  buf_check (&x, "input");
  buf_clear (&x);
  v = download (y);
  affect_tensor_free (y);
  return v;
}

static double *
ref_spatial (SpatialArgs *a)
{
  const SpatialCase *cs = a->cs;
  const int c = cs->c;
  int pt = 0, pl = 0;
  double *y;

  if (a->op == T_PAD) {
    a->oh = cs->h + cs->a + cs->b;
    a->ow = cs->w + cs->cc + cs->d;
  } else if (a->op == T_GLOBAL_MEAN) {
    a->oh = a->ow = 1;
  } else {
    ref_window (cs->h, cs->a, cs->b, (AffectPadding)cs->cc, &a->oh, &pt);
    ref_window (cs->w, cs->a, cs->b, (AffectPadding)cs->cc, &a->ow, &pl);
  }
  y = g_new0 (double, count4 (cs->n, a->oh, a->ow, c));
  for (int n = 0; n < cs->n; n++)
    for (int oy = 0; oy < a->oh; oy++)
      for (int ox = 0; ox < a->ow; ox++)
        for (int ch = 0; ch < c; ch++) {
          double *out = &y[(((gsize)n * a->oh + oy) * a->ow + ox) * c + ch];
          double acc = a->op == T_MAX_POOL ? -INFINITY : 0.0;
          int cnt = 0, y0, y1, x0, x1;

          if (a->op == T_PAD) {
            int iy = oy - cs->a, ix = ox - cs->cc;
            *out = iy >= 0 && iy < cs->h && ix >= 0 && ix < cs->w
                       ? a->x[(((gsize)n * cs->h + iy) * cs->w + ix) * c + ch]
                       : 0.0;
            continue;
          }
          if (a->op == T_GLOBAL_MEAN) {
            y0 = x0 = 0;
            y1 = cs->h;
            x1 = cs->w;
          } else {
            y0 = oy * cs->b - pt;
            x0 = ox * cs->b - pl;
            y1 = y0 + cs->a;
            x1 = x0 + cs->a;
          }
          for (int iy = MAX (y0, 0); iy < MIN (y1, cs->h); iy++)
            for (int ix = MAX (x0, 0); ix < MIN (x1, cs->w); ix++) {
              double v = a->x[(((gsize)n * cs->h + iy) * cs->w + ix) * c + ch];
              acc = a->op == T_MAX_POOL ? MAX (acc, v) : acc + v;
              cnt++;
            }
          ck_assert_int_gt (cnt, 0);
          *out = a->op == T_MAX_POOL ? acc : acc / cnt;
        }
  return y;
}

static void
spatial_family (int config, TestOp op, const SpatialCase *cases, gsize n_cases)
{
  if (!ctx_begin (config, op)) {
    AffectTensor *t = affect_tensor_new_zeros (ctx.be, 1, 3, 3, 1), *y = NULL;
    expect_critical_begin ();
    if (op == T_PAD)
      y = affect_pad (t, 1, 1, 1, 1);
    else if (op == T_MAX_POOL)
      y = affect_max_pool (t, 2, 1, AFFECT_PAD_SAME);
    else if (op == T_AVG_POOL)
      y = affect_avg_pool (t, 2, 1, AFFECT_PAD_SAME);
    else
      y = affect_global_mean (t);
    expect_critical_end ("affect_", "an unsupported op");
    ck_assert_ptr_null (y);
    affect_tensor_free (t);
    ctx_end ();
    return;
  }
  for (gsize i = 0; i < n_cases; i++) {
    const SpatialCase *cs = &cases[i];
    SpatialArgs a
        = { cs, op, rnd (count4 (cs->n, cs->h, cs->w, cs->c), -4, 4) };
    double *ref = ref_spatial (&a);
    gchar *desc
        = op == T_PAD ? g_strdup_printf ("[%d, %d, %d, %d] pad %d %d %d %d",
              cs->n, cs->h, cs->w, cs->c, cs->a, cs->b, cs->cc, cs->d)
          : op == T_GLOBAL_MEAN
              ? g_strdup_printf ("[%d, %d, %d, %d]", cs->n, cs->h, cs->w, cs->c)
              : g_strdup_printf ("[%d, %d, %d, %d] k %d stride %d %s", cs->n,
                  cs->h, cs->w, cs->c, cs->a, cs->b,
                  pad_name ((AffectPadding)cs->cc));

    verify (desc, run_spatial, &a, ref, count4 (cs->n, a.oh, a.ow, cs->c));
    g_free (desc);
    g_free (ref);
    g_free (a.x);
  }
  ctx_end ();
}

static const SpatialCase pad_cases[] = {
  { 1, 1, 1, 1, 0, 0, 0, 0 },
  { 1, 1, 1, 1, 1, 1, 1, 1 },
  { 3, 2, 3, 5, 1, 2, 3, 0 },
  { 1, 5, 4, 3, 0, 1, 0, 1 }, /* TF SAME stride 2 style */
  { 8, 1, 1, 1, 2, 2, 2, 2 },
  { 1, 7, 6, 17, 3, 0, 0, 4 },
  { 3, 4, 9, 8, 0, 0, 2, 0 },
};

/* k, stride, padding */
static const SpatialCase pool_cases[] = {
  { 1, 1, 1, 1, 1, 1, S },
  { 1, 1, 1, 3, 3, 2, S }, /* window larger than the input */
  { 1, 4, 4, 8, 2, 2, V }, { 3, 5, 7, 7, 2, 2, S }, { 1, 9, 8, 19, 3, 2, S },
  { 8, 6, 6, 9, 3, 1, S }, { 1, 7, 5, 16, 3, 2, V }, { 3, 5, 5, 33, 5, 1, S },
  { 1, 4, 6, 2, 4, 4, V },                            /* k = h */
  { 1, 3, 2, 5, 5, 3, S }, { 1, 11, 13, 8, 3, 3, S }, /* stride = k */
  { 3, 7, 5, 3, 1, 2, S }, { 1, 9, 7, 10, 2, 3, V },  /* stride > k */
};

static const SpatialCase mean_cases[] = {
  { 1, 1, 1, 1 },
  { 3, 7, 5, 9 },
  { 8, 2, 3, 16 },
  { 1, 13, 11, 33 },
  { 3, 1, 4, 1 },
};

START_TEST (test_pad)
{
  spatial_family (_i, T_PAD, pad_cases, G_N_ELEMENTS (pad_cases));
}

END_TEST;

START_TEST (test_max_pool)
{
  spatial_family (_i, T_MAX_POOL, pool_cases, G_N_ELEMENTS (pool_cases));
}

END_TEST;

START_TEST (test_avg_pool)
{
  spatial_family (_i, T_AVG_POOL, pool_cases, G_N_ELEMENTS (pool_cases));
}

END_TEST;

START_TEST (test_global_mean)
{
  spatial_family (_i, T_GLOBAL_MEAN, mean_cases, G_N_ELEMENTS (mean_cases));
}

END_TEST;

/* ---- elementwise (add, activations, sigmoid, tanh, softmax) -------------- */

typedef struct {
  int n, h, w, c;
  double lo, hi; /* value range */
} ShapeCase;

typedef struct {
  const ShapeCase *cs;
  TestOp op;
  int variant; /* add: 0 new, 1 in place; activate: the activation */
  float *x, *b;
} ElemArgs;

static float *
run_elementwise (AffectBackend *be, gconstpointer data)
{
  const ElemArgs *a = data;
  const ShapeCase *cs = a->cs;
  Buf x, b;

  if (a->op == T_ADD && a->variant == 0) {
    AffectTensor *y;
    float *v;
    buf_in (&x, be, cs->n, cs->h, cs->w, cs->c, a->x);
    buf_in (&b, be, cs->n, cs->h, cs->w, cs->c, a->b);
    y = affect_add (x.t, b.t);
    assert_shape (y, cs->n, cs->h, cs->w, cs->c);
    buf_check (&x, "a");
    buf_check (&b, "b");
    buf_clear (&x);
    buf_clear (&b);
    v = download (y);
    affect_tensor_free (y);
    return v;
  }
  /* in place on a view in a guarded tensor */
  buf_init (&x, be, cs->n, cs->h, cs->w, cs->c, a->x, FALSE);
  switch (a->op) {
    case T_ADD:
      buf_in (&b, be, cs->n, cs->h, cs->w, cs->c, a->b);
      affect_add_inplace (x.t, b.t);
      buf_check (&b, "b");
      buf_clear (&b);
      break;
    case T_ACTIVATE:
      affect_activate_inplace (x.t, (AffectActivation)a->variant);
      break;
    case T_SIGMOID:
      affect_sigmoid_inplace (x.t);
      break;
    case T_TANH:
      affect_tanh_inplace (x.t);
      break;
    case T_SOFTMAX:
      affect_softmax_inplace (x.t);
      break;
    case T_GELU:
      affect_gelu_inplace (x.t);
      break;
    default:
      g_assert_not_reached ();
  }
  return buf_finish (&x, "in place");
}

/* Values every elementwise test includes (edges of relu6, erf's clamp,
 * signed zeros, tiny and large magnitudes), scaled into the case's range. */
static const float special_values[] = { 0.0f, -0.0f, 6.0f, -6.0f, 5.9999995f,
  6.0000005f, 4.0f, -4.0f, 1e-30f, -1e-30f, 0.5f, -0.5f, 1.0f, -1.0f };

static double *
ref_elementwise (const ElemArgs *a, gsize n)
{
  double *ref = g_new (double, n);
  const int c = a->cs->c;

  for (gsize i = 0; i < n; i++) {
    const double x = a->x[i];
    switch (a->op) {
      case T_ADD:
        ref[i] = x + a->b[i];
        break;
      case T_ACTIVATE:
        ref[i] = ref_act (x, (AffectActivation)a->variant);
        break;
      case T_SIGMOID:
        ref[i] = 1.0 / (1.0 + exp (-x));
        break;
      case T_TANH:
        ref[i] = tanh (x);
        break;
      case T_GELU:
        ref[i] = 0.5 * x * (1.0 + erf (x / sqrt (2.0)));
        break;
      case T_SOFTMAX:
        if (i % c == 0) {
          double mx = -INFINITY, sum = 0.0;
          for (int j = 0; j < c; j++)
            mx = MAX (mx, (double)a->x[i + j]);
          for (int j = 0; j < c; j++)
            sum += exp ((double)a->x[i + j] - mx);
          for (int j = 0; j < c; j++)
            ref[i + j] = exp ((double)a->x[i + j] - mx) / sum;
        }
        break;
      default:
        g_assert_not_reached ();
    }
  }
  return ref;
}

static void
elementwise_family (int config, TestOp op, const ShapeCase *cases,
    gsize n_cases, int n_variants)
{
  static const gchar *variants[][4] = {
    [T_ADD] = { "new output", "in place" },
    [T_ACTIVATE] = { "none", "relu", "relu6", "leaky" },
  };

  if (!ctx_begin (config, op)) {
    AffectTensor *t = affect_tensor_new_zeros (ctx.be, 1, 1, 2, 3);
    float zero[6] = { 0 }, *v;
    expect_critical_begin ();
    if (op == T_ADD)
      ck_assert_ptr_null (affect_add (t, t));
    else if (op == T_ACTIVATE)
      affect_activate_inplace (t, AFFECT_ACT_RELU);
    else if (op == T_SIGMOID)
      affect_sigmoid_inplace (t);
    else if (op == T_TANH)
      affect_tanh_inplace (t);
    else if (op == T_SOFTMAX)
      affect_softmax_inplace (t);
    else
      affect_gelu_inplace (t);
    expect_critical_end ("affect_", "an unsupported op");
    v = download (t);
    ck_assert (memcmp (v, zero, sizeof (zero)) == 0);
    g_free (v);
    affect_tensor_free (t);
    ctx_end ();
    return;
  }
  for (gsize i = 0; i < n_cases; i++) {
    const ShapeCase *cs = &cases[i];
    const gsize n = count4 (cs->n, cs->h, cs->w, cs->c);

    for (int variant = 0; variant < n_variants; variant++) {
      ElemArgs a = { cs, op, variant, rnd (n, cs->lo, cs->hi),
        rnd (n, cs->lo, cs->hi) };
      double *ref;
      gchar *desc;

      /* the special values, where they fit the range, at the start (the
       * vector tails at the end keep random values) */
      for (gsize j = 0; j < G_N_ELEMENTS (special_values) && j < n; j++)
        if (special_values[j] >= cs->lo && special_values[j] <= cs->hi
            && op != T_SOFTMAX)
          a.x[j] = special_values[j];
      ref = ref_elementwise (&a, n);
      desc = g_strdup_printf ("[%d, %d, %d, %d] in [%g, %g]%s%s", cs->n, cs->h,
          cs->w, cs->c, cs->lo, cs->hi, n_variants > 1 ? ", " : "",
          n_variants > 1 ? variants[op][variant] : "");
      verify (desc, run_elementwise, &a, ref, n);
      g_free (desc);
      g_free (ref);
      g_free (a.x);
      g_free (a.b);
    }
  }
  ctx_end ();
}

/* shapes with vector tails, one larger than a thread's grain (16384) */
static const ShapeCase elem_cases[] = {
  { 1, 1, 1, 1, -1, 1 }, { 1, 1, 1, 7, -3, 3 }, { 1, 1, 1, 13, -8, 8 },
  { 3, 4, 5, 6, -8, 8 }, { 8, 1, 3, 17, -1, 1 }, { 1, 1, 301, 129, -10, 10 },
  { 3, 2, 7, 9, -0.01, 0.01 },
  { 1, 3, 1, 5, 5, 6.5 }, /* around relu6's cap, in vector tails */
};

static const ShapeCase softmax_cases[] = {
  { 1, 1, 1, 1, -1, 1 },
  { 1, 1, 1, 2, -20, 20 },
  { 3, 1, 4, 7, -5, 5 },
  { 2, 3, 5, 33, -20, 20 },
  { 8, 1, 1, 1000, -1, 1 },
  { 1, 1, 3, 64, 80, 100 }, /* exp overflows in float without the max */
  { 1, 2, 4, 5, -100, -80 },
};

START_TEST (test_add)
{
  elementwise_family (_i, T_ADD, elem_cases, G_N_ELEMENTS (elem_cases), 2);
}

END_TEST;

START_TEST (test_activate)
{
  elementwise_family (_i, T_ACTIVATE, elem_cases, G_N_ELEMENTS (elem_cases), 4);
}

END_TEST;

START_TEST (test_sigmoid)
{
  static const ShapeCase cases[]
      = { { 1, 1, 1, 1, -1, 1 }, { 1, 1, 1, 7, -4, 4 }, { 3, 4, 5, 6, -15, 15 },
          { 1, 1, 301, 129, -30, 30 }, { 8, 1, 3, 17, -1, 1 } };
  elementwise_family (_i, T_SIGMOID, cases, G_N_ELEMENTS (cases), 1);
}

END_TEST;

START_TEST (test_tanh)
{
  static const ShapeCase cases[]
      = { { 1, 1, 1, 1, -1, 1 }, { 1, 1, 1, 7, -2, 2 }, { 3, 4, 5, 6, -5, 5 },
          { 1, 1, 301, 129, -20, 20 }, { 8, 1, 3, 17, -0.1, 0.1 } };
  elementwise_family (_i, T_TANH, cases, G_N_ELEMENTS (cases), 1);
}

END_TEST;

START_TEST (test_softmax)
{
  elementwise_family (
      _i, T_SOFTMAX, softmax_cases, G_N_ELEMENTS (softmax_cases), 1);
}

END_TEST;

START_TEST (test_gelu)
{
  static const ShapeCase cases[]
      = { { 1, 1, 1, 1, -1, 1 }, { 1, 1, 1, 7, -3, 3 }, { 3, 4, 5, 6, -1, 1 },
          { 1, 1, 301, 129, -10, 10 }, { 8, 1, 3, 17, -4.5, 4.5 },
          { 1, 2, 3, 7, -30, 30 }, { 3, 1, 1, 77, -0.001, 0.001 } };
  elementwise_family (_i, T_GELU, cases, G_N_ELEMENTS (cases), 1);
}

END_TEST;

/* ---- channel concatenation and padding, resize ---------------------------- */

typedef struct {
  int n, h, w, c, c2; /* concat: ca, cb; pad channels: c, new c;
                       * resize: oh = c2 >> 8, ow = c2 & 0xff */
} ChanCase;

typedef struct {
  const ChanCase *cs;
  TestOp op;
  float *a, *b;
} ChanArgs;

static void
chan_out_shape (const ChanArgs *a, int *h, int *w, int *c)
{
  const ChanCase *cs = a->cs;

  *h = cs->h;
  *w = cs->w;
  *c = a->op == T_CONCAT_CHANNELS ? cs->c + cs->c2 : cs->c2;
  if (a->op == T_RESIZE_BILINEAR) {
    *h = cs->c2 >> 8;
    *w = cs->c2 & 0xff;
    *c = cs->c;
  }
}

static float *
run_chan (AffectBackend *be, gconstpointer data)
{
  const ChanArgs *a = data;
  const ChanCase *cs = a->cs;
  AffectTensor *y = NULL;
  Buf x, b;
  int oh, ow, oc;
  float *v;

  chan_out_shape (a, &oh, &ow, &oc);
  buf_in (&x, be, cs->n, cs->h, cs->w, cs->c, a->a);
  if (a->op == T_CONCAT_CHANNELS) {
    buf_in (&b, be, cs->n, cs->h, cs->w, cs->c2, a->b);
    y = affect_concat_channels (x.t, b.t);
    buf_check (&b, "b");
    buf_clear (&b);
  } else if (a->op == T_PAD_CHANNELS) {
    y = affect_pad_channels (x.t, cs->c2);
  } else {
    y = affect_resize_bilinear (x.t, oh, ow);
  }
  assert_shape (y, cs->n, oh, ow, oc);
  buf_check (&x, "input");
  buf_clear (&x);
  v = download (y);
  affect_tensor_free (y);
  return v;
}

static double *
ref_chan (const ChanArgs *a)
{
  const ChanCase *cs = a->cs;
  int oh, ow, oc;
  double *y;
  gsize pix = count4 (cs->n, cs->h, cs->w, 1);

  chan_out_shape (a, &oh, &ow, &oc);
  y = g_new0 (double, count4 (cs->n, oh, ow, oc));
  if (a->op == T_CONCAT_CHANNELS || a->op == T_PAD_CHANNELS) {
    for (gsize p = 0; p < pix; p++)
      for (int ch = 0; ch < oc; ch++)
        y[p * oc + ch] = ch < cs->c ? a->a[p * cs->c + ch]
                         : a->op == T_CONCAT_CHANNELS
                             ? a->b[p * cs->c2 + ch - cs->c]
                             : 0.0;
    return y;
  }
  /* TF legacy bilinear: src = o · in / out, corners clamped */
  for (int n = 0; n < cs->n; n++)
    for (int oy = 0; oy < oh; oy++)
      for (int ox = 0; ox < ow; ox++)
        for (int ch = 0; ch < oc; ch++) {
          double sy = oy * ((double)cs->h / oh), sx = ox * ((double)cs->w / ow);
          int y0 = (int)floor (sy), x0 = (int)floor (sx);
          int y1 = MIN ((int)ceil (sy), cs->h - 1);
          int x1 = MIN ((int)ceil (sx), cs->w - 1);
          double fy = sy - y0, fx = sx - x0;
#define PX(yy, xx) \
  ((double)a->a[(((gsize)n * cs->h + (yy)) * cs->w + (xx)) * cs->c + ch])
          double top = PX (y0, x0) + (PX (y0, x1) - PX (y0, x0)) * fx;
          double bot = PX (y1, x0) + (PX (y1, x1) - PX (y1, x0)) * fx;
#undef PX
          y[(((gsize)n * oh + oy) * ow + ox) * oc + ch]
              = top + (bot - top) * fy;
        }
  return y;
}

static void
chan_family (int config, TestOp op, const ChanCase *cases, gsize n_cases)
{
  if (!ctx_begin (config, op)) {
    AffectTensor *t = affect_tensor_new_zeros (ctx.be, 1, 2, 2, 3), *y;
    expect_critical_begin ();
    if (op == T_CONCAT_CHANNELS)
      y = affect_concat_channels (t, t);
    else if (op == T_PAD_CHANNELS)
      y = affect_pad_channels (t, 4);
    else
      y = affect_resize_bilinear (t, 3, 3);
    expect_critical_end ("affect_", "an unsupported op");
    ck_assert_ptr_null (y);
    affect_tensor_free (t);
    ctx_end ();
    return;
  }
  for (gsize i = 0; i < n_cases; i++) {
    const ChanCase *cs = &cases[i];
    ChanArgs a = { cs, op, rnd (count4 (cs->n, cs->h, cs->w, cs->c), -3, 3),
      op == T_CONCAT_CHANNELS
          ? rnd (count4 (cs->n, cs->h, cs->w, cs->c2), -3, 3)
          : NULL };
    double *ref = ref_chan (&a);
    int oh, ow, oc;
    gchar *desc;

    chan_out_shape (&a, &oh, &ow, &oc);
    desc = g_strdup_printf ("[%d, %d, %d, %d] -> [%d, %d, %d, %d]", cs->n,
        cs->h, cs->w, cs->c, cs->n, oh, ow, oc);
    verify (desc, run_chan, &a, ref, count4 (cs->n, oh, ow, oc));
    g_free (desc);
    g_free (ref);
    g_free (a.a);
    g_free (a.b);
  }
  ctx_end ();
}

START_TEST (test_concat_channels)
{
  static const ChanCase cases[] = { { 1, 1, 1, 1, 1 }, { 3, 2, 5, 3, 5 },
    { 1, 4, 4, 8, 8 }, { 8, 3, 1, 17, 2 }, { 1, 1, 7, 1, 64 } };
  chan_family (_i, T_CONCAT_CHANNELS, cases, G_N_ELEMENTS (cases));
}

END_TEST;

START_TEST (test_pad_channels)
{
  static const ChanCase cases[] = { { 1, 1, 1, 1, 1 }, { 3, 2, 5, 3, 3 },
    { 1, 4, 4, 3, 4 }, { 8, 3, 1, 5, 16 }, { 1, 1, 7, 1, 9 } };
  chan_family (_i, T_PAD_CHANNELS, cases, G_N_ELEMENTS (cases));
}

END_TEST;

#define RS(oh, ow) (((oh) << 8) | (ow))

START_TEST (test_resize_bilinear)
{
  static const ChanCase cases[] = {
    { 1, 2, 2, 3, RS (3, 3) },
    { 3, 5, 7, 4, RS (10, 3) },
    { 1, 7, 5, 1, RS (7, 5) }, /* same size */
    { 1, 7, 5, 2, RS (1, 1) },
    { 2, 9, 4, 8, RS (4, 9) },
    { 1, 1, 1, 2, RS (3, 4) }, /* one pixel */
    { 8, 3, 3, 17, RS (5, 2) },
    { 1, 12, 16, 3, RS (150, 112) },
  };
  chan_family (_i, T_RESIZE_BILINEAR, cases, G_N_ELEMENTS (cases));
}

END_TEST;

/* ---- matmul ---------------------------------------------------------------- */

typedef struct {
  int n, h, m, k, nn;
  gboolean ta, tb, shared_b;
  float alpha;
  gboolean big;
} MatmulCase;

typedef struct {
  const MatmulCase *cs;
  float *a, *b;
} MatmulArgs;

static float *
run_matmul (AffectBackend *be, gconstpointer data)
{
  const MatmulArgs *a = data;
  const MatmulCase *cs = a->cs;
  const int bn = cs->shared_b ? 1 : cs->n, bh = cs->shared_b ? 1 : cs->h;
  AffectTensor *y;
  Buf ta, tb;
  float *v;

  buf_in (&ta, be, cs->n, cs->h, cs->ta ? cs->k : cs->m, cs->ta ? cs->m : cs->k,
      a->a);
  buf_in (
      &tb, be, bn, bh, cs->tb ? cs->nn : cs->k, cs->tb ? cs->k : cs->nn, a->b);
  y = affect_matmul (ta.t, tb.t, cs->ta, cs->tb, cs->alpha);
  assert_shape (y, cs->n, cs->h, cs->m, cs->nn);
  buf_check (&ta, "a");
  buf_check (&tb, "b");
  buf_clear (&ta);
  buf_clear (&tb);
  v = download (y);
  affect_tensor_free (y);
  return v;
}

static const MatmulCase matmul_cases[] = {
  { 1, 1, 1, 1, 1, FALSE, FALSE, FALSE, 1.0f },
  { 1, 1, 1, 1, 1, TRUE, TRUE, TRUE, -2.0f },
  { 1, 1, 3, 5, 7, FALSE, FALSE, FALSE, 1.0f },
  { 1, 1, 3, 5, 7, TRUE, FALSE, FALSE, 0.5f },
  { 1, 1, 3, 5, 7, FALSE, TRUE, FALSE, 1.0f },
  { 1, 1, 3, 5, 7, TRUE, TRUE, FALSE, -1.5f },
  { 3, 1, 17, 33, 9, FALSE, TRUE, FALSE, 0.125f }, /* attention scores */
  { 3, 4, 7, 16, 16, FALSE, FALSE, FALSE, 1.0f },  /* heads */
  { 8, 2, 5, 11, 13, TRUE, FALSE, FALSE, 1.0f },
  { 3, 2, 6, 10, 4, FALSE, FALSE, TRUE, 1.0f }, /* shared weights */
  { 8, 1, 1, 64, 65, FALSE, TRUE, TRUE, 1.0f }, /* one row each */
  { 1, 1, 65, 1, 33, TRUE, TRUE, FALSE, 1.0f }, /* k = 1 */
  { 1, 1, 33, 64, 1, FALSE, FALSE, FALSE, 1.0f },
  { 1, 1, 129, 131, 130, FALSE, FALSE, FALSE, 1.0f, TRUE }, /* threaded */
  { 1, 1, 128, 130, 129, TRUE, TRUE, FALSE, 1.0f, TRUE },
  { 3, 8, 24, 32, 24, FALSE, TRUE, FALSE, 0.1767767f, TRUE },
};

static double *
ref_matmul (const MatmulArgs *a)
{
  const MatmulCase *cs = a->cs;
  const gsize batch = (gsize)cs->n * cs->h;
  const gsize asz = (gsize)cs->m * cs->k, bsz = (gsize)cs->k * cs->nn;
  double *y = g_new (double, batch * cs->m * cs->nn);

  for (gsize i = 0; i < batch; i++) {
    const float *am = a->a + i * asz;
    const float *bm = a->b + (cs->shared_b ? 0 : i * bsz);
    for (int r = 0; r < cs->m; r++)
      for (int c = 0; c < cs->nn; c++) {
        double s = 0.0;
        for (int k = 0; k < cs->k; k++)
          s += (double)(cs->ta ? am[(gsize)k * cs->m + r]
                               : am[(gsize)r * cs->k + k])
               * (cs->tb ? bm[(gsize)c * cs->k + k]
                         : bm[(gsize)k * cs->nn + c]);
        y[(i * cs->m + r) * cs->nn + c] = cs->alpha * s;
      }
  }
  return y;
}

/* A strided view described on the host: which of the case's tensors it
 * lives in, and AffectMatView's fields. */
typedef struct {
  int tensor;
  gsize offset;
  int rows, cols, ld;
  gsize stride[2];
} HView;

typedef struct {
  gchar *desc;
  HView a, b, y;
  gboolean ta, tb;
  int batch0, batch1;
  float alpha, beta;
  /* derived */
  gsize size[3];   /* elements of each tensor */
  guint8 *role[3]; /* per element: 0 untouched, 1 input, 2 output */
  float *init[3];
  int n_tensors;
} StridedCase;

static gsize
hview_addr (const HView *v, int i, int j, int r, int c)
{
  return v->offset + i * v->stride[0] + j * v->stride[1] + (gsize)r * v->ld + c;
}

static gsize
hview_end (const HView *v, int b0, int b1)
{
  return hview_addr (v, b0 - 1, b1 - 1, v->rows - 1, v->cols - 1) + 1;
}

static void
hview_mark (StridedCase *s, const HView *v, guint8 role)
{
  for (int i = 0; i < s->batch0; i++)
    for (int j = 0; j < s->batch1; j++)
      for (int r = 0; r < v->rows; r++)
        for (int c = 0; c < v->cols; c++) {
          gsize at = hview_addr (v, i, j, r, c);
          ck_assert_msg (
              s->role[v->tensor][at] == 0 || s->role[v->tensor][at] == role,
              "test bug: views of %s overlap", s->desc);
          s->role[v->tensor][at] = role;
        }
}

/* Sizes the tensors (17 guard elements after the last addressed one) and
 * fills them: inputs random, outputs random (NaN when beta = 0: must be
 * ignored), the rest NaN in tensors holding inputs, OUT_GUARD in the
 * output-only one. */
static void
strided_prepare (StridedCase *s)
{
  const HView *views[3] = { &s->a, &s->b, &s->y };

  s->n_tensors = 1 + MAX (s->a.tensor, MAX (s->b.tensor, s->y.tensor));
  for (int v = 0; v < 3; v++) {
    gsize end = hview_end (views[v], s->batch0, s->batch1) + 17;
    s->size[views[v]->tensor] = MAX (s->size[views[v]->tensor], end);
  }
  for (int t = 0; t < s->n_tensors; t++)
    s->role[t] = g_new0 (guint8, s->size[t]);
  hview_mark (s, &s->a, 1);
  hview_mark (s, &s->b, 1);
  hview_mark (s, &s->y, 2);
  for (int t = 0; t < s->n_tensors; t++) {
    gboolean has_input = t == s->a.tensor || t == s->b.tensor;
    s->init[t] = g_new (float, s->size[t]);
    for (gsize e = 0; e < s->size[t]; e++) {
      switch (s->role[t][e]) {
        case 0:
          s->init[t][e] = has_input ? nan_guard () : OUT_GUARD;
          break;
        case 1:
          s->init[t][e] = (float)g_rand_double_range (ctx.rng, -1, 1);
          break;
        default:
          s->init[t][e] = s->beta == 0.0f
                              ? nan_guard ()
                              : (float)g_rand_double_range (ctx.rng, -1, 1);
      }
    }
  }
}

static void
strided_clear (StridedCase *s)
{
  for (int t = 0; t < s->n_tensors; t++) {
    g_free (s->role[t]);
    g_free (s->init[t]);
  }
  g_free (s->desc);
}

static gsize
strided_n_out (const StridedCase *s)
{
  return (gsize)s->batch0 * s->batch1 * s->y.rows * s->y.cols;
}

static double *
ref_strided (const StridedCase *s)
{
  const int m = s->y.rows, n = s->y.cols, k = s->ta ? s->a.rows : s->a.cols;
  double *ref = g_new (double, strided_n_out (s)), *out = ref;
  const float *ta = s->init[s->a.tensor], *tb = s->init[s->b.tensor];
  const float *ty = s->init[s->y.tensor];

  for (int i = 0; i < s->batch0; i++)
    for (int j = 0; j < s->batch1; j++)
      for (int r = 0; r < m; r++)
        for (int c = 0; c < n; c++) {
          double acc = 0.0;
          for (int l = 0; l < k; l++)
            acc += (double)ta[s->ta ? hview_addr (&s->a, i, j, l, r)
                                    : hview_addr (&s->a, i, j, r, l)]
                   * tb[s->tb ? hview_addr (&s->b, i, j, c, l)
                              : hview_addr (&s->b, i, j, l, c)];
          acc *= s->alpha;
          if (s->beta != 0.0f)
            acc += (double)s->beta * ty[hview_addr (&s->y, i, j, r, c)];
          *out++ = acc;
        }
  return ref;
}

static AffectMatView
mat_view (AffectTensor **t, const HView *v)
{
  AffectMatView m = { t[v->tensor], v->offset, v->rows, v->cols, v->ld,
    { v->stride[0], v->stride[1] } };
  return m;
}

static float *
run_strided (AffectBackend *be, gconstpointer data)
{
  const StridedCase *s = data;
  AffectTensor *t[3] = { NULL };
  AffectMatView va, vb, vy;
  float *out = g_new (float, strided_n_out (s)), *o = out;
  float *now[3];

  for (int i = 0; i < s->n_tensors; i++) {
    t[i] = affect_tensor_new_from_data (
        be, 1, 1, 1, (int)s->size[i], s->init[i]);
    ck_assert_ptr_nonnull (t[i]);
  }
  va = mat_view (t, &s->a);
  vb = mat_view (t, &s->b);
  vy = mat_view (t, &s->y);
  ck_assert (affect_matmul_strided (
      &va, s->ta, &vb, s->tb, &vy, s->batch0, s->batch1, s->alpha, s->beta));
  for (int i = 0; i < s->n_tensors; i++) {
    now[i] = download (t[i]);
    affect_tensor_free (t[i]);
    for (gsize e = 0; e < s->size[i]; e++)
      ck_assert_msg (
          s->role[i][e] == 2 || memcmp (&now[i][e], &s->init[i][e], 4) == 0,
          "[%s, %d threads] matmul, %s: %s element %" G_GSIZE_FORMAT
          " of tensor %d changed from %.9g to %.9g",
          ctx.cfg->backend, ctx.cfg->n_threads, s->desc,
          s->role[i][e] ? "input" : "unaddressed", e, i, s->init[i][e],
          now[i][e]);
  }
  for (int i = 0; i < s->batch0; i++)
    for (int j = 0; j < s->batch1; j++)
      for (int r = 0; r < s->y.rows; r++)
        for (int c = 0; c < s->y.cols; c++)
          *o++ = now[s->y.tensor][hview_addr (&s->y, i, j, r, c)];
  for (int i = 0; i < s->n_tensors; i++)
    g_free (now[i]);
  return out;
}

static HView
hview (int tensor, gsize offset, int rows, int cols, int ld, gsize s0, gsize s1)
{
  HView v = { tensor, offset, rows, cols, ld, { s0, s1 } };
  return v;
}

/* Separate tensors, rows padded to ld = cols + pad, batch items gap apart
 * (stride 0 for a broadcast operand). */
static StridedCase
strided_plain (int m, int n, int k, gboolean ta, gboolean tb, int b0, int b1,
    int pad, gboolean bcast_a, gboolean bcast_b, float alpha, float beta)
{
  StridedCase s = { 0 };
  const int ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
  const gsize asz = (gsize)ar * (ac + pad) + 3,
              bsz = (gsize)br * (bc + pad) + 5, ysz = (gsize)m * (n + pad) + 2;

  s.a = hview (
      0, 3, ar, ac, ac + pad, bcast_a ? 0 : asz * b1, bcast_a ? 0 : asz);
  s.b = hview (
      1, 7, br, bc, bc + pad, bcast_b ? 0 : bsz * b1, bcast_b ? 0 : bsz);
  s.y = hview (2, 11, m, n, n + pad, ysz * b1, ysz);
  s.ta = ta;
  s.tb = tb;
  s.batch0 = b0;
  s.batch1 = b1;
  s.alpha = alpha;
  s.beta = beta;
  s.desc = g_strdup_printf ("%dx%dx%d%s%s, batch %dx%d, ld +%d%s%s, "
                            "alpha %g, beta %g",
      m, n, k, ta ? " a'" : "", tb ? " b'" : "", b0, b1, pad,
      bcast_a ? ", a broadcast" : "", bcast_b ? ", b broadcast" : "", alpha,
      beta);
  return s;
}

/* Attention over a packed [B, S, 3·heads·d] Q|K|V tensor: scores(b, h) =
 * alpha Q_h K_hᵀ into [B, heads, S, S]. */
static StridedCase
strided_scores (int batch, int seq, int heads, int d)
{
  StridedCase s = { 0 };
  const int row = 3 * heads * d;

  s.a = hview (0, 0, seq, d, row, (gsize)seq * row, d);
  s.b = hview (0, (gsize)heads * d, seq, d, row, (gsize)seq * row, d);
  s.y = hview (1, 0, seq, seq, seq, (gsize)heads * seq * seq, (gsize)seq * seq);
  s.tb = TRUE;
  s.batch0 = batch;
  s.batch1 = heads;
  s.alpha = (float)(1.0 / sqrt (d));
  s.desc
      = g_strdup_printf ("scores Q K' from packed QKV, B %d S %d heads %d d %d",
          batch, seq, heads, d);
  return s;
}

/* context(b, h) = P(b, h) V_h written into the head's column block of a
 * [B, S, heads·d + 3] tensor (rows ld apart, heads d apart). */
static StridedCase
strided_context (int batch, int seq, int heads, int d, float beta)
{
  StridedCase s = { 0 };
  const int row = 3 * heads * d, out_ld = heads * d + 3;

  s.a = hview (0, 5, seq, seq, seq, (gsize)heads * seq * seq, (gsize)seq * seq);
  s.b = hview (1, (gsize)2 * heads * d, seq, d, row, (gsize)seq * row, d);
  s.y = hview (2, 1, seq, d, out_ld, (gsize)seq * out_ld, d);
  s.batch0 = batch;
  s.batch1 = heads;
  s.alpha = 1.0f;
  s.beta = beta;
  s.desc = g_strdup_printf ("context P V into column blocks, B %d S %d heads "
                            "%d d %d, beta %g",
      batch, seq, heads, d, beta);
  return s;
}

/* A decoder step: q [B, heads, 1, d] against the first L rows of a key
 * cache [B, heads, cap, d]. */
static StridedCase
strided_kv_cache (int batch, int heads, int d, int len, int cap)
{
  StridedCase s = { 0 };

  s.a = hview (0, 0, 1, d, d, (gsize)heads * d, d);
  s.b = hview (1, 0, len, d, d, (gsize)heads * cap * d, (gsize)cap * d);
  s.y = hview (2, 0, 1, len, len, (gsize)heads * len, len);
  s.tb = TRUE;
  s.batch0 = batch;
  s.batch1 = heads;
  s.alpha = 0.25f;
  s.desc = g_strdup_printf ("decoder step q K' over %d of %d cached rows, B "
                            "%d heads %d d %d",
      len, cap, batch, heads, d);
  return s;
}

/* The output in the same tensor as a, after it. */
static StridedCase
strided_shared_tensor (void)
{
  StridedCase s = strided_plain (
      5, 6, 7, FALSE, FALSE, 2, 1, 1, FALSE, FALSE, 1.0f, 0.0f);
  s.y.tensor = 0;
  s.y.offset = hview_end (&s.a, s.batch0, s.batch1) + 4;
  g_free (s.desc);
  s.desc = g_strdup ("5x6x7, y in a's tensor after a");
  return s;
}

START_TEST (test_matmul)
{
  GPtrArray *strided;

  if (!ctx_begin (_i, T_MATMUL)) {
    AffectTensor *t = affect_tensor_new_zeros (ctx.be, 1, 1, 2, 2);
    EXPECT_CRITICAL ("affect_matmul",
        ck_assert_ptr_null (affect_matmul (t, t, FALSE, FALSE, 1.0f)));
    affect_tensor_free (t);
    ctx_end ();
    return;
  }

  /* affect_matmul() */
  for (gsize i = 0; i < G_N_ELEMENTS (matmul_cases); i++) {
    const MatmulCase *cs = &matmul_cases[i];
    MatmulArgs a;
    double *ref;
    gchar *desc;

    if (cs->big && under_valgrind ())
      continue;
    a.cs = cs;
    a.a = rnd ((gsize)cs->n * cs->h * cs->m * cs->k, -1, 1);
    a.b = rnd (
        (gsize)(cs->shared_b ? 1 : cs->n * cs->h) * cs->k * cs->nn, -1, 1);
    ref = ref_matmul (&a);
    desc = g_strdup_printf ("affect_matmul [%d, %d] %dx%dx%d%s%s%s, alpha %g",
        cs->n, cs->h, cs->m, cs->nn, cs->k, cs->ta ? " a'" : "",
        cs->tb ? " b'" : "", cs->shared_b ? ", b shared" : "", cs->alpha);
    verify (desc, run_matmul, &a, ref, (gsize)cs->n * cs->h * cs->m * cs->nn);
    g_free (desc);
    g_free (ref);
    g_free (a.a);
    g_free (a.b);
  }

  /* affect_matmul_strided() */
  strided = g_ptr_array_new ();
#define ADD(expr)                             \
  G_STMT_START                                \
  {                                           \
    StridedCase *s_ = g_new (StridedCase, 1); \
    *s_ = (expr);                             \
    g_ptr_array_add (strided, s_);            \
  }                                           \
  G_STMT_END
  for (int t = 0; t < 4; t++) {
    ADD (strided_plain (1, 1, 1, (t & 1) != 0, (t & 2) != 0, 1, 1, 0, FALSE,
        FALSE, 1.0f, 0.0f));
    ADD (strided_plain (7, 5, 9, (t & 1) != 0, (t & 2) != 0, 1, 1, 3, FALSE,
        FALSE, 1.0f, 0.0f));
    ADD (strided_plain (4, 6, 3, (t & 1) != 0, (t & 2) != 0, 3, 2, 1, FALSE,
        FALSE, -0.5f, 1.0f));
    ADD (strided_plain (9, 3, 17, (t & 1) != 0, (t & 2) != 0, 2, 3, 2, FALSE,
        TRUE, 1.0f, 0.5f));
  }
  ADD (strided_plain (5, 4, 6, FALSE, TRUE, 3, 2, 1, TRUE, FALSE, 2.0f, 0.0f));
  ADD (strided_plain (
      1, 33, 64, FALSE, FALSE, 8, 1, 5, FALSE, TRUE, 1.0f, 0.0f));
  ADD (strided_plain (
      33, 1, 65, TRUE, FALSE, 1, 8, 0, FALSE, FALSE, 1.0f, -1.0f));
  ADD (strided_scores (1, 1, 1, 1));
  ADD (strided_scores (3, 7, 4, 8));
  ADD (strided_scores (8, 5, 2, 16));
  ADD (strided_context (3, 7, 4, 8, 0.0f));
  ADD (strided_context (1, 9, 2, 5, 1.0f));
  ADD (strided_kv_cache (1, 1, 4, 1, 1));
  ADD (strided_kv_cache (3, 4, 8, 5, 9));
  ADD (strided_shared_tensor ());
  if (!under_valgrind ()) {
    ADD (strided_plain (
        67, 65, 129, FALSE, TRUE, 1, 1, 7, FALSE, FALSE, 1.0f, 0.0f));
    ADD (strided_plain (
        130, 129, 128, TRUE, FALSE, 1, 1, 1, FALSE, FALSE, 0.5f, 1.0f));
    ADD (strided_scores (3, 33, 6, 32));
  }
#undef ADD
  for (guint i = 0; i < strided->len; i++) {
    StridedCase *s = strided->pdata[i];
    double *ref;

    strided_prepare (s);
    ref = ref_strided (s);
    verify (s->desc, run_strided, s, ref, strided_n_out (s));
    g_free (ref);
    strided_clear (s);
    g_free (s);
  }
  g_ptr_array_free (strided, TRUE);
  ctx_end ();
}

END_TEST;

/* ---- layer norm -------------------------------------------------------------- */

typedef struct {
  int n, h, w, c;
  gboolean gamma, beta;
  double eps;
  float offset; /* added to every input: statistics must not lose it */
  gboolean constant_rows;
} NormCase;

typedef struct {
  const NormCase *cs;
  float *x, *gamma, *beta;
} NormArgs;

static float *
run_layer_norm (AffectBackend *be, gconstpointer data)
{
  const NormArgs *a = data;
  const NormCase *cs = a->cs;
  Buf x, g, b;

  buf_init (&x, be, cs->n, cs->h, cs->w, cs->c, a->x, FALSE);
  if (cs->gamma)
    buf_in (&g, be, 1, 1, 1, cs->c, a->gamma);
  if (cs->beta)
    buf_in (&b, be, 1, 1, 1, cs->c, a->beta);
  affect_layer_norm_inplace (
      x.t, cs->gamma ? g.t : NULL, cs->beta ? b.t : NULL, cs->eps);
  if (cs->gamma) {
    buf_check (&g, "gamma");
    buf_clear (&g);
  }
  if (cs->beta) {
    buf_check (&b, "beta");
    buf_clear (&b);
  }
  return buf_finish (&x, "in place");
}

START_TEST (test_layer_norm)
{
  static const NormCase cases[] = {
    { 1, 1, 1, 1, FALSE, FALSE, 1e-5 }, /* one element: 0 (+ beta) */
    { 1, 1, 1, 1, TRUE, TRUE, 1e-5 }, { 1, 1, 3, 7, TRUE, TRUE, 1e-5 },
    { 3, 1, 5, 64, TRUE, FALSE, 1e-12 }, { 8, 1, 2, 33, FALSE, TRUE, 1e-5 },
    { 2, 3, 4, 385, TRUE, TRUE, 1e-6 },
    { 3, 1, 7, 16, TRUE, TRUE, 1e-5, 1000.0f },   /* large mean */
    { 1, 1, 4, 9, TRUE, TRUE, 1e-5, 0.0f, TRUE }, /* zero variance */
    { 1, 1, 200, 96, TRUE, TRUE, 1e-5 },          /* several threads */
  };

  if (!ctx_begin (_i, T_LAYER_NORM)) {
    AffectTensor *t = affect_tensor_new_zeros (ctx.be, 1, 1, 2, 3);
    EXPECT_CRITICAL ("affect_layer_norm_inplace",
        affect_layer_norm_inplace (t, NULL, NULL, 1e-5));
    affect_tensor_free (t);
    ctx_end ();
    return;
  }
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    const NormCase *cs = &cases[i];
    const gsize rows = count4 (cs->n, cs->h, cs->w, 1), n = rows * cs->c;
    NormArgs a
        = { cs, rnd (n, -2, 2), rnd (cs->c, 0.5, 1.5), rnd (cs->c, -1, 1) };
    double *ref = g_new (double, n);
    gchar *desc;

    for (gsize r = 0; r < rows; r++)
      for (int j = 0; j < cs->c; j++) {
        if (cs->constant_rows)
          a.x[r * cs->c + j] = a.x[r * cs->c];
        a.x[r * cs->c + j] += cs->offset;
      }
    for (gsize r = 0; r < rows; r++) {
      const float *xr = a.x + r * cs->c;
      double mean = 0.0, var = 0.0;
      for (int j = 0; j < cs->c; j++)
        mean += xr[j];
      mean /= cs->c;
      for (int j = 0; j < cs->c; j++)
        var += (xr[j] - mean) * (xr[j] - mean);
      var /= cs->c;
      for (int j = 0; j < cs->c; j++)
        ref[r * cs->c + j] = (xr[j] - mean) / sqrt (var + cs->eps)
                                 * (cs->gamma ? a.gamma[j] : 1.0)
                             + (cs->beta ? a.beta[j] : 0.0);
    }
    desc = g_strdup_printf ("[%d, %d, %d, %d]%s%s, eps %g%s%s", cs->n, cs->h,
        cs->w, cs->c, cs->gamma ? ", gamma" : "", cs->beta ? ", beta" : "",
        cs->eps, cs->offset != 0.0f ? ", mean 1000" : "",
        cs->constant_rows ? ", constant rows" : "");
    verify (desc, run_layer_norm, &a, ref, n);
    g_free (desc);
    g_free (ref);
    g_free (a.x);
    g_free (a.gamma);
    g_free (a.beta);
  }
  ctx_end ();
}

END_TEST;

/* ---- masked softmax ---------------------------------------------------------- */

typedef enum {
  MASK_NONE,
  MASK_PAD_INF,     /* image m keeps its first c - m columns, -inf after */
  MASK_PAD_FLT_MAX, /* the same with -FLT_MAX */
  MASK_LEFT_INF,    /* image m masks its first m % 3 columns with -inf */
  MASK_RANDOM       /* additive values in [-3, 1], a few -inf */
} MaskKind;

static const gchar *mask_names[] = { "no mask", "padding -inf",
  "padding -FLT_MAX", "left padding -inf", "additive" };

typedef struct {
  int n, h, w, c;
  float scale;
  MaskKind mask;
  gboolean shared; /* one mask row for every image */
  int causal;
  double lo, hi;
} MaskedCase;

typedef struct {
  const MaskedCase *cs;
  float *x, *mask;
} MaskedArgs;

static float *
run_softmax_masked (AffectBackend *be, gconstpointer data)
{
  const MaskedArgs *a = data;
  const MaskedCase *cs = a->cs;
  Buf x, m;

  buf_init (&x, be, cs->n, cs->h, cs->w, cs->c, a->x, FALSE);
  if (a->mask)
    buf_in (&m, be, cs->shared ? 1 : cs->n, 1, 1, cs->c, a->mask);
  affect_softmax_masked_inplace (
      x.t, cs->scale, a->mask ? m.t : NULL, cs->causal);
  if (a->mask) {
    buf_check (&m, "mask");
    buf_clear (&m);
  }
  return buf_finish (&x, "in place");
}

static float *
make_mask (const MaskedCase *cs)
{
  const int rows = cs->shared ? 1 : cs->n;
  float *m;

  if (cs->mask == MASK_NONE)
    return NULL;
  m = g_new (float, (gsize)rows * cs->c);
  for (int r = 0; r < rows; r++)
    for (int j = 0; j < cs->c; j++) {
      float *v = &m[(gsize)r * cs->c + j];
      switch (cs->mask) {
        case MASK_PAD_INF:
          *v = j < cs->c - r ? 0.0f : -INFINITY;
          break;
        case MASK_PAD_FLT_MAX:
          *v = j < cs->c - r ? 0.0f : -FLT_MAX;
          break;
        case MASK_LEFT_INF:
          *v = j < r % 3 ? -INFINITY : 0.0f;
          break;
        default:
          *v = g_rand_int_range (ctx.rng, 0, 7) == 0
                   ? -INFINITY
                   : (float)g_rand_double_range (ctx.rng, -3, 1);
      }
    }
  return m;
}

static double *
ref_softmax_masked (const MaskedArgs *a)
{
  const MaskedCase *cs = a->cs;
  const gsize rows = count4 (cs->n, cs->h, cs->w, 1);
  double *ref = g_new (double, rows * cs->c), *s = g_new (double, cs->c);

  for (gsize r = 0; r < rows; r++) {
    const int image = (int)(r / ((gsize)cs->h * cs->w));
    const int row = (int)(r % cs->w);
    const float *m
        = a->mask ? a->mask + (gsize)(cs->shared ? 0 : image) * cs->c : NULL;
    double mx = -INFINITY, sum = 0.0;

    for (int j = 0; j < cs->c; j++) {
      s[j] = (double)cs->scale * a->x[r * cs->c + j] + (m ? m[j] : 0.0);
      if (cs->causal >= 0 && j > row + cs->causal)
        s[j] = -INFINITY;
      mx = MAX (mx, s[j]);
    }
    for (int j = 0; j < cs->c; j++)
      sum += mx == -INFINITY ? 0.0 : exp (s[j] - mx);
    for (int j = 0; j < cs->c; j++)
      ref[r * cs->c + j] = mx == -INFINITY ? 0.0 : exp (s[j] - mx) / sum;
  }
  g_free (s);
  return ref;
}

START_TEST (test_softmax_masked)
{
  static const MaskedCase cases[] = {
    { 1, 1, 1, 1, 1.0f, MASK_NONE, FALSE, -1, -1, 1 },
    { 1, 1, 1, 1, 1.0f, MASK_PAD_INF, FALSE, -1, -1, 1 },
    { 3, 1, 4, 7, 0.125f, MASK_NONE, FALSE, -1, -20, 20 },
    { 8, 2, 3, 5, 1.0f, MASK_PAD_INF, FALSE, -1, -5, 5 }, /* rows all -inf */
    { 8, 1, 2, 5, 0.5f, MASK_PAD_FLT_MAX, FALSE, -1, -5, 5 },
    { 3, 4, 5, 9, 0.35f, MASK_RANDOM, FALSE, -1, -5, 5 },
    { 3, 2, 6, 6, 1.0f, MASK_NONE, FALSE, 0, -5, 5 },     /* causal */
    { 2, 3, 3, 7, 1.0f, MASK_NONE, FALSE, 4, -5, 5 },     /* cache of 4 + 3 */
    { 2, 1, 1, 9, 1.0f, MASK_NONE, FALSE, 8, -5, 5 },     /* decoder step */
    { 1, 1, 3, 4, 1.0f, MASK_NONE, FALSE, 10, -5, 5 },    /* offset > c */
    { 3, 2, 5, 5, 1.0f, MASK_LEFT_INF, FALSE, 0, -5, 5 }, /* row 0 empty */
    { 4, 1, 3, 6, 0.7f, MASK_PAD_INF, TRUE, 1, -5, 5 },   /* shared mask */
    { 3, 2, 4, 8, 2.0f, MASK_RANDOM, TRUE, -1, -5, 5 },
    { 1, 1, 2, 1000, 0.1f, MASK_RANDOM, FALSE, 500, -50, 50 },
    { 2, 12, 64, 64, 0.125f, MASK_PAD_INF, FALSE, 0, -8, 8 }, /* threads */
  };

  if (!ctx_begin (_i, T_SOFTMAX_MASKED)) {
    AffectTensor *t = affect_tensor_new_zeros (ctx.be, 1, 1, 2, 3);
    EXPECT_CRITICAL ("affect_softmax_masked_inplace",
        affect_softmax_masked_inplace (t, 1.0f, NULL, -1));
    affect_tensor_free (t);
    ctx_end ();
    return;
  }
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    const MaskedCase *cs = &cases[i];
    const gsize n = count4 (cs->n, cs->h, cs->w, cs->c);
    MaskedArgs a = { cs, rnd (n, cs->lo, cs->hi), make_mask (cs) };
    double *ref = ref_softmax_masked (&a);
    gchar *desc = g_strdup_printf ("[%d, %d, %d, %d] scale %g, %s%s, causal "
                                   "%d",
        cs->n, cs->h, cs->w, cs->c, cs->scale, mask_names[cs->mask],
        cs->shared ? " (shared)" : "", cs->causal);

    verify (desc, run_softmax_masked, &a, ref, n);
    g_free (desc);
    g_free (ref);
    g_free (a.x);
    g_free (a.mask);
  }
  ctx_end ();
}

END_TEST;

/* ---- gather rows --------------------------------------------------------------- */

typedef struct {
  int vocab, c;
  gboolean rows_in_n; /* table [V, 1, 1, C] instead of [1, 1, V, C] */
  gsize n_ids;
} GatherCase;

typedef struct {
  const GatherCase *cs;
  float *table;
  gint32 *ids;
} GatherArgs;

static float *
run_gather (AffectBackend *be, gconstpointer data)
{
  const GatherArgs *a = data;
  const GatherCase *cs = a->cs;
  AffectTensor *y;
  Buf t;
  float *v;

  if (cs->rows_in_n)
    buf_in (&t, be, cs->vocab, 1, 1, cs->c, a->table);
  else
    buf_in (&t, be, 1, 1, cs->vocab, cs->c, a->table);
  y = affect_gather_rows (t.t, a->ids, cs->n_ids);
  assert_shape (y, 1, 1, (int)cs->n_ids, cs->c);
  buf_check (&t, "table");
  buf_clear (&t);
  v = download (y);
  affect_tensor_free (y);
  return v;
}

START_TEST (test_gather_rows)
{
  static const GatherCase cases[] = {
    { 1, 1, FALSE, 1 },
    { 7, 5, FALSE, 9 },
    { 7, 5, TRUE, 3 },
    { 100, 33, FALSE, 50 },
    { 1000, 64, TRUE, 17 },
    { 3, 384, FALSE, 8 },
  };

  if (!ctx_begin (_i, T_GATHER_ROWS)) {
    AffectTensor *t = affect_tensor_new_zeros (ctx.be, 1, 1, 2, 3);
    gint32 id = 0;
    EXPECT_CRITICAL ("affect_gather_rows",
        ck_assert_ptr_null (affect_gather_rows (t, &id, 1)));
    affect_tensor_free (t);
    ctx_end ();
    return;
  }
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    const GatherCase *cs = &cases[i];
    GatherArgs a = { cs, rnd ((gsize)cs->vocab * cs->c, -1, 1),
      g_new (gint32, cs->n_ids) };
    double *ref = g_new (double, cs->n_ids * cs->c);
    gchar *desc;

    for (gsize j = 0; j < cs->n_ids; j++) {
      /* the first and last rows, repeats, the rest random */
      a.ids[j] = j == 0   ? cs->vocab - 1
                 : j == 1 ? 0
                 : j == 2 && cs->n_ids > 3
                     ? a.ids[0]
                     : g_rand_int_range (ctx.rng, 0, cs->vocab);
      for (int k = 0; k < cs->c; k++)
        ref[j * cs->c + k] = a.table[(gsize)a.ids[j] * cs->c + k];
    }
    desc = g_strdup_printf (
        "%" G_GSIZE_FORMAT " ids from [%d, %d]", cs->n_ids, cs->vocab, cs->c);
    verify (desc, run_gather, &a, ref, cs->n_ids * cs->c);
    g_free (desc);
    g_free (ref);
    g_free (a.table);
    g_free (a.ids);
  }
  ctx_end ();
}

END_TEST;

/* ---- broadcast arithmetic, scale ---------------------------------------------- */

typedef struct {
  int n, h, w, c;     /* a */
  int bn, bh, bw, bc; /* b, repeated over a */
} BinaryCase;

typedef struct {
  const BinaryCase *cs;
  AffectBinaryOp op;
  float *a, *b;
  float alpha, beta; /* scale */
} BinaryArgs;

static float *
run_binary (AffectBackend *be, gconstpointer data)
{
  const BinaryArgs *a = data;
  const BinaryCase *cs = a->cs;
  Buf x, b;

  buf_init (&x, be, cs->n, cs->h, cs->w, cs->c, a->a, FALSE);
  if (a->b != NULL) {
    buf_in (&b, be, cs->bn, cs->bh, cs->bw, cs->bc, a->b);
    affect_binary_inplace (x.t, b.t, a->op);
    buf_check (&b, "b");
    buf_clear (&b);
  } else {
    affect_scale_inplace (x.t, a->alpha, a->beta);
  }
  return buf_finish (&x, "in place");
}

static const BinaryCase binary_cases[] = {
  { 1, 1, 1, 1, 1, 1, 1, 1 },
  { 3, 1, 5, 7, 1, 1, 1, 7 },       /* a row added to every row */
  { 3, 1, 5, 7, 1, 1, 5, 7 },       /* a sequence to every sequence */
  { 8, 2, 3, 5, 8, 2, 3, 5 },       /* elementwise */
  { 2, 3, 4, 6, 1, 1, 1, 1 },       /* a scalar */
  { 4, 1, 1, 6, 1, 1, 2, 6 },       /* any divisor */
  { 1, 1, 300, 129, 1, 1, 1, 129 }, /* large */
  { 3, 1, 17, 384, 1, 1, 17, 384 }, /* position embeddings */
};

START_TEST (test_binary)
{
  static const gchar *ops[] = { "add", "sub", "mul" };

  if (!ctx_begin (_i, T_BINARY)) {
    AffectTensor *t = affect_tensor_new_zeros (ctx.be, 1, 1, 2, 3);
    EXPECT_CRITICAL ("affect_binary_inplace",
        affect_binary_inplace (t, t, AFFECT_BINARY_ADD));
    affect_tensor_free (t);
    ctx_end ();
    return;
  }
  for (gsize i = 0; i < G_N_ELEMENTS (binary_cases); i++) {
    const BinaryCase *cs = &binary_cases[i];
    const gsize n = count4 (cs->n, cs->h, cs->w, cs->c);
    const gsize nb = count4 (cs->bn, cs->bh, cs->bw, cs->bc);

    for (int op = AFFECT_BINARY_ADD; op <= AFFECT_BINARY_MUL; op++) {
      BinaryArgs a
          = { cs, (AffectBinaryOp)op, rnd (n, -3, 3), rnd (nb, -3, 3) };
      double *ref = g_new (double, n);
      gchar *desc;

      for (gsize j = 0; j < n; j++) {
        const double x = a.a[j], y = a.b[j % nb];
        ref[j] = op == AFFECT_BINARY_ADD   ? x + y
                 : op == AFFECT_BINARY_SUB ? x - y
                                           : x * y;
      }
      desc = g_strdup_printf ("%s [%d, %d, %d, %d] with [%d, %d, %d, %d]",
          ops[op], cs->n, cs->h, cs->w, cs->c, cs->bn, cs->bh, cs->bw, cs->bc);
      verify (desc, run_binary, &a, ref, n);
      g_free (desc);
      g_free (ref);
      g_free (a.a);
      g_free (a.b);
    }
  }
  ctx_end ();
}

END_TEST;

START_TEST (test_scale)
{
  static const float params[][2] = { { 1.0f, 0.0f }, { 0.5f, -3.0f },
    { -2.0f, 0.25f }, { 0.0f, 7.0f }, { 1e-3f, 1e3f }, { 0.125f, 0.0f } };

  if (!ctx_begin (_i, T_SCALE)) {
    AffectTensor *t = affect_tensor_new_zeros (ctx.be, 1, 1, 2, 3);
    EXPECT_CRITICAL (
        "affect_scale_inplace", affect_scale_inplace (t, 2.0f, 1.0f));
    affect_tensor_free (t);
    ctx_end ();
    return;
  }
  for (gsize i = 0; i < G_N_ELEMENTS (binary_cases); i++) {
    const BinaryCase *cs = &binary_cases[i];
    const gsize n = count4 (cs->n, cs->h, cs->w, cs->c);

    for (gsize p = 0; p < G_N_ELEMENTS (params); p++) {
      BinaryArgs a
          = { cs, 0, rnd (n, -3, 3), NULL, params[p][0], params[p][1] };
      double *ref = g_new (double, n);
      gchar *desc;

      for (gsize j = 0; j < n; j++)
        ref[j] = (double)a.alpha * a.a[j] + a.beta;
      desc = g_strdup_printf ("[%d, %d, %d, %d] * %g + %g", cs->n, cs->h, cs->w,
          cs->c, a.alpha, a.beta);
      verify (desc, run_binary, &a, ref, n);
      g_free (desc);
      g_free (ref);
      g_free (a.a);
    }
  }
  ctx_end ();
}

END_TEST;

/* ---- row copies: KV cache, tensor copy, views ------------------------------ */

typedef struct {
  int n, h, cap, c;
  int n_appends;
  int at[5][2]; /* (row, number of rows) */
} AppendCase;

typedef struct {
  const AppendCase *cs;
  float *cache;
  float *x[5];
} AppendArgs;

static float *
run_append (AffectBackend *be, gconstpointer data)
{
  const AppendArgs *a = data;
  const AppendCase *cs = a->cs;
  Buf cache;

  buf_init (&cache, be, cs->n, cs->h, cs->cap, cs->c, a->cache, FALSE);
  for (int i = 0; i < cs->n_appends; i++) {
    Buf x;
    buf_in (&x, be, cs->n, cs->h, cs->at[i][1], cs->c, a->x[i]);
    ck_assert (affect_append_rows (cache.t, x.t, cs->at[i][0]));
    buf_check (&x, "appended rows");
    buf_clear (&x);
  }
  return buf_finish (&cache, "cache");
}

typedef struct {
  int n, h, w, c;     /* source */
  int dn, dh, dw, dc; /* destination, same element count */
  gboolean reshape;   /* copy from a reshaped view of the source */
} CopyCase;

typedef struct {
  const CopyCase *cs;
  float *src;
} CopyArgs;

static float *
run_copy (AffectBackend *be, gconstpointer data)
{
  const CopyArgs *a = data;
  const CopyCase *cs = a->cs;
  AffectTensor *r = NULL;
  Buf src, dst;

  buf_in (&src, be, cs->n, cs->h, cs->w, cs->c, a->src);
  buf_init (&dst, be, cs->dn, cs->dh, cs->dw, cs->dc, NULL, FALSE);
  if (cs->reshape) {
    r = affect_tensor_reshape (src.t, cs->dn, cs->dh, cs->dw, cs->dc);
    assert_shape (r, cs->dn, cs->dh, cs->dw, cs->dc);
    ck_assert_ptr_eq (r->data, src.t->data);
  }
  affect_tensor_copy (dst.t, r ? r : src.t);
  affect_tensor_free (r);
  buf_check (&src, "source");
  buf_clear (&src);
  return buf_finish (&dst, "destination");
}

START_TEST (test_copy_rows)
{
  static const AppendCase appends[] = {
    { 1, 1, 1, 1, 1, { { 0, 1 } } },
    { 1, 1, 8, 5, 3, { { 0, 3 }, { 3, 1 }, { 4, 4 } } }, /* to capacity */
    { 3, 2, 9, 4, 4, { { 0, 1 }, { 1, 1 }, { 2, 1 }, { 3, 2 } } },
    { 8, 1, 16, 33, 2, { { 0, 5 }, { 5, 7 } } },
    { 2, 4, 30, 64, 4, { { 0, 7 }, { 7, 1 }, { 8, 1 }, { 9, 1 } } },
    { 3, 1, 6, 7, 2, { { 2, 3 }, { 0, 4 } } }, /* overwrite, out of order */
  };
  static const CopyCase copies[] = {
    { 1, 1, 1, 1, 1, 1, 1, 1 },
    { 3, 2, 5, 7, 3, 2, 5, 7 },
    { 3, 2, 5, 7, 1, 1, 30, 7, TRUE },
    { 8, 1, 3, 16, 1, 4, 6, 16 },
    { 2, 3, 4, 5, 1, 1, 1, 120, TRUE },
  };

  if (!ctx_begin (_i, T_COPY_ROWS)) {
    AffectTensor *t = affect_tensor_new_zeros (ctx.be, 1, 1, 2, 3);
    expect_critical_begin ();
    ck_assert (!affect_append_rows (t, t, 0));
    expect_critical_end ("affect_append_rows", "an unsupported op");
    affect_tensor_free (t);
    ctx_end ();
    return;
  }
  for (gsize i = 0; i < G_N_ELEMENTS (appends); i++) {
    const AppendCase *cs = &appends[i];
    const gsize per = (gsize)cs->cap * cs->c;
    const gsize n = count4 (cs->n, cs->h, cs->cap, cs->c);
    AppendArgs a = { cs, rnd (n, -1, 1) };
    double *ref = g_new (double, n);
    gchar *desc;

    for (gsize j = 0; j < n; j++)
      ref[j] = a.cache[j];
    for (int k = 0; k < cs->n_appends; k++) {
      const int row = cs->at[k][0], r = cs->at[k][1];
      a.x[k] = rnd (count4 (cs->n, cs->h, r, cs->c), -1, 1);
      for (gsize m = 0; m < (gsize)cs->n * cs->h; m++)
        for (gsize e = 0; e < (gsize)r * cs->c; e++)
          ref[m * per + (gsize)row * cs->c + e] = a.x[k][m * r * cs->c + e];
    }
    desc = g_strdup_printf ("append_rows: %d appends into [%d, %d, %d, %d]",
        cs->n_appends, cs->n, cs->h, cs->cap, cs->c);
    verify (desc, run_append, &a, ref, n);
    g_free (desc);
    g_free (ref);
    g_free (a.cache);
    for (int k = 0; k < cs->n_appends; k++)
      g_free (a.x[k]);
  }
  for (gsize i = 0; i < G_N_ELEMENTS (copies); i++) {
    const CopyCase *cs = &copies[i];
    const gsize n = count4 (cs->n, cs->h, cs->w, cs->c);
    CopyArgs a = { cs, rnd (n, -1, 1) };
    double *ref = g_new (double, n);
    gchar *desc;

    for (gsize j = 0; j < n; j++)
      ref[j] = a.src[j];
    desc = g_strdup_printf ("copy [%d, %d, %d, %d]%s into [%d, %d, %d, %d]",
        cs->n, cs->h, cs->w, cs->c, cs->reshape ? " (reshaped)" : "", cs->dn,
        cs->dh, cs->dw, cs->dc);
    verify (desc, run_copy, &a, ref, n);
    g_free (desc);
    g_free (ref);
    g_free (a.src);
  }

  /* Views share their parent's data: a view of a view reads the right
   * block, and a copy into a view lands in the parent. */
  {
    float v[60], *back;
    AffectTensor *p, *v1, *v2, *src;

    for (int i = 0; i < 60; i++)
      v[i] = (float)i;
    p = affect_tensor_new_from_data (ctx.be, 1, 3, 4, 5, v);
    ck_assert_ptr_nonnull (p);
    v1 = affect_tensor_view (p, 20, 1, 1, 8, 5); /* elements 20..59 */
    v2 = affect_tensor_view (v1, 7, 1, 1, 1, 9); /* elements 27..35 */
    assert_shape (v2, 1, 1, 1, 9);
    back = download (v2);
    for (int i = 0; i < 9; i++)
      ck_assert_float_eq (back[i], (float)(27 + i));
    g_free (back);
    src = affect_tensor_new_zeros (ctx.be, 9, 1, 1, 1);
    affect_tensor_copy (v2, src);
    back = download (p);
    for (int i = 0; i < 60; i++)
      ck_assert_float_eq (back[i], i >= 27 && i < 36 ? 0.0f : (float)i);
    g_free (back);
    affect_tensor_free (src);
    affect_tensor_free (v2);
    affect_tensor_free (v1);
    affect_tensor_free (p);
  }
  ctx_end ();
}

END_TEST;

/* ---- GRU ------------------------------------------------------------------------ */

typedef struct {
  int b, t, d, h;
  gboolean h0, b_ih, b_hh;
  /* On the CPU backend with 2 threads, how cpu-gru.c shares the work
   * (the mode its debug line names); NULL: not checked (one thread). */
  const gchar *cpu_split;
} GruCase;

/* The debug lines of the CPU backend's GRU during a case. */
static void
gru_log (const gchar *domain, GLogLevelFlags level, const gchar *message,
    gpointer data)
{
  if (g_str_has_prefix (message, "cpu backend: GRU of "))
    g_ptr_array_add (data, g_strdup (message));
}

typedef struct {
  const GruCase *cs;
  float *x, *h0, *w_ih, *w_hh, *b_ih, *b_hh;
} GruArgs;

static double
sigmoid (double v)
{
  return 1.0 / (1.0 + exp (-v));
}

/* PyTorch's GRU (gate order r, z, n), in double. */
static double *
ref_gru (const GruArgs *a)
{
  const GruCase *cs = a->cs;
  const int hs = cs->h, d = cs->d;
  double *y = g_new (double, (gsize)cs->b * cs->t * hs);
  double *h = g_new (double, hs), *gi = g_new (double, 3 * hs);
  double *gh = g_new (double, 3 * hs);

  for (int b = 0; b < cs->b; b++) {
    for (int j = 0; j < hs; j++)
      h[j] = a->h0 ? a->h0[(gsize)b * hs + j] : 0.0;
    for (int t = 0; t < cs->t; t++) {
      const float *x = a->x + ((gsize)b * cs->t + t) * d;
      for (int g = 0; g < 3 * hs; g++) {
        double si = a->b_ih ? a->b_ih[g] : 0.0;
        double sh = a->b_hh ? a->b_hh[g] : 0.0;
        for (int k = 0; k < d; k++)
          si += (double)a->w_ih[(gsize)g * d + k] * x[k];
        for (int k = 0; k < hs; k++)
          sh += (double)a->w_hh[(gsize)g * hs + k] * h[k];
        gi[g] = si;
        gh[g] = sh;
      }
      for (int j = 0; j < hs; j++) {
        double r = sigmoid (gi[j] + gh[j]);
        double z = sigmoid (gi[hs + j] + gh[hs + j]);
        double n = tanh (gi[2 * hs + j] + r * gh[2 * hs + j]);
        h[j] = (1.0 - z) * n + z * h[j];
        y[((gsize)b * cs->t + t) * hs + j] = h[j];
      }
    }
  }
  g_free (h);
  g_free (gi);
  g_free (gh);
  return y;
}

static float *
run_gru (AffectBackend *be, gconstpointer data)
{
  const GruArgs *a = data;
  const GruCase *cs = a->cs;
  AffectGru *gru
      = affect_gru_new (be, cs->d, cs->h, a->w_ih, a->w_hh, a->b_ih, a->b_hh);
  AffectTensor *y, *y2;
  float *v, *v2;
  Buf x, h0;

  ck_assert_ptr_nonnull (gru);
  ck_assert_int_eq (affect_gru_get_hidden_size (gru), cs->h);
  buf_in (&x, be, cs->b, 1, cs->t, cs->d, a->x);
  if (cs->h0)
    buf_in (&h0, be, cs->b, 1, 1, cs->h, a->h0);
  y = affect_gru_forward (gru, x.t, cs->h0 ? h0.t : NULL);
  assert_shape (y, cs->b, 1, cs->t, cs->h);
  /* a second run of the prepared layer gives the same result */
  y2 = affect_gru_forward (gru, x.t, cs->h0 ? h0.t : NULL);
  assert_shape (y2, cs->b, 1, cs->t, cs->h);
  buf_check (&x, "input");
  buf_clear (&x);
  if (cs->h0) {
    buf_check (&h0, "initial state");
    buf_clear (&h0);
  }
  affect_gru_free (gru);
  v = download (y);
  v2 = download (y2);
  check_bits ("a second forward of the prepared layer", "second against first",
      v2, v, affect_tensor_n_elements (y));
  g_free (v2);
  affect_tensor_free (y);
  affect_tensor_free (y2);
  return v;
}

START_TEST (test_gru)
{
  static const GruCase cases[] = {
    { 1, 1, 1, 1, FALSE, TRUE, TRUE },
    { 1, 1, 1, 1, TRUE, FALSE, FALSE },
    { 1, 2, 5, 8, TRUE, TRUE, TRUE },
    { 3, 1, 7, 16, TRUE, TRUE, FALSE }, /* T = 1: one step */
    { 3, 7, 16, 8, FALSE, FALSE, TRUE },
    { 8, 5, 3, 33, TRUE, TRUE, TRUE },
    { 3, 17, 12, 20, TRUE, TRUE, TRUE }, /* a clip of frames */
    { 1, 9, 64, 32, FALSE, TRUE, TRUE },
    /* Big enough to run on several threads: few sequences, each thread a
     * range of hidden blocks synchronised per step (H = 70: a last task of
     * one block, units beyond H padded) ... */
    { 1, 9, 64, 100, FALSE, TRUE, TRUE, "split units" },
    { 2, 11, 33, 70, TRUE, TRUE, FALSE, "split units" },
    /* ... or enough sequences for chunks that the threads take in turn
     * (uneven chunks; H = 64: the state kept in the output itself). */
    { 8, 12, 20, 40, FALSE, TRUE, TRUE, "sequence chunks" },
    { 7, 10, 16, 64, TRUE, FALSE, TRUE, "sequence chunks" },
  };

  if (!ctx_begin (_i, T_GRU)) {
    float w[3] = { 0 };
    /* Refused with a critical, as every unsupported op. */
    EXPECT_CRITICAL ("affect_gru_new",
        ck_assert_ptr_null (affect_gru_new (ctx.be, 1, 1, w, w, NULL, NULL)));
    ctx_end ();
    return;
  }
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    const GruCase *cs = &cases[i];
    const double r = 1.5 / sqrt (cs->h);
    GruArgs a = { cs, rnd ((gsize)cs->b * cs->t * cs->d, -1, 1),
      rnd ((gsize)cs->b * cs->h, -1, 1), rnd ((gsize)3 * cs->h * cs->d, -r, r),
      rnd ((gsize)3 * cs->h * cs->h, -r, r),
      cs->b_ih ? rnd (3 * cs->h, -r, r) : NULL,
      cs->b_hh ? rnd (3 * cs->h, -r, r) : NULL };
    const gboolean check_split = cs->cpu_split != NULL
                                 && g_str_equal (ctx.cfg->backend, "cpu")
                                 && ctx.cfg->n_threads >= 2;
    GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);
    guint handler = 0;
    double *ref;
    gchar *desc;

    if (!cs->h0)
      g_clear_pointer (&a.h0, g_free);
    ref = ref_gru (&a);
    desc = g_strdup_printf ("B %d T %d D %d H %d%s%s%s", cs->b, cs->t, cs->d,
        cs->h, cs->h0 ? ", h0" : "", cs->b_ih ? ", b_ih" : "",
        cs->b_hh ? ", b_hh" : "");
    if (check_split)
      handler = g_log_set_handler (NULL, G_LOG_LEVEL_DEBUG, gru_log, lines);
    verify (desc, run_gru, &a, ref, (gsize)cs->b * cs->t * cs->h);
    if (check_split) {
      /* both forwards of run_gru () on ctx.be took the 2-thread path */
      gchar *want = g_strdup_printf (
          "cpu backend: GRU of %d sequences x %d steps, %d units: %s, 2 parts",
          cs->b, cs->t, cs->h, cs->cpu_split);

      g_log_remove_handler (NULL, handler);
      if (!(cs->b * cs->t * cs->h > VALGRIND_MAX_OUTPUT && under_valgrind ())) {
        ck_assert_msg (lines->len == 2, "[cpu, %d threads] %s: %u GRU lines",
            ctx.cfg->n_threads, desc, lines->len);
        for (guint l = 0; l < lines->len; l++)
          ck_assert_msg (g_str_equal (lines->pdata[l], want),
              "[cpu, %d threads] %s: '%s', expected '%s'", ctx.cfg->n_threads,
              desc, (gchar *)lines->pdata[l], want);
      }
      g_free (want);
    }
    g_ptr_array_unref (lines);
    g_free (desc);
    g_free (ref);
    g_free (a.x);
    g_free (a.h0);
    g_free (a.w_ih);
    g_free (a.w_hh);
    g_free (a.b_ih);
    g_free (a.b_hh);
  }
  ctx_end ();
}

END_TEST;

/* ---- 1-D convolution ------------------------------------------------------------ */

typedef struct {
  int b, t, cin, cout, k, stride, pad;
  gboolean bias;
} Conv1dCase;

typedef struct {
  const Conv1dCase *cs;
  float *x, *w, *bias;
  int tout;
} Conv1dArgs;

static float *
run_conv1d (AffectBackend *be, gconstpointer data)
{
  const Conv1dArgs *a = data;
  const Conv1dCase *cs = a->cs;
  AffectConv1d *conv = affect_conv1d_new (
      be, cs->k, cs->cin, cs->cout, cs->stride, cs->pad, a->w, a->bias);
  AffectTensor *y;
  float *v;
  Buf x;

  ck_assert_ptr_nonnull (conv);
  buf_in (&x, be, cs->b, 1, cs->t, cs->cin, a->x);
  y = affect_conv1d_forward (conv, x.t);
  assert_shape (y, cs->b, 1, a->tout, cs->cout);
  buf_check (&x, "input");
  buf_clear (&x);
  affect_conv1d_free (conv);
  v = download (y);
  affect_tensor_free (y);
  return v;
}

START_TEST (test_conv1d)
{
  static const Conv1dCase cases[] = {
    { 1, 1, 1, 1, 1, 1, 0, FALSE },
    { 1, 30, 8, 16, 3, 1, 1, TRUE },  /* Whisper conv1 */
    { 3, 15, 16, 16, 3, 2, 1, TRUE }, /* Whisper conv2, odd T */
    { 3, 16, 16, 16, 3, 2, 1, TRUE }, /* even T */
    { 8, 9, 5, 7, 1, 1, 0, TRUE }, { 1, 11, 3, 4, 5, 2, 2, FALSE },
    { 1, 1, 4, 3, 3, 1, 1, TRUE }, /* T = 1: one output frame */
    { 3, 2, 6, 5, 5, 2, 2, TRUE },
    { 1, 100, 80, 64, 3, 2, 1, TRUE }, /* mel bins */
  };

  if (!ctx_begin (_i, T_CONV1D)) {
    float w[3] = { 0 };
    EXPECT_CRITICAL ("affect_conv", ck_assert_ptr_null (affect_conv1d_new (
                                        ctx.be, 3, 1, 1, 1, 1, w, NULL)));
    ctx_end ();
    return;
  }
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    const Conv1dCase *cs = &cases[i];
    Conv1dArgs a = { cs, rnd ((gsize)cs->b * cs->t * cs->cin, -1, 1),
      rnd ((gsize)cs->cout * cs->cin * cs->k, -1, 1),
      cs->bias ? rnd (cs->cout, -1, 1) : NULL,
      (cs->t + 2 * cs->pad - cs->k) / cs->stride + 1 };
    double *ref = g_new (double, (gsize)cs->b *a.tout * cs->cout);
    gchar *desc;

    for (int b = 0; b < cs->b; b++)
      for (int to = 0; to < a.tout; to++)
        for (int o = 0; o < cs->cout; o++) {
          double s = a.bias ? a.bias[o] : 0.0;
          for (int j = 0; j < cs->k; j++) {
            int ti = to * cs->stride + j - cs->pad;
            if (ti < 0 || ti >= cs->t)
              continue;
            for (int ci = 0; ci < cs->cin; ci++)
              s += (double)a.w[((gsize)o * cs->cin + ci) * cs->k + j]
                   * a.x[((gsize)b * cs->t + ti) * cs->cin + ci];
          }
          ref[((gsize)b * a.tout + to) * cs->cout + o] = s;
        }
    desc = g_strdup_printf ("B %d T %d, %d -> %d, k %d stride %d pad %d%s",
        cs->b, cs->t, cs->cin, cs->cout, cs->k, cs->stride, cs->pad,
        cs->bias ? ", bias" : "");
    verify (desc, run_conv1d, &a, ref, (gsize)cs->b * a.tout * cs->cout);
    g_free (desc);
    g_free (ref);
    g_free (a.x);
    g_free (a.w);
    g_free (a.bias);
  }
  ctx_end ();
}

END_TEST;

/* ---- bad arguments: one critical and no effect, per op family -------------- */

static gboolean
family_supported (TestOp op)
{
  for (int i = 0; i < test_ops[op].n_ops; i++)
    if (!affect_backend_supports_op (ctx.be, test_ops[op].ops[i]))
      return FALSE;
  return TRUE;
}

/* The tensor still holds @value everywhere. */
static void
assert_filled (const AffectTensor *t, float value, const gchar *what)
{
  float *v = download (t);
  for (gsize i = 0; i < affect_tensor_n_elements (t); i++)
    ck_assert_msg (
        v[i] == value, "%s: element %" G_GSIZE_FORMAT " changed", what, i);
  g_free (v);
}

START_TEST (test_bad_arguments)
{
  AffectBackend *be;
  AffectTensor *x, *x5, *row, *big;
  float w[5 * 5 * 4 * 4] = { 0 };
  int n_families = 0;

  memset (&ctx, 0, sizeof (ctx));
  ctx.cfg = &configs[_i];
  ctx.op = T_LAST;
  ctx.be = be = backend_new (ctx.cfg->backend, ctx.cfg->n_threads);
  x = affect_tensor_new_zeros (be, 1, 2, 3, 4);
  x5 = affect_tensor_new_zeros (be, 1, 1, 1, 5);
  row = affect_tensor_new_zeros (be, 1, 1, 1, 4);
  big = affect_tensor_new_zeros (be, 3, 2, 3, 4);
  ck_assert_ptr_nonnull (x);

#define FAMILY(op) if (family_supported (op) && ++n_families)
  FAMILY (T_CONV)
  {
    AffectConv *c = affect_conv_new (
        be, 3, 3, 3, 2, 1, AFFECT_PAD_SAME, w, NULL, AFFECT_ACT_NONE);
    EXPECT_CRITICAL ("affect_conv_forward", /* 4 channels, 3 expected */
        ck_assert_ptr_null (affect_conv_forward (c, x)));
    EXPECT_CRITICAL (
        "affect_conv_new", ck_assert_ptr_null (affect_conv_new (be, 3, 3, 3, 2,
                               0, AFFECT_PAD_SAME, w, NULL, AFFECT_ACT_NONE)));
    affect_conv_free (c);
  }
  FAMILY (T_CONV_DEPTHWISE)
  {
    AffectConv *c = affect_conv_new_depthwise (
        be, 5, 5, 4, 1, AFFECT_PAD_VALID, w, NULL, AFFECT_ACT_NONE);
    EXPECT_CRITICAL ("affect_conv_forward", /* 2×3 input, 5×5 VALID */
        ck_assert_ptr_null (affect_conv_forward (c, x)));
    affect_conv_free (c);
  }
  FAMILY (T_CONV_SEPARABLE)
  {
    EXPECT_CRITICAL ("affect_conv_new_separable",
        ck_assert_ptr_null (affect_conv_new_separable (
            be, 0, 3, 4, 2, 1, AFFECT_PAD_SAME, w, w, NULL, AFFECT_ACT_NONE)));
  }
  FAMILY (T_LINEAR)
  {
    AffectLinear *l = affect_linear_new (be, 5, 2, w, FALSE, NULL);
    EXPECT_CRITICAL ("affect_linear_forward",
        ck_assert_ptr_null (affect_linear_forward (l, x)));
    affect_linear_free (l);
  }
  FAMILY (T_PAD)
  {
    EXPECT_CRITICAL (
        "affect_pad", ck_assert_ptr_null (affect_pad (x, 0, -1, 0, 0)));
  }
  FAMILY (T_MAX_POOL)
  {
    EXPECT_CRITICAL ("affect_max_pool",
        ck_assert_ptr_null (affect_max_pool (x, 3, 1, AFFECT_PAD_VALID)));
  }
  FAMILY (T_AVG_POOL)
  {
    EXPECT_CRITICAL ("affect_avg_pool",
        ck_assert_ptr_null (affect_avg_pool (x, 0, 1, AFFECT_PAD_SAME)));
  }
  FAMILY (T_GLOBAL_MEAN)
  {
    EXPECT_CRITICAL (
        "affect_global_mean", ck_assert_ptr_null (affect_global_mean (NULL)));
  }
  FAMILY (T_ADD)
  {
    EXPECT_CRITICAL ("affect_add", ck_assert_ptr_null (affect_add (x, big)));
    EXPECT_CRITICAL ("affect_add_inplace", affect_add_inplace (big, x));
    assert_filled (big, 0.0f, "add in place with a bad shape");
  }
  FAMILY (T_ACTIVATE)
  {
    EXPECT_CRITICAL ("affect_activate_inplace",
        affect_activate_inplace (x, (AffectActivation)42));
  }
  FAMILY (T_SIGMOID)
  {
    EXPECT_CRITICAL ("affect_sigmoid_inplace", affect_sigmoid_inplace (NULL));
  }
  FAMILY (T_TANH)
  {
    EXPECT_CRITICAL ("affect_tanh_inplace", affect_tanh_inplace (NULL));
  }
  FAMILY (T_SOFTMAX)
  {
    EXPECT_CRITICAL ("affect_softmax_inplace", affect_softmax_inplace (NULL));
  }
  FAMILY (T_CONCAT_CHANNELS)
  {
    EXPECT_CRITICAL ("affect_concat_channels",
        ck_assert_ptr_null (affect_concat_channels (x, big)));
  }
  FAMILY (T_PAD_CHANNELS)
  {
    EXPECT_CRITICAL (
        "affect_pad_channels", ck_assert_ptr_null (affect_pad_channels (x, 3)));
  }
  FAMILY (T_RESIZE_BILINEAR)
  {
    EXPECT_CRITICAL ("affect_resize_bilinear",
        ck_assert_ptr_null (affect_resize_bilinear (x, 4, 0)));
  }
  FAMILY (T_MATMUL)
  {
    AffectTensor *a = affect_tensor_new_zeros (be, 1, 1, 3, 4);
    AffectTensor *y = affect_tensor_new_zeros (be, 1, 1, 3, 3);
    AffectMatView va = affect_mat_view (a), vb = affect_mat_view (a);
    AffectMatView vy = affect_mat_view (y), bad;

    affect_scale_inplace (y, 0.0f, 5.0f);
    /* inner dimensions: [3, 4] · [3, 4] */
    EXPECT_CRITICAL ("affect_matmul",
        ck_assert_ptr_null (affect_matmul (a, a, FALSE, FALSE, 1.0f)));
    /* b's batch is neither a's nor 1 */
    EXPECT_CRITICAL ("affect_matmul",
        ck_assert_ptr_null (affect_matmul (x, big, FALSE, TRUE, 1.0f)));
    /* y has the wrong shape for op(a) op(b) = 3 × 3 */
    EXPECT_CRITICAL (
        "affect_matmul_strided", ck_assert (!affect_matmul_strided (&va, FALSE,
                                     &vb, FALSE, &vy, 1, 1, 1.0f, 0.0f)));
    /* a view past the end of its tensor */
    bad = va;
    bad.offset = 1;
    EXPECT_CRITICAL (
        "affect_matmul_strided", ck_assert (!affect_matmul_strided (&bad, FALSE,
                                     &vb, TRUE, &vy, 1, 1, 1.0f, 0.0f)));
    /* ld < cols */
    bad = va;
    bad.ld = 3;
    bad.rows = 1;
    EXPECT_CRITICAL (
        "affect_matmul_strided", ck_assert (!affect_matmul_strided (&bad, FALSE,
                                     &vb, TRUE, &vy, 1, 1, 1.0f, 0.0f)));
    /* a batch stride that leaves the tensor */
    bad = va;
    bad.stride[0] = 1;
    EXPECT_CRITICAL (
        "affect_matmul_strided", ck_assert (!affect_matmul_strided (&bad, FALSE,
                                     &vb, TRUE, &vy, 2, 1, 1.0f, 0.0f)));
    /* an empty batch */
    EXPECT_CRITICAL (
        "affect_matmul_strided", ck_assert (!affect_matmul_strided (&va, FALSE,
                                     &vb, TRUE, &vy, 0, 1, 1.0f, 0.0f)));
    /* the output overlaps an input */
    bad = va;
    bad.cols = 3;
    EXPECT_CRITICAL (
        "affect_matmul_strided", ck_assert (!affect_matmul_strided (&va, FALSE,
                                     &vb, TRUE, &bad, 1, 1, 1.0f, 0.0f)));
    /* the output matrices of a batch overlap each other (stride 0) */
    bad = vy;
    bad.stride[0] = 0;
    EXPECT_CRITICAL (
        "affect_matmul_strided", ck_assert (!affect_matmul_strided (&va, FALSE,
                                     &vb, TRUE, &bad, 2, 1, 1.0f, 1.0f)));
    /* ... or partly (stride 1 over 3 × 3 matrices) */
    bad = vy;
    bad.rows = bad.cols = 2;
    bad.stride[1] = 1;
    {
      AffectMatView a2 = va, b2 = vb;
      a2.rows = 2;
      a2.cols = 2;
      a2.stride[1] = 0;
      b2.rows = 2;
      b2.cols = 2;
      b2.stride[1] = 0;
      EXPECT_CRITICAL ("affect_matmul_strided",
          ck_assert (!affect_matmul_strided (
              &a2, FALSE, &b2, FALSE, &bad, 1, 2, 1.0f, 0.0f)));
    }
    assert_filled (y, 5.0f, "matmul output after refused calls");
    /* copies between overlapping views of one tensor */
    {
      AffectTensor *v0 = affect_tensor_view (a, 0, 1, 1, 1, 8);
      AffectTensor *v2 = affect_tensor_view (a, 2, 1, 1, 1, 8);
      EXPECT_CRITICAL ("affect_tensor_copy", affect_tensor_copy (v2, v0));
      affect_tensor_free (v0);
      affect_tensor_free (v2);
    }
    affect_tensor_free (a);
    affect_tensor_free (y);
  }
  FAMILY (T_LAYER_NORM)
  {
    EXPECT_CRITICAL ("affect_layer_norm_inplace",
        affect_layer_norm_inplace (x, x5, NULL, 1e-5));
    EXPECT_CRITICAL ("affect_layer_norm_inplace",
        affect_layer_norm_inplace (x, row, row, -1.0));
  }
  FAMILY (T_GELU)
  {
    EXPECT_CRITICAL ("affect_gelu_inplace", affect_gelu_inplace (NULL));
  }
  FAMILY (T_SOFTMAX_MASKED)
  {
    AffectTensor *masks = affect_tensor_reshape (big, 18, 1, 1, 4);
    EXPECT_CRITICAL ("affect_softmax_masked_inplace",
        affect_softmax_masked_inplace (x, 1.0f, x5, -1));
    EXPECT_CRITICAL ("affect_softmax_masked_inplace", /* 18 masks, 1 image */
        affect_softmax_masked_inplace (x, 1.0f, masks, -1));
    affect_tensor_free (masks);
    assert_filled (x, 0.0f, "scores after refused calls");
  }
  FAMILY (T_GATHER_ROWS)
  {
    const gint32 ids[] = { 0, 6, -1 };
    EXPECT_CRITICAL ("affect_gather_rows",
        ck_assert_ptr_null (affect_gather_rows (x, ids, 2))); /* V = 6 */
    EXPECT_CRITICAL ("affect_gather_rows",
        ck_assert_ptr_null (affect_gather_rows (x, ids + 2, 1)));
    EXPECT_CRITICAL ("affect_gather_rows",
        ck_assert_ptr_null (affect_gather_rows (x, ids, 0)));
  }
  FAMILY (T_BINARY)
  {
    EXPECT_CRITICAL ("affect_binary_inplace", /* 5 does not divide 24 */
        affect_binary_inplace (x, x5, AFFECT_BINARY_ADD));
    EXPECT_CRITICAL ("affect_binary_inplace",
        affect_binary_inplace (x, row, (AffectBinaryOp)7));
    assert_filled (x, 0.0f, "binary after refused calls");
  }
  FAMILY (T_SCALE)
  {
    EXPECT_CRITICAL (
        "affect_scale_inplace", affect_scale_inplace (NULL, 1.0f, 0.0f));
  }
  FAMILY (T_COPY_ROWS)
  {
    AffectTensor *cache = affect_tensor_new_zeros (be, 3, 2, 4, 4);
    AffectTensor *rows = affect_tensor_new (be, 3, 2, 2, 4);
    affect_scale_inplace (rows, 0.0f, 1.0f);
    EXPECT_CRITICAL ("affect_append_rows", /* rows 3, 4 of 4 */
        ck_assert (!affect_append_rows (cache, rows, 3)));
    EXPECT_CRITICAL ("affect_append_rows", /* 2 matrices, the cache 6 */
        ck_assert (!affect_append_rows (cache, x, 0)));
    EXPECT_CRITICAL ("affect_append_rows",
        ck_assert (!affect_append_rows (cache, rows, -1)));
    assert_filled (cache, 0.0f, "cache after refused appends");
    EXPECT_CRITICAL ("affect_tensor_copy", affect_tensor_copy (x, x5));
    EXPECT_CRITICAL ("affect_tensor_view",
        ck_assert_ptr_null (affect_tensor_view (x, 20, 1, 1, 1, 5)));
    EXPECT_CRITICAL ("affect_tensor_reshape",
        ck_assert_ptr_null (affect_tensor_reshape (x, 1, 1, 5, 5)));
    affect_tensor_free (cache);
    affect_tensor_free (rows);
  }
  FAMILY (T_GRU)
  {
    AffectGru *g = affect_gru_new (be, 4, 2, w, w, NULL, NULL);
    AffectTensor *h0 = affect_tensor_new_zeros (be, 2, 1, 1, 2);
    AffectTensor *seq = affect_tensor_new_zeros (be, 1, 1, 3, 4);
    EXPECT_CRITICAL ("affect_gru_forward", /* x is not [B, 1, T, D] */
        ck_assert_ptr_null (affect_gru_forward (g, x, NULL)));
    EXPECT_CRITICAL ("affect_gru_forward", /* h0 of 2 sequences, x 1 */
        ck_assert_ptr_null (affect_gru_forward (g, seq, h0)));
    EXPECT_CRITICAL ("affect_gru_new",
        ck_assert_ptr_null (affect_gru_new (be, 0, 2, w, w, NULL, NULL)));
    affect_gru_free (g);
    affect_tensor_free (h0);
    affect_tensor_free (seq);
  }
  FAMILY (T_CONV1D)
  {
    AffectConv1d *c = affect_conv1d_new (be, 5, 4, 2, 1, 0, w, NULL);
    AffectTensor *seq = affect_tensor_new_zeros (be, 1, 1, 3, 4);
    EXPECT_CRITICAL ("affect_conv1d_forward", /* 3 frames, kernel 5 */
        ck_assert_ptr_null (affect_conv1d_forward (c, seq)));
    EXPECT_CRITICAL ("affect_conv1d_forward", /* not [B, 1, T, 4] */
        ck_assert_ptr_null (affect_conv1d_forward (c, x)));
    EXPECT_CRITICAL ("affect_conv1d_new",
        ck_assert_ptr_null (affect_conv1d_new (be, 3, 4, 2, 0, 1, w, NULL)));
    affect_conv1d_free (c);
    affect_tensor_free (seq);
  }
#undef FAMILY
  g_print ("%s (%d threads): bad arguments refused in %d op families\n",
      ctx.cfg->backend, ctx.cfg->n_threads, n_families);

  affect_tensor_free (x);
  affect_tensor_free (x5);
  affect_tensor_free (row);
  affect_tensor_free (big);
  affect_backend_unref (be);
  memset (&ctx, 0, sizeof (ctx));
}

END_TEST;

/* Every entry of the backend table is exercised by a family above. */
START_TEST (test_every_op_covered)
{
  for (int op = 0; op < AFFECT_OP_LAST; op++) {
    gboolean covered = FALSE;
    ck_assert_msg (op_names[op] != NULL, "AffectOp %d has no name", op);
    for (int t = 0; t < T_LAST; t++)
      for (int i = 0; i < test_ops[t].n_ops; i++)
        covered |= test_ops[t].ops[i] == (AffectOp)op;
    ck_assert_msg (covered, "%s has no test family", op_names[op]);
  }
  for (int t = 0; t < T_LAST; t++)
    ck_assert_msg (test_ops[t].name != NULL && test_ops[t].n_ops > 0,
        "test family %d has no entry in test_ops", t);
}

END_TEST;

/* ---- main ------------------------------------------------------------------------ */

static Suite *
backend_ops_suite (void)
{
  Suite *s = suite_create ("models-backend-ops");
  TCase *tc = tcase_create ("backend-ops");

  tcase_add_test (tc, test_every_op_covered);
  tcase_add_loop_test (tc, test_conv, 0, n_configs);
  tcase_add_loop_test (tc, test_conv_depthwise, 0, n_configs);
  tcase_add_loop_test (tc, test_conv_separable, 0, n_configs);
  tcase_add_loop_test (tc, test_linear, 0, n_configs);
  tcase_add_test (tc, test_f16_panels_pack);
  tcase_add_test (tc, test_f16_panels_same_bits);
  tcase_add_loop_test (tc, test_pad, 0, n_configs);
  tcase_add_loop_test (tc, test_max_pool, 0, n_configs);
  tcase_add_loop_test (tc, test_avg_pool, 0, n_configs);
  tcase_add_loop_test (tc, test_global_mean, 0, n_configs);
  tcase_add_loop_test (tc, test_add, 0, n_configs);
  tcase_add_loop_test (tc, test_activate, 0, n_configs);
  tcase_add_loop_test (tc, test_sigmoid, 0, n_configs);
  tcase_add_loop_test (tc, test_tanh, 0, n_configs);
  tcase_add_loop_test (tc, test_softmax, 0, n_configs);
  tcase_add_loop_test (tc, test_concat_channels, 0, n_configs);
  tcase_add_loop_test (tc, test_pad_channels, 0, n_configs);
  tcase_add_loop_test (tc, test_resize_bilinear, 0, n_configs);
  tcase_add_loop_test (tc, test_matmul, 0, n_configs);
  tcase_add_loop_test (tc, test_layer_norm, 0, n_configs);
  tcase_add_loop_test (tc, test_gelu, 0, n_configs);
  tcase_add_loop_test (tc, test_softmax_masked, 0, n_configs);
  tcase_add_loop_test (tc, test_gather_rows, 0, n_configs);
  tcase_add_loop_test (tc, test_binary, 0, n_configs);
  tcase_add_loop_test (tc, test_scale, 0, n_configs);
  tcase_add_loop_test (tc, test_copy_rows, 0, n_configs);
  tcase_add_loop_test (tc, test_gru, 0, n_configs);
  tcase_add_loop_test (tc, test_conv1d, 0, n_configs);
  tcase_add_loop_test (tc, test_bad_arguments, 0, n_configs);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  GPtrArray *names = test_backend_names ();
  Suite *s;
  SRunner *sr;
  int failed;

  /* every backend at 1 and 2 threads */
  n_configs = (int)names->len * 2;
  configs = g_new0 (Config, n_configs);
  for (guint i = 0; i < names->len; i++)
    for (int t = 0; t < 2; t++) {
      configs[2 * i + t].backend = g_strdup (names->pdata[i]);
      configs[2 * i + t].n_threads = t + 1;
    }
  g_ptr_array_free (names, TRUE);

  s = backend_ops_suite ();
  sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  for (int i = 0; i < n_configs; i++)
    g_free (configs[i].backend);
  g_free (configs);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
