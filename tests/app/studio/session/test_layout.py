"""Window-free layout rules: the viewport fits the screen, scrolled panels say what is out of
view and scroll to a row, compact timeline lanes on a short panel."""

from __future__ import annotations

import pytest

from app.studio.session.screen import (
    FALLBACK_SCREEN,
    MIN_SIZE,
    ViewportGeometry,
    viewport_geometry,
    x11_screen_size,
)
from app.studio.session.scrolling import hidden_rows, reveal_scroll, scroll_hint, visible_band
from app.studio.session.timeline_layout import HEADER_W, LANE_H, TimelineLayout


@pytest.mark.parametrize(
    ("screen", "expected"),
    [
        ((1920, 1080), ViewportGeometry(160, 36, 1600, 960, 1024, 640)),    # room: preferred
        ((1366, 768), ViewportGeometry(0, 0, 1366, 720, 1024, 640)),        # a laptop: fits
        ((1280, 800), ViewportGeometry(0, 0, 1280, 752, 1024, 640)),
        ((1024, 600), ViewportGeometry(0, 0, 1024, 552, 1024, 552)),        # below the minimum
        (None, ViewportGeometry(0, 0, *FALLBACK_SCREEN[:1], FALLBACK_SCREEN[1] - 48,
                                MIN_SIZE[0], MIN_SIZE[1])),                 # unknown screen
    ],
)
def test_viewport_fits_the_screen(screen: tuple[int, int] | None,
                                  expected: ViewportGeometry) -> None:
    got = viewport_geometry(screen)
    assert got == expected
    sw, sh = screen if screen is not None else FALLBACK_SCREEN
    assert got.x + got.width <= sw and got.y + got.height <= sh
    assert got.min_width <= got.width and got.min_height <= got.height


def test_screen_size_without_a_display_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    assert x11_screen_size() is None
    assert x11_screen_size(":9999") is None          # no such display: no crash, no size


ROWS = [(i * 30.0, i * 30.0 + 30.0) for i in range(10)]   # ten rows of 30 px: 300 px of content


@pytest.mark.parametrize(
    ("scroll", "scroll_max", "band", "hidden", "hint"),
    [
        (0.0, 0.0, (0.0, 300.0), (0, 0), ""),                       # everything fits
        (0.0, 180.0, (0.0, 120.0), (0, 6), "6 more below: scroll"),
        (90.0, 180.0, (90.0, 210.0), (3, 3), "3 above, 3 below: scroll"),
        (180.0, 180.0, (180.0, 300.0), (6, 0), "6 more above: scroll"),
        (10.0, 180.0, (10.0, 130.0), (1, 6), "1 above, 6 below: scroll"),  # partial rows count
    ],
)
def test_scrolled_rows_and_their_hint(scroll: float, scroll_max: float,
                                      band: tuple[float, float], hidden: tuple[int, int],
                                      hint: str) -> None:
    assert visible_band(scroll, scroll_max, 300.0) == band
    assert hidden_rows(ROWS, band) == hidden
    assert scroll_hint(*hidden) == hint


@pytest.mark.parametrize(
    ("scroll", "row", "expected"),
    [
        (0.0, 9, 180.0),      # the last row: scrolled to the end
        (0.0, 2, 0.0),        # already in view: no jump
        (180.0, 0, 0.0),      # above: scrolled up to it
        (0.0, 4, 30.0),       # just below: the least scroll that shows all of it
        (100.0, 5, 100.0),
    ],
)
def test_reveal_scroll_brings_a_row_into_view(scroll: float, row: int, expected: float) -> None:
    got = reveal_scroll(scroll, 180.0, 300.0, ROWS[row])
    assert got == expected
    top, bottom = visible_band(got, 180.0, 300.0)
    assert top <= ROWS[row][0] and ROWS[row][1] <= bottom
    assert reveal_scroll(50.0, 0.0, 300.0, ROWS[9]) == 0.0   # nothing to scroll


def test_compact_lanes_fit_more_objects() -> None:
    ids = tuple(range(1, 11))
    full = TimelineLayout(HEADER_W + 500, 4.0, ids)
    compact = TimelineLayout(HEADER_W + 500, 4.0, ids, compact=True)
    assert full.object_lane(1).y1 - full.object_lane(1).y0 == LANE_H
    assert compact.height < full.height - 10 * 9
    lanes = [compact.object_lane(i) for i in ids]
    assert all(a.y1 < b.y0 for a, b in zip(lanes, lanes[1:], strict=False))  # no overlap
    assert compact.lane_at((lanes[4].y0 + lanes[4].y1) / 2).object_id == 5
