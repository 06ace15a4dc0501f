"""video.reader on synthetic clips whose every frame carries its own index as a visible code."""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
import soundfile as sf

from video import reader as reader_module
from video.base.errors import InputError, VideoError
from video.encode import write_video
from video.reader import (
    VideoFrame,
    VideoReader,
    choose_fps,
    normalize_rotation,
    orient,
    preview_size,
    probe_video,
    rotation_from_tag,
    uniform_times,
)

NTSC = Fraction(30000, 1001)
BITS = 7  # frame codes up to 127


def coded_frame(index: int, width: int, height: int) -> np.ndarray:
    """A frame showing `index` in binary as BITS black/white columns over the top half,
    and a red corner marker (top-left) for orientation checks."""
    image = np.full((height, width, 3), 90, np.uint8)
    cols = np.linspace(0, width, BITS + 1).astype(int)
    for bit in range(BITS):
        value = 255 if (index >> bit) & 1 else 0
        image[: height // 2, cols[bit]:cols[bit + 1]] = value
    image[height // 2:, :] = (40, 160, 40)
    image[: max(4, height // 8), : max(4, width // 8)] = (255, 0, 0)
    return image


def read_code(image: np.ndarray) -> int:
    """The index drawn by `coded_frame` (image in coded orientation, RGB, any scale)."""
    height, width = image.shape[:2]
    cols = np.linspace(0, width, BITS + 1).astype(int)
    code = 0
    for bit in range(BITS):
        top = max(4, height // 8) + 1 if bit == 0 else 0  # skip the red marker
        patch = image[top: height // 2 - 1, cols[bit] + 1: cols[bit + 1] - 1]
        if patch.mean() > 128:
            code |= 1 << bit
    return code


def write_coded(path: Path, count: int, width: int, height: int, *, fps: Fraction = NTSC,
                gop: int = 8) -> Path:
    fmt = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"
    write_video(path, (coded_frame(i, width, height) for i in range(count)), fps, gop=gop,
                pixel_format=fmt)
    return path


def write_custom(path: Path, images: Sequence[np.ndarray], pts: Sequence[int], *,
                 time_base: Fraction, rotation: int = 0, b_frames: int = 0,
                 faststart: bool = False, gop: int = 8) -> Path:
    """Encode with explicit timestamps (variable rate), a display-matrix rotation, and/or
    B-frames (decode order differs from presentation order)."""
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), mode="w", options=options) as container:
        stream = container.add_stream("libx264", rate=NTSC)
        stream.height, stream.width = images[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = time_base
        stream.codec_context.gop_size = gop
        # keyframes exactly every `gop` frames: no extra ones at scene changes
        stream.codec_context.options = {"bf": str(b_frames), "preset": "veryfast",
                                        "x264-params": f"scenecut=0:keyint={gop}:min-keyint={gop}"}
        if rotation:
            stream.set_display_rotation(rotation)
        for image, stamp in zip(images, pts, strict=True):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = stamp, time_base
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("reader")
    return {
        "mp4": write_coded(root / "c.mp4", 60, 174, 98),
        "mkv": write_coded(root / "c.mkv", 45, 171, 97),
        "ts": write_coded(root / "c.ts", 40, 160, 90),
        "bframes": write_custom(root / "b.mp4", [coded_frame(i, 160, 96) for i in range(50)],
                                list(range(50)), time_base=1 / NTSC, b_frames=3),
        # index (moov) before the data: a truncated copy still opens
        "faststart": write_custom(root / "f.mp4", [coded_frame(i, 160, 96) for i in range(60)],
                                  list(range(60)), time_base=1 / NTSC, faststart=True),
    }


# -- probing ----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, frames, size", [("mp4", 60, (174, 98)), ("mkv", 45, (171, 97)),
                                                 ("ts", 40, (160, 90))])
def test_probe_constant_rate(clips: dict[str, Path], kind: str, frames: int,
                             size: tuple[int, int]) -> None:
    info = probe_video(clips[kind])
    assert (info.width, info.height) == size
    assert info.fps == NTSC
    assert info.frames == frames
    assert info.duration == pytest.approx(frames * 1001 / 30000, abs=1e-6)
    assert info.frame_times is None


def test_probe_ignores_lying_header(clips: dict[str, Path], tmp_path: Path) -> None:
    """Matroska header claims 25 fps and 7x the duration; the timestamps say otherwise."""
    data = bytearray(clips["mkv"].read_bytes())
    at = data.index(bytes([0x23, 0xE3, 0x83, 0x84]))  # DefaultDuration, 4-byte ns
    data[at + 4: at + 8] = struct.pack(">I", 40_000_000)
    at = data.index(bytes([0x44, 0x89, 0x88]))  # Segment Duration, 8-byte float
    (value,) = struct.unpack(">d", data[at + 3: at + 11])
    data[at + 3: at + 11] = struct.pack(">d", value * 7)
    liar = tmp_path / "liar.mkv"
    liar.write_bytes(bytes(data))
    with av.open(str(liar)) as container:  # the premise: FFmpeg believes the header
        stream = container.streams.video[0]
        assert stream.average_rate == 25 and stream.frames == 0
        assert container.duration is not None and container.duration / 1e6 > 5
    info = probe_video(liar)
    assert info.fps == NTSC and info.frames == 45
    assert info.duration == pytest.approx(45 * 1001 / 30000, abs=1e-6)


@pytest.mark.parametrize("suffix", [".mkv", ".mp4"])
def test_variable_frame_rate_gets_frame_times(tmp_path: Path, suffix: str) -> None:
    stamps = [0, 30, 70, 100, 200, 230, 260, 400, 433, 466, 500, 533, 566, 600, 700, 740]
    images = [coded_frame(i, 128, 72) for i in range(len(stamps))]
    path = write_custom((tmp_path / "vfr").with_suffix(suffix), images, stamps,
                        time_base=Fraction(1, 1000))
    with VideoReader(path) as reader:
        info = reader.info
        assert info.frames == len(stamps)
        assert info.frame_times == pytest.approx([s / 1000 for s in stamps], abs=1e-9)
        assert info.duration == pytest.approx(0.74 + 0.74 / 15, abs=0.05)
        decoded = list(reader.frames())
        assert [f.index for f in decoded] == list(range(len(stamps)))
        assert [f.time for f in decoded] == pytest.approx([s / 1000 for s in stamps])
        assert [read_code(f.image) for f in decoded] == list(range(len(stamps)))
        index, image = reader.frame_at_time(0.15)  # between 0.100 and 0.200
        assert index == 4 and read_code(image) == 4
        assert read_code(reader.frame(7)) == 7


# -- decoding, seeking ------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["mp4", "mkv", "ts", "bframes"])
def test_frames_stream_in_order_with_times(clips: dict[str, Path], kind: str) -> None:
    with VideoReader(clips[kind]) as reader:
        frames = reader.frames()
        assert isinstance(frames, Iterator) and not isinstance(frames, list | tuple)
        seen = [(f.index, read_code(f.image), f.time, f.scale) for f in frames]
    n = len(seen)
    assert [s[0] for s in seen] == list(range(n)) == [s[1] for s in seen]
    assert [s[2] for s in seen] == pytest.approx([i * 1001 / 30000 for i in range(n)], abs=1e-6)
    assert {s[3] for s in seen} == {1.0}


@pytest.mark.parametrize("start, stop", [(0, 5), (17, 30), (33, 60), (59, 60), (20, 20)])
def test_frames_range(clips: dict[str, Path], start: int, stop: int) -> None:
    with VideoReader(clips["mp4"]) as reader:
        codes = [(f.index, read_code(f.image)) for f in reader.frames(start=start, stop=stop)]
    assert codes == [(i, i) for i in range(start, stop)]


@pytest.mark.parametrize("start, stop", [(-1, 5), (10, 5), (0, 61), (61, None)])
def test_frames_bad_range(clips: dict[str, Path], start: int, stop: int | None) -> None:
    with VideoReader(clips["mp4"]) as reader, pytest.raises(InputError, match="outside"):
        reader.frames(start=start, stop=stop)


@pytest.mark.parametrize("kind", ["mp4", "mkv", "ts", "bframes"])
def test_random_seek_is_frame_accurate(clips: dict[str, Path], kind: str,
                                       rng: np.random.Generator) -> None:
    with VideoReader(clips[kind]) as reader:
        n = reader.info.frames
        order = [*rng.integers(0, n, 25).tolist(), n - 1, 0, 1, 1, 2, 9, 8, n - 1]
        assert [read_code(reader.frame(i)) for i in order] == order


@pytest.mark.parametrize("gop, requests, seeks", [
    (8, [5, 20, 59, 58], 1),     # 20 and 59 are close ahead: decode on; 58 is behind
    (8, [5, 20, 100, 99], 2),    # 100 is far ahead, past keyframe 96: seek
    (120, [5, 100, 119], 0),     # no keyframe between 5 and 119: decoding on beats seeking
    (120, [5, 125, 3], 2),       # 125 lies past keyframe 120; 3 is behind
])
def test_seek_only_when_it_saves_decoding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          gop: int, requests: list[int], seeks: int) -> None:
    images = [coded_frame(i, 96, 64) for i in range(130)]
    path = write_custom(tmp_path / "gop.mp4", images, list(range(130)), time_base=1 / NTSC,
                        gop=gop)
    calls: list[int] = []
    original = reader_module._Session.seek

    def counting(self: reader_module._Session, index: int) -> None:
        calls.append(index)
        original(self, index)

    monkeypatch.setattr(reader_module._Session, "seek", counting)
    with VideoReader(path) as reader:
        assert [read_code(reader.frame(i)) for i in requests] == requests
    assert len(calls) - 1 == seeks  # the first call opens the decoder


def test_frame_out_of_range(clips: dict[str, Path]) -> None:
    with VideoReader(clips["mp4"]) as reader:
        for bad in (-1, 60, 1000):
            with pytest.raises(InputError, match="outside"):
                reader.frame(bad)


@pytest.mark.parametrize("time_s, expected", [(0.0, 0), (0.0333, 1), (1001 / 30000, 1),
                                              (0.5, 15), (59 * 1001 / 30000, 59), (2.0, 59)])
def test_frame_at_time(clips: dict[str, Path], time_s: float, expected: int) -> None:
    with VideoReader(clips["mp4"]) as reader:
        index, image = reader.frame_at_time(time_s)
        assert index == expected and read_code(image) == expected


@pytest.mark.parametrize("time_s", [-0.1, 2.5, float("nan")])
def test_frame_at_time_outside(clips: dict[str, Path], time_s: float) -> None:
    with VideoReader(clips["mp4"]) as reader, pytest.raises(InputError):
        reader.frame_at_time(time_s)


def test_downscale_and_gray(clips: dict[str, Path]) -> None:
    with VideoReader(clips["mp4"]) as reader:
        small = next(iter(reader.frames(start=9, max_side=64)))
        gray = next(iter(reader.frames(start=9, max_side=64, gray=True)))
        assert small.image.shape == (36, 64, 3) and small.image.dtype == np.uint8
        assert gray.image.shape == (36, 64)
        assert small.scale == pytest.approx(64 / 174)
        assert read_code(small.image) == 9 and read_code(np.dstack([gray.image] * 3)) == 9
        assert reader.frame(9, max_side=64).shape == (36, 64, 3)
        with pytest.raises(InputError):
            reader.frame(9, max_side=1)


@pytest.mark.parametrize("size, max_side, expected", [
    ((1920, 1080), 640, (640, 360)), ((1080, 1920), 640, (360, 640)), ((171, 97), None, (171, 97)),
    ((171, 97), 200, (171, 97)), ((171, 97), 100, (100, 56)), ((1000, 10), 100, (100, 2)),
])
def test_preview_size(size: tuple[int, int], max_side: int | None,
                      expected: tuple[int, int]) -> None:
    assert preview_size(*size, max_side) == expected


@pytest.mark.parametrize("size, max_side", [((0, 10), 100), ((10, -1), None), ((400, 300), 1)])
def test_preview_size_rejects(size: tuple[int, int], max_side: int | None) -> None:
    with pytest.raises(InputError):
        preview_size(*size, max_side)


# -- rotation ---------------------------------------------------------------------------------

@pytest.mark.parametrize("degrees, expected", [(0, 0), (90, 90), (-90, 270), (180, 180),
                                               (-180, 180), (269.6, 270), (450, 90)])
def test_normalize_rotation(degrees: float, expected: int) -> None:
    assert normalize_rotation(degrees) == expected


@pytest.mark.parametrize("tag, expected", [("90", 270), ("270", 90), ("180", 180), ("0", 0),
                                           (None, 0), ("sideways", 0)])
def test_rotation_from_clockwise_tag(tag: str | None, expected: int) -> None:
    assert rotation_from_tag(tag) == expected


@pytest.mark.parametrize("written, honoured", [(90, 90), (-90, 270), (180, 180)])
def test_display_matrix_rotation_is_honoured(tmp_path: Path, written: int, honoured: int) -> None:
    images = [coded_frame(i, 96, 64) for i in range(10)]
    path = write_custom(tmp_path / "phone.mp4", images, list(range(10)), time_base=1 / NTSC,
                        rotation=written)
    with VideoReader(path) as reader:
        assert reader.rotation == honoured
        expected_size = (64, 96) if honoured in (90, 270) else (96, 64)
        assert (reader.info.width, reader.info.height) == expected_size
        frame = reader.frame(6)
        assert frame.shape[:2] == (expected_size[1], expected_size[0])
        # undoing the display rotation gives back the coded picture
        unrotated = np.rot90(frame, k=-honoured // 90)
        assert read_code(unrotated) == 6
        expected = orient(images[6], honoured).astype(int)
        assert np.abs(frame.astype(int) - expected).mean() < 6
        small = next(iter(reader.frames(start=3, max_side=48)))
        assert max(small.image.shape[:2]) == 48 and small.scale == pytest.approx(0.5)
        assert read_code(np.rot90(small.image, k=-honoured // 90)) == 3


# -- frame-rate choice ------------------------------------------------------------------------

@pytest.mark.parametrize("declared, interval, expected", [
    (NTSC, 1001 / 30000, NTSC), (NTSC, 0.0333, NTSC), (Fraction(25), 1001 / 30000, NTSC),
    (None, 0.04, Fraction(25)), (Fraction(25), None, Fraction(25)), (None, 1 / 12.5, Fraction(25, 2)),
])
def test_choose_fps(declared: Fraction | None, interval: float | None, expected: Fraction) -> None:
    assert choose_fps(declared, interval) == expected


def test_choose_fps_needs_something() -> None:
    with pytest.raises(VideoError, match="frame rate"):
        choose_fps(None, None)


@pytest.mark.parametrize("times, uniform", [
    ([0.0, 1 / 30, 2 / 30, 3 / 30], True), ([0.0, 0.033, 0.067, 0.1], True),
    ([0.0, 1 / 30, 3 / 30, 4 / 30], False), ([0.0], True)])
def test_uniform_times(times: list[float], uniform: bool) -> None:
    assert uniform_times(np.asarray(times), Fraction(30), 0.001) is uniform


# -- bad input --------------------------------------------------------------------------------

def make_bad(kind: str, root: Path, good: Path) -> Path:
    """A bad input file of the given kind (shared with tests/app/test_cli_bad_input.py)."""
    rng = np.random.default_rng(7)
    path = root / f"bad_{kind}"
    if kind == "missing":
        return root / "does_not_exist.mp4"
    if kind == "directory":
        path.mkdir()
        return path
    if kind == "empty":
        path = path.with_suffix(".mp4")
        path.touch()
    elif kind == "text":
        path = path.with_suffix(".txt")
        path.write_text("this is not a video\n" * 40)
    elif kind == "random":
        path = path.with_suffix(".mp4")
        path.write_bytes(rng.integers(0, 256, 20_000, dtype=np.uint8).tobytes())
    elif kind == "audio":
        path = path.with_suffix(".wav")
        sf.write(path, (0.1 * rng.standard_normal((4800, 2))).astype(np.float32), 48_000)
    elif kind == "image":
        path = path.with_suffix(".png")
        cv2.imwrite(str(path), coded_frame(3, 64, 48))
    elif kind == "cover-art":  # AAC audio with an attached picture: a video stream, no video
        path = path.with_suffix(".m4a")
        with av.open(str(path), mode="w", format="mp4") as container:
            audio = container.add_stream("aac", rate=48_000)
            cover = container.add_stream("mjpeg", rate=1)
            cover.width, cover.height, cover.pix_fmt = 64, 48, "yuvj420p"
            cover.disposition = av.stream.Disposition.attached_pic
            picture = av.VideoFrame.from_ndarray(coded_frame(3, 64, 48), format="rgb24")
            picture.pts = 0
            for packet in [*cover.encode(picture), *cover.encode(None)]:
                container.mux(packet)
            sound = av.AudioFrame.from_ndarray(np.zeros((1, 4800), np.float32), format="fltp",
                                               layout="mono")
            sound.sample_rate, sound.pts = 48_000, 0
            for packet in [*audio.encode(sound), *audio.encode(None)]:
                container.mux(packet)
    elif kind == "truncated":
        data = good.read_bytes()
        path = path.with_suffix(".mp4")
        path.write_bytes(data[: len(data) // 2])
    else:
        raise ValueError(kind)
    return path


@pytest.mark.parametrize("kind, message", [
    ("missing", "no such file"), ("directory", "is a directory"), ("empty", "is empty"),
    ("text", "not a video"), ("random", "not a video"), ("audio", "no video stream"),
    ("cover-art", "no video stream"), ("image", "not a video"), ("truncated", "not a video"),
])
def test_bad_input_raises_video_error(clips: dict[str, Path], tmp_path: Path, kind: str,
                                      message: str) -> None:
    path = make_bad(kind, tmp_path, clips["mp4"])
    for opener in (probe_video, VideoReader):
        with pytest.raises(VideoError, match=message) as caught:
            opener(path)
        assert "\n" not in str(caught.value) and str(path) in str(caught.value)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["mkv", "ts", "faststart"])
def test_truncated_stream_decodes_what_is_there(clips: dict[str, Path], tmp_path: Path,
                                                kind: str) -> None:
    data = clips[kind].read_bytes()
    if kind == "faststart":
        assert data.find(b"moov") < data.find(b"mdat")
    cut = tmp_path / f"cut{clips[kind].suffix}"
    cut.write_bytes(data[: len(data) // 2])
    with VideoReader(cut) as reader:
        n = reader.info.frames
        assert 5 <= n < probe_video(clips[kind]).frames
        decoded = [(f.index, read_code(f.image)) for f in reader.frames()]
        assert decoded == [(i, i) for i in range(n)]
        assert read_code(reader.frame(n - 1)) == n - 1


def test_video_frame_is_frozen() -> None:
    frame = VideoFrame(index=1, time=0.5, image=np.zeros((2, 2), np.uint8), scale=1.0)
    with pytest.raises(AttributeError):
        frame.index = 2  # type: ignore[misc]


# -- broken timestamps, bogus durations, truncation (issue 11, items 1-3) ----------------------

def remux_pts_as_dts(source: Path, target: Path) -> Path:
    """Copy every packet, writing its decode timestamp as its presentation timestamp too (a
    common muxer fault): with B-frames, decoded pictures then carry decode-order times."""
    with av.open(str(source)) as src, av.open(str(target), mode="w") as dst:
        in_stream = src.streams.video[0]
        out_stream = dst.add_stream_from_template(in_stream)
        first: int | None = None
        for packet in src.demux(in_stream):
            if packet.dts is None:
                continue
            first = packet.dts if first is None else first
            packet.dts -= first  # start at 0, so no edit list hides the first pictures
            packet.pts = packet.dts
            packet.stream = out_stream
            dst.mux(packet)
    return target


def test_pts_equal_dts_with_b_frames_falls_back_to_output_order(clips: dict[str, Path],
                                                                tmp_path: Path) -> None:
    bad = remux_pts_as_dts(clips["bframes"], tmp_path / "ptsdts.mp4")
    with av.open(str(bad)) as container:  # the fault is there: decoded stamps go backwards
        stamps = [f.pts for f in container.decode(video=0)]
    assert any(b <= a for a, b in zip(stamps, stamps[1:], strict=False))
    with VideoReader(bad) as reader:
        assert reader.info.frames == 50
        assert reader.info.fps == NTSC
        decoded = [(f.index, read_code(f.image)) for f in reader.frames()]
        assert decoded == [(i, i) for i in range(50)]
        assert [f.time for f in reader.frames(start=10, stop=13)] == pytest.approx(
            [i * 1001 / 30000 for i in (10, 11, 12)])
        for index in (37, 4, 49, 20):  # random access, backwards too
            assert read_code(reader.frame(index)) == index


@pytest.mark.parametrize("stamps, ordered", [
    ([0, 1, 2, 3], True), ([0, 2, 1, 3], False), ([0, 1, 1, 2], False), ([0, None, 2], False),
    ([5], True),
])
def test_output_order_ok(stamps: list[int | None], ordered: bool) -> None:
    assert reader_module.output_order_ok(stamps) is ordered


def test_duration_after_a_long_pause_is_bounded_by_the_file(tmp_path: Path) -> None:
    """Two frames 1000 s apart: the clip lasts ~1000 s, not twice that."""
    images = [coded_frame(i, 64, 64) for i in range(2)]
    clip = write_custom(tmp_path / "gap.mp4", images, [0, 30_000], time_base=Fraction(1, 30))
    info = probe_video(clip)
    assert info.frames == 2
    assert 1000.0 <= info.duration <= 1001.0


@pytest.mark.parametrize("duration, last_start, declared, expected", [
    (2000.0, 1000.0, 1000.03, 1000.03),   # bogus last duration: the file's end wins
    (3.0, 2.9, 2.9999, 3.0),              # rounding: within half a frame, keep the grid
    (3.0, 2.9, None, 3.0),                # nothing declared
    (3.0, 2.9, 2.5, 3.0),                 # declared end before the last frame: ignore it
])
def test_bounded_duration(duration: float, last_start: float, declared: float | None,
                          expected: float) -> None:
    assert reader_module.bounded_duration(duration, last_start=last_start, declared=declared,
                                          frame=0.1) == pytest.approx(expected)


def test_truncated_file_warns(clips: dict[str, Path], tmp_path: Path) -> None:
    data = clips["faststart"].read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 3 // 10])
    with VideoReader(cut) as reader:
        assert len(reader.warnings) == 1
        declared = 60 * 1001 / 30000
        assert reader.warnings[0] == (f"video ends at {reader.info.duration:.1f} s of "
                                      f"{declared:.1f} s (truncated?)")
    with VideoReader(clips["faststart"]) as reader:
        assert reader.warnings == ()
