"""The studio's link to sound: the scene renderer, the playback engine and export.

Render jobs are built here as plain functions for the worker thread. After any edit the studio
queues one job, `sync_job`, which hands a snapshot of the project to the one
`model.foley.render.SceneRenderer` of the project (used only from the worker thread, one job at a
time); the renderer compares it with what it holds and redoes only what changed (a nudge re-pans
one object, a new prompt regenerates one, a new loudness target re-masters). `plan` asks the
same renderer, on the UI thread, which objects are out of date, without doing anything. A new
renderer is built only for the first render of a project or another sound library. A job hands
the new mix straight to the playback engine (its control methods are thread-safe, and the mix
copy then happens off the UI thread) and returns an `AudioUpdate` with the waveform envelopes
the timeline draws, also computed off the UI thread.

A project whose stems would not fit in memory (`stem_render.STEM_MEMORY_BUDGET`: a 10-minute
scene with 100 objects is 23 GB of stems) is rendered by a `stem_render.CachedRenderer`
instead: stems in a disk cache, memory-mapped, the mix summed a block at a time by the playback
callback, waveform overviews at several zoom levels for the timeline. The rest of the studio
sees the same plan / sync / update; the mix reaches playback as soon as it can play, before the
overviews are updated.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from app.project import Project
from app.studio.session.envelopes import ENVELOPE_BUCKETS, minmax_envelope
from app.studio.session.state import RenderView
from app.studio.session.stem_render import (
    STEM_MEMORY_BUDGET,
    CachedRenderer,
    CachedSync,
    default_cache_root,
    stems_bytes,
)
from video.base.progress import ProgressFn, report, scaled
from video.base.timebase import SAMPLE_RATE, duration_to_samples

if TYPE_CHECKING:
    from audio.block_mix import BlockPlaybackEngine
    from model.foley.render import RenderResult, SceneRenderer, SyncPlan

JobFn = Any  # Callable[[ProgressFn], AudioUpdate]
METER_WINDOW_S = 0.05  # the output meters show the peak of the last 50 ms played


@dataclass(frozen=True)
class AudioUpdate:
    """What a sync job produced: the result, what the renderer did, the changed stems' envelopes.

    changed: the objects whose stems were rebuilt (`did.stale`), in the result's order.
    """

    result: RenderResult
    renderer: SceneRenderer | CachedRenderer
    did: SyncPlan
    changed: tuple[int, ...]
    mix_envelope: np.ndarray
    stem_envelopes: dict[int, np.ndarray] = field(default_factory=dict)
    generation: int = 0
    cached: CachedSync | None = None
    """Set when the stems live in the stem cache (then `result.stems` are maps of the files,
    `result.mix` is empty and `cached.mix` plays)."""


def _warn(message: str) -> None:
    sys.stderr.write(f"warning: {message}\n")


class AudioLink:
    """Owns the SceneRenderer, the PlaybackEngine and the last render (see the module doc)."""

    def __init__(self, *, silent: bool = False, cache_root: Path | None = None,
                 cached: bool | None = None) -> None:
        """cache_root: where the stem cache lives (`default_cache_root()` when None); cached:
        always (True) or never (False) render through the stem cache; None decides by size."""
        self.silent = silent
        self.cache_root = cache_root
        self.cached = cached
        self.engine: BlockPlaybackEngine | None = None
        self.renderer: SceneRenderer | CachedRenderer | None = None
        self.result: RenderResult | None = None
        self.last_sync: SyncPlan | None = None
        """What the renderer did in the last sync adopted (regenerated, re-panned, ...)."""
        self._library: Any = None
        self._library_key: tuple[str, ...] | None = None
        self._generation = 0  # bumped when another project opens: older jobs stay silent
        # the renderer as the worker thread last left it (jobs run one at a time, in order, and
        # may finish before the UI thread adopts their update): the one the next job continues
        self._worker_renderer: SceneRenderer | CachedRenderer | None = None

    # -- playback -----------------------------------------------------------------------------

    def start(self) -> BlockPlaybackEngine:
        """Open the playback engine (a device, or silent mode without one); idempotent."""
        if self.engine is None:
            from audio.block_mix import BlockPlaybackEngine
            from audio.playback import PlaybackConfig

            self.engine = BlockPlaybackEngine(config=PlaybackConfig(silent=self.silent,
                                                                    tap_seconds=METER_WINDOW_S))
            self.engine.open()
        return self.engine

    @property
    def status_message(self) -> str:
        return "not started" if self.engine is None else self.engine.status_message

    def output_levels(self) -> tuple[float, float]:
        """Peak dBFS of what was played in the last `METER_WINDOW_S` (left, right)."""
        from app.studio.session.envelopes import peak_dbfs

        if self.engine is None or not self.engine.is_playing:
            return -60.0, -60.0
        return peak_dbfs(self.engine.tap_output())

    @property
    def playing(self) -> bool:
        return self.engine is not None and self.engine.is_playing

    def prepare(self, duration: float) -> None:
        """A new project: silence of the video's length, so the transport works before audio."""
        engine = self.start()
        engine.pause()
        engine.clear_loop()
        from audio.block_mix import BlockMix

        # a mix of no stems reads as silence without a (2, n) buffer (230 MB for 10 minutes)
        engine.set_mix(BlockMix(duration_to_samples(duration), {}, active=()))
        engine.seek(0)

    # -- state the controller asks about ------------------------------------------------------

    @property
    def has_render(self) -> bool:
        return self.result is not None

    def reset(self) -> None:
        """Forget the last render and the renderer (another project was opened)."""
        self.renderer = None
        self.result = None
        self.last_sync = None
        self._worker_renderer = None
        self._generation += 1

    def plan(self, project: Project, *, remaster: bool = False) -> SyncPlan | None:
        """What a sync of this project would do, as the renderer sees it (None before the
        project has a renderer: then everything is still to render). Cheap for a nudge."""
        if self.renderer is None:
            return None
        return self.renderer.plan(project.analysis, project.objects, project.render,
                                  remaster=remaster)

    def stale_ids(self, project: Project) -> set[int]:
        """The objects whose audio is out of date (every object before the first render)."""
        plan = self.plan(project)
        return {o.id for o in project.objects} if plan is None else set(plan.stale)

    # -- jobs (run on the worker thread) -----------------------------------------------------

    def _library_for(self, project: Project, progress: ProgressFn | None) -> Any:
        from audio.library import SoundLibrary

        key = tuple(project.render.libraries)
        if self._library is None or key != self._library_key:
            self._library = SoundLibrary.open(list(key), warn=_warn, progress=progress)
            self._library_key = key
        return self._library

    def _publish(self, result: RenderResult, renderer: SceneRenderer, did: SyncPlan,
                 *, generation: int) -> AudioUpdate:
        """Send the new mix to playback and wrap the result with its envelopes.

        A job started for a project that is no longer open does not touch playback.
        """
        mix = np.array(result.mix, dtype=np.float32, copy=True)  # the renderer patches in place
        if self.engine is not None and generation == self._generation:
            self.engine.set_mix(mix)
        result = replace(result, mix=mix)
        changed = tuple(i for i in result.stems if i in did.stale)
        stems = {i: minmax_envelope(result.stems[i]) for i in changed}
        return AudioUpdate(result=result, renderer=renderer, did=did, changed=changed,
                           mix_envelope=minmax_envelope(mix), stem_envelopes=stems,
                           generation=generation)

    def sync_job(self, project: Project, *, remaster: bool = False) -> JobFn:
        """Bring the audio to a project snapshot: `SceneRenderer.sync` redoes what changed.

        remaster: re-master everything even if no loudness setting changed (a full render from
        the cached dry audio: export, "render all"). The renderer the worker used last is kept
        when it can be (same sound library), so unchanged objects' dry foley is never generated
        again; the first sync of a project builds one (and renders everything).
        """
        generation = self._generation

        if self.uses_cache(project):
            return self._cached_job(project, remaster=remaster, generation=generation)

        def job(progress: ProgressFn) -> AudioUpdate:
            from model.foley.render import SceneRenderer

            library = self._library_for(project, scaled(progress, 0.0, 0.1))
            held = self._worker_renderer
            if isinstance(held, SceneRenderer) and held.library is library:
                renderer = held
            else:
                renderer = SceneRenderer(project.analysis, project.render, library=library,
                                         warn=_warn)
            synced = renderer.sync(project.analysis, project.objects, project.render,
                                   remaster=remaster, progress=scaled(progress, 0.1, 0.95))
            if generation == self._generation:
                self._worker_renderer = renderer
            report(progress, 0.97, "waveforms")
            return self._publish(synced.result, renderer, synced.did, generation=generation)
        return job

    def uses_cache(self, project: Project) -> bool:
        """Whether this project renders through the stem cache (see the module doc):
        `cached` when given, else $STEREOFOLEY_STEM_CACHE_MODE ("always", "never"), else by
        size."""
        if self.cached is not None:
            return self.cached
        forced = os.environ.get("STEREOFOLEY_STEM_CACHE_MODE", "auto")
        if forced in ("always", "never"):
            return forced == "always"
        return stems_bytes(project.analysis) > STEM_MEMORY_BUDGET

    def cache_folder(self, project: Project) -> Path:
        """The project's stem cache: one folder per video under the cache root."""
        import hashlib

        root = self.cache_root if self.cache_root is not None else default_cache_root()
        video = project.analysis.video
        name = hashlib.sha256(f"{Path(video.path).resolve()}|{video.duration}".encode())
        return root / name.hexdigest()[:24]

    def _cached_job(self, project: Project, *, remaster: bool, generation: int) -> JobFn:
        def job(progress: ProgressFn) -> AudioUpdate:
            from audio.stem_cache import StemCache

            library = self._library_for(project, scaled(progress, 0.0, 0.1))
            folder = self.cache_folder(project)
            held = self._worker_renderer
            if isinstance(held, CachedRenderer) and held.library is library \
                    and held.cache.folder == folder:
                renderer = held
            else:
                renderer = CachedRenderer(project.analysis, project.render,
                                          cache=StemCache(folder), library=library, warn=_warn)

            def on_mix(mix: Any) -> None:
                if self.engine is not None and generation == self._generation:
                    self.engine.set_mix(mix)

            def playhead() -> int | None:
                engine = self.engine
                if engine is None or not engine.is_playing or generation != self._generation:
                    return None
                return engine.read_position

            synced = renderer.sync(project.analysis, project.objects, project.render,
                                   remaster=remaster, progress=scaled(progress, 0.1, 1.0),
                                   on_mix=on_mix, playhead=playhead)
            if generation == self._generation:
                self._worker_renderer = renderer
            return self._publish_cached(synced, renderer, generation=generation)
        return job

    def _publish_cached(self, synced: CachedSync, renderer: CachedRenderer, *,
                        generation: int) -> AudioUpdate:
        """The update of a cached render (its mix already plays): stems as maps of their
        files, envelopes from the overviews (no stem is read)."""
        from model.foley.render import RenderResult

        result = RenderResult(n_samples=synced.n_samples,
                              dry={i: d.frames[:, 0] for i, d in synced.dry.items()},
                              stems={i: s.planar() for i, s in synced.stems.items()},
                              mix=np.zeros((2, 0), dtype=np.float32), master=synced.master,
                              chosen=synced.chosen)
        changed = tuple(i for i in synced.stems if i in synced.did.stale)
        n = synced.n_samples
        return AudioUpdate(result=result, renderer=renderer, did=synced.did, changed=changed,
                           mix_envelope=synced.mix_overview.envelope(0, n, ENVELOPE_BUCKETS),
                           generation=generation, cached=synced)

    def apply(self, update: AudioUpdate) -> bool:
        """On the UI thread: adopt a finished job's renderer and result (False if it was for
        another project)."""
        if update.generation != self._generation:
            return False
        self.renderer = update.renderer
        self.result = update.result
        self.last_sync = update.did
        return True

    def render_view(self, view: RenderView, update: AudioUpdate) -> RenderView:
        """The timeline's envelopes after an update: those of the stems it changed are new,
        the others are kept (a stem an update did not change has the same envelope). A cached
        render brings overviews instead (the timeline reads them per view)."""
        duration = update.result.n_samples / SAMPLE_RATE
        if update.cached is not None:
            return RenderView(duration=duration, mix=update.mix_envelope,
                              overviews=dict(update.cached.overviews),
                              mix_overview=update.cached.mix_overview)
        stems = {i: e for i, e in view.stems.items()
                 if i in update.result.stems and i not in update.changed}
        stems.update(update.stem_envelopes)
        return RenderView(duration=duration, mix=update.mix_envelope, stems=stems)

    # -- export -----------------------------------------------------------------------------

    def export_job(self, project: Project, outdir: Path, *, force: bool,
                   review_video: bool, sessions: tuple[str, ...] = (),
                   dry_stems: bool = False, stems: str = "objects") -> JobFn:
        """Write OUTDIR (stems, mix, project.json, review video) for a project snapshot.

        Renders the snapshot fully first (cached dry foley makes this quick), so the export is
        re-mastered and exactly what the project says, whatever nudges happened since.
        """
        def job(progress: ProgressFn) -> tuple[Path, AudioUpdate]:
            from app.export import export_render

            update = self.sync_job(project, remaster=True)(scaled(progress, 0.0, 0.6) or progress)
            if update.cached is not None:   # the writer takes the mix whole: sum it once
                update = replace(update, result=replace(update.result,
                                                        mix=update.cached.mix.materialize()))
            video = project.video_path if review_video and Path(project.video_path).is_file() \
                else None
            written = export_render(outdir, project, update.result, force=force,
                                    review_video=video, progress=scaled(progress, 0.6, 1.0),
                                    sessions=sessions, dry_stems=dry_stems, stems=stems)
            return written, update
        return job

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()
            self.engine = None
