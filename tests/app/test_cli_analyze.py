"""`stereofoley analyze VIDEO -o TRACKS.json` end to end, checked against the contract and truth."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from video.analyze import score_analysis
from video.base.tracks import TRACKS_SCHEMA, Analysis
from video.synth import ObjectSpec, SceneSpec, write_clip


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", "analyze", *args], capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Analysis]:
    spec = SceneSpec(width=480, height=270, fps=Fraction(30000, 1001), duration=3.0, seed=31,
                     noise=3, objects=(
                         ObjectSpec("ball", start=(0.2, 0.15), velocity=(0.12, 0), size=0.12),
                         ObjectSpec("box", start=(0.95, 0.35), velocity=(-0.35, 0), aspect=1.6,
                                    color=(30, 185, 60))))
    path = tmp_path_factory.mktemp("cli") / "clip.mp4"
    return path, write_clip(spec, path)


@pytest.mark.slow
def test_analyze_writes_the_tracks_contract(clip: tuple[Path, Analysis], tmp_path: Path) -> None:
    path, truth = clip
    out = tmp_path / "tracks.json"
    proc = analyze(str(path), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "2 objects" in proc.stdout
    doc = json.loads(out.read_text())
    assert doc["schema"] == TRACKS_SCHEMA
    assert doc["video"] == {"path": str(path), "width": 480, "height": 270, "fps": "30000/1001",
                            "duration": pytest.approx(90 * 1001 / 30000, abs=1e-6),
                            "frames": 90}
    assert doc["cuts"] == []
    for obj in doc["objects"]:
        assert set(obj) >= {"id", "label", "frames", "boxes", "events"}
        assert obj["frames"] == sorted(obj["frames"]) and len(obj["frames"]) == len(obj["boxes"])
        assert all(0 <= e["strength"] <= 1 and e["kind"] in {"impact", "step"}
                   for e in obj["events"])
    result = Analysis.from_dict(doc)
    score = score_analysis(truth, result)
    assert all(o.coverage >= 0.9 and o.single_id >= 0.8 for o in score.objects), score.objects
    impacts = score.event("impact")
    assert impacts.recall >= 0.8 and impacts.precision >= 0.7, impacts
    # neither a flat-shaded ball nor a green box is a class the recognizer knows
    assert sorted(o["label"] for o in doc["objects"]) == ["unknown", "unknown"]
    assert all(o["label_source"] == "detector" and o["label_confidence"] == 0.0
               for o in doc["objects"])


@pytest.mark.slow
def test_no_recognize_gives_shape_labels_and_label_overrides(clip: tuple[Path, Analysis],
                                                             tmp_path: Path) -> None:
    path, _ = clip
    out = tmp_path / "tracks.json"
    proc = analyze(str(path), "-o", str(out), "--no-recognize")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert sorted(o["label"] for o in doc["objects"]) == ["ball", "vehicle"]
    assert all("label_confidence" not in o for o in doc["objects"])
    ball = next(o["id"] for o in doc["objects"] if o["label"] == "ball")
    proc = analyze(str(path), "-o", str(out), "--no-recognize", "--label", f"{ball}=Sports_Ball")
    assert proc.returncode == 0, proc.stderr
    labels = {o["id"]: (o["label"], o.get("label_source")) for o in json.loads(out.read_text())[
        "objects"]}
    assert labels[ball] == ("sports ball", "user")
    out.unlink()
    proc = analyze(str(path), "-o", str(out), "--no-recognize", "--label", "9=car")
    assert proc.returncode == 2 and proc.stderr.strip().splitlines()[-1].startswith(
        "error: --label for unknown object id 9"), proc.stderr
    assert not out.exists()


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "missing.mp4", "missing"),
    (lambda d: (d / "text.mp4").write_text("hello") and d / "text.mp4", "text"),
])
def test_bad_video_is_one_error_line_and_no_output(tmp_path: Path, make: object,
                                                   message: str) -> None:
    video = make(tmp_path)  # type: ignore[operator]
    out = tmp_path / "tracks.json"
    proc = analyze(str(video), "-o", str(out))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[-1].startswith("error:"), proc.stderr
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tracks")] == []


def test_max_objects_must_be_positive(clip: tuple[Path, Analysis], tmp_path: Path) -> None:
    proc = analyze(str(clip[0]), "-o", str(tmp_path / "t.json"), "--max-objects", "0")
    assert proc.returncode == 2 and proc.stderr.startswith("error:")
