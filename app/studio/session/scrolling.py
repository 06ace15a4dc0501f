"""Scrolling a panel of stacked rows (object list rows, timeline lanes): which rows are out of
view, the hint that says so, and the scroll position that brings one row into view.

Positions are content coordinates (0 = the top of the panel's content). A panel whose content
is `content_h` tall and that can scroll by `scroll_max` shows `content_h - scroll_max` of it, so
the visible band needs no screen geometry: only what Dear PyGui reports (scroll, scroll max) and
where the rows are in the content.
"""

from __future__ import annotations

from collections.abc import Sequence


def visible_band(scroll: float, scroll_max: float, content_h: float) -> tuple[float, float]:
    """The (top, bottom) of the content that is on screen."""
    if scroll_max <= 0:
        return 0.0, content_h
    return scroll, scroll + max(content_h - scroll_max, 1.0)


def hidden_rows(rows: Sequence[tuple[float, float]], band: tuple[float, float]
                ) -> tuple[int, int]:
    """How many rows (top, bottom) are not fully in view, above and below the band."""
    top, bottom = band
    above = sum(1 for r0, r1 in rows if r0 < top - 0.5)
    below = sum(1 for r0, r1 in rows if r1 > bottom + 0.5 and r0 >= top - 0.5)
    return above, below


def scroll_hint(above: int, below: int, noun: str = "more") -> str:
    """'3 more below: scroll', '2 above, 5 below: scroll', or '' when everything is in view."""
    if above and below:
        return f"{above} above, {below} below: scroll"
    if below:
        return f"{below} {noun} below: scroll"
    if above:
        return f"{above} {noun} above: scroll"
    return ""


def reveal_scroll(scroll: float, scroll_max: float, content_h: float,
                  row: tuple[float, float]) -> float:
    """The scroll position nearest to `scroll` that shows all of `row` (as much as fits)."""
    if scroll_max <= 0:
        return 0.0
    top, bottom = visible_band(scroll, scroll_max, content_h)
    view_h = bottom - top
    r0, r1 = row
    if r0 < top:
        target = r0
    elif r1 > bottom:
        target = min(r1 - view_h, r0)
    else:
        return scroll
    return float(min(max(target, 0.0), scroll_max))
