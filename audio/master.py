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

Speed (a 60 s, 8-stem master is a fraction of a second): the mix is K-weighted once and its
gating-block energies kept, so the loudness at any gain is exact arithmetic on ~600 numbers
(loudness is linear in gain; the absolute gate is re-applied), and the loudness of the limited
mix only re-filters the limited spans (the K-weighting is linear: K(x·g) = K(x) + K(x·(g - 1)),
and x·(g - 1) is zero outside them). The oversampled true-peak detector runs only on blocks
whose sample peaks, times a proven bound on the interpolator's overshoot, can reach the level
that matters; the limiter's envelope is computed only around the samples that need it; the
gains are applied to float32 audio, in place where the caller allows it.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, cast, overload

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import ndimage, signal

from audio.mix import fit_length
from audio.spool import DiskAudio
from video.base.progress import ProgressFn, report
from video.base.runs import index_runs
from video.base.timebase import SAMPLE_RATE

SILENCE_LUFS = -70.0  # BS.1770 absolute gate: anything quieter has no measurable loudness
_GATE_BLOCK_S = 0.4  # BS.1770 gating block
_GATE_OVERLAP = 0.75
_BLOCK = 64  # samples per block when deciding where to oversample (> the interpolator's reach)
_MERGE_GAP = 4  # blocks to be oversampled this close together are done in one go
_CONTEXT = 48  # input samples each side that an oversampled stretch depends on (>= reach + 2)
_METER_CHUNK = 1 << 16  # samples the loudness meter filters at a time (about)
_ROWS = 384  # samples per matrix product in the oversampler (one BLAS thread, data in cache)

Span = tuple[int, int, np.ndarray]  # [lo, hi) and the limiter's linear gain there (1 elsewhere)


@dataclass(frozen=True)
class MasterConfig:
    """Loudness target and true-peak ceiling, plus the limiter's ballistics.

    attack_ms: look-ahead ramp time per 6 dB of gain reduction (the gain is already down when
        the peak arrives). release_ms: recovery time per 6 dB after the hold. hold_ms: the gain
        stays down this long after a peak, so low-frequency waveforms are not distorted by a
        gain that follows each cycle. max_gain_db: most the loudness stage may boost.
    max_limiting_db: most the limiter may take off the loudest peak to reach the target. A mix
        of sparse hits (a ball bouncing, a few steps) has little loudness for its peaks: brought
        to -23 LUFS it would need its hits limited by 20 dB or more, each hit ducking the whole
        mix for a tenth of a second around it. Such a mix is left this much limited, short of
        the target, and the report's `lufs_after` says by how much.
    """

    target_lufs: float = -23.0
    true_peak_db: float = -1.0
    oversample: int = 8
    attack_ms: float = 1.5
    release_ms: float = 60.0
    hold_ms: float = 10.0
    max_gain_db: float = 40.0
    max_limiting_db: float = 9.0
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
        if self.max_limiting_db < 0:
            raise ValueError(f"max_limiting_db must be >= 0, got {self.max_limiting_db}")


@dataclass(frozen=True)
class MasterResult:
    """Mastered stems (same ids), the mix they sum to, and what the master stage did.

    limiter: the true-peak limiter's gain as spans [lo, hi) with their per-sample linear gain
    (1 elsewhere), applied to every stem alike on top of the loudness gain."""

    stems: dict[int, np.ndarray]
    mix: np.ndarray
    report: dict[str, Any] = field(default_factory=dict)
    limiter: Sequence[Span] = ()


def _as_channels(audio: np.ndarray, dtype: type = np.float64) -> np.ndarray:
    if isinstance(audio, DiskAudio):     # read a block at a time by whoever slices it
        return audio  # type: ignore[return-value]
    data: np.ndarray = np.asarray(audio, dtype=dtype)
    if data.ndim == 1:
        data = data[None, :]
    if data.ndim != 2 or data.shape[0] not in (1, 2):
        raise ValueError(f"expected (channels, samples) audio with 1 or 2 channels, "
                         f"got shape {data.shape}")
    return data


# ---------------------------------------------------------------- loudness (BS.1770 / R128)


def _biquad(kind: str, gain_db: float, q: float, fc: float, rate: int) -> list[float]:
    """RBJ-cookbook high shelf or high pass as one normalized section [b0 b1 b2 1 a1 a2]
    (the design pyloudnorm uses, so both meters agree at any sample rate)."""
    a_lin = 10.0 ** (gain_db / 40.0)
    w0 = 2.0 * math.pi * fc / rate
    cos, alpha = math.cos(w0), math.sin(w0) / (2.0 * q)
    if kind == "high_shelf":
        root = 2.0 * math.sqrt(a_lin) * alpha
        b = [a_lin * ((a_lin + 1) + (a_lin - 1) * cos + root),
             -2 * a_lin * ((a_lin - 1) + (a_lin + 1) * cos),
             a_lin * ((a_lin + 1) + (a_lin - 1) * cos - root)]
        a = [(a_lin + 1) - (a_lin - 1) * cos + root, 2 * ((a_lin - 1) - (a_lin + 1) * cos),
             (a_lin + 1) - (a_lin - 1) * cos - root]
    else:
        b = [(1 + cos) / 2, -(1 + cos), (1 + cos) / 2]
        a = [1 + alpha, -2 * cos, 1 - alpha]
    return [v / a[0] for v in b] + [1.0, a[1] / a[0], a[2] / a[0]]


@lru_cache(maxsize=4)
def k_weighting(sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """BS.1770 K-weighting as second-order sections: the +4 dB head shelf above ~1.5 kHz, then
    the 38 Hz high pass (RLB). Read-only (2, 6) float64."""
    sos = np.array([_biquad("high_shelf", 4.0, 1.0 / math.sqrt(2.0), 1500.0, sample_rate),
                    _biquad("high_pass", 0.0, 0.5, 38.0, sample_rate)])
    sos.setflags(write=False)
    return sos


@lru_cache(maxsize=4)
def _k_tail(sample_rate: int) -> int:
    """Samples after which the K-weighting's impulse response is below 1e-12 of its start
    (twice the single-pole figure: the high pass has a double pole)."""
    radius = max(float(np.max(np.abs(np.roots([1.0, s[4], s[5]])))) for s in k_weighting(
        sample_rate))
    return 2 * int(math.ceil(math.log(1e-12) / math.log(radius))) + 8


def _gating_blocks(n: int, sample_rate: int) -> tuple[np.ndarray, np.ndarray, float]:
    """[lo, hi) sample bounds of the 400 ms, 75 %-overlap gating blocks (one block of the clip's
    own length when it is shorter) and the block length they are normalized by; the same
    arithmetic as pyloudnorm, so the blocks are the same samples."""
    block_s = min(_GATE_BLOCK_S, n / sample_rate)
    step = 1.0 - _GATE_OVERLAP
    count = int(np.round((n / sample_rate - block_s) / (block_s * step))) + 1
    j = np.arange(count)
    lo = (block_s * (j * step) * sample_rate).astype(np.int64)
    hi = (block_s * (j * step + 1) * sample_rate).astype(np.int64)
    return np.minimum(lo, n), np.minimum(hi, n), block_s * sample_rate


def _gated_lufs(z: np.ndarray) -> float:
    """Integrated loudness from per-channel block mean squares z (channels, blocks): the
    absolute (-70 LUFS) and relative (-10 LU) gates of BS.1770-4; -inf when nothing passes."""
    # block energies come from running sums: a silent block can come out a rounding error below 0
    power = np.maximum(z.sum(axis=0), 0.0)
    with np.errstate(divide="ignore"):
        blocks = -0.691 + 10.0 * np.log10(power)
    above = blocks >= SILENCE_LUFS
    if not np.any(above):
        return -math.inf
    relative = -0.691 + 10.0 * math.log10(float(power[above].mean())) - 10.0
    gated = (blocks > relative) & (blocks > SILENCE_LUFS)
    if not np.any(gated):
        return -math.inf
    value = -0.691 + 10.0 * math.log10(float(power[gated].mean()))
    return value if value > SILENCE_LUFS else -math.inf


class _LoudnessMeter:
    """K-weighted gating-block energies of one signal, kept so the loudness of the signal times
    a gain, or times a limiter gain that differs from 1 only in a few spans, is found without
    filtering the whole signal again. Filtered chunk by chunk (the filter state carried over),
    so no full-length weighted copy is made."""

    def __init__(self, audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
        data = _as_channels(audio, np.float32)
        self.rate = sample_rate
        self.n = data.shape[1]
        self.sos = np.array(k_weighting(sample_rate))   # sosfilt wants a writable copy
        self.sos32 = self.sos.astype(np.float32)
        self.lo, self.hi, self.norm = _gating_blocks(self.n, sample_rate)
        self.z = self._block_energies(data) / self.norm

    def _block_energies(self, data: np.ndarray) -> np.ndarray:
        """Sum of squares of each K-weighted channel over each [lo, hi): squares summed
        between the distinct block edges (pairwise in float32, ~1e-7), accumulated in float64,
        then differenced."""
        edges = np.unique(np.concatenate([[0, self.n], self.lo, self.hi]))
        segments = np.zeros((data.shape[0], edges.size - 1))
        state = np.zeros((self.sos32.shape[0], data.shape[0], 2), dtype=np.float32)
        per_chunk = max(1, _METER_CHUNK // max(1, int(np.diff(edges).max(initial=1))))
        for first in range(0, edges.size - 1, per_chunk):
            last = min(first + per_chunk, edges.size - 1)
            a, b = int(edges[first]), int(edges[last])
            weighted, state = signal.sosfilt(self.sos32, data[:, a:b], axis=-1, zi=state)
            segments[:, first:last] = np.add.reduceat(np.square(weighted),
                                                      edges[first:last] - a, axis=-1)
        sums = np.concatenate([np.zeros((data.shape[0], 1)),
                               np.cumsum(segments, axis=-1, dtype=np.float64)], axis=-1)
        at_lo, at_hi = np.searchsorted(edges, self.lo), np.searchsorted(edges, self.hi)
        return np.asarray(sums[:, at_hi] - sums[:, at_lo])

    def lufs(self, gain: float = 1.0, *, source: np.ndarray | None = None,
             limiter: Limiter | None = None) -> float:
        """Loudness of gain·source·limiter, where `source` is the signal this meter was built
        from (the limiter's gain is 1 outside its ranges)."""
        z = self.z
        if limiter is not None and limiter.ranges and source is not None:
            z = z + self._span_energy(source, limiter)
        return _gated_lufs(z * (gain * gain))

    def _span_energy(self, source: np.ndarray, limiter: Limiter) -> np.ndarray:
        """Change of the block energies when the limiter acts: the K-weighted correction
        c = K(x·(g - 1)) is filtered over each group of the limiter's ranges plus the filter's
        tail, and each block gains sum(2·K(x)·c + c²) over its overlap. K(x) there is filtered
        again from one tail before the group (where the filter has forgotten everything
        earlier). Both filters run a chunk at a time with their state carried (the same samples
        as one pass), and the gain is asked for a chunk at a time, so a limiter that acts over
        much of a long mix needs no group-long temporaries."""
        delta = np.zeros_like(self.z)
        tail = _k_tail(self.rate)
        channels = source.shape[0]
        sections = self.sos.shape[0]
        for lo, hi in _range_groups(limiter.ranges, gap=tail):
            end = min(self.n, hi + tail)
            start = max(0, lo - tail)
            state32 = np.zeros((sections, channels, 2), dtype=np.float32)
            for a in range(start, lo, _METER_CHUNK):     # K(x) from one tail before
                _, state32 = signal.sosfilt(self.sos32, source[:, a:min(lo, a + _METER_CHUNK)],
                                            axis=-1, zi=state32)
            state64 = np.zeros((sections, channels, 2))
            for a in range(lo, end, _METER_CHUNK):
                b = min(end, a + _METER_CHUNK)
                x = source[:, a:b]
                corr = x * (limiter.gain(a, b) - 1.0)
                corr, state64 = signal.sosfilt(self.sos, corr, axis=-1, zi=state64)
                weighted, state32 = signal.sosfilt(self.sos32, x, axis=-1, zi=state32)
                energy = corr * (2.0 * weighted + corr)
                sums = np.concatenate([np.zeros((channels, 1)), np.cumsum(energy, axis=-1)],
                                      axis=-1)
                first = int(np.searchsorted(self.hi, a, side="right"))
                last = int(np.searchsorted(self.lo, b, side="left"))
                at_lo = np.clip(self.lo[first:last], a, b) - a
                at_hi = np.clip(self.hi[first:last], a, b) - a
                delta[:, first:last] += sums[:, at_hi] - sums[:, at_lo]
        return delta / self.norm


def _range_groups(ranges: list[tuple[int, int]], *, gap: int) -> list[tuple[int, int]]:
    """Sorted [lo, hi) ranges joined where one starts within `gap` samples of the previous
    one's end (their filtered corrections overlap and must be summed before squaring)."""
    groups: list[tuple[int, int]] = []
    for lo, hi in ranges:
        if groups and lo < groups[-1][1] + gap:
            groups[-1] = (groups[-1][0], max(hi, groups[-1][1]))
        else:
            groups.append((lo, hi))
    return groups


def measure_loudness(audio: np.ndarray, *, sample_rate: int = SAMPLE_RATE) -> float:
    """EBU R128 / BS.1770 integrated loudness in LUFS of (channels, n) audio.

    -inf for silence (everything under the -70 LUFS gate) or an empty signal. Clips shorter
    than the 400 ms gating block are measured as one block of their own length. K-weighting in
    float32 (agrees with pyloudnorm to far better than 0.01 LU).
    """
    data = _as_channels(audio, np.float32)
    if not np.isfinite(np.sum(data, dtype=np.float64)):
        raise ValueError("audio contains NaN or inf; its loudness is undefined")
    if data.shape[1] == 0 or not np.any(data):
        return -math.inf
    return _LoudnessMeter(data, sample_rate).lufs()


# ---------------------------------------------------------------- true peak


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


@lru_cache(maxsize=8)
def _polyphase(oversample: int, taps_per_phase: int) -> tuple[np.ndarray, int, float]:
    """The interpolator as a matrix: output phase p at input sample i is
    sum_k M[k, p]·x[i - reach + k] (exactly resample_poly's centred polyphase sum), with
    `reach` input samples each side, and `bound` = the largest phase's sum of |taps|: no
    interpolated value exceeds bound × the largest input magnitude within reach."""
    h = _interpolator(oversample, taps_per_phase).astype(np.float32) * np.float32(oversample)
    half = (h.size - 1) // 2
    reach = half // oversample + 1
    matrix = np.zeros((2 * reach + 1, oversample), dtype=np.float32)
    for k in range(2 * reach + 1):
        for p in range(oversample):
            index = -(k - reach) * oversample + p + half
            if 0 <= index < h.size:
                matrix[k, p] = h[index]
    bound = float(np.abs(matrix.astype(np.float64)).sum(axis=0).max()) * (1.0 + 1e-5)
    matrix.setflags(write=False)
    return matrix, reach, bound


def _interval_peaks(audio: np.ndarray, oversample: int, taps_per_phase: int = 32
                    ) -> np.ndarray:
    """Per sample n, the largest oversampled magnitude over [n-1, n+1) across channels
    (zero outside the array), float64.

    The polyphase sum runs as small matrix products (_ROWS rows each: small enough that BLAS
    stays on one thread, which on a busy machine is far faster than waiting for a team)."""
    data = _as_channels(audio, np.float32)
    n = data.shape[1]
    if n == 0:
        return np.zeros(0)
    if oversample == 1:
        per = np.max(np.abs(data), axis=0)
    else:
        matrix, reach, _ = _polyphase(oversample, taps_per_phase)
        padded = np.zeros((data.shape[0], n + 2 * reach), dtype=np.float32)
        padded[:, reach:reach + n] = data
        per = np.zeros(n, dtype=np.float32)
        for channel in padded:
            rows = sliding_window_view(channel, 2 * reach + 1)
            for start in range(0, n, _ROWS):
                stop = min(n, start + _ROWS)
                up = matrix.T @ np.ascontiguousarray(rows[start:stop]).T   # (phases, rows)
                np.abs(up, out=up)
                np.maximum(per[start:stop], up.max(axis=0), out=per[start:stop])
    before = np.concatenate([[0.0], per[:-1]])
    return np.maximum(per, before).astype(np.float64)


class _PeakMap:
    """Interval peaks of one signal by the oversampled detector, computed only where they can
    matter.

    A block of _BLOCK samples is oversampled ("exact") only once its bound reaches a level asked
    for by `need`: the largest sample magnitude in it and its two neighbours (which hold every
    input its interpolated values depend on) times the interpolator's proven overshoot bound.
    No approximation: a block left out is under every level asked for so far. The blocks that
    can hold the maximum are always made exact, so `top` is the true peak.
    """

    def __init__(self, audio: np.ndarray, oversample: int, *, spool: Path | None = None
                 ) -> None:
        self.data = _as_channels(audio, np.float32)
        self.oversample = oversample
        self.n = self.data.shape[1]
        bound = _polyphase(oversample, 32)[2] if oversample > 1 else 1.0
        block_max = _block_peaks(self.data)
        near = block_max.copy()
        if near.size > 1:
            near[1:] = np.maximum(near[1:], block_max[:-1])
            near[:-1] = np.maximum(near[:-1], block_max[1:])
        self.bound = near * bound
        self.exact = np.zeros(block_max.size, dtype=bool)
        # per sample, meaningful in exact blocks only: in memory, or beside a spooled mix
        self.peaks = _Samples(self.n, spool)
        self.block_top = np.zeros(block_max.size)          # the largest exact peak per block
        self.top = 0.0
        floor = float(block_max.max(initial=0.0))
        while True:   # refine until no block left out could beat the best peak found
            count = int(self.exact.sum())
            self.need(max(self.top, floor))
            if int(self.exact.sum()) == count:
                break

    def need(self, floor: float) -> None:
        """Make the peaks exact wherever they could reach `floor` (linear, > 0)."""
        blocks = np.flatnonzero(~self.exact & (self.bound >= floor) & (self.bound > 0.0))
        if blocks.size == 0:
            return
        per = _METER_CHUNK // _BLOCK     # a long run in pieces: no run-long temporaries
        runs = [(a, min(b, a + per)) for lo, hi in index_runs(blocks, gap=_MERGE_GAP)
                for a, b in [(start, hi) for start in range(lo, hi, per)]]
        for lo, hi in runs:
            self.exact[lo:hi] = True
            a, b = lo * _BLOCK, min(self.n, hi * _BLOCK)
            ca, cb = max(0, a - _CONTEXT), min(self.n, b + _CONTEXT)
            seg = _interval_peaks(self.data[:, ca:cb], self.oversample)[a - ca: b - ca]
            seg = np.maximum(seg, _interval_peaks(self.data[:, ca:cb], 1)[a - ca: b - ca])
            stored = seg.astype(np.float32)
            self.peaks.write(a, stored)
            self.block_top[lo:hi] = _block_max(stored, (hi - lo) * _BLOCK)
            self.top = max(self.top, float(seg.max(initial=0.0)))

    def _exact_ranges(self) -> Iterator[tuple[int, int]]:
        """[a, b) sample ranges, at most _METER_CHUNK long, whose peaks are exact."""
        per = _METER_CHUNK // _BLOCK
        for lo, hi in index_runs(np.flatnonzero(self.exact)):
            for first in range(lo, hi, per):
                yield first * _BLOCK, min(self.n, min(hi, first + per) * _BLOCK)

    def hot(self, a: int, b: int, threshold: float) -> np.ndarray:
        """The peaks of samples [a, b) that exceed `threshold` where they are exact, 0 where
        they do not or are not (float64)."""
        values = self.peaks.read(a, b).astype(np.float64)
        exact = np.repeat(self.exact[a // _BLOCK: -(-b // _BLOCK)], _BLOCK)
        start = a - a // _BLOCK * _BLOCK
        values[~exact[start: start + b - a] | (values <= threshold)] = 0.0
        return values

    def top_outside(self, covered: list[tuple[int, int]]) -> float:
        """Largest exact peak outside the [lo, hi) ranges `covered` (sorted, disjoint)."""
        starts = np.array([lo for lo, _ in covered], dtype=np.int64)
        stops = np.array([hi for _, hi in covered], dtype=np.int64)
        best = 0.0
        for a, b in self._exact_ranges():
            values = self.peaks.read(a, b)
            if covered:
                index = np.arange(a, b)
                k = np.searchsorted(starts, index, side="right") - 1
                inside = (k >= 0) & (index < stops[np.maximum(k, 0)])
                values = values[~inside]
            best = max(best, float(values.max(initial=0.0)))
        return best


class _Samples:
    """Per-sample float32 values of a long signal, zero where never written: an array, or a
    spool file (`spool`) read and written in ranges, so an hour's peaks need not be held."""

    def __init__(self, n: int, spool: Path | None) -> None:
        self.disk = DiskAudio.create(spool, channels=1, n_samples=n) if spool is not None \
            else None
        self.memory = np.zeros(n, dtype=np.float32) if spool is None else None

    def write(self, a: int, values: np.ndarray) -> None:
        if self.disk is not None:
            self.disk.write(a, values[None, :])
        else:
            assert self.memory is not None
            self.memory[a: a + values.size] = values

    def read(self, a: int, b: int) -> np.ndarray:
        if self.disk is not None:
            return self.disk.read(a, b)[0]
        assert self.memory is not None
        return self.memory[a:b]


def _block_max(values: np.ndarray, size: int) -> np.ndarray:
    """Largest value of each _BLOCK-sample block of `values` (zero-padded to `size`)."""
    padded = np.zeros(size, dtype=np.float64)
    padded[:values.size] = values
    return np.asarray(padded.reshape(-1, _BLOCK).max(axis=1))


def _block_peaks(data: np.ndarray) -> np.ndarray:
    """Largest |sample| of each _BLOCK-sample block across channels (float64): channel max and
    min first, then halving the blocks (wide vectorized steps instead of many short
    reductions), a cache-sized chunk at a time."""
    n = data.shape[1]
    whole = n // _BLOCK * _BLOCK
    peaks = np.zeros(-(-n // _BLOCK))
    step = _METER_CHUNK // _BLOCK * _BLOCK
    for start in range(0, whole, step):
        stop = min(whole, start + step)
        high = np.max(data[:, start:stop], axis=0).reshape(-1, _BLOCK)
        low = np.min(data[:, start:stop], axis=0).reshape(-1, _BLOCK)
        while high.shape[1] > 1:
            half = high.shape[1] // 2
            high = np.maximum(high[:, :half], high[:, half:])
            low = np.minimum(low[:, :half], low[:, half:])
        peaks[start // _BLOCK: stop // _BLOCK] = np.maximum(high[:, 0], -low[:, 0])
    if whole < n:
        peaks[-1] = float(np.max(np.abs(data[:, whole:])))
    return peaks


def true_peak_db(audio: np.ndarray, *, oversample: int = 4) -> float:
    """True peak in dBTP: the largest magnitude of the signal oversampled `oversample` times
    (polyphase FIR interpolation), so peaks between samples count. -inf for silence."""
    if not np.isfinite(np.sum(audio)):
        raise ValueError("audio contains NaN or inf; its true peak is undefined")
    return _to_db(_PeakMap(audio, oversample).top)


# ---------------------------------------------------------------- limiter


def _envelope_lengths(top_db: float, *, attack_samples: float, release_samples: float,
                      hold_samples: int) -> int:
    """How far (samples) the envelope of a need of `top_db` can reach from it."""
    before = int(math.ceil(top_db / 6.0 * attack_samples)) + int(attack_samples) + 8
    after = hold_samples + int(math.ceil(top_db / 6.0 * release_samples)) \
        + int(attack_samples) + 8
    return max(before, after)


def _envelope_spans(positions: np.ndarray, need_db: np.ndarray, n: int, *,
                    attack_samples: float, release_samples: float, hold_samples: int
                    ) -> list[tuple[int, np.ndarray]]:
    """The envelope (dB) of sparse needs (`need_db` > 0 at sorted `positions` of an n-sample
    signal, 0 elsewhere), as (start, envelope) pieces; zero outside them."""
    if positions.size == 0:
        return []
    pad = _envelope_lengths(float(need_db.max()), attack_samples=attack_samples,
                            release_samples=release_samples, hold_samples=hold_samples)
    breaks = np.flatnonzero(np.diff(positions) - 1 > 2 * pad)
    first = np.concatenate([[0], breaks + 1])
    last = np.concatenate([breaks, [positions.size - 1]])
    pieces = []
    for i, j in zip(first, last, strict=True):
        lo, hi = max(0, int(positions[i]) - pad), min(n, int(positions[j]) + 1 + pad)
        need = np.zeros(hi - lo)
        need[positions[i:j + 1] - lo] = need_db[i:j + 1]
        pieces.append((lo, _envelope_span(need, attack_samples=attack_samples,
                                          release_samples=release_samples,
                                          hold_samples=hold_samples)))
    return pieces


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
    positions = np.flatnonzero(need > 0)
    for lo, piece in _envelope_spans(positions, need[positions], need.size,
                                     attack_samples=attack_samples,
                                     release_samples=release_samples, hold_samples=hold_samples):
        env[lo:lo + piece.size] = piece
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


_GRID = 1 << 16   # samples per block of the limiter's envelope (its unit of work and memory)


class Limiter:
    """The true-peak limiter's linear gain for mix·scale, made a grid block at a time and held
    by none: every sample whose exact interval peak times `scale` is over `limit_db` needs that
    many dB of reduction, and the envelope (`_envelope_span`: look-ahead attack, hold, release,
    rounded corners) over a grid block is computed from the needs within its reach either side
    (the ramps' full length for the largest need), so every block is the same whichever order
    or however often it is asked for. The gain is exactly 1.0 outside `ranges` (grid blocks
    within reach of a need). The few blocks asked for last are cached."""

    def __init__(self, peak_map: _PeakMap, scale: float, config: MasterConfig, *,
                 margin_db: float) -> None:
        self.peak_map, self.scale, self.n = peak_map, scale, peak_map.n
        self.limit_db = config.true_peak_db - margin_db
        self.threshold = 10.0 ** (self.limit_db / 20.0) / scale
        peak_map.need(self.threshold)
        ms = SAMPLE_RATE / 1000.0
        self.attack, self.release = config.attack_ms * ms, config.release_ms * ms
        self.hold = int(round(config.hold_ms * ms))
        hot = np.flatnonzero(peak_map.exact & (peak_map.block_top > self.threshold))
        self.ranges: list[tuple[int, int]] = []
        self.reach = 0
        self._cache: dict[int, np.ndarray | None] = {}
        if hot.size == 0:
            return
        top = _to_db(float(peak_map.block_top[hot].max()) * scale) - self.limit_db
        width = max(3, int(self.attack) // 4 * 2 + 1)
        self.reach = _envelope_lengths(top, attack_samples=self.attack,
                                       release_samples=self.release,
                                       hold_samples=self.hold) + 2 * width + self.hold
        blocks = -(-self.n // _GRID)
        marks = np.zeros(blocks + 1, dtype=np.int64)
        first = np.clip((hot * _BLOCK - self.reach) // _GRID, 0, blocks - 1)
        last = np.clip(((hot + 1) * _BLOCK + self.reach - 1) // _GRID, 0, blocks - 1)
        np.add.at(marks, first, 1)
        np.add.at(marks, last + 1, -1)
        active = np.flatnonzero(np.cumsum(marks)[:blocks] > 0)
        self.ranges = [(lo * _GRID, min(self.n, hi * _GRID))
                       for lo, hi in index_runs(active)]

    def _block(self, g: int) -> np.ndarray | None:
        """The gain of grid block g (float64), None where it is 1 throughout."""
        if g in self._cache:
            return self._cache[g]
        a, b = g * _GRID, min(self.n, (g + 1) * _GRID)
        lo, hi = max(0, a - self.reach), min(self.n, b + self.reach)
        peaks = self.peak_map.hot(lo, hi, self.threshold)
        need = np.zeros(hi - lo)
        on = peaks > 0
        need[on] = 20.0 * np.log10(np.maximum(peaks[on] * self.scale, 1e-12)) - self.limit_db
        need[need < 0] = 0.0
        gain = None
        if np.any(need > 0):
            env = _envelope_span(need, attack_samples=self.attack,
                                 release_samples=self.release, hold_samples=self.hold)
            piece = env[a - lo: b - lo]
            gain = 10.0 ** (-piece / 20.0) if np.any(piece > 0) else None
        if len(self._cache) >= 8:
            self._cache.pop(next(iter(self._cache)))
        self._cache[g] = gain
        return gain

    def gain(self, a: int, b: int) -> np.ndarray:
        """The linear gain over samples [a, b) (float64, 1 outside the ranges)."""
        out = np.ones(max(0, b - a))
        for g in range(max(0, a) // _GRID, -(-min(b, self.n) // _GRID)):
            if not self._active(g):
                continue
            piece = self._block(g)
            if piece is not None:
                lo, hi = max(a, g * _GRID), min(b, g * _GRID + piece.size)
                out[lo - a: hi - a] = piece[lo - g * _GRID: hi - g * _GRID]
        return out

    def _active(self, g: int) -> bool:
        i = bisect.bisect_right(self.ranges, (g * _GRID, self.n + 1)) - 1
        return i >= 0 and self.ranges[i][0] <= g * _GRID < self.ranges[i][1]

    def pieces(self) -> Iterator[tuple[int, np.ndarray]]:
        """(start, gain) of every grid block where the gain is not 1 throughout, in order."""
        for lo, hi in self.ranges:
            for g in range(lo // _GRID, -(-hi // _GRID)):
                piece = self._block(g)
                if piece is not None:
                    yield g * _GRID, piece

    def apply(self, out: np.ndarray, start: int) -> None:
        """out (float32, frames [start, start + k)) *= the gain there, in place."""
        stop = start + out.shape[1]
        for lo, hi in self.ranges:
            a, b = max(lo, start), min(hi, stop)
            if b > a:
                out[:, a - start: b - start] *= self.gain(a, b).astype(np.float32)


class SavedLimiter(Limiter):
    """A limiter's gain read back from its spans (a cached master plan): the same `gain`,
    `pieces` and `apply` as the `Limiter` that made them, with nothing left to compute."""

    def __init__(self, spans: Sequence[Span], n: int) -> None:
        # no super().__init__: there is no peak map to measure, only the saved gain
        self.n = n
        self._pieces = sorted((int(lo), np.asarray(g, dtype=np.float64)) for lo, _, g in spans)
        self._starts = [lo for lo, _ in self._pieces]
        self.ranges = [(lo, lo + g.size) for lo, g in self._pieces]

    def gain(self, a: int, b: int) -> np.ndarray:
        """The linear gain over samples [a, b) (float64, 1 outside the spans)."""
        out = np.ones(max(0, b - a))
        first = max(0, bisect.bisect_right(self._starts, a) - 1)
        for lo, piece in self._pieces[first:]:
            if lo >= b:
                break
            x, y = max(a, lo), min(b, lo + piece.size)
            if y > x:
                out[x - a: y - a] = piece[x - lo: y - lo]
        return out

    def pieces(self) -> Iterator[tuple[int, np.ndarray]]:
        """(start, gain) of every span, in order."""
        yield from self._pieces


class LimiterSpans(Sequence[Span]):
    """A limiter's gain as spans (start, stop, linear gain): one per grid block where it is
    not 1 throughout, made when read (a long, heavily limited mix is never held whole)."""

    def __init__(self, limiter: Limiter | None) -> None:
        self._limiter = limiter
        self._starts = [start for start, _ in limiter.pieces()] if limiter is not None else []

    def __len__(self) -> int:
        return len(self._starts)

    @overload
    def __getitem__(self, index: int) -> Span: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Span]: ...

    def __getitem__(self, index: int | slice) -> Span | Sequence[Span]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        start = self._starts[index]
        assert self._limiter is not None
        gain = self._limiter.gain(start, min(self._limiter.n, start + _GRID))
        return start, start + gain.size, gain


def _spans_peak(data: np.ndarray, scale: float, limiter: Limiter, oversample: int
                ) -> tuple[float, list[tuple[int, int]]]:
    """Linear true peak of data·scale·limiter where the limiter acts (gain < 1, widened by the
    interpolator's reach, re-oversampled), and the sorted ranges that covers. Elsewhere the
    peaks are the known ones times scale."""
    n = data.shape[1]
    near, pad = 32, 64
    best, covered = 0.0, list[tuple[int, int]]()
    for start, gain in limiter.pieces():
        for r_lo, r_hi in _runs(gain < 1.0, pad=near):
            c_lo, c_hi = start + r_lo, start + r_hi
            a, b = max(0, c_lo - pad), min(n, c_hi + pad)
            seg = data[:, a:b] * np.float32(scale)
            seg *= limiter.gain(a, b).astype(np.float32)
            peaks = _interval_peaks(seg, oversample)[c_lo - a: c_hi - a]
            best = max(best, float(peaks.max(initial=0.0)))
            if covered and c_lo <= covered[-1][1]:
                covered[-1] = (covered[-1][0], max(c_hi, covered[-1][1]))
            else:
                covered.append((c_lo, c_hi))
    return best, covered


def _limit(peak_map: _PeakMap, scale: float, config: MasterConfig
           ) -> tuple[Limiter | None, float, list[tuple[int, int]]]:
    """Verified limiter for mix·scale: where it acts the mix is oversampled again and any
    overshoot deepens the envelope, so the result is under the ceiling by the detector's own
    measure. Returns the limiter (None when it never acts), and the peak and ranges
    `_spans_peak` found for it."""
    margin = 0.05
    limiter: Limiter | None = None
    peak, covered = 0.0, list[tuple[int, int]]()
    for _ in range(4):
        limiter = Limiter(peak_map, scale, config, margin_db=margin)
        if not limiter.ranges:
            return None, 0.0, []
        peak, covered = _spans_peak(peak_map.data, scale, limiter, config.oversample)
        over = _to_db(max(peak, 1e-12)) - config.true_peak_db
        if over <= 0:
            break
        margin += over + 0.02
    return limiter, peak, covered


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


def _loudness_gain(mix: np.ndarray, meter: _LoudnessMeter, peak_map: _PeakMap, gain_db: float,
                   config: MasterConfig, progress: ProgressFn | None, *,
                   most: float) -> tuple[float, int]:
    """Refine the loudness gain until the limited mix is within tolerance of the target, never
    above `most` dB.

    Each pass limits with the (unverified) envelope at the trial gain and measures the result
    (only the limited spans are filtered again); returns the gain and the number of passes.
    """
    history: list[tuple[float, float]] = []
    for passes in range(1, config.max_passes + 1):
        report(progress, 0.1 + 0.7 * (passes - 1) / config.max_passes, f"loudness pass {passes}")
        scale = 10.0 ** (gain_db / 20.0)
        trial = Limiter(peak_map, scale, config, margin_db=0.05)
        history.append((gain_db, meter.lufs(scale, source=mix, limiter=trial)))
        if abs(config.target_lufs - history[-1][1]) <= config.tolerance_lu:
            return gain_db, passes
        next_gain = min(_next_gain(history, config.target_lufs), most)
        if abs(next_gain - gain_db) < 1e-6 or passes == config.max_passes:
            return gain_db, passes
        gain_db = next_gain
    return gain_db, config.max_passes


def _limiter_report(limiter: Limiter | None, *, max_regions: int = 200) -> dict[str, Any]:
    """What the limiter did: deepest reduction, how many samples/seconds, which spans."""
    runs: list[tuple[int, int]] = []
    lowest = 1.0
    for start, gain in limiter.pieces() if limiter is not None else ():
        lowest = min(lowest, float(gain.min()))
        for a, b in _runs(gain < 1.0, pad=0):
            if runs and runs[-1][1] == start + a:       # a run across a block edge
                runs[-1] = (runs[-1][0], start + b)
            else:
                runs.append((start + a, start + b))
    samples = sum(b - a for a, b in runs)
    deepest = -20.0 * math.log10(lowest)
    return {"max_reduction_db": round(max(0.0, deepest), 3), "samples": samples,
            "seconds": round(samples / SAMPLE_RATE, 4),
            "regions": [[round(a / SAMPLE_RATE, 4), round(b / SAMPLE_RATE, 4)]
                        for a, b in runs[:max_regions]],
            "regions_total": len(runs), "applied_to_stems": True}


def _apply(audio: np.ndarray, scale: float, limiter: Limiter | None, *, in_place: bool
           ) -> np.ndarray:
    """audio·scale·limiter as float32, written into `audio` itself when `in_place` allows."""
    gain = np.float32(scale)
    if in_place and audio.dtype == np.float32 and audio.flags.writeable:
        out = np.multiply(audio, gain, out=audio)
    else:
        out = np.multiply(audio, gain, dtype=np.float32)
    if limiter is not None:
        limiter.apply(out, 0)
    return out


@dataclass(frozen=True)
class MasterPlan:
    """What the master stage does to a mix, decided from the whole mix: the linear loudness
    `scale` and the `limiter`, both applied alike to the mix and to every playing stem
    (`apply_master`), and the report saved in project.json."""

    scale: float
    limiter: Limiter | None
    report: dict[str, Any]

    @cached_property
    def spans(self) -> LimiterSpans:
        """The limiter's gain as spans (made when read)."""
        return LimiterSpans(self.limiter)


def _scan(mix: np.ndarray, *, chunk: int = _METER_CHUNK) -> tuple[bool, bool]:
    """(finite, audible): no NaN/inf in the mix, and any sample not zero; a chunk at a time."""
    n = mix.shape[1]
    finite, audible = True, False
    for start in range(0, n, chunk):
        part = mix[:, start:min(n, start + chunk)]
        finite = finite and bool(np.isfinite(np.sum(part, dtype=np.float64)))
        audible = audible or bool(np.any(part))
    return finite, audible


def plan_master(mix: np.ndarray | DiskAudio, *, config: MasterConfig = MasterConfig(),
                progress: ProgressFn | None = None, peaks_spool: Path | None = None
                ) -> MasterPlan:
    """Measure a (2, n) mix and decide the loudness gain and the true-peak limiter.

    `mix` may be an array or a `DiskAudio` spool: every pass over it reads a block at a time
    (the loudness meter keeps only gating-block energies, the peak map only block peaks and
    the oversampled peaks near the top), so a long mix need not be in memory. The oversampled
    peaks spool to `peaks_spool` when given, else beside a mix that is a file on disk, else
    stay in memory; the plan's limiter reads them for as long as it is used."""
    # the analysis only slices [:, a:b] and reads .shape, which a DiskAudio answers alike
    mix = cast(np.ndarray, mix)
    n_samples = mix.shape[1]
    finite, audible = _scan(mix)
    if not finite:
        raise ValueError("stems contain NaN or inf; refusing to master them")
    report(progress, 0.05, "measuring loudness")
    meter = _LoudnessMeter(mix) if n_samples and audible else None
    lufs_before = meter.lufs() if meter is not None else -math.inf
    measurable = math.isfinite(lufs_before)
    spool = peaks_spool
    if spool is None and isinstance(mix, DiskAudio) and mix.path.is_file():
        spool = mix.path.with_name(mix.path.name + ".peaks")
    peak_map = _PeakMap(mix, config.oversample, spool=spool)
    gain_db, passes = 0.0, 0
    if meter is not None and measurable:
        # the gain that has the limiter take max_limiting_db off the loudest peak, at most
        most = min(config.max_gain_db, config.true_peak_db + config.max_limiting_db
                   - _to_db(max(peak_map.top, 1e-12)))
        gain_db, passes = _loudness_gain(
            mix, meter, peak_map, min(config.target_lufs - lufs_before, most), config, progress,
            most=most)
    report(progress, 0.85, "true-peak limiting")
    scale = 10.0 ** (gain_db / 20.0)
    limiter, peak_in, covered = _limit(peak_map, scale, config)
    peak_after = max(peak_in, peak_map.top_outside(covered) * scale)
    lufs_after = meter.lufs(scale, source=mix, limiter=limiter) if meter is not None \
        else -math.inf
    info: dict[str, Any] = {
        "target_lufs": config.target_lufs, "ceiling_dbtp": config.true_peak_db,
        "max_limiting_db": config.max_limiting_db,
        "measurable": measurable, "lufs_before": _db_or_none(lufs_before),
        "lufs_after": _db_or_none(lufs_after), "gain_db": round(gain_db, 6),
        "true_peak_before_db": _db_or_none(_to_db(peak_map.top)),
        "true_peak_after_db": _db_or_none(_to_db(peak_after)),
        "passes": passes, "limiter": _limiter_report(limiter)}
    return MasterPlan(scale=scale, limiter=limiter, report=info)


def apply_master(block: np.ndarray, start: int, plan: MasterPlan) -> np.ndarray:
    """Frames [start, start + k) of a playing stem or the mix after the master stage: the
    (channels, k) `block` times the loudness scale and the limiter gain, as float32. The same
    samples, bit for bit, as `master` gives for the whole signal (the gains are per sample)."""
    out = np.multiply(block, np.float32(plan.scale), dtype=np.float32)
    if plan.limiter is not None:
        plan.limiter.apply(out, start)
    return out


def master(stems: Mapping[int, np.ndarray], *, n_samples: int,
           config: MasterConfig = MasterConfig(),
           progress: ProgressFn | None = None, in_place: bool = False) -> MasterResult:
    """Loudness-normalize and true-peak-limit the sum of `stems`; return stems, mix and report.

    Pass the stems that should be heard (the mixer's active ones). The loudness gain is refined
    over a few passes because limiting lowers loudness; silence (nothing measurable) gets no
    gain. Every output stem is (2, n_samples) float32 and the stems sum to the mix.
    in_place: the caller hands over its float32 stems, which are then scaled where they are
    (the returned stems are those arrays) instead of being copied.
    """
    fitted = {oid: fit_length(s, n_samples) for oid, s in stems.items()}
    mix = np.zeros((2, n_samples), dtype=np.float32)
    for oid in sorted(fitted):
        mix += fitted[oid]
    plan = plan_master(mix, config=config, progress=progress)
    out_stems = {oid: _apply(s, plan.scale, plan.limiter,
                             in_place=in_place or not np.may_share_memory(s, stems[oid]))
                 for oid, s in fitted.items()}
    out_mix = _apply(mix, plan.scale, plan.limiter, in_place=True)
    report(progress, 1.0, "mastered")
    return MasterResult(stems=out_stems, mix=out_mix, report=plan.report, limiter=plan.spans)
