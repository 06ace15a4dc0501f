"""The studio window: layout, menus, transport and status bars, keyboard, and the render loop.

Layout (like a DAW's video + mixer windows): the video view with its transport bar on the left,
the object list (mixer) and the inspector on the right, the timeline across the bottom and a
status bar (audio device, running job with progress and Cancel, messages) under it.

The loop is a manual `while dpg.is_dearpygui_running()` loop: each frame it reads the playback
clock, applies finished background jobs (`StudioController.poll`), shows the newest decoded
preview frame and refreshes only the widgets whose data changed. Callbacks never block: long
work is queued on the controller's worker.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dearpygui.dearpygui as dpg

from app.studio.session.controller import StudioController
from app.studio.session.frames import FrameFeed
from app.studio.ui import theme
from app.studio.ui.bars import StatusBar, TransportBar
from app.studio.ui.dialogs import Dialogs
from app.studio.ui.inspector import Inspector
from app.studio.ui.object_list import ObjectList
from app.studio.ui.settings_panel import SettingsPanel
from app.studio.ui.shortcuts import STUDIO_SHORTCUTS, key_names, modifiers, shortcut_label
from app.studio.ui.timeline import Timeline
from app.studio.ui.video_view import VideoView
from app.transport import action_for
from video.base.errors import InputError

MENU_H = 24
TRANSPORT_H = 38
STATUS_H = 30
PAD = 6


class StudioWindow:
    """Builds the widgets around a controller and runs the frame loop."""

    def __init__(self, ctl: StudioController) -> None:
        self.ctl = ctl
        self.video = VideoView(ctl)
        self.timeline = Timeline(ctl)
        self.objects = ObjectList(ctl)
        self.inspector = Inspector(ctl)
        self.settings = SettingsPanel(ctl)
        self.transport = TransportBar(ctl, self.run_action)
        self.status = StatusBar(ctl, self.run_action)
        self.dialogs = Dialogs(ctl, self._guard)
        self.feed: FrameFeed | None = None
        self._w: dict[str, Any] = {}
        self._size = (0, 0, 0)
        self._mouse_target: str | None = None
        self._last_click = (0.0, "")
        self._title = ""
        self.mono_font: int | str | None = None
        self._key_names = key_names()

    # -- building -------------------------------------------------------------------------------

    def build(self) -> None:
        theme.apply_theme()
        _, self.mono_font = theme.load_fonts()
        self.dialogs.build()
        self.settings.build()
        w = self._w
        with dpg.window(tag="studio_main", no_scrollbar=True) as w["main"]:
            self._build_menu()
            with dpg.group(horizontal=True):
                with dpg.child_window(width=900, height=600, no_scrollbar=True,
                                      border=False) as w["left"]:
                    with dpg.child_window(height=520, no_scrollbar=True,
                                          border=False) as w["video_panel"]:
                        self.video.build(880, 500)
                    self.transport.build(self.mono_font)
                with dpg.child_window(width=-1, height=600, border=False) as w["right"]:
                    with dpg.child_window(height=260, border=True,
                                          no_scrollbar=True) as w["list_panel"]:
                        self.objects.build()  # its table scrolls, under a fixed header
                    with dpg.child_window(height=-1, border=True) as w["inspector_panel"]:
                        self.inspector.build()
            with dpg.child_window(height=260, border=True, horizontal_scrollbar=False) \
                    as w["timeline_panel"]:
                self.timeline.build(1500)
            with dpg.child_window(height=STATUS_H, no_scrollbar=True, border=False) \
                    as w["status"]:
                self.status.build()
        # layout-only containers paint nothing: the main window's background shows through
        # (each full-size fill costs a frame's worth of pixels on software OpenGL)
        clear = theme.panel_theme((0, 0, 0, 0))
        for key in ("left", "right", "video_panel", "timeline_panel", "status"):
            dpg.bind_item_theme(w[key], clear)
        dpg.set_primary_window(w["main"], True)
        with dpg.handler_registry():
            dpg.add_key_press_handler(callback=self._on_key)
            dpg.add_mouse_click_handler(button=dpg.mvMouseButton_Left, callback=self._on_click)
            dpg.add_mouse_drag_handler(button=dpg.mvMouseButton_Left, threshold=1.0,
                                       callback=self._on_drag)
            dpg.add_mouse_release_handler(button=dpg.mvMouseButton_Left, callback=self._on_release)
            dpg.add_mouse_wheel_handler(callback=self._on_wheel)

    def _menu_item(self, label: str, action: str) -> int | str:
        return dpg.add_menu_item(label=label, shortcut=shortcut_label(action),
                                 callback=lambda: self.run_action(action))

    def _build_menu(self) -> None:
        with dpg.menu_bar():
            with dpg.menu(label="File"):
                self._menu_item("Open video...", "open_video")
                self._menu_item("Open project...", "open_project")
                self._menu_item("Locate video (relink)...", "locate_video")
                dpg.add_separator()
                self._menu_item("Save", "save")
                self._menu_item("Save as...", "save_as")
                dpg.add_separator()
                self._menu_item("Export stems + mix...", "export")
                dpg.add_separator()
                self._menu_item("Quit", "quit")
            with dpg.menu(label="Edit"):
                self._w["undo"] = self._menu_item("Undo", "undo")
                self._w["redo"] = self._menu_item("Redo", "redo")
                dpg.add_separator()
                self._menu_item("Delete object", "delete_object")
                self._menu_item("Trim object's start to the playhead", "trim_start")
                self._menu_item("Trim object's end to the playhead", "trim_end")
                with dpg.menu(label="Merge selected with") as self._w["merge_menu"]:
                    pass
                self._menu_item("Reset object's nudges", "reset")
            with dpg.menu(label="Transport"):
                self._menu_item("Play / pause", "play_pause")
                self._menu_item("Previous event", "prev_event")
                self._menu_item("Next event", "next_event")
                self._menu_item("Loop", "toggle_loop")
                dpg.add_separator()
                self._menu_item("Render settings...", "settings")
                self._menu_item("Render everything again", "render_all")
                self._menu_item("Cancel job", "cancel")
            with dpg.menu(label="View"):
                self._menu_item("Zoom in (or Ctrl+wheel on the timeline)", "zoom_in")
                self._menu_item("Zoom out", "zoom_out")
                self._menu_item("Zoom to fit", "zoom_fit")
            with dpg.menu(label="Help"):
                self._menu_item("Keyboard shortcuts", "help")
            self._w["title_text"] = dpg.add_text("", color=theme.TEXT_DIM)

    def _guard(self, fn: Callable[[], Any]) -> None:
        """Run a controller call; a bad-input error goes to the status bar, not a traceback."""
        try:
            fn()
        except InputError as exc:
            self.ctl.state.error = str(exc)

    # -- actions ------------------------------------------------------------------------------

    def run_action(self, name: str) -> None:
        self._guard(getattr(self, f"act_{name}"))

    def act_play_pause(self) -> None:
        self.ctl.play_pause()

    def act_frame_back(self) -> None:
        self.ctl.step_frames(-1)

    def act_frame_forward(self) -> None:
        self.ctl.step_frames(1)

    def act_prev_event(self) -> None:
        self.ctl.jump_event(-1)

    def act_next_event(self) -> None:
        self.ctl.jump_event(1)

    def act_go_start(self) -> None:
        self.ctl.go_start()

    def act_go_end(self) -> None:
        self.ctl.go_end()

    def act_toggle_loop(self) -> None:
        self.ctl.toggle_loop()

    def act_add_keyframe(self) -> None:
        if self.ctl.state.selected is not None:
            self.ctl.add_keyframe(self.ctl.state.selected)

    def act_toggle_mute(self) -> None:
        sel, project = self.ctl.state.selected, self.ctl.project
        if sel is not None and project is not None:
            self.ctl.set_mute(sel, not project.object_sound(sel).nudges.mute)

    def act_toggle_solo(self) -> None:
        sel, project = self.ctl.state.selected, self.ctl.project
        if sel is not None and project is not None:
            self.ctl.set_solo(sel, not project.object_sound(sel).nudges.solo)

    def act_next_object(self) -> None:
        self.ctl.state.select_step(1)

    def act_prev_object(self) -> None:
        self.ctl.state.select_step(-1)

    def act_delete_object(self) -> None:
        if self.ctl.state.selected is not None:
            self.ctl.delete_object(self.ctl.state.selected)

    def act_trim_start(self) -> None:
        if self.ctl.state.selected is not None:
            self.ctl.trim_start(self.ctl.state.selected)

    def act_trim_end(self) -> None:
        if self.ctl.state.selected is not None:
            self.ctl.trim_end(self.ctl.state.selected)

    def act_reset(self) -> None:
        if self.ctl.state.selected is not None:
            self.ctl.reset_nudges(self.ctl.state.selected)

    def act_cancel(self) -> None:
        self.ctl.cancel()

    def act_undo(self) -> None:
        self.ctl.undo()

    def act_redo(self) -> None:
        self.ctl.redo()

    def act_save(self) -> None:
        if self.ctl.state.project_path is None:
            self.act_save_as()
        else:
            self.ctl.save()

    def act_save_as(self) -> None:
        if self.ctl.project is not None:
            self.dialogs.show("save_as")

    def act_open_video(self) -> None:
        self.dialogs.show("open_video")

    def act_open_project(self) -> None:
        self.dialogs.show("open_project")

    def act_locate_video(self) -> None:
        if self.ctl.project is not None or self.ctl.missing_video is not None:
            self.dialogs.show("locate")

    def act_export(self) -> None:
        if self.ctl.project is not None:
            self.dialogs.show("export")

    def act_render_all(self) -> None:
        self.ctl.render_all()

    def act_zoom_in(self) -> None:
        self.timeline.zoom(2.0)

    def act_zoom_out(self) -> None:
        self.timeline.zoom(0.5)

    def act_zoom_fit(self) -> None:
        self.timeline.zoom_fit()

    def act_settings(self) -> None:
        self.settings.show()

    def act_help(self) -> None:
        self.dialogs.show("help")

    def act_quit(self) -> None:
        """Quit, asking first when there are unsaved changes (also the window's close button)."""
        self.dialogs.unless_unsaved("quit", dpg.stop_dearpygui)

    # -- input --------------------------------------------------------------------------------

    def _on_key(self, sender: Any, key: Any) -> None:
        if self.objects.typing() or self.dialogs.any_open():
            return
        ctrl, shift = modifiers()
        name = self._key_names.get(int(key))
        if name is None:
            return
        action = action_for(name, ctrl=ctrl, shift=shift, shortcuts=STUDIO_SHORTCUTS)
        if action is not None:
            self.run_action(action)

    def _local(self, item: int | str) -> tuple[float, float] | None:
        """Mouse position relative to an item, or None when the mouse is not over it."""
        if not dpg.is_item_hovered(item) and self._mouse_target is None:
            return None
        mx, my = dpg.get_mouse_pos(local=False)
        x0, y0 = dpg.get_item_rect_min(item)
        return mx - x0, my - y0

    def _on_click(self) -> None:
        if self.dialogs.any_open():
            return
        for name, item, target in (("video", self.video.drawlist, self.video),
                                   ("timeline", self.timeline.drawlist, self.timeline)):
            if dpg.is_item_hovered(item):
                pos = self._local(item)
                if pos is None:
                    return
                now = time.monotonic()
                double = self._last_click[1] == name and now - self._last_click[0] < 0.35
                self._last_click = (now, name)
                self._mouse_target = name
                if target is self.timeline:
                    self.timeline.mouse_down(*pos, double=double)
                else:
                    self.video.mouse_down(*pos)
                return

    def _on_drag(self) -> None:
        if self._mouse_target == "video":
            pos = self._local(self.video.drawlist)
            if pos is not None:
                self.video.mouse_drag(*pos)
        elif self._mouse_target == "timeline":
            pos = self._local(self.timeline.drawlist)
            if pos is not None:
                self.timeline.mouse_drag(*pos)

    def _on_wheel(self, sender: Any, delta: Any) -> None:
        """Over the timeline: Ctrl+wheel zooms, Shift+wheel scrolls (plain wheel scrolls lanes)."""
        if not dpg.is_item_hovered(self.timeline.drawlist):
            return
        ctrl, shift = modifiers()
        pos = self._local(self.timeline.drawlist)
        if pos is not None and (ctrl or shift):
            self.timeline.wheel(pos[0], float(delta), zoom=ctrl)

    def _on_release(self) -> None:
        target, self._mouse_target = self._mouse_target, None
        if target == "video":
            self.video.mouse_up()
        elif target == "timeline":
            self.timeline.mouse_up()

    # -- per-frame update ---------------------------------------------------------------------

    def _layout(self) -> None:
        """Size the panels to the viewport (on start and whenever it is resized)."""
        vw, vh = dpg.get_viewport_client_width(), dpg.get_viewport_client_height()
        rows = len(self.ctl.state.object_ids())
        if (vw, vh, rows) == self._size or vw < 200 or vh < 200:
            return
        self._size = (vw, vh, rows)
        w = self._w
        timeline_h = max(170, min(330, int(vh * 0.32)))
        top_h = vh - MENU_H - timeline_h - STATUS_H - 4 * PAD
        left_w = int(vw * 0.62)
        dpg.configure_item(w["left"], width=left_w, height=top_h)
        dpg.configure_item(w["right"], height=top_h)
        dpg.configure_item(w["video_panel"], height=top_h - TRANSPORT_H)
        list_h = int(min(max(84 + 27 * rows, 160), top_h * 0.42))  # the list fits its rows
        dpg.configure_item(w["list_panel"], height=list_h)
        dpg.configure_item(w["timeline_panel"], height=timeline_h)
        self.video.resize(left_w - 4, top_h - TRANSPORT_H - 6)
        self.timeline.resize(vw - 4 * PAD - 18, timeline_h)

    def _update_feed(self) -> None:
        """Open a decoder for the project's video when it changes; ask for the playhead frame."""
        project, source = self.ctl.project, self.ctl.state.source_path
        if project is not None:
            path: str | None = project.video_path
        elif source is not None and source.suffix.lower() != ".json":
            path = str(source)  # show the picture while the analysis runs
        else:
            path = None
        if path is not None and (self.feed is None or self.feed.path != path):
            if not Path(path).is_file():  # a missing video: the picture area says so
                if self.feed is not None:
                    self.feed.close()
                    self.feed = None
                return
            if self.feed is not None:
                self.feed.close()
            self.feed = FrameFeed(path)  # opens the file on its own thread
        feed = self.feed
        if feed is None:
            return
        if feed.error:
            self.ctl.state.error = f"cannot show the video: {feed.error}"
            return
        if feed.ready and feed.info is not None:
            self.video.set_video(feed.info, feed.size)
            feed.request(self.ctl.state.frame_index())
            self.video.show_frame(feed.latest())

    def _update_menus(self) -> None:
        """Undo/redo labels name the step they would undo or redo."""
        undo, redo = self.ctl.history.undo_label, self.ctl.history.redo_label
        dpg.configure_item(self._w["undo"], label=f"Undo {undo}" if undo else "Undo",
                           enabled=undo is not None)
        dpg.configure_item(self._w["redo"], label=f"Redo {redo}" if redo else "Redo",
                           enabled=redo is not None)

    def _update_title(self) -> None:
        state = self.ctl.state
        name = "no video"
        missing = self.ctl.missing_video
        if missing is not None and missing.project_path is not None:
            name = f"{missing.project_path.name} (video not found)"
        elif state.project_path is not None:
            name = state.project_path.name
        elif state.source_path is not None:
            name = state.source_path.name
        title = f"StereoFoley Studio - {name}{' *' if self.ctl.unsaved else ''}"
        if title != self._title:
            self._title = title
            dpg.set_viewport_title(title)
            modified = " (modified)" if self.ctl.unsaved else ""
            dpg.set_value(self._w["title_text"], f"      {name}{modified}")
            self._refresh_merge_menu()

    def _refresh_merge_menu(self) -> None:
        menu = self._w["merge_menu"]
        dpg.delete_item(menu, children_only=True)
        project, sel = self.ctl.project, self.ctl.state.selected
        if project is None or sel is None:
            dpg.add_text("(select an object first)", parent=menu, color=theme.TEXT_DIM)
            return
        for track in project.analysis.objects:
            if track.id != sel:
                dpg.add_menu_item(label=f"{track.id} {track.label}", parent=menu,
                                  callback=lambda s, a, u: self.ctl.merge_objects(*u),
                                  user_data=(sel, track.id))

    def frame(self) -> None:
        """Everything one UI frame does before Dear PyGui draws it."""
        self._layout()
        self.ctl.tick()
        self.ctl.poll()
        self._update_feed()
        self.video.draw_overlay()
        self.timeline.refresh()
        self.objects.refresh()
        self.objects.update_scroll()
        self.timeline.update_scroll(self._w["timeline_panel"])
        self.inspector.refresh()
        self.inspector.update_scroll(self._w["inspector_panel"])
        self.settings.refresh()
        self.transport.update()
        self.status.update()
        self._update_menus()
        self._update_title()
        self.dialogs.offer_relink()
        self.dialogs.offer_recovery()
        project = self.ctl.project
        hint_key = (id(self.ctl.missing_video), id(project),
                    project.video_path if project is not None else None)
        if hint_key != self._w.get("hint_key"):
            self._w["hint_key"] = hint_key
            self.video.set_hint(self.ctl.hint())
        key = (self.ctl.state.selected, self.ctl.state.revision)
        if key != self._w.get("merge_key"):
            self._w["merge_key"] = key
            self._refresh_merge_menu()

    def scroll_lists(self, step: float) -> tuple[float, float]:
        """Scroll the timeline's lanes and the object list by `step` pixels, back to the top
        after the bottom (the benchmark's scrolling); returns the new scroll positions."""
        out = []
        for panel in (self._w["timeline_panel"], self.objects.table):
            top = float(dpg.get_y_scroll_max(panel))
            y = float(dpg.get_y_scroll(panel)) + step
            y = 0.0 if y > top else y
            dpg.set_y_scroll(panel, y)
            out.append(y)
        return out[0], out[1]

    def video_screen_rect(self) -> tuple[float, float, float, float] | None:
        """Where the picture is in the viewport (x0, y0, x1, y1), for checks of screenshots."""
        rect = self.video.rect
        if rect is None:
            return None
        x, y = dpg.get_item_rect_min(self.video.drawlist)
        return x + rect.x, y + rect.y, x + rect.x + rect.width, y + rect.y + rect.height

    def frame_ready(self) -> bool:
        """True when the picture shows the frame at the playhead, or never can (the video is
        missing or unreadable): used before screenshots."""
        if self.feed is None:
            project = self.ctl.project
            return project is not None and not Path(project.video_path).is_file()
        return bool(self.feed.error) or self.video.shown_index == self.ctl.state.frame_index()

    def close(self) -> None:
        if self.feed is not None:
            self.feed.close()
            self.feed = None


def save_screenshot(path: Path) -> None:
    """Ask Dear PyGui to write the next frame to a PNG (it is written during a later frame)."""
    dpg.output_frame_buffer(file=str(path))
