"""Video-view geometry: letterboxing, mouse <-> video pixel mapping, hit-testing and drag boxes.

Plain functions on numbers, so the click and drag behaviour of the video view is tested without a
window. Screen coordinates are the video view drawlist's local pixels; video coordinates are the
source video's pixels (the space of `Track.boxes`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from video.base.tracks import Analysis

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class ViewRect:
    """Where the video sits inside the view: top-left offset and uniform scale (screen px / video px)."""

    x: float
    y: float
    scale: float
    video_w: int
    video_h: int

    @property
    def width(self) -> float:
        return self.video_w * self.scale

    @property
    def height(self) -> float:
        return self.video_h * self.scale

    def to_video(self, sx: float, sy: float) -> tuple[float, float]:
        """Video pixel under a screen point (may lie outside the frame)."""
        return (sx - self.x) / self.scale, (sy - self.y) / self.scale

    def to_screen(self, vx: float, vy: float) -> tuple[float, float]:
        """Screen point of a video pixel."""
        return self.x + vx * self.scale, self.y + vy * self.scale

    def box_to_screen(self, box: Box | np.ndarray) -> Box:
        x0, y0 = self.to_screen(float(box[0]), float(box[1]))
        x1, y1 = self.to_screen(float(box[2]), float(box[3]))
        return x0, y0, x1, y1

    def contains(self, sx: float, sy: float) -> bool:
        return (self.x <= sx <= self.x + self.width) and (self.y <= sy <= self.y + self.height)


def fit_rect(video_w: int, video_h: int, area_w: float, area_h: float) -> ViewRect:
    """Largest centred placement of a video_w x video_h picture inside the area (letterbox)."""
    if video_w <= 0 or video_h <= 0:
        raise ValueError(f"video size must be positive, got {video_w}x{video_h}")
    if area_w <= 0 or area_h <= 0:
        return ViewRect(0.0, 0.0, 1e-6, video_w, video_h)
    scale = min(area_w / video_w, area_h / video_h)
    return ViewRect((area_w - video_w * scale) / 2, (area_h - video_h * scale) / 2, scale,
                    video_w, video_h)


def boxes_at(analysis: Analysis, frame_index: int) -> list[tuple[int, np.ndarray]]:
    """(object id, box) of every object present on a frame (interpolated inside track gaps)."""
    out: list[tuple[int, np.ndarray]] = []
    for track in analysis.objects:
        box = track.box_at(frame_index)
        if box is not None:
            out.append((track.id, box))
    return out


def hit_test(analysis: Analysis, frame_index: int, vx: float, vy: float, *,
             slop: float = 4.0) -> int | None:
    """Id of the object whose box contains the video point; the smallest box wins on overlap.

    `slop` (video pixels) widens each box a little so thin objects can still be clicked.
    """
    best: tuple[float, int] | None = None
    for object_id, box in boxes_at(analysis, frame_index):
        x0, y0, x1, y1 = (float(v) for v in box)
        if x0 - slop <= vx <= x1 + slop and y0 - slop <= vy <= y1 + slop:
            area = (x1 - x0) * (y1 - y0)
            if best is None or area < best[0]:
                best = (area, object_id)
    return None if best is None else best[1]


def drag_box(start: tuple[float, float], end: tuple[float, float], *, width: int, height: int,
             min_size: float = 8.0) -> Box | None:
    """The box a mouse drag draws (video pixels), clipped to the frame; None if too small."""
    x0, x1 = sorted((start[0], end[0]))
    y0, y1 = sorted((start[1], end[1]))
    x0, x1 = max(0.0, x0), min(float(width), x1)
    y0, y1 = max(0.0, y0), min(float(height), y1)
    if x1 - x0 < min_size or y1 - y0 < min_size:
        return None
    return x0, y0, x1, y1


def trajectory(analysis: Analysis, object_id: int, frame_index: int, *,
               history: int = 30) -> np.ndarray:
    """Box centres (n, 2) of the object's last `history` listed frames up to `frame_index`."""
    track = analysis.object(object_id)
    if not len(track):
        return np.zeros((0, 2))
    stop = int(np.searchsorted(track.frames, frame_index, side="right"))
    start = max(0, stop - history)
    return track.centers[start:stop]
