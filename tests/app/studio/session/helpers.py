"""Shared by the studio session tests: the synthetic clip's scene and waiting for jobs."""

from __future__ import annotations

import time
from fractions import Fraction

from app.studio.session.controller import StudioController
from video.synth import ObjectSpec, SceneSpec

SESSION_SPEC = SceneSpec(width=320, height=180, fps=Fraction(25), duration=2.5, seed=11, objects=(
    ObjectSpec("ball", start=(0.3, 0.3), velocity=(0.05, 0.0), color=(230, 40, 40)),
    ObjectSpec("walker", start=(0.8, 0.75), velocity=(-0.04, 0.0), color=(40, 200, 90))))


def settle(ctl: StudioController, timeout: float = 60.0) -> None:
    """Poll the controller until no job is waiting or running and every result is applied."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        idle = not ctl.worker.busy and ctl.worker.status() is None  # cancelled ones too
        applied = ctl.poll()
        if idle and not applied and not ctl.worker.busy:
            return
        time.sleep(0.01)
    raise AssertionError(f"jobs did not finish: {ctl.worker.status()}")
