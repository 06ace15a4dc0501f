"""The studio on a 1366x768 laptop screen (its own Xvfb): the window fits the screen, and every
one of ten objects can be reached in the object list and in the timeline lanes by scrolling
(selecting an object scrolls both to it). Measured with the item rectangles Dear PyGui laid out,
in a subprocess (one viewport per process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import pytest

from app.project import Project, save_project
from tests.app.studio.xvfb import private_xvfb
from video.synth import ObjectSpec, SceneSpec, write_clip

ROOT = Path(__file__).resolve().parents[4]
SCREEN = (1366, 768)

TEN_SPEC = SceneSpec(width=320, height=180, fps=Fraction(25), duration=2.0, seed=9, objects=tuple(
    ObjectSpec(("ball", "walker", "slide")[i % 3], start=(0.08 + 0.09 * i, 0.25 + 0.1 * (i % 5)),
               velocity=(0.02 * (-1) ** i, 0.0), size=0.08,
               color=((40 + 23 * i) % 255, (200 - 17 * i) % 255, (90 + 41 * i) % 255))
    for i in range(10)))

MEASURE = textwrap.dedent("""
    import json, sys, time
    import dearpygui.dearpygui as dpg
    from app.studio.session.audio_link import AudioLink
    from app.studio.session.controller import StudioController
    from app.studio.ui.app import open_viewport
    from app.studio.ui.window import StudioWindow

    project, out = sys.argv[1], sys.argv[2]
    dpg.create_context()
    ctl = StudioController(audio=AudioLink(silent=True))
    win = StudioWindow(ctl)
    win.build()
    geometry = open_viewport(unattended=True)
    dpg.setup_dearpygui()
    dpg.show_viewport()

    def frames(n=1):
        for _ in range(n):
            win.frame()
            dpg.render_dearpygui_frame()

    def screen_y(item):
        return dpg.get_item_rect_min(item)[1], dpg.get_item_rect_max(item)[1]

    def wait(condition, timeout=20.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            frames()
            if condition():
                return True
        return False

    ctl.open(project)
    assert wait(lambda: ctl.project is not None and win.objects._rows, 60)
    frames(5)
    report = {"geometry": [geometry.width, geometry.height],
              "viewport": [dpg.get_viewport_width(), dpg.get_viewport_height()],
              "client": [dpg.get_viewport_client_width(), dpg.get_viewport_client_height()],
              "objects": {}, "list_hint": dpg.get_value(win.objects.header)}
    # the panels' visible screen bands, from items that bound them
    list_top = screen_y(win.objects.header)[1]
    list_bottom = screen_y(win.inspector.header)[0]
    lanes_top = screen_y(win.transport._w["play"])[1]
    lanes_bottom = screen_y(win.status._w["device"])[0]
    report["bands"] = [list_top, list_bottom, lanes_top, lanes_bottom]

    def placed(object_id):
        row = win.objects._rows[object_id]["label"]
        r0, r1 = screen_y(row)
        lane = win.timeline.layout.object_lane(object_id)
        d0 = dpg.get_item_rect_min(win.timeline.drawlist)[1]
        return {"row": [r0, r1], "row_visible": dpg.is_item_visible(row),
                "lane": [d0 + lane.y0, d0 + lane.y1]}

    def reachable(object_id):
        p = placed(object_id)
        return (p["row_visible"] and p["row"][0] >= list_top - 1 and p["row"][1] <= list_bottom + 1
                and p["lane"][0] >= lanes_top - 1 and p["lane"][1] <= lanes_bottom + 1)

    hidden_at_start = [i for i in ctl.state.object_ids() if not reachable(i)]
    report["hidden_at_start"] = hidden_at_start
    for object_id in reversed(ctl.state.object_ids()):   # the far end first
        ctl.select(object_id)
        ok = wait(lambda: reachable(object_id), 5.0)
        report["objects"][str(object_id)] = {"reached": ok, **placed(object_id)}
    # plain scrolling reaches the last row too (no selection involved)
    ctl.select(None)
    frames(3)
    dpg.set_y_scroll(win.objects.table, 0)
    frames(3)
    last = ctl.state.object_ids()[-1]
    before = placed(last)["row_visible"]
    dpg.set_y_scroll(win.objects.table, dpg.get_y_scroll_max(win.objects.table))
    report["scrolled_to_end"] = [before, wait(lambda: placed(last)["row_visible"], 3.0)]
    frames(2)  # the header's hint is written from the scroll of the frame before
    report["list_hint_end"] = dpg.get_value(win.objects.header)
    with open(out, "w") as f:
        json.dump(report, f)
    win.close()
    ctl.shutdown()
    dpg.destroy_context()
""")


@pytest.fixture(scope="module")
def laptop_display() -> Iterator[str]:
    """A private 1366x768 Xvfb display, kept from resetting (`-noreset`) when the studio's
    screen-size query disconnects, the last client gone, just before the window connects."""
    with private_xvfb(SCREEN) as name:
        yield name


@pytest.mark.gui
@pytest.mark.slow
def test_laptop_screen_fits_and_every_object_is_reachable(laptop_display: str,
                                                          tmp_path: Path) -> None:
    truth = write_clip(TEN_SPEC, tmp_path / "ten.mp4")
    assert len(truth.objects) == 10
    save_project(Project(analysis=truth), tmp_path / "ten.json")
    out = tmp_path / "layout.json"
    proc = subprocess.run([sys.executable, "-c", MEASURE, str(tmp_path / "ten.json"), str(out)],
                          capture_output=True, text=True, timeout=240, cwd=ROOT,
                          env={**os.environ, "DISPLAY": laptop_display, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text())
    # the window fits the screen, at least at the studio's minimum size
    width, height = report["viewport"]
    assert width <= SCREEN[0] and height <= SCREEN[1], report["viewport"]
    assert width >= 1024 and height >= 640
    assert report["client"][0] <= SCREEN[0] and report["client"][1] <= SCREEN[1]
    # not everything fits at once on this screen, and the list says so
    assert report["hidden_at_start"], "expected some objects out of view at 1366x768"
    assert "below: scroll" in report["list_hint"], report["list_hint"]
    # ... but every object is reached: its row and its lane are inside their panels
    list_top, list_bottom, lanes_top, lanes_bottom = report["bands"]
    assert list_bottom - list_top > 60 and lanes_bottom - lanes_top > 100
    for object_id, seen in report["objects"].items():
        assert seen["reached"], (object_id, seen, report["bands"])
    assert len(report["objects"]) == 10
    before, after = report["scrolled_to_end"]
    assert not before and after                     # scrolling alone reaches the last row
    assert "above: scroll" in report["list_hint_end"]
