"""The studio's view state around the Project: selection, playhead, rendered audio, job plans.

The Project is the source of truth for everything that is saved; `StudioState` holds what only
the open window needs (which object is selected, where the playhead is, the last render's
waveform envelopes, which objects' audio is out of date). Plain data and functions, so the
studio's behaviour is tested without a window.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from app.project import Project
from app.studio.envelopes import minmax_envelope

JobKind = Literal["analyze", "render", "regenerate", "respatialize", "track", "export"]


@dataclass(frozen=True)
class JobRequest:
    """One job the controller should queue: what, for which object, and its supersede key."""

    kind: JobKind
    object_id: int | None = None

    @property
    def key(self) -> str:
        """Same key = same target: a newer request replaces an older one still queued or running."""
        if self.kind in ("regenerate", "respatialize"):
            return f"{self.kind}:{self.object_id}"
        if self.kind == "track":
            return f"track:{id(self)}"
        return self.kind


def plan_jobs(dirty_ids: Iterable[int], *, regenerate: bool, have_render: bool,
              have_renderer: bool) -> list[JobRequest]:
    """Which jobs make the audio match the Project after an edit.

    Nothing rendered yet: one full render. A sound change (prompt, seed, sounds): regenerate each
    touched object. A placement change (pan, gain, distance, width, mute, solo): re-spatialize
    each touched object, which is fast when a live scene renderer exists; without one (it was
    lost or never built) a full render is the only way.
    """
    ids = sorted(set(dirty_ids))
    if not ids:
        return []
    if not have_render:
        return [JobRequest("render")]
    if regenerate:
        return [JobRequest("regenerate", i) for i in ids]
    if not have_renderer:
        return [JobRequest("render")]
    return [JobRequest("respatialize", i) for i in ids]


def audible_ids(mutes: Mapping[int, bool], solos: Mapping[int, bool]) -> set[int]:
    """Objects heard in the mix: any solo means only soloed ones; otherwise all but muted ones."""
    soloed = {i for i, s in solos.items() if s}
    if soloed:
        return soloed
    return {i for i, m in mutes.items() if not m}


@dataclass
class RenderView:
    """Waveform envelopes of the latest render, for the timeline (computed once per render)."""

    duration: float = 0.0
    mix: np.ndarray | None = None
    stems: dict[int, np.ndarray] = field(default_factory=dict)

    @classmethod
    def from_audio(cls, mix: np.ndarray, stems: Mapping[int, np.ndarray], *,
                   sample_rate: int) -> RenderView:
        return cls(duration=mix.shape[-1] / sample_rate, mix=minmax_envelope(mix),
                   stems={i: minmax_envelope(a) for i, a in stems.items()})

    def update_stem(self, object_id: int, stem: np.ndarray, mix: np.ndarray | None) -> None:
        """Replace one object's envelope (and the mix's) after a partial re-render."""
        self.stems[object_id] = minmax_envelope(stem)
        if mix is not None:
            self.mix = minmax_envelope(mix)


@dataclass
class StudioState:
    """What the window shows besides the Project itself."""

    project: Project | None = None
    project_path: Path | None = None
    source_path: Path | None = None
    selected: int | None = None
    playhead: float = 0.0
    loop: bool = False
    render: RenderView = field(default_factory=RenderView)
    stale: set[int] = field(default_factory=set)
    unsaved: bool = False
    message: str = ""
    error: str = ""
    revision: int = 0

    @property
    def duration(self) -> float:
        if self.project is None:
            return 0.0
        return float(self.project.analysis.video.duration)

    def object_ids(self) -> list[int]:
        return [] if self.project is None else [t.id for t in self.project.analysis.objects]

    def select(self, object_id: int | None) -> bool:
        """Select an object (None clears); unknown ids clear. True if the selection changed."""
        new = object_id if object_id in self.object_ids() else None
        changed = new != self.selected
        self.selected = new
        return changed

    def select_step(self, step: int) -> int | None:
        """Select the next (+1) / previous (-1) object in list order, wrapping; keyboard Tab."""
        ids = self.object_ids()
        if not ids:
            self.selected = None
            return None
        if self.selected not in ids:
            self.selected = ids[0] if step > 0 else ids[-1]
        else:
            self.selected = ids[(ids.index(self.selected) + step) % len(ids)]
        return self.selected

    def set_project(self, project: Project | None) -> None:
        """Show another (or an edited) Project: keep the selection if its object still exists."""
        self.project = project
        if self.selected not in self.object_ids():
            self.selected = None
        self.revision += 1

    def clamp_time(self, time_s: float) -> float:
        return float(min(max(time_s, 0.0), self.duration))

    def frame_index(self) -> int:
        """The video frame at the playhead."""
        if self.project is None:
            return 0
        return self.project.analysis.video.frame_at_time(self.playhead)

    def event_times(self) -> np.ndarray:
        """Every object's event times, sorted (prev/next event navigation)."""
        if self.project is None:
            return np.zeros(0)
        times = [e.time for t in self.project.analysis.objects for e in t.events]
        return np.array(sorted(times))

    def neighbour_event(self, direction: int, *, eps: float = 1e-3) -> float | None:
        """Time of the next (+1) or previous (-1) event relative to the playhead, or None."""
        times = self.event_times()
        if direction > 0:
            later = times[times > self.playhead + eps]
            return float(later[0]) if later.size else None
        earlier = times[times < self.playhead - eps]
        return float(earlier[-1]) if earlier.size else None
