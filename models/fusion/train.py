#!/usr/bin/env python3
# gst-affect — models/fusion
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Train the fusion network with the paper's recipe.

    python train.py --data clips.safetensors -o run/ [options]
    python train.py --synthetic 2000 -o /tmp/run --epochs 3   # self-check

Data: a safetensors file of clips (the layout affect-fuse reads, plus
labels): img [N, D_img], exp [N, T, D_exp], spe [N, T, D_spe],
wrd [N, T, D_wrd], present [N, 3] (0/1, order exp, spe, wrd), and any of
au_label [N, 12] (0/1, -1 = no label), expr_label [N] (class, -1 = none),
va_label [N, 2] (valence, arousal; -5 = none), video [N] (I32 video id,
used for the k-fold split). Its __metadata__ "features" is copied into the
model file. make_clips.py writes this file from the plugin's feature
files (extract.py) and the Aff-Wild2 annotations (affwild2.py).

Recipe:
- AU loss = multi-label circle loss + binary cross-entropy (on the logits,
  AUs without a label masked out);
- EXPR loss = cross-entropy with label smoothing lambda = 0.9 (0.9 on the
  true class, 0.1 spread evenly over the other K - 1 classes);
- VA loss = 2 - (CCC_v + CCC_a) over the batch;
- multi-task loss = sum over the tasks with at least one label in the batch,
  each computed on the samples that have that label;
- SGD, learning rate 0.002 (momentum 0.9), batch 80, cosine annealing with
  warm restarts (stepped every batch, first cycle --restart-epochs);
- k-fold cross-validation split by video (k = 5; --fold selects one or
  "all");
- --modality-dropout P: each clip branch of each training sample is marked
  absent with probability P, so the missing-branch vectors learn;
- --va-mode separate: valence and arousal trained as two models (as the
  paper did), each with 1 - CCC of its own dimension; two model files.

Past one machine (docs/scale-out.md):
- under torchrun (`torchrun --nproc_per_node N train.py ...`): data
  parallel with DistributedDataParallel (gloo on CPUs, NCCL with
  --device cuda). --batch stays the global batch: every rank draws the
  same permutation and modality-dropout masks, takes every N-th sample of
  each global batch (a DistributedSampler over the batch), and the outputs
  are gathered so that the loss (with its masked means and the batch CCC)
  is that of the whole global batch; its gradient through the rank's own
  outputs, times N, averaged by DDP, is the single-process gradient. So
  with the same seed the steps match the single-process run (CPU: losses
  equal within rounding, ~1e-6). Validation is split over the ranks and
  the predictions gathered; rank 0 alone writes the checkpoints, model
  files and summary.json.
- --fold all --ray ADDRESS: one Ray task per fold (per model with
  --va-mode separate), each with --threads CPUs; the driver collects the
  weights and scores and writes the files and summary.json (the cluster
  needs no shared folder).
"""

import argparse
import json
import math
import os
import re
import sys

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.utils.data.distributed import DistributedSampler
from safetensors import safe_open

import metrics
from export import DEFAULT_FEATURES, save_model
from fusion_model import TASKS, FusionNet

NO_AU = -1
NO_EXPR = -1
NO_VA = -5.0


# ---- losses ---------------------------------------------------------------

def circle_loss_multilabel(logits, targets, mask):
    """Multi-label circle loss: log(1 + sum_neg e^s) + log(1 + sum_pos e^-s)
    per sample, over the labelled AUs (mask)."""
    s = logits
    big = torch.finfo(s.dtype).max / 4
    pos = (targets > 0.5) & mask
    neg = (targets <= 0.5) & mask
    s_neg = torch.where(neg, s, torch.full_like(s, -big))
    s_pos = torch.where(pos, -s, torch.full_like(s, -big))
    zero = torch.zeros_like(s[:, :1])
    l_neg = torch.logsumexp(torch.cat([zero, s_neg], dim=1), dim=1)
    l_pos = torch.logsumexp(torch.cat([zero, s_pos], dim=1), dim=1)
    rows = mask.any(dim=1)
    return (l_neg + l_pos)[rows].mean()


def au_loss(logits, labels):
    mask = labels >= 0
    if not mask.any():
        return None
    t = labels.clamp(min=0).float()
    bce = F.binary_cross_entropy_with_logits(logits[mask], t[mask])
    return circle_loss_multilabel(logits, t, mask) + bce


def expr_loss(logits, labels, smoothing=0.9):
    keep = labels >= 0
    if not keep.any():
        return None
    logits, labels = logits[keep], labels[keep]
    k = logits.shape[1]
    target = torch.full_like(logits, (1.0 - smoothing) / (k - 1))
    target.scatter_(1, labels.long().unsqueeze(1), smoothing)
    return -(target * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


def ccc_torch(x, y):
    mx, my = x.mean(), y.mean()
    vx = ((x - mx) ** 2).mean()
    vy = ((y - my) ** 2).mean()
    cov = ((x - mx) * (y - my)).mean()
    return 2 * cov / (vx + vy + (mx - my) ** 2 + 1e-8)


def va_loss(out, labels, dims=(0, 1)):
    """2 - (CCC_v + CCC_a) on tanh outputs; with dims=(j,), 1 - CCC_j."""
    pred = torch.tanh(out)
    total = 0.0
    used = False
    for j in dims:
        keep = labels[:, j] > NO_VA + 0.5
        if keep.sum() < 2:
            continue
        total = total + 1.0 - ccc_torch(pred[keep, j], labels[keep, j])
        used = True
    return total if used else None


def multitask_loss(out, batch, va_dims=(0, 1)):
    losses = {}
    if "au" in out and "au_label" in batch:
        losses["au"] = au_loss(out["au"], batch["au_label"])
    if "expr" in out and "expr_label" in batch:
        losses["expr"] = expr_loss(out["expr"], batch["expr_label"])
    if "va" in out and "va_label" in batch:
        losses["va"] = va_loss(out["va"], batch["va_label"], va_dims)
    losses = {k: v for k, v in losses.items() if v is not None}
    if not losses:
        return None, {}
    return sum(losses.values()), {k: float(v.detach()) for k, v in losses.items()}


# ---- data -----------------------------------------------------------------

INPUTS = ("img", "exp", "spe", "wrd", "present")
LABELS = ("au_label", "expr_label", "va_label")


def load_clips(path):
    data = {}
    with safe_open(path, framework="pt") as f:
        meta = f.metadata() or {}
        for k in f.keys():
            data[k] = f.get_tensor(k)
    for k in INPUTS:
        if k not in data:
            raise SystemExit(f"{path}: no tensor '{k}'")
    n = data["img"].shape[0]
    if "video" not in data:
        data["video"] = torch.arange(n, dtype=torch.int32)
    return data, meta


def synthetic_clips(n, clip_len=8, d_img=16, d_exp=12, d_spe=6, d_wrd=10,
                    n_videos=40, seed=0, n_expr=8):
    """Random clips with a planted signal: AUs, the expression class and
    valence/arousal are functions of the image feature and of the mean of
    the expression branch; a fraction of branches is absent and a fraction
    of labels missing."""
    g = torch.Generator().manual_seed(seed)
    img = torch.randn(n, d_img, generator=g)
    exp = torch.randn(n, clip_len, d_exp, generator=g)
    spe = torch.randn(n, clip_len, d_spe, generator=g)
    wrd = torch.randn(n, clip_len, d_wrd, generator=g)
    present = (torch.rand(n, 3, generator=g) > 0.2).float()
    present[:, 0] = 1.0
    s = torch.cat([img[:, :4], exp.mean(dim=1)[:, :4] * 2.0], dim=1)  # [n,8]
    w_au = torch.randn(8, 12, generator=g)
    au = (s @ w_au > 0).to(torch.int32)
    w_ex = torch.randn(8, n_expr, generator=g)
    expr = torch.argmax(s @ w_ex, dim=1).to(torch.int32)
    va = torch.tanh(s @ torch.randn(8, 2, generator=g) * 0.5)
    au[torch.rand(n, generator=g) < 0.1] = NO_AU
    expr[torch.rand(n, generator=g) < 0.1] = NO_EXPR
    va[torch.rand(n, generator=g) < 0.1] = NO_VA
    video = torch.randint(0, n_videos, (n,), generator=g, dtype=torch.int32)
    return {"img": img, "exp": exp, "spe": spe, "wrd": wrd,
            "present": present, "au_label": au, "expr_label": expr,
            "va_label": va, "video": video}, {"features": "synthetic"}


def kfold_by_video(videos, k, seed=0):
    """Folds of sample indices such that each video lies in one fold."""
    uniq = np.unique(np.asarray(videos))
    rng = np.random.default_rng(seed)
    rng.shuffle(uniq)
    vid_fold = {int(v): i % k for i, v in enumerate(uniq)}
    fold = np.array([vid_fold[int(v)] for v in np.asarray(videos)])
    return [np.nonzero(fold == i)[0] for i in range(k)]


def subset(data, idx):
    idx = torch.as_tensor(idx, dtype=torch.long)
    return {k: v[idx] for k, v in data.items()}


# ---- distributed ----------------------------------------------------------

class World:
    """This process' place under torchrun (size 1, rank 0 without)."""

    def __init__(self, size=1, rank=0, local_rank=0, device="cpu"):
        self.size, self.rank, self.local_rank = size, rank, local_rank
        self.device = torch.device(device)

    @property
    def main(self):
        return self.rank == 0


SINGLE = World()


def init_world(device):
    """Joins the torchrun job described by the environment (WORLD_SIZE,
    RANK, LOCAL_RANK, MASTER_ADDR, MASTER_PORT), if any: gloo on the CPU,
    NCCL with --device cuda (one GPU per local rank)."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no GPU visible to PyTorch")
    if size <= 1:
        return World(device="cuda" if device == "cuda" else "cpu")
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device == "cuda":
        torch.cuda.set_device(local_rank)
        dev = f"cuda:{local_rank}"
    else:
        dev = "cpu"
    dist.init_process_group("nccl" if device == "cuda" else "gloo")
    return World(size, rank, local_rank, dev)


def shard(n, world):
    """Positions of this rank's samples in a global batch of n: a
    DistributedSampler over the batch (positions rank, rank + N, ...,
    padded to ceil(n / N) with positions from the start, whose outputs
    gather_outputs() drops), so every rank runs the same number of rows."""
    sampler = DistributedSampler(range(n), num_replicas=world.size,
                                 rank=world.rank, shuffle=False)
    return torch.tensor(list(sampler), dtype=torch.long)


def gather_outputs(out, n, world):
    """{task: [m, C] outputs of this rank} -> {task: [n, C] outputs of the
    whole global batch, in its order}; only this rank's rows carry a
    gradient."""
    if world.size == 1:
        return out
    res = {}
    for t, v in out.items():
        parts = [torch.empty_like(v) for _ in range(world.size)]
        dist.all_gather(parts, v.detach().contiguous())
        parts[world.rank] = v
        g = torch.stack(parts, dim=1)  # [m, N, C]: position j * N + rank
        res[t] = g.reshape((-1,) + tuple(v.shape[1:]))[:n]
    return res


def to_device(batch, device):
    if device.type == "cpu":
        return batch
    return {k: v.to(device) for k, v in batch.items()}


# ---- training -------------------------------------------------------------

def run_model(model, batch):
    return model(batch["img"], batch["exp"], batch["spe"], batch["wrd"],
                 batch["present"])


@torch.no_grad()
def evaluate(model, data, batch_size=256, world=SINGLE):
    """Metrics on `data`; under torchrun each rank predicts every N-th
    sample and the predictions are gathered (every rank gets the metrics)."""
    model.eval()
    n = data["img"].shape[0]
    mine = list(range(world.rank, n, world.size))
    outs = {t: [] for t in model.tasks}
    for i in range(0, len(mine), batch_size):
        b = to_device(subset(data, mine[i:i + batch_size]), world.device)
        o = FusionNet.activate(run_model(model, b))
        for t in model.tasks:
            outs[t].append(o[t].cpu())
    outs = {t: (torch.cat(v) if v else torch.zeros(0)).numpy()
            for t, v in outs.items()}
    if world.size > 1:
        parts = [None] * world.size
        dist.all_gather_object(parts, outs)
        full = {}
        for t in model.tasks:
            rows = [None] * n
            for r, p in enumerate(parts):
                for j, row in enumerate(p[t]):
                    rows[r + j * world.size] = row
            full[t] = np.stack(rows)
        outs = full
    labels = {}
    for t, key in (("au", "au_label"), ("expr", "expr_label"),
                   ("va", "va_label")):
        if key in data:
            labels[t] = data[key].numpy()
    return metrics.evaluate(labels, outs, model.n_out["expr"])


def train_one(args, train, val, tasks, va_dims=(0, 1), log_prefix="",
              world=SINGLE, loss_log=None):
    torch.manual_seed(args.seed)
    dims = {k: train[k].shape[-1] for k in ("img", "exp", "spe", "wrd")}
    n_expr = args.n_expr
    model = FusionNet(d_img=dims["img"], d_exp=dims["exp"],
                      d_spe=dims["spe"], d_wrd=dims["wrd"],
                      hidden=args.hidden, heads=args.heads,
                      mlp_hidden=args.mlp_hidden,
                      clip_len=train["exp"].shape[1], tasks=tasks,
                      n_expr=n_expr).to(world.device)
    net = model
    if world.size > 1:
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=([world.local_rank]
                               if world.device.type == "cuda" else None))
    labels = {k: train[k] for k in LABELS if k in train}
    opt = torch.optim.SGD(model.parameters(), lr=args.lr,
                          momentum=args.momentum,
                          weight_decay=args.weight_decay)
    n = train["img"].shape[0]
    steps_per_epoch = max(1, math.ceil(n / args.batch))
    sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        opt, T_0=max(1, args.restart_epochs * steps_per_epoch),
        T_mult=args.restart_mult)
    g = torch.Generator().manual_seed(args.seed)
    step = 0
    history = []
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(n, generator=g)
        run = 0.0
        for i in range(0, n, args.batch):
            idx = perm[i:i + args.batch]
            # drawn for the whole global batch on every rank (same g)
            keep = None
            if args.modality_dropout > 0:
                drop = torch.rand((len(idx), 3), generator=g)
                keep = (drop >= args.modality_dropout).float()
            if world.size == 1:
                b = subset(train, idx)
                if keep is not None:
                    b["present"] = b["present"] * keep
                lab = b
            else:
                pos = shard(len(idx), world)
                b = subset(train, idx[pos])
                if keep is not None:
                    b["present"] = b["present"] * keep[pos]
                lab = {k: v[idx] for k, v in labels.items()}
            out = run_model(net, to_device(b, world.device))
            out = gather_outputs(out, len(idx), world)
            loss, parts = multitask_loss(out, to_device(lab, world.device),
                                         va_dims)
            if loss is None:
                continue
            opt.zero_grad()
            # DDP averages the ranks' gradients: each holds the gradient
            # through its own rows only, so N x that is the full gradient
            (loss * world.size if world.size > 1 else loss).backward()
            opt.step()
            sched.step()
            step += 1
            run += float(loss.detach())
            if loss_log is not None:
                loss_log.write(json.dumps({"step": step, "loss": float(
                    loss.detach()), **parts}) + "\n")
            if args.max_steps and step >= args.max_steps:
                break
        rec = {"epoch": epoch + 1, "steps": step,
               "loss": run / steps_per_epoch}
        if val is not None and val["img"].shape[0] > 0:
            rec.update({"val_" + k: v for k, v in
                        evaluate(model, val, world=world).items()})
        history.append(rec)
        if world.main:
            print(log_prefix + json.dumps(rec), file=sys.stderr)
        if args.max_steps and step >= args.max_steps:
            break
    return model.cpu(), history


def main(argv=None):
    ap = argparse.ArgumentParser(description="Train the fusion network.")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", help="clips safetensors file")
    src.add_argument("--synthetic", type=int, metavar="N",
                     help="N synthetic clips with a planted signal")
    ap.add_argument("-o", "--output", required=True, help="output folder")
    ap.add_argument("--tasks", default="au,expr,va")
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--mlp-hidden", type=int, default=256)
    ap.add_argument("--n-expr", type=int, default=8)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--max-steps", type=int, default=0)
    ap.add_argument("--batch", type=int, default=80)
    ap.add_argument("--lr", type=float, default=0.002)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--restart-epochs", type=int, default=5,
                    help="length of the first cosine cycle in epochs")
    ap.add_argument("--restart-mult", type=int, default=1)
    ap.add_argument("--modality-dropout", type=float, default=0.0)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--fold", default="0",
                    help="validation fold index, 'all', or 'none' "
                    "(train on everything)")
    ap.add_argument("--va-mode", choices=("joint", "separate"),
                    default="joint")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                    help="cuda: under torchrun one GPU per local rank, NCCL")
    ap.add_argument("--loss-log", metavar="FILE",
                    help="JSON Lines: the loss of every step (rank 0)")
    ap.add_argument("--ray", metavar="ADDRESS",
                    help="one Ray task per fold (--fold all) or model: "
                    "'auto', 'local:N' or the head's address; each task "
                    "uses --threads CPUs (docs/scale-out.md)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    world = init_world(args.device)
    if args.ray and world.size > 1:
        raise SystemExit("--ray and torchrun: one or the other")
    if args.ray and args.device != "cpu":
        raise SystemExit("--ray: CPU tasks only (use torchrun for GPUs)")

    if args.data:
        data, meta = load_clips(args.data)
    else:
        data, meta = synthetic_clips(args.synthetic, seed=args.seed,
                                     n_expr=args.n_expr)
    features = meta.get("features", DEFAULT_FEATURES)
    tasks = tuple(t for t in args.tasks.split(",") if t)
    if not tasks or any(t not in TASKS for t in tasks):
        raise SystemExit(f"--tasks: a subset of {','.join(TASKS)}")
    if world.main:
        os.makedirs(args.output, exist_ok=True)

    if args.fold == "none":
        splits = [("all", np.arange(data["img"].shape[0]), None)]
    else:
        folds = kfold_by_video(data["video"], args.folds, args.seed)
        which = (range(args.folds) if args.fold == "all"
                 else [int(args.fold)])
        if any(i < 0 or i >= args.folds for i in which):
            raise SystemExit(f"--fold: 0..{args.folds - 1}, all or none")
        splits = []
        for i in which:
            tr = np.concatenate([f for j, f in enumerate(folds) if j != i])
            splits.append((f"fold{i}", tr, folds[i]))

    jobs = []  # (name, train indices, validation indices, tasks, va dims)
    for name, tr_idx, va_idx in splits:
        if args.va_mode == "separate" and "va" in tasks:
            rest = tuple(t for t in tasks if t != "va")
            if rest:
                jobs.append((name, tr_idx, va_idx, rest, (0, 1)))
            jobs += [(name + "-valence", tr_idx, va_idx, ("va",), (0,)),
                     (name + "-arousal", tr_idx, va_idx, ("va",), (1,))]
        else:
            jobs.append((name, tr_idx, va_idx, tasks, (0, 1)))

    def write(jname, model, hist):
        torch.save({"config": model.config(),
                    "state_dict": model.state_dict(),
                    "features": features, "history": hist},
                   os.path.join(args.output, jname + ".pt"))
        save_model(model, os.path.join(args.output, jname + ".safetensors"),
                   features=features)
        summary[jname] = hist[-1] if hist else {}

    summary = {}
    if args.ray:
        for jname, model, hist in train_on_ray(args, data, jobs):
            write(jname, model, hist)
    else:
        loss_log = (open(args.loss_log, "w") if args.loss_log and world.main
                    else None)
        for jname, tr_idx, va_idx, jtasks, va_dims in jobs:
            model, hist = train_job(args, data, tr_idx, va_idx, jtasks,
                                    va_dims, f"[{jname}] ", world, loss_log)
            if world.main:
                write(jname, model, hist)
        if loss_log is not None:
            loss_log.close()
    if world.main:
        order = [j[0] for j in jobs]  # Ray jobs end in any order
        summary = {k: summary[k] for k in order if k in summary}
        summary.update(fold_means(summary))
        with open(os.path.join(args.output, "summary.json"), "w") as f:
            json.dump(summary, f, indent=1)
        print(json.dumps(summary), file=sys.stderr)
    if world.size > 1:
        dist.barrier()
        dist.destroy_process_group()


def train_job(args, data, tr_idx, va_idx, tasks, va_dims, log_prefix="",
              world=SINGLE, loss_log=None):
    train = subset(data, tr_idx)
    val = subset(data, va_idx) if va_idx is not None else None
    return train_one(args, train, val, tasks, va_dims, log_prefix=log_prefix,
                     world=world, loss_log=loss_log)


def fold_means(summary):
    """{"mean<suffix>": mean of each metric over fold<i><suffix>} when
    there are several folds."""
    groups = {}
    for name, rec in summary.items():
        m = re.fullmatch(r"fold\d+(.*)", name)
        if m:
            groups.setdefault(m.group(1), []).append(rec)
    out = {}
    for suffix, recs in groups.items():
        if len(recs) < 2:
            continue
        keys = [k for k in recs[0] if k.startswith("val_")
                and all(isinstance(r.get(k), (int, float)) for r in recs)]
        out["mean" + suffix] = {k: float(np.mean([r[k] for r in recs]))
                                for k in keys}
        out["mean" + suffix]["folds"] = len(recs)
    return out


def _remote_job(args, data, job):
    """One fold on a Ray worker (train.py is in the job's working_dir)."""
    import train as tr
    jname, tr_idx, va_idx, jtasks, va_dims = job
    if args.threads:
        torch.set_num_threads(args.threads)
    model, hist = tr.train_job(args, data, tr_idx, va_idx, jtasks, va_dims,
                               f"[{jname}] ")
    return jname, model.config(), model.state_dict(), hist


def train_on_ray(args, data, jobs):
    """--ray: one task per job; yields (name, model, history) as they end.
    The data goes once into the object store; the driver writes the
    files, so the workers need no shared folder."""
    try:
        import ray
    except ImportError as e:
        raise SystemExit(f"--ray needs the ray package ({e}; bash "
                         "models/fusion/setup-train-env.sh --ray VENV)")
    here = os.path.dirname(os.path.abspath(__file__))
    env = {"working_dir": here,
           "excludes": ["*.c", "*.h", "*.pt",
                        "*.safetensors"]}
    if args.ray.startswith("local:"):
        n = int(args.ray[6:])
        ray.init(address="local", num_cpus=n * max(1, args.threads),
                 include_dashboard=False, runtime_env=env,
                 log_to_driver=False, logging_level="WARNING")
    else:
        ray.init(address=args.ray, runtime_env=env, log_to_driver=False,
                 logging_level="WARNING")
    try:
        task = ray.remote(_remote_job).options(
            num_cpus=max(1, args.threads),
            num_gpus=0, max_retries=3)
        data_ref = ray.put(data)
        refs = {task.remote(args, data_ref, job): job[0] for job in jobs}
        print(f"train.py: {len(refs)} jobs on Ray "
              f"({ray.cluster_resources().get('CPU', 0):g} CPUs)",
              file=sys.stderr)
        while refs:
            ready, _ = ray.wait(list(refs), num_returns=1)
            for ref in ready:
                refs.pop(ref)
                jname, config, state, hist = ray.get(ref)
                model = FusionNet(**config)
                model.load_state_dict(state)
                print(f"train.py: {jname} done: "
                      + json.dumps(hist[-1] if hist else {}), file=sys.stderr)
                yield jname, model, hist
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
