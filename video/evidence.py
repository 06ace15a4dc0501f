"""A vehicle label only with a vehicle's evidence.

The recognizer votes per track on whatever detection its box matches (video.recognize). Where a
person works at a parked car (loads a boot, opens a door), the motion is the person's or the
boot lid's, but the box lies on the car's detection and the track is voted "car", and would get
an engine. A track moved by a vehicle travels (or comes closer, or goes away); so a vehicle vote
stands only when the track's centre travels at least `travel` of its own size or its box grows
or shrinks steadily. A track that stays in place on a vehicle is relabelled:

- "person" when a person detection covers it on at least `person_fraction` of the detection
  frames it was on screen (someone at the car);
- else "unknown" (the vehicle stays its runner-up): something moves on a parked vehicle, a door,
  a boot lid, a person too small or hidden to be seen. Its extra "label_evidence" says why, and
  it is not taken for clutter (video.clutter): the detector did see a thing there.

Riders (bicycle, motorcycle) always overlap a person, so only the vehicles nobody sits on in the
open are checked.

Fixtures and heavy furniture (a dining table, a bench, a traffic light ...) are checked the same
way: they do not move by themselves, so a track voted one of them that stays in place is the
motion of someone or something at it (or of the camera passing it), and gets no table or bench
sound, and one that grows or shrinks in place is the camera moving in or out, where a vehicle
that does is coming closer or going away. Travel is measured in the scene, not on screen: the
camera's pan (the analysis's camera path) is taken out of the track's centre first, so a car
the camera follows travels, and a table the camera pans past does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from video.base.tracks import Track
from video.recognize import UNKNOWN, Detections
from video.tracker import camera_pan, grows_steadily

CHECKED = frozenset({"car", "bus", "truck", "train"})
FIXTURES = frozenset({"dining table", "bed", "couch", "bench", "refrigerator", "oven", "toilet",
                      "sink", "microwave", "traffic light", "stop sign", "fire hydrant",
                      "parking meter"})
PERSON = "person"


@dataclass(frozen=True)
class EvidenceConfig:
    """travel: the centre extent, in track sizes, that counts as travelling. person_fraction:
    the share of detection frames with a person over the track that makes it the person's.
    cover: the share of the smaller box that the overlap must reach to count."""

    travel: float = 1.5
    person_fraction: float = 0.5
    cover: float = 0.5

    def __post_init__(self) -> None:
        if not self.travel >= 0:
            raise ValueError(f"travel must be >= 0, got {self.travel}")
        for name in ("person_fraction", "cover"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in 0..1, got {getattr(self, name)}")


def _cover(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Intersection of `box` with each of `others` over the smaller of the two areas."""
    x0 = np.maximum(box[0], others[:, 0])
    y0 = np.maximum(box[1], others[:, 1])
    x1 = np.minimum(box[2], others[:, 2])
    y1 = np.minimum(box[3], others[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    return inter / np.maximum(np.minimum(area, areas), 1e-9)


def person_share(track: Track, detections: Sequence[Detections], *, cover: float) -> tuple[
        float, float]:
    """The share of detection frames (with the track on screen) on which a person detection
    overlaps the track's box, and the mean best person score on those frames."""
    seen = 0
    scores: list[float] = []
    for det in detections:
        box = track.box_at(det.frame)
        if box is None:
            continue
        seen += 1
        rows = [i for i, name in enumerate(det.labels) if name == PERSON]
        if not rows:
            continue
        hit = _cover(box, det.boxes[rows]) >= cover
        if np.any(hit):
            scores.append(float(np.max(det.scores[rows][hit])))
    if not seen:
        return 0.0, 0.0
    return len(scores) / seen, float(np.mean(scores)) if scores else 0.0


def travels(track: Track, *, limit: float, camera: np.ndarray | None = None) -> bool:
    """True when the track's centre moves at least `limit` of its median size; with `camera`
    (cumulative camera pan per frame index, source px: where a scene point has moved to on
    screen), in the scene rather than on screen."""
    if len(track) < 2:
        return False
    size = float(np.median(np.sqrt(np.maximum(track.areas, 1.0))))
    centres = track.centers
    pan = camera_pan(track, camera)
    if pan is not None:
        centres = centres - pan
    return float(np.max(np.ptp(centres, axis=0))) >= limit * size


def checked_vehicle(track: Track, detections: Sequence[Detections], *,
                    config: EvidenceConfig = EvidenceConfig(),
                    camera: np.ndarray | None = None) -> Track:
    """The track, relabelled "person" or "unknown" when its vehicle or fixture label lacks the
    motion of one (see the module docstring; `camera` as for `travels`)."""
    if track.label not in CHECKED | FIXTURES or track.extra.get("label_source") != "detector":
        return track
    # a vehicle coming closer or going away grows or shrinks steadily; a fixture that does is
    # the camera moving in or out (it does not move by itself)
    if travels(track, limit=config.travel, camera=camera) or (
            track.label in CHECKED and grows_steadily(track)):
        return track
    share, score = person_share(track, detections, cover=config.cover)
    runner = {"label_runner_up": track.label,
              "label_runner_up_confidence": track.extra.get("label_confidence", 0.0)}
    if share >= config.person_fraction:
        extra = {**track.extra, **runner, "label_confidence": round(score * share, 4),
                 "label_evidence": f"a still {track.label} with a person at it "
                                   f"({share:.0%} of looks)"}
        return track.with_changes(label=PERSON, extra=extra)
    why = ("(a door, a boot lid, someone at it), not the vehicle moving"
           if track.label in CHECKED else
           f"(someone at it, or the camera passing it), not the {track.label} moving")
    extra = {**track.extra, **runner, "label_confidence": 0.0,
             "label_evidence": f"motion on a still {track.label} {why}"}
    return track.with_changes(label=UNKNOWN, extra=extra)
