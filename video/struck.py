"""Objects at rest set moving: the onset of a struck, flicked, kicked or picked-up object.

A box tracker sees such a contact late or not at all: an object at rest is (or soon becomes) part
of the background, and at the contact it merges with whatever struck it into one motion blob; its
own track starts only once it has left that blob, frames later. The picture shows the moment
plainly, though: the object stops being where it rested.

`RestWatch` runs beside the motion detector. A small box that holds still for `rest_seconds`
(in the scene: the camera's pan is taken out) is an object at rest; its gray picture is kept as
a template, and every later frame the template is matched at its home (moved with the camera).
While it matches, the object is there. When it stops matching while a moving blob touches the
home, and the home then holds still looking different (the object has gone; a mover passing
over it would keep changing it, or uncover it again), the object was set moving between the
last frame it matched and the first it did not: that midpoint is the onset (`Launch`).

An object that lay still from the start (or long before the watch could see it rest) is part of
the background and has no motion box to be found resting by. When it leaves, the motion detector
finds its old place as a ghost a few frames later; the watch keeps the last `memory_seconds` of
frames, so it takes the object's picture from the oldest of them and replays them through the
same test. It counts only if no motion box covered the place before it left (a hand or a tool
that had rested in view and moves on is not an object of the background set moving).

`attach_launches` gives each launch, as an "onset" event, to the track that carries the object
away: one whose box overlaps the home in the frames after the onset. Things that move by
themselves (people, animals, vehicles) starting off get no onset: nothing struck them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from video.base.tracks import Event, Track, VideoInfo
from video.clutter import AMBIENCE
from video.events import event_time
from video.tracker import box_areas, intersection_matrix, iou_matrix

ONSET = "onset"
# classes (and box-shape labels) that start moving by themselves: their start is not a contact
SELF_PROPELLED = frozenset({"person", "car", "bus", "truck", "motorcycle", "train", "bicycle",
                            "dog", "cat", "horse", "cow", "sheep", "bird", "elephant", "bear",
                            "zebra", "giraffe", "airplane", "boat", "walker", "vehicle"})


@dataclass(frozen=True)
class StruckConfig:
    """Options of the rest watch (sizes relative to the frame's longer side).

    rest_seconds: how long a box must hold still to be an object at rest. still_iou: the overlap
    (in the scene) with its earlier boxes that counts as still. min_size / max_size: the rest
    box's shorter / longer side limits (small things are struck; a whole region is not).
    min_contrast: a template flatter than this (gray levels, standard deviation) cannot be told
    from the floor it lies on. hold / gone: the template's normalized correlation at home above
    which the object is there, below which it has left. confirm_seconds: how long the home must
    then look different, and still_level: how little (mean gray difference over 2 frames) it may
    change by then: the object has gone, not a mover passing over it. touch: how close (of the
    rest box's size) a moving blob must come for the object to have been touched.
    sudden_seconds: the object must go from matching well to gone within this long (a hit); one
    that fades out slower was pushed or slid off (no onset). max_wait_s: an object whose home
    keeps changing this long after it left is forgotten unclaimed. memory_seconds: how far back
    frames are kept, to watch an object of the background from before it left once its ghost
    (its old place) is found. carry_gap: how far (in rest box sizes) the track that carries the
    object away may be from its home just after the onset. forget_seconds: an object at rest is
    forgotten this long after it was last seen. max_watched: at most this many objects are
    watched at once (the oldest are forgotten). strength: the onset event's strength.
    """

    enabled: bool = True
    rest_seconds: float = 0.25
    still_iou: float = 0.8
    min_size: float = 0.03
    max_size: float = 0.3
    min_contrast: float = 6.0
    hold: float = 0.8
    gone: float = 0.5
    confirm_seconds: float = 0.2
    still_level: float = 6.0
    touch: float = 0.25
    sudden_seconds: float = 0.07
    max_wait_s: float = 1.0
    memory_seconds: float = 0.6
    carry_gap: float = 1.0
    forget_seconds: float = 30.0
    max_watched: int = 16
    strength: float = 0.7

    def __post_init__(self) -> None:
        for name in ("rest_seconds", "confirm_seconds", "max_wait_s", "forget_seconds",
                     "min_contrast", "still_level", "touch", "sudden_seconds", "carry_gap",
                     "memory_seconds"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        for name in ("still_iou", "hold", "gone", "strength"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in 0..1, got {getattr(self, name)}")
        if not 0.0 < self.min_size <= self.max_size <= 1.0:
            raise ValueError("sizes need 0 < min_size <= max_size <= 1")
        if self.gone > self.hold:
            raise ValueError("gone must not exceed hold")
        if self.max_watched < 1:
            raise ValueError(f"max_watched must be >= 1, got {self.max_watched}")


@dataclass(frozen=True)
class Launch:
    """An object at rest set moving: when (`position`, a fractional frame index: midway between
    the last frame it was at rest and `frame`, the first it was gone), and where it rested
    (`box`, source pixels, on the screen at `frame`)."""

    position: float
    frame: int
    box: tuple[float, float, float, float]


@dataclass(eq=False)
class _Resting:
    """An object at rest being watched (gray px, on the screen of the last frame looked at)."""

    box: np.ndarray            # screen box (gray px) where it last matched
    template: np.ndarray       # gray picture of it at rest
    seen: int                  # last frame it matched well (>= hold)
    there: int                 # last frame it still matched at all (>= gone)
    left: int | None = None    # first frame it no longer matched (< gone)
    touched: bool = False      # a moving blob touched it when it left
    crops: deque[np.ndarray] = field(default_factory=lambda: deque(maxlen=3))


@dataclass(frozen=True, eq=False)
class _Frame:
    """A recent frame as the watch saw it (gray px, its own screen)."""

    index: int
    gray: np.ndarray
    screen: np.ndarray
    offset: np.ndarray


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of `box` (4,) with each of `boxes` (n, 4)."""
    return iou_matrix(box[None], boxes)[0]


def _crop(gray: np.ndarray, x: int, y: int, w: int, h: int) -> np.ndarray | None:
    """gray[y:y+h, x:x+w], or None where that is not wholly on screen."""
    rows, cols = gray.shape[:2]
    if x < 0 or y < 0 or x + w > cols or y + h > rows or w < 4 or h < 4:
        return None
    return gray[y:y + h, x:x + w]


def _pad(width: int, height: int) -> int:
    """How far around its place (gray px) an object at rest is looked for."""
    return max(2, int(round(0.15 * min(width, height))))


def _corner(box: np.ndarray) -> tuple[int, int]:
    """A box's top-left pixel."""
    return int(round(box[0])), int(round(box[1]))


class RestWatch:
    """Streaming: `update` every analysed frame in order with its motion boxes; `launches`
    holds what was found. `reset` at a cut (nothing rests across one)."""

    def __init__(self, fps: float, *, config: StruckConfig = StruckConfig()) -> None:
        self.fps = float(fps)
        self.config = config
        self.launches: list[Launch] = []
        self._rest_frames = max(2, round(config.rest_seconds * self.fps))
        self._confirm = max(1, round(config.confirm_seconds * self.fps))
        self._sudden = max(1, round(config.sudden_seconds * self.fps))
        self._max_wait = max(self._confirm, round(config.max_wait_s * self.fps))
        self._memory = max(self._rest_frames + 4, round(config.memory_seconds * self.fps))
        self._forget = max(1, round(config.forget_seconds * self.fps))
        self.reset()

    def reset(self) -> None:
        """Forget everything at rest (a new shot)."""
        self._resting: list[_Resting] = []
        self._recent: deque[_Frame] = deque(maxlen=self._memory)

    def update(self, index: int, boxes: np.ndarray, gray: np.ndarray, *, to_gray: float,
               pan: np.ndarray, ghosts: np.ndarray | None = None) -> None:
        """One frame: its motion boxes (source px), its gray picture, `to_gray` (gray px per
        source px), the camera's cumulative pan at it (source px), and the ghosts the motion
        detector found in it (source px: places that objects of the background have left)."""
        offset = np.tile(np.asarray(pan, np.float64) * to_gray, 2)
        screen = np.asarray(boxes, np.float64).reshape(-1, 4) * to_gray
        before = self._recent[-1] if self._recent else _Frame(index, gray, np.zeros((0, 4)),
                                                                offset)
        self._recent.append(_Frame(index, gray, screen, offset))
        self._resting = [e for e in self._resting
                         if self._look(e, index, gray, offset - before.offset, to_gray,
                                       before.screen)]
        for ghost in np.asarray(ghosts if ghosts is not None else (), np.float64).reshape(-1, 4):
            self._from_ghost(ghost * to_gray, to_gray)
        self._find_resting(index, screen, gray, offset)

    # -- internals ------------------------------------------------------------------------------

    def _still(self, box: np.ndarray, offset: np.ndarray, past: Sequence[_Frame]) -> bool:
        """Whether `box` was there on each of the `past` frames: in the scene (the camera's pan
        taken out) or on the screen (the pan estimate can be wrong where the picture has few
        corners, or is fooled by what moves in it)."""
        iou = self.config.still_iou
        scene = all(len(f.screen) and _iou(box - offset, f.screen - f.offset).max() >= iou
                    for f in past)
        return scene or all(len(f.screen) and _iou(box, f.screen).max() >= iou for f in past)

    def _new(self, box: np.ndarray, gray: np.ndarray) -> bool:
        """Whether `box` (gray px) has the size of an object that can be struck, and is not
        already watched."""
        cfg = self.config
        side = max(gray.shape[:2])
        w, h = box[2] - box[0], box[3] - box[1]
        return cfg.min_size * side <= min(w, h) and max(w, h) <= cfg.max_size * side and \
            not any(_iou(box, e.box).max() > 0.3 for e in self._resting)

    def _entry(self, box: np.ndarray, gray: np.ndarray, index: int) -> _Resting | None:
        """A watch on the object in `box` of `gray` (frame `index`), its picture the template;
        None where that picture is flat, or too near the edge to be looked for around its
        place."""
        x, y = _corner(box)
        tw, th = int(round(box[2] - box[0])), int(round(box[3] - box[1]))
        pad = _pad(tw, th)
        template = _crop(gray, x, y, tw, th)
        if template is None or float(template.std()) < self.config.min_contrast or \
                _crop(gray, x - pad, y - pad, tw + 2 * pad, th + 2 * pad) is None:
            return None
        return _Resting(np.array(box, np.float64), template.astype(np.float32), index, index)

    def _find_resting(self, index: int, screen: np.ndarray, gray: np.ndarray,
                      offset: np.ndarray) -> None:
        """New objects at rest: boxes of a fitting size still over the last `rest_seconds`
        (the frames before this one)."""
        past = list(self._recent)[-self._rest_frames - 1:-1]
        if len(past) < self._rest_frames:
            return
        cfg = self.config
        for box in screen:
            if self._new(box, gray) and self._still(box, offset, past):
                entry = self._entry(box, gray, index)
                if entry is not None:
                    self._resting.append(entry)
        if len(self._resting) > cfg.max_watched:
            self._resting = sorted(self._resting, key=lambda e: e.seen)[-cfg.max_watched:]

    def _match(self, entry: _Resting, gray: np.ndarray, moved: np.ndarray
               ) -> tuple[float, np.ndarray] | None:
        """Best normalized correlation of the template near where it was (searched around both
        its last place and that place moved with the camera) and the box there; None off
        screen."""
        th, tw = entry.template.shape
        pad = _pad(tw, th)
        a, b = entry.box, entry.box + moved
        x0 = int(np.floor(min(a[0], b[0]))) - pad
        y0 = int(np.floor(min(a[1], b[1]))) - pad
        x1 = int(np.ceil(max(a[0], b[0]))) + tw + pad
        y1 = int(np.ceil(max(a[1], b[1]))) + th + pad
        window = _crop(gray, x0, y0, x1 - x0, y1 - y0)
        if window is None:
            return None
        scores = cv2.matchTemplate(window.astype(np.float32), entry.template,
                                   cv2.TM_CCOEFF_NORMED)
        _, best, _, (bx, by) = cv2.minMaxLoc(scores)
        return float(best), np.array([x0 + bx, y0 + by, x0 + bx + tw, y0 + by + th], np.float64)

    def _look(self, entry: _Resting, index: int, gray: np.ndarray, moved: np.ndarray,
              to_gray: float, before: np.ndarray) -> bool:
        """Match one object at rest near its place; note when it leaves (`before`: the boxes of
        the frame before, for the touch), confirm it has gone. False: forget it."""
        cfg = self.config
        found = self._match(entry, gray, moved)
        if found is None:
            return False       # pushed off screen by the camera
        score, place = found
        if score >= cfg.hold:
            entry.box, entry.seen, entry.there = place, index, index
            entry.left, entry.touched = None, False
            entry.crops.clear()
            return True
        if score >= cfg.gone and entry.left is None:
            entry.there = index
        if index - entry.seen > self._forget:
            return False
        if entry.left is None:
            if score >= cfg.gone:
                return True
            entry.left = index
            entry.touched = self._touched(entry.box, before)
        entry.box = entry.box + moved
        x, y = _corner(entry.box)
        current = _crop(gray, x, y, *entry.template.shape[::-1])
        if current is None:
            return False
        entry.crops.append(current.astype(np.float32))
        waited = index - entry.left
        if waited >= self._confirm and score < cfg.gone and len(entry.crops) == 3 and \
                float(np.abs(entry.crops[-1] - entry.crops[0]).mean()) < cfg.still_level:
            if entry.touched and entry.left - entry.seen <= self._sudden:
                x0, y0, x1, y1 = (float(v) / to_gray for v in entry.box)
                self.launches.append(Launch(position=(entry.there + entry.left) / 2,
                                            frame=entry.left, box=(x0, y0, x1, y1)))
            return False
        return waited <= self._max_wait

    def _from_ghost(self, ghost: np.ndarray, to_gray: float) -> None:
        """An object that had become background (never seen moving before, or resting since
        before the watch's memory) left `ghost` (gray px, this frame's screen): watch it from
        the oldest remembered frame, where it was still there, up to this one."""
        frames = list(self._recent)
        if len(frames) < self._rest_frames + 2 or not self._new(ghost, frames[-1].gray):
            return
        first = frames[0]
        place = ghost - frames[-1].offset + first.offset
        entry = self._entry(place, first.gray, first.index)
        if entry is None:
            return
        found = len(self.launches)
        keep = True
        for prev, frame in zip(frames[:-1], frames[1:], strict=True):
            keep = self._look(entry, frame.index, frame.gray, frame.offset - prev.offset,
                              to_gray, prev.screen)
            if not keep:
                break
        left = entry.left if entry.left is not None else frames[-1].index
        if not self._background_before(place - first.offset, frames, left - 1):
            del self.launches[found:]      # it was (part of) something moving, not at rest
        elif keep and entry.left is not None:
            self._resting.append(entry)    # left but not yet confirmed gone: watch on

    def _background_before(self, scene: np.ndarray, frames: Sequence[_Frame], until: int
                           ) -> bool:
        """Whether no motion box covered half the place (`scene`: the camera's pan taken out)
        on the remembered frames before `until`: the object was part of the background, not
        of a blob that moved (a hand or a tool that had rested in view and now moves on)."""
        area = max(float(box_areas(scene[None])[0]), 1e-9)
        for frame in frames:
            if frame.index >= until or not len(frame.screen):
                continue
            cover = intersection_matrix((scene + frame.offset)[None], frame.screen)[0] / area
            if cover.max() >= 0.5:
                return False
        return True

    def _touched(self, home: np.ndarray, screen: np.ndarray) -> bool:
        """Whether a moving blob of `screen` (the boxes of the frame before it left: on the frame
        it leaves, its own moving blob would count), not its own still box, reached the home."""
        if not len(screen):
            return False
        size = float(min(home[2] - home[0], home[3] - home[1]))
        reach = self.config.touch * size
        grown = home + np.array([-reach, -reach, reach, reach])
        meets = intersection_matrix(grown[None], screen)[0] > 0
        own = _iou(home, screen) >= self.config.still_iou
        return bool(np.any(meets & ~own))


def attach_launches(tracks: Sequence[Track], launches: Sequence[Launch], *, info: VideoInfo,
                    config: StruckConfig = StruckConfig()) -> list[Track]:
    """`tracks` with an onset event for each launch on the track that carries the object away:
    of the tracks that are not self-propelled, the one nearest the home in the frames just after
    the onset (within `carry_gap` home sizes; the struck object's own track often starts a few
    frames late, beside the home). A launch whose object rested under a self-propelled thing (a
    person standing, a parked car), or that no track carries, is dropped."""
    events: dict[int, list[Event]] = {}
    after = max(1, round(config.confirm_seconds * float(info.fps)))
    for launch in launches:
        home = np.asarray(launch.box, np.float64)
        if _rested_under_mover(tracks, home, launch.frame):
            continue
        near = [(_gap(t, home, launch.frame, launch.frame + after), i)
                for i, t in enumerate(tracks)
                if t.label not in SELF_PROPELLED and t.label != AMBIENCE]
        near = [(g, i) for g, i in near if g <= config.carry_gap]
        if not near:
            continue
        # the nearest; of equally near ones, the one most like the object (a striker's blob
        # may lie over the home as well)
        closest = min(g for g, _ in near)
        best = max((i for g, i in near if g == closest),
                   key=lambda i: _best_iou(tracks[i], home, launch.frame, launch.frame + after))
        if _part_of(tracks[best], home, launch.frame):
            continue
        events.setdefault(best, []).append(Event(time=event_time(info, launch.position),
                                                 strength=config.strength, kind=ONSET))
    out = list(tracks)
    for i, added in events.items():
        track = out[i]
        merged = sorted([*track.events, *added], key=lambda e: e.time)
        out[i] = track.with_changes(events=tuple(merged))
    return out


def _during(track: Track, first: int, last: int) -> np.ndarray:
    """The track's boxes on frames first..last."""
    frames = np.asarray(track.frames)
    return np.asarray(track.boxes, np.float64)[(frames >= first) & (frames <= last)]


def _best_iou(track: Track, home: np.ndarray, first: int, last: int) -> float:
    """The track's best overlap with `home` on frames first..last."""
    boxes = _during(track, first, last)
    return float(_iou(home, boxes).max()) if len(boxes) else 0.0


def _gap(track: Track, home: np.ndarray, first: int, last: int) -> float:
    """The smallest gap (in home sizes; 0 where they overlap) between the track's box and
    `home` on frames first..last (inf when the track is not on screen then)."""
    boxes = _during(track, first, last)
    if not len(boxes):
        return float("inf")
    dx = np.maximum(boxes[:, 0] - home[2], home[0] - boxes[:, 2])
    dy = np.maximum(boxes[:, 1] - home[3], home[1] - boxes[:, 3])
    size = max(float(min(home[2] - home[0], home[3] - home[1])), 1e-9)
    return float(np.maximum(np.maximum(dx, dy), 0.0).min() / size)


def _rested_under_mover(tracks: Sequence[Track], home: np.ndarray, frame: int) -> bool:
    """Whether a self-propelled track's box held the home just before the onset (the thing at
    rest was a person standing or a vehicle waiting, not an object)."""
    for track in tracks:
        if track.label in SELF_PROPELLED:
            boxes = _boxes_before(track, frame)
            if len(boxes) and _iou(home, boxes).max() >= 0.5:
                return True
    return False


def _part_of(track: Track, home: np.ndarray, frame: int, *, cover: float = 0.8,
             larger: float = 4.0) -> bool:
    """Whether the track's box held `home` (at least `cover` of it) just before `frame` while
    being at least `larger` times its area."""
    boxes = _boxes_before(track, frame)
    if not len(boxes):
        return False
    area = max(float(box_areas(home[None])[0]), 1e-9)
    inside = intersection_matrix(home[None], boxes)[0] / area
    areas = box_areas(boxes)
    return bool(np.any((inside >= cover) & (areas >= larger * area)))


def _boxes_before(track: Track, frame: int, span: int = 3) -> np.ndarray:
    """The track's boxes on the `span` frames before `frame`."""
    return _during(track, frame - span, frame - 1)
