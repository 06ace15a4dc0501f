"""Studio edits on a synthetic project: values land, bad input is refused untouched, and each
edit reports whether it changed the project and which objects appeared or disappeared (what must
be rendered again the scene renderer decides: tests/app/studio/session/test_sync.py)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from app import edits
from app.edits import EditResult
from app.project import Project
from audio.nudges import PanKeyframe
from video.base.errors import InputError
from video.base.tracks import Analysis, Event, Track, VideoInfo

FPS = Fraction(30000, 1001)


def _track(object_id: int, frames: list[int], x0: float, events: tuple[Event, ...] = ()) -> Track:
    boxes = np.array([[x0 + f, 10.0, x0 + f + 20.0, 40.0] for f in frames])
    return Track(id=object_id, label=f"obj{object_id}", frames=np.array(frames), boxes=boxes,
                 events=events)


@pytest.fixture
def project() -> Project:
    info = VideoInfo(path="/tmp/clip.mp4", width=320, height=240, fps=FPS, duration=4.0,
                     frames=120)
    tracks = (
        _track(1, list(range(0, 60)), 0.0, (Event(0.5, 0.9, "impact"), Event(1.5, 0.4, "step"))),
        _track(2, list(range(40, 100, 2)), 100.0, (Event(2.0, 0.7, "impact"),)),
        _track(5, [10, 11, 12], 200.0),
    )
    return Project(analysis=Analysis(video=info, objects=tracks))


def test_set_prompt_changes_only_that_object(project: Project) -> None:
    other = project.object_sound(1)
    result = edits.set_prompt(project, 2, "  footsteps   on gravel ")
    assert project.object_sound(2).prompt == "footsteps on gravel"
    assert result == edits.CHANGED and project.object_sound(1) is other
    assert edits.set_prompt(project, 2, "footsteps on gravel") == edits.NO_CHANGE


@pytest.mark.parametrize(
    ("edit", "args", "field", "expected"),
    [
        (edits.set_pan_offset, (0.35,), "pan_offset", 0.35),
        (edits.set_pan_offset, (-2.0,), "pan_offset", -2.0),
        (edits.set_gain, (-6.5,), "gain_db", -6.5),
        (edits.set_distance_scale, (2.0,), "distance_scale", 2.0),
        (edits.set_width, (0.75,), "width", 0.75),
    ],
)
def test_nudges_change_only_that_object(project: Project, edit: Callable[..., EditResult],
                                  args: tuple[Any, ...], field: str, expected: float) -> None:
    other_before = project.object_sound(2)
    result = edit(project, 1, *args)
    assert getattr(project.object_sound(1).nudges, field) == pytest.approx(expected)
    assert result == edits.CHANGED and project.object_sound(2) is other_before
    assert edit(project, 1, *args) == edits.NO_CHANGE           # the same value again


@pytest.mark.parametrize(
    ("edit", "args", "message"),
    [
        (edits.set_pan_offset, (1, 2.5), "pan offset must be in -2..2"),
        (edits.set_pan_offset, (1, float("nan")), "pan offset must be finite"),
        (edits.set_pan_offset, (1, "left"), "pan offset must be a number"),
        (edits.set_width, (1, True), "width must be a number"),
        (edits.set_gain, (1, 30.0), r"gain trim must be in -60..\+24 dB"),
        (edits.set_distance_scale, (1, 0.0), "distance scale must be in 0.05..20"),
        (edits.set_width, (1, -0.1), "width must be in 0..1"),
        (edits.set_pan_offset, (9, 0.1), "no object with id 9"),
        (edits.set_prompt, (1, "x" * 501), "prompt is too long"),
        (edits.set_prompt, (1, 42), "prompt must be text"),
        (edits.set_object_seed, (1, -1), "seed must be an integer in 0..2147483647"),
        (functools.partial(edits.set_render_settings, seed=2**31), (), "seed must be an integer in"),
        (functools.partial(edits.set_render_settings, true_peak_db=0.5), (),
         r"true-peak ceiling \(dBTP\) must be in -20..0"),
        (functools.partial(edits.set_render_settings, max_limiting_db=-1.0), (),
         r"limiting at most \(dB\) must be in 0..60"),
        (functools.partial(edits.set_render_settings, max_limiting_db=float("nan")), (),
         r"limiting at most \(dB\) must be"),
        (edits.set_object_seed, (1, 1.5), "seed must be an integer"),
        (edits.set_label, (1, "   "), "label must not be empty"),
        (edits.add_pan_keyframe, (1, 5.0, 0.0), r"keyframe time \(s\) must be in 0..4"),
        (edits.add_pan_keyframe, (1, 1.0, 1.5), "keyframe pan must be in -1..1"),
        (edits.remove_pan_keyframe, (1, 0), "has no pan keyframe 0"),
        (edits.move_pan_keyframe, (1, 3), "has no pan keyframe 3"),
        (edits.delete_object, (4,), "no object with id 4"),
        (edits.merge_objects, (1, 1), "cannot merge object 1 with itself"),
        (edits.merge_objects, (1, 8), "no object with id 8"),
    ],
)
def test_bad_input_is_refused_and_leaves_project_untouched(
        project: Project, edit: Callable[..., EditResult], args: tuple[Any, ...],
        message: str) -> None:
    before = project.to_dict()
    with pytest.raises(InputError, match=message):
        edit(project, *args)
    assert project.to_dict() == before


def test_mute_and_solo_toggle(project: Project) -> None:
    assert edits.toggle_mute(project, 2) == edits.CHANGED
    assert project.object_sound(2).nudges.mute
    assert edits.toggle_solo(project, 2) == edits.CHANGED
    assert project.object_sound(2).nudges.solo and project.object_sound(2).nudges.mute
    edits.toggle_mute(project, 2)
    assert not project.object_sound(2).nudges.mute


def test_pan_keyframes_add_replace_move_remove(project: Project) -> None:
    edits.add_pan_keyframe(project, 1, 2.0, 0.5)
    edits.add_pan_keyframe(project, 1, 1.0, -0.5)
    edits.add_pan_keyframe(project, 1, 3.0, 1.0)
    keys = project.object_sound(1).nudges.pan_keyframes
    assert [(k.time, k.pan) for k in keys] == [(1.0, -0.5), (2.0, 0.5), (3.0, 1.0)]
    # same time (within 1 ms) replaces
    edits.add_pan_keyframe(project, 1, 2.0004, -1.0)
    keys = project.object_sound(1).nudges.pan_keyframes
    assert len(keys) == 3 and keys[1] == PanKeyframe(2.0004, -1.0)
    # dragging keyframe 1 past its right neighbour is clamped 1 ms before it: index stays
    result = edits.move_pan_keyframe(project, 1, 1, time_s=3.8, pan=0.25)
    keys = project.object_sound(1).nudges.pan_keyframes
    assert keys[1].time == pytest.approx(2.999) and keys[1].pan == 0.25
    assert result == edits.CHANGED
    edits.move_pan_keyframe(project, 1, 0, time_s=0.0)
    assert project.object_sound(1).nudges.pan_keyframes[0].time == 0.0
    edits.remove_pan_keyframe(project, 1, 0)
    assert [k.time for k in project.object_sound(1).nudges.pan_keyframes] == \
        pytest.approx([2.999, 3.0])
    assert edits.clear_nudges(project, 1) == edits.CHANGED
    assert project.object_sound(1).nudges.pan_keyframes == ()
    assert edits.clear_nudges(project, 1) == edits.NO_CHANGE


def test_set_label_renames_the_track(project: Project) -> None:
    result = edits.set_label(project, 2, " red  car ")
    assert project.analysis.object(2).label == "red car"
    assert result == edits.CHANGED         # the label guides the sound of an unprompted object
    assert edits.set_label(project, 2, "red car") == edits.NO_CHANGE
    np.testing.assert_array_equal(project.analysis.object(2).frames, np.arange(40, 100, 2))


def test_delete_object_removes_track_and_sound(project: Project) -> None:
    edits.set_prompt(project, 2, "engine")
    result = edits.delete_object(project, 2)
    assert [t.id for t in project.analysis.objects] == [1, 5]
    assert [o.id for o in project.objects] == [1, 5]
    assert result == EditResult(changed=True, removed_ids=frozenset({2}))


def test_merge_objects_unions_frames_boxes_events(project: Project) -> None:
    edits.set_prompt(project, 1, "ball bounce")
    edits.set_pan_offset(project, 2, 0.5)
    keep, other = project.analysis.object(1), project.analysis.object(2)
    result = edits.merge_objects(project, 1, 2)
    merged = project.analysis.object(1)
    expected_frames = np.union1d(np.arange(0, 60), np.arange(40, 100, 2))
    np.testing.assert_array_equal(merged.frames, expected_frames)
    # keep's box wins on shared frames, other's box fills the rest
    for frame, source in ((50, keep), (80, other)):
        got, want = merged.box_at(frame), source.box_at(frame)
        assert got is not None and want is not None
        np.testing.assert_allclose(got, want)
    assert [e.time for e in merged.events] == [0.5, 1.5, 2.0]
    assert merged.label == "obj1" and project.object_sound(1).prompt == "ball bounce"
    assert [t.id for t in project.analysis.objects] == [1, 5]
    assert result == EditResult(changed=True, removed_ids=frozenset({2}))


def test_merge_events_dedupes_same_kind_keeping_stronger() -> None:
    a = _track(1, [0, 1], 0.0, (Event(1.0, 0.3, "impact"), Event(2.0, 0.5, "step")))
    b = _track(2, [5, 6], 0.0, (Event(1.0004, 0.8, "impact"), Event(2.0, 0.5, "impact")))
    merged = edits.merge_tracks(a, b)
    assert [(e.time, e.strength, e.kind) for e in merged.events] == [
        (1.0004, 0.8, "impact"), (2.0, 0.5, "impact"), (2.0, 0.5, "step")]


def test_add_object_gets_a_new_unique_id(project: Project) -> None:
    seeded = _track(1, [20, 21, 22, 23], 50.0)
    result = edits.add_object(project, seeded)
    assert result == EditResult(changed=True, added_ids=frozenset({6}))
    assert [t.id for t in project.analysis.objects] == [1, 2, 5, 6]
    np.testing.assert_array_equal(project.analysis.object(6).frames, [20, 21, 22, 23])
    assert project.object_sound(6).prompt == ""
    with pytest.raises(InputError, match="reaches frame 130, but the video has 120 frames"):
        edits.add_object(project, _track(0, [129, 130], 0.0))
    with pytest.raises(InputError, match="has no frames"):
        edits.add_object(project, _track(0, [], 0.0))


def test_render_settings_results(project: Project) -> None:
    assert edits.set_render_settings(project, seed=7) == edits.CHANGED
    assert project.render.seed == 7
    assert edits.set_render_settings(project, pan_law="-6dB") == edits.CHANGED
    assert project.render.pan_law == "-6dB"
    assert edits.set_render_settings(project, target_lufs=-16.0) == edits.CHANGED
    assert project.render.target_lufs == -16.0
    assert edits.set_render_settings(project, seed=7) == edits.NO_CHANGE
    before = project.render
    with pytest.raises(InputError, match="pan law must be one of"):
        edits.set_render_settings(project, pan_law="-5dB")
    with pytest.raises(InputError, match="target loudness"):
        edits.set_render_settings(project, target_lufs=3.0)
    assert project.render is before


def test_diff_projects_matches_the_edit(project: Project) -> None:
    cases: list[tuple[Callable[[Project], EditResult], EditResult]] = [
        (lambda p: edits.set_pan_offset(p, 5, 0.2), edits.CHANGED),
        (lambda p: edits.set_prompt(p, 1, "glass"), edits.CHANGED),
        (lambda p: edits.toggle_solo(p, 2), edits.CHANGED),
        (lambda p: edits.set_label(p, 2, "car"), edits.CHANGED),
        (lambda p: edits.set_render_settings(p, itd=True), edits.CHANGED),
        (lambda p: edits.delete_object(p, 5), EditResult(changed=True, removed_ids=frozenset({5}))),
        (lambda p: edits.add_object(p, _track(0, [3, 4], 9.0)),
         EditResult(changed=True, added_ids=frozenset({6}))),
    ]
    for edit, expected in cases:
        before = project.copy()
        after = project.copy()
        assert edit(after) == expected
        assert edits.diff_projects(before, after) == expected
        assert edits.diff_projects(before, before.copy()) == edits.NO_CHANGE


def test_merged_results_do_not_double_count() -> None:
    a = EditResult(changed=True, added_ids=frozenset({1, 2}))
    b = EditResult(removed_ids=frozenset({1}))
    assert a.merged(b) == EditResult(changed=True, added_ids=frozenset({2}),
                                     removed_ids=frozenset({1}))
    assert edits.NO_CHANGE.merged(edits.NO_CHANGE) == edits.NO_CHANGE


@pytest.mark.parametrize(("first", "last", "frames", "events"), [
    (None, 29, (0, 29), [0.5]),          # the end cut at frame 29: the step at 1.5 s goes
    (20, None, (20, 59), [1.5]),         # the start cut: the impact at 0.5 s (frame 15) goes
    (10, 50, (10, 50), [0.5, 1.5]),      # both
    (15, None, (15, 59), [0.5, 1.5]),    # an event on the first kept frame stays
    (-5, 500, (0, 59), [0.5, 1.5]),      # beyond its ends: nothing to cut
])
def test_trim_object_keeps_the_frames_between(project: Project, first: int | None,
                                              last: int | None, frames: tuple[int, int],
                                              events: list[float]) -> None:
    edits.set_prompt(project, 1, "ball")
    before = project.analysis.object(1)
    result = edits.trim_object(project, 1, first_frame=first, last_frame=last)
    after = project.analysis.object(1)
    np.testing.assert_array_equal(after.frames, np.arange(frames[0], frames[1] + 1))
    for f in after.frames:
        np.testing.assert_array_equal(after.box_at(int(f)), before.box_at(int(f)))
    assert [e.time for e in after.events] == events
    assert result == (edits.NO_CHANGE if frames == (0, 59) else edits.CHANGED)
    assert project.object_sound(1).prompt == "ball" and after.label == before.label
    assert project.analysis.object(2) is not None  # others untouched


@pytest.mark.parametrize(("object_id", "first", "last", "message"), [
    (1, 70, None, "would leave none of its frames"),
    (1, None, -1, "would leave none of its frames"),
    (1, 30, 20, "would leave none of its frames"),
    (9, 0, 10, "9"),
])
def test_trim_object_refuses_to_empty_or_unknown(project: Project, object_id: int,
                                                 first: int | None, last: int | None,
                                                 message: str) -> None:
    before = project.analysis
    with pytest.raises(InputError, match=message):
        edits.trim_object(project, object_id, first_frame=first, last_frame=last)
    assert project.analysis is before
