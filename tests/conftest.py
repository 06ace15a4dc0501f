"""Shared fixtures. Synthetic media is generated here (or by video.synth) with known truth."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp/stereofoley-xdg")


@pytest.fixture
def rng() -> np.random.Generator:
    """Seeded randomness: every test that draws numbers gets the same ones each run."""
    return np.random.default_rng(1234)
