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

import copy
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import signal

from video.base.timebase import SAMPLE_RATE

MATERIALS = ("wood", "metal", "glass", "plastic", "ball")
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
    # an inflated ball on a floor: a low, short thud of the skin and the air in it, and the slap
    # of rubber on the floor (a longer, duller contact noise than a hard object's click)
    "ball": Material((120.0, 180.0), (1.0, 1.5, 2.2), (0.08, 0.06, 0.04), (1.0, 0.5, 0.3),
                     0.012, 3000.0),
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


Step = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""A texture made a block at a time: called with the next block's `level` and control curve
(brightness, pitch or rate: per texture) in order, it returns that block of the signal."""

Scan = Callable[[], Iterable[tuple[np.ndarray, np.ndarray]]]
"""The (level, control) blocks of a whole texture, in order: a texture whose setup depends on
whole-signal values (which noise bands it ever uses, how many ticks it makes) reads them in a
cheap first pass over these before it draws its random numbers."""


def _whole(make: Callable[[Scan], Step], level: np.ndarray, control: np.ndarray) -> np.ndarray:
    """A texture made in one block: `make`'s step over the whole signal."""
    return make(lambda: [(level, control)])(level, control)


def running_sum() -> Callable[[np.ndarray], np.ndarray]:
    """np.cumsum(x, dtype=float64) of a signal given a block at a time: the same sums, in the
    same order (the total carried in as the first term)."""
    total = [0.0]

    def step(x: np.ndarray) -> np.ndarray:
        sums = np.cumsum(np.concatenate([[total[0]], np.asarray(x, dtype=np.float64)]))[1:]
        if sums.size:
            total[0] = float(sums[-1])
        return sums
    return step


def filter_stream(kind: str, *freqs: float, order: int = 2) -> Callable[[np.ndarray], np.ndarray]:
    """`filtered` of a signal given a block at a time (the filter state carried): the same
    samples as filtering it whole."""
    nyq = SAMPLE_RATE / 2 * 0.98
    fr = tuple(float(min(max(f, 10.0), nyq)) for f in freqs)
    sos = _sos(kind, fr, order)
    state = [np.zeros((sos.shape[0], 2))]

    def step(x: np.ndarray) -> np.ndarray:
        y, state[0] = signal.sosfilt(sos, x, zi=state[0])
        return np.asarray(y).astype(np.float32, copy=False)
    return step


class _BandMix:
    """Unit-RMS noise whose spectrum moves up with the brightness (0 = lowest band, 1 =
    highest), by equal-power cross-fading fixed noise bands, a block at a time. Only the bands
    the brightness ever reaches get a random offset (found by a first pass over `brightness`),
    in band order."""

    def __init__(self, bands: tuple[tuple[float, float], ...], brightness: Iterable[np.ndarray],
                 rng: np.random.Generator) -> None:
        self.top = np.float32(len(bands) - 1)
        used = np.zeros(len(bands), dtype=bool)
        for bright in brightness:
            pos = self._position(bright)
            for k in map(int, np.flatnonzero(~used)):
                used[k] = bool(np.any(self._weight(pos, k) > 0))
        self.loops: dict[int, tuple[np.ndarray, int]] = {}
        for i in map(int, np.flatnonzero(used)):
            loop = noise_loop("bandpass", bands[i])
            self.loops[i] = (loop, int(rng.integers(len(loop))))
        self.at = 0

    def _position(self, bright: np.ndarray) -> np.ndarray:
        return np.clip(bright, 0.0, 1.0).astype(np.float32) * self.top

    @staticmethod
    def _weight(pos: np.ndarray, i: int) -> np.ndarray:
        return np.clip(np.float32(1.0) - np.abs(pos - np.float32(i)), 0.0, 1.0)

    def __call__(self, bright: np.ndarray) -> np.ndarray:
        n = len(bright)
        pos = self._position(bright)
        out = np.zeros(n, dtype=np.float32)
        for i, (loop, offset) in self.loops.items():
            w = self._weight(pos, i)
            if np.any(w > 0):              # out + 0 is out: a silent band adds nothing
                out += tiled(loop, n, offset + self.at) * np.sqrt(w)
        self.at += n
        return out


def _controls(scan: Scan) -> Iterator[np.ndarray]:
    return (control for _, control in scan())


def _band_mix(n: int, brightness: np.ndarray, bands: tuple[tuple[float, float], ...],
              rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS noise whose spectrum moves up with `brightness` (0 = lowest band, 1 = highest),
    by equal-power cross-fading fixed noise bands."""
    return _BandMix(bands, [brightness], rng)(brightness[:n])


class _Tiled:
    """A noise loop played cyclically from a random offset, a block at a time."""

    def __init__(self, loop: np.ndarray, offset: int) -> None:
        self.loop, self.offset, self.at = loop, offset, 0

    def __call__(self, n: int) -> np.ndarray:
        out = tiled(self.loop, n, self.offset + self.at)
        self.at += n
        return out


WHOOSH_BANDS = ((150.0, 700.0), (500.0, 2200.0), (1500.0, 6500.0))
SCRAPE_BANDS = ((600.0, 2500.0), (1200.0, 5000.0), (2500.0, 9000.0))
TYRE_BANDS = ((80.0, 450.0), (200.0, 1400.0), (500.0, 3500.0))
CLOTH_BANDS = ((700.0, 3000.0), (1500.0, 6000.0), (3000.0, 10000.0))
WINGS_BANDS = ((200.0, 1200.0), (500.0, 2500.0), (1000.0, 5000.0))
BED_BANDS = ((100.0, 600.0), (300.0, 2000.0), (1000.0, 6000.0))


def _random_tiled(loop: np.ndarray, rng: np.random.Generator) -> _Tiled:
    return _Tiled(loop, int(rng.integers(len(loop))))


def whoosh_stream(scan: Scan, *, rng: np.random.Generator) -> Step:
    """`whoosh_texture` a block at a time (control: brightness)."""
    mix = _BandMix(WHOOSH_BANDS, _controls(scan), rng)
    return lambda level, bright: (mix(bright) * level).astype(np.float32)


def whoosh_texture(level: np.ndarray, brightness: np.ndarray, *, rng: np.random.Generator
                   ) -> np.ndarray:
    """Air movement: noise whose RMS follows `level` and whose band rises with `brightness`."""
    return _whole(lambda scan: whoosh_stream(scan, rng=rng), level, brightness)


def scrape_stream(scan: Scan, *, rng: np.random.Generator) -> Step:
    """`scrape_texture` a block at a time (control: brightness)."""
    rough = _random_tiled(noise_loop("lowpass", (60.0,)), rng)
    mix = _BandMix(SCRAPE_BANDS, _controls(scan), rng)

    def step(level: np.ndarray, bright: np.ndarray) -> np.ndarray:
        r = np.float32(0.7) + np.float32(0.3) * np.tanh(rough(len(level)) * np.float32(2.0))
        return (mix(bright) * r * level).astype(np.float32)
    return step


def scrape_texture(level: np.ndarray, brightness: np.ndarray, *, rng: np.random.Generator
                   ) -> np.ndarray:
    """Surface friction: band-passed noise with random stick-slip roughness, following `level`."""
    return _whole(lambda scan: scrape_stream(scan, rng=rng), level, brightness)


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


def engine_stream(scan: Scan, *, rng: np.random.Generator, harmonics: int = 8) -> Step:
    """`engine_texture` a block at a time (control: pitch in Hz; the phase carried)."""
    dark, bright_t = _engine_tables(harmonics)
    size = len(dark)
    start = rng.uniform()
    rumble = _random_tiled(noise_loop("lowpass", (400.0,)), rng)
    cycles_of = running_sum()

    def step(level: np.ndarray, pitch_hz: np.ndarray) -> np.ndarray:
        cycles = cycles_of(pitch_hz) * (1.0 / SAMPLE_RATE) + start
        idx = ((cycles - np.floor(cycles)) * size).astype(np.int32) % size
        bright = np.clip(level, 0.0, 1.0).astype(np.float32)
        d = dark[idx]
        tone = d + (bright_t[idx] - d) * bright
        return ((tone * np.float32(0.9) + rumble(len(level)) * np.float32(0.25)) * level
                ).astype(np.float32)
    return step


def engine_texture(level: np.ndarray, pitch_hz: np.ndarray, *, rng: np.random.Generator,
                   harmonics: int = 8) -> np.ndarray:
    """A motor: harmonic series on `pitch_hz` (per sample), brighter as level rises, plus rumble.

    Wavetable synthesis (a dark and a bright single-period table, cross-faded by level) keeps the
    cost at a table lookup per sample whatever the number of harmonics."""
    return _whole(lambda scan: engine_stream(scan, rng=rng, harmonics=harmonics), level,
                  pitch_hz)


# engine size -> fundamental (Hz) at idle and at the reference speed
ENGINE_PITCH_HZ: dict[str, tuple[float, float]] = {
    "car": (35.0, 120.0), "truck": (22.0, 70.0), "motorcycle": (55.0, 190.0),
}


def tyre_stream(scan: Scan, *, rng: np.random.Generator) -> Step:
    """`tyre_texture` a block at a time (control: brightness)."""
    mix = _BandMix(TYRE_BANDS, _controls(scan), rng)
    return lambda level, bright: (mix(bright) * level).astype(np.float32)


def tyre_texture(level: np.ndarray, brightness: np.ndarray, *, rng: np.random.Generator
                 ) -> np.ndarray:
    """Tyres on a road: low-mid noise whose band rises with `brightness` (speed)."""
    return _whole(lambda scan: tyre_stream(scan, rng=rng), level, brightness)


def _slow_wobble(n: int, rng: np.random.Generator, cutoff_hz: float) -> np.ndarray:
    """A smooth random curve in about 0.6..1.4 (filtered noise, tiled from a random offset)."""
    return _wobble(_random_tiled(noise_loop("lowpass", (cutoff_hz,)), rng), n)


def _wobble(noise: _Tiled, n: int) -> np.ndarray:
    return np.float32(1.0) + np.float32(0.4) * np.tanh(noise(n))


def _sample_times(at: int, n: int) -> np.ndarray:
    """np.arange(at + n, dtype=float32)[at:] without the first `at` values (float32 holds the
    rounded integers alike)."""
    return np.arange(at, at + n, dtype=np.float64).astype(np.float32)


def cloth_stream(scan: Scan, *, rng: np.random.Generator, gait_hz: float = 1.8) -> Step:
    """`cloth_texture` a block at a time (control: brightness)."""
    mix = _BandMix(CLOTH_BANDS, (np.float32(0.3) + np.float32(0.5) * b for b in _controls(scan)),
                   rng)
    phase = np.float32(rng.uniform(0, 2 * np.pi))
    wobble = _random_tiled(noise_loop("lowpass", (3.0,)), rng)
    at = [0]

    def step(level: np.ndarray, bright: np.ndarray) -> np.ndarray:
        n = len(level)
        noise = mix(np.float32(0.3) + np.float32(0.5) * bright)
        t = _sample_times(at[0], n) / np.float32(SAMPLE_RATE)
        at[0] += n
        swing = np.sin(np.float32(2 * np.pi * gait_hz) * t + phase)
        swish = np.float32(0.25) + np.float32(0.75) * swing * swing
        return (noise * swish * _wobble(wobble, n) * level).astype(np.float32)
    return step


def cloth_texture(level: np.ndarray, brightness: np.ndarray, *, rng: np.random.Generator,
                  gait_hz: float = 1.8) -> np.ndarray:
    """Clothes moving on a walking body: bright noise (fabric rubbing), swelling twice per
    stride cycle (arms and legs swing), with a random wobble so no two swishes are alike."""
    return _whole(lambda scan: cloth_stream(scan, rng=rng, gait_hz=gait_hz), level, brightness)


def _ticks(cycles: np.ndarray, before: float | None) -> np.ndarray:
    """Indices in a block where the cycle count passes a whole number (from the block's
    previous sample, `before`: None at the start of the signal)."""
    whole = np.floor(cycles)
    if before is None:
        return np.flatnonzero(np.diff(whole) > 0) + 1
    return np.flatnonzero(np.diff(np.concatenate([[math.floor(before)], whole])) > 0)


def chain_stream(scan: Scan, *, rng: np.random.Generator) -> Step:
    """`chain_texture` a block at a time (control: ticks per second). The ticks' random
    heights come from a copy of `rng` taken where the whole signal draws them; `rng` itself is
    moved past them (their count found in a first pass) before the hiss is placed, as drawing
    them all at once would."""
    start = rng.uniform()
    count, before, cycles_of = 0, None, running_sum()
    for _, rate in scan():
        cycles = cycles_of(rate) * (1.0 / SAMPLE_RATE) + start
        count += _ticks(cycles, before).size
        before = float(cycles[-1]) if cycles.size else before
    heights = copy.deepcopy(rng)
    for done in range(0, count, 1 << 20):
        rng.uniform(0.6, 1.0, min(1 << 20, count - done))
    hiss = _Tiled(noise_loop("bandpass", (3000.0, 9000.0)), int(rng.integers(SAMPLE_RATE)))
    click_filter = filter_stream("bandpass", 2500.0, 7000.0, order=2)
    cycles_of = running_sum()
    last: list[float | None] = [None]

    def step(level: np.ndarray, rate: np.ndarray) -> np.ndarray:
        n = len(level)
        cycles = cycles_of(rate) * (1.0 / SAMPLE_RATE) + start
        ticks = np.zeros(n, dtype=np.float32)
        idx = _ticks(cycles, last[0])
        last[0] = float(cycles[-1]) if n else last[0]
        ticks[idx] = heights.uniform(0.6, 1.0, len(idx)).astype(np.float32)
        click = click_filter(ticks) * np.float32(6.0)
        return ((click + hiss(n) * np.float32(0.15)) * level).astype(np.float32)
    return step


def chain_texture(level: np.ndarray, rate: np.ndarray, *, rng: np.random.Generator) -> np.ndarray:
    """A bicycle's chain and freewheel: short metallic ticks at `rate` ticks per second (per
    sample), through a resonant band, plus a faint chain hiss."""
    return _whole(lambda scan: chain_stream(scan, rng=rng), level, rate)


def wings_stream(scan: Scan, *, rng: np.random.Generator) -> Step:
    """`wings_texture` a block at a time (control: brightness; the beat phase carried)."""
    mix = _BandMix(WINGS_BANDS, _controls(scan), rng)
    start = rng.uniform()
    phase_of = running_sum()

    def step(level: np.ndarray, bright: np.ndarray) -> np.ndarray:
        noise = mix(bright)
        beat = np.float32(4.0) + np.float32(5.0) * np.clip(bright, 0.0, 1.0)
        phase = phase_of(beat) * (1.0 / SAMPLE_RATE) + start
        frac = (phase - np.floor(phase)).astype(np.float32)
        push = np.exp(np.float32(-6.0) * frac) * np.minimum(np.float32(1.0),
                                                            frac * np.float32(40.0))
        return (noise * push * np.float32(1.8) * level).astype(np.float32)
    return step


def wings_texture(level: np.ndarray, brightness: np.ndarray, *, rng: np.random.Generator
                  ) -> np.ndarray:
    """Flapping wings: air bursts at a wing-beat rate (4..9 Hz, faster when moving fast), each a
    sharp push and a slow release."""
    return _whole(lambda scan: wings_stream(scan, rng=rng), level, brightness)


def bed_stream(scan: Scan, *, rng: np.random.Generator, kind: str = "wind") -> Step:
    """`bed_texture` a block at a time (the control is not used)."""
    gusty = kind in ("wind", "leaves")
    loop = noise_loop("lowpass", (0.4 if gusty else 2.0,))
    offset = int(rng.integers(len(loop)))

    def bright_of(wobble: np.ndarray) -> np.ndarray:
        return np.clip((wobble - np.float32(0.6)) / np.float32(0.8), 0.0, 1.0) if gusty \
            else np.full(len(wobble), 0.6, dtype=np.float32)

    def brightness() -> Iterator[np.ndarray]:
        wobble = _Tiled(loop, offset)
        for level, _ in scan():
            yield bright_of(_wobble(wobble, len(level)))

    mix = _BandMix(BED_BANDS, brightness(), rng)
    wobble_now = _Tiled(loop, offset)

    def step(level: np.ndarray, _control: np.ndarray) -> np.ndarray:
        wobble = _wobble(wobble_now, len(level))
        return (mix(bright_of(wobble)) * wobble * level).astype(np.float32)
    return step


def bed_texture(level: np.ndarray, *, rng: np.random.Generator, kind: str = "wind"
                ) -> np.ndarray:
    """A background bed when the bank has none: broadband noise with slow gusts (wind and
    leaves), or a steadier brighter wash (water, crowd, fire)."""
    return _whole(lambda scan: bed_stream(scan, rng=rng, kind=kind), level, level)
