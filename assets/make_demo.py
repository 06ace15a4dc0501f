"""Build the bundled demo clip, assets/demo/demo.mp4, and its true analysis (deterministic).

    .venv/bin/python assets/make_demo.py

The clip is made entirely by the project's synthetic scene generator (video.synth): 16 s of
640x360 at 30000/1001 fps on a textured background: two bouncing balls, a walker, an object
approaching the camera, a crossing pair, and a box sliding to a stop. Running it again gives the
same pixels. assets/demo/demo.truth.json holds the generator's true boxes and events (the same
TRACKS format as `stereofoley analyze` writes), so analysis of the demo can be scored.
"""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

from video.synth import ObjectSpec, SceneSpec, write_clip

ROOT = Path(__file__).resolve().parent.parent

DEMO_DIR = ROOT / "assets" / "demo"

DEMO_SPEC = SceneSpec(
    width=640, height=360, fps=Fraction(30000, 1001), duration=16.0, seed=2026,
    background="textured", noise=2.0,
    objects=(
        ObjectSpec("ball", start=(0.12, 0.08), velocity=(0.12, 0.0), size=0.11,
                   color=(230, 40, 40), floor=0.93, gravity=3.0, restitution=0.72, depth=2),
        ObjectSpec("walker", start=(-0.04, 0.0), velocity=(0.2, 0.0), size=0.42,
                   color=(40, 90, 235), t_enter=1.5, floor=0.97, step_period=0.52, depth=1),
        ObjectSpec("approach", start=(0.74, 0.3), size=0.06, growth=0.32, aspect=1.3,
                   color=(220, 60, 200), t_enter=3.0, t_exit=8.5),
        ObjectSpec("ball", start=(0.86, 0.05), velocity=(-0.1, 0.0), size=0.08,
                   color=(245, 200, 20), t_enter=6.0, floor=0.8, gravity=3.5,
                   restitution=0.75, depth=2),
        ObjectSpec("box", start=(-0.08, 0.3), velocity=(0.42, 0.0), size=0.12, aspect=1.7,
                   color=(250, 130, 20), t_enter=9.0, depth=1),
        ObjectSpec("box", start=(1.08, 0.36), velocity=(-0.4, 0.0), size=0.11, aspect=1.2,
                   color=(30, 185, 60), t_enter=9.0),
        ObjectSpec("slide", start=(0.1, 0.0), velocity=(0.9, 0.0), size=0.1, aspect=1.8,
                   color=(20, 200, 210), t_enter=12.5, floor=0.62, friction=0.35),
    ),
)


def main() -> int:
    DEMO_DIR.mkdir(parents=True, exist_ok=True)
    clip = DEMO_DIR / "demo.mp4"
    truth = write_clip(DEMO_SPEC, clip, crf=23)
    truth = truth.with_objects(truth.objects)
    doc = truth.to_json().replace(str(clip), "demo.mp4")
    (DEMO_DIR / "demo.truth.json").write_text(doc + "\n", encoding="utf-8")
    size_mb = clip.stat().st_size / 1e6
    events = sum(len(t.events) for t in truth.objects)
    print(f"{clip}: {truth.video.frames} frames, {size_mb:.2f} MB, "
          f"{len(truth.objects)} objects, {events} true events")
    return 0


if __name__ == "__main__":
    sys.exit(main())
