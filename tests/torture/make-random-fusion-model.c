/* gst-affect — tests/torture
 * Copyright (C) 2026 gst-affect developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   make-random-fusion-model OUT.safetensors [SEED]
 *
 * Writes a fusion model with random weights and the plugin's feature sizes
 * (random-fusion-model.h): for tests/bench/soak.sh and manual torture runs.
 * Not installed.
 */
#include <stdio.h>
#include <stdlib.h>

#include "random-fusion-model.h"

int
main (int argc, char **argv)
{
  GError *err = NULL;
  guint32 seed = 1;

  if (argc < 2 || argc > 3) {
    fprintf (stderr, "usage: %s OUT.safetensors [SEED]\n", argv[0]);
    return 2;
  }
  if (argc == 3)
    seed = (guint32)strtoul (argv[2], NULL, 10);
  if (!affect_test_write_random_fusion_model (argv[1], seed, 8, 32, 64, &err)) {
    fprintf (stderr, "%s: %s\n", argv[1], err->message);
    g_error_free (err);
    return 1;
  }
  return 0;
}
