"""The transport bar (buttons, loop, timecode, output meters) and the status bar (audio device,
running job with progress and Cancel, messages). Buttons call named window actions; `update`
shows the controller's state once per frame."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import dearpygui.dearpygui as dpg

from app.studio.session.controller import StudioController
from app.studio.session.envelopes import meter_fall
from app.studio.session.timecode import seconds_to_timecode
from app.studio.ui import theme

Action = Callable[[str], None]

_BEFORE_PLAY = (("|<", "go_start", "start (Home)"),
                ("<<", "prev_event", "previous event (Shift+Left)"),
                ("<", "frame_back", "one frame back (Left)"))
_AFTER_PLAY = ((">", "frame_forward", "one frame on (Right)"),
               (">>", "next_event", "next event (Shift+Right)"),
               (">|", "go_end", "end (End)"))


class TransportBar:
    """Play/pause, frame and event steps, loop, timecode at the video's rate, peak meters."""

    def __init__(self, ctl: StudioController, run_action: Action) -> None:
        self.ctl = ctl
        self.run_action = run_action
        self._w: dict[str, Any] = {}
        self._meters = [-60.0, -60.0]
        self._last_meter = time.monotonic()

    def _buttons(self, specs: tuple[tuple[str, str, str], ...]) -> None:
        for label, action, tip in specs:
            button = dpg.add_button(label=label, width=34, user_data=action,
                                    callback=lambda s, a, u: self.run_action(u))
            with dpg.tooltip(button):
                dpg.add_text(tip)

    def build(self, mono_font: int | str | None) -> None:
        w = self._w
        with dpg.group(horizontal=True):
            self._buttons(_BEFORE_PLAY)
            w["play"] = dpg.add_button(label="Play", width=70,
                                       callback=lambda: self.run_action("play_pause"))
            dpg.bind_item_theme(w["play"], theme.accent_button_theme())
            self._buttons(_AFTER_PLAY)
            w["loop"] = dpg.add_checkbox(label="Loop",
                                         callback=lambda: self.run_action("toggle_loop"))
            w["timecode"] = dpg.add_text("00:00:00:00")
            if mono_font is not None:
                dpg.bind_item_font(w["timecode"], mono_font)
            w["duration"] = dpg.add_text("", color=theme.TEXT_DIM)
            dpg.add_spacer(width=12)
            with dpg.group():
                for side in ("L", "R"):
                    w[f"meter_{side}"] = dpg.add_progress_bar(width=110, height=8,
                                                              default_value=0.0)
            w["meter_db"] = dpg.add_text("-inf dB", color=theme.TEXT_DIM)

    def update(self) -> None:
        ctl, w, state = self.ctl, self._w, self.ctl.state
        dpg.configure_item(w["play"], label="Pause" if ctl.audio.playing else "Play")
        dpg.set_value(w["loop"], state.loop)
        if ctl.project is not None:
            fps = ctl.project.analysis.video.fps
            dpg.set_value(w["timecode"], seconds_to_timecode(state.playhead, fps))
            dpg.set_value(w["duration"], f"/ {seconds_to_timecode(state.duration, fps)}   "
                                         f"{float(fps):.3f} fps   frame {state.frame_index()}")
        self._update_meters()

    def _update_meters(self) -> None:
        """Output peak meters (-60..0 dBFS), falling back smoothly between peaks."""
        now = time.monotonic()
        dt, self._last_meter = now - self._last_meter, now
        levels = self.ctl.audio.output_levels()
        for i, side in enumerate(("L", "R")):
            self._meters[i] = meter_fall(self._meters[i], levels[i], dt=dt)
            dpg.set_value(self._w[f"meter_{side}"], (self._meters[i] + 60.0) / 60.0)
        top = max(self._meters)
        dpg.set_value(self._w["meter_db"], "-inf dB" if top <= -60.0 else f"{top:+.0f} dB")


class StatusBar:
    """Audio device status, the running job's progress with Cancel, the objects whose audio is
    out of date, and the last message."""

    def __init__(self, ctl: StudioController, run_action: Action) -> None:
        self.ctl = ctl
        self.run_action = run_action
        self._w: dict[str, Any] = {}

    def build(self) -> None:
        w = self._w
        with dpg.group(horizontal=True):
            w["device"] = dpg.add_text("audio: starting", color=theme.TEXT_DIM)
            dpg.add_spacer(width=16)
            w["job"] = dpg.add_text("", color=theme.TEXT)
            w["progress"] = dpg.add_progress_bar(width=220, default_value=0.0, show=False)
            w["cancel"] = dpg.add_button(label="Cancel", show=False,
                                         callback=lambda: self.run_action("cancel"))
            dpg.add_spacer(width=16)
            w["message"] = dpg.add_text("", color=theme.TEXT_DIM)

    def update(self) -> None:
        ctl, w, state = self.ctl, self._w, self.ctl.state
        dpg.set_value(w["device"], f"audio: {ctl.audio.status_message}")
        status = ctl.worker.status()
        for key in ("progress", "cancel"):
            dpg.configure_item(w[key], show=status is not None)
        stale = state.stale_text()   # what the renderer says is still to redo
        if status is not None:
            dpg.set_value(w["progress"], status.fraction)
            dpg.configure_item(w["progress"], overlay=f"{status.fraction * 100:.0f}%")
            job = f"{status.name}: {status.message}"[:70]
            dpg.set_value(w["job"], f"{job}   ({stale})" if stale else job)
        else:
            dpg.set_value(w["job"], stale)
        dpg.set_value(w["message"], state.error or state.message)
        dpg.configure_item(w["message"], color=theme.ERROR if state.error else theme.TEXT_DIM)
