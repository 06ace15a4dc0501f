"""Which visual event detector an analysis uses: the learned one by default, where it wins.

docs/EVALUATION.md compares the hand-made motion detector (video.events) with the learned one
(model.detector.learned_events) on held-out synthetic clips: the learned detector has the higher F1 for
both impacts and steps, so it replaces those two kinds by default. Other kinds (scrapes) keep the
motion detector's events, and when the checkpoint cannot be loaded the motion events stay, with
a warning, so analysis never fails for lack of the model. After it, people (objects recognized as
`person`) get their steps from their feet (video.footsteps), which the detectors' box-based
steps cannot see on real footage.

The network was trained on upright pictures: on a clip filmed turned (its floor on a side, see
video.gravity), the tracks are turned upright before it looks at them. Where a thing's path
plainly bounces off the floor and the network put no impact (video.bounces), the bounce is added:
on the real ball clip the network alone found 2 of its 4 marked bounces, with the rule all 4.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from video.analyze import AnalysisConfig, analyze_video
from video.base.errors import InputError
from video.base.progress import ProgressFn, report, scaled
from video.base.tracks import Analysis, Event, Track, VideoInfo
from video.bounces import BounceConfig, floor_bounces, missing_bounces
from video.clutter import drop_specks
from video.events import detect_events
from video.footsteps import FootstepConfig, apply_footsteps, preload_pose_model
from video.gravity import picture_turn, turned
from video.hand_contacts import HandContactConfig, apply_hand_contacts
from video.reader import VideoReader
from video.recognize import RecognizeConfig, RecognizerUnavailable, labelled
from video.seeded_class import vote_seeded
from video.tracker import label_for

if TYPE_CHECKING:
    from model.detector.net_layout import EventModel

EVENT_DETECTORS = ("learned", "motion")
LEARNED_KINDS = frozenset({"impact", "step"})
# The learned detector's onset threshold on a track the designer seeded (video.seeded). The
# model's own (0.9) is set against the jitter of motion-blob tracks; a seeded track follows the
# object's picture, so its path is clean, and there the network's peaks at real contacts that
# it scores lower (a juggled ball's kicks under a hand-held camera: 0.27-0.83) are contacts.
# On seeded real tracks (docs/EVALUATION.md) 0.3-0.5 found the same contacts, and no impact on
# walkers or a car, where the motion rules put 3-4.
SEEDED_THRESHOLD = 0.4


def apply_event_detector(analysis: Analysis, *, detector: str = "learned",
                         checkpoint: str | os.PathLike[str] | None = None,
                         warn: Callable[[str], None] | None = None,
                         bounces: BounceConfig | None = None) -> Analysis:
    """`analysis` with impact/step events from `detector` ("learned" or "motion").

    "motion" returns the analysis unchanged (video.events already ran during analysis). Steps
    that video.footsteps gave a person (its extra "steps_from") are kept either way. With the
    learned detector, floor bounces the network missed (video.bounces, `bounces` its
    thresholds) are added as impacts.
    The result records the detector used under the extra key "event_detector" and, for the
    learned one, the quarter turn that brought the picture upright under "picture_turn". Labels are
    derived again from the new events, as the analysis derived them from its own; call this on
    a fresh analysis, before the designer renames anything.
    """
    model = _learned_model(detector, checkpoint, warn)
    if model is None:
        return _tagged(analysis, "motion")
    turn = picture_turn(analysis.objects, analysis.video)
    tracks = []
    for track in analysis.objects:
        # a person's steps from its feet (video.footsteps, extra "steps_from") stay
        kinds = LEARNED_KINDS - {"step"} if "steps_from" in track.extra else LEARNED_KINDS
        kept = [e for e in track.events if e.kind not in kinds]
        learned = learned_events(*turned(track, analysis.video, turn), model, kinds=kinds,
                                 bounces=bounces)
        updated = track.with_changes(events=tuple(kept + learned))
        # the analysis labels objects partly by their events ("ball" bounces, "walker" steps)
        tracks.append(updated.with_changes(
            label=label_for(updated, frame_height=analysis.video.height)))
    result = _tagged(analysis.with_objects(tracks), "learned")
    return replace(result, extra={**result.extra, "picture_turn": turn})


def learned_events(track: Track, info: VideoInfo, model: EventModel, *,
                   kinds: frozenset[str] = LEARNED_KINDS,
                   bounces: BounceConfig | None = None,
                   threshold: float | None = None) -> list[Event]:
    """The learned detector's events of `kinds` on one track of an upright picture (onsets
    above `threshold`, by default the model's), and, when impacts are among them, the floor
    bounces it missed (video.bounces)."""
    from model.detector.learned_events import detect_events_model

    bounces = bounces if bounces is not None else BounceConfig()
    found = [e for e in detect_events_model(track, info, model, threshold=threshold)
             if e.kind in kinds]
    if "impact" in kinds:
        found += missing_bounces(found, floor_bounces(track, info, config=bounces),
                                 min_gap_s=bounces.min_gap_s)
    return found


def seeded_track_events(track: Track, analysis: Analysis, *, detector: str | None = None,
                        checkpoint: str | os.PathLike[str] | None = None,
                        warn: Callable[[str], None] | None = None) -> Track:
    """`track`, a user-seeded one (video.seeded) of `analysis`'s video, with its contacts.

    The detector is the analysis's own (its extra "event_detector", learned by default) unless
    `detector` names one: the learned one at `SEEDED_THRESHOLD`, with the floor bounces it
    missed, on the picture turned upright (video.gravity, with this track's path as evidence
    too); or the motion rules (video.events). The track's label is left as the designer gave
    it. When the checkpoint cannot be loaded, the motion rules' events come back, with a warning.
    """
    info = analysis.video
    model = _learned_model(detector or str(analysis.extra.get("event_detector", "learned")),
                           checkpoint, warn)
    if model is None:
        return track.with_changes(events=detect_events(track, info))
    turn = picture_turn([*analysis.objects, track], info)
    found = learned_events(*turned(track, info, turn), model, threshold=SEEDED_THRESHOLD)
    return track.with_changes(events=tuple(sorted(found, key=lambda e: e.time)))


def _learned_model(detector: str, checkpoint: str | os.PathLike[str] | None,
                   warn: Callable[[str], None] | None) -> EventModel | None:
    """The learned detector's model when `detector` is "learned" and it loads; None for
    "motion", or (with a warning) when the checkpoint cannot be loaded. Another name is an
    InputError."""
    if detector not in EVENT_DETECTORS:
        raise InputError(f"unknown event detector {detector!r} (choose {', '.join(EVENT_DETECTORS)})")
    if detector == "motion":
        return None
    from model.detector.learned_events import load_event_model

    try:
        return load_event_model(checkpoint)
    except (InputError, OSError, RuntimeError, ValueError) as exc:
        if warn is not None:
            warn(f"learned event detector unavailable ({exc}); using motion events")
        return None


def complete_seeded_track(reader: VideoReader, track: Track, analysis: Analysis, *,
                          recognize: RecognizeConfig | None = None,
                          hands: HandContactConfig | None = None,
                          progress: ProgressFn | None = None,
                          warn: Callable[[str], None] | None = None) -> Track:
    """A track the designer seeded (video.seeded), made like the analysis's own: its contacts
    (`seeded_track_events`), then, where it has the default label "object", its class from the
    object recognizer (video.seeded_class), `unknown` with its box-shape label as the hint for
    its sound where no class wins (a bouncing round thing: "ball"), or the box-shape label alone
    where the recognizer cannot run (one warning); and a person gets the steps of its feet
    (video.footsteps), anything else a hand could hold the touches and releases of the hands
    round it (video.hand_contacts). A label the designer gave is kept. `reader`: the video, open
    (the one the track was followed in); `recognize`, `hands`: the recognizer's and the hand
    contacts' options."""
    vote = None
    unnamed = track.label == "object"
    if unnamed:
        try:
            vote = vote_seeded(reader, track, analysis.objects, config=recognize,
                               progress=scaled(progress, 0.0, 0.6))
        except RecognizerUnavailable as exc:
            if warn is not None:
                warn(f"object recognition off for the drawn object: {exc}")
    track = seeded_track_events(track, analysis, warn=warn)
    if unnamed:
        track = track.with_changes(label=label_for(track, frame_height=analysis.video.height))
        if vote is not None:
            track = labelled(track, vote)
    if track.label == "person":
        alone = apply_footsteps(reader.path, analysis.with_objects([track]),
                                config=FootstepConfig(),
                                progress=scaled(progress, 0.6, 1.0), warn=warn)
        track = alone.objects[0]
    else:
        alone = apply_hand_contacts(reader.path, analysis.with_objects([track]),
                                    config=hands or HandContactConfig(),
                                    progress=scaled(progress, 0.6, 1.0), warn=warn)
        track = alone.objects[0]
    report(progress, 1.0, "drawn object ready")
    return track


def analyze_with_events(video: str | os.PathLike[str], *, config: AnalysisConfig | None = None,
                        detector: str = "learned",
                        checkpoint: str | os.PathLike[str] | None = None,
                        progress: ProgressFn | None = None,
                        warn: Callable[[str], None] | None = None) -> Analysis:
    """Analyse `video` (video.analyze.analyze_video, reporting to `progress`), apply the event
    `detector` to it, then give people the steps of their feet (video.footsteps: from their pose,
    or their box's bob where no pose is found or `config.footsteps` turns the pose off): the analysis that
    `stereofoley analyze` / `render`, the studio and the real-clip evaluation all work from."""
    config = config if config is not None else AnalysisConfig()
    people = config.footsteps.enabled and config.recognize.enabled
    # the pose model's file is checked and pruned beside the analysis pass, not after it
    preparing = preload_pose_model(config.footsteps) if people else None
    analysis = analyze_video(video, config=config,
                             progress=scaled(progress, 0.0, 0.85 if people else 1.0), warn=warn)
    if preparing is not None:
        preparing.join()
    analysis = apply_event_detector(analysis, detector=detector, checkpoint=checkpoint, warn=warn)
    # specks whose only events were the motion rules' faint ones, which the detector dropped
    analysis = drop_specks(analysis, config=config.clutter)
    analysis = apply_footsteps(video, analysis, config=config.footsteps, events=config.events,
                               progress=scaled(progress, 0.85, 0.95), warn=warn)
    return apply_hand_contacts(video, analysis, config=config.hands,
                               progress=scaled(progress, 0.95, 1.0), warn=warn)


def _tagged(analysis: Analysis, name: str) -> Analysis:
    return replace(analysis, extra={**analysis.extra, "event_detector": name})
