"""Cut detection on real animation: the Planet Blupi cut-scenes (scripts/fetch_planetblupi.sh).

    python scripts/check_cuts_planetblupi.py [CLIPS] [--strips DIR]

1. Every cut-scene as it is (one continuous camera move each, with flickering lights, a
   tumbling camera and TV-static glitches): the cuts the detector reports (ideally none).
2. Four-shot scenes spliced from one cut-scene (known cut frames; the same characters, place
   and palette on both sides, a jump of the camera and the characters): each splice found or
   not within one frame, and the tracks of `video.analyze` that cross a splice.

With --strips, writes for every detected cut and every splice a PNG strip of the two frames
before and after it, to look at.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from video.analyze import analyze_frames
from video.cuts import detect_cuts
from video.reader import VideoFrame, VideoReader

DEFAULT = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "stereofoley" / \
    "clips" / "planetblupi"
# (cut-scene, kept frame spans): each span is one shot of the spliced scene
SPLICES = {
    "play103": [(0, 29), (40, 69), (80, 109), (115, 143)],
    "play105": [(0, 24), (36, 59), (66, 84), (90, 107)],
    "play101": [(0, 19), (26, 45), (50, 64), (66, 78)],
    "win129": [(0, 29), (50, 79), (100, 119), (130, 155)],
    "play118": [(0, 12), (30, 47), (50, 69), (75, 91)],
}


def _strip(images: list[np.ndarray], at: int, title: str, out: Path) -> None:
    row = np.concatenate([cv2.resize(images[i], (160, 120)) for i in
                          range(max(0, at - 2), min(len(images), at + 2))], axis=1)
    cv2.putText(row, title, (3, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 0), 1)
    cv2.imwrite(str(out), row[..., ::-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="?", default=str(DEFAULT))
    parser.add_argument("--strips", metavar="DIR")
    opts = parser.parse_args()
    folder = Path(opts.clips)
    strips = Path(opts.strips) if opts.strips else None
    if strips:
        strips.mkdir(parents=True, exist_ok=True)
    movies = {}
    print("| cut-scene | frames | cuts reported (frame) |\n|---|---|---|")
    for path in sorted(folder.glob("*.mkv")):
        with VideoReader(path) as reader:
            info = reader.info
            frames = list(reader.frames(max_side=480))
        movies[path.stem] = (info, [f.image for f in frames])
        fps = float(info.fps)
        cuts = [round(t * fps) for t in detect_cuts(frames)]
        print(f"| {path.name} | {len(frames)} | {cuts or 'none'} |")
        for c in cuts:
            if strips:
                _strip(movies[path.stem][1], c, f"{path.stem} cut at {c}",
                       strips / f"{path.stem}_cut_{c}.png")
    print("\n| spliced scene | splices (frame) | found | tracks | tracks crossing a splice |\n"
          "|---|---|---|---|---|")
    for name, spans in SPLICES.items():
        if name not in movies:
            continue
        info, images = movies[name]
        clip: list[np.ndarray] = []
        truth = []
        for k, (a, b) in enumerate(spans):
            if k:
                truth.append(len(clip))
            clip += images[a:b + 1]
        fps = float(info.fps)
        frames = [VideoFrame(index=i, time=i / fps, image=im, scale=1.0) for i, im in enumerate(clip)]
        result = analyze_frames(iter(frames), replace(info, frames=len(clip),
                                                      duration=len(clip) / fps))
        found = [round(t * fps) for t in result.cuts]
        hits = [c for c in truth if any(abs(f - c) <= 1 for f in found)]
        crossing = sorted({t.id for t in result.objects for c in truth
                           if t.frames[0] < c <= t.frames[-1]})
        print(f"| {name} x4 | {truth} | {hits} (reported {found}) | {len(result.objects)} | "
              f"{len(crossing)} |")
        if strips:
            for c in truth:
                _strip(clip, c, f"{name} splice at {c}", strips / f"{name}_splice_{c}.png")


if __name__ == "__main__":
    main()
