"""Moving vehicles followed by their detections: a car boxed a few times a second becomes one
track, a parked car none, and motion tracks lying on the car give way to it."""

from __future__ import annotations

import numpy as np
import pytest

from video.base.tracks import Track
from video.detection_tracks import (
    DetectionTrackConfig,
    chain_track,
    link_detections,
    tighten_people,
    track_detections,
)
from video.recognize import Detections

INTERVAL = 8  # 25 fps video, the recognizer's 3 looks a second
FPS = 25.0
LAST = 249


def _car(x: float, y: float = 100.0, w: float = 160.0, h: float = 70.0) -> np.ndarray:
    return np.array([x, y, x + w, y + h], dtype=np.float64)


def _looks(frames: range, boxes_at, rng: np.random.Generator, *, missed: set[int] = frozenset(),
           label: str = "car") -> list[Detections]:
    """Detections every INTERVAL frames: `boxes_at(frame)` gives that look's true boxes (jittered
    by up to 3 px), each scored 0.4-0.6; looks in `missed` find nothing."""
    out = []
    for f in frames:
        boxes = [] if f in missed else boxes_at(f)
        jittered = [b + rng.uniform(-3, 3, 4) for b in boxes]
        out.append(Detections(f, np.array(jittered).reshape(-1, 4), (label,) * len(jittered),
                              rng.uniform(0.4, 0.6, len(jittered))))
    return out


def _motion(frames: np.ndarray, boxes: np.ndarray, track_id: int = 1) -> Track:
    return Track(id=track_id, label="unknown", frames=frames, boxes=boxes)


def test_a_passing_car_and_a_parked_car_make_one_chain_track():
    """A car crossing at 7 px a frame (56 px a look) is followed over every look; the parked
    car beside it is linked too but does not travel, so only the passing car becomes a track."""
    rng = np.random.default_rng(3)
    looks = _looks(range(100, 181, INTERVAL),
                   lambda f: [_car(20 + 7 * (f - 100)), _car(500, y=90, w=100, h=60)], rng)
    chains = link_detections(looks)
    lengths = sorted(len(c.frames) for c in chains)
    assert lengths == [11, 11]
    tracks, added, replaced = track_detections([], looks, interval=INTERVAL, fps=FPS,
                                               last_frame=LAST)
    assert (added, replaced) == (1, 0)
    (car,) = tracks
    assert car.extra["source"] == "detections"
    assert int(car.frames[0]) == 96 and int(car.frames[-1]) == 184  # half a look beyond
    mid = car.box_at(140)
    assert mid is not None
    assert np.allclose(mid, _car(20 + 7 * 40), atol=4.0)  # interpolated between looks
    assert sum(car.extra["measured"]) == 11


def test_missed_looks_and_another_class_do_not_break_the_chain():
    """A post hides the car on two looks, and on one look the detector calls it a bicycle: the
    chain continues through (its prediction carries it on), and the bicycle box joins no car
    chain."""
    rng = np.random.default_rng(4)
    looks = _looks(range(0, 121, INTERVAL), lambda f: [_car(10 + 5 * f)], rng, missed={40, 48})
    looks[8] = Detections(64, looks[8].boxes, ("bicycle",), looks[8].scores)
    chains = link_detections(looks)
    cars = [c for c in chains if c.labels[0] == "car"]
    assert len(cars) == 1
    assert len(cars[0].frames) == 13  # 16 looks, less 2 missed and the bicycle look
    assert all(label == "car" for label in cars[0].labels)


@pytest.mark.parametrize("missed, chains_expected", [
    ({24, 32, 40}, 2),   # three looks in a row missed: the chain ends, a new one starts
    ({24, 40}, 1),       # single misses: one chain
])
def test_too_many_missed_looks_end_a_chain(missed, chains_expected):
    rng = np.random.default_rng(5)
    looks = _looks(range(0, 97, INTERVAL), lambda f: [_car(10 + 4 * f)], rng, missed=missed)
    assert len(link_detections(looks)) == chains_expected


def test_a_chain_never_crosses_a_cut():
    """Two shots, a car at the same place in both: the cut at frame 60 splits the chain, and
    the track stops at the last frame before the cut."""
    rng = np.random.default_rng(6)
    looks = _looks(range(0, 113, INTERVAL), lambda f: [_car(10 + 6 * (f % 60))], rng)
    chains = link_detections(looks, barriers=[60])
    assert [(c.frames[0], c.frames[-1]) for c in chains] == [(0, 56), (64, 112)]
    first = chain_track(chains[0], interval=INTERVAL, last_frame=LAST, barriers=[60])
    assert int(first.frames[-1]) == 59


def test_a_motion_track_sliding_between_cars_gives_way_and_keeps_its_own_part():
    """A motion track lies on the first car from frame 100 to 160, then slides onto something
    else until 230: the car's detection track replaces it on the car, and its part after the
    car's span (longer than the tracker's minimum) stays a track of its own."""
    rng = np.random.default_rng(7)
    looks = _looks(range(96, 161, INTERVAL), lambda f: [_car(20 + 6 * (f - 96))], rng)
    frames = np.arange(100, 231)
    on_car = np.array([_car(20 + 6 * (f - 96)) + [10, 20, -10, 0] for f in frames[:61]])
    drift = np.array([_car(400 - 2 * i, y=150, w=60, h=60) for i in range(70)])
    motion = _motion(frames, np.vstack([on_car, drift]))
    tracks, added, replaced = track_detections([motion], looks, interval=INTERVAL, fps=FPS,
                                               last_frame=LAST)
    assert (added, replaced) == (1, 1)
    starts = sorted((int(t.frames[0]), int(t.frames[-1]), t.extra.get("source")) for t in tracks)
    assert starts == [(92, 164, "detections"), (165, 230, None)]


def test_a_motion_track_elsewhere_is_kept_whole():
    rng = np.random.default_rng(8)
    looks = _looks(range(96, 161, INTERVAL), lambda f: [_car(20 + 6 * (f - 96))], rng)
    frames = np.arange(90, 200)
    walker = _motion(frames, np.array([[500.0, 20 + 0.5 * i, 530.0, 100 + 0.5 * i]
                                       for i in range(len(frames))]))
    tracks, added, replaced = track_detections([walker], looks, interval=INTERVAL, fps=FPS,
                                               last_frame=LAST)
    assert (added, replaced) == (1, 0)
    assert any(t is walker for t in tracks)


def test_too_few_looks_make_no_track():
    """A car seen on two looks (it clips a corner of the picture) is left to the motion track."""
    rng = np.random.default_rng(9)
    looks = _looks(range(0, 17, INTERVAL), lambda f: [_car(10 + 10 * f)] if f < 16 else [], rng)
    tracks, added, _ = track_detections([], looks, interval=INTERVAL, fps=FPS, last_frame=LAST)
    assert (tracks, added) == ([], 0)


def test_camera_pan_is_not_travel():
    """A parked car that moves on screen only because the camera pans makes no track."""
    rng = np.random.default_rng(10)
    looks = _looks(range(0, 81, INTERVAL), lambda f: [_car(300 - 3 * f)], rng)
    camera = np.stack([-3.0 * np.arange(LAST + 1), np.zeros(LAST + 1)], axis=1)
    _, added, _ = track_detections([], looks, interval=INTERVAL, fps=FPS, last_frame=LAST,
                                   camera=camera)
    assert added == 0
    _, added, _ = track_detections([], looks, interval=INTERVAL, fps=FPS, last_frame=LAST)
    assert added == 1


@pytest.mark.parametrize("changes", [
    {"min_score": 0.0}, {"min_score": 1.5}, {"min_looks": 1}, {"max_missed": -1},
    {"link_distance": 0.0}, {"max_growth": 0.5}, {"explain_share": 0.0}, {"tighten": 0.5},
])
def test_config_rejects_bad_values(changes):
    with pytest.raises(ValueError):
        DetectionTrackConfig(**changes)


def _held_box(f: int) -> np.ndarray:
    """A box held and turned in place: it sways 20 px, less than its own size."""
    sway = 20.0 * np.sin(f / 10.0) * np.array([1, 0.5, 1, 0.5])
    return np.array([200.0, 100.0, 500.0, 330.0]) + sway


def test_a_handled_box_is_an_object_when_motion_confirms_it():
    """A held box moves less than its size: alone it makes no track; with a motion track on it
    (the hand turning it) it does, and that motion track gives way to it."""
    rng = np.random.default_rng(11)
    looks = _looks(range(0, 161, INTERVAL), lambda f: [_held_box(f)], rng, label="box")
    _, added, _ = track_detections([], looks, interval=INTERVAL, fps=FPS, last_frame=LAST)
    assert added == 0
    frames = np.arange(0, 165)
    hand = _motion(frames, np.array([_held_box(int(f)) + [-30, -10, 10, 10] for f in frames]))
    tracks, added, replaced = track_detections([hand], looks, interval=INTERVAL, fps=FPS,
                                               last_frame=LAST)
    assert (added, replaced) == (1, 1)
    assert [t.extra.get("source") for t in tracks] == ["detections"]


def test_one_object_seen_as_two_classes_makes_one_track():
    """The detector calls the box a book on a stretch of looks: the shorter chain lying on the
    longer one is dropped."""
    rng = np.random.default_rng(12)
    box = _looks(range(0, 161, INTERVAL), lambda f: [_car(10 + 4 * f, w=120, h=90)], rng,
                 label="box")
    book = _looks(range(64, 129, INTERVAL), lambda f: [_car(12 + 4 * f, w=116, h=88)], rng,
                  label="book")
    books = {k.frame: k for k in book}
    merged = []
    for b in box:
        k = books.get(b.frame, Detections(b.frame, np.zeros((0, 4)), (), np.zeros(0)))
        merged.append(Detections(b.frame, np.vstack([b.boxes, k.boxes]), b.labels + k.labels,
                                 np.r_[b.scores, k.scores]))
    tracks, added, _ = track_detections([], merged, interval=INTERVAL, fps=FPS, last_frame=LAST)
    assert added == 1
    assert (int(tracks[0].frames[0]), int(tracks[0].frames[-1])) == (0, 164)  # the box's span


def _runner(f: int) -> np.ndarray:
    """A person's box crossing the picture at 4 px a frame (a runner the camera keeps in view)."""
    return np.array([40.0 + 4.0 * f, 80.0, 110.0 + 4.0 * f, 260.0])


def test_a_person_motion_missed_becomes_a_track_from_detections():
    """A travelling person that no motion track follows (a camera moving with a runner leaves
    background subtraction nothing to subtract) is followed by its detections; with a motion
    track on it on most looks, motion keeps the person and nothing is added."""
    rng = np.random.default_rng(21)
    looks = _looks(range(0, 97, INTERVAL), lambda f: [_runner(f)], rng, label="person")
    tracks, added, replaced = track_detections([], looks, interval=INTERVAL, fps=FPS,
                                               last_frame=LAST)
    assert (added, replaced) == (1, 0)
    (person,) = tracks
    assert person.extra["source"] == "detections"
    mid = person.box_at(50)
    assert mid is not None and np.allclose(mid, _runner(50), atol=4.0)

    # a short piece of motion track on its last looks: still missed on most, so it gives way
    frames = np.arange(80, 97)
    piece = _motion(frames, np.array([_runner(int(f)) for f in frames]))
    tracks, added, replaced = track_detections([piece], looks, interval=INTERVAL, fps=FPS,
                                               last_frame=LAST)
    assert (added, replaced) == (1, 1)
    assert [t.extra.get("source") for t in tracks] == ["detections"]

    # motion follows the whole run: the person stays motion's
    frames = np.arange(0, 97)
    whole = _motion(frames, np.array([_runner(int(f)) + 2.0 for f in frames]))
    tracks, added, replaced = track_detections([whole], looks, interval=INTERVAL, fps=FPS,
                                               last_frame=LAST)
    assert (added, replaced) == (0, 0)
    assert tracks == [whole]


def test_a_standing_person_motion_missed_makes_no_track():
    """A person detected on every look but standing still (a bystander, a poster) does not
    travel: no track, whatever motion saw."""
    rng = np.random.default_rng(22)
    looks = _looks(range(0, 97, INTERVAL), lambda f: [_runner(0)], rng, label="person")
    _, added, _ = track_detections([], looks, interval=INTERVAL, fps=FPS, last_frame=LAST)
    assert added == 0


def test_a_motion_track_that_goes_on_takes_the_missed_persons_looks():
    """Motion finds the runner only from frame 60 on (before that it was lost in a group) and
    follows him past the detections' end: the person keeps one track, the motion one, with
    the detections' boxes on the frames before 60."""
    rng = np.random.default_rng(23)
    looks = _looks(range(0, 97, INTERVAL), lambda f: [_runner(f)], rng, label="person")
    frames = np.arange(60, 200)
    later = _motion(frames, np.array([_runner(int(f)) + 1.0 for f in frames]), track_id=7)
    tracks, added, replaced = track_detections([later], looks, interval=INTERVAL, fps=FPS,
                                               last_frame=LAST)
    assert (added, replaced) == (1, 0)
    (person,) = tracks
    assert person.id == 7 and "source" not in person.extra
    assert int(person.frames[0]) == 0 and int(person.frames[-1]) == 199
    assert np.array_equal(person.frames, np.arange(0, 200))
    early = person.box_at(20)
    assert early is not None and np.allclose(early, _runner(20), atol=4.0)
    assert np.allclose(person.box_at(120), _runner(120) + 1.0)
    assert person.extra["detection_frames"] == 60


def _child(f: int) -> np.ndarray:
    """A person's box swaying a little in place (a child juggling a ball)."""
    return np.array([100.0, 60.0, 150.0, 200.0]) + 5.0 * np.sin(f / 7.0)


@pytest.mark.parametrize(("blob_at", "others", "tightened"), [
    # a box over the child and the shaken foliage round her: 4x her area
    (lambda f: np.array([50.0, 20.0, 250.0, 230.0]), [], 1),
    # only a little larger than she is (her legs' motion and a shadow): kept as it is
    (lambda f: np.array([95.0, 55.0, 160.0, 230.0]), [], 0),
    # a blob holding two people: video.split_groups' to separate, not this
    (lambda f: np.array([50.0, 20.0, 400.0, 230.0]), [np.array([300.0, 60.0, 350.0, 200.0])], 0),
])
def test_a_blob_holding_one_person_takes_her_boxes(blob_at, others, tightened):
    """A motion track boxing far more than the one person inside it takes her detection boxes
    over her chain's span; outside that span its own boxes stay."""
    rng = np.random.default_rng(31)
    looks = _looks(range(40, 161, INTERVAL), lambda f: [_child(f), *others], rng, label="person")
    frames = np.arange(0, 200)
    blob = _motion(frames, np.array([blob_at(int(f)) for f in frames]))
    out, count = tighten_people([blob], looks, interval=INTERVAL, last_frame=LAST)
    assert count == tightened
    (track,) = out
    assert np.array_equal(track.frames, frames)
    assert np.allclose(track.box_at(10), blob.box_at(10))       # before her first look
    if tightened:
        assert np.allclose(track.box_at(100), _child(100), atol=4.0)
    else:
        assert np.allclose(track.box_at(100), blob.box_at(100))


def test_a_person_already_followed_by_detections_is_left_alone():
    """The chain of a person `track_detections` already made a track is not used again to
    tighten a blob over her."""
    rng = np.random.default_rng(32)
    looks = _looks(range(0, 97, INTERVAL), lambda f: [_runner(f)], rng, label="person")
    frames = np.arange(0, 97)
    blob = _motion(frames, np.array([[0.0, 0.0, 640.0, 360.0]] * len(frames)))
    tracks, added, _ = track_detections([blob], looks, interval=INTERVAL, fps=FPS,
                                        last_frame=LAST)
    assert added == 1
    out, count = tighten_people(tracks, looks, interval=INTERVAL, last_frame=LAST)
    assert count == 0 and out == tracks
