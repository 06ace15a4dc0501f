"""OpenCV's thread pool during the analysis.

OpenCV splits a call's work over a pool of as many threads as there are cores. On the analysis
frames (480 px on the longer side) each call is a fraction of a millisecond, so the pool's
hand-off and wake-up cost as much as they save, and its threads take the second core from the
analysis's own threads (the frame read-ahead, the recognizer), which do independent work. On
the 2-core dev box, in one process, one OpenCV thread analyses the demo with 10-15% less CPU
(the whole command's time changes less than the box's noise; BENCHMARKS.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import cv2


@contextmanager
def opencv_threads(count: int) -> Iterator[None]:
    """Run the block with OpenCV's pool at `count` threads, then put the previous count back
    (a process-wide setting: blocks on several threads at once should ask for the same)."""
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    before = cv2.getNumThreads()
    cv2.setNumThreads(count)
    try:
        yield
    finally:
        cv2.setNumThreads(before)
