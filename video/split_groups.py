"""Split a motion track that holds a group (two people crossing, walking side by side) into one
track per member, from the object recognizer's detections.

Background subtraction sees people who overlap as one blob, and a track born on such a blob
keeps the union of its parts as they walk apart: one object, one stem and one pan for two
people. The recognizer (video.recognize) looks at a few frames a second; where it finds two or
more separate detections of one class (people, by default) lying inside a track's box on
consecutive looks, that stretch of the track is a group. It is replaced there by one track per
member, following that member's detections (boxes interpolated between looks, held for half a
look at each end); what the track holds outside its group stretches stays as tracks of its own.
The tracker's gap linking (video.tracker.link_tracks) then joins pieces that continue each
other, so a person keeps one track through a crossing where motion allows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from video.base.tracks import Track
from video.recognize import Detections, iou_matrix


@dataclass(frozen=True)
class GroupSplitConfig:
    """When a track is a group.

    classes: detection classes whose members are split apart. min_inside: share of a
    detection's area inside the track's box for it to count as a member. max_share: a member
    covers at most this share of the track's box (one detection filling the box is the track
    itself). max_member_iou: members overlapping more than this are one member seen twice.
    min_looks: consecutive detection frames with two or more members that make a group. link_iou
    / link_distance: a member on one look continues one on the next if their boxes overlap this
    much, or if their centres are at most this many box sizes apart.
    """

    classes: frozenset[str] = frozenset({"person"})
    min_inside: float = 0.7
    max_share: float = 0.7
    max_member_iou: float = 0.3
    min_looks: int = 2
    link_iou: float = 0.2
    link_distance: float = 1.0

    def __post_init__(self) -> None:
        for name in ("min_inside", "max_share", "max_member_iou", "link_iou"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in (0, 1], got {getattr(self, name)}")
        if self.min_looks < 1 or self.link_distance <= 0:
            raise ValueError("min_looks must be at least 1 and link_distance positive")


def members(box: np.ndarray, detections: Detections, *,
            config: GroupSplitConfig = GroupSplitConfig()) -> np.ndarray:
    """(k, 4) boxes of the detections that are members of a group boxed by `box`: of a split
    class, mostly inside it, each a minor part of it, strongest first with duplicates dropped."""
    keep = [i for i, label in enumerate(detections.labels) if label in config.classes]
    if len(keep) < 2:
        return np.zeros((0, 4))
    dets = np.asarray(detections.boxes, dtype=np.float64)[keep]
    scores = np.asarray(detections.scores, dtype=np.float64)[keep]
    inter_w = np.clip(np.minimum(dets[:, 2], box[2]) - np.maximum(dets[:, 0], box[0]), 0, None)
    inter_h = np.clip(np.minimum(dets[:, 3], box[3]) - np.maximum(dets[:, 1], box[1]), 0, None)
    area = np.maximum((dets[:, 2] - dets[:, 0]) * (dets[:, 3] - dets[:, 1]), 1e-9)
    box_area = max(float((box[2] - box[0]) * (box[3] - box[1])), 1e-9)
    inside = (inter_w * inter_h / area >= config.min_inside) & (area <= config.max_share * box_area)
    chosen: list[int] = []
    for i in np.argsort(-scores, kind="stable"):
        if not inside[i]:
            continue
        if chosen and iou_matrix(dets[i][None], dets[chosen]).max() > config.max_member_iou:
            continue
        chosen.append(int(i))
    return dets[chosen] if len(chosen) >= 2 else np.zeros((0, 4))


def group_stretches(track: Track, detections: Sequence[Detections], *,
                    config: GroupSplitConfig = GroupSplitConfig()
                    ) -> list[list[tuple[int, np.ndarray]]]:
    """The track's group stretches: runs of at least `min_looks` consecutive looks (detection
    frames inside its span) that each found two or more members; each look as (frame, boxes)."""
    runs: list[list[tuple[int, np.ndarray]]] = []
    current: list[tuple[int, np.ndarray]] = []
    first, last = int(track.frames[0]), int(track.frames[-1])
    for det in detections:
        if not first <= det.frame <= last:
            continue
        box = track.box_at(det.frame)
        found = members(box, det, config=config) if box is not None else np.zeros((0, 4))
        if len(found) >= 2:
            current.append((det.frame, found))
            continue
        if len(current) >= config.min_looks:
            runs.append(current)
        current = []
    if len(current) >= config.min_looks:
        runs.append(current)
    return runs


def _chains(looks: list[tuple[int, np.ndarray]], config: GroupSplitConfig
            ) -> list[list[tuple[int, np.ndarray]]]:
    """Members followed from look to look (greedy by overlap, then by centre distance); a
    member that continues none starts a chain of its own."""
    chains: list[list[tuple[int, np.ndarray]]] = []
    open_ends: list[int] = []  # chains that the previous look extended
    for frame, boxes in looks:
        taken: set[int] = set()
        extended: list[int] = []
        ends = [chains[c][-1][1] for c in open_ends]
        if ends:
            score = _continuation(np.asarray(ends), boxes, config)
            for flat in np.argsort(-score, axis=None, kind="stable"):
                e, b = divmod(int(flat), score.shape[1])
                if score[e, b] <= 0:
                    break
                if open_ends[e] in extended or b in taken:
                    continue
                chains[open_ends[e]].append((frame, boxes[b]))
                extended.append(open_ends[e])
                taken.add(b)
        for b in range(len(boxes)):
            if b not in taken:
                chains.append([(frame, boxes[b])])
                extended.append(len(chains) - 1)
        open_ends = extended
    return chains


def _continuation(ends: np.ndarray, boxes: np.ndarray, config: GroupSplitConfig) -> np.ndarray:
    """How well each box continues each chain end: IoU when above link_iou, else a small
    score falling with centre distance (in box sizes) up to link_distance; 0 when neither."""
    iou = iou_matrix(ends, boxes)
    centre_e = (ends[:, :2] + ends[:, 2:]) / 2.0
    centre_b = (boxes[:, :2] + boxes[:, 2:]) / 2.0
    size = np.maximum(np.sqrt(np.maximum((ends[:, 2] - ends[:, 0]) * (ends[:, 3] - ends[:, 1]),
                                         1.0)), 1.0)
    dist = np.linalg.norm(centre_e[:, None] - centre_b[None], axis=2) / size[:, None]
    near = np.where(dist <= config.link_distance, 0.1 * (1.0 - dist / config.link_distance), 0.0)
    return np.where(iou >= config.link_iou, iou + 1.0, near)


def _chain_track(chain: list[tuple[int, np.ndarray]], frames: np.ndarray, label: str) -> Track:
    """A track over `frames` following the chain's boxes (linear between looks, held at ends)."""
    looks = np.array([f for f, _ in chain], dtype=np.float64)
    boxes = np.array([b for _, b in chain], dtype=np.float64)
    filled = np.stack([np.interp(frames, looks, boxes[:, k]) for k in range(4)], axis=1)
    return Track(id=0, label=label, frames=frames, boxes=filled,
                 extra={"measured": np.isin(frames, looks.astype(int)).tolist()})


def _piece(track: Track, keep: np.ndarray) -> Track | None:
    if not keep.any():
        return None
    measured = track.extra.get("measured")
    extra = {"measured": list(np.asarray(measured, dtype=bool)[keep])} if measured is not None \
        and len(measured) == len(track) else {}
    return Track(id=track.id, label=track.label, frames=track.frames[keep],
                 boxes=track.boxes[keep], extra=extra)


def _stretch_span(first_look: int, last_look: int, seen: Sequence[int], first: int,
                  last: int) -> tuple[int, int]:
    """Frames a stretch covers: halfway to the looks before and after it that saw no group,
    or to the track's ends where there are none."""
    before = [f for f in seen if f < first_look]
    after = [f for f in seen if f > last_look]
    start = (before[-1] + first_look) // 2 + 1 if before else first
    stop = (last_look + after[0]) // 2 if after else last
    return start, stop


def split_track(track: Track, detections: Sequence[Detections], *, interval: int,
                config: GroupSplitConfig = GroupSplitConfig()) -> list[Track]:
    """The track itself when it never holds a group; else its pieces outside the group
    stretches and one track per member inside them (`interval`: frames between looks)."""
    stretches = group_stretches(track, detections, config=config)
    if not stretches:
        return [track]
    first, last = int(track.frames[0]), int(track.frames[-1])
    seen = [d.frame for d in detections if first <= d.frame <= last]
    outside = np.ones(len(track), dtype=bool)
    out: list[Track] = []
    for looks in stretches:
        start, stop = _stretch_span(looks[0][0], looks[-1][0], seen, first, last)
        span = (track.frames >= start) & (track.frames <= stop)
        outside &= ~span
        chains = _chains(looks, config)
        for chain in chains:
            # a member first (last) seen on the stretch's first (last) look holds the frames up
            # to the stretch's edge; one that appears or leaves inside it, half a look
            lo = start if chain[0][0] == looks[0][0] else chain[0][0] - interval // 2
            hi = stop if chain[-1][0] == looks[-1][0] else chain[-1][0] + interval // 2
            frames = track.frames[span & (track.frames >= lo) & (track.frames <= hi)]
            if len(frames):
                out.append(_chain_track(chain, frames, track.label))
    # the pieces between stretches, each a run of consecutive kept frames
    runs = np.split(np.flatnonzero(outside), np.flatnonzero(np.diff(np.flatnonzero(outside)) > 1) + 1)
    for run in runs:
        if len(run):
            keep = np.zeros(len(track), dtype=bool)
            keep[run] = True
            piece = _piece(track, keep)
            if piece is not None:
                out.append(piece)
    return sorted(out, key=lambda t: int(t.frames[0]))


def split_groups(tracks: Sequence[Track], detections: Sequence[Detections], *, interval: int,
                 config: GroupSplitConfig = GroupSplitConfig()) -> tuple[list[Track], int]:
    """Every track split where it holds a group; returns the tracks and how many were split."""
    out: list[Track] = []
    split = 0
    for track in tracks:
        parts = split_track(track, detections, interval=interval, config=config)
        split += parts[0] is not track   # split_track returns the track itself when whole
        out.extend(parts)
    return out, split
