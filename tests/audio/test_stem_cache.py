"""The stem cache: stems round-trip bit-exactly through sparse memory-mapped files, writes are
atomic, and only what a key names is kept."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from audio.stem_cache import HEADER_BYTES, StemCache, open_stem, write_stem


def _stem(n: int, lo: int, hi: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.zeros((2, n), dtype=np.float32)
    out[:, lo:hi] = rng.standard_normal((2, hi - lo)).astype(np.float32)
    return out


def test_round_trip_is_bit_exact_and_zero_outside(tmp_path: Path) -> None:
    n, lo, hi = 200_000, 48_000, 150_001
    stem = _stem(n, lo, hi)
    chunks = [(a, stem[:, a:min(hi, a + 7000)]) for a in range(lo, hi, 7000)]
    cached = write_stem(tmp_path / "a.stem", channels=2, n_samples=n, lo=lo, hi=hi, chunks=chunks)
    assert (cached.lo, cached.hi, cached.n_samples, cached.channels) == (lo, hi, n, 2)
    assert cached.planar().tobytes() == stem.tobytes()
    assert np.array_equal(cached.read(lo - 5, lo + 5), stem[:, lo - 5:lo + 5].T)
    assert np.array_equal(cached.load(lo - 5, hi + 5), stem[:, lo - 5:hi + 5].T)
    assert np.array_equal(cached.load(0, 100), np.zeros((100, 2), np.float32))
    cached.release(0, n)                    # pages go, the samples stay readable
    assert np.array_equal(cached.read(lo, hi), stem[:, lo:hi].T)
    again = open_stem(tmp_path / "a.stem")
    assert np.array_equal(again.planar(), stem)
    # the file holds the whole timeline but only [lo, hi) was written: a sparse file
    assert os.path.getsize(tmp_path / "a.stem") == HEADER_BYTES + n * 8
    blocks = os.stat(tmp_path / "a.stem").st_blocks * 512
    assert blocks < HEADER_BYTES + (hi - lo) * 8 + 64 * 1024


def test_chunks_outside_the_span_are_refused_and_nothing_is_left(tmp_path: Path) -> None:
    bad = [(10, np.ones((2, 20), np.float32))]
    with pytest.raises(ValueError, match="outside"):
        write_stem(tmp_path / "b.stem", channels=2, n_samples=100, lo=15, hi=50, chunks=bad)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("channels, n, lo, hi", [(0, 10, 0, 5), (2, 10, 6, 5), (2, 10, 0, 11),
                                                 (2, -1, 0, 0)])
def test_bad_geometry_is_refused(tmp_path: Path, channels: int, n: int, lo: int, hi: int) -> None:
    with pytest.raises(ValueError, match="geometry"):
        write_stem(tmp_path / "c.stem", channels=channels, n_samples=n, lo=lo, hi=hi, chunks=[])


def test_foreign_and_truncated_files_are_not_stems(tmp_path: Path) -> None:
    (tmp_path / "x.stem").write_bytes(b"RIFF" + bytes(5000))
    with pytest.raises(ValueError, match="not a stem"):
        open_stem(tmp_path / "x.stem")
    write_stem(tmp_path / "y.stem", channels=2, n_samples=1000, lo=0, hi=10,
               chunks=[(0, np.ones((2, 10), np.float32))])
    with open(tmp_path / "y.stem", "r+b") as handle:
        handle.truncate(HEADER_BYTES + 100)
    with pytest.raises(ValueError, match="truncated"):
        open_stem(tmp_path / "y.stem")
    cache = StemCache(tmp_path)
    assert cache.get("y") is None and cache.get("missing") is None


def test_rewrite_is_atomic_and_old_maps_keep_their_samples(tmp_path: Path) -> None:
    cache = StemCache(tmp_path / "cache")
    old = cache.put("k", channels=2, n_samples=1000, lo=0, hi=1000,
                    chunks=[(0, np.full((2, 1000), 0.25, np.float32))])
    new = cache.put("k", channels=2, n_samples=1000, lo=0, hi=1000,
                    chunks=[(0, np.full((2, 1000), -0.5, np.float32))])
    assert float(old.frames[500, 0]) == 0.25      # the old inode lives while mapped
    assert float(new.frames[500, 0]) == -0.5
    got = cache.get("k")
    assert got is not None and float(got.frames[0, 1]) == -0.5
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["k.stem"]   # no temp left


def test_keep_deletes_unused_keys_only(tmp_path: Path) -> None:
    cache = StemCache(tmp_path)
    for key in ("a", "b", "c"):
        cache.put(key, channels=1, n_samples=10, lo=0, hi=0, chunks=[])
    (tmp_path / "notes.txt").write_text("mine")
    assert cache.keep(["b"]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.stem", "notes.txt"]
    with pytest.raises(ValueError, match="key"):
        cache.path("../evil")
