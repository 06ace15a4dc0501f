"""Studio speed: time to the first frame on screen, and the UI frame rate while playing 720p.

Runs the real studio (`python -m app studio PROJECT --screenshot ...`) in a fresh process per
run, on the current X display (or under `xvfb-run` when there is none), on a synthetic 1280x720
30 fps clip with its true analysis (so analysis speed does not blur the UI figures). The studio
reports through `STEREOFOLEY_STUDIO_STATS`: seconds from process start to the first drawn frame,
and frames drawn while playing for `--play` seconds (the loop is paced to at most 60 fps while
playing, so below that this is the rate the UI can sustain), and the CPU time the
whole process spent per frame while playing, which does not depend on how busy the machine is.

    .venv/bin/python bench/bench_studio.py [--runs 3] [--play 6] [--write]
    .venv/bin/python bench/bench_studio.py --scale [--play 10] [--write]

`--write` replaces the "Studio" section of BENCHMARKS.md with the figures.

`--scale`: the studio at scale. A generated 10-minute 640x360 clip (low bitrate, cached under
/tmp/bench-studio-scale) with 100 synthetic tracks (objects crossing the frame for 8-40 s each,
built directly as the project's analysis: no video analysis runs) opens in the studio twice:
first with an empty stem cache (everything is generated and cached), then again (the stems come
from the cache). Each run plays for `--play` seconds while nudging the pan of an object that
sounds at the playhead (nudge to audible: from the edit until the playback callback reads the
mix with the re-rendered stem), then scrolls the lanes and the object list; it reports the frame
rate, scroll frame times, open time and the process's peak resident memory. `--write` replaces
the "Studio at scale" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np

from app.project import Project, save_project
from video.base.tracks import Analysis, Event, Track
from video.synth import ObjectSpec, SceneSpec, write_clip

ROOT = Path(__file__).resolve().parents[1]


def make_clip(folder: Path, *, duration: float) -> Path:
    """A 720p clip with three moving objects; returns a project file holding its true analysis."""
    spec = SceneSpec(width=1280, height=720, fps=Fraction(30), duration=duration, seed=7,
                     objects=(ObjectSpec("ball", start=(0.2, 0.3), velocity=(0.08, 0.0)),
                              ObjectSpec("walker", start=(0.85, 0.72), velocity=(-0.1, 0.0),
                                         color=(40, 90, 230)),
                              ObjectSpec("box", start=(0.1, 0.5), velocity=(0.15, -0.02),
                                         color=(40, 200, 90))))
    truth = write_clip(spec, folder / "clip720.mp4")
    project = folder / "clip720.json"
    save_project(Project(analysis=truth), project)
    return project


def run_once(project: Path, folder: Path, *, play_s: float,
             env: dict[str, str] | None = None) -> dict[str, float]:
    stats = folder / "stats.json"
    stats.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "app", "studio", str(project), "--screenshot",
           str(folder / "shot.png")]
    if not os.environ.get("DISPLAY"):
        if shutil.which("xvfb-run") is None:
            raise SystemExit("no display and no xvfb-run: cannot open the studio")
        cmd = ["xvfb-run", "-a", "-s", "-noreset -screen 0 1600x1000x24", *cmd]
    env = {**os.environ, "STEREOFOLEY_STUDIO_STATS": str(stats),
           "STEREOFOLEY_STUDIO_PLAY_S": str(play_s), **(env or {})}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise SystemExit(f"studio failed ({proc.returncode}): {proc.stderr.strip()[-400:]}")
    return json.loads(stats.read_text())


EMPTY_WINDOW = """
import time
import dearpygui.dearpygui as dpg
dpg.create_context()
with dpg.window(tag="w"):
    dpg.add_text("empty")
dpg.create_viewport(title="floor", width=1600, height=960, vsync=False)
dpg.setup_dearpygui()
dpg.show_viewport()
dpg.set_primary_window("w", True)
for _ in range(10):
    dpg.render_dearpygui_frame()
cpu, wall = time.process_time(), time.perf_counter()
for _ in range(120):
    dpg.render_dearpygui_frame()
print((time.process_time() - cpu) / 120, (time.perf_counter() - wall) / 120)
dpg.destroy_context()
"""


def empty_window_floor() -> tuple[float, float]:
    """(CPU s, wall s) per frame of an empty Dear PyGui window of the studio's size: what the
    display path alone costs here (software OpenGL + Xvfb), whatever the studio draws."""
    cmd = [sys.executable, "-c", EMPTY_WINDOW]
    if not os.environ.get("DISPLAY"):
        cmd = ["xvfb-run", "-a", "-s", "-noreset -screen 0 1600x1000x24", *cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True)
    cpu, wall = (float(v) for v in proc.stdout.split()[-2:])
    return cpu, wall


def nudge_latency(project: Path, *, nudges: int = 10) -> list[float]:
    """Seconds from a pan-offset edit (as the inspector slider makes it) until the new mix is
    in the playback engine and the timeline's envelopes are updated, one object of three."""
    import time

    from app.studio.session.audio_link import AudioLink
    from app.studio.session.controller import StudioController

    def settle(ctl: StudioController) -> None:
        while True:
            idle = not ctl.worker.busy
            applied = ctl.poll()
            if idle and not applied and not ctl.worker.busy:
                return
            time.sleep(0.001)

    with tempfile.TemporaryDirectory(prefix="bench-studio-recovery-") as recovery:
        ctl = StudioController(audio=AudioLink(silent=True), autosave_dir=recovery)
        try:
            ctl.open(project)
            settle(ctl)
            out = []
            for i in range(nudges):
                start = time.perf_counter()
                ctl.set_pan_offset(2, -0.05 * (i + 1))
                settle(ctl)
                out.append(time.perf_counter() - start)
            return out
        finally:
            ctl.shutdown()


def section(results: list[dict[str, float]], *, runs: int, play_s: float, load: float,
            latency: list[float], floor: tuple[float, float]) -> str:
    first = [r["first_frame_s"] for r in results]
    fps = [r["play_fps"] for r in results]
    worst = [r["worst_frame_ms"] for r in results]
    cpu = [r["cpu_ms_per_frame"] for r in results]
    machine = f"{os.cpu_count()}-core CPU dev box ({platform.processor() or platform.machine()})"
    if load > 1.0:
        machine += f", shared with other jobs (load average {load:.1f} during the runs)"
    return "\n".join([
        "## Studio",
        "",
        "Time from process start to the first frame on screen (target < 3 s), and the UI frame",
        "rate while playing a 1280x720 30 fps clip with three tracked objects (target 30 fps),",
        "Xvfb + llvmpipe (software OpenGL), preview picture 640 px wide; the loop is paced to",
        "at most 60 frames a second while playing (no vsync on Xvfb).",
        "",
        "| figure | median | worst of runs |",
        "|---|---|---|",
        f"| first frame on screen | {statistics.median(first):.2f} s | {max(first):.2f} s |",
        f"| UI frame rate while playing 720p | {statistics.median(fps):.1f} fps "
        f"| {min(fps):.1f} fps |",
        f"| longest single frame while playing | {statistics.median(worst):.0f} ms "
        f"| {max(worst):.0f} ms |",
        f"| CPU time per UI frame while playing (all threads: UI, decoder, llvmpipe) "
        f"| {statistics.median(cpu):.1f} ms | {max(cpu):.1f} ms |",
        f"| nudge to audible (pan slider edit -> new mix playing, 8 s clip, 3 objects) "
        f"| {1000 * statistics.median(latency):.0f} ms | {1000 * max(latency):.0f} ms |",
        f"| floor: an empty Dear PyGui window of the same size, per frame "
        f"| {1000 * floor[0]:.1f} ms CPU, {1000 * floor[1]:.1f} ms wall | |",
        "",
        f"{runs} runs of {play_s:g} s playback each; {len(latency)} nudges. Command: "
        f"`.venv/bin/python bench/bench_studio.py --runs {runs} --play {play_s:g} --write`",
        f"Machine: {machine}.",
        "",
    ])


def write_section(text: str, title: str = "## Studio") -> None:
    """Replace (or append) the `title` section of BENCHMARKS.md, leaving the rest alone."""
    path = ROOT / "BENCHMARKS.md"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip() == title), None)
    if start is None:
        body = "".join(lines).rstrip("\n") + "\n\n" + text
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
                   len(lines))
        body = "".join(lines[:start]) + text + ("\n" if end < len(lines) else "") + \
            "".join(lines[end:])
    path.write_text(body, encoding="utf-8")


SCALE_DIR = Path(tempfile.gettempdir()) / "bench-studio-scale"
LABELS = ("person", "car", "dog", "bicycle", "person", "sports ball")


def crowd(truth: Analysis, *, count: int, seed: int = 7) -> Analysis:
    """`truth` with `count` synthetic tracks instead of its own: objects crossing the frame
    for 8-40 s each at random times (walkers with steps, the others with impacts)."""
    rng = np.random.default_rng(seed)
    video = truth.video
    fps = float(video.fps)
    objects = []
    for i in range(count):
        span = int(rng.uniform(8.0, 40.0) * fps)
        f0 = int(rng.integers(0, video.frames - span))
        frames = np.arange(f0, f0 + span)
        x = np.linspace(*rng.uniform(0.0, 0.8 * video.width, 2), span)
        y = rng.uniform(0.2, 0.7) * video.height
        w, h = rng.uniform(30, 90), rng.uniform(40, 120)
        boxes = np.stack([x, np.full(span, y), x + w, np.full(span, y + h)], axis=1)
        label = LABELS[i % len(LABELS)]
        kind = "step" if label == "person" else "impact"
        events = tuple(Event(time=round(int(f) / fps, 3), strength=float(rng.uniform(0.4, 1.0)),
                             kind=kind) for f in frames[::int(fps // 2)])
        objects.append(Track(id=i + 1, label=label, frames=frames, boxes=boxes, events=events))
    return replace(truth, objects=tuple(objects))


def make_scale_project(folder: Path, *, duration: float, objects: int) -> Path:
    """The 640x360 clip (made once, kept under `folder`) and a project of `objects` tracks."""
    folder.mkdir(parents=True, exist_ok=True)
    clip = folder / f"clip{int(duration)}s.mp4"
    spec = SceneSpec(width=640, height=360, fps=Fraction(30), duration=duration, seed=3,
                     objects=(ObjectSpec("ball", start=(0.2, 0.4), velocity=(0.02, 0.0)),))
    from video.synth import scene_truth

    truth = scene_truth(spec, path=str(clip)) if clip.is_file() else \
        write_clip(spec, clip, crf=35)
    project = folder / f"crowd{int(duration)}s_{objects}.json"
    save_project(Project(analysis=crowd(truth, count=objects)), project)
    return project


def scale_section(runs: list[dict[str, float]], *, play_s: float, load: float,
                  duration: float, objects: int) -> str:
    machine = f"{os.cpu_count()}-core CPU dev box ({platform.processor() or platform.machine()})"
    rows = []
    for name, r in zip(("empty stem cache (renders every object)",
                        "again (stems from the cache)"), runs, strict=False):
        nudges = r.get("nudge_ms", [])
        whole = r.get("nudge_whole_ms", [])
        rows.append(
            f"| {name} | {r['first_frame_s'] + r['loaded_s']:.1f} s | {r['play_fps']:.1f} fps "
            f"(worst frame {r['worst_frame_ms']:.0f} ms) | {r.get('scroll_median_ms', 0):.1f} ms "
            f"(worst {r.get('scroll_worst_ms', 0):.0f} ms, {r.get('lanes_drawn', 0)} lanes drawn) "
            f"| {statistics.median(nudges) if nudges else float('nan'):.0f} ms "
            f"(worst {max(nudges) if nudges else float('nan'):.0f}, {len(nudges)} nudges) "
            f"| {statistics.median(whole) if whole else float('nan'):.0f} ms "
            f"| {r['peak_rss_mb']:.0f} MB | {r['cpu_ms_per_frame']:.1f} ms |")
    return "\n".join([
        "## Studio at scale",
        "",
        f"A {duration / 60:g}-minute 640x360 30 fps clip with {objects} tracked objects (synthetic "
        "tracks, 8-40 s each) in the studio on Xvfb + llvmpipe: stems rendered once into the "
        "stem cache and memory-mapped, the mix summed a block at a time by the playback "
        "callback, lanes drawn from waveform overviews, only the lanes in view drawn. Holding "
        f"the stems as float arrays would take {duration * 48000 * objects * 8 / 1e9:.0f} GB.",
        "",
        "| run | open (process start to loaded and rendered) | UI frame rate while playing "
        "| scroll frame time (lanes + object list) | nudge to audible | whole stem placed "
        "| peak RSS | CPU per frame while playing |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"{play_s:g} s of playback per run. Each nudge moves the pan of an object sounding at "
        "the playhead (the probe seeks to the next object when none sounds). Nudge to "
        "audible: from the pan edit until the playback callback first reads a mix holding "
        "the object's new placement at the playhead (the device's output latency comes on "
        "top); whole stem placed: until it reads the mix with the object's whole new stem "
        "(median). Peak RSS: the whole studio process (UI, decoder, "
        "renderer, mapped stem pages). Command: "
        f"`.venv/bin/python bench/bench_studio.py --scale --play {play_s:g} --write`",
        f"Machine: {machine}, shared with other engineers' jobs: load average {load:.1f} "
        "during the runs, so frame rates and latencies are pessimistic.",
        "",
    ])


def main_scale(args: argparse.Namespace) -> int:
    import shutil as _shutil

    load = os.getloadavg()[0]
    project = make_scale_project(SCALE_DIR, duration=args.duration, objects=args.objects)
    cache = SCALE_DIR / "stem-cache"
    _shutil.rmtree(cache, ignore_errors=True)
    env = {"STEREOFOLEY_STEM_CACHE": str(cache), "STEREOFOLEY_STEM_CACHE_MODE": "always",
           "STEREOFOLEY_STUDIO_NUDGES": str(args.nudges),
           "STEREOFOLEY_STUDIO_SCROLL_FRAMES": "120"}
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-studio-") as tmp:
        for i in range(2):
            result = run_once(project, Path(tmp), play_s=args.play, env=env)
            load = max(load, os.getloadavg()[0])
            print(f"run {i + 1}: {json.dumps(result)}")
            runs.append(result)
    text = scale_section(runs, play_s=args.play, load=load, duration=args.duration,
                         objects=args.objects)
    print(text)
    if args.write:
        write_section(text, "## Studio at scale")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--play", type=float, default=6.0, help="seconds of playback per run")
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    parser.add_argument("--scale", action="store_true",
                        help="the studio at scale: a 10-minute clip with 100 objects")
    parser.add_argument("--duration", type=float, default=600.0, help="--scale clip seconds")
    parser.add_argument("--objects", type=int, default=100, help="--scale object count")
    parser.add_argument("--nudges", type=int, default=8, help="--scale nudges while playing")
    args = parser.parse_args()
    if args.scale:
        return main_scale(args)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-studio-") as tmp:
        folder = Path(tmp)
        project = make_clip(folder, duration=max(args.play + 2.0, 8.0))
        results = []
        for i in range(args.runs):
            result = run_once(project, folder, play_s=args.play)
            print(f"run {i + 1}: first frame {result['first_frame_s']:.2f} s, "
                  f"{result['play_fps']:.1f} fps while playing, "
                  f"worst frame {result['worst_frame_ms']:.0f} ms, "
                  f"{result['cpu_ms_per_frame']:.1f} ms CPU per frame")
            results.append(result)
        latency = nudge_latency(project)
        print(f"nudge to audible: median {1000 * statistics.median(latency):.0f} ms")
    floor = empty_window_floor()
    load = max(load, os.getloadavg()[0])
    text = section(results, runs=args.runs, play_s=args.play, load=load, latency=latency,
                   floor=floor)
    print(text)
    if args.write:
        write_section(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
