"""video.reader.read_ahead: results in order, errors where they happened, the worker stopped
when the consumer leaves early; and `VideoReader.frames(only=...)`, which the pose pass reads
ahead with."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from video.encode import write_video
from video.reader import VideoReader, read_ahead


def _numbers(count: int, log: list[str], fail_at: int | None = None) -> Iterator[int]:
    try:
        for i in range(count):
            if i == fail_at:
                raise OSError(f"bad item {i}")
            log.append(f"read {i}")
            yield i
    finally:
        log.append("closed")


@pytest.mark.parametrize("depth", [1, 3, 50])
def test_results_in_order_on_a_worker(depth: int) -> None:
    log: list[str] = []
    threads: set[str] = set()

    def square(x: int) -> int:
        threads.add(threading.current_thread().name)
        time.sleep(0.001 * (x % 3))  # uneven work must not reorder
        return x * x

    assert list(read_ahead(_numbers(40, log), square, depth=depth)) == [i * i for i in range(40)]
    assert threads == {"read-ahead"}
    assert log[-1] == "closed" and log.count("closed") == 1


def test_error_comes_out_after_the_items_before_it() -> None:
    log: list[str] = []
    got = []
    with pytest.raises(OSError, match="bad item 5"):
        for x in read_ahead(_numbers(10, log, fail_at=5), lambda x: x + 100):
            got.append(x)
    assert got == [100, 101, 102, 103, 104]


def test_leaving_early_stops_the_worker_within_depth() -> None:
    log: list[str] = []
    before = threading.active_count()
    for x in read_ahead(_numbers(10_000, log), lambda x: x, depth=4):
        if x == 10:
            break
    # the generator was closed by `break`: the worker has been joined and closed the source
    assert threading.active_count() == before
    assert log[-1] == "closed"
    read = sum(1 for line in log if line.startswith("read"))
    assert 11 <= read <= 11 + 4 + 1   # never more than `depth` (+ the one in hand) ahead


def test_depth_must_be_positive() -> None:
    with pytest.raises(ValueError, match="depth"):
        list(read_ahead([1], lambda x: x, depth=0))


def test_frames_only_yields_the_wanted_frames_unchanged(tmp_path: Path) -> None:
    """`VideoReader.frames(only=...)` decodes through the others but yields just the wanted
    ones, each the same picture a full pass gives (here across keyframe intervals), and runs
    under read_ahead."""
    rng = np.random.default_rng(3)
    pictures = [rng.integers(0, 255, (48, 64, 3), dtype=np.uint8) for _ in range(30)]
    path = tmp_path / "noise.mp4"
    write_video(path, pictures, Fraction(25), gop=7)
    wanted = {0, 5, 6, 13, 29}
    with VideoReader(path) as reader:
        full = {f.index: f for f in reader.frames(start=2, stop=30, max_side=32)}
        some = list(read_ahead(reader.frames(start=2, stop=30, max_side=32, only=wanted),
                               lambda f: f))
    assert [f.index for f in some] == [5, 6, 13, 29]
    for f in some:
        assert f.time == full[f.index].time and f.scale == full[f.index].scale
        assert np.array_equal(f.image, full[f.index].image)
