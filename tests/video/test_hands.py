"""The hand models: the palm detector's anchors and decoding, the crop geometry, and the models
on a real hand (balle-jbart.mp4's thrower, in the repository)."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from video.crops import Roi, crop, to_picture
from video.hands import (
    LANDMARK_PATH,
    PALM_PATH,
    PALM_SIZE,
    Hand,
    HandsUnavailable,
    Palm,
    decode_palms,
    draw_hand,
    landmark_roi,
    load_hand_model,
    palm_anchors,
    palm_roi,
    square_region,
)
from video.reader import VideoReader

CLIP = Path(__file__).resolve().parents[2] / "assets" / "clips" / "balle-jbart.mp4"


def test_anchors_are_the_two_grids_of_the_palm_detector() -> None:
    anchors = palm_anchors()
    assert anchors.shape == (2016, 2)
    # 24x24 cells of 2 anchors, then 12x12 cells of 6, row by row
    assert anchors[0] == pytest.approx([0.5 / 24, 0.5 / 24])
    assert anchors[1] == pytest.approx(anchors[0])
    assert anchors[2] == pytest.approx([1.5 / 24, 0.5 / 24])
    assert anchors[2 * 24] == pytest.approx([0.5 / 24, 1.5 / 24])
    assert anchors[1152] == pytest.approx([0.5 / 12, 0.5 / 12])
    assert anchors[-1] == pytest.approx([11.5 / 12, 11.5 / 12])
    assert np.all((anchors > 0) & (anchors < 1))


def _raw(anchor: int, box: tuple[float, float, float, float], regressors: np.ndarray) -> None:
    """Write a palm box (centre x, y, w, h in 0..1 of the input) and keypoints fanned above it
    into anchor `anchor`'s regressors."""
    ax, ay = palm_anchors()[anchor]
    cx, cy, w, h = box
    row = np.zeros(18)
    row[:4] = [(cx - ax) * PALM_SIZE, (cy - ay) * PALM_SIZE, w * PALM_SIZE, h * PALM_SIZE]
    for k in range(7):
        row[4 + 2 * k] = (cx - ax + 0.01 * k) * PALM_SIZE
        row[5 + 2 * k] = (cy - ay - 0.02 * k) * PALM_SIZE
    regressors[anchor] = row


def test_decoding_keeps_confident_palms_and_drops_overlapping_ones() -> None:
    regressors = np.zeros((2016, 18))
    logits = np.full(2016, -10.0)
    _raw(300, (0.30, 0.40, 0.20, 0.20), regressors)
    logits[300] = 4.0                                   # p = 0.98
    _raw(301, (0.31, 0.41, 0.20, 0.20), regressors)     # the same palm again, less sure
    logits[301] = 2.0
    _raw(1500, (0.75, 0.70, 0.10, 0.12), regressors)    # another palm
    logits[1500] = 1.0                                  # p = 0.73
    _raw(1600, (0.10, 0.90, 0.10, 0.10), regressors)
    logits[1600] = -1.0                                 # p = 0.27: not a palm
    palms = decode_palms(regressors, logits, min_score=0.5)
    assert len(palms) == 2
    first, second = palms
    assert first.score == pytest.approx(1 / (1 + math.exp(-4.0)))
    assert first.box == pytest.approx([0.20, 0.30, 0.40, 0.50])
    assert first.keypoints[2] == pytest.approx([0.32, 0.36])
    assert second.box == pytest.approx([0.70, 0.64, 0.80, 0.76])
    assert decode_palms(regressors, logits, min_score=0.99) == []


@pytest.mark.parametrize("regressors, logits", [
    (np.zeros((2015, 18)), np.zeros(2015)),
    (np.zeros((2016, 17)), np.zeros(2016)),
])
def test_decoding_refuses_outputs_of_another_shape(regressors: np.ndarray,
                                                   logits: np.ndarray) -> None:
    with pytest.raises(ValueError):
        decode_palms(regressors, logits)


@pytest.mark.parametrize("wrist, finger, angle", [
    ((200, 200), (200, 150), 0.0),              # fingers up: no turn
    ((200, 200), (250, 200), math.pi / 2),      # fingers to the right
    ((200, 200), (150, 200), -math.pi / 2),     # fingers to the left
    ((200, 200), (200, 250), math.pi),          # fingers down
])
def test_palm_crop_turns_the_fingers_up(wrist: tuple[int, int], finger: tuple[int, int],
                                        angle: float) -> None:
    """The landmark crop of a palm has the fingers at its top: a bright dot where the fingers
    point lands in the crop's upper half, on its vertical middle line."""
    keypoints = np.zeros((7, 2))
    keypoints[0], keypoints[2] = wrist, finger
    centre = (np.array(wrist) + np.array(finger)) / 2
    palm = Palm(box=np.concatenate([centre - 30, centre + 30]), keypoints=keypoints, score=0.9)
    roi = palm_roi(palm)
    assert abs(math.remainder(roi.angle - angle, 2 * math.pi)) < 1e-9
    assert roi.side == pytest.approx(60 * 2.6)
    image = np.zeros((400, 400, 3), np.uint8)
    tip = np.array(finger) + (np.array(finger) - np.array(wrist))     # beyond the finger base
    image[int(tip[1]) - 2:int(tip[1]) + 3, int(tip[0]) - 2:int(tip[0]) + 3] = 255
    out = crop(image, roi, 224)
    ys, xs = np.nonzero(out[:, :, 0] > 0.5)
    assert len(ys) and ys.mean() < 112 - 20 and abs(xs.mean() - 112) < 6


@pytest.mark.parametrize("roi", [Roi(120.0, 80.0, 90.0, 0.0), Roi(50.5, 210.0, 33.0, 1.1),
                                 Roi(300.0, 10.0, 400.0, -2.5)])
def test_crop_pixels_map_back_to_the_picture(roi: Roi) -> None:
    rng = np.random.default_rng(3)
    points = np.array([roi.cx, roi.cy]) + rng.uniform(-roi.side / 3, roi.side / 3, (10, 2))
    affine = roi.affine(224)
    in_crop = points @ affine[:, :2].T + affine[:, 2]
    assert to_picture(in_crop, roi, 224) == pytest.approx(points, abs=1e-6)
    # the crop's centre is the region's centre
    assert to_picture(np.array([[112.0, 112.0]]), roi, 224)[0] == pytest.approx([roi.cx, roi.cy])


def _upright_hand(cx: float, cy: float, size: float) -> np.ndarray:
    """21 points of an open hand, fingers up, palm length `size`, wrist at (cx, cy)."""
    points = [(cx, cy)]
    for finger, dx in enumerate((-0.6, -0.3, 0.0, 0.3, 0.6)):
        base = (cx + dx * size, cy - size * (0.6 if finger == 0 else 1.0))
        for joint in range(4):
            points.append((base[0], base[1] - 0.3 * size * joint))
    return np.array(points)


def test_next_crop_from_landmarks_holds_the_hand_upright() -> None:
    points = _upright_hand(200.0, 300.0, 40.0)
    roi = landmark_roi(points)
    assert roi.angle == pytest.approx(0.0, abs=1e-9)
    inside = (points - [roi.cx, roi.cy]) / (roi.side / 2)
    assert np.all(np.abs(inside) < 1.0)
    # the hand turned a quarter to the right gives the same crop, turned
    turn = np.array([[0.0, -1.0], [1.0, 0.0]])
    turned = (points - [200.0, 300.0]) @ turn + [200.0, 300.0]
    assert abs(landmark_roi(turned).angle) == pytest.approx(math.pi / 2)
    assert landmark_roi(turned).side == pytest.approx(roi.side)


def test_hand_size_and_box() -> None:
    hand = Hand(points=_upright_hand(50.0, 80.0, 20.0), score=0.9, right=0.2)
    assert hand.size() == pytest.approx(20.0)
    assert hand.box() == pytest.approx([50 - 12, 80 - 20 - 0.9 * 20, 50 + 12, 80])
    drawn = draw_hand(np.zeros((120, 120, 3), np.uint8), hand)
    assert drawn[50, 50].any() and not drawn[5, 5].any()    # the middle finger's line


def test_search_square_round_a_box() -> None:
    roi = square_region((100, 100, 120, 140), grow=4.0, min_side=128)
    assert (roi.cx, roi.cy, roi.side, roi.angle) == (110, 120, 160, 0.0)
    assert square_region((0, 0, 10, 10), grow=4.0, min_side=128).side == 128


# ----------------------------------------------------------------------------------------------
# the models on a real hand

# balle-jbart.mp4, frames 0-11: the thrower's hand at the lower left holding the ball in its
# fingertips, letting go on frame 6. Checked by eye on 2x crops: the fingertips at about
# (100-107, 360-367), the wrist at about (105, 407), the ball's box (103, 348)-(157, 388) on
# frame 0.
BALL_BOX = np.array([103.0, 348.0, 157.0, 388.0])


def _frames(stop: int) -> list[np.ndarray]:
    with VideoReader(CLIP) as reader:
        return [f.image for f in reader.frames(start=0, stop=stop)]


def test_the_real_hand_is_found_holding_the_ball_on_every_frame() -> None:
    model = load_hand_model()
    region = square_region(BALL_BOX, grow=4.0, min_side=128)
    for index, image in enumerate(_frames(12)):
        hands = [h for h in model.find(image, region) if h.score >= 0.5]
        assert len(hands) == 1, index
        hand = hands[0]
        x0, y0, x1, y1 = hand.box()
        assert 70 <= x0 and x1 <= 150 and 330 <= y0 and y1 <= 440, (index, hand.box())
        nearest = min(np.linalg.norm(hand.points[i] - [104, 364]) for i in (4, 8, 12))
        assert nearest < 25, index
        assert 15 <= hand.size() <= 45


def test_a_followed_hand_stays_on_the_hand_and_the_dark_wall_has_none() -> None:
    model = load_hand_model()
    frames = _frames(12)
    region = square_region(BALL_BOX, grow=4.0, min_side=128)
    hand = max(model.find(frames[0], region), key=lambda h: h.score)
    kept = 0
    for image in frames[1:]:
        followed = model.follow(image, hand)
        if followed.score >= 0.5:           # where it is sure, it is on the hand
            assert np.linalg.norm(followed.points.mean(axis=0) - [105, 385]) < 30
            hand, kept = followed, kept + 1
    assert kept >= 8
    # the empty dark wall in the middle of the picture
    wall = square_region((330, 200, 400, 260), grow=2.0, min_side=128)
    assert [h for h in model.find(frames[0], wall) if h.score >= 0.5] == []


@pytest.mark.parametrize("which", ["palm", "landmarks"])
def test_missing_or_corrupt_weights_are_one_clear_error(tmp_path: Path, which: str) -> None:
    palm, marks = tmp_path / "palm.tflite", tmp_path / "marks.tflite"
    shutil.copy(PALM_PATH, palm)
    shutil.copy(LANDMARK_PATH, marks)
    target = palm if which == "palm" else marks
    data = bytearray(target.read_bytes())
    data[1000] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(HandsUnavailable, match="corrupt"):
        load_hand_model((str(palm), str(marks)))
    target.unlink()
    with pytest.raises(HandsUnavailable, match="not found"):
        load_hand_model((str(palm), str(marks)))
