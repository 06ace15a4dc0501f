"""What is not an object: clutter tracks dropped, region-wide background motion made one ambience.

Motion tracking also follows things that move but are not objects a sound belongs to: barrier
tape flapping, leaves, reflections, shadow patches, a walker's legs tracked apart from him. Once
the recognizer has voted (video.recognize), a track it never recognized (label "unknown") is

- clutter when it oscillates in place: its centre never strays `in_place` of its own size from
  where it was (however long the path it ran back and forth) unless its box grows or shrinks
  steadily (an object coming closer), or strays at most twice that in a wander that goes back
  and forth, ends near its start and holds no event (a bouncing ball has its bounces);
- clutter when it lives in a clutter zone: cells of a coarse grid that `zone_tracks` unknown
  tracks passed through, or that in-place clutter covered at least twice (a flapping tape's
  strip). A wave running along tape travels, but stays in the strip; an object crosses it;
- a part of a recognized object when it rides along one (`rides_along`: touches it and moves
  with it while it travels), e.g. a shadow or the legs of a walker.

A recognized track (person, car, cup ...) is never dropped, nor one that video.evidence took a
vehicle label from (extra "label_evidence": the detector did see a thing there). Clutter and
parts are dropped and counted. Where the clutter of one shot is dense (`region_fill`) over a
region rather than a line or a spot (at least `region_side` of the picture's width and height),
holds at least `ambience_tracks` tracks and goes on in two places at once for `lasting` of the
shot, it becomes one
object labelled "ambience" instead, together with the slow unknown tracks inside it: its box is
the union of theirs, held over the whole time the motion lasts, so the sound table gives it one
stereo bed (foliage in wind, water, a far crowd) rather than tens of stems.

A field of particles is the other kind of background motion: snow or rain falling, sparks,
confetti, a far flock. Each flake is tracked as a small unknown object that travels (so it is
no clutter by the rules above) and would get a stem of its own. Where a shot holds at least
`swarm_tracks` small unknown tracks (`particle_size` of the picture's longer side at most), at
least `swarm_alive` of them on screen at once for `lasting` of the shot, spread over
`swarm_spread` of the picture's width and height, they become one ambience object with the
shot's other ambience. Only silent particles that travel count towards a field (fewer than
`swarm_events` contact events each, and a centre that strays at least `in_place` of its size:
many small things heard by their hits, such as billiard balls, make none, nor specks of tracker
residue that stay where they are); once a field is found, every small unknown track of the shot
joins it.

A speck is an unrecognized track smaller than `speck_size` of the picture's longer side (its
`track_size`, the square root of its box's area) with no contact event, left once the fields are
found: it is dropped with the clutter. On the real clips of docs/EVALUATION.md every such track
was something no foley belongs to: a window's reflection, a light switch at the picture's edge,
a highlight on a cup, on a robot's arm or on a cartoon's eye, a feature on a turning planet,
specks of noise on a grate, barrier tape far off; the smallest real objects there were a far
person (recognized, so never dropped) and balls with their bounces (heard, so kept).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from video.base.tracks import Analysis, Track
from video.tracker import centre_stray, grows_steadily, in_scene, track_size

UNKNOWN = "unknown"
AMBIENCE = "ambience"
# mean change of log box area per frame below which a growing box is an approach, not a flap
STEADY_FLAP = 0.05
# path length over extent from which a wandering track goes back and forth
BACK_AND_FORTH = 2.5
# inside `in_place`: a centre extent (in sizes) under which a track goes nowhere; the path over
# extent from which it runs back and forth; the mean log-area change a frame of a flapping box
STILL = 0.5
WANDER = 1.5
FLAP = 0.1


@dataclass(frozen=True)
class ClutterConfig:
    """Options of the clutter filter.

    enabled: filter at all. in_place: a track whose centre's extent (the larger side of the
    bounding box of its centres) stays below this many of its median box sizes moves in place.
    grid: cells along the picture's longer side for the clutter zones. zone_tracks: distinct
    unrecognized tracks that make a cell part of a zone. zone_fraction: the share of its frames a
    track must spend in zone cells to be clutter there. ambience_tracks / region_side: the
    clutter tracks and the extent (fraction of the picture's width and height) a zone needs to
    become one ambience object; region_fill: the share of the region's bounding box their boxes
    must cover (a strip of tape is no region); join: clutter this close (a fraction of the
    picture's longer side) belongs to one region; lasting: the share of its shot on which at
    least two of its tracks must move at once (background motion lasts; a burst of residue, or
    ghosts one after another, do not). window / follow: an
    unrecognized track that moves along with a recognized one (see `rides_along`) on `follow` of
    its `window`-second steps is a part of it (a shadow, a limb) and is dropped.
    particle_size / swarm_tracks / swarm_alive / swarm_spread / swarm_events: a particle field
    (see the module's description): the largest particle (its `track_size`, a fraction of the
    picture's longer side), how many particles a shot needs, how many on screen at once (on
    `lasting` of the shot), over what share of the picture's width and height, and the contact
    events from which a small track does not count towards a field (a thing heard by its hits).
    speck_size: an unrecognized track with no event and at most this size (its `track_size`, a
    fraction of the picture's longer side) that is in no field is dropped (0: none is).
    """

    enabled: bool = True
    in_place: float = 2.0
    grid: int = 32
    zone_tracks: int = 4
    zone_fraction: float = 0.7
    ambience_tracks: int = 5
    region_side: float = 0.2
    region_fill: float = 0.5
    join: float = 0.04
    lasting: float = 0.5
    window: float = 1.0
    follow: float = 0.4
    particle_size: float = 0.06
    swarm_tracks: int = 8
    swarm_alive: int = 4
    swarm_spread: float = 0.4
    swarm_events: int = 2
    speck_size: float = 0.035

    def __post_init__(self) -> None:
        if not self.in_place >= 0:
            raise ValueError(f"in_place must be >= 0, got {self.in_place}")
        if min(self.grid, self.zone_tracks, self.ambience_tracks, self.swarm_tracks,
               self.swarm_alive) < 2:
            raise ValueError("grid, zone_tracks, ambience_tracks, swarm_tracks and swarm_alive "
                             "must be at least 2")
        if self.swarm_events < 1:
            raise ValueError(f"swarm_events must be at least 1, got {self.swarm_events}")
        if not self.window > 0:
            raise ValueError(f"window must be positive, got {self.window}")
        for name in ("zone_fraction", "region_side", "region_fill", "join", "lasting", "follow",
                     "particle_size", "swarm_spread", "speck_size"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in 0..1, got {getattr(self, name)}")


@dataclass(frozen=True)
class Sorted:
    """The filter's result: the objects kept (ambience objects appended), how many were dropped."""

    objects: tuple[Track, ...]
    dropped: int
    merged: int
    parts: int = 0


def oscillates_in_place(track: Track, *, limit: float) -> bool:
    """True when the track's centre stays within `limit` of its own size and it goes nowhere:
    it barely moves (under `STILL` of its size: a ghost), or runs back and forth (a path at
    least `WANDER` times its extent), or its box flaps (log area changing `FLAP` a frame on
    average), and its box does not grow or shrink steadily without flapping (an object coming
    closer). An object drifting one way, however slowly and briefly, does not oscillate, nor
    one whose steady box has events (a ball bouncing in place). Within
    twice `limit`, only a wander of at least `BACK_AND_FORTH` times its extent that ends less
    than 30 % of its length from its start and holds no event (a ball bouncing in place has its
    bounces, a walker its steps) oscillates."""
    if len(track) < 2:
        return True
    extent = centre_stray(track)
    size = track_size(track)
    path = float(np.linalg.norm(np.diff(track.centers, axis=0), axis=1).sum()) / size
    if extent >= 2 * limit:
        return False
    if extent >= limit:  # wider: only a back-and-forth wander that ends near its start
        net = float(np.linalg.norm(track.centers[-1] - track.centers[0])) / size
        return bool(not track.events and path >= BACK_AND_FORTH * extent and net < 0.3 * path)
    flap = float(np.mean(np.abs(np.diff(np.log(np.maximum(track.areas, 1.0))))))
    if flap < FLAP and (track.events or not (extent < STILL or path >= WANDER * extent)):
        return False  # a steady box that drifts one way, or that bounces (its events)
    return bool(flap >= STEADY_FLAP or not grows_steadily(track))


class _Grid:
    """A coarse grid of square cells over the picture."""

    def __init__(self, frame_size: tuple[int, int], cells: int) -> None:
        width, height = frame_size
        self.cell = max(width, height, 1) / cells
        self.shape = (max(1, int(np.ceil(height / self.cell))),
                      max(1, int(np.ceil(width / self.cell))))

    def centres(self, track: Track) -> tuple[np.ndarray, np.ndarray]:
        """Row and column of the track's centre on each frame."""
        c = np.floor(track.centers / self.cell).astype(np.int64)
        return (np.clip(c[:, 1], 0, self.shape[0] - 1), np.clip(c[:, 0], 0, self.shape[1] - 1))

    def covered(self, track: Track, *, shrink: float = 0.0) -> np.ndarray:
        """A (rows, cols) mask of the cells the track's boxes covered, each box first shrunk by
        `shrink` of its width and height on every side."""
        mask = np.zeros(self.shape, dtype=bool)
        b = track.boxes
        dx, dy = (b[:, 2] - b[:, 0]) * shrink, (b[:, 3] - b[:, 1]) * shrink
        rows, cols = self.shape
        x0 = np.clip(np.floor((b[:, 0] + dx) / self.cell), 0, cols - 1).astype(np.int64)
        x1 = np.clip(np.floor((b[:, 2] - dx) / self.cell), 0, cols - 1).astype(np.int64)
        y0 = np.clip(np.floor((b[:, 1] + dy) / self.cell), 0, rows - 1).astype(np.int64)
        y1 = np.clip(np.floor((b[:, 3] - dy) / self.cell), 0, rows - 1).astype(np.int64)
        for a, bb, c, d in zip(y0, y1, x0, x1, strict=True):
            mask[a:bb + 1, c:d + 1] = True
        return mask


def ambience_object(members: Sequence[Track], *, object_id: int = 0) -> Track:
    """One ambience object for `members`: the union of their boxes on every frame from the first
    one's start to the last one's end."""
    boxes = np.concatenate([t.boxes for t in members])
    union = np.array([boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max()])
    first = min(int(t.frames[0]) for t in members)
    last = max(int(t.frames[-1]) for t in members)
    frames = np.arange(first, last + 1)
    return Track(id=object_id, label=AMBIENCE, frames=frames,
                 boxes=np.repeat(union[None], len(frames), axis=0),
                 extra={"label_source": "clutter", "ambience_tracks": len(members)})


def _clutter(tracks: Sequence[Track], unknown: list[int], grid: _Grid,
             config: ClutterConfig, camera: np.ndarray | None = None) -> set[int]:
    """Indices of the unknown tracks that oscillate in place on screen or in the scene
    (`camera`: see `in_scene`; residue a hand-held camera carries across the picture stays put
    in the scene) or live in a clutter zone: cells that `zone_tracks` unknown tracks passed
    through, or that `zone_tracks` - 2 (at least 2) of those oscillating in place covered (a
    flapping strip of tape is covered by its flaps)."""
    still = {i for i in unknown
             if oscillates_in_place(tracks[i], limit=config.in_place)
             or (camera is not None and
                 oscillates_in_place(in_scene(tracks[i], camera), limit=config.in_place))}
    passed = np.zeros(grid.shape, dtype=np.int64)
    flapped = np.zeros(grid.shape, dtype=np.int64)
    for i in unknown:
        passed += grid.covered(tracks[i], shrink=0.25)
        if i in still:
            flapped += grid.covered(tracks[i])
    zone = (passed >= config.zone_tracks) | (flapped >= max(2, config.zone_tracks - 2))
    out = set(still)
    for i in unknown:
        if zone[grid.centres(tracks[i])].mean() >= config.zone_fraction:
            out.add(i)
    return out


def _touch(a: np.ndarray, b: np.ndarray, margin: float) -> bool:
    """Whether boxes a and b overlap once b is grown by `margin` pixels on every side."""
    return bool(a[0] < b[2] + margin and a[2] > b[0] - margin
                and a[1] < b[3] + margin and a[3] > b[1] - margin)


def rides_along(part: Track, wholes: Sequence[Track], *, window: int, share: float) -> bool:
    """True when `part` moves as a piece of the recognized `wholes` (a shadow, a leg, a head
    seen apart from its walker): cut into `window`-frame steps, on at least `share` of them it
    touches (within a fifth of its size) one of the wholes that travels at least a fifth of its
    size in that step, and its own displacement is within 80 % of that whole's. A ball rolled past a walker touches it
    only while passing; a hand moving a cup by a still body moves while the body does not."""
    steps = len(part) // window
    if steps < 1:
        return False
    good = 0
    for s in range(steps):
        f0, f1 = int(part.frames[s * window]), int(part.frames[(s + 1) * window - 1])
        pa, pb = part.boxes[s * window], part.boxes[(s + 1) * window - 1]
        dp = (pb[:2] + pb[2:] - pa[:2] - pa[2:]) / 2
        for whole in wholes:
            wa, wb = whole.box_at(f0), whole.box_at(f1)
            if wa is None or wb is None:
                continue
            size = track_size(whole)
            dw = (wb[:2] + wb[2:] - wa[:2] - wa[2:]) / 2
            moved = float(np.linalg.norm(dw))
            if (moved >= size / 5 and float(np.linalg.norm(dp - dw)) <= 0.8 * moved
                    and _touch(pa, wa, 0.2 * size) and _touch(pb, wb, 0.2 * size)):
                good += 1
                break
    return good >= share * steps


def _regions(tracks: Sequence[Track], group: list[int], grid: _Grid,
             config: ClutterConfig) -> list[np.ndarray]:
    """Masks of the regions where the clutter tracks `group` (one shot's) are dense and spread
    widely enough to be heard as one ambience."""
    mask = np.zeros(grid.shape, dtype=bool)
    for i in group:
        mask |= grid.covered(tracks[i])
    reach = max(1, round(config.join * max(grid.shape)))
    joined = cv2.dilate(mask.astype(np.uint8), np.ones((2 * reach + 1,) * 2, np.uint8))
    n, labels = cv2.connectedComponents(joined, connectivity=8)
    out = []
    for k in range(1, n):
        region = labels == k
        rows, cols = np.nonzero(mask & region)  # what the clutter covered, not the joins
        if not len(rows):
            continue
        tall = (rows.max() - rows.min() + 1) / grid.shape[0]
        wide = (cols.max() - cols.min() + 1) / grid.shape[1]
        fill = len(rows) / ((rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1))
        if min(tall, wide) >= config.region_side and fill >= config.region_fill:
            out.append(region)
    return out


def _lasts(members: Sequence[Track], start: int, end: int) -> float:
    """The share of frames start..end-1 on which at least two of `members` are on screen at
    once: background motion of a region goes on in many places together, while ghosts that
    come one after another in a corner (over shots a cut detector missed) do not."""
    return _alive_at_once(members, start, end, 2)


def _alive_at_once(members: Sequence[Track], start: int, end: int, count: int) -> float:
    """The share of frames start..end-1 on which at least `count` of `members` are on screen."""
    alive = np.zeros(max(end - start, 1), dtype=np.int64)
    for t in members:
        alive[max(int(t.frames[0]) - start, 0):max(int(t.frames[-1]) + 1 - start, 0)] += 1
    return float(np.mean(alive >= count))


def particle_field(tracks: Sequence[Track], candidates: Sequence[int], *,
                   frame_size: tuple[int, int], start: int, end: int,
                   config: ClutterConfig) -> list[int]:
    """The indices among `candidates` (one shot's unknown tracks; the shot is frames
    start..end-1) that make a field of particles (snow, rain, sparks: see the module's
    description), or [] when they do not make one."""
    width, height = frame_size
    limit = config.particle_size * max(width, height, 1)
    small = [i for i in candidates if track_size(tracks[i]) <= limit]
    # the field is recognised by its silent particles that travel (small things heard by their
    # hits, such as balls, make none, nor specks of residue that stay where they are); once it
    # is, a flake whose jitter read as a hit or two, or that barely moved, is in it
    quiet = [i for i in small if len(tracks[i].events) < config.swarm_events
             and centre_stray(tracks[i]) >= config.in_place]
    if len(quiet) < config.swarm_tracks:
        return []
    centres = np.concatenate([tracks[i].centers for i in quiet])
    spread = np.ptp(centres, axis=0) / np.maximum([width, height], 1)
    if min(spread) < config.swarm_spread:
        return []
    if _alive_at_once([tracks[i] for i in quiet], start, end, config.swarm_alive) < config.lasting:
        return []
    return small


def droppable(tracks: Sequence[Track]) -> list[int]:
    """Indices of the tracks the filter may drop or merge: the recognizer never named them
    ("unknown"), and video.evidence took no vehicle vote from them (extra "label_evidence": the
    detector did see a thing there)."""
    return [i for i, t in enumerate(tracks)
            if t.label == UNKNOWN and "label_evidence" not in t.extra and len(t)]


def sort_clutter(tracks: Sequence[Track], *, frame_size: tuple[int, int], fps: float,
                 frames: int | None = None, barriers: Sequence[int] = (),
                 camera: np.ndarray | None = None,
                 config: ClutterConfig = ClutterConfig()) -> Sorted:
    """Drop the clutter among `tracks` (recognized ones are never touched) and merge region-wide
    clutter into ambience objects (appended after the kept tracks, id 0: renumber after). No
    ambience object spans a shot cut (`barriers`: the first frame index of each new shot);
    `frames`: the video's frame count (default: the end of the last track); `camera`: the
    cumulative camera pan per frame (source px), so that oscillating in place is judged in the
    scene."""
    if not config.enabled:
        return Sorted(tuple(tracks), 0, 0)
    grid = _Grid(frame_size, config.grid)
    unknown = droppable(tracks)
    clutter = _clutter(tracks, unknown, grid, config, camera)
    known = [t for t in tracks if t.label not in (UNKNOWN, AMBIENCE)]
    window = max(2, round(config.window * fps))
    parts = {i for i in unknown if i not in clutter
             and rides_along(tracks[i], known, window=window, share=config.follow)}
    cuts = np.sort(np.asarray(barriers, dtype=np.int64))
    total = frames if frames is not None else max((int(t.frames[-1]) + 1 for t in tracks
                                                   if len(t)), default=0)
    bounds = np.concatenate([[0], cuts, [max(total, int(cuts.max(initial=0)) + 1)]])
    shots: dict[int, list[int]] = {}
    for i in unknown:
        shots.setdefault(int(np.searchsorted(cuts, tracks[i].frames[0], side="right")),
                         []).append(i)
    ambience = []
    merged: set[int] = set()
    for shot in sorted(shots):
        start, end = int(bounds[shot]), int(bounds[shot + 1])
        beds = _region_beds(tracks, shots[shot], clutter, grid, start, end, config)
        swarm = particle_field(tracks, [i for i in shots[shot] if i not in parts],
                               frame_size=frame_size, start=start, end=end, config=config)
        if swarm:   # one bed for the shot: the particles and any region's background motion
            beds = [sorted(set(swarm).union(*beds))]
        for members in beds:
            ambience.append(ambience_object([tracks[i] for i in members]))
            merged.update(members)
    gone = clutter | merged | parts
    specks = set(specks_among(tracks, [i for i in unknown if i not in gone],
                              frame_size=frame_size, size=config.speck_size))
    kept = tuple(t for i, t in enumerate(tracks) if i not in gone and i not in specks)
    return Sorted(kept + tuple(ambience), len((clutter | specks) - merged), len(merged),
                  len(parts))


def specks_among(tracks: Sequence[Track], candidates: Sequence[int], *,
                 frame_size: tuple[int, int], size: float) -> list[int]:
    """The indices among `candidates` whose track is a speck: no event and a `track_size` of at
    most `size` of the picture's longer side (see the module's description)."""
    limit = size * max(frame_size)
    return [i for i in candidates if not tracks[i].events and track_size(tracks[i]) <= limit]


def drop_specks(analysis: Analysis, *, config: ClutterConfig = ClutterConfig()) -> Analysis:
    """`analysis` without the specks among its unrecognized objects, judged on the events it
    has now. The filter (`sort_clutter`) runs inside the analysis on its motion events; the
    learned event detector then replaces them (model.detector.event_detection), and the faint
    "impacts" a speck's jitter gave it are gone. Objects are renumbered 1.. and
    "dropped_clutter" counts the dropped ones. Unchanged where the filter did not run (no
    "dropped_clutter" in the analysis: recognition off) or is off."""
    if not config.enabled or "dropped_clutter" not in analysis.extra:
        return analysis
    tracks = analysis.objects
    specks = set(specks_among(tracks, droppable(tracks), frame_size=(analysis.video.width,
                                                           analysis.video.height),
                              size=config.speck_size))
    if not specks:
        return analysis
    kept = [t for i, t in enumerate(tracks) if i not in specks]
    extra = {**analysis.extra,
             "dropped_clutter": int(analysis.extra["dropped_clutter"]) + len(specks)}
    return replace(analysis.with_objects(t.with_changes(id=i + 1) for i, t in enumerate(kept)),
                   extra=extra)


def _region_beds(tracks: Sequence[Track], shot: list[int], clutter: set[int], grid: _Grid,
                 start: int, end: int, config: ClutterConfig) -> list[list[int]]:
    """The members of each ambience object of one shot's region-wide clutter (`shot`: its
    unknown tracks; frames start..end-1)."""
    group = [i for i in shot if i in clutter]
    if len(group) < config.ambience_tracks:
        return []
    beds = []
    for region in _regions(tracks, group, grid, config):
        # the region's clutter, and the slow unknown tracks that stay inside it
        members = [i for i in shot if region[grid.centres(tracks[i])].mean()
                   >= config.zone_fraction and (i in clutter or centre_stray(tracks[i])
                                                < 2 * config.in_place)]
        if sum(i in clutter for i in members) >= config.ambience_tracks and _lasts(
                [tracks[i] for i in members], start, end) >= config.lasting:
            beds.append(members)
    return beds
