"""Shot cut detection, streaming: small frames in one at a time, cut times out.

A hard cut changes the whole picture's statistics at once, while motion (objects, camera pans)
changes them gradually. Each frame is summarised by two global, position-free signatures: an HSV
colour histogram and a texture histogram (gradient orientation x strength). The distance between
consecutive frames' signatures spikes at a cut; a spike counts only if it stands well above the
recent level of frame-to-frame change (so fast motion raises the bar) and above the changes just
before and after it (so a cross-fade, which spreads its change over many frames, is not a cut),
and if the picture does not come back a few frames later (so flashes, lightning and muzzle fire
are not cuts). A cut smeared over two frames (some telecined material) reads as gradual.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

from video.reader import VideoFrame


@dataclass(frozen=True)
class CutConfig:
    """Tuning of the cut detector.

    min_distance: signature distance (0..1) a cut must reach whatever the recent level.
    ratio: a cut must also exceed `ratio` x the median of the recent frame-to-frame distances.
    spike: ...and `spike` x the changes just before and after it (a cross-fade spreads its
        change over many frames; a hard cut puts it all in one).
    history: how many recent frame-to-frame distances make that level.
    lookahead: frames after a candidate that must stay different from the frame before it
        (a flash shorter than this is not a cut); also the detector's latency in frames.
    min_shot_s: shortest shot; a second cut closer than this to the previous one is dropped.
    analysis_side: frames are shrunk to at most this many pixels on their longer side.
    """

    min_distance: float = 0.3
    ratio: float = 3.0
    spike: float = 1.5
    history: int = 15
    lookahead: int = 3
    min_shot_s: float = 0.25
    analysis_side: int = 128

    def __post_init__(self) -> None:
        if not 0.0 < self.min_distance < 1.0:
            raise ValueError(f"min_distance must be in (0, 1), got {self.min_distance}")
        if self.ratio < 1.0 or self.spike < 1.0 or self.history < 1 or self.lookahead < 1:
            raise ValueError("ratio and spike must be >= 1, history and lookahead >= 1")
        if self.min_shot_s < 0 or self.analysis_side < 16:
            raise ValueError("min_shot_s must be >= 0 and analysis_side >= 16")


@dataclass(frozen=True)
class Signature:
    """Position-free summary of one frame: colour and texture histograms, each summing to 1."""

    colour: np.ndarray
    texture: np.ndarray


def frame_signature(image: np.ndarray, *, analysis_side: int = 128) -> Signature:
    """Colour (soft HSV 24x8x8, or 32 gray levels) and texture (8 orientations x 4 strengths)
    histograms of an RGB or gray uint8 image."""
    small = _shrink(image, analysis_side)
    if small.ndim == 3:
        colour = soft_colour_histogram(small)
        gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    else:
        gray = small
        colour = cv2.calcHist([gray], [0], None, [32], [0, 256])
    return Signature(colour=_normalised(colour), texture=_normalised(_texture_histogram(gray)))


def soft_colour_histogram(rgb: np.ndarray) -> np.ndarray:
    """HSV histogram (24 hues x 8 saturations x 8 values) smoothed by [1, 2, 1] / 4 along each
    axis (hue wraps round), so that colours drifting across a bin edge, as in a cross-fade or a
    slow lighting change, move the histogram a little rather than all at once."""
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, [24, 8, 8], [0, 180, 0, 256, 0, 256])
    hist = np.asarray(hist, dtype=np.float64)
    hist = (np.roll(hist, 1, axis=0) + 2 * hist + np.roll(hist, -1, axis=0)) / 4
    for axis in (1, 2):
        padded = np.concatenate([np.take(hist, [0], axis=axis), hist,
                                 np.take(hist, [-1], axis=axis)], axis=axis)
        size = hist.shape[axis]
        hist = (np.take(padded, range(0, size), axis=axis)
                + 2 * np.take(padded, range(1, size + 1), axis=axis)
                + np.take(padded, range(2, size + 2), axis=axis)) / 4
    return hist


def _shrink(image: np.ndarray, side: int) -> np.ndarray:
    height, width = image.shape[:2]
    if max(height, width) <= side:
        return np.ascontiguousarray(image)
    factor = side / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _texture_histogram(gray: np.ndarray) -> np.ndarray:
    """Counts of pixels by gradient orientation (8, mod 180 deg) and log strength (4)."""
    smooth = cv2.GaussianBlur(gray.astype(np.float32), (3, 3), 0)
    gx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3)
    magnitude = np.hypot(gx, gy)
    angle = np.mod(np.arctan2(gy, gx), np.pi)
    orient_bin = np.minimum((angle / np.pi * 8).astype(np.int64), 7)
    strength_bin = np.digitize(magnitude, (8.0, 32.0, 128.0))
    flat = (strength_bin * 8 + orient_bin).ravel()
    # weak gradients (noise, flat areas) have no meaningful orientation: one shared bin
    flat[strength_bin.ravel() == 0] = 0
    return np.bincount(flat, minlength=32).astype(np.float64)


def _normalised(hist: np.ndarray) -> np.ndarray:
    flat = np.asarray(hist, dtype=np.float64).ravel()
    total = flat.sum()
    return flat / total if total > 0 else np.full_like(flat, 1.0 / flat.size)


def signature_distance(a: Signature, b: Signature) -> float:
    """Hellinger distance (0 same .. 1 disjoint) of the colour or texture histograms, the larger."""
    return max(_hellinger(a.colour, b.colour), _hellinger(a.texture, b.texture))


def _hellinger(p: np.ndarray, q: np.ndarray) -> float:
    overlap = float(np.sum(np.sqrt(p * q)))
    return float(np.sqrt(max(0.0, 1.0 - overlap)))


@dataclass(frozen=True)
class _Seen:
    time: float
    signature: Signature
    step: float  # distance to the previous frame (0 for the first)


class CutDetector:
    """Streaming cut detector: `update` each frame in order; `finish` at the end of the clip.

    Frames may also be fed in reverse time order (tracking backwards): a reported time is then
    that of the last frame of the earlier shot.

    A cut is reported `config.lookahead` frames after it happens (the flash check needs to see
    past it); the returned time is that of the first frame of the new shot.
    """

    def __init__(self, config: CutConfig | None = None) -> None:
        self.config = config or CutConfig()
        # lookahead + 1 frames before a candidate, the candidate, lookahead frames after it
        self._recent: deque[_Seen] = deque(maxlen=2 * self.config.lookahead + 2)
        self._steps: deque[float] = deque(maxlen=self.config.history)
        self._last_cut: float | None = None

    def update(self, frame: VideoFrame) -> float | None:
        """Feed the next frame; returns the time of a cut now confirmed, else None."""
        signature = frame_signature(frame.image, analysis_side=self.config.analysis_side)
        step = signature_distance(self._recent[-1].signature, signature) if self._recent else 0.0
        self._recent.append(_Seen(time=float(frame.time), signature=signature, step=step))
        candidate = len(self._recent) - 1 - self.config.lookahead
        if candidate < 1:
            return None
        return self._decide(list(self._recent), candidate)

    def finish(self) -> tuple[float, ...]:
        """Decide the frames still waiting for their lookahead (the clip's last few).

        They are checked against the last frame; the last frame itself is never a cut, as
        nothing after it shows whether it was a flash.
        """
        frames = list(self._recent)
        first = max(1, len(frames) - self.config.lookahead)
        cuts = [cut for i in range(first, len(frames) - 1)
                if (cut := self._decide(frames, i)) is not None]
        self._recent.clear()
        return tuple(cuts)

    def _decide(self, frames: list[_Seen], candidate: int) -> float | None:
        """Is frames[candidate] the first frame of a new shot? Records its step in the history.

        Besides a large step, the candidate and the last frame must both differ from every
        frame of the lookback window before it: a flash starting has the picture come back
        later, a flash ending has it come back to how it was before the flash.
        """
        cfg = self.config
        seen = frames[candidate]
        level = float(np.median(self._steps)) if self._steps else 0.0
        self._steps.append(seen.step)
        if seen.step < max(cfg.min_distance, cfg.ratio * level):
            return None
        around = max(frames[candidate - 1].step, frames[candidate + 1].step)
        if seen.step < cfg.spike * around:
            return None  # the change is spread over several frames: a dissolve, not a cut
        before = frames[max(0, candidate - 1 - cfg.lookahead):candidate]
        for new in (seen, frames[-1]):
            if min(signature_distance(old.signature, new.signature) for old in before) \
                    < cfg.min_distance:
                return None
        # abs(): frames may be fed newest first (tracking backwards); distances are symmetric
        if self._last_cut is not None and abs(seen.time - self._last_cut) < cfg.min_shot_s:
            return None
        self._last_cut = seen.time
        return seen.time


def detect_cuts(frames: Iterable[VideoFrame], *, config: CutConfig | None = None) -> tuple[float, ...]:
    """Times (seconds, ascending) of the hard cuts in a stream of consecutive frames."""
    detector = CutDetector(config)
    cuts = [cut for frame in frames if (cut := detector.update(frame)) is not None]
    cuts.extend(detector.finish())
    return tuple(cuts)
