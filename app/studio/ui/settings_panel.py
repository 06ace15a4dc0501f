"""Render settings window: pan law, loudness target, true-peak ceiling, limiting cap, seed, air,
ITD, Doppler, and the mastered mix's loudness (short of the target when its hits are already
limited at the most).

Each change is one undoable edit (`app.edits.set_render_settings`); the controller re-renders
what it needs (a new seed regenerates every object, a pan law re-places them, a loudness target
only re-masters).
"""

from __future__ import annotations

from typing import Any

import dearpygui.dearpygui as dpg

from app.report import mix_level
from app.studio.session.controller import StudioController
from audio.pan import PAN_LAWS


class SettingsPanel:
    """A non-modal window showing the project's render settings."""

    def __init__(self, ctl: StudioController) -> None:
        self.ctl = ctl
        self.window: int | str = 0
        self._w: dict[str, Any] = {}
        self._revision = -1
        self._level: int | str = 0
        self._level_text = ""

    def build(self) -> None:
        ctl, w = self.ctl, self._w

        def setter(name: str, cast: type):
            def callback(sender: Any, value: Any) -> None:
                ctl.set_render_settings(**{name: cast(value)})
            return callback

        with dpg.window(label="Render settings", show=False, width=380, height=380,
                        no_collapse=True) as self.window:
            w["pan_law"] = dpg.add_combo(list(PAN_LAWS), label="Pan law", width=140,
                                         callback=setter("pan_law", str))
            w["target_lufs"] = dpg.add_slider_float(label="Loudness (LUFS)", min_value=-36.0,
                                                    max_value=-10.0, format="%.1f", width=180,
                                                    callback=setter("target_lufs", float))
            w["true_peak_db"] = dpg.add_slider_float(label="True-peak ceiling (dBTP)",
                                                     min_value=-6.0, max_value=0.0,
                                                     format="%.1f", width=180,
                                                     callback=setter("true_peak_db", float))
            w["max_limiting_db"] = dpg.add_slider_float(label="Limiting at most (dB)",
                                                        min_value=0.0, max_value=30.0,
                                                        format="%.1f", width=180,
                                                        callback=setter("max_limiting_db", float))
            self._level = dpg.add_text("", wrap=350)
            w["seed"] = dpg.add_input_int(label="Seed", width=140, min_value=0, min_clamped=True,
                                          on_enter=True, callback=setter("seed", int))
            w["air_absorption"] = dpg.add_checkbox(label="Air absorption (far = duller)",
                                                   callback=setter("air_absorption", bool))
            w["itd"] = dpg.add_checkbox(label="Interaural time difference",
                                        callback=setter("itd", bool))
            w["doppler"] = dpg.add_checkbox(label="Doppler", callback=setter("doppler", bool))
            dpg.add_text("Loudness, ceiling and limiting changes re-master only (sparse hits "
                         "may stay under the loudness rather than be limited more); pan law, "
                         "air, ITD and Doppler re-place every object; a new seed regenerates "
                         "them.", wrap=350)

    def show(self) -> None:
        dpg.show_item(self.window)
        self._revision = -1

    def refresh(self) -> None:
        """Show the project's values (not while a control is being dragged)."""
        project = self.ctl.project
        if dpg.is_item_shown(self.window):    # the mix's level changes when a render lands
            result = self.ctl.audio.result
            text = mix_level(result.master) if result is not None else ""
            if text != self._level_text:
                self._level_text = text
                dpg.set_value(self._level, text)
        if project is None or not dpg.is_item_shown(self.window) or \
                self.ctl.state.revision == self._revision:
            return
        self._revision = self.ctl.state.revision
        settings = project.render
        for name, item in self._w.items():
            if not dpg.is_item_active(item):
                dpg.set_value(item, getattr(settings, name))
