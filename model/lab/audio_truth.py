"""Sync on real clips whose own recorded sound is the timing truth (part of `stereofoley eval --real`).

An audio-truth clip is a video with its own soundtrack (a filmed tap or bounce, an animated
cut-scene with hop and splash sounds) and `<video stem>.audio-truth.json` beside it:

    {"schema": "stereofoley.audio-truth/1", "video": "play103.mkv", "source": "..."}

Nobody marks anything: the onsets of the clip's own audio (model.lab.metrics.detect_onsets, a
spectral-flux detector, on the soundtrack decoded to 48 kHz) are the contacts' times. The clip is
analysed and rendered as `stereofoley render` would (no prompt), and the onsets of the generated
mix are matched one-to-one against the real ones, within one video frame and within 100 ms:
recall, precision and the median signed offset (generated minus real). The render does not
record where it placed its one-shots, so its mix's onsets stand for them (textures such as
engines do not count: the detector requires a jump in level).

Taps: a filmed clip also has sounds the picture does not show (a click off screen, a knock
below the frame). Its file may list the contacts the picture does show, to the frame, as
`"taps": [seconds, ...]` (found by looking at the frames; the nearest onset of the clip's own
audio within 100 ms of each gives its exact time). For such a clip the report also says how many
of those taps have a generated one-shot within 50 ms, and how many one-shots the mix has per tap:
issue 10's measure (at least 2 of every 3 taps, at most twice as many one-shots as taps).

Chance: the same generated onsets circularly shifted by a random offset (seeded, `shifts`
draws between one second and the clip's length minus one second) keep their count and rhythm
but lose their alignment with the picture; their mean recall and precision is what an unsynced
render of the same density would score. The table puts both side by side.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.lab.metrics import EventScore, detect_onsets, score_events
from model.lab.real_eval import read_clip_file
from video.base.errors import InputError
from video.base.progress import ProgressFn, report, scaled

SCHEMA = "stereofoley.audio-truth/1"
SUFFIX = ".audio-truth.json"
WIDE_TOLERANCE_S = 0.100
TAP_TOLERANCE_S = 0.050
SHIFTS = 20


@dataclass(frozen=True)
class AudioTruthClip:
    """A real video whose own soundtrack holds the timing truth."""

    video: Path
    source: str = ""
    taps: tuple[float, ...] = ()

    @property
    def name(self) -> str:
        return self.video.name


def load_audio_truth(path: str | Path) -> AudioTruthClip:
    """Read and validate an audio-truth file; the video it names must sit beside it."""
    path = Path(path)
    data, video = read_clip_file(path, schema=SCHEMA, what="an audio-truth")
    taps = data.get("taps", [])
    if not isinstance(taps, list) or not all(
            isinstance(t, (int, float)) and not isinstance(t, bool) and math.isfinite(t)
            and t >= 0 for t in taps):
        raise InputError(f"{path}: 'taps' must be a list of times in seconds (>= 0)")
    return AudioTruthClip(video=video, source=str(data.get("source", "")),
                          taps=tuple(sorted(float(t) for t in taps)))


def tap_times(marked: Sequence[float], onsets: np.ndarray, *,
              tolerance_s: float = WIDE_TOLERANCE_S) -> np.ndarray:
    """The exact time of each marked tap: the nearest audio onset within `tolerance_s` (the
    mark is good to a frame, the recorded click to a few ms), else the mark itself."""
    onsets = np.asarray(onsets, dtype=np.float64)
    out = []
    for mark in marked:
        if onsets.size:
            nearest = float(onsets[np.argmin(np.abs(onsets - mark))])
            out.append(nearest if abs(nearest - mark) <= tolerance_s else float(mark))
        else:
            out.append(float(mark))
    return np.asarray(out)


def find_audio_truth_clips(folder: str | Path) -> list[AudioTruthClip]:
    """Every audio-truth clip in `folder` (files ending in .audio-truth.json), sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder")
    return [load_audio_truth(p) for p in sorted(folder.glob(f"*{SUFFIX}"))]


@dataclass(frozen=True)
class SyncAgainstAudio:
    """Generated onsets against real ones at one tolerance: the score and the chance score
    (mean recall / precision of the circularly shifted generated onsets)."""

    score: EventScore
    chance_recall: float
    chance_precision: float


def chance_scores(real: np.ndarray, generated: np.ndarray, *, duration: float, tolerance_s: float,
                  shifts: int = SHIFTS, seed: int = 0) -> tuple[float, float]:
    """Mean (recall, precision) of `generated` circularly shifted by `shifts` random offsets
    (uniform in [1 s, duration - 1 s], or the whole clip when it is shorter than 3 s)."""
    real = np.asarray(real, dtype=np.float64)
    generated = np.asarray(generated, dtype=np.float64)
    if duration <= 0 or shifts < 1:
        raise ValueError("duration must be positive and shifts >= 1")
    rng = np.random.default_rng([seed, 4049])
    low, high = (1.0, duration - 1.0) if duration >= 3.0 else (0.0, duration)
    recalls, precisions = [], []
    for offset in rng.uniform(low, high, shifts):
        moved = np.sort(np.mod(generated + offset, duration))
        score, _ = score_events(real, moved, tolerance_s=tolerance_s)
        recalls.append(score.recall)
        precisions.append(score.precision)
    return float(np.mean(recalls)), float(np.mean(precisions))


def sync_against_audio(real: np.ndarray, generated: np.ndarray, *, duration: float,
                       tolerance_s: float, seed: int = 0, shifts: int = SHIFTS
                       ) -> tuple[SyncAgainstAudio, np.ndarray]:
    """Score generated onsets against real ones and against chance; also the matched signed
    offsets (generated - real, seconds)."""
    score, errors = score_events(np.asarray(real, np.float64), np.asarray(generated, np.float64),
                                 tolerance_s=tolerance_s)
    recall, precision = chance_scores(real, generated, duration=duration, tolerance_s=tolerance_s,
                                      shifts=shifts, seed=seed)
    return SyncAgainstAudio(score, recall, precision), errors


@dataclass(frozen=True)
class AudioTruthResult:
    """One clip, one event detector: onset counts, sync at one frame and at 100 ms, and the
    median signed offset (ms, generated - real, over the 100 ms matches; NaN if none)."""

    name: str
    detector: str
    fps: float
    duration: float
    real_onsets: int
    generated_onsets: int
    frame: SyncAgainstAudio
    wide: SyncAgainstAudio
    median_offset_ms: float
    taps: int = 0
    taps_found: int = 0

    @property
    def taps_met(self) -> bool:
        """Issue 10's tap measure: a one-shot within 50 ms of at least 2 of every 3 taps, and
        at most twice as many one-shots as taps (False without taps)."""
        return self.taps > 0 and 3 * self.taps_found >= 2 * self.taps and \
            self.generated_onsets <= 2 * self.taps


def score_clip_audio(name: str, detector: str, real: np.ndarray, generated: np.ndarray, *,
                     fps: float, duration: float, seed: int = 0,
                     taps: np.ndarray | None = None) -> AudioTruthResult:
    """The table row of one clip and detector from its real and generated onset times (and
    the times of its visible taps, `tap_times`, where the clip lists them)."""
    frame, _ = sync_against_audio(real, generated, duration=duration, tolerance_s=1.0 / fps,
                                  seed=seed)
    wide, errors = sync_against_audio(real, generated, duration=duration,
                                      tolerance_s=WIDE_TOLERANCE_S, seed=seed)
    offset = float(np.median(errors) * 1000.0) if errors.size else math.nan
    found = 0
    if taps is not None and np.size(taps):
        tapped, _ = score_events(np.asarray(taps, np.float64), np.asarray(generated, np.float64),
                                 tolerance_s=TAP_TOLERANCE_S)
        found = tapped.true_positives
    return AudioTruthResult(name=name, detector=detector, fps=fps, duration=duration,
                            real_onsets=int(np.size(real)), generated_onsets=int(np.size(generated)),
                            frame=frame, wide=wide, median_offset_ms=offset,
                            taps=int(np.size(taps)) if taps is not None else 0, taps_found=found)


def evaluate_audio_truth(clips: Sequence[AudioTruthClip], *, detectors: Sequence[str] = ("learned",
                         "motion"), checkpoint: str | Path | None = None, seed: int = 0,
                         progress: ProgressFn | None = None) -> tuple[AudioTruthResult, ...]:
    """Analyse each clip as `stereofoley analyze` does, once per event detector, render it as
    `stereofoley render` does, and score the mix's onsets against the clip's own audio onsets."""
    from audio.decode import load_audio
    from model.detector.event_detection import analyze_with_events, apply_event_detector
    from model.foley.render import render_scene
    from model.foley.scene import ObjectSound, RenderSettings

    rows = []
    for i, clip in enumerate(clips):
        sub = scaled(progress, i / len(clips), (i + 1) / len(clips))
        real = detect_onsets(load_audio(clip.video))
        taps = tap_times(clip.taps, real) if clip.taps else None
        base = analyze_with_events(clip.video, detector="motion", progress=scaled(sub, 0.0, 0.3))
        fps, duration = float(base.video.fps), float(base.video.duration)
        for k, name in enumerate(detectors):
            analysis = base if name == "motion" else apply_event_detector(
                base, detector=name, checkpoint=checkpoint)
            objects = [ObjectSound(id=t.id) for t in analysis.objects]
            render = render_scene(analysis, objects, RenderSettings(seed=seed + i), library=None,
                                  progress=scaled(sub, 0.3 + 0.7 * k / len(detectors),
                                                  0.3 + 0.7 * (k + 1) / len(detectors)))
            generated = detect_onsets(render.mix)
            rows.append(score_clip_audio(clip.name, name, real, generated, fps=fps,
                                         duration=duration, seed=seed + i, taps=taps))
        report(sub, 1.0, f"{clip.name} scored")
    return tuple(rows)


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _pair(recall: float, precision: float, real: int, generated: int) -> str:
    """"recall / precision", each "n/a" when its denominator is empty (no real onsets to find,
    no generated onsets to be right)."""
    return (f"{_pct(recall) if real else 'n/a'} / "
            f"{_pct(precision) if generated else 'n/a'}")


def audio_truth_table(rows: Sequence[AudioTruthResult]) -> str:
    """Markdown table: per clip and detector, recall / precision and their chance values."""
    head = ("| clip | events | fps | real onsets | generated onsets | recall / precision, 1 frame "
            "| chance, 1 frame | recall / precision, 100 ms | chance, 100 ms | median offset |\n"
            "|---|---|---|---|---|---|---|---|---|---|\n")
    body = "".join(
        f"| {r.name} | {r.detector} | {r.fps:.2f} | {r.real_onsets} | {r.generated_onsets} | "
        + " | ".join(_pair(recall, precision, r.real_onsets, r.generated_onsets)
                     for recall, precision in (
                         (r.frame.score.recall, r.frame.score.precision),
                         (r.frame.chance_recall, r.frame.chance_precision),
                         (r.wide.score.recall, r.wide.score.precision),
                         (r.wide.chance_recall, r.wide.chance_precision))) + " | "
        + (f"{r.median_offset_ms:+.0f} ms" if math.isfinite(r.median_offset_ms) else "-")
        + " |\n" for r in rows)
    return head + body


def pooled_table(rows: Sequence[AudioTruthResult]) -> str:
    """Markdown table: per detector, onsets pooled over the clips, against pooled chance."""
    out = ("| events | clips | real onsets | generated onsets | recall / precision, 1 frame | "
           "chance, 1 frame | recall / precision, 100 ms | chance, 100 ms |\n"
           "|---|---|---|---|---|---|---|---|\n")
    for name in dict.fromkeys(r.detector for r in rows):
        mine = [r for r in rows if r.detector == name]
        real = sum(r.real_onsets for r in mine)
        made = sum(r.generated_onsets for r in mine)
        cells = []
        for part in ("frame", "wide"):
            scores = [getattr(r, part) for r in mine]
            tp = sum(s.score.true_positives for s in scores)
            recall = tp / real if real else 1.0
            precision = tp / made if made else 1.0
            # chance pooled the same way: expected matches = chance rate x count, summed
            c_recall = (sum(s.chance_recall * r.real_onsets for s, r in zip(scores, mine,
                                                                             strict=True)) / real
                        if real else 1.0)
            c_precision = (sum(s.chance_precision * r.generated_onsets
                               for s, r in zip(scores, mine, strict=True)) / made if made else 1.0)
            cells += [_pair(recall, precision, real, made),
                      _pair(c_recall, c_precision, real, made)]
        out += f"| {name} | {len(mine)} | {real} | {made} | " + " | ".join(cells) + " |\n"
    return out


def taps_table(rows: Sequence[AudioTruthResult]) -> str:
    """Markdown table of the clips that list their visible taps ("" when none does)."""
    tapped = [r for r in rows if r.taps]
    if not tapped:
        return ""
    head = (f"Visible taps (the clip's `taps`, timed by its own audio): how many have a "
            f"generated one-shot within {TAP_TOLERANCE_S * 1000:.0f} ms, and how many one-shots "
            f"the mix has per tap (issue 10: at least 2 of every 3 taps, at most 2 per tap).\n\n"
            "| clip | events | taps | with a one-shot within 50 ms | one-shots in the mix | "
            "one-shots per tap | met |\n|---|---|---|---|---|---|---|\n")
    return head + "".join(
        f"| {r.name} | {r.detector} | {r.taps} | {r.taps_found} of {r.taps} | "
        f"{r.generated_onsets} | {r.generated_onsets / r.taps:.1f} | "
        f"{'yes' if r.taps_met else 'no'} |\n" for r in tapped)


def audio_truth_markdown(rows: Sequence[AudioTruthResult], folder: str) -> str:
    """The audio-truth section: pooled per detector, then per clip."""
    clips = len({r.name for r in rows})
    return (f"### Real clips: sync against the clips' own audio\n\n"
            f"{clips} clips from `{folder}`; truth: the onsets of each clip's own soundtrack; "
            f"generated: the onsets of the rendered mix (no prompt); chance: the generated "
            f"onsets circularly shifted by {SHIFTS} seeded random offsets (mean). Matched "
            f"one-to-one within one video frame and within {WIDE_TOLERANCE_S * 1000:.0f} ms; "
            f"median offset = generated minus real, over the {WIDE_TOLERANCE_S * 1000:.0f} ms "
            f"matches.\n\n{pooled_table(rows)}\n{audio_truth_table(rows)}"
            + (f"\n{taps}" if (taps := taps_table(rows)) else ""))
