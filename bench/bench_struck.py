"""What the rest watch (video.struck) costs the analysis: `analyze_video` with it on and off,
alternating in one process, so both sides share the load of the moment.

    .venv/bin/python bench/bench_struck.py                       # the demo, 3 rounds
    .venv/bin/python bench/bench_struck.py CLIP ... --rounds 5

Prints, per clip and side, the CPU seconds and wall seconds of each round and the median as
x real time (the clip's duration over the wall time).
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace
from pathlib import Path

from video.analyze import AnalysisConfig, analyze_video
from video.struck import StruckConfig

ROOT = Path(__file__).resolve().parent.parent


def measure(clip: Path, rounds: int) -> dict[str, list[tuple[float, float]]]:
    """(CPU s, wall s) per round with the rest watch on and off, after one warm-up run."""
    on = AnalysisConfig()
    off = replace(on, struck=StruckConfig(enabled=False))
    analyze_video(clip, config=off)
    out: dict[str, list[tuple[float, float]]] = {"off": [], "on": []}
    for _ in range(rounds):
        for name, config in (("off", off), ("on", on)):
            cpu, wall = time.process_time(), time.perf_counter()
            analyze_video(clip, config=config)
            out[name].append((time.process_time() - cpu, time.perf_counter() - wall))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="*", type=Path,
                        default=[ROOT / "assets" / "demo" / "demo.mp4"])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for clip in args.clips:
        duration = float(analyze_video(clip, config=AnalysisConfig()).video.duration)
        for name, runs in measure(clip, args.rounds).items():
            cpu = ", ".join(f"{c:.2f}" for c, _ in runs)
            wall = statistics.median(w for _, w in runs)
            print(f"{clip.name}: rest watch {name:3s}  CPU s {cpu}  "
                  f"median {duration / wall:.2f}x real time (wall {wall:.2f} s)")


if __name__ == "__main__":
    main()
