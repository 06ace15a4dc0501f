"""`stereofoley render VIDEO -o OUTDIR [--project P] [--prompt ID=TEXT ...] [--label ID=CLASS ...]
[--no-recognize] [--seed N] [--stems objects|groups|both] ...`.

Analysis (or the project's), prompts applied, foley rendered with a progress bar, then OUTDIR
written atomically by app.export. Everything the user typed is checked before the long work
starts, so bad input fails fast with one `error:` line and leaves nothing behind.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from app.export import render_and_export
from app.outdir import check_outdir, claim_outdir
from app.project import Project, load_project
from app.report import short_of_target
from model.foley.render import RenderResult
from model.foley.scene import ObjectSound
from video.base.errors import InputError, VideoError
from video.base.progress import ProgressBar, ProgressFn, scaled, warn_line
from video.base.tracks import Analysis


def _id_values(items: Sequence[str], option: str, value: str) -> dict[int, str]:
    """`["3=a b", "1=c"]` -> {3: "a b", 1: "c"} for an `option ID=VALUE` given several times;
    a missing '=', a non-integer id or an id given twice is an InputError."""
    values: dict[int, str] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep:
            raise InputError(f"{option} must look like ID={value}, got {item!r}")
        try:
            object_id = int(key.strip())
        except ValueError:
            raise InputError(f"{option} needs an integer object id before '=', got {key!r}") from None
        if object_id in values:
            raise InputError(f"{option} given twice for object {object_id}")
        values[object_id] = text.strip()
    return values


def _check_ids(option: str, given: Iterable[int], known: Iterable[int]) -> None:
    """An id given with `option` that is not an object of the analysis is an InputError."""
    known = set(known)
    unknown = sorted(set(given) - known)
    if unknown:
        ids = ", ".join(str(i) for i in sorted(known)) or "none"
        raise InputError(f"{option} for unknown object id {unknown[0]} (objects: {ids})")


def parse_prompts(items: Sequence[str]) -> dict[int, str]:
    """`["3=metal clang", "1=footsteps"]` -> {3: "metal clang", 1: "footsteps"}."""
    return _id_values(items, "--prompt", "TEXT")


def apply_prompts(objects: Sequence[ObjectSound], prompts: dict[int, str]) -> list[ObjectSound]:
    """Objects with their prompts replaced; an id not in the analysis is an InputError."""
    _check_ids("--prompt", prompts, (o.id for o in objects))
    return [replace(o, prompt=prompts[o.id]) if o.id in prompts else o for o in objects]


def parse_labels(items: Sequence[str]) -> dict[int, str]:
    """`["3=car", "1=Sports_Ball"]` -> {3: "car", 1: "sports ball"}: COCO-style class names
    (video.recognize.CLASS_NAMES, case and underscores forgiven); anything else is an
    InputError."""
    from video.recognize import check_class

    labels = _id_values(items, "--label", "CLASS")
    for object_id, name in labels.items():
        try:
            labels[object_id] = check_class(name)
        except ValueError as exc:
            raise InputError(f"--label {object_id}={name}: {exc}") from None
    return labels


def apply_labels(analysis: Analysis, labels: dict[int, str]) -> Analysis:
    """The analysis with those objects' classes set by the user (extra "label_source": "user",
    so a later relabelling keeps them); an id not in the analysis is an InputError."""
    _check_ids("--label", labels, (t.id for t in analysis.objects))
    return analysis.with_objects(
        t.with_changes(label=labels[t.id], extra={**t.extra, "label_source": "user"})
        if t.id in labels else t for t in analysis.objects)


def session_formats(text: str | None) -> tuple[str, ...]:
    """--session's comma list (None: not given, no sessions); unknown names are an
    InputError."""
    from app.daw.session import parse_session_formats

    if text is None:
        return ()
    try:
        return parse_session_formats(text)
    except ValueError as exc:
        raise InputError(f"--session: {exc}") from None


def stem_mode(text: str) -> str:
    """--stems' value (objects, groups, both); anything else is an InputError."""
    from app.stem_groups import parse_stem_mode

    try:
        return parse_stem_mode(text)
    except ValueError as exc:
        raise InputError(f"--stems: {exc}") from None


def _library_dirs(items: Sequence[str]) -> tuple[str, ...]:
    for item in items:
        if not Path(item).is_dir():
            raise InputError(f"--library {item} is not a folder")
    return tuple(str(Path(item).resolve()) for item in items)


def _check_video(video: Path, project: Project | None) -> None:
    """The video must be readable before any progress is shown (so bad input stays one
    `error:` line); with --project it is not analysed again, but it must be as long as the
    project's analysis says (else the stems would not line up with it)."""
    from video.reader import probe_video

    info = probe_video(video)
    if project is None:
        return
    expected = project.analysis.video.duration
    if abs(info.duration - expected) > max(0.5, 2.0 / float(info.fps)):
        raise InputError(f"{video} lasts {info.duration:.2f} s but the project's analysis "
                         f"describes {expected:.2f} s: is it the project's video?")


def run_render(args: argparse.Namespace) -> int:
    video = Path(args.video)
    if video.is_dir():
        raise VideoError(f"{video} is a folder, not a video file")
    if not video.is_file():
        raise VideoError(f"video file not found: {video}")
    session_formats(args.session)       # bad names fail before OUTDIR is touched
    stem_mode(args.stems)
    out = check_outdir(args.output, force=args.force)
    with claim_outdir(out):  # held from the start: a second render into OUTDIR fails at once
        return _render_into(args, video, out)


def _render_into(args: argparse.Namespace, video: Path, out: Path) -> int:
    """run_render's work once OUTDIR is checked and claimed."""
    bar = ProgressBar("render")
    try:
        project, result = render_claimed(args, video, out, progress=bar, warn=warn_line)
    finally:
        bar.close()
    lufs = result.master.get("lufs_after")
    level = f", mix at {lufs:.1f} LUFS" if isinstance(lufs, int | float) else ""
    short = short_of_target(result.master)
    if short is not None:
        level += f" ({short:.1f} LU under the target: its hits allow no more limiting)"
    if args.stems.strip().lower() == "objects":
        print(f"{len(project.objects)} stems + mix{level} -> {out}")
    else:
        n_objects = len(list((out / "stems").glob("*.wav")))
        n_groups = len(list((out / "groups").glob("*.wav")))
        print(f"{n_objects} object stems + {n_groups} group stems + mix{level} -> {out}")
    return 0


def render_claimed(args: argparse.Namespace, video: Path, out: Path, *,
                   progress: ProgressFn | None, warn: Callable[[str], None] | None
                   ) -> tuple[Project, RenderResult]:
    """Analyse (or load the project), apply the options in `args` (render's namespace) and
    render + export into OUTDIR, which the caller has checked and claimed: the whole of one
    `render`, shared with `batch` (app.batch), whose workers report progress their own way.
    Returns the project as rendered and the render's result."""
    prompts = parse_prompts(args.prompt)
    labels = parse_labels(args.label)
    drawn = []
    if getattr(args, "track", None):   # batch's namespace has no --track
        from app.drawn import drawn_boxes

        drawn = drawn_boxes(args.track, video)
    libraries = _library_dirs(args.library)
    project = load_project(args.project) if args.project else None
    _check_video(video, project)
    if project is None:
        from app.cmd_analyze import analysis_config
        from model.detector.event_detection import analyze_with_events

        config = analysis_config(args)
        project = Project(analysis=analyze_with_events(
            video, config=config, detector=args.events,
            progress=scaled(progress, 0.0, 0.35 if drawn else 0.4), warn=warn))
    project.analysis = replace(project.analysis, video=replace(project.analysis.video,
                                                            path=str(video.resolve())))
    if drawn:
        from app.drawn import add_drawn
        from video.hand_contacts import HandContactConfig

        project.analysis = add_drawn(video, project.analysis, drawn,
                                     hands=HandContactConfig(enabled=not args.no_hands),
                                     progress=scaled(progress, 0.35, 0.4), warn=warn)
        project.sync_objects()
    project.analysis = apply_labels(project.analysis, labels)
    project.objects = apply_prompts(project.objects, prompts)
    settings = project.render
    if args.seed is not None:
        settings = replace(settings, seed=args.seed)
    settings = replace(settings, libraries=tuple(dict.fromkeys(settings.libraries + libraries)))
    project.render = settings
    _, result = render_and_export(out, project, force=args.force,
                                  review_video=video if args.review_video else None,
                                  progress=scaled(progress, 0.4, 1.0), warn=warn,
                                  sessions=session_formats(args.session),
                                  dry_stems=args.dry_stems, stems=stem_mode(args.stems))
    return project, result
