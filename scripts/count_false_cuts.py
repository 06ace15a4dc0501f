"""Count the shot cuts `video.cuts` reports on single-shot synthetic clips (all false cuts).

The clips are the evaluation's held-out set (`model.lab.dataset.plan_clips`, the same seed as
`stereofoley eval --synthetic N --seed S`): random scenes with walkers, balls and boxes that
pop in within one frame, encoded as H.264, read back at the analysis size. Any cut reported
on them is a false one; each is listed with its clip, geometry and time.

    python scripts/count_false_cuts.py --clips 30 --seed 1000
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from model.lab.dataset import DatasetConfig, plan_clips
from video.analyze import AnalysisConfig
from video.cuts import detect_cuts
from video.reader import VideoReader
from video.synth import random_scene, write_clip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1000)
    opts = parser.parse_args()
    side = AnalysisConfig().max_side
    total = 0
    with tempfile.TemporaryDirectory() as tmp:
        for plan in plan_clips(opts.clips, opts.seed, DatasetConfig(audio=False)):
            spec = random_scene(plan.seed, width=plan.width, height=plan.height, fps=plan.fps,
                                duration=plan.duration, tempo=plan.tempo)
            path = Path(tmp) / f"{plan.name}.mp4"
            write_clip(spec, path)
            with VideoReader(path) as reader:
                cuts = detect_cuts(reader.frames(max_side=side))
            total += len(cuts)
            if cuts:
                print(f"{plan.name} {plan.width}x{plan.height} {plan.fps} fps: cuts at "
                      + ", ".join(f"{t:.3f} s" for t in cuts), flush=True)
    print(f"{total} false cut(s) on {opts.clips} single-shot clips (seed {opts.seed})")


if __name__ == "__main__":
    main()
