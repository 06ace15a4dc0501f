"""Floor bounces from a path in free flight: found at their times, and nowhere else."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from video.base.tracks import Event, Track, VideoInfo
from video.bounces import BounceConfig, floor_bounces, missing_bounces

W, H, SIDE = 640, 360, 30.0
FLOOR = 320.0            # the ball centre's height when it touches the floor (px, y down)
GRAVITY = 900.0          # px / s^2


def _info(fps: float, seconds: float) -> VideoInfo:
    return VideoInfo(path="ball.mp4", width=W, height=H, fps=Fraction(fps).limit_denominator(1001),
                     duration=seconds, frames=int(seconds * fps))


def bouncing_path(fps: float, seconds: float, *, restitution: float = 0.75, squash: float = 0.0,
                  drop: float = 200.0) -> tuple[np.ndarray, list[float]]:
    """Centre heights (one per frame) of a ball dropped from `drop` px above the floor, and the
    times it touches it. `squash`: seconds it stays on the floor at each contact."""
    t = float(np.sqrt(2 * drop / GRAVITY))
    contacts, speed = [], GRAVITY * t
    while t < seconds and speed > 0.1 * GRAVITY:   # slower than that, it settles on the floor
        contacts.append(t)
        speed *= restitution
        t += squash + 2 * speed / GRAVITY
    times = np.arange(int(seconds * fps)) / fps
    y = np.empty(len(times))
    for i, now in enumerate(times):
        past = [c for c in contacts if c <= now]
        if not past:
            y[i] = FLOOR - drop + GRAVITY * now**2 / 2
            continue
        start = past[-1] + squash
        if now < start:
            y[i] = FLOOR
            continue
        v0 = np.sqrt(2 * GRAVITY * drop) * restitution**len(past)
        s = now - start
        y[i] = min(FLOOR, FLOOR - (v0 * s - GRAVITY * s**2 / 2))
    return y, contacts


def _track(y: np.ndarray, *, x_speed: float = 2.0, rng: np.random.Generator | None = None,
           jitter: float = 0.0, measured: np.ndarray | None = None) -> Track:
    n = len(y)
    x = 100.0 + x_speed * np.arange(n)
    boxes = np.stack([x - SIDE / 2, y - SIDE / 2, x + SIDE / 2, y + SIDE / 2], axis=1)
    if rng is not None:
        boxes = boxes + rng.uniform(-jitter, jitter, boxes.shape)
    extra = {} if measured is None else {"measured": [bool(m) for m in measured]}
    return Track(id=1, label="unknown", frames=np.arange(n), boxes=boxes, extra=extra)


@pytest.mark.parametrize("fps, squash", [(30.0, 0.0), (25.0, 0.0), (25.0, 0.08), (12.0, 0.0),
                                         (60.0, 0.05)])
def test_bounces_are_found_at_their_times(fps: float, squash: float,
                                          rng: np.random.Generator) -> None:
    """Every contact of a bouncing ball (tracker jitter of 1 px; a squash that holds it on the
    floor for two frames) is found within half a frame, and nothing else is."""
    y, contacts = bouncing_path(fps, 4.0, squash=squash)
    found = floor_bounces(_track(y, rng=rng, jitter=1.0), _info(fps, 4.0))
    times = np.array([e.time for e in found])
    sure = [c for c in contacts if c < 4.0 - 0.35]   # later ones may be the ball coming to rest
    assert len(sure) >= 4
    tolerance = (0.5 if squash == 0 else 1.0) / fps
    errors = np.array([np.min(np.abs(times - c)) for c in sure])
    assert np.all(errors <= tolerance), (times, contacts)
    assert all(np.min(np.abs(np.array(contacts) - t)) <= tolerance for t in times)
    assert all(e.kind == "impact" and 0 < e.strength <= 1 for e in found)
    # harder hits are louder
    assert found[0].strength > found[-1].strength


def test_a_throw_with_no_floor_has_no_bounce(rng: np.random.Generator) -> None:
    """Thrown up and falling out of the picture: the top of the arc turns over, it is no bounce."""
    t = np.arange(60) / 30.0
    y = 300.0 - 500.0 * t + GRAVITY * t**2 / 2
    assert floor_bounces(_track(y, rng=rng, jitter=1.0), _info(30.0, 2.0)) == ()


def test_a_ball_shaken_in_a_hand_has_no_bounce(rng: np.random.Generator) -> None:
    """Up and down in a hand: it turns at the bottom, but nothing keeps pulling it down, so it
    is not in free flight."""
    t = np.arange(120) / 30.0
    y = 200.0 + 60.0 * np.sin(2 * np.pi * 1.5 * t)
    assert floor_bounces(_track(y, rng=rng, jitter=1.0), _info(30.0, 4.0)) == ()


def test_jitter_at_rest_on_the_floor_is_no_bounce(rng: np.random.Generator) -> None:
    """After its last bounce the ball lies on the floor: the box's jitter turns back and forth
    at the lowest height, but never rises away from it."""
    y, contacts = bouncing_path(30.0, 2.0, restitution=0.5)
    rest = np.full(60, FLOOR)
    found = floor_bounces(_track(np.concatenate([y, rest]), rng=rng, jitter=1.5),
                          _info(30.0, 4.0))
    assert len(contacts) >= 2
    assert len(found) <= len(contacts)
    assert all(np.min(np.abs(np.array(contacts) - e.time)) <= 1 / 30 for e in found)
    assert len(found) >= 2


def test_a_contact_the_tracker_only_guessed_is_left_alone() -> None:
    """Where the tracker coasted through the contact (the ball hidden), its guessed path says
    nothing about when the ball hit."""
    y, contacts = bouncing_path(30.0, 4.0)
    measured = np.ones(len(y), bool)
    hidden = round(contacts[1] * 30)
    measured[hidden - 3:hidden + 4] = False
    found = np.array([e.time for e in floor_bounces(_track(y, measured=measured),
                                                    _info(30.0, 4.0))])
    assert np.all(np.abs(found - contacts[1]) > 0.2)
    others = [c for c in contacts if c < 4.0 - 0.35 and c != contacts[1]]
    assert all(np.min(np.abs(found - c)) <= 0.5 / 30 for c in others)


def test_missing_bounces_keeps_only_those_far_from_an_impact() -> None:
    found = [Event(1.0, 0.5, "impact"), Event(2.0, 0.5, "scrape")]
    bounces = [Event(1.05, 0.4, "impact"), Event(2.0, 0.4, "impact"), Event(3.0, 0.4, "impact")]
    assert [e.time for e in missing_bounces(found, bounces, min_gap_s=0.12)] == [2.0, 3.0]
    assert missing_bounces([], bounces, min_gap_s=0.12) == bounces


@pytest.mark.parametrize("options", [{"window_s": 0.0}, {"min_speed": -1.0},
                                     {"restitution": 1.5}, {"min_pull": 0.0},
                                     {"min_down": 1.5},
                                     {"lasting": -1.0}, {"min_gap_s": -0.1},
                                     ])
def test_bad_config_is_refused(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        BounceConfig(**options)


def test_switched_off_it_finds_nothing() -> None:
    y, _ = bouncing_path(30.0, 4.0)
    assert floor_bounces(_track(y), _info(30.0, 4.0)) != ()
    assert floor_bounces(_track(y), _info(30.0, 4.0), config=BounceConfig(enabled=False)) == ()
