"""Footsteps from the body: heel strikes of each foot of a person, seen in its pose keypoints.

For every track recognized as a `person` the pose model (video.pose) runs on the track's box a
few times a second (`rate`, the cadence's need: a foot lands about once a second, and each
landing must be seen arriving), in a second decoding pass after the analysis. Each foot (mean of
ankle and heel) is followed in frame coordinates, and a step is put where that foot comes to
rest after a swing: the first interval in which it moves slower than `rest_speed` body sizes per
second after one in which it moved faster than `move_speed`, having swung at least `min_swing`
body sizes, its rest position no higher than `ground_tolerance` above the lowest point of the
swing (a foot lands at the bottom of its path, not at the top of a kick). The landing time is
below a sample: the foot's last measured velocity carried on until it reaches its rest position
(exact for a swing that arrives at constant speed, early by less than one sample interval for
one that brakes). Steps carry their foot and its x, so the spatializer pans them to the foot.

Where the pose is not found on enough of a person's samples (small, far, occluded people; the
model's own "person present" score and the feet's visibility decide) the person keeps the box
bob steps of video.events.detect_steps. A missing or corrupt model file or runtime gives one
warning and the box-bob steps for everyone.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from video.base.progress import ProgressFn, report, warn_line
from video.base.tracks import FEET, Analysis, Event, Track, VideoInfo
from video.events import EventConfig, detect_steps, dense_boxes
from video.pose import Pose, PoseModel, PoseUnavailable, load_pose_model
from video.reader import VideoReader

PERSON = "person"


@dataclass(frozen=True)
class FootstepConfig:
    """Options of footsteps from pose.

    enabled: run the pose model at all (off: box-bob steps). rate: pose samples per second of a
    person's track. min_score / min_visibility: a sample counts when the model is this sure a
    person is there and the foot is visible. min_found: the pose is used for a track only if at
    least this fraction of its samples count (else box-bob steps). min_samples: fewer counted
    samples than this: box-bob steps. rest_speed / move_speed: a foot is at rest below, moving
    above (body sizes per second; hysteresis between). min_swing: a step's swing covers at least
    this many body sizes. ground_tolerance: how far (body sizes) above its swing's lowest point
    a foot may land. min_period: a foot lands at most once in this many seconds. max_gap: samples
    further apart (s) are not joined into one path. margin: the crop's side over the box's
    longer side. max_side: frames are decoded at most this large for the crops. threads: CPU
    threads of the model. weights: another copy of the model file (tests).
    """

    enabled: bool = True
    rate: float = 10.0
    min_score: float = 0.5
    min_visibility: float = 0.5
    min_found: float = 0.5
    min_samples: int = 6
    rest_speed: float = 0.35
    move_speed: float = 0.7
    min_swing: float = 0.1
    ground_tolerance: float = 0.12
    min_period: float = 0.5
    max_gap: float = 0.6
    margin: float = 1.3
    max_side: int = 960
    threads: int = 1
    weights: str | None = None

    def __post_init__(self) -> None:
        if not self.rate > 0:
            raise ValueError(f"rate must be positive, got {self.rate}")
        for name in ("min_score", "min_visibility", "min_found"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in 0..1, got {getattr(self, name)}")
        if not 0 < self.rest_speed < self.move_speed:
            raise ValueError("need 0 < rest_speed < move_speed")
        if self.min_samples < 2 or self.threads < 1 or self.max_side < 64:
            raise ValueError("min_samples must be >= 2, threads >= 1, max_side >= 64")
        if self.margin < 1.0:
            raise ValueError(f"margin must be at least 1, got {self.margin}")


@dataclass(frozen=True)
class Strike:
    """One heel strike: time (s), the foot's x and y there (pixels), strength 0..1."""

    time: float
    x: float
    y: float
    strength: float


# ----------------------------------------------------------------------------------------------
# heel strikes in one foot's path


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of the runs of True in a boolean array."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def _segment_strikes(t: np.ndarray, p: np.ndarray, *, scale: float,
                     config: FootstepConfig) -> list[Strike]:
    """Strikes of one unbroken stretch of samples (times t, positions p (n, 2))."""
    if len(t) < 3:
        return []
    dt = np.diff(t)
    speed = np.linalg.norm(np.diff(p, axis=0), axis=1) / dt / scale   # per interval
    # hysteresis: intervals between the two thresholds take the state before them
    state = np.zeros(len(speed), dtype=np.int8)       # 1 moving, 0 resting
    current = 1 if speed[0] >= config.move_speed else 0
    for i, v in enumerate(speed):
        if v >= config.move_speed:
            current = 1
        elif v < config.rest_speed:
            current = 0
        state[i] = current
    out: list[Strike] = []
    rests = [(a, b) for a, b in _runs(state == 0) if a > 0]  # a rest after some motion
    for a, b in rests:
        swing_start = a - 1
        while swing_start > 0 and state[swing_start - 1] == 1:
            swing_start -= 1
        # samples: swing from sample swing_start to a, rest from sample a to b
        rest = np.median(p[a:b + 1], axis=0)
        travel = float(np.linalg.norm(rest - p[swing_start])) / scale
        if travel < config.min_swing:
            continue
        swing_y = p[swing_start:a + 1, 1]
        if rest[1] < float(swing_y.max()) - config.ground_tolerance * scale:
            continue
        # carry the last measured swing velocity on until the foot reaches its rest position
        k = a - 1
        velocity = (p[k] - p[k - 1]) / dt[k - 1] if k >= 1 and state[k - 1] == 1 else \
            (p[a] - p[k]) / dt[k]
        remaining = rest - p[k]
        along = float(np.dot(remaining, velocity))
        v2 = float(np.dot(velocity, velocity))
        lag = along / v2 if v2 > 0 and along > 0 else dt[k]
        when = float(t[k] + min(max(lag, 0.0), dt[k]))
        peak = float(speed[swing_start:a].max())
        strength = float(np.clip(peak / (4.0 * config.move_speed), 0.2, 1.0))
        out.append(Strike(when, float(rest[0]), float(rest[1]), strength))
    return out


def foot_strikes(times: np.ndarray, points: np.ndarray, valid: np.ndarray, *, scale: float,
                 config: FootstepConfig = FootstepConfig()) -> list[Strike]:
    """Heel strikes of one foot from its sampled path (see the module docstring).

    times: (n,) seconds, ascending. points: (n, 2) x, y in frame pixels (y down). valid: (n,)
    which samples were measured. scale: the body's size in pixels (video.pose.Pose.scale).
    """
    t = np.asarray(times, dtype=np.float64)
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    ok = np.asarray(valid, dtype=bool) & np.isfinite(p).all(axis=1)
    t, p = t[ok], p[ok]
    if not scale > 0 or len(t) < 3:
        return []
    breaks = np.flatnonzero(np.diff(t) > config.max_gap) + 1
    strikes: list[Strike] = []
    for seg_t, seg_p in zip(np.split(t, breaks), np.split(p, breaks), strict=True):
        strikes.extend(_segment_strikes(seg_t, seg_p, scale=scale, config=config))
    kept: list[Strike] = []
    for s in sorted(strikes, key=lambda s: s.time):
        if kept and s.time - kept[-1].time < config.min_period:
            if s.strength > kept[-1].strength:
                kept[-1] = s
            continue
        kept.append(s)
    return kept


# ----------------------------------------------------------------------------------------------
# poses of person tracks


@dataclass(frozen=True)
class TrackPoses:
    """A track's pose samples: frame indices and the pose on each (None: not estimated)."""

    frames: np.ndarray
    poses: tuple[Pose | None, ...]


def sample_frames(track: Track, *, fps: float, rate: float) -> np.ndarray:
    """Frames of the track (first to last) at which its pose is estimated: every
    `round(fps / rate)`-th frame."""
    step = max(1, round(fps / rate))
    return np.arange(int(track.frames[0]), int(track.frames[-1]) + 1, step, dtype=np.int64)


def steps_from_poses(samples: TrackPoses, info: VideoInfo, *,
                     config: FootstepConfig = FootstepConfig()) -> tuple[Event, ...] | None:
    """Step events of both feet from a track's poses, or None where the pose was not found on
    enough samples (the caller then falls back to box-bob steps)."""
    n = len(samples.frames)
    if n == 0:
        return None
    good = np.array([p is not None and p.score >= config.min_score for p in samples.poses])
    scales = [p.scale() for p, g in zip(samples.poses, good, strict=True) if g and p is not None]
    if good.sum() < config.min_samples or good.mean() < config.min_found:
        return None
    scale = float(np.median(scales))
    times = np.array([info.time_of_frame(int(f)) for f in samples.frames])
    events: list[Event] = []
    for side in FEET:
        points = np.full((n, 2), np.nan)
        valid = np.zeros(n, dtype=bool)
        for i, pose in enumerate(samples.poses):
            if pose is None or not good[i]:
                continue
            xy, visibility = pose.foot(side)
            points[i] = xy
            valid[i] = visibility >= config.min_visibility
        if valid.sum() < config.min_samples:
            return None
        events.extend(Event(time=s.time, strength=s.strength, kind="step", foot=side,
                            x=float(np.clip(s.x, 0.0, info.width)))
                      for s in foot_strikes(times, points, valid, scale=scale, config=config))
    return tuple(sorted(events, key=lambda e: e.time))


def estimate_poses(path: str | os.PathLike[str], tracks: Sequence[Track], info: VideoInfo,
                   model: PoseModel, *, config: FootstepConfig = FootstepConfig(),
                   progress: ProgressFn | None = None) -> list[TrackPoses]:
    """Each track's poses at its sample frames, in one decoding pass over the frames that any
    track needs (from the first needed frame to the last)."""
    wanted = [sample_frames(t, fps=float(info.fps), rate=config.rate) for t in tracks]
    boxes = [dense_boxes(t) for t in tracks]
    needed: dict[int, list[int]] = {}
    for i, frames in enumerate(wanted):
        for f in frames.tolist():
            needed.setdefault(f, []).append(i)
    poses: list[dict[int, Pose]] = [{} for _ in tracks]
    if needed:
        first, last = min(needed), max(needed)
        with VideoReader(path) as reader:
            for frame in reader.frames(start=first, stop=last + 1, max_side=config.max_side):
                users = needed.get(frame.index)
                if not users:
                    continue
                for i in users:
                    frames_i, boxes_i, _ = boxes[i]
                    box = boxes_i[frame.index - int(frames_i[0])] * frame.scale
                    pose = model.estimate(frame.image, box, margin=config.margin)
                    poses[i][frame.index] = replace(pose, points=pose.points / frame.scale)
                if frame.index % 16 == 0:
                    report(progress, (frame.index - first + 1) / (last - first + 1),
                           f"poses: frame {frame.index + 1}/{info.frames}")
    return [TrackPoses(frames, tuple(poses[i].get(int(f)) for f in frames))
            for i, frames in enumerate(wanted)]


def _with_steps(track: Track, steps: Sequence[Event], source: str) -> Track:
    kept = [e for e in track.events if e.kind != "step"]
    events = tuple(sorted([*kept, *steps], key=lambda e: e.time))
    return track.with_changes(events=events, extra={**track.extra, "steps_from": source})


def apply_footsteps(path: str | os.PathLike[str], analysis: Analysis, *,
                    config: FootstepConfig = FootstepConfig(),
                    events: EventConfig = EventConfig(),
                    progress: ProgressFn | None = None,
                    warn: Callable[[str], None] | None = None) -> Analysis:
    """`analysis` with the steps of its `person` objects from their pose (or, where the pose is
    not found, from their box's bob), other objects and other event kinds unchanged. Each person
    records where its steps came from under the extra key "steps_from" ("pose" or "box")."""
    people = [i for i, t in enumerate(analysis.objects) if t.label == PERSON and len(t)]
    if not people or not config.enabled:
        return analysis
    info = analysis.video
    found: dict[int, tuple[Event, ...]] = {}
    try:
        model = load_pose_model(config.weights, threads=config.threads)
    except PoseUnavailable as exc:
        (warn or warn_line)(f"footsteps from pose off: {exc}; steps come from the box's bob")
    else:
        report(progress, 0.0, "poses")
        tracks = [analysis.objects[i] for i in people]
        for i, samples in zip(people, estimate_poses(path, tracks, info, model, config=config,
                                                     progress=progress), strict=True):
            steps = steps_from_poses(samples, info, config=config)
            if steps is not None:
                found[i] = steps
    objects = list(analysis.objects)
    for i in people:
        if i in found:
            objects[i] = _with_steps(objects[i], found[i], "pose")
        else:
            objects[i] = _with_steps(objects[i], detect_steps(objects[i], info, config=events),
                                     "box")
    report(progress, 1.0, "footsteps")
    return analysis.with_objects(objects)

