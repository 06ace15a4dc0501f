"""The start timecode of a video file: the container's `timecode` tag, read with PyAV.

Cameras and editors store it on the video stream (MOV/MP4 copy it from the tmcd track), on a
data stream (the tmcd track itself) or on the container (Matroska tags: `TIMECODE`); the first
of those that is present and parses at the video's frame rate wins. No tag: 00:00:00:00.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

from video.base.errors import VideoError
from video.base.timecode import Timecode, zero_timecode


def _tag(metadata: Mapping[str, Any]) -> str | None:
    for key, value in metadata.items():
        if key.lower() == "timecode" and isinstance(value, str) and value.strip():
            return value.strip()
    return None


def timecode_tags(container: Any) -> list[str]:
    """The container's timecode tags, most authoritative first (video streams, other streams,
    the container)."""
    streams: Iterable[Any] = sorted(container.streams, key=lambda s: s.type != "video")
    tags = [_tag(dict(stream.metadata)) for stream in streams]
    tags.append(_tag(dict(container.metadata)))
    return [t for t in tags if t is not None]


def read_start_timecode(path: str | os.PathLike[str], fps: Fraction) -> Timecode:
    """The video's start timecode at `fps` (00:00:00:00 without a tag). A file that cannot be
    opened is a VideoError; a tag that does not parse at this rate is skipped."""
    import av

    try:
        with av.open(os.fspath(path)) as container:
            tags = timecode_tags(container)
    except (av.error.FFmpegError, OSError) as exc:
        raise VideoError(f"cannot read the timecode of {path}: {exc}") from exc
    for tag in tags:
        try:
            return Timecode.parse(tag, fps)
        except ValueError:
            continue
    return zero_timecode(fps)
