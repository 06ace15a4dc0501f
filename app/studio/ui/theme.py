"""The studio's look: a dark, low-glare theme like a DAW's, a readable UI font, object colours.

`object_colour` gives every object id a stable, distinct colour used everywhere it appears (video
overlay box, timeline lane, object list swatch), so the eye links them without reading ids.
"""

from __future__ import annotations

import colorsys
from pathlib import Path

import dearpygui.dearpygui as dpg

RGBA = tuple[int, int, int, int]

BACKGROUND: RGBA = (24, 25, 28, 255)
PANEL: RGBA = (32, 34, 38, 255)
PANEL_DARK: RGBA = (18, 19, 21, 255)
BORDER: RGBA = (52, 55, 61, 255)
TEXT: RGBA = (214, 217, 222, 255)
TEXT_DIM: RGBA = (140, 145, 153, 255)
ACCENT: RGBA = (255, 166, 43, 255)  # playhead, selection
ACCENT_DIM: RGBA = (255, 166, 43, 90)
WAVE: RGBA = (96, 170, 255, 255)
WAVE_DIM: RGBA = (96, 170, 255, 110)
GRID: RGBA = (50, 53, 58, 255)
ERROR: RGBA = (255, 90, 80, 255)
OK: RGBA = (110, 210, 120, 255)

# Object colours: golden-angle hue steps give neighbours very different hues.
_GOLDEN = 0.38196601125
_FONT_CANDIDATES = (
    Path(__file__).resolve().parents[2] / "assets" / "fonts" / "Inter-Regular.ttf",
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf"),
    Path("/usr/share/fonts/truetype/croscore/Arimo-Regular.ttf"),
)
_MONO_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"),
    Path("/usr/share/fonts/truetype/noto/NotoSansMono-Regular.ttf"),
)


def object_colour(object_id: int, *, alpha: int = 255) -> RGBA:
    """A stable, saturated colour for an object id (same id, same colour, every run)."""
    hue = (0.08 + object_id * _GOLDEN) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.72, 1.0)
    return int(r * 255), int(g * 255), int(b * 255), alpha


def _first_existing(paths: tuple[Path, ...]) -> Path | None:
    return next((p for p in paths if p.is_file()), None)


def load_fonts(*, size: int = 15) -> tuple[int | str | None, int | str | None]:
    """Bind a TrueType UI font (and return it plus a monospace one for timecode), if installed.

    Falls back to Dear PyGui's built-in font when none of the candidates exist.
    """
    ui_path = _first_existing(_FONT_CANDIDATES)
    mono_path = _first_existing(_MONO_CANDIDATES)
    ui_font = mono_font = None
    with dpg.font_registry():
        if ui_path is not None:
            ui_font = dpg.add_font(str(ui_path), size)
        if mono_path is not None:
            mono_font = dpg.add_font(str(mono_path), size + 5)
    if ui_font is not None:
        dpg.bind_font(ui_font)
    return ui_font, mono_font


def apply_theme() -> None:
    """Bind the global dark theme (colours, compact rounded frames, tight spacing)."""
    with dpg.theme() as theme, dpg.theme_component(dpg.mvAll):
        colours = {
            dpg.mvThemeCol_WindowBg: BACKGROUND,
            dpg.mvThemeCol_ChildBg: PANEL,
            dpg.mvThemeCol_PopupBg: PANEL,
            dpg.mvThemeCol_MenuBarBg: PANEL_DARK,
            dpg.mvThemeCol_Border: BORDER,
            dpg.mvThemeCol_Text: TEXT,
            dpg.mvThemeCol_TextDisabled: TEXT_DIM,
            dpg.mvThemeCol_FrameBg: (44, 47, 53, 255),
            dpg.mvThemeCol_FrameBgHovered: (58, 62, 70, 255),
            dpg.mvThemeCol_FrameBgActive: (66, 71, 80, 255),
            dpg.mvThemeCol_Button: (50, 54, 61, 255),
            dpg.mvThemeCol_ButtonHovered: (66, 71, 80, 255),
            dpg.mvThemeCol_ButtonActive: (255, 166, 43, 160),
            dpg.mvThemeCol_Header: (255, 166, 43, 70),
            dpg.mvThemeCol_HeaderHovered: (255, 166, 43, 100),
            dpg.mvThemeCol_HeaderActive: (255, 166, 43, 140),
            dpg.mvThemeCol_CheckMark: ACCENT,
            dpg.mvThemeCol_SliderGrab: ACCENT,
            dpg.mvThemeCol_SliderGrabActive: (255, 196, 110, 255),
            dpg.mvThemeCol_PlotHistogram: ACCENT,
            dpg.mvThemeCol_TitleBg: PANEL_DARK,
            dpg.mvThemeCol_TitleBgActive: PANEL_DARK,
            dpg.mvThemeCol_TableHeaderBg: (40, 43, 48, 255),
            dpg.mvThemeCol_TableRowBg: (30, 32, 36, 255),
            dpg.mvThemeCol_TableRowBgAlt: (35, 37, 42, 255),
            dpg.mvThemeCol_TableBorderLight: BORDER,
            dpg.mvThemeCol_TableBorderStrong: BORDER,
            dpg.mvThemeCol_Separator: BORDER,
        }
        for target, colour in colours.items():
            dpg.add_theme_color(target, colour, category=dpg.mvThemeCat_Core)
        styles = {
            dpg.mvStyleVar_FrameRounding: (3,),
            dpg.mvStyleVar_ChildRounding: (4,),
            dpg.mvStyleVar_GrabRounding: (3,),
            dpg.mvStyleVar_WindowPadding: (8, 8),
            dpg.mvStyleVar_FramePadding: (6, 4),
            dpg.mvStyleVar_ItemSpacing: (6, 5),
            dpg.mvStyleVar_CellPadding: (5, 3),
            dpg.mvStyleVar_ScrollbarSize: (11,),
        }
        for var, value in styles.items():
            dpg.add_theme_style(var, *value, category=dpg.mvThemeCat_Core)
    dpg.bind_theme(theme)


def swatch_theme(colour: RGBA) -> int | str:
    """A theme that paints a (disabled-looking) button in an object's colour: list swatches."""
    with dpg.theme() as theme, dpg.theme_component(dpg.mvButton):
        for target in (dpg.mvThemeCol_Button, dpg.mvThemeCol_ButtonHovered,
                       dpg.mvThemeCol_ButtonActive):
            dpg.add_theme_color(target, colour, category=dpg.mvThemeCat_Core)
    return theme


def accent_button_theme() -> int | str:
    """A theme for the one primary button of a bar (Play)."""
    with dpg.theme() as theme, dpg.theme_component(dpg.mvButton):
        dpg.add_theme_color(dpg.mvThemeCol_Button, (255, 166, 43, 200), category=dpg.mvThemeCat_Core)
        dpg.add_theme_color(dpg.mvThemeCol_ButtonHovered, (255, 186, 83, 230),
                            category=dpg.mvThemeCat_Core)
        dpg.add_theme_color(dpg.mvThemeCol_Text, (20, 20, 20, 255), category=dpg.mvThemeCat_Core)
    return theme


def panel_theme(colour: RGBA) -> int | str:
    """A child-window background colour; fully transparent ones are not drawn at all.

    Layout-only containers get a transparent one: every full-size fill is a frame's worth of
    pixels to push on software-rendered (llvmpipe) displays.
    """
    with dpg.theme() as theme, dpg.theme_component(dpg.mvChildWindow):
        dpg.add_theme_color(dpg.mvThemeCol_ChildBg, colour, category=dpg.mvThemeCat_Core)
    return theme
