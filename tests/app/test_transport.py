"""Transport logic driving the real PlaybackEngine in silent mode (no sound card needed)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from fractions import Fraction

import numpy as np
import pytest

from app.project import Project
from app.transport import (
    SHORTCUTS,
    TRANSPORT_ACTIONS,
    Transport,
    action_for,
    event_list,
    frame_of_sample,
    sample_of_frame,
    timeline_time,
    timeline_x,
)
from audio.playback import PlaybackConfig, PlaybackEngine
from video.base.errors import InputError
from video.base.timebase import SAMPLE_RATE, frame_to_sample
from video.base.tracks import Analysis, Event, Track, VideoInfo

FPS = Fraction(30000, 1001)
DURATION = 4.0
FRAMES = 119  # 4 s at 29.97


def _project(frame_times: tuple[float, ...] | None = None) -> Project:
    frames = FRAMES if frame_times is None else len(frame_times)
    info = VideoInfo(path="/tmp/clip.mp4", width=320, height=240, fps=FPS, duration=DURATION,
                     frames=frames, frame_times=frame_times)
    box = np.tile([0.0, 0.0, 10.0, 10.0], (10, 1))
    tracks = (
        Track(id=1, label="a", frames=np.arange(10), boxes=box,
              events=(Event(0.5, 0.9), Event(2.25, 0.3, "step"))),
        Track(id=2, label="b", frames=np.arange(10), boxes=box,
              events=(Event(1.0, 0.5), Event(3.5, 0.8))),
    )
    return Project(analysis=Analysis(video=info, objects=tracks))


@pytest.fixture
def engine() -> Iterator[PlaybackEngine]:
    mix = np.zeros((2, int(DURATION * SAMPLE_RATE)), np.float32)
    eng = PlaybackEngine(mix, config=PlaybackConfig(silent=True))
    eng.open()
    yield eng
    eng.close()


@pytest.fixture
def transport(engine: PlaybackEngine) -> Transport:
    return Transport(engine, _project())


@pytest.mark.parametrize("fps", [Fraction(24000, 1001), Fraction(25), FPS, Fraction(60),
                                 Fraction(50, 3)])
def test_frame_sample_mapping_is_exact_both_ways(fps: Fraction) -> None:
    frames = int(10 * fps)
    info = VideoInfo(path="x", width=8, height=8, fps=fps, duration=10.0, frames=frames)
    for i in range(frames - 1):
        start, nxt = sample_of_frame(info, i), sample_of_frame(info, i + 1)
        assert start == frame_to_sample(i, fps)
        assert frame_of_sample(info, start) == i
        assert frame_of_sample(info, nxt - 1) == i
    assert frame_of_sample(info, -5) == 0
    assert frame_of_sample(info, 10**9) == frames - 1


def test_vfr_frames_use_their_timestamps() -> None:
    times = (0.0, 0.04, 0.1, 0.1333, 0.3)
    info = VideoInfo(path="x", width=8, height=8, fps=Fraction(25), duration=0.4, frames=5,
                     frame_times=times)
    assert [sample_of_frame(info, i) for i in range(5)] == [0, 1920, 4800, 6398, 14400]
    assert [frame_of_sample(info, s) for s in (0, 1919, 1920, 6397, 6398, 14399, 20000)] == \
        [0, 0, 1, 2, 3, 3, 4]


def test_frame_steps_land_on_frame_starts(transport: Transport, engine: PlaybackEngine) -> None:
    assert transport.frame() == 0
    for expected in range(1, 40):
        assert transport.step_frame(+1) == expected
        assert engine.position() == frame_to_sample(expected, FPS)
        assert transport.frame() == expected
    assert transport.step_frame(-3) == 36
    assert transport.step_frame(-100) == 0
    transport.go_end()
    assert transport.frame() == FRAMES - 1
    assert transport.step_frame(+1) == FRAMES - 1
    transport.go_start()
    assert engine.position() == 0


def test_frame_step_pauses_playback(transport: Transport, engine: PlaybackEngine) -> None:
    transport.seek_frame(10)
    assert transport.toggle_play() is True and engine.is_playing
    assert transport.handle("frame_forward")
    assert not engine.is_playing
    assert transport.frame() >= 11


def test_event_jumps_all_objects_and_selected(transport: Transport) -> None:
    hits = [transport.jump_event(+1) for _ in range(5)]
    assert [(h[0], h[1].time) if h else None for h in hits] == \
        [(1, 0.5), (2, 1.0), (1, 2.25), (2, 3.5), None]
    assert transport.time() == pytest.approx(3.5, abs=1 / SAMPLE_RATE)
    back = transport.jump_event(-1)
    assert back is not None and back[1].time == 2.25
    transport.go_start()
    only_b = [transport.jump_event(+1, object_id=2) for _ in range(3)]
    assert [h[1].time if h else None for h in only_b] == [1.0, 3.5, None]
    assert transport.handle("prev_event", object_id=2)
    assert transport.time() == pytest.approx(1.0, abs=1 / SAMPLE_RATE)
    with pytest.raises(InputError, match="direction"):
        transport.jump_event(0)


def test_event_list_is_sorted_across_objects() -> None:
    project = _project()
    assert [(t, oid) for t, oid, _ in event_list(project.analysis.objects)] == \
        [(0.5, 1), (1.0, 2), (2.25, 1), (3.5, 2)]


def test_loop_toggle_uses_selection_or_default(transport: Transport,
                                               engine: PlaybackEngine) -> None:
    transport.selection = (2.5, 1.0)
    assert transport.toggle_loop() is True
    assert engine.loop == (48000, 120000)
    assert transport.loop_seconds == (1.0, 2.5)
    assert transport.toggle_loop() is False and engine.loop is None
    transport.selection = None
    transport.seek_time(3.0)
    assert transport.handle("toggle_loop")
    assert transport.loop_seconds == pytest.approx((2.0, 4.0))  # moved back to fit the end
    transport.clear_loop()
    assert engine.loop is None


@pytest.mark.parametrize(("start", "end"), [(2.0, 2.0), (3.0, 1.0), (1.0, 1.005)])
def test_bad_loops_are_input_errors(transport: Transport, start: float, end: float) -> None:
    with pytest.raises(InputError, match="cannot loop"):
        transport.set_loop(start, end)


@pytest.mark.parametrize(
    ("x", "expected"),
    [(100.0, 0.0), (300.0, 2.0), (500.0, 4.0), (50.0, 0.0), (900.0, 4.0), (150.0, 0.5)],
)
def test_timeline_click_seeks(transport: Transport, x: float, expected: float) -> None:
    t = transport.seek_click(x, x0=100.0, width=400.0)
    assert t == pytest.approx(expected)
    assert transport.time() == pytest.approx(expected, abs=1 / SAMPLE_RATE)


def test_timeline_zoomed_view_round_trip() -> None:
    for t in (1.0, 1.25, 1.9):
        x = timeline_x(t, x0=10, width=800, view_start=1.0, view_end=2.0)
        assert timeline_time(x, x0=10, width=800, view_start=1.0, view_end=2.0) == \
            pytest.approx(t)
    with pytest.raises(InputError, match="no width"):
        timeline_time(5, x0=0, width=0, view_start=0, view_end=1)


def test_scrub_click_moves_playhead_while_paused(transport: Transport,
                                                 engine: PlaybackEngine) -> None:
    transport.seek_click(300.0, x0=100.0, width=400.0, scrub=True)
    assert not engine.is_playing
    assert engine.position() == 96000


def test_play_pause_follows_the_wall_clock(transport: Transport, engine: PlaybackEngine) -> None:
    transport.seek_time(1.0)
    start = time.monotonic()
    assert transport.handle("play_pause")
    time.sleep(0.3)
    heard = transport.time() - 1.0
    elapsed = time.monotonic() - start
    assert transport.handle("play_pause") and not engine.is_playing
    assert heard == pytest.approx(elapsed, abs=0.1)
    frozen = engine.position()
    time.sleep(0.05)
    assert engine.position() == frozen


@pytest.mark.parametrize(
    ("key", "ctrl", "shift", "action"),
    [
        ("space", False, False, "play_pause"),
        ("left", False, False, "frame_back"),
        ("Right", False, True, "next_event"),
        ("l", False, False, "toggle_loop"),
        ("home", False, False, "go_start"),
        ("m", False, False, "toggle_mute"),
        ("s", False, False, "toggle_solo"),
        ("s", True, False, "save"),
        ("z", True, False, "undo"),
        ("z", True, True, "redo"),
        ("z", False, False, None),
        ("q", False, False, None),
    ],
)
def test_shortcut_map(key: str, ctrl: bool, shift: bool, action: str | None) -> None:
    assert action_for(key, ctrl=ctrl, shift=shift) == action


def test_shortcuts_are_unique_and_labelled() -> None:
    combos = [(s.key, s.ctrl, s.shift) for s in SHORTCUTS]
    assert len(combos) == len(set(combos))
    assert {s.label for s in SHORTCUTS if s.action == "redo"} == {"Ctrl+Shift+Z", "Ctrl+Y"}
    assert TRANSPORT_ACTIONS <= {s.action for s in SHORTCUTS}


def test_handle_leaves_studio_actions_to_the_studio(transport: Transport) -> None:
    assert not transport.handle("toggle_mute")
    assert not transport.handle("save")
