import json
from fractions import Fraction

import numpy as np
import pytest

from video.base.errors import InputError
from video.base.tracks import TRACKS_SCHEMA, Analysis, Event, Track, VideoInfo


def _info(**kw: object) -> VideoInfo:
    base = dict(path="clip.mp4", width=640, height=360, fps=Fraction(30000, 1001), duration=2.0,
                frames=60)
    base.update(kw)
    return VideoInfo(**base)  # type: ignore[arg-type]


def _track(tid: int = 1) -> Track:
    frames = np.array([0, 1, 2, 5])
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [2, 0, 12, 10], [5, 0, 15, 10]], float)
    return Track(id=tid, label="ball", frames=frames, boxes=boxes,
                 events=(Event(0.5, 0.8, "impact"), Event(0.1, 0.2, "step")))


def test_track_round_trip_and_sorting() -> None:
    analysis = Analysis(video=_info(), objects=(_track(1), _track(2)), cuts=(1.5, 0.5))
    doc = json.loads(analysis.to_json())
    assert doc["schema"] == TRACKS_SCHEMA
    assert doc["video"]["fps"] == "30000/1001"
    assert doc["cuts"] == [0.5, 1.5]
    assert [e["time"] for e in doc["objects"][0]["events"]] == [0.1, 0.5]
    back = Analysis.from_json(analysis.to_json())
    assert back.video.fps == Fraction(30000, 1001)
    np.testing.assert_allclose(back.object(2).boxes, analysis.object(2).boxes)


def test_box_at_interpolates_gaps() -> None:
    t = _track()
    np.testing.assert_allclose(t.box_at(3), [3, 0, 13, 10])
    assert t.box_at(6) is None
    np.testing.assert_allclose(t.centers[0], [5, 5])
    assert t.areas[0] == 100


@pytest.mark.parametrize(
    ("frames", "boxes", "message"),
    [
        ([0, 2, 1], [[0, 0, 1, 1]] * 3, "ascending"),
        ([0, 1], [[0, 0, 1, 1]], "frames but"),
        ([0], [[5, 0, 1, 1]], "x1 >= x0"),
        ([0], [[0, 0, np.nan, 1]], "finite"),
        ([0], [[0, 0, 1]], r"\(n, 4\)"),
    ],
)
def test_track_validation(frames: list[int], boxes: list[list[float]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Track(id=1, label="x", frames=np.array(frames), boxes=np.array(boxes, dtype=float))


@pytest.mark.parametrize(
    "doc",
    [
        "[]",
        '{"schema": "other/1"}',
        '{"schema": "stereofoley.tracks/1"}',
        '{"schema": "stereofoley.tracks/1", "video": {"path": "a", "width": 0, "height": 1,'
        ' "fps": "25", "duration": 1, "frames": 1}}',
        "{not json",
    ],
)
def test_bad_tracks_documents_raise_input_error(doc: str) -> None:
    with pytest.raises(InputError):
        Analysis.from_json(doc)


def test_duplicate_ids_rejected() -> None:
    with pytest.raises(ValueError, match="unique"):
        Analysis(video=_info(), objects=(_track(1), _track(1)))


def test_vfr_frame_times() -> None:
    info = _info(frames=3, frame_times=(0.0, 0.1, 0.35))
    assert info.time_of_frame(2) == pytest.approx(0.35)
    assert info.frame_at_time(0.2) == 1
    assert _info().frame_at_time(1.0) == 29  # 1.0 s * 29.97 = 29.97 -> frame 29


@pytest.mark.parametrize(("time", "strength"), [(-1.0, 0.5), (0.0, 1.5), (float("nan"), 0.1)])
def test_event_validation(time: float, strength: float) -> None:
    with pytest.raises(ValueError):
        Event(time, strength)


def test_values_are_held_as_files_keep_them_so_a_round_trip_is_exact() -> None:
    rng = np.random.default_rng(7)
    corner = rng.uniform(0, 500, (40, 2))
    boxes = np.column_stack([corner, corner + rng.uniform(1, 80, (40, 2))])
    events = tuple(Event(time=float(t), strength=float(s), kind="impact")
                   for t, s in zip(rng.uniform(0, 10, 5), rng.uniform(0, 1, 5), strict=True))
    info = VideoInfo(path="v.mp4", width=640, height=360, fps=Fraction(30000, 1001),
                     duration=10.0 + 1 / 3, frames=40,
                     frame_times=tuple(float(t) for t in np.cumsum(rng.uniform(0.03, 0.04, 40))))
    analysis = Analysis(video=info, cuts=(1 / 7,), objects=(
        Track(id=3, label="ball", frames=np.arange(40), boxes=boxes, events=events),))
    again = Analysis.from_json(analysis.to_json())
    track, back = analysis.objects[0], again.objects[0]
    assert np.array_equal(track.boxes, back.boxes) and track.events == back.events
    assert again.video == analysis.video and again.cuts == analysis.cuts
    assert np.max(np.abs(track.boxes - boxes)) <= 0.005 + 1e-9      # 1/100 px
    assert events[0].time == round(events[0].time, 6)
    # a time stored at a frame start still names that frame
    start = Event(time=10 * 1001 / 30000, strength=0.5).time
    assert VideoInfo(path="v.mp4", width=2, height=2, fps=Fraction(30000, 1001), duration=1.0,
                     frames=30).frame_at_time(start) == 10
