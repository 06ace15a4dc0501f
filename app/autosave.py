"""Autosave and crash recovery.

While the project has unsaved edits, `Autosaver.tick` (called by the studio every UI frame; it
does nothing until it is due) writes a *recovery file* every `interval_s` seconds:

- `<project>.autosave.json` next to a saved project (`my.sfproj.json` -> `my.sfproj.autosave.json`);
- `<data dir>/stereofoley/recovery/<video name>-<hash>.autosave.json` for a project that was never
  saved (opened from a video), where the data dir is $XDG_DATA_HOME or ~/.local/share.

Recovery files are written atomically (`app.project.atomic_write_text`) and never replace the
user's project file: only an explicit save does that. A clean save or close deletes the recovery
file. At the next open, `find_recovery` offers the recovery file when it is newer than the
project file (or there is no project file); `load_recovery` reads it back as a Project.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.project import Project, atomic_write_text
from video.errors import InputError

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


def write_recovery(project: Project, path: str | os.PathLike[str], *,
                   project_path: str | os.PathLike[str] | None = None) -> None:
    """Write a recovery file atomically: the project plus where it belongs and when."""
    doc: dict[str, Any] = {"schema": AUTOSAVE_SCHEMA,
                           "project_path": None if project_path is None
                           else str(Path(project_path).resolve()),
                           "written": time.time(), "project": project.to_dict()}
    atomic_write_text(path, json.dumps(doc, indent=1))


@dataclass(frozen=True)
class Recovery:
    """A recovery file that is worth offering: where it is, what it belongs to, when written."""

    path: Path
    project_path: Path | None
    written: float

    def load(self) -> Project:
        """The recovered project (raises InputError if the file is damaged)."""
        return load_recovery(self.path)


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
    clean exit.
    """

    def __init__(self, *, project_path: str | os.PathLike[str] | None, video_path: str = "",
                 interval_s: float = DEFAULT_INTERVAL_S,
                 directory: str | os.PathLike[str] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
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
        return self.write_now(project)

    def write_now(self, project: Project) -> bool:
        """Write the recovery file now; True on success."""
        self._last_write = self._clock()
        try:
            write_recovery(project, self.path, project_path=self.project_path)
        except OSError as exc:
            self.last_error = f"autosave failed: {exc}"
            return False
        self._dirty = False
        self.writes += 1
        self.last_error = ""
        return True

    def saved(self, project_path: str | os.PathLike[str]) -> None:
        """The user saved to `project_path`: drop the old recovery file and follow the new path."""
        self.path.unlink(missing_ok=True)
        self.project_path = Path(project_path)
        self.path = recovery_path(self.project_path, video_path=self.video_path,
                                  directory=self._directory)
        self.path.unlink(missing_ok=True)
        self._dirty = False
        self._last_write = self._clock()

    def close(self) -> None:
        """A clean exit with nothing unsaved (or the user chose to discard): no recovery left."""
        self.path.unlink(missing_ok=True)
        self._dirty = False
