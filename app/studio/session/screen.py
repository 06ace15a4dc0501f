"""How big the studio's window may be: the screen's size, and a viewport that fits it.

Dear PyGui has no monitor query, so the size of the X11 screen is read through libX11 (ctypes,
no extra package); where that fails (Wayland without XWayland, no libX11) the studio assumes a
1280x720 screen, which every laptop has. The default window is the preferred 1600x960 shrunk
to the screen less room for a taskbar and the title bar, and never below the studio's minimum
(1024x640) unless the screen itself is smaller.
"""

from __future__ import annotations

import ctypes
import os
import time
from dataclasses import dataclass

from app.display import load_xlib

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


class HeldDisplay:
    """An X11 connection the studio keeps open while its window is created (`held_display`):
    its screen size, and the promise that the server has a client.

    A bare X server (Xvfb with no window manager) resets when its last client leaves, and a
    client connecting during the reset fails to open the display, which Dear PyGui's GLFW turns
    into an abort. The display check and a screen-size query each connect and leave just
    before GLFW connects, so on such a server about one start in eight failed; holding one
    connection from before the size query until the window is up closes that gap."""

    def __init__(self, lib: ctypes.CDLL | None, handle: int | None) -> None:
        self._lib, self._handle = lib, handle

    @property
    def screen_size(self) -> tuple[int, int] | None:
        """Width and height in pixels of the default screen, or None."""
        if self._lib is None or not self._handle:
            return None
        screen = self._lib.XDefaultScreen(self._handle)
        size = (int(self._lib.XDisplayWidth(self._handle, screen)),
                int(self._lib.XDisplayHeight(self._handle, screen)))
        return size if size[0] > 0 and size[1] > 0 else None

    def close(self) -> None:
        if self._lib is not None and self._handle:
            self._lib.XCloseDisplay(self._handle)
        self._handle = None


def held_display(display: str | None = None, *, wait_s: float = 2.0) -> HeldDisplay:
    """Open a connection to the X11 display (DISPLAY by default), retrying for up to `wait_s`
    seconds while the server is resetting; a HeldDisplay without a connection where there is
    no X11 display or libX11 (the caller then opens its window as it would anyway)."""
    name = display if display is not None else os.environ.get("DISPLAY")
    xlib = load_xlib() if name else None
    if xlib is None or not name:
        return HeldDisplay(None, None)
    deadline = time.monotonic() + wait_s
    while True:
        handle = xlib.XOpenDisplay(name.encode())
        if handle or time.monotonic() >= deadline:
            return HeldDisplay(xlib, handle)
        time.sleep(0.02)


def x11_screen_size(display: str | None = None) -> tuple[int, int] | None:
    """Width and height in pixels of the default screen of an X11 display, or None."""
    held = held_display(display, wait_s=0.0)
    try:
        return held.screen_size
    finally:
        held.close()


def viewport_geometry(screen: tuple[int, int] | None) -> ViewportGeometry:
    """The studio's default viewport for a screen (None: unknown, assume 1280x720), centred."""
    sw, sh = screen if screen is not None else FALLBACK_SCREEN
    usable_h = max(sh - TASKBAR_H, 1)
    min_w, min_h = min(MIN_SIZE[0], sw), min(MIN_SIZE[1], usable_h)
    width = max(min(PREFERRED_SIZE[0], sw), min_w)
    height = max(min(PREFERRED_SIZE[1], usable_h), min_h)
    return ViewportGeometry(x=max((sw - width) // 2, 0), y=max((usable_h - height) // 2, 0),
                            width=width, height=height, min_width=min_w, min_height=min_h)
