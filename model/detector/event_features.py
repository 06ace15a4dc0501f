"""Per-frame motion features of a tracked object, frame labels from events, and peak decoding.

This is the numpy side of the learned event detector (model/detector/event_net.py holds the network): a
track becomes a dense (features, frames) array over its whole frame span (gaps interpolated and
flagged), events become per-frame targets, and per-frame network outputs become Events again.
Units are chosen so that the same motion gives similar numbers at any frame size and frame rate:
positions in frame fractions, velocities in frame fractions per second, accelerations as the
change of that velocity per frame.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from video.base.tracks import Event, Track, VideoInfo
from video.events import dense_boxes

FEATURE_NAMES = (
    "x", "y", "vx", "vy", "ax", "ay", "speed", "jerk",
    "log_size", "dlog_w", "dlog_h", "edge_left", "edge_right", "edge_top", "edge_bottom",
    "observed",
)
N_FEATURES = len(FEATURE_NAMES)
KINDS = ("impact", "step", "scrape")  # the kind head's classes; other kinds train as "impact"
FEATURE_CLIP = 20.0
MIN_GAP_S = 2.0 / 30.0  # two frames at 30 fps: closer onset peaks of one object are one event


@dataclass(frozen=True)
class TrackFeatures:
    """Dense features of one track: values (N_FEATURES, T) float32 for frames first..last."""

    frames: np.ndarray
    values: np.ndarray


def observed_boxes(track: Track) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """video.events.dense_boxes's frames and boxes (every frame of the track's span, gaps
    interpolated) with the network's "observed" flag: 1.0 on every frame the track has a box for,
    coasted ones included (unlike dense_boxes's "measured"), as the detector was trained."""
    if not len(track):
        return np.zeros(0, dtype=np.int64), np.zeros((0, 4)), np.zeros(0)
    frames, boxes, _ = dense_boxes(track)
    observed = np.isin(frames, track.frames).astype(np.float64)
    return frames, boxes, observed


def _backward_diff(x: np.ndarray) -> np.ndarray:
    d = np.diff(x, prepend=x[:1])
    if d.size > 1:
        d[0] = d[1]
    return d


def _second_diff(x: np.ndarray) -> np.ndarray:
    """Centred second difference x[t+1] - 2x[t] + x[t-1] (0 at the ends): it peaks on the very
    frame where a velocity changes, which is where an impact is."""
    out = np.zeros_like(x)
    if x.size >= 3:
        out[1:-1] = x[2:] - 2.0 * x[1:-1] + x[:-2]
    return out


def track_features(track: Track, info: VideoInfo) -> TrackFeatures:
    """Motion features (see FEATURE_NAMES) of a track, one column per frame of its span."""
    frames, boxes, observed = observed_boxes(track)
    return TrackFeatures(frames=frames, values=box_features(boxes, observed, info))


def box_features(boxes: np.ndarray, observed: np.ndarray, info: VideoInfo) -> np.ndarray:
    """The (N_FEATURES, T) float32 features of dense boxes (T, 4), one per frame, with the
    1/0 flag of the frames the tracker actually saw."""
    if len(boxes) == 0:
        return np.zeros((N_FEATURES, 0), dtype=np.float32)
    fps = float(info.fps)
    w_frame, h_frame = float(info.width), float(info.height)
    x = (boxes[:, 0] + boxes[:, 2]) / (2.0 * w_frame)
    y = (boxes[:, 1] + boxes[:, 3]) / (2.0 * h_frame)
    bw = np.maximum(boxes[:, 2] - boxes[:, 0], 1.0)
    bh = np.maximum(boxes[:, 3] - boxes[:, 1], 1.0)
    vx, vy = _backward_diff(x) * fps, _backward_diff(y) * fps
    ax, ay = _second_diff(x) * fps, _second_diff(y) * fps
    accel = np.hypot(ax, ay)
    values = np.stack([
        x - 0.5, y - 0.5, vx, vy, ax, ay, np.hypot(vx, vy), _backward_diff(accel),
        0.5 * np.log(bw * bh / (w_frame * h_frame)),
        _second_diff(np.log(bw)) * 10.0, _second_diff(np.log(bh)) * 10.0,
        boxes[:, 0] / w_frame, 1.0 - boxes[:, 2] / w_frame,
        boxes[:, 1] / h_frame, 1.0 - boxes[:, 3] / h_frame,
        observed,
    ])
    values = np.clip(np.nan_to_num(values), -FEATURE_CLIP, FEATURE_CLIP)
    return values.astype(np.float32)


@dataclass(frozen=True)
class FrameTargets:
    """Per-frame training targets over a track's dense frames.

    onset: 1 on the frame nearest each event; mask: 0 on the frames right next to an event (the
    +-1 frame tolerance: a prediction there is neither rewarded nor punished), 1 elsewhere;
    strength: the event's strength on its frame; kind: index into KINDS of the event's kind;
    offset: where in time the event falls relative to its frame, in frames (-0.5..0.5), so the
    network can place events below a frame.
    """

    onset: np.ndarray
    mask: np.ndarray
    strength: np.ndarray
    kind: np.ndarray
    offset: np.ndarray


def frame_targets(events: Sequence[Event], frames: np.ndarray, info: VideoInfo, *,
                  tolerance_frames: int = 1) -> FrameTargets:
    """Targets for `frames` (dense, ascending) from events given in seconds."""
    n = int(frames.size)
    onset, strength, offset = np.zeros(n), np.zeros(n), np.zeros(n)
    kind = np.zeros(n, dtype=np.int64)
    mask = np.ones(n)
    if n == 0:
        return FrameTargets(onset, mask, strength, kind, offset)
    times = np.array([info.time_of_frame(int(f)) for f in frames])
    one_frame = 1.0 / float(info.fps)
    for event in events:
        if event.time < times[0] - 0.5 * one_frame or event.time > times[-1] + 0.5 * one_frame:
            continue
        i = int(np.argmin(np.abs(times - event.time)))
        onset[i] = 1.0
        strength[i] = max(strength[i], event.strength)
        kind[i] = KINDS.index(event.kind) if event.kind in KINDS else 0
        offset[i] = float(np.clip((event.time - times[i]) * float(info.fps), -0.5, 0.5))
    for k in np.flatnonzero(onset):
        lo, hi = max(0, int(k) - tolerance_frames), min(n, int(k) + tolerance_frames + 1)
        mask[lo:hi] = 0.0
    mask[onset > 0] = 1.0
    return FrameTargets(onset, mask, strength, kind, offset)


def peak_frames(prob: np.ndarray, *, threshold: float, min_gap_frames: int = 2) -> np.ndarray:
    """Indices of local maxima of `prob` above `threshold`, at least `min_gap_frames` apart
    (the higher peak wins; ties keep the earlier frame)."""
    p = np.asarray(prob, dtype=np.float64)
    candidates = np.flatnonzero(p > threshold)
    order = candidates[np.argsort(-p[candidates], kind="stable")]
    taken: list[int] = []
    for i in order:
        if all(abs(int(i) - j) > min_gap_frames for j in taken):
            taken.append(int(i))
    return np.array(sorted(taken), dtype=np.int64)


@dataclass(frozen=True)
class FramePrediction:
    """Network output for one track: onset probability, strength 0..1 and sub-frame offset
    (frames, -0.5..0.5), each (T,), and kind probabilities (len(KINDS), T)."""

    onset: np.ndarray
    strength: np.ndarray
    offset: np.ndarray
    kinds: np.ndarray


def min_gap_frames_for(fps: float) -> int:
    """Frames two onset peaks of one object must be apart: 2 at ordinary frame rates (24-30 fps),
    the same MIN_GAP_S in time at higher ones, so a 180 fps clip's contact is one event, not a
    burst of peaks frames apart."""
    return max(2, math.ceil(MIN_GAP_S * float(fps) - 1e-9))


def decode_events(pred: FramePrediction, frames: np.ndarray, info: VideoInfo, *,
                  threshold: float, min_gap_frames: int | None = None) -> tuple[Event, ...]:
    """Per-frame outputs -> Events: one per onset peak, at the peak frame's presentation time
    moved by the predicted sub-frame offset, with the most likely kind (peaks closer than
    `min_gap_frames`, default min_gap_frames_for(fps), keep the higher)."""
    out = []
    one_frame = 1.0 / float(info.fps)
    if min_gap_frames is None:
        min_gap_frames = min_gap_frames_for(float(info.fps))
    for i in peak_frames(pred.onset, threshold=threshold, min_gap_frames=min_gap_frames):
        kind = KINDS[int(np.argmax(pred.kinds[:, i]))]
        shift = float(np.clip(pred.offset[i], -0.5, 0.5)) * one_frame
        out.append(Event(time=max(0.0, info.time_of_frame(int(frames[i])) + shift),
                         strength=float(np.clip(pred.strength[i], 0.0, 1.0)), kind=kind))
    return tuple(out)
