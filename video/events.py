"""Visual events of one tracked object, found in its box trajectory: impacts and footsteps.

Impacts: a sudden change of the centre's velocity that smooth motion (gravity, braking) does not
explain. Across each frame interval the velocity change from the interval before to the interval
after is compared with the acceleration measured a few frames away; an excess above both a
size-relative floor (`impact_min_dv` box sizes per second) and the trajectory's own noise, with
the motion along the hit's direction reversing or stopping after arriving at speed, is an
impact. Its time is refined below a frame by intersecting
the straight paths before and after; its strength is the velocity change relative to
`IMPACT_STRENGTH_REF` frame heights per second, clipped to 0..1.

Steps: a walker's body is lowest when a foot lands, so the top of its box bobs with a cusp at
every contact while the bottom (the feet) stays on the floor. The top edge is detrended, its
lowest points (local maxima of y) with enough prominence are candidates, and they count as steps
only if at least `step_min_count` of them come at a steady rhythm (intervals within
`step_max_cv` of their median) and the bottom edge bobs much less than the top.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from video.base.tracks import Event, Track, VideoInfo
from video.peaks import find_peaks

IMPACT_STRENGTH_REF = 4.0  # velocity change (frame heights / s) of a full-strength impact


@dataclass(frozen=True)
class EventConfig:
    """Thresholds of the event detector."""

    impact_min_dv: float = 2.0
    impact_noise_sigmas: float = 4.0
    impact_reversal: float = 0.4
    min_gap_seconds: float = 0.12
    step_min_count: int = 3
    step_max_cv: float = 0.3
    step_min_prominence: float = 0.012
    step_period_range: tuple[float, float] = (0.25, 1.2)
    step_bottom_ratio: float = 0.6


def dense_boxes(track: Track) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(frames, boxes, measured) on every frame from the track's first to its last.

    Gaps are filled by linear interpolation and count as unmeasured, as do frames the tracker
    marked as coasted (extra "measured").
    """
    frames = np.arange(int(track.frames[0]), int(track.frames[-1]) + 1)
    boxes = np.stack([np.interp(frames, track.frames, track.boxes[:, k]) for k in range(4)], 1)
    flags = np.zeros(len(frames), bool)
    given = track.extra.get("measured")
    known = np.asarray(given, bool) if given is not None and len(given) == len(track) else \
        np.ones(len(track), bool)
    flags[track.frames - frames[0]] = known
    return frames, boxes, flags


def _robust_sigma(values: np.ndarray) -> float:
    """Standard deviation estimate from the median absolute deviation."""
    if not len(values):
        return 0.0
    return 1.4826 * float(np.median(np.abs(values - np.median(values))))


def line_crossing(before: tuple[float, float], slope_b: float, after: tuple[float, float],
              slope_a: float, low: float, high: float) -> float:
    """Where the line through `before` with `slope_b` meets the one through `after` (clamped)."""
    if abs(slope_b - slope_a) < 1e-9:
        return (low + high) / 2
    t = (after[1] - before[1] + slope_b * before[0] - slope_a * after[0]) / (slope_b - slope_a)
    return float(min(max(t, low), high))


def event_time(info: VideoInfo, frame_pos: float) -> float:
    """Seconds at a fractional frame position (follows VFR frame times when present)."""
    k = int(np.floor(frame_pos))
    frac = frame_pos - k
    t0 = info.time_of_frame(k)
    t1 = info.time_of_frame(k + 1) if info.frame_times is None or k + 1 < info.frames else \
        t0 + float(1 / info.fps)
    return max(0.0, t0 + frac * (t1 - t0))


def _merge_close(events: list[Event], gap: float) -> list[Event]:
    """Of events of one kind closer than `gap` seconds keep the strongest."""
    out: list[Event] = []
    for e in sorted(events, key=lambda e: e.time):
        if out and out[-1].kind == e.kind and e.time - out[-1].time < gap:
            if e.strength > out[-1].strength:
                out[-1] = e
            continue
        out.append(e)
    return out


def detect_impacts(track: Track, info: VideoInfo, *,
                   config: EventConfig = EventConfig()) -> tuple[Event, ...]:
    """Impact events of one track (see the module docstring).

    Velocities are averaged over `m` frames (about 1/30 s), so a high frame rate does not drown
    a hit in per-frame measurement noise.
    """
    fps = float(info.fps)
    m = max(1, round(fps / 30))
    if len(track) < 4 * m + 2:
        return ()
    frames, boxes, measured = dense_boxes(track)
    c = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2], 1)
    acc = np.diff(c, 2, axis=0)                # acc[i]: at frame i + 1
    size = float(np.median(np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])))
    # position noise from the jerk, which is zero wherever the acceleration is piecewise
    # constant (flight, rest): white noise s gives a jerk of s * sqrt(20)
    jerk = np.diff(acc, axis=0)
    sigma = max(_robust_sigma(jerk[:, 0]), _robust_sigma(jerk[:, 1])) / np.sqrt(20)
    floor = max(config.impact_min_dv * size / fps, config.impact_noise_sigmas * 2 * sigma / m)
    candidates: list[tuple[int, float, np.ndarray]] = []
    for k in range(m, len(c) - 1 - m):         # contact inside interval (k, k + 1)
        if not measured[k - m:k + 2 + m].all():
            continue
        before = (c[k] - c[k - m]) / m
        after = (c[k + 1 + m] - c[k + 1]) / m
        dv = after - before
        # what smooth motion would change, judged from either side (the side nearer to another
        # event is disturbed by it): the smaller excess counts
        excess = min(float(np.linalg.norm(dv - (m + 1) * smooth))
                     for smooth in _smooth_acceleration(c, k, m=m))
        axis = int(np.argmax(np.abs(dv)))      # the direction the hit changed most
        b, a = before[axis], after[axis]
        # something must be moving into the hit, and the change must last: box jitter of an
        # object at rest or rolling reverses for a frame, a real hit for several
        arriving = abs(b) >= 0.5 * floor
        if excess >= floor and arriving and _reverses(b, a, config) and \
                _reverses_for_long(c, k, m, axis, config):
            candidates.append((k, excess, dv))
    events = [_impact_event(k, dv, c, frames, info, m) for k, _, dv in _local_maxima(candidates)]
    return tuple(_merge_close(events, config.min_gap_seconds))


def _reverses(before: float, after: float, config: EventConfig) -> bool:
    """Motion along an axis turns back, or (nearly) stops."""
    return before * after < 0 or abs(after) < config.impact_reversal * abs(before)


def _reverses_for_long(c: np.ndarray, k: int, m: int, axis: int, config: EventConfig) -> bool:
    """The reversal also holds for velocities averaged over 3m frames on each side (as far as
    the track reaches)."""
    span = min(3 * m, k, len(c) - 2 - k)
    if span <= m:
        return True
    before = (c[k, axis] - c[k - span, axis]) / span
    after = (c[k + 1 + span, axis] - c[k + 1, axis]) / span
    return _reverses(before, after, config)


def _smooth_acceleration(c: np.ndarray, k: int, *, m: int, reach: int = 4) -> list[np.ndarray]:
    """Median accelerations (px/frame^2, from m-frame differences) on each side of interval k,
    measured far enough away not to include the event itself."""
    out = []
    for centres in (range(k - 2 * m - reach * m, k - 2 * m + 1, m),
                    range(k + 1 + 2 * m, k + 2 + 2 * m + reach * m, m)):
        idx = np.asarray([i for i in centres if i - m >= 0 and i + m < len(c)], dtype=int)
        if len(idx):
            out.append(np.median((c[idx + m] - 2 * c[idx] + c[idx - m]) / (m * m), axis=0))
    return out or [np.zeros(2)]


def _local_maxima(cands: list[tuple[int, float, np.ndarray]]) -> list[tuple[int, float, np.ndarray]]:
    """Keep a candidate only if no adjacent interval has a larger excess."""
    by_k = {k: e for k, e, _ in cands}
    return [(k, e, dv) for k, e, dv in cands
            if e >= by_k.get(k - 1, -1.0) and e > by_k.get(k + 1, -1.0)]


def _impact_event(k: int, dv: np.ndarray, c: np.ndarray, frames: np.ndarray,
                  info: VideoInfo, m: int) -> Event:
    """Event where the path before (k-m..k) crosses the path after (k+1..k+1+m)."""
    axis = int(np.argmax(np.abs(dv)))
    y = c[:, axis]
    slope_b = (y[k] - y[k - m]) / m
    slope_a = (y[k + 1 + m] - y[k + 1]) / m
    pos = line_crossing((k, y[k]), slope_b, (k + 1, y[k + 1]), slope_a, k - 0.5, k + 1.5)
    strength = float(np.linalg.norm(dv)) * float(info.fps) / (IMPACT_STRENGTH_REF * info.height)
    return Event(time=event_time(info, frames[0] + pos), strength=min(1.0, strength),
                 kind="impact")


def _detrend(signal: np.ndarray, window: int) -> np.ndarray:
    """`signal` minus its centred moving average (edges use a shrinking window)."""
    window = max(1, min(window, len(signal)) - 1) | 1
    kernel = np.ones(window)
    padded_sum = np.convolve(signal, kernel, mode="same")
    counts = np.convolve(np.ones_like(signal), kernel, mode="same")
    return signal - padded_sum / counts


def detect_steps(track: Track, info: VideoInfo, *,
                 config: EventConfig = EventConfig()) -> tuple[Event, ...]:
    """Footstep events of one track (see the module docstring)."""
    fps = float(info.fps)
    low, high = config.step_period_range
    if len(track) < max(8, int(config.step_min_count * low * fps)):
        return ()
    frames, boxes, _ = dense_boxes(track)
    top, bottom = boxes[:, 1], boxes[:, 3]
    height = float(np.median(boxes[:, 3] - boxes[:, 1]))
    window = round(high * fps)
    top_hp, bottom_hp = _detrend(top, window), _detrend(bottom, window)
    noise = _robust_sigma(np.diff(top, 2)) / np.sqrt(6)
    prominence = max(config.step_min_prominence * height, 3 * noise, 0.5)
    peaks, props = find_peaks(top_hp, prominence=prominence, distance=max(1, int(low * fps * 0.8)))
    peaks = _steady_run(peaks, fps=fps, config=config)
    if len(peaks) < config.step_min_count:
        return ()
    if np.percentile(np.abs(bottom_hp), 90) > config.step_bottom_ratio * np.percentile(
            np.abs(top_hp), 90):
        return ()
    amplitude = float(np.median(props["prominences"]))
    strength = float(min(1.0, max(0.2, amplitude / (0.1 * height))))
    events = []
    for k in peaks:
        pos = _cusp_position(top, k) if 1 <= k < len(top) - 1 else float(k)
        events.append(Event(time=event_time(info, frames[0] + pos), strength=strength,
                            kind="step"))
    return tuple(_merge_close(events, config.min_gap_seconds))


def _cusp_position(y: np.ndarray, k: int) -> float:
    """Sub-frame position of a cusp at sample k: where the lines from the two sides meet."""
    left = y[k - 1] - y[k - 2] if k >= 2 else y[k] - y[k - 1]
    right = y[k + 2] - y[k + 1] if k + 2 < len(y) else y[k + 1] - y[k]
    # the line before passes through (k-1, y[k-1]); the one after through (k+1, y[k+1])
    return line_crossing((k - 1, y[k - 1]), left, (k + 1, y[k + 1]), right, k - 1.0, k + 1.0)


def _steady_run(peaks: np.ndarray, *, fps: float, config: EventConfig) -> np.ndarray:
    """The longest run of peaks whose spacing stays near its median and within the step range."""
    if len(peaks) < config.step_min_count:
        return peaks[:0]
    gaps = np.diff(peaks) / fps
    best: tuple[int, int] = (0, 0)
    start = 0
    median = float(np.median(gaps))
    low, high = config.step_period_range
    for i, g in enumerate(gaps):
        ok = low <= g <= high and abs(g - median) <= config.step_max_cv * median
        if not ok:
            start = i + 1
        elif i + 2 - start > best[1] - best[0]:
            best = (start, i + 2)
    return peaks[best[0]:best[1]]


def detect_events(track: Track, info: VideoInfo, *,
                  config: EventConfig = EventConfig()) -> tuple[Event, ...]:
    """All visual events of one track: footsteps if it walks (a steady rhythm of top-edge
    cusps while the bottom stays put, which a bouncing object never shows), otherwise impacts."""
    steps = detect_steps(track, info, config=config)
    if steps:
        return steps
    return detect_impacts(track, info, config=config)


def match_events(reference: Sequence[float] | np.ndarray, detected: Sequence[float] | np.ndarray,
                 *, tolerance_s: float) -> list[tuple[int, int]]:
    """One-to-one matches (reference index, detected index) within `tolerance_s` seconds
    (inclusive), closest pairs first: the basis of event precision, recall and timing."""
    ref = np.asarray(reference, dtype=np.float64).reshape(-1)
    det = np.asarray(detected, dtype=np.float64).reshape(-1)
    if ref.size == 0 or det.size == 0:
        return []
    dist = np.abs(ref[:, None] - det[None, :])
    order = np.argsort(dist, axis=None, kind="stable")
    used_r: set[int] = set()
    used_d: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for flat in order:
        i, j = divmod(int(flat), det.size)
        if dist[i, j] > tolerance_s + 1e-9:
            break
        if i in used_r or j in used_d:
            continue
        used_r.add(i)
        used_d.add(j)
        pairs.append((i, j))
    return sorted(pairs)
