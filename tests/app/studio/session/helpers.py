"""Shared by the studio session tests: the synthetic clip's scene and waiting for jobs."""

from __future__ import annotations

import time
from fractions import Fraction

import numpy as np

from app.studio.session.controller import StudioController
from video.base.tracks import Analysis, Event, Track, VideoInfo
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


def crowd_analysis(*, duration: float, count: int, seed: int = 5, width: int = 320,
                   height: int = 180, fps: int = 25, path: str = "crowd.mp4",
                   video: VideoInfo | None = None) -> Analysis:
    """A scene's true analysis without a video (or on `video`, whose size, rate and length
    then rule): `count` objects crossing the frame, each for a few seconds somewhere in the
    clip, walkers with steps and balls with impacts."""
    if video is not None:
        duration, width, height = video.duration, video.width, video.height
        fps, path = int(round(float(video.fps))), video.path
    rng = np.random.default_rng(seed)
    total = int(round(duration * fps))
    objects = []
    for i in range(count):
        span = int(rng.integers(max(2, total // 6), max(3, total // 2)))
        f0 = int(rng.integers(0, total - span))
        frames = np.arange(f0, f0 + span)
        x = np.linspace(*rng.uniform(0, 0.8 * width, 2), span)
        y, w, h = rng.uniform(0.2, 0.6) * height, rng.uniform(20, 60), rng.uniform(20, 60)
        boxes = np.stack([x, np.full(span, y), x + w, np.full(span, y + h)], axis=1)
        walker = i % 2 == 0
        events = tuple(Event(time=round(int(f) / fps, 3), strength=0.8,
                             kind="step" if walker else "impact") for f in frames[::max(1, fps // 3)])
        objects.append(Track(id=i + 1, label="person" if walker else "sports ball",
                             frames=frames, boxes=boxes, events=events))
    info = video if video is not None else VideoInfo(
        path=path, width=width, height=height, fps=Fraction(fps), duration=duration, frames=total)
    return Analysis(video=info, objects=tuple(objects))
