"""Procedural foley: spectra, decays, envelopes and control-following measured on the output."""

from __future__ import annotations

import numpy as np
import pytest

from model.foley.procedural import (
    MATERIAL_PRESETS,
    engine_texture,
    footstep,
    loopable,
    modal_impact,
    noise_loop,
    scrape_burst,
    scrape_texture,
    tiled,
    whoosh_texture,
)
from video.base.timebase import SAMPLE_RATE


def _peak_hz(x: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / SAMPLE_RATE)[int(np.argmax(spec))])


def _centroid(x: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / SAMPLE_RATE)
    return float(np.sum(freqs * spec) / np.sum(spec))


def _decay_time(x: np.ndarray, drop_db: float = 20.0) -> float:
    """Seconds until the 5 ms RMS envelope has fallen `drop_db` below its maximum."""
    win = 240
    env = np.sqrt(np.convolve(x.astype(np.float64) ** 2, np.ones(win) / win, mode="valid"))
    top = int(np.argmax(env))
    below = np.flatnonzero(env[top:] < env[top] * 10 ** (-drop_db / 20))
    return (top + int(below[0])) / SAMPLE_RATE if below.size else len(x) / SAMPLE_RATE


@pytest.mark.parametrize("material", sorted(MATERIAL_PRESETS))
def test_modal_impact_rings_at_its_material_pitch(material: str, rng: np.random.Generator) -> None:
    preset = MATERIAL_PRESETS[material]
    x = modal_impact(material=material, strength=0.2, rng=rng)
    assert x.dtype == np.float32 and x.ndim == 1
    assert np.max(np.abs(x)) == pytest.approx(1.0, abs=1e-6)
    lo, hi = preset.base_hz
    body = x[int(0.01 * SAMPLE_RATE):]            # skip the contact click
    assert lo * 0.97 <= _peak_hz(body) <= hi * 1.03
    assert abs(x[0]) < 1e-3 and abs(x[-1]) < 1e-3  # no clicks at either end


def test_metal_rings_longer_than_wood_and_plastic(rng: np.random.Generator) -> None:
    decay = {m: np.mean([_decay_time(modal_impact(material=m, strength=0.5, rng=rng))
                         for _ in range(3)]) for m in ("metal", "wood", "plastic")}
    assert decay["metal"] > 4 * decay["wood"] > 0
    assert decay["wood"] > decay["plastic"]


def test_a_ball_bounce_is_a_low_short_thud(rng: np.random.Generator) -> None:
    """An inflated ball thuds below every hard material's pitch and dies away sooner than wood
    (YAMNet hears it as "Thunk" / "Knock" / "Thump, thud", a hard plastic tick as "Tick")."""
    cut = int(0.015 * SAMPLE_RATE)
    ball = [modal_impact(material="ball", strength=0.5, rng=rng) for _ in range(4)]
    wood = [modal_impact(material="wood", strength=0.5, rng=rng) for _ in range(4)]
    assert max(_peak_hz(x[cut:]) for x in ball) < 190.0
    assert np.mean([_peak_hz(x[cut:]) for x in ball]) < 0.75 * np.mean(
        [_peak_hz(x[cut:]) for x in wood])                 # wood is the lowest hard material
    assert np.mean([_decay_time(x) for x in ball]) < np.mean([_decay_time(x) for x in wood])


def test_strong_hits_are_brighter(rng: np.random.Generator) -> None:
    soft = np.mean([_centroid(modal_impact(material="wood", strength=0.1, rng=rng)) for _ in range(4)])
    hard = np.mean([_centroid(modal_impact(material="wood", strength=1.0, rng=rng)) for _ in range(4)])
    assert hard > 1.3 * soft


def test_bigger_objects_ring_lower() -> None:
    small = modal_impact(material="glass", strength=0.2, rng=np.random.default_rng(3), size=0.5)
    big = modal_impact(material="glass", strength=0.2, rng=np.random.default_rng(3), size=2.0)
    cut = int(0.01 * SAMPLE_RATE)
    assert _peak_hz(small[cut:]) / _peak_hz(big[cut:]) == pytest.approx(2.0, rel=0.05)


@pytest.mark.parametrize("material", ["rubber", "", "Metal"])
def test_unknown_material_is_rejected(material: str, rng: np.random.Generator) -> None:
    with pytest.raises(ValueError, match="unknown material"):
        modal_impact(material=material, strength=0.5, rng=rng)


def test_footstep_has_heel_then_toe(rng: np.random.Generator) -> None:
    x = footstep(surface="hard", strength=1.0, rng=rng)
    win = 96
    env = np.sqrt(np.convolve(x.astype(np.float64) ** 2, np.ones(win) / win, mode="same"))
    heel = int(np.argmax(env))
    assert heel < int(0.01 * SAMPLE_RATE)
    later = env[int(0.045 * SAMPLE_RATE): int(0.1 * SAMPLE_RATE)]
    # a second contact: the envelope rises again after the heel has decayed
    assert np.max(later) > 3 * np.min(env[heel: int(0.05 * SAMPLE_RATE)])


def test_gravel_steps_are_brighter_than_soft_ones(rng: np.random.Generator) -> None:
    gravel = np.mean([_centroid(footstep(surface="gravel", strength=1, rng=rng)) for _ in range(3)])
    soft = np.mean([_centroid(footstep(surface="soft", strength=1, rng=rng)) for _ in range(3)])
    assert gravel > 3 * soft


@pytest.mark.parametrize("surface", ["lava", "", "GRAVEL"])
def test_unknown_surface_is_rejected(surface: str, rng: np.random.Generator) -> None:
    with pytest.raises(ValueError, match="unknown surface"):
        footstep(surface=surface, strength=0.5, rng=rng)


def test_scrape_burst_is_band_limited(rng: np.random.Generator) -> None:
    x = scrape_burst(strength=0.5, rng=rng)
    assert len(x) == int(0.25 * SAMPLE_RATE)
    assert 1000 < _centroid(x) < 9000


def _window_rms(x: np.ndarray, win: int) -> np.ndarray:
    n = len(x) // win
    return np.sqrt(np.mean(x[: n * win].reshape(n, win).astype(np.float64) ** 2, axis=1))


@pytest.mark.parametrize("texture", [whoosh_texture, scrape_texture])
def test_noise_texture_level_and_brightness_follow_controls(texture, rng: np.random.Generator
                                                            ) -> None:
    n = 4 * SAMPLE_RATE
    t = np.arange(n) / SAMPLE_RATE
    level = (0.5 + 0.5 * np.sin(2 * np.pi * 0.5 * t)).astype(np.float32)
    x = texture(level, np.full(n, 0.5, np.float32), rng=rng)
    win = 2400
    rms = _window_rms(x, win)
    expect = level[win // 2:: win][: len(rms)]
    assert np.corrcoef(rms, expect)[0, 1] > 0.95
    dark = texture(np.ones(n // 4, np.float32), np.zeros(n // 4, np.float32), rng=rng)
    bright = texture(np.ones(n // 4, np.float32), np.ones(n // 4, np.float32), rng=rng)
    assert _centroid(bright) > 2 * _centroid(dark)
    assert 0.4 < float(np.sqrt(np.mean(bright ** 2))) < 1.5


def test_engine_pitch_follows_control(rng: np.random.Generator) -> None:
    n = SAMPLE_RATE
    for f0 in (40.0, 110.0):
        x = engine_texture(np.full(n, 0.2, np.float32), np.full(n, f0, np.float32), rng=rng)
        spec = np.abs(np.fft.rfft(x * np.hanning(n)))
        freqs = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
        band = (freqs > 20) & (freqs < 1.5 * f0)
        assert freqs[band][np.argmax(spec[band])] == pytest.approx(f0, abs=1.5)


def test_engine_silent_at_zero_level(rng: np.random.Generator) -> None:
    x = engine_texture(np.zeros(4800, np.float32), np.full(4800, 60, np.float32), rng=rng)
    assert not np.any(x)


def test_noise_loop_tiles_without_a_seam() -> None:
    loop = noise_loop("bandpass", (500.0, 2200.0))
    assert float(np.sqrt(np.mean(loop.astype(np.float64) ** 2))) == pytest.approx(1.0, rel=1e-3)
    x = tiled(loop, 3 * len(loop), 1234)
    assert len(x) == 3 * len(loop)
    seam = len(loop) - 1234
    step_at_seam = abs(float(x[seam] - x[seam - 1]))
    typical = float(np.percentile(np.abs(np.diff(x)), 99.9))
    assert step_at_seam <= typical


def test_loopable_shortens_by_the_crossfade() -> None:
    x = np.sin(np.arange(48000) * 0.01).astype(np.float32)
    y = loopable(x, crossfade_s=0.05)
    assert len(y) == 48000 - 2400
    assert y[-1] == pytest.approx(x[2399], abs=1e-3)  # the end runs into the loop's start


@pytest.mark.parametrize("name", ["whoosh", "scrape", "tyre", "cloth", "wings", "engine",
                                  "chain", "bed"])
def test_textures_made_in_blocks_equal_the_whole_signal(name: str) -> None:
    """Each texture's stream, fed blocks of uneven sizes (one of a single sample), gives the
    whole-signal texture bit for bit and leaves the random stream where the whole one does."""
    import model.foley.procedural as procedural

    n = 200_000
    t = np.arange(n) / SAMPLE_RATE
    level = (0.5 + 0.5 * np.sin(2 * np.pi * 0.7 * t)).astype(np.float32)
    bright = np.clip(0.3 + 0.7 * np.sin(2 * np.pi * 0.2 * t), 0.0, 1.0).astype(np.float32)
    control = {"engine": np.float32(35.0) + np.float32(85.0) * bright,
               "chain": np.float32(6.0) + np.float32(50.0) * bright}.get(name, bright)
    whole_rng = np.random.default_rng(5)
    if name == "bed":
        whole = procedural.bed_texture(level, rng=whole_rng)
    else:
        whole = getattr(procedural, f"{name}_texture")(level, control, rng=whole_rng)
    edges = [0, 1, 777, 65_536, 131_071, n]
    spans = list(zip(edges, edges[1:], strict=False))
    stream_rng = np.random.default_rng(5)
    step = getattr(procedural, f"{name}_stream")(
        lambda: ((level[a:b], control[a:b]) for a, b in spans), rng=stream_rng)
    blocks = np.concatenate([step(level[a:b], control[a:b]) for a, b in spans])
    np.testing.assert_array_equal(blocks, whole)
    assert stream_rng.random() == whole_rng.random()
