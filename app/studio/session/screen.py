"""How big the studio's window may be: the screen's size, and a viewport that fits it.

Dear PyGui has no monitor query, so the size of the X11 screen is read through libX11 (ctypes,
no extra package); where that fails (Wayland without XWayland, no libX11) the studio assumes a
1280x720 screen, which every laptop has. The default window is the preferred 1600x960 shrunk
to the screen less room for a taskbar and the title bar, and never below the studio's minimum
(1024x640) unless the screen itself is smaller.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from dataclasses import dataclass

PREFERRED_SIZE = (1600, 960)
MIN_SIZE = (1024, 640)
FALLBACK_SCREEN = (1280, 720)
TASKBAR_H = 48  # a panel/taskbar and the title bar take about this much of the screen's height


@dataclass(frozen=True)
class ViewportGeometry:
    """Where the studio's viewport opens and the smallest size it may be resized to."""

    x: int
    y: int
    width: int
    height: int
    min_width: int
    min_height: int


def x11_screen_size(display: str | None = None) -> tuple[int, int] | None:
    """Width and height in pixels of the default screen of an X11 display, or None."""
    name = display if display is not None else os.environ.get("DISPLAY")
    if not name:
        return None
    path = ctypes.util.find_library("X11")
    if path is None:
        return None
    try:
        xlib = ctypes.CDLL(path)
    except OSError:
        return None
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XDefaultScreen.argtypes = [ctypes.c_void_p]
    xlib.XDisplayWidth.argtypes = [ctypes.c_void_p, ctypes.c_int]
    xlib.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
    xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    handle = xlib.XOpenDisplay(name.encode())
    if not handle:
        return None
    try:
        screen = xlib.XDefaultScreen(handle)
        size = int(xlib.XDisplayWidth(handle, screen)), int(xlib.XDisplayHeight(handle, screen))
    finally:
        xlib.XCloseDisplay(handle)
    return size if size[0] > 0 and size[1] > 0 else None


def viewport_geometry(screen: tuple[int, int] | None) -> ViewportGeometry:
    """The studio's default viewport for a screen (None: unknown, assume 1280x720), centred."""
    sw, sh = screen if screen is not None else FALLBACK_SCREEN
    usable_h = max(sh - TASKBAR_H, 1)
    min_w, min_h = min(MIN_SIZE[0], sw), min(MIN_SIZE[1], usable_h)
    width = max(min(PREFERRED_SIZE[0], sw), min_w)
    height = max(min(PREFERRED_SIZE[1], usable_h), min_h)
    return ViewportGeometry(x=max((sw - width) // 2, 0), y=max((usable_h - height) // 2, 0),
                            width=width, height=height, min_width=min_w, min_height=min_h)
