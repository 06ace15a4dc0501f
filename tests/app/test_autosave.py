"""Autosave and crash recovery: a process that dies after autosaving leaves a recovery file with
its edits, the user's project file is never touched, stale recovery files are not offered."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from app import edits
from app.autosave import (
    AUTOSAVE_SCHEMA,
    AnalysisJsonCache,
    Autosaver,
    discard_recovery,
    find_recovery,
    load_recovery,
    load_recovery_state,
    recovery_path,
    recovery_text,
    unsaved_recoveries,
)
from app.history import History
from app.project import Project, load_project, save_project
from video.base.errors import InputError
from video.base.tracks import Analysis, Track, VideoInfo

REPO = Path(__file__).resolve().parents[2]


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _project(video: str = "/tmp/clip.mp4") -> Project:
    info = VideoInfo(path=video, width=64, height=48, fps=Fraction(25), duration=2.0, frames=50)
    tracks = tuple(Track(id=i, label="obj", frames=np.arange(5),
                         boxes=np.tile([1.0, 1.0, 9.0, 9.0], (5, 1))) for i in (1, 2))
    return Project(analysis=Analysis(video=info, objects=tracks))


def test_recovery_paths(tmp_path: Path) -> None:
    assert recovery_path(tmp_path / "song.json") == tmp_path / "song.autosave.json"
    assert recovery_path(tmp_path / "song.sfp") == tmp_path / "song.sfp.autosave.json"
    a = recovery_path(None, video_path="/videos/a/take.mp4", directory=tmp_path)
    b = recovery_path(None, video_path="/videos/b/take.mp4", directory=tmp_path)
    assert a.parent == tmp_path and a.name.startswith("take-") and a != b
    with pytest.raises(InputError, match="needs its video path"):
        recovery_path(None)


CRASHING_SESSION = textwrap.dedent("""
    import os, sys
    from app import edits
    from app.autosave import Autosaver
    from app.history import History
    from app.project import load_project

    path = sys.argv[1]
    project = load_project(path)
    history = History()
    saver = Autosaver(project_path=path, debounce_s=0.01, max_delay_s=0.01)
    history.apply(project, "Prompt 1", edits.set_prompt, 1, "door slam")
    history.apply(project, "Pan 2", edits.set_pan_offset, 2, -0.6)
    saver.mark_dirty()
    import time
    time.sleep(0.05)
    assert saver.tick(project)  # starts the background write
    saver.flush()               # ... which finishes before the "crash"
    os._exit(3)  # the crash: no save, no clean close
""")


def test_crash_leaves_recovery_with_edits_and_project_untouched(tmp_path: Path) -> None:
    path = tmp_path / "scene.json"
    save_project(_project(), path)
    original = path.read_bytes()
    os.utime(path, (1_000_000_000, 1_000_000_000))  # saved long ago
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", CRASHING_SESSION, str(path)], env=env,
                          capture_output=True, text=True, timeout=60, cwd=REPO)
    assert proc.returncode == 3, proc.stderr
    assert path.read_bytes() == original

    found = find_recovery(path)
    assert found is not None and found.path == tmp_path / "scene.autosave.json"
    assert found.project_path == path
    assert found.message.startswith("Unsaved changes to scene.json from ")
    recovered = found.load()
    assert recovered.object_sound(1).prompt == "door slam"
    assert recovered.object_sound(2).nudges.pan_offset == -0.6
    assert load_project(path).object_sound(1).prompt == ""
    assert not list(tmp_path.glob("*.tmp"))


def test_unsaved_project_recovers_by_video(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    video = str(tmp_path / "walk.mp4")
    project = _project(video)
    clock = FakeClock()
    saver = Autosaver(project_path=None, video_path=video, clock=clock)
    assert saver.path.parent == tmp_path / "data" / "stereofoley" / "recovery"
    edits.set_gain(project, 1, -9.0)
    saver.mark_dirty()
    clock.now = 2.0
    assert saver.tick(project)
    saver.flush()
    found = find_recovery(None, video_path=video)
    assert found is not None and found.project_path is None
    assert found.load().object_sound(1).nudges.gain_db == -9.0
    discard_recovery(None, video_path=video)
    assert find_recovery(None, video_path=video) is None


@pytest.mark.parametrize(
    ("steps", "written_at"),
    [
        ([(10.0, False), (40.0, False)], []),                 # never dirty: never written
        ([(10.0, True), (11.9, False)], []),                  # an edit, not quiet for 2 s yet
        ([(10.0, True), (12.0, False)], [12.0]),              # 2 s after the edit
        ([(10.0, True), (12.0, False), (70.0, False)], [12.0]),  # clean again after the write
        ([(10.0, True), (11.0, True), (12.5, False), (13.0, False)], [13.0]),  # debounced
        # edits every second (a long drag): written 5 s after the first one, then again
        ([(t, True) for t in np.arange(10.0, 22.0, 1.0)], [15.0, 21.0]),
        ([(10.0, True), (12.0, False), (45.0, True), (46.0, False), (47.0, False)],
         [12.0, 47.0]),
    ],
)
def test_tick_writes_a_few_seconds_after_an_edit(tmp_path: Path, steps: list[tuple[float, bool]],
                                                 written_at: list[float]) -> None:
    clock = FakeClock()
    saver = Autosaver(project_path=tmp_path / "p.json", debounce_s=2.0, max_delay_s=5.0,
                      clock=clock)
    project = _project()
    writes = []
    for now, edit in steps:
        clock.now = float(now)
        if edit:
            saver.mark_dirty()
        if saver.tick(project):
            writes.append(float(now))
        saver.flush()
    assert writes == written_at
    assert saver.writes == len(written_at)
    assert saver.path.exists() == bool(written_at)


def test_tick_follows_history_revision(tmp_path: Path) -> None:
    clock = FakeClock()
    saver = Autosaver(project_path=tmp_path / "p.json", clock=clock)
    project, history = _project(), History()
    clock.now = 10.0
    assert not saver.tick(project, revision=history.revision)  # first sight: nothing to save
    history.apply(project, "Width", edits.set_width, 2, 0.4)
    assert not saver.tick(project, revision=history.revision)  # seen now: due 2 s later
    clock.now = 12.0
    assert saver.tick(project, revision=history.revision)
    saver.flush()
    assert load_recovery(saver.path).object_sound(2).nudges.width == 0.4
    clock.now = 20.0
    assert not saver.tick(project, revision=history.revision)


def test_failed_background_write_is_retried(tmp_path: Path) -> None:
    clock = FakeClock()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    saver = Autosaver(project_path=blocker / "p.json", clock=clock)
    saver.mark_dirty()
    clock.now = 2.0
    assert saver.tick(_project())
    saver.flush()
    assert saver.last_error.startswith("autosave failed") and saver.writes == 0
    clock.now = 3.0
    assert not saver.tick(_project())           # the retry waits for the debounce again
    blocker.unlink()
    blocker.mkdir()
    clock.now = 5.0
    assert saver.tick(_project())
    saver.flush()
    assert saver.writes == 1 and saver.path.is_file() and not saver.last_error


def test_recovery_older_than_the_project_is_not_offered(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    saver = Autosaver(project_path=path)
    project = _project()
    assert saver.write_now(project)
    save_project(project, path)  # the user saved afterwards
    os.utime(saver.path, (1_000_000_000, 1_000_000_000))
    doc = json.loads(saver.path.read_text())
    doc["written"] = 1_000_000_000.0
    saver.path.write_text(json.dumps(doc))
    os.utime(saver.path, (1_000_000_000, 1_000_000_000))
    assert find_recovery(path) is None


def test_save_and_close_remove_the_recovery_file(tmp_path: Path) -> None:
    saver = Autosaver(project_path=None, video_path=str(tmp_path / "v.mp4"),
                      directory=tmp_path / "rec")
    project = _project()
    saver.mark_dirty()
    assert saver.write_now(project)
    old = saver.path
    saver.saved(tmp_path / "named.json")
    assert not old.exists() and saver.path == tmp_path / "named.autosave.json"
    assert not saver.dirty
    saver.write_now(project)
    assert saver.path.exists()
    saver.close()
    assert not saver.path.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "damaged"),
        ('{"schema": "other"}', "not a StereoFoley recovery file"),
        (json.dumps({"schema": AUTOSAVE_SCHEMA, "written": 1, "project": []}),
         "project must be a JSON object"),
    ],
)
def test_damaged_recovery_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "p.autosave.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        load_recovery(path)


def test_garbage_recovery_is_not_offered(tmp_path: Path) -> None:
    (tmp_path / "p.autosave.json").write_text("not json")
    assert find_recovery(tmp_path / "p.json") is None
    assert find_recovery(tmp_path / "missing.json") is None


def test_failed_write_is_reported_not_raised(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    saver = Autosaver(project_path=blocker / "sub" / "p.json")
    saver.mark_dirty()
    assert not saver.write_now(_project())
    assert saver.last_error.startswith("autosave failed") and saver.dirty


@pytest.mark.parametrize(("debounce", "max_delay"), [(0.0, 5.0), (-1.0, 5.0), (3.0, 2.0)])
def test_debounce_must_be_positive_and_within_the_max_delay(debounce: float,
                                                            max_delay: float) -> None:
    with pytest.raises(ValueError, match="debounce"):
        Autosaver(project_path=None, video_path="v.mp4", debounce_s=debounce,
                  max_delay_s=max_delay)


def test_recovery_document_round_trips_the_project(tmp_path: Path) -> None:
    project = _project()
    edits.set_prompt(project, 2, 'say "hi" \\ \u00e9')
    edits.add_pan_keyframe(project, 1, 0.5, -0.25)
    edits.set_render_settings(project, seed=11, pan_law="-4.5dB")
    doc = json.loads(recovery_text(project, project_path=tmp_path / "p.json"))
    assert doc["schema"] == AUTOSAVE_SCHEMA and doc["project_path"] == str(tmp_path / "p.json")
    assert doc["project"] == json.loads(json.dumps(project.to_dict()))


def test_analysis_json_is_reused_until_the_analysis_changes() -> None:
    cache = AnalysisJsonCache()
    project = _project()
    first = cache.text(project.analysis)
    edits.set_gain(project, 1, -3.0)          # nudges keep the same analysis object
    assert cache.text(project.analysis) is first
    edits.delete_object(project, 2)           # a track edit makes a new analysis
    again = cache.text(project.analysis)
    assert again is not first and json.loads(again)["objects"][0]["id"] == 1


def test_background_write_uses_a_snapshot(tmp_path: Path) -> None:
    clock = FakeClock()
    saver = Autosaver(project_path=tmp_path / "p.json", clock=clock)
    project = _project()
    edits.set_gain(project, 1, -3.0)
    saver.mark_dirty()
    clock.now = 2.0
    assert saver.tick(project)
    edits.set_gain(project, 1, -12.0)  # an edit while the write may still be running
    saver.mark_dirty()
    saver.flush()
    assert load_recovery(saver.path).object_sound(1).nudges.gain_db == -3.0
    assert saver.dirty  # the later edit still needs saving


def test_recovery_keeps_the_undo_history(tmp_path: Path) -> None:
    """After a crash the recovered project can be undone step by step to how it was opened,
    including a track edit (a new analysis, stored once) and a redo step."""
    project, history = _project(), History()
    opened = project.copy()
    history.apply(project, "Gain 1", edits.set_gain, 1, -6.0)
    history.apply(project, "Delete 2", edits.delete_object, 2)
    history.apply(project, "Prompt 1", edits.set_prompt, 1, "glass")
    history.apply(project, "Pan 1", edits.set_pan_offset, 1, 0.5)
    history.undo(project)                      # one redo step waiting
    saver = Autosaver(project_path=tmp_path / "p.json", background=False)
    saver.mark_dirty()
    assert saver.write_now(project, history=history.state())
    doc = json.loads(saver.path.read_text())
    assert len(doc["history"]["analyses"]) == 1          # the analysis before the delete, once
    assert [s["label"] for s in doc["history"]["undo"]] == ["Gain 1", "Delete 2", "Prompt 1"]
    assert [s["label"] for s in doc["history"]["redo"]] == ["Pan 1"]

    found = find_recovery(tmp_path / "p.json")
    assert found is not None
    recovered, state = found.load_state()
    assert state is not None
    fresh = History()
    fresh.restore_state(state)
    assert fresh.undo_label == "Prompt 1" and fresh.redo_label == "Pan 1"
    assert [o.id for o in recovered.objects] == [1] and recovered.object_sound(1).prompt == "glass"
    fresh.redo(recovered)
    assert recovered.object_sound(1).nudges.pan_offset == 0.5
    for _ in range(4):
        fresh.undo(recovered)
    assert not fresh.can_undo
    assert recovered.to_dict() == opened.to_dict()


def test_recovery_without_history_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "old.autosave.json"
    project = _project()
    doc = json.loads(recovery_text(project))
    assert "history" not in doc
    path.write_text(json.dumps(doc))
    recovered, state = load_recovery_state(path)
    assert state is None and recovered.to_dict() == project.to_dict()
    doc["history"] = {"analyses": [], "undo": [{"label": "x", "analysis": 3, "objects": [],
                                                "render": {}}], "redo": []}
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match="damaged undo history"):
        load_recovery_state(path)


def test_unsaved_recoveries_read_only_the_header(tmp_path: Path) -> None:
    saver = Autosaver(project_path=None, video_path=str(tmp_path / "a.mp4"),
                      directory=tmp_path, background=False)
    project = _project(str(tmp_path / "a.mp4"))
    assert saver.write_now(project)
    (tmp_path / "junk.autosave.json").write_text("{not json")
    Autosaver(project_path=tmp_path / "saved.json").write_now(project)  # a saved project's
    found = unsaved_recoveries(tmp_path)
    assert [r.path for r, _ in found] == [saver.path]
    recovery, video = found[0]
    assert video == {"path": str(tmp_path / "a.mp4"), "width": 64, "height": 48, "frames": 50,
                     "duration": 2.0}
    assert recovery.project_path is None and recovery.load().to_dict() == project.to_dict()
