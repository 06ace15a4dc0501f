"""Minimum-cost assignment of tracks to detections, without importing scipy.optimize when the
answer is plain.

Most frames are easy: every track's cheapest detection is a different one (or every
detection's cheapest track is, when there are more tracks than detections). Then that choice
costs the sum of the row (column) minima, a lower bound of any assignment, so it is optimal
and no solver is needed. A conflict (one frame in ten in a street of pedestrians, a handful of
tracks) is solved by the Hungarian method with shortest augmenting paths, vectorized over the
columns; only large ones go to `scipy.optimize.linear_sum_assignment`, imported then: importing
scipy.optimize costs about half a second of every `stereofoley analyze`.
"""

from __future__ import annotations

import numpy as np


def min_cost_assignment(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of a minimum-cost matching of a finite (r, c) cost matrix, min(r, c) pairs,
    rows ascending (as `scipy.optimize.linear_sum_assignment`)."""
    cost = np.asarray(cost, dtype=np.float64)
    if cost.ndim != 2:
        raise ValueError(f"cost must be a matrix, got shape {cost.shape}")
    if not np.all(np.isfinite(cost)):
        raise ValueError("cost must be finite")
    r, c = cost.shape
    if r == 0 or c == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    work = cost if r <= c else cost.T            # fewer rows than columns: rows pick columns
    best = np.argmin(work, axis=1)
    if np.unique(best).size == work.shape[0]:    # each row its own cheapest column: optimal
        match = best.astype(np.intp)
    elif max(r, c) <= SMALL:
        match = _hungarian(work)
    else:
        from scipy.optimize import linear_sum_assignment

        rows, cols = linear_sum_assignment(cost)
        return rows.astype(np.intp), cols.astype(np.intp)
    if r <= c:
        return np.arange(r, dtype=np.intp), match
    order = np.argsort(match)                    # match: the row of each column
    return match[order], order.astype(np.intp)

SMALL = 40   # conflicts up to this many tracks or detections are solved here


def _hungarian(cost: np.ndarray) -> np.ndarray:
    """The column of each row of a minimum-cost matching of an (n, m) matrix, n <= m: rows
    added one at a time, each by a shortest augmenting path over the reduced costs, with
    row and column potentials u, v kept so that reduced costs stay >= 0 (Kuhn-Munkres in the
    Jonker-Volgenant form; O(n^2 m), numpy over the columns)."""
    n, m = cost.shape
    u, v = np.zeros(n + 1), np.zeros(m + 1)
    owner = np.zeros(m + 1, dtype=np.intp)        # 1-based row holding column j (0: free)
    for row in range(1, n + 1):
        owner[0] = row
        col = 0                                    # column 0: the new row's virtual seat
        dist = np.full(m + 1, np.inf)
        back = np.zeros(m + 1, dtype=np.intp)
        used = np.zeros(m + 1, dtype=bool)
        while owner[col] != 0:
            used[col] = True
            here = owner[col]
            reduced = cost[here - 1] - u[here] - v[1:]
            closer = ~used[1:] & (reduced < dist[1:])
            dist[1:][closer] = reduced[closer]
            back[1:][closer] = col
            free = np.flatnonzero(~used)
            nearest = int(free[np.argmin(dist[free])])
            delta = dist[nearest]
            u[owner[used]] += delta
            v[used] -= delta
            dist[~used] -= delta
            col = nearest
        while col:                                 # flip the path back to the new row
            prev = back[col]
            owner[col] = owner[prev]
            col = prev
    result = np.empty(n, dtype=np.intp)
    taken = np.flatnonzero(owner[1:])
    result[owner[1:][taken] - 1] = taken
    return result
