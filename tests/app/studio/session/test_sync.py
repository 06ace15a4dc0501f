"""One render-sync path: after an edit the studio asks the scene renderer, which compares the
project with what it holds and redoes only that. Driven through the controller without a window;
foley generations and stem placements are counted where the renderer makes them."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from app.studio.session.controller import StudioController
from audio.master import measure_loudness
from audio.mix import active_ids
from audio.pan import estimate_pan
from model.foley.render import SceneRenderer
from tests.app.studio.session.helpers import settle


@pytest.fixture
def placed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Ids of the objects whose stem the renderer places (spatializes or re-pans) anew."""
    module = sys.modules[SceneRenderer.__module__]
    calls: list[int] = []
    for name in ("spatialize", "place"):
        real = getattr(module, name)

        def counting(source, track, *args, _real=real, **kwargs):  # type: ignore[no-untyped-def]
            calls.append(track.id)
            return _real(source, track, *args, **kwargs)

        monkeypatch.setattr(module, name, counting)
    return calls


@pytest.fixture
def session(controller: StudioController, clip_project: Path, generate_calls: list[int],
            placed: list[int]) -> StudioController:
    """The clip's project open and rendered (ball = 1, walker = 2); counters cleared."""
    controller.open(clip_project)
    settle(controller)
    assert sorted(generate_calls) == [1, 2] and sorted(placed) == [1, 2]
    generate_calls.clear()
    placed.clear()
    return controller


def test_a_nudge_repans_one_object_and_regenerates_none(session: StudioController,
                                                         generate_calls: list[int],
                                                         placed: list[int]) -> None:
    ctl = session
    before = ctl.audio.result
    assert before is not None
    gain_db = before.master["gain_db"]
    ctl.set_pan_offset(2, -1.0)
    assert ctl.state.stale == {2}                  # out of date until the sync is applied
    settle(ctl)
    did, after = ctl.audio.last_sync, ctl.audio.result
    assert did is not None and after is not None
    assert did.repan == {2} and not did.regenerate and not did.remaster and did.remix
    assert generate_calls == [] and placed == [2]
    assert after.stems[1] is before.stems[1] and after.dry[2] is before.dry[2]
    assert estimate_pan(after.stems[2]) < estimate_pan(before.stems[2]) - 0.4
    np.testing.assert_allclose(after.mix, after.stems[1] + after.stems[2], atol=1e-5)
    assert after.master["gain_db"] == gain_db      # the master gain is kept: no level jump
    assert ctl.state.stale == set() and ctl.audio.plan(ctl.project).empty


def test_a_prompt_change_regenerates_exactly_that_object(session: StudioController,
                                                         generate_calls: list[int],
                                                         placed: list[int]) -> None:
    ctl = session
    before = ctl.audio.result
    assert before is not None
    ctl.set_prompt(1, "glass breaking")
    assert ctl.state.stale == {1}
    settle(ctl)
    did, after = ctl.audio.last_sync, ctl.audio.result
    assert did is not None and after is not None
    assert did.regenerate == {1} and not did.repan and not did.remaster
    assert generate_calls == [1] and placed == [1]
    assert after.stems[2] is before.stems[2] and after.dry[2] is before.dry[2]
    assert not np.array_equal(after.dry[1], before.dry[1])

    ctl.undo()                                     # the old prompt's foley: from the cache
    assert ctl.state.stale == {1}
    settle(ctl)
    result = ctl.audio.result
    assert result is not None and ctl.audio.last_sync is not None
    assert ctl.audio.last_sync.regenerate == {1} and generate_calls == [1]
    # the same sound again, except where the first (full) render's true-peak limiter acted: a
    # sync keeps the master gain and does not limit
    outside = np.ones(result.n_samples, dtype=bool)
    for start, stop in before.master["limiter"]["regions"]:
        outside[int((start - 0.01) * 48_000):int((stop + 0.01) * 48_000)] = False
    assert outside.mean() > 0.7
    np.testing.assert_allclose(result.stems[1][:, outside], before.stems[1][:, outside],
                               atol=1e-6)


def test_a_master_setting_remasters_without_regenerating(session: StudioController,
                                                         generate_calls: list[int],
                                                         placed: list[int]) -> None:
    ctl = session
    before = ctl.audio.result
    assert before is not None
    # a quieter target (this scene's sparse hits cannot be brought to a louder one without
    # more limiting than the master allows)
    ctl.set_render_settings(target_lufs=-30.0)
    assert ctl.state.stale == {1, 2}               # every stem's level changes
    settle(ctl)
    did, after = ctl.audio.last_sync, ctl.audio.result
    assert did is not None and after is not None
    assert did.remaster and did.repan == {1, 2} and not did.regenerate
    assert generate_calls == [] and sorted(placed) == [1, 2]
    assert all(after.dry[i] is before.dry[i] for i in (1, 2))
    assert after.master["target_lufs"] == -30.0
    assert measure_loudness(after.mix) == pytest.approx(-30.0, abs=0.5)

    placed.clear()
    ctl.set_render_settings(pan_law="-6dB")        # a spatial setting: re-pan all, same master
    settle(ctl)
    did, law = ctl.audio.last_sync, ctl.audio.result
    assert did is not None and law is not None
    assert did.repan == {1, 2} and not did.remaster and generate_calls == []
    assert sorted(placed) == [1, 2] and law.master["gain_db"] == after.master["gain_db"]


def test_mute_and_solo_only_resum_the_mix_under_the_mixers_rule(session: StudioController,
                                                                generate_calls: list[int],
                                                                placed: list[int]) -> None:
    ctl = session
    before = ctl.audio.result
    assert before is not None
    ctl.set_mute(1, True)
    assert ctl.state.stale == set()                # no stem is out of date, only the mix
    settle(ctl)
    did, muted = ctl.audio.last_sync, ctl.audio.result
    assert did is not None and muted is not None
    assert did.remix and not did.stale and generate_calls == [] and placed == []
    assert muted.stems[1] is before.stems[1]
    np.testing.assert_allclose(muted.mix, muted.stems[2], atol=1e-5)
    ctl.set_solo(1, True)                          # muted and soloed: mute wins, as audio.mix
    settle(ctl)
    nudges = {o.id: o.nudges for o in ctl.project.objects}
    assert active_ids(nudges) == set()
    result = ctl.audio.result
    assert result is not None and float(np.abs(result.mix).max()) < 1e-6
    assert generate_calls == [] and placed == []


def test_a_rename_regenerates_that_object(session: StudioController,
                                          generate_calls: list[int]) -> None:
    """The label guides the sound of an object without a prompt, so the renderer's key holds
    it: renaming makes the object stale and the sync regenerates it (and only it)."""
    ctl = session
    ctl.rename(2, "car")
    assert ctl.state.stale == {2}
    settle(ctl)
    assert generate_calls == [2] and ctl.state.stale == set()


def test_stale_objects_show_while_a_job_runs(session: StudioController,
                                             generate_calls: list[int],
                                             placed: list[int]) -> None:
    """Edits made while the worker is busy: the state lists their objects as out of date, the
    newest sync replaces the waiting one, and one sync brings everything up to date."""
    ctl = session
    gate, running = threading.Event(), threading.Event()

    def hold(progress):  # type: ignore[no-untyped-def]
        running.set()
        gate.wait(10.0)

    ctl.worker.submit("hold", hold)
    assert running.wait(5.0)
    ctl.set_gain(1, -6.0)
    ctl.set_prompt(2, "heavy boots on wood")
    assert ctl.state.stale == {1, 2}
    assert ctl.state.stale_text() == "out of date: objects 1, 2"
    assert ctl.worker.pending_count() == 2         # the hold, and the one sync that replaced
    gate.set()                                     # the first
    settle(ctl)
    did = ctl.audio.last_sync
    assert did is not None and did.repan == {1} and did.regenerate == {2}
    assert generate_calls == [2] and sorted(placed) == [1, 2]
    assert ctl.state.stale == set() and ctl.state.stale_text() == ""
