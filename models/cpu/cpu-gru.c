/* gst-affect — models/cpu/
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The CPU backend: GRU layers, the packed-panel product they share with
 * fully connected layers (cpu-gemm.c), and small matrix products (the
 * table's matmul entry, for the attention of the fusion network). The
 * kernels are in cpu-gru-kernels.h, compiled for AVX-512, AVX2 and a
 * generic target (cpu-simd.h; the level is chosen in cpu-simd.c); this
 * file holds the layouts and the threads.
 *
 * Packed panels (CpuPanels): a weight is packed once, in panels of
 * CPU_PANEL (32) outputs, wp[panel][input][32], bias padded alike, so that
 * a product streams through the weight once, in order, for all the rows of
 * a register block, and nothing is re-packed per call (GEMM libraries pack
 * their B operand at every call, which costs as much as the product itself
 * for the few rows of a frame). Every output is one chain of FMAs from the
 * bias, so a row's result does not depend on the other rows, on the panels
 * a thread was given or on the AVX2/AVX-512 choice.
 *
 * GRU: the input and recurrent weights are packed with the gates of each
 * block of 32 hidden units side by side ([block][r, z, n][32]), so that the
 * gates of a block read three consecutive panels and a thread that owns a
 * range of blocks needs nothing else from the others but the previous
 * state. The forward runs chunks of sequences: per chunk the input
 * projections x W_ihᵀ + b_ih of a block of time steps, then per step the
 * product h W_hhᵀ + b_hh for all sequences of the chunk with the gates
 * (vector exp/sigmoid/tanh, about 1 ulp) in its epilogue, hidden block by
 * hidden block (gru_step: the recurrent projections never go through
 * memory, and the gates' exp and divisions overlap with the next block's
 * multiply-adds). With enough sequences the
 * threads take chunks in turn (no synchronisation); with few (one clip and
 * two threads), each thread owns a range of hidden blocks of every sequence
 * and waits, after each step, for the other blocks of that step (the next
 * step reads the whole state): a thread descheduled by a busy machine has
 * its share of a step taken over by the one waiting for it instead of
 * holding it up.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include "cpu-private.h"

#define CPU_SIMD_KERNELS "cpu-gru-kernels.h"
#include "cpu-simd.h"
#undef CPU_SIMD_KERNELS

typedef void (*PanelsRunFunc) (const float *x, gsize ldx, int rows, int K,
    const float *wp, const float *bp, int p0, int p1, int n_out, float *y,
    gsize ldy);
typedef void (*PanelsRunHFunc) (const float *x, gsize ldx, int rows, int K,
    const guint16 *wp, const float *bp, int p0, int p1, int n_out, float *y,
    gsize ldy);
typedef void (*GruGatesFunc) (int b0, int b1, const float *gx, const float *gh,
    const float *hprev, float *hnext);
typedef void (*GruStepFunc) (int rows, int K, int nb, const float *h, gsize ldh,
    const float *wp, const float *bp, const float *gx, gsize ldgx, float *hn,
    gsize ldn);
typedef void (*MmNnFunc) (int M, int N, int K, const float *a, gsize lda,
    gboolean trans_a, const float *b, gsize ldb, float *y, gsize ldy,
    float alpha, float beta);
typedef void (*MmNtFunc) (int M, int N, int K, const float *a, gsize lda,
    const float *b, gsize ldb, float *y, gsize ldy, float alpha, float beta);

/* ---- packed panels ----------------------------------------------------- */

gboolean
cpu_panels_init (CpuPanels *p, int n_cols, int k, const float *w, gsize ld_out,
    gsize ld_in, const float *bias, const int *map)
{
  const int np = (n_cols + CPU_PANEL - 1) / CPU_PANEL;
  gsize n_w;

  memset (p, 0, sizeof (*p));
  if (n_cols <= 0 || k <= 0
      || !g_size_checked_mul (&n_w, (gsize)np * CPU_PANEL, (gsize)k))
    return FALSE;
  p->w = g_aligned_alloc0 (n_w, sizeof (float), 64);
  p->bias = g_aligned_alloc0 ((gsize)np * CPU_PANEL, sizeof (float), 64);
  if (p->w == NULL || p->bias == NULL) {
    cpu_panels_clear (p);
    return FALSE;
  }
  p->n_cols = n_cols;
  p->k = k;
  p->np = np;
  for (int o = 0; o < n_cols; o++) {
    const int j = map ? map[o] : o;
    float *dst = p->w + (gsize)(o / CPU_PANEL) * k * CPU_PANEL + o % CPU_PANEL;

    if (j < 0)
      continue;
    for (int i = 0; i < k; i++)
      dst[(gsize)i * CPU_PANEL] = w[(gsize)j * ld_out + (gsize)i * ld_in];
    if (bias)
      p->bias[o] = bias[j];
  }
  return TRUE;
}

/* @f as a half float in @h if it is one exactly (not NaN or infinite). */
static gboolean
half_exact (float f, guint16 *h)
{
  guint32 b, sign, m, full;
  int e, shift;

  memcpy (&b, &f, sizeof (b));
  sign = (b >> 16) & 0x8000;
  e = (int)((b >> 23) & 0xff);
  m = b & 0x7fffff;
  if (e == 255)
    return FALSE; /* NaN, infinity: kept in float32 */
  if (e == 0) {
    *h = (guint16)sign; /* ±0; float subnormals are below every half */
    return m == 0;
  }
  e -= 127;
  if (e > 15)
    return FALSE;
  if (e >= -14) {
    /* a normal half: 10 bits of mantissa */
    *h = (guint16)(sign | (guint32)(e + 15) << 10 | m >> 13);
    return (m & 0x1fff) == 0;
  }
  /* a subnormal half: (1.m) 2^e = q 2^-24, q < 1024 an integer */
  shift = 13 + (-14 - e);
  if (shift > 24)
    return FALSE;
  full = 0x800000 | m;
  *h = (guint16)(sign | full >> shift);
  return (full & ((1u << shift) - 1)) == 0;
}

gboolean
cpu_panels_to_half (CpuPanels *p)
{
  const gchar *env = g_getenv ("AFFECT_CPU_F16_PANELS");
  const gsize n = (gsize)p->np * CPU_PANEL * p->k;
  gboolean ok = TRUE;
  guint16 *wh;

  if (p->w == NULL || (env != NULL && g_strcmp0 (env, "0") == 0))
    return FALSE;
  wh = g_aligned_alloc (n, sizeof (guint16), 64);
  if (wh == NULL)
    return FALSE;
  /* exact: a half, and converting it back gives the same bits */
  for (gsize i = 0; i < n && ok; i++) {
    float back;

    ok = half_exact (p->w[i], &wh[i]);
    if (ok) {
      back = cpu_half_to_float (wh[i]);
      ok = memcmp (&back, &p->w[i], sizeof (back)) == 0;
    }
  }
  if (!ok) {
    g_aligned_free (wh);
    return FALSE;
  }
  g_aligned_free (p->w);
  p->w = NULL;
  p->wh = wh;
  g_debug (
      "cpu backend: %d x %d weight packed as half floats", p->n_cols, p->k);
  return TRUE;
}

void
cpu_panels_clear (CpuPanels *p)
{
  g_aligned_free (p->w);
  g_aligned_free (p->wh);
  g_aligned_free (p->bias);
  memset (p, 0, sizeof (*p));
}

void
cpu_panels_run (const CpuPanels *p, const float *x, gsize ldx, int rows,
    float *y, gsize ldy, int p0, int p1)
{
  if (rows <= 0 || p0 >= p1)
    return;
  if (p->wh != NULL) {
    const PanelsRunHFunc run = CPU_SIMD_PICK (panels_run_h);
    run (x, ldx, rows, p->k, p->wh, p->bias, p0, p1, p->n_cols, y, ldy);
  } else {
    const PanelsRunFunc run = CPU_SIMD_PICK (panels_run);
    run (x, ldx, rows, p->k, p->w, p->bias, p0, p1, p->n_cols, y, ldy);
  }
}

/* ---- GRU --------------------------------------------------------------- */

/* Whole sequences per thread: chunks of at most GRU_CHUNK sequences (of
 * equal sizes), so that a chunk's buffers stay in cache whatever the batch
 * (the whole batch at once spills the projections of 1024 clips to memory
 * and the recurrent rows out of L2; measured at 64 clips: 4 to 8 per chunk
 * about 5 % faster than 16), and blocks of time steps whose input
 * projections make about GRU_PROJ_ROWS rows (at least half of
 * GRU_TIME_BLOCK steps). With few sequences (split units):
 * all steps in one block. */
#define GRU_CHUNK 8
#define GRU_TIME_BLOCK 32
#define GRU_PROJ_ROWS 128
/* Below this many multiply-adds per call a GRU runs on one thread. */
#define GRU_MIN_PARALLEL_MACS (256.0 * 1024.0)
/* Most threads of one split-units GRU. */
#define GRU_MAX_PARTS 64
/* Largest projection buffer of the split-units mode, in floats. */
#define GRU_SPLIT_MAX_FLOATS (4.0 * 1024 * 1024)
/* A thread that has waited this long for another thread's share of a step
 * (descheduled on a busy machine) does it itself. */
#define GRU_STEAL_AFTER_US 30
/* Once a thread took over a task in a call, it duplicates a task that
 * another thread has been computing for this long in a step (a task takes
 * 1-3 us here). */
#define GRU_DUPLICATE_AFTER_US 8

typedef struct {
  int nb;           /* blocks of CPU_PANEL hidden units */
  CpuPanels ih, hh; /* [block][r, z, n][CPU_PANEL] columns */
} CpuGru;

gboolean
cpu_gru_prepare (AffectBackend *be, AffectGru *gru)
{
  const int H = gru->hidden_size;
  const int nb = (H + CPU_PANEL - 1) / CPU_PANEL;
  const int n_cols = 3 * nb * CPU_PANEL;
  CpuGru *g = g_new0 (CpuGru, 1);
  int *map = g_new (int, n_cols);
  gboolean ok;

  /* Packed column (block b, gate q, lane c) is output q H + b 32 + c. */
  for (int o = 0; o < n_cols; o++) {
    const int b = o / (3 * CPU_PANEL), q = o / CPU_PANEL % 3;
    const int u = b * CPU_PANEL + o % CPU_PANEL;
    map[o] = u < H ? q * H + u : -1;
  }
  g->nb = nb;
  ok = cpu_panels_init (&g->ih, n_cols, gru->input_size, gru->w_ih,
           gru->input_size, 1, gru->b_ih, map)
       && cpu_panels_init (&g->hh, n_cols, H, gru->w_hh, H, 1, gru->b_hh, map);
  g_free (map);
  if (!ok) {
    cpu_panels_clear (&g->ih);
    cpu_panels_clear (&g->hh);
    g_free (g);
    return FALSE;
  }
  gru->priv = g;
  return TRUE;
}

void
cpu_gru_free (AffectBackend *be, AffectGru *gru)
{
  CpuGru *g = gru->priv;

  if (g != NULL) {
    cpu_panels_clear (&g->ih);
    cpu_panels_clear (&g->hh);
    g_free (g);
  }
  gru->priv = NULL;
}

/* States of the tasks of the split-units mode: free, being computed (by
 * one thread or more), being published (copied into the shared buffers by
 * the first thread that finished it), done. */
enum { TASK_FREE, TASK_BUSY, TASK_PUBLISH, TASK_DONE };

typedef struct {
  const CpuGru *g;
  PanelsRunFunc panels;
  GruGatesFunc gates;
  GruStepFunc step;
  const float *x, *h0;
  float *y;
  int B, T, D, H;
  gsize npw, hpw;       /* packed gate columns, padded state */
  int parts;            /* threads taking part */
  gboolean split_units; /* few sequences: tasks of one hidden block */
  int tb;               /* steps per block of input projections */
  float *ws;
  gsize ws_part; /* floats of scratch per part */
  /* whole sequences: chunks taken in turn */
  int chunk, n_chunks;
  gint next_chunk;
  /* split units: gx [T][B][npw] shared, task states */
  float *gx;
  gint *proj_state;            /* [task] */
  gint *step_state;            /* [step][task] */
  gint started[GRU_MAX_PARTS]; /* a part has begun */
} GruJob;

/* ---- whole sequences --------------------------------------------------- */

/* Sequences [c0, c0 + cb) of a chunk, every hidden block, with this part's
 * scratch: gx [tb][cb][npw], two padded states [cb][hpw]
 * (the state lives in y itself when H is a multiple of CPU_PANEL). */
static void
gru_chunk (GruJob *j, int tid, int c0, int cb)
{
  const CpuGru *g = j->g;
  const int H = j->H, T = j->T, D = j->D, np = 3 * g->nb;
  const gsize npw = j->npw, hpw = j->hpw;
  float *gx = j->ws + (gsize)tid * j->ws_part;
  float *hb[2];
  int cur = 0;

  hb[0] = gx + (gsize)j->chunk * j->tb * npw;
  hb[1] = hb[0] + (gsize)j->chunk * hpw;
  if (j->h0) {
    for (int i = 0; i < cb; i++) {
      memcpy (hb[0] + (gsize)i * hpw, j->h0 + (gsize)(c0 + i) * H,
          sizeof (float) * H);
      memset (hb[0] + (gsize)i * hpw + H, 0, sizeof (float) * (hpw - H));
    }
  }
  for (int t0 = 0; t0 < T; t0 += j->tb) {
    const int tn = MIN (j->tb, T - t0);

    /* gx[tt][i] = x[c0 + i][t0 + tt] W_ihᵀ + b_ih (time-major: a step
     * reads one contiguous block) */
    for (int i = 0; i < cb; i++)
      j->panels (j->x + ((gsize)(c0 + i) * T + t0) * D, D, tn, D, g->ih.w,
          g->ih.bias, 0, np, (int)npw, gx + (gsize)i * npw, (gsize)cb * npw);

    for (int tt = 0; tt < tn; tt++) {
      const int t = t0 + tt;
      /* The state: y's rows themselves when H fills the blocks (no copy),
       * else padded buffers copied to y. */
      const gboolean in_y = H == (int)hpw;
      const float *hprev = (t > 0 || j->h0) ? hb[cur] : NULL;
      float *hnext = hb[cur ^ 1];
      gsize ldp = hpw, ldn = hpw;

      if (in_y) {
        hnext = j->y + ((gsize)c0 * T + t) * H;
        ldn = (gsize)T * H;
        if (t > 0) {
          hprev = hnext - H;
          ldp = (gsize)T * H;
        }
      }
      if (hprev) {
        /* The product h W_hhᵀ + b_hh and the gates, block by block
         * (gru_step ()). */
        j->step (cb, H, g->nb, hprev, ldp, g->hh.w, g->hh.bias,
            gx + (gsize)tt * cb * npw, npw, hnext, ldn);
      } else {
        /* From the zero state: gh = b_hh (the same bits: the product
         * would add only zeros to the bias). */
        for (int i = 0; i < cb; i++)
          j->gates (0, g->nb, gx + ((gsize)tt * cb + i) * npw, g->hh.bias, NULL,
              hnext + (gsize)i * ldn);
      }
      if (!in_y)
        for (int i = 0; i < cb; i++)
          memcpy (j->y + ((gsize)(c0 + i) * T + t) * H, hnext + (gsize)i * hpw,
              sizeof (float) * H);
      cur ^= 1;
    }
  }
}

static void
gru_sequences (GruJob *j, int tid)
{
  for (;;) {
    const int c = g_atomic_int_add (&j->next_chunk, 1);
    const int c0 = c * j->chunk;

    if (c >= j->n_chunks)
      break;
    gru_chunk (j, tid, c0, MIN (j->chunk, j->B - c0));
  }
}

/* ---- split units ------------------------------------------------------- */

/* A task covers GRU_TASK_BLOCKS hidden blocks: the input projections of
 * those blocks for all steps, or their units at one step. The projections
 * of all steps are kept (gx [T][B][npw]), so that a thread late on a task
 * never reads a buffer the others reuse. */
#define GRU_TASK_BLOCKS 2

/* The hidden blocks [*b0, *b1) of task @q. */
static void
gru_task_blocks (const GruJob *j, int q, int *b0, int *b1)
{
  *b0 = q * GRU_TASK_BLOCKS;
  *b1 = MIN (j->g->nb, *b0 + GRU_TASK_BLOCKS);
}

/* Scratch of one part: gh [B][w], h' [B][CPU_PANEL GRU_TASK_BLOCKS], a
 * padded state [CPU_PANEL GRU_TASK_BLOCKS], projections [B][T][w], with w
 * = 3 CPU_PANEL GRU_TASK_BLOCKS. */
static gsize
gru_units_scratch (int B, int T)
{
  const gsize w = (gsize)3 * CPU_PANEL * GRU_TASK_BLOCKS;
  const gsize u = (gsize)CPU_PANEL * GRU_TASK_BLOCKS;

  return (gsize)B * w + (gsize)B * u + u + (gsize)B * T * w;
}

/* Projection task @q: its columns of gx for every sequence and step, in
 * @tid's scratch. */
static float *
gru_proj_compute (GruJob *j, int tid, int q)
{
  const CpuGru *g = j->g;
  const gsize w = (gsize)3 * CPU_PANEL * GRU_TASK_BLOCKS;
  const gsize u = (gsize)CPU_PANEL * GRU_TASK_BLOCKS;
  float *out = j->ws + (gsize)tid * j->ws_part + (gsize)j->B * (w + u) + u;
  int b0, b1, nw;

  gru_task_blocks (j, q, &b0, &b1);
  nw = 3 * CPU_PANEL * (b1 - b0);
  for (int i = 0; i < j->B; i++)
    j->panels (j->x + (gsize)i * j->T * j->D, j->D, j->T, j->D,
        g->ih.w + (gsize)b0 * 3 * CPU_PANEL * j->D,
        g->ih.bias + b0 * 3 * CPU_PANEL, 0, 3 * (b1 - b0), nw,
        out + (gsize)i * j->T * nw, nw);
  return out;
}

static void
gru_proj_publish (GruJob *j, int q, const float *out)
{
  int b0, b1, nw;

  gru_task_blocks (j, q, &b0, &b1);
  nw = 3 * CPU_PANEL * (b1 - b0);
  for (int i = 0; i < j->B; i++)
    for (int t = 0; t < j->T; t++)
      memcpy (j->gx + ((gsize)t * j->B + i) * j->npw + b0 * 3 * CPU_PANEL,
          out + ((gsize)i * j->T + t) * nw, sizeof (float) * nw);
}

/* Step task (s, @q): its units of y[:, s] for every sequence, from
 * y[:, s - 1] (or h0 or the zero state), in @tid's scratch (h'
 * [B][CPU_PANEL GRU_TASK_BLOCKS]). */
static float *
gru_step_compute (GruJob *j, int tid, int s, int q)
{
  const CpuGru *g = j->g;
  const int H = j->H, T = j->T;
  const gsize w = (gsize)3 * CPU_PANEL * GRU_TASK_BLOCKS;
  const gsize u = (gsize)CPU_PANEL * GRU_TASK_BLOCKS;
  float *gh = j->ws + (gsize)tid * j->ws_part; /* [B][w] */
  float *hn = gh + (gsize)j->B * w;            /* [B][u] */
  float *pad = hn + (gsize)j->B * u;           /* [u] */
  const float *hprev;
  gsize ldh;
  int b0, b1, u0, nu, nw;

  gru_task_blocks (j, q, &b0, &b1);
  u0 = b0 * CPU_PANEL;
  nu = MIN (b1 * CPU_PANEL, H) - u0;
  nw = 3 * CPU_PANEL * (b1 - b0);
  if (s > 0) {
    hprev = j->y + (gsize)(s - 1) * H;
    ldh = (gsize)T * H;
  } else {
    hprev = j->h0;
    ldh = H;
  }
  if (hprev)
    j->panels (hprev, ldh, j->B, H, g->hh.w + (gsize)b0 * 3 * CPU_PANEL * H,
        g->hh.bias + b0 * 3 * CPU_PANEL, 0, 3 * (b1 - b0), nw, gh, w);
  for (int i = 0; i < j->B; i++) {
    const float *gxi
        = j->gx + ((gsize)s * j->B + i) * j->npw + b0 * 3 * CPU_PANEL;
    const float *hp = hprev ? hprev + i * ldh + u0 : NULL;

    if (hp && nu < (b1 - b0) * CPU_PANEL) {
      /* The last, partial block: a padded copy of the state. */
      memset (pad, 0, sizeof (float) * u);
      memcpy (pad, hp, sizeof (float) * nu);
      hp = pad;
    }
    j->gates (0, b1 - b0, gxi,
        hprev ? gh + i * w : g->hh.bias + b0 * 3 * CPU_PANEL, hp, hn + i * u);
  }
  return hn;
}

static void
gru_step_publish (GruJob *j, int s, int q, const float *hn)
{
  const gsize u = (gsize)CPU_PANEL * GRU_TASK_BLOCKS;
  int b0, b1, nu;

  gru_task_blocks (j, q, &b0, &b1);
  nu = MIN (b1 * CPU_PANEL, j->H) - b0 * CPU_PANEL;
  for (int i = 0; i < j->B; i++)
    memcpy (j->y + ((gsize)i * j->T + s) * j->H + b0 * CPU_PANEL, hn + i * u,
        sizeof (float) * nu);
}

static inline void
cpu_relax (void)
{
#if CPU_SIMD_X86
  __builtin_ia32_pause ();
#endif
}

/* Computes task @st (step @s's task @q, or projection task @q when s < 0),
 * which the caller claimed or found late, and publishes the result unless
 * another thread did first: the computation is the same wherever it runs,
 * so either copy is the result. */
static void
gru_run_task (GruJob *j, int tid, gint *st, int s, int q)
{
  float *out
      = s >= 0 ? gru_step_compute (j, tid, s, q) : gru_proj_compute (j, tid, q);

  if (g_atomic_int_compare_and_exchange (st, TASK_BUSY, TASK_PUBLISH)) {
    if (s >= 0)
      gru_step_publish (j, s, q, out);
    else
      gru_proj_publish (j, q, out);
    g_atomic_int_set (st, TASK_DONE);
  }
}

/* How a part waits for the others' tasks: since when it has been waiting
 * in this step, and whether it already took over a task in this call. */
typedef struct {
  gint64 since;
  gboolean stealing;
} GruWait;

/* Waits until task @st of part @owner is done. A task not started is
 * claimed and run here at once when its part has not started at all (not
 * scheduled yet), or after GRU_STEAL_AFTER_US of waiting in this step (its
 * thread is late, descheduled by a busy machine); a task being computed is
 * computed here too after that time (the first result is published). Once
 * this part took over a task, it claims free tasks at once and duplicates
 * busy ones after GRU_DUPLICATE_AFTER_US. */
static void
gru_wait_task (
    GruJob *j, int tid, GruWait *w, gint *st, int owner, int s, int q)
{
  guint spins = 0;
  gint state;

  while ((state = g_atomic_int_get (st)) != TASK_DONE) {
    gboolean late = w->stealing && state == TASK_FREE;

    if (state == TASK_FREE && !g_atomic_int_get (&j->started[owner]))
      late = TRUE;
    if (!late && ++spins % 64 == 0) {
      const gint64 now = g_get_monotonic_time ();
      if (w->since == 0)
        w->since = now;
      late = now - w->since
             > (w->stealing ? GRU_DUPLICATE_AFTER_US : GRU_STEAL_AFTER_US);
    }
    if (late && state == TASK_FREE) {
      if (g_atomic_int_compare_and_exchange (st, TASK_FREE, TASK_BUSY)) {
        w->stealing = TRUE;
        gru_run_task (j, tid, st, s, q);
      }
    } else if (late && state == TASK_BUSY) {
      w->stealing = TRUE;
      gru_run_task (j, tid, st, s, q);
    } else {
      cpu_relax ();
    }
  }
}

/* Each part owns a range of tasks: it projects their inputs, then step by
 * step computes their units and waits for the other tasks of the step (the
 * next step reads the whole state). A thread that waits too long for
 * another's task does it itself (gru_wait_task ()), so that a descheduled
 * thread does not hold up the others. */
static void
gru_units (GruJob *j, int tid)
{
  const int nq = (j->g->nb + GRU_TASK_BLOCKS - 1) / GRU_TASK_BLOCKS;
  const int q0 = nq * tid / j->parts, q1 = nq * (tid + 1) / j->parts;
  GruWait w = { 0, FALSE };

  g_atomic_int_set (&j->started[tid], 1);
  for (int q = q0; q < q1; q++)
    if (g_atomic_int_compare_and_exchange (
            &j->proj_state[q], TASK_FREE, TASK_BUSY))
      gru_run_task (j, tid, &j->proj_state[q], -1, q);
  for (int s = 0; s < j->T; s++) {
    gint *st = j->step_state + (gsize)s * nq;

    w.since = 0;
    for (int q = q0; q < q1; q++) {
      if (g_atomic_int_get (&st[q]) != TASK_FREE
          || !g_atomic_int_compare_and_exchange (&st[q], TASK_FREE, TASK_BUSY))
        continue;
      gru_wait_task (j, tid, &w, &j->proj_state[q], tid, -1, q);
      gru_run_task (j, tid, &st[q], s, q);
    }
    for (int i = 0; i < nq; i++) {
      const int q = (q1 + i) % nq; /* the others' tasks first */
      int owner = 0;

      while (nq * (owner + 1) / j->parts <= q)
        owner++;

      if (g_atomic_int_get (&st[q]) != TASK_DONE) {
        gru_wait_task (j, tid, &w, &j->proj_state[q], owner, -1, q);
        gru_wait_task (j, tid, &w, &st[q], owner, s, q);
      }
    }
  }
}

static void
gru_range (gpointer data, gsize start, gsize end, int tid)
{
  GruJob *j = data;

  for (gsize i = start; i < end; i++) {
    if (j->split_units)
      gru_units (j, (int)i);
    else
      gru_sequences (j, (int)i);
  }
}

void
cpu_gru_forward (AffectBackend *be, AffectGru *gru, const AffectTensor *x,
    const AffectTensor *h0, AffectTensor *y)
{
  CpuBackend *cpu = be->priv;
  const CpuGru *g = gru->priv;
  const double macs = 3.0 * x->n * x->w * gru->hidden_size
                      * ((double)gru->input_size + gru->hidden_size);
  GruJob j = { 0 };
  int threads, nq;
  gsize n_ws, n_gx = 0;
  float *ws;

  j.g = g;
  j.panels = CPU_SIMD_PICK (panels_run);
  j.gates = CPU_SIMD_PICK (gru_gates);
  j.step = CPU_SIMD_PICK (gru_step);
  j.x = x->data;
  j.h0 = h0 ? h0->data : NULL;
  j.y = y->data;
  j.B = x->n;
  j.T = x->w;
  j.D = gru->input_size;
  j.H = gru->hidden_size;
  j.npw = (gsize)3 * g->nb * CPU_PANEL;
  j.hpw = (gsize)g->nb * CPU_PANEL;
  j.tb = MIN (GRU_TIME_BLOCK, j.T);

  threads = cpu_begin (be);
  if (macs < GRU_MIN_PARALLEL_MACS)
    threads = 1;
  /* Split units keeps the projections of all steps (so that a thread
   * late on a task never reads a buffer that the others reuse). */
  nq = (g->nb + GRU_TASK_BLOCKS - 1) / GRU_TASK_BLOCKS;
  j.split_units = threads > 1 && j.B < 3 * threads && nq > 1
                  && (double)j.B * j.T * j.npw <= GRU_SPLIT_MAX_FLOATS;
  if (j.split_units) {
    /* Few sequences: hidden blocks per thread, synchronised per step. */
    j.parts = MIN (MIN (threads, nq), GRU_MAX_PARTS);
    j.tb = j.T;
    j.ws_part = gru_units_scratch (j.B, j.T);
    n_gx = (gsize)j.B * j.T * j.npw;
    j.proj_state = g_new0 (gint, nq);
    j.step_state = g_new0 (gint, (gsize)j.T * nq);
  } else {
    /* Whole sequences, in chunks that the threads take in turn. */
    j.parts = MIN (threads, j.B);
    j.chunk = MIN (GRU_CHUNK, (j.B + j.parts - 1) / j.parts);
    j.n_chunks = (j.B + j.chunk - 1) / j.chunk;
    /* chunks of equal size (no small remainder) */
    j.chunk = (j.B + j.n_chunks - 1) / j.n_chunks;
    /* about GRU_PROJ_ROWS rows of projections per block of steps */
    j.tb = MIN (j.T, MAX (GRU_TIME_BLOCK / 2, GRU_PROJ_ROWS / j.chunk));
    j.ws_part = (gsize)j.chunk * ((gsize)j.tb * j.npw + 2 * j.hpw);
  }
  /* Which way the work is shared (the backend tests look for this line
   * to check that their cases take both ways). */
  if (j.parts > 1)
    g_debug ("cpu backend: GRU of %d sequences x %d steps, %d units: %s, "
             "%d parts",
        j.B, j.T, j.H, j.split_units ? "split units" : "sequence chunks",
        j.parts);
  /* 64-byte aligned pieces. */
  j.ws_part = (j.ws_part + 15) & ~(gsize)15;
  n_gx = (n_gx + 15) & ~(gsize)15;
  n_ws = n_gx + j.ws_part * j.parts + 16;
  ws = cpu_workspace (cpu, n_ws);
  if (ws == NULL) {
    g_critical ("cpu backend: out of memory for a GRU over %d sequences", j.B);
  } else {
    ws = (float *)(((guintptr)ws + 63) & ~(guintptr)63);
    j.gx = ws;
    j.ws = ws + n_gx;
    cpu_parallel_for (be, (gsize)j.parts, 1, gru_range, &j);
  }
  g_free (j.proj_state);
  g_free (j.step_state);
  cpu_end (be);
}

/* ---- small matrix products --------------------------------------------- */

/* The matmul entry of the table. Products whose b matrix is small (at most
 * SMALL_MM_MAX_B floats: it stays in cache) run on the kernels of
 * cpu-gru-kernels.h, row by row; with b transposed only for few rows
 * (dot products). Those are the attention products of the fusion network
 * (a handful of rows per clip or per head), where a GEMM library spends
 * more on its fixed cost per call than on the product (oneDNN: 1.4 us for
 * 1 × 32 · 32 × 256, 9.5 us for 8 × 256 · (32 × 256)ᵀ; here 0.3 and 1.5).
 * Every row of y is computed from its row of op(a) alone, so results do not
 * depend on the batch or on the threads. Products of at most
 * SMALL_MM_STREAM_MAX_M rows take that path whatever the size of b (a
 * decoder step's attention over a 1500-frame window: b is read once, row
 * after row, where a GEMM library would pad the row to a block and repack
 * b at every call). Anything else goes to cpu_matmul () (cpu-transformer.c). */
#define SMALL_MM_MAX_B 65536
#define SMALL_MM_NT_MAX_M 16
#define SMALL_MM_STREAM_MAX_M 4
/* Multiply-adds per chunk of work given to a thread of the pool. */
#define SMALL_MM_GRAIN_MACS (1024.0 * 1024.0)

typedef struct {
  const AffectMatView *a, *b, *y;
  gboolean ta, tb;
  int m, n, k, batch1;
  int rows_per_unit, units_per_matrix;
  float alpha, beta;
  MmNnFunc nn;
  MmNtFunc nt;
} SmallMmJob;

static void
small_mm_range (gpointer data, gsize start, gsize end, int tid)
{
  const SmallMmJob *j = data;

  for (gsize u = start; u < end; u++) {
    const gsize idx = u / (gsize)j->units_per_matrix;
    const int r0 = (int)(u % (gsize)j->units_per_matrix) * j->rows_per_unit;
    const int rows = MIN (j->rows_per_unit, j->m - r0);
    const gsize i = idx / (gsize)j->batch1, l = idx % (gsize)j->batch1;
    const float *a = j->a->t->data + j->a->offset + i * j->a->stride[0]
                     + l * j->a->stride[1];
    const float *b = j->b->t->data + j->b->offset + i * j->b->stride[0]
                     + l * j->b->stride[1];
    float *y = j->y->t->data + j->y->offset + i * j->y->stride[0]
               + l * j->y->stride[1] + (gsize)r0 * j->y->ld;

    a += j->ta ? (gsize)r0 : (gsize)r0 * j->a->ld;
    /* The next matrix's b (weights or a GRU's outputs, rarely in cache) is
     * fetched into L2 while this one is computed (unless this one is too
     * small to hide it). */
    if (u + 1 < end && (u + 1) % (gsize)j->units_per_matrix == 0 && rows >= 4) {
      const gsize i1 = (idx + 1) / (gsize)j->batch1;
      const gsize l1 = (idx + 1) % (gsize)j->batch1;
      const float *b1 = j->b->t->data + j->b->offset + i1 * j->b->stride[0]
                        + l1 * j->b->stride[1];
      const int b_rows = j->tb ? j->n : j->k, b_cols = j->tb ? j->k : j->n;

      for (int r = 0; r < b_rows; r++)
        for (int c = 0; c < b_cols; c += 32)
          __builtin_prefetch (b1 + (gsize)r * j->b->ld + c, 0, 2);
    }
    if (j->tb)
      j->nt (rows, j->n, j->k, a, j->a->ld, b, j->b->ld, y, j->y->ld, j->alpha,
          j->beta);
    else
      j->nn (rows, j->n, j->k, a, j->a->ld, j->ta, b, j->b->ld, y, j->y->ld,
          j->alpha, j->beta);
  }
}

void
cpu_matmul_dispatch (AffectBackend *be, const AffectMatView *a,
    gboolean trans_a, const AffectMatView *b, gboolean trans_b,
    const AffectMatView *y, int m, int n, int k, int batch0, int batch1,
    float alpha, float beta)
{
  const gsize count = (gsize)batch0 * batch1;
  SmallMmJob j = { a, b, y, trans_a, trans_b, m, n, k, batch1, m, 1, alpha,
    beta, CPU_SIMD_PICK (mm_nn), CPU_SIMD_PICK (mm_nt) };
  double unit_macs;
  int threads;

  if ((trans_a && trans_b)
      || ((gsize)k * (gsize)n > SMALL_MM_MAX_B && m > SMALL_MM_STREAM_MAX_M)
      || (trans_b && m > SMALL_MM_NT_MAX_M)) {
    cpu_matmul (
        be, a, trans_a, b, trans_b, y, m, n, k, batch0, batch1, alpha, beta);
    return;
  }
  threads = cpu_begin (be);
  if (count < (gsize)threads && !trans_b && m >= 16) {
    /* Few large matrices: blocks of rows. */
    j.rows_per_unit = MAX (8, (m + threads - 1) / threads);
    j.units_per_matrix = (m + j.rows_per_unit - 1) / j.rows_per_unit;
  }
  unit_macs = MAX ((double)j.rows_per_unit * n * k, 1.0);
  cpu_parallel_for (be, count * j.units_per_matrix,
      (gsize)ceil (SMALL_MM_GRAIN_MACS / unit_macs), small_mm_range, &j);
  cpu_end (be);
}
