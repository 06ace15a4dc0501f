"""Render memory: peak RSS of a render as the clip gets longer and the objects more numerous
(figures go to BENCHMARKS.md, section "Render memory"; issue 12).

    .venv/bin/python bench/bench_render_memory.py --minutes 1 5 10 --objects 24
    .venv/bin/python bench/bench_render_memory.py --minutes 1 --objects 24 --path memory
    .venv/bin/python bench/bench_render_memory.py --minutes 0 --clip-minutes 10 --clip-objects 120
    .venv/bin/python bench/bench_render_memory.py --minutes 0 --hour

1. render only: a synthetic analysis (video.synth.scene_truth: known tracks and events, no
   video decoded) of `--objects` objects, each on screen `--lifetime` s (0: the whole clip),
   their entries spread over the clip (with lifetime 0: people walking on the spot for the
   whole clip), rendered and written (app.export.render_and_export, as
   `stereofoley render` does) in a fresh subprocess per case. Reported: the subprocess's RSS
   once the analysis is built and the project made (`base`), its peak RSS over the render and
   export (`peak`), and the render's wall time. `--path memory` runs the old whole-clip route
   (render_scene + export_render) instead, for comparison.
2. `--clip-minutes`: a generated 640x360 clip (`busy_frames`: coloured blocks entering one
   after another, `--clip-lifetime` s each) with `--clip-objects` objects through `python -m app render`
   (analysis included): wall time, x real time, peak RSS, tracks found.
3. `--hour`: a 1-hour analysis with one object on screen all the time, rendered (target
   < 1 GB).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))     # bench_analysis: the clip encoder
_KINDS = ("walker", "ball", "box", "slide", "approach", "recede")


def _scene_spec(minutes: float, objects: int, lifetime: float, *, seed: int = 12) -> object:
    """A clip of `minutes` with `objects` objects entering one after another (each on screen
    `lifetime` s, or to the end of the clip when 0), cycling through the kinds."""
    from video.synth import ObjectSpec, SceneSpec

    duration = minutes * 60.0
    rng = np.random.default_rng(seed)
    life = lifetime if lifetime > 0 else duration
    last = max(0.0, duration - life)
    specs = []
    for i in range(objects):
        kind = _KINDS[i % len(_KINDS)]
        enter = last * i / max(objects - 1, 1)
        exit_ = min(duration, enter + life) if lifetime > 0 else None
        direction = 1.0 if i % 2 else -1.0
        x0 = float(rng.uniform(0.2, 0.8))
        if lifetime <= 0:     # on screen the whole clip: a person walking on the spot
            spec = ObjectSpec("walker", start=(x0, 0.0), velocity=(0.0, 0.0), size=0.35,
                              step_period=float(rng.uniform(0.45, 0.6)))
        elif kind == "walker":
            spec = ObjectSpec("walker", start=(x0, 0.0), velocity=(direction * 0.02, 0.0),
                              size=0.35, step_period=float(rng.uniform(0.45, 0.6)))
        elif kind == "ball":
            spec = ObjectSpec("ball", start=(x0, 0.2), velocity=(direction * 0.02, 0.0),
                              size=0.08, restitution=0.9)
        elif kind == "slide":
            spec = ObjectSpec("slide", start=(x0, 0.0), velocity=(direction * 0.5, 0.0),
                              size=0.1, friction=0.2)
        elif kind == "box":
            spec = ObjectSpec("box", start=(x0, float(rng.uniform(0.2, 0.8))),
                              velocity=(direction * 0.01, 0.0), size=0.12)
        else:
            spec = ObjectSpec(kind, start=(x0, 0.5), velocity=(0.0, 0.0), size=0.12,
                              growth=0.05)
        colour = tuple(int(c) for c in rng.integers(30, 250, 3))
        specs.append(ObjectSpec(**{**spec.__dict__, "t_enter": enter, "t_exit": exit_,
                                   "color": colour, "depth": i}))
    return SceneSpec(duration=duration, objects=tuple(specs), seed=seed)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child(minutes: float, objects: int, lifetime: float, path: str, out: Path) -> None:
    """One case, in this (fresh) process: prints a JSON line of figures."""
    from app.export import export_render, render_and_export
    from app.project import Project
    from model.foley.render import render_scene
    from model.foley.scene import ObjectSound, RenderSettings
    from video.synth import scene_truth

    analysis = scene_truth(_scene_spec(minutes, objects, lifetime))  # type: ignore[arg-type]
    project = Project(analysis=analysis, objects=[ObjectSound(id=t.id) for t in
                                                  analysis.objects],
                      render=RenderSettings(seed=1))
    base = _rss_mb()
    start = time.perf_counter()
    if path == "stream":
        render_and_export(out, project)
    else:
        result = render_scene(project.analysis, project.objects, project.render)
        export_render(out, project, result)
    wall = time.perf_counter() - start
    size = sum(f.stat().st_size for f in out.rglob("*.wav"))
    print(json.dumps({"minutes": minutes, "objects": len(analysis.objects), "path": path,
                      "lifetime": lifetime, "base_mb": round(base), "peak_mb": round(_rss_mb()),
                      "render_s": round(wall, 1), "wav_gb": round(size / 1e9, 2)}))


def run_case(minutes: float, objects: int, lifetime: float, path: str) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run([sys.executable, __file__, "--child", "--minutes", str(minutes),
                               "--objects", str(objects), "--lifetime", str(lifetime),
                               "--path", path, "--out", str(Path(tmp) / "out")],
                              cwd=ROOT, capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    if proc.returncode != 0:
        raise SystemExit(f"case failed: {proc.stderr.strip()[-2000:]}")
    figures: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return figures


def busy_frames(width: int, height: int, seconds: float, objects: int, lifetime: float,
                *, fps: int = 30, seed: int = 12) -> Iterator[np.ndarray]:
    """Frames of a textured static scene where `objects` coloured blocks enter one after
    another (their entries spread over the clip), each crossing part of the frame with a bob
    for `lifetime` s, then leave; cycling sensor noise. Cheap to make (blocks pasted by
    slicing), so a 10-minute clip takes a few minutes, not hours."""
    import cv2

    from video.synth import SceneSpec, render_frame

    background = render_frame(SceneSpec(width=width, height=height, duration=1.0, seed=5,
                                        noise=0.0), 0)
    rng = np.random.default_rng(seed)
    noise = [(rng.integers(0, 4, (height, width, 3), dtype=np.uint8),
              rng.integers(0, 4, (height, width, 3), dtype=np.uint8)) for _ in range(4)]
    last = max(0.0, seconds - lifetime)
    enter = np.array([last * i / max(objects - 1, 1) for i in range(objects)])
    side = rng.integers(height // 12, height // 5, objects)
    x0 = rng.uniform(0.05, 0.6, objects)
    speed = rng.uniform(0.01, 0.03, objects) * np.where(np.arange(objects) % 2, 1.0, -1.0)
    y0 = rng.uniform(0.15, 0.75, objects)
    bob = rng.uniform(0.3, 1.5, objects)
    colours = rng.integers(30, 250, (objects, 3))
    for i in range(round(seconds * fps)):
        t = i / fps
        frame = background.copy()
        for k in np.flatnonzero((enter <= t) & (t < enter + lifetime)):
            age = t - enter[k]
            x = int(np.clip(x0[k] + speed[k] * age + 0.15 * np.sin(0.8 * age), 0.0, 0.95)
                    * (width - side[k]))
            y = int((y0[k] + 0.05 * abs(np.sin(np.pi * bob[k] * age))) * (height - side[k]))
            frame[y:y + side[k], x:x + side[k]] = colours[k]
        up, down = noise[i % 4]
        yield cv2.subtract(cv2.add(frame, up), down)


def write_busy_clip(path: Path, minutes: float, objects: int, *, lifetime: float = 8.0,
                    width: int = 640, height: int = 360, fps: int = 30) -> None:
    """`busy_frames` encoded with x264 ultrafast."""
    from bench_analysis import encode_frames

    encode_frames(path, busy_frames(width, height, minutes * 60.0, objects, lifetime, fps=fps),
                  width, height, Fraction(fps))


def clip_case(minutes: float, objects: int, lifetime: float) -> None:
    """A generated 640x360 clip through `python -m app render` (analysis included)."""
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "long.mp4"
        made = time.perf_counter()
        write_busy_clip(clip, minutes, objects, lifetime=lifetime)
        made = time.perf_counter() - made
        print(f"clip made in {made:.0f} s", flush=True)
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "app", "render", str(clip), "-o",
                               str(Path(tmp) / "out")], cwd=ROOT, capture_output=True,
                              text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"render failed: {proc.stderr.strip()[-2000:]}")
        peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024.0
        doc = json.loads((Path(tmp) / "out" / "project.json").read_text())
        tracks = len(doc["analysis"]["objects"])
        duration = float(doc["analysis"]["video"]["duration"])
        size = sum(f.stat().st_size for f in (Path(tmp) / "out").rglob("*.wav"))
        print(f"640x360 clip {duration / 60:.1f} min, {objects} objects drawn, {tracks} tracks "
              f"found: `stereofoley render` incl. analysis {wall:.0f} s wall = "
              f"{duration / wall:.2f}x real time, peak RSS {peak:.0f} MB, "
              f"{size / 1e9:.1f} GB of WAV", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="*", default=[1.0, 5.0, 10.0])
    parser.add_argument("--objects", type=int, default=24)
    parser.add_argument("--lifetime", type=float, default=30.0)
    parser.add_argument("--path", choices=("stream", "memory"), default="stream")
    parser.add_argument("--clip-minutes", type=float, default=0.0)
    parser.add_argument("--clip-objects", type=int, default=120)
    parser.add_argument("--clip-lifetime", type=float, default=8.0,
                        help="seconds each object of the clip is on screen")
    parser.add_argument("--hour", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.minutes[0], args.objects, args.lifetime, args.path, args.out)
        return 0
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    for minutes in args.minutes:
        if minutes > 0:
            print(json.dumps(run_case(minutes, args.objects, args.lifetime, args.path)),
                  flush=True)
    if args.clip_minutes > 0:
        clip_case(args.clip_minutes, args.clip_objects, args.clip_lifetime)
    if args.hour:
        print(json.dumps(run_case(60.0, 1, 0.0, args.path)), flush=True)
    print(f"load average {os.getloadavg()[0]:.1f} at the end", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
