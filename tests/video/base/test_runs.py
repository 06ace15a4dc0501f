"""Runs of sorted indices (video.base.runs)."""

from __future__ import annotations

import numpy as np
import pytest

from video.base.runs import index_runs


@pytest.mark.parametrize("indices, gap, runs", [
    ([], 1, []),
    ([4], 1, [(4, 5)]),
    ([1, 2, 3, 7, 8], 1, [(1, 4), (7, 9)]),
    ([1, 3, 5, 20], 2, [(1, 6), (20, 21)]),        # gaps of 2 join, leaving 2 and 4 inside
    ([0, 10, 20], 10, [(0, 21)]),
    ([0, 10, 20], 9, [(0, 1), (10, 11), (20, 21)]),
])
def test_index_runs(indices: list[int], gap: int, runs: list[tuple[int, int]]) -> None:
    assert index_runs(np.asarray(indices, dtype=np.int64), gap=gap) == runs
