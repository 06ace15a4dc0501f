"""Visual events from tracks: impacts and steps within one frame of the synthetic truth."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from video.base.tracks import Track, VideoInfo
from video.events import (
    IMPACT_STRENGTH_REF,
    EventConfig,
    dense_boxes,
    detect_events,
    detect_impacts,
    detect_steps,
    match_events,
)
from video.synth import ObjectSpec, SceneSpec, scene_truth


def jittered(track: Track, rng: np.random.Generator, px: float) -> Track:
    """The true track as a detector would measure it: box edges off by ~`px` pixels."""
    boxes = track.boxes + rng.normal(0, px, track.boxes.shape)
    boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2] + 1)
    return track.with_changes(boxes=boxes, events=())


def score(pred: tuple, truth: tuple, fps: Fraction) -> tuple[float, float]:
    pairs = match_events([e.time for e in truth], [e.time for e in pred],
                         tolerance_s=float(1 / fps))
    recall = len(pairs) / len(truth) if truth else 1.0
    precision = len(pairs) / len(pred) if pred else 1.0
    return recall, precision


@pytest.mark.parametrize("fps", [Fraction(25), Fraction(30000, 1001), Fraction(60)])
@pytest.mark.parametrize("seed", [1, 2])
def test_ball_impacts_within_one_frame(fps: Fraction, seed: int) -> None:
    rng = np.random.default_rng(seed)
    ball = ObjectSpec("ball", start=(0.2, float(rng.uniform(0.05, 0.3))),
                      velocity=(0.15, 0.0), size=float(rng.uniform(0.08, 0.14)),
                      restitution=float(rng.uniform(0.6, 0.8)), gravity=float(rng.uniform(2.5, 4)))
    spec = SceneSpec(width=640, height=360, fps=fps, duration=4.0, objects=(ball,))
    analysis = scene_truth(spec)
    truth = analysis.objects[0]
    events = detect_impacts(jittered(truth, rng, 0.7), analysis.video)
    recall, precision = score(events, truth.events, fps)
    assert recall >= 0.8 and precision >= 0.8, ([e.time for e in events],
                                                [e.time for e in truth.events])
    pairs = match_events([e.time for e in truth.events], [e.time for e in events],
                         tolerance_s=float(1 / fps))
    pred_s = [events[j].strength for _, j in pairs]
    true_s = [truth.events[i].strength for i, _ in pairs]
    assert np.corrcoef(pred_s, true_s)[0, 1] > 0.8       # harder hits are stronger
    assert all(abs(p - t) < 0.25 for p, t in zip(pred_s, true_s, strict=True))


def test_no_impact_at_the_top_of_a_throw_or_for_steady_motion() -> None:
    info = VideoInfo("", 640, 360, Fraction(30), 2.0, 60)
    t = np.arange(60) / 30
    g = 3.0 * 360
    cy = 300 - 500 * t + 0.5 * g * t * t       # thrown up, peaks at t ~ 0.46 s, no floor
    cx = 100 + 120 * t
    boxes = np.stack([cx - 15, cy - 15, cx + 15, cy + 15], 1)
    assert detect_impacts(Track(1, "ball", np.arange(60), boxes), info) == ()
    steady = np.stack([cx - 15, 100 + 0 * t, cx + 15, 130 + 0 * t], 1)
    assert detect_events(Track(2, "object", np.arange(60), steady), info) == ()


def test_wall_bounce_is_an_impact() -> None:
    info = VideoInfo("", 640, 360, Fraction(30), 2.0, 60)
    x = np.where(np.arange(60) < 30.4, 100 + 12 * np.arange(60), 100 + 12 * 60.8 - 12 * np.arange(60))
    boxes = np.stack([x - 15, np.full(60, 100.0), x + 15, np.full(60, 130.0)], 1)
    events = detect_impacts(Track(1, "ball", np.arange(60), boxes), info)
    assert len(events) == 1
    assert events[0].time == pytest.approx(30.4 / 30, abs=0.5 / 30)
    assert events[0].strength == pytest.approx(min(1.0, 24 * 30 / (IMPACT_STRENGTH_REF * 360)),
                                               abs=0.05)


@pytest.mark.parametrize("fps, period, floor", [(Fraction(25), 0.5, 0.95),
                                                (Fraction(30000, 1001), 0.45, 0.95),
                                                (Fraction(50), 0.6, 0.6)])
def test_walker_steps_within_one_frame(fps: Fraction, period: float, floor: float) -> None:
    """Mean of min(recall, precision) over ten noise seeds (one seed alone decides nothing at
    50 fps, where 0.5 px of box noise is as large as the bob's per-frame motion: measured
    0.70 there, 1.0 at 25 and 29.97 fps)."""
    walker = ObjectSpec("walker", start=(0.15, 0.0), velocity=(0.2, 0.0), size=0.45,
                        step_period=period, bob=0.06)
    spec = SceneSpec(width=640, height=360, fps=fps, duration=4.0, objects=(walker,))
    analysis = scene_truth(spec)
    truth = analysis.objects[0]
    worst = []
    for seed in range(10):
        events = detect_events(jittered(truth, np.random.default_rng(seed), 0.5), analysis.video)
        assert {e.kind for e in events} == {"step"}
        worst.append(min(score(events, truth.events, fps)))
    assert float(np.mean(worst)) >= floor


def test_bouncing_ball_is_not_walking() -> None:
    ball = ObjectSpec("ball", start=(0.3, 0.2), velocity=(0.1, 0.0), restitution=0.8)
    analysis = scene_truth(SceneSpec(duration=4.0, objects=(ball,)))
    assert detect_steps(analysis.objects[0], analysis.video) == ()


def test_dense_boxes_fill_gaps_as_unmeasured() -> None:
    track = Track(1, "object", np.array([0, 1, 4]), np.array([[0, 0, 10, 10], [1, 0, 11, 10],
                                                              [4, 0, 14, 10]], float))
    frames, boxes, measured = dense_boxes(track)
    assert frames.tolist() == [0, 1, 2, 3, 4]
    assert boxes[2].tolist() == [2, 0, 12, 10]
    assert measured.tolist() == [True, True, False, False, True]


@pytest.mark.parametrize(
    ("ref", "det", "tol", "pairs"),
    [
        ([1.0, 2.0], [1.01, 2.5], 0.04, [(0, 0)]),
        ([1.0, 1.03], [1.02], 0.04, [(1, 0)]),  # closest pair wins, one-to-one
        ([1.01], [0.97, 1.02], 0.05, [(0, 1)]),
        ([1.0, 1.05], [1.04, 1.01], 0.04, [(0, 1), (1, 0)]),
        ([1.0], [1.04], 0.04, [(0, 0)]),        # the tolerance is inclusive
        ([], [1.0], 0.04, []),
        ([1.0], [], 0.04, []),
        ([1.0], [1.2], 0.04, []),
    ],
)
def test_match_events_is_one_to_one(ref: list[float], det: list[float], tol: float,
                                    pairs: list[tuple[int, int]]) -> None:
    assert match_events(np.array(ref), np.array(det), tolerance_s=tol) == pairs
    assert match_events(ref, det, tolerance_s=tol) == pairs  # plain lists too


def test_config_thresholds_matter() -> None:
    ball = ObjectSpec("ball", start=(0.3, 0.2), velocity=(0.1, 0.0))
    analysis = scene_truth(SceneSpec(duration=3.0, objects=(ball,)))
    strict = EventConfig(impact_min_dv=1000.0)
    assert detect_impacts(analysis.objects[0], analysis.video, config=strict) == ()
    assert detect_impacts(analysis.objects[0], analysis.video)
