"""Render benchmarks (figures go to BENCHMARKS.md, section "Render").

(a) generation + spatializing + mastering/mixing + writing BWF stems and mix: 60 s, 8 objects
    (synthetic tracks with events); target >= 50x real time.
(b) SceneRenderer.update_object after a nudge on a 60 s clip: target < 50 ms.
(c) the whole `stereofoley render` of a 640x360 clip, analysis included: target > 1x real time.

    .venv/bin/python bench/bench_render.py [--duration 60] [--clip-duration 20] [--skip-cli]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from app.cli import main as cli_main
from app.export import export_render
from app.project import Project
from audio.nudges import Nudges
from audio.spatialize import spatialize
from model.foley.render import SceneRenderer, spatial_config
from model.foley.scene import ObjectSound, RenderSettings
from video.base.tracks import Analysis
from video.synth import ObjectSpec, SceneSpec, scene_truth, write_clip

OBJECTS = (
    ObjectSpec("ball", start=(0.1, 0.2), velocity=(0.05, 0.0), restitution=0.9),
    ObjectSpec("walker", start=(0.05, 0.8), velocity=(0.03, 0.0)),
    ObjectSpec("box", start=(0.0, 0.4), velocity=(0.02, 0.0)),
    ObjectSpec("slide", start=(0.3, 0.85), velocity=(0.3, 0.0), friction=0.01),
    ObjectSpec("approach", start=(0.5, 0.5), velocity=(0.01, 0.0), growth=0.02),
    ObjectSpec("recede", start=(0.4, 0.4), velocity=(-0.005, 0.0), growth=0.02),
    ObjectSpec("ball", start=(0.8, 0.1), velocity=(-0.03, 0.0), restitution=0.92),
    ObjectSpec("walker", start=(0.9, 0.8), velocity=(-0.02, 0.0)),
)


def _scene(duration: float) -> Analysis:
    return scene_truth(SceneSpec(duration=duration, objects=OBJECTS))


def bench_full(duration: float) -> dict[str, float]:
    """(a): a `duration` s, 8-object render as render_scene runs it, then OUTDIR.

    total = generate + render() + write. render() spatializes every object into the stems it
    keeps, then masters (the master call is timed inside it); a separate spatialize pass over
    the same objects, whose results are dropped at once, is timed too for reference (it is
    faster than the one inside render() mainly because it keeps reusing the same memory, where
    render() must touch 8 fresh stems: costly on this VM)."""
    import audio.master

    analysis = _scene(duration)
    sounds = [ObjectSound(id=t.id) for t in analysis.objects]
    settings = RenderSettings(seed=1)
    renderer = SceneRenderer(analysis, settings)
    t0 = time.perf_counter()
    dry = {s.id: renderer.dry(s) for s in sounds}
    t1 = time.perf_counter()
    config = spatial_config(settings)
    for s in sounds:
        spatialize(dry[s.id], analysis.object(s.id), analysis.video, nudges=s.nudges,
                   config=config)
    t2 = time.perf_counter()
    plain_master, master_s = audio.master.master, [0.0]

    def timed_master(*args: Any, **kwargs: Any) -> audio.master.MasterResult:
        start = time.perf_counter()
        out = plain_master(*args, **kwargs)
        master_s[0] += time.perf_counter() - start
        return out

    audio.master.master = timed_master   # render() imports it at call time
    try:
        t2b = time.perf_counter()
        result = renderer.render(sounds)      # dry cached: spatialize again + master + mix
        t3 = time.perf_counter()
    finally:
        audio.master.master = plain_master
    project = Project(analysis=analysis, objects=sounds, render=settings)
    with tempfile.TemporaryDirectory() as tmp:
        export_render(Path(tmp) / "out", project, result)
        t4 = time.perf_counter()
    render_s = t3 - t2b
    total = (t1 - t0) + render_s + (t4 - t3)
    return {"objects": len(sounds), "generate_s": t1 - t0, "spatialize_alone_s": t2 - t1,
            "render_s": render_s, "master_s": master_s[0], "write_s": t4 - t3,
            "total_s": total, "x_realtime": duration / total,
            "x_realtime_without_master": duration / (total - master_s[0])}


def bench_nudge(duration: float, repeats: int = 15) -> dict[str, float]:
    """(b): one object re-spatialized and the mix patched, after a full render."""
    analysis = _scene(duration)
    sounds = [ObjectSound(id=t.id) for t in analysis.objects]
    renderer = SceneRenderer(analysis, RenderSettings(seed=1))
    renderer.render(sounds)
    times = []
    for i in range(repeats):
        nudged = replace(sounds[2], nudges=Nudges(pan_offset=-0.5 + i / repeats, gain_db=-1.0))
        t0 = time.perf_counter()
        renderer.update_object(nudged)
        times.append(time.perf_counter() - t0)
    return {"median_ms": 1000 * statistics.median(times), "max_ms": 1000 * max(times)}


def bench_cli(duration: float) -> dict[str, float]:
    """(c): `stereofoley render clip.mp4 -o OUT` on a 640x360 synthetic clip, analysis included."""
    spec = SceneSpec(width=640, height=360, fps=Fraction(30), duration=duration, seed=2,
                     objects=OBJECTS[:4])
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "clip.mp4"
        write_clip(spec, clip)
        cli_main(["render", str(clip), "-o", str(Path(tmp) / "warm")])   # warm caches/imports
        t0 = time.perf_counter()
        code = cli_main(["render", str(clip), "-o", str(Path(tmp) / "out")])
        wall = time.perf_counter() - t0
    if code != 0:
        raise SystemExit(f"render failed with exit status {code}")
    return {"wall_s": wall, "x_realtime": duration / wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--clip-duration", type=float, default=20.0)
    parser.add_argument("--skip-cli", action="store_true")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} (on {os.cpu_count()} CPUs)")
    full = bench_full(args.duration)
    print(f"(a) {args.duration:.0f} s, {full['objects']} objects: generate {full['generate_s']:.2f} s,"
          f" render {full['render_s']:.2f} s (spatialize into 8 kept stems + master"
          f" {full['master_s']:.2f} s + mix), write {full['write_s']:.2f} s"
          f" -> total {full['total_s']:.2f} s"
          f" = {full['x_realtime']:.1f}x real time (target >= 50x);"
          f" {full['x_realtime_without_master']:.1f}x without the master stage;"
          f" spatialize alone (results dropped) {full['spatialize_alone_s']:.2f} s")
    nudge = bench_nudge(args.duration)
    print(f"(b) update_object after a nudge, {args.duration:.0f} s clip: median"
          f" {nudge['median_ms']:.1f} ms, max {nudge['max_ms']:.1f} ms (target < 50 ms)")
    if not args.skip_cli:
        cli = bench_cli(args.clip_duration)
        print(f"(c) stereofoley render, 640x360 {args.clip_duration:.0f} s clip, analysis included:"
              f" {cli['wall_s']:.2f} s = {cli['x_realtime']:.2f}x real time (target > 1x)")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
