"""Square crops of a picture, upright or turned, for the landmark models (video.pose,
video.hands): the region, its map to the model's input, the crop, and the way back.

Both MediaPipe landmark models take a square RGB crop in 0..1 and answer in the crop's pixels.
The pose model's crop is upright; the hand model's is turned so the fingers point up. One
`Roi` describes either, and `crop` / `to_picture` go there and back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Roi:
    """A rotated square of the picture: centre (pixels), side (pixels), angle (radians; the
    crop's "up" is the picture's up turned by this much, counter-clockwise positive as
    MediaPipe measures it)."""

    cx: float
    cy: float
    side: float
    angle: float = 0.0

    def affine(self, size: int) -> np.ndarray:
        """The 2x3 map from picture pixels to the `size` x `size` crop."""
        c, s = math.cos(self.angle), math.sin(self.angle)
        k = size / self.side
        # crop (u, v) -> picture: centre + R(angle) @ ((u, v) - size / 2) / k; inverted here
        rot = np.array([[c, s], [-s, c]]) * k
        shift = np.array([size / 2.0, size / 2.0]) - rot @ np.array([self.cx, self.cy])
        return np.hstack([rot, shift[:, None]])


def crop(image: np.ndarray, roi: Roi, size: int) -> np.ndarray:
    """(size, size, 3) float32 in 0..1: the RGB uint8 `image` inside `roi`, turned upright;
    outside the picture is black."""
    affine = roi.affine(size)
    interp = cv2.INTER_AREA if size < roi.side else cv2.INTER_LINEAR
    out = cv2.warpAffine(image, affine, (size, size), flags=interp,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
    return out.astype(np.float32) / 255.0


def to_picture(points: np.ndarray, roi: Roi, size: int) -> np.ndarray:
    """Crop pixels (n, 2) of a `size` crop of `roi` -> picture pixels."""
    inverse = cv2.invertAffineTransform(roi.affine(size))
    return np.asarray(points, dtype=np.float64) @ inverse[:, :2].T + inverse[:, 2]
