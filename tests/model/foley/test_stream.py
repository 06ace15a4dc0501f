"""The streamed render (model.foley.stream) against the whole-clip render: the same samples."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from audio.nudges import Nudges
from model.foley.render import render_scene
from model.foley.scene import ObjectSound, RenderSettings
from model.foley.stream import render_streamed
from video.base.errors import InputError
from video.base.timebase import SAMPLE_RATE
from video.base.tracks import Analysis
from video.synth import ObjectSpec, SceneSpec, scene_truth

LSB = 1.0 / (1 << 23)


def _analysis() -> Analysis:
    """Objects that enter late and leave early (their stems are mostly silence), a bouncing
    ball whose hits straddle block edges, a walker and a sliding box."""
    return scene_truth(SceneSpec(duration=14.0, objects=(
        ObjectSpec("ball", start=(0.2, 0.2), velocity=(0.05, 0.0), restitution=0.85),
        ObjectSpec("walker", start=(0.1, 0.0), velocity=(0.04, 0.0), t_enter=3.0, t_exit=9.0,
                   color=(40, 90, 235)),
        ObjectSpec("slide", start=(0.8, 0.0), velocity=(-0.5, 0.0), friction=0.2,
                   t_enter=7.5, t_exit=11.0, color=(250, 130, 20)),
        ObjectSpec("box", start=(0.5, 0.5), velocity=(0.01, 0.0), t_enter=10.0,
                   color=(20, 200, 210)))))


def _blocks(stream: object, frames: int, object_id: int | None = None) -> np.ndarray:
    parts = stream.mix_blocks(frames) if object_id is None \
        else stream.stem_blocks(object_id, frames)  # type: ignore[attr-defined]
    return np.concatenate(list(parts), axis=1)


@pytest.mark.parametrize(("nudges", "settings"), [
    ({}, RenderSettings(seed=3)),
    # a loud target under a low ceiling: the limiter acts, its spans cross the blocks
    ({2: Nudges(width=0.6, pan_offset=0.2)}, RenderSettings(seed=4, target_lufs=-12.0,
                                                           true_peak_db=-6.0)),
    ({1: Nudges(mute=True), 3: Nudges(gain_db=6.0)}, RenderSettings(seed=5, itd=True)),
    ({3: Nudges(solo=True)}, RenderSettings(seed=6, air_absorption=False)),
])
def test_streamed_render_equals_the_whole_clip_render(tmp_path: Path,
                                                      nudges: dict[int, Nudges],
                                                      settings: RenderSettings) -> None:
    analysis = _analysis()
    objects = [ObjectSound(id=t.id, nudges=nudges.get(t.id, Nudges()))
               for t in analysis.objects]
    objects.reverse()                       # project order is not id order: the sum still is
    whole = render_scene(analysis, objects, settings)
    stream = render_streamed(analysis, objects, settings, folder=tmp_path)
    assert stream.master == whole.master
    assert stream.chosen == whole.chosen
    assert stream.n_samples == whole.n_samples
    assert {k: len(v) for k, v in stream.limiter.items()} == \
        {k: len(v) for k, v in whole.limiter.items()}
    if settings.true_peak_db == -6.0:
        assert whole.master["limiter"]["samples"] > 0
    for frames in (1 << 18, 100_003):
        for sound in objects:
            got = _blocks(stream, frames, sound.id)
            assert np.max(np.abs(got - whole.stems[sound.id])) <= LSB   # the contract...
            np.testing.assert_array_equal(got, whole.stems[sound.id])  # ...and in fact exact
        np.testing.assert_array_equal(_blocks(stream, frames), whole.mix)
    stream.close()


def test_spools_hold_only_where_an_object_sounds(tmp_path: Path) -> None:
    analysis = _analysis()
    objects = [ObjectSound(id=t.id) for t in analysis.objects]
    stream = render_streamed(analysis, objects, RenderSettings(seed=3), folder=tmp_path)
    n = stream.n_samples
    late = analysis.objects[-1]      # the box enters at 10 s
    lo, hi = stream.span(late.id)
    assert 9.0 * SAMPLE_RATE < lo < 10.0 * SAMPLE_RATE and lo < hi <= n
    assert (tmp_path / f"stem{late.id}.f32").stat().st_size == (hi - lo) * 2 * 4
    assert (tmp_path / "mix.f32").stat().st_size == n * 2 * 4
    stem = _blocks(stream, 1 << 16, late.id)
    assert not stem[:, :lo].any() and not stem[:, hi:].any() and stem[:, lo:hi].any()
    stream.close()


@pytest.mark.parametrize(("ids", "message"), [
    ([1, 1], "duplicate object ids"),
    ([1, 99], "no object with id 99"),
])
def test_bad_object_ids_are_refused_before_any_work(tmp_path: Path, ids: list[int],
                                                    message: str) -> None:
    analysis = _analysis()
    objects = [replace(ObjectSound(id=1), id=i) for i in ids]
    with pytest.raises(InputError, match=message):
        render_streamed(analysis, objects, RenderSettings(), folder=tmp_path)
    assert list(tmp_path.iterdir()) == []
