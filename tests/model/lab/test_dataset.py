"""Synthetic dataset: seeded clip plans, IoU track matching, and a real end-to-end build."""

from __future__ import annotations

import json
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from model.lab.dataset import (
    DatasetConfig,
    box_iou,
    build_dataset,
    match_tracks,
    plan_clips,
    track_iou,
    write_json_atomic,
)
from video.base.errors import Cancelled, InputError
from video.base.tracks import Analysis, Track, VideoInfo

TINY = DatasetConfig(sizes=((192, 108),), frame_rates=(Fraction(25),), min_duration=1.6,
                     max_duration=2.0)
INFO = VideoInfo(path="c.mp4", width=320, height=180, fps=Fraction(25), duration=2.0, frames=50)


def _track(track_id: int, x0: float, frames: range, *, dx: float = 0.0) -> Track:
    f = np.array(list(frames))
    x = x0 + dx * (f - f[0])
    return Track(id=track_id, label="o", frames=f,
                 boxes=np.stack([x, np.full(f.size, 50.0), x + 40, np.full(f.size, 90.0)], 1))


@pytest.mark.parametrize(
    ("a", "b", "iou"),
    [
        ([0, 0, 10, 10], [0, 0, 10, 10], 1.0),
        ([0, 0, 10, 10], [5, 0, 15, 10], 50 / 150),
        ([0, 0, 10, 10], [20, 20, 30, 30], 0.0),
        ([0, 0, 10, 10], [2, 2, 4, 4], 4 / 100),
        ([0, 0, 0, 0], [0, 0, 0, 0], 0.0),  # degenerate boxes: no overlap, no division by zero
    ],
)
def test_box_iou(a: list[float], b: list[float], iou: float) -> None:
    assert box_iou(np.array([a], float), np.array([b], float))[0] == pytest.approx(iou)


def test_track_iou_counts_frames_the_truth_lacks_as_zero() -> None:
    truth = _track(1, 100, range(0, 20))
    assert track_iou(_track(9, 100, range(0, 20)), truth) == pytest.approx(1.0)
    assert track_iou(_track(9, 100, range(10, 30)), truth) == pytest.approx(0.5)
    assert track_iou(_track(9, 100, range(30, 40)), truth) == 0.0


def test_match_tracks_is_one_to_one_and_thresholded() -> None:
    truth = Analysis(video=INFO, objects=(_track(1, 20, range(50), dx=2),
                                          _track(2, 250, range(50), dx=-2)))
    analysed = Analysis(video=INFO, objects=(
        _track(7, 248, range(2, 48), dx=-2),   # follows truth 2, 2 px off
        _track(8, 22, range(0, 50), dx=2),     # follows truth 1
        _track(9, 24, range(0, 50), dx=2),     # a duplicate of truth 1: left unmatched
        _track(10, 140, range(0, 10)),         # spurious, overlaps nothing
    ))
    matches = match_tracks(truth, analysed)
    assert [(a, t) for a, t, _ in matches] == [(7, 2), (8, 1)]
    assert all(iou > 0.85 for *_, iou in matches)
    assert match_tracks(truth, analysed.with_objects(())) == []
    assert match_tracks(truth, analysed, min_iou=0.99) == []


def test_plans_are_deterministic_and_varied() -> None:
    a = plan_clips(12, seed=5)
    assert a == plan_clips(12, seed=5)
    assert a != plan_clips(12, seed=6)
    assert len({p.seed for p in a}) == 12
    assert len({p.fps for p in a}) > 1 and len({(p.width, p.height) for p in a}) > 1
    assert all(3.0 <= p.duration <= 5.0 for p in a)
    assert [p.name for p in a[:2]] == ["clip_0000", "clip_0001"]
    with pytest.raises(InputError):
        plan_clips(0, seed=1)


def test_a_share_of_plans_is_slow_motion_without_changing_the_rest() -> None:
    plans = plan_clips(400, seed=3)
    slow = [p for p in plans if p.tempo < 1.0]
    assert 0.24 < len(slow) / len(plans) < 0.36
    assert all(0.15 <= p.tempo <= 0.6 for p in slow)
    real_time = plan_clips(400, seed=3, config=DatasetConfig(slow_share=0.0))
    assert all(p.tempo == 1.0 for p in real_time)
    # the slow share draws from its own stream: seeds and geometry stay the same
    assert [replace(p, tempo=1.0) for p in plans] == real_time
    with pytest.raises(InputError, match="share"):
        DatasetConfig(slow_share=1.2)
    with pytest.raises(InputError, match="tempo range"):
        DatasetConfig(slow_tempo=(0.5, 0.2))


def test_write_json_atomic_leaves_no_temp(tmp_path: Path) -> None:
    write_json_atomic(tmp_path / "sub" / "m.json", {"a": [1, 2]})
    assert json.loads((tmp_path / "sub" / "m.json").read_text()) == {"a": [1, 2]}
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["m.json"]


def test_cancel_leaves_nothing_behind(tmp_path: Path) -> None:
    def cancel(fraction: float, message: str) -> None:
        raise Cancelled()

    with pytest.raises(Cancelled):
        build_dataset(tmp_path / "ds", clips=3, seed=0, config=TINY, progress=cancel)
    assert list(tmp_path.iterdir()) == []


def test_build_dataset_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    with pytest.raises(InputError, match="already exists"):
        build_dataset(tmp_path / "x", clips=1, seed=0)
    assert (tmp_path / "x" / "keep.txt").read_text() == "mine"



@pytest.mark.slow
def test_build_dataset_end_to_end(tmp_path: Path) -> None:
    manifest_path = build_dataset(tmp_path / "ds", clips=2, seed=3, config=TINY)
    manifest = json.loads(manifest_path.read_text())
    assert manifest["seed"] == 3 and len(manifest["clips"]) == 2
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folder left
    plans = plan_clips(2, 3, TINY)
    assert [c["tempo"] for c in manifest["clips"]] == [p.tempo for p in plans]
    assert manifest["config"]["slow_share"] == TINY.slow_share
    for clip in manifest["clips"]:
        truth = Analysis.from_dict(clip["truth"])
        analysed = Analysis.from_dict(clip["analysed"])
        assert (tmp_path / "ds" / clip["video"]).is_file()
        assert truth.video.fps == Fraction(25) and truth.video.width == 192
        true_ids = {t.id for t in truth.objects}
        for a_id, t_id, iou in clip["matches"]:
            assert t_id in true_ids and 0.3 <= iou <= 1.0
            analysed.object(a_id)
        import soundfile

        mix, rate = soundfile.read(tmp_path / "ds" / clip["audio"]["mix"])
        assert rate == 48_000 and mix.shape[1] == 2
        assert len(clip["audio"]["stems"]) == len(truth.objects)
        for rel in clip["audio"]["stems"].values():
            stem, _ = soundfile.read(tmp_path / "ds" / rel)
            assert stem.shape == mix.shape
    # deterministic: the same seed gives the same manifest (tracks, matches, events)
    again = build_dataset(tmp_path / "ds2", clips=2, seed=3, config=TINY)
    assert json.loads(again.read_text()) == manifest
