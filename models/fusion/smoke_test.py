#!/usr/bin/env python3
# gst-affect — models/fusion
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shows that the trainer learns: a small model on synthetic clips with a
planted signal (train.synthetic_clips), scored on a held-out video fold
before and after a few epochs. Exits 1 unless every metric clearly
improves. Takes about a minute or two on 2 CPU threads.

    python smoke_test.py [--epochs 8]

(The end-to-end test through the affectfuse element is tests/e2e; see
docs/training.md.)
"""

import argparse
import sys

import numpy as np
import torch

import train


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--n", type=int, default=1600)
    args = ap.parse_args()
    data, _ = train.synthetic_clips(args.n)
    folds = train.kfold_by_video(data["video"], 5, 0)
    val = train.subset(data, folds[0])
    tr = train.subset(data, np.concatenate(folds[1:]))
    ns = argparse.Namespace(
        seed=0, hidden=32, heads=4, mlp_hidden=32, n_expr=8, lr=0.002,
        momentum=0.9, weight_decay=0.0, batch=80, restart_epochs=5,
        restart_mult=1, modality_dropout=0.1, epochs=0, max_steps=0)
    torch.set_num_threads(2)
    # before: the untrained model (same seed, zero epochs)
    model0, _ = train.train_one(ns, tr, val, ("au", "expr", "va"))
    before = train.evaluate(model0, val)
    ns.epochs = args.epochs
    model, _ = train.train_one(ns, tr, val, ("au", "expr", "va"))
    after = train.evaluate(model, val)
    ok = True
    for k, margin in (("au_f1", 0.05), ("expr_f1", 0.05), ("ccc_mean", 0.2),
                      ("total", 0.4)):
        good = after[k] >= before[k] + margin
        ok &= good
        print(f"{k}: {before[k]:.3f} -> {after[k]:.3f} "
              f"({'ok' if good else 'NOT LEARNED'})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
