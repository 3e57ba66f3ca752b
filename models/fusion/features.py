#!/usr/bin/env python3
# gst-affect — models/fusion
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The plugin's feature dumps and the per-track feature files.

A feature dump is what `affectsink format=jsonl features=true` writes (see
docs/elements/affectsink.md): one JSON object per video frame, every frame
written (also frames without faces), faces with their track id, box, score,
landmarks and the branch vectors img / exp / spe / wrd that are present.

A track file (`<video>/track-<id>.safetensors`, written by extract.py) holds
one face track of one video, one row per frame on which the track has an
entry in the dump, in frame order:

    frame      I64 [F]           frame index in the video (0 = first decoded
                                 frame = line 0 of the dump = line 0 of the
                                 Aff-Wild2 annotation after its header)
    offset     I64 [F]           the dump's "frame" (buffer offset or counter)
    pts        I64 [F]           presentation time in ns, -1 = none
    box        F32 [F, 4]        x, y, width, height in frame pixels
                                 (NaN = none)
    score      F32 [F]           detection score (NaN = none)
    landmarks  F32 [F, 68, 2]    the 68 points (NaN = none)
    img, exp, spe, wrd  F32 [F, D]  branch vectors, zeros where absent
                                 (D = 0 when the branch never occurs)
    present    U8  [F, 4]        1 where the branch (img, exp, spe, wrd) is
                                 present

__metadata__ (strings): format=gst-affect-track, version=1, video, track,
n_frames (frames of the whole dump), features (which extractors made the
vectors), fps, width, height, source, pipeline.

    python features.py convert DUMP.jsonl -o DIR [--video NAME] [--fps F] ...
    python features.py info FILE.safetensors...

Pure Python + numpy + safetensors.
"""

import argparse
import json
import os
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save

BRANCHES = ("img", "exp", "spe", "wrd")
N_LANDMARKS = 68
FORMAT = "gst-affect-track"
VERSION = "1"
# The plugin's own extractors; equal to export.DEFAULT_FEATURES (which
# imports torch, so it is repeated here) and to affectfuse's default
# `feature-extractors` property (formerly `features`).
DEFAULT_FEATURES = ("img=face_recognition_model,exp=face_expression_model,"
                    "spe=affect-speech,wrd=affect-bert")


class FeatureError(ValueError):
    """A malformed dump or track file; the message names the file (and the
    line of a dump)."""


def _fail(path, line, msg):
    raise FeatureError(f"{path}:{line}: {msg}" if line else f"{path}: {msg}")


def _floats(path, n, what, v, size=None):
    """A JSON array of numbers (null = NaN) as float32."""
    if not isinstance(v, list):
        _fail(path, n, f"{what} is not an array")
    if size is not None and len(v) != size:
        _fail(path, n, f"{what} has {len(v)} values, expected {size}")
    try:
        return np.asarray(v, dtype=np.float32)
    except (TypeError, ValueError):
        pass
    out = np.empty(len(v), dtype=np.float32)
    for i, x in enumerate(v):
        if x is None:
            out[i] = np.nan
        elif isinstance(x, (int, float)) and not isinstance(x, bool):
            out[i] = x
        else:
            _fail(path, n, f"{what}[{i}] is not a number")
    return out


class _TrackAcc:
    def __init__(self):
        self.frame, self.offset, self.pts = [], [], []
        self.box, self.score, self.landmarks = [], [], []
        self.vec = {b: [] for b in BRANCHES}


class Dump:
    """A parsed feature dump: n_frames, pts [n_frames] (int64, -1 = none)
    and tracks {id: {tensor name: array}} in the track-file layout."""

    def __init__(self, n_frames, pts, tracks, dims):
        self.n_frames = n_frames
        self.pts = pts
        self.tracks = tracks
        self.dims = dims


def read_dump(path):
    """Parses an affectsink JSONL dump (with features=true). Raises
    FeatureError naming file:line for anything malformed, including a
    truncated last line (a pipeline that died while writing)."""
    accs = {}
    dims = {}
    pts_all = []
    try:
        f = open(path, "rb")
    except OSError as e:
        raise FeatureError(f"{path}: cannot read: {e.strerror}") from None
    with f:
        for n, raw in enumerate(f, 1):
            if not raw.strip():
                _fail(path, n, "empty line")
            try:
                rec = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                _fail(path, n, f"not JSON ({e})"
                      + ("; the file is truncated" if not raw.endswith(b"\n")
                         else ""))
            if not isinstance(rec, dict):
                _fail(path, n, "not a JSON object")
            if rec.get("schema") != 1:
                _fail(path, n, f"schema {rec.get('schema')!r}, expected 1")
            faces = rec.get("faces")
            if not isinstance(faces, list):
                _fail(path, n, "no 'faces' array")
            pts = rec.get("pts")
            if pts is not None and (not isinstance(pts, int) or pts < 0):
                _fail(path, n, f"bad pts {pts!r}")
            offset = rec.get("frame")
            if not isinstance(offset, int) or isinstance(offset, bool):
                _fail(path, n, f"bad frame {offset!r}")
            idx = n - 1
            pts_all.append(-1 if pts is None else pts)
            seen = set()
            for face in faces:
                if not isinstance(face, dict):
                    _fail(path, n, "a face is not an object")
                tid = face.get("id")
                if (not isinstance(tid, int) or isinstance(tid, bool)
                        or tid < 0):
                    _fail(path, n, f"bad track id {tid!r}")
                if tid in seen:
                    _fail(path, n, f"track {tid} twice on one frame")
                seen.add(tid)
                a = accs.setdefault(tid, _TrackAcc())
                a.frame.append(idx)
                a.offset.append(offset)
                a.pts.append(pts_all[-1])
                box = face.get("box")
                a.box.append(_floats(path, n, "box", box, 4)
                             if box is not None
                             else np.full(4, np.nan, np.float32))
                score = face.get("score")
                if score is not None and (
                        not isinstance(score, (int, float))
                        or isinstance(score, bool)):
                    _fail(path, n, f"bad score {score!r}")
                a.score.append(np.nan if score is None else score)
                lm = face.get("landmarks")
                if lm is not None:
                    if not isinstance(lm, list) or len(lm) != N_LANDMARKS:
                        _fail(path, n, f"landmarks: expected {N_LANDMARKS} "
                              "points")
                    flat = []
                    for p in lm:
                        if not isinstance(p, list) or len(p) != 2:
                            _fail(path, n, "a landmark is not [x, y]")
                        flat += p
                    a.landmarks.append(
                        _floats(path, n, "landmarks", flat).reshape(-1, 2))
                else:
                    a.landmarks.append(None)
                feats = face.get("features", {})
                if not isinstance(feats, dict):
                    _fail(path, n, "features is not an object")
                for k in feats:
                    if k not in BRANCHES:
                        _fail(path, n, f"unknown feature branch '{k}'")
                for b in BRANCHES:
                    v = feats.get(b)
                    if v is None:
                        a.vec[b].append(None)
                        continue
                    arr = _floats(path, n, f"features.{b}", v)
                    if arr.size == 0:
                        _fail(path, n, f"features.{b} is empty")
                    if b not in dims:
                        dims[b] = arr.size
                    elif dims[b] != arr.size:
                        _fail(path, n, f"features.{b} has {arr.size} values, "
                              f"earlier frames {dims[b]}")
                    a.vec[b].append(arr)
    tracks = {}
    for tid, a in sorted(accs.items()):
        nf = len(a.frame)
        t = {"frame": np.asarray(a.frame, np.int64),
             "offset": np.asarray(a.offset, np.int64),
             "pts": np.asarray(a.pts, np.int64),
             "box": np.stack(a.box).astype(np.float32),
             "score": np.asarray(a.score, np.float32),
             "landmarks": np.full((nf, N_LANDMARKS, 2), np.nan, np.float32),
             "present": np.zeros((nf, len(BRANCHES)), np.uint8)}
        for i, lm in enumerate(a.landmarks):
            if lm is not None:
                t["landmarks"][i] = lm
        for j, b in enumerate(BRANCHES):
            d = dims.get(b, 0)
            x = np.zeros((nf, d), np.float32)
            for i, v in enumerate(a.vec[b]):
                if v is not None:
                    x[i] = v
                    t["present"][i, j] = 1
            t[b] = x
        tracks[tid] = t
    return Dump(len(pts_all), np.asarray(pts_all, np.int64), tracks, dims)


def track_path(folder, track_id):
    return os.path.join(folder, f"track-{track_id}.safetensors")


def write_track(path, track, meta):
    """Writes one track (a dict in the layout above) with the metadata
    (values converted to strings)."""
    m = {"format": FORMAT, "version": VERSION}
    m.update({k: str(v) for k, v in meta.items() if v is not None})
    blob = save({k: np.ascontiguousarray(v) for k, v in track.items()},
                metadata=m)
    with open(path, "wb") as f:
        f.write(canonical_safetensors(blob))


def canonical_safetensors(blob):
    """The same safetensors file with its header written in one order
    (keys sorted, no spaces): safetensors keeps __metadata__ in a hash map
    whose order changes from process to process, and the same track must
    give the same bytes wherever it is extracted (extract.py --ray)."""
    n = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8:8 + n])
    text = json.dumps(header, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode()
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text + blob[8 + n:]


def write_tracks(dump, folder, meta):
    """Writes every track of a Dump into `folder` (created); returns the
    list of paths. meta: common metadata (video, features, fps, ...)."""
    os.makedirs(folder, exist_ok=True)
    paths = []
    for tid, t in dump.tracks.items():
        m = dict(meta)
        m["track"] = tid
        m["n_frames"] = dump.n_frames
        p = track_path(folder, tid)
        write_track(p, t, m)
        paths.append(p)
    return paths


_SPEC = {"frame": (np.int64, 1), "offset": (np.int64, 1),
         "pts": (np.int64, 1), "box": (np.float32, 2),
         "score": (np.float32, 1), "landmarks": (np.float32, 3),
         "present": (np.uint8, 2)}
_SPEC.update({b: (np.float32, 2) for b in BRANCHES})


def read_track(path):
    """Reads and validates a track file -> (tensors, metadata)."""
    try:
        with safe_open(path, framework="numpy") as f:
            meta = f.metadata() or {}
            data = {k: f.get_tensor(k) for k in f.keys()}
    except FileNotFoundError:
        raise FeatureError(f"{path}: no such file") from None
    except Exception as e:  # safetensors raises its own error types
        raise FeatureError(f"{path}: not a readable safetensors file "
                           f"({e})") from None
    if meta.get("format") != FORMAT:
        _fail(path, 0, f"__metadata__ format is {meta.get('format')!r}, "
              f"expected '{FORMAT}'")
    if meta.get("version") != VERSION:
        _fail(path, 0, f"unsupported version {meta.get('version')!r}")
    for k, (dt, nd) in _SPEC.items():
        if k not in data:
            _fail(path, 0, f"no tensor '{k}'")
        if data[k].dtype != dt or data[k].ndim != nd:
            _fail(path, 0, f"tensor '{k}' is {data[k].dtype} "
                  f"{list(data[k].shape)}, expected {np.dtype(dt)} "
                  f"with {nd} dimensions")
    nf = data["frame"].shape[0]
    for k in _SPEC:
        if data[k].shape[0] != nf:
            _fail(path, 0, f"tensor '{k}' has {data[k].shape[0]} rows, "
                  f"'frame' {nf}")
    if data["box"].shape[1] != 4 or data["landmarks"].shape[1:] != (
            N_LANDMARKS, 2) or data["present"].shape[1] != len(BRANCHES):
        _fail(path, 0, "bad shape of 'box', 'landmarks' or 'present'")
    fr = data["frame"]
    if nf and (fr[0] < 0 or np.any(np.diff(fr) <= 0)):
        _fail(path, 0, "'frame' is not increasing from >= 0")
    try:
        n_frames = int(meta.get("n_frames", ""))
    except ValueError:
        _fail(path, 0, f"bad n_frames {meta.get('n_frames')!r}")
    if nf and fr[-1] >= n_frames:
        _fail(path, 0, f"frame {fr[-1]} beyond n_frames {n_frames}")
    for j, b in enumerate(BRANCHES):
        if data[b].shape[1] == 0 and data["present"][:, j].any():
            _fail(path, 0, f"branch '{b}' marked present but has size 0")
    return data, meta


def _fps_str(fps):
    if fps is None:
        return None
    return f"{float(fps):.6g}"


def convert(dump_path, folder, video=None, features=DEFAULT_FEATURES,
            fps=None, width=None, height=None, source=None, pipeline=None):
    """Dump -> one track file per track in `folder`; returns (dump, paths)."""
    dump = read_dump(dump_path)
    meta = {"video": video or os.path.basename(folder.rstrip(os.sep)),
            "features": features, "fps": _fps_str(fps), "width": width,
            "height": height, "source": source, "pipeline": pipeline}
    return dump, write_tracks(dump, folder, meta)


def _main(argv):
    ap = argparse.ArgumentParser(
        description="Feature dumps of the plugin and per-track feature "
        "files.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("convert", help="JSONL dump -> track files")
    c.add_argument("dump")
    c.add_argument("-o", "--output", required=True, help="folder")
    c.add_argument("--video", help="video name (default: the folder name)")
    c.add_argument("--fps", type=float)
    c.add_argument("--features", default=DEFAULT_FEATURES)
    c.add_argument("--source")
    i = sub.add_parser("info", help="summary of track files")
    i.add_argument("files", nargs="+")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "convert":
            dump, paths = convert(args.dump, args.output, args.video,
                                  args.features, args.fps,
                                  source=args.source)
            print(f"{args.dump}: {dump.n_frames} frames, "
                  f"{len(paths)} tracks -> {args.output}")
        else:
            for p in args.files:
                d, m = read_track(p)
                pres = d["present"].sum(axis=0)
                print(f"{p}: video {m.get('video')} track {m.get('track')}, "
                      f"{d['frame'].shape[0]} of {m.get('n_frames')} frames; "
                      + ", ".join(f"{b}[{d[b].shape[1]}] on {int(c)}"
                                  for b, c in zip(BRANCHES, pres)))
    except FeatureError as e:
        print(e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
