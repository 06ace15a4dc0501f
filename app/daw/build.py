"""From a rendered project to its DAW session: the start timecode, the dry stems, the files.

Used by app.export inside the export's temporary folder, so the session files and dry stems
appear in OUTDIR together with the stems (or not at all).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from app.daw.session import (
    SESSION_FILES,
    DryStem,
    Session,
    SessionTrack,
    build_session,
    dry_stem,
    track_name,
)
from app.project import Project
from model.foley.render import RenderResult, spatial_config
from video.base.timecode import Timecode, zero_timecode

if TYPE_CHECKING:
    from app.stem_groups import StemLayout


def start_timecode(project: Project) -> Timecode:
    """The project video's start timecode (its container's tag), 00:00:00:00 when the video has
    none or is not where the project says (a project moved without its video)."""
    from video.timecode import read_start_timecode

    info = project.analysis.video
    if not info.path or not Path(info.path).is_file():
        return zero_timecode(info.fps)
    return read_start_timecode(info.path, info.fps)


def dry_path(stem_path: str) -> str:
    """`stems/<name>.wav` -> `dry/<name>.wav`."""
    return f"dry/{Path(stem_path).name}"


def make_dry_stems(project: Project, result: RenderResult, stems: Mapping[int, str]
                   ) -> dict[str, DryStem]:
    """Each object's dry stem and envelopes, keyed by its path in OUTDIR (dry/<name>.wav):
    the objects that have a stem in `stems` (one folded into its group has none)."""
    from audio.spatialize import dry_placement

    config = spatial_config(project.render)
    gain = 10.0 ** (float(result.master.get("gain_db", 0.0)) / 20.0)
    out: dict[str, DryStem] = {}
    for sound in (s for s in project.objects if s.id in stems):
        placement = dry_placement(result.dry[sound.id], project.analysis.object(sound.id),
                                  project.analysis.video, nudges=sound.nudges, config=config)
        out[dry_path(stems[sound.id])] = dry_stem(
            placement, master_gain=gain, limiter=result.limiter.get(sound.id, ()))
    return out


def make_session(project: Project, result: RenderResult, stems: Mapping[int, str], *,
                 outdir: Path, timecode: Timecode, dry: Mapping[str, DryStem] | None,
                 layout: StemLayout | None = None) -> Session:
    """The session of a render: baked stems, or (with `dry`) the dry stems and their envelopes.
    outdir: OUTDIR's final place (the media URLs of OTIO and AAF are absolute).

    layout: the group stems (app.stem_groups). With `groups` the session holds only the group
    stems (baked); with `both`, per group a folder track (`FEET footsteps`) holding the group
    stem's track (`FEET footsteps stem`) and, muted, the tracks of its objects (then, outside
    any folder, objects in no group: their role's objects are all muted) (so the session plays the mix once; unmute an object and mute its
    group to work on it); with `objects` (or None), one track per object as before."""
    labels = {t.id: t.label for t in project.analysis.objects}
    sounds = {s.id: s for s in project.objects}

    def object_row(object_id: int, folder: str = "", muted: bool = False) -> SessionTrack:
        sound = sounds[object_id]
        path = stems[object_id] if dry is None else dry_path(stems[object_id])
        channels = 2 if dry is None else int(dry[path].audio.shape[0])
        return SessionTrack(track_name(object_id, labels[object_id], sound.prompt), path,
                          channels, folder=folder, muted=muted)

    rows: list[SessionTrack] = []
    mode = "objects" if layout is None else layout.mode
    if mode == "objects" or layout is None:
        rows = [object_row(s.id) for s in project.objects]
    for group in layout.groups if layout is not None else ():
        folder = group.track_name if mode == "both" else ""
        name = f"{group.track_name} stem" if folder else group.track_name
        rows.append(SessionTrack(name, group.path, 2, folder=folder, group=group.code,
                               members=group.summed))
        if mode == "both":
            rows += [object_row(m, folder, muted=True) for m in group.members if m in stems]
    if mode == "both" and layout is not None:
        rows += [object_row(s.id) for s in project.objects if layout.group_of(s.id) is None]
    video = Path(project.analysis.video.path)
    return build_session(name=outdir.name, stems=rows, n_samples=result.n_samples,
                         fps=project.analysis.video.fps, timecode=timecode,
                         outdir=outdir.resolve(), video=video.resolve() if video.is_file() else None,
                         pan_law=project.render.pan_law, dry=dry)


def write_sessions(folder: Path, session: Session, formats: Sequence[str]) -> None:
    """Write the asked session files (`SESSION_FILES` names) into `folder`."""
    from app.daw.rpp import rpp_text
    from app.daw.timeline import write_aaf, write_otio

    for name in formats:
        target = folder / SESSION_FILES[name]
        if name == "rpp":
            target.write_text(rpp_text(session), encoding="utf-8")
        elif name == "otio":
            write_otio(session, target)
        else:
            write_aaf(session, target)
