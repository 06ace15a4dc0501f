"""app.stem_groups through app.export: group stems by role, folded short/quiet objects, what
project.json, report.txt and the DAW sessions say about them.

The export is fed a RenderResult with stems of known audible durations and levels (so the fold
rule is checked against known truth), and once a real render of a synthetic clip (so a group is
checked against its members' object stems as written)."""

from __future__ import annotations

import json
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from app.export import export_render
from app.project import Project
from app.stem_groups import group_path, parse_stem_mode, plan_stems
from model.foley.render import RenderResult, render_scene
from video.base.tracks import Analysis
from video.synth import ObjectSpec, SceneSpec, write_clip

SR = 48_000
DURATION = 3.0
LSB = 2.0 ** -23                       # one 24-bit step


def _read(path: Path) -> np.ndarray:
    data, rate = sf.read(path, always_2d=True, dtype="float64")
    assert rate == SR
    return data.T


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Analysis]:
    """Two walkers, a ball and a box sliding in near the end (objects 1..4)."""
    folder = tmp_path_factory.mktemp("groups-clip")
    spec = SceneSpec(width=320, height=180, fps=Fraction(25), duration=DURATION, seed=3,
                     objects=(ObjectSpec("walker", start=(0.1, 0.6), velocity=(0.2, 0.0),
                                         size=0.3),
                              ObjectSpec("walker", start=(0.9, 0.6), velocity=(-0.2, 0.0),
                                         size=0.25, color=(230, 200, 40)),
                              ObjectSpec("ball", start=(0.6, 0.3), velocity=(-0.2, 0.0),
                                         size=0.15, color=(40, 200, 40)),
                              ObjectSpec("box", start=(0.4, 0.3), velocity=(0.3, 0.0),
                                         size=0.12, color=(40, 90, 235), t_enter=2.3)))
    truth = write_clip(spec, folder / "clip.mp4")
    truth = replace(truth, video=replace(truth.video, path=str(folder / "clip.mp4")))
    assert [t.label for t in truth.objects] == ["walker", "walker", "ball", "object"]
    return folder / "clip.mp4", truth


def _noise(seconds: float, rms: float, pan: float, *, seed: int, at: float = 0.2
           ) -> np.ndarray:
    """A stereo stem: `seconds` of noise at `rms` from `at`, panned by constant power."""
    rng = np.random.default_rng(seed)
    out = np.zeros((2, int(DURATION * SR)), dtype=np.float32)
    a, b = int(at * SR), int((at + seconds) * SR)
    mono = rng.standard_normal(b - a)
    mono *= rms / np.sqrt(np.mean(mono ** 2))
    theta = (pan + 1) * np.pi / 4
    out[0, a:b], out[1, a:b] = mono * np.cos(theta), mono * np.sin(theta)
    return out


def _known(truth: Analysis) -> tuple[Project, RenderResult]:
    """Objects: 1 walker long and loud; 2 walker long but 34 dB down (quiet); 3 ball 0.4 s
    (short); 4 box muted (short, but muted objects never fold)."""
    project = Project(analysis=truth)
    project.objects = [replace(o, nudges=replace(o.nudges, mute=True)) if o.id == 4 else o
                       for o in project.objects]
    stems = {1: _noise(2.5, 0.1, -0.6, seed=1), 2: _noise(2.5, 0.002, 0.7, seed=2),
             3: _noise(0.4, 0.1, 0.2, seed=3, at=1.0), 4: _noise(0.5, 0.1, 0.0, seed=4)}
    mix = stems[1] + stems[2] + stems[3]
    chosen = {1: {"recipe": "person"}, 2: {"recipe": "person"}, 3: {"recipe": "sports ball"},
              4: {"recipe": "motion", "layers": [{"kind": "whoosh", "bed": False}]}}
    result = RenderResult(n_samples=int(DURATION * SR), dry={}, stems=stems, mix=mix,
                          master={"gain_db": 0.0}, chosen=chosen)
    return project, result


def test_the_plan_groups_by_role_and_folds_short_and_quiet_objects(clip: tuple) -> None:
    _, truth = clip
    project, result = _known(truth)
    layout = plan_stems(project, result, mode="groups")
    assert [(g.code, g.members, g.summed, g.folded) for g in layout.groups] == [
        ("FEET", (1, 2), (1, 2), (2,)), ("IMPT", (3,), (3,), (3,))]
    # the muted box's role has no other object: no (silent) movement group
    assert layout.roles[4] == "MOVE" and layout.group_of(4) is None
    assert layout.reasons == {1: (), 2: ("quiet",), 3: ("short",), 4: ()}
    assert layout.levels[3].audible_s == pytest.approx(0.4, abs=0.05)
    # -54 dB of mono over two channels by constant power: -3 dB per channel on average
    assert layout.levels[2].level_db == pytest.approx(-57.0, abs=0.5)
    assert layout.levels[2].audible_s == pytest.approx(2.5, abs=0.05)
    assert [layout.has_file(i) for i in (1, 2, 3, 4)] == [True, False, False, True]
    both = plan_stems(project, result, mode="both")
    assert all(both.has_file(i) for i in (1, 2, 3, 4)) and both.reasons == layout.reasons
    assert plan_stems(project, result).groups == ()          # objects: today's export
    # a muted member is listed, not summed, never folded
    project.objects = [replace(o, nudges=replace(o.nudges, mute=True)) if o.id == 2 else o
                       for o in project.objects]
    feet = plan_stems(project, result, mode="groups").groups[0]
    assert (feet.members, feet.summed, feet.folded) == ((1, 2), (1,), ())


def test_groups_export_writes_group_sums_and_no_folded_files(clip: tuple, tmp_path: Path
                                                             ) -> None:
    _, truth = clip
    project, result = _known(truth)
    out = export_render(tmp_path / "out", project, result, stems="groups",
                        sessions=("rpp", "otio"))
    assert sorted(p.name for p in (out / "stems").glob("*.wav")) == ["1_walker.wav",
                                                                    "4_object.wav"]
    assert sorted(p.name for p in (out / "groups").glob("*.wav")) == [
        "FEET_footsteps.wav", "IMPT_impacts.wav"]
    feet = _read(out / "groups" / "FEET_footsteps.wav")
    np.testing.assert_allclose(feet, result.stems[1] + result.stems[2], atol=2 * LSB)
    # each member keeps its own pan: the left-panned walker dominates the left channel
    assert np.sum(feet[0] ** 2) > 5 * np.sum(feet[1] ** 2)
    assert not (out / "groups" / "MOVE_movement.wav").exists()    # its only object is muted
    groups_sum = sum(_read(p) for p in (out / "groups").glob("*.wav"))
    np.testing.assert_allclose(groups_sum, _read(out / "mix.wav"), atol=4 * LSB)
    doc = json.loads((out / "project.json").read_text())
    assert doc["stems"]["mode"] == "groups" and doc["stems"]["fold"]["short_s"] == 1.0
    assert [(g["stem"], g["members"], g["folded"]) for g in doc["stems"]["groups"]] == [
        ("groups/FEET_footsteps.wav", [1, 2], [2]), ("groups/IMPT_impacts.wav", [3], [3])]
    objs = {o["id"]: o for o in doc["objects"]}
    assert [objs[i]["stem"] for i in (1, 2, 3, 4)] == ["stems/1_walker.wav", "", "",
                                                      "stems/4_object.wav"]
    assert objs[2]["folded"] == ["quiet"] and objs[3]["folded"] == ["short"]
    assert objs[3]["group"] == "groups/IMPT_impacts.wav" and objs[1]["role"] == "FEET"
    assert (objs[4]["role"], objs[4]["group"], objs[4]["folded"]) == ("MOVE", "", [])
    report = (out / "report.txt").read_text()
    assert "Groups (2, --stems groups" in report
    assert "FEET  footsteps" in report and "1 2*  groups/FEET_footsteps.wav" in report
    # the session holds only the groups
    import rpp

    root = rpp.loads((out / "session.rpp").read_text())
    files = [t.find("ITEM").find("SOURCE").find("FILE")[1] for t in root.findall("TRACK")
             if t.find("ITEM") is not None and t.find("NAME")[1] != "video"]
    assert files == [group_path("FEET"), group_path("IMPT")]
    import opentimelineio as otio

    timeline = otio.adapters.read_from_file(str(out / "session.otio"))
    audio = [t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Audio]
    assert [t.name for t in audio] == ["FEET footsteps", "IMPT impacts"]
    assert [list(t[0].metadata["stereofoley"]["members"]) for t in audio] == [[1, 2], [3]]
    assert [t[0].metadata["stereofoley"]["group"] for t in audio] == ["FEET", "IMPT"]
    assert all(t.enabled for t in audio)


def test_both_puts_each_group_in_a_reaper_folder_with_its_objects_muted(clip: tuple,
                                                                         tmp_path: Path
                                                                         ) -> None:
    import opentimelineio as otio
    import rpp

    _, truth = clip
    project, result = _known(truth)
    out = export_render(tmp_path / "out", project, result, stems="both",
                        sessions=("rpp", "otio", "aaf"))
    assert len(list((out / "stems").glob("*.wav"))) == 4
    assert len(list((out / "groups").glob("*.wav"))) == 2
    rows = []
    for track in rpp.loads((out / "session.rpp").read_text()).findall("TRACK")[1:]:
        bus = track.find("ISBUS")
        item = track.find("ITEM")
        rows.append((track.find("NAME")[1], None if bus is None else tuple(bus[1:]),
                     track.find("MUTESOLO") is not None,
                     None if item is None else item.find("SOURCE").find("FILE")[1]))
    assert rows == [
        ("FEET footsteps", ("1", "1"), False, None),
        ("FEET footsteps stem", ("0", "0"), False, "groups/FEET_footsteps.wav"),
        ("1 walker", ("0", "0"), True, "stems/1_walker.wav"),
        ("2 walker", ("2", "-1"), True, "stems/2_walker.wav"),
        ("IMPT impacts", ("1", "1"), False, None),
        ("IMPT impacts stem", ("0", "0"), False, "groups/IMPT_impacts.wav"),
        ("3 ball", ("2", "-1"), True, "stems/3_ball.wav"),
        ("4 object", None, False, "stems/4_object.wav")]       # in no group: after them
    timeline = otio.adapters.read_from_file(str(out / "session.otio"))
    audio = [(t.name, t.enabled, t[0].metadata["stereofoley"].get("folder"))
             for t in timeline.tracks if t.kind == otio.schema.TrackKind.Audio]
    assert audio[:3] == [("FEET footsteps stem", True, "FEET footsteps"),
                         ("1 walker", False, "FEET footsteps"),
                         ("2 walker", False, "FEET footsteps")]
    aaf = otio.adapters.read_from_file(str(out / "session.aaf"))
    urls = {c.media_reference.target_url for t in aaf.tracks
            if t.kind == otio.schema.TrackKind.Audio for c in t
            if isinstance(c, otio.schema.Clip)}
    assert (out / "groups" / "FEET_footsteps.wav").resolve().as_uri() in urls
    assert len(urls) == 6


def test_a_real_render_group_is_the_sum_of_its_object_stems(clip: tuple, tmp_path: Path
                                                            ) -> None:
    _, truth = clip
    project = Project(analysis=truth)
    result = render_scene(project.analysis, project.objects, project.render)
    out = export_render(tmp_path / "out", project, result, stems="both", sessions=("rpp",),
                        dry_stems=True)
    doc: dict[str, Any] = json.loads((out / "project.json").read_text())
    feet = next(g for g in doc["stems"]["groups"] if g["code"] == "FEET")
    assert feet["members"] == [1, 2]                       # the two walkers
    members = sum(_read(out / "stems" / f"{i}_walker.wav") for i in (1, 2))
    group = _read(out / feet["stem"])
    assert np.max(np.abs(group - members)) <= 3 * LSB
    assert np.max(np.abs(group)) > 0.05
    # dry stems: every object has one with envelopes; the group tracks are baked (no envelope)
    import rpp

    assert len(list((out / "dry").glob("*.wav"))) == 4
    for track in rpp.loads((out / "session.rpp").read_text()).findall("TRACK")[1:]:
        item = track.find("ITEM")
        if item is None:
            continue
        path = item.find("SOURCE").find("FILE")[1]
        assert (track.find("PANENV2") is not None) == path.startswith("dry/"), path
        assert path.startswith(("dry/", "groups/"))


@pytest.mark.parametrize(("text", "mode"), [("objects", "objects"), ("Groups", "groups"),
                                            (" both ", "both")])
def test_parse_stem_mode(text: str, mode: str) -> None:
    assert parse_stem_mode(text) == mode


@pytest.mark.parametrize("text", ["", "group", "objects,groups", "all"])
def test_parse_stem_mode_refuses_other_values(text: str) -> None:
    with pytest.raises(ValueError, match="objects, groups, both"):
        parse_stem_mode(text)
