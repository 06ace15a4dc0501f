"""What the timeline draws, precomputed as arrays: waveform min/max envelopes and pan curves.

Waveforms are reduced once per render to a fixed number of min/max buckets (`minmax_envelope`)
and cheaply re-reduced to the lane's pixel width (`reduce_envelope`), so drawing a 10-minute mix
costs the same as drawing a 10-second one. Pan curves follow the contract's pan mapping
(p = 2x - 1 from the box centre) with the designer's offset and keyframes on top.
"""

from __future__ import annotations

import numpy as np

from audio.nudges import Nudges
from video.tracks import Event, Track, VideoInfo

ENVELOPE_BUCKETS = 4096


def minmax_envelope(audio: np.ndarray, *, buckets: int = ENVELOPE_BUCKETS) -> np.ndarray:
    """(2, buckets) per-bucket minimum and maximum of a (channels, samples) or (samples,) signal.

    Channels are averaged first (what a mono fold-down of the stem would show). Buckets past the
    end of a short signal are zero.
    """
    if buckets <= 0:
        raise ValueError(f"buckets must be positive, got {buckets}")
    data = np.asarray(audio, dtype=np.float32)
    mono = data.mean(axis=0) if data.ndim == 2 else data.reshape(-1)
    out = np.zeros((2, buckets), dtype=np.float32)
    n = mono.shape[0]
    if n == 0:
        return out
    edges = np.linspace(0, n, buckets + 1).astype(np.int64)
    nonempty = edges[1:] > edges[:-1]
    starts = edges[:-1][nonempty]
    out[0, nonempty] = np.minimum.reduceat(mono, starts)
    out[1, nonempty] = np.maximum.reduceat(mono, starts)
    return out


def reduce_envelope(envelope: np.ndarray, columns: int) -> np.ndarray:
    """Re-bucket a (2, n) envelope to (2, columns) keeping extremes (for the lane's pixel width)."""
    if columns <= 0:
        raise ValueError(f"columns must be positive, got {columns}")
    n = envelope.shape[1]
    if n == 0:
        return np.zeros((2, columns), dtype=np.float32)
    if columns >= n:
        idx = np.minimum((np.arange(columns) * n) // columns, n - 1)
        return envelope[:, idx]
    edges = np.linspace(0, n, columns + 1).astype(np.int64)
    return np.stack([np.minimum.reduceat(envelope[0], edges[:-1]),
                     np.maximum.reduceat(envelope[1], edges[:-1])])


def tracked_pan(track: Track, video: VideoInfo) -> tuple[np.ndarray, np.ndarray]:
    """(times, pans) of the object's box centre as the contract maps it: p = 2x - 1, x in 0..1."""
    if not len(track):
        return np.zeros(0), np.zeros(0)
    times = np.array([video.time_of_frame(int(f)) for f in track.frames])
    pans = 2.0 * track.centers[:, 0] / float(video.width) - 1.0
    return times, np.clip(pans, -1.0, 1.0)


def pan_curve(track: Track, video: VideoInfo, nudges: Nudges) -> tuple[np.ndarray, np.ndarray]:
    """(times, pans) the object is placed at after the designer's nudges.

    The tracked pan plus `pan_offset` (clipped), replaced between the first and last keyframe by
    the keyframes' straight-line curve, as `audio.nudges.Nudges` documents.
    """
    times, pans = tracked_pan(track, video)
    pans = np.clip(pans + nudges.pan_offset, -1.0, 1.0)
    keys = nudges.pan_keyframes
    if not keys:
        return times, pans
    kt = np.array([k.time for k in keys])
    kp = np.array([k.pan for k in keys])
    merged_t = np.union1d(times, kt)
    base = np.interp(merged_t, times, pans) if times.size else np.zeros_like(merged_t)
    inside = (merged_t >= kt[0]) & (merged_t <= kt[-1])
    base[inside] = np.interp(merged_t[inside], kt, kp)
    return merged_t, base


def pan_at(track: Track, video: VideoInfo, nudges: Nudges, time_s: float) -> float:
    """The nudged pan at one time (the value a keyframe added at the playhead starts from)."""
    times, pans = pan_curve(track, video, nudges)
    if not times.size:
        return float(np.clip(nudges.pan_offset, -1.0, 1.0))
    return float(np.interp(time_s, times, pans))


def flashing_events(track: Track, time_s: float, *, hold: float = 0.25) -> list[tuple[Event, float]]:
    """Events that fired within `hold` seconds before `time_s`, with their fade (1 new .. 0 old)."""
    out = []
    for event in track.events:
        age = time_s - event.time
        if 0.0 <= age < hold:
            out.append((event, 1.0 - age / hold))
    return out
