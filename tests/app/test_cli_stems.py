"""`stereofoley render ... --stems objects|groups|both`: group files in OUTDIR/groups, no file
for a folded object (a bad value: tests/app/test_cli_render.py's bad-input table)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from app.cli import main
from app.project import Project, save_project
from tests.app.test_stem_groups import clip

__all__ = ["clip"]       # the module fixture: two walkers, a ball, a box entering at 2.3 s


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
                   ) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))


def test_stems_groups_writes_group_files_and_no_folded_object_files(
        clip: tuple, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    video, truth = clip
    save_project(Project(analysis=truth), tmp_path / "p.json")
    out = tmp_path / "out"
    code = main(["render", str(video), "-o", str(out), "--project", str(tmp_path / "p.json"),
                 "--stems", "groups", "--session", "rpp,otio"])
    printed, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads((out / "project.json").read_text())
    objects = {o["id"]: o for o in doc["objects"]}
    # the box is heard for 0.7 s: short, so only in its group
    assert objects[4]["folded"] == ["short"] and objects[4]["stem"] == ""
    assert objects[4]["audible_s"] == pytest.approx(0.7, abs=0.15)
    kept = sorted(p.name for p in (out / "stems").glob("*.wav"))
    assert kept == sorted(Path(o["stem"]).name for o in objects.values() if not o["folded"])
    assert "4_object.wav" not in kept and "1_walker.wav" in kept
    groups = doc["stems"]["groups"]
    assert sorted(p.relative_to(out).as_posix() for p in (out / "groups").glob("*.wav")) == \
        sorted(g["stem"] for g in groups)
    assert any(4 in g["members"] and 4 in g["folded"] for g in groups)
    assert sorted(m for g in groups for m in g["members"]) == [1, 2, 3, 4]
    # the groups sum to the mix (every object is active)
    total = sum(sf.read(out / g["stem"], always_2d=True)[0] for g in groups)
    mix, _ = sf.read(out / "mix.wav", always_2d=True)
    assert np.max(np.abs(total - mix)) < 1e-5
    assert f"{len(kept)} object stems + {len(groups)} group stems + mix" in printed
    # the session references the group stems only
    import opentimelineio as otio
    import rpp

    files = [t.find("ITEM").find("SOURCE").find("FILE")[1]
             for t in rpp.loads((out / "session.rpp").read_text()).findall("TRACK")[1:]]
    assert files == [g["stem"] for g in groups]
    timeline = otio.adapters.read_from_file(str(out / "session.otio"))
    assert [t[0].metadata["stereofoley"]["path"] for t in timeline.tracks
            if t.kind == otio.schema.TrackKind.Audio] == [g["stem"] for g in groups]


def test_stems_objects_is_the_default_and_writes_no_groups(clip: tuple, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    video, truth = clip
    save_project(Project(analysis=truth), tmp_path / "p.json")
    for name, extra in (("default", []), ("objects", ["--stems", "objects"])):
        out = tmp_path / name
        assert main(["render", str(video), "-o", str(out), "--project",
                     str(tmp_path / "p.json"), *extra]) == 0
        assert len(list((out / "stems").glob("*.wav"))) == 4
        assert not (out / "groups").exists()
        assert "stems" not in json.loads((out / "project.json").read_text())
    assert "4 stems + mix" in capsys.readouterr().out


def test_a_groups_render_renders_again_from_its_project_json(clip: tuple, tmp_path: Path
                                                            ) -> None:
    video, truth = clip
    save_project(Project(analysis=truth), tmp_path / "p.json")
    first, again = tmp_path / "first", tmp_path / "again"
    assert main(["render", str(video), "-o", str(first), "--project", str(tmp_path / "p.json"),
                 "--stems", "groups"]) == 0
    assert main(["render", str(video), "-o", str(again), "--project",
                 str(first / "project.json"), "--stems", "groups"]) == 0
    names = sorted(p.relative_to(first).as_posix() for p in first.rglob("*.wav"))
    assert names == sorted(p.relative_to(again).as_posix() for p in again.rglob("*.wav"))
    for name in names:
        assert np.array_equal(sf.read(first / name)[0], sf.read(again / name)[0]), name
