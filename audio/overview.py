"""Waveform overviews: per-bucket minimum and maximum of a signal at several zoom levels.

A timeline lane that shows ten minutes of a stem cannot read ten minutes of samples each time it
is drawn. An `Overview` keeps, for each level (256, 4096 and 65536 samples per bucket by
default), the min and max of the mono fold-down ((left + right) / 2, what `minmax_envelope`
shows) in every bucket of the timeline. It is computed once per stem, a block at a time (never
the whole signal in memory), saved beside the stem and memory-mapped back; drawing a lane asks
`envelope(start, stop, columns)`, which reads only the buckets of the coarsest level that is
still finer than a pixel column, so the cost depends on the lane's width, not on the clip.

Levels nest (each divides the next), so a coarser level is reduced from the finest one exactly,
and `build_overview(..., base=old)` recomputes only the buckets a changed range touches (a
nudged object's span of the mix).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

LEVELS = (256, 4096, 65536)
BLOCK_BUCKETS = 16     # the coarsest level's buckets read per block (about 1M frames)

ReadFn = Callable[[int, int], np.ndarray]   # frames [a, b) as (b - a, channels)


def _buckets(n_samples: int, size: int) -> int:
    return -(-n_samples // size)


def _check_levels(levels: tuple[int, ...]) -> None:
    if not levels or levels[0] < 1 or any(b % a for a, b in zip(levels, levels[1:], strict=False)) \
            or any(b <= a for a, b in zip(levels, levels[1:], strict=False)):
        raise ValueError(f"levels must grow and each divide the next, got {levels}")


def mono_fold(frames: np.ndarray) -> np.ndarray:
    """(k, channels) float32 -> (k,) float32: the channels' mean (mono is itself), summed
    column by column (a row-wise sum over two columns is several times slower)."""
    data = np.asarray(frames, dtype=np.float32)
    if data.ndim == 1 or data.shape[1] == 1:
        return data.reshape(-1)
    total = data[:, 0] + data[:, 1]
    for ch in range(2, data.shape[1]):
        total += data[:, ch]
    total *= np.float32(1.0 / data.shape[1])
    return total


@dataclass(frozen=True)
class Overview:
    """min/max per bucket at each level; `data` is (2, total buckets) float32 (row 0 the mins,
    row 1 the maxes), the levels one after the other."""

    n_samples: int
    levels: tuple[int, ...]
    data: np.ndarray

    def _offsets(self) -> list[int]:
        out, at = [], 0
        for size in self.levels:
            out.append(at)
            at += _buckets(self.n_samples, size)
        return out + [at]

    def level(self, index: int) -> np.ndarray:
        """(2, buckets) mins and maxes of level `index` (a view)."""
        offsets = self._offsets()
        return self.data[:, offsets[index]:offsets[index + 1]]

    def envelope(self, start: int, stop: int, columns: int) -> np.ndarray:
        """(2, columns) min and max of the samples [start, stop) split into `columns` equal
        parts, from the coarsest level at least as fine as a column (zoomed in further than
        the finest level, a bucket spans several columns)."""
        if columns <= 0:
            raise ValueError(f"columns must be positive, got {columns}")
        start, stop = max(0, int(start)), min(self.n_samples, int(stop))
        out = np.zeros((2, columns), dtype=np.float32)
        if stop <= start:
            return out
        per_column = (stop - start) / columns
        index = max((i for i, size in enumerate(self.levels) if size <= per_column), default=0)
        size, level = self.levels[index], self.level(index)
        edges = start + np.arange(columns + 1) * per_column
        first = np.minimum((edges[:-1] // size).astype(np.int64), level.shape[1] - 1)
        last = np.maximum(np.ceil(edges[1:] / size).astype(np.int64), first + 1)
        b0, b1 = int(first[0]), int(last[-1])
        part = np.asarray(level[:, b0:b1])
        if np.all(last - first == 1):       # zoomed in: one bucket per column
            return np.ascontiguousarray(part[:, first - b0])
        starts = first - b0
        out[0] = np.minimum.reduceat(part[0], starts)
        out[1] = np.maximum.reduceat(part[1], starts)
        return out


def _reduce_into(level: np.ndarray, finer: np.ndarray, ratio: int, b0: int, b1: int) -> None:
    """level[:, b0:b1] = min/max over each `ratio` buckets of `finer` (exact: levels nest)."""
    f0, f1 = b0 * ratio, min(b1 * ratio, finer.shape[1])
    starts = np.arange(0, f1 - f0, ratio)
    level[0, b0:b1] = np.minimum.reduceat(finer[0, f0:f1], starts)
    level[1, b0:b1] = np.maximum.reduceat(finer[1, f0:f1], starts)


def build_overview(read: ReadFn, *, n_samples: int, lo: int = 0, hi: int | None = None,
                   levels: tuple[int, ...] = LEVELS, base: Overview | None = None) -> Overview:
    """The overview of a signal read a block at a time with `read(a, b)`.

    Only [lo, hi) may be non-zero (buckets entirely outside it are zero without reading);
    with `base` (the overview of the same signal before a change inside [lo, hi)), the other
    buckets are taken from it."""
    _check_levels(levels)
    hi = n_samples if hi is None else hi
    if not 0 <= lo <= hi <= n_samples:
        raise ValueError(f"range [{lo}, {hi}) is outside 0..{n_samples}")
    if base is not None and (base.n_samples != n_samples or base.levels != levels):
        raise ValueError("the base overview is of another signal")
    total = sum(_buckets(n_samples, size) for size in levels)
    data = np.zeros((2, total), dtype=np.float32) if base is None else np.array(base.data)
    view = Overview(n_samples=n_samples, levels=levels, data=data)
    top = levels[-1]
    a0 = (lo // top) * top
    a1 = min(n_samples, _buckets(hi, top) * top) if hi > lo else a0
    finest, size0 = view.level(0), levels[0]
    block = top * BLOCK_BUCKETS
    for a in range(a0, a1, block):
        b = min(a1, a + block)
        mono = mono_fold(read(a, b))
        starts = np.arange(0, b - a, size0)
        finest[0, a // size0: a // size0 + starts.size] = np.minimum.reduceat(mono, starts)
        finest[1, a // size0: a // size0 + starts.size] = np.maximum.reduceat(mono, starts)
    for i in range(1, len(levels)):
        ratio = levels[i] // levels[i - 1]
        size = levels[i]
        b0, b1 = a0 // size, _buckets(a1, size)
        if b1 > b0:
            _reduce_into(view.level(i), view.level(i - 1), ratio, b0, b1)
    return view


_MAGIC = b"SFPEAKS1"
_HEADER_BYTES = 256


def save_overview(overview: Overview, path: str | os.PathLike[str]) -> None:
    """Write the overview (a small header, then the (2, total) float32 buckets), atomically."""
    if len(overview.levels) > 16:
        raise ValueError("too many levels")
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    head = np.zeros(2 + len(overview.levels), dtype="<i8")
    head[0], head[1], head[2:] = overview.n_samples, len(overview.levels), overview.levels
    with open(tmp, "wb") as handle:
        handle.write((_MAGIC + head.tobytes()).ljust(_HEADER_BYTES, b"\0"))
        handle.write(np.ascontiguousarray(overview.data, dtype="<f4").tobytes())
    os.replace(tmp, path)


def load_overview(path: str | os.PathLike[str]) -> Overview:
    """Map an overview saved by `save_overview` read-only (ValueError when it is not one)."""
    with open(path, "rb") as handle:
        head = handle.read(_HEADER_BYTES)
    if len(head) < _HEADER_BYTES or not head.startswith(_MAGIC):
        raise ValueError(f"{path} is not an overview file")
    n, count = (int(v) for v in np.frombuffer(head, dtype="<i8", count=2, offset=len(_MAGIC)))
    if not 0 < count <= 16:
        raise ValueError(f"{path}: bad overview header")
    levels = tuple(int(v) for v in np.frombuffer(head, dtype="<i8", count=count,
                                                  offset=len(_MAGIC) + 16))
    _check_levels(levels)
    total = sum(_buckets(n, size) for size in levels)
    if os.path.getsize(path) != _HEADER_BYTES + 2 * total * 4:
        raise ValueError(f"{path} is truncated")
    data = np.zeros((2, 0), dtype=np.float32) if total == 0 else \
        np.memmap(path, dtype="<f4", mode="r", offset=_HEADER_BYTES, shape=(2, total))
    return Overview(n_samples=n, levels=levels, data=data)
