"""The studio's link to sound: the scene renderer, the playback engine and export.

Render jobs are built here as plain functions for the worker thread. Jobs share one
`model.foley.render.SceneRenderer` (used only from the worker thread, one job at a time) while it fits
the project, so dry foley is generated once per object and a nudge only re-spatializes that
object (`SceneRenderer.update_object`). After an edit of the tracks (add, delete, merge, seeded
tracking, undo of those) or of the render settings, the same renderer adopts the new scene
(`SceneRenderer.set_analysis`): only new or changed objects are generated, the other stems are
kept as they are. A new renderer is built only for the first render of a project or another
sound library. A job hands the new mix straight to the playback engine (its control methods are
thread-safe, and the mix copy then happens off the UI thread) and returns an `AudioUpdate` with
the waveform envelopes the timeline draws, also computed off the UI thread.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from app.project import Project
from app.studio.envelopes import minmax_envelope
from app.studio.state import RenderView
from video.base.progress import ProgressFn, report, scaled
from video.base.timebase import SAMPLE_RATE, duration_to_samples

if TYPE_CHECKING:
    from audio.playback import PlaybackEngine
    from model.foley.render import RenderResult, SceneRenderer

JobFn = Any  # Callable[[ProgressFn], AudioUpdate]
METER_WINDOW_S = 0.05  # the output meters show the peak of the last 50 ms played


@dataclass(frozen=True)
class AudioUpdate:
    """What a render job produced: the result, which stems changed, their envelopes.

    full: the job brought every object up to date (a render job), not only `changed`.
    """

    result: RenderResult
    renderer: SceneRenderer
    changed: tuple[int, ...]
    full: bool
    mix_envelope: np.ndarray
    stem_envelopes: dict[int, np.ndarray] = field(default_factory=dict)
    generation: int = 0


def _warn(message: str) -> None:
    sys.stderr.write(f"warning: {message}\n")


class AudioLink:
    """Owns the SceneRenderer, the PlaybackEngine and the last render (see the module doc)."""

    def __init__(self, *, silent: bool = False) -> None:
        self.silent = silent
        self.engine: PlaybackEngine | None = None
        self.renderer: SceneRenderer | None = None
        self.result: RenderResult | None = None
        self._library: Any = None
        self._library_key: tuple[str, ...] | None = None
        self._generation = 0  # bumped when another project opens: older jobs stay silent
        # the renderer as the worker thread last left it (jobs run one at a time, in order, and
        # may finish before the UI thread adopts their update): the one the next job continues
        self._worker_renderer: SceneRenderer | None = None

    # -- playback -----------------------------------------------------------------------------

    def start(self) -> PlaybackEngine:
        """Open the playback engine (a device, or silent mode without one); idempotent."""
        if self.engine is None:
            from audio.playback import PlaybackConfig, PlaybackEngine

            self.engine = PlaybackEngine(config=PlaybackConfig(silent=self.silent,
                                                               tap_seconds=METER_WINDOW_S))
            self.engine.open()
        return self.engine

    @property
    def status_message(self) -> str:
        return "not started" if self.engine is None else self.engine.status_message

    def output_levels(self) -> tuple[float, float]:
        """Peak dBFS of what was played in the last `METER_WINDOW_S` (left, right)."""
        from app.studio.envelopes import peak_dbfs

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
        engine.set_mix(np.zeros((2, duration_to_samples(duration)), dtype=np.float32))
        engine.seek(0)

    # -- state the controller asks about ------------------------------------------------------

    @property
    def has_render(self) -> bool:
        return self.result is not None

    @property
    def has_renderer(self) -> bool:
        return self.renderer is not None

    def reset(self) -> None:
        """Forget the last render and the renderer (another project was opened)."""
        self.renderer = None
        self.result = None
        self._worker_renderer = None
        self._generation += 1

    def remove_object(self, object_id: int) -> None:
        """An object was deleted: hide its stem now; the render job the edit schedules drops
        it from the renderer and the mix."""
        if self.result is not None and object_id in self.result.stems:
            stems = {i: s for i, s in self.result.stems.items() if i != object_id}
            self.result = replace(self.result, stems=stems)

    # -- jobs (run on the worker thread) -----------------------------------------------------

    def _library_for(self, project: Project, progress: ProgressFn | None) -> Any:
        from audio.library import SoundLibrary

        key = tuple(project.render.libraries)
        if self._library is None or key != self._library_key:
            self._library = SoundLibrary.open(list(key), warn=_warn, progress=progress)
            self._library_key = key
        return self._library

    def _publish(self, result: RenderResult, renderer: SceneRenderer, changed: tuple[int, ...],
                 *, full: bool, generation: int) -> AudioUpdate:
        """Send the new mix to playback and wrap the result with its envelopes.

        A job started for a project that is no longer open does not touch playback.
        """
        mix = np.array(result.mix, dtype=np.float32, copy=True)  # the renderer patches in place
        if self.engine is not None and generation == self._generation:
            self.engine.set_mix(mix)
        result = replace(result, mix=mix)
        stems = {i: minmax_envelope(result.stems[i]) for i in changed if i in result.stems}
        return AudioUpdate(result=result, renderer=renderer, changed=changed, full=full,
                           mix_envelope=minmax_envelope(mix), stem_envelopes=stems,
                           generation=generation)

    def fits(self, project: Project) -> bool:
        """True when the live renderer can update single objects of this project."""
        return self._fits(self.renderer, project)

    def _fits(self, renderer: SceneRenderer | None, project: Project) -> bool:
        """True when `renderer` is at this project's analysis and render settings.

        A renderer keeps per-track digests and the spatial settings of the scene it rendered
        last, so after an edit of tracks (add, delete, merge, seeded tracking) or of render
        settings it must adopt the new scene first (a render job does that). Unchanged analyses
        are the same object (edits build new ones; snapshots share).
        """
        return renderer is not None and renderer.analysis is project.analysis \
            and renderer.settings == project.render

    def render_job(self, project: Project, *, remaster: bool = True) -> JobFn:
        """Bring the audio to a project snapshot.

        remaster: a full render (every object placed again, the master stage re-measured).
        Otherwise, after a track or settings edit, only what changed is rendered
        (`SceneRenderer.set_analysis`: new/changed objects generated, removed ones dropped,
        the master gain kept as after a nudge). Either way the renderer the worker used last
        is kept when it can be (same sound library), so unchanged objects' dry foley is never
        generated again; the first render of a project builds one.
        """
        generation = self._generation

        def job(progress: ProgressFn) -> AudioUpdate:
            from model.foley.render import SceneRenderer

            library = self._library_for(project, scaled(progress, 0.0, 0.1))
            renderer = self._worker_renderer
            part = scaled(progress, 0.1, 0.95)
            if renderer is None or renderer.library is not library:
                renderer = SceneRenderer(project.analysis, project.render, library=library,
                                         warn=_warn)
                result = renderer.render(project.objects, progress=part)
                changed = tuple(result.stems)
            elif remaster:
                result = renderer.render(project.objects, analysis=project.analysis,
                                         settings=project.render, progress=part)
                changed = tuple(result.stems)
            else:
                before = renderer.result().stems
                result = renderer.set_analysis(project.analysis, project.objects,
                                               settings=project.render, progress=part)
                changed = tuple(i for i, s in result.stems.items() if before.get(i) is not s)
            if generation == self._generation:
                self._worker_renderer = renderer
            report(progress, 0.97, "waveforms")
            return self._publish(result, renderer, changed, full=True, generation=generation)
        return job

    def object_job(self, project: Project, object_id: int) -> JobFn:
        """Re-spatialize (or regenerate, when its sound changed) one object and patch the mix.

        Falls back to a full render when the renderer does not fit the snapshot any more.
        """
        renderer, generation = self.renderer, self._generation
        full = self.render_job(project)

        def job(progress: ProgressFn) -> AudioUpdate:
            if renderer is None or not self._fits(renderer, project):
                return full(progress)  # type: ignore[no-any-return]
            report(progress, 0.0, f"object {object_id}")
            result = renderer.update_object(project.object_sound(object_id))
            return self._publish(result, renderer, (object_id,), full=False,
                                 generation=generation)
        return job

    def remix_job(self, project: Project) -> JobFn:
        """Mute/solo changed: update the objects whose mixer state differs and re-sum the mix."""
        renderer, generation = self.renderer, self._generation
        full = self.render_job(project)

        def job(progress: ProgressFn) -> AudioUpdate:
            if renderer is None or not self._fits(renderer, project):
                return full(progress)  # type: ignore[no-any-return]
            current = renderer.nudges()
            changed = []
            for sound in project.objects:
                if sound.id in current and current[sound.id] != sound.nudges:
                    renderer.update_object(sound)
                    changed.append(sound.id)
            return self._publish(renderer.result(), renderer, tuple(changed), full=False,
                                 generation=generation)
        return job

    def apply(self, update: AudioUpdate) -> bool:
        """On the UI thread: adopt a finished job's renderer and result (False if stale)."""
        if update.generation != self._generation:
            return False
        if not update.full and update.renderer is not self.renderer:
            return False
        self.renderer = update.renderer
        self.result = update.result
        return True

    def render_view(self, view: RenderView, update: AudioUpdate) -> RenderView:
        """The timeline's envelopes after an update: those of the stems it changed are new,
        the others are kept (a stem an update did not change has the same envelope)."""
        duration = update.result.n_samples / SAMPLE_RATE
        stems = {i: e for i, e in view.stems.items()
                 if i in update.result.stems and i not in update.changed}
        stems.update(update.stem_envelopes)
        return RenderView(duration=duration, mix=update.mix_envelope, stems=stems)

    # -- export -----------------------------------------------------------------------------

    def export_job(self, project: Project, outdir: Path, *, force: bool,
                   review_video: bool) -> JobFn:
        """Write OUTDIR (stems, mix, project.json, review video) for a project snapshot.

        Renders the snapshot fully first (cached dry foley makes this quick), so the export is
        re-mastered and exactly what the project says, whatever nudges happened since.
        """
        def job(progress: ProgressFn) -> tuple[Path, AudioUpdate]:
            from app.export import export_render

            update = self.render_job(project)(scaled(progress, 0.0, 0.6) or progress)
            video = project.video_path if review_video and Path(project.video_path).is_file() \
                else None
            written = export_render(outdir, project, update.result, force=force,
                                    review_video=video, progress=scaled(progress, 0.6, 1.0))
            return written, update
        return job

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()
            self.engine = None
