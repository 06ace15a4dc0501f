"""Deterministic synthetic dataset: clips with true tracks/events, their REAL analysis, and
object-aware stereo ground-truth audio.

For each clip (seeded from the dataset seed), video/synth.py draws a random scene (shapes,
textures, speeds, bounces, walkers, approaching/receding objects, occlusions) and writes it with
its true Analysis; video/analyze.py analyses the written file exactly as it would a user's video, so
the analysed tracks carry real tracker noise; analysed tracks are matched to true tracks by IoU;
and, unless disabled, the TRUE tracks are rendered through model/foley/render.py (spatializer included)
to per-object stereo stems plus a mix: what an object-aware system should ideally produce.

    python -m model.lab.dataset --out DIR --clips N --seed S [--no-audio]

DIR/manifest.json lists every clip: its seed, video file, truth and analysed TRACKS documents, the
matches (analysed id, true id, IoU) and the audio paths. The folder is built under a temporary name
and renamed when complete, so an interrupted run leaves nothing half-written.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from model.lab.command import run_with_bar
from video.base.atomic import atomic_write_text
from video.base.errors import InputError
from video.base.progress import ProgressFn, report, scaled
from video.base.timebase import SAMPLE_RATE, format_fps
from video.base.tracks import Analysis, Track

if TYPE_CHECKING:
    from model.foley.render import RenderResult

DATASET_SCHEMA = "stereofoley.dataset/1"
SIZES = ((320, 180), (384, 216), (480, 270))
FRAME_RATES = (Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(30))


@dataclass(frozen=True)
class DatasetConfig:
    """Clip geometry is drawn per clip from `sizes` x `frame_rates`; durations in seconds."""

    sizes: tuple[tuple[int, int], ...] = SIZES
    frame_rates: tuple[Fraction, ...] = FRAME_RATES
    min_duration: float = 3.0
    max_duration: float = 5.0
    audio: bool = True
    min_iou: float = 0.3
    # share of clips in slow motion (tempo drawn from slow_tempo): footage shot at a high frame
    # rate and shown at the normal one, where contacts are far apart and gentle per frame
    slow_share: float = 0.3
    slow_tempo: tuple[float, float] = (0.15, 0.6)

    def __post_init__(self) -> None:
        if not 0.0 <= self.slow_share <= 1.0:
            raise InputError(f"slow-motion share must be between 0 and 1, got {self.slow_share}")
        if not 0.0 < self.slow_tempo[0] <= self.slow_tempo[1] <= 1.0:
            raise InputError(f"slow-motion tempo range must lie in (0, 1], got {self.slow_tempo}")


@dataclass(frozen=True)
class ClipPlan:
    """One clip's seed and geometry, all drawn from the dataset seed."""

    name: str
    seed: int
    width: int
    height: int
    fps: Fraction
    duration: float
    tempo: float = 1.0


def plan_clips(clips: int, seed: int, config: DatasetConfig = DatasetConfig()) -> list[ClipPlan]:
    """The clip list of a dataset: same (clips, seed, config) -> same plans, always."""
    if clips < 1:
        raise InputError(f"--clips must be at least 1, got {clips}")
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5F0E]))
    # tempo from its own stream: the clips' seeds and geometry do not depend on the slow share
    tempo_rng = np.random.default_rng(np.random.SeedSequence([seed, 0x7E4D0]))
    plans = []
    for i in range(clips):
        w, h = config.sizes[int(rng.integers(len(config.sizes)))]
        fps = config.frame_rates[int(rng.integers(len(config.frame_rates)))]
        duration = round(float(rng.uniform(config.min_duration, config.max_duration)), 2)
        slow = tempo_rng.random() < config.slow_share
        tempo = round(float(tempo_rng.uniform(*config.slow_tempo)), 3)
        plans.append(ClipPlan(name=f"clip_{i:04d}", seed=int(rng.integers(2**31 - 1)), width=w,
                              height=h, fps=fps, duration=duration, tempo=tempo if slow else 1.0))
    return plans


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of matching rows of two (n, 4) box arrays."""
    ix = np.clip(np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]), 0, None)
    iy = np.clip(np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]), 0, None)
    inter = ix * iy
    union = ((a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
             + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) - inter)
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def track_iou(analysed: Track, truth: Track) -> float:
    """Mean IoU over the analysed track's frames (frames where the truth is absent count 0)."""
    if not len(analysed):
        return 0.0
    common, ia, it = np.intersect1d(analysed.frames, truth.frames, return_indices=True)
    if common.size == 0:
        return 0.0
    return float(box_iou(analysed.boxes[ia], truth.boxes[it]).sum() / len(analysed))


def match_tracks(truth: Analysis, analysed: Analysis, *,
                 min_iou: float = 0.3) -> list[tuple[int, int, float]]:
    """One-to-one (analysed id, true id, IoU) pairs maximizing total IoU (Hungarian), keeping
    only pairs with IoU >= min_iou."""
    from scipy.optimize import linear_sum_assignment

    if not truth.objects or not analysed.objects:
        return []
    scores = np.array([[track_iou(a, t) for t in truth.objects] for a in analysed.objects])
    rows, cols = linear_sum_assignment(-scores)
    return sorted((analysed.objects[r].id, truth.objects[c].id, round(float(scores[r, c]), 4))
                  for r, c in zip(rows, cols, strict=True) if scores[r, c] >= min_iou)


def write_json_atomic(path: str | os.PathLike[str], data: Any) -> None:
    """Write JSON so readers see the old file or the new one, never half of one."""
    atomic_write_text(path, json.dumps(data, indent=1))


def write_wav(path: Path, audio: np.ndarray) -> None:
    """A (channels, samples) float array as a 48 kHz 24-bit PCM WAV."""
    import soundfile

    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), np.asarray(audio, dtype=np.float32).T, SAMPLE_RATE,
                    subtype="PCM_24")


def render_truth_scene(truth: Analysis, *, seed: int,
                       progress: ProgressFn | None = None) -> RenderResult:
    """The true tracks rendered object-aware with no prompt (the renderer picks sounds from
    motion and events): what an object-aware system should ideally produce for the clip."""
    from model.foley.render import render_scene
    from model.foley.scene import ObjectSound, RenderSettings

    objects = [ObjectSound(id=t.id) for t in truth.objects]
    return render_scene(truth, objects, RenderSettings(seed=seed), library=None,
                        progress=progress)


def render_truth(truth: Analysis, folder: Path, *, seed: int,
                 progress: ProgressFn | None = None) -> dict[str, Any]:
    """Render the true tracks object-aware to stems + mix WAVs under `folder` (no prompt: the
    renderer picks sounds from motion and events); returns paths relative to the dataset root."""
    result = render_truth_scene(truth, seed=seed, progress=progress)
    stems = {}
    for track in truth.objects:
        write_wav(folder / f"stem_{track.id}.wav", result.stems[track.id])
        stems[str(track.id)] = f"{folder.name}/stem_{track.id}.wav"
    write_wav(folder / "mix.wav", result.mix)
    return {"mix": f"{folder.name}/mix.wav", "stems": stems}


def build_clip(plan: ClipPlan, root: Path, *, config: DatasetConfig,
               progress: ProgressFn | None = None) -> dict[str, Any]:
    """Write one clip's video (and audio) under `root`; its manifest entry."""
    from video.analyze import analyze_video
    from video.synth import random_scene, write_clip

    spec = random_scene(plan.seed, width=plan.width, height=plan.height, fps=plan.fps,
                        duration=plan.duration, tempo=plan.tempo)
    video_path = root / f"{plan.name}.mp4"
    truth = write_clip(spec, video_path)
    report(progress, 0.2, f"{plan.name}: analysing")
    analysed = analyze_video(str(video_path), progress=scaled(progress, 0.2, 0.7))
    truth = _relative(truth, video_path.name)
    analysed = _relative(analysed, video_path.name)
    entry: dict[str, Any] = {
        "name": plan.name, "seed": plan.seed, "video": video_path.name,
        "width": plan.width, "height": plan.height, "fps": format_fps(plan.fps),
        "duration": plan.duration, "tempo": plan.tempo,
        "truth": truth.to_dict(), "analysed": analysed.to_dict(),
        "matches": [list(m) for m in match_tracks(truth, analysed, min_iou=config.min_iou)],
    }
    if config.audio:
        report(progress, 0.7, f"{plan.name}: rendering truth audio")
        entry["audio"] = render_truth(truth, root / plan.name, seed=plan.seed,
                                      progress=scaled(progress, 0.7, 1.0))
    report(progress, 1.0, plan.name)
    return entry


def _relative(analysis: Analysis, name: str) -> Analysis:
    """The analysis with its video path made relative to the dataset folder."""
    return replace(analysis, video=replace(analysis.video, path=name))


def build_dataset(out: str | os.PathLike[str], *, clips: int, seed: int,
                  config: DatasetConfig = DatasetConfig(),
                  progress: ProgressFn | None = None) -> Path:
    """Generate the whole dataset into `out` (which must not exist or be empty); returns the
    manifest path. Built in a sibling temporary folder and renamed at the end."""
    target = Path(out)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InputError(f"output {target} already exists and is not an empty folder")
    plans = plan_clips(clips, seed, config)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        entries = []
        for i, plan in enumerate(plans):
            entries.append(build_clip(plan, work, config=config,
                                      progress=scaled(progress, i / clips, (i + 1) / clips)))
        manifest = {"schema": DATASET_SCHEMA, "seed": seed, "clips": entries,
                    "config": _config_dict(config)}
        write_json_atomic(work / "manifest.json", manifest)
        if target.exists():
            target.rmdir()
        os.replace(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return target / "manifest.json"


def _config_dict(config: DatasetConfig) -> dict[str, Any]:
    data = asdict(config)
    data["frame_rates"] = [format_fps(f) for f in config.frame_rates]
    return data


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model.lab.dataset", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="dataset folder to create")
    parser.add_argument("--clips", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-audio", action="store_true",
                        help="skip the ground-truth audio (enough for training the detector)")
    parser.add_argument("--slow-share", type=float, default=DatasetConfig.slow_share,
                        help="share of clips in slow motion (default "
                             f"{DatasetConfig.slow_share}); 0 = all real time")
    args = parser.parse_args(argv)
    def work(progress: ProgressFn) -> str:
        config = DatasetConfig(audio=not args.no_audio, slow_share=args.slow_share)
        manifest = build_dataset(args.out, clips=args.clips, seed=args.seed, config=config,
                                 progress=progress)
        return f"{args.clips} clips -> {manifest}"

    return run_with_bar("dataset", work)


if __name__ == "__main__":
    sys.exit(main())
