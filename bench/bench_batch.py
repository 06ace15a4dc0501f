"""Batch benchmark (figures go to BENCHMARKS.md, section "Batch").

`stereofoley batch` of 8 synthetic shots (SHOT_SECONDS s each, 640x360, two or three moving
objects): the local pool with 1 worker, then with 2 workers (target: >= 1.6x faster), then as
Ray tasks on a local Ray cluster of 2 CPUs (`--ray local --workers 2`, the cluster's start
included); the three batches' mixes and stems must be identical sample for sample. The load
average is printed before and after, since other jobs may share the machine.

    .venv/bin/python bench/bench_batch.py [--shots 8] [--seconds 4] [--repeat 1] [--skip-ray]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import resource
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import soundfile as sf

from app.batch import cpu_count
from app.cli import main as cli_main
from video.synth import ObjectSpec, SceneSpec, write_clip


def make_shots(folder: Path, count: int, seconds: float) -> list[Path]:
    """`count` different shots: a walker, a bouncing ball and, every other shot, a box."""
    paths = []
    for i in range(count):
        objects = [ObjectSpec("walker", start=(0.1 + 0.05 * (i % 3), 0.6),
                              velocity=(0.15, 0.0), size=0.3),
                   ObjectSpec("ball", start=(0.7, 0.2), velocity=(-0.1, 0.0), size=0.12)]
        if i % 2:
            objects.append(ObjectSpec("box", start=(0.0, 0.35), velocity=(0.25, 0.0),
                                      size=0.15, color=(40, 90, 235)))
        spec = SceneSpec(width=640, height=360, fps=Fraction(25), duration=seconds,
                         seed=100 + i, objects=tuple(objects))
        paths.append(folder / f"shot{i:02d}.mp4")
        write_clip(spec, paths[-1])
    return paths


def cpu_pressure() -> str:
    """The kernel's CPU pressure (share of time some runnable task waited for a CPU, last
    10 s): near 0 on a quiet machine; other jobs on it show here."""
    try:
        line = Path("/proc/pressure/cpu").read_text(encoding="ascii").splitlines()[0]
    except OSError:
        return "n/a"
    return line.split()[1].removeprefix("avg10=") + " %"


def run_batch(shots: list[Path], out: Path, extra: list[str]) -> float:
    """Wall seconds of one `stereofoley batch` (its output kept quiet); prints the CPU seconds
    its pool workers used (children of this process; Ray's are not) and the CPU pressure."""
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = cli_main(["batch", *map(str, shots), "-o", str(out), "--seed", "1", *extra])
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if code != 0:
        raise SystemExit(f"batch {extra} failed with status {code}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"  batch {' '.join(extra)}: {elapsed:.1f} s wall, workers' CPU {cpu:.1f} s "
          f"({cpu / elapsed:.2f} cores busy), CPU pressure after {cpu_pressure()}")
    return elapsed


def audio_of(out: Path) -> dict[str, np.ndarray]:
    return {p.relative_to(out).as_posix(): sf.read(p, dtype="int32")[0]
            for p in sorted(out.rglob("*.wav"))}


def identical(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each (best kept)")
    parser.add_argument("--skip-ray", action="store_true")
    args = parser.parse_args()
    print(f"cpus {cpu_count()}, load before {os.getloadavg()}, CPU pressure {cpu_pressure()}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "clips").mkdir()
        shots = make_shots(root / "clips", args.shots, args.seconds)
        cli_main(["render", str(shots[0]), "-o", str(root / "warm")])   # caches, page cache
        times: dict[str, list[float]] = {}
        for run in range(args.repeat):
            for name, extra in [("1 worker", ["--workers", "1"]), ("2 workers", ["--workers", "2"])]:
                out = root / f"{name.replace(' ', '')}-{run}"
                times.setdefault(name, []).append(run_batch(shots, out, extra))
        if not args.skip_ray:
            times["ray local, 2 cpus"] = [run_batch(shots, root / "ray",
                                                    ["--ray", "local", "--workers", "2"])]
        audio = audio_of(root / "1worker-0")
        audio_seconds = args.shots * args.seconds
        for name, values in times.items():
            best = min(values)
            print(f"{name:>18}: {best:6.1f} s ({audio_seconds / best:4.2f}x real time) "
                  f"runs {[round(v, 1) for v in values]}")
        speedup = min(times["1 worker"]) / min(times["2 workers"])
        print(f"2 workers vs 1: {speedup:.2f}x (target >= 1.6x)")
        same_pool = identical(audio, audio_of(root / "2workers-0"))
        print(f"{len(audio)} WAV files, 2 workers identical to 1 worker: {same_pool}")
        if not args.skip_ray:
            print(f"Ray identical to the pool: {identical(audio, audio_of(root / 'ray'))}")
    print(f"load after {os.getloadavg()}")


if __name__ == "__main__":
    main()
