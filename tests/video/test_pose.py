"""The pose model on real pictures: a walker's feet where they are, no body where there is none;
the crop geometry; the body box that the next crop follows."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from video.footsteps import pose_crop_box
from video.pose import (
    INPUT_SIZE,
    LANDMARKS,
    LEFT_HIP,
    Pose,
    PoseUnavailable,
    crop_input,
    decode_landmarks,
    load_pose_model,
    square_roi,
)

CLIP_CACHE = Path(os.environ.get("STEREOFOLEY_CLIPS",
                                  Path.home() / ".cache" / "stereofoley" / "clips"))
VTEST = CLIP_CACHE / "vtest.avi"


def _frame(index: int) -> np.ndarray:
    cap = cv2.VideoCapture(str(VTEST))
    cap.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, image = cap.read()
    cap.release()
    assert ok
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)  # as video.reader decodes frames


@pytest.mark.skipif(not VTEST.is_file(), reason="vtest.avi not fetched (scripts/fetch_clips.sh)")
def test_a_real_walker_has_feet_at_the_bottom_of_its_box_and_grass_has_no_body() -> None:
    image = _frame(100)
    model = load_pose_model()
    # the walker on the right of frame 100 (checked by eye: feet at about (592, 229), (603, 229))
    box = np.array([586.0, 155.0, 624.0, 240.0])
    pose = model.estimate(image, box)
    assert pose.score > 0.9
    for side in ("left", "right"):
        xy, visibility = pose.foot(side)
        assert visibility > 0.5
        assert 585 <= xy[0] <= 610 and 222 <= xy[1] <= 240, xy
        assert xy[1] > pose.points[LEFT_HIP, 1] + 20       # feet well below the hips
    assert 55 <= pose.scale() <= 85                        # shoulders to ankles of an 85 px person
    # an empty patch of lawn
    assert model.estimate(image, np.array([100.0, 450.0, 160.0, 560.0])).score < 0.2


def test_crop_and_decode_are_inverse() -> None:
    """A point drawn into the picture lands where decode_landmarks puts the crop's pixel."""
    image = np.zeros((300, 400, 3), np.uint8)
    image[120:124, 250:254] = 255        # a 4 px dot: pixel centres 250..253, 120..123
    roi = square_roi((200.0, 60.0, 280.0, 200.0), margin=1.3)
    crop = crop_input(image, roi)
    assert crop.shape == (INPUT_SIZE, INPUT_SIZE, 3) and crop.dtype == np.float32
    weight = crop[..., 0]
    vs, us = np.mgrid[:INPUT_SIZE, :INPUT_SIZE]
    raw = np.zeros((LANDMARKS, 5))
    raw[0, :2] = ((us * weight).sum() / weight.sum(), (vs * weight).sum() / weight.sum())
    back = decode_landmarks(raw.ravel(), 0.9, roi)
    assert np.allclose(back.points[0], (251.5, 121.5), atol=0.25)
    assert back.visibility[0] == pytest.approx(0.5) and back.score == pytest.approx(0.9)


def test_the_crop_follows_the_body_only_while_it_is_in_the_track() -> None:
    track = np.array([100.0, 100.0, 140.0, 140.0])        # a motion box on the legs
    body = np.array([95.0, 20.0, 145.0, 145.0])            # the whole person, from the last pose
    assert np.array_equal(pose_crop_box(track, body), body)
    elsewhere = np.array([300.0, 20.0, 350.0, 145.0])      # another person
    assert np.array_equal(pose_crop_box(track, elsewhere), track)


def test_body_box_spans_the_visible_points() -> None:
    points = np.zeros((LANDMARKS, 2))
    points[:33] = np.stack([np.linspace(10, 50, 33), np.linspace(100, 20, 33)], axis=1)
    visibility = np.full(LANDMARKS, 0.9)
    visibility[0] = 0.1                                    # (10, 100) not visible
    pose = Pose(points=points, visibility=visibility, presence=np.ones(LANDMARKS), score=1.0)
    x0, y0, x1, y1 = pose.body_box()
    assert x0 == pytest.approx(10 + 40 / 32) and x1 == 50 and y0 == 20
    assert y1 == pytest.approx(100 - 80 / 32)


def test_wrong_model_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "other.tflite"
    bad.write_bytes(b"not a model")
    with pytest.raises(PoseUnavailable, match="corrupt"):
        load_pose_model(str(bad))
