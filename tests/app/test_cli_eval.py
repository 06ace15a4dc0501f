"""`stereofoley eval`: argument errors, and render-dir metrics on a hand-made render with known
pan paths and onset times."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import soundfile

from app.cli import main
from app.project import Project, save_project
from model.foley.scene import ObjectSound
from video.base.tracks import Analysis, Event, Track, VideoInfo

SR = 48_000
FPS = Fraction(25)


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", "eval", *argv], capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "one of the arguments"),
        (["--synthetic", "2", "--render-dir", "x"], "not allowed with"),
        (["--synthetic", "zero"], "invalid int"),
        (["--synthetic", "0"], "between 1 and"),
        (["--synthetic", "2", "--video", "v.mp4"], "--video goes with --render-dir"),
        (["--synthetic", "2", "--checkpoint", "/nonexistent/net.pt"], "not found"),
        (["--render-dir", "/nonexistent/out"], "render folder not found"),
        (["--render-dir", "x", "--bogus"], "unrecognized"),
        (["--real-dir", "x"], "one of the arguments"),
        (["--no-real", "--render-dir", "x"], "go with --synthetic"),
        (["--synthetic", "2", "--real-dir", "x", "--no-real"], "contradict"),
        (["--synthetic", "2", "--real-dir", "/nonexistent/clips"], "not a folder"),
        (["--real", "/nonexistent/clips"], "not a folder"),
        (["--real", "x", "--synthetic", "2"], "not allowed with"),
        (["--real", ".", "--video", "v.mp4"], "--video goes with --render-dir"),
        (["--semantic", "/nonexistent/truth"], "not a folder"),
        (["--semantic", ".", "--real", "."], "not allowed with"),
        (["--semantic", ".", "--video", "v.mp4"], "--video goes with --render-dir"),
    ],
)
def test_bad_arguments_give_one_error_line(argv: list[str], message: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", *argv]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], lines


def _panned(mono: np.ndarray, pan: np.ndarray) -> np.ndarray:
    theta = (pan + 1.0) * math.pi / 4.0
    return np.stack([mono * np.cos(theta), mono * np.sin(theta)]).astype(np.float32)


def _write_render(folder: Path, rng: np.random.Generator) -> Analysis:
    """A 4 s, two-object render whose stems follow their tracks and click on their events."""
    frames = 100
    info = VideoInfo(path="clip.mp4", width=320, height=180, fps=FPS, duration=4.0, frames=frames)
    n = 4 * SR
    tracks, stems = [], {}
    for oid, (x0, x1, hits) in enumerate([(0.1, 0.9, [0.5, 1.3, 2.2, 3.1]),
                                          (0.8, 0.3, [0.9, 2.6])], start=1):
        f = np.arange(frames)
        cx = (x0 + (x1 - x0) * f / (frames - 1)) * info.width
        boxes = np.stack([cx - 15, np.full(frames, 60.0), cx + 15, np.full(frames, 90.0)], 1)
        track = Track(id=oid, label="ball", frames=f, boxes=boxes,
                      events=tuple(Event(time=t, strength=0.8) for t in hits))
        mono = rng.standard_normal(n) * 0.003
        decay = np.exp(-np.arange(4800) / 700.0)
        for t in hits:
            s = int(t * SR)
            mono[s:s + 4800] += rng.standard_normal(4800) * decay * 0.4
        pan = np.interp(np.arange(n) / SR, f / float(FPS), 2 * cx / info.width - 1)
        stems[oid] = _panned(mono, pan)
        tracks.append(track)
    analysis = Analysis(video=info, objects=tuple(tracks))
    (folder / "stems").mkdir(parents=True)
    objects = []
    for oid, stem in stems.items():
        soundfile.write(folder / "stems" / f"{oid}.wav", stem.T, SR, subtype="PCM_24")
        objects.append(ObjectSound(id=oid, stem=f"stems/{oid}.wav"))
    soundfile.write(folder / "mix.wav", (stems[1] + stems[2]).T, SR, subtype="PCM_24")
    save_project(Project(analysis=analysis, objects=objects), folder / "project.json")
    return analysis


def test_render_dir_metrics_of_a_known_render(tmp_path: Path, rng: np.random.Generator) -> None:
    _write_render(tmp_path / "out", rng)
    report = tmp_path / "metrics.txt"
    proc = _run(["--render-dir", str(tmp_path / "out"), "--out", str(report)])
    assert proc.returncode == 0, proc.stderr
    lines = report.read_text().splitlines()
    rows = {int(p[0]): p for p in (line.split() for line in lines[1:3])}
    for oid in (1, 2):
        corr, mae, _, recall, precision = (float(v) for v in rows[oid][1:6])
        assert corr > 0.97 and mae < 0.05
        assert recall == 1.0 and precision == 1.0
    assert "sync (all objects): recall 1.00  precision 1.00" in proc.stdout
    lufs = float(lines[-1].split()[2])
    assert -40 < lufs < -10


def test_render_dir_errors(tmp_path: Path, rng: np.random.Generator) -> None:
    out = tmp_path / "out"
    _write_render(out, rng)
    (tmp_path / "v.mp4").write_bytes(b"not a video")
    proc = _run(["--render-dir", str(out), "--video", str(tmp_path / "v.mp4")])
    assert proc.returncode == 2 and proc.stderr.startswith("error:")
    assert len(proc.stderr.strip().splitlines()) == 1
    (out / "stems" / "2.wav").write_bytes(b"RIFF junk")
    proc = _run(["--render-dir", str(out), "--out", str(tmp_path / "m.txt")])
    assert proc.returncode == 2 and "not a readable WAV" in proc.stderr
    assert not (tmp_path / "m.txt").exists()
    (out / "project.json").write_text("{broken")
    proc = _run(["--render-dir", str(out)])
    assert proc.returncode == 2 and "not valid JSON" in proc.stderr


def _simple_analysis(events_by_id: dict[int, list[tuple[float, str]]], *,
                     shift: float = 0.0) -> Analysis:
    info = VideoInfo(path="c.mp4", width=320, height=180, fps=FPS, duration=4.0, frames=100)
    tracks = []
    for oid, events in events_by_id.items():
        f = np.arange(100)
        x = 20.0 + oid * 100 + shift
        boxes = np.stack([np.full(100, x), np.full(100, 50.0), np.full(100, x + 40),
                          np.full(100, 90.0)], 1)
        tracks.append(Track(id=oid, label="o", frames=f, boxes=boxes,
                            events=tuple(Event(time=t, strength=0.5, kind=k) for t, k in events)))
    return Analysis(video=info, objects=tuple(tracks))


def test_detector_scores_per_kind_and_verdict() -> None:
    from model.lab.conditions import DetectorRow, detector_verdict, detectors_table
    from model.lab.evaluate import detector_parts
    from model.lab.metrics import pool_scores

    truth = _simple_analysis({1: [(1.0, "impact"), (2.0, "impact")],
                              2: [(0.5, "step"), (1.0, "step"), (1.5, "step")]})
    # the hand-made detector: finds both impacts, one step; labels a step as an impact
    hand = _simple_analysis({7: [(1.01, "impact"), (2.02, "impact"), (3.0, "impact")],
                             8: [(0.5, "impact")]}, shift=2)
    # the learned detector: one impact, all steps
    learned = _simple_analysis({7: [(1.0, "impact")],
                                8: [(0.49, "step"), (1.0, "step"), (1.52, "step")]}, shift=2)
    matches = [[7, 1, 0.9], [8, 2, 0.9]]
    rows = []
    for name, analysed in (("hand-made (video.events)", hand), ("learned (event_net)", learned)):
        parts = detector_parts(truth, analysed, matches)
        rows.append(DetectorRow(name=name, overall=pool_scores(parts["all"]),
                                per_kind={k: pool_scores(v) for k, v in parts.items()
                                          if k != "all"}))
    hand_row, learned_row = rows
    assert (hand_row.overall.true_positives, hand_row.overall.false_positives,
            hand_row.overall.false_negatives) == (3, 1, 2)
    assert hand_row.per_kind["impact"].recall == 1.0
    assert hand_row.per_kind["step"].recall == pytest.approx(1 / 3)
    assert learned_row.per_kind["step"].f1 == 1.0
    assert learned_row.per_kind["impact"].recall == 0.5
    verdict = detector_verdict(rows)
    assert any(v.startswith("- impact:") and "**hand-made**" in v for v in verdict)
    assert any(v.startswith("- step:") and "**learned**" in v for v in verdict)
    table = detectors_table(rows)
    assert "| learned (event_net) (step) | 3 | 1.00 | 1.00 | 1.00 |" in table


def test_missed_objects_count_as_missed_events() -> None:
    from model.lab.evaluate import detector_parts
    from model.lab.metrics import pool_scores

    truth = _simple_analysis({1: [(1.0, "impact")], 2: [(0.5, "step"), (1.0, "step")]})
    analysed = _simple_analysis({5: [(1.0, "impact")]}, shift=1)
    pooled = pool_scores(detector_parts(truth, analysed, [[5, 1, 0.95]])["all"])
    assert (pooled.true_positives, pooled.false_negatives) == (1, 2)


@pytest.mark.slow
def test_synthetic_eval_end_to_end(tmp_path: Path) -> None:
    from model.detector.event_net import build_event_net, save_checkpoint
    from model.detector.net_layout import EventModel, EventNetConfig, Normalizer

    tiny = EventNetConfig(channels=8, dilations=(1, 2), dropout=0.0)
    ckpt = tmp_path / "tiny.pt"
    save_checkpoint(EventModel(net=build_event_net(tiny, seed=0), config=tiny,
                               normalizer=Normalizer.identity(), threshold=0.5), ckpt)
    doc = tmp_path / "EVALUATION.md"
    proc = _run(["--synthetic", "1", "--seed", "5", "--checkpoint", str(ckpt), "--out", str(doc)])
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = doc.read_text()
    assert "stereofoley eval --synthetic 1 --seed 5" in text
    rows = {line.split("|")[1].strip(): line for line in text.splitlines()
            if line.startswith("| ") and "condition" not in line}
    assert {"mono", "static centre", "object-aware", "object-aware + learned events"} <= set(rows)
    mono = rows["mono"].split("|")
    assert mono[2].strip() == "n/a"  # a mono render's image never moves: no correlation
    ours = rows["object-aware"].split("|")
    assert float(ours[3]) < float(mono[3])  # object-aware pan error below mono's
    assert abs(float(ours[9]) - -23.0) < 1.0  # all renders at the same loudness


def test_real_mode_needs_marked_clips(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "--real", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no marked clips" in err[0]


def test_real_mode_writes_its_report(marked_clip_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "real.md"
    result = _run(["--real", str(marked_clip_dir), "--out", str(out)])
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert text.strip() in result.stdout
    assert "| bounce.mp4 | 25.00 |" in text
    assert "stereofoley eval --real" in text and "-> default:" in text
    row = next(line for line in text.splitlines()
               if line.startswith("| learned (event_net) (all)"))
    recall = float(row.split("|")[4])
    assert recall >= 0.6


def test_semantic_mode_needs_true_classes_files(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "--semantic", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no true-classes files" in err[0]


def test_semantic_mode_scores_both_labellings(marked_clip_dir: Path, tmp_path: Path) -> None:
    """A synthetic bouncing ball (the recognizer sees a coloured square: "unknown", so its sound
    comes from its box shape, "ball", in both renders): every stem gets the ball's recipe."""
    from model.lab.semantic_real import CONDITIONS, SCHEMA

    (marked_clip_dir / "bounce.classes.json").write_text(json.dumps(
        {"schema": SCHEMA, "video": "bounce.mp4", "classes": ["sports ball"]}))
    out = tmp_path / "semantic.md"
    result = _run(["--semantic", str(marked_clip_dir), "--seed", "3", "--out", str(out)])
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert "stereofoley eval --semantic" in text and "--seed 3" in text
    for condition in CONDITIONS:
        row = next(line for line in text.splitlines()
                   if line.startswith(f"| bounce.mp4 | sports ball | {condition} |"))
        cells = [c.strip() for c in row.split("|")[1:-1]]
        assert int(cells[3]) >= 1 and float(cells[5]) == 1.0, row
