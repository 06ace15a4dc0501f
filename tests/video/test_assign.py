"""Track-to-detection assignment: the plain cases answered without a solver are optimal, and
every answer costs what scipy's solver's does."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from video.assign import min_cost_assignment


@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (2, 5), (5, 2), (8, 8), (0, 3), (4, 0),
                                   (14, 11), (40, 40), (45, 50)])
def test_assignment_costs_what_the_solver_finds(shape: tuple[int, int],
                                                rng: np.random.Generator) -> None:
    for _ in range(50):
        cost = rng.uniform(0.0, 1.0, shape)
        if cost.size and rng.random() < 0.5:
            cost[rng.random(shape) < 0.4] = 1e6          # the tracker's impossible pairs
        rows, cols = min_cost_assignment(cost)
        want_r, want_c = linear_sum_assignment(cost)
        assert len(rows) == len(want_r) == min(shape)
        assert np.all(np.diff(rows) > 0) and len(set(cols.tolist())) == len(cols)
        assert cost[rows, cols].sum() == pytest.approx(cost[want_r, want_c].sum(), abs=1e-9)


def test_plain_cases_need_no_solver(monkeypatch: pytest.MonkeyPatch) -> None:
    import scipy.optimize

    monkeypatch.delattr(scipy.optimize, "linear_sum_assignment")
    near = np.array([[0.1, 0.9, 0.8], [0.7, 0.2, 0.9]])          # each row its own column
    assert [a.tolist() for a in min_cost_assignment(near)] == [[0, 1], [0, 1]]
    assert [a.tolist() for a in min_cost_assignment(near.T)] == [[0, 1], [0, 1]]
    conflict = np.array([[0.1, 0.2], [0.1, 0.9]])                 # both rows want column 0
    assert [a.tolist() for a in min_cost_assignment(conflict)] == [[0, 1], [1, 0]]
    with pytest.raises(ImportError):                    # only a large conflict needs scipy
        min_cost_assignment(np.where(np.arange(41) == 0, 0.1, 0.5) * np.ones((41, 1)))


@pytest.mark.parametrize(("cost", "message"), [(np.zeros(3), "matrix"),
                                               (np.array([[np.inf]]), "finite")])
def test_bad_costs_are_refused(cost: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        min_cost_assignment(cost)
