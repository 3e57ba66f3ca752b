#!/usr/bin/env python3
# gst-affect — tests/bench/
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""PyTorch reference implementations of the five face-api networks.

These modules are the "peer" the C inference core is benchmarked against
(bench_torch.py, run-bench.sh). They load the same converted weights as the
C code (`<cache>/models/<name>.safetensors`, tfjs tensor names and shapes,
F32) and follow /work/shared/FACE_MODELS.md (copied facts, own code):

* filters HWIO -> OIHW (depthwise [kh,kw,c,1] -> [c,1,kh,kw], groups = c);
* TensorFlow SAME padding: out = ceil(in/s), total = max((out-1)s + k - in, 0),
  before = floor(total/2); symmetric pads go to the conv itself, asymmetric
  ones are done with F.pad exactly as TF does;
* batch-norm (SSD) and the per-channel "scale" affine (recognition net) are
  folded into the preceding convolution at load time (in float64), just as
  the C core folds them;
* leaky ReLU slope 0.1, ReLU6 via F.relu6, max-pool SAME ignores the padded
  positions (padding with -inf).

Inputs are NCHW float32 tensors that are already normalised (the
pre-processing of FACE_MODELS.md is implemented in numpy below only to check
the modules against the golden JavaScript outputs).

Run `python3 torch_face_nets.py --verify` to compare every network with
tests/golden/face-api/sampleN.json (max differences are printed).
"""

import argparse
import glob
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN_DIR = os.path.normpath(os.path.join(HERE, "..", "golden", "face-api"))

NET_FILES = {
    "tiny": "tiny_face_detector_model",
    "ssd": "ssd_mobilenetv1_model",
    "landmarks": "face_landmark_68_model",
    "expression": "face_expression_model",
    "recognition": "face_recognition_model",
}

# ---------------------------------------------------------------------------
# weights


def cache_dir():
    d = os.environ.get("AFFECT_CACHE_DIR")
    if d:
        return d
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache")
    return os.path.join(xdg, "gst-affect")


def model_path(name):
    """Path of <name>.safetensors: $AFFECT_MODEL_DIR, else the cache."""
    d = os.environ.get("AFFECT_MODEL_DIR")
    if d:
        return os.path.join(d, name + ".safetensors")
    return os.path.join(cache_dir(), "models", name + ".safetensors")


def load_tfjs(name):
    """Reads <cache>/face-api-1.7.15/model/<name>-weights_manifest.json and
    dequantises it (value = q*scale + min in double, stored float32). Only
    used when the converted safetensors file does not exist yet, and by
    --check-converter to compare the two."""
    mdir = os.path.join(cache_dir(), "face-api-1.7.15", "model")
    with open(os.path.join(mdir, name + "-weights_manifest.json")) as f:
        manifest = json.load(f)
    out = {}
    for group in manifest:
        data = b"".join(
            open(os.path.join(mdir, p), "rb").read() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            shape = w["shape"]
            count = int(np.prod(shape)) if shape else 1
            q = w.get("quantization")
            if q:
                assert q["dtype"] == "uint8", q
                raw = np.frombuffer(data, np.uint8, count, off).astype(np.float64)
                off += count
                val = raw * q["scale"] + q["min"]
                if w["dtype"] == "int32":
                    arr = np.round(val).astype(np.int32)
                else:
                    arr = val.astype(np.float32)
            else:
                dt = np.int32 if w["dtype"] == "int32" else np.dtype("<f4")
                arr = np.frombuffer(data, dt, count, off).copy()
                off += 4 * count
            out[w["name"]] = arr.reshape(shape)
        if off != len(data):
            raise ValueError("%s: manifest sizes (%d) != .bin size (%d)" %
                             (name, off, len(data)))
    return out


def load_weights(name, path=None, allow_tfjs=True):
    path = path or model_path(name)
    if os.path.exists(path):
        from safetensors.numpy import load_file
        return load_file(path)
    if allow_tfjs:
        sys.stderr.write("note: %s missing, reading the tfjs manifest\n" % path)
        return load_tfjs(name)
    raise FileNotFoundError(path + " (run affect-fetch-models)")


# ---------------------------------------------------------------------------
# layers


def same_pads(size, k, s):
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def _t(a):
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))


class TFConv(nn.Module):
    """Regular or depthwise convolution with TF semantics. Weights are
    given in HWIO (depthwise: [kh, kw, c, 1]) as float64/32 numpy arrays."""

    def __init__(self, w_hwio, bias, stride=1, padding="SAME",
                 depthwise=False):
        super().__init__()
        kh, kw, cin, cout = w_hwio.shape
        if depthwise:
            assert cout == 1
            w = np.transpose(w_hwio, (2, 3, 0, 1))  # [c, 1, kh, kw]
            self.groups = cin
        else:
            w = np.transpose(w_hwio, (3, 2, 0, 1))  # OIHW
            self.groups = 1
        self.weight = nn.Parameter(_t(w), requires_grad=False)
        self.bias = (nn.Parameter(_t(bias), requires_grad=False)
                     if bias is not None else None)
        self.k = (kh, kw)
        self.stride = stride
        self.padding = padding

    def forward(self, x):
        pad = 0
        if self.padding == "SAME":
            t, b = same_pads(x.shape[2], self.k[0], self.stride)
            l, r = same_pads(x.shape[3], self.k[1], self.stride)
            if t == b and l == r:
                pad = (t, l)
            else:
                x = F.pad(x, (l, r, t, b))
        return F.conv2d(x, self.weight, self.bias, self.stride, pad, 1,
                        self.groups)


def max_pool_same(x, k, s):
    t, b = same_pads(x.shape[2], k, s)
    l, r = same_pads(x.shape[3], k, s)
    if t or b or l or r:
        x = F.pad(x, (l, r, t, b), value=float("-inf"))
    return F.max_pool2d(x, k, s)


def fold_affine(w_hwio, bias, scale, shift):
    """(conv(x, w) + bias) * scale + shift as one conv (per out channel)."""
    w = w_hwio.astype(np.float64) * scale.astype(np.float64)
    b = (bias.astype(np.float64) if bias is not None else 0.0)
    return w, b * scale + shift.astype(np.float64)


class SepConv(nn.Module):
    """Depthwise 3x3 (no bias) then 1x1 with bias (separableConv2d)."""

    def __init__(self, W, prefix, stride=1, padding="SAME"):
        super().__init__()
        self.dw = TFConv(W[prefix + "/depthwise_filter"], None, stride,
                         padding, depthwise=True)
        self.pw = TFConv(W[prefix + "/pointwise_filter"], W[prefix + "/bias"],
                         1, "VALID")

    def forward(self, x):
        return self.pw(self.dw(x))


# ---------------------------------------------------------------------------
# TinyFaceDetector


class TinyFaceDetector(nn.Module):
    """[n,3,416,416] normalised -> raw [n,25,13,13]."""
    input_size = 416

    def __init__(self, W):
        super().__init__()
        self.conv0 = TFConv(W["conv0/filters"], W["conv0/bias"], 1, "VALID")
        self.convs = nn.ModuleList(
            SepConv(W, "conv%d" % i, 1, "VALID") for i in range(1, 6))
        self.conv8 = TFConv(W["conv8/filters"], W["conv8/bias"], 1, "VALID")

    def forward(self, x):
        x = F.leaky_relu(self.conv0(x), 0.1)
        x = max_pool_same(x, 2, 2)
        for i, c in enumerate(self.convs):
            x = F.leaky_relu(c(F.pad(x, (1, 1, 1, 1))), 0.1)
            x = max_pool_same(x, 2, 2 if i < 4 else 1)
        return self.conv8(x)


# ---------------------------------------------------------------------------
# SsdMobilenetv1


class SsdMobilenetv1(nn.Module):
    """[n,3,512,512] normalised -> (box encodings [n,5118,4],
    class logits [n,5118,3]); no decoding."""
    input_size = 512
    strides = {2: 2, 4: 2, 6: 2, 12: 2}
    anchors = [3, 6, 6, 6, 6, 6]

    def __init__(self, W):
        super().__init__()
        p = "MobilenetV1/Conv2d_0_pointwise/"
        self.conv0 = TFConv(W[p + "weights"], W[p + "convolution_bn_offset"],
                            2, "SAME")
        self.dws = nn.ModuleList()
        self.pws = nn.ModuleList()
        for i in range(1, 14):
            p = "MobilenetV1/Conv2d_%d_depthwise/" % i
            bn = p + "BatchNorm/"
            scale = (W[bn + "gamma"].astype(np.float64) /
                     np.sqrt(W[bn + "moving_variance"].astype(np.float64) +
                             0.001))
            shift = (W[bn + "beta"].astype(np.float64) -
                     W[bn + "moving_mean"].astype(np.float64) * scale)
            dw = W[p + "depthwise_weights"].astype(np.float64)
            # per-channel fold: depthwise weight is [kh, kw, c, 1]
            self.dws.append(
                TFConv(dw * scale[None, None, :, None], shift,
                       self.strides.get(i, 1), "SAME", depthwise=True))
            p = "MobilenetV1/Conv2d_%d_pointwise/" % i
            self.pws.append(
                TFConv(W[p + "weights"], W[p + "convolution_bn_offset"], 1,
                       "SAME"))
        self.extras = nn.ModuleList()
        for i in range(8):
            p = "Prediction/Conv2d_%d_pointwise/" % i
            self.extras.append(
                TFConv(W[p + "weights"], W[p + "convolution_bn_offset"],
                       2 if i % 2 else 1, "SAME"))
        self.box = nn.ModuleList()
        self.cls = nn.ModuleList()
        for i in range(6):
            p = "Prediction/BoxPredictor_%d/" % i
            self.box.append(
                TFConv(W[p + "BoxEncodingPredictor/weights"],
                       W[p + "BoxEncodingPredictor/biases"], 1, "VALID"))
            self.cls.append(
                TFConv(W[p + "ClassPredictor/weights"],
                       W[p + "ClassPredictor/biases"], 1, "VALID"))
        self.register_buffer("anchor_boxes",
                             _t(W["Output/extra_dim"].reshape(-1, 4)))

    def forward(self, x):
        x = F.relu6(self.conv0(x))
        feats = []
        for i in range(13):
            x = F.relu6(self.pws[i](F.relu6(self.dws[i](x))))
            if i == 10:
                feats.append(x)  # block 11, 32x32x512
        feats.append(x)  # block 13, 16x16x1024
        for i, e in enumerate(self.extras):
            x = F.relu6(e(x))
            if i % 2:
                feats.append(x)
        n = x.shape[0]
        boxes = [b(f).permute(0, 2, 3, 1).reshape(n, -1, 4)
                 for b, f in zip(self.box, feats)]
        logits = [c(f).permute(0, 2, 3, 1).reshape(n, -1, 3)
                  for c, f in zip(self.cls, feats)]
        return torch.cat(boxes, 1), torch.cat(logits, 1)


# ---------------------------------------------------------------------------
# FaceFeatureExtractor, FaceLandmark68Net, FaceExpressionNet


class DenseBlock(nn.Module):

    def __init__(self, W, prefix, first):
        super().__init__()
        if first:
            self.c0 = TFConv(W[prefix + "/conv0/filters"],
                             W[prefix + "/conv0/bias"], 2, "SAME")
        else:
            self.c0 = SepConv(W, prefix + "/conv0", 2, "SAME")
        self.c1 = SepConv(W, prefix + "/conv1")
        self.c2 = SepConv(W, prefix + "/conv2")
        self.c3 = SepConv(W, prefix + "/conv3")

    def forward(self, x):
        o1 = F.relu(self.c0(x))
        o2 = self.c1(o1)
        o3 = self.c2(F.relu(o1 + o2))
        o4 = self.c3(F.relu(o1 + o2 + o3))
        return F.relu(o1 + (o2 + (o3 + o4)))


class FaceFeatureExtractor(nn.Module):

    def __init__(self, W):
        super().__init__()
        self.blocks = nn.ModuleList(
            DenseBlock(W, "dense%d" % i, i == 0) for i in range(4))

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        return F.avg_pool2d(x, 7, 2).flatten(1)  # [n, 256]


class _FcHead(nn.Module):
    input_size = 112

    def __init__(self, W):
        super().__init__()
        self.features = FaceFeatureExtractor(W)
        self.fc = nn.Linear(*W["fc/weights"].shape)
        self.fc.weight = nn.Parameter(_t(W["fc/weights"].T),
                                      requires_grad=False)
        self.fc.bias = nn.Parameter(_t(W["fc/bias"]), requires_grad=False)


class FaceLandmark68Net(_FcHead):
    """[n,3,112,112] -> [n,136] (x0,y0,x1,y1,... in units of the square)."""

    def forward(self, x):
        return self.fc(self.features(x))


class FaceExpressionNet(_FcHead):
    """[n,3,112,112] -> [n,7] probabilities (softmax included)."""

    def forward(self, x):
        return F.softmax(self.fc(self.features(x)), dim=1)


# ---------------------------------------------------------------------------
# FaceRecognitionNet


class ConvUnit(nn.Module):
    """conv + bias, per-channel scale affine (folded)."""

    def __init__(self, W, prefix, stride, padding):
        super().__init__()
        w, b = fold_affine(W[prefix + "/conv/filters"],
                           W[prefix + "/conv/bias"],
                           W[prefix + "/scale/weights"],
                           W[prefix + "/scale/biases"])
        self.conv = TFConv(w, b, stride, padding)

    def forward(self, x):
        return self.conv(x)


class Residual(nn.Module):

    def __init__(self, W, prefix, down):
        super().__init__()
        self.down = down
        self.u1 = ConvUnit(W, prefix + "/conv1", 2 if down else 1,
                           "VALID" if down else "SAME")
        self.u2 = ConvUnit(W, prefix + "/conv2", 1, "SAME")

    def forward(self, x):
        y = self.u2(F.relu(self.u1(x)))
        if self.down:
            x = F.avg_pool2d(x, 2, 2)
            if y.shape[2] < x.shape[2] or y.shape[3] < x.shape[3]:
                y = F.pad(y, (0, x.shape[3] - y.shape[3], 0,
                              x.shape[2] - y.shape[2]))
            if y.shape[1] > x.shape[1]:
                x = F.pad(x, (0, 0, 0, 0, 0, y.shape[1] - x.shape[1]))
        return F.relu(y + x)


class FaceRecognitionNet(nn.Module):
    """[n,3,150,150] -> [n,128] descriptor (not L2-normalised)."""
    input_size = 150
    layout = [("conv32_1", 0), ("conv32_2", 0), ("conv32_3", 0),
              ("conv64_down", 1), ("conv64_1", 0), ("conv64_2", 0),
              ("conv64_3", 0), ("conv128_down", 1), ("conv128_1", 0),
              ("conv128_2", 0), ("conv256_down", 1), ("conv256_1", 0),
              ("conv256_2", 0), ("conv256_down_out", 1)]

    def __init__(self, W):
        super().__init__()
        self.stem = ConvUnit(W, "conv32_down", 2, "VALID")
        self.res = nn.ModuleList(
            Residual(W, name, bool(down)) for name, down in self.layout)
        self.fc = nn.Linear(256, 128, bias=False)
        self.fc.weight = nn.Parameter(_t(W["fc"].T), requires_grad=False)

    def features(self, x):
        x = F.max_pool2d(F.relu(self.stem(x)), 3, 2)
        for r in self.res:
            x = r(x)
        return x.mean(dim=(2, 3))

    def forward(self, x):
        return self.fc(self.features(x))


CLASSES = {
    "tiny": TinyFaceDetector,
    "ssd": SsdMobilenetv1,
    "landmarks": FaceLandmark68Net,
    "expression": FaceExpressionNet,
    "recognition": FaceRecognitionNet,
}


def build(net, path=None):
    m = CLASSES[net](load_weights(NET_FILES[net], path))
    m.eval()
    return m


# ---------------------------------------------------------------------------
# MAC counts (conv/FC multiply-adds per image, from the architecture); the
# C benchmark (bench-face-nets.c) counts them the same way.


def count_macs(model, shape):
    macs = [0]

    def hook(mod, inp, out):
        if isinstance(mod, TFConv):
            o = out
            k = mod.weight.shape[1] * mod.weight.shape[2] * mod.weight.shape[3]
            macs[0] += o.shape[1] * o.shape[2] * o.shape[3] * k
        elif isinstance(mod, nn.Linear):
            macs[0] += mod.in_features * mod.out_features

    hs = [m.register_forward_hook(hook) for m in model.modules()
          if isinstance(m, (TFConv, nn.Linear))]
    with torch.inference_mode():
        model(torch.zeros(shape))
    for h in hs:
        h.remove()
    return macs[0]


# ---------------------------------------------------------------------------
# pre-processing (numpy, only for checking against the golden outputs)


def resize_bilinear_tf(img, oh, ow):
    """TF legacy bilinear (align_corners = false, half_pixel_centers =
    false), computed in double, result float32. img: [h, w, c]."""
    ih, iw = img.shape[:2]
    src = img.astype(np.float64)
    ys = np.arange(oh, dtype=np.float64) * (ih / oh)
    xs = np.arange(ow, dtype=np.float64) * (iw / ow)
    y0 = np.floor(ys).astype(np.int64)
    x0 = np.floor(xs).astype(np.int64)
    y1 = np.minimum(np.ceil(ys).astype(np.int64), ih - 1)
    x1 = np.minimum(np.ceil(xs).astype(np.int64), iw - 1)
    fy = (ys - y0)[:, None, None]
    fx = (xs - x0)[None, :, None]
    tl = src[y0][:, x0]
    tr = src[y0][:, x1]
    bl = src[y1][:, x0]
    br = src[y1][:, x1]
    top = tl + (tr - tl) * fx
    bot = bl + (br - bl) * fx
    return (top + (bot - top) * fy).astype(np.float32)


FACE_MEAN = np.array([122.782, 117.001, 104.298], np.float32)
TINY_MEAN = np.array([117.001, 114.697, 97.404], np.float32)


def face_input(rgb, crop, size):
    """crop = integer [x, y, w, h] (already clipped and floored)."""
    x, y, w, h = [int(v) for v in crop]
    face = rgb[y:y + h, x:x + w].astype(np.float32)
    d = abs(h - w)
    after = int(math.floor(d / 2 + 0.5))  # JS Math.round
    before = d - after
    if h > w:
        face = np.pad(face, ((0, 0), (before, after), (0, 0)))
    elif w > h:
        face = np.pad(face, ((before, after), (0, 0), (0, 0)))
    face = resize_bilinear_tf(face, size, size)
    return (face - FACE_MEAN) / np.float32(255)


def detector_input(rgb, size):
    h, w = rgb.shape[:2]
    m = max(h, w)
    sq = np.zeros((m, m, 3), np.float32)
    sq[:h, :w] = rgb
    if m != size:
        sq = resize_bilinear_tf(sq, size, size)
    # JS Math.round (half up), not Python's round-half-even: 1350 * 416 /
    # 1920 = 292.5 must give 293.
    return sq, (math.floor(w * size / m + 0.5), math.floor(h * size / m + 0.5))


def to_nchw(a):
    return torch.from_numpy(np.ascontiguousarray(
        np.asarray(a, np.float32).transpose(0, 3, 1, 2)))


def iou(a, b):
    """boxes as [x, y, w, h]."""
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def nms(dets, thr, max_n=None):
    dets = sorted(dets, key=lambda d: -d[1])
    keep = []
    for box, s in dets:
        if all(iou(box, k[0]) <= thr for k in keep):
            keep.append((box, s))
            if max_n and len(keep) >= max_n:
                break
    return keep


TINY_ANCHORS = [(1.603231, 2.094468), (6.041143, 7.080126),
                (2.882459, 3.518061), (4.266906, 5.178857),
                (9.041765, 10.66308)]


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-np.asarray(v, np.float64)))


def decode_tiny(raw, W, H, reshaped, S=416, thr=0.5):
    """raw: [13, 13, 25] NHWC."""
    cfx, cfy = S / reshaped[0], S / reshaped[1]
    g = raw.shape[0]
    dets = []
    for r in range(g):
        for c in range(g):
            for a, (aw, ah) in enumerate(TINY_ANCHORS):
                tx, ty, tw, th, tc = raw[r, c, 5 * a:5 * a + 5]
                s = float(sigmoid(tc))
                if s <= thr:
                    continue
                cx = (c + sigmoid(tx)) / g * cfx
                cy = (r + sigmoid(ty)) / g * cfy
                w = math.exp(tw) * aw / g * cfx
                h = math.exp(th) * ah / g * cfy
                dets.append(([(cx - w / 2) * W, (cy - h / 2) * H, w * W,
                              h * H], s))
    return nms(dets, 0.4)


def decode_ssd(boxes, logits, anchors, W, H, reshaped, S=512, thr=0.5):
    boxes = boxes.astype(np.float64)
    anc = anchors.astype(np.float64)
    ha, wa = anc[:, 2] - anc[:, 0], anc[:, 3] - anc[:, 1]
    cya, cxa = anc[:, 0] + ha / 2, anc[:, 1] + wa / 2
    cy = boxes[:, 0] / 10 * ha + cya
    cx = boxes[:, 1] / 10 * wa + cxa
    h = np.exp(boxes[:, 2] / 5) * ha
    w = np.exp(boxes[:, 3] / 5) * wa
    ymin, xmin, ymax, xmax = cy - h / 2, cx - w / 2, cy + h / 2, cx + w / 2
    score = sigmoid(logits[:, 1])
    cand = []
    for i in np.nonzero(score > thr)[0]:
        cand.append(([xmin[i], ymin[i], xmax[i] - xmin[i],
                      ymax[i] - ymin[i]], float(score[i]), i))
    cand.sort(key=lambda d: -d[1])
    keep = []
    for box, s, i in cand:
        if all(iou(box, k[0]) <= 0.5 for k in keep):
            keep.append((box, s, i))
        if len(keep) >= 100:
            break
    px, py = S / reshaped[0], S / reshaped[1]
    out = []
    for _, s, i in keep:
        top, bottom = max(0.0, ymin[i]) * py, min(1.0, ymax[i]) * py
        left, right = max(0.0, xmin[i]) * px, min(1.0, xmax[i]) * px
        out.append(([left * W, top * H, (right - left) * W,
                     (bottom - top) * H], s))
    return out


# ---------------------------------------------------------------------------
# verification against the golden JavaScript outputs


def load_png(path):
    from PIL import Image
    im = Image.open(path)
    if im.mode != "RGB":
        raise ValueError("%s: expected 8-bit RGB, got %s" % (path, im.mode))
    return np.asarray(im, np.uint8)


def _match(ref, got):
    """Greedy match of detections by IoU; returns (max |d box| px,
    max |d score|, min IoU, count ok)."""
    dbox, dscore, min_iou = 0.0, 0.0, 1.0
    used = set()
    for r in ref:
        rb = r["box"]
        best, bi = -1.0, None
        for j, (gb, gs) in enumerate(got):
            if j in used:
                continue
            v = iou(rb, gb)
            if v > best:
                best, bi = v, j
        if bi is None:
            return float("inf"), float("inf"), 0.0, False
        used.add(bi)
        gb, gs = got[bi]
        dbox = max(dbox, max(abs(a - b) for a, b in zip(rb, gb)))
        dscore = max(dscore, abs(r["score"] - gs))
        min_iou = min(min_iou, best)
    return dbox, dscore, min_iou, len(ref) == len(got)


def verify(samples, nets):
    import hashlib
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    models = {n: build(n) for n in nets}
    worst = {}

    def upd(key, v):
        worst[key] = max(worst.get(key, 0.0), v)

    ok = True
    for s in samples:
        gpath = os.path.join(GOLDEN_DIR, "sample%d.json" % s)
        if not os.path.exists(gpath):
            print("sample%d: no golden JSON (%s), skipped" % (s, gpath))
            continue
        with open(gpath) as f:
            g = json.load(f)
        png = os.path.join(cache_dir(), "test-inputs", g["image"])
        rgb = load_png(png)
        sha = hashlib.sha256(rgb.tobytes()).hexdigest()
        if sha != g["rgb_sha256"]:
            print("sample%d: %s RGB sha256 %s != golden %s" %
                  (s, png, sha, g["rgb_sha256"]))
            ok = False
            continue
        H, W = rgb.shape[:2]
        line = ["sample%d:" % s]
        with torch.inference_mode():
            if "tiny" in models:
                x, reshaped = detector_input(rgb, 416)
                x = (x - TINY_MEAN) / np.float32(255)
                raw = models["tiny"](to_nchw(x[None]))[0].permute(1, 2, 0)
                dets = decode_tiny(raw.numpy(), W, H, reshaped)
                db, ds, mi, same = _match(g["tiny"], dets)
                ok &= same
                upd("tiny box px", db)
                upd("tiny score", ds)
                line.append("tiny %d/%d faces, max|dbox| %.3g px, "
                            "max|dscore| %.3g, min IoU %.5f;" %
                            (len(dets), len(g["tiny"]), db, ds, mi))
            if "ssd" in models:
                x, reshaped = detector_input(rgb, 512)
                x = x / np.float32(127.5) - np.float32(1)
                bx, lg = models["ssd"](to_nchw(x[None]))
                dets = decode_ssd(bx[0].numpy(), lg[0].numpy(),
                                  models["ssd"].anchor_boxes.numpy(), W, H,
                                  reshaped)
                db, ds, mi, same = _match(g["ssd"], dets)
                ok &= same
                upd("ssd box px", db)
                upd("ssd score", ds)
                line.append("ssd %d/%d faces, max|dbox| %.3g px, "
                            "max|dscore| %.3g, min IoU %.5f;" %
                            (len(dets), len(g["ssd"]), db, ds, mi))
        print(" ".join(line))
        faces = g.get("faces", [])
        if not faces:
            continue

        def batch(key, size):
            return to_nchw(np.stack(
                [face_input(rgb, f[key], size) for f in faces]))

        with torch.inference_mode():
            if "landmarks" in models:
                m = models["landmarks"]
                xb = batch("landmark_crop", 112)
                out = m(xb)
                if all("landmark_feature" in f for f in faces):
                    upd("landmark feature |d|", np.abs(
                        m.features(xb).numpy() -
                        np.array([f["landmark_feature"] for f in faces])).max())
                ref = np.array([f["landmarks_raw"] for f in faces])
                d = np.abs(out.numpy() - ref).max()
                upd("landmarks_raw |d|", d)
                # in pixels of the 112 square
                upd("landmarks_raw |d| (px of 112)", d * 112)
            if "expression" in models:
                m = models["expression"]
                xb = batch("expression_crop", 112)
                feat = m.features(xb)
                probs = m(xb)
                upd("expression feature |d|", np.abs(
                    feat.numpy() -
                    np.array([f["expression_feature"] for f in faces])).max())
                upd("expression probs |d|", np.abs(
                    probs.numpy() -
                    np.array([f["expression"] for f in faces])).max())
            if "recognition" in models:
                m = models["recognition"]
                xb = batch("descriptor_crop", 150)
                feat = m.features(xb)
                desc = m(xb)
                upd("recognition feature |d|", np.abs(
                    feat.numpy() -
                    np.array([f["recognition_feature"] for f in faces])).max())
                ref = np.array([f["descriptor"] for f in faces])
                upd("descriptor |d|", np.abs(desc.numpy() - ref).max())
                upd("descriptor L2 distance", float(
                    np.linalg.norm(desc.numpy() - ref, axis=1).max()))
    print("max differences vs the JavaScript reference:")
    for k, v in worst.items():
        print("  %-32s %.3g" % (k, v))
    limits = {"tiny box px": 0.05, "ssd box px": 0.05, "tiny score": 1e-4,
              "ssd score": 1e-4, "landmarks_raw |d|": 1e-4,
              "expression probs |d|": 1e-4, "descriptor |d|": 1e-4,
              "expression feature |d|": 1e-4, "landmark feature |d|": 1e-4,
              "recognition feature |d|": 1e-4}
    for k, lim in limits.items():
        if k in worst and not worst[k] <= lim:
            print("FAIL: %s = %.3g > %.3g" % (k, worst[k], lim))
            ok = False
    print("verification", "PASSED" if ok else "FAILED")
    return ok


def check_converter():
    """Compares the converted safetensors with our own tfjs reading."""
    ok = True
    for name in NET_FILES.values():
        path = model_path(name)
        if not os.path.exists(path):
            print("%s: missing" % path)
            ok = False
            continue
        a = load_weights(name, path, allow_tfjs=False)
        b = load_tfjs(name)
        if set(a) != set(b):
            print("%s: tensor names differ: %s" % (name, set(a) ^ set(b)))
            ok = False
            continue
        bad = [k for k in b if a[k].shape != b[k].shape or
               a[k].dtype != b[k].dtype or not np.array_equal(a[k], b[k])]
        print("%s: %d tensors, %s" % (name, len(b), "identical" if not bad
                                      else "DIFFER: %s" % bad[:5]))
        ok &= not bad
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--verify", action="store_true",
                    help="compare with tests/golden/face-api/sampleN.json")
    ap.add_argument("--samples", default="1,2,3,4,5,6")
    ap.add_argument("--nets", default=",".join(NET_FILES))
    ap.add_argument("--check-converter", action="store_true",
                    help="compare the safetensors files with the tfjs files")
    ap.add_argument("--macs", action="store_true",
                    help="print the MACs per image of each network")
    a = ap.parse_args()
    nets = a.nets.split(",")
    ok = True
    if a.check_converter:
        ok &= check_converter()
    if a.macs:
        for n in nets:
            m = build(n)
            s = m.input_size
            print("%-12s %d MACs/image" % (n, count_macs(m, (1, 3, s, s))))
    if a.verify:
        ok &= verify([int(v) for v in a.samples.split(",")], nets)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
