"""Hand contacts: where a hand takes hold of an object (`touch`) and lets go of it (`release`).

A hand reaching for a cup, catching a ball or letting go of one is a contact the object's own
path does not show: an object at rest is not even tracked until it moves, and a ball leaving a
hand has no velocity reversal. So hands are looked for in the picture (video.hands: MediaPipe's
palm detector and hand landmarks) round the objects that a hand could hold, in a second
decoding pass after the analysis, on those objects only:

- **Which objects**: not people, vehicles or ambience beds, not larger than `max_object` of
  the picture, and not thin streaks (`max_aspect`). Each is watched from `before` seconds ahead of its track (the hand reaching a
  thing at rest, which the tracker only follows once it moves) to `after` seconds past its end
  (the hand letting go of a thing set down), at its first/last box there. Where the motion box
  took in the hand holding the object (over `SWOLLEN` times its usual area), the object is
  found inside it by its picture (a template from its first box of its usual size).
- **How often**: while no hand is near, the palm detector searches a square round the object
  (`grow` times its box, at least `min_side` pixels) `scan_rate` times a second. Once a hand is
  found near (within `near_gap` hand sizes of the box), it is followed on every `rate`-th of a
  second by its landmarks alone, backwards over the frames since the last search as well, until
  it is lost or far; so a clip with no hand near its objects costs a few palm searches a second.
- **The contact**: on each look, the gap is the distance from the nearest of the hand's 21
  points to the object's box, in hand sizes (wrist to the middle finger's base); 0 inside it.
  The hand holds the object at or under `touch_gap`, and is apart from it at or over
  `apart_gap` (between the two, the last state holds). A `touch` is a stretch apart (at least
  `min_apart` s) followed by one held (at least `min_contact` s: a hand sweeping past in front
  of a thing is not holding it); a `release` is the reverse. Each is timed where the gap crosses
  `touch_gap`: the free hand's gap (its last two looks plainly apart before a touch, its first
  two after a release; plainly: over the middle of the two levels) carried on in a line, within the looks around the change (a hand on the
  object has a gap of landmark noise, a free one a gap that moves with it); and placed (the
  event's `x`) at the hand's point nearest the box.
- **How hard**: a touch's strength follows how fast the gap closed (hand sizes a second), from
  `min_strength` to `max_strength` at `full_speed` (a hand taking hold is a handling sound, never
  a full hit); a release is a faint
  `release_strength`, and the renderer plays no one-shot on it (it is a marker: a thing let go
  makes no sound of its own).

Hands not found at all (too small, turned edge-on, blurred) leave the object without contacts;
missing weights give one warning. No hand contact is looked for with the pose off.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from video.base.progress import ProgressFn, report, warn_line
from video.base.threads import opencv_threads
from video.base.tracks import HAND_KINDS, Analysis, Event, Track, VideoInfo, contact_events
from video.events import dense_boxes
from video.hands import Hand, HandModel, HandsUnavailable, load_hand_model, square_region
from video.reader import VideoFrame, VideoReader
from video.seeded import template_score

TOUCH, RELEASE = HAND_KINDS
# labels whose objects a hand does not hold (people hold things; vehicles are driven)
# a motion box over this many times its track's median area took in the hand holding the object
SWOLLEN = 1.6
# the object's template is at least this many pixels a side; a match under MIN_MATCH is no match
MIN_TEMPLATE = 6
MIN_MATCH = 0.5
NOT_HELD = frozenset({"person", "ambience", "car", "truck", "bus", "train", "motorcycle",
                      "bicycle", "airplane", "boat", "vehicle", "walker"})


@dataclass(frozen=True)
class HandContactConfig:
    """Options of hand contacts (module docstring). enabled: look for hands at all. rate: looks
    a second while a hand is followed. scan_rate: palm searches a second while none is near.
    before / after: seconds watched ahead of an object's track and past it. grow / min_side:
    the searched square (the box's longer side times `grow`, at least `min_side` pixels).
    min_palm / min_hand: palm detector and landmark model scores a hand needs. near_gap: a hand
    within this many hand sizes of the box is followed. touch_gap / apart_gap: held at or under,
    apart at or over (hand sizes). min_apart / min_contact: seconds each state must last.
    max_step: looks further apart (s) are not joined. full_speed: gap closing speed (hand sizes
    a second) of the hardest touch; min_strength / max_strength: the softest and the hardest
    touch; release_strength: a release's. max_object: share of the picture's area above which an object is not held;
    max_aspect: nor is one whose box is longer than this many times its width (the thin
    streaks motion boxes leave along a moving arm's edge).
    max_side: frames are decoded at most this large. threads: CPU threads of the models.
    weights: other copies of the (palm, landmark) model files (tests)."""

    enabled: bool = True
    rate: float = 15.0
    scan_rate: float = 3.0
    before: float = 1.0
    after: float = 1.0
    grow: float = 4.0
    min_side: float = 128.0
    min_palm: float = 0.5
    min_hand: float = 0.5
    near_gap: float = 2.5
    touch_gap: float = 0.15
    apart_gap: float = 0.5
    min_apart: float = 0.15
    min_contact: float = 0.2
    max_step: float = 0.35
    full_speed: float = 8.0
    min_strength: float = 0.2
    max_strength: float = 0.7
    release_strength: float = 0.15
    max_object: float = 0.25
    max_aspect: float = 4.0
    max_side: int = 960
    threads: int = 2
    weights: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        if not (self.rate > 0 and self.scan_rate > 0 and self.full_speed > 0):
            raise ValueError("rate, scan_rate and full_speed must be positive")
        if self.before < 0 or self.after < 0 or self.min_apart < 0 or self.min_contact < 0:
            raise ValueError("before, after, min_apart and min_contact must be >= 0")
        if self.min_strength > self.max_strength:
            raise ValueError("min_strength must not be above max_strength")
        if not 0 <= self.touch_gap < self.apart_gap <= self.near_gap:
            raise ValueError("need 0 <= touch_gap < apart_gap <= near_gap")
        for name in ("min_palm", "min_hand", "min_strength", "max_strength", "release_strength",
                     "max_object"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in 0..1, got {getattr(self, name)}")
        if self.max_aspect < 1:
            raise ValueError(f"max_aspect must be at least 1, got {self.max_aspect}")
        if self.grow < 1 or self.min_side < 16 or self.max_side < 64 or self.threads < 1:
            raise ValueError("grow must be >= 1, min_side >= 16, max_side >= 64, threads >= 1")
        if not self.max_step > 0:
            raise ValueError(f"max_step must be positive, got {self.max_step}")


# ----------------------------------------------------------------------------------------------
# the contacts in a series of gaps


def hand_gap(hand: Hand, box: np.ndarray) -> tuple[float, float]:
    """(gap, x): the distance from the hand's nearest point to the box (x0, y0, x1, y1), in
    hand sizes (0 when a point is inside it), and that point's x."""
    p = hand.points
    dx = np.maximum(np.maximum(box[0] - p[:, 0], p[:, 0] - box[2]), 0.0)
    dy = np.maximum(np.maximum(box[1] - p[:, 1], p[:, 1] - box[3]), 0.0)
    d = np.hypot(dx, dy)
    k = int(np.argmin(d))
    return float(d[k]) / hand.size(), float(p[k, 0])


def _states(gaps: np.ndarray, *, touch: float, apart: float) -> np.ndarray:
    """Per look: 1 held, 0 apart, -1 not seen (NaN gap); between the thresholds the last state
    holds (at the start: apart)."""
    out = np.full(len(gaps), -1, dtype=np.int64)
    last = 0
    for i, g in enumerate(gaps):
        if np.isnan(g):
            continue
        last = 1 if g <= touch else 0 if g >= apart else last
        out[i] = last
    return out


def _runs(times: np.ndarray, states: np.ndarray, *, max_step: float
          ) -> list[tuple[int, int, int]]:
    """(state, first look, last look) of each stretch of one state among the seen looks; a
    stretch ends where the next seen look is more than `max_step` s later (then no transition
    joins the two)."""
    runs: list[tuple[int, int, int]] = []
    seen = np.flatnonzero(states >= 0)
    for i in seen.tolist():
        if runs and runs[-1][0] == states[i] and times[i] - times[runs[-1][2]] <= max_step:
            runs[-1] = (runs[-1][0], runs[-1][1], i)
        else:
            runs.append((int(states[i]), i, i))
    return runs


def _crossing(times: np.ndarray, gaps: np.ndarray, free: Sequence[int], held: int, *,
              level: float) -> float:
    """When the gap crossed `level` between the free hand's looks `free` (one or two looks, the
    one next to the contact last) and the look `held` on the other side: the free hand's gap
    carried on in a line (the hand moves freely there, while the gap of a hand on the object is
    the landmarks' noise), or with one free look, the line from it to the held look; kept
    between the two looks."""
    near, far = free[-1], free[0]
    t_near, g_near = float(times[near]), float(gaps[near])
    if far != near:
        slope = (g_near - float(gaps[far])) / (t_near - float(times[far]))
    else:
        slope = (float(gaps[held]) - g_near) / (float(times[held]) - t_near)
    t = t_near
    if slope != 0 and np.isfinite(slope) and (slope < 0) == (times[held] > t_near):
        t += (level - g_near) / slope
    lo, hi = sorted((t_near, float(times[held])))
    return float(np.clip(t, lo, hi))


def _seen_in(gaps: np.ndarray, run: tuple[int, int, int]) -> list[int]:
    """The looks of a run where a hand was seen (a run may span looks that saw none)."""
    return [i for i in range(run[1], run[2] + 1) if not np.isnan(gaps[i])]


def _free_looks(gaps: np.ndarray, run: tuple[int, int, int], level: float, *,
                last: bool) -> list[int]:
    """Two looks of an apart run whose gap is at least `level` (the hand plainly off the
    object, not the wobble of one already on it), in time order: its last two (before a touch,
    `last`) or its first two (after a release, reversed so the look next to the contact is
    last); the run's look next to the contact where none is."""
    free = [i for i in _seen_in(gaps, run) if gaps[i] >= level]
    if last:
        return free[-2:] or [run[2]]
    return free[:2][::-1] or [run[1]]


def _first_close(gaps: np.ndarray, run: tuple[int, int, int], level: float) -> int:
    """The first look of a held run whose gap is at most `level` (its first look if none)."""
    close = [i for i in _seen_in(gaps, run) if gaps[i] <= level]
    return close[0] if close else run[1]


def _last_close(gaps: np.ndarray, run: tuple[int, int, int], level: float) -> int:
    """The last look of a held run whose gap is at most `level` (its last look if none)."""
    close = [i for i in _seen_in(gaps, run) if gaps[i] <= level]
    return close[-1] if close else run[2]


def contacts_from_gaps(times: np.ndarray, gaps: np.ndarray, xs: np.ndarray, *,
                       config: HandContactConfig = HandContactConfig()) -> list[Event]:
    """Touch and release events from a series of looks: times (s, ascending), gaps (hand
    sizes, NaN where no hand was seen) and the x of the hand's point nearest the object."""
    times = np.asarray(times, dtype=np.float64)
    gaps = np.asarray(gaps, dtype=np.float64)
    if not (len(times) == len(gaps) == len(xs)):
        raise ValueError("times, gaps and xs must have the same length")
    if len(times) > 1 and np.any(np.diff(times) <= 0):
        raise ValueError("times must be strictly increasing")
    states = _states(gaps, touch=config.touch_gap, apart=config.apart_gap)
    runs = _runs(times, states, max_step=config.max_step)

    def lasts(run: tuple[int, int, int], need: float) -> bool:
        # a run stands for its looks' span and half the step to the looks beside it (at most
        # `max_step`), so one look between two others half a second apart still counts
        first, last = run[1], run[2]
        before = min(times[first] - times[max(first - 1, 0)], config.max_step)
        after = min(times[min(last + 1, len(times) - 1)] - times[last], config.max_step)
        return (times[last] - times[first]) + (before + after) / 2 >= need - 1e-9

    middle = (config.touch_gap + config.apart_gap) / 2
    events: list[Event] = []
    for before, after in zip(runs, runs[1:], strict=False):
        if before[0] == after[0] or times[after[1]] - times[before[2]] > config.max_step:
            continue
        touch = after[0] == 1                   # apart, then held; else held, then apart
        apart, held = (before, after) if touch else (after, before)
        if not (lasts(apart, config.min_apart) and lasts(held, config.min_contact)):
            continue
        # the held look next to the change, and the free hand's looks beside it
        h = _first_close(gaps, held, config.touch_gap) if touch else \
            _last_close(gaps, held, config.touch_gap)
        free = _free_looks(gaps, apart, middle, last=touch)
        t = _crossing(times, gaps, free, h, level=config.touch_gap)
        if touch:
            # how fast the gap closed over the last apart looks: a reach's speed at the end
            k = _seen_in(gaps, apart)[-3:][0]
            rate = (gaps[k] - gaps[h]) / max(times[h] - times[k], 1e-6)
            share = float(np.clip(rate / config.full_speed, 0.0, 1.0))
            strength = config.min_strength + share * (config.max_strength - config.min_strength)
        else:
            strength = config.release_strength
        events.append(Event(time=t, strength=strength, kind=TOUCH if touch else RELEASE,
                            x=float(xs[h])))
    return events


# ----------------------------------------------------------------------------------------------
# watching objects for hands


def held_objects(analysis: Analysis, *, config: HandContactConfig = HandContactConfig()
                 ) -> list[int]:
    """Indices of the analysis's objects a hand could hold (module docstring)."""
    info = analysis.video
    area = float(info.width * info.height)
    out = []
    for i, track in enumerate(analysis.objects):
        if not len(track) or track.label in NOT_HELD:
            continue
        w = track.boxes[:, 2] - track.boxes[:, 0]
        h = track.boxes[:, 3] - track.boxes[:, 1]
        aspect = float(np.median(np.maximum(w, h) / np.maximum(np.minimum(w, h), 1.0)))
        if float(np.median(w * h)) <= config.max_object * area and aspect <= config.max_aspect:
            out.append(i)
    return out


@dataclass(frozen=True)
class Look:
    """What was seen on one frame of an object's watch: the object's box there (source
    pixels; None where it could not be told, see `_Watch`) and the hands seen (source pixels;
    empty: none)."""

    box: np.ndarray | None
    hands: tuple[Hand, ...]


@dataclass
class _Watch:
    """One object's watch (frames `first`..`last`): its dense boxes and which are swollen (a
    motion box that took in the hand holding the object: over `SWOLLEN` times the track's
    median area), the hands seen on each frame looked at, the hands followed now, the frames
    since the last palm search, and the object's picture for finding it inside swollen boxes:
    a gray template from the first frame whose box is not swollen, and the gray patch round
    each swollen box looked at. Outside the track (the second before and after it) the object
    is taken to be at rest at its first / last box only where its picture is still there: the
    track's first / last picture (`ends`, by whether it is the last) against the picture in
    that box on each frame looked at there (`outside`); a track that ended because the tracker
    lost an object still moving (carried on in the hand) must not make a release."""

    first: int
    last: int
    frames: np.ndarray
    boxes: np.ndarray
    swollen: np.ndarray
    hands: dict[int, list[Hand]] = field(default_factory=dict)
    followed: list[Hand] = field(default_factory=list)
    pending: list[VideoFrame] = field(default_factory=list)
    template: np.ndarray | None = None
    patches: dict[int, tuple[np.ndarray, float, float, float]] = field(default_factory=dict)
    ends: dict[bool, np.ndarray] = field(default_factory=dict)
    outside: dict[int, np.ndarray] = field(default_factory=dict)

    def _inside(self, index: int) -> bool:
        return int(self.frames[0]) <= index <= int(self.frames[-1])

    def _k(self, index: int) -> int:
        return int(np.clip(index - int(self.frames[0]), 0, len(self.frames) - 1))

    def box(self, index: int) -> np.ndarray:
        """The object's box on a frame (source pixels): its first before the track, its last
        after it."""
        return self.boxes[self._k(index)]

    def see(self, frame: VideoFrame) -> None:
        """Keep what the object looks like on a frame of its track: its template (the first
        unswollen box in the picture) and its pictures at the track's ends so far."""
        k = self._k(frame.index)
        if self.swollen[k] or not self._inside(frame.index):
            return
        patch = _cut(frame.image, self.boxes[k] * frame.scale)
        if patch is None or min(patch[0].shape[:2]) < MIN_TEMPLATE:
            return
        gray = _gray(patch[0])
        if self.template is None:
            self.template = gray
        self.ends.setdefault(False, gray)
        self.ends[True] = gray

    def record(self, frame: VideoFrame, hands: Sequence[Hand]) -> None:
        """The hands seen on a frame looked at, and the patch round a swollen box there, or
        outside the track the picture in the box."""
        self.hands[frame.index] = [_in_source(h, frame.scale) for h in hands]
        k = self._k(frame.index)
        if not self.swollen[k] and not self._inside(frame.index):
            patch = _cut(frame.image, self.boxes[k] * frame.scale)
            if patch is not None:
                self.outside[frame.index] = _gray(patch[0])
        elif self.swollen[k]:
            box = self.boxes[k]
            pad = 0.25 * np.array([-(box[2] - box[0]), -(box[3] - box[1]),
                                   box[2] - box[0], box[3] - box[1]])
            patch = _cut(frame.image, (box + pad) * frame.scale)
            if patch is not None:
                self.patches[frame.index] = (_gray(patch[0]), patch[1], patch[2], frame.scale)

    def looks(self) -> dict[int, Look]:
        """Each frame looked at, with the object's box there: the tracked box, or inside a
        swollen one, where the template matches best (None where it matches under
        `MIN_MATCH` or there is no template); outside the track, the first / last box where
        the object is still there (None where it is not)."""
        out = {}
        for index, hands in self.hands.items():
            k = self._k(index)
            box: np.ndarray | None = self.boxes[k]
            if self.swollen[k]:
                box = self._find(index)
            elif not self._inside(index) and not self._at_rest(index):
                box = None
            out[index] = Look(box, tuple(hands))
        return out

    def _at_rest(self, index: int) -> bool:
        """Whether the picture in the box on a frame outside the track is the track's picture
        at that end (correlation at least `MIN_MATCH`)."""
        seen = self.outside.get(index)
        reference = self.ends.get(index > int(self.frames[-1]))
        if seen is None or reference is None or min(seen.shape) < MIN_TEMPLATE:
            return False
        whole = np.array([0.0, 0.0, seen.shape[1], seen.shape[0]])
        return template_score(seen, whole, reference) >= MIN_MATCH

    def _find(self, index: int) -> np.ndarray | None:
        held = self.patches.get(index)
        if self.template is None or held is None:
            return None
        patch, x0, y0, scale = held
        clean = np.flatnonzero(~self.swollen)
        near = clean[np.argmin(np.abs(clean - self._k(index)))]
        w, h = (self.boxes[near, 2:] - self.boxes[near, :2]) * scale
        w, h = int(round(w)), int(round(h))
        if w < MIN_TEMPLATE or h < MIN_TEMPLATE or w > patch.shape[1] or h > patch.shape[0]:
            return None
        sized = cv2.resize(self.template, (w, h), interpolation=cv2.INTER_AREA)
        scores = cv2.matchTemplate(patch, sized, cv2.TM_CCOEFF_NORMED)
        _, best, _, (bx, by) = cv2.minMaxLoc(scores)
        if not np.isfinite(best) or best < MIN_MATCH:
            return None
        return np.array([x0 + bx, y0 + by, x0 + bx + w, y0 + by + h]) / scale


def _gray(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def _cut(image: np.ndarray, box: np.ndarray) -> tuple[np.ndarray, float, float] | None:
    """The part of `image` inside `box` (clipped to the picture) and its top-left corner; None
    when under 4x4 pixels."""
    height, width = image.shape[:2]
    x0, y0 = max(int(round(box[0])), 0), max(int(round(box[1])), 0)
    x1, y1 = min(int(round(box[2])), width), min(int(round(box[3])), height)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    return image[y0:y1, x0:x1], float(x0), float(y0)


def _watch(track: Track, info: VideoInfo, config: HandContactConfig) -> _Watch:
    frames, boxes, _ = dense_boxes(track)
    fps = float(info.fps)
    first = max(0, int(frames[0]) - round(config.before * fps))
    last = min(info.frames - 1, int(frames[-1]) + round(config.after * fps))
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    swollen = area > SWOLLEN * float(np.median(area))
    return _Watch(first, last, frames, boxes, swollen)


def _seen(hands: Sequence[Hand], config: HandContactConfig) -> list[Hand]:
    return [h for h in hands if h.score >= config.min_hand]


def _near(hands: Sequence[Hand], box: np.ndarray, config: HandContactConfig) -> list[Hand]:
    return [h for h in hands if hand_gap(h, box)[0] <= config.near_gap]


def _search(model: HandModel, image: np.ndarray, box: np.ndarray,
            config: HandContactConfig) -> list[Hand]:
    region = square_region(box, grow=config.grow, min_side=config.min_side)
    return _seen(model.find(image, region, min_palm=config.min_palm), config)


def _look(watch: _Watch, frame: VideoFrame, model: HandModel, *, search: bool,
          config: HandContactConfig) -> None:
    """Look at `frame` for the watched object: follow its hands, or search for them where none
    is followed and `search` is set (then also follow a found hand back over the frames
    passed since the last search); otherwise keep the frame for such a search. Every hand seen
    is recorded (a far one says the object is not held); only near ones are followed on."""
    watch.see(frame)
    image = frame.image
    box = watch.box(frame.index) * frame.scale
    if watch.followed:
        hands = _seen([model.follow(image, h) for h in watch.followed], config)
        if not hands:
            hands = _search(model, image, box, config)
    elif search:
        hands = _search(model, image, box, config)
        if near := _near(hands, box, config):
            _follow_back(watch, near, model, config)
        watch.pending.clear()
    else:
        watch.pending.append(frame)
        return
    watch.followed = _near(hands, box, config)
    watch.record(frame, hands)


def _follow_back(watch: _Watch, hands: list[Hand], model: HandModel,
                 config: HandContactConfig) -> None:
    """Follow `hands` backwards over the frames kept since the last search, while near."""
    current = hands
    for frame in reversed(watch.pending):
        box = watch.box(frame.index) * frame.scale
        seen = _seen([model.follow(frame.image, h) for h in current], config)
        if not seen:
            seen = _search(model, frame.image, box, config)
        watch.record(frame, seen)
        current = _near(seen, box, config)
        if not current:
            break


def _in_source(hand: Hand, scale: float) -> Hand:
    return Hand(points=hand.points / scale, score=hand.score, right=hand.right)


def _grid(watch: _Watch, step: int) -> Iterator[int]:
    return iter(range(watch.first, watch.last + 1, step))


def watch_hands(path: str | os.PathLike[str], tracks: Sequence[Track], info: VideoInfo,
                model: HandModel, *, config: HandContactConfig = HandContactConfig(),
                progress: ProgressFn | None = None) -> list[dict[int, Look]]:
    """For each track, what was seen on each frame looked at (the object's box and the hands
    there, source pixels), in one decoding pass over the frames any watch needs."""
    fps = float(info.fps)
    step = max(1, round(fps / config.rate))
    scan = step * max(1, round(fps / config.scan_rate / step))
    watches = [_watch(t, info, config) for t in tracks]
    needed: dict[int, list[int]] = {}
    for i, w in enumerate(watches):
        for f in _grid(w, step):
            needed.setdefault(f, []).append(i)
    if needed:
        first, last = min(needed), max(needed)
        with VideoReader(path) as reader, opencv_threads(1):
            for frame in reader.frames(start=first, stop=last + 1, max_side=config.max_side,
                                       only=needed.keys()):
                for i in needed[frame.index]:
                    w = watches[i]
                    _look(w, frame, model, config=config,
                          search=(frame.index - w.first) % scan == 0 or frame.index + step > w.last)
                report(progress, (frame.index - first + 1) / (last - first + 1),
                       f"hands: frame {frame.index + 1}/{info.frames}")
    return [w.looks() for w in watches]


def track_contacts(looks: dict[int, Look], info: VideoInfo, *,
                   config: HandContactConfig = HandContactConfig()) -> list[Event]:
    """A track's touch/release events from what was seen near it (`watch_hands`)."""
    order = sorted(looks)
    times = np.array([info.time_of_frame(f) for f in order])
    gaps = np.full(len(order), np.nan)
    xs = np.zeros(len(order))
    for k, f in enumerate(order):
        look = looks[f]
        box = look.box
        if box is None:
            continue
        # no hand seen stays unknown (NaN): the models miss hands that hold things
        if look.hands:
            gaps[k], xs[k] = min(hand_gap(h, box) for h in look.hands)
    return contacts_from_gaps(times, gaps, np.clip(xs, 0.0, info.width), config=config)


def apply_hand_contacts(path: str | os.PathLike[str], analysis: Analysis, *,
                        config: HandContactConfig = HandContactConfig(),
                        progress: ProgressFn | None = None,
                        warn: Callable[[str], None] | None = None) -> Analysis:
    """`analysis` with the touch/release events of hands on the objects they could hold (their
    other events kept; earlier hand contacts replaced). Each such object records how many
    frames were looked at under the extra key "hand_looks"."""
    if not config.enabled:
        return analysis
    chosen = held_objects(analysis, config=config)
    if not chosen:
        return analysis
    try:
        model = load_hand_model(config.weights, threads=config.threads)
    except HandsUnavailable as exc:
        (warn or warn_line)(f"hand contacts off: {exc}")
        return analysis
    report(progress, 0.0, "hands")
    tracks = [analysis.objects[i] for i in chosen]
    looks = watch_hands(path, tracks, analysis.video, model, config=config, progress=progress)
    objects = list(analysis.objects)
    for i, seen in zip(chosen, looks, strict=True):
        track = objects[i]
        found = track_contacts(seen, analysis.video, config=config)
        events = tuple(sorted([*contact_events(track), *found], key=lambda e: e.time))
        objects[i] = track.with_changes(events=events,
                                        extra={**track.extra, "hand_looks": len(seen)})
    report(progress, 1.0, "hand contacts")
    return analysis.with_objects(objects)
