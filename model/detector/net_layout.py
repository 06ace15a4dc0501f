"""What the torch EventNet and its numpy twin share: architecture, input normalizer, the loaded
model record, the output layout, and the `.npz` weight file that carries a checkpoint to numpy.

Both networks implement `EventNetwork.forward` with one meaning: standardized features
(batch, N_FEATURES, frames) -> raw outputs (batch, N_OUTPUTS, frames), rows in `OUTPUT_ROWS`
order. model/detector/event_net.py (torch: training, `.pt` checkpoints) and
model/detector/event_net_np.py (numpy: inference without importing torch) import this module and
not each other; the torch side exports its weights through `write_npz`, the numpy side reads
them with `read_npz`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from model.detector.event_features import KINDS, N_FEATURES, FramePrediction
from video.base.atomic import atomic_path
from video.base.errors import InputError

NPZ_FORMAT = "stereofoley.event_net.npz/1"
OUTPUT_ROWS = ("onset", "strength", "offset", *KINDS)  # logit, logit, pre-tanh, kind logits
N_OUTPUTS = len(OUTPUT_ROWS)


@dataclass(frozen=True)
class EventNetConfig:
    """Architecture: `channels` wide, one residual block per dilation, kernel `kernel` (odd, so
    the network stays centred in time)."""

    in_features: int = N_FEATURES
    channels: int = 48
    kernel: int = 3
    dilations: tuple[int, ...] = (1, 2, 4, 8, 1, 2, 4)
    dropout: float = 0.1

    def __post_init__(self) -> None:
        if self.channels < 1 or self.kernel < 1 or self.in_features < 1 or not self.dilations \
                or min(self.dilations) < 1:
            raise InputError(f"bad network shape: {self.channels} channels, kernel {self.kernel}, "
                             f"dilations {self.dilations}")
        if self.kernel % 2 != 1:
            raise InputError(f"kernel must be odd so the network stays centred in time, "
                             f"got {self.kernel}")
        if not 0.0 <= self.dropout < 1.0:
            raise InputError(f"dropout must be in [0, 1), got {self.dropout}")

    @property
    def receptive_field(self) -> int:
        """Frames the output at one frame depends on (input conv + every dilated block)."""
        return 1 + (self.kernel - 1) * (1 + sum(self.dilations))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EventNetConfig:
        return cls(in_features=int(data["in_features"]), channels=int(data["channels"]),
                   kernel=int(data["kernel"]), dilations=tuple(int(d) for d in data["dilations"]),
                   dropout=float(data.get("dropout", 0.0)))


@dataclass(frozen=True)
class Normalizer:
    """Per-feature mean and std used to standardize inputs (fitted on training data)."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    @classmethod
    def identity(cls, n: int = N_FEATURES) -> Normalizer:
        return cls(mean=(0.0,) * n, std=(1.0,) * n)

    @classmethod
    def fit(cls, arrays: list[np.ndarray]) -> Normalizer:
        """Mean/std over all frames of (features, frames) arrays; tiny stds become 1."""
        data = np.concatenate(arrays, axis=1).astype(np.float64)
        std = data.std(axis=1)
        std = np.where(std < 1e-6, 1.0, std)
        return cls(mean=tuple(float(v) for v in data.mean(axis=1)),
                   std=tuple(float(v) for v in std))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Normalizer:
        return cls(mean=tuple(data["mean"]), std=tuple(data["std"]))

    def apply(self, values: np.ndarray) -> np.ndarray:
        mean = np.asarray(self.mean, dtype=np.float32)[:, None]
        std = np.asarray(self.std, dtype=np.float32)[:, None]
        return ((values - mean) / std).astype(np.float32)


class EventNetwork(Protocol):
    """The one forward pass both implementations offer (torch tensors or numpy arrays)."""

    def forward(self, x: Any) -> Any:
        """Standardized features (batch, N_FEATURES, frames) -> raw outputs
        (batch, N_OUTPUTS, frames) in OUTPUT_ROWS order."""
        ...


@dataclass(frozen=True)
class EventModel:
    """A network ready for inference: module, its config, input normalizer, decision threshold."""

    net: Any
    config: EventNetConfig
    normalizer: Normalizer
    threshold: float = 0.5
    meta: Mapping[str, Any] = field(default_factory=dict)


def frame_prediction(raw: np.ndarray) -> FramePrediction:
    """One track's raw outputs (N_OUTPUTS, T) -> probabilities, strength and sub-frame offset."""
    raw = np.asarray(raw, dtype=np.float32)
    if raw.shape[1] == 0:
        empty = np.zeros(0, dtype=np.float32)
        return FramePrediction(empty, empty, empty, np.zeros((len(KINDS), 0), dtype=np.float32))
    onset_strength = 0.5 * (1.0 + np.tanh(0.5 * raw[:2]))  # the logistic, without overflow
    logits = raw[3:] - raw[3:].max(axis=0, keepdims=True)
    kinds = np.exp(logits) / np.exp(logits).sum(axis=0, keepdims=True)
    return FramePrediction(onset=onset_strength[0], strength=onset_strength[1],
                           offset=(0.5 * np.tanh(raw[2])).astype(np.float32),
                           kinds=kinds.astype(np.float32))


# ------------------------------------------------------------------ the .npz weight file


def file_sha256(path: str | os.PathLike[str]) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def npz_path(checkpoint: str | os.PathLike[str]) -> Path:
    """The numpy twin beside a `.pt` checkpoint."""
    return Path(checkpoint).with_suffix(".npz")


def write_npz(model: EventModel, state: Mapping[str, np.ndarray],
              checkpoint: str | os.PathLike[str]) -> Path:
    """Write `state` (the network's weights as arrays) and the model's settings as
    `<checkpoint>.npz`, tagged with the checkpoint file's hash."""
    header = {"format": NPZ_FORMAT, "source_sha256": file_sha256(checkpoint),
              "config": asdict(model.config), "normalizer": asdict(model.normalizer),
              "threshold": float(model.threshold), "meta": dict(model.meta)}
    arrays: dict[str, Any] = dict(state)
    target = npz_path(checkpoint)
    with atomic_path(target) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, __header__=np.array(json.dumps(header)), **arrays)
    return target


def read_npz(checkpoint: str | os.PathLike[str]
             ) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
    """(header, weights) of `checkpoint`'s .npz twin if it exists and matches the checkpoint
    file (a retrained `.pt` is never shadowed by stale weights), else None."""
    twin = npz_path(checkpoint)
    if not twin.is_file() or not Path(checkpoint).is_file():
        return None
    try:
        with np.load(twin, allow_pickle=False) as data:
            header = json.loads(str(data["__header__"]))
            state = {k: data[k] for k in data.files if k != "__header__"}
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"{twin} is not a readable event model") from exc
    if header.get("format") != NPZ_FORMAT or \
            header.get("source_sha256") != file_sha256(checkpoint):
        return None
    return header, state
