"""Steps laid at the walking cadence where the found ones leave a walk silent (video.cadence)."""

from __future__ import annotations

import numpy as np
import pytest

from video.base.fields import FieldError
from video.base.tracks import Event
from video.cadence import (
    CadenceConfig,
    fill_walking_gaps,
    stretches,
    walking_mask,
    walking_period,
)

FPS = 25.0


def _walk(seconds: float, *, speed: float, still_before: float = 0.0,
          height: float = 100.0) -> tuple[np.ndarray, np.ndarray]:
    """(times, boxes) of a box `height` px tall that stands `still_before` s, then moves right
    at `speed` box heights a second for `seconds`."""
    n = round((still_before + seconds) * FPS)
    times = np.arange(n) / FPS
    x = np.where(times < still_before, 0.0, (times - still_before) * speed * height) + 50.0
    boxes = np.stack([x, np.full(n, 100.0), x + 0.4 * height, np.full(n, 100.0 + height)], 1)
    return times, boxes


def _steps(times: list[float]) -> list[Event]:
    return [Event(time=t, strength=0.6, kind="step", foot=("left", "right")[k % 2], x=10.0)
            for k, t in enumerate(times)]


@pytest.mark.parametrize("mask, runs", [
    ([0, 1, 1, 0, 1], [(1, 2), (4, 4)]),
    ([1, 1, 1], [(0, 2)]),
    ([0, 0], []),
    ([], []),
])
def test_stretches_are_the_runs_of_true(mask: list[int], runs: list[tuple[int, int]]) -> None:
    assert stretches(np.asarray(mask, bool)) == runs


def test_walking_mask_is_true_where_the_box_walks() -> None:
    times, boxes = _walk(4.0, speed=0.5, still_before=3.0)
    mask = walking_mask(boxes, FPS, min_speed=0.2)
    assert not mask[: round(2.4 * FPS)].any()          # standing (the window is 1 s wide)
    assert mask[round(3.6 * FPS): round(6.4 * FPS)].all()


@pytest.mark.parametrize("steps, speed, period", [
    ([0.0, 0.5, 1.0, 1.5, 2.0], 0.3, 0.5),               # its own rhythm
    ([0.0, 0.45, 5.0], 0.8, 0.5),                        # one walking interval: from speed, 2/s
    ([], 0.05, 1 / 1.4),                                 # slow: the stroll's end of the range
    ([], 5.0, 1 / 2.3),                                  # fast: the brisk walk's end
    ([0.0, 2.0, 4.0, 6.0], 0.8, 0.5),                    # 0.5 steps/s is no walk: from speed
])
def test_walking_period(steps: list[float], speed: float, period: float) -> None:
    assert walking_period(steps, speed) == pytest.approx(period, abs=1e-9)


def test_a_walk_with_no_steps_found_gets_steps_at_the_cadence_of_its_speed() -> None:
    times, boxes = _walk(8.0, speed=0.8, still_before=2.0)
    added = fill_walking_gaps([], times, boxes, FPS)
    t = np.array([e.time for e in added])
    assert 12 <= len(added) <= 17                         # 2 steps/s over the ~7 s it walks
    assert np.allclose(np.diff(t), 0.5, atol=0.01)    # the stretch's speed, edges included
    assert t[0] >= 1.5                                   # not while it stands
    assert all(e.filled and e.foot is None and e.kind == "step" for e in added)
    for e in added:                                      # panned at the box's centre
        centre = float(np.interp(e.time, times, (boxes[:, 0] + boxes[:, 2]) / 2))
        assert e.x == pytest.approx(centre, abs=0.01)


def test_a_hole_in_the_found_steps_is_filled_in_their_rhythm() -> None:
    times, boxes = _walk(10.0, speed=0.6)
    found = [*np.arange(0.6, 3.01, 0.55), *np.arange(6.45, 9.5, 0.55)]
    added = fill_walking_gaps(_steps(found), times, boxes, FPS)
    every = np.sort([*found, *(e.time for e in added)])
    assert 5 <= len(added) <= 7
    assert all(3.0 < e.time < 6.45 for e in added)
    assert np.diff(every).min() > 0.45 and np.diff(every).max() < 0.65
    assert all(e.strength == pytest.approx(0.8 * 0.6, abs=0.01) for e in added)


@pytest.mark.parametrize("case", ["covered", "standing", "short walk", "off", "goes nowhere"])
def test_nothing_is_filled_where_nothing_is_missing(case: str) -> None:
    config = CadenceConfig(enabled=case != "off", min_walk=2.0 if case == "short walk" else 1.0)
    if case == "standing":
        times, boxes = _walk(0.0, speed=0.0, still_before=6.0)
    elif case == "short walk":
        times, boxes = _walk(1.2, speed=0.8, still_before=2.0)   # walks < min_walk
    elif case == "goes nowhere":   # hands moving a cup about: as fast as a walk, back and forth
        times, boxes = _walk(6.0, speed=0.8)
        swing = 0.4 * 100.0 * np.sin(2 * np.pi * times / 4.0)
        boxes = np.stack([50 + swing, boxes[:, 1], 90 + swing, boxes[:, 3]], 1)
    else:
        times, boxes = _walk(6.0, speed=0.8)
    found = list(np.arange(0.3, 6.0, 0.5)) if case == "covered" else []
    assert fill_walking_gaps(_steps(found), times, boxes, FPS, config=config) == ()


@pytest.mark.parametrize("field, value", [
    ("min_speed", 0.0), ("min_walk", -1.0), ("min_travel", 0.0), ("gap_periods", 0.0),
    ("strength", 0.0),
    ("min_own", 1),
])
def test_config_rejects_bad_values(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        CadenceConfig(**{field: value})  # type: ignore[arg-type]


def test_a_filled_step_says_so_in_the_file_and_reads_back() -> None:
    step = Event(time=1.5, strength=0.4, kind="step", x=12.0, filled=True)
    data = step.to_dict()
    assert data["filled"] is True and "foot" not in data
    assert Event.from_dict(data) == step
    assert "filled" not in Event(time=1.0, strength=0.5).to_dict()
    with pytest.raises(FieldError, match="filled"):
        Event.from_dict({"time": 1.0, "strength": 0.5, "filled": "yes"})
