"""Studio logic without a window: geometry, timecode, envelopes, lanes, job plans, and a scripted
session (open, select, nudge, render, export, undo) through the controller the callbacks call."""

from __future__ import annotations

import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from app.project import Project, save_project
from app.studio.session.audio_link import AudioLink
from app.studio.session.controller import StudioController
from app.studio.session.envelopes import (
    flashing_events,
    meter_fall,
    minmax_envelope,
    pan_at,
    pan_curve,
    peak_dbfs,
    reduce_envelope,
    waveform_image,
)
from app.studio.session.geometry import ViewRect, drag_box, fit_rect, hit_test, trajectory
from app.studio.session.state import (
    JobRequest,
    StudioState,
    busiest_time,
    export_target,
)
from app.studio.session.timecode import format_clock, frame_to_timecode, seconds_to_timecode
from app.studio.session.timeline_layout import (
    HEADER_W,
    MIN_VIEW_S,
    TimelineLayout,
    clamp_view,
    follow_view,
    keyframe_at,
    ruler_ticks,
    scroll_view,
    zoom_view,
)
from audio.nudges import Nudges, PanKeyframe
from audio.pan import estimate_pan
from tests.app.studio.session.helpers import SESSION_SPEC, settle
from video.base.errors import InputError
from video.base.tracks import Analysis, Event, Track, VideoInfo

VIDEO = VideoInfo(path="clip.mp4", width=640, height=360, fps=Fraction(30), duration=4.0,
                  frames=120)


def _track(object_id: int, x0: float, x1: float, *, y: float = 150.0, size: float = 40.0,
           frames: range = range(0, 120), events: tuple[Event, ...] = ()) -> Track:
    """A box moving linearly in x from x0 to x1 (left edge) over `frames`."""
    fr = np.array(list(frames))
    xs = np.linspace(x0, x1, fr.size)
    boxes = np.stack([xs, np.full_like(xs, y), xs + size, np.full_like(xs, y + size)], axis=1)
    return Track(id=object_id, label=f"obj{object_id}", frames=fr, boxes=boxes, events=events)


# -- timecode --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "fps", "expected"),
    [(0, Fraction(25), "00:00:00:00"), (24, Fraction(25), "00:00:00:24"),
     (25, Fraction(25), "00:00:01:00"), (90_000, Fraction(25), "01:00:00:00"),
     (59, Fraction(24000, 1001), "00:00:02:11"),
     # drop-frame 29.97: frame numbers 00 and 01 are skipped each minute except every tenth
     (1799, Fraction(30000, 1001), "00:00:59;29"), (1800, Fraction(30000, 1001), "00:01:00;02"),
     (17982, Fraction(30000, 1001), "00:10:00;00"), (107892, Fraction(30000, 1001), "01:00:00;00")],
)
def test_frame_to_timecode(frame: int, fps: Fraction, expected: str) -> None:
    assert frame_to_timecode(frame, fps) == expected


@pytest.mark.parametrize(("frame", "fps"), [(-1, Fraction(25)), (0, Fraction(0)),
                                            (0, Fraction(-25))])
def test_frame_to_timecode_rejects_bad_input(frame: int, fps: Fraction) -> None:
    with pytest.raises(ValueError):
        frame_to_timecode(frame, fps)


def test_seconds_to_timecode_shows_frame_at_time_and_clock_format() -> None:
    assert seconds_to_timecode(1.0, Fraction(30)) == "00:00:01:00"
    assert seconds_to_timecode(1.0 - 1e-4, Fraction(30)) == "00:00:00:29"
    assert seconds_to_timecode(-3.0, Fraction(30)) == "00:00:00:00"
    with pytest.raises(ValueError):
        seconds_to_timecode(float("nan"), Fraction(30))
    assert format_clock(61.25) == "1:01.250"


# -- video view geometry ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("area", "expected"),  # (x, y, scale) of a 640x360 video letterboxed into the area
    [((640, 360), (0, 0, 1.0)), ((1280, 1000), (0, 140, 2.0)), ((320, 400), (0, 110, 0.5)),
     ((1000, 360), (180, 0, 1.0))],
)
def test_fit_rect_letterboxes(area: tuple[int, int], expected: tuple[float, float, float]) -> None:
    rect = fit_rect(640, 360, *area)
    assert (rect.x, rect.y, rect.scale) == pytest.approx(expected)
    vx, vy = rect.to_video(*rect.to_screen(123.0, 45.0))
    assert (vx, vy) == pytest.approx((123.0, 45.0))


def test_fit_rect_rejects_empty_video() -> None:
    with pytest.raises(ValueError):
        fit_rect(0, 360, 100, 100)


def test_hit_test_picks_the_box_under_the_point_smallest_first() -> None:
    big = _track(1, 100, 100, y=100, size=200)     # x 100..300, y 100..300
    small = _track(2, 150, 150, y=150, size=40)   # x 150..190 inside the big one
    late = _track(3, 400, 400, frames=range(60, 120))
    analysis = Analysis(video=VIDEO, objects=(big, small, late))
    assert hit_test(analysis, 10, 160, 160) == 2
    assert hit_test(analysis, 10, 250, 250) == 1
    assert hit_test(analysis, 10, 302, 150) == 1          # within the click slop
    assert hit_test(analysis, 10, 420, 170) is None       # object 3 not on screen yet
    assert hit_test(analysis, 80, 420, 170) == 3
    assert hit_test(analysis, 10, 600, 20) is None


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [((10, 20), (110, 80), (10, 20, 110, 80)), ((110, 80), (10, 20), (10, 20, 110, 80)),
     ((-50, -50), (30, 30), (0, 0, 30, 30)), ((600, 300), (900, 500), (600, 300, 640, 360)),
     ((10, 10), (14, 100), None), ((700, 10), (800, 100), None)],
)
def test_drag_box_normalizes_and_clips(start, end, expected) -> None:
    assert drag_box(start, end, width=640, height=360) == (
        None if expected is None else pytest.approx(expected))


def test_trajectory_is_the_recent_centres() -> None:
    analysis = Analysis(video=VIDEO, objects=(_track(1, 0, 119),))
    path = trajectory(analysis, 1, 50, history=10)
    assert path.shape == (10, 2)
    assert path[-1, 0] == pytest.approx(50 + 20)   # left edge 50 + half the 40 px box
    assert np.all(np.diff(path[:, 0]) > 0)


def test_view_rect_contains() -> None:
    rect = ViewRect(10, 20, 0.5, 640, 360)
    assert rect.contains(10, 20) and rect.contains(330, 200)
    assert not rect.contains(9, 20) and not rect.contains(331, 100)


# -- envelopes and pan curves ----------------------------------------------------------------


def test_minmax_envelope_keeps_peaks(rng: np.random.Generator) -> None:
    audio = np.zeros((2, 48_000), dtype=np.float32)
    audio[:, 12_000] = [0.8, 0.6]           # a click in bucket 1 of 4
    audio[:, 40_000] = [-0.5, -0.3]         # a negative one in bucket 3
    env = minmax_envelope(audio, buckets=4)
    assert env.shape == (2, 4)
    assert env[1, 1] == pytest.approx(0.7)
    assert env[0, 3] == pytest.approx(-0.4)
    assert env[1, 0] == 0 and env[0, 0] == 0
    noise = rng.standard_normal(10_000).astype(np.float32)
    fine = minmax_envelope(noise, buckets=1000)
    coarse = reduce_envelope(fine, 10)
    assert coarse[1].max() == pytest.approx(noise.max())
    assert coarse[0].min() == pytest.approx(noise.min())
    assert reduce_envelope(fine, 2000).shape == (2, 2000)
    with pytest.raises(ValueError):
        minmax_envelope(noise, buckets=0)
    assert np.all(minmax_envelope(np.zeros((2, 0))) == 0)


def test_pan_curve_follows_box_offset_and_keyframes() -> None:
    # box centre moves from x=20 (far left) to x=620 (far right)
    track = _track(1, 0, 600)
    times, pans = pan_curve(track, VIDEO, Nudges())
    assert times[0] == 0 and times[-1] == pytest.approx(4.0, abs=0.02)
    mid = float(np.interp(2.0, times, pans))
    assert mid == pytest.approx(0.0, abs=0.05)
    assert pans[5] < -0.8 and pans[-5] > 0.8
    shifted = pan_at(track, VIDEO, Nudges(pan_offset=-0.5), 2.0)
    assert shifted == pytest.approx(-0.5, abs=0.05)
    keys = Nudges(pan_keyframes=(PanKeyframe(1.0, 0.9), PanKeyframe(3.0, 0.9)))
    assert pan_at(track, VIDEO, keys, 2.0) == pytest.approx(0.9, abs=0.02)
    assert pan_at(track, VIDEO, keys, 0.3) < -0.5   # outside the keyframes the track rules


def test_flashing_events_fade() -> None:
    track = _track(1, 0, 10, events=(Event(1.0, 0.8), Event(2.0, 0.5, "step")))
    assert flashing_events(track, 0.99) == []
    (event, fade), = flashing_events(track, 1.05, hold=0.25)
    assert event.time == 1.0 and fade == pytest.approx(0.8)
    assert flashing_events(track, 1.3, hold=0.25) == []


# -- timeline layout -------------------------------------------------------------------------


def test_timeline_maps_time_and_lanes() -> None:
    layout = TimelineLayout(width=HEADER_W + 400, duration=8.0, object_ids=(4, 7))
    assert layout.x_of(0.0) == HEADER_W and layout.x_of(8.0) == HEADER_W + 400
    assert layout.time_of(HEADER_W + 100) == pytest.approx(2.0)
    assert layout.time_of(-50) == 0.0 and layout.time_of(1e6) == 8.0
    kinds = [(lane.kind, lane.object_id) for lane in layout.lanes()]
    assert kinds == [("ruler", None), ("mix", None), ("stem", None), ("object", 4), ("object", 7)]
    lane7 = layout.object_lane(7)
    assert lane7 is not None and layout.lane_at(lane7.mid) == lane7
    assert layout.lane_at(layout.height + 10) is None
    assert lane7.y_to_pan(lane7.pan_to_y(0.5)) == pytest.approx(0.5)
    assert lane7.pan_to_y(1.0) < lane7.pan_to_y(-1.0)      # right is up
    keys = [(2.0, 0.5), (6.0, -0.5)]
    assert keyframe_at(keys, layout, lane7, layout.x_of(6.0) + 3, lane7.pan_to_y(-0.5)) == 1
    assert keyframe_at(keys, layout, lane7, layout.x_of(4.0), lane7.mid) is None


@pytest.mark.parametrize(("duration", "width", "step"),
                         [(4.0, 800, 0.5), (60.0, 1200, 5.0), (600.0, 1000, 60.0)])
def test_ruler_ticks_are_readable(duration: float, width: float, step: float) -> None:
    ticks = ruler_ticks(TimelineLayout(HEADER_W + width, duration))
    assert ticks[0] == 0.0 and ticks[1] == pytest.approx(step)
    assert ticks[-1] <= duration


# -- jobs, view state, export target -------------------------------------------------


def test_sync_jobs_supersede_each_other_and_tracking_jobs_never_do() -> None:
    assert JobRequest("sync").key == "sync" != JobRequest("export").key
    assert JobRequest("track").key is None


def test_state_selection_and_event_navigation() -> None:
    analysis = Analysis(video=VIDEO, objects=(
        _track(1, 0, 10, events=(Event(0.5, 1.0), Event(2.5, 1.0))),
        _track(2, 0, 10, events=(Event(1.5, 0.5),)), _track(5, 0, 10)))
    state = StudioState()
    state.set_project(Project(analysis=analysis))
    assert state.select(2) and state.selected == 2
    assert not state.select(2)
    assert state.select(99) and state.selected is None
    assert [state.select_step(1) for _ in range(4)] == [1, 2, 5, 1]
    assert state.select_step(-1) == 5
    state.playhead = 1.0
    assert state.neighbour_event(1) == 1.5 and state.neighbour_event(-1) == 0.5
    state.playhead = 3.0
    assert state.neighbour_event(1) is None
    assert state.frame_index() == 90


def test_busiest_time_is_where_most_objects_show() -> None:
    analysis = Analysis(video=VIDEO, objects=(_track(1, 0, 1, frames=range(0, 100)),
                                              _track(2, 0, 1, frames=range(40, 60)),
                                              _track(3, 0, 1, frames=range(50, 120))))
    assert busiest_time(Project(analysis=analysis)) == pytest.approx(54 / 30)  # frames 50..59


def test_export_target_never_replaces_foreign_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert export_target(empty, "/v/clip.mp4") == (empty, False)
    assert export_target(tmp_path / "new", "/v/clip.mp4") == (tmp_path / "new", False)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "letter.txt").write_text("keep me")
    assert export_target(docs, "/v/clip.mp4") == (docs / "clip-foley", False)
    previous = docs / "clip-foley"
    previous.mkdir()
    (previous / "mix.wav").write_bytes(b"x")
    (previous / "project.json").write_text('{"schema": "stereofoley.project/1"}')
    assert export_target(docs, "/v/clip.mp4") == (previous, True)
    assert export_target(previous, "/v/clip.mp4") == (previous, True)
    (previous / "notes.txt").write_text("the user's")     # no longer only a render
    assert export_target(docs, "/v/clip.mp4") == (docs / "clip-foley-2", False)
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(InputError):
        export_target(tmp_path / "file.txt", "/v/clip.mp4")


# -- a scripted session through the controller -----------------------------------------------


def _stem(folder: Path, object_id: int) -> np.ndarray:
    (path,) = (folder / "stems").glob(f"{object_id}_*.wav")
    data, rate = sf.read(path, dtype="float32", always_2d=True)
    assert rate == 48_000
    return data.T


def test_scripted_session_nudge_export_undo(controller: StudioController, clip_project: Path,
                                            tmp_path: Path) -> None:
    ctl = controller
    ctl.open(clip_project)
    settle(ctl)
    assert ctl.audio.has_render and not ctl.state.stale and ctl.state.error == ""
    assert ctl.state.render.mix is not None and set(ctl.state.render.stems) == {1, 2}
    base = ctl.export(tmp_path / "before")
    settle(ctl)
    assert (base / "mix.wav").is_file(), ctl.state.error

    # select by clicking the ball (object 1) in video pixels at the playhead frame
    ctl.seek(1.0)
    box = ctl.project.analysis.object(1).box_at(ctl.state.frame_index())
    assert ctl.select_at((box[0] + box[2]) / 2, (box[1] + box[3]) / 2) == 1
    # a slider drag: many small nudges, one undo step, only object 1 re-placed
    for value in np.linspace(-0.1, -0.9, 9):
        ctl.set_pan_offset(1, float(value))
    ctl.end_drag()
    settle(ctl)
    assert ctl.project.object_sound(1).nudges.pan_offset == pytest.approx(-0.9)
    assert ctl.history.depth == 1 and not ctl.state.stale
    live = estimate_pan(ctl.audio.result.stems[1])
    nudged = ctl.export(tmp_path / "after")
    settle(ctl)

    before_1, after_1 = estimate_pan(_stem(base, 1)), estimate_pan(_stem(nudged, 1))
    before_2, after_2 = estimate_pan(_stem(base, 2)), estimate_pan(_stem(nudged, 2))
    assert after_1 < before_1 - 0.4          # moved left, as nudged
    assert live == pytest.approx(after_1, abs=0.05)
    assert after_2 == pytest.approx(before_2, abs=0.02)   # the other object stayed put
    assert before_2 > 0.2                                 # (it sits on the right)
    mix = sf.read(nudged / "mix.wav", dtype="float32", always_2d=True)[0].T
    assert np.allclose(mix, _stem(nudged, 1) + _stem(nudged, 2), atol=2e-4)  # stems sum to mix

    assert ctl.undo() is not None
    settle(ctl)
    assert ctl.project.object_sound(1).nudges.pan_offset == 0.0
    assert estimate_pan(ctl.audio.result.stems[1]) == pytest.approx(before_1, abs=0.05)
    assert ctl.redo() is not None
    settle(ctl)
    assert ctl.project.object_sound(1).nudges.pan_offset == pytest.approx(-0.9)


def test_mute_solo_delete_and_bad_edits(controller: StudioController, clip_project: Path) -> None:
    ctl = controller
    ctl.open(clip_project)
    settle(ctl)
    full = np.abs(ctl.audio.result.mix).sum()
    ctl.set_mute(2, True)
    settle(ctl)
    muted = ctl.audio.result.mix
    assert np.allclose(muted, ctl.audio.result.stems[1], atol=1e-5)
    ctl.set_solo(2, True)          # muted and soloed: mute wins, nothing plays
    settle(ctl)
    assert np.abs(ctl.audio.result.mix).max() < 1e-6
    ctl.set_mute(2, False)
    settle(ctl)
    assert np.allclose(ctl.audio.result.mix, ctl.audio.result.stems[2], atol=1e-5)
    ctl.set_solo(2, False)
    settle(ctl)
    assert np.abs(ctl.audio.result.mix).sum() == pytest.approx(full, rel=1e-3)

    ctl.set_gain(1, 99.0)          # out of range: refused with a message, nothing changes
    assert "gain" in ctl.state.error and ctl.project.object_sound(1).nudges.gain_db == 0.0
    ctl.select(2)
    ctl.delete_object(2)
    settle(ctl)
    assert ctl.state.selected is None and ctl.state.object_ids() == [1]
    assert set(ctl.audio.result.stems) == {1}
    assert ctl.undo() == "Delete object 2"
    settle(ctl)
    assert ctl.state.object_ids() == [1, 2] and set(ctl.audio.result.stems) == {1, 2}


def test_keyframes_and_transport(controller: StudioController, clip_project: Path) -> None:
    ctl = controller
    ctl.open(clip_project)
    settle(ctl)
    ctl.seek(1.0)
    ctl.add_keyframe(2, pan=-1.0)
    ctl.add_keyframe(2, time_s=2.0, pan=-1.0)
    settle(ctl)
    keys = ctl.project.object_sound(2).nudges.pan_keyframes
    assert [(k.time, k.pan) for k in keys] == [(1.0, -1.0), (2.0, -1.0)]
    stem = ctl.audio.result.stems[2]
    held = stem[:, 60_000:84_000]               # 1.25..1.75 s: pinned hard left
    assert estimate_pan(held) < -0.9
    ctl.move_keyframe(2, 1, pan=1.0)
    ctl.end_drag()
    ctl.remove_keyframe(2, 0)
    settle(ctl)
    assert [(k.time, k.pan) for k in ctl.project.object_sound(2).nudges.pan_keyframes] == [
        (2.0, 1.0)]

    ctl.step_frames(3)
    assert ctl.state.frame_index() == 28       # 1.0 s at 25 fps = frame 25, plus 3
    ctl.jump_event(1)
    assert ctl.state.playhead >= 28 / 25
    ctl.seek(0.0)
    assert ctl.play_pause() is True
    time.sleep(0.3)
    assert ctl.tick() > 0.1
    assert ctl.play_pause() is False


def test_open_rejects_bad_files(controller: StudioController, tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("not a video")
    with pytest.raises(InputError):
        controller.open(bad)
    with pytest.raises(InputError):
        controller.open(tmp_path / "missing.mp4")
    broken = tmp_path / "broken.json"
    broken.write_text("{nope")
    with pytest.raises(InputError):
        controller.open(broken)
    assert controller.project is None
    with pytest.raises(InputError):
        controller.save(tmp_path / "p.json")


def test_waveform_image_fills_between_min_and_max() -> None:
    env = np.array([[0.0, -0.5, -1.0, 0.0], [0.0, 0.5, 1.0, 0.0]], dtype=np.float32)
    image = waveform_image(env, width=4, height=21, colour=(255, 0, 0, 255))
    assert image.shape == (21, 4, 4)
    filled = image[:, :, 3] > 0
    assert filled[:, 2].all()                         # full scale: the whole column
    assert 9 <= filled[:, 1].sum() <= 13              # half scale: about half of it
    assert filled[:, 0].sum() == 1 and filled[10, 0]  # silence: the centre line only
    assert np.allclose(image[filled][:, :3], [1.0, 0.0, 0.0])
    with pytest.raises(ValueError):
        waveform_image(env, width=0, height=10, colour=(1, 2, 3, 4))


def test_unsaved_edits_are_recovered_after_a_crash(clip_project: Path, tmp_path: Path) -> None:
    recovery = tmp_path / "recovery"
    first = StudioController(audio=AudioLink(silent=True), autosave_dir=recovery)
    try:
        project_file = tmp_path / "work.json"
        first.open(clip_project)
        settle(first)
        first.save(project_file)
        first.set_gain(2, -6.0)
        assert first.unsaved
        assert first.autosaver is not None and first.autosaver.write_now(first.project)
    finally:  # the session "crashes": shut down without saving
        first.worker.shutdown(timeout=3.0)
        first.audio.close()
    second = StudioController(audio=AudioLink(silent=True), autosave_dir=recovery)
    try:
        second.open(project_file)
        assert second.recovery is not None
        assert second.project.object_sound(2).nudges.gain_db == 0.0
        second.restore_recovery()
        settle(second)
        assert second.project.object_sound(2).nudges.gain_db == -6.0
        assert second.recovery is None and second.unsaved
        second.undo()
        assert second.project.object_sound(2).nudges.gain_db == 0.0
        second.discard_recovery()
    finally:
        second.shutdown()


def test_drawn_box_tracks_a_new_object(clip_project: Path, tmp_path: Path) -> None:
    from app.project import load_project

    truth = load_project(clip_project)
    ball = truth.analysis.object(1)
    only_walker = Project(analysis=truth.analysis.with_objects([truth.analysis.object(2)]))
    path = tmp_path / "walker_only.json"
    save_project(only_walker, path)
    ctl = StudioController(audio=AudioLink(silent=True), autosave_dir=tmp_path / "recovery")
    try:
        ctl.open(path)
        settle(ctl)
        ctl.seek(1.0)
        frame = ctl.state.frame_index()
        box = ball.box_at(frame)
        ctl.track_from_box(tuple(float(v) for v in box))
        settle(ctl)
        assert ctl.state.object_ids() == [2, 3]
        assert ctl.state.selected == 3
        new = ctl.project.analysis.object(3)
        assert len(new) > 0.8 * len(ball)
        # the tracked boxes follow the true ball: centres within a few pixels on shared frames
        shared = np.intersect1d(new.frames, ball.frames)
        errors = [np.abs(new.box_at(int(f))[[0, 2]].mean() - ball.box_at(int(f))[[0, 2]].mean())
                  for f in shared]
        assert np.median(errors) < 6.0
        # its contacts are found: the true ball's bounces while it was tracked, within a frame
        fps = float(ctl.project.analysis.video.fps)
        span = (new.frames[0] / fps, new.frames[-1] / fps)
        true_hits = [e.time for e in ball.events if span[0] + 0.1 < e.time < span[1] - 0.1]
        found = np.array([e.time for e in new.events if e.kind == "impact"])
        assert true_hits and len(true_hits) <= len(found) <= len(true_hits) + 1, (true_hits, found)
        assert all(np.min(np.abs(found - t)) <= 1 / fps for t in true_hits), (true_hits, found)
        # no class for a drawn shape: unknown, its box shape and bounces the hint for its sound
        assert new.label == "unknown" and new.extra["label_shape"] == "ball"
        assert set(ctl.audio.result.stems) == {2, 3}, ctl.state.error  # rendered with it
        ctl.undo()
        settle(ctl)
        assert ctl.state.object_ids() == [2]
        ctl.track_from_box(tuple(float(v) for v in box), label="football")
        settle(ctl)
        assert ctl.project.analysis.object(3).label == "football"  # a given name is kept
    finally:
        ctl.shutdown()


def test_render_settings_change_is_one_full_render(controller: StudioController,
                                                   clip_project: Path) -> None:
    ctl = controller
    ctl.open(clip_project)
    settle(ctl)
    before = {i: float(np.sqrt(np.mean(s ** 2))) for i, s in ctl.audio.result.stems.items()}
    ctl.set_render_settings(pan_law="-6dB")
    assert ctl.worker.pending_count() == 1          # one render, not one job per object
    settle(ctl)
    assert ctl.project.render.pan_law == "-6dB" and ctl.audio.plan(ctl.project).empty
    after = {i: float(np.sqrt(np.mean(s ** 2))) for i, s in ctl.audio.result.stems.items()}
    assert set(after) == {1, 2} and after != before
    ctl.set_render_settings(pan_law="bogus")
    assert "pan law" in ctl.state.error and ctl.project.render.pan_law == "-6dB"


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [(1.0, 0.5, (0.0, -6.02)), (0.1, 0.0, (-20.0, -60.0)), (0.0, 0.0, (-60.0, -60.0))],
)
def test_peak_meter_levels(left: float, right: float, expected: tuple[float, float]) -> None:
    block = np.zeros((2, 480), dtype=np.float32)
    block[0, 100], block[1, 200] = -left, right
    assert peak_dbfs(block) == pytest.approx(expected, abs=0.01)


def test_peak_meter_edge_cases_and_fall() -> None:
    assert peak_dbfs(np.zeros((2, 0))) == (-60.0, -60.0)
    with pytest.raises(ValueError):
        peak_dbfs(np.zeros((1, 10)))
    assert meter_fall(-30.0, -6.0, dt=0.1) == -6.0            # jumps up at once
    assert meter_fall(-6.0, -50.0, dt=0.5) == pytest.approx(-18.0)   # falls 24 dB/s
    assert meter_fall(-59.0, -60.0, dt=1.0) == -60.0          # never below the floor


def test_timeline_zoom_scroll_and_follow() -> None:
    full = TimelineLayout(width=HEADER_W + 1000, duration=10.0, object_ids=(1,))
    view = zoom_view(full, 4.0, anchor=5.0)                  # 4x around the middle
    assert view == pytest.approx((3.75, 6.25))
    zoomed = TimelineLayout(full.width, 10.0, (1,), view)
    assert zoomed.x_of(5.0) == pytest.approx(full.x_of(5.0))  # the anchor stays put
    assert zoomed.time_of(HEADER_W) == pytest.approx(3.75)
    assert zoomed.x_of(9.0) == HEADER_W + 1000                # outside: clamped to the edge
    assert not zoomed.visible(9.0) and zoomed.visible(4.0)
    assert scroll_view(zoomed, 0.5) == pytest.approx((5.0, 7.5))
    assert scroll_view(zoomed, 100.0) == pytest.approx((7.5, 10.0))  # stops at the end
    assert scroll_view(zoomed, -100.0) == pytest.approx((0.0, 2.5))
    assert zoom_view(zoomed, 0.1, anchor=5.0) is None          # zoomed out past all: fit
    deep = zoom_view(zoomed, 1000.0, anchor=4.0)
    assert deep is not None and deep[1] - deep[0] == pytest.approx(MIN_VIEW_S)
    assert follow_view(zoomed, 5.0) == view                    # visible: unchanged
    paged = follow_view(zoomed, 8.0)
    assert paged is not None and paged[0] < 8.0 < paged[1]
    assert follow_view(full, 8.0) is None
    ticks = ruler_ticks(zoomed)
    assert ticks[0] >= 3.75 and ticks[-1] <= 6.25 and len(ticks) >= 3
    assert clamp_view(2.0, 1.0, 10.0) == pytest.approx((2.0, 2.0 + MIN_VIEW_S))
    assert clamp_view(0.0, 5.0, 0.0) is None
    with pytest.raises(ValueError):
        zoom_view(full, 0.0, anchor=1.0)


def test_a_render_for_a_closed_project_is_not_heard(clip_project: Path) -> None:
    from app.project import load_project

    project = load_project(clip_project)
    link = AudioLink(silent=True)
    try:
        link.prepare(1.0)                       # "the other project": 1 s of silence playing
        job = link.sync_job(project.copy())
        link.reset()                            # ... another project was opened meanwhile
        update = job(lambda fraction, message: None)
        assert link.engine is not None and link.engine.length == 48_000
        assert link.apply(update) is False and not link.has_render
        fresh = link.sync_job(project.copy())(lambda fraction, message: None)
        assert link.apply(fresh) is True and link.engine.length == fresh.result.n_samples
    finally:
        link.close()


def test_frame_feed_decodes_requested_frames_off_thread(clip_project: Path,
                                                        tmp_path: Path) -> None:
    from app.project import load_project
    from app.studio.session.frames import FrameFeed
    from video.synth import render_frame

    project = load_project(clip_project)
    feed = FrameFeed(project.video_path, max_side=160)
    try:
        frame = feed.wait_for(30)
        assert frame is not None and feed.ready and feed.size == (160, 90)
        assert frame.image.shape == (90, 160, 3)
        truth = render_frame(SESSION_SPEC, 30)[::2, ::2].astype(np.float64)  # same picture
        assert np.abs(frame.image.astype(np.float64) - truth).mean() < 12.0
        feed.request(10_000)                                  # past the end: the last frame
        last = feed.wait_for(project.analysis.video.frames - 1)
        assert last is not None
    finally:
        feed.close()
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    bad = FrameFeed(broken)
    try:
        assert bad.wait_for(0, timeout=5.0) is None
        assert bad.error and not bad.ready
    finally:
        bad.close()


def test_merge_objects_keeps_one_and_rerenders(controller: StudioController,
                                               clip_project: Path) -> None:
    ctl = controller
    ctl.open(clip_project)
    settle(ctl)
    frames_1 = len(ctl.project.analysis.object(1))
    ctl.select(2)
    ctl.merge_objects(1, 2)
    settle(ctl)
    assert ctl.state.object_ids() == [1] and ctl.state.selected is None
    merged = ctl.project.analysis.object(1)
    assert len(merged) >= frames_1
    assert set(ctl.audio.result.stems) == {1}
    assert np.allclose(ctl.audio.result.mix, ctl.audio.result.stems[1], atol=1e-5)
    ctl.merge_objects(1, 1)                      # bad: refused with a message
    assert "itself" in ctl.state.error
    assert ctl.undo() == "Merge object 2 into 1"
    settle(ctl)
    assert ctl.state.object_ids() == [1, 2] and set(ctl.audio.result.stems) == {1, 2}


def test_cancel_a_running_render_then_render_again(controller: StudioController,
                                                   clip_project: Path) -> None:
    ctl = controller
    started = []
    original = ctl.audio.sync_job

    def slow_sync_job(project: Project, **options):
        job = original(project, **options)

        def wrapped(progress):            # a render that reports progress slowly, like a big one
            for i in range(200):
                progress(i / 400, "preparing")
                started.append(i)
                time.sleep(0.005)
            return job(progress)
        return wrapped

    ctl.audio.sync_job = slow_sync_job  # type: ignore[method-assign]
    ctl.open(clip_project)
    deadline = time.monotonic() + 10
    while not started and time.monotonic() < deadline:
        time.sleep(0.005)
    assert ctl.worker.status() is not None
    assert ctl.cancel() is True
    settle(ctl)
    assert "cancelled" in ctl.state.message and not ctl.audio.has_render
    assert len(started) < 200
    ctl.audio.sync_job = original  # type: ignore[method-assign]
    ctl.render_all()
    settle(ctl)
    assert ctl.audio.has_render and not ctl.state.stale


def test_discarding_unsaved_changes_leaves_no_recovery(clip_project: Path,
                                                       tmp_path: Path) -> None:
    ctl = StudioController(audio=AudioLink(silent=True), autosave_dir=tmp_path / "recovery")
    try:
        ctl.open(clip_project)
        settle(ctl)
        ctl.set_width(1, 0.5)
        assert ctl.unsaved and ctl.autosaver is not None
        assert ctl.autosaver.write_now(ctl.project) and ctl.autosaver.path.is_file()
        ctl.discard_unsaved()
        assert not ctl.unsaved and not ctl.autosaver.path.is_file()
    finally:
        ctl.shutdown()


def test_vectorized_lane_mapping_matches_scalar() -> None:
    layout = TimelineLayout(width=HEADER_W + 600, duration=6.0, object_ids=(1,), view=(1.0, 4.0))
    lane = layout.object_lane(1)
    assert lane is not None
    times = np.array([-1.0, 1.0, 2.5, 4.0, 9.0])
    pans = np.array([-2.0, -1.0, 0.0, 0.5, 1.5])
    assert np.allclose(layout.xs_of(times), [layout.x_of(float(t)) for t in times])
    assert np.allclose(lane.pans_to_y(pans), [lane.pan_to_y(float(p)) for p in pans])


def test_lane_header_buttons_hit_test() -> None:
    from app.studio.session.timeline_layout import header_button_at, header_buttons

    layout = TimelineLayout(width=HEADER_W + 500, duration=4.0, object_ids=(3, 8))
    lane = layout.object_lane(8)
    assert lane is not None
    buttons = header_buttons(lane)
    for name, (x0, y0, x1, y1) in buttons.items():
        assert header_button_at(lane, (x0 + x1) / 2, (y0 + y1) / 2) == name
        assert x1 <= HEADER_W and lane.y0 <= y0 < y1 <= lane.y1
    assert buttons["mute"][2] < buttons["solo"][0]           # side by side, M then S
    assert header_button_at(lane, 10, lane.mid) is None      # the name: selects instead
    mix = layout.lanes()[1]
    assert header_button_at(mix, *buttons["mute"][:2]) is None


def test_deleting_an_object_regenerates_no_other(controller: StudioController,
                                                  clip_project: Path,
                                                  generate_calls: list[int]) -> None:
    """Track edits (delete, undo, merge) keep the other objects' dry audio and stems: only new
    or changed objects are generated (generate calls counted on the worker thread)."""
    from audio.master import measure_loudness

    calls = generate_calls
    ctl = controller
    ctl.open(clip_project)
    settle(ctl)
    assert sorted(calls) == [1, 2]
    first = ctl.audio.result
    dry_1, stem_1, renderer = first.dry[1], first.stems[1].copy(), ctl.audio.renderer
    calls.clear()

    ctl.delete_object(2)
    settle(ctl)
    result = ctl.audio.result
    assert calls == [] and ctl.state.error == ""
    assert ctl.audio.renderer is renderer and ctl.audio.plan(ctl.project).empty
    assert set(result.stems) == set(ctl.state.render.stems) == {1} and not ctl.state.stale
    assert result.dry[1] is dry_1 and result.stems[1].tobytes() == stem_1.tobytes()
    np.testing.assert_allclose(result.mix, result.stems[1], atol=1e-6)
    assert result.master["gain_db"] == first.master["gain_db"]     # levels do not jump

    assert ctl.undo() == "Delete object 2"
    settle(ctl)
    assert calls == [] and set(ctl.audio.result.stems) == {1, 2}   # back from the cache
    np.testing.assert_allclose(ctl.audio.result.mix,
                               ctl.audio.result.stems[1] + ctl.audio.result.stems[2], atol=1e-6)

    ctl.merge_objects(1, 2)
    settle(ctl)
    assert calls == [1]                                            # the merged object only

    # a loudness change queued right before a track edit is not lost: that edit's job masters
    assert ctl.undo() == "Merge object 2 into 1"
    settle(ctl)
    ctl.set_render_settings(target_lufs=-30.0)
    ctl.delete_object(2)
    settle(ctl)
    assert ctl.state.object_ids() == [1] and ctl.project.render.target_lufs == -30.0
    assert ctl.audio.result.master["target_lufs"] == -30.0
    assert measure_loudness(ctl.audio.result.mix) == pytest.approx(-30.0, abs=0.5)


def test_trim_an_object_at_the_playhead_and_undo(controller: StudioController,
                                                 clip_project: Path) -> None:
    """Cut the ball's track after and then before the playhead; each is one undo step."""
    ctl = controller
    ctl.open(clip_project)
    settle(ctl)
    whole = ctl.project.analysis.object(1)
    ctl.seek(1.5)
    end = ctl.state.frame_index()
    ctl.trim_end(1)
    settle(ctl)
    cut = ctl.project.analysis.object(1)
    assert int(cut.frames[-1]) == end and int(cut.frames[0]) == int(whole.frames[0])
    fps = float(ctl.project.analysis.video.fps)
    assert all(e.time <= (end + 0.5) / fps for e in cut.events)
    assert len(cut.events) < len(whole.events)
    ctl.seek(0.5)
    start = ctl.state.frame_index()
    ctl.trim_start(1)
    settle(ctl)
    assert int(ctl.project.analysis.object(1).frames[0]) == start
    ctl.seek(0.1)     # before what is left of it: refused, shown, nothing changed
    ctl.trim_end(1)
    assert "would leave none of its frames" in ctl.state.error
    assert int(ctl.project.analysis.object(1).frames[0]) == start
    ctl.undo()
    ctl.undo()
    settle(ctl)
    np.testing.assert_array_equal(ctl.project.analysis.object(1).frames, whole.frames)
