"""Which way is down in the picture: a clip filmed turned (a phone held sideways, the file not
tagged with its rotation) has its floor on a side, and detectors trained on upright pictures
miss what falls and bounces towards it.

Gravity shows in the tracks of things in free flight: their acceleration points the same way
frame after frame, whatever their speed. Each track's acceleration (a Savitzky-Golay second
derivative of its box centre, in box sizes per second squared, so near and far objects weigh
alike) is taken on the frames where it is clearly above tracker noise and below the spikes of
impacts; the mean of its unit vectors is long (consistent direction) for a thrown or bouncing
object and short for a walker or a tracker's jitter. A track that keeps braking (acceleration
against its velocity: friction, a car slowing down) is not evidence of gravity. The clip's
down is the side the evidence points to (snapped to a quarter turn), and only a clear majority
of it turns the picture: without evidence the picture is upright.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from video.base.tracks import Track, VideoInfo
from video.events import dense_boxes
from video.peaks import savgol_derivative

ROTATIONS = (0, 90, 180, 270)
# the picture direction gravity points to, for each clockwise turn that brings it down
_DOWN_FOR_TURN = {0: (0.0, 1.0), 90: (1.0, 0.0), 180: (0.0, -1.0), 270: (-1.0, 0.0)}


@dataclass(frozen=True)
class GravityConfig:
    """Thresholds of the estimate.

    window: frames of the Savitzky-Golay fit (odd). min_accel: accelerations below this many
    box sizes / s^2 are noise. spike: accelerations above `spike` x the track's median are
    impacts, not flight. min_frames: frames of clear acceleration a track needs to count.
    min_consistency: length of the mean unit acceleration (0 random .. 1 one direction) a track
    needs. max_braking: a track whose acceleration opposes its velocity more than this on
    average (mean cosine below -max_braking) is braking, not falling. snap_deg: the evidence
    must lie within this of a quarter turn. majority: share of all the evidence the winning
    side needs.
    """

    window: int = 7
    min_accel: float = 0.5
    spike: float = 4.0
    min_frames: int = 20
    min_consistency: float = 0.35
    max_braking: float = 0.5
    snap_deg: float = 30.0
    majority: float = 2.0 / 3.0

    def __post_init__(self) -> None:
        if self.window < 5 or self.window % 2 == 0:
            raise ValueError(f"window must be odd and at least 5, got {self.window}")
        if not (0.0 < self.min_consistency <= 1.0 and 0.0 <= self.max_braking <= 1.0
                and 0.5 <= self.majority <= 1.0 and 0.0 < self.snap_deg <= 45.0):
            raise ValueError("min_consistency, max_braking, majority or snap_deg out of range")
        if self.min_accel < 0 or self.spike <= 1.0 or self.min_frames < 1:
            raise ValueError("min_accel must be >= 0, spike > 1 and min_frames >= 1")


@dataclass(frozen=True)
class TrackGravity:
    """One track's evidence: the unit direction its acceleration keeps (image axes, y down),
    how consistently (0..1), and on how many frames."""

    direction: tuple[float, float]
    consistency: float
    frames: int


def track_gravity(track: Track, info: VideoInfo, *,
                  config: GravityConfig = GravityConfig()) -> TrackGravity | None:
    """The direction `track`'s acceleration keeps, or None when it is no evidence (too short,
    too little clear acceleration, no consistent direction, or braking)."""
    frames, boxes, _ = dense_boxes(track)
    if len(frames) < config.window + 2:
        return None
    centres = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2.0, (boxes[:, 1] + boxes[:, 3]) / 2.0],
                       axis=1)
    size = max(float(np.median(np.maximum(boxes[:, 2] - boxes[:, 0],
                                          boxes[:, 3] - boxes[:, 1]))), 1.0)
    fps = float(info.fps)
    accel = savgol_derivative(centres, config.window, order=2, deriv=2) * fps**2 / size
    velocity = savgol_derivative(centres, config.window, order=2, deriv=1) * fps / size
    magnitude = np.hypot(accel[:, 0], accel[:, 1])
    clear = (magnitude > config.min_accel) & (
        magnitude < config.spike * float(np.median(magnitude)))
    if int(clear.sum()) < config.min_frames:
        return None
    units = accel[clear] / magnitude[clear, None]
    mean = units.mean(axis=0)
    consistency = float(np.hypot(mean[0], mean[1]))
    if consistency < config.min_consistency:
        return None
    direction = (float(mean[0]) / consistency, float(mean[1]) / consistency)
    speed = np.hypot(velocity[clear, 0], velocity[clear, 1])
    moving = speed > 1e-9
    if moving.any():
        # how the kept direction lies against the motion, frame by frame: about 0 in flight
        # (falling and rising cancel, sideways motion is square to it), -1 when braking
        along = velocity[clear][moving] @ np.asarray(direction) / speed[moving]
        if float(along.mean()) < -config.max_braking:
            return None
    return TrackGravity(direction=direction, consistency=consistency, frames=int(clear.sum()))


def picture_turn(tracks: Sequence[Track], info: VideoInfo, *,
                 config: GravityConfig = GravityConfig()) -> int:
    """Clockwise quarter turn (0, 90, 180 or 270 degrees) that brings the clip's gravity down,
    from the tracks in free flight; 0 when they show none or disagree."""
    votes = dict.fromkeys(ROTATIONS, 0.0)
    for track in tracks:
        evidence = track_gravity(track, info, config=config)
        if evidence is None:
            continue
        turn = _nearest_turn(evidence.direction, config.snap_deg)
        if turn is not None:
            votes[turn] += evidence.frames * evidence.consistency
    total = sum(votes.values())
    if total <= 0:
        return 0
    best = max(ROTATIONS, key=lambda r: votes[r])
    return best if votes[best] >= config.majority * total else 0


def _nearest_turn(direction: tuple[float, float], snap_deg: float) -> int | None:
    """The turn whose gravity direction lies within `snap_deg` of `direction`, if any."""
    for turn, (dx, dy) in _DOWN_FOR_TURN.items():
        cosine = direction[0] * dx + direction[1] * dy
        if cosine >= math.cos(math.radians(snap_deg)):
            return turn
    return None


def turn_boxes(boxes: np.ndarray, *, turn: int, width: int, height: int) -> np.ndarray:
    """(n, 4) x0, y0, x1, y1 boxes of a width x height picture, as they lie in the picture
    turned clockwise by `turn` degrees (a multiple of 90)."""
    if turn not in ROTATIONS:
        raise ValueError(f"turn must be one of {ROTATIONS}, got {turn}")
    b = np.asarray(boxes, dtype=np.float64)
    x0, y0, x1, y1 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    if turn == 0:
        return b.copy()
    if turn == 90:  # (x, y) -> (height - y, x)
        return np.stack([height - y1, x0, height - y0, x1], axis=1)
    if turn == 180:  # (x, y) -> (width - x, height - y)
        return np.stack([width - x1, height - y1, width - x0, height - y0], axis=1)
    return np.stack([y0, width - x1, y1, width - x0], axis=1)  # (x, y) -> (y, width - x)


def turned(track: Track, info: VideoInfo, turn: int) -> tuple[Track, VideoInfo]:
    """The track and the video's geometry as they are in the picture turned by `turn`."""
    if turn == 0:
        return track, info
    boxes = turn_boxes(track.boxes, turn=turn, width=info.width, height=info.height)
    size = (info.height, info.width) if turn in (90, 270) else (info.width, info.height)
    return track.with_changes(boxes=boxes), replace(info, width=size[0], height=size[1])
