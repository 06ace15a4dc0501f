"""Small, fast DSP building blocks for the spatializer.

Everything here is a pure function on float32 numpy arrays and is written for speed on long
signals (a 60 s object is 2.88 M samples and must be re-spatialized in a few milliseconds):
control curves are computed at a low control rate and expanded by linear interpolation; filters
are short FIRs run through `np.convolve`, which is far faster than a recursive IIR here.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import ndimage, signal


def binomial_lowpass(x: np.ndarray, *, order: int) -> np.ndarray:
    """Zero-phase binomial low-pass: the FIR (1 + z⁻¹)^order / 2^order, centred.

    Its magnitude is cos(πf/fs)^order: flat at low frequencies, falling ever faster towards
    Nyquist, much like the high-frequency loss of sound travelling through air (the dB loss at
    16 kHz is about three times that at 8 kHz for both). `order` must be even so the filter has
    a centre tap and no delay: it can be crossfaded with the dry signal without comb filtering.
    """
    taps = binomial_taps(order)
    data = np.asarray(x, dtype=np.float32)
    if data.shape[-1] < taps.size:
        return data.copy()
    return np.convolve(data, taps, mode="same").astype(np.float32, copy=False)


@lru_cache(maxsize=8)
def binomial_taps(order: int) -> np.ndarray:
    """The taps of `binomial_lowpass` (float32, read-only)."""
    if order < 2 or order % 2:
        raise ValueError(f"binomial low-pass order must be an even number >= 2, got {order}")
    taps = np.array([math.comb(order, k) for k in range(order + 1)], dtype=np.float64)
    out = (taps / taps.sum()).astype(np.float32)
    out.setflags(write=False)
    return out


def fir_span(x: np.ndarray, taps: np.ndarray, *, start: int, stop: int) -> np.ndarray:
    """Samples [start, stop) of x filtered by the centred odd-length FIR `taps` (zero outside
    x), from x[start - h: stop + h] only: a long signal can be filtered chunk by chunk without a
    full-length output, and every sample comes out the same whatever the chunking."""
    half = taps.size // 2
    lo, hi = start - half, stop + half
    if lo >= 0 and hi <= x.size:
        window = x[lo:hi]
    else:
        window = np.zeros(hi - lo, dtype=np.float32)
        window[max(0, -lo): window.size - max(0, hi - x.size)] = x[max(0, lo): min(x.size, hi)]
    return np.convolve(window, taps, mode="valid").astype(np.float32, copy=False)


def velvet_decorrelator(*, length_ms: float = 20.0, density: float = 1500.0,
                        decay_db: float = 30.0, seed: int = 7,
                        sample_rate: int = 48_000) -> np.ndarray:
    """A unit-energy sparse FIR (velvet noise) whose output is decorrelated from its input.

    One ±1 impulse per grid cell (density impulses per second) at a random place in the cell,
    under an exponential decay of `decay_db` over `length_ms`. Its spectrum is flat on average,
    so the "side" signal it makes has the same timbre as the source but a random phase; mixed
    as M/S it widens a source without colouring the mono sum. Seeded, so renders repeat.
    """
    n = max(2, int(round(length_ms * 1e-3 * sample_rate)))
    grid = max(1, int(round(sample_rate / density)))
    rng = np.random.default_rng(seed)
    starts = np.arange(0, n, grid)
    positions = np.minimum(starts + rng.integers(0, grid, size=starts.size), n - 1)
    signs = rng.choice(np.array([-1.0, 1.0]), size=starts.size)
    envelope = 10.0 ** (-decay_db / 20.0 * positions / n)
    taps = np.zeros(n, dtype=np.float64)
    taps[positions] = signs * envelope
    taps /= np.sqrt(np.sum(taps**2))
    return taps.astype(np.float32)


def fir_filter(x: np.ndarray, taps: np.ndarray) -> np.ndarray:
    """Causal FIR filtering of a 1-D signal, output as long as the input (float32)."""
    data = np.asarray(x, dtype=np.float32)
    if data.size == 0:
        return data.copy()
    out = signal.oaconvolve(data, np.asarray(taps, dtype=np.float32))[: data.size]
    return np.asarray(out, dtype=np.float32)


def variable_delay(x: np.ndarray, delay: np.ndarray) -> np.ndarray:
    """y[n] = x[n - delay[n]] with a per-sample fractional delay (linear interpolation).

    Used for interaural time difference and Doppler: a delay that changes over time resamples
    the signal, which is exactly the pitch shift of a moving source. Samples that would come from
    before the start of `x` are silent.
    """
    data = np.asarray(x, dtype=np.float32)
    d = np.asarray(delay, dtype=np.float32)
    if d.shape != data.shape:
        raise ValueError(f"delay must have one value per sample: {d.shape} vs {data.shape}")
    if not np.all(np.isfinite(d)) or np.any(d < 0):
        raise ValueError("delays must be finite and >= 0")
    out = np.empty_like(data)
    padded, pad = _zero_padded(data, d)
    for start, stop in chunks(data.size, block=1):
        out[start:stop] = _delay_span(padded, pad, d[start:stop], start)
    return out


def variable_delay_control(x: np.ndarray, delay: np.ndarray, *, block: int) -> np.ndarray:
    """`variable_delay` with the delay given as control points `block` samples apart (see
    `expand_control`), processed chunk by chunk without building the per-sample curve."""
    data = np.asarray(x, dtype=np.float32)
    points = np.asarray(delay, dtype=np.float32)
    if not np.all(np.isfinite(points)) or np.any(points < 0):
        raise ValueError("delays must be finite and >= 0")
    if not np.any(points > 0):
        return data
    out = np.empty_like(data)
    padded, pad = _zero_padded(data, points)
    for start, stop in chunks(data.size, block=block):
        d = control_segment(points, block=block, start=start, stop=stop)
        out[start:stop] = _delay_span(padded, pad, d, start)
    return out


def _zero_padded(data: np.ndarray, delays: np.ndarray) -> tuple[np.ndarray, int]:
    """`data` with enough leading zeros that every delayed read index is >= 0."""
    pad = int(np.ceil(float(delays.max(initial=0.0)))) + 2
    return np.concatenate([np.zeros(pad, np.float32), data]), pad


def _delay_span(padded: np.ndarray, pad: int, d: np.ndarray, start: int) -> np.ndarray:
    """Samples start.. of x delayed by d (x = padded[pad:]): integer part by index (a slice
    when it is constant over the span, as for a static ITD), fraction by interpolation."""
    whole = np.floor(d)
    frac = d - whole
    shift = whole.astype(np.int64)
    lo_i, hi_i = int(shift.min(initial=0)), int(shift.max(initial=0))
    base = pad + start
    if lo_i == hi_i:
        near = padded[base - lo_i: base - lo_i + d.size]
        far = padded[base - lo_i - 1: base - lo_i - 1 + d.size]
    else:
        idx = np.arange(base, base + d.size) - shift
        near, far = padded[idx], padded[idx - 1]
    return near + frac * (far - near)


def hann_smooth(curve: np.ndarray, *, width: int) -> np.ndarray:
    """Zero-phase smoothing by a normalized Hann window of `width` points (edges held).

    Zero-phase so a smoothed pan or distance does not lag the picture; edges use the nearest
    value, so a curve that is constant at the start stays constant (to rounding).
    """
    data = np.asarray(curve, dtype=np.float64)
    if width < 3 or data.size < 2:
        return data.copy()
    window = _hann_window(width)
    if width < _FFT_SMOOTHING:
        return ndimage.convolve1d(data, window, mode="nearest")
    # wide windows: the same sum by FFT (overlap-add) on the edge-extended curve, ~3x faster
    lead = (width - 1) // 2
    padded = np.pad(data, (lead, width - 1 - lead), mode="edge")
    return np.asarray(signal.oaconvolve(padded, window, mode="valid"))


_FFT_SMOOTHING = 64  # window length from which hann_smooth convolves by FFT


@lru_cache(maxsize=16)
def _hann_window(width: int) -> np.ndarray:
    """Normalized Hann window of `width` points (no zero end points), read-only."""
    window = np.hanning(width + 2)[1:-1]
    window /= window.sum()
    window.setflags(write=False)
    return window


def expand_control(curve: np.ndarray, *, block: int, n_samples: int) -> np.ndarray:
    """Per-sample float32 curve from control points spaced `block` samples apart.

    Control point k sits at sample k·block; samples between two points are linearly
    interpolated, so the result has no steps (no zipper noise). Needs
    len(curve) >= ceil(n_samples / block) + 1 points.
    """
    points = np.asarray(curve, dtype=np.float32)
    n_blocks = -(-n_samples // block)
    if points.size < n_blocks + 1:
        raise ValueError(f"need {n_blocks + 1} control points for {n_samples} samples, "
                         f"got {points.size}")
    if n_samples == 0:
        return np.zeros(0, np.float32)
    ramp = np.arange(block, dtype=np.float32) / np.float32(block)
    start = points[:n_blocks, None]
    step = points[1 : n_blocks + 1, None] - start
    return (start + step * ramp).reshape(-1)[:n_samples]


def control_segment(curve: np.ndarray, *, block: int, start: int, stop: int) -> np.ndarray:
    """Samples [start, stop) of `expand_control(curve, ...)`; `start` must be a multiple of
    `block`. Lets long signals be processed in cache-sized chunks without ever building the
    whole per-sample curve. Pass a float32 curve when calling it chunk after chunk (otherwise
    the whole curve is converted on every call)."""
    if start % block:
        raise ValueError(f"chunk start {start} is not a multiple of the block {block}")
    first = start // block
    count = -(-(stop - start) // block)
    points = np.asarray(curve, dtype=np.float32)
    if points.size < first + count + 1:
        raise ValueError(f"need {first + count + 1} control points, got {points.size}")
    base = points[first:first + count, None]
    out = np.multiply(points[first + 1:first + count + 1, None] - base, _ramp(block))
    out += base
    return out.reshape(-1)[: stop - start]


@lru_cache(maxsize=8)
def _ramp(block: int) -> np.ndarray:
    """k / block for k in 0..block-1 (float32, read-only): the interpolation weights."""
    ramp = np.arange(block, dtype=np.float32) / np.float32(block)
    ramp.setflags(write=False)
    return ramp


def chunks(n_samples: int, *, block: int, size: int = 1 << 15) -> list[tuple[int, int]]:
    """[start, stop) spans covering n_samples, each starting on a multiple of `block` and about
    `size` samples long (small enough that a chunk's temporaries stay in cache)."""
    step = max(block, size // block * block)
    return [(a, min(a + step, n_samples)) for a in range(0, n_samples, step)]
