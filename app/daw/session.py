"""What a DAW session of a render holds, independent of the file format.

One track per stem, every item at the video's start timecode. With baked stems the tracks are
the delivered stems (pan and level in the audio). With dry stems each track plays the object's
source before pan and level (`audio.spatialize.dry_placement`, normalized to -1 dBFS) and
carries the pan and the level (distance x trim x master gain, over the normalization) as
envelopes thinned by Ramer-Douglas-Peucker: the pan within `pan_tolerance` of the rendered
pan curve (0.001 by default, ten times inside the 0.01 a designer would notice, so that the
stems rebuilt from dry audio and envelopes stay within -60 dB of the baked ones), the level
within `volume_tolerance` (relative). Where the master stage's true-peak limiter acted on a
stem, its gain is part of the volume envelope (sampled at every sample of its spans, then
thinned like the rest), so the rebuilt stem is the delivered one there too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import numpy as np

from audio.automation import thin_points
from audio.spatialize import DryPlacement
from video.base.timebase import SAMPLE_RATE
from video.base.timecode import Timecode

SESSION_FORMATS = ("rpp", "otio", "aaf")
SESSION_FILES = {"rpp": "session.rpp", "otio": "session.otio", "aaf": "session.aaf"}
DRY_PEAK = 10.0 ** (-1.0 / 20.0)     # dry stems are normalized to -1 dBFS


def parse_session_formats(text: str) -> tuple[str, ...]:
    """`"rpp,otio"` -> ("rpp", "otio"); unknown or empty names are a ValueError naming them."""
    names = [n.strip().lower() for n in text.split(",")]
    bad = [n for n in names if n not in SESSION_FORMATS]
    if not text.strip() or bad:
        raise ValueError(f"session formats must be a comma list of {', '.join(SESSION_FORMATS)}"
                         f", got {text!r}")
    return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class Envelope:
    """Automation points: seconds from the picture's start, and values (linear between)."""

    times: np.ndarray
    values: np.ndarray


@dataclass(frozen=True)
class SessionTrack:
    """One track: its name, the WAV it plays (relative to OUTDIR), its channel count and the
    envelopes it carries (None: a baked stem, pan and level in the audio); `folder`: the folder
    (a group's bus) it sits in ("" for none; consecutive tracks of one folder); `muted`: starts
    muted; `group`: a group stem's role code ("" for an object's stem) and `members` the
    objects summed in it."""

    name: str
    path: str
    channels: int
    pan: Envelope | None = None
    volume: Envelope | None = None
    folder: str = ""
    muted: bool = False
    group: str = ""
    members: tuple[int, ...] = ()


@dataclass(frozen=True)
class Session:
    """A render as a DAW session. n_samples: the length of every stem; outdir: the folder the
    stems will be in (absolute, for the formats that need absolute media paths)."""

    name: str
    tracks: tuple[SessionTrack, ...]
    n_samples: int
    fps: Fraction
    timecode: Timecode
    outdir: Path
    video: Path | None
    pan_law: str
    mix: str = "mix.wav"

    @property
    def start_seconds(self) -> Fraction:
        """Where every item starts on the session's timeline (the start timecode)."""
        return self.timecode.seconds

    @property
    def duration_seconds(self) -> Fraction:
        return Fraction(self.n_samples, SAMPLE_RATE)


@dataclass(frozen=True)
class DryStem:
    """A dry stem ready to write: audio at -1 dBFS peak and its envelopes."""

    audio: np.ndarray
    pan: Envelope
    volume: Envelope


def _level_curve(placement: DryPlacement, level: np.ndarray,
                 limiter: Sequence[tuple[int, int, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """(sample positions, level) of the control-rate level times the limiter's per-sample gain:
    every control point, plus every sample of the limiter's spans and the samples around them
    (where its gain is back to 1)."""
    control = np.arange(level.size, dtype=np.int64) * placement.block
    if not limiter:
        return control, level
    last = int(control[-1])
    on = np.zeros(last + 1, dtype=bool)         # a mask, not set unions: O(n) for long spans
    on[control] = True
    for lo, hi, _ in limiter:
        on[max(lo - 1, 0): min(hi + 1, last + 1)] = True
    grid = np.flatnonzero(on)
    values = np.interp(grid, control, level)
    for lo, hi, gain in limiter:
        a, b = np.searchsorted(grid, [lo, hi])
        values[a:b] *= np.asarray(gain, dtype=np.float64)[grid[a:b] - lo]
    return grid, values


def dry_stem(placement: DryPlacement, *, master_gain: float,
             limiter: Sequence[tuple[int, int, np.ndarray]] = (), pan_tolerance: float = 0.001,
             volume_tolerance: float = 0.0005) -> DryStem:
    """Normalize a dry placement and thin its curves into envelopes (see the module docstring).

    The volume envelope is gain x master_gain x limiter / normalization, so dry x envelopes
    through the render's pan law is the baked stem. limiter: the spans (lo, hi, per-sample
    gain) of the master stage's limiter this stem carries."""
    if not 0.0 < pan_tolerance <= 0.01 or volume_tolerance <= 0.0:
        raise ValueError("pan_tolerance must be in (0, 0.01] and volume_tolerance positive")
    peak = float(np.max(np.abs(placement.audio), initial=0.0))
    scale = DRY_PEAK / peak if peak > 0 else 1.0
    audio = placement.audio * np.float32(scale)
    times = placement.control_times
    keep_pan = thin_points(times, placement.pan, tolerance=pan_tolerance)
    grid, level = _level_curve(placement, placement.gain * (master_gain / scale), limiter)
    level_times = grid / float(SAMPLE_RATE)
    floor = max(float(np.max(level, initial=0.0)) * 1e-6, 1e-12)
    keep_vol = thin_points(level_times, level,
                           tolerance=np.maximum(level, floor) * volume_tolerance)
    return DryStem(audio=audio,
                   pan=Envelope(times=times[keep_pan], values=placement.pan[keep_pan]),
                   volume=Envelope(times=level_times[keep_vol], values=level[keep_vol]))


def track_name(object_id: int, label: str, prompt: str) -> str:
    """`<id> <label>` plus the prompt where there is one (what the designer reads on a track)."""
    name = f"{object_id} {label}"
    return f"{name}: {prompt}"[:60] if prompt else name


def build_session(*, name: str, stems: Sequence[tuple[str, str, int] | SessionTrack],
                  n_samples: int, fps: Fraction, timecode: Timecode, outdir: Path,
                  video: Path | None, pan_law: str, dry: Mapping[str, DryStem] | None = None
                  ) -> Session:
    """A Session from (track name, stem path relative to OUTDIR, channels) triples or
    SessionTracks without envelopes; with `dry` (keyed by those paths), the tracks whose path
    is a dry stem get its envelopes (a group stem is baked: it has none)."""
    tracks = []
    for item in stems:
        track = item if isinstance(item, SessionTrack) else SessionTrack(*item)
        env = None if dry is None else dry.get(track.path)
        if env is not None:
            track = replace(track, pan=env.pan, volume=env.volume)
        tracks.append(track)
    if n_samples < 0 or not math.isfinite(float(fps)):
        raise ValueError("a session needs n_samples >= 0 and a finite frame rate")
    return Session(name=name, tracks=tuple(tracks), n_samples=n_samples, fps=fps,
                   timecode=timecode, outdir=outdir, video=video, pan_law=pan_law)
