"""User-seeded tracking: the designer draws a box on one frame; follow that object both ways.

The tracker is median flow with guards. Each step:
1. finds roughly where the box's content went (normalised cross-correlation of the previous
   box in a search area around the position the last velocity predicts), as fast objects move
   further than Lucas-Kanade can see;
2. tracks corner features and a grid of points inside the box from there with Lucas-Kanade,
   keeping those that track back to where they started and whose neighbourhoods look alike;
3. takes the main group of features that move together (nearest the last velocity when an
   occluder's edges form a second group) and moves the box by their median shift, scaling it
   by the median change of their pairwise distances;
4. prefers, among the candidate boxes, the one most like the object on the seed frame, and
   nudges it to where that seed-frame look correlates best nearby (median flow drifts).
A frame where the object is not found (hidden, or the features followed something else) is
bridged: up to `max_gap` frames are skipped and then interpolated. Tracking ends where the object
stays lost or has left the picture, where the box is left riding on the background (it moves as
the picture round it does and no longer looks like the object: `SeedConfig.min_look`), at a shot
cut, or at the clip's ends.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from video.base.errors import InputError, VideoError
from video.base.progress import ProgressFn, report
from video.base.tracks import Track, VideoInfo
from video.cuts import CutConfig, CutDetector
from video.reader import VideoFrame, VideoReader

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class SeedConfig:
    """Tuning of the seeded tracker (pixel values are at the tracking resolution).

    max_points, quality, min_spacing: corner features sampled inside the box...
    grid: ...plus a grid x grid lattice of points over it.
    window, levels: Lucas-Kanade window size and pyramid levels.
    max_fb_error: a feature counts only if tracking it back lands within this many pixels...
    min_similarity: ...and the patches around it before and after correlate at least this well.
    min_points, min_agreeing: fewer agreeing features than this many (or this fraction of
        those sampled) means the object is lost.
    reach: how far (fraction of the box size) beyond the predicted position a fast object is
        looked for before the features are tracked.
    anchor_min: template correlation the anchor needs before it corrects the flow estimate.
    search: how far (fraction of the box size) the anchor may move the flow estimate.
    min_visible: the object is not found when less than this fraction of its box is in the
        picture.
    max_gap: frames in a row the object may go unfound (occluded) before tracking ends.
    min_look: where the box rides on the background (moves as the picture round it does) on a
        picture that correlates with the seed frame's less than this share of how well it did
        on the first `max_gap` frames tracked, for more than `max_gap` frames and half a
        second in a row, it is on something else (its features kept to the background after a
        plain object left the picture or went out of sight): tracking ends where that began,
        and those frames are dropped.
    coast_margin: when the box moved on by the last velocity correlates with the seed-frame
        look this much better than where the features went, they followed something else.
    chunk: frames decoded per block when going backwards.
    """

    max_points: int = 100
    grid: int = 8
    quality: float = 0.005
    min_spacing: int = 3
    window: int = 15
    levels: int = 3
    max_fb_error: float = 1.5
    min_similarity: float = 0.6
    min_points: int = 5
    min_agreeing: float = 0.1
    reach: float = 0.75
    anchor_min: float = 0.5
    search: float = 0.25
    min_visible: float = 0.3
    max_gap: int = 8
    min_look: float = 0.6
    coast_margin: float = 0.15
    chunk: int = 32

    def __post_init__(self) -> None:
        if self.max_points < self.min_points or self.min_points < 2 or self.grid < 2:
            raise ValueError("need max_points >= min_points >= 2 and grid >= 2")
        if self.window < 5 or self.levels < 0 or self.chunk < 1 or self.max_gap < 0:
            raise ValueError("window must be >= 5, levels >= 0, chunk >= 1, max_gap >= 0")
        if not (0 < self.min_visible <= 1 and 0 <= self.search <= 1):
            raise ValueError("min_visible must be in (0, 1] and search in [0, 1]")
        if not 0 <= self.min_look < 1:
            raise ValueError("min_look must be in [0, 1)")


def feature_points(gray: np.ndarray, box: np.ndarray, *, config: SeedConfig) -> np.ndarray:
    """Points (n, 1, 2) float32 to track inside `box`: the strongest corners plus an even grid.

    The grid keeps the whole box represented when a few very strong corners (an occluder's
    edge, a logo) would otherwise take every feature; grid points on flat areas do not track
    consistently and are dropped by the checks in `flow_step`.
    """
    height, width = gray.shape
    x0, y0, x1, y1 = _clip_box(box, width, height).round().astype(int)
    mask = np.zeros_like(gray)
    mask[y0:y1, x0:x1] = 255
    corners = cv2.goodFeaturesToTrack(gray, maxCorners=config.max_points,
                                      qualityLevel=config.quality,
                                      minDistance=config.min_spacing, mask=mask, blockSize=5)
    points = np.zeros((0, 1, 2), np.float32) if corners is None else corners.astype(np.float32)
    if x1 - x0 >= 4 and y1 - y0 >= 4:
        n = config.grid
        gx, gy = np.meshgrid(np.linspace(x0 + 1, x1 - 2, n), np.linspace(y0 + 1, y1 - 2, n))
        grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)[:, None, :]
        points = np.concatenate([points, grid])
    return points


def flow_step(previous: np.ndarray, current: np.ndarray, box: np.ndarray, *,
              config: SeedConfig, guess: np.ndarray | None = None, levels: int | None = None,
              prior: np.ndarray | None = None) -> np.ndarray | None:
    """Median-flow update of `box` (x0, y0, x1, y1) from gray frame `previous` to `current`.

    `guess` is a rough (dx, dy) to start the features from (fast objects move further than LK
    can see); with a trusted guess, `levels` 1 keeps LK near it instead of letting the coarse
    pyramid levels, where a small object is mostly background, pull it away. A feature counts
    if it tracks back to where it started and its neighbourhood looks alike in both frames.
    The box follows the main group of features moving together (of comparable groups, the one
    moving most like `prior`, e.g. the object's last velocity; an occluder crossing the box
    forms a second group). None (lost) when fewer than `config.min_points` features (or
    `config.min_agreeing` of those sampled) move with the box.
    """
    points = feature_points(previous, box, config=config)
    if len(points) < config.min_points:
        return None
    offset = np.zeros(2) if guess is None else np.asarray(guess, dtype=np.float64)
    start, end = tracked_features(previous, current, points, offset, window=_window(box, config),
                                  levels=config.levels if levels is None else levels,
                                  config=config)
    if len(start) < config.min_points:
        return None
    # spread of displacements within one object: turning 0.1 rad moves its edge 5 % of its size
    tolerance = max(2.0, 0.08 * float(np.max(box[2:] - box[:2])))
    group = motion_group(end - start, tolerance=tolerance,
                         prior=offset if prior is None else np.asarray(prior, np.float64))
    start, end = start[group], end[group]
    centre = (box[:2] + box[2:]) / 2
    shift = np.median(end - start, axis=0)
    factor = _median_scale(start, end)
    # features that moved with the box (shift + scale about its centre), not against it
    residual = np.linalg.norm(end - (centre + shift + factor * (start - centre)), axis=1)
    agree = residual <= tolerance
    if int(agree.sum()) < max(config.min_points, config.min_agreeing * len(points)):
        return None
    shift = np.median(end[agree] - start[agree], axis=0)
    half = (box[2:] - box[:2]) / 2 * factor
    return np.concatenate([centre + shift - half, centre + shift + half])


def tracked_features(previous: np.ndarray, current: np.ndarray, points: np.ndarray,
                     offset: np.ndarray, *, window: int, levels: int,
                     config: SeedConfig) -> tuple[np.ndarray, np.ndarray]:
    """(start, end) positions (m, 2) of the points LK tracked reliably from `previous` to
    `current`, starting the search at point + `offset`: found both ways, back within
    `config.max_fb_error` px, and with alike neighbourhoods."""
    moved, status = _lucas_kanade(previous, current, points, window, levels,
                                  points + offset.astype(np.float32))
    back, status_back = _lucas_kanade(current, previous, moved, window, levels, points)
    fb_error = np.linalg.norm((back - points).reshape(-1, 2), axis=1)
    good = (status == 1) & (status_back == 1) & (fb_error <= config.max_fb_error)
    start, end = points.reshape(-1, 2)[good], moved.reshape(-1, 2)[good]
    similar = patch_similarity(previous, current, start, end) >= config.min_similarity
    return start[similar], end[similar]


def motion_group(displacements: np.ndarray, *, tolerance: float, prior: np.ndarray,
                 share: float = 0.3) -> np.ndarray:
    """Mask of the features in the dominant group of similar displacements (n, 2).

    Each displacement is a hypothesis supported by those within `tolerance` of it; among the
    hypotheses with at least `share` of the best support, the one nearest `prior` wins (an
    occluder's edges can offer more features than the partly hidden object they cross).
    """
    if len(displacements) == 0:
        return np.zeros(0, dtype=bool)
    gaps = np.linalg.norm(displacements[:, None, :] - displacements[None, :, :], axis=2)
    support = (gaps <= tolerance).sum(axis=1)
    strong = np.nonzero(support >= share * support.max())[0]
    distance = np.linalg.norm(displacements[strong] - prior, axis=1)
    group = gaps[strong[int(np.argmin(distance))]] <= tolerance
    # re-centre once on the group's median, so the hypothesis picked from its edge (nearest
    # the prior) does not bias which features belong to it
    centre = np.median(displacements[group], axis=0)
    return np.asarray(np.linalg.norm(displacements - centre, axis=1) <= tolerance)


def surround_shift(previous: np.ndarray, current: np.ndarray, box: np.ndarray, *,
                   config: SeedConfig) -> np.ndarray | None:
    """Median (dx, dy) of the picture round `box` (a ring one box size wide) from `previous`
    to `current`: how the background there moved. None where too little of it tracks."""
    height, width = previous.shape
    size = box[2:] - box[:2]
    x0, y0 = np.maximum(box[:2] - size, 0.0)
    x1, y1 = np.minimum(box[2:] + size, (width - 1.0, height - 1.0))
    n = 2 * config.grid
    gx, gy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    points = np.stack([gx.ravel(), gy.ravel()], axis=1)
    outside = ((points[:, 0] < box[0]) | (points[:, 0] > box[2]) |
               (points[:, 1] < box[1]) | (points[:, 1] > box[3]))
    points = points[outside].astype(np.float32)[:, None, :]
    if len(points) < config.min_points:
        return None
    start, end = tracked_features(previous, current, points, np.zeros(2),
                                  window=config.window, levels=config.levels, config=config)
    if len(start) < config.min_points:
        return None
    return np.asarray(np.median(end - start, axis=0), dtype=np.float64)


def coarse_shift(previous: np.ndarray, current: np.ndarray, box: np.ndarray,
                 predicted: np.ndarray, *, config: SeedConfig) -> tuple[np.ndarray, bool]:
    """Rough (dx, dy) of the box's content, and whether it was found: its best correlation in
    `current` within a search area around the predicted position, else the prediction."""
    height, width = previous.shape
    x0, y0, x1, y1 = _clip_box(box, width, height).round().astype(int)
    if x1 - x0 < 6 or y1 - y0 < 6:
        return predicted, False
    patch = previous[y0:y1, x0:x1]
    margin = int(max(x1 - x0, y1 - y0) * config.reach)
    px, py = int(round(x0 + predicted[0])), int(round(y0 + predicted[1]))
    sx0, sy0 = max(0, px - margin), max(0, py - margin)
    sx1, sy1 = min(width, px + (x1 - x0) + margin), min(height, py + (y1 - y0) + margin)
    if sx1 - sx0 < x1 - x0 or sy1 - sy0 < y1 - y0:
        return predicted, False
    scores = cv2.matchTemplate(current[sy0:sy1, sx0:sx1], patch, cv2.TM_CCOEFF_NORMED)
    _, best, _, (bx, by) = cv2.minMaxLoc(scores)
    if not np.isfinite(best) or best < config.anchor_min:
        return predicted, False
    return np.array([sx0 + bx - x0, sy0 + by - y0], dtype=np.float64), True


def _window(box: np.ndarray, config: SeedConfig) -> int:
    """LK window: the configured size, smaller for small boxes (less background inside)."""
    side = int(min(box[2] - box[0], box[3] - box[1]) * 0.4)
    return int(np.clip(side | 1, 7, config.window))


def patch_similarity(first: np.ndarray, second: np.ndarray, at_first: np.ndarray,
                     at_second: np.ndarray, *, size: int = 9) -> np.ndarray:
    """Normalised cross-correlation (-1..1) of size x size patches around matched points."""
    if len(at_first) == 0:
        return np.zeros(0, dtype=np.float64)
    a = _patches(first, at_first, size)
    b = _patches(second, at_second, size)
    a -= a.mean(axis=1, keepdims=True)
    b -= b.mean(axis=1, keepdims=True)
    norm = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    dot = (a * b).sum(axis=1)
    return np.where(norm > 1e-9, dot / np.maximum(norm, 1e-9), 0.0)


def _patches(image: np.ndarray, centres: np.ndarray, size: int) -> np.ndarray:
    """(n, size * size) bilinear samples of `image` on a size x size grid around each centre
    (one remap call for all of them; outside the picture reads the nearest edge)."""
    offsets = np.arange(size, dtype=np.float32) - (size - 1) / 2
    xs = centres[:, 0, None, None].astype(np.float32) + offsets[None, None, :]
    ys = centres[:, 1, None, None].astype(np.float32) + offsets[None, :, None]
    map_x = np.broadcast_to(xs, (len(centres), size, size)).reshape(-1, size)
    map_y = np.broadcast_to(ys, (len(centres), size, size)).reshape(-1, size)
    sampled = cv2.remap(image, np.ascontiguousarray(map_x), np.ascontiguousarray(map_y),
                        cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return sampled.reshape(len(centres), size * size).astype(np.float64)


def _lucas_kanade(source: np.ndarray, target: np.ndarray, points: np.ndarray, window: int,
                  levels: int, initial: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pyramidal LK from `initial` positions: where `points` of `source` are in `target`,
    and which were found."""
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03)
    moved, status, _ = cv2.calcOpticalFlowPyrLK(
        source, target, points, initial.astype(np.float32).copy(), winSize=(window, window),
        maxLevel=levels, criteria=criteria, flags=cv2.OPTFLOW_USE_INITIAL_FLOW)
    return np.asarray(moved, dtype=np.float32), np.asarray(status).ravel()


def _median_scale(start: np.ndarray, end: np.ndarray) -> float:
    """Median ratio of pairwise feature distances after/before (1 = same size), clamped.

    At most 64 features take part (evenly spread over the list), which keeps the pair count
    small without biasing which parts of the object are measured.
    """
    if len(start) > 64:
        keep = np.linspace(0, len(start) - 1, 64).round().astype(int)
        start, end = start[keep], end[keep]
    i, j = np.triu_indices(len(start), k=1)
    before = np.linalg.norm(start[i] - start[j], axis=1)
    after = np.linalg.norm(end[i] - end[j], axis=1)
    keep_pairs = before > 4.0
    if not np.any(keep_pairs):
        return 1.0
    return float(np.clip(np.median(after[keep_pairs] / before[keep_pairs]), 0.8, 1.25))


def anchor_refine(current: np.ndarray, box: np.ndarray, template: np.ndarray, *,
                  config: SeedConfig) -> np.ndarray:
    """Nudge `box` to where the seed-frame template correlates best nearby, if it does well."""
    height, width = current.shape
    bw, bh = box[2] - box[0], box[3] - box[1]
    tw, th = int(round(bw)), int(round(bh))
    if tw < 6 or th < 6:
        return box
    pad_x, pad_y = int(math.ceil(bw * config.search)), int(math.ceil(bh * config.search))
    x0, y0 = int(round(box[0])) - pad_x, int(round(box[1])) - pad_y
    sx0, sy0 = max(0, x0), max(0, y0)
    sx1, sy1 = min(width, x0 + tw + 2 * pad_x), min(height, y0 + th + 2 * pad_y)
    if sx1 - sx0 < tw or sy1 - sy0 < th:
        return box  # partly outside the picture: the flow estimate has to do
    scaled = cv2.resize(template, (tw, th), interpolation=cv2.INTER_AREA)
    scores = cv2.matchTemplate(current[sy0:sy1, sx0:sx1], scaled, cv2.TM_CCOEFF_NORMED)
    _, best, _, (bx, by) = cv2.minMaxLoc(scores)
    if not np.isfinite(best) or best < config.anchor_min:
        return box
    offset = np.array([sx0 + bx - box[0], sy0 + by - box[1]], dtype=np.float64)
    return box + np.concatenate([offset, offset])


def template_score(image: np.ndarray, box: np.ndarray, template: np.ndarray) -> float:
    """Normalised correlation of the picture inside `box` with `template` scaled to fit it
    (-1 when the box is not wholly in the picture or too small to compare)."""
    height, width = image.shape
    x0, y0, x1, y1 = np.round(box).astype(int)
    if x0 < 0 or y0 < 0 or x1 > width or y1 > height:
        return -1.0
    score = _correlation(image, box, template)
    return -1.0 if score is None else score


def visible_look(image: np.ndarray, box: np.ndarray, template: np.ndarray) -> float:
    """Normalised correlation of the part of `box` inside the picture with the same part of
    `template` scaled to the box (1 when too little of it is in the picture to compare)."""
    score = _correlation(image, box, template)
    return 1.0 if score is None else score


def _correlation(image: np.ndarray, box: np.ndarray, template: np.ndarray) -> float | None:
    """Normalised correlation of the part of `box` inside the picture with the same part of
    `template` scaled to the whole box; None when the box, or its part in the picture, is under
    4x4 pixels, or the correlation is undefined (a flat patch)."""
    height, width = image.shape
    x0, y0, x1, y1 = (int(v) for v in np.round(box))
    cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    if x1 - x0 < 4 or y1 - y0 < 4 or cx1 - cx0 < 4 or cy1 - cy0 < 4:
        return None
    scaled = cv2.resize(template, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    part = scaled[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]
    score = float(cv2.matchTemplate(image[cy0:cy1, cx0:cx1], part, cv2.TM_CCOEFF_NORMED)[0, 0])
    return score if math.isfinite(score) else None


def _clip_box(box: np.ndarray, width: int, height: int) -> np.ndarray:
    return np.clip(np.asarray(box, dtype=np.float64), 0, [width, height, width, height])


def visible_fraction(box: np.ndarray, width: int, height: int) -> float:
    """Fraction of the box's area inside a width x height picture."""
    area = float((box[2] - box[0]) * (box[3] - box[1]))
    inner = _clip_box(box, width, height)
    return float((inner[2] - inner[0]) * (inner[3] - inner[1])) / area if area > 0 else 0.0


class _Follower:
    """Tracks one object through consecutive gray frames (either direction).

    A box that rides on the background (moves as the picture round it does) on a picture much
    less like the seed frame's object than it was at first (`SeedConfig.min_look`) for more
    than `max_gap` frames has lost it: tracking ends where that began.

    A frame where the object cannot be found (an occluder passes, motion blur) is skipped: the
    next frames are matched against the last frame where it was seen, with the motion scaled
    by the gap, for up to `config.max_gap` frames.
    """

    STILL = 0.1  # box sizes a second the box moves at most against its surroundings
    FADE_S = 0.5  # ...for at least this long (and `max_gap` frames) on an unlike picture

    def __init__(self, seed: VideoFrame, box: np.ndarray, config: SeedConfig,
                 fps: float) -> None:
        self.config = config
        self.fps = fps
        self.previous = seed.image
        self.box = box
        self.velocity = np.zeros(2)
        self.missed = 0
        # the looks (seed-frame correlation) of the first frames found: how alike it stays
        self.early: list[float] = []
        # the frames in a row (the latest found ones) whose box does not look like the object
        self.faded: list[int] = []
        x0, y0, x1, y1 = _clip_box(box, seed.image.shape[1], seed.image.shape[0]).round()
        self.template = seed.image[int(y0):int(y1), int(x0):int(x1)].copy()

    @property
    def lost(self) -> bool:
        faded = len(self.faded) > max(self.config.max_gap, self.FADE_S * self.fps)
        return self.missed > self.config.max_gap or faded

    def step(self, frame: VideoFrame) -> np.ndarray | None:
        """The object's box on `frame`, or None when it is not found there."""
        moved = self._locate(frame.image)
        if moved is None:
            self.missed += 1
            return None
        frames = self.missed + 1
        self.velocity = ((moved[:2] + moved[2:]) - (self.box[:2] + self.box[2:])) / 2 / frames
        look = visible_look(frame.image, moved, self.template)
        if len(self.early) < self.config.max_gap:
            self.early.append(look)
            self.faded = []
        elif look < self.config.min_look * float(np.median(self.early)) and \
                self._with_surroundings(frame.image, frames):
            self.faded.append(frame.index)
        else:
            self.faded = []
        self.previous, self.box, self.missed = frame.image, moved, 0
        return moved

    def _with_surroundings(self, image: np.ndarray, frames: int) -> bool:
        """Whether the box moved as the picture round it did since the previous frame found
        (within `STILL` box sizes a second): a box that rides on the background, still or
        panned with the camera. One that moves on against it may be a turning object, which
        need not look like its seed frame."""
        around = surround_shift(self.previous, image, self.box, config=self.config)
        relative = self.velocity - (np.zeros(2) if around is None else around / frames)
        size = max(float(np.max(self.box[2:] - self.box[:2])), 1.0)
        return float(np.abs(relative).max()) * self.fps < self.STILL * size

    def _locate(self, image: np.ndarray) -> np.ndarray | None:
        expected = self.velocity * (self.missed + 1)
        boxes = self._candidates(image, expected)
        if not boxes:
            return None
        scores = [template_score(image, b, self.template) for b in boxes]
        best = int(np.argmax(scores))
        coast = self.box + np.concatenate([expected, expected])
        if template_score(image, coast, self.template) > scores[best] + self.config.coast_margin:
            return None  # simply carrying on looks more like the object than where the
            # features went: they followed an occluder. Skip the frame.
        moved = anchor_refine(image, boxes[best], self.template, config=self.config)
        height, width = image.shape
        if visible_fraction(moved, width, height) < self.config.min_visible:
            return None
        return moved

    def _candidates(self, image: np.ndarray, expected: np.ndarray) -> list[np.ndarray]:
        """Boxes the flow step finds from the patch-match guess and from the predicted motion.

        Near a guess, LK runs on the fine level only: on coarse pyramid levels a small object
        is mostly background, which pulls the features away. The patch match may have followed
        an occluder, so when it disagrees with the motion so far both are tried; a full pyramid
        search from the predicted position is the last resort.
        """
        guess, found = coarse_shift(self.previous, image, self.box, expected, config=self.config)
        starts = [guess] if found else []
        if not found or np.linalg.norm(guess - expected) > 2.0:
            starts.append(expected)
        boxes = [b for start in starts
                 if (b := flow_step(self.previous, image, self.box, config=self.config,
                                    guess=start, levels=1, prior=expected)) is not None]
        if not boxes:
            deep = flow_step(self.previous, image, self.box, config=self.config, guess=expected,
                             levels=self.config.levels, prior=expected)
            boxes = [] if deep is None else [deep]
        return boxes


def _backward(reader: VideoReader, before: int, *, max_side: int, chunk: int) -> Iterator[VideoFrame]:
    """Gray frames before-1, before-2, ..., 0, decoded forwards a chunk at a time."""
    stop = before
    while stop > 0:
        start = max(0, stop - chunk)
        block = list(reader.frames(start=start, stop=stop, max_side=max_side, gray=True))
        yield from reversed(block)
        stop = start


def _follow(frames: Iterator[VideoFrame], seed: VideoFrame, box: np.ndarray, *,
            config: SeedConfig, forward: bool, fps: float,
            tick: Callable[[], None]) -> list[tuple[int, np.ndarray]]:
    """(index, box) for the frames after the seed in one direction, up to loss or a shot cut.

    Frames skipped inside a short gap get boxes interpolated between the two sides of it.
    """
    follower = _Follower(seed, box, config, fps)
    cuts = CutDetector(CutConfig())
    cuts.update(seed)
    found: list[tuple[int, np.ndarray, float]] = []
    gap: list[VideoFrame] = []
    cut_at: float | None = None
    try:
        for frame in frames:
            tick()
            cut_at = cuts.update(frame)
            if cut_at is not None:
                break
            last = follower.box
            moved = follower.step(frame)
            if follower.lost:
                break
            if moved is None:
                gap.append(frame)
                continue
            for k, skipped in enumerate(gap, start=1):
                weight = k / (len(gap) + 1)
                found.append((skipped.index, (1 - weight) * last + weight * moved, skipped.time))
            gap.clear()
            found.append((frame.index, moved, frame.time))
    finally:
        close = getattr(frames, "close", None)
        if close is not None:  # stop the decoder now, also when progress raised Cancelled
            close()
    if follower.faded:  # the last boxes were on something else: the object ended before them
        end = follower.faded[0]
        found = [f for f in found if (f[0] < end if forward else f[0] > end)]
    if cut_at is None:
        cut_at = next(iter(cuts.finish()), None)
    if cut_at is not None:  # forwards: the cut starts a shot; backwards: it ends one
        found = [f for f in found if (f[2] < cut_at if forward else f[2] > cut_at)]
    return [(index, moved) for index, moved, _ in found]


def checked_seed(info: VideoInfo, frame_index: int, box: Box) -> np.ndarray:
    """The seed box as an array clipped to the picture, or an InputError saying what is wrong
    (a frame outside the video, a box that is not four finite numbers or has under 4x4 pixels
    inside the picture)."""
    if not 0 <= frame_index < info.frames:
        raise InputError(f"seed frame {frame_index} is outside the video (0..{info.frames - 1})")
    values = np.asarray(box, dtype=np.float64)
    if values.shape != (4,) or not np.all(np.isfinite(values)):
        raise InputError(f"seed box must be four finite numbers x0, y0, x1, y1, got {box!r}")
    clipped = _clip_box(values, info.width, info.height)
    if clipped[2] - clipped[0] < 4 or clipped[3] - clipped[1] < 4:
        raise InputError(f"seed box {tuple(float(v) for v in values)} must be at least 4x4 pixels "
                         f"inside the {info.width}x{info.height} picture")
    return clipped


def track_from_seed(reader: VideoReader, frame_index: int, box: Box, *, object_id: int,
                    label: str = "object", max_side: int = 640,
                    progress: ProgressFn | None = None,
                    config: SeedConfig | None = None) -> Track:
    """Track the object in `box` (x0, y0, x1, y1 source px) on frame `frame_index` both ways.

    Tracking runs on gray frames no larger than `max_side` and stops where the object is lost,
    at a shot cut, or at the clip's ends. Boxes come back in source pixels. `progress` may raise
    Cancelled to stop.
    """
    cfg = config or SeedConfig()
    if max_side < 32:
        raise InputError(f"max_side must be at least 32, got {max_side}")
    seed_box = checked_seed(reader.info, frame_index, box)
    seed = next(iter(reader.frames(start=frame_index, stop=frame_index + 1, max_side=max_side,
                                   gray=True)), None)
    if seed is None:
        raise VideoError(f"{reader.path}: frame {frame_index} could not be decoded")
    total = max(1, reader.info.frames - 1)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        report(progress, done / total, f"tracking {label}")

    # per-axis scale: the tracking picture's even-rounded size is not exactly proportional
    height, width = seed.image.shape
    scale = np.array([width / reader.info.width, height / reader.info.height] * 2)
    start = seed_box * scale
    fps = float(reader.info.fps)
    after = _follow(iter(reader.frames(start=frame_index + 1, max_side=max_side, gray=True)),
                    seed, start, config=cfg, forward=True, fps=fps, tick=tick)
    before = _follow(_backward(reader, frame_index, max_side=max_side, chunk=cfg.chunk), seed,
                     start, config=cfg, forward=False, fps=fps, tick=tick)
    report(progress, 1.0, f"tracked {label}")
    rows = [*reversed(before), (frame_index, start), *after]
    boxes = np.array([b for _, b in rows], dtype=np.float64) / scale
    boxes = _clip_box(boxes, reader.info.width, reader.info.height)
    return Track(id=object_id, label=label, frames=np.array([f for f, _ in rows], np.int64),
                 boxes=boxes, extra={"seed_frame": int(frame_index)})
