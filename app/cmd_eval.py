"""`stereofoley eval`: objective metrics (spatial, sync, loudness).

    stereofoley eval --synthetic N [--seed S] [--real-dir DIR | --no-real] [--out docs/EVALUATION.md]
                     [--checkpoint PT]
        baselines vs object-aware rendering, hand-made vs learned events, on N held-out
        synthetic clips and on the real clips with hand-marked events in DIR (default: the
        bundled assets/clips); prints the tables and, with --out, writes the evaluation document.
    stereofoley eval --real DIR [--out REPORT.md] [--checkpoint PT] [--seed S]
        the same on the marked real clips in DIR only (VIDEO + VIDEO-stem.events.json pairs),
        and sync against their own audio on the clips with VIDEO-stem.audio-truth.json
        (model.lab.audio_truth; docs/FORMATS.md).
    stereofoley eval --semantic DIR [--out REPORT.md] [--seed S] [--checkpoint PT]
        the real clips named by DIR/*.classes.json (their true classes; docs/FORMATS.md), each
        rendered with the object recognizer and with box-shape labels (--no-recognize): per
        stem, whether the chosen recipe and the YAMNet-heard sound match the true class
        (model.lab.semantic_real).
    stereofoley eval --render-dir OUTDIR [--video V] [--out METRICS.txt]
        metrics of an existing render (its stems and mix) against its project.json.

Bad arguments or files: one `error:` line on stderr and exit status 2; --out is written atomically.
"""

from __future__ import annotations

import argparse
import shlex
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from app.project import atomic_write_text, load_project
from video.base.errors import InputError
from video.base.progress import ProgressBar, scaled

if TYPE_CHECKING:
    from model.lab.real_eval import MarkedClip

MAX_CLIPS = 1000
BUNDLED_REAL_DIR = Path(__file__).resolve().parent.parent / "assets" / "clips"


def run_eval(opts: argparse.Namespace) -> int:
    """Entry point from app.cli, with the `eval` arguments it parsed."""
    if opts.out is not None and Path(opts.out).is_dir():
        raise InputError(f"--out {opts.out} is a directory")
    if opts.real_dir is not None and opts.no_real:
        raise InputError("--real-dir and --no-real contradict each other")
    if (opts.real_dir is not None or opts.no_real) and opts.synthetic is None:
        raise InputError("--real-dir and --no-real go with --synthetic")
    if opts.synthetic is not None:
        return _run_synthetic(opts)
    if opts.real is not None:
        return _run_real(opts)
    if opts.semantic is not None:
        return _run_semantic(opts)
    return _run_render_dir(opts)


def _command(mode: list[str], opts: argparse.Namespace) -> str:
    """The command line that regenerates this report: `mode`'s arguments, then --out and
    --checkpoint when given."""
    extra = (["--out", opts.out] if opts.out else []) + \
        (["--checkpoint", opts.checkpoint] if opts.checkpoint else [])
    return "stereofoley eval " + " ".join(shlex.quote(a) for a in mode + extra)


def _marked_clips(folder: str) -> list[MarkedClip]:
    """The marked clips in `folder`; an InputError when there are none."""
    from model.lab.real_eval import find_marked_clips

    clips = find_marked_clips(folder)
    if not clips:
        raise InputError(f"no marked clips (*.events.json beside their videos) in {folder}")
    return clips


def _check_yamnet() -> None:
    """A corrupt YAMNet install fails now, as one error line (a missing one only drops the
    YAMNet-agreement column, with a line in the report saying why)."""
    from model.lab.semantic_agreement import yamnet_note

    yamnet_note()


def _run_real(opts: argparse.Namespace) -> int:
    from model.detector.learned_events import load_event_model
    from model.lab.audio_truth import (
        audio_truth_markdown,
        evaluate_audio_truth,
        find_audio_truth_clips,
    )
    from model.lab.real_eval import evaluate_real, find_marked_clips, real_document

    if opts.video is not None:
        raise InputError("--video goes with --render-dir, not --real")
    clips = find_marked_clips(opts.real)
    heard = find_audio_truth_clips(opts.real)
    if not clips and not heard:
        raise InputError(f"no marked clips (*.events.json) or audio-truth clips "
                         f"(*.audio-truth.json) beside their videos in {opts.real}")
    load_event_model(opts.checkpoint)
    if clips:
        _check_yamnet()
    command = _command(["--real", opts.real] + (["--seed", str(opts.seed)] if heard else []),
                       opts)
    bar = ProgressBar("eval")
    share = len(clips) / (len(clips) + len(heard))
    try:
        real = (evaluate_real(clips, folder=opts.real, checkpoint=opts.checkpoint,
                              progress=scaled(bar, 0.0, share)) if clips else None)
        rows = (evaluate_audio_truth(heard, checkpoint=opts.checkpoint, seed=opts.seed,
                                     progress=scaled(bar, share, 1.0)) if heard else ())
    finally:
        bar.close()
    if real is not None:
        text = real_document(real, command)
        if rows:
            text += "\n" + audio_truth_markdown(rows, opts.real)
    else:
        text = (f"# Evaluation on real clips with their own audio\n\nRegenerate with:\n\n"
                f"    {command}\n\n{audio_truth_markdown(rows, opts.real)}")
    print(text)
    if opts.out:
        atomic_write_text(opts.out, text)
        print(f"-> {opts.out}")
    return 0


def _run_semantic(opts: argparse.Namespace) -> int:
    from model.detector.learned_events import load_event_model
    from model.lab.semantic_agreement import yamnet_note
    from model.lab.semantic_real import (
        default_search,
        evaluate_semantic,
        find_true_classes,
        semantic_document,
    )

    if opts.video is not None:
        raise InputError("--video goes with --render-dir, not --semantic")
    clips = find_true_classes([opts.semantic], search=default_search())
    if not clips:
        raise InputError(f"no true-classes files (*.classes.json) in {opts.semantic}")
    load_event_model(opts.checkpoint)
    note = yamnet_note()  # a corrupt YAMNet fails now; a missing one drops its column
    command = _command(["--semantic", opts.semantic, "--seed", str(opts.seed)], opts)
    bar = ProgressBar("eval")
    try:
        results = evaluate_semantic(clips, seed=opts.seed, yamnet=not note,
                                    checkpoint=opts.checkpoint, progress=bar)
    finally:
        bar.close()
    text = semantic_document(results, command, note=note)
    print(text)
    if opts.out:
        atomic_write_text(opts.out, text)
        print(f"-> {opts.out}")
    return 0


def _run_synthetic(opts: argparse.Namespace) -> int:
    from model.detector.learned_events import load_event_model
    from model.lab.evaluate import evaluate_synthetic, evaluation_document, report_markdown

    if not 1 <= opts.synthetic <= MAX_CLIPS:
        raise InputError(f"--synthetic must be between 1 and {MAX_CLIPS}, got {opts.synthetic}")
    if opts.video is not None:
        raise InputError("--video goes with --render-dir, not --synthetic")
    load_event_model(opts.checkpoint)  # a bad checkpoint fails now, not after minutes of work
    _check_yamnet()
    real_dir = None if opts.no_real else (opts.real_dir or str(BUNDLED_REAL_DIR))
    clips = _marked_clips(real_dir) if real_dir is not None else []
    command = _command(["--synthetic", str(opts.synthetic), "--seed", str(opts.seed)]
                       + (["--real-dir", opts.real_dir] if opts.real_dir else [])
                       + (["--no-real"] if opts.no_real else []), opts)
    bar = ProgressBar("eval")
    start = time.monotonic()
    share = opts.synthetic / (opts.synthetic + 2.0 * len(clips))  # a real clip ~ 2 synthetic
    try:
        report = evaluate_synthetic(opts.synthetic, opts.seed, checkpoint=opts.checkpoint,
                                    progress=scaled(bar, 0.0, share))
        if clips:
            from dataclasses import replace

            from model.lab.real_eval import evaluate_real

            shown = opts.real_dir or "assets/clips"
            report = replace(report, real=evaluate_real(
                clips, folder=shown, checkpoint=opts.checkpoint, progress=scaled(bar, share, 1.0)))
    finally:
        bar.close()
    seconds = time.monotonic() - start
    print(report_markdown(report, command))
    if opts.out:
        atomic_write_text(opts.out, evaluation_document(report, command, seconds=seconds,
                                                          checkpoint=opts.checkpoint))
        print(f"-> {opts.out}")
    return 0


def _read_stereo(path: Path) -> np.ndarray:
    import soundfile

    if not path.is_file():
        raise InputError(f"missing audio file {path}")
    try:
        data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, soundfile.LibsndfileError) as exc:
        raise InputError(f"{path} is not a readable WAV file") from exc
    if rate != 48_000:
        raise InputError(f"{path} is {rate} Hz, expected 48000")
    return np.ascontiguousarray(data.T)


def _run_render_dir(opts: argparse.Namespace) -> int:
    from model.lab.evaluate import evaluate_render, render_metrics_text

    folder = Path(opts.render_dir)
    if not folder.is_dir():
        raise InputError(f"render folder not found: {folder}")
    project = load_project(folder / "project.json")
    if opts.video is not None:
        _check_video(Path(opts.video), project.analysis.video.frames)
    stems = {}
    for obj in project.objects:
        if obj.stem:
            stems[obj.id] = _read_stereo(folder / obj.stem)
    mix = _read_stereo(folder / "mix.wav")
    text = render_metrics_text(evaluate_render(project.analysis, stems, mix))
    print(text)
    if opts.out:
        atomic_write_text(opts.out, text + "\n")
    return 0


def _check_video(path: Path, frames: int) -> None:
    from video.reader import probe_video

    info = probe_video(path)
    if abs(info.frames - frames) > 1:
        raise InputError(f"{path} has {info.frames} frames but the render's project has {frames}")
