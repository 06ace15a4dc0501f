"""audio.decode: any audio file -> float32 (channels, n) at 48 kHz, checked on generated sines."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audio.decode import load_audio, probe_audio, resample
from video.base.errors import InputError
from video.base.timebase import SAMPLE_RATE
from video.encode import write_video

LEFT_HZ = 1000.0
RIGHT_HZ = 1500.0
DURATION_S = 1.0
AMPLITUDE = 0.5


def sine_block(rate: int, channels: int, *, seconds: float = DURATION_S) -> np.ndarray:
    """(n, channels) float32: 1 kHz on the left/only channel, 1.5 kHz on the right."""
    t = np.arange(int(round(seconds * rate))) / rate
    cols = [AMPLITUDE * np.sin(2 * np.pi * LEFT_HZ * t)]
    if channels == 2:
        cols.append(AMPLITUDE * np.sin(2 * np.pi * RIGHT_HZ * t))
    return np.stack(cols, axis=1).astype(np.float32)


def peak_frequency(signal: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    """Dominant frequency by FFT with parabolic peak interpolation (well under a bin)."""
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(signal.size)))
    k = int(np.argmax(spectrum[1:-1])) + 1
    a, b, c = np.log(spectrum[k - 1 : k + 2] + 1e-12)
    offset = 0.5 * (a - c) / (a - 2 * b + c)
    return (k + offset) * rate / signal.size


def steady_rms(signal: np.ndarray) -> float:
    """RMS of the middle half (codec priming and filter edges excluded)."""
    n = signal.size
    return float(np.sqrt(np.mean(signal[n // 4 : 3 * n // 4] ** 2)))


FORMATS = {"wav": ("WAV", "PCM_16"), "flac": ("FLAC", "PCM_24"), "ogg": ("OGG", "VORBIS"),
           "mp3": ("MP3", "MPEG_LAYER_III")}


@pytest.mark.parametrize("ext", ["wav", "flac", "ogg", "mp3"])
@pytest.mark.parametrize("rate", [44_100, 22_050, 48_000])
@pytest.mark.parametrize("channels", [1, 2])
def test_sine_keeps_frequency_length_and_level(tmp_path: Path, ext: str, rate: int,
                                               channels: int) -> None:
    fmt, subtype = FORMATS[ext]
    path = tmp_path / f"sine_{rate}_{channels}.{ext}"
    sf.write(str(path), sine_block(rate, channels), rate, format=fmt, subtype=subtype)

    audio = load_audio(path)

    assert audio.dtype == np.float32
    assert audio.shape[0] == channels
    expected_n = DURATION_S * SAMPLE_RATE
    # lossless formats keep the exact length; lossy codecs may pad by up to one codec frame
    slack = 1 if ext in ("wav", "flac") else 0.06 * SAMPLE_RATE
    assert abs(audio.shape[1] - expected_n) <= slack
    for channel, hz in zip(audio, (LEFT_HZ, RIGHT_HZ), strict=False):
        assert peak_frequency(channel) == pytest.approx(hz, abs=1.0)
        assert steady_rms(channel) == pytest.approx(AMPLITUDE / np.sqrt(2), rel=0.08)


@pytest.mark.parametrize("rate", [44_100, 22_050])
def test_mono_option_averages_channels(tmp_path: Path, rate: int) -> None:
    path = tmp_path / "stereo.wav"
    sf.write(str(path), sine_block(rate, 2), rate, subtype="FLOAT")
    stereo = load_audio(path)
    mono = load_audio(path, mono=True)
    assert mono.shape == (1, stereo.shape[1])
    np.testing.assert_allclose(mono[0], stereo.mean(axis=0), atol=1e-6)


def test_pyav_fallback_decodes_aac(tmp_path: Path) -> None:
    import av

    path = tmp_path / "tone.m4a"
    block = sine_block(44_100, 2).T.copy()
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=44_100)
        stream.layout = "stereo"  # type: ignore[union-attr]
        frame = av.AudioFrame.from_ndarray(block, format="fltp", layout="stereo")
        frame.sample_rate = 44_100
        for packet in stream.encode(frame):  # type: ignore[union-attr]
            container.mux(packet)
        for packet in stream.encode(None):  # type: ignore[union-attr]
            container.mux(packet)

    audio = load_audio(path)
    info = probe_audio(path)

    assert audio.shape[0] == 2 and info.channels == 2 and info.sample_rate == 44_100
    assert abs(audio.shape[1] - SAMPLE_RATE) < 0.06 * SAMPLE_RATE
    assert peak_frequency(audio[0]) == pytest.approx(LEFT_HZ, abs=1.0)
    assert peak_frequency(audio[1]) == pytest.approx(RIGHT_HZ, abs=1.0)


def test_probe_reports_native_rate_and_length(tmp_path: Path) -> None:
    path = tmp_path / "probe.flac"
    sf.write(str(path), sine_block(22_050, 2, seconds=0.5), 22_050)
    info = probe_audio(path)
    assert (info.sample_rate, info.channels, info.frames) == (22_050, 2, 11_025)
    assert info.duration == pytest.approx(0.5)


@pytest.mark.parametrize(("from_rate", "n_in", "n_out"), [
    (44_100, 44_100, 48_000), (22_050, 2_205, 4_800), (8_000, 800, 4_800), (48_000, 123, 123),
    (96_000, 9_600, 4_800),
])
def test_resample_length_is_exact_ratio(from_rate: int, n_in: int, n_out: int) -> None:
    out = resample(np.zeros((2, n_in), np.float32), from_rate=from_rate)
    assert out.shape == (2, n_out) and out.dtype == np.float32
    assert Fraction(n_out, n_in) == Fraction(SAMPLE_RATE, from_rate)


@pytest.mark.parametrize("bad_rate", [0, -44_100])
def test_resample_rejects_non_positive_rates(bad_rate: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        resample(np.zeros((1, 10), np.float32), from_rate=bad_rate)


def _garbage(path: Path) -> None:
    path.write_bytes(np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8).tobytes())


def _truncated_wav(path: Path) -> None:
    sf.write(str(path), sine_block(48_000, 1), 48_000)
    path.write_bytes(path.read_bytes()[:30])


def _text(path: Path) -> None:
    path.write_text("this is not audio\n" * 20)


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _silent_video(path: Path) -> None:
    frames = [np.full((32, 32, 3), v, np.uint8) for v in (0, 128, 255)]
    write_video(path, frames, Fraction(25))


@pytest.mark.parametrize(("name", "make", "message"), [
    ("noise.wav", _garbage, "cannot decode"),
    ("cut.wav", _truncated_wav, "cannot decode"),
    ("notes.ogg", _text, "cannot decode"),
    ("empty.flac", _empty, "no samples"),
    ("picture.mp4", _silent_video, "no audio stream"),
])
def test_corrupt_or_non_audio_raises_input_error(tmp_path: Path, name: str, make, message: str) -> None:
    path = tmp_path / name
    make(path)
    with pytest.raises(InputError, match=message):
        load_audio(path)


def test_missing_file_and_folder_raise_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_audio(tmp_path / "nope.wav")
    with pytest.raises(InputError, match="folder"):
        load_audio(tmp_path)


def test_zero_length_wav_raises_input_error(tmp_path: Path) -> None:
    path = tmp_path / "zero.wav"
    sf.write(str(path), np.zeros((0, 1), np.float32), 48_000)
    with pytest.raises(InputError, match="no samples"):
        load_audio(path)
