"""The studio's keyboard map: app.transport's shared bindings plus the studio's own, and the
mouse gestures, as data (menus show the bindings, the help window lists them)."""

from __future__ import annotations

import dearpygui.dearpygui as dpg

from app.transport import SHORTCUTS, Shortcut

STUDIO_SHORTCUTS: tuple[Shortcut, ...] = (
    *SHORTCUTS,
    Shortcut("tab", "next_object", help="Select the next object"),
    Shortcut("tab", "prev_object", shift=True, help="Select the previous object"),
    Shortcut("k", "add_keyframe", help="Pan keyframe for the selected object at the playhead"),
    Shortcut("delete", "delete_object", help="Delete the selected object"),
    Shortcut("escape", "cancel", help="Cancel the running job"),
    Shortcut("s", "save_as", ctrl=True, shift=True, help="Save the project as..."),
    Shortcut("o", "open_video", ctrl=True, help="Open a video"),
    Shortcut("o", "open_project", ctrl=True, shift=True, help="Open a project"),
    Shortcut("e", "export", ctrl=True, help="Export stems, mix and review video"),
    Shortcut("r", "render_all", ctrl=True, help="Render everything again (re-master)"),
    Shortcut("q", "quit", ctrl=True, help="Quit"),
    Shortcut("=", "zoom_in", help="Zoom the timeline in (around the playhead)"),
    Shortcut("-", "zoom_out", help="Zoom the timeline out"),
    Shortcut("0", "zoom_fit", help="Show the whole clip on the timeline"),
)
MOUSE_HELP = (("Click picture / lane", "select an object"),
              ("Ctrl+wheel / Shift+wheel", "zoom / scroll the timeline"),
              ("Drag on picture", "track a new object from that box"),
              ("Click / drag ruler or waveform", "seek / scrub"),
              ("Drag a keyframe", "move it (time and pan)"),
              ("Double-click a lane", "add a pan keyframe there"))
_KEY_NAMES = {"space": "Spacebar", "left": "Left", "right": "Right", "home": "Home", "end": "End",
              "delete": "Delete", "tab": "Tab", "escape": "Escape", "=": "Plus", "-": "Minus"}


def key_code(name: str) -> int:
    """Dear PyGui's key code for an app.transport key name ("space", "z", ...)."""
    return int(getattr(dpg, f"mvKey_{_KEY_NAMES.get(name, name.upper())}"))


def key_names() -> dict[int, str]:
    """Dear PyGui key code -> key name, for every key the map uses."""
    return {key_code(sc.key): sc.key for sc in STUDIO_SHORTCUTS}


def shortcut_label(action: str) -> str:
    """The first binding of an action as menus show it ("Ctrl+Z"), or ""."""
    return next((sc.label for sc in STUDIO_SHORTCUTS if sc.action == action), "")


def modifiers() -> tuple[bool, bool]:
    """(ctrl, shift) held right now."""
    ctrl = dpg.is_key_down(dpg.mvKey_LControl) or dpg.is_key_down(dpg.mvKey_RControl)
    shift = dpg.is_key_down(dpg.mvKey_LShift) or dpg.is_key_down(dpg.mvKey_RShift)
    return bool(ctrl), bool(shift)
