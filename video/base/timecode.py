"""SMPTE timecode: labels "HH:MM:SS:FF" (";FF" for drop-frame) <-> frame counts, exactly.

A timecode counts frames at a nominal integer rate (30 for 29.97, 60 for 59.94, 24 for 23.976)
while the picture runs at the true rate (a Fraction). Drop-frame timecode (29.97 and 59.94
only) skips the labels ;00 and ;01 (;00-;03 at 59.94) at the start of every minute except every
tenth, so the label stays within a frame of wall-clock time: 01:00:00;00 at 29.97 DF is frame
107 892, not 108 000. Non-drop labels are plain frame counts at the nominal rate.

The sample position of a timecode is its frame's start, rounded up to a whole sample, so that a
sample count turned back into frames (floor or nearest) names the same frame.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

_LABEL = re.compile(r"(\d{1,2}):(\d{2}):(\d{2})([:;.,])(\d{2,3})")
_DROP_RATES = {Fraction(30000, 1001): 2, Fraction(60000, 1001): 4}


def nominal_rate(rate: Fraction) -> int:
    """The integer frame count per timecode second for a true frame rate (29.97 -> 30)."""
    if rate <= 0:
        raise ValueError(f"frame rate must be positive, got {rate}")
    return max(1, round(rate))


def dropped_per_minute(rate: Fraction) -> int:
    """Labels drop-frame timecode skips per minute at `rate` (0: the rate has no drop-frame)."""
    return _DROP_RATES.get(Fraction(rate), 0)


def _check_drop(rate: Fraction, drop: bool) -> int:
    skip = dropped_per_minute(rate) if drop else 0
    if drop and not skip:
        raise ValueError(f"drop-frame timecode exists only at 30000/1001 and 60000/1001 fps, "
                         f"not {rate}")
    return skip


def label_to_frame(label: str, rate: Fraction, *, drop: bool | None = None) -> int:
    """Frame count of a timecode label at `rate`; ';' (or '.', ',') before the frames means
    drop-frame unless `drop` says otherwise. ValueError for a malformed or impossible label
    (fields out of range, or a label drop-frame skips)."""
    match = _LABEL.fullmatch(label.strip())
    if match is None:
        raise ValueError(f"timecode must look like HH:MM:SS:FF or HH:MM:SS;FF, got {label!r}")
    hours, minutes, seconds, sep, frames = match.groups()
    h, m, s, f = int(hours), int(minutes), int(seconds), int(frames)
    is_drop = sep != ":" if drop is None else drop
    skip = _check_drop(rate, is_drop)
    nominal = nominal_rate(rate)
    if m >= 60 or s >= 60 or f >= nominal:
        raise ValueError(f"timecode {label!r} has a field out of range at {nominal} frames/s")
    if skip and s == 0 and m % 10 and f < skip:
        raise ValueError(f"timecode {label!r} does not exist in drop-frame (skipped label)")
    total_minutes = 60 * h + m
    return ((h * 3600 + m * 60 + s) * nominal + f) - skip * (total_minutes - total_minutes // 10)


def frame_to_label(frame: int, rate: Fraction, *, drop: bool = False) -> str:
    """Timecode label of a frame count at `rate` (';' before the frames when drop-frame).
    Wraps at 24 hours, as timecode does."""
    if frame < 0:
        raise ValueError(f"frame count must be >= 0, got {frame}")
    skip = _check_drop(rate, drop)
    nominal = nominal_rate(rate)
    if skip:
        per_ten = nominal * 600 - 9 * skip
        per_minute = nominal * 60 - skip
        tens, rest = divmod(frame, per_ten)
        frame += 9 * skip * tens + (skip * ((rest - skip) // per_minute) if rest > skip else 0)
    frame %= nominal * 86400
    seconds, f = divmod(frame, nominal)
    minutes, s = divmod(seconds, 60)
    h, m = divmod(minutes, 60)
    return f"{h:02d}:{m:02d}:{s:02d}{';' if skip else ':'}{f:02d}"


@dataclass(frozen=True)
class Timecode:
    """A start timecode: `frame` frames (as counted by the timecode) at true rate `rate`."""

    frame: int
    rate: Fraction
    drop: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.rate, Fraction) or self.rate <= 0:
            raise ValueError(f"timecode rate must be a positive Fraction, got {self.rate!r}")
        if self.frame < 0:
            raise ValueError(f"timecode frame must be >= 0, got {self.frame}")
        _check_drop(self.rate, self.drop)

    @classmethod
    def parse(cls, label: str, rate: Fraction) -> Timecode:
        """The timecode a label names at `rate` (drop-frame when the label says ';')."""
        match = _LABEL.fullmatch(label.strip())
        drop = match is not None and match.group(4) != ":" and dropped_per_minute(rate) > 0
        return cls(frame=label_to_frame(label, rate, drop=drop), rate=Fraction(rate), drop=drop)

    @property
    def label(self) -> str:
        return frame_to_label(self.frame, self.rate, drop=self.drop)

    @property
    def seconds(self) -> Fraction:
        """Exact time of the frame since 00:00:00:00 (frames / true rate)."""
        return Fraction(self.frame) / self.rate

    def samples(self, sample_rate: int = 48_000) -> int:
        """The frame's start as a sample count, rounded up (see the module docstring)."""
        return math.ceil(self.seconds * sample_rate)

    def __str__(self) -> str:
        return self.label


def zero_timecode(rate: Fraction) -> Timecode:
    """00:00:00:00 (non-drop) at `rate`: the start of a video without a timecode tag."""
    return Timecode(frame=0, rate=Fraction(rate))
