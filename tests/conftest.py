"""Shared fixtures. Synthetic media is generated here (or by video.synth) with known truth."""

from __future__ import annotations

import json
import os
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp/stereofoley-xdg")


@pytest.fixture
def rng() -> np.random.Generator:
    """Seeded randomness: every test that draws numbers gets the same ones each run."""
    return np.random.default_rng(1234)


@pytest.fixture
def marked_clip_dir(tmp_path: Path) -> Path:
    """A folder with one synthetic bouncing-ball clip and its marks file, marked from the scene's
    truth the way a person marks real footage (contact time, frame, ball bottom centre)."""
    from model.lab.real_eval import SCHEMA
    from video.synth import ObjectSpec, SceneSpec, write_clip

    folder = tmp_path / "marked"
    folder.mkdir()
    ball = ObjectSpec("ball", start=(0.25, 0.15), velocity=(0.12, 0.0), size=0.1,
                      restitution=0.7)
    spec = SceneSpec(width=320, height=240, fps=Fraction(25), duration=4.0, objects=(ball,))
    truth = write_clip(spec, folder / "bounce.mp4")
    track = truth.objects[0]
    marks = []
    for event in track.events:
        frame = truth.video.frame_at_time(event.time)
        box = track.box_at(frame)
        assert box is not None
        marks.append({"time": event.time, "frame": frame, "x": float((box[0] + box[2]) / 2),
                      "y": float(box[3]), "kind": "impact"})
    assert len(marks) >= 3
    (folder / "bounce.events.json").write_text(
        json.dumps({"schema": SCHEMA, "video": "bounce.mp4", "events": marks}))
    return folder


@pytest.fixture
def generate_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Ids of the objects whose dry foley model.foley.render generates (the real generator runs)."""
    import model.foley.render

    calls: list[int] = []
    real = model.foley.render.generate_with_plan

    def counting(track, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(track.id)
        return real(track, *args, **kwargs)

    monkeypatch.setattr(model.foley.render, "generate_with_plan", counting)
    return calls
