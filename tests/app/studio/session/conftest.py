"""Fixtures of the studio session tests: a rendered-from-truth clip project and a controller
without a window (silent audio, a private autosave folder)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.project import Project, save_project
from app.studio.session.audio_link import AudioLink
from app.studio.session.controller import StudioController
from tests.app.studio.session.helpers import SESSION_SPEC
from video.synth import write_clip


@pytest.fixture(scope="module")
def clip_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2.5 s clip: a ball bouncing on the left, a walker on the right; its true analysis."""
    folder = tmp_path_factory.mktemp("session")
    truth = write_clip(SESSION_SPEC, folder / "clip.mp4")
    path = folder / "clip.json"
    save_project(Project(analysis=truth), path)
    return path


@pytest.fixture
def controller(tmp_path: Path):
    ctl = StudioController(audio=AudioLink(silent=True), autosave_dir=tmp_path / "recovery")
    yield ctl
    ctl.shutdown()
