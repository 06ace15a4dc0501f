"""Mixer: mute/solo table, stems sum to the mix, lengths and bad shapes."""

from __future__ import annotations

import numpy as np
import pytest

from audio.mix import active_ids, fit_length, mix_stems
from audio.nudges import Nudges

M, S, MS, N = Nudges(mute=True), Nudges(solo=True), Nudges(mute=True, solo=True), Nudges()


@pytest.mark.parametrize(("channels", "expected"), [
    ({}, set()),
    ({1: N, 2: N, 3: N}, {1, 2, 3}),                  # nothing pressed: all play
    ({1: M, 2: N, 3: N}, {2, 3}),                     # mute removes one
    ({1: M, 2: M, 3: M}, set()),
    ({1: S, 2: N, 3: N}, {1}),                        # solo isolates
    ({1: S, 2: S, 3: N}, {1, 2}),                     # solos add up
    ({1: S, 2: M, 3: N}, {1}),
    ({1: MS, 2: N, 3: N}, set()),                     # mute wins over solo, solo mode still on
    ({1: MS, 2: S, 3: N}, {2}),
    ({7: N}, {7}),
])
def test_mute_solo_table(channels: dict[int, Nudges], expected: set[int]) -> None:
    assert active_ids(channels) == expected


@pytest.fixture
def stems(rng: np.random.Generator) -> dict[int, np.ndarray]:
    return {oid: (0.2 * rng.standard_normal((2, 48_000))).astype(np.float32)
            for oid in (3, 1, 2)}


def test_stems_sum_to_the_mix(stems: dict[int, np.ndarray]) -> None:
    mix = mix_stems(stems, {}, n_samples=48_000)
    assert mix.shape == (2, 48_000) and mix.dtype == np.float32
    total = sum(s.astype(np.float64) for s in stems.values())
    np.testing.assert_allclose(mix, total, atol=1e-6)


def test_muted_and_soloed_stems(stems: dict[int, np.ndarray]) -> None:
    mix = mix_stems(stems, {2: Nudges(mute=True)}, n_samples=48_000)
    np.testing.assert_allclose(mix, stems[1] + stems[3], atol=1e-6)
    solo = mix_stems(stems, {3: Nudges(solo=True)}, n_samples=48_000)
    np.testing.assert_array_equal(solo, stems[3])
    ghost_solo = mix_stems(stems, {99: Nudges(solo=True)}, n_samples=48_000)
    assert not np.any(ghost_solo)                      # a soloed object with no stem yet


def test_lengths_are_fitted(stems: dict[int, np.ndarray]) -> None:
    short = {1: stems[1][:, :1000], 2: stems[2]}
    mix = mix_stems(short, {}, n_samples=2000)
    np.testing.assert_allclose(mix[:, :1000], stems[1][:, :1000] + stems[2][:, :1000], atol=1e-6)
    np.testing.assert_allclose(mix[:, 1000:], stems[2][:, 1000:2000], atol=1e-7)
    assert mix_stems({}, {}, n_samples=10).shape == (2, 10)
    assert not np.any(mix_stems({}, {}, n_samples=10))


@pytest.mark.parametrize(("shape", "n", "ok"), [
    ((2, 5), 8, True), ((2, 8), 5, True), ((2, 0), 3, True),
    ((1, 5), 5, False), ((5,), 5, False), ((2, 2, 2), 2, False),
])
def test_fit_length(shape: tuple[int, ...], n: int, ok: bool) -> None:
    data = np.ones(shape, np.float32)
    if not ok:
        with pytest.raises(ValueError, match="stereo"):
            fit_length(data, n)
        return
    out = fit_length(data, n)
    assert out.shape == (2, n)
    assert float(out.sum()) == 2 * min(n, shape[1])


def test_negative_length_is_rejected() -> None:
    with pytest.raises(ValueError, match="n_samples"):
        mix_stems({}, {}, n_samples=-1)
