#!/usr/bin/env python3
# gst-affect — models/fusion
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Build the clips file train.py reads from per-track feature files
(extract.py) and Aff-Wild2 annotation folders.

    python make_clips.py FEATURE_DIR -o clips.safetensors \\
        --au AU_DIR --expr EXPR_DIR --va VA_DIR [-T 32] [--stride S]

One clip per labelled frame p (a frame with a label of at least one of the
given tasks; --stride S keeps every S-th of them per annotated person):

- the person's track at p: `<video>.txt` is the one person of the video,
  the track with the largest face box at p; `<video>_left.txt` /
  `<video>_right.txt` are the left / right one of the two largest faces at
  p (a lone face counts as left or right by the half of the frame its box
  centre is in). Only tracks with an image feature at p count, as affectfuse
  predicts only there; a labelled frame without one gives no clip;
- img = the track's image feature at p; exp / spe / wrd = the track's
  vectors on frames s .. s + T - 1 with s = p - floor(T/2), exactly
  affectfuse's centred window (mode=centred); frames outside the video or
  where the track has no vector of that branch are zeros; present[m] = 1
  when the branch has a vector on at least one frame of the clip;
- labels of frame p for each task given (missing ones -1 / -5), `video`
  (id of the video, the same for its left and right person), `frame` (p),
  `track` (track id).

__metadata__: features (copied from the feature files; they must agree),
clip_len, videos (JSON list: video id -> name), tasks, stride.
The file is written tensor by tensor through a memory map, so its size is
not limited by the memory. Pure Python + numpy + safetensors.
"""

import argparse
import json
import os
import sys

import numpy as np

import affwild2
import features as featlib

CLIP_BRANCHES = ("exp", "spe", "wrd")
# the sizes the plugin's extractors give, for branches no file has
DEFAULT_DIMS = {"img": 256, "exp": 256, "spe": 16, "wrd": 384}
DONE = "done.json"


class ClipError(ValueError):
    pass


def list_feature_videos(folder):
    """{video: [track file, ...]} of the finished videos of an extract.py
    output folder (those with done.json), and the list of unfinished ones."""
    if not os.path.isdir(folder):
        raise ClipError(f"{folder}: not a folder")
    out, unfinished = {}, []
    for name in sorted(os.listdir(folder)):
        d = os.path.join(folder, name)
        if name.startswith(".") or not os.path.isdir(d):
            continue
        if not os.path.isfile(os.path.join(d, DONE)):
            unfinished.append(name)
            continue
        out[name] = sorted(
            (os.path.join(d, f) for f in os.listdir(d)
             if f.startswith("track-") and f.endswith(".safetensors")),
            key=lambda p: int(os.path.basename(p)[6:-12])
            if os.path.basename(p)[6:-12].isdigit() else -1)
    return out, unfinished


class VideoTracks:
    """The tracks of one video, indexed by frame."""

    def __init__(self, paths):
        self.tracks = []  # [(id, data, frame -> row map, path, metadata)]
        self.n_frames = 0
        self.width = None
        for p in paths:
            data, meta = featlib.read_track(p)
            try:
                tid = int(meta.get("track", ""))
            except ValueError:
                raise ClipError(f"{p}: bad track id "
                                f"{meta.get('track')!r}") from None
            n = int(meta["n_frames"])
            if self.tracks and n != self.n_frames:
                raise ClipError(f"{p}: n_frames {n}, other tracks of the "
                                f"video {self.n_frames}")
            self.n_frames = n
            try:
                self.width = float(meta["width"])
            except (KeyError, ValueError):
                pass
            rows = np.full(n, -1, np.int64)
            rows[data["frame"]] = np.arange(data["frame"].shape[0])
            self.tracks.append((tid, data, rows, p, meta))

    def candidates(self, p):
        """[(area, centre x, track index)] of the tracks with an image
        feature on frame p."""
        out = []
        if p < 0 or p >= self.n_frames:
            return out
        for i, (tid, data, rows, _, _) in enumerate(self.tracks):
            r = rows[p]
            if r < 0 or not data["present"][r, 0]:
                continue
            x, y, w, h = (float(v) for v in data["box"][r])
            if np.isnan(w) or np.isnan(h):
                area, cx = -1.0, float("nan")
            else:
                area, cx = w * h, x + w / 2
            out.append((area, cx, i))
        return out

    def choose(self, p, side):
        """Index of the person's track at frame p, or None."""
        c = self.candidates(p)
        if not c:
            return None
        c.sort(key=lambda t: (-t[0], t[2]))
        if side is None:
            return c[0][2]
        if len(c) >= 2:
            two = sorted(c[:2], key=lambda t: t[1])
            if np.isnan(two[0][1]) or np.isnan(two[1][1]):
                return None
            return two[0][2] if side == "left" else two[1][2]
        if self.width is None or np.isnan(c[0][1]):
            return None
        is_left = c[0][1] < self.width / 2
        return c[0][2] if is_left == (side == "left") else None

    def window(self, ti, p, t, dims):
        """Clip branches of track ti centred on p: {branch: [T, D]},
        present [3]."""
        _, data, rows, _, _ = self.tracks[ti]
        frames = p - t // 2 + np.arange(t)
        inside = (frames >= 0) & (frames < self.n_frames)
        r = np.full(t, -1, np.int64)
        r[inside] = rows[frames[inside]]
        ok = r >= 0
        out, present = {}, np.zeros(len(CLIP_BRANCHES), np.float32)
        for j, b in enumerate(CLIP_BRANCHES):
            x = np.zeros((t, dims[b]), np.float32)
            col = featlib.BRANCHES.index(b)
            have = ok.copy()
            have[ok] = data["present"][r[ok], col] == 1
            if have.any():
                x[have] = data[b][r[have]]
                present[j] = 1.0
            out[b] = x
        return out, present


def _dtype_name(dt):
    return {np.dtype(np.float32): "F32", np.dtype(np.int32): "I32"}[
        np.dtype(dt)]


class SafetensorsWriter:
    """Writes a safetensors file whose tensors are filled afterwards through
    memory maps (tensors laid out in name order, header padded to 8)."""

    def __init__(self, path, specs, metadata):
        header, off = {}, 0
        self.layout = {}
        for name in sorted(specs):
            dt, shape = specs[name]
            size = int(np.prod(shape, dtype=np.int64)) * np.dtype(dt).itemsize
            header[name] = {"dtype": _dtype_name(dt), "shape": list(shape),
                            "data_offsets": [off, off + size]}
            self.layout[name] = (dt, tuple(shape), off)
            off += size
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
        h = json.dumps(header, separators=(",", ":")).encode()
        h += b" " * (-len(h) % 8)
        self.base = 8 + len(h)
        self.path = path
        with open(path, "wb") as f:
            f.write(len(h).to_bytes(8, "little"))
            f.write(h)
            f.truncate(self.base + off)
        self.maps = {}

    def tensor(self, name):
        if name not in self.maps:
            dt, shape, off = self.layout[name]
            if int(np.prod(shape)) == 0:
                self.maps[name] = np.zeros(shape, dt)
            else:
                self.maps[name] = np.memmap(self.path, dtype=dt, mode="r+",
                                            offset=self.base + off,
                                            shape=shape)
        return self.maps[name]

    def close(self):
        for m in self.maps.values():
            if isinstance(m, np.memmap):
                m.flush()
        self.maps.clear()


def plan(feature_dir, ann_dirs, stride=1, log=print):
    """Pass 1: which clips to make. Returns (per_video, info): per_video a
    list of (video name, [(track index, frame, {task: label})]) in file
    order; info the tasks, the branch sizes seen, counts, the features
    string and the finished feature folders."""
    videos, unfinished = list_feature_videos(feature_dir)
    if unfinished:
        log(f"note: {len(unfinished)} unfinished video folder(s) skipped "
            f"(no {DONE}): {', '.join(unfinished[:5])}")
    sets = affwild2.load_sets(ann_dirs)
    tasks = [k for k in affwild2.TASKS if k in ann_dirs]
    subjects = {}
    unmatched = []
    for stem, labs in sets.items():
        r = affwild2.resolve_subject(stem, videos)
        if r is None:
            unmatched.append(stem)
        else:
            subjects.setdefault(r[0], []).append((r[1], stem, labs))
    if unmatched:
        log(f"note: {len(unmatched)} annotation(s) without a feature folder "
            f"skipped: {', '.join(unmatched[:5])}"
            + (" ..." if len(unmatched) > 5 else ""))
    stats = {"labelled": 0, "no_face": 0, "clips": 0}
    per_video = []
    feats = None
    dims = {}
    for video in sorted(subjects):
        vt = VideoTracks(videos[video])
        for _, data, _, path, meta in vt.tracks:
            f = meta.get("features")
            if feats is None:
                feats = (f, path)
            elif f != feats[0]:
                raise ClipError(f"{path}: features '{f}' differ from "
                                f"'{feats[0]}' of {feats[1]}")
            for b in featlib.BRANCHES:
                d = data[b].shape[1]
                if d == 0:
                    continue
                if b in dims and dims[b][0] != d:
                    raise ClipError(f"{path}: '{b}' vectors of size {d}, "
                                    f"{dims[b][1]} has {dims[b][0]}")
                dims.setdefault(b, (d, path))
        entries = []
        for side, stem, labs in sorted(subjects[video], key=lambda s: s[1]):
            n = max(len(v) for v in labs.values())
            full = {}
            for task in tasks:
                a = affwild2.no_label(task, n)
                if task in labs:
                    a[:len(labs[task])] = labs[task]
                full[task] = a
            mask = np.zeros(n, bool)
            for task in tasks:
                mask |= affwild2.labelled(task, full[task])
            frames = np.nonzero(mask)[0][::stride]
            stats["labelled"] += len(frames)
            for p in frames:
                ti = vt.choose(int(p), side)
                if ti is None:
                    stats["no_face"] += 1
                    continue
                entries.append((ti, int(p),
                                {k: full[k][p] for k in tasks}))
        if entries:
            per_video.append((video, entries))
            stats["clips"] += len(entries)
    return per_video, {"tasks": tasks, "dims": dims, "stats": stats,
                       "features": feats[0] if feats else None,
                       "videos": videos}


def make_clips(feature_dir, ann_dirs, out, t=32, stride=1, dims_override=None,
               log=print):
    per_video, info = plan(feature_dir, ann_dirs, stride, log)
    n = info["stats"]["clips"]
    if n == 0:
        raise ClipError("no clip: no labelled frame has a face with an image "
                        "feature (check the folders and the video names)")
    dims = dict(DEFAULT_DIMS)
    for b, (d, _) in info["dims"].items():
        dims[b] = d
    for b, d in (dims_override or {}).items():
        if b in info["dims"] and info["dims"][b][0] != d:
            raise ClipError(f"--dims {b}={d}, but {info['dims'][b][1]} has "
                            f"{info['dims'][b][0]}")
        dims[b] = d
    for b in featlib.BRANCHES:
        if b not in info["dims"]:
            log(f"note: no '{b}' vector in any file; its size is taken as "
                f"{dims[b]}")
    tasks = info["tasks"]
    names = [v for v, _ in per_video]
    specs = {"img": (np.float32, (n, dims["img"])),
             "present": (np.float32, (n, 3)),
             "video": (np.int32, (n,)), "frame": (np.int32, (n,)),
             "track": (np.int32, (n,))}
    for b in CLIP_BRANCHES:
        specs[b] = (np.float32, (n, t, dims[b]))
    if "au" in tasks:
        specs["au_label"] = (np.int32, (n, len(affwild2.AU_NAMES)))
    if "expr" in tasks:
        specs["expr_label"] = (np.int32, (n,))
    if "va" in tasks:
        specs["va_label"] = (np.float32, (n, 2))
    meta = {"features": info["features"] or featlib.DEFAULT_FEATURES,
            "clip_len": t, "centre": t // 2, "tasks": ",".join(tasks),
            "stride": stride, "videos": json.dumps(names),
            "source": "make_clips.py"}
    tmp = out + ".tmp"
    w = SafetensorsWriter(tmp, specs, meta)
    try:
        i = 0
        for vid, (video, entries) in enumerate(per_video):
            vt = VideoTracks(info["videos"][video])
            for ti, p, labs in entries:
                tid, data, rows, _, _ = vt.tracks[ti]
                w.tensor("img")[i] = data["img"][rows[p]]
                x, pres = vt.window(ti, p, t, dims)
                for b in CLIP_BRANCHES:
                    w.tensor(b)[i] = x[b]
                w.tensor("present")[i] = pres
                w.tensor("video")[i] = vid
                w.tensor("frame")[i] = p
                w.tensor("track")[i] = tid
                for task in tasks:
                    w.tensor(task + "_label")[i] = labs[task]
                i += 1
        w.close()
        os.replace(tmp, out)
    except BaseException:
        w.close()
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return info["stats"], dims, names


def _dims_arg(s):
    out = {}
    for part in s.split(","):
        k, _, v = part.partition("=")
        if k not in featlib.BRANCHES or not v.isdigit() or int(v) < 1:
            raise argparse.ArgumentTypeError(
                f"'{part}': expected BRANCH=SIZE, BRANCH in "
                f"{','.join(featlib.BRANCHES)}")
        out[k] = int(v)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Clips file for train.py from feature files and "
        "Aff-Wild2 annotations.")
    ap.add_argument("features", metavar="FEATURE_DIR",
                    help="output folder of extract.py")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--au", action="append", default=[], metavar="DIR",
                    help="AU annotation folder (repeatable)")
    ap.add_argument("--expr", action="append", default=[], metavar="DIR")
    ap.add_argument("--va", action="append", default=[], metavar="DIR")
    ap.add_argument("-T", "--clip-len", type=int, default=32)
    ap.add_argument("--stride", type=int, default=1,
                    help="keep every S-th labelled frame of each person")
    ap.add_argument("--dims", type=_dims_arg, default=None,
                    help="sizes of branches no file has, e.g. spe=16,wrd=384")
    ap.add_argument("-n", "--dry-run", action="store_true",
                    help="count the clips and the file size, write nothing")
    args = ap.parse_args(argv)
    if args.clip_len < 1 or args.stride < 1:
        ap.error("-T and --stride must be >= 1")
    ann = {k: getattr(args, k) for k in affwild2.TASKS if getattr(args, k)}
    if not ann:
        ap.error("give at least one of --au, --expr, --va")

    def log(s):
        print(s, file=sys.stderr)

    try:
        if args.dry_run:
            per_video, info = plan(args.features, ann, args.stride, log)
            d = dict(DEFAULT_DIMS)
            d.update({b: v[0] for b, v in info["dims"].items()})
            d.update(args.dims or {})
            st = info["stats"]
            size = st["clips"] * 4 * (d["img"] + 3 + 3 + 12 + 1 + 2
                                      + args.clip_len * sum(
                                          d[b] for b in CLIP_BRANCHES))
            print(f"{len(per_video)} videos, {st['labelled']} labelled "
                  f"frames, {st['no_face']} without a face, {st['clips']} "
                  f"clips, about {size / 1e9:.2f} GB")
            return 0
        stats, dims, names = make_clips(args.features, ann, args.output,
                                        args.clip_len, args.stride,
                                        args.dims, log)
    except (ClipError, affwild2.AnnotationError, featlib.FeatureError) as e:
        print(f"make_clips.py: {e}", file=sys.stderr)
        return 1
    print(f"{args.output}: {stats['clips']} clips of {args.clip_len} frames "
          f"from {len(names)} videos ({stats['labelled']} labelled frames, "
          f"{stats['no_face']} without a face); sizes "
          + ", ".join(f"{b}={d}" for b, d in dims.items()), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
