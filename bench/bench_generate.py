"""CPU time of foley generation alone (model.foley.generate) for bench_render's 60 s, 8-object
scene: best of N runs of `time.process_time`, which a loaded shared machine disturbs far less
than the wall-clock figures of bench_render.py (figures go to BENCHMARKS.md, section "Render").

    .venv/bin/python bench/bench_generate.py [--runs 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from audio.library import SoundLibrary  # noqa: E402
from bench.bench_render import _scene  # noqa: E402
from model.foley.generate import SampleCache, generate_object  # noqa: E402
from model.foley.scene import ObjectSound  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    analysis = _scene(60.0)
    library = SoundLibrary.open()
    samples = SampleCache(library)        # samples decoded once, as the renderer keeps them
    best = float("inf")
    for _ in range(max(1, args.runs)):
        start = time.process_time()
        for track in analysis.objects:
            generate_object(track, analysis.video, ObjectSound(id=track.id), library=library,
                            samples=samples)
        best = min(best, time.process_time() - start)
    labels = ", ".join(t.label for t in analysis.objects)
    print(f"generate 8 objects x 60 s ({labels}): best CPU {best:.3f} s "
          f"= {60.0 / best:.0f}x real time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
