"""Speed of the optional aiSFX semantic-similarity metric (model/lab/semantic.py), as x real time.

    .venv/bin/python bench/bench_semantic.py [--runs N]

Times the first use (torch import + checkpoint load), then `embed` on 5 s and 60 s stereo
48 kHz clips of seeded noise bursts (best of N runs): x real time = clip duration / wall time.
Needs aisfx (scripts/install.sh installs it).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SR = 48_000


def _clip(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Stereo noise bursts with decays, a stand-in for foley of that length."""
    n = int(seconds * SR)
    audio = rng.normal(0, 0.01, (2, n)).astype(np.float32)
    decay = np.exp(-np.arange(SR // 4) / (SR / 30)).astype(np.float32)
    for start in rng.integers(0, n - SR // 4, size=max(1, int(seconds * 2))):
        audio[:, start:start + SR // 4] += rng.normal(0, 0.3, (2, SR // 4)) * decay
    return audio


def main() -> int:
    from model.lab.semantic import embed, semantic_available

    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    start = time.perf_counter()
    if not semantic_available():
        print("aisfx is not installed (scripts/install.sh installs it)")
        return 2
    print(f"first use (torch import + checkpoint): {time.perf_counter() - start:.2f} s")
    rng = np.random.default_rng(0)
    for seconds in (5.0, 60.0):
        clip = _clip(seconds, rng)
        times = []
        for _ in range(args.runs):
            t = time.perf_counter()
            embed(clip)
            times.append(time.perf_counter() - t)
        best = min(times)
        print(f"{seconds:.0f} s clip: {best:.3f} s, {seconds / best:.0f}x real time "
              f"(best of {args.runs})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
