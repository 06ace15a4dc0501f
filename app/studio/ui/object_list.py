"""The object list: a mixer-like table with one row per object.

Columns: colour swatch, id, label (the object's class; click to select), what its sound is made
of (the class recipe, or "prompt" / "motion": `model.foley.choose.sound_summary`), sound prompt
(edit, Enter regenerates that object), mute, solo, gain trim. Rows are rebuilt only when the set of objects changes; otherwise
values are refreshed from the Project, except in a field the user is typing in.
"""

from __future__ import annotations

from typing import Any

import dearpygui.dearpygui as dpg

from app.studio.session.controller import StudioController
from app.studio.session.scrolling import hidden_rows, reveal_scroll, scroll_hint, visible_band
from app.studio.ui import theme
from model.foley.choose import sound_label, sound_summary


class ObjectList:
    """Owns the table; see the module doc."""

    def __init__(self, ctl: StudioController) -> None:
        self.ctl = ctl
        self.table: int | str = 0
        self._rows: dict[int, dict[str, Any]] = {}
        self._shape: tuple[tuple[int, str], ...] = ()
        self._revision = -1
        self._selected: int | None = -1
        self._swatches: dict[int, int | str] = {}
        self._release: int | str = 0
        self.header: int | str = 0
        self._hint = ""
        self._revealed: int | None = None

    def build(self) -> None:
        # one "drag ended" handler shared by every row's gain control (rows come and go)
        with dpg.item_handler_registry() as self._release:
            dpg.add_item_deactivated_after_edit_handler(callback=lambda: self.ctl.end_drag())
        self.header = dpg.add_text("OBJECTS", color=theme.TEXT_DIM)
        with dpg.table(header_row=True, resizable=True, policy=dpg.mvTable_SizingFixedFit,
                       row_background=True, borders_innerH=True, borders_outerH=True,
                       scrollY=True, height=-1, freeze_rows=1) as self.table:
            dpg.add_table_column(label="", width_fixed=True, init_width_or_weight=10)
            dpg.add_table_column(label="#", width_fixed=True, init_width_or_weight=22)
            dpg.add_table_column(label="Object", width_fixed=True, init_width_or_weight=92)
            dpg.add_table_column(label="Sound from", width_fixed=True, init_width_or_weight=150)
            dpg.add_table_column(label="Sound prompt (Enter = generate)", width_stretch=True,
                                 init_width_or_weight=1.0)
            dpg.add_table_column(label="M", width_fixed=True, init_width_or_weight=22)
            dpg.add_table_column(label="S", width_fixed=True, init_width_or_weight=22)
            dpg.add_table_column(label="Gain dB", width_fixed=True, init_width_or_weight=64)

    def refresh(self) -> None:
        project, state = self.ctl.project, self.ctl.state
        shape = () if project is None else tuple((t.id, t.label) for t in project.analysis.objects)
        if shape != self._shape:
            self._shape = shape
            self._rebuild()
            self._revision = -1
        if state.revision == self._revision and state.selected == self._selected:
            return
        self._revision, self._selected = state.revision, state.selected
        if project is None:
            return
        # what the sound is chosen from: an unrecognized object's box-shape label
        labels = {t.id: sound_label(t) for t in project.analysis.objects}
        for sound in project.objects:
            row = self._rows.get(sound.id)
            if row is None:
                continue
            dpg.set_value(row["label"], sound.id == state.selected)
            dpg.set_value(row["recipe"], sound_summary(labels.get(sound.id, ""), sound.prompt))
            if not dpg.is_item_active(row["prompt"]):
                dpg.set_value(row["prompt"], sound.prompt)
            dpg.set_value(row["mute"], sound.nudges.mute)
            dpg.set_value(row["solo"], sound.nudges.solo)
            if not dpg.is_item_active(row["gain"]):
                dpg.set_value(row["gain"], sound.nudges.gain_db)

    # -- scrolling ------------------------------------------------------------------------------

    def row_bands(self) -> list[tuple[int, float, float]]:
        """(object id, top, bottom) of each row in the table's scrolled content, from where
        Dear PyGui laid the rows out in the last frame (rows out of view included)."""
        ys = [(oid, float(dpg.get_item_rect_min(r["label"])[1])) for oid, r in self._rows.items()]
        if not ys:
            return []
        row_h = ys[1][1] - ys[0][1] if len(ys) > 1 else 24.0
        if row_h <= 0:
            return []  # rows added this frame are laid out by the next one
        y0 = ys[0][1]
        return [(oid, y - y0, y - y0 + row_h) for oid, y in ys]

    def scroll_state(self) -> tuple[float, float, float]:
        """(scroll, scroll max, rows' content height) of the table."""
        bands = self.row_bands()
        content = bands[-1][2] if bands else 0.0
        return (float(dpg.get_y_scroll(self.table)), float(dpg.get_y_scroll_max(self.table)),
                content)

    def update_scroll(self) -> None:
        """Bring the selected object's row into view once after it was selected, and say in
        the header how many rows are out of view."""
        bands = self.row_bands()
        if not bands:
            self._set_hint("OBJECTS")
            return
        scroll, scroll_max, content = self.scroll_state()
        selected = self.ctl.state.selected
        if selected != self._revealed:
            self._revealed = selected
            row = next(((t, b) for oid, t, b in bands if oid == selected), None)
            if row is not None:
                target = reveal_scroll(scroll, scroll_max, content, row)
                if target != scroll:
                    dpg.set_y_scroll(self.table, target)
                    scroll = target
        above, below = hidden_rows([(t, b) for _, t, b in bands],
                                   visible_band(scroll, scroll_max, content))
        hint = scroll_hint(above, below)
        self._set_hint(f"OBJECTS ({len(bands)})" + (f"   {hint}" if hint else ""))

    def _set_hint(self, text: str) -> None:
        if text != self._hint:
            self._hint = text
            dpg.set_value(self.header, text)
            dpg.configure_item(self.header, color=theme.ACCENT if "scroll" in text
                               else theme.TEXT_DIM)

    def typing(self) -> bool:
        """True while a prompt field has keyboard focus (shortcuts must not fire)."""
        return any(dpg.is_item_active(r["prompt"]) for r in self._rows.values())

    def _rebuild(self) -> None:
        for row in self._rows.values():
            dpg.delete_item(row["row"])
        self._rows.clear()
        project = self.ctl.project
        if project is None:
            return
        for track in project.analysis.objects:
            self._rows[track.id] = self._add_row(track.id, track.label)

    def _swatch(self, object_id: int) -> int | str:
        if object_id not in self._swatches:
            self._swatches[object_id] = theme.swatch_theme(theme.object_colour(object_id))
        return self._swatches[object_id]

    def _add_row(self, object_id: int, label: str) -> dict[str, Any]:
        ctl = self.ctl
        with dpg.table_row(parent=self.table) as row:
            swatch = dpg.add_button(label="", width=10, height=18)
            dpg.bind_item_theme(swatch, self._swatch(object_id))
            dpg.add_text(str(object_id))
            name = dpg.add_selectable(label=label, callback=lambda: ctl.select(object_id))
            recipe = dpg.add_text(sound_summary(label))
            prompt = dpg.add_input_text(width=-1, on_enter=True,
                                        hint=f"describe the {label}'s sound",
                                        callback=lambda s, a: ctl.set_prompt(object_id, a))
            mute = dpg.add_checkbox(callback=lambda s, a: ctl.set_mute(object_id, bool(a)))
            solo = dpg.add_checkbox(callback=lambda s, a: ctl.set_solo(object_id, bool(a)))
            gain = dpg.add_drag_float(width=60, min_value=-60.0, max_value=24.0, speed=0.1,
                                      format="%+.1f", clamped=True,
                                      callback=lambda s, a: ctl.set_gain(object_id, float(a)))
        dpg.bind_item_handler_registry(gain, self._release)
        return {"row": row, "label": name, "recipe": recipe, "prompt": prompt, "mute": mute,
                "solo": solo, "gain": gain}
