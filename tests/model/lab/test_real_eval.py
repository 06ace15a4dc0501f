"""Evaluation on clips with hand-marked events: the marks file, which track is at a mark, the
detector and render scores on hand-made analyses with known answers, the whole evaluation on a
synthetic clip marked from its truth, and the bundled real clips' marks."""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from model.lab.conditions import CONDITIONS, DETECTORS, Tally, condition_row
from model.lab.real_eval import (
    SCHEMA,
    MarkedClip,
    MarkedEvent,
    distance_to_box,
    evaluate_real,
    find_marked_clips,
    load_marked,
    marks_by_track,
    score_marked_detections,
    score_real_render,
    tolerance_for,
    tracks_at,
)
from video.base.errors import InputError
from video.base.tracks import Analysis, Event, Track, VideoInfo

SR = 48_000
BUNDLED = Path(__file__).resolve().parents[3] / "assets" / "clips"


def _info(frames: int = 100, fps: Fraction = Fraction(25)) -> VideoInfo:
    return VideoInfo(path="clip.mp4", width=400, height=300, fps=fps,
                     duration=frames / float(fps), frames=frames)


def _track(track_id: int, x0: float, x1: float, y: float, events: tuple[Event, ...],
           frames: int = 100, size: float = 20.0) -> Track:
    f = np.arange(frames)
    cx = x0 + (x1 - x0) * f / (frames - 1)
    boxes = np.stack([cx - size / 2, np.full(frames, y - size / 2), cx + size / 2,
                      np.full(frames, y + size / 2)], axis=1)
    return Track(id=track_id, label="ball", frames=f, boxes=boxes, events=events)


def _write_marks(folder: Path, video: str, events: list[dict[str, Any]], **extra: Any) -> Path:
    path = folder / (Path(video).stem + ".events.json")
    path.write_text(json.dumps({"schema": SCHEMA, "video": video, "events": events, **extra}))
    return path


# ------------------------------------------------------------------ the marks file


def test_marks_load_sorted_with_their_video(tmp_path: Path) -> None:
    (tmp_path / "v.mp4").write_bytes(b"x")
    path = _write_marks(tmp_path, "v.mp4", [
        {"time": 2.0, "frame": 50, "x": 10, "y": 20, "kind": "impact"},
        {"time": 0.5, "frame": 12, "x": 30.5, "y": 40, "kind": "step", "note": "heel"}],
        marked_by="me", method="by eye")
    clip = load_marked(path)
    assert clip.video == tmp_path / "v.mp4" and clip.name == "v.mp4"
    assert clip.events == (MarkedEvent(0.5, 12, 30.5, 40.0, "step", "heel"),
                           MarkedEvent(2.0, 50, 10.0, 20.0, "impact", ""))
    assert (clip.marked_by, clip.method) == ("me", "by eye")
    assert find_marked_clips(tmp_path) == [clip]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"schema": "other/1", "video": "v.mp4", "events": []}), "not a marked-events"),
        (json.dumps([1, 2]), "not a marked-events"),
        (json.dumps({"schema": SCHEMA, "video": "missing.mp4", "events": []}), "not beside it"),
        (json.dumps({"schema": SCHEMA, "video": "v.mp4", "events": {}}), "must be a list"),
        (json.dumps({"schema": SCHEMA, "video": "v.mp4", "events": [3]}), "must be an object"),
        (json.dumps({"schema": SCHEMA, "video": "v.mp4",
                     "events": [{"time": "1", "frame": 1, "x": 1, "y": 1}]}), "'time' must be"),
        (json.dumps({"schema": SCHEMA, "video": "v.mp4",
                     "events": [{"time": True, "frame": 1, "x": 1, "y": 1}]}), "'time' must be"),
        (json.dumps({"schema": SCHEMA, "video": "v.mp4",
                     "events": [{"time": -1, "frame": 1, "x": 1, "y": 1}]}), "not be negative"),
        (json.dumps({"schema": SCHEMA, "video": "v.mp4",
                     "events": [{"time": 1, "frame": 1, "y": 1}]}), "'x' must be"),
    ],
)
def test_bad_marks_files_are_rejected(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "v.mp4").write_bytes(b"x")
    path = tmp_path / "v.events.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        load_marked(path)


def test_find_marked_clips_needs_a_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a folder"):
        find_marked_clips(tmp_path / "nope")
    assert find_marked_clips(tmp_path) == []


@pytest.mark.parametrize(("fps", "expected"), [(25, 0.04), (184.2, 0.04), (10, 0.1), (24, 1 / 24)])
def test_tolerance_is_a_frame_but_at_least_40_ms(fps: float, expected: float) -> None:
    assert tolerance_for(fps) == pytest.approx(expected)


# ------------------------------------------------------------------ which track is at a mark


@pytest.mark.parametrize(("x", "y", "expected"),
                         [(15, 15, 0.0), (25, 15, 5.0), (23, 24, 5.0), (5, 15, 0.0)])
def test_distance_to_box(x: float, y: float, expected: float) -> None:
    assert distance_to_box(np.array([0.0, 0.0, 20.0, 20.0]), x, y) == pytest.approx(expected)


def test_tracks_at_picks_the_track_at_the_marked_place() -> None:
    info = _info()
    ball = _track(1, 50, 350, 200, ())      # moves left to right along y = 200
    arm = _track(2, 100, 100, 60, ())        # still, top left
    short = _track(3, 300, 300, 200, (), frames=40)  # gone after frame 39
    analysis = Analysis(video=info, objects=(ball, arm, short))
    # frame 50: the ball is at x = 50 + 300 * 50 / 99 = 201.5
    assert [t.id for t in tracks_at(analysis, MarkedEvent(2.0, 50, 201, 200))] == [1]
    assert [t.id for t in tracks_at(analysis, MarkedEvent(2.0, 50, 100, 62))] == [2]
    assert tracks_at(analysis, MarkedEvent(2.0, 50, 300, 20)) == []
    # the short track ended at frame 39: three frames later it still counts, five do not
    assert 3 in [t.id for t in tracks_at(analysis, MarkedEvent(1.7, 42, 300, 200))]
    assert 3 not in [t.id for t in tracks_at(analysis, MarkedEvent(1.8, 44, 300, 200))]


def test_detections_are_scored_by_time_and_place() -> None:
    info = _info()
    ball = _track(1, 200, 200, 200, (Event(1.0, 0.9, "impact"), Event(2.02, 0.8, "impact"),
                                     Event(3.5, 0.5, "step")))
    arm = _track(2, 60, 60, 60, (Event(1.0, 0.9, "impact"),))  # right time, wrong place
    analysis = Analysis(video=info, objects=(ball, arm))
    clip = MarkedClip(video=Path("clip.mp4"), events=(
        MarkedEvent(1.0, 25, 200, 200), MarkedEvent(2.0, 50, 200, 200),
        MarkedEvent(3.0, 75, 200, 200)))
    scores = score_marked_detections(clip, analysis)
    total, errors = scores["all"]
    assert (total.true_positives, total.false_positives, total.false_negatives) == (2, 2, 1)
    assert total.median_abs_ms == pytest.approx(10.0)
    assert sorted(np.round(errors, 4)) == [0.0, 0.02]
    impact, step = scores["impact"][0], scores["step"][0]
    assert (impact.true_positives, impact.false_positives, impact.false_negatives) == (2, 1, 1)
    assert (step.true_positives, step.false_positives, step.false_negatives) == (0, 1, 0)
    owned, orphans = marks_by_track(clip, analysis)
    assert owned == {1: [1.0, 2.0, 3.0]} and orphans == []


def test_one_detection_cannot_find_two_marks() -> None:
    info = _info()
    ball = _track(1, 200, 200, 200, (Event(1.01, 0.9, "impact"),))
    clip = MarkedClip(video=Path("clip.mp4"), events=(MarkedEvent(1.0, 25, 200, 200),
                                                      MarkedEvent(1.02, 26, 200, 200)))
    total = score_marked_detections(clip, Analysis(video=info, objects=(ball,)))["all"][0]
    assert (total.true_positives, total.false_positives, total.false_negatives) == (1, 0, 1)


def test_render_scores_follow_tracks_and_marks(rng: np.random.Generator) -> None:
    """A stem panned along its track with clicks on two of three marks; one mark elsewhere."""
    info = _info(frames=100)
    track = _track(1, 40, 360, 150, ())
    analysis = Analysis(video=info, objects=(track,))
    n = 4 * SR
    mono = rng.standard_normal(n) * 0.03  # a steady texture (within 30 dB) plus two hits
    decay = np.exp(-np.arange(4800) / 600.0)
    for t in (1.0, 2.5):
        s = int(t * SR)
        mono[s:s + 4800] += rng.standard_normal(4800) * decay * 0.5
    centres = track.centers[:, 0] / info.width * 2 - 1
    pan = np.interp(np.arange(n) / SR, np.arange(100) / 25.0, centres)
    theta = (pan + 1) * math.pi / 4
    stem = np.stack([mono * np.cos(theta), mono * np.sin(theta)]).astype(np.float32)
    clip = MarkedClip(video=Path("clip.mp4"), events=(
        MarkedEvent(1.0, 25, 40 + 320 * 25 / 99, 150), MarkedEvent(2.5, 62, 40 + 320 * 62 / 99, 150),
        MarkedEvent(3.0, 75, 390, 20)))  # nobody there: a miss
    tally = Tally()
    score_real_render([stem], stem.copy(), clip, analysis, tally)
    row = condition_row("x", tally)
    assert row.object_corr > 0.95 and row.object_mae < 0.05
    assert (row.sync.true_positives, row.sync.false_negatives) == (2, 1)
    assert row.sync.median_abs_ms < 15.0


# ------------------------------------------------------------------ whole evaluation


def test_evaluate_real_on_a_marked_synthetic_clip(marked_clip_dir: Path) -> None:
    clips = find_marked_clips(marked_clip_dir)
    report = evaluate_real(clips, folder=str(marked_clip_dir))
    assert [c.name for c in report.clips] == ["bounce.mp4"]
    assert [r.name for r in report.conditions] == list(CONDITIONS)
    assert [d.name for d in report.detectors] == list(DETECTORS)
    marks = report.clips[0].marks
    for d in report.detectors:
        assert d.overall.true_positives + d.overall.false_negatives == marks
    learned = report.detectors[1].overall
    assert learned.recall >= 0.6 and learned.precision >= 0.6
    by_name = {r.name: r for r in report.conditions}
    assert by_name["object-aware"].object_corr > 0.9
    assert by_name["mono"].object_mae > 3 * by_name["object-aware"].object_mae
    assert by_name["object-aware + learned events"].sync.recall >= 0.6


# ------------------------------------------------------------------ the bundled real clips


def test_bundled_marks_point_at_moving_objects() -> None:
    """Every bundled mark is at a frame whose time is within one frame of the marked time, and
    the real analysis has a track at the marked place then."""
    from video.analyze import analyze_video

    clips = find_marked_clips(BUNDLED)
    assert len(clips) >= 2 and sum(len(c.events) for c in clips) >= 6
    for clip in clips:
        analysis = analyze_video(clip.video)
        info = analysis.video
        for mark in clip.events:
            assert 0 <= mark.x <= info.width and 0 <= mark.y <= info.height
            assert abs(info.time_of_frame(mark.frame) - mark.time) <= 1.0 / float(info.fps)
            assert tracks_at(analysis, mark), (clip.name, mark)
