"""The studio's mix, computed a block at a time from memory-mapped stems as playback reads it.

A `BlockMix` is the sum of the playing objects' cached stems (`audio.stem_cache.CachedStem`),
in ascending id order (the order the master stage sums them, so the float32 sums round alike),
times the master stage's gains when it has a `MasterPlan` (`audio.master.apply_master`: gains
per sample, so a block equals the same frames of the whole). Nothing is summed ahead: the
playback callback asks for the frames it plays (`mix[a:b]`, (k, 2) like the interleaved array
`PlaybackEngine` otherwise holds) and only the stems that sound in [a, b) are read, so memory
does not grow with duration or object count.

A `BlockMix` never changes: a nudge makes a new one with the object's new stem (`with_stem`),
handed to `BlockPlaybackEngine.set_mix`, which crossfades from the old one at the next block.
`first_read` says when playback first pulled samples from a mix (the nudge-to-audible clock).
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from audio.playback import CHANNELS, PlaybackEngine, as_interleaved
from audio.spool import DiskAudio
from audio.stem_cache import CachedStem

if TYPE_CHECKING:
    from audio.master import MasterPlan


class PatchedStem:
    """A cached stem whose frames [start, start + k) read from `patch` ((k, 2) float32) instead:
    a nudged object's new placement around the playhead, heard while its whole stem is placed
    again (`BlockMix.with_patch`). Answers what `BlockMix` asks of a `CachedStem`."""

    def __init__(self, stem: CachedStem, start: int, patch: np.ndarray) -> None:
        patch = np.asarray(patch, dtype=np.float32)
        if patch.ndim != 2 or patch.shape[1] != stem.channels or start < 0 \
                or start + patch.shape[0] > stem.n_samples:
            raise ValueError(f"patch {patch.shape} at {start} does not fit a stem of "
                             f"{stem.n_samples} frames")
        self.base, self.start, self.patch = stem, start, patch
        self.stop = start + patch.shape[0]
        self.lo = min(stem.lo, start) if stem.hi > stem.lo else start
        self.hi = max(stem.hi, self.stop) if stem.hi > stem.lo else self.stop
        self.path = stem.path

    @property
    def n_samples(self) -> int:
        return self.base.n_samples

    @property
    def channels(self) -> int:
        return self.base.channels

    @property
    def frames(self) -> PatchedStem:
        """Sliced like a stem's map: `frames[a:b]` is (b - a, 2)."""
        return self

    def __getitem__(self, key: slice) -> np.ndarray:
        a, b, _ = key.indices(self.n_samples)
        return self._overlay(np.array(self.base.frames[a:b]), a, b)

    def load(self, start: int, stop: int) -> np.ndarray:
        return self._overlay(self.base.load(start, stop), max(0, start), stop)

    def release(self, start: int, stop: int) -> None:
        self.base.release(start, stop)

    def _overlay(self, out: np.ndarray, a: int, b: int) -> np.ndarray:
        x, y = max(a, self.start), min(b, self.stop)
        if y > x:
            out[x - a: y - a] = self.patch[x - self.start: y - self.start]
        return out


Stem = CachedStem | PatchedStem


class BlockMix:
    """Sum of `stems[i]` for i in `active` (times the master plan), read by frame ranges."""

    def __init__(self, n_samples: int, stems: Mapping[int, Stem], *,
                 active: Collection[int], plan: MasterPlan | None = None) -> None:
        for oid, stem in stems.items():
            if stem.n_samples != n_samples or stem.channels != CHANNELS:
                raise ValueError(f"stem {oid} is ({stem.n_samples}, {stem.channels}), expected "
                                 f"({n_samples}, {CHANNELS})")
        self.n_samples = n_samples
        self.stems = dict(stems)
        self.active = frozenset(i for i in active if i in self.stems)
        self.plan = plan
        order = sorted(self.active)
        self._order = order
        self._stems = [self.stems[i] for i in order]
        self._lo = np.array([self.stems[i].lo for i in order], dtype=np.int64)
        self._hi = np.array([self.stems[i].hi for i in order], dtype=np.int64)
        self.first_read: float | None = None
        """time.perf_counter() when playback first sliced this mix (`mix[a:b]`)."""

    # -- the array surface PlaybackEngine reads -------------------------------------------------

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n_samples, CHANNELS)

    def __len__(self) -> int:
        return self.n_samples

    def __getitem__(self, key: Any) -> np.ndarray:
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("BlockMix supports only [a:b] frame slices")
        if self.first_read is None:
            self.first_read = time.perf_counter()
        a, b, _ = key.indices(self.n_samples)
        return self.read(a, max(a, b), mapped=True)

    # -- reading -------------------------------------------------------------------------------

    def sounding(self, start: int, stop: int) -> list[int]:
        """Ids of the playing stems that may be non-zero in [start, stop), ascending."""
        hit = np.flatnonzero((self._lo < stop) & (self._hi > start))
        return [self._order[i] for i in hit]

    def read(self, start: int, stop: int, *, mapped: bool = False) -> np.ndarray:
        """Mix frames [start, stop) as a fresh (k, 2) float32 array.

        mapped: read the stems through their maps and release the pages read (playback's
        small blocks); otherwise through positioned reads (bulk passes over the whole mix)."""
        start, stop = max(0, start), min(self.n_samples, stop)
        out = np.zeros((max(0, stop - start), CHANNELS), dtype=np.float32)
        if stop <= start:
            return out
        for i in np.flatnonzero((self._lo < stop) & (self._hi > start)):
            a, b = max(start, int(self._lo[i])), min(stop, int(self._hi[i]))
            stem = self._stems[i]
            if mapped:
                out[a - start:b - start] += stem.frames[a:b]
                stem.release(a, b)
            else:
                out[a - start:b - start] += stem.load(a, b)
        if self.plan is not None:
            from audio.master import apply_master

            out = np.ascontiguousarray(apply_master(out.T, start, self.plan).T)
        return out

    def planar(self) -> PlanarMix:
        """A (2, n) view answering `[:, a:b]` (what `audio.master.plan_master` reads)."""
        return PlanarMix(self)

    def materialize(self, *, block: int = 1 << 20) -> np.ndarray:
        """The whole mix as a (2, n) float32 array (for export; playback never needs it)."""
        out = np.empty((CHANNELS, self.n_samples), dtype=np.float32)
        for a in range(0, self.n_samples, block):
            b = min(self.n_samples, a + block)
            out[:, a:b] = self.read(a, b).T
        return out

    # -- new mixes -----------------------------------------------------------------------------

    def with_stem(self, object_id: int, stem: CachedStem) -> BlockMix:
        """The same mix with one object's stem replaced (or added)."""
        stems = {**self.stems, object_id: stem}
        return BlockMix(self.n_samples, stems, active=self.active | {object_id}
                        if object_id in self.active else self.active, plan=self.plan)

    def with_patch(self, oid: int, start: int, patch: np.ndarray) -> BlockMix:
        """This mix with object `oid`'s frames [start, start + k) replaced by `patch` ((k, 2)):
        a nudge heard at the playhead at once; an earlier patch of the object is dropped."""
        stem = self.stems[oid]
        base = stem.base if isinstance(stem, PatchedStem) else stem
        return BlockMix(self.n_samples, {**self.stems, oid: PatchedStem(base, start, patch)},
                        active=self.active, plan=self.plan)

    def with_active(self, active: Collection[int]) -> BlockMix:
        return BlockMix(self.n_samples, self.stems, active=active, plan=self.plan)

    def with_plan(self, plan: MasterPlan | None) -> BlockMix:
        return BlockMix(self.n_samples, self.stems, active=self.active, plan=plan)


class PlanarMix(DiskAudio):
    """A `BlockMix` seen as a (2, n) signal: `[:, a:b]` gives the unmastered (2, b - a) sum.

    It is a `DiskAudio` (a spool the master stage already reads a block at a time) whose
    frames are summed from the stems instead of read from one file."""

    def __init__(self, mix: BlockMix) -> None:
        super().__init__(f"<mix of {len(mix.active)} stems>", channels=CHANNELS,
                         n_samples=mix.n_samples)
        self._mix = mix.with_plan(None)

    def read(self, start: int, stop: int) -> np.ndarray:
        return np.ascontiguousarray(self._mix.read(start, stop).T)

    def _handle(self) -> int:
        raise TypeError("a mix of stems has no file to write")


class BlockPlaybackEngine(PlaybackEngine):
    """A `PlaybackEngine` that also plays a `BlockMix` (read a block at a time by the callback)
    instead of copying a whole mix into one interleaved array."""

    @property
    def mix(self) -> Any:
        """What is playing now: a `BlockMix`, or the interleaved array of an array mix."""
        return self._mix

    def set_mix(self, mix: np.ndarray | BlockMix) -> None:  # type: ignore[override]
        """As `PlaybackEngine.set_mix`, for an array or a `BlockMix`."""
        super().set_mix(mix)  # type: ignore[arg-type]

    def _buffer(self, mix: Any) -> Any:
        """A `BlockMix` is played as it is; an array is copied as `PlaybackEngine` does."""
        return mix if isinstance(mix, BlockMix) else as_interleaved(mix)
