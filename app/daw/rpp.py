"""A session as a Reaper project (`session.rpp`, Reaper's text format).

One video track with the picture as a video item (absolute path: the video lives outside
OUTDIR), then one track per stem with a WAVE item (path relative to the project file, which
Reaper resolves beside it). Items start at the start timecode's time; the project's timecode
offset is left at 0, so Reaper's timecode ruler reads the video's own timecode at each item's
start. Dry-stem tracks carry a volume envelope (VOLENV2, linear amplitude) and a pan envelope
(PANENV2: Reaper draws left at the top of a pan lane, so a point's value is -pan); points have
the linear shape (0).

Tracks of one folder (a group with its objects, `--stems both`) follow a folder track named
after the folder, which has no item (Reaper's ISBUS: `1 1` opens the folder, `2 -1` on its
last track closes it); a muted track has `MUTESOLO 1 0 0`.
"""

from __future__ import annotations

from fractions import Fraction

from app.daw.session import Envelope, Session
from video.base.timebase import SAMPLE_RATE


def _quote(text: str) -> str:
    """A Reaper string token: in double quotes, with double quotes in it made single."""
    return '"' + text.replace('"', "'").replace("\n", " ") + '"'


def _seconds(value: Fraction | float) -> str:
    return f"{float(value):.10f}".rstrip("0").rstrip(".") or "0"


def _envelope(tag: str, env: Envelope, *, start: Fraction, sign: float) -> list[str]:
    lines = [f"<{tag}", "ACT 1 -1", "VIS 1 1 1", "LANEHEIGHT 0 0", "ARM 0", "DEFSHAPE 0 -1 -1"]
    lines += [f"PT {_seconds(start + Fraction(float(t)))} {sign * float(v):.8f} 0"
              for t, v in zip(env.times, env.values, strict=True)]
    return [*lines, ">"]


def _item(name: str, kind: str, path: str, *, start: Fraction, length: Fraction) -> list[str]:
    return ["<ITEM", f"POSITION {_seconds(start)}", f"LENGTH {_seconds(length)}",
            "LOOP 0", f"NAME {_quote(name)}", f"<SOURCE {kind}", f"FILE {_quote(path)}", ">", ">"]


def rpp_text(session: Session) -> str:
    """The Reaper project of a session, as text."""
    start = session.start_seconds
    length = session.duration_seconds
    fps = session.fps
    lines = ['<REAPER_PROJECT 0.1 "6.0" 0', f"SAMPLERATE {SAMPLE_RATE} 0 0", "<NOTES 0 2",
             f"|StereoFoley session {session.name}: start timecode {session.timecode.label} "
             f"at {fps.numerator}/{fps.denominator} fps, pan law {session.pan_law}", ">"]
    if session.video is not None:
        lines += ["<TRACK", f"NAME {_quote('video')}",
                  *_item(session.video.name, "VIDEO", str(session.video), start=start,
                         length=length), ">"]
    tracks = session.tracks
    for i, track in enumerate(tracks):
        if track.folder and (i == 0 or tracks[i - 1].folder != track.folder):
            lines += ["<TRACK", f"NAME {_quote(track.folder)}", "NCHAN 2", "ISBUS 1 1", ">"]
        lines += ["<TRACK", f"NAME {_quote(track.name)}", "NCHAN 2"]
        if track.folder:
            last = i + 1 == len(tracks) or tracks[i + 1].folder != track.folder
            lines.append("ISBUS 2 -1" if last else "ISBUS 0 0")
        if track.muted:
            lines.append("MUTESOLO 1 0 0")
        if track.volume is not None:
            lines += _envelope("VOLENV2", track.volume, start=start, sign=1.0)
        if track.pan is not None:
            lines += _envelope("PANENV2", track.pan, start=start, sign=-1.0)
        lines += [*_item(track.name, "WAVE", track.path, start=start, length=length), ">"]
    lines.append(">")
    return "\n".join(lines) + "\n"
