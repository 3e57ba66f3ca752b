/* gst-affect — models/asr
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Time accounting for the Whisper recogniser (affect-whisper.h's profile):
 * the wall-clock time and the CPU time of the whole process (every thread,
 * so the pool's workers count, spinning included) spent in a part, and how
 * many times the part ran. Two clock reads per part: cheap enough to stay
 * on all the time (one decoder step is milliseconds).
 */

#ifndef __AFFECT_WHISPER_PROFILE_H__
#define __AFFECT_WHISPER_PROFILE_H__

#include <glib.h>
#include <time.h>

G_BEGIN_DECLS

typedef struct {
  double wall, cpu; /* seconds */
  guint64 count;
} AffectWhisperTime;

/* A start mark: take one with affect_whisper_clock_start(), then add the
 * time since it with affect_whisper_time_add(). */
typedef struct {
  gint64 wall_us;
  double cpu;
} AffectWhisperClock;

static inline double
affect_whisper_cpu_seconds (void)
{
  struct timespec ts;

  if (clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
    return 0.0;
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline void
affect_whisper_clock_start (AffectWhisperClock *c)
{
  c->wall_us = g_get_monotonic_time ();
  c->cpu = affect_whisper_cpu_seconds ();
}

static inline void
affect_whisper_time_add (AffectWhisperTime *t, const AffectWhisperClock *start)
{
  t->wall += (double)(g_get_monotonic_time () - start->wall_us) * 1e-6;
  t->cpu += affect_whisper_cpu_seconds () - start->cpu;
  t->count++;
}

G_END_DECLS

#endif /* __AFFECT_WHISPER_PROFILE_H__ */
