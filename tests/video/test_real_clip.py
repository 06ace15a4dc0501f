"""Sanity on real (not synthetic) footage: Big Buck Bunny (CC-BY 3.0 Blender Foundation) and a
hand-held clip of a bouncing ball (CC-BY-SA 3.0, assets/clips/README.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from video.analyze import analyze_video
from video.base.tracks import Track
from video.tracker import TrackerConfig, moves_in_place

CLIPS = Path(__file__).resolve().parents[2] / "assets" / "clips"
CLIP = CLIPS / "bigbuckbunny.mp4"


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


@pytest.mark.slow
def test_shaking_hand_held_clip_keeps_the_ball_and_little_else() -> None:
    """balle-jbart.mp4: a hand-held camera (sub-pixel shake, blur) in a room of strong edges,
    one ball bouncing. The ball is one track from its throw to the end, through all four marked
    bounces, and the shake's edge residue does not become a crowd of objects (before shake
    handling: 20 tracks, the ball in two)."""
    import json

    analysis = analyze_video(CLIPS / "balle-jbart.mp4")
    info = analysis.video
    marks = json.loads((CLIPS / "balle-jbart.events.json").read_text())["events"]
    holders = set()
    for mark in marks:  # the track nearest each marked contact (the ball's centre then)
        near = []
        for track in analysis.objects:
            box = track.box_at(int(mark["frame"]))
            if box is not None:
                dx = max(box[0] - mark["x"], 0.0, mark["x"] - box[2])
                dy = max(box[1] - mark["y"], 0.0, mark["y"] - box[3])
                near.append((float(np.hypot(dx, dy)), track.id))
        distance, track_id = min(near)
        assert distance < 10.0
        holders.add(track_id)
    assert len(holders) == 1
    ball = analysis.object(holders.pop())
    assert len(ball) >= 0.9 * info.frames
    assert len(analysis.objects) <= 10


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
