"""Analysis time of two checkouts, alternated in one run (is a change free?).

    git worktree add /tmp/base 32faf40
    .venv/bin/python bench/bench_paired.py /tmp/base --rounds 2

Times `video.analyze.analyze_video` on a clip (default the bundled demo) in a fresh subprocess
per checkout and round, with that checkout first on `sys.path`, so each side runs its own code
with the same interpreter and packages: one warm-up analysis (the recognizer's model load, file
caches), then `--runs` timed ones. The two checkouts take turns `--rounds` times, so the shared
box's drifting speed falls on both alike; compare the spreads, not single runs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "assets" / "demo" / "demo.mp4"

_CHILD = """
import sys, time
sys.path.insert(0, sys.argv[1])
from video.analyze import analyze_video
analyze_video(sys.argv[2])
times = []
for _ in range(int(sys.argv[3])):
    start = time.perf_counter()
    analyze_video(sys.argv[2])
    times.append(time.perf_counter() - start)
print(" ".join(f"{t:.2f}" for t in times))
"""


def timed_runs(checkout: Path, clip: Path, runs: int) -> list[float]:
    """Wall seconds of `runs` analyses of `clip` by the code of `checkout` (after a warm-up)."""
    out = subprocess.run([sys.executable, "-c", _CHILD, str(checkout), str(clip), str(runs)],
                         capture_output=True, text=True, check=True)
    return [float(x) for x in out.stdout.split()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("other", type=Path, help="the other checkout (e.g. a git worktree)")
    parser.add_argument("--clip", type=Path, default=DEMO)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not (args.other / "video" / "analyze.py").is_file():
        print(f"error: {args.other} is not a checkout of this project", file=sys.stderr)
        return 2
    sides = {"this": ROOT, "other": args.other.resolve()}
    seen: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(args.rounds):
        for name, checkout in sides.items():
            runs = timed_runs(checkout, args.clip, args.runs)
            seen[name] += runs
            print(f"{name:5s} {checkout}: " + " / ".join(f"{t:.2f}" for t in runs) + " s",
                  flush=True)
    for name, times in seen.items():
        print(f"{name:5s} median {sorted(times)[len(times) // 2]:.2f} s, "
              f"range {min(times):.2f}-{max(times):.2f} s over {len(times)} runs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
