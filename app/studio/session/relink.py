"""Relinking a project to its video after the video file was moved or renamed.

A project keeps the absolute path of the video it was analysed from. When that file is gone,
the studio asks the user where it is now (`MissingVideo`, shown by the window as a dialog) and
accepts a candidate only when it is recognizably the same video: the same frame size and frame
count, and the same duration within one frame (`check_same_video`). The analysis (boxes on
every frame, event times) is only valid for that video; a different clip with the same name
would silently put every sound in the wrong place.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from app.autosave import Recovery, unsaved_recoveries
from app.project import Project
from video.base.errors import InputError
from video.base.tracks import VideoInfo


@dataclass(frozen=True)
class MissingVideo:
    """A project that was loaded but whose video is not where the project says.

    `project_path` is the project file (None for a recovered unsaved project)."""

    project: Project
    project_path: Path | None

    @property
    def video_path(self) -> Path:
        return Path(self.project.video_path)

    @property
    def message(self) -> str:
        """The relink dialog's text."""
        info = self.project.analysis.video
        what = self.project_path.name if self.project_path is not None else "This project"
        return (f"{what} uses the video {self.video_path.name}, which is no longer at "
                f"{self.video_path.parent}. Locate it to relink the project "
                f"(it must be the same video: {info.width}x{info.height}, {info.frames} frames, "
                f"{info.duration:.2f} s).")


def video_missing(project: Project) -> bool:
    """True when the project's video file does not exist (moved, renamed or deleted)."""
    return not Path(project.video_path).is_file()


def same_video(expected: VideoInfo, found: VideoInfo) -> str:
    """Why `found` is not the video `expected` describes ("" when it is the same video).

    Same frame size, same frame count and the same duration within one frame (a re-probe of the
    same file gives the same numbers; a remux or another cut of the clip does not)."""
    if (found.width, found.height) != (expected.width, expected.height):
        return (f"it is {found.width}x{found.height}, the project's video is "
                f"{expected.width}x{expected.height}")
    if found.frames != expected.frames:
        return f"it has {found.frames} frames, the project's video has {expected.frames}"
    frame = 1.0 / float(expected.fps)
    if abs(found.duration - expected.duration) > frame:
        return (f"it lasts {found.duration:.3f} s, the project's video lasts "
                f"{expected.duration:.3f} s")
    return ""


def check_same_video(expected: VideoInfo, candidate: str | Path) -> Path:
    """Probe `candidate` and return its absolute path when it is the same video as `expected`;
    raise InputError naming the difference otherwise (or when it is not a readable video)."""
    from video.reader import probe_video

    path = Path(candidate).expanduser().resolve()
    found = probe_video(path)
    reason = same_video(expected, found)
    if reason:
        raise InputError(f"{path.name} is not this project's video: {reason}")
    return path


def relinked(project: Project, path: str | Path) -> Project:
    """A copy of `project` whose analysis points at `path` (everything else unchanged)."""
    analysis = project.analysis
    if analysis.video.path == str(path):
        return project.copy()
    video = replace(analysis.video, path=str(path))
    return replace(project, analysis=replace(analysis, video=video), objects=list(project.objects))


def find_moved_recovery(video: VideoInfo, *,
                        directory: str | Path | None = None) -> Recovery | None:
    """The newest recovery of a never-saved project made from this video at another path that
    no longer exists (the video was moved since), or None.

    Recovery files of unsaved projects are named by the video's path, so after a move the
    plain lookup misses them; they record the video's size, frame count and duration, which
    must match (`same_video`)."""
    here = str(Path(video.path).expanduser().resolve())
    for recovery, recorded in unsaved_recoveries(directory):
        try:
            old = str(recorded["path"])
            info = VideoInfo(path=old, width=int(recorded["width"]),
                             height=int(recorded["height"]), fps=video.fps,
                             duration=float(recorded["duration"]),
                             frames=int(recorded["frames"]))
        except (KeyError, TypeError, ValueError):
            continue
        if old == here or Path(old).exists():
            continue  # the same place (found by the plain lookup), or another copy still there
        if not same_video(video, info):
            return recovery
    return None
