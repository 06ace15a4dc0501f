"""Peaks and smoothed derivatives of short 1-D signals, in numpy.

The analysis needs three small pieces of `scipy.signal`: peak picking with a prominence floor
and a minimum distance (steps in a box's bob, a foot's swing), strict local maxima, and
Savitzky-Golay derivatives (a thrown object's acceleration). Importing `scipy.signal` costs
about half a second of every `stereofoley analyze` (it pulls in scipy.stats, linalg and
optimize), more than the analysis of a short clip spends in these functions, so they are
written here with scipy's semantics (the tests compare them with scipy).
"""

from __future__ import annotations

import math

import numpy as np


def local_maxima(x: np.ndarray) -> np.ndarray:
    """Indices of the local maxima of x, a flat top counted once at its middle (rounded down),
    the first and last samples never (scipy.signal's `_local_maxima_1d`)."""
    x = np.asarray(x, dtype=np.float64)
    if x.size < 3:
        return np.zeros(0, dtype=np.intp)
    step = np.diff(x)
    moves = np.flatnonzero(step != 0)          # plateaus collapse to their first sample
    if moves.size < 2:
        return np.zeros(0, dtype=np.intp)
    rise = step[moves] > 0
    top = np.flatnonzero(rise[:-1] & ~rise[1:])   # a rise then a fall
    left = moves[top] + 1                          # first sample of the flat top
    right = moves[top + 1]                         # last sample of the flat top
    return (left + (right - left) // 2).astype(np.intp)


def prominences(x: np.ndarray, peaks: np.ndarray) -> np.ndarray:
    """Each peak's prominence: its height over the higher of the lowest points between it and
    the nearest higher sample on either side (or the signal's end)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty(len(peaks))
    for i, peak in enumerate(np.asarray(peaks, dtype=np.intp)):
        out[i] = x[peak] - max(_side_min(x, int(peak), -1), _side_min(x, int(peak), 1))
    return out


def _side_min(x: np.ndarray, peak: int, direction: int) -> float:
    """Lowest sample between x[peak] and the nearest higher one on one side (or the end),
    looked for in growing windows: the higher sample is usually near."""
    level, width = x[peak], 16
    while True:
        if direction < 0:
            start = max(0, peak - width)
            side, done = x[start:peak + 1][::-1], start == 0
        else:
            stop = min(x.size, peak + width + 1)
            side, done = x[peak:stop], stop == x.size
        higher = np.flatnonzero(side > level)
        if higher.size:
            return float(side[:higher[0]].min())
        if done:
            return float(side.min())
        width *= 4


def _by_distance(peaks: np.ndarray, heights: np.ndarray, distance: float) -> np.ndarray:
    """Keep the highest peaks first, dropping any closer than `distance` to a kept one."""
    gap = math.ceil(distance)
    keep = np.ones(peaks.size, dtype=bool)
    for j in np.argsort(heights)[::-1]:     # as scipy orders ties (numpy's default sort)
        if not keep[j]:
            continue
        k = j - 1
        while k >= 0 and peaks[j] - peaks[k] < gap:
            keep[k], k = False, k - 1
        k = j + 1
        while k < peaks.size and peaks[k] - peaks[j] < gap:
            keep[k], k = False, k + 1
    return keep


def find_peaks(x: np.ndarray, *, prominence: float | None = None,
               distance: float | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Local maxima of x at least `distance` samples apart (the higher one wins) and at least
    `prominence` prominent: (indices, {"prominences": ...} when a prominence is asked for), as
    `scipy.signal.find_peaks(x, prominence=..., distance=...)`."""
    if distance is not None and distance < 1:
        raise ValueError(f"distance must be >= 1, got {distance}")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"find_peaks needs a 1-D signal, got shape {x.shape}")
    peaks = local_maxima(x)
    if distance is not None and peaks.size:
        peaks = peaks[_by_distance(peaks, x[peaks], distance)]
    props: dict[str, np.ndarray] = {}
    if prominence is not None:
        prom = prominences(x, peaks)
        keep = prom >= prominence
        peaks, props["prominences"] = peaks[keep], prom[keep]
    return peaks, props


def strict_maxima(x: np.ndarray) -> np.ndarray:
    """Indices i (0 < i < n - 1) with x[i] above both neighbours (`scipy.signal.argrelmax`)."""
    x = np.asarray(x)
    if x.size < 3:
        return np.zeros(0, dtype=np.intp)
    return (np.flatnonzero((x[1:-1] > x[:-2]) & (x[1:-1] > x[2:])) + 1).astype(np.intp)


def savgol_derivative(x: np.ndarray, window: int, *, order: int = 2, deriv: int = 0
                      ) -> np.ndarray:
    """The `deriv`-th derivative (per sample) of a least-squares polynomial of `order` fitted
    over each `window` samples of x along axis 0, at the window's centre: the valid part
    (`window // 2` samples shorter at each end) of `scipy.signal.savgol_filter`."""
    if window % 2 == 0 or window <= order or deriv > order or deriv < 0:
        raise ValueError(f"need an odd window > order >= deriv >= 0, got window {window}, "
                         f"order {order}, deriv {deriv}")
    x = np.asarray(x, dtype=np.float64)
    half = window // 2
    if x.shape[0] < window:
        return np.zeros((0, *x.shape[1:]))
    z = np.arange(-half, half + 1, dtype=np.float64)
    fit = np.linalg.pinv(np.vander(z, order + 1, increasing=True))   # (order + 1, window)
    weights = fit[deriv] * math.factorial(deriv)
    windows = np.lib.stride_tricks.sliding_window_view(x, window, axis=0)
    return np.asarray(windows @ weights)
