"""OUTDIR/report.txt: the loudness and format report of one export, for a person to read.

project.json records what the master stage measured and did; a mix engineer checking a
delivery wants it as a page: integrated loudness and true peak before and after, the gain,
what the limiter did and where, and every stem's peak. Pure formatting of the finished project
and the rendered audio (one pass over each stem for its peak), no I/O here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from app.project import Project
from video.base.timebase import SAMPLE_RATE


def peak_dbfs(audio: np.ndarray) -> float:
    """Sample peak of a (channels, samples) array in dBFS (-inf for silence)."""
    return peak_db(_linear_peak(audio))


def _db(value: Any, unit: str) -> str:
    if not isinstance(value, int | float) or not math.isfinite(value):
        return "n/a"
    return f"{value:+.2f} {unit}" if unit == "dB" else f"{value:.2f} {unit}"


def _clock(seconds: float) -> str:
    minutes, rest = divmod(max(seconds, 0.0), 60.0)
    return f"{int(minutes)}:{rest:06.3f}"


def short_of_target(master: Mapping[str, Any], *, tolerance_lu: float = 0.5) -> float | None:
    """LU the mastered mix fell short of its loudness target (the limiter held at its most), or
    None when it reached it (or nothing was measured)."""
    after, target = master.get("lufs_after"), master.get("target_lufs")
    if not isinstance(after, int | float) or not isinstance(target, int | float):
        return None
    gap = float(target) - float(after)
    return gap if gap > tolerance_lu else None


def mix_level(master: Mapping[str, Any]) -> str:
    """One line on what the master stage made of the mix (the studio shows it): its loudness
    and true peak, and how far short of the target it stayed, if it did; "" before a render."""
    after = master.get("lufs_after")
    if not master or not master.get("measurable", True) or not isinstance(after, int | float):
        return "Mix: silent (no loudness to measure)" if master else ""
    peak = master.get("true_peak_after_db")
    text = f"Mix: {float(after):.1f} LUFS"
    if isinstance(peak, int | float):
        text += f", true peak {float(peak):.1f} dBTP"
    short = short_of_target(master)
    if short is not None:
        text += f"; {short:.1f} LU under the target (its hits already limited at the most)"
    return text


def _master_lines(master: Mapping[str, Any]) -> list[str]:
    if not master:
        return ["  (no master stage recorded)"]
    lines = [f"  target:             {_db(master.get('target_lufs'), 'LUFS')}, true-peak ceiling "
             f"{_db(master.get('ceiling_dbtp'), 'dBTP')}"]
    if not master.get("measurable", True):
        lines.append("  the mix is too quiet to measure (silence): no gain applied")
        return lines
    lines += [f"  integrated loudness: {_db(master.get('lufs_before'), 'LUFS')} before, "
              f"{_db(master.get('lufs_after'), 'LUFS')} after",
              f"  gain:               {_db(master.get('gain_db'), 'dB')} (on the mix and on "
              f"every stem alike)",
              f"  true peak:          {_db(master.get('true_peak_before_db'), 'dBTP')} before, "
              f"{_db(master.get('true_peak_after_db'), 'dBTP')} after"]
    short = short_of_target(master)
    if short is not None:
        most = master.get("max_limiting_db")
        most_text = f"{float(most):.1f} dB" if isinstance(most, int | float) else "the most"
        lines.append(f"  short of target:    by {short:.1f} LU: its hits would need more than "
                     f"{most_text} of limiting to reach it")
    limiter = master.get("limiter") or {}
    regions = limiter.get("regions") or []
    if not regions:
        lines.append("  limiter:            not needed")
        return lines
    total = int(limiter.get("regions_total", len(regions)))
    lines.append(f"  limiter:            {total} region(s), {limiter.get('seconds', 0.0):.3f} s "
                 f"in all, at most {limiter.get('max_reduction_db', 0.0):.2f} dB of reduction"
                 + (", applied to the stems too (they still sum to the mix)"
                    if limiter.get("applied_to_stems") else ""))
    lines += [f"    {_clock(float(a))} - {_clock(float(b))}" for a, b in regions]
    if total > len(regions):
        lines.append(f"    ... and {total - len(regions)} more")
    return lines


def render_report(finished: Project, stems: Mapping[int, np.ndarray], mix: np.ndarray, *,
                  created: str, extra: Sequence[str] = ()) -> str:
    """The text of report.txt for a finished project (stem paths and master report filled in),
    its rendered stems by object id, and the mix; `extra`: more lines at the end (the group
    stems, app.stem_groups.report_lines). An object folded into its group shows "-" for its
    file."""
    peaks = {obj.id: _linear_peak(stems[obj.id]) for obj in finished.objects if obj.id in stems}
    return report_text(finished, peaks=peaks, mix_peak=_linear_peak(mix),
                       n_samples=mix.shape[-1], created=created, extra=extra)


def _linear_peak(audio: np.ndarray) -> float:
    return float(np.max(np.abs(audio))) if audio.size else 0.0


def peak_db(peak: float) -> float:
    """A linear sample peak in dBFS (-inf for silence)."""
    return 20.0 * math.log10(peak) if peak > 0 else -math.inf


def report_text(finished: Project, *, peaks: Mapping[int, float], mix_peak: float,
                n_samples: int, created: str, extra: Sequence[str] = ()) -> str:
    """`render_report` from figures measured as the files were written: each stem's and the
    mix's linear sample peak, and their length (a streamed render never holds them whole)."""
    video = finished.analysis.video
    settings = finished.render
    labels = {t.id: t.label for t in finished.analysis.objects}
    duration = n_samples / SAMPLE_RATE
    lines = ["StereoFoley Studio: render report", "",
             f"video:    {video.path}",
             f"          {video.width}x{video.height}, {float(video.fps):.3f} fps, "
             f"{video.frames} frames, {video.duration:.3f} s",
             f"rendered: {created}, seed {settings.seed}, pan law {settings.pan_law}",
             f"format:   Broadcast WAV, {SAMPLE_RATE} Hz, 24-bit, stereo, {duration:.3f} s, "
             f"aligned to video time 0", "",
             "Master (mix.wav)"]
    lines += _master_lines(finished.render.master)
    lines.append(f"  sample peak:        {_db(peak_db(mix_peak), 'dBFS')}")
    lines += ["", f"Stems ({len(finished.objects)})",
              f"  {'id':>4}  {'label':<14} {'peak dBFS':>9}  {'mute':<4}  file"]
    for obj in finished.objects:
        peak = peak_db(peaks[obj.id]) if obj.id in peaks else -math.inf
        text = f"{peak:9.2f}" if math.isfinite(peak) else "  silent "
        lines.append(f"  {obj.id:>4}  {labels.get(obj.id, ''):<14} {text}  "
                     f"{'yes' if obj.nudges.mute else '':<4}  {obj.stem or '-'}")
    return "\n".join([*lines, *extra]) + "\n"
