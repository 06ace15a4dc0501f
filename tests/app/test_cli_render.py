"""`stereofoley render` end to end on a synthetic clip: OUTDIR contents, BWF fields, review video,
and the bad-input contract (exit 2, one `error:` line, no OUTDIR left)."""

from __future__ import annotations

import hashlib
import json
import struct
import subprocess
import sys
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from app.cli import main
from app.project import Project, save_project
from audio.master import measure_loudness
from audio.nudges import Nudges
from model.foley.scene import ObjectSound, RenderSettings
from video.base.tracks import Analysis
from video.synth import ObjectSpec, SceneSpec, write_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Analysis]:
    """A 2 s 320x180 clip with a bouncing ball and a box crossing the frame, and its truth."""
    folder = tmp_path_factory.mktemp("clip")
    spec = SceneSpec(width=320, height=180, fps=Fraction(30), duration=2.0, seed=4,
                     objects=(ObjectSpec("ball", start=(0.2, 0.2), velocity=(0.2, 0.0),
                                         size=0.2),
                              ObjectSpec("box", start=(0.1, 0.5), velocity=(0.5, 0.0),
                                         size=0.2, color=(40, 90, 235))))
    path = folder / "scene.mp4"
    truth = write_clip(spec, path)
    return path, truth


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
                   ) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))


def _text(body: bytes, start: int, stop: int) -> str:
    return body[start:stop].split(b"\0")[0].decode("ascii")


def _bext(path: Path) -> dict[str, object]:
    """The bext chunk of a Broadcast WAV file, parsed from the RIFF structure."""
    data = path.read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    pos = 12
    while pos + 8 <= len(data):
        cid, size = data[pos: pos + 4], struct.unpack("<I", data[pos + 4: pos + 8])[0]
        body = data[pos + 8: pos + 8 + size]
        if cid == b"bext":
            low, high = struct.unpack("<II", body[338:346])
            return {"description": _text(body, 0, 256), "originator": _text(body, 256, 288),
                    "originator_reference": _text(body, 288, 320),
                    "time_reference": low + (high << 32),
                    "coding_history": _text(body, 602, len(body))}
        pos += 8 + size + (size & 1)
    raise AssertionError(f"no bext chunk in {path}")


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_render_writes_the_contract_outdir(clip: tuple[Path, Analysis], tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    video, _ = clip
    out = tmp_path / "out"
    code, stdout, err = _run(["render", str(video), "-o", str(out), "--seed", "5",
                              "--prompt", "1=metal clang"], capsys)
    assert code == 0, err
    assert "error" not in err
    doc = json.loads((out / "project.json").read_text())
    assert doc["schema"] == "stereofoley.project/1"
    assert doc["analysis"]["schema"] == "stereofoley.tracks/1"
    assert doc["render"]["seed"] == 5 and doc["render"]["sample_rate"] == 48000
    master = doc["render"]["master"]
    assert master["target_lufs"] == -23.0 and "gain_db" in master
    assert len(doc["objects"]) == len(doc["analysis"]["objects"]) >= 1
    assert {o["id"] for o in doc["objects"]} == {o["id"] for o in doc["analysis"]["objects"]}
    mix, rate = sf.read(out / "mix.wav", dtype="float64", always_2d=True)
    info = sf.info(str(out / "mix.wav"))
    assert (rate, info.subtype, info.channels) == (48000, "PCM_24", 2)
    assert info.frames == pytest.approx(2.0 * 48000, abs=1)
    total = np.zeros_like(mix)
    prompts = {o["id"]: o["prompt"] for o in doc["objects"]}
    for obj in doc["objects"]:
        path = out / obj["stem"]
        assert path.parent.name == "stems" and path.suffix == ".wav"
        stem_info = sf.info(str(path))
        assert (stem_info.samplerate, stem_info.subtype, stem_info.frames) == \
            (48000, "PCM_24", info.frames)
        stem, _ = sf.read(path, dtype="float64", always_2d=True)
        assert np.sqrt(np.mean(stem ** 2)) > 1e-4                # nothing silent
        total += stem
        bext = _bext(path)
        assert f"object {obj['id']}" in str(bext["description"])
        assert str(prompts[obj["id"]] or "from motion") in str(bext["description"])
        assert bext["originator"] == "StereoFoley Studio" and bext["time_reference"] == 0
    assert prompts.get(1) in ("metal clang", None)
    quantum = 2.0 ** -23
    assert np.max(np.abs(total - mix)) <= (len(doc["objects"]) + 1) * quantum
    assert measure_loudness(mix.T) == pytest.approx(-23.0, abs=0.5)
    assert "mix" in str(_bext(out / "mix.wav")["description"])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]   # no temp folders
    assert out.stat().st_mode & 0o777 == 0o755
    assert str(out) in stdout and "LUFS" in stdout


def test_render_is_reproducible_and_seed_matters(clip: tuple[Path, Analysis], tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    video, truth = clip
    project = Project(analysis=truth, objects=[ObjectSound(id=t.id) for t in truth.objects])
    save_project(project, tmp_path / "p.json")
    digests = []
    for name, seed in (("a", "1"), ("b", "1"), ("c", "2")):
        code, _, err = _run(["render", str(video), "-o", str(tmp_path / name), "--project",
                             str(tmp_path / "p.json"), "--seed", seed], capsys)
        assert code == 0, err
        audio = b"".join(sf.read(p, dtype="int32")[0].tobytes()
                         for p in sorted((tmp_path / name).rglob("*.wav")))
        digests.append(hashlib.sha256(audio).hexdigest())     # samples (bext has a date)
    assert digests[0] == digests[1] and digests[0] != digests[2]


def _samples_digest(folder: Path) -> str:
    """SHA-256 of every WAV's samples under `folder` (bext carries the render's date)."""
    audio = b"".join(sf.read(p, dtype="int32")[0].tobytes() for p in sorted(folder.rglob("*.wav")))
    return hashlib.sha256(audio).hexdigest()


@pytest.mark.slow
def test_a_renders_own_project_reproduces_it_bit_for_bit(clip: tuple[Path, Analysis],
                                                         tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    """Analysis in memory -> render -> its project.json -> render again: the same samples,
    although boxes, event times and strengths are written with few decimals (they are held
    at that precision from the start) and nudges are arbitrary floats."""
    video, _ = clip
    first = tmp_path / "first"
    code, _, err = _run(["render", str(video), "-o", str(first), "--seed", "11"], capsys)
    assert code == 0, err
    doc = json.loads((first / "project.json").read_text())
    assert any(o["events"] for o in doc["analysis"]["objects"])
    code, _, err = _run(["render", str(video), "-o", str(tmp_path / "again"), "--project",
                         str(first / "project.json")], capsys)
    assert code == 0, err
    assert _samples_digest(first) == _samples_digest(tmp_path / "again")

    nudged = Project.from_dict(doc)
    ids = [o.id for o in nudged.objects]
    nudged.set_object_sound(replace(nudged.object_sound(ids[0]), prompt="glass clink",
                                    nudges=Nudges(pan_offset=0.1234567891, gain_db=-1.0 / 3)))
    save_project(nudged, tmp_path / "nudged.json")
    digests = []
    for name, project in (("n1", tmp_path / "nudged.json"), ("n2", tmp_path / "n1" / "project.json")):
        code, _, err = _run(["render", str(video), "-o", str(tmp_path / name), "--project",
                             str(project)], capsys)
        assert code == 0, err
        digests.append(_samples_digest(tmp_path / name))
    assert digests[0] == digests[1] != _samples_digest(first)


def test_project_nudges_and_prompts_are_used(clip: tuple[Path, Analysis], tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    video, truth = clip
    ids = [t.id for t in truth.objects]
    objects = [ObjectSound(id=ids[0], prompt="glass", nudges=Nudges(pan_offset=-2.0)),
               ObjectSound(id=ids[1], nudges=Nudges(pan_offset=2.0))]
    save_project(Project(analysis=truth, objects=objects,
                         render=RenderSettings(target_lufs=-20.0)), tmp_path / "p.json")
    out = tmp_path / "out"
    code, _, err = _run(["render", str(video), "-o", str(out), "--project",
                         str(tmp_path / "p.json"), "--prompt", f"{ids[1]}=car engine"], capsys)
    assert code == 0, err
    doc = json.loads((out / "project.json").read_text())
    by_id = {o["id"]: o for o in doc["objects"]}
    assert by_id[ids[0]]["prompt"] == "glass" and by_id[ids[1]]["prompt"] == "car engine"
    assert by_id[ids[0]]["nudges"]["pan_offset"] == -2.0
    left, _ = sf.read(out / by_id[ids[0]]["stem"], always_2d=True)
    right, _ = sf.read(out / by_id[ids[1]]["stem"], always_2d=True)
    assert np.sqrt(np.mean(left[:, 1] ** 2)) < 1e-3 * np.sqrt(np.mean(left[:, 0] ** 2))
    assert np.sqrt(np.mean(right[:, 0] ** 2)) < 1e-3 * np.sqrt(np.mean(right[:, 1] ** 2))
    mix, _ = sf.read(out / "mix.wav", always_2d=True)
    assert measure_loudness(mix.T) == pytest.approx(-20.0, abs=0.5)


def test_review_video_remuxes_picture_and_adds_the_mix(clip: tuple[Path, Analysis],
                                                       tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    import av

    video, truth = clip
    save_project(Project(analysis=truth), tmp_path / "p.json")
    out = tmp_path / "out"
    code, _, err = _run(["render", str(video), "-o", str(out), "--review-video", "--project",
                         str(tmp_path / "p.json")], capsys)
    assert code == 0, err

    def packets(path: Path) -> list[bytes]:
        with av.open(str(path)) as c:
            return [bytes(p) for p in c.demux(c.streams.video[0]) if p.size]

    review = out / "review.mp4"
    assert packets(review) == packets(video)                   # not re-encoded
    with av.open(str(review)) as c:
        audio = c.streams.audio[0]
        assert audio.codec_context.name == "aac" and audio.rate == 48000
        assert audio.channels == 2
        decoded = np.concatenate([f.to_ndarray() for f in c.decode(audio)], axis=1)
    assert decoded.shape[1] == pytest.approx(2.0 * 48000, abs=2048)
    assert np.sqrt(np.mean(decoded ** 2)) > 1e-3
    # the AAC track is the mix, in sync with the picture (lag found by cross-correlation)
    mix, _ = sf.read(out / "mix.wav", dtype="float32", always_2d=True)
    a, b = decoded.sum(axis=0)[:90000], mix.T.sum(axis=0)[:90000]
    corr = np.correlate(a[4096:-4096], b, mode="valid")
    lag = int(np.argmax(corr)) - 4096
    assert abs(lag) <= 48, lag                                   # within 1 ms
    assert corr.max() > 0.9 * np.sqrt(np.sum(a[4096:-4096] ** 2) * np.sum(b[4096 + lag: -4096 + lag] ** 2))


def test_label_sets_the_class_and_the_sound_follows(clip: tuple[Path, Analysis], tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    video, truth = clip
    box = truth.objects[1].id
    save_project(Project(analysis=truth), tmp_path / "p.json")
    stems = {}
    for name, extra in (("plain", []), ("person", ["--label", f"{box}=Person"])):
        out = tmp_path / name
        code, _, err = _run(["render", str(video), "-o", str(out), "--project",
                             str(tmp_path / "p.json"), "--seed", "3", *extra], capsys)
        assert code == 0, err
        doc = json.loads((out / "project.json").read_text())
        track = next(o for o in doc["analysis"]["objects"] if o["id"] == box)
        stem = next(o["stem"] for o in doc["objects"] if o["id"] == box)
        stems[name] = (track, sf.read(out / stem, always_2d=True)[0])
    assert stems["person"][0]["label"] == "person"
    assert stems["person"][0]["label_source"] == "user"
    assert stems["plain"][0]["label"] == truth.objects[1].label
    plain, person = stems["plain"][1], stems["person"][1]
    assert plain.shape == person.shape
    # a person gets footsteps and a quieter movement bed instead of the box's engine-like hum
    assert not np.allclose(plain, person, atol=1e-3)


@pytest.mark.parametrize("case, argv_tail, message", [
    ("missing video", ["--seed", "1"], "not found"),
    ("prompt syntax", ["--prompt", "1 metal"], "ID=TEXT"),
    ("prompt id", ["--prompt", "one=metal"], "integer object id"),
    ("unknown id", ["--prompt", "99=metal"], "unknown object id 99"),
    ("twice", ["--prompt", "1=a", "--prompt", "1=b"], "twice"),
    ("label syntax", ["--label", "1 car"], "ID=CLASS"),
    ("label id", ["--label", "x=car"], "integer object id"),
    ("label class", ["--label", "1=spaceship"], "unknown class"),
    ("label unknown id", ["--label", "99=car"], "unknown object id 99"),
    ("label twice", ["--label", "1=car", "--label", "1=dog"], "twice"),
    ("bad project", ["--project", "{bad}"], "not valid JSON"),
    ("missing project", ["--project", "{missing}"], "not found"),
    ("wrong schema", ["--project", "{schema}"], "unsupported project schema"),
    ("library", ["--library", "{missing}"], "not a folder"),
    ("existing outdir", [], "not empty"),
    ("not a video", ["--project", "{project}"], "not a video"),
    ("not a video, analysed", [], "not a video"),
    ("empty file", [], "is empty"),
    ("random bytes", [], "not a video"),
    ("audio only", [], "no video stream"),
    ("folder", [], "is a folder"),
    ("other video", ["--project", "{long}"], "is it the project's video"),
    ("mute as a string", ["--project", "{mute}"],
     'project objects[0].nudges.mute must be true or false, got "false"'),
    ("duration 1e999", ["--project", "{inf}"],
     "project analysis.video.duration must be a finite number, got Infinity"),
    ("null render", ["--project", "{null}"], "project render must be an object, got null"),
    ("stems value", ["--stems", "group"], "--stems: stems must be one of objects, groups, both"),
    ("stems list", ["--stems=objects,groups"], "--stems: stems must be one of"),
    ("stems empty", ["--stems="], "--stems: stems must be one of"),
])
def test_bad_input_is_one_error_line_and_no_outdir(case: str, argv_tail: list[str], message: str,
                                                  clip: tuple[Path, Analysis], tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    video, truth = clip
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "schema.json").write_text(json.dumps({"schema": "other/9"}))
    save_project(Project(analysis=truth), tmp_path / "project.json")
    longer = replace(truth.video, duration=truth.video.duration + 3.0)
    save_project(Project(analysis=replace(truth, video=longer)), tmp_path / "long.json")
    doc = Project(analysis=truth).to_dict()
    doc["objects"][0]["nudges"]["mute"] = "false"
    (tmp_path / "mute.json").write_text(json.dumps(doc))
    doc = Project(analysis=truth).to_dict()
    doc["analysis"]["video"]["duration"] = "INF"
    (tmp_path / "inf.json").write_text(json.dumps(doc).replace('"INF"', "1e999"))
    doc = Project(analysis=truth).to_dict()
    doc["render"] = None
    (tmp_path / "null.json").write_text(json.dumps(doc))
    subs = {"{bad}": str(tmp_path / "bad.json"), "{missing}": str(tmp_path / "nope"),
            "{schema}": str(tmp_path / "schema.json"), "{project}": str(tmp_path / "project.json"),
            "{long}": str(tmp_path / "long.json"), "{mute}": str(tmp_path / "mute.json"),
            "{inf}": str(tmp_path / "inf.json"), "{null}": str(tmp_path / "null.json")}
    tail = [subs.get(a, a) for a in argv_tail]
    out = tmp_path / "out"
    if case == "existing outdir":
        out.mkdir()
        (out / "keep.txt").write_text("mine")
    src = str(tmp_path / "missing.mp4") if case == "missing video" else str(video)
    if case.startswith("not a video"):
        (tmp_path / "notes.mp4").write_text("just text, not a video\n")
        src = str(tmp_path / "notes.mp4")
    bad_media = {"empty file": b"", "random bytes": np.random.default_rng(3).bytes(5000)}
    if case in bad_media:
        (tmp_path / "bad.mp4").write_bytes(bad_media[case])
        src = str(tmp_path / "bad.mp4")
    if case == "audio only":
        sf.write(tmp_path / "sound.wav", np.zeros((4800, 2)), 48000)
        src = str(tmp_path / "sound.wav")
    if case == "folder":
        (tmp_path / "clip.mp4").mkdir()
        src = str(tmp_path / "clip.mp4")
    if case in ("prompt id", "unknown id", "twice", "library", "label unknown id"):
        save_project(Project(analysis=truth), tmp_path / "p.json")
        tail += ["--project", str(tmp_path / "p.json")]
    code, stdout, err = _run(["render", src, "-o", str(out), *tail], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], err
    if case == "existing outdir":
        assert [p.name for p in out.iterdir()] == ["keep.txt"]
    else:
        assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("."))  == []


def test_force_replaces_outdir(clip: tuple[Path, Analysis], tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    """--force replaces a previous render (a folder of anyone's files is refused: test_outdir)."""
    video, truth = clip
    save_project(Project(analysis=truth), tmp_path / "p.json")
    out = tmp_path / "out"
    code, _, err = _run(["render", str(video), "-o", str(out), "--seed", "1"], capsys)
    assert code == 0, err
    first = (out / "project.json").read_text()
    code, _, err = _run(["render", str(video), "-o", str(out), "--project",
                         str(tmp_path / "p.json"), "--force"], capsys)
    assert code == 0, err
    assert (out / "project.json").read_text() != first and (out / "mix.wav").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "p.json"]


def test_corrupt_library_file_is_skipped_with_a_warning(clip: tuple[Path, Analysis],
                                                        tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    video, truth = clip
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "broken_metal_clang.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt garbage")
    t = np.arange(4800) / 48000
    sf.write(lib / "metal_clang_hit.wav", np.sin(2 * np.pi * 700 * t) * np.exp(-t / 0.02),
             48000)
    save_project(Project(analysis=truth), tmp_path / "p.json")
    out = tmp_path / "out"
    code, _, err = _run(["render", str(video), "-o", str(out), "--project",
                         str(tmp_path / "p.json"), "--library", str(lib),
                         "--prompt", f"{truth.objects[0].id}=metal clang"], capsys)
    assert code == 0, err
    assert "warning:" in err and "broken_metal_clang" in err
    assert (out / "mix.wav").is_file()
    doc = json.loads((out / "project.json").read_text())
    assert str(lib) in doc["render"]["libraries"]


def test_subprocess_contract_for_a_missing_video(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "app", "render", str(tmp_path / "x.mp4"), "-o",
                           str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert proc.stderr.startswith("error:") and not (tmp_path / "out").exists()


def test_cancelled_export_leaves_nothing(clip: tuple[Path, Analysis], tmp_path: Path) -> None:
    from app.export import export_render
    from model.foley.render import render_scene
    from video.base.errors import Cancelled

    _, truth = clip
    sounds = [ObjectSound(id=t.id) for t in truth.objects]
    result = render_scene(truth, sounds, RenderSettings())

    def cancel_after_first_stem(fraction: float, message: str) -> None:
        if message.startswith("stem"):
            raise Cancelled()

    out = tmp_path / "out"
    with pytest.raises(Cancelled):
        export_render(out, Project(analysis=truth, objects=sounds), result,
                      progress=cancel_after_first_stem)
    assert list(tmp_path.iterdir()) == []
