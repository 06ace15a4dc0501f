"""`stereofoley studio [VIDEO | PROJECT.json] [--screenshot PNG] [--headless-out DIR]`.

With a display: the Dear PyGui studio. The window is on screen before anything heavy is
imported or computed (analysis and rendering start in the worker after the first frame).
`--screenshot PNG` loads, analyses and renders, draws a few frames, saves the window to PNG and
exits 0. With `--headless-out DIR`, or with no display at all, nothing graphical is touched: the
input is analysed, rendered and exported to DIR (stems, mix, project.json, review video) and the
path is printed; with `--force` a DIR that holds a previous render is replaced (anything else is
refused, app.outdir), which makes the headless run repeatable (setup.sh runs it that way).
A DISPLAY that is set but cannot be opened is an `error: cannot open display :99` (exit 2),
found before Dear PyGui would abort the process on it (app.display).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.display import display_problem, display_set
from video.base.errors import InputError

DEMO_VIDEO = Path(__file__).resolve().parents[1] / "assets" / "demo" / "demo.mp4"


def resolve_input(value: str | None) -> Path:
    """The video or project to open: the argument, or the bundled demo when there is none."""
    path = Path(value) if value else DEMO_VIDEO
    if not path.exists():
        what = "bundled demo video" if not value else "input"
        raise InputError(f"{what} not found: {path}")
    if path.is_dir():
        raise InputError(f"{path} is a folder, not a video or project file")
    return path


def check_input(source: Path) -> None:
    """Raise InputError/VideoError now for a project or video the studio could not open."""
    if source.suffix.lower() == ".json":
        from app.project import load_project

        load_project(source)
    else:
        from video.reader import probe_video

        probe_video(source)


def run_studio(args: argparse.Namespace) -> int:
    source = resolve_input(args.input)
    if args.screenshot and args.headless_out:
        raise InputError("--screenshot needs a window; it cannot be combined with --headless-out")
    if args.headless_out or not display_set():
        if args.screenshot:
            raise InputError("--screenshot needs a display (set DISPLAY, e.g. run under Xvfb)")
        return run_headless(source, args.headless_out, force=args.force)
    if args.force:
        raise InputError("--force replaces a --headless-out folder; the window exports through "
                         "its own dialog")
    problem = display_problem()
    if problem:
        raise InputError(f"{problem} (to render without a window: --headless-out DIR)")
    if args.screenshot:
        shot = Path(args.screenshot)
        if not shot.parent.is_dir():
            raise InputError(f"screenshot folder {shot.parent} does not exist")
        if shot.suffix.lower() != ".png":
            raise InputError(f"--screenshot must name a .png file, got {shot.name}")
        check_input(source)  # a scripted run fails on a bad file before any window opens
    from app.studio.ui.app import run_window

    return run_window(source, screenshot=Path(args.screenshot) if args.screenshot else None)


def run_headless(source: Path, outdir: str | None, *, force: bool = False) -> int:
    """Analyse (or load), render and export without any window; print where the files went."""
    from app.export import render_and_export
    from app.outdir import check_outdir
    from app.project import Project, load_project
    from app.studio.session.state import export_target
    from video.base.progress import ProgressBar, scaled, warn_line

    is_project = source.suffix.lower() == ".json"
    if outdir is not None:
        out = check_outdir(outdir, force=force)
    else:
        out, force = export_target(Path.cwd() / f"{source.stem}-foley", str(source))
    bar = ProgressBar("studio (headless)")
    try:
        if is_project:
            project = load_project(source)
        else:
            from model.detector.event_detection import analyze_with_events

            project = Project(analysis=analyze_with_events(
                source.resolve(), progress=scaled(bar, 0.0, 0.4), warn=warn_line))
        video = Path(project.video_path)
        written, _ = render_and_export(out, project, force=force,
                                       review_video=video if video.is_file() else None,
                                       progress=scaled(bar, 0.4, 1.0), warn=warn_line)
    finally:
        bar.close()
    reason = "" if display_set() else " (no display: rendered instead of opening a window)"
    print(f"{len(project.objects)} stems + mix + project.json -> {written}{reason}")
    sys.stdout.flush()
    return 0
