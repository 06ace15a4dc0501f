"""The studio at scale in a real window (its own process on the Xvfb display): a project with a
hundred objects opens through the stem cache, plays, takes a nudge, and scrolls its lanes and
object list while only the lanes in view are drawn."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from app.project import Project, save_project
from tests.app.studio.session.helpers import crowd_analysis
from video.synth import ObjectSpec, SceneSpec, write_clip

ROOT = Path(__file__).resolve().parents[4]
needs_display = pytest.mark.skipif(not os.environ.get("DISPLAY"),
                                   reason="no X display (run under Xvfb: scripts/services.sh)")

SPEC = SceneSpec(width=320, height=180, fps=Fraction(25), duration=4.0, seed=9,
                 objects=(ObjectSpec("ball", start=(0.3, 0.4), velocity=(0.05, 0.0)),))


@needs_display
@pytest.mark.gui
@pytest.mark.slow
def test_hundred_objects_open_play_nudge_and_scroll(tmp_path: Path) -> None:
    truth = write_clip(SPEC, tmp_path / "clip.mp4")
    analysis = crowd_analysis(duration=SPEC.duration, count=100, video=truth.video)
    project = tmp_path / "crowd.json"
    save_project(Project(analysis=analysis), project)
    cache, stats_path, shot = tmp_path / "cache", tmp_path / "stats.json", tmp_path / "shot.png"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "STEREOFOLEY_STUDIO_STATS": str(stats_path),
           "STEREOFOLEY_STUDIO_PLAY_S": "1.5", "STEREOFOLEY_STUDIO_NUDGES": "1",
           "STEREOFOLEY_STUDIO_SCROLL_FRAMES": "40", "STEREOFOLEY_STEM_CACHE": str(cache),
           "STEREOFOLEY_STEM_CACHE_MODE": "always"}
    proc = subprocess.run([sys.executable, "-m", "app", "studio", str(project), "--screenshot",
                           str(shot)], capture_output=True, text=True, timeout=600, cwd=ROOT,
                          env=env)
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(stats_path.read_text())
    assert stats["scroll_frames"] == 40
    # virtualized: a screenful of lanes (and a margin) is drawn, not 100 + mix, stem, ruler
    assert 5 <= stats["lanes_drawn"] <= 60
    assert len(stats["nudge_ms"]) == 1 and 0 < stats["nudge_ms"][0] < 20_000
    assert len(stats["nudge_whole_ms"]) == 1                    # heard, then placed whole
    assert stats["nudge_ms"][0] <= stats["nudge_whole_ms"][0] < 20_000
    assert stats["play_frames"] > 0 and shot.is_file()
    # every object's stem and overview is in the cache folder of the video, plus the nudged one
    folders = [p for p in cache.iterdir() if p.is_dir()]
    assert len(folders) == 1
    stems = list(folders[0].glob("*.stem"))
    assert len(stems) == 101
    assert len(list(folders[0].glob("*.peaks"))) >= 101
    assert len(list(folders[0].glob("*.dry"))) == 100
