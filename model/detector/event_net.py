"""A small dilated 1-D temporal CNN that reads a track's motion features and marks event frames.

Input (batch, N_FEATURES, frames) -> output (batch, 3 + len(KINDS), frames): onset logit,
strength logit, sub-frame offset (pre-tanh) and kind logits (impact / step / scrape) per frame. Non-causal (each frame sees +-`receptive_field // 2` frames), so an
impact is judged on the motion before and after it. The input is standardized with mean/std
stored in the checkpoint, so the features need no hand tuning.

torch is imported inside functions only (model/ is the one torch user, and lazily so), which is
why the module class is built by a cached factory.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from model.detector.event_features import KINDS, N_FEATURES, FramePrediction
from video.base.atomic import atomic_path
from video.base.errors import InputError

CHECKPOINT_FORMAT = "stereofoley.event_net/1"


@dataclass(frozen=True)
class EventNetConfig:
    """Architecture: `channels` wide, one residual block per dilation, kernel `kernel`."""

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

    def apply(self, values: np.ndarray) -> np.ndarray:
        mean = np.asarray(self.mean, dtype=np.float32)[:, None]
        std = np.asarray(self.std, dtype=np.float32)[:, None]
        return ((values - mean) / std).astype(np.float32)


@dataclass(frozen=True)
class EventModel:
    """A network ready for inference: module, its config, input normalizer, decision threshold."""

    net: Any
    config: EventNetConfig
    normalizer: Normalizer
    threshold: float = 0.5
    meta: Mapping[str, Any] = field(default_factory=dict)


@functools.cache
def _module_classes() -> tuple[type, type]:
    import torch
    from torch import nn

    class Block(nn.Module):  # type: ignore[misc]
        """Residual block: dilated conv -> per-frame LayerNorm -> GELU -> dropout -> 1x1 conv, added to the input."""

        def __init__(self, channels: int, kernel: int, dilation: int, dropout: float) -> None:
            super().__init__()
            pad = dilation * (kernel - 1) // 2
            self.conv = nn.Conv1d(channels, channels, kernel, padding=pad, dilation=dilation)
            self.mix = nn.Conv1d(channels, channels, 1)
            self.norm = nn.LayerNorm(channels)  # per frame, over channels: stays local in time
            self.drop = nn.Dropout(dropout)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = self.norm(self.conv(x).transpose(1, 2)).transpose(1, 2)
            h = torch.nn.functional.gelu(h)
            return x + self.mix(self.drop(h))

    class EventNet(nn.Module):  # type: ignore[misc]
        """Input conv, dilated residual blocks, 1x1 head: onset, strength, offset, kinds."""

        def __init__(self, config: EventNetConfig) -> None:
            super().__init__()
            c = config.channels
            self.inp = nn.Conv1d(config.in_features, c, config.kernel,
                                 padding=(config.kernel - 1) // 2)
            self.blocks = nn.Sequential(*[Block(c, config.kernel, d, config.dropout)
                                          for d in config.dilations])
            self.head = nn.Conv1d(c, 3 + len(KINDS), 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(torch.nn.functional.gelu(self.blocks(self.inp(x))))

    return Block, EventNet


def build_event_net(config: EventNetConfig = EventNetConfig(), *, seed: int | None = None) -> Any:
    """A fresh network (random weights; `seed` makes them reproducible)."""
    import torch

    if config.kernel % 2 != 1:
        raise ValueError("kernel must be odd so the network stays centred in time")
    if seed is not None:
        torch.manual_seed(seed)
    return _module_classes()[1](config)


def parameter_count(net: Any) -> int:
    return int(sum(p.numel() for p in net.parameters()))


def predict(model: EventModel, values: np.ndarray) -> FramePrediction:
    """Per-frame outputs for one track's (N_FEATURES, T) feature array."""
    from model.detector.event_net_np import NumpyEventNet

    if values.shape[1] == 0:
        empty = np.zeros(0, dtype=np.float32)
        return FramePrediction(empty, empty, empty, np.zeros((len(KINDS), 0), dtype=np.float32))
    if isinstance(model.net, NumpyEventNet):
        raw = model.net.forward(model.normalizer.apply(values))
        onset_strength = 0.5 * (1.0 + np.tanh(0.5 * raw[:2]))  # the logistic, without overflow
        logits = raw[3:] - raw[3:].max(axis=0, keepdims=True)
        kinds = np.exp(logits) / np.exp(logits).sum(axis=0, keepdims=True)
        return FramePrediction(onset=onset_strength[0], strength=onset_strength[1],
                               offset=(0.5 * np.tanh(raw[2])).astype(np.float32),
                               kinds=kinds.astype(np.float32))
    import torch

    x = torch.from_numpy(model.normalizer.apply(values))[None]
    model.net.eval()
    with torch.inference_mode():
        out = model.net(x)[0]
    onset_strength = torch.sigmoid(out[:2]).numpy()
    offset = (0.5 * torch.tanh(out[2])).numpy()
    kinds = torch.softmax(out[3:], dim=0).numpy()
    return FramePrediction(onset=onset_strength[0], strength=onset_strength[1], offset=offset,
                           kinds=kinds)


def save_checkpoint(model: EventModel, path: str | os.PathLike[str]) -> None:
    """Write weights + config + normalizer + threshold + meta atomically (temp file, rename)."""
    import torch

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.net.state_dict().items()}
    payload = {"format": CHECKPOINT_FORMAT, "state_dict": state,
               "config": json.dumps(asdict(model.config)),
               "normalizer": json.dumps(asdict(model.normalizer)),
               "threshold": float(model.threshold), "meta": json.dumps(dict(model.meta))}
    with atomic_path(target) as tmp:
        torch.save(payload, tmp)
    from model.detector.event_net_np import export_npz

    export_npz(model, target)  # the torch-free twin that inference loads (model/detector/event_net_np.py)


def load_checkpoint(path: str | os.PathLike[str]) -> EventModel:
    """Read a checkpoint written by `save_checkpoint`; a missing or foreign file is an InputError."""
    import torch

    source = Path(path)
    if not source.is_file():
        raise InputError(f"event model checkpoint not found: {source}")
    try:
        payload = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a corrupt or foreign file
        raise InputError(f"{source} is not a readable event model checkpoint") from exc
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise InputError(f"{source} is not a {CHECKPOINT_FORMAT} checkpoint")
    config = EventNetConfig.from_dict(json.loads(payload["config"]))
    norm = json.loads(payload["normalizer"])
    net = build_event_net(config)
    net.load_state_dict(payload["state_dict"])
    net.eval()
    return EventModel(net=net, config=config,
                      normalizer=Normalizer(mean=tuple(norm["mean"]), std=tuple(norm["std"])),
                      threshold=float(payload["threshold"]), meta=json.loads(payload["meta"]))
