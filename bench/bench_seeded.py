"""How long a drawn object takes: the studio's "track this" (and `--track`), split into its
stages on real clips: following the box both ways (video.seeded), then making it like the
analysis's objects (model.detector.event_detection.complete_seeded_track: recognizer, contacts,
a person's steps).

    .venv/bin/python bench/bench_seeded.py                  # the bundled ball clip, 3 rounds
    .venv/bin/python bench/bench_seeded.py --rounds 5 CLIP:FRAME:X0,Y0,X1,Y1 ...

Prints per clip the frames tracked, the median wall seconds of each stage, and the tracked
span over the whole wall time as x real time.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from app.drawn import parse_drawn
from model.detector.event_detection import complete_seeded_track
from video.analyze import analyze_video
from video.reader import VideoReader
from video.seeded import track_from_seed

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = f"{ROOT / 'assets' / 'clips' / 'balle-jbart.mp4'}:12:135,350,182,388"


def measure(clip: Path, spec: str, rounds: int) -> tuple[int, float, list[float], list[float]]:
    """(frames tracked, seconds they span, tracking wall s per round, completing wall s per
    round), after one warm-up round (model files loaded)."""
    drawn = parse_drawn(spec)
    analysis = analyze_video(clip)
    tracking, completing = [], []
    frames, span = 0, 0.0
    for n in range(rounds + 1):
        start = time.perf_counter()
        with VideoReader(clip) as reader:
            track = track_from_seed(reader, drawn.frame, drawn.box, object_id=99)
            middle = time.perf_counter()
            complete_seeded_track(reader, track, analysis)
            end = time.perf_counter()
        if n:
            tracking.append(middle - start)
            completing.append(end - middle)
        frames = len(track)
        span = frames / float(analysis.video.fps)
    return frames, span, tracking, completing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("items", nargs="*", default=[DEFAULT], metavar="CLIP:FRAME:X0,Y0,X1,Y1")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for item in args.items:
        path, _, spec = item.partition(":")
        frames, span, tracking, completing = measure(Path(path), spec, args.rounds)
        track_s, complete_s = statistics.median(tracking), statistics.median(completing)
        print(f"{Path(path).name}: {frames} frames ({span:.1f} s) tracked in {track_s:.2f} s, "
              f"completed in {complete_s:.2f} s: {span / (track_s + complete_s):.1f}x real time")


if __name__ == "__main__":
    main()
