"""Dissolves (cross-fades) between shots, streaming, and the split of tracks at them.

The hard-cut detector (video.cuts) deliberately ignores a cross-fade: its change is spread over
many frames, like motion's. A dissolve has its own signature, though: over its frames the
picture is a blend of the last picture of one shot (A) and the first of the next (B),
F_t = (1 - a_t) A + a_t B, with a_t rising steadily from 0 to 1. So, on tiny gray thumbnails:

- A and B differ a lot, over most of the picture (an object moved over a plain wall changes a
  patch of it), in layout too (not the same view brighter or darker: a change of
  exposure is also a blend, of a picture with a brighter copy of itself, and is refused when B
  is a gain and offset of A);
- the shot before A and the shot after B hold still for a few frames (else it is motion);
- every frame between is close to its best blend of A and B (a camera pan or an object
  crossing the frame is not: its middle is not the average of its ends), and the blend's share
  a_t rises roughly in proportion to time (a hard cut inside the span is a step, not a ramp).

A candidate that passes is extended while its end B keeps moving away from A (the dissolve is
still going), and reported when it stops: at the first frame whose share of the new shot is at
least a half. Dissolves shorter than `min_s` are left to the hard-cut detector. A fade through
black is found as two transitions, into black and out of it (the black between is a shot with
nothing in it).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from video.base.tracks import Track

THUMB = 32   # thumbnails are THUMB x THUMB gray, 0..255


@dataclass(frozen=True)
class DissolveConfig:
    """Tuning of the dissolve detector.

    enabled: look for dissolves at all. min_s / max_s: shortest and longest dissolve looked
    for (seconds). min_change: mean absolute
    gray difference (0..255) between the two shots' pictures. min_layout: mean change of their
    z-scored thumbnails (0 same layout, about 1.1 unrelated pictures). hold_frames: frames on
    either side that must stay within `hold` x the change of their own end. max_residual: the
    frames between may be at most this share of the change away from their best blend (90th
    percentile). max_lag: largest gap between a frame's blend share and its share of the time.
    exposure: B explained by a gain and offset of A to within this share of the change is a
    change of exposure, not a dissolve, unless one end is flat (its gray levels' deviation
    under `flat`): a fade to or from black. min_spread: share of the thumbnail's pixels that
    must change by at least `spread_level` gray levels (a new shot changes the whole picture;
    an object moved over a plain wall changes a patch of it).
    """

    enabled: bool = True
    min_s: float = 0.3
    max_s: float = 2.5
    min_change: float = 10.0
    min_layout: float = 0.3
    hold_frames: int = 3
    hold: float = 0.2
    max_residual: float = 0.2
    max_lag: float = 0.3
    exposure: float = 0.4
    flat: float = 4.0
    min_spread: float = 0.25
    spread_level: float = 10.0

    def __post_init__(self) -> None:
        if not 0.0 < self.min_s < self.max_s:
            raise ValueError("need 0 < min_s < max_s")
        if self.min_change <= 0 or self.min_layout < 0 or self.hold_frames < 1:
            raise ValueError("min_change must be positive, min_layout >= 0, hold_frames >= 1")
        for name in ("hold", "max_residual", "max_lag", "exposure"):
            if not 0.0 < getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in (0, 1)")


def thumbnail(gray: np.ndarray) -> np.ndarray:
    """A gray picture (any size, 0..255) as the detector's flat float32 thumbnail."""
    small = cv2.resize(np.asarray(gray, dtype=np.float32), (THUMB, THUMB),
                       interpolation=cv2.INTER_AREA)
    return small.ravel()


@dataclass(frozen=True)
class Dissolve:
    """A found dissolve: its first and last frame indices and the frame where the new shot
    takes over (the first whose blend share is at least a half), with that frame's time."""

    start: int
    end: int
    middle: int
    time: float


def _shares(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For thumbnails `frames` (rows, float64) from A (first) to B (last): each inner frame's
    best blend share a of B (F ~ A + a (B - A)), the inner frames minus A, and B - A."""
    a = frames[0]
    ab = frames[-1] - a
    span = frames[1:-1] - a
    return span @ ab / float(ab @ ab), span, ab


def _z(x: np.ndarray) -> np.ndarray:
    spread = float(x.std())
    return (x - x.mean()) / spread if spread > 1e-6 else np.zeros_like(x)


class DissolveDetector:
    """Streaming: `update(index, time, thumb)` for every frame in order, `finish()` at the end;
    each returns the dissolves now confirmed."""

    def __init__(self, fps: float, config: DissolveConfig | None = None) -> None:
        self.config = config or DissolveConfig()
        self.shortest = max(3, round(self.config.min_s * fps))
        self.longest = max(self.shortest + 1, round(self.config.max_s * fps))
        size = self.longest + 2 * self.config.hold_frames + 2
        self._thumbs: deque[np.ndarray] = deque(maxlen=size)
        # per frame, kept beside its thumbnail: z-scored thumbnail, gray deviation, and how much
        # the `hold_frames` before it differ from it (the hold before a dissolve starting there)
        self._z: deque[np.ndarray] = deque(maxlen=size)
        self._std: deque[float] = deque(maxlen=size)
        self._before: deque[float] = deque(maxlen=size)
        self._index: deque[int] = deque(maxlen=size)
        self._time: deque[float] = deque(maxlen=size)
        # (start, end, change): start and end count frames fed (not buffer positions, which
        # shift once the buffer is full)
        self._pending: tuple[int, int, float] | None = None
        self._fed = 0
        self._stale = 0
        self._last_end = -1

    def update(self, index: int, time: float, thumb: np.ndarray) -> list[Dissolve]:
        """Feed the next frame's thumbnail (`thumbnail`); returns dissolves confirmed now."""
        thumb = np.asarray(thumb, dtype=np.float32)
        std = float(thumb.std())
        self._before.append(self._hold_before(thumb, std))
        self._thumbs.append(thumb)
        self._z.append(_z(thumb))
        self._std.append(std)
        self._index.append(index)
        self._time.append(time)
        self._fed += 1
        hold = self.config.hold_frames
        end = len(self._thumbs) - 1 - hold          # the last frame with `hold` frames after it
        if end < self.shortest + hold:
            return []
        found = self._extend(end) if self._pending is not None else self._start(end)
        return [found] if found is not None else []

    def finish(self) -> list[Dissolve]:
        """Report a dissolve still being extended when the clip ends."""
        found = self._report() if self._pending is not None else None
        for buffer in (self._thumbs, self._z, self._std, self._before):
            buffer.clear()
        return [found] if found is not None else []

    def _hold_before(self, thumb: np.ndarray, std: float) -> float:
        """How far the last `hold_frames` thumbnails are from `thumb` (mean absolute gray
        difference, the largest; 0 for a flat picture, gray deviation `std` under `flat`: black
        needs no hold); inf while fewer have been fed."""
        hold = self.config.hold_frames
        if std < self.config.flat:
            return 0.0
        if len(self._thumbs) < hold:
            return float("inf")
        return max(float(np.mean(np.abs(self._thumbs[-j] - thumb))) for j in range(1, hold + 1))

    # -- candidates -------------------------------------------------------------------------------

    def _at(self, position: int) -> int:
        """The count of a buffer position (frames fed before it)."""
        return self._fed - len(self._thumbs) + position

    def _position(self, count: int) -> int:
        return count - (self._fed - len(self._thumbs))

    def _start(self, end: int) -> Dissolve | None:
        best = self._best(end)
        if best is not None:
            start, end, change = best
            self._pending, self._stale = (self._at(start), self._at(end), change), 0
        return None

    def _extend(self, end: int) -> Dissolve | None:
        assert self._pending is not None
        start, _, change = self._pending
        grown = self._check(self._position(start), end)
        if grown is not None and grown > change * 1.02:
            self._pending, self._stale = (start, self._at(end), grown), 0
            return None
        self._stale += 1
        if self._stale < self.config.hold_frames:
            return None
        return self._report()

    def _best(self, end: int) -> tuple[int, int, float] | None:
        """The best dissolve ending at buffer position `end`: (start, end, change) or None."""
        cfg = self.config
        thumbs = self._thumbs
        first = max(cfg.hold_frames, end - self.longest)
        starts = [s for s in range(first, end - self.shortest + 1)
                  if self._index[s] >= self._last_end]
        if not starts:
            return None
        b = thumbs[end]
        firsts = np.stack([thumbs[s] for s in starts])    # each candidate's picture A
        change = np.mean(np.abs(firsts - b), axis=1)
        if float(change.max()) < cfg.min_change:
            return None           # nothing changed enough: the common case, cheaply
        after = 0.0 if self._std[end] < cfg.flat else max(   # black needs no hold
            float(np.mean(np.abs(thumbs[end + j] - b))) for j in range(1, cfg.hold_frames + 1))
        ok = (change >= cfg.min_change) & (after <= cfg.hold * change)
        ok[ok] = self._ends_pass(np.asarray(starts)[ok], end, change[ok])
        scored = []
        kept = np.asarray(starts)[ok].tolist()
        if not kept:
            return None
        # the frames every kept candidate spans, stacked once for all their blend fits
        base = min(kept)
        frames = np.stack([thumbs[p] for p in range(base, end + 1)]).astype(np.float64)
        for s, d in zip(kept, change[ok].tolist(), strict=True):
            fit = self._blend_fit(s, end, d, frames=frames[s - base:])
            if fit is not None:
                scored.append((fit, s, d))
        if not scored:
            return None
        _, s, d = min(scored)
        return s, end, d

    def _check(self, start: int, end: int) -> float | None:
        """The change of the dissolve [start, end] if it still passes every test, else None."""
        if end - start > self.longest:
            return None
        d = float(np.mean(np.abs(self._thumbs[end] - self._thumbs[start])))
        if d < self.config.min_change:
            return None
        return d if self._fit(start, end, d) is not None else None

    def _fit(self, start: int, end: int, change: float) -> float | None:
        """How far the frames of [start, end] are from blends of its ends (share of the change,
        lower is better), or None where a test fails (module docstring)."""
        if not self._ends_pass(np.array([start]), end, np.array([change]))[0]:
            return None
        return self._blend_fit(start, end, change)

    def _ends_pass(self, starts: np.ndarray, end: int, change: np.ndarray) -> np.ndarray:
        """Which of the dissolves [start, end] (one per start, of the given changes) pass the
        tests on their two ends alone (module docstring): the hold before the start, a new
        layout, a change over most of the picture, not a change of exposure. One numpy pass
        over all starts, which keeps a picture that changes all the time (a hand-held camera,
        an object filling the frame) cheap: few of its candidates reach the blend fit."""
        cfg = self.config
        b, zb, std_b = self._thumbs[end], self._z[end], self._std[end]
        ok = np.array([self._before[s] for s in starts.tolist()]) <= cfg.hold * change
        if ok.any():
            idx = starts[ok].tolist()
            firsts = np.stack([self._thumbs[s] for s in idx])
            zs = np.stack([self._z[s] for s in idx])
            keep = np.mean(np.abs(zs - zb), axis=1) >= cfg.min_layout
            # a patch changed, not the picture
            keep &= np.mean(np.abs(b - firsts) >= cfg.spread_level, axis=1) >= cfg.min_spread
            ok[ok] = keep & ~self._exposure(firsts, b, std_b, change[ok])
        return ok

    def _exposure(self, firsts: np.ndarray, b: np.ndarray, std_b: float,
                  change: np.ndarray) -> np.ndarray:
        """Which start pictures `firsts` (k, n) b is just a gain and offset of, to within
        `exposure` of the change: the same picture brighter or darker (least-squares line per
        row). Never when either end is flat: a fade to or from black is a dissolve."""
        cfg = self.config
        a = firsts.astype(np.float64)
        mean_a = a.mean(axis=1, keepdims=True)
        centred = a - mean_a
        bb = b.astype(np.float64)
        var = np.einsum("ij,ij->i", centred, centred)
        gain = np.divide(centred @ (bb - bb.mean()), var, out=np.zeros(len(a)), where=var > 0)
        offset = bb.mean() - gain * mean_a[:, 0]
        residual = np.mean(np.abs(bb[None, :] - (gain[:, None] * a + offset[:, None])), axis=1)
        flat = (a.std(axis=1) < cfg.flat) | (std_b < cfg.flat)
        return ~flat & (residual < cfg.exposure * change)

    def _blend_fit(self, start: int, end: int, change: float, *,
                   frames: np.ndarray | None = None) -> float | None:
        """The blend tests of [start, end] (its ends passed theirs): how far its frames are
        from blends of its ends, as a share of the change, or None where a test fails.
        `frames`: the thumbnails of start..end as float64 rows, when already stacked."""
        cfg = self.config
        if frames is None:
            frames = np.stack([self._thumbs[t] for t in range(start, end + 1)]).astype(np.float64)
        share, span, ab = _shares(frames)
        ramp = np.arange(1, end - start) / (end - start)
        if float(np.max(np.abs(share - ramp))) > cfg.max_lag:
            return None   # (the cheaper test first: both must pass)
        residual = np.mean(np.abs(span - share[:, None] * ab[None, :]), axis=1)
        worst = float(np.percentile(residual, 90))
        if worst > cfg.max_residual * change:
            return None
        return worst / change

    def _report(self) -> Dissolve | None:
        assert self._pending is not None
        start, end = (self._position(c) for c in self._pending[:2])
        self._pending = None
        frames = np.stack([self._thumbs[t] for t in range(start, end + 1)]).astype(np.float64)
        shares = np.concatenate([[0.0], _shares(frames)[0], [1.0]])
        middle = start + int(np.argmax(shares >= 0.5))
        self._last_end = self._index[end]
        return Dissolve(start=self._index[start], end=self._index[end],
                        middle=self._index[middle], time=self._time[middle])


def split_at(tracks: Sequence[Track], frames: Sequence[int]) -> list[Track]:
    """Raw tracks (before their events are found) cut into pieces at `frames`: each piece
    starts at or after one of them and ends before the next, so no track crosses a dissolve.
    The first piece keeps the track's id, the others get ids after the largest."""
    marks = sorted({int(f) for f in frames})
    if not marks:
        return list(tracks)
    next_id = max((t.id for t in tracks), default=0) + 1
    out: list[Track] = []
    for track in tracks:
        piece_of = np.searchsorted(marks, track.frames, side="right")
        pieces = np.unique(piece_of)
        if pieces.size <= 1:
            out.append(track)
            continue
        if track.events:
            raise ValueError(f"track {track.id}: split tracks before their events are found")
        for k, piece in enumerate(pieces):
            keep = piece_of == piece
            out.append(track.with_changes(id=track.id if k == 0 else next_id,
                                          frames=track.frames[keep], boxes=track.boxes[keep]))
            next_id += 1 if k else 0
    return out
