"""Autosave and crash recovery.

While the project has unsaved edits, `Autosaver.tick` (called by the studio every UI frame; it
does nothing until it is due) writes a *recovery file* every `interval_s` seconds:

- `<project>.autosave.json` next to a saved project (`my.sfproj.json` -> `my.sfproj.autosave.json`);
- `<data dir>/stereofoley/recovery/<video name>-<hash>.autosave.json` for a project that was never
  saved (opened from a video), where the data dir is $XDG_DATA_HOME or ~/.local/share.

Recovery files are written atomically (`app.project.atomic_write_text`) and never replace the
user's project file: only an explicit save does that. `tick` writes on a background thread from
an immutable snapshot (`Project.copy()`), and the analysis part (boxes on every frame: most of
the file) is serialized once per analysis object and reused while only sounds and nudges change,
so autosaving never stalls the UI. A clean save or close deletes the recovery
file. At the next open, `find_recovery` offers the recovery file when it is newer than the
project file (or there is no project file); `load_recovery` reads it back as a Project.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.project import PROJECT_SCHEMA, Project, atomic_write_text
from video.base.errors import InputError
from video.base.tracks import Analysis

AUTOSAVE_SCHEMA = "stereofoley.autosave/1"
AUTOSAVE_SUFFIX = ".autosave.json"
DEFAULT_INTERVAL_S = 30.0


def recovery_dir() -> Path:
    """Where recovery files of never-saved projects go."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "stereofoley" / "recovery"


def recovery_path(project_path: str | os.PathLike[str] | None, *, video_path: str = "",
                  directory: str | os.PathLike[str] | None = None) -> Path:
    """The recovery file for a saved project (beside it), or for an unsaved one (by video)."""
    if project_path is not None:
        p = Path(project_path)
        stem = p.name[:-len(".json")] if p.name.endswith(".json") else p.name
        return p.with_name(stem + AUTOSAVE_SUFFIX)
    if not video_path:
        raise InputError("an unsaved project needs its video path to name a recovery file")
    resolved = str(Path(video_path).expanduser().resolve())
    digest = hashlib.sha256(resolved.encode("utf-8")).hexdigest()[:12]
    folder = Path(directory) if directory is not None else recovery_dir()
    return folder / f"{Path(resolved).stem or 'video'}-{digest}{AUTOSAVE_SUFFIX}"


_PLACEHOLDER = "\u0000analysis\u0000"


class AnalysisJsonCache:
    """The JSON text of the last analysis serialized, reused while the analysis is the same
    object (analyses are immutable: any track edit makes a new one)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._analysis: Analysis | None = None
        self._text = ""

    def text(self, analysis: Analysis) -> str:
        """Compact JSON of `analysis.to_dict()`, computed once per analysis object."""
        with self._lock:
            if analysis is not self._analysis:
                self._text = json.dumps(analysis.to_dict(), separators=(",", ":"))
                self._analysis = analysis  # held, so its id cannot be reused by another
            return self._text


def recovery_text(project: Project, *, project_path: str | os.PathLike[str] | None = None,
                  cache: AnalysisJsonCache | None = None) -> str:
    """The recovery document: {"schema", "project_path", "written", "project": Project JSON}."""
    doc: dict[str, Any] = {"schema": AUTOSAVE_SCHEMA,
                           "project_path": None if project_path is None
                           else str(Path(project_path).resolve()),
                           "written": time.time(),
                           "project": {"schema": PROJECT_SCHEMA, "analysis": _PLACEHOLDER,
                                       "objects": [o.to_dict() for o in project.objects],
                                       "render": project.render.to_dict()}}
    analysis = (cache or AnalysisJsonCache()).text(project.analysis)
    text = json.dumps(doc, separators=(",", ":"))
    return text.replace(json.dumps(_PLACEHOLDER), analysis, 1)


def write_recovery(project: Project, path: str | os.PathLike[str], *,
                   project_path: str | os.PathLike[str] | None = None,
                   cache: AnalysisJsonCache | None = None) -> None:
    """Write a recovery file atomically: the project plus where it belongs and when."""
    atomic_write_text(path, recovery_text(project, project_path=project_path, cache=cache))


@dataclass(frozen=True)
class Recovery:
    """A recovery file that is worth offering: where it is, what it belongs to, when written."""

    path: Path
    project_path: Path | None
    written: float

    def load(self) -> Project:
        """The recovered project (raises InputError if the file is damaged)."""
        return load_recovery(self.path)

    @property
    def message(self) -> str:
        """One line for the "restore?" dialog."""
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.written))
        what = self.project_path.name if self.project_path is not None else "an unsaved project"
        return f"Unsaved changes to {what} from {when} were recovered. Restore them?"


def load_recovery(path: str | os.PathLike[str]) -> Project:
    """Read a recovery file back as a Project; bad files raise InputError."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"recovery file not found: {p}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"recovery file {p} is damaged: {exc}") from None
    if not isinstance(doc, dict) or doc.get("schema") != AUTOSAVE_SCHEMA:
        raise InputError(f"{p} is not a StereoFoley recovery file")
    return Project.from_dict(doc.get("project"))


def find_recovery(project_path: str | os.PathLike[str] | None, *, video_path: str = "",
                  directory: str | os.PathLike[str] | None = None) -> Recovery | None:
    """The recovery file to offer when opening a project (or a video, unsaved), if any.

    Offered only when it exists, is readable, and is newer than the project file (a recovery
    file older than the project is from before the last save and is not offered).
    """
    path = recovery_path(project_path, video_path=video_path, directory=directory)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        written = float(doc["written"])
        if doc.get("schema") != AUTOSAVE_SCHEMA:
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    owner = Path(project_path) if project_path is not None else None
    if owner is not None and owner.exists():
        if max(written, path.stat().st_mtime) <= owner.stat().st_mtime:
            return None
    return Recovery(path=path, project_path=owner, written=written)


def discard_recovery(project_path: str | os.PathLike[str] | None, *, video_path: str = "",
                     directory: str | os.PathLike[str] | None = None) -> None:
    """Delete the recovery file (after the user declined it, or after a clean save)."""
    recovery_path(project_path, video_path=video_path, directory=directory).unlink(
        missing_ok=True)


class Autosaver:
    """Writes the recovery file every `interval_s` seconds while there are unsaved edits.

    The studio calls `mark_dirty()` after every edit (or passes `History.revision` to `tick`),
    `tick(project)` every UI frame, `saved(path)` after the user saved, and `close()` on a
    clean exit. With `background=True` (the default) `tick` snapshots the project and writes
    on a worker thread; `flush()` waits for a write in flight.
    """

    def __init__(self, *, project_path: str | os.PathLike[str] | None, video_path: str = "",
                 interval_s: float = DEFAULT_INTERVAL_S,
                 directory: str | os.PathLike[str] | None = None,
                 clock: Callable[[], float] = time.monotonic, background: bool = True) -> None:
        if not interval_s > 0:
            raise ValueError(f"autosave interval must be positive, got {interval_s}")
        self.interval_s = float(interval_s)
        self._clock = clock
        self._directory = directory
        self.project_path = Path(project_path) if project_path is not None else None
        self.video_path = video_path
        self.path = recovery_path(self.project_path, video_path=video_path, directory=directory)
        self._dirty = False
        self._revision: int | None = None
        self._last_write = clock()
        self._background = background
        self._cache = AnalysisJsonCache()
        self._worker: threading.Thread | None = None
        self.writes = 0
        self.last_error = ""

    @property
    def dirty(self) -> bool:
        """True while there are edits that no save or autosave has written."""
        return self._dirty

    def mark_dirty(self) -> None:
        """An edit happened."""
        self._dirty = True

    def tick(self, project: Project, *, revision: int | None = None) -> bool:
        """Autosave if dirty and due; returns True when it wrote the recovery file.

        With `revision` (e.g. `History.revision`), a revision different from the one last
        seen marks the project dirty, so the studio need not call `mark_dirty` itself.
        A failed write (disk full, read-only folder) is remembered in `last_error` and retried
        at the next interval; it never interrupts the user.
        """
        if revision is not None:
            if self._revision is not None and revision != self._revision:
                self._dirty = True
            self._revision = revision
        if not self._dirty or self._clock() - self._last_write < self.interval_s:
            return False
        if not self._background:
            return self.write_now(project)
        if self._worker is not None and self._worker.is_alive():
            return False  # the previous write is still going: try again next frame
        snapshot, path = project.copy(), self.path
        self._last_write = self._clock()
        self._dirty = False  # edits from now on make it dirty again
        self._worker = threading.Thread(target=self._write, args=(snapshot, path),
                                        name="autosave", daemon=True)
        self._worker.start()
        return True

    def write_now(self, project: Project) -> bool:
        """Write the recovery file now, on this thread; True on success."""
        self.flush()
        self._last_write = self._clock()
        self._dirty = False
        return self._write(project, self.path)

    def _write(self, project: Project, path: Path) -> bool:
        try:
            write_recovery(project, path, project_path=self.project_path, cache=self._cache)
        except OSError as exc:
            self.last_error = f"autosave failed: {exc}"
            self._dirty = True  # retried at the next interval
            return False
        self.writes += 1
        self.last_error = ""
        return True

    def flush(self, timeout: float | None = 30.0) -> None:
        """Wait for a background write in flight (if any) to finish."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)

    def saved(self, project_path: str | os.PathLike[str]) -> None:
        """The user saved to `project_path`: drop the old recovery file and follow the new path."""
        self.flush()
        self.path.unlink(missing_ok=True)
        self.project_path = Path(project_path)
        self.path = recovery_path(self.project_path, video_path=self.video_path,
                                  directory=self._directory)
        self.path.unlink(missing_ok=True)
        self._dirty = False
        self._last_write = self._clock()

    def close(self) -> None:
        """A clean exit with nothing unsaved (or the user chose to discard): no recovery left."""
        self.flush()
        self.path.unlink(missing_ok=True)
        self._dirty = False
