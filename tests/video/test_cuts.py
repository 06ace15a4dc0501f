"""video.cuts on synthetic shots (known cut frames) with moving objects, pans, noise and flashes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from video.cuts import (
    CutConfig,
    CutDetector,
    detect_cuts,
    edge_change,
    frame_signature,
    layout_distance,
    signature_distance,
)
from video.encode import write_video
from video.reader import VideoFrame, VideoReader
from video.synth import ObjectSpec, SceneSpec, render_frame, video_frames

NTSC = Fraction(30000, 1001)
W, H = 192, 108
FRAME_S = 1001 / 30000


def texture(kind: str, rng: np.random.Generator, palette: Sequence[tuple[int, int, int]],
            height: int = 3 * H, width: int = 3 * W) -> np.ndarray:
    """A large textured background of the given kind coloured between palette entries."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    if kind == "blobs":
        field = cv2.GaussianBlur(rng.random((height, width), dtype=np.float32), (0, 0), 6)
        field = (field - field.min()) / (np.ptp(field) + 1e-6)
    elif kind == "stripes":
        angle = rng.uniform(0, np.pi)
        field = 0.5 + 0.5 * np.sin((np.cos(angle) * xx + np.sin(angle) * yy) / 3.0)
    elif kind == "checker":
        field = ((xx // 14 + yy // 14) % 2).astype(np.float32)
    elif kind == "grain":
        field = cv2.GaussianBlur(rng.random((height, width), dtype=np.float32), (0, 0), 1)
        field = (field - field.min()) / (np.ptp(field) + 1e-6)
    else:
        raise ValueError(kind)
    a, b = (np.asarray(c, np.float32) for c in palette)
    return (a + field[..., None] * (b - a)).astype(np.uint8)


@dataclass(frozen=True)
class Shot:
    kind: str
    palette: tuple[tuple[int, int, int], tuple[int, int, int]]
    frames: int
    pan: tuple[float, float] = (2.0, 1.0)  # camera px/frame


def render_shots(shots: Sequence[Shot], rng: np.random.Generator, *, noise: float = 5.0,
                 flashes: Sequence[tuple[int, int]] = ()) -> tuple[list[np.ndarray], list[int]]:
    """Frames of consecutive shots, each with two fast objects and sensor noise; and the
    indices of the first frame of every shot after the first (the true cuts).

    `flashes` are (start frame, length) spans brightened like a photo flash.
    """
    frames: list[np.ndarray] = []
    cuts: list[int] = []
    for number, shot in enumerate(shots):
        if number:
            cuts.append(len(frames))
        background = texture(shot.kind, rng, shot.palette)
        sprite = texture("blobs", rng, ((250, 40, 40), (250, 230, 30)), 40, 56)
        start = rng.uniform(0, 40, 2)
        for t in range(shot.frames):
            x0 = int(40 + shot.pan[0] * t) % (2 * W)
            y0 = int(40 + shot.pan[1] * t) % (2 * H)
            image = background[y0:y0 + H, x0:x0 + W].astype(np.float32)
            for k, velocity in enumerate(((11.0, 3.0), (-9.0, -4.0))):
                ox = int(start[0] + k * 90 + velocity[0] * t) % (W - 56)
                oy = int(start[1] + k * 40 + velocity[1] * t) % (H - 40)
                image[oy:oy + 40, ox:ox + 56] = sprite
            image += rng.normal(0, noise, image.shape)
            frames.append(np.clip(image, 0, 255).astype(np.uint8))
    for begin, length in flashes:
        for i in range(begin, begin + length):
            frames[i] = np.clip(frames[i].astype(np.float32) * 1.6 + 90, 0, 255).astype(np.uint8)
    return frames, cuts


def as_video_frames(images: Sequence[np.ndarray]) -> Iterator[VideoFrame]:
    for i, image in enumerate(images):
        yield VideoFrame(index=i, time=i * FRAME_S, image=image, scale=1.0)


def assert_cuts_match(found: Sequence[float], truth: Sequence[int]) -> None:
    assert len(found) == len(truth), (found, [t * FRAME_S for t in truth])
    for time_s, frame in zip(found, truth, strict=True):
        assert abs(time_s - frame * FRAME_S) <= FRAME_S + 1e-6


GREEN = ((20, 70, 20), (90, 170, 60))
BLUE = ((10, 30, 90), (120, 170, 240))
SAND = ((120, 100, 60), (230, 210, 160))
GREY = ((40, 40, 40), (200, 200, 200))


@pytest.mark.parametrize("shots", [
    [Shot("blobs", GREEN, 30), Shot("stripes", BLUE, 25), Shot("checker", SAND, 40),
     Shot("grain", GREY, 20)],
    # same colours, different texture; same texture, different colours
    [Shot("blobs", GREY, 24), Shot("stripes", GREY, 24), Shot("stripes", SAND, 24)],
    # short shots (10 frames) and a final shot shorter than the lookahead
    [Shot("grain", GREEN, 10), Shot("checker", BLUE, 10), Shot("blobs", SAND, 12),
     Shot("stripes", GREEN, 3)],
])
def test_hard_cuts_found_within_one_frame(shots: list[Shot], rng: np.random.Generator) -> None:
    images, truth = render_shots(shots, rng)
    assert_cuts_match(detect_cuts(as_video_frames(images)), truth)


@pytest.mark.parametrize("kind, palette, pan", [
    ("blobs", GREEN, (6.0, 3.0)), ("stripes", BLUE, (9.0, -2.0)), ("grain", SAND, (-12.0, 5.0)),
    ("checker", GREY, (7.0, 7.0)),
])
def test_fast_motion_and_noise_are_not_cuts(kind: str, palette: tuple[tuple[int, int, int], ...],
                                            pan: tuple[float, float],
                                            rng: np.random.Generator) -> None:
    images, _ = render_shots([Shot(kind, palette, 90, pan)], rng, noise=10.0)  # type: ignore[arg-type]
    assert detect_cuts(as_video_frames(images)) == ()


@pytest.mark.parametrize("flashes", [[(20, 1)], [(15, 2), (40, 1)], [(30, 3)]])
def test_flashes_are_not_cuts(flashes: list[tuple[int, int]], rng: np.random.Generator) -> None:
    images, truth = render_shots([Shot("blobs", GREEN, 60), Shot("stripes", BLUE, 30)], rng,
                                 flashes=flashes)
    assert_cuts_match(detect_cuts(as_video_frames(images)), truth)


@pytest.mark.parametrize("length", [8, 15])
def test_dissolve_is_not_a_hard_cut(rng: np.random.Generator, length: int) -> None:
    """A cross-fade between two shots changes the picture gradually: no cut is reported."""
    images, _ = render_shots([Shot("blobs", GREEN, 40), Shot("checker", SAND, 40)], rng)
    first, second = images[:40], images[40:]
    mixed = []
    for i in range(length):
        w = (i + 1) / (length + 1)
        blend = (1 - w) * first[40 - length + i].astype(np.float32) + w * second[i].astype(np.float32)
        mixed.append(blend.astype(np.uint8))
    clip = first[:40 - length] + mixed + second[length:]
    assert detect_cuts(as_video_frames(clip)) == ()


def views_of_one_place(kind: str, palette: tuple[tuple[int, int, int], tuple[int, int, int]],
                       rng: np.random.Generator) -> list[np.ndarray]:
    """30 frames of one view of a place, then 30 of another view of it (same colours and
    textures, different arrangement), each view slowly panning, with sensor noise."""
    place = texture(kind, rng, palette)
    first = [place[10 + t:10 + t + H, 10 + 2 * t:10 + 2 * t + W] for t in range(30)]
    second = [place[150 + t:150 + t + H, 300 - 2 * t:300 - 2 * t + W] for t in range(30)]
    return [np.clip(view + rng.normal(0, 5, view.shape), 0, 255).astype(np.uint8)
            for view in first + second]


# (fine grain or periodic textures panning under the camera change the thumbnail almost as
# much from frame to frame as the cut does: there a same-place cut can go unnoticed)
@pytest.mark.parametrize("kind, palette", [("blobs", GREEN), ("blobs", GREY), ("blobs", SAND)])
def test_cut_between_views_of_the_same_place(kind: str,
                                             palette: tuple[tuple[int, int, int], ...],
                                             rng: np.random.Generator) -> None:
    """Colour and texture histograms barely change; the layout cue finds the cut."""
    images = views_of_one_place(kind, palette, rng)  # type: ignore[arg-type]
    before, after = frame_signature(images[29]), frame_signature(images[30])
    assert signature_distance(before, after) < 0.2  # the premise: histograms cannot tell
    assert layout_distance(before, after) > 0.5
    assert_cuts_match(detect_cuts(as_video_frames(images)), [30])


def test_camera_starting_to_move_is_not_a_cut(rng: np.random.Generator) -> None:
    """A static shot that breaks into a fast pan (a whip) changes layout fast but steadily."""
    place = texture("blobs", rng, GREEN)
    offsets = [0] * 30 + [14 * t for t in range(1, 25)]
    images = [np.clip(place[20:20 + H, 20 + x:20 + x + W] + rng.normal(0, 5, (H, W, 3)), 0, 255)
              .astype(np.uint8) for x in offsets]
    assert detect_cuts(as_video_frames(images)) == ()


def test_gray_frames(rng: np.random.Generator) -> None:
    images, truth = render_shots([Shot("blobs", GREY, 30), Shot("checker", GREY, 30)], rng)
    grays = [cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) for image in images]
    assert_cuts_match(detect_cuts(as_video_frames(grays)), truth)


def test_streaming_reports_after_lookahead(rng: np.random.Generator) -> None:
    images, truth = render_shots([Shot("blobs", GREEN, 20), Shot("checker", SAND, 20)], rng)
    detector = CutDetector(CutConfig(lookahead=4))
    reported = [(frame.index, cut) for frame in as_video_frames(images)
                if (cut := detector.update(frame)) is not None]
    assert detector.finish() == ()
    assert len(reported) == 1
    at, cut = reported[0]
    assert at == truth[0] + 4
    assert cut == pytest.approx(truth[0] * FRAME_S)


def test_min_shot_length_drops_close_second_cut(rng: np.random.Generator) -> None:
    shots = [Shot("blobs", GREEN, 20), Shot("checker", SAND, 10), Shot("stripes", BLUE, 20)]
    images, truth = render_shots(shots, rng)
    assert_cuts_match(detect_cuts(as_video_frames(images)), truth)
    only_first = detect_cuts(as_video_frames(images), config=CutConfig(min_shot_s=0.5))
    assert_cuts_match(only_first, truth[:1])


def test_cuts_through_the_reader(tmp_path: Path, rng: np.random.Generator) -> None:
    shots = [Shot("stripes", BLUE, 22), Shot("blobs", GREEN, 17), Shot("grain", SAND, 21)]
    images, truth = render_shots(shots, rng)
    path = tmp_path / "shots.mp4"
    write_video(path, images, NTSC, gop=10)
    with VideoReader(path) as reader:
        found = detect_cuts(reader.frames(max_side=96))
    assert_cuts_match(found, truth)


def test_signature_distance_bounds(rng: np.random.Generator) -> None:
    a = texture("blobs", rng, GREEN, H, W)
    b = texture("checker", rng, BLUE, H, W)
    sa, sb = frame_signature(a), frame_signature(b)
    assert signature_distance(sa, sa) == pytest.approx(0.0, abs=1e-6)
    assert 0.6 < signature_distance(sa, sb) <= 1.0
    assert signature_distance(sa, sb) == pytest.approx(signature_distance(sb, sa))
    assert sa.colour.sum() == pytest.approx(1.0) and sa.texture.sum() == pytest.approx(1.0)


def test_layout_distance_ignores_one_object_but_not_a_new_view(rng: np.random.Generator) -> None:
    place = texture("blobs", rng, GREEN)
    view = place[:H, :W].copy()
    moved = view.copy()
    sprite = texture("checker", rng, SAND, 40, 56)
    view[10:50, 10:66] = sprite
    moved[60:100, 120:176] = sprite  # the object jumps across the picture
    other = place[2 * H:3 * H, 2 * W:3 * W]
    a, b, c = (frame_signature(image) for image in (view, moved, other))
    brighter = frame_signature(np.clip(view.astype(np.float32) * 1.5 + 40, 0, 255).astype(np.uint8))
    assert layout_distance(a, a) == pytest.approx(0.0)
    assert layout_distance(a, b) < 0.3
    assert layout_distance(a, brighter) < 0.25  # (clipped highlights are not a pure gain)
    assert layout_distance(a, c) > 0.5


def test_tiny_streams() -> None:
    assert detect_cuts([]) == ()
    black = np.zeros((20, 30, 3), np.uint8)
    white = np.full((20, 30, 3), 255, np.uint8)
    assert detect_cuts(as_video_frames([black])) == ()
    assert detect_cuts(as_video_frames([black, white])) == ()  # last frame is never a cut
    assert detect_cuts(as_video_frames([black, white, white])) == pytest.approx((FRAME_S,))


@pytest.mark.parametrize("options", [
    {"min_distance": 0.0}, {"min_distance": 1.0}, {"layout_min_distance": 0.0},
    {"structure_min_distance": 1.0}, {"structure_spike": 0.5}, {"min_energy": -0.1},
    {"peak_radius": 0}, {"peak_radius": 4},
    {"ratio": 0.5}, {"spike": 0.9}, {"history": 0},
    {"lookahead": 0}, {"min_shot_s": -1.0}, {"analysis_side": 8},
])
def test_config_rejects(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        CutConfig(**options)  # type: ignore[arg-type]


# ------------------------------------------------------------------ shots of one animated scene


def film_scene(*, fps: int, background: str, seed: int, cuts: tuple[float, ...] = (1.0, 2.0, 3.0),
               views: tuple[tuple[float, float], ...] = ((0.0, 0.0), (0.2, 0.05), (-0.15, 0.0),
                                                         (0.08, -0.08))) -> SceneSpec:
    """Four shots of ONE place with the same three characters (two yellow walkers of one
    palette, a ball), the camera offset between shots: colour histograms barely change."""
    objects = (ObjectSpec("walker", start=(0.3, 0.0), velocity=(0.12, 0.0), size=0.45,
                          color=(245, 200, 20)),
               ObjectSpec("walker", start=(0.7, 0.0), velocity=(-0.1, 0.0), size=0.4,
                          color=(245, 210, 30), step_period=0.45),
               ObjectSpec("ball", start=(0.5, 0.2), velocity=(0.1, 0.0), size=0.1,
                          color=(230, 40, 40)))
    return SceneSpec(width=320, height=240, fps=Fraction(fps), duration=4.0, seed=seed,
                     background=background, noise=2.0, objects=objects, cuts=cuts,
                     views=views[:len(cuts) + 1])


@pytest.mark.parametrize("fps", [12, 24])
@pytest.mark.parametrize("background, seed", [("textured", 1), ("gradient", 2), ("noise", 3),
                                              ("textured", 3)])
def test_cuts_between_shots_of_one_scene(fps: int, background: str, seed: int) -> None:
    spec = film_scene(fps=fps, background=background, seed=seed)
    frames = list(video_frames(spec))
    truth = [round(c * fps) for c in spec.cuts]
    before, after = (frame_signature(frames[truth[0] + k].image) for k in (-1, 0))
    assert signature_distance(before, after) < 0.3  # the premise: content alone misses the cut
    found = detect_cuts(frames)
    assert len(found) == len(truth), ([round(t * fps) for t in found], truth)
    assert all(abs(t * fps - f) <= 1.0 + 1e-6 for t, f in zip(found, truth, strict=True))


@pytest.mark.parametrize("flash_at", [20, 41])
def test_one_shot_with_fast_motion_and_a_flash_is_not_cut(flash_at: int) -> None:
    """One shot of the same scene (no cuts): fast characters, a fast pan, one flash frame."""
    spec = replace(film_scene(fps=24, background="textured", seed=4, cuts=()), pan=(0.25, 0.0))
    images = [f.image for f in video_frames(spec)]
    images[flash_at] = np.clip(images[flash_at].astype(np.float32) * 1.7 + 80, 0, 255
                               ).astype(np.uint8)
    assert detect_cuts(as_video_frames(images)) == ()


def test_dissolve_renders_as_a_mixing_ramp() -> None:
    """video.synth's dissolve: frames inside it are blends whose weight of the new shot rises
    from near 0 to near 1 (the material a dissolve detector is developed on)."""
    hard = film_scene(fps=12, background="gradient", seed=2, cuts=(2.0,))
    soft = replace(hard, dissolve=0.5, noise=0.0)
    hard = replace(hard, noise=0.0)
    old = replace(hard, cuts=(), views=hard.views[:1])
    new = replace(hard, cuts=(), views=hard.views[1:])
    weights = []
    for index in range(20, 28):  # mixed: t in [1.75, 2.25) = frames 21..26
        a, b, m = (render_frame(s, index).astype(np.float64) for s in (old, new, soft))
        delta = (b - a).ravel()
        weights.append(float(np.dot((m - a).ravel(), delta) / np.dot(delta, delta)))
    # (the one-shot specs have a smaller canvas, so their backgrounds differ very slightly)
    assert weights[0] == pytest.approx(0.0, abs=0.05) and weights[-1] == pytest.approx(1.0, abs=0.05)
    assert np.all(np.diff(weights[1:-1]) > 0.1)
    assert weights[1] < 0.2 and weights[-2] > 0.8


def test_edge_change_is_spread_over_the_picture(rng: np.random.Generator) -> None:
    """An object vanishing changes the edges only where it was; a new view changes them all
    (on a background with edges of its own: on a featureless one the object's cells are all
    the cells that count)."""
    place = texture("grain", rng, GREEN)
    view = place[:H, :W].copy()
    with_box = view.copy()
    with_box[20:60, 30:86] = texture("checker", rng, SAND, 40, 56)
    shifted = place[30:30 + H, 40:40 + W]
    a, b, c = (frame_signature(image) for image in (with_box, view, shifted))
    assert edge_change(a, a) == 0.0
    assert edge_change(a, b) < 0.1
    assert edge_change(b, c) > 0.5


@pytest.mark.parametrize("seed, size, fps, duration", [
    (178777645, (320, 180), Fraction(30), 1.0),
    (2024150444, (320, 180), Fraction(30000, 1001), 1.0),
    # eval clips 26 and 28 (seed 1000): a box pops in over a cloudy background with edges of
    # its own, and the encoder's scene-change frame moves some background edges too (clip 23,
    # a box covering a third of the picture, still reads as a cut: see docs/EVALUATION.md)
    (770898194, (480, 270), Fraction(30), 3.01),
    (354368343, (480, 270), Fraction(25), 3.24),
])
def test_an_object_popping_in_is_not_a_cut(tmp_path: Path, seed: int, size: tuple[int, int],
                                           fps: Fraction, duration: float) -> None:
    """Generated single-shot scenes where an object appears within one frame: its edges change
    in its own cells, which the structure cue must not read as a new shot, as the rest of the
    picture keeps its edges (all were false cuts once)."""
    from video.analyze import analyze_video
    from video.synth import random_scene, write_clip

    spec = random_scene(seed, width=size[0], height=size[1], fps=fps, duration=duration)
    write_clip(spec, tmp_path / "scene.mp4")
    assert analyze_video(tmp_path / "scene.mp4").cuts == ()
