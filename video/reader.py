"""Reading video with PyAV: probing, streaming frames, frame-accurate seeking, rotation, previews.

Frame indices are presentation order and frame times come from timestamps, never from counting:
`probe_video` demuxes every packet of the video stream (cheap, no decoding) to learn each frame's
pts, so frame count and duration are right even when the container header lies or says nothing,
and variable-frame-rate clips get per-frame times (`VideoInfo.frame_times`). Times are seconds from
the first frame. Pictures come out the way a player shows them: the stream's display matrix
(phone clips) is honoured, so width/height are the displayed size after rotation. Pixels are
taken as square (a non-square sample aspect ratio is not stretched), so boxes stay in the
coded pixel grid.
"""

from __future__ import annotations

import math
import os
import queue
import threading
from collections.abc import Callable, Container, Generator, Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from video.base.errors import InputError, VideoError
from video.base.tracks import VideoInfo

# Demuxers/codecs FFmpeg accepts that are not moving pictures: text art ("tty" opens any .txt)
# and single still images.
_NOT_VIDEO_FORMATS = frozenset({"tty", "image2", "lavfi"})
_NOT_VIDEO_CODECS = frozenset({"ansi", "bintext", "xbin", "idf"})
# Common broadcast/camera rates: a measured rate within 0.1 % of one of these is snapped to it.
_COMMON_RATES = tuple(Fraction(r) for r in ("24000/1001", "24", "25", "30000/1001", "30", "48",
                                             "50", "60000/1001", "60", "100", "120000/1001", "120"))
# How far ahead of the current decode position `frame()` decodes forward instead of seeking.
_FORWARD_DECODE_LIMIT = 48

_T = TypeVar("_T")
_R = TypeVar("_R")


@dataclass(frozen=True)
class VideoFrame:
    """One decoded picture: presentation index, time (s), image, and image px per source px.

    `image` is RGB uint8 (H, W, 3) or gray uint8 (H, W), in displayed orientation.
    """

    index: int
    time: float
    image: np.ndarray
    scale: float


@dataclass(frozen=True)
class _Probe:
    """What demuxing learned: the public VideoInfo plus the raw pts needed to map frames."""

    info: VideoInfo
    rotation: int
    pts: np.ndarray  # int64 (n,), ascending presentation timestamps in stream ticks
    times: np.ndarray  # float64 (n,), seconds from the first frame
    timestamps: bool  # False for raw streams whose packets carry no pts: map frames by counting
    keyframes: np.ndarray  # int64, presentation indices of keyframes (seek targets)
    declared_duration: float | None = None  # what the container says, from the first frame


def preview_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """Size (w, h) of a picture scaled so its longer side is at most `max_side`, aspect kept.

    A picture that already fits (or `max_side` None) keeps its exact size, so no resampling
    happens; a downscaled one gets even dimensions (>= 2), as video encoders require.
    """
    if width <= 0 or height <= 0:
        raise InputError(f"picture size must be positive, got {width}x{height}")
    if max_side is None or max(width, height) <= max_side:
        return width, height
    if max_side < 2:
        raise InputError(f"max_side must be at least 2, got {max_side}")
    factor = max_side / max(width, height)
    return _even(width * factor), _even(height * factor)


def _even(value: float) -> int:
    """Nearest even integer, at least 2."""
    return max(2, 2 * int(round(value / 2)))


def normalize_rotation(degrees: float) -> int:
    """A display rotation snapped to 0, 90, 180 or 270 (counter-clockwise degrees)."""
    if not math.isfinite(degrees):
        return 0
    return int(round(degrees / 90.0)) % 4 * 90


def rotation_from_tag(tag: str | None) -> int:
    """Counter-clockwise rotation from an old-style clockwise `rotate` metadata tag ("90")."""
    if not tag:
        return 0
    try:
        return normalize_rotation(-float(tag))
    except ValueError:
        return 0


def orient(image: np.ndarray, rotation: int) -> np.ndarray:
    """Turn a decoded picture counter-clockwise by `rotation` degrees (a multiple of 90)."""
    turns = normalize_rotation(rotation) // 90
    if turns == 0:
        return image
    return np.ascontiguousarray(np.rot90(image, k=turns))


def choose_fps(declared: Fraction | None, measured_interval: float | None) -> Fraction:
    """The stream's frame rate: the declared one unless the timestamps clearly disagree.

    `measured_interval` is the mean seconds between frames. A declared rate more than 1 % off
    it is a header that lies; the measured rate is then snapped to a common rate when within
    0.1 %, else kept as a Fraction with a small denominator.
    """
    if measured_interval is None or measured_interval <= 0:
        if declared is not None and declared > 0:
            return declared
        raise VideoError("cannot tell the frame rate (no timestamps and no declared rate)")
    measured = 1.0 / measured_interval
    if declared is not None and declared > 0 and abs(float(declared) / measured - 1) <= 0.01:
        return declared
    for rate in _COMMON_RATES:
        if abs(float(rate) / measured - 1) <= 0.001:
            return rate
    return Fraction(measured).limit_denominator(1001)


def uniform_times(times: np.ndarray, fps: Fraction, tick: float) -> bool:
    """True when frame times sit on the constant-rate grid i / fps (within timestamp rounding)."""
    if times.size < 2:
        return True
    grid = np.arange(times.size, dtype=np.float64) / float(fps)
    tolerance = max(tick, 0.05 / float(fps))
    return bool(np.max(np.abs(times - grid)) <= tolerance)


def _fraction(value: Any) -> Fraction | None:
    """A PyAV rational (Fraction or None) as a positive Fraction, or None."""
    if value is None:
        return None
    frac = Fraction(value)
    return frac if frac > 0 else None


def _open_container(path: Path) -> Any:
    """Open a file with PyAV, turning every failure into a one-line VideoError."""
    import av

    try:
        return av.open(str(path), mode="r", metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        raise VideoError(f"{path} is not a video (or is corrupt): "
                         f"{getattr(exc, 'strerror', None) or exc}") from exc
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise VideoError(f"{path} cannot be read as a video: {exc}") from exc


def _check_file(path: Path) -> None:
    """Clear errors for the cases FFmpeg words badly: missing, a directory, empty."""
    if not path.exists():
        raise VideoError(f"{path}: no such file")
    if path.is_dir():
        raise VideoError(f"{path} is a directory, not a video file")
    if path.stat().st_size == 0:
        raise VideoError(f"{path} is empty")


def _moving_picture(container: Any) -> Any | None:
    """The first video stream that is not an attached picture (cover art), or None."""
    import av

    for stream in container.streams.video:
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    return None


def _video_stream(container: Any, path: Path) -> Any:
    """The video stream to read, or a VideoError naming what the file is instead."""
    fmt = container.format.name
    stream = _moving_picture(container)
    if stream is None:
        kind = "an audio file" if container.streams.audio else "not a video"
        raise VideoError(f"{path} has no video stream ({kind})")
    if fmt in _NOT_VIDEO_FORMATS or fmt.endswith("_pipe") or \
            stream.codec_context.name in _NOT_VIDEO_CODECS:
        raise VideoError(f"{path} is not a video (detected {fmt}/{stream.codec_context.name})")
    return stream


@dataclass
class _Packets:
    """Per packet of the video stream, in file order: timestamp, duration, keyframe flag."""

    stamps: list[int | None]
    durations: list[int]
    keyframes: list[bool]


def _scan_packets(container: Any, stream: Any, file_size: int) -> _Packets:
    """Timestamps (pts, falling back to dts), durations and keyframe flags of every complete
    packet.

    A packet that runs past the end of the file (a truncated download) is left out, and a read
    error ends the scan: the frames before it are still usable.
    """
    import av

    found = _Packets(stamps=[], durations=[], keyframes=[])
    demux = container.demux(stream)
    while True:
        try:
            packet = next(demux)
        except StopIteration:
            break
        except (av.error.FFmpegError, OSError):
            break
        if packet.size == 0 or packet.is_discard:
            continue
        if packet.pos is not None and packet.pos >= 0 and (
                packet.pos + packet.size > file_size
                or (packet.is_corrupt and packet.pos + packet.size >= file_size)):
            continue  # cut off by the end of the file
        found.stamps.append(packet.pts if packet.pts is not None else packet.dts)
        found.durations.append(int(packet.duration or 0))
        found.keyframes.append(bool(packet.is_keyframe))
    return found


def keyframe_indices(stamps: list[int | None], keyframes: list[bool],
                     pts: np.ndarray) -> np.ndarray:
    """Ascending presentation indices of the keyframes (empty when timestamps are missing)."""
    if not all(s is not None for s in stamps):
        return np.zeros(0, dtype=np.int64)
    marked = np.asarray([s for s, key in zip(stamps, keyframes, strict=True) if key], np.int64)
    return np.unique(np.searchsorted(pts, marked))


def _presentation_pts(stamps: list[int | None], declared: Fraction | None,
                      time_base: Fraction) -> np.ndarray:
    """Ascending unique pts; streams without timestamps get a grid from the declared rate."""
    if stamps and all(s is not None for s in stamps):
        return np.unique(np.asarray(stamps, dtype=np.int64))
    rate = declared or Fraction(25)
    step = 1 / (rate * time_base)
    return np.asarray([round(i * step) for i in range(len(stamps))], dtype=np.int64)


# How many frames the probe decodes to check that decoded pictures come out with ascending
# timestamps (B-frame reordering is at most 16 deep in the codecs FFmpeg knows).
_ORDER_CHECK_FRAMES = 24


@dataclass(frozen=True)
class _DecodeCheck:
    """What decoding the first frames learned: display rotation, and whether the decoder's
    output timestamps can be trusted to place frames."""

    rotation: int
    ordered: bool


def _decode_check(path: Path) -> _DecodeCheck:
    """Decode the first frames (proving the stream decodes): display rotation, and whether
    their timestamps ascend in output order.

    They do not in files whose muxer wrote decode timestamps as presentation timestamps
    (pts == dts with B-frames) or that carry only decode timestamps: pictures then come out in
    presentation order labelled with decode-order times, so they must be placed by counting,
    as players do. PyAV reports the display matrix counter-clockwise; files from old muxers
    carry a clockwise `rotate` tag instead.
    """
    container = _open_container(path)
    stamps: list[int | None] = []
    rotation = 0
    try:
        stream = _video_stream(container, path)
        for av_frame in _decoded(container, stream):
            if not stamps:
                degrees = float(getattr(av_frame, "rotation", 0) or 0)
                rotation = (rotation_from_tag(stream.metadata.get("rotate")) if degrees == 0
                            else normalize_rotation(degrees))
            stamps.append(av_frame.pts)
            if len(stamps) >= _ORDER_CHECK_FRAMES:
                break
    finally:
        container.close()
    if not stamps:
        raise VideoError(f"{path}: no video frame could be decoded (corrupt or truncated file)")
    return _DecodeCheck(rotation=rotation, ordered=output_order_ok(stamps))


def output_order_ok(stamps: list[int | None]) -> bool:
    """True when decoded frames' timestamps are all present and strictly ascending."""
    if any(s is None for s in stamps):
        return False
    return all(b > a for a, b in zip(stamps, stamps[1:], strict=False))  # type: ignore[operator]


def container_span(container: Any, stream: Any, first_pts: int,
                   time_base: Fraction) -> float | None:
    """Seconds from the video's first frame to the end the file declares, or None.

    The video stream's own declared duration when the container has one (an audio track may
    run longer than the picture), else the whole container's.
    """
    if stream.duration is not None and stream.duration > 0:
        start = (stream.start_time or 0) * float(time_base)
        return stream.duration * float(time_base) - (first_pts * float(time_base) - start)
    if container.duration is None or container.duration <= 0:
        return None
    start = (container.start_time or 0) / 1_000_000
    return container.duration / 1_000_000 - (first_pts * float(time_base) - start)


def bounded_duration(duration: float, *, last_start: float, declared: float | None,
                     frame: float) -> float:
    """The video's duration, no longer than the file declares.

    A last frame after a long pause would otherwise last as long as the pause (or a measured
    rate would stretch the grid past the file's end): where the computed end lies more than
    half a frame past the declared one, and the declared one is after the last frame's start,
    the declared end wins.
    """
    if declared is not None and last_start < declared < duration - 0.5 * frame:
        return declared
    return duration


def truncation_warning(info: VideoInfo, declared: float | None) -> str | None:
    """A warning when the frames found end well before the duration the file declares (a file
    cut short whose index survived), else None."""
    if declared is None or not math.isfinite(declared):
        return None
    missing = declared - info.duration
    if missing <= max(0.5, 2.0 / float(info.fps)):
        return None
    return f"video ends at {info.duration:.1f} s of {declared:.1f} s (truncated?)"


def _probe_open(container: Any, path: Path) -> _Probe:
    """Probe an open container (see `probe_video`)."""
    stream = _video_stream(container, path)
    time_base = _fraction(stream.time_base) or Fraction(1, 90_000)
    declared = _fraction(stream.average_rate) or _fraction(stream.guessed_rate)
    packets = _scan_packets(container, stream, path.stat().st_size)
    stamps, durations = packets.stamps, packets.durations
    if not stamps:
        raise VideoError(f"{path}: the video stream has no frames (corrupt or truncated file)")
    check = _decode_check(path)
    pts = _presentation_pts(stamps, declared, time_base)
    times = (pts - pts[0]).astype(np.float64) * float(time_base)
    interval = float(times[-1] / (times.size - 1)) if times.size > 1 else None
    fps = choose_fps(declared, interval)
    span = container_span(container, stream, int(pts[0]), time_base)
    uniform = not check.ordered or uniform_times(times, fps, float(time_base))
    if uniform:  # constant rate: times are exactly i / fps, as video.base.timebase has them
        times = np.arange(pts.size, dtype=np.float64) / float(fps)
        duration = float(pts.size / fps)
    else:  # the last frame lasts its own duration (its packet's, else a typical interval)
        duration = float(times[-1] + last_frame_length(stamps, durations, times,
                                                       float(time_base)))
    duration = bounded_duration(duration, last_start=float(times[-1]), declared=span,
                                frame=1.0 / float(fps))
    width, height = int(stream.codec_context.width), int(stream.codec_context.height)
    if check.rotation in (90, 270):
        width, height = height, width
    info = VideoInfo(path=str(path), width=width, height=height, fps=fps, duration=duration,
                     frames=int(pts.size),
                     frame_times=None if uniform else tuple(float(t) for t in times))
    return _Probe(info=info, rotation=check.rotation, pts=pts, times=times,
                  timestamps=check.ordered and all(s is not None for s in stamps),
                  keyframes=keyframe_indices(stamps, packets.keyframes, pts),
                  declared_duration=span)


def last_frame_length(stamps: list[int | None], durations: list[int], times: np.ndarray,
                      tick: float) -> float:
    """How long the last frame lasts: its packet's duration when that is no longer than the
    longest gap between frames seen so far, else the typical (median) gap.

    Muxers often write the last sample's duration as a copy of the gap before it, so a clip
    whose last frame comes after a long pause would otherwise last that pause twice.
    """
    gaps = np.diff(times)
    typical = float(np.median(gaps)) if gaps.size else 0.0
    last = max(range(len(stamps)), key=lambda i: stamps[i] or 0)
    own = durations[last] * tick
    if own > 0 and (gaps.size == 0 or own <= max(typical * 2.0, tick)):
        return own
    return typical


def _probe(path: Path) -> _Probe:
    _check_file(path)
    container = _open_container(path)
    try:
        return _probe_open(container, path)
    finally:
        container.close()


def probe_video(path: str | os.PathLike[str]) -> VideoInfo:
    """Size (displayed), frame rate, duration and frame count of a video, from its timestamps.

    Raises VideoError for a missing, empty, unreadable or not-a-video file, or one with no
    decodable frame.
    """
    return _probe(Path(path)).info


def _decoded(container: Any, stream: Any) -> Iterator[Any]:
    """Decoded av.VideoFrames of `stream` in output order; corrupt packets are skipped."""
    import av

    demux = container.demux(stream)
    while True:
        try:
            packet = next(demux)
        except StopIteration:
            return
        except (av.error.FFmpegError, OSError):
            break
        try:
            yield from packet.decode()
        except av.error.FFmpegError:
            continue
    try:  # a read error ended demuxing: drain what the decoder still holds
        yield from stream.decode(None)
    except av.error.FFmpegError:
        return


class _FrameMap:
    """Maps decoded frames to presentation indices: by nearest known pts, or by counting."""

    def __init__(self, pts: np.ndarray, *, timestamps: bool) -> None:
        self.pts = pts
        self.timestamps = timestamps

    def index(self, frame_pts: int | None, previous: int) -> int:
        """Index of a decoded frame; one without a usable pts follows the previous one."""
        if frame_pts is None or not self.timestamps:
            return previous + 1
        i = int(np.searchsorted(self.pts, frame_pts))
        if i >= self.pts.size:
            return self.pts.size  # past the last complete frame (e.g. a truncated tail)
        if i == 0 or self.pts[i] == frame_pts:
            return i
        return i if self.pts[i] - frame_pts < frame_pts - self.pts[i - 1] else i - 1


class _Session:
    """One open container decoding forwards from a seek point, yielding (index, av frame)."""

    def __init__(self, path: Path, frame_map: _FrameMap, start: int) -> None:
        self.path = path
        self.map = frame_map
        self.container: Any = None
        self.stream: Any = None
        self._frames: Iterator[tuple[int, Any]] = iter(())
        self.seek(start)

    def seek(self, index: int) -> None:
        """Restart decoding at the keyframe at or before frame `index`.

        Going back to the top reopens the file, which works for every format (raw streams
        without timestamps cannot seek at all).
        """
        if index <= 0 or not self.map.timestamps or self.container is None:
            self.close()
            self.container = _open_container(self.path)
            self.stream = _moving_picture(self.container)
            self.stream.thread_type = "AUTO"
        if index > 0 and self.map.timestamps:
            self.container.seek(int(self.map.pts[index]), stream=self.stream, backward=True)
        self._frames = self._indexed()

    def _indexed(self) -> Iterator[tuple[int, Any]]:
        last = -1
        for av_frame in _decoded(self.container, self.stream):
            index = self.map.index(av_frame.pts, last)
            if index <= last or index >= self.map.pts.size:
                continue
            last = index
            yield index, av_frame

    def next(self) -> tuple[int, Any] | None:
        return next(self._frames, None)

    def close(self) -> None:
        if self.container is not None:
            self.container.close()
            self.container = None


class VideoReader:
    """A video file opened for analysis and preview (context manager).

    `info` and `rotation` are known as soon as it is constructed (the file is probed); decoding
    happens on demand. `frames()` streams with bounded memory; `frame()` seeks frame-accurately
    and decodes forward instead of seeking when asked for a frame a little ahead (scrubbing,
    playback). Not thread-safe: give each thread its own reader.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        probe = _probe(self.path)
        self.info: VideoInfo = probe.info
        self.rotation: int = probe.rotation
        self._map = _FrameMap(probe.pts, timestamps=probe.timestamps)
        self._keyframes = probe.keyframes
        self._times = probe.times
        warning = truncation_warning(probe.info, probe.declared_duration)
        self.warnings: tuple[str, ...] = (warning,) if warning else ()
        self._session: _Session | None = None
        self._next_index = 0
        self._last: tuple[int, Any] | None = None

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the random-access decoder (iterators from `frames()` close themselves)."""
        if self._session is not None:
            self._session.close()
            self._session = None
        self._last = None

    # -- conversion ---------------------------------------------------------------------------

    def _image(self, av_frame: Any, *, max_side: int | None, gray: bool) -> tuple[np.ndarray, float]:
        """A decoded frame as a displayed-orientation array no larger than `max_side`."""
        width, height = preview_size(self.info.width, self.info.height, max_side)
        coded_w, coded_h = (height, width) if self.rotation in (90, 270) else (width, height)
        fmt = "gray" if gray else "rgb24"
        if (coded_w, coded_h) == (av_frame.width, av_frame.height):
            image = av_frame.to_ndarray(format=fmt)
        else:
            image = av_frame.reformat(width=coded_w, height=coded_h, format=fmt,
                                      interpolation="AREA").to_ndarray()
        scale = max(width, height) / max(self.info.width, self.info.height)
        return orient(image, self.rotation), scale

    # -- streaming ----------------------------------------------------------------------------

    def frames(self, *, start: int = 0, stop: int | None = None, max_side: int | None = None,
               gray: bool = False, only: Container[int] | None = None) -> Iterator[VideoFrame]:
        """Frames start..stop-1 in presentation order, decoded one at a time.

        `only`: yield just the frames whose index it holds (the others are still decoded, as
        the codec needs them, but not converted to pictures, which costs as much again).
        Each iterator owns its own decoder, so several can run alongside `frame()` calls.
        """
        stop = self.info.frames if stop is None else stop
        if not 0 <= start <= self.info.frames or not start <= stop <= self.info.frames:
            raise InputError(f"frame range {start}..{stop} is outside the video "
                             f"(0..{self.info.frames})")
        if max_side is not None and max_side < 2:
            raise InputError(f"max_side must be at least 2, got {max_side}")
        return self._stream(start, stop, max_side, gray, only)

    def _stream(self, start: int, stop: int, max_side: int | None,
                gray: bool, only: Container[int] | None = None) -> Iterator[VideoFrame]:
        if start >= stop:
            return
        session = _Session(self.path, self._map, start)
        try:
            first = session.next()
            if first is not None and first[0] > start:  # seek overshot: decode from the top
                session.seek(0)
                first = session.next()
            item = first
            while item is not None and item[0] < stop:
                index, av_frame = item
                if index >= start and (only is None or index in only):
                    image, scale = self._image(av_frame, max_side=max_side, gray=gray)
                    yield VideoFrame(index=index, time=float(self._times[index]), image=image,
                                     scale=scale)
                item = session.next()
        finally:
            session.close()

    # -- random access ------------------------------------------------------------------------

    def frame(self, index: int, *, max_side: int | None = None) -> np.ndarray:
        """The RGB picture of frame `index` (exact, not the nearest keyframe)."""
        if not 0 <= index < self.info.frames:
            raise InputError(f"frame {index} is outside the video (0..{self.info.frames - 1})")
        if max_side is not None and max_side < 2:
            raise InputError(f"max_side must be at least 2, got {max_side}")
        image, _ = self._image(self._decode_at(index), max_side=max_side, gray=False)
        return image

    def frame_at_time(self, time_s: float, *,
                      max_side: int | None = None) -> tuple[int, np.ndarray]:
        """(index, picture) of the first frame whose time is at or after `time_s` seconds.

        A time past the last frame's start (up to the end of the video) gives the last frame.
        """
        if not math.isfinite(time_s) or time_s < 0 or time_s > self.info.duration + 1e-6:
            raise InputError(f"time {time_s} s is outside the video (0..{self.info.duration:.3f} s)")
        index = int(np.searchsorted(self._times, time_s - 1e-6, side="left"))
        index = min(index, self.info.frames - 1)
        return index, self.frame(index, max_side=max_side)

    def _decode_at(self, index: int) -> Any:
        """The av frame at `index`: decode forward when close ahead, else seek and decode."""
        if self._last is not None and self._last[0] == index:
            return self._last[1]
        ahead = self._session is not None and self._next_index <= index and (
            index <= self._next_index + _FORWARD_DECODE_LIMIT
            or not self._map.timestamps  # such streams cannot seek: decoding on is cheaper
            or 0 <= self._keyframe_before(index) < self._next_index)
        if self._session is None:
            self._session = _Session(self.path, self._map, index)
        elif not ahead:
            self._session.seek(index)
        found = self._advance_to(index)
        if found is None and (ahead or index > 0):  # overshot or lost: decode from the top
            self._session.seek(0)
            found = self._advance_to(index)
        if found is None:
            raise VideoError(f"{self.path}: frame {index} could not be decoded")
        return found

    def _keyframe_before(self, index: int) -> int:
        """Index of the last keyframe at or before `index` (where a seek would land); -1 when
        unknown. Seeking is pointless when that lies behind the current decode position."""
        at = int(np.searchsorted(self._keyframes, index, side="right")) - 1
        return int(self._keyframes[at]) if at >= 0 else -1

    def _advance_to(self, index: int) -> Any | None:
        """Decode forward to frame `index`.

        Returns that frame; the nearest earlier one when the stream lacks it; None when decoding
        started past it (the seek overshot).
        """
        assert self._session is not None
        best: Any | None = None
        while (item := self._session.next()) is not None:
            self._next_index = item[0] + 1
            self._last = item
            if item[0] == index:
                return item[1]
            if item[0] > index:
                break
            best = item[1]
        return best


# ----------------------------------------------------------------------------------------------
# reading ahead on a worker thread


def read_ahead(items: Iterable[_T], work: Callable[[_T], _R], *,
               depth: int = 4) -> Generator[_R, None, None]:
    """`work(item)` for each of `items`, in order, computed on a worker thread at most `depth`
    items ahead of the consumer.

    Decoding (PyAV) and most of OpenCV and numpy release the GIL, so reading and preparing the
    next frames overlaps the caller's work on the current one on a second core. `items` is
    iterated on the worker only (a generator such as `VideoReader.frames()` may be passed; the
    reader must not be used elsewhere meanwhile). An exception raised by `items` or `work`
    comes out of this iterator where that item would have, after the items before it; closing
    this iterator early (break, an exception in the caller) stops the worker and closes
    `items`. Memory is bounded by `depth` results.
    """
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}")
    results: queue.Queue[tuple[int, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[int, Any]) -> bool:
        while not stop.is_set():
            try:
                results.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        source = iter(items)
        try:
            for item in source:
                if not put((0, work(item))):
                    return
            put((1, None))
        except BaseException as exc:  # handed to the consumer, raised there
            put((2, exc))
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = results.get()
            if kind == 0:
                yield value
            elif kind == 1:
                return
            else:
                raise value
    finally:
        stop.set()
        worker.join()
