"""PlaybackEngine: real playback through a private PulseAudio null sink (marked `playback`),
and silent mode without a device.

The test mix encodes each sample's own index: left = (i + 1) / 2**20 and right = a hash of i,
both exact in float32. Decoding what the callback wrote (the engine's tap) tells which mix sample
was played at every output sample, so order, loops, seeks and swaps are checked exactly, whatever
the timing of the shared test machine. Crossfade regions hold blends, which do not decode (the
hash on the right channel is not linear, so a blend cannot pass for a sample).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from audio.playback import (
    MIN_LOOP_SAMPLES,
    PlaybackConfig,
    PlaybackEngine,
    as_interleaved,
    plain_audio_error,
)
from video.base.timebase import SAMPLE_RATE

SCALE = 2.0**20
CROSSFADE = 480


def _hash(idx: np.ndarray) -> np.ndarray:
    return ((idx * 7919) % 1021 + 1) / 2.0**11


def index_mix(seconds: float, *, sign: float = 1.0) -> np.ndarray:
    """(2, n) float32: left (i + 1) / 2**20, right a hash of i, both times `sign`."""
    i = np.arange(int(seconds * SAMPLE_RATE), dtype=np.int64)
    return (np.stack([(i + 1) / SCALE, _hash(i)]) * sign).astype(np.float32)


def decode(block: np.ndarray) -> np.ndarray:
    """Mix sample index per output sample; -1 where the output is a blend, silence or wrong."""
    left = block[0].astype(np.float64)
    idx = np.rint(np.abs(left) * SCALE).astype(np.int64) - 1
    right = np.sign(left) * _hash(np.maximum(idx, 0))
    exact = (np.abs(np.abs(left) * SCALE - (idx + 1)) < 1e-6) & (block[1] == right) & (idx >= 0)
    return np.where(exact, idx, -1)


def wait_until(cond: Callable[[], bool], timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.005)
    return cond()


def wait_steady(engine: PlaybackEngine, *, polls: int = 6, timeout: float = 15.0) -> bool:
    """Wait until the device has taken frames in each of `polls` consecutive 50 ms polls."""
    end, streak, last = time.monotonic() + timeout, 0, engine.frames_consumed
    while time.monotonic() < end and streak < polls:
        time.sleep(0.05)
        now = engine.frames_consumed
        streak, last = (streak + 1 if now > last else 0), now
    return streak >= polls


def pulse_reachable() -> bool:
    if not os.environ.get("PULSE_SERVER") or shutil.which("pactl") is None:
        return False
    try:
        return subprocess.run(["pactl", "info"], capture_output=True, timeout=5).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


needs_sink = pytest.mark.skipif(
    not pulse_reachable(),
    reason="no PulseAudio server reachable (run via scripts/services.sh, which starts a "
           "48 kHz null sink and exports PULSE_SERVER)")


def tap_since(engine: PlaybackEngine, mark: int) -> np.ndarray:
    """What the callback wrote after the tap had `mark` frames."""
    new = engine.tap_frames_written - mark
    out = engine.tap_output()
    assert new <= out.shape[1], "tap too small for this test"
    return out[:, out.shape[1] - new:]


# ---------------------------------------------------------------------------------------------
# one device engine for the module: opening a PulseAudio stream takes a while to start flowing


@pytest.fixture(scope="module")
def device_engine() -> Iterator[PlaybackEngine]:
    if not pulse_reachable():
        pytest.skip("no PulseAudio server reachable (run via scripts/services.sh)")
    engine = PlaybackEngine(index_mix(6.0), config=PlaybackConfig(tap_seconds=12.0))
    engine.open()
    if engine.silent:
        engine.close()
        pytest.fail(f"PulseAudio is reachable but the engine fell back: {engine.status_message}")
    # a fresh PulseAudio stream takes its prefill, then holds ~1-2 s before it runs steadily
    assert wait_steady(engine), "frames do not flow steadily through the null sink"
    yield engine
    engine.close()


@pytest.fixture
def dev(device_engine: PlaybackEngine) -> PlaybackEngine:
    device_engine.pause()
    device_engine.clear_loop()
    device_engine.set_mix(index_mix(6.0))
    device_engine.seek(0)
    # let the previous test's pause fade-out leave the device before this test's tap mark
    done = device_engine.frames_consumed + 3 * device_engine.config.blocksize
    assert wait_until(lambda: device_engine.frames_consumed > done, 5.0)
    return device_engine


def steady_window(dev: PlaybackEngine, seconds: float,
                  sample: Callable[[], int]) -> tuple[np.ndarray, np.ndarray]:
    """Play and read `sample()` every 10 ms for `seconds`; returns (times, values).

    A window in which the device reported an underrun (the shared test machine starved the
    audio thread; PulseAudio's ALSA plugin then stalls for a moment) says nothing about the
    engine, so it is measured again, up to three times.
    """
    times: list[float] = []
    values: list[int] = []
    for _ in range(3):
        underflows = dev.underflows
        dev.play()
        t0 = time.monotonic()
        times, values = [0.0], [sample()]
        while times[-1] < seconds:
            time.sleep(0.01)
            values.append(sample())
            times.append(time.monotonic() - t0)
        dev.pause()
        if dev.underflows == underflows:
            break
    return np.array(times), np.array(values)


@pytest.mark.playback
@needs_sink
def test_frames_are_consumed_at_real_time(dev: PlaybackEngine) -> None:
    times, counts = steady_window(dev, 1.0, lambda: dev.frames_consumed)
    assert counts[-1] - counts[0] == pytest.approx(times[-1] * SAMPLE_RATE, rel=0.15)
    assert dev.callback_errors == 0, dev.last_callback_error


@pytest.mark.playback
@needs_sink
def test_position_clock_follows_consumed_frames(dev: PlaybackEngine) -> None:
    times, positions = steady_window(dev, 1.0, dev.position)
    assert np.all(np.diff(positions) >= 0)
    # the clock holds the start until the first block is heard (the output latency) ...
    moving = int(np.argmax(positions > positions[0]))
    assert 0 < moving and times[moving] < dev.output_latency + 0.25
    assert 0.0 < dev.output_latency < 0.5
    # ... then runs at the sample rate
    rate = (positions[-1] - positions[moving]) / (times[-1] - times[moving])
    assert rate == pytest.approx(SAMPLE_RATE, rel=0.15)


@pytest.mark.playback
@needs_sink
def test_callback_delivers_the_buffer_in_order(dev: PlaybackEngine) -> None:
    mark = dev.tap_frames_written
    dev.seek(1000)
    dev.play()
    assert wait_until(lambda: dev.position() >= 1000 + SAMPLE_RATE // 2, 10.0)
    dev.pause()
    out = tap_since(dev, mark)
    idx = decode(out)
    start = int(np.flatnonzero(out[0])[0])
    mix = index_mix(6.0)
    # the first 10 ms fade in from silence: mix * ramp (0 < ramp < 1, rising)
    ramp = out[0, start:start + CROSSFADE] / mix[0, 1000:1000 + CROSSFADE]
    assert np.all(np.diff(ramp) > 0) and 0 < ramp[0] < 0.01 and 0.99 < ramp[-1] < 1
    played = idx[start + CROSSFADE:]
    played = played[:np.argmax(played < 0)] if np.any(played < 0) else played
    assert played.size >= SAMPLE_RATE // 3
    np.testing.assert_array_equal(played, np.arange(1000 + CROSSFADE,
                                                    1000 + CROSSFADE + played.size))


@pytest.mark.playback
@needs_sink
def test_loop_wraps(dev: PlaybackEngine) -> None:
    a, b = 24000, 24000 + 4800  # a 0.1 s loop
    dev.set_loop(a, b)
    dev.seek(a)
    mark = dev.tap_frames_written
    dev.play()
    assert wait_until(lambda: dev.tap_frames_written - mark > 6 * (b - a) + 4096, 10.0)
    pos = dev.position()
    dev.pause()
    assert a <= pos < b
    idx = decode(tap_since(dev, mark))
    seq = idx[idx >= 0]
    assert seq.size > 5 * (b - a)
    assert seq.min() == a and seq.max() == b - 1
    steps = np.diff(seq)
    wraps = np.flatnonzero(steps != 1)
    assert len(wraps) >= 5
    np.testing.assert_array_equal(seq[wraps], b - 1)
    np.testing.assert_array_equal(seq[wraps + 1], a)


@pytest.mark.playback
@needs_sink
def test_seek_while_playing_jumps_and_crossfades(dev: PlaybackEngine) -> None:
    mark = dev.tap_frames_written
    dev.play()
    assert wait_until(lambda: dev.position() > 12000, 10.0)
    dev.seek(4 * SAMPLE_RATE)
    # until the jump is heard, the clock holds the target (no stale pre-seek positions)
    assert 4 * SAMPLE_RATE <= dev.position() < 4 * SAMPLE_RATE + 4800
    assert wait_until(lambda: dev.position() > 4 * SAMPLE_RATE + 12000, 10.0)
    dev.pause()
    out = tap_since(dev, mark)
    idx = decode(out)
    known = idx[idx >= 0]
    jump = int(np.flatnonzero(np.diff(known) != 1)[0])
    before, after = known[jump], known[jump + 1]
    assert before < 4 * SAMPLE_RATE and after == 4 * SAMPLE_RATE + CROSSFADE
    # during the crossfade no sample-to-sample step is a click
    region = slice(int(np.flatnonzero(idx == before)[0]), int(np.flatnonzero(idx == after)[0]))
    assert np.max(np.abs(np.diff(out[0, region]))) < 0.01
    assert np.all(np.diff(known[jump + 1:]) == 1)


@pytest.mark.playback
@needs_sink
def test_swap_mid_play_keeps_position_without_click(dev: PlaybackEngine) -> None:
    mark = dev.tap_frames_written
    dev.play()
    assert wait_until(lambda: dev.position() > SAMPLE_RATE // 2, 10.0)
    before_swap = dev.position()
    dev.set_mix(index_mix(6.0, sign=-1.0))  # same positions, left channel negated
    after_swap = dev.position()
    assert 0 <= after_swap - before_swap < 2400
    assert wait_until(lambda: dev.position() > SAMPLE_RATE, 10.0)
    dev.pause()
    out = tap_since(dev, mark)
    idx = decode(out)
    old = np.flatnonzero((idx >= 0) & (out[0] > 0))
    new = np.flatnonzero((idx >= 0) & (out[0] < 0))
    last_old, first_new = old[old < new[0]][-1], new[0]
    # positions continue through the swap: index advances one per output sample
    assert idx[first_new] - idx[last_old] == first_new - last_old
    assert first_new - last_old == CROSSFADE + 1
    assert np.max(np.abs(np.diff(out[0, last_old:first_new + 1]))) < 0.01
    np.testing.assert_array_equal(np.diff(idx[first_new:first_new + 20000]), 1)


@pytest.mark.playback
@needs_sink
def test_clock_runs_to_the_end_after_the_last_block_left(dev: PlaybackEngine) -> None:
    dev.seek(dev.length - SAMPLE_RATE // 4)
    dev.play()
    samples: list[tuple[bool, int]] = []

    def at_end() -> bool:
        samples.append((dev.is_playing, dev.position()))
        return samples[-1][1] == dev.length

    assert wait_until(at_end, 10.0)
    positions = np.array([p for _, p in samples])
    assert np.all(np.diff(positions) >= 0)
    # the callback ran off the end ~one output latency before the clock got there
    after_last_block = [p for playing, p in samples if not playing]
    assert after_last_block[0] < dev.length


# ---------------------------------------------------------------------------------------------
# silent mode (no device)


@pytest.fixture
def silent() -> Iterator[PlaybackEngine]:
    engine = PlaybackEngine(index_mix(3.0), config=PlaybackConfig(silent=True, tap_seconds=4.0))
    engine.open()
    yield engine
    engine.close()


def test_bad_device_name_falls_back_to_silent_mode() -> None:
    engine = PlaybackEngine(index_mix(1.0),
                            config=PlaybackConfig(device="no such sound card 9f3e"))
    engine.open()
    try:
        assert engine.silent
        assert engine.status_message.startswith("no audio output (")
        assert "export still works" in engine.status_message
    finally:
        engine.close()


def test_failing_device_query_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    import sounddevice as sd

    def broken(*args: object, **kwargs: object) -> None:
        raise sd.PortAudioError("Error querying device -1")

    monkeypatch.setattr(sd, "OutputStream", broken)
    with PlaybackEngine(index_mix(1.0)) as engine:
        assert engine.silent and engine.error_detail == "Error querying device -1"
        assert engine.status_message == ("no audio output (no audio output device): playing "
                                         "silently; export still works")


@pytest.mark.parametrize(
    ("error", "device", "plain"),
    [
        ("Error querying device -1", None, "no audio output device"),
        ("Error opening OutputStream: Invalid number of channels [PaErrorCode -9998]", None,
         "the audio device cannot play stereo"),
        ("Error opening OutputStream: Invalid sample rate [PaErrorCode -9997]", None,
         "the audio device cannot play 48 kHz"),
        ("Error starting stream: Unanticipated host error [PaErrorCode -9999]: 'Device or "
         "resource busy' [ALSA error -16]", None, "the audio device is busy or unavailable"),
        ("No output device matching 'usb'", "usb", "no audio device named 'usb'"),
        ("Multiple output devices found for 'hda'", "hda", "no audio device named 'hda'"),
        ("Error querying device 7", 7, "no audio device number 7"),
        ("PortAudio library not found", None, "the sound system (PortAudio) is not installed"),
        ("something else entirely [PaErrorCode -1]", None, "the audio device could not be opened"),
    ],
)
def test_portaudio_errors_become_plain_words(error: str, device: int | str | None,
                                             plain: str) -> None:
    import sounddevice as sd

    exc = OSError(error) if "library" in error else sd.PortAudioError(error)
    got = plain_audio_error(exc, device=device)
    assert got == plain
    assert "PaErrorCode" not in got and "querying" not in got


def test_missing_portaudio_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import now raises ImportError
    with PlaybackEngine(index_mix(1.0)) as engine:
        assert engine.silent and engine.status_message.startswith("no audio output")


def test_silent_mode_clock_follows_wall_clock(silent: PlaybackEngine) -> None:
    silent.seek(SAMPLE_RATE // 2)
    t0 = time.monotonic()
    silent.play()
    time.sleep(0.4)
    pos, elapsed = silent.position(), time.monotonic() - t0
    silent.pause()
    assert (pos - SAMPLE_RATE // 2) == pytest.approx(elapsed * SAMPLE_RATE, abs=0.1 * SAMPLE_RATE)
    frozen = silent.position_seconds()
    time.sleep(0.05)
    assert silent.position_seconds() == frozen


def test_silent_mode_plays_to_the_end_and_stops(silent: PlaybackEngine) -> None:
    silent.seek(silent.length - 2400)
    silent.play()
    assert wait_until(lambda: not silent.is_playing, 3.0)
    assert wait_until(lambda: silent.position() == silent.length, 1.0)
    silent.play()  # at the end: starts again from 0
    assert silent.is_playing and silent.position() < SAMPLE_RATE // 2
    silent.stop()
    assert not silent.is_playing and silent.position() == 0


def test_scrub_plays_one_windowed_grain(silent: PlaybackEngine) -> None:
    mark = silent.tap_frames_written
    silent.scrub(SAMPLE_RATE)
    assert silent.position() == SAMPLE_RATE and not silent.is_playing
    grain = silent.config.scrub_grain
    assert wait_until(lambda: silent.tap_frames_written - mark > grain + 2048, 3.0)
    out = tap_since(silent, mark)
    nz = np.flatnonzero(out[0])
    assert nz.size == grain and np.all(np.diff(nz) == 1)
    window = out[0, nz[0]:nz[0] + grain] / index_mix(3.0)[0, SAMPLE_RATE:SAMPLE_RATE + grain]
    np.testing.assert_allclose(window, np.hanning(grain + 2)[1:-1], atol=1e-5)


def test_control_methods_are_thread_safe(silent: PlaybackEngine, rng: np.random.Generator
                                         ) -> None:
    import threading

    errors: list[BaseException] = []
    targets = rng.integers(0, silent.length, size=300)

    def hammer(offset: int) -> None:
        try:
            for i, t in enumerate(targets):
                op = (i + offset) % 5
                if op == 0:
                    silent.play()
                elif op == 1:
                    silent.pause()
                elif op == 2:
                    silent.seek(int(t))
                elif op == 3:
                    silent.scrub(int(t))
                else:
                    silent.position()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(k,)) for k in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors and silent.callback_errors == 0
    assert 0 <= silent.position() <= silent.length


def test_callback_never_raises(silent: PlaybackEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(out: np.ndarray, frames: int) -> tuple[int, bool]:
        raise RuntimeError("mix went away")

    monkeypatch.setattr(silent, "_render", boom)
    out = np.ones((512, 2), np.float32)
    silent._callback(out, 512, None, None)
    assert silent.callback_errors >= 1 and "mix went away" in silent.last_callback_error
    assert not out.any()


def test_loop_and_mix_validation(silent: PlaybackEngine) -> None:
    with pytest.raises(ValueError, match="loop must lie"):
        silent.set_loop(100, 100 + MIN_LOOP_SAMPLES - 1)
    with pytest.raises(ValueError, match="loop must lie"):
        silent.set_loop(-1, 4800)
    with pytest.raises(ValueError, match="loop must lie"):
        silent.set_loop(0, silent.length + 1)
    silent.set_loop(SAMPLE_RATE, 2 * SAMPLE_RATE)
    silent.set_mix(index_mix(1.5))  # shorter: the loop is cut at the new end
    assert silent.loop == (SAMPLE_RATE, int(1.5 * SAMPLE_RATE))
    silent.set_mix(index_mix(1.005))  # too short to keep a loop
    assert silent.loop is None


@pytest.mark.parametrize(
    ("shape", "ok"),
    [((2, 100), True), ((1, 100), True), ((100,), True), ((3, 100), False), ((2, 5, 5), False)],
)
def test_as_interleaved_shapes(shape: tuple[int, ...], ok: bool) -> None:
    data = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    if not ok:
        with pytest.raises(ValueError, match="channels, samples"):
            as_interleaved(data)
        return
    out = as_interleaved(data)
    assert out.dtype == np.float32 and out.shape == (100, 2) and out.flags.c_contiguous
    assert not out.flags.writeable
    flat = data.reshape(-1, 100)
    np.testing.assert_array_equal(out[:, 1], flat[-1])
    np.testing.assert_array_equal(out[:, 0], flat[0])


def test_non_finite_samples_are_silenced() -> None:
    mix = np.array([[0.1, np.nan, np.inf], [0.2, -np.inf, 0.3]])
    np.testing.assert_allclose(as_interleaved(mix), [[0.1, 0.2], [0.0, 0.0], [0.0, 0.3]],
                               rtol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"blocksize": 8}, "block sizes"), ({"crossfade": -1}, "crossfade"),
     ({"tap_seconds": 1000.0}, "tap_seconds"), ({"sample_rate": 0}, "sample rate")],
)
def test_config_validation(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PlaybackConfig(**kwargs)  # type: ignore[arg-type]


def test_pull_renders_like_the_device_offline() -> None:
    """Without any stream, `pull` runs the callback: exact samples, fade-in, loop wrap, end."""
    engine = PlaybackEngine(index_mix(0.5))
    engine.set_loop(12000, 12000 + 4800)
    engine.seek(11000)
    engine.play()
    out = np.zeros((1024, 2), np.float32)
    blocks = []
    for _ in range(12):
        engine.pull(out)
        blocks.append(out.copy())
    idx = decode(np.concatenate(blocks).T)
    assert np.all(idx[:CROSSFADE] == -1)  # fading in from silence
    expected = np.concatenate([np.arange(11000, 16800)] + [np.arange(12000, 16800)] * 2)
    np.testing.assert_array_equal(idx[CROSSFADE:], expected[CROSSFADE:12 * 1024])
    assert engine.frames_consumed == 12 * 1024
    engine.clear_loop()
    engine.seek(engine.length - 100)
    engine.pull(out)  # the crossfaded jump, then the last 100 samples, then silence
    assert not engine.is_playing and not out[100 + CROSSFADE:].any()
    engine.pull(out)  # once the block after the end is "heard", the clock is at the end
    assert engine.position() == engine.length and not out.any()


def test_fast_scrubbing_plays_whole_grains_back_to_back() -> None:
    engine = PlaybackEngine(index_mix(2.0))
    grain = engine.config.scrub_grain
    out = np.zeros((1024, 2), np.float32)
    engine.scrub(10_000)
    engine.pull(out)
    first = out.copy()
    engine.scrub(30_000)  # while the first grain sounds: only the playhead moves ...
    engine.scrub(50_000)
    assert engine.position() == 50_000
    rendered = [first]
    for _ in range(9):
        engine.pull(out)
        rendered.append(out.copy())
    left = np.concatenate(rendered)[:, 0]
    nz = np.flatnonzero(left)
    runs = np.split(nz, np.flatnonzero(np.diff(nz) != 1) + 1)
    assert [len(r) for r in runs] == [grain, grain]  # ... both grains whole, B skipped
    mix = index_mix(2.0)[0]
    window = np.hanning(grain + 2)[1:-1]
    np.testing.assert_allclose(left[runs[0]], mix[10_000:10_000 + grain] * window, rtol=1e-5)
    np.testing.assert_allclose(left[runs[1]], mix[50_000:50_000 + grain] * window, rtol=1e-5)


class DyingStream:
    """A stand-in for sounddevice.OutputStream whose device goes away after `open`."""

    latency = 0.05
    device = 0

    def __init__(self, **kwargs: object) -> None:
        self.active = False
        self.closed = False

    def start(self) -> None:
        self.active = True

    def stop(self) -> None:
        self.active = False

    def close(self) -> None:
        self.closed = True


def test_lost_device_falls_back_to_silent_and_keeps_playing(monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    import sounddevice as sd

    streams: list[DyingStream] = []

    def make(**kwargs: object) -> DyingStream:
        streams.append(DyingStream(**kwargs))
        return streams[-1]

    monkeypatch.setattr(sd, "OutputStream", make)
    monkeypatch.setattr(sd, "query_devices", lambda *a, **k: {"name": "USB headphones"})
    with PlaybackEngine(index_mix(2.0)) as engine:
        assert not engine.silent and "USB headphones" in engine.status_message
        assert not engine.check_device()  # alive: nothing happens
        engine.seek(SAMPLE_RATE // 2)
        engine.play()
        streams[0].active = False  # unplugged
        assert engine.check_device()
        assert engine.silent and streams[0].closed
        assert engine.status_message.startswith("audio output lost (USB headphones)")
        assert engine.is_playing
        assert wait_until(lambda: engine.position() > SAMPLE_RATE // 2 + 4800, 3.0)
