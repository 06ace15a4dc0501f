"""The export picker's stem choice without a window: its labels map to the stem modes, and the
controller's export writes group stems when asked (a bad mode is refused before any job)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from app.stem_groups import STEM_MODES
from app.studio.session.controller import StudioController
from app.studio.session.export_options import (
    DEFAULT_STEMS,
    STEM_CHOICES,
    stem_label,
    stem_labels,
    stem_mode,
)
from tests.app.studio.session.helpers import settle
from video.base.errors import InputError


def test_every_stem_mode_has_one_label_and_back() -> None:
    assert tuple(mode for mode, _ in STEM_CHOICES) == STEM_MODES
    assert len(set(stem_labels())) == len(STEM_MODES) and DEFAULT_STEMS == "objects"
    for mode in STEM_MODES:
        assert stem_mode(stem_label(mode)) == mode


@pytest.mark.parametrize("bad", ["", "groups", "one stem per object "])
def test_an_unknown_label_or_mode_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        stem_mode(bad)
    with pytest.raises(ValueError):
        stem_label(bad + "x")


def test_the_controller_exports_group_stems(controller: StudioController, clip_project: Path,
                                            tmp_path: Path) -> None:
    ctl = controller
    ctl.open(clip_project)
    settle(ctl)
    with pytest.raises(InputError, match="objects, groups, both"):
        ctl.export(tmp_path / "bad", stems="groupz")
    assert not (tmp_path / "bad").exists()
    out = ctl.export(tmp_path / "both", stems="both", review_video=False)
    settle(ctl)
    assert ctl.state.error == ""
    doc = json.loads((out / "project.json").read_text())
    groups = doc["stems"]["groups"]
    assert doc["stems"]["mode"] == "both" and len(list((out / "stems").glob("*.wav"))) == 2
    # the ball and the walker of the session clip: one impact group, one footsteps group
    assert sorted(g["code"] for g in groups) == ["FEET", "IMPT"]
    for group in groups:
        (member,) = group["members"]
        stem = next(o["stem"] for o in doc["objects"] if o["id"] == member)
        np.testing.assert_allclose(sf.read(out / group["stem"])[0], sf.read(out / stem)[0],
                                   atol=1e-6)
