"""Render memory: peak RSS of a render as the clip gets longer and the objects more numerous
(figures go to BENCHMARKS.md, section "Render memory"; issue 12).

    .venv/bin/python bench/bench_render_memory.py --minutes 1 5 10 --objects 24
    .venv/bin/python bench/bench_render_memory.py --minutes 1 --objects 24 --path memory
    .venv/bin/python bench/bench_render_memory.py --minutes 0 --clip-minutes 10 --clip-objects 140
    .venv/bin/python bench/bench_render_memory.py --minutes 0 --hour-clip
    .venv/bin/python bench/bench_render_memory.py --minutes 0 --hour

1. render only: a synthetic analysis (video.synth.scene_truth: known tracks and events, no
   video decoded) of `--objects` objects, each on screen `--lifetime` s (0: the whole clip),
   their entries spread over the clip (with lifetime 0: people walking on the spot for the
   whole clip), rendered and written (app.export.render_and_export, as
   `stereofoley render` does) in a fresh subprocess per case. Reported: the subprocess's RSS
   once the analysis is built and the project made (`base`), its peak RSS over the render and
   export (`peak`), and the render's wall time. `--path memory` runs the old whole-clip route
   (render_scene + export_render) instead, for comparison.
2. `--clip-minutes`: a generated 640x360 clip (video.synth.parade_scene: `--clip-objects`
   walkers crossing one after another, `--clip-crossing` s each, drawn walkers the detector
   recognizes as people, so the analysis keeps them apart) through `python -m app render`
   (analysis included): wall time, x real time, peak RSS, tracks found (target for 10 minutes
   and >= 100 tracks: < 1.5 GB, faster than real time). Clips are cached under
   $TMPDIR/stereofoley-bench (`cached_clip` prints how long one took to make).
3. `--hour-clip`: a 1-hour 640x360 clip of one walker pacing for the whole hour, the same way
   (target < 1 GB); `--hour`: a 1-hour synthetic analysis, one object throughout, render
   only.
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


CACHE = Path(tempfile.gettempdir()) / "stereofoley-bench"


def cached_clip(minutes: float, objects: int, crossing: float) -> Path:
    """A 640x360 H.264 clip of `video.synth.parade_scene(minutes, objects, crossing)` (walkers
    crossing one after another; crossing 0: one walker pacing the whole clip), made once and
    kept under CACHE (x264 ultrafast; says how long it took)."""
    from bench_analysis import encode_frames

    from video.synth import PACE_TURN_S, long_frames, parade_scene

    path = CACHE / f"parade-{minutes:g}min-{objects}-{crossing:g}s.mp4"
    if path.is_file():
        print(f"clip {path} (cached)", flush=True)
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    spec = parade_scene(minutes * 60.0, objects, crossing=crossing)
    start = time.perf_counter()
    part = path.with_suffix(".part.mp4")
    encode_frames(part, long_frames(spec, turn=PACE_TURN_S if crossing <= 0 else 0.0),
                  spec.width, spec.height, spec.fps)
    part.rename(path)
    print(f"clip {path} made in {time.perf_counter() - start:.0f} s", flush=True)
    return path


def clip_case(minutes: float, objects: int, crossing: float) -> None:
    """A generated 640x360 clip through `python -m app render` (analysis included): wall time,
    x real time, peak RSS of the command, tracks in its analysis."""
    clip = cached_clip(minutes, objects, crossing)
    with tempfile.TemporaryDirectory() as tmp:
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
        found = doc["analysis"]["objects"]
        labels = sorted({o["label"] for o in found})
        duration = float(doc["analysis"]["video"]["duration"])
        size = sum(f.stat().st_size for f in (Path(tmp) / "out").rglob("*.wav"))
        stems = len(list((Path(tmp) / "out" / "stems").glob("*.wav")))
        print(f"640x360 clip {duration / 60:.1f} min, {objects} walkers drawn, {len(found)} "
              f"tracks found ({', '.join(labels)}), {stems} stems: `stereofoley render` incl. "
              f"analysis {wall:.0f} s wall = {duration / wall:.2f}x real time, peak RSS "
              f"{peak:.0f} MB, {size / 1e9:.2f} GB of WAV", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="*", default=[1.0, 5.0, 10.0])
    parser.add_argument("--objects", type=int, default=24)
    parser.add_argument("--lifetime", type=float, default=30.0)
    parser.add_argument("--path", choices=("stream", "memory"), default="stream")
    parser.add_argument("--clip-minutes", type=float, default=0.0)
    parser.add_argument("--clip-objects", type=int, default=140)
    parser.add_argument("--clip-crossing", type=float, default=8.0,
                        help="seconds each walker of the clip takes to cross it (0: one "
                             "walker pacing for the whole clip)")
    parser.add_argument("--hour", action="store_true",
                        help="a 1-hour synthetic analysis, one object throughout (render only)")
    parser.add_argument("--hour-clip", action="store_true",
                        help="a 1-hour clip of one walker pacing, analysis included")
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
        clip_case(args.clip_minutes, args.clip_objects, args.clip_crossing)
    if args.hour:
        print(json.dumps(run_case(60.0, 1, 0.0, args.path)), flush=True)
    if args.hour_clip:
        clip_case(60.0, 1, 0.0)
    print(f"load average {os.getloadavg()[0]:.1f} at the end", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
