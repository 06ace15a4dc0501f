"""Synthetic clips with known truth: moving objects on a background, their true boxes and events.

Used by the tests (analysis quality is measured against this truth), the bundled demo clip and,
later, the foley model's training-data pipeline. A `SceneSpec` fully determines a clip: the same
spec renders the same pixels on every machine (seeded noise, no global state).

Object kinds (`ObjectSpec.kind`):
  ball      bounces on a floor under gravity; each floor contact is an "impact" event whose strength
            is the change of vertical speed relative to `IMPACT_STRENGTH_REF` frame heights per second
            (video.events: the detector reports strength on the same scale).
            Once a bounce would rise less than `MIN_BOUNCE` frame heights, the ball rolls.
  walker    a stick figure walking along a floor; the body bobs (lowest at each foot contact) and
            every contact is a "step" event.
  box       a rectangle moving at constant velocity (crossing pairs, objects entering/leaving).
  approach  a rectangle whose size grows exponentially (coming toward the camera).
  recede    a rectangle whose size shrinks exponentially (going away).
  slide     a rectangle on the floor, pushed at `t_enter` and decelerating by friction until it
            stops; its start is a "scrape" event.

Slow motion: `with_tempo(spec, k)` plays the same physics k times slower (0 < k <= 1): speeds
scale by k, accelerations (gravity, friction) by k squared, step periods by 1/k, as footage shot
at a high frame rate and shown at the normal one.

Units: positions are fractions of the frame (x of width, y of height); sizes, speeds and
accelerations are in frame heights (per second, per second squared), so a scene keeps its look
at any resolution. True boxes are the whole object clipped to the frame; a frame belongs to an
object's truth only while at least `MIN_VISIBLE` of the object is inside the picture.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from fractions import Fraction

import cv2
import numpy as np

from video.base.atomic import atomic_path
from video.base.errors import InputError
from video.base.tracks import Analysis, Event, Track, VideoInfo
from video.events import IMPACT_STRENGTH_REF
from video.reader import VideoFrame

OBJECT_KINDS = ("ball", "walker", "box", "approach", "recede", "slide")
BACKGROUNDS = ("textured", "noise", "gradient")
MIN_BOUNCE = 0.02    # bounces lower than this (frame heights) end in rolling
MIN_VISIBLE = 0.3    # fraction of an object that must be in frame for the frame to count
_SHIFT = 4           # OpenCV drawing sub-pixel bits
_ONE = 1 << _SHIFT

_PALETTE = ((230, 40, 40), (40, 90, 235), (245, 200, 20), (30, 185, 60), (220, 60, 200),
            (250, 130, 20), (20, 200, 210), (245, 245, 245), (25, 25, 25))


@dataclass(frozen=True)
class ObjectSpec:
    """One moving object of a synthetic scene (see the module docstring for units and kinds)."""

    kind: str
    start: tuple[float, float] = (0.5, 0.5)
    velocity: tuple[float, float] = (0.0, 0.0)
    size: float = 0.12
    color: tuple[int, int, int] = (230, 40, 40)
    t_enter: float = 0.0
    t_exit: float | None = None
    aspect: float = 1.0
    floor: float = 0.9
    gravity: float = 3.0
    restitution: float = 0.7
    step_period: float = 0.5
    bob: float = 0.06
    growth: float = 0.4
    friction: float = 0.3
    depth: int = 0

    def __post_init__(self) -> None:
        if self.kind not in OBJECT_KINDS:
            raise ValueError(f"unknown object kind {self.kind!r} (one of {', '.join(OBJECT_KINDS)})")
        if self.size <= 0 or self.aspect <= 0 or self.step_period <= 0:
            raise ValueError("size, aspect and step_period must be positive")
        if self.t_exit is not None and self.t_exit <= self.t_enter:
            raise ValueError("t_exit must be after t_enter")
        if not 0.0 <= self.restitution < 1.0:
            raise ValueError("restitution must be in [0, 1)")


@dataclass(frozen=True)
class SceneSpec:
    """A whole synthetic clip: frame size, exact frame rate, look, camera pan and objects.

    `noise` is the sensor noise standard deviation in 8-bit levels; `pan` the camera pan in frame
    widths / heights per second (it reverses at the edge of the background canvas); `cuts` are
    shot changes in seconds (each shot gets a new background).

    `views` makes the shots views of ONE place, as a film cuts between shots of the same scene:
    one camera offset (frame widths, heights) per shot (len(cuts) + 1 of them), all on the first
    shot's background, and the objects (the same characters) seen from that camera too.
    `dissolve` (seconds) turns every cut into a cross-fade of that length centred on the cut time.
    """

    width: int = 640
    height: int = 360
    fps: Fraction = Fraction(30)
    duration: float = 4.0
    seed: int = 0
    background: str = "textured"
    noise: float = 2.0
    pan: tuple[float, float] = (0.0, 0.0)
    objects: tuple[ObjectSpec, ...] = ()
    cuts: tuple[float, ...] = field(default=())
    views: tuple[tuple[float, float], ...] = ()
    dissolve: float = 0.0

    def __post_init__(self) -> None:
        if self.width < 16 or self.height < 16:
            raise ValueError(f"frame size too small: {self.width}x{self.height}")
        if not isinstance(self.fps, Fraction) or self.fps <= 0:
            raise ValueError("fps must be a positive Fraction")
        if self.duration <= 0:
            raise ValueError("duration must be positive")
        if self.background not in BACKGROUNDS:
            raise ValueError(f"unknown background {self.background!r}")
        if self.noise < 0:
            raise ValueError("noise must be >= 0")
        if self.views and len(self.views) != len(self.cuts) + 1:
            raise ValueError("views needs one camera offset per shot (len(cuts) + 1)")
        if any(abs(v) > 1.0 for view in self.views for v in view):
            raise ValueError("view offsets must be within one frame (-1..1)")
        if self.dissolve < 0:
            raise ValueError("dissolve must be >= 0")

    @property
    def frame_count(self) -> int:
        """Number of frames: duration rounded to whole frames (at least one)."""
        return max(1, round(Fraction(self.duration).limit_denominator(10**6) * self.fps))

    def time_of(self, index: int) -> float:
        """Presentation time of frame `index` in seconds."""
        return float(Fraction(index) / self.fps)


# ----------------------------------------------------------------------------------------------
# Object motion (pure functions of the spec and a time)


@dataclass(frozen=True)
class _Shape:
    """What to draw for one object at one instant, in pixels."""

    kind: str
    box: tuple[float, float, float, float]
    parts: tuple[tuple[str, np.ndarray], ...]  # ("circle", [cx, cy, r]) or ("poly", (k, 2))


def _ball_bounces(obj: ObjectSpec, height: int, until: float) -> list[tuple[float, float, float]]:
    """Floor contacts of a ball before `until`: (time, speed in, speed out) in px/s.

    Speed out is 0 for the last contact when the ball starts rolling.
    """
    g = obj.gravity * height
    y_max = obj.floor * height - obj.size * height / 2
    t, y, vy = obj.t_enter, obj.start[1] * height, obj.velocity[1] * height
    out: list[tuple[float, float, float]] = []
    while g > 0 and t < until:
        disc = vy * vy + 2 * g * (y_max - y)
        if disc < 0:
            break
        dt = (-vy + math.sqrt(disc)) / g
        if dt <= 1e-9:
            break
        t += dt
        if t >= until:
            break
        v_in = vy + g * dt
        v_out = obj.restitution * v_in
        if v_out * v_out / (2 * g) < MIN_BOUNCE * height:
            out.append((t, v_in, 0.0))
            break
        out.append((t, v_in, v_out))
        y, vy = y_max, -v_out
    return out


def ball_contacts(obj: ObjectSpec, height: int, until: float) -> list[tuple[float, float]]:
    """Floor contacts of a ball before `until`: (time, change of vertical speed in px/s)."""
    return [(t, v_in + v_out) for t, v_in, v_out in _ball_bounces(obj, height, until)]


def _ball_y(obj: ObjectSpec, t: float, height: int,
            bounces: list[tuple[float, float, float]]) -> float:
    """Centre y (px) of a ball at time t: free flight from its start or its last contact."""
    g = obj.gravity * height
    y_max = obj.floor * height - obj.size * height / 2
    prior = [b for b in bounces if b[0] <= t]
    if prior:
        t0, y0, vy = prior[-1][0], y_max, -prior[-1][2]
    else:
        t0, y0, vy = obj.t_enter, obj.start[1] * height, obj.velocity[1] * height
    dt = t - t0
    return min(y0 + vy * dt + 0.5 * g * dt * dt, y_max)


def _circle(cx: float, cy: float, r: float) -> tuple[str, np.ndarray]:
    return ("circle", np.array([cx, cy, r]))


def _poly(points: list[tuple[float, float]]) -> tuple[str, np.ndarray]:
    return ("poly", np.asarray(points, dtype=np.float64))


def _ball_shape(obj: ObjectSpec, t: float, w: int, h: int, bounces: list) -> _Shape:
    r = obj.size * h / 2
    cx = obj.start[0] * w + obj.velocity[0] * h * (t - obj.t_enter)
    cy = _ball_y(obj, t, h, bounces)
    parts = (_circle(cx, cy, r), _circle(cx - 0.3 * r, cy - 0.3 * r, 0.35 * r))
    return _Shape("ball", (cx - r, cy - r, cx + r, cy + r), parts)


def walker_contacts(obj: ObjectSpec, until: float) -> list[float]:
    """Foot-contact times of a walker up to `until` (half a period after entering, then periodic)."""
    out: list[float] = []
    k = 0
    while True:
        t = obj.t_enter + (k + 0.5) * obj.step_period
        if t >= until:
            return out
        out.append(t)
        k += 1


def _walker_shape(obj: ObjectSpec, t: float, w: int, h: int) -> _Shape:
    """A stick figure: head, torso, two legs; lowest (lift 0) at every foot contact."""
    tall = obj.size * h
    phase = math.pi * (t - obj.t_enter) / obj.step_period + math.pi / 2
    lift = obj.bob * tall * abs(math.sin(phase))
    floor = obj.floor * h
    cx = obj.start[0] * w + obj.velocity[0] * h * (t - obj.t_enter)
    top = floor - tall - lift
    head_r = 0.11 * tall
    hip_y = top + 0.55 * tall
    half_body = 0.13 * tall
    stride = 0.22 * tall * math.cos(phase)
    leg = 0.05 * tall
    parts = [_circle(cx, top + head_r, head_r),
             _poly([(cx - half_body, top + 2 * head_r), (cx + half_body, top + 2 * head_r),
                    (cx + half_body, hip_y), (cx - half_body, hip_y)])]
    feet = (cx + stride, cx - stride)
    for foot in feet:
        parts.append(_poly([(cx - leg, hip_y), (cx + leg, hip_y), (foot + leg, floor),
                            (foot - leg, floor)]))
    x0 = min(cx - half_body, min(feet) - leg)
    x1 = max(cx + half_body, max(feet) + leg)
    return _Shape("walker", (x0, top, x1, floor), tuple(parts))


def _rect_shape(obj: ObjectSpec, t: float, w: int, h: int) -> _Shape:
    """A striped rectangle for box / approach / recede / slide objects."""
    dt = t - obj.t_enter
    bh = obj.size * h
    cx = obj.start[0] * w + obj.velocity[0] * h * dt
    cy = obj.start[1] * h + obj.velocity[1] * h * dt
    if obj.kind == "approach":
        bh *= math.exp(obj.growth * dt)
    elif obj.kind == "recede":
        bh *= math.exp(-obj.growth * dt)
    elif obj.kind == "slide":
        v0 = obj.velocity[0] * h
        decel = obj.friction * h * (1 if v0 > 0 else -1)
        t_stop = abs(v0) / (obj.friction * h) if obj.friction > 0 else math.inf
        ts = min(dt, t_stop)
        cx = obj.start[0] * w + v0 * ts - 0.5 * decel * ts * ts
        cy = obj.floor * h - bh / 2
    bw = bh * obj.aspect
    x0, y0, x1, y1 = cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2
    stripe = 0.18 * min(bw, bh)
    parts = (_poly([(x0, y0), (x1, y0), (x1, y1), (x0, y1)]),
             _poly([(x0 + stripe, cy - stripe / 2), (x1 - stripe, cy - stripe / 2),
                    (x1 - stripe, cy + stripe / 2), (x0 + stripe, cy + stripe / 2)]))
    return _Shape(obj.kind, (x0, y0, x1, y1), parts)


def _shape_at(obj: ObjectSpec, t: float, w: int, h: int, bounces: list) -> _Shape | None:
    """The object's shape at time t, or None before it enters / after it exits."""
    if t < obj.t_enter - 1e-9 or (obj.t_exit is not None and t >= obj.t_exit):
        return None
    if obj.kind == "ball":
        return _ball_shape(obj, t, w, h, bounces)
    if obj.kind == "walker":
        return _walker_shape(obj, t, w, h)
    return _rect_shape(obj, t, w, h)


def _visible_box(box: tuple[float, float, float, float], w: int, h: int
                 ) -> tuple[float, float, float, float] | None:
    """The box clipped to the frame, or None if less than MIN_VISIBLE of it is inside."""
    x0, y0, x1, y1 = box
    cx0, cy0, cx1, cy1 = max(x0, 0.0), max(y0, 0.0), min(x1, float(w)), min(y1, float(h))
    full = max(x1 - x0, 1e-9) * max(y1 - y0, 1e-9)
    if cx1 <= cx0 or cy1 <= cy0 or (cx1 - cx0) * (cy1 - cy0) < MIN_VISIBLE * full:
        return None
    return (cx0, cy0, cx1, cy1)


# ----------------------------------------------------------------------------------------------
# Pixels


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    """Value noise in [-1, 1]: a coarse random grid upsampled smoothly to (h, w)."""
    gh, gw = max(2, cells * h // max(w, h) + 2), max(2, cells * w // max(w, h) + 2)
    grid = rng.uniform(-1, 1, (gh, gw)).astype(np.float32)
    return cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)


def _background(spec: SceneSpec, shot: int, canvas_w: int, canvas_h: int) -> np.ndarray:
    """The static background canvas (uint8 RGB) of one shot, in muted mid-tones."""
    rng = np.random.default_rng([spec.seed, 7919, shot])
    base = rng.uniform(70, 150, 3).astype(np.float32)
    tint = rng.uniform(-25, 25, 3).astype(np.float32)
    if spec.background == "gradient":
        ramp = np.linspace(-1, 1, canvas_w, dtype=np.float32)[None, :]
        vert = np.linspace(-1, 1, canvas_h, dtype=np.float32)[:, None]
        lum = 30 * ramp + 15 * vert
    elif spec.background == "noise":
        lum = rng.normal(0, 14, (canvas_h, canvas_w)).astype(np.float32)
        lum += 20 * _smooth_noise(rng, canvas_h, canvas_w, 6)
    else:
        lum = sum((amp * _smooth_noise(rng, canvas_h, canvas_w, cells)
                   for cells, amp in ((4, 30.0), (16, 18.0), (64, 10.0), (200, 6.0))),
                  np.zeros((canvas_h, canvas_w), np.float32))
    img = base[None, None, :] + lum[:, :, None] + tint[None, None, :] * np.tanh(lum / 20)[:, :, None]
    if spec.background == "textured":
        _scatter_marks(img, rng)
    return np.clip(img, 0, 255).astype(np.uint8)


def _scatter_marks(img: np.ndarray, rng: np.random.Generator) -> None:
    """Soft-edged blotches and lines so the background has structure at several scales."""
    h, w = img.shape[:2]
    for _ in range(int(0.00008 * h * w) + 8):
        color = tuple(float(c) for c in rng.uniform(60, 170, 3))
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        if rng.random() < 0.5:
            r = int(rng.integers(2, max(3, h // 20)))
            cv2.circle(img, (x, y), r, color, -1, cv2.LINE_AA)
        else:
            dx, dy = rng.integers(-h // 6, h // 6 + 1, 2)
            cv2.line(img, (x, y), (int(x + dx), int(y + dy)), color, int(rng.integers(1, 4)),
                     cv2.LINE_AA)


def _pan_margin(spec: SceneSpec) -> tuple[int, int]:
    """Extra canvas pixels (x, y) the camera pan needs (capped at one frame; pan ping-pongs)."""
    mx = min(abs(spec.pan[0]) * spec.width * spec.duration, float(spec.width))
    my = min(abs(spec.pan[1]) * spec.height * spec.duration, float(spec.height))
    return int(math.ceil(mx)) + 2, int(math.ceil(my)) + 2


def _triangle(x: float, period: float) -> float:
    """A triangle wave 0..period..0 (camera pan that reverses at the canvas edge)."""
    if period <= 0:
        return 0.0
    m = x % (2 * period)
    return m if m <= period else 2 * period - m


def camera_offset(spec: SceneSpec, t: float) -> tuple[float, float]:
    """Top-left of the visible window on the background canvas at time t (pixels)."""
    mx, my = _pan_margin(spec)
    ox = _triangle(abs(spec.pan[0]) * spec.width * t, mx - 2)
    oy = _triangle(abs(spec.pan[1]) * spec.height * t, my - 2)
    if spec.pan[0] < 0:
        ox = (mx - 2) - ox
    if spec.pan[1] < 0:
        oy = (my - 2) - oy
    return ox, oy


def _draw(img: np.ndarray, shape: _Shape, color: tuple[int, int, int]) -> None:
    """Rasterize one object (anti-aliased, sub-pixel) onto img in place."""
    main = tuple(float(c) for c in color)
    accent = tuple(float(c) * 0.55 + 20 for c in color)
    light = tuple(min(255.0, float(c) * 0.5 + 128) for c in color)
    for i, (kind, data) in enumerate(shape.parts):
        if shape.kind == "ball":
            tone = main if i == 0 else light
        elif shape.kind == "walker":
            tone = (235.0, 190.0, 150.0) if i == 0 else (main if i == 1 else accent)
        else:
            tone = main if i == 0 else accent
        if kind == "circle":
            c = (int(round(data[0] * _ONE)), int(round(data[1] * _ONE)))
            cv2.circle(img, c, int(round(data[2] * _ONE)), tone, -1, cv2.LINE_AA, _SHIFT)
        else:
            pts = np.round(data * _ONE).astype(np.int32).reshape(-1, 1, 2)
            cv2.fillPoly(img, [pts], tone, cv2.LINE_AA, _SHIFT)


def _shot_index(spec: SceneSpec, t: float) -> int:
    return sum(1 for c in spec.cuts if c <= t + 1e-9)


def _view_margin(spec: SceneSpec) -> tuple[int, int]:
    """Canvas pixels (x, y) added on each side for the shots' camera offsets (`views`)."""
    if not spec.views:
        return 0, 0
    return (int(math.ceil(max(abs(v[0]) for v in spec.views) * spec.width)),
            int(math.ceil(max(abs(v[1]) for v in spec.views) * spec.height)))


def _view_shift(spec: SceneSpec, shot: int) -> tuple[float, float]:
    """Camera offset (pixels) of one shot on the shared place (0, 0 without `views`)."""
    if not spec.views:
        return 0.0, 0.0
    vx, vy = spec.views[min(shot, len(spec.views) - 1)]
    return vx * spec.width, vy * spec.height


def _shifted(shape: _Shape, dx: float, dy: float) -> _Shape:
    """The shape moved by (dx, dy) pixels (an object seen from another camera position)."""
    if dx == 0 and dy == 0:
        return shape
    x0, y0, x1, y1 = shape.box
    parts = tuple((kind, data + (np.array([dx, dy, 0.0]) if kind == "circle" else
                                 np.array([dx, dy]))) for kind, data in shape.parts)
    return _Shape(shape.kind, (x0 + dx, y0 + dy, x1 + dx, y1 + dy), parts)


def _canvas_for(spec: SceneSpec, shot: int) -> np.ndarray:
    """The background canvas a shot is filmed on: its own, or the shared place of `views`."""
    mx, my = _pan_margin(spec)
    vx, vy = _view_margin(spec)
    return _background(spec, 0 if spec.views else shot, spec.width + mx + 2 * vx,
                       spec.height + my + 2 * vy)


def _compose(spec: SceneSpec, index: int, canvas: np.ndarray,
             bounces: list[list[tuple[float, float, float]]], shot: int = 0) -> np.ndarray:
    """Frame `index` as shot `shot` films it: the panned background window, the objects back to
    front, sensor noise."""
    t = spec.time_of(index)
    ox, oy = camera_offset(spec, t)
    (mx, my), (dx, dy) = _view_margin(spec), _view_shift(spec, shot)
    ox, oy = ox + mx + dx, oy + my + dy
    shift = np.array([[1, 0, -ox], [0, 1, -oy]], dtype=np.float64)
    img = cv2.warpAffine(canvas, shift, (spec.width, spec.height), flags=cv2.INTER_CUBIC,
                         borderMode=cv2.BORDER_REFLECT)
    for i in sorted(range(len(spec.objects)), key=lambda k: spec.objects[k].depth):
        shape = _shape_at(spec.objects[i], t, spec.width, spec.height, bounces[i])
        if shape is not None:
            _draw(img, _shifted(shape, -dx, -dy), spec.objects[i].color)
    return _add_noise(img, spec, index)


def _dissolve_weight(spec: SceneSpec, t: float) -> tuple[int, float]:
    """(cut number, weight of the next shot) when t is inside a dissolve, else (-1, 0)."""
    half = spec.dissolve / 2
    for k, cut in enumerate(spec.cuts):
        if half > 0 and cut - half <= t + 1e-9 < cut + half:
            return k, (t - (cut - half) + 0.5 / float(spec.fps)) / spec.dissolve
    return -1, 0.0


def _frame(spec: SceneSpec, index: int, canvases: dict[int, np.ndarray],
           bounces: list[list[tuple[float, float, float]]]) -> np.ndarray:
    """Frame `index`, cross-faded between two shots inside a dissolve (`canvases` caches the
    shots' backgrounds)."""
    t = spec.time_of(index)
    cut, weight = _dissolve_weight(spec, t)
    shots = [cut, cut + 1] if cut >= 0 else [_shot_index(spec, t)]
    for stale in set(canvases) - set(shots):  # bounded memory: only the shots of now are kept
        del canvases[stale]
    for shot in shots:
        if shot not in canvases:
            canvases[shot] = _canvas_for(spec, shot)
    if cut < 0:
        return _compose(spec, index, canvases[shots[0]], bounces, shots[0])
    a, b = (_compose(spec, index, canvases[s], bounces, s).astype(np.float32) for s in shots)
    return np.clip(np.rint((1 - weight) * a + weight * b), 0, 255).astype(np.uint8)


def render_frames(spec: SceneSpec) -> Iterator[np.ndarray]:
    """Yield the clip's frames, RGB uint8 (height, width, 3), one at a time (bounded memory)."""
    bounces = _all_ball_bounces(spec)
    canvases: dict[int, np.ndarray] = {}
    for index in range(spec.frame_count):
        yield _frame(spec, index, canvases, bounces)


def video_frames(spec: SceneSpec) -> Iterator[VideoFrame]:
    """The clip as the reader would give it at full size: VideoFrames with index and time."""
    for index, image in enumerate(render_frames(spec)):
        yield VideoFrame(index=index, time=spec.time_of(index), image=image, scale=1.0)


def render_frame(spec: SceneSpec, index: int) -> np.ndarray:
    """One frame by index (the same pixels the iterator yields for it)."""
    if not 0 <= index < spec.frame_count:
        raise IndexError(f"frame {index} out of range 0..{spec.frame_count - 1}")
    return _frame(spec, index, {}, _all_ball_bounces(spec))


def _add_noise(img: np.ndarray, spec: SceneSpec, index: int) -> np.ndarray:
    """Gaussian sensor noise seeded by (scene seed, frame index): deterministic, frame-local."""
    if spec.noise <= 0:
        return img
    rng = np.random.default_rng([spec.seed, 104729, index])
    noise = rng.standard_normal(img.shape, dtype=np.float32) * np.float32(spec.noise)
    return np.clip(np.rint(img.astype(np.float32) + noise), 0, 255).astype(np.uint8)


def _all_ball_bounces(spec: SceneSpec) -> list[list[tuple[float, float, float]]]:
    until = spec.duration + 1.0
    return [_ball_bounces(o, spec.height, o.t_exit if o.t_exit is not None else until)
            if o.kind == "ball" else [] for o in spec.objects]


# ----------------------------------------------------------------------------------------------
# Truth

_LABELS = {"ball": "ball", "walker": "walker", "box": "object", "approach": "object",
           "recede": "object", "slide": "object"}


def _true_events(obj: ObjectSpec, spec: SceneSpec, contacts: list[tuple[float, float]],
                 t_first: float, t_last: float) -> tuple[Event, ...]:
    """Events of one object that happen while it is visible (between t_first and t_last)."""
    h = spec.height
    events: list[Event] = []
    if obj.kind == "ball":
        for t, dv in contacts:
            events.append(Event(t, min(1.0, dv / (IMPACT_STRENGTH_REF * h)), "impact"))
    elif obj.kind == "walker":
        events = [Event(t, 0.5, "step") for t in walker_contacts(obj, spec.duration)]
    elif obj.kind == "slide" and obj.velocity[0] != 0:
        events = [Event(obj.t_enter, min(1.0, abs(obj.velocity[0]) / 2.0), "scrape")]
    return tuple(e for e in events if t_first - 1e-9 <= e.time <= t_last + 1e-9)


def scene_truth(spec: SceneSpec, *, path: str = "") -> Analysis:
    """The true analysis of a scene: one track per object (ids 1..n in spec order) and cuts."""
    w, h = spec.width, spec.height
    bounces = _all_ball_bounces(spec)
    n = spec.frame_count
    tracks = []
    for i, obj in enumerate(spec.objects):
        frames, boxes = [], []
        for index in range(n):
            t = spec.time_of(index)
            shape = _shape_at(obj, t, w, h, bounces[i])
            dx, dy = _view_shift(spec, _shot_index(spec, t))
            vis = _visible_box(_shifted(shape, -dx, -dy).box, w, h) if shape is not None else None
            if vis is not None:
                frames.append(index)
                boxes.append(vis)
        if not frames:
            continue
        contacts = [(t, v_in + v_out) for t, v_in, v_out in bounces[i]]
        events = _true_events(obj, spec, contacts, spec.time_of(frames[0]),
                              spec.time_of(frames[-1]))
        tracks.append(Track(id=i + 1, label=_LABELS[obj.kind], frames=np.asarray(frames),
                            boxes=np.asarray(boxes), events=events,
                            extra={"kind": obj.kind}))
    info = VideoInfo(path=path, width=w, height=h, fps=spec.fps,
                     duration=float(Fraction(n) / spec.fps), frames=n)
    return Analysis(video=info, objects=tuple(tracks), cuts=tuple(c for c in spec.cuts
                                                                   if 0 < c < info.duration))


def write_clip(spec: SceneSpec, path: str | os.PathLike[str], *, crf: int = 18) -> Analysis:
    """Encode the scene to a video file (H.264, GOP 12) and return its true analysis.

    Written to a temporary name beside `path` and renamed, so a failure leaves no partial file.
    """
    from video.encode import write_video

    if spec.width % 2 or spec.height % 2:
        raise InputError(f"H.264 needs an even frame size, got {spec.width}x{spec.height}")
    target = os.fspath(path)
    if not os.path.splitext(target)[1]:
        raise InputError(f"{target}: give the clip a container extension such as .mp4")
    with atomic_path(target) as tmp:
        write_video(tmp, render_frames(spec), spec.fps, gop=12, crf=crf)
    return scene_truth(spec, path=target)


# ----------------------------------------------------------------------------------------------
# Random scenes (training data, fuzzing)


def _random_object(rng: np.random.Generator, kind: str, duration: float, aspect_wh: float,
                   depth: int) -> ObjectSpec:
    """A random object of `kind` that spends most of the clip inside the frame."""
    color = _PALETTE[int(rng.integers(0, len(_PALETTE)))]
    span = aspect_wh  # frame width in frame heights
    direction = 1.0 if rng.random() < 0.5 else -1.0
    t_enter = float(rng.uniform(0, 0.25 * duration))
    if kind == "ball":
        return ObjectSpec("ball", start=(float(rng.uniform(0.2, 0.8)), float(rng.uniform(0.1, 0.4))),
                          velocity=(direction * float(rng.uniform(0.05, 0.3)), 0.0),
                          size=float(rng.uniform(0.06, 0.14)), color=color, t_enter=t_enter,
                          floor=float(rng.uniform(0.8, 0.95)),
                          gravity=float(rng.uniform(2.0, 4.0)),
                          restitution=float(rng.uniform(0.55, 0.8)), depth=depth)
    if kind == "walker":
        speed = float(rng.uniform(0.1, 0.3))
        x0 = 0.15 if direction > 0 else 0.85
        return ObjectSpec("walker", start=(x0, 0.0), velocity=(direction * speed, 0.0),
                          size=float(rng.uniform(0.3, 0.5)), color=color, t_enter=t_enter,
                          floor=float(rng.uniform(0.85, 0.97)),
                          step_period=float(rng.uniform(0.4, 0.65)),
                          bob=float(rng.uniform(0.04, 0.08)), depth=depth)
    if kind in ("approach", "recede"):
        return ObjectSpec(kind, start=(float(rng.uniform(0.3, 0.7)), float(rng.uniform(0.35, 0.65))),
                          velocity=(float(rng.uniform(-0.05, 0.05)), 0.0),
                          size=float(rng.uniform(0.08, 0.14) if kind == "approach"
                                     else rng.uniform(0.3, 0.45)),
                          color=color, t_enter=t_enter, aspect=float(rng.uniform(0.7, 1.6)),
                          growth=float(rng.uniform(0.15, 0.35)), depth=depth)
    if kind == "slide":
        return ObjectSpec("slide", start=(0.2 if direction > 0 else 0.8, 0.0),
                          velocity=(direction * float(rng.uniform(0.4, 0.8)), 0.0),
                          size=float(rng.uniform(0.08, 0.14)), color=color, t_enter=t_enter,
                          aspect=float(rng.uniform(1.0, 2.0)), floor=float(rng.uniform(0.85, 0.97)),
                          friction=float(rng.uniform(0.15, 0.4)), depth=depth)
    speed = float(rng.uniform(0.1, 0.3)) * span  # crosses the frame in 3 to 10 s
    x_start = -0.05 if direction > 0 else 1.05
    return ObjectSpec("box", start=(x_start, float(rng.uniform(0.2, 0.8))),
                      velocity=(direction * speed, 0.0),
                      size=float(rng.uniform(0.08, 0.18)), color=color, t_enter=t_enter,
                      aspect=float(rng.uniform(0.8, 2.2)), depth=depth)


def _object_at_tempo(obj: ObjectSpec, k: float) -> ObjectSpec:
    return replace(obj, velocity=(obj.velocity[0] * k, obj.velocity[1] * k),
                   gravity=obj.gravity * k * k, friction=obj.friction * k * k,
                   step_period=obj.step_period / k, growth=obj.growth * k)


def with_tempo(spec: SceneSpec, tempo: float) -> SceneSpec:
    """The scene played `tempo` times as fast (tempo < 1: slow motion); entry and exit times and
    the clip's length stay, every motion inside it slows down."""
    if not 0.0 < tempo <= 1.0:
        raise ValueError(f"tempo must be in (0, 1], got {tempo}")
    if tempo == 1.0:
        return spec
    return replace(spec, pan=(spec.pan[0] * tempo, spec.pan[1] * tempo),
                   objects=tuple(_object_at_tempo(o, tempo) for o in spec.objects))


def random_scene(seed: int, *, width: int = 640, height: int = 360,
                 fps: Fraction = Fraction(30), duration: float = 4.0,
                 tempo: float = 1.0) -> SceneSpec:
    """A random but reproducible scene: background, noise, maybe a pan, one to four objects
    (at `tempo`: 1 real time, below 1 slow motion; the same seed draws the same scene)."""
    rng = np.random.default_rng([seed, 31337])
    kinds = rng.choice(OBJECT_KINDS, size=int(rng.integers(1, 5)))
    pan = (float(rng.uniform(-0.03, 0.03)), 0.0) if rng.random() < 0.3 else (0.0, 0.0)
    objects = tuple(_random_object(rng, str(k), duration, width / height, depth=i)
                    for i, k in enumerate(kinds))
    return with_tempo(SceneSpec(width=width, height=height, fps=fps, duration=duration,
                                seed=seed, background=str(rng.choice(BACKGROUNDS)),
                                noise=float(rng.uniform(0, 6)), pan=pan, objects=objects), tempo)


# ----------------------------------------------------------------------------------------------
# Long scenes (benchmarks: many objects one after another, or one object for hours)


PACE_TURN_S = 20.0   # a pacing walker (`parade_scene` with crossing 0) turns every 20 s


def parade_scene(duration: float, count: int, *, crossing: float = 10.0, width: int = 640,
                 height: int = 360, fps: Fraction = Fraction(30), seed: int = 0) -> SceneSpec:
    """`count` walkers crossing the frame one after another, their entries spread evenly over
    `duration` s, each taking `crossing` s to cross (so about count·crossing/duration are on
    screen at once), all the same way at one speed (so none overtakes or meets another), each
    on its own floor line, size, pace and colour:
    a long clip whose objects the analysis keeps apart (a drawn walker is recognized as a
    person, and a recognized track is never folded into ambience). `crossing` 0: the walkers
    stay the whole clip, pacing across 70 % of the frame and back (draw the frames with
    `long_frames(spec, turn=PACE_TURN_S)`). Frames via `long_frames` (cheap noise)."""
    if count < 1 or duration <= 0 or crossing < 0:
        raise ValueError("need count >= 1, duration > 0 and crossing >= 0")
    rng = np.random.default_rng([seed, 4242])
    aspect = width / height
    objects = []
    for i in range(count):
        color = tuple(int(c) for c in rng.integers(20, 236, 3))
        size = float(rng.uniform(0.3, 0.45))
        floor = float(rng.uniform(0.62, 0.97))
        pace = float(rng.uniform(0.42, 0.62))
        direction = 1.0 if i % 2 == 0 else -1.0     # pacers start at alternate ends
        if crossing <= 0:
            objects.append(ObjectSpec(
                "walker", start=(0.15 if direction > 0 else 0.85, 0.0),
                velocity=(direction * 0.7 * aspect / PACE_TURN_S, 0.0), size=size,
                color=color, floor=floor, step_period=pace,  # type: ignore[arg-type]
                depth=i))
            continue
        enter = max(0.0, duration - crossing) * i / max(count - 1, 1)
        objects.append(ObjectSpec(
            "walker", start=(-0.1, 0.0), velocity=(1.2 * aspect / crossing, 0.0), size=size,
            color=color, t_enter=enter,  # type: ignore[arg-type]
            t_exit=enter + crossing if enter + crossing < duration else None, floor=floor,
            step_period=pace, depth=i))
    return SceneSpec(width=width, height=height, fps=fps, duration=duration, seed=seed,
                     noise=2.0, objects=tuple(objects))


def long_frames(spec: SceneSpec, *, turn: float = 0.0) -> Iterator[np.ndarray]:
    """The scene's frames, made cheaply enough for clips of an hour: the objects on a static
    background with one of four precomputed sensor-noise patterns (instead of fresh Gaussian
    noise per frame, no pan or cuts). `turn` > 0: every object walks its path for `turn` s,
    then back along it (time mirrored, a triangle wave), so it stays in the frame for good."""
    background = _background(spec, 0, spec.width, spec.height)
    rng = np.random.default_rng([spec.seed, 7])
    level = max(1, int(round(spec.noise)))
    shape = (spec.height, spec.width, 3)
    noise = [(rng.integers(0, level + 1, shape, dtype=np.uint8),
              rng.integers(0, level + 1, shape, dtype=np.uint8)) for _ in range(4)]
    order = sorted(range(len(spec.objects)), key=lambda k: spec.objects[k].depth)
    bounces = _all_ball_bounces(spec)
    for index in range(spec.frame_count):
        t = spec.time_of(index)
        img = background.copy()
        for i in order:
            obj = spec.objects[i]
            at = obj.t_enter + _triangle(t - obj.t_enter, turn) if turn > 0 and t >= \
                obj.t_enter else t
            shape_now = _shape_at(obj, at, spec.width, spec.height, bounces[i])
            if shape_now is not None:
                _draw(img, shape_now, obj.color)
        up, down = noise[index % 4]
        yield cv2.subtract(cv2.add(img, up), down)
