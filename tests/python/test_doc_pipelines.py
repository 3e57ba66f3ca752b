#!/usr/bin/env python3
# gst-affect — tests/python
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every gst-launch-1.0 command printed in the documentation runs.

    python3 tests/python/test_doc_pipelines.py [--list] [--keep] [FILTER]

Reads README.md, examples/README.md and docs/**/*.md (under
AFFECT_TEST_SOURCE_ROOT, default: this checkout), takes every command of a
fenced code block that calls gst-launch-1.0 (continuation lines ending in
a backslash joined; the command may sit in a shell loop or follow
environment assignments), substitutes short inputs and temporary outputs,
runs it and checks that it ends with exit status 0 within the time limit
(a pipeline that hangs fails), that every file sink wrote something and,
when the line finds faces (facecrop), that affectsink wrote faces.

How a line is substituted (the printed line is shown next to what runs):

* Environment assignments before gst-launch-1.0 (GST_DEBUG=...,
  GST_PLUGIN_PATH=...) are dropped: the test sets the plugin path itself.
* Inputs: `filesrc location=X` reads a short clip made once per run
  (Matroska, MJPEG video of a demo photo, 640x480, 25 fps, 2 s, with a
  sine-tone Vorbis audio track), whatever X names (talk.mp4, "$v", CLIP,
  ...); a location ending in .png or .jpg reads the demo photo instead, one
  ending in .i420 / .yuv / .raw a raw I420 640x480 file of the clip's
  frames, one ending in .srt / .vtt a two-cue subtitle file, one ending in
  .wav the spoken clip tests/golden/asr/espeak-fox.wav. 2 s, not
  less: more frames than a default queue holds (1 s, 10 MB), so that a
  tee whose branches stall on each other (plain queues before x264enc)
  hangs here as it would for a user. A camera
  (v4l2src, autovideosrc) becomes `filesrc location=CLIP ! decodebin`.
* Outputs: the location of a sink (filesink, multifilesink, affectsink,
  ...) is kept as a relative path inside a temporary folder (shell
  variables lose their `$`, absolute paths their leading `/`); the folder
  of a multifilesink pattern is created. Display sinks (autovideosink,
  xvimagesink, ximagesink, glimagesink, waylandsink, fpsdisplaysink,
  autoaudiosink) become `fakesink`.
* Fusion models: `model=` (and `valence-model=`, `arousal-model=`) of
  affectfuse name a model the user trains; they get a small model trained
  once per run with tests/e2e/e2e_train.py --dims plugin (AFFECT_TRAIN_PYTHON,
  PyTorch; about 20 s). Without it these lines are skipped, unless
  AFFECT_REQUIRE_TORCH=1 (then they fail).
* `...` (or `…`) stands for the elements the text leaves out. At the start of
  a pipeline it becomes the source (`filesrc location=CLIP ! decodebin !
  videoconvert`) followed by those of facecrop, affectfeatures, affectfuse
  that the element after it needs (affectfeatures needs facecrop, affectfuse
  both, anything else all three); inside a pipeline, the ones of the three
  not yet upstream (or identity); at the end of a branch (no `!` after it),
  `videoconvert ! fakesink`.

A line that needs an element which is not installed (x264enc without
gstreamer1.0-plugins-ugly, ...) is skipped with a message naming it; an
element of this plugin that is missing fails. Lines that run the face
analysis need the face models and the demo photos (affect-fetch-models,
tests/golden/face-api/prepare.sh): without them they are skipped, unless
AFFECT_REQUIRE_MODELS=1 (then they fail).

Environment: GST_PLUGIN_PATH_1_0 (the plugin built here), the system
plugins as usual (GST_PLUGIN_SYSTEM_PATH_1_0); AFFECT_DOC_TIMEOUT seconds
per line (default 300).
"""

import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("AFFECT_TEST_SOURCE_ROOT",
                     os.path.normpath(os.path.join(HERE, "..", "..")))
TIMEOUT = int(os.environ.get("AFFECT_DOC_TIMEOUT", "300"))

OUR_ELEMENTS = {"facecrop", "affectfeatures", "affectfuse", "affectoverlay",
                "affectsink", "affecttranscribe"}
ANALYSIS = ["facecrop", "affectfeatures", "affectfuse"]
DISPLAY_SINKS = {"autovideosink", "xvimagesink", "ximagesink", "glimagesink",
                 "waylandsink", "fpsdisplaysink", "autoaudiosink",
                 "kmssink", "fbdevsink"}
CAMERAS = {"v4l2src", "autovideosrc"}
MODEL_PROPS = ("model=", "valence-model=", "arousal-model=")
FACE_MODELS = ["tiny_face_detector_model", "face_landmark_68_model",
               "face_expression_model", "face_recognition_model"]
ELLIPSIS = ("...", "\u2026")
CLIP_FRAMES = 50


def cache_dir():
    c = os.environ.get("AFFECT_CACHE_DIR")
    if c:
        return c
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache")
    return os.path.join(base, "gst-affect")


# ---------------------------------------------------------------------------
# Extraction
# ---------------------------------------------------------------------------


def doc_files():
    files = [os.path.join(SRC, "README.md"),
             os.path.join(SRC, "examples", "README.md")]
    files += sorted(glob.glob(os.path.join(SRC, "docs", "**", "*.md"),
                              recursive=True))
    return [f for f in files if os.path.exists(f)]


def extract(path):
    """(line number, command text) of every gst-launch-1.0 command in the
    fenced code blocks of @path."""
    out = []
    in_block = False
    pending, start = None, 0
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for no, raw in enumerate(lines, 1):
        stripped = raw.strip()
        if stripped.startswith("```"):
            in_block = not in_block
            pending = None
            continue
        if not in_block:
            continue
        if pending is not None:
            pending += " " + stripped
        elif "gst-launch-1.0" in stripped and not stripped.startswith("#"):
            pending, start = stripped, no
        else:
            continue
        if pending.endswith("\\"):
            pending = pending[:-1].rstrip()
            continue
        out.append((start, pending))
        pending = None
    return out


# ---------------------------------------------------------------------------
# Substitution
# ---------------------------------------------------------------------------


def is_element(tok):
    return (tok not in ("!",) + ELLIPSIS and "=" not in tok and "/" not in tok
            and not re.match(r"^[\w-]*\.[\w%]*$", tok))


class Skip(Exception):
    """The line cannot run here for a reason that is not an error."""


class SkipModels(Skip):
    """Face models or demo photos missing: an error with
    AFFECT_REQUIRE_MODELS=1."""


class Inputs:
    """The short inputs, made once per run in @tmp."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.photo = os.path.join(cache_dir(), "test-inputs", "sample2.png")
        self._clip = self._raw = self._srt = self._model = None
        self.model_error = None

    def need_photo(self):
        if not os.path.exists(self.photo):
            raise SkipModels("the demo photo %s is missing (run "
                             "tests/golden/face-api/prepare.sh)" % self.photo)
        return self.photo

    def clip(self):
        if self._clip is None:
            photo = self.need_photo()
            path = os.path.join(self.tmp, "inputs", "clip.mkv")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            gst_launch([
                "-q", "filesrc", "location=" + photo, "!", "pngdec", "!",
                "imagefreeze", "num-buffers=%d" % CLIP_FRAMES, "!",
                "videoconvert", "!", "videoscale", "add-borders=true", "!",
                "video/x-raw,width=640,height=480,framerate=25/1,"
                "pixel-aspect-ratio=1/1", "!", "videoconvert", "!",
                "jpegenc", "!", "matroskamux", "name=m", "!", "filesink",
                "location=" + path,
                "audiotestsrc", "wave=sine", "samplesperbuffer=1600",
                "num-buffers=%d" % (CLIP_FRAMES * 16000 // 25 // 1600 + 1),
                "!", "audio/x-raw,rate=16000,channels=1", "!",
                "audioconvert", "!", "vorbisenc", "!", "m."], check=True)
            self._clip = path
        return self._clip

    def raw(self):
        if self._raw is None:
            path = os.path.join(self.tmp, "inputs", "frames.i420")
            gst_launch([
                "-q", "filesrc", "location=" + self.clip(), "!", "decodebin",
                "!", "videoconvert", "!", "video/x-raw,format=I420", "!",
                "filesink", "location=" + path], check=True)
            self._raw = path
        return self._raw

    def speech(self):
        """A short spoken clip (16 kHz mono WAV, committed)."""
        return os.path.join(SRC, "tests", "golden", "asr", "espeak-fox.wav")

    def srt(self):
        if self._srt is None:
            path = os.path.join(self.tmp, "inputs", "talk.srt")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write("1\n00:00:00,000 --> 00:00:00,240\nhello there\n\n"
                        "2\n00:00:00,240 --> 00:00:00,480\nhow are you\n\n")
            self._srt = path
        return self._srt

    def model(self):
        if self._model is not None:
            return self._model
        if self.model_error is not None:
            raise Skip(self.model_error)
        py = os.environ.get("AFFECT_TRAIN_PYTHON")
        why = None
        if not py:
            why = "AFFECT_TRAIN_PYTHON is not set"
        elif subprocess.run([py, "-c", "import torch, numpy, safetensors"],
                            capture_output=True).returncode != 0:
            why = "%s cannot import torch, numpy and safetensors" % py
        if why is None:
            out = os.path.join(self.tmp, "inputs", "fusion")
            r = subprocess.run(
                [py, os.path.join(SRC, "tests", "e2e", "e2e_train.py"),
                 "--dims", "plugin", "--out", out],
                capture_output=True, text=True)
            if r.returncode != 0:
                sys.stdout.write(r.stdout + r.stderr)
                raise RuntimeError("training the fusion model failed")
            self._model = os.path.join(out, "model.safetensors")
            return self._model
        self.model_error = (
            "needs a fusion model and %s (a Python with PyTorch: "
            "models/fusion/setup-train-env.sh)" % why)
        if os.environ.get("AFFECT_REQUIRE_TORCH") == "1":
            raise RuntimeError(self.model_error + ", and AFFECT_REQUIRE_TORCH=1")
        raise Skip(self.model_error)


def expand_ellipsis(tokens):
    out = []
    for i, tok in enumerate(tokens):
        if tok not in ELLIPSIS:
            out.append(tok)
            continue
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if nxt != "!":
            out += ["videoconvert", "!", "fakesink"]
            continue
        following = tokens[i + 2] if i + 2 < len(tokens) else ""
        if following in ANALYSIS:
            need = ANALYSIS[:ANALYSIS.index(following)]
        else:
            need = list(ANALYSIS)
        if not out:
            chain = ["filesrc", "location=CLIP", "!", "decodebin", "!",
                     "videoconvert"]
            for e in need:
                chain += ["!", e]
        else:
            need = [e for e in need if e not in out]
            chain = []
            for e in need or ["identity"]:
                chain += ([] if not chain else ["!"]) + [e]
        out += chain
    return out


def substitute(command, inputs, work):
    """The gst-launch-1.0 arguments for @command."""
    text = command[command.index("gst-launch-1.0"):]
    # a shell loop's "; done" or a pipe to grep ends the command
    text = re.split(r"\s(?:;|\||&&)\s|;\s*done\b", text)[0]
    tokens = shlex.split(text)[1:]
    opts = []
    while tokens and tokens[0].startswith("-") and tokens[0] not in ELLIPSIS:
        opts.append(tokens.pop(0))
    tokens = expand_ellipsis(tokens)

    out = []
    element = None
    for tok in tokens:
        if is_element(tok):
            element = tok
            if tok in CAMERAS:
                out += ["filesrc", "location=" + inputs.clip(), "!",
                        "decodebin"]
                continue
            if tok in DISPLAY_SINKS:
                out.append("fakesink")
                continue
            out.append(tok)
            continue
        if "=" in tok and "/" not in tok.split("=", 1)[0] and element:
            key, val = tok.split("=", 1)
            if element in DISPLAY_SINKS or element in CAMERAS:
                continue
            if key == "location" and element == "filesrc":
                low = val.lower()
                if low.endswith((".png", ".jpg", ".jpeg")):
                    val = inputs.need_photo()
                elif low.endswith((".i420", ".yuv", ".raw")):
                    val = inputs.raw()
                elif low.endswith((".srt", ".vtt")):
                    val = inputs.srt()
                elif low.endswith(".wav"):
                    val = inputs.speech()
                else:
                    val = inputs.clip()
                tok = "location=" + val
            elif key == "location":
                rel = val.replace("$", "").lstrip("/") or "out"
                path = os.path.join(work, rel)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                tok = "location=" + path
            elif element == "affectfuse" and tok.startswith(MODEL_PROPS):
                tok = key + "=" + inputs.model()
        out.append(tok)
    return opts, out


def missing_elements(tokens):
    missing = []
    for tok in tokens:
        if is_element(tok) and tok not in missing and not element_exists(tok):
            missing.append(tok)
    return missing


_exists = {}


def element_exists(name):
    if name not in _exists:
        # not --exists: it also compares the plugin's version (0.x here)
        # with GStreamer's
        _exists[name] = subprocess.run(
            ["gst-inspect-1.0", name], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL).returncode == 0
    return _exists[name]


def gst_launch(args, **kwargs):
    return subprocess.run(["gst-launch-1.0"] + args, **kwargs)


def outputs_of(tokens):
    """The locations the sinks of @tokens write."""
    outs, element = [], None
    for tok in tokens:
        if is_element(tok):
            element = tok
        elif tok.startswith("location=") and element != "filesrc":
            outs.append((element, tok.split("=", 1)[1]))
    return outs


def check_output(element, path, faces):
    """What is wrong with the output of @element at @path (empty: nothing);
    with @faces, an affectsink must have written at least one face."""
    if element == "multifilesink" or "%" in path:
        found = glob.glob(re.sub(r"%0?\d*d", "*", path))
        return "" if found else "%s wrote no file like %s" % (element, path)
    if os.path.isdir(path):
        ok = any(os.path.getsize(os.path.join(path, f)) > 0
                 for f in os.listdir(path))
        return "" if ok else "%s wrote nothing into %s/" % (element, path)
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return "%s wrote nothing to %s" % (element, path)
    if faces and element == "affectsink":
        with open(path, encoding="utf-8") as f:
            text = f.read()
        # jsonl: a face object; csv: a row after the header
        if '"id":' not in text and text.count("\n") < 2:
            return "%s wrote no face to %s" % (element, path)
    return ""


def needs_models(tokens):
    return any(t in ANALYSIS for t in tokens)


def models_missing():
    mdir = os.environ.get("AFFECT_MODEL_DIR") or os.path.join(cache_dir(),
                                                               "models")
    return [m for m in FACE_MODELS
            if not os.path.exists(os.path.join(mdir, m + ".safetensors"))]


def asr_model_found():
    """whisper-tiny.en where affecttranscribe looks by default."""
    dirs = [os.environ.get("AFFECT_MODEL_DIR"),
            os.path.join(cache_dir(), "models")]
    return any(d and os.path.exists(os.path.join(d, "whisper-tiny.en",
                                                 "model.bin")) for d in dirs)


def main(argv):
    # gst-launch-1.0 runs with every installed plugin, as for a user (the
    # suite's environment allows only core, base, good and this plugin)
    os.environ.pop("GST_PLUGIN_LOADING_WHITELIST", None)
    keep = "--keep" in argv
    list_only = "--list" in argv
    filters = [a for a in argv if not a.startswith("--")]
    commands = []
    for path in doc_files():
        for no, cmd in extract(path):
            where = "%s:%d" % (os.path.relpath(path, SRC), no)
            if not filters or any(f in where or f in cmd for f in filters):
                commands.append((where, cmd))
    if list_only:
        for where, cmd in commands:
            print(where, cmd)
        return 0
    if not commands:
        print("FAIL: no gst-launch-1.0 line found under " + SRC)
        return 1
    if shutil.which("gst-launch-1.0") is None:
        print("FAIL: gst-launch-1.0 not found (Debian: gstreamer1.0-tools)")
        return 1
    require_models = os.environ.get("AFFECT_REQUIRE_MODELS") == "1"
    no_models = models_missing()

    tmp = tempfile.mkdtemp(prefix="affect-doc-pipelines-")
    inputs = Inputs(tmp)
    failed, skipped, passed = [], [], []
    try:
        for n, (where, cmd) in enumerate(commands):
            print("\n== %s\n   %s" % (where, cmd))
            work = os.path.join(tmp, "run-%02d" % n)
            os.makedirs(work)
            try:
                opts, tokens = substitute(cmd, inputs, work)
                if needs_models(tokens) and no_models:
                    raise SkipModels("face models missing (affect-fetch-models): "
                                     + ", ".join(no_models))
                if "affecttranscribe" in tokens and not asr_model_found():
                    raise SkipModels("Whisper model missing "
                                     "(affect-fetch-asr-model tiny.en)")
            except Skip as e:
                if require_models and isinstance(e, SkipModels):
                    print("   FAIL (AFFECT_REQUIRE_MODELS=1): %s" % e)
                    failed.append(where)
                else:
                    print("   SKIP: %s" % e)
                    skipped.append(where)
                continue
            except RuntimeError as e:
                print("   FAIL: %s" % e)
                failed.append(where)
                continue
            missing = missing_elements(tokens)
            ours = [m for m in missing if m in OUR_ELEMENTS]
            if ours:
                print("   FAIL: elements of this plugin not found: "
                      + ", ".join(ours))
                failed.append(where)
                continue
            if missing:
                print("   SKIP: not installed here: " + ", ".join(missing))
                skipped.append(where)
                continue
            print("   as: gst-launch-1.0 " + " ".join(
                shlex.quote(t) for t in opts + tokens))
            start = time.monotonic()
            try:
                r = gst_launch(opts + tokens, cwd=work, capture_output=True,
                               text=True, timeout=TIMEOUT)
            except subprocess.TimeoutExpired as e:
                out = (e.stdout or b"")
                out = out.decode() if isinstance(out, bytes) else out
                print(out[-2000:])
                print("   FAIL: still running after %d s (a hang?)" % TIMEOUT)
                failed.append(where)
                continue
            secs = time.monotonic() - start
            problems = []
            if r.returncode != 0:
                problems.append("exit status %d" % r.returncode)
            for element, path in outputs_of(tokens):
                msg = check_output(element, path, "facecrop" in tokens)
                if msg:
                    problems.append(msg)
            if problems:
                print((r.stdout + r.stderr)[-3000:])
                print("   FAIL: " + "; ".join(problems))
                failed.append(where)
            else:
                print("   ok (%.1f s)" % secs)
                passed.append(where)
    finally:
        if keep:
            print("\nfiles kept in " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    print("\n%d ran, %d skipped, %d failed" % (len(passed), len(skipped),
                                               len(failed)))
    for where in failed:
        print("FAILED: " + where)
    if failed:
        return 1
    return 0 if passed else 77


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
