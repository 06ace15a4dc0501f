"""Hands in a picture: MediaPipe's palm detector, then its 21-point hand landmark model.

Both models come from the PyPI wheel `mediapipe==0.10.21` (Apache-2.0) and are shipped unchanged
in assets/models/ (`palm_detection_lite.tflite`, `hand_landmark_full.tflite`; source, hashes
and licence in assets/models/README.md and docs/MODELS.md). They run on the CPU with
`ai-edge-litert`: about 4 ms for a palm search and 4 ms for a hand's landmarks on the 2-core
dev box, 2 threads (docs/MODELS.md; the "full" landmark model, sure of small edge-on hands
where the "lite" one is not), so they can look at every other frame around an object.

The pipeline is MediaPipe's own, written out here:
- **Palms** (`find`): a square region of the picture (around the object a hand may touch) is
  scaled to 192x192 RGB in 0..1. The SSD's 2016 anchors (`palm_anchors`: a 24x24 grid of 2 and
  a 12x12 grid of 6, all of unit size) each regress a palm box and 7 palm keypoints
  (`decode_palms`); scores are logits, kept above `min_palm` and thinned by overlap.
- **Landmarks**: each palm gives a rotated square (`palm_roi`: turned so the wrist is below the
  middle finger, 2.6 palm sizes, pushed half a palm towards the fingers), cut out at 224x224; the
  landmark model returns 21 points in that crop (mapped back to the picture), a "hand present"
  probability and how likely it is a right hand.
- **Following** (`follow`): the next frame's crop comes from the last landmarks (`landmark_roi`:
  the hand's own extent, twice its size), as MediaPipe tracks, so a hand too small or blurred for
  the palm detector on one frame is still followed; the palm search runs again where the
  followed hand is lost.

The weights are loaded lazily after a SHA-256 check; a missing or corrupt file or a missing
runtime raises `HandsUnavailable` (video.hand_contacts turns it into one warning).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from video.crops import Roi, crop, to_picture
from video.recognize import load_interpreter

MODEL_DIR = Path(__file__).resolve().parent.parent / "assets" / "models"
PALM_PATH = MODEL_DIR / "palm_detection_lite.tflite"
PALM_SHA256 = "e9a4aaddf90dda56a87235303cf00e4c2d3fb28725f68fd88772997dac905c18"
LANDMARK_PATH = MODEL_DIR / "hand_landmark_full.tflite"
LANDMARK_SHA256 = "11c272b891e1a99ab034208e23937a8008388cf11ed2a9d776ed3d01d0ba00e3"
PALM_SIZE = 192
LANDMARK_SIZE = 224
POINTS = 21
PALM_KEYPOINTS = 7
# landmark indices (MediaPipe's hand topology)
WRIST, INDEX_MCP, MIDDLE_MCP, RING_MCP = 0, 5, 9, 13
FINGERTIPS = (4, 8, 12, 16, 20)
# the palm and finger points whose extent places the next crop (MediaPipe's choice: the
# fingertips' last joints move too much)
ROI_POINTS = (0, 1, 2, 3, 5, 6, 9, 10, 13, 14, 17, 18)
SKELETON = ((0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (5, 9), (9, 10),
            (10, 11), (11, 12), (9, 13), (13, 14), (14, 15), (15, 16), (13, 17), (17, 18),
            (18, 19), (19, 20), (0, 17))


class HandsUnavailable(RuntimeError):
    """The hand models cannot run: weights missing or corrupt, or their runtime not installed."""


@dataclass(frozen=True)
class Palm:
    """One palm found by the detector: box (x0, y0, x1, y1) and 7 keypoints (wrist first, the
    middle finger's base third), in the picture's pixels, and its probability."""

    box: np.ndarray
    keypoints: np.ndarray
    score: float


@dataclass(frozen=True)
class Hand:
    """One hand on one frame: 21 points (x, y, picture pixels; wrist first, fingertips 4, 8, 12,
    16, 20), the probability that a hand is there, and that it is a right hand."""

    points: np.ndarray
    score: float
    right: float

    def size(self) -> float:
        """The hand's size in pixels: wrist to the middle finger's base (a palm's length), at
        least a pixel."""
        return max(float(np.linalg.norm(self.points[MIDDLE_MCP] - self.points[WRIST])), 1.0)

    def box(self) -> np.ndarray:
        """x0, y0, x1, y1 around its 21 points."""
        return np.concatenate([self.points.min(axis=0), self.points.max(axis=0)])


# ----------------------------------------------------------------------------------------------
# the palm detector's anchors, its decoding, and the crops


@lru_cache(maxsize=1)
def palm_anchors() -> np.ndarray:
    """(2016, 2) anchor centres in 0..1 of the detector's input: a 24x24 grid (stride 8) with 2
    anchors a cell, then a 12x12 grid (stride 16) with 6, row by row; all of unit size."""
    out = []
    for stride, per_cell in ((8, 2), (16, 6)):
        grid = PALM_SIZE // stride
        centres = (np.arange(grid) + 0.5) / grid
        xs, ys = np.meshgrid(centres, centres)
        cells = np.stack([xs.ravel(), ys.ravel()], axis=1)
        out.append(np.repeat(cells, per_cell, axis=0))
    anchors = np.concatenate(out).astype(np.float64)
    anchors.flags.writeable = False
    return anchors


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def decode_palms(regressors: np.ndarray, logits: np.ndarray, *, min_score: float = 0.5,
                 max_overlap: float = 0.3, max_palms: int = 4) -> list[Palm]:
    """Palms from the detector's raw outputs ((2016, 18) regressors in input pixels relative to
    their anchors, (2016,) score logits), in 0..1 of its input, best first: those scoring at
    least `min_score`, each overlapping a better one by at most `max_overlap` (IoU)."""
    regressors = np.asarray(regressors, dtype=np.float64).reshape(-1, 4 + 2 * PALM_KEYPOINTS)
    anchors = palm_anchors()
    if len(regressors) != len(anchors):
        raise ValueError(f"expected {len(anchors)} regressors, got {len(regressors)}")
    scores = 1.0 / (1.0 + np.exp(-np.clip(np.asarray(logits, dtype=np.float64).ravel(),
                                           -60.0, 60.0)))
    palms: list[Palm] = []
    for i in np.argsort(-scores):
        if scores[i] < min_score or len(palms) >= max_palms:
            break
        raw = regressors[i] / PALM_SIZE
        ax, ay = anchors[i]
        cx, cy, w, h = raw[0] + ax, raw[1] + ay, raw[2], raw[3]
        box = np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
        if w <= 0 or h <= 0 or any(_iou(box, p.box) > max_overlap for p in palms):
            continue
        keypoints = raw[4:].reshape(PALM_KEYPOINTS, 2) + (ax, ay)
        palms.append(Palm(box=box, keypoints=keypoints, score=float(scores[i])))
    return palms


def _normal_angle(angle: float) -> float:
    return (angle + math.pi) % (2 * math.pi) - math.pi


def _upright_angle(wrist: np.ndarray, finger: np.ndarray) -> float:
    """The turn that puts `finger` straight above `wrist` (picture y grows downwards)."""
    return _normal_angle(math.pi / 2 - math.atan2(-(finger[1] - wrist[1]), finger[0] - wrist[0]))


def _rotated_square(points: np.ndarray, angle: float, *, scale: float,
                    shift: float) -> Roi:
    """The square round `points` in the frame turned by `angle`, `scale` times their longer
    extent, its centre moved `shift` of that extent towards the turned frame's up."""
    c, s = math.cos(angle), math.sin(angle)
    # picture -> turned frame (the hand upright)
    turned = points @ np.array([[c, -s], [s, c]])
    lo, hi = turned.min(axis=0), turned.max(axis=0)
    centre_t = (lo + hi) / 2
    size = float(max(hi - lo))
    centre_t = centre_t + np.array([0.0, shift * size])
    centre = centre_t @ np.array([[c, s], [-s, c]])
    return Roi(float(centre[0]), float(centre[1]), max(size * scale, 1.0), angle)


def palm_roi(palm: Palm) -> Roi:
    """The landmark model's crop for a palm (picture pixels): turned so the wrist (keypoint 0)
    is straight below the middle finger's base (keypoint 2), 2.6 times the palm box's longer
    side, pushed half a palm towards the fingers."""
    angle = _upright_angle(palm.keypoints[0], palm.keypoints[2])
    x0, y0, x1, y1 = palm.box
    w, h = x1 - x0, y1 - y0
    side = max(w, h) * 2.6
    c, s = math.cos(angle), math.sin(angle)
    # half a palm (its height) towards the fingers, in the turned frame's up direction
    cx = (x0 + x1) / 2 + 0.5 * h * s
    cy = (y0 + y1) / 2 - 0.5 * h * c
    return Roi(float(cx), float(cy), float(max(side, 1.0)), angle)


def landmark_roi(points: np.ndarray) -> Roi:
    """The next frame's crop from a hand's 21 landmarks (MediaPipe's tracking): turned by the
    wrist-to-middle-knuckles direction, twice the extent of its palm and finger bases, pushed a
    tenth of it towards the fingers."""
    knuckles = (points[INDEX_MCP] + points[RING_MCP]) / 2
    middle = (knuckles + points[MIDDLE_MCP]) / 2
    angle = _upright_angle(points[WRIST], middle)
    return _rotated_square(points[list(ROI_POINTS)], angle, scale=2.0, shift=-0.1)


def square_region(box: np.ndarray | tuple[float, float, float, float], *, grow: float,
                  min_side: float) -> Roi:
    """The upright square searched for hands round an object's box: its longer side times
    `grow`, at least `min_side` pixels."""
    x0, y0, x1, y1 = (float(v) for v in box)
    side = max(max(x1 - x0, y1 - y0) * grow, min_side)
    return Roi((x0 + x1) / 2, (y0 + y1) / 2, side, 0.0)


# ----------------------------------------------------------------------------------------------
# the loaded models


class HandModel:
    """The loaded palm detector and landmark model: `find(image, region)` and `follow(image,
    hand)` give Hands in the image's pixels."""

    def __init__(self, palm_path: Path, landmark_path: Path, threads: int) -> None:
        self._palm: Any = load_interpreter(palm_path, sha256=PALM_SHA256, threads=threads,
                                           what="palm detector", error=HandsUnavailable)
        self._marks: Any = load_interpreter(landmark_path, sha256=LANDMARK_SHA256,
                                            threads=threads, what="hand landmark model",
                                            error=HandsUnavailable)
        self._palm_in = self._palm.get_input_details()[0]["index"]
        self._marks_in = self._marks.get_input_details()[0]["index"]
        palm_out = {tuple(d["shape"]): d["index"] for d in self._palm.get_output_details()}
        marks_out = [d for d in self._marks.get_output_details()]
        try:
            self._regressors = palm_out[(1, 2016, 4 + 2 * PALM_KEYPOINTS)]
            self._logits = palm_out[(1, 2016, 1)]
            by_name = {d["name"]: d["index"] for d in marks_out}
            self._points = by_name["Identity"]
            self._present = by_name["Identity_1"]
            self._right = by_name["Identity_2"]
        except KeyError:
            raise HandsUnavailable("the hand model files are not MediaPipe's palm detector and "
                                   "hand landmark model (unexpected outputs)") from None
        self._lock = threading.Lock()

    def palms(self, image: np.ndarray, region: Roi, *, min_score: float = 0.5) -> list[Palm]:
        """Palms inside the upright square `region` of the RGB uint8 `image`, picture pixels."""
        x = crop(image, region, PALM_SIZE)
        with self._lock:
            self._palm.set_tensor(self._palm_in, x[None])
            self._palm.invoke()
            regressors = self._palm.get_tensor(self._regressors)[0].copy()
            logits = self._palm.get_tensor(self._logits)[0, :, 0].copy()
        found = decode_palms(regressors, logits, min_score=min_score)
        return [Palm(box=to_picture(p.box.reshape(2, 2) * PALM_SIZE, region,
                                    PALM_SIZE).ravel(),
                     keypoints=to_picture(p.keypoints * PALM_SIZE, region, PALM_SIZE),
                     score=p.score) for p in found]

    def landmarks(self, image: np.ndarray, roi: Roi) -> Hand:
        """The hand in the rotated square `roi` of the RGB uint8 `image`."""
        x = crop(image, roi, LANDMARK_SIZE)
        with self._lock:
            self._marks.set_tensor(self._marks_in, x[None])
            self._marks.invoke()
            raw = self._marks.get_tensor(self._points)[0].copy()
            present = float(self._marks.get_tensor(self._present).ravel()[0])
            right = float(self._marks.get_tensor(self._right).ravel()[0])
        points = to_picture(raw.reshape(POINTS, 3)[:, :2], roi, LANDMARK_SIZE)
        return Hand(points=points, score=present, right=right)

    def find(self, image: np.ndarray, region: Roi, *, min_palm: float = 0.5) -> list[Hand]:
        """Every hand whose palm the detector finds in `region`, with its landmarks."""
        return [self.landmarks(image, palm_roi(p))
                for p in self.palms(image, region, min_score=min_palm)]

    def follow(self, image: np.ndarray, hand: Hand) -> Hand:
        """The hand on a new frame, looked for where `hand` was (its landmarks' crop)."""
        return self.landmarks(image, landmark_roi(hand.points))


@lru_cache(maxsize=4)
def _load(palm: str, landmarks: str, threads: int) -> HandModel:
    return HandModel(Path(palm), Path(landmarks), threads)


def load_hand_model(weights: tuple[str, str] | None = None, *, threads: int = 1) -> HandModel:
    """The hand models (loaded once per files and thread count): `weights` = other copies of
    (palm detector, landmark model), for tests. HandsUnavailable when they cannot run."""
    palm, marks = (Path(w) for w in weights) if weights else (PALM_PATH, LANDMARK_PATH)
    return _load(str(palm.resolve()), str(marks.resolve()), threads)


def draw_hand(image: np.ndarray, hand: Hand, *, colour: tuple[int, int, int] = (0, 255, 0),
              ) -> np.ndarray:
    """A copy of `image` with the hand's skeleton drawn, for checking the models by eye."""
    out = image.copy()
    p = np.round(hand.points).astype(int)
    for a, b in SKELETON:
        cv2.line(out, (int(p[a, 0]), int(p[a, 1])), (int(p[b, 0]), int(p[b, 1])), colour, 1,
                 cv2.LINE_AA)
    for i in FINGERTIPS:
        cv2.circle(out, (int(p[i, 0]), int(p[i, 1])), 2, (255, 0, 0), -1, cv2.LINE_AA)
    return out
