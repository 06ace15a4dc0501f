"""The block-wise mix: any block equals the same frames of the whole sum of the playing stems
(mastered alike), and the playback engine plays it a block at a time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from audio.block_mix import BlockMix, BlockPlaybackEngine
from audio.master import MasterConfig, apply_master, plan_master
from audio.playback import PlaybackConfig
from audio.stem_cache import StemCache

N = 96_000


@pytest.fixture
def stems(tmp_path: Path):
    cache = StemCache(tmp_path)
    rng = np.random.default_rng(11)
    out, arrays = {}, {}
    for oid, (lo, hi) in {3: (0, 40_000), 1: (30_000, 96_000), 7: (50_000, 50_500),
                          9: (0, 0)}.items():
        arr = np.zeros((2, N), dtype=np.float32)
        arr[:, lo:hi] = 0.2 * rng.standard_normal((2, hi - lo)).astype(np.float32)
        out[oid] = cache.put(f"s{oid}", channels=2, n_samples=N, lo=lo, hi=hi,
                             chunks=[(lo, arr[:, lo:hi])] if hi > lo else [])
        arrays[oid] = arr
    return out, arrays


def _whole(arrays: dict[int, np.ndarray], active: set[int]) -> np.ndarray:
    total = np.zeros((2, N), dtype=np.float32)
    for oid in sorted(active):
        total += arrays[oid]
    return total


def test_blocks_equal_the_sum_of_stems(stems) -> None:
    cached, arrays = stems
    active = {1, 3, 7, 9}
    mix = BlockMix(N, cached, active=active)
    whole = _whole(arrays, active)
    blocks = np.concatenate([mix[a:a + 513] for a in range(0, N, 513)])
    assert np.array_equal(blocks.T, whole)
    assert mix.sounding(45_000, 51_000) == [1, 7]
    assert np.array_equal(mix.materialize(), whole)


def test_muted_stems_are_left_out_and_master_applies_per_block(stems) -> None:
    cached, arrays = stems
    mix = BlockMix(N, cached, active={1, 7})
    plan = plan_master(mix.planar(), config=MasterConfig(target_lufs=-14.0))
    whole = _whole(arrays, {1, 7})
    assert plan_master(whole, config=MasterConfig(target_lufs=-14.0)).scale == plan.scale
    mastered = mix.with_plan(plan)
    expected = apply_master(whole, 0, plan)
    got = np.concatenate([mastered[a:a + 4000] for a in range(0, N, 4000)]).T
    assert np.array_equal(got, expected)


def test_a_mix_of_stems_spools_its_true_peaks_where_asked_never_in_the_cwd(
        stems, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cached, arrays = stems
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    mix = BlockMix(N, cached, active={1, 3, 7})
    config = MasterConfig(target_lufs=-6.0)           # loud: the limiter reads the peaks
    in_memory = plan_master(mix.planar(), config=config)
    spool = tmp_path / "mix.truepeak"
    spooled = plan_master(mix.planar(), config=config, peaks_spool=spool)
    assert list(work.iterdir()) == []
    assert spool.is_file() and spool.stat().st_size == 4 * N
    assert spooled.limiter is not None and in_memory.limiter is not None
    whole = _whole(arrays, {1, 3, 7})
    assert np.array_equal(apply_master(whole, 0, spooled), apply_master(whole, 0, in_memory))


def test_with_stem_replaces_one_object(stems, tmp_path: Path) -> None:
    cached, arrays = stems
    mix = BlockMix(N, cached, active={1, 3})
    louder = StemCache(tmp_path).put("s3b", channels=2, n_samples=N, lo=0, hi=40_000,
                                     chunks=[(0, 2 * arrays[3][:, :40_000])])
    new = mix.with_stem(3, louder)
    assert new.active == mix.active and mix.stems[3] is cached[3]
    expected = arrays[1] + 2 * arrays[3]
    assert np.allclose(new.read(0, N).T, expected, atol=1e-6)
    assert new.first_read is None                 # bulk reads are not playback
    assert np.array_equal(new[0:N], new.read(0, N))
    assert new.first_read is not None and mix.first_read is None


def test_wrong_length_and_bad_index_are_refused(stems) -> None:
    cached, _ = stems
    with pytest.raises(ValueError, match="expected"):
        BlockMix(N + 1, cached, active={1})
    with pytest.raises(TypeError):
        BlockMix(N, cached, active={1})[::2]


def test_engine_plays_a_block_mix_block_by_block(stems) -> None:
    cached, arrays = stems
    mix = BlockMix(N, cached, active={1, 3})
    engine = BlockPlaybackEngine(config=PlaybackConfig(silent=True, crossfade=0))
    engine.set_mix(mix)
    assert engine.length == N
    engine.play()
    out = np.zeros((N, 2), dtype=np.float32)
    for a in range(0, N, 512):
        engine.pull(out[a:a + 512])
    assert np.array_equal(out.T, _whole(arrays, {1, 3}))


def test_a_patch_replaces_one_objects_frames_in_a_window(stems) -> None:
    """A nudge heard at the playhead: the patched object's frames in [start, start + k) come
    from the patch, everything else is the mix as it was; a new patch drops the old one."""
    cached, arrays = stems
    mix = BlockMix(N, cached, active={1, 3, 7})
    patch = np.full((5000, 2), 0.5, dtype=np.float32)
    patched = mix.with_patch(3, 38_000, patch)          # straddles the stem's end (40 000)
    expected = _whole(arrays, {1, 3, 7})
    expected[:, 38_000:43_000] += 0.5 - arrays[3][:, 38_000:43_000]
    for mapped in (True, False):
        got = np.concatenate([patched.read(a, a + 1500, mapped=mapped)
                              for a in range(0, N, 1500)]).T
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    assert patched.sounding(41_000, 42_000) == [1, 3]   # the patch reaches past the stem
    again = patched.with_patch(3, 0, np.zeros((10, 2), dtype=np.float32))
    np.testing.assert_allclose(again.read(38_000, 43_000).T,
                               _whole(arrays, {1, 3, 7})[:, 38_000:43_000], atol=1e-6)
    assert mix.read(0, N).tobytes() == _whole(arrays, {1, 3, 7}).T.tobytes()  # unchanged


@pytest.mark.parametrize(("start", "shape"), [(-1, (10, 2)), (N - 5, (10, 2)), (0, (10, 1)),
                                              (0, (10,))])
def test_a_patch_that_does_not_fit_is_refused(stems, start: int, shape: tuple[int, ...]
                                              ) -> None:
    cached, _ = stems
    with pytest.raises(ValueError, match="does not fit"):
        BlockMix(N, cached, active={1}).with_patch(1, start, np.zeros(shape, np.float32))
