"""model.lab.audio_truth: real-clip sync against the clip's own audio, on synthetic clips that
carry their own click track (video.synth pictures, clicks muxed in with PyAV)."""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from app.cli import main
from audio.decode import load_audio
from model.lab.audio_truth import (
    SCHEMA,
    audio_truth_markdown,
    chance_scores,
    evaluate_audio_truth,
    find_audio_truth_clips,
    load_audio_truth,
    score_clip_audio,
    tap_times,
)
from model.lab.metrics import detect_onsets
from video.base.errors import InputError
from video.synth import ObjectSpec, SceneSpec, render_frames, scene_truth


def clicks(times: list[float], *, rate: int, duration: float, rng: np.random.Generator
           ) -> np.ndarray:
    """Mono int16 audio: short decaying noise clicks starting at `times`, over a quiet hum."""
    n = int(round(duration * rate))
    t = np.arange(n) / rate
    out = 0.01 * np.sin(2 * np.pi * 110 * t)
    decay = np.exp(-np.arange(int(0.03 * rate)) / (0.006 * rate))
    for time in times:
        start = int(round(time * rate))
        burst = rng.standard_normal(decay.size) * decay * 0.6
        out[start:start + burst.size] += burst[:max(0, n - start)]
    return np.clip(out * 32767, -32768, 32767).astype(np.int16)


def mux(path: Path, frames: list[np.ndarray], fps: Fraction, audio: np.ndarray, rate: int) -> None:
    """Write H.264 video and PCM audio into one Matroska file with PyAV."""
    import av

    with av.open(str(path), mode="w") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        sound = container.add_stream("pcm_s16le", rate=rate)
        sound.layout = "mono"
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1) / fps
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode(None):
            container.mux(packet)
        chunk = rate // 10
        for start in range(0, audio.size, chunk):
            block = av.AudioFrame.from_ndarray(audio[None, start:start + chunk], format="s16",
                                               layout="mono")
            block.sample_rate, block.pts = rate, start
            block.time_base = Fraction(1, rate)
            for packet in sound.encode(block):
                container.mux(packet)
        for packet in sound.encode(None):
            container.mux(packet)


@pytest.mark.parametrize("rate", [22_050, 44_100, 48_000])
def test_onsets_of_a_muxed_click_track_within_5_ms(tmp_path: Path, rate: int,
                                                    rng: np.random.Generator) -> None:
    """The truth side: a clip's own clicks, decoded from the container and resampled to 48 kHz,
    are found one each, within 5 ms."""
    times = [0.31, 0.77, 1.2, 1.93, 2.41]
    path = tmp_path / "clicks.mkv"
    frames = [np.full((64, 64, 3), 90, np.uint8)] * 36
    mux(path, frames, Fraction(12), clicks(times, rate=rate, duration=3.0, rng=rng), rate)
    onsets = detect_onsets(load_audio(path))
    assert onsets.size == len(times)
    assert np.max(np.abs(onsets - np.array(times))) < 0.005


def test_chance_is_the_density_baseline_and_seeded(rng: np.random.Generator) -> None:
    real = np.sort(rng.uniform(0, 20, 30))
    # perfectly synced generated onsets score 1; shifted copies score about what density
    # predicts: a real onset within +-tol of one of 30 onsets in 20 s, ~ 2 x 0.1 x 30 / 20 = 0.3
    recall, precision = chance_scores(real, real, duration=20.0, tolerance_s=0.1, seed=3)
    assert 0.12 < recall < 0.45 and recall == pytest.approx(precision)
    assert chance_scores(real, real, duration=20.0, tolerance_s=0.1, seed=3) == (recall, precision)
    narrow, _ = chance_scores(real, real, duration=20.0, tolerance_s=1 / 24, seed=3)
    assert narrow < recall
    row = score_clip_audio("c", "motion", real, real + 0.02, fps=12.0, duration=20.0)
    assert row.frame.score.recall == 1.0 and row.wide.score.precision == 1.0
    assert row.median_offset_ms == pytest.approx(20.0, abs=1e-6)
    assert row.frame.chance_recall < 0.5
    empty = score_clip_audio("c", "motion", real, np.zeros(0), fps=12.0, duration=20.0)
    assert empty.wide.score.recall == 0.0 and math.isnan(empty.median_offset_ms)
    with pytest.raises(ValueError):
        chance_scores(real, real, duration=0.0, tolerance_s=0.1)


@pytest.mark.parametrize(("content", "message"), [
    ("{", "not valid JSON"),
    ('{"schema": "other"}', "not an audio-truth file"),
    (json.dumps({"schema": SCHEMA, "video": "missing.mkv"}), "is not beside it"),
    (json.dumps({"schema": SCHEMA, "video": "v.mkv", "taps": "1.5"}), "'taps' must be a list"),
    (json.dumps({"schema": SCHEMA, "video": "v.mkv", "taps": [1.5, -0.1]}), "'taps' must be"),
    (json.dumps({"schema": SCHEMA, "video": "v.mkv", "taps": [True]}), "'taps' must be"),
])
def test_bad_audio_truth_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "x.audio-truth.json"
    path.write_text(content)
    (tmp_path / "v.mkv").write_bytes(b"")
    with pytest.raises(InputError, match=message):
        load_audio_truth(path)


def test_taps_are_read_sorted_and_timed_by_the_nearest_audio_onset(tmp_path: Path) -> None:
    (tmp_path / "v.mkv").write_bytes(b"")
    path = tmp_path / "v.audio-truth.json"
    path.write_text(json.dumps({"schema": SCHEMA, "video": "v.mkv", "taps": [3.4, 1.5]}))
    clip = load_audio_truth(path)
    assert clip.taps == (1.5, 3.4)
    assert load_audio_truth(_without_taps(path)).taps == ()
    onsets = np.array([0.3, 1.52, 3.29, 7.1])
    # 1.5 -> the click 20 ms later; 3.4 has none within 100 ms (3.29 is 110 ms off): kept as marked
    assert tap_times(clip.taps, onsets).tolist() == [1.52, 3.4]
    assert tap_times(clip.taps, np.zeros(0)).tolist() == [1.5, 3.4]


def _without_taps(path: Path) -> Path:
    other = path.with_name("w.audio-truth.json")
    other.write_text(json.dumps({"schema": SCHEMA, "video": "v.mkv"}))
    return other


@pytest.mark.parametrize(("generated", "found", "met"), [
    ([1.53, 2.98, 5.02], 3, True),           # every tap, one one-shot each
    ([1.56, 2.96, 5.0], 2, True),            # 1.56 is 60 ms late: 2 of 3 still meet it
    ([1.56, 2.9, 5.0], 1, False),            # 2.9 is 100 ms early
    ([1.5, 3.0, 5.0, 0.2, 0.4, 0.6, 4.0], 3, False),   # 7 one-shots for 3 taps: too many
    ([], 0, False),
])
def test_tap_measure(generated: list[float], found: int, met: bool) -> None:
    real = np.array([0.3, 1.5, 3.0, 5.0, 7.0])
    taps = np.array([1.5, 3.0, 5.0])
    row = score_clip_audio("c", "motion", real, np.array(generated), fps=30.0, duration=8.0,
                           taps=taps)
    assert (row.taps, row.taps_found, row.taps_met) == (3, found, met)
    plain = score_clip_audio("c", "motion", real, np.array(generated), fps=30.0, duration=8.0)
    assert (plain.taps, plain.taps_met) == (0, False)


def bouncing_clip(folder: Path, rng: np.random.Generator) -> list[float]:
    """A 12 fps clip of two bouncing balls whose own audio clicks at every floor contact; the
    audio-truth file beside it. Returns the contact times."""
    spec = SceneSpec(width=320, height=240, fps=Fraction(12), duration=6.0, seed=5,
                     background="gradient", objects=(
                         ObjectSpec("ball", start=(0.25, 0.1), velocity=(0.05, 0.0), size=0.14,
                                    restitution=0.8, gravity=2.5, color=(230, 40, 40)),
                         ObjectSpec("ball", start=(0.7, 0.3), velocity=(-0.04, 0.0), size=0.12,
                                    restitution=0.75, gravity=3.0, color=(40, 90, 235))))
    times = sorted(e.time for t in scene_truth(spec).objects for e in t.events)
    rate = 44_100
    mux(folder / "balls.mkv", list(render_frames(spec)), spec.fps,
        clicks(times, rate=rate, duration=spec.duration, rng=rng), rate)
    (folder / "balls.audio-truth.json").write_text(json.dumps({"schema": SCHEMA,
                                                               "video": "balls.mkv"}))
    return times


def test_rendered_onsets_are_above_chance_on_a_clip_with_its_own_clicks(
        tmp_path: Path, rng: np.random.Generator) -> None:
    truth = bouncing_clip(tmp_path, rng)
    clips = find_audio_truth_clips(tmp_path)
    assert [c.name for c in clips] == ["balls.mkv"]
    (row,) = evaluate_audio_truth(clips, detectors=("motion",), seed=0)
    assert len(truth) - 2 <= row.real_onsets <= len(truth)  # (contacts < 0.1 s apart merge)
    # (at 12 fps the low last bounces are missed: recall 8 of 14, no false one-shot)
    assert row.wide.score.recall >= 0.5 and row.wide.score.precision >= 0.8
    assert row.wide.score.recall > row.wide.chance_recall + 0.3
    assert abs(row.median_offset_ms) < 60
    table = audio_truth_markdown([row], str(tmp_path))
    assert "| balls.mkv | motion | 12.00 |" in table
    assert "Visible taps" not in table


def test_a_clip_listing_its_taps_gets_the_tap_measure(tmp_path: Path,
                                                     rng: np.random.Generator) -> None:
    truth = bouncing_clip(tmp_path, rng)
    marked = [t for t in truth if t < 3.0]    # the clear, high bounces of the first 3 s
    (tmp_path / "balls.audio-truth.json").write_text(json.dumps(
        {"schema": SCHEMA, "video": "balls.mkv", "taps": [round(t, 2) for t in marked]}))
    (row,) = evaluate_audio_truth(find_audio_truth_clips(tmp_path), detectors=("motion",))
    assert row.taps == len(marked) >= 3
    assert 3 * row.taps_found >= 2 * row.taps      # the bounces the picture shows are heard
    assert row.generated_onsets <= 2 * len(truth)
    table = audio_truth_markdown([row], str(tmp_path))
    assert f"| balls.mkv | motion | {row.taps} | {row.taps_found} of {row.taps} |" in table


def test_eval_real_on_a_folder_of_audio_truth_clips(tmp_path: Path, rng: np.random.Generator,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    bouncing_clip(tmp_path, rng)
    out = tmp_path / "report.md"
    assert main(["eval", "--real", str(tmp_path), "--out", str(out)]) == 0
    text = out.read_text()
    assert "sync against the clips' own audio" in text
    assert "| balls.mkv | learned |" in text and "| balls.mkv | motion |" in text
    assert f"--real {tmp_path} --seed 1000" in text


def test_eval_real_on_an_empty_folder_is_one_error(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "--real", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "audio-truth" in err[0]
