"""Analysis results as validated struct-of-arrays dataclasses, and the TRACKS.json contract.

A `Track` is one object: ascending frame indices, one box (x0, y0, x1, y1 in source pixels) per
listed frame, and its visual events. `Analysis` is a whole video's result. Both are validated on
creation, so code downstream never sees a box with x1 < x0 or frames out of order.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

import numpy as np

from video.base.errors import InputError
from video.base.fields import (
    FieldError,
    as_finite,
    as_obj,
    construct,
    key_path,
    req_bool,
    req_finite,
    req_indices,
    req_int,
    req_items,
    req_numbers,
    req_obj,
    req_str,
    shown,
)
from video.base.timebase import SAMPLE_RATE, format_fps, frame_time, frames_to_samples, parse_fps

TRACKS_SCHEMA = "stereofoley.tracks/1"
EVENT_KINDS = ("impact", "step", "scrape", "onset", "splash")


# What TRACKS.json and project files keep: times to the microsecond, strengths to 1e-4, boxes to
# 1/100 px. The value types hold exactly these values (snapped on creation), so an analysis in
# memory and the same analysis read back from its file are equal bit for bit, and a render from
# a saved project reproduces the render that wrote it.
TIME_DECIMALS = 6
STRENGTH_DECIMALS = 4
BOX_DECIMALS = 2


def stored_time(value: float) -> float:
    """A time (s) as files keep it: the nearest microsecond."""
    return round(float(value), TIME_DECIMALS)


def stored_boxes(boxes: np.ndarray) -> np.ndarray:
    """Boxes as files keep them: the nearest 1/100 px (idempotent)."""
    return np.round(boxes, BOX_DECIMALS)


FEET = ("left", "right")
# events of a hand on an object (video.hand_contacts): taking hold of it and letting it go; a
# release is a marker that makes no sound (a thing let go of is silent)
HAND_KINDS = ("touch", "release")
SILENT_KINDS = ("release",)


def contact_events(track: Track) -> tuple[Event, ...]:
    """The object's own contacts: its events other than a hand's touches and releases (which
    do not say how the object itself moves: a cup taken hold of still gets its put-down)."""
    return tuple(e for e in track.events if e.kind not in HAND_KINDS)


@dataclass(frozen=True)
class Event:
    """A visual event of one object: when (seconds), how hard (0..1), what kind.

    Optional, for a footstep seen on the body (video.footsteps): `foot` ("left" or "right", the
    body's) and `x`, where on screen it happened (source pixels); a spatializer pans the event
    there instead of at the box's centre. Both are written to files only when set. `filled`: a
    step laid at the walking cadence where the picture showed none (video.cadence), written
    only when true.
    """

    time: float
    strength: float
    kind: str = "impact"
    foot: str | None = None
    x: float | None = None
    filled: bool = False

    def __post_init__(self) -> None:
        if not math.isfinite(self.time) or self.time < 0:
            raise ValueError(f"event time must be finite and >= 0, got {self.time}")
        if not (0.0 <= self.strength <= 1.0):
            raise ValueError(f"event strength must be in 0..1, got {self.strength}")
        if not isinstance(self.kind, str) or not self.kind:
            raise ValueError("event kind must be a non-empty string")
        if not isinstance(self.filled, bool):
            raise ValueError(f"event filled must be true or false, got {self.filled!r}")
        if self.foot is not None and self.foot not in FEET:
            raise ValueError(f"event foot must be one of {', '.join(FEET)}, got {self.foot!r}")
        if self.x is not None:
            if not math.isfinite(self.x):
                raise ValueError(f"event x must be finite, got {self.x}")
            object.__setattr__(self, "x", round(float(self.x), BOX_DECIMALS))
        object.__setattr__(self, "time", stored_time(self.time))
        object.__setattr__(self, "strength", round(float(self.strength), STRENGTH_DECIMALS))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"time": self.time, "strength": self.strength, "kind": self.kind}
        if self.foot is not None:
            out["foot"] = self.foot
        if self.x is not None:
            out["x"] = self.x
        if self.filled:
            out["filled"] = True
        return out

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "event") -> Event:
        """An event from its document form; a wrong type or value names the field."""
        data = as_obj(data, where=where)
        foot = data.get("foot")
        x = data.get("x")
        return construct(cls, where=where, time=req_finite(data, "time", where=where),
                         strength=req_finite(data, "strength", where=where),
                         kind=req_str(data, "kind", where=where, default="impact"),
                         foot=None if foot is None else req_str(data, "foot", where=where),
                         x=None if x is None else req_finite(data, "x", where=where),
                         filled=req_bool(data, "filled", where=where, default=False))


@dataclass(frozen=True)
class VideoInfo:
    """What the analysis knew about the video: size, exact frame rate, duration, frame count.

    `frame_times` (seconds, one per frame) is set for variable-frame-rate video, where frame i is
    not at i / fps; it is saved under the extra key "frame_times".
    """

    path: str
    width: int
    height: int
    fps: Fraction
    duration: float
    frames: int
    frame_times: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"video size must be positive, got {self.width}x{self.height}")
        if not isinstance(self.fps, Fraction) or self.fps <= 0:
            raise ValueError(f"fps must be a positive Fraction, got {self.fps!r}")
        if self.frames < 0 or not math.isfinite(self.duration) or self.duration < 0:
            raise ValueError("frames and duration must be >= 0")
        if self.frame_times is not None and len(self.frame_times) != self.frames:
            raise ValueError("frame_times must have one entry per frame")
        object.__setattr__(self, "duration", stored_time(self.duration))
        if self.frame_times is not None:
            object.__setattr__(self, "frame_times",
                               tuple(stored_time(t) for t in self.frame_times))

    def time_of_frame(self, frame_index: int) -> float:
        """Presentation time of a frame: its timestamp (VFR) or index / fps."""
        if self.frame_times is not None and 0 <= frame_index < len(self.frame_times):
            return float(self.frame_times[frame_index])
        return float(frame_time(frame_index, self.fps))

    def frame_samples(self, frame_indices: np.ndarray | list[int], *,
                      sample_rate: int = SAMPLE_RATE) -> np.ndarray:
        """Sample index (int64) at which each frame starts: its timestamp for variable frame
        rate, index / fps otherwise (video.base.timebase.frames_to_samples). The one frame->sample
        mapping the spatializer and the transport both use."""
        frames = np.asarray(frame_indices, dtype=np.int64)
        out = frames_to_samples(frames, self.fps, sample_rate=sample_rate)
        if self.frame_times is not None and len(self.frame_times):
            times = np.asarray(self.frame_times, dtype=np.float64)
            inside = (frames >= 0) & (frames < times.size)
            stamped = np.floor(times[np.clip(frames, 0, times.size - 1)] * sample_rate + 0.5)
            out = np.where(inside, stamped.astype(np.int64), out)
        return out

    def frame_at_time(self, time_s: float) -> int:
        """Index of the frame shown at `time_s` (the last frame starting at or before it).

        Times are kept to the microsecond, so a time within half a microsecond before a frame's
        start (a frame start as stored) counts as that frame.
        """
        slack = Fraction(1, 2 * 10**TIME_DECIMALS)
        if self.frame_times is not None and self.frames:
            idx = int(np.searchsorted(np.asarray(self.frame_times), time_s + float(slack),
                                      side="right")) - 1
        else:
            exact = Fraction(time_s).limit_denominator(10**9) + slack
            idx = math.floor(exact * self.fps + Fraction(1, 10**6))
        return int(min(max(idx, 0), max(self.frames - 1, 0)))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "width": self.width, "height": self.height,
                               "fps": format_fps(self.fps), "duration": self.duration,
                               "frames": self.frames}
        if self.frame_times is not None:
            out["frame_times"] = list(self.frame_times)
        return out

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "video") -> VideoInfo:
        """Video facts from their document form; a wrong type or value names the field."""
        data = as_obj(data, where=where)
        fps_value = data.get("fps")
        fps_where = key_path(where, "fps")
        if "fps" not in data:
            raise FieldError(f"{fps_where} is missing")
        if not isinstance(fps_value, str):
            fps_value = as_finite(fps_value, where=fps_where)
        try:
            fps = parse_fps(fps_value)
        except (ValueError, TypeError, ZeroDivisionError, OverflowError) as exc:
            raise FieldError(f"{fps_where}: {exc}") from None
        times = data.get("frame_times")
        frame_times = None if times is None else tuple(
            req_numbers(data, "frame_times", where=where).tolist())
        return construct(cls, where=where, path=req_str(data, "path", where=where),
                         width=req_int(data, "width", where=where),
                         height=req_int(data, "height", where=where), fps=fps,
                         duration=req_finite(data, "duration", where=where),
                         frames=req_int(data, "frames", where=where, lo=0),
                         frame_times=frame_times)


@dataclass(frozen=True)
class Track:
    """One tracked object as parallel arrays: frames (n,) ascending ints, boxes (n, 4) floats."""

    id: int
    label: str
    frames: np.ndarray
    boxes: np.ndarray
    events: tuple[Event, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        frames = np.asarray(self.frames, dtype=np.int64).reshape(-1)
        boxes = np.asarray(self.boxes, dtype=np.float64)
        if boxes.size == 0:
            boxes = boxes.reshape(0, 4)
        if boxes.ndim != 2 or boxes.shape[1] != 4:
            raise ValueError(f"track {self.id}: boxes must be (n, 4), got {boxes.shape}")
        if boxes.shape[0] != frames.shape[0]:
            raise ValueError(f"track {self.id}: {frames.shape[0]} frames but {boxes.shape[0]} boxes")
        if frames.size and (np.any(np.diff(frames) <= 0) or frames[0] < 0):
            raise ValueError(f"track {self.id}: frames must be ascending, unique and >= 0")
        if not np.all(np.isfinite(boxes)):
            raise ValueError(f"track {self.id}: boxes must be finite")
        if np.any(boxes[:, 2] < boxes[:, 0]) or np.any(boxes[:, 3] < boxes[:, 1]):
            raise ValueError(f"track {self.id}: boxes must have x1 >= x0 and y1 >= y0")
        boxes = stored_boxes(boxes)
        frames.setflags(write=False)
        boxes.setflags(write=False)
        object.__setattr__(self, "frames", frames)
        object.__setattr__(self, "boxes", boxes)
        object.__setattr__(self, "events", tuple(sorted(self.events, key=lambda e: e.time)))

    def __len__(self) -> int:
        return int(self.frames.shape[0])

    @property
    def centers(self) -> np.ndarray:
        """Box centres (n, 2) in pixels."""
        return np.stack([(self.boxes[:, 0] + self.boxes[:, 2]) / 2,
                         (self.boxes[:, 1] + self.boxes[:, 3]) / 2], axis=1)

    @property
    def areas(self) -> np.ndarray:
        """Box areas (n,) in square pixels."""
        return (self.boxes[:, 2] - self.boxes[:, 0]) * (self.boxes[:, 3] - self.boxes[:, 1])

    def box_at(self, frame_index: int) -> np.ndarray | None:
        """The box on `frame_index`, linearly interpolated inside gaps; None outside the track."""
        if not len(self) or frame_index < self.frames[0] or frame_index > self.frames[-1]:
            return None
        i = int(np.searchsorted(self.frames, frame_index))
        if self.frames[i] == frame_index:
            return self.boxes[i].copy()
        f0, f1 = self.frames[i - 1], self.frames[i]
        w = (frame_index - f0) / (f1 - f0)
        return np.asarray((1 - w) * self.boxes[i - 1] + w * self.boxes[i])

    def with_changes(self, **changes: Any) -> Track:
        """A copy with some fields replaced (validated again)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": int(self.id), "label": self.label,
            "frames": [int(f) for f in self.frames],
            "boxes": self.boxes.tolist(),
            "events": [e.to_dict() for e in self.events],
        }
        out.update({k: v for k, v in self.extra.items() if k not in out})
        return out

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "object") -> Track:
        """A track from its document form; a wrong type or value names the field."""
        data = as_obj(data, where=where)
        known = {"id", "label", "frames", "boxes", "events"}
        return construct(cls, where=where, id=req_int(data, "id", where=where),
                         label=req_str(data, "label", where=where, default="object"),
                         frames=req_indices(data, "frames", where=where),
                         boxes=req_numbers(data, "boxes", where=where, width=4),
                         events=tuple(req_items(data, "events", Event.from_dict, where=where,
                                                default=[])),
                         extra={k: v for k, v in data.items() if k not in known})


@dataclass(frozen=True)
class Analysis:
    """A whole video's analysis: video facts, tracked objects (unique ids), shot cuts (seconds)."""

    video: VideoInfo
    objects: tuple[Track, ...]
    cuts: tuple[float, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ids = [t.id for t in self.objects]
        if len(set(ids)) != len(ids):
            raise ValueError(f"object ids must be unique, got {ids}")
        object.__setattr__(self, "objects", tuple(self.objects))
        object.__setattr__(self, "cuts", tuple(sorted(stored_time(c) for c in self.cuts)))

    def object(self, object_id: int) -> Track:
        for track in self.objects:
            if track.id == object_id:
                return track
        raise KeyError(f"no object with id {object_id}")

    def with_objects(self, objects: Iterable[Track]) -> Analysis:
        return Analysis(video=self.video, objects=tuple(objects), cuts=self.cuts, extra=self.extra)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schema": TRACKS_SCHEMA, "video": self.video.to_dict(),
                               "objects": [t.to_dict() for t in self.objects],
                               "cuts": list(self.cuts)}
        out.update({k: v for k, v in self.extra.items() if k not in out})
        return out

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "tracks") -> Analysis:
        """Parse a TRACKS document; any problem becomes an InputError (a FieldError naming the
        field, e.g. `tracks objects[1].boxes[3] must have 4 items, got 3`)."""
        if not isinstance(data, Mapping):
            raise InputError(f"{where} document must be a JSON object, got {shown(data)}")
        schema = data.get("schema")
        if schema != TRACKS_SCHEMA:
            raise InputError(f"unsupported tracks schema {schema!r} (expected {TRACKS_SCHEMA!r})")
        known = {"schema", "video", "objects", "cuts"}
        video = VideoInfo.from_dict(req_obj(data, "video", where=where),
                                    where=key_path(where, "video"))
        objects = req_items(data, "objects", Track.from_dict, where=where, default=[])
        cuts = req_numbers(data, "cuts", where=where, default=[]).tolist()
        return construct(cls, where=where, video=video, objects=tuple(objects), cuts=tuple(cuts),
                         extra={k: v for k, v in data.items() if k not in known})

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_json(cls, text: str) -> Analysis:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON: {exc.msg} at line {exc.lineno}") from exc
        return cls.from_dict(data)
