"""The studio's widget modules' window-free helpers: the inspector's summary text, the keyboard
shortcut table, the object colours (these modules import dearpygui, so they are tested here)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from app.project import Project
from video.base.tracks import Analysis, Event, Track, VideoInfo

VIDEO = VideoInfo(path="clip.mp4", width=640, height=360, fps=Fraction(30), duration=4.0,
                  frames=120)


def test_object_summary_lines() -> None:
    from app.studio.ui.inspector import object_summary

    frames = np.arange(30, 90)
    boxes = np.column_stack([frames / 6.0, np.full(60, 150.0), frames / 6.0 + 40, np.full(60, 190.0)])
    track = Track(id=4, label="obj4", frames=frames, boxes=boxes,
                  events=(Event(1.5, 0.9), Event(2.0, 0.4, "step"), Event(2.5, 0.5, "step")))
    project = Project(analysis=Analysis(video=VIDEO, objects=(track,)))
    text = object_summary(project, 4)
    assert "On screen 0:01.000 - 0:02.967" in text
    assert "events: 1 impact, 2 step" in text
    assert "(chosen from its motion)" in text and "take 0" in text
    assert len(text.splitlines()) == 2               # two lines: the inspector fits a laptop
    walker = track.with_changes(events=(Event(2.0, 0.4, "step"),
                                        Event(2.5, 0.3, "step", x=20.0, filled=True)))
    project = Project(analysis=Analysis(video=VIDEO, objects=(walker,)))
    assert "events: 2 step (1 at the walking pace)" in object_summary(project, 4)


def test_every_shortcut_has_an_action_and_keys_are_unique() -> None:
    from app.studio.ui.shortcuts import STUDIO_SHORTCUTS, shortcut_label
    from app.studio.ui.window import StudioWindow

    missing = [sc.action for sc in STUDIO_SHORTCUTS if not hasattr(StudioWindow, f"act_{sc.action}")]
    assert missing == []
    bindings = [(sc.key, sc.ctrl, sc.shift) for sc in STUDIO_SHORTCUTS]
    assert len(bindings) == len(set(bindings))       # no key does two things
    assert shortcut_label("undo") == "Ctrl+Z" and shortcut_label("nothing") == ""


def test_object_colours_are_stable_and_distinct() -> None:
    from app.studio.ui.theme import object_colour

    colours = [np.array(object_colour(i)[:3], dtype=float) for i in range(1, 13)]
    assert object_colour(5) == object_colour(5) and object_colour(5, alpha=40)[3] == 40
    nearest = min(np.linalg.norm(a - b) for i, a in enumerate(colours) for b in colours[i + 1:])
    assert nearest > 40          # neighbours in the list never look alike
    assert all(c.max() >= 250 for c in colours)   # bright enough to read on the dark picture
