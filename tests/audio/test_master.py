"""Master stage: loudness to target, true peak under the ceiling, stems sum to the mix, silence."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import signal

from audio.master import (
    MasterConfig,
    MasterPlan,
    SavedLimiter,
    apply_master,
    limiter_envelope_db,
    master,
    measure_loudness,
    plan_master,
    true_peak_db,
)
from audio.spool import DiskAudio
from video.base.errors import Cancelled
from video.base.timebase import SAMPLE_RATE

SECONDS = 6


def independent_true_peak_db(audio: np.ndarray) -> float:
    """4x true peak through scipy's default polyphase filter (a BS.1770-style meter), not the
    module's own interpolator."""
    up = signal.resample_poly(np.asarray(audio, np.float64), 4, 1, axis=-1)
    return 20.0 * math.log10(float(np.max(np.abs(up))))


def ideal_true_peak_db(audio: np.ndarray) -> float:
    """Peak of the ideal band-limited reconstruction (8x FFT resampling)."""
    up = signal.resample(np.asarray(audio, np.float64), audio.shape[1] * 8, axis=-1)
    return 20.0 * math.log10(float(np.max(np.abs(up))))


def transient_stems(rng: np.random.Generator, *, hits: int = 14, scale: float = 1.0,
                    bandwidth_hz: float | None = None) -> dict[int, np.ndarray]:
    """Two stems: a noise bed and hard decaying hits (crest factor far above the ceiling),
    white or band-limited to `bandwidth_hz`."""
    n = SECONDS * SAMPLE_RATE
    bed = 0.02 * rng.standard_normal((2, n))
    perc = np.zeros((2, n))
    decay = np.exp(-np.arange(4800) / 300.0)
    for start in rng.integers(0, n - 4800, size=hits):
        hit = rng.standard_normal(4800) * decay * rng.uniform(0.5, 2.5)
        perc[0, start:start + 4800] += 0.9 * hit
        perc[1, start:start + 4800] += 0.5 * hit
    if bandwidth_hz is not None:
        sos = signal.butter(8, bandwidth_hz, fs=SAMPLE_RATE, output="sos")
        bed, perc = signal.sosfiltfilt(sos, bed), signal.sosfiltfilt(sos, perc)
    return {1: (scale * bed).astype(np.float32), 2: (scale * perc).astype(np.float32)}


@pytest.mark.parametrize(("target", "ceiling"), [(-23.0, -1.0), (-16.0, -1.0), (-31.0, -6.0)])
def test_loud_transients_reach_target_under_ceiling(target: float, ceiling: float,
                                                    rng: np.random.Generator) -> None:
    """Asked to reach the target whatever limiting it takes (`max_limiting_db` 60), the
    limiter brings hits 17 dB over the ceiling under it and the mix to the target."""
    stems = transient_stems(rng)
    result = master(stems, n_samples=SECONDS * SAMPLE_RATE,
                    config=MasterConfig(target_lufs=target, true_peak_db=ceiling,
                                        max_limiting_db=60.0))
    assert measure_loudness(result.mix) == pytest.approx(target, abs=0.5)
    assert true_peak_db(result.mix) <= ceiling + 0.1
    assert independent_true_peak_db(result.mix) <= ceiling + 0.1
    rep = result.report
    assert rep["lufs_after"] == pytest.approx(measure_loudness(result.mix), abs=0.01)
    assert rep["true_peak_after_db"] == pytest.approx(true_peak_db(result.mix), abs=0.02)
    assert rep["true_peak_before_db"] > ceiling + 6.0
    assert rep["limiter"]["samples"] > 0 and rep["limiter"]["max_reduction_db"] > 1.0
    assert rep["limiter"]["regions_total"] >= 1
    assert rep["limiter"]["seconds"] == pytest.approx(rep["limiter"]["samples"] / SAMPLE_RATE,
                                                      abs=1e-3)


def test_band_limited_material_is_under_the_ideal_true_peak(rng: np.random.Generator) -> None:
    """Content up to 18 kHz (like most recorded foley): even the ideal reconstruction's peak,
    not only a 4x meter's, stays under the ceiling."""
    stems = transient_stems(rng, bandwidth_hz=18_000.0)
    result = master(stems, n_samples=SECONDS * SAMPLE_RATE,
                    config=MasterConfig(max_limiting_db=60.0))
    assert ideal_true_peak_db(stems[2]) > 3.0
    assert ideal_true_peak_db(result.mix) <= -1.0 + 0.1
    assert measure_loudness(result.mix) == pytest.approx(-23.0, abs=0.5)


@pytest.mark.parametrize("most", [3.0, 9.0])
def test_sparse_hits_are_limited_at_most_so_much(most: float, rng: np.random.Generator) -> None:
    """Hits far above the rest of the mix would need 20 dB of limiting or more to reach -23
    LUFS; the master stops at `max_limiting_db` off the loudest peak, under the ceiling, and
    reports the loudness it reached."""
    stems = transient_stems(rng)
    result = master(stems, n_samples=SECONDS * SAMPLE_RATE,
                    config=MasterConfig(max_limiting_db=most))
    rep = result.report
    assert rep["limiter"]["max_reduction_db"] <= most + 0.1
    assert true_peak_db(result.mix) <= -1.0 + 0.1
    assert rep["lufs_after"] == pytest.approx(measure_loudness(result.mix), abs=0.01)
    assert rep["lufs_after"] < -23.0 - 0.5
    # the gain is as much as that limiting allows: the loudest peak comes out at the ceiling
    # plus `most`, before the limiter takes it back down
    assert rep["true_peak_before_db"] + rep["gain_db"] == pytest.approx(-1.0 + most, abs=0.2)


def test_a_mix_that_needs_little_limiting_still_reaches_the_target(
        rng: np.random.Generator) -> None:
    """The cap leaves ordinary material alone: a bed with moderate hits reaches -23 LUFS."""
    stems = transient_stems(rng)
    stems[2] = (stems[2] * 0.15).astype(np.float32)
    result = master(stems, n_samples=SECONDS * SAMPLE_RATE)
    assert measure_loudness(result.mix) == pytest.approx(-23.0, abs=0.5)
    assert result.report["limiter"]["max_reduction_db"] <= 9.0 + 0.1


def test_stems_sum_to_the_mix_and_share_one_gain(rng: np.random.Generator) -> None:
    stems = transient_stems(rng)
    result = master(stems, n_samples=SECONDS * SAMPLE_RATE)
    total = result.stems[1].astype(np.float64) + result.stems[2]
    np.testing.assert_allclose(total, result.mix, atol=2e-6)
    # every stem got the same time-varying gain (the limiter envelope), channel by channel
    gain1 = result.stems[1][0] / stems[1][0]
    gain2 = result.stems[2][0] / np.where(stems[2][0] == 0, np.nan, stems[2][0])
    both = np.isfinite(gain2) & (np.abs(stems[2][0]) > 1e-3)
    np.testing.assert_allclose(gain1[both], gain2[both], rtol=1e-4)
    # outside the limited regions the gain is the plain loudness gain
    plain = 10.0 ** (result.report["gain_db"] / 20.0)
    assert np.isclose(gain1, plain, rtol=1e-5).mean() > 0.5
    assert gain1.min() < plain * 0.8


def test_quiet_material_gets_one_gain_and_no_limiting(rng: np.random.Generator) -> None:
    n = SECONDS * SAMPLE_RATE
    stems = {5: (0.003 * rng.standard_normal((2, n))).astype(np.float32)}
    result = master(stems, n_samples=n)
    rep = result.report
    assert rep["limiter"]["samples"] == 0 and rep["limiter"]["regions"] == []
    assert rep["gain_db"] == pytest.approx(-23.0 - rep["lufs_before"], abs=1e-3)
    np.testing.assert_allclose(result.stems[5], stems[5] * 10 ** (rep["gain_db"] / 20),
                               rtol=1e-5)
    assert measure_loudness(result.mix) == pytest.approx(-23.0, abs=0.05)
    assert rep["passes"] == 1


@pytest.mark.parametrize("n", [0, 100, SAMPLE_RATE])
def test_silence_is_safe(n: int) -> None:
    stems = {1: np.zeros((2, n), np.float32), 2: np.zeros((2, n // 2), np.float32)}
    result = master(stems, n_samples=n)
    assert result.mix.shape == (2, n) and not np.any(result.mix)
    assert all(s.shape == (2, n) and not np.any(s) for s in result.stems.values())
    rep = result.report
    assert rep["measurable"] is False and rep["gain_db"] == 0.0
    assert rep["lufs_before"] is None and rep["true_peak_after_db"] is None
    assert rep["limiter"]["samples"] == 0
    assert master({}, n_samples=n).mix.shape == (2, n)


@pytest.mark.parametrize(("amplitude", "expected"), [(1.0, 0.0), (0.1, -20.0), (0.01, -40.0)])
def test_loudness_of_a_stereo_997hz_sine(amplitude: float, expected: float) -> None:
    t = np.arange(3 * SAMPLE_RATE) / SAMPLE_RATE
    tone = amplitude * np.sin(2 * math.pi * 997.0 * t)
    assert measure_loudness(np.stack([tone, tone])) == pytest.approx(expected, abs=0.1)
    # one channel only is 3 dB quieter (BS.1770: -3.01 LKFS for a 0 dBFS tone on one channel)
    assert measure_loudness(np.stack([tone, 0 * tone])) == pytest.approx(expected - 3.01,
                                                                         abs=0.1)


def test_loudness_of_short_and_silent_clips() -> None:
    t = np.arange(SAMPLE_RATE // 5) / SAMPLE_RATE                    # 200 ms < one block
    tone = 0.1 * np.sin(2 * math.pi * 997.0 * t)
    assert measure_loudness(np.stack([tone, tone])) == pytest.approx(-20.0, abs=0.2)
    assert measure_loudness(np.zeros((2, SAMPLE_RATE))) == -math.inf
    assert measure_loudness(np.full((2, SAMPLE_RATE), 1e-6)) == -math.inf   # under the gate


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_meters_reject_non_finite_audio(bad: float) -> None:
    audio = np.zeros((2, SAMPLE_RATE))
    audio[1, 100] = bad
    with pytest.raises(ValueError, match="NaN"):
        measure_loudness(audio)
    with pytest.raises(ValueError, match="NaN"):
        true_peak_db(audio)


def test_true_peak_finds_intersample_peaks() -> None:
    n = SAMPLE_RATE
    phase = math.pi / 4                                              # samples miss the crest
    tone = 0.5 * np.sin(2 * math.pi * (SAMPLE_RATE / 4) * np.arange(n) / SAMPLE_RATE + phase)
    stereo = np.stack([tone, 0.1 * tone])
    sample_peak = 20 * math.log10(float(np.max(np.abs(tone))))
    assert sample_peak == pytest.approx(20 * math.log10(0.5) - 3.01, abs=0.01)
    assert true_peak_db(stereo) == pytest.approx(20 * math.log10(0.5), abs=0.1)
    assert true_peak_db(np.zeros((2, 10))) == -math.inf


def test_limiter_envelope_covers_every_need_and_releases() -> None:
    need = np.zeros(20_000)
    need[5000] = 12.0
    need[5003] = 3.0
    need[15_000:15_050] = 4.0
    env = limiter_envelope_db(need, attack_samples=72, release_samples=2880, hold_samples=480)
    assert np.all(env >= need - 1e-9)
    assert np.all(env[:4800] == 0.0) and np.all(env[-1500:] == 0.0)   # untouched far away
    assert np.max(np.abs(np.diff(env))) <= 6.0 / 72 * 1.01            # no faster than attack
    assert env[5000 + 480 + 2880] == pytest.approx(6.0, abs=0.3)      # hold, then 6 dB/release
    assert not np.any(limiter_envelope_db(np.zeros(10), attack_samples=72,
                                          release_samples=100, hold_samples=0))


def test_progress_is_reported_and_cancel_propagates(rng: np.random.Generator) -> None:
    stems = {k: v[:, : 2 * SAMPLE_RATE] for k, v in transient_stems(rng, hits=3).items()}
    seen: list[float] = []
    master(stems, n_samples=2 * SAMPLE_RATE, progress=lambda f, m: seen.append(f))
    assert seen[0] < 0.2 and seen[-1] == 1.0 and seen == sorted(seen)

    def cancel(fraction: float, message: str) -> None:
        if fraction > 0.05:
            raise Cancelled()

    with pytest.raises(Cancelled):
        master(stems, n_samples=2 * SAMPLE_RATE, progress=cancel)


@pytest.mark.parametrize("kwargs", [
    {"target_lufs": 3.0}, {"target_lufs": -80.0}, {"true_peak_db": 0.5}, {"oversample": 0},
    {"attack_ms": 0.0}, {"hold_ms": -1.0}, {"max_passes": 0},
])
def test_bad_config_is_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        MasterConfig(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("stem", "message"), [
    (np.zeros((3, 100), np.float32), "stereo"),
    (np.zeros((2, 2, 2), np.float32), "stereo"),
    (np.zeros(100, np.float32), "stereo"),
    (np.array([[0.0] * 99 + [np.nan]] * 2, np.float32), "NaN"),
    (np.array([[0.0] * 99 + [np.inf]] * 2, np.float32), "NaN"),
])
def test_bad_stems_are_rejected(stem: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        master({1: np.zeros((2, 100), np.float32), 2: stem}, n_samples=100)


@pytest.mark.parametrize(("channels", "seconds", "level"), [
    (2, 3.0, 0.1), (2, 7.03, 0.3), (1, 1.234, 0.01), (2, 0.15, 0.2), (2, 2.0, 3e-4),
])
def test_loudness_agrees_with_pyloudnorm(channels: int, seconds: float, level: float,
                                         rng: np.random.Generator) -> None:
    """The float32 K-weighting meter against pyloudnorm's float64 reference, on material with
    loud and quiet stretches (so both gates matter) and lengths that are not whole blocks."""
    import pyloudnorm

    n = int(seconds * SAMPLE_RATE)
    swell = 10.0 ** (-2.0 * (1.0 + np.sin(np.linspace(0.0, 9.0, n))))      # 0 .. -80 dB
    audio = level * rng.standard_normal((channels, n)) * swell
    audio[:, : n // 7] *= 1e-3                                             # under the gate
    meter = pyloudnorm.Meter(SAMPLE_RATE, block_size=min(0.4, n / SAMPLE_RATE))
    expected = meter.integrated_loudness(audio.T)
    assert measure_loudness(audio) == pytest.approx(expected, abs=0.01)
    assert measure_loudness(audio.astype(np.float32)) == pytest.approx(expected, abs=0.01)


def test_true_peak_is_exact_where_only_the_loud_blocks_are_oversampled(
        rng: np.random.Generator) -> None:
    """Adversarial material: a quiet bed with bursts whose signs alternate in the pattern that
    makes the interpolator overshoot most (far more than 3 dB over the sample peak). The
    selective detector must find the same peak as oversampling every sample."""
    from audio.master import _interpolator, _interval_peaks

    n = 4 * SAMPLE_RATE
    audio = 0.01 * rng.standard_normal((2, n))
    taps = _interpolator(8)[4::8][::-1]                     # one phase, as applied to samples
    worst = np.sign(taps).astype(np.float64)
    for start, level in ((30_000, 0.3), (100_000, 0.25), (150_000, 0.1)):
        audio[0, start:start + worst.size] = level * worst
    full = float(np.max(_interval_peaks(audio, 8)))
    sample = float(np.max(np.abs(audio)))
    assert 20 * math.log10(full / sample) > 4.0                          # a real overshoot
    assert true_peak_db(audio, oversample=8) == pytest.approx(20 * math.log10(full), abs=1e-4)


def test_in_place_master_scales_the_given_stems(rng: np.random.Generator) -> None:
    stems = transient_stems(rng)
    copies = {k: v.copy() for k, v in stems.items()}
    plain = master(copies, n_samples=SECONDS * SAMPLE_RATE)
    for k in stems:
        np.testing.assert_array_equal(copies[k], stems[k])               # not touched
    given = {k: v.copy() for k, v in stems.items()}
    result = master(given, n_samples=SECONDS * SAMPLE_RATE, in_place=True)
    for k in stems:
        assert np.shares_memory(result.stems[k], given[k])
        np.testing.assert_allclose(result.stems[k], plain.stems[k], atol=1e-7)
    assert result.report == plain.report


# ------------------------------------------------------------------ the master in blocks


@pytest.mark.parametrize(("target", "ceiling", "frames"), [
    (-14.0, -6.0, 50_000),      # heavy limiting: spans straddle the blocks
    (-23.0, -1.0, 1 << 18),
    (-40.0, -1.0, 7_777),       # no limiting at all
])
def test_plan_master_on_a_spool_and_apply_in_blocks_equal_master(
        tmp_path: Path, rng: np.random.Generator, target: float, ceiling: float,
        frames: int) -> None:
    """The streamed route (mix measured from a DiskAudio spool, gains applied a block at a
    time) gives the same report and the same samples, bit for bit, as `master` on arrays."""
    stems = transient_stems(rng, scale=3.0)
    n = SECONDS * SAMPLE_RATE
    config = MasterConfig(target_lufs=target, true_peak_db=ceiling)
    whole = master({k: v.copy() for k, v in stems.items()}, n_samples=n, config=config)
    spool = DiskAudio.create(tmp_path / "mix.f32", channels=2, n_samples=n)
    for oid in sorted(stems):
        for start in range(0, n, 40_000):
            spool.add(start, stems[oid][:, start:start + 40_000])
    plan = plan_master(spool, config=config)
    assert plan.report == whole.report
    assert len(plan.spans) == len(whole.limiter)
    if target == -14.0:
        assert whole.report["limiter"]["samples"] > 0
    saved = [(lo, hi, g.copy()) for lo, hi, g in plan.spans]   # as a cached plan keeps them
    reloaded = MasterPlan(scale=plan.scale, report=plan.report,
                          limiter=SavedLimiter(saved, n) if saved else None)
    for again in (plan, reloaded):
        for audio, expected in [(spool.read(0, n), whole.mix), (stems[2], whole.stems[2])]:
            blocks = [apply_master(audio[:, a:a + frames], a, again) for a in range(0, n, frames)]
            np.testing.assert_array_equal(np.concatenate(blocks, axis=1), expected)


def test_limiter_made_in_grid_blocks_equals_the_whole_envelope_in_any_order() -> None:
    """A 40 s pulse train loud enough that the limiter acts in every grid block: the blockwise
    gain equals the envelope computed over the whole signal at once (limiter_envelope_db of
    the same needs) to 1e-9, and whichever order its blocks are asked for, the same samples."""
    from audio.master import _GRID, Limiter, _PeakMap

    n = 40 * SAMPLE_RATE
    t = np.arange(n) / SAMPLE_RATE
    pulses = (np.sin(2 * np.pi * 220.0 * t) * np.exp(-((t % 0.37) / 0.03))).astype(np.float32)
    mix = np.stack([pulses, 0.8 * pulses])
    config = MasterConfig()
    peak_map = _PeakMap(mix, config.oversample)
    scale = 10.0 ** (12.0 / 20.0)
    limiter = Limiter(peak_map, scale, config, margin_db=0.05)
    assert limiter.ranges == [(0, n)]
    need = np.zeros(n)
    hot = peak_map.hot(0, n, limiter.threshold)
    need[hot > 0] = 20.0 * np.log10(hot[hot > 0] * scale) - limiter.limit_db
    ms = SAMPLE_RATE / 1000.0
    env = limiter_envelope_db(np.maximum(need, 0.0), attack_samples=config.attack_ms * ms,
                              release_samples=config.release_ms * ms,
                              hold_samples=int(round(config.hold_ms * ms)))
    forward = limiter.gain(0, n)
    np.testing.assert_allclose(forward, 10.0 ** (-env / 20.0), rtol=1e-9, atol=0)
    assert np.all(20.0 * np.log10(forward[need > 0]) <= -need[need > 0] + 1e-9)
    fresh = Limiter(peak_map, scale, config, margin_db=0.05)
    backward = np.ones(n)
    for a in reversed(range(0, n, 50_001)):      # not on the grid, last block first
        backward[a:a + 50_001] = fresh.gain(a, min(n, a + 50_001))
    np.testing.assert_array_equal(backward, forward)
    assert n > 10 * _GRID
