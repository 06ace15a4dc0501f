"""Pan laws: centre gains, endpoints, law identities, and the level-based pan estimate."""

from __future__ import annotations

import math

import numpy as np
import pytest

from audio.pan import PAN_LAWS, estimate_pan, pan_gains


def db(x: float) -> float:
    return 20.0 * math.log10(x)


@pytest.mark.parametrize(("law", "centre_db"), [
    ("-3dB", -3.0103), ("0dB", 0.0), ("-4.5dB", -4.5154), ("-6dB", -6.0206),
])
def test_centre_gain_is_the_laws_name(law: str, centre_db: float) -> None:
    left, right = pan_gains(np.array([0.0]), law=law)
    assert db(float(left[0])) == pytest.approx(centre_db, abs=0.01)
    assert db(float(right[0])) == pytest.approx(centre_db, abs=0.01)


@pytest.mark.parametrize("law", PAN_LAWS)
def test_endpoints_are_hard_left_and_right(law: str) -> None:
    left, right = pan_gains(np.array([-1.0, 1.0]), law=law)
    np.testing.assert_allclose(left, [1.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(right, [0.0, 1.0], atol=1e-6)


@pytest.mark.parametrize("law", PAN_LAWS)
def test_gains_are_monotonic_and_mirror_symmetric(law: str) -> None:
    p = np.linspace(-1.0, 1.0, 201)
    left, right = pan_gains(p, law=law)
    assert np.all(np.diff(left) <= 1e-7) and np.all(np.diff(right) >= -1e-7)
    np.testing.assert_allclose(left, right[::-1], atol=1e-6)


def test_law_identities() -> None:
    p = np.linspace(-1.0, 1.0, 41)
    l3, r3 = pan_gains(p, law="-3dB")
    np.testing.assert_allclose(l3**2 + r3**2, 1.0, atol=1e-6)       # constant power
    l6, r6 = pan_gains(p, law="-6dB")
    np.testing.assert_allclose(l6 + r6, 1.0, atol=1e-6)             # constant amplitude
    l0, r0 = pan_gains(p, law="0dB")
    assert np.all(np.maximum(l0, r0) == 1.0)                         # louder side at unity
    l45, r45 = pan_gains(p, law="-4.5dB")
    np.testing.assert_allclose(l45, np.sqrt(l3 * l6), atol=1e-6)


def test_pan_outside_range_is_clipped() -> None:
    left, right = pan_gains(np.array([-3.0, 2.5]), law="-3dB")
    np.testing.assert_allclose(left, [1.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(right, [0.0, 1.0], atol=1e-6)


@pytest.mark.parametrize("law", ["-3", "3dB", "", "linear"])
def test_unknown_law_is_rejected(law: str) -> None:
    with pytest.raises(ValueError, match="pan law"):
        pan_gains(np.zeros(3), law=law)


@pytest.mark.parametrize("p", [-1.0, -0.6, -0.25, 0.0, 0.3, 0.75, 1.0])
def test_estimate_pan_inverts_constant_power_law(p: float, rng: np.random.Generator) -> None:
    noise = rng.standard_normal(48_000).astype(np.float32)
    left, right = pan_gains(np.array(p), law="-3dB")
    stereo = np.stack([noise * left, noise * right])
    assert estimate_pan(stereo) == pytest.approx(p, abs=1e-4)


@pytest.mark.parametrize(("stereo", "expected"), [
    (np.zeros((2, 100)), 0.0),            # silence reads as centre
    (np.zeros((2, 0)), 0.0),              # empty
    (np.ones((2, 10)), 0.0),
    (np.vstack([np.ones(10), np.zeros(10)]), -1.0),
    (np.vstack([np.zeros(10), np.ones(10)]), 1.0),
])
def test_estimate_pan_edge_cases(stereo: np.ndarray, expected: float) -> None:
    assert estimate_pan(stereo) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("shape", [(100,), (1, 100), (3, 100)])
def test_estimate_pan_rejects_non_stereo(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=r"\(2, n\)"):
        estimate_pan(np.zeros(shape))
