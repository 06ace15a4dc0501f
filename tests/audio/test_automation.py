"""Envelope thinning: the kept points stay within the tolerance everywhere, and are few."""

from __future__ import annotations

import numpy as np
import pytest

from audio.automation import envelope_at, thin_points


@pytest.mark.parametrize("tolerance", [0.01, 0.001])
def test_thinned_envelope_is_within_tolerance_and_short(tolerance: float,
                                                        rng: np.random.Generator) -> None:
    t = np.arange(20_000) / 1000.0                       # 20 s at 1 kHz
    curve = np.cumsum(rng.standard_normal(t.size))
    curve = np.convolve(curve, np.hanning(301) / np.hanning(301).sum(), mode="same")
    curve = np.clip(curve / np.max(np.abs(curve)), -1, 1)
    keep = thin_points(t, curve, tolerance=tolerance)
    assert keep[0] == 0 and keep[-1] == t.size - 1 and np.all(np.diff(keep) > 0)
    drawn = envelope_at(t, t[keep], curve[keep])
    assert np.max(np.abs(drawn - curve)) <= tolerance + 1e-12
    assert keep.size < t.size / 20


def test_straight_lines_keep_their_corners_only() -> None:
    t = np.arange(11, dtype=np.float64)
    v = np.array([0, 1, 2, 3, 4, 5, 4, 3, 2, 2, 2], dtype=np.float64)
    assert list(thin_points(t, v, tolerance=1e-6)) == [0, 5, 8, 10]


def test_relative_tolerance_per_point() -> None:
    t = np.arange(5, dtype=np.float64)
    v = np.array([1.0, 1.02, 1.0, 100.0, 100.0])
    assert 1 not in thin_points(t, v, tolerance=0.05 * v)
    assert 1 in thin_points(t, v, tolerance=0.001 * v)


@pytest.mark.parametrize("times, values, tolerance, message", [
    ([0, 1, 1], [0, 0, 0], 0.1, "increasing"),
    ([0, 1, 2], [0, np.nan, 0], 0.1, "finite"),
    ([0, 1, 2], [0, 0, 0], 0.0, "positive"),
    ([0, 1], [0, 0, 0], 0.1, "alike"),
])
def test_bad_input(times: list, values: list, tolerance: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        thin_points(np.array(times, float), np.array(values, float), tolerance=tolerance)
