"""audio.groups: a group stem is the sum of its members; short/quiet measured on stems with
known audible durations and levels."""

from __future__ import annotations

import math

import numpy as np
import pytest

from audio.groups import FoldConfig, StemLevel, block_power, fold_reasons, stem_level, sum_stems

SR = 48_000


def _burst(seconds: float, rms: float, *, total: float = 4.0, at: float = 0.5,
           seed: int = 0) -> np.ndarray:
    """A stereo stem of `total` s, silent but for `seconds` of noise of RMS `rms` from `at`."""
    rng = np.random.default_rng(seed)
    out = np.zeros((2, int(total * SR)), dtype=np.float32)
    a, b = int(at * SR), int((at + seconds) * SR)
    noise = rng.standard_normal((2, b - a))
    out[:, a:b] = noise / np.sqrt(np.mean(noise ** 2)) * rms
    return out


def test_sum_stems_is_the_sample_sum_of_the_members() -> None:
    stems = {i: _burst(1.0, 0.05 * (i + 1), seed=i) for i in range(4)}
    total = sum_stems(stems, [0, 2, 3], 4 * SR)
    assert total.dtype == np.float32 and total.shape == (2, 4 * SR)
    np.testing.assert_allclose(total, stems[0] + stems[2] + stems[3], atol=1e-7)
    assert not np.any(sum_stems(stems, [], 10))


def test_sum_stems_refuses_a_stem_of_another_length() -> None:
    with pytest.raises(ValueError, match="stem 1"):
        sum_stems({1: np.zeros((2, 10), np.float32)}, [1], 12)


@pytest.mark.parametrize(("seconds", "rms"), [(0.5, 0.1), (1.5, 0.01), (3.0, 0.3),
                                              (0.05, 0.1)])
def test_stem_level_measures_audible_seconds_and_active_level(seconds: float, rms: float
                                                              ) -> None:
    level = stem_level(_burst(seconds, rms))
    assert level.audible_s == pytest.approx(seconds, abs=0.05)   # within one 50 ms block
    assert level.level_db == pytest.approx(20 * math.log10(rms), abs=0.6)


def test_a_silent_stem_is_never_audible() -> None:
    level = stem_level(np.zeros((2, SR), np.float32))
    assert level == StemLevel(0.0, -math.inf)
    # below the -60 dBFS floor counts as silence too
    assert stem_level(_burst(2.0, 10 ** (-70 / 20))).audible_s == 0.0


def test_block_power_counts_the_last_partial_block() -> None:
    audio = np.ones((2, 10), np.float32)
    audio[:, 8:] = 2.0
    np.testing.assert_allclose(block_power(audio, 4), [1.0, 1.0, 4.0])


MIX = StemLevel(audible_s=4.0, level_db=-20.0)


@pytest.mark.parametrize(("level", "reasons"), [
    (StemLevel(3.0, -22.0), ()),                      # long and loud: a file of its own
    (StemLevel(0.4, -22.0), ("short",)),              # a brief appearance
    (StemLevel(3.0, -55.0), ("quiet",)),              # 35 dB under the mix
    (StemLevel(3.0, -49.0), ()),                      # 29 dB under: not yet quiet
    (StemLevel(0.2, -60.0), ("short", "quiet")),
    (StemLevel(0.0, -math.inf), ("short", "quiet")),  # silent
    (StemLevel(1.0, -20.0), ()),                      # exactly the threshold: kept
])
def test_fold_reasons_table(level: StemLevel, reasons: tuple[str, ...]) -> None:
    assert fold_reasons(level, MIX) == reasons


def test_fold_reasons_follow_the_config() -> None:
    strict = FoldConfig(short_s=5.0, quiet_db=-10.0)
    assert fold_reasons(StemLevel(3.0, -31.0), MIX, config=strict) == ("short", "quiet")
    assert fold_reasons(StemLevel(3.0, -29.0), MIX, config=strict) == ("short",)


@pytest.mark.parametrize("kwargs", [{"short_s": -1.0}, {"quiet_db": 3.0}, {"block_s": 0.0},
                                    {"floor_dbfs": math.nan}])
def test_fold_config_refuses_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        FoldConfig(**kwargs)


@pytest.mark.parametrize("piece", [1, 777, 2400, 48_000, 10 ** 7])
def test_the_level_meter_on_pieces_equals_the_whole_stem(piece: int) -> None:
    from audio.groups import LevelMeter

    stem = _burst(1.3, 0.02, total=3.01, at=0.71, seed=5) + _burst(0.3, 0.2, total=3.01, at=2.0)
    meter = LevelMeter()
    for start in range(0, stem.shape[1], piece):
        meter.push(stem[:, start:start + piece])
    whole = stem_level(stem)
    assert meter.level().audible_s == whole.audible_s
    assert meter.level().level_db == pytest.approx(whole.level_db, abs=1e-9)
    assert whole.audible_s == pytest.approx(1.3 + 0.3, abs=0.1)
