"""render_and_export streams (app.export): its OUTDIR equals the whole-clip render's, sample for
sample, and nothing of the spools is left behind."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from app.export import export_render, render_and_export
from app.project import Project
from audio.library import SoundLibrary
from audio.nudges import Nudges
from model.foley.render import render_scene
from model.foley.scene import ObjectSound, RenderSettings
from video.synth import ObjectSpec, SceneSpec, scene_truth, write_clip

LSB = 1.0 / (1 << 23)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
                   ) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))


def _project(**render: object) -> Project:
    analysis = scene_truth(SceneSpec(duration=9.0, objects=(
        ObjectSpec("ball", start=(0.2, 0.2), velocity=(0.05, 0.0), restitution=0.85),
        ObjectSpec("walker", start=(0.1, 0.0), velocity=(0.04, 0.0), t_enter=2.0, t_exit=6.0,
                   color=(40, 90, 235)),
        ObjectSpec("slide", start=(0.8, 0.0), velocity=(-0.5, 0.0), friction=0.2,
                   t_enter=5.0, color=(250, 130, 20)))))
    objects = [ObjectSound(id=t.id) for t in analysis.objects]
    objects[1] = replace(objects[1], nudges=Nudges(mute=True))
    return Project(analysis=analysis, objects=objects,
                   render=RenderSettings(seed=7, **render))  # type: ignore[arg-type]


def _pcm(path: Path) -> np.ndarray:
    data, rate = sf.read(path, dtype="int32", always_2d=True)
    assert rate == 48_000
    return data >> 8      # the 24-bit sample values


@pytest.mark.parametrize("render", [{}, {"target_lufs": -12.0, "true_peak_db": -6.0}])
def test_streamed_outdir_equals_the_whole_clip_render(tmp_path: Path,
                                                      render: dict[str, float]) -> None:
    project = _project(**render)
    written, result = render_and_export(tmp_path / "stream", project)
    library = SoundLibrary.open(list(project.render.libraries))
    whole = render_scene(project.analysis, project.objects, project.render, library=library)
    export_render(tmp_path / "whole", project, whole)
    names = sorted(p.relative_to(written).as_posix() for p in written.rglob("*"))
    assert names == sorted(p.relative_to(tmp_path / "whole").as_posix()
                           for p in (tmp_path / "whole").rglob("*"))
    assert ".spool" not in names and not any(n.endswith(".f32") for n in names)
    wavs = [n for n in names if n.endswith(".wav")]
    assert len(wavs) == len(project.objects) + 1
    for name in wavs:        # every stem and the mix, sample by sample: within 1 LSB (equal)
        got, want = _pcm(written / name), _pcm(tmp_path / "whole" / name)
        assert got.shape == want.shape == (whole.n_samples, 2)
        assert int(np.max(np.abs(got - want))) <= 1
        np.testing.assert_array_equal(got, want)
    assert json.loads((written / "project.json").read_text()) == \
        json.loads((tmp_path / "whole" / "project.json").read_text())
    report = (written / "report.txt").read_text().splitlines()
    expected = (tmp_path / "whole" / "report.txt").read_text().splitlines()
    assert [line for line in report if not line.startswith("rendered:")] == \
        [line for line in expected if not line.startswith("rendered:")]
    # the returned result: master report, mix mapped from the spool, stems read back lazily
    assert result.master == whole.master and result.chosen == whole.chosen
    np.testing.assert_array_equal(result.mix, whole.mix)
    assert set(result.stems) == {o.id for o in project.objects}
    for sound in project.objects:     # as the WAV holds it (a muted stem may exceed full scale)
        held = np.clip(whole.stems[sound.id], -1.0, 1.0 - LSB)
        assert np.max(np.abs(result.stems[sound.id] - held)) <= LSB


def test_streamed_review_video_carries_the_mix(tmp_path: Path) -> None:
    import av

    video = tmp_path / "clip.mp4"
    analysis = write_clip(SceneSpec(duration=3.0, objects=(
        ObjectSpec("ball", start=(0.3, 0.2), velocity=(0.1, 0.0)),)), video)
    project = Project(analysis=replace(analysis, video=replace(analysis.video,
                                                               path=str(video))),
                      objects=[ObjectSound(id=t.id) for t in analysis.objects],
                      render=RenderSettings(seed=2))
    written, result = render_and_export(tmp_path / "out", project, review_video=video)
    with av.open(str(written / "review.mp4")) as container:
        audio = np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1)
    level = float(np.sqrt(np.mean(result.mix.astype(np.float64) ** 2)))
    decoded = float(np.sqrt(np.mean(audio[:, :result.n_samples].astype(np.float64) ** 2)))
    assert level > 0 and decoded == pytest.approx(level, rel=0.1)


def test_a_failed_streamed_render_leaves_no_outdir(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import model.foley.stream as stream

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(stream, "plan_master", boom, raising=False)
    monkeypatch.setattr("audio.master.plan_master", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        render_and_export(tmp_path / "out", _project())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("mode", ["groups", "both"])
def test_streamed_group_stems_equal_the_whole_clip_export(tmp_path: Path, mode: str) -> None:
    """Group stems stream too: levels measured block by block decide the same folds, and the
    groups summed block by block are the whole-clip export's files, sample for sample."""
    project = _project()
    written, _ = render_and_export(tmp_path / "stream", project, stems=mode)
    library = SoundLibrary.open(list(project.render.libraries))
    whole = render_scene(project.analysis, project.objects, project.render, library=library)
    export_render(tmp_path / "whole", project, whole, stems=mode)
    names = sorted(p.relative_to(written).as_posix() for p in written.rglob("*"))
    assert names == sorted(p.relative_to(tmp_path / "whole").as_posix()
                           for p in (tmp_path / "whole").rglob("*"))
    groups = [n for n in names if n.startswith("groups/") and n.endswith(".wav")]
    assert groups                       # the two playing objects have roles: at least one group
    for name in (n for n in names if n.endswith(".wav")):
        np.testing.assert_array_equal(_pcm(written / name), _pcm(tmp_path / "whole" / name))
    doc = json.loads((written / "project.json").read_text())
    assert doc == json.loads((tmp_path / "whole" / "project.json").read_text())
    assert doc["stems"]["mode"] == mode
    report = (written / "report.txt").read_text().splitlines()
    expected = (tmp_path / "whole" / "report.txt").read_text().splitlines()
    assert [line for line in report if not line.startswith("rendered:")] == \
        [line for line in expected if not line.startswith("rendered:")]
