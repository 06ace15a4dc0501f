"""Analysis speed (x real time) and peak memory of `analyze_video`.

    .venv/bin/python bench/bench_analysis.py                 # all three figures
    .venv/bin/python bench/bench_analysis.py --long-minutes 0   # speeds only

1. 640x360: the bundled demo clip (16 s, 7 objects).            target >= 4x real time
2. 1920x1080: a 20 s generated clip with moving objects.        target >= 1x real time
   (1 and 2 with object recognition on, as shipped, and again with --no-recognize, in one run,
   so the recognizer's cost is a ratio measured under the same load; 1's whole command
   `--repeat` times (default 3), on and off alternated, the median reported, as the shared box's
   speed drifts by a third between runs; 1 also in-process without the start-up:
   `analyze_video` alone, and everything `analyze` runs, pose footsteps included)
3. peak RSS of a subprocess analysing a generated 10-minute 1080p clip (target < 1.5 GB).

    .venv/bin/python bench/bench_analysis.py --feature-costs 5   # where the demo's time goes

`--feature-costs N` times `analyze_video` on the demo in-process with each optional part of the
analysis switched off in turn (shot cuts with dissolves, dissolves alone, objects at rest set
moving, recognition), all configurations alternated N rounds, and reports each one's median wall
time and process CPU time against everything on, then the pose-footsteps pass alone: what each
part costs, measured under the same load.

Each analysis runs in a fresh subprocess (python -m app analyze, as a user would run it), so
its peak resident memory is read from getrusage(RUSAGE_CHILDREN) and imports are counted in the
time. Long clips are made by a cheap generator (precomputed background and noise, objects pasted
by slicing, x264 ultrafast) so that making them does not take longer than analysing them.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from video.synth import SceneSpec, render_frame

ROOT = Path(__file__).resolve().parent.parent
# each timing is taken as shipped and with the recognizer off: (name, extra `analyze` arguments)
MODES = (("recognition on", ()), ("recognition off", ("--no-recognize",)))


def cheap_frames(width: int, height: int, fps: Fraction, seconds: float) -> Iterator[np.ndarray]:
    """Frames of a textured static scene with three moving blocks and cycling sensor noise."""
    background = render_frame(SceneSpec(width=width, height=height, fps=fps, duration=1.0,
                                        seed=5, noise=0.0), 0)
    rng = np.random.default_rng(5)
    noise = [(rng.integers(0, 4, (height, width, 3), dtype=np.uint8),
              rng.integers(0, 4, (height, width, 3), dtype=np.uint8)) for _ in range(4)]
    side = height // 8
    blocks = [((230, 40, 40), 0.25, 0.3), ((40, 90, 235), 0.5, -0.2), ((245, 200, 20), 0.75, 0.15)]
    count = round(seconds * fps)
    for i in range(count):
        t = i / float(fps)
        frame = background.copy()
        for k, (colour, y, speed) in enumerate(blocks):
            x = int((0.5 + 0.45 * np.sin(2 * np.pi * speed * t + k)) * (width - side))
            top = int(y * height + 0.1 * height * np.sin(2 * np.pi * 0.7 * t + k))
            frame[top:top + side, x:x + side] = colour
        up, down = noise[i % 4]
        yield cv2.subtract(cv2.add(frame, up), down)   # saturating uint8 noise, no float pass


def write_cheap_clip(path: Path, width: int, height: int, seconds: float,
                     fps: Fraction = Fraction(30)) -> None:
    """Encode `cheap_frames` with x264 ultrafast (fast to make, still a normal H.264 file)."""
    encode_frames(path, cheap_frames(width, height, fps, seconds), width, height, fps)


def encode_frames(path: Path, frames: Iterator[np.ndarray], width: int, height: int,
                  fps: Fraction = Fraction(30)) -> None:
    """RGB frames as an H.264 file, x264 ultrafast."""
    import av

    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = Fraction(1) / fps
        stream.codec_context.options = {"preset": "ultrafast", "crf": "23", "g": "60"}
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1) / fps
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def analyse_in_subprocess(video: Path, out: Path, *extra: str) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of `python -m app analyze video -o out [extra]`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "app", "analyze", str(video), "-o", str(out),
                           *extra], cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"analysis failed: {proc.stderr.strip()}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024.0


def duration_of(video: Path) -> float:
    from video.reader import probe_video

    return probe_video(video).duration


def time_clips(clips: list[Path]) -> int:
    """The whole `analyze` command on each clip, recognition on then off, one after the other
    (so the ratio is measured under the same load)."""
    with tempfile.TemporaryDirectory() as tmp:
        for clip in clips:
            d = duration_of(clip)
            for mode, extra in MODES:
                wall, rss = analyse_in_subprocess(clip, Path(tmp) / "t.json", *extra)
                print(f"{clip.name} ({d:.1f} s), {mode}: {wall:.1f} s wall, {d / wall:.2f}x real "
                      f"time, peak RSS {rss:.0f} MB")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return 0


def feature_costs(video: Path, rounds: int) -> int:
    """Median wall and process CPU seconds of `analyze_video` on `video` with each optional
    part off (alternated `rounds` times), against all on; then the pose-footsteps pass."""
    from dataclasses import replace

    from model.detector.event_detection import apply_event_detector
    from video.analyze import AnalysisConfig, analyze_video
    from video.dissolves import DissolveConfig
    from video.footsteps import apply_footsteps
    from video.recognize import RecognizeConfig
    from video.struck import StruckConfig

    base = AnalysisConfig()
    configs = {
        "everything on (as shipped)": base,
        "without shot cuts and dissolves": replace(base, detect_cuts=False),
        "without dissolves": replace(base, dissolves=DissolveConfig(enabled=False)),
        "without objects set moving (video.struck)": replace(base,
                                                             struck=StruckConfig(enabled=False)),
        "without recognition": replace(base, recognize=RecognizeConfig(enabled=False)),
    }
    analysis = analyze_video(video)   # warm up imports and caches
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in configs}
    for _ in range(rounds):
        for name, config in configs.items():
            wall, cpu = time.perf_counter(), time.process_time()
            analyze_video(video, config=config)
            times[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    d = duration_of(video)
    shipped = next(iter(configs))
    on_wall, on_cpu = (float(np.median([t[k] for t in times[shipped]])) for k in (0, 1))
    print(f"analyze_video on {video.name} ({d:.1f} s), median of {rounds} alternated rounds:")
    for name, runs in times.items():
        wall, cpu = (float(np.median([t[k] for t in runs])) for k in (0, 1))
        print(f"  {name}: {wall:.2f} s wall ({d / wall:.2f}x real time), {cpu:.2f} s CPU"
              + ("" if name == shipped else
                 f"; the part costs {on_wall - wall:+.2f} s wall, {on_cpu - cpu:+.2f} s CPU"))
    analysis = apply_event_detector(analysis, detector="learned")
    passes = []
    for _ in range(rounds):
        wall = time.perf_counter()
        apply_footsteps(video, analysis)
        passes.append(time.perf_counter() - wall)
    print(f"  the pose-footsteps pass after it: {float(np.median(passes)):.2f} s wall")
    return 0


def host_reference(rounds: int = 3) -> float:
    """Milliseconds of a fixed single-thread workload like the analysis's own (blur, difference
    and median of 480x270 float frames; the best of `rounds`): this shared host's speed drifts by
    half again within a day, and this figure, printed beside the timings, says how fast the host
    was when they were taken, so runs hours apart can be compared (BENCHMARKS.md lists it with
    the demo's time)."""
    rng = np.random.default_rng(0)
    frames = [rng.uniform(0, 255, (270, 480, 3)).astype(np.float32) for _ in range(2)]
    best = float("inf")
    previous = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        for _ in range(rounds):
            start = time.thread_time()
            for _ in range(40):
                blurred = cv2.GaussianBlur(frames[0], (5, 5), 0)
                diff = cv2.absdiff(blurred, frames[1]).max(axis=2)
                float(np.median(diff[::4, ::4]))
            best = min(best, (time.thread_time() - start) * 1000.0)
    finally:
        cv2.setNumThreads(previous)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--long-minutes", type=float, default=10.0,
                        help="length of the 1080p memory clip (0 skips it)")
    parser.add_argument("--hd-seconds", type=float, default=20.0,
                        help="length of the 1080p speed clip (0 skips it)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="whole-command runs of the demo, recognition on and off alternated "
                             "(the median is reported: this box's speed drifts between runs)")
    parser.add_argument("--clip", type=Path, action="append", default=[],
                        help="also time the whole command on this clip, recognition on and off "
                             "(repeatable); then only these clips are timed")
    parser.add_argument("--feature-costs", type=int, default=0, metavar="ROUNDS",
                        help="only time the demo's analysis with each optional part off, "
                             "alternated ROUNDS times (see the module docstring)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.feature_costs < 0:
        parser.error("--feature-costs must be at least 0")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; host reference "
          f"{host_reference():.0f} ms (lower is faster)")
    if args.clip:
        return time_clips(args.clip)
    if args.feature_costs:
        return feature_costs(ROOT / "assets" / "demo" / "demo.mp4", args.feature_costs)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        demo = ROOT / "assets" / "demo" / "demo.mp4"
        d = duration_of(demo)
        walls: dict[str, list[float]] = {mode: [] for mode, _ in MODES}
        for _ in range(args.repeat):   # alternated, so a change of the box's speed hits both
            for mode, extra in MODES:
                wall, rss = analyse_in_subprocess(demo, work / "demo.json", *extra)
                walls[mode].append(wall)
        for mode, runs in walls.items():
            mid = float(np.median(runs))
            spread = f" (runs {', '.join(f'{w:.2f}' for w in runs)} s)" if len(runs) > 1 else ""
            print(f"640x360 demo ({d:.1f} s), {mode}: {mid:.2f} s wall (median), "
                  f"{d / mid:.2f}x real time, peak RSS {rss:.0f} MB{spread}")
        from video.analyze import AnalysisConfig, analyze_video
        from video.recognize import RecognizeConfig

        analyze_video(demo)   # warm up imports and caches, then time the analysis alone
        for mode, on in (("recognition on", True), ("recognition off", False)):
            config = AnalysisConfig(recognize=RecognizeConfig(enabled=on))
            start = time.perf_counter()
            analyze_video(demo, config=config)
            inner = time.perf_counter() - start
            print(f"640x360 demo in-process, without start-up, {mode}: {inner:.1f} s, "
                  f"{d / inner:.1f}x real time")
        from model.detector.event_detection import analyze_with_events

        for mode, on in (("recognition on", True), ("recognition off", False)):
            config = AnalysisConfig(recognize=RecognizeConfig(enabled=on))
            start = time.perf_counter()
            analyze_with_events(demo, config=config)
            inner = time.perf_counter() - start
            print(f"640x360 demo in-process, all of `analyze` but start-up (learned events, "
                  f"{'pose footsteps' if on else 'no pose'}), {mode}: {inner:.1f} s, "
                  f"{d / inner:.1f}x real time")

        if args.hd_seconds > 0:
            hd = work / "hd.mp4"
            write_cheap_clip(hd, 1920, 1080, args.hd_seconds)
            d = duration_of(hd)
            for mode, extra in MODES:
                wall, rss = analyse_in_subprocess(hd, work / "hd.json", *extra)
                print(f"1920x1080 ({d:.1f} s), {mode}: {wall:.1f} s wall, {d / wall:.2f}x real "
                      f"time, peak RSS {rss:.0f} MB")

        if args.long_minutes > 0:
            long = work / "long.mp4"
            start = time.perf_counter()
            write_cheap_clip(long, 1920, 1080, args.long_minutes * 60)
            made = time.perf_counter() - start
            wall, rss = analyse_in_subprocess(long, work / "long.json")
            d = duration_of(long)
            print(f"1920x1080 long ({d / 60:.1f} min, made in {made:.0f} s): {wall:.0f} s wall, "
                  f"{d / wall:.2f}x real time, peak RSS {rss:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
