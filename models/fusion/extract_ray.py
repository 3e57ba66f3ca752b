# gst-affect — models/fusion
# Copyright (C) 2026 gst-affect developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""extract.py --ray ADDRESS: the same extraction, one Ray task per video.

    python extract.py VIDEO_DIR -o FEATURE_DIR --ray auto [--threads T]
    python extract.py VIDEO_DIR -o FEATURE_DIR --ray local:4 --threads 2

ADDRESS is `auto` (the cluster this machine belongs to, started with
`ray start`), `local:N` (a Ray instance started here for this run, with room
for N videos at once: N x --threads CPUs) or an address such as
`10.0.0.1:6379` / `ray://head:10001`.

Each task runs extract.Extractor.process() on one video, on whatever node
Ray gives it, with `num_cpus=--threads` (and `num_gpus=--gpus-per-task`,
for pipelines on a GPU backend), so the feature files, the temporary
folder renamed at the end and the done.json marker are exactly those of
the local path: a run resumes after the driver or the cluster restarts, and
the files are byte-identical to `extract.py -j N` with the same --threads.

The video folder and FEATURE_DIR must be paths every node sees at the same
place (NFS, CephFS, Lustre, a bind mount): before any video, a probe task
on every node reads a file written by the driver and writes one back, and
the run stops with the names of the nodes that could not.

A video that fails is submitted again up to --retries times, then reported
with the end of its log (kept in FEATURE_DIR/.logs/). A task whose worker
or node is lost is re-run by Ray (up to LOST_WORKER_RETRIES times) without
counting as a retry. Progress (videos, frames, frames/s, ETA) on the
driver's stderr, with the frames of the running videos reported by the
tasks to a small actor.

The driver forwards the GStreamer and gst-affect environment variables it
has (GST_PLUGIN_PATH*, GST_PLUGIN_SYSTEM_PATH*, AFFECT_*) and its
OMP_NUM_THREADS (or its absence: Ray sets it to the task's CPUs) to the
pipelines; the nodes need the plugin and its models installed at those
paths. The recipe folder (this file, extract.py, features.py) is shipped to
the workers as the job's working_dir.
"""

import os
import signal
import socket
import sys
import time
import uuid

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

HERE = os.path.dirname(os.path.abspath(__file__))
LOST_WORKER_RETRIES = 3
FORWARDED = ("GST_PLUGIN_PATH", "GST_PLUGIN_PATH_1_0", "GST_PLUGIN_SYSTEM_PATH",
             "GST_PLUGIN_SYSTEM_PATH_1_0")
# Ray sets these in its workers from the task's resources; the pipelines
# get the driver's values (or none), as with the local path.
THREAD_VARS = ("OMP_NUM_THREADS",)
PROBE_DIR = ".ray-probe-"


class RayError(Exception):
    pass


def forwarded_env():
    """{name: value or None (unset)} for the pipelines on the workers."""
    env = {k: v for k, v in os.environ.items()
           if k in FORWARDED or k.startswith("AFFECT_")}
    for k in THREAD_VARS:
        env[k] = os.environ.get(k)
    return env


def _apply_env(env):
    for k, v in env.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def connect(address, threads, gpus):
    """ray.init() for --ray ADDRESS. Returns a text saying where."""
    runtime_env = {"working_dir": HERE,
                   "excludes": ["*.c", "*.h", "*.pt",
                                "*.safetensors"]}
    if address.startswith("local:"):
        try:
            n = int(address[6:])
        except ValueError:
            n = 0
        if n < 1:
            raise RayError(f"--ray {address}: local:N with N >= 1 expected")
        ray.init(address="local", num_cpus=n * threads,
                 num_gpus=None if gpus <= 0 else max(1, round(n * gpus)),
                 include_dashboard=False, runtime_env=runtime_env,
                 log_to_driver=False, logging_level="WARNING")
        return f"a local Ray instance for {n} videos at once"
    ray.init(address=address, runtime_env=runtime_env, log_to_driver=False,
             logging_level="WARNING")
    res = ray.cluster_resources()
    return (f"the Ray cluster at {address} ({len(alive_nodes())} nodes, "
            f"{res.get('CPU', 0):g} CPUs, {res.get('GPU', 0):g} GPUs)")


def alive_nodes():
    return [n for n in ray.nodes()
            if n.get("Alive") and n.get("Resources", {}).get("CPU", 0) > 0]


# ---- the shared folder check ----------------------------------------------

@ray.remote(num_cpus=0, max_retries=0)
def _probe(folder, token, video, gst_launch):
    """On one node: the driver's file is there, the first video is
    readable, gst-launch-1.0 is installed; then writes our own file."""
    import shutil as sh
    host = socket.gethostname()
    errors = []
    try:
        with open(os.path.join(folder, "driver")) as f:
            if f.read() != token:
                errors.append(f"{folder}/driver has other content (not the "
                              "same folder as the driver's)")
    except OSError as e:
        errors.append(f"cannot read the driver's probe file: {e}")
    if not os.access(video, os.R_OK):
        errors.append(f"cannot read {video}")
    if sh.which(gst_launch) is None:
        errors.append(f"{gst_launch} not found")
    node = ray.get_runtime_context().get_node_id()
    try:
        with open(os.path.join(folder, node), "w") as f:
            f.write(token + " " + host)
    except OSError as e:
        errors.append(f"cannot write into the output folder: {e}")
    return node, host, errors


def check_shared(args, videos, timeout=300):
    """Every node sees the output folder (a file written by the driver is
    read by a task there, a file written by the task is read here) and the
    inputs. Raises RayError naming the nodes that do not."""
    import shutil
    token = uuid.uuid4().hex
    folder = os.path.join(args.output, PROBE_DIR + token[:12])
    os.makedirs(folder)
    try:
        with open(os.path.join(folder, "driver"), "w") as f:
            f.write(token)
        nodes = alive_nodes()
        refs = [_probe.options(scheduling_strategy=NodeAffinitySchedulingStrategy(
            n["NodeID"], soft=False)).remote(folder, token, videos[0].path,
                                             args.gst_launch)
                for n in nodes]
        ready, missing = ray.wait(refs, num_returns=len(refs),
                                  timeout=timeout)
        problems = []
        for n, r in zip(nodes, refs):
            where = f"{n.get('NodeManagerHostname', '?')} ({n['NodeID'][:8]})"
            if r in missing:
                problems.append(f"{where}: the probe task did not run "
                                f"within {timeout} s")
                continue
            try:
                node, host, errors = ray.get(r)
            except ray.exceptions.RayError as e:
                problems.append(f"{where}: probe task failed: {e}")
                continue
            try:
                with open(os.path.join(folder, node)) as f:
                    ok = f.read() == token + " " + host
            except OSError:
                ok = False
            if not ok and not errors:
                errors.append("its file in the output folder is not seen by "
                              f"the driver (a local folder on {host}?)")
            problems += [f"{host} ({node[:8]}): {e}" for e in errors]
        if problems:
            raise RayError(
                f"the output folder {args.output} and the videos must be "
                "paths every node sees (a shared file system):\n  "
                + "\n  ".join(problems))
        return len(nodes)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# ---- tasks ----------------------------------------------------------------

@ray.remote(num_cpus=0)
class _Reporter:
    """Frames decoded so far by the running videos (name -> frames)."""

    def __init__(self):
        self.frames = {}

    def report(self, name, frames):
        self.frames[name] = frames

    def drop(self, name):
        self.frames.pop(name, None)

    def snapshot(self):
        return dict(self.frames)


class _Running(dict):
    """Extractor writes progress.running[name] = frames; here that goes to
    the reporter actor (when the count changes)."""

    def __init__(self, reporter):
        super().__init__()
        self.reporter = reporter

    def __setitem__(self, name, frames):
        if self.get(name) != frames:
            self.reporter.report.remote(name, frames)
        super().__setitem__(name, frames)


class _TaskProgress:
    def __init__(self, reporter):
        import threading
        self.lock = threading.Lock()
        self.running = _Running(reporter)
        self.frames = 0


def _die_with_parent():
    """gst-launch-1.0 gets SIGTERM when the Ray worker running it dies
    (a cancelled task, a killed driver, a lost node)."""
    import ctypes
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


@ray.remote
def _extract_video(path, args, env, reporter):
    import extract  # from the job's working_dir
    _apply_env(env)
    progress = _TaskProgress(reporter)
    ex = extract.Extractor(args, progress)
    ex.preexec = _die_with_parent
    video = extract.Video(path)
    t0 = time.monotonic()
    state, msg = ex.process(video)
    log = None
    if state == "failed":
        try:
            with open(os.path.join(args.output, extract.LOG_DIR,
                                   video.name + ".log"),
                      errors="replace") as f:
                log = f.read()[-4000:]
        except OSError:
            pass
    return {"state": state, "msg": msg, "frames": progress.frames,
            "log": log, "host": socket.gethostname(),
            "seconds": time.monotonic() - t0}


def run(args, videos, progress, extract):
    """Extracts `videos` on the cluster; returns (done, skipped, failed)."""
    gpus = args.gpus_per_task
    try:
        where = connect(args.ray, args.threads, gpus)
    except (RayError, ConnectionError, RuntimeError, ValueError) as e:
        raise RayError(f"--ray {args.ray}: {e}") from e
    try:
        progress.message(f"extract.py: on {where}")
        n_nodes = check_shared(args, videos)
        progress.message(f"extract.py: {n_nodes} node(s) see {args.output}")
        progress.t0 = time.monotonic()  # frames/s and ETA without start-up
        return _run(args, videos, progress, extract, gpus)
    finally:
        ray.shutdown()


def _run(args, videos, progress, extract, gpus):
    reporter = _Reporter.remote()
    args_ref = ray.put(args)
    env = forwarded_env()
    opts = {"num_cpus": args.threads, "max_retries": LOST_WORKER_RETRIES,
            "retry_exceptions": False}
    if gpus > 0:
        opts["num_gpus"] = gpus
    task = _extract_video.options(**opts)
    todo = []
    for v in videos:
        d = extract.read_done(os.path.join(args.output, v.name))
        if d is not None and not args.force and \
                d.get("settings") == extract.settings_key(args, v):
            with progress.lock:
                progress.skipped += 1
                progress.skip_bytes += v.size
        else:
            todo.append(v)
    res = ray.cluster_resources()
    slots = max(1, int(res.get("CPU", 1) // max(1, args.threads)))
    window = max(8, 2 * slots)
    pending = {}  # ref -> (video, attempt)
    attempts = {}
    queue = [(v, 0) for v in todo]
    last_poll = 0.0
    try:
        while queue or pending:
            while queue and len(pending) < window:
                v, a = queue.pop(0)
                pending[task.remote(v.path, args_ref, env, reporter)] = (v, a)
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
            if time.monotonic() - last_poll > 1.0:
                last_poll = time.monotonic()
                snap = ray.get(reporter.snapshot.remote())
                names = {v.name for v, _ in pending.values()}
                with progress.lock:
                    progress.running = {n: f for n, f in snap.items()
                                        if n in names}
            for ref in ready:
                v, a = pending.pop(ref)
                reporter.drop.remote(v.name)
                try:
                    r = ray.get(ref)
                except ray.exceptions.RayError as e:
                    r = {"state": "failed", "frames": 0, "log": None,
                         "host": "?",
                         "msg": f"task error: {str(e).strip()[-2000:]}"}
                with progress.lock:
                    progress.running.pop(v.name, None)
                if r["state"] == "failed" and a < args.retries:
                    attempts[v.name] = a + 1
                    progress.message(f"retry {a + 1}/{args.retries} "
                                     f"{v.name} (on {r['host']}): {r['msg']}")
                    queue.append((v, a + 1))
                    continue
                with progress.lock:
                    if r["state"] == "done":
                        progress.done += 1
                        progress.done_bytes += v.size
                        progress.frames += r["frames"]
                    elif r["state"] == "skipped":
                        progress.skipped += 1
                        progress.skip_bytes += v.size
                    else:
                        progress.failed += 1
                        progress.done_bytes += v.size
                if r["state"] == "failed":
                    text = (f"FAILED {v.name} ({v.path}) on {r['host']}"
                            f"{' after ' + str(a + 1) + ' attempts' if a else ''}"
                            f": {r['msg']}")
                    if r.get("log"):
                        log_path = os.path.join(args.output, extract.LOG_DIR,
                                                v.name + ".log")
                        tail = r["log"].rstrip().splitlines()[-10:]
                        text += (f"\n  log {log_path}, last lines:\n    "
                                 + "\n    ".join(tail))
                    progress.message(text)
                elif r["state"] == "done" and not progress.tty:
                    progress.message(f"done {v.name} on {r['host']}: "
                                     f"{r['msg']}")
                progress.show(force=r["state"] != "skipped")
            if progress.tty:
                progress.show()
    except KeyboardInterrupt:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise
    return progress.done, progress.skipped, progress.failed
