"""Undo/redo: labelled steps, in-place restore, drag coalescing, bounded depth, re-render info."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from app import edits
from app.history import History, HistoryConfig
from app.project import Project
from video.base.errors import InputError
from video.base.tracks import Analysis, Event, Track, VideoInfo


class FakeClock:
    """A controllable monotonic clock (seconds)."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def project() -> Project:
    info = VideoInfo(path="/tmp/clip.mp4", width=320, height=240, fps=Fraction(25), duration=2.0,
                     frames=50)
    tracks = tuple(Track(id=i, label=f"o{i}", frames=np.arange(10 * i, 10 * i + 20),
                         boxes=np.tile([10.0 * i, 0.0, 10.0 * i + 8, 8.0], (20, 1)),
                         events=(Event(0.4 * i, 0.5),)) for i in (1, 2, 3))
    return Project(analysis=Analysis(video=info, objects=tracks))


def test_undo_redo_restores_in_place_with_labels(project: Project) -> None:
    history = History()
    history.apply(project, "Prompt obj 1", edits.set_prompt, 1, "glass break")
    history.apply(project, "Pan offset obj 2", edits.set_pan_offset, 2, -0.4)
    assert history.labels() == ["Prompt obj 1", "Pan offset obj 2"]
    assert history.undo_label == "Pan offset obj 2" and not history.can_redo
    same_object = project

    step = history.undo(project)
    assert project is same_object
    assert step.label == "Pan offset obj 2"
    assert project.object_sound(2).nudges.pan_offset == 0.0
    assert step.result == edits.CHANGED
    assert history.redo_label == "Pan offset obj 2"

    step = history.undo(project)
    assert project.object_sound(1).prompt == "" and step.result == edits.CHANGED
    assert not history.can_undo
    with pytest.raises(InputError, match="nothing to undo"):
        history.undo(project)

    history.redo(project)
    history.redo(project)
    assert project.object_sound(1).prompt == "glass break"
    assert project.object_sound(2).nudges.pan_offset == -0.4
    with pytest.raises(InputError, match="nothing to redo"):
        history.redo(project)


@pytest.mark.parametrize(
    ("gaps", "seal_after", "expected_steps"),
    [
        ([0.02] * 30, None, 1),         # one continuous drag
        ([0.02] * 10 + [5.0] + [0.02] * 10, None, 2),  # a pause longer than the window
        ([0.02] * 20, 9, 2),            # mouse released after the 10th nudge
    ],
)
def test_drag_coalescing(project: Project, gaps: list[float], seal_after: int | None,
                         expected_steps: int) -> None:
    clock = FakeClock()
    history = History(HistoryConfig(coalesce_window_s=1.0), clock=clock)
    for i, gap in enumerate(gaps):
        clock.now += gap
        history.apply(project, "Pan offset obj 3", edits.set_pan_offset, 3, 0.01 * (i + 1),
                      coalesce_key=("pan", 3))
        if i == seal_after:
            history.seal()
    assert history.depth == expected_steps
    assert project.object_sound(3).nudges.pan_offset == pytest.approx(0.01 * len(gaps))
    for _ in range(expected_steps):
        history.undo(project)
    assert project.object_sound(3).nudges.pan_offset == 0.0


def test_different_keys_do_not_coalesce(project: Project) -> None:
    history = History()
    history.apply(project, "Pan obj 1", edits.set_pan_offset, 1, 0.1, coalesce_key=("pan", 1))
    history.apply(project, "Pan obj 2", edits.set_pan_offset, 2, 0.1, coalesce_key=("pan", 2))
    history.apply(project, "Pan obj 2", edits.set_pan_offset, 2, 0.3, coalesce_key=("pan", 2))
    assert history.labels() == ["Pan obj 1", "Pan obj 2"]
    history.undo(project)
    assert project.object_sound(2).nudges.pan_offset == 0.0
    assert project.object_sound(1).nudges.pan_offset == 0.1


def test_new_edit_clears_redo(project: Project) -> None:
    history = History()
    history.apply(project, "Gain obj 1", edits.set_gain, 1, -3.0)
    history.undo(project)
    assert history.can_redo
    history.apply(project, "Width obj 1", edits.set_width, 1, 0.5)
    assert not history.can_redo and history.labels() == ["Width obj 1"]


def test_depth_is_bounded_oldest_dropped(project: Project) -> None:
    history = History(HistoryConfig(max_depth=5))
    for i in range(12):
        history.apply(project, f"Gain {i}", edits.set_gain, 1, -float(i + 1))
    assert history.depth == 5
    assert history.labels() == [f"Gain {i}" for i in range(7, 12)]
    while history.can_undo:
        history.undo(project)
    assert project.object_sound(1).nudges.gain_db == -7.0  # the state before "Gain 7"


def test_failed_or_empty_edits_record_nothing(project: Project) -> None:
    history = History()
    with pytest.raises(InputError):
        history.apply(project, "Bad gain", edits.set_gain, 1, 99.0)
    history.apply(project, "Same prompt", edits.set_prompt, 1, "")
    assert history.depth == 0 and history.revision == 0


def test_structural_undo_restores_objects(project: Project) -> None:
    history = History()
    history.apply(project, "Merge 2 into 1", edits.merge_objects, 1, 2)
    history.apply(project, "Delete 3", edits.delete_object, 3)
    assert [t.id for t in project.analysis.objects] == [1]
    step = history.undo(project)
    assert step.result.added_ids == {3}
    step = history.undo(project)
    assert [t.id for t in project.analysis.objects] == [1, 2, 3]
    assert step.result.added_ids == {2} and step.result.changed and not step.result.removed_ids
    assert len(project.analysis.object(1)) == 20
    assert history.revision == 4


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        HistoryConfig(max_depth=0)
