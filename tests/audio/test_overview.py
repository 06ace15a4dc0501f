"""Waveform overviews: every level's min/max equal numpy's over each bucket of the mono fold,
built a block at a time, patched over a range, saved and mapped back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from audio.overview import build_overview, load_overview, mono_fold, save_overview

LEVELS = (16, 64, 512)


def _signal(n: int, lo: int, hi: int, seed: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.zeros((n, 2), dtype=np.float32)
    out[lo:hi] = rng.standard_normal((hi - lo, 2)).astype(np.float32)
    return out


def _expected(frames: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    mono = frames.mean(axis=1, dtype=np.float32)
    mins = np.array([mono[a:a + size].min() for a in range(0, mono.size, size)])
    maxs = np.array([mono[a:a + size].max() for a in range(0, mono.size, size)])
    return mins, maxs


@pytest.mark.parametrize("n, lo, hi", [(20_000, 0, 20_000), (20_003, 1_000, 7_777),
                                       (50_000, 33_000, 33_001), (4_000, 0, 0)])
def test_levels_equal_numpy_over_each_bucket(n: int, lo: int, hi: int) -> None:
    frames = _signal(n, lo, hi)
    reads: list[tuple[int, int]] = []

    def read(a: int, b: int) -> np.ndarray:
        reads.append((a, b))
        return frames[a:b]

    ov = build_overview(read, n_samples=n, lo=lo, hi=hi, levels=LEVELS)
    for i, size in enumerate(LEVELS):
        mins, maxs = _expected(frames, size)
        assert np.array_equal(ov.level(i)[0], mins)
        assert np.array_equal(ov.level(i)[1], maxs)
    # only the coarsest buckets around [lo, hi) were read
    assert sum(b - a for a, b in reads) <= (hi - lo) + 2 * LEVELS[-1]


def test_patching_a_range_equals_building_again() -> None:
    n = 30_000
    before = _signal(n, 0, n, seed=1)
    after = before.copy()
    after[12_345:15_000] *= -3.0
    base = build_overview(lambda a, b: before[a:b], n_samples=n, levels=LEVELS)
    patched = build_overview(lambda a, b: after[a:b], n_samples=n, lo=12_345, hi=15_000,
                             levels=LEVELS, base=base)
    fresh = build_overview(lambda a, b: after[a:b], n_samples=n, levels=LEVELS)
    assert np.array_equal(patched.data, fresh.data)
    assert not np.array_equal(base.data, fresh.data)


def test_envelope_picks_a_level_and_keeps_extremes() -> None:
    n = 48_000
    frames = np.zeros((n, 2), dtype=np.float32)
    frames[10_000] = (1.0, 1.0)
    frames[30_000] = (-0.5, -0.5)
    ov = build_overview(lambda a, b: frames[a:b], n_samples=n, levels=LEVELS)
    env = ov.envelope(0, n, 100)
    assert env.shape == (2, 100)
    assert env[1, 10_000 * 100 // n] == 1.0 and env[0, 30_000 * 100 // n] == -0.5
    assert env[1].max() == 1.0 and env[0].min() == -0.5
    zoomed = ov.envelope(9_990, 10_010, 40)      # finer than the finest level
    assert zoomed.shape == (2, 40) and zoomed[1].max() == 1.0
    assert not ov.envelope(20_000, 25_000, 10).any()


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    frames = _signal(10_001, 10, 9_000)
    ov = build_overview(lambda a, b: frames[a:b], n_samples=10_001, levels=LEVELS)
    save_overview(ov, tmp_path / "s.peaks")
    back = load_overview(tmp_path / "s.peaks")
    assert back.levels == LEVELS and back.n_samples == 10_001
    assert np.array_equal(back.data, ov.data)
    (tmp_path / "bad.peaks").write_bytes(b"nope" * 100)
    with pytest.raises(ValueError, match="not an overview"):
        load_overview(tmp_path / "bad.peaks")


@pytest.mark.parametrize("levels", [(), (0, 4), (16, 24), (64, 16)])
def test_levels_must_nest(levels: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="levels"):
        build_overview(lambda a, b: np.zeros((b - a, 2), np.float32), n_samples=100,
                       levels=levels)


def test_mono_fold_is_the_channel_mean() -> None:
    frames = np.array([[1.0, 0.0], [0.5, -0.5]], dtype=np.float32)
    assert np.array_equal(mono_fold(frames), np.array([0.5, 0.0], np.float32))
    assert np.array_equal(mono_fold(frames[:, :1]), frames[:, 0])
