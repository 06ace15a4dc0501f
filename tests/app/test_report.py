"""OUTDIR/report.txt: the export's loudness and format report, checked against known audio and
against the project.json of a real render."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from app.cli import main
from app.project import Project
from app.report import mix_level, peak_dbfs, render_report, short_of_target
from audio.nudges import Nudges
from model.foley.scene import ObjectSound
from video.base.tracks import Analysis, Track, VideoInfo
from video.synth import ObjectSpec, SceneSpec, write_clip


@pytest.mark.parametrize("peak, expected", [(1.0, 0.0), (0.5, -6.0206), (0.1, -20.0)])
def test_peak_dbfs(peak: float, expected: float) -> None:
    audio = np.zeros((2, 100), np.float32)
    audio[1, 40] = -peak
    assert peak_dbfs(audio) == pytest.approx(expected, abs=1e-3)


def test_peak_of_silence_is_minus_infinity() -> None:
    assert peak_dbfs(np.zeros((2, 10), np.float32)) == -math.inf


def _project(master: dict[str, object]) -> Project:
    info = VideoInfo(path="/v/clip.mp4", width=640, height=360, fps=Fraction(25), duration=2.0,
                     frames=50)
    tracks = tuple(Track(id=i, label=label, frames=np.arange(50),
                         boxes=np.tile([10.0, 10.0, 50.0, 50.0], (50, 1)))
                   for i, label in ((1, "person"), (2, "car")))
    project = Project(analysis=Analysis(video=info, objects=tracks))
    project.objects = [replace(ObjectSound(id=1), stem="stems/1_person.wav"),
                       replace(ObjectSound(id=2), stem="stems/2_car.wav",
                               nudges=Nudges(mute=True))]
    project.render = replace(project.render, master=master)
    return project


def test_report_lists_the_master_stage_limiter_regions_and_stem_peaks() -> None:
    master = {"target_lufs": -23.0, "ceiling_dbtp": -1.0, "measurable": True,
              "lufs_before": -30.5, "lufs_after": -23.01, "gain_db": 7.49,
              "true_peak_before_db": -7.2, "true_peak_after_db": -1.02,
              "limiter": {"max_reduction_db": 1.5, "seconds": 0.05, "applied_to_stems": True,
                          "regions": [[0.5, 0.52], [61.25, 61.3]], "regions_total": 3}}
    stems = {1: np.full((2, 96_000), 0.5, np.float32), 2: np.zeros((2, 96_000), np.float32)}
    text = render_report(_project(master), stems, stems[1] * 0.25, created="2026-12-06 UTC")
    assert "-30.50 LUFS before, -23.01 LUFS after" in text
    assert "+7.49 dB" in text and "-7.20 dBTP before, -1.02 dBTP after" in text
    assert "3 region(s), 0.050 s in all, at most 1.50 dB" in text
    assert "0:00.500 - 0:00.520" in text and "1:01.250 - 1:01.300" in text
    assert "... and 1 more" in text
    assert "sample peak:        -18.06 dBFS" in text           # 0.125
    rows = [line.split() for line in text.splitlines() if line.strip().startswith(("1 ", "2 "))]
    assert rows[0] == ["1", "person", "-6.02", "stems/1_person.wav"]
    assert rows[1] == ["2", "car", "silent", "yes", "stems/2_car.wav"]
    assert "2.000 s" in text and "48000 Hz, 24-bit" in text


@pytest.mark.parametrize("after, target, expected", [
    (-25.84, -23.0, 2.84), (-23.3, -23.0, None), (-22.0, -23.0, None), (None, -23.0, None),
    (-30.0, None, None)])
def test_short_of_target(after: float | None, target: float | None,
                         expected: float | None) -> None:
    short = short_of_target({"lufs_after": after, "target_lufs": target})
    assert short == (None if expected is None else pytest.approx(expected))


@pytest.mark.parametrize("master, expected", [
    ({}, ""),
    ({"measurable": False, "target_lufs": -23.0}, "Mix: silent (no loudness to measure)"),
    ({"measurable": True, "target_lufs": -23.0, "lufs_after": -23.02, "true_peak_after_db": -1.3},
     "Mix: -23.0 LUFS, true peak -1.3 dBTP"),
    ({"measurable": True, "target_lufs": -23.0, "lufs_after": -25.84, "true_peak_after_db": -1.05},
     "Mix: -25.8 LUFS, true peak -1.1 dBTP; 2.8 LU under the target (its hits already limited "
     "at the most)"),
])
def test_mix_level_line(master: dict[str, object], expected: str) -> None:
    """The studio's line on the mastered mix (render settings window)."""
    assert mix_level(master) == expected


def test_report_says_when_the_limiter_cap_left_the_mix_short() -> None:
    """A mix of sparse hits mastered with the limiter at its most (9 dB): the report says how
    far under the target it is and why."""
    master = {"target_lufs": -23.0, "ceiling_dbtp": -1.0, "measurable": True,
              "max_limiting_db": 9.0, "lufs_before": -54.56, "lufs_after": -25.84,
              "gain_db": 36.33, "true_peak_before_db": -28.33, "true_peak_after_db": -1.05,
              "limiter": {"max_reduction_db": 9.05, "seconds": 0.35, "applied_to_stems": True,
                          "regions": [[2.078, 2.177]], "regions_total": 1}}
    text = render_report(_project(master), {}, np.zeros((2, 10), np.float32), created="now")
    assert "short of target:    by 2.8 LU" in text and "more than 9.0 dB of limiting" in text
    master["lufs_after"] = -23.02
    assert "short of target" not in render_report(_project(master), {},
                                                  np.zeros((2, 10), np.float32), created="now")


def test_report_without_a_limiter_or_measurable_loudness() -> None:
    quiet = render_report(_project({"measurable": False, "target_lufs": -23.0,
                                    "ceiling_dbtp": -1.0}),
                          {}, np.zeros((2, 10), np.float32), created="now")
    assert "too quiet to measure" in quiet
    tame = render_report(_project({"measurable": True, "lufs_before": -25.0, "lufs_after": -23.0,
                                   "gain_db": 2.0, "limiter": {"regions": []}}),
                         {}, np.zeros((2, 10), np.float32), created="now")
    assert "limiter:            not needed" in tame


def test_render_writes_a_report_that_matches_its_project(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    spec = SceneSpec(width=320, height=180, fps=Fraction(30), duration=2.0, seed=4,
                     objects=(ObjectSpec("ball", start=(0.2, 0.2), velocity=(0.2, 0.0),
                                         size=0.2),))
    video = tmp_path / "scene.mp4"
    write_clip(spec, video)
    out = tmp_path / "out"
    assert main(["render", str(video), "-o", str(out)]) == 0, capsys.readouterr().err
    text = (out / "report.txt").read_text(encoding="utf-8")
    doc = json.loads((out / "project.json").read_text())
    master = doc["render"]["master"]
    assert f"{master['lufs_after']:.2f} LUFS after" in text
    for obj in doc["objects"]:
        audio, _ = sf.read(out / obj["stem"], dtype="float64", always_2d=True)
        peak = 20 * math.log10(np.max(np.abs(audio)))
        row = next(line for line in text.splitlines() if line.endswith(obj["stem"]))
        assert float(row.split()[2]) == pytest.approx(peak, abs=0.01)
