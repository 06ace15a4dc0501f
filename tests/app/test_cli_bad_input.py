"""`stereofoley analyze BAD -o out.json`: one `error:` line, exit 2, nothing written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.video.test_reader import make_bad, write_coded
from video.base.errors import VideoError
from video.reader import VideoReader, probe_video

ROOT = Path(__file__).resolve().parents[2]
KINDS = ["missing", "empty", "text", "random", "audio", "cover-art", "image", "truncated",
         "directory"]


@pytest.fixture(scope="module")
def good_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_coded(tmp_path_factory.mktemp("cli") / "good.mp4", 30, 174, 98)


def run_analyze(video: Path, out: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "app", "analyze", str(video), "-o", str(out)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)


@pytest.mark.parametrize("kind", KINDS)
def test_analyze_bad_input(tmp_path: Path, good_clip: Path, kind: str) -> None:
    inputs, outputs = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    outputs.mkdir()
    bad = make_bad(kind, inputs, good_clip)
    proc = run_analyze(bad, outputs / "out.json")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    assert "Traceback" not in proc.stderr
    assert bad.name in lines[0]  # the message names the file
    assert list(outputs.iterdir()) == []  # no out.json, no temp file


@pytest.mark.parametrize("kind", KINDS)
def test_same_inputs_fail_in_the_reader(tmp_path: Path, good_clip: Path, kind: str) -> None:
    bad = make_bad(kind, tmp_path, good_clip)
    with pytest.raises(VideoError):
        probe_video(bad)
    with pytest.raises(VideoError):
        VideoReader(bad)


def test_good_clip_still_passes_the_reader(good_clip: Path) -> None:
    info = probe_video(good_clip)
    assert (info.width, info.height, info.frames) == (174, 98, 30)
