"""Which foley an object of a known class gets: a table from visual class to recipe (data).

A recipe says, for one kind of object, which one-shot plays on which visual event (`impact`,
`step`, `scrape`, `onset`, and `put-down`: where a moving object comes to rest), which movement
textures follow its speed (with the speed gate that switches them on, an idle level, and a
pass-by emphasis for vehicles), which bank recordings to search for (queries in the bundled
bank's vocabulary, `assets/sounds/manifest.json`), and the procedural preset to fall back on
where the bank has nothing. Recorded sounds win where they exist: YAMNet hears the bank's
footsteps as "Walk, footsteps" but the procedural ones as "Explosion"/"Gunshot".

Classes are COCO-style names in lower case (what `video/recognize.py` writes into a track's
`label`); the motion tracker's shape labels stand for classes (`walker` -> person, `vehicle` ->
car, `ball` -> sports ball); `unknown`, `object` and anything not in the table keep the
motion-based choice of `model.foley.choose`. A prompt still overrides the recipe (see
`choose_sounds`), except that a prompt naming only a surface ("gravel") or an ambience ("rain",
"crowd") picks that variant of the recipe.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

ONE_SHOT_EVENTS = ("impact", "step", "scrape", "onset", "put-down")


@dataclass(frozen=True)
class OneShotSpec:
    """A one-shot: generator kind (`step`, `impact`, `scrape`, or a bank-only kind such as
    `door`), the procedural variant (surface or material), a bank query ("" = procedural only),
    a level (1 = a full-strength hit) and the modal size (None: from the box)."""

    kind: str
    variant: str = ""
    query: str = ""
    level: float = 1.0
    size: float | None = None


@dataclass(frozen=True)
class TextureSpec:
    """A continuous layer. `kind` is the procedural preset (whoosh, scrape, engine, tyres,
    cloth, chain, wings, bed); `variant` tunes it (engine size, bed kind); `query` searches the
    bank for a loop. `gate` = (still, moving) speeds in frame diagonals per second (None: the
    generator's defaults); `idle` is the level kept while tracked but still (an idling engine);
    `passby` > 0 makes it louder and brighter while the box grows (approaching); `bed` plays it
    at a constant level over the whole track, whatever the motion."""

    kind: str
    variant: str = ""
    query: str = ""
    gain: float = 1.0
    gate: tuple[float, float] | None = None
    idle: float = 0.0
    passby: float = 0.0
    bed: bool = False


@dataclass(frozen=True)
class Recipe:
    """One class's foley (see the module doc). `implied` places one-shots from motion when the
    analysis found no events on the object: "step" (a gait cadence while moving) or "put-down"
    (where it comes to rest). `surfaces` says the step sound follows a surface word of the
    prompt; `summary` is what the studio shows."""

    name: str
    summary: str
    events: Mapping[str, OneShotSpec]
    textures: tuple[TextureSpec, ...] = ()
    implied: str | None = None
    surfaces: bool = False

    def one_shot(self, event_kind: str) -> OneShotSpec | None:
        """The one-shot for a visual event kind (`impact` stands in for kinds it lacks)."""
        return self.events.get(event_kind) or self.events.get("impact")


def _events(**specs: OneShotSpec) -> Mapping[str, OneShotSpec]:
    """Event kind -> one-shot (keyword `put_down` is the `put-down` event)."""
    return MappingProxyType({k.replace("_", "-"): v for k, v in specs.items()})


# step surface (a prompt word) -> (bank query, procedural surface); "stone" is the neutral default
STEP_SURFACES: Mapping[str, tuple[str, str]] = MappingProxyType({
    "stone": ("footsteps stone concrete pavement", "hard"),
    "gravel": ("footsteps gravel", "gravel"),
    "grass": ("footsteps grass", "soft"),
    "wood": ("footsteps wood floor", "hard"),
    "snow": ("footsteps snow", "soft"),
    "sand": ("footsteps sand", "soft"),
    "dirt": ("footsteps dirt", "soft"),
    "metal": ("footsteps metal", "metal"),
    "ice": ("footsteps ice", "gravel"),
    "water": ("footsteps water splash", "soft"),
    "glass": ("footsteps glass floor", "hard"),
})
DEFAULT_SURFACE = "stone"
# prompt words (by prefix) -> step surface
_SURFACE_WORDS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "stone": ("stone", "concrete", "pavement", "asphalt", "street", "tile", "marble", "hard"),
    "gravel": ("gravel", "pebble"),
    "grass": ("grass", "lawn", "meadow", "field"),
    "wood": ("wood", "plank", "board", "parquet", "floorboard"),
    "snow": ("snow",),
    "sand": ("sand", "beach"),
    "dirt": ("dirt", "mud", "earth", "soil", "forest", "path"),
    "metal": ("metal", "steel", "grate", "iron"),
    "ice": ("ice", "frozen"),
    "water": ("water", "puddle", "wade"),
    "glass": ("glass",),
})

# ambience bed (a prompt word) -> bank query; "wind" is the default (leaves move in wind)
BEDS: Mapping[str, str] = MappingProxyType({
    "wind": "wind gust ambience",
    "leaves": "wind gust ambience",
    "crowd": "crowd ambience",
    "water": "stream water flow",
    "fire": "fire crackle ambience",
})
DEFAULT_BED = "wind"
_BED_WORDS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "wind": ("wind", "breeze", "gust", "storm", "air"),
    "leaves": ("leaf", "leaves", "tree", "foliage", "bush", "rustl"),
    "crowd": ("crowd", "people", "audience", "applause", "walla", "market"),
    "water": ("water", "stream", "river", "brook", "sea", "wave", "rain", "fountain"),
    "fire": ("fire", "flame", "campfire"),
})

_PERSON = Recipe(
    "person", "footsteps + cloth",
    _events(step=OneShotSpec("step", "hard", STEP_SURFACES[DEFAULT_SURFACE][0]),
            impact=OneShotSpec("step", "hard", STEP_SURFACES[DEFAULT_SURFACE][0]),
            scrape=OneShotSpec("scrape", level=0.3)),
    (TextureSpec("cloth", gain=0.6, gate=(0.03, 0.06)),),
    implied="step", surfaces=True)
_WHEELS = TextureSpec("tyres", gain=0.4, gate=(0.01, 0.04), passby=1.0)
_CAR = Recipe(
    "car", "engine + tyres, pass-by",
    _events(impact=OneShotSpec("impact", "metal", level=0.7, size=2.5)),
    (TextureSpec("engine", "car", "vehicle engine", gain=1.2, idle=0.3, passby=1.0), _WHEELS))
_HEAVY = Recipe(
    "heavy vehicle", "diesel engine + tyres, pass-by",
    _events(impact=OneShotSpec("impact", "metal", level=0.7, size=2.5)),
    (TextureSpec("engine", "truck", "vehicle engine diesel", gain=1.0, idle=0.35, passby=1.0),
     _WHEELS))
_MOTORCYCLE = Recipe(
    "motorcycle", "motorcycle engine + tyres, pass-by",
    _events(impact=OneShotSpec("impact", "metal", level=0.7, size=1.5)),
    (TextureSpec("engine", "motorcycle", "vehicle engine", gain=1.2, idle=0.25, passby=1.2),
     _WHEELS))
_BICYCLE = Recipe(
    "bicycle", "chain + tyres",
    _events(impact=OneShotSpec("impact", "metal", level=0.5, size=1.0)),
    (TextureSpec("chain", gain=0.5, gate=(0.02, 0.05)),
     TextureSpec("tyres", gain=0.45, gate=(0.02, 0.05), passby=0.5)))
_PAWS = Recipe(
    "paws", "paw steps",
    _events(step=OneShotSpec("step", "soft", level=0.45),
            impact=OneShotSpec("step", "soft", level=0.45)),
    implied="step")
_HOOVES = Recipe(
    "hooves", "hooves (clip-clop)",
    _events(step=OneShotSpec("impact", "wood", "hooves clip clop", level=0.9, size=0.9),
            impact=OneShotSpec("impact", "wood", "hooves clip clop", level=0.9, size=0.9)),
    implied="step")
_BIRD = Recipe(
    "bird", "wing flaps",
    _events(impact=OneShotSpec("impact", "wood", level=0.3, size=0.5)),
    (TextureSpec("wings", gain=1.0, gate=(0.02, 0.06)),))
# a ball is heard where it hits; in flight only a fast throw swishes (its own speed gate)
_BALL = Recipe(
    "sports ball", "bounces",
    _events(impact=OneShotSpec("impact", "ball"), step=OneShotSpec("impact", "ball")),
    (TextureSpec("whoosh", gain=0.3, gate=(0.3, 1.0)),))
_TABLEWARE = Recipe(
    "tableware", "glass/ceramic handling + put-down",
    _events(impact=OneShotSpec("impact", "glass", level=0.8, size=0.8),
            put_down=OneShotSpec("impact", "glass", level=0.6, size=1.2),
            scrape=OneShotSpec("scrape", level=0.4)),
    (TextureSpec("scrape", gain=0.06, gate=(0.02, 0.05)),),
    implied="put-down")
_FURNITURE = Recipe(
    "furniture", "wood scrapes + knocks",
    _events(impact=OneShotSpec("impact", "wood", level=1.0, size=1.8),
            put_down=OneShotSpec("impact", "wood", level=0.8, size=1.8),
            scrape=OneShotSpec("scrape", level=0.7)),
    (TextureSpec("scrape", gain=0.3, gate=(0.01, 0.03)),),
    implied="put-down")
_BOX = Recipe(
    "box", "cardboard/paper handling + thud put-down",
    _events(impact=OneShotSpec("impact", "wood", "thud", level=0.7, size=1.6),
            put_down=OneShotSpec("impact", "wood", "thud", level=0.6, size=1.8),
            scrape=OneShotSpec("scrape", level=0.5)),
    (TextureSpec("scrape", gain=0.12, gate=(0.01, 0.03)),),
    implied="put-down")
_DOOR = Recipe(
    "door", "door open/close",
    _events(onset=OneShotSpec("door", "", "wooden door open"),
            put_down=OneShotSpec("door", "", "wooden door close"),
            impact=OneShotSpec("door", "", "wooden door close")),
    implied="put-down")
_AMBIENCE = Recipe(
    "ambience", "stereo bed",
    _events(),
    (TextureSpec("bed", DEFAULT_BED, BEDS[DEFAULT_BED], gain=1.0, bed=True),))

RECIPES: Mapping[str, Recipe] = MappingProxyType({r.name: r for r in (
    _PERSON, _CAR, _HEAVY, _MOTORCYCLE, _BICYCLE, _PAWS, _HOOVES, _BIRD, _BALL, _TABLEWARE,
    _FURNITURE, _BOX, _DOOR, _AMBIENCE)})

# visual class -> recipe name
CLASS_RECIPES: Mapping[str, str] = MappingProxyType({
    "person": "person",
    "car": "car", "bus": "heavy vehicle", "truck": "heavy vehicle", "train": "heavy vehicle",
    "motorcycle": "motorcycle", "bicycle": "bicycle",
    "dog": "paws", "cat": "paws", "sheep": "paws", "bear": "paws",
    "horse": "hooves", "cow": "hooves",
    "bird": "bird",
    "sports ball": "sports ball",
    "cup": "tableware", "bottle": "tableware", "bowl": "tableware", "wine glass": "tableware",
    "vase": "tableware",
    "chair": "furniture", "dining table": "furniture", "table": "furniture",
    "bench": "furniture", "couch": "furniture",
    "box": "box", "book": "box",
    "door": "door",
    "ambience": "ambience",
})
# the motion tracker's shape labels (and old synonyms) -> the class they stand for
LABEL_CLASSES: Mapping[str, str] = MappingProxyType({
    "walker": "person", "pedestrian": "person", "runner": "person",
    "vehicle": "car", "ball": "sports ball",
})


def visual_class(label: str) -> str:
    """The class a track label stands for (lower case, shape labels resolved)."""
    name = " ".join(label.strip().lower().split())
    return LABEL_CLASSES.get(name, name)


def recipe_for(label: str) -> Recipe | None:
    """The recipe for an object labelled `label`; None for `unknown`, `object` and classes
    with no recipe (they keep the motion-based choice)."""
    name = CLASS_RECIPES.get(visual_class(label))
    return RECIPES[name] if name is not None else None


def _word_match(prompt: str, table: Mapping[str, tuple[str, ...]]) -> str | None:
    for word in re.findall(r"[a-z]+", prompt.lower()):
        for key, stems in table.items():
            if any(word.startswith(stem) for stem in stems):
                return key
    return None


def prompt_surface(prompt: str) -> str | None:
    """The step surface a prompt names ("on gravel" -> gravel), None if it names none."""
    return _word_match(prompt, _SURFACE_WORDS)


def prompt_bed(prompt: str) -> str | None:
    """The ambience bed a prompt names ("rain" -> water), None if it names none."""
    return _word_match(prompt, _BED_WORDS)

