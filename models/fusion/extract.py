#!/usr/bin/env python3
# gst-affect — models/fusion
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Run the plugin over a folder of videos and write one feature file per
video and face track.

    python extract.py VIDEO_DIR -o FEATURE_DIR [-j N] [options]

For every video (files with a video extension in VIDEO_DIR, or video files
given directly), gst-launch-1.0 runs

    filesrc ! decodebin ! videoconvert ! facecrop ! affectfeatures !
        affectsink format=jsonl features=true

plus, when the file has an audio stream, decodebin's audio into
affectfeatures' `audio` pad (speech branch), and, when `<video>.srt` lies
next to the video, the subtitles through subparse into its `text` pad (word
branch). The JSON Lines dump is then converted into
`FEATURE_DIR/<video>/track-<id>.safetensors` (layout in features.py) and
deleted (--keep-jsonl keeps it as `FEATURE_DIR/<video>/features.jsonl`).

- Resumable: a video is written into a temporary folder that is renamed at
  the end, with a marker `done.json` holding the settings (pipeline,
  features, size and date of the input). Finished videos with the same
  settings are skipped; changed settings or a changed input redo the video.
- -j N runs N videos at once (each pipeline with --threads threads,
  default: the cores divided by N).
- A video that fails is reported (its log is kept in FEATURE_DIR/.logs/) and
  the others continue; the exit status is 1 when any video failed.
  --retries N tries it again N times first.
- --ray ADDRESS runs one Ray task per video on a cluster instead of -j
  (extract_ray.py, docs/scale-out.md): same files, markers and resuming;
  FEATURE_DIR and the videos must be on a folder every node sees.
- Progress on stderr: videos done, frames, frames/s, ETA (by input bytes);
  one line per finished video when stderr is not a terminal.

The plugin must be found by GStreamer (installed, or GST_PLUGIN_PATH set to
the build's `elements` folder; see --plugin-path). Pure Python standard
library + numpy + safetensors.
"""

import argparse
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

import features as featlib

VIDEO_EXTS = ("mp4", "avi", "mkv", "mov", "webm", "m4v", "mpg", "mpeg",
              "ts", "flv", "wmv", "ogv", "3gp")
# Bumped when the conversion or the file layout changes (redoes the videos).
CONVERTER_VERSION = "1"
LOG_DIR = ".logs"
DONE = "done.json"


class Video:
    def __init__(self, path):
        self.path = os.path.abspath(path)
        self.name = os.path.splitext(os.path.basename(path))[0]
        self.size = os.path.getsize(path)
        self.srt = os.path.splitext(self.path)[0] + ".srt"
        if not os.path.isfile(self.srt):
            self.srt = None


def find_videos(inputs, exts):
    """Folders (their video files, not recursive) and files -> [Video]
    sorted by name; two inputs with the same base name are an error."""
    out = []
    for p in inputs:
        if os.path.isdir(p):
            for n in sorted(os.listdir(p)):
                full = os.path.join(p, n)
                ext = os.path.splitext(n)[1][1:].lower()
                if ext in exts and os.path.isfile(full) \
                        and not n.startswith("."):
                    out.append(Video(full))
        elif os.path.isfile(p):
            out.append(Video(p))
        else:
            raise SystemExit(f"extract.py: {p}: no such file or folder")
    seen = {}
    for v in out:
        if v.name in seen:
            raise SystemExit(f"extract.py: two videos named '{v.name}': "
                             f"{seen[v.name]} and {v.path}")
        seen[v.name] = v.path
    return sorted(out, key=lambda v: v.name)


def _loc(path):
    """location=... for gst-launch: quoted, with \\ and " escaped (any file
    name, including spaces, '!' and ',')."""
    return 'location="' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'


def pipeline_tokens(args, video, audio, text, jsonl):
    """The gst-launch-1.0 arguments (one element per argv entry; the
    locations quoted by _loc). affectfeatures is declared first: with its
    audio pad linked, linking its src pad later in the description fails
    ("could not link f to affectsink0")."""
    threads = str(args.threads)
    fc = ["facecrop", f"detector={args.detector}",
          f"detect-interval={args.detect_interval}",
          f"max-faces={args.max_faces}", f"n-threads={threads}"]
    af = ["affectfeatures", "name=f", f"n-threads={threads}"]
    if args.branches:
        af.append(f"branches={args.branches}")
    t = af + ["!", "affectsink", "format=jsonl", "features=true",
              _loc(jsonl),
              "filesrc", _loc(video.path), "!", "decodebin", "name=d",
              "d.", "!", "queue", "!", "videoconvert", "!"] + fc + ["!",
                                                                  "f.video"]
    if audio:
        t += ["d.", "!", "queue", "!", "audioconvert", "!", "f.audio"]
    if text:
        t += ["filesrc", _loc(video.srt), "!", "subparse", "!",
              "f.text"]
    return t


def settings_key(args, video):
    """What decides whether a finished video must be redone."""
    st = os.stat(video.path)
    key = {"converter": CONVERTER_VERSION, "features": args.features,
           "pipeline": " ".join(pipeline_tokens(
               args, video, args.audio, args.text and video.srt is not None,
               "OUT.jsonl")),
           "audio": args.audio, "text": args.text,
           "input": [st.st_size, st.st_mtime_ns]}
    if video.srt and args.text:
        s = os.stat(video.srt)
        key["srt"] = [s.st_size, s.st_mtime_ns]
    return json.dumps(key, sort_keys=True)


def read_done(folder):
    try:
        with open(os.path.join(folder, DONE)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


_CAPS = re.compile(r"caps = ((?:audio|video)/[\w.+-]+)([^\n]*)")


def probe(gst_launch, video, timeout=60):
    """Decodes one buffer with `gst-launch-1.0 -v` and reads the caps it
    prints: (has_audio, fps, width, height, error, output)."""
    cmd = [gst_launch, "-v", "filesrc", _loc(video.path), "!",
           "decodebin", "!", "fakesink", "num-buffers=1"]
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout,
                           errors="replace", env=os.environ)
        out = r.stdout
    except subprocess.TimeoutExpired as e:
        out = e.stdout or ""
        if isinstance(out, bytes):
            out = out.decode("utf-8", "replace")
    has_audio = False
    fps = width = height = None
    for m in _CAPS.finditer(out):
        media, rest = m.group(1), m.group(2)
        if media.startswith("audio/"):
            has_audio = True
            continue
        fr = re.search(r"framerate=\(fraction\)(\d+)/(\d+)", rest)
        if fr and int(fr.group(2)) and int(fr.group(1)) and (
                fps is None or media == "video/x-raw"):
            fps = int(fr.group(1)) / int(fr.group(2))
        if media == "video/x-raw":
            w = re.search(r"width=\(int\)(\d+)", rest)
            h = re.search(r"height=\(int\)(\d+)", rest)
            if w and h:
                width, height = int(w.group(1)), int(h.group(1))
    err = None
    if fps is None and width is None:
        err = "no video stream found: " + (_error_lines(out) or
                                           "gst-launch-1.0 printed no error")
    return has_audio, fps, width, height, err, out


def _error_lines(text, limit=4):
    lines = [s.strip() for s in text.splitlines()
             if s.startswith(("ERROR", "WARNING: erroneous", "Additional"))
             or "error" in s.lower()[:40]]
    return " | ".join(lines[:limit])


class Progress:
    def __init__(self, videos, stream=sys.stderr):
        self.total = len(videos)
        self.total_bytes = sum(v.size for v in videos)
        self.lock = threading.Lock()
        self.done = self.failed = self.skipped = 0
        self.done_bytes = self.skip_bytes = 0
        self.frames = 0
        self.running = {}
        self.t0 = time.monotonic()
        self.stream = stream
        self.tty = stream.isatty()
        self.last_plain = self.t0

    def line(self):
        el = time.monotonic() - self.t0
        fin = self.done + self.failed + self.skipped
        frames = self.frames + sum(self.running.values())
        width = 20
        fill = int(width * fin / self.total) if self.total else width
        eta = "?"
        work_bytes = self.total_bytes - self.skip_bytes
        if self.done_bytes > 0 and fin < self.total:
            rest = work_bytes - self.done_bytes
            eta = _hms(el * rest / self.done_bytes)
        elif fin == self.total:
            eta = "0:00:00"
        run = " ".join(f"{n}:{f}" for n, f in list(self.running.items())[:4])
        s = (f"[{'#' * fill}{'.' * (width - fill)}] {fin}/{self.total}"
             " videos"
             + (f" ({self.failed} failed)" if self.failed else "")
             + f" | {frames} frames {frames / el if el > 0 else 0:.1f}/s"
             f" | {_hms(el)} ETA {eta}")
        return s + (f" | {run}" if run else "")

    def show(self, force=False):
        with self.lock:
            if self.tty:
                s = self.line()
                cols = shutil.get_terminal_size((120, 20)).columns
                self.stream.write("\r" + s[:cols - 1] + "\x1b[K")
                self.stream.flush()
            elif force or time.monotonic() - self.last_plain > 60:
                self.last_plain = time.monotonic()
                self.stream.write(self.line() + "\n")
                self.stream.flush()

    def message(self, text):
        with self.lock:
            if self.tty:
                self.stream.write("\r\x1b[K")
            self.stream.write(text + "\n")
            self.stream.flush()

    def finish(self):
        if self.tty:
            with self.lock:
                self.stream.write("\r" + self.line() + "\x1b[K\n")
                self.stream.flush()


def _hms(s):
    s = int(s)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


class Extractor:
    def __init__(self, args, progress):
        self.args = args
        self.progress = progress
        self.stop = threading.Event()
        self.procs = set()
        self.lock = threading.Lock()
        # run in each gst-launch-1.0 child before exec (extract_ray.py)
        self.preexec = None

    def _run_gst(self, tokens, log_path, jsonl, video):
        """Runs gst-launch-1.0; counts the dump's lines for the progress.
        Returns (exit status, timed out)."""
        with open(log_path, "wb") as log:
            p = subprocess.Popen([self.args.gst_launch] + tokens, stdout=log,
                                 stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL,
                                 start_new_session=True,
                                 preexec_fn=self.preexec)
        with self.lock:
            self.procs.add(p)
        t0 = time.monotonic()
        frames = 0
        pos = 0
        timed_out = False
        try:
            while True:
                try:
                    rc = p.wait(timeout=0.5)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if self.stop.is_set():
                    _kill(p)
                if self.args.timeout and \
                        time.monotonic() - t0 > self.args.timeout:
                    timed_out = True
                    _kill(p)
                try:
                    with open(jsonl, "rb") as f:
                        f.seek(pos)
                        chunk = f.read()
                    pos += len(chunk)
                    frames += chunk.count(b"\n")
                except OSError:
                    pass
                with self.progress.lock:
                    self.progress.running[video.name] = frames
        finally:
            with self.lock:
                self.procs.discard(p)
        return rc, timed_out

    def process(self, video):
        """Extracts one video. Returns ('done'|'skipped'|'failed', msg)."""
        args = self.args
        out = os.path.join(args.output, video.name)
        key = settings_key(args, video)
        d = read_done(out)
        if d is not None and d.get("settings") == key and not args.force:
            return "skipped", None
        tmp = os.path.join(args.output, f".{video.name}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        jsonl = os.path.join(tmp, "features.jsonl")
        log_path = os.path.join(tmp, "gst-launch.log")
        t0 = time.monotonic()
        try:
            has_audio, fps, width, height, err, out_text = probe(
                args.gst_launch, video)
            if err:
                with open(log_path, "w") as f:
                    f.write(out_text)
                self._keep_log(video, log_path)
                return "failed", err
            if args.audio and not has_audio:
                return "failed", "no audio stream (--audio was given)"
            audio = has_audio if args.audio is None else args.audio
            text = bool(args.text and video.srt)
            tokens = pipeline_tokens(args, video, audio, text, jsonl)
            rc, timed_out = self._run_gst(tokens, log_path, jsonl, video)
            if self.stop.is_set():
                return "failed", "interrupted"
            if rc != 0 or timed_out:
                with open(log_path, errors="replace") as f:
                    log = f.read()
                why = (f"timed out after {args.timeout} s" if timed_out
                       else f"gst-launch-1.0 exit status {rc}")
                self._keep_log(video, log_path)
                return "failed", why + (": " + _error_lines(log)
                                        if _error_lines(log) else "")
            if not os.path.isfile(jsonl):
                self._keep_log(video, log_path)
                return "failed", "the pipeline wrote no feature dump"
            pipeline = " ".join(pipeline_tokens(args, video, audio, text,
                                                "OUT.jsonl"))
            try:
                dump, paths = featlib.convert(
                    jsonl, tmp, video=video.name, features=args.features,
                    fps=fps, width=width, height=height, source=video.path,
                    pipeline=pipeline)
            except featlib.FeatureError as e:
                self._keep_log(video, log_path)
                return "failed", str(e)
            if dump.n_frames == 0:
                self._keep_log(video, log_path)
                return "failed", "no frame was decoded"
            if not args.keep_jsonl:
                os.remove(jsonl)
            os.remove(log_path)
            marker = {"settings": key, "video": video.name,
                      "source": video.path, "n_frames": dump.n_frames,
                      "tracks": sorted(dump.tracks), "audio": audio,
                      "text": text, "fps": fps, "width": width,
                      "height": height,
                      "seconds": round(time.monotonic() - t0, 3)}
            with open(os.path.join(tmp, DONE), "w") as f:
                json.dump(marker, f, indent=1)
            # replace the old result (if any) by the new one
            if os.path.exists(out):
                old = os.path.join(args.output, f".{video.name}.old")
                shutil.rmtree(old, ignore_errors=True)
                os.rename(out, old)
                os.rename(tmp, out)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.rename(tmp, out)
            with self.progress.lock:
                self.progress.frames += dump.n_frames
            return "done", (f"{dump.n_frames} frames, {len(dump.tracks)} "
                            f"tracks{', audio' if audio else ''}"
                            f"{', subtitles' if text else ''}, "
                            f"{time.monotonic() - t0:.1f} s")
        except OSError as e:
            return "failed", f"{e.filename or ''}: {e.strerror}"
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _keep_log(self, video, log_path):
        d = os.path.join(self.args.output, LOG_DIR)
        os.makedirs(d, exist_ok=True)
        try:
            shutil.copyfile(log_path, os.path.join(d, video.name + ".log"))
        except OSError:
            pass

    def kill_all(self):
        self.stop.set()
        with self.lock:
            for p in list(self.procs):
                _kill(p)


def _kill(p):
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except OSError:
            pass


def parse_args(argv):
    ap = argparse.ArgumentParser(
        description="Extract per-track feature files from videos with the "
        "gst-affect plugin.",
        epilog="Output: FEATURE_DIR/<video>/track-<id>.safetensors and "
        "done.json; see features.py for the layout.")
    ap.add_argument("inputs", nargs="+", metavar="VIDEO_DIR",
                    help="folder of videos, or video files")
    ap.add_argument("-o", "--output", required=True, metavar="FEATURE_DIR")
    ap.add_argument("-j", "--jobs", type=int, default=1,
                    help="videos processed at once (default 1)")
    ap.add_argument("--threads", type=int, default=0,
                    help="threads of each pipeline's networks (default: "
                    "cores / jobs; with --ray: 1), the CPUs of a Ray task")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--audio", dest="audio", action="store_true",
                   default=None,
                   help="require an audio stream (a video without fails); "
                   "default: the speech branch when the file has audio")
    g.add_argument("--no-audio", dest="audio", action="store_false",
                   help="never compute the speech branch")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--text", dest="text", action="store_true", default=True,
                   help="use <video>.srt next to the video (default)")
    g.add_argument("--no-text", dest="text", action="store_false")
    ap.add_argument("--detector", choices=("tiny", "ssd"), default="tiny")
    ap.add_argument("--detect-interval", type=int, default=1)
    ap.add_argument("--max-faces", type=int, default=8)
    ap.add_argument("--branches", default=None,
                    help="affectfeatures branches (default: the element's)")
    ap.add_argument("--features", default=featlib.DEFAULT_FEATURES,
                    help="the 'features' string stored in the files "
                    "(default: the plugin's own extractors)")
    ap.add_argument("--ext", default=",".join(VIDEO_EXTS),
                    help="video file extensions looked for in folders")
    ap.add_argument("--timeout", type=float, default=0,
                    help="seconds after which a video's pipeline is killed "
                    "(0 = none)")
    ap.add_argument("--gst-launch", default="gst-launch-1.0")
    ap.add_argument("--plugin-path",
                    help="folder of libgstaffect.so (prepended to "
                    "GST_PLUGIN_PATH)")
    ap.add_argument("--keep-jsonl", action="store_true",
                    help="keep the dump as <video>/features.jsonl")
    ap.add_argument("--force", action="store_true",
                    help="redo finished videos")
    ap.add_argument("-n", "--dry-run", action="store_true",
                    help="list what would be done and the pipeline")
    g = ap.add_argument_group(
        "Ray cluster (docs/scale-out.md; needs the ray package)")
    g.add_argument("--ray", metavar="ADDRESS",
                   help="one Ray task per video instead of -j: 'auto' (the "
                   "cluster of this machine), 'local:N' (a local instance "
                   "running N videos at once) or the head's address; "
                   "FEATURE_DIR and the videos must be on a folder every "
                   "node sees")
    g.add_argument("--retries", type=int, default=None,
                   help="times a failed video is tried again (default: 1 "
                   "with --ray, 0 without)")
    g.add_argument("--gpus-per-task", type=float, default=0.0,
                   help="GPU share requested by each video's task (for "
                   "pipelines on a GPU backend; default 0)")
    args = ap.parse_args(argv)
    if args.jobs < 1:
        ap.error("-j must be >= 1")
    if args.retries is None:
        args.retries = 1 if args.ray else 0
    if args.retries < 0:
        ap.error("--retries must be >= 0")
    if args.threads <= 0:
        args.threads = 1 if args.ray else max(
            1, (os.cpu_count() or 1) // args.jobs)
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.plugin_path:
        os.environ["GST_PLUGIN_PATH"] = os.pathsep.join(
            [os.path.abspath(args.plugin_path)]
            + ([os.environ["GST_PLUGIN_PATH"]]
               if os.environ.get("GST_PLUGIN_PATH") else []))
    exts = tuple(e.strip().lower().lstrip(".")
                 for e in args.ext.split(",") if e.strip())
    videos = find_videos(args.inputs, exts)
    if not videos:
        print("extract.py: no video found", file=sys.stderr)
        return 1

    if args.dry_run:
        for v in videos:
            d = read_done(os.path.join(args.output, v.name))
            state = ("todo" if d is None else
                     "done" if d.get("settings") == settings_key(args, v)
                     and not args.force else "redo (settings changed)")
            print(f"{state:24} {v.name}  ({v.path}, {v.size} bytes"
                  f"{', subtitles' if v.srt and args.text else ''})")
        v = videos[0]
        toks = pipeline_tokens(args, v, args.audio is not False,
                               bool(args.text and v.srt),
                               os.path.join(args.output, "...jsonl"))
        print("pipeline: gst-launch-1.0 " + " ".join(toks))
        return 0

    if args.ray is None and shutil.which(args.gst_launch) is None:
        print(f"extract.py: {args.gst_launch} not found (install "
              "gstreamer1.0-tools)", file=sys.stderr)
        return 1
    if args.ray is not None:
        try:
            import extract_ray
        except ImportError as e:
            print(f"extract.py: --ray needs the ray package ({e}; "
                  "bash models/fusion/setup-train-env.sh --ray VENV)",
                  file=sys.stderr)
            return 1
        args.output = os.path.abspath(args.output)
    os.makedirs(args.output, exist_ok=True)
    lock = open(os.path.join(args.output, ".extract.lock"), "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        print(f"extract.py: another extract.py is writing to {args.output}",
              file=sys.stderr)
        return 1

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    progress = Progress(videos)
    if args.ray is not None:
        try:
            extract_ray.run(args, videos, progress, sys.modules[__name__])
        except extract_ray.RayError as e:
            progress.message(f"extract.py: {e}")
            return 1
        except KeyboardInterrupt:
            progress.message("extract.py: interrupted")
            return 130
        return summary(args, progress)
    ex = Extractor(args, progress)
    todo = list(videos)
    qlock = threading.Lock()

    def worker():
        while not ex.stop.is_set():
            with qlock:
                if not todo:
                    return
                v = todo.pop(0)
            with progress.lock:
                progress.running[v.name] = 0
            for attempt in range(args.retries + 1):
                state, msg = ex.process(v)
                if state != "failed" or ex.stop.is_set() or \
                        attempt == args.retries:
                    break
                progress.message(f"retry {attempt + 1}/{args.retries} "
                                 f"{v.name}: {msg}")
            with progress.lock:
                progress.running.pop(v.name, None)
                if state == "done":
                    progress.done += 1
                    progress.done_bytes += v.size
                elif state == "skipped":
                    progress.skipped += 1
                    progress.skip_bytes += v.size
                else:
                    progress.failed += 1
                    progress.done_bytes += v.size
            if state == "failed" and not ex.stop.is_set():
                progress.message(f"FAILED {v.name} ({v.path}): {msg}")
            elif state == "done" and not progress.tty:
                progress.message(f"done {v.name}: {msg}")
            progress.show(force=state != "skipped")

    threads = [threading.Thread(target=worker, daemon=True)
               for _ in range(min(args.jobs, len(videos)))]
    for t in threads:
        t.start()
    try:
        while any(t.is_alive() for t in threads):
            for t in threads:
                t.join(timeout=0.5)
            if progress.tty:
                progress.show()
    except KeyboardInterrupt:
        ex.kill_all()
        for t in threads:
            t.join()
        progress.message("extract.py: interrupted")
        return 130
    return summary(args, progress)


def summary(args, progress):
    progress.finish()
    print(f"extract.py: {progress.done} extracted, {progress.skipped} "
          f"already done, {progress.failed} failed -> {args.output}",
          file=sys.stderr)
    return 1 if progress.failed else 0


if __name__ == "__main__":
    sys.exit(main())
