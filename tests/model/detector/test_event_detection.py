"""The analysis-wide choice of event detector (learned by default, motion as fallback)."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from model.detector.event_detection import (
    SEEDED_THRESHOLD,
    apply_event_detector,
    seeded_track_events,
)
from model.lab.metrics import score_events
from video.base.errors import InputError
from video.base.tracks import Analysis, Event
from video.bounces import BounceConfig
from video.events import detect_events
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


# ---------------------------------------------------------------------------------------------
# a track the designer seeded (video.seeded) gets its contacts


@pytest.mark.parametrize("detector", ["learned", "motion"])
@pytest.mark.parametrize("clip_turn", [0, 90])
def test_a_seeded_ball_gets_its_bounces(detector: str, clip_turn: int) -> None:
    """The seeded track comes without events; it gets them from the analysis's detector, on
    the picture turned upright by its own path where no other object shows which way is down."""
    from video.gravity import turned

    truth = _bouncing_truth()
    track, info = turned(truth.objects[0], truth.video, clip_turn)
    analysis = replace(truth.with_objects([]), video=info,
                       extra={**truth.extra, "event_detector": detector})
    seeded = track.with_changes(events=(), label="my ball")
    out = seeded_track_events(seeded, analysis)
    assert out.label == "my ball" and out.id == seeded.id
    assert np.array_equal(out.frames, seeded.frames)
    true_times = np.array([e.time for e in truth.objects[0].events])
    found = np.array([e.time for e in out.events if e.kind == "impact"])
    score, _ = score_events(true_times, found, tolerance_s=1 / 30)
    assert score.recall >= 0.75 and score.precision >= 0.75, (detector, clip_turn, found)


def test_a_seeded_track_takes_the_named_detector_over_the_analysiss() -> None:
    truth = _bouncing_truth()
    analysis = replace(truth.with_objects([]), extra={"event_detector": "motion"})
    seeded = truth.objects[0].with_changes(events=())
    assert seeded_track_events(seeded, analysis).events == detect_events(seeded, truth.video)
    learned = seeded_track_events(seeded, analysis, detector="learned").events
    assert learned and all(e.kind == "impact" for e in learned)


def test_a_seeded_track_falls_back_to_motion_events_with_a_warning(tmp_path: Path) -> None:
    truth = _bouncing_truth()
    bad = tmp_path / "broken.pt"
    bad.write_bytes(b"not a checkpoint")
    warnings: list[str] = []
    seeded = truth.objects[0].with_changes(events=())
    out = seeded_track_events(seeded, truth.with_objects([]), checkpoint=bad,
                              warn=warnings.append)
    assert out.events == detect_events(seeded, truth.video)
    assert len(warnings) == 1 and "motion events" in warnings[0]


def test_a_seeded_track_with_an_unknown_detector_is_an_input_error() -> None:
    truth = _bouncing_truth()
    with pytest.raises(InputError, match="unknown event detector"):
        seeded_track_events(truth.objects[0], truth, detector="psychic")


@pytest.mark.parametrize(("clip_name", "seed_frame", "box", "turn", "at_model_threshold"), [
    # the ball thrown in a room, filmed turned (floor on the right): 4 bounces
    ("balle-jbart", 12, (135.0, 350.0, 182.0, 388.0), 90, 4),
    # the high-speed clip (184 fps): 2 bounces on a bench, the ball dipping out of the picture
    ("balle1-vp9", 46, (125.0, 41.0, 142.0, 58.0), 0, 1),
])
def test_seeded_real_balls_get_their_marked_bounces(clip_name: str, seed_frame: int,
                                                     box: tuple[float, float, float, float],
                                                     turn: int, at_model_threshold: int) -> None:
    """A ball the designer boxes on one frame of a real clip (assets/clips, hand-marked
    contacts): the seeded track gets every marked bounce within 50 ms, and at most one impact
    more than there are marks. At the model's own threshold (0.9) balle1-vp9's second bounce
    (network score 0.4-0.5 on the seeded path) is missed."""
    from model.detector.event_detection import learned_events
    from model.detector.learned_events import load_event_model
    from model.lab.real_eval import load_marked
    from video.analyze import analyze_video
    from video.gravity import turned
    from video.reader import VideoReader
    from video.seeded import track_from_seed

    clip = load_marked(Path(__file__).resolve().parents[3] / "assets" / "clips"
                       / f"{clip_name}.events.json")
    analysis = analyze_video(clip.video)
    with VideoReader(clip.video) as reader:
        seeded = track_from_seed(reader, seed_frame, box, object_id=50, label="ball")
    out = seeded_track_events(seeded, analysis)
    marks = np.array([m.time for m in clip.events])

    def within_50ms(events: tuple[Event, ...] | list[Event]) -> int:
        found = np.array([e.time for e in events if e.kind == "impact"])
        return sum(bool(len(found)) and float(np.min(np.abs(found - t))) <= 0.05 for t in marks)

    assert within_50ms(out.events) == len(marks), (out.events, marks)
    assert sum(e.kind == "impact" for e in out.events) <= len(marks) + 1, out.events
    model = load_event_model()
    assert SEEDED_THRESHOLD < model.threshold
    assert within_50ms(learned_events(*turned(seeded, analysis.video, turn), model)) == \
        at_model_threshold
