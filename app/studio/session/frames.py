"""Preview frames for the video view, decoded on their own thread.

The render loop asks for "the frame at the playhead" every UI frame and must never wait for a
decoder: `FrameFeed.request(index)` only records the wish, a decode thread produces the picture
(downscaled to the preview size) with `video.reader.VideoReader.frame`, which decodes forward
instead of seeking when playback moves on by a few frames, and `latest()` hands back the newest
finished picture. Requests made while the decoder is busy collapse into the last one, so
scrubbing never builds a backlog. Even opening the file (which probes every packet) happens on
that thread: `ready` says when `info` and `size` are known.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from video.base.errors import InputError
from video.base.tracks import VideoInfo
from video.reader import VideoReader, preview_size

PREVIEW_MAX_SIDE = 640


@dataclass(frozen=True)
class PreviewFrame:
    """One decoded preview picture: its frame index and RGB uint8 image (h, w, 3)."""

    index: int
    image: np.ndarray


class FrameFeed:
    """A decode thread serving the newest requested preview frame of one video."""

    def __init__(self, path: str | Path, *, max_side: int = PREVIEW_MAX_SIDE) -> None:
        self.path = str(path)
        self.max_side = max_side
        self.info: VideoInfo | None = None
        self.size = (0, 0)
        self.error = ""
        self._reader: VideoReader | None = None
        self._cond = threading.Condition()
        self._wanted: int | None = None
        self._latest: PreviewFrame | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="frame-feed", daemon=True)
        self._thread.start()

    @property
    def ready(self) -> bool:
        """True once the file is open (`info` and `size` are set)."""
        return self.info is not None

    def request(self, index: int) -> None:
        """Ask for frame `index` (clamped to the video); newer requests replace older ones."""
        with self._cond:
            if self.info is not None:
                index = int(min(max(index, 0), max(self.info.frames - 1, 0)))
            if self._latest is not None and self._latest.index == index:
                return
            self._wanted = index
            self._cond.notify()

    def latest(self) -> PreviewFrame | None:
        """The newest decoded picture (None before the first one)."""
        with self._cond:
            return self._latest

    def wait_for(self, index: int, timeout: float = 5.0) -> PreviewFrame | None:
        """Request a frame and block until it is decoded (scripts and tests; never the UI)."""
        self.request(index)
        with self._cond:
            self._cond.wait_for(lambda: self._closed or self.error != "" or (
                self._latest is not None and self._latest.index == index), timeout)
            latest = self._latest
        return latest if latest is not None and latest.index == index else None

    def close(self) -> None:
        """Stop the decode thread and release the decoder."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(2.0)

    def _run(self) -> None:
        try:
            reader = VideoReader(self.path)
        except InputError as exc:
            with self._cond:
                self.error = str(exc)
                self._cond.notify_all()
            return
        with self._cond:
            self._reader = reader
            self.info = reader.info
            self.size = preview_size(reader.info.width, reader.info.height, self.max_side)
        try:
            self._loop(reader)
        finally:
            reader.close()

    def _loop(self, reader: VideoReader) -> None:
        assert self.info is not None
        last = max(self.info.frames - 1, 0)
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._closed or self._wanted is not None)
                if self._closed:
                    return
                index = min(max(self._wanted or 0, 0), last)
                self._wanted = None
            try:
                image = reader.frame(index, max_side=self.max_side)
            except InputError as exc:
                with self._cond:
                    self.error = str(exc)
                    self._cond.notify_all()
                continue
            with self._cond:
                self._latest = PreviewFrame(index, image)
                self._cond.notify_all()
