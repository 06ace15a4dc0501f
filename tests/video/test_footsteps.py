"""Footsteps from pose: heel strikes in synthetic foot paths with known landing times, left and
right apart, the pose/box decision, and the box-bob fallback on a clip without a body."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from video.analyze import AnalysisConfig
from video.base.tracks import Analysis, Event, Track, VideoInfo
from video.cadence import CadenceConfig
from video.footsteps import (
    FootstepConfig,
    TrackPoses,
    apply_footsteps,
    estimate_poses,
    heel_strikes,
    same_foot_share,
    sample_frames,
    steps_from_poses,
    stride_to_step,
)
from video.pose import (
    LANDMARKS,
    LEFT_ANKLE,
    LEFT_HEEL,
    LEFT_HIP,
    LEFT_SHOULDER,
    RIGHT_ANKLE,
    RIGHT_HEEL,
    RIGHT_HIP,
    RIGHT_SHOULDER,
    Pose,
)

SCALE = 100.0      # body size in pixels
STRIDE = 0.45      # one foot's swing, body sizes


def walking_foot(times: np.ndarray, *, period: float, swing: float, phase: float,
                 speed_profile: str = "constant", x0: float = 100.0, ground: float = 300.0,
                 lift: float = 0.06) -> tuple[np.ndarray, np.ndarray]:
    """(points (n, 2), landing times) of one foot walking right: at rest, then a swing of
    `swing` seconds ending (landing) at phase + k * period, STRIDE body sizes forward each time.
    "constant": the foot arrives at constant speed; "braking": it slows steadily through the
    swing and lands at a third of its starting speed, as heels brake before they strike."""
    landings = np.arange(phase, times[-1] + period, period)
    x = np.full(len(times), x0)
    y = np.full(len(times), ground)
    for i, t in enumerate(times):
        done = np.sum(landings <= t - 0.0)
        u = 1.0
        nxt = landings[landings > t]
        if len(nxt) and nxt[0] - swing < t:
            u = (t - (nxt[0] - swing)) / swing
            if speed_profile == "braking":
                u = u * (1.5 - 0.5 * u)
            y[i] = ground - lift * SCALE * np.sin(np.pi * u)
            x[i] = x0 + STRIDE * SCALE * (done + u)
        else:
            x[i] = x0 + STRIDE * SCALE * done
    return np.stack([x, y], axis=1), landings[(landings > times[0] + swing) &
                                              (landings < times[-1])]


def walk(fps: float, seconds: float, *, period: float = 1.0, swing: float = 0.4,
         phase: float = 0.57, profile: str = "constant") -> tuple[np.ndarray, ...]:
    """(times, left, right, body, left landings, right landings) of a walker going right: the
    right foot lands half a period after the left, the hips move on at the feet's mean pace."""
    times = np.arange(0, seconds, 1 / fps)
    left, left_truth = walking_foot(times, period=period, swing=swing, phase=phase,
                                    speed_profile=profile)
    right, right_truth = walking_foot(times, period=period, swing=swing, phase=phase + period / 2,
                                      speed_profile=profile, x0=100.0 + STRIDE * SCALE / 2)
    body = np.stack([(left[:, 0] + right[:, 0]) / 2, np.full(len(times), 300.0 - SCALE)], axis=1)
    return times, left, right, body, left_truth, right_truth


@pytest.mark.parametrize("fps, phase, profile, tolerance_frames", [
    (10.0, 0.537, "constant", 0.05),
    (12.0, 0.611, "constant", 0.05),
    (30.0, 0.777, "constant", 0.05),
    (10.0, 0.537, "braking", 0.5),
    (25.0, 0.523, "braking", 0.5),
])
def test_landing_times_below_a_frame(fps: float, phase: float, profile: str,
                                     tolerance_frames: float) -> None:
    times, left, right, body, lt, rt = walk(fps, 8.0, phase=phase, profile=profile)
    strikes = heel_strikes(times, left, right, body, np.ones(len(times), bool), scale=SCALE)
    for side, truth in (("left", lt), ("right", rt)):
        found = np.array([s.time for s in strikes if s.foot == side])
        assert len(found) == len(truth), (side, found, truth)
        error = np.abs(found - truth) * fps
        assert error.max() <= tolerance_frames, error
        # each step is where its foot landed, one stride after the last
        landed = np.array([s.x for s in strikes if s.foot == side])
        assert np.allclose(np.diff(landed), STRIDE * SCALE, atol=0.5)


def test_swapped_labels_noise_and_a_lost_sample_keep_the_steps() -> None:
    rng = np.random.default_rng(3)
    fps = 10.0
    times, left, right, body, lt, rt = walk(fps, 10.0, period=1.1, swing=0.45, phase=0.64)
    left = left + rng.normal(0, 0.01 * SCALE, left.shape)
    right = right + rng.normal(0, 0.01 * SCALE, right.shape)
    swapped = rng.random(len(times)) < 0.2            # the model mixes the legs up on 1 in 5
    left[swapped], right[swapped] = right[swapped].copy(), left[swapped].copy()
    valid = np.ones(len(times), bool)
    valid[[20, 51]] = False                           # occluded for a frame
    strikes = heel_strikes(times, left, right, body, valid, scale=SCALE)
    truth = np.sort(np.concatenate([lt, rt]))
    found = np.array([s.time for s in strikes])
    assert len(found) == len(truth)
    assert np.abs(found - truth).max() < 1.0 / fps
    # feet alternate, and the majority vote gives each its own landings
    assert [s.foot for s in strikes] == ["left" if t in lt else "right" for t in truth]


def test_standing_and_a_kick_are_not_steps() -> None:
    times = np.arange(0, 6.0, 0.1)
    rng = np.random.default_rng(1)
    left = np.tile([200.0, 300.0], (len(times), 1)) + rng.normal(0, 0.01 * SCALE, (len(times), 2))
    right = np.tile([215.0, 300.0], (len(times), 1)) + rng.normal(0, 0.01 * SCALE, (len(times), 2))
    body = np.tile([207.0, 200.0], (len(times), 1))
    valid = np.ones(len(times), bool)
    assert heel_strikes(times, left, right, body, valid, scale=SCALE) == []
    # walking, but a foot kicked up high (coming to rest 0.5 body sizes off the ground) is no step
    times, left, right, body, lt, rt = walk(10.0, 6.0)
    kicked = left.copy()
    during = (times > lt[1] - 0.4) & (times < lt[1] + 0.3)
    kicked[during, 1] -= 0.5 * SCALE * np.sin(np.pi * (times[during] - (lt[1] - 0.4)) / 0.7)
    normal = [s.time for s in heel_strikes(times, left, right, body, valid[:len(times)],
                                           scale=SCALE) if s.foot == "left"]
    with_kick = [s.time for s in heel_strikes(times, kicked, right, body, valid[:len(times)],
                                              scale=SCALE) if s.foot == "left"]
    assert any(abs(t - lt[1]) < 0.1 for t in normal)
    assert not any(abs(t - lt[1]) < 0.1 for t in with_kick)


def _pose(left: np.ndarray, right: np.ndarray, hips: np.ndarray, *, score: float = 0.99,
          visibility: float = 0.9) -> Pose:
    points = np.zeros((LANDMARKS, 2))
    points[[LEFT_HIP, RIGHT_HIP]] = hips
    points[[LEFT_SHOULDER, RIGHT_SHOULDER]] = (left + right) / 2 - [0, SCALE]
    points[[LEFT_ANKLE, LEFT_HEEL]] = left
    points[[RIGHT_ANKLE, RIGHT_HEEL]] = right
    return Pose(points=points, visibility=np.full(LANDMARKS, visibility),
                presence=np.ones(LANDMARKS), score=score)


def _walk_poses(fps: float, seconds: float, **pose_kw: float) -> tuple[
        TrackPoses, VideoInfo, np.ndarray, np.ndarray]:
    info = VideoInfo(path="walk.mp4", width=640, height=360, fps=Fraction(fps).limit_denominator(),
                     duration=seconds, frames=round(seconds * fps))
    times, left, right, body, left_truth, right_truth = walk(fps, seconds)
    poses = tuple(_pose(a, b, c, **pose_kw) for a, b, c in zip(left, right, body, strict=True))
    return TrackPoses(np.arange(len(times)), poses), info, left_truth, right_truth


def test_left_and_right_feet_are_separate_steps_panned_at_each_foot() -> None:
    samples, info, left_truth, right_truth = _walk_poses(12.0, 6.0)
    steps = steps_from_poses(samples, info)
    assert steps is not None
    for side, truth in (("left", left_truth), ("right", right_truth)):
        mine = [e for e in steps if e.foot == side]
        assert np.allclose([e.time for e in mine], truth, atol=0.05 / 12)
        assert all(e.kind == "step" and e.x is not None for e in mine)
    # the left foot starts at x 100, the right at 120: each step sits at its own foot
    first_left = next(e for e in steps if e.foot == "left")
    first_right = next(e for e in steps if e.foot == "right")
    assert first_left.x is not None and first_right.x is not None
    assert first_left.x == pytest.approx(100.0 + STRIDE * SCALE, abs=0.01)
    assert first_right.x == pytest.approx(100.0 + 1.5 * STRIDE * SCALE, abs=0.01)
    cadence = len(steps) / (6.0 - 0.4)
    assert 1.6 <= cadence <= 2.2


@pytest.mark.parametrize("pose_kw", [{"score": 0.1}, {"visibility": 0.2}])
def test_pose_not_found_means_no_pose_steps(pose_kw: dict[str, float]) -> None:
    samples, info, _, _ = _walk_poses(10.0, 5.0, **pose_kw)
    assert steps_from_poses(samples, info) is None


def test_sample_frames_follow_the_rate() -> None:
    track = Track(id=1, label="person", frames=np.arange(10, 71),
                  boxes=np.tile([0.0, 0.0, 10.0, 30.0], (61, 1)))
    assert sample_frames(track, fps=30.0, rate=10.0).tolist() == list(range(10, 71, 3))
    assert sample_frames(track, fps=10.0, rate=12.0).tolist() == list(range(10, 71))
    # standing for 3 s, then walking right at a box height a second: only the walk (and half a
    # second before it) is sampled
    x = np.where(np.arange(60) < 30, 0.0, (np.arange(60) - 30) * 3.0)
    boxes = np.stack([x, np.zeros(60), x + 10, np.full(60, 30.0)], axis=1)
    walker = Track(id=2, label="person", frames=np.arange(60), boxes=boxes)
    frames = sample_frames(walker, fps=10.0, rate=10.0, min_speed=0.3)
    assert frames[0] in range(22, 28) and frames[-1] == 59
    assert np.all(np.diff(frames) == 1)


@pytest.mark.parametrize("kwargs", [{"rate": 0}, {"min_found": 1.5}, {"min_interval": 0},
                                    {"fill_steps": -1}, {"fill_tolerance": 0.6},
                                    {"bob_ratio": 0}, {"follow_s": -1},
                                    {"margin": 0.5}, {"min_samples": 1}])
def test_bad_config_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        FootstepConfig(**kwargs)  # type: ignore[arg-type]


def test_event_records_keep_foot_and_x_and_stay_compatible() -> None:
    plain = Event(time=1.0, strength=0.5, kind="step")
    assert plain.to_dict() == {"time": 1.0, "strength": 0.5, "kind": "step"}
    footed = Event(time=1.25, strength=0.5, kind="step", foot="left", x=123.456)
    assert footed.to_dict() == {"time": 1.25, "strength": 0.5, "kind": "step", "foot": "left",
                                "x": 123.46}
    assert Event.from_dict(footed.to_dict()) == footed
    assert Event.from_dict(plain.to_dict()) == plain
    with pytest.raises(ValueError):
        Event(time=1.0, strength=0.5, kind="step", foot="middle")


# ----------------------------------------------------------------------------------------------
# the pass over a clip: fallback without a body, warning without weights


@pytest.fixture(scope="module")
def walker_clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Analysis]:
    """A synthetic walker (a bobbing block, no body) written to a file and analysed, labelled a
    person so the pose runs on it."""
    from video.synth import ObjectSpec, SceneSpec, scene_truth, write_clip
    spec = SceneSpec(width=480, height=270, fps=Fraction(30), duration=4.0, seed=7, noise=2,
                     objects=(ObjectSpec("walker", start=(0.1, 0.35), velocity=(0.18, 0),
                                         size=0.45, color=(40, 90, 235)),))
    path = tmp_path_factory.mktemp("walk") / "walker.mp4"
    write_clip(spec, str(path))
    truth = scene_truth(spec)
    person = truth.objects[0].with_changes(label="person", events=())
    return path, truth.with_objects([person])


@pytest.mark.parametrize("config, why", [
    (FootstepConfig(), "the stick figure's bar legs do not scissor: the pose misses steps"),
    (FootstepConfig(min_score=1.0), "no sample is sure enough of a person: pose not found"),
])
def test_box_bob_steps_where_the_pose_fails(walker_clip: tuple[Path, Analysis],
                                            config: FootstepConfig, why: str) -> None:
    path, analysis = walker_clip
    from video.events import detect_steps
    result = apply_footsteps(path, analysis, config=config)
    (track,) = result.objects
    assert track.extra["steps_from"] == "box", why
    bob = detect_steps(track, analysis.video)
    assert len(bob) >= 3
    assert [e.time for e in track.events if e.kind == "step"] == [e.time for e in bob]
    assert all(e.foot is None and e.x is None for e in track.events)


def _corrupt(tmp_path: Path) -> Path:
    from video.pose import MODEL_PATH
    bad = tmp_path / "corrupt.tflite"
    data = bytearray(MODEL_PATH.read_bytes())
    data[4000:4016] = bytes(16)
    bad.write_bytes(bytes(data))
    return bad


@pytest.mark.parametrize("make, words", [(_corrupt, "corrupt"),
                                         (lambda d: d / "missing.tflite", "not found")])
def test_bad_weights_warn_once_and_use_box_bob(walker_clip: tuple[Path, Analysis],
                                               tmp_path: Path, make: object, words: str) -> None:
    path, analysis = walker_clip
    weights = make(tmp_path)  # type: ignore[operator]
    heard: list[str] = []
    result = apply_footsteps(path, analysis, config=FootstepConfig(weights=str(weights)),
                             warn=heard.append)
    assert len(heard) == 1 and words in heard[0] and "footsteps from pose off" in heard[0]
    assert result.objects[0].extra["steps_from"] == "box"


def test_off_gives_box_bob_steps_and_other_objects_are_left_alone(
        walker_clip: tuple[Path, Analysis]) -> None:
    path, analysis = walker_clip
    from video.events import detect_steps
    off = apply_footsteps(path, analysis, config=FootstepConfig(enabled=False))
    assert off.objects[0].extra["steps_from"] == "box"
    assert [e.time for e in off.objects[0].events] == \
        [e.time for e in detect_steps(analysis.objects[0], analysis.video)]
    car = analysis.with_objects([analysis.objects[0].with_changes(label="car")])
    assert apply_footsteps(path, car) is car
    assert isinstance(AnalysisConfig().footsteps, FootstepConfig)


@pytest.mark.parametrize("squash, found_in_window", [(0.1, 2), (0.0, 0)])
def test_hidden_steps_are_taken_from_weak_maxima_never_invented(squash: float,
                                                                found_in_window: int) -> None:
    """For 1.1 s the feet's separation shrinks to `squash` of itself (one foot hides the other):
    its weak maxima there are the steps of the walk's rhythm; a flat separation gives none."""
    fps = 10.0
    times, left, right, body, lt, rt = walk(fps, 8.0)
    window = (times > 3.3) & (times < 4.4)
    for foot in (left, right):
        foot[window, 0] = body[window, 0] + squash * (foot[window, 0] - body[window, 0])
    strikes = heel_strikes(times, left, right, body, np.ones(len(times), bool), scale=SCALE)
    found = np.array([s.time for s in strikes])
    truth = np.sort(np.concatenate([lt, rt]))
    inside = truth[(truth > 3.3) & (truth < 4.4)]
    assert len(inside) == 2
    assert np.sum((found > 3.3) & (found < 4.4)) == found_in_window
    outside = truth[(truth < 3.3) | (truth > 4.4)]
    assert all(np.min(np.abs(found - t)) < 1 / fps for t in outside)
    if found_in_window:
        assert all(np.min(np.abs(found - t)) < 1 / fps for t in inside)


@pytest.mark.parametrize("squash, other_foot_found", [(0.1, True), (0.0, False)])
def test_one_foots_landings_alone_are_strides_and_the_other_foots_are_looked_for(
        squash: float, other_foot_found: bool) -> None:
    """Seen from behind, the right foot barely leaves the left when it lands ahead (its lead is
    `squash` of a normal one): only the left foot's landings are strong peaks, a second apart,
    slower than any walk. They are strides; the right foot's weak maxima halfway between are its
    landings. Where the separation is flat there, nothing is invented."""
    fps = 10.0
    times, left, right, body, lt, rt = walk(fps, 8.0, period=1.0)
    ahead = right[:, 0] > left[:, 0]
    right[ahead, 0] = left[ahead, 0] + squash * (right[ahead, 0] - left[ahead, 0])
    strikes = heel_strikes(times, left, right, body, np.ones(len(times), bool), scale=SCALE)
    found = np.array([s.time for s in strikes])
    truth = np.sort(np.concatenate([lt, rt])) if other_foot_found else lt
    assert len(found) == len(truth), (found, truth)
    assert np.abs(found - truth).max() < 1 / fps


def test_slow_steps_of_both_feet_are_not_taken_for_strides() -> None:
    """A slow-motion walk: both feet land, a step a second (slower than any real walk), the
    lead alternating. Jitter leaves a small separation maximum halfway between each two
    landings; read as one foot's strides, each would become a step. Here none does."""
    fps = 10.0
    times, left, right, body, lt, rt = walk(fps, 12.0, period=2.0, swing=0.6)
    truth = np.sort(np.concatenate([lt, rt]))
    for a, b in zip(truth, truth[1:], strict=False):
        k = int(np.argmin(np.abs(times - (a + b) / 2 - 0.1)))
        lead = left if abs(left[k, 0] - right[k, 0]) < 1e-9 or left[k, 0] > right[k, 0] \
            else right
        lead[k, 0] += 0.1 * SCALE           # a one-sample bump as the feet come to pass
    strikes = heel_strikes(times, left, right, body, np.ones(len(times), bool), scale=SCALE)
    found = np.array([s.time for s in strikes])
    landings = np.arange(0.57, 12.0, 1.0)     # both feet's, the first before the truth's window
    assert all(np.min(np.abs(landings - f)) < 1 / fps for f in found), found   # none halfway
    inside = (truth > 1.0) & (truth < 11.0)
    assert np.sum((found > 1.0) & (found < 11.0)) == inside.sum()


@pytest.mark.parametrize("period, same_foot, step", [
    (1.0, 1.0, 0.5),     # one foot's landings: a stride of two walking steps
    (0.9, 0.75, 0.45),
    (0.9, 0.5, 0.9),     # the lead alternates as often as not: both feet's, slow
    (1.4, 0.0, 1.4),     # every step the other foot's: a slow walk, left alone
    (0.6, 1.0, 0.6),     # a walking step period stays
    (0.4, 1.0, 0.4),
    (2.0, 1.0, 2.0),     # half of it is no walking step either: left alone
])
def test_stride_to_step(period: float, same_foot: float, step: float) -> None:
    assert stride_to_step(period, same_foot=same_foot) == pytest.approx(step)


@pytest.mark.parametrize("ahead, share", [
    ([3.0, 2.0, 4.0], 1.0),
    ([3.0, -2.0, 4.0, -1.0], 0.0),
    ([3.0, 2.0, -4.0], 0.5),
    ([5.0], 0.0),
    ([], 0.0),
])
def test_same_foot_share(ahead: list[float], share: float) -> None:
    assert same_foot_share(np.array(ahead)) == pytest.approx(share)


@pytest.mark.parametrize("fill", [True, False])
def test_a_walk_the_picture_shows_no_steps_of_gets_them_at_its_cadence(fill: bool) -> None:
    """A far person whose box glides (no bob) across 8 s with the pose off: its walk is filled
    with steps at the cadence of its speed, marked as filled; with the fill off it stays
    silent, as before."""
    fps = 25
    n = 8 * fps
    x = 40.0 + 8.0 * np.arange(n) / fps            # 8 px/s, 20 px tall: 0.4 heights a second
    boxes = np.stack([x, np.full(n, 100.0), x + 8.0, np.full(n, 120.0)], 1)
    track = Track(id=1, label="person", frames=np.arange(n), boxes=boxes)
    info = VideoInfo(path="far.mp4", width=640, height=360, fps=Fraction(fps), duration=8.0,
                     frames=n)
    config = FootstepConfig(enabled=False, cadence=CadenceConfig(enabled=fill))
    result = apply_footsteps("far.mp4", Analysis(video=info, objects=(track,)), config=config)
    person = result.objects[0]
    steps = [e for e in person.events if e.kind == "step"]
    if not fill:
        assert steps == [] and person.extra["steps_from"] == "box"
        return
    rate = len(steps) / 7.0                        # the walk as the 1 s window sees it
    assert 1.4 <= rate <= 2.3 and all(e.filled and e.foot is None for e in steps)
    assert person.extra["steps_from"] == "cadence"
    assert person.extra["steps_filled"] == len(steps)


def test_preloaded_pose_file_is_the_one_the_pass_loads(tmp_path: Path) -> None:
    from video.footsteps import preload_pose_model
    from video.pose import MODEL_PATH, MODEL_SHA256, USED_OUTPUTS, PoseUnavailable
    from video.recognize import model_bytes
    copy = tmp_path / "pose.tflite"     # its own cache entry: prepared by this test only
    copy.write_bytes(MODEL_PATH.read_bytes())
    thread = preload_pose_model(FootstepConfig(weights=str(copy)))
    assert thread is not None
    thread.join(timeout=60)
    assert not thread.is_alive()
    kw = {"sha256": MODEL_SHA256, "what": "pose model", "error": PoseUnavailable,
          "outputs": USED_OUTPUTS}
    prepared = model_bytes(copy.resolve(), **kw)  # type: ignore[arg-type]
    assert model_bytes(copy.resolve(), **kw) is prepared  # type: ignore[arg-type]
    assert len(prepared) < copy.stat().st_size   # pruned
    # a file changed since is read again, not served from the cache
    data = bytearray(copy.read_bytes())
    data[4000:4016] = bytes(16)
    copy.write_bytes(bytes(data))
    os.utime(copy, ns=(copy.stat().st_atime_ns, copy.stat().st_mtime_ns + 10**9))
    with pytest.raises(PoseUnavailable, match="corrupt"):
        model_bytes(copy.resolve(), **kw)  # type: ignore[arg-type]
    assert preload_pose_model(FootstepConfig(enabled=False)) is None


def test_a_preload_of_bad_weights_leaves_the_one_warning_to_the_pass(
        walker_clip: tuple[Path, Analysis], tmp_path: Path) -> None:
    from video.footsteps import preload_pose_model
    config = FootstepConfig(weights=str(_corrupt(tmp_path)))
    thread = preload_pose_model(config)
    assert thread is not None
    thread.join(timeout=60)
    heard: list[str] = []
    path, analysis = walker_clip
    result = apply_footsteps(path, analysis, config=config, warn=heard.append)
    assert len(heard) == 1 and "corrupt" in heard[0]
    assert result.objects[0].extra["steps_from"] == "box"


@pytest.mark.parametrize("min_found", [0.5, 0.8])
def test_a_track_whose_pose_cannot_count_gets_no_more_crops(walker_clip: tuple[Path, Analysis],
                                                            min_found: float) -> None:
    """Once a track has missed more samples than `min_found` allows, its pose cannot count
    whatever the rest would show: its remaining samples are not estimated, and the outcome
    (box-bob steps) is the one estimating them all would give."""
    from video.pose import load_pose_model
    path, analysis = walker_clip
    model = load_pose_model()
    calls: list[int] = []
    estimate = model.estimate

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return estimate(*args, **kwargs)  # type: ignore[arg-type]

    model.estimate = counted  # type: ignore[method-assign]
    never = FootstepConfig(min_score=1.0, min_found=min_found)   # no sample ever counts
    (samples,) = estimate_poses(path, list(analysis.objects), analysis.video, model,
                                config=never)
    n = len(samples.frames)
    assert n > 10
    # the fewest misses after which even all the rest found could not reach min_found
    misses = next(m for m in range(n + 1) if n - m < min_found * n)
    assert len(calls) == misses
    assert sum(p is not None for p in samples.poses) == len(calls)
    assert steps_from_poses(samples, analysis.video, config=never) is None
    assert apply_footsteps(path, analysis, config=never).objects[0].extra["steps_from"] == "box"


def _bobbing_person(fps: int, seconds: float, *, walk_from: float | None) -> tuple[Track, VideoInfo]:
    """A person's box whose top dips with a cusp every 0.5 s (the bob the box-bob detector takes
    for steps) while its bottom stays put; it stands still until `walk_from` seconds, then
    walks at 0.6 box heights a second (None: it stands all along)."""
    n = round(seconds * fps)
    t = np.arange(n) / fps
    height = 100.0
    top = 100.0 - 6.0 * np.abs(np.sin(np.pi * t / 0.5))   # lowest (y largest) at each cusp
    x = np.full(n, 200.0)
    if walk_from is not None:
        x = x + 0.6 * height * np.clip(t - walk_from, 0.0, None)
    boxes = np.stack([x, top, x + 40.0, np.full(n, 100.0 + height)], 1)
    track = Track(id=1, label="person", frames=np.arange(n), boxes=boxes)
    info = VideoInfo(path="bob.mp4", width=960, height=360, fps=Fraction(fps),
                     duration=seconds, frames=n)
    return track, info


@pytest.mark.parametrize("walk_from, first, last", [
    (0.0, 0.0, 8.0),        # walks all along: every bob is a step
    (4.0, 3.5, 8.0),        # stands, then walks: steps from half a second before the walk
    (None, None, None),     # stands and sways all along: no step
])
def test_box_bob_steps_only_while_the_person_walks(walk_from: float | None,
                                                   first: float | None,
                                                   last: float | None) -> None:
    """A person who stands bobs too (swaying, gesturing, talking: the cartoon Blupi standing
    at the end of play103's bridge got four steps from it); box-bob steps are kept only in a
    walk (video.cadence.walks) and half a second around it."""
    from video.events import detect_steps
    track, info = _bobbing_person(25, 8.0, walk_from=walk_from)
    bob = detect_steps(track, info)
    assert len(bob) >= 12                       # the bob alone looks like steps either way
    config = FootstepConfig(enabled=False, cadence=CadenceConfig(enabled=False))
    person = apply_footsteps("bob.mp4", Analysis(video=info, objects=(track,)),
                             config=config).objects[0]
    steps = [e.time for e in person.events if e.kind == "step"]
    if first is None or last is None:
        assert steps == []
        return
    expected = [e.time for e in bob if first <= e.time <= last]
    assert steps == expected and len(steps) >= 7
