"""Sanity on real (not synthetic) footage: Big Buck Bunny, CC-BY 3.0 Blender Foundation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from video.analyze import analyze_video
from video.tracker import TrackerConfig, moves_in_place
from video.tracks import Track

CLIP = Path(__file__).resolve().parents[2] / "assets" / "clips" / "bigbuckbunny.mp4"


@pytest.mark.slow
def test_big_buck_bunny_gives_one_plausible_track() -> None:
    analysis = analyze_video(CLIP)
    info = analysis.video
    assert (info.width, info.height, info.frames) == (1280, 720, 132)
    assert analysis.cuts == ()  # one continuous shot
    assert 1 <= len(analysis.objects) <= 3
    rabbit = max(analysis.objects, key=len)
    # the rabbit is on screen and moving (gesturing in place) for the whole excerpt
    assert len(rabbit) >= 0.9 * info.frames
    boxes = rabbit.boxes
    assert np.all(boxes[:, 0] >= 0) and np.all(boxes[:, 2] <= info.width)
    assert np.all(boxes[:, 1] >= 0) and np.all(boxes[:, 3] <= info.height)
    centres = rabbit.centers
    # left half of the frame, as in the picture (x ~ 100..800 of 1280)
    assert 250 < float(np.median(centres[:, 0])) < 600
    assert float(np.median(rabbit.areas)) > 0.1 * info.width * info.height


def _track(centres: np.ndarray, size: float) -> Track:
    half = size / 2
    boxes = np.column_stack([centres[:, 0] - half, centres[:, 1] - half,
                             centres[:, 0] + half, centres[:, 1] + half])
    return Track(id=1, label="object", frames=np.arange(len(centres)), boxes=boxes)


@pytest.mark.parametrize(
    ("frames", "size", "wander", "expected"),
    [
        (60, 400.0, 80.0, True),    # big, long, wandering: a character gesturing
        (60, 400.0, 10.0, False),   # big but still: not moving
        (60, 60.0, 80.0, False),    # small: flicker residue
        (20, 400.0, 80.0, False),   # too short
    ],
)
def test_moves_in_place(frames: int, size: float, wander: float, expected: bool) -> None:
    t = np.linspace(0, 1, frames)
    centres = np.column_stack([640 + wander / 2 * np.sin(2 * np.pi * t), 360 + 0 * t])
    track = _track(centres, size)
    assert moves_in_place(track, fps=30.0, frame_size=(1280, 720),
                          config=TrackerConfig()) is expected
