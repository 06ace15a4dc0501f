"""Floor bounces of a thing in free flight, from its path alone: where it comes down and goes up.

A ball in flight accelerates downwards all the time, so its height has no lowest point in the
air: the path turns over at the top (the apex: rising, then falling) but never at the bottom.
Where a thing that is pulled down arrives moving down at speed, reaches its lowest point and
leaves moving up, it hit something. The learned detector (model.detector.learned_events) misses
some of these on real footage (a ball that squashes on the floor for two frames, a tracker box
that grows at the contact) where the path around the contact still shows the turn; so after
it, the bounces this rule finds where the detector put no impact are added
(model.detector.event_detection).

The rule, on the centre's height (y down, in the upright picture: the caller turns a sideways
clip first):
- a lowest point: the largest y over `window_s` each side; the frames within `CONTACT_BAND` box
  sizes of it are the contact (a squash, a growing box), all of them measured, none coasted;
- it arrives at `min_speed` box sizes a second or more and leaves upwards at `restitution` of
  that speed or more (straight lines fitted over a window each side of the contact);
- it gets away from the floor: `lasting` box sizes higher somewhere within 3 windows before and
  after, and not back at the floor within a window (a box jittering at rest turns back at once);
- it is pulled down: the whole track's acceleration keeps pointing down (video.gravity: noisy
  real paths show it only on average), or the arcs on both sides of the contact each accelerate
  downwards by `min_pull` box sizes a second squared or more (a short track, or one that comes
  to rest: parabolas fitted from the contact to the top of each arc). A hand shaking a ball up
  and down turns it at the bottom too, but there the pull is upwards.

Its time is where the two lines cross (where the falling line reaches the floor when the thing
stays down a frame or more), below a frame; its strength is that of video.events' impacts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from video.base.tracks import Event, Track, VideoInfo
from video.events import IMPACT_STRENGTH_REF, dense_boxes, event_time, line_crossing
from video.gravity import track_gravity

# box sizes below the lowest height that still count as touching (a squash, a growing box)
CONTACT_BAND = 0.1


@dataclass(frozen=True)
class BounceConfig:
    """Thresholds of the floor-bounce rule.

    enabled: look for bounces at all. window_s: seconds each side of a lowest point that the
    speeds are fitted over (at least 3 frames). min_speed: box sizes a second the thing must
    arrive at. restitution: the leaving speed as a share of the arriving one, at least.
    lasting: box sizes the thing rises above the contact within 3 windows before and after it.
    min_gap_s: a bounce this close to an impact already found is that impact. min_pull: box
    sizes a second squared each arc beside the contact must accelerate downwards, where the
    track as a whole shows no pull. min_down: the whole track's kept acceleration direction
    (video.gravity) is a pull down when its y component is at least this (0.87: within 30
    degrees).
    """

    enabled: bool = True
    window_s: float = 0.1
    min_speed: float = 1.5
    restitution: float = 0.2
    lasting: float = 0.3
    min_gap_s: float = 0.12
    min_pull: float = 5.0
    min_down: float = 0.87

    def __post_init__(self) -> None:
        if not (self.window_s > 0 and self.min_speed > 0 and self.min_pull > 0
                and self.lasting >= 0 and self.min_gap_s >= 0):
            raise ValueError("window_s, min_speed and min_pull must be positive, lasting and "
                             "min_gap_s >= 0")
        if not (0.0 <= self.restitution <= 1.0 and 0.0 <= self.min_down <= 1.0):
            raise ValueError("restitution and min_down must be in 0..1")


def _slope(values: np.ndarray) -> float:
    """Least-squares slope of `values` against 0, 1, 2 ..."""
    x = np.arange(len(values), dtype=np.float64)
    x -= x.mean()
    return float(x @ (values - values.mean()) / (x @ x))


def floor_bounces(track: Track, info: VideoInfo, *,
                  config: BounceConfig = BounceConfig()) -> tuple[Event, ...]:
    """The bounces on `track`'s path (see the module docstring). Boxes and `info` as in the
    upright picture."""
    fps = float(info.fps)
    w = max(3, round(config.window_s * fps))
    if not config.enabled or len(track) < 6 * w + 1:
        return ()
    frames, boxes, measured = dense_boxes(track)
    y = (boxes[:, 1] + boxes[:, 3]) / 2.0
    size = max(float(np.median(np.maximum(boxes[:, 2] - boxes[:, 0],
                                          boxes[:, 3] - boxes[:, 1]))), 1.0)
    # the whole track keeps being pulled down (noisy real paths show it only on average)
    evidence = track_gravity(track, info)
    flying = evidence is not None and evidence.direction[1] >= config.min_down
    events = []
    for k in range(w, len(y) - w):
        contact = _contact(y, k, w, measured, size=size, config=config)
        if contact is None:
            continue
        first, last = contact
        before, after = _slope(y[first - w:first + 1]), _slope(y[last:last + w + 1])
        if before * fps / size < config.min_speed or -after < config.restitution * before:
            continue
        if flying or _pulled_down(y, first, last, 2 * w, pull=config.min_pull * size / fps**2):
            events.append(_bounce_event(y, first, last, w, before, after, frames=frames,
                                        info=info))
    return tuple(events)


def _pulled_down(y: np.ndarray, first: int, last: int, reach: int, *, pull: float) -> bool:
    """Whether the path accelerates downwards (y'' >= `pull` px / frame^2) both on its way
    down to the contact and on its way up from it, each fitted with a parabola over up to
    `reach` frames, from the top of the arc at most (never across the arc before or after)."""
    # the contact's own frames are left out: a frame may be sampled just after the touch
    lo = max(0, first - reach)
    lo = min(lo + int(np.argmin(y[lo:first])), first - 3)
    hi = min(len(y) - 1, last + reach)
    hi = max(last + 1 + int(np.argmin(y[last + 1:hi + 1])), last + 3)
    if lo < 0 or hi >= len(y):
        return False
    return _curvature(y[lo:first]) >= pull and _curvature(y[last + 1:hi + 1]) >= pull


def _curvature(values: np.ndarray) -> float:
    """Second derivative (per sample squared) of the parabola fitted to `values`."""
    return 2.0 * float(np.polyfit(np.arange(len(values), dtype=np.float64), values, 2)[0])


def _contact(y: np.ndarray, k: int, w: int, measured: np.ndarray, *, size: float,
             config: BounceConfig) -> tuple[int, int] | None:
    """The first and last frame index of the contact whose lowest point is frame index k, or
    None where the path does not bottom out there and stay away from it before and after.

    A ball that squashes, or a tracker box that grows as it lands, holds the lowest height for
    a frame or two: those frames (within `CONTACT_BAND` box sizes of the lowest) are the contact,
    and the speeds are measured on the free path either side of it."""
    window = y[k - w:k + w + 1]
    # the lowest point (largest y), its first frame where it lasts two; seen, not coasted
    if y[k] < window.max() or y[k - 1] == y[k] or not measured[k - w:k + w + 1].all():
        return None
    band = y[k] - CONTACT_BAND * size
    first, last = k, k
    while first > k - w and y[first - 1] >= band:
        first -= 1
    while last < k + w and y[last + 1] >= band:
        last += 1
    far, rise = 3 * w, config.lasting * size
    if first < w or last + w >= len(y) or not measured[first - w:last + w + 1].all():
        return None
    away = y[max(0, first - far):first].min() < y[k] - rise and \
        y[last + 1:last + far + 1].min() < y[k] - rise
    return (first, last) if away and bool((y[last + 1:last + w + 1] < y[k]).all()) else None


def _bounce_event(y: np.ndarray, first: int, last: int, w: int, before: float, after: float, *,
                  frames: np.ndarray, info: VideoInfo) -> Event:
    """The bounce where the line fitted up to the contact meets the one fitted from its end or,
    where it stays down a frame or more, where the first line reaches the floor."""
    # each fitted line passes through its window's mean point
    falling = (first - w / 2.0, float(y[first - w:first + 1].mean()))
    rising = (last + w / 2.0, float(y[last:last + w + 1].mean()))
    if last > first:   # it stays down: the touch is where the falling path reaches the floor
        pos = falling[0] + (float(y[first:last + 1].max()) - falling[1]) / before
        pos = min(max(pos, first - 1.0), last + 1.0)
    else:
        pos = line_crossing(falling, before, rising, after, first - 1.0, last + 1.0)
    strength = (before - after) * float(info.fps) / (IMPACT_STRENGTH_REF * info.height)
    return Event(time=event_time(info, float(frames[0]) + pos), strength=min(1.0, strength),
                 kind="impact")


def missing_bounces(found: Sequence[Event], bounces: Sequence[Event], *,
                    min_gap_s: float) -> list[Event]:
    """The bounces with no impact of `found` within `min_gap_s` seconds."""
    impacts = np.array([e.time for e in found if e.kind == "impact"], dtype=np.float64)
    return [b for b in bounces
            if not len(impacts) or float(np.min(np.abs(impacts - b.time))) >= min_gap_s]
