#!/usr/bin/env bash
# gst-affect — golden test inputs and fixtures from the original face-api
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Default mode (used in CI, ~15 s): installs the pinned jpeg-js and pngjs
# (npm, in a scratch folder under the cache, never in the repository), then
# decodes the face-api demo photos sample1..6.jpg with jpeg-js and writes
# them as 8-bit RGB PNGs to $CACHE/test-inputs/sampleN.png.
#
# --full additionally installs @vladmandic/face-api, @tensorflow/tfjs and
# @tensorflow/tfjs-backend-wasm (~330 MB in the scratch folder);
# --golden implies --full and then regenerates sampleN.json and
# tensors-sample1.json in this folder with make-golden.mjs (several minutes).
set -euo pipefail

prog=$(basename "$0")
here=$(cd "$(dirname "$0")" && pwd)

usage() {
  cat <<EOF
Usage: $prog [--full] [--golden] [--force] [--only N[,N...]]

  (no option)  install jpeg-js + pngjs and write \$CACHE/test-inputs/sample1..6.png
  --full       also install face-api + tfjs (needed by make-golden.mjs)
  --golden     --full, then run make-golden.mjs (rewrites the JSON files in
               $here)
  --force      rewrite the PNGs even if they exist
  --only LIST  with --golden: only these samples (e.g. 1 or 1,3)

Cache: CACHE=\${AFFECT_CACHE_DIR:-\${XDG_CACHE_HOME:-\$HOME/.cache}/gst-affect}
  face-api-1.7.15/demo/sampleN.jpg  input photos (from models/face/fetch-face-models.sh)
  node-golden/                      scratch npm folder (\$GOLDEN_NODE_DIR overrides)
  test-inputs/sampleN.png           output
EOF
}

die() {
  echo "$prog: error: $*" >&2
  exit 1
}

info() {
  echo "$prog: $*"
}

full=0
golden=0
force=0
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --full) full=1 ;;
    --golden)
      full=1
      golden=1
      ;;
    --force) force=1 ;;
    --only)
      [ $# -ge 2 ] || die "--only needs a list such as 1,2"
      only="$2"
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
  shift
done

cache="${AFFECT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gst-affect}"
node_dir="${GOLDEN_NODE_DIR:-$cache/node-golden}"
demo="$cache/face-api-1.7.15/demo"
inputs="$cache/test-inputs"
export GOLDEN_NODE_DIR="$node_dir"

command -v node >/dev/null 2>&1 || die "node is needed (apt-get install nodejs)"
command -v npm >/dev/null 2>&1 || die "npm is needed (apt-get install npm)"

for n in 1 2 3 4 5 6; do
  [ -f "$demo/sample$n.jpg" ] ||
    die "$demo/sample$n.jpg is missing: run models/face/fetch-face-models.sh (affect-fetch-models) first"
done

# True when node_modules/<name> exists with exactly the version pinned in
# package.json (dependencies or devDependencies).
have_pinned() {
  node -e '
    const fs = require("fs"), path = require("path");
    const [dir, pkgFile, name] = process.argv.slice(1);
    const pkg = JSON.parse(fs.readFileSync(pkgFile, "utf8"));
    const want = (pkg.dependencies || {})[name] || (pkg.devDependencies || {})[name];
    let got = null;
    try {
      got = JSON.parse(fs.readFileSync(path.join(dir, "node_modules", name, "package.json"), "utf8")).version;
    } catch (e) {}
    process.exit(want && got === want ? 0 : 1);
  ' "$node_dir" "$here/package.json" "$1"
}

need_install=0
for p in jpeg-js pngjs; do
  have_pinned "$p" || need_install=1
done
if [ "$full" = 1 ]; then
  for p in @vladmandic/face-api @tensorflow/tfjs @tensorflow/tfjs-backend-wasm; do
    have_pinned "$p" || need_install=1
  done
fi
if ! cmp -s "$here/package-lock.json" "$node_dir/package-lock.json"; then
  need_install=1
fi

if [ "$need_install" = 1 ]; then
  mkdir -p "$node_dir"
  cp "$here/package.json" "$here/package-lock.json" "$node_dir/"
  omit=(--omit=dev)
  what="jpeg-js + pngjs"
  if [ "$full" = 1 ]; then
    omit=()
    what="jpeg-js + pngjs + face-api + tfjs"
  fi
  info "installing $what into $node_dir (npm ci)"
  (cd "$node_dir" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error "${omit[@]}") ||
    die "npm ci failed in $node_dir (is the npm registry reachable?)"
else
  info "pinned packages already installed in $node_dir"
fi

missing_png=0
for n in 1 2 3 4 5 6; do
  [ -f "$inputs/sample$n.png" ] || missing_png=1
done
if [ "$force" = 1 ] || [ "$missing_png" = 1 ]; then
  node "$here/make-inputs.mjs" --demo "$demo" --out "$inputs" --node-dir "$node_dir"
else
  info "PNGs already in $inputs (use --force to rewrite them)"
fi

if [ "$golden" = 1 ]; then
  args=(--inputs "$inputs" --models "$cache/face-api-1.7.15/model" --out "$here" --node-dir "$node_dir")
  if [ -n "$only" ]; then
    args+=(--only "$only")
  fi
  node "$here/make-golden.mjs" "${args[@]}"
fi
info "done"
