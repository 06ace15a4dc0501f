"""Procedural foley: the sounds used when no library sample matches (so no object is ever silent).

One-shots (arrays out, mono float32 at 48 kHz, peak about 1):
- `modal_impact`: a few exponentially damped sinusoids (modal synthesis) plus a contact click,
  with material presets (wood, metal, glass, plastic) giving mode ratios and decay times.
- `footstep`: heel + toe noise bursts shaped by the surface (hard, gravel, soft, metal).
- `scrape_burst`: a short band-passed noise rub for scrape events.

Textures (whole-signal, driven by per-sample control curves so level, brightness and pitch follow
the object's speed):
- `whoosh_texture`, `scrape_texture`: filtered noise, spectrum moved by cross-fading fixed bands
  (cheap: three fixed filters per signal instead of a time-varying one).
- `engine_texture`: harmonic series on a speed-following fundamental plus a little noise
  (`ENGINE_PITCH_HZ`: idle and top fundamentals of a car, a truck, a motorcycle).
- `tyre_texture`: road roar, low noise bands rising with speed; `cloth_texture`: rustle with a
  gait-rate swish; `chain_texture`: a freewheel's ticks at a speed-following rate;
  `wings_texture`: flapping bursts; `bed_texture`: a slowly gusting broadband bed.

Everything is a pure function of its arguments; randomness comes only from the Generator passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import signal

from video.base.timebase import SAMPLE_RATE

MATERIALS = ("wood", "metal", "glass", "plastic")
SURFACES = ("hard", "gravel", "soft", "metal")


@dataclass(frozen=True)
class Material:
    """Modal preset: base-frequency range (Hz), mode frequency ratios, T60 decay per mode (s),
    relative mode amplitudes, and the contact click's length (s) and low-pass cutoff (Hz)."""

    base_hz: tuple[float, float]
    ratios: tuple[float, ...]
    t60: tuple[float, ...]
    amps: tuple[float, ...]
    click_s: float
    click_hz: float


MATERIAL_PRESETS: dict[str, Material] = {
    "wood": Material((170.0, 320.0), (1.0, 2.09, 3.71, 5.28, 7.9), (0.16, 0.1, 0.07, 0.05, 0.035),
                     (1.0, 0.6, 0.45, 0.3, 0.2), 0.004, 3500.0),
    "metal": Material((380.0, 900.0), (1.0, 2.76, 5.40, 8.93, 13.34), (1.1, 0.85, 0.6, 0.45, 0.3),
                      (1.0, 0.7, 0.5, 0.35, 0.2), 0.002, 9000.0),
    "glass": Material((1100.0, 2200.0), (1.0, 2.32, 4.25, 6.63), (0.55, 0.4, 0.3, 0.2),
                      (1.0, 0.55, 0.35, 0.2), 0.0015, 12000.0),
    "plastic": Material((280.0, 600.0), (1.0, 1.83, 3.1, 4.6), (0.06, 0.045, 0.03, 0.02),
                        (1.0, 0.5, 0.35, 0.2), 0.005, 5000.0),
}


@lru_cache(maxsize=64)
def _sos(kind: str, freqs: tuple[float, ...], order: int = 2) -> np.ndarray:
    """A cached Butterworth filter in second-order sections (designs cost more than filtering)."""
    wn: float | list[float] = list(freqs) if len(freqs) > 1 else freqs[0]
    return np.asarray(signal.butter(order, wn, btype=kind, fs=SAMPLE_RATE, output="sos"))


def filtered(x: np.ndarray, kind: str, *freqs: float, order: int = 2) -> np.ndarray:
    """Butterworth-filter `x` (low/high/bandpass at `freqs` Hz), float32 out."""
    nyq = SAMPLE_RATE / 2 * 0.98
    fr = tuple(float(min(max(f, 10.0), nyq)) for f in freqs)
    return signal.sosfilt(_sos(kind, fr, order), x).astype(np.float32, copy=False)


def _normalize(x: np.ndarray) -> np.ndarray:
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    return (x / peak).astype(np.float32) if peak > 0 else x.astype(np.float32)


def _fade_tail(x: np.ndarray, seconds: float = 0.005) -> np.ndarray:
    n = min(len(x), int(seconds * SAMPLE_RATE))
    if n > 1:
        x[-n:] *= np.linspace(1.0, 0.0, n, dtype=np.float32)
    return x


def modal_impact(*, material: str, strength: float, rng: np.random.Generator,
                 size: float = 1.0) -> np.ndarray:
    """A struck object: damped modes of `material`, brighter and with a harder click when strong.

    `size` > 1 lowers the pitch (bigger objects ring lower), < 1 raises it.
    """
    if material not in MATERIAL_PRESETS:
        raise ValueError(f"unknown material {material!r} (one of {', '.join(MATERIALS)})")
    preset = MATERIAL_PRESETS[material]
    s = float(np.clip(strength, 0.0, 1.0))
    base = rng.uniform(*preset.base_hz) / np.sqrt(max(size, 0.05))
    dur = min(max(preset.t60) * 1.1, 2.0) + preset.click_s
    t = np.arange(int(dur * SAMPLE_RATE), dtype=np.float32) / np.float32(SAMPLE_RATE)
    out = np.zeros_like(t)
    for k, (ratio, t60, amp) in enumerate(zip(preset.ratios, preset.t60, preset.amps, strict=True)):
        f = base * ratio * rng.uniform(0.99, 1.01)
        if f >= SAMPLE_RATE * 0.45:
            continue
        a = amp * rng.uniform(0.8, 1.2) * (0.35 + 0.65 * s) ** k   # strong hits excite high modes
        decay = np.exp(np.float32(-6.91 / t60) * t)
        out += np.float32(a) * decay * np.sin(np.float32(2 * np.pi * f) * t + np.float32(rng.uniform(0, 2 * np.pi)))
    n_click = max(8, int(preset.click_s * SAMPLE_RATE))
    click = rng.standard_normal(n_click).astype(np.float32)
    click *= np.exp(-np.arange(n_click, dtype=np.float32) / (n_click / 4))
    click = filtered(click, "lowpass", preset.click_hz * (0.4 + 0.6 * s))
    out[:n_click] += click * np.float32(0.8 + 0.8 * s)
    attack = min(len(out), 24)  # 0.5 ms ramp: no DC step, onset stays sample-sharp
    out[:attack] *= np.linspace(0.0, 1.0, attack, dtype=np.float32)
    return _fade_tail(_normalize(out))


def _burst(n: int, attack: int, decay_s: float, rng: np.random.Generator) -> np.ndarray:
    """Noise under an attack/exponential-decay envelope."""
    env = np.exp(-np.arange(n, dtype=np.float32) / np.float32(decay_s * SAMPLE_RATE))
    env[:attack] *= np.linspace(0.0, 1.0, attack, dtype=np.float32)
    return rng.standard_normal(n).astype(np.float32) * env


def _step_part(surface: str, rng: np.random.Generator, level: float) -> np.ndarray:
    """One foot contact (heel or toe) on `surface`."""
    if surface == "gravel":
        n = int(rng.uniform(0.12, 0.18) * SAMPLE_RATE)
        grains = (rng.random(n) < 900 / SAMPLE_RATE).astype(np.float32)
        grains *= rng.uniform(0.3, 1.0, n).astype(np.float32)
        kernel = np.exp(-np.arange(96, dtype=np.float32) / 20.0)
        crackle = signal.fftconvolve(grains, kernel)[:n].astype(np.float32)
        body = filtered(rng.standard_normal(n).astype(np.float32), "bandpass", 900.0, 7000.0)
        env = np.exp(-np.arange(n, dtype=np.float32) / np.float32(0.06 * SAMPLE_RATE))
        env[:96] *= np.linspace(0.0, 1.0, 96, dtype=np.float32)
        x = body * crackle * env + 0.15 * filtered(_burst(n, 96, 0.03, rng), "lowpass", 600.0)
    elif surface == "soft":
        n = int(0.14 * SAMPLE_RATE)
        x = filtered(_burst(n, 240, 0.05, rng), "bandpass", 150.0, 1400.0)
    else:  # hard floors and metal: a click plus a low thump
        n = int(0.12 * SAMPLE_RATE)
        x = filtered(_burst(n, 48, 0.015, rng), "bandpass", 400.0, 5000.0)
        t = np.arange(n, dtype=np.float32) / np.float32(SAMPLE_RATE)
        thump = np.sin(np.float32(2 * np.pi * rng.uniform(70, 110)) * t) * np.exp(-t / np.float32(0.03))
        x = _normalize(x) + np.float32(0.6) * thump.astype(np.float32)
        if surface == "metal":
            ring = modal_impact(material="metal", strength=0.3, rng=rng, size=2.0)[:n]
            x[: len(ring)] += np.float32(0.25) * ring
    return _normalize(x) * np.float32(level)


def footstep(*, surface: str, strength: float, rng: np.random.Generator) -> np.ndarray:
    """Heel strike then a quieter toe roll 50-90 ms later; stronger steps are brighter."""
    if surface not in SURFACES:
        raise ValueError(f"unknown surface {surface!r} (one of {', '.join(SURFACES)})")
    s = float(np.clip(strength, 0.0, 1.0))
    heel = _step_part(surface, rng, 1.0)
    toe = _step_part(surface, rng, rng.uniform(0.35, 0.6))
    gap = int(rng.uniform(0.05, 0.09) * SAMPLE_RATE)
    out = np.zeros(max(len(heel), gap + len(toe)), dtype=np.float32)
    out[: len(heel)] += heel
    out[gap: gap + len(toe)] += toe
    if s < 0.7:  # soft steps lose their top end
        out = filtered(out, "lowpass", 2500.0 + 12000.0 * s)
    return _fade_tail(_normalize(out))


def scrape_burst(*, strength: float, rng: np.random.Generator, seconds: float = 0.25) -> np.ndarray:
    """A short rub: band-passed noise with a stick-slip flutter, for scrape events."""
    n = int(seconds * SAMPLE_RATE)
    s = float(np.clip(strength, 0.0, 1.0))
    noise = filtered(rng.standard_normal(n).astype(np.float32), "bandpass",
                     800.0 + 1500.0 * s, 4000.0 + 5000.0 * s)
    flutter = 0.6 + 0.4 * np.sin(2 * np.pi * rng.uniform(25, 60) * np.arange(n) / SAMPLE_RATE)
    env = np.sin(np.linspace(0.0, np.pi, n)) ** 0.5
    env[: n // 2] = np.maximum(env[: n // 2], 0.0)
    x = noise * (flutter * env).astype(np.float32)
    attack = min(n, 96)
    x[:attack] *= np.linspace(0.0, 1.0, attack, dtype=np.float32)
    return _fade_tail(_normalize(x))


def loopable(x: np.ndarray, *, crossfade_s: float = 0.05) -> np.ndarray:
    """A loop of `x` whose end cross-fades into its start, so tiling it has no click."""
    n_fade = min(int(crossfade_s * SAMPLE_RATE), len(x) // 3)
    if n_fade < 2:
        return x.astype(np.float32, copy=True)
    ramp = np.linspace(0.0, 1.0, n_fade, dtype=np.float32)
    body = x[n_fade:].astype(np.float32, copy=True)
    body[-n_fade:] = body[-n_fade:] * (1 - ramp) + x[:n_fade] * ramp
    return body


@lru_cache(maxsize=32)
def noise_loop(kind: str, freqs: tuple[float, ...], *, seconds: float = 3.0) -> np.ndarray:
    """A seamless loop of filtered noise at unit RMS (fixed seed: the same loop every run).

    Textures tile these loops from a random offset instead of filtering minutes of fresh noise:
    the filters run once per process, so a texture costs a few array operations per sample.
    """
    gen = np.random.default_rng(7919 + len(freqs) * 31 + int(freqs[0]))
    raw = gen.standard_normal(int(seconds * SAMPLE_RATE) + SAMPLE_RATE // 10).astype(np.float32)
    band = loopable(filtered(raw, kind, *freqs, order=2)[SAMPLE_RATE // 20:])
    band /= np.float32(np.sqrt(np.mean(band.astype(np.float64) ** 2)))
    band.setflags(write=False)
    return band


def tiled(loop: np.ndarray, n: int, offset: int) -> np.ndarray:
    """`n` samples of `loop` played cyclically from `offset`."""
    offset %= len(loop)
    reps = -(-(n + offset) // len(loop))
    return np.tile(loop, reps)[offset: offset + n]


def _band_mix(n: int, brightness: np.ndarray, bands: tuple[tuple[float, float], ...],
              rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS noise whose spectrum moves up with `brightness` (0 = lowest band, 1 = highest),
    by equal-power cross-fading fixed noise bands."""
    pos = np.clip(brightness, 0.0, 1.0).astype(np.float32) * np.float32(len(bands) - 1)
    out = np.zeros(n, dtype=np.float32)
    for i, band in enumerate(bands):
        w = np.clip(np.float32(1.0) - np.abs(pos - np.float32(i)), 0.0, 1.0)
        if not np.any(w > 0):
            continue
        loop = noise_loop("bandpass", band)
        out += tiled(loop, n, int(rng.integers(len(loop)))) * np.sqrt(w)
    return out


def whoosh_texture(level: np.ndarray, brightness: np.ndarray, *, rng: np.random.Generator
                   ) -> np.ndarray:
    """Air movement: noise whose RMS follows `level` and whose band rises with `brightness`."""
    bands = ((150.0, 700.0), (500.0, 2200.0), (1500.0, 6500.0))
    return (_band_mix(len(level), brightness, bands, rng) * level).astype(np.float32)


def scrape_texture(level: np.ndarray, brightness: np.ndarray, *, rng: np.random.Generator
                   ) -> np.ndarray:
    """Surface friction: band-passed noise with random stick-slip roughness, following `level`."""
    n = len(level)
    bands = ((600.0, 2500.0), (1200.0, 5000.0), (2500.0, 9000.0))
    rough_loop = noise_loop("lowpass", (60.0,))
    rough = tiled(rough_loop, n, int(rng.integers(len(rough_loop))))
    rough = np.float32(0.7) + np.float32(0.3) * np.tanh(rough * np.float32(2.0))
    return (_band_mix(n, brightness, bands, rng) * rough * level).astype(np.float32)


@lru_cache(maxsize=4)
def _engine_tables(harmonics: int, size: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """One period of a dark (idle) and a bright (revving) harmonic engine tone, unit peak."""
    phase = np.arange(size) * (2 * np.pi / size)
    dark = sum(np.sin(k * phase + 0.7 * k * k) * 0.3 ** (k - 1) / k for k in range(1, harmonics + 1))
    bright = sum(np.sin(k * phase + 0.7 * k * k) / k for k in range(1, harmonics + 1))
    tables = tuple((t / np.max(np.abs(t))).astype(np.float32) for t in (dark, bright))
    for t in tables:
        t.setflags(write=False)
    return tables[0], tables[1]


def engine_texture(level: np.ndarray, pitch_hz: np.ndarray, *, rng: np.random.Generator,
                   harmonics: int = 8) -> np.ndarray:
    """A motor: harmonic series on `pitch_hz` (per sample), brighter as level rises, plus rumble.

    Wavetable synthesis (a dark and a bright single-period table, cross-faded by level) keeps the
    cost at a table lookup per sample whatever the number of harmonics."""
    n = len(level)
    dark, bright_t = _engine_tables(harmonics)
    size = len(dark)
    cycles = np.cumsum(pitch_hz, dtype=np.float64) * (1.0 / SAMPLE_RATE) + rng.uniform()
    idx = ((cycles - np.floor(cycles)) * size).astype(np.int32) % size
    bright = np.clip(level, 0.0, 1.0).astype(np.float32)
    d = dark[idx]
    tone = d + (bright_t[idx] - d) * bright
    rumble_loop = noise_loop("lowpass", (400.0,))
    rumble = tiled(rumble_loop, n, int(rng.integers(len(rumble_loop))))
    return ((tone * np.float32(0.9) + rumble * np.float32(0.25)) * level).astype(np.float32)


# engine size -> fundamental (Hz) at idle and at the reference speed
ENGINE_PITCH_HZ: dict[str, tuple[float, float]] = {
    "car": (35.0, 120.0), "truck": (22.0, 70.0), "motorcycle": (55.0, 190.0),
}


def tyre_texture(level: np.ndarray, brightness: np.ndarray, *, rng: np.random.Generator
                 ) -> np.ndarray:
    """Tyres on a road: low-mid noise whose band rises with `brightness` (speed)."""
    bands = ((80.0, 450.0), (200.0, 1400.0), (500.0, 3500.0))
    return (_band_mix(len(level), brightness, bands, rng) * level).astype(np.float32)


def _slow_wobble(n: int, rng: np.random.Generator, cutoff_hz: float) -> np.ndarray:
    """A smooth random curve in about 0.6..1.4 (filtered noise, tiled from a random offset)."""
    loop = noise_loop("lowpass", (cutoff_hz,))
    return np.float32(1.0) + np.float32(0.4) * np.tanh(tiled(loop, n, int(rng.integers(len(loop)))))


def cloth_texture(level: np.ndarray, brightness: np.ndarray, *, rng: np.random.Generator,
                  gait_hz: float = 1.8) -> np.ndarray:
    """Clothes moving on a walking body: bright noise (fabric rubbing), swelling twice per
    stride cycle (arms and legs swing), with a random wobble so no two swishes are alike."""
    n = len(level)
    bands = ((700.0, 3000.0), (1500.0, 6000.0), (3000.0, 10000.0))
    noise = _band_mix(n, np.float32(0.3) + np.float32(0.5) * brightness, bands, rng)
    t = np.arange(n, dtype=np.float32) / np.float32(SAMPLE_RATE)
    swing = np.sin(np.float32(2 * np.pi * gait_hz) * t + np.float32(rng.uniform(0, 2 * np.pi)))
    swish = np.float32(0.25) + np.float32(0.75) * swing * swing
    return (noise * swish * _slow_wobble(n, rng, 3.0) * level).astype(np.float32)


def chain_texture(level: np.ndarray, rate: np.ndarray, *, rng: np.random.Generator) -> np.ndarray:
    """A bicycle's chain and freewheel: short metallic ticks at `rate` ticks per second (per
    sample), through a resonant band, plus a faint chain hiss."""
    n = len(level)
    cycles = np.cumsum(rate, dtype=np.float64) * (1.0 / SAMPLE_RATE) + rng.uniform()
    ticks = np.zeros(n, dtype=np.float32)
    idx = np.flatnonzero(np.diff(np.floor(cycles)) > 0) + 1
    ticks[idx] = rng.uniform(0.6, 1.0, len(idx)).astype(np.float32)
    click = filtered(ticks, "bandpass", 2500.0, 7000.0, order=2) * np.float32(6.0)
    hiss = tiled(noise_loop("bandpass", (3000.0, 9000.0)), n, int(rng.integers(SAMPLE_RATE)))
    return ((click + hiss * np.float32(0.15)) * level).astype(np.float32)


def wings_texture(level: np.ndarray, brightness: np.ndarray, *, rng: np.random.Generator
                  ) -> np.ndarray:
    """Flapping wings: air bursts at a wing-beat rate (4..9 Hz, faster when moving fast), each a
    sharp push and a slow release."""
    n = len(level)
    bands = ((200.0, 1200.0), (500.0, 2500.0), (1000.0, 5000.0))
    noise = _band_mix(n, brightness, bands, rng)
    beat = np.float32(4.0) + np.float32(5.0) * np.clip(brightness, 0.0, 1.0)
    phase = np.cumsum(beat, dtype=np.float64) * (1.0 / SAMPLE_RATE) + rng.uniform()
    frac = (phase - np.floor(phase)).astype(np.float32)
    push = np.exp(np.float32(-6.0) * frac) * np.minimum(np.float32(1.0), frac * np.float32(40.0))
    return (noise * push * np.float32(1.8) * level).astype(np.float32)


def bed_texture(level: np.ndarray, *, rng: np.random.Generator, kind: str = "wind"
                ) -> np.ndarray:
    """A background bed when the bank has none: broadband noise with slow gusts (wind and
    leaves), or a steadier brighter wash (water, crowd, fire)."""
    n = len(level)
    gusty = kind in ("wind", "leaves")
    wobble = _slow_wobble(n, rng, 0.4 if gusty else 2.0)
    bright = np.clip((wobble - np.float32(0.6)) / np.float32(0.8), 0.0, 1.0) if gusty \
        else np.full(n, 0.6, dtype=np.float32)
    bands = ((100.0, 600.0), (300.0, 2000.0), (1000.0, 6000.0))
    return (_band_mix(n, bright, bands, rng) * wobble * level).astype(np.float32)
