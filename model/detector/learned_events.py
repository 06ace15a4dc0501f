"""The learned visual event detector behind the same contract as video.events.detect_events.

`detect_events_learned(track, info)` returns the track's impact/step events found by the trained
EventNet (assets/models/event_net.pt unless another checkpoint is named). Loaded models are kept
per (path, modification time) so a studio session loads the checkpoint once, and a retrained file
is picked up.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from model.detector.event_features import FramePrediction, decode_events, track_features
from model.detector.event_net import forward_arrays, load_checkpoint
from model.detector.event_net_np import NumpyEventNet, load_npz
from model.detector.net_layout import N_OUTPUTS, EventModel, frame_prediction
from video.base.tracks import Event, Track, VideoInfo

DEFAULT_CHECKPOINT = Path(__file__).resolve().parents[2] / "assets" / "models" / "event_net.pt"
MIN_TRACK_FRAMES = 3


@functools.lru_cache(maxsize=4)
def _cached(path: str, mtime_ns: int) -> EventModel:
    fast = load_npz(path)  # numpy twin of the checkpoint: no torch import (about 1 s) needed
    if fast is not None:
        return fast
    import torch

    # One track is a few hundred frames: a single thread is fastest, and on a busy CPU idle
    # OpenMP threads waiting on each other made inference 5-25x slower (bench/bench_event_net.py).
    # Switching per call costs more than it saves, so the (model/-only) torch runtime is set to
    # one thread when the detector is first loaded.
    torch.set_num_threads(1)
    return load_checkpoint(path)


def load_event_model(checkpoint: str | os.PathLike[str] | None = None) -> EventModel:
    """The model in `checkpoint` (default: the bundled one), loaded once per file version."""
    path = Path(checkpoint) if checkpoint is not None else DEFAULT_CHECKPOINT
    mtime = path.stat().st_mtime_ns if path.is_file() else -1
    return _cached(str(path), mtime)


def predict(model: EventModel, values: np.ndarray) -> FramePrediction:
    """Per-frame outputs for one track's (N_FEATURES, T) feature array, from either network."""
    if values.shape[1] == 0:
        return frame_prediction(np.zeros((N_OUTPUTS, 0), dtype=np.float32))
    x = model.normalizer.apply(values)[None]
    raw = model.net.forward(x) if isinstance(model.net, NumpyEventNet) else \
        forward_arrays(model.net, x)
    return frame_prediction(raw[0])


def detect_events_model(track: Track, info: VideoInfo, model: EventModel, *,
                        threshold: float | None = None) -> tuple[Event, ...]:
    """Events of one track from an already loaded model (threshold defaults to the model's)."""
    if len(track) < MIN_TRACK_FRAMES:
        return ()
    feats = track_features(track, info)
    return decode_events(predict(model, feats.values), feats.frames, info,
                         threshold=model.threshold if threshold is None else threshold)


def detect_events_learned(track: Track, info: VideoInfo, *,
                          checkpoint: str | os.PathLike[str] | None = None) -> tuple[Event, ...]:
    """Impact/step events of one tracked object, like video.events.detect_events, by the
    learned detector. Raises InputError when the checkpoint is missing or unreadable."""
    return detect_events_model(track, info, load_event_model(checkpoint))
