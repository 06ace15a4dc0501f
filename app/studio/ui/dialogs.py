"""The studio's dialogs: open/save/export file pickers, "save changes?", crash recovery, help.

Every button ends in one controller call (through `guard`, so bad input becomes a status-bar
message). `unless_unsaved` runs an action at once, or after the user saved or discarded the
project's unsaved changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dearpygui.dearpygui as dpg

from app.studio.session.controller import StudioController
from app.studio.ui import theme
from app.studio.ui.shortcuts import MOUSE_HELP, STUDIO_SHORTCUTS
from video.base.errors import InputError

Guard = Callable[[Callable[[], Any]], None]
VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".*")


class Dialogs:
    """Owns every modal window of the studio."""

    def __init__(self, ctl: StudioController, guard: Guard) -> None:
        self.ctl = ctl
        self.guard = guard
        self._w: dict[str, Any] = {}
        self._then: Callable[[], Any] | None = None

    def build(self) -> None:
        w = self._w
        w["open_video"] = _file_dialog("Open video", self._open, VIDEO_EXTENSIONS)
        w["open_project"] = _file_dialog("Open project", self._open, (".json", ".*"))
        w["save_as"] = _file_dialog("Save project as", self._save, (".json",))
        w["export"] = _file_dialog("Export to folder", self._export, None,
                                   extra=self._session_choices)
        w["locate"] = _file_dialog("Locate the project's video", self._locate, VIDEO_EXTENSIONS)
        with dpg.window(label="Video not found", modal=True, show=False, width=560, height=170,
                        no_resize=True, no_close=True) as w["relink"]:
            w["relink_text"] = dpg.add_text("", wrap=540)
            w["relink_error"] = dpg.add_text("", wrap=540, color=theme.ERROR)
            with dpg.group(horizontal=True):
                dpg.add_button(label="Locate video...", width=150,
                               callback=lambda: self.show("locate"))
                dpg.add_button(label="Open without picture", width=180,
                               callback=self._skip_relink)
        with dpg.window(label="Recover unsaved changes?", modal=True, show=False, width=520,
                        height=130, no_resize=True, no_close=True) as w["recovery"]:
            w["recovery_text"] = dpg.add_text("", wrap=500)
            with dpg.group(horizontal=True):
                dpg.add_button(label="Restore", width=120, callback=self._restore)
                dpg.add_button(label="Discard", width=120, callback=self._discard)
        with dpg.window(label="Save changes?", modal=True, show=False, width=480, height=110,
                        no_resize=True) as w["confirm"]:
            w["confirm_text"] = dpg.add_text("The project has unsaved changes.")
            with dpg.group(horizontal=True):
                dpg.add_button(label="Save first", width=120, callback=self._confirm_save)
                dpg.add_button(label="Discard changes", width=150, callback=self.confirm_go)
                dpg.add_button(label="Cancel", width=90,
                               callback=lambda: dpg.hide_item(self._w["confirm"]))
        with dpg.window(label="Keyboard shortcuts", modal=True, show=False, width=460,
                        height=520, no_resize=True) as w["help"], dpg.table(header_row=False):
            dpg.add_table_column()
            dpg.add_table_column()
            for keys, what in [(sc.label, sc.help) for sc in STUDIO_SHORTCUTS] + list(MOUSE_HELP):
                with dpg.table_row():
                    dpg.add_text(keys, color=theme.ACCENT)
                    dpg.add_text(what)

    def show(self, name: str) -> None:
        """Show one dialog: open_video, open_project, save_as, export, locate, help."""
        dpg.show_item(self._w[name])

    def hide(self, name: str) -> None:
        dpg.hide_item(self._w[name])

    def shown(self, name: str) -> bool:
        return bool(dpg.is_item_shown(self._w[name]))

    def any_open(self) -> bool:
        """True while a dialog has the keyboard and mouse (shortcuts and clicks wait)."""
        return any(self.shown(k) for k in ("open_video", "open_project", "save_as", "export",
                                           "help", "recovery", "confirm", "relink", "locate"))

    # -- file pickers: thin, each ends in one controller call ---------------------------------

    def _open(self, sender: Any, app_data: Any) -> None:
        path = app_data["file_path_name"]
        self.unless_unsaved("open another file", lambda: self.ctl.open(path))

    def _save(self, sender: Any, app_data: Any) -> None:
        self.guard(lambda: self.ctl.save(app_data["file_path_name"]))

    def _session_choices(self) -> None:
        """The export picker's side panel: which stems, and which DAW sessions to write with
        them."""
        from app.daw.session import SESSION_FILES
        from app.studio.session.export_options import DEFAULT_STEMS, stem_label, stem_labels

        dpg.add_text("Stems")
        self._w["stems"] = dpg.add_radio_button(stem_labels(),
                                                default_value=stem_label(DEFAULT_STEMS))
        dpg.add_text("DAW sessions")
        for name, label in (("rpp", "Reaper"), ("otio", "OpenTimelineIO"), ("aaf", "AAF")):
            self._w[f"session_{name}"] = dpg.add_checkbox(
                label=f"{label} ({SESSION_FILES[name]})")
        self._w["dry_stems"] = dpg.add_checkbox(
            label="dry stems + pan/volume automation")

    def export_choices(self) -> tuple[tuple[str, ...], bool]:
        """(session formats ticked, dry stems ticked) in the export picker."""
        from app.daw.session import SESSION_FORMATS

        formats = tuple(n for n in SESSION_FORMATS if dpg.get_value(self._w[f"session_{n}"]))
        return formats, bool(dpg.get_value(self._w["dry_stems"]))

    def stem_choice(self) -> str:
        """The stem mode picked in the export picker (objects, groups, both)."""
        from app.studio.session.export_options import stem_mode

        return stem_mode(str(dpg.get_value(self._w["stems"])))

    def _export(self, sender: Any, app_data: Any) -> None:
        sessions, dry = self.export_choices()
        stems = self.stem_choice()
        self.guard(lambda: self.ctl.export(app_data["file_path_name"], sessions=sessions,
                                           dry_stems=dry, stems=stems))

    # -- a moved video ------------------------------------------------------------------------

    def offer_relink(self) -> None:
        """Ask where the video is when a project was opened whose video was moved."""
        missing = self.ctl.missing_video
        if missing is None or self.shown("relink") or self.shown("locate"):
            return
        dpg.set_value(self._w["relink_text"], missing.message)
        dpg.set_value(self._w["relink_error"], "")
        vw = dpg.get_viewport_client_width()
        dpg.set_item_pos(self._w["relink"], [max(vw // 2 - 280, 0), 160])
        self.show("relink")

    def _locate(self, sender: Any, app_data: Any) -> None:
        """A file was picked: relink to it if it is the same video, else say why not."""
        path = app_data["file_path_name"]
        try:
            self.ctl.relink(path)
        except InputError as exc:
            if self.ctl.missing_video is not None:  # the dialog stays: say why, try again
                dpg.set_value(self._w["relink_error"], str(exc))
            else:
                self.ctl.state.error = str(exc)
            return
        self.hide("relink")

    def _skip_relink(self) -> None:
        self.hide("relink")
        self.guard(self.ctl.skip_relink)

    # -- crash recovery -------------------------------------------------------------------------

    def offer_recovery(self) -> None:
        """Ask once whether to restore unsaved edits an earlier session left behind."""
        recovery = self.ctl.recovery
        if recovery is None or self.shown("recovery") or self.shown("relink"):
            return
        dpg.set_value(self._w["recovery_text"], recovery.message)
        vw = dpg.get_viewport_client_width()
        dpg.set_item_pos(self._w["recovery"], [max(vw // 2 - 260, 0), 200])
        self.show("recovery")

    def _restore(self) -> None:
        self.hide("recovery")
        self.guard(self.ctl.restore_recovery)

    def _discard(self) -> None:
        self.hide("recovery")
        self.guard(self.ctl.discard_recovery)

    # -- unsaved changes ----------------------------------------------------------------------

    def unless_unsaved(self, what: str, action: Callable[[], Any]) -> None:
        """Run `action` now, or after the user saved or discarded unsaved changes."""
        if self.ctl.project is None or not self.ctl.unsaved:
            self.guard(action)
            return
        self._then = action
        dpg.set_value(self._w["confirm_text"],
                      f"The project has unsaved changes. Save them before you {what}?")
        self.show("confirm")

    def _confirm_save(self) -> None:
        self.hide("confirm")
        if self.ctl.state.project_path is None:
            self.show("save_as")  # the user saves, then repeats what they were doing
            return
        self.guard(self.ctl.save)
        if not self.ctl.unsaved:
            self.confirm_go()

    def confirm_go(self) -> None:
        """'Discard changes': drop them (and their recovery file), then go on with the action."""
        self.hide("confirm")
        action, self._then = self._then, None
        if self.ctl.unsaved:
            self.ctl.discard_unsaved()
        if action is not None:
            self.guard(action)


def _file_dialog(label: str, callback: Callable[[Any, Any], None],
                 extensions: tuple[str, ...] | None, *,
                 extra: Callable[[], None] | None = None) -> int | str:
    """A hidden modal file picker; no extensions = a folder picker; `extra` adds widgets to
    its side panel."""
    with dpg.file_dialog(label=label, show=False, modal=True, width=760, height=460,
                         directory_selector=extensions is None, callback=callback) as dialog:
        for ext in extensions or ():
            dpg.add_file_extension(ext, color=theme.ACCENT if ext != ".*" else theme.TEXT)
        if extra is not None:
            extra()
    return dialog
