#!/usr/bin/env python3
# gst-affect — tests/scale-out
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""train.py past one process (issue 12 items 2 and 4).

    python tests/scale-out/test_ddp_train.py [-v]

- torchrun --standalone --nproc_per_node 2 (gloo, CPU) against the
  single-process run with the same seed and global batch, on synthetic
  clips with modality dropout and a global batch whose last one does not
  split evenly: every step's loss (and each task's) within 1e-5, the final
  weights and the gathered validation metrics close, the files written once
  (rank 0);
- --fold all --ray local:2: one Ray task per fold; the collected scores and
  models equal those of the same folds trained one after the other here.

Needs torch (AFFECT_TRAIN_PYTHON); the Ray case also the ray package (it
is skipped without it unless AFFECT_REQUIRE_TORCH=1).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("AFFECT_TEST_SOURCE_ROOT",
                     os.path.normpath(os.path.join(HERE, "..", "..")))
TRAIN = os.path.join(SRC, "models", "fusion", "train.py")
# 260 clips, fold 0 of 5 for validation: 205 training clips, so each epoch
# is 6 global batches of 30 and one of 25 (step 7), split 13 + 12 over two
# ranks (the second one runs a padding row)
SMALL = ["--synthetic", "260", "--hidden", "16", "--heads", "2",
         "--mlp-hidden", "16", "--batch", "30", "--threads", "1",
         "--seed", "3"]


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(s) for s in f if s.strip()]


class TestScaleOutTraining(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="affect-scale-train-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def p(self, *parts):
        return os.path.join(self.tmp, *parts)

    def run_cmd(self, cmd, env=None):
        r = subprocess.run(cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, errors="replace",
                           timeout=400, env=env)
        self.assertEqual(r.returncode, 0, r.stdout[-6000:])
        return r.stdout

    def test_torchrun_matches_single_process(self):
        args = SMALL + ["--fold", "0", "--epochs", "2",
                        "--modality-dropout", "0.3", "--max-steps", "9"]
        self.run_cmd([sys.executable, TRAIN] + args + [
            "-o", self.p("one"), "--loss-log", self.p("one.jsonl")])
        torchrun = [sys.executable, "-m", "torch.distributed.run",
                    "--standalone", "--nproc_per_node", "2"]
        env = dict(os.environ, OMP_NUM_THREADS="1")
        out = self.run_cmd(torchrun + [TRAIN] + args + [
            "-o", self.p("two"), "--loss-log", self.p("two.jsonl")], env=env)

        one, two = read_jsonl(self.p("one.jsonl")), read_jsonl(
            self.p("two.jsonl"))
        self.assertEqual(len(one), 9)
        self.assertEqual([r["step"] for r in two], [r["step"] for r in one])
        # the odd last batch (step 7) and the epoch boundary are inside the
        # 9 steps
        for a, b in zip(one, two):
            self.assertEqual(sorted(a), sorted(b))
            for k in a:
                self.assertAlmostEqual(a[k], b[k], delta=1e-5,
                                       msg=f"step {a['step']} {k}")
        # the losses move (the steps do something)
        self.assertGreater(max(r["loss"] for r in one)
                           - min(r["loss"] for r in one), 1e-3)

        # rank 0 alone writes; one epoch line per epoch
        self.assertEqual(sorted(os.listdir(self.p("two"))),
                         ["fold0.pt", "fold0.safetensors", "summary.json"])
        self.assertEqual(out.count("[fold0] {"), 2, out[-3000:])
        w1 = torch.load(self.p("one", "fold0.pt"), weights_only=False)
        w2 = torch.load(self.p("two", "fold0.pt"), weights_only=False)
        self.assertEqual(w1["config"], w2["config"])
        for k, v in w1["state_dict"].items():
            torch.testing.assert_close(w2["state_dict"][k], v, rtol=1e-4,
                                       atol=1e-5, msg=k)
        with open(self.p("one", "summary.json")) as f:
            s1 = json.load(f)["fold0"]
        with open(self.p("two", "summary.json")) as f:
            s2 = json.load(f)["fold0"]
        self.assertEqual(sorted(s1), sorted(s2))
        self.assertIn("val_total", s2)
        for k, v in s1.items():
            self.assertAlmostEqual(s2[k], v, delta=1e-4, msg=k)

    def test_folds_on_ray(self):
        try:
            import ray  # noqa: F401
        except ImportError as e:
            if os.environ.get("AFFECT_REQUIRE_TORCH") == "1":
                raise
            self.skipTest(f"no ray package ({e})")
        args = SMALL + ["--fold", "all", "--folds", "3", "--epochs", "1",
                        "--max-steps", "2"]
        self.run_cmd([sys.executable, TRAIN] + args + ["-o", self.p("seq")])
        out = self.run_cmd([sys.executable, TRAIN] + args + [
            "-o", self.p("ray"), "--ray", "local:2"])
        self.assertIn("3 jobs on Ray", out)
        names = [f"fold{i}{e}" for i in range(3)
                 for e in (".pt", ".safetensors")]
        self.assertEqual(sorted(os.listdir(self.p("ray"))),
                         sorted(names + ["summary.json"]))
        with open(self.p("seq", "summary.json")) as f:
            seq = json.load(f)
        with open(self.p("ray", "summary.json")) as f:
            got = json.load(f)
        self.assertEqual(sorted(got), ["fold0", "fold1", "fold2", "mean"])
        self.assertEqual(got["mean"]["folds"], 3)
        self.assertAlmostEqual(
            got["mean"]["val_total"],
            sum(got[f"fold{i}"]["val_total"] for i in range(3)) / 3,
            delta=1e-9)
        self.assertEqual(got, seq)
        for i in range(3):
            a = torch.load(self.p("seq", f"fold{i}.pt"), weights_only=False)
            b = torch.load(self.p("ray", f"fold{i}.pt"), weights_only=False)
            for k, v in a["state_dict"].items():
                self.assertTrue(torch.equal(v, b["state_dict"][k]),
                                f"fold{i} {k}")


if __name__ == "__main__":
    unittest.main()
