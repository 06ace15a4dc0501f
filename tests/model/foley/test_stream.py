"""The streamed render (model.foley.stream) against the whole-clip render: the same samples."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from audio.library import SoundLibrary
from audio.nudges import Nudges
from model.foley.generate import DryStream, generate_with_plan
from model.foley.render import render_scene
from model.foley.scene import ObjectSound, RenderSettings
from model.foley.stream import render_streamed
from tests.model.foley.test_generate import library  # noqa: F401  (a fixture)
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
    # the limiter held at 2 dB: short of a loud target, the same way both ways
    ({}, RenderSettings(seed=7, target_lufs=-12.0, true_peak_db=-6.0, max_limiting_db=2.0)),
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
    assert whole.master["max_limiting_db"] == settings.max_limiting_db
    assert whole.master["limiter"]["max_reduction_db"] <= settings.max_limiting_db + 0.1
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


# ----------------------------------------------------------------------------------------------
# an object's dry sound a block at a time


def _long_walker(seconds: float) -> Analysis:
    """One walker on screen for the whole clip, crossing slowly (steps all along, a cloth
    layer throughout once recognized as a person)."""
    analysis = scene_truth(SceneSpec(duration=seconds, objects=(
        ObjectSpec("walker", start=(0.05, 0.0), velocity=(0.008, 0.0), size=0.4),)))
    track = replace(analysis.objects[0], label="person")
    return replace(analysis, objects=(track,))


@pytest.mark.parametrize("label", ["person", "car", "bicycle", "bird", "ambience", "ball"])
def test_dry_stream_equals_the_whole_signal(label: str) -> None:
    """Every recipe's layers (cloth, engine + tyres, chain, wings, bed, whoosh), blocks of two
    sizes: the same samples as generate_with_plan, bit for bit."""
    analysis = _analysis()
    track = replace(analysis.objects[1], label=label)
    sound = ObjectSound(id=track.id, seed=7)
    whole, plan = generate_with_plan(track, analysis.video, sound, render_seed=2)
    for frames in (1 << 18, 48_001):
        stream = DryStream(track, analysis.video, sound, render_seed=2)
        assert stream.plan == plan
        got = np.concatenate([block for _, block in stream.blocks(frames)])
        np.testing.assert_array_equal(got, whole)
        lo, hi = stream.extent
        assert not whole[:lo].any() and not whole[hi:].any()


def test_dry_stream_of_a_three_minute_object_with_block_edges_on_its_hits() -> None:
    """A walker sounding for the whole 3 minutes (steps and a cloth texture throughout), cut
    into blocks whose edges fall inside one-shots: equal to the whole signal, and the hits
    straddling an edge really are there."""
    analysis = _long_walker(180.0)
    track = analysis.objects[0]
    sound = ObjectSound(id=track.id)
    whole, _ = generate_with_plan(track, analysis.video, sound, render_seed=1)
    probe = DryStream(track, analysis.video, sound, render_seed=1)
    hits = probe.one_shots
    assert len(hits) > 200
    first, end = hits[3]
    frames = first + (end - first) // 2          # the first block edge halves the fourth hit
    stream = DryStream(track, analysis.video, sound, render_seed=1)
    got = np.zeros_like(whole)
    for start, block in stream.blocks(frames):
        got[start:start + block.size] = block
    straddling = sum(any(a < k * frames < b for k in range(1, whole.size // frames + 1))
                     for a, b in hits)
    assert straddling >= 10
    np.testing.assert_array_equal(got, whole)


def test_dry_stream_with_library_sounds(library: SoundLibrary) -> None:  # noqa: F811
    """Library one-shots and a library loop as texture ("car engine": the loop read at a
    speed-driven rate, its filter and read position carried across blocks)."""
    analysis = _analysis()
    for prompt in ("car engine", "footsteps on gravel"):
        track = analysis.objects[1]
        sound = ObjectSound(id=track.id, prompt=prompt)
        whole, plan = generate_with_plan(track, analysis.video, sound, library=library)
        stream = DryStream(track, analysis.video, sound, library=library)
        got = np.concatenate([block for _, block in stream.blocks(30_001)])
        np.testing.assert_array_equal(got, whole)
        assert any(source.entries for source in (plan.texture, *plan.events.values())
                   if source is not None)


def test_streamed_render_of_a_three_minute_object_equals_the_whole_clip_render(
        tmp_path: Path) -> None:
    """One object sounding for the whole 3 minutes, raised to a loud target under a low
    ceiling so the limiter acts in most of the envelope's grid blocks: the streamed files
    equal the whole-clip render's within 1 LSB of 24 bits (and in fact exactly)."""
    analysis = _long_walker(180.0)
    objects = [ObjectSound(id=t.id) for t in analysis.objects]
    settings = RenderSettings(seed=2, target_lufs=-14.0, true_peak_db=-8.0)
    whole = render_scene(analysis, objects, settings)
    stream = render_streamed(analysis, objects, settings, folder=tmp_path)
    assert stream.master == whole.master
    assert whole.master["limiter"]["regions_total"] > 100
    oid = objects[0].id
    got = _blocks(stream, 1 << 18, oid)
    assert np.max(np.abs(got - whole.stems[oid])) <= LSB
    np.testing.assert_array_equal(got, whole.stems[oid])
    np.testing.assert_array_equal(_blocks(stream, 1 << 18), whole.mix)
    stream.close()
