"""Footsteps from pose (video.footsteps): cadence on real pedestrians, and what the pose costs.

    .venv/bin/python bench/bench_footsteps.py              # both parts
    .venv/bin/python bench/bench_footsteps.py --cadence    # the per-person table only
    .venv/bin/python bench/bench_footsteps.py --speed      # the timing only
    .venv/bin/python bench/bench_footsteps.py --speed --drawn   # timing on 30 fps drawn walkers
    .venv/bin/python bench/bench_footsteps.py --model      # the pose model's run, whole/pruned

1. Cadence: OpenCV's `vtest.avi` (768x576, 10 fps, 79.5 s of pedestrians; scripts/fetch_clips.sh)
   analysed as `stereofoley analyze` does (recognition, learned events, footsteps). For every
   person walking at least 2 s: steps per second while it walks (its box's centre moving at
   least 0.2 box heights a second, measured over a second), for both feet, and where its steps
   came from. Target: 1.2-2.6 steps/s, on both feet.
2. Speed: a 640x360 clip with two real walkers, made from vtest: its empty scene (the median of
   60 frames) with the pixels of two person tracks' boxes pasted back, scaled to 640x480 and
   cropped to 640x360. The analysis behind `stereofoley analyze` (model.detector.event_detection
   .analyze_with_events, in-process, after a warm-up run) with footsteps from pose on and off,
   alternated, in one run; ratio = clip duration / wall time. Target: >= 4x real time with pose.
   vtest runs at 10 fps; `--speed --drawn` times the same on two drawn walkers at 30 fps
   (video.synth), where the analysis of every frame costs three times as much.
3. `--model`: one run of the pose model, whole and pruned to the outputs it is read for
   (video.tflite_prune), on 1 and 2 threads.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from video.analyze import AnalysisConfig
from video.base.tracks import Analysis, Track

CLIPS = Path(os.environ.get("STEREOFOLEY_CLIPS", Path.home() / ".cache" / "stereofoley" / "clips"))
VTEST = CLIPS / "vtest.avi"


def walking_mask(track: Track, fps: float, *, min_speed: float = 0.2) -> tuple[np.ndarray,
                                                                                np.ndarray]:
    """(frames, walking) on every frame of the track: its box centre moves at least
    `min_speed` box heights per second, measured over one second (video.cadence's test)."""
    from video.cadence import walking_mask as mask_of
    from video.events import dense_boxes

    frames, boxes, _ = dense_boxes(track)
    return frames, mask_of(boxes, fps, min_speed=min_speed)


def cadence_rows(analysis: Analysis) -> list[dict[str, object]]:
    """One row per person track: walking seconds, steps (all, left, right) while walking."""
    fps = float(analysis.video.fps)
    rows = []
    for track in analysis.objects:
        if track.label != "person":
            continue
        frames, mask = walking_mask(track, fps)
        walk = float(mask.sum()) / fps
        counts = {"all": 0, "left": 0, "right": 0, "seen": 0}
        for e in track.events:
            if e.kind != "step":
                continue
            i = min(max(analysis.video.frame_at_time(e.time) - int(frames[0]), 0), len(mask) - 1)
            if mask[i]:
                counts["all"] += 1
                counts["seen"] += not e.filled
                if e.foot in counts:
                    counts[e.foot] += 1
        rows.append({"id": track.id, "span": (track.frames[0] / fps, track.frames[-1] / fps),
                     "walk": walk, "source": track.extra.get("steps_from", "-"), **counts})
    return rows


def run_cadence() -> None:
    from model.detector.event_detection import analyze_with_events

    start = time.perf_counter()
    analysis = analyze_with_events(VTEST)
    wall = time.perf_counter() - start
    d = analysis.video.duration
    print(f"vtest.avi ({d:.1f} s): analysed in {wall:.1f} s ({d / wall:.2f}x real time), "
          f"{len(analysis.objects)} objects")
    print("| track | on screen (s) | walking (s) | steps from | steps (filled) | steps/s seen "
          "| steps/s with filled | left/s | right/s | 1.2-2.6, both feet: seen / with filled |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    passed = {"seen": 0, "all": 0}
    total = 0
    for r in cadence_rows(analysis):
        walk = float(r["walk"])  # type: ignore[arg-type]
        a, b = r["span"]  # type: ignore[misc]

        def rate(key: str, row: dict[str, object] = r, walk: float = walk) -> float:
            return int(row[key]) / walk if walk else 0.0  # type: ignore[call-overload]

        if walk >= 2.0:
            total += 1
            both = r["source"] != "pose" or (rate("left") > 0 and rate("right") > 0)
            ok = {key: 1.2 <= rate(key) <= 2.6 and both for key in passed}
            for key in passed:
                passed[key] += ok[key]
            verdict = " / ".join("yes" if ok[key] else "**no**" for key in passed)
        else:
            verdict = "(walks < 2 s)"
        feet = (f"{rate('left'):.2f} | {rate('right'):.2f}" if r["source"] == "pose"
                else "- | -")
        filled = int(r["all"]) - int(r["seen"])  # type: ignore[call-overload]
        print(f"| {r['id']} | {a:.1f}-{b:.1f} | {walk:.1f} | {r['source']} | {r['all']} "
              f"({filled}) | {rate('seen'):.2f} | {rate('all'):.2f} | {feet} | {verdict} |")
    print(f"\n{passed['seen']} of {total} people walking >= 2 s step at 1.2-2.6 steps/s on both "
          f"feet from what the picture shows; {passed['all']} of {total} with the steps filled "
          "at the walking cadence (video.cadence)")


def _background(path: Path, samples: int = 60) -> np.ndarray:
    cap = cv2.VideoCapture(str(path))
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    frames = []
    for i in np.linspace(0, n - 1, samples).astype(int):
        cap.set(cv2.CAP_PROP_POS_FRAMES, int(i))
        ok, image = cap.read()
        if ok:
            frames.append(image)
    cap.release()
    return np.median(np.stack(frames), axis=0).astype(np.uint8)


def _two_walkers(analysis: Analysis, seconds: float) -> tuple[int, list[Track]]:
    """(first frame, two person tracks) of the window of `seconds` in which two people walk
    the longest together."""
    fps = float(analysis.video.fps)
    n = round(seconds * fps)
    people = [t for t in analysis.objects if t.label == "person"]
    best: tuple[float, int, list[Track]] = (-1.0, 0, [])
    for start in range(0, max(1, analysis.video.frames - n), round(fps)):
        cover = []
        for t in people:
            frames, mask = walking_mask(t, fps)
            inside = (frames >= start) & (frames < start + n)
            cover.append((float(mask[inside].sum()), t))
        cover.sort(key=lambda c: -c[0])
        if len(cover) >= 2 and cover[1][0] > best[0]:
            best = (cover[1][0], start, [c[1] for c in cover[:2]])
    return best[1], best[2]


def make_two_person_clip(analysis: Analysis, out: Path, *, seconds: float = 20.0) -> float:
    """Write the 640x360 two-walker clip (module docstring); returns its duration."""
    import av

    start, walkers = _two_walkers(analysis, seconds)
    fps = analysis.video.fps
    background = _background(VTEST)
    cap = cv2.VideoCapture(str(VTEST))
    cap.set(cv2.CAP_PROP_POS_FRAMES, start)
    count = round(seconds * float(fps))
    with av.open(str(out), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        stream.codec_context.options = {"preset": "veryfast", "crf": "20"}
        for i in range(count):
            ok, image = cap.read()
            if not ok:
                break
            frame = background.copy()
            for track in walkers:
                box = track.box_at(start + i)
                if box is None:
                    continue
                x0, y0, x1, y1 = box
                pad_x, pad_y = 0.15 * (x1 - x0), 0.1 * (y1 - y0)
                a, b = int(max(0, x0 - pad_x)), int(min(image.shape[1], x1 + pad_x))
                c, d = int(max(0, y0 - pad_y)), int(min(image.shape[0], y1 + pad_y))
                frame[c:d, a:b] = image[c:d, a:b]
            scaled = cv2.resize(frame, (640, 480), interpolation=cv2.INTER_AREA)[60:420]
            video_frame = av.VideoFrame.from_ndarray(
                cv2.cvtColor(scaled, cv2.COLOR_BGR2RGB), format="rgb24")
            for packet in stream.encode(video_frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    cap.release()
    print(f"two-walker clip: vtest frames {start}-{start + count - 1}, tracks "
          f"{[t.id for t in walkers]} pasted on the empty scene, 640x360 at {float(fps):g} fps")
    return count / float(fps)


def make_drawn_walkers_clip(out: Path, *, seconds: float = 20.0) -> float:
    """Write a 640x360, 30 fps clip of two drawn walkers (video.synth) crossing each other over
    a textured ground; returns its duration."""
    from fractions import Fraction

    from video.synth import ObjectSpec, SceneSpec, write_clip

    walkers = (ObjectSpec(kind="walker", start=(0.05, 0.55), velocity=(0.045, 0.0), size=0.30,
                          aspect=0.4, color=(60, 60, 160), step_period=0.55),
               ObjectSpec(kind="walker", start=(0.95, 0.62), velocity=(-0.04, 0.0), size=0.34,
                          aspect=0.4, color=(170, 70, 50), step_period=0.5))
    write_clip(SceneSpec(width=640, height=360, fps=Fraction(30), duration=seconds, seed=3,
                         objects=walkers), out)
    print(f"drawn-walkers clip: two video.synth walkers, 640x360 at 30 fps, {seconds:g} s")
    return seconds


def alternated_walls(clip: Path, configs: dict[bool, AnalysisConfig], rounds: int
                     ) -> dict[bool, float]:
    """Median wall time (s) of `analyze_with_events(clip, config=...)` for each config, the
    configs taking turns round by round (so a change in the machine's load hits all alike)."""
    from model.detector.event_detection import analyze_with_events

    walls: dict[bool, list[float]] = {key: [] for key in configs}
    for _ in range(rounds):
        for key, config in configs.items():
            start = time.perf_counter()
            analyze_with_events(clip, config=config)
            walls[key].append(time.perf_counter() - start)
    return {key: float(np.median(values)) for key, values in walls.items()}


def time_pose_on_off(clip: Path, duration: float, rounds: int) -> None:
    """`analyze_with_events` on `clip` with footsteps from pose on and off, alternated."""
    from model.detector.event_detection import analyze_with_events
    from video.analyze import AnalysisConfig
    from video.footsteps import FootstepConfig

    result = analyze_with_events(clip)        # warm-up: imports, models, caches
    people = [t for t in result.objects if t.label == "person"]
    print(f"  analysed: {len(result.objects)} objects, {len(people)} people, steps from "
          f"{[t.extra.get('steps_from') for t in people]}, "
          f"{sum(1 for t in people for e in t.events if e.kind == 'step')} steps")
    walls = alternated_walls(clip, {on: AnalysisConfig(footsteps=FootstepConfig(enabled=on))
                                    for on in (True, False)}, rounds)
    for on in (True, False):
        wall = walls[on]
        print(f"  pose {'on ' if on else 'off'}: {wall:.2f} s (median of {rounds}), "
              f"{duration / wall:.2f}x real time")
    extra = walls[True] - walls[False]
    print(f"  the pose costs {extra:.2f} s for {duration:.0f} s of two walkers: "
          f"{extra / duration / max(len(people), 1) * 1000:.0f} ms per person-second")


def run_speed(rounds: int, *, drawn: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "two_walkers.mp4"
        if drawn:
            duration = make_drawn_walkers_clip(clip)
        else:
            from model.detector.event_detection import analyze_with_events
            from video.analyze import AnalysisConfig
            from video.footsteps import FootstepConfig

            source = analyze_with_events(VTEST, config=AnalysisConfig(
                footsteps=FootstepConfig(enabled=False)))
            duration = make_two_person_clip(source, clip)
        time_pose_on_off(clip, duration, rounds)


def run_model(runs: int = 40) -> None:
    """One pose-model run (invoke only, a fixed 256x256 input) with the whole landmark model
    and with the one pruned to the outputs video.pose reads, on 1 and 2 threads."""
    from video.pose import MODEL_PATH, MODEL_SHA256, USED_OUTPUTS, PoseUnavailable
    from video.recognize import load_interpreter

    x = np.random.default_rng(0).random((1, 256, 256, 3), dtype=np.float32)
    for name, outputs in (("whole", None), ("pruned", USED_OUTPUTS)):
        for threads in (1, 2):
            interpreter = load_interpreter(MODEL_PATH, sha256=MODEL_SHA256, threads=threads,
                                           what="pose model", error=PoseUnavailable,
                                           outputs=outputs)
            index = interpreter.get_input_details()[0]["index"]
            times = []
            for k in range(runs + 5):
                start = time.perf_counter()
                interpreter.set_tensor(index, x)
                interpreter.invoke()
                if k >= 5:
                    times.append(time.perf_counter() - start)
            print(f"  pose model {name:6s} {threads} thread(s): "
                  f"{1000 * float(np.median(times)):.1f} ms a run (median of {runs})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cadence", action="store_true", help="only the cadence table")
    parser.add_argument("--speed", action="store_true", help="only the timing")
    parser.add_argument("--drawn", action="store_true",
                        help="time on two drawn walkers at 30 fps (video.synth) instead of "
                             "vtest's real ones at 10 fps")
    parser.add_argument("--model", action="store_true",
                        help="only the pose model's run time, whole and pruned")
    parser.add_argument("--rounds", type=int, default=3, help="timing runs per mode")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if args.model:
        run_model()
        return 0
    if not VTEST.is_file() and not (args.speed and args.drawn):
        print(f"error: {VTEST} not found (run scripts/fetch_clips.sh)", file=sys.stderr)
        return 2
    both = not args.cadence and not args.speed
    if args.cadence or both:
        run_cadence()
    if args.speed or both:
        run_speed(args.rounds, drawn=args.drawn)
    return 0


if __name__ == "__main__":
    sys.exit(main())
