#!/usr/bin/env python3
# gst-affect — tests/scale-out
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""extract.py --ray local:2 against the local path (issue 12 item 4).

    python tests/scale-out/test_ray_extract.py [-v]

Three short generated videos (one of them longer, so that a run can be
killed while it is being extracted) and one corrupt file:

1. extract.py -j 2 (the local path) writes the reference feature files;
2. extract.py --ray local:2 starts, and its whole process group (driver,
   local Ray instance, workers) gets SIGKILL once the first video is
   finished, while the long one is still running;
3. the same command again resumes: the finished videos are skipped (their
   done.json untouched), the others extracted, the corrupt file reported
   with its log; every track file equals the reference byte for byte.

Needs the ray package (models/fusion/setup-train-env.sh --ray), numpy,
safetensors, the plugin (GST_PLUGIN_PATH_1_0), gst-launch-1.0 with the
base/good plugins and the face models; skipped with a message without them,
unless AFFECT_REQUIRE_MODELS=1.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("AFFECT_TEST_SOURCE_ROOT",
                     os.path.normpath(os.path.join(HERE, "..", "..")))
EXTRACT = os.path.join(SRC, "models", "fusion", "extract.py")
MODELS = ("tiny_face_detector_model", "face_landmark_68_model",
          "face_expression_model", "face_recognition_model")
# name -> (photo, frames); sorted by name, "a-long" is submitted first
VIDEOS = {"a-long": ("sample2.png", 150), "b-short": ("sample1.png", 3),
          "c-short": ("sample3.png", 4)}


def cache_dir():
    c = os.environ.get("AFFECT_CACHE_DIR")
    if c:
        return c
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache")
    return os.path.join(base, "gst-affect")


def missing_requirement():
    try:
        import ray  # noqa: F401
    except ImportError as e:
        return f"the ray package is not installed ({e})"
    if shutil.which("gst-launch-1.0") is None:
        return "gst-launch-1.0 not installed"
    for e in ("facecrop", "affectfeatures", "affectsink", "pngdec",
              "imagefreeze", "jpegenc", "avimux", "decodebin"):
        r = subprocess.run(["gst-inspect-1.0", e], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        if r.returncode != 0:
            return f"GStreamer element '{e}' not found"
    models = os.environ.get("AFFECT_MODEL_DIR") or os.path.join(
        cache_dir(), "models")
    need = [os.path.join(models, m + ".safetensors") for m in MODELS]
    need += [os.path.join(cache_dir(), "test-inputs", p)
             for p, _ in VIDEOS.values()]
    for p in need:
        if not os.path.isfile(p):
            return f"missing {p} (affect-fetch-models, " \
                "tests/golden/face-api/prepare.sh)"
    return None


def tree(folder):
    """{relative path of each track file: bytes}."""
    out = {}
    for d, _, files in os.walk(folder):
        for n in files:
            if n.endswith(".safetensors"):
                p = os.path.join(d, n)
                with open(p, "rb") as f:
                    out[os.path.relpath(p, folder)] = f.read()
    return out


def kill_session(sid):
    """SIGKILL to every process of session `sid` (the driver started with
    start_new_session: it, the local Ray instance and the Ray workers,
    which have process groups of their own); their gst-launch-1.0
    children die with them (extract_ray's parent-death signal)."""
    for _ in range(50):
        found = False
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/stat") as f:
                    st = f.read()
            except OSError:
                continue
            fields = st[st.rindex(")") + 2:].split()
            if int(fields[3]) == sid and fields[0] != "Z":
                found = True
                try:
                    os.kill(int(d), signal.SIGKILL)
                except OSError:
                    pass
        if not found:
            return
        time.sleep(0.1)


class TestRayExtract(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        why = missing_requirement()
        if why:
            if os.environ.get("AFFECT_REQUIRE_MODELS") == "1":
                raise RuntimeError(why + " (AFFECT_REQUIRE_MODELS=1)")
            raise unittest.SkipTest(why)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="affect-scale-out-")
        self.videos = os.path.join(self.tmp, "videos")
        os.makedirs(self.videos)
        for name, (photo, frames) in VIDEOS.items():
            self.make_video(os.path.join(self.videos, name + ".avi"), photo,
                            frames)
        with open(os.path.join(self.videos, "d-corrupt.avi"), "wb") as f:
            f.write(b"RIFF\x10\x00\x00\x00AVI LIST" + bytes(range(256)) * 4)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def make_video(self, path, photo, frames):
        png = os.path.join(cache_dir(), "test-inputs", photo)
        subprocess.run(
            ["gst-launch-1.0", "-q", "filesrc", f"location={png}", "!",
             "pngdec", "!", "imagefreeze", f"num-buffers={frames}", "!",
             "videoconvert", "!", "videoscale", "!",
             "video/x-raw,width=320,height=240,framerate=10/1", "!",
             "jpegenc", "!", "avimux", "!", "filesink",
             f"location={path}"], check=True, stdout=subprocess.DEVNULL)

    def extract(self, out, *extra, timeout=300):
        cmd = [sys.executable, EXTRACT, self.videos, "-o", out,
               "--threads", "1"] + list(extra)
        r = subprocess.run(cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, errors="replace",
                           timeout=timeout)
        return r.returncode, r.stderr

    def test_ray_same_files_resume(self):
        ref = os.path.join(self.tmp, "local")
        rc, err = self.extract(ref, "-j", "2")
        self.assertEqual(rc, 1, err)
        self.assertIn("3 extracted, 0 already done, 1 failed", err)
        expect = tree(ref)
        self.assertGreaterEqual(len(expect), 3, sorted(expect))

        # --ray local:2, killed (driver, Ray instance and workers) once the
        # first short video is finished; the long one is still running
        out = os.path.join(self.tmp, "ray out")  # a space in the path
        cmd = [sys.executable, EXTRACT, self.videos, "-o", out, "--threads",
               "1", "--ray", "local:2"]
        log_path = os.path.join(self.tmp, "killed.log")
        with open(log_path, "w") as log:
            p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                 start_new_session=True)
        try:
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline and p.poll() is None:
                if any(os.path.isfile(os.path.join(out, n, "done.json"))
                       for n in VIDEOS):
                    break
                time.sleep(0.1)
        finally:
            kill_session(p.pid)
            p.wait()
        with open(log_path, errors="replace") as f:
            killed_log = f.read()
        done_before = {n: os.path.getmtime(os.path.join(out, n, "done.json"))
                       for n in VIDEOS
                       if os.path.isfile(os.path.join(out, n, "done.json"))}
        self.assertEqual(p.returncode, -signal.SIGKILL, killed_log)
        self.assertIn("1 node(s) see", killed_log)
        self.assertGreaterEqual(len(done_before), 1, killed_log)
        self.assertNotIn("a-long", done_before, killed_log)

        # resumed: the finished videos are skipped, the rest extracted
        rc, err = self.extract(out, "--ray", "local:2", "--retries", "1")
        self.assertEqual(rc, 1, err)
        n = len(done_before)
        self.assertIn(f"{3 - n} extracted, {n} already done, 1 failed", err)
        self.assertIn("retry 1/1 d-corrupt", err)
        self.assertIn("FAILED d-corrupt", err)
        self.assertIn("after 2 attempts", err)
        self.assertIn(os.path.join(out, ".logs", "d-corrupt.log"), err)
        self.assertTrue(os.path.isfile(os.path.join(out, ".logs",
                                                    "d-corrupt.log")))
        self.assertRegex(err, r"\| \d+ frames [\d.]+/s \|.*ETA")
        for name, mt in done_before.items():
            self.assertEqual(mt, os.path.getmtime(
                os.path.join(out, name, "done.json")), name)
        self.assertEqual(sorted(n for n in os.listdir(out)
                                if not n.startswith(".")), sorted(VIDEOS))
        self.assertEqual([n for n in os.listdir(out)
                          if n.endswith((".tmp", ".old"))
                          or n.startswith(".ray-probe")], [])
        got = tree(out)
        self.assertEqual(sorted(got), sorted(expect))
        for k in expect:
            self.assertEqual(got[k], expect[k], f"{k} differs")
        for name in VIDEOS:
            with open(os.path.join(out, name, "done.json")) as f:
                done = json.load(f)
            with open(os.path.join(ref, name, "done.json")) as f:
                want = json.load(f)
            self.assertEqual(done["settings"], want["settings"])
            self.assertEqual(done["n_frames"], VIDEOS[name][1])

    def test_unshared_output_fails_loudly(self):
        """A probe task that cannot see the driver's file stops the run
        before any video: here the output folder is swapped under the
        probe by a sitecustomize hook in the workers."""
        out = os.path.join(self.tmp, "out")
        hook = os.path.join(self.tmp, "hook")
        os.makedirs(hook)
        with open(os.path.join(hook, "sitecustomize.py"), "w") as f:
            # in Ray's worker processes only: the driver file reads wrong
            f.write(
                "import builtins, os, sys\n"
                "if any('default_worker' in a for a in sys.argv):\n"
                "    _open = builtins.open\n"
                "    def _o(p, *a, **k):\n"
                "        if isinstance(p, str) and '.ray-probe-' in p:\n"
                "            p = p.replace('.ray-probe-', '.elsewhere-')\n"
                "        return _open(p, *a, **k)\n"
                "    builtins.open = _o\n")
        env = dict(os.environ)
        env["PYTHONPATH"] = hook + os.pathsep + env.get("PYTHONPATH", "")
        r = subprocess.run([sys.executable, EXTRACT, self.videos, "-o", out,
                            "--ray", "local:1"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           errors="replace", timeout=240)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("must be paths every node sees", r.stderr)
        self.assertIn("cannot read the driver's probe file", r.stderr)
        self.assertIn("cannot write into the output folder", r.stderr)
        self.assertNotIn("extracted", r.stderr)
        self.assertEqual([n for n in os.listdir(out)
                          if not n.startswith(".extract")], [])


if __name__ == "__main__":
    unittest.main()
