"""Metrics on synthetic signals with known pan paths, onset times and levels."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from model.lab.metrics import (
    OnsetConfig,
    detect_onsets,
    level_pan,
    loudness_metrics,
    mix_spatial_alignment,
    pearson,
    pool_scores,
    score_events,
    spatial_alignment,
    sync_score,
    track_pan,
    true_peak_db,
)
from video.base.tracks import Track, VideoInfo

SR = 48_000
FPS = Fraction(25)


def _pan(mono: np.ndarray, pan: np.ndarray | float) -> np.ndarray:
    """Constant-power pan law (-3 dB centre) per sample."""
    theta = (np.asarray(pan) + 1.0) * math.pi / 4.0
    return np.stack([mono * np.cos(theta), mono * np.sin(theta)]).astype(np.float32)


def _info(seconds: float = 4.0) -> VideoInfo:
    frames = int(seconds * FPS)
    return VideoInfo(path="synthetic.mp4", width=640, height=360, fps=FPS, duration=seconds,
                     frames=frames)


def _moving_track(info: VideoInfo, x_of_t, track_id: int = 1) -> Track:
    frames = np.arange(info.frames)
    cx = np.array([x_of_t(f / float(info.fps)) for f in frames]) * info.width
    boxes = np.stack([cx - 20, np.full_like(cx, 150), cx + 20, np.full_like(cx, 190)], axis=1)
    return Track(id=track_id, label="ball", frames=frames, boxes=boxes)


def _sample_pan(track: Track, info: VideoInfo, n: int) -> np.ndarray:
    return track_pan(track, info, np.arange(n) / SR)


@pytest.mark.parametrize("pan", [-1.0, -0.5, 0.0, 0.3, 0.7, 1.0])
def test_level_pan_inverts_constant_power_law(rng: np.random.Generator, pan: float) -> None:
    noise = rng.standard_normal(SR).astype(np.float32) * 0.1
    est, level = level_pan(_pan(noise, pan), window_s=0.05)
    assert est.shape == (20,)
    assert np.allclose(est, pan, atol=1e-4)
    assert np.allclose(level, 0.1 / math.sqrt(2), rtol=0.1)


def test_level_pan_rejects_multichannel() -> None:
    with pytest.raises(ValueError, match="stereo"):
        level_pan(np.zeros((3, 4800), dtype=np.float32))


def test_track_pan_maps_x_and_is_nan_outside() -> None:
    info = _info()
    track = Track(id=1, label="x", frames=np.array([25, 50]),
                  boxes=np.array([[0, 0, 64, 10], [576, 0, 640, 10]], dtype=float))
    pans = track_pan(track, info, np.array([0.5, 1.0, 1.5, 2.0, 3.5]))
    assert math.isnan(pans[0]) and math.isnan(pans[4])
    assert pans[1] == pytest.approx(2 * 32 / 640 - 1)
    assert pans[2] == pytest.approx(0.0, abs=1e-9)
    assert pans[3] == pytest.approx(2 * 608 / 640 - 1)


def test_spatial_alignment_follows_a_moving_object(rng: np.random.Generator) -> None:
    info = _info()
    track = _moving_track(info, lambda t: 0.1 + 0.8 * t / 4.0)
    noise = rng.standard_normal(int(4 * SR)).astype(np.float32) * 0.1
    stem = _pan(noise, _sample_pan(track, info, noise.size))
    good = spatial_alignment(stem, track, info)
    assert good.correlation > 0.99
    assert good.mae < 0.03
    assert good.windows >= 75
    mirrored = spatial_alignment(stem[::-1].copy(), track, info)
    assert mirrored.correlation < -0.95
    assert mirrored.mae > 0.5
    centred = spatial_alignment(_pan(noise, 0.0), track, info)
    assert math.isnan(centred.correlation)
    assert centred.mae == pytest.approx(0.4, abs=0.03)  # mean |2x-1| over x in 0.1..0.9


def test_spatial_alignment_only_judges_active_windows(rng: np.random.Generator) -> None:
    info = _info()
    track = _moving_track(info, lambda t: 0.2 + 0.6 * t / 4.0)
    noise = rng.standard_normal(int(4 * SR)).astype(np.float32) * 0.1
    noise[: 2 * SR] = 0.0  # silent first half: those windows must not count
    stem = _pan(noise, _sample_pan(track, info, noise.size))
    score = spatial_alignment(stem, track, info)
    assert 38 <= score.windows <= 40
    assert score.correlation > 0.98


def test_mix_alignment_follows_the_louder_object(rng: np.random.Generator) -> None:
    info = _info()
    left_mover = _moving_track(info, lambda t: 0.5 - 0.4 * t / 4.0, track_id=1)
    right_mover = _moving_track(info, lambda t: 0.5 + 0.4 * t / 4.0, track_id=2)
    n = int(4 * SR)
    env1 = np.where(np.arange(n) < n // 2, 0.2, 0.02)  # loud first half, quiet second half
    env2 = env1[::-1]
    s1 = _pan(rng.standard_normal(n) * env1, _sample_pan(left_mover, info, n))
    s2 = _pan(rng.standard_normal(n) * env2, _sample_pan(right_mover, info, n))
    score = mix_spatial_alignment(s1 + s2, [s1, s2], [left_mover, right_mover], info)
    assert score.correlation > 0.9
    assert score.mae < 0.1
    flat = mix_spatial_alignment(_pan((s1 + s2).mean(axis=0), 0.0), [s1, s2],
                                 [left_mover, right_mover], info)
    assert flat.mae > 0.15
    with pytest.raises(ValueError):
        mix_spatial_alignment(s1, [s1], [left_mover, right_mover], info)


def _bursts(times: list[float], rng: np.random.Generator, seconds: float = 3.0) -> np.ndarray:
    out = np.zeros(int(seconds * SR))
    decay = np.exp(-np.arange(int(0.08 * SR)) / (0.015 * SR))
    for k, t in enumerate(times):
        s = int(round(t * SR))
        burst = rng.standard_normal(decay.size) * decay * (0.3 + 0.1 * k % 3)
        out[s: s + burst.size] += burst[: out.size - s]
    out += rng.standard_normal(out.size) * 1e-4  # a little background
    return out.astype(np.float32)


@pytest.mark.parametrize("times", [[0.3, 0.9, 1.5, 2.1], [0.2, 0.35, 0.5, 2.7], [1.0]])
def test_detect_onsets_finds_bursts_within_5_ms(rng: np.random.Generator,
                                                times: list[float]) -> None:
    onsets = detect_onsets(_bursts(times, rng))
    assert onsets.size == len(times)
    assert np.max(np.abs(onsets - np.array(times))) < 0.005


def test_detect_onsets_of_silence_and_short_audio_is_empty() -> None:
    assert detect_onsets(np.zeros(SR, dtype=np.float32)).size == 0
    assert detect_onsets(np.ones(100, dtype=np.float32)).size == 0


def test_sync_score_counts_hits_misses_and_false_alarms(rng: np.random.Generator) -> None:
    audio = np.stack([_bursts([0.3, 0.9, 1.5, 2.1], rng)] * 2)
    # 0.9 is 30 ms early (within one 40 ms frame), 2.4 has no sound, 2.1 is not a visual event
    score, errors = sync_score(audio, [0.3, 0.93, 1.5, 2.4], float(FPS),
                               config=OnsetConfig())
    assert (score.true_positives, score.false_positives, score.false_negatives) == (3, 1, 1)
    assert score.recall == pytest.approx(0.75)
    assert score.precision == pytest.approx(0.75)
    assert errors.size == 3
    assert 0.0 <= score.median_abs_ms < 6.0


def test_score_events_and_pooling() -> None:
    a, ea = score_events(np.array([1.0, 2.0, 3.0]), np.array([1.01, 2.02, 5.0]), tolerance_s=0.04)
    assert (a.precision, a.recall) == pytest.approx((2 / 3, 2 / 3))
    assert a.f1 == pytest.approx(2 / 3)
    assert a.median_abs_ms == pytest.approx(15.0)
    b, eb = score_events(np.array([]), np.array([]), tolerance_s=0.04)
    assert (b.precision, b.recall, b.f1) == (1.0, 1.0, 1.0)
    assert math.isnan(b.median_abs_ms)
    pooled = pool_scores([(a, ea), (b, eb)])
    assert pooled.true_positives == 2 and pooled.false_negatives == 1
    assert pooled.mean_abs_ms == pytest.approx(15.0)


def test_pearson_edge_cases() -> None:
    assert math.isnan(pearson(np.array([1.0, 2.0]), np.array([1.0, 2.0])))
    assert math.isnan(pearson(np.ones(10), np.arange(10.0)))
    assert pearson(np.arange(10.0), 3 * np.arange(10.0) + 1) == pytest.approx(1.0)


def test_loudness_of_a_known_sine() -> None:
    t = np.arange(3 * SR) / SR
    sine = 0.1 * np.sin(2 * np.pi * 997 * t)
    score = loudness_metrics(np.stack([sine, sine]).astype(np.float32))
    assert score.lufs == pytest.approx(-20.0, abs=0.2)  # 0 dBFS sine in both channels = 0 LUFS
    assert score.true_peak_db == pytest.approx(-20.0, abs=0.1)
    assert loudness_metrics(np.zeros((2, SR), dtype=np.float32)).lufs == -math.inf


def test_true_peak_sees_intersample_peaks() -> None:
    t = np.arange(SR) / SR
    tone = 0.5 * np.sin(2 * np.pi * 12_000 * t + np.pi / 4)  # samples sit at +-0.354
    assert 20 * np.log10(np.max(np.abs(tone))) == pytest.approx(-9.03, abs=0.05)
    assert true_peak_db(tone) == pytest.approx(-6.02, abs=0.3)


def test_texture_swells_are_not_onsets_but_hits_on_them_are(rng: np.random.Generator) -> None:
    t = np.arange(3 * SR) / SR
    swell = 0.05 * (1.2 + np.sin(2 * np.pi * 1.5 * t))  # a texture breathing 1.5 times a second
    audio = rng.standard_normal(t.size) * swell
    assert detect_onsets(audio).size == 0
    hits = _bursts([0.7, 1.9], rng) * 3.0  # well above the texture
    found = detect_onsets(audio + hits)
    assert found.size == 2 and np.max(np.abs(found - [0.7, 1.9])) < 0.005


def test_a_double_transient_counts_once(rng: np.random.Generator) -> None:
    heel_toe = _bursts([1.0], rng) + 0.7 * _bursts([1.06], rng)  # one footstep, two transients
    found = detect_onsets(heel_toe)
    assert found.size == 1 and abs(found[0] - 1.0) < 0.005
