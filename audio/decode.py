"""Decode any audio file to the project's format: float32 (channels, samples) at 48 kHz.

soundfile (libsndfile) reads WAV/FLAC/OGG and, with libsndfile >= 1.1, MP3; anything it cannot
read (AAC, M4A, Opus in odd containers, video files with sound...) goes through PyAV/FFmpeg.
Sample-rate conversion uses a polyphase filter with the exact rational ratio, so 44.1 kHz ->
48 kHz is 160/147 with no drift and no interpolation artefacts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from video.base.errors import InputError
from video.base.timebase import SAMPLE_RATE


@dataclass(frozen=True)
class AudioInfo:
    """What a file holds before decoding: its own rate, channel count and length."""

    sample_rate: int
    channels: int
    frames: int

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.frames / self.sample_rate if self.sample_rate else 0.0


def resample(audio: np.ndarray, *, from_rate: int, to_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Resample (channels, n) float audio by the exact ratio to_rate/from_rate (polyphase FIR).

    The output has round(n * to_rate / from_rate) samples per channel.
    """
    if from_rate <= 0 or to_rate <= 0:
        raise ValueError(f"sample rates must be positive, got {from_rate} -> {to_rate}")
    data = np.asarray(audio, dtype=np.float32)
    if from_rate == to_rate:
        return np.ascontiguousarray(data)
    ratio = Fraction(to_rate, from_rate)
    out = resample_poly(data, ratio.numerator, ratio.denominator, axis=-1)
    return np.ascontiguousarray(out, dtype=np.float32)


def probe_audio(path: str | os.PathLike[str]) -> AudioInfo:
    """Rate, channels and frame count of an audio file without decoding it all."""
    source = _existing_file(path)
    try:
        info = sf.info(str(source))
        return AudioInfo(int(info.samplerate), int(info.channels), int(info.frames))
    except (sf.LibsndfileError, RuntimeError, TypeError):
        pass
    rate, data = _decode_with_pyav(source)
    return AudioInfo(rate, int(data.shape[0]), int(data.shape[1]))


def load_audio(path: str | os.PathLike[str], *, mono: bool = False) -> np.ndarray:
    """Decode `path` to float32 (channels, samples) at 48 kHz; mono=True averages the channels.

    Raises InputError when the file is missing, not audio, corrupt, or holds no samples.
    """
    source = _existing_file(path)
    rate, data = _decode_native(source)
    if data.shape[1] == 0:
        raise InputError(f"audio file has no samples: {source}")
    if not np.all(np.isfinite(data)):
        raise InputError(f"audio file holds invalid (NaN/inf) samples: {source}")
    if mono and data.shape[0] > 1:
        data = data.mean(axis=0, keepdims=True, dtype=np.float32)
    return resample(data, from_rate=rate)


def _existing_file(path: str | os.PathLike[str]) -> Path:
    """The path as a Path, or InputError if it is not a readable regular file."""
    source = Path(path)
    if not source.exists():
        raise InputError(f"audio file not found: {source}")
    if not source.is_file():
        raise InputError(f"not an audio file (a folder or device): {source}")
    return source


def _decode_native(source: Path) -> tuple[int, np.ndarray]:
    """(sample rate, float32 (channels, n)) at the file's own rate: soundfile first, then PyAV."""
    try:
        data, rate = sf.read(str(source), dtype="float32", always_2d=True)
        return int(rate), np.ascontiguousarray(data.T)
    except (sf.LibsndfileError, RuntimeError, TypeError):
        return _decode_with_pyav(source)


def _decode_with_pyav(source: Path) -> tuple[int, np.ndarray]:
    """Decode the first audio stream with FFmpeg; InputError if there is none or it is corrupt."""
    import av  # deferred: only needed for formats libsndfile does not read

    try:
        with av.open(str(source)) as container:
            streams = container.streams.audio
            if not streams:
                raise InputError(f"not an audio file (no audio stream): {source}")
            stream = streams[0]
            resampler = av.AudioResampler(format="fltp", layout=None, rate=None)
            chunks: list[np.ndarray] = []
            rate = 0
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    rate = int(out.sample_rate)
                    chunks.append(out.to_ndarray())
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray())
    except InputError:
        raise
    except (av.FFmpegError, ValueError, OSError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InputError(f"cannot decode audio file {source}: {reason}") from exc
    if not chunks or rate <= 0:
        raise InputError(f"audio file has no samples: {source}")
    return rate, np.ascontiguousarray(np.concatenate(chunks, axis=1), dtype=np.float32)
