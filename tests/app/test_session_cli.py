"""`stereofoley render ... --session rpp,otio,aaf [--dry-stems]`: the files land in OUTDIR with
the stems, bad format names are one `error:` line with exit 2 and no OUTDIR."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from app.cli import main
from app.project import Project, save_project
from audio.bwf import read_bext
from tests.app.test_session_export import START_SAMPLE, _rpp, stamp_timecode
from video.base.tracks import Analysis
from video.synth import ObjectSpec, SceneSpec, write_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Analysis]:
    folder = tmp_path_factory.mktemp("cli-clip")
    spec = SceneSpec(width=320, height=180, fps=Fraction(30000, 1001), duration=1.5, seed=2,
                     objects=(ObjectSpec("ball", start=(0.2, 0.3), velocity=(0.3, 0.0),
                                         size=0.2),))
    truth = write_clip(spec, folder / "raw.mp4")
    stamp_timecode(folder / "raw.mp4", folder / "clip.mov", "01:00:00;00")
    return folder / "clip.mov", truth


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
                   ) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))


def test_render_writes_the_asked_sessions_and_dry_stems(clip: tuple[Path, Analysis],
                                                        tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    video, truth = clip
    save_project(Project(analysis=truth), tmp_path / "p.json")
    out = tmp_path / "out"
    code = main(["render", str(video), "-o", str(out), "--project", str(tmp_path / "p.json"),
                 "--session", "rpp, OTIO", "--dry-stems"])
    _, err = capsys.readouterr()
    assert code == 0, err
    assert (out / "session.rpp").is_file() and (out / "session.otio").is_file()
    assert not (out / "session.aaf").exists()
    dry = sorted(p.name for p in (out / "dry").glob("*.wav"))
    assert dry == sorted(p.name for p in (out / "stems").glob("*.wav")) and len(dry) == 1
    assert read_bext(out / "dry" / dry[0])["time_reference"] == START_SAMPLE
    tracks = _rpp(out).findall("TRACK")
    assert [t.find("ITEM").find("SOURCE").find("FILE")[1] for t in tracks[1:]] == \
        [f"dry/{dry[0]}"]
    assert not list(tmp_path.glob("*.partial"))


@pytest.mark.parametrize("value", ["rpp,logic", "", "aaf;otio", "rpp,,otio"])
def test_bad_session_names_are_one_error_line_and_no_outdir(value: str,
                                                             clip: tuple[Path, Analysis],
                                                             tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]
                                                             ) -> None:
    video, _ = clip
    out = tmp_path / "out"
    code = main(["render", str(video), "-o", str(out), f"--session={value}"])
    _, err = capsys.readouterr()
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --session") and "rpp" in lines[0]
    assert not out.exists()
