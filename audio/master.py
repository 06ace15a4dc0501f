"""Master stage: EBU R128 loudness normalization and a true-peak limiter that keeps stems summing
to the mix.

One loudness gain is applied to every stem alike (so the stems keep their balance), then a
look-ahead true-peak limiter computes ONE gain envelope from the mix's oversampled peaks and
applies it to the mix and to every stem. The envelope is exactly 1.0 wherever the mix is under
the ceiling, so outside the regions the report lists the stems are the plain loudness-scaled
stems; inside them every stem dips by the same amount. The delivery-spec trade-off: a stem
played alone is ducked in a limited region even though it alone would not clip, but the stems
still sum to the delivered mix everywhere, which is what a re-mix or a conform needs. The report
says how often and how deeply this happened, so it can be recorded in project.json.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pyloudnorm
from scipy import ndimage, signal

from audio.mix import fit_length
from video.progress import ProgressFn, report
from video.timebase import SAMPLE_RATE

SILENCE_LUFS = -70.0  # BS.1770 absolute gate: anything quieter has no measurable loudness
_OVERSHOOT = 10.0 ** (9.0 / 20.0)  # assumed bound on inter-sample over sample peaks
_SCREEN_ERROR = 10.0 ** (2.0 / 20.0)  # how low the cheap 4x screen may read a true peak
_BLOCK = 2048  # samples per block when deciding where to oversample


@dataclass(frozen=True)
class MasterConfig:
    """Loudness target and true-peak ceiling, plus the limiter's ballistics.

    attack_ms: look-ahead ramp time per 6 dB of gain reduction (the gain is already down when
        the peak arrives). release_ms: recovery time per 6 dB after the hold. hold_ms: the gain
        stays down this long after a peak, so low-frequency waveforms are not distorted by a
        gain that follows each cycle. max_gain_db: most the loudness stage may boost.
    """

    target_lufs: float = -23.0
    true_peak_db: float = -1.0
    oversample: int = 8
    attack_ms: float = 1.5
    release_ms: float = 60.0
    hold_ms: float = 10.0
    max_gain_db: float = 40.0
    tolerance_lu: float = 0.1
    max_passes: int = 6

    def __post_init__(self) -> None:
        if not -70.0 <= self.target_lufs <= 0.0:
            raise ValueError(f"target loudness must be in -70..0 LUFS, got {self.target_lufs}")
        if not -20.0 <= self.true_peak_db <= 0.0:
            raise ValueError(f"true-peak ceiling must be in -20..0 dBTP, got {self.true_peak_db}")
        if self.oversample < 1:
            raise ValueError(f"oversample must be >= 1, got {self.oversample}")
        if min(self.attack_ms, self.release_ms) <= 0 or self.hold_ms < 0:
            raise ValueError("attack_ms and release_ms must be > 0, hold_ms >= 0")
        if self.max_passes < 1 or self.tolerance_lu <= 0:
            raise ValueError("max_passes must be >= 1 and tolerance_lu > 0")


@dataclass(frozen=True)
class MasterResult:
    """Mastered stems (same ids), the mix they sum to, and what the master stage did."""

    stems: dict[int, np.ndarray]
    mix: np.ndarray
    report: dict[str, Any] = field(default_factory=dict)


def _as_channels(audio: np.ndarray, dtype: type = np.float64) -> np.ndarray:
    data: np.ndarray = np.asarray(audio, dtype=dtype)
    if data.ndim == 1:
        data = data[None, :]
    if data.ndim != 2 or data.shape[0] not in (1, 2):
        raise ValueError(f"expected (channels, samples) audio with 1 or 2 channels, "
                         f"got shape {data.shape}")
    return data


def measure_loudness(audio: np.ndarray, *, sample_rate: int = SAMPLE_RATE) -> float:
    """EBU R128 / BS.1770 integrated loudness in LUFS of (channels, n) audio.

    -inf for silence (everything under the -70 LUFS gate) or an empty signal. Clips shorter
    than the 400 ms gating block are measured as one block of their own length.
    """
    data = _as_channels(audio)
    n = data.shape[1]
    if not np.isfinite(data.sum()):
        raise ValueError("audio contains NaN or inf; its loudness is undefined")
    if n == 0 or not np.any(data):
        return -math.inf
    meter = pyloudnorm.Meter(sample_rate, block_size=min(0.4, n / sample_rate))
    value = float(meter.integrated_loudness(np.ascontiguousarray(data.T)))
    return value if math.isfinite(value) and value > SILENCE_LUFS else -math.inf


@lru_cache(maxsize=8)
def _interpolator(oversample: int, taps_per_phase: int = 32) -> np.ndarray:
    """Low-pass FIR for `oversample`x interpolation, Kaiser beta 8, cut at the original Nyquist.

    With 32 taps per phase it is much flatter near Nyquist than resample_poly's default (which
    reads broadband transients ~0.5 dB low), so true peaks of bright material are not missed.
    """
    taps = signal.firwin(2 * taps_per_phase * oversample + 1, 1.0 / oversample,
                         window=("kaiser", 8.0))
    taps = taps.astype(np.float32)
    taps.setflags(write=False)
    return taps


def _interval_peaks(audio: np.ndarray, oversample: int, taps_per_phase: int = 32
                    ) -> np.ndarray:
    """Per sample n, the largest oversampled magnitude over (n-1, n+1) across channels."""
    data = _as_channels(audio, np.float32)
    n = data.shape[1]
    if n == 0:
        return np.zeros(0)
    if oversample > 1:
        up = signal.resample_poly(data, oversample, 1, axis=-1,
                                  window=_interpolator(oversample, taps_per_phase))
    else:
        up = data.copy()
    np.abs(up, out=up)
    per_interval = np.max(up, axis=0).reshape(n, oversample).max(axis=1)
    before = np.concatenate([[0.0], per_interval[:-1]])
    return np.maximum(per_interval, before).astype(np.float64)


class _PeakMap:
    """Interval peaks of one signal, oversampled lazily and only where they can matter.

    Each block of _BLOCK samples climbs three levels of precision as a `floor` (linear level
    that matters, e.g. the ceiling over the current gain) comes near it:
    0 sample peaks -> 1 a cheap 4x screen (16 taps per phase) once the sample peak is within
    _OVERSHOOT (9 dB) of the floor -> 2 the exact detector once the screen is within 2 dB.
    Lower levels read low, but by construction a block left low is far under the floor. Most
    of a programme is well under its peaks, so this saves most of the oversampling work; the
    loudest block is always exact, so the maximum is the true peak.
    """

    def __init__(self, audio: np.ndarray, oversample: int) -> None:
        self.data = _as_channels(audio, np.float32)
        self.oversample = oversample
        n = self.data.shape[1]
        sample = np.max(np.abs(self.data), axis=0).astype(np.float64)
        self.peaks = np.maximum(sample, np.concatenate([[0.0], sample[:-1]]))
        self.level = np.zeros(-(-n // _BLOCK), dtype=np.int8)
        self.block_max = self._block_max(0, n)
        self.level[self.block_max == 0.0] = 2
        for _ in range(2):  # the loudest block, then the loudest after the 4x screen
            self.need(float(self.block_max.max(initial=0.0)))

    def _block_max(self, lo: int, hi: int) -> np.ndarray:
        count = -(-(hi - lo) // _BLOCK)
        padded = np.zeros(count * _BLOCK)
        padded[: hi - lo] = self.peaks[lo:hi]
        return padded.reshape(count, _BLOCK).max(axis=1)

    def _refine(self, blocks: np.ndarray, oversample: int, taps: int) -> None:
        n = self.data.shape[1]
        for lo, hi in _runs(np.repeat(blocks, _BLOCK)[:n], pad=0):
            a, b = max(0, lo - 64), min(n, hi + 64)
            seg = _interval_peaks(self.data[:, a:b], oversample, taps)[lo - a: hi - a]
            sample = _interval_peaks(self.data[:, lo:hi], 1)   # a true peak is never lower
            self.peaks[lo:hi] = np.maximum(seg, sample)
            self.block_max[lo // _BLOCK: -(-hi // _BLOCK)] = self._block_max(lo, hi)

    def need(self, floor: float) -> np.ndarray:
        """Peaks, exact wherever they could reach `floor` (linear)."""
        screen = (self.level == 0) & (self.block_max * _OVERSHOOT >= floor)
        if np.any(screen):
            self.level[screen] = 1
            self._refine(screen, min(self.oversample, 4), 16)
        exact = (self.level == 1) & (self.block_max * _SCREEN_ERROR >= floor)
        if np.any(exact):
            self.level[exact] = 2
            self._refine(exact, self.oversample, 32)
        return self.peaks


def true_peak_db(audio: np.ndarray, *, oversample: int = 4) -> float:
    """True peak in dBTP: the largest magnitude of the signal oversampled `oversample` times
    (polyphase FIR interpolation), so peaks between samples count. -inf for silence."""
    if not np.isfinite(np.sum(audio)):
        raise ValueError("audio contains NaN or inf; its true peak is undefined")
    peaks = _PeakMap(audio, oversample).peaks
    peak = float(peaks.max(initial=0.0))
    return 20.0 * math.log10(peak) if peak > 0 else -math.inf


def limiter_envelope_db(reduction_db: np.ndarray, *, attack_samples: float,
                        release_samples: float, hold_samples: int) -> np.ndarray:
    """Smooth gain-reduction envelope (dB, >= 0) that is >= `reduction_db` everywhere.

    Ramps down linearly ahead of each need (6 dB per attack_samples, look-ahead over the whole
    signal since this runs offline), holds, then recovers at 6 dB per release_samples. Samples
    that need no reduction and are not near one get exactly 0 dB. Only the spans the ramps can
    reach are computed.
    """
    need = np.asarray(reduction_db, dtype=np.float64)
    env = np.zeros(need.shape)
    if need.size == 0 or not np.any(need > 0):
        return env
    top = float(need.max())
    before = int(math.ceil(top / 6.0 * attack_samples)) + int(attack_samples) + 8
    after = hold_samples + int(math.ceil(top / 6.0 * release_samples)) + int(attack_samples) + 8
    for lo, hi in _runs(need > 0, pad=max(before, after)):
        env[lo:hi] = _envelope_span(need[lo:hi], attack_samples=attack_samples,
                                    release_samples=release_samples, hold_samples=hold_samples)
    return env


def _envelope_span(need: np.ndarray, *, attack_samples: float, release_samples: float,
                   hold_samples: int) -> np.ndarray:
    """The envelope of one span. Both ramps are running maxima (cumulative max of a sloped
    signal), so this is O(n) numpy with no per-sample Python."""
    if hold_samples > 1:
        need = ndimage.maximum_filter1d(need, size=hold_samples, origin=(hold_samples - 1) // 2)
    idx = np.arange(need.size, dtype=np.float64)
    attack = 6.0 / attack_samples
    release = 6.0 / release_samples
    rel = np.maximum.accumulate(need + release * idx) - release * idx
    att = np.maximum.accumulate((need - attack * idx)[::-1])[::-1] + attack * idx
    env = np.maximum(np.maximum(rel, att), 0.0)
    # round the corners of the linear ramps; max-then-mean keeps env >= need
    width = max(3, int(attack_samples) // 4 * 2 + 1)
    env = ndimage.uniform_filter1d(ndimage.maximum_filter1d(env, size=width), size=width)
    env[env < 1e-6] = 0.0
    return env


def _runs(mask: np.ndarray, *, pad: int) -> list[tuple[int, int]]:
    """[start, stop) runs where `mask` is true, widened by `pad` and merged when they touch."""
    active = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(active))
    runs: list[tuple[int, int]] = []
    for a, b in zip(edges[0::2], edges[1::2], strict=True):
        lo, hi = max(0, int(a) - pad), min(mask.size, int(b) + pad)
        if runs and lo <= runs[-1][1]:
            runs[-1] = (runs[-1][0], hi)
        else:
            runs.append((lo, hi))
    return runs


def _limited_peak(mix: np.ndarray, gain: np.ndarray, peaks: np.ndarray,
                  oversample: int) -> float:
    """Linear true peak of mix·gain, given `peaks` = interval peaks of `mix` itself.

    Oversampling is linear, so where gain == 1 (and its interpolation neighbourhood) the known
    peaks hold; only the spans where the gain moves are oversampled again.
    """
    near, pad = 32, 64
    runs = _runs(gain < 1.0, pad=near)
    untouched = np.ones(gain.size, dtype=bool)
    best = 0.0
    for lo, hi in runs:
        untouched[lo:hi] = False
        a, b = max(0, lo - pad), min(gain.size, hi + pad)
        seg = _interval_peaks(mix[:, a:b] * gain[a:b], oversample)
        best = max(best, float(seg[lo - a: hi - a].max(initial=0.0)))
    return max(best, float(peaks[untouched].max(initial=0.0)))


def _limiter_gain(peaks: np.ndarray, config: MasterConfig, *, margin_db: float) -> np.ndarray:
    """Linear limiter gain (n,) that brings interval peaks `peaks` to margin_db under the
    ceiling; exactly 1.0 where nothing needs limiting."""
    need = 20.0 * np.log10(np.maximum(peaks, 1e-12)) - (config.true_peak_db - margin_db)
    if not np.any(need > 0):
        return np.ones(peaks.size)
    ms = SAMPLE_RATE / 1000.0
    env = limiter_envelope_db(np.maximum(need, 0.0), attack_samples=config.attack_ms * ms,
                              release_samples=config.release_ms * ms,
                              hold_samples=int(round(config.hold_ms * ms)))
    return np.asarray(10.0 ** (-env / 20.0))


def _limit(mix: np.ndarray, peaks: np.ndarray, config: MasterConfig) -> np.ndarray:
    """Verified limiter gain for `mix` (interval peaks `peaks`): the limited spans are
    oversampled again and any overshoot deepens the envelope, so the result is under the
    ceiling by the detector's own measure."""
    margin = 0.05
    gain = np.ones(mix.shape[1])
    for _ in range(4):
        gain = _limiter_gain(peaks, config, margin_db=margin)
        if np.all(gain == 1.0):
            break
        over = 20.0 * math.log10(max(_limited_peak(mix, gain, peaks, config.oversample),
                                     1e-12)) - config.true_peak_db
        if over <= 0:
            break
        margin += over + 0.02
    return gain


def _next_gain(history: list[tuple[float, float]], target: float) -> float:
    """Next loudness gain (dB) from (gain_db, measured LUFS) pairs: a step, then secant.

    Limiting makes loudness grow less than 1 dB per dB of gain, so the plain step undershoots;
    the secant slope (clamped to a sane range) corrects for that.
    """
    gain, lufs = history[-1]
    slope = 1.0
    if len(history) >= 2:
        (g0, l0), (g1, l1) = history[-2], history[-1]
        if abs(g1 - g0) > 1e-9:
            slope = min(max((l1 - l0) / (g1 - g0), 0.02), 1.5)
    return gain + (target - lufs) / slope


def _to_db(linear: float) -> float:
    return 20.0 * math.log10(linear) if linear > 0 else -math.inf


def _db_or_none(value: float) -> float | None:
    return round(value, 3) if math.isfinite(value) else None


def _loudness_gain(mix: np.ndarray, peak_map: _PeakMap, gain_db: float,
                   config: MasterConfig, progress: ProgressFn | None) -> tuple[float, int]:
    """Refine the loudness gain until the limited mix is within tolerance of the target.

    Each pass limits with the (unverified) envelope at the trial gain and measures the result;
    returns the gain and the number of passes.
    """
    ceiling = 10.0 ** (config.true_peak_db / 20.0)
    history: list[tuple[float, float]] = []
    for passes in range(1, config.max_passes + 1):
        report(progress, 0.1 + 0.7 * (passes - 1) / config.max_passes, f"loudness pass {passes}")
        scale = 10.0 ** (gain_db / 20.0)
        trial = _limiter_gain(peak_map.need(ceiling / scale) * scale, config, margin_db=0.05)
        history.append((gain_db, measure_loudness(mix * (scale * trial))))
        if abs(config.target_lufs - history[-1][1]) <= config.tolerance_lu:
            return gain_db, passes
        next_gain = min(_next_gain(history, config.target_lufs), config.max_gain_db)
        if abs(next_gain - gain_db) < 1e-6 or passes == config.max_passes:
            return gain_db, passes
        gain_db = next_gain
    return gain_db, config.max_passes


def _limiter_report(limiter: np.ndarray, *, max_regions: int = 200) -> dict[str, Any]:
    """What the limiter did: deepest reduction, how many samples/seconds, which spans."""
    runs = _runs(limiter < 1.0, pad=0)
    samples = sum(b - a for a, b in runs)
    deepest = -20.0 * math.log10(float(limiter.min(initial=1.0)))
    return {"max_reduction_db": round(max(0.0, deepest), 3), "samples": samples,
            "seconds": round(samples / SAMPLE_RATE, 4),
            "regions": [[round(a / SAMPLE_RATE, 4), round(b / SAMPLE_RATE, 4)]
                        for a, b in runs[:max_regions]],
            "regions_total": len(runs), "applied_to_stems": True}


def master(stems: Mapping[int, np.ndarray], *, n_samples: int,
           config: MasterConfig = MasterConfig(),
           progress: ProgressFn | None = None) -> MasterResult:
    """Loudness-normalize and true-peak-limit the sum of `stems`; return stems, mix and report.

    Pass the stems that should be heard (the mixer's active ones). The loudness gain is refined
    over a few passes because limiting lowers loudness; silence (nothing measurable) gets no
    gain. Every output stem is (2, n_samples) float32 and the stems sum to the mix.
    """
    fitted = {oid: fit_length(s, n_samples) for oid, s in stems.items()}
    mix = np.zeros((2, n_samples))
    for oid in sorted(fitted):
        mix += fitted[oid]
    if not np.isfinite(mix.sum()):
        raise ValueError("stems contain NaN or inf; refusing to master them")
    report(progress, 0.05, "measuring loudness")
    lufs_before = measure_loudness(mix)
    measurable = math.isfinite(lufs_before)
    peak_map = _PeakMap(mix, config.oversample)
    peak_before = float(peak_map.peaks.max(initial=0.0))
    gain_db, passes = 0.0, 0
    if measurable:
        gain_db, passes = _loudness_gain(
            mix, peak_map, min(config.target_lufs - lufs_before, config.max_gain_db), config,
            progress)
    report(progress, 0.85, "true-peak limiting")
    scale = 10.0 ** (gain_db / 20.0)
    peaks = peak_map.need(10.0 ** (config.true_peak_db / 20.0) / scale) * scale
    limiter = _limit(mix * scale, peaks, config)
    total = scale * limiter
    total32 = total.astype(np.float32)
    out_stems = {oid: s * total32 for oid, s in fitted.items()}
    out_mix = (mix * total).astype(np.float32)
    info: dict[str, Any] = {
        "target_lufs": config.target_lufs, "ceiling_dbtp": config.true_peak_db,
        "measurable": measurable, "lufs_before": _db_or_none(lufs_before),
        "lufs_after": _db_or_none(measure_loudness(out_mix)), "gain_db": round(gain_db, 6),
        "true_peak_before_db": _db_or_none(_to_db(peak_before)),
        "true_peak_after_db": _db_or_none(_to_db(
            _limited_peak(mix * scale, limiter, peaks, config.oversample))),
        "passes": passes, "limiter": _limiter_report(limiter)}
    report(progress, 1.0, "mastered")
    return MasterResult(stems=out_stems, mix=out_mix, report=info)
