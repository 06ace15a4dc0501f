"""Automation curves as a human would draw them: a dense control curve thinned to few points.

`thin_points` is Ramer-Douglas-Peucker: keep the ends, then keep the point farthest from the
chord of each span while it is farther than the tolerance. Straight-line interpolation through
the kept points is then within the tolerance at every original point (the guarantee the session
files' envelopes rely on), with points only where the curve bends.
"""

from __future__ import annotations

import numpy as np


def thin_points(times: np.ndarray, values: np.ndarray, *,
                tolerance: float | np.ndarray) -> np.ndarray:
    """Indices (ascending) of the points to keep so that linear interpolation through them is
    within `tolerance` (a number, or one per point) of `values` at every `times`.

    times must be strictly increasing; the first and last points are always kept.
    """
    t = np.asarray(times, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if t.ndim != 1 or t.shape != v.shape:
        raise ValueError(f"times and values must be 1-d and alike, got {t.shape} and {v.shape}")
    tol = np.broadcast_to(np.asarray(tolerance, dtype=np.float64), t.shape)
    if np.any(tol <= 0) or not np.all(np.isfinite(v)):
        raise ValueError("tolerance must be positive and values finite")
    if t.size <= 2:
        return np.arange(t.size)
    if np.any(np.diff(t) <= 0):
        raise ValueError("times must be strictly increasing")
    keep = np.zeros(t.size, dtype=bool)
    keep[0] = keep[-1] = True
    stack = [(0, t.size - 1)]
    while stack:
        lo, hi = stack.pop()
        if hi - lo < 2:
            continue
        inner = slice(lo + 1, hi)
        chord = v[lo] + (v[hi] - v[lo]) * (t[inner] - t[lo]) / (t[hi] - t[lo])
        excess = np.abs(v[inner] - chord) / tol[inner]
        worst = int(np.argmax(excess))
        if excess[worst] > 1.0:
            mid = lo + 1 + worst
            keep[mid] = True
            stack.append((lo, mid))
            stack.append((mid, hi))
    return np.flatnonzero(keep)


def envelope_at(times: np.ndarray, points_t: np.ndarray, points_v: np.ndarray) -> np.ndarray:
    """An envelope's value at `times`: linear between points, held before the first and after
    the last (how DAWs play a track envelope with linear point shapes)."""
    return np.interp(np.asarray(times, dtype=np.float64), points_t, points_v)
