"""Hand contacts: touches and releases found in series of hand-to-object gaps with known
crossings, which objects are watched, and on real pictures: balle-jbart.mp4's thrower letting
go of the ball, and the same frames played backwards then forwards (a catch, then the throw)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from model.detector.event_detection import analyze_with_events
from video.analyze import AnalysisConfig
from video.base.tracks import Analysis, Event, Track, VideoInfo
from video.crops import Roi
from video.encode import write_video
from video.hand_contacts import (
    RELEASE,
    TOUCH,
    HandContactConfig,
    apply_hand_contacts,
    contacts_from_gaps,
    hand_gap,
    held_objects,
    track_contacts,
    watch_hands,
)
from video.hands import Hand
from video.reader import VideoReader

CLIP = Path(__file__).resolve().parents[2] / "assets" / "clips" / "balle-jbart.mp4"
FPS = 15.0


@pytest.mark.parametrize("changes", [
    {"rate": 0.0}, {"scan_rate": -1.0}, {"full_speed": 0.0}, {"before": -0.1},
    {"min_contact": -1.0}, {"touch_gap": 0.6}, {"apart_gap": 3.0}, {"min_hand": 1.5},
    {"release_strength": -0.1}, {"max_object": 2.0}, {"grow": 0.5}, {"min_side": 8.0},
    {"max_side": 32}, {"threads": 0}, {"max_step": 0.0}, {"max_aspect": 0.5},
    {"max_strength": 1.5}, {"min_strength": 0.8},
])
def test_bad_options_are_refused(changes: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        HandContactConfig(**changes)


def _hand_at(x: float, y: float, size: float = 20.0) -> Hand:
    """A hand of palm length `size`: wrist at (x, y - size), the other 20 points at (x, y)."""
    points = np.tile([x, y], (21, 1)).astype(float)
    points[0] = (x, y - size)
    points[9] = (x, y)
    return Hand(points=points, score=0.9, right=0.5)


@pytest.mark.parametrize("x, y, gap", [
    (110.0, 120.0, 0.0),            # fingers inside the box
    (90.0, 120.0, 0.5),             # 10 px left of it, palm 20 px
    (130.0, 100.0, np.hypot(10, 10) / 20),
])
def test_gap_is_the_nearest_point_to_the_box_in_hand_sizes(x: float, y: float,
                                                           gap: float) -> None:
    box = np.array([100.0, 110.0, 120.0, 140.0])
    found, at = hand_gap(_hand_at(x, y), box)
    assert found == pytest.approx(gap)
    assert at == pytest.approx(x)


def _series(gap_of: object, duration: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    times = np.arange(0.0, duration, 1.0 / FPS)
    gaps = np.array([gap_of(t) for t in times], dtype=float)  # type: ignore[operator]
    return times, gaps


def _reach(t_touch: float, speed: float) -> object:
    """A hand coming at `speed` hand sizes a second, its fingers on the object from t_touch."""
    cfg = HandContactConfig()
    return lambda t: max(cfg.touch_gap + speed * (t_touch - t), 0.0) if t < t_touch else 0.0


@pytest.mark.parametrize("t_touch, speed", [(1.0, 4.0), (1.23, 8.0), (1.51, 2.0)])
def test_a_reach_is_a_touch_where_the_gap_closes(t_touch: float, speed: float) -> None:
    times, gaps = _series(_reach(t_touch, speed))
    events = contacts_from_gaps(times, gaps, np.full(len(times), 321.0))
    assert [e.kind for e in events] == [TOUCH]
    assert events[0].time == pytest.approx(t_touch, abs=0.01)
    assert events[0].x == 321.0
    # a faster reach is a harder touch, never a full hit: 0.2 + 0.5 x speed / 8 (to 0.7)
    assert events[0].strength == pytest.approx(0.2 + 0.5 * min(speed / 8.0, 1.0), abs=0.1)


@pytest.mark.parametrize("t_release", [0.8, 1.37, 2.0])
def test_letting_go_is_a_release_where_the_gap_opens(t_release: float) -> None:
    cfg = HandContactConfig()
    times, gaps = _series(lambda t: 0.05 if t < t_release else cfg.touch_gap
                          + 3.0 * (t - t_release))
    events = contacts_from_gaps(times, gaps, np.zeros(len(times)))
    assert [e.kind for e in events] == [RELEASE]
    assert events[0].time == pytest.approx(t_release, abs=0.01)
    assert events[0].strength == cfg.release_strength


def test_a_grab_and_let_go_with_noisy_landmarks_is_one_touch_and_one_release() -> None:
    """Held from 1.0 to 2.0 s; while held the landmarks' gap wobbles between 0 and 0.3 (on
    real hands holding a ball or a cup: 0 to 0.2): still one touch and one release."""
    rng = np.random.default_rng(5)

    def gap(t: float) -> float:
        if t < 1.0:
            return 0.15 + 3.0 * (1.0 - t)
        if t < 2.0:
            return float(rng.uniform(0.0, 0.3))
        return 0.15 + 3.0 * (t - 2.0)

    times, gaps = _series(gap)
    events = contacts_from_gaps(times, gaps, np.zeros(len(times)))
    assert [e.kind for e in events] == [TOUCH, RELEASE]
    assert events[0].time == pytest.approx(1.0, abs=1 / FPS)
    assert events[1].time == pytest.approx(2.0, abs=1 / FPS)


@pytest.mark.parametrize("name, gap_of", [
    ("held throughout", lambda t: 0.0),
    ("apart throughout", lambda t: 1.5),
    ("a hand sweeping past in front", lambda t: 0.0 if 1.0 <= t < 1.1 else 2.0),
    ("apart only for a moment", lambda t: 1.0 if 1.0 <= t < 1.07 else 0.0),
    ("lost between apart and held", lambda t: 2.0 if t < 1.0 else np.nan if t < 1.6 else 0.0),
])
def test_no_contact_without_a_stretch_apart_and_one_held(name: str, gap_of: object) -> None:
    times, gaps = _series(gap_of)
    assert contacts_from_gaps(times, gaps, np.zeros(len(times))) == [], name


@pytest.mark.parametrize("times, gaps, xs", [
    ([0.0, 0.1], [1.0], [0.0, 0.0]),
    ([0.0, 0.1, 0.1], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]),
    ([0.2, 0.1], [1.0, 0.0], [0.0, 0.0]),
])
def test_bad_series_are_refused(times: list[float], gaps: list[float], xs: list[float]) -> None:
    with pytest.raises(ValueError):
        contacts_from_gaps(np.array(times), np.array(gaps), np.array(xs))


def _track(tid: int, label: str, box: tuple[float, float, float, float]) -> Track:
    return Track(id=tid, label=label, frames=np.arange(10),
                 boxes=np.tile(np.array(box, dtype=float), (10, 1)))


def test_watched_objects_are_the_ones_a_hand_could_hold() -> None:
    info = VideoInfo(path="x.mp4", width=640, height=360, fps=Fraction(25), duration=10.0,
                     frames=250)
    objects = [
        _track(1, "unknown", (100, 100, 140, 130)),       # a small thing
        _track(2, "person", (100, 50, 160, 300)),
        _track(3, "car", (300, 200, 400, 260)),
        _track(4, "ambience", (0, 0, 640, 360)),
        _track(5, "cup", (10, 10, 400, 300)),             # over a quarter of the picture
        _track(6, "unknown", (10, 100, 210, 120)),        # a streak 10 times longer than wide
        _track(7, "sports ball", (500, 300, 520, 320)),
    ]
    analysis = Analysis(video=info, objects=objects)
    assert held_objects(analysis) == [0, 6]


# ----------------------------------------------------------------------------------------------
# real pictures

# balle-jbart.mp4 (25 fps): the thrower's fingertips are on the ball up to frame 5 and a gap
# shows from frame 6 (stepped through on 3x crops), so the release is at frame 5.5
RELEASE_FRAME = 5.5


@pytest.fixture(scope="module")
def catch_and_throw(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float, float]:
    """balle-jbart's first 60 frames backwards (the ball flies into the hand: a catch), then
    forwards (thrown again): real pictures with a touch and a release at known frames."""
    with VideoReader(CLIP) as reader:
        frames = [f.image for f in reader.frames(start=0, stop=60)]
        fps = reader.info.fps
    path = tmp_path_factory.mktemp("hands") / "catch_and_throw.mp4"
    write_video(path, frames[::-1] + frames, fps, gop=12)
    touch = float((59 - RELEASE_FRAME) / fps)
    release = float((60 + RELEASE_FRAME) / fps)
    return path, touch, release


def _hand_events(analysis: Analysis) -> list[Event]:
    return [e for t in analysis.objects for e in t.events if e.kind in (TOUCH, RELEASE)]


def test_the_real_thrower_lets_go_of_the_ball_where_the_fingers_leave_it() -> None:
    analysis = analyze_with_events(CLIP)
    events = _hand_events(analysis)
    assert [e.kind for e in events] == [RELEASE]
    assert events[0].time == pytest.approx(RELEASE_FRAME / 25, abs=0.05)
    assert 90 <= (events[0].x or 0) <= 125            # at the fingertips, on the left
    ball = next(t for t in analysis.objects if any(e.kind == RELEASE for e in t.events))
    assert ball.extra["hand_looks"] >= 20
    # off: no hand contacts at all
    off = analyze_with_events(CLIP, config=AnalysisConfig(hands=HandContactConfig(enabled=False)))
    assert _hand_events(off) == []


def test_a_real_catch_is_a_touch_and_the_throw_a_release(
        catch_and_throw: tuple[Path, float, float]) -> None:
    path, touch, release = catch_and_throw
    analysis = analyze_with_events(path)
    events = _hand_events(analysis)
    assert [e.kind for e in events] == [TOUCH, RELEASE]
    assert events[0].time == pytest.approx(touch, abs=0.05)
    assert events[1].time == pytest.approx(release, abs=0.05)
    assert events[0].strength > HandContactConfig().min_strength   # the ball came in fast


def test_missing_hand_models_warn_once_and_change_nothing(tmp_path: Path) -> None:
    info = VideoInfo(path=str(CLIP), width=720, height=576, fps=Fraction(25), duration=10.2,
                     frames=255)
    analysis = Analysis(video=info, objects=[_track(1, "unknown", (100, 340, 160, 400))])
    warnings: list[str] = []
    missing = (str(tmp_path / "palm.tflite"), str(tmp_path / "marks.tflite"))
    out = apply_hand_contacts(CLIP, analysis, config=HandContactConfig(weights=missing),
                              warn=warnings.append)
    assert out is analysis
    assert len(warnings) == 1 and warnings[0].startswith("hand contacts off:")


def test_a_drawn_ball_gets_the_throwers_release() -> None:
    """The ball drawn on frame 20 (as in the studio, or `--track`) is followed back into the
    hand; completing it gives it the release, within two frames of the marked one (its box is
    tight on the ball, and the landmarks of a 30-px hand put the fingertips a little off it on
    the frame before it leaves: 56 ms early, docs/EVALUATION.md)."""
    from model.detector.event_detection import complete_seeded_track
    from video.seeded import track_from_seed

    analysis = analyze_with_events(CLIP, config=AnalysisConfig(hands=HandContactConfig(
        enabled=False)))
    with VideoReader(CLIP) as reader:
        drawn = track_from_seed(reader, 20, (190.0, 352.0, 232.0, 393.0), object_id=90)
        assert int(drawn.frames[0]) <= 2
        done = complete_seeded_track(reader, drawn, analysis)
    events = [e for e in done.events if e.kind in (TOUCH, RELEASE)]
    assert [e.kind for e in events] == [RELEASE]
    assert events[0].time == pytest.approx(RELEASE_FRAME / 25, abs=2 / 25)
    # the designer's object is watched even where the analysis's hand pass was off
    assert done.extra["hand_looks"] >= 20


@pytest.mark.parametrize("missed", [(0.93,), (0.87, 0.93), (1.07, 1.13, 1.2), (2.07,)])
def test_looks_that_saw_no_hand_are_stepped_over(missed: tuple[float, ...]) -> None:
    """The models miss a hand on a look now and then (NaN gap), next to the contact too: a
    reach at 1.0 s, held, let go at 2.0 s still gives one touch and one release, on time, with
    a strength in range."""
    def gap(t: float) -> float:
        if any(abs(t - m) < 0.01 for m in missed):
            return np.nan
        if t < 1.0:
            return 0.15 + 4.0 * (1.0 - t)
        return 0.0 if t < 2.0 else 0.15 + 3.0 * (t - 2.0)

    times, gaps = _series(gap)
    events = contacts_from_gaps(times, gaps, np.zeros(len(times)))
    assert [e.kind for e in events] == [TOUCH, RELEASE]
    assert events[0].time == pytest.approx(1.0, abs=1 / FPS)
    assert events[1].time == pytest.approx(2.0, abs=1 / FPS)
    assert 0.2 <= events[0].strength <= 0.7


# ----------------------------------------------------------------------------------------------
# the watch's bookkeeping, with a stand-in for the models (a hand where the picture has one)

FPS_WATCH = Fraction(25)
HAND_XY = np.array([80.0, 120.0])           # the middle of the painted hand


class _PaintedHands:
    """Finds the one hand painted in the test clip (a bright 24x30 patch round HAND_XY) when
    the searched square holds it; follows it while it is there. Counts its calls."""

    def __init__(self) -> None:
        self.searches = 0
        self.follows = 0

    def _hand(self) -> Hand:
        points = np.tile(HAND_XY, (21, 1)) + np.linspace(-10, 10, 21)[:, None] * [0.3, 1.0]
        points[9] = HAND_XY + (12.0, -4.0)       # the fingers reach x 92: the disc's edge
        points[0] = HAND_XY + (-8.0, 8.0)
        return Hand(points=points, score=0.9, right=0.5)

    def find(self, image: np.ndarray, region: Roi, *, min_palm: float = 0.5) -> list[Hand]:
        self.searches += 1
        x, y = HAND_XY
        inside = abs(x - region.cx) < region.side / 2 and abs(y - region.cy) < region.side / 2
        return [self._hand()] if inside else []

    def follow(self, image: np.ndarray, hand: Hand) -> Hand:
        self.follows += 1
        return self._hand()


def _disc_clip(path: Path, leave: int, frames: int = 40) -> list[np.ndarray]:
    """A textured disc (r 12) held against a painted hand until frame `leave`, then flying off
    to the right at 8 px a frame; returns the disc's true boxes."""
    rng = np.random.default_rng(4)
    background = rng.integers(40, 70, (240, 320, 3), dtype=np.uint8)
    yy, xx = np.mgrid[0:240, 0:320]
    stripes = ((xx // 4 + yy // 4) % 2 * 120 + 100).astype(np.uint8)
    images, boxes = [], []
    for f in range(frames):
        cx = 104.0 + max(0, f - leave) * 8.0
        images.append(_painted(background, stripes, hand_x=68, colour=200, cx=cx))
        boxes.append(np.array([cx - 12, 108.0, cx + 12, 132.0]))
    write_video(path, images, FPS_WATCH, gop=6)
    return boxes


def _painted(background: np.ndarray, stripes: np.ndarray, *, hand_x: int,
             colour: int | np.ndarray, cx: float) -> np.ndarray:
    """A frame: the background, a 24x30 hand patch from x `hand_x` (rows 105-134) and the
    striped disc (r 12) centred at (cx, 120)."""
    image = background.copy()
    image[105:135, hand_x:hand_x + 24] = colour
    yy, xx = np.mgrid[0:240, 0:320]
    disc = (xx - cx) ** 2 + (yy - 120) ** 2 <= 144
    image[disc] = np.stack([stripes[disc]] * 3, axis=1)
    return image


def test_a_swollen_box_is_found_again_by_the_objects_picture(tmp_path: Path) -> None:
    """The tracker's boxes take in the hand while it holds the disc (frames 0-9: the union of
    hand and disc, 2.5 times the disc's area); the watch finds the disc inside them by its
    picture, so the release is timed where the disc leaves the fingers, not where the box
    stops swallowing the hand."""
    leave = 10
    path = tmp_path / "disc.mp4"
    truth = _disc_clip(path, leave)
    swollen = [np.array([68.0, 105.0, b[2], 135.0]) if f < leave else b
               for f, b in enumerate(truth)]
    track = Track(id=1, label="unknown", frames=np.arange(40), boxes=np.stack(swollen))
    info = VideoInfo(path=str(path), width=320, height=240, fps=FPS_WATCH, duration=1.6,
                     frames=40)
    model = _PaintedHands()
    looks = watch_hands(path, [track], info, model, config=HandContactConfig())[0]  # type: ignore[arg-type]
    # the hand is seen on every look while the disc is within reach (frames 0-19)
    assert all(looks[f].hands for f in looks if f < 2 * leave)
    for frame, look in looks.items():
        assert look.box is not None
        assert look.box == pytest.approx(truth[frame], abs=2.0), frame
    # palm searches only on the scan frames (3 a second: every 8th), the hand followed between
    # while near (the disc within 2.5 hand sizes, up to about frame 16)
    assert model.searches <= 40 // 8 + 1 and model.follows >= 6
    events = track_contacts(looks, info)
    assert [e.kind for e in events] == [RELEASE]
    # the disc sets off after frame 10 at 8 px a frame: its edge is 0.15 hand sizes (3.5 px)
    # off the fingertips 0.44 frames later
    assert events[0].time == pytest.approx((leave + 0.44) / 25, abs=1 / 25)



SKIN = np.array([230, 170, 140])


class _SkinHands:
    """Finds the skin-coloured patch painted in the test clip, wherever it is, as a hand
    whose fingers are at the patch's right edge."""

    def find(self, image: np.ndarray, region: Roi, *, min_palm: float = 0.5) -> list[Hand]:
        skin = np.abs(image.astype(int) - SKIN).max(axis=2) < 40
        ys, xs = np.nonzero(skin)
        if len(xs) < 50:
            return []
        x0, x1, yc = float(xs.min()), float(xs.max()), float(ys.mean())
        points = np.stack([np.linspace(x0, x1, 21), np.full(21, yc)], axis=1)
        points[0] = (x0, yc + 6.0)                       # the wrist
        points[9] = (x1, yc)                             # the fingers' base, at the right
        return [Hand(points=points, score=0.9, right=0.5)]

    def follow(self, image: np.ndarray, hand: Hand) -> Hand:
        found = self.find(image, Roi(0.0, 0.0, 1.0))
        return found[0] if found else Hand(points=hand.points, score=0.0, right=0.5)


def _carry_clip(path: Path, *, carried: bool) -> list[np.ndarray]:
    """A hand (skin patch, 24x30) holding a textured disc at rest to frame 10; then either both
    move right 6 px a frame (`carried`) or the hand alone moves left 6 px a frame (the disc
    set down and let go). 40 frames at 25 fps; returns the disc's true boxes."""
    rng = np.random.default_rng(6)
    background = rng.integers(40, 70, (240, 320, 3), dtype=np.uint8)
    yy, xx = np.mgrid[0:240, 0:320]
    stripes = ((xx // 4 + yy // 4) % 2 * 120 + 60).astype(np.uint8)
    images, boxes = [], []
    for f in range(40):
        step = max(0, f - 10) * 6.0
        hand_x = 68.0 + (step if carried else -step)
        cx = 104.0 + (step if carried else 0.0)
        images.append(_painted(background, stripes, hand_x=int(hand_x), colour=SKIN, cx=cx))
        boxes.append(np.array([cx - 12, 108.0, cx + 12, 132.0]))
    write_video(path, images, FPS_WATCH, gop=6)
    return boxes


@pytest.mark.parametrize("carried, releases", [(True, 0), (False, 1)])
def test_after_its_track_a_thing_is_let_go_only_where_it_stays(tmp_path: Path, carried: bool,
                                                               releases: int) -> None:
    """The track ends at frame 14. Carried on in the hand (the tracker lost it), the thing is
    not at its last box any more: the hand moving away from that box is no release. Set down
    and left, it is still there: the hand leaving it is one, at the fingers' parting."""
    path = tmp_path / "carry.mp4"
    truth = _carry_clip(path, carried=carried)
    track = Track(id=1, label="unknown", frames=np.arange(15), boxes=np.stack(truth[:15]))
    info = VideoInfo(path=str(path), width=320, height=240, fps=FPS_WATCH, duration=1.6,
                     frames=40)
    looks = watch_hands(path, [track], info, _SkinHands())[0]  # type: ignore[arg-type]
    events = track_contacts(looks, info)
    assert [e.kind for e in events] == [RELEASE] * releases
    if releases:
        # the fingers (x 92) leave the disc's edge (x 92) when the hand sets off after frame 10
        assert events[0].time == pytest.approx(10.6 / 25, abs=1 / 25)
