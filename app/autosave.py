"""Autosave and crash recovery.

While the project has unsaved edits, `Autosaver.tick` (called by the studio every UI frame; it
does nothing until it is due) writes a *recovery file* a few seconds after an edit: `debounce_s`
(2 s) after the last edit, or, while edits keep coming (a long slider drag), `max_delay_s` (5 s)
after the first edit not yet written. A crash loses at most those few seconds.

- `<project>.autosave.json` next to a saved project (`my.sfproj.json` -> `my.sfproj.autosave.json`);
- `<data dir>/stereofoley/recovery/<video name>-<hash>.autosave.json` for a project that was never
  saved (opened from a video), where the data dir is $XDG_DATA_HOME or ~/.local/share.

The file holds the project *and its undo history* (`app.history.HistoryState`), so after
"restore" the user can still undo the edits made before the crash, and a short description of
the video (size, frames, duration) so that a recovery of a video that was moved since can be
found and relinked (`find_moved_recovery`).

Recovery files are written atomically (`app.project.atomic_write_text`) and never replace the
user's project file: only an explicit save does that. `tick` writes on a background thread from
immutable snapshots (`Project.copy()`, `History.state()`), and each analysis (boxes on every
frame: most of the file) is serialized once per analysis object and reused while only sounds and
nudges change, so autosaving never stalls the UI. A clean save or close deletes the recovery
file. At the next open, `find_recovery` offers the recovery file when it is newer than the
project file (or there is no project file); `load_recovery` reads it back as a Project,
`load_recovery_state` as a Project and its history.
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

from app.history import History, HistoryState
from app.project import PROJECT_SCHEMA, Project, atomic_write_text
from model.foley.scene import ObjectSound, RenderSettings
from video.base.errors import InputError
from video.base.tracks import Analysis

AUTOSAVE_SCHEMA = "stereofoley.autosave/1"
AUTOSAVE_SUFFIX = ".autosave.json"
DEFAULT_DEBOUNCE_S = 2.0
DEFAULT_MAX_DELAY_S = 5.0


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


def _placeholder(index: int) -> str:
    return f"\u0000analysis{index}\u0000"


class AnalysisJsonCache:
    """The JSON text of each analysis serialized, reused while the analysis is the same object
    (analyses are immutable: any track edit makes a new one). Entries of analyses the last
    write did not use are dropped (`keep`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._texts: dict[int, tuple[Analysis, str]] = {}  # held, so ids cannot be reused

    def text(self, analysis: Analysis) -> str:
        """Compact JSON of `analysis.to_dict()`, computed once per analysis object."""
        with self._lock:
            entry = self._texts.get(id(analysis))
            if entry is None or entry[0] is not analysis:
                entry = (analysis, json.dumps(analysis.to_dict(), separators=(",", ":")))
                self._texts[id(analysis)] = entry
            return entry[1]

    def keep(self, analyses: list[Analysis]) -> None:
        """Forget every analysis but these."""
        with self._lock:
            wanted = {id(a) for a in analyses}
            self._texts = {k: v for k, v in self._texts.items() if k in wanted}


def _step_doc(label: str, project: Project, index: int) -> dict[str, Any]:
    return {"label": label, "analysis": index, "objects": [o.to_dict() for o in project.objects],
            "render": project.render.to_dict()}


def recovery_text(project: Project, *, project_path: str | os.PathLike[str] | None = None,
                  cache: AnalysisJsonCache | None = None,
                  history: HistoryState | None = None) -> str:
    """The recovery document: {"schema", "project_path", "written", "video", "project": Project
    JSON, "history": {"analyses": [...], "undo": [steps], "redo": [steps]}}; each step names its
    analysis by index (most steps share the project's, index 0), so it is stored once."""
    cache = cache or AnalysisJsonCache()
    analyses: list[Analysis] = [project.analysis]

    def index_of(analysis: Analysis) -> int:
        for i, known in enumerate(analyses):
            if known is analysis:
                return i
        analyses.append(analysis)
        return len(analyses) - 1

    steps: dict[str, list[dict[str, Any]]] = {"undo": [], "redo": []}
    if history is not None:
        for key, stack in (("undo", history.undo), ("redo", history.redo)):
            steps[key] = [_step_doc(label, p, index_of(p.analysis)) for label, p in stack]
    info = project.analysis.video
    doc: dict[str, Any] = {"schema": AUTOSAVE_SCHEMA,
                           "project_path": None if project_path is None
                           else str(Path(project_path).resolve()),
                           "written": time.time(),
                           "video": {"path": info.path, "width": info.width,
                                     "height": info.height, "frames": info.frames,
                                     "duration": info.duration},
                           "project": {"schema": PROJECT_SCHEMA, "analysis": _placeholder(0),
                                       "objects": [o.to_dict() for o in project.objects],
                                       "render": project.render.to_dict()}}
    if history is not None:  # without one, a restore is a single undoable step
        doc["history"] = {"analyses": [_placeholder(i) for i in range(1, len(analyses))],
                          **steps}
    text = json.dumps(doc, separators=(",", ":"))
    for i, analysis in enumerate(analyses):
        text = text.replace(json.dumps(_placeholder(i)), cache.text(analysis), 1)
    cache.keep(analyses)
    return text


def write_recovery(project: Project, path: str | os.PathLike[str], *,
                   project_path: str | os.PathLike[str] | None = None,
                   cache: AnalysisJsonCache | None = None,
                   history: HistoryState | None = None) -> None:
    """Write a recovery file atomically: the project, its undo history, where it belongs and
    when."""
    atomic_write_text(path, recovery_text(project, project_path=project_path, cache=cache,
                                          history=history))


@dataclass(frozen=True)
class Recovery:
    """A recovery file that is worth offering: where it is, what it belongs to, when written."""

    path: Path
    project_path: Path | None
    written: float

    def load(self) -> Project:
        """The recovered project (raises InputError if the file is damaged)."""
        return load_recovery(self.path)

    def load_state(self) -> tuple[Project, HistoryState | None]:
        """The recovered project and its undo history (None in a file without one)."""
        return load_recovery_state(self.path)

    @property
    def message(self) -> str:
        """One line for the "restore?" dialog."""
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.written))
        what = self.project_path.name if self.project_path is not None else "an unsaved project"
        return f"Unsaved changes to {what} from {when} were recovered. Restore them?"


def load_recovery(path: str | os.PathLike[str]) -> Project:
    """Read a recovery file back as a Project; bad files raise InputError."""
    return Project.from_dict(_read_doc(Path(path)).get("project"))


def load_recovery_state(path: str | os.PathLike[str]) -> tuple[Project, HistoryState | None]:
    """Read a recovery file back as a Project and its undo history; bad files raise InputError.

    A file written without a history gives None for it (the recovery is still one step)."""
    p = Path(path)
    doc = _read_doc(p)
    project = Project.from_dict(doc.get("project"))
    saved = doc.get("history")
    if saved is None:
        return project, None
    try:
        analyses = [project.analysis] + [Analysis.from_dict(a) for a in saved["analyses"]]

        def step(item: Any) -> tuple[str, Project]:
            objects = [ObjectSound.from_dict(o) for o in item["objects"]]
            return str(item["label"]), Project(analysis=analyses[int(item["analysis"])],
                                               objects=objects,
                                               render=RenderSettings.from_dict(item["render"]))

        state = HistoryState(undo=tuple(step(s) for s in saved["undo"]),
                             redo=tuple(step(s) for s in saved["redo"]))
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise InputError(f"recovery file {p} has a damaged undo history: {exc}") from None
    return project, state


def _read_doc(p: Path) -> dict[str, Any]:
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"recovery file not found: {p}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"recovery file {p} is damaged: {exc}") from None
    if not isinstance(doc, dict) or doc.get("schema") != AUTOSAVE_SCHEMA:
        raise InputError(f"{p} is not a StereoFoley recovery file")
    return doc


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


def unsaved_recoveries(directory: str | os.PathLike[str] | None = None
                       ) -> list[tuple[Recovery, dict[str, Any]]]:
    """Every readable recovery file of a never-saved project, newest first, with the video it
    was made from as the file records it ({"path", "width", "height", "frames", "duration"}).

    Used to find the recovery of a video that was moved since (its file is named by the old
    path)."""
    folder = Path(directory) if directory is not None else recovery_dir()
    found: list[tuple[Recovery, dict[str, Any]]] = []
    for path in folder.glob(f"*{AUTOSAVE_SUFFIX}"):
        try:
            doc = _read_header(path)
            if doc.get("schema") != AUTOSAVE_SCHEMA or doc.get("project_path") is not None:
                continue
            video = doc["video"]
            if not isinstance(video, dict):
                continue
            found.append((Recovery(path=path, project_path=None, written=float(doc["written"])),
                          video))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
    found.sort(key=lambda item: item[0].written, reverse=True)
    return found


def _read_header(path: Path, *, limit: int = 8192) -> dict[str, Any]:
    """The small fields written before "project" (schema, project_path, written, video),
    without reading the whole file (the analysis after them can be megabytes)."""
    with path.open("rb") as f:
        head = f.read(limit).decode("utf-8", errors="replace")
    cut = head.find(',"project":')
    if cut < 0:
        raise ValueError(f"{path.name}: no recovery header")
    doc = json.loads(head[:cut] + "}")
    if not isinstance(doc, dict):
        raise ValueError(f"{path.name}: no recovery header")
    return doc


def discard_recovery(project_path: str | os.PathLike[str] | None, *, video_path: str = "",
                     directory: str | os.PathLike[str] | None = None) -> None:
    """Delete the recovery file (after the user declined it, or after a clean save)."""
    recovery_path(project_path, video_path=video_path, directory=directory).unlink(
        missing_ok=True)


class Autosaver:
    """Writes the recovery file a few seconds after each edit while there are unsaved edits.

    The studio calls `mark_dirty()` after every edit (or passes `History.revision` to `tick`),
    `tick(project, history=...)` every UI frame, `saved(path)` after the user saved, and
    `close()` on a clean exit. A write is due `debounce_s` after the last edit, or `max_delay_s`
    after the first edit not yet written while edits keep coming. With `background=True` (the
    default) `tick` snapshots the project and the history and writes on a worker thread;
    `flush()` waits for a write in flight.
    """

    def __init__(self, *, project_path: str | os.PathLike[str] | None, video_path: str = "",
                 debounce_s: float = DEFAULT_DEBOUNCE_S, max_delay_s: float = DEFAULT_MAX_DELAY_S,
                 directory: str | os.PathLike[str] | None = None,
                 clock: Callable[[], float] = time.monotonic, background: bool = True) -> None:
        if not debounce_s > 0 or not max_delay_s >= debounce_s:
            raise ValueError(f"autosave needs 0 < debounce ({debounce_s}) <= max delay "
                             f"({max_delay_s})")
        self.debounce_s = float(debounce_s)
        self.max_delay_s = float(max_delay_s)
        self._clock = clock
        self._directory = directory
        self.project_path = Path(project_path) if project_path is not None else None
        self.video_path = video_path
        self.path = recovery_path(self.project_path, video_path=video_path, directory=directory)
        self._dirty = False
        self._first_edit = 0.0  # the first edit not yet written
        self._last_edit = 0.0
        self._failed = False  # set by a failed background write: retried later
        self._revision: int | None = None
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
        """An edit happened (now)."""
        now = self._clock()
        if not self._dirty:
            self._first_edit = now
        self._last_edit = now
        self._dirty = True

    def due(self) -> bool:
        """True when unsaved edits should be written now: quiet for `debounce_s`, or waiting
        for `max_delay_s` while edits keep coming."""
        if not self._dirty:
            return False
        now = self._clock()
        return (now - self._last_edit >= self.debounce_s
                or now - self._first_edit >= self.max_delay_s)

    def tick(self, project: Project, *, revision: int | None = None,
             history: History | None = None) -> bool:
        """Autosave if dirty and due; returns True when it started (or did) the write.

        With `revision` (e.g. `History.revision`), a revision different from the one last
        seen marks the project dirty, so the studio need not call `mark_dirty` itself. With
        `history`, its undo and redo stacks are saved too.
        A failed write (disk full, read-only folder) is remembered in `last_error` and retried
        `debounce_s` later; it never interrupts the user.
        """
        if self._failed:
            self._failed = False
            self.mark_dirty()
        if revision is not None:
            if self._revision is not None and revision != self._revision:
                self.mark_dirty()
            self._revision = revision
        if not self.due():
            return False
        state = history.state() if history is not None else None
        if not self._background:
            return self.write_now(project, history=state)
        if self._worker is not None and self._worker.is_alive():
            return False  # the previous write is still going: try again next frame
        snapshot, path = project.copy(), self.path
        self._dirty = False  # edits from now on make it dirty again
        self._worker = threading.Thread(target=self._write, args=(snapshot, path, state),
                                        name="autosave", daemon=True)
        self._worker.start()
        return True

    def write_now(self, project: Project, *, history: HistoryState | None = None) -> bool:
        """Write the recovery file now, on this thread; True on success."""
        self.flush()
        self._dirty = False
        ok = self._write(project, self.path, history)
        if not ok:
            self._failed = False
            self.mark_dirty()
        return ok

    def _write(self, project: Project, path: Path, history: HistoryState | None) -> bool:
        try:
            write_recovery(project, path, project_path=self.project_path, cache=self._cache,
                           history=history)
        except OSError as exc:
            self.last_error = f"autosave failed: {exc}"
            self._failed = True  # the UI thread marks it dirty again at its next tick
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
        self._failed = False

    def close(self) -> None:
        """A clean exit with nothing unsaved (or the user chose to discard): no recovery left."""
        self.flush()
        self.path.unlink(missing_ok=True)
        self._dirty = False
        self._failed = False
