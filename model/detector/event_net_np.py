"""EventNet inference in numpy, so finding events never has to import torch.

Importing torch costs about a second, which is a large part of `stereofoley analyze` on a short
clip and of the studio's analysis. The network is small (a 1-D CNN on a few hundred frames), so
numpy runs it as fast. Training stays in torch (model.lab.train_events); `save_checkpoint` writes the
weights a second time as `<name>.npz` beside the `.pt`, tagged with the `.pt` file's SHA-256, and
the loader uses the `.npz` only while that tag matches, so a retrained `.pt` is never shadowed by
stale weights. The layout both sides share is model/detector/net_layout.py; this module does not
import the torch side.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np

from model.detector.net_layout import EventModel, EventNetConfig, Normalizer, read_npz
from video.base.errors import InputError


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to within 1.5e-7 (Abramowitz & Stegun 7.1.26), below float32's resolution of the
    GELU it feeds; numpy has no erf and scipy.special costs a third of a second to import."""
    z = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (
        -1.453152027 + t * 1.061405429))))
    return np.sign(x) * (1.0 - poly * np.exp(-z * z))


def _gelu(x: np.ndarray) -> np.ndarray:
    """torch's default (exact, erf-based) GELU."""
    x64 = np.asarray(x, dtype=np.float64)
    return (0.5 * x64 * (1.0 + _erf(x64 / np.sqrt(2.0)))).astype(np.float32)


def _conv1d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, dilation: int = 1) -> np.ndarray:
    """Same-length zero-padded 1-D convolution (torch Conv1d semantics) of x (in, T)."""
    taps = weight.shape[2]
    pad = dilation * (taps - 1) // 2
    frames = x.shape[1]
    padded = np.pad(x, ((0, 0), (pad, pad)))
    out = np.repeat(bias[:, None], frames, axis=1).astype(np.float32)
    for j in range(taps):
        out += weight[:, :, j] @ padded[:, j * dilation: j * dilation + frames]
    return out


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray,
                eps: float = 1e-5) -> np.ndarray:
    """LayerNorm over channels at each frame of x (channels, T)."""
    mean = x.mean(axis=0, keepdims=True)
    var = x.var(axis=0, keepdims=True)
    return ((x - mean) / np.sqrt(var + eps) * weight[:, None] + bias[:, None]).astype(np.float32)


class NumpyEventNet:
    """The EventNet forward pass on a torch state dict converted to float32 arrays."""

    def __init__(self, state: Mapping[str, np.ndarray], config: EventNetConfig) -> None:
        self.config = config
        self.state = {k: np.asarray(v, dtype=np.float32) for k, v in state.items()}
        missing = [k for k in ("inp.weight", "head.weight") if k not in self.state]
        if missing:
            raise InputError(f"event model weights lack {missing}")

    def forward(self, x: np.ndarray) -> np.ndarray:
        """net_layout.EventNetwork.forward, as EventNet.forward: standardized
        (batch, features, T) -> raw (batch, N_OUTPUTS, T)."""
        return np.stack([self._forward_one(item) for item in np.asarray(x)])

    def _forward_one(self, x: np.ndarray) -> np.ndarray:
        """One sequence: (features, T) -> (N_OUTPUTS, T)."""
        s = self.state
        h = _conv1d(x.astype(np.float32), s["inp.weight"], s["inp.bias"])
        for n, dilation in enumerate(self.config.dilations):
            p = f"blocks.{n}."
            z = _conv1d(h, s[p + "conv.weight"], s[p + "conv.bias"], dilation)
            z = _gelu(_layer_norm(z, s[p + "norm.weight"], s[p + "norm.bias"]))
            h = h + _conv1d(z, s[p + "mix.weight"], s[p + "mix.bias"])
        return _conv1d(_gelu(h), s["head.weight"], s["head.bias"])


def load_npz(checkpoint: str | os.PathLike[str]) -> EventModel | None:
    """The numpy model for `checkpoint` (.pt) if its .npz twin exists and matches it, else None."""
    found = read_npz(checkpoint)
    if found is None:
        return None
    header, state = found
    config = EventNetConfig.from_dict(header["config"])
    return EventModel(net=NumpyEventNet(state, config), config=config,
                      normalizer=Normalizer.from_dict(header["normalizer"]),
                      threshold=float(header["threshold"]), meta=header.get("meta", {}))
