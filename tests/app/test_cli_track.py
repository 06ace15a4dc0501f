"""`--track FRAME:X0,Y0,X1,Y1[=CLASS]` of analyze and render: an object the analysis missed,
added from a box on one frame (app/drawn.py)."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from app.cli import main
from app.drawn import DrawnBox, parse_drawn
from app.project import Project, save_project
from video.base.errors import InputError
from video.base.tracks import Analysis
from video.synth import ObjectSpec, SceneSpec, write_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Analysis]:
    """A 2 s clip: a ball bouncing on the left, a box leaving on the right; the truth."""
    spec = SceneSpec(width=320, height=180, fps=Fraction(30), duration=2.0, seed=11,
                     objects=(ObjectSpec("ball", start=(0.25, 0.2), velocity=(0.15, 0.0),
                                         size=0.16),
                              ObjectSpec("box", start=(0.65, 0.5), velocity=(0.3, 0.0),
                                         size=0.2, color=(40, 90, 235))))
    path = tmp_path_factory.mktemp("track") / "scene.mp4"
    return path, write_clip(spec, path)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
                   ) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))


@pytest.mark.parametrize(("item", "expected"), [
    ("40:59,127,71,139", DrawnBox(40, (59.0, 127.0, 71.0, 139.0))),
    (" 3 : 1.5, 2, 30 ,40 =Sports_Ball", DrawnBox(3, (1.5, 2.0, 30.0, 40.0), "sports ball")),
    ("0:0,0,10,10=person", DrawnBox(0, (0.0, 0.0, 10.0, 10.0), "person")),
    ("40:59,127,71", "FRAME:X0,Y0,X1,Y1"),         # three numbers
    ("59,127,71,139", "FRAME:X0,Y0,X1,Y1"),        # no frame
    ("x:1,2,3,4", "FRAME:X0,Y0,X1,Y1"),            # a frame that is not an integer
    ("4:1,2,3,four", "FRAME:X0,Y0,X1,Y1"),         # a corner that is not a number
    ("4:1,2,30,40=ballz", "unknown class 'ballz'"),
])
def test_parse_drawn(item: str, expected: DrawnBox | str) -> None:
    if isinstance(expected, str):
        with pytest.raises(InputError, match=expected.replace("[", r"\[")):
            parse_drawn(item)
    else:
        assert parse_drawn(item) == expected


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _drawn_ball(truth: Analysis, frame: int) -> str:
    ball = next(t for t in truth.objects if t.label == "ball")
    box = ball.box_at(frame)
    assert box is not None
    return f"{frame}:" + ",".join(f"{v:.1f}" for v in box)


def test_analyze_adds_a_drawn_object(clip: tuple[Path, Analysis], tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    """The ball's box on frame 8, once as it is and once named: two new objects after the
    analysis's own, following the ball with its bounces; the named one keeps the name."""
    video, truth = clip
    out = tmp_path / "t.json"
    spec = _drawn_ball(truth, 8)
    code, stdout, err = _run(["analyze", str(video), "-o", str(out), "--track", spec,
                              "--track", spec + "=sports ball"], capsys)
    assert code == 0, err
    doc = Analysis.from_json(out.read_text())
    plain, named = doc.objects[-2:]
    assert [plain.id, named.id] == [len(doc.objects) - 1, len(doc.objects)]
    assert plain.label == "unknown" and plain.extra["label_shape"] == "ball"
    assert named.label == "sports ball" and named.extra["label_source"] == "user"
    ball = next(t for t in truth.objects if t.label == "ball")
    fps = float(truth.video.fps)
    for drawn in (plain, named):
        assert len(drawn) >= 0.9 * len(ball)
        centres = [(drawn.box_at(int(f))[[0, 2]].mean(), ball.box_at(int(f))[[0, 2]].mean())
                   for f in np.intersect1d(drawn.frames, ball.frames)]
        assert np.median([abs(a - b) for a, b in centres]) < 4.0
        found = np.array([e.time for e in drawn.events if e.kind == "impact"])
        inside = [e.time for e in ball.events
                  if drawn.frames[0] / fps + 0.1 < e.time < drawn.frames[-1] / fps - 0.1]
        assert inside and all(np.min(np.abs(found - t)) <= 1 / fps for t in inside), found
    # the printed table lists them with their ids
    assert [line.split()[0] for line in stdout.splitlines()[1:-1]][-2:] == [
        str(plain.id), str(named.id)]


@pytest.mark.parametrize(("item", "message"), [
    ("20:1,2,3", "--track must look like FRAME:X0,Y0,X1,Y1"),
    ("999:10,10,60,60", "--track 999:10,10,60,60: seed frame 999 is outside the video"),
    ("5:400,10,460,60", "must be at least 4x4 pixels inside the 320x180 picture"),
    ("5:10,10,60,60=ballz", "unknown class 'ballz'"),
])
def test_a_bad_track_is_one_error_line_and_no_output(clip: tuple[Path, Analysis], tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str],
                                                     item: str, message: str) -> None:
    video, _ = clip
    out = tmp_path / "t.json"
    code, _, err = _run(["analyze", str(video), "-o", str(out), "--track", item], capsys)
    lines = [line for line in err.strip().splitlines() if line.startswith("error:")]
    assert code == 2 and len(lines) == 1 and message in lines[0], err
    assert not out.exists()
    code, _, err = _run(["render", str(video), "-o", str(tmp_path / "r"), "--track", item],
                        capsys)
    assert code == 2 and message in err and not (tmp_path / "r").exists(), err


def test_render_adds_a_drawn_object_that_prompt_can_name(clip: tuple[Path, Analysis],
                                                         tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    """With a project (the truth without its ball), `--track` adds the ball as the next id,
    `--prompt` of that id is its prompt, and it gets a stem of its own with its hits in it."""
    video, truth = clip
    box = next(t for t in truth.objects if t.label != "ball")
    save_project(Project(analysis=truth.with_objects([box])), tmp_path / "p.json")
    out = tmp_path / "out"
    new_id = box.id + 1
    code, _, err = _run(["render", str(video), "-o", str(out), "--project",
                         str(tmp_path / "p.json"), "--seed", "2", "--track",
                         _drawn_ball(truth, 8), "--prompt", f"{new_id}=rubber ball"], capsys)
    assert code == 0, err
    doc = json.loads((out / "project.json").read_text())
    assert [o["id"] for o in doc["analysis"]["objects"]] == [box.id, new_id]
    sound = next(o for o in doc["objects"] if o["id"] == new_id)
    assert sound["prompt"] == "rubber ball" and (out / sound["stem"]).is_file()
    drawn = next(o for o in doc["analysis"]["objects"] if o["id"] == new_id)
    assert sum(e["kind"] == "impact" for e in drawn["events"]) >= 2
