"""What each tracked object is: an object detector run a few times a second, voted per track.

The detector is MediaPipe Objectron's SSD-MobileNetV2 trained on Open Images (23 classes: person,
car, bicycle, dog, cat, cup, bottle, chair, table, box, book, shoe ...), a 10 MB fp16 TFLite file
shipped in assets/models/ (source, version, hash and licence in assets/models/README.md), run on
the CPU with `ai-edge-litert` (about 6-30 ms per frame here). It sees the whole analysis frame
squashed to 300x300, every `1 / rate` seconds of video, on a worker thread while the motion
analysis goes on. After tracking, each detection frame's detections are matched one-to-one to the
tracks alive on it by IoU; each track's matches vote for a class (score-weighted), and the winner
becomes its label when it was seen often enough, else "unknown". Class names are COCO-style
(`OI_TO_COCO` maps the Open Images names), so the sound table and `--label` speak one language.

The weights are loaded lazily, on first use, after a SHA-256 check; a missing or corrupt file or
a missing runtime raises `RecognizerUnavailable`, which the analysis turns into one warning and
the box-shape labels of video.tracker.label_for.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from video.base.tracks import Track
from video.tflite_prune import keep_outputs

MODEL_PATH = (Path(__file__).resolve().parent.parent / "assets" / "models"
              / "ssd_mobilenetv2_oidv4_fp16.tflite")
MODEL_SHA256 = "d0a5255bf8c4f5a0bc4240741a76c41d5e939f7655078f945f50ab53a9375da6"
INPUT_SIZE = 300

# the model's label map (object_detection_oidv4_labelmap.txt in the same package), index 0 = none
OI_LABELS = ("???", "Bicycle", "Boot", "Laptop", "Person", "Chair", "Cattle", "Desk", "Cat",
             "Computer mouse", "Computer monitor", "Box", "Mug", "Coffee cup",
             "Stationary bicycle", "Table", "Bottle", "High heels", "Vehicle", "Footwear", "Dog",
             "Book", "Camera", "Car")

# Open Images names -> COCO-style names; "box", "shoe" and "camera" have no COCO class and keep
# their own plain names. OI's generic "Vehicle" is, on street footage, nearly always a car.
OI_TO_COCO = {
    "Bicycle": "bicycle", "Stationary bicycle": "bicycle", "Boot": "shoe", "High heels": "shoe",
    "Footwear": "shoe", "Laptop": "laptop", "Person": "person", "Chair": "chair",
    "Cattle": "cow", "Desk": "dining table", "Table": "dining table", "Cat": "cat",
    "Computer mouse": "mouse", "Computer monitor": "tv", "Box": "box", "Mug": "cup",
    "Coffee cup": "cup", "Bottle": "bottle", "Vehicle": "car", "Car": "car", "Dog": "dog",
    "Book": "book", "Camera": "camera",
}

COCO_CLASSES = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog",
    "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella",
    "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite",
    "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
    "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich",
    "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote",
    "keyboard", "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book",
    "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush")
UNKNOWN = "unknown"
# every class name an object may carry (what `--label ID=CLASS` accepts); "ambience" is what
# video.clutter names region-wide background motion (a stereo bed), and a user may too
CLASS_NAMES = (*COCO_CLASSES, "box", "shoe", "camera", "ambience", UNKNOWN)


class RecognizerUnavailable(RuntimeError):
    """The detector cannot run: weights missing or corrupt, or its runtime not installed."""


@dataclass(frozen=True)
class RecognizeConfig:
    """Options of object recognition.

    enabled: run the detector at all (off: box-shape labels). rate: detector runs per second of
    video. min_score: detections below this score are dropped. nms_iou: overlap above which a
    weaker detection of the same class is suppressed. match_iou: a detection votes for a track
    only if their boxes overlap at least this much. min_hits / min_fraction: a class wins only
    if it matched the track on at least min_hits detection frames (fewer for a track seen on
    fewer) and on at least min_fraction of the detection frames the track was on screen.
    threads: CPU threads of the detector. weights: another copy of the model file (tests).
    second_look: where a track ends undecided (a class matched it, too seldom to win), run the
    detector again on up to `second_looks` of the frames halfway between the sampled ones in its
    life (spread over it), and vote again.
    """

    enabled: bool = True
    rate: float = 3.0
    min_score: float = 0.3
    nms_iou: float = 0.45
    match_iou: float = 0.25
    min_hits: int = 2
    min_fraction: float = 0.2
    threads: int = 1
    weights: str | None = None
    second_look: bool = True
    second_looks: int = 6

    def __post_init__(self) -> None:
        if not self.rate > 0:
            raise ValueError(f"rate must be positive, got {self.rate}")
        for name in ("min_score", "nms_iou", "match_iou", "min_fraction"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in 0..1, got {getattr(self, name)}")
        if self.min_hits < 1 or self.threads < 1 or self.second_looks < 1:
            raise ValueError("min_hits, threads and second_looks must be at least 1")


@dataclass(frozen=True)
class Detections:
    """One frame's detections: boxes (k, 4) x0, y0, x1, y1 in source pixels, class names, scores."""

    frame: int
    boxes: np.ndarray
    labels: tuple[str, ...]
    scores: np.ndarray


@dataclass(frozen=True)
class Vote:
    """A track's recognized class: the winner and runner-up with their confidences (summed matched
    score over the detection frames the track was on), and how many frames it was looked at.
    When no class won ("unknown"), the runner-up is the class that came closest."""

    label: str
    confidence: float
    runner_up: str | None
    runner_up_confidence: float
    samples: int


# ----------------------------------------------------------------------------------------------
# the SSD's box decoding


@lru_cache(maxsize=1)
def ssd_anchors() -> np.ndarray:
    """The model's 1917 anchors (cy, cx, h, w in 0..1): the TF object-detection API's SSD anchor
    grid for a 300x300 input (6 layers, strides 16..512, scales 0.2..0.95, aspect ratios 1, 2,
    1/2, 3, 1/3 and one interpolated scale; the first layer has 3 reduced anchors)."""
    strides = (16, 32, 64, 128, 256, 512)
    lo, hi, n = 0.2, 0.95, len(strides)
    out: list[tuple[float, float, float, float]] = []
    for i, stride in enumerate(strides):
        size = int(np.ceil(INPUT_SIZE / stride))
        scale = lo + (hi - lo) * i / (n - 1)
        following = lo + (hi - lo) * (i + 1) / (n - 1) if i < n - 1 else 1.0
        if i == 0:
            shapes = [(0.1, 1.0), (scale, 2.0), (scale, 0.5)]
        else:
            shapes = [(scale, a) for a in (1.0, 2.0, 0.5, 3.0, 1.0 / 3.0)]
            shapes.append((float(np.sqrt(scale * following)), 1.0))
        ys, xs = np.meshgrid((np.arange(size) + 0.5) / size, (np.arange(size) + 0.5) / size,
                             indexing="ij")
        for y, x in zip(ys.ravel(), xs.ravel(), strict=True):
            out.extend((y, x, s / np.sqrt(a), s * np.sqrt(a)) for s, a in shapes)
    anchors = np.asarray(out, dtype=np.float64)
    anchors.setflags(write=False)
    return anchors


def decode_boxes(encodings: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """Box encodings (n, 4: ty, tx, th, tw, scaled 10, 10, 5, 5) -> boxes (n, 4) x0, y0, x1, y1
    in 0..1 of the input."""
    enc = np.asarray(encodings, dtype=np.float64)
    cy = enc[:, 0] / 10.0 * anchors[:, 2] + anchors[:, 0]
    cx = enc[:, 1] / 10.0 * anchors[:, 3] + anchors[:, 1]
    h = np.exp(np.clip(enc[:, 2] / 5.0, -10, 10)) * anchors[:, 2]
    w = np.exp(np.clip(enc[:, 3] / 5.0, -10, 10)) * anchors[:, 3]
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)


def select_detections(boxes: np.ndarray, logits: np.ndarray, *, min_score: float,
                      nms_iou: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best class per anchor (sigmoid scores, background column 0 skipped), score threshold,
    then per-class non-maximum suppression. Returns boxes (k, 4), class indices, scores."""
    scores = 1.0 / (1.0 + np.exp(-np.clip(logits[:, 1:], -60, 60)))
    cls = scores.argmax(axis=1)
    best = scores[np.arange(len(scores)), cls]
    keep = np.flatnonzero(best >= min_score)
    if not keep.size:
        return np.zeros((0, 4)), np.zeros(0, np.int64), np.zeros(0)
    b, c, s = boxes[keep], cls[keep] + 1, best[keep]
    chosen: list[int] = []
    for k in np.unique(c):
        idx = np.flatnonzero(c == k)
        rects = [[float(x0), float(y0), float(x1 - x0), float(y1 - y0)] for x0, y0, x1, y1 in b[idx]]
        kept = cv2.dnn.NMSBoxes(rects, s[idx].tolist(), min_score, nms_iou)
        chosen.extend(int(idx[j]) for j in np.asarray(kept).reshape(-1))
    order = np.asarray(sorted(chosen, key=lambda j: -s[j]), dtype=np.int64)
    return b[order], c[order], s[order]


# ----------------------------------------------------------------------------------------------
# the detector


_STDERR_SWAP = threading.RLock()


@contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Send what native code writes to file descriptor 2 to /dev/null while the block runs.

    The TFLite runtime prints an INFO line on stderr when it builds its CPU delegate; users
    should see only the program's own progress, warnings and errors there. The descriptor is
    the whole process's: one thread at a time swaps it (two interleaved swaps would restore
    /dev/null for good), and what other threads write meanwhile is lost too, so models are
    loaded on the thread that reports progress, not beside it.
    """
    with _STDERR_SWAP:
        sys.stderr.flush()
        try:
            saved = os.dup(2)
        except OSError:  # no stderr at all: nothing to silence
            yield
            return
        try:
            with open(os.devnull, "w") as devnull:
                os.dup2(devnull.fileno(), 2)
                yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


class _ModelFileProblem(Exception):
    """Why a model file cannot be used: "read" (with the OS error), "corrupt", "runtime"
    (ai-edge-litert missing) or "prune" (with its message)."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(kind, detail)
        self.kind = kind
        self.detail = detail


def model_bytes(path: Path, *, sha256: str, what: str, error: type[RuntimeError],
                outputs: Sequence[str] | None = None) -> bytes:
    """The bytes of the shipped model file at `path`, checked against its SHA-256 and, where
    `outputs` are named, pruned to them (video.tflite_prune: about 0.15 s for the pose model).
    Kept for the process, per file version (path, size, modification time), so a preloading
    thread can do this work ahead of `load_interpreter`: it touches no file descriptor, unlike
    the interpreter's creation. `error` with one plain message (naming `what` and the file)
    when the file is missing, corrupt or unreadable, or the runtime is not installed."""
    try:
        stat = path.stat()
    except OSError:
        raise error(f"{what} weights not found: {path}") from None
    if not path.is_file():
        raise error(f"{what} weights not found: {path}")
    try:
        return _model_bytes(path, stat.st_size, stat.st_mtime_ns, sha256,
                            None if outputs is None else tuple(outputs))
    except _ModelFileProblem as problem:
        if problem.kind == "corrupt":
            raise error(f"{what} weights {path} are corrupt (SHA-256 differs from the shipped "
                        "file)") from None
        if problem.kind == "runtime":
            raise error("the ai-edge-litert package is not installed (run scripts/install.sh)") \
                from None
        raise error(f"cannot load {what} {path}: {problem.detail}") from None


@lru_cache(maxsize=4)
def _model_bytes(path: Path, size: int, mtime_ns: int, sha256: str,
                 outputs: tuple[str, ...] | None) -> bytes:
    del size, mtime_ns    # part of the cache key only
    try:
        content = path.read_bytes()    # read once: checked, then handed to the runtime
    except OSError as exc:
        raise _ModelFileProblem("read", str(exc)) from None
    if hashlib.sha256(content).hexdigest() != sha256:
        raise _ModelFileProblem("corrupt")
    try:
        import ai_edge_litert.interpreter  # noqa: F401
    except ImportError:
        raise _ModelFileProblem("runtime") from None
    if outputs is None:
        return content
    try:
        return keep_outputs(content, outputs)
    except (RuntimeError, ValueError) as exc:
        raise _ModelFileProblem("prune", str(exc)) from None


def load_interpreter(path: Path, *, sha256: str, threads: int, what: str,
                     error: type[RuntimeError], outputs: Sequence[str] | None = None) -> Any:
    """A ready ai-edge-litert interpreter for the shipped model file at `path` (`model_bytes`:
    checked against its SHA-256 and pruned to `outputs`); `error` with one plain message
    (naming `what` and the file) when the file is missing, corrupt or unreadable, or the
    runtime is not installed."""
    content = model_bytes(path, sha256=sha256, what=what, error=error, outputs=outputs)
    from ai_edge_litert.interpreter import Interpreter
    try:
        with native_stderr_silenced():  # the runtime logs "INFO: Created ... delegate"
            interpreter = Interpreter(model_content=content, num_threads=threads)
            interpreter.allocate_tensors()
    except (RuntimeError, ValueError) as exc:
        raise error(f"cannot load {what} {path}: {exc}") from None
    return interpreter


class Detector:
    """The loaded SSD: `detect(image)` -> Detections-like arrays in the image's pixels."""

    def __init__(self, path: Path, threads: int) -> None:
        self._interpreter: Any = load_interpreter(path, sha256=MODEL_SHA256, threads=threads,
                                                  what="object detector",
                                                  error=RecognizerUnavailable)
        self._input = self._interpreter.get_input_details()[0]["index"]
        outputs = {d["name"]: d["index"] for d in self._interpreter.get_output_details()}
        self._boxes = outputs["raw_outputs/box_encodings"]
        self._classes = outputs["raw_outputs/class_predictions"]
        self._lock = threading.Lock()

    def raw(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Box encodings (1917, 4) and class logits (1917, 24) for an RGB uint8 image (as
        video.reader decodes frames; the network was trained on RGB)."""
        x = cv2.resize(image, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_AREA)
        x = x.astype(np.float32) / 127.5 - 1.0
        with self._lock:
            self._interpreter.set_tensor(self._input, x[None])
            self._interpreter.invoke()
            enc = self._interpreter.get_tensor(self._boxes)[0].copy()
            logits = self._interpreter.get_tensor(self._classes)[0].copy()
        return enc, logits

    def detect(self, image: np.ndarray, *, min_score: float = 0.3,
               nms_iou: float = 0.45) -> tuple[np.ndarray, tuple[str, ...], np.ndarray]:
        """Boxes (k, 4) in the image's pixels, COCO-style class names, scores (best first)."""
        enc, logits = self.raw(image)
        boxes, cls, scores = select_detections(decode_boxes(enc, ssd_anchors()), logits,
                                               min_score=min_score, nms_iou=nms_iou)
        h, w = image.shape[:2]
        boxes = np.clip(boxes, 0.0, 1.0) * np.array([w, h, w, h], dtype=np.float64)
        return boxes, tuple(OI_TO_COCO[OI_LABELS[int(c)]] for c in cls), scores


@lru_cache(maxsize=4)
def _load(path: str, threads: int) -> Detector:
    return Detector(Path(path), threads)


def load_detector(config: RecognizeConfig = RecognizeConfig()) -> Detector:
    """The detector (loaded once per weights file and thread count); RecognizerUnavailable when
    it cannot run."""
    path = Path(config.weights) if config.weights else MODEL_PATH
    return _load(str(path.resolve()), config.threads)


# ----------------------------------------------------------------------------------------------
# detection during the analysis pass


class FrameSampler:
    """Runs the detector on every `1 / rate` seconds' frame on a worker thread (the runtime
    releases the GIL while it computes, so it overlaps the motion analysis)."""

    def __init__(self, detector: Detector, fps: float, config: RecognizeConfig) -> None:
        self.detector = detector
        self.config = config
        self.interval = max(1, round(fps / config.rate))
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="recognize")
        self._pending: list[Future[Detections]] = []

    def offer(self, index: int, image: np.ndarray, scale: float) -> None:
        """Consider one frame (`scale` = image px / source px); sampled frames are queued."""
        if index % self.interval:
            return
        if len(self._pending) > 4:  # bounded look-ahead: never queue the whole video
            self._pending[-5].result()
        self._pending.append(self._pool.submit(self._detect, index, image, scale))

    def _detect(self, index: int, image: np.ndarray, scale: float) -> Detections:
        return self.detect_now(index, image, scale)

    def detect_now(self, index: int, image: np.ndarray, scale: float) -> Detections:
        """The detections of one frame, computed here and now (`scale` as for `offer`)."""
        boxes, labels, scores = self.detector.detect(image, min_score=self.config.min_score,
                                                     nms_iou=self.config.nms_iou)
        return Detections(index, boxes / scale, labels, scores)

    def abort(self) -> None:
        """Drop what is queued and stop the worker (the analysis failed or was cancelled)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> list[Detections]:
        """All detections, in frame order."""
        try:
            return [f.result() for f in self._pending]
        finally:
            self._pool.shutdown(wait=True)


# ----------------------------------------------------------------------------------------------
# matching and voting


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box of `a` (n, 4) with every box of `b` (m, 4) -> (n, m)."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def _greedy(affinity: np.ndarray, minimum: float, used_t: set[int], used_d: set[int],
            pairs: list[tuple[int, int]]) -> None:
    for flat in np.argsort(-affinity, axis=None, kind="stable"):
        t, d = divmod(int(flat), affinity.shape[1])
        if affinity[t, d] < minimum or affinity[t, d] <= 0:
            break
        if t not in used_t and d not in used_d:
            pairs.append((t, d))
            used_t.add(t)
            used_d.add(d)


def match_boxes(tracks: np.ndarray, detections: np.ndarray, *, min_iou: float,
                min_cover: float = 0.75, max_growth: float = 4.0) -> list[tuple[int, int]]:
    """One-to-one pairs (track row, detection row): greedily by IoU (each at least `min_iou`),
    then, among those left, a track box lying mostly inside a detection (at least `min_cover` of
    its area) that is at most `max_growth` times larger: motion often boxes only the moving part
    of an object (a walker's legs), while the detector boxes all of it."""
    tracks = np.asarray(tracks, dtype=np.float64).reshape(-1, 4)
    detections = np.asarray(detections, dtype=np.float64).reshape(-1, 4)
    pairs: list[tuple[int, int]] = []
    if not len(tracks) or not len(detections):
        return pairs
    used_t: set[int] = set()
    used_d: set[int] = set()
    iou = iou_matrix(tracks, detections)
    _greedy(iou, min_iou, used_t, used_d, pairs)
    x0 = np.maximum(tracks[:, None, 0], detections[None, :, 0])
    y0 = np.maximum(tracks[:, None, 1], detections[None, :, 1])
    x1 = np.minimum(tracks[:, None, 2], detections[None, :, 2])
    y1 = np.minimum(tracks[:, None, 3], detections[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_t = np.maximum((tracks[:, 2] - tracks[:, 0]) * (tracks[:, 3] - tracks[:, 1]), 1e-9)
    area_d = (detections[:, 2] - detections[:, 0]) * (detections[:, 3] - detections[:, 1])
    cover = inter / area_t[:, None]
    cover = np.where(area_d[None, :] <= max_growth * area_t[:, None], cover, 0.0)
    _greedy(cover, min_cover, used_t, used_d, pairs)
    return pairs


def vote(samples: int, matches: Iterable[tuple[str, float]], *, min_hits: int,
         min_fraction: float) -> Vote:
    """A class from a track's matches ((class, score) per detection frame it matched) over the
    `samples` detection frames it was on screen: the class with the largest summed score wins
    if it matched on min(min_hits, samples) frames and on min_fraction of them."""
    total: dict[str, float] = {}
    hits: dict[str, int] = {}
    for label, score in matches:
        total[label] = total.get(label, 0.0) + float(score)
        hits[label] = hits.get(label, 0) + 1
    ranked = sorted(total, key=lambda k: (-total[k], k))
    if not samples or not ranked:
        return Vote(UNKNOWN, 0.0, None, 0.0, samples)
    best = ranked[0]
    runner = ranked[1] if len(ranked) > 1 else None
    runner_conf = total[runner] / samples if runner else 0.0
    won = hits[best] >= min(min_hits, samples) and hits[best] >= min_fraction * samples
    if not won:
        return Vote(UNKNOWN, 0.0, best, total[best] / samples, samples)
    return Vote(best, total[best] / samples, runner, runner_conf, samples)


def vote_tracks(tracks: Sequence[Track], detections: Sequence[Detections], *,
                config: RecognizeConfig = RecognizeConfig()) -> list[Vote]:
    """One vote per track: on each detection frame, the tracks on screen (their boxes there,
    interpolated in gaps) are matched one-to-one to the detections by IoU."""
    matches: list[list[tuple[str, float]]] = [[] for _ in tracks]
    samples = [0] * len(tracks)
    for det in detections:
        rows, boxes = [], []
        for i, track in enumerate(tracks):
            box = track.box_at(det.frame)
            if box is not None:
                rows.append(i)
                boxes.append(box)
        for i in rows:
            samples[i] += 1
        if not rows or not len(det.labels):
            continue
        for t, d in match_boxes(np.asarray(boxes), det.boxes, min_iou=config.match_iou):
            matches[rows[t]].append((det.labels[d], float(det.scores[d])))
    return [vote(n, m, min_hits=config.min_hits, min_fraction=config.min_fraction)
            for n, m in zip(samples, matches, strict=True)]


def undecided(votes: Sequence[Vote]) -> list[int]:
    """Indices of the votes no class won although one matched (a runner-up): an object the
    detector glimpsed too seldom to name, often one partly hidden (a car behind a railing)."""
    return [i for i, v in enumerate(votes) if v.label == UNKNOWN and v.runner_up is not None]


def between_frames(track: Track, *, interval: int, most: int | None = None) -> list[int]:
    """The track's frames halfway between the sampler's (multiples of `interval`); at most
    `most` of them, spread evenly over its life."""
    half = interval // 2
    if not half or not len(track):
        return []
    first, last = int(track.frames[0]), int(track.frames[-1])
    start = first - first % interval + half
    if start < first:
        start += interval
    frames = list(range(start, last + 1, interval))
    return frames if most is None else spread(frames, most)


def spread(frames: Sequence[int], most: int) -> list[int]:
    """At most `most` of `frames`, spread evenly over them (the first and last kept)."""
    if len(frames) <= most:
        return list(frames)
    picks = np.unique(np.round(np.linspace(0, len(frames) - 1, most)).astype(int))
    return [frames[int(k)] for k in picks]


def second_vote(tracks: Sequence[Track], votes: Sequence[Vote],
                detections: Sequence[Detections],
                look: Callable[[Sequence[int]], list[Detections]], *, interval: int,
                config: RecognizeConfig = RecognizeConfig()) -> tuple[list[Vote], list[Detections]]:
    """Votes where the undecided tracks were looked at again, on the frames halfway between the
    sampler's (`look`: those frames' detections; `config.second_looks` a track at most), and all
    detections. Every track on screen competes for the new detections as before; only the
    undecided ones' votes are replaced (a track that was named keeps its class). The same rules
    decide: a class still needs its hits."""
    which = undecided(votes)
    frames = sorted({f for i in which
                     for f in between_frames(tracks[i], interval=interval,
                                             most=config.second_looks)})
    if not frames:
        return list(votes), list(detections)
    merged = sorted([*detections, *look(frames)], key=lambda d: d.frame)
    again = vote_tracks(tracks, merged, config=config)
    out = list(votes)
    for i in which:
        out[i] = again[i]
    return out, merged


def labelled(track: Track, result: Vote) -> Track:
    """The track with its recognized class as label and the vote in its extra keys; its former
    (box-shape) label is kept as "label_shape", a hint for the sound of an "unknown" object."""
    extra = {**track.extra, "label_source": "detector", "label_shape": track.label,
             "label_confidence": round(result.confidence, 4),
             "label_runner_up": result.runner_up,
             "label_runner_up_confidence": round(result.runner_up_confidence, 4)}
    return track.with_changes(label=result.label, extra=extra)


def check_class(name: str) -> str:
    """A class name as `--label` takes it: lower case, single spaces; ValueError if unknown."""
    clean = " ".join(str(name).lower().replace("_", " ").split())
    if clean not in CLASS_NAMES:
        raise ValueError(f"unknown class {name!r} (known: person, car, bicycle, dog, cup ... "
                         f"{len(CLASS_NAMES)} names, see video.recognize.CLASS_NAMES)")
    return clean
