"""Moving-object detection without model weights: a camera-compensated background model.

Per frame (already downscaled for analysis):
1. Camera motion: sparse corners of the previous frame followed by pyramidal Lucas-Kanade into
   the current one, a RANSAC similarity transform (moving objects are its outliers). Tiny motions
   snap to "none" so a static camera never blurs the background by resampling it. Once the
   camera has held still for a second, each frame first follows a quarter of the corners at full
   resolution only (`holds_still`); the full estimate runs only when they show a move.
2. The background image is warped by that transform (pixels that scroll into view are taken from
   the current frame), and the foreground is where the frame differs from it by more than a
   threshold set from the measured noise (robust to sensor noise at any level). When the camera
   moves, the difference is first reduced by what a fraction of a pixel of misalignment could
   explain at strong background edges.
3. Morphology removes specks and fills holes; connected components become candidate boxes;
   nearby fragments merge. Boxes are returned in source pixels.
4. Ghosts: where an object that had become part of the background leaves, its old place differs
   from the background although nothing is there. Across such a blob's outline the background
   image has a colour step but the current frame is continuous (a real object is the other way
   round); it is dropped and the background under it replaced by the frame at once.
5. The background learns fast where there is no foreground and slowly under it; foreground that
   stays unchanged for `static_seconds` (a ghost the outline test missed, or an object that came
   to rest) is absorbed quickly.

A segment (the video start, or a new shot after a cut) starts with a bootstrap: the background is
the per-pixel median of up to `bootstrap_samples` frames from its first `bootstrap_seconds`,
aligned by the camera motion, so objects moving from the first frame leave no ghost. Detection
of those frames is replayed after the bootstrap; callers see a short delay, nothing else.

A camera move the similarity transform cannot follow (a dolly or a crane shot: parallax, the
scene changing shape) leaves a background that is wrong nearly everywhere once the camera comes
to rest. The noise threshold then climbs (it is set from the median difference, so most of the
picture differs), foreground that merely differs from the stale background is never absorbed
(an animated texture keeps changing a little), and whole regions merge into one box for
seconds. So where the camera moved and has then held still for `rebootstrap_seconds` with the
median difference above `rebootstrap_median` on every frame (and a direct comparison of that
second's first and last pictures confirms it: a slow dolly passes the frame-to-frame estimate as
still), the segment bootstraps again from the frames that follow (`MotionDetector` holds them as
at the start; nothing is lost). A segment that ends before that window fills keeps the old
background for the held frames: a median of a few frames would take in whatever moves about in
place through them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

_IDENTITY = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


@dataclass(frozen=True)
class MotionConfig:
    """Options of the motion detector (sizes relative to the analysis frame).

    `ghost_ratio`: a blob is a ghost when the colour step across its outline in the frame is
    below this times the background's (0 turns the ghost test off); `ghost_band`: pixels on each
    side of the outline averaged for that step.
    """

    bootstrap_seconds: float = 3.0
    bootstrap_samples: int = 15
    learn_rate: float = 0.05
    foreground_learn_rate: float = 0.002
    static_seconds: float = 1.5
    threshold_sigmas: float = 3.5
    min_threshold: float = 9.0
    min_area: float = 0.0003
    merge_gap: float = 0.008
    close_size: float = 0.012
    blur_size: int = 5
    camera_max_side: int = 320
    camera_features: int = 160
    compensate_camera: bool = True
    registration_error: float = 1.0
    # while the camera moves or shakes, a blob whose pixels differ from the background by no more
    # than `shake_error` pixels of misalignment could explain (at `shake_share` of its area or
    # more) is edge residue (blur and shake along strong background edges), not an object
    shake_error: float = 3.0
    shake_share: float = 0.8
    ghost_ratio: float = 0.7
    ghost_band: int = 3
    # a still camera's background is wrong where the median difference (0-255) stays above
    # `rebootstrap_median` for `rebootstrap_seconds` after a camera move: bootstrap again
    # (0 seconds turns it off)
    rebootstrap_median: float = 10.0
    rebootstrap_seconds: float = 1.0

    def __post_init__(self) -> None:
        if self.rebootstrap_median <= 0 or self.rebootstrap_seconds < 0:
            raise ValueError("rebootstrap_median must be positive and rebootstrap_seconds "
                             "at least 0")


# ----------------------------------------------------------------------------------------------
# Pure helpers


def estimate_camera_motion(prev_gray: np.ndarray, gray: np.ndarray, *,
                           config: MotionConfig = MotionConfig(),
                           exclude: np.ndarray | None = None) -> np.ndarray:
    """2x3 similarity transform taking `prev_gray` pixel coordinates to `gray` ones.

    `exclude` (uint8, same size, nonzero = moving objects) keeps corners off known objects, so
    a large or slow object cannot drag the estimate along. Returns the identity when too few
    corners are found or tracked, when RANSAC finds no consensus, or when the motion is below a
    tenth of a pixel.
    """
    factor = camera_factor(gray.shape, config)
    prev_small, small = shrink(prev_gray, factor), shrink(gray, factor)
    corners = find_corners(prev_small, config=config,
                           exclude=None if exclude is None else shrink(exclude, factor))
    return follow_corners(prev_small, small, corners, factor)[0]


def camera_factor(shape: tuple[int, ...], config: MotionConfig) -> float:
    """Scale from analysis pixels to the (smaller) camera-motion pixels."""
    return min(1.0, config.camera_max_side / max(shape[:2]))


def camera_gray(image: np.ndarray, config: MotionConfig) -> np.ndarray:
    """The frame's gray picture at the camera-motion size (`camera_factor`)."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return shrink(gray, camera_factor(image.shape, config))


def shrink(image: np.ndarray, factor: float) -> np.ndarray:
    """`image` scaled by `factor` (area-averaged; nearest for masks would be the same size)."""
    if factor >= 1.0:
        return image
    h, w = image.shape[:2]
    return cv2.resize(image, (max(8, round(w * factor)), max(8, round(h * factor))),
                      interpolation=cv2.INTER_AREA)


def find_corners(gray: np.ndarray, *, config: MotionConfig,
                 exclude: np.ndarray | None = None) -> np.ndarray | None:
    """Good corners to follow (n, 1, 2) float32, none where `exclude` is nonzero."""
    allowed = None if exclude is None else np.where(exclude > 0, 0, 255).astype(np.uint8)
    min_dist = max(4.0, max(gray.shape) / 40)
    return cv2.goodFeaturesToTrack(gray, config.camera_features, 0.01, min_dist, mask=allowed,
                                   blockSize=7)


def _similarity(prev_small: np.ndarray, small: np.ndarray, corners: np.ndarray, *,
                levels: int, min_followed: float, min_inliers: float,
                inlier_share: float) -> tuple[np.ndarray, np.ndarray] | None:
    """(RANSAC similarity transform in camera-motion pixels, its inlier corners where they
    moved to) of `corners` followed by Lucas-Kanade from `prev_small` into `small` on `levels`
    pyramid levels beyond full resolution; None when fewer than `min_followed` corners follow,
    RANSAC finds nothing, or its inliers are fewer than `min_inliers` or than `inlier_share` of
    those that followed."""
    moved, status, _ = cv2.calcOpticalFlowPyrLK(prev_small, small, corners, None,  # type: ignore[call-overload]
                                                winSize=(13, 13), maxLevel=levels)
    ok = status.reshape(-1) == 1
    if ok.sum() < min_followed:
        return None
    matrix, inliers = cv2.estimateAffinePartial2D(corners[ok], moved[ok], method=cv2.RANSAC,
                                                  ransacReprojThreshold=0.5)
    if matrix is None or inliers is None or \
            inliers.sum() < max(min_inliers, inlier_share * ok.sum()):
        return None
    return matrix.astype(np.float64), moved[ok][inliers.reshape(-1) == 1]


def follow_corners(prev_small: np.ndarray, small: np.ndarray, corners: np.ndarray | None,
                   factor: float) -> tuple[np.ndarray, np.ndarray | None]:
    """(camera transform in analysis pixels, RANSAC-inlier corners where they moved to).

    The transform is the identity when fewer than a dozen corners follow or RANSAC finds no
    consensus; the inliers can seed the next frame's estimate (None when there are too few).
    """
    if corners is None or len(corners) < 12:
        return _IDENTITY.copy(), None
    found = _similarity(prev_small, small, corners, levels=2, min_followed=12, min_inliers=10,
                        inlier_share=0.4)
    if found is None:
        return _IDENTITY.copy(), None
    matrix, kept = found
    matrix[:, 2] /= factor
    return snap_identity(matrix), kept


def holds_still(prev_small: np.ndarray, small: np.ndarray, corners: np.ndarray) -> bool:
    """True when `corners` (a few, from `prev_small`) show the camera did not move: followed at
    full resolution only (no pyramid; a real move makes them fail or disagree), their similarity
    estimate is well inside what `follow_corners` snaps to the identity. A cheap first look on a
    camera that has held still for a while; False means "estimate it properly"."""
    found = _similarity(prev_small, small, corners, levels=0,
                        min_followed=max(12, 0.8 * len(corners)), min_inliers=0,
                        inlier_share=0.8)
    # half the tolerances of `snap_identity`: near them, the full estimate decides
    return found is not None and \
        is_identity(snap_identity(found[0], shift_px=0.05, linear=1.5e-3))


def snap_identity(matrix: np.ndarray, *, shift_px: float = 0.1, linear: float = 3e-3) -> np.ndarray:
    """`matrix` with a negligible zoom/rotation made exact (a pure translation, which the
    background can follow without resampling), and the identity if it then moves pixels by less
    than `shift_px`."""
    if np.abs(matrix[:, :2] - np.eye(2)).max() >= linear:
        return matrix
    if np.abs(matrix[:, 2]).max() < shift_px:
        return _IDENTITY.copy()
    out = _IDENTITY.copy()
    out[:, 2] = matrix[:, 2]
    return out


def is_identity(matrix: np.ndarray) -> bool:
    """True for an exact identity transform (as `snap_identity` returns)."""
    return bool(np.array_equal(matrix, _IDENTITY))


def compose(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The 2x3 transform applying `first`, then `second`."""
    a = np.vstack([first, [0, 0, 1]])
    b = np.vstack([second, [0, 0, 1]])
    return (b @ a)[:2]


def invert(matrix: np.ndarray) -> np.ndarray:
    """Inverse of a 2x3 affine transform."""
    return cv2.invertAffineTransform(matrix).astype(np.float64)


def warp_into(image: np.ndarray, matrix: np.ndarray, fill: np.ndarray, *,
              nearest: bool = False) -> np.ndarray:
    """`image` moved by `matrix`; pixels with no source (scrolled into view) come from `fill`."""
    if is_identity(matrix):
        return image
    h, w = image.shape[:2]
    flags = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
    warped = cv2.warpAffine(image, matrix, (w, h), flags=flags,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=(-1e4, -1e4, -1e4))
    invalid = warped[:, :, 0] < 0 if warped.ndim == 3 else warped < 0
    if invalid.any():   # masked copy in OpenCV: some 5x faster than numpy's boolean indexing
        cv2.copyTo(np.ascontiguousarray(fill, dtype=warped.dtype), invalid.view(np.uint8), warped)
    return warped


def scrolled_in(shape: tuple[int, ...], matrix: np.ndarray) -> np.ndarray:
    """Boolean (h, w) mask of the pixels `matrix` brings into view (no source pixel)."""
    h, w = shape[:2]
    if is_identity(matrix):
        return np.zeros((h, w), bool)
    ones = np.full((h, w), 255, np.uint8)
    return cv2.warpAffine(ones, matrix, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0) < 250


def difference(image: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Largest absolute per-channel difference, (h, w) float32."""
    diff = cv2.absdiff(image, background)
    if diff.ndim == 2:
        return diff
    # numpy's maximum over the strided channel views: half the time of splitting the planes
    out = np.maximum(diff[..., 0], diff[..., 1])
    return np.maximum(out, diff[..., 2], out=out)


def edge_gradient(background: np.ndarray) -> np.ndarray:
    """How much a registration error of one pixel can change each pixel: the local gradient
    magnitude. Times the error, it is subtracted from the difference when the camera moves, so
    strong background edges do not light up as foreground after an imperfect alignment."""
    gray = cv2.cvtColor(background, cv2.COLOR_RGB2GRAY) if background.ndim == 3 else background
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
    return cv2.magnitude(gx, gy) * np.float32(1.0 / 8.0)  # Sobel = 8 x gradient per px


def noise_threshold(diff: np.ndarray, *, sigmas: float, floor: float) -> float:
    """Foreground threshold: `sigmas` times the median difference (most pixels are background)."""
    sample = diff[::4, ::4]
    return max(floor, sigmas * float(np.median(sample)))


def clean_mask(mask: np.ndarray, *, close_px: int) -> np.ndarray:
    """Open away specks and thin edge residue, then close holes inside objects."""
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)))
    size = max(3, close_px | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    return cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel)


def edge_residue(mask: np.ndarray, diff: np.ndarray, allowance: np.ndarray, *,
                 share: float) -> np.ndarray:
    """The blobs of `mask` (uint8 0/1) at least `share` of whose pixels differ from the
    background by no more than `allowance` (what misalignment at edges could explain), as a
    uint8 0/1 mask."""
    count, labels = cv2.connectedComponents(mask, connectivity=8)
    if count <= 1:
        return np.zeros_like(mask)
    inside = labels[mask > 0]
    explained = labels[(mask > 0) & (diff <= allowance)]
    total = np.bincount(inside, minlength=count).astype(np.float64)
    ok = np.bincount(explained, minlength=count).astype(np.float64)
    residue = ok >= share * np.maximum(total, 1.0)
    residue[0] = False
    return residue[labels].astype(np.uint8)


def mask_boxes(mask: np.ndarray, *, min_area_px: float, merge_gap_px: float) -> np.ndarray:
    """Boxes (n, 4) x0, y0, x1, y1 (pixel edges) of the mask's components, fragments merged."""
    # outer contours give each 8-connected component's bounding box, some 40x faster than
    # labelling every pixel; the pixel-area filter becomes a box-area one
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    rects = [cv2.boundingRect(c) for c in contours]
    boxes = [(float(x), float(y), float(x + w), float(y + h))
             for x, y, w, h in rects if w * h >= max(4.0, 0.25 * min_area_px)]
    merged = merge_boxes(np.asarray(boxes, dtype=np.float64).reshape(-1, 4), gap=merge_gap_px)
    keep = (merged[:, 2] - merged[:, 0]) * (merged[:, 3] - merged[:, 1]) >= min_area_px
    return merged[keep]


def outline_samples(contours: Sequence[np.ndarray], mask: np.ndarray, *, band_px: int,
                    max_points: int = 64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixels just inside and just outside the outlines of blobs of `mask`.

    `contours` are closed outlines (every pixel); at up to `max_points` points of each, pixels
    1..band_px along the normal to either side are taken. Returns (blob number of each point,
    inner, outer): flat pixel indices (row * width + col) of shape (points, band_px). Points
    where the inner samples leave the mask or the outer ones enter it (thin parts, neighbouring
    blobs) are left out. All outlines are done together, which keeps the cost per frame low.
    """
    parts = [c.reshape(-1, 2)[::max(1, len(c) // max_points)] for c in contours]
    sizes = np.array([len(p) for p in parts])
    pts = np.concatenate(parts).astype(np.float64)
    ids = np.repeat(np.arange(len(parts)), sizes)
    starts = (np.cumsum(sizes) - sizes)[ids]
    local = np.arange(len(pts)) - starts
    tangent = pts[starts + (local + 1) % sizes[ids]] - pts[starts + (local - 1) % sizes[ids]]
    length = np.maximum(np.hypot(tangent[:, 0], tangent[:, 1]), 1e-9)
    normal = np.stack([tangent[:, 1], -tangent[:, 0]], axis=1) / length[:, None]
    # OpenCV's outer contours turn so that (t_y, -t_x) points into the blob where the oriented
    # area is negative; were it otherwise, the checks below would drop every point (undecided)
    turn = np.array([1.0 if cv2.contourArea(c, oriented=True) <= 0 else -1.0 for c in contours])
    normal *= turn[ids, None]
    h, w = mask.shape
    dist = np.arange(1, band_px + 1, dtype=np.float64)

    def side(sign: float) -> np.ndarray:
        at = pts[:, None, :] + sign * normal[:, None, :] * dist[None, :, None]
        cols = np.clip(np.rint(at[..., 0]), 0, w - 1).astype(np.intp)
        rows = np.clip(np.rint(at[..., 1]), 0, h - 1).astype(np.intp)
        return rows * w + cols

    inner, outer = side(1.0), side(-1.0)
    flat = mask.reshape(-1)
    ok = (flat[inner] > 0).all(axis=1) & (flat[outer] == 0).all(axis=1)
    return ids[ok], inner[ok], outer[ok]


def outline_steps(image: np.ndarray, inner: np.ndarray, outer: np.ndarray) -> np.ndarray:
    """Colour step across a blob's outline in `image` at each sampled outline point: the mean
    of the samples inside against the mean outside (largest channel difference; `inner` and
    `outer` are flat pixel indices as `outline_samples` gives). Averaging a few pixels on each
    side removes most texture, which is alike on both sides, and keeps the step between an
    object and what surrounds it."""
    pixels = image.reshape(image.shape[0] * image.shape[1], -1)
    step = np.abs(np.take(pixels, inner, axis=0).mean(axis=1) -
                  np.take(pixels, outer, axis=0).mean(axis=1))
    return step.max(axis=1)


def ghost_mask(image: np.ndarray, background: np.ndarray, mask: np.ndarray, *,
               band_px: int, ratio: float, min_step: float) -> np.ndarray:
    """The blobs of `mask` (uint8 0/1) that are ghosts, as a uint8 0/1 mask.

    Where the frame differs from the background, one of the two is continuous across the
    blob's outline and the other has a step: a real object makes the step in the frame, a ghost
    left in the background makes it there. A blob is a ghost when the colour step across its
    outline is smaller in `image` than in `background` at most outline points, and its mean is
    below `ratio` times the background's; the background's mean step must be at least
    `min_step` (else neither has an outline and nothing is decided). The majority vote keeps a
    strong background feature on part of a real object's outline from deciding alone.
    Only a few hundred pixels along each outline are read, which keeps this cheap.
    """
    out = np.zeros_like(mask)
    if ratio <= 0:
        return out
    found, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    contours = [c for c in found if len(c) >= 12]
    if not contours:
        return out
    ids, inner, outer = outline_samples(contours, mask, band_px=band_px)
    old = outline_steps(background, inner, outer)
    n = len(contours)
    count = np.bincount(ids, minlength=n)
    old_sum = np.bincount(ids, old, minlength=n)
    candidate = (count >= 6) & (old_sum >= min_step * count)
    if not candidate.any():  # the usual case: no background outline under any blob
        return out
    keep = candidate[ids]
    ids, old = ids[keep], old[keep]
    new = outline_steps(image, inner[keep], outer[keep])
    new_sum = np.bincount(ids, new, minlength=n)
    weaker = np.bincount(ids, new < old, minlength=n)
    ghost = candidate & (weaker > 0.5 * count) & (new_sum < ratio * old_sum)
    for i in np.flatnonzero(ghost):
        cv2.drawContours(out, contours, int(i), 1, thickness=-1)
    return out


def merge_boxes(boxes: np.ndarray, *, gap: float) -> np.ndarray:
    """Repeatedly union boxes closer than `gap` until none are (fragments of one object).

    Each round unions every group of boxes linked by gaps of at most `gap` (components of the
    pairwise-gap graph, in one numpy pass); a union can come within `gap` of another box, so
    rounds repeat until none does. Merging only grows boxes, so the result is the same as
    merging one pair at a time, in any order; groups keep the order of their first box."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    first = np.arange(len(b))            # each box's (group's) first original index
    while len(b) > 1:
        dx = np.maximum(b[:, None, 0], b[None, :, 0]) - np.minimum(b[:, None, 2], b[None, :, 2])
        dy = np.maximum(b[:, None, 1], b[None, :, 1]) - np.minimum(b[:, None, 3], b[None, :, 3])
        close = np.maximum(dx, dy) <= gap      # negative: overlapping, also <= gap
        np.fill_diagonal(close, False)
        if not close.any():
            break
        label = _components(close, first)
        groups = np.unique(label)             # sorted: by first original index
        b = np.stack([np.concatenate([b[label == g, :2].min(axis=0), b[label == g, 2:].max(axis=0)])
                      for g in groups])
        first = groups
    return b


def _components(linked: np.ndarray, key: np.ndarray) -> np.ndarray:
    """For a symmetric boolean adjacency matrix: each node's component, named by the smallest
    `key` in it (labels spread along links until they settle)."""
    label = key.copy()
    big = np.iinfo(label.dtype).max
    while True:
        spread = np.minimum(label, np.where(linked, label[None, :], big).min(axis=1))
        if np.array_equal(spread, label):
            return label
        label = spread


def median_background(images: Sequence[np.ndarray], to_last: Sequence[np.ndarray]) -> np.ndarray:
    """Per-pixel median of frames (float32, or uint8: the same medians, found faster) aligned
    to the last one (`to_last[i]` maps frame i there), as float32."""
    if all(is_identity(m) for m in to_last):
        return np.median(_frames_last(images), axis=-1).astype(np.float32)
    # Pixels a frame did not see are NaN, so the median is taken over the frames that saw them.
    images = [np.asarray(img, dtype=np.float32) for img in images]
    nan = np.full_like(images[-1], np.nan)
    aligned = [warp_into(img, m, nan) for img, m in zip(images, to_last, strict=True)]
    background = np.nanmedian(_frames_last(aligned), axis=-1)
    return np.where(np.isnan(background), images[-1], background).astype(np.float32)


def _frames_last(images: Sequence[np.ndarray]) -> np.ndarray:
    """The images stacked along a last, contiguous axis: a median along it runs over adjacent
    values, some 2.5x faster than along a first axis (the same numbers)."""
    stack = np.empty((*images[0].shape, len(images)), dtype=images[0].dtype)
    for i, image in enumerate(images):
        stack[..., i] = image
    return stack


# ----------------------------------------------------------------------------------------------
# Streaming detector


@dataclass(frozen=True)
class Prepared:
    """The per-frame work of `MotionDetector.push` that needs no state (so it can run ahead on
    another thread): the blurred float32 image and the gray picture at camera-motion size."""

    blurred: np.ndarray
    small_gray: np.ndarray


@dataclass
class _Pending:
    index: int
    scale: float
    image: np.ndarray       # blurred analysis image (float32; uint8 while held for bootstrap)
    motion: np.ndarray      # transform from the previous frame of the segment


_NEVER_MOVED = 1 << 30   # MotionDetector._still before the camera first moves in a segment


class MotionDetector:
    """Streaming detector: `push` frames in order, get (frame index, boxes in source px) back.

    Results come back in frame order, possibly several at once after the bootstrap; `flush`
    returns the rest at the end of a segment (video end or a cut) and `reset` starts a new
    segment.
    """

    _FRESH_FRAMES = 10  # frames of fast learning for background just scrolled into view
    _CORNER_REFRESH = 5  # frames between fresh corner searches for camera motion
    _GHOST_EVERY = 2  # frames between ghost tests (a ghost lives at most one frame longer)
    _SETTLE_S = 0.5  # seconds of a still camera after which the sub-pixel rest is dropped
    _PROBE_EVERY = 4  # one corner in this many makes the still camera's first look

    def __init__(self, fps: float, *, config: MotionConfig = MotionConfig()) -> None:
        self.config = config
        self.fps = float(fps)
        # cumulative camera translation (source px) at each pushed frame: where a point of the
        # scene has moved to on screen since the start, used to tell object motion from panning
        self.camera: dict[int, np.ndarray] = {}
        # ghost boxes (source px) of the frames that had any: old places of objects that had
        # become background and left; a consumer (video.struck) pops them as it goes
        self.ghosts: dict[int, np.ndarray] = {}
        # first frames of the bootstraps begun again within a segment (`_rebootstrap`): what
        # was found before each came from a wrong background, so a consumer starts its tracks
        # afresh there
        self.restarts: set[int] = set()
        self._pan = np.zeros(2)
        self.reset()

    def reset(self) -> None:
        """Forget the background: the next frame starts a new segment (after a cut)."""
        self._pending: list[_Pending] = []
        self._prev_gray: np.ndarray | None = None  # at camera-motion size
        self._corners: np.ndarray | None = None
        self._frames_since_corners = 0
        self._camera_held = 0  # camera estimates in a row that were the identity
        self._prev_image: np.ndarray | None = None
        self._background: np.ndarray | None = None
        self._static: np.ndarray | None = None
        self._fresh: np.ndarray = np.zeros((1, 1), np.uint8)
        self._objects: np.ndarray | None = None  # last frame's (dilated) foreground
        self._frac = np.zeros(2)  # camera shift not yet applied to the stored background
        # frames since the camera last moved (a segment starts as if it never had)
        self._still = _NEVER_MOVED
        self._started = False
        self._detected = 0  # frames detected in this segment
        self._moved = False  # the camera moved since this segment's (last) bootstrap began
        self._stale = 0  # still frames in a row whose background was wrong for most pixels
        self._wrong = False  # the last detected frame's background was wrong for most pixels
        self._stale_from: np.ndarray | None = None  # camera-size picture where `_stale` began

    def prepare(self, image: np.ndarray) -> Prepared:
        """What `push` first computes from a frame alone (pure; safe on another thread)."""
        small = np.zeros((0, 0), np.uint8)
        if self.config.compensate_camera:
            small = camera_gray(image, self.config)
        return Prepared(self._prepare(image), small)

    def push(self, image: np.ndarray, index: int, scale: float, *,
             prepared: Prepared | None = None) -> list[tuple[int, np.ndarray]]:
        """Add one frame (RGB or gray uint8, `scale` = its px per source px; `prepared`: its
        `prepare`, when computed ahead)."""
        if prepared is None:
            prepared = self.prepare(image)
        blurred = prepared.blurred
        motion = _IDENTITY.copy()
        if self.config.compensate_camera:
            motion = self._camera_motion(image, prepared.small_gray)
        self._pan = self._pan + motion[:, 2] / scale
        self.camera[index] = self._pan.copy()
        if self._started:
            found = [self._detect(_Pending(index, scale, blurred, motion))]
            if self._stale >= max(1, round(self.config.rebootstrap_seconds * self.fps)) and \
                    self.config.rebootstrap_seconds > 0:
                if self._held_still(blurred):
                    self._rebootstrap()
                else:       # the camera still creeps: judge a new second from here
                    self._stale = 0
            return found
        # held frames are kept as 8-bit to bound memory (a few seconds of analysis frames)
        self._pending.append(_Pending(index, scale, np.round(blurred).astype(np.uint8), motion))
        if len(self._pending) >= max(2, round(self.config.bootstrap_seconds * self.fps)):
            return self._bootstrap()
        return []

    def flush(self) -> list[tuple[int, np.ndarray]]:
        """Detections of frames still held for the bootstrap (end of segment). Held for a
        second bootstrap whose window the segment ended before filling, they are detected
        with the old background instead (`_resume`)."""
        if not self._pending:
            return []
        if self._background is not None:
            return self._resume()
        return self._bootstrap()

    # -- internals ------------------------------------------------------------------------------

    def _prepare(self, image: np.ndarray) -> np.ndarray:
        data = image.astype(np.float32)
        if data.ndim == 2:
            data = data[:, :, None].repeat(3, axis=2)
        k = self.config.blur_size
        return cv2.GaussianBlur(data, (k, k), 0) if k > 1 else data

    def _camera_motion(self, image: np.ndarray, small: np.ndarray) -> np.ndarray:
        """Camera motion since the previous frame (`small`: this frame's gray at camera-motion
        size). Corners that followed well are reused for the next frame; new ones are found
        every few frames or when too few are left."""
        factor = camera_factor(image.shape, self.config)
        prev, self._prev_gray = self._prev_gray, small
        if prev is None:
            return _IDENTITY.copy()
        self._frames_since_corners += 1
        corners = self._corners
        if corners is None or len(corners) < 0.5 * self.config.camera_features or \
                self._frames_since_corners >= self._CORNER_REFRESH:
            exclude = shrink(self._objects, factor) if self._objects is not None and \
                self._started else None
            corners = find_corners(prev, config=self.config, exclude=exclude)
            self._frames_since_corners = 0
        if self._camera_held >= self.fps and corners is not None and \
                len(corners) >= 12 * self._PROBE_EVERY and \
                holds_still(prev, small, np.ascontiguousarray(corners[::self._PROBE_EVERY])):
            # a camera that held still for a second (on a tripod, not in a hand) most often
            # stays still: a quarter of the corners, without pyramids, say so at a third of the
            # cost; the corners stay where they were
            self._corners = corners
            self._camera_held += 1
            return _IDENTITY.copy()
        motion, self._corners = follow_corners(prev, small, corners, factor)
        self._camera_held = self._camera_held + 1 if is_identity(motion) else 0
        return motion

    def _rebootstrap(self) -> None:
        """Hold the next frames for a new bootstrap (see the module's notes); the camera
        state and the frame counts carry on."""
        self._started = False
        self._moved = False
        self._stale = 0

    def _resume(self) -> list[tuple[int, np.ndarray]]:
        """Detect the held frames with the background the detector had before it began to
        hold them for a second bootstrap. A shot that ends first leaves too few frames for a
        trustworthy median: one object moving about in place, as it often is then, fills
        most of them and would become background (a robot arm waving through play118's last
        second was lost so). The old background is the one the analysis had anyway."""
        held, self._pending = self._pending, []
        self._started = True
        return [self._detect(_Pending(item.index, item.scale, item.image.astype(np.float32),
                                      item.motion)) for item in held]

    def _bootstrap(self) -> list[tuple[int, np.ndarray]]:
        """Median background from the held frames, then detect each of them in order."""
        held = self._pending    # 8-bit: the median is taken over these
        self._pending = []
        again = self._background is not None
        step = max(1, int(np.ceil(len(held) / self.config.bootstrap_samples)))
        to_last = [_IDENTITY.copy()]
        for item in reversed(held[1:]):
            to_last.insert(0, compose(item.motion, to_last[0]))
        chosen = list(range(len(held) - 1, -1, -step))[::-1]
        background = median_background([held[i].image for i in chosen],
                                       [to_last[i] for i in chosen])
        first = held[0].image.astype(np.float32)
        self._background = warp_into(background, snap_identity(invert(to_last[0])), first)
        self._prev_image = None
        self._static = np.zeros(first.shape[:2], np.uint16)
        self._frac = np.zeros(2)
        self._fresh = np.zeros(first.shape[:2], np.uint8)
        self._started = True
        out = []
        # each held frame becomes float32 only as it is detected: all at once, a high-speed
        # clip's held seconds (up to 552 frames at 184 fps) took four times their memory again
        fits = []
        for n, item in enumerate(held):
            image = first if n == 0 else item.image.astype(np.float32)
            motion = _IDENTITY.copy() if n == 0 else item.motion
            out.append(self._detect(_Pending(item.index, item.scale, image, motion)))
            fits.append(not self._wrong)
        return self._restarted(out, fits) if again else out

    def _restarted(self, found: list[tuple[int, np.ndarray]],
                   fits: list[bool]) -> list[tuple[int, np.ndarray]]:
        """A new bootstrap's detections: the frames before the first that the new background
        fits (the tail of the camera move that spoilt the old one) give no boxes, and the
        restart is marked there; where it fits none of them, all are kept as found."""
        first = fits.index(True) if any(fits) else 0
        self.restarts.add(found[first][0])
        return [(index, boxes if n >= first else boxes[:0])
                for n, (index, boxes) in enumerate(found)]

    def _detect(self, item: _Pending) -> tuple[int, np.ndarray]:
        """Foreground boxes of one frame; updates the background model."""
        assert self._background is not None and self._static is not None
        cfg = self.config
        image = item.image
        background = self._follow_camera(item.motion, image)
        raw_diff = diff = difference(image, background)
        # a hand-held camera's sub-pixel shake snaps to "no motion" on some frames, but the
        # background is no better aligned then: edges stay forgiven for a second after it moved
        shaky = self._still < round(self.fps)
        gradient = edge_gradient(background) if shaky else None  # one Sobel, two uses
        if gradient is not None:
            diff = cv2.subtract(diff, gradient * np.float32(cfg.registration_error))
        threshold = noise_threshold(diff, sigmas=cfg.threshold_sigmas, floor=cfg.min_threshold)
        self._judge_background(threshold, image)
        raw = (diff > threshold).astype(np.uint8)
        h, w = raw.shape
        mask = clean_mask(raw, close_px=round(cfg.close_size * max(h, w)))
        if gradient is not None and cfg.shake_error > 0:
            mask &= 1 - edge_residue(mask, raw_diff, gradient * np.float32(cfg.shake_error),
                                     share=cfg.shake_share)
        ghosts = self._ghosts(image, background, mask, threshold)
        if ghosts is not None:
            mask &= 1 - ghosts
            self.ghosts[item.index] = mask_boxes(ghosts, min_area_px=cfg.min_area * h * w,
                                                 merge_gap_px=0.0) / item.scale
        boxes = mask_boxes(mask, min_area_px=cfg.min_area * h * w,
                           merge_gap_px=cfg.merge_gap * max(h, w))
        self._learn(image, mask, item.motion, threshold)
        if ghosts is not None:
            self._absorb(image, ghosts)
        self._objects = cv2.dilate(mask, cv2.getStructuringElement(
            cv2.MORPH_RECT, (max(3, w // 40), max(3, w // 40))))
        return item.index, boxes / item.scale

    def _judge_background(self, threshold: float, image: np.ndarray) -> None:
        """Count still-camera frames, after a move, whose noise threshold says the background
        is wrong for most of the picture (the median difference above `rebootstrap_median`);
        the first of a run keeps its picture (`_stale_from`) for `_held_still`."""
        self._moved = self._moved or self._still == 0
        self._wrong = threshold >= self.config.threshold_sigmas * self.config.rebootstrap_median
        if self._moved and 0 < self._still < _NEVER_MOVED and self._wrong:
            if not self._stale and self.config.compensate_camera:
                self._stale_from = camera_gray(image.astype(np.uint8), self.config)
            self._stale += 1
        else:
            self._stale = 0

    def _held_still(self, image: np.ndarray) -> bool:
        """Whether the picture (`image`, the frame just detected) has not moved since the stale
        run began: the frame-to-frame estimates snap a slow dolly or zoom (a fraction of a
        percent a frame) to "still", so the run's first picture and this one are compared
        directly. Without camera compensation there is nothing to compare: still. Corners
        that do not follow (the picture changed too much) or agree on no transform are no
        proof of a still camera."""
        if self._stale_from is None or not self.config.compensate_camera:
            return True
        corners = find_corners(self._stale_from, config=self.config)
        if corners is None or len(corners) < 12:
            return False
        now = camera_gray(image.astype(np.uint8), self.config)
        found = _similarity(self._stale_from, now, corners, levels=2,
                            min_followed=12, min_inliers=10, inlier_share=0.4)
        return found is not None and is_identity(snap_identity(found[0]))

    def _follow_camera(self, motion: np.ndarray, image: np.ndarray) -> np.ndarray:
        """Move the stored background with the camera; returns it aligned to this frame.

        A pure translation moves the stored image by whole pixels only (exact), keeping the
        sub-pixel rest aside: resampling it every frame would blur it more and more, and thin
        background lines would then show up as foreground. Only the returned view is resampled.
        Zoom or rotation resample the stored image (rare, and slow cameras barely blur it).
        Once the camera has held still for `_SETTLE_S`, the sub-pixel rest is dropped: on a
        still camera it is most often the estimate's noise (one sub-pixel jitter of it would
        otherwise cost four warps a frame for the rest of the shot), and where it was real, the
        background learns the half pixel at most that it is off within a second. Applying it by
        resampling the stored image instead was tried: its blur gave a hand-held clip
        (box.mp4) a spurious track.
        """
        assert self._background is not None
        self._still = self._still + 1 if is_identity(motion) else 0
        if self._still >= max(1, round(self._SETTLE_S * self.fps)) and \
                np.abs(self._frac).max() >= 0.05:
            self._frac = np.zeros(2)
        if np.abs(motion[:, :2] - np.eye(2)).max() < 1e-3:
            total = self._frac + motion[:, 2]
            step = np.round(total)
            if step.any():
                shift = np.array([[1.0, 0.0, step[0]], [0.0, 1.0, step[1]]])
                self._background = warp_into(self._background, shift, image, nearest=True)
            self._frac = total - step
        else:
            self._background = warp_into(self._background, motion, image)
            self._frac = np.zeros(2)
        if np.abs(self._frac).max() < 0.05:
            return self._background
        return warp_into(self._background, self._frac_shift(1.0), image)

    def _ghosts(self, image: np.ndarray, background: np.ndarray, mask: np.ndarray,
                threshold: float) -> np.ndarray | None:
        """The ghost blobs of `mask` (see `ghost_mask`), None when there are none. Tested every
        `_GHOST_EVERY` frames, which halves the cost and delays a ghost's removal by a frame."""
        self._detected += 1
        if self._detected % self._GHOST_EVERY:
            return None
        cfg = self.config
        ghosts = ghost_mask(image, background, mask, band_px=cfg.ghost_band,
                            ratio=cfg.ghost_ratio, min_step=0.5 * threshold)
        return ghosts if ghosts.any() else None

    def _absorb(self, image: np.ndarray, ghosts: np.ndarray) -> None:
        """Replace the background under `ghosts` (and a small rim) by the frame at once."""
        assert self._background is not None and self._static is not None
        region = cv2.dilate(ghosts, cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5)))
        self._static[region > 0] = 0  # counts are kept on the frame's grid
        stored = image if np.abs(self._frac).max() < 0.05 else warp_into(
            image, self._frac_shift(-1.0), self._background)
        on_stored = self._to_stored(region) > 0
        self._background[on_stored] = stored[on_stored]

    def _frac_shift(self, sign: float) -> np.ndarray:
        return np.array([[1.0, 0.0, sign * self._frac[0]], [0.0, 1.0, sign * self._frac[1]]])

    def _to_stored(self, mask: np.ndarray) -> np.ndarray:
        """A frame-aligned uint8 mask moved onto the stored background's pixel grid."""
        if np.abs(self._frac).max() < 0.05:
            return mask
        h, w = mask.shape
        return cv2.warpAffine(mask, self._frac_shift(-1.0), (w, h), flags=cv2.INTER_NEAREST)

    def _count_still(self, image: np.ndarray, prev: np.ndarray, fg_mask: np.ndarray,
                     threshold: float) -> None:
        """Per pixel, frames the foreground has stayed unchanged: +1 where it did, halved where
        it changed, 0 off the foreground. Only the foreground's bounding rectangle is computed
        (all else is 0), which keeps the cost to the objects' size."""
        assert self._static is not None
        x, y, w, h = cv2.boundingRect(fg_mask)
        if not w:
            self._static.fill(0)
            return
        counts = self._static[y:y + h, x:x + w]
        fg = fg_mask[y:y + h, x:x + w] > 0
        still = fg & (difference(image[y:y + h, x:x + w], prev[y:y + h, x:x + w])
                      < 1.5 * threshold)
        updated = (counts >> 1) * fg     # halved on the foreground, 0 off it ...
        np.add(counts, 1, out=updated, where=still)   # ... and one more where it held still
        np.minimum(updated, 60000, out=updated)
        self._static.fill(0)
        self._static[y:y + h, x:x + w] = updated

    def _learn(self, image: np.ndarray, mask: np.ndarray, motion: np.ndarray,
               threshold: float) -> None:
        """Blend the frame into the background: fast outside objects, slow under them, and fast
        again where the foreground has not changed for `static_seconds`."""
        assert self._static is not None
        cfg = self.config
        fg_mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5)))
        fg = fg_mask > 0
        if self._prev_image is not None:
            prev = warp_into(self._prev_image, motion, image)
            if not is_identity(motion):  # the counts belong to scene points: move them along
                h, w = self._static.shape
                self._static = cv2.warpAffine(self._static, motion, (w, h),
                                              flags=cv2.INTER_NEAREST)
                self._fresh = cv2.warpAffine(self._fresh, motion, (w, h),
                                             flags=cv2.INTER_NEAREST)
                self._fresh[scrolled_in(image.shape, motion)] = self._FRESH_FRAMES
            self._count_still(image, prev, fg_mask, threshold)
        absorb = self._static > cfg.static_seconds * self.fps
        fresh = self._fresh > 0
        background = self._background
        assert background is not None
        stored = image if np.abs(self._frac).max() < 0.05 else warp_into(
            image, self._frac_shift(-1.0), background)
        fg_u8 = self._to_stored(fg.view(np.uint8))
        fast = self._to_stored((absorb | fresh).view(np.uint8))
        # the whole frame is learned at the background rate (unmasked: some 4x faster than
        # OpenCV's masked path), then the objects' rectangle is put back where they are and
        # learned at the foreground rate there
        x, y, w, h = cv2.boundingRect(fg_u8)
        saved = background[y:y + h, x:x + w].copy()
        cv2.accumulateWeighted(stored, background, cfg.learn_rate)
        if w:
            on = fg_u8[y:y + h, x:x + w]
            cv2.copyTo(saved, on, background[y:y + h, x:x + w])
            cv2.accumulateWeighted(stored[y:y + h, x:x + w], background[y:y + h, x:x + w],
                                   cfg.foreground_learn_rate,
                                   mask=on & (1 - fast[y:y + h, x:x + w]))
        if fast.any():
            # ghosts, objects at rest, and background just scrolled into view (which may have
            # been filled with an object passing the edge) are learned fast
            x, y, w, h = cv2.boundingRect(fast)
            cv2.accumulateWeighted(stored[y:y + h, x:x + w], background[y:y + h, x:x + w], 0.2,
                                   mask=fast[y:y + h, x:x + w])
            self._fresh[fresh] -= 1
        self._prev_image = image
