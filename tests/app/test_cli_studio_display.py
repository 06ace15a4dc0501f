"""The studio with a DISPLAY that cannot be opened (item: a C assertion, exit 134, before), and the
main job (scripts/main.sh, what setup.sh runs) falling back to the headless render and being
re-runnable: a second run replaces its own previous render, never a folder of anyone's files."""

from __future__ import annotations

import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
import soundfile as sf

from app.display import display_problem
from video.synth import ObjectSpec, SceneSpec, write_clip

ROOT = Path(__file__).resolve().parents[2]


def _free_display() -> str:
    """A display name no X server answers on (no socket, no lock file)."""
    for n in range(240, 400):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return f":{n}"
    raise AssertionError("no free display number")


def _env(**changes: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "WAYLAND_DISPLAY"}
    env["PYTHONPATH"] = str(ROOT)
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1 s clip with two moving objects (short, so each headless run is quick)."""
    path = tmp_path_factory.mktemp("display") / "clip.mp4"
    spec = SceneSpec(width=192, height=108, fps=Fraction(25), duration=1.0, seed=3,
                     objects=(ObjectSpec("ball", start=(0.2, 0.3), velocity=(0.4, 0.0),
                                         size=0.25),
                              ObjectSpec("box", start=(0.8, 0.6), velocity=(-0.4, 0.0),
                                         size=0.25, color=(40, 90, 235))))
    write_clip(spec, path)
    return path


def test_display_problem_names_the_display(monkeypatch: pytest.MonkeyPatch) -> None:
    name = _free_display()
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", name)
    assert display_problem() == f"cannot open display {name}"
    monkeypatch.delenv("DISPLAY")
    assert display_problem() is not None and "no display" in str(display_problem())


@pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="no X display (scripts/services.sh)")
def test_a_reachable_display_is_fine() -> None:
    assert display_problem() is None


@pytest.mark.parametrize("extra", [[], ["--screenshot", "{png}"]])
def test_unreachable_display_is_one_error_line(clip: Path, tmp_path: Path,
                                               extra: list[str]) -> None:
    name = _free_display()
    args = [a.format(png=tmp_path / "shot.png") for a in extra]
    proc = subprocess.run([sys.executable, "-m", "app", "studio", str(clip), *args],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env=_env(DISPLAY=name))
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: cannot open display {name}"), \
        proc.stderr
    assert list(tmp_path.iterdir()) == []      # no screenshot, no render folder


def _main_job(clip: Path, out: Path, display: str | None) -> subprocess.CompletedProcess[str]:
    env = _env(DISPLAY=display, STEREOFOLEY_PYTHON=sys.executable,
               STEREOFOLEY_DEMO_OUT=str(out))
    return subprocess.run(["bash", str(ROOT / "scripts" / "main.sh"), str(clip)],
                          capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.parametrize("display", ["unreachable", None])
def test_main_job_falls_back_to_headless_and_runs_again(clip: Path, tmp_path: Path,
                                                        display: str | None) -> None:
    out = tmp_path / "demo-render"
    name = _free_display() if display else None
    first = _main_job(clip, out, name)
    assert first.returncode == 0, first.stderr
    expected = f"cannot open display {name}" if name else "no display"
    assert expected in first.stderr and "rendering without a window" in first.stderr
    assert "error:" not in first.stderr
    mix, rate = sf.read(out / "mix.wav", always_2d=True)
    assert rate == 48_000 and abs(mix.shape[0] - 48_000) <= 1 and mix.shape[1] == 2
    stamp = (out / "mix.wav").stat().st_mtime_ns
    second = _main_job(clip, out, name)             # the second run replaces its own render
    assert second.returncode == 0, second.stderr
    assert str(out) in second.stdout
    assert (out / "mix.wav").stat().st_mtime_ns != stamp
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo-render"]   # no partials left


def test_main_job_never_replaces_someone_elses_folder(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "demo-render"
    out.mkdir()
    (out / "thesis.txt").write_text("mine")
    proc = _main_job(clip, out, None)
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "not a previous render" in errors[0], proc.stderr
    assert [p.name for p in out.iterdir()] == ["thesis.txt"]
    assert (out / "thesis.txt").read_text() == "mine"
