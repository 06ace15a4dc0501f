"""The video view: the preview picture (a raw texture) and the tracking overlay (a drawlist).

Per object on screen: its box in the object's colour (thicker with corner handles when
selected), an id/label tag, its recent trajectory, and a burst that flashes when one of its events
fires. Mouse: click an object to select it; drag on empty picture to draw a box, which starts
user-seeded tracking. All decisions (what is under the mouse, what box was drawn) are made by
`app.studio.session.geometry`; this module only draws and forwards.
"""

from __future__ import annotations

from typing import Any

import dearpygui.dearpygui as dpg
import numpy as np

from app.studio.session.controller import StudioController
from app.studio.session.envelopes import flashing_events
from app.studio.session.frames import PreviewFrame
from app.studio.session.geometry import ViewRect, boxes_at, drag_box, fit_rect, trajectory
from app.studio.ui import theme
from video.base.tracks import VideoInfo


class VideoView:
    """Owns the picture texture, the drawlist and the overlay; see the module doc."""

    def __init__(self, ctl: StudioController) -> None:
        self.ctl = ctl
        self.drawlist: int | str = 0
        self.texture: int | str | None = None
        self.buffer: np.ndarray | None = None
        self.rect: ViewRect | None = None
        self.size = (640.0, 360.0)
        self.shown_index = -1
        self._image: int | str | None = None
        self._overlay: int | str = 0
        self._drag_layer: int | str = 0
        self._hint: int | str = 0
        self._hint_text = ""
        self._banner: int | str = 0
        self._banner_bg: int | str = 0
        self._banner_on = False
        self._overlay_key: Any = None
        self._drag_start: tuple[float, float] | None = None
        self._drag_end: tuple[float, float] | None = None
        self.video_key: tuple[str, int, int] | None = None

    def build(self, width: float, height: float) -> None:
        self.size = (width, height)
        with dpg.drawlist(width=int(width), height=int(height)) as self.drawlist:
            self._hint = dpg.draw_text((20, height / 2 - 10),
                                       "Open a video (Ctrl+O) or a project to begin",
                                       color=theme.TEXT_DIM, size=18)
            self._picture_layer = dpg.add_draw_layer()
            self._overlay = dpg.add_draw_layer()
            self._drag_layer = dpg.add_draw_layer()
            self._banner_bg = dpg.draw_rectangle((12, 12), (12, 40), fill=(0, 0, 0, 170),
                                                 color=(0, 0, 0, 0), show=False)
            self._banner = dpg.draw_text((20, 16), "", size=18, color=theme.TEXT, show=False)

    def resize(self, width: float, height: float) -> None:
        """Fit the drawlist (and the picture inside it) to a new panel size."""
        width, height = max(width, 64.0), max(height, 48.0)
        if (width, height) == self.size:
            return
        self.size = (width, height)
        dpg.configure_item(self.drawlist, width=int(width), height=int(height))
        self._place_picture()
        self._overlay_key = None

    # -- picture ---------------------------------------------------------------------------

    def set_video(self, info: VideoInfo, preview_size: tuple[int, int]) -> None:
        """Prepare a texture of the preview size for another video (replacing the old one)."""
        key = (info.path, *preview_size)
        if key == self.video_key:
            return
        self.video_key = key
        pw, ph = preview_size
        if self._image is not None:
            dpg.delete_item(self._image)
            self._image = None
        if self.texture is not None:
            dpg.delete_item(self.texture)
        self.buffer = np.zeros((ph, pw, 3), dtype=np.float32)
        with dpg.texture_registry():
            # a raw texture reads this buffer in place: a new picture costs one array write
            # (a dynamic texture's set_value copies it through Python, ~7 ms at 640x360)
            self.texture = dpg.add_raw_texture(pw, ph, self.buffer.reshape(-1),  # type: ignore[arg-type]
                                               format=dpg.mvFormat_Float_rgb)
        self._image = dpg.draw_image(self.texture, (0, 0), (1, 1), parent=self._picture_layer)
        self.rect = None
        self.shown_index = -1
        self._video_info = info
        dpg.configure_item(self._hint, show=False)
        self._place_picture()

    def set_hint(self, text: str) -> None:
        """What the picture area says while there is no picture (`StudioController.hint`)."""
        if text != self._hint_text:
            self._hint_text = text
            dpg.configure_item(self._hint, text=text)

    def _place_picture(self) -> None:
        if self.buffer is None or self._image is None:
            return
        info = self._video_info
        self.rect = fit_rect(info.width, info.height, *self.size)
        x0, y0, x1, y1 = self.rect.box_to_screen((0, 0, info.width, info.height))
        dpg.configure_item(self._image, pmin=(x0, y0), pmax=(x1, y1))

    def show_frame(self, frame: PreviewFrame | None) -> None:
        """Copy a decoded preview picture into the texture (only when it is a new one)."""
        if frame is None or self.buffer is None or frame.index == self.shown_index:
            return
        if frame.image.shape[:2] != self.buffer.shape[:2]:
            return
        np.multiply(frame.image, np.float32(1.0 / 255.0), out=self.buffer, casting="unsafe")
        self.shown_index = frame.index

    # -- overlay -----------------------------------------------------------------------------

    def show_banner(self, text: str) -> None:
        """A line over the picture while it has no overlay yet ("Analysing clip.mp4: 40 %")."""
        shown = bool(text)
        dpg.configure_item(self._banner, text=text, show=shown)
        dpg.configure_item(self._banner_bg, pmax=(28 + 9.5 * len(text), 40), show=shown)

    def draw_overlay(self) -> None:
        """Redraw boxes, labels, trajectories and event flashes when anything they show changed."""
        state, project = self.ctl.state, self.ctl.project
        status = self.ctl.worker.status()
        loading = project is None and status is not None
        if status is not None and loading:
            self.show_banner(f"{status.name}: {status.fraction * 100:.0f} %  {status.message}")
        elif self._banner_on:
            self.show_banner("")
        self._banner_on = loading
        if project is None or self.rect is None:
            return
        frame = state.frame_index()
        flashes = {t.id: flashing_events(t, state.playhead) for t in project.analysis.objects}
        flash_key = tuple((i, round(f[0][1], 1)) for i, f in flashes.items() if f)
        key = (frame, state.revision, state.selected, flash_key, self.size)
        if key == self._overlay_key:
            return
        self._overlay_key = key
        dpg.delete_item(self._overlay, children_only=True)
        muted = {o.id for o in project.objects if o.nudges.mute}
        for object_id, box in boxes_at(project.analysis, frame):
            self._draw_object(object_id, box, frame, selected=object_id == state.selected,
                              muted=object_id in muted, flashes=flashes.get(object_id, []))

    def _draw_object(self, object_id: int, box: np.ndarray, frame: int, *, selected: bool,
                     muted: bool, flashes: list) -> None:
        assert self.rect is not None and self.ctl.project is not None
        alpha = 110 if muted else 255
        colour = theme.object_colour(object_id, alpha=alpha)
        x0, y0, x1, y1 = self.rect.box_to_screen(box)
        path = trajectory(self.ctl.project.analysis, object_id, frame)
        if path.shape[0] >= 2:
            pts = [list(self.rect.to_screen(float(px), float(py))) for px, py in path]
            dpg.draw_polyline(pts, color=theme.object_colour(object_id, alpha=120), thickness=2,
                              parent=self._overlay)
        if selected:
            dpg.draw_rectangle((x0, y0), (x1, y1), color=colour, thickness=3,
                               fill=theme.object_colour(object_id, alpha=28), parent=self._overlay)
            for cx, cy in ((x0, y0), (x1, y0), (x0, y1), (x1, y1)):
                dpg.draw_rectangle((cx - 4, cy - 4), (cx + 4, cy + 4), color=colour,
                                   fill=colour, parent=self._overlay)
        else:
            dpg.draw_rectangle((x0, y0), (x1, y1), color=colour, thickness=2,
                               parent=self._overlay)
        track = self.ctl.project.analysis.object(object_id)
        text = f"{object_id} {track.label}" + ("  (muted)" if muted else "")
        tag_w = 8 + 7.5 * len(text)
        ty = max(y0 - 20, 0)
        dpg.draw_rectangle((x0, ty), (x0 + tag_w, ty + 19), color=colour, fill=colour,
                           parent=self._overlay)
        dpg.draw_text((x0 + 4, ty + 2), text, color=(15, 15, 15, 255), size=15,
                      parent=self._overlay)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        for event, fade in flashes:
            radius = 8 + (1.0 - fade) * 0.5 * max(x1 - x0, y1 - y0)
            burst = (255, 255, 255, int(230 * fade))
            dpg.draw_circle((cx, cy), radius, color=burst, thickness=3, parent=self._overlay)
            dpg.draw_text((x1 + 4, y1 - 18), event.kind, color=burst, size=16,
                          parent=self._overlay)

    # -- mouse -----------------------------------------------------------------------------

    def mouse_down(self, sx: float, sy: float) -> None:
        """Left button pressed at drawlist point: select the object there or start a box drag."""
        if self.rect is None or not self.rect.contains(sx, sy):
            return
        vx, vy = self.rect.to_video(sx, sy)
        if self.ctl.select_at(vx, vy) is None:
            self._drag_start = (vx, vy)
            self._drag_end = (vx, vy)

    def mouse_drag(self, sx: float, sy: float) -> None:
        if self._drag_start is None or self.rect is None:
            return
        self._drag_end = self.rect.to_video(sx, sy)
        dpg.delete_item(self._drag_layer, children_only=True)
        a = self.rect.to_screen(*self._drag_start)
        b = self.rect.to_screen(*self._drag_end)
        dpg.draw_rectangle(a, b, color=theme.ACCENT, thickness=2, fill=theme.ACCENT_DIM,
                           parent=self._drag_layer)
        dpg.draw_text((min(a[0], b[0]) + 4, min(a[1], b[1]) + 4), "track this", size=15,
                      color=(20, 20, 20, 255), parent=self._drag_layer)

    def mouse_up(self) -> None:
        """Button released: a big enough dragged box starts seeded tracking."""
        start, end = self._drag_start, self._drag_end
        self._drag_start = self._drag_end = None
        dpg.delete_item(self._drag_layer, children_only=True)
        if start is None or end is None or self.ctl.project is None:
            return
        video = self.ctl.project.analysis.video
        box = drag_box(start, end, width=video.width, height=video.height)
        if box is not None:
            self.ctl.track_from_box(box)
