"""Audio spooled to disk: a (channels, n) float32 signal held in a raw file, read and written a
block at a time, so a long render never holds a whole stem or the whole mix in memory.

A `DiskAudio` stores only the frames [lo, hi) of its signal (an object that sounds for 20 s of a
10-minute clip spools 20 s); frames outside read as exact zeros. The file is interleaved
little-endian float32 frames, read and written with positioned I/O (no memory map: pages of a
map count as the process's own memory while they are resident, reads through the page cache do
not). Indexing `audio[:, a:b]` returns a fresh (channels, b - a) float32 array, which is all the
master stage's analysis (`audio.master.plan_master`) asks of a signal.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

_FRAME_BYTES = 4     # float32


class DiskAudio:
    """A (channels, n) float32 signal whose frames [lo, hi) live in `path`, zeros elsewhere.

    Create with `DiskAudio.create` (a new file of zeros, sized at once) and fill with `write`
    and `add`; `close` releases the file (the object can be reopened by reading again)."""

    def __init__(self, path: str | os.PathLike[str], *, channels: int, n_samples: int,
                 lo: int = 0, hi: int | None = None) -> None:
        self._fd: int | None = None
        hi = n_samples if hi is None else hi
        if channels < 1 or n_samples < 0 or not 0 <= lo <= hi <= n_samples:
            raise ValueError(f"bad spool geometry: channels {channels}, n {n_samples}, "
                             f"frames [{lo}, {hi})")
        self.path = Path(path)
        self.channels = channels
        self.n = n_samples
        self.lo, self.hi = lo, hi

    @classmethod
    def create(cls, path: str | os.PathLike[str], *, channels: int, n_samples: int,
               lo: int = 0, hi: int | None = None) -> DiskAudio:
        """A new spool of silence (a sparse file: no disk is used until frames are written)."""
        audio = cls(path, channels=channels, n_samples=n_samples, lo=lo, hi=hi)
        with open(audio.path, "wb") as handle:
            handle.truncate((audio.hi - audio.lo) * channels * _FRAME_BYTES)
        return audio

    # numpy-like surface used by the master stage's analysis
    @property
    def shape(self) -> tuple[int, int]:
        return (self.channels, self.n)

    @property
    def ndim(self) -> int:
        return 2

    @property
    def dtype(self) -> np.dtype[Any]:
        return np.dtype(np.float32)

    def __getitem__(self, key: Any) -> np.ndarray:
        if not (isinstance(key, tuple) and len(key) == 2 and key[0] == slice(None)
                and isinstance(key[1], slice) and key[1].step in (None, 1)):
            raise TypeError("DiskAudio supports only [:, a:b] indexing")
        a, b, _ = key[1].indices(self.n)
        return self.read(a, max(a, b))

    def _handle(self) -> int:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR)
        return self._fd

    def close(self) -> None:
        """Close the file (reading or writing again reopens it)."""
        fd = getattr(self, "_fd", None)    # None too when __init__ refused the geometry
        if fd is not None:
            self._fd = None
            os.close(fd)

    def __del__(self) -> None:
        self.close()

    def read(self, start: int, stop: int) -> np.ndarray:
        """Frames [start, stop) as a (channels, stop - start) float32 array (zeros outside the
        stored frames and outside the signal)."""
        out = np.zeros((self.channels, max(0, stop - start)), dtype=np.float32)
        a, b = max(start, self.lo), min(stop, self.hi)
        if b > a:
            out[:, a - start: b - start] = self._load(a, b).T
        return out

    def _load(self, a: int, b: int) -> np.ndarray:
        """Stored frames [a, b) as (b - a, channels)."""
        size = (b - a) * self.channels * _FRAME_BYTES
        offset = (a - self.lo) * self.channels * _FRAME_BYTES
        buffer = bytearray(size)
        view = memoryview(buffer)
        fd, got = self._handle(), 0
        while got < size:
            count = os.preadv(fd, [view[got:]], offset + got)
            if count <= 0:
                raise OSError(f"{self.path} is shorter than its spooled frames")
            got += count
        return np.frombuffer(buffer, dtype="<f4").reshape(b - a, self.channels)

    def _check(self, start: int, block: np.ndarray) -> np.ndarray:
        data = np.asarray(block, dtype=np.float32)
        if data.ndim != 2 or data.shape[0] != self.channels:
            raise ValueError(f"expected a ({self.channels}, k) block, got shape {data.shape}")
        if start < self.lo or start + data.shape[1] > self.hi:
            raise ValueError(f"frames [{start}, {start + data.shape[1]}) are outside the "
                             f"spooled frames [{self.lo}, {self.hi})")
        return data

    def write(self, start: int, block: np.ndarray) -> None:
        """Store a (channels, k) block at frames [start, start + k)."""
        data = self._check(start, block)
        raw = np.ascontiguousarray(data.T, dtype="<f4").tobytes()
        offset = (start - self.lo) * self.channels * _FRAME_BYTES
        fd, done = self._handle(), 0
        view = memoryview(raw)
        while done < len(raw):
            done += os.pwrite(fd, view[done:], offset + done)

    def add(self, start: int, block: np.ndarray) -> None:
        """frames[start: start + k] += block (float32, the same rounding as `mix += stem`)."""
        data = self._check(start, block)
        total = self.read(start, start + data.shape[1])
        total += data
        self.write(start, total)

    def end_at(self, hi: int) -> None:
        """Keep only frames [lo, hi) (a spool created to the end of the signal, cut back once
        the last frame written is known); frames from `hi` on read as zeros."""
        if not self.lo <= hi <= self.hi:
            raise ValueError(f"cannot end frames [{self.lo}, {self.hi}) at {hi}")
        os.truncate(self.path, (hi - self.lo) * self.channels * _FRAME_BYTES)
        self.hi = hi

    def blocks(self, frames: int, *, start: int = 0, stop: int | None = None
               ) -> Iterator[tuple[int, np.ndarray]]:
        """(start, block) over [start, stop) in blocks of `frames` frames."""
        stop = self.n if stop is None else stop
        for a in range(start, stop, frames):
            yield a, self.read(a, min(stop, a + frames))
