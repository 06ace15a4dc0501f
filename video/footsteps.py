"""Footsteps from the body: heel strikes of a person's feet, seen in its pose keypoints.

For every track recognized as a `person` the pose model (video.pose) runs on the track's box
`rate` times a second while the box moves (a walker lands a foot about twice a second; each
landing must be seen arriving), in a second decoding pass after the analysis, on those tracks
only. Both feet (mean of ankle and heel) are followed in frame coordinates, with the body's
walking direction u (the hips' velocity over `direction_window` seconds). The feet's separation
along it, |(L - R).u|, grows while the front foot swings forward and stops growing when it lands
(the heel strike; both feet then rest until the rear one lifts). Each of its peaks with at least
`min_swing` body sizes of prominence, while the body moves, is a step, if the leading foot is
on the ground: its drop below the hips at most `ground_tolerance` body sizes short of the
largest drop of either foot in the second around it (a foot kicked up is not a step). The
separation is used, not each foot alone, because the landmark model often swaps the left and
right legs of a walker seen from the front, and the separation's size does not care. The
landing time is below a sample: the separation's last rise carried on until it reaches the
peak's level, i.e. when the swinging foot came to rest (exact for a swing that arrives at
constant speed, early by less than a sample for one that brakes).

At 10-15 samples a second a foot seen from the front often hides the other: where two steps are
a whole number of step periods apart (2 to `fill_steps` + 1 periods; period = the track's median
step interval), the largest separation maximum near each expected place between them is taken
as a hidden step (only a maximum that is there: nothing is invented where the separation is
flat). Where the found steps come slower than any walk (under 1.2 a second), half their
interval is a walking one and most of them have the same foot ahead, they are one foot's
landings (a walker seen from behind, whose other foot barely leaves the first:
`stride_to_step`), and the other foot's are looked for halfway. The foot of each step is the
one ahead (left or right, the body's), made to alternate within a run of steps by a vote over
the run, since single frames' labels swap. Steps carry their foot and its x, so the spatializer
pans them to the foot.

Where the pose is not found on enough of a person's samples (small, far, occluded people; the
model's own "person present" score and the feet's visibility decide), or where the box's bob
shows a steady rhythm with many more steps than the pose found (`bob_ratio`: the legs were not
seen), the person gets the box-bob steps of video.events.detect_steps, those in its walks only
(`while_walking`: someone standing who sways or gestures bobs too). A missing or corrupt model
file or runtime gives one warning and the box-bob steps for everyone.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from video.base.progress import ProgressFn, report, warn_line
from video.base.threads import opencv_threads
from video.base.tracks import FEET, Analysis, Event, Track, VideoInfo
from video.cadence import MIN_RATE, CadenceConfig, fill_walking_gaps, in_walking_range, walks
from video.events import EventConfig, dense_boxes, detect_steps
from video.peaks import find_peaks, strict_maxima
from video.pose import Pose, PoseModel, PoseUnavailable, load_pose_model, prepare_pose_model
from video.reader import VideoFrame, VideoReader

PERSON = "person"


@dataclass(frozen=True)
class FootstepConfig:
    """Options of footsteps from pose.

    enabled: run the pose model at all (off: box-bob steps). rate: pose samples per second of a
    person's track. min_score / min_visibility: a sample counts when the model is this sure a
    person is there and both feet are visible. min_found: the pose is used for a track only if
    at least this fraction of its samples count (else box-bob steps). min_samples: fewer counted
    samples than this: box-bob steps. min_box_speed: the pose is estimated only where the
    track's box moves at least this many box heights per second (sample_frames). min_body_speed:
    the body walks when its hips move at least this many body sizes per second.
    direction_window: seconds over which the walking direction is measured. min_swing:
    prominence of a separation peak (body sizes). ground_tolerance: how much less (body sizes)
    than the feet's largest drop below the hips around it a leading foot may have (module
    docstring). min_interval: steps (either foot) at least this many seconds apart. fill_steps:
    a gap of up to this many missed steps between two steps, as long as a whole number of step
    periods (within fill_tolerance of a period per step), gets its hidden steps. bob_ratio: the
    box-bob steps are kept instead where they are more than this many times the pose's (the pose
    missed the legs). max_gap: samples further apart (s) are not joined into one path. follow_s:
    a pose found at most this many seconds before places the next crop on the body
    (pose_crop_box). margin: the crop's side over the box's longer side. max_side: frames are
    decoded at most this large for the crops. threads: CPU threads of the model. weights:
    another copy of the model file (tests). cadence: where the found steps (pose or bob) leave a
    walking stretch silent, steps at the walking cadence (video.cadence).
    """

    enabled: bool = True
    rate: float = 10.0
    min_score: float = 0.5
    min_visibility: float = 0.5
    min_found: float = 0.5
    min_samples: int = 6
    min_body_speed: float = 0.15
    min_box_speed: float = 0.05
    direction_window: float = 1.0
    min_swing: float = 0.06
    ground_tolerance: float = 0.35
    min_interval: float = 0.25
    fill_steps: int = 3
    fill_tolerance: float = 0.25
    bob_ratio: float = 1.5
    max_gap: float = 0.6
    follow_s: float = 0.4
    margin: float = 1.3
    max_side: int = 960
    threads: int = 2
    weights: str | None = None
    cadence: CadenceConfig = CadenceConfig()

    def __post_init__(self) -> None:
        if not self.rate > 0:
            raise ValueError(f"rate must be positive, got {self.rate}")
        for name in ("min_score", "min_visibility", "min_found"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in 0..1, got {getattr(self, name)}")
        if not (self.min_body_speed > 0 and self.direction_window > 0 and self.min_interval > 0):
            raise ValueError("min_body_speed, direction_window and min_interval must be positive")
        if self.fill_steps < 0 or not 0 <= self.fill_tolerance < 0.5:
            raise ValueError("fill_steps must be >= 0 and fill_tolerance in 0..0.5")
        if self.min_samples < 2 or self.threads < 1 or self.max_side < 64:
            raise ValueError("min_samples must be >= 2, threads >= 1, max_side >= 64")
        if not self.bob_ratio > 0 or self.follow_s < 0:
            raise ValueError("bob_ratio must be positive and follow_s >= 0")
        if self.margin < 1.0:
            raise ValueError(f"margin must be at least 1, got {self.margin}")


@dataclass(frozen=True)
class Strike:
    """One heel strike: time (s), which foot ("left"/"right", the body's), where it landed
    (x, y pixels), strength 0..1."""

    time: float
    foot: str
    x: float
    y: float
    strength: float


# ----------------------------------------------------------------------------------------------
# heel strikes in the feet's paths


def walking_direction(times: np.ndarray, body: np.ndarray, *, window: float) -> np.ndarray:
    """The body's velocity (pixels/s, (n, 2)) at each sample, from its positions `window` / 2
    seconds before and after (as far as the samples reach)."""
    out = np.zeros_like(body)
    lo = np.searchsorted(times, times - window / 2, side="left")
    hi = np.searchsorted(times, times + window / 2, side="right") - 1
    for i, (a, b) in enumerate(zip(lo, hi, strict=True)):
        if b > a and times[b] > times[a]:
            out[i] = (body[b] - body[a]) / (times[b] - times[a])
    return out


def _landing_position(sep: np.ndarray, k: int, *, flat: float) -> float:
    """Sub-sample position where the separation's rise into peak k reaches the peak's level (the
    swinging foot's arrival): the last rising slope carried on. A peak is flat while both feet
    rest (within `flat` of its level): its first sample is where the rise ends."""
    level = sep[k]
    while k >= 1 and sep[k - 1] >= level - flat:
        k -= 1
    if k < 1:
        return float(k)
    slope = sep[k - 1] - sep[k - 2] if k >= 2 and sep[k - 1] > sep[k - 2] else sep[k] - sep[k - 1]
    if slope <= 0:
        return float(k)
    return float(k - 1 + min(max((level - sep[k - 1]) / slope, 0.0), 1.0))


def _peaks(signed: np.ndarray, walking: np.ndarray, t: np.ndarray, *, scale: float,
           config: FootstepConfig) -> list[int]:
    """Peaks of the feet's separation (`signed`: > 0 where the left foot is ahead) while
    walking, and the hidden steps between them (module docstring)."""
    sep = np.abs(signed)
    dt = float(np.median(np.diff(t)))
    distance = max(1, int(round(config.min_interval / dt)))
    strong, _ = find_peaks(sep, prominence=config.min_swing * scale, distance=distance)
    peaks = [int(k) for k in strong if walking[k]]
    if len(peaks) < 3:
        return peaks
    period = stride_to_step(float(np.median(np.diff(t[peaks]))),
                            same_foot=same_foot_share(signed[peaks]))
    maxima = strict_maxima(sep)
    filled = list(peaks)
    for a, b in zip(peaks, peaks[1:], strict=False):
        gap = float(t[b] - t[a])
        steps = round(gap / period)
        if not 2 <= steps <= config.fill_steps + 1 or \
                abs(gap / steps - period) > config.fill_tolerance * period:
            continue
        for j in range(1, steps):
            expected = t[a] + j * gap / steps
            near = [int(m) for m in maxima
                    if abs(t[m] - expected) <= 0.3 * gap / steps and walking[m]]
            if near:
                filled.append(max(near, key=lambda m: sep[m]))
    return sorted(set(filled))


def same_foot_share(ahead: np.ndarray) -> float:
    """The share of consecutive found steps with the same foot ahead (`ahead`: the feet's
    signed separation at each step, > 0 where the left foot leads); 0 for fewer than two."""
    signs = np.sign(np.asarray(ahead, dtype=np.float64))
    if len(signs) < 2:
        return 0.0
    return float(np.mean(signs[1:] == signs[:-1]))


def stride_to_step(period: float, *, same_foot: float) -> float:
    """The step period of a walk whose found steps are `period` seconds apart, with the same
    foot ahead at `same_foot` of consecutive ones: `period` itself, or half of it where it is
    slower than any walk (under MIN_RATE steps a second), its half is a walking period, and
    most consecutive steps have the same foot ahead. Such steps are every other landing, one
    foot's: the other foot, seen from behind or in front of the body at 10-15 samples a
    second, barely leaves the first, and its smaller separation peaks fell below `min_swing`.
    Slow steps whose lead alternates are both feet's, only slow (slow motion, a stroll)."""
    half = period / 2
    if period > 1.0 / MIN_RATE and in_walking_range(half) and same_foot > 0.5:
        return half
    return period


def _alternate(signs: list[float], times: list[float], *, period: float) -> list[str]:
    """Feet for a sequence of steps: alternating within each run of steps less than 1.6
    periods apart, starting with the foot that most of the run's own signs (left ahead > 0)
    agree with."""
    feet: list[str] = []
    start = 0
    for i in range(1, len(times) + 1):
        if i < len(times) and times[i] - times[i - 1] < 1.6 * period:
            continue
        run = signs[start:i]
        parity = np.array([1.0 if j % 2 == 0 else -1.0 for j in range(len(run))])
        vote = float(np.sum(np.sign(run) * parity))
        first = 0 if vote >= 0 else 1
        feet.extend(FEET[(first + j) % 2] for j in range(len(run)))
        start = i
    return feet


def _segment_strikes(t: np.ndarray, left: np.ndarray, right: np.ndarray, body: np.ndarray, *,
                     scale: float, config: FootstepConfig) -> list[Strike]:
    """Strikes of one unbroken stretch of samples (times t, feet and body (n, 2))."""
    if len(t) < 5:
        return []
    velocity = walking_direction(t, body, window=config.direction_window)
    speed = np.linalg.norm(velocity, axis=1)
    walking = speed >= config.min_body_speed * scale
    unit = velocity / np.maximum(speed, 1e-9)[:, None]
    signed = np.einsum("ij,ij->i", left - right, unit)   # > 0: left foot ahead
    sep = np.abs(signed)
    kept: list[tuple[float, float, np.ndarray, float]] = []
    for k in _peaks(signed, walking, t, scale=scale, config=config):
        lead = left[k] if signed[k] > 0 else right[k]
        # how far below the hips: the walk's own drift up or down the picture cancels
        near = np.abs(t - t[k]) <= 0.5
        lowest = float(max((left[near, 1] - body[near, 1]).max(),
                           (right[near, 1] - body[near, 1]).max()))
        if lead[1] - body[k, 1] < lowest - config.ground_tolerance * scale:
            continue
        pos = _landing_position(sep, k, flat=0.005 * scale)
        i = min(int(np.floor(pos)), len(t) - 2)
        frac = pos - i
        when = float(t[i] + frac * (t[i + 1] - t[i]))
        kept.append((when, float(signed[k]), lead, float(sep[k]) / scale))
    if not kept:
        return []
    times = [w for w, _, _, _ in kept]
    period = float(np.median(np.diff(times))) if len(times) > 1 else 1.0
    feet = _alternate([s for _, s, _, _ in kept], times, period=period)
    return [Strike(w, foot, float(lead[0]), float(lead[1]), float(np.clip(size / 0.5, 0.2, 1.0)))
            for (w, _, lead, size), foot in zip(kept, feet, strict=True)]


def heel_strikes(times: np.ndarray, left: np.ndarray, right: np.ndarray, body: np.ndarray,
                 valid: np.ndarray, *, scale: float,
                 config: FootstepConfig = FootstepConfig()) -> list[Strike]:
    """Heel strikes of both feet from their sampled paths (see the module docstring).

    times: (n,) seconds, ascending. left, right: (n, 2) the feet's x, y in frame pixels (y
    down). body: (n, 2) the body's centre (mid-hips). valid: (n,) which samples were measured.
    scale: the body's size in pixels (video.pose.Pose.scale).
    """
    t = np.asarray(times, dtype=np.float64)
    arrays = [np.asarray(a, dtype=np.float64).reshape(-1, 2) for a in (left, right, body)]
    ok = np.asarray(valid, dtype=bool)
    for a in arrays:
        ok &= np.isfinite(a).all(axis=1)
    t = t[ok]
    lf, rf, c = (a[ok] for a in arrays)
    if not scale > 0 or len(t) < 5:
        return []
    breaks = np.flatnonzero(np.diff(t) > config.max_gap) + 1
    strikes: list[Strike] = []
    for part in zip(*(np.split(a, breaks) for a in (t, lf, rf, c)), strict=True):
        strikes.extend(_segment_strikes(*part, scale=scale, config=config))
    return strikes


# ----------------------------------------------------------------------------------------------
# poses of person tracks


@dataclass(frozen=True)
class TrackPoses:
    """A track's pose samples: frame indices and the pose on each (None: not estimated)."""

    frames: np.ndarray
    poses: tuple[Pose | None, ...]


def sample_frames(track: Track, *, fps: float, rate: float,
                  min_speed: float = 0.0) -> np.ndarray:
    """Frames of the track (first to last) at which its pose is estimated: every
    `round(fps / rate)`-th frame, skipping stretches where its box's centre moves slower than
    `min_speed` box heights per second over a second (a person standing still takes no steps;
    the pose there would cost time for nothing). A stretch's neighbours within half a second
    stay, so a step at the start or end of a walk is seen arriving."""
    step = max(1, round(fps / rate))
    frames = np.arange(int(track.frames[0]), int(track.frames[-1]) + 1, step, dtype=np.int64)
    if min_speed <= 0 or len(track) < 2:
        return frames
    dense, boxes, _ = dense_boxes(track)
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    height = max(float(np.median(boxes[:, 3] - boxes[:, 1])), 1.0)
    half = max(1, round(fps / 2))
    idx = np.arange(len(dense))
    lo, hi = np.clip(idx - half, 0, len(dense) - 1), np.clip(idx + half, 0, len(dense) - 1)
    span = np.maximum(hi - lo, 1) / fps
    speed = np.linalg.norm(centre[hi] - centre[lo], axis=1) / span / height
    moving = speed >= min_speed
    near = np.convolve(moving.astype(float), np.ones(2 * half + 1), mode="same") > 0
    return frames[near[frames - dense[0]]]


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
    feet = {side: np.full((n, 2), np.nan) for side in FEET}
    body = np.full((n, 2), np.nan)
    valid = np.zeros(n, dtype=bool)
    for i, pose in enumerate(samples.poses):
        if pose is None or not good[i]:
            continue
        body[i] = pose.centre()
        seen = []
        for side in FEET:
            feet[side][i], visibility = pose.foot(side)
            seen.append(visibility >= config.min_visibility)
        valid[i] = all(seen)
    if valid.sum() < config.min_samples:
        return None
    strikes = heel_strikes(times, feet["left"], feet["right"], body, valid, scale=scale,
                           config=config)
    return tuple(Event(time=s.time, strength=s.strength, kind="step", foot=s.foot,
                       x=float(np.clip(s.x, 0.0, info.width))) for s in strikes)


def pose_crop_box(track_box: np.ndarray, body_box: np.ndarray) -> np.ndarray:
    """Where to crop for a person: the body's box from its last pose when that body is still
    in the track's box (its centre inside the box grown by half on each side), else the track's
    box. Motion boxes of walkers are often off the body (only the legs, or a shadow), while
    the last pose's box is the whole person (what MediaPipe's own tracking does)."""
    x0, y0, x1, y1 = (float(v) for v in track_box)
    w, h = x1 - x0, y1 - y0
    cx, cy = (body_box[0] + body_box[2]) / 2, (body_box[1] + body_box[3]) / 2
    if x0 - w / 2 <= cx <= x1 + w / 2 and y0 - h / 2 <= cy <= y1 + h / 2:
        return np.asarray(body_box, dtype=np.float64)
    return np.asarray(track_box, dtype=np.float64)


def estimate_poses(path: str | os.PathLike[str], tracks: Sequence[Track], info: VideoInfo,
                   model: PoseModel, *, config: FootstepConfig = FootstepConfig(),
                   progress: ProgressFn | None = None) -> list[TrackPoses]:
    """Each track's poses at its sample frames, in one decoding pass over the frames that any
    track needs (from the first needed frame to the last). A track that has missed so many
    samples that its pose can no longer count (`min_found`) gets no more (None)."""
    wanted = [sample_frames(t, fps=float(info.fps), rate=config.rate,
                            min_speed=config.min_box_speed) for t in tracks]
    boxes = [dense_boxes(t) for t in tracks]
    needed: dict[int, list[int]] = {}
    for i, frames in enumerate(wanted):
        for f in frames.tolist():
            needed.setdefault(f, []).append(i)
    poses: list[dict[int, Pose]] = [{} for _ in tracks]
    # each track's last found body box (frame, x0 y0 x1 y1): the next crop follows the body
    follow: list[tuple[int, np.ndarray] | None] = [None] * len(tracks)
    # samples a track may still miss before its pose cannot count (steps_from_poses's
    # `min_found`): past that, its remaining crops are not estimated (its steps come from its
    # box's bob whatever they would show)
    spare = [len(frames) - config.min_found * len(frames) for frames in wanted]
    fps = float(info.fps)
    if needed:
        first, last = min(needed), max(needed)
        with VideoReader(path) as reader, opencv_threads(1):
            # only the needed frames become pictures
            pictures = reader.frames(start=first, stop=last + 1, max_side=config.max_side,
                                     only=needed.keys())
            # decoded in line: a read-ahead thread would take the core the model's second
            # thread uses (measured: 2.8 against 2.6 s for 400 crops of two walkers)
            for frame in pictures:
                users = [i for i in needed[frame.index] if spare[i] >= 0]
                _poses_on(frame, users, boxes, follow, poses, model, fps=fps, config=config)
                for i in users:
                    spare[i] -= poses[i][frame.index].score < config.min_score
                report(progress, (frame.index - first + 1) / (last - first + 1),
                       f"poses: frame {frame.index + 1}/{info.frames}")
    return [TrackPoses(frames, tuple(poses[i].get(int(f)) for f in frames))
            for i, frames in enumerate(wanted)]


def _poses_on(frame: VideoFrame, users: list[int],
              boxes: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
              follow: list[tuple[int, np.ndarray] | None], poses: list[dict[int, Pose]],
              model: PoseModel, *, fps: float, config: FootstepConfig) -> None:
    """The poses of the tracks `users` on one frame, each crop following its body."""
    for i in users:
        frames_i, boxes_i, _ = boxes[i]
        box = boxes_i[frame.index - int(frames_i[0])]
        held = follow[i]
        if held is not None and (frame.index - held[0]) / fps <= config.follow_s:
            box = pose_crop_box(box, held[1])
        pose = model.estimate(frame.image, box * frame.scale, margin=config.margin)
        pose = replace(pose, points=pose.points / frame.scale)
        poses[i][frame.index] = pose
        if pose.score >= config.min_score:
            follow[i] = (frame.index, pose.body_box())


def _path(track: Track, info: VideoInfo) -> tuple[np.ndarray, np.ndarray]:
    """The track's boxes on every frame from its first to its last (video.events.dense_boxes)
    and each one's time (s): the path its walks are found on."""
    frames, boxes, _ = dense_boxes(track)
    return np.array([info.time_of_frame(int(f)) for f in frames]), boxes


def while_walking(steps: Sequence[Event], times: np.ndarray, boxes: np.ndarray, fps: float, *,
                  config: CadenceConfig, slack_s: float = 0.5) -> tuple[Event, ...]:
    """The box-bob `steps` of a person whose dense `boxes` (at `times` s) fall in one of its
    walks (video.cadence.walks: the box moves at a walking speed for a second or more and gets
    somewhere) or within `slack_s` of one (a walk's first and last steps). A person who stands
    and sways, gestures or talks bobs too, at a rhythm the bob detector takes for steps, but
    takes none."""
    if not steps:
        return ()
    spans = [(times[a] - slack_s, times[b] + slack_s)
             for a, b in walks(times, boxes, fps, config=config)]
    return tuple(s for s in steps if any(lo <= s.time <= hi for lo, hi in spans))


def _with_steps(track: Track, steps: Sequence[Event], source: str,
                walk: tuple[np.ndarray, np.ndarray], fps: float,
                config: CadenceConfig) -> Track:
    """The track with `steps` (from `source`) as its steps, plus the steps its walk needs where
    they leave it silent (extra "steps_filled": how many; "steps_from" "cadence" when those are
    all it has); `walk`: its `_path`."""
    times, boxes = walk
    filled = fill_walking_gaps(steps, times, boxes, fps, config=config)
    kept = [e for e in track.events if e.kind != "step"]
    events = tuple(sorted([*kept, *steps, *filled], key=lambda e: e.time))
    extra = {**track.extra, "steps_from": source if steps or not filled else "cadence"}
    extra.pop("steps_filled", None)
    if filled:
        extra["steps_filled"] = len(filled)
    return track.with_changes(events=events, extra=extra)


def preload_pose_model(config: FootstepConfig = FootstepConfig()) -> threading.Thread | None:
    """Start checking and pruning the pose model's file on a background thread
    (`video.pose.prepare_pose_model`), so that the bulk of its loading overlaps the analysis
    pass instead of following it; join the thread before `apply_footsteps`. The interpreter
    itself is still created on the calling thread (its creation silences the process's stderr
    for a moment, which must not happen beside the thread that writes progress). None where
    the pose is off."""
    if not config.enabled:
        return None
    thread = threading.Thread(target=prepare_pose_model, args=(config.weights,),
                              name="pose-preload", daemon=True)
    thread.start()
    return thread


def apply_footsteps(path: str | os.PathLike[str], analysis: Analysis, *,
                    config: FootstepConfig = FootstepConfig(),
                    events: EventConfig | None = None,
                    progress: ProgressFn | None = None,
                    warn: Callable[[str], None] | None = None) -> Analysis:
    """`analysis` with the steps of its `person` objects from their pose (or, where the pose is
    not found, and for everyone when `config.enabled` is false, from their box's bob, with the
    thresholds of `events`), other objects and other event kinds unchanged. Each person records
    where its steps came from under the extra key "steps_from" ("pose" or "box"; "cadence" when
    only filled steps, video.cadence, walk it) and how many were filled ("steps_filled")."""
    people = [i for i, t in enumerate(analysis.objects) if t.label == PERSON and len(t)]
    if not people:
        return analysis
    info = analysis.video
    found: dict[int, tuple[Event, ...]] = {}
    try:
        model = load_pose_model(config.weights, threads=config.threads) if config.enabled \
            else None
    except PoseUnavailable as exc:
        (warn or warn_line)(f"footsteps from pose off: {exc}; steps come from the box's bob")
        model = None
    if model is not None:
        report(progress, 0.0, "poses")
        tracks = [analysis.objects[i] for i in people]
        for i, samples in zip(people, estimate_poses(path, tracks, info, model, config=config,
                                                     progress=progress), strict=True):
            steps = steps_from_poses(samples, info, config=config)
            if steps is not None:
                found[i] = steps
    objects = list(analysis.objects)
    fps = float(info.fps)
    for i in people:
        times, boxes = walk = _path(objects[i], info)
        bob = while_walking(detect_steps(objects[i], info, config=events or EventConfig()),
                            times, boxes, fps, config=config.cadence)
        pose_steps = found.get(i)
        # a pose that misses the legs' rhythm the box's bob shows steadily is not trusted
        if pose_steps is not None and len(bob) <= config.bob_ratio * len(pose_steps):
            objects[i] = _with_steps(objects[i], pose_steps, "pose", walk, fps, config.cadence)
        else:
            objects[i] = _with_steps(objects[i], bob, "box", walk, fps, config.cadence)
    report(progress, 1.0, "footsteps")
    return analysis.with_objects(objects)

