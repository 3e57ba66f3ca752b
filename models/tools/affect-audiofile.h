/* gst-affect — models/tools
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Audio files for the command-line tools: libsndfile input mixed down to
 * mono, and the windowed-sinc resampler (docs/speech.md).
 */
#ifndef __AFFECT_AUDIOFILE_H__
#define __AFFECT_AUDIOFILE_H__

#include <glib.h>

G_BEGIN_DECLS

/* Reads the whole file (anything libsndfile reads; integer samples scaled
 * to [-1, 1), 16-bit as x / 32768) as mono float (the mean of the
 * channels) at its own rate. NULL and @error when it cannot be read. */
float *affect_audiofile_read_mono (
    const gchar *path, gsize *n, int *rate, int *channels, GError **error);

/* Band-limited resampling by direct evaluation of a Kaiser-windowed sinc
 * (cutoff 0.945 x the lower Nyquist frequency, 24 zero crossings per
 * side). Returns a new array of *n_out = floor(n_in * out / in) samples. */
float *affect_audiofile_resample (
    const float *in, gsize n_in, int in_rate, int out_rate, gsize *n_out);

G_END_DECLS

#endif /* __AFFECT_AUDIOFILE_H__ */
