"""Which way is down: gravity from tracks in free flight, and turning boxes by quarter turns."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest

from video.base.tracks import Analysis, Track, VideoInfo
from video.gravity import GravityConfig, picture_turn, track_gravity, turn_boxes, turned
from video.synth import ObjectSpec, SceneSpec, scene_truth

W, H = 384, 216


def _scene(*objects: ObjectSpec, duration: float = 4.0) -> Analysis:
    return scene_truth(SceneSpec(width=W, height=H, fps=Fraction(30), duration=duration,
                                 objects=objects))


def _noisy(track: Track, rng: np.random.Generator, px: float = 0.7) -> Track:
    """The track with tracker-like jitter (boxes moved by up to `px` pixels)."""
    return track.with_changes(boxes=track.boxes + rng.uniform(-px, px, track.boxes.shape))


def _turned_analysis(analysis: Analysis, turn: int) -> Analysis:
    """The analysis as seen in its picture turned clockwise by `turn` degrees."""
    tracks, info = [], analysis.video
    for track in analysis.objects:
        moved, info_t = turned(track, analysis.video, turn)
        tracks.append(moved)
        info = info_t
    return replace(analysis.with_objects(tracks), video=info)


BALL = ObjectSpec("ball", start=(0.3, 0.2), velocity=(0.1, 0.0), size=0.1, restitution=0.8)
WALKER = ObjectSpec("walker", start=(0.1, 0.6), velocity=(0.12, 0.0))
SLIDER = ObjectSpec("slide", start=(0.1, 0.85), velocity=(0.6, 0.0), friction=0.3)


@pytest.mark.parametrize("clip_turn, expected", [(0, 0), (90, 270), (180, 180), (270, 90)])
def test_a_bouncing_ball_shows_which_way_is_down(clip_turn: int, expected: int,
                                                 rng: np.random.Generator) -> None:
    """A clip filmed turned by `clip_turn` (gravity no longer down) is turned back upright by
    `expected`, its complement; walkers beside the ball do not disturb the estimate."""
    upright = _scene(BALL, WALKER)
    noisy = upright.with_objects(_noisy(t, rng) for t in upright.objects)
    clip = _turned_analysis(noisy, clip_turn)
    assert picture_turn(clip.objects, clip.video) == expected
    ball = track_gravity(clip.objects[0], clip.video)
    assert ball is not None and ball.consistency > 0.5


@pytest.mark.parametrize("objects", [(WALKER,), (SLIDER,), (WALKER, SLIDER)],
                         ids=["walker", "braking slider", "both"])
def test_no_free_flight_means_upright(objects: tuple[ObjectSpec, ...],
                                      rng: np.random.Generator) -> None:
    """Walkers bob without a steady acceleration, a sliding box brakes against its motion:
    neither is evidence of gravity, whichever way the clip is turned."""
    upright = _scene(*objects)
    noisy = upright.with_objects(_noisy(t, rng) for t in upright.objects)
    for clip_turn in (0, 90):
        clip = _turned_analysis(noisy, clip_turn)
        assert picture_turn(clip.objects, clip.video) == 0
        assert all(track_gravity(t, clip.video) is None for t in clip.objects)


def test_evidence_that_disagrees_leaves_the_picture_upright() -> None:
    """Two balls falling different ways (a collage, a mirror): no majority, no turn."""
    upright = _scene(BALL)
    info = upright.video
    down = upright.objects[0]
    left, _ = turned(down, info, 90)  # a square picture would keep both inside; boxes only
    both = (down, left.with_changes(id=2))
    assert picture_turn(both, info) == 0


def test_a_short_track_is_no_evidence() -> None:
    ball = _scene(BALL).objects[0]
    short = Track(id=1, label="ball", frames=ball.frames[:8], boxes=ball.boxes[:8])
    assert track_gravity(short, _scene(BALL).video) is None


def test_turning_boxes_four_quarter_turns_gives_them_back(rng: np.random.Generator) -> None:
    x0, y0 = rng.uniform(0, 200, 10), rng.uniform(0, 100, 10)
    boxes = np.stack([x0, y0, x0 + rng.uniform(1, 50, 10), y0 + rng.uniform(1, 50, 10)], axis=1)
    out, (w, h) = boxes, (W, H)
    for _ in range(4):
        out = turn_boxes(out, turn=90, width=w, height=h)
        w, h = h, w
        assert np.all(out[:, 2] >= out[:, 0]) and np.all(out[:, 3] >= out[:, 1])
    np.testing.assert_allclose(out, boxes, atol=1e-9)
    np.testing.assert_allclose(turn_boxes(boxes, turn=180, width=W, height=H),
                               turn_boxes(turn_boxes(boxes, turn=90, width=W, height=H),
                                          turn=90, width=H, height=W), atol=1e-9)


def test_a_quarter_turn_brings_the_right_edge_to_the_bottom() -> None:
    """Turning clockwise: what touched the right edge touches the bottom, the top-left corner
    goes to the top-right."""
    right = np.array([[W - 10.0, 50.0, W, 70.0]])
    corner = np.array([[0.0, 0.0, 10.0, 10.0]])
    assert turn_boxes(right, turn=90, width=W, height=H)[0, 3] == W
    np.testing.assert_allclose(turn_boxes(corner, turn=90, width=W, height=H), [[H - 10, 0, H, 10]])
    info = VideoInfo(path="x.mp4", width=W, height=H, fps=Fraction(30), frames=10, duration=1 / 3)
    track = Track(id=1, label="ball", frames=np.array([0]), boxes=right)
    moved, moved_info = turned(track, info, 270)
    assert (moved_info.width, moved_info.height) == (H, W)
    np.testing.assert_allclose(moved.boxes, [[50.0, 0.0, 70.0, 10.0]])


@pytest.mark.parametrize("turn", [45, -90, 360])
def test_turns_other_than_quarter_turns_are_refused(turn: int) -> None:
    with pytest.raises(ValueError, match="turn must be one of"):
        turn_boxes(np.zeros((1, 4)), turn=turn, width=W, height=H)


@pytest.mark.parametrize("options", [{"window": 4}, {"window": 3}, {"min_consistency": 0.0},
                                     {"majority": 0.4}, {"snap_deg": 60.0}, {"spike": 1.0},
                                     {"min_frames": 0}, {"min_accel": -1.0}])
def test_config_is_validated(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        GravityConfig(**options)  # type: ignore[arg-type]
