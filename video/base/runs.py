"""Runs of indices: sorted positions grouped where they lie close together.

Shared by the limiter's block bookkeeping (audio.master), the walking stretches of a track
(video.cadence) and the analysis's re-reading of frames by index (video.analyze)."""

from __future__ import annotations

import numpy as np


def index_runs(indices: np.ndarray, *, gap: int = 1) -> list[tuple[int, int]]:
    """[start, stop) runs of sorted `indices`, joined where consecutive ones are at most `gap`
    apart (so a run may include a few indices that were not asked for)."""
    indices = np.asarray(indices)
    if indices.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(indices) > gap)
    starts = np.concatenate([[indices[0]], indices[breaks + 1]])
    stops = np.concatenate([indices[breaks] + 1, [indices[-1] + 1]])
    return [(int(a), int(b)) for a, b in zip(starts, stops, strict=True)]
