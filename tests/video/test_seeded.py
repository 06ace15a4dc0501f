"""video.seeded on synthetic clips: a textured object on a textured background, known path."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from video.base.errors import Cancelled, InputError
from video.encode import write_video
from video.reader import VideoReader
from video.seeded import (
    SeedConfig,
    flow_step,
    patch_similarity,
    surround_shift,
    track_from_seed,
    visible_fraction,
    visible_look,
)

NTSC = Fraction(30000, 1001)
W, H = 322, 182


def blob_texture(rng: np.random.Generator, height: int, width: int, low: tuple[int, int, int],
                 high: tuple[int, int, int], sigma: float) -> np.ndarray:
    field = cv2.GaussianBlur(rng.random((height, width), dtype=np.float32), (0, 0), sigma)
    field = (field - field.min()) / (np.ptp(field) + 1e-6)
    a, b = np.asarray(low, np.float32), np.asarray(high, np.float32)
    return (a + field[..., None] * (b - a)).astype(np.uint8)


@dataclass(frozen=True)
class Motion:
    """Object path: centre moves on an ellipse plus drift; size scales over time."""

    frames: int = 90
    radius: tuple[float, float] = (90.0, 45.0)
    drift: tuple[float, float] = (0.0, 0.0)
    origin: tuple[float, float] = (W / 2, H / 2)
    size: tuple[float, float] = (46.0, 34.0)
    growth: float = 0.0  # relative size change per frame
    pan: tuple[float, float] = (0.0, 0.0)  # background px/frame

    def box(self, t: int) -> np.ndarray:
        phase = 2 * np.pi * t / self.frames
        cx = self.origin[0] + self.radius[0] * np.cos(phase) + self.drift[0] * t
        cy = self.origin[1] + self.radius[1] * np.sin(phase) + self.drift[1] * t
        w, h = (s * (1 + self.growth * t) for s in self.size)
        x0, y0 = int(round(cx - w / 2)), int(round(cy - h / 2))
        return np.array([x0, y0, x0 + int(round(w)), y0 + int(round(h))], np.float64)


def render(motion: Motion, rng: np.random.Generator, *,
           ground: tuple[tuple[int, int, int], float] = ((120, 190, 110), 4.0),
           colors: tuple[tuple[int, int, int], tuple[int, int, int]] = ((120, 20, 20),
                                                                        (255, 220, 120)),
           ) -> tuple[list[np.ndarray], np.ndarray]:
    """Frames and the true box per frame (the part of the object inside the picture). `ground`:
    the background texture's brightest colour and blob size; `colors`: the object's range."""
    background = blob_texture(rng, 2 * H, 2 * W, (30, 60, 30), *ground)
    sprite = blob_texture(rng, 80, 110, *colors, 2.5)
    frames, boxes = [], []
    for t in range(motion.frames):
        bx, by = int(40 + motion.pan[0] * t), int(30 + motion.pan[1] * t)
        image = background[by:by + H, bx:bx + W].copy()
        x0, y0, x1, y1 = motion.box(t).astype(int)
        patch = cv2.resize(sprite, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
        cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, W), min(y1, H)
        if cx1 > cx0 and cy1 > cy0:
            image[cy0:cy1, cx0:cx1] = patch[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]
        noisy = image.astype(np.float32) + rng.normal(0, 4.0, image.shape)
        frames.append(np.clip(noisy, 0, 255).astype(np.uint8))
        boxes.append([cx0, cy0, max(cx1, cx0), max(cy1, cy0)])
    return frames, np.asarray(boxes, np.float64)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def write_clip(path: Path, frames: list[np.ndarray]) -> Path:
    write_video(path, frames, NTSC, gop=12)
    return path


@pytest.mark.parametrize("motion", [
    Motion(),
    Motion(pan=(1.5, 0.5), radius=(70.0, 40.0)),
    Motion(growth=0.006, radius=(60.0, 30.0), size=(36.0, 26.0)),
    Motion(radius=(0.0, 0.0), origin=(50.0, 130.0), drift=(2.4, -0.8), size=(50.0, 38.0)),
], ids=["ellipse", "panning", "growing", "straight"])
def test_tracks_both_ways_from_the_middle(tmp_path: Path, rng: np.random.Generator,
                                          motion: Motion) -> None:
    frames, truth = render(motion, rng)
    path = write_clip(tmp_path / "obj.mp4", frames)
    seed = motion.frames // 2
    with VideoReader(path) as reader:
        track = track_from_seed(reader, seed, tuple(truth[seed]), object_id=7,  # type: ignore[arg-type]
                                label="ball")
    assert track.id == 7 and track.label == "ball" and track.extra["seed_frame"] == seed
    scores = np.zeros(motion.frames)
    for index, box in zip(track.frames, track.boxes, strict=True):
        scores[index] = iou(box, truth[index])
    before, after = scores[:seed], scores[seed:]
    assert np.mean(before >= 0.5) >= 0.9, np.round(before, 2)
    assert np.mean(after >= 0.5) >= 0.9, np.round(after, 2)
    assert track.frames[0] == 0 and track.frames[-1] == motion.frames - 1


def render_turning(motion: Motion, rng: np.random.Generator, *, degrees_per_frame: float,
                   occluder_speed: float) -> tuple[list[np.ndarray], np.ndarray]:
    """A square textured object turning as it moves; optionally a light grey bar, 14 px wide,
    sweeping left to right across the whole picture (it passes in front of the object)."""
    background = blob_texture(rng, H, W, (30, 60, 30), (120, 190, 110), 4)
    sprite = blob_texture(rng, 80, 80, (120, 20, 20), (255, 220, 120), 2.5)
    frames, boxes = [], []
    for t in range(motion.frames):
        image = background.copy()
        x0, y0, x1, y1 = motion.box(t).astype(int)
        turn = cv2.getRotationMatrix2D((40, 40), degrees_per_frame * t, 1.0)
        turned = cv2.warpAffine(sprite, turn, (80, 80), borderMode=cv2.BORDER_REFLECT)
        image[y0:y1, x0:x1] = cv2.resize(turned, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
        if occluder_speed:
            bar = int(-60 + occluder_speed * t)
            image[:, max(bar, 0):max(0, min(bar + 14, W))] = 200
        noisy = image.astype(np.float32) + rng.normal(0, 4.0, image.shape)
        frames.append(np.clip(noisy, 0, 255).astype(np.uint8))
        boxes.append([x0, y0, x1, y1])
    return frames, np.asarray(boxes, np.float64)


@pytest.mark.parametrize("degrees_per_frame, occluder_speed", [(6.0, 0.0), (0.0, 5.0)],
                         ids=["turning", "occluded"])
def test_turning_or_briefly_occluded_object(tmp_path: Path, rng: np.random.Generator,
                                            degrees_per_frame: float,
                                            occluder_speed: float) -> None:
    motion = Motion(frames=90, radius=(80.0, 40.0), size=(44.0, 44.0))
    frames, truth = render_turning(motion, rng, degrees_per_frame=degrees_per_frame,
                                   occluder_speed=occluder_speed)
    path = write_clip(tmp_path / "turn.mp4", frames)
    with VideoReader(path) as reader:
        track = track_from_seed(reader, 45, tuple(truth[45]), object_id=4)  # type: ignore[arg-type]
    scores = np.zeros(motion.frames)
    for index, box in zip(track.frames, track.boxes, strict=True):
        scores[index] = iou(box, truth[index])
    assert np.mean(scores >= 0.5) >= 0.9, np.round(scores, 2)


def test_stops_at_a_shot_cut(tmp_path: Path, rng: np.random.Generator) -> None:
    motion = Motion(frames=60, radius=(60.0, 30.0))
    frames, truth = render(motion, rng)
    other = blob_texture(rng, H, W, (10, 10, 80), (90, 140, 250), 1.5)
    # a cut to a different scene at frame 40; the object reappears there at the same place
    for t in range(40, 60):
        x0, y0, x1, y1 = truth[t].astype(int)
        scene = other.copy()
        scene[y0:y1, x0:x1] = frames[t][y0:y1, x0:x1]
        frames[t] = scene
    # and a cut from a third scene into the object's shot at frame 12
    for t in range(12):
        frames[t] = blob_texture(rng, H, W, (80, 80, 80), (200, 200, 200), 1.0)
    path = write_clip(tmp_path / "cuts.mp4", frames)
    with VideoReader(path) as reader:
        track = track_from_seed(reader, 25, tuple(truth[25]), object_id=1)  # type: ignore[arg-type]
    assert track.frames[0] == 12 and track.frames[-1] == 39
    ious = [iou(b, truth[f]) for f, b in zip(track.frames, track.boxes, strict=True)]
    assert min(ious) >= 0.5


def test_stops_when_the_object_leaves(tmp_path: Path, rng: np.random.Generator) -> None:
    motion = Motion(frames=60, radius=(0.0, 0.0), origin=(80.0, 90.0), drift=(5.0, 0.0),
                    size=(40.0, 30.0))
    frames, truth = render(motion, rng)
    path = write_clip(tmp_path / "exit.mp4", frames)
    visible = np.array([visible_fraction(motion.box(t), W, H) for t in range(60)])
    with VideoReader(path) as reader:
        track = track_from_seed(reader, 10, tuple(truth[10]), object_id=2)  # type: ignore[arg-type]
    last = int(track.frames[-1])
    assert visible[last] >= 0.2  # never reported once it is (almost) gone
    assert last >= int(np.nonzero(visible >= 0.6)[0][-1])  # followed until it left
    assert track.frames[0] == 0
    for f, box in zip(track.frames, track.boxes, strict=True):
        assert 0 <= box[0] <= box[2] <= W and 0 <= box[1] <= box[3] <= H
        if visible[f] >= 0.8:
            assert iou(box, truth[f]) >= 0.5


@pytest.mark.parametrize(("present", "seed_frame"), [("before", 15), ("before", 30),
                                                   ("after", 60)])
def test_stops_where_the_object_vanishes_in_the_picture(tmp_path: Path, present: str,
                                                        seed_frame: int) -> None:
    """The object is in the picture on one side of frame 40 only (drawn over the ground there,
    not elsewhere: it went behind scenery that looks like the ground, into water, or came out
    of it). Off that side the features follow the textured ground, which no longer looks like
    the object: tracking must end where it vanishes, forwards or backwards, and not carry a
    box over empty ground to the clip's end."""
    motion = Motion(frames=80, radius=(0.0, 0.0), origin=(70.0, 90.0), drift=(2.0, 0.0))
    frames, truth = render(motion, np.random.default_rng(7))
    # the same background and noise (same seed), the object drawn off the picture
    empty, _ = render(Motion(frames=80, radius=(0.0, 0.0), origin=(-500.0, -500.0)),
                      np.random.default_rng(7))
    clip = frames[:40] + empty[40:] if present == "before" else empty[:40] + frames[40:]
    path = write_clip(tmp_path / "vanish.mp4", clip)
    with VideoReader(path) as reader:
        track = track_from_seed(reader, seed_frame, tuple(truth[seed_frame]),  # type: ignore[arg-type]
                                object_id=3)
    if present == "before":
        assert track.frames[0] == 0
        assert 37 <= int(track.frames[-1]) <= 40, track.frames[-1]
    else:
        assert track.frames[-1] == 79
        assert 39 <= int(track.frames[0]) <= 42, track.frames[0]
    for f, box in zip(track.frames, track.boxes, strict=True):
        if (f < 40) == (present == "before"):
            assert iou(box, truth[f]) >= 0.5


def render_plain(motion: Motion, rng: np.random.Generator) -> tuple[list[np.ndarray], np.ndarray]:
    """A dark, nearly plain object (few features of its own) on strongly textured ground
    (which moves by `motion.pan` a frame: the camera pans)."""
    return render(motion, rng, ground=((200, 230, 190), 2.0),
                  colors=((20, 20, 20), (35, 35, 35)))


@pytest.mark.parametrize(("size", "speed", "pan"), [
    ((14.0, 44.0), 4.0, 0.0), ((14.0, 44.0), 6.0, 0.0), ((20.0, 50.0), 5.0, 0.0),
    ((14.0, 44.0), 5.0, 1.5),      # the camera pans: the ground moves left 1.5 px a frame
])
def test_a_plain_object_leaving_does_not_leave_its_box_behind(
        tmp_path: Path, size: tuple[float, float], speed: float, pan: float) -> None:
    """A dark figure walks out of the right edge; the designer's box is loose round it, so most
    of its features are on the textured ground. Once the figure is out, those features ride on
    the ground (still, or panned with the camera): the box no longer looks like the figure and
    moves as its surroundings do, and tracking ends there instead of carrying a box on the
    ground to the clip's end."""
    motion = Motion(frames=80, radius=(0.0, 0.0), origin=(40.0, 90.0), drift=(speed, 0.0),
                    size=size, pan=(pan, 0.0))
    frames, truth = render_plain(motion, np.random.default_rng(3))
    path = write_clip(tmp_path / "exit_plain.mp4", frames)
    loose = truth[10] + np.array([-10.0, -5.0, 10.0, 5.0])
    with VideoReader(path) as reader:
        track = track_from_seed(reader, 10, tuple(loose), object_id=5)  # type: ignore[arg-type]
    visible = np.array([visible_fraction(motion.box(t), W, H) for t in range(80)])
    gone = int(np.nonzero(visible < 0.3)[0][0])   # the first frame it is mostly out
    last = int(track.frames[-1])
    assert gone - 8 <= last <= gone, (last, gone)
    for f, box in zip(track.frames, track.boxes, strict=True):
        inside = (box[0] <= truth[f][0] + 1 and truth[f][2] <= box[2] + 1)
        assert inside, (f, box, truth[f])     # the figure is in the box on every frame kept


@pytest.mark.parametrize(("box", "drawn", "expected"), [
    ((40.0, 30.0, 80.0, 70.0), True, (0.99, 1.0)),     # on the object, wholly in the picture
    ((-20.0, 30.0, 20.0, 70.0), True, (0.99, 1.0)),    # its left half out: the rest compared
    ((140.0, 30.0, 180.0, 70.0), False, (-0.3, 0.3)),  # on other texture
    ((-38.0, 30.0, 2.0, 70.0), False, (1.0, 1.0)),     # 2 px in the picture: not comparable
    ((40.0, 30.0, 42.0, 70.0), False, (1.0, 1.0)),     # too thin to compare
])
def test_visible_look(rng: np.random.Generator, box: tuple[float, float, float, float],
                      drawn: bool, expected: tuple[float, float]) -> None:
    """The seed-frame look of the part of a box inside the picture."""
    image = blob_texture(rng, 100, 200, (0, 0, 0), (255, 255, 255), 2.0)[..., 0]
    template = image[30:70, 40:80].copy()   # the object's picture on the seed frame
    if drawn:  # the object where the box is now (only its part inside the picture)
        x0, y0, x1, y1 = (int(v) for v in box)
        image[y0:y1, max(x0, 0):x1] = template[:, max(0, -x0):]
    low, high = expected
    assert low <= visible_look(image, np.array(box), template) <= high


@pytest.mark.parametrize(("shift", "box", "plain", "expected"), [
    ((3, -2), (100.0, 60.0, 140.0, 100.0), False, (3.0, -2.0)),   # the ground moved
    ((0, 0), (100.0, 60.0, 140.0, 100.0), False, (0.0, 0.0)),     # held still
    ((2, 1), (0.0, 0.0, 30.0, 30.0), False, (2.0, 1.0)),          # at the picture's corner
    ((3, -2), (100.0, 60.0, 140.0, 100.0), True, None),           # nothing to track round it
])
def test_surround_shift(rng: np.random.Generator, shift: tuple[int, int],
                        box: tuple[float, float, float, float], plain: bool,
                        expected: tuple[float, float] | None) -> None:
    """How the picture round a box moved, whatever is inside the box (here a plain patch that
    stays where it is)."""
    ground = blob_texture(rng, 260, 360, (0, 0, 0), (255, 255, 255), 2.5)[..., 0]
    if plain:
        ground[:] = 128
    previous = ground[40:220, 40:320].copy()
    current = ground[40 - shift[1]:220 - shift[1], 40 - shift[0]:320 - shift[0]].copy()
    x0, y0, x1, y1 = (int(v) for v in box)
    previous[y0:y1, x0:x1] = current[y0:y1, x0:x1] = 90
    found = surround_shift(previous, current, np.array(box), config=SeedConfig())
    if expected is None:
        assert found is None
    else:
        assert found is not None and np.allclose(found, expected, atol=0.25), found


def test_downscaled_tracking_returns_source_pixels(tmp_path: Path,
                                                   rng: np.random.Generator) -> None:
    motion = Motion(frames=40)
    frames, truth = render(motion, rng)
    path = write_clip(tmp_path / "small.mp4", frames)
    with VideoReader(path) as reader:
        track = track_from_seed(reader, 20, tuple(truth[20]), object_id=3,  # type: ignore[arg-type]
                                max_side=160)
    ious = np.array([iou(b, truth[f]) for f, b in zip(track.frames, track.boxes, strict=True)])
    assert len(track) == 40 and np.mean(ious >= 0.5) >= 0.9


def test_progress_and_cancel(tmp_path: Path, rng: np.random.Generator) -> None:
    motion = Motion(frames=40)
    frames, truth = render(motion, rng)
    path = write_clip(tmp_path / "p.mp4", frames)
    seen: list[float] = []
    with VideoReader(path) as reader:
        track_from_seed(reader, 5, tuple(truth[5]), object_id=1,  # type: ignore[arg-type]
                        progress=lambda f, m: seen.append(f))
        assert seen[-1] == 1.0 and all(b >= a for a, b in zip(seen, seen[1:], strict=False))
        assert len(seen) >= 39

        def cancel_soon(fraction: float, message: str) -> None:
            if fraction > 0.3:
                raise Cancelled()

        with pytest.raises(Cancelled):
            track_from_seed(reader, 5, tuple(truth[5]), object_id=1,  # type: ignore[arg-type]
                            progress=cancel_soon)
        assert read_ok(reader)  # the reader still works after a cancelled job


def read_ok(reader: VideoReader) -> bool:
    return reader.frame(3).shape == (H, W, 3)


@pytest.mark.parametrize("frame, box, message", [
    (-1, (10, 10, 50, 50), "outside"), (500, (10, 10, 50, 50), "outside"),
    (5, (50, 50, 10, 10), "at least 4x4"), (5, (10, 10, 12, 40), "at least 4x4"),
    (5, (400, 10, 480, 60), "at least 4x4"), (5, (float("nan"), 0, 10, 10), "finite"),
])
def test_bad_seed(tmp_path: Path, rng: np.random.Generator, frame: int,
                  box: tuple[float, float, float, float], message: str) -> None:
    frames, _ = render(Motion(frames=10), rng)
    path = write_clip(tmp_path / "b.mp4", frames)
    with VideoReader(path) as reader, pytest.raises(InputError, match=message):
        track_from_seed(reader, frame, box, object_id=1)


@pytest.mark.parametrize("shift", [(3.0, -2.0), (-6.5, 4.0), (0.0, 0.0)])
def test_flow_step_recovers_a_known_shift(rng: np.random.Generator,
                                          shift: tuple[float, float]) -> None:
    image = cv2.cvtColor(blob_texture(rng, 160, 200, (0, 0, 0), (255, 255, 255), 2.0),
                         cv2.COLOR_RGB2GRAY)
    matrix = np.array([[1, 0, shift[0]], [0, 1, shift[1]]], dtype=np.float32)
    moved = cv2.warpAffine(image, matrix, (200, 160), borderMode=cv2.BORDER_REFLECT)
    box = np.array([70.0, 50.0, 130.0, 110.0])
    result = flow_step(image, moved, box, config=SeedConfig())
    assert result is not None
    np.testing.assert_allclose(result, box + np.array([*shift, *shift]), atol=0.6)


def test_flow_step_loses_a_vanished_object(rng: np.random.Generator) -> None:
    image = cv2.cvtColor(blob_texture(rng, 160, 200, (0, 0, 0), (255, 255, 255), 2.0),
                         cv2.COLOR_RGB2GRAY)
    other = cv2.cvtColor(blob_texture(rng, 160, 200, (0, 0, 0), (255, 255, 255), 2.0),
                         cv2.COLOR_RGB2GRAY)
    assert flow_step(image, other, np.array([70.0, 50.0, 130.0, 110.0]),
                     config=SeedConfig()) is None


def test_patch_similarity_matches_moved_patches(rng: np.random.Generator) -> None:
    image = cv2.cvtColor(blob_texture(rng, 120, 140, (0, 0, 0), (255, 255, 255), 2.0),
                         cv2.COLOR_RGB2GRAY)
    shifted = np.roll(image, (2, 3), axis=(0, 1))  # content moves 3 px right, 2 px down
    points = rng.uniform(15, 100, (30, 2)).astype(np.float32)
    matched = patch_similarity(image, shifted, points, points + np.array([3, 2], np.float32))
    unmatched = patch_similarity(image, shifted, points, points)
    np.testing.assert_allclose(matched, 1.0, atol=1e-6)
    assert np.median(unmatched) < 0.6
    assert patch_similarity(image, shifted, points[:0], points[:0]).shape == (0,)


@pytest.mark.parametrize("options", [{"min_points": 1}, {"max_points": 3}, {"window": 3},
                                     {"grid": 1}, {"max_gap": -1},
                                     {"min_visible": 0.0}, {"search": 2.0}, {"chunk": 0}])
def test_config_rejects(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        SeedConfig(**options)  # type: ignore[arg-type]
