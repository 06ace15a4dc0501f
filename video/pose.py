"""Body keypoints of a person in a box: MediaPipe's BlazePose landmark model on a square crop.

The model is `pose_landmark_full.tflite` from the PyPI wheel `mediapipe==0.10.21` (Apache-2.0),
shipped unchanged in assets/models/ (source, hash and licence in assets/models/README.md and
docs/MODELS.md) and run on the CPU with `ai-edge-litert`, 18-35 ms per crop on the 2-core dev
box (BENCHMARKS.md). It takes a 256x256 RGB crop in 0..1 and returns 39 landmarks x (x, y, z,
visibility, presence) in the crop's pixels (33 body points of BlazePose's topology, then 6
auxiliary ones) and a "pose present" score. Visibility and presence come out as logits, the
pose score as a probability.

The crop is the person's box (video.footsteps gives the last found pose's box while it is
still in the track's) made square around its centre and enlarged by `margin`, so the whole
body fits even when the tracker boxed only part of it; the model needs no detector stage
for upright people in such a crop (MediaPipe's own pipeline aligns the crop on the hips, which
for walkers only changes its rotation by a few degrees).

The weights are loaded lazily, after a SHA-256 check; a missing or corrupt file or a missing
runtime raises `PoseUnavailable`, which video.footsteps turns into one warning and the box-bob
steps of video.events.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from video.crops import Roi, crop
from video.recognize import load_interpreter, model_bytes

MODEL_PATH = (Path(__file__).resolve().parent.parent / "assets" / "models"
              / "pose_landmark_full.tflite")
MODEL_SHA256 = "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f"
INPUT_SIZE = 256
LANDMARKS = 39
# the landmarks and the "pose present" score; the model's segmentation mask, heatmaps and world
# landmarks are pruned away at load (video.tflite_prune: 42% of its run time)
USED_OUTPUTS = ("Identity", "Identity_1")

# BlazePose landmark indices (the body's left and right, not the picture's)
LEFT_SHOULDER, RIGHT_SHOULDER = 11, 12
LEFT_HIP, RIGHT_HIP = 23, 24
LEFT_ANKLE, RIGHT_ANKLE = 27, 28
LEFT_HEEL, RIGHT_HEEL = 29, 30
LEFT_TOE, RIGHT_TOE = 31, 32
SKELETON = ((11, 12), (11, 23), (12, 24), (23, 24), (23, 25), (25, 27), (27, 29), (29, 31),
            (27, 31), (24, 26), (26, 28), (28, 30), (30, 32), (28, 32), (11, 13), (13, 15),
            (12, 14), (14, 16), (0, 11), (0, 12))


class PoseUnavailable(RuntimeError):
    """The pose model cannot run: weights missing or corrupt, or its runtime not installed."""


@dataclass(frozen=True)
class Pose:
    """One person's keypoints on one frame.

    points: (39, 2) x, y in the frame's pixels. visibility, presence: (39,) probabilities that
    each point is visible / inside the crop. score: probability that a person is there at all.
    """

    points: np.ndarray
    visibility: np.ndarray
    presence: np.ndarray
    score: float

    def foot(self, side: str) -> tuple[np.ndarray, float]:
        """(x, y) of one foot (mean of ankle and heel) and its visibility (the lower of the two).
        `side`: "left" or "right", the body's."""
        ankle, heel = (LEFT_ANKLE, LEFT_HEEL) if side == "left" else (RIGHT_ANKLE, RIGHT_HEEL)
        xy = (self.points[ankle] + self.points[heel]) / 2.0
        return xy, float(min(self.visibility[ankle], self.visibility[heel]))

    def centre(self) -> np.ndarray:
        """The body's centre: the midpoint of the hips."""
        return (self.points[LEFT_HIP] + self.points[RIGHT_HIP]) / 2.0

    def body_box(self, *, min_visibility: float = 0.5) -> np.ndarray:
        """x0, y0, x1, y1 around the body's visible points (all 33 when too few are visible)."""
        body = self.points[:33]
        seen = body[self.visibility[:33] >= min_visibility]
        pts = seen if len(seen) >= 4 else body
        return np.concatenate([pts.min(axis=0), pts.max(axis=0)])

    def scale(self) -> float:
        """The body's size in pixels: mid-shoulder to mid-ankle (about 0.8 of its height)."""
        shoulders = (self.points[LEFT_SHOULDER] + self.points[RIGHT_SHOULDER]) / 2.0
        ankles = (self.points[LEFT_ANKLE] + self.points[RIGHT_ANKLE]) / 2.0
        return float(np.linalg.norm(ankles - shoulders))


def square_roi(box: np.ndarray | tuple[float, float, float, float], *,
               margin: float) -> tuple[float, float, float]:
    """(centre x, centre y, side) of the square crop around a box (x0, y0, x1, y1): its
    longer side times `margin`."""
    x0, y0, x1, y1 = (float(v) for v in box)
    side = max(x1 - x0, y1 - y0, 1.0) * margin
    return (x0 + x1) / 2.0, (y0 + y1) / 2.0, side


def crop_input(image: np.ndarray, roi: tuple[float, float, float]) -> np.ndarray:
    """The model's input for a square region of an RGB uint8 image (as video.reader decodes
    frames): (256, 256, 3) float32 in 0..1; parts of the region outside the image are black."""
    cx, cy, side = roi
    return crop(image, Roi(cx, cy, side), INPUT_SIZE)


def decode_landmarks(raw: np.ndarray, score: float,
                     roi: tuple[float, float, float]) -> Pose:
    """A Pose from the model's 195 landmark values (crop pixels, logit visibility/presence)."""
    values = np.asarray(raw, dtype=np.float64).reshape(LANDMARKS, 5)
    cx, cy, side = roi
    k = side / INPUT_SIZE
    points = np.stack([cx + (values[:, 0] - INPUT_SIZE / 2.0) * k,
                       cy + (values[:, 1] - INPUT_SIZE / 2.0) * k], axis=1)
    sigmoid = 1.0 / (1.0 + np.exp(-np.clip(values[:, 3:5], -60.0, 60.0)))
    return Pose(points=points, visibility=sigmoid[:, 0], presence=sigmoid[:, 1],
                score=float(score))


class PoseModel:
    """The loaded landmark model: `estimate(image, box)` -> Pose in the image's pixels."""

    def __init__(self, path: Path, threads: int) -> None:
        self._interpreter: Any = load_interpreter(path, sha256=MODEL_SHA256, threads=threads,
                                                  what="pose model", error=PoseUnavailable,
                                                  outputs=USED_OUTPUTS)
        self._input = self._interpreter.get_input_details()[0]["index"]
        outputs = {tuple(d["shape"]): d["index"] for d in self._interpreter.get_output_details()}
        try:
            self._landmarks = outputs[(1, LANDMARKS * 5)]
            self._flag = outputs[(1, 1)]
        except KeyError:
            raise PoseUnavailable(f"{path} is not the BlazePose landmark model "
                                  "(unexpected outputs)") from None
        self._lock = threading.Lock()

    def estimate(self, image: np.ndarray, box: np.ndarray | tuple[float, float, float, float],
                 *, margin: float = 1.3) -> Pose:
        """The pose of the person in `box` (x0, y0, x1, y1, pixels of the RGB `image`)."""
        roi = square_roi(box, margin=margin)
        x = crop_input(image, roi)
        with self._lock:
            self._interpreter.set_tensor(self._input, x[None])
            self._interpreter.invoke()
            raw = self._interpreter.get_tensor(self._landmarks)[0].copy()
            flag = float(self._interpreter.get_tensor(self._flag).reshape(-1)[0])
        return decode_landmarks(raw, flag, roi)


@lru_cache(maxsize=4)
def _load(path: str, threads: int) -> PoseModel:
    return PoseModel(Path(path), threads)


def load_pose_model(weights: str | None = None, *, threads: int = 1) -> PoseModel:
    """The pose model (loaded once per weights file and thread count); PoseUnavailable when it
    cannot run."""
    path = Path(weights) if weights else MODEL_PATH
    return _load(str(path.resolve()), threads)


def prepare_pose_model(weights: str | None = None) -> None:
    """Check and prune the pose model's file (`model_bytes`) without creating its interpreter:
    the bulk of a load (about 0.15 s), safe on a background thread. A file that cannot load is
    left for `load_pose_model` to report."""
    path = Path(weights) if weights else MODEL_PATH
    try:
        model_bytes(path.resolve(), sha256=MODEL_SHA256, what="pose model",
                    error=PoseUnavailable, outputs=USED_OUTPUTS)
    except PoseUnavailable:
        pass


def draw_pose(image: np.ndarray, pose: Pose, *, min_visibility: float = 0.5) -> np.ndarray:
    """A copy of `image` with the pose's skeleton drawn (feet: left red, right blue), for
    checking the model by eye."""
    out = image.copy()
    p = np.round(pose.points).astype(int)
    for a, b in SKELETON:
        if min(pose.visibility[a], pose.visibility[b]) >= min_visibility:
            cv2.line(out, (int(p[a, 0]), int(p[a, 1])), (int(p[b, 0]), int(p[b, 1])),
                     (0, 255, 0), 1, cv2.LINE_AA)
    for side, colour in (("left", (0, 0, 255)), ("right", (255, 0, 0))):
        xy, _ = pose.foot(side)
        cv2.circle(out, (int(round(xy[0])), int(round(xy[1]))), 3, colour, -1, cv2.LINE_AA)
    return out
