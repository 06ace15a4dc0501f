"""Playback engine and editing-model costs: how much of a CPU the studio's audio and undo need.

    .venv/bin/python bench/bench_playback.py [--seconds 300] [--objects 20] [--device]

Times, on a stereo 48 kHz mix of `--seconds` and a project of `--objects` objects tracked on
every frame of a 29.97 fps video of the same length:
  - callback:   the device callback filling 512-frame blocks (plain play; a short loop with
                a seek crossfade in every block, the worst case), as x real time = audio seconds
                rendered per CPU second (so 1 / figure is the share of one core playback needs)
  - set_mix:    swapping in a new full-length mix (the copy done outside the lock), ms
  - position:   one clock query (the studio asks once per UI frame), microseconds
  - silent:     CPU share of one core used by silent-mode playback over 2 s of wall time
  - device:     (--device) the same through the sound card, with the underflow count
  - history:    History.apply of a pan nudge (snapshot + edit), and undo, microseconds
  - autosave:   writing the recovery file of the whole project (first write; later writes
                while only sounds/nudges changed reuse the analysis JSON), ms and size; and
                what `tick` costs the UI thread when it starts a background write
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np

from app import edits
from app.autosave import Autosaver
from app.history import History
from app.project import Project
from audio.playback import PlaybackConfig, PlaybackEngine
from video.base.timebase import SAMPLE_RATE
from video.base.tracks import Analysis, Event, Track, VideoInfo

FPS = Fraction(30000, 1001)
BLOCK = 512


def best_of(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """(best, median) wall seconds of `repeats` calls."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times)


def callback_speed(mix: np.ndarray, *, crossfade_always: bool, seconds: float) -> float:
    """Audio seconds rendered per CPU second by the callback (`PlaybackEngine.pull`).

    crossfade_always: play a 0.1 s loop and seek every other block, so every block wraps a
    loop and blends a 10 ms crossfade (the most work a block can need).
    """
    engine = PlaybackEngine(mix, config=PlaybackConfig(silent=True))
    loop = (SAMPLE_RATE, SAMPLE_RATE + 4800)
    if crossfade_always:
        engine.set_loop(*loop)
        engine.seek(loop[0])
    engine.play()
    out = np.zeros((BLOCK, 2), np.float32)
    blocks = int(seconds * SAMPLE_RATE / BLOCK)
    t = time.process_time()
    for i in range(blocks):
        if crossfade_always and i % 2 == 0:
            engine.seek(loop[0] + (i * 97) % 4000)
        engine.pull(out)
    cpu = time.process_time() - t
    assert engine.callback_errors == 0, engine.last_callback_error
    return blocks * BLOCK / SAMPLE_RATE / cpu


def big_project(seconds: float, objects: int, rng: np.random.Generator) -> Project:
    frames = int(seconds * FPS)
    info = VideoInfo(path="/tmp/bench.mp4", width=1920, height=1080, fps=FPS,
                     duration=seconds, frames=frames)
    tracks = []
    for i in range(objects):
        x = np.cumsum(rng.normal(0, 2, frames)) % 1800
        boxes = np.stack([x, np.full(frames, 100.0), x + 100, np.full(frames, 300.0)], axis=1)
        events = tuple(Event(float(t), float(rng.uniform(0.1, 1)))
                       for t in np.sort(rng.uniform(0, seconds, 50)))
        tracks.append(Track(id=i + 1, label=f"object {i + 1}", frames=np.arange(frames),
                            boxes=boxes, events=events))
    return Project(analysis=Analysis(video=info, objects=tuple(tracks)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--objects", type=int, default=20)
    parser.add_argument("--device", action="store_true",
                        help="also play 3 s through the default output device")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    mix = rng.uniform(-0.5, 0.5, (2, int(args.seconds * SAMPLE_RATE))).astype(np.float32)

    plain = callback_speed(mix, crossfade_always=False, seconds=30.0)
    worst = callback_speed(mix, crossfade_always=True, seconds=30.0)
    print(f"callback, plain play:              {plain:8.0f}x real time "
          f"({100 / plain:.2f}% of a core)")
    print(f"callback, loop + crossfade always: {worst:8.0f}x real time "
          f"({100 / worst:.2f}% of a core)")

    if args.device:
        with PlaybackEngine(mix) as engine:
            print(f"device: {engine.status_message}")
            if not engine.silent:
                time.sleep(2.0)  # let a fresh PulseAudio stream settle
                engine.play()
                cpu, wall, under = time.process_time(), time.monotonic(), engine.underflows
                time.sleep(3.0)
                share = (time.process_time() - cpu) / (time.monotonic() - wall)
                print(f"device playback:                   {share * 100:.2f}% of a core, "
                      f"{engine.underflows - under} underflows in 3 s")

    with PlaybackEngine(mix, config=PlaybackConfig(silent=True)) as engine:
        engine.play()
        best, med = best_of(lambda: engine.set_mix(mix), 5)
        print(f"set_mix ({args.seconds:.0f} s mix):           best {best * 1e3:.1f} ms, "
              f"median {med * 1e3:.1f} ms")
        best, med = best_of(engine.position, 2000)
        print(f"position():                        best {best * 1e6:.1f} us, "
              f"median {med * 1e6:.1f} us")
        cpu, wall = time.process_time(), time.monotonic()
        time.sleep(2.0)
        share = (time.process_time() - cpu) / (time.monotonic() - wall)
        print(f"silent playback:                   {share * 100:.2f}% of a core")

    project = big_project(args.seconds, args.objects, rng)
    history = History()
    values = iter(np.linspace(-1, 1, 100_000))
    best, med = best_of(lambda: history.apply(project, "Pan", edits.set_pan_offset, 3,
                                              float(next(values))), 200)
    print(f"history.apply(pan nudge):          best {best * 1e6:.0f} us, "
          f"median {med * 1e6:.0f} us ({args.objects} objects x {len(project.analysis.objects[0])}"
          " frames)")
    best, med = best_of(lambda: history.undo(project), 100)
    print(f"history.undo:                      best {best * 1e6:.0f} us, "
          f"median {med * 1e6:.0f} us")
    with tempfile.TemporaryDirectory() as tmp:
        saver = Autosaver(project_path=Path(tmp) / "p.json")
        t = time.perf_counter()
        saver.write_now(project)
        first = time.perf_counter() - t
        size = saver.path.stat().st_size / 1e6
        best, med = best_of(lambda: saver.write_now(project), 3)
        print(f"autosave write, first:             {first * 1e3:.0f} ms ({size:.1f} MB)")
        print(f"autosave write, analysis unchanged: best {best * 1e3:.0f} ms, "
              f"median {med * 1e3:.0f} ms")
        steps = History()
        for k in range(200):  # a full undo history: 200 nudges
            steps.apply(project, "Gain", edits.set_gain, 1 + k % args.objects, -0.1 * (k % 50))
        state = steps.state()
        best, med = best_of(lambda: saver.write_now(project, history=state), 3)
        size = saver.path.stat().st_size / 1e6
        print(f"autosave write with 200 undo steps: best {best * 1e3:.0f} ms, "
              f"median {med * 1e3:.0f} ms ({size:.1f} MB)")
        clock = [0.0]
        saver = Autosaver(project_path=Path(tmp) / "q.json",
                          clock=lambda: clock[0])
        saver.mark_dirty()
        clock[0] = 2.0
        t = time.perf_counter()
        saver.tick(project)
        tick = time.perf_counter() - t
        saver.flush()
        print(f"autosave tick (UI thread part):    {tick * 1e3:.2f} ms (the write runs on a "
              "worker thread)")

if __name__ == "__main__":
    main()
