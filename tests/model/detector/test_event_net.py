"""Features, labels, network, checkpoint and training of the learned event detector, on hand-made
bouncing-ball tracks whose bounce frames are known exactly."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from model.detector.event_features import (
    FEATURE_NAMES,
    KINDS,
    N_FEATURES,
    FramePrediction,
    decode_events,
    frame_targets,
    peak_frames,
    track_features,
)
from model.detector.event_net import (
    build_event_net,
    load_checkpoint,
    parameter_count,
    save_checkpoint,
)
from model.detector.learned_events import detect_events_learned, detect_events_model, predict
from model.detector.net_layout import EventModel, EventNetConfig, Normalizer
from model.lab.train_events import (
    TrainConfig,
    flip_vertical,
    jitter_boxes,
    make_sequence,
    mirror,
    orient,
    orientation_codes,
    split_clips,
    train,
    transpose,
)
from video.base.errors import Cancelled, InputError
from video.base.tracks import Event, Track, VideoInfo

TINY = EventNetConfig(channels=16, dilations=(1, 2, 4), dropout=0.0)


def _info(frames: int = 90, fps: Fraction = Fraction(30)) -> VideoInfo:
    return VideoInfo(path="x.mp4", width=320, height=180, fps=fps,
                     duration=frames / float(fps), frames=frames)


def bouncing_track(rng: np.random.Generator, info: VideoInfo, *, noise: float = 0.5,
                   track_id: int = 1) -> Track:
    """A ball falling under gravity and bouncing on a floor; events on the bounce frames."""
    n = info.frames
    x, y = rng.uniform(40, 280), rng.uniform(20, 80)
    vx, vy = rng.uniform(-3, 3), rng.uniform(-2, 2)
    g, floor, r = rng.uniform(0.6, 1.2), 160.0, 8.0
    centres, events = [], []
    for f in range(n):
        vy += g
        x, y = x + vx, y + vy
        if y > floor - r:
            y, vy = floor - r - (y - (floor - r)), -abs(vy) * 0.8
            events.append(Event(time=info.time_of_frame(f), strength=min(1.0, abs(vy) / 15),
                                kind="impact"))
        if x < r or x > info.width - r:
            vx = -vx
            x = min(max(x, r), info.width - r)
            events.append(Event(time=info.time_of_frame(f), strength=0.5, kind="impact"))
        centres.append((x, y))
    c = np.array(centres) + rng.normal(0, noise, (n, 2))
    boxes = np.concatenate([c - r, c + r], axis=1)
    boxes[:, [0, 2]] = np.clip(boxes[:, [0, 2]], 0, info.width)
    boxes[:, [1, 3]] = np.clip(boxes[:, [1, 3]], 0, info.height)
    return Track(id=track_id, label="ball", frames=np.arange(n), boxes=boxes,
                 events=tuple(events))


def test_features_of_constant_motion_have_known_values() -> None:
    info = _info(30)
    frames = np.arange(5, 25)
    cx = 100 + 2.0 * (frames - 5)  # 2 px per frame = 2/320 widths * 30 fps per second
    boxes = np.stack([cx - 10, np.full(20, 50.0), cx + 10, np.full(20, 70.0)], axis=1)
    feats = track_features(Track(id=1, label="x", frames=frames, boxes=boxes), info)
    assert feats.values.shape == (N_FEATURES, 20)
    v = dict(zip(FEATURE_NAMES, feats.values, strict=True))
    assert np.allclose(v["vx"], 2 / 320 * 30, atol=1e-5)
    assert np.allclose(v["vy"], 0.0) and np.allclose(v["ax"], 0.0, atol=1e-5)
    assert v["x"][0] == pytest.approx(100 / 320 - 0.5)
    assert np.allclose(v["observed"], 1.0)


def test_features_flag_interpolated_gaps_and_peak_on_a_bounce() -> None:
    info = _info(30)
    frames = np.array([0, 1, 2, 3, 4, 5, 6, 9, 10])
    y = np.array([10, 20, 30, 40, 50, 40, 30, 0, 0], dtype=float)  # bounce at frame 4
    boxes = np.stack([np.full(9, 10.0), y, np.full(9, 20.0), y + 10], axis=1)
    feats = track_features(Track(id=1, label="x", frames=frames, boxes=boxes), info)
    v = dict(zip(FEATURE_NAMES, feats.values, strict=True))
    assert list(feats.frames) == list(range(11))
    assert list(v["observed"]) == [1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1]
    assert int(np.argmin(v["ay"][:7])) == 4


def test_empty_track_gives_empty_features() -> None:
    feats = track_features(Track(id=1, label="x", frames=np.zeros(0), boxes=np.zeros((0, 4))),
                           _info())
    assert feats.values.shape == (N_FEATURES, 0)


@pytest.mark.parametrize(
    ("times", "onset_frames", "masked"),
    [
        ([0.5], [15], [14, 16]),
        ([0.51, 0.49], [15], [14, 16]),       # two events on one frame: one label
        ([0.0, 2.95], [0, 89], [1, 88]),       # first/last frame
        ([5.0], [], []),                      # outside the track: ignored
    ],
)
def test_frame_targets(times: list[float], onset_frames: list[int], masked: list[int]) -> None:
    info = _info(90)
    events = [Event(time=t, strength=0.7, kind="step") for t in times]
    t = frame_targets(events, np.arange(90), info)
    assert list(np.flatnonzero(t.onset)) == onset_frames
    assert list(np.flatnonzero(t.mask == 0)) == masked
    assert np.allclose(t.strength[onset_frames], 0.7) and np.all(t.kind[onset_frames] == 1)
    assert np.all(np.abs(t.offset) <= 0.5)
    if times == [0.51, 0.49]:
        assert t.offset[15] == pytest.approx(-0.3)  # the later event (0.49 s) sets the offset


def test_peak_picking_and_decoding() -> None:
    prob = np.array([0.1, 0.9, 0.8, 0.2, 0.1, 0.6, 0.1, 0.1, 0.95, 0.96])
    assert list(peak_frames(prob, threshold=0.5)) == [1, 5, 9]
    assert list(peak_frames(prob, threshold=0.7)) == [1, 9]
    assert list(peak_frames(prob, threshold=0.99)) == []
    info = _info(30)
    kinds = np.zeros((len(KINDS), 10))
    kinds[0, :] = 0.5
    kinds[1, 5] = 0.8  # frame 5 is most likely a step, the others impacts
    offset = np.zeros(10)
    offset[9] = -0.25  # the last event falls a quarter frame before its frame
    pred = FramePrediction(onset=prob, strength=np.full(10, 0.4), offset=offset, kinds=kinds)
    events = decode_events(pred, np.arange(10, 20), info, threshold=0.5)
    assert [e.time * 30 for e in events] == pytest.approx([11, 15, 18.75])
    assert [e.kind for e in events] == ["impact", "step", "impact"]
    assert all(e.strength == pytest.approx(0.4) for e in events)


@pytest.mark.parametrize(("fps", "gap"), [(Fraction(24), 2), (Fraction(30000, 1001), 2),
                                          (Fraction(30), 2), (Fraction(60), 4),
                                          (Fraction(36475, 198), 13)])
def test_peak_gap_is_two_frames_at_30_fps_in_time(fps: Fraction, gap: int) -> None:
    from model.detector.event_features import min_gap_frames_for

    assert min_gap_frames_for(float(fps)) == gap
    n = 60
    onset = np.zeros(n, dtype=np.float32)
    onset[[10, 10 + gap + 1, 40]] = [0.9, 0.8, 0.95]
    onset[40 + gap] = 0.7  # too close to the peak at 40: merged into it
    pred = FramePrediction(onset=onset, strength=np.full(n, 0.5, dtype=np.float32),
                           offset=np.zeros(n, dtype=np.float32),
                           kinds=np.tile(np.array([[1.0], [0.0], [0.0]], dtype=np.float32), n))
    info = _info(n, fps)
    events = decode_events(pred, np.arange(n), info, threshold=0.5)
    assert [info.frame_at_time(e.time) for e in events] == [10, 10 + gap + 1, 40]


@pytest.mark.parametrize("kwargs", [{"channels": 0}, {"kernel": 0}, {"dilations": ()},
                                    {"dilations": (1, 0)}, {"dropout": 1.0}, {"in_features": 0}])
def test_bad_network_shapes_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(InputError):
        EventNetConfig(**kwargs)  # type: ignore[arg-type]


def test_training_command_refuses_a_bad_width(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from model.lab.train_events import main as train_main

    (tmp_path / "manifest.json").write_text('{"clips": []}')
    assert train_main(["--data", str(tmp_path), "--out", str(tmp_path / "n.pt"),
                       "--channels", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: bad network shape")
    assert not (tmp_path / "n.pt").exists()


def test_network_shape_size_and_receptive_field() -> None:
    import torch

    net = build_event_net(TINY, seed=0)
    x = torch.zeros(2, N_FEATURES, 64)
    assert net(x).shape == (2, 3 + len(KINDS), 64)
    full = EventNetConfig()
    assert parameter_count(build_event_net(full, seed=0)) * 4 < 5 * 1024 * 1024  # < 5 MB
    net.eval()
    poked = x.clone()
    poked[0, :, 40] = 3.0
    changed = (net(poked) - net(x)).abs().sum(dim=(0, 1)) > 1e-6
    half = TINY.receptive_field // 2
    assert changed[40] and not changed[: 40 - half].any() and not changed[40 + half + 1:].any()
    with pytest.raises(InputError, match="odd"):
        EventNetConfig(kernel=4)


def test_checkpoint_roundtrip_and_bad_files(tmp_path: Path, rng: np.random.Generator) -> None:
    model = EventModel(net=build_event_net(TINY, seed=3), config=TINY,
                       normalizer=Normalizer.identity(), threshold=0.4, meta={"data_seed": 7})
    values = rng.standard_normal((N_FEATURES, 50)).astype(np.float32)
    path = tmp_path / "m.pt"
    save_checkpoint(model, path)
    loaded = load_checkpoint(path)
    assert loaded.threshold == 0.4 and loaded.meta["data_seed"] == 7 and loaded.config == TINY
    a, b = predict(model, values), predict(loaded, values)
    for name in ("onset", "strength", "offset", "kinds"):
        assert np.allclose(getattr(a, name), getattr(b, name), atol=1e-6)
    assert path.stat().st_size < 5 * 1024 * 1024
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="not a readable"):
        load_checkpoint(tmp_path / "junk.pt")
    with pytest.raises(InputError, match="not found"):
        detect_events_learned(bouncing_track(rng, _info()), _info(),
                              checkpoint=tmp_path / "missing.pt")


def test_mirror_matches_mirrored_track(rng: np.random.Generator) -> None:
    info = _info(40)
    track = bouncing_track(rng, info, noise=0.0)
    flipped = track.with_changes(boxes=np.stack([info.width - track.boxes[:, 2], track.boxes[:, 1],
                                                 info.width - track.boxes[:, 0],
                                                 track.boxes[:, 3]], axis=1))
    assert np.allclose(mirror(track_features(track, info).values),
                       track_features(flipped, info).values, atol=1e-5)


def _turned(track: Track, info: VideoInfo, code: int) -> tuple[Track, VideoInfo]:
    """The track and frame as they look in the picture turned by orientation `code`."""
    b = track.boxes.astype(np.float64).copy()
    w, h = float(info.width), float(info.height)
    if code & 1:
        b = np.stack([w - b[:, 2], b[:, 1], w - b[:, 0], b[:, 3]], axis=1)
    if code & 2:
        b = np.stack([b[:, 0], h - b[:, 3], b[:, 2], h - b[:, 1]], axis=1)
    if code & 4:
        b = b[:, [1, 0, 3, 2]]
        info = VideoInfo(path=info.path, width=info.height, height=info.width, fps=info.fps,
                         duration=info.duration, frames=info.frames)
    return track.with_changes(boxes=b), info


@pytest.mark.parametrize("code", range(8))
def test_orientations_match_turned_tracks(code: int, rng: np.random.Generator) -> None:
    info = _info(40)
    track = bouncing_track(rng, info, noise=0.0)
    turned, turned_info = _turned(track, info, code)
    assert np.allclose(orient(track_features(track, info).values, code),
                       track_features(turned, turned_info).values, atol=1e-5)


def test_orientation_helpers_are_involutions_and_codes_follow_the_fraction(
        rng: np.random.Generator) -> None:
    values = rng.normal(size=(N_FEATURES, 30)).astype(np.float32)
    for fn in (mirror, flip_vertical, transpose):
        assert np.array_equal(fn(fn(values)), values)
        assert not np.array_equal(fn(values), values)
    codes = orientation_codes(rng, 4000, 0.25)
    assert set(np.unique(codes)) == set(range(8))
    assert abs(np.mean(codes >= 2) - 0.25) < 0.03
    assert set(np.unique(orientation_codes(rng, 500, 0.0))) == {0, 1}
    with pytest.raises(InputError, match="turn fraction"):
        TrainConfig(turn_fraction=1.5)


def test_box_jitter_has_the_requested_spread(rng: np.random.Generator) -> None:
    boxes = np.tile([100.0, 50.0, 140.0, 90.0], (20000, 1))  # 40 x 40 boxes
    assert jitter_boxes(boxes, rng, 0.0) is boxes
    out = jitter_boxes(boxes, rng, 0.2)
    log_w = np.log((out[:, 2] - out[:, 0]) / 40.0)
    log_h = np.log((out[:, 3] - out[:, 1]) / 40.0)
    cx = (out[:, 0] + out[:, 2]) / 2 - 120.0
    assert abs(log_w.std() - 0.2) < 0.01 and abs(log_h.std() - 0.2) < 0.01
    assert abs(cx.std() - 0.1 * 40.0) < 0.15 and abs(cx.mean()) < 0.1
    assert abs(np.corrcoef(log_w, log_h)[0, 1]) < 0.05
    with pytest.raises(InputError, match="box jitter"):
        TrainConfig(box_jitter=-0.1)


def test_sequences_keep_the_boxes_their_features_came_from(rng: np.random.Generator) -> None:
    from model.detector.event_features import box_features

    info = _info(60)
    track = bouncing_track(rng, info)
    seq = make_sequence(track, track, info, "c")
    assert seq.boxes is not None and seq.observed is not None
    assert np.array_equal(box_features(seq.boxes, seq.observed, info), seq.values)
    assert np.array_equal(seq.values, track_features(track, info).values)


def test_split_is_by_clip() -> None:
    train_set, val_set = split_clips([f"c{i}" for i in range(10)], 0.2)
    assert val_set == {"c8", "c9"} and len(train_set) == 8
    assert split_clips(["only"], 0.2) == ({"only"}, set())


def test_training_can_be_cancelled(rng: np.random.Generator) -> None:
    info = _info(60)
    seqs = [make_sequence(t, t, info, clip=f"c{i}")
            for i, t in enumerate(bouncing_track(rng, info) for _ in range(4))]
    seen: list[float] = []

    def cancel_after_first(fraction: float, message: str) -> None:
        seen.append(fraction)
        raise Cancelled()

    with pytest.raises(Cancelled):
        train(seqs, config=TrainConfig(epochs=5, net=TINY), progress=cancel_after_first)
    assert seen == [pytest.approx(0.2)]


def test_tiny_net_learns_bounces_beyond_chance(rng: np.random.Generator, tmp_path: Path) -> None:
    info = _info(90)
    seqs = []
    for clip in range(40):
        t = bouncing_track(rng, info)
        seqs.append(make_sequence(t, t, info, clip=f"c{clip:02d}"))
    result = train(seqs, config=TrainConfig(seed=0, epochs=12, batch=8, lr=1e-2, net=TINY))
    log = result.log
    assert log["val_clips"] == 8 and len(log["history"]) == 12
    assert log["history"][-1]["train_loss"] < log["history"][0]["train_loss"]
    assert log["val_scores"]["f1"] > 0.7
    # the same seed gives the same model
    again = train(seqs, config=TrainConfig(seed=0, epochs=12, batch=8, lr=1e-2, net=TINY))
    assert again.log["val_scores"] == log["val_scores"]
    # inference wrapper on a fresh clip, through a saved checkpoint
    path = tmp_path / "net.pt"
    save_checkpoint(result.model, path)
    track = bouncing_track(np.random.default_rng(99), info)
    events = detect_events_learned(track, info, checkpoint=path)  # numpy twin of the .pt
    direct = detect_events_model(track, info, result.model)  # the torch module itself
    assert [e.kind for e in events] == [e.kind for e in direct]
    np.testing.assert_allclose([(e.time, e.strength) for e in events],
                               [(e.time, e.strength) for e in direct], atol=1e-6)
    assert all(isinstance(e, Event) and 0 <= e.strength <= 1 for e in events)
    truth = np.array([e.time for e in track.events])
    found = np.array([e.time for e in events])
    hits = sum(np.any(np.abs(found - t) <= 1 / 30 + 1e-9) for t in truth)
    assert hits >= 0.6 * truth.size
    assert detect_events_learned(track.with_changes(frames=track.frames[:2],
                                                    boxes=track.boxes[:2], events=()),
                                 info, checkpoint=path) == ()


@pytest.mark.parametrize(
    ("kind", "fps"),
    [("ball", Fraction(30)), ("ball", Fraction(25)), ("walker", Fraction(30000, 1001)),
     ("walker", Fraction(24))],
)
def test_bundled_checkpoint_finds_synth_events(kind: str, fps: Fraction) -> None:
    """The shipped model on the true track of a fresh synthetic scene (no video encoding)."""
    from model.detector.learned_events import DEFAULT_CHECKPOINT
    from model.lab.metrics import score_events
    from video.synth import ObjectSpec, SceneSpec, scene_truth

    assert DEFAULT_CHECKPOINT.stat().st_size < 5 * 1024 * 1024
    obj = (ObjectSpec("ball", start=(0.3, 0.2), velocity=(0.15, 0.0), size=0.1, restitution=0.75)
           if kind == "ball" else
           ObjectSpec("walker", start=(0.15, 0.0), velocity=(0.2, 0.0), size=0.4,
                      step_period=0.5))
    truth = scene_truth(SceneSpec(width=384, height=216, fps=fps, duration=4.0, objects=(obj,)))
    track = truth.objects[0]
    assert len(track.events) >= 3
    events = detect_events_learned(track.with_changes(events=()), truth.video)
    score, errors = score_events(np.array([e.time for e in track.events]),
                                 np.array([e.time for e in events]),
                                 tolerance_s=1 / float(fps))
    assert score.recall >= 0.75 and score.precision >= 0.75, (score, events, track.events)
    assert np.median(np.abs(errors)) < 0.5 / float(fps)
    expected = "impact" if kind == "ball" else "step"
    assert sum(e.kind == expected for e in events) >= 0.75 * len(events)


@pytest.mark.parametrize(("frames", "measured", "observed"), [
    ([0, 1, 4], None, [1, 1, 0, 0, 1]),
    ([0, 1, 4], [True, False, True], [1, 1, 0, 0, 1]),  # coasted frame 1 still counts as observed
    ([3], None, [1]),
    ([], None, []),
])
def test_observed_boxes_flags_every_tracked_frame(frames: list[int], measured: list[bool] | None,
                                                  observed: list[int]) -> None:
    from model.detector.event_features import observed_boxes
    from video.events import dense_boxes

    boxes = np.array([[f, 0, f + 10, 10] for f in frames], float).reshape(-1, 4)
    extra = {"measured": measured} if measured is not None else {}
    track = Track(1, "object", np.array(frames, dtype=np.int64), boxes, extra=extra)
    span, dense, flags = observed_boxes(track)
    assert flags.tolist() == observed
    assert span.tolist() == (list(range(frames[0], frames[-1] + 1)) if frames else [])
    if frames:
        same_span, same_boxes, _ = dense_boxes(track)
        np.testing.assert_array_equal(span, same_span)
        np.testing.assert_array_equal(dense, same_boxes)
