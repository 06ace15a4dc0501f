"""SMPTE timecode text for the transport display, at the video's exact frame rate.

NTSC rates (30000/1001, 60000/1001) use drop-frame numbering (`;` before the frames), as editors
expect, so the display stays in step with wall-clock time over long clips; every other rate
counts frames plainly at its rounded nominal rate.
"""

from __future__ import annotations

import math
from fractions import Fraction

_DROP_FRAME_RATES = {Fraction(30000, 1001): 2, Fraction(60000, 1001): 4}


def frame_to_timecode(frame_index: int, fps: Fraction) -> str:
    """`HH:MM:SS:FF` (or `HH:MM:SS;FF` drop-frame) for a frame index at `fps`."""
    if frame_index < 0:
        raise ValueError(f"frame index must be >= 0, got {frame_index}")
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    nominal = max(1, round(fps))
    drop = _DROP_FRAME_RATES.get(fps, 0)
    frame = frame_index
    if drop:
        # SMPTE 12M: skip `drop` frame numbers each minute, except every tenth minute
        per_10min = nominal * 600 - drop * 9
        per_min = nominal * 60 - drop
        tens, rest = divmod(frame, per_10min)
        frame += drop * 9 * tens
        if rest > drop:
            frame += drop * ((rest - drop) // per_min)
    ff = frame % nominal
    total_s = frame // nominal
    hh, rem = divmod(total_s, 3600)
    mm, ss = divmod(rem, 60)
    sep = ";" if drop else ":"
    return f"{hh:02d}:{mm:02d}:{ss:02d}{sep}{ff:02d}"


def seconds_to_timecode(seconds: float, fps: Fraction) -> str:
    """Timecode of the frame shown at `seconds` (the last frame starting at or before it)."""
    if not math.isfinite(seconds):
        raise ValueError("time must be finite")
    exact = Fraction(max(seconds, 0.0)).limit_denominator(10**9) * fps
    return frame_to_timecode(math.floor(exact + Fraction(1, 10**6)), fps)


def format_clock(seconds: float) -> str:
    """`M:SS.mmm` wall-clock style time for the timeline ruler and status texts."""
    seconds = max(0.0, seconds)
    minutes, secs = divmod(seconds, 60.0)
    return f"{int(minutes)}:{secs:06.3f}"
