"""Progress reporting shared by every long job (CLI bar, studio worker).

A job takes `progress: ProgressFn | None` and calls it with a fraction in 0..1 and a short message.
The callback may raise `Cancelled` to stop the job: that is how the studio's cancel button works,
without the job knowing anything about threads or widgets.

On a terminal the CLI bar redraws one line with `\r`; when stderr is a file or a pipe (logs, CI)
it writes one plain line per stage instead, so a log holds no carriage returns and no hundreds of
redraws.
"""

from __future__ import annotations

import re
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


def is_terminal(stream: TextIO) -> bool:
    """True when `stream` is an interactive terminal (where `\r` redraws make sense)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def warn_line(message: str, *, stream: TextIO | None = None) -> None:
    """A `warning:` line on stderr; on a terminal it starts on a fresh line so a progress bar
    being redrawn there is not garbled."""
    out = stream if stream is not None else sys.stderr
    out.write(f"{chr(10) if is_terminal(out) else ''}warning: {message}\n")
    out.flush()


def stage_of(message: str) -> str:
    """A progress message with its counts blanked ("frame 12/455" -> "frame #/#"): messages
    that differ only in numbers are one stage."""
    return re.sub(r"\d+", "#", message)


class ProgressBar:
    """Progress on stderr: on a terminal a one-line bar redrawn at most ~10 times a second; in a
    log (not a terminal) one line per stage, `LABEL: PCT% TIMEs MESSAGE`.

    `interactive` forces either behaviour (default: whether the stream is a terminal).
    """

    def __init__(self, label: str, *, stream: TextIO | None = None, width: int = 30,
                 interactive: bool | None = None) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.interactive = is_terminal(self.stream) if interactive is None else interactive
        self._last = 0.0
        self._start = time.monotonic()
        self._shown = False
        self._stage: str | None = None

    def __call__(self, fraction: float, message: str = "") -> None:
        now = time.monotonic()
        elapsed = now - self._start
        if not self.interactive:
            stage = stage_of(message)
            if stage != self._stage:
                self._stage = stage
                self.stream.write(f"{self.label}: {fraction * 100:3.0f}% {elapsed:6.1f}s "
                                  f"{message}\n")
                self.stream.flush()
            return
        if fraction < 1.0 and now - self._last < 0.1:
            return
        self._last = now
        filled = int(round(self.width * fraction))
        bar = "#" * filled + "-" * (self.width - filled)
        text = f"\r{self.label} [{bar}] {fraction * 100:5.1f}% {elapsed:5.1f}s {message[:40]:<40}"
        self.stream.write(text)
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        """End the bar's line (on a terminal) so later output starts on a fresh one."""
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
            self._shown = False
