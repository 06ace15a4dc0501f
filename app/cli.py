"""`stereofoley` command line: studio, analyze, render, batch, eval (the contract in DESIGN.md).

Bad input of any kind ends with exit status 2 and one stderr line starting with `error:`; no
traceback reaches the user and no partial output file is left behind (each command writes to a
temporary path and renames at the end).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from video.base.errors import Cancelled, InputError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
DISTRIBUTION = "stereofoley-studio"  # the package name in pyproject.toml


class _Parser(argparse.ArgumentParser):
    """argparse with the contract's one-line `error:` message instead of usage + prog: error."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def package_version() -> str:
    """The installed package's version (its metadata), or "unknown" when run from a bare
    source tree that was never installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="stereofoley", description="StereoFoley Studio: object-aware stereo foley.",
                     epilog="Run 'stereofoley COMMAND --help' for a command's options.")
    parser.add_argument("--version", action="version",
                        version=f"stereofoley {package_version()}",
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    studio = sub.add_parser("studio", help="the desktop app (bundled demo when no argument)",
                            description="The desktop app. With no display, or with "
                                        "--headless-out, it renders and exports instead.")
    studio.add_argument("input", nargs="?", metavar="VIDEO|PROJECT.json",
                        help="a video file or a saved project (default: the bundled demo video)")
    studio.add_argument("--screenshot", metavar="PNG",
                        help="load, render, draw a few frames, save a screenshot and exit")
    studio.add_argument("--headless-out", metavar="DIR",
                        help="no window: analyse, render and export stems, mix and project.json "
                             "to DIR (a new or empty folder)")
    studio.add_argument("--force", action="store_true",
                        help="with --headless-out: replace DIR if it holds a previous render "
                             "(a folder with other files is never replaced)")

    analyze = sub.add_parser("analyze", help="video analysis only",
                             description="Track the moving objects of a video and write them as "
                                         "a TRACKS document; prints each object's id and label "
                                         "(the ids that --prompt ID=TEXT takes).")
    analyze.add_argument("video", metavar="VIDEO", help="the video file to analyse")
    analyze.add_argument("-o", "--output", required=True, metavar="TRACKS.json",
                         help="where to write the analysis (objects, boxes, events, cuts)")
    analyze.add_argument("--max-objects", type=int, default=None, metavar="N",
                         help="keep at most N objects (the most salient; default: all)")
    analyze.add_argument("--events", choices=("learned", "motion"), default="learned",
                         help="visual event detector (default: learned, where it wins; see "
                              "docs/EVALUATION.md)")
    analyze.add_argument("--no-recognize", action="store_true",
                         help="no object recognizer: labels from box shapes only")
    analyze.add_argument("--no-pose", action="store_true",
                         help="people's footsteps from their box's bob, not from their pose")
    analyze.add_argument("--no-fill-steps", action="store_true",
                         help="no footsteps laid at the walking cadence where the picture "
                              "shows none (a far or hidden walker's)")
    analyze.add_argument("--no-onsets", action="store_true",
                         help="no onset events where an object at rest is struck, flicked or "
                              "picked up")
    analyze.add_argument("--no-splashes", action="store_true",
                         help="no splash events where a falling thing sinks out of sight in a "
                              "spray")
    analyze.add_argument("--no-hands", action="store_true",
                         help="no touch/release events where a hand takes hold of or lets go "
                              "of an object")
    analyze.add_argument("--label", action="append", default=[], metavar="ID=CLASS",
                         help="set one object's class, e.g. 3=car (repeatable)")
    analyze.add_argument("--track", action="append", default=[],
                         metavar="FRAME:X0,Y0,X1,Y1[=CLASS]",
                         help="add an object the analysis missed: its box (source pixels) on "
                              "one frame, tracked both ways from there, e.g. "
                              "40:59,127,71,139=sports ball (repeatable; new ids follow)")

    render = sub.add_parser("render", help="analysis + foley + spatial mix to stems and mix",
                            description="Analyse a video (or take a project's analysis), "
                                        "generate foley per object and write stems, mix and "
                                        "project.json to OUTDIR.")
    render.add_argument("video", metavar="VIDEO", help="the video to render foley for")
    render.add_argument("-o", "--output", required=True, metavar="OUTDIR",
                        help="output folder: mix.wav, stems/, project.json (must be new or "
                             "empty, or a previous render with --force)")
    render.add_argument("--project", metavar="PROJECT.json",
                        help="use this project's analysis, prompts and nudges (e.g. OUTDIR/"
                             "project.json of an earlier render, or a project saved by the "
                             "studio)")
    render.add_argument("--prompt", action="append", default=[], metavar="ID=TEXT",
                        help="sound prompt for one object, e.g. 2='footsteps on gravel' "
                             "(repeatable); object ids are in TRACKS.json and the studio's object "
                             "list, and 'stereofoley analyze' prints them")
    render.add_argument("--seed", type=int, default=None, metavar="N",
                        help="random seed for sound choice and variation (default: the "
                             "project's seed, 0 without a project); the same seed gives the "
                             "same audio")
    render.add_argument("--library", action="append", default=[], metavar="DIR",
                        help="extra folder of WAV/FLAC/OGG/MP3 sounds to pick from (repeatable)")
    render.add_argument("--review-video", action="store_true",
                        help="also write OUTDIR/review.<ext>: the picture with the mix as audio")
    render.add_argument("--force", action="store_true",
                        help="replace OUTDIR if it holds a previous render (a folder with "
                             "other files is never replaced)")
    render.add_argument("--session", metavar="FORMATS", default=None,
                        help="also write DAW sessions: a comma list of rpp, otio, aaf")
    render.add_argument("--dry-stems", action="store_true",
                        help="also write OUTDIR/dry/*.wav (before pan and level); sessions then "
                             "use them with pan and volume automation")
    render.add_argument("--stems", metavar="MODE", default="objects",
                        help="objects (default: one stem per object), groups (one stem per role: "
                             "footsteps, vehicles, ...; short or quiet objects only in their "
                             "group) or both: OUTDIR/groups/<CODE>_<role>.wav")
    render.add_argument("--events", choices=("learned", "motion"), default="learned",
                        help="visual event detector when the video is analysed here "
                             "(default: learned)")
    render.add_argument("--no-recognize", action="store_true",
                        help="no object recognizer when the video is analysed here: labels "
                             "from box shapes only")
    render.add_argument("--no-pose", action="store_true",
                        help="people's footsteps from their box's bob, not from their pose "
                             "(when the video is analysed here)")
    render.add_argument("--no-fill-steps", action="store_true",
                        help="no footsteps laid at the walking cadence where the picture shows "
                             "none (when the video is analysed here)")
    render.add_argument("--no-onsets", action="store_true",
                        help="no onset events where an object at rest is struck, flicked or "
                             "picked up (when the video is analysed here)")
    render.add_argument("--no-splashes", action="store_true",
                        help="no splash events where a falling thing sinks out of sight in a "
                             "spray (when the video is analysed here)")
    render.add_argument("--no-hands", action="store_true",
                        help="no touch/release events where a hand takes hold of or lets go "
                             "of an object (when the video is analysed here)")
    render.add_argument("--label", action="append", default=[], metavar="ID=CLASS",
                        help="set one object's class, e.g. 3=car; the sound follows (repeatable)")
    render.add_argument("--track", action="append", default=[],
                        metavar="FRAME:X0,Y0,X1,Y1[=CLASS]",
                        help="add an object the analysis missed, as 'analyze --track' does; its "
                             "id is the next free one, which --prompt may name (repeatable)")

    batch = sub.add_parser("batch", help="render a film's shots: one render folder per shot",
                           description="Render each video as 'render' does, into OUTDIR/NAME "
                                       "(NAME: the file's stem, made unique), in parallel, and "
                                       "write the summary table OUTDIR/summary.csv and "
                                       "summary.txt (shot, status, duration, objects, loudness, "
                                       "time). A failed shot does not stop the others (exit "
                                       "status 1 then); a shot rendered before is skipped.")
    batch.add_argument("shots", nargs="+", metavar="SHOT", help="the shots' video files")
    batch.add_argument("-o", "--output", required=True, metavar="OUTDIR",
                       help="output folder: one render folder per shot and the summary (new, "
                            "or an earlier batch's)")
    batch.add_argument("--workers", type=int, default=None, metavar="N",
                       help="shots rendered at once (default: the CPUs, at most the shots); "
                            "with --ray local, the local cluster's CPUs")
    batch.add_argument("--ray", metavar="ADDRESS", default=None,
                       help="run the shots as Ray tasks on the cluster at ADDRESS ('auto': the "
                            "running one, 'local': start one here); needs the ray extra and a "
                            "file system all nodes share")
    batch.add_argument("--force", action="store_true",
                       help="render every shot again, replacing its earlier render")
    batch.add_argument("--seed", type=int, default=None, metavar="N",
                       help="random seed for every shot (default 0)")
    batch.add_argument("--library", action="append", default=[], metavar="DIR",
                       help="extra folder of sounds to pick from (repeatable)")
    batch.add_argument("--review-video", action="store_true",
                       help="also write each shot's review video")
    batch.add_argument("--session", metavar="FORMATS", default=None,
                       help="also write each shot's DAW sessions: a comma list of rpp, otio, aaf")
    batch.add_argument("--dry-stems", action="store_true",
                       help="also write each shot's dry stems")
    batch.add_argument("--events", choices=("learned", "motion"), default="learned",
                       help="visual event detector (default: learned)")
    batch.add_argument("--no-recognize", action="store_true",
                       help="no object recognizer: labels from box shapes only")
    batch.add_argument("--no-pose", action="store_true",
                       help="people's footsteps from their box's bob, not from their pose")
    batch.add_argument("--no-fill-steps", action="store_true",
                       help="no footsteps laid at the walking cadence where the picture shows "
                            "none")
    batch.add_argument("--no-onsets", action="store_true",
                       help="no onset events where an object at rest is struck, flicked or "
                            "picked up")
    batch.add_argument("--no-splashes", action="store_true",
                       help="no splash events where a falling thing sinks out of sight in a "
                            "spray")
    batch.add_argument("--no-hands", action="store_true",
                       help="no touch/release events where a hand takes hold of or lets go "
                            "of an object")
    batch.add_argument("--stems", metavar="MODE", default="objects",
                       help="each shot's stems: objects (default), groups or both (as render)")

    ev = sub.add_parser("eval", help="objective metrics (spatial, sync, loudness)",
                        description="objective metrics")
    mode = ev.add_mutually_exclusive_group(required=True)
    mode.add_argument("--synthetic", type=int, metavar="N",
                      help="evaluate on N held-out synthetic clips")
    mode.add_argument("--render-dir", metavar="OUTDIR", help="metrics of an existing render")
    mode.add_argument("--real", metavar="DIR",
                      help="evaluate only on the real clips in DIR: hand-marked events "
                           "(*.events.json) and/or their own audio (*.audio-truth.json)")
    mode.add_argument("--semantic", metavar="DIR",
                      help="does each stem sound like what really moves? the real clips named by "
                           "DIR/*.classes.json rendered with and without the object recognizer")
    ev.add_argument("--real-dir", metavar="DIR",
                    help="marked real clips to add to --synthetic (default: bundled)")
    ev.add_argument("--no-real", action="store_true", help="--synthetic without the real clips")
    ev.add_argument("--seed", type=int, default=1000, metavar="N",
                    help="synthetic set seed; with --real, the render and chance-shift seed; "
                         "with --semantic, the render seed "
                         "(default 1000)")
    ev.add_argument("--video", metavar="V", help="the video the render was made from")
    ev.add_argument("--out", metavar="PATH", help="also write the report here")
    ev.add_argument("--checkpoint", metavar="PT", help="learned event model (default bundled)")
    return parser


def _dispatch(args: argparse.Namespace) -> int:
    # Each command's module is imported only when used, so only `studio` loads dearpygui, and
    # torch loads only where the learned event detector or `eval` runs.
    if args.command == "analyze":
        from app.cmd_analyze import run_analyze
        return run_analyze(args)
    if args.command == "render":
        from app.cmd_render import run_render
        return run_render(args)
    if args.command == "studio":
        from app.cmd_studio import run_studio
        return run_studio(args)
    if args.command == "batch":
        from app.cmd_batch import run_batch
        return run_batch(args)
    if args.command == "eval":
        from app.cmd_eval import run_eval
        return run_eval(args)
    raise InputError("no command given (studio, analyze, render, batch or eval)")


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: the work in hand cleans up (partial output is removed)."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated()


def _handle_sigterm() -> Any:
    """Make SIGTERM interrupt like Ctrl-C (only possible from the main thread); returns the
    handler it replaced (None where it changed nothing), which `main` puts back when done."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _terminate)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    previous = _handle_sigterm()
    try:
        return _dispatch(parser.parse_args(argv))
    except InputError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    except Cancelled:
        sys.stderr.write("error: cancelled\n")
        return EXIT_FAILURE
    except Terminated:
        sys.stderr.write("\nerror: terminated\n")
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        sys.stderr.write("\nerror: interrupted\n")
        return 130
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    except OSError as exc:  # an unwritable output folder, a full disk: the user's to fix
        where = f" ({exc.filename})" if exc.filename else ""
        sys.stderr.write(f"error: {exc.strerror or exc}{where}\n")
        return EXIT_USAGE
    except Exception as exc:  # a bug: one line for the user, the traceback on request
        if os.environ.get("STEREOFOLEY_DEBUG"):
            raise
        sys.stderr.write(f"error: internal error: {type(exc).__name__}: {exc} "
                         "(set STEREOFOLEY_DEBUG=1 for the traceback)\n")
        return EXIT_FAILURE
    finally:
        if previous is not None:  # an embedding caller (a test runner) keeps its own handler
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
