"""The studio worker: jobs run off the caller's thread, report progress, cancel, supersede."""

from __future__ import annotations

import threading
import time

import pytest

from app.studio.session.worker import PRIORITY_INTERACTIVE, JobResult, Worker
from video.base.errors import Cancelled, InputError
from video.base.progress import ProgressFn


@pytest.fixture
def worker():
    w = Worker()
    yield w
    w.shutdown(timeout=2.0)


def _collect(worker: Worker, count: int, timeout: float = 5.0) -> list[JobResult]:
    out: list[JobResult] = []
    deadline = time.monotonic() + timeout
    while len(out) < count and time.monotonic() < deadline:
        out.extend(worker.drain())
        time.sleep(0.002)
    assert len(out) == count, f"expected {count} results, got {out}"
    return out


def test_job_runs_on_worker_thread_and_returns_value(worker: Worker) -> None:
    caller = threading.get_ident()

    def job(progress: ProgressFn) -> tuple[int, int]:
        progress(0.5, "half")
        return threading.get_ident(), sum(range(1000))

    job_id = worker.submit("sum", job)
    (result,) = _collect(worker, 1)
    assert result.job_id == job_id and result.ok and result.name == "sum"
    thread_id, value = result.value
    assert thread_id != caller
    assert value == 499500
    assert worker.status() is None and not worker.busy


def test_status_shows_progress_of_running_job(worker: Worker) -> None:
    gate = threading.Event()

    def job(progress: ProgressFn) -> None:
        progress(0.25, "quarter")
        gate.wait(5)

    worker.submit("slow", job)
    deadline = time.monotonic() + 5
    status = worker.status()
    while (status is None or status.fraction < 0.25) and time.monotonic() < deadline:
        time.sleep(0.002)
        status = worker.status()
    assert status is not None
    assert status.name == "slow" and status.fraction == pytest.approx(0.25)
    assert status.message == "quarter" and not status.cancelling
    gate.set()
    (result,) = _collect(worker, 1)
    assert result.ok


@pytest.mark.parametrize(
    ("exception", "outcome"),
    [(InputError("bad clip"), "failed"), (ValueError("boom"), "failed"),
     (Cancelled("stop"), "cancelled")],
)
def test_failures_are_reported_and_worker_survives(worker: Worker, exception: Exception,
                                                   outcome: str) -> None:
    def bad(progress: ProgressFn) -> None:
        raise exception

    worker.submit("bad", bad)
    worker.submit("good", lambda progress: 42)
    first, second = _collect(worker, 2)
    assert first.outcome == outcome
    if outcome == "failed":
        assert first.error is exception
    assert second.ok and second.value == 42


def test_cancel_stops_running_job_at_next_progress_report(worker: Worker) -> None:
    started = threading.Event()
    reports: list[float] = []

    def long_job(progress: ProgressFn) -> str:
        for i in range(10_000):
            progress(i / 10_000, "working")
            reports.append(i)
            started.set()
            time.sleep(0.001)
        return "finished"

    job_id = worker.submit("long", long_job)
    assert started.wait(5)
    assert worker.cancel() is True
    (result,) = _collect(worker, 1)
    assert result.job_id == job_id and result.outcome == "cancelled"
    assert len(reports) < 10_000
    assert worker.cancel() is False  # nothing running any more


def test_same_key_supersedes_waiting_and_running_jobs(worker: Worker) -> None:
    gate = threading.Event()
    running = threading.Event()

    def blocker(progress: ProgressFn) -> str:
        running.set()
        while not gate.is_set():
            progress(0.1, "waiting")
            time.sleep(0.002)
        return "blocker"

    def make(value: int):
        def job(progress: ProgressFn) -> int:
            progress(0.0, "")
            return value
        return job

    first = worker.submit("regen 3", blocker, key="regen:3")
    assert running.wait(5)
    second = worker.submit("regen 3", make(2), key="regen:3")
    third = worker.submit("regen 3", make(3), key="regen:3")
    other = worker.submit("regen 4", make(4), key="regen:4")
    results = {r.job_id: r for r in _collect(worker, 4)}
    assert results[first].outcome == "cancelled"
    assert results[second].outcome == "cancelled"
    assert results[third].ok and results[third].value == 3
    assert results[other].ok and results[other].value == 4


def test_interactive_priority_jumps_the_queue(worker: Worker) -> None:
    gate = threading.Event()
    order: list[str] = []

    def blocker(progress: ProgressFn) -> None:
        gate.wait(5)

    def record(name: str):
        def job(progress: ProgressFn) -> None:
            order.append(name)
        return job

    worker.submit("block", blocker)
    worker.submit("background", record("background"))
    worker.submit("nudge", record("nudge"), priority=PRIORITY_INTERACTIVE)
    gate.set()
    _collect(worker, 3)
    assert order == ["nudge", "background"]


def test_shutdown_cancels_and_refuses_new_jobs() -> None:
    worker = Worker()
    started = threading.Event()

    def long_job(progress: ProgressFn) -> None:
        started.set()
        while True:
            progress(0.5, "")
            time.sleep(0.001)

    worker.submit("forever", long_job)
    assert started.wait(5)
    t0 = time.monotonic()
    worker.shutdown(timeout=2.0)
    assert time.monotonic() - t0 < 2.0
    with pytest.raises(RuntimeError):
        worker.submit("late", lambda progress: None)
