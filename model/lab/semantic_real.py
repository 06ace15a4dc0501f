"""Semantic agreement on real clips whose true classes are known: recognized labels against
today's box-shape labels (the `--semantic` part of `stereofoley eval`).

On synthetic clips the recognizer sees coloured boxes, so whether recognition makes the sound
match the picture can only be measured on real footage. A clip's truth is a small file beside
nothing in particular (the videos may live in a cache outside the repository), named after the
video's stem, giving the classes of what MOVES in it:

    {"schema": "stereofoley.true-classes/1",
     "video": "vtest.avi",                 the video's file name (found beside this file, else
                                           in the search folders: assets/clips, the clip cache)
     "classes": ["person"],                what moves (COCO-style; each must have expected
                                           AudioSet classes in model.lab.semantic_agreement)
     "source": "...", "note": "..."}       optional

Each clip is analysed and rendered the way `stereofoley render` does it, twice: with the object
recognizer (labels are recognized classes) and with `--no-recognize` (labels from box shapes:
walker, vehicle, ball, object ...). Every audible object stem, except ambience beds, is scored on:

- recipe match: the sound recipe the render chose for it (`chosen["recipe"]` of
  model.foley.choose.describe_plan) is the recipe of one of the clip's true classes
  (model.foley.recipes.CLASS_RECIPES): person -> "person", sports ball -> "sports ball" ...
- YAMNet agreement with the TRUE class (model.lab.semantic_agreement.agreement, scored against
  each true class, the best kept): the share of the stem's audible 0.48 s patches whose top-5
  AudioSet classes include a class that the true object makes. The object's own label is not
  used, so a ball labelled "vehicle" that gets an engine scores low.

A clip's truth is per clip, not per track: on vtest.avi every moving thing is a person, so every
stem is scored against "person"; on cup.mp4 both the cup and the hands that move it are true.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from video.base.errors import InputError
from video.base.progress import ProgressFn, report, scaled
from video.base.tracks import Analysis

SCHEMA = "stereofoley.true-classes/1"
SUFFIX = ".classes.json"
CONDITIONS = ("recognized classes", "box-shape labels (--no-recognize)")
AMBIENCE = "ambience"
SILENT_DBFS = -70.0   # a stem whose peak is below this has no sound to score


@dataclass(frozen=True)
class TrueClasses:
    """A real clip and the classes of what moves in it."""

    video: Path
    classes: tuple[str, ...]
    source: str = ""
    note: str = ""

    @property
    def name(self) -> str:
        return self.video.name


def default_search() -> tuple[Path, ...]:
    """Where videos named by truth files are looked for after their own folder: the bundled
    clips, then the clip cache that scripts/fetch_clips.sh fills, then its `torchvision`
    folder (scripts/fetch_torchvision_clips.sh)."""
    cache = os.environ.get("STEREOFOLEY_CLIPS") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "stereofoley" / "clips")
    return (Path(__file__).resolve().parents[2] / "assets" / "clips", Path(cache),
            Path(cache) / "torchvision")


def load_true_classes(path: str | Path, *, search: Sequence[str | Path] = ()) -> TrueClasses:
    """Read and check a true-classes file; its video is looked for beside it, then in each
    folder of `search` in order. InputError (one line, naming the file) on any problem."""
    from model.lab.real_eval import read_clip_file
    from model.lab.semantic_agreement import expected_classes, visual_class

    path = Path(path)
    data, video = read_clip_file(path, schema=SCHEMA, what="a true-classes",
                                 search=[Path(f) for f in search])
    raw = data.get("classes")
    if not isinstance(raw, list) or not raw or not all(isinstance(c, str) for c in raw):
        raise InputError(f"{path}: 'classes' must be a non-empty list of class names")
    classes = tuple(dict.fromkeys(visual_class(c) for c in raw))
    unscored = [c for c in classes if not expected_classes(c)]
    if unscored:
        raise InputError(f"{path}: no expected sounds are known for class(es) {unscored}")
    return TrueClasses(video=video, classes=classes, source=str(data.get("source", "")),
                       note=str(data.get("note", "")))


def find_true_classes(folders: Sequence[str | Path], *,
                      search: Sequence[str | Path] = ()) -> list[TrueClasses]:
    """Every true-classes file (`*.classes.json`) in `folders`, in folder then name order."""
    out: list[TrueClasses] = []
    for folder in map(Path, folders):
        if not folder.is_dir():
            raise InputError(f"{folder} is not a folder")
        out.extend(load_true_classes(p, search=search) for p in sorted(folder.glob(f"*{SUFFIX}")))
    return out


# ------------------------------------------------------------------ scoring one render


@dataclass(frozen=True)
class StemScore:
    """One object stem of one render against its clip's true classes."""

    object_id: int
    label: str          # the track's label in that render
    recipe: str         # the recipe the render chose ("motion" when none applied)
    matches: bool       # the recipe is a true class's recipe
    agreement: float    # YAMNet agreement with the best-fitting true class (NaN: not audible)


def true_recipes(classes: Sequence[str]) -> frozenset[str]:
    """The sound recipes of the true classes (model.foley.recipes.CLASS_RECIPES)."""
    from model.foley.recipes import CLASS_RECIPES, visual_class

    return frozenset(CLASS_RECIPES[visual_class(c)] for c in classes
                     if visual_class(c) in CLASS_RECIPES)


def true_agreement(scores: Any, classes: Sequence[str]) -> float:
    """YAMNet agreement of scored audio (model.lab.yamnet.ClassScores) with the true class it
    fits best; NaN when it has no audible patch."""
    from model.lab.semantic_agreement import agreement

    fractions = []
    for name in classes:
        result = agreement(scores, name)
        if result is not None and result.patches:
            fractions.append(result.fraction)
    return max(fractions) if fractions else math.nan


def peak_dbfs(stem: np.ndarray) -> float:
    peak = float(np.max(np.abs(stem))) if np.size(stem) else 0.0
    return 20.0 * math.log10(peak) if peak > 0 else -math.inf


def score_stems(analysis: Analysis, stems: Mapping[int, np.ndarray],
                chosen: Mapping[int, Mapping[str, Any]], classes: Sequence[str], *,
                sample_rate: int, model: Any = None) -> list[StemScore]:
    """Score each audible object stem (ambience beds left out) of a render against the clip's
    true `classes`. `model`: a loaded YAMNet (model.lab.yamnet), None to load the bundled one;
    False to skip YAMNet (agreement NaN)."""
    from model.lab.yamnet import class_scores

    wanted = true_recipes(classes)
    out = []
    for track in analysis.objects:
        stem = stems.get(track.id)
        if stem is None or track.label == AMBIENCE or peak_dbfs(stem) < SILENT_DBFS:
            continue
        recipe = str(chosen.get(track.id, {}).get("recipe", "motion"))
        value = (math.nan if model is False else
                 true_agreement(class_scores(stem, sample_rate=sample_rate, model=model), classes))
        out.append(StemScore(object_id=track.id, label=track.label, recipe=recipe,
                             matches=recipe in wanted, agreement=value))
    return out


# ------------------------------------------------------------------ the evaluation


@dataclass(frozen=True)
class ConditionResult:
    """One clip rendered one way: its scored stems and how many ambience beds it had."""

    condition: str
    stems: tuple[StemScore, ...]
    ambience: int

    @property
    def match_share(self) -> float:
        return (sum(s.matches for s in self.stems) / len(self.stems)) if self.stems else math.nan

    @property
    def agreement(self) -> float:
        values = [s.agreement for s in self.stems if math.isfinite(s.agreement)]
        return float(np.mean(values)) if values else math.nan

    def labels(self) -> str:
        """The labels of the scored stems, most common first: "person x12, unknown x2"."""
        counts = Counter(s.label for s in self.stems)
        return ", ".join(f"{k} x{v}" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1],
                                                                                     kv[0])))


@dataclass(frozen=True)
class ClipResult:
    clip: TrueClasses
    results: tuple[ConditionResult, ...]   # one per CONDITIONS, in order


def render_clip(video: Path, *, recognize: bool, seed: int,
                checkpoint: str | Path | None = None, progress: ProgressFn | None = None) -> tuple[Analysis, Any]:
    """Analyse (learned events, as `stereofoley render` does) and render `video` with the bundled
    sound bank and no prompt; recognition on or off. Returns the analysis and the RenderResult."""
    from audio.library import SoundLibrary
    from model.detector.event_detection import analyze_with_events
    from model.foley.render import render_scene
    from model.foley.scene import ObjectSound, RenderSettings
    from video.analyze import AnalysisConfig
    from video.recognize import RecognizeConfig

    config = AnalysisConfig(recognize=RecognizeConfig(enabled=recognize))
    analysis = analyze_with_events(video, config=config, detector="learned",
                                   checkpoint=checkpoint, progress=scaled(progress, 0.0, 0.6))
    objects = [ObjectSound(id=t.id) for t in analysis.objects]
    result = render_scene(analysis, objects, RenderSettings(seed=seed),
                          library=SoundLibrary.open([]), progress=scaled(progress, 0.6, 1.0))
    return analysis, result


def evaluate_semantic(clips: Sequence[TrueClasses], *, seed: int = 0, yamnet: bool = True,
                      checkpoint: str | Path | None = None, progress: ProgressFn | None = None) -> list[ClipResult]:
    """Each clip analysed and rendered with recognition and without (CONDITIONS), every stem
    scored against the clip's true classes (`yamnet` False: recipe match only)."""
    from video.base.timebase import SAMPLE_RATE

    model: Any = False
    if yamnet:
        from model.lab.yamnet import installed_model

        model = installed_model()
    out = []
    for i, clip in enumerate(clips):
        results = []
        for j, condition in enumerate(CONDITIONS):
            sub = scaled(progress, (2 * i + j) / (2 * len(clips)),
                         (2 * i + j + 1) / (2 * len(clips)))
            analysis, rendered = render_clip(clip.video, recognize=(j == 0), seed=seed + i,
                                             checkpoint=checkpoint, progress=sub)
            stems = score_stems(analysis, rendered.stems, rendered.chosen, clip.classes,
                                sample_rate=SAMPLE_RATE, model=model)
            beds = sum(t.label == AMBIENCE for t in analysis.objects)
            results.append(ConditionResult(condition=condition, stems=tuple(stems), ambience=beds))
            report(sub, 1.0, f"{clip.name}: {condition} scored")
        out.append(ClipResult(clip=clip, results=tuple(results)))
    return out


def _mean(values: Sequence[float]) -> float:
    """Mean of the finite values (NaN when none is): each clip counts once."""
    finite = [v for v in values if math.isfinite(v)]
    return float(np.mean(finite)) if finite else math.nan


def _n(value: float, fmt: str = ".2f") -> str:
    return "n/a" if not math.isfinite(value) else format(value, fmt)


def pooled(clips: Sequence[ClipResult], condition: str) -> ConditionResult:
    """All clips' stems of one condition together."""
    parts = [r for c in clips for r in c.results if r.condition == condition]
    return ConditionResult(condition=condition,
                           stems=tuple(s for r in parts for s in r.stems),
                           ambience=sum(r.ambience for r in parts))


def semantic_markdown(clips: Sequence[ClipResult], *, yamnet: bool = True) -> str:
    """The per-clip table, then the pooled one: every stem of every clip counted once, and the
    per-clip values averaged (each clip counted once: a long clip with many stems does not
    outweigh the short ones)."""
    agree = " YAMNet agreement with the true class |" if yamnet else ""
    head = ("| clip | true classes | labels | stems | ambience beds | recipe = true class |"
            + agree + " stem labels |\n|---|---|---|---|---|---|" + ("---|" if yamnet else "")
            + "---|\n")
    rows = []
    for c in clips:
        for r in c.results:
            rows.append(f"| {c.clip.name} | {', '.join(c.clip.classes)} | {r.condition} "
                        f"| {len(r.stems)} | {r.ambience} | {_n(r.match_share)} |"
                        + (f" {_n(r.agreement)} |" if yamnet else "")
                        + f" {r.labels() or '-'} |\n")
    total_head = ("| labels | stems | recipe = true class |" + agree
                  + " clips' mean: recipe = true class |"
                  + (" clips' mean: YAMNet agreement |" if yamnet else "") + "\n|---|---|---|"
                  + ("---|---|---|" if yamnet else "---|") + "\n")
    totals = []
    for condition in CONDITIONS:
        p = pooled(clips, condition)
        each = [r for c in clips for r in c.results if r.condition == condition]
        totals.append(f"| {condition} | {len(p.stems)} | {_n(p.match_share)} |"
                      + (f" {_n(p.agreement)} |" if yamnet else "")
                      + f" {_n(_mean([r.match_share for r in each]))} |"
                      + (f" {_n(_mean([r.agreement for r in each]))} |" if yamnet else "")
                      + "\n")
    return head + "".join(rows) + "\nAll clips' stems pooled:\n\n" + total_head + "".join(totals)


def semantic_document(clips: Sequence[ClipResult], command: str, *, note: str = "") -> str:
    """What `stereofoley eval --semantic DIR` prints and writes."""
    truth = "".join(f"- `{c.clip.name}`: {', '.join(c.clip.classes)}"
                    + (f" ({c.clip.note})" if c.clip.note else "") + "\n" for c in clips)
    return (f"# Semantic agreement on real clips: recognized classes against box-shape labels\n\n"
            f"Regenerate with:\n\n    {command}\n\n" + (f"{note}\n\n" if note else "")
            + f"True classes (what moves):\n\n{truth}\n"
            + semantic_markdown(clips, yamnet=not note))
