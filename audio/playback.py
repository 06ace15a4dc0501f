"""The studio's playback engine: plays the current mix through the sound card, and is the clock
the picture follows.

`PlaybackEngine` owns one sounddevice OutputStream (48 kHz, stereo, float32, small blocks). Its
callback copies the current mix buffer to the device, so:

- the mix can be swapped while playing (`set_mix`, after a nudge) and playback goes on from the
  same position, with a short crossfade instead of a click;
- play / pause / stop / seek / loop / scrub are cheap state changes under a lock; every jump
  (seek, pause, start) is crossfaded too;
- the position clock (`position`, `position_seconds`) is the sample the listener hears *now*:
  each callback logs which mix sample its block starts at and when that block reaches the DAC
  (the callback time plus the stream's output latency, from PortAudio's outputBufferDacTime
  where it is given), and the clock interpolates from the newest block already at the DAC. The
  studio asks it every UI frame and shows that video frame, so the picture follows the audio.

Without an audio device (PortAudio missing, no output device, a bad device name) the engine runs
in *silent* mode: a thread pulls blocks from the same callback at wall-clock pace and drops them,
so the clock, loops and swaps behave the same and the app still runs; `status_message` says so.

The callback never raises (errors are counted in `callback_errors`) and allocates only small
views. Control methods are thread-safe.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from video.base.timebase import SAMPLE_RATE

CHANNELS = 2
MIN_LOOP_SAMPLES = 480  # a 10 ms loop is the shortest that makes sense to listen to
_LOG_SIZE = 256  # blocks remembered for the position clock (> any sane output latency)
_MAX_DELAY_S = 2.0  # a reported output latency above this is not believed
_CHECK_EVERY_S = 0.5  # how often position() checks that the device stream is alive

Callback = Callable[[np.ndarray, int, Any, Any], None]


@dataclass(frozen=True)
class PlaybackConfig:
    """How the engine talks to the sound card.

    blocksize: frames per callback (small: low latency, smooth clock).
    crossfade: samples over which swaps, seeks, starts and pauses fade (10 ms).
    scrub_grain: samples played by one `scrub` call (75 ms, Hann-windowed).
    device: a sounddevice device index or name; None = the system default output.
    latency: PortAudio's suggested output latency ("low", "high" or seconds). 0.1 s rides out
        a busy machine without underruns (which, through PulseAudio's ALSA plugin, stall
        output for seconds); the clock subtracts it, so picture and sound stay in sync.
    tap_seconds: when > 0, the last that many seconds of what the callback wrote are kept in a
        ring (`tap_output`) to verify playback and to draw an output meter.
    silent: force silent mode (no device is opened).
    silent_blocksize: frames per block in silent mode (bigger: less CPU, the clock is
        interpolated anyway).
    """

    sample_rate: int = SAMPLE_RATE
    blocksize: int = 512
    crossfade: int = 480
    scrub_grain: int = 3600
    device: int | str | None = None
    latency: float | str = 0.1
    tap_seconds: float = 0.0
    silent: bool = False
    silent_blocksize: int = 1024

    def __post_init__(self) -> None:
        if self.sample_rate <= 0:
            raise ValueError(f"sample rate must be positive, got {self.sample_rate}")
        if self.blocksize < 16 or self.silent_blocksize < 16:
            raise ValueError("block sizes must be at least 16 frames")
        if self.crossfade < 0 or self.scrub_grain < 16:
            raise ValueError("crossfade must be >= 0 and scrub grain >= 16 samples")
        if not 0.0 <= self.tap_seconds <= 600.0:
            raise ValueError("tap_seconds must be in 0..600")


def as_interleaved(mix: np.ndarray) -> np.ndarray:
    """A (channels, samples) mix as the C-contiguous float32 (samples, 2) the device wants.

    Mono (1, n) or (n,) is played on both channels. Non-finite samples become 0, and the
    result is read-only (it may be read by the callback thread at any time).
    """
    arr = np.asarray(mix, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[np.newaxis, :]
    if arr.ndim != 2 or arr.shape[0] not in (1, CHANNELS):
        raise ValueError(f"mix must be shaped (channels, samples) with 1 or 2 channels, "
                         f"got {arr.shape}")
    out = np.empty((arr.shape[1], CHANNELS), dtype=np.float32)
    for ch in range(CHANNELS):  # two strided column copies beat a transposed copy 2-3x
        out[:, ch] = arr[min(ch, arr.shape[0] - 1)]
    # a sum of squares is finite iff every sample is (barring overflow, which only sends us
    # down the exact path): one BLAS pass instead of a full boolean mask
    if not all(np.isfinite(np.dot(out[:, ch], out[:, ch])) for ch in range(CHANNELS)):
        np.nan_to_num(out, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    out.setflags(write=False)
    return out


class _TimeInfo:
    """The two fields of PortAudio's callback time info that the engine reads."""

    __slots__ = ("currentTime", "outputBufferDacTime")

    def __init__(self, now: float) -> None:
        self.currentTime = now
        self.outputBufferDacTime = now


_PLAIN_AUDIO_ERRORS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("library not found", "no module named", "import of sounddevice halted", "cannot load"),
     "the sound system (PortAudio) is not installed"),
    (("querying device -1", "no default output device", "device unavailable -9985",
      "invalid device", "no output device", "device -1"),
     "no audio output device"),
    (("unanticipated host error", "device unavailable", "busy"),
     "the audio device is busy or unavailable"),
    (("invalid number of channels",), "the audio device cannot play stereo"),
    (("invalid sample rate", "sample rate"), "the audio device cannot play 48 kHz"),
)


def plain_audio_error(exc: BaseException, *, device: int | str | None = None) -> str:
    """PortAudio's (or sounddevice's) exception as a few plain words for the status bar.

    "Error querying device -1" means there is no output device, "PaErrorCode -9996" that the
    device is gone: a user needs the meaning, not the code. Unknown errors become "the audio
    device could not be opened"."""
    text = " ".join(str(exc).split()).lower()
    if isinstance(exc, ImportError):
        return "the sound system (PortAudio) is not installed"
    if device is not None and isinstance(device, str) and (
            "matching" in text or "multiple" in text):
        return f"no audio device named '{device}'"
    if isinstance(device, int) and f"querying device {device}" in text:
        return f"no audio device number {device}"
    for needles, plain in _PLAIN_AUDIO_ERRORS:
        if any(n in text for n in needles):
            return plain
    return "the audio device could not be opened"


class SilentStream:
    """Stands in for sounddevice.OutputStream when there is no device.

    A daemon thread calls the callback once per block at wall-clock pace and drops the audio;
    after a stall (sleeping laptop, overloaded machine) it resynchronizes instead of bursting.
    """

    latency = 0.0

    def __init__(self, *, callback: Callback, blocksize: int, samplerate: int) -> None:
        self._callback = callback
        self._blocksize = blocksize
        self._rate = samplerate
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start pulling blocks (idempotent)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="silent-playback", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop pulling blocks and wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None

    def close(self) -> None:
        """Same as stop (there is nothing else to release)."""
        self.stop()

    def _run(self) -> None:
        out = np.zeros((self._blocksize, CHANNELS), dtype=np.float32)
        period = self._blocksize / self._rate
        t0, n = time.monotonic(), 0
        while not self._stop.is_set():
            now = time.monotonic()
            due = t0 + n * period
            if now < due:
                self._stop.wait(due - now)
                continue
            if now - due > 0.25:  # fell behind: start counting again from now
                t0, n = now, 0
            self._callback(out, self._blocksize, _TimeInfo(0.0), None)
            n += 1


class PlaybackEngine:
    """Plays a stereo mix buffer and keeps the audio clock (see the module doc).

    Use::

        engine = PlaybackEngine(mix)      # mix: float32 (2, n) at 48 kHz
        engine.open()                     # opens the device, or silent mode
        engine.play(); engine.position_seconds(); engine.set_mix(new_mix); engine.close()

    Positions are sample indices into the mix (0 = video time 0).
    """

    def __init__(self, mix: np.ndarray | None = None, *,
                 config: PlaybackConfig | None = None) -> None:
        self.config = config if config is not None else PlaybackConfig()
        cfg = self.config
        self._lock = threading.Lock()
        self._mix = as_interleaved(np.zeros((CHANNELS, 0), np.float32) if mix is None else mix)
        self._pos = 0  # next mix sample the callback reads
        self._anchor = 0  # the clock while paused or until the first block of a jump is heard
        self._playing = False
        self._loop: tuple[int, int] | None = None
        # crossfade: the old sound (mix buffer + its read position, or silence) fading out
        n = cfg.crossfade
        self._ramp = (np.arange(1, n + 1, dtype=np.float32) / np.float32(n + 1))[:, np.newaxis]
        self._fade_src: np.ndarray | None = None
        self._fade_pos = 0
        self._fade_left = 0
        grain = np.hanning(cfg.scrub_grain + 2)[1:-1].astype(np.float32)
        self._grain = grain[:, np.newaxis]
        self._scrub_pos = 0
        self._scrub_left = 0
        self._scrub_next: int | None = None  # the latest scrub target, played after the grain
        self._ended_epoch = -1  # epoch in which playback ran off the end (clock drains the log)
        big = max(cfg.blocksize, cfg.silent_blocksize)
        self._scratch = np.zeros((big, CHANNELS), dtype=np.float32)
        # block log for the clock: when each block reaches the DAC, where it starts, whether
        # it advances, and under which "epoch" (bumped by every jump)
        self._log_dac = np.full(_LOG_SIZE, np.inf)
        self._log_pos = np.zeros(_LOG_SIZE, dtype=np.int64)
        self._log_frames = np.zeros(_LOG_SIZE, dtype=np.int64)
        self._log_epoch = np.full(_LOG_SIZE, -1, dtype=np.int64)
        self._log_next = 0
        self._epoch = 0
        tap = int(round(cfg.tap_seconds * cfg.sample_rate))
        self._tap = np.zeros((tap, CHANNELS), dtype=np.float32)
        self._tap_written = 0
        self._stream: Any = None
        self._latency = 0.0
        self._last_check = 0.0
        self.frames_consumed = 0
        """Frames the device has taken from the callback since `open` (playing or not)."""
        self.callback_errors = 0
        self.last_callback_error = ""
        self.underflows = 0
        self.silent = True
        self.device_name = ""
        self.status_message = "audio not started"
        self.error_detail = ""
        """PortAudio's own words when the device failed to open (for logs; the status message
        says it plainly)."""

    # -- device --------------------------------------------------------------------------------

    def open(self) -> None:
        """Start the output stream, or silent mode when no device can be opened. Idempotent."""
        if self._stream is not None:
            return
        reason = "silent mode requested"
        self.error_detail = ""
        if not self.config.silent:
            try:
                self._open_device()
                return
            except Exception as exc:  # PortAudio missing, no device, bad device name, ...
                self.error_detail = " ".join(str(exc).split()) or type(exc).__name__
                reason = plain_audio_error(exc, device=self.config.device)
        stream = SilentStream(callback=self._callback, blocksize=self.config.silent_blocksize,
                              samplerate=self.config.sample_rate)
        stream.start()
        self._stream, self._latency, self.silent = stream, 0.0, True
        self.device_name = ""
        self.status_message = (f"no audio output ({reason}): playing silently; "
                               "export still works")

    def _open_device(self) -> None:
        import sounddevice as sd  # PortAudio is loaded here, not when this module is imported

        cfg = self.config
        stream = sd.OutputStream(samplerate=cfg.sample_rate, channels=CHANNELS, dtype="float32",
                                 blocksize=cfg.blocksize, device=cfg.device,
                                 latency=cfg.latency, callback=self._callback)
        try:
            stream.start()
            self._latency = float(stream.latency)
            info = sd.query_devices(stream.device)
            self.device_name = str(info["name"]) if isinstance(info, dict) else str(stream.device)
        except BaseException:
            stream.close()
            raise
        self._stream, self.silent = stream, False
        self.status_message = (f"playing through {self.device_name or 'the default output'} "
                               f"({self._latency * 1000:.0f} ms output latency)")

    def close(self) -> None:
        """Stop and release the output stream (the engine can be opened again)."""
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
            finally:
                stream.close()
        with self._lock:
            if self._playing:
                self._anchor = self._clock_locked(time.monotonic())
                self._pos = self._anchor
                self._playing = False
        self.status_message = "audio closed"

    def __enter__(self) -> PlaybackEngine:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def is_open(self) -> bool:
        """True between `open` and `close`."""
        return self._stream is not None

    @property
    def output_latency(self) -> float:
        """Seconds between a block leaving the callback and being heard (0 in silent mode)."""
        return self._latency

    # -- state ---------------------------------------------------------------------------------

    @property
    def length(self) -> int:
        """Samples in the current mix."""
        return int(self._mix.shape[0])

    @property
    def duration_seconds(self) -> float:
        """Length of the current mix in seconds."""
        return self.length / self.config.sample_rate

    @property
    def read_position(self) -> int:
        """The next mix sample the callback reads (ahead of `position`, what is heard now, by
        the output latency): where a change to the mix is first heard."""
        return int(self._pos)

    @property
    def is_playing(self) -> bool:
        """True while playing (False when paused, stopped, or after running off the end)."""
        return self._playing

    @property
    def loop(self) -> tuple[int, int] | None:
        """The loop region (start, end) in samples, end exclusive, or None."""
        return self._loop

    # -- control -------------------------------------------------------------------------------

    def set_mix(self, mix: np.ndarray) -> None:
        """Swap in a new mix; playback continues at the same position, crossfaded.

        A shorter mix clamps the position and the loop region to its length.
        """
        new = self._buffer(mix)  # the copy happens here, outside the lock
        with self._lock:
            if self._playing:
                self._start_fade(self._mix, self._pos)
            self._mix = new
            n = new.shape[0]
            self._pos, self._anchor = min(self._pos, n), min(self._anchor, n)
            if self._loop is not None and (self._loop[1] > n
                                           or self._loop[1] - self._loop[0] < MIN_LOOP_SAMPLES):
                self._loop = None if n - self._loop[0] < MIN_LOOP_SAMPLES else (self._loop[0], n)

    def _buffer(self, mix: np.ndarray) -> np.ndarray:
        """What the callback reads for `mix`: the interleaved copy (a subclass may hand over
        any object answering `shape` and `[a:b]` frame slices as (k, 2))."""
        return as_interleaved(mix)

    def play(self) -> None:
        """Start playing from the current position (from 0 when at the end)."""
        with self._lock:
            if self._playing:
                return
            if self._anchor >= self.length:
                self._anchor = 0
            self._pos = self._anchor
            self._start_fade(None, 0)  # fade in from silence
            self._scrub_left, self._scrub_next = 0, None
            self._playing = True
            self._epoch += 1

    def pause(self) -> None:
        """Stop playing and stay where the listener is now (the clock freezes there)."""
        with self._lock:
            if not self._playing:
                return
            heard = self._clock_locked(time.monotonic())
            self._start_fade(self._mix, self._pos)  # fade the queued sound out
            self._playing = False
            self._pos = self._anchor = heard
            self._epoch += 1

    def toggle(self) -> bool:
        """Play if paused, pause if playing; returns True when now playing."""
        if self._playing:
            self.pause()
        else:
            self.play()
        return self._playing

    def stop(self) -> None:
        """Pause and go back to the start (sample 0)."""
        self.pause()
        self.seek(0)

    def seek(self, sample: int) -> None:
        """Jump to `sample` (clamped to 0..length); while playing, the jump is crossfaded."""
        with self._lock:
            target = min(max(int(sample), 0), self.length)
            if self._playing:
                self._start_fade(self._mix, self._pos)
            self._pos = self._anchor = target
            self._scrub_left, self._scrub_next = 0, None
            self._epoch += 1

    def seek_seconds(self, time_s: float) -> None:
        """Jump to a time in seconds (video time)."""
        self.seek(round(float(time_s) * self.config.sample_rate))

    def scrub(self, sample: int) -> None:
        """While dragging the playhead: move there and play a short windowed grain from there.

        The playhead moves at once; a grain already sounding plays to its end first and then
        the latest target's grain follows (calls in between only move the playhead), so a
        fast drag gives back-to-back grains, never a cut-off one (a click). While playing this
        is a plain seek.
        """
        if self._playing:
            self.seek(sample)
            return
        with self._lock:
            target = min(max(int(sample), 0), self.length)
            self._pos = self._anchor = self._scrub_next = target
            self._epoch += 1

    def set_loop(self, start: int, end: int) -> None:
        """Loop playback over samples [start, end) once the playhead is inside or before it."""
        start, end = int(start), int(end)
        if start < 0 or end > self.length or end - start < MIN_LOOP_SAMPLES:
            raise ValueError(f"loop must lie in 0..{self.length} samples and be at least "
                             f"{MIN_LOOP_SAMPLES} long, got {start}..{end}")
        with self._lock:
            self._loop = (start, end)

    def clear_loop(self) -> None:
        """Stop looping; playback runs on to the end."""
        with self._lock:
            self._loop = None

    # -- clock ---------------------------------------------------------------------------------

    def position(self) -> int:
        """The mix sample being heard now (see the module doc).

        Twice a second it also checks that the device stream is still alive
        (`check_device`), so a lost sound card never freezes the picture.
        """
        now = time.monotonic()
        if now - self._last_check >= _CHECK_EVERY_S:
            self._last_check = now
            self.check_device()
        with self._lock:
            return self._clock_locked(now)

    def check_device(self) -> bool:
        """Fall back to silent mode if the device stream died (card unplugged, sound server
        gone); playback state and position carry on. Returns True when it fell back."""
        stream = self._stream
        if stream is None or self.silent:
            return False
        try:
            alive = bool(stream.active)
        except Exception:  # a stream whose device vanished may fail to answer at all
            alive = False
        if alive:
            return False
        try:
            stream.close()
        except Exception:  # already gone: nothing left to release
            pass
        fallback = SilentStream(callback=self._callback, blocksize=self.config.silent_blocksize,
                                samplerate=self.config.sample_rate)
        fallback.start()
        self._stream, self._latency, self.silent = fallback, 0.0, True
        self.status_message = (f"audio output lost ({self.device_name or 'default output'}): "
                               "playing silently; export still works")
        return True

    def position_seconds(self) -> float:
        """The video time being heard now, in seconds: the studio shows this frame."""
        return self.position() / self.config.sample_rate

    def tap_output(self) -> np.ndarray:
        """What the callback wrote most recently (up to `tap_seconds`), float32 (2, k), oldest first."""
        with self._lock:
            cap, total = self._tap.shape[0], self._tap_written
            if cap == 0 or total == 0:
                return np.zeros((CHANNELS, 0), dtype=np.float32)
            if total <= cap:
                return self._tap[:total].T.copy()
            split = total % cap
            return np.concatenate([self._tap[split:], self._tap[:split]]).T.copy()

    @property
    def tap_frames_written(self) -> int:
        """Frames written to the tap since `open` (the tap holds the last `tap_seconds` of them)."""
        return self._tap_written

    def pull(self, outdata: np.ndarray) -> None:
        """Fill one (frames, 2) float32 block exactly as the device callback does (advancing
        the playhead); for offline bounces and for measuring the callback's cost."""
        self._callback(outdata, int(outdata.shape[0]), None, None)

    # -- internals (called with the lock held) -------------------------------------------------

    def _clock_locked(self, now: float) -> int:
        if not self._playing and self._ended_epoch != self._epoch:
            return self._anchor
        rate = self.config.sample_rate
        for back in range(1, _LOG_SIZE + 1):
            i = (self._log_next - back) % _LOG_SIZE
            if self._log_epoch[i] != self._epoch:
                break
            if self._log_dac[i] <= now:
                offset = min(int(self._log_frames[i]), int((now - self._log_dac[i]) * rate))
                return self._wrap(int(self._log_pos[i]), offset)
        return self._anchor

    def _wrap(self, start: int, offset: int) -> int:
        """Mix position `offset` samples into a block that started at `start` (loop-aware)."""
        pos, loop = start + offset, self._loop
        if loop is not None and start < loop[1] <= pos:
            pos = loop[0] + (pos - loop[1]) % (loop[1] - loop[0])
        return min(pos, self.length)

    def _start_fade(self, source: np.ndarray | None, pos: int) -> None:
        self._fade_src, self._fade_pos = source, pos
        self._fade_left = self.config.crossfade

    def _read(self, mix: np.ndarray, pos: int, out: np.ndarray) -> tuple[int, bool]:
        """Copy mix[pos:] into out, wrapping at the loop end; zeros past the end.

        Returns the next read position and whether the end of the mix was reached.
        """
        frames, filled, n, loop = out.shape[0], 0, mix.shape[0], self._loop
        while filled < frames:
            looping = loop is not None and pos < loop[1] <= n
            stop = loop[1] if looping and loop is not None else n
            m = min(frames - filled, stop - pos)
            if m > 0:
                out[filled:filled + m] = mix[pos:pos + m]
                pos += m
                filled += m
            if pos >= stop:
                if looping and loop is not None:
                    pos = loop[0]
                    continue
                out[filled:] = 0.0
                return n, True
        return pos, False

    def _render(self, out: np.ndarray, frames: int) -> tuple[int, bool]:
        """Fill one device block; returns (mix position it starts at, whether it advances)."""
        start, advancing = self._pos, self._playing
        if self._playing:
            self._pos, ended = self._read(self._mix, self._pos, out)
            if ended:  # the clock runs on until the last block is heard
                self._playing = False
                self._anchor = self._pos = self.length
                self._ended_epoch = self._epoch
        else:
            if self._scrub_left == 0 and self._scrub_next is not None:
                self._scrub_pos, self._scrub_next = self._scrub_next, None
                self._scrub_left = self.config.scrub_grain
            if self._scrub_left > 0:
                self._render_grain(out, frames)
            else:
                out.fill(0.0)
        if self._fade_left > 0:
            self._render_fade(out, frames)
        return start, advancing

    def _render_grain(self, out: np.ndarray, frames: int) -> None:
        m = min(frames, self._scrub_left)
        done = self.config.scrub_grain - self._scrub_left
        seg = out[:m]
        avail = max(0, min(m, self.length - self._scrub_pos))
        seg[:avail] = self._mix[self._scrub_pos:self._scrub_pos + avail]
        seg[avail:] = 0.0
        seg *= self._grain[done:done + m]
        out[m:] = 0.0
        self._scrub_pos += m
        self._scrub_left -= m

    def _render_fade(self, out: np.ndarray, frames: int) -> None:
        """out = old + ramp * (out - old) over the first samples of the pending crossfade."""
        m = min(frames, self._fade_left)
        old = self._scratch[:frames] if frames <= self._scratch.shape[0] \
            else np.zeros((frames, CHANNELS), np.float32)
        if self._fade_src is None:
            old.fill(0.0)
        else:
            self._fade_pos, _ = self._read(self._fade_src, self._fade_pos, old)
        k = self.config.crossfade - self._fade_left
        seg, src = out[:m], old[:m]
        seg -= src
        seg *= self._ramp[k:k + m]
        seg += src
        self._fade_left -= m
        if self._fade_left == 0:
            self._fade_src = None

    def _log_block(self, dac: float, start: int, frames: int, advancing: bool) -> None:
        i = self._log_next
        self._log_dac[i] = dac
        self._log_pos[i] = start
        self._log_frames[i] = frames if advancing else 0
        self._log_epoch[i] = self._epoch
        self._log_next = (i + 1) % _LOG_SIZE

    def _tap_write(self, out: np.ndarray, frames: int) -> None:
        cap = self._tap.shape[0]
        if cap == 0:
            return
        start = self._tap_written % cap
        first = min(frames, cap - start)
        self._tap[start:start + first] = out[:first]
        if first < frames:
            rest = min(frames - first, cap)
            self._tap[:rest] = out[first:first + rest]
        self._tap_written += frames

    def _output_delay(self, time_info: Any) -> float:
        """Seconds until this block is heard: PortAudio's DAC time when given, else latency."""
        try:
            dac = float(time_info.outputBufferDacTime)
            delay = dac - float(time_info.currentTime)
        except (AttributeError, TypeError, ValueError):
            dac, delay = 0.0, math.nan
        if dac == 0.0 or not 0.0 < delay < _MAX_DELAY_S:
            delay = self._latency
        return delay

    def _callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        """PortAudio's callback: never raises; on any error it outputs silence and counts it."""
        try:
            now = time.monotonic()
            delay = self._output_delay(time_info)
            with self._lock:
                start, advancing = self._render(outdata, frames)
                self._log_block(now + delay, start, frames, advancing)
                self._tap_write(outdata, frames)
                self.frames_consumed += frames
                if status:
                    self.underflows += 1
        except Exception as exc:  # noqa: BLE001 - nothing may escape into PortAudio's thread
            outdata.fill(0.0)
            self.callback_errors += 1
            self.last_callback_error = f"{type(exc).__name__}: {exc}"
