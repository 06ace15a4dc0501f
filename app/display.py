"""Can a window be opened? Checked before Dear PyGui creates a viewport.

Dear PyGui (GLFW underneath) aborts the whole process with a C assertion (exit 134) when DISPLAY
is set but the X server cannot be reached, so the studio asks Xlib first: `XOpenDisplay` on the
same DISPLAY, closed again at once. libX11 is the library Dear PyGui itself links on Linux, so
where it cannot be loaded no window could be opened either; then the check cannot tell and
leaves the decision to the window code. A Wayland session without DISPLAY is not checked here.

`python -m app.display` exits 0 when a window can be opened and 1 (with the reason on stderr)
when not: setup.sh uses it to choose between the studio and the headless render.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys


def load_xlib() -> ctypes.CDLL | None:
    """libX11 with the signatures of the calls the studio makes (opening and closing a
    display, the default screen's size), or None where it cannot be loaded."""
    for name in (ctypes.util.find_library("X11"), "libX11.so.6"):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        lib.XOpenDisplay.restype = ctypes.c_void_p
        lib.XOpenDisplay.argtypes = [ctypes.c_char_p]
        lib.XCloseDisplay.argtypes = [ctypes.c_void_p]
        lib.XDefaultScreen.argtypes = [ctypes.c_void_p]
        lib.XDisplayWidth.argtypes = [ctypes.c_void_p, ctypes.c_int]
        lib.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
        return lib
    return None


def display_set() -> bool:
    """True when an X11 or Wayland display is named in the environment."""
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def display_problem() -> str | None:
    """Why no window can be opened (`cannot open display :99`, `no display ...`), or None."""
    x_display = os.environ.get("DISPLAY")
    if not x_display:
        if os.environ.get("WAYLAND_DISPLAY"):
            return None
        return "no display (DISPLAY is not set)"
    lib = load_xlib()
    if lib is None:
        return None
    handle = lib.XOpenDisplay(x_display.encode())
    if not handle:
        return f"cannot open display {x_display}"
    lib.XCloseDisplay(handle)
    return None


if __name__ == "__main__":
    problem = display_problem()
    if problem:
        sys.stderr.write(f"{problem}\n")
    sys.exit(1 if problem else 0)
