"""Rendering a film's shots in batch (`stereofoley batch`): one `render` per shot, each into its
own folder under OUTDIR, run by a local process pool or as tasks on a Ray cluster.

A shot is rendered exactly as `stereofoley render VIDEO -o OUTDIR/NAME` renders it (the same
app.cmd_render code, options and atomic OUTDIR handling), so a batch's audio equals the serial
renders' bit for bit, whichever runner ran it. Each worker renders one shot at a time with its
numeric libraries limited to its share of the CPUs (no oversubscription), and turns any error
into a `failed` row instead of stopping the batch. A shot whose folder already holds a finished
render of the same video is skipped without a worker.

Ray is optional (the `ray` extra) and imported only here, inside `ray_module` and `run_ray`.
This module imports nothing heavy at its top: a spawned pool worker limits its threads before
numpy, OpenCV or torch load.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from app.outdir import is_previous_render
from video.base.errors import InputError

RENDERED, SKIPPED, FAILED = "rendered", "skipped", "failed"
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
RESERVED_NAMES = ("summary.csv", "summary.txt")   # the batch's own files in OUTDIR
RAY_HINT = "pip install 'stereofoley-studio[ray]'"


@dataclass(frozen=True)
class Shot:
    """One video of the batch: its resolved path and its folder's name under OUTDIR."""

    video: Path
    name: str


@dataclass(frozen=True)
class ShotResult:
    """One row of the batch summary. duration (s), objects and lufs (the mix's integrated
    loudness) are None where the shot failed; seconds is the wall time the shot took (0 for a
    skipped one); error is the failure in one line."""

    name: str
    video: str
    status: str
    duration: float | None = None
    objects: int | None = None
    lufs: float | None = None
    seconds: float = 0.0
    error: str = ""


def cpu_count() -> int:
    """The CPUs this process may run on (its affinity, which a container or taskset limits)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:                                  # not on Linux
        return os.cpu_count() or 1


def _safe_name(stem: str) -> str:
    """A file stem reduced to a folder name that is safe everywhere and not hidden."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-.")[:60] or "shot"


def shot_names(videos: Sequence[Path]) -> list[str]:
    """Folder names for the videos (resolved paths), in their order: each file's stem, made
    safe; stems that clash (case-insensitively, for the file systems that ignore case) get
    -2, -3 ... in the order of their full paths, so a re-run with the shots listed in another
    order gives every video the same folder again."""
    bases = [_safe_name(v.stem) for v in videos]
    names: list[str] = [""] * len(videos)
    taken = {b.casefold() for b in bases} | set(RESERVED_NAMES)
    groups: dict[str, list[int]] = {}
    for i, base in enumerate(bases):
        groups.setdefault(base.casefold(), []).append(i)
    for key, members in groups.items():
        members = sorted(members, key=lambda i: str(videos[i]))
        if key not in RESERVED_NAMES:
            names[members[0]] = bases[members[0]]
            members = members[1:]
        suffix = 2
        for i in members:
            while f"{bases[i]}-{suffix}".casefold() in taken:
                suffix += 1
            names[i] = f"{bases[i]}-{suffix}"
            taken.add(names[i].casefold())
    return names


def plan_shots(paths: Sequence[str]) -> list[Shot]:
    """The shots for the given video paths; a missing file, a folder or a video given twice is
    an InputError (before anything is written)."""
    videos: list[Path] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            raise InputError(f"{text} is a folder, not a video file")
        if not path.is_file():
            raise InputError(f"video file not found: {text}")
        resolved = path.resolve()
        if resolved in videos:
            raise InputError(f"{text} is given twice")
        videos.append(resolved)
    return [Shot(video, name) for video, name in zip(videos, shot_names(videos), strict=True)]


def previous_result(shot: Shot, folder: Path, *, force: bool) -> ShotResult | None:
    """The summary row of a finished earlier render of this shot in `folder` (status skipped),
    or None when there is none or `force` asks to render it again. A folder holding files no
    render wrote is an InputError (never replaced), and so, without `force`, is one holding
    another video's render."""
    if not folder.exists() or (folder.is_dir() and not any(folder.iterdir())):
        return None
    if not is_previous_render(folder):
        raise InputError(f"shot folder {folder} holds files a render did not write: "
                         f"refusing to replace it")
    if force:
        return None
    try:
        doc = json.loads((folder / "project.json").read_text(encoding="utf-8"))
        source = str(doc["analysis"]["video"]["path"])
        duration = float(doc["analysis"]["video"]["duration"])
        objects = len(doc["objects"])
        lufs = doc["render"].get("master", {}).get("lufs_after")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"shot folder {folder} holds an unreadable project.json ({exc}): "
                         f"use --force to render it again") from None
    if source != str(shot.video):
        raise InputError(f"shot folder {folder} holds the render of another video ({source}): "
                         f"use --force to replace it")
    return ShotResult(shot.name, str(shot.video), SKIPPED, duration, objects,
                      float(lufs) if isinstance(lufs, int | float) else None)


def one_line(exc: BaseException) -> str:
    """An error as the one line a summary row shows (the user's errors as they are, anything
    else with its type)."""
    if isinstance(exc, InputError):
        text = str(exc)
    elif isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror + (f" ({exc.filename})" if exc.filename else "")
    else:
        text = f"internal error: {type(exc).__name__}: {exc}"
    return " ".join(text.split()) or type(exc).__name__


def limit_threads(threads: int) -> None:
    """Limit this (worker) process's numeric libraries to `threads` threads: the BLAS/OpenMP
    variables for libraries not loaded yet (torch reads OMP_NUM_THREADS when it loads) and
    OpenCV's pool, which is already loaded where analysis ran before."""
    for variable in THREAD_VARIABLES:
        os.environ[variable] = str(threads)
    import cv2

    cv2.setNumThreads(threads)


# -- one shot, in whichever process runs it ----------------------------------------------------

_busy = False         # a pool worker is rendering (SIGTERM then cancels the render cleanly)
_pool_worker = False  # this process is a pool worker (an interrupted render ends it)


def render_shot(shot: Shot, outdir: str, options: Mapping[str, Any], *,
                threads: int) -> ShotResult:
    """Render one shot into OUTDIR/NAME as `stereofoley render` would (`options`: render's
    namespace without video and output) and return its summary row; any error but an
    interrupt becomes a failed row. A render that is interrupted removes its partial folder
    (app.export) before the interrupt leaves."""
    global _busy
    import argparse

    from app.outdir import check_outdir, claim_outdir
    from video.base.progress import warn_line

    limit_threads(threads)
    start = time.monotonic()
    folder = Path(outdir) / shot.name
    args = argparse.Namespace(**{**options, "video": str(shot.video), "output": str(folder)})
    _busy = True
    try:
        from app.cmd_render import render_claimed

        out = check_outdir(folder, force=bool(args.force))
        with claim_outdir(out):
            project, result = render_claimed(args, shot.video, out, progress=None,
                                             warn=lambda m: warn_line(f"{shot.name}: {m}"))
    except KeyboardInterrupt:
        from app.outdir import remove_own_temps

        remove_own_temps(folder)  # what the render's own cleanup may have raced with
        if _pool_worker:          # the partial folder and the claim are gone by now
            os._exit(130)
        raise
    except Exception as exc:
        return ShotResult(shot.name, str(shot.video), FAILED,
                          seconds=time.monotonic() - start, error=one_line(exc))
    finally:
        _busy = False
    lufs = result.master.get("lufs_after")
    return ShotResult(shot.name, str(shot.video), RENDERED,
                      float(project.analysis.video.duration), len(project.objects),
                      float(lufs) if isinstance(lufs, int | float) else None,
                      time.monotonic() - start)


def clear_dead_render(folder: Path) -> None:
    """Remove what a render killed outright (SIGKILL, the out-of-memory killer) left beside
    its folder on this machine: its partial folder and its claim on the folder."""
    from app.outdir import lock_path, pid_alive, remove_stale_temps

    if not folder.parent.is_dir():
        return
    remove_stale_temps(folder)
    lock = lock_path(folder)
    try:
        owner = int(lock.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return
    if not pid_alive(owner):
        lock.unlink(missing_ok=True)


# -- local process pool ------------------------------------------------------------------------

def _on_sigterm(signum: int, frame: object) -> None:
    if _busy:
        raise KeyboardInterrupt        # the render removes its partial folder on the way out
    os._exit(128 + signum)             # an idle worker has nothing to clean up


def _init_worker(threads: int) -> None:
    """Pool worker start: Ctrl-C is the parent's to handle (it stops the workers with SIGTERM,
    which cancels a render cleanly); threads limited before any numeric library loads."""
    global _pool_worker
    _pool_worker = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_sigterm)
    limit_threads(threads)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """SIGTERM every worker (each cancels its render and removes its partial folder), wait
    for them (killing any still running after a minute), and drop the rest of the queue."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    for proc in procs:
        proc.join(timeout=60)
    for proc in procs:           # stuck (a long native call under heavy load): killed outright,
        if proc.is_alive():      # its partial folder and claim cleared by the caller
            proc.kill()
            proc.join(timeout=10)
    pool.shutdown(wait=False, cancel_futures=True)


def run_pool(shots: Sequence[Shot], outdir: str, options: Mapping[str, Any], *, workers: int,
             on_done: Callable[[ShotResult], None]) -> list[ShotResult]:
    """Render the shots in `workers` spawned processes, each with cpus/workers threads, at
    most one shot per worker at a time; on_done gets each row as its shot finishes. A worker
    that dies (killed, out of memory) fails the shots it held and a new pool takes the rest."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")   # no fork of a threaded parent
    threads = max(1, cpu_count() // workers)
    pending = list(shots)
    results: list[ShotResult] = []
    died: list[Shot] = []
    while pending:
        pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                                   initargs=(threads,))
        running: dict[Future[ShotResult], Shot] = {}
        broken = False
        try:
            while pending or running:
                while pending and not broken and len(running) < workers:
                    shot = pending.pop(0)
                    running[pool.submit(render_shot, shot, outdir, dict(options),
                                        threads=threads)] = shot
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    shot = running.pop(future)
                    try:
                        row = future.result()
                    except BrokenProcessPool:
                        broken = True
                        died.append(shot)
                        row = ShotResult(shot.name, str(shot.video), FAILED,
                                         error="its worker process died (killed, or out of "
                                               "memory)")
                    results.append(row)
                    on_done(row)
        except BaseException:
            _stop_workers(pool)
            for shot in running.values():   # whatever a worker could not clean up itself
                clear_dead_render(Path(outdir) / shot.name)
            raise
        pool.shutdown(wait=True)         # the dead pool's processes are reaped by now
    for shot in died:
        clear_dead_render(Path(outdir) / shot.name)
    return results


# -- Ray ----------------------------------------------------------------------------------------

def ray_module() -> ModuleType:
    """The ray package, or an InputError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise InputError(f"--ray needs Ray, which is not installed ({RAY_HINT})") from None
    return ray


def check_reachable(address: str, *, timeout: float = 5.0) -> None:
    """A `host:port` or `ray://host:port` cluster address must accept a TCP connection within
    `timeout` seconds (Ray itself retries an unreachable address for minutes); "auto" and
    "local" are Ray's to resolve."""
    import socket

    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if address in ("auto", "local") or not sep or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise InputError(f"cannot reach the Ray cluster at {address}: "
                         f"{exc.strerror or exc}") from None


def run_ray(shots: Sequence[Shot], outdir: str, options: Mapping[str, Any], *, address: str,
            num_cpus: int | None, on_done: Callable[[ShotResult], None]) -> list[ShotResult]:
    """Render the shots as Ray tasks (one CPU, one thread each) on the cluster at `address`
    ("auto": the running one; "local": start one here with num_cpus CPUs), or on the cluster
    this process is already connected to. Every node must see the videos and OUTDIR at the
    same paths (a shared file system); the rows come back as tasks finish. A connection
    this function made is closed at the end."""
    ray = ray_module()
    started = False
    if not ray.is_initialized():
        check_reachable(address)
        kwargs: dict[str, Any] = {"logging_level": "ERROR", "include_dashboard": False}
        if address == "local":
            kwargs["num_cpus"] = num_cpus
        try:
            ray.init(address=address, **kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise InputError(f"cannot connect to the Ray cluster at {address}: "
                             f"{' '.join(str(exc).split())}") from None
        started = True
    try:
        task = ray.remote(num_cpus=1, max_retries=1)(render_shot)
        refs = {task.remote(shot, outdir, dict(options), threads=1): shot for shot in shots}
        results: list[ShotResult] = []
        try:
            while refs:
                done, _ = ray.wait(list(refs), num_returns=1)
                for ref in done:
                    shot = refs.pop(ref)
                    try:
                        row = ray.get(ref)
                    except ray.exceptions.RayError as exc:
                        row = ShotResult(shot.name, str(shot.video), FAILED,
                                         error=f"ray: {one_line(exc).splitlines()[0][:300]}")
                    results.append(row)
                    on_done(row)
        except BaseException:
            for ref in refs:          # KeyboardInterrupt inside each task: partials removed
                ray.cancel(ref)
            ray.wait(list(refs), num_returns=len(refs), timeout=30)  # before any shutdown
            raise
        return results
    finally:
        if started:
            ray.shutdown()
