"""Stereo pan laws and a level-based pan estimate.

A pan position p runs from -1 (hard left) to +1 (hard right). The pan law fixes how loud a
centred source is in each channel: the constant-power law (-3 dB centre) keeps a moving source
equally loud across the field; the 0 dB law keeps the centre at unity (DAW "balance" style); the
-6 dB (linear) law keeps the mono sum constant; -4.5 dB is the geometric mean of -3 and -6, the
usual compromise between stereo and mono compatibility.
"""

from __future__ import annotations

import math

import numpy as np

PAN_LAWS = ("-3dB", "0dB", "-4.5dB", "-6dB")


def check_pan_law(law: object) -> str:
    """`law` if it is one of PAN_LAWS, else ValueError naming the choices (the one check every
    holder of a pan law uses)."""
    if law not in PAN_LAWS:
        raise ValueError(f"pan law must be one of {', '.join(PAN_LAWS)}, got {law!r}")
    return str(law)


def pan_gains(pan: np.ndarray, *, law: str = "-3dB") -> tuple[np.ndarray, np.ndarray]:
    """Left and right channel gains for pan positions `pan` (values clipped to [-1, 1]).

    -3dB: L = cos θ, R = sin θ with θ = (p + 1)·π/4 (constant power).
    0dB: L = min(1, 1 - p), R = min(1, 1 + p).
    -6dB: L = (1 - p)/2, R = (1 + p)/2 (constant amplitude sum).
    -4.5dB: sqrt of the product of the -3 and -6 dB gains, channel by channel.
    Returns float32 arrays shaped like `pan` (a 0-d array for a scalar).
    """
    check_pan_law(law)
    p = np.clip(np.asarray(pan, dtype=np.float64), -1.0, 1.0)
    if law == "0dB":
        left, right = np.minimum(1.0, 1.0 - p), np.minimum(1.0, 1.0 + p)
    elif law == "-6dB":
        left, right = (1.0 - p) / 2.0, (1.0 + p) / 2.0
    else:
        theta = (p + 1.0) * (math.pi / 4.0)
        left, right = np.cos(theta), np.sin(theta)
        if law == "-4.5dB":
            left = np.sqrt(left * (1.0 - p) / 2.0)
            right = np.sqrt(right * (1.0 + p) / 2.0)
    return left.astype(np.float32), right.astype(np.float32)


def estimate_pan(stereo: np.ndarray) -> float:
    """Level-based pan of a (2, n) signal: 4/π·atan2(R_rms, L_rms) - 1, in [-1, 1].

    Exactly inverts the -3 dB constant-power law for a single panned source; silence reads as
    centre (0.0). This is the metric the tests and the evaluation use.
    """
    audio = np.asarray(stereo, dtype=np.float64)
    if audio.ndim != 2 or audio.shape[0] != 2:
        raise ValueError(f"estimate_pan needs a (2, n) array, got shape {audio.shape}")
    if audio.shape[1] == 0:
        return 0.0
    rms_l = float(np.sqrt(np.mean(audio[0] ** 2)))
    rms_r = float(np.sqrt(np.mean(audio[1] ** 2)))
    if rms_l == 0.0 and rms_r == 0.0:
        return 0.0
    return 4.0 / math.pi * math.atan2(rms_r, rms_l) - 1.0
