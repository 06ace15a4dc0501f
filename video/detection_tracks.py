"""Tracks of moving vehicles, animals and handled objects built from the recognizer's detections.

Background subtraction tracks a car badly where the street is busy: a car behind railings
breaks into pieces, a car half hidden by another is never boxed whole, and a box born on one
car slides onto the next one passing. The recognizer (video.recognize) boxes each car whole a
few times a second, so this module follows those detections instead: each look's vehicle
detections are linked to the chains of earlier looks by their predicted place (constant
velocity, so a fast car still links at three looks a second), a look or two may be missed
(a post hides the car), and a chain seen on enough looks that travels through the scene (camera
pan removed) becomes a track, its boxes interpolated between looks. Motion tracks that the
chain explains (they lie on the chain's car on most looks they share) give way to it; the parts
of them outside the chain's span stay as tracks of their own. Parked cars do not travel and
make no chain, so a still van with someone at its door keeps its motion track (and
video.evidence's check on it).

Handled objects (a box, a cup, a book carried by a hand) often move less than their own size
while they are held and turned, and the hand-held camera follows them; such a chain is an
object when motion confirms it: a motion track overlaps it on most of its looks.

People are motion's to track (their legs and groups are split from motion blobs; video.split_groups),
except where motion loses them: a camera that travels with a runner (a dolly or a gimbal shot,
the background streaming past at several depths) leaves background subtraction nothing steady
to subtract, and a clearly seen player gets no track or a second of one. A chain of person
detections becomes a track only when it travels (as the vehicles' must) and no motion track
lies on it on most of its looks: motion missed that person. Pedestrians that motion follows
keep their motion tracks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from video.base.tracks import Track
from video.recognize import Detections, iou_matrix
from video.tracker import TrackerConfig, moves_enough


@dataclass(frozen=True)
class DetectionTrackConfig:
    """When detections make a track.

    enabled: build detection tracks at all. classes: detection classes followed (each on its
    own: a look where the detector calls the car something else counts as missed) that must
    travel through the scene. handled: classes followed that may instead move in place, if a
    motion track overlaps them (IoU >= explain_iou) on at least explain_share of their looks.
    missed: classes followed only where motion did not follow them: a chain that travels and
    that no motion track lies on (explain_iou / explain_cover) on explain_share of its looks.
    tighten: a motion track whose box holds one such detection and is at least this many times
    its area, on explain_share of the looks, takes the detection's boxes (`tighten_people`).
    min_score: weaker detections are ignored. min_looks: looks a chain needs.
    max_missed: looks a chain may miss and still continue. link_iou: a detection continues a
    chain if it overlaps the chain's predicted box this much, or if its centre lies within
    link_distance box sizes of the predicted centre. max_growth: box area may change at most
    this factor between looks. explain_iou / explain_cover: a motion track's box lies on a
    chain's box on a look when their IoU is at least explain_iou, or at least explain_cover of
    the motion box lies inside it. explain_share: share of shared looks on which it must.
    """

    enabled: bool = True
    classes: frozenset[str] = frozenset({"car", "bus", "truck", "motorcycle", "train",
                                         "bicycle", "dog", "cat", "horse", "cow", "sheep"})
    handled: frozenset[str] = frozenset({"box", "cup", "bottle", "book", "laptop", "camera",
                                         "chair"})
    missed: frozenset[str] = frozenset({"person"})
    tighten: float = 2.5
    min_score: float = 0.35
    min_looks: int = 3
    max_missed: int = 2
    link_iou: float = 0.2
    link_distance: float = 1.5
    max_growth: float = 2.5
    explain_iou: float = 0.25
    explain_cover: float = 0.6
    explain_share: float = 0.5
    tracker: TrackerConfig = field(default_factory=TrackerConfig)

    def __post_init__(self) -> None:
        for name in ("min_score", "link_iou", "explain_iou", "explain_cover", "explain_share"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in (0, 1], got {getattr(self, name)}")
        if self.min_looks < 2 or self.max_missed < 0:
            raise ValueError("min_looks must be at least 2 and max_missed at least 0")
        if self.link_distance <= 0 or self.max_growth < 1:
            raise ValueError("link_distance must be positive and max_growth at least 1")
        if self.tighten < 1:
            raise ValueError(f"tighten must be at least 1, got {self.tighten}")


@dataclass
class Chain:
    """Looks of one object: frame, box (4,), class, score per look."""

    frames: list[int]
    boxes: list[np.ndarray]
    labels: list[str]
    scores: list[float]
    look: int  # index of the last look that extended it

    def predicted(self, frame: int) -> np.ndarray:
        """Its box on `frame`, moved on at the velocity of its last two looks."""
        box = self.boxes[-1]
        if len(self.frames) < 2:
            return box
        step = (self.boxes[-1] - self.boxes[-2]) / max(self.frames[-1] - self.frames[-2], 1)
        shift = step[[0, 1]] + step[[2, 3]]
        return box + np.tile(shift / 2.0, 2) * (frame - self.frames[-1])


def _affinity(predicted: np.ndarray, boxes: np.ndarray, config: DetectionTrackConfig
              ) -> np.ndarray:
    """How well each detection continues each chain: IoU (plus 1) with the predicted box when
    it reaches link_iou, else a small score falling with centre distance up to link_distance box
    sizes; 0 where neither, or where the box's area changed more than max_growth."""
    iou = iou_matrix(predicted, boxes)
    area_p = np.maximum((predicted[:, 2] - predicted[:, 0]) * (predicted[:, 3] - predicted[:, 1]),
                        1.0)
    area_b = np.maximum((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]), 1.0)
    growth = np.maximum(area_p[:, None] / area_b[None], area_b[None] / area_p[:, None])
    centre_p = (predicted[:, :2] + predicted[:, 2:]) / 2.0
    centre_b = (boxes[:, :2] + boxes[:, 2:]) / 2.0
    dist = np.linalg.norm(centre_p[:, None] - centre_b[None], axis=2) / np.sqrt(area_p)[:, None]
    near = np.where(dist <= config.link_distance, 0.1 * (1.0 - dist / config.link_distance), 0.0)
    score = np.where(iou >= config.link_iou, iou + 1.0, near)
    return np.where(growth <= config.max_growth, score, 0.0)


def _segment(frame: int, barriers: Sequence[int]) -> int:
    """Index of the shot holding `frame` (barriers: first frames of new shots)."""
    return int(np.searchsorted(np.asarray(sorted(barriers), dtype=np.int64), frame, side="right"))


def link_detections(detections: Sequence[Detections], *, barriers: Sequence[int] = (),
                    config: DetectionTrackConfig = DetectionTrackConfig()) -> list[Chain]:
    """Chains of the followed classes' detections, look by look (greedy by affinity, each
    class on its own); chains end at shot cuts and after max_missed looks without a detection."""
    chains: list[Chain] = []
    open_chains: list[int] = []
    for look, det in enumerate(detections):
        keep = [i for i, (label, score) in enumerate(zip(det.labels, det.scores, strict=True))
                if label in config.classes | config.handled | config.missed
                and float(score) >= config.min_score]
        shot = _segment(det.frame, barriers)
        open_chains = [c for c in open_chains if look - chains[c].look <= config.max_missed + 1
                       and _segment(chains[c].frames[-1], barriers) == shot]
        boxes = np.asarray(det.boxes, dtype=np.float64).reshape(-1, 4)[keep]
        taken: set[int] = set()
        if open_chains and len(keep):
            predicted = np.array([chains[c].predicted(det.frame) for c in open_chains])
            same = np.array([[chains[c].labels[-1] == det.labels[k] for k in keep]
                             for c in open_chains])
            score = np.where(same, _affinity(predicted, boxes, config), 0.0)
            extended: set[int] = set()
            for flat in np.argsort(-score, axis=None, kind="stable"):
                c, b = divmod(int(flat), score.shape[1])
                if score[c, b] <= 0:
                    break
                if c in extended or b in taken:
                    continue
                chain = chains[open_chains[c]]
                chain.frames.append(det.frame)
                chain.boxes.append(boxes[b])
                chain.labels.append(det.labels[keep[b]])
                chain.scores.append(float(det.scores[keep[b]]))
                chain.look = look
                extended.add(c)
                taken.add(b)
        for b in range(len(keep)):
            if b not in taken:
                chains.append(Chain([det.frame], [boxes[b]], [det.labels[keep[b]]],
                                     [float(det.scores[keep[b]])], look))
                open_chains.append(len(chains) - 1)
    return chains


def chain_track(chain: Chain, *, interval: int, last_frame: int,
                barriers: Sequence[int] = ()) -> Track:
    """A track following the chain's boxes, linear between looks and held for half a look
    beyond its first and last (not past a shot cut or the clip's ends). Its extra keys say
    which frames were measured and that it came from detections."""
    looks = np.asarray(chain.frames, dtype=np.int64)
    shot = _segment(int(looks[0]), barriers)
    cuts = np.asarray(sorted(barriers), dtype=np.int64)
    shot_start = int(cuts[shot - 1]) if shot > 0 else 0
    shot_end = int(cuts[shot]) - 1 if shot < len(cuts) else last_frame
    start = max(int(looks[0]) - interval // 2, shot_start, 0)
    stop = min(int(looks[-1]) + interval // 2, shot_end, last_frame)
    frames = np.arange(start, stop + 1, dtype=np.int64)
    boxes = np.asarray(chain.boxes, dtype=np.float64)
    filled = np.stack([np.interp(frames, looks, boxes[:, k]) for k in range(4)], axis=1)
    return Track(id=0, label="unknown", frames=frames, boxes=filled,
                 extra={"measured": np.isin(frames, looks).tolist(), "source": "detections"})


def _may_meet(a: Track, b: Track) -> bool:
    """False when two tracks' boxes can never overlap: their spans share no frame, or the
    rectangles their boxes sweep do not overlap. A cheap test before the look-by-look ones,
    which it never changes (each needs an overlap of positive area on some look)."""
    if a.frames[-1] < b.frames[0] or b.frames[-1] < a.frames[0]:
        return False
    lo_a, hi_a = a.boxes[:, :2].min(axis=0), a.boxes[:, 2:].max(axis=0)
    lo_b, hi_b = b.boxes[:, :2].min(axis=0), b.boxes[:, 2:].max(axis=0)
    return bool(np.all(lo_a < hi_b) and np.all(lo_b < hi_a))


def _lies_on(motion: Track, chain: Track, config: DetectionTrackConfig) -> bool:
    """True when the motion track's box lies on the chain's box on most looks they share."""
    if not _may_meet(motion, chain):
        return False
    shared = _shared_looks(motion, chain)
    if not shared:
        return False
    on = 0
    for frame in shared:
        m, c = motion.box_at(frame), chain.box_at(frame)
        assert m is not None and c is not None
        on += _on_look(m, c, config)
    return on >= config.explain_share * len(shared)


def _outside(track: Track, spans: Sequence[tuple[int, int]], min_len: int) -> list[Track]:
    """The runs of the track's frames outside every span that are at least min_len long."""
    keep = np.ones(len(track), dtype=bool)
    for start, stop in spans:
        keep &= (track.frames < start) | (track.frames > stop)
    idx = np.flatnonzero(keep)
    runs = np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1) if len(idx) else []
    out = []
    for run in runs:
        if len(run) >= min_len:
            measured = track.extra.get("measured")
            extra = {"measured": [bool(measured[i]) for i in run]} \
                if measured is not None and len(measured) == len(track) else {}
            out.append(Track(id=track.id, label=track.label, frames=track.frames[run],
                             boxes=track.boxes[run], extra=extra))
    return out


def detection_chains(detections: Sequence[Detections], *, interval: int, last_frame: int,
                     barriers: Sequence[int] = (),
                     config: DetectionTrackConfig = DetectionTrackConfig()
                     ) -> list[tuple[Track, str]]:
    """Each chain of the followed classes' detections seen on at least min_looks looks, as a
    track (`chain_track`) with its class: what `track_detections` and `tighten_people` work
    from (link once, pass to both)."""
    return [(chain_track(c, interval=interval, last_frame=last_frame, barriers=barriers),
             c.labels[0]) for c in link_detections(detections, barriers=barriers, config=config)
            if len(c.frames) >= config.min_looks]


def track_detections(tracks: Sequence[Track], detections: Sequence[Detections], *,
                     interval: int, fps: float, last_frame: int, barriers: Sequence[int] = (),
                     camera: np.ndarray | None = None,
                     config: DetectionTrackConfig = DetectionTrackConfig(),
                     chains: Sequence[tuple[Track, str]] | None = None
                     ) -> tuple[list[Track], int, int]:
    """The motion tracks with moving vehicles' (animals', handled objects') detection tracks added and the motion tracks
    they explain replaced (kept outside the vehicle's span). Returns the tracks (by start),
    how many detection tracks were added and how many motion tracks gave way. `chains`: the
    detections' `detection_chains`, when already linked."""
    built = chains if chains is not None else detection_chains(
        detections, interval=interval, last_frame=last_frame, barriers=barriers, config=config)
    following = [(t, label) for t, label in built if _follows(t, label, tracks, camera, config)]
    of_missed = {id(t) for t, label in following if label in config.missed}
    moving = _distinct([t for t, _ in following], config)
    tracks, missed_left, joined = _continue_motion(
        tracks, [t for t in moving if id(t) in of_missed], config)
    left = {id(t) for t in missed_left}
    moving = [t for t in moving if id(t) not in of_missed or id(t) in left]
    if not moving:
        return list(tracks), joined, 0
    min_len = max(2, round(config.tracker.min_track_seconds * fps))
    out: list[Track] = []
    replaced = 0
    for motion in tracks:
        spans = [(int(c.frames[0]), int(c.frames[-1])) for c in moving
                 if _lies_on(motion, c, config)]
        if not spans:
            out.append(motion)
            continue
        replaced += 1
        out.extend(_outside(motion, spans, min_len))
    out.extend(moving)
    out.sort(key=lambda t: (int(t.frames[0]), float(t.boxes[0, 0])))
    return out, len(moving) + joined, replaced


def tighten_people(tracks: Sequence[Track], detections: Sequence[Detections], *,
                   interval: int, last_frame: int, barriers: Sequence[int] = (),
                   config: DetectionTrackConfig = DetectionTrackConfig(),
                   chains: Sequence[tuple[Track, str]] | None = None
                   ) -> tuple[list[Track], int]:
    """Motion tracks boxing far more than the one person inside them take that person's boxes.

    A hand-held camera shaking foliage round a child, or a picture-wide blob a character was
    recognized in, gives a track whose box is mostly background: its stem pans to the box's
    centre, not the person's, and its pose crops are mostly leaves. Where such a track holds
    the detections of one chain of a missed class (`config.missed`; at least 80% of each
    detection inside the track's box, the box at least `config.tighten` times its area, on
    explain_share of the chain's looks, at least min_looks of them) and no other, and that chain
    is held by no other track nor followed already (`track_detections`), the track's boxes over
    the chain's span become the chain's (interpolated between looks); outside it they stay. Two
    people in one blob are video.split_groups' to separate. `chains`: the detections'
    `detection_chains`, when already linked. Returns the tracks and how many were tightened."""
    out = list(tracks)
    followed = [t for t in out if t.extra.get("source") == "detections"]
    built = chains if chains is not None else detection_chains(
        detections, interval=interval, last_frame=last_frame, barriers=barriers, config=config)
    people = [chain for chain, label in built if label in config.missed
              and not any(_lies_on(t, chain, config) for t in followed)]   # already a track
    held = [[c for c, chain in enumerate(people) if _holds(track, chain, config)]
            if track.extra.get("source") != "detections" else [] for track in out]
    holders = [sum(c in h for h in held) for c in range(len(people))]
    tightened = 0
    for i, inside in enumerate(held):
        if len(inside) != 1 or holders[inside[0]] != 1:
            continue
        chain, track = people[inside[0]], out[i]
        span = (track.frames >= chain.frames[0]) & (track.frames <= chain.frames[-1])
        boxes = np.array(track.boxes, dtype=np.float64)
        # a chain track has a box on every frame of its span (chain_track)
        boxes[span] = chain.boxes[track.frames[span] - int(chain.frames[0])]
        out[i] = track.with_changes(boxes=boxes)
        tightened += 1
    return out, tightened


def _holds(track: Track, chain: Track, config: DetectionTrackConfig) -> bool:
    """Whether the track's box holds the chain's detection (80% of it inside) and is at least
    `config.tighten` times its area, on explain_share of the chain's looks it shares (at least
    min_looks of them)."""
    if not _may_meet(track, chain):
        return False
    shared = _shared_looks(track, chain)
    if len(shared) < config.min_looks:
        return False
    inside = 0
    for frame in shared:
        m, c = track.box_at(frame), chain.box_at(frame)
        assert m is not None and c is not None
        inter, area_m, area_c = _overlap(m, c)
        area_c = max(area_c, 1e-9)
        inside += inter >= 0.8 * area_c and area_m >= config.tighten * area_c
    return inside >= config.explain_share * len(shared)


def _follows(chain: Track, label: str, tracks: Sequence[Track], camera: np.ndarray | None,
             config: DetectionTrackConfig) -> bool:
    """Whether a chain of `label` detections becomes a track: it travels (a missed class: and
    motion did not follow it), or it is a handled object that motion sees moving."""
    travels = moves_enough(_measured(chain), config.tracker, camera)
    if label in config.missed:
        return travels and not _explained(chain, tracks, config)
    return travels or (label in config.handled and _confirmed(chain, tracks, config))


def _confirmed(chain: Track, tracks: Sequence[Track], config: DetectionTrackConfig) -> bool:
    """True when motion tracks overlap the chain (IoU >= explain_iou) on at least
    explain_share of its looks: it moves, if only in place."""
    looks = _looks(chain)
    seen = 0
    for frame in looks:
        box = chain.box_at(int(frame))
        others = [b for b in (t.box_at(int(frame)) for t in tracks) if b is not None]
        if box is not None and others and \
                iou_matrix(box[None], np.asarray(others)).max() >= config.explain_iou:
            seen += 1
    return seen >= config.explain_share * len(looks)


def _continue_motion(tracks: Sequence[Track], chains: Sequence[Track],
                     config: DetectionTrackConfig) -> tuple[list[Track], list[Track], int]:
    """Chains (of missed classes) that one motion track continues (it lies on the chain and goes
    on before or after it: motion found the person once it moved clear of a group or a sign)
    join that track instead of replacing it, so one person keeps one track: the track takes
    the chain's boxes on the frames it does not have. Returns the tracks, the chains left and
    how many joined."""
    out = list(tracks)
    left: list[Track] = []
    joined = 0
    for chain in chains:
        first, last = int(chain.frames[0]), int(chain.frames[-1])
        going_on = [i for i, m in enumerate(out)
                    if (int(m.frames[0]) < first or int(m.frames[-1]) > last)
                    and _lies_on(m, chain, config)]
        if len(going_on) != 1:
            left.append(chain)
            continue
        motion = out[going_on[0]]
        add = ~np.isin(chain.frames, motion.frames)
        frames = np.concatenate([motion.frames, chain.frames[add]])
        order = np.argsort(frames, kind="stable")
        out[going_on[0]] = motion.with_changes(
            frames=frames[order], boxes=np.concatenate([motion.boxes, chain.boxes[add]])[order],
            extra={**motion.extra, "detection_frames": int(add.sum())})
        joined += 1
    return out, left, joined


def _explained(chain: Track, tracks: Sequence[Track], config: DetectionTrackConfig) -> bool:
    """True when motion already follows the chain's object: on at least explain_share of the
    chain's looks some motion track lies on it (`_lies_on`'s per-look test)."""
    looks = _looks(chain)
    near = [t for t in tracks if _may_meet(t, chain)]
    on = 0
    for frame in looks:
        box = chain.box_at(int(frame))
        assert box is not None
        on += any(_on_look(m, box, config) for m in (t.box_at(int(frame)) for t in near)
                  if m is not None)
    return on >= config.explain_share * len(looks)


def _on_look(motion: np.ndarray, chain: np.ndarray, config: DetectionTrackConfig) -> bool:
    """Whether a motion box lies on a chain's box on one look: IoU at least explain_iou, or at
    least explain_cover of the motion box inside it."""
    inter, area, area_chain = _overlap(motion, chain)
    union = area + area_chain - inter
    # video.recognize.iou_matrix's arithmetic, on two boxes without its arrays (called per look)
    iou = inter / max(union, 1e-12) if union > 0 else 0.0
    cover = inter / max(area, 1e-9)
    return iou >= config.explain_iou or cover >= config.explain_cover


def _overlap(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """The intersection area of two boxes (x0, y0, x1, y1) and each one's area, in plain float
    arithmetic (these tests run per look, where arrays of one box cost more than the sums)."""
    ax0, ay0, ax1, ay1 = (float(v) for v in a)
    bx0, by0, bx1, by1 = (float(v) for v in b)
    inter = max(min(ax1, bx1) - max(ax0, bx0), 0.0) * max(min(ay1, by1) - max(ay0, by0), 0.0)
    return inter, (ax1 - ax0) * (ay1 - ay0), (bx1 - bx0) * (by1 - by0)


def _distinct(chains: Sequence[Track], config: DetectionTrackConfig) -> list[Track]:
    """The chains less those that are another one seen as another class (the detector calls a
    box a book on some looks): a chain overlapping a longer one (IoU >= 0.5) on most of its looks
    is dropped."""
    kept: list[Track] = []
    for chain in sorted(chains, key=lambda t: -sum(t.extra["measured"])):
        looks = _looks(chain)
        same = 0
        for frame in looks:
            box = chain.box_at(int(frame))
            others = [b for b in (k.box_at(int(frame)) for k in kept) if b is not None]
            same += bool(box is not None and others
                         and iou_matrix(box[None], np.asarray(others)).max() >= 0.5)
        if same < config.explain_share * len(looks):
            kept.append(chain)
    return kept


def _looks(chain: Track) -> np.ndarray:
    """The frames of a chain track's looks (the frames its detections were measured on)."""
    return chain.frames[np.asarray(chain.extra["measured"], dtype=bool)]


def _shared_looks(track: Track, chain: Track) -> list[int]:
    """The chain's looks within the track's span."""
    return [int(f) for f in _looks(chain) if track.frames[0] <= f <= track.frames[-1]]


def _measured(track: Track) -> Track:
    """The track on its measured frames only (its looks)."""
    keep = np.asarray(track.extra["measured"], dtype=bool)
    return Track(id=track.id, label=track.label, frames=track.frames[keep],
                 boxes=track.boxes[keep])
