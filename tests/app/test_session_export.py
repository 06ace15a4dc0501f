"""DAW sessions of a render (issue 13) on a synthetic 29.97 fps clip stamped 01:00:00;00 DF:
session.rpp parsed back with `rpp`, session.otio and session.aaf read back with OpenTimelineIO,
dry stems + envelopes rebuilt through the pan law against the baked stems, and the start
timecode in every bext time reference and every item position."""

from __future__ import annotations

import shutil
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
import soundfile as sf

from app.export import export_render
from app.project import Project
from audio.bwf import read_bext
from audio.pan import pan_gains
from audio.spatialize import pan_control
from model.foley.render import RenderResult, render_scene
from video.synth import ObjectSpec, SceneSpec, write_clip
from video.timecode import read_start_timecode

DF30 = Fraction(30000, 1001)
START_FRAME = 107_892                      # 01:00:00;00 at 29.97 drop-frame
START_SAMPLE = 172_799_828                 # its first sample at 48 kHz (rounded up)


def stamp_timecode(source: Path, target: Path, label: str) -> None:
    """Remux `source` into `target` with a `timecode` tag on the video stream."""
    with av.open(str(source)) as src, av.open(str(target), "w") as dst:
        vin = src.streams.video[0]
        vout = dst.add_stream_from_template(vin)
        vout.metadata["timecode"] = label
        for packet in src.demux(vin):
            if packet.size:
                packet.stream = vout
                dst.mux(packet)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, RenderResult, Path]:
    folder = tmp_path_factory.mktemp("daw")
    spec = SceneSpec(width=320, height=180, fps=DF30, duration=2.0, seed=4,
                     objects=(ObjectSpec("ball", start=(0.15, 0.2), velocity=(0.35, 0.0),
                                         size=0.2),
                              ObjectSpec("box", start=(0.9, 0.5), velocity=(-0.4, 0.05),
                                         size=0.15, color=(40, 90, 235))))
    truth = write_clip(spec, folder / "raw.mp4")
    video = folder / "picture.mov"
    stamp_timecode(folder / "raw.mp4", video, "01:00:00;00")
    project = Project(analysis=replace(truth, video=replace(truth.video, path=str(video))))
    project.render = replace(project.render, target_lufs=-30.0)   # the limiter stays out
    result = render_scene(project.analysis, project.objects, project.render)
    assert result.master["limiter"]["samples"] == 0
    export_render(folder / "out", project, result, sessions=("rpp", "otio", "aaf"),
                  dry_stems=True)
    return project, result, folder / "out"


def _rpp(out: Path) -> Any:
    import rpp

    return rpp.loads((out / "session.rpp").read_text(encoding="utf-8"))


def _envelopes(track: Any) -> dict[str, np.ndarray]:
    found = {}
    for tag in ("VOLENV2", "PANENV2"):
        env = track.find(tag)
        assert env is not None, f"no {tag}"
        found[tag] = np.array([[float(p[1]), float(p[2])] for p in env.findall("PT")])
    return found


def _wave(track: Any) -> str:
    return str(track.find("ITEM").find("SOURCE").find("FILE")[1])


def test_the_start_timecode_is_read_from_the_container(rendered: tuple) -> None:
    project, _, _ = rendered
    tc = read_start_timecode(project.analysis.video.path, DF30)
    assert (tc.frame, tc.drop, tc.label) == (START_FRAME, True, "01:00:00;00")


def test_every_wav_carries_the_start_timecode_as_its_time_reference(rendered: tuple) -> None:
    _, _, out = rendered
    wavs = [out / "mix.wav", *sorted((out / "stems").glob("*.wav")),
            *sorted((out / "dry").glob("*.wav"))]
    assert len(wavs) == 5
    for wav in wavs:
        ref = read_bext(wav)["time_reference"]
        assert ref == START_SAMPLE, wav.name
        assert ref * DF30 // 48_000 == START_FRAME          # floor lands on the frame ...
        assert round(ref * DF30 / 48_000) == START_FRAME    # ... and so does nearest


def test_rpp_references_every_stem_at_the_timecode_with_pan_within_001(rendered: tuple) -> None:
    project, result, out = rendered
    root = _rpp(out)
    tracks = root.findall("TRACK")
    video = tracks[0]
    assert video.find("NAME")[1] == "video"
    assert video.find("ITEM").find("SOURCE").attrib == ["VIDEO"]
    assert Path(video.find("ITEM").find("SOURCE").find("FILE")[1]) == \
        Path(project.analysis.video.path).resolve()
    stems = tracks[1:]
    assert sorted(_wave(t) for t in stems) == sorted(
        f"dry/{p.name}" for p in (out / "stems").glob("*.wav"))
    start = float(START_FRAME / DF30)
    for track, sound in zip(stems, project.objects, strict=True):
        item = track.find("ITEM")
        position = float(item.find("POSITION")[1])
        assert position == pytest.approx(start, abs=1e-9)
        assert round(position * float(DF30)) == START_FRAME
        assert float(item.find("LENGTH")[1]) == pytest.approx(result.n_samples / 48_000)
        assert (out / _wave(track)).is_file()
        pan = _envelopes(track)["PANENV2"]
        assert 2 <= len(pan) < 60                        # thinned: a handful of points
        assert pan[0, 0] == pytest.approx(start, abs=1e-9)
        # the rendered pan at each point's time (control curve, linear between points)
        control = pan_control(project.analysis.object(sound.id), project.analysis.video,
                              n_samples=result.n_samples)
        at = (pan[:, 0] - start) * 48_000
        rendered_pan = np.interp(at, np.arange(control.size) * 48.0, control)
        assert np.max(np.abs(-pan[:, 1] - rendered_pan)) < 0.01   # Reaper stores -pan
        assert np.ptp(rendered_pan) > 0.2                 # the objects do move


def _reconstruct(dry: np.ndarray, envelopes: dict[str, np.ndarray], n: int, law: str
                 ) -> np.ndarray:
    start = float(START_FRAME / DF30)
    t = start + np.arange(n) / 48_000
    pan = np.interp(t, envelopes["PANENV2"][:, 0], -envelopes["PANENV2"][:, 1])
    vol = np.interp(t, envelopes["VOLENV2"][:, 0], envelopes["VOLENV2"][:, 1])
    gain_l, gain_r = pan_gains(pan, law=law)
    return np.stack([dry[0] * gain_l * vol, dry[-1] * gain_r * vol])


def test_dry_stems_and_automation_rebuild_the_baked_stems_within_60_db(rendered: tuple) -> None:
    project, result, out = rendered
    for track in _rpp(out).findall("TRACK")[1:]:
        dry, rate = sf.read(out / _wave(track), always_2d=True, dtype="float64")
        baked, _ = sf.read(out / "stems" / Path(_wave(track)).name, always_2d=True,
                           dtype="float64")
        assert rate == 48_000 and dry.shape[0] == baked.shape[0] == result.n_samples
        assert 0.85 < np.max(np.abs(dry)) <= 10 ** (-1 / 20) + 1e-6   # normalized to -1 dBFS
        rebuilt = _reconstruct(dry.T, _envelopes(track), result.n_samples,
                               project.render.pan_law)
        error = np.sum((rebuilt - baked.T) ** 2) / np.sum(baked ** 2)
        assert 10 * np.log10(error) < -60.0


def test_otio_reads_back_one_track_per_stem_at_48k_from_the_timecode(rendered: tuple) -> None:
    import opentimelineio as otio

    project, result, out = rendered
    timeline = otio.adapters.read_from_file(str(out / "session.otio"))
    assert timeline.global_start_time.value == START_FRAME
    assert otio.opentime.to_timecode(timeline.global_start_time, float(DF30),
                                     drop_frame=True) == "01:00:00;00"
    video, *audio = timeline.tracks
    assert video.kind == otio.schema.TrackKind.Video
    assert video[0].media_reference.target_url == \
        Path(project.analysis.video.path).resolve().as_uri()
    assert video.duration().value == project.analysis.video.frames
    assert len(audio) == len(project.objects)
    for track, sound in zip(audio, project.objects, strict=True):
        assert track.kind == otio.schema.TrackKind.Audio
        assert track.name.startswith(f"{sound.id} ")
        (clip,) = list(track)
        assert clip.duration() == otio.opentime.RationalTime(result.n_samples, 48_000)
        path = clip.metadata["stereofoley"]["path"]
        assert clip.media_reference.target_url == (out / path).resolve().as_uri()
        assert (out / path).is_file()
        assert len(clip.metadata["stereofoley"]["pan"]) >= 2


def test_aaf_reads_back_through_the_adapter_with_drop_frame_timecode(rendered: tuple) -> None:
    import aaf2
    import opentimelineio as otio

    project, result, out = rendered
    timeline = otio.adapters.read_from_file(str(out / "session.aaf"))
    assert timeline.global_start_time.value == START_FRAME
    audio = [t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Audio]
    assert len(audio) == len(project.objects)
    urls = set()
    for track in audio:
        (clip,) = [c for c in track if isinstance(c, otio.schema.Clip)]
        assert clip.duration() == otio.opentime.RationalTime(result.n_samples, 48_000)
        urls.add(clip.media_reference.target_url)
    assert urls == {p.resolve().as_uri() for p in (out / "dry").glob("*.wav")}
    # the mono dry stems' pan envelopes are the clips' AAF pan points (0 = left .. 1 = right)
    session = otio.adapters.read_from_file(str(out / "session.otio"))
    otio_pans = [np.array([[float(v) for v in point] for point in c.metadata["stereofoley"]["pan"]])
                 for t in session.tracks[1:] for c in t]
    for track, expected in zip(audio, otio_pans, strict=True):
        (effect,) = [e for c in track for e in c.effects]
        keys = np.array([[float(v) for v in point] for point in
                         effect.metadata["AAF"]["Parameters"]["Pan"]["keyframe_values"]])
        assert keys.shape == expected.shape
        np.testing.assert_allclose(keys[:-1, 0] * result.n_samples / 48_000, expected[:-1, 0],
                                   atol=1e-4)
        np.testing.assert_allclose(keys[:, 1], (expected[:, 1] + 1) / 2, atol=1e-5)
    with aaf2.open(str(out / "session.aaf")) as handle:
        (mob,) = list(handle.content.compositionmobs())
        codes = [s for s in mob.slots if isinstance(s.segment, aaf2.components.Timecode)]
        assert [(c.segment.start, c.segment.fps, c.segment.drop) for c in codes] == \
            [(START_FRAME, 30, True)]
        assert Fraction(codes[0].edit_rate) == DF30


def test_baked_sessions_play_the_stems_without_automation(rendered: tuple, tmp_path: Path
                                                         ) -> None:
    project, result, _ = rendered
    out = export_render(tmp_path / "baked", project, result, sessions=("rpp",))
    assert not (out / "dry").exists() and not (out / "session.otio").exists()
    tracks = _rpp(out).findall("TRACK")[1:]
    assert sorted(_wave(t) for t in tracks) == sorted(
        f"stems/{p.name}" for p in (out / "stems").glob("*.wav"))
    assert all(t.find("PANENV2") is None and t.find("VOLENV2") is None for t in tracks)


def test_no_tag_means_zero_timecode(rendered: tuple, tmp_path: Path) -> None:
    project, result, _ = rendered
    plain = tmp_path / "plain.mp4"
    shutil.copy(Path(project.analysis.video.path).parent / "raw.mp4", plain)
    moved = project.copy()
    moved.analysis = replace(project.analysis, video=replace(project.analysis.video,
                                                              path=str(plain)))
    out = export_render(tmp_path / "zero", moved, result, sessions=("rpp",))
    assert read_bext(out / "mix.wav")["time_reference"] == 0
    positions = {float(t.find("ITEM").find("POSITION")[1]) for t in _rpp(out).findall("TRACK")}
    assert positions == {0.0}


def test_the_limiters_gain_is_in_the_volume_envelope(rendered: tuple, tmp_path: Path) -> None:
    project, _, _ = rendered
    loud = project.copy()
    loud.render = replace(project.render, target_lufs=-10.0, true_peak_db=-6.0)
    result = render_scene(loud.analysis, loud.objects, loud.render)
    assert result.master["limiter"]["max_reduction_db"] > 1.0    # the limiter did act
    out = export_render(tmp_path / "loud", loud, result, sessions=("rpp",), dry_stems=True)
    for track in _rpp(out).findall("TRACK")[1:]:
        dry, _ = sf.read(out / _wave(track), always_2d=True, dtype="float64")
        baked, _ = sf.read(out / "stems" / Path(_wave(track)).name, always_2d=True,
                           dtype="float64")
        envelopes = _envelopes(track)
        rebuilt = _reconstruct(dry.T, envelopes, result.n_samples, loud.render.pan_law)
        error = np.sum((rebuilt - baked.T) ** 2) / np.sum(baked ** 2)
        assert 10 * np.log10(error) < -60.0
        assert len(envelopes["VOLENV2"]) < result.n_samples / 20   # still thinned
