"""video.seeded_class: the class of a track the designer drew, voted as the analysis votes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from model.detector.event_detection import complete_seeded_track
from video.analyze import analyze_video
from video.base.tracks import Analysis, Track
from video.reader import VideoReader
from video.recognize import RecognizeConfig, RecognizerUnavailable, labelled
from video.seeded_class import sampled_frames, vote_seeded

CLIPS = Path(__file__).resolve().parents[2] / "assets" / "clips"


def _track(first: int, last: int) -> Track:
    frames = np.arange(first, last + 1)
    boxes = np.tile([10.0, 10.0, 30.0, 40.0], (len(frames), 1))
    return Track(id=1, label="object", frames=frames, boxes=boxes)


@pytest.mark.parametrize(("first", "last", "interval", "most", "expected"), [
    (0, 30, 10, 24, [0, 10, 20, 30]),          # the analysis's detection frames
    (3, 27, 10, 24, [10, 20]),                 # only those inside the track
    (12, 18, 10, 24, [15]),                    # shorter than an interval: its middle frame
    (0, 100, 5, 3, [0, 50, 100]),              # at most `most`, spread over its life
    (0, 0, 1, 24, [0]),                        # one frame
])
def test_sampled_frames(first: int, last: int, interval: int, most: int,
                        expected: list[int]) -> None:
    assert sampled_frames(_track(first, last), interval=interval, most=most) == expected


@pytest.fixture(scope="module")
def high_speed() -> Analysis:
    """balle1-vp9 (assets/clips): the thrower's body at the left edge and a red ball."""
    return analyze_video(CLIPS / "balle1-vp9.avi")


def _as_drawn(track: Track) -> Track:
    """The analysis's own track, as if the designer had drawn it: no class, no events."""
    extra = {k: v for k, v in track.extra.items() if not k.startswith("label")}
    return track.with_changes(id=50, label="object", events=(), extra=extra)


def test_a_drawn_person_is_recognized_and_a_ball_is_not(high_speed: Analysis) -> None:
    person = next(t for t in high_speed.objects if t.label == "person")
    ball = next(t for t in high_speed.objects if t.label != "person")
    with VideoReader(CLIPS / "balle1-vp9.avi") as reader:
        named = vote_seeded(reader, _as_drawn(person), [])
        unnamed = vote_seeded(reader, _as_drawn(ball), [])
    assert named.label == "person" and named.confidence > 0.2
    assert unnamed.label == "unknown"    # the detector has no ball class
    labelled_ball = labelled(_as_drawn(ball).with_changes(label="ball"), unnamed)
    assert labelled_ball.label == "unknown" and labelled_ball.extra["label_shape"] == "ball"


def test_the_analysis_tracks_compete_for_the_detections(high_speed: Analysis) -> None:
    """A box drawn over the top third of a person the analysis already follows is a person on
    its own, but beside the analysis's track it loses the person's detections to it (matched
    one-to-one by overlap, as in the analysis): it is not the whole person."""
    person = next(t for t in high_speed.objects if t.label == "person")
    small = person.boxes.copy()
    small[:, 3] = small[:, 1] + (small[:, 3] - small[:, 1]) / 3
    drawn = _as_drawn(person).with_changes(boxes=small)
    with VideoReader(CLIPS / "balle1-vp9.avi") as reader:
        alone = vote_seeded(reader, drawn, [])
        beside = vote_seeded(reader, drawn, [person])
    assert alone.label == "person"
    assert beside.label == "unknown"


def test_missing_weights(high_speed: Analysis, tmp_path: Path) -> None:
    bad = tmp_path / "broken.tflite"
    bad.write_bytes(b"not a model")
    person = next(t for t in high_speed.objects if t.label == "person")
    with VideoReader(CLIPS / "balle1-vp9.avi") as reader, pytest.raises(RecognizerUnavailable):
        vote_seeded(reader, _as_drawn(person), [], config=RecognizeConfig(weights=str(bad)))
    # the whole drawn-object step goes on without it, with one warning and a box-shape name
    warnings: list[str] = []
    with VideoReader(CLIPS / "balle1-vp9.avi") as reader:
        done = complete_seeded_track(reader, _as_drawn(person), high_speed,
                                     recognize=RecognizeConfig(weights=str(bad)),
                                     warn=warnings.append)
    assert done.label in ("walker", "object") and "label_source" not in done.extra
    assert len(warnings) == 1 and "object recognition off" in warnings[0]


@pytest.mark.parametrize("which", ["person", "ball"])
def test_a_drawn_object_is_made_like_the_analysiss(high_speed: Analysis, which: str) -> None:
    """Recognized as a person, the drawn track goes through the footsteps (video.footsteps),
    which record where its steps came from; the unrecognized ball is `unknown` with its box
    shape and bounces as the hint for its sound, as the analysis's ball is."""
    track = next(t for t in high_speed.objects if (t.label == "person") == (which == "person"))
    analysis = high_speed.with_objects([t for t in high_speed.objects if t is not track])
    with VideoReader(CLIPS / "balle1-vp9.avi") as reader:
        done = complete_seeded_track(reader, _as_drawn(track), analysis)
    if which == "person":
        assert done.label == "person" and done.extra.get("steps_from") in ("pose", "box",
                                                                             "cadence")
    else:
        assert done.label == "unknown" and done.extra["label_shape"] == track.extra[
            "label_shape"]
        assert any(e.kind == "impact" for e in done.events)


def test_a_name_the_designer_gave_is_kept(high_speed: Analysis) -> None:
    person = next(t for t in high_speed.objects if t.label == "person")
    with VideoReader(CLIPS / "balle1-vp9.avi") as reader:
        kept = complete_seeded_track(reader, _as_drawn(person).with_changes(label="thrower"),
                                     high_speed)
    assert kept.label == "thrower" and "steps_from" not in kept.extra
    assert "label_source" not in kept.extra
