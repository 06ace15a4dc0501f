"""What to render: per-object sound assignment and render settings (part of the Project).

These live in model/ (not app/) because the renderer needs them and model/ may not import app/.
`app.project.Project` composes them with the analysis and saves them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from audio.nudges import Nudges
from audio.pan import check_pan_law

MAX_SEED = 2**31 - 1


def checked_seed(seed: Any) -> int:
    """`seed` as an int if it is an integer in 0..MAX_SEED, else ValueError: the rule for an
    object's seed offset and for a seed the studio sets (`stereofoley render --seed` takes any
    integer, so RenderSettings itself does not apply it)."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or \
            not 0 <= int(seed) <= MAX_SEED:
        raise ValueError(f"seed must be an integer in 0..{MAX_SEED}, got {seed!r}")
    return int(seed)


def _checked_number(value: Any, lo: float, hi: float, what: str) -> None:
    """Reject anything but a finite number in lo..hi (ValueError)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{what} must be a number, got {value!r}")
    if not lo <= value <= hi:  # also false for NaN
        raise ValueError(f"{what} must be in {lo:g}..{hi:g}, got {value!r}")


@dataclass(frozen=True)
class ObjectSound:
    """One object's sound: prompt, optional pinned library sounds, seed offset, nudges, stem path."""

    id: int
    prompt: str = ""
    sounds: tuple[str, ...] = ()
    seed: int = 0
    nudges: Nudges = field(default_factory=Nudges)
    stem: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "seed", checked_seed(self.seed))

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "stem": self.stem, "prompt": self.prompt,
                "sounds": list(self.sounds), "seed": self.seed, "nudges": self.nudges.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ObjectSound:
        return cls(id=int(data["id"]), prompt=str(data.get("prompt", "")),
                   sounds=tuple(str(s) for s in data.get("sounds", [])),
                   seed=int(data.get("seed", 0)),
                   nudges=Nudges.from_dict(data.get("nudges", {})),
                   stem=str(data.get("stem", "")))


@dataclass(frozen=True)
class RenderSettings:
    """Global render settings; `master` records what the master stage measured and did."""

    seed: int = 0
    sample_rate: int = 48_000
    pan_law: str = "-3dB"
    target_lufs: float = -23.0
    true_peak_db: float = -1.0
    air_absorption: bool = True
    itd: bool = False
    doppler: bool = False
    libraries: tuple[str, ...] = ()
    master: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.sample_rate != 48_000:
            raise ValueError("sample_rate must be 48000")
        check_pan_law(self.pan_law)
        _checked_number(self.target_lufs, -70.0, 0.0, "target loudness (LUFS)")
        _checked_number(self.true_peak_db, -20.0, 0.0, "true-peak ceiling (dBTP)")

    def to_dict(self) -> dict[str, Any]:
        return {"seed": self.seed, "sample_rate": self.sample_rate, "pan_law": self.pan_law,
                "target_lufs": self.target_lufs, "true_peak_db": self.true_peak_db,
                "air_absorption": self.air_absorption, "itd": self.itd, "doppler": self.doppler,
                "libraries": list(self.libraries), "master": dict(self.master)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RenderSettings:
        return cls(seed=int(data.get("seed", 0)), sample_rate=int(data.get("sample_rate", 48_000)),
                   pan_law=str(data.get("pan_law", "-3dB")),
                   target_lufs=float(data.get("target_lufs", -23.0)),
                   true_peak_db=float(data.get("true_peak_db", -1.0)),
                   air_absorption=bool(data.get("air_absorption", True)),
                   itd=bool(data.get("itd", False)), doppler=bool(data.get("doppler", False)),
                   libraries=tuple(str(p) for p in data.get("libraries", [])),
                   master=dict(data.get("master", {})))
