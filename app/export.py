"""Writing a render's OUTDIR (the contract in DESIGN.md) atomically, and the review video.

OUTDIR is built in a hidden temporary folder beside it and renamed into place at the end, so a
failed or cancelled export never leaves a half-written OUTDIR: readers see the old folder or the
complete new one. An existing non-empty OUTDIR is refused unless `force` is given.

    OUTDIR/mix.wav                 stereo 48 kHz 24-bit BWF
    OUTDIR/stems/<id>_<label>.wav  one per object, same length as the mix (with `stems`
                                   "groups": only the objects that are not folded)
    OUTDIR/groups/<CODE>_<role>.wav  with `stems` "groups" or "both": one per role
                                   (app.stem_groups)
    OUTDIR/project.json            the Project that produced them (stem paths and master report)
    OUTDIR/review.<ext>            optional: the picture (remuxed, not re-encoded) + the mix as AAC
    OUTDIR/dry/<id>_<label>.wav    optional: dry stems (before pan and level; app.daw.session)
    OUTDIR/session.rpp|otio|aaf    optional: the stems and the picture as DAW sessions (app.daw)

Every WAV's bext time reference is the video's start timecode in samples.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import replace
from datetime import datetime, timezone
from fractions import Fraction
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from app.outdir import check_outdir, claim_outdir, temp_prefix
from app.project import Project
from app.report import peak_db, peak_dbfs, render_report, report_text
from app.stem_groups import (
    FOLD,
    StemLayout,
    group_audio,
    group_bwf_fields,
    layout_doc,
    layout_from_levels,
    object_doc,
    parse_stem_mode,
    plan_stems,
    report_lines,
)
from audio.groups import LevelMeter, StemLevel
from audio.spool import DiskAudio
from model.foley.render import RenderResult
from video.base.errors import VideoError
from video.base.progress import ProgressFn, report, scaled
from video.base.timebase import SAMPLE_RATE, time_to_sample

ORIGINATOR = "StereoFoley Studio"
_REVIEW_EXTS = (".mp4", ".mov", ".m4v", ".mkv")


def stem_name(object_id: int, label: str) -> str:
    """`<id>_<label>.wav` with the label reduced to safe file-name characters."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", label).strip("-")[:40] or "object"
    return f"{object_id}_{safe}.wav"


def _bwf_fields(project: Project, *, object_id: int | None, label: str, prompt: str,
                time_reference: int = 0) -> dict[str, Any]:
    """The bext fields of a stem (object_id) or the mix (None); time_reference: the start
    timecode's sample count (every file starts at the picture's first frame)."""
    seed = project.render.seed
    extra: dict[str, Any] = {}
    if object_id is None:
        description = f"StereoFoley mix of {len(project.objects)} objects"
        reference = f"SFMIX{seed}"
        master = project.render.master
        extra = {"loudness_lufs": master.get("lufs_after"),
                 "max_true_peak_db": master.get("true_peak_after_db")}
    else:
        description = f"object {object_id} ({label}); prompt: {prompt or '(chosen from motion)'}"
        reference = f"SF{seed}O{object_id}"
    return {"description": description[:256], "originator": ORIGINATOR,
            "originator_reference": reference[:32], "time_reference": time_reference,
            "coding_history": "A=PCM,F=48000,W=24,M=stereo,T=StereoFoley render",
            **{k: float(v) for k, v in extra.items() if isinstance(v, int | float)}}


class _Blocks:
    """A streamed render's stem or mix for the writer: its (2, k) blocks in order, made when
    iterated, with their sample peak kept as they go by (for report.txt)."""

    def __init__(self, make: Callable[[], Iterable[np.ndarray]], n_samples: int) -> None:
        self.make = make
        self.n_samples = n_samples
        self.peak = 0.0

    def __iter__(self) -> Iterator[np.ndarray]:
        for block in self.make():
            if block.size:
                self.peak = max(self.peak, float(np.max(np.abs(block))))
            yield block


def _write_audio(path: Path, audio: np.ndarray | _Blocks, fields: Mapping[str, Any]) -> None:
    from audio.bwf import write_bwf, write_bwf_blocks

    if isinstance(audio, _Blocks):
        write_bwf_blocks(path, audio, channels=2, n_samples=audio.n_samples, **fields)
    else:
        write_bwf(path, audio, **fields)


def _finished_project(project: Project, master: Mapping[str, Any], stems: Mapping[int, str]
                      ) -> Project:
    """The Project as rendered: stem paths filled in ("" for an object folded into its group)
    and the master report recorded."""
    out = project.copy()
    out.objects = [replace(o, stem=stems.get(o.id, "")) for o in project.objects]
    out.render = replace(project.render, master=dict(master))
    return out


def export_render(outdir: str | os.PathLike[str], project: Project, result: RenderResult, *,
                  force: bool = False, review_video: str | os.PathLike[str] | None = None,
                  progress: ProgressFn | None = None, sessions: Sequence[str] = (),
                  dry_stems: bool = False, stems: str = "objects") -> Path:
    """Write mix, stems, project.json, report.txt (and optionally the review video, the dry
    stems and the DAW sessions named in `sessions`: rpp, otio, aaf) into OUTDIR atomically.
    stems: objects, groups or both (app.stem_groups)."""
    out = check_outdir(outdir, force=force)
    with claim_outdir(out):
        _export_claimed(out, project, result, review_video=review_video, progress=progress,
                        sessions=sessions, dry_stems=dry_stems, stem_mode=stems)
    report(progress, 1.0, "exported")
    return out


def render_and_export(outdir: str | os.PathLike[str], project: Project, *, force: bool = False,
                      review_video: str | os.PathLike[str] | None = None,
                      progress: ProgressFn | None = None,
                      warn: Callable[[str], None] | None = None, sessions: Sequence[str] = (),
                      dry_stems: bool = False, stems: str = "objects"
                      ) -> tuple[Path, RenderResult]:
    """Render a project (its own sound libraries, seed and settings) and write OUTDIR: the one
    "render then export" path of `stereofoley render` and the studio's headless mode.

    The render streams (`model.foley.stream`): one object at a time to spools in the partial
    folder, the master stage measured from the mix spool, then every file written a block at
    a time, so memory does not grow with the number of objects or (beyond one object's
    sound) the duration. The files are those of `render_scene` + `export_render`, bit for bit.
    DAW sessions and dry stems need every object's dry sound and curves at hand: with
    `sessions` or `dry_stems` the render is made in memory as before.

    The result's `mix` is memory-mapped from an unlinked spool and its `stems` (the objects
    with a file of their own: not those folded into a group stem) are read from the written
    WAVs when asked for (within half an LSB of 24 bits); it carries no dry audio. Group stems
    stream too: the stems' and the mix's levels are measured block by block first, then each
    group is summed block by block as it is written.
    Progress: 0..0.85 rendering, 0.85..1 writing.
    """
    from audio.library import SoundLibrary
    from model.foley.render import render_scene

    library = SoundLibrary.open(list(project.render.libraries), warn=warn)
    if sessions or dry_stems:
        # the DAW builder needs every dry sound and curve at hand
        result = render_scene(project.analysis, project.objects, project.render,
                              library=library, progress=scaled(progress, 0.0, 0.85), warn=warn)
        written = export_render(outdir, project, result, force=force, review_video=review_video,
                                progress=scaled(progress, 0.85, 1.0), sessions=sessions,
                                dry_stems=dry_stems, stems=stems)
        return written, result
    out = check_outdir(outdir, force=force)
    with claim_outdir(out):
        result = _stream_claimed(out, project, library=library, review_video=review_video,
                                 progress=progress, warn=warn, stem_mode=stems)
    report(progress, 1.0, "exported")
    return out, result


class _WavStems(Mapping[int, np.ndarray]):
    """Stems of a written OUTDIR by object id, read from their WAV files when asked for."""

    def __init__(self, paths: Mapping[int, Path]) -> None:
        self._paths = dict(paths)

    def __getitem__(self, object_id: int) -> np.ndarray:
        import soundfile

        data, _ = soundfile.read(self._paths[object_id], dtype="float32", always_2d=True)
        return np.ascontiguousarray(data.T)

    def __iter__(self) -> Iterator[int]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)


def _stream_claimed(out: Path, project: Project, *, library: Any,
                    review_video: str | os.PathLike[str] | None, progress: ProgressFn | None,
                    warn: Callable[[str], None] | None, stem_mode: str = "objects"
                    ) -> RenderResult:
    """render_and_export's streamed work, with OUTDIR claimed by this process: spools in
    `<partial>/.spool`, the WAVs written from them a block at a time (two files at once), the
    mastered mix kept in its spool for the review video, the spools deleted, the swap. Group
    stems (`stem_mode` groups or both) are planned from levels measured in a first pass over
    the mastered stems and summed block by block as they are written."""
    from app.daw.build import start_timecode
    from model.foley.stream import StreamedRender, render_streamed

    tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(out), suffix=".partial", dir=out.parent))
    streamed: StreamedRender | None = None
    try:
        tmp.chmod(0o755)
        (tmp / "stems").mkdir()
        spool = tmp / ".spool"
        spool.mkdir()
        streamed = render_streamed(project.analysis, project.objects, project.render,
                                   folder=spool, library=library,
                                   progress=scaled(progress, 0.0, 0.85), warn=warn)
        labels = {t.id: t.label for t in project.analysis.objects}
        layout, peaks = _streamed_layout(project, streamed, parse_stem_mode(stem_mode))
        stems = {o.id: f"stems/{stem_name(o.id, labels[o.id])}" for o in project.objects
                 if layout.has_file(o.id)}
        finished = _finished_project(project, streamed.master, stems)
        tref = start_timecode(project).samples(SAMPLE_RATE)
        n = streamed.n_samples

        def mastered_mix() -> Iterator[np.ndarray]:
            for start, block in zip(range(0, n, BLOCK), streamed.mix_blocks(BLOCK),
                                    strict=False):
                streamed.mix.write(start, block)   # the mastered mix, for the review video
                yield block

        audio = {o.id: _Blocks(partial(streamed.stem_blocks, o.id, BLOCK), n)
                 for o in project.objects if o.id in stems}
        groups = {g.path: _Blocks(partial(_group_blocks, streamed, g.summed), n)
                  for g in layout.groups}
        if groups:
            (tmp / "groups").mkdir()
        mix_audio = _Blocks(mastered_mix, n)
        jobs: list[tuple[Path, np.ndarray | _Blocks, dict[str, Any]]] = [
            (tmp / stems[o.id], audio[o.id],
             _bwf_fields(project, object_id=o.id, label=labels[o.id], prompt=o.prompt,
                         time_reference=tref)) for o in project.objects if o.id in stems]
        jobs += [(tmp / g.path, groups[g.path],
                  group_bwf_fields(g, seed=project.render.seed, time_reference=tref,
                                   originator=ORIGINATOR)) for g in layout.groups]
        jobs.append((tmp / "mix.wav", mix_audio,
                     _bwf_fields(finished, object_id=None, label="", prompt="",
                                 time_reference=tref)))
        total = len(jobs) + 1 + (1 if review_video is not None else 0)
        _write_all(jobs, scaled(progress, 0.85, 1.0), total)
        _write_project(tmp, finished, chosen=streamed.chosen, layout=layout)
        created = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        peaks.update({oid: blocks.peak for oid, blocks in audio.items()})
        group_peaks = {path: peak_db(blocks.peak) for path, blocks in groups.items()}
        (tmp / "report.txt").write_text(report_text(
            finished, peaks=peaks, mix_peak=mix_audio.peak, n_samples=n, created=created,
            extra=report_lines(layout, group_peaks)), encoding="utf-8")
        if review_video is not None:
            write_review_video(review_video, tmp, streamed.mix)
        streamed.close()
        mix = _mapped(spool / "mix.f32", n)
        shutil.rmtree(spool)
        _swap_into_place(tmp, out)
    except BaseException:
        if streamed is not None:
            streamed.close()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return RenderResult(n_samples=n, dry={}, stems=_WavStems({    # folded objects have none
        o.id: out / stems[o.id] for o in project.objects if o.id in stems}), mix=mix,
        master=dict(streamed.master), chosen=dict(streamed.chosen), limiter=streamed.limiter)


BLOCK = 1 << 18     # frames per block written (~5.5 s)


def _streamed_layout(project: Project, streamed: Any, mode: str
                     ) -> tuple[StemLayout, dict[int, float]]:
    """The stem layout of a streamed export and, for group modes, every object's linear peak
    (an object folded into its group has no file, but report.txt lists its peak): with groups,
    each mastered stem and the mastered mix are measured block by block first (LevelMeter:
    the same figures plan_stems takes from whole stems)."""
    if mode == "objects":
        return StemLayout(mode=mode, config=FOLD), {}
    levels: dict[int, StemLevel] = {}
    peaks: dict[int, float] = {}
    for sound in project.objects:
        meter = LevelMeter(config=FOLD)
        blocks = _Blocks(partial(streamed.stem_blocks, sound.id, BLOCK), streamed.n_samples)
        for block in blocks:
            meter.push(block)
        levels[sound.id], peaks[sound.id] = meter.level(), blocks.peak
    mix = LevelMeter(config=FOLD)
    for block in streamed.mix_blocks(BLOCK):
        mix.push(block)
    layout = layout_from_levels(project, streamed.chosen, levels, mix.level(), mode=mode)
    return layout, peaks


def _group_blocks(streamed: Any, members: Sequence[int]) -> Iterator[np.ndarray]:
    """A group stem's blocks: its members' mastered blocks summed in float32, in member order
    (as audio.groups.sum_stems sums whole stems, so the samples are the same)."""
    parts = [streamed.stem_blocks(m, BLOCK) for m in members]
    for start in range(0, streamed.n_samples, BLOCK):
        out = np.zeros((2, min(BLOCK, streamed.n_samples - start)), dtype=np.float32)
        for part in parts:
            out += next(part)
        yield out


def _mapped(path: Path, n: int) -> np.ndarray:
    """A read-only (2, n) float32 view of an interleaved spool file (it stays valid after the
    file is deleted: the mapping keeps it)."""
    if n == 0:
        return np.zeros((2, 0), dtype=np.float32)
    return np.memmap(path, dtype="<f4", mode="r", shape=(n, 2)).T


def _export_claimed(out: Path, project: Project, result: RenderResult, *,
                    review_video: str | os.PathLike[str] | None,
                    progress: ProgressFn | None, sessions: Sequence[str] = (),
                    dry_stems: bool = False, stem_mode: str = "objects") -> None:
    """export_render's work, with OUTDIR claimed by this process."""
    from app.daw.build import (
        dry_path,
        make_dry_stems,
        make_session,
        start_timecode,
        write_sessions,
    )

    tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(out), suffix=".partial", dir=out.parent))
    try:
        tmp.chmod(0o755)               # mkdtemp's folder is private; OUTDIR is an ordinary one
        (tmp / "stems").mkdir()
        labels = {t.id: t.label for t in project.analysis.objects}
        layout = plan_stems(project, result, mode=stem_mode)
        stems = {o.id: f"stems/{stem_name(o.id, labels[o.id])}" for o in project.objects
                 if layout.has_file(o.id)}
        n_dry = len(stems) if dry_stems else 0
        n_files = len(stems) + n_dry + len(layout.groups) + 2
        total = n_files + (1 if review_video is not None else 0)
        finished = _finished_project(project, result.master, stems)
        timecode = start_timecode(project)
        tref = timecode.samples(SAMPLE_RATE)
        jobs = [(tmp / stems[o.id], result.stems[o.id],
                 _bwf_fields(project, object_id=o.id, label=labels[o.id], prompt=o.prompt,
                             time_reference=tref))
                for o in project.objects if o.id in stems]
        groups = {g.path: group_audio(g, result) for g in layout.groups}
        if groups:
            (tmp / "groups").mkdir()
        jobs += [(tmp / g.path, groups[g.path],
                  group_bwf_fields(g, seed=project.render.seed, time_reference=tref,
                                   originator=ORIGINATOR)) for g in layout.groups]
        jobs.append((tmp / "mix.wav", result.mix,
                     _bwf_fields(finished, object_id=None, label="", prompt="",
                                 time_reference=tref)))
        dry = make_dry_stems(project, result, stems) if dry_stems else None
        if dry is not None:
            (tmp / "dry").mkdir()
            for o in (o for o in project.objects if o.id in stems):
                fields = _bwf_fields(project, object_id=o.id, label=labels[o.id],
                                     prompt=o.prompt, time_reference=tref)
                fields["description"] = ("dry (before pan and level) " + fields["description"]
                                         )[:256]
                fields["coding_history"] = ""
                path = dry_path(stems[o.id])
                jobs.append((tmp / path, dry[path].audio, fields))
        def project_and_report() -> None:
            _write_project(tmp, finished, chosen=result.chosen, layout=layout)
            created = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
            peaks = {path: peak_dbfs(audio) for path, audio in groups.items()}
            (tmp / "report.txt").write_text(
                render_report(finished, result.stems, result.mix, created=created,
                              extra=report_lines(layout, peaks)), encoding="utf-8")

        _write_all(jobs, progress, total, meanwhile=project_and_report)
        report(progress, n_files / total, "project")
        if sessions:
            write_sessions(tmp, make_session(project, result, stems, outdir=out,
                                             timecode=timecode, dry=dry, layout=layout),
                           sessions)
        if review_video is not None:
            write_review_video(review_video, tmp, result.mix)
        _swap_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _write_project(folder: Path, finished: Project, *,
                   chosen: Mapping[int, Mapping[str, Any]] | None = None,
                   layout: StemLayout | None = None) -> None:
    """folder/project.json: indented, except the long per-frame lists of the tracks, which are
    written compactly by the C encoder (the same JSON values, a fraction of the time).

    chosen: what each object's foley was made of (RenderResult.chosen), saved in its object as
    "recipe" (the class recipe, or "prompt" / "motion") and "chosen" (sources, bank files,
    layers); a project loaded back ignores both (they are results, not settings).
    layout: the group stems (app.stem_groups), saved as "stems" and in each object."""
    doc = finished.to_dict()
    for obj in doc.get("objects", []):
        record = (chosen or {}).get(obj.get("id"))
        if record is not None:
            obj["recipe"] = record.get("recipe", "")
            obj["chosen"] = dict(record)
        if layout is not None:
            obj.update(object_doc(layout, obj["id"]))
    if layout is not None and layout_doc(layout):
        doc["stems"] = layout_doc(layout)
    doc["render"]["sample_rate"] = SAMPLE_RATE
    compact: dict[str, str] = {}
    token = secrets.token_hex(8)          # a marker no real value can spell
    for i, obj in enumerate(doc.get("analysis", {}).get("objects", [])):
        for key in ("frames", "boxes"):
            if isinstance(obj.get(key), list):
                mark = f"@@{token}:{i}:{key}@@"
                compact[json.dumps(mark)] = json.dumps(obj[key], separators=(",", ":"))
                obj[key] = mark
    text = json.dumps(doc, indent=1)
    for mark, value in compact.items():
        text = text.replace(mark, value, 1)
    (folder / "project.json").write_text(text, encoding="utf-8")


def _write_all(jobs: Sequence[tuple[Path, np.ndarray | _Blocks, dict[str, Any]]],
               progress: ProgressFn | None, total: int,
               meanwhile: Callable[[], None] | None = None) -> None:
    """Write the audio files two at a time (packing and disk writes release the GIL), running
    `meanwhile` on this thread as they go; every writer has finished before this returns or
    raises, so the caller can safely delete the folder."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(_write_audio, *job) for job in jobs]
        try:
            if meanwhile is not None:
                meanwhile()
            for done, future in enumerate(as_completed(futures), start=1):
                future.result()
                report(progress, done / total, f"stem {done}/{len(jobs)}")
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def _swap_into_place(tmp: Path, out: Path) -> None:
    """Rename the finished temp folder to OUTDIR, moving an old OUTDIR aside first."""
    old: Path | None = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=temp_prefix(out), suffix=".old", dir=out.parent))
        old.rmdir()
        os.replace(out, old)
    try:
        os.replace(tmp, out)
    except BaseException:
        if old is not None:
            os.replace(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def review_path(video: str | os.PathLike[str], folder: Path) -> Path:
    """`folder/review.<ext>`: the source's container where it can carry AAC, else Matroska."""
    ext = Path(video).suffix.lower()
    return folder / f"review{ext if ext in _REVIEW_EXTS else '.mkv'}"


def write_review_video(video: str | os.PathLike[str], folder: Path,
                       mix: np.ndarray | DiskAudio) -> Path:
    """Copy of `video` with `mix` as a new AAC track; picture packets remuxed, not re-encoded.
    `mix` may be a spool on disk (read 1024 frames at a time)."""
    import av

    target = review_path(video, folder)
    try:
        source = av.open(os.fspath(video))
    except (av.error.FFmpegError, OSError) as exc:
        raise VideoError(f"cannot read {video} for the review video: {exc}") from exc
    with source:
        if not source.streams.video:
            raise VideoError(f"{video} has no video stream")
        vin = source.streams.video[0]
        with av.open(os.fspath(target), mode="w") as sink:
            vout = sink.add_stream_from_template(vin)
            aout = sink.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
            assert isinstance(aout, av.AudioStream)
            aout.bit_rate = 192_000
            # the mix's sample 0 is the first picture's time (video.base.timebase), so the audio
            # track starts where the picture stream starts
            start = float(vin.start_time * vin.time_base) if vin.start_time is not None \
                and vin.time_base is not None else 0.0
            audio = _AudioFeed(aout, mix if isinstance(mix, DiskAudio)
                               else np.asarray(mix, dtype=np.float32),
                               offset=max(0, time_to_sample(start)))
            copied = 0
            for packet in source.demux(vin):
                if packet.size == 0:   # the demuxer's end-of-stream marker, not a picture
                    continue
                if packet.pts is not None and packet.time_base is not None:
                    audio.until(float(packet.pts * packet.time_base), sink)
                packet.stream = vout
                sink.mux(packet)
                copied += 1
            audio.until(None, sink)
    verify_review_video(target, expected_packets=copied)
    return target


def count_packets(video: str | os.PathLike[str]) -> int:
    """Number of picture packets of a file's first video stream (demuxed, not decoded)."""
    import av

    with av.open(os.fspath(video)) as container:
        return sum(1 for packet in container.demux(container.streams.video[0]) if packet.size)


def verify_review_video(path: Path, *, expected_packets: int, frames_to_decode: int = 8) -> None:
    """Raise VideoError unless the review copy has every picture packet and its first
    pictures decode (a copy that drops packets can look fine and show nothing)."""
    import av

    try:
        got = count_packets(path)
        with av.open(os.fspath(path)) as container:
            decoded = 0
            for _ in container.decode(container.streams.video[0]):
                decoded += 1
                if decoded >= frames_to_decode:
                    break
    except (av.error.FFmpegError, OSError) as exc:
        raise VideoError(f"the review video {path.name} cannot be read back: {exc}") from exc
    if got != expected_packets or decoded < min(frames_to_decode, expected_packets):
        raise VideoError(f"the review video {path.name} is broken ({got} of {expected_packets} "
                         f"picture packets, {decoded} decoded): not written")


class _AudioFeed:
    """Encodes the mix in 1024-sample frames, up to a given time, so packets stay interleaved."""

    FRAME = 1024

    def __init__(self, stream: Any, mix: np.ndarray | DiskAudio, *, offset: int = 0) -> None:
        self.stream = stream
        self.mix = mix
        self.offset = offset
        self.pos = 0

    def until(self, seconds: float | None, sink: Any) -> None:
        import av

        end = self.mix.shape[1] if seconds is None else min(
            self.mix.shape[1], int(seconds * SAMPLE_RATE) - self.offset + self.FRAME)
        while self.pos < end:
            chunk = np.ascontiguousarray(self.mix[:, self.pos: self.pos + self.FRAME])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
            frame.sample_rate = SAMPLE_RATE
            frame.pts = self.offset + self.pos
            frame.time_base = Fraction(1, SAMPLE_RATE)
            for packet in self.stream.encode(frame):
                sink.mux(packet)
            self.pos += chunk.shape[1]
        if seconds is None:
            for packet in self.stream.encode(None):
                sink.mux(packet)
