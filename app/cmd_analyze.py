"""`stereofoley analyze VIDEO -o TRACKS.json`: video analysis to the contract's TRACKS document."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from app.project import atomic_write_text
from video.base.errors import InputError
from video.base.progress import ProgressBar, scaled, warn_line


def run_analyze(args: argparse.Namespace) -> int:
    from app.cmd_render import apply_labels, parse_labels
    from model.event_detection import apply_event_detector
    from video.analyze import AnalysisConfig, analyze_video
    from video.recognize import RecognizeConfig

    out = Path(args.output)
    if out.exists() and out.is_dir():
        raise InputError(f"output {out} is a directory")
    ancestor = next(p for p in (out.parent, *out.parent.parents) if p.exists())
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK):
        raise InputError(f"cannot write {out}: {ancestor} is not a writable folder")
    if args.max_objects is not None and args.max_objects < 1:
        raise InputError("--max-objects must be at least 1")
    labels = parse_labels(args.label)
    config = AnalysisConfig(max_objects=args.max_objects,
                            recognize=RecognizeConfig(enabled=not args.no_recognize))
    bar = ProgressBar("analyze")
    try:
        analysis = analyze_video(args.video, config=config, progress=scaled(bar, 0.0, 0.95),
                                 warn=warn_line)
        analysis = apply_event_detector(analysis, detector=args.events, warn=warn_line)
        analysis = apply_labels(analysis, labels)
        bar(1.0, "done")
    finally:
        bar.close()
    atomic_write_text(out, analysis.to_json())
    print(f"{len(analysis.objects)} objects, {len(analysis.cuts)} cuts -> {out}")
    return 0
