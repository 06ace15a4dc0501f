"""Undo/redo of Project edits as labelled snapshots.

`Project.copy()` is cheap (the analysis and every ObjectSound are immutable), so each undo step
stores the whole project as it was *before* the step. Undo and redo restore a snapshot into the
same `Project` object in place (widgets holding a reference stay valid) and return what changed
(`app.edits.diff_projects`; what must be rendered again the scene renderer decides).

Typical use from the studio::

    history = History()
    result = history.apply(project, "Pan offset obj 3", edits.set_pan_offset, 3, 0.2,
                           coalesce_key=("pan_offset", 3))   # while dragging the slider
    history.seal()                                            # on mouse release
    step = history.undo(project)                              # Ctrl+Z

Coalescing: consecutive steps with the same `coalesce_key` (and no `seal()` between them, each
within `coalesce_window_s` of the previous one) are one undo step, so a drag of many small nudges
undoes in one go.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from app.edits import EditResult, diff_projects
from app.project import Project
from video.base.errors import InputError

DEFAULT_MAX_DEPTH = 200
DEFAULT_COALESCE_WINDOW_S = 1.5


@dataclass(frozen=True)
class HistoryConfig:
    """Undo depth (oldest steps are dropped beyond it) and the drag-coalescing time window."""

    max_depth: int = DEFAULT_MAX_DEPTH
    coalesce_window_s: float = DEFAULT_COALESCE_WINDOW_S

    def __post_init__(self) -> None:
        if self.max_depth < 1:
            raise ValueError(f"undo depth must be at least 1, got {self.max_depth}")
        if self.coalesce_window_s < 0:
            raise ValueError("coalesce window must be >= 0")


@dataclass(frozen=True)
class _Step:
    label: str
    snapshot: Project  # the project before the step (undo) or after it (redo)
    coalesce_key: Hashable | None


@dataclass(frozen=True)
class HistoryState:
    """The undo and redo stacks as plain data: (label, project snapshot) pairs, oldest first.

    The snapshots are never modified (restoring copies out of them), so a state taken on the UI
    thread can be written by a background thread (autosave) while editing goes on."""

    undo: tuple[tuple[str, Project], ...] = ()
    redo: tuple[tuple[str, Project], ...] = ()

    def projects(self) -> list[Project]:
        """Every snapshot, undo stack first."""
        return [p for _, p in self.undo] + [p for _, p in self.redo]

    def map_projects(self, fn: Callable[[Project], Project]) -> HistoryState:
        """The same stacks with `fn` applied to every snapshot (e.g. a relinked video path)."""
        return HistoryState(undo=tuple((label, fn(p)) for label, p in self.undo),
                            redo=tuple((label, fn(p)) for label, p in self.redo))


@dataclass(frozen=True)
class UndoStep:
    """What undo/redo did: the step's label and what it changed in the project."""

    label: str
    result: EditResult


def restore_into(project: Project, snapshot: Project) -> None:
    """Make `project` equal to `snapshot` in place (keeps the object identity)."""
    project.analysis = snapshot.analysis
    project.objects = list(snapshot.objects)
    project.render = snapshot.render


class History:
    """Bounded undo/redo stacks of labelled project snapshots with drag coalescing."""

    def __init__(self, config: HistoryConfig | None = None, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config if config is not None else HistoryConfig()
        self._clock = clock
        self._undo: deque[_Step] = deque(maxlen=self.config.max_depth)
        self._redo: list[_Step] = []
        self._last_time = -float("inf")
        self._sealed = True
        self.revision = 0
        """Counts every change made through the history (record, undo, redo): autosave and the
        title bar's "modified" mark compare it with the revision they last saw."""

    # -- recording -----------------------------------------------------------------------------

    def record(self, before: Project, label: str, *, coalesce_key: Hashable | None = None) -> bool:
        """Register a step whose pre-edit state is `before` (call it before editing).

        Returns False when the step was folded into the previous one (coalesced drag).
        Recording clears the redo stack.
        """
        now = self._clock()
        top = self._undo[-1] if self._undo else None
        coalesce = (coalesce_key is not None and top is not None and not self._sealed
                    and top.coalesce_key == coalesce_key and not self._redo
                    and now - self._last_time <= self.config.coalesce_window_s)
        self._last_time = now
        self._redo.clear()
        self.revision += 1
        if coalesce:
            return False
        self._undo.append(_Step(label=label, snapshot=before.copy(), coalesce_key=coalesce_key))
        self._sealed = coalesce_key is None
        return True

    def seal(self) -> None:
        """End the current drag: the next step starts a new undo step even with the same key."""
        self._sealed = True

    def apply(self, project: Project, label: str, edit: Callable[..., EditResult], *args: Any,
              coalesce_key: Hashable | None = None, **kwargs: Any) -> EditResult:
        """Run `edit(project, *args, **kwargs)` as one undoable step labelled `label`.

        If the edit raises (bad input), the project is left as it was and nothing is recorded.
        An edit that changed nothing records nothing either.
        """
        before = project.copy()
        try:
            result = edit(project, *args, **kwargs)
        except BaseException:
            restore_into(project, before)
            raise
        if _same_state(before, project):
            return result
        self.record(before, label, coalesce_key=coalesce_key)
        return result

    # -- undo / redo ---------------------------------------------------------------------------

    @property
    def can_undo(self) -> bool:
        """True when there is a step to undo (enables the Undo menu item)."""
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        """True when there is an undone step to redo."""
        return bool(self._redo)

    @property
    def undo_label(self) -> str | None:
        """Label of the step Ctrl+Z would undo ("Undo Pan offset obj 3" in a menu), or None."""
        return self._undo[-1].label if self._undo else None

    @property
    def redo_label(self) -> str | None:
        """Label of the step Ctrl+Shift+Z would redo, or None."""
        return self._redo[-1].label if self._redo else None

    @property
    def depth(self) -> int:
        """Number of steps that can be undone."""
        return len(self._undo)

    def labels(self) -> list[str]:
        """Undo step labels, oldest first (for a history panel)."""
        return [s.label for s in self._undo]

    def undo(self, project: Project) -> UndoStep:
        """Restore the state before the last step; raises InputError when there is none."""
        if not self._undo:
            raise InputError("nothing to undo")
        step = self._undo.pop()
        self._redo.append(_Step(label=step.label, snapshot=project.copy(),
                                coalesce_key=None))
        return self._restore(project, step)

    def redo(self, project: Project) -> UndoStep:
        """Re-apply the last undone step; raises InputError when there is none."""
        if not self._redo:
            raise InputError("nothing to redo")
        step = self._redo.pop()
        self._undo.append(_Step(label=step.label, snapshot=project.copy(), coalesce_key=None))
        return self._restore(project, step)

    def state(self) -> HistoryState:
        """The stacks as they are now (cheap: the snapshots are shared, not copied)."""
        return HistoryState(undo=tuple((s.label, s.snapshot) for s in self._undo),
                            redo=tuple((s.label, s.snapshot) for s in self._redo))

    def restore_state(self, state: HistoryState) -> None:
        """Replace the stacks with `state` (crash recovery: the edits made before the crash
        can be undone). Counts as a change (the revision moves on); the next step never
        coalesces with a restored one."""
        self._undo.clear()
        self._undo.extend(_Step(label=label, snapshot=p.copy(), coalesce_key=None)
                          for label, p in state.undo)
        self._redo = [_Step(label=label, snapshot=p.copy(), coalesce_key=None)
                      for label, p in state.redo]
        self._sealed = True
        self.revision += 1

    def clear(self) -> None:
        """Forget every step (e.g. after opening another project)."""
        self._undo.clear()
        self._redo.clear()
        self._sealed = True

    def _restore(self, project: Project, step: _Step) -> UndoStep:
        before = project.copy()
        restore_into(project, step.snapshot)
        self._sealed = True
        self.revision += 1
        return UndoStep(label=step.label, result=diff_projects(before, project))


def _same_state(a: Project, b: Project) -> bool:
    """Cheap identity test: edits build new immutable members, so unchanged means same objects."""
    return (a.analysis is b.analysis and a.render is b.render and len(a.objects) == len(b.objects)
            and all(x is y for x, y in zip(a.objects, b.objects, strict=True)))
