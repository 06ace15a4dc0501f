"""Clutter and ambience (video.clutter) and the vehicle evidence check (video.evidence): tracks
with known truth (a flapping patch, a walker, a field of leaves, tape, a shadow, a parked car),
and a real hand-held clip whose edge residue must not survive as objects."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from video.base.tracks import Analysis, Event, Track, VideoInfo
from video.clutter import (
    AMBIENCE,
    ClutterConfig,
    drop_specks,
    oscillates_in_place,
    particle_field,
    rides_along,
    sort_clutter,
)
from video.evidence import EvidenceConfig, checked_vehicle
from video.recognize import Detections

FPS = 30.0
SIZE = (640, 360)
CLIPS = Path(__file__).resolve().parents[2] / "assets" / "clips"


def _track(centres: np.ndarray, sizes: np.ndarray | float, *, start: int = 0,
           label: str = "unknown", track_id: int = 1, events: tuple[Event, ...] = (),
           extra: dict | None = None) -> Track:
    centres = np.asarray(centres, dtype=np.float64)
    half = np.broadcast_to(np.asarray(sizes, dtype=np.float64), (len(centres),))[:, None] / 2
    boxes = np.concatenate([centres - half, centres + half], axis=1)
    return Track(id=track_id, label=label, frames=np.arange(start, start + len(centres)),
                 boxes=boxes, events=events, extra=extra or {"label_source": "detector"})


def _flapping(centre: tuple[float, float], size: float, frames: int, *, start: int = 0,
              seed: int = 0, label: str = "unknown", track_id: int = 1) -> Track:
    """A patch jittering in place: its centre within half its size, its box flapping."""
    rng = np.random.default_rng(seed)
    centres = np.asarray(centre) + rng.uniform(-0.25, 0.25, (frames, 2)) * size
    sizes = size * np.exp(rng.uniform(-0.3, 0.3, frames))
    return _track(centres, sizes, start=start, label=label, track_id=track_id)


def _walker(frames: int = 90, *, start: int = 0, y: float = 250.0, track_id: int = 2,
            label: str = "unknown") -> Track:
    """A walker crossing the picture with purpose: 5 px a frame, left to right."""
    xs = 40.0 + 5.0 * np.arange(frames)
    return _track(np.stack([xs, np.full(frames, y)], axis=1), 40.0, start=start,
                  label=label, track_id=track_id)


def test_flapping_patch_dropped_walker_crossing_it_kept() -> None:
    patch = _flapping((300.0, 250.0), 30.0, 90, seed=1)
    walker = _walker()  # passes right through the patch around frame 52
    result = sort_clutter([patch, walker], frame_size=SIZE, fps=FPS)
    assert [t.id for t in result.objects] == [walker.id]
    assert (result.dropped, result.merged, result.parts) == (1, 0, 0)


def test_recognized_track_is_never_clutter() -> None:
    person = _flapping((300.0, 250.0), 30.0, 90, seed=1, label="person")
    result = sort_clutter([person], frame_size=SIZE, fps=FPS)
    assert result.objects == (person,) and result.dropped == 0


def test_field_of_leaves_becomes_one_ambience_object_covering_it() -> None:
    rng = np.random.default_rng(7)
    leaves = []
    for k in range(15):  # a 5 x 3 field over x 150..430, y 80..220, each for most of the clip
        cx, cy = 150 + 70 * (k % 5), 80 + 70 * (k // 5)
        start = int(rng.integers(0, 30))
        leaves.append(_flapping((cx, cy), float(rng.uniform(15, 30)),
                                int(rng.integers(60, 90)), start=start, seed=k, track_id=k + 1))
    walker = _walker(90, y=330.0, track_id=99)
    result = sort_clutter([*leaves, walker], frame_size=SIZE, fps=FPS, frames=120)
    ambience = [t for t in result.objects if t.label == AMBIENCE]
    assert len(ambience) == 1 and walker in result.objects and len(result.objects) == 2
    assert (result.merged, result.dropped) == (15, 0)
    bed = ambience[0]
    every = np.concatenate([t.boxes for t in leaves])
    np.testing.assert_allclose(bed.boxes[0], [every[:, 0].min(), every[:, 1].min(),
                                              every[:, 2].max(), every[:, 3].max()], atol=0.01)
    assert bed.frames[0] == min(t.frames[0] for t in leaves)
    assert bed.frames[-1] == max(t.frames[-1] for t in leaves)
    assert len(bed) == bed.frames[-1] - bed.frames[0] + 1  # every frame the motion lasts
    assert bed.extra["ambience_tracks"] == 15


def test_ambience_does_not_span_a_cut() -> None:
    leaves = [_flapping((150 + 70 * (k % 5), 80 + 70 * (k // 5 % 3)), 25.0, 50,
                        start=0 if k < 8 else 60, seed=k, track_id=k + 1) for k in range(16)]
    result = sort_clutter(leaves, frame_size=SIZE, fps=FPS, frames=120, barriers=[60])
    beds = sorted((t for t in result.objects if t.label == AMBIENCE),
                  key=lambda t: int(t.frames[0]))
    assert [(int(b.frames[0]), int(b.frames[-1])) for b in beds] == [(0, 49), (60, 109)]


def test_strip_of_tape_is_dropped_not_an_ambience() -> None:
    """Flaps along one thin line: clutter, but a line is no region to hear as a bed."""
    tape = [_flapping((40.0 + 40 * k, 200.0), 18.0, 100, seed=k, track_id=k + 1)
            for k in range(15)]
    result = sort_clutter(tape, frame_size=SIZE, fps=FPS)
    assert result.objects == () and result.dropped == 15 and result.merged == 0


def test_burst_of_residue_is_no_ambience() -> None:
    """Clutter over a region for a tenth of a long shot is dropped, not made a bed."""
    leaves = [_flapping((150 + 70 * (k % 5), 80 + 70 * (k // 5)), 25.0, 30, start=300,
                        seed=k, track_id=k + 1) for k in range(15)]
    result = sort_clutter(leaves, frame_size=SIZE, fps=FPS, frames=900)
    assert result.objects == () and result.dropped == 15


def test_runner_along_tape_is_clutter_of_its_zone() -> None:
    """A wave running along flapping tape travels, but lives where the flaps are."""
    tape = [_flapping((40.0 + 12 * k, 200.0), 18.0, 100, seed=k, track_id=k + 1)
            for k in range(40)]  # flaps all along the tape, overlapping
    xs = 60.0 + 6.0 * np.arange(80)
    runner = _track(np.stack([xs, np.full(80, 200.0)], axis=1), 18.0, track_id=50)
    result = sort_clutter([*tape, runner], frame_size=SIZE, fps=FPS)
    assert result.objects == () and result.dropped == 41


@pytest.mark.parametrize("case, expected", [
    ("jitter", True),
    ("walker", False),
    ("wander back and forth", True),
    ("ball bouncing in place", False),
    ("approaching", False),
])
def test_oscillates_in_place(case: str, expected: bool) -> None:
    t = np.arange(120)
    if case == "jitter":
        track = _flapping((300.0, 200.0), 30.0, 120)
    elif case == "walker":
        track = _walker()
    elif case in ("wander back and forth", "ball bouncing in place"):
        # up and down three sizes, four times
        ys = 200.0 + 45.0 * np.abs(np.sin(np.pi * t / 30))
        events = tuple(Event(time=k, strength=1.0) for k in range(4)) \
            if case.startswith("ball") else ()
        track = _track(np.stack([np.full(120, 300.0), ys], axis=1), 15.0, events=events)
    else:
        track = _track(np.tile([300.0, 200.0], (120, 1)), 10.0 + 0.5 * t)
    assert oscillates_in_place(track, limit=2.0) is expected


def test_shadow_riding_along_a_person_is_dropped_ball_rolled_past_kept() -> None:
    person = _walker(90, y=200.0, label="person", track_id=1)
    shadow = _track(person.centers + [5.0, 26.0] + np.random.default_rng(3).normal(0, 2, (90, 2)),
                    14.0, track_id=2)
    xs = 400.0 - 3.0 * np.arange(90)  # rolls the other way, under the walker once
    ball = _track(np.stack([xs, np.full(90, 225.0)], axis=1), 26.0, track_id=3)
    window = round(FPS)
    assert rides_along(shadow, [person], window=window, share=0.4)
    assert not rides_along(ball, [person], window=window, share=0.4)
    result = sort_clutter([person, shadow, ball], frame_size=SIZE, fps=FPS)
    assert [t.id for t in result.objects] == [1, 3] and result.parts == 1


def _detections(frames: range, boxes: list[list[float]], labels: tuple[str, ...]) -> list:
    return [Detections(f, np.asarray(boxes, dtype=np.float64), labels,
                       np.full(len(labels), 0.6)) for f in frames]


@pytest.mark.parametrize("moves, people, expected", [
    (False, True, "person"),    # a person at a parked car, the boot voted "car"
    (False, False, "unknown"),  # a boot lid opening: motion on a still car
    (True, True, "car"),        # a car driving by with people on the pavement
    (True, False, "car"),
])
def test_vehicle_label_needs_vehicle_motion(moves: bool, people: bool, expected: str) -> None:
    xs = 100.0 + (4.0 if moves else 0.02) * np.arange(60)
    car = _track(np.stack([xs, np.full(60, 150.0)], axis=1), 60.0, label="car",
                 extra={"label_source": "detector", "label_confidence": 0.42})
    persons = [[x - 20, 110, x + 20, 200] for x in (100.0, 330.0)][: 1 if people else 0]
    dets = [Detections(f, np.asarray(persons, dtype=np.float64).reshape(-1, 4),
                       ("person",) * len(persons), np.full(len(persons), 0.6))
            for f in range(0, 60, 10)]
    checked = checked_vehicle(car, dets)
    assert checked.label == expected
    if expected != "car":
        assert checked.extra["label_runner_up"] == "car" and "label_evidence" in checked.extra
        # what the detector saw a thing on is kept, not taken for clutter
        assert sort_clutter([checked], frame_size=SIZE, fps=FPS).objects == (checked,)


@pytest.mark.parametrize("label, on_screen, pan, expected", [
    ("dining table", 0.02, 0.0, "unknown"),      # someone at a table: the table does not move
    ("bench", 0.02, 0.0, "unknown"),
    ("dining table", 4.0, 4.0, "unknown"),       # the camera pans past a table: still in the scene
    ("car", 0.02, -4.0, "car"),                  # the camera follows a car: it travels
    ("car", 4.0, 4.0, "unknown"),                # a parked car the camera pans past
    ("chair", 0.02, 0.0, "chair"),               # handled furniture is not checked
])
def test_fixtures_and_vehicles_must_travel_in_the_scene(label: str, on_screen: float, pan: float,
                                                        expected: str) -> None:
    """`on_screen`: px a frame the track's centre moves on screen; `pan`: px a frame the camera
    moves scene points on screen (the analysis's camera path)."""
    n = 60
    track = _track(np.stack([100.0 + on_screen * np.arange(n), np.full(n, 150.0)], axis=1),
                   60.0, label=label, extra={"label_source": "detector", "label_confidence": 0.4})
    camera = np.stack([pan * np.arange(n), np.zeros(n)], axis=1)
    checked = checked_vehicle(track, [], camera=camera)
    assert checked.label == expected
    if expected != label:
        assert checked.extra["label_runner_up"] == label
        assert f"still {label}" in checked.extra["label_evidence"]


@pytest.mark.parametrize("label, expected", [
    ("car", "car"),                   # a car coming closer grows steadily: it moves
    ("truck", "truck"),
    ("dining table", "unknown"),      # a table that grows is the camera moving in on it
    ("bench", "unknown"),
])
def test_growing_in_place_is_a_vehicle_coming_closer_not_a_fixture(label: str,
                                                                   expected: str) -> None:
    n = 60
    sizes = 40.0 * 1.02 ** np.arange(n)          # 2% a frame, 3.3x over two seconds
    track = _track(np.tile([300.0, 180.0], (n, 1)), sizes, label=label,
                   extra={"label_source": "detector", "label_confidence": 0.4})
    checked = checked_vehicle(track, [])
    assert checked.label == expected
    if expected != label:
        assert f"still {label}" in checked.extra["label_evidence"]


def test_bicycle_with_rider_is_not_checked() -> None:
    bike = _track(np.tile([200.0, 150.0], (30, 1)), 50.0, label="bicycle")
    dets = _detections(range(0, 30, 10), [[170, 100, 230, 200]], ("person",))
    assert checked_vehicle(bike, dets) is bike


@pytest.mark.parametrize("kwargs", [
    {"in_place": -1.0}, {"grid": 1}, {"zone_tracks": 1}, {"ambience_tracks": 1},
    {"zone_fraction": 1.5}, {"region_side": -0.1}, {"region_fill": 2.0}, {"lasting": 1.1},
    {"follow": -0.5}, {"window": 0.0}, {"particle_size": 1.5}, {"swarm_tracks": 1},
    {"swarm_alive": 0}, {"swarm_spread": -0.2}, {"swarm_events": 0}, {"speck_size": 1.5},
    {"speck_size": -0.01},
])
def test_clutter_config_rejects_bad_values(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        ClutterConfig(**kwargs)


@pytest.mark.parametrize("kwargs", [{"travel": -1.0}, {"person_fraction": 1.2}, {"cover": -0.1}])
def test_evidence_config_rejects_bad_values(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        EvidenceConfig(**kwargs)


def test_clutter_off_keeps_everything() -> None:
    tracks = [_flapping((300.0, 200.0), 30.0, 60, seed=k, track_id=k + 1) for k in range(3)]
    result = sort_clutter(tracks, frame_size=SIZE, fps=FPS, config=ClutterConfig(enabled=False))
    assert result.objects == tuple(tracks) and result.dropped == 0


def test_real_hand_held_clip_residue_is_dropped() -> None:
    """balle-jbart.mp4 (CC-BY-SA, real footage): one ball bouncing in a room filmed hand-held.
    The shake leaves edge residue that tracks as small objects jittering in place; with the
    recognizer's vote they are dropped and counted, and the ball survives whole."""
    from video.analyze import AnalysisConfig, analyze_video

    analysis = analyze_video(CLIPS / "balle-jbart.mp4")
    plain = analyze_video(CLIPS / "balle-jbart.mp4",
                          config=AnalysisConfig(clutter=ClutterConfig(enabled=False)))
    dropped = analysis.extra["dropped_clutter"] + analysis.extra["dropped_parts"]
    assert dropped >= 5
    assert len(analysis.objects) + dropped + analysis.extra["merged_ambience"] == len(
        plain.objects) + sum(1 for t in analysis.objects if t.label == AMBIENCE)
    assert len(analysis.objects) <= 4  # of 9 without the filter
    longest = max(analysis.objects, key=len)
    assert len(longest) >= 0.9 * analysis.video.frames


def test_ghosts_one_after_another_are_no_ambience() -> None:
    """Patches over a region that come one at a time (never two at once) are dropped, not made
    a bed: background motion goes on in many places together."""
    ghosts = [_flapping((150 + 70 * (k % 5), 80 + 70 * (k // 5)), 25.0, 10, start=10 * k,
                        seed=k, track_id=k + 1) for k in range(15)]
    result = sort_clutter(ghosts, frame_size=SIZE, fps=FPS, frames=150)
    assert result.objects == () and result.dropped == 15 and result.merged == 0


def test_ambience_keeps_its_label_through_relabelling() -> None:
    """The render relabels objects after new events (video.tracker.label_for); an ambience
    object must stay "ambience" there, or it would lose its stereo bed."""
    from video.clutter import ambience_object
    from video.tracker import label_for

    leaves = [_flapping((150 + 70 * k, 100.0), 25.0, 40, seed=k, track_id=k + 1)
              for k in range(5)]
    bed = ambience_object(leaves)
    assert bed.label == AMBIENCE and label_for(bed) == AMBIENCE


def _snowfall(count: int, *, frames: int = 120, seed: int = 3, start_id: int = 1,
              size: tuple[float, float] = (6.0, 14.0), area: tuple[float, float, float, float] =
              (0.0, 0.0, 640.0, 360.0)) -> list[Track]:
    """`count` flakes falling through `area` (x0, y0, x1, y1), each tracked for 1-2 s from a
    random start: a small box drifting down 3-6 px a frame with a little sideways sway."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = area
    flakes = []
    for k in range(count):
        length = int(rng.integers(30, 60))
        first = int(rng.integers(0, frames - length))
        t = np.arange(length)
        xs = rng.uniform(x0 + 10, x1 - 10) + 4.0 * np.sin(t / 6.0 + k)
        ys = rng.uniform(y0, y0 + 0.4 * (y1 - y0)) + rng.uniform(3.0, 6.0) * t * (y1 - y0) / 360
        flakes.append(_track(np.stack([xs, np.minimum(ys, y1 - 5)], axis=1),
                             float(rng.uniform(*size)), start=first, track_id=start_id + k))
    return flakes


def test_snowfall_becomes_one_ambience_bed_walker_and_ball_kept() -> None:
    """Forty flakes falling over the whole picture (each a small unknown track that travels, so
    no clutter by the other rules) are one bed, over the picture; a person walking through and
    a recognized ball are untouched, and a flake whose jitter read as hits joins the bed."""
    flakes = _snowfall(40)
    hits = tuple(Event(time=t, strength=0.5, kind="impact") for t in (0.5, 1.2))
    flakes[0] = flakes[0].with_changes(events=hits)
    person = _walker(90, y=300.0, track_id=98, label="person")
    ball = _track(np.stack([np.linspace(100, 500, 60), np.full(60, 200.0)], axis=1), 12.0,
                  start=10, label="sports ball", track_id=99)
    result = sort_clutter([*flakes, person, ball], frame_size=SIZE, fps=FPS, frames=120)
    beds = [t for t in result.objects if t.label == AMBIENCE]
    assert len(beds) == 1 and result.merged == 40 and result.dropped == 0
    assert person in result.objects and ball in result.objects and len(result.objects) == 3
    x0, y0, x1, y1 = beds[0].boxes[0]
    assert x0 < 60 and x1 > 580 and y0 < 40 and y1 > 300     # the bed spans the picture


@pytest.mark.parametrize("case, count, area, size, events, merged", [
    ("snowfall", 12, (0.0, 0.0, 640.0, 360.0), (6.0, 14.0), 0, 12),
    ("too few flakes", 6, (0.0, 0.0, 640.0, 360.0), (6.0, 14.0), 0, 0),
    ("a corner, not the picture", 30, (0.0, 0.0, 160.0, 90.0), (4.0, 8.0), 0, 0),
    ("large things, not particles", 20, (0.0, 0.0, 640.0, 360.0), (50.0, 70.0), 0, 0),
    ("small things heard by their hits", 20, (0.0, 0.0, 640.0, 360.0), (6.0, 14.0), 2, 0),
])
def test_particle_field_needs_many_small_silent_tracks_spread_over_the_picture(
        case: str, count: int, area: tuple[float, float, float, float],
        size: tuple[float, float], events: int, merged: int) -> None:
    flakes = _snowfall(count, area=area, size=size, seed=11)
    if events:
        hits = tuple(Event(time=0.2 + 0.3 * k, strength=0.5, kind="impact")
                     for k in range(events))
        flakes = [f.with_changes(events=hits) for f in flakes]
    field = particle_field(flakes, range(len(flakes)), frame_size=SIZE, start=0, end=120,
                           config=ClutterConfig())
    assert len(field) == merged, case
    if case != "a corner, not the picture":   # (dense clutter there: the region rule's bed)
        result = sort_clutter(flakes, frame_size=SIZE, fps=FPS, frames=120)
        assert result.merged == merged, case
        assert sum(t.label == AMBIENCE for t in result.objects) == (1 if merged else 0), case


@pytest.mark.parametrize("size, label, events, speck_size, kept", [
    (12.0, "unknown", (), 0.035, False),     # a reflection, a highlight: 1.9% of 640 px
    (21.0, "unknown", (), 0.035, False),     # 3.3%: still a speck
    (26.0, "unknown", (), 0.035, True),      # 4.1%: an object
    (12.0, "unknown", (Event(1.0, 0.8, "impact"),), 0.035, True),   # a far ball, heard
    (12.0, "person", (), 0.035, True),       # recognized: never dropped
    (12.0, "unknown", (), 0.0, True),        # the rule off
])
def test_a_silent_unrecognized_speck_is_dropped(size: float, label: str,
                                                events: tuple[Event, ...], speck_size: float,
                                                kept: bool) -> None:
    """An unrecognized track smaller than `speck_size` of the picture's longer side with no
    contact event is dropped with the clutter; it travels across the picture (no in-place
    clutter) beside a walking person, who stays."""
    person = _walker(90, y=200.0, label="person", track_id=1)
    xs = np.linspace(500.0, 300.0, 90)
    speck = _track(np.stack([xs, np.full(90, 80.0)], axis=1), size, label=label, track_id=2,
                   events=events)
    result = sort_clutter([person, speck], frame_size=SIZE, fps=FPS,
                          config=ClutterConfig(speck_size=speck_size))
    assert [t.id for t in result.objects] == ([1, 2] if kept else [1])
    assert result.dropped == (0 if kept else 1) and result.merged == 0


@pytest.mark.parametrize("filtered, enabled, left", [
    (True, True, [1, 3]),        # the faint-impact speck goes once its impact is gone
    (False, True, [1, 2, 3]),    # recognition was off: the filter never ran, nor does this
    (True, False, [1, 2, 3]),    # the filter off
])
def test_specks_are_judged_again_on_the_final_events(filtered: bool, enabled: bool,
                                                     left: list[int]) -> None:
    """`drop_specks` runs after the learned event detector: a speck that the motion rules gave
    a faint impact (so the analysis kept it) and the detector did not is dropped, counted in
    "dropped_clutter", and the objects are renumbered; a speck with an event stays."""
    person = _walker(90, y=200.0, label="person", track_id=1)
    path = np.stack([np.linspace(500.0, 300.0, 90), np.full(90, 80.0)], axis=1)
    silent = _track(path, 12.0, track_id=2)
    heard = _track(path + [0.0, 150.0], 12.0, track_id=3,
                   events=(Event(1.5, 0.7, "impact"),))
    info = VideoInfo(path="clip.mp4", width=SIZE[0], height=SIZE[1], fps=Fraction(30),
                     duration=3.0, frames=90)
    extra = {"dropped_clutter": 4} if filtered else {}
    before = Analysis(video=info, objects=(person, silent, heard), extra=extra)
    after = drop_specks(before, config=ClutterConfig(enabled=enabled))
    kept = [t for t in before.objects if t.id in left]
    assert [t.id for t in after.objects] == list(range(1, len(left) + 1))
    assert [t.boxes.tolist() for t in after.objects] == [t.boxes.tolist() for t in kept]
    if filtered:
        assert after.extra["dropped_clutter"] == 4 + 3 - len(left)


def test_flakes_one_after_another_are_no_field() -> None:
    """Twelve small tracks spread over the picture but on screen one or two at a time (passers
    far away, one after another) are not a field of particles."""
    flakes = []
    for k in range(12):
        xs = np.linspace(40 + 45 * k, 60 + 45 * k, 20)
        ys = np.linspace(30 + 25 * k, 60 + 25 * k, 20)
        flakes.append(_track(np.stack([xs, ys], axis=1), 10.0, start=25 * k, track_id=k + 1))
    fields_only = ClutterConfig(speck_size=0.0)     # (as small as they are, they are specks)
    result = sort_clutter(flakes, frame_size=SIZE, fps=FPS, frames=300, config=fields_only)
    assert result.merged == 0 and len(result.objects) == 12
    assert sort_clutter(flakes, frame_size=SIZE, fps=FPS, frames=300).dropped == 12


def test_specks_of_residue_that_stay_put_are_no_particle_field() -> None:
    """Sixteen small specks all over the picture, on screen together, each jittering where it
    is (residue of background texture, as on a generated cloudy clip) make no field of
    particles: particles travel."""
    rng = np.random.default_rng(5)
    specks = [_flapping((float(rng.uniform(30, 610)), float(rng.uniform(30, 330))),
                        float(rng.uniform(6, 14)), 90, start=int(rng.integers(0, 20)), seed=k,
                        track_id=k + 1) for k in range(16)]
    assert particle_field(specks, range(16), frame_size=SIZE, start=0, end=120,
                          config=ClutterConfig()) == []


@pytest.mark.parametrize(("pan_px", "scene_speed", "dropped"), [
    (4.0, 0.0, True),     # a patch of the ground the panning camera carries across the picture
    (4.0, 5.0, False),    # an object walking across the scene under the same pan
    (0.0, 0.0, True),     # a still camera: the patch jitters in place on screen as well
    (-4.0, 4.0, True),    # a camera following a thing that moves (on screen it stays put)
])
def test_in_place_is_judged_on_screen_and_in_the_scene(pan_px: float, scene_speed: float,
                                                       dropped: bool) -> None:
    """A hand-held or panning camera carries residue (a manhole cover on a street, a patch of
    grass) across the picture: on screen it travels, in the scene it stays put, so it is
    clutter. What moves in the scene stays an object, unless it stays put on screen."""
    frames = 90
    rng = np.random.default_rng(4)
    camera = np.stack([pan_px * np.arange(frames), np.zeros(frames)], axis=1)
    scene = np.stack([100.0 + scene_speed * np.arange(frames), np.full(frames, 200.0)], axis=1)
    jitter = rng.uniform(-2.0, 2.0, (frames, 2))
    track = _track(scene + camera + jitter, 30.0 * np.exp(rng.uniform(-0.05, 0.05, frames)))
    result = sort_clutter([track], frame_size=SIZE, fps=FPS, camera=camera)
    assert (len(result.objects) == 0) == dropped, result
    if pan_px and not scene_speed:
        # without the camera's path the patch travels on screen and is kept
        assert len(sort_clutter([track], frame_size=SIZE, fps=FPS).objects) == 1
