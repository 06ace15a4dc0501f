import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from app.project import PROJECT_SCHEMA, Project, load_project, save_project
from audio.nudges import Nudges, PanKeyframe
from model.foley.scene import ObjectSound, RenderSettings
from video.base.errors import InputError
from video.base.tracks import Analysis, Track, VideoInfo


def _analysis() -> Analysis:
    info = VideoInfo(path="clip.mp4", width=320, height=240, fps=Fraction(25), duration=1.0,
                     frames=25)
    tracks = tuple(Track(id=i, label="obj", frames=np.arange(3), boxes=np.ones((3, 4)) * [0, 0, 5, 5])
                   for i in (3, 7))
    return Analysis(video=info, objects=tracks)


def test_project_round_trip(tmp_path: Path) -> None:
    project = Project(analysis=_analysis(), render=RenderSettings(seed=9, pan_law="-6dB"))
    assert [o.id for o in project.objects] == [3, 7]
    nudged = ObjectSound(id=7, prompt="footsteps on gravel",
                         nudges=Nudges(pan_offset=0.25, gain_db=-3.0,
                                       pan_keyframes=(PanKeyframe(0.5, -1.0), PanKeyframe(0.1, 1.0))))
    project.set_object_sound(nudged)
    path = tmp_path / "p.json"
    save_project(project, path)
    doc = json.loads(path.read_text())
    assert doc["schema"] == PROJECT_SCHEMA
    assert doc["objects"][1]["nudges"]["pan_keyframes"] == [[0.1, 1.0], [0.5, -1.0]]
    back = load_project(path)
    assert back.object_sound(7) == project.object_sound(7)
    assert back.render.seed == 9 and back.render.pan_law == "-6dB"
    assert Path(back.video_path).is_absolute()
    assert not list(tmp_path.glob("*.tmp"))


def test_the_limiting_cap_round_trips_and_older_projects_keep_their_master(
        tmp_path: Path) -> None:
    """A new project's render settings cap the limiter at 9 dB and save the cap; a project
    saved before the cap existed reads as uncapped, so it re-renders exactly as it did."""
    from model.foley.scene import NO_LIMITING_CAP

    path = tmp_path / "p.json"
    save_project(Project(analysis=_analysis()), path)
    doc = json.loads(path.read_text())
    assert doc["render"]["max_limiting_db"] == 9.0
    save_project(Project(analysis=_analysis(), render=RenderSettings(max_limiting_db=3.5)), path)
    assert load_project(path).render.max_limiting_db == 3.5
    del doc["render"]["max_limiting_db"]
    path.write_text(json.dumps(doc))
    assert load_project(path).render.max_limiting_db == NO_LIMITING_CAP == 60.0


@pytest.mark.parametrize("value", [-0.5, 60.5, float("inf")])
def test_a_bad_limiting_cap_is_refused(value: float) -> None:
    with pytest.raises(ValueError, match="limiting at most"):
        RenderSettings(max_limiting_db=value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON"),
        ("[]", "JSON object"),
        ('{"schema": "x"}', "unsupported project schema"),
        ('{"schema": "stereofoley.project/1"}', "no 'analysis'"),
    ],
)
def test_bad_project_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        load_project(path)


def test_project_objects_must_exist(tmp_path: Path) -> None:
    doc = Project(analysis=_analysis()).to_dict()
    doc["objects"].append({"id": 99})
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match="99"):
        load_project(path)


@pytest.mark.parametrize("kwargs", [{"width": 2.0}, {"gain_db": 100.0}, {"distance_scale": 0.0}])
def test_nudges_validation(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Nudges(**kwargs)  # type: ignore[arg-type]
