"""A constant-velocity Kalman filter over a box (centre, size), one per tracked object.

State [cx, cy, w, h, vx, vy, vw, vh] in pixels and pixels per frame; the measurement is the box.
Noise scales with the box size (as in SORT/DeepSORT), so small far objects and large near ones
are filtered alike. The velocity noise is generous so a bouncing ball's sudden reversal is
followed within a frame or two.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_F = np.eye(8) + np.eye(8, k=4)
_H = np.eye(4, 8)


@dataclass(frozen=True)
class KalmanConfig:
    """Noise standard deviations as fractions of the box's larger side."""

    position_std: float = 0.05
    velocity_std: float = 0.05
    measurement_std: float = 0.05


def box_to_state(box: np.ndarray) -> np.ndarray:
    """(x0, y0, x1, y1) -> (cx, cy, w, h)."""
    x0, y0, x1, y1 = (float(v) for v in box)
    return np.array([(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0])


def state_to_box(state: np.ndarray) -> np.ndarray:
    """(cx, cy, w, h, ...) -> (x0, y0, x1, y1), sizes clamped to at least one pixel."""
    cx, cy = state[0], state[1]
    w, h = max(float(state[2]), 1.0), max(float(state[3]), 1.0)
    return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])


class KalmanBox:
    """Filter state of one box: `predict` once per frame, `update` when it is measured."""

    def __init__(self, box: np.ndarray, *, config: KalmanConfig = KalmanConfig()) -> None:
        self.config = config
        self.x = np.zeros(8)
        self.x[:4] = box_to_state(box)
        size = self._size()
        self.P = np.diag(np.r_[np.full(4, (2 * config.measurement_std * size) ** 2),
                               np.full(4, (10 * config.velocity_std * size) ** 2)])

    def _size(self) -> float:
        return max(float(self.x[2]), float(self.x[3]), 2.0)

    @property
    def box(self) -> np.ndarray:
        """Current box estimate (x0, y0, x1, y1)."""
        return state_to_box(self.x)

    @property
    def velocity(self) -> np.ndarray:
        """Centre velocity (vx, vy) in pixels per frame."""
        return self.x[4:6].copy()

    def predict(self) -> np.ndarray:
        """Advance one frame; returns the predicted box."""
        size = self._size()
        q = np.r_[np.full(4, (self.config.position_std * size) ** 2),
                  np.full(4, (self.config.velocity_std * size) ** 2)]
        self.x = _F @ self.x
        self.P = _F @ self.P @ _F.T + np.diag(q)
        return self.box

    def update(self, box: np.ndarray) -> None:
        """Correct the state with a measured box."""
        z = box_to_state(box)
        r = np.full(4, (self.config.measurement_std * max(z[2], z[3], 2.0)) ** 2)
        s = _H @ self.P @ _H.T + np.diag(r)
        gain = self.P @ _H.T @ np.linalg.inv(s)
        self.x = self.x + gain @ (z - _H @ self.x)
        self.P = (np.eye(8) - gain @ _H) @ self.P

    def set_velocity(self, velocity: np.ndarray) -> None:
        """Overwrite the centre velocity (first two measurements give it directly)."""
        self.x[4:6] = velocity

    def move_to(self, box: np.ndarray) -> None:
        """Put the centre at `box`'s centre, keeping the velocity and size: for an object hidden
        in a merged blob, whose constrained box says where it is but not how it moves."""
        self.x[:2] = box_to_state(box)[:2]

    def freeze_size(self) -> None:
        """Stop the size from drifting while the box coasts unmeasured."""
        self.x[6:8] = 0.0
