"""The analysis's own peak picking and Savitzky-Golay derivatives: the same answers as
scipy.signal's (which the analysis no longer imports: half a second of start-up)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from video.peaks import find_peaks, local_maxima, savgol_derivative, strict_maxima


def _signals(rng: np.random.Generator) -> list[np.ndarray]:
    t = np.arange(600)
    walk = np.sin(2 * np.pi * t / 17) + 0.3 * rng.standard_normal(t.size)
    stairs = np.round(np.cumsum(rng.standard_normal(400)))          # many flat tops
    return [walk, stairs, rng.standard_normal(1000), np.zeros(50), np.array([1.0, 2.0]),
            np.array([0.0, 1.0, 1.0, 1.0, 0.0, 2.0, 2.0]), np.array([3.0, 3.0, 1.0, 2.0, 1.0])]


@pytest.mark.parametrize(("prominence", "distance"), [
    (None, None), (0.5, None), (None, 6), (0.2, 4.5), (2.0, 12), (0.0, 1)])
def test_find_peaks_agrees_with_scipy(prominence: float | None, distance: float | None,
                                      rng: np.random.Generator) -> None:
    for x in _signals(rng):
        ours, props = find_peaks(x, prominence=prominence, distance=distance)
        theirs, expected = signal.find_peaks(x, prominence=prominence, distance=distance)
        np.testing.assert_array_equal(ours, theirs)
        if prominence is not None:
            np.testing.assert_allclose(props["prominences"], expected["prominences"])
        else:
            assert props == {}


def test_local_and_strict_maxima_agree_with_scipy(rng: np.random.Generator) -> None:
    for x in _signals(rng):
        np.testing.assert_array_equal(local_maxima(x), signal.find_peaks(x)[0])
        np.testing.assert_array_equal(strict_maxima(x), signal.argrelmax(x)[0])


def test_a_long_noisy_signal_is_quick_and_right(rng: np.random.Generator) -> None:
    """An hour of a walker's foot separation at 30 fps: thousands of small maxima."""
    x = np.sin(np.arange(108_000) * 2 * np.pi / 17) + 0.2 * rng.standard_normal(108_000)
    ours, props = find_peaks(x, prominence=0.8, distance=6)
    theirs, expected = signal.find_peaks(x, prominence=0.8, distance=6)
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_allclose(props["prominences"], expected["prominences"])


@pytest.mark.parametrize(("window", "order", "deriv"), [(7, 2, 0), (7, 2, 1), (9, 2, 2),
                                                        (11, 3, 1), (5, 4, 3)])
def test_savgol_derivative_is_scipys_valid_part(window: int, order: int, deriv: int,
                                                rng: np.random.Generator) -> None:
    x = np.cumsum(rng.standard_normal((120, 2)), axis=0)
    half = window // 2
    expected = signal.savgol_filter(x, window, order, deriv=deriv, axis=0)[half:-half]
    np.testing.assert_allclose(savgol_derivative(x, window, order=order, deriv=deriv),
                               expected, atol=1e-9)
    # a parabola's second derivative is its curvature, exactly
    t = np.arange(40.0)
    assert np.allclose(savgol_derivative(3.0 * t**2 - t, window, order=max(order, 2),
                                         deriv=2), 6.0) or deriv != 2


@pytest.mark.parametrize(("window", "order", "deriv"), [(6, 2, 0), (3, 3, 0), (7, 2, 3),
                                                        (7, 2, -1)])
def test_savgol_derivative_rejects_bad_windows(window: int, order: int, deriv: int) -> None:
    with pytest.raises(ValueError, match="odd window"):
        savgol_derivative(np.zeros(50), window, order=order, deriv=deriv)


@pytest.mark.parametrize(("kwargs", "message"), [({"distance": 0.5}, "distance"),
                                                 ({"x": np.zeros((3, 3))}, "1-D")])
def test_find_peaks_rejects_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    x = kwargs.pop("x", np.zeros(10))
    with pytest.raises(ValueError, match=message):
        find_peaks(x, **kwargs)  # type: ignore[arg-type]
