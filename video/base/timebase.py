"""The one place where video time becomes audio sample positions.

Frame rates and time bases are `fractions.Fraction` (29.97 is 30000/1001, never 29); audio runs at
48 kHz. Every module that needs "which sample does this frame/time land on" calls these functions,
so picture and sound can never drift apart by rounding differently in two places.
"""

from __future__ import annotations

from fractions import Fraction
from numbers import Rational

import numpy as np

SAMPLE_RATE = 48_000

TimeLike = Fraction | int | float


def as_fraction(value: TimeLike | str) -> Fraction:
    """Exact Fraction from an int, Fraction, float, or a "num/den" / decimal string."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, bool):
        raise TypeError("a time or rate cannot be a bool")
    if isinstance(value, int | Rational):
        return Fraction(value)
    if isinstance(value, float):
        # limit_denominator keeps 29.97 from becoming a 50-digit fraction
        return Fraction(value).limit_denominator(1_000_000)
    if isinstance(value, str):
        text = value.strip()
        try:
            return Fraction(text)
        except (ValueError, ZeroDivisionError) as exc:
            raise ValueError(f"not a rational number: {value!r}") from exc
    raise TypeError(f"cannot make a Fraction from {type(value).__name__}")


def parse_fps(text: str | TimeLike) -> Fraction:
    """A frame rate from "30000/1001", "25", 29.97, or a Fraction; must be positive."""
    fps = as_fraction(text)
    if fps <= 0:
        raise ValueError(f"frame rate must be positive, got {text!r}")
    return fps


def format_fps(fps: Fraction) -> str:
    """The contract's "num/den" spelling of a frame rate."""
    return f"{fps.numerator}/{fps.denominator}"


def frame_time(frame_index: int, fps: Fraction) -> Fraction:
    """Presentation time in seconds of frame `frame_index` of a constant-rate video."""
    return Fraction(frame_index) / fps


def time_to_sample(time_s: TimeLike, *, sample_rate: int = SAMPLE_RATE) -> int:
    """Sample index at which a video time (seconds from video start) lands.

    Rounds half up on the exact rational value, so a frame boundary always maps to the same
    sample whichever caller asks.
    """
    exact = as_fraction(time_s) * sample_rate
    return int((exact + Fraction(1, 2)).__floor__())


def frame_to_sample(frame_index: int, fps: Fraction, *, sample_rate: int = SAMPLE_RATE) -> int:
    """Sample index of the start of frame `frame_index` (constant frame rate)."""
    return time_to_sample(frame_time(frame_index, fps), sample_rate=sample_rate)


def frames_to_samples(frame_indices: np.ndarray, fps: Fraction, *,
                      sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """`frame_to_sample` for an array of frame indices (int64), with the same exact rounding:
    floor(f / fps * rate + 1/2) computed in integers as (2 f den rate + num) // (2 num)."""
    frames = np.asarray(frame_indices, dtype=np.int64)
    num, den = fps.numerator, fps.denominator
    return (2 * frames * (sample_rate * den) + num) // (2 * num)


def sample_to_time(sample_index: int, *, sample_rate: int = SAMPLE_RATE) -> Fraction:
    """Exact time in seconds of a sample index."""
    return Fraction(sample_index, sample_rate)


def duration_to_samples(duration_s: TimeLike, *, sample_rate: int = SAMPLE_RATE) -> int:
    """Length in samples of audio covering `duration_s` seconds of video."""
    return max(0, time_to_sample(duration_s, sample_rate=sample_rate))
