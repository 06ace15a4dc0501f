"""Splashes (video.splashes): a thing that falls, sinks out of sight and throws up a spray of
fragments gets one "splash" event where the spray appears, within 100 ms of the contact; a thing
that falls behind a wall (no spray), lands and stays (no sinking), a spray with nothing falling
into it, and a thing that leaves through the picture's bottom edge get none."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

import cv2
import numpy as np
import pytest

from video.analyze import AnalysisConfig, analyze_frames
from video.base.tracks import Analysis, Event, Track, VideoInfo
from video.reader import VideoFrame
from video.recognize import RecognizeConfig
from video.splashes import SPLASH, MotionBoxLog, SplashConfig, attach_splashes, track_splashes

# -- the rule on hand-made boxes -------------------------------------------------------------------

FPS = 25
SIDE = 40.0           # the thing's box: 40 px square
FALL = 4.0            # px a frame: 2.5 box sizes a second
IN = 25               # the first frame the spray shows


def _info(height: int = 240, frames: int = 45) -> VideoInfo:
    return VideoInfo(path="splash.mp4", width=320, height=height, fps=Fraction(FPS),
                     duration=frames / FPS, frames=frames)


def _scene(*, falls: bool = True, sinks: bool = True, sprays: bool = True,
           spray_before: bool = False, top0: float = 20.0) -> tuple[Track, MotionBoxLog]:
    """A track that falls FALL px a frame until frame IN, and the motion boxes of its frames:
    its own blob (shrinking from IN as it sinks when `sinks`) and, from IN (or from the start,
    `spray_before`), three fragments beside it that rise."""
    frames = np.arange(0, 36)
    tops = top0 + (FALL * np.minimum(frames, IN) if falls else 0 * frames)
    boxes = np.stack([np.full(len(frames), 140.0), tops, np.full(len(frames), 140.0 + SIDE),
                      tops + SIDE], axis=1)
    track = Track(id=1, label="unknown", frames=frames, boxes=boxes)
    log = MotionBoxLog()
    for f, box in zip(frames, boxes, strict=True):
        own = box.copy()
        if sinks and f >= IN:
            own[1] = min(own[3] - 2.0, own[1] + 12.0 * (f - IN + 1))   # hidden from the top down
        found = [own]
        if (sprays and f >= IN) or spray_before:
            rise = 5.0 * max(0, f - IN)
            found += [np.array([x, box[1] - 8.0 - rise, x + 8.0, box[1] - rise])
                      for x in (120.0, 156.0, 192.0)]
        log.add(int(f), np.array(found))
    return track, log


def _times(track: Track, log: MotionBoxLog, info: VideoInfo | None = None,
           camera: np.ndarray | None = None) -> list[float]:
    return [e.time for e in track_splashes(track, log, info=info or _info(), camera=camera)]


def test_a_fall_a_sinking_and_a_spray_make_one_splash_where_the_spray_appears() -> None:
    track, log = _scene()
    (event,) = track_splashes(track, log, info=_info())
    assert event.kind == SPLASH
    assert event.time == pytest.approx((IN - 0.5) / FPS, abs=1e-6)
    assert 0.0 < event.strength <= 1.0


@pytest.mark.parametrize("scene", [
    {"falls": False},            # it stands there while it shrinks and a spray appears
    {"sinks": False},            # it lands and stays in sight: an impact, not a splash
    {"sprays": False},           # it sinks behind a wall: no spray, nothing heard
    {"spray_before": True},      # the fragments were there before it came: nothing appeared
], ids=["no fall", "no sinking", "no spray", "spray already there"])
def test_each_of_the_three_signs_is_needed(scene: dict[str, bool]) -> None:
    track, log = _scene(**scene)
    assert _times(track, log) == []


def test_a_thing_going_out_through_the_bottom_edge_does_not_splash() -> None:
    track, log = _scene()
    bottom = float(track.boxes[IN - 1, 3])
    assert _times(track, log, info=_info(height=int(bottom + 4))) == []      # at the edge
    assert len(_times(track, log, info=_info(height=int(bottom + 40)))) == 1


def test_a_region_as_wide_as_half_the_picture_is_not_a_falling_thing() -> None:
    """A whole-picture track of a shaking camera "falls" and has specks round it; it is a
    region, not a thing."""
    track, log = _scene()
    assert len(_times(track, log, info=_info())) == 1
    narrow = VideoInfo(path="splash.mp4", width=int(SIDE * 1.9), height=240, fps=Fraction(FPS),
                       duration=45 / FPS, frames=45)
    assert _times(track, log, info=narrow) == []


@pytest.mark.parametrize("cut, found", [(IN, 0), (IN - 3, 0), (IN + 4, 0), (IN - 30, 1),
                                         (IN + 30, 1)])
def test_no_splash_is_looked_for_across_a_cut(cut: int, found: int) -> None:
    """A shot that ends as the thing falls: the next shot's picture is no spray (a cut among
    the frames the signs look at refuses it; one far from them does not)."""
    track, log = _scene()
    assert len(track_splashes(track, log, info=_info(), barriers=[cut])) == found


def test_a_camera_tilting_up_is_not_a_fall() -> None:
    """The picture moves down as a whole when the camera tilts up: in the scene nothing falls."""
    track, log = _scene()
    camera = np.zeros((len(track) + 5, 2))
    camera[:, 1] = FALL * np.minimum(np.arange(len(camera)), IN)
    assert _times(track, log, camera=camera) == []


def test_splashes_join_the_track_events_in_time_order() -> None:
    track, log = _scene()
    track = track.with_changes(events=(Event(0.2, 0.5), Event(1.3, 0.5)))
    (out,) = attach_splashes([track], log, info=_info())
    assert [e.kind for e in out.events] == ["impact", SPLASH, "impact"]


def test_background_motion_made_ambience_gets_no_splash() -> None:
    track, log = _scene()
    (out,) = attach_splashes([track.with_changes(label="ambience")], log, info=_info())
    assert out.events == ()


def test_the_log_keeps_each_frames_boxes() -> None:
    log = MotionBoxLog()
    rng = np.random.default_rng(5)
    given = {i: rng.uniform(0, 300, (int(rng.integers(0, 4)), 4)) for i in range(2000)}
    for i, boxes in given.items():          # more than the first table holds: it grows
        log.add(i, boxes)
    for i in (0, 7, 999, 1999):
        assert np.allclose(log.at(i), given[i], atol=1e-3)
    assert log.at(5000).shape == (0, 4)
    late = MotionBoxLog()                   # frames given out of order are still found
    late.add(9, np.array([[1.0, 2.0, 3.0, 4.0]]))
    late.add(4, np.array([[5.0, 6.0, 7.0, 8.0], [0.0, 0.0, 1.0, 1.0]]))
    assert late.at(4).tolist() == [[5.0, 6.0, 7.0, 8.0], [0.0, 0.0, 1.0, 1.0]]
    assert late.at(9).tolist() == [[1.0, 2.0, 3.0, 4.0]]


@pytest.mark.parametrize("options", [
    {"fall_seconds": 0.0},
    {"min_fall": -1.0},
    {"max_remaining": 0.0},
    {"max_remaining": 1.5},
    {"fragment_size": 0.0},
    {"min_fragments": 0},
    {"spray_seconds": -0.1},
    {"bottom_margin": 2.0},
    {"strength": 0.0},
    {"max_size": 1.5},
])
def test_bad_options_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        SplashConfig(**options)


# -- through the analysis, on rendered frames ------------------------------------------------------

W, H = 320, 240
WATER = 160           # the water line: rows below it are water
BOX = 36
G = 0.35              # px / frame^2 of the falling thing and the drops
TOP0 = 10.0


def _top(i: int) -> float:
    return TOP0 + 0.5 * G * i * i


CONTACT = next(i for i in range(200) if _top(i) + BOX >= WATER)   # its bottom reaches the water


def _background(rng: np.random.Generator) -> np.ndarray:
    coarse = rng.uniform(90, 170, (H // 20, W // 20, 3)).astype(np.float32)
    img = cv2.resize(coarse, (W, H), interpolation=cv2.INTER_CUBIC)
    water = rng.uniform(0, 40, (H - WATER, W, 3)) + np.array([150.0, 90.0, 40.0])   # BGR blue
    img[WATER:] = water
    return np.clip(img + rng.normal(0, 3, (H, W, 3)), 0, 255).astype(np.uint8)


def _thing(img: np.ndarray, top: float, cut: int) -> None:
    """The falling thing: a bright textured square, drawn only above row `cut`."""
    x0, y0 = 150, int(round(top))
    patch = np.full((BOX, BOX, 3), (60, 200, 230), np.uint8)
    cv2.line(patch, (6, BOX // 2), (BOX - 6, BOX // 2), (30, 40, 60), 4)
    cv2.line(patch, (BOX // 2, 6), (BOX // 2, BOX - 6), (30, 40, 60), 4)
    rows = np.arange(y0, y0 + BOX)
    keep = (rows < cut) & (rows >= 0) & (rows < H)
    img[rows[keep], x0:x0 + BOX] = patch[keep]


def _drops(img: np.ndarray, since: int, origin: tuple[float, float]) -> None:
    """Five drops thrown up and out from `origin`, `since` frames ago, falling back into the
    water."""
    for vx, vy in ((-10.0, -6.0), (-5.0, -9.0), (0.5, -11.0), (5.5, -8.5), (10.5, -6.5)):
        x = origin[0] + vx * since
        y = origin[1] + vy * since + 0.5 * G * since * since
        if y < WATER - 2:
            cv2.rectangle(img, (int(x) - 3, int(y) - 3), (int(x) + 3, int(y) + 3),
                          (250, 240, 200), -1)


def _frames(case: str, frames: int = 75) -> Iterator[VideoFrame]:
    """"splash": the thing falls into the water (drawn only above the water line as it sinks)
    and drops fly up from where it went in; "behind": the same without drops (a wall hides it);
    "lands": it stops on the water line and stays, and drops fly up; "spray": drops only."""
    rng = np.random.default_rng(11)
    background = _background(rng)
    for i in range(frames):
        img = background.copy()
        if case != "spray":
            top = min(_top(i), WATER - BOX) if case == "lands" else _top(i)
            _thing(img, top, WATER)
        if case in ("splash", "lands", "spray") and i >= CONTACT:
            _drops(img, i - CONTACT + 1, (150 + BOX / 2, WATER - 4))
        noisy = np.clip(img.astype(np.int16) + rng.normal(0, 2, img.shape).astype(np.int16),
                        0, 255).astype(np.uint8)
        yield VideoFrame(index=i, time=i / FPS, image=noisy, scale=1.0)


CLIP = VideoInfo(path="splash.mp4", width=W, height=H, fps=Fraction(FPS), duration=75 / FPS,
                 frames=75)
CONFIG = AnalysisConfig(recognize=RecognizeConfig(enabled=False))


def _splashes(result: Analysis) -> list[float]:
    return sorted(e.time for t in result.objects for e in t.events if e.kind == SPLASH)


@pytest.mark.slow
@pytest.mark.parametrize("case, found", [
    ("splash", True),
    ("behind", False),
    ("lands", False),
    ("spray", False),
])
def test_a_thing_falling_into_water_gets_one_splash_at_the_contact(case: str,
                                                                   found: bool) -> None:
    splashes = _splashes(analyze_frames(_frames(case), CLIP, config=CONFIG))
    if not found:
        assert splashes == []
        return
    assert len(splashes) == 1
    # the spray shows once its drops are apart from the thing (here on the second frame after
    # the contact): the splash is never early, and late by less than 100 ms
    assert 0.0 <= splashes[0] - CONTACT / FPS < 0.1


@pytest.mark.slow
def test_splashes_can_be_turned_off() -> None:
    config = AnalysisConfig(recognize=RecognizeConfig(enabled=False),
                            splashes=SplashConfig(enabled=False))
    assert _splashes(analyze_frames(_frames("splash"), CLIP, config=config)) == []
