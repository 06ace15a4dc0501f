"""Multi-object tracking on box sequences with known truth (no pixels: fast and exact)."""

from __future__ import annotations

import numpy as np
import pytest

from video.base.tracks import Event, Track
from video.kalman import KalmanBox
from video.tracker import (
    Tracker,
    TrackerConfig,
    finalize_tracks,
    fit_inside,
    iou_matrix,
    label_for,
    link_tracks,
    moves_enough,
    paired_iou,
)

FPS = 30.0
SIZE = (640, 360)


def box_at(cx: float, cy: float, w: float = 40, h: float = 30) -> np.ndarray:
    return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])


def run(frames: list[list[np.ndarray]], config: TrackerConfig | None = None) -> list[Track]:
    config = config or TrackerConfig()
    tracker = Tracker(FPS, SIZE, config=config)
    for i, dets in enumerate(frames):
        tracker.update(i, np.asarray(dets).reshape(-1, 4))
    return finalize_tracks(tracker.finish(), fps=FPS, config=config)


def owner(tracks: list[Track], frame: int, truth: np.ndarray) -> int | None:
    """Id of the track whose box on `frame` overlaps `truth` best (IoU >= 0.3)."""
    best, best_iou = None, 0.3
    for t in tracks:
        b = t.box_at(frame)
        if b is not None:
            iou = float(iou_matrix(b[None], truth[None])[0, 0])
            if iou >= best_iou:
                best, best_iou = t.id, iou
    return best


def test_iou_and_fit_inside() -> None:
    a = np.array([[0, 0, 10, 10]], float)
    b = np.array([[5, 0, 15, 10], [20, 20, 30, 30], [0, 0, 10, 10]], float)
    assert iou_matrix(a, b)[0] == pytest.approx([1 / 3, 0.0, 1.0])
    assert fit_inside(np.array([-5.0, 2, 5, 8]), np.array([0.0, 0, 20, 20])).tolist() == [0, 2, 10, 8]
    assert fit_inside(np.array([0.0, 0, 30, 5]), np.array([0.0, 0, 20, 20])).tolist() == [-5, 0, 25, 5]


def test_kalman_learns_constant_velocity() -> None:
    k = KalmanBox(box_at(100, 100))
    for i in range(1, 15):
        k.predict()
        k.update(box_at(100 + 4 * i, 100 - 2 * i))
    assert k.velocity == pytest.approx([4.0, -2.0], abs=0.2)
    assert k.predict()[:2] == pytest.approx(box_at(160, 70)[:2], abs=1.0)


def test_crossing_objects_keep_their_ids_through_a_merged_blob() -> None:
    frames = []
    truth_a, truth_b = [], []
    for i in range(90):
        a = box_at(100 + 5 * i, 180)
        b = box_at(540 - 5 * i, 190)
        truth_a.append(a)
        truth_b.append(b)
        if iou_matrix(a[None], b[None])[0, 0] > 0 or abs(a[0] - b[0]) < 45:
            frames.append([np.r_[np.minimum(a[:2], b[:2]), np.maximum(a[2:], b[2:])]])
        else:
            frames.append([a, b])
    tracks = run(frames)
    assert len(tracks) == 2
    ids_a = {owner(tracks, i, truth_a[i]) for i in (5, 80)}
    ids_b = {owner(tracks, i, truth_b[i]) for i in (5, 80)}
    assert len(ids_a) == 1 and len(ids_b) == 1 and ids_a != ids_b
    assert None not in ids_a | ids_b


def test_short_occlusion_is_bridged_by_coasting() -> None:
    frames = [[] if 30 <= i < 42 else [box_at(50 + 6 * i, 100)] for i in range(80)]
    tracks = run(frames)
    assert len(tracks) == 1
    t = tracks[0]
    assert t.frames[0] == 0 and t.frames[-1] == 79
    hidden = t.box_at(36)
    assert hidden is not None and hidden[:2] == pytest.approx(box_at(50 + 6 * 36, 100)[:2], abs=3)


def test_long_gap_is_linked_when_motion_agrees() -> None:
    config = TrackerConfig(max_coast_seconds=0.2, link_gap_seconds=1.5)
    frames = [[] if 30 <= i < 60 else [box_at(50 + 5 * i, 100)] for i in range(90)]
    tracks = run(frames, config)
    assert len(tracks) == 1 and len(tracks[0]) == 90


def test_link_respects_cuts_and_motion() -> None:
    a = Track(1, "object", np.arange(0, 20), np.stack([box_at(50 + 5 * i, 100) for i in range(20)]))
    b = Track(2, "object", np.arange(30, 50),
              np.stack([box_at(50 + 5 * i, 100) for i in range(30, 50)]))
    far = Track(3, "object", np.arange(30, 50),
                np.stack([box_at(600 - 5 * i, 300) for i in range(30, 50)]))
    assert len(link_tracks([a, b], fps=FPS)) == 1
    assert len(link_tracks([a, far], fps=FPS)) == 2
    assert len(link_tracks([a, b], fps=FPS, barriers=[25])) == 2


def test_fragments_of_one_object_become_one_track() -> None:
    frames = []
    for i in range(60):
        whole = box_at(100 + 4 * i, 200, 40, 80)
        if i % 3 == 0 and i > 5:   # the detector sometimes splits the object in two
            top = whole.copy()
            top[3] = whole[1] + 35
            bottom = whole.copy()
            bottom[1] = whole[1] + 45
            frames.append([top, bottom])
        else:
            frames.append([whole])
    tracks = run(frames)
    assert len(tracks) == 1 and len(tracks[0]) == 60
    heights = tracks[0].boxes[:, 3] - tracks[0].boxes[:, 1]
    assert np.all(heights > 70)


@pytest.mark.parametrize("pattern, expected", [
    ("blip", 0),          # two frames only: noise
    ("static", 0),        # never moves: background residue
    ("mover", 1),
    ("grower", 1),        # approaching object: grows in place
])
def test_births_and_removals(pattern: str, expected: int) -> None:
    frames: list[list[np.ndarray]] = []
    for i in range(60):
        if pattern == "blip":
            frames.append([box_at(300, 200)] if i in (10, 11) else [])
        elif pattern == "static":
            frames.append([box_at(300, 200)])
        elif pattern == "mover":
            frames.append([box_at(100 + 3 * i, 200)])
        else:
            s = 20 * 1.03 ** i
            frames.append([box_at(300, 200, s, s)])
    assert len(run(frames)) == expected


def test_static_texture_under_a_pan_is_not_an_object() -> None:
    boxes = np.stack([box_at(400 - 2 * i, 100) for i in range(40)])
    texture = Track(1, "object", np.arange(40), boxes)
    camera = np.stack([[-2.0 * i, 0.0] for i in range(40)])
    assert moves_enough(texture)
    assert not moves_enough(texture, camera=camera)


@pytest.mark.parametrize("w, h, events, dx, frame_height, expected", [
    (20, 60, (), 3.0, None, "walker"),
    (40, 40, (Event(0.5, 0.5, "step"),), 1.0, None, "walker"),
    (30, 30, (Event(0.5, 0.8, "impact"),), 4.0, None, "ball"),     # travels 2.5 of its sizes
    (30, 30, (Event(0.5, 0.8, "impact"),), 1.0, None, "object"),   # a square patch, 0.6
    (80, 30, (), 5.0, None, "vehicle"),
    (80, 30, (), 5.0, 360, "vehicle"),     # 8% of the picture's height
    (110, 30, (), 5.0, 360, "vehicle"),    # a saloon side-on, 3.7:1
    (80, 30, (), 0.0, None, "object"),
    (30, 30, (), 2.0, None, "object"),
    (160, 20, (), 5.0, None, "object"),    # a strip (8:1): tape, the edge of an arm
    (40, 9, (), 5.0, 576, "object"),       # tape on a pole far off (4.4:1)
    (24, 10, (), 5.0, 576, "object"),      # a speck: 1.7% of the picture's height
    (24, 10, (), 5.0, None, "vehicle"),    # ... which only the picture's size tells
])
def test_labels(w: float, h: float, events: tuple, dx: float, frame_height: float | None,
                expected: str) -> None:
    boxes = np.stack([box_at(100 + dx * i, 100 + (i % 2), w, h) for i in range(20)])
    track = Track(1, "object", np.arange(20), boxes, events=events)
    assert label_for(track, frame_height=frame_height) == expected


def test_paired_iou_matches_the_matrix_diagonal(rng: np.random.Generator) -> None:
    a = np.sort(rng.uniform(0, 100, (50, 2, 2)), axis=1).transpose(0, 2, 1).reshape(50, 4)
    b = np.sort(rng.uniform(0, 100, (50, 2, 2)), axis=1).transpose(0, 2, 1).reshape(50, 4)
    a = a[:, [0, 2, 1, 3]]
    b = b[:, [0, 2, 1, 3]]
    assert paired_iou(a, b) == pytest.approx(np.diag(iou_matrix(a, b)))


def test_finalizing_long_tracks_needs_linear_memory() -> None:
    """Ten minutes at 30 fps: clean-up must not build frames x frames matrices."""
    import tracemalloc

    n = 18_000
    frames = np.arange(n)
    a = Track(1, "object", frames, np.stack([box_at(100 + (i % 400), 100) for i in range(n)]))
    b = Track(2, "object", frames, np.stack([box_at(500 - (i % 400), 250) for i in range(n)]))
    tracemalloc.start()
    out = finalize_tracks([a, b], fps=FPS)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(out) == 2
    assert peak < 100e6
