"""Dissolves: a cross-fade between two shots is found at its middle (the frame where the new
shot takes over), whatever its length; a hard cut, a camera pan, a change of exposure and an
object crossing a plain wall are not dissolves; tracks are split where one was found."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from tests.video.test_cuts import film_scene
from video.base.tracks import Event, Track
from video.cuts import frame_signature
from video.dissolves import Dissolve, DissolveConfig, DissolveDetector, split_at, thumbnail
from video.synth import video_frames

FPS = 25.0


def _picture(seed: int, size: tuple[int, int] = (120, 160)) -> np.ndarray:
    """A smooth random picture (gray levels 20..220): a shot's content."""
    rng = np.random.default_rng(seed)
    x = cv2.GaussianBlur(rng.uniform(0, 255, size).astype(np.float32), (0, 0), 6)
    return (x - x.min()) / (x.max() - x.min()) * 200 + 20


def _run(frames: list[np.ndarray], rng: np.random.Generator, *, fps: float = FPS
         ) -> list[Dissolve]:
    detector = DissolveDetector(fps)
    found = []
    for i, image in enumerate(frames):
        noisy = image + rng.normal(0.0, 2.0, image.shape)      # sensor noise
        found += detector.update(i, i / fps, thumbnail(noisy))
    return found + detector.finish()


A, B = _picture(1), _picture(2)


@pytest.mark.parametrize("length", [8, 15, 25, 50])
def test_a_dissolve_is_found_at_its_middle(length: int, rng: np.random.Generator) -> None:
    ramp = [(1 - k / (length + 1)) * A + k / (length + 1) * B for k in range(1, length + 1)]
    (found,) = _run([A] * 30 + ramp + [B] * 30, rng)
    assert abs(found.middle - (30 + length / 2)) <= 1.5
    assert found.start <= 31 and found.end >= 29 + length
    assert found.time == pytest.approx(found.middle / FPS)


def _pan() -> list[np.ndarray]:
    wide = cv2.resize(_picture(3), (400, 120))
    return [wide[:, 0:160]] * 10 + [wide[:, 4 * k: 4 * k + 160] for k in range(60)] \
        + [wide[:, 236:396]] * 10


def _crossing() -> list[np.ndarray]:
    frames = []
    for k in range(60):
        frame = A.copy()
        frame[40:80, 20 + 2 * k: 50 + 2 * k] = 250
        frames.append(frame)
    return frames


@pytest.mark.parametrize(("frames", "what"), [
    ([A] * 30 + [B] * 30, "a hard cut (the cut detector's)"),
    (_pan(), "a camera pan"),
    ([A] * 30 + [A * (1 + 0.02 * k) for k in range(20)] + [A * 1.4] * 30, "exposure rising"),
    (_crossing(), "an object crossing"),
    ([A] * 80, "a still shot"),
])
def test_other_changes_are_not_dissolves(frames: list[np.ndarray], what: str,
                                         rng: np.random.Generator) -> None:
    assert _run(frames, rng) == [], what


def test_a_fade_through_black_is_a_transition(rng: np.random.Generator) -> None:
    black = np.full_like(A, 5.0)
    out = [(1 - k / 12) * A + k / 12 * black for k in range(1, 13)]
    back = [(1 - k / 12) * black + k / 12 * B for k in range(1, 13)]
    found = _run([A] * 30 + out + back + [B] * 30, rng)
    assert found and 33 <= found[0].middle <= 38            # into black
    assert all(d.middle < 56 for d in found)


@pytest.mark.parametrize("fps", [12, 24])
@pytest.mark.parametrize("seed", [1, 3])
def test_dissolves_between_shots_of_one_scene(fps: int, seed: int) -> None:
    """video.synth's film scene (shots of one textured place, the same characters moving in
    them) with its three cuts turned into 0.5 s cross-fades: each is found within a frame."""
    spec = replace(film_scene(fps=fps, background="textured", seed=seed), dissolve=0.5)
    detector = DissolveDetector(float(fps))
    found = []
    for frame in video_frames(spec):
        found += detector.update(frame.index, float(frame.time),
                                 thumbnail(frame_signature(frame.image).gray))
    found += detector.finish()
    assert len(found) == len(spec.cuts)
    for dissolve, cut in zip(found, spec.cuts, strict=True):
        assert abs(dissolve.time - cut) <= 1.0 / fps + 1e-9


def test_tracks_are_split_at_dissolves() -> None:
    frames = np.arange(10, 40)
    boxes = np.tile([1.0, 2.0, 30.0, 40.0], (frames.size, 1))
    long, short = Track(id=4, label="object", frames=frames, boxes=boxes), \
        Track(id=9, label="object", frames=np.arange(0, 5), boxes=boxes[:5])
    pieces = split_at([long, short], [20, 30, 70])
    assert [(t.id, int(t.frames[0]), int(t.frames[-1])) for t in pieces] == [
        (4, 10, 19), (10, 20, 29), (11, 30, 39), (9, 0, 4)]
    assert split_at([long], []) == [long]
    stepped = long.with_changes(events=(Event(time=0.5, strength=1.0, kind="step"),))
    with pytest.raises(ValueError, match="before their events"):
        split_at([stepped], [20])


@pytest.mark.parametrize("kwargs", [{"min_s": 3.0}, {"min_change": 0.0}, {"hold_frames": 0},
                                    {"max_residual": 1.5}, {"min_layout": -1.0}])
def test_bad_config_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        DissolveConfig(**kwargs)  # type: ignore[arg-type]


def test_the_analysis_cuts_at_dissolves_and_no_track_crosses_one(tmp_path) -> None:
    from video.analyze import AnalysisConfig, analyze_video
    from video.recognize import RecognizeConfig
    from video.synth import write_clip

    spec = replace(film_scene(fps=24, background="textured", seed=1), dissolve=0.5)
    write_clip(spec, tmp_path / "film.mp4")
    analysis = analyze_video(tmp_path / "film.mp4",
                             config=AnalysisConfig(recognize=RecognizeConfig(enabled=False)))
    assert len(analysis.cuts) == len(spec.cuts)
    for found, cut in zip(analysis.cuts, spec.cuts, strict=True):
        assert abs(found - cut) <= 1.0 / 24 + 1e-5        # within a frame
    assert analysis.extra.get("dissolves") == 3
    frames = [round(t * 24) for t in analysis.cuts]
    for track in analysis.objects:
        assert not any(track.frames[0] < f <= track.frames[-1] for f in frames), track.id
    off = analyze_video(tmp_path / "film.mp4", config=AnalysisConfig(
        recognize=RecognizeConfig(enabled=False), dissolves=DissolveConfig(enabled=False)))
    assert off.cuts == () and "dissolves" not in off.extra
