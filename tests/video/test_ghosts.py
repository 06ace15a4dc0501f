"""Ghosts: an object that was part of the background leaves, and its old place must not be
detected (and tracked) as an object; real objects, also over background features, are kept."""

from __future__ import annotations

from fractions import Fraction

import cv2
import numpy as np
import pytest

from video.motion import MotionConfig, MotionDetector, ghost_mask
from video.synth import ObjectSpec, SceneSpec, render_frames
from video.tracker import iou_matrix

H, W = 180, 320
RED = (230.0, 40.0, 40.0)


def _texture(rng: np.random.Generator) -> np.ndarray:
    """Smooth coloured texture with fine grain, float32 (H, W, 3)."""
    coarse = rng.uniform(40, 200, (H // 30, W // 30, 3)).astype(np.float32)
    img = cv2.resize(coarse, (W, H), interpolation=cv2.INTER_CUBIC)
    return np.clip(img + rng.normal(0, 6, (H, W, 3)), 0, 255).astype(np.float32)


def _with_box(image: np.ndarray, box: tuple[int, int, int, int], color: tuple[float, ...],
              alpha: float = 1.0) -> np.ndarray:
    x0, y0, x1, y1 = box
    out = image.copy()
    out[y0:y1, x0:x1] = (1 - alpha) * out[y0:y1, x0:x1] + alpha * np.float32(color)
    return out


def _mask(box: tuple[int, int, int, int]) -> np.ndarray:
    x0, y0, x1, y1 = box
    mask = np.zeros((H, W), np.uint8)
    mask[y0:y1, x0:x1] = 1
    return mask


BOX = (100, 60, 160, 110)


@pytest.mark.parametrize("case, ghost", [
    ("object", False),            # a real object over plain texture
    ("object_on_line", False),    # a real object whose outline runs along a bright background line
    ("ghost", True),              # the background still holds an object that has left
    ("faint_ghost", True),        # ... only partly learned into the background (a tint)
    ("no_outline", False),        # a soft change with no step in either image: not decided
])
def test_ghost_mask_tells_ghosts_from_objects(rng: np.random.Generator, case: str,
                                              ghost: bool) -> None:
    texture = _texture(rng)
    if case == "object":
        image, background = _with_box(texture, BOX, RED), texture
    elif case == "object_on_line":
        background = texture.copy()
        background[BOX[1] - 2:BOX[1] + 2, :] = 250.0  # line along the top edge of the object
        image = _with_box(background, BOX, RED)
    elif case == "ghost":
        image, background = texture, _with_box(texture, BOX, RED)
    elif case == "faint_ghost":
        image, background = texture, _with_box(texture, BOX, RED, alpha=0.2)
    else:
        soft = cv2.GaussianBlur(_mask(BOX).astype(np.float32), (0, 0), 25)
        image, background = texture, texture + 60.0 * (soft / soft.max())[:, :, None]
    found = ghost_mask(image, background, _mask(BOX), band_px=3, ratio=0.7, min_step=4.5)
    assert found.dtype == np.uint8
    expected = _mask(BOX) if ghost else np.zeros((H, W), np.uint8)
    assert np.array_equal(found, expected)


def test_only_the_ghost_blob_is_marked(rng: np.random.Generator) -> None:
    texture = _texture(rng)
    left, right = (30, 40, 80, 90), (200, 80, 260, 140)
    image = _with_box(texture, right, RED)                 # object arrived on the right
    background = _with_box(texture, left, (40.0, 90.0, 235.0))  # object gone from the left
    found = ghost_mask(image, background, _mask(left) | _mask(right), band_px=3, ratio=0.7,
                       min_step=4.5)
    assert np.array_equal(found, _mask(left))


# -- the detector over time ------------------------------------------------------------------

FPS = 25
REST_FRAMES = 100          # 4 s at rest: longer than the 3 s bootstrap, so it is background
SPEED = 5                  # px per frame once it leaves


def _leaving_frames(rng: np.random.Generator) -> list[np.ndarray]:
    """An object rests for REST_FRAMES, then moves right and out of the frame."""
    texture = _texture(rng)
    frames = []
    for i in range(150):
        x0 = BOX[0] + SPEED * max(0, i - REST_FRAMES)
        img = _with_box(texture, (x0, BOX[1], x0 + BOX[2] - BOX[0], BOX[3]), RED)
        img += rng.normal(0, 2.0, img.shape).astype(np.float32)
        frames.append(np.clip(img, 0, 255).astype(np.uint8))
    return frames


def _run(frames: list[np.ndarray], fps: float, config: MotionConfig) -> dict[int, np.ndarray]:
    det = MotionDetector(fps, config=config)
    out: dict[int, np.ndarray] = {}
    for i, img in enumerate(frames):
        out.update(det.push(img, i, 1.0))
    out.update(det.flush())
    return out


def _ghost_frames(found: dict[int, np.ndarray], place: tuple[int, int, int, int],
                  start: int) -> list[int]:
    """Frames from `start` with a detection covering more than a quarter of `place`."""
    x0, y0, x1, y1 = place
    area = (x1 - x0) * (y1 - y0)
    hits = []
    for f in sorted(found):
        if f < start:
            continue
        boxes = found[f]
        ix = np.clip(np.minimum(boxes[:, 2], x1) - np.maximum(boxes[:, 0], x0), 0, None)
        iy = np.clip(np.minimum(boxes[:, 3], y1) - np.maximum(boxes[:, 1], y0), 0, None)
        if (ix * iy > 0.25 * area).any():
            hits.append(f)
    return hits


@pytest.mark.parametrize("ghost_ratio, max_ghost_frames", [
    (0.7, 0),     # the ghost test: nothing at the old place once the object has moved off it
    (0.0, None),  # test off: the old place shows up for a long while (the scene makes ghosts)
])
def test_object_leaving_its_resting_place_leaves_no_ghost(
        rng: np.random.Generator, ghost_ratio: float, max_ghost_frames: int | None) -> None:
    frames = _leaving_frames(rng)
    found = _run(frames, FPS, MotionConfig(ghost_ratio=ghost_ratio))
    assert sorted(found) == list(range(len(frames)))
    width = BOX[2] - BOX[0]
    cleared = REST_FRAMES + width // SPEED + 1      # first frame the object is off its old place
    ghosts = _ghost_frames(found, BOX, cleared + 3)
    if max_ghost_frames is None:
        assert len(ghosts) >= 10
        return
    assert len(ghosts) <= max_ghost_frames, ghosts
    # the object itself is still found as it moves on (fully in view); before `cleared` it is
    # next to its old place and one box may hold both
    last = (W - BOX[2]) // SPEED + REST_FRAMES
    ious = []
    for f in range(cleared + 3, last):
        x0 = BOX[0] + SPEED * (f - REST_FRAMES)
        truth = np.array([[x0, BOX[1], x0 + width, BOX[3]]], np.float64)
        ious.append(iou_matrix(truth, found[f]).max(initial=0.0))
    assert np.mean(np.array(ious) >= 0.5) >= 0.9, np.round(ious, 2)


def test_vanished_object_leaves_no_ghost_in_a_synthetic_scene() -> None:
    box = ObjectSpec("box", start=(0.35, 0.45), size=0.3, t_exit=4.0)
    ball = ObjectSpec("ball", start=(0.75, 0.2), velocity=(-0.3, 0.0), size=0.12,
                      t_enter=3.5)
    spec = SceneSpec(width=W, height=H, fps=Fraction(FPS), duration=5.6, seed=5, noise=3.0,
                     objects=(box, ball))
    found = _run(list(render_frames(spec)), FPS, MotionConfig())
    side = 0.3 * H
    cx, cy = 0.35 * W, 0.45 * H
    place = (round(cx - side / 2), round(cy - side / 2), round(cx + side / 2), round(cy + side / 2))
    gone = round(4.0 * FPS)
    assert _ghost_frames(found, place, gone + 3) == []
    # the ball keeps being found while the ghost is removed
    assert all(len(found[f]) >= 1 for f in range(gone, spec.frame_count - 5))
