"""Transport logic without a window: play/pause, frame steps, event jumps, loop, timeline clicks,
and the keyboard shortcut map as plain data.

`Transport` drives any object with the `Player` protocol (`audio.playback.PlaybackEngine` is
one; tests use the real engine in silent mode) and reads events and the video's frame timing
from a `Project` it holds by reference (undo/redo restore the project in place, so the reference
stays valid).

Frames and samples: frame i starts at sample `sample_of_frame(video, i)` (the one timebase
mapping, or the frame's timestamp for variable-frame-rate video), and the frame shown at sample s
is the last frame starting at or before s (`frame_of_sample`), so stepping and display agree
exactly, whatever the frame rate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

from app.project import Project
from video.base.errors import InputError
from video.base.timebase import SAMPLE_RATE, time_to_sample
from video.base.tracks import Event, Track, VideoInfo

DEFAULT_LOOP_S = 2.0  # `toggle_loop` with no selection loops this long from the playhead
PREVIOUS_EVENT_GRACE_S = 0.25  # while playing, "previous event" skips one just passed


class Player(Protocol):
    """What the transport needs from a playback engine (positions in mix samples)."""

    @property
    def is_playing(self) -> bool:
        """True while playing."""

    @property
    def length(self) -> int:
        """Samples in the loaded mix."""

    @property
    def loop(self) -> tuple[int, int] | None:
        """Loop region (start, end) in samples, or None."""

    def play(self) -> None:
        """Start playing from the playhead."""

    def pause(self) -> None:
        """Stop playing; the playhead stays where the listener is."""

    def seek(self, sample: int) -> None:
        """Move the playhead."""

    def scrub(self, sample: int) -> None:
        """Move the playhead and play a short grain there (dragging)."""

    def set_loop(self, start: int, end: int) -> None:
        """Loop [start, end) samples; ValueError for a bad range."""

    def clear_loop(self) -> None:
        """Stop looping."""

    def position(self) -> int:
        """The sample being heard now."""


# ---------------------------------------------------------------------------------------------
# keyboard shortcuts (the studio binds these; key names are lower-case, as below)


@dataclass(frozen=True)
class Shortcut:
    """One key binding: key name ("space", "left", "z", ...), modifiers, action, help text."""

    key: str
    action: str
    ctrl: bool = False
    shift: bool = False
    help: str = ""

    @property
    def label(self) -> str:
        """How menus and the help panel show the binding, e.g. "Ctrl+Shift+Z"."""
        parts = (["Ctrl"] if self.ctrl else []) + (["Shift"] if self.shift else [])
        name = {"space": "Space", "left": "Left", "right": "Right", "home": "Home",
                "end": "End"}.get(self.key, self.key.upper())
        return "+".join([*parts, name])


SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut("space", "play_pause", help="Play / pause"),
    Shortcut("left", "frame_back", help="Previous video frame"),
    Shortcut("right", "frame_forward", help="Next video frame"),
    Shortcut("left", "prev_event", shift=True, help="Previous event (selected object, or all)"),
    Shortcut("right", "next_event", shift=True, help="Next event (selected object, or all)"),
    Shortcut("l", "toggle_loop", help="Loop the selection (or 2 s from the playhead) / clear"),
    Shortcut("home", "go_start", help="Go to the start"),
    Shortcut("end", "go_end", help="Go to the last frame"),
    Shortcut("m", "toggle_mute", help="Mute the selected object"),
    Shortcut("s", "toggle_solo", help="Solo the selected object"),
    Shortcut("z", "undo", ctrl=True, help="Undo"),
    Shortcut("z", "redo", ctrl=True, shift=True, help="Redo"),
    Shortcut("y", "redo", ctrl=True, help="Redo"),
    Shortcut("s", "save", ctrl=True, help="Save the project"),
)

TRANSPORT_ACTIONS = frozenset({"play_pause", "frame_back", "frame_forward", "prev_event",
                               "next_event", "toggle_loop", "go_start", "go_end"})
"""Actions `Transport.handle` performs; the others (mute, solo, undo, redo, save) are the
studio's, since they edit the project or touch files."""


def action_for(key: str, *, ctrl: bool = False, shift: bool = False,
               shortcuts: Iterable[Shortcut] = SHORTCUTS) -> str | None:
    """The action bound to a key press, or None."""
    name = key.lower()
    for sc in shortcuts:
        if sc.key == name and sc.ctrl == ctrl and sc.shift == shift:
            return sc.action
    return None


# ---------------------------------------------------------------------------------------------
# frame <-> sample, timeline x <-> time


def sample_of_frame(video: VideoInfo, frame_index: int, *, sample_rate: int = SAMPLE_RATE) -> int:
    """The sample at which frame `frame_index` starts (its timestamp for VFR video)."""
    return int(video.frame_samples([frame_index], sample_rate=sample_rate)[0])


def frame_of_sample(video: VideoInfo, sample: int, *, sample_rate: int = SAMPLE_RATE) -> int:
    """The frame shown at `sample`: the last frame starting at or before it (0..frames-1)."""
    last = max(video.frames - 1, 0)
    guess = video.frame_at_time(float(Fraction(int(sample), sample_rate)))
    while guess < last and sample_of_frame(video, guess + 1, sample_rate=sample_rate) <= sample:
        guess += 1
    while guess > 0 and sample_of_frame(video, guess, sample_rate=sample_rate) > sample:
        guess -= 1
    return guess


def timeline_time(x: float, *, x0: float, width: float, view_start: float,
                  view_end: float) -> float:
    """Time (seconds) under pixel `x` of a timeline drawn from x0 over `width` pixels showing
    [view_start, view_end]; clicks outside the drawn range clamp to its ends."""
    if width <= 0 or view_end <= view_start:
        raise InputError("the timeline has no width or shows no time range")
    frac = min(max((float(x) - x0) / width, 0.0), 1.0)
    return view_start + frac * (view_end - view_start)


def timeline_x(time_s: float, *, x0: float, width: float, view_start: float,
               view_end: float) -> float:
    """Pixel x of `time_s` on the same timeline (the inverse of `timeline_time`, unclamped)."""
    if width <= 0 or view_end <= view_start:
        raise InputError("the timeline has no width or shows no time range")
    return x0 + (float(time_s) - view_start) / (view_end - view_start) * width


def event_list(objects: Iterable[Track], *, object_id: int | None = None
               ) -> list[tuple[float, int, Event]]:
    """(time, object id, event) of every event (of one object when `object_id` is given),
    sorted by time."""
    out = [(e.time, t.id, e) for t in objects if object_id is None or t.id == object_id
           for e in t.events]
    return sorted(out, key=lambda item: (item[0], item[1]))


# ---------------------------------------------------------------------------------------------


class Transport:
    """Transport state and logic for one project and one player (see the module doc).

    `selection` is the timeline range (seconds) the user dragged, used by `toggle_loop`.
    """

    def __init__(self, player: Player, project: Project, *,
                 sample_rate: int = SAMPLE_RATE) -> None:
        self.player = player
        self.project = project
        self.sample_rate = sample_rate
        self.selection: tuple[float, float] | None = None

    @property
    def video(self) -> VideoInfo:
        """The project's video facts (frame count, frame rate or timestamps, duration)."""
        return self.project.analysis.video

    @property
    def end_sample(self) -> int:
        """The end of the programme: the mix's length, or the video's when no mix is loaded."""
        return max(self.player.length,
                   time_to_sample(self.video.duration, sample_rate=self.sample_rate))

    # -- where are we ----------------------------------------------------------------------------

    def position(self) -> int:
        """The sample being heard now."""
        return self.player.position()

    def time(self) -> float:
        """The video time being heard now (seconds)."""
        return self.player.position() / self.sample_rate

    def frame(self) -> int:
        """The video frame to show now."""
        return frame_of_sample(self.video, self.player.position(), sample_rate=self.sample_rate)

    # -- play / seek -------------------------------------------------------------------------------

    def toggle_play(self) -> bool:
        """Space: play if paused, pause if playing; returns True when now playing."""
        if self.player.is_playing:
            self.player.pause()
        else:
            self.player.play()
        return self.player.is_playing

    def seek_sample(self, sample: int) -> int:
        """Jump to a sample (clamped to the programme); returns where it went."""
        target = min(max(int(sample), 0), self.end_sample)
        self.player.seek(target)
        return target

    def seek_time(self, time_s: float) -> int:
        """Jump to a video time in seconds; returns the sample it went to."""
        return self.seek_sample(time_to_sample(max(float(time_s), 0.0),
                                               sample_rate=self.sample_rate))

    def seek_frame(self, frame_index: int) -> int:
        """Jump to the start of a frame (clamped to the video's frames); returns the frame."""
        frame = min(max(int(frame_index), 0), max(self.video.frames - 1, 0))
        self.player.seek(sample_of_frame(self.video, frame, sample_rate=self.sample_rate))
        return frame

    def step_frame(self, delta: int) -> int:
        """Left/Right: pause and move `delta` frames from the frame shown now; returns it."""
        if self.player.is_playing:
            self.player.pause()
        return self.seek_frame(self.frame() + int(delta))

    def go_start(self) -> None:
        """Home: to the start of the video."""
        self.player.seek(0)

    def go_end(self) -> None:
        """End: to the start of the last frame (so the picture still shows something)."""
        self.seek_frame(self.video.frames - 1)

    def seek_click(self, x: float, *, x0: float, width: float, view_start: float = 0.0,
                   view_end: float | None = None, scrub: bool = False) -> float:
        """A click (or, with scrub=True, a drag) on the timeline at pixel x; returns the time."""
        end = self.end_sample / self.sample_rate if view_end is None else view_end
        t = timeline_time(x, x0=x0, width=width, view_start=view_start, view_end=end)
        sample = min(time_to_sample(t, sample_rate=self.sample_rate), self.end_sample)
        if scrub:
            self.player.scrub(sample)
        else:
            self.player.seek(sample)
        return t

    # -- events ----------------------------------------------------------------------------------

    def jump_event(self, direction: int, *, object_id: int | None = None
                   ) -> tuple[int, Event] | None:
        """Shift+Right / Shift+Left: go to the next (direction > 0) or previous event of all
        objects, or of `object_id`; returns (object id, event), or None when there is none
        (the playhead then stays)."""
        if direction == 0:
            raise InputError("event jump direction must be +1 or -1")
        events = event_list(self.project.analysis.objects, object_id=object_id)
        here = self.player.position()
        if direction > 0:
            ahead = [ev for ev in events if self._sample(ev[0]) > here]
            chosen = ahead[0] if ahead else None
        else:
            grace = int(PREVIOUS_EVENT_GRACE_S * self.sample_rate) if self.player.is_playing else 0
            behind = [ev for ev in events if self._sample(ev[0]) < here - grace]
            chosen = behind[-1] if behind else None
        if chosen is None:
            return None
        self.player.seek(self._sample(chosen[0]))
        return chosen[1], chosen[2]

    def _sample(self, time_s: float) -> int:
        return time_to_sample(time_s, sample_rate=self.sample_rate)

    # -- loop ------------------------------------------------------------------------------------

    @property
    def loop_seconds(self) -> tuple[float, float] | None:
        """The loop region in seconds, or None."""
        loop = self.player.loop
        return None if loop is None else (loop[0] / self.sample_rate, loop[1] / self.sample_rate)

    def set_loop(self, start_s: float, end_s: float) -> None:
        """Loop [start_s, end_s) seconds; bad ranges raise InputError."""
        start, end = self._sample(max(start_s, 0.0)), self._sample(max(end_s, 0.0))
        try:
            self.player.set_loop(start, min(end, self.player.length))
        except ValueError as exc:
            raise InputError(f"cannot loop {start_s:.3f}..{end_s:.3f} s: {exc}") from None

    def clear_loop(self) -> None:
        """Stop looping."""
        self.player.clear_loop()

    def toggle_loop(self) -> bool:
        """L: clear the loop if there is one, else loop the selection (or DEFAULT_LOOP_S from
        the playhead, moved back to fit before the end); returns True when now looping."""
        if self.player.loop is not None:
            self.player.clear_loop()
            return False
        if self.selection is not None:
            start, end = sorted(self.selection)
        else:
            total = self.player.length / self.sample_rate
            end = min(self.time() + DEFAULT_LOOP_S, total)
            start = max(end - DEFAULT_LOOP_S, 0.0)
        self.set_loop(start, end)
        return True

    # -- keyboard --------------------------------------------------------------------------------

    def handle(self, action: str, *, object_id: int | None = None) -> bool:
        """Perform a transport action (see TRANSPORT_ACTIONS); False when it is not one.

        `object_id` (the selected object) limits event jumps to that object.
        """
        if action == "play_pause":
            self.toggle_play()
        elif action in ("frame_back", "frame_forward"):
            self.step_frame(-1 if action == "frame_back" else 1)
        elif action in ("prev_event", "next_event"):
            self.jump_event(-1 if action == "prev_event" else 1, object_id=object_id)
        elif action == "toggle_loop":
            self.toggle_loop()
        elif action == "go_start":
            self.go_start()
        elif action == "go_end":
            self.go_end()
        else:
            return False
        return True
