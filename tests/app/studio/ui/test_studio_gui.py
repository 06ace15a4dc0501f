"""The real studio window, each run in its own process on the (Xvfb) display, plus the headless
paths of `stereofoley studio`. Screenshots are checked for content at known object positions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from app.project import Project, load_project, save_project
from app.studio.ui.theme import WAVE, object_colour
from video.synth import ObjectSpec, SceneSpec, render_frame, write_clip

ROOT = Path(__file__).resolve().parents[4]
needs_display = pytest.mark.skipif(not os.environ.get("DISPLAY"),
                                   reason="no X display (run under Xvfb: scripts/services.sh)")


GUI_SPEC = SceneSpec(width=640, height=360, fps=Fraction(30), duration=3.0, seed=5, objects=(
    ObjectSpec("ball", start=(0.25, 0.3), velocity=(0.05, 0.0), color=(230, 40, 40)),
    ObjectSpec("walker", start=(0.8, 0.72), velocity=(-0.05, 0.0), color=(40, 90, 230))))


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 3 s 640x360 clip (ball on the left, walker on the right) and a project of its truth."""
    folder = tmp_path_factory.mktemp("gui")
    truth = write_clip(GUI_SPEC, folder / "clip.mp4")
    project = folder / "clip.json"
    save_project(Project(analysis=truth), project)
    return folder / "clip.mp4", project


def _studio(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", "studio", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd or ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


def _read_png(path: Path) -> np.ndarray:
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert image is not None, f"{path} is not a readable PNG"
    return image[:, :, ::-1].astype(np.int16)  # RGB


def _near(image: np.ndarray, colour: tuple[int, ...], tol: int = 40) -> np.ndarray:
    return np.all(np.abs(image - np.array(colour[:3])) <= tol, axis=2)


@needs_display
@pytest.mark.gui
@pytest.mark.slow
def test_screenshot_shows_picture_overlay_and_waveforms(clip: tuple[Path, Path],
                                                        tmp_path: Path) -> None:
    _, project_path = clip
    shot, stats_path = tmp_path / "shot.png", tmp_path / "stats.json"
    proc = _studio(str(project_path), "--screenshot", str(shot),  # plays 1 s, then seeks
                   env={"STEREOFOLEY_STUDIO_STATS": str(stats_path),
                        "STEREOFOLEY_STUDIO_PLAY_S": "1"})
    assert proc.returncode == 0, proc.stderr
    image = _read_png(shot)
    assert image.shape[0] >= 600 and image.shape[1] >= 900
    assert image.std() > 20                                 # not a blank frame
    stats = json.loads(stats_path.read_text())
    assert 0 < stats["first_frame_s"] < 10
    assert stats["play_frames"] >= 2       # it played before the shot (a loaded box draws few)
    x0, y0, x1, y1 = stats["video_rect"]
    scale = (x1 - x0) / 640
    analysis = load_project(project_path).analysis
    for track in analysis.objects:
        box = track.box_at(stats["frame"])
        assert box is not None
        sx0, sy0 = x0 + box[0] * scale, y0 + box[1] * scale
        sx1, sy1 = x0 + box[2] * scale, y0 + box[3] * scale
        # the object's overlay colour outlines its known box: look in a band around the edges
        band = image[int(sy0) - 6:int(sy1) + 7, int(sx0) - 6:int(sx1) + 7]
        hits = _near(band, object_colour(track.id), tol=30).sum()
        assert hits > 2 * (sx1 - sx0), f"object {track.id}: {hits} overlay pixels near its box"
        # ... and not far away from it: the other half of the picture has none of this colour
        far = image[int(y0):int(y1), int(x1 - (x1 - x0) / 3):int(x1)] if box[0] < 320 else \
            image[int(y0):int(y1), int(x0):int(x0 + (x1 - x0) / 3)]
        assert _near(far, object_colour(track.id), tol=30).sum() < hits / 4
    # the picture is the frame the overlay is drawn for: the generator's own pixels, and the red
    # ball right inside its box
    import cv2

    shown = image[int(y0) + 2:int(y1) - 2, int(x0) + 2:int(x1) - 2].astype(np.float32)
    expected = cv2.resize(render_frame(GUI_SPEC, stats["frame"]), (shown.shape[1], shown.shape[0]),
                          interpolation=cv2.INTER_AREA).astype(np.float32)
    assert np.abs(shown - expected).mean() < 8.0
    ball = analysis.object(1).box_at(stats["frame"])
    cx, cy = x0 + (ball[0] + ball[2]) / 2 * scale, y0 + (ball[1] + ball[3]) / 2 * scale
    r = 0.2 * (ball[2] - ball[0]) * scale
    red, green, _ = image[int(cy - r):int(cy + r), int(cx - r):int(cx + r)].reshape(-1, 3).mean(0)
    assert red > green + 60, (red, green)
    # waveforms in the timeline below the picture
    timeline = image[int(y1) + 40:, :]
    assert _near(timeline, WAVE, tol=35).sum() > 2000
    assert stats["selected"] == 1   # the first object is selected: its stem lane is drawn too
    stem_pixels = _near(timeline, object_colour(1), tol=30).sum()
    assert stem_pixels > 1000


@needs_display
@pytest.mark.gui
@pytest.mark.slow
def test_screenshot_from_a_video_runs_analysis(clip: tuple[Path, Path], tmp_path: Path) -> None:
    video, _ = clip
    shot = tmp_path / "video.png"
    proc = _studio(str(video), "--screenshot", str(shot))
    assert proc.returncode == 0, proc.stderr
    image = _read_png(shot)
    assert image.std() > 20
    assert _near(image, WAVE, tol=35).sum() > 2000


@needs_display
@pytest.mark.gui
def test_screenshot_of_a_bad_file_is_one_error_line(tmp_path: Path) -> None:
    bad = tmp_path / "notes.mp4"
    bad.write_text("this is not a video")
    proc = _studio(str(bad), "--screenshot", str(tmp_path / "x.png"), timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    assert not (tmp_path / "x.png").exists()


def test_headless_out_renders_stems_and_mix(clip: tuple[Path, Path], tmp_path: Path) -> None:
    _, project_path = clip
    out = tmp_path / "render"
    proc = _studio(str(project_path), "--headless-out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert str(out) in proc.stdout
    mix, rate = sf.read(out / "mix.wav", dtype="float32", always_2d=True)
    assert rate == 48_000 and mix.shape[1] == 2
    assert abs(mix.shape[0] - 3 * 48_000) <= 1
    stems = sorted((out / "stems").glob("*.wav"))
    assert len(stems) == 2
    total = sum(sf.read(p, dtype="float32", always_2d=True)[0] for p in stems)
    assert np.allclose(total, mix, atol=2e-4)
    assert json.loads((out / "project.json").read_text())["schema"] == "stereofoley.project/1"


@pytest.mark.slow
def test_no_display_renders_instead_of_opening_a_window(clip: tuple[Path, Path],
                                                        tmp_path: Path) -> None:
    video, _ = clip  # from a video: analysis, render and export, all without a window
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    proc = subprocess.run([sys.executable, "-m", "app", "studio", str(video)],
                          capture_output=True, text=True, timeout=240, cwd=tmp_path,
                          env={**env, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "clip-foley"
    assert (out / "mix.wav").is_file() and "no display" in proc.stdout
    rendered = json.loads((out / "project.json").read_text())
    assert len(rendered["objects"]) >= 2          # the analysis found the ball and the walker
    assert (out / "review.mp4").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [(["missing.mp4", "--headless-out", "o"], "not found"),
     (["{clip}", "--headless-out", "o", "--screenshot", "s.png"], "--screenshot"),
     (["{clip}", "--headless-out", "{existing}"], "not empty")],
)
def test_studio_bad_arguments(clip: tuple[Path, Path], tmp_path: Path, args: list[str],
                              message: str) -> None:
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "keep.txt").write_text("mine")
    argv = [a.format(clip=clip[1], existing=existing) for a in args]
    proc = _studio(*argv, cwd=tmp_path, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], proc.stderr
    assert (existing / "keep.txt").read_text() == "mine"
    assert not (tmp_path / "o").exists()


SESSION = r'''
import json, sys, time
import dearpygui.dearpygui as dpg
from app.studio.session.audio_link import AudioLink
from app.studio.session.controller import StudioController
from app.studio.ui.window import StudioWindow

project_path, recovery = sys.argv[1], sys.argv[2]
dpg.create_context()
ctl = StudioController(audio=AudioLink(silent=True), autosave_dir=recovery)
win = StudioWindow(ctl)
win.build()
dpg.create_viewport(title="session", width=1600, height=960, vsync=False)
dpg.setup_dearpygui()
dpg.show_viewport()

def pump(n=1):
    for _ in range(n):
        win.frame()
        dpg.render_dearpygui_frame()

def settle():
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        idle = not ctl.worker.busy
        pump()
        if idle and not ctl.worker.busy:
            pump(2)
            return
    raise SystemExit("jobs never finished")

def wait_for(condition, what, timeout=60.0):
    """Draw frames until `condition()` holds (a loaded machine needs more of them)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pump()
        if condition():
            return
        time.sleep(0.01)  # let the decoder thread run
    raise SystemExit(f"timed out waiting for {what}")

out = {}
ctl.open(project_path)
settle()
ctl.seek(1.0)
wait_for(lambda: win.video.rect is not None and win.frame_ready(), "the picture at 1.0 s")
box = ctl.project.analysis.object(2).box_at(ctl.state.frame_index())
sx, sy = win.video.rect.to_screen((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
win.video.mouse_down(sx, sy)              # click on the walker
win.video.mouse_up()
out["selected_by_click"] = ctl.state.selected
from app.studio.ui.shortcuts import key_code
win._on_key(None, key_code("m"))           # the M key, through the real key handler
settle()
out["muted"] = ctl.project.object_sound(2).nudges.mute
win.run_action("toggle_mute")
win.run_action("add_keyframe")            # K at the playhead
settle()
lane = win.timeline.layout.object_lane(2)
x = win.timeline.layout.x_of(2.0)
win.timeline.mouse_down(x, lane.pan_to_y(0.5), double=True)   # double-click adds a keyframe
settle()
win.timeline.mouse_down(x, lane.pan_to_y(0.5))                # grab it and drag it down
win.timeline.mouse_drag(x + 20, lane.pan_to_y(-0.5))
win.timeline.mouse_up()
settle()
out["keys"] = [[k.time, k.pan] for k in ctl.project.object_sound(2).nudges.pan_keyframes]
from app.studio.session.timeline_layout import header_buttons
solo = header_buttons(lane)["solo"]
win.timeline.mouse_down((solo[0] + solo[2]) / 2, (solo[1] + solo[3]) / 2)   # S in the header
win.timeline.mouse_up()
settle()
out["soloed"] = ctl.project.object_sound(2).nudges.solo
win.timeline.mouse_down(win.timeline.layout.x_of(0.5), 40)    # click in the mix lane: seek
out["seek"] = ctl.state.playhead
win.timeline.mouse_up()
rect = win.video.rect
win.video.mouse_down(*rect.to_screen(5, 5))                    # drag a box on empty picture
win.video.mouse_drag(*rect.to_screen(60, 50))
win.video.mouse_up()
settle()
out["objects_after_drag"] = ctl.state.object_ids()
win.run_action("next_object")                                  # Tab
out["tab_selected"] = ctl.state.selected
win.run_action("undo")
settle()
out["objects_after_undo"] = ctl.state.object_ids()
ctl.seek(1.5)
win.run_action("zoom_in")
pump(2)
out["view"] = list(win.timeline.view)
win.timeline.wheel(win.timeline.layout.x_of(1.5), 1.0, zoom=False)   # Shift+wheel: scroll
pump(2)
out["scrolled"] = list(win.timeline.view)
win.run_action("zoom_fit")
pump(2)
out["fit"] = win.timeline.view
win._on_key(None, key_code("space"))       # Space plays ...
pump(5)
out["played"] = ctl.audio.playing
win._on_key(None, key_code("space"))       # ... and pauses
out["paused"] = not ctl.audio.playing
win.run_action("help")
pump(3)
wait_for(win.frame_ready, "the picture at the playhead")
out["frames_drawn_ok"] = win.frame_ready()
out["error"] = ctl.state.error
win.dialogs.hide("help")
pump(2)
ctl.set_gain(1, -3.0)                       # an unsaved change: quitting asks first
win.run_action("quit")
pump(2)
out["asked"] = win.dialogs.shown("confirm") and dpg.is_dearpygui_running()
win.dialogs.confirm_go()                    # "Discard changes"
pump(1)
out["stopped"] = not dpg.is_dearpygui_running()
ctl.shutdown()
win.close()
dpg.destroy_context()
print(json.dumps(out))
'''


@needs_display
@pytest.mark.gui
@pytest.mark.slow
def test_window_session_drives_widgets(clip: tuple[Path, Path], tmp_path: Path) -> None:
    """Mouse and keyboard handlers of the real widgets, in a real window, change the project."""
    _, project_path = clip
    proc = subprocess.run([sys.executable, "-c", SESSION, str(project_path), str(tmp_path)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["error"] == ""
    assert out["selected_by_click"] == 2
    assert out["muted"] is True
    (t0, p0), (t1, p1) = out["keys"]
    assert t0 == pytest.approx(1.0, abs=0.02)
    assert t1 > 2.0 and p1 == pytest.approx(-0.5, abs=0.1)     # dragged later and lower
    assert out["seek"] == pytest.approx(0.5, abs=0.05)
    assert out["soloed"] is True
    assert out["objects_after_drag"] == [1, 2, 3]
    assert out["tab_selected"] == 1                            # wraps from 3 to 1
    assert out["objects_after_undo"] == [1, 2]
    assert out["frames_drawn_ok"] is True
    v0, v1 = out["view"]                                       # 2x zoom around the playhead
    assert v1 - v0 == pytest.approx(1.5, abs=0.01) and v0 < 1.5 < v1
    assert out["scrolled"][0] < v0                             # wheel up: earlier
    assert out["fit"] is None
    assert (out["played"], out["paused"]) == (True, True)
    assert (out["asked"], out["stopped"]) == (True, True)


@needs_display
@pytest.mark.gui
def test_screenshot_of_a_project_whose_video_is_missing(clip: tuple[Path, Path],
                                                        tmp_path: Path) -> None:
    """The audio still renders and the window still shows; the picture says what is wrong."""
    doc = json.loads(clip[1].read_text())
    doc["analysis"]["video"]["path"] = str(tmp_path / "moved-away.mp4")
    project = tmp_path / "orphan.json"
    project.write_text(json.dumps(doc))
    shot = tmp_path / "orphan.png"
    proc = _studio(str(project), "--screenshot", str(shot), timeout=120)
    assert proc.returncode == 0, proc.stderr
    image = _read_png(shot)
    assert _near(image, WAVE, tol=35).sum() > 2000            # the mix was rendered anyway
