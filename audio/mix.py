"""The mixer: mute/solo semantics and the sum of per-object stereo stems.

Stems are (2, n) float32 arrays aligned at video time 0. The mix is their plain sum (unity
faders: every level decision was already made by the spatializer and the nudges), so stems
exported alongside it sum back to it exactly, as delivery specs require.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from audio.nudges import Nudges

_DEFAULT = Nudges()


def active_ids(nudges: Mapping[int, Nudges]) -> set[int]:
    """Ids of the objects a mixer would let through.

    With any channel soloed only the soloed ones play; otherwise every channel plays. Mute
    always wins: a muted channel is silent even when it is also soloed (as on most consoles).
    """
    soloed = any(n.solo for n in nudges.values())
    return {oid for oid, n in nudges.items() if not n.mute and (n.solo or not soloed)}


def fit_length(audio: np.ndarray, n_samples: int) -> np.ndarray:
    """A (2, n_samples) float32 copy-or-view: zero-padded at the end or cut to length."""
    data = np.asarray(audio, dtype=np.float32)
    if data.ndim != 2 or data.shape[0] != 2:
        raise ValueError(f"a stem must be stereo (2, n), got shape {data.shape}")
    if data.shape[1] >= n_samples:
        return data[:, :n_samples]
    out = np.zeros((2, n_samples), dtype=np.float32)
    out[:, : data.shape[1]] = data
    return out


def mix_stems(stems: Mapping[int, np.ndarray], nudges: Mapping[int, Nudges], *,
              n_samples: int) -> np.ndarray:
    """Sum of the active stems as a (2, n_samples) float32 mix.

    A stem without an entry in `nudges` plays with default nudges (unmuted, not soloed); a
    soloed entry without a stem still puts the mixer in solo mode. Stems
    shorter than n_samples are padded with silence, longer ones are cut. Summed in ascending id
    order, so the same stems always give the same bits.
    """
    if n_samples < 0:
        raise ValueError(f"n_samples must be >= 0, got {n_samples}")
    full = {**{oid: _DEFAULT for oid in stems}, **nudges}
    playing = active_ids(full)
    total = np.zeros((2, n_samples), dtype=np.float32)
    for oid in sorted(stems):
        stem = fit_length(stems[oid], n_samples)
        if oid in playing:
            total += stem
    return total
