"""The studio at scale, without a window: a crowded project renders through the stem cache,
its block-wise mix equals the whole-array render, a nudge rewrites only its object's file, a
project opened again renders nothing, and the controller plays the cached mix."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from app.project import Project, save_project
from app.studio.session.audio_link import AudioLink
from app.studio.session.controller import StudioController
from app.studio.session.stem_render import CachedRenderer, stems_bytes
from audio.block_mix import BlockMix
from audio.overview import build_overview
from audio.stem_cache import StemCache
from model.foley.render import render_scene
from model.foley.scene import ObjectSound, RenderSettings
from tests.app.studio.session.helpers import crowd_analysis, settle

SETTINGS = RenderSettings()


@pytest.fixture(scope="module")
def scene():
    analysis = crowd_analysis(duration=6.0, count=6)
    return analysis, [ObjectSound(id=t.id) for t in analysis.objects]


def _files(folder: Path, kind: str) -> dict[str, int]:
    return {p.name: p.stat().st_ino for p in folder.glob(f"*.{kind}")}


def test_cached_mix_equals_the_whole_array_render(scene, tmp_path: Path) -> None:
    analysis, objects = scene
    objects = [replace(o, nudges=replace(o.nudges, mute=True)) if o.id == 3 else o
               for o in objects]
    renderer = CachedRenderer(analysis, SETTINGS, cache=StemCache(tmp_path))
    synced = renderer.sync(analysis, objects, SETTINGS)
    whole = render_scene(analysis, objects, SETTINGS)
    assert synced.mix.active == frozenset(o.id for o in objects if o.id != 3)
    assert synced.master["gain_db"] == pytest.approx(whole.master["gain_db"], abs=1e-9)
    blocks = np.concatenate([synced.mix[a:a + 4096] for a in range(0, synced.n_samples, 4096)])
    assert np.max(np.abs(blocks.T - whole.mix)) < 1e-6
    assert np.array_equal(blocks.T, synced.mix.materialize())
    # the stems are the spatialized (unmastered) ones: mastered, they are the render's stems
    gain = np.float32(10 ** (whole.master["gain_db"] / 20))
    for oid, stem in synced.stems.items():
        assert np.max(np.abs(stem.planar() * gain - whole.stems[oid])) < 2e-6 * max(
            1.0, float(np.max(np.abs(whole.stems[oid]))))
    # overviews are those of the mapped stems and of the mix
    for oid, ov in synced.overviews.items():
        stem = synced.stems[oid]
        assert np.array_equal(ov.data, build_overview(stem.load, n_samples=stem.n_samples).data)
    assert np.array_equal(synced.mix_overview.data,
                          build_overview(synced.mix.read, n_samples=synced.n_samples).data)


def test_a_nudge_rewrites_only_its_objects_file(scene, tmp_path: Path) -> None:
    analysis, objects = scene
    cache = StemCache(tmp_path)
    renderer = CachedRenderer(analysis, SETTINGS, cache=cache)
    first = renderer.sync(analysis, objects, SETTINGS)
    stems_before, dry_before = _files(tmp_path, "stem"), _files(tmp_path, "dry")
    assert len(stems_before) == len(dry_before) == len(objects)
    played: list[BlockMix] = []
    nudged = [replace(o, nudges=replace(o.nudges, pan_offset=0.6)) if o.id == 2 else o
              for o in objects]
    assert renderer.plan(analysis, nudged, SETTINGS).repan == frozenset({2})
    second = renderer.sync(analysis, nudged, SETTINGS, on_mix=played.append)
    stems_after = _files(tmp_path, "stem")
    new = set(stems_after) - set(stems_before)
    assert len(new) == 1 and second.stems[2].path.name in new
    assert {k: v for k, v in stems_after.items() if k not in new} == stems_before  # untouched
    assert _files(tmp_path, "dry") == dry_before                  # no foley regenerated
    assert played == [second.mix] and second.mix.plan is first.mix.plan
    assert all(second.stems[i] is first.stems[i] for i in second.stems if i != 2)
    # the mix changed by exactly the object's new contribution, and its overview followed
    delta = second.mix.read(0, second.n_samples) - first.mix.read(0, first.n_samples)
    stem_delta = second.stems[2].load(0, second.n_samples) - first.stems[2].load(
        0, first.n_samples)
    changed = np.flatnonzero(np.any(delta != 0, axis=1))
    assert changed.size and np.all(np.any(stem_delta[changed] != 0, axis=1))
    assert np.array_equal(second.mix_overview.data,
                          build_overview(second.mix.read, n_samples=second.n_samples).data)
    # undoing the nudge finds the old stem still cached: nothing is written
    third = renderer.sync(analysis, objects, SETTINGS)
    assert third.stems[2].path == first.stems[2].path
    assert _files(tmp_path, "stem")[first.stems[2].path.name] == stems_before[
        first.stems[2].path.name]


def test_a_nudge_is_heard_at_the_playhead_before_its_whole_stem(scene, tmp_path: Path
                                                               ) -> None:
    """With playback running, a nudge first hands playback the current mix with the object's
    next second from the playhead placed anew (equal to the whole new stem there), then the
    mix with the whole new stem."""
    analysis, objects = scene
    renderer = CachedRenderer(analysis, SETTINGS, cache=StemCache(tmp_path))
    first = renderer.sync(analysis, objects, SETTINGS)
    stem = first.stems[2]
    at = (stem.lo + stem.hi) // 2
    nudged = [replace(o, nudges=replace(o.nudges, pan_offset=-0.8)) if o.id == 2 else o
              for o in objects]
    played: list[BlockMix] = []
    second = renderer.sync(analysis, nudged, SETTINGS, on_mix=played.append,
                           playhead=lambda: at)
    assert len(played) == 2 and played[1] is second.mix
    preview, n = played[0], second.n_samples
    window = slice(at, min(n, at + 48_000))
    np.testing.assert_allclose(preview.read(0, n)[window], second.mix.read(0, n)[window],
                               rtol=0, atol=1e-6)
    outside = np.ones(n, dtype=bool)
    outside[window] = False
    assert np.array_equal(preview.read(0, n)[outside], first.mix.read(0, n)[outside])
    assert not np.array_equal(first.mix.read(0, n)[window], second.mix.read(0, n)[window])
    # stopped playback, a regeneration or an object away from the playhead: no preview
    for playhead, sounds in ((lambda: None, nudged),
                             (lambda: at, [replace(o, seed=5) if o.id == 2 else o
                                           for o in objects]),
                             (lambda: stem.hi + 48_000, nudged)):
        renderer.sync(analysis, objects, SETTINGS)
        played.clear()
        renderer.sync(analysis, sounds, SETTINGS, on_mix=played.append, playhead=playhead)
        assert len(played) == 1


def test_a_project_opened_again_renders_nothing(scene, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    analysis, objects = scene
    CachedRenderer(analysis, SETTINGS, cache=StemCache(tmp_path)).sync(analysis, objects,
                                                                       SETTINGS)
    before = {p.name: p.stat().st_ino for p in tmp_path.iterdir()}

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("generated or measured again")

    monkeypatch.setattr("model.foley.generate.generate_with_plan", fail)
    monkeypatch.setattr("audio.master.plan_master", fail)
    again = CachedRenderer(analysis, SETTINGS, cache=StemCache(tmp_path)).sync(
        analysis, objects, SETTINGS)
    assert {p.name: p.stat().st_ino for p in tmp_path.iterdir()} == before
    assert set(again.stems) == {o.id for o in objects}


def test_size_decides_the_render_path(scene, tmp_path: Path) -> None:
    analysis, _ = scene
    small = Project(analysis=analysis)
    assert stems_bytes(analysis) == 6 * 48_000 * 6 * 8
    assert not AudioLink(silent=True, cache_root=tmp_path).uses_cache(small)
    big = Project(analysis=crowd_analysis(duration=600.0, count=100, path="big.mp4"))
    assert AudioLink(silent=True, cache_root=tmp_path).uses_cache(big)
    assert not AudioLink(silent=True, cached=False).uses_cache(big)
    link = AudioLink(silent=True, cache_root=tmp_path)
    assert link.cache_folder(big).parent == tmp_path
    assert link.cache_folder(big) != link.cache_folder(small)


def test_controller_plays_the_cached_mix_and_nudges_it(scene, tmp_path: Path) -> None:
    analysis, _ = scene
    path = tmp_path / "crowd.json"
    save_project(Project(analysis=analysis), path)
    audio = AudioLink(silent=True, cache_root=tmp_path / "cache", cached=True)
    ctl = StudioController(audio=audio, autosave_dir=tmp_path / "recovery")
    try:
        ctl.open(path)
        assert ctl.missing_video is not None      # no video file: sound work goes on
        ctl.skip_relink()
        settle(ctl)
        engine = audio.engine
        assert engine is not None and isinstance(engine.mix, BlockMix)
        assert set(ctl.state.render.overviews) == {t.id for t in analysis.objects}
        assert ctl.state.render.mix_overview is not None and ctl.state.render.mix is not None
        before = engine.mix
        ctl.set_pan_offset(4, -0.7)
        settle(ctl)
        after = engine.mix
        assert isinstance(after, BlockMix) and after is not before
        assert after.stems[4] is not before.stems[4]
        assert all(after.stems[i] is before.stems[i] for i in after.stems if i != 4)
        assert ctl.state.stale == set()
    finally:
        ctl.shutdown()
