"""The studio's view state around the Project: selection, playhead, rendered audio, jobs.

The Project is the source of truth for everything that is saved; `StudioState` holds what only
the open window needs (which object is selected, where the playhead is, the last render's
waveform envelopes, which objects' audio is out of date as the scene renderer sees it). Plain
data and functions, so the studio's behaviour is tested without a window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from app.outdir import is_previous_render
from app.project import Project
from audio.overview import Overview
from video.base.errors import InputError

JobKind = Literal["analyze", "sync", "track", "export"]


@dataclass(frozen=True)
class JobRequest:
    """One job the controller queues: what it is for, and its supersede key."""

    kind: JobKind

    @property
    def key(self) -> str | None:
        """Same key = same target: a newer request replaces an older one still queued.

        Seeded tracking has none: two boxes drawn one after the other are two new objects.
        """
        return None if self.kind == "track" else self.kind


@dataclass
class RenderView:
    """Waveform envelopes of the latest render, for the timeline (`AudioLink.render_view`)."""

    duration: float = 0.0
    mix: np.ndarray | None = None
    stems: dict[int, np.ndarray] = field(default_factory=dict)
    overviews: dict[int, Overview] = field(default_factory=dict)
    """Per object, its stem's overview (a render through the stem cache: long projects)."""
    mix_overview: Overview | None = None


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

    def stale_text(self) -> str:
        """The status bar's note of the objects whose audio is out of date ("" when none)."""
        ids = sorted(self.stale)
        if not ids:
            return ""
        listed = ", ".join(str(i) for i in ids[:6]) + (", …" if len(ids) > 6 else "")
        return f"out of date: object{'s' if len(ids) > 1 else ''} {listed}"

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


def export_target(chosen: Path, video_path: str) -> tuple[Path, bool]:
    """Where an export to a folder picked in a dialog goes, and whether it replaces that folder.

    An empty or new folder is used as it is; a previous export is replaced; any other folder
    (the user picked "Documents") gets a new `<video>-foley` subfolder, so an export never
    deletes files it did not write.
    """
    if chosen.exists() and not chosen.is_dir():
        raise InputError(f"export target {chosen} is a file, not a folder")
    if not chosen.exists() or not any(chosen.iterdir()):
        return chosen, False
    if is_previous_render(chosen):
        return chosen, True
    base = f"{Path(video_path).stem or 'export'}-foley"
    candidate, n = chosen / base, 1
    while candidate.exists() and not is_previous_render(candidate) and any(candidate.iterdir()):
        n += 1
        candidate = chosen / f"{base}-{n}"
    return candidate, is_previous_render(candidate)


def busiest_time(project: Project) -> float:
    """A time (s) at which the most objects are on screen: where a screenshot shows most.

    Ties go to the middle of the clip's busiest stretch rather than its first frame.
    """
    video = project.analysis.video
    if video.frames <= 0:
        return 0.0
    counts = np.zeros(video.frames, dtype=np.int64)
    for track in project.analysis.objects:
        if len(track):
            counts[int(track.frames[0]):int(track.frames[-1]) + 1] += 1
    best = counts == counts.max()
    start = int(np.argmax(best))
    stop = start
    while stop + 1 < best.size and best[stop + 1]:
        stop += 1
    return video.time_of_frame((start + stop) // 2)
