"""A small dilated 1-D temporal CNN that reads a track's motion features and marks event frames.

Input (batch, N_FEATURES, frames) -> output (batch, N_OUTPUTS, frames): onset logit, strength
logit, sub-frame offset (pre-tanh) and kind logits (impact / step / scrape) per frame, the layout
in model/detector/net_layout.py that the numpy twin shares. Non-causal (each frame sees
+-`receptive_field // 2` frames), so an impact is judged on the motion before and after it. The input is standardized with mean/std
stored in the checkpoint, so the features need no hand tuning.

torch is imported inside functions only (model/ is the one torch user, and lazily so), which is
why the module class is built by a cached factory. This module is the torch side only (training,
`.pt` checkpoints); saving a checkpoint also writes its numpy twin through net_layout.write_npz.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from model.detector.net_layout import (
    N_OUTPUTS,
    EventModel,
    EventNetConfig,
    Normalizer,
    write_npz,
)
from video.base.atomic import atomic_path
from video.base.errors import InputError

CHECKPOINT_FORMAT = "stereofoley.event_net/1"


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
            self.head = nn.Conv1d(c, N_OUTPUTS, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            """net_layout.EventNetwork.forward: (batch, features, T) -> (batch, N_OUTPUTS, T)."""
            return self.head(torch.nn.functional.gelu(self.blocks(self.inp(x))))

    return Block, EventNet


def build_event_net(config: EventNetConfig | None = None, *, seed: int | None = None) -> Any:
    """A fresh network of `config` (default EventNetConfig()); random weights, reproducible with
    `seed`."""
    import torch

    if seed is not None:
        torch.manual_seed(seed)
    return _module_classes()[1](config if config is not None else EventNetConfig())


def parameter_count(net: Any) -> int:
    return int(sum(p.numel() for p in net.parameters()))


def forward_arrays(net: Any, x: np.ndarray) -> np.ndarray:
    """The torch network's forward pass on numpy arrays, in inference mode: the same call as
    NumpyEventNet.forward (standardized (batch, features, T) -> raw (batch, N_OUTPUTS, T))."""
    import torch

    net.eval()
    with torch.inference_mode():
        return np.asarray(net(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).numpy())


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
    # the torch-free twin that inference loads (model/detector/event_net_np.py)
    write_npz(model, {k: v.numpy() for k, v in state.items()}, target)


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
    net = build_event_net(config)
    net.load_state_dict(payload["state_dict"])
    net.eval()
    return EventModel(net=net, config=config,
                      normalizer=Normalizer.from_dict(json.loads(payload["normalizer"])),
                      threshold=float(payload["threshold"]), meta=json.loads(payload["meta"]))
