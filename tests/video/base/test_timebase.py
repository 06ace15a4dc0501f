from fractions import Fraction

import numpy as np
import pytest

from video.base.timebase import (
    as_fraction,
    format_fps,
    frame_to_sample,
    frames_to_samples,
    parse_fps,
    sample_to_time,
    time_to_sample,
)


@pytest.mark.parametrize(
    ("fps", "frame", "sample"),
    [
        (Fraction(30000, 1001), 0, 0),
        (Fraction(30000, 1001), 1, 1602),  # 48000 * 1001 / 30000 = 1601.6 -> 1602
        (Fraction(30000, 1001), 30000, 48048000),  # exact after 1001 s
        (Fraction(25), 25, 48000),
        (Fraction(24000, 1001), 24, 48048),
    ],
)
def test_frame_to_sample_exact(fps: Fraction, frame: int, sample: int) -> None:
    assert frame_to_sample(frame, fps) == sample


def test_time_sample_round_trip() -> None:
    for s in (0, 1, 47999, 48000, 123456789):
        assert time_to_sample(sample_to_time(s)) == s


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30000/1001", Fraction(30000, 1001)), ("25", Fraction(25)), (29.97, Fraction(2997, 100)),
     (Fraction(60), Fraction(60))],
)
def test_parse_fps(text: object, expected: Fraction) -> None:
    assert parse_fps(text) == expected  # type: ignore[arg-type]
    assert parse_fps(format_fps(expected)) == expected


@pytest.mark.parametrize("bad", ["0", "-25", "abc", "1/0"])
def test_parse_fps_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_fps(bad)


def test_as_fraction_rejects_bool() -> None:
    with pytest.raises(TypeError):
        as_fraction(True)


@pytest.mark.parametrize("fps", [Fraction(30000, 1001), Fraction(25), Fraction(24000, 1001),
                                 Fraction(60)])
def test_frames_to_samples_is_frame_to_sample_vectorized(fps: Fraction) -> None:
    frames = np.array([0, 1, 2, 29, 30, 1000, 30000, 10**7])
    expected = [frame_to_sample(int(f), fps) for f in frames]
    assert frames_to_samples(frames, fps).tolist() == expected
