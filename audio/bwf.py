"""Broadcast WAV (EBU Tech 3285) export: 24-bit PCM with a 'bext' chunk, written atomically.

Layout: RIFF/WAVE, then 'bext' (description, originator, reference, date/time, sample-accurate
time reference, version 2, UMID, loudness fields, coding history), 'fmt ' (PCM), 'data'. The
file is written next to its destination under a temporary name and renamed into place, so a
crash or a cancel never leaves a half-written stem where a DAW might pick it up.
"""

from __future__ import annotations

import itertools
import os
import struct
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from video.base.atomic import atomic_path
from video.base.errors import InputError

BEXT_VERSION = 2
_FIXED = struct.Struct("<256s32s32s10s8sQH64s5h180s")  # 602 bytes, EBU Tech 3285 v2
_NOT_SET = 0x7FFF  # loudness field not measured
_FULL_SCALE = 1 << 23
_MAX_RIFF = 0xFFFFFFFF


def _ascii(text: str, size: int) -> bytes:
    """Fixed-size ASCII field: non-ASCII characters become '?', cut to size, NUL padded."""
    return text.encode("ascii", errors="replace")[:size].ljust(size, b"\0")


def _loudness_field(value: float | None) -> int:
    if value is None or not np.isfinite(value):
        return _NOT_SET
    return int(np.clip(round(value * 100.0), -32768, 32766))


def to_pcm24(audio: np.ndarray) -> bytes:
    """Interleaved little-endian 24-bit PCM from (channels, n) float audio in [-1, 1).

    Rounds to the nearest step of 2^-23 and clips to [-1, 1 - 2^-23], so a value reads back
    (value / 2^23) within half an LSB unless it was clipped.
    """
    data = np.asarray(audio)
    return b"".join(bytes(part) for part in _pcm24_chunks(data))


def _pcm24_chunks(audio: np.ndarray, frames: int = 1 << 16) -> Iterator[memoryview]:
    """`to_pcm24` in cache-sized pieces of `frames` frames (byte views), so a long
    stem is packed without full-length temporaries and written as it is packed.

    float32 audio is scaled and rounded in float32 (x·2^23 and rint are exact there), anything
    else in float64: the same integers either way, at half the memory traffic for float32.
    """
    data = np.asarray(audio)
    dtype = np.float32 if data.dtype == np.float32 else np.float64
    channels, n = data.shape
    for start in range(0, n, frames):
        block = data[:, start:start + frames]
        scaled = np.empty((block.shape[1], channels), dtype=dtype)
        np.multiply(block.T, dtype(_FULL_SCALE), out=scaled, casting="unsafe")
        np.rint(scaled, out=scaled)
        np.clip(scaled, -_FULL_SCALE, _FULL_SCALE - 1, out=scaled)
        yield _pack24(scaled.astype("<i4").reshape(-1)).data


def _pack24(ints: np.ndarray) -> np.ndarray:
    """Little-endian 3-byte packing of int32 samples: every 4 samples (16 bytes) become 3
    uint32 words (12 bytes) by shifts and masks, whole-array operations instead of a byte-wise
    gather."""
    count = ints.size
    words = np.zeros(-(-count // 4) * 4, dtype="<u4")
    words[:count] = ints.view("<u4")
    quads = words.reshape(-1, 4)
    out = np.empty((quads.shape[0], 3), dtype="<u4")
    out[:, 0] = (quads[:, 0] & 0xFFFFFF) | (quads[:, 1] << 24)
    out[:, 1] = ((quads[:, 1] >> 8) & 0xFFFF) | (quads[:, 2] << 16)
    out[:, 2] = ((quads[:, 2] >> 16) & 0xFF) | (quads[:, 3] << 8)
    return out.view(np.uint8).reshape(-1)[: 3 * count]


def _bext_payload(*, description: str, originator: str, originator_reference: str,
                  origination: datetime, time_reference: int, umid: bytes,
                  loudness: tuple[float | None, ...], coding_history: str) -> bytes:
    fixed = _FIXED.pack(
        _ascii(description, 256), _ascii(originator, 32), _ascii(originator_reference, 32),
        origination.strftime("%Y-%m-%d").encode("ascii"),
        origination.strftime("%H:%M:%S").encode("ascii"),
        time_reference, BEXT_VERSION, umid.ljust(64, b"\0"),
        *(_loudness_field(v) for v in loudness), b"\0" * 180)
    history = coding_history.replace("\r\n", "\n").replace("\n", "\r\n")
    if history and not history.endswith("\r\n"):
        history += "\r\n"
    return fixed + history.encode("ascii", errors="replace")


def _chunk(tag: bytes, payload: bytes) -> bytes:
    pad = b"\0" if len(payload) % 2 else b""
    return tag + struct.pack("<I", len(payload)) + payload + pad


def _check_audio(audio: np.ndarray) -> np.ndarray:
    data = np.asarray(audio)
    if data.ndim != 2 or data.shape[0] not in (1, 2):
        raise ValueError(f"BWF export needs (channels, n) audio with 1 or 2 channels, "
                         f"got shape {data.shape}")
    return data   # finiteness is checked as it is packed (_packed_blocks)


def write_bwf(path: str | os.PathLike[str], audio: np.ndarray, *, sample_rate: int = 48_000,
              description: str, originator: str = "StereoFoley Studio",
              originator_reference: str = "", time_reference: int = 0,
              coding_history: str = "", loudness_lufs: float | None = None,
              loudness_range_lu: float | None = None, max_true_peak_db: float | None = None,
              origination: datetime | None = None, umid: bytes = b"") -> None:
    """Write (channels, n) float audio as a 24-bit PCM Broadcast WAV file with a 'bext' chunk.

    time_reference: first sample's position in samples since midnight (0 = picture start).
    coding_history: lines of the EBU coding history; empty = one line describing this file.
    loudness_*: the EBU R128 figures for the bext v2 loudness fields (unset when None).
    Written to a temporary file in the same folder, then renamed over `path`.
    """
    data = _check_audio(audio)
    write_bwf_blocks(path, [data], channels=data.shape[0], n_samples=data.shape[1],
                     sample_rate=sample_rate, description=description, originator=originator,
                     originator_reference=originator_reference, time_reference=time_reference,
                     coding_history=coding_history, loudness_lufs=loudness_lufs,
                     loudness_range_lu=loudness_range_lu, max_true_peak_db=max_true_peak_db,
                     origination=origination, umid=umid)


def write_bwf_blocks(path: str | os.PathLike[str], blocks: Iterable[np.ndarray], *,
                     channels: int, n_samples: int, sample_rate: int = 48_000,
                     description: str, originator: str = "StereoFoley Studio",
                     originator_reference: str = "", time_reference: int = 0,
                     coding_history: str = "", loudness_lufs: float | None = None,
                     loudness_range_lu: float | None = None,
                     max_true_peak_db: float | None = None,
                     origination: datetime | None = None, umid: bytes = b"") -> None:
    """`write_bwf` of audio given as consecutive (channels, k) blocks that make `n_samples`
    frames in all: each block is packed and written as it comes, so a long stem is written
    without ever being whole in memory. The bytes are those `write_bwf` writes for the blocks
    joined. Too few or too many frames, or a NaN/inf, raise ValueError and leave nothing."""
    if channels not in (1, 2):
        raise ValueError(f"BWF export needs 1 or 2 channels, got {channels}")
    if sample_rate <= 0:
        raise ValueError(f"sample rate must be positive, got {sample_rate}")
    if not 0 <= time_reference < 1 << 64:
        raise ValueError(f"time reference must fit in 64 bits, got {time_reference}")
    if len(umid) > 64:
        raise ValueError("a UMID is at most 64 bytes")
    if not coding_history:
        mode = "stereo" if channels == 2 else "mono"
        coding_history = f"A=PCM,F={sample_rate},W=24,M={mode},T={originator}"
    bext = _bext_payload(description=description, originator=originator,
                         originator_reference=originator_reference,
                         origination=origination or datetime.now(),
                         time_reference=time_reference, umid=umid,
                         loudness=(loudness_lufs, loudness_range_lu, max_true_peak_db, None, None),
                         coding_history=coding_history)
    fmt = struct.pack("<HHIIHH", 1, channels, sample_rate, sample_rate * channels * 3,
                      channels * 3, 24)
    pcm_size = n_samples * channels * 3
    body = _chunk(b"bext", bext) + _chunk(b"fmt ", fmt)
    riff_size = 4 + len(body) + 8 + pcm_size + pcm_size % 2
    if riff_size > _MAX_RIFF:
        raise ValueError("audio too long for a RIFF WAV file (over 4 GiB)")
    header = b"RIFF" + struct.pack("<I", riff_size) + b"WAVE" + body
    _atomic_write(Path(path), itertools.chain(
        [header, b"data", struct.pack("<I", pcm_size)],
        _packed_blocks(blocks, channels=channels, n_samples=n_samples),
        [b"\0" * (pcm_size % 2)]))


def _packed_blocks(blocks: Iterable[np.ndarray], *, channels: int, n_samples: int
                   ) -> Iterator[memoryview]:
    """24-bit PCM of consecutive blocks, checked as they come (shape, finite, total length)."""
    done = 0
    for block in blocks:
        data = np.asarray(block)
        if data.ndim != 2 or data.shape[0] != channels:
            raise ValueError(f"expected ({channels}, k) blocks, got shape {data.shape}")
        if not np.all(np.isfinite(data)):
            raise ValueError("audio contains NaN or inf; refusing to write it")
        done += data.shape[1]
        if done > n_samples:
            raise ValueError(f"more than the {n_samples} frames announced")
        yield from _pcm24_chunks(data)
    if done != n_samples:
        raise ValueError(f"{done} frames given, {n_samples} announced")


def _atomic_write(path: Path, parts: Iterable[bytes | memoryview]) -> None:
    """Write `parts` to a temp file beside `path`, then rename it into place."""
    if not path.parent.is_dir():
        raise InputError(f"cannot write {path}: no such folder {path.parent}")
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        for part in parts:
            handle.write(part)


def _chunks(blob: bytes) -> dict[bytes, bytes]:
    """The chunks of a RIFF/WAVE file (first of each id), by a plain walk."""
    if len(blob) < 12 or blob[:4] != b"RIFF" or blob[8:12] != b"WAVE":
        raise InputError("not a RIFF/WAVE file")
    found: dict[bytes, bytes] = {}
    pos = 12
    while pos + 8 <= len(blob):
        tag = blob[pos:pos + 4]
        (size,) = struct.unpack("<I", blob[pos + 4:pos + 8])
        found.setdefault(tag, blob[pos + 8:pos + 8 + size])
        pos += 8 + size + size % 2
    return found


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("ascii", errors="replace")


def read_bext(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The 'bext' fields of a Broadcast WAV file as a dict (loudness None when unset)."""
    try:
        blob = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    chunk = _chunks(blob).get(b"bext")
    if chunk is None or len(chunk) < _FIXED.size:
        raise InputError(f"{path} has no (complete) bext chunk")
    (desc, orig, ref, date, time, time_ref, version, umid, *loud, _) = _FIXED.unpack(
        chunk[:_FIXED.size])
    names = ("loudness_value", "loudness_range", "max_true_peak_level",
             "max_momentary_loudness", "max_short_term_loudness")
    loudness = {k: (None if v == _NOT_SET or version < 2 else v / 100.0)
                for k, v in zip(names, loud, strict=True)}
    return {"description": _text(desc), "originator": _text(orig),
            "originator_reference": _text(ref), "origination_date": _text(date),
            "origination_time": _text(time), "time_reference": int(time_ref),
            "version": int(version), "umid": umid.rstrip(b"\0").hex(), **loudness,
            "coding_history": _text(chunk[_FIXED.size:])}
