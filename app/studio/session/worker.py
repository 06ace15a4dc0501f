"""One background thread that runs the studio's long jobs, behind a queue.

Analysis, full renders, regenerating one object, seeded tracking and export all run here so the
Dear PyGui render loop never blocks. A job is a plain function `fn(progress) -> value`; its
`progress` callback raises `video.base.errors.Cancelled` once cancellation is requested, so any job
that reports progress (as every long job in this project does) stops at its next report.

The worker never touches widgets: finished jobs (done, failed, cancelled) are posted to a result
queue that the UI loop drains once per frame with `drain()`; live progress of the running job is
read with `status()`. Jobs submitted with the same `key` supersede each other: a newer job drops
the older one if it is still waiting and cancels it if it is running (opening another video
while the first is analysed), unless it is submitted with `interrupt=False`: then the running
one finishes (the studio's audio syncs, each of which brings the audio to the newest project,
so a slider drag never throws away a regeneration in progress).
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from video.base.errors import Cancelled
from video.base.progress import ProgressFn

JobFn = Callable[[ProgressFn], Any]
Outcome = Literal["done", "failed", "cancelled"]

# Lower runs first; within a priority, first come first served.
PRIORITY_INTERACTIVE = 0
PRIORITY_BACKGROUND = 10


@dataclass(frozen=True)
class JobResult:
    """What became of one job: its value (done), its exception (failed), or that it was cancelled."""

    job_id: int
    name: str
    outcome: Outcome
    value: Any = None
    error: BaseException | None = None
    seconds: float = 0.0
    key: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == "done"


@dataclass(frozen=True)
class JobStatus:
    """A snapshot of the running job for the status bar."""

    job_id: int
    name: str
    fraction: float
    message: str
    cancelling: bool


@dataclass
class _Job:
    job_id: int
    name: str
    fn: JobFn
    key: str | None
    priority: int
    cancel: threading.Event
    fraction: float = 0.0
    message: str = ""


class Worker:
    """A single daemon thread running submitted jobs in priority order; see the module doc."""

    def __init__(self, *, name: str = "studio-worker") -> None:
        self._ids = itertools.count(1)
        self._order = itertools.count()
        self._pending: queue.PriorityQueue[tuple[int, int, _Job | None]] = queue.PriorityQueue()
        self._results: queue.Queue[JobResult] = queue.Queue()
        self._lock = threading.Lock()
        self._running: _Job | None = None
        self._waiting: dict[int, _Job] = {}
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    # -- submitting and cancelling -------------------------------------------------------------

    def submit(self, name: str, fn: JobFn, *, key: str | None = None,
               priority: int = PRIORITY_BACKGROUND, interrupt: bool = True) -> int:
        """Queue `fn(progress)`; returns the job id. A same-`key` job waiting is dropped, and
        one running is cancelled unless `interrupt` is False."""
        job = _Job(job_id=next(self._ids), name=name, fn=fn, key=key, priority=priority,
                   cancel=threading.Event())
        with self._lock:
            if self._closed:
                raise RuntimeError("worker is shut down")
            if key is not None:
                self._supersede(key, interrupt=interrupt)
            self._waiting[job.job_id] = job
        self._pending.put((priority, next(self._order), job))
        return job.job_id

    def _supersede(self, key: str, *, interrupt: bool) -> None:
        """Cancel every waiting job with this key, and the running one if `interrupt` (called
        with the lock held)."""
        for job in list(self._waiting.values()):
            if job.key == key:
                job.cancel.set()
        if interrupt and self._running is not None and self._running.key == key:
            self._running.cancel.set()

    def cancel(self, job_id: int | None = None) -> bool:
        """Request cancellation of one job (or the running one when None); False if none matched."""
        with self._lock:
            if job_id is None:
                target = self._running
            elif self._running is not None and self._running.job_id == job_id:
                target = self._running
            else:
                target = self._waiting.get(job_id)
            if target is None:
                return False
            target.cancel.set()
            return True

    def cancel_all(self) -> None:
        """Cancel the running job and everything waiting."""
        with self._lock:
            for job in self._waiting.values():
                job.cancel.set()
            if self._running is not None:
                self._running.cancel.set()

    # -- reading results ----------------------------------------------------------------------

    def drain(self, *, limit: int = 64) -> list[JobResult]:
        """Finished jobs since the last call (at most `limit`), oldest first. Never blocks."""
        out: list[JobResult] = []
        while len(out) < limit:
            try:
                out.append(self._results.get_nowait())
            except queue.Empty:
                break
        return out

    def status(self) -> JobStatus | None:
        """The running job's name, progress and message, or None when idle."""
        with self._lock:
            job = self._running
            if job is None:
                return None
            return JobStatus(job.job_id, job.name, job.fraction, job.message, job.cancel.is_set())

    def pending_count(self) -> int:
        """Jobs waiting or running that were not cancelled."""
        with self._lock:
            waiting = sum(1 for j in self._waiting.values() if not j.cancel.is_set())
            running = int(self._running is not None and not self._running.cancel.is_set())
            return waiting + running

    @property
    def busy(self) -> bool:
        return self.pending_count() > 0

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is waiting or running (for scripts and tests, never the UI)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._running is None and not self._waiting:
                    return True
            time.sleep(0.005)
        return False

    def shutdown(self, *, timeout: float = 5.0) -> None:
        """Cancel everything, stop the thread and wait for it (bounded by `timeout`)."""
        with self._lock:
            self._closed = True
        self.cancel_all()
        self._pending.put((-1, -1, None))
        self._thread.join(timeout)

    # -- the thread ---------------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            _, _, job = self._pending.get()
            if job is None:
                return
            with self._lock:
                self._waiting.pop(job.job_id, None)
                if job.cancel.is_set():
                    self._results.put(JobResult(job.job_id, job.name, "cancelled", key=job.key))
                    continue
                self._running = job
            result = self._run(job)
            with self._lock:
                self._running = None
            self._results.put(result)

    def _run(self, job: _Job) -> JobResult:
        def progress(fraction: float, message: str = "") -> None:
            if job.cancel.is_set():
                raise Cancelled(f"{job.name} cancelled")
            job.fraction = min(max(float(fraction), 0.0), 1.0)
            job.message = message

        start = time.monotonic()
        try:
            value = job.fn(progress)
        except Cancelled:
            return JobResult(job.job_id, job.name, "cancelled", seconds=time.monotonic() - start,
                             key=job.key)
        except Exception as exc:  # a failed job is reported to the UI, never kills the thread
            return JobResult(job.job_id, job.name, "failed", error=exc,
                             seconds=time.monotonic() - start, key=job.key)
        if job.cancel.is_set():
            # finished after a newer job superseded it: its value is stale
            return JobResult(job.job_id, job.name, "cancelled", seconds=time.monotonic() - start,
                             key=job.key)
        return JobResult(job.job_id, job.name, "done", value=value,
                         seconds=time.monotonic() - start, key=job.key)
