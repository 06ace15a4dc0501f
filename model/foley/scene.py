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
from video.base.fields import (
    as_obj,
    as_str,
    construct,
    key_path,
    req_bool,
    req_finite,
    req_int,
    req_items,
    req_obj,
    req_str,
)

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
    def from_dict(cls, data: Any, *, where: str = "object") -> ObjectSound:
        """An object's sound from its document form; a wrong type or value names the field."""
        data = as_obj(data, where=where)
        nudges = Nudges.from_dict(req_obj(data, "nudges", where=where, default={}),
                                  where=key_path(where, "nudges"))
        return construct(cls, where=where, id=req_int(data, "id", where=where),
                         prompt=req_str(data, "prompt", where=where, default=""),
                         sounds=tuple(req_items(data, "sounds", as_str, where=where, default=[])),
                         seed=req_int(data, "seed", where=where, default=0),
                         nudges=nudges, stem=req_str(data, "stem", where=where, default=""))


# the master's limiting when nothing caps it: what projects written before the cap rendered with
NO_LIMITING_CAP = 60.0


@dataclass(frozen=True)
class RenderSettings:
    """Global render settings; `master` records what the master stage measured and did.

    max_limiting_db: most the master's limiter may take off the loudest peak to reach the
    loudness target (audio.master.MasterConfig). A project written before the setting existed
    reads as `NO_LIMITING_CAP`, so it re-renders as it did."""

    seed: int = 0
    sample_rate: int = 48_000
    pan_law: str = "-3dB"
    target_lufs: float = -23.0
    true_peak_db: float = -1.0
    max_limiting_db: float = 9.0
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
        _checked_number(self.max_limiting_db, 0.0, NO_LIMITING_CAP, "limiting at most (dB)")

    def to_dict(self) -> dict[str, Any]:
        return {"seed": self.seed, "sample_rate": self.sample_rate, "pan_law": self.pan_law,
                "target_lufs": self.target_lufs, "true_peak_db": self.true_peak_db,
                "max_limiting_db": self.max_limiting_db,
                "air_absorption": self.air_absorption, "itd": self.itd, "doppler": self.doppler,
                "libraries": list(self.libraries), "master": dict(self.master)}

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "render") -> RenderSettings:
        """Render settings from their document form; a wrong type or value names the field."""
        data = as_obj(data, where=where)
        return construct(cls, where=where, seed=req_int(data, "seed", where=where, default=0),
                         sample_rate=req_int(data, "sample_rate", where=where, default=48_000),
                         pan_law=req_str(data, "pan_law", where=where, default="-3dB"),
                         target_lufs=req_finite(data, "target_lufs", where=where, default=-23.0),
                         true_peak_db=req_finite(data, "true_peak_db", where=where, default=-1.0),
                         max_limiting_db=req_finite(data, "max_limiting_db", where=where,
                                                    default=NO_LIMITING_CAP),
                         air_absorption=req_bool(data, "air_absorption", where=where,
                                                 default=True),
                         itd=req_bool(data, "itd", where=where, default=False),
                         doppler=req_bool(data, "doppler", where=where, default=False),
                         libraries=tuple(req_items(data, "libraries", as_str, where=where,
                                                   default=[])),
                         master=dict(req_obj(data, "master", where=where, default={})))
