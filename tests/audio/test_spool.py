"""DiskAudio spools: frames stored where written, exact zeros elsewhere, float32 sums as in RAM."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from audio.spool import DiskAudio


def _noise(channels: int, n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((channels, n)).astype(np.float32)


def test_round_trip_and_zeros_outside_the_stored_frames(tmp_path: Path) -> None:
    audio = DiskAudio.create(tmp_path / "a.f32", channels=2, n_samples=1000, lo=200, hi=700)
    block = _noise(2, 500)
    audio.write(200, block)
    got = audio.read(0, 1000)
    assert got.shape == (2, 1000) and got.dtype == np.float32
    np.testing.assert_array_equal(got[:, 200:700], block)
    assert not got[:, :200].any() and not got[:, 700:].any()
    np.testing.assert_array_equal(audio[:, 650:900], got[:, 650:900])   # numpy-like slicing
    np.testing.assert_array_equal(audio[:, 990:], got[:, 990:])
    assert audio.shape == (2, 1000) and audio.ndim == 2 and audio.dtype == np.float32
    # the file holds only the stored frames
    assert (tmp_path / "a.f32").stat().st_size == 500 * 2 * 4
    audio.close()


def test_add_rounds_like_a_float32_sum_in_memory(tmp_path: Path) -> None:
    parts = [_noise(2, 3000, seed) * np.float32(10.0 ** -seed) for seed in range(4)]
    audio = DiskAudio.create(tmp_path / "mix.f32", channels=2, n_samples=3000)
    ram = np.zeros((2, 3000), dtype=np.float32)
    for part in parts:
        ram += part
        for start in range(0, 3000, 700):      # added in blocks that do not line up
            audio.add(start, part[:, start:start + 700])
    np.testing.assert_array_equal(audio.read(0, 3000), ram)


def test_blocks_cover_the_signal_in_order(tmp_path: Path) -> None:
    audio = DiskAudio.create(tmp_path / "b.f32", channels=1, n_samples=1050)
    data = _noise(1, 1050)
    audio.write(0, data)
    starts, pieces = zip(*audio.blocks(400), strict=True)
    assert starts == (0, 400, 800) and [p.shape[1] for p in pieces] == [400, 400, 250]
    np.testing.assert_array_equal(np.concatenate(pieces, axis=1), data)


@pytest.mark.parametrize("geometry", [
    {"channels": 0, "n_samples": 10},
    {"channels": 2, "n_samples": -1},
    {"channels": 2, "n_samples": 10, "lo": 5, "hi": 4},
    {"channels": 2, "n_samples": 10, "lo": 0, "hi": 11},
])
def test_bad_geometry_is_refused(tmp_path: Path, geometry: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="spool geometry"):
        DiskAudio.create(tmp_path / "x.f32", **geometry)


@pytest.mark.parametrize(("start", "shape", "message"), [
    (100, (2, 10), "outside"),          # before the stored frames
    (295, (2, 10), "outside"),          # runs past them
    (150, (1, 10), r"\(2, k\) block"),  # wrong channel count
])
def test_writes_outside_the_stored_frames_are_refused(tmp_path: Path, start: int,
                                                      shape: tuple[int, int],
                                                      message: str) -> None:
    audio = DiskAudio.create(tmp_path / "x.f32", channels=2, n_samples=400, lo=120, hi=300)
    with pytest.raises(ValueError, match=message):
        audio.write(start, np.ones(shape, dtype=np.float32))
    with pytest.raises(ValueError, match=message):
        audio.add(start, np.ones(shape, dtype=np.float32))


@pytest.mark.parametrize("key", [np.s_[0, 1:5], np.s_[:, 1:9:2], np.s_[1:5]])
def test_only_whole_channel_slices_are_supported(tmp_path: Path, key: object) -> None:
    audio = DiskAudio.create(tmp_path / "x.f32", channels=2, n_samples=10)
    with pytest.raises(TypeError, match=r"\[:, a:b\]"):
        audio[key]


def test_end_at_cuts_the_file_back_and_reads_zeros_after(tmp_path: Path) -> None:
    audio = DiskAudio.create(tmp_path / "s.f32", channels=2, n_samples=1000, lo=100)
    block = np.arange(2 * 300, dtype=np.float32).reshape(2, 300)
    audio.write(100, block)
    audio.end_at(400)
    assert (audio.lo, audio.hi) == (100, 400)
    assert (tmp_path / "s.f32").stat().st_size == 300 * 2 * 4
    got = audio.read(0, 1000)
    np.testing.assert_array_equal(got[:, 100:400], block)
    assert not got[:, :100].any() and not got[:, 400:].any()
    with pytest.raises(ValueError, match="cannot end"):
        audio.end_at(500)
    audio.close()
