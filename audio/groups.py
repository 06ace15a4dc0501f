"""Group stems: summing object stems, and which objects are too short or quiet for a file of
their own.

A group stem is the plain sum of its members' finished (panned, distance-scaled, mastered)
stereo stems, so every member keeps its own pan and distance and the groups of a render sum to
its mix. Which objects make up a group is decided elsewhere (model.foley.roles, app.stem_groups);
this module only measures and adds arrays.

"Short" and "quiet" are measured on the finished stem in blocks of `FoldConfig.block_s`: a block
is audible when its RMS (both channels together) is above `floor_dbfs`. An object is short when
its audible blocks add up to less than `short_s` seconds; quiet when its active level (RMS over
its audible blocks) is more than `quiet_db` below the mix's active level (measured the same
way), so the rule does not depend on the master gain. A silent object is both. `LevelMeter`
measures the same a piece at a time (a render that streams its stems in blocks).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from video.base.timebase import SAMPLE_RATE


@dataclass(frozen=True)
class FoldConfig:
    """When an object folds into its group (no file of its own with `--stems groups`).

    short_s: audible for less than this many seconds in all; quiet_db: active level this many
    dB or more below the mix's (negative); floor_dbfs: a block quieter than this is not heard;
    block_s: the measuring block (50 ms: one footstep is one or two blocks)."""

    short_s: float = 1.0
    quiet_db: float = -30.0
    floor_dbfs: float = -60.0
    block_s: float = 0.05

    def __post_init__(self) -> None:
        if not (self.short_s >= 0.0 and self.quiet_db <= 0.0 and self.block_s > 0.0
                and math.isfinite(self.floor_dbfs)):
            raise ValueError("FoldConfig needs short_s >= 0, quiet_db <= 0, block_s > 0 and a "
                             "finite floor")

    @property
    def block(self) -> int:
        """The measuring block in samples."""
        return max(1, round(self.block_s * SAMPLE_RATE))


@dataclass(frozen=True)
class StemLevel:
    """What the fold rule needs of one stem: seconds audible and its active level in dBFS
    (-inf when never audible)."""

    audible_s: float
    level_db: float


def block_power(audio: np.ndarray, block: int) -> np.ndarray:
    """Mean square per block over all channels of a (channels, n) array (the last partial block
    counts as a block of its own length)."""
    data = np.asarray(audio, dtype=np.float32)
    if data.ndim != 2:
        raise ValueError(f"audio must be (channels, samples), got shape {data.shape}")
    channels, n = data.shape
    full = n // block
    head = data[:, : full * block].reshape(channels, full, block)
    power = np.einsum("cfb,cfb->f", head, head, dtype=np.float64) / (channels * block)
    if n > full * block:
        rest = data[:, full * block:].astype(np.float64)
        power = np.append(power, np.mean(np.square(rest)))
    return power


class LevelMeter:
    """`stem_level` a piece at a time, for audio that streams in blocks of any size: the
    measuring blocks are the same as over the whole array (a remainder waits for the next
    piece), so the result equals `stem_level` of the pieces joined."""

    def __init__(self, *, config: FoldConfig = FoldConfig()) -> None:
        self.config = config
        self._floor = 10.0 ** (config.floor_dbfs / 10.0)
        self._rest: np.ndarray | None = None
        self._samples = 0          # audible samples so far
        self._energy = 0.0         # their mean square x samples

    def _count(self, power: np.ndarray, size: int) -> None:
        audible = power > self._floor
        self._samples += int(np.count_nonzero(audible)) * size
        self._energy += float(np.sum(power[audible])) * size

    def push(self, audio: np.ndarray) -> None:
        """Measure the next (channels, n) piece."""
        data = np.asarray(audio, dtype=np.float32)
        if self._rest is not None:
            data = np.concatenate([self._rest, data], axis=1)
        block = self.config.block
        whole = data.shape[1] // block * block
        if whole:
            self._count(block_power(data[:, :whole], block), block)
        self._rest = data[:, whole:] if whole < data.shape[1] else None

    def level(self) -> StemLevel:
        """The level of everything pushed (the last partial block counts at its length)."""
        samples, energy = self._samples, self._energy
        if self._rest is not None:
            power = block_power(self._rest, self._rest.shape[1])
            if power[0] > self._floor:
                samples += self._rest.shape[1]
                energy += float(power[0]) * self._rest.shape[1]
        if samples == 0:
            return StemLevel(audible_s=0.0, level_db=-math.inf)
        return StemLevel(audible_s=samples / SAMPLE_RATE,
                         level_db=10.0 * math.log10(energy / samples))


def stem_level(audio: np.ndarray, *, config: FoldConfig = FoldConfig()) -> StemLevel:
    """Seconds audible and active level of a (channels, n) stem (see the module doc)."""
    meter = LevelMeter(config=config)
    meter.push(audio)
    return meter.level()


def fold_reasons(level: StemLevel, mix: StemLevel, *, config: FoldConfig = FoldConfig()
                 ) -> tuple[str, ...]:
    """Why an object folds into its group: ("short",), ("quiet",), both, or () when it keeps a
    file of its own."""
    reasons = []
    if level.audible_s < config.short_s:
        reasons.append("short")
    if level.level_db == -math.inf or (math.isfinite(mix.level_db)
                                       and level.level_db < mix.level_db + config.quiet_db):
        reasons.append("quiet")
    return tuple(reasons)


def sum_stems(stems: Mapping[int, np.ndarray], members: Iterable[int], n_samples: int
              ) -> np.ndarray:
    """The (2, n_samples) float32 sum of the members' stereo stems (silence for no members)."""
    out = np.zeros((2, n_samples), dtype=np.float32)
    for member in members:
        stem = np.asarray(stems[member], dtype=np.float32)
        if stem.shape != (2, n_samples):
            raise ValueError(f"stem {member} is {stem.shape}, expected (2, {n_samples})")
        out += stem
    return out
