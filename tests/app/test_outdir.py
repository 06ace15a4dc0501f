"""Never destroy a user's files: which folders a render may replace, the claim on OUTDIR, stale
partial folders, SIGTERM during export, and a review video that really decodes (issue 11, 5-8)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from app.cli import main
from app.outdir import (
    check_outdir,
    claim_outdir,
    is_previous_render,
    lock_path,
    remove_own_temps,
    remove_stale_temps,
)
from video.base.errors import InputError
from video.synth import ObjectSpec, SceneSpec, write_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = SceneSpec(width=320, height=180, fps=Fraction(30), duration=1.5, seed=8,
                     objects=(ObjectSpec("ball", start=(0.2, 0.2), velocity=(0.3, 0.0),
                                         size=0.2),))
    path = tmp_path_factory.mktemp("outdir-clip") / "scene.mp4"
    write_clip(spec, path)
    return path


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory,
                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))


def fake_render(folder: Path, *extra: str) -> Path:
    """A folder shaped like a render's OUTDIR (plus `extra` user files)."""
    (folder / "stems").mkdir(parents=True)
    (folder / "stems" / "1_ball.wav").write_bytes(b"RIFF")
    (folder / "mix.wav").write_bytes(b"RIFF")
    (folder / "project.json").write_text(json.dumps({"schema": "stereofoley.project/1"}))
    (folder / "review.mp4").write_bytes(b"\0")
    for name in extra:
        (folder / name).write_text("the user's own file")
    return folder


def render(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["render", *argv])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("extra, expected", [((), True), (("thesis.odt",), False),
                                             (("notes.txt",), False)])
def test_is_previous_render(tmp_path: Path, extra: tuple[str, ...], expected: bool) -> None:
    assert is_previous_render(fake_render(tmp_path / "out", *extra)) is expected


def test_a_folder_without_a_stereofoley_project_is_not_a_render(tmp_path: Path) -> None:
    folder = fake_render(tmp_path / "out")
    (folder / "project.json").write_text('{"schema": "someone.else/1"}')
    assert not is_previous_render(folder)
    assert not is_previous_render(tmp_path / "missing")


def test_force_never_deletes_a_folder_that_is_not_a_render(clip: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    thesis = tmp_path / "thesis"
    thesis.mkdir()
    (thesis / "chapter1.tex").write_text("years of work")
    code, err = render([str(clip), "-o", str(thesis), "--force"], capsys)
    assert code == 2
    assert err.startswith("error: ") and "not a previous render" in err
    assert (thesis / "chapter1.tex").read_text() == "years of work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis"]   # no lock, no partial


def test_force_replaces_a_previous_render(clip: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    out = fake_render(tmp_path / "out")
    code, err = render([str(clip), "-o", str(out), "--force"], capsys)
    assert code == 0, err
    assert (out / "project.json").stat().st_size > 100 and not (out / "review.mp4").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("target, message", [
    ("", "output folder name is empty"),
    ("   ", "output folder name is empty"),
    (".", "is the current folder"),
    ("..", "is the current folder or holds it"),
    ("/proc/stereofoley-out", "cannot write in /proc"),
    ("{file}", "exists and is not a folder"),
    ("{tmp}/no/such/parent/out", "does not exist"),
])
def test_unusable_outputs_fail_before_any_work(clip: Path, tmp_path: Path, target: str,
                                               message: str, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("x")
    target = target.replace("{file}", str(tmp_path / "a-file")).replace("{tmp}", str(tmp_path))
    analysed: list[object] = []
    monkeypatch.setattr("video.analyze.analyze_video",
                        lambda *a, **k: analysed.append(a))  # must never be reached
    code, err = render([str(clip), "-o", target], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert analysed == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_a_live_claim_refuses_a_second_render(clip: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock_path(out).write_text(f"{holder.pid}\n")
        code, err = render([str(clip), "-o", str(out)], capsys)
        assert code == 2
        assert f"being written by another render (process {holder.pid})" in err
        assert not out.exists()
    finally:
        holder.kill()
        holder.wait()
    code, err = render([str(clip), "-o", str(out)], capsys)   # its owner is gone: taken over
    assert code == 0, err
    assert not lock_path(out).exists()


def test_claim_is_exclusive_and_reentrant(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with claim_outdir(out):
        assert lock_path(out).read_text().strip() == str(os.getpid())
        with claim_outdir(out):               # the same process: fine
            pass
        assert lock_path(out).exists()         # the inner claim did not release the outer
        child = subprocess.run(
            [sys.executable, "-c",
             "import sys; from pathlib import Path; from app.outdir import claim_outdir\n"
             "try:\n    claim_outdir(Path(sys.argv[1])).__enter__()\n"
             "except Exception as e:\n    print(e)\n", str(out)],
            capture_output=True, text=True, timeout=60)
        assert "being written by another render" in child.stdout
    assert not lock_path(out).exists()


def test_stale_partials_of_dead_processes_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".out.{dead.pid}.abc123.partial"
    old = tmp_path / f".out.{dead.pid}.def456.old"
    live = tmp_path / f".out.{os.getppid()}.ghi789.partial"
    other = tmp_path / f".other.{dead.pid}.x.partial"
    for folder in (stale, old, live, other):
        folder.mkdir()
        (folder / "mix.wav").write_bytes(b"\0" * 1000)
    removed = remove_stale_temps(out)
    assert sorted(removed) == sorted([stale, old])
    assert live.exists() and other.exists() and not stale.exists() and not old.exists()


def test_an_interrupted_render_removes_only_its_own_partials(tmp_path: Path) -> None:
    out = tmp_path / "out"
    own = tmp_path / f".out.{os.getpid()}.abc123.partial"
    old = tmp_path / f".out.{os.getpid()}.def456.old"             # a swap's: not a partial
    live = tmp_path / f".out.{os.getppid()}.ghi789.partial"       # another process's
    for folder in (own, old, live):
        (folder / "stems").mkdir(parents=True)
        (folder / "stems" / "1_person.wav").write_bytes(b"\0" * 1000)
    remove_own_temps(out)
    assert not own.exists() and old.exists() and live.exists()
    remove_own_temps(tmp_path / "missing" / "out")                   # no folder: nothing to do


SIGTERM_MID_EXPORT = """
import os, signal, sys
import app.export as export
from app.cli import main

real = export._write_audio
def write_then_terminate(path, audio, fields):
    real(path, audio, fields)
    if path.name == "mix.wav":            # the partial folder now holds real audio
        os.kill(os.getpid(), signal.SIGTERM)
export._write_audio = write_then_terminate
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_sigterm_during_export_leaves_nothing_behind(clip: Path, tmp_path: Path) -> None:
    """SIGTERM while the stems are being written: like Ctrl-C, the partial folder goes."""
    out = tmp_path / "out"
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-c", SIGTERM_MID_EXPORT, "render", str(clip),
                           "-o", str(out)], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 128 + signal.SIGTERM, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "error: terminated"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"]


def test_check_outdir_names_the_users_path(tmp_path: Path) -> None:
    folder = fake_render(tmp_path / "mine", "keep.txt")
    with pytest.raises(InputError, match=f"{folder} is not a previous render"):
        check_outdir(folder, force=True)
    with pytest.raises(InputError, match="use --force"):
        check_outdir(folder, force=False)


def write_bframe_mkv(path: Path, frames: int = 45) -> Path:
    """H.264 with B-frames in Matroska: its first packets carry a pts but no dts."""
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        stream.codec_context.options = {"bf": "3", "g": "15"}
        for i in range(frames):
            image = np.full((96, 160, 3), (i * 5) % 255, np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def test_review_video_of_a_b_frame_mkv_keeps_every_picture(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    video = write_bframe_mkv(tmp_path / "b.mkv")
    with av.open(str(video)) as container:
        assert any(p.dts is None for p in container.demux(container.streams.video[0]) if p.size)
    out = tmp_path / "out"
    code, err = render([str(video), "-o", str(out), "--review-video"], capsys)
    assert code == 0, err
    with av.open(str(out / "review.mkv")) as container:
        pictures = sum(1 for _ in container.decode(container.streams.video[0]))
        assert len(container.streams.audio) == 1
    assert pictures == 45


def test_main_gives_back_the_callers_sigterm_handler(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """In-process callers (a test runner, a host application) keep their own SIGTERM handling
    after `main` returns."""
    def mine(signum: int, frame: object) -> None:
        raise AssertionError("not called")

    before = signal.signal(signal.SIGTERM, mine)
    try:
        main(["render", str(tmp_path / "missing.mp4"), "-o", str(tmp_path / "out")])
        capsys.readouterr()
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, before)
