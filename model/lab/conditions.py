"""The render conditions and detector rows that the synthetic and the real evaluation share.

Both evaluations render the same four conditions of one analysed clip (mono, static centre,
object-aware, object-aware + learned events), pool their scores into one `ConditionRow` each,
and compare the two event detectors (`DETECTORS`) in `DetectorRow`s; this module holds those
renders, rows, their tables and the per-kind verdict, so model.lab.evaluate and
model.lab.real_eval import it instead of each other.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from model.foley.scene import ObjectSound, RenderSettings
from model.lab.metrics import (
    EventScore,
    LoudnessScore,
    SpatialScore,
    loudness_metrics,
    pool_scores,
)
from video.base.progress import ProgressFn, report, scaled
from video.base.tracks import Analysis

CONDITIONS = ("mono", "static centre", "object-aware", "object-aware + learned events")


DETECTORS = ("hand-made (video.events)", "learned (event_net)")


@dataclass(frozen=True)
class Rendered:
    """One condition's output for one clip: a stereo stem per analysed object and the mix."""

    stems: tuple[np.ndarray, ...]
    mix: np.ndarray


@dataclass
class Tally:
    """Raw per-clip scores of one condition, pooled at the end."""

    objects: list[SpatialScore] = field(default_factory=list)
    mixes: list[SpatialScore] = field(default_factory=list)
    sync: list[tuple[EventScore, np.ndarray]] = field(default_factory=list)
    loudness: list[LoudnessScore] = field(default_factory=list)
    semantic: list[float] = field(default_factory=list)
    yamnet: list[float] = field(default_factory=list)  # per object, model.lab.semantic_agreement


@dataclass(frozen=True)
class ConditionRow:
    """A row of the results table (means over objects / clips; NaN where undefined)."""

    name: str
    object_corr: float
    object_mae: float
    mix_corr: float
    mix_mae: float
    sync: EventScore
    lufs: float
    true_peak_db: float
    semantic: float = math.nan
    yamnet: float = math.nan


@dataclass(frozen=True)
class DetectorRow:
    """Event detection against true events within one frame, overall and per kind."""

    name: str
    overall: EventScore
    per_kind: Mapping[str, EventScore]


def _as_mono(dry: np.ndarray) -> np.ndarray:
    x = np.asarray(dry, dtype=np.float32)
    return x.reshape(-1) if x.ndim == 1 or x.shape[0] == 1 else x.mean(axis=0)


def normalize_to(stems: Sequence[np.ndarray], mix: np.ndarray, target_lufs: float) -> Rendered:
    """Scale stems and mix alike so the mix's integrated loudness is `target_lufs`."""
    level = loudness_metrics(mix).lufs
    gain = 10.0 ** ((target_lufs - level) / 20.0) if math.isfinite(level) else 1.0
    return Rendered(stems=tuple((s * gain).astype(np.float32) for s in stems),
                    mix=(mix * gain).astype(np.float32))


def _pinned_centre(objects: Sequence[ObjectSound], duration: float) -> list[ObjectSound]:
    from audio.nudges import PanKeyframe

    keys = (PanKeyframe(time=0.0, pan=0.0), PanKeyframe(time=max(duration, 0.01) + 1.0, pan=0.0))
    return [replace(o, nudges=replace(o.nudges, pan_keyframes=keys)) for o in objects]


def render_conditions(analysis: Analysis, learned: Analysis, *, seed: int,
                      progress: ProgressFn | None = None) -> dict[str, Rendered]:
    """The four renders of one analysed clip (see the module docstring)."""
    from model.foley.render import render_scene

    settings = RenderSettings(seed=seed)
    # no prompt: the renderer chooses each object's sounds from its motion and events
    objects = [ObjectSound(id=t.id) for t in analysis.objects]
    ids = [t.id for t in analysis.objects]
    ours = render_scene(analysis, objects, settings, library=None,
                        progress=scaled(progress, 0.0, 0.35))
    centre = render_scene(analysis, _pinned_centre(objects, analysis.video.duration), settings,
                          library=None, progress=scaled(progress, 0.35, 0.65))
    with_learned = render_scene(learned, objects, settings, library=None,
                                progress=scaled(progress, 0.65, 1.0))
    half = np.float32(math.sqrt(0.5))  # the -3 dB law's centre gain
    mono_stems = [np.stack([_as_mono(ours.dry[i]) * half] * 2) for i in ids]
    mono_mix = np.sum(mono_stems, axis=0) if mono_stems else np.zeros_like(ours.mix)
    target = settings.target_lufs
    out = {"mono": normalize_to(mono_stems, mono_mix, target),
           "static centre": normalize_to([centre.stems[i] for i in ids], centre.mix, target),
           "object-aware": normalize_to([ours.stems[i] for i in ids], ours.mix, target),
           "object-aware + learned events": normalize_to([with_learned.stems[i] for i in ids],
                                                         with_learned.mix, target)}
    report(progress, 1.0, "rendered")
    return out


def _nanmean(values: Sequence[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return float(np.mean(finite)) if finite else math.nan


def condition_row(name: str, tally: Tally) -> ConditionRow:
    """Pool a condition's tally: correlations averaged where defined, MAE weighted by windows."""
    def weighted_mae(scores: Sequence[SpatialScore]) -> float:
        total = sum(s.windows for s in scores)
        return sum(s.mae * s.windows for s in scores if s.windows) / total if total else math.nan

    return ConditionRow(name=name, object_corr=_nanmean([s.correlation for s in tally.objects]),
                        object_mae=weighted_mae(tally.objects),
                        mix_corr=_nanmean([s.correlation for s in tally.mixes]),
                        mix_mae=weighted_mae(tally.mixes), sync=pool_scores(tally.sync),
                        lufs=_nanmean([s.lufs for s in tally.loudness]),
                        true_peak_db=max((s.true_peak_db for s in tally.loudness),
                                         default=math.nan),
                        semantic=_nanmean(tally.semantic), yamnet=_nanmean(tally.yamnet))


def detector_rows(parts: Mapping[str, Mapping[str, Sequence[tuple[EventScore, np.ndarray]]]]
                  ) -> tuple[DetectorRow, ...]:
    """One row per detector of DETECTORS from its per-kind score parts ("all" pools every kind)."""
    return tuple(DetectorRow(name=d, overall=pool_scores(parts[d].get("all", [])),
                             per_kind={k: pool_scores(v) for k, v in sorted(parts[d].items())
                                       if k != "all"})
                 for d in DETECTORS)


def add_yamnet(rendered: Rendered, labels: Sequence[str | None], tally: Tally) -> None:
    """YAMNet agreement of each stem with its object's class (`labels`, aligned with the stems;
    None where the class is unknown), added per object to `tally.yamnet`."""
    from model.lab.semantic_agreement import stems_agreement
    from video.base.timebase import SAMPLE_RATE

    tally.yamnet.extend(stems_agreement(rendered.stems, labels, sample_rate=SAMPLE_RATE))


def number_text(value: float, fmt: str = ".2f") -> str:
    return "n/a" if not math.isfinite(value) else format(value, fmt)


def conditions_table(rows: Sequence[ConditionRow]) -> str:
    """Markdown table of the render conditions (with semantic-similarity and YAMNet-agreement
    columns when they were measured)."""
    semantic = any(math.isfinite(r.semantic) for r in rows)
    yamnet = any(math.isfinite(r.yamnet) for r in rows)
    head = ("| condition | object pan corr | object pan MAE | mix pan corr | mix pan MAE "
            "| sync median ms | sync recall | sync precision | LUFS | max TP dBTP |"
            + (" semantic sim. |" if semantic else "")
            + (" YAMNet agreement |" if yamnet else "") + "\n"
            + "|---" * (10 + semantic + yamnet) + "|\n")
    n = number_text
    body = "".join(
        f"| {r.name} | {n(r.object_corr)} | {n(r.object_mae, '.3f')} | {n(r.mix_corr)} "
        f"| {n(r.mix_mae, '.3f')} | {n(r.sync.median_abs_ms, '.1f')} | {r.sync.recall:.2f} "
        f"| {r.sync.precision:.2f} | {n(r.lufs, '.1f')} | {n(r.true_peak_db, '.1f')} |"
        + (f" {n(r.semantic, '.3f')} |" if semantic else "")
        + (f" {n(r.yamnet)} |" if yamnet else "") + "\n"
        for r in rows)
    return head + body


def detectors_table(rows: Sequence[DetectorRow]) -> str:
    """Markdown table of the detectors, overall then per true-event kind."""
    head = ("| detector | events | precision | recall | F1 | median abs ms |\n"
            "|---|---|---|---|---|---|\n")
    lines = []
    for r in rows:
        for kind, s in [("all", r.overall), *r.per_kind.items()]:
            n = s.true_positives + s.false_negatives
            if n == 0 and s.false_positives == 0:
                continue
            recall, f1 = (f"{s.recall:.2f}", f"{s.f1:.2f}") if n else ("n/a", "n/a")
            lines.append(f"| {r.name} ({kind}) | {n} | {s.precision:.2f} | {recall} "
                         f"| {f1} | {number_text(s.median_abs_ms, '.1f')} |\n")
    return head + "".join(lines)


def detector_verdict(rows: Sequence[DetectorRow], *, margin: float = 0.02,
                     real: Sequence[DetectorRow] = ()) -> list[str]:
    """Per event kind, which detector should be the default: the learned one only where its F1
    beats the hand-made one's by more than `margin` on the held-out clips (`rows`) and, where
    the real clips (`real`) have events of that kind, is not worse there by more than `margin`
    (otherwise the simpler rule stays)."""
    hand, learned = _pair(rows)
    real_hand, real_learned = _pair(real)
    if hand is None or learned is None:
        return []
    lines = []
    for kind in sorted(set(hand.per_kind) | set(learned.per_kind)):
        h = hand.per_kind.get(kind)
        lrn = learned.per_kind.get(kind)
        if h is None or lrn is None or h.true_positives + h.false_negatives == 0:
            continue
        wins = lrn.f1 > h.f1 + margin
        line = (f"- {kind}: F1 hand-made {h.f1:.2f} vs learned {lrn.f1:.2f} "
                f"(median {number_text(h.median_abs_ms, '.1f')} vs {number_text(lrn.median_abs_ms, '.1f')} ms)")
        rh = real_hand.per_kind.get(kind) if real_hand is not None else None
        rl = real_learned.per_kind.get(kind) if real_learned is not None else None
        if rh is not None and rl is not None and rh.true_positives + rh.false_negatives:
            line += f"; real clips: F1 hand-made {rh.f1:.2f} vs learned {rl.f1:.2f}"
            wins = wins and rl.f1 >= rh.f1 - margin
        lines.append(f"{line} -> default: **{'learned' if wins else 'hand-made'}**")
    if real_hand is not None and real_learned is not None:
        rh, rl = real_hand.overall, real_learned.overall
        lines.append(f"- all kinds on the real clips (events of any kind, wherever they fall): "
                     f"F1 hand-made {rh.f1:.2f} ({rh.true_positives} found, "
                     f"{rh.false_positives} false) vs learned {rl.f1:.2f} ({rl.true_positives} "
                     f"found, {rl.false_positives} false)")
    return lines


def _pair(rows: Sequence[DetectorRow]) -> tuple[DetectorRow | None, DetectorRow | None]:
    by_name = {r.name: r for r in rows}
    return by_name.get(DETECTORS[0]), by_name.get(DETECTORS[1])
