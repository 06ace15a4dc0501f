"""Speed of the learned event detector vs the hand-made one, as x real time.

    .venv/bin/python bench/bench_event_net.py [--clips N] [--seed S] [--checkpoint PT]

Builds N synthetic clips (real analysis), then times `detect_events_learned` and
`video.events.detect_events` over every analysed track: x real time = total clip duration /
wall time of event detection alone (the analysis itself is benchmarked elsewhere). Also prints
the bundled checkpoint's size and its recorded training time.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    from model.detector.learned_events import (
        DEFAULT_CHECKPOINT,
        detect_events_model,
        load_event_model,
    )
    from model.lab.dataset import DatasetConfig, build_dataset
    from video.base.tracks import Analysis
    from video.events import detect_events

    parser = argparse.ArgumentParser()
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--seed", type=int, default=4242)
    parser.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT))
    args = parser.parse_args()
    model = load_event_model(args.checkpoint)
    with tempfile.TemporaryDirectory() as tmp:
        manifest = json.loads(build_dataset(Path(tmp) / "ds", clips=args.clips, seed=args.seed,
                                            config=DatasetConfig(audio=False)).read_text())
    analyses = [Analysis.from_dict(c["analysed"]) for c in manifest["clips"]]
    seconds = sum(a.video.duration for a in analyses)
    tracks = sum(len(a.objects) for a in analyses)
    timings = {}
    for name, fn in (("learned", lambda t, i: detect_events_model(t, i, model)),
                     ("hand-made", lambda t, i: detect_events(t, i))):
        start = time.perf_counter()
        for _ in range(3):
            for a in analyses:
                for t in a.objects:
                    fn(t, a.video)
        timings[name] = (time.perf_counter() - start) / 3
    for name, wall in timings.items():
        print(f"{name:>9}: {seconds / wall:,.0f}x real time ({wall * 1000:.1f} ms for {tracks} "
              f"tracks, {seconds:.1f} s of video)")
    ckpt = Path(args.checkpoint)
    print(f"checkpoint {ckpt.name}: {ckpt.stat().st_size / 1024:.0f} KiB")
    log = ckpt.with_suffix(".json")
    if log.is_file():
        data = json.loads(log.read_text())
        print(f"training: {data.get('train_seconds')} s on {data.get('clips')} clips "
              f"(data seed {data.get('data_seed')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
