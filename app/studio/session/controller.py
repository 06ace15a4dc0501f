"""The studio's controller: every user action as a plain method, no widgets involved.

Dear PyGui callbacks are thin: they call one method here. Edits go through `app.edits` functions
wrapped in `app.history.History.apply` (undoable, drag-coalesced); after each edit that changed
the project one sync job runs on the `Worker`: the scene renderer compares the project with what
it holds and redoes only that (`AudioLink.sync_job`), and the same renderer says which objects
are out of date meanwhile (`StudioState.stale`). `poll()`, called once per UI frame, applies
finished jobs to the state. Because nothing here touches a window, the same methods drive
scripted sessions and tests.
"""

from __future__ import annotations

import queue
import sys
import time
import traceback
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app import edits
from app.autosave import Autosaver, Recovery, find_recovery
from app.history import History, restore_into
from app.project import Project, load_project, save_project
from app.studio.session.audio_link import AudioLink, AudioUpdate
from app.studio.session.relink import (
    MissingVideo,
    check_same_video,
    find_moved_recovery,
    relinked,
    video_missing,
)
from app.studio.session.state import JobRequest, RenderView, StudioState, export_target
from app.studio.session.worker import PRIORITY_BACKGROUND, PRIORITY_INTERACTIVE, JobResult, Worker
from app.transport import Transport
from video.base.errors import InputError
from video.base.progress import ProgressFn, scaled
from video.base.tracks import Analysis

if TYPE_CHECKING:
    from model.foley.render import SyncPlan


@dataclass(frozen=True)
class _Pending:
    """A submitted job and what it was for (applied when its result arrives)."""

    request: JobRequest


class StudioController:
    """Project + view state + history + background jobs + audio, driven by plain method calls."""

    def __init__(self, *, worker: Worker | None = None, audio: AudioLink | None = None,
                 autosave_dir: str | Path | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.state = StudioState()
        self._clock = clock
        self.worker = worker if worker is not None else Worker()
        self.audio = audio if audio is not None else AudioLink()
        self.history = History()
        self.transport: Transport | None = None
        self.autosaver: Autosaver | None = None
        self._autosave_dir = autosave_dir
        self.recovery: Recovery | None = None
        """Unsaved edits found from an earlier session, offered to the user (restore/discard)."""
        self.missing_video: MissingVideo | None = None
        """A project loaded whose video was moved: the window asks where it is (`relink`)."""
        self._pending: dict[int, _Pending] = {}
        self._remaster_job: int | None = None  # the last re-mastering sync submitted
        self._saved_revision = 0
        self._warnings: queue.SimpleQueue[str] = queue.SimpleQueue()
        """Warnings from worker jobs (thread-safe), shown by the next poll()."""

    # -- opening and saving ------------------------------------------------------------------

    @property
    def project(self) -> Project | None:
        return self.state.project

    def open(self, path: str | Path) -> None:
        """Open a video (analysis runs in the background) or a project file (loaded at once)."""
        p = Path(path)
        if p.suffix.lower() == ".json":
            self.open_project(p)
        else:
            self.open_video(p)

    def open_video(self, path: str | Path) -> int:
        """Start analysing a video; the project appears when the analysis job finishes."""
        from video.reader import probe_video

        p = Path(path).expanduser().resolve()  # saved projects must find it from anywhere
        probe_video(p)  # a missing or non-video file fails here, at once, with a clear message
        self.worker.cancel_all()
        self.state.source_path = p
        self.state.message = f"Analysing {p.name}…"

        def job(progress: ProgressFn) -> Analysis:
            from model.detector.event_detection import analyze_with_events

            return analyze_with_events(p, progress=scaled(progress, 0.0, 0.95),
                                       warn=self._warn_later)

        return self._submit(JobRequest("analyze"), job, name=f"Analyse {p.name}")

    def open_project(self, path: str | Path) -> None:
        """Load a project file and render its audio in the background.

        When the project's video is not where the project says (moved or renamed), nothing is
        opened yet: `missing_video` asks the window to have the user locate it (`relink`), or
        to open the project without its picture (`skip_relink`)."""
        project = load_project(path)
        self.worker.cancel_all()
        self.missing_video = None
        if video_missing(project):
            self.missing_video = MissingVideo(project=project, project_path=Path(path))
            self.state.message = (f"the video {Path(project.video_path).name} was moved or "
                                  "deleted: locate it to relink the project")
            return
        self.state.project_path = Path(path)
        self.state.source_path = Path(project.video_path)
        self._install_project(project)

    def relink(self, video: str | Path) -> None:
        """The user located the missing video: open the project on it if it is the same video
        (size, frame count, duration); a different file raises InputError and changes nothing."""
        missing = self.missing_video
        if missing is None:
            self._relink_open_project(video)
            return
        found = check_same_video(missing.project.analysis.video, video)
        self.missing_video = None
        project = relinked(missing.project, found)
        self.state.project_path = missing.project_path
        self.state.source_path = found
        self._install_project(project)
        self.state.message = f"relinked the project to {found}"

    def _relink_open_project(self, video: str | Path) -> None:
        """Relink the open project (opened without its video) and its undo history."""
        project = self.project
        if project is None:
            raise InputError("no project is open")
        found = check_same_video(project.analysis.video, video)
        state = self.history.state()
        restore_into(project, relinked(project, found))
        self.history.restore_state(state.map_projects(_relinker(project)))
        self.state.source_path = found
        self.state.set_project(project)
        self.state.message = f"relinked the project to {found}"

    def hint(self) -> str:
        """What the empty picture area says: how to begin, or how to find a missing video."""
        missing = self.missing_video
        if missing is not None:
            return f"Video not found: {missing.video_path.name} - locate it to relink the project"
        project = self.project
        if project is not None and video_missing(project):
            return (f"Video not found: {Path(project.video_path).name} - "
                    "File > Locate video... to relink")
        return "Open a video (Ctrl+O) or a project to begin"

    def skip_relink(self) -> None:
        """Open the project without its video (sound work goes on; the picture stays empty)."""
        missing, self.missing_video = self.missing_video, None
        if missing is None:
            return
        self.state.project_path = missing.project_path
        self.state.source_path = Path(missing.project.video_path)
        self._install_project(missing.project)

    def _install_project(self, project: Project) -> None:
        self.history.clear()
        self.audio.reset()
        self.audio.prepare(project.analysis.video.duration)
        assert self.audio.engine is not None
        self.transport = Transport(self.audio.engine, project)
        if self.autosaver is not None:
            self.autosaver.close()
        self.autosaver = Autosaver(project_path=self.state.project_path,
                                   video_path=project.video_path, directory=self._autosave_dir,
                                   clock=self._clock)
        self.state.render = RenderView()
        self.state.playhead = 0.0
        self.state.loop = False
        self.state.set_project(project)
        self.state.stale = set(self.state.object_ids())
        self._saved_revision = self.history.revision
        self.state.message = (f"{len(project.objects)} objects found" if project.objects else
                              "no moving objects found: drag a box on the picture to track one")
        self.recovery = find_recovery(self.state.project_path, video_path=project.video_path,
                                      directory=self._autosave_dir)
        if self.recovery is None and self.state.project_path is None:
            # an unsaved project's recovery is named by its video's path: after the video was
            # moved, look for one made from the same video at its old place
            self.recovery = find_moved_recovery(project.analysis.video,
                                                directory=self._autosave_dir)
        self.render_all()

    def restore_recovery(self) -> None:
        """Bring back the offered unsaved edits with their undo history (so the edits made
        before the crash can still be undone). A recovery made when the video was elsewhere
        is relinked to where the video is now."""
        recovery, self.recovery = self.recovery, None
        project = self.project
        if recovery is None or project is None:
            return
        recovered, history = recovery.load_state()
        relink = _relinker(project)
        recovered = relink(recovered)
        if history is None:  # a file without history: the restore is one undoable step

            def restore(target: Project) -> edits.EditResult:
                before = target.copy()
                restore_into(target, recovered)
                return edits.diff_projects(before, target)

            self.edit("Restore unsaved changes", restore)
        else:
            before = project.copy()
            restore_into(project, recovered)
            self.history.restore_state(history.map_projects(relink))
            self._after_change(edits.diff_projects(before, project))
            self.state.message = f"restored {len(history.undo)} unsaved edits (undo goes back " \
                                 "through them)"
        if self.autosaver is not None and recovery.path != self.autosaver.path:
            # recovered from another file (the video moved): keep it under the new name only
            if self.autosaver.write_now(project, history=self.history.state()):
                recovery.path.unlink(missing_ok=True)

    def discard_recovery(self) -> None:
        """Drop the offered unsaved edits for good."""
        if self.recovery is not None:
            self.recovery.path.unlink(missing_ok=True)
        self.recovery = None

    def save(self, path: str | Path | None = None) -> Path:
        """Save the project (to `path`, or where it was last saved); returns the file written."""
        project = self._require_project()
        target = Path(path) if path is not None else self.state.project_path
        if target is None:
            raise InputError("choose a file name to save the project (Save as)")
        if target.suffix.lower() != ".json":
            target = target.with_suffix(".json")
        save_project(project, target)
        self.state.project_path = target
        self._saved_revision = self.history.revision
        if self.autosaver is not None:
            self.autosaver.saved(target)
        self.state.message = f"Saved {target.name}"
        return target

    def discard_unsaved(self) -> None:
        """The user chose to throw the unsaved changes away: no recovery file is kept for them."""
        if self.autosaver is not None:
            self.autosaver.close()
        self._saved_revision = self.history.revision

    @property
    def unsaved(self) -> bool:
        """True when the project changed since it was opened or last saved."""
        return self.history.revision != self._saved_revision

    def export(self, folder: str | Path, *, review_video: bool = True,
               sessions: Sequence[str] = (), dry_stems: bool = False,
               stems: str = "objects") -> Path:
        """Export stems, mix, project.json and a review video in the background (and the DAW
        sessions named in `sessions`, rpp/otio/aaf, with dry stems when asked; `stems`:
        objects, groups or both, app.stem_groups).

        `folder` is what the user picked; `export_target` decides the exact OUTDIR (never
        replacing a folder an export did not write). Returns that OUTDIR.
        """
        from app.stem_groups import parse_stem_mode

        project = self._require_project()
        try:
            stems = parse_stem_mode(stems)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        target, force = export_target(Path(folder), project.video_path)
        job = self.audio.export_job(project.copy(), target, force=force,
                                    review_video=review_video, sessions=tuple(sessions),
                                    dry_stems=dry_stems, stems=stems)
        self._submit(JobRequest("export"), job, name=f"Export to {target.name}")
        return target

    # -- selection and navigation -------------------------------------------------------------

    def select(self, object_id: int | None) -> None:
        self.state.select(object_id)

    def select_at(self, vx: float, vy: float) -> int | None:
        """Select the object under a video-pixel point at the playhead frame (None: clear)."""
        from app.studio.session.geometry import hit_test

        project = self.project
        if project is None:
            return None
        hit = hit_test(project.analysis, self.state.frame_index(), vx, vy)
        self.state.select(hit)
        return hit

    # -- edits ------------------------------------------------------------------------------

    def edit(self, label: str, fn: Callable[..., edits.EditResult], *args: Any,
             coalesce: Hashable | None = None, **kwargs: Any) -> edits.EditResult | None:
        """Apply one `app.edits` function as an undoable step and schedule what it needs.

        Bad values become `state.error` (shown in the status bar); the project is untouched.
        """
        project = self.project
        if project is None:
            return None
        try:
            result = self.history.apply(project, label, fn, *args, coalesce_key=coalesce,
                                        **kwargs)
        except InputError as exc:
            self.state.error = str(exc)
            return None
        self.state.error = ""
        self._after_change(result)
        return result

    def end_drag(self) -> None:
        """A slider or keyframe drag ended: the next change starts a new undo step."""
        self.history.seal()

    def set_prompt(self, object_id: int, text: str) -> None:
        self.edit(f"Prompt of object {object_id}", edits.set_prompt, object_id, text)

    def set_pan_offset(self, object_id: int, value: float) -> None:
        self.edit(f"Pan offset of object {object_id}", edits.set_pan_offset, object_id, value,
                  coalesce=("pan", object_id))

    def set_gain(self, object_id: int, value: float) -> None:
        self.edit(f"Gain of object {object_id}", edits.set_gain, object_id, value,
                  coalesce=("gain", object_id))

    def set_distance(self, object_id: int, value: float) -> None:
        self.edit(f"Distance of object {object_id}", edits.set_distance_scale, object_id, value,
                  coalesce=("distance", object_id))

    def set_width(self, object_id: int, value: float) -> None:
        self.edit(f"Width of object {object_id}", edits.set_width, object_id, value,
                  coalesce=("width", object_id))

    def set_mute(self, object_id: int, mute: bool) -> None:
        project = self._require_project()
        if project.object_sound(object_id).nudges.mute != mute:
            self.edit(f"Mute object {object_id}", edits.toggle_mute, object_id)

    def set_solo(self, object_id: int, solo: bool) -> None:
        project = self._require_project()
        if project.object_sound(object_id).nudges.solo != solo:
            self.edit(f"Solo object {object_id}", edits.toggle_solo, object_id)

    def add_keyframe(self, object_id: int, time_s: float | None = None,
                     pan: float | None = None) -> None:
        """Pin the pan at the playhead (default: the pan the object has there now)."""
        from app.studio.session.envelopes import pan_at

        project = self._require_project()
        t = self.state.playhead if time_s is None else time_s
        if pan is None:
            pan = pan_at(project.analysis.object(object_id), project.analysis.video,
                         project.object_sound(object_id).nudges, t)
        self.edit(f"Add pan keyframe to object {object_id}", edits.add_pan_keyframe,
                  object_id, t, pan)

    def move_keyframe(self, object_id: int, index: int, *, time_s: float | None = None,
                      pan: float | None = None) -> None:
        self.edit(f"Move pan keyframe of object {object_id}", edits.move_pan_keyframe,
                  object_id, index, time_s=time_s, pan=pan, coalesce=("key", object_id, index))

    def remove_keyframe(self, object_id: int, index: int) -> None:
        self.edit(f"Remove pan keyframe of object {object_id}", edits.remove_pan_keyframe,
                  object_id, index)

    def reset_nudges(self, object_id: int) -> None:
        self.edit(f"Reset object {object_id}", edits.clear_nudges, object_id)

    def set_render_settings(self, **changes: Any) -> None:
        """Change global render settings (pan law, loudness target, seed, air, ITD, Doppler)."""
        names = ", ".join(sorted(changes))
        self.edit(f"Render settings ({names})", edits.set_render_settings, **changes)

    def rename(self, object_id: int, label: str) -> None:
        self.edit(f"Rename object {object_id}", edits.set_label, object_id, label)

    def delete_object(self, object_id: int) -> None:
        self.edit(f"Delete object {object_id}", edits.delete_object, object_id)

    def trim_start(self, object_id: int) -> None:
        """Cut the object's track before the playhead frame (undoable)."""
        self.edit(f"Trim object {object_id}'s start", edits.trim_object, object_id,
                  first_frame=self.state.frame_index())

    def trim_end(self, object_id: int) -> None:
        """Cut the object's track after the playhead frame (undoable)."""
        self.edit(f"Trim object {object_id}'s end", edits.trim_object, object_id,
                  last_frame=self.state.frame_index())

    def merge_objects(self, keep_id: int, other_id: int) -> None:
        self.edit(f"Merge object {other_id} into {keep_id}", edits.merge_objects, keep_id,
                  other_id)

    def undo(self) -> str | None:
        """Undo the last step; returns its label (None when there was nothing to undo)."""
        return self._history_step(self.history.undo)

    def redo(self) -> str | None:
        return self._history_step(self.history.redo)

    def _history_step(self, step_fn: Callable[[Project], Any]) -> str | None:
        project = self.project
        if project is None:
            return None
        try:
            step = step_fn(project)
        except InputError as exc:
            self.state.message = str(exc)
            return None
        self._after_change(step.result)
        self.state.message = step.label
        return str(step.label)

    def _after_change(self, result: edits.EditResult) -> None:
        """The project changed: refresh the view state and bring the audio in step."""
        self.state.set_project(self._require_project())
        if result.changed:
            self._sync()

    # -- seeded tracking ----------------------------------------------------------------------

    def track_from_box(self, box: tuple[float, float, float, float], *,
                       label: str = "object") -> int:
        """Track a user-drawn box from the playhead frame (background), make it like the
        analysis's objects (its class, contacts and a person's steps:
        model.detector.event_detection.complete_seeded_track), and add it when done. A
        `label` other than the default "object" is kept."""
        project = self._require_project()
        frame = self.state.frame_index()
        path = project.video_path
        analysis = project.analysis
        new_id = edits.next_object_id(project)

        def job(progress: ProgressFn) -> Any:
            from model.detector.event_detection import complete_seeded_track
            from video.reader import VideoReader
            from video.seeded import track_from_seed
            with VideoReader(path) as reader:
                track = track_from_seed(reader, frame, box, object_id=new_id, label=label,
                                        progress=scaled(progress, 0.0, 0.8))
                return complete_seeded_track(reader, track, analysis, warn=self._warn_later,
                                             progress=scaled(progress, 0.8, 1.0))

        return self._submit(JobRequest("track"), job, name=f"Track new object from frame {frame}")

    # -- rendering ------------------------------------------------------------------------------

    def render_all(self) -> int | None:
        """(Re)render every object and re-master, in the background."""
        if self.project is None:
            return None
        return self._sync(remaster=True)

    def regenerate(self, object_id: int) -> None:
        """A new take of the object's sound: the next seed, same prompt (undoable)."""
        project = self._require_project()
        seed = project.object_sound(object_id).seed
        self.edit(f"New take of object {object_id}", edits.set_object_seed, object_id,
                  (seed + 1) % 2**31)

    def _sync(self, *, remaster: bool = False) -> int:
        """Queue a sync of the audio to a snapshot of the project (it replaces a sync still
        waiting; a running one finishes first). What it will redo, and so which objects are
        out of date until it is done, the renderer says (`AudioLink.plan`).

        remaster: re-master everything (a full render from the cached dry foley). A requested
        re-master that this sync replaces before it started is done by this one."""
        project = self._require_project()
        running = self.worker.status()
        remaster = remaster or (self._remaster_job in self._pending and (
            running is None or running.job_id != self._remaster_job))
        plan = self.audio.plan(project, remaster=remaster)
        self.state.stale = set(self.state.object_ids()) if plan is None else set(plan.stale)
        fn = self.audio.sync_job(project.copy(), remaster=remaster)
        job_id = self._submit(JobRequest("sync"), fn, name=_sync_name(plan, remaster),
                              priority=PRIORITY_INTERACTIVE, interrupt=False)
        if remaster:
            self._remaster_job = job_id
        return job_id

    def _submit(self, request: JobRequest, fn: Callable[[ProgressFn], Any], *, name: str,
                priority: int = PRIORITY_BACKGROUND, interrupt: bool = True) -> int:
        job_id = self.worker.submit(name, fn, key=request.key, priority=priority,
                                    interrupt=interrupt)
        self._pending[job_id] = _Pending(request)
        return job_id

    def cancel(self) -> bool:
        """Cancel the running job (the status bar's Cancel button, Esc)."""
        return self.worker.cancel()

    # -- the per-frame pump ----------------------------------------------------------------------

    def poll(self) -> list[JobResult]:
        """Apply finished jobs (call once per UI frame); returns them for the caller's display."""
        results = self.worker.drain()
        for result in results:
            pending = self._pending.pop(result.job_id, None)
            if pending is None:
                continue
            if result.outcome == "failed":
                self.state.error = f"{result.name} failed: {result.error}"
                if not isinstance(result.error, InputError):  # a bug, not bad input: log it
                    sys.stderr.write("".join(traceback.format_exception(result.error)))
            elif result.outcome == "cancelled":
                superseded = pending.request.kind == "sync" and any(
                    p.request.kind == "sync" for p in self._pending.values())
                if not superseded:
                    self.state.message = f"{result.name}: cancelled"
            else:
                self._apply(pending, result)
        while not self._warnings.empty():
            self.state.message = f"warning: {self._warnings.get()}"
        return results

    def _warn_later(self, message: str) -> None:
        """Queue a warning from a worker thread; poll() shows it on the UI thread."""
        self._warnings.put(message)

    def _apply(self, pending: _Pending, result: JobResult) -> None:
        kind = pending.request.kind
        if kind == "analyze":
            analysis: Analysis = result.value
            self.state.project_path = None
            self._install_project(Project(analysis=analysis))
        elif kind == "track":
            if self.edit("Add tracked object", edits.add_object, result.value) is not None \
                    and self.project is not None and self.project.objects:
                self.state.select(self.project.objects[-1].id)
        elif kind == "export":
            written, update = result.value
            self._apply_audio(update)
            self.state.message = f"Exported stems, mix and project to {written}"
        else:
            self._apply_audio(result.value)

    def _apply_audio(self, update: AudioUpdate) -> None:
        """A sync finished: show its waveforms (its mix is already playing) and what is still
        out of date (edits made while it ran)."""
        if not self.audio.apply(update):
            return
        self.state.render = self.audio.render_view(self.state.render, update)
        if self.project is not None:
            self.state.stale = self.audio.stale_ids(self.project)
        self.state.revision += 1

    def _require_project(self) -> Project:
        if self.project is None:
            raise InputError("no project is open")
        return self.project

    # -- transport ----------------------------------------------------------------------------

    def tick(self) -> float:
        """Once per UI frame: playhead from the audio clock, autosave when due."""
        if self.transport is not None:
            self.state.playhead = self.state.clamp_time(self.transport.time())
        if self.autosaver is not None and self.project is not None:
            self.autosaver.tick(self.project, revision=self.history.revision,
                                history=self.history)
        return self.state.playhead

    def play_pause(self) -> bool:
        """Toggle playback; returns True when now playing."""
        return self.transport.toggle_play() if self.transport is not None else False

    def seek(self, time_s: float, *, scrub: bool = False) -> None:
        """Move the playhead (while dragging, `scrub` plays a short grain when paused)."""
        if self.transport is None:
            return
        self.state.playhead = self.state.clamp_time(time_s)
        if scrub and self.audio.engine is not None:
            self.audio.engine.scrub(round(self.state.playhead * self.transport.sample_rate))
        else:
            self.transport.seek_time(self.state.playhead)

    def step_frames(self, count: int) -> None:
        """Move the playhead by whole frames (pauses playback, as editors do on frame step)."""
        if self.transport is not None:
            self.transport.step_frame(count)
            self.state.playhead = self.transport.time()

    def jump_event(self, direction: int) -> None:
        """Previous/next event of the selected object (of every object when none is selected)."""
        if self.transport is not None:
            self.transport.jump_event(direction, object_id=self.state.selected)
            self.state.playhead = self.transport.time()

    def go_start(self) -> None:
        if self.transport is not None:
            self.transport.go_start()

    def go_end(self) -> None:
        if self.transport is not None:
            self.transport.go_end()

    def toggle_loop(self) -> bool:
        """Loop 2 s around the playhead (or clear the loop); returns True when now looping."""
        if self.transport is None:
            return False
        self.state.loop = self.transport.toggle_loop()
        return self.state.loop

    def shutdown(self) -> None:
        """Stop jobs and audio (window closing); a clean close leaves no recovery file."""
        self.worker.shutdown(timeout=3.0)
        self.audio.close()
        if self.autosaver is not None and not self.unsaved:
            self.autosaver.close()


def _relinker(project: Project) -> Callable[[Project], Project]:
    """Point snapshots at `project`'s video when they name another path (a recovery made
    before the video moved); snapshots sharing an analysis keep sharing the relinked one."""
    path = project.video_path
    done: dict[int, Project] = {}

    def relink(snapshot: Project) -> Project:
        if snapshot.video_path == path:
            return snapshot
        if snapshot.analysis is project.analysis:
            return snapshot
        key = id(snapshot.analysis)
        if key not in done:
            done[key] = relinked(snapshot, path)
        return Project(analysis=done[key].analysis, objects=list(snapshot.objects),
                       render=snapshot.render)

    return relink


def _sync_name(plan: SyncPlan | None, remaster: bool) -> str:
    """The status bar's name for a sync job, from what the renderer will do."""
    if plan is None or plan.remaster or remaster:
        return "Render all objects"
    if len(plan.stale) == 1:
        (object_id,) = plan.stale
        verb = "Generate" if object_id in plan.regenerate else "Place"
        return f"{verb} object {object_id}"
    if plan.stale:
        return f"Update {len(plan.stale)} objects"
    return "Mix"
