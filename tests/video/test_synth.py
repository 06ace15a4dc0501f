"""The synthetic clip generator: deterministic pixels, physically right truth, clean files."""

from __future__ import annotations

import math
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from video.base.errors import InputError
from video.reader import probe_video
from video.synth import (
    MIN_VISIBLE,
    ObjectSpec,
    SceneSpec,
    ball_contacts,
    random_scene,
    render_frame,
    render_frames,
    scene_truth,
    walker_contacts,
    with_tempo,
    write_clip,
)

BALL = ObjectSpec("ball", start=(0.5, 0.2), velocity=(0.1, 0.0), size=0.1, floor=0.9,
                  gravity=3.0, restitution=0.7)


def small(**kw: object) -> SceneSpec:
    base: dict[str, object] = dict(width=96, height=64, fps=Fraction(30000, 1001), duration=1.0,
                                   seed=4, noise=2.0, objects=(BALL,))
    base.update(kw)
    return SceneSpec(**base)  # type: ignore[arg-type]


def test_rendering_is_deterministic_and_random_access_matches() -> None:
    spec = small(pan=(0.05, 0.0))
    a = list(render_frames(spec))
    b = list(render_frames(spec))
    assert len(a) == spec.frame_count == 30
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert np.array_equal(render_frame(spec, 17), a[17])
    assert a[0].shape == (64, 96, 3) and a[0].dtype == np.uint8
    assert not np.array_equal(a[0], list(render_frames(small(seed=5)))[0])


def test_sensor_noise_has_the_requested_level() -> None:
    clean = list(render_frames(small(noise=0.0)))
    noisy = list(render_frames(small(noise=6.0)))
    diff = np.stack(noisy).astype(float) - np.stack(clean).astype(float)
    assert abs(diff.std() - 6.0) < 0.4   # clipping at 0/255 trims a little
    assert abs(diff.mean()) < 0.3


def test_first_ball_contact_matches_free_fall() -> None:
    height = 360
    contacts = ball_contacts(BALL, height, until=10.0)
    drop = (BALL.floor - BALL.size / 2 - BALL.start[1]) * height
    g = BALL.gravity * height
    assert contacts[0][0] == pytest.approx(math.sqrt(2 * drop / g), rel=1e-9)
    v_in = math.sqrt(2 * g * drop)
    assert contacts[0][1] == pytest.approx(v_in * (1 + BALL.restitution), rel=1e-9)
    times = [t for t, _ in contacts]
    gaps = np.diff(times)
    assert np.all(gaps[1:] < gaps[:-1])          # bounces get shorter
    assert contacts[-1][1] < contacts[0][1]        # and weaker


def test_truth_ball_box_touches_the_floor_at_contact_frames() -> None:
    spec = SceneSpec(width=320, height=180, fps=Fraction(30), duration=3.0, objects=(BALL,))
    truth = scene_truth(spec).objects[0]
    floor = BALL.floor * spec.height
    for event in truth.events:
        frame = int(round(event.time * 30))
        assert abs(truth.box_at(frame)[3] - floor) < 0.05 * spec.height  # type: ignore[index]
        assert event.kind == "impact" and 0 < event.strength <= 1
    assert truth.events[0].strength > truth.events[-1].strength


def test_walker_steps_are_periodic_and_at_the_lowest_body_position() -> None:
    walker = ObjectSpec("walker", start=(0.2, 0.0), velocity=(0.2, 0.0), size=0.4,
                        step_period=0.5, bob=0.06)
    spec = SceneSpec(width=320, height=180, fps=Fraction(50), duration=2.0, objects=(walker,))
    truth = scene_truth(spec).objects[0]
    times = [e.time for e in truth.events]
    assert times == pytest.approx(walker_contacts(walker, 2.0))
    assert np.allclose(np.diff(times), 0.5)
    tops = truth.boxes[:, 1]
    for t in times:
        k = int(round(t * 50))
        assert tops[k] >= tops[max(0, k - 6):k + 7].max() - 1e-6   # body lowest at contact


@pytest.mark.parametrize("tempo", [0.5, 0.25])
def test_slow_motion_stretches_every_motion_by_one_over_tempo(tempo: float) -> None:
    """The same physics at `tempo`: ball contacts and walker steps happen 1/tempo times later
    (counted from entry), with the same heights; tempo 1 is the scene itself."""
    walker = ObjectSpec("walker", start=(0.2, 0.0), velocity=(0.2, 0.0), size=0.4,
                        step_period=0.5, t_enter=0.3)
    spec = SceneSpec(width=320, height=180, fps=Fraction(30), duration=12.0,
                     pan=(0.02, 0.0), objects=(replace(BALL, t_enter=0.2), walker))
    slow = with_tempo(spec, tempo)
    assert with_tempo(spec, 1.0) == spec and slow.pan == pytest.approx((0.02 * tempo, 0.0))
    ball, slow_ball = spec.objects[0], slow.objects[0]
    fast_t = [t - 0.2 for t, _ in ball_contacts(ball, 180, until=12.0)]
    slow_t = [t - 0.2 for t, _ in ball_contacts(slow_ball, 180, until=12.0)]
    n = len(slow_t)
    assert n >= 2
    assert np.allclose(slow_t, np.array(fast_t[:n]) / tempo, rtol=1e-9)
    steps = [t - 0.3 for t in walker_contacts(slow.objects[1], 12.0)]
    assert np.allclose(np.diff(steps), 0.5 / tempo)
    truth_fast, truth_slow = scene_truth(spec).objects[0], scene_truth(slow).objects[0]
    # the same highest and lowest points: only time is stretched
    assert truth_slow.boxes[:, 3].max() == pytest.approx(truth_fast.boxes[:, 3].max(), abs=1.0)
    with pytest.raises(ValueError, match="tempo"):
        with_tempo(spec, 0.0)
    with pytest.raises(ValueError, match="tempo"):
        with_tempo(spec, 1.5)


def test_truth_starts_when_enough_of_an_entering_object_is_visible() -> None:
    box = ObjectSpec("box", start=(-0.1, 0.5), velocity=(0.5, 0.0), size=0.2, aspect=1.0)
    spec = SceneSpec(width=200, height=100, fps=Fraction(25), duration=2.0, objects=(box,))
    truth = scene_truth(spec).objects[0]
    first = truth.boxes[0]
    full = box.size * spec.height
    assert first[0] == 0.0
    assert (first[2] - first[0]) >= MIN_VISIBLE * full - 1e-6
    assert (first[2] - first[0]) < MIN_VISIBLE * full + 0.5 * spec.height / 25 + 1e-6


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5])
def test_random_scenes_are_reproducible_and_valid(seed: int) -> None:
    a = random_scene(seed, width=160, height=90, duration=1.0)
    assert a == random_scene(seed, width=160, height=90, duration=1.0)
    assert 1 <= len(a.objects) <= 4
    truth = scene_truth(a)
    for track in truth.objects:
        assert np.all(track.boxes[:, 0] >= 0) and np.all(track.boxes[:, 2] <= 160)
        assert np.all(track.boxes[:, 1] >= 0) and np.all(track.boxes[:, 3] <= 90)


@pytest.mark.parametrize("make", [
    lambda: ObjectSpec("spaceship"),
    lambda: ObjectSpec("ball", size=0.0),
    lambda: ObjectSpec("box", t_enter=2.0, t_exit=1.0),
    lambda: ObjectSpec("ball", restitution=1.0),
    lambda: SceneSpec(background="plaid"),
    lambda: SceneSpec(fps=Fraction(0)),
    lambda: SceneSpec(width=8),
    lambda: SceneSpec(noise=-1.0),
    lambda: SceneSpec(duration=0.0),
])
def test_bad_specs_are_rejected(make: object) -> None:
    with pytest.raises(ValueError):
        make()  # type: ignore[operator]


def test_write_clip_encodes_every_frame_and_returns_truth(tmp_path: Path) -> None:
    spec = small(width=96, height=64, duration=0.5)
    path = tmp_path / "clip.mp4"
    truth = write_clip(spec, path)
    info = probe_video(path)
    assert (info.width, info.height, info.frames) == (96, 64, spec.frame_count)
    assert info.fps == Fraction(30000, 1001)
    assert truth.video.path == str(path) and truth.video.frames == spec.frame_count
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]


def test_write_clip_refuses_odd_sizes_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="even"):
        write_clip(small(width=95), tmp_path / "odd.mp4")
    assert list(tmp_path.iterdir()) == []


def test_parade_scene_walkers_cross_one_after_another_without_meeting() -> None:
    """120 walkers in 10 minutes, 8 s each: their entries spread evenly, two at a time at
    most, all the same way at one speed (so never meeting), each tracked in the truth."""
    from video.synth import parade_scene

    spec = parade_scene(600.0, 120, crossing=8.0)
    assert len(spec.objects) == 120
    enters = np.array([o.t_enter for o in spec.objects])
    assert enters[0] == 0.0 and enters[-1] == pytest.approx(592.0)
    assert np.allclose(np.diff(enters), 592.0 / 119)
    assert {o.velocity for o in spec.objects} == {spec.objects[0].velocity}
    assert len({o.color for o in spec.objects}) == 120
    on_screen = [(o.t_enter, o.t_exit or spec.duration) for o in spec.objects]
    for t in np.arange(0.0, 600.0, 0.5):
        assert sum(a <= t < b for a, b in on_screen) <= 2
    truth = scene_truth(replace(spec, duration=60.0, objects=spec.objects[:12]))
    assert len(truth.objects) == 12 and all(len(o.events) >= 5 for o in truth.objects)


def test_long_frames_keep_a_pacing_walker_in_the_frame() -> None:
    """One walker for the whole clip, turning every PACE_TURN_S seconds: drawn on every
    frame, its box moving right then back left; frames are cheap (no fresh noise per frame)."""
    from video.synth import PACE_TURN_S, long_frames, parade_scene

    spec = replace(parade_scene(3600.0, 1, crossing=0.0), duration=50.0, fps=Fraction(2))
    frames = list(long_frames(spec, turn=PACE_TURN_S))
    assert len(frames) == 100 and frames[0].shape == (360, 640, 3)
    background = long_frames(replace(spec, objects=()))
    empty = next(background)
    centres = []
    for image in frames:
        moved = np.abs(image.astype(np.int16) - empty.astype(np.int16)).max(axis=2) > 30
        cols = np.flatnonzero(moved.any(axis=0))
        assert cols.size, "the walker is on every frame"
        centres.append(cols.mean())
    c = np.array(centres)
    turn = int(PACE_TURN_S * 2)
    assert c[turn] - c[0] > 300 and c[2 * turn] - c[turn] < -300    # there and back
