"""A private Xvfb display for the tests that need a screen of their own size."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def private_xvfb(size: tuple[int, int], *, noreset: bool = True) -> Iterator[str]:
    """Start Xvfb on a free display with a `size` screen and yield its name (":N"); skips the
    test where Xvfb is missing or does not start. Xvfb picks the number itself and writes it
    to `-displayfd` once it accepts clients (its socket file appears earlier). noreset: False
    keeps X's default, a reset whenever the last client leaves."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed")
    read, write = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write), *(["-noreset"] if noreset else []),
                             "-screen", "0", f"{size[0]}x{size[1]}x24", "-nolisten", "tcp"],
                            pass_fds=(write,), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    os.close(write)
    try:
        ready, _, _ = select.select([read], [], [], 30.0)
        number = os.read(read, 64).decode().strip() if ready else ""
        if not number.isdigit():
            pytest.skip("Xvfb did not start")
        yield f":{number}"
    finally:
        os.close(read)
        proc.terminate()
        proc.wait(timeout=10)
