"""What a user-seeded track is: the object recognizer run over its life and voted, as the
analysis votes its own tracks.

A designer draws a box round an object the analysis missed (video.seeded follows it); the
analysis's tracks got their class from the detector (video.recognize), the drawn one has only
the name the designer gave, or none. Here the detector looks at the track's frames at the
analysis's rate (`RecognizeConfig.rate` a second, at most `most` looks spread over its life),
and the detections are matched one-to-one to the drawn track and the analysis's tracks on
screen (so a person the analysis already follows beside it keeps its own detections), and the
drawn track's matches vote with the same rules: a class that wins becomes its label (a drawn
person is then a `person`, and gets the steps of its feet), and where none wins it is `unknown`
with its box-shape label kept as the hint its sound is chosen from, as the analysis's are
(video.recognize.labelled).
"""

from __future__ import annotations

from collections.abc import Sequence

from video.base.progress import ProgressFn, report
from video.base.tracks import Track
from video.reader import VideoReader
from video.recognize import (
    Detections,
    RecognizeConfig,
    Vote,
    load_detector,
    spread,
    vote_tracks,
)


def sampled_frames(track: Track, *, interval: int, most: int) -> list[int]:
    """The track's frames that are multiples of `interval` (the analysis's detection frames),
    at most `most` of them spread evenly over its life; its middle frame for a track shorter
    than one interval."""
    if not len(track):
        return []
    first, last = int(track.frames[0]), int(track.frames[-1])
    frames = list(range(first + (-first) % interval, last + 1, interval)) or \
        [int(track.frames[len(track) // 2])]
    return spread(frames, most)


def vote_seeded(reader: VideoReader, track: Track, others: Sequence[Track], *,
                config: RecognizeConfig | None = None, max_side: int = 480, most: int = 24,
                progress: ProgressFn | None = None) -> Vote:
    """The recognizer's vote for `track` (drawn by the designer) against `others` (the
    analysis's tracks); label it with video.recognize.labelled. Frames are looked at no larger
    than `max_side` (the analysis's size). Raises video.recognize.RecognizerUnavailable when
    the detector cannot run."""
    config = config if config is not None else RecognizeConfig()
    detector = load_detector(config)
    interval = max(1, round(float(reader.info.fps) / config.rate))
    wanted = sampled_frames(track, interval=interval, most=most)
    detections = []
    if wanted:
        for frame in reader.frames(start=wanted[0], stop=wanted[-1] + 1, max_side=max_side,
                                   only=set(wanted)):
            boxes, labels, scores = detector.detect(frame.image, min_score=config.min_score,
                                                    nms_iou=config.nms_iou)
            detections.append(Detections(frame.index, boxes / frame.scale, labels, scores))
            report(progress, len(detections) / len(wanted), "recognizing the drawn object")
    return vote_tracks([track, *others], detections, config=config)[0]
