"""`stereofoley batch SHOTS... -o OUTDIR [--workers N] [--ray ADDRESS] [--force] [render options]`.

Every shot is rendered as `stereofoley render SHOT -o OUTDIR/NAME` would render it (NAME: the
file's stem, made unique), by a local process pool or by Ray tasks (app.batch). Everything the
user typed is checked before any work, so bad input is one `error:` line and exit 2 with
nothing written. Then one line per finished shot on stderr, and at the end the summary table
(shot, status, duration, objects, loudness, time) printed and written as OUTDIR/summary.csv and
OUTDIR/summary.txt. A failed shot does not stop the others; the exit status is then 1. A shot
whose folder holds a finished render of the same video is skipped unless --force is given.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.batch import (
    FAILED,
    RENDERED,
    SKIPPED,
    Shot,
    ShotResult,
    check_reachable,
    cpu_count,
    plan_shots,
    previous_result,
    ray_module,
    run_pool,
    run_ray,
)
from app.outdir import check_place, claim_outdir
from video.base.atomic import atomic_write_text
from video.base.errors import InputError

SUMMARY_COLUMNS = ("shot", "status", "duration_s", "objects", "loudness_lufs", "time_s", "video",
                   "error")
# the batch's own options: not passed on to each shot's render
_BATCH_ONLY = ("command", "shots", "video", "output", "workers", "ray")


def check_batch_outdir(text: str) -> Path:
    """OUTDIR of a batch: where a render's OUTDIR may go (app.outdir.check_place), and a new
    folder or an earlier batch's (its finished shots are kept) that this process can write
    in. Returns it resolved."""
    out = check_place(text).resolve()
    if out.is_dir() and not os.access(out, os.W_OK | os.X_OK):
        raise InputError(f"cannot write in {text}: permission denied")
    return out


def render_options(args: argparse.Namespace) -> dict[str, Any]:
    """Each shot's render options: `render`'s defaults (so an option render gains later is
    there with its default), overridden by the batch's values of the options both take;
    libraries resolved, so that a worker started elsewhere finds them."""
    from app.cli import build_parser

    defaults = vars(build_parser().parse_args(["render", "VIDEO", "-o", "OUTDIR"]))
    options = {k: v for k, v in defaults.items() if k not in _BATCH_ONLY}
    options.update({k: v for k, v in vars(args).items() if k in options})
    for folder in options.get("library", []):
        if not Path(folder).is_dir():
            raise InputError(f"--library {folder} is not a folder")
    options["library"] = [str(Path(f).resolve()) for f in options.get("library", [])]
    return options


def _number(value: float | int | None, fmt: str) -> str:
    return "" if value is None else format(value, fmt)


def summary_csv(rows: Sequence[ShotResult]) -> str:
    """The summary table as CSV (a header row, then one row per shot in the given order)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SUMMARY_COLUMNS)
    for r in rows:
        writer.writerow([r.name, r.status, _number(r.duration, ".3f"), _number(r.objects, "d"),
                         _number(r.lufs, ".2f"), _number(r.seconds, ".2f"), r.video, r.error])
    return buffer.getvalue()


def summary_text(rows: Sequence[ShotResult], *, total_seconds: float) -> str:
    """The summary table for people: aligned columns, failures' errors under their row, and
    a total line."""
    header = ("shot", "status", "duration", "objects", "loudness", "time")
    cells = [(r.name, r.status, _number(r.duration, ".2f") + " s" if r.duration is not None
              else "-", _number(r.objects, "d") or "-",
              _number(r.lufs, ".1f") + " LUFS" if r.lufs is not None else "-",
              f"{r.seconds:.1f} s") for r in rows]
    widths = [max(len(c[i]) for c in [header, *cells]) for i in range(len(header))]

    def line(values: Sequence[str]) -> str:
        first = values[0].ljust(widths[0])
        return "  ".join([first, values[1].ljust(widths[1]),
                          *(v.rjust(w) for v, w in zip(values[2:], widths[2:], strict=True))]
                         ).rstrip()

    lines = [line(header)]
    for row, cell in zip(rows, cells, strict=True):
        lines.append(line(cell))
        if row.error:
            lines.append(f"    error: {row.error}")
    lines.append(totals(rows, total_seconds=total_seconds))
    return "\n".join(lines) + "\n"


def totals(rows: Sequence[ShotResult], *, total_seconds: float) -> str:
    counts = {s: sum(r.status == s for r in rows) for s in (RENDERED, SKIPPED, FAILED)}
    audio = sum(r.duration or 0.0 for r in rows if r.status != FAILED)
    return (f"{len(rows)} shots: {counts[RENDERED]} rendered, {counts[SKIPPED]} skipped, "
            f"{counts[FAILED]} failed; {audio:.1f} s of audio in {total_seconds:.1f} s")


def _progress_line(done: int, total: int, row: ShotResult) -> str:
    if row.status == FAILED:
        detail = f"error: {row.error}"
    elif row.status == SKIPPED:
        detail = "finished earlier"
    else:
        lufs = f", {row.lufs:.1f} LUFS" if row.lufs is not None else ""
        detail = f"{row.duration:.1f} s, {row.objects} objects{lufs}, in {row.seconds:.1f} s"
    return f"[{done}/{total}] {row.name}: {row.status} ({detail})"


def run_batch(args: argparse.Namespace) -> int:
    from app.cmd_render import session_formats, stem_mode

    start = time.monotonic()
    shots = plan_shots(args.shots)
    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers must be at least 1, got {args.workers}")
    if args.ray is not None:
        ray_module()
        check_reachable(args.ray)
    session_formats(args.session)
    stem_mode(args.stems)
    options = render_options(args)
    out = check_batch_outdir(args.output)
    rows: dict[str, ShotResult] = {}
    todo: list[Shot] = []
    for shot in shots:
        previous = previous_result(shot, out / shot.name, force=args.force)
        if previous is None:
            todo.append(shot)
        else:
            rows[shot.name] = previous

    def finished(row: ShotResult) -> None:
        rows[row.name] = row
        sys.stderr.write(_progress_line(len(rows), len(shots), row) + "\n")
        sys.stderr.flush()

    with claim_outdir(out):          # a second batch into OUTDIR fails at once
        created = not out.exists()
        out.mkdir(exist_ok=True)
        for i, row in enumerate(rows.values(), start=1):
            sys.stderr.write(_progress_line(i, len(shots), row) + "\n")
        try:
            if todo and args.ray is not None:
                run_ray(todo, str(out), options, address=args.ray, num_cpus=args.workers,
                        on_done=finished)
            elif todo:
                workers = args.workers or max(1, min(cpu_count(), len(todo)))
                run_pool(todo, str(out), options, workers=min(workers, len(todo)),
                         on_done=finished)
        except InputError:            # e.g. the Ray cluster refused us: leave no empty OUTDIR
            if created and not any(out.iterdir()):
                out.rmdir()
            raise
        ordered = [rows[shot.name] for shot in shots]
        elapsed = time.monotonic() - start
        text = summary_text(ordered, total_seconds=elapsed)
        atomic_write_text(out / "summary.csv", summary_csv(ordered))
        atomic_write_text(out / "summary.txt", text)
    sys.stdout.write(text)
    sys.stderr.write(f"{totals(ordered, total_seconds=elapsed)} -> {out}\n")
    return 1 if any(r.status == FAILED for r in ordered) else 0
