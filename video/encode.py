"""Writing video files with PyAV (synthetic test clips, the demo clip, review copies).

Always sets frame.pts (PyAV requires it for correct timing) and keeps GOPs short so seeks in
generated clips are fast.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import numpy as np


def write_video(path: str | os.PathLike[str], frames: Iterable[np.ndarray], fps: Fraction, *,
                codec: str = "libx264", gop: int = 12, crf: int = 20,
                pixel_format: str = "yuv420p") -> int:
    """Encode RGB uint8 frames (H, W, 3) at a constant `fps`; returns the number of frames written.

    Width and height must be even for yuv420p. The container is chosen from the file extension.
    """
    import av  # PyAV is a declared dependency; imported here to keep module import cheap

    target = Path(path)
    count = 0
    with av.open(str(target), mode="w") as container:
        stream = container.add_stream(codec, rate=fps)
        assert isinstance(stream, av.VideoStream)
        stream.pix_fmt = pixel_format
        stream.codec_context.time_base = Fraction(1) / fps
        stream.codec_context.gop_size = gop
        if codec == "libx264":
            stream.codec_context.options = {"crf": str(crf), "preset": "veryfast",
                                            "bf": "0", "keyint_min": str(gop)}
        opened = False
        for image in frames:
            if not opened:
                stream.height, stream.width = int(image.shape[0]), int(image.shape[1])
                opened = True
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image, dtype=np.uint8),
                                               format="rgb24")
            frame.pts = count
            frame.time_base = Fraction(1) / fps
            for packet in stream.encode(frame):
                container.mux(packet)
            count += 1
        for packet in stream.encode(None):
            container.mux(packet)
    return count
