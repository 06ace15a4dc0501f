"""A session as an OpenTimelineIO timeline (`session.otio`) and, through OTIO's AAF adapter
(otio-aaf-adapter, pyaaf2), an AAF composition (`session.aaf`) for Pro Tools and Resolve.

The timeline's global start time is the start timecode (frames at the video's exact rate), so
every clip sits at that timecode. Tracks: "video" (the picture, absolute file URL, at the video's
rate), then one audio track per stem, named like the stem, holding one clip of the whole stem at
48 kHz with an absolute file URL of its final place in OUTDIR (OTIO and AAF locate media by
URL); the path relative to OUTDIR, and a dry stem's envelopes, are in the clip's metadata under
"stereofoley" (for a group stem also its members; a track in a group's folder names the folder,
and a muted track is disabled, `enabled` false, in the OTIO file). AAF wants one edit rate for all its clips: the AAF's tracks run at 48 000 (the
picture's length converted exactly to samples), its timecode track at the video's rate,
drop-frame where the start timecode is. A mono dry stem's pan envelope also becomes the AAF
clip's "Audio Pan" control points (time as a fraction of the clip, value 0 = left .. 1 =
right); AAF as the adapter writes it has no clip gain automation, so the volume envelope is in
the metadata only.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Any

from app.daw.session import Session, SessionTrack
from video.base.timebase import SAMPLE_RATE


def _url(path: Path) -> str:
    return path.resolve().as_uri()


def _range(otio: Any, start: int, duration: int, rate: float) -> Any:
    return otio.opentime.TimeRange(otio.opentime.RationalTime(start, rate),
                                   otio.opentime.RationalTime(duration, rate))


def _meta(session: Session, track: SessionTrack) -> dict[str, Any]:
    doc: dict[str, Any] = {"path": track.path, "channels": track.channels,
                           "pan_law": session.pan_law}
    if track.group:
        doc["group"] = track.group
        doc["members"] = list(track.members)
    if track.folder:
        doc["folder"] = track.folder
    if track.muted:
        doc["muted"] = True
    if track.pan is not None and track.volume is not None:
        doc["pan"] = [[float(t), float(v)] for t, v in zip(track.pan.times, track.pan.values,
                                                          strict=True)]
        doc["volume"] = [[float(t), float(v)] for t, v in zip(track.volume.times,
                                                              track.volume.values, strict=True)]
    return doc


def _aaf_pan(track: SessionTrack, n_samples: int) -> dict[str, Any]:
    """The AAF adapter's clip metadata for a mono track's pan envelope (exact rationals)."""
    if track.pan is None or track.channels != 1 or n_samples < 2:
        return {}
    points = []
    for t, pan in zip(track.pan.times, track.pan.values, strict=True):
        at = min(Fraction(round(float(t) * SAMPLE_RATE), n_samples), Fraction(n_samples - 1,
                                                                             n_samples))
        value = Fraction((float(pan) + 1.0) / 2.0).limit_denominator(1 << 20)
        points.append({"ControlPointSource": 2, "Time": f"{at.numerator}/{at.denominator}",
                       "Value": f"{value.numerator}/{value.denominator}"})
    return {"AAF": {"Pan": {"ControlPoints": points}}}


def build_timeline(session: Session, *, for_aaf: bool = False) -> Any:
    """The session as an `opentimelineio.schema.Timeline`.

    for_aaf: give the picture's clip the audio rate too (AAF needs one edit rate) and mono
    clips their pan as AAF control points."""
    import opentimelineio as otio

    fps = float(session.fps)
    timeline = otio.schema.Timeline(name=session.name)
    timeline.global_start_time = otio.opentime.RationalTime(session.timecode.frame, fps)
    timeline.metadata["stereofoley"] = {
        "start_timecode": session.timecode.label, "drop_frame": session.timecode.drop,
        "fps": f"{session.fps.numerator}/{session.fps.denominator}",
        "start_sample": session.timecode.samples(SAMPLE_RATE)}
    if session.video is not None:
        track = otio.schema.Track(name="video", kind=otio.schema.TrackKind.Video)
        if for_aaf:
            length, rate = session.n_samples, float(SAMPLE_RATE)
        else:
            length, rate = round(session.duration_seconds * session.fps), fps
        ref = otio.schema.ExternalReference(target_url=_url(session.video),
                                            available_range=_range(otio, 0, length, rate))
        track.append(otio.schema.Clip(name=session.video.name, media_reference=ref,
                                      source_range=_range(otio, 0, length, rate)))
        timeline.tracks.append(track)
    for stem in session.tracks:
        track = otio.schema.Track(name=stem.name, kind=otio.schema.TrackKind.Audio)
        if stem.muted and not for_aaf:
            track.enabled = False
        ref = otio.schema.ExternalReference(
            target_url=_url(session.outdir / stem.path),
            available_range=_range(otio, 0, session.n_samples, float(SAMPLE_RATE)))
        clip = otio.schema.Clip(name=Path(stem.path).stem, media_reference=ref,
                                source_range=_range(otio, 0, session.n_samples,
                                                    float(SAMPLE_RATE)))
        clip.metadata["stereofoley"] = _meta(session, stem)
        if for_aaf:
            clip.metadata.update(_aaf_pan(stem, session.n_samples))
        track.append(clip)
        timeline.tracks.append(track)
    return timeline


def write_otio(session: Session, path: Path) -> None:
    """session.otio (OTIO's JSON)."""
    import opentimelineio as otio

    otio.adapters.write_to_file(build_timeline(session), os.fspath(path), adapter_name="otio_json")


def write_aaf(session: Session, path: Path) -> None:
    """session.aaf through the OTIO AAF adapter, then its timecode track made exact: the
    adapter writes non-drop timecode at a float rate, so the rate and the drop flag are set
    again from the session's timecode."""
    import aaf2
    import opentimelineio as otio

    timeline = build_timeline(session, for_aaf=True)
    otio.adapters.write_to_file(timeline, os.fspath(path), adapter_name="AAF",
                                use_empty_mob_ids=True)
    fps = Fraction(session.fps)
    with aaf2.open(os.fspath(path), "rw") as handle:
        for mob in handle.content.compositionmobs():
            for slot in mob.slots:
                if isinstance(slot.segment, aaf2.components.Timecode):
                    slot.edit_rate = fps
                    slot.segment.fps = round(fps)
                    slot.segment.drop = session.timecode.drop
                    slot.segment.start = session.timecode.frame
