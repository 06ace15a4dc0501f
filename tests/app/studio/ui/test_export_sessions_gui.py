"""The export picker's DAW-session and stem choices, in a real window: ticking Reaper + OTIO and
dry stems and picking "both" stems writes session.rpp, session.otio, dry/*.wav and the group
stems with the object stems (and no AAF)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.app.studio.ui.test_studio_gui import ROOT, clip, needs_display

__all__ = ["clip"]      # the fixture, shared with the main GUI test

SCRIPT = r'''
import json, sys, time
import dearpygui.dearpygui as dpg
from app.studio.session.audio_link import AudioLink
from app.studio.session.controller import StudioController
from app.studio.ui.window import StudioWindow

project_path, recovery, target = sys.argv[1], sys.argv[2], sys.argv[3]
dpg.create_context()
ctl = StudioController(audio=AudioLink(silent=True), autosave_dir=recovery)
win = StudioWindow(ctl)
win.build()
dpg.create_viewport(title="export", width=1400, height=900, vsync=False)
dpg.setup_dearpygui()
dpg.show_viewport()

def settle():
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        idle = not ctl.worker.busy
        win.frame()
        dpg.render_dearpygui_frame()
        if idle and not ctl.worker.busy:
            return
    raise SystemExit("jobs never finished")

ctl.open(project_path)
settle()
win.dialogs.show("export")
for name in ("session_rpp", "session_otio", "dry_stems"):
    dpg.set_value(win.dialogs._w[name], True)
from app.studio.session.export_options import stem_label
default_stems = win.dialogs.stem_choice()
dpg.set_value(win.dialogs._w["stems"], stem_label("both"))
choices = win.dialogs.export_choices()
stems = win.dialogs.stem_choice()
win.dialogs.hide("export")
win.dialogs._export(None, {"file_path_name": target})
settle()
out = {"choices": [list(choices[0]), choices[1]], "error": ctl.state.error,
       "stems": [default_stems, stems]}
ctl.shutdown()
win.close()
dpg.destroy_context()
print(json.dumps(out))
'''


@needs_display
@pytest.mark.gui
def test_export_dialog_writes_the_ticked_sessions(clip: tuple[Path, Path], tmp_path: Path
                                                  ) -> None:
    _, project_path = clip
    target = tmp_path / "delivery"
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(project_path), str(tmp_path),
                           str(target)], capture_output=True, text=True, timeout=300, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out == {"choices": [["rpp", "otio"], True], "error": "", "stems": ["objects", "both"]}
    written = [p for p in (target, *target.iterdir()) if (p / "mix.wav").is_file()]
    assert len(written) == 1
    folder = written[0]
    assert (folder / "session.rpp").is_file() and (folder / "session.otio").is_file()
    assert not (folder / "session.aaf").exists()
    assert sorted(p.name for p in (folder / "dry").glob("*.wav")) == \
        sorted(p.name for p in (folder / "stems").glob("*.wav"))
    rpp = (folder / "session.rpp").read_text()
    assert "dry/" in rpp
    groups = sorted(p.name for p in (folder / "groups").glob("*.wav"))
    assert groups and all(f"groups/{name}" in rpp for name in groups)
