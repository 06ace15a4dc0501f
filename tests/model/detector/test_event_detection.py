"""The analysis-wide choice of event detector (learned by default, motion as fallback)."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from model.detector.event_detection import apply_event_detector
from model.lab.metrics import score_events
from video.base.errors import InputError
from video.base.tracks import Analysis, Event
from video.bounces import BounceConfig
from video.synth import ObjectSpec, SceneSpec, scene_truth


def _bouncing_truth() -> Analysis:
    ball = ObjectSpec("ball", start=(0.3, 0.2), velocity=(0.15, 0.0), size=0.1, restitution=0.75)
    return scene_truth(SceneSpec(width=384, height=216, fps=Fraction(30), duration=4.0,
                                 objects=(ball,)))


def test_learned_detector_replaces_impacts_and_keeps_other_kinds() -> None:
    truth = _bouncing_truth()
    track = truth.objects[0]
    true_times = np.array([e.time for e in track.events])
    assert len(true_times) >= 3
    # start from wrong impacts plus one scrape: impacts must be replaced, the scrape kept
    seeded = truth.with_objects([track.with_changes(events=(
        Event(0.05, 0.5, "impact"), Event(1.0, 0.3, "scrape")))])
    out = apply_event_detector(seeded)
    assert out.extra["event_detector"] == "learned"
    events = out.objects[0].events
    assert [e for e in events if e.kind == "scrape"] == [Event(1.0, 0.3, "scrape")]
    found = np.array([e.time for e in events if e.kind == "impact"])
    score, _ = score_events(true_times, found, tolerance_s=1 / 30)
    assert score.recall >= 0.75 and score.precision >= 0.75


def test_steps_from_a_persons_feet_survive_the_learned_detector() -> None:
    truth = _bouncing_truth()
    track = truth.objects[0]
    steps = (Event(0.5, 0.6, "step", foot="left", x=100.0),
             Event(1.0, 0.6, "step", foot="right", x=120.0))
    person = track.with_changes(label="person", events=steps,
                                extra={**track.extra, "steps_from": "pose"})
    out = apply_event_detector(truth.with_objects([person]))
    assert [e for e in out.objects[0].events if e.kind == "step"] == list(steps)
    # without the mark the learned detector owns the steps as before
    plain = apply_event_detector(truth.with_objects([track.with_changes(events=steps)]))
    assert not any(e.foot for e in plain.objects[0].events)


def test_motion_detector_leaves_events_alone() -> None:
    truth = _bouncing_truth()
    out = apply_event_detector(truth, detector="motion")
    assert out.objects[0].events == truth.objects[0].events
    assert out.to_dict()["event_detector"] == "motion"


def test_unloadable_checkpoint_falls_back_with_a_warning(tmp_path: Path) -> None:
    truth = _bouncing_truth()
    bad = tmp_path / "broken.pt"
    bad.write_bytes(b"not a checkpoint")
    warnings: list[str] = []
    out = apply_event_detector(truth, checkpoint=bad, warn=warnings.append)
    assert out.objects[0].events == truth.objects[0].events
    assert out.extra["event_detector"] == "motion"
    assert len(warnings) == 1 and "motion events" in warnings[0]


def test_unknown_detector_is_an_input_error() -> None:
    with pytest.raises(InputError, match="unknown event detector"):
        apply_event_detector(_bouncing_truth(), detector="psychic")


@pytest.mark.parametrize("clip_turn", [90, 270])
def test_a_clip_filmed_turned_is_looked_at_upright(clip_turn: int) -> None:
    """The network learned bounces on upright pictures: a clip turned a quarter (its floor on a
    side) has its tracks turned back before the network sees them, and finds them as well."""
    from video.gravity import turned

    truth = _bouncing_truth()
    track, info = turned(truth.objects[0], truth.video, clip_turn)
    clip = replace(truth.with_objects([track.with_changes(events=())]), video=info)
    out = apply_event_detector(clip)
    assert out.extra["picture_turn"] == 360 - clip_turn
    true_times = np.array([e.time for e in truth.objects[0].events])
    found = np.array([e.time for e in out.objects[0].events if e.kind == "impact"])
    score, _ = score_events(true_times, found, tolerance_s=1 / 30)
    assert score.recall >= 0.75 and score.precision >= 0.75


def test_the_turned_real_ball_clip_gets_its_bounces() -> None:
    """balle-jbart (assets/clips) was filmed turned, the floor on the right: the learned
    detector found none of its 4 marked bounces before the picture was turned upright, 2 after;
    the floor-bounce rule (video.bounces) adds the other two."""
    from model.lab.real_eval import load_marked, score_marked_detections
    from video.analyze import analyze_video

    clip = load_marked(Path(__file__).resolve().parents[3] / "assets" / "clips"
                       / "balle-jbart.events.json")
    analysis = analyze_video(clip.video)
    alone = apply_event_detector(analysis, bounces=BounceConfig(enabled=False))
    assert alone.extra["picture_turn"] == 90
    score, _ = score_marked_detections(clip, alone)["all"]
    assert score.true_positives >= 2
    # the bounces the network missed are where the ball's path turns at the floor
    score, _ = score_marked_detections(clip, apply_event_detector(analysis))["all"]
    assert score.true_positives == 4 and score.false_positives == 0
