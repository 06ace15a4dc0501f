"""Shot cut detection, streaming: small frames in one at a time, cut times out.

A hard cut changes the picture at once, while motion (objects, camera pans) changes it
gradually. Each frame gets a signature with three cues. Content: an HSV colour histogram and a
texture histogram (gradient orientation x strength), position-free, so motion barely moves
them. Layout: a 16x16 thumbnail, normalised, which tells apart two views of the same place
(same colours and textures) and ignores flashes. Structure: the picture's edge map; the edge
change ratio (the share of edges that appear or vanish, farther than a few pixels from any edge
of the other frame) stays low under motion, as edges only move, and jumps at a cut even between
two shots of the same characters in the same palette, where the histograms barely move. For any
cue, the distance between consecutive frames spikes at a cut; a spike counts only if it stands
well above the recent level of frame-to-frame change (so fast motion raises the bar) and above
the changes of its neighbouring frames (so a cross-fade, which spreads its change over many
frames, and a tumbling camera, which changes everything on every frame, are not cuts), and if
the picture does not come back a few frames later (so flashes, lightning and muzzle fire are not
cuts). For the structure cue the frame-difference energy (of the normalised thumbnail) must
peak there as well. A cut smeared over two frames (some telecined material) reads as gradual.
Dissolves are not this detector's (a cross-fade is deliberately not a hard cut): video.dissolves
finds them by their own signature, frames that are blends of two shots.
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

    min_distance: content (histogram) distance, 0..1, a cut must reach whatever the recent
        level...
    layout_min_distance: ...or layout (thumbnail) distance, 0..1, for a cut between two views
        of the same place (same colours and textures, different arrangement).
    ratio: a cut must also exceed `ratio` x the median of the recent frame-to-frame distances.
    spike: ...and `spike` x the changes just before and after it (a cross-fade spreads its
        change over many frames; a hard cut puts it all in one).
    history: how many recent frame-to-frame distances make that level.
    lookahead: frames after a candidate that must stay different from the frame before it
        (a flash shorter than this is not a cut); also the detector's latency in frames.
    min_shot_s: shortest shot; a second cut closer than this to the previous one is dropped.
    analysis_side: frames are shrunk to at most this many pixels on their longer side.
    structure_min_distance: edge change ratio, 0..1, a structure-cue cut must reach.
    peak_radius: the structure cue's spike must stand `structure_spike` x above the steps of
        this many frames on either side, and so must the frame-difference energy, which must
        also reach `min_energy` (about 1.1 between unrelated pictures).
    """

    min_distance: float = 0.3
    layout_min_distance: float = 0.5
    structure_min_distance: float = 0.15
    structure_spike: float = 1.8
    min_energy: float = 0.1
    peak_radius: int = 2
    ratio: float = 2.5
    spike: float = 1.5
    history: int = 15
    lookahead: int = 3
    min_shot_s: float = 0.25
    analysis_side: int = 128

    def __post_init__(self) -> None:
        if not (0.0 < self.min_distance < 1.0 and 0.0 < self.layout_min_distance < 1.0
                and 0.0 < self.structure_min_distance < 1.0):
            raise ValueError("min_distance, layout_min_distance and structure_min_distance "
                             "must be in (0, 1)")
        if not 1 <= self.peak_radius <= self.lookahead:
            raise ValueError("peak_radius must be in 1..lookahead")
        if (self.ratio < 1.0 or self.spike < 1.0 or self.structure_spike < 1.0
                or self.history < 1 or self.lookahead < 1 or self.min_energy < 0):
            raise ValueError("ratio and spike must be >= 1, history and lookahead >= 1")
        if self.min_shot_s < 0 or self.analysis_side < 16:
            raise ValueError("min_shot_s must be >= 0 and analysis_side >= 16")


@dataclass(frozen=True)
class Signature:
    """Summary of one frame: colour and texture histograms (each summing to 1), position-free,
    its layout: a 16x16 gray thumbnail as z-scores (so brightness changes and flashes barely
    move it); its structure: the edge map (bool), the edges dilated (for the change ratio) and
    the share of each cell of an EDGE_GRID x EDGE_GRID split that the edges cover; and the gray
    picture, smoothed (float32), for how widely the pixels change."""

    colour: np.ndarray
    texture: np.ndarray
    layout: np.ndarray
    edges: np.ndarray
    near_edges: np.ndarray
    edge_cells: np.ndarray
    gray: np.ndarray


_NEAR = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
EDGE_GRID = 8


def frame_signature(image: np.ndarray, *, analysis_side: int = 128) -> Signature:
    """Colour (soft HSV 24x8x8, or 32 gray levels) and texture (8 orientations x 4 strengths)
    histograms, layout thumbnail and edge map of an RGB or gray uint8 image."""
    small = _shrink(image, analysis_side)
    if small.ndim == 3:
        colour = soft_colour_histogram(small)
        gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    else:
        gray = small
        colour = cv2.calcHist([gray], [0], None, [32], [0, 256])
    edges = cv2.Canny(cv2.GaussianBlur(gray, (3, 3), 0), 50, 120) > 0
    return Signature(colour=_normalised(colour), texture=_normalised(_texture_histogram(gray)),
                     layout=_thumbnail(gray), edges=edges,
                     near_edges=cv2.dilate(edges.view(np.uint8), _NEAR) > 0,
                     edge_cells=_cell_shares(edges, EDGE_GRID),
                     gray=cv2.GaussianBlur(gray.astype(np.float32), (5, 5), 0))


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


def _thumbnail(gray: np.ndarray) -> np.ndarray:
    """8x8 area-averaged thumbnail as z-scores (zero mean, unit deviation; zeros if flat)."""
    small = cv2.resize(gray.astype(np.float32), (16, 16), interpolation=cv2.INTER_AREA)
    flat = small.ravel().astype(np.float64)
    spread = float(flat.std())
    return (flat - flat.mean()) / spread if spread > 1e-6 else np.zeros_like(flat)


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


def layout_distance(a: Signature, b: Signature) -> float:
    """0 (same arrangement) .. 1: the median over thumbnail cells of their z-score change,
    scaled so that two unrelated pictures score about 0.7. The median ignores a minority of
    cells, so one object moving, however suddenly, barely counts; a new view changes most."""
    return float(min(1.0, np.median(np.abs(a.layout - b.layout)) / 1.35))


def _cell_shares(mask: np.ndarray, grid: int) -> np.ndarray:
    """Share of each of grid x grid cells that `mask` covers (area-averaged), flattened."""
    return cv2.resize(mask.astype(np.float32), (grid, grid), interpolation=cv2.INTER_AREA
                      ).astype(np.float64).ravel()


def edge_change(a: Signature, b: Signature, *, grid: int = EDGE_GRID,
                min_share: float = 0.01, min_cells: float = 0.15,
                min_turnover: float = 0.15, min_spread: float = 0.5) -> float:
    """Edge change ratio, 0 (same edges, or edges moved by at most 2 px) .. 1, spread over the
    picture: in each cell of a `grid` x `grid` split, the larger of the shares of b's edges far
    from any edge of a (entering) and of a's edges far from b's (leaving); the median over the
    cells where edges cover at least `min_share` of the cell in either frame, and 0 when such
    cells are fewer than `min_cells` of the grid. A cut (even to a view of the same place)
    changes the edges everywhere; an object appearing or vanishing, only where it is.
    It is also 0 when the change looks like an object popping in or out over a background that
    stays put: an object appearing adds edges and leaves the old ones where they were (or
    vanishing, the reverse), so one of the shares of a's edges that left and of b's edges that
    are new, over the whole picture, stays below `min_turnover`, and the pixels change in only a
    few cells (fewer than `min_spread` of them change visibly). A cut, even to a view of the same
    place, moves some of the old edges and brings new ones, or changes the pixels nearly
    everywhere (a zoom jump over a dense texture, where edges seem to stay as they are dense).
    """
    if a.edges.shape != b.edges.shape:
        return 1.0
    share_a, share_b = a.edge_cells, b.edge_cells
    used = np.maximum(share_a, share_b) >= min_share
    if used.mean() < min_cells:
        # edges in only a few cells (a smooth or blurred picture): what changes there is an
        # object appearing or leaving, not evidence of a cut; the other cues judge such shots
        return 0.0
    entering, leaving = b.edges & ~a.near_edges, a.edges & ~b.near_edges
    if (min(_share_of(entering, b.edges), _share_of(leaving, a.edges)) < min_turnover
            and pixel_spread(a, b, grid=grid) < min_spread):
        return 0.0
    into, out = _cell_shares(entering, grid), _cell_shares(leaving, grid)
    # a cell whose edges all vanished (or all appeared) changed completely
    ratio_in = np.where(share_b > 0, into / np.maximum(share_b, 1e-9), 1.0)
    ratio_out = np.where(share_a > 0, out / np.maximum(share_a, 1e-9), 1.0)
    return float(np.median(np.minimum(np.maximum(ratio_in, ratio_out), 1.0)[used]))


def pixel_spread(a: Signature, b: Signature, *, grid: int = EDGE_GRID,
                 visible: float = 6.0) -> float:
    """Share of a grid x grid split's cells whose smoothed gray level changes on average by more
    than `visible` levels (of 255) from a to b: near 1 when the whole picture changes, small
    when one object moves, appears or vanishes over a still background."""
    change = cv2.resize(np.abs(a.gray - b.gray), (grid, grid), interpolation=cv2.INTER_AREA)
    return float(np.mean(change > visible))


def _share_of(part: np.ndarray, whole: np.ndarray) -> float:
    """Share of `whole`'s pixels that `part` (a subset of them) holds; 0 for an empty whole."""
    total = int(np.count_nonzero(whole))
    return np.count_nonzero(part) / total if total else 0.0


def difference_energy(a: Signature, b: Signature) -> float:
    """Mean absolute change of the normalised 16x16 thumbnail (0 same; about 1.1 unrelated)."""
    return float(np.mean(np.abs(a.layout - b.layout)))


def _hellinger(p: np.ndarray, q: np.ndarray) -> float:
    overlap = float(np.sum(np.sqrt(p * q)))
    return float(np.sqrt(max(0.0, 1.0 - overlap)))


_CUES = (signature_distance, layout_distance, edge_change)  # content, layout, structure
_STRUCTURE = 2


@dataclass(frozen=True)
class _Seen:
    time: float
    signature: Signature
    steps: tuple[float, ...]  # each cue's distance to the previous frame (0 first)
    energy: float             # frame-difference energy to the previous frame


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
        self._steps = tuple(deque[float](maxlen=self.config.history) for _ in _CUES)
        self._minimum = (self.config.min_distance, self.config.layout_min_distance,
                         self.config.structure_min_distance)
        self._last_cut: float | None = None

    def signature(self, frame: VideoFrame) -> Signature:
        """The frame's signature as `update` computes it (pure: may run ahead on another
        thread, then be handed to `update`)."""
        return frame_signature(frame.image, analysis_side=self.config.analysis_side)

    def update(self, frame: VideoFrame, *, signature: Signature | None = None) -> float | None:
        """Feed the next frame (and its `signature`, when computed ahead); returns the time of
        a cut now confirmed, else None."""
        if signature is None:
            signature = self.signature(frame)
        last = self._recent[-1].signature if self._recent else signature
        steps = tuple(cue(last, signature) for cue in _CUES)
        self._recent.append(_Seen(time=float(frame.time), signature=signature, steps=steps,
                                  energy=difference_energy(last, signature)))
        candidate = len(self._recent) - 1 - self.config.lookahead
        if candidate < 1:
            return None
        return self._decide(list(self._recent), candidate)

    def _far_from_last_cut(self, time: float) -> bool:
        # abs(): frames may be fed newest first (tracking backwards); distances are symmetric
        return self._last_cut is None or abs(time - self._last_cut) >= self.config.min_shot_s

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
        """Is frames[candidate] the first frame of a new shot? Records its steps in the history.

        It is when the content or the layout cue says so (`_cue_says_cut`) and the previous
        cut is at least `min_shot_s` away.
        """
        seen = frames[candidate]
        votes = [self._cue_says_cut(frames, candidate, cue) for cue in range(len(_CUES))]
        if not any(votes) or not self._far_from_last_cut(seen.time):
            return None
        self._last_cut = seen.time
        return seen.time

    def _cue_says_cut(self, frames: list[_Seen], candidate: int, cue: int) -> bool:
        """One cue's verdict: a large step, well above the recent level and above the steps
        just before and after it, and the candidate and the last frame both differ from every
        frame of the lookback window before it (a flash starting has the picture come back
        later, a flash ending has it come back to how it was before the flash)."""
        cfg, distance, minimum = self.config, _CUES[cue], self._minimum[cue]
        step = frames[candidate].steps[cue]
        history = self._steps[cue]
        # most steps are below the cue's minimum: no need for the recent level's median then
        small = step < minimum
        level = float(np.median(history)) if history and not small else 0.0
        history.append(step)
        if small or step < cfg.ratio * level:
            return False
        structure = cue == _STRUCTURE
        radius, spike = (cfg.peak_radius, cfg.structure_spike) if structure else (1, cfg.spike)
        neighbours = [frames[i] for i in range(max(1, candidate - radius),
                                               min(len(frames), candidate + radius + 1))
                      if i != candidate]
        around = max((f.steps[cue] for f in neighbours), default=0.0)
        if step < spike * around:
            return False  # the change is spread over several frames: a dissolve, not a cut
        energy = frames[candidate].energy
        if structure and (energy < cfg.min_energy or energy < spike * max(
                (f.energy for f in neighbours), default=0.0)):
            return False  # edges changed but the picture did not jump (e.g. focus, grain)
        before = frames[max(0, candidate - 1 - cfg.lookahead):candidate]
        return all(min(distance(old.signature, new.signature) for old in before) >= minimum
                   for new in (frames[candidate], frames[-1]))


def detect_cuts(frames: Iterable[VideoFrame], *, config: CutConfig | None = None) -> tuple[float, ...]:
    """Times (seconds, ascending) of the hard cuts in a stream of consecutive frames."""
    detector = CutDetector(config)
    cuts = [cut for frame in frames if (cut := detector.update(frame)) is not None]
    cuts.extend(detector.finish())
    return tuple(cuts)
