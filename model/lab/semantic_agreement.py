"""YAMNet agreement: does an object's stem sound like what the object is?

For each object with a known visual class (COCO-style: person, car, dog, sports ball, cup ...),
YAMNet (model/lab/yamnet.py) scores the object's stem every 0.48 s on AudioSet's 521 classes,
and the stem is compared with the AudioSet classes such an object should make
(`EXPECTED_CLASSES`: person -> "Walk, footsteps", "Run" ...; car -> "Vehicle", "Car",
"Engine" ...).

The score of one object:

    agreement = (audible patches whose top-5 classes include an expected class)
                / (audible patches)

- A patch is *audible* when its RMS level is within `FLOOR_DB` (30 dB) of the stem's loudest
  patch and above `SILENCE_DBFS` (-70 dBFS): gaps between footsteps still count when the patch
  holds a step, fully silent stretches do not.
- "Top 5 includes an expected class": fewer than k = 5 classes outrank the best-scoring expected
  class in that patch. YAMNet's int8 output has coarse steps, so ties are common; a tie with an
  unexpected class counts AGAINST the expected one (a patch whose classes all score the same,
  e.g. near silence, is not a hit).
- Objects whose class has no expected sounds (`unknown`, `object`, synthetic boxes) and objects
  with no audible patch are left out. The table's value is the mean over the objects scored
  (0..1; NaN when none was).

Shape labels of the motion tracker count as their visual class (`LABEL_ALIASES`: walker -> person,
vehicle -> car, ball -> sports ball), so the same table scores today's shape-labelled analyses
and the recognizer's COCO labels.

The metric says how often YAMNet, trained on YouTube audio, hears the expected kind of sound; it
is not a perceptual score. Short, isolated game-library footsteps (gravel, snow, grass) are
often heard as "Crack", "Spray" or "Sound effect": a footstep stem can be right and still score
low, so compare renders with each other on the same objects rather than against 1.0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from model.lab.yamnet import ClassScores, YamnetModel, class_scores, top_classes

TOP_K = 5
FLOOR_DB = 30.0
SILENCE_DBFS = -70.0

_VEHICLE = ("Vehicle", "Motor vehicle (road)", "Car", "Car passing by", "Engine",
            "Vehicle horn, car horn, honking",
            "Engine starting", "Idling", "Accelerating, revving, vroom",
            "Light engine (high frequency)", "Medium engine (mid frequency)",
            "Heavy engine (low frequency)", "Tire squeal", "Skidding",
            "Traffic noise, roadway noise")
_TABLEWARE = ("Dishes, pots, and pans", "Cutlery, silverware", "Glass", "Chink, clink",
              "Clatter", "Tap")
_FURNITURE = ("Wood", "Scrape", "Knock", "Creak", "Squeak", "Rub", "Thump, thud")

# visual class (COCO-style, lower case) -> AudioSet display names (yamnet_class_map.csv)
EXPECTED_CLASSES: Mapping[str, tuple[str, ...]] = {
    "person": ("Walk, footsteps", "Run", "Shuffle", "Rustle"),
    "car": _VEHICLE,
    "bus": (*_VEHICLE, "Bus"),
    "truck": (*_VEHICLE, "Truck"),
    "motorcycle": (*_VEHICLE, "Motorcycle"),
    "bicycle": ("Bicycle", "Bicycle bell", "Ratchet, pawl", "Mechanisms", "Clicking"),
    "dog": ("Dog", "Bark", "Yip", "Howl", "Bow-wow", "Growling", "Whimper (dog)",
            "Canidae, dogs, wolves", "Domestic animals, pets", "Animal"),
    "cat": ("Cat", "Purr", "Meow", "Hiss", "Domestic animals, pets", "Animal"),
    "horse": ("Horse", "Clip-clop", "Neigh, whinny", "Livestock, farm animals, working animals",
              "Animal"),
    "bird": ("Bird", "Bird vocalization, bird call, bird song", "Chirp, tweet",
             "Bird flight, flapping wings", "Flap", "Pigeon, dove", "Crow", "Animal"),
    "sports ball": ("Bouncing", "Basketball bounce", "Thump, thud", "Whack, thwack", "Tap",
                    "Slap, smack"),
    "cup": _TABLEWARE,
    "bottle": _TABLEWARE,
    "bowl": _TABLEWARE,
    "wine glass": _TABLEWARE,
    # a box handled, pushed or put down (cardboard, wood)
    "box": ("Scrape", "Rub", "Thump, thud", "Tap", "Knock", "Crumpling, crinkling", "Rustle"),
    "chair": _FURNITURE,
    "dining table": _FURNITURE,
    "table": _FURNITURE,
    "bench": _FURNITURE,
    "door": ("Door", "Knock", "Slam", "Sliding door", "Squeak", "Creak",
             "Cupboard open or close"),
}

# shape labels of video/tracker.py (and synthetic truth) -> the visual class they stand for
LABEL_ALIASES: Mapping[str, str] = {"walker": "person", "pedestrian": "person",
                                    "vehicle": "car", "ball": "sports ball"}


def visual_class(label: str) -> str:
    """The visual class a track label stands for (lower case, aliases resolved)."""
    name = label.strip().lower()
    return LABEL_ALIASES.get(name, name)


def expected_classes(label: str) -> tuple[str, ...]:
    """The AudioSet classes expected from an object labelled `label` (() when none are)."""
    return tuple(EXPECTED_CLASSES.get(visual_class(label), ()))


def audible_patches(level_db: np.ndarray, *, floor_db: float = FLOOR_DB,
                    silence_dbfs: float = SILENCE_DBFS) -> np.ndarray:
    """Boolean mask of the patches within `floor_db` of the loudest and above `silence_dbfs`."""
    level = np.asarray(level_db, dtype=np.float64)
    if level.size == 0 or not np.any(np.isfinite(level)):
        return np.zeros(level.shape, dtype=bool)
    loudest = float(np.max(level[np.isfinite(level)]))
    return np.isfinite(level) & (level >= loudest - floor_db) & (level > silence_dbfs)


def patch_hits(scores: np.ndarray, classes: Sequence[str], expected: Sequence[str], *,
               k: int = TOP_K) -> np.ndarray:
    """Per patch (rows of `scores`), whether an expected class is in the top k: fewer than k
    classes score above the best expected class, ties with unexpected classes counting above.
    ValueError when an expected name is not one of `classes`."""
    index = {name: i for i, name in enumerate(classes)}
    missing = [name for name in expected if name not in index]
    if missing:
        raise ValueError(f"not AudioSet classes of this model: {missing}")
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 2 or s.shape[1] != len(classes):
        raise ValueError(f"scores must be (patches, {len(classes)}), got {s.shape}")
    chosen = np.zeros(len(classes), dtype=bool)
    chosen[[index[name] for name in expected]] = True
    best = s[:, chosen].max(axis=1, initial=-np.inf)[:, None]
    above = (s > best) | ((s == best) & ~chosen[None, :])
    return above.sum(axis=1) < k


@dataclass(frozen=True)
class Agreement:
    """One object's YAMNet agreement (see the module docstring)."""

    label: str                            # the track's label
    visual_class: str                     # what it stands for
    patches: int                          # audible patches scored
    hits: int                             # of which have an expected class in the top k
    top: tuple[tuple[str, float], ...]    # the 5 best classes of the audible patches' mean
    best_expected: tuple[str, float]      # the expected class with the highest mean score

    @property
    def fraction(self) -> float:
        return self.hits / self.patches if self.patches else math.nan


def agreement(scores: ClassScores, label: str, *, k: int = TOP_K,
              floor_db: float = FLOOR_DB) -> Agreement | None:
    """The agreement of scored audio with `label`'s expected classes (None when the label has
    none)."""
    expected = expected_classes(label)
    if not expected:
        return None
    mask = audible_patches(scores.level_db, floor_db=floor_db)
    heard = scores.scores[mask]
    hits = patch_hits(heard, scores.classes, expected, k=k) if heard.shape[0] else np.zeros(0)
    mean = heard.mean(axis=0) if heard.shape[0] else np.zeros(len(scores.classes))
    index = {name: i for i, name in enumerate(scores.classes)}
    best = max(expected, key=lambda name: (mean[index[name]], -index[name]))
    return Agreement(label=label, visual_class=visual_class(label), patches=int(heard.shape[0]),
                     hits=int(np.sum(hits)),
                     top=tuple(top_classes(mean, scores.classes)) if heard.shape[0] else (),
                     best_expected=(best, float(mean[index[best]])))


def stem_agreement(stem: np.ndarray, label: str, *, sample_rate: int,
                   model: YamnetModel | None = None, k: int = TOP_K) -> Agreement | None:
    """YAMNet agreement of one object's stem (mono or (channels, samples)) with its label;
    None, without running the model, when the label has no expected classes."""
    if not expected_classes(label):
        return None
    return agreement(class_scores(stem, sample_rate=sample_rate, model=model), label, k=k)


def stems_agreement(stems: Sequence[np.ndarray], labels: Sequence[str | None], *,
                    sample_rate: int, model: YamnetModel | None = None) -> list[float]:
    """Agreement fractions of the stems whose label (None: no known class) has expected classes
    and that have an audible patch; one value per such stem, in order."""
    out = []
    for stem, label in zip(stems, labels, strict=True):
        if label is None:
            continue
        result = stem_agreement(stem, label, sample_rate=sample_rate, model=model)
        if result is not None and result.patches:
            out.append(result.fraction)
    return out


def yamnet_note() -> str:
    """"" when YAMNet is available; otherwise the one line an evaluation report prints instead
    of its YAMNet-agreement column. Raises InputError when YAMNet is installed but corrupt."""
    from model.lab.yamnet import unavailable_reason, yamnet_available

    if yamnet_available():
        return ""
    return f"(YAMNet agreement column left out: {unavailable_reason()}.)"
