"""Impact and step F1 of the two event detectors and of two ways of combining them.

- motion: the hand-made detector (video.events), as analysis found them;
- learned: the learned detector (model.detector) for impacts and steps, motion for the rest;
- union: both detectors' impacts and steps, a second one within a frame of the first dropped;
- fallback: per track and kind, the learned events, or the motion ones where it finds none.

Scored on the evaluation's held-out synthetic clips (matched tracks, within one frame, as
`stereofoley eval --synthetic`) and on the hand-marked real clips of assets/clips (as
`stereofoley eval --real`). Analyses of the synthetic clips are kept in --cache.

    python scripts/compare_event_detectors.py [--clips 30] [--seed 1000] [--cache DIR]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from model.detector.learned_events import EventModel, detect_events_model, load_event_model
from model.lab.dataset import DatasetConfig, build_clip, plan_clips
from model.lab.evaluate import detector_parts
from model.lab.metrics import pool_scores
from model.lab.real_eval import find_marked_clips, score_marked_detections
from video.analyze import analyze_video
from video.base.tracks import Analysis, Event
from video.gravity import picture_turn, turned

KINDS = frozenset({"impact", "step"})
NAMES = ("motion", "learned", "union", "fallback")
REPO = Path(__file__).resolve().parents[1]


def _first_of_each(events: Iterable[Event], tolerance: float) -> tuple[Event, ...]:
    """Events in time order without a second one of the same kind within `tolerance`."""
    kept: list[Event] = []
    for event in sorted(events, key=lambda e: e.time):
        if not any(k.kind == event.kind and event.time - k.time <= tolerance for k in kept):
            kept.append(event)
    return tuple(kept)


def variants(analysis: Analysis, model: EventModel) -> dict[str, Analysis]:
    """The analysis with each combination's events."""
    tolerance = 1.0 / float(analysis.video.fps)
    turn = picture_turn(analysis.objects, analysis.video)  # as apply_event_detector does
    tracks: dict[str, list[Any]] = {name: [] for name in NAMES}
    for track in analysis.objects:
        other = tuple(e for e in track.events if e.kind not in KINDS)
        motion = tuple(e for e in track.events if e.kind in KINDS)
        learned = tuple(e for e in detect_events_model(*turned(track, analysis.video, turn), model)
                        if e.kind in KINDS)
        found = {e.kind for e in learned}
        events = {"motion": track.events, "learned": other + learned,
                  "union": other + _first_of_each(learned + motion, tolerance),
                  "fallback": other + learned + tuple(e for e in motion if e.kind not in found)}
        for name, chosen in events.items():
            tracks[name].append(track.with_changes(
                events=tuple(sorted(chosen, key=lambda e: e.time))))
    return {name: analysis.with_objects(ts) for name, ts in tracks.items()}


def _synthetic(clips: int, seed: int, cache: Path, model: EventModel) -> dict[str, dict[str, list[Any]]]:
    parts: dict[str, dict[str, list[Any]]] = {name: {} for name in NAMES}
    cache.mkdir(parents=True, exist_ok=True)
    for plan in plan_clips(clips, seed, DatasetConfig(audio=False)):
        saved = cache / f"{seed}-{plan.name}.json"
        if not saved.exists():
            entry = build_clip(plan, cache, config=DatasetConfig(audio=False))
            saved.write_text(json.dumps({k: entry[k] for k in ("truth", "analysed", "matches")}))
        entry = json.loads(saved.read_text())
        truth = Analysis.from_dict(entry["truth"])
        for name, analysed in variants(Analysis.from_dict(entry["analysed"]), model).items():
            for kind, scores in detector_parts(truth, analysed, entry["matches"]).items():
                parts[name].setdefault(kind, []).extend(scores)
    return parts


def _real(model: EventModel) -> dict[str, dict[str, list[Any]]]:
    parts: dict[str, dict[str, list[Any]]] = {name: {} for name in NAMES}
    for clip in find_marked_clips(REPO / "assets" / "clips"):
        for name, analysed in variants(analyze_video(clip.video), model).items():
            for kind, score in score_marked_detections(clip, analysed).items():
                parts[name].setdefault(kind, []).append(score)
    return parts


def _f1(parts: dict[str, list[Any]], kind: str) -> str:
    return f"{pool_scores(parts[kind]).f1:.2f}" if parts.get(kind) else "n/a"


def table(synthetic: dict[str, dict[str, list[Any]]], real: dict[str, dict[str, list[Any]]],
          names: Sequence[str] = NAMES) -> str:
    rows = ["| detector | synthetic impact | synthetic step | real impact |", "|---|---|---|---|"]
    rows += [f"| {n} | {_f1(synthetic[n], 'impact')} | {_f1(synthetic[n], 'step')} | "
             f"{_f1(real[n], 'impact')} |" for n in names]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1000)
    parser.add_argument("--cache", default=str(Path.home() / ".cache" / "stereofoley" / "eval-analyses"))
    opts = parser.parse_args()
    model = load_event_model(None)
    print(table(_synthetic(opts.clips, opts.seed, Path(opts.cache), model), _real(model)))


if __name__ == "__main__":
    main()
