"""The inspector: every placement control of the selected object.

Pan offset, distance trim, gain and width sliders (each drag is one undo step and is heard
within a moment: only that object is re-spatialized), pan keyframes (add at the playhead,
delete; drag them on the timeline), mute/solo, seed and regenerate, reset. Values always come
from the Project; a slider being dragged is left alone while the user holds it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import dearpygui.dearpygui as dpg

from app.project import Project
from app.studio.session.controller import StudioController
from app.studio.session.timecode import format_clock
from app.studio.ui import theme


def object_summary(project: Project, object_id: int) -> str:
    """Two lines about an object: when it is on screen and its events by kind; prompt, take."""
    track = project.analysis.object(object_id)
    sound = project.object_sound(object_id)
    video = project.analysis.video
    parts = []
    if len(track):
        t0, t1 = video.time_of_frame(int(track.frames[0])), video.time_of_frame(int(track.frames[-1]))
        parts.append(f"On screen {format_clock(t0)} - {format_clock(t1)}")
    kinds = Counter(e.kind for e in track.events)
    filled = Counter(e.kind for e in track.events if e.filled)

    def count(kind: str, n: int) -> str:  # filled steps follow the walk's pace, not contacts
        return f"{n} {kind}" + (f" ({filled[kind]} at the walking pace)" if filled[kind] else "")

    parts.append("events: " + (", ".join(count(k, n) for k, n in sorted(kinds.items()))
                               or "none"))
    return "\n".join(["   ".join(parts),
                      f"Prompt: {sound.prompt or '(chosen from its motion)'}   take {sound.seed}"])


def _tip(item: int | str, text: str) -> None:
    """A hover tooltip explaining a control."""
    with dpg.tooltip(item):
        dpg.add_text(text)


SLIDERS = (  # (widget, label, min, max, controller method); value formats in VALUE_FORMATS
    ("pan", "Pan offset", -1.0, 1.0, "set_pan_offset"),
    ("distance", "Distance x", 0.25, 4.0, "set_distance"),
    ("gain", "Gain dB", -30.0, 12.0, "set_gain"),
    ("width", "Width", 0.0, 1.0, "set_width"),
)
VALUE_FORMATS = {"pan": "{:+.2f}", "distance": "{:.2f}", "gain": "{:+.1f}", "width": "{:.2f}"}


class Inspector:
    """Owns the inspector panel's widgets; see the module doc."""

    def __init__(self, ctl: StudioController) -> None:
        self.ctl = ctl
        self.group: int | str = 0
        self._w: dict[str, Any] = {}
        self._key: Any = None
        self.header: int | str = 0
        self._hint = ""

    def build(self) -> None:
        ctl = self.ctl

        def on(name: str):  # a slider callback for the selected object
            def callback(sender: Any, value: Any) -> None:
                if ctl.state.selected is not None:
                    getattr(ctl, name)(ctl.state.selected, float(value))
            return callback

        with dpg.item_handler_registry() as release:
            dpg.add_item_deactivated_after_edit_handler(callback=lambda: ctl.end_drag())
        w = self._w
        self.header = dpg.add_text("INSPECTOR", color=theme.TEXT_DIM)
        with dpg.group() as self.group:
            w["title"] = dpg.add_text("No object selected", color=theme.TEXT_DIM)
            with dpg.group(show=False) as w["body"]:
                # the value sits in its own column beside the slider, where the handle cannot
                # cover it (the slider itself shows no text)
                with dpg.table(header_row=False, policy=dpg.mvTable_SizingFixedFit,
                               borders_innerH=False, borders_outerH=False, pad_outerX=False):
                    dpg.add_table_column(width_stretch=True, init_width_or_weight=1.0)
                    dpg.add_table_column(width_fixed=True, init_width_or_weight=46)
                    dpg.add_table_column(width_fixed=True, init_width_or_weight=74)
                    for name, label, lo, hi, method in SLIDERS:
                        with dpg.table_row():
                            w[name] = dpg.add_slider_float(min_value=lo, max_value=hi,
                                                           format="", callback=on(method),
                                                           width=-1)
                            w[f"{name}_value"] = dpg.add_text("", color=theme.TEXT)
                            dpg.add_text(label)
                for name in ("pan", "distance", "gain", "width"):
                    dpg.bind_item_handler_registry(w[name], release)
                with dpg.group(horizontal=True):
                    w["mute"] = dpg.add_checkbox(label="Mute", callback=self._mute)
                    w["solo"] = dpg.add_checkbox(label="Solo", callback=self._solo)
                    regenerate = dpg.add_button(label="Regenerate", callback=self._regenerate)
                    reset = dpg.add_button(label="Reset", callback=self._reset)
                _tip(w["pan"], "Added to the tracked pan (the box's x on screen); "
                               "-1 = hard left, +1 = hard right")
                _tip(w["distance"], "Multiplies the apparent distance: 2 = twice as far "
                                    "(quieter, duller), 0.5 = nearer")
                _tip(w["gain"], "Level trim after distance loudness")
                _tip(w["width"], "0 = point source, 1 = as wide as the object's box allows")
                _tip(regenerate, "A new take: the same prompt with the next seed (undoable)")
                _tip(reset, "Back to the tracked placement: no offset, keyframes or trims")
                with dpg.group(horizontal=True):
                    dpg.add_text("Pan keyframes")
                    dpg.add_button(label="+ at playhead (K)", callback=self._add_key)
                w["keys"] = dpg.add_group()
                dpg.add_separator()
                w["info"] = dpg.add_text("", color=theme.TEXT_DIM)

    def update_scroll(self, panel: int | str) -> None:
        """Say in the header when the panel (too short for everything) has more below."""
        scroll, scroll_max = dpg.get_y_scroll(panel), dpg.get_y_scroll_max(panel)
        text = "INSPECTOR" + ("   more below: scroll" if scroll_max - scroll > 2 else "")
        if text != self._hint:
            self._hint = text
            dpg.set_value(self.header, text)
            dpg.configure_item(self.header, color=theme.ACCENT if "scroll" in text
                               else theme.TEXT_DIM)

    def _mute(self, sender: Any, value: Any) -> None:
        if self.ctl.state.selected is not None:
            self.ctl.set_mute(self.ctl.state.selected, bool(value))

    def _solo(self, sender: Any, value: Any) -> None:
        if self.ctl.state.selected is not None:
            self.ctl.set_solo(self.ctl.state.selected, bool(value))

    def _regenerate(self) -> None:
        if self.ctl.state.selected is not None:
            self.ctl.regenerate(self.ctl.state.selected)

    def _reset(self) -> None:
        if self.ctl.state.selected is not None:
            self.ctl.reset_nudges(self.ctl.state.selected)

    def _add_key(self) -> None:
        if self.ctl.state.selected is not None:
            self.ctl.add_keyframe(self.ctl.state.selected)

    def refresh(self) -> None:
        state, project, w = self.ctl.state, self.ctl.project, self._w
        key = (state.revision, state.selected)
        if key == self._key:
            return
        self._key = key
        if project is None or state.selected is None:
            dpg.set_value(w["title"], "No object selected: click one in the picture or list")
            dpg.configure_item(w["title"], color=theme.TEXT_DIM)
            dpg.configure_item(w["body"], show=False)
            return
        object_id = state.selected
        track = project.analysis.object(object_id)
        nudges = project.object_sound(object_id).nudges
        dpg.set_value(w["title"], f"Object {object_id}: {track.label}  ({len(track.events)} "
                                  f"events, {len(track)} frames)")
        dpg.configure_item(w["title"], color=theme.object_colour(object_id))
        dpg.configure_item(w["body"], show=True)
        for name, value in (("pan", nudges.pan_offset), ("distance", nudges.distance_scale),
                            ("gain", nudges.gain_db), ("width", nudges.width),
                            ("mute", nudges.mute), ("solo", nudges.solo)):
            if not dpg.is_item_active(w[name]):
                dpg.set_value(w[name], value)
            if name in VALUE_FORMATS:
                dpg.set_value(w[f"{name}_value"], VALUE_FORMATS[name].format(value))
        dpg.set_value(w["info"], object_summary(project, object_id))
        dpg.delete_item(w["keys"], children_only=True)
        if not nudges.pan_keyframes:
            dpg.add_text("none (tracked pan + offset); double-click a lane to add",
                         color=theme.TEXT_DIM, parent=w["keys"])
        for index, k in enumerate(nudges.pan_keyframes):
            with dpg.group(horizontal=True, parent=w["keys"]):
                dpg.add_text(f"{format_clock(k.time)}   pan {k.pan:+.2f}")
                dpg.add_button(label="x", small=True,
                               callback=lambda s, a, u: self.ctl.remove_keyframe(*u),
                               user_data=(object_id, index))
