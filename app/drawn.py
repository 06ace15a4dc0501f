"""`--track FRAME:X0,Y0,X1,Y1[=CLASS]` of `analyze` and `render`: objects the analysis missed,
given by a box on one frame, tracked both ways from it and made like the analysis's own.

The same as drawing a box in the studio (video.seeded, then
model.detector.event_detection.complete_seeded_track: the recognizer's class, contacts, a
person's steps), for a designer working from the command line or a script. Each new object
gets the next free id, in the order given, so `render --track ... --prompt ID=TEXT` can name
it (`analyze` prints the ids).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from video.base.errors import InputError
from video.base.progress import ProgressFn, report, scaled
from video.base.tracks import Analysis

if TYPE_CHECKING:
    from video.hand_contacts import HandContactConfig

FORMAT = "FRAME:X0,Y0,X1,Y1[=CLASS]"


@dataclass(frozen=True)
class DrawnBox:
    """One `--track`: the frame the box is on, the box (source pixels), the class if given."""

    frame: int
    box: tuple[float, float, float, float]
    label: str | None = None


def parse_drawn(item: str) -> DrawnBox:
    """`"40:59,127,71,139=sports ball"` -> DrawnBox(40, (59, 127, 71, 139), "sports ball");
    a malformed item is an InputError naming it."""
    from video.recognize import check_class

    spec, sep, name = item.partition("=")
    frame_text, colon, box_text = spec.partition(":")
    try:
        if not colon:
            raise ValueError
        frame = int(frame_text.strip())
        values = tuple(float(v) for v in box_text.split(","))
        if len(values) != 4:
            raise ValueError
    except ValueError:
        raise InputError(f"--track must look like {FORMAT}, got {item!r}") from None
    label = None
    if sep:
        try:
            label = check_class(name.strip())
        except ValueError as exc:
            raise InputError(f"--track {item}: {exc}") from None
    return DrawnBox(frame, (values[0], values[1], values[2], values[3]), label)


def drawn_boxes(items: Sequence[str], video: str | Path) -> list[DrawnBox]:
    """The `--track` items parsed and checked against `video` (`check_drawn`)."""
    drawn = [parse_drawn(item) for item in items]
    check_drawn(video, drawn)
    return drawn


def check_drawn(video: str | Path, drawn: Sequence[DrawnBox]) -> None:
    """An InputError for a drawn box that cannot be tracked in `video` (its frame outside the
    video, under 4x4 pixels inside the picture), before any long work starts."""
    from video.reader import VideoReader
    from video.seeded import checked_seed

    if not drawn:
        return
    with VideoReader(video) as reader:
        for item in drawn:
            try:
                checked_seed(reader.info, item.frame, item.box)
            except InputError as exc:
                raise InputError(f"--track {_spec(item)}: {exc}") from None


def _spec(item: DrawnBox) -> str:
    return f"{item.frame}:{','.join(f'{v:g}' for v in item.box)}"


def add_drawn(video: str | Path, analysis: Analysis, drawn: Sequence[DrawnBox], *,
              hands: HandContactConfig | None = None,
              progress: ProgressFn | None = None,
              warn: Callable[[str], None] | None = None) -> Analysis:
    """The analysis with one new object per drawn box (ids after the largest in use). A box
    outside the picture or a frame outside the video is an InputError. `hands`: the hand
    contacts' options (`--no-hands` turns them off for drawn objects too)."""
    from model.detector.event_detection import complete_seeded_track
    from video.reader import VideoReader
    from video.seeded import track_from_seed

    objects = list(analysis.objects)
    with VideoReader(video) as reader:
        for n, item in enumerate(drawn):
            step = scaled(progress, n / len(drawn), (n + 1) / len(drawn))
            new_id = max((t.id for t in objects), default=0) + 1
            try:
                track = track_from_seed(reader, item.frame, item.box, object_id=new_id,
                                        progress=scaled(step, 0.0, 0.8))
            except InputError as exc:
                raise InputError(f"--track {_spec(item)}: {exc}") from None
            if item.label is not None:
                track = track.with_changes(label=item.label,
                                           extra={**track.extra, "label_source": "user"})
            objects.append(complete_seeded_track(reader, track, analysis.with_objects(objects),
                                                 hands=hands, progress=scaled(step, 0.8, 1.0),
                                                 warn=warn))
    report(progress, 1.0, "drawn objects tracked")
    return analysis.with_objects(objects)
