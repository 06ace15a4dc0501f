"""`stereofoley` command line: studio, analyze, render, eval (the contract in DESIGN.md).

Bad input of any kind ends with exit status 2 and one stderr line starting with `error:`; no
traceback reaches the user and no partial output file is left behind (each command writes to a
temporary path and renames at the end).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from video.base.errors import Cancelled, InputError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse with the contract's one-line `error:` message instead of usage + prog: error."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="stereofoley", description="StereoFoley Studio: object-aware stereo foley.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    studio = sub.add_parser("studio", help="the desktop app (bundled demo when no argument)")
    studio.add_argument("input", nargs="?", help="a video file or a project .json")
    studio.add_argument("--screenshot", metavar="PNG",
                        help="load, render, draw a few frames, save a screenshot and exit")
    studio.add_argument("--headless-out", metavar="DIR",
                        help="with no display: render to DIR instead of opening a window")

    analyze = sub.add_parser("analyze", help="video analysis only")
    analyze.add_argument("video")
    analyze.add_argument("-o", "--output", required=True, metavar="TRACKS.json")
    analyze.add_argument("--max-objects", type=int, default=None, metavar="N",
                         help="keep at most N objects (the most salient)")
    analyze.add_argument("--events", choices=("learned", "motion"), default="learned",
                         help="visual event detector (default: learned, where it wins; see "
                              "docs/EVALUATION.md)")
    analyze.add_argument("--no-recognize", action="store_true",
                         help="no object recognizer: labels from box shapes only")
    analyze.add_argument("--label", action="append", default=[], metavar="ID=CLASS",
                         help="set one object's class, e.g. 3=car (repeatable)")

    render = sub.add_parser("render", help="analysis + foley + spatial mix to stems and mix")
    render.add_argument("video")
    render.add_argument("-o", "--output", required=True, metavar="OUTDIR")
    render.add_argument("--project", metavar="PROJECT.json",
                        help="use this project's analysis, prompts and nudges")
    render.add_argument("--prompt", action="append", default=[], metavar="ID=TEXT",
                        help="sound prompt for one object (repeatable)")
    render.add_argument("--seed", type=int, default=None, metavar="N")
    render.add_argument("--library", action="append", default=[], metavar="DIR",
                        help="extra sound library folder (repeatable)")
    render.add_argument("--review-video", action="store_true",
                        help="also write OUTDIR/review.<ext>: the picture with the mix as audio")
    render.add_argument("--force", action="store_true", help="replace an existing OUTDIR")
    render.add_argument("--events", choices=("learned", "motion"), default="learned",
                        help="visual event detector when the video is analysed here")
    render.add_argument("--no-recognize", action="store_true",
                        help="no object recognizer when the video is analysed here: labels "
                             "from box shapes only")
    render.add_argument("--label", action="append", default=[], metavar="ID=CLASS",
                        help="set one object's class, e.g. 3=car; the sound follows (repeatable)")

    ev = sub.add_parser("eval", help="objective metrics (spatial, sync, loudness)")
    ev.add_argument("args", nargs=argparse.REMAINDER)
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
    if args.command == "eval":
        from app.cmd_eval import run_eval
        return run_eval(args)
    raise InputError("no command given (studio, analyze, render or eval)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["eval"]:
            # argparse's REMAINDER rejects a tail that starts with an option (`eval --synthetic
            # 4`), so eval's own arguments are handed over whole; cmd_eval parses them.
            args = argparse.Namespace(command="eval", args=argv[1:])
        else:
            args = parser.parse_args(argv)
        return _dispatch(args)
    except InputError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    except Cancelled:
        sys.stderr.write("error: cancelled\n")
        return EXIT_FAILURE
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


if __name__ == "__main__":
    sys.exit(main())
