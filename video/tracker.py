"""Multi-object tracking with stable identities, from per-frame candidate boxes.

Online part (`Tracker.update` once per frame):
- every track predicts its box with a constant-velocity Kalman filter (video.kalman);
- fragments of one object (several boxes inside one confirmed track's prediction) are merged;
- a box that covers two or more confirmed tracks is a merged blob (crossing or occluding
  objects): those tracks follow their predictions, kept inside the blob, instead of taking it,
  so they keep their identities and come out the other side; if all of them are younger than
  `young_seconds` they were pieces of one object (say, a figure entering legs first) and only
  the oldest lives on;
- the rest are assigned with the Hungarian method on a cost of 1 - IoU plus the normalized
  centre distance, gated by distance and size ratio;
- a track is born tentative and confirmed after `min_hits` consecutive hits; a confirmed track
  survives up to `max_coast_seconds` unmeasured (short occlusions), then ends.
- a confirmed track whose box suddenly swells far beyond its recent size (it touched another
  object, or one that is not tracked yet) follows the blob's edges at its own size instead.
Boxes of measured frames are the measurements themselves (the filter would smooth away the
sudden reversals the event detector looks for); coasted frames get the prediction.

Offline part (`finalize_tracks`): links broken tracks across gaps when the later one starts where
the earlier one's motion leads (filling the gap by interpolation), drops tracks that are too short
or never really move, and drops duplicates.

Labels (`label_for`), decided from shape and events: "walker" for an upright box (height > 1.6 x
width) or one with step events; "ball" for a roughly square box with impact events that travels
(its centre strays at least twice its size: balls fly and bounce); "vehicle"
for a wide box (width 1.4 to 4 x height) moving mostly sideways, big enough to be one (at least
5% of the picture's height); otherwise "object".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from video.assign import min_cost_assignment
from video.base.tracks import Track
from video.kalman import KalmanBox, KalmanConfig


@dataclass(frozen=True)
class TrackerConfig:
    """Tracking options; durations in seconds are converted with the video's frame rate."""

    min_hits: int = 3
    max_coast_seconds: float = 1.0
    max_group_seconds: float = 5.0
    young_seconds: float = 0.5
    distance_gate: float = 1.0
    max_cost: float = 1.7
    max_area_ratio: float = 4.0
    fragment_inside: float = 0.6
    fragment_growth: float = 1.4
    swell: float = 1.6
    group_cover: float = 0.25
    link_gap_seconds: float = 1.5
    link_distance: float = 1.2
    min_track_seconds: float = 0.4
    min_motion: float = 0.6
    min_growth: float = 1.5
    duplicate_iou: float = 0.6
    in_place_seconds: float = 1.0
    in_place_min_area: float = 0.02
    in_place_travel: float = 0.03
    kalman: KalmanConfig = field(default_factory=KalmanConfig)


# ----------------------------------------------------------------------------------------------
# Box geometry


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise intersection-over-union of boxes a (n, 4) and b (m, 4)."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    inter = intersection_matrix(a, b)
    area_a = box_areas(a)[:, None]
    area_b = box_areas(b)[None, :]
    return inter / np.maximum(area_a + area_b - inter, 1e-9)


def paired_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of a[i] with b[i] for each i (n,): linear memory, unlike the pairwise matrix."""
    ix = np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0])
    iy = np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1])
    inter = np.clip(ix, 0, None) * np.clip(iy, 0, None)
    return inter / np.maximum(box_areas(a) + box_areas(b) - inter, 1e-9)


def intersection_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise intersection areas of boxes a (n, 4) and b (m, 4)."""
    ix = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    iy = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    return np.clip(ix, 0, None) * np.clip(iy, 0, None)


def box_areas(boxes: np.ndarray) -> np.ndarray:
    """Areas (n,) of boxes (n, 4)."""
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def union_box(boxes: np.ndarray) -> np.ndarray:
    """The smallest box containing all of `boxes` (n, 4)."""
    return np.array([boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max()])


def expand_box(box: np.ndarray, factor: float) -> np.ndarray:
    """`box` grown about its centre by `factor` in width and height."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    hw, hh = (box[2] - box[0]) * factor / 2, (box[3] - box[1]) * factor / 2
    return np.array([cx - hw, cy - hh, cx + hw, cy + hh])


def fit_inside(box: np.ndarray, outer: np.ndarray) -> np.ndarray:
    """`box` moved the least distance that puts it inside `outer` (centred on an axis where it
    is larger than `outer`)."""
    out = np.asarray(box, dtype=np.float64).copy()
    for lo, hi in ((0, 2), (1, 3)):
        if out[hi] - out[lo] >= outer[hi] - outer[lo]:
            shift = (outer[lo] + outer[hi]) / 2 - (out[lo] + out[hi]) / 2
        else:
            shift = max(0.0, outer[lo] - out[lo]) - max(0.0, out[hi] - outer[hi])
        out[lo] += shift
        out[hi] += shift
    return out


def _centre(box: np.ndarray) -> np.ndarray:
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])


def _size(box: np.ndarray) -> float:
    return float(max(box[2] - box[0], box[3] - box[1], 1.0))


# ----------------------------------------------------------------------------------------------
# Online tracking


@dataclass
class _Live:
    """One track being built: filter, counters and its history."""

    kalman: KalmanBox
    hits: int = 1
    misses: int = 0
    grouped: int = 0
    confirmed: bool = False
    frames: list[int] = field(default_factory=list)
    boxes: list[np.ndarray] = field(default_factory=list)
    measured: list[bool] = field(default_factory=list)
    seen: list[bool] = field(default_factory=list)
    predicted: np.ndarray = field(default_factory=lambda: np.zeros(4))
    areas: list[float] = field(default_factory=list)   # of the measured boxes, in order

    def reference_area(self, n: int = 10) -> float | None:
        """Median area of the last `n` measured boxes: the object's own recent size (None while
        it has fewer)."""
        if len(self.areas) < n:
            return None
        recent = sorted(self.areas[-n:])   # a median without numpy's overhead on ten values
        middle = n // 2
        return recent[middle] if n % 2 else (recent[middle - 1] + recent[middle]) / 2

    def record(self, frame: int, box: np.ndarray, measured: bool, *,
               seen: bool | None = None) -> None:
        """Append one frame. `measured`: the box is a detection; `seen`: the object was in view
        (also true inside a merged blob), so the frame is kept when the track ends."""
        self.seen.append(measured if seen is None else seen)
        self.frames.append(frame)
        box = np.asarray(box, dtype=np.float64)
        self.boxes.append(box)
        self.measured.append(measured)
        if measured:
            self.areas.append(float((box[2] - box[0]) * (box[3] - box[1])))


class Tracker:
    """Online multi-object tracker; feed `update` each frame in order, then call `finish`."""

    def __init__(self, fps: float, frame_size: tuple[int, int], *,
                 config: TrackerConfig = TrackerConfig()) -> None:
        self.config = config
        self.fps = float(fps)
        self.width, self.height = frame_size
        self.max_coast = max(1, round(config.max_coast_seconds * self.fps))
        self.reference_frames = max(10, round(self.fps))  # about a second of measured sizes
        self.max_group = max(1, round(config.max_group_seconds * self.fps))
        self.young = max(config.min_hits + 1, round(config.young_seconds * self.fps))
        self._live: list[_Live] = []
        self._done: list[_Live] = []

    def update(self, frame: int, detections: np.ndarray) -> None:
        """Advance all tracks to `frame` and assign this frame's boxes (n, 4), source pixels."""
        dets = np.asarray(detections, dtype=np.float64).reshape(-1, 4)
        for live in self._live:
            live.predicted = live.kalman.predict()
        dets = self._merge_fragments(dets)
        dets, grouped = self._take_groups(dets)
        matched = self._assign(frame, dets, grouped)
        for j in range(len(dets)):
            if j not in matched:
                self._live.append(self._birth(frame, dets[j]))
        self._retire()

    def finish(self) -> list[Track]:
        """End every track and return the confirmed ones (ids in order of birth)."""
        self._done.extend(self._live)
        self._live = []
        out: list[Track] = []
        for live in self._done:
            if not live.confirmed:
                continue
            last = max(i for i, m in enumerate(live.seen) if m)  # drop the trailing coast
            out.append(Track(id=len(out) + 1, label="object",
                             frames=np.asarray(live.frames[:last + 1]),
                             boxes=np.asarray(live.boxes[:last + 1]),
                             extra={"measured": [bool(m) for m in live.measured[:last + 1]]}))
        self._done = []
        return out

    # -- steps ----------------------------------------------------------------------------------

    def _confirmed(self) -> list[_Live]:
        return [t for t in self._live if t.confirmed]

    def _merge_fragments(self, dets: np.ndarray) -> np.ndarray:
        """Union boxes that lie mostly inside one confirmed track's (enlarged) prediction."""
        if len(dets) < 2:
            return dets
        areas = np.maximum(box_areas(dets), 1e-9)
        used = np.zeros(len(dets), bool)
        merged = []
        for live in sorted(self._confirmed(), key=lambda t: -t.hits):
            region = expand_box(live.predicted, 1.3)[None, :]
            inside = intersection_matrix(dets, region)[:, 0] / areas >= self.config.fragment_inside
            inside &= ~used
            if inside.sum() < 2:
                continue
            union = union_box(dets[inside])
            ref = live.reference_area(self.reference_frames) or float(
                box_areas(live.predicted[None])[0])
            if box_areas(union[None])[0] <= self.config.fragment_growth * ref:
                merged.append(union)
                used |= inside
        rest = [d for d, u in zip(dets, used, strict=True) if not u]
        return np.asarray(merged + rest, dtype=np.float64).reshape(-1, 4)

    def _take_groups(self, dets: np.ndarray) -> tuple[np.ndarray, dict[int, np.ndarray]]:
        """Remove blobs covering several confirmed tracks. Each such track gets its prediction
        moved just inside the blob instead (the blob's edges still say where the outermost
        objects are), keyed by id() of the track."""
        confirmed = self._confirmed()
        if len(confirmed) < 2 or not len(dets):
            return dets, {}
        preds = np.asarray([t.predicted for t in confirmed])
        cover = intersection_matrix(preds, dets) / np.maximum(box_areas(preds), 1e-9)[:, None]
        grouped: dict[int, np.ndarray] = {}
        keep = np.ones(len(dets), bool)
        for j in range(len(dets)):
            inside = np.flatnonzero(cover[:, j] >= self.config.group_cover)
            if len(inside) >= 2 and box_areas(dets[j:j + 1])[0] >= 0.9 * box_areas(
                    preds[inside]).max():
                members = [confirmed[i] for i in inside]
                if max(t.hits for t in members) < self.young:
                    # all new: pieces of one object seen whole at last, not a crossing
                    keeper = max(members, key=lambda t: t.hits)
                    for t in members:
                        if t is not keeper:
                            t.confirmed, t.hits = False, 0   # retired without output
                    continue
                for i in inside:
                    grouped[id(confirmed[i])] = fit_inside(preds[i], dets[j])
                keep[j] = False
        return dets[keep], grouped

    def _cost(self, dets: np.ndarray, grouped: dict[int, np.ndarray]) -> np.ndarray:
        """Assignment cost tracks x detections; gated pairs (and grouped tracks) cost infinity."""
        preds = np.asarray([t.predicted for t in self._live]).reshape(-1, 4)
        iou = iou_matrix(preds, dets)
        pc = (preds[:, :2] + preds[:, 2:]) / 2
        dc = (dets[:, :2] + dets[:, 2:]) / 2
        dist = np.linalg.norm(pc[:, None, :] - dc[None, :, :], axis=2)
        sizes = np.maximum(np.maximum(preds[:, 2] - preds[:, 0], preds[:, 3] - preds[:, 1]), 1.0)
        speed = np.asarray([np.linalg.norm(t.kalman.velocity) for t in self._live])
        gate = self.config.distance_gate * sizes + 0.5 * speed
        gate = np.where([t.hits < 2 for t in self._live], 2.0 * gate, gate)
        norm = dist / gate[:, None]
        ratio = box_areas(dets)[None, :] / np.maximum(box_areas(preds)[:, None], 1e-9)
        cost = (1.0 - iou) + norm
        cost += np.asarray([0.0 if t.confirmed else 0.3 for t in self._live])[:, None]
        bad = ((norm > 1.0) & (iou < 0.05)) | (ratio > self.config.max_area_ratio) | (
            ratio < 1.0 / self.config.max_area_ratio) | (cost > self.config.max_cost)
        bad |= np.asarray([id(t) in grouped for t in self._live])[:, None]
        return np.where(bad, np.inf, cost)

    def _assign(self, frame: int, dets: np.ndarray, grouped: dict[int, np.ndarray]) -> set[int]:
        """Hungarian assignment; updates matched tracks, coasts the rest. Returns used dets."""
        pairs: list[tuple[int, int]] = []
        if self._live and len(dets):
            cost = self._cost(dets, grouped)
            finite = np.where(np.isfinite(cost), cost, 1e6)
            rows, cols = min_cost_assignment(finite)
            pairs = [(int(r), int(c)) for r, c in zip(rows, cols, strict=True)
                     if np.isfinite(cost[r, c])]
        used = set()
        matched_tracks = set()
        for r, c in pairs:
            self._hit(self._live[r], frame, dets[c])
            used.add(c)
            matched_tracks.add(r)
        for r, live in enumerate(self._live):
            if id(live) in grouped:
                self._inside_group(live, frame, grouped[id(live)])
            elif r not in matched_tracks:
                self._miss(live, frame)
        return used

    def _inside_group(self, live: _Live, frame: int, box: np.ndarray) -> None:
        """A track hidden in a merged blob: follow the blob-constrained box, not measured. The
        blob shows the object is still there, so this lasts up to `max_group_seconds`."""
        live.kalman.move_to(box)
        live.kalman.freeze_size()
        live.grouped += 1
        live.misses = 0 if live.grouped <= self.max_group else live.misses + 1
        live.record(frame, box, False, seen=True)

    def _swollen(self, live: _Live, box: np.ndarray) -> bool:
        """A confirmed track's box suddenly much bigger than its recent size, away from the
        frame edge (where entering objects do grow fast): it has merged with something else."""
        ref = live.reference_area(self.reference_frames) if live.confirmed else None
        if ref is None:
            return False
        inside = box[0] > 1 and box[1] > 1 and box[2] < self.width - 1 and box[3] < self.height - 1
        return inside and float(box_areas(box[None])[0]) > self.config.swell * ref

    def _hit(self, live: _Live, frame: int, box: np.ndarray) -> None:
        live.grouped = 0
        if self._swollen(live, box):
            # keep the object's own size: follow the blob's edges, not its extent
            constrained = fit_inside(live.predicted, box)
            live.kalman.update(constrained)
            live.kalman.freeze_size()
            live.misses = 0
            live.record(frame, constrained, False, seen=True)
            return
        if live.hits == 1 and live.frames:
            gap = max(1, frame - live.frames[-1])
            live.kalman.update(box)
            live.kalman.set_velocity((_centre(box) - _centre(live.boxes[-1])) / gap)
        else:
            live.kalman.update(box)
        live.hits += 1
        live.misses = 0
        if live.hits >= self.config.min_hits:
            live.confirmed = True
        live.record(frame, box, True)

    def _miss(self, live: _Live, frame: int) -> None:
        live.misses += 1
        if not live.confirmed:
            live.hits = 0  # tentative tracks need consecutive hits
            return
        live.kalman.freeze_size()
        live.record(frame, live.predicted, False)

    def _birth(self, frame: int, box: np.ndarray) -> _Live:
        live = _Live(kalman=KalmanBox(box, config=self.config.kalman))
        live.predicted = np.asarray(box, dtype=np.float64)
        live.record(frame, box, True)
        return live

    def _retire(self) -> None:
        """End tentative tracks that missed, and confirmed ones lost too long or off screen."""
        keep = []
        for live in self._live:
            if not live.confirmed and live.hits == 0:
                continue
            c = _centre(live.boxes[-1])
            off = not (0 <= c[0] <= self.width and 0 <= c[1] <= self.height)
            if live.confirmed and (live.misses > self.max_coast or (live.misses and off)):
                self._done.append(live)
                continue
            keep.append(live)
        self._live = keep


# ----------------------------------------------------------------------------------------------
# Offline clean-up


def _end_motion(track: Track, *, at_start: bool, n: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Centre and velocity (px/frame) at the start or end of a track, by a line fit."""
    frames = track.frames[:n] if at_start else track.frames[-n:]
    centres = track.centers[:n] if at_start else track.centers[-n:]
    if len(frames) < 2:
        return centres[0 if at_start else -1], np.zeros(2)
    slope = np.polyfit(frames - frames[0], centres, 1)[0]
    return centres[0 if at_start else -1], slope


def _link_cost(a: Track, b: Track, config: TrackerConfig, max_gap: int) -> float:
    """How well `b` continues `a` (inf when it cannot): extrapolation miss in box sizes."""
    gap = int(b.frames[0] - a.frames[-1])
    if gap < 1 or gap > max_gap:
        return np.inf
    end, velocity = _end_motion(a, at_start=False)
    start, v_b = _end_motion(b, at_start=True)
    size_a, size_b = _size(a.boxes[-1]), _size(b.boxes[0])
    if not 0.5 <= size_b / size_a <= 2.0:
        return np.inf
    miss = float(np.linalg.norm(end + velocity * gap - start)) / max(size_a, size_b)
    turn = float(np.linalg.norm(v_b - velocity)) / max(size_a, size_b) * 2
    cost = miss + min(turn, 1.0) * 0.3
    return cost if miss <= config.link_distance + 0.05 * gap else np.inf


def _join(a: Track, b: Track) -> Track:
    """`a` then `b`, with the frames between them filled by linear interpolation."""
    gap = np.arange(a.frames[-1] + 1, b.frames[0])
    w = ((gap - a.frames[-1]) / (b.frames[0] - a.frames[-1]))[:, None]
    filled = (1 - w) * a.boxes[-1] + w * b.boxes[0]
    measured = list(a.extra.get("measured", [True] * len(a))) + [False] * len(gap) + list(
        b.extra.get("measured", [True] * len(b)))
    return Track(id=a.id, label=a.label, frames=np.r_[a.frames, gap, b.frames],
                 boxes=np.vstack([a.boxes, filled.reshape(-1, 4), b.boxes]),
                 extra={"measured": measured})


def link_tracks(tracks: Sequence[Track], *, fps: float, config: TrackerConfig = TrackerConfig(),
                barriers: Sequence[int] = ()) -> list[Track]:
    """Join tracks broken by a gap when motion says they are one object (never across a
    barrier frame, i.e. a cut); cheapest links first, each end used once."""
    items = sorted(tracks, key=lambda t: int(t.frames[0]))
    max_gap = max(1, round(config.link_gap_seconds * fps))
    while True:
        best: tuple[float, int, int] | None = None
        for i, a in enumerate(items):
            for j, b in enumerate(items):
                if i == j or any(a.frames[-1] < c <= b.frames[0] for c in barriers):
                    continue
                cost = _link_cost(a, b, config, max_gap)
                if np.isfinite(cost) and (best is None or cost < best[0]):
                    best = (cost, i, j)
        if best is None:
            return items
        _, i, j = best
        joined = _join(items[i], items[j])
        items = [t for k, t in enumerate(items) if k not in (i, j)] + [joined]
        items.sort(key=lambda t: int(t.frames[0]))


def camera_pan(track: Track, camera: np.ndarray | None) -> np.ndarray | None:
    """The camera's cumulative pan (`camera`, source px per frame index: where a scene point
    has moved to on screen) on each of the track's frames, (n, 2); None without one."""
    if camera is None or not len(camera):
        return None
    return camera[np.clip(track.frames, 0, len(camera) - 1)]


def in_scene(track: Track, camera: np.ndarray | None) -> Track:
    """The track as the scene holds it: each box moved back by the camera's pan on its frame
    (`camera_pan`), so what a panning or hand-held camera carried across the picture stays
    put."""
    pan = camera_pan(track, camera)
    if pan is None or not len(track):
        return track
    return track.with_changes(boxes=track.boxes - np.concatenate([pan, pan], axis=1))


def moves_enough(track: Track, config: TrackerConfig = TrackerConfig(),
                 camera: np.ndarray | None = None) -> bool:
    """True if the centre travels `min_motion` box sizes through the scene (on screen, less the
    camera's pan when `camera` (frames, 2) gives it per frame) or it grows steadily (see
    grows_steadily). Background texture that only the pan moves, and flickering residue, are
    not objects."""
    centres = track.centers
    if camera is not None and len(camera) > int(track.frames[-1]):
        centres = centres - camera[track.frames]
    size = float(np.median(np.maximum(track.boxes[:, 2] - track.boxes[:, 0],
                                      track.boxes[:, 3] - track.boxes[:, 1])))
    travel = float(np.linalg.norm(centres.max(axis=0) - centres.min(axis=0)))
    return travel >= config.min_motion * max(size, 1.0) or grows_steadily(track, config)


def moves_in_place(track: Track, *, fps: float, frame_size: tuple[int, int],
                   config: TrackerConfig = TrackerConfig(),
                   camera: np.ndarray | None = None) -> bool:
    """True for a large object that stays where it is but keeps moving inside its box (a
    character gesturing, a machine working): seen for at least `in_place_seconds`, a median box
    of at least `in_place_min_area` of the frame, and a centre that wanders (camera pan removed)
    at least `in_place_travel` of the frame diagonal. Flicker residue is small, and background
    moved only by a pan does not wander once the pan is removed, so neither passes."""
    width, height = frame_size
    if len(track) < config.in_place_seconds * fps:
        return False
    if float(np.median(track.areas)) < config.in_place_min_area * width * height:
        return False
    centres = track.centers
    if camera is not None and len(camera) > int(track.frames[-1]):
        centres = centres - camera[track.frames]
    travel = float(np.linalg.norm(centres.max(axis=0) - centres.min(axis=0)))
    return travel >= config.in_place_travel * float(np.hypot(width, height))


def grows_steadily(track: Track, config: TrackerConfig = TrackerConfig()) -> bool:
    """True if, between its smallest and largest (smoothed) size, the box grows or shrinks by
    `min_growth` times with its log area following time (an object approaching or receding),
    rather than flickering."""
    areas = np.log(np.maximum(track.areas, 1.0))
    k = max(1, len(areas) // 10) | 1
    if len(areas) < 3 * k + 2:
        return False
    smooth = np.convolve(areas, np.ones(k) / k, mode="valid")
    lo, hi = int(np.argmin(smooth)), int(np.argmax(smooth))
    part = smooth[min(lo, hi):max(lo, hi) + 1]
    if smooth[hi] - smooth[lo] < np.log(config.min_growth) or len(part) < 4:
        return False
    return abs(float(np.corrcoef(np.arange(len(part)), part)[0, 1])) >= 0.8


def _covered_by(a: Track, b: Track, min_iou: float) -> float:
    """Fraction of `a`'s frames where `b` has a box overlapping a's by at least `min_iou`."""
    common, ia, ib = np.intersect1d(a.frames, b.frames, return_indices=True)
    if not len(common):
        return 0.0
    ious = paired_iou(a.boxes[ia], b.boxes[ib])
    return float((ious >= min_iou).sum()) / len(a)


def finalize_tracks(tracks: Sequence[Track], *, fps: float, config: TrackerConfig = TrackerConfig(),
                    barriers: Sequence[int] = (), camera: np.ndarray | None = None,
                    frame_size: tuple[int, int] | None = None) -> list[Track]:
    """Link broken tracks, drop short / motionless / duplicate ones, number them 1..n by start.

    `camera` (frames, 2): cumulative camera pan per frame in source pixels (see moves_enough).
    `frame_size` (width, height) also keeps large objects that move in place (moves_in_place).
    """
    linked = link_tracks(tracks, fps=fps, config=config, barriers=barriers)
    min_len = max(2, round(config.min_track_seconds * fps))

    def moving(t: Track) -> bool:
        if moves_enough(t, config, camera):
            return True
        return frame_size is not None and moves_in_place(t, fps=fps, frame_size=frame_size,
                                                         config=config, camera=camera)

    kept = [t for t in linked if len(t) >= min_len and moving(t)]
    kept.sort(key=len, reverse=True)
    unique: list[Track] = []
    for t in kept:
        if all(_covered_by(t, u, config.duplicate_iou) < 0.8 for u in unique):
            unique.append(t)
    unique.sort(key=lambda t: (int(t.frames[0]), float(t.boxes[0, 0])))
    return [t.with_changes(id=i + 1) for i, t in enumerate(unique)]


def saliency(track: Track) -> float:
    """How much a track matters for foley: its length times its typical size and speed."""
    size = float(np.median(np.sqrt(np.maximum(track.areas, 1.0))))
    speed = float(np.median(np.linalg.norm(np.diff(track.centers, axis=0), axis=1))) if len(
        track) > 1 else 0.0
    return len(track) * size * (1.0 + speed / size)


# a vehicle's box, side-on or three-quarter: 1.4 to 4 times wider than tall (a saloon side-on is
# about 3); a thinner one is a strip (barrier tape on a pole, the edge of an arm or of a floor, a
# car's grille), not a vehicle. And at least this share of the picture's height: of the boxes the
# recognizer did not name on the real clips of docs/EVALUATION.md, those "vehicles" 3.3% or less
# of it tall were specks of noise, a ball's lit top and a strip of a car; the others were 15% or
# more (the traffic of bikes.mp4, win129's rocket, and a robot's elbow in play118, which stays a
# "vehicle"). What is not called a vehicle still gets an engine from how it moves
# (model.foley.choose: long, steady, level travel that gets somewhere), so a far car keeps one.
VEHICLE_ASPECT = (1.4, 4.0)
VEHICLE_MIN_HEIGHT = 0.05
# a ball travels: its centre strays at least this many of its sizes (the square root of its box's
# area). The balls of the real clips in docs/EVALUATION.md stray 2.3 to 15 of theirs; the square
# boxes with an "impact" that stray less were a cartoon woman's head and shoulders (0.5), a patch
# of a restaurant's table (0.2), a car's part behind a railing (0.4), the edge of the picture.
BALL_MIN_TRAVEL = 2.0


def track_size(track: Track) -> float:
    """A track's typical size in pixels: the median square root of its box areas."""
    return float(np.median(np.sqrt(np.maximum(track.areas, 1.0))))


def centre_stray(track: Track) -> float:
    """How far the track's centre strays, in its own sizes (`track_size`): the longer side of
    its centres' bounding box."""
    return float(np.max(np.ptp(track.centers, axis=0))) / track_size(track) if len(track) else 0.0


def label_for(track: Track, *, frame_height: float | None = None) -> str:
    """A descriptive label from the box shape, motion and events (see the module docstring);
    `frame_height` (pixels) rules out boxes too small to be a vehicle (VEHICLE_MIN_HEIGHT).
    A track whose class was recognized (extra "label_source" "detector" or "user") keeps it, and
    so does an "ambience" object made by video.clutter ("label_source" "clutter")."""
    if track.extra.get("label_source") in ("detector", "user", "clutter"):
        return track.label
    w = track.boxes[:, 2] - track.boxes[:, 0]
    h = track.boxes[:, 3] - track.boxes[:, 1]
    aspect = float(np.median(h / np.maximum(w, 1e-9)))
    kinds = {e.kind for e in track.events}
    if "step" in kinds or aspect > 1.6:
        return "walker"
    if "impact" in kinds and 0.7 <= aspect <= 1.4 and centre_stray(track) >= BALL_MIN_TRAVEL:
        return "ball"
    motion = np.abs(np.diff(track.centers, axis=0)).sum(axis=0) if len(track) > 1 else np.zeros(2)
    wide = 1 / VEHICLE_ASPECT[1] <= aspect < 1 / VEHICLE_ASPECT[0]
    big = frame_height is None or float(np.median(h)) >= VEHICLE_MIN_HEIGHT * frame_height
    if wide and big and motion[0] > 2 * motion[1]:
        return "vehicle"
    return "object"
