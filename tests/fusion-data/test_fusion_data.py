#!/usr/bin/env python3
# gst-affect — tests/fusion-data
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Tests of the Aff-Wild2 data path (models/fusion/affwild2.py, features.py,
extract.py, make_clips.py). Needs numpy and safetensors only.

    python tests/fusion-data/test_fusion_data.py [-v]

The extraction tests run the real plugin with gst-launch-1.0 (found through
GST_PLUGIN_PATH / GST_PLUGIN_PATH_1_0) on short clips made from the demo
photos; they are skipped with a message when the face models or the test
photos are missing (unless AFFECT_REQUIRE_MODELS=1), or when a GStreamer
element they need is not installed.
"""

import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from contextlib import redirect_stderr

import numpy as np
from safetensors import safe_open

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("AFFECT_TEST_SOURCE_ROOT",
                     os.path.normpath(os.path.join(HERE, "..", "..")))
FUSION = os.path.join(SRC, "models", "fusion")
sys.path.insert(0, FUSION)

import affwild2  # noqa: E402
import features as featlib  # noqa: E402
import make_clips  # noqa: E402

AU_HEAD = ",".join(affwild2.AU_NAMES)
EXPR_HEAD = ",".join(affwild2.EXPR_NAMES)


def cache_dir():
    c = os.environ.get("AFFECT_CACHE_DIR")
    if c:
        return c
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache")
    return os.path.join(base, "gst-affect")


def model_dir():
    return os.environ.get("AFFECT_MODEL_DIR") or os.path.join(cache_dir(),
                                                              "models")


def write(path, text):
    with open(path, "w", newline="") as f:
        f.write(text)
    return path


def load_st(path):
    with safe_open(path, framework="numpy") as f:
        return {k: f.get_tensor(k) for k in f.keys()}, f.metadata()


class TmpDir(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="affect-fusion-data-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def p(self, *parts):
        return os.path.join(self.tmp, *parts)


# ---- annotation readers ---------------------------------------------------

class TestAnnotations(TmpDir):
    def test_au(self):
        f = write(self.p("v.txt"), AU_HEAD + "\n"
                  "0,0,0,0,0,0,1,0,0,0,0,0\n"
                  "-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1\r\n"
                  "1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1\n\n\n")
        a = affwild2.read_au(f)
        self.assertEqual(a.dtype, np.int32)
        self.assertEqual(a.shape, (3, 12))
        self.assertEqual(a[0, 6], 1)
        self.assertEqual(a[0].sum(), 1)
        self.assertTrue((a[1] == -1).all())
        self.assertEqual(a[2].tolist(), [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1])
        self.assertEqual(affwild2.labelled("au", a).tolist(),
                         [True, False, True])

    def test_expr_va(self):
        e = affwild2.read_expr(write(self.p("e.txt"), "\ufeff" + EXPR_HEAD
                                     + "\n0\n7\n-1\n4\n"))
        self.assertEqual(e.tolist(), [0, 7, -1, 4])
        self.assertEqual(e.dtype, np.int32)
        v = affwild2.read_va(write(self.p("va.txt"), "valence,arousal\n"
                                   "0.25,-0.5\n-5,-5\n1,-1\n"))
        self.assertEqual(v.dtype, np.float32)
        np.testing.assert_array_equal(
            v, np.array([[0.25, -0.5], [-5, -5], [1, -1]], np.float32))
        self.assertEqual(affwild2.labelled("va", v).tolist(),
                         [True, False, True])
        self.assertEqual(affwild2.labelled("expr", e).tolist(),
                         [True, True, False, True])

    def test_header_only(self):
        a = affwild2.read_au(write(self.p("h.txt"), AU_HEAD + "\n"))
        self.assertEqual(a.shape, (0, 12))

    def bad(self, reader, text, where, words):
        f = write(self.p("bad.txt"), text)
        with self.assertRaises(affwild2.AnnotationError) as cm:
            reader(f)
        msg = str(cm.exception)
        self.assertTrue(msg.startswith(f"{f}:{where}:" if where else f),
                        msg)
        for w in words:
            self.assertIn(w, msg)

    def test_bad_lines(self):
        ok = "0,0,0,0,0,0,0,0,0,0,0,0\n"
        self.bad(affwild2.read_au, AU_HEAD + "\n" + ok
                 + "0,0,0,0,0,0,0,0,0,0,0\n", 3, ["11 values", "12"])
        self.bad(affwild2.read_au, AU_HEAD + "\n" + ok
                 + "0,0,0,0,0,2,0,0,0,0,0,0\n", 3, ["AU10 = 2"])
        self.bad(affwild2.read_au, AU_HEAD + "\n"
                 + "0,0,x,0,0,0,0,0,0,0,0,0\n", 2, ["'x' is not a number"])
        self.bad(affwild2.read_au, AU_HEAD + "\n" + ok + "\n" + ok, 3,
                 ["empty line"])
        self.bad(affwild2.read_au, "AU1,AU2\n" + ok, 1, ["bad header"])
        self.bad(affwild2.read_au, "", 0, ["empty file"])
        self.bad(affwild2.read_expr, EXPR_HEAD + "\n3\n8\n", 3,
                 ["class 8", "0-7"])
        self.bad(affwild2.read_expr, EXPR_HEAD + "\n1.5\n", 2,
                 ["not an integer"])
        self.bad(affwild2.read_expr, EXPR_HEAD + "\n1,2\n", 2,
                 ["2 values, expected 1"])
        self.bad(affwild2.read_va, "valence,arousal\n0.1,0.2\n0.1,1.5\n", 3,
                 ["arousal = 1.5"])
        self.bad(affwild2.read_va, "valence,arousal\nnan,0\n", 2,
                 ["valence"])
        self.bad(affwild2.read_va, EXPR_HEAD + "\n0\n", 1, ["bad header"])
        with open(self.p("bin.txt"), "wb") as f:
            f.write(b"valence,arousal\n0.1,0.2\n\xff\xfe,0\n")
        with self.assertRaises(affwild2.AnnotationError) as cm:
            affwild2.read_va(self.p("bin.txt"))
        self.assertIn("bin.txt:3: not UTF-8", str(cm.exception))
        with self.assertRaises(affwild2.AnnotationError) as cm:
            affwild2.read_va(self.p("missing.txt"))
        self.assertIn("missing.txt: cannot read", str(cm.exception))

    def test_names_and_sets(self):
        self.assertEqual(affwild2.split_name("12-24-1920x1080_left"),
                         ("12-24-1920x1080", "left"))
        self.assertEqual(affwild2.split_name("v_right"), ("v", "right"))
        self.assertEqual(affwild2.split_name("_left"), ("_left", None))
        vids = {"a", "b", "c_left"}
        self.assertEqual(affwild2.resolve_subject("a", vids), ("a", None))
        self.assertEqual(affwild2.resolve_subject("b_right", vids),
                         ("b", "right"))
        # a video whose own name ends in _left is one person
        self.assertEqual(affwild2.resolve_subject("c_left", vids),
                         ("c_left", None))
        self.assertIsNone(affwild2.resolve_subject("d_left", vids))
        os.makedirs(self.p("au1"))
        os.makedirs(self.p("au2"))
        write(self.p("au1", "a.txt"), AU_HEAD + "\n" + "0," * 11 + "1\n")
        write(self.p("au1", "notes.md"), "x")
        write(self.p("au2", "a.txt"), AU_HEAD + "\n")
        sets = affwild2.load_sets({"au": [self.p("au1")]})
        self.assertEqual(list(sets), ["a"])
        self.assertEqual(sets["a"]["au"][0, 11], 1)
        with self.assertRaises(affwild2.AnnotationError) as cm:
            affwild2.load_sets({"au": [self.p("au1"), self.p("au2")]})
        self.assertIn("given twice", str(cm.exception))


# ---- feature dumps --------------------------------------------------------

def rec(frame, faces, pts=None):
    return json.dumps({"schema": 1, "pts": pts, "frame": frame,
                       "faces": faces}) + "\n"


class TestDump(TmpDir):
    def test_hand_written(self):
        lm = [[float(i), float(i + 1)] for i in range(68)]
        text = (rec(0, [], 0)
                + rec(1, [{"id": 4, "box": [1, 2, 3, 4], "score": 0.5,
                           "landmarks": lm,
                           "features": {"img": [1, 2, 3], "exp": [4, 5]}},
                          {"id": 2, "va": [0.1, 0.2]}], 40)
                + rec(7, [{"id": 4, "features": {"exp": [None, 6],
                                                 "spe": [7]}}]))
        path = write(self.p("d.jsonl"), text)
        d = featlib.read_dump(path)
        self.assertEqual(d.n_frames, 3)
        self.assertEqual(d.pts.tolist(), [0, 40, -1])
        self.assertEqual(sorted(d.tracks), [2, 4])
        self.assertEqual(d.dims, {"img": 3, "exp": 2, "spe": 1})
        t = d.tracks[4]
        # frame = line index, offset = the dump's "frame"
        self.assertEqual(t["frame"].tolist(), [1, 2])
        self.assertEqual(t["offset"].tolist(), [1, 7])
        self.assertEqual(t["present"].tolist(), [[1, 1, 0, 0], [0, 1, 1, 0]])
        np.testing.assert_array_equal(t["img"], [[1, 2, 3], [0, 0, 0]])
        self.assertTrue(np.isnan(t["exp"][1, 0]))
        self.assertEqual(t["exp"][1, 1], 6)
        self.assertEqual(t["wrd"].shape, (2, 0))
        np.testing.assert_array_equal(t["box"][0], [1, 2, 3, 4])
        self.assertTrue(np.isnan(t["box"][1]).all())
        self.assertEqual(t["landmarks"][0, 67].tolist(), [67, 68])
        self.assertTrue(np.isnan(t["score"][1]))
        t2 = d.tracks[2]
        self.assertEqual(t2["present"].tolist(), [[0, 0, 0, 0]])
        # write + read back
        out = self.p("v")
        paths = featlib.write_tracks(d, out, {"video": "v", "fps": 25})
        self.assertEqual(sorted(os.path.basename(p) for p in paths),
                         ["track-2.safetensors", "track-4.safetensors"])
        back, meta = featlib.read_track(featlib.track_path(out, 4))
        self.assertEqual(meta["format"], "gst-affect-track")
        self.assertEqual(meta["n_frames"], "3")
        self.assertEqual(meta["track"], "4")
        for k, v in t.items():
            np.testing.assert_array_equal(back[k], v)

    def bad(self, text, line, words):
        path = write(self.p("bad.jsonl"), text)
        with self.assertRaises(featlib.FeatureError) as cm:
            featlib.read_dump(path)
        msg = str(cm.exception)
        self.assertTrue(msg.startswith(f"{path}:{line}:"), msg)
        for w in words:
            self.assertIn(w, msg)

    def test_bad_dumps(self):
        good = rec(0, [{"id": 1, "features": {"exp": [1, 2]}}])
        self.bad(good + good[:30], 2, ["not JSON", "truncated"])
        self.bad(good + "\n", 2, ["empty line"])
        self.bad(good + rec(1, [{"id": 1, "features": {"exp": [1]}}]), 2,
                 ["features.exp has 1 values", "earlier frames 2"])
        self.bad(good.replace('"schema": 1', '"schema": 2'), 1, ["schema"])
        self.bad(rec(0, [{"id": 1}, {"id": 1}]), 1, ["twice"])
        self.bad(rec(0, [{"id": -3}]), 1, ["bad track id"])
        self.bad(rec(0, [{"id": 1, "box": [1, 2]}]), 1, ["box has 2"])
        self.bad(rec(0, [{"id": 1, "features": {"xyz": [1]}}]), 1,
                 ["unknown feature branch"])
        self.bad(rec(0, [{"id": 1, "features": {"img": ["a"]}}]), 1,
                 ["features.img[0] is not a number"])

    def test_bad_track_file(self):
        from safetensors.numpy import save_file
        p = self.p("x.safetensors")
        save_file({"a": np.zeros(2, np.float32)}, p, metadata={"x": "1"})
        with self.assertRaises(featlib.FeatureError) as cm:
            featlib.read_track(p)
        self.assertIn("format", str(cm.exception))
        write(p, "garbage")
        with self.assertRaises(featlib.FeatureError) as cm:
            featlib.read_track(p)
        self.assertIn(p, str(cm.exception))

    def test_default_features_string(self):
        # features.py repeats export.py's constant (export.py needs torch)
        with open(os.path.join(FUSION, "export.py")) as f:
            src = f.read()
        flat = "".join(src.split("DEFAULT_FEATURES = (", 1)[1]
                       .split(")", 1)[0].split('"')[1::2])
        self.assertEqual(flat, featlib.DEFAULT_FEATURES)


# ---- make_clips on synthetic feature files ----------------------------------

def vec(track, frame, branch, d):
    """A recognisable vector: track * 10000 + frame * 10 + branch index."""
    return np.full(d, track * 10000 + frame * 10
                   + featlib.BRANCHES.index(branch), np.float32)


def synth_track(folder, video, tid, n_frames, frames, boxes, missing=(),
                dims=None, width=100, features=featlib.DEFAULT_FEATURES):
    """A track file: rows on `frames`, box per frame from boxes(f), branch b
    absent on the frames of missing[b]."""
    dims = dims or {"img": 3, "exp": 4, "spe": 2, "wrd": 5}
    missing = dict(missing)
    f = len(frames)
    t = {"frame": np.asarray(frames, np.int64),
         "offset": np.asarray(frames, np.int64),
         "pts": np.asarray(frames, np.int64) * 40_000_000,
         "box": np.asarray([boxes(fr) for fr in frames], np.float32)
         .reshape(f, 4),
         "score": np.ones(f, np.float32),
         "landmarks": np.full((f, 68, 2), np.nan, np.float32),
         "present": np.zeros((f, 4), np.uint8)}
    for j, b in enumerate(featlib.BRANCHES):
        x = np.zeros((f, dims[b]), np.float32)
        for i, fr in enumerate(frames):
            if fr not in missing.get(b, ()) and dims[b] > 0:
                x[i] = vec(tid, fr, b, dims[b])
                t["present"][i, j] = 1
        t[b] = x
    d = os.path.join(folder, video)
    os.makedirs(d, exist_ok=True)
    featlib.write_track(featlib.track_path(d, tid), t,
                        {"video": video, "track": tid, "n_frames": n_frames,
                         "features": features, "width": width,
                         "fps": 25})
    write(os.path.join(d, "done.json"), "{}")
    return t


def ref_clip(tracks, n_frames, tid, p, t, dims):
    """Independent reference of affectfuse's centred window (start =
    frame - clip_len / 2 in C integer division)."""
    start = p - int(t / 2)
    out = {b: np.zeros((t, dims[b]), np.float32) for b in ("exp", "spe",
                                                          "wrd")}
    present = [0.0, 0.0, 0.0]
    tr = tracks[tid]
    for k in range(t):
        f = start + k
        if f < 0 or f >= n_frames:
            continue
        rows = [i for i, fr in enumerate(tr["frame"]) if fr == f]
        if not rows:
            continue
        r = rows[0]
        for j, b in enumerate(("exp", "spe", "wrd")):
            if tr["present"][r, 1 + j]:
                out[b][k] = tr[b][r]
                present[j] = 1.0
    return out, present


class TestMakeClips(TmpDir):
    def build(self):
        fd = self.p("feat")
        # video "one": one person, track 1 on frames 0..9 (spe missing on
        # 3..9, wrd only on 5), a small track 2 on frames 2..4 (largest
        # box wins: track 1), a track 3 without image on frame 6
        n1 = 10
        self.t1 = {
            1: synth_track(fd, "one", 1, n1, list(range(10)),
                           lambda f: [10, 10, 30, 30],
                           missing={"spe": range(3, 10),
                                    "wrd": [f for f in range(10) if f != 5],
                                    "img": [8]}),
            2: synth_track(fd, "one", 2, n1, [2, 3, 4],
                           lambda f: [60, 10, 10, 10]),
            3: synth_track(fd, "one", 3, n1, [6, 7],
                           lambda f: [0, 0, 90, 90], missing={"img": [6]}),
        }
        # video "two": two people; track 5 left (x 10), track 6 right (x 70)
        # on frames 0..5; frame 6..7 only track 6 (right half); track 7 a
        # new id for the left person on frames 8..9 (gap at 6, 7)
        n2 = 10
        self.t2 = {
            5: synth_track(fd, "two", 5, n2, list(range(6)),
                           lambda f: [10, 10, 20, 20]),
            6: synth_track(fd, "two", 6, n2, list(range(8)),
                           lambda f: [70, 10, 20, 20]),
            7: synth_track(fd, "two", 7, n2, [8, 9],
                           lambda f: [12, 10, 20, 20]),
        }
        os.makedirs(self.p("feat", "unfinished"))
        for d in ("AU", "EXPR", "VA"):
            os.makedirs(self.p("ann", d))
        au = ["-1," * 11 + "-1"] * n1
        au[0] = "1,0,0,0,0,0,0,0,0,0,0,0"
        au[8] = "0,1,0,0,0,0,0,0,0,0,0,0"  # no image at 8: no clip
        au[9] = "0,0,1,0,0,0,0,0,0,0,0,1"
        write(self.p("ann", "AU", "one.txt"),
              AU_HEAD + "\n" + "\n".join(au) + "\n")
        # EXPR shorter than the video; frame 6 chooses track 1 (track 3,
        # larger, has no image there), frame 7 track 3
        write(self.p("ann", "EXPR", "one.txt"),
              EXPR_HEAD + "\n-1\n-1\n-1\n-1\n-1\n-1\n5\n6\n")
        write(self.p("ann", "VA", "two_left.txt"), "valence,arousal\n"
              + "0.1,0.2\n" + "-5,-5\n" * 6 + "0.3,0.4\n0.5,0.6\n")
        write(self.p("ann", "VA", "two_right.txt"), "valence,arousal\n"
              + "-5,-5\n" * 6 + "-0.1,-0.2\n0.9,-0.9\n")
        write(self.p("ann", "VA", "zzz.txt"), "valence,arousal\n0,0\n")
        return fd

    def run_clips(self, t, stride=1, extra=()):
        fd = self.build()
        out = self.p(f"clips-{t}.safetensors")
        err = io.StringIO()
        with redirect_stderr(err):
            rc = make_clips.main([fd, "-o", out, "-T", str(t), "--stride",
                                  str(stride),
                                  "--au", self.p("ann", "AU"),
                                  "--expr", self.p("ann", "EXPR"),
                                  "--va", self.p("ann", "VA")] + list(extra))
        self.assertEqual(rc, 0, err.getvalue())
        self.err = err.getvalue()
        return load_st(out)

    def check_clips(self, t):
        data, meta = self.run_clips(t)
        dims = {"img": 3, "exp": 4, "spe": 2, "wrd": 5}
        self.assertEqual(meta["clip_len"], str(t))
        self.assertEqual(meta["centre"], str(t // 2))
        self.assertEqual(meta["features"], featlib.DEFAULT_FEATURES)
        self.assertEqual(json.loads(meta["videos"]), ["one", "two"])
        self.assertIn("unfinished", self.err)
        self.assertIn("zzz", self.err)
        # expected clips: (video id, track, frame), in file order
        want = [(0, 1, 0), (0, 1, 6), (0, 3, 7), (0, 1, 9),
                (1, 5, 0), (1, 7, 8), (1, 6, 6), (1, 6, 7)]
        got = list(zip(data["video"].tolist(), data["track"].tolist(),
                       data["frame"].tolist()))
        self.assertEqual(got, want)
        n = len(want)
        self.assertEqual(data["img"].shape, (n, 3))
        for b in ("exp", "spe", "wrd"):
            self.assertEqual(data[b].shape, (n, t, dims[b]))
            self.assertEqual(data[b].dtype, np.float32)
        self.assertEqual(data["au_label"].dtype, np.int32)
        self.assertEqual(data["expr_label"].dtype, np.int32)
        self.assertEqual(data["video"].dtype, np.int32)
        for i, (v, tid, p) in enumerate(want):
            tracks = self.t1 if v == 0 else self.t2
            np.testing.assert_array_equal(data["img"][i],
                                          vec(tid, p, "img", 3))
            x, pres = ref_clip(tracks, 10, tid, p, t, dims)
            for b in ("exp", "spe", "wrd"):
                np.testing.assert_array_equal(data[b][i], x[b],
                                              err_msg=f"clip {i} {b}")
            self.assertEqual(data["present"][i].tolist(), pres)
        # labels
        au = data["au_label"]
        self.assertEqual(au[0].tolist(), [1] + [0] * 11)
        self.assertEqual(au[3].tolist(), [0, 0, 1] + [0] * 8 + [1])
        self.assertTrue((au[1] == -1).all() and (au[4:] == -1).all())
        self.assertEqual(data["expr_label"].tolist(),
                         [-1, 5, 6, -1, -1, -1, -1, -1])
        va = data["va_label"]
        np.testing.assert_allclose(
            va, [[-5, -5]] * 4 + [[0.1, 0.2], [0.5, 0.6], [-0.1, -0.2],
                                  [0.9, -0.9]], rtol=0, atol=1e-7)
        self.assertIn("8 clips", self.err)
        # labelled: one 0,8,9 + 6,7 (EXPR); two_left 0,7,8; two_right 6,7
        # -> 10; without a face: one@8 (no image), two_left@7 (only the
        # right person's face, right half)
        self.assertIn("10 labelled frames, 2 without a face", self.err)
        return data

    def test_even_clip(self):
        d = self.check_clips(4)
        # T = 4: window p-2 .. p+1; clip 0 (p = 0) starts with two zero rows
        self.assertTrue((d["exp"][0, :2] == 0).all())
        self.assertEqual(d["exp"][0, 2, 0], 10000 + 0 + 1)
        self.assertEqual(d["exp"][0, 3, 0], 10000 + 10 + 1)
        # p = 9: frames 7, 8, 9, 10 (outside the video)
        self.assertEqual(d["exp"][3, :, 0].tolist(),
                         [10071, 10081, 10091, 0])
        # p = 6: spe missing on 3..9 -> absent; wrd only at 5 -> present
        self.assertEqual(d["present"][1].tolist(), [1, 0, 1])
        self.assertEqual(d["wrd"][1, :, 0].tolist(), [0, 10053, 0, 0])

    def test_odd_clip(self):
        d = self.check_clips(5)
        # T = 5: window p-2 .. p+2
        self.assertEqual(d["exp"][3, :, 0].tolist(),
                         [10071, 10081, 10091, 0, 0])
        # track 7 (frames 8, 9) at p = 8: frames 6..10
        self.assertEqual(d["exp"][5, :, 0].tolist(),
                         [0, 0, 70081, 70091, 0])

    def test_clip_len_one_and_stride(self):
        data, _ = self.run_clips(1, stride=2)
        # every 2nd labelled frame of each person: one 0, 7, 9;
        # two_left 0, 8; two_right 6
        self.assertEqual(data["exp"].shape[1], 1)
        for i in range(data["exp"].shape[0]):
            p, tid = int(data["frame"][i]), int(data["track"][i])
            self.assertEqual(data["exp"][i, 0, 0], tid * 10000 + p * 10 + 1)
        self.assertEqual(data["frame"].tolist(), [0, 7, 9, 0, 8, 6])

    def test_errors(self):
        fd = self.build()
        # features string of one file differs
        synth_track(fd, "two", 9, 10, [1], lambda f: [0, 0, 5, 5],
                    features="img=other")
        err = io.StringIO()
        with redirect_stderr(err):
            rc = make_clips.main([fd, "-o", self.p("c.safetensors"),
                                  "--va", self.p("ann", "VA")])
        self.assertEqual(rc, 1)
        self.assertIn("features 'img=other' differ", err.getvalue())
        self.assertFalse(os.path.exists(self.p("c.safetensors")))
        os.remove(featlib.track_path(os.path.join(fd, "two"), 9))
        # a bad annotation line is reported with file:line
        write(self.p("ann", "VA", "one.txt"), "valence,arousal\n0,0\n3,0\n")
        err = io.StringIO()
        with redirect_stderr(err):
            rc = make_clips.main([fd, "-o", self.p("c.safetensors"),
                                  "--va", self.p("ann", "VA")])
        self.assertEqual(rc, 1)
        self.assertIn("one.txt:3: valence = 3", err.getvalue())
        # no labelled frame with a face
        os.remove(self.p("ann", "VA", "one.txt"))
        for f in ("two_left.txt", "two_right.txt"):
            write(self.p("ann", "VA", f), "valence,arousal\n-5,-5\n")
        with redirect_stderr(io.StringIO()) as err:
            rc = make_clips.main([fd, "-o", self.p("c.safetensors"),
                                  "--va", self.p("ann", "VA")])
        self.assertEqual(rc, 1)
        self.assertIn("no clip", err.getvalue())


# ---- extraction with the real plugin --------------------------------------

def random_fusion_model(path, dims, t, hidden=8, heads=2, mlp=8, seed=1):
    """A fusion model file (docs/fusion.md) with small random weights."""
    from safetensors.numpy import save_file
    rng = np.random.default_rng(seed)
    h = hidden
    w = {}

    def r(*shape):
        return (rng.standard_normal(shape) * 0.05).astype(np.float32)

    for m in ("exp", "spe", "wrd"):
        w[f"gru_{m}.weight_ih_l0"] = r(3 * h, dims[m])
        w[f"gru_{m}.weight_hh_l0"] = r(3 * h, h)
        w[f"gru_{m}.bias_ih_l0"] = r(3 * h)
        w[f"gru_{m}.bias_hh_l0"] = r(3 * h)
        w[f"query_{m}.weight"] = r(h, dims["img"])
        w[f"query_{m}.bias"] = r(h)
        w[f"attn_{m}.in_proj_weight"] = r(3 * h, h) * 10
        w[f"attn_{m}.in_proj_bias"] = r(3 * h)
        w[f"attn_{m}.out_proj.weight"] = r(h, h) * 10
        w[f"attn_{m}.out_proj.bias"] = r(h)
        for n in ("norm1", "norm2"):
            w[f"{n}_{m}.weight"] = 1 + r(h)
            w[f"{n}_{m}.bias"] = r(h)
        w[f"ffn_{m}.0.weight"] = r(4 * h, h) * 10
        w[f"ffn_{m}.0.bias"] = r(4 * h)
        w[f"ffn_{m}.2.weight"] = r(h, 4 * h) * 10
        w[f"ffn_{m}.2.bias"] = r(h)
        w[f"missing_{m}"] = r(h) * 20
    z = dims["img"] + 3 * h
    for task, n in (("au", 12), ("expr", 8), ("va", 2)):
        w[f"head_{task}.0.weight"] = r(mlp, z) * 10
        w[f"head_{task}.0.bias"] = r(mlp)
        w[f"head_{task}.2.weight"] = r(n, mlp) * 20
        w[f"head_{task}.2.bias"] = r(n)
    meta = {"format": "gst-affect-fusion", "version": "1",
            "clip_len": str(t), "hidden": str(h), "heads": str(heads),
            "mlp_hidden": str(mlp), "tasks": "au,expr,va",
            "au_labels": ",".join(affwild2.AU_NAMES),
            "expr_labels": ",".join(affwild2.EXPR_NAMES),
            "features": featlib.DEFAULT_FEATURES}
    meta.update({f"d_{b}": str(dims[b]) for b in featlib.BRANCHES})
    save_file(w, path, metadata=meta)


def find_affect_fuse():
    p = os.environ.get("AFFECT_FUSE")
    if p:
        return p
    for var in ("GST_PLUGIN_PATH_1_0", "GST_PLUGIN_PATH"):
        for d in filter(None, os.environ.get(var, "").split(os.pathsep)):
            c = os.path.join(d, "..", "models", "tools", "affect-fuse")
            if os.access(c, os.X_OK):
                return os.path.normpath(c)
    return shutil.which("affect-fuse")


def gst_ok(elements):
    for e in elements:
        r = subprocess.run(["gst-inspect-1.0", e], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        if r.returncode != 0:
            return e
    return None


MODELS = ("tiny_face_detector_model", "face_landmark_68_model",
          "face_expression_model", "face_recognition_model")


class TestExtract(TmpDir):
    @classmethod
    def setUpClass(cls):
        cls.skip = None
        if shutil.which("gst-launch-1.0") is None:
            cls.skip = "gst-launch-1.0 not installed"
            return
        missing = gst_ok(["facecrop", "affectfeatures", "affectsink",
                          "pngdec", "imagefreeze", "jpegenc", "avimux",
                          "matroskamux", "audiotestsrc", "subparse",
                          "decodebin", "videoscale"])
        if missing:
            cls.skip = f"GStreamer element '{missing}' not found"
            return
        need = [os.path.join(model_dir(), m + ".safetensors") for m in MODELS]
        need += [os.path.join(cache_dir(), "test-inputs", f"sample{i}.png")
                 for i in (1, 3)]
        absent = [p for p in need if not os.path.isfile(p)]
        if absent:
            msg = (f"missing {absent[0]} (and {len(absent) - 1} more): run "
                   "affect-fetch-models (models/face/fetch-face-models.sh)")
            if os.environ.get("AFFECT_REQUIRE_MODELS") == "1":
                raise RuntimeError(msg)
            cls.skip = msg

    def setUp(self):
        if self.skip:
            self.skipTest(self.skip)
        super().setUp()

    def make_video(self, path, photo, frames, audio=False):
        png = os.path.join(cache_dir(), "test-inputs", photo)
        v = ["filesrc", f"location={png}", "!", "pngdec", "!", "imagefreeze",
             f"num-buffers={frames}", "!", "videoconvert", "!", "videoscale",
             "!", "video/x-raw,width=480,height=320,framerate=10/1", "!",
             "jpegenc", "!", "queue", "!", "mux."]
        if audio:
            a = ["audiotestsrc", "num-buffers=4", "samplesperbuffer=4000",
                 "freq=220", "!", "audio/x-raw,rate=16000,channels=1", "!",
                 "queue", "!", "mux."]
            mux = ["matroskamux", "name=mux"]
        else:
            a, mux = [], ["avimux", "name=mux"]
        tmp = self.p("made-video")  # path without gst-launch syntax
        cmd = (["gst-launch-1.0", "-q"] + v + a + mux
               + ["!", "filesink", f"location={tmp}"])
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        os.rename(tmp, path)

    def extract(self, *args):
        cmd = [sys.executable, os.path.join(FUSION, "extract.py")] + list(
            args)
        r = subprocess.run(cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, errors="replace",
                           timeout=600)
        return r.returncode, r.stdout, r.stderr

    def test_extract(self):
        vd = self.p('videos, "dir"!\\')  # gst-launch syntax in the path
        os.makedirs(vd)
        self.make_video(os.path.join(vd, "alpha.avi"), "sample1.png", 3)
        self.make_video(os.path.join(vd, "beta.mkv"), "sample3.png", 3,
                        audio=True)
        write(os.path.join(vd, "beta.srt"),
              "1\n00:00:00,000 --> 00:00:00,200\nhello happy world\n\n")
        with open(os.path.join(vd, "broken.mp4"), "wb") as f:
            f.write(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
        write(os.path.join(vd, "readme.txt"), "not a video")
        out = self.p("feat !")

        rc, so, se = self.extract(vd, "-o", out, "-j", "2", "--keep-jsonl",
                                  "--threads", "1")
        self.assertEqual(rc, 1, se)  # broken.mp4 failed
        self.assertIn("FAILED broken", se)
        self.assertIn("2 extracted, 0 already done, 1 failed", se)
        self.assertFalse(os.path.exists(os.path.join(out, "broken")))
        self.assertTrue(os.path.isfile(os.path.join(out, ".logs",
                                                    "broken.log")))
        self.assertEqual(sorted(os.listdir(out)),
                         [".extract.lock", ".logs", "alpha", "beta"])
        n_tracks = {}
        for name, audio in (("alpha", False), ("beta", True)):
            d = os.path.join(out, name)
            with open(os.path.join(d, "done.json")) as f:
                done = json.load(f)
            self.assertEqual(done["n_frames"], 3)
            self.assertEqual(done["audio"], audio)
            self.assertEqual(done["text"], audio)
            self.assertEqual(done["fps"], 10.0)
            self.assertEqual((done["width"], done["height"]), (480, 320))
            self.check_tracks(d, name, done, audio)
            n_tracks[name] = len(done["tracks"])
        self.assertGreaterEqual(n_tracks["alpha"], 2)  # sample1: 3 faces
        self.check_clips_match_affectfuse(vd, out)

        # resume: nothing to do for the finished videos
        mt = os.path.getmtime(os.path.join(out, "alpha", "done.json"))
        rc, so, se = self.extract(vd, "-o", out, "-j", "2", "--keep-jsonl",
                                  "--threads", "1")
        self.assertEqual(rc, 1, se)
        self.assertIn("0 extracted, 2 already done, 1 failed", se)
        self.assertEqual(
            mt, os.path.getmtime(os.path.join(out, "alpha", "done.json")))
        # changed settings: listed for redo
        rc, so, se = self.extract(vd, "-o", out, "--dry-run",
                                  "--keep-jsonl", "--threads", "1")
        self.assertEqual(rc, 0, se)
        self.assertRegex(so, r"done +alpha")
        self.assertRegex(so, r"todo +broken")
        rc, so, se = self.extract(vd, "-o", out, "--dry-run",
                                  "--detect-interval", "2", "--threads", "1")
        self.assertRegex(so, r"redo \(settings changed\) +alpha")
        self.assertIn("facecrop", so)
        # one video given as a file, settings changed: redone in place
        rc, so, se = self.extract(os.path.join(vd, "alpha.avi"), "-o", out,
                                  "--no-text", "--threads", "1")
        self.assertEqual(rc, 0, se)
        self.assertIn("1 extracted", se)
        self.assertFalse(os.path.exists(os.path.join(out, "alpha",
                                                     "features.jsonl")))
        self.assertEqual([n for n in os.listdir(out) if "tmp" in n
                          or "old" in n], [])

    def check_tracks(self, d, name, done, audio):
        """The track files against the kept dump, read independently."""
        with open(os.path.join(d, "features.jsonl")) as f:
            recs = [json.loads(s) for s in f]
        self.assertEqual(len(recs), 3)
        ids = sorted({f["id"] for r in recs for f in r["faces"]})
        self.assertEqual(ids, done["tracks"])
        self.assertGreaterEqual(len(ids), 1)
        files = sorted(n for n in os.listdir(d) if n.endswith(".safetensors"))
        self.assertEqual(files, sorted(f"track-{i}.safetensors" for i in ids))
        any_spe = any_wrd = False
        for tid in ids:
            data, meta = featlib.read_track(featlib.track_path(d, tid))
            self.assertEqual(meta["video"], name)
            self.assertEqual(meta["n_frames"], "3")
            self.assertEqual(meta["features"], featlib.DEFAULT_FEATURES)
            self.assertEqual(meta["width"], "480")
            self.assertIn("affectfeatures", meta["pipeline"])
            rows = [(i, f) for i, r in enumerate(recs) for f in r["faces"]
                    if f["id"] == tid]
            self.assertEqual(data["frame"].tolist(), [i for i, _ in rows])
            for k, (i, f) in enumerate(rows):
                np.testing.assert_array_equal(
                    data["box"][k], np.asarray(f["box"], np.float32))
                self.assertEqual(data["pts"][k], recs[i]["pts"])
                feats = f.get("features", {})
                for j, b in enumerate(featlib.BRANCHES):
                    self.assertEqual(data["present"][k, j], b in feats)
                    if b in feats:
                        np.testing.assert_array_equal(
                            data[b][k], np.asarray(feats[b], np.float32))
                    else:
                        self.assertTrue((data[b][k] == 0).all())
                self.assertEqual(len(feats["img"]), 256)
                self.assertEqual(len(feats["exp"]), 256)
            any_spe |= bool(data["present"][:, 2].any())
            any_wrd |= bool(data["present"][:, 3].any())
        self.assertEqual(any_spe, audio)
        if not audio:
            self.assertFalse(any_wrd)
        elif os.path.isdir(os.path.join(model_dir(), "all-MiniLM-L6-v2")):
            self.assertTrue(any_wrd)

    def check_clips_match_affectfuse(self, vd, out):
        """make_clips' clips of the real features, run by affect-fuse, give
        the predictions affectfuse attaches in the pipeline: the clips are
        affectfuse's centred windows (T = 4 on a 3-frame video: padding on
        both sides), with the same presence flags."""
        tool = find_affect_fuse()
        if tool is None:
            print("\nnote: affect-fuse not found (set AFFECT_FUSE): the "
                  "affectfuse parity check is skipped", file=sys.stderr)
            return
        sys.path.insert(0, FUSION)
        import extract
        t = 4
        model = self.p("model.safetensors")
        random_fusion_model(model, {"img": 256, "exp": 256, "spe": 16,
                                    "wrd": 384}, t)
        ann = self.p("expr")
        os.makedirs(ann)
        write(os.path.join(ann, "beta.txt"), EXPR_HEAD + "\n0\n1\n2\n")
        clips = self.p("clips.safetensors")
        with redirect_stderr(io.StringIO()) as err:
            rc = make_clips.main([out, "-o", clips, "-T", str(t),
                                  "--expr", ann])
        self.assertEqual(rc, 0, err.getvalue())
        pred = self.p("pred.safetensors")
        subprocess.run([tool, model, clips, "-o", pred], check=True)
        c, _ = load_st(clips)
        p, _ = load_st(pred)
        self.assertEqual(c["frame"].tolist(), [0, 1, 2])
        # the speech and word branches take part
        self.assertTrue(c["present"][:, 1].all())
        self.assertTrue(c["present"][:, 0].all())

        args = extract.parse_args([vd, "-o", out, "--threads", "1"])
        video = extract.Video(os.path.join(vd, "beta.mkv"))
        jsonl = self.p("fused.jsonl")
        toks = extract.pipeline_tokens(args, video, True, True, jsonl)
        i = toks.index("affectsink")
        toks[i:i] = ["affectfuse",
                     "model=" + extract._loc(model)[len("location="):], "!"]
        r = subprocess.run(["gst-launch-1.0"] + toks, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, errors="replace")
        self.assertEqual(r.returncode, 0, r.stdout)
        with open(jsonl) as f:
            recs = [json.loads(s) for s in f]
        for i in range(3):
            fr, tid = int(c["frame"][i]), int(c["track"][i])
            (face,) = [f for f in recs[fr]["faces"] if f["id"] == tid]
            np.testing.assert_allclose(face["au"]["probs"], p["au"][i],
                                       rtol=0, atol=1e-5)
            np.testing.assert_allclose(face["expression"]["probs"],
                                       p["expr"][i], rtol=0, atol=1e-5)
            np.testing.assert_allclose(face["va"], p["va"][i], rtol=0,
                                       atol=1e-5)
        # the outputs differ between clips (the check is not vacuous)
        self.assertGreater(np.abs(p["au"][0] - p["au"][2]).max(), 1e-3)
        self.assertGreater(np.abs(p["expr"][0] - p["expr"][1]).max(), 1e-3)

if __name__ == "__main__":
    unittest.main()
