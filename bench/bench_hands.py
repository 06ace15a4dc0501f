"""Hand contacts (video.hand_contacts): what watching hands costs the analysis, and what it finds.

    .venv/bin/python bench/bench_hands.py [--rounds 3]

For each clip, the analysis behind `stereofoley analyze` (model.detector.event_detection
.analyze_with_events, in-process, after a warm-up run, recognition and pose on) with hand
contacts on and off, alternated, in one run; ratio = clip duration / wall time (median). Clips:
- balle-jbart.mp4 (repository, 720x576, 25 fps, 10.2 s): a hand lets go of a thrown ball;
- catch and throw: its first 60 frames backwards then forwards (4.8 s: a catch, a throw);
- cup.mp4 and box.mp4 (scripts/fetch_clips.sh; 640x480): hands holding a cup, a box, all along;
- two walkers at 640x360 (bench/bench_footsteps.py's clip, made from vtest.avi): issue 10's
  ">= 4x real time with pose and hand estimation on a 640x360 clip with two people".
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))     # bench_footsteps: the walkers' clip, the timing
CLIPS = Path(os.environ.get("STEREOFOLEY_CLIPS", Path.home() / ".cache" / "stereofoley" / "clips"))
JBART = ROOT / "assets" / "clips" / "balle-jbart.mp4"


def catch_and_throw(out: Path) -> None:
    """balle-jbart's first 60 frames backwards, then forwards."""
    from video.encode import write_video
    from video.reader import VideoReader

    with VideoReader(JBART) as reader:
        frames = [f.image for f in reader.frames(start=0, stop=60)]
        fps = reader.info.fps
    write_video(out, frames[::-1] + frames, fps, gop=12)


def two_walkers(out: Path) -> bool:
    """bench_footsteps' 640x360 clip of two real walkers; False when vtest.avi is missing."""
    from bench_footsteps import VTEST, make_two_person_clip

    from model.detector.event_detection import analyze_with_events
    from video.analyze import AnalysisConfig
    from video.footsteps import FootstepConfig

    if not VTEST.is_file():
        return False
    source = analyze_with_events(VTEST, config=AnalysisConfig(
        footsteps=FootstepConfig(enabled=False)))
    make_two_person_clip(source, out)
    return True


def time_hands_on_off(name: str, clip: Path, rounds: int) -> None:
    """`analyze_with_events` on `clip` with hand contacts on and off, alternated."""
    from bench_footsteps import alternated_walls

    from model.detector.event_detection import analyze_with_events
    from video.analyze import AnalysisConfig
    from video.hand_contacts import HAND_KINDS, HandContactConfig

    result = analyze_with_events(clip)        # warm-up: imports, models, caches
    duration = result.video.duration
    watched = [t for t in result.objects if "hand_looks" in t.extra]
    events = [(round(e.time, 3), e.kind) for t in result.objects for e in t.events
              if e.kind in HAND_KINDS]
    walls = alternated_walls(clip, {on: AnalysisConfig(hands=HandContactConfig(enabled=on))
                                    for on in (True, False)}, rounds)
    on, off = walls[True], walls[False]
    looks = sum(int(t.extra["hand_looks"]) for t in watched)
    print(f"| {name} | {duration:.1f} s | {len(watched)} objects, {looks} looks | "
          f"{duration / on:.2f}x ({on:.2f} s) | {duration / off:.2f}x ({off:.2f} s) | "
          f"{on - off:+.2f} s | {events} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="timing runs per mode")
    args = parser.parse_args()
    print("| clip | length | watched | hands on | hands off | hands cost | hand events |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        made = Path(tmp) / "catch_and_throw.mp4"
        catch_and_throw(made)
        clips = [("balle-jbart.mp4", JBART), ("catch and throw", made)]
        clips += [(p.name, p) for p in (CLIPS / "cup.mp4", CLIPS / "box.mp4") if p.is_file()]
        walkers = Path(tmp) / "two_walkers.mp4"
        if two_walkers(walkers):
            clips.append(("two walkers, 640x360", walkers))
        for name, clip in clips:
            time_hands_on_off(name, clip, args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
