"""The X connection the studio holds while its window is created: a bare X server resets when
its last client leaves and refuses clients meanwhile; the held connection waits that out and,
while held, keeps the server from resetting under the window's own connection."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.studio.session.screen import held_display, x11_screen_size
from tests.app.studio.xvfb import private_xvfb


@pytest.fixture(scope="module")
def bare_display() -> Iterator[str]:
    """A private Xvfb that resets when its last client leaves (the default), 640x480."""
    with private_xvfb((640, 480), noreset=False) as name:
        yield name


def test_a_held_connection_waits_out_a_reset_and_prevents_the_next(bare_display: str) -> None:
    for _ in range(60):
        assert x11_screen_size(bare_display) in ((640, 480), None)   # leaves: a reset starts
        held = held_display(bare_display)                            # connects all the same
        try:
            assert held.screen_size == (640, 480)
            # the window's connections come and go while one is held: no reset, no refusal
            for _ in range(3):
                assert x11_screen_size(bare_display) == (640, 480)
        finally:
            held.close()
    held.close()                                                     # closing twice is fine


def test_no_display_holds_nothing() -> None:
    held = held_display("", wait_s=0.0)
    assert held.screen_size is None
    held.close()
    assert held_display(":4321", wait_s=0.1).screen_size is None     # no such server
