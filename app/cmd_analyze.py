"""`stereofoley analyze VIDEO -o TRACKS.json`: video analysis to the contract's TRACKS document."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from app.project import atomic_write_text
from video.base.errors import InputError
from video.base.progress import ProgressBar, scaled, warn_line


def run_analyze(args: argparse.Namespace) -> int:
    from model.detector.event_detection import analyze_with_events
    from video.analyze import AnalysisConfig

    out = Path(args.output)
    if out.exists() and out.is_dir():
        raise InputError(f"output {out} is a directory")
    ancestor = next(p for p in (out.parent, *out.parent.parents) if p.exists())
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK):
        raise InputError(f"cannot write {out}: {ancestor} is not a writable folder")
    try:  # AnalysisConfig checks its values; here they are the user's
        config = AnalysisConfig(max_objects=args.max_objects)
    except ValueError as exc:
        raise InputError(f"--max-objects: {exc}") from None
    bar = ProgressBar("analyze")
    try:
        analysis = analyze_with_events(args.video, config=config, detector=args.events,
                                       progress=scaled(bar, 0.0, 0.95), warn=warn_line)
        bar(1.0, "done")
    finally:
        bar.close()
    atomic_write_text(out, analysis.to_json())
    print(f"{len(analysis.objects)} objects, {len(analysis.cuts)} cuts -> {out}")
    return 0
