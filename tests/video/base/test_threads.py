"""video.base.threads: OpenCV's pool is one thread during the analysis and restored after."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import cv2
import pytest

from video.analyze import analyze_video
from video.base.threads import opencv_threads


@pytest.mark.parametrize("count", [1, 2, 3])
def test_the_count_holds_inside_and_the_previous_one_comes_back(count: int) -> None:
    before = cv2.getNumThreads()
    with opencv_threads(count):
        assert cv2.getNumThreads() == count
    assert cv2.getNumThreads() == before


def test_an_error_inside_still_restores_and_a_bad_count_is_refused() -> None:
    before = cv2.getNumThreads()
    with pytest.raises(RuntimeError), opencv_threads(1):
        raise RuntimeError("inside")
    assert cv2.getNumThreads() == before
    with pytest.raises(ValueError, match="at least 1"), opencv_threads(0):
        pass


def test_the_analysis_runs_opencv_single_threaded(tmp_path: Path) -> None:
    from video.synth import ObjectSpec, SceneSpec, write_clip
    spec = SceneSpec(width=320, height=180, fps=Fraction(25), duration=1.0, seed=3,
                     objects=(ObjectSpec("ball", start=(0.2, 0.5), velocity=(0.3, 0.0),
                                         size=0.15),))
    path = tmp_path / "ball.mp4"
    write_clip(spec, str(path))
    seen: list[int] = []
    before = cv2.getNumThreads()
    analyze_video(path, progress=lambda fraction, message: seen.append(cv2.getNumThreads()))
    assert seen and set(seen) == {1}
    assert cv2.getNumThreads() == before
