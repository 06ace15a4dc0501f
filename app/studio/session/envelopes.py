"""What the timeline draws, precomputed as arrays: waveform min/max envelopes and pan curves.

Waveforms are reduced once per render to a fixed number of min/max buckets (`minmax_envelope`)
and cheaply re-reduced to the lane's pixel width (`reduce_envelope`), so drawing a 10-minute mix
costs the same as drawing a 10-second one. Pan curves come from the spatializer's control curve,
so a lane shows the placement that is actually heard.
"""

from __future__ import annotations

import numpy as np

from audio.nudges import Nudges
from video.base.timebase import duration_to_samples
from video.base.tracks import Event, Track, VideoInfo

ENVELOPE_BUCKETS = 4096
PAN_CURVE_RATE = 100  # pan points per second drawn in a lane (must divide 48000)


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


def pan_curve(track: Track, video: VideoInfo, nudges: Nudges, *,
              rate: int = PAN_CURVE_RATE) -> tuple[np.ndarray, np.ndarray]:
    """(times, pans) where the object is placed, nudges included, `rate` points a second.

    Computed by the spatializer's own control curve (`audio.spatialize.pan_control`: box-centre
    pan, offset, keyframes, smoothing), so the lane shows exactly the pan that is heard.
    """
    from audio.spatialize import pan_control  # scipy: imported after the window is up

    n_samples = duration_to_samples(video.duration)
    pans = pan_control(track, video, n_samples=n_samples, nudges=nudges, control_rate=rate)
    times = np.arange(pans.shape[0], dtype=np.float64) / rate
    return times, pans


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


def waveform_image(envelope: np.ndarray, *, width: int, height: int,
                   colour: tuple[int, int, int, int], peak: float | None = None) -> np.ndarray:
    """Rasterize a (2, n) min/max envelope into an RGBA float image (height, width, 4).

    Drawn once per render as a texture instead of thousands of draw items each UI frame (what
    keeps the timeline cheap on a software-rendered display). Amplitudes are scaled so `peak`
    (default: the envelope's own peak, at least 0.05) reaches the top and bottom edges; each
    column is filled between its minimum and maximum, at least one pixel, around the centre line.
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    env = reduce_envelope(envelope, width)
    top_val = max(float(np.max(np.abs(env))) if env.size else 0.0, 0.05) if peak is None else peak
    half = (height - 1) / 2.0
    scale = half / max(top_val, 1e-9)
    top = np.clip(np.floor(half - np.maximum(env[1], 0.0) * scale), 0, height - 1)
    bottom = np.clip(np.ceil(half - np.minimum(env[0], 0.0) * scale), 0, height - 1)
    rows = np.arange(height, dtype=np.float64)[:, np.newaxis]
    mask = (rows >= top[np.newaxis, :]) & (rows <= bottom[np.newaxis, :])
    image = np.zeros((height, width, 4), dtype=np.float32)
    image[mask] = np.asarray(colour, dtype=np.float32) / 255.0
    return image


def peak_dbfs(block: np.ndarray, *, floor_db: float = -60.0) -> tuple[float, float]:
    """Peak level (dBFS, at least `floor_db`) of each channel of a (2, n) block: the meters."""
    if block.ndim != 2 or block.shape[0] != 2:
        raise ValueError(f"expected a (2, n) block, got {block.shape}")
    if block.shape[1] == 0:
        return floor_db, floor_db
    peaks = np.max(np.abs(block), axis=1)
    with np.errstate(divide="ignore"):
        levels = 20.0 * np.log10(peaks)
    return tuple(float(max(v, floor_db)) for v in levels)  # type: ignore[return-value]


def meter_fall(shown: float, new: float, *, dt: float, fall_db_per_s: float = 24.0,
               floor_db: float = -60.0) -> float:
    """A meter's displayed level: jumps up to a new peak, falls back at a fixed rate (dB/s)."""
    return max(new, shown - fall_db_per_s * max(dt, 0.0), floor_db)
