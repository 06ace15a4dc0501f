"""Progress reporting shared by every long job (CLI bar, studio worker).

A job takes `progress: ProgressFn | None` and calls it with a fraction in 0..1 and a short message.
The callback may raise `Cancelled` to stop the job: that is how the studio's cancel button works,
without the job knowing anything about threads or widgets.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

ProgressFn = Callable[[float, str], None]


def report(progress: ProgressFn | None, fraction: float, message: str = "") -> None:
    """Call `progress` if given, with the fraction clamped to 0..1."""
    if progress is not None:
        progress(min(max(float(fraction), 0.0), 1.0), message)


def scaled(progress: ProgressFn | None, start: float, stop: float) -> ProgressFn | None:
    """A callback mapping a sub-job's 0..1 onto [start, stop] of the parent's progress."""
    if progress is None:
        return None

    def sub(fraction: float, message: str) -> None:
        progress(start + (stop - start) * min(max(fraction, 0.0), 1.0), message)

    return sub


def warn_line(message: str, *, stream: TextIO | None = None) -> None:
    """A `warning:` line on stderr, starting on a fresh line so a progress bar is not garbled."""
    out = stream if stream is not None else sys.stderr
    out.write(f"\nwarning: {message}\n")
    out.flush()


class ProgressBar:
    """A one-line text progress bar on stderr, redrawn at most ~10 times a second."""

    def __init__(self, label: str, *, stream: TextIO | None = None, width: int = 30) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self._last = 0.0
        self._start = time.monotonic()
        self._shown = False

    def __call__(self, fraction: float, message: str = "") -> None:
        now = time.monotonic()
        if fraction < 1.0 and now - self._last < 0.1:
            return
        self._last = now
        filled = int(round(self.width * fraction))
        bar = "#" * filled + "-" * (self.width - filled)
        elapsed = now - self._start
        text = f"\r{self.label} [{bar}] {fraction * 100:5.1f}% {elapsed:5.1f}s {message[:40]:<40}"
        self.stream.write(text)
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        """End the bar's line so later output starts on a fresh one."""
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
