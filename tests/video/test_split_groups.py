"""Groups split into their members: a motion track holding two people becomes two tracks."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from video.base.tracks import Track, VideoInfo
from video.detection_tracks import DetectionTrackConfig
from video.recognize import Detections, iou_matrix
from video.split_groups import (
    GroupSplitConfig,
    group_stretches,
    members,
    split_groups,
    split_track,
)

INTERVAL = 3  # frames between the recognizer's looks (10 fps video, 3 looks a second)


def _person(x: float, y: float, w: float = 30.0, h: float = 80.0) -> np.ndarray:
    return np.array([x, y, x + w, y + h], dtype=np.float64)


def _walk(n: int, start: tuple[float, float], velocity: tuple[float, float]) -> np.ndarray:
    """(n, 4) boxes of a person walking at a constant velocity (px per frame)."""
    return np.stack([_person(start[0] + velocity[0] * i, start[1] + velocity[1] * i)
                     for i in range(n)])


def _union(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.c_[np.minimum(a[:, :2], b[:, :2]), np.maximum(a[:, 2:], b[:, 2:])]


def _looks(frames: np.ndarray, *people: np.ndarray, rng: np.random.Generator,
           label: str = "person") -> list[Detections]:
    """The recognizer's detections every INTERVAL frames, boxes jittered by up to 2 px."""
    out = []
    for k, frame in enumerate(frames):
        if frame % INTERVAL:
            continue
        boxes = np.array([p[k] for p in people]) + rng.uniform(-2, 2, (len(people), 4))
        out.append(Detections(int(frame), boxes, (label,) * len(people),
                              np.linspace(0.9, 0.6, len(people))))
    return out


@pytest.fixture
def crossing(rng: np.random.Generator) -> tuple[Track, np.ndarray, np.ndarray, list[Detections]]:
    """Two people walking apart from the same spot (one up-left, one down-right), boxed as one
    blob by motion for 40 frames, the recognizer seeing each of them."""
    frames = np.arange(100, 140)
    a = _walk(40, (300, 150), (-3.0, -1.0))
    b = _walk(40, (310, 160), (4.0, 2.0))
    track = Track(id=5, label="person", frames=frames, boxes=_union(a, b))
    return track, a, b, _looks(frames, a, b, rng=rng)


def test_a_group_splits_into_one_track_per_member(crossing) -> None:  # type: ignore[no-untyped-def]
    track, a, b, looks = crossing
    parts = split_track(track, looks, interval=INTERVAL)
    assert len(parts) == 2
    for part in parts:
        np.testing.assert_array_equal(part.frames, track.frames)
        assert part.label == "person"
    # each part follows one person closely on every frame (jitter and interpolation only)
    ious = np.array([[float(np.mean(np.diag(iou_matrix(p.boxes, truth)))) for truth in (a, b)]
                     for p in parts])
    assert sorted(ious.max(axis=1)) == pytest.approx([1.0, 1.0], abs=0.15)
    assert {int(np.argmax(row)) for row in ious} == {0, 1}


def test_pieces_outside_the_group_stay_as_tracks(rng: np.random.Generator) -> None:
    """One person alone for 30 frames, then joined by a second for 30: the lone stretch stays a
    track of its own, the group stretch becomes two tracks."""
    frames = np.arange(0, 60)
    a = _walk(60, (100, 100), (2.0, 0.0))
    b = _walk(60, (160, 120), (-1.0, 0.0))
    boxes = a.copy()
    boxes[30:] = _union(a[30:], b[30:])
    track = Track(id=1, label="person", frames=frames, boxes=boxes)
    looks = [d for d in _looks(frames, a, b, rng=rng) if d.frame >= 30]
    looks += [Detections(int(f), a[f][None], ("person",), np.array([0.9]))
              for f in frames[:30:INTERVAL]]
    looks.sort(key=lambda d: d.frame)
    parts = split_track(track, looks, interval=INTERVAL)
    starts = sorted((int(p.frames[0]), int(p.frames[-1])) for p in parts)
    assert starts[0] == (0, 28)  # the lone stretch, up to halfway to the group's first look
    assert [s for s in starts[1:]] == [(29, 59), (29, 59)]


@pytest.mark.parametrize("case", ["one person", "one look", "not people", "one big detection",
                                  "duplicates"])
def test_what_is_not_a_group_stays_whole(case: str, rng: np.random.Generator) -> None:
    frames = np.arange(0, 30)
    a = _walk(30, (100, 100), (2.0, 0.0))
    b = _walk(30, (150, 100), (2.0, 0.0))
    track = Track(id=1, label="person", frames=frames, boxes=_union(a, b))
    looks = {
        "one person": _looks(frames, a, rng=rng),
        "one look": _looks(frames, a, b, rng=rng)[:1],
        "not people": _looks(frames, a, b, rng=rng, label="car"),
        "one big detection": _looks(frames, _union(a, b), rng=rng),
        "duplicates": _looks(frames, a, a + 1.0, rng=rng),
    }[case]
    assert split_track(track, looks, interval=INTERVAL) == [track]
    assert split_groups([track], looks, interval=INTERVAL) == ([track], 0)


def test_members_are_inside_minor_and_distinct() -> None:
    box = np.array([0.0, 0.0, 200.0, 100.0])
    det = Detections(0, np.array([[10, 10, 40, 90], [120, 10, 150, 90], [12, 12, 41, 91],
                                  [180, 10, 260, 90], [0, 0, 200, 100]], dtype=np.float64),
                     ("person",) * 5, np.array([0.9, 0.8, 0.7, 0.95, 0.99]))
    found = members(box, det)
    # the duplicate (row 2), the one mostly outside (row 3) and the whole box (row 4) are not
    np.testing.assert_array_equal(found, det.boxes[[0, 1]])


def test_group_stretches_need_consecutive_looks(crossing) -> None:  # type: ignore[no-untyped-def]
    track, a, b, looks = crossing
    gap = [d if i != 5 else Detections(d.frame, d.boxes[:1], d.labels[:1], d.scores[:1])
           for i, d in enumerate(looks)]
    stretches = group_stretches(track, gap)
    assert [len(s) for s in stretches] == [5, len(looks) - 6]
    longer = group_stretches(track, gap, config=GroupSplitConfig(min_looks=6))
    assert [[f for f, _ in s] for s in longer] == [[f for f, _ in stretches[1]]]


@pytest.mark.parametrize("options", [{"min_inside": 0.0}, {"max_share": 1.5}, {"min_looks": 0},
                                     {"link_distance": 0.0}, {"max_member_iou": -0.1}])
def test_config_is_validated(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        GroupSplitConfig(**options)  # type: ignore[arg-type]


class _Looks:
    """The recognizer's part that analysis uses at the end: its looks and their spacing."""

    def __init__(self, detections: list[Detections]) -> None:
        self.interval = INTERVAL
        self._detections = detections

    def close(self) -> list[Detections]:
        return self._detections


def test_analysis_splits_groups_and_records_how_many(crossing) -> None:  # type: ignore[no-untyped-def]
    """video.analyze's last step: the group track becomes two person tracks, numbered again,
    and the analysis records the split."""
    from video.analyze import AnalysisConfig, _finish

    track, a, b, looks = crossing
    info = VideoInfo(path="x.mp4", width=640, height=360, fps=Fraction(10), duration=20.0,
                     frames=200)
    objects, extra = _finish([track], info, AnalysisConfig(), [], np.zeros((200, 2)),
                             _Looks(looks))  # type: ignore[arg-type]
    assert extra["split_groups"] == 1
    assert [t.id for t in objects] == [1, 2]
    assert all(t.label == "person" for t in objects)
    # unsplit, the blob matches neither person: an unrecognized track in place, dropped; the
    # people then come from their detections alone (motion missed them: video.detection_tracks)
    objects, extra = _finish([track], info, AnalysisConfig(split_groups=False), [],
                             np.zeros((200, 2)), _Looks(looks))  # type: ignore[arg-type]
    assert "split_groups" not in extra and extra["detection_tracks"] == 2
    assert all(t.extra.get("source") == "detections" for t in objects)
    no_detection_tracks = AnalysisConfig(split_groups=False,
                                         detection_tracks=DetectionTrackConfig(enabled=False))
    objects, extra = _finish([track], info, no_detection_tracks, [], np.zeros((200, 2)),
                             _Looks(looks))  # type: ignore[arg-type]
    assert "split_groups" not in extra and not any(t.label == "person" for t in objects)
