"""Stems on disk for the studio: each rendered object's stem written once as a raw float32 file
and memory-mapped for playback, mixing and waveform overviews.

A 10-minute clip with 100 objects is 23 GB of float32 stereo stems: no studio can hold them as
arrays. A `CachedStem` is a read-only memory map (an `mmap` seen as a numpy array) of a file that holds the whole timeline,
(n, channels) interleaved little-endian float32 after a 4096-byte header, but only the frames
[lo, hi) where the object sounds are ever written: the rest of the file is a hole (a sparse
file: no disk, reads as exact zeros). So any frame range can be read with plain slicing, and
only the pages actually read (the blocks that play) are brought into memory.

Files are written atomically (a temporary file in the same folder, then `os.replace`), so a
reader sees the old stem or the new one, never half of one; a memmap opened on the old file
keeps reading the old one until it is dropped (the inode lives while mapped), which is what lets
playback crossfade from the old mix to the new after a nudge.

`StemCache` names files by a content key (a hash of what made the stem), so a project opened
again finds its stems without rendering, and a nudge writes one new file.
"""

from __future__ import annotations

import json
import mmap
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

MAGIC = b"SFSTEM01"
HEADER_BYTES = 4096        # one page: the samples start page-aligned
_SAMPLE_BYTES = 4          # float32
KINDS = (".stem", ".dry", ".peaks", ".master", ".truepeak")   # the files a cache folder holds


@dataclass(frozen=True)
class CachedStem:
    """A stem file mapped read-only: `frames` is (n, channels) float32 over the whole timeline,
    zeros outside [lo, hi).

    Pages of a map that were read count as the process's memory until released: playback
    `release`s what it has read (the page cache keeps it, so reading again is cheap), and bulk
    passes over a stem (overviews, the master stage's measurements) `load` through positioned
    reads that map nothing."""

    path: Path
    frames: np.ndarray
    lo: int
    hi: int
    _map: mmap.mmap | None = field(default=None, repr=False, compare=False)

    @property
    def n_samples(self) -> int:
        return int(self.frames.shape[0])

    @property
    def channels(self) -> int:
        return int(self.frames.shape[1])

    def planar(self) -> np.ndarray:
        """The stem as a (channels, n) view (no copy): what the renderer's stems look like."""
        return self.frames.T

    def read(self, start: int, stop: int) -> np.ndarray:
        """Frames [start, stop) as (k, channels): a view of the map, no copy."""
        return self.frames[start:stop]

    def load(self, start: int, stop: int) -> np.ndarray:
        """Frames [start, stop) as a fresh (k, channels) array read from the file (zeros
        outside [lo, hi) without reading; nothing is mapped)."""
        start, stop = max(0, start), min(self.n_samples, stop)
        out = np.zeros((max(0, stop - start), self.channels), dtype=np.float32)
        a, b = max(start, self.lo), min(stop, self.hi)
        if b > a:
            frame = self.channels * _SAMPLE_BYTES
            buffer = memoryview(out[a - start:b - start].data).cast("B")
            with open(self.path, "rb", buffering=0) as handle:
                got, offset = 0, HEADER_BYTES + a * frame
                while got < len(buffer):
                    count = os.preadv(handle.fileno(), [buffer[got:]], offset + got)
                    if count <= 0:
                        raise OSError(f"{self.path} is shorter than its header says")
                    got += count
        return out

    def release(self, start: int, stop: int) -> None:
        """Let go of the map's pages that lie wholly inside frames [start, stop)."""
        if self._map is None:
            return
        frame = self.channels * _SAMPLE_BYTES
        a = -(-(HEADER_BYTES + start * frame) // mmap.PAGESIZE) * mmap.PAGESIZE
        b = (HEADER_BYTES + stop * frame) // mmap.PAGESIZE * mmap.PAGESIZE
        if b > a:
            self._map.madvise(mmap.MADV_DONTNEED, a, b - a)


def _header(channels: int, n_samples: int, lo: int, hi: int) -> bytes:
    doc = json.dumps({"channels": channels, "n": n_samples, "lo": lo, "hi": hi,
                      "dtype": "<f4"}).encode()
    if len(MAGIC) + len(doc) + 1 > HEADER_BYTES:
        raise ValueError("stem header too long")
    return (MAGIC + doc + b"\n").ljust(HEADER_BYTES, b"\0")


def write_stem(path: str | os.PathLike[str], *, channels: int, n_samples: int, lo: int, hi: int,
               chunks: Iterable[tuple[int, np.ndarray]]) -> CachedStem:
    """Write a stem whose samples outside [lo, hi) are zero, from (start, (channels, k)) chunks
    inside [lo, hi) (chunks not given stay zero), atomically; return it mapped.

    Only the chunks' bytes are written (the file is sized at once and stays sparse)."""
    if channels < 1 or n_samples < 0 or not 0 <= lo <= hi <= n_samples:
        raise ValueError(f"bad stem geometry: channels {channels}, n {n_samples}, "
                         f"frames [{lo}, {hi})")
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    frame = channels * _SAMPLE_BYTES
    fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.pwrite(fd, _header(channels, n_samples, lo, hi), 0)
        os.ftruncate(fd, HEADER_BYTES + n_samples * frame)
        for start, chunk in chunks:
            data = np.asarray(chunk, dtype=np.float32)
            if data.ndim != 2 or data.shape[0] != channels:
                raise ValueError(f"expected ({channels}, k) chunks, got {data.shape}")
            if start < lo or start + data.shape[1] > hi:
                raise ValueError(f"chunk [{start}, {start + data.shape[1]}) is outside "
                                 f"[{lo}, {hi})")
            raw = memoryview(np.ascontiguousarray(data.T, dtype="<f4").tobytes())
            offset, done = HEADER_BYTES + start * frame, 0
            while done < len(raw):
                done += os.pwrite(fd, raw[done:], offset + done)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    os.replace(tmp, path)
    return open_stem(path)


def read_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The stem file's geometry (channels, n, lo, hi); ValueError when it is not a stem file."""
    with open(path, "rb") as handle:
        head = handle.read(HEADER_BYTES)
    if len(head) < HEADER_BYTES or not head.startswith(MAGIC):
        raise ValueError(f"{path} is not a stem cache file")
    doc: dict[str, Any] = json.loads(head[len(MAGIC):].split(b"\n", 1)[0])
    return doc


def open_stem(path: str | os.PathLike[str]) -> CachedStem:
    """Map a stem file read-only (ValueError for a foreign or truncated file)."""
    doc = read_header(path)
    channels, n = int(doc["channels"]), int(doc["n"])
    if os.path.getsize(path) != HEADER_BYTES + n * channels * _SAMPLE_BYTES:
        raise ValueError(f"{path} is truncated")
    if n == 0:
        return CachedStem(path=Path(path), frames=np.zeros((0, channels), dtype=np.float32),
                          lo=0, hi=0)
    with open(path, "rb") as handle:
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    frames = np.frombuffer(mapped, dtype="<f4", count=n * channels,
                           offset=HEADER_BYTES).reshape(n, channels)
    return CachedStem(path=Path(path), frames=frames, lo=int(doc["lo"]), hi=int(doc["hi"]),
                      _map=mapped)


class StemCache:
    """A folder of files named by content key (`<key>.<kind>`: "stem" and "dry" sound files,
    and what is derived from them: "peaks" overviews, "master" plans, the "truepeak" map a fresh
    plan's limiter reads).

    `get` returns the mapped stem or None; `put` writes it (atomically); `keep` deletes the
    files of keys no longer in use, so a long session does not fill the disk with old takes."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def path(self, key: str, kind: str = "stem") -> Path:
        if not key or "/" in key or key.startswith("."):
            raise ValueError(f"bad cache key {key!r}")
        return self.folder / f"{key}.{kind}"

    def get(self, key: str, kind: str = "stem") -> CachedStem | None:
        path = self.path(key, kind)
        if not path.is_file():
            return None
        try:
            return open_stem(path)
        except (ValueError, OSError):    # a foreign or broken file: render it again
            return None

    def put(self, key: str, *, channels: int, n_samples: int, lo: int, hi: int,
            chunks: Iterable[tuple[int, np.ndarray]], kind: str = "stem") -> CachedStem:
        return write_stem(self.path(key, kind), channels=channels, n_samples=n_samples,
                          lo=lo, hi=hi, chunks=chunks)

    def keep(self, keys: Iterable[str]) -> int:
        """Delete every cached file whose key is not in `keys`; returns how many went."""
        live = set(keys)
        gone = 0
        for path in self.folder.iterdir():
            if path.name.startswith(".") or path.suffix not in KINDS:
                continue
            if path.name.split(".", 1)[0] not in live:
                path.unlink(missing_ok=True)
                gone += 1
        return gone
