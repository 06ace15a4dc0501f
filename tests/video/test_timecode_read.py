"""The start timecode read from containers written with PyAV (the `timecode` tag as ffmpeg
writes it: on the video stream, the tmcd data track, or Matroska's TIMECODE tag)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from video.base.errors import VideoError
from video.timecode import read_start_timecode

DF30 = Fraction(30000, 1001)


def write_tagged(path: Path, fps: Fraction, tag: str | None) -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        if tag is not None:
            stream.metadata["timecode"] = tag
        for i in range(5):
            image = np.full((48, 64, 3), 40 * i, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


@pytest.mark.parametrize("ext, fps, tag, frame, drop", [
    ("mp4", DF30, "01:00:00;00", 107_892, True),
    ("mov", DF30, "00:10:00;00", 17_982, True),
    ("mkv", DF30, "01:00:00;00", 107_892, True),
    ("mov", Fraction(25), "10:00:00:00", 900_000, False),
    ("mp4", Fraction(24000, 1001), "00:59:59:23", 86_399, False),
    ("mp4", Fraction(25), None, 0, False),
])
def test_start_timecode_from_the_container(ext: str, fps: Fraction, tag: str | None,
                                           frame: int, drop: bool, tmp_path: Path) -> None:
    path = tmp_path / f"clip.{ext}"
    write_tagged(path, fps, tag)
    tc = read_start_timecode(path, fps)
    assert (tc.frame, tc.drop, tc.rate) == (frame, drop, fps)
    assert tc.label == (tag or "00:00:00:00")


def test_unreadable_file_is_a_video_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all")
    with pytest.raises(VideoError, match="timecode"):
        read_start_timecode(bad, DF30)
