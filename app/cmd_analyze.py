"""`stereofoley analyze VIDEO -o TRACKS.json`: video analysis to the contract's TRACKS document.

Besides the file it prints a table of the objects found (id, label, when on screen, events): the
ids are the ones `stereofoley render --prompt ID=TEXT` takes.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from video.base.atomic import atomic_write_text
from video.base.errors import InputError
from video.base.progress import ProgressBar, scaled, warn_line
from video.base.tracks import Analysis

if TYPE_CHECKING:
    from video.analyze import AnalysisConfig


def object_table(analysis: Analysis) -> list[str]:
    """One line per object: id, label, seconds on screen (first..last frame), event count."""
    if not analysis.objects:
        return []
    rows = [("id", "label", "on screen (s)", "events")]
    for track in analysis.objects:
        span = "-"
        if len(track):
            first = analysis.video.time_of_frame(int(track.frames[0]))
            last = analysis.video.time_of_frame(int(track.frames[-1]))
            span = f"{first:.2f}-{last:.2f}"
        rows.append((str(track.id), track.label, span, str(len(track.events))))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return [f"{row[0]:>{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:<{widths[2]}}  "
            f"{row[3]:>{widths[3]}}".rstrip() for row in rows]


def analysis_config(args: argparse.Namespace, *,
                    max_objects: int | None = None) -> AnalysisConfig:
    """The analysis options the command line's switches pick (analyze, render, batch):
    `--no-recognize`, `--no-pose`, `--no-fill-steps`, `--no-onsets`, `--no-splashes`, `--no-hands`.
    Raises ValueError for a bad `max_objects`."""
    from video.analyze import AnalysisConfig
    from video.cadence import CadenceConfig
    from video.footsteps import FootstepConfig
    from video.hand_contacts import HandContactConfig
    from video.recognize import RecognizeConfig
    from video.splashes import SplashConfig
    from video.struck import StruckConfig

    return AnalysisConfig(max_objects=max_objects,
                          recognize=RecognizeConfig(enabled=not args.no_recognize),
                          footsteps=FootstepConfig(
                              enabled=not args.no_pose,
                              cadence=CadenceConfig(enabled=not args.no_fill_steps)),
                          struck=StruckConfig(enabled=not args.no_onsets),
                          splashes=SplashConfig(enabled=not args.no_splashes),
                          hands=HandContactConfig(enabled=not args.no_hands))


def run_analyze(args: argparse.Namespace) -> int:
    from model.detector.event_detection import analyze_with_events

    out = Path(args.output)
    if out.exists() and out.is_dir():
        raise InputError(f"output {out} is a directory")
    ancestor = next(p for p in (out.parent, *out.parent.parents) if p.exists())
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK):
        raise InputError(f"cannot write {out}: {ancestor} is not a writable folder")
    labels: dict[int, str] = {}
    if args.label:  # app.cmd_render imports the whole renderer (~0.7 s of start-up)
        from app.cmd_render import parse_labels

        labels = parse_labels(args.label)
    drawn = []
    if args.track:
        from app.drawn import drawn_boxes

        drawn = drawn_boxes(args.track, args.video)
    try:  # AnalysisConfig checks its values; here they are the user's
        config = analysis_config(args, max_objects=args.max_objects)
    except ValueError as exc:
        raise InputError(f"--max-objects: {exc}") from None
    bar = ProgressBar("analyze")
    try:
        analysis = analyze_with_events(args.video, config=config, detector=args.events,
                                       progress=scaled(bar, 0.0, 0.9 if drawn else 0.95),
                                       warn=warn_line)
        if drawn:
            from app.drawn import add_drawn

            analysis = add_drawn(args.video, analysis, drawn, hands=config.hands,
                                 progress=scaled(bar, 0.9, 0.95), warn=warn_line)
        if labels:
            from app.cmd_render import apply_labels

            analysis = apply_labels(analysis, labels)
        bar(1.0, "done")
    finally:
        bar.close()
    atomic_write_text(out, analysis.to_json())
    for line in object_table(analysis):
        print(line)
    print(f"{len(analysis.objects)} objects, {len(analysis.cuts)} cuts -> {out}")
    return 0
