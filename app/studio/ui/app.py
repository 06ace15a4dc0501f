"""Starting the studio: context and viewport, the first frame, the manual render loop, exit.

The viewport is shown and one frame drawn before the input is opened, so the window appears at
once; analysis and rendering then run on the worker while the loop keeps drawing.

`--screenshot` mode drives the same loop unattended: once the project is loaded and rendered it
selects the first object, moves the playhead to where most objects are on screen, draws a few
frames, writes the PNG and exits. For the benchmark and the GUI tests,
`STEREOFOLEY_STUDIO_STATS=<file.json>` records the time to the first frame, where the picture sits
in the screenshot and which frame it shows, and, with `STEREOFOLEY_STUDIO_PLAY_S=<seconds>`, the
UI frame rate while playing before the screenshot. For the studio at scale (bench_studio
--scale): `STEREOFOLEY_STUDIO_NUDGES=<n>` nudges an object sounding at the playhead n times while
playing and records how long until playback read the re-rendered mix (`audio.block_mix`), and
`STEREOFOLEY_STUDIO_SCROLL_FRAMES=<n>` scrolls the lanes and the object list for n frames after
playing and records the frame times; the stats also hold the process's peak resident memory.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dearpygui.dearpygui as dpg

from app.studio.session.controller import StudioController
from app.studio.session.geometry import boxes_at
from app.studio.session.screen import (
    HeldDisplay,
    ViewportGeometry,
    held_display,
    viewport_geometry,
    x11_screen_size,
)
from app.studio.session.state import busiest_time
from app.studio.ui.window import StudioWindow, save_screenshot
from audio.block_mix import PatchedStem
from video.base.errors import InputError
from video.base.timebase import SAMPLE_RATE

SCREENSHOT_TIMEOUT_S = 600.0
SETTLE_FRAMES = 12  # frames drawn after everything is loaded, before the screenshot
FRAME_BUDGET_PLAYING_S = 1 / 60
FRAME_BUDGET_IDLE_S = 1 / 30


def process_age() -> float:
    """Seconds since this process started (from /proc; 0 where that is unavailable)."""
    try:
        stat = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        start_ticks = int(stat[19])
        boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime"))
        return time.time() - (boot + start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError, StopIteration):
        return 0.0


@dataclass
class _Stats:
    first_frame_s: float = 0.0
    loaded_s: float = 0.0
    play_frames: int = 0
    play_seconds: float = 0.0
    play_cpu_s: float = 0.0
    frame_times: list[float] = field(default_factory=list)
    scroll_times: list[float] = field(default_factory=list)
    nudge_latency: list[float] = field(default_factory=list)
    nudge_whole: list[float] = field(default_factory=list)
    lanes_drawn: int = 0
    shot: dict[str, object] = field(default_factory=dict)

    def write(self, path: str) -> None:
        fps = self.play_frames / self.play_seconds if self.play_seconds > 0 else 0.0
        worst = max(self.frame_times) if self.frame_times else 0.0
        doc = {"first_frame_s": round(self.first_frame_s, 3), "loaded_s": round(self.loaded_s, 3),
               "play_fps": round(fps, 2), "play_frames": self.play_frames,
               "worst_frame_ms": round(worst * 1000, 1),
               "cpu_ms_per_frame": round(1000 * self.play_cpu_s / max(self.play_frames, 1), 1),
               "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
               **self.shot}
        if self.scroll_times:
            doc.update(scroll_frames=len(self.scroll_times), lanes_drawn=self.lanes_drawn,
                       scroll_median_ms=round(1000 * statistics.median(self.scroll_times), 1),
                       scroll_worst_ms=round(1000 * max(self.scroll_times), 1))
        if self.nudge_latency:
            doc["nudge_ms"] = [round(1000 * v, 1) for v in self.nudge_latency]
            doc["nudge_whole_ms"] = [round(1000 * v, 1) for v in self.nudge_whole]
        Path(path).write_text(json.dumps(doc), encoding="utf-8")


def _ready(ctl: StudioController) -> bool:
    """Loaded, rendered and idle: what a screenshot should wait for."""
    return (ctl.project is not None and ctl.audio.has_render and not ctl.worker.busy
            and not ctl.state.stale)


def open_viewport(*, unattended: bool = False, held: HeldDisplay | None = None
                  ) -> ViewportGeometry:
    """Create the studio's viewport sized to fit the screen (a laptop's too); returns where.

    unattended (screenshots): no vsync, and the close button closes at once. held: an open
    connection to the display (`held_display`) to read the screen's size from."""
    geometry = viewport_geometry(held.screen_size if held is not None else x11_screen_size())
    dpg.create_viewport(title="StereoFoley Studio", width=geometry.width, height=geometry.height,
                        x_pos=geometry.x, y_pos=geometry.y, min_width=geometry.min_width,
                        min_height=geometry.min_height, vsync=not unattended,
                        disable_close=not unattended)
    return geometry


def run_window(source: Path, *, screenshot: Path | None = None) -> int:
    """Open the studio on `source` and run until the window closes (or the screenshot is saved)."""
    stats = _Stats()
    stats_path = os.environ.get("STEREOFOLEY_STUDIO_STATS")
    play_s = float(os.environ.get("STEREOFOLEY_STUDIO_PLAY_S", "0") or 0)
    probe = _Probe(nudges=int(os.environ.get("STEREOFOLEY_STUDIO_NUDGES", "0") or 0),
                   scroll_frames=int(os.environ.get("STEREOFOLEY_STUDIO_SCROLL_FRAMES", "0")
                                     or 0))
    dpg.create_context()
    ctl = StudioController()
    window = StudioWindow(ctl)
    try:
        window.build()
        held = held_display()    # the X server keeps a client until the window is up
        try:
            open_viewport(unattended=screenshot is not None, held=held)
            if screenshot is None:  # the close button asks about unsaved changes first
                dpg.set_exit_callback(lambda: window.run_action("quit"))
            dpg.setup_dearpygui()
            dpg.show_viewport()
            window.frame()
            dpg.render_dearpygui_frame()
        finally:
            held.close()
        stats.first_frame_s = process_age()
        ctl.audio.start()
        try:
            ctl.open(source)
        except InputError as exc:
            if screenshot is not None:
                raise
            ctl.state.error = str(exc)
        code = _loop(ctl, window, screenshot, stats, play_s, probe)
    finally:
        window.close()
        ctl.shutdown()
        dpg.destroy_context()
    if stats_path:
        stats.write(stats_path)
    return code


@dataclass
class _Pending:
    """A nudge in flight: when it was made, the mix playing then, and when it was heard."""

    started: float
    old: object
    heard: float | None = None


@dataclass
class _Probe:
    """The scale measurements of an unattended run: nudges of objects sounding at the playhead
    while playing (each waits for the one before to be placed whole), then scrolling.

    Per nudge: when playback first read a mix holding the object's new placement (heard), and
    when the mix with its whole new stem was playing and the job done (whole)."""

    nudges: int = 0
    scroll_frames: int = 0
    pending: _Pending | None = None
    next_at: float = 0.0
    done: int = 0

    def while_playing(self, ctl: StudioController, stats: _Stats, now: float) -> None:
        engine = ctl.audio.engine
        if self.done >= self.nudges or engine is None or ctl.project is None:
            return
        mix: Any = getattr(engine, "mix", None)
        if self.pending is not None:
            self._follow(ctl, mix, stats, now)
            return
        if now < self.next_at or not hasattr(mix, "sounding"):
            return
        pos = engine.read_position
        sounding = mix.sounding(pos, pos + 24_000)
        if not sounding:        # nothing to hear here: go to where the next object starts
            starts = [int(mix.stems[i].lo) for i in mix.active if mix.stems[i].lo > pos]
            if starts:
                ctl.seek(min(starts) / SAMPLE_RATE + 0.25)
            self.next_at = now + 0.3
            return
        oid = sounding[self.done % len(sounding)]
        offset = ctl.project.object_sound(oid).nudges.pan_offset
        self.pending = _Pending(started=time.perf_counter(), old=mix)
        ctl.set_pan_offset(oid, 0.3 if offset < 0.15 else 0.0)

    def _follow(self, ctl: StudioController, mix: Any, stats: _Stats, now: float) -> None:
        pending = self.pending
        assert pending is not None
        heard = getattr(mix, "first_read", None)
        if pending.heard is None and mix is not pending.old and heard is not None:
            pending.heard = heard
            stats.nudge_latency.append(heard - pending.started)
        if pending.heard is not None and not ctl.worker.busy and heard is not None \
                and not any(isinstance(s, PatchedStem) for s in mix.stems.values()):
            stats.nudge_whole.append(heard - pending.started)
            self.pending, self.done = None, self.done + 1
            self.next_at = now + 0.5


def _loop(ctl: StudioController, window: StudioWindow, screenshot: Path | None, stats: _Stats,
          play_s: float, probe: _Probe | None = None) -> int:
    probe = probe if probe is not None else _Probe()
    start = time.monotonic()
    phase = "loading"
    settle = 0
    play_start = 0.0
    last = time.monotonic()
    while dpg.is_dearpygui_running():
        if screenshot is not None:
            ctl.recovery = None  # an unattended screenshot never offers to restore old edits
            if ctl.missing_video is not None:  # ... nor waits for someone to locate a video
                ctl.skip_relink()
        window.frame()
        dpg.render_dearpygui_frame()
        _pace(last, playing=ctl.audio.playing)
        now = time.monotonic()
        if phase == "playing":
            stats.frame_times.append(now - last)
            probe.while_playing(ctl, stats, now)
        elif phase == "scrolling":
            stats.scroll_times.append(now - last)
            stats.lanes_drawn = max(stats.lanes_drawn, window.timeline.lanes_drawn)
            if len(stats.scroll_times) >= probe.scroll_frames:
                phase = "settling"
            else:
                window.scroll_lists(37.0)
        last = now
        if screenshot is None:
            continue
        failed = " failed: " in ctl.state.error and ctl.worker.status() is None \
            and not ctl.worker.busy
        if failed and phase == "loading":  # the analysis or the render failed: nothing to show
            sys.stderr.write(f"error: {ctl.state.error}\n")
            return 2 if ctl.project is None else 1
        if now - start > SCREENSHOT_TIMEOUT_S:
            sys.stderr.write("error: timed out waiting for analysis and render\n")
            save_screenshot(screenshot)
            _draw(4)
            return 1
        if phase == "loading" and _ready(ctl):
            stats.loaded_s = now - start
            assert ctl.project is not None
            _show_busiest(ctl)
            if play_s > 0:
                ctl.seek(0.0)
                ctl.play_pause()
                phase, play_start = "playing", now
                stats.play_cpu_s = -time.process_time()
                stats.frame_times.clear()
            else:
                phase = "settling"
        elif phase == "playing" and now - play_start >= play_s \
                and (probe.pending is None or now - play_start >= play_s + 30.0):
            stats.play_frames = len(stats.frame_times)
            stats.play_seconds = now - play_start
            stats.play_cpu_s += time.process_time()
            ctl.play_pause()
            _show_busiest(ctl)
            phase = "scrolling" if probe.scroll_frames > 0 else "settling"
        elif phase == "settling":
            settle += 1
            if settle >= SETTLE_FRAMES and window.frame_ready():
                stats.shot = {"frame": ctl.state.frame_index(), "selected": ctl.state.selected,
                              "video_rect": window.video_screen_rect()}
                save_screenshot(screenshot)
                _draw(4)
                return 0
    return 0


def _pace(last: float, *, playing: bool) -> None:
    """Sleep out the rest of the frame: at most 60 frames a second while playing, 30 otherwise.

    Without vsync (Xvfb, some drivers) the loop would spin and, holding the GIL while it draws,
    starve the worker thread: analysis and renders then crawl. Sleeping releases the GIL.
    """
    budget = FRAME_BUDGET_PLAYING_S if playing else FRAME_BUDGET_IDLE_S
    left = budget - (time.monotonic() - last)
    if left > 0:
        time.sleep(left)


def _show_busiest(ctl: StudioController) -> None:
    """Playhead where most objects are on screen; select the first object visible there."""
    assert ctl.project is not None
    ctl.seek(busiest_time(ctl.project))
    visible = boxes_at(ctl.project.analysis, ctl.state.frame_index())
    ctl.select(visible[0][0] if visible else None)


def _draw(frames: int) -> None:
    """Draw a few more frames (the screenshot is written during one of them)."""
    for _ in range(frames):
        if not dpg.is_dearpygui_running():
            break
        dpg.render_dearpygui_frame()
