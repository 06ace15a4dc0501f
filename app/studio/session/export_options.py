"""What the export picker offers besides the folder: which stems (objects, groups by role, or
both; app.stem_groups) as labelled choices, window-free so the labels and their meaning are
tested without a window (app.studio.ui.dialogs shows them as radio buttons)."""

from __future__ import annotations

from app.stem_groups import STEM_MODES

STEM_CHOICES: tuple[tuple[str, str], ...] = (
    ("objects", "one stem per object"),
    ("groups", "group stems by role (short/quiet objects only in their group)"),
    ("both", "group stems + every object's stem"),
)
DEFAULT_STEMS = "objects"


def stem_labels() -> list[str]:
    """The radio buttons' labels, in STEM_MODES order."""
    return [label for _, label in STEM_CHOICES]


def stem_label(mode: str) -> str:
    """The label of a stem mode (ValueError for an unknown one)."""
    for name, label in STEM_CHOICES:
        if name == mode:
            return label
    raise ValueError(f"unknown stem mode {mode!r} (one of {', '.join(STEM_MODES)})")


def stem_mode(label: str) -> str:
    """The stem mode a radio label stands for (ValueError for a label that is none of them)."""
    for name, text in STEM_CHOICES:
        if text == label:
            return name
    raise ValueError(f"no stem choice is labelled {label!r}")
