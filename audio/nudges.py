"""The designer's per-object stereo placement controls ("nudges"), applied by the spatializer.

Frozen: an edit makes a new value (dataclasses.replace), which keeps undo/redo and
"render is a pure function of the project" simple.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from video.base.fields import (
    as_finite,
    as_list,
    as_obj,
    construct,
    index_path,
    req_bool,
    req_finite,
    req_items,
)


@dataclass(frozen=True)
class PanKeyframe:
    """A pan value (-1 left .. +1 right) pinned at a time (seconds)."""

    time: float
    pan: float

    def __post_init__(self) -> None:
        if not math.isfinite(self.time) or self.time < 0:
            raise ValueError(f"keyframe time must be >= 0, got {self.time}")
        if not -1.0 <= self.pan <= 1.0:
            raise ValueError(f"keyframe pan must be in -1..1, got {self.pan}")

    @classmethod
    def from_pair(cls, value: Any, *, where: str = "keyframe") -> PanKeyframe:
        """A keyframe from its document form `[time, pan]`."""
        time, pan = as_list(value, where=where, length=2)
        return construct(cls, where=where, time=as_finite(time, where=index_path(where, 0)),
                         pan=as_finite(pan, where=index_path(where, 1)))


@dataclass(frozen=True)
class Nudges:
    """Per-object overrides on top of what the tracker implies.

    pan_offset: added to the tracked pan (result clipped to -1..1).
    pan_keyframes: between the first and last keyframe the pan follows the keyframes (linear),
        replacing the tracked pan; outside that range the track (plus offset) rules.
    gain_db: trim after distance loudness.
    distance_scale: multiplies the object's apparent distance (2 = twice as far: quieter, duller).
    width: 0 = point source, 1 = as wide as the object's box allows.
    mute / solo: as on a mixer channel.
    """

    pan_offset: float = 0.0
    pan_keyframes: tuple[PanKeyframe, ...] = field(default_factory=tuple)
    gain_db: float = 0.0
    distance_scale: float = 1.0
    width: float = 0.0
    mute: bool = False
    solo: bool = False

    def __post_init__(self) -> None:
        if not -2.0 <= self.pan_offset <= 2.0:
            raise ValueError(f"pan offset must be in -2..2, got {self.pan_offset}")
        if not -60.0 <= self.gain_db <= 24.0:
            raise ValueError(f"gain trim must be in -60..+24 dB, got {self.gain_db}")
        if not 0.05 <= self.distance_scale <= 20.0:
            raise ValueError(f"distance scale must be in 0.05..20, got {self.distance_scale}")
        if not 0.0 <= self.width <= 1.0:
            raise ValueError(f"width must be in 0..1, got {self.width}")
        keys = tuple(sorted(self.pan_keyframes, key=lambda k: k.time))
        object.__setattr__(self, "pan_keyframes", keys)

    def to_dict(self) -> dict[str, Any]:
        return {"pan_offset": self.pan_offset,
                "pan_keyframes": [[k.time, k.pan] for k in self.pan_keyframes],
                "gain_db": self.gain_db, "distance_scale": self.distance_scale,
                "width": self.width, "mute": self.mute, "solo": self.solo}

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "nudges") -> Nudges:
        """Nudges from their document form; a wrong type or value names the field."""
        data = as_obj(data, where=where)
        keys = req_items(data, "pan_keyframes", PanKeyframe.from_pair, where=where, default=[])
        return construct(cls, where=where, pan_offset=req_finite(data, "pan_offset", where=where,
                                                                  default=0.0),
                         pan_keyframes=tuple(keys),
                         gain_db=req_finite(data, "gain_db", where=where, default=0.0),
                         distance_scale=req_finite(data, "distance_scale", where=where,
                                                   default=1.0),
                         width=req_finite(data, "width", where=where, default=0.0),
                         mute=req_bool(data, "mute", where=where, default=False),
                         solo=req_bool(data, "solo", where=where, default=False))
