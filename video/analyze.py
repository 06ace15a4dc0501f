"""The video analysis pipeline behind `stereofoley analyze`: frames in, tracked objects out.

One streaming pass, bounded memory: each frame is decoded at the analysis size (`max_side`),
checked for a shot cut, passed to the motion detector (video.motion) and its boxes to the tracker
(video.tracker). At a cut the background model and the tracker start afresh, and no track is
linked across it. After the pass, broken tracks are linked and cleaned, each object's visual
events are detected (video.events), it is labelled, and the `max_objects` most salient are kept.

`score_analysis` measures a result against a synthetic clip's truth (video.synth): the coverage,
identity and event figures the tests and the benchmark report.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from video.base.progress import ProgressFn, report, warn_line
from video.base.runs import index_runs
from video.base.threads import opencv_threads
from video.base.tracks import Analysis, Track, VideoInfo
from video.clutter import ClutterConfig, sort_clutter
from video.cuts import CutConfig, CutDetector, Signature
from video.detection_tracks import (
    DetectionTrackConfig,
    detection_chains,
    tighten_people,
    track_detections,
)
from video.dissolves import Dissolve, DissolveConfig, DissolveDetector, split_at, thumbnail
from video.events import EventConfig, detect_events, match_events
from video.evidence import EvidenceConfig, checked_vehicle
from video.footsteps import FootstepConfig
from video.hand_contacts import HandContactConfig
from video.motion import MotionConfig, MotionDetector, camera_gray
from video.motion import Prepared as MotionPrepared
from video.reader import VideoFrame, VideoReader, read_ahead
from video.recognize import (
    Detections,
    FrameSampler,
    RecognizeConfig,
    RecognizerUnavailable,
    labelled,
    load_detector,
    second_vote,
    vote_tracks,
)
from video.splashes import MotionBoxLog, SplashConfig, attach_splashes
from video.split_groups import split_groups
from video.struck import Launch, RestWatch, StruckConfig, attach_launches
from video.tracker import Tracker, TrackerConfig, finalize_tracks, label_for, paired_iou, saliency


@dataclass(frozen=True)
class AnalysisConfig:
    """Options of the whole analysis.

    max_side: frames are analysed with their longer side at most this many pixels (boxes are
    still reported in source pixels). max_objects: keep only the N most salient objects.
    detect_cuts: segment tracking at shot cuts. dissolves: the cross-fade detector's options
    (video.dissolves; runs with detect_cuts; `DissolveConfig(enabled=False)` turns it off);
    tracks are split at a dissolve's middle after the pass. recognize: the object recognizer's options
    (`RecognizeConfig(enabled=False)`: box-shape labels only). evidence: when a vehicle vote
    stands (video.evidence). clutter: what of the unrecognized motion is dropped or merged into
    ambience (video.clutter; only runs on recognized analyses). split_groups: a track whose box
    holds two or more recognized people is split into one track per person (video.split_groups;
    recognized analyses only). detection_tracks: moving vehicles, animals and handled objects
    followed by their detections instead of their motion blobs (video.detection_tracks;
    recognized analyses only). footsteps: steps of people from their pose (video.footsteps;
    applied by model.detector.event_detection.analyze_with_events, which has the file for its
    second pass). struck: objects at rest set moving get an onset event where they left
    (video.struck; `StruckConfig(enabled=False)` turns it off). hands: where a hand takes hold
    of or lets go of an object (video.hand_contacts; applied by analyze_with_events after the
    footsteps). splashes: a falling thing that sinks out of sight in a spray of fragments gets a
    "splash" event (video.splashes; `SplashConfig(enabled=False)` turns it off).
    """

    max_side: int = 480
    max_objects: int | None = None
    detect_cuts: bool = True
    motion: MotionConfig = field(default_factory=MotionConfig)
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    events: EventConfig = field(default_factory=EventConfig)
    cuts: CutConfig = field(default_factory=CutConfig)
    dissolves: DissolveConfig = field(default_factory=DissolveConfig)
    recognize: RecognizeConfig = field(default_factory=RecognizeConfig)
    evidence: EvidenceConfig = field(default_factory=EvidenceConfig)
    clutter: ClutterConfig = field(default_factory=ClutterConfig)
    split_groups: bool = True
    detection_tracks: DetectionTrackConfig = field(default_factory=DetectionTrackConfig)
    footsteps: FootstepConfig = field(default_factory=FootstepConfig)
    struck: StruckConfig = field(default_factory=StruckConfig)
    hands: HandContactConfig = field(default_factory=HandContactConfig)
    splashes: SplashConfig = field(default_factory=SplashConfig)

    def __post_init__(self) -> None:
        if self.max_side < 64:
            raise ValueError(f"max_side must be at least 64, got {self.max_side}")
        if self.max_objects is not None and self.max_objects < 1:
            raise ValueError("max_objects must be at least 1")


@dataclass(frozen=True)
class _Prepared:
    """A frame at the analysis size with what was computed from it ahead (`_Pass.prepare`)."""

    frame: VideoFrame
    signature: Signature | None
    motion: MotionPrepared


class _Pass:
    """The streaming state of one analysis pass: cut look-ahead, detector, tracker."""

    def __init__(self, info: VideoInfo, config: AnalysisConfig,
                 sampler: FrameSampler | None = None) -> None:
        self.info = info
        self.sampler = sampler
        self.config = config
        fps = float(info.fps)
        self.motion = MotionDetector(fps, config=config.motion)
        self.rest = RestWatch(fps, config=config.struck) if config.struck.enabled else None
        self.box_log = MotionBoxLog() if config.splashes.enabled else None
        self._grays: dict[int, tuple[np.ndarray, float]] = {}
        self.tracker = self._new_tracker()
        self.cuts = CutDetector(config.cuts) if config.detect_cuts else None
        self.dissolves = DissolveDetector(fps, config.dissolves) \
            if config.detect_cuts and config.dissolves.enabled else None
        self.found_dissolves: list[Dissolve] = []
        self.delay: deque[_Prepared] = deque()
        self.cut_times: list[float] = []
        self.cut_frames: list[int] = []
        self.tracks: list[Track] = []

    def _new_tracker(self) -> Tracker:
        return Tracker(float(self.info.fps), (self.info.width, self.info.height),
                       config=self.config.tracker)

    def prepare(self, frame: VideoFrame) -> _Prepared:
        """The work on a frame that needs no state (done ahead, on the reading thread): the
        frame at the analysis size, its cut signature and the motion detector's first steps."""
        frame = _fit(frame, self.config.max_side)
        return _Prepared(frame, None if self.cuts is None else self.cuts.signature(frame),
                         self.motion.prepare(frame.image))

    def push(self, prepared: _Prepared) -> None:
        """Take one prepared frame; frames are processed once the cut detector has looked past
        them."""
        frame, signature = prepared.frame, prepared.signature
        if self.sampler is not None:
            self.sampler.offer(frame.index, frame.image, frame.scale)
        if self.cuts is not None:
            cut = self.cuts.update(frame, signature=signature)
            if cut is not None:
                self.cut_times.append(cut)
        if self.dissolves is not None and signature is not None:
            self.found_dissolves += self.dissolves.update(frame.index, float(frame.time),
                                                          thumbnail(signature.gray))
        self.delay.append(prepared)
        while len(self.delay) > self.config.cuts.lookahead + 1:
            self._process(self.delay.popleft())

    def close(self) -> list[Track]:
        """Finish the pass; returns the raw tracks of all segments."""
        if self.cuts is not None:
            self.cut_times.extend(self.cuts.finish())
        while self.delay:
            self._process(self.delay.popleft())
        self._end_segment()
        if self.dissolves is not None:
            self.found_dissolves += self.dissolves.finish()
        return self._split_at_dissolves(self.tracks)

    def _split_at_dissolves(self, tracks: list[Track]) -> list[Track]:
        """Tracks split at each dissolve's middle, which becomes a cut like the hard ones
        (found only once the dissolve is over, long after its frames were tracked). A dissolve
        within `min_shot_s` of a hard cut is that cut."""
        near = self.config.cuts.min_shot_s
        middles = [d for d in self.found_dissolves
                   if all(abs(d.time - t) >= near for t in self.cut_times)]
        if not middles:
            return tracks
        self.cut_times = sorted([*self.cut_times, *(d.time for d in middles)])
        self.cut_frames = sorted([*self.cut_frames, *(d.middle for d in middles)])
        return split_at(tracks, [d.middle for d in middles])

    def _process(self, prepared: _Prepared) -> None:
        frame = prepared.frame
        if any(abs(frame.time - t) < 1e-6 for t in self.cut_times) and frame.index > 0:
            self._end_segment()
            self.cut_frames.append(frame.index)
        if self.rest is not None:
            self._grays[frame.index] = self._rest_gray(prepared)
        for index, boxes in self.motion.push(frame.image, frame.index, frame.scale,
                                             prepared=prepared.motion):
            self._boxes(index, boxes)

    def _rest_gray(self, prepared: _Prepared) -> tuple[np.ndarray, float]:
        """The small gray picture the rest watch matches in (the camera-motion one, made here
        when camera motion is off) and its px per source px."""
        image, gray = prepared.frame.image, prepared.motion.small_gray
        if not gray.size:
            gray = camera_gray(image, self.config.motion)
        return gray, prepared.frame.scale * gray.shape[1] / image.shape[1]

    def _boxes(self, index: int, boxes: np.ndarray) -> None:
        """The motion boxes of one frame, to the tracker and the rest watch. Where the motion
        detector bootstrapped again, its earlier boxes came from a wrong background (a region
        of it, tracked as one object, would swallow every later box as its fragment): the
        tracks end there and new ones begin (and are not linked across it: `_finish`)."""
        if index in self.motion.restarts:
            self.tracks.extend(self.tracker.finish())
            self.tracker = self._new_tracker()
        self.tracker.update(index, boxes)
        if self.box_log is not None:
            self.box_log.add(index, boxes)
        ghosts = self.motion.ghosts.pop(index, None)    # taken whether watched or not
        if self.rest is not None:
            gray, to_gray = self._grays.pop(index)
            self.rest.update(index, boxes, gray, to_gray=to_gray, pan=self.motion.camera[index],
                             ghosts=ghosts)

    def _end_segment(self) -> None:
        for index, boxes in self.motion.flush():
            self._boxes(index, boxes)
        self.tracks.extend(self.tracker.finish())
        self.motion.reset()
        if self.rest is not None:
            self.rest.reset()
            self._grays.clear()
        self.tracker = self._new_tracker()


def _fit(frame: VideoFrame, max_side: int) -> VideoFrame:
    """The frame shrunk (area-averaged) so its longer side is at most `max_side`."""
    h, w = frame.image.shape[:2]
    if max(h, w) <= max_side:
        return frame
    factor = max_side / max(h, w)
    size = (max(2, round(w * factor)), max(2, round(h * factor)))
    image = cv2.resize(frame.image, size, interpolation=cv2.INTER_AREA)
    return VideoFrame(index=frame.index, time=frame.time, image=image, scale=frame.scale * factor)


def _reread(reader: VideoReader, indices: Sequence[int], *, max_side: int,
            gap_s: float = 5.0) -> Iterator[VideoFrame]:
    """Frames `indices` (any order; yielded ascending) at the analysis size. Runs of them more
    than `gap_s` apart are read separately, each from its own seek, not decoded through."""
    wanted = set(int(i) for i in indices)
    gap = max(1, round(gap_s * float(reader.info.fps)))
    for start, stop in index_runs(np.asarray(sorted(wanted), dtype=np.int64), gap=gap):
        for frame in reader.frames(start=start, stop=stop, max_side=max_side, only=wanted):
            yield _fit(frame, max_side)


def _camera_path(camera: dict[int, np.ndarray]) -> np.ndarray:
    """Cumulative camera pan per frame index (frames never seen hold the previous value)."""
    if not camera:
        return np.zeros((0, 2))
    path = np.zeros((max(camera) + 1, 2))
    last = np.zeros(2)
    for index in range(len(path)):
        last = camera.get(index, last)
        path[index] = last
    return path


Reread = Callable[[Sequence[int]], Iterable[VideoFrame]]


def _finish(raw: list[Track], info: VideoInfo, config: AnalysisConfig,
            barriers: list[int], camera: np.ndarray,
            sampler: FrameSampler | None = None,
            reread: Reread | None = None,
            launches: Sequence[Launch] = (),
            restarts: Sequence[int] = (),
            box_log: MotionBoxLog | None = None) -> tuple[tuple[Track, ...], dict[str, int]]:
    """Link and clean tracks, detect their events, label them (recognized classes when a
    sampler ran, else box shapes; `reread`, frames by index at the analysis size, lets the
    recognizer look again where it was undecided), drop clutter and merge background motion
    into ambience (recognized analyses only), keep the most salient. Returns the objects and the
    analysis's extra keys (how many clutter tracks were dropped and merged). `restarts`: frames
    where the motion detector bootstrapped again; motion tracks are not linked across them (what
    was tracked before came from a wrong background), as across the cuts in `barriers`.
    `box_log`: the motion boxes of every frame, for the splashes (none without it)."""
    fps = float(info.fps)
    unlinked = sorted({*barriers, *restarts})
    tracks = finalize_tracks(raw, fps=fps, config=config.tracker, barriers=unlinked,
                             camera=camera, frame_size=(info.width, info.height))
    detections = sampler.close() if sampler is not None else []
    extra: dict[str, int] = {}
    if sampler is not None and detections and config.split_groups:
        tracks, split = split_groups(tracks, detections, interval=sampler.interval)
        if split:
            # pieces that continue each other join again; short leftovers go
            tracks = finalize_tracks(tracks, fps=fps, config=config.tracker, barriers=unlinked,
                                     camera=camera, frame_size=(info.width, info.height))
            extra["split_groups"] = split
    if sampler is not None and detections and config.detection_tracks.enabled:
        last_frame = max(info.frames - 1, 0)
        chains = detection_chains(detections, interval=sampler.interval, last_frame=last_frame,
                                  barriers=barriers, config=config.detection_tracks)
        tracks, added, replaced = track_detections(
            tracks, detections, interval=sampler.interval, fps=fps, last_frame=last_frame,
            barriers=barriers, camera=camera, config=config.detection_tracks, chains=chains)
        if added:
            extra.update({"detection_tracks": added, "detection_replaced": replaced})
        tracks, tightened = tighten_people(
            tracks, detections, interval=sampler.interval, last_frame=last_frame,
            barriers=barriers, config=config.detection_tracks, chains=chains)
        if tightened:
            extra["tightened_people"] = tightened
    done = []
    limits = np.array([info.width, info.height, info.width, info.height], dtype=np.float64)
    for track in tracks:
        # predicted/coasted boxes can run past the picture's edge; report what is on screen
        track = track.with_changes(boxes=np.clip(track.boxes, 0.0, limits))
        with_events = track.with_changes(events=detect_events(track, info, config=config.events))
        source = {"source": track.extra["source"]} if "source" in track.extra else {}
        done.append(with_events.with_changes(
            label=label_for(with_events, frame_height=info.height), extra=source))
    if sampler is not None:
        votes = vote_tracks(done, detections, config=config.recognize)
        if reread is not None and config.recognize.second_look:
            recognizer = sampler      # the same detector and thresholds as the first looks

            def look(frames: Sequence[int]) -> list[Detections]:
                return [recognizer.detect_now(f.index, f.image, f.scale) for f in reread(frames)]

            votes, detections = second_vote(done, votes, detections, look,
                                            interval=sampler.interval, config=config.recognize)
        done = [checked_vehicle(labelled(t, v), detections, config=config.evidence,
                                camera=camera)
                for t, v in zip(done, votes, strict=True)]
        if config.clutter.enabled:
            result = sort_clutter(done, frame_size=(info.width, info.height), fps=fps,
                                  frames=info.frames, barriers=barriers, camera=camera,
                                  config=config.clutter)
            done = sorted(result.objects, key=lambda t: int(t.frames[0]))
            extra.update({"dropped_clutter": result.dropped, "dropped_parts": result.parts,
                          "merged_ambience": result.merged})
    if launches:
        done = attach_launches(done, launches, info=info, config=config.struck)
    if box_log is not None:
        done = attach_splashes(done, box_log, info=info, camera=camera, barriers=unlinked,
                               config=config.splashes)
    if config.max_objects is not None and len(done) > config.max_objects:
        done = sorted(done, key=saliency, reverse=True)[:config.max_objects]
        done.sort(key=lambda t: int(t.frames[0]))
    return tuple(t.with_changes(id=i + 1) for i, t in enumerate(done)), extra


def _sampler(info: VideoInfo, config: RecognizeConfig,
             warn: Callable[[str], None] | None) -> FrameSampler | None:
    """The recognizer's frame sampler, or None (with one warning) when it cannot run."""
    if not config.enabled:
        return None
    try:
        detector = load_detector(config)
    except RecognizerUnavailable as exc:
        (warn or warn_line)(f"object recognition off: {exc}; labels come from box shapes")
        return None
    return FrameSampler(detector, float(info.fps), config)


def analyze_frames(frames: Iterable[VideoFrame], info: VideoInfo, *,
                   config: AnalysisConfig = AnalysisConfig(),
                   progress: ProgressFn | None = None,
                   warn: Callable[[str], None] | None = None,
                   reread: Reread | None = None) -> Analysis:
    """Analyse frames given in presentation order (any size; `scale` = image px / source px).
    `warn` gets the one line saying recognition is off when its weights or runtime are missing
    (default: a `warning:` line on stderr). `reread`: the frames of the given indices again, at
    the analysis size, for the recognizer's second look (none without it)."""
    sampler = _sampler(info, config.recognize, warn)
    state = _Pass(info, config, sampler)
    total = max(info.frames, 1)
    report(progress, 0.0, "analysing")
    try:
        # decoding and the cut signatures run a few frames ahead on a second thread
        with closing(read_ahead(frames, state.prepare)) as ahead:
            for prepared in ahead:
                state.push(prepared)
                frame = prepared.frame
                if frame.index % 8 == 0:
                    report(progress, 0.95 * (frame.index + 1) / total,
                           f"frame {frame.index + 1}/{info.frames}")
        raw = state.close()
    except BaseException:
        if sampler is not None:
            sampler.abort()
        raise
    report(progress, 0.96, "linking tracks and finding events")
    objects, extra = _finish(raw, info, config, state.cut_frames,
                             _camera_path(state.motion.camera), sampler, reread,
                             state.rest.launches if state.rest is not None else (),
                             sorted(state.motion.restarts), state.box_log)
    report(progress, 1.0, f"{len(objects)} objects")
    if state.found_dissolves:
        extra["dissolves"] = len(state.found_dissolves)
    if state.motion.restarts:
        extra["background_restarts"] = len(state.motion.restarts)
    return Analysis(video=info, objects=objects, cuts=tuple(state.cut_times), extra=extra)


NO_OBJECTS_WARNING = ("no moving objects found (a still picture, or motion too small to "
                      "track): the render will be silent; draw a box in the studio to add one")


def analyze_video(path: str | os.PathLike[str], *, config: AnalysisConfig = AnalysisConfig(),
                  progress: ProgressFn | None = None,
                  warn: Callable[[str], None] | None = None) -> Analysis:
    """Analyse a video file in one streaming pass (raises VideoError for unusable files).

    `warn` hears what the user should know about the file (e.g. that it looks truncated) and
    about the result: `no moving objects found`, which would otherwise only show as silence.
    """
    # a bad file fails at the reader, before any progress is drawn; OpenCV's own thread pool
    # only slows the small analysis frames down (video.base.threads)
    with VideoReader(path) as reader, opencv_threads(1):
        for message in reader.warnings:
            if warn is not None:
                warn(message)
        report(progress, 0.0, "opening")
        info = replace(reader.info, path=os.fspath(path))
        frames = reader.frames(max_side=config.max_side)

        def reread(indices: Sequence[int]) -> Iterator[VideoFrame]:
            return _reread(reader, indices, max_side=config.max_side)

        analysis = analyze_frames(frames, info, config=config, progress=progress, warn=warn,
                                  reread=reread)
    if not analysis.objects and warn is not None:
        warn(NO_OBJECTS_WARNING)
    return analysis


# ----------------------------------------------------------------------------------------------
# Quality against synthetic truth


@dataclass(frozen=True)
class ObjectScore:
    """How well one true object was found: coverage, identity, matched predicted ids."""

    truth_id: int
    coverage: float        # fraction of its frames with any predicted box at IoU >= threshold
    single_id: float       # fraction of its frames covered by its best single predicted id
    best_id: int | None


@dataclass(frozen=True)
class EventKindScore:
    """Precision / recall of one event kind within the time tolerance."""

    kind: str
    true_count: int
    predicted_count: int
    matched: int

    @property
    def recall(self) -> float:
        return self.matched / self.true_count if self.true_count else 1.0

    @property
    def precision(self) -> float:
        return self.matched / self.predicted_count if self.predicted_count else 1.0


@dataclass(frozen=True)
class AnalysisScore:
    objects: tuple[ObjectScore, ...]
    events: tuple[EventKindScore, ...]
    false_tracks: int      # predicted tracks that match no true object

    def event(self, kind: str) -> EventKindScore:
        for e in self.events:
            if e.kind == kind:
                return e
        return EventKindScore(kind, 0, 0, 0)


def _frame_ious(truth: Track, pred: Track) -> np.ndarray:
    """IoU with `pred` on each of `truth`'s frames (0 where pred has no box)."""
    out = np.zeros(len(truth))
    common, it, ip = np.intersect1d(truth.frames, pred.frames, return_indices=True)
    if len(common):
        out[it] = paired_iou(truth.boxes[it], pred.boxes[ip])
    return out


def score_analysis(truth: Analysis, result: Analysis, *, min_iou: float = 0.3,
                   tolerance_frames: float = 1.0) -> AnalysisScore:
    """Score `result` against `truth`; a predicted track belongs to the true object it overlaps
    on most frames, and only its events are matched against that object's events."""
    scores = []
    owner: dict[int, int] = {}
    best_count: dict[int, int] = {}
    for t in truth.objects:
        hits = {p.id: _frame_ious(t, p) >= min_iou for p in result.objects}
        any_hit = np.any(np.stack(list(hits.values())), axis=0) if hits else np.zeros(len(t), bool)
        best = max(hits, key=lambda k: hits[k].sum(), default=None)
        scores.append(ObjectScore(t.id, float(any_hit.mean()),
                                  float(hits[best].mean()) if best is not None else 0.0, best))
        for pid, h in hits.items():
            if h.sum() > best_count.get(pid, 0):
                best_count[pid], owner[pid] = int(h.sum()), t.id
    tolerance = tolerance_frames / float(truth.video.fps)
    kinds = sorted({e.kind for t in truth.objects for e in t.events} |
                   {e.kind for p in result.objects for e in p.events})
    events = []
    for kind in kinds:
        true_n = sum(1 for t in truth.objects for e in t.events if e.kind == kind)
        pred_n = sum(1 for p in result.objects for e in p.events if e.kind == kind)
        matched = 0
        for t in truth.objects:
            true_times = [e.time for e in t.events if e.kind == kind]
            pred_times = [e.time for p in result.objects if owner.get(p.id) == t.id
                          for e in p.events if e.kind == kind]
            matched += len(match_events(true_times, sorted(pred_times), tolerance_s=tolerance))
        events.append(EventKindScore(kind, true_n, pred_n, matched))
    false_tracks = sum(1 for p in result.objects if p.id not in owner)
    return AnalysisScore(tuple(scores), tuple(events), false_tracks)
