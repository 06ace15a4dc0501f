"""What a user loses: the studio writes a recovery file a few seconds after an edit (a fake clock
drives the debounce), the recovery restores the project with its undo history, and a project or
recovery whose video was moved is relinked to the same video (and only to the same video)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest

from app.autosave import find_recovery
from app.project import Project, load_project, save_project
from app.studio.session.audio_link import AudioLink
from app.studio.session.controller import StudioController
from app.studio.session.relink import (
    check_same_video,
    find_moved_recovery,
    relinked,
    same_video,
    video_missing,
)
from tests.app.studio.session.helpers import SESSION_SPEC, settle
from video.base.errors import InputError
from video.base.tracks import VideoInfo
from video.synth import write_clip


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _controller(tmp_path: Path, clock: FakeClock | None = None) -> StudioController:
    return StudioController(audio=AudioLink(silent=True), autosave_dir=tmp_path / "recovery",
                            clock=clock or FakeClock())


def _crash(ctl: StudioController) -> None:
    """The session dies: no save, no clean close (the recovery file stays)."""
    if ctl.autosaver is not None:
        ctl.autosaver.flush()
    ctl.worker.shutdown(timeout=3.0)
    ctl.audio.close()


def _edit_then_crash(tmp_path: Path, source: Path,
                     edit: Callable[[StudioController], None]) -> StudioController:
    """Open `source`, make one edit, let the autosave write it 2 s later, then crash."""
    clock = FakeClock()
    ctl = _controller(tmp_path, clock)
    try:
        ctl.open(source)
        settle(ctl)
        ctl.tick()
        edit(ctl)
        ctl.tick()
        clock.now += 2.0
        ctl.tick()
    finally:
        _crash(ctl)
    assert ctl.autosaver is not None and ctl.autosaver.writes == 1
    return ctl


@pytest.fixture
def moved_clip(tmp_path: Path) -> tuple[Path, Path]:
    """A project in a folder of its own and the video it was made from (both movable)."""
    folder = tmp_path / "shoot"
    folder.mkdir()
    truth = write_clip(SESSION_SPEC, folder / "clip.mp4")
    save_project(Project(analysis=truth), folder / "clip.json")
    return folder / "clip.mp4", folder / "clip.json"


def test_an_edit_is_autosaved_two_seconds_later_with_its_history(moved_clip: tuple[Path, Path],
                                                                 tmp_path: Path) -> None:
    _, project_file = moved_clip
    clock = FakeClock()
    first = _controller(tmp_path, clock)
    try:
        first.open(project_file)
        settle(first)
        first.tick()
        first.set_gain(1, -6.0)
        first.tick()                       # sees the edit
        clock.now += 1.9
        first.tick()
        assert first.autosaver is not None and first.autosaver.writes == 0  # not quiet yet
        first.set_prompt(2, "gravel")
        first.tick()
        clock.now += 1.9                   # 3.8 s after the first edit, 1.9 after the last
        first.tick()
        assert first.autosaver.writes == 0
        clock.now += 0.2
        first.tick()                       # 2 s of quiet: written (on the writer thread)
    finally:
        _crash(first)
    assert first.autosaver.writes == 1
    second = _controller(tmp_path)
    try:
        second.open(project_file)
        assert second.recovery is not None
        second.restore_recovery()
        settle(second)
        project = second.project
        assert project is not None
        assert project.object_sound(1).nudges.gain_db == -6.0
        assert project.object_sound(2).prompt == "gravel"
        assert second.unsaved
        # the edits made before the crash can still be undone, one by one
        assert second.undo() == "Prompt of object 2"
        assert project.object_sound(2).prompt == "" and project.object_sound(1).nudges.gain_db \
            == -6.0
        assert second.undo() == "Gain of object 1"
        assert project.object_sound(1).nudges.gain_db == 0.0
        assert second.undo() is None
        assert second.redo() == "Gain of object 1"
        assert project.object_sound(1).nudges.gain_db == -6.0
    finally:
        second.shutdown()


def test_project_with_a_moved_video_asks_to_relink(moved_clip: tuple[Path, Path],
                                                   tmp_path: Path) -> None:
    video, project_file = moved_clip
    _edit_then_crash(tmp_path, project_file, lambda ctl: ctl.set_width(2, 0.7))
    new_home = tmp_path / "archive"
    new_home.mkdir()
    moved = Path(shutil.move(str(video), new_home / "renamed.mp4"))
    assert video_missing(load_project(project_file))

    second = _controller(tmp_path)
    try:
        second.open(project_file)
        missing = second.missing_video
        assert missing is not None and second.project is None  # nothing opened yet
        assert missing.video_path == video and "clip.mp4" in missing.message
        # a different video is refused, and nothing changes
        other = tmp_path / "other.mp4"
        write_clip(replace(SESSION_SPEC, duration=2.0), other)
        with pytest.raises(InputError, match="not this project's video: it has 50 frames"):
            second.relink(other)
        assert second.missing_video is missing and second.project is None
        second.relink(moved)
        assert second.missing_video is None and second.project is not None
        assert second.project.video_path == str(moved.resolve())
        assert second.state.project_path == project_file
        # ... and the unsaved edits from before are offered and come back on the new path
        assert second.recovery is not None
        second.restore_recovery()
        settle(second)
        assert second.project.object_sound(2).nudges.width == 0.7
        assert second.project.video_path == str(moved.resolve())
        second.undo()
        assert second.project.object_sound(2).nudges.width != 0.7
        assert second.project.video_path == str(moved.resolve())  # undo keeps the new path
    finally:
        second.shutdown()


def test_skip_relink_opens_without_the_picture(moved_clip: tuple[Path, Path],
                                               tmp_path: Path) -> None:
    video, project_file = moved_clip
    video.unlink()
    ctl = _controller(tmp_path)
    try:
        ctl.open(project_file)
        assert ctl.missing_video is not None
        ctl.skip_relink()
        settle(ctl)
        assert ctl.missing_video is None and ctl.project is not None
        assert ctl.audio.has_render                      # the sound is there without a picture
    finally:
        ctl.shutdown()


def test_unsaved_project_recovery_follows_a_moved_video(moved_clip: tuple[Path, Path],
                                                        tmp_path: Path) -> None:
    """A never-saved project's recovery is named by the video's path; after the video moved,
    opening it at the new place still offers the recovery."""
    video, _ = moved_clip
    first = _edit_then_crash(tmp_path, video,  # analysed, never saved
                             lambda ctl: ctl.set_gain(ctl.state.object_ids()[0], -4.0))
    object_id = first.state.object_ids()[0]
    moved = Path(shutil.move(str(video), tmp_path / "moved.mp4"))
    assert find_recovery(None, video_path=str(moved), directory=tmp_path / "recovery") is None

    second = _controller(tmp_path)
    try:
        second.open(moved)
        settle(second)
        assert second.recovery is not None
        old_file = second.recovery.path
        second.restore_recovery()
        settle(second)
        assert second.project is not None
        assert second.project.object_sound(object_id).nudges.gain_db == -4.0
        assert second.project.video_path == str(moved.resolve())
        assert second.undo() == f"Gain of object {object_id}"
        # the recovery now lives under the video's new name only
        assert not old_file.exists() and second.autosaver is not None
        assert second.autosaver.path.is_file()
    finally:
        second.shutdown()


def _info(**changes: object) -> VideoInfo:
    base = VideoInfo(path="/v/a.mp4", width=320, height=180, fps=Fraction(25), duration=2.5,
                     frames=62)
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("found", "reason"),
    [
        (_info(path="/w/b.mp4"), ""),                               # moved and renamed: same
        (_info(duration=2.5 + 0.03), ""),                           # within a frame (40 ms)
        (_info(duration=2.6), "lasts 2.600 s"),
        (_info(frames=61), "has 61 frames"),
        (_info(width=640, height=360), "is 640x360"),
    ],
)
def test_same_video_table(found: VideoInfo, reason: str) -> None:
    got = same_video(_info(), found)
    assert (got == "") == (reason == "") and reason in got


def test_check_same_video_probes_the_file(moved_clip: tuple[Path, Path], tmp_path: Path) -> None:
    video, project_file = moved_clip
    info = load_project(project_file).analysis.video
    assert check_same_video(info, video) == video.resolve()
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video")
    with pytest.raises(InputError):
        check_same_video(info, notes)
    with pytest.raises(InputError):
        check_same_video(info, tmp_path / "nowhere.mp4")


def test_relinked_changes_only_the_path(moved_clip: tuple[Path, Path]) -> None:
    _, project_file = moved_clip
    project = load_project(project_file)
    moved = relinked(project, "/elsewhere/clip.mp4")
    assert moved.video_path == "/elsewhere/clip.mp4" and project.video_path != moved.video_path
    assert moved.analysis.objects == project.analysis.objects and moved.objects == project.objects


def test_moved_recovery_is_not_offered_for_another_video(tmp_path: Path) -> None:
    assert find_moved_recovery(_info(), directory=tmp_path / "none") is None


def test_a_project_opened_without_its_video_is_relinked_later(moved_clip: tuple[Path, Path],
                                                              tmp_path: Path) -> None:
    video, project_file = moved_clip
    moved = Path(shutil.move(str(video), tmp_path / "later.mp4"))
    ctl = _controller(tmp_path)
    try:
        assert ctl.hint().startswith("Open a video")
        ctl.open(project_file)
        assert ctl.hint() == "Video not found: clip.mp4 - locate it to relink the project"
        ctl.skip_relink()
        settle(ctl)
        assert ctl.hint().startswith("Video not found: clip.mp4 - File > Locate video")
        ctl.set_gain(1, -3.0)
        ctl.relink(moved)
        assert ctl.project is not None and ctl.project.video_path == str(moved.resolve())
        assert ctl.hint().startswith("Open a video") and ctl.unsaved
        ctl.undo()                                     # the gain edit; the path stays relinked
        assert ctl.project.object_sound(1).nudges.gain_db == 0.0
        assert ctl.project.video_path == str(moved.resolve())
    finally:
        ctl.shutdown()
