"""Objects at rest set moving (video.struck): a textured disc that rests (having rolled in, or
lying there from the start, part of the background) and is struck by a bar gets one onset at the
strike, within a frame; a bar passing over it, a slow push and a disc that
leaves untouched get none; onsets go to the track that carries the object away, never to a
self-propelled one, nor to a patch of something bigger."""

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
from video.struck import ONSET, Launch, StruckConfig, attach_launches

W, H, FPS = 320, 180, 30
FRAMES = 180
REST_AT = 60        # the disc rolls in and rests from this frame
STRIKE = 120        # last frame the disc rests; the bar touches it here
RADIUS = 16
HOME = (170.0, 100.0)   # the disc's centre at rest
BAR = (60, 10)          # the striker: a gray bar (w, h)


def _background(rng: np.random.Generator) -> np.ndarray:
    coarse = rng.uniform(90, 170, (H // 20, W // 20, 3)).astype(np.float32)
    img = cv2.resize(coarse, (W, H), interpolation=cv2.INTER_CUBIC)
    return np.clip(img + rng.normal(0, 3, (H, W, 3)), 0, 255).astype(np.uint8)


def _disc(img: np.ndarray, centre: tuple[float, float]) -> None:
    """A coin-like disc: a dark rim, a bright face with a dark cross (texture to match)."""
    cx, cy = int(round(centre[0])), int(round(centre[1]))
    cv2.circle(img, (cx, cy), RADIUS, (70, 50, 30), -1)
    cv2.circle(img, (cx, cy), RADIUS - 3, (210, 170, 90), -1)
    cv2.line(img, (cx - 8, cy), (cx + 8, cy), (60, 40, 20), 3)
    cv2.line(img, (cx, cy - 8), (cx, cy + 8), (60, 40, 20), 3)


def _bar(img: np.ndarray, left: float, y: float) -> None:
    x0, y0 = int(round(left)), int(round(y - BAR[1] / 2))
    cv2.rectangle(img, (x0, y0), (x0 + BAR[0], y0 + BAR[1]), (40, 40, 45), -1)


def _disc_at(case: str, i: int, rest_at: int) -> tuple[float, float]:
    """The disc's centre on frame i: it rolls in from the left and rests at HOME from frame
    `rest_at` (0: it lies there from the start, and becomes background); after STRIKE
    it is knocked away ("strike"), pushed along slowly ("push"), or sets off by itself
    ("leaves"); under a passing bar ("pass") it stays."""
    x, y = HOME
    if i < rest_at:
        return x - 2.0 * (rest_at - i), y
    if i <= STRIKE or case == "pass":
        return HOME
    k = i - STRIKE
    if case == "push":
        return x - 0.5 * k, y
    return x - 9.0 * k, y


def _bar_left(case: str, i: int) -> float | None:
    """The bar's left edge on frame i (None: not in the picture). It comes in from the right
    along the disc's row and meets the disc's right side on STRIKE; in "pass" it runs above
    the disc at the same pace without touching it."""
    if case == "leaves":
        return None
    contact = HOME[0] + RADIUS
    if i < STRIKE - 25:
        return None
    if case == "push":
        return contact - 0.5 * max(0, i - STRIKE) if i > STRIKE else \
            contact + 4.0 * (STRIKE - i)
    if case == "pass":
        return contact + 4.0 * (STRIKE - i)       # runs on, over the disc and beyond
    return contact + 4.0 * abs(STRIKE - i)        # bounces back off the disc


def _frames(case: str, rest_at: int = REST_AT) -> Iterator[VideoFrame]:
    rng = np.random.default_rng(7)
    background = _background(rng)
    for i in range(FRAMES):
        img = background.copy()
        _disc(img, _disc_at(case, i, rest_at))
        left = _bar_left(case, i)
        if left is not None:
            # in "pass" the bar is in front of the disc, a little above its centre
            _bar(img, left, HOME[1] - (6 if case == "pass" else 0))
        noisy = np.clip(img.astype(np.int16) + rng.normal(0, 2, img.shape).astype(np.int16),
                        0, 255).astype(np.uint8)
        yield VideoFrame(index=i, time=i / FPS, image=noisy, scale=1.0)


INFO = VideoInfo(path="struck.mp4", width=W, height=H, fps=Fraction(FPS), duration=FRAMES / FPS,
                 frames=FRAMES)
CONFIG = AnalysisConfig(recognize=RecognizeConfig(enabled=False))


def _onsets(result: Analysis) -> list[float]:
    return sorted(e.time for t in result.objects for e in t.events if e.kind == ONSET)


@pytest.mark.slow
@pytest.mark.parametrize("rest_at", [REST_AT, 0], ids=["came to rest", "there from the start"])
@pytest.mark.parametrize("case, found", [
    ("strike", True),   # knocked away by the bar: one onset at the contact
    ("pass", False),    # a bar passes over it: it is still there after
    ("push", False),    # pushed along slowly: followed, not a hit
    ("leaves", False),  # sets off with nothing touching it
])
def test_a_struck_object_gets_one_onset_at_the_contact(case: str, found: bool,
                                                       rest_at: int) -> None:
    result = analyze_frames(_frames(case, rest_at), INFO, config=CONFIG)
    onsets = _onsets(result)
    if not found:
        assert onsets == []
        return
    assert len(onsets) == 1
    assert onsets[0] == pytest.approx((STRIKE + 0.5) / FPS, abs=1.0 / FPS)


@pytest.mark.slow
def test_the_rest_watch_can_be_turned_off() -> None:
    config = AnalysisConfig(recognize=RecognizeConfig(enabled=False),
                            struck=StruckConfig(enabled=False))
    assert _onsets(analyze_frames(_frames("strike"), INFO, config=config)) == []


# -- attaching launches to tracks ----------------------------------------------------------------

def _track(label: str, first: int, last: int, box: tuple[float, float, float, float],
           velocity: tuple[float, float] = (0.0, 0.0)) -> Track:
    frames = np.arange(first, last + 1)
    step = np.array([*velocity, *velocity]) * (frames - first)[:, None]
    return Track(id=1, label=label, frames=frames,
                 boxes=np.asarray(box, np.float64)[None, :] + step)


HOME_BOX = (154.0, 84.0, 186.0, 116.0)
LAUNCH = Launch(position=120.5, frame=121, box=HOME_BOX)


@pytest.mark.parametrize("tracks, carrier", [
    # the object's own track, starting a frame late just beside its home
    ([_track("object", 122, 150, (110, 84, 142, 116), (-9, 0))], 0),
    # the striker's blob over the home, and the object's own track there too: the object's
    ([_track("object", 100, 140, (150, 70, 250, 120)),
      _track("ball", 121, 150, (150, 84, 182, 116), (-9, 0))], 1),
    # only a person is there: a person is not struck into motion
    ([_track("person", 100, 150, (150, 40, 200, 170))], None),
    # the nearest track is far from the home
    ([_track("object", 121, 150, (10, 10, 40, 40))], None),
    # the home was a small patch of a big track that set off as a whole
    ([_track("object", 100, 150, (100, 20, 260, 170), (-3, 0))], None),
])
def test_onsets_go_to_the_track_that_carries_the_object(tracks: list[Track],
                                                        carrier: int | None) -> None:
    out = attach_launches(tracks, [LAUNCH], info=INFO)
    have = [i for i, t in enumerate(out) if any(e.kind == ONSET for e in t.events)]
    assert have == ([] if carrier is None else [carrier])
    if carrier is not None:
        (event,) = [e for e in out[carrier].events if e.kind == ONSET]
        assert event.time == pytest.approx(120.5 / FPS, abs=1e-6)


def test_a_person_who_stood_still_and_sets_off_gets_no_onset() -> None:
    standing = _track("person", 60, 120, (152, 80, 188, 120))   # the thing at rest
    ball = _track("ball", 121, 150, (150, 84, 182, 116), (-9, 0))
    out = attach_launches([standing, ball], [LAUNCH], info=INFO)
    assert not any(e.kind == ONSET for t in out for e in t.events)


def test_onsets_join_the_track_events_in_time_order() -> None:
    ball = _track("ball", 100, 150, (150, 84, 182, 116))
    ball = ball.with_changes(events=(Event(time=3.0, strength=0.5), Event(time=4.9, strength=0.5)))
    (out,) = attach_launches([ball], [LAUNCH], info=INFO)
    assert [e.kind for e in out.events] == ["impact", ONSET, "impact"]


@pytest.mark.parametrize("options", [
    {"rest_seconds": -1.0},
    {"hold": 1.5},
    {"gone": 0.9, "hold": 0.8},
    {"min_size": 0.0},
    {"min_size": 0.5, "max_size": 0.2},
    {"max_watched": 0},
    {"strength": -0.1},
    {"sudden_seconds": -0.01},
    {"memory_seconds": -1.0},
])
def test_bad_options_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        StruckConfig(**options)
