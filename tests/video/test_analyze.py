"""The analysis pipeline against synthetic truth: coverage, identities, events, cuts, contract."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from video.analyze import AnalysisConfig, analyze_frames, analyze_video, score_analysis
from video.base.errors import Cancelled, VideoError
from video.base.tracks import Analysis
from video.recognize import RecognizeConfig
from video.synth import ObjectSpec, SceneSpec, scene_truth, video_frames, write_clip

F = Fraction

SCENES = {
    # three bouncing balls, NTSC rate, a size that is no multiple of 16
    "balls": SceneSpec(width=638, height=358, fps=F(30000, 1001), duration=4.0, seed=11, noise=3,
                       objects=(ObjectSpec("ball", start=(0.15, 0.2), velocity=(0.1, 0), size=0.12),
                                ObjectSpec("ball", start=(0.5, 0.1), size=0.09,
                                           color=(40, 90, 235), restitution=0.75),
                                ObjectSpec("ball", start=(0.85, 0.3), velocity=(-0.08, 0),
                                           size=0.1, color=(245, 200, 20), gravity=4.0))),
    # two objects crossing, the red one passing in front of the green one
    "crossing": SceneSpec(width=642, height=362, fps=F(30), duration=4.0, seed=13, noise=5,
                          objects=(ObjectSpec("box", start=(0.1, 0.45), velocity=(0.45, 0),
                                              aspect=1.6, color=(230, 40, 40), depth=1),
                                   ObjectSpec("box", start=(0.9, 0.5), velocity=(-0.45, 0),
                                              aspect=1.2, color=(30, 185, 60)))),
    # a walker and a ball bouncing on a ledge, PAL rate, gradient background
    "walker": SceneSpec(width=640, height=360, fps=F(25), duration=4.0, seed=12, noise=4,
                        background="gradient",
                        objects=(ObjectSpec("walker", start=(0.12, 0), velocity=(0.15, 0), size=0.45,
                                            color=(40, 90, 235)),
                                 ObjectSpec("ball", start=(0.65, 0.15), velocity=(0.12, 0),
                                            size=0.1, floor=0.6))),
}


@pytest.fixture(scope="module")
def analysed() -> dict[str, tuple[Analysis, Analysis]]:
    """(truth, result) per scene, computed once for the module."""
    out = {}
    for name, spec in SCENES.items():
        truth = scene_truth(spec)
        out[name] = (truth, analyze_frames(video_frames(spec), truth.video))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SCENES))
def test_every_object_is_tracked_with_one_identity(
        analysed: dict[str, tuple[Analysis, Analysis]], name: str) -> None:
    truth, result = analysed[name]
    score = score_analysis(truth, result, min_iou=0.3)
    for obj in score.objects:
        assert obj.coverage >= 0.9, (name, obj)
        assert obj.single_id >= 0.8, (name, obj)
    assert len({o.best_id for o in score.objects}) == len(score.objects)   # ids not shared
    assert score.false_tracks == 0
    for track in result.objects:        # boxes are in source pixels, inside the picture
        assert track.boxes[:, 0].min() >= -1 and track.boxes[:, 2].max() <= truth.video.width + 1


@pytest.mark.slow
@pytest.mark.parametrize("name, kind", [("balls", "impact"), ("walker", "step"),
                                        ("walker", "impact")])
def test_events_within_one_frame(analysed: dict[str, tuple[Analysis, Analysis]], name: str,
                                 kind: str) -> None:
    truth, result = analysed[name]
    events = score_analysis(truth, result, tolerance_frames=1.0).event(kind)
    assert events.true_count >= 4
    assert events.recall >= 0.8, events
    assert events.precision >= 0.7, events


@pytest.mark.slow
def test_recognizer_labels_the_walker_a_person(
        analysed: dict[str, tuple[Analysis, Analysis]]) -> None:
    """The synthetic walker (head, body, swinging legs) is a person to the detector; the flat
    ball is no class it knows (it has no ball class) and stays unknown."""
    truth, result = analysed["walker"]
    score = score_analysis(truth, result)
    labels = {truth.object(o.truth_id).label: result.object(o.best_id).label
              for o in score.objects if o.best_id is not None}
    assert labels == {"walker": "person", "ball": "unknown"}
    person = next(t for t in result.objects if t.label == "person")
    assert person.extra["label_source"] == "detector"
    assert person.extra["label_confidence"] >= 0.3


@pytest.mark.slow
def test_labels_follow_shape_and_events_without_recognition() -> None:
    spec = SCENES["walker"]
    truth = scene_truth(spec)
    config = AnalysisConfig(recognize=RecognizeConfig(enabled=False))
    result = analyze_frames(video_frames(spec), truth.video, config=config)
    score = score_analysis(truth, result)
    labels = {truth.object(o.truth_id).label: result.object(o.best_id).label
              for o in score.objects if o.best_id is not None}
    assert labels == {"walker": "walker", "ball": "ball"}


@pytest.fixture(scope="module")
def cut_clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Analysis]:
    """An encoded clip with a hard cut at 2 s: a ball before, a box after."""
    spec = SceneSpec(width=320, height=180, fps=F(25), duration=4.0, seed=21, noise=2,
                     cuts=(2.0,),
                     objects=(ObjectSpec("ball", start=(0.2, 0.2), velocity=(0.25, 0), t_exit=2.0),
                              ObjectSpec("box", start=(0.9, 0.5), velocity=(-0.4, 0), aspect=1.5,
                                         color=(30, 185, 60), t_enter=2.0)))
    path = tmp_path_factory.mktemp("cut") / "cut.mp4"
    return path, write_clip(spec, path)


@pytest.mark.slow
def test_video_file_with_a_cut(cut_clip: tuple[Path, Analysis]) -> None:
    path, truth = cut_clip
    seen: list[float] = []
    result = analyze_video(path, progress=lambda f, msg: seen.append(f))
    assert result.video.path == str(path)
    assert (result.video.width, result.video.height, result.video.frames) == (320, 180, 100)
    assert len(result.cuts) == 1 and abs(result.cuts[0] - 2.0) <= 1 / 25 + 1e-6
    cut_frame = 50
    for track in result.objects:          # no identity survives the cut
        assert track.frames[-1] < cut_frame or track.frames[0] >= cut_frame
    score = score_analysis(truth, result)
    assert all(o.coverage >= 0.85 for o in score.objects), score.objects
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)


def test_cancel_propagates() -> None:
    spec = SceneSpec(width=160, height=90, fps=F(25), duration=2.0,
                     objects=(ObjectSpec("ball", start=(0.3, 0.2)),))

    def cancel(fraction: float, message: str) -> None:
        if fraction > 0.3:
            raise Cancelled()

    with pytest.raises(Cancelled):
        analyze_frames(video_frames(spec), scene_truth(spec).video, progress=cancel)


def test_max_objects_keeps_the_most_salient() -> None:
    big = ObjectSpec("box", start=(0.1, 0.3), velocity=(0.5, 0), size=0.3, aspect=1.2)
    small = ObjectSpec("box", start=(0.9, 0.8), velocity=(-0.3, 0), size=0.08,
                       color=(30, 185, 60))
    spec = SceneSpec(width=320, height=180, fps=F(25), duration=3.0, seed=2, noise=2,
                     objects=(big, small))
    info = scene_truth(spec).video
    both = analyze_frames(video_frames(spec), info)
    one = analyze_frames(video_frames(spec), info, config=AnalysisConfig(max_objects=1))
    assert len(both.objects) == 2 and len(one.objects) == 1
    assert one.objects[0].id == 1
    assert np.median(one.objects[0].areas) > 4 * min(np.median(t.areas) for t in both.objects)


def test_not_a_video_is_a_video_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"this is not a video" * 100)
    with pytest.raises(VideoError):
        analyze_video(junk)
    with pytest.raises(VideoError):
        analyze_video(tmp_path / "missing.mp4")


@pytest.mark.parametrize("kwargs", [{"max_side": 10}, {"max_objects": 0}])
def test_bad_config_is_rejected(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        AnalysisConfig(**kwargs)


def test_empty_scene_finds_nothing() -> None:
    spec = SceneSpec(width=320, height=180, fps=F(30), duration=2.0, seed=8, noise=5)
    result = analyze_frames(video_frames(spec), scene_truth(spec).video)
    assert result.objects == ()


@pytest.mark.slow
def test_bundled_demo_against_its_truth() -> None:
    """The demo has the hard cases together (a walker passing over a rolling ball, a ball
    bouncing beside an approaching object, a crossing pair): a guard on the whole pipeline."""
    root = Path(__file__).resolve().parents[2] / "assets" / "demo"
    truth = Analysis.from_json((root / "demo.truth.json").read_text())
    result = analyze_video(root / "demo.mp4")
    score = score_analysis(truth, result)
    assert all(o.coverage >= 0.75 for o in score.objects), score.objects
    assert score.false_tracks <= 1
    walker = score.objects[1]
    assert walker.single_id >= 0.9            # keeps its id walking over the rolling ball


@pytest.mark.parametrize("fps", [12, 24])
def test_no_track_crosses_a_cut_between_shots_of_one_scene(fps: int) -> None:
    """Four shots of one place with the same characters (video.synth views): every cut is
    found within one frame and no track carries an object from one shot into the next."""
    objects = (ObjectSpec("walker", start=(0.3, 0.0), velocity=(0.12, 0.0), size=0.45,
                          color=(245, 200, 20)),
               ObjectSpec("walker", start=(0.7, 0.0), velocity=(-0.1, 0.0), size=0.4,
                          color=(245, 210, 30), step_period=0.45))
    spec = SceneSpec(width=320, height=240, fps=Fraction(fps), duration=4.0, seed=1,
                     noise=2.0, objects=objects, cuts=(1.0, 2.0, 3.0),
                     views=((0.0, 0.0), (0.2, 0.05), (-0.15, 0.0), (0.08, -0.08)))
    result = analyze_frames(video_frames(spec), scene_truth(spec).video)
    cut_frames = [round(c * fps) for c in spec.cuts]
    assert len(result.cuts) == 3
    assert all(abs(t * fps - f) <= 1.0 + 1e-6 for t, f in zip(result.cuts, cut_frames, strict=True))
    found = [round(t * fps) for t in result.cuts]
    assert result.objects  # the characters are tracked at all
    for track in result.objects:
        for cut in found:
            assert track.frames[-1] < cut or track.frames[0] >= cut, (track.id, cut)


def test_reread_gives_the_asked_frames_in_order_at_the_analysis_size(
        cut_clip: tuple[Path, Analysis]) -> None:
    """The recognizer's second look re-reads frames by index: ascending, each once, shrunk as
    the analysis pass shrank them, and the same pixels the pass saw (runs far apart each start
    from their own seek)."""
    from video.analyze import _fit, _reread
    from video.reader import VideoReader

    path, _ = cut_clip
    with VideoReader(path) as reader:
        frames = list(_reread(reader, [80, 3, 40, 4, 3], max_side=160, gap_s=1.0))
        assert [f.index for f in frames] == [3, 4, 40, 80]
        assert all(f.image.shape[:2] == (90, 160) and f.scale == pytest.approx(0.5)
                   for f in frames)
        first = {f.index: _fit(f, 160) for f in reader.frames(max_side=160) if f.index in (4, 80)}
    for f in frames:
        if f.index in first:
            assert np.array_equal(f.image, first[f.index].image)


def test_no_track_crosses_a_second_bootstrap() -> None:
    """After a dolly the camera holds still and the motion detector bootstraps again
    (video.motion); the tracks of the stale background end there, and the square crossing
    the still picture gets one track of its own, tight on it."""
    from tests.video.test_motion import DOLLY_CONFIG, DOLLY_FPS, dolly_frames
    from video.base.tracks import VideoInfo
    from video.reader import VideoFrame
    from video.tracker import paired_iou
    images, truth = dolly_frames(np.random.default_rng(7), 110)
    info = VideoInfo(path="dolly.mp4", width=320, height=180, fps=Fraction(int(DOLLY_FPS)),
                     duration=110 / DOLLY_FPS, frames=110)
    frames = (VideoFrame(index=i, time=i / DOLLY_FPS, image=im, scale=1.0)
              for i, im in enumerate(images))
    config = AnalysisConfig(motion=DOLLY_CONFIG, recognize=RecognizeConfig(enabled=False))
    result = analyze_frames(frames, info, config=config)
    restart = 54                       # where video.motion's test finds the second bootstrap
    assert result.extra["background_restarts"] == 1
    assert all(t.frames[-1] < restart or t.frames[0] >= restart for t in result.objects)
    best = 0.0
    for track in result.objects:
        common = [f for f in track.frames if f in truth]
        if common:
            boxes = track.boxes[np.isin(track.frames, common)]
            ious = paired_iou(boxes, np.array([truth[f] for f in common]))
            best = max(best, float((ious >= 0.6).sum()) / len(truth))
    assert best >= 0.8
