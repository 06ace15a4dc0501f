"""Evaluation on real footage with hand-marked events (the real-clip half of `stereofoley eval`).

A marked clip is a video plus `<video stem>.events.json` beside it, written by a person who
stepped through the clip frame by frame and noted each visible contact: its time, frame, where
in the picture it happens (pixel x, y) and its kind:

    {"schema": "stereofoley.marked-events/1", "video": "balle-jbart.mp4",
     "marked_by": "...", "method": "...",
     "events": [{"time": 2.0865, "frame": 52, "x": 605, "y": 359, "kind": "impact",
                 "note": "ball hits the floor"}]}

There are no true tracks, so a detection counts as found when some analysed track that is AT the
marked place at the marked time (its box within `radius` of the point) has an event within the
tolerance; every other event the analysis produced is a false positive. Renders are scored
against the analysed tracks themselves (does the stereo image follow what the tracker saw?) and
their onsets against the marked times (sync), as in the synthetic evaluation.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from model.lab.conditions import (
    CONDITIONS,
    DETECTORS,
    ConditionRow,
    DetectorRow,
    Tally,
    add_yamnet,
    condition_row,
    conditions_table,
    detector_rows,
    detector_verdict,
    detectors_table,
    render_conditions,
)
from model.lab.metrics import (
    EventScore,
    detect_onsets,
    event_score,
    loudness_metrics,
    mix_spatial_alignment,
    score_events,
    spatial_alignment,
)
from video.base.errors import InputError
from video.base.progress import ProgressFn, report, scaled
from video.base.tracks import HAND_KINDS, Analysis, Track

SCHEMA = "stereofoley.marked-events/1"
SUFFIX = ".events.json"
MIN_TOLERANCE_S = 0.040  # one frame at 25 fps: the sync a picture editor would accept
GATE_RADIUS = 0.06       # fraction of the frame diagonal a track's box may be from the point
GATE_FRAMES = 3          # a track that ends (or starts) this close to the contact still counts


@dataclass(frozen=True)
class MarkedEvent:
    """One hand-marked contact: when (s, and the frame it was seen on), where (pixels), what."""

    time: float
    frame: int
    x: float
    y: float
    kind: str = "impact"
    note: str = ""


@dataclass(frozen=True)
class MarkedClip:
    """A real video and its hand-marked events."""

    video: Path
    events: tuple[MarkedEvent, ...]
    marked_by: str = ""
    method: str = ""

    @property
    def name(self) -> str:
        return self.video.name


def _number(entry: Mapping[str, Any], key: str, where: str) -> float:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"{where}: '{key}' must be a number")
    return float(value)


def read_clip_file(path: Path, *, schema: str, what: str,
                   search: Sequence[Path] = ()) -> tuple[dict[str, Any], Path]:
    """A clip's JSON file beside its video: its document (checked to carry `schema`; `what`
    names the kind of file in errors) and the video it names, which must sit beside it or, when
    `search` folders are given, in one of them (the first that has it)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not valid JSON") from exc
    if not isinstance(data, dict) or data.get("schema") != schema:
        raise InputError(f"{path} is not {what} file (schema {schema})")
    name = data.get("video")
    if not isinstance(name, str) or not name or Path(name).name != name:
        raise InputError(f"{path}: 'video' must be a file name, got {name!r}")
    folders = [path.parent, *search]
    video = next((f / name for f in folders if (f / name).is_file()), None)
    if video is None and not search:
        raise InputError(f"{path}: its video {name!r} is not beside it")
    if video is None:
        raise InputError(f"{path}: its video {name} is not in "
                         f"{', '.join(str(f) for f in folders)}")
    return data, video


def load_marked(path: str | Path) -> MarkedClip:
    """Read and validate a marked-events file; the video it names must sit beside it."""
    path = Path(path)
    data, video = read_clip_file(path, schema=SCHEMA, what="a marked-events")
    raw = data.get("events")
    if not isinstance(raw, list):
        raise InputError(f"{path}: 'events' must be a list")
    events = []
    for i, entry in enumerate(raw):
        where = f"{path} event {i + 1}"
        if not isinstance(entry, dict):
            raise InputError(f"{where}: must be an object")
        time = _number(entry, "time", where)
        if time < 0:
            raise InputError(f"{where}: time must not be negative")
        events.append(MarkedEvent(time=time, frame=int(_number(entry, "frame", where)),
                                  x=_number(entry, "x", where), y=_number(entry, "y", where),
                                  kind=str(entry.get("kind", "impact")),
                                  note=str(entry.get("note", ""))))
    events.sort(key=lambda e: e.time)
    return MarkedClip(video=video, events=tuple(events), marked_by=str(data.get("marked_by", "")),
                      method=str(data.get("method", "")))


def find_marked_clips(folder: str | Path) -> list[MarkedClip]:
    """Every marked clip in `folder` (files ending in .events.json), sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder")
    return [load_marked(p) for p in sorted(folder.glob(f"*{SUFFIX}"))]


def tolerance_for(fps: float) -> float:
    """Matching tolerance on a real clip: one frame, but never under MIN_TOLERANCE_S (hand
    marks on a 180 fps clip are good to a few frames, not to one)."""
    return max(1.0 / float(fps), MIN_TOLERANCE_S)


# ------------------------------------------------------------------ which track is at a mark


def _box_near(track: Track, frame: int) -> np.ndarray | None:
    """The track's box at `frame`, or at its nearest observed frame within GATE_FRAMES."""
    if not len(track):
        return None
    k = int(np.argmin(np.abs(track.frames - frame)))
    if abs(int(track.frames[k]) - frame) > GATE_FRAMES:
        return None
    return np.asarray(track.boxes[k], dtype=np.float64)


def distance_to_box(box: np.ndarray, x: float, y: float) -> float:
    """Pixels from point (x, y) to the box (0 inside it)."""
    dx = max(float(box[0]) - x, 0.0, x - float(box[2]))
    dy = max(float(box[1]) - y, 0.0, y - float(box[3]))
    return math.hypot(dx, dy)


def tracks_at(analysis: Analysis, mark: MarkedEvent, *, radius: float = GATE_RADIUS) -> list[Track]:
    """The analysed tracks whose box is at the marked place at the marked frame, nearest first."""
    limit = radius * math.hypot(analysis.video.width, analysis.video.height)
    near = []
    for track in analysis.objects:
        box = _box_near(track, mark.frame)
        if box is not None:
            d = distance_to_box(box, mark.x, mark.y)
            if d <= limit:
                near.append((d, track.id, track))
    return [t for _, _, t in sorted(near, key=lambda item: (item[0], item[1]))]


# ------------------------------------------------------------------ detector score


def _score(tp: int, fp: int, fn: int, errors: Sequence[float]) -> tuple[EventScore, np.ndarray]:
    err = np.asarray(errors, dtype=np.float64)
    return event_score(tp, fp, fn, err), err


def score_marked_detections(clip: MarkedClip, analysis: Analysis, *, radius: float = GATE_RADIUS
                            ) -> dict[str, tuple[EventScore, np.ndarray]]:
    """Events of `analysis` against the marks, one-to-one: a mark is found by an event of a
    track at its place within the tolerance (closest in time first); every other event is a
    false positive. Returns the score over all events ("all") and per kind: a mark of a kind is
    found by a detection of any kind (kind labels are judged separately), an unmatched detection
    is charged to the kind it was labelled with."""
    tol = tolerance_for(float(analysis.video.fps))
    # the detectors' events only: a hand's touches and releases (video.hand_contacts) come from
    # neither detector and are not the contacts marked here
    detections = [(t.id, e.time, e.kind) for t in analysis.objects for e in t.events
                  if e.kind not in HAND_KINDS]
    pairs = []
    for i, mark in enumerate(clip.events):
        allowed = {t.id for t in tracks_at(analysis, mark, radius=radius)}
        for j, (track_id, time, _) in enumerate(detections):
            if track_id in allowed and abs(time - mark.time) <= tol + 1e-9:
                pairs.append((abs(time - mark.time), i, j))
    mark_of: dict[int, int] = {}
    det_of: dict[int, int] = {}
    for _, i, j in sorted(pairs):
        if i not in mark_of and j not in det_of:
            mark_of[i], det_of[j] = j, i
    def errors_of(marks: Sequence[int]) -> list[float]:
        return [detections[mark_of[i]][1] - clip.events[i].time for i in marks if i in mark_of]

    everything = range(len(clip.events))
    out = {"all": _score(len(mark_of), len(detections) - len(det_of),
                         len(clip.events) - len(mark_of), errors_of(everything))}
    kinds = sorted({m.kind for m in clip.events} | {d[2] for d in detections})
    for kind in kinds:
        marks = [i for i, m in enumerate(clip.events) if m.kind == kind]
        found = [i for i in marks if i in mark_of]
        unmatched = sum(1 for j, d in enumerate(detections) if d[2] == kind and j not in det_of)
        out[kind] = _score(len(found), unmatched, len(marks) - len(found), errors_of(found))
    return out


# ------------------------------------------------------------------ render scores


def marks_by_track(clip: MarkedClip, analysis: Analysis) -> tuple[dict[int, list[float]], list[float]]:
    """Each mark given to the nearest track at its place; the marks no track was at."""
    owned: dict[int, list[float]] = {}
    orphans = []
    for mark in clip.events:
        near = tracks_at(analysis, mark)
        if near:
            owned.setdefault(near[0].id, []).append(mark.time)
        else:
            orphans.append(mark.time)
    return owned, orphans


def score_real_render(stems: Sequence[np.ndarray], mix: np.ndarray, clip: MarkedClip,
                      analysis: Analysis, tally: Tally) -> None:
    """Add one clip's scores of one condition: each stem's pan against its own tracked position,
    the mix against the tracked positions, onsets of the marked objects' stems against the marks
    (marks no track was at are misses), and loudness."""
    info = analysis.video
    tol = tolerance_for(float(info.fps))
    owned, orphans = marks_by_track(clip, analysis)
    for track, stem in zip(analysis.objects, stems, strict=True):
        tally.objects.append(spatial_alignment(stem, track, info))
        if track.id in owned:
            tally.sync.append(score_events(np.array(owned[track.id]), detect_onsets(stem),
                                           tolerance_s=tol))
    if orphans:
        tally.sync.append(score_events(np.array(orphans), np.zeros(0), tolerance_s=tol))
    tally.mixes.append(mix_spatial_alignment(mix, list(stems), list(analysis.objects), info))
    tally.loudness.append(loudness_metrics(mix))


# ------------------------------------------------------------------ the real-clip evaluation


@dataclass(frozen=True)
class RealClipResult:
    """Per clip: its marks and what each detector found (over all kinds)."""

    name: str
    fps: float
    marks: int
    tracks: int
    detectors: Mapping[str, EventScore]


@dataclass(frozen=True)
class RealReport:
    """The real-clip part of `stereofoley eval`: per clip, pooled renders and detectors."""

    folder: str
    clips: tuple[RealClipResult, ...]
    conditions: tuple[ConditionRow, ...]
    detectors: tuple[DetectorRow, ...]
    notes: tuple[str, ...] = ()


def evaluate_real(clips: Sequence[MarkedClip], *, folder: str = "",
                  checkpoint: str | Path | None = None, seed: int = 0,
                  progress: ProgressFn | None = None) -> RealReport:
    """Analyse each marked clip as `stereofoley analyze` does (hand-made events, then the
    learned detector's), score both detectors against the marks and the four render
    conditions of model.lab.conditions against the tracks and marks."""
    from model.detector.event_detection import analyze_with_events, apply_event_detector
    from model.lab.semantic_agreement import yamnet_note

    note = yamnet_note()  # "" when YAMNet is available

    tallies = {name: Tally() for name in CONDITIONS}
    parts: dict[str, dict[str, list[tuple[EventScore, np.ndarray]]]] = {d: {} for d in DETECTORS}
    results = []
    for i, clip in enumerate(clips):
        sub = scaled(progress, i / len(clips), (i + 1) / len(clips))
        motion = analyze_with_events(clip.video, detector="motion",
                                     progress=scaled(sub, 0.0, 0.4))
        learned = apply_event_detector(motion, detector="learned", checkpoint=checkpoint)
        per_clip = {}
        for name, analysed in zip(DETECTORS, (motion, learned), strict=True):
            scores = score_marked_detections(clip, analysed)
            for kind, part in scores.items():
                parts[name].setdefault(kind, []).append(part)
            per_clip[name] = scores["all"][0]
        results.append(RealClipResult(name=clip.name, fps=float(motion.video.fps),
                                      marks=len(clip.events), tracks=len(motion.objects),
                                      detectors=per_clip))
        renders = render_conditions(motion, learned, seed=seed + i, progress=scaled(sub, 0.4, 1.0))
        for name in CONDITIONS:
            score_real_render(list(renders[name].stems), renders[name].mix, clip, motion,
                              tallies[name])
            if not note:  # the object's class: its track's label (no truth on real footage)
                add_yamnet(renders[name], [t.label for t in motion.objects], tallies[name])
        report(sub, 1.0, f"{clip.name} scored")
    rows = tuple(condition_row(name, tallies[name]) for name in CONDITIONS)
    return RealReport(folder=folder, clips=tuple(results), conditions=rows,
                      detectors=detector_rows(parts), notes=(note,) if note else ())


def real_clips_table(report_: RealReport) -> str:
    """Markdown table: per clip, marks and each detector's hits / false alarms / misses."""
    head = ("| clip | fps | marked contacts | tracks | " +
            " | ".join(f"{d}: found / false / missed" for d in DETECTORS) + " |\n" +
            "|---|---|---|---|" + "---|" * len(DETECTORS) + "\n")
    body = "".join(
        f"| {r.name} | {r.fps:.2f} | {r.marks} | {r.tracks} | " +
        " | ".join(f"{s.true_positives} / {s.false_positives} / {s.false_negatives}"
                   for s in (r.detectors[d] for d in DETECTORS)) + " |\n"
        for r in report_.clips)
    return head + body


def real_markdown(real: RealReport) -> str:
    """The real-clip tables: per clip, then detectors and renders pooled over the clips."""
    marks = sum(c.marks for c in real.clips)
    return (f"### Real clips: event detectors against hand-marked contacts\n\n"
            f"{len(real.clips)} clips from `{real.folder}`, {marks} hand-marked contacts; "
            f"matched within one frame or {MIN_TOLERANCE_S * 1000:.0f} ms, whichever is longer, "
            f"and only by a track that is at the marked place.\n\n"
            f"{real_clips_table(real)}\n{detectors_table(real.detectors)}\n"
            f"### Real clips: renders (pan against the tracked positions, sync against the "
            f"marks)\n\n{conditions_table(real.conditions)}")


def real_document(real: RealReport, command: str) -> str:
    """What `stereofoley eval --real DIR` prints and writes."""
    verdict = "\n".join(detector_verdict(real.detectors)) or "- (no marked events)"
    return (f"# Evaluation on marked real clips\n\nRegenerate with:\n\n    {command}\n\n"
            + "".join(f"{line}\n\n" for line in real.notes)
            + f"{real_markdown(real)}\n## Detectors on these clips (F1 margin 0.02)\n\n{verdict}\n")
