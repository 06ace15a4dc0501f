"""Render pipeline on synthetic scenes with known truth: placement, sync, distance, master, caches."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from audio.master import measure_loudness
from audio.mix import active_ids
from audio.nudges import Nudges
from audio.pan import estimate_pan
from model.foley.render import SceneRenderer, dry_key, render_scene
from model.foley.scene import ObjectSound, RenderSettings
from video.base.errors import Cancelled, InputError
from video.base.timebase import SAMPLE_RATE, duration_to_samples
from video.base.tracks import Analysis
from video.synth import ObjectSpec, SceneSpec, scene_truth

SETTINGS = RenderSettings(seed=3)


def _scene(*objects: ObjectSpec, duration: float = 4.0) -> Analysis:
    return scene_truth(SceneSpec(duration=duration, objects=objects))


def _sounds(analysis: Analysis) -> list[ObjectSound]:
    return [ObjectSound(id=t.id) for t in analysis.objects]


def _true_pan(analysis: Analysis, object_id: int, t: float) -> float | None:
    track = analysis.object(object_id)
    box = track.box_at(analysis.video.frame_at_time(t))
    return None if box is None else float((box[0] + box[2]) / analysis.video.width - 1.0)


def _onsets(x: np.ndarray, *, hop: int = 96, rise_db: float = 10.0) -> np.ndarray:
    """Times (s) where the 2 ms energy jumps `rise_db` over the preceding 20 ms (first of each
    burst, bursts at least 60 ms apart)."""
    n = len(x) // hop
    env = np.sqrt(np.mean(x[: n * hop].reshape(n, hop).astype(np.float64) ** 2, axis=1)) + 1e-9
    back = 10
    out: list[float] = []
    for i in range(back, n):
        if 20 * np.log10(env[i] / np.sqrt(np.mean(env[i - back: i] ** 2))) > rise_db:
            if not out or i * hop / SAMPLE_RATE - out[-1] > 0.06:
                out.append(i * hop / SAMPLE_RATE)
    return np.asarray(out)


def test_stem_pan_follows_true_screen_position() -> None:
    analysis = _scene(ObjectSpec("box", start=(0.05, 0.5), velocity=(0.5, 0.0), size=0.15),
                      ObjectSpec("box", start=(0.95, 0.3), velocity=(-0.35, 0.0), size=0.1,
                                 color=(40, 90, 235)))
    result = render_scene(analysis, _sounds(analysis), SETTINGS)
    win = SAMPLE_RATE // 4
    for track in analysis.objects:
        stem = result.stems[track.id]
        est, truth = [], []
        for start in range(0, result.n_samples - win, win):
            t = (start + win / 2) / SAMPLE_RATE
            p = _true_pan(analysis, track.id, t)
            seg = stem[:, start: start + win]
            if p is None or np.sqrt(np.mean(seg ** 2)) < 1e-5:
                continue
            est.append(estimate_pan(seg))
            truth.append(p)
        assert len(est) >= 8
        assert np.corrcoef(est, truth)[0, 1] >= 0.95
        assert np.max(np.abs(np.subtract(est, truth))) < 0.15


def test_bouncing_ball_onsets_within_a_frame_of_contacts() -> None:
    analysis = _scene(ObjectSpec("ball", start=(0.2, 0.15), velocity=(0.15, 0.0), size=0.1),
                      duration=4.0)
    track = analysis.objects[0]
    contacts = np.array([e.time for e in track.events if e.strength > 0.25])
    assert len(contacts) >= 3
    result = render_scene(analysis, _sounds(analysis), SETTINGS)
    found = _onsets(result.stems[track.id].sum(axis=0))
    frame = 1 / float(analysis.video.fps)
    for c in contacts:
        assert np.min(np.abs(found - c)) <= frame, (c, found)


def test_approaching_object_gets_louder() -> None:
    analysis = _scene(ObjectSpec("approach", start=(0.5, 0.5), velocity=(0.02, 0.0), size=0.08,
                                 growth=0.5), duration=4.0)
    track = analysis.objects[0]
    result = render_scene(analysis, _sounds(analysis), SETTINGS)
    stem, dry = result.stems[track.id], result.dry[track.id]
    assert float(np.sqrt(np.mean(dry ** 2))) > 1e-3          # it moves in depth: it sounds
    sec = SAMPLE_RATE
    gains = []
    for start in range(0, result.n_samples - sec + 1, sec // 2):
        d = float(np.sqrt(np.mean(dry[start: start + sec] ** 2)))
        if d > 1e-5:
            s = float(np.sqrt(np.mean(stem[:, start: start + sec] ** 2)))
            gains.append(20 * np.log10(s / d))
    assert len(gains) >= 5
    assert gains[-1] - gains[0] > 6.0                        # box area x ~7: clearly nearer
    assert np.all(np.diff(gains) > -0.5)


def test_stems_sum_to_mix_at_target_loudness_and_nothing_is_silent() -> None:
    analysis = _scene(ObjectSpec("ball", start=(0.2, 0.2), velocity=(0.2, 0.0)),
                      ObjectSpec("walker", start=(0.1, 0.8), velocity=(0.15, 0.0)),
                      ObjectSpec("slide", start=(0.6, 0.85), velocity=(0.3, 0.0)))
    settings = replace(SETTINGS, target_lufs=-20.0)
    result = render_scene(analysis, _sounds(analysis), settings)
    n = duration_to_samples(analysis.video.duration)
    assert result.mix.shape == (2, n) and result.mix.dtype == np.float32
    total = np.sum([result.stems[t.id] for t in analysis.objects], axis=0)
    np.testing.assert_allclose(total, result.mix, atol=1e-6)
    assert measure_loudness(result.mix) == pytest.approx(-20.0, abs=0.5)
    assert result.master["target_lufs"] == -20.0
    for t in analysis.objects:
        assert result.stems[t.id].shape == (2, n)
        assert float(np.sqrt(np.mean(result.stems[t.id] ** 2))) > 1e-4


def test_renders_are_seeded() -> None:
    analysis = _scene(ObjectSpec("ball", start=(0.2, 0.2), velocity=(0.2, 0.0)), duration=2.0)
    a = render_scene(analysis, _sounds(analysis), SETTINGS)
    b = render_scene(analysis, _sounds(analysis), SETTINGS)
    assert a.mix.tobytes() == b.mix.tobytes()
    c = render_scene(analysis, _sounds(analysis), replace(SETTINGS, seed=4))
    assert not np.array_equal(a.mix, c.mix)


def test_progress_and_cancel() -> None:
    analysis = _scene(ObjectSpec("ball", start=(0.2, 0.2)), ObjectSpec("box", start=(0.1, 0.5),
                                                                       velocity=(0.3, 0.0)),
                      duration=1.0)
    seen: list[float] = []
    render_scene(analysis, _sounds(analysis), SETTINGS,
                 progress=lambda f, m: seen.append(f))
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) >= 3

    def cancel(fraction: float, message: str) -> None:
        if fraction > 0.3:
            raise Cancelled()

    with pytest.raises(Cancelled):
        render_scene(analysis, _sounds(analysis), SETTINGS, progress=cancel)


@pytest.mark.parametrize("objects, message", [
    ([ObjectSound(id=99)], "no object with id 99"),
    ([ObjectSound(id=1), ObjectSound(id=1)], "duplicate object ids"),
])
def test_bad_objects_are_input_errors(objects: list[ObjectSound], message: str) -> None:
    analysis = _scene(ObjectSpec("ball", start=(0.2, 0.2)), duration=1.0)
    with pytest.raises(InputError, match=message):
        render_scene(analysis, objects, SETTINGS)


def test_scene_renderer_nudge_updates_one_stem_without_regenerating() -> None:
    analysis = _scene(ObjectSpec("box", start=(0.1, 0.5), velocity=(0.3, 0.0)),
                      ObjectSpec("ball", start=(0.7, 0.2), velocity=(-0.5, 0.0)), duration=3.0)
    sounds = _sounds(analysis)
    renderer = SceneRenderer(analysis, SETTINGS)
    full = renderer.render(sounds)
    stems_before = {k: v.copy() for k, v in full.stems.items()}
    dry_before = full.dry[1]
    gain_db = full.master["gain_db"]

    nudged = replace(sounds[0], nudges=Nudges(pan_offset=-1.0, gain_db=-6.0))
    after = renderer.update_object(nudged)
    assert after.dry[1] is dry_before                                   # cached, not regenerated
    assert np.array_equal(after.stems[2], stems_before[2])              # other object untouched
    assert estimate_pan(after.stems[1]) < estimate_pan(stems_before[1]) - 0.3
    ratio = np.sqrt(np.mean(after.stems[1] ** 2) / np.mean(stems_before[1] ** 2))
    assert 20 * np.log10(ratio) == pytest.approx(-6.0, abs=1.5)
    np.testing.assert_allclose(after.mix, after.stems[1] + after.stems[2], atol=1e-5)
    assert after.master["gain_db"] == gain_db                           # master gain kept

    muted = renderer.update_object(replace(nudged, nudges=Nudges(mute=True)))
    np.testing.assert_allclose(muted.mix, muted.stems[2], atol=1e-6)
    soloed = renderer.update_object(replace(nudged, nudges=Nudges(solo=True)))
    np.testing.assert_allclose(soloed.mix, soloed.stems[1], atol=1e-6)

    # a new prompt regenerates that object's foley only
    reprompted = renderer.update_object(replace(sounds[0], prompt="car engine"))
    assert reprompted.dry[1] is not dry_before and reprompted.dry[2] is full.dry[2]
    with pytest.raises(InputError):
        renderer.update_object(ObjectSound(id=42))


def test_dry_key_tracks_only_what_changes_the_foley() -> None:
    analysis = _scene(ObjectSpec("ball", start=(0.2, 0.2)), duration=1.0)
    track = analysis.objects[0]
    base = ObjectSound(id=track.id, prompt="metal clang")
    key = dry_key(track, base, SETTINGS)
    assert dry_key(track, replace(base, nudges=Nudges(pan_offset=0.5)), SETTINGS) == key
    assert dry_key(track, replace(base, stem="x.wav"), SETTINGS) == key
    for changed in (replace(base, prompt="wood"), replace(base, seed=1),
                    replace(base, sounds=("bundled:x.wav",))):
        assert dry_key(track, changed, SETTINGS) != key
    assert dry_key(track, base, replace(SETTINGS, seed=9)) != key


def test_patched_mix_stays_the_sum_of_stems_over_many_nudges() -> None:
    """The incremental mix patch must not drift from the plain sum (speed is in bench/)."""
    analysis = _scene(ObjectSpec("box", start=(0.05, 0.5), velocity=(0.04, 0.0)),
                      ObjectSpec("ball", start=(0.5, 0.2), velocity=(0.05, 0.0)), duration=8.0)
    sounds = _sounds(analysis)
    renderer = SceneRenderer(analysis, SETTINGS)
    renderer.render(sounds)
    rng = np.random.default_rng(9)
    for _ in range(12):
        target = sounds[int(rng.integers(2))]
        renderer.update_object(replace(target, nudges=Nudges(
            pan_offset=float(rng.uniform(-1, 1)), gain_db=float(rng.uniform(-12, 6)),
            distance_scale=float(rng.uniform(0.5, 3)))))
    result = renderer.result()
    total = result.stems[1] + result.stems[2]
    assert np.max(np.abs(result.mix - total)) < 1e-5 * max(1.0, float(np.max(np.abs(total))))
    assert math.isfinite(float(result.mix.sum()))


def test_dry_cache_is_bounded_and_regenerates_identically() -> None:
    analysis = _scene(ObjectSpec("ball", start=(0.2, 0.2)), duration=1.0)
    renderer = SceneRenderer(analysis, SETTINGS)
    renderer.spare_dry = 1                      # keeps 2 per object + 1 = 3 versions here
    prompts = ["metal clang", "wood", "glass", "plastic", "car engine"]
    first = renderer.dry(ObjectSound(id=1, prompt=prompts[0]))
    assert renderer.dry(ObjectSound(id=1, prompt=prompts[0])) is first       # cached
    for p in prompts[1:]:
        renderer.dry(ObjectSound(id=1, prompt=p))
    again = renderer.dry(ObjectSound(id=1, prompt=prompts[0]))
    assert again is not first and np.array_equal(again, first)             # evicted, same audio


def test_nudges_through_the_source_cache_match_a_fresh_spatialize() -> None:
    """update_object keeps the prepared source (air, width) of a nudged object; whatever the
    sequence of nudges, its stem must be exactly what spatializing from scratch gives."""
    from audio.spatialize import spatialize
    from model.foley.render import spatial_config

    analysis = _scene(ObjectSpec("approach", start=(0.3, 0.5), velocity=(0.1, 0.0), growth=0.3),
                      ObjectSpec("ball", start=(0.7, 0.2), velocity=(-0.5, 0.0)), duration=1.5)
    sounds = _sounds(analysis)
    renderer = SceneRenderer(analysis, SETTINGS)
    renderer.render(sounds)
    master_db = 20.0 * math.log10(10.0 ** (renderer.result().master["gain_db"] / 20.0))
    track = analysis.objects[0]
    for nudges in (Nudges(pan_offset=0.4), Nudges(pan_offset=-0.2, gain_db=-3.0),
                   Nudges(pan_offset=-0.2, distance_scale=2.0),
                   Nudges(pan_offset=0.1, distance_scale=2.0, width=0.8),
                   Nudges(pan_offset=0.1, width=0.8), Nudges()):
        stem = renderer.update_object(replace(sounds[0], nudges=nudges)).stems[track.id]
        fresh = spatialize(renderer.dry(sounds[0]), track, analysis.video,
                           nudges=replace(nudges, gain_db=nudges.gain_db + master_db),
                           config=spatial_config(SETTINGS))
        np.testing.assert_array_equal(stem, fresh)


THREE = (ObjectSpec("box", start=(0.1, 0.5), velocity=(0.3, 0.0)),
         ObjectSpec("ball", start=(0.7, 0.2), velocity=(-0.5, 0.0)),
         ObjectSpec("walker", start=(0.2, 0.8), velocity=(0.15, 0.0)))


def test_sync_with_an_object_removed_regenerates_nothing(generate_calls: list[int]
                                                                  ) -> None:
    analysis = _scene(*THREE, duration=2.0)
    sounds = _sounds(analysis)
    renderer = SceneRenderer(analysis, SETTINGS)
    full = renderer.render(sounds)
    stems = {k: v.copy() for k, v in full.stems.items()}
    assert sorted(generate_calls) == [1, 2, 3]
    generate_calls.clear()

    reduced = analysis.with_objects(t for t in analysis.objects if t.id != 2)
    after = renderer.sync(reduced, [s for s in sounds if s.id != 2], SETTINGS).result
    assert generate_calls == []                                   # nothing generated again
    assert set(after.stems) == set(after.dry) == {1, 3} and renderer.analysis is reduced
    fresh = SceneRenderer(analysis, SETTINGS).render(sounds)      # same scene, same master gain
    for oid in (1, 3):
        assert after.stems[oid].tobytes() == fresh.stems[oid].tobytes() == stems[oid].tobytes()
    np.testing.assert_allclose(after.mix, after.stems[1] + after.stems[3], atol=1e-6)
    assert after.master["gain_db"] == full.master["gain_db"]     # kept, as update_object does

    # a full render of the edited scene: still nothing generated, and bit for bit what a new
    # renderer of that scene gives (re-mastered)
    generate_calls.clear()
    remastered = renderer.render([s for s in sounds if s.id != 2])
    scratch = render_scene(reduced, [s for s in sounds if s.id != 2], SETTINGS)
    assert len(generate_calls) == 2                               # only `scratch` generated
    for oid in (1, 3):
        assert remastered.stems[oid].tobytes() == scratch.stems[oid].tobytes()
    assert remastered.mix.tobytes() == scratch.mix.tobytes()

    generate_calls.clear()
    restored = renderer.sync(analysis, sounds, SETTINGS).result            # undo: back from the cache
    assert generate_calls == [] and set(restored.stems) == {1, 2, 3}
    total = restored.stems[1] + restored.stems[2] + restored.stems[3]
    np.testing.assert_allclose(restored.mix, total, atol=1e-6)


def test_sync_regenerates_only_a_merged_or_added_object(generate_calls: list[int]
                                                                 ) -> None:
    from app.edits import merge_tracks

    analysis = _scene(*THREE, duration=2.0)
    renderer = SceneRenderer(analysis, SETTINGS)
    first = renderer.render(_sounds(analysis))
    kept = first.stems[3]
    generate_calls.clear()
    merged = merge_tracks(analysis.object(1), analysis.object(2))
    edited = analysis.with_objects([merged, analysis.object(3)])
    synced = renderer.sync(edited, _sounds(edited), SETTINGS)
    after = synced.result
    assert synced.did.regenerate == {1} and synced.did.drop == {2} and not synced.did.repan
    assert generate_calls == [1]                                  # the merged object only
    assert after.stems[3] is kept and set(after.stems) == {1, 3}
    assert not np.array_equal(after.dry[1], first.dry[1])          # its foley follows the merge
    np.testing.assert_allclose(after.mix, after.stems[1] + after.stems[3], atol=1e-6)
    # the merged stem is what spatializing its new foley with the kept master gain gives
    scratch = SceneRenderer(edited, SETTINGS)
    scratch.render(_sounds(edited))
    np.testing.assert_array_equal(after.dry[1], scratch.dry(ObjectSound(id=1)))

    generate_calls.clear()
    added = edited.with_objects([*edited.objects, analysis.object(2).with_changes(id=7)])
    grown = renderer.sync(added, _sounds(added), SETTINGS).result
    assert generate_calls == [7] and set(grown.stems) == {1, 3, 7}
    assert grown.stems[1] is after.stems[1] and grown.stems[3] is kept
    np.testing.assert_allclose(grown.mix, grown.stems[1] + grown.stems[3] + grown.stems[7],
                               atol=1e-6)


def test_sync_removing_the_soloed_object_unmutes_the_rest(generate_calls: list[int]
                                                                   ) -> None:
    analysis = _scene(*THREE, duration=1.5)
    sounds = _sounds(analysis)
    sounds[1] = replace(sounds[1], nudges=Nudges(solo=True))
    sounds[2] = replace(sounds[2], nudges=Nudges(mute=True))
    renderer = SceneRenderer(analysis, SETTINGS)
    first = renderer.render(sounds)
    np.testing.assert_allclose(first.mix, first.stems[2], atol=1e-6)
    after = renderer.sync(analysis.with_objects(t for t in analysis.objects if t.id != 2),
                           [s for s in sounds if s.id != 2], SETTINGS).result
    np.testing.assert_allclose(after.mix, after.stems[1], atol=1e-6)   # 3 stays muted
    assert float(np.abs(after.mix).max()) > 1e-3


def test_sync_of_settings_repans_remasters_or_regenerates_as_needed(generate_calls: list[int]) -> None:
    from audio.spatialize import spatialize
    from model.foley.render import spatial_config

    analysis = _scene(*THREE[:2], duration=1.5)
    renderer = SceneRenderer(analysis, SETTINGS)
    sounds = _sounds(analysis)
    first = renderer.render(sounds)
    dry, gain_db = dict(first.dry), first.master["gain_db"]
    generate_calls.clear()

    synced = renderer.sync(analysis, sounds, replace(SETTINGS, pan_law="-6dB"))
    assert synced.did.repan == {1, 2} and not synced.did.regenerate | synced.did.drop
    law = synced.result
    assert generate_calls == [] and law.master["gain_db"] == gain_db
    assert all(law.dry[i] is dry[i] for i in (1, 2))
    assert not np.array_equal(law.stems[1], first.stems[1])
    six = spatial_config(replace(SETTINGS, pan_law="-6dB"))     # placed anew, master gain kept
    fresh = spatialize(dry[1], analysis.object(1), analysis.video,
                       nudges=Nudges(gain_db=20.0 * math.log10(10.0 ** (gain_db / 20.0))),
                       config=six)
    np.testing.assert_array_equal(law.stems[1], fresh)
    np.testing.assert_allclose(law.mix, law.stems[1] + law.stems[2], atol=1e-6)

    synced = renderer.sync(analysis, sounds, replace(SETTINGS, pan_law="-6dB", target_lufs=-30.0))
    assert synced.did.remaster and synced.did.repan == {1, 2} and not synced.did.regenerate
    quieter = synced.result
    assert generate_calls == [] and quieter.master["target_lufs"] == -30.0
    assert measure_loudness(quieter.mix) == pytest.approx(-30.0, abs=0.5)

    synced = renderer.sync(analysis, sounds, replace(SETTINGS, seed=4, pan_law="-6dB",
                                                     target_lufs=-30.0))
    assert synced.did.regenerate == {1, 2} and not synced.did.remaster
    reseeded = synced.result
    assert sorted(generate_calls) == [1, 2]
    assert not np.array_equal(reseeded.dry[1], dry[1])


def test_cancelled_sync_leaves_the_renderer_as_it_was(generate_calls: list[int]) -> None:
    analysis = _scene(*THREE, duration=1.5)
    renderer = SceneRenderer(analysis, SETTINGS)
    before = renderer.render(_sounds(analysis))
    mix = before.mix.copy()
    edited = analysis.with_objects([analysis.object(1), analysis.object(2).with_changes(id=9),
                                    analysis.object(3)])

    def cancel(fraction: float, message: str) -> None:
        raise Cancelled()

    with pytest.raises(Cancelled):
        renderer.sync(edited, _sounds(edited), SETTINGS, progress=cancel)
    assert renderer.analysis is analysis and set(renderer.result().stems) == {1, 2, 3}
    assert renderer.result().mix.tobytes() == mix.tobytes()
    with pytest.raises(InputError, match="no object with id 5"):
        renderer.sync(analysis, [ObjectSound(id=5)], SETTINGS)
    with pytest.raises(InputError, match="duplicate object ids"):
        renderer.sync(analysis, [ObjectSound(id=1), ObjectSound(id=1)], SETTINGS)
    assert renderer.analysis is analysis


def _nudged(sounds: list[ObjectSound], object_id: int, **changes: object) -> list[ObjectSound]:
    return [replace(s, nudges=replace(s.nudges, **changes)) if s.id == object_id else s
            for s in sounds]


def _with(sounds: list[ObjectSound], object_id: int, **changes: object) -> list[ObjectSound]:
    return [replace(s, **changes) if s.id == object_id else s for s in sounds]


# (what changes: (analysis, sounds, settings) -> the new scene), then what sync must do:
# (regenerated ids, re-panned ids, dropped ids, remix, remaster)
SYNC_TABLE = [
    ("nothing", lambda a, s, c: (a, s, c), ((), (), (), False, False)),
    ("pan nudge", lambda a, s, c: (a, _nudged(s, 2, pan_offset=0.5), c),
     ((), (2,), (), True, False)),
    ("gain + width nudge", lambda a, s, c: (a, _nudged(s, 1, gain_db=-3.0, width=0.5), c),
     ((), (1,), (), True, False)),
    ("mute", lambda a, s, c: (a, _nudged(s, 3, mute=True), c), ((), (), (), True, False)),
    ("mute while another is soloed", lambda a, s, c: (
        a, _nudged(_nudged(s, 1, solo=True), 3, mute=True), c), ((), (), (), True, False)),
    ("prompt", lambda a, s, c: (a, _with(s, 2, prompt="glass"), c), ((2,), (), (), True, False)),
    ("object seed", lambda a, s, c: (a, _with(s, 3, seed=5), c), ((3,), (), (), True, False)),
    ("stem file name only", lambda a, s, c: (a, _with(s, 1, stem="x.wav"), c),
     ((), (), (), False, False)),
    ("rename", lambda a, s, c: (
        a.with_objects(t.with_changes(label="car") if t.id == 1 else t for t in a.objects), s, c),
     ((1,), (), (), True, False)),
    ("delete", lambda a, s, c: (a.with_objects(t for t in a.objects if t.id != 2),
                                [o for o in s if o.id != 2], c), ((), (), (2,), True, False)),
    ("pan law", lambda a, s, c: (a, s, replace(c, pan_law="-6dB")),
     ((), (1, 2, 3), (), True, False)),
    ("render seed", lambda a, s, c: (a, s, replace(c, seed=8)), ((1, 2, 3), (), (), True, False)),
    ("loudness target", lambda a, s, c: (a, s, replace(c, target_lufs=-16.0)),
     ((), (1, 2, 3), (), True, True)),
    ("limiting cap", lambda a, s, c: (a, s, replace(c, max_limiting_db=3.0)),
     ((), (1, 2, 3), (), True, True)),
    ("prompt + ceiling", lambda a, s, c: (a, _with(s, 2, prompt="wood"),
                                          replace(c, true_peak_db=-2.0)),
     ((2,), (1, 3), (), True, True)),
]


@pytest.mark.parametrize(("what", "edit", "expected"), SYNC_TABLE, ids=[r[0] for r in SYNC_TABLE])
def test_sync_does_what_plan_says_and_only_that(what, edit, expected,
                                                generate_calls: list[int]) -> None:
    analysis = _scene(*THREE, duration=1.0)
    sounds = _sounds(analysis)
    renderer = SceneRenderer(analysis, SETTINGS)
    before = renderer.render(sounds)
    generate_calls.clear()
    new_analysis, new_sounds, new_settings = edit(analysis, sounds, SETTINGS)
    plan = renderer.plan(new_analysis, new_sounds, new_settings)
    synced = renderer.sync(new_analysis, new_sounds, new_settings)
    regenerate, repan, drop, remix, remaster = expected
    assert synced.did == plan
    assert (sorted(plan.regenerate), sorted(plan.repan), sorted(plan.drop), plan.remix,
            plan.remaster) == (list(regenerate), list(repan), list(drop), remix, remaster)
    assert sorted(generate_calls) == list(regenerate)       # every regenerated one, only those
    after = synced.result
    for oid in set(after.stems) - plan.stale:
        if not plan.remaster:                               # untouched stems are kept as they are
            assert after.stems[oid] is before.stems[oid]
    assert renderer.plan(new_analysis, new_sounds, new_settings).empty   # in step now
    active = active_ids({o.id: o.nudges for o in new_sounds})     # the mixer's one rule
    total = sum((after.stems[oid] for oid in active), np.zeros_like(after.mix))
    np.testing.assert_allclose(after.mix, total, atol=1e-5)
