#!/bin/sh
# gst-affect — word model tokens per second: gst-affect vs PyTorch CPU, same
# model folder, inputs and threads, one after the other in the same run.
#
#   bench-words.sh BUILDDIR PYTHON [THREADS...]
#
# BUILDDIR: a meson build dir (has tests/models/bench-words); PYTHON: an
# interpreter with torch and transformers. Models: all-MiniLM-L6-v2 from the
# cache (models/text/fetch-word-model.sh) and a BERT-base-sized random model that
# bench-words writes into $TMPDIR (about 440 MB, removed at the end).
# Ours uses the default GEMM provider (oneDNN when built with it); with
# BENCH_OPENBLAS=1 each point is also run with AFFECT_GEMM=openblas.
# SPDX-License-Identifier: LGPL-2.1-or-later
set -eu
BUILD=${1:?usage: bench-words.sh BUILDDIR PYTHON [THREADS...]}
PY=${2:?usage: bench-words.sh BUILDDIR PYTHON [THREADS...]}
shift 2
THREADS=${*:-1}
HERE=$(cd "$(dirname "$0")" && pwd)
BENCH="$BUILD/tests/models/bench-words"
CACHE="${AFFECT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gst-affect}"
MINILM="$CACHE/models/all-MiniLM-L6-v2"
SECONDS_PER_RUN=${SECONDS_PER_RUN:-3}
BASE=$(mktemp -d "${TMPDIR:-/tmp}/bench-words-base-XXXXXX")
trap 'rm -rf "$BASE"' EXIT

"$BENCH" --make-random "$BASE"
# REPEAT=N alternates ours and PyTorch N times per point (busy machines:
# compare the best of each side).
for model in "$MINILM" "$BASE"; do
  for t in $THREADS; do
    for seq in ${SEQ_LENS:-16 128}; do
      for rep in $(seq "${REPEAT:-1}"); do
        OPENBLAS_NUM_THREADS=$t "$BENCH" --threads "$t" --seq-len "$seq" \
          --seconds "$SECONDS_PER_RUN" "$model"
        if [ "${BENCH_OPENBLAS:-0}" = 1 ]; then
          AFFECT_GEMM=openblas OPENBLAS_NUM_THREADS=$t "$BENCH" \
            --threads "$t" --seq-len "$seq" --seconds "$SECONDS_PER_RUN" \
            "$model"
        fi
        OMP_NUM_THREADS=$t "$PY" "$HERE/bench-torch.py" --threads "$t" \
          --seq-len "$seq" --seconds "$SECONDS_PER_RUN" "$model" 2>/dev/null
      done
    done
  done
done
