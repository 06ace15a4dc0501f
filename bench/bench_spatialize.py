"""Spatializer, mixer and master speed on a 60 s, 8-object scene, as x real time.

    .venv/bin/python bench/bench_spatialize.py [--seconds 60] [--objects 8] [--repeats 5]

Builds synthetic tracks (29.97 fps) whose boxes wander across the frame and grow and shrink by
up to 16x in area, so pan, distance gain and air absorption are all active, and a seeded
noise-burst "foley" source per object. Times:
  - all objects:  spatialize every object (default config: air absorption on), x real time
  - one object:   re-spatializing ONE object, the studio's nudge path (best and median ms)
  - with ITD + Doppler, and with width 1 (the optional, slower paths), one object
  - mix + master: mix_stems + master (R128 loudness + true-peak limiter) on the result, and
                  again with 30 hard 5 ms clicks added to one stem so the limiter has to work;
                  both once more with in_place=True (no new stems), as the renderer runs it
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from fractions import Fraction

import numpy as np

from audio.master import master
from audio.mix import mix_stems
from audio.nudges import Nudges
from audio.spatialize import SpatialConfig, spatialize
from video.base.timebase import SAMPLE_RATE
from video.base.tracks import Track, VideoInfo

FPS = Fraction(30000, 1001)
W, H = 1280, 720


def scene(seconds: float, objects: int, seed: int = 0) -> tuple[VideoInfo, list[Track]]:
    """Tracks that wander in x and in size (area x1/16 .. x1 of 10 % of the frame)."""
    rng = np.random.default_rng(seed)
    frames = int(seconds * FPS)
    info = VideoInfo(path="bench.mp4", width=W, height=H, fps=FPS, duration=seconds,
                     frames=frames)
    t = np.arange(frames) / float(FPS)
    tracks = []
    for oid in range(objects):
        f1, f2, ph = rng.uniform(0.02, 0.2), rng.uniform(0.01, 0.1), rng.uniform(0, 6.3)
        cx = W * (0.5 + 0.45 * np.sin(2 * np.pi * f1 * t + ph))
        area = 0.1 * W * H * 16.0 ** (-0.5 - 0.5 * np.sin(2 * np.pi * f2 * t + ph))
        side = np.sqrt(area)
        boxes = np.stack([cx - side / 2, H / 2 - side / 2, cx + side / 2, H / 2 + side / 2], 1)
        tracks.append(Track(id=oid, label=f"obj{oid}", frames=np.arange(frames), boxes=boxes))
    return info, tracks


def sources(n: int, count: int, seed: int = 1) -> list[np.ndarray]:
    """Decaying noise bursts at random times: foley-like material."""
    rng = np.random.default_rng(seed)
    out = []
    decay = np.exp(-np.arange(9600) / 1500.0).astype(np.float32)
    for _ in range(count):
        x = 0.003 * rng.standard_normal(n).astype(np.float32)
        for start in rng.integers(0, n - 9600, size=max(1, n // 24_000)):
            x[start:start + 9600] += 0.3 * rng.standard_normal(9600).astype(np.float32) * decay
        out.append(x)
    return out


def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--objects", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    info, tracks = scene(args.seconds, args.objects)
    n = int(round(args.seconds * SAMPLE_RATE))
    dry = sources(n, args.objects)
    config = SpatialConfig()

    def all_objects() -> dict[int, np.ndarray]:
        return {t.id: spatialize(x, t, info, config=config) for t, x in zip(tracks, dry,
                                                                         strict=True)}

    stems = all_objects()
    total = timed(all_objects, max(1, args.repeats // 2))
    one = timed(lambda: spatialize(dry[0], tracks[0], info, config=config), args.repeats * 2)
    fancy = replace(config, itd=True, doppler=True)
    one_delay = timed(lambda: spatialize(dry[0], tracks[0], info, config=fancy), args.repeats)
    one_wide = timed(lambda: spatialize(dry[0], tracks[0], info, config=config,
                                        nudges=Nudges(width=1.0)), args.repeats)
    mix_time = timed(lambda: mix_stems(stems, {}, n_samples=n), args.repeats)
    start = time.perf_counter()
    result = master(stems, n_samples=n)
    master_time = time.perf_counter() - start

    hot = dict(stems)
    rng = np.random.default_rng(2)
    hot[0] = stems[0].copy()
    for start in rng.integers(0, n - 240, size=30):
        hot[0][:, start:start + 240] += rng.uniform(-3.0, 3.0, (2, 240)).astype(np.float32)
    start = time.perf_counter()
    hot_result = master(hot, n_samples=n)
    hot_time = time.perf_counter() - start

    def in_place(source: dict[int, np.ndarray]) -> float:
        """Best time of master(in_place=True), as the renderer calls it (fresh copies each)."""
        times = []
        for _ in range(max(1, args.repeats // 3)):
            copies = {k: v.copy() for k, v in source.items()}
            start = time.perf_counter()
            master(copies, n_samples=n, in_place=True)
            times.append(time.perf_counter() - start)
        return min(times)

    tame_in_place, hot_in_place = in_place(stems), in_place(hot)

    best = min(total)
    print(f"load average: {os.getloadavg()[0]:.1f} (on {os.cpu_count()} CPUs)")
    print(f"scene: {args.objects} objects x {args.seconds:g} s at 48 kHz (air absorption on)")
    print(f"spatialize all objects: {best:.3f} s -> {args.seconds / best:.0f}x real time "
          f"(median {statistics.median(total):.3f} s)")
    print(f"re-spatialize one object: best {min(one) * 1e3:.1f} ms, "
          f"median {statistics.median(one) * 1e3:.1f} ms")
    print(f"one object with ITD + Doppler: best {min(one_delay) * 1e3:.1f} ms")
    print(f"one object with width 1: best {min(one_wide) * 1e3:.1f} ms")
    print(f"mix_stems: best {min(mix_time) * 1e3:.1f} ms")
    print(f"master (loudness + true-peak limiter): {master_time:.2f} s -> "
          f"{args.seconds / master_time:.0f}x real time, passes {result.report['passes']}, "
          f"limited {result.report['limiter']['seconds']:.2f} s, "
          f"{result.report['lufs_after']} LUFS, {result.report['true_peak_after_db']} dBTP")
    rep = hot_result.report
    print(f"master with 30 hard clicks: {hot_time:.2f} s -> {args.seconds / hot_time:.0f}x real "
          f"time, passes {rep['passes']}, true peak {rep['true_peak_before_db']} -> "
          f"{rep['true_peak_after_db']} dBTP, limiter max {rep['limiter']['max_reduction_db']} dB "
          f"over {rep['limiter']['seconds']:.2f} s, {rep['lufs_after']} LUFS")
    print(f"master in place (as the renderer calls it, best of {max(1, args.repeats // 3)}): "
          f"tame {tame_in_place:.2f} s -> {args.seconds / tame_in_place:.0f}x real time, "
          f"30 hard clicks {hot_in_place:.2f} s -> {args.seconds / hot_in_place:.0f}x real time")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
