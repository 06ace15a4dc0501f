"""The timeline: ruler, mix waveform, selected stem waveform, one lane per object, playhead.

Each object lane shows its event ticks (height = strength; silent markers, a hand letting go,
thin and grey) and its pan curve over time (top = right, bottom = left) with its pan keyframes
as handles. Click on the ruler or a waveform to
seek; in an object lane, click selects the object, a click on a keyframe handle drags it
(time and pan), and double-click adds a keyframe there. The static drawing is rebuilt only when
the project, the render, the size or the lanes in view changed; the playhead moves every frame.

Only the lanes in (or next to) the scrolled panel's view are drawn, so a project with a hundred
objects costs what the dozen lanes on screen cost, and scrolling redraws a screenful. Waveforms of
a long project come from the stems' overviews (several zoom levels, see `audio.overview`): each
lane reads only the buckets of its view at its width, never the samples.
"""

from __future__ import annotations

from typing import Any

import dearpygui.dearpygui as dpg
import numpy as np

from app.studio.session.controller import StudioController
from app.studio.session.envelopes import pan_curve, waveform_image
from app.studio.session.scrolling import hidden_rows, reveal_scroll, scroll_hint, visible_band
from app.studio.session.timecode import format_clock
from app.studio.session.timeline_layout import (
    COMPACT_BELOW_PX,
    HEADER_W,
    RULER_H,
    Lane,
    TimelineLayout,
    follow_view,
    header_button_at,
    header_buttons,
    keyframe_at,
    ruler_ticks,
    scroll_view,
    zoom_view,
)
from app.studio.ui import theme
from audio.nudges import Nudges
from audio.overview import Overview
from video.base.timebase import SAMPLE_RATE
from video.base.tracks import SILENT_KINDS

PANEL_PAD = 8.0  # the panel's window padding above the drawlist (theme: WindowPadding)


class Timeline:
    """Owns the timeline drawlist; see the module doc."""

    def __init__(self, ctl: StudioController) -> None:
        self.ctl = ctl
        self.drawlist: int | str = 0
        self.width = 800.0
        self.layout = TimelineLayout(self.width, 0.0)
        self._static: int | str = 0
        self._playhead: int | str = 0
        self._key: Any = None
        self._dragging: tuple[int, int] | None = None
        self._seeking = False
        self._textures: dict[Any, tuple[np.ndarray | Overview, int | str]] = {}  # waveforms shown
        self._used: set[Any] = set()
        self._loop_layer: int | str = 0
        self._loop_key: Any = None
        self.view: tuple[float, float] | None = None
        self._hint_layer: int | str = 0
        self._hint_key: Any = None
        self._revealed: int | None = None
        self._band: tuple[float, float] | None = None   # the panel's visible content, last frame
        self.compact = False
        self.lanes_drawn = 0
        """How many lanes the last redraw drew (the others are out of view)."""

    def build(self, width: float) -> None:
        self.width = width
        with dpg.drawlist(width=int(width), height=200) as self.drawlist:
            self._static = dpg.add_draw_layer()
            self._loop_layer = dpg.add_draw_layer()
            self._playhead = dpg.draw_line((HEADER_W, 0), (HEADER_W, 200), color=theme.ACCENT,
                                           thickness=2)
            self._hint_layer = dpg.add_draw_layer()

    def resize(self, width: float, panel_height: float | None = None) -> None:
        self.width = max(width, HEADER_W + 50)
        if panel_height is not None:
            self.compact = panel_height < COMPACT_BELOW_PX

    # -- drawing ------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Rebuild the static lanes if needed and move the playhead."""
        state, project = self.ctl.state, self.ctl.project
        ids = tuple(state.object_ids())
        if self.view is not None and self.view[1] > state.duration:
            self.view = None  # another, shorter clip was opened
        layout = TimelineLayout(self.width, state.duration, ids, self.view, self.compact)
        if self.ctl.audio.playing:  # page along with the playhead, as DAWs do
            self.view = follow_view(layout, state.playhead)
            layout = TimelineLayout(self.width, state.duration, ids, self.view, self.compact)
        shown = self._shown_lanes(layout)
        key = (state.revision, state.selected, self.width, self.compact, id(state.render.mix),
               tuple(sorted(state.stale)), self.view, shown)
        if key != self._key:
            self._key = key
            self.layout = layout
            dpg.configure_item(self.drawlist, width=int(self.width), height=int(layout.height))
            dpg.delete_item(self._static, children_only=True)
            self._used.clear()
            self._draw_static(project is not None, shown)
            for stale in set(self._textures) - self._used:  # waveforms no longer shown
                dpg.delete_item(self._textures.pop(stale)[1])
        self._draw_loop()
        x = self.layout.x_of(state.playhead)
        dpg.configure_item(self._playhead, p1=(x, 0), p2=(x, self.layout.height))

    def _shown_lanes(self, layout: TimelineLayout) -> tuple[int, int]:
        """[first, last) indices of the lanes to draw: those in the panel's view last frame,
        plus a screenful's margin either side (a short scroll needs no redraw); before the
        panel reported its view, the first 1000 px."""
        lanes = layout.lanes()
        top, bottom = self._band if self._band is not None else (0.0, 1000.0)
        margin = bottom - top
        top, bottom = top - PANEL_PAD - margin, bottom - PANEL_PAD + margin
        inside = [i for i, lane in enumerate(lanes) if lane.y1 >= top and lane.y0 <= bottom]
        if not inside:
            return (0, 0)
        # quantize to whole screens so that scrolling within one keeps the drawing
        step = max(1, len(inside) // 3)
        first = inside[0] // step * step
        return first, min(len(lanes), -(-(inside[-1] + 1) // step) * step)

    # -- scrolling (the panel around the drawlist scrolls the lanes) ----------------------------

    def lane_bands(self) -> list[tuple[int, float, float]]:
        """(object id, top, bottom) of each object lane in the panel's content (the drawlist
        sits one window padding below the panel's top)."""
        return [(lane.object_id, PANEL_PAD + lane.y0, PANEL_PAD + lane.y1)
                for lane in self.layout.lanes() if lane.kind == "object"
                and lane.object_id is not None]

    def content_height(self) -> float:
        return self.layout.height + 2 * PANEL_PAD

    def update_scroll(self, panel: int | str) -> None:
        """Bring the selected object's lane into view once after it was selected, and draw
        "N more below: scroll" at the edge of the visible lanes when some are out of view."""
        bands = self.lane_bands()
        scroll, scroll_max = float(dpg.get_y_scroll(panel)), float(dpg.get_y_scroll_max(panel))
        content = self.content_height()
        selected = self.ctl.state.selected
        if selected != self._revealed and bands:
            self._revealed = selected
            lane = next(((t, b) for oid, t, b in bands if oid == selected), None)
            if lane is not None:
                target = reveal_scroll(scroll, scroll_max, content, lane)
                if target != scroll:
                    dpg.set_y_scroll(panel, target)
                    scroll = target
        band = visible_band(scroll, scroll_max, content)
        self._band = band
        above, below = hidden_rows([(t, b) for _, t, b in bands], band)
        key = (above, below, band)
        if key == self._hint_key:
            return
        self._hint_key = key
        dpg.delete_item(self._hint_layer, children_only=True)
        for count, where, y in ((above, "above", band[0] - PANEL_PAD + 2),
                                (below, "below", band[1] - PANEL_PAD - 20)):
            if count:
                text = scroll_hint(0, count) if where == "below" else scroll_hint(count, 0)
                dpg.draw_rectangle((2, y), (HEADER_W + 40, y + 18), fill=(20, 20, 24, 235),
                                   color=theme.ACCENT, parent=self._hint_layer)
                dpg.draw_text((8, y + 2), text, size=13, color=theme.ACCENT,
                              parent=self._hint_layer)

    def _draw_loop(self) -> None:
        """The loop region as a band on the ruler and a tint over the lanes."""
        transport = self.ctl.transport
        loop = transport.loop_seconds if transport is not None else None
        key = (loop, self.layout)
        if key == self._loop_key:
            return
        self._loop_key = key
        dpg.delete_item(self._loop_layer, children_only=True)
        if loop is None:
            return
        x0, x1 = self.layout.x_of(loop[0]), self.layout.x_of(loop[1])
        dpg.draw_rectangle((x0, RULER_H - 5), (x1, RULER_H), fill=theme.ACCENT,
                           color=theme.ACCENT, parent=self._loop_layer)
        dpg.draw_rectangle((x0, RULER_H), (x1, self.layout.height), fill=(255, 166, 43, 22),
                           color=(255, 166, 43, 90), parent=self._loop_layer)

    def _draw_static(self, have_project: bool, shown: tuple[int, int]) -> None:
        layout, render = self.layout, self.ctl.state.render
        selected = self.ctl.state.selected
        lanes = layout.lanes()[shown[0]:shown[1]]
        self.lanes_drawn = len(lanes)
        for lane in lanes:
            self._draw_lane_frame(lane)
            if lane.kind == "ruler":
                self._draw_ruler(lane)
            elif lane.kind == "mix":
                self._draw_wave(lane, render.mix_overview or render.mix, theme.WAVE)
            elif lane.kind == "stem" and selected is not None:
                self._draw_wave(lane, render.overviews.get(selected)
                                or render.stems.get(selected), theme.object_colour(selected))
            elif lane.kind == "object" and lane.object_id is not None and have_project:
                self._draw_object_lane(lane, lane.object_id)

    def _lane_title(self, lane: Lane) -> tuple[str, tuple[int, int, int, int]]:
        state, project = self.ctl.state, self.ctl.project
        if lane.kind == "mix":
            return "Mix", theme.TEXT
        if lane.kind == "stem":
            if state.selected is None:
                return "Stem (select)", theme.TEXT_DIM
            return f"Stem {state.selected}", theme.object_colour(state.selected)
        if lane.kind == "object" and project is not None and lane.object_id is not None:
            track = project.analysis.object(lane.object_id)
            stale = " …" if lane.object_id in state.stale else ""
            return f"{lane.object_id} {track.label[:8]}{stale}", theme.object_colour(
                lane.object_id)
        return "", theme.TEXT

    def _draw_lane_frame(self, lane: Lane) -> None:
        parent, w = self._static, self.width
        if lane.kind == "ruler":
            return
        selected = lane.object_id is not None and lane.object_id == self.ctl.state.selected
        if selected:  # other lanes show the window's background (less overdraw)
            fill = (48, 44, 38, 255)
            dpg.draw_rectangle((HEADER_W, lane.y0), (w, lane.y1), fill=fill, color=fill,
                               parent=parent)
        dpg.draw_line((HEADER_W, lane.y1 + 1), (w, lane.y1 + 1), color=theme.BORDER,
                      parent=parent)
        dpg.draw_rectangle((0, lane.y0), (HEADER_W - 2, lane.y1), fill=(38, 40, 45, 255),
                           color=(38, 40, 45, 255), parent=parent)
        title, colour = self._lane_title(lane)
        if lane.kind == "object":
            dpg.draw_rectangle((0, lane.y0), (4, lane.y1), fill=colour, color=colour,
                               parent=parent)
        dpg.draw_text((10, lane.mid - 8), title, color=colour, size=15, parent=parent)
        if lane.kind == "object" and lane.object_id is not None and self.ctl.project is not None:
            self._draw_header_buttons(lane, self.ctl.project.object_sound(lane.object_id).nudges)

    def _draw_header_buttons(self, lane: Lane, nudges: Nudges) -> None:
        """Mute and solo buttons in the lane header, lit when on (as on a mixer strip)."""
        lit = {"mute": (230, 80, 70, 255) if nudges.mute else None,
               "solo": (240, 200, 60, 255) if nudges.solo else None}
        for name, (x0, y0, x1, y1) in header_buttons(lane).items():
            fill = lit[name] or (58, 62, 70, 255)
            dpg.draw_rectangle((x0, y0), (x1, y1), fill=fill, color=theme.BORDER, rounding=3,
                               parent=self._static)
            text = (20, 20, 20, 255) if lit[name] else theme.TEXT_DIM
            dpg.draw_text((x0 + 4, y0 + 1), name[0].upper(), size=13, color=text,
                          parent=self._static)

    def _draw_ruler(self, lane: Lane) -> None:
        layout, parent = self.layout, self._static
        for t in ruler_ticks(layout):
            x = layout.x_of(t)
            dpg.draw_line((x, lane.y1 - 7), (x, lane.y1), color=theme.TEXT_DIM, parent=parent)
            dpg.draw_text((x + 3, lane.y0 + 2), format_clock(t)[:-2], color=theme.TEXT_DIM,
                          size=13, parent=parent)
        for cut in (self.ctl.project.analysis.cuts if self.ctl.project else ()):
            if not layout.visible(cut):
                continue
            x = layout.x_of(cut)
            dpg.draw_line((x, lane.y0), (x, lane.y1), color=theme.ERROR, thickness=2,
                          parent=parent)

    def _draw_wave(self, lane: Lane, envelope: np.ndarray | Overview | None,
                   colour: tuple[int, int, int, int]) -> None:
        """The lane's waveform as one texture (rasterized once per render and view, see
        waveform_image): from an overview, only the view's buckets at the lane's width."""
        layout, parent = self.layout, self._static
        dpg.draw_line((HEADER_W, lane.mid), (self.width, lane.mid), color=theme.GRID,
                      parent=parent)
        if envelope is None or self.ctl.state.render.duration <= 0:
            return
        width, height = max(int(layout.track_w), 1), max(int(lane.y1 - lane.y0) - 4, 2)
        key = (id(envelope), width, height, layout.start, layout.end, colour)
        cached = self._textures.get(key)
        texture = cached[1] if cached is not None else None
        if texture is None:  # the envelope, size or view changed: rasterize again
            if isinstance(envelope, Overview):
                coarse = envelope.level(len(envelope.levels) - 1)
                peak = max(float(np.max(np.abs(coarse))) if coarse.size else 0.0, 0.05)
                view = envelope.envelope(round(layout.start * SAMPLE_RATE),
                                         round(layout.end * SAMPLE_RATE), width)
            else:
                n, total = envelope.shape[1], self.ctl.state.render.duration
                b0 = min(int(np.floor(layout.start / total * n)), n - 1)
                b1 = max(int(np.ceil(layout.end / total * n)), b0 + 1)
                peak = max(float(np.max(np.abs(envelope))), 0.05)
                view = envelope[:, b0:b1]
            image = waveform_image(view, width=width, height=height, colour=colour, peak=peak)
            with dpg.texture_registry():
                texture = dpg.add_static_texture(width, height, image.reshape(-1))  # type: ignore[arg-type]
            # the entry keeps the envelope alive, so its id() cannot be reused while cached
            self._textures[key] = (envelope, texture)
        self._used.add(key)
        dpg.draw_image(texture, (HEADER_W, lane.y0 + 2), (HEADER_W + width, lane.y0 + 2 + height),
                       parent=parent)

    def _draw_object_lane(self, lane: Lane, object_id: int) -> None:
        project, layout, parent = self.ctl.project, self.layout, self._static
        assert project is not None
        track = project.analysis.object(object_id)
        sound = project.object_sound(object_id)
        colour = theme.object_colour(object_id)
        if len(track):
            t0 = project.analysis.video.time_of_frame(int(track.frames[0]))
            t1 = project.analysis.video.time_of_frame(int(track.frames[-1]))
            dpg.draw_rectangle((layout.x_of(t0), lane.y0 + 1), (layout.x_of(t1), lane.y1 - 1),
                               fill=theme.object_colour(object_id, alpha=26),
                               color=theme.object_colour(object_id, alpha=60), parent=parent)
        dpg.draw_line((HEADER_W, lane.mid), (self.width, lane.mid), color=theme.GRID,
                      parent=parent)
        for event in track.events:
            if not layout.visible(event.time):
                continue
            x = layout.x_of(event.time)
            h = (lane.y1 - lane.y0 - 4) * (0.35 + 0.65 * event.strength)
            silent = event.kind in SILENT_KINDS     # a marker (a hand letting go): no sound
            dpg.draw_line((x, lane.y1 - 2), (x, lane.y1 - 2 - h),
                          color=(150, 150, 150, 150) if silent else (235, 235, 235, 200),
                          thickness=1 if silent else 2, parent=parent)
        times, pans = pan_curve(track, project.analysis.video, sound.nudges)
        shown = (times >= layout.start - 0.02) & (times <= layout.end + 0.02)
        times, pans = times[shown], pans[shown]
        if times.size >= 2:
            step = max(1, times.size // max(int(layout.track_w) // 3, 1))  # a point per 3 px
            pts = np.stack([layout.xs_of(times[::step]), lane.pans_to_y(pans[::step])], axis=1)
            dpg.draw_polyline(pts.tolist(), color=colour, thickness=2, parent=parent)
        for key in sound.nudges.pan_keyframes:
            if not layout.visible(key.time):
                continue
            x, y = layout.x_of(key.time), lane.pan_to_y(key.pan)
            dpg.draw_quad((x, y - 6), (x + 6, y), (x, y + 6), (x - 6, y), color=(20, 20, 20, 255),
                          fill=theme.ACCENT, parent=parent)
        dpg.draw_text((self.width - 16, lane.y0 + 1), "R", size=12, color=theme.TEXT_DIM,
                      parent=parent)
        dpg.draw_text((self.width - 16, lane.y1 - 14), "L", size=12, color=theme.TEXT_DIM,
                      parent=parent)

    # -- mouse -----------------------------------------------------------------------------

    def mouse_down(self, x: float, y: float, *, double: bool = False) -> None:
        """Seek, select a lane's object, grab a keyframe, or (double-click) add one."""
        lane = self.layout.lane_at(y)
        if lane is None or x < HEADER_W:
            if lane is not None and lane.object_id is not None and self.ctl.project is not None:
                button = header_button_at(lane, x, y)
                nudges = self.ctl.project.object_sound(lane.object_id).nudges
                if button == "mute":
                    self.ctl.set_mute(lane.object_id, not nudges.mute)
                elif button == "solo":
                    self.ctl.set_solo(lane.object_id, not nudges.solo)
                else:
                    self.ctl.select(lane.object_id)
            return
        t = self.layout.time_of(x)
        if lane.kind != "object" or lane.object_id is None or self.ctl.project is None:
            self._seeking = True
            self.ctl.seek(t)
            return
        object_id = lane.object_id
        self.ctl.select(object_id)
        keys = [(k.time, k.pan) for k in
                self.ctl.project.object_sound(object_id).nudges.pan_keyframes]
        hit = keyframe_at(keys, self.layout, lane, x, y)
        if double and hit is None:
            self.ctl.add_keyframe(object_id, t, lane.y_to_pan(y))
        elif hit is not None:
            self._dragging = (object_id, hit)
        else:
            self._seeking = True
            self.ctl.seek(t)

    def mouse_drag(self, x: float, y: float) -> None:
        if self._seeking:
            self.ctl.seek(self.layout.time_of(x), scrub=True)  # audible grains while paused
            return
        if self._dragging is None:
            return
        object_id, index = self._dragging
        lane = self.layout.object_lane(object_id)
        if lane is not None:
            self.ctl.move_keyframe(object_id, index, time_s=self.layout.time_of(x),
                                   pan=lane.y_to_pan(y))

    def wheel(self, x: float, delta: float, *, zoom: bool) -> None:
        """Ctrl+wheel zooms around the time under the mouse; Shift+wheel scrolls in time."""
        if zoom:
            self.view = zoom_view(self.layout, 1.25 ** delta, self.layout.time_of(x))
        else:
            self.view = scroll_view(self.layout, -0.15 * delta)

    def zoom_fit(self) -> None:
        self.view = None

    def zoom(self, factor: float) -> None:
        """Zoom around the playhead (menu and keyboard)."""
        self.view = zoom_view(self.layout, factor, self.ctl.state.playhead)

    def mouse_up(self) -> None:
        if self._dragging is not None:
            self.ctl.end_drag()
        self._dragging = None
        self._seeking = False
