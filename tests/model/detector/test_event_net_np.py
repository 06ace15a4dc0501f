"""The numpy twin of EventNet: same outputs as torch, used only while it matches its .pt."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from model.detector.event_net import (
    build_event_net,
    forward_arrays,
    load_checkpoint,
    save_checkpoint,
)
from model.detector.event_net_np import NumpyEventNet, load_npz
from model.detector.learned_events import DEFAULT_CHECKPOINT, predict
from model.detector.net_layout import (
    N_OUTPUTS,
    EventModel,
    EventNetConfig,
    Normalizer,
    npz_path,
)


def _tiny(seed: int) -> EventModel:
    config = EventNetConfig(channels=8, dilations=(1, 2, 4))
    net = build_event_net(config, seed=seed)
    net.eval()
    return EventModel(net=net, config=config, normalizer=Normalizer.identity(), threshold=0.4)


@pytest.mark.parametrize("frames", [1, 5, 240])
def test_numpy_forward_matches_torch(tmp_path: Path, rng: np.random.Generator,
                                     frames: int) -> None:
    model = _tiny(seed=3)
    path = tmp_path / "tiny.pt"
    save_checkpoint(model, path)
    fast = load_npz(path)
    assert fast is not None and isinstance(fast.net, NumpyEventNet)
    assert fast.threshold == pytest.approx(0.4) and fast.config == model.config
    x = rng.normal(size=(model.config.in_features, frames)).astype(np.float32)
    a, b = predict(load_checkpoint(path), x), predict(fast, x)
    for name in ("onset", "strength", "offset", "kinds"):
        np.testing.assert_allclose(getattr(b, name), getattr(a, name), atol=1e-5)


def test_one_forward_interface(tmp_path: Path, rng: np.random.Generator) -> None:
    """Both networks take a standardized (batch, features, T) batch and return the raw
    (batch, N_OUTPUTS, T) outputs; each sequence of a batch is computed on its own."""
    model = _tiny(seed=5)
    path = tmp_path / "tiny.pt"
    save_checkpoint(model, path)
    fast = load_npz(path)
    assert fast is not None
    x = rng.normal(size=(3, model.config.in_features, 37)).astype(np.float32)
    a, b = forward_arrays(model.net, x), fast.net.forward(x)
    assert a.shape == b.shape == (3, N_OUTPUTS, 37)
    np.testing.assert_allclose(b, a, atol=1e-4)
    np.testing.assert_array_equal(fast.net.forward(x[1:2])[0], b[1])


def test_stale_twin_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "m.pt"
    save_checkpoint(_tiny(seed=1), path)
    twin = npz_path(path).read_bytes()
    save_checkpoint(replace(_tiny(seed=2), threshold=0.7), path)  # retrained: new .pt and twin
    npz_path(path).write_bytes(twin)  # an old twin left behind must not shadow the new weights
    assert load_npz(path) is None


def test_shipped_checkpoint_has_a_matching_twin() -> None:
    fast = load_npz(DEFAULT_CHECKPOINT)
    assert fast is not None and isinstance(fast.net, NumpyEventNet)


def test_learned_events_do_not_import_torch() -> None:
    code = (
        "import sys\n"
        "from fractions import Fraction\n"
        "from model.detector.event_detection import apply_event_detector\n"
        "from video.synth import ObjectSpec, SceneSpec, scene_truth\n"
        "ball = ObjectSpec('ball', start=(0.3, 0.2), velocity=(0.15, 0.0), size=0.1,"
        " restitution=0.75)\n"
        "truth = scene_truth(SceneSpec(width=384, height=216, fps=Fraction(30), duration=3.0,"
        " objects=(ball,)))\n"
        "out = apply_event_detector(truth)\n"
        "assert out.extra['event_detector'] == 'learned', out.extra\n"
        "assert any(e.kind == 'impact' for e in out.objects[0].events)\n"
        "print('torch' in sys.modules)\n"
    )
    root = Path(__file__).resolve().parents[3]
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=root, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"
