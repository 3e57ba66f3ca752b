#!/usr/bin/env bash
# gst-affect — affect-fetch-models
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Fetches the pretrained face networks (npm package @vladmandic/face-api,
# pinned version and integrity), unpacks its model/ and demo/ folders into
# the gst-affect cache and converts every weights manifest to safetensors.
set -euo pipefail

PACKAGE="@vladmandic/face-api"
VERSION="1.7.15"
INTEGRITY="sha512-WDMmK3CfNLo8jylWqMoQgf4nIst3M0fzx1dnac96wv/dvMTN4DxC/Pq1DGtduDk1lktCamQ3MIDXFnvrdHTXDw=="
MODELS=(tiny_face_detector_model ssd_mobilenetv1_model face_landmark_68_model
  face_landmark_68_tiny_model face_expression_model face_recognition_model
  age_gender_model)
SAMPLES=(sample1 sample2 sample3 sample4 sample5 sample6)

prog=$(basename "$0")
script_dir=$(cd "$(dirname "$0")" && pwd)

usage() {
  cat <<EOF
Usage: $prog [OPTIONS]

Downloads ${PACKAGE}@${VERSION} with 'npm pack' (needs npm and node), checks
its sha512 integrity, unpacks model/ and demo/ into the cache and converts the
TensorFlow.js weights to safetensors with affect-convert-tfjs.

Cache: \${AFFECT_CACHE_DIR:-\${XDG_CACHE_HOME:-\$HOME/.cache}/gst-affect}
  face-api-${VERSION}/model/*     the package's weights (tfjs format)
  face-api-${VERSION}/demo/*      the package's demo photos
  models/<name>.safetensors      the converted weights

Once the cache is complete the script works offline and does nothing more
than check it (a stamp file records the verified integrity).

Options:
  --cache-dir DIR     use DIR as the cache (default above)
  --converter PATH    the affect-convert-tfjs program to use (otherwise
                      \$AFFECT_CONVERT_TFJS, the one next to this script,
                      <dir of this script>/tools/, then PATH)
  --force             convert again even if the safetensors files exist
  -h, --help          show this help
EOF
}

die() {
  echo "$prog: error: $*" >&2
  exit 1
}

info() {
  echo "$prog: $*"
}

cache_dir="${AFFECT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gst-affect}"
converter="${AFFECT_CONVERT_TFJS:-}"
force=0

while [ $# -gt 0 ]; do
  case "$1" in
    --cache-dir)
      [ $# -ge 2 ] || die "--cache-dir needs a folder"
      cache_dir="$2"
      shift 2
      ;;
    --cache-dir=*)
      cache_dir="${1#*=}"
      shift
      ;;
    --converter)
      [ $# -ge 2 ] || die "--converter needs a path"
      converter="$2"
      shift 2
      ;;
    --converter=*)
      converter="${1#*=}"
      shift
      ;;
    --force)
      force=1
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      usage >&2
      die "unknown argument '$1'"
      ;;
  esac
done

[ -n "$cache_dir" ] || die "empty cache folder"

find_converter() {
  if [ -n "$converter" ]; then
    [ -x "$converter" ] || die "converter '$converter' is not an executable file"
    return
  fi
  local c
  for c in "$script_dir/affect-convert-tfjs" "$script_dir/../tools/affect-convert-tfjs"; do
    if [ -x "$c" ]; then
      converter="$c"
      return
    fi
  done
  if c=$(command -v affect-convert-tfjs 2>/dev/null); then
    converter="$c"
    return
  fi
  die "affect-convert-tfjs not found: build gst-affect (it is built in <builddir>/models/tools/) and pass --converter PATH or set AFFECT_CONVERT_TFJS"
}

compute_integrity() {
  if command -v openssl >/dev/null 2>&1; then
    printf 'sha512-%s' "$(openssl dgst -sha512 -binary "$1" | base64 -w0)"
  else
    node -e 'const c=require("crypto"),f=require("fs");process.stdout.write("sha512-"+c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$1"
  fi
}

pkg_dir="$cache_dir/face-api-$VERSION"
stamp="$pkg_dir/.verified"

package_complete() {
  [ -f "$stamp" ] || return 1
  [ "$(cat "$stamp")" = "$INTEGRITY" ] || return 1
  local m s
  for m in "${MODELS[@]}"; do
    [ -f "$pkg_dir/model/$m-weights_manifest.json" ] || return 1
    [ -f "$pkg_dir/model/$m.bin" ] || return 1
  done
  for s in "${SAMPLES[@]}"; do
    [ -f "$pkg_dir/demo/$s.jpg" ] || return 1
  done
  return 0
}

fetch_package() {
  command -v npm >/dev/null 2>&1 || die "npm is needed to download ${PACKAGE}@${VERSION} (apt-get install npm)"
  command -v tar >/dev/null 2>&1 || die "tar is needed"
  mkdir -p "$cache_dir"
  local tmp
  tmp=$(mktemp -d "$cache_dir/.fetch.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" EXIT

  info "downloading ${PACKAGE}@${VERSION} with npm pack"
  (cd "$tmp" && npm pack "${PACKAGE}@${VERSION}" --silent >npm-pack.out) ||
    die "npm pack ${PACKAGE}@${VERSION} failed (is the npm registry reachable?)"
  local tgz
  tgz=$(tail -n 1 "$tmp/npm-pack.out")
  [ -f "$tmp/$tgz" ] || die "npm pack did not produce a tarball (got '$tgz')"

  local got
  got=$(compute_integrity "$tmp/$tgz")
  if [ "$got" != "$INTEGRITY" ]; then
    die "integrity mismatch for $tgz: expected $INTEGRITY, got $got"
  fi
  info "integrity verified ($INTEGRITY)"

  mkdir -p "$tmp/unpack"
  tar -xzf "$tmp/$tgz" -C "$tmp/unpack" package/model package/demo ||
    die "cannot unpack model/ and demo/ from $tgz"

  # Replace only what this script owns: model/, demo/ and the stamp.
  mkdir -p "$pkg_dir"
  rm -rf "$pkg_dir/model" "$pkg_dir/demo" "$stamp"
  mv "$tmp/unpack/package/model" "$pkg_dir/model"
  mv "$tmp/unpack/package/demo" "$pkg_dir/demo"
  printf '%s' "$INTEGRITY" >"$stamp"
  rm -rf "$tmp"
  trap - EXIT
  info "unpacked into $pkg_dir"
}

if package_complete; then
  info "${PACKAGE}@${VERSION} already in $pkg_dir (verified), not downloading"
else
  fetch_package
fi

find_converter
mkdir -p "$cache_dir/models"
for m in "${MODELS[@]}"; do
  out="$cache_dir/models/$m.safetensors"
  manifest="$pkg_dir/model/$m-weights_manifest.json"
  if [ "$force" = 0 ] && [ -f "$out" ] && [ "$out" -nt "$manifest" ] &&
    [ "$out" -nt "$converter" ]; then
    info "$m.safetensors up to date"
    continue
  fi
  "$converter" --quiet "$manifest" "$out" || die "converting $manifest failed"
  info "converted $m -> $out"
done
info "done: models in $cache_dir/models"
