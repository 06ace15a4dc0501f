"""Broadcast WAV export: audio round trip through soundfile, bext fields through an independent
RIFF walk, rounding and clipping, atomic writes."""

from __future__ import annotations

import struct
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audio.bwf import read_bext, to_pcm24, write_bwf, write_bwf_blocks
from video.base.errors import InputError

LSB = 1.0 / (1 << 23)


def riff_chunks(path: Path) -> list[tuple[bytes, bytes]]:
    """Every chunk of a RIFF file in order, walked by hand (independent of audio.bwf)."""
    blob = path.read_bytes()
    assert blob[:4] == b"RIFF" and blob[8:12] == b"WAVE"
    assert struct.unpack("<I", blob[4:8])[0] == len(blob) - 8
    out, pos = [], 12
    while pos < len(blob):
        tag, size = blob[pos:pos + 4], struct.unpack("<I", blob[pos + 4:pos + 8])[0]
        out.append((tag, blob[pos + 8:pos + 8 + size]))
        pos += 8 + size + (size & 1)
    assert pos == len(blob)
    return out


@pytest.fixture
def stereo(rng: np.random.Generator) -> np.ndarray:
    return np.clip(0.5 * rng.standard_normal((2, 48_000)), -0.99, 0.99).astype(np.float32)


def test_audio_round_trips_through_soundfile(tmp_path: Path, stereo: np.ndarray) -> None:
    path = tmp_path / "mix.wav"
    write_bwf(path, stereo, description="mix")
    info = sf.info(str(path))
    assert (info.samplerate, info.channels, info.subtype, info.frames) == (48_000, 2, "PCM_24",
                                                                           48_000)
    back, rate = sf.read(str(path), dtype="float64", always_2d=True)
    assert rate == 48_000
    assert np.max(np.abs(back.T - stereo)) <= 0.5 * LSB + 1e-12
    assert np.max(np.abs(back.T - stereo)) > 0.0                   # really quantized


def test_bext_fields_by_an_independent_walk(tmp_path: Path, stereo: np.ndarray) -> None:
    path = tmp_path / "stem.wav"
    when = datetime(2026, 11, 27, 5, 6, 7)
    write_bwf(path, stereo, description="object 3: footsteps on gravel", originator="SFS",
              originator_reference="SFS-000123", time_reference=48_000 * 3600,
              coding_history="A=PCM,F=48000,W=24,M=stereo,T=test", loudness_lufs=-23.04,
              max_true_peak_db=-1.2, origination=when, umid=b"\x01\x02")
    chunks = riff_chunks(path)
    tags = [t for t, _ in chunks]
    assert tags.index(b"bext") < tags.index(b"data") and tags.index(b"fmt ") < tags.index(b"data")
    bext = dict(chunks)[b"bext"]
    assert bext[:29] == b"object 3: footsteps on gravel" and bext[29:256] == b"\0" * 227
    assert bext[256:259] == b"SFS" and bext[288:298] == b"SFS-000123"
    assert bext[320:330] == b"2026-11-27" and bext[330:338] == b"05:06:07"
    assert struct.unpack("<Q", bext[338:346])[0] == 48_000 * 3600
    assert struct.unpack("<H", bext[346:348])[0] == 2
    assert bext[348:350] == b"\x01\x02"
    loud = struct.unpack("<5h", bext[412:422])
    assert loud == (-2304, 0x7FFF, -120, 0x7FFF, 0x7FFF)
    assert bext[422:602] == b"\0" * 180
    assert bext[602:] == b"A=PCM,F=48000,W=24,M=stereo,T=test\r\n"
    fmt = struct.unpack("<HHIIHH", dict(chunks)[b"fmt "])
    assert fmt == (1, 2, 48_000, 48_000 * 6, 6, 24)
    assert len(dict(chunks)[b"data"]) == 48_000 * 6

    fields = read_bext(path)
    assert fields["description"] == "object 3: footsteps on gravel"
    assert fields["originator"] == "SFS" and fields["originator_reference"] == "SFS-000123"
    assert fields["origination_date"] == "2026-11-27" and fields["origination_time"] == "05:06:07"
    assert fields["time_reference"] == 48_000 * 3600 and fields["version"] == 2
    assert fields["loudness_value"] == pytest.approx(-23.04)
    assert fields["max_true_peak_level"] == pytest.approx(-1.2)
    assert fields["loudness_range"] is None
    assert fields["umid"] == "0102"
    assert fields["coding_history"] == "A=PCM,F=48000,W=24,M=stereo,T=test\r\n"


@pytest.mark.parametrize(("value", "expected"), [
    (0.0, 0), (LSB, 1), (-LSB, -1), (0.49 * LSB, 0), (0.51 * LSB, 1), (-0.51 * LSB, -1),
    (0.5, 1 << 22), (-1.0, -(1 << 23)), (1.0, (1 << 23) - 1), (1.7, (1 << 23) - 1),
    (-3.0, -(1 << 23)), (1.0 - LSB, (1 << 23) - 1),
])
def test_24_bit_rounding_and_clipping(value: float, expected: int) -> None:
    raw = to_pcm24(np.array([[value]]))
    assert len(raw) == 3
    assert int.from_bytes(raw, "little", signed=True) == expected


def test_channel_interleaving_and_clipping_read_back(tmp_path: Path) -> None:
    audio = np.array([[0.25, -1.5, 2.0], [-0.25, 0.125, -0.0]], np.float32)
    write_bwf(tmp_path / "c.wav", audio, description="")
    back, _ = sf.read(str(tmp_path / "c.wav"), dtype="float64", always_2d=True)
    np.testing.assert_allclose(back.T, [[0.25, -1.0, 1.0 - LSB], [-0.25, 0.125, 0.0]], atol=0)


def test_defaults_long_and_odd_text(tmp_path: Path, stereo: np.ndarray) -> None:
    path = tmp_path / "d.wav"
    write_bwf(path, stereo[:, :101], description="é" + "x" * 300, coding_history="odd")
    fields = read_bext(path)
    assert fields["description"] == "?" + "x" * 255               # ASCII, cut to 256 bytes
    assert fields["coding_history"] == "odd\r\n"
    assert fields["originator"] == "StereoFoley Studio"
    assert fields["loudness_value"] is None and fields["time_reference"] == 0
    assert sf.info(str(path)).frames == 101
    write_bwf(path, stereo[:1, :7], description="mono")          # odd data size is padded
    assert read_bext(path)["coding_history"] == "A=PCM,F=48000,W=24,M=mono,T=StereoFoley Studio\r\n"
    assert [t for t, _ in riff_chunks(path)][-1] == b"data"
    assert sf.read(str(path))[0].shape == (7,)


@pytest.mark.parametrize(("audio", "kwargs", "message"), [
    (np.zeros((3, 10)), {}, "channels"),
    (np.zeros(10), {}, "channels"),
    (np.array([[0.0, np.nan], [0.0, 0.0]]), {}, "NaN"),
    (np.zeros((2, 10)), {"time_reference": -1}, "time reference"),
    (np.zeros((2, 10)), {"sample_rate": 0}, "sample rate"),
    (np.zeros((2, 10)), {"umid": b"x" * 65}, "UMID"),
])
def test_bad_input_leaves_nothing_behind(tmp_path: Path, audio: np.ndarray,
                                         kwargs: dict[str, object], message: str) -> None:
    path = tmp_path / "out.wav"
    path.write_bytes(b"previous good file")
    with pytest.raises(ValueError, match=message):
        write_bwf(path, audio, description="x", **kwargs)  # type: ignore[arg-type]
    assert path.read_bytes() == b"previous good file"
    assert [p.name for p in tmp_path.iterdir()] == ["out.wav"]


def test_failure_mid_write_removes_the_temp_file(tmp_path: Path, stereo: np.ndarray,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_replace(src: str, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("audio.bwf.os.replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_bwf(tmp_path / "x.wav", stereo, description="x")
    assert list(tmp_path.iterdir()) == []


def test_unwritable_and_unreadable_paths(tmp_path: Path, stereo: np.ndarray) -> None:
    with pytest.raises(InputError, match="cannot write"):
        write_bwf(tmp_path / "missing" / "x.wav", stereo, description="x")
    with pytest.raises(InputError, match="cannot read"):
        read_bext(tmp_path / "nope.wav")
    (tmp_path / "text.wav").write_text("hello")
    with pytest.raises(InputError, match="RIFF"):
        read_bext(tmp_path / "text.wav")
    sf.write(str(tmp_path / "plain.wav"), stereo.T, 48_000, subtype="PCM_16")
    with pytest.raises(InputError, match="bext"):
        read_bext(tmp_path / "plain.wav")


@pytest.mark.parametrize(("dtype", "frames"), [
    (np.float32, 65_536 + 3), (np.float64, 65_536 * 2 + 1), (np.float32, 5), (np.float64, 4),
])
def test_long_stems_read_back_sample_exact(tmp_path: Path, dtype: type, frames: int) -> None:
    """Across the packer's chunk boundaries and for lengths that are not a multiple of 4, every
    sample reads back as the rounded, clipped 24-bit value (soundfile as an independent
    reader)."""
    rng = np.random.default_rng(7)
    audio: np.ndarray = (0.6 * rng.standard_normal((2, frames))).astype(dtype)
    path = tmp_path / "long.wav"
    write_bwf(path, audio, description="long")
    back, rate = sf.read(str(path), dtype="int32", always_2d=True)
    expected = np.clip(np.rint(audio.astype(np.float64) * 2**23), -2**23, 2**23 - 1)
    assert rate == 48_000 and back.shape == (frames, 2)
    np.testing.assert_array_equal(back.T.astype(np.int64) >> 8, expected.astype(np.int64))


FIELDS = {"description": "blocks", "originator_reference": "R1", "time_reference": 4800,
          "origination": datetime(2024, 1, 2, 3, 4, 5), "loudness_lufs": -23.0}


@pytest.mark.parametrize("frames", [1, 1000, 65_536, 70_001])
def test_blocks_write_the_same_bytes_as_the_whole(tmp_path: Path, stereo: np.ndarray,
                                                  frames: int) -> None:
    write_bwf(tmp_path / "whole.wav", stereo, **FIELDS)
    blocks = (stereo[:, a:a + frames] for a in range(0, stereo.shape[1], frames))
    write_bwf_blocks(tmp_path / "blocks.wav", blocks, channels=2, n_samples=stereo.shape[1],
                     **FIELDS)
    assert (tmp_path / "blocks.wav").read_bytes() == (tmp_path / "whole.wav").read_bytes()


@pytest.mark.parametrize(("n_samples", "poison", "message"), [
    (48_001, False, "48000 frames given, 48001 announced"),
    (47_999, False, "more than the 47999 frames"),
    (48_000, True, "NaN or inf"),
])
def test_blocks_that_do_not_add_up_leave_nothing(tmp_path: Path, stereo: np.ndarray,
                                                 n_samples: int, poison: bool,
                                                 message: str) -> None:
    data = stereo.copy()
    if poison:
        data[1, 30_000] = np.nan
    blocks = (data[:, a:a + 10_000] for a in range(0, data.shape[1], 10_000))
    with pytest.raises(ValueError, match=message):
        write_bwf_blocks(tmp_path / "x.wav", blocks, channels=2, n_samples=n_samples, **FIELDS)
    assert list(tmp_path.iterdir()) == []
