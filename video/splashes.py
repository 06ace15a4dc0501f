"""Splashes: a falling thing that sinks out of sight in a spray of fragments.

A box tracker sees a thing falling into water (or snow, sand, a pile of leaves) badly: it is
hidden as it goes in, and its box turns into whatever is left (the spray, the ripples), so the
path shows no sharp stop for the event detectors (video.events, the learned one) to call a
contact. The picture shows the moment plainly in three things at once, and each alone is
common, so all three are asked for:

- the thing falls: its box's top moves down through the scene (the camera's pan taken out) at
  `min_fall` box sizes a second or more over the last `fall_seconds`, its bottom down too or
  held where it goes in;
- it sinks out of sight: within `sink_seconds` its own motion blob (the largest motion box on
  its box) shrinks to `max_remaining` of what it was just before, away from the picture's bottom
  edge (a thing leaving the picture shrinks too, silently);
- a spray is thrown up there: `min_fragments` small motion boxes (fragments at most
  `fragment_size` of its box size) appear round it on one frame, where no fragment was the frame
  before, and stay round it for `spray_seconds`.

Something falling behind a wall sinks out of sight without a spray; a thing breaking up as it
moves throws fragments without falling and sinking. The splash's time is midway between the
last frame without fragments and the first with them: the spray starts at the contact.

`MotionBoxLog` keeps the motion boxes of every frame (a few numbers a frame) for this look back
once tracks are final; `attach_splashes` adds each track's splashes as "splash" events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from video.base.tracks import Event, Track, VideoInfo
from video.clutter import AMBIENCE
from video.events import dense_boxes, event_time
from video.tracker import in_scene

SPLASH = "splash"
_NO_BOXES = np.zeros((0, 4), np.float32)


@dataclass(frozen=True)
class SplashConfig:
    """Thresholds of the splash rule (sizes in box sizes: the square root of the box's area).

    fall_seconds / min_fall: how long and how fast (box sizes a second, its top) the
    thing must fall first. sink_seconds / max_remaining: within how long its own blob must
    shrink, and to what share of its area before. fragment_size: the largest fragment, in box
    sizes; ring: how far round the box (box sizes) fragments count. min_fragments: how many
    must appear at once and then stay for spray_seconds. bottom_margin: a box whose bottom is
    within this share of the picture's height from its bottom edge leaves the picture, it does
    not sink. min_size: boxes smaller than this share of the picture's longer side are too small
    to tell fragments from; max_size: a box wider or taller than this share of the picture's
    width or height is a region (a whole-picture track of a shaking camera), not a thing that
    falls. strength: the splash event's strength at `min_fall`; it grows with the
    fall's speed up to 1.
    """

    enabled: bool = True
    fall_seconds: float = 0.3
    min_fall: float = 0.5
    sink_seconds: float = 0.25
    max_remaining: float = 0.35
    fragment_size: float = 0.5
    ring: float = 1.0
    min_fragments: int = 2
    spray_seconds: float = 0.15
    bottom_margin: float = 0.05
    min_size: float = 0.04
    max_size: float = 0.5
    strength: float = 0.6

    def __post_init__(self) -> None:
        for name in ("fall_seconds", "sink_seconds", "spray_seconds", "min_fall", "ring"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        for name in ("max_remaining", "fragment_size", "bottom_margin", "min_size", "max_size",
                     "strength"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in (0, 1], got {getattr(self, name)}")
        if self.min_fragments < 1:
            raise ValueError(f"min_fragments must be >= 1, got {self.min_fragments}")


class MotionBoxLog:
    """The motion boxes (source pixels) of every analysed frame, by frame index: one growing
    float32 table of (frame, x0, y0, x1, y1) rows, 20 bytes a box, so that an hour's analysis
    keeps a few megabytes, not a Python object per frame."""

    def __init__(self) -> None:
        self._rows = np.zeros((1024, 5), np.float32)
        self._count = 0
        self._sorted = True

    def add(self, index: int, boxes: np.ndarray) -> None:
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        if not len(boxes):
            return
        end = self._count + len(boxes)
        if end > len(self._rows):
            grown = np.zeros((max(end, 2 * len(self._rows)), 5), np.float32)
            grown[:self._count] = self._rows[:self._count]
            self._rows = grown
        if self._count and index < self._rows[self._count - 1, 0]:
            self._sorted = False
        self._rows[self._count:end, 0] = index
        self._rows[self._count:end, 1:] = boxes
        self._count = end

    def at(self, index: int) -> np.ndarray:
        """The boxes of frame `index` ((0, 4) where there were none)."""
        rows = self._rows[:self._count]
        if not self._sorted:
            rows[:] = rows[np.argsort(rows[:, 0], kind="stable")]
            self._sorted = True
        lo, hi = np.searchsorted(rows[:, 0], [index, index + 1])
        return rows[lo:hi, 1:] if hi > lo else _NO_BOXES


def _sizes(boxes: np.ndarray) -> np.ndarray:
    return np.sqrt(np.clip(boxes[:, 2] - boxes[:, 0], 0, None) *
                   np.clip(boxes[:, 3] - boxes[:, 1], 0, None))


def _own_blob(boxes: np.ndarray, box: np.ndarray) -> int | None:
    """Index of the largest of `boxes` that overlaps `box` (None: none does)."""
    if not len(boxes):
        return None
    w = np.minimum(boxes[:, 2], box[2]) - np.maximum(boxes[:, 0], box[0])
    h = np.minimum(boxes[:, 3], box[3]) - np.maximum(boxes[:, 1], box[1])
    touching = (w > 0) & (h > 0)
    if not touching.any():
        return None
    areas = np.where(touching, _sizes(boxes) ** 2, -1.0)
    return int(np.argmax(areas))


def _fragments(boxes: np.ndarray, box: np.ndarray, size: float,
               config: SplashConfig) -> np.ndarray:
    """The small boxes round `box` (their centres within `ring` box sizes of it), other than
    its own blob."""
    if not len(boxes):
        return _NO_BOXES
    own = _own_blob(boxes, box)
    small = np.max(boxes[:, 2:] - boxes[:, :2], axis=1) <= config.fragment_size * size
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    reach = config.ring * size
    near = ((cx >= box[0] - reach) & (cx <= box[2] + reach) &
            (cy >= box[1] - reach) & (cy <= box[3] + reach))
    keep = small & near
    if own is not None:
        keep[own] = False
    return boxes[keep]


def _new(fragments: np.ndarray, before: np.ndarray) -> int:
    """How many of `fragments` have no fragment of the frame before near them (within 1.5 of
    their own longer side): they appeared."""
    if not len(before):
        return len(fragments)
    centres = (fragments[:, :2] + fragments[:, 2:]) / 2
    old = (before[:, :2] + before[:, 2:]) / 2
    reach = 1.5 * np.max(fragments[:, 2:] - fragments[:, :2], axis=1)
    dist = np.linalg.norm(centres[:, None, :] - old[None, :, :], axis=2)
    return int(np.sum(dist.min(axis=1) > reach))


def _falling(scene: np.ndarray, i: int, k: int, size: float, fps: float) -> float:
    """How fast (box sizes / s) the box's top moves down over the `k` frames up to `i`, while
    its bottom moves down or stays (a sinking thing's bottom is hidden where it goes in); 0 when
    the bottom rises (a box growing upwards, or a thing coming nearer, does not fall)."""
    top = scene[i, 1] - scene[i - k, 1]
    bottom = scene[i, 3] - scene[i - k, 3]
    return 0.0 if bottom < 0 else float(top / size * fps / k)


def _sinks(log: MotionBoxLog, boxes: np.ndarray, frames: np.ndarray, f: int, k: int, m: int,
           config: SplashConfig) -> bool:
    """Whether the thing's own blob, at its largest over the `k` frames before `f`, shrinks to
    `max_remaining` of that area within the `m` frames from `f` (its last box stands for it
    after the track ends)."""
    def own_area(g: int) -> float:
        box = boxes[min(max(g - int(frames[0]), 0), len(boxes) - 1)]
        found = log.at(g)
        j = _own_blob(found, box)
        return 0.0 if j is None else float(_sizes(found[j:j + 1])[0] ** 2)

    before = max(own_area(g) for g in range(f - k, f))
    after = min(own_area(g) for g in range(f, f + m))
    return before > 0 and after <= config.max_remaining * before


def _sprays(log: MotionBoxLog, box: np.ndarray, size: float, f: int, n: int,
            config: SplashConfig) -> bool:
    """Whether `min_fragments` fragments appear round `box` on frame `f` and fragments stay
    round it for the `n` frames after."""
    now = _fragments(log.at(f), box, size, config)
    if len(now) < config.min_fragments:
        return False
    if _new(now, _fragments(log.at(f - 1), box, size, config)) < config.min_fragments:
        return False
    return all(len(_fragments(log.at(g), box, size, config)) >= config.min_fragments
               for g in range(f + 1, f + n + 1))


def track_splashes(track: Track, log: MotionBoxLog, *, info: VideoInfo,
                   camera: np.ndarray | None = None, barriers: Sequence[int] = (),
                   config: SplashConfig = SplashConfig()) -> list[Event]:
    """The splashes of one track: its frames where it has fallen, sinks out of sight and a spray
    appears round it (module docstring). `camera`: the cumulative camera pan per frame.
    `barriers`: the first frames of shots (cuts) and of new backgrounds (the motion detector's
    restarts); none is looked across, as a new shot's picture is no spray."""
    fps = float(info.fps)
    k = max(2, round(config.fall_seconds * fps))
    m = max(1, round(config.sink_seconds * fps))
    n = max(1, round(config.spray_seconds * fps))
    if len(track) < 2:
        return []
    frames, boxes, _ = dense_boxes(track)
    scene = dense_boxes(in_scene(track, camera))[1]
    floor = info.height * (1.0 - config.bottom_margin)
    smallest = config.min_size * max(info.width, info.height)
    widest, tallest = config.max_size * info.width, config.max_size * info.height
    found: list[Event] = []
    walls = np.sort(np.asarray(barriers, np.int64))
    f = int(frames[0]) + k + 1
    while f <= int(frames[-1]) + 1:
        i = f - 1 - int(frames[0])
        # a barrier among the frames the three signs look at (the fall's first to the spray's
        # and the sinking's last)
        if np.any((walls > f - 1 - k) & (walls <= f + max(n, m))):
            f += 1
            continue
        box = boxes[i]
        size = float(_sizes(box[None])[0])
        if size >= smallest and box[3] <= floor and box[2] - box[0] <= widest and \
                box[3] - box[1] <= tallest:
            fall = _falling(scene, i, k, size, fps)
            if fall >= config.min_fall and _sprays(log, box, size, f, n, config) and \
                    _sinks(log, boxes, frames, f, k, m, config):
                strength = min(1.0, config.strength * fall / config.min_fall)
                found.append(Event(time=event_time(info, f - 0.5), strength=strength,
                                   kind=SPLASH))
                f += k            # it has gone in: the next splash needs a new fall
                continue
        f += 1
    return found


def attach_splashes(tracks: Sequence[Track], log: MotionBoxLog, *, info: VideoInfo,
                    camera: np.ndarray | None = None, barriers: Sequence[int] = (),
                    config: SplashConfig = SplashConfig()) -> list[Track]:
    """`tracks` with each one's splashes added to its events (in time order); `barriers` as in
    `track_splashes`. A region's background motion (ambience) falls into nothing."""
    out = []
    for track in tracks:
        if track.label == AMBIENCE:
            out.append(track)
            continue
        splashes = track_splashes(track, log, info=info, camera=camera, barriers=barriers,
                                  config=config)
        if splashes:
            events = tuple(sorted((*track.events, *splashes), key=lambda e: e.time))
            track = track.with_changes(events=events)
        out.append(track)
    return out
