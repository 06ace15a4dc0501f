"""Corrupt project / TRACKS documents through the real CLI (`render --project BAD.json` and
`studio BAD.json --headless-out OUT`): exit 2, exactly one `error:` line naming the bad field,
no OUT left. Each case is a valid project with one field broken the way hand-edited or
tool-written files break: null, a string for a bool or a number, 1e999, NaN, a list for an
object, negative frame indices, a box of the wrong length."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from app.cli import main
from app.project import Project, load_project, save_project
from video.base.errors import InputError
from video.synth import ObjectSpec, SceneSpec, write_clip

ROOT = Path(__file__).resolve().parents[2]
INF = "__1e999__"  # replaced by the bare JSON number 1e999 (json.loads reads it as inf)
NAN = float("nan")  # json.dumps writes NaN, which json.loads reads back


@pytest.fixture(scope="module")
def project_doc(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A 1 s clip with two objects and a valid project document for it (with events)."""
    folder = tmp_path_factory.mktemp("corrupt")
    spec = SceneSpec(width=160, height=96, fps=Fraction(25), duration=1.0, seed=2,
                     objects=(ObjectSpec("ball", start=(0.2, 0.2), velocity=(0.3, 0.0),
                                         size=0.25),
                              ObjectSpec("box", start=(0.7, 0.6), velocity=(-0.3, 0.0),
                                         size=0.25, color=(40, 90, 235))))
    video = folder / "clip.mp4"
    truth = write_clip(spec, video)
    assert len(truth.objects) == 2 and truth.objects[0].events
    doc = Project(analysis=truth).to_dict()
    return video, doc


def _set(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    node: Any = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


# (case, path into the project document, bad value, what the one error line must contain)
CASES: list[tuple[str, tuple[Any, ...], Any, str]] = [
    ("null nudges", ("objects", 1, "nudges"), None,
     "project objects[1].nudges must be an object, got null"),
    ("null render", ("render",), None, "project render must be an object, got null"),
    ("null analysis.video", ("analysis", "video"), None,
     "project analysis.video must be an object, got null"),
    ("1e999 duration", ("analysis", "video", "duration"), INF,
     "project analysis.video.duration must be a finite number, got Infinity"),
    ("NaN frame time", ("analysis", "video", "frame_times"), "nan-times",
     "project analysis.video.frame_times[3] must be a finite number, got NaN"),
    ("mute as string", ("objects", 1, "nudges", "mute"), "false",
     'project objects[1].nudges.mute must be true or false, got "false"'),
    ("solo as number", ("objects", 0, "nudges", "solo"), 1,
     "project objects[0].nudges.solo must be true or false, got 1"),
    ("objects not a list", ("objects",), {"id": 1}, "project objects must be a list"),
    ("render as list", ("render",), [], "project render must be an object, got []"),
    ("frames as string", ("analysis", "video", "frames"), "25",
     'project analysis.video.frames must be an integer, got "25"'),
    ("id as string", ("objects", 0, "id"), "1", 'project objects[0].id must be an integer'),
    ("negative frame index", ("analysis", "objects", 0, "frames", 0), -1,
     "project analysis.objects[0].frames[0] must be >= 0, got -1"),
    ("box of 3", ("analysis", "objects", 1, "boxes", 2), [1.0, 2.0, 3.0],
     "project analysis.objects[1].boxes[2] must have 4 items, got 3"),
    ("box NaN", ("analysis", "objects", 0, "boxes", 0, 1), NAN,
     "project analysis.objects[0].boxes[0][1] must be a finite number, got NaN"),
    ("box with a bool", ("analysis", "objects", 1, "boxes", 0, 2), True,
     "project analysis.objects[1].boxes[0][2] must be a number, got true"),
    ("frame as string", ("analysis", "objects", 1, "frames", 2), "2",
     'project analysis.objects[1].frames[2] must be an integer, got "2"'),
    ("fractional seed", ("render", "seed"), 1.5, "project render.seed must be an integer"),
    ("gain as string", ("objects", 0, "nudges", "gain_db"), "3",
     'project objects[0].nudges.gain_db must be a number, got "3"'),
    ("keyframe of 1", ("objects", 0, "nudges", "pan_keyframes"), [[0.1]],
     "project objects[0].nudges.pan_keyframes[0] must have 2 items, got 1"),
    ("keyframe pan 1e999", ("objects", 0, "nudges", "pan_keyframes"), [[0.1, INF]],
     "project objects[0].nudges.pan_keyframes[0][1] must be a finite number"),
    ("prompt as number", ("objects", 0, "prompt"), 5,
     "project objects[0].prompt must be a string, got 5"),
    ("event time null", ("analysis", "objects", 0, "events", 0, "time"), None,
     "project analysis.objects[0].events[0].time must be a number, got null"),
    ("libraries as string", ("render", "libraries"), "sounds/",
     'project render.libraries must be a list, got "sounds/"'),
    ("cut NaN", ("analysis", "cuts"), [0.5, NAN],
     "project analysis.cuts[1] must be a finite number, got NaN"),
    ("fps null", ("analysis", "video", "fps"), None,
     "project analysis.video.fps must be a number, got null"),
    ("air absorption as string", ("render", "air_absorption"), "yes",
     "project render.air_absorption must be true or false"),
    ("track as list", ("analysis", "objects", 1), [], "project analysis.objects[1] must be an object"),
    ("width out of range", ("objects", 1, "nudges", "width"), 5,
     "project objects[1].nudges: width must be in 0..1, got 5"),
    ("frames out of order", ("analysis", "objects", 0, "frames", 1), 0,
     "project analysis.objects[0]: track"),
    ("missing track id", ("analysis", "objects", 0, "id"), "<delete>",
     "project analysis.objects[0].id is missing"),
]


def _write_bad(doc: dict[str, Any], case: tuple[str, tuple[Any, ...], Any, str],
               folder: Path) -> Path:
    _, path, value, _ = case
    bad = copy.deepcopy(doc)
    if value == "<delete>":
        node: Any = bad
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
    elif value == "nan-times":
        frames = bad["analysis"]["video"]["frames"]
        times = [i / 25 for i in range(frames)]
        times[3] = NAN
        _set(bad, path, times)
    else:
        _set(bad, path, value)
    out = folder / "bad.json"
    out.write_text(json.dumps(bad).replace(f'"{INF}"', "1e999"))
    return out


def _one_error_line(err: str, message: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    assert message in lines[0], err
    assert "internal error" not in err and "Traceback" not in err


def test_the_valid_document_loads(project_doc: tuple[Path, dict[str, Any]],
                                  tmp_path: Path) -> None:
    """The corpus starts from a document that is fine: only the broken field fails."""
    _, doc = project_doc
    (tmp_path / "good.json").write_text(json.dumps(doc))
    assert len(load_project(tmp_path / "good.json").objects) == 2


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_corrupt_project_fails_in_the_parser(case: tuple[str, tuple[Any, ...], Any, str],
                                             project_doc: tuple[Path, dict[str, Any]],
                                             tmp_path: Path) -> None:
    bad = _write_bad(project_doc[1], case, tmp_path)
    with pytest.raises(InputError) as info:
        load_project(bad)
    assert case[3] in str(info.value)


@pytest.mark.parametrize("command", ["render", "studio"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_corrupt_project_is_one_error_line_and_no_output(
        command: str, case: tuple[str, tuple[Any, ...], Any, str],
        project_doc: tuple[Path, dict[str, Any]], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    video, doc = project_doc
    bad = _write_bad(doc, case, tmp_path)
    out = tmp_path / "out"
    if command == "render":
        argv = ["render", str(video), "-o", str(out), "--project", str(bad)]
    else:
        argv = ["studio", str(bad), "--headless-out", str(out)]
    code = main(argv)
    _, err = capsys.readouterr()
    assert code == 2, err
    _one_error_line(err, case[3])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json"]  # no OUT, no partial


def test_corrupt_project_through_the_installed_entry_point(
        project_doc: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    """The same contract at process level: exit status 2 and the one line on stderr."""
    video, doc = project_doc
    bad = _write_bad(doc, CASES[5], tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "app", "studio", str(bad), "--headless-out",
                           str(tmp_path / "out")], capture_output=True, text=True, timeout=120,
                          cwd=ROOT, env=env)
    assert proc.returncode == 2, proc.stderr
    _one_error_line(proc.stderr, CASES[5][3])
    assert not (tmp_path / "out").exists()


def test_saved_project_still_round_trips(project_doc: tuple[Path, dict[str, Any]],
                                         tmp_path: Path) -> None:
    """The typed readers accept everything the program writes (values unchanged)."""
    _, doc = project_doc
    (tmp_path / "p.json").write_text(json.dumps(doc))
    project = load_project(tmp_path / "p.json")
    save_project(project, tmp_path / "q.json")
    again = json.loads((tmp_path / "q.json").read_text())
    assert again["objects"] == doc["objects"] and again["render"] == doc["render"]
    assert again["analysis"]["objects"] == doc["analysis"]["objects"]
