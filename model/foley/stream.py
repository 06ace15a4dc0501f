"""The render in bounded memory: one object at a time to disk, then the master in blocks.

`render_scene` holds every object's dry sound and stem and the mix as whole float arrays, so its
memory grows with duration x objects. `render_streamed` renders the same samples, bit for bit,
with memory that grows with neither the number of objects nor the duration:

1. per object, in ascending id order (the order the master stage sums the mix in, so the float32
   sums round alike): generate its dry sound a block at a time (`model.foley.generate.DryStream`:
   one-shots made lazily in event order, textures with their phases, loop positions, filters
   and control curves carried from block to block), spatialize each block as it comes
   (`audio.spatialize.spatialize_stream`: only the chunks where it sounds), write the chunks to
   the object's spool (`audio.spool.DiskAudio`, from its first sounding frame to its last) and
   add them to the mix spool. Width, ITD and Doppler still take the object's dry sound whole.
   Peak memory: a block of one object.
2. the master stage measures the whole mix from its spool a block at a time
   (`audio.master.plan_master`: loudness meter and true-peak map keep per-block figures, the
   exact peaks go to a spool beside the mix, the limiter's envelope is made a grid block at a
   time when asked for) and decides one loudness gain and the limiter;
3. `stem_blocks` / `mix_blocks` give the mastered audio a block at a time
   (`audio.master.apply_master`: the gains are per sample, so blocks equal the whole), for the
   writer to stream into WAV files.

The studio keeps `SceneRenderer` (it needs every stem at hand to re-place one object).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from audio.mix import active_ids
from audio.spatialize import spatialize_chunks, spatialize_stream, streams_whole
from audio.spool import DiskAudio
from model.foley.choose import LibraryLike, describe_plan
from model.foley.generate import DryStream, GenerateConfig, SampleCache, WarnFn
from model.foley.render import _master_gain, bed_nudges, master_config, spatial_config
from model.foley.scene import ObjectSound, RenderSettings
from video.base.errors import InputError
from video.base.progress import ProgressFn, report, scaled
from video.base.timebase import duration_to_samples
from video.base.tracks import Analysis

if TYPE_CHECKING:
    from audio.master import MasterPlan, Span

BLOCK_FRAMES = 1 << 18      # ~5.5 s: the unit in which mastered audio is read and written


@dataclass
class StreamedRender:
    """A scene rendered to spools and measured by the master stage, ready to be written.

    stems: per object id, its spatialized (not yet mastered) stem on disk; playing: the ids the
    mixer lets through (they carry the limiter; muted ones get the loudness gain only, as in
    `SceneRenderer.render`); mix: the sum of the playing stems on disk; plan: the master stage's
    decision; chosen: per object id, what its foley was made of (`describe_plan`)."""

    n_samples: int
    stems: dict[int, DiskAudio]
    playing: frozenset[int]
    mix: DiskAudio
    plan: MasterPlan
    chosen: dict[int, Mapping[str, Any]]

    @property
    def master(self) -> dict[str, Any]:
        """The master stage's report, as saved in project.json."""
        return self.plan.report

    @property
    def limiter(self) -> dict[int, Sequence[Span]]:
        """Per object id, the limiter spans its stem carries (none for a muted stem)."""
        return {oid: self.plan.spans if oid in self.playing else () for oid in self.stems}

    def span(self, object_id: int) -> tuple[int, int]:
        """[lo, hi) of the frames where the object's stem may be non-zero."""
        stem = self.stems[object_id]
        return stem.lo, stem.hi

    def stem_blocks(self, object_id: int, frames: int = BLOCK_FRAMES) -> Iterator[np.ndarray]:
        """The object's mastered stem, (2, k) float32 blocks from sample 0 to the end."""
        from audio.master import apply_master

        stem = self.stems[object_id]
        muted = np.float32(_master_gain(self.plan.report))
        for start in range(0, self.n_samples, frames):
            stop = min(self.n_samples, start + frames)
            if stop <= stem.lo or start >= stem.hi:
                yield np.zeros((2, stop - start), dtype=np.float32)
                continue
            block = stem.read(start, stop)
            yield apply_master(block, start, self.plan) if object_id in self.playing \
                else block * muted

    def mix_blocks(self, frames: int = BLOCK_FRAMES) -> Iterator[np.ndarray]:
        """The mastered mix, (2, k) float32 blocks from sample 0 to the end."""
        from audio.master import apply_master

        for start, block in self.mix.blocks(frames):
            yield apply_master(block, start, self.plan)

    def close(self) -> None:
        """Release the spools' files (the folder is the caller's to delete)."""
        for stem in self.stems.values():
            stem.close()
        self.mix.close()


def _spool_chunks(chunks: Iterator[tuple[int, np.ndarray]], path: Path, n: int,
                  mix: DiskAudio | None) -> DiskAudio:
    """Write a stem's chunks (ascending, silent ones left out) to a spool holding the frames
    from its first chunk to the end of its last, adding them to `mix` too when given."""
    stem: DiskAudio | None = None
    end = 0
    for start, chunk in chunks:
        if stem is None:
            stem = DiskAudio.create(path, channels=2, n_samples=n, lo=start, hi=n)
        stem.write(start, chunk)
        end = start + chunk.shape[1]
        if mix is not None:
            mix.add(start, chunk)
    if stem is None:
        return DiskAudio.create(path, channels=2, n_samples=n, lo=0, hi=0)
    stem.end_at(end)
    return stem


def render_streamed(analysis: Analysis, objects: Sequence[ObjectSound],
                    settings: RenderSettings, *, folder: str | Path,
                    library: LibraryLike | None = None, progress: ProgressFn | None = None,
                    warn: WarnFn | None = None, config: GenerateConfig | None = None
                    ) -> StreamedRender:
    """Render every object of `objects` to spools in `folder` and plan the master stage: the
    same samples as `render_scene` (see the module docstring), in bounded memory.

    Progress: 0..0.9 objects, 0.9..1 measuring the mix."""
    from audio.master import plan_master

    folder = Path(folder)
    ids = [o.id for o in objects]
    if len(set(ids)) != len(ids):
        raise InputError(f"duplicate object ids {ids}")
    tracks = {t.id: t for t in analysis.objects}
    for oid in ids:
        if oid not in tracks:
            raise InputError(f"no object with id {oid} in the analysis")
    n = duration_to_samples(analysis.video.duration)
    spatial = spatial_config(settings)
    samples = SampleCache(library, warn)
    generate = config if config is not None else GenerateConfig()
    playing = frozenset(active_ids({o.id: o.nudges for o in objects}))
    mix = DiskAudio.create(folder / "mix.f32", channels=2, n_samples=n)
    stems: dict[int, DiskAudio] = {}
    chosen: dict[int, Mapping[str, Any]] = {}
    order = sorted(objects, key=lambda o: o.id)   # the master stage's summing order
    for i, sound in enumerate(order):
        report(progress, 0.9 * i / max(len(order), 1), f"object {sound.id}: foley")
        track = tracks[sound.id]
        dry = DryStream(track, analysis.video, sound, render_seed=settings.seed,
                        library=library, samples=samples, config=generate, warn=warn)
        chosen[sound.id] = describe_plan(dry.plan, prompted=bool(sound.prompt.strip()
                                                                 or sound.sounds))
        nudges = bed_nudges(track, sound.nudges)
        path = folder / f"stem{sound.id}.f32"
        if streams_whole(nudges, spatial):
            chunks = spatialize_stream(dry.blocks(BLOCK_FRAMES), track, analysis.video,
                                       n_samples=n, nudges=nudges, config=spatial)
            stem = _spool_chunks(chunks, path, n, mix if sound.id in playing else None)
        else:      # width, ITD or Doppler: the spatializer takes the whole dry signal
            (lo, hi), chunks = spatialize_chunks(dry.whole(), track, analysis.video,
                                                 nudges=nudges, config=spatial)
            stem = DiskAudio.create(path, channels=2, n_samples=n, lo=lo, hi=hi)
            for start, chunk in chunks:
                stem.write(start, chunk)
                if sound.id in playing:
                    mix.add(start, chunk)
        stem.close()
        stems[sound.id] = stem
        del dry, chunks
    report(progress, 0.9, "measuring the mix")
    master_plan = plan_master(mix, config=master_config(settings),
                              progress=scaled(progress, 0.9, 1.0))
    report(progress, 1.0, "rendered")
    return StreamedRender(n_samples=n, stems=stems, playing=playing, mix=mix, plan=master_plan,
                          chosen=chosen)
