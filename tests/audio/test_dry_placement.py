"""dry_placement splits the spatializer into a source and its pan/level curves; applying them
again gives `spatialize`'s output, for mono sources and for the stereo ones (width, ITD,
Doppler, whose delays stay in the source)."""

from __future__ import annotations

import numpy as np
import pytest

from audio.nudges import Nudges
from audio.spatialize import (
    SpatialConfig,
    apply_placement,
    dry_placement,
    pan_control,
    spatialize,
)
from tests.audio.test_spatialize import W, boxes_from, make_info
from video.base.timebase import SAMPLE_RATE
from video.base.tracks import Track


def moving_track(info) -> Track:  # type: ignore[no-untyped-def]
    frames = np.arange(info.frames)
    x = np.linspace(0.1, 0.9, frames.size) * W
    area = np.linspace(0.02, 0.2, frames.size)
    return Track(id=3, label="car", frames=frames, boxes=boxes_from(x, area, aspect=1.5))


@pytest.mark.parametrize("config, nudges, channels", [
    (SpatialConfig(), Nudges(), 1),
    (SpatialConfig(law="-6dB", air_absorption=False), Nudges(gain_db=-4.0, pan_offset=0.2), 1),
    (SpatialConfig(), Nudges(width=0.8), 2),
    (SpatialConfig(itd=True), Nudges(), 2),
    (SpatialConfig(doppler=True, law="0dB"), Nudges(distance_scale=2.0), 2),
])
def test_placement_reapplied_is_the_spatialized_stem(config: SpatialConfig, nudges: Nudges,
                                                     channels: int,
                                                     rng: np.random.Generator) -> None:
    info = make_info(2.0)
    track = moving_track(info)
    dry = (0.2 * rng.standard_normal(2 * SAMPLE_RATE)).astype(np.float32)
    placed = dry_placement(dry, track, info, nudges=nudges, config=config)
    assert placed.audio.shape == (channels, dry.size)
    np.testing.assert_allclose(placed.pan, pan_control(track, info, n_samples=dry.size,
                                                       nudges=nudges), atol=1e-12)
    assert placed.control_times[1] == pytest.approx(placed.block / SAMPLE_RATE)
    stem = spatialize(dry, track, info, nudges=nudges, config=config)
    again = apply_placement(placed.audio, placed.pan, placed.gain, block=placed.block,
                            law=config.law)
    error = np.sum((again.astype(np.float64) - stem) ** 2) / np.sum(stem.astype(np.float64) ** 2)
    assert error < 1e-12
