"""Making repeated one-shots sound alive, and lining their attacks up with the picture.

- `onset_index`: where a sample's attack starts (its first sample above a fraction of its peak),
  so a library file with leading silence still lands its hit exactly on the visual event.
- `vary_one_shot`: small pitch change (resampling, about +-1 semitone), gain (+-2 dB) and a
  brightness (low-pass) change, plus intensity from the event strength (louder and brighter hits).
- `NoRepeatChooser`: picks among candidates without playing the same one twice in a row.
- `play_loop`: reads a sample (made seamless by `model.foley.procedural.loopable`) cyclically at a varying rate, for textures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from model.foley.procedural import filtered, running_sum
from video.base.timebase import SAMPLE_RATE


@dataclass(frozen=True)
class VariationConfig:
    """Ranges of the random per-hit variation and the strength-to-intensity mapping."""

    pitch_semitones: float = 1.0
    gain_db: float = 2.0
    strength_range_db: float = 18.0      # strength 0 is this much quieter than strength 1
    min_cutoff_hz: float = 2500.0        # low-pass cutoff of the weakest hit
    onset_fraction: float = 0.1          # attack starts at the first sample above 10 % of peak


def onset_index(x: np.ndarray, *, fraction: float = 0.1) -> int:
    """Index of the first sample whose magnitude reaches `fraction` of the peak (0 if silent)."""
    mag = np.abs(x)
    peak = float(mag.max()) if mag.size else 0.0
    if peak <= 0:
        return 0
    return int(np.argmax(mag >= fraction * peak))


def resample_pitch(x: np.ndarray, ratio: float) -> np.ndarray:
    """Play `x` `ratio` times faster (pitch up by 12*log2(ratio) semitones), linear interpolation."""
    if abs(ratio - 1.0) < 1e-6 or len(x) < 2:
        return x.astype(np.float32, copy=True)
    n_out = max(1, int(len(x) / ratio))
    pos = np.arange(n_out, dtype=np.float64) * ratio
    return np.interp(pos, np.arange(len(x)), x).astype(np.float32)


def vary_one_shot(x: np.ndarray, *, strength: float, rng: np.random.Generator,
                  config: VariationConfig = VariationConfig()) -> np.ndarray:
    """A varied, intensity-scaled copy of a mono one-shot (the input is not modified)."""
    s = float(np.clip(strength, 0.0, 1.0))
    semis = rng.uniform(-config.pitch_semitones, config.pitch_semitones)
    y = resample_pitch(x, 2.0 ** (semis / 12.0))
    cutoff = config.min_cutoff_hz * (SAMPLE_RATE / 2 / config.min_cutoff_hz) ** s
    cutoff *= 2.0 ** rng.uniform(-0.5, 0.5)
    cutoff = 2.0 ** (round(np.log2(cutoff) * 12) / 12)     # 1/12-octave steps: cached designs
    if cutoff < SAMPLE_RATE * 0.4:
        y = filtered(y, "lowpass", cutoff, order=1)
    gain_db = rng.uniform(-config.gain_db, config.gain_db) - (1.0 - s) * config.strength_range_db
    return (y * np.float32(10.0 ** (gain_db / 20.0))).astype(np.float32)


class NoRepeatChooser:
    """Chooses indices 0..n-1 at random, never the same one twice in a row (when n > 1)."""

    def __init__(self, n: int, rng: np.random.Generator) -> None:
        if n < 1:
            raise ValueError("need at least one candidate")
        self.n = n
        self.rng = rng
        self.last = -1

    def next(self) -> int:
        if self.n == 1:
            return 0
        choice = int(self.rng.integers(self.n - 1 if self.last >= 0 else self.n))
        if self.last >= 0 and choice >= self.last:
            choice += 1
        self.last = choice
        return choice


def play_loop(loop: np.ndarray, rate: np.ndarray, *, offset: float = 0.0) -> np.ndarray:
    """Read `loop` cyclically at a per-sample playback `rate` (1 = original pitch)."""
    return loop_reader(loop, offset=offset)(rate)


def loop_reader(loop: np.ndarray, *, offset: float = 0.0) -> Callable[[np.ndarray], np.ndarray]:
    """`play_loop` a block at a time: called with the rate of each block in order, it returns
    the samples read (the read position carried; the same samples as reading in one go)."""
    position = running_sum()
    first: list[float] = []

    def step(rate: np.ndarray) -> np.ndarray:
        if len(loop) < 2:
            return np.zeros(len(rate), dtype=np.float32)
        if not first and len(rate):
            first.append(rate[0])       # the read starts at `offset` on the first sample
        if not len(rate):
            return np.zeros(0, dtype=np.float32)
        pos = np.mod(offset + position(rate) - first[0], len(loop))
        i0 = pos.astype(np.int64)
        frac = (pos - i0).astype(np.float32)
        i1 = (i0 + 1) % len(loop)
        return (loop[i0] * (1 - frac) + loop[i1] * frac).astype(np.float32)
    return step
