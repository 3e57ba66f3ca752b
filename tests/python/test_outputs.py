#!/usr/bin/env python3
# gst-affect — tests/python
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""affectsink's analysis-ready outputs load in pandas as tidy tables.

    AFFECT_WRITE_SAMPLE=BUILD/tests/python/write-sample \\
        python3 tests/python/test_outputs.py [-v]

1. write-sample (a small C program) pushes known frames with faces through
   affectsink tidy=true, as CSV and as flat JSON Lines; pandas.read_csv and
   pandas.read_json(lines=True) must give the expected columns, dtypes and
   values (absent values NaN, the top expression a string column), also
   with head-pose columns (write-sample's "pose" argument).
2. When the face models and the demo photo are installed, the real
   elements run with gst-launch-1.0 (facecrop ! affectfeatures !
   affectfuse, the expression baseline) into both formats, which must load
   to tables with the landmarks and head pose of every face and no AU or
   VA columns (the baseline predicts neither). Without them this part is
   skipped, unless AFFECT_REQUIRE_MODELS=1 (then it fails).
"""

import os
import shutil
import subprocess
import tempfile
import unittest

import numpy as np
import pandas as pd

ABAW_EXPR = ["Neutral", "Anger", "Disgust", "Fear", "Happiness", "Sadness",
             "Surprise", "Other"]
ABAW_AU = ["AU1", "AU2", "AU4", "AU6", "AU7", "AU10", "AU12", "AU15", "AU23",
           "AU24", "AU25", "AU26"]
LANDMARKS = ["x_%d" % i for i in range(68)] + ["y_%d" % i for i in range(68)]
FIXED = ["pts", "frame", "timestamp", "id", "success", "x", "y", "w", "h",
         "score"]
POSE = ["yaw", "pitch", "roll"]
PREDICTIONS = (["expression"] + ["expr_" + e for e in ABAW_EXPR]
               + ["expr_index"] + ABAW_AU + ["valence", "arousal"])


def cache_dir():
    c = os.environ.get("AFFECT_CACHE_DIR")
    if c:
        return c
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache")
    return os.path.join(base, "gst-affect")


class Tmp(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="affect-outputs-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def assert_dtype(self, df, columns, kind):
        for c in columns:
            self.assertIn(c, df.columns)
            self.assertEqual(df[c].dtype.kind, kind,
                             "column %s is %s" % (c, df[c].dtype))


class Sample(Tmp):
    """The known frames of write-sample."""

    def write(self, fmt, *extra):
        exe = os.environ.get("AFFECT_WRITE_SAMPLE")
        self.assertTrue(exe, "AFFECT_WRITE_SAMPLE is not set")
        path = os.path.join(self.tmp, "out." + fmt)
        subprocess.run([exe, fmt, path, "tidy"] + list(extra), check=True)
        return path

    def check_table(self, df, csv):
        # one row per face and frame: 2 + 2 + 0 + 1
        self.assertEqual(len(df), 5)
        self.assertEqual(list(df["frame"]), [0, 0, 1, 1, 3])
        self.assertEqual(list(df["id"]), [1, 2, 1, 3, 1])
        self.assertEqual(list(df["success"]), [1, 0, 1, 0, 1])
        np.testing.assert_allclose(df["timestamp"], [0, 0, 0.04, 0.04, 0.12])
        self.assert_dtype(df, ["frame", "id", "success", "pts"], "i")
        self.assert_dtype(df, ["timestamp", "x", "y", "w", "h", "score",
                               "expr_index", "valence", "arousal"]
                          + ["expr_" + e for e in ABAW_EXPR] + ABAW_AU
                          + LANDMARKS, "f")
        self.assert_dtype(df, ["expression"], "O")

        t1 = df[df["id"] == 1].reset_index(drop=True)
        self.assertEqual(list(t1["expression"]), ["Happiness"] * 3)
        self.assertEqual(list(t1["expr_index"]), [4.0] * 3)
        np.testing.assert_allclose(t1["x"], [100, 101, 103])
        np.testing.assert_allclose(t1["x_67"], [167, 168, 170])
        np.testing.assert_allclose(t1["y_67"], [60 + 0.5 * 67] * 3)
        np.testing.assert_allclose(t1["AU12"], [0.0625 * 6] * 3)
        np.testing.assert_allclose(t1["expr_Happiness"], [0.65] * 3,
                                   rtol=1e-6)
        self.assertTrue(np.isnan(t1["valence"][2]), "NaN valence")
        self.assertEqual(t1["arousal"][2], -0.5)

        box_only = df[df["id"] == 2].iloc[0]
        self.assertEqual(box_only["x"], 10.0)
        self.assertTrue(all(np.isnan(box_only[c]) for c in
                            LANDMARKS + ["valence", "AU1", "expr_Neutral"]))
        self.assertTrue(pd.isna(box_only["expression"]))

        va_only = df[df["id"] == 3].iloc[0]
        self.assertTrue(np.isnan(va_only["x"]))
        self.assertEqual(va_only["valence"], -0.75)

    def test_csv(self):
        df = pd.read_csv(self.write("csv"))
        self.assertEqual(list(df.columns),
                         FIXED + PREDICTIONS + LANDMARKS)
        self.check_table(df, True)

    def test_jsonl_flat(self):
        df = pd.read_json(self.write("jsonl"), lines=True)
        self.assertEqual(sorted(df.columns),
                         sorted(FIXED + PREDICTIONS + LANDMARKS))
        self.check_table(df, False)
        # the same table as the CSV, column for column
        csv = pd.read_csv(self.write("csv"))
        pd.testing.assert_frame_equal(
            df[csv.columns], csv, check_dtype=False, check_exact=False,
            rtol=1e-6)

    def check_pose(self, df):
        # yaw, pitch, roll in degrees: track 1 on frames 0 and 1, NaN
        # elsewhere (no pose on frame 3, none for the box-only track 2 and
        # the face-less track 3)
        self.check_table(df, True)
        self.assert_dtype(df, POSE, "f")
        np.testing.assert_allclose(df["yaw"][:3], [10, np.nan, 11])
        np.testing.assert_allclose(df["pitch"][:3], [-5, np.nan, -5])
        np.testing.assert_allclose(df["roll"][:3], [2.5, np.nan, 2.5])
        self.assertTrue(df[POSE][3:].isna().all().all())

    def test_pose_csv(self):
        df = pd.read_csv(self.write("csv", "pose"))
        self.assertEqual(list(df.columns),
                         FIXED + POSE + PREDICTIONS + LANDMARKS)
        self.check_pose(df)

    def test_pose_jsonl_flat(self):
        df = pd.read_json(self.write("jsonl", "pose"), lines=True)
        self.assertEqual(sorted(df.columns),
                         sorted(FIXED + POSE + PREDICTIONS + LANDMARKS))
        self.check_pose(df)


class RealElements(Tmp):
    """facecrop ! affectfeatures ! affectfuse on a demo photo."""

    def run_launch(self, fmt, path):
        mdir = os.environ.get("AFFECT_MODEL_DIR") or os.path.join(
            cache_dir(), "models")
        photo = os.path.join(cache_dir(), "test-inputs", "sample2.png")
        need = [os.path.join(mdir, m + ".safetensors") for m in (
            "tiny_face_detector_model", "face_landmark_68_model",
            "face_expression_model")] + [photo]
        missing = [p for p in need if not os.path.exists(p)]
        if missing:
            msg = "missing " + ", ".join(missing)
            if os.environ.get("AFFECT_REQUIRE_MODELS") == "1":
                self.fail(msg + " and AFFECT_REQUIRE_MODELS=1")
            self.skipTest(msg)
        launch = shutil.which("gst-launch-1.0")
        self.assertIsNotNone(launch, "gst-launch-1.0 not found")
        cmd = [launch, "-q", "filesrc", "location=" + photo, "!", "pngdec",
               "!", "imagefreeze", "num-buffers=3", "!",
               "video/x-raw,framerate=25/1", "!", "videoconvert", "!",
               "facecrop", "n-threads=2", "!", "affectfeatures",
               "n-threads=2", "!", "affectfuse", "!", "affectsink",
               "format=" + fmt, "tidy=true", "location=" + path]
        subprocess.run(cmd, check=True, timeout=300)

    def check(self, df):
        self.assertGreater(len(df), 0, "no face found")
        self.assertEqual(sorted(set(df["frame"])), [0, 1, 2])
        self.assert_dtype(df, ["frame", "id", "success", "pts"], "i")
        self.assert_dtype(df, ["timestamp", "x", "y", "w", "h", "score"]
                          + LANDMARKS, "f")
        self.assert_dtype(df, ["expression"], "O")
        self.assertTrue((df["success"] == 1).all())
        self.assertFalse(df[LANDMARKS].isna().any().any())
        # the head pose of every face, in degrees
        self.assert_dtype(df, POSE, "f")
        self.assertFalse(df[POSE].isna().any().any())
        self.assertTrue((df[POSE].abs() < 90).all().all())
        np.testing.assert_allclose(sorted(set(df["timestamp"])),
                                   [0, 0.04, 0.08])
        labels = [c[5:] for c in df.columns if c.startswith("expr_")
                  and c != "expr_index"]
        self.assertGreaterEqual(len(labels), 7)
        self.assertTrue(set(df["expression"]) <= set(labels))
        # the expression baseline predicts no AU and no VA: no such columns
        for c in ABAW_AU + ["valence", "arousal"]:
            self.assertNotIn(c, df.columns)

    def test_csv_and_jsonl(self):
        csv = os.path.join(self.tmp, "faces.csv")
        jsonl = os.path.join(self.tmp, "faces.jsonl")
        self.run_launch("csv", csv)
        self.run_launch("jsonl", jsonl)
        a = pd.read_csv(csv)
        b = pd.read_json(jsonl, lines=True)
        self.check(a)
        self.check(b)
        self.assertEqual(sorted(a.columns), sorted(b.columns))
        self.assertEqual(len(a), len(b))


if __name__ == "__main__":
    unittest.main()
