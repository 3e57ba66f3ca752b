#!/usr/bin/env python3
# gst-affect — models/fusion
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Write a trained FusionNet as the safetensors model file the plugin runs.

    python export.py CHECKPOINT.pt -o model.safetensors [--features STR]

Tensors: the module's state_dict (F32, names and shapes unchanged).
__metadata__ (all strings): format=gst-affect-fusion, version=1, clip_len,
hidden, heads, mlp_hidden, d_img, d_exp, d_spe, d_wrd, tasks (e.g.
"au,expr,va"), au_labels, expr_labels (comma separated) and features (which
extractors produced the inputs).

One network per file: valence and arousal trained as two models
(train.py --va-mode separate) stay two files, which affectfuse runs
together (its valence-model and arousal-model properties).
"""

import argparse
import sys

import torch
from safetensors.torch import save_file

from fusion_model import ABAW_AU_LABELS, ABAW_EXPR_LABELS, FusionNet

FORMAT = "gst-affect-fusion"
VERSION = "1"
DEFAULT_FEATURES = ("img=face_recognition_model,exp=face_expression_model,"
                    "spe=affect-speech,wrd=affect-bert")


def metadata(model, features=DEFAULT_FEATURES, au_labels=ABAW_AU_LABELS,
             expr_labels=None):
    cfg = model.config()
    if expr_labels is None:
        expr_labels = ABAW_EXPR_LABELS[:cfg["n_expr"]]
    if "au" in cfg["tasks"] and len(au_labels) != cfg["n_au"]:
        raise ValueError("au_labels does not match the AU head size")
    if "expr" in cfg["tasks"] and len(expr_labels) != cfg["n_expr"]:
        raise ValueError("expr_labels does not match the EXPR head size")
    md = {
        "format": FORMAT,
        "version": VERSION,
        "clip_len": str(cfg["clip_len"]),
        "hidden": str(cfg["hidden"]),
        "heads": str(cfg["heads"]),
        "mlp_hidden": str(cfg["mlp_hidden"]),
        "d_img": str(cfg["d_img"]),
        "d_exp": str(cfg["d_exp"]),
        "d_spe": str(cfg["d_spe"]),
        "d_wrd": str(cfg["d_wrd"]),
        "tasks": ",".join(cfg["tasks"]),
        "au_labels": ",".join(au_labels) if "au" in cfg["tasks"] else "",
        "expr_labels": ",".join(expr_labels) if "expr" in cfg["tasks"]
        else "",
        "features": features,
    }
    return md


def save_model(model, path, features=DEFAULT_FEATURES, **kw):
    tensors = {k: v.detach().to(torch.float32).contiguous().clone()
               for k, v in model.state_dict().items()}
    save_file(tensors, path, metadata=metadata(model, features, **kw))


def load_checkpoint(path):
    ck = torch.load(path, map_location="cpu", weights_only=False)
    cfg = dict(ck["config"])
    model = FusionNet(**cfg)
    model.load_state_dict(ck["state_dict"])
    return model, ck


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--features", default=None,
                    help="extractor description (default: the checkpoint's)")
    args = ap.parse_args(argv)
    model, ck = load_checkpoint(args.checkpoint)
    feats = args.features or ck.get("features", DEFAULT_FEATURES)
    save_model(model, args.output, features=feats)
    print(f"wrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
