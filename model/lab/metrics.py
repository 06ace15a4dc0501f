"""Objective metrics for object-aware stereo foley: spatial alignment, sync, loudness, detection.

All functions are pure (arrays in, numbers out) and use numpy/scipy only; pyloudnorm is imported
inside `loudness_metrics`. Audio is float32 (channels, samples) at 48 kHz.

- Spatial: a level-based pan estimate per short window, p = 4/pi * atan2(R_rms, L_rms) - 1 (exactly
  the inverse of the constant-power law for a panned mono source), compared with where the object
  is on screen (box centre x mapped to pan 2x - 1), only in windows where the object sounds.
- Sync: audio onsets (spectral flux of the log-magnitude spectrum, peak-picked against a local
  median) matched one-to-one to visual event times within one video frame.
- Loudness: integrated loudness (ITU-R BS.1770 via pyloudnorm) and 4x-oversampled true peak.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import maximum_filter1d, median_filter
from scipy.signal import resample_poly

from video.base.timebase import SAMPLE_RATE
from video.base.tracks import Track, VideoInfo
from video.events import match_events

# ------------------------------------------------------------------ pan estimate and track pan


def window_levels(audio: np.ndarray, *, window_s: float = 0.05,
                  sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """RMS per channel per non-overlapping window: (channels, windows); a short tail is dropped."""
    x = np.atleast_2d(np.asarray(audio, dtype=np.float64))
    win = max(1, int(round(window_s * sample_rate)))
    n = x.shape[1] // win
    if n == 0:
        return np.zeros((x.shape[0], 0))
    blocks = x[:, : n * win].reshape(x.shape[0], n, win)
    return np.sqrt(np.mean(blocks * blocks, axis=2))


def level_pan(stereo: np.ndarray, *, window_s: float = 0.05,
              sample_rate: int = SAMPLE_RATE) -> tuple[np.ndarray, np.ndarray]:
    """Per-window pan estimate in -1..1 and per-window level (RMS of both channels).

    The estimate inverts the constant-power law: a mono source panned to p gives L = cos, R = sin
    of (p + 1) pi/4, so 4/pi atan2(R, L) - 1 returns p. Silent windows give pan 0 and level 0.
    """
    levels = window_levels(_as_stereo(stereo), window_s=window_s, sample_rate=sample_rate)
    left, right = levels[0], levels[1]
    pan = 4.0 / math.pi * np.arctan2(right, left) - 1.0
    level = np.sqrt((left * left + right * right) / 2.0)
    return pan, level


def track_pan(track: Track, info: VideoInfo, times: np.ndarray) -> np.ndarray:
    """The pan implied by the track's box centre x at each time (NaN where the track is absent).

    x is normalized across the frame width and mapped to pan 2x - 1 (DESIGN.md); gaps between
    tracked frames are interpolated linearly like `Track.box_at`.
    """
    times = np.asarray(times, dtype=np.float64)
    out = np.full(times.shape, np.nan)
    if not len(track):
        return out
    frame_times = np.array([info.time_of_frame(int(f)) for f in track.frames])
    cx = track.centers[:, 0] / info.width
    pan = np.clip(2.0 * cx - 1.0, -1.0, 1.0)
    one_frame = 1.0 / float(info.fps)
    inside = (times >= frame_times[0]) & (times <= frame_times[-1] + one_frame)
    out[inside] = np.interp(times[inside], frame_times, pan)
    return out


# ------------------------------------------------------------------ spatial scores


@dataclass(frozen=True)
class SpatialScore:
    """How well a stereo image follows on-screen position, over the windows where it was judged.

    correlation is NaN when either series is constant (e.g. a mono render: its pan never moves).
    """

    correlation: float
    mae: float
    windows: int


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation; NaN for fewer than 3 points or a (near) constant series."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.size < 3:
        return math.nan
    da, db = a - a.mean(), b - b.mean()
    sa, sb = math.sqrt(float(np.dot(da, da))), math.sqrt(float(np.dot(db, db)))
    if sa < 1e-9 * a.size or sb < 1e-9 * b.size:
        return math.nan
    return float(np.clip(np.dot(da, db) / (sa * sb), -1.0, 1.0))


def _score(estimate: np.ndarray, target: np.ndarray) -> SpatialScore:
    if estimate.size == 0:
        return SpatialScore(correlation=math.nan, mae=math.nan, windows=0)
    return SpatialScore(correlation=pearson(estimate, target),
                        mae=float(np.mean(np.abs(estimate - target))), windows=int(estimate.size))


def _window_centres(n: int, window_s: float, sample_rate: int) -> np.ndarray:
    win = max(1, int(round(window_s * sample_rate)))
    return (np.arange(n) * win + win / 2.0) / sample_rate


def _active(level: np.ndarray, active_db: float) -> np.ndarray:
    if level.size == 0 or float(level.max()) <= 0.0:
        return np.zeros(level.shape, dtype=bool)
    return level > float(level.max()) * 10.0 ** (active_db / 20.0)


def spatial_alignment(stem: np.ndarray, track: Track, info: VideoInfo, *, window_s: float = 0.05,
                      active_db: float = -30.0, sample_rate: int = SAMPLE_RATE) -> SpatialScore:
    """Pan of one object's stem against its tracked x, in windows where the stem is active.

    A window is active when its level is within `active_db` of the stem's loudest window and the
    object is on screen then.
    """
    pan, level = level_pan(stem, window_s=window_s, sample_rate=sample_rate)
    target = track_pan(track, info, _window_centres(pan.size, window_s, sample_rate))
    use = _active(level, active_db) & np.isfinite(target)
    return _score(pan[use], target[use])


def mix_spatial_alignment(mix: np.ndarray, stems: Sequence[np.ndarray], tracks: Sequence[Track],
                          info: VideoInfo, *, window_s: float = 0.05, active_db: float = -30.0,
                          sample_rate: int = SAMPLE_RATE) -> SpatialScore:
    """How well the mix's image follows the objects: per window, the mix pan estimate against the
    loudness-weighted (power-weighted) mean pan of the objects active in that window.

    Windows where no object is active (relative to the loudest stem window of all) are skipped.
    """
    if len(stems) != len(tracks):
        raise ValueError("one stem per track is needed")
    pan, _ = level_pan(mix, window_s=window_s, sample_rate=sample_rate)
    centres = _window_centres(pan.size, window_s, sample_rate)
    if not stems:
        return _score(pan[:0], pan[:0])
    levels = np.stack([level_pan(s, window_s=window_s, sample_rate=sample_rate)[1][: pan.size]
                       for s in stems])
    positions = np.stack([track_pan(t, info, centres) for t in tracks])
    peak = float(levels.max()) if levels.size else 0.0
    floor = peak * 10.0 ** (active_db / 20.0)
    weights = np.where((levels > floor) & np.isfinite(positions), levels * levels, 0.0)
    total = weights.sum(axis=0)
    use = total > 0
    target = np.zeros_like(pan)
    target[use] = (weights[:, use] * np.nan_to_num(positions[:, use])).sum(axis=0) / total[use]
    return _score(pan[use], target[use])


# ------------------------------------------------------------------ onsets and event matching


@dataclass(frozen=True)
class OnsetConfig:
    """Spectral-flux onset detector settings.

    n_fft / hop in samples (hop 120 = 2.5 ms, so timing is not limited by the hop); a flux peak
    counts when it is the maximum within +-`min_gap_s`, exceeds the local median (+-`median_s`)
    by `delta` times the flux's global max, exceeds `floor` times that max, and the level jumps:
    the RMS of the `rise_window_s` after it is at least `min_rise_db` above the RMS of the
    `rise_window_s` before it. The level test is what keeps the slow swells of a continuous
    texture (engine, rolling, whoosh) from counting as onsets; `min_gap_s` (0.1 s) keeps the
    second transient of one sound (heel then toe of a footstep) from counting twice.
    """

    n_fft: int = 512
    hop: int = 120
    min_gap_s: float = 0.1
    median_s: float = 0.25
    delta: float = 0.08
    floor: float = 0.1
    silence_db: float = -60.0
    min_rise_db: float = 6.0
    rise_window_s: float = 0.03


def onset_strength(audio: np.ndarray, *, config: OnsetConfig = OnsetConfig(),
                   sample_rate: int = SAMPLE_RATE) -> tuple[np.ndarray, np.ndarray]:
    """Spectral flux (positive log-magnitude increase summed over bins) and its times (seconds).

    Each value is stamped at the centre of the later of the two compared frames.
    """
    x = np.atleast_2d(np.asarray(audio, dtype=np.float64)).mean(axis=0)
    n_fft, hop = config.n_fft, config.hop
    if x.size < n_fft + hop:
        return np.zeros(0), np.zeros(0)
    n = 1 + (x.size - n_fft) // hop
    idx = np.arange(n_fft)[None, :] + hop * np.arange(n)[:, None]
    frames = x[idx] * np.hanning(n_fft)[None, :]
    mag = np.abs(np.fft.rfft(frames, axis=1))
    peak = float(mag.max())
    if peak <= 0.0:
        return np.zeros(n - 1), (np.arange(1, n) * hop + n_fft / 2) / sample_rate
    ref = peak * 10.0 ** (config.silence_db / 20.0)
    logmag = np.log(np.maximum(mag, ref) / ref)
    flux = np.maximum(np.diff(logmag, axis=0), 0.0).sum(axis=1)
    times = (np.arange(1, n) * hop + n_fft / 2) / sample_rate
    return flux, times


def detect_onsets(audio: np.ndarray, *, config: OnsetConfig = OnsetConfig(),
                  sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Onset times (seconds, ascending) of an audio signal, by peak-picking its spectral flux."""
    flux, times = onset_strength(audio, config=config, sample_rate=sample_rate)
    if flux.size == 0 or float(flux.max()) <= 0.0:
        return np.zeros(0)
    step = config.hop / sample_rate
    gap = max(1, int(round(config.min_gap_s / step)))
    med = max(1, int(round(config.median_s / step)))
    top = float(flux.max())
    local_max = flux >= maximum_filter1d(flux, size=2 * gap + 1, mode="constant")
    above = flux > median_filter(flux, size=2 * med + 1, mode="nearest") + config.delta * top
    picked = np.flatnonzero(local_max & above & (flux > config.floor * top))
    # equal neighbouring maxima (flat tops) would count twice: keep the first of each run
    keep = np.concatenate([[True], np.diff(picked) > gap]) if picked.size else picked.astype(bool)
    candidates = times[picked[keep]]
    x = np.atleast_2d(np.asarray(audio, dtype=np.float64)).mean(axis=0)
    rises = np.array([level_rise_db(x, t, window_s=config.rise_window_s,
                                    sample_rate=sample_rate) for t in candidates])
    return candidates[rises >= config.min_rise_db] if candidates.size else candidates


def level_rise_db(x: np.ndarray, time_s: float, *, window_s: float,
                  sample_rate: int = SAMPLE_RATE) -> float:
    """RMS of `window_s` after `time_s` over RMS of `window_s` before it, in dB (5 ms guard
    either side of the onset estimate; +inf when the before part is silent)."""
    centre = int(round(time_s * sample_rate))
    guard, win = int(0.005 * sample_rate), max(1, int(window_s * sample_rate))
    before = x[max(0, centre - guard - win): max(0, centre - guard)]
    after = x[max(0, centre - guard): centre + win]
    e_before = float(np.mean(before * before)) if before.size else 0.0
    e_after = float(np.mean(after * after)) if after.size else 0.0
    if e_after <= 0.0:
        return -math.inf
    return math.inf if e_before <= 0.0 else 10.0 * math.log10(e_after / e_before)


@dataclass(frozen=True)
class EventScore:
    """Detection quality against reference events: counts, P/R/F1 and timing of the matched ones.

    median_abs_ms / mean_abs_ms are NaN when nothing matched. Precision (recall) of an empty
    detection (reference) set is defined as 1.0 so that "nothing to find, nothing found" is perfect.
    """

    true_positives: int
    false_positives: int
    false_negatives: int
    median_abs_ms: float
    mean_abs_ms: float

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r > 0 else 0.0


def score_events(reference: np.ndarray, detected: np.ndarray, *,
                 tolerance_s: float) -> tuple[EventScore, np.ndarray]:
    """Score detected event times against reference times; also returns the matched errors (s)."""
    ref = np.asarray(reference, dtype=np.float64).reshape(-1)
    det = np.asarray(detected, dtype=np.float64).reshape(-1)
    pairs = match_events(ref, det, tolerance_s=tolerance_s)
    errors = np.array([det[j] - ref[i] for i, j in pairs], dtype=np.float64)
    return event_score(len(pairs), det.size - len(pairs), ref.size - len(pairs), errors), errors


def event_score(tp: int, fp: int, fn: int, errors: np.ndarray) -> EventScore:
    """An EventScore from counts and the matched timing errors (s)."""
    abs_ms = np.abs(errors) * 1000.0
    return EventScore(true_positives=tp, false_positives=fp, false_negatives=fn,
                      median_abs_ms=float(np.median(abs_ms)) if abs_ms.size else math.nan,
                      mean_abs_ms=float(np.mean(abs_ms)) if abs_ms.size else math.nan)


def pool_scores(parts: Sequence[tuple[EventScore, np.ndarray]]) -> EventScore:
    """Combine per-object/per-clip scores: counts add up, timing over all matched errors."""
    errors = np.concatenate([e for _, e in parts]) if parts else np.zeros(0)
    return event_score(sum(s.true_positives for s, _ in parts),
                        sum(s.false_positives for s, _ in parts),
                        sum(s.false_negatives for s, _ in parts), errors)


def sync_score(audio: np.ndarray, event_times: Sequence[float] | np.ndarray, fps: float, *,
               config: OnsetConfig = OnsetConfig(),
               sample_rate: int = SAMPLE_RATE) -> tuple[EventScore, np.ndarray]:
    """Audio onsets of `audio` against visual event times, matched within one video frame."""
    onsets = detect_onsets(audio, config=config, sample_rate=sample_rate)
    return score_events(np.asarray(event_times, dtype=np.float64), onsets,
                        tolerance_s=1.0 / float(fps))


# ------------------------------------------------------------------ loudness


@dataclass(frozen=True)
class LoudnessScore:
    """Integrated loudness (LUFS; -inf for silence or audio shorter than one 400 ms block) and
    true peak (dBTP, 4x oversampled)."""

    lufs: float
    true_peak_db: float


def true_peak_db(audio: np.ndarray, *, oversample: int = 4) -> float:
    """Highest absolute sample of the `oversample`x upsampled signal, in dB (BS.1770 annex 2)."""
    x = np.atleast_2d(np.asarray(audio, dtype=np.float64))
    if x.size == 0:
        return -math.inf
    up = resample_poly(x, oversample, 1, axis=1)
    peak = max(float(np.max(np.abs(up))), float(np.max(np.abs(x))))
    return 20.0 * math.log10(peak) if peak > 0 else -math.inf


def loudness_metrics(audio: np.ndarray, *, sample_rate: int = SAMPLE_RATE) -> LoudnessScore:
    """Integrated loudness and true peak of (channels, samples) audio."""
    import pyloudnorm

    x = np.atleast_2d(np.asarray(audio, dtype=np.float64))
    if x.shape[1] < int(0.4 * sample_rate) or not np.any(x):
        lufs = -math.inf
    else:
        lufs = float(pyloudnorm.Meter(sample_rate).integrated_loudness(x.T))
    return LoudnessScore(lufs=lufs, true_peak_db=true_peak_db(x))


def _as_stereo(audio: np.ndarray) -> np.ndarray:
    x = np.atleast_2d(np.asarray(audio))
    if x.shape[0] == 1:
        return np.concatenate([x, x])
    if x.shape[0] != 2:
        raise ValueError(f"expected stereo (2, samples) audio, got shape {x.shape}")
    return x
