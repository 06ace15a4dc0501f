"""`stereofoley batch` on tiny synthetic shots: one render folder per shot equal to `render`'s
own output sample for sample (local pool and Ray), the summary's numbers against the clips'
truth and the single renders, a failed shot that does not stop the batch, re-runs that skip
finished shots, Ctrl-C/SIGTERM that leaves nothing half-written, and the bad-input contract."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from app.batch import (
    FAILED,
    RENDERED,
    SKIPPED,
    THREAD_VARIABLES,
    Shot,
    ShotResult,
    limit_threads,
    plan_shots,
    shot_names,
)
from app.cli import main
from app.cmd_batch import summary_csv, summary_text
from app.outdir import is_previous_render
from video.base.errors import InputError
from video.synth import ObjectSpec, SceneSpec, write_clip

ROOT = Path(__file__).resolve().parents[2]
DURATIONS = {"walk": 1.5, "crash": 2.0}


@pytest.fixture(scope="module")
def cache_env(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A private cache for the module (workers inherit it)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
        yield


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two short 320x180 shots with known objects (a walker; a ball and a box) and a file
    that is not a video."""
    folder = tmp_path_factory.mktemp("shots")
    specs = {
        "walk": SceneSpec(width=320, height=180, fps=Fraction(25), duration=DURATIONS["walk"],
                          seed=7, objects=(ObjectSpec("walker", start=(0.1, 0.3),
                                                      velocity=(0.4, 0.0), size=0.35),)),
        "crash": SceneSpec(width=320, height=180, fps=Fraction(30), duration=DURATIONS["crash"],
                           seed=4, objects=(ObjectSpec("ball", start=(0.2, 0.2),
                                                       velocity=(0.2, 0.0), size=0.2),
                                            ObjectSpec("box", start=(0.1, 0.5),
                                                       velocity=(0.5, 0.0), size=0.2,
                                                       color=(40, 90, 235)))),
    }
    paths = {}
    for name, spec in specs.items():
        paths[name] = folder / f"{name}.mp4"
        write_clip(spec, paths[name])
    paths["broken"] = folder / "broken.mp4"
    paths["broken"].write_bytes(b"\x00\x00\x00\x18ftypmp42 this is not a video" * 20)
    return paths


@pytest.fixture(scope="module")
def serial(shots: dict[str, Path], tmp_path_factory: pytest.TempPathFactory,
           cache_env: None) -> dict[str, Path]:
    """Each good shot rendered alone by `stereofoley render` (the reference)."""
    folder = tmp_path_factory.mktemp("serial")
    out = {}
    for name in DURATIONS:
        out[name] = folder / name
        assert main(["render", str(shots[name]), "-o", str(out[name]), "--seed", "3"]) == 0
    return out


def _batch(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["batch", *argv])
    stdout, stderr = capsys.readouterr()
    return code, stdout, stderr


@pytest.fixture(scope="module")
def pooled(shots: dict[str, Path], tmp_path_factory: pytest.TempPathFactory,
           cache_env: None) -> tuple[int, str, Path]:
    """The three shots through the local pool with two workers: (exit status, stderr, OUTDIR)."""
    out = tmp_path_factory.mktemp("pooled") / "film"
    err, std = io.StringIO(), io.StringIO()
    with redirect_stderr(err), redirect_stdout(std):
        code = main(["batch", str(shots["walk"]), str(shots["broken"]), str(shots["crash"]),
                     "-o", str(out), "--workers", "2", "--seed", "3"])
    return code, err.getvalue() + std.getvalue(), out


def _rows(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "summary.csv", newline="", encoding="utf-8") as handle:
        return {row["shot"]: row for row in csv.DictReader(handle)}


def _audio(folder: Path) -> dict[str, np.ndarray]:
    """mix.wav and every stem of a render folder as 24-bit integers."""
    files = [folder / "mix.wav", *sorted((folder / "stems").glob("*.wav"))]
    return {p.relative_to(folder).as_posix(): sf.read(p, dtype="int32")[0] for p in files}


def _assert_same_audio(a: Path, b: Path) -> None:
    left, right = _audio(a), _audio(b)
    assert sorted(left) == sorted(right) and len(left) >= 2
    for name in left:
        assert left[name].shape == right[name].shape, name
        assert np.array_equal(left[name], right[name]), name


def _serial_doc(folder: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((folder / "project.json").read_text(encoding="utf-8"))


# -- pure parts -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("paths", "names"), [
    (["/a/walk.mp4", "/b/crash.mov"], ["walk", "crash"]),
    (["/b/walk.mp4", "/a/walk.mov"], ["walk-2", "walk"]),           # by full path, not order
    (["/a/walk.mp4", "/b/walk.mp4", "/c/WALK.mp4"], ["walk", "walk-2", "WALK-3"]),
    (["/a/walk-2.mp4", "/a/walk.mp4", "/b/walk.mp4"], ["walk-2", "walk", "walk-3"]),
    (["/a/shot 1 (final)!.mp4"], ["shot-1-final"]),
    (["/a/.hidden.mp4", "/a/....mp4"], ["hidden", "shot"]),
    (["/a/Summary.csv.mp4", "/a/summary.txt.mov"], ["Summary.csv-2", "summary.txt-2"]),
])
def test_shot_names_are_safe_unique_and_independent_of_order(paths: list[str],
                                                              names: list[str]) -> None:
    videos = [Path(p) for p in paths]
    assert shot_names(videos) == names
    assert shot_names(videos[::-1]) == names[::-1]


def test_plan_shots_refuses_missing_folders_and_repeats(tmp_path: Path) -> None:
    clip = tmp_path / "a.mp4"
    clip.write_bytes(b"x")
    assert plan_shots([str(clip)]) == [Shot(clip.resolve(), "a")]
    for paths, message in [([str(tmp_path / "gone.mp4")], "not found"),
                           ([str(tmp_path)], "is a folder"),
                           ([str(clip), str(tmp_path / "." / "a.mp4")], "given twice")]:
        with pytest.raises(InputError, match=message):
            plan_shots(paths)


def test_summary_files_hold_every_row_in_order() -> None:
    rows = [ShotResult("b", "/v/b.mp4", RENDERED, 2.0, 3, -23.04, 4.5),
            ShotResult("a", "/v/a.mp4", FAILED, seconds=0.25, error="a.mp4 is not a video"),
            ShotResult("c", "/v/c.mp4", SKIPPED, 61.5, 12, -22.96)]
    text = summary_csv(rows)
    parsed = list(csv.DictReader(text.splitlines()))
    assert [r["shot"] for r in parsed] == ["b", "a", "c"]
    assert parsed[0] == {"shot": "b", "status": "rendered", "duration_s": "2.000",
                              "objects": "3", "loudness_lufs": "-23.04", "time_s": "4.50",
                              "video": "/v/b.mp4", "error": ""}
    assert parsed[1]["duration_s"] == "" and parsed[1]["error"] == "a.mp4 is not a video"
    table = summary_text(rows, total_seconds=5.0).splitlines()
    assert table[0].split() == ["shot", "status", "duration", "objects", "loudness", "time"]
    assert table[1].split() == ["b", "rendered", "2.00", "s", "3", "-23.0", "LUFS", "4.5", "s"]
    assert table[3] == "    error: a.mp4 is not a video"
    assert table[-1] == ("3 shots: 1 rendered, 1 skipped, 1 failed; 63.5 s of audio "
                         "in 5.0 s")


def test_limit_threads_sets_the_libraries_pools(monkeypatch: pytest.MonkeyPatch) -> None:
    import cv2

    for variable in THREAD_VARIABLES:
        monkeypatch.setenv(variable, "8")
    before = cv2.getNumThreads()
    try:
        limit_threads(1)
        assert cv2.getNumThreads() == 1
        assert all(os.environ[v] == "1" for v in THREAD_VARIABLES)
    finally:
        cv2.setNumThreads(before)


# -- end to end ---------------------------------------------------------------------------------

def test_pool_renders_each_shot_like_render_and_reports_the_failure(
        pooled: tuple[int, str, Path], serial: dict[str, Path]) -> None:
    code, output, out = pooled
    assert code == 1                                   # one shot failed: documented status 1
    assert sorted(p.name for p in out.iterdir()) == ["crash", "summary.csv", "summary.txt",
                                                     "walk"]
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]   # no lock/temp
    rows = _rows(out)
    assert list(rows) == ["walk", "broken", "crash"]  # the order given
    for name, duration in DURATIONS.items():
        assert is_previous_render(out / name)
        _assert_same_audio(out / name, serial[name])  # bit-identical to the serial render
        row, doc = rows[name], _serial_doc(serial[name])
        assert row["status"] == "rendered" and row["error"] == ""
        assert float(row["duration_s"]) == pytest.approx(duration, abs=0.05)
        assert int(row["objects"]) == len(doc["objects"]) >= 1
        assert float(row["loudness_lufs"]) == pytest.approx(
            doc["render"]["master"]["lufs_after"], abs=0.01)
        assert float(row["loudness_lufs"]) == pytest.approx(-23.0, abs=0.5)
        assert 0.1 < float(row["time_s"]) < 300
    broken = rows["broken"]
    assert broken["status"] == "failed" and broken["duration_s"] == ""
    assert "broken.mp4" in broken["error"] and "\n" not in broken["error"]
    assert not (out / "broken").exists()
    progress = [line for line in output.splitlines() if line.startswith("[")]
    assert sorted(line.split("]")[0] for line in progress) == ["[1/3", "[2/3", "[3/3"]
    assert "3 shots: 2 rendered, 0 skipped, 1 failed" in output
    assert (out / "summary.txt").read_text(encoding="utf-8") in output


def test_rerun_skips_finished_shots_and_force_renders_again(
        pooled: tuple[int, str, Path], shots: dict[str, Path], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "film"
    shutil.copytree(pooled[2], out)
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*.wav")}
    start = time.monotonic()
    code, stdout, _ = _batch([str(shots["crash"]), str(shots["walk"]), "-o", str(out)], capsys)
    assert code == 0 and time.monotonic() - start < 5.0
    rows = _rows(out)
    assert [r["status"] for r in rows.values()] == ["skipped", "skipped"]
    assert [float(r["time_s"]) for r in rows.values()] == [0.0, 0.0]
    old = _rows(pooled[2])
    for name in DURATIONS:                              # its numbers come from the old render
        assert {k: rows[name][k] for k in ("duration_s", "objects", "loudness_lufs")} == \
            {k: old[name][k] for k in ("duration_s", "objects", "loudness_lufs")}
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.wav")} == stamps
    assert "0 rendered, 2 skipped" in stdout

    code, _, _ = _batch([str(shots["walk"]), "-o", str(out), "--force", "--seed", "3",
                         "--workers", "1"], capsys)
    assert code == 0 and _rows(out)["walk"]["status"] == "rendered"
    assert (out / "walk" / "mix.wav").stat().st_mtime_ns != stamps[out / "walk" / "mix.wav"]
    _assert_same_audio(out / "walk", pooled[2] / "walk")
    assert (out / "crash" / "mix.wav").stat().st_mtime_ns == stamps[out / "crash" / "mix.wav"]


def test_ray_gives_the_pools_audio(pooled: tuple[int, str, Path], shots: dict[str, Path],
                                   tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ray = pytest.importorskip("ray")
    out = tmp_path / "film"
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    try:
        code, stdout, stderr = _batch([str(shots["walk"]), str(shots["broken"]),
                                       str(shots["crash"]), "-o", str(out), "--ray", "auto",
                                       "--seed", "3"], capsys)
        assert ray.is_initialized()                     # the caller's connection is kept
    finally:
        ray.shutdown()
    assert code == 1, stderr
    rows = _rows(out)
    assert [r["status"] for r in rows.values()] == ["rendered", "failed", "rendered"]
    assert rows["broken"]["error"] == _rows(pooled[2])["broken"]["error"]
    assert sorted(p.name for p in out.iterdir()) == ["crash", "summary.csv", "summary.txt",
                                                     "walk"]
    for name in DURATIONS:
        _assert_same_audio(out / name, pooled[2] / name)
        assert rows[name]["objects"] == _rows(pooled[2])[name]["objects"]


def _batch_writing(shots: dict[str, Path], out: Path, *, workers: int, pattern: str
                   ) -> tuple[subprocess.Popen[bytes], list[Path]]:
    """`stereofoley batch walk crash` started in a process of its own, returned as soon as a
    render's partial folder matching `pattern` appears in OUTDIR (or the batch has ended)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "app", "batch", str(shots["walk"]),
                             str(shots["crash"]), "-o", str(out), "--workers", str(workers)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 120
    partial: list[Path] = []
    while time.monotonic() < deadline and proc.poll() is None and not partial:
        partial = list(out.glob(pattern)) if out.is_dir() else []
        time.sleep(0.01)
    return proc, partial


def test_sigterm_leaves_only_finished_renders(shots: dict[str, Path], tmp_path: Path,
                                              cache_env: None) -> None:
    out = tmp_path / "film"
    proc, _ = _batch_writing(shots, out, workers=2, pattern=".*.partial")
    assert proc.poll() is None, "the batch ended before it could be interrupted"
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM
    assert stderr.decode().rstrip().splitlines()[-1] == "error: terminated"
    left = sorted(p.name for p in out.iterdir())
    assert not [n for n in left if n.startswith(".")], left       # no partial folder, no lock
    assert not (out / "summary.csv").exists()
    for name in left:                                 # whatever is there is complete
        assert is_previous_render(out / name)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_killed_worker_fails_its_shot_and_the_batch_goes_on(
        shots: dict[str, Path], tmp_path: Path, cache_env: None) -> None:
    out = tmp_path / "film"
    proc, partial = _batch_writing(shots, out, workers=1, pattern=".walk.*.partial")
    assert partial, "the first shot was never seen writing"
    worker = int(partial[0].name.split(".")[2])          # .walk.PID.xxx.partial
    os.kill(worker, signal.SIGKILL)                      # as the out-of-memory killer would
    _, stderr = proc.communicate(timeout=180)
    assert proc.returncode == 1, stderr
    rows = _rows(out)
    # walk's worker is killed while writing, or, if walk just finished, while it renders crash
    failed = [name for name, row in rows.items() if row["status"] == "failed"]
    assert len(failed) == 1 and "worker process died" in rows[failed[0]]["error"]
    (kept,) = set(rows) - set(failed)
    assert rows[kept]["status"] == "rendered" and is_previous_render(out / kept)
    assert sorted(p.name for p in out.iterdir()) == sorted([kept, "summary.csv", "summary.txt"])


@pytest.mark.parametrize(("case", "message"), [
    ("missing", "video file not found"),
    ("outdir-file", "is not a folder"),
    ("no-parent", "does not exist"),
    ("workers", "--workers must be at least 1"),
    ("foreign", "holds files a render did not write"),
    ("session", "--session"),
    ("stems", "--stems"),
    ("no-ray", "needs Ray, which is not installed"),
    ("ray-unreachable", "cannot reach the Ray cluster at 127.0.0.1:"),
])
def test_bad_input_is_one_error_line_and_writes_nothing(
        case: str, message: str, shots: dict[str, Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "film"
    argv = [str(shots["walk"]), "-o", str(out)]
    if case == "missing":
        argv.insert(0, str(tmp_path / "gone.mp4"))
    elif case == "outdir-file":
        out.write_text("mine")
    elif case == "no-parent":
        argv[-1] = str(tmp_path / "no" / "film")
    elif case == "workers":
        argv += ["--workers", "0"]
    elif case == "foreign":
        (out / "walk").mkdir(parents=True)
        (out / "walk" / "notes.txt").write_text("mine")
    elif case == "session":
        argv += ["--session", "wav"]
    elif case == "stems":
        argv += ["--stems", "layers"]
    elif case == "no-ray":
        monkeypatch.setitem(sys.modules, "ray", None)   # `import ray` raises ImportError
        argv += ["--ray", "auto"]
    elif case == "ray-unreachable":
        pytest.importorskip("ray")
        with socket.socket() as probe:                  # a port nothing listens on
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        argv += ["--ray", f"127.0.0.1:{port}"]
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    code, stdout, stderr = _batch(argv, capsys)
    assert code == 2
    assert stderr.startswith("error: ") and stderr.count("\n") == 1 and message in stderr
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
