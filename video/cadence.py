"""Footsteps at the walking cadence where the picture shows none.

Steps come from the body (video.footsteps: the pose's heel strikes) or from the box's bob
(video.events.detect_steps). Both can see nothing for long stretches of a walk: a far person
20 px tall, one half hidden behind others, a box that slid off the legs. Left so, the person
walks in silence, which a sound designer would never leave in a foley pass: they lay steps at
the walker's pace. `fill_walking_gaps` does that, only where the person's box walks (its centre
moves at least `min_speed` box heights a second, measured over a second) for `min_walk` seconds
or more, getting somewhere (at least `min_travel` box heights from where the stretch began: hands
moving a cup about on a table, also a "person", move as fast but go nowhere), and the found
steps leave a gap of more than `gap_periods` step periods. The period is
the person's own (the median interval of its found steps, where they step at a walking cadence)
or, without enough of them, one from its speed. Filled steps are marked (`Event.filled`), carry
no foot (nothing showed which one landed) and are panned at the box's centre.

Pure functions: arrays in, events out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from video.base.runs import index_runs
from video.base.tracks import Event

# people walk at 1.2-2.6 steps a second (issue 10's range); a period outside it is not a walk's
MIN_RATE, MAX_RATE = 1.2, 2.6


@dataclass(frozen=True)
class CadenceConfig:
    """Options of the fill. min_speed: walking means the box's centre moves at least this many
    box heights a second (over a second). min_walk: shorter walking stretches get no fill.
    min_travel: nor do stretches whose end is fewer box heights from their start than this.
    gap_periods: a gap between found steps (or a stretch's end and its nearest step) is filled
    when longer than this many periods. min_own: found steps needed to take the person's own
    period. strength: of a filled step, relative to the median of the found ones (0.5 without
    any)."""

    enabled: bool = True
    min_speed: float = 0.2
    min_walk: float = 1.0
    min_travel: float = 1.0
    gap_periods: float = 2.5
    min_own: int = 4
    strength: float = 0.8

    def __post_init__(self) -> None:
        for name in ("min_speed", "min_walk", "min_travel", "gap_periods", "strength"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.min_own < 2:
            raise ValueError(f"min_own must be at least 2, got {self.min_own}")


def _centres_and_height(boxes: np.ndarray) -> tuple[np.ndarray, float]:
    """Box centres (n, 2) and the median box height (at least 1 px): the walk's path and the
    unit its speed and travel are measured in."""
    return (boxes[:, :2] + boxes[:, 2:]) / 2, max(float(np.median(boxes[:, 3] - boxes[:, 1])), 1.0)


def walking_mask(boxes: np.ndarray, fps: float, *, min_speed: float = 0.2) -> np.ndarray:
    """Per frame of dense `boxes` (n, 4; one per frame): True where the box's centre moves at
    least `min_speed` box heights a second, measured over the second around the frame."""
    n = len(boxes)
    mask = np.zeros(n, bool)
    w = max(1, round(fps))
    if n <= w:
        return mask
    centre, height = _centres_and_height(boxes)
    speed = np.linalg.norm(centre[w:] - centre[:-w], axis=1) / (w / fps) / height
    mask[w // 2:w // 2 + len(speed)] = speed >= min_speed
    return mask


def stretches(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) indices of each run of True in `mask`."""
    return [(a, b - 1) for a, b in index_runs(np.flatnonzero(mask))]


def in_walking_range(period: np.ndarray | float) -> np.ndarray | bool:
    """Whether a step period (seconds; or each of an array of them) is a walking one: between
    1 / MAX_RATE and 1 / MIN_RATE."""
    return (np.asarray(period) >= 1.0 / MAX_RATE) & (np.asarray(period) <= 1.0 / MIN_RATE)


def walking_period(step_times: Sequence[float], speed_heights: float) -> float:
    """Seconds between steps: the median interval of `step_times` that fall in the walking
    range, when there are at least two such intervals; else from the walking speed
    (`speed_heights`, box heights a second): 1 step a second plus 1.25 per height a second,
    within 1.4-2.3 (a stroll to a brisk walk; 0.8 heights a second, a usual 1.4 m/s, gives 2)."""
    times = np.sort(np.asarray(step_times, dtype=np.float64))
    gaps = np.diff(times)
    walking = gaps[in_walking_range(gaps)]
    if len(walking) >= 2:
        return float(np.median(walking))
    return 1.0 / float(np.clip(1.0 + 1.25 * speed_heights, 1.4, 2.3))


def _gap_times(start: float, end: float, period: float, *, before: bool, after: bool,
               gap_periods: float) -> list[float]:
    """Step times to put between `start` and `end`: `before` / `after` say whether a found step
    is at that end (the fill keeps its rhythm) or the walk's edge is (steps start half a period
    in)."""
    span = end - start
    if before and after:
        if span <= gap_periods * period:
            return []
        count = max(1, round(span / period) - 1)
        return [start + span * (k + 1) / (count + 1) for k in range(count)]
    if before or after:
        if span <= gap_periods * period:
            return []
        count = int(np.floor(span / period))
        if after:   # counting back from the found step at `end`
            return [end - period * (k + 1) for k in range(count)][::-1]
        return [start + period * (k + 1) for k in range(count)]
    count = int(np.floor((span - 0.5 * period) / period)) + 1 if span >= 0.5 * period else 0
    return [start + 0.5 * period + period * k for k in range(count)]


def walks(times: np.ndarray, boxes: np.ndarray, fps: float, *,
          config: CadenceConfig = CadenceConfig()) -> list[tuple[int, int]]:
    """(first, last) indices of the walks in dense `boxes` (one per frame, at `times` seconds):
    stretches where the box's centre moves at least `min_speed` box heights a second, lasting
    `min_walk` seconds or more and ending `min_travel` box heights or more from their start."""
    if len(boxes) < 2:
        return []
    centre, height = _centres_and_height(boxes)
    return [(first, last) for first, last in stretches(walking_mask(boxes, fps,
                                                                    min_speed=config.min_speed))
            if float(times[last] - times[first]) >= config.min_walk
            and float(np.linalg.norm(centre[last] - centre[first])) / height >= config.min_travel]


def fill_walking_gaps(steps: Sequence[Event], times: np.ndarray, boxes: np.ndarray, fps: float,
                      *, config: CadenceConfig = CadenceConfig()) -> tuple[Event, ...]:
    """The steps to add to a person's found `steps` (any order) so that every walking stretch
    of its dense `boxes` (one per frame, at `times` seconds) has steps at the walking cadence;
    empty when the found ones already cover the walk."""
    if not config.enabled or len(boxes) < 2:
        return ()
    found = sorted(e.time for e in steps)
    strengths = [e.strength for e in steps]
    strength = float(np.clip(config.strength * np.median(strengths), 0.05, 1.0)) \
        if strengths else 0.5
    centre, height = _centres_and_height(boxes)
    added: list[Event] = []
    for first, last in walks(times, boxes, fps, config=config):
        t0, t1 = float(times[first]), float(times[last])
        travel = float(np.linalg.norm(centre[last] - centre[first])) / height
        speed = travel / (max(last - first, 1) / fps)
        own = found if len(found) >= config.min_own else []
        period = walking_period(own, speed)
        inside = [t for t in found if t0 <= t <= t1]
        anchors = [(t0, False), *((t, True) for t in inside), (t1, False)]
        for (a, at_a), (b, at_b) in zip(anchors, anchors[1:], strict=False):
            for t in _gap_times(a, b, period, before=at_a, after=at_b,
                                gap_periods=config.gap_periods):
                if t0 <= t <= t1:
                    x = float(np.interp(t, times, centre[:, 0]))
                    added.append(Event(time=t, strength=strength, kind="step", x=x,
                                       filled=True))
    return tuple(added)
