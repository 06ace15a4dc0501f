"""`stereofoley analyze VIDEO -o TRACKS.json` end to end, checked against the contract and truth."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import pytest

from video.analyze import score_analysis
from video.base.tracks import TRACKS_SCHEMA, Analysis
from video.reader import VideoFrame
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


def test_truncated_video_is_analysed_with_a_warning(tmp_path: Path) -> None:
    """A file cut short whose index survived (moov first) still analyses, and says so."""
    import av
    import numpy as np

    full = tmp_path / "full.mp4"
    rng = np.random.default_rng(5)
    with av.open(str(full), mode="w", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for i in range(400):  # 16 s of noise, so the bytes spread evenly over time
            frame = av.VideoFrame.from_ndarray(rng.integers(0, 255, (64, 64, 3), np.uint8),
                                               format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    cut = tmp_path / "cut.mp4"
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) * 3 // 10])
    out = tmp_path / "tracks.json"
    proc = analyze(str(cut), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning:")]
    warnings = [line for line in warnings if "no moving objects" not in line]  # noise: none
    assert len(warnings) == 1
    assert warnings[0].endswith("of 16.0 s (truncated?)")
    ends_at = float(warnings[0].split("video ends at ")[1].split(" s")[0])
    assert 3.0 < ends_at < 6.0
    assert json.loads(out.read_text())["video"]["duration"] == pytest.approx(ends_at, abs=0.05)


@pytest.fixture(scope="module")
def small_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = SceneSpec(width=192, height=108, fps=Fraction(25), duration=1.5, seed=8,
                     objects=(ObjectSpec("ball", start=(0.2, 0.2), velocity=(0.3, 0), size=0.25),
                              ObjectSpec("box", start=(0.85, 0.6), velocity=(-0.3, 0),
                                         size=0.25, color=(30, 185, 60))))
    path = tmp_path_factory.mktemp("small") / "small.mp4"
    write_clip(spec, path)
    return path


def test_analyze_prints_the_object_ids_and_labels(small_clip: Path, tmp_path: Path) -> None:
    """The ids `render --prompt ID=TEXT` takes, as a table on stdout; progress in a log is one
    plain line per stage (stderr is a pipe here, not a terminal)."""
    out = tmp_path / "tracks.json"
    proc = analyze(str(small_clip), "-o", str(out), "--events", "motion")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert len(doc["objects"]) == 2
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["id", "label", "on", "screen", "(s)", "events"]
    rows = [line.split() for line in lines[1:-1]]
    assert [(int(r[0]), r[1]) for r in rows] == [(o["id"], o["label"]) for o in doc["objects"]]
    assert [int(r[3]) for r in rows] == [len(o["events"]) for o in doc["objects"]]
    fps = Fraction(doc["video"]["fps"])
    for row, obj in zip(rows, doc["objects"], strict=True):
        first, last = (float(t) for t in row[2].split("-"))
        assert first == pytest.approx(float(obj["frames"][0] / fps), abs=0.006)
        assert last == pytest.approx(float(obj["frames"][-1] / fps), abs=0.006)
    assert lines[-1] == f"2 objects, 0 cuts -> {out}"
    assert "\r" not in proc.stderr
    progress = proc.stderr.splitlines()
    assert all(line.startswith("analyze: ") for line in progress), proc.stderr
    assert 3 <= len(progress) <= 10                      # stages, not one line per frame


@pytest.fixture(scope="module")
def still_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1 s of a picture in which nothing moves."""
    path = tmp_path_factory.mktemp("still") / "still.mp4"
    write_clip(SceneSpec(width=160, height=96, fps=Fraction(25), duration=1.0, objects=()), path)
    return path


@pytest.mark.parametrize("command", ["analyze", "render", "studio"])
def test_no_moving_objects_is_a_warning(still_clip: Path, tmp_path: Path, command: str) -> None:
    out = tmp_path / "out"
    argv = {"analyze": ["analyze", str(still_clip), "-o", str(tmp_path / "t.json")],
            "render": ["render", str(still_clip), "-o", str(out)],
            "studio": ["studio", str(still_clip), "--headless-out", str(out)]}[command]
    proc = subprocess.run([sys.executable, "-m", "app", *argv], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and warnings[0].startswith("warning: no moving objects found"), \
        proc.stderr
    if command == "analyze":
        assert proc.stdout == f"0 objects, 0 cuts -> {tmp_path / 't.json'}\n"
    else:
        assert (out / "mix.wav").is_file()


def _analysed_events(tmp_path: Path, frames: Iterable[VideoFrame], fps: int, kind: str,
                     switch: tuple[str, ...]) -> list[float]:
    """The times of the `kind` events `stereofoley analyze --no-recognize` (and `switch`) gives
    the frames encoded as an MP4."""
    from video.encode import write_video

    path = tmp_path / "clip.mp4"
    write_video(path, [f.image for f in frames], Fraction(fps), gop=12)
    out = tmp_path / "tracks.json"
    proc = analyze(str(path), "-o", str(out), "--no-recognize", *switch)
    assert proc.returncode == 0, proc.stderr
    return [e["time"] for o in json.loads(out.read_text())["objects"] for e in o["events"]
            if e["kind"] == kind]


@pytest.mark.slow
@pytest.mark.parametrize("switch, onsets", [((), 1), (("--no-onsets",), 0)])
def test_a_struck_object_gets_an_onset_unless_turned_off(tmp_path: Path, switch: tuple[str, ...],
                                                         onsets: int) -> None:
    """A disc at rest knocked away by a bar (tests/video/test_struck.py's clip, encoded): the
    analysis gives one onset event near the strike; `--no-onsets` gives none."""
    from tests.video.test_struck import FPS, STRIKE, _frames

    found = _analysed_events(tmp_path, _frames("strike"), FPS, "onset", switch)
    assert len(found) == onsets
    if onsets:
        assert found[0] == pytest.approx((STRIKE + 0.5) / FPS, abs=1.5 / FPS)


@pytest.mark.slow
@pytest.mark.parametrize("switch, splashes", [((), 1), (("--no-splashes",), 0)])
def test_a_thing_falling_into_water_splashes_unless_turned_off(tmp_path: Path,
                                                               switch: tuple[str, ...],
                                                               splashes: int) -> None:
    """A square falling into water with a spray of drops (tests/video/test_splashes.py's clip,
    encoded): one splash event just after it goes in; `--no-splashes` gives none."""
    from tests.video.test_splashes import CONTACT, FPS, _frames

    found = _analysed_events(tmp_path, _frames("splash"), FPS, "splash", switch)
    assert len(found) == splashes
    if splashes:
        assert 0.0 <= found[0] - CONTACT / FPS < 0.1


@pytest.mark.slow
@pytest.mark.parametrize("switch, releases", [
    ((), 1),
    (("--no-hands",), 0),
    (("--track", "20:190,352,232,393"), 2),                 # the ball drawn as well
    (("--no-hands", "--track", "20:190,352,232,393"), 0),   # off for drawn objects too
])
def test_a_thrower_letting_go_is_a_release_unless_turned_off(tmp_path: Path,
                                                             switch: tuple[str, ...],
                                                             releases: int) -> None:
    """balle-jbart.mp4's thrower lets go of the ball between frames 5 and 6 (25 fps): the
    analysis gives the ball one `release` there, at the fingertips, and so does the ball drawn
    with `--track`; `--no-hands` gives none, drawn or not."""
    clip = Path(__file__).resolve().parents[2] / "assets" / "clips" / "balle-jbart.mp4"
    out = tmp_path / "tracks.json"
    proc = analyze(str(clip), "-o", str(out), *switch)
    assert proc.returncode == 0, proc.stderr
    found = [e for o in json.loads(out.read_text())["objects"] for e in o["events"]
             if e["kind"] in ("touch", "release")]
    assert [e["kind"] for e in found] == ["release"] * releases
    if releases:
        assert found[0]["time"] == pytest.approx(5.5 / 25, abs=0.05)
        assert 90 <= found[0]["x"] <= 125
    for release in found[1:]:                               # the drawn ball's: tight box
        assert release["time"] == pytest.approx(5.5 / 25, abs=2 / 25)
