"""Timeline geometry: where each lane sits, time <-> x, pan <-> y, ruler ticks, keyframe hits.

The timeline is one drawlist: a ruler, the mix waveform, the selected object's stem waveform,
then one lane per object (its event ticks and pan curve). This module answers every "what is
under the mouse" and "where do I draw it" question with plain numbers, so seeking, keyframe
dragging and lane picking are tested without a window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

HEADER_W = 128.0  # lane names on the left
RULER_H = 22.0
MIX_H = 64.0
STEM_H = 52.0
LANE_H = 40.0
LANE_GAP = 2.0
COMPACT_HEIGHTS = (40.0, 32.0, 30.0)  # mix, stem, object lane in a short panel (a laptop)
COMPACT_BELOW_PX = 300.0  # a timeline panel shorter than this draws compact lanes


@dataclass(frozen=True)
class Lane:
    """One horizontal band: what it shows and its vertical extent (drawlist pixels)."""

    kind: str  # "ruler" | "mix" | "stem" | "object"
    y0: float
    y1: float
    object_id: int | None = None

    @property
    def mid(self) -> float:
        return (self.y0 + self.y1) / 2

    def pan_to_y(self, pan: float) -> float:
        """Pan -1 (left) at the lane's bottom, +1 (right) at its top, with a small margin."""
        margin = 4.0
        p = min(max(pan, -1.0), 1.0)
        return self.mid - p * ((self.y1 - self.y0) / 2 - margin)

    def pans_to_y(self, pans: np.ndarray) -> np.ndarray:
        """`pan_to_y` for a whole curve at once."""
        half = (self.y1 - self.y0) / 2 - 4.0
        return self.mid - np.clip(pans, -1.0, 1.0) * half

    def y_to_pan(self, y: float) -> float:
        margin = 4.0
        half = max((self.y1 - self.y0) / 2 - margin, 1e-6)
        return float(min(max((self.mid - y) / half, -1.0), 1.0))


MIN_VIEW_S = 0.25  # the deepest zoom shows a quarter of a second


@dataclass(frozen=True)
class TimelineLayout:
    """Lanes stacked top to bottom over `width` pixels showing `view` (seconds) of `duration`.

    `view` is the visible (start, end) time range; None shows the whole clip. `compact` draws
    lower lanes (a short panel on a laptop screen shows more objects without scrolling).
    """

    width: float
    duration: float
    object_ids: tuple[int, ...] = ()
    view: tuple[float, float] | None = None
    compact: bool = False

    @property
    def track_w(self) -> float:
        return max(self.width - HEADER_W, 1.0)

    @property
    def start(self) -> float:
        return 0.0 if self.view is None else self.view[0]

    @property
    def end(self) -> float:
        return self.duration if self.view is None else self.view[1]

    def visible(self, time_s: float) -> bool:
        return self.start <= time_s <= self.end

    def x_of(self, time_s: float) -> float:
        """Drawlist x of a time (clamped to the visible range)."""
        span = self.end - self.start
        if span <= 0:
            return HEADER_W
        t = min(max(time_s, self.start), self.end)
        return HEADER_W + (t - self.start) / span * self.track_w

    def xs_of(self, times: np.ndarray) -> np.ndarray:
        """`x_of` for many times at once (a pan curve's points)."""
        span = self.end - self.start
        if span <= 0:
            return np.full(np.shape(times), HEADER_W)
        t = np.clip(times, self.start, self.end)
        return HEADER_W + (t - self.start) / span * self.track_w

    def time_of(self, x: float) -> float:
        """Time at a drawlist x (clamped to the visible range)."""
        span = self.end - self.start
        if span <= 0:
            return 0.0
        frac = (x - HEADER_W) / self.track_w
        return float(self.start + min(max(frac, 0.0), 1.0) * span)

    def lanes(self) -> list[Lane]:
        mix_h, stem_h, lane_h = COMPACT_HEIGHTS if self.compact else (MIX_H, STEM_H, LANE_H)
        out = [Lane("ruler", 0.0, RULER_H)]
        y = RULER_H + LANE_GAP
        out.append(Lane("mix", y, y + mix_h))
        y += mix_h + LANE_GAP
        out.append(Lane("stem", y, y + stem_h))
        y += stem_h + LANE_GAP
        for object_id in self.object_ids:
            out.append(Lane("object", y, y + lane_h, object_id))
            y += lane_h + LANE_GAP
        return out

    @property
    def height(self) -> float:
        return self.lanes()[-1].y1 + LANE_GAP

    def lane_at(self, y: float) -> Lane | None:
        """The lane under a drawlist y, or None in a gap or below the last lane."""
        for lane in self.lanes():
            if lane.y0 <= y <= lane.y1:
                return lane
        return None

    def object_lane(self, object_id: int) -> Lane | None:
        return next((lane for lane in self.lanes() if lane.object_id == object_id), None)


HEADER_BUTTON = 16.0  # the M and S buttons in an object lane's header


def header_buttons(lane: Lane) -> dict[str, tuple[float, float, float, float]]:
    """Where an object lane's mute and solo buttons are drawn: name -> (x0, y0, x1, y1)."""
    y0 = lane.mid - HEADER_BUTTON / 2
    y1 = y0 + HEADER_BUTTON
    solo_x = HEADER_W - 8 - HEADER_BUTTON
    mute_x = solo_x - 4 - HEADER_BUTTON
    return {"mute": (mute_x, y0, mute_x + HEADER_BUTTON, y1),
            "solo": (solo_x, y0, solo_x + HEADER_BUTTON, y1)}


def header_button_at(lane: Lane, x: float, y: float) -> str | None:
    """'mute' or 'solo' when (x, y) is on that button of an object lane's header, else None."""
    if lane.kind != "object":
        return None
    for name, (x0, y0, x1, y1) in header_buttons(lane).items():
        if x0 <= x <= x1 and y0 <= y <= y1:
            return name
    return None


def keyframe_at(keys: list[tuple[float, float]], layout: TimelineLayout, lane: Lane,
                x: float, y: float, *, radius: float = 7.0) -> int | None:
    """Index of the (time, pan) keyframe drawn within `radius` pixels of (x, y), nearest first."""
    best: tuple[float, int] | None = None
    for i, (t, pan) in enumerate(keys):
        d = math.hypot(layout.x_of(t) - x, lane.pan_to_y(pan) - y)
        if d <= radius and (best is None or d < best[0]):
            best = (d, i)
    return None if best is None else best[1]


_STEPS = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0)


def ruler_step(duration: float, track_w: float, *, min_px: float = 70.0) -> float:
    """The smallest 'nice' labelled tick spacing (s) keeping labels at least `min_px` apart."""
    if duration <= 0 or track_w <= 0:
        return 1.0
    for step in _STEPS:
        if step / duration * track_w >= min_px:
            return step
    return _STEPS[-1]


def ruler_ticks(layout: TimelineLayout) -> list[float]:
    """Times of the labelled ruler ticks inside the visible range (multiples of the step)."""
    step = ruler_step(layout.end - layout.start, layout.track_w)
    first = math.ceil(layout.start / step - 1e-9)
    last = math.floor(layout.end / step + 1e-9)
    return [round(i * step, 6) for i in range(first, last + 1)]


def clamp_view(start: float, end: float, duration: float) -> tuple[float, float] | None:
    """A visible range kept inside 0..duration and at least MIN_VIEW_S long (None = all)."""
    if duration <= 0:
        return None
    span = min(max(end - start, min(MIN_VIEW_S, duration)), duration)
    if span >= duration - 1e-9:
        return None
    start = min(max(start, 0.0), duration - span)
    return start, start + span


def zoom_view(layout: TimelineLayout, factor: float, anchor: float) -> tuple[float, float] | None:
    """Zoom by `factor` (> 1 = in) keeping the time `anchor` under the same pixel."""
    if factor <= 0:
        raise ValueError(f"zoom factor must be positive, got {factor}")
    start, end = layout.start, layout.end
    new_span = (end - start) / factor
    frac = 0.0 if end <= start else (anchor - start) / (end - start)
    new_start = anchor - frac * new_span
    return clamp_view(new_start, new_start + new_span, layout.duration)


def scroll_view(layout: TimelineLayout, pages: float) -> tuple[float, float] | None:
    """Scroll by a fraction of the visible span (negative = earlier)."""
    span = layout.end - layout.start
    return clamp_view(layout.start + pages * span, layout.end + pages * span, layout.duration)


def follow_view(layout: TimelineLayout, time_s: float) -> tuple[float, float] | None:
    """The view to show so that `time_s` is visible: unchanged if it is, else paged to it."""
    if layout.view is None or layout.visible(time_s):
        return layout.view
    span = layout.end - layout.start
    return clamp_view(time_s - 0.1 * span, time_s + 0.9 * span, layout.duration)
