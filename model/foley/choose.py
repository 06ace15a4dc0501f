"""Which sounds an object gets: from its prompt (and the sound library), or from how it moves.

- `parse_prompt`: "footsteps on gravel" -> kind "step", surface "gravel"; "metal clang" ->
  kind "impact", material "metal"; "car engine" -> kind "engine".
- `motion_profile`: per-frame speed (box-centre motion normalized by the frame diagonal, per
  second, plus the rate of change of the box diagonal for motion in depth, smoothed) and
  apparent size; summary numbers (how steadily and how much it moves).
- `choose_sounds`: a `SoundPlan`: the source for each visual event kind and the continuous
  movement texture. Library entries where the prompt finds matching ones, procedural presets
  otherwise, so no object is ever silent for lack of a sample.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from model.foley.procedural import MATERIALS, SURFACES
from model.foley.recipes import (
    BEDS,
    DEFAULT_BED,
    DEFAULT_SURFACE,
    ONE_SHOT_EVENTS,
    STEP_SURFACES,
    OneShotSpec,
    Recipe,
    TextureSpec,
    prompt_bed,
    prompt_surface,
    recipe_for,
)
from video.base.tracks import Track, VideoInfo, contact_events

ONE_SHOT_KINDS = ("impact", "step")              # a prompt of these kinds sounds on events
TEXTURE_KINDS = ("whoosh", "scrape", "engine")   # ... of these kinds, while the object moves
SOUND_KINDS = ("impact", "step", "scrape", "whoosh", "engine")
# library kinds with no procedural preset: played from the library when it has them
LIBRARY_ONE_SHOT_KINDS = ("door", "splash", "animal", "explosion")
LIBRARY_TEXTURE_KINDS = ("ambience", "fire")
SURFACE_CLASSES = frozenset({"soft", "hard"})   # the library's step classes, not surfaces

# word stems -> meaning; matched against lower-cased prompt words by prefix
_KIND_WORDS: dict[str, tuple[str, ...]] = {
    "step": ("footstep", "step", "walk", "run", "jog", "feet", "foot", "boot", "heel", "shoe",
             "stomp", "march", "sneaker"),
    "impact": ("impact", "hit", "clang", "bang", "knock", "thud", "bounce", "clack", "crash",
               "slam", "tap", "strike", "clink", "bonk", "smash", "drop", "thump", "collision",
               "ball"),
    "scrape": ("scrap", "slid", "drag", "grind", "scratch", "skid", "friction"),
    "whoosh": ("whoosh", "swish", "swoosh", "wind", "swing", "swipe", "fly", "flying", "pass",
               "air", "woosh", "flutter", "wing"),
    "engine": ("engine", "car", "motor", "truck", "vehicle", "drone", "hum", "bus", "van",
               "tractor", "moped", "scooter", "idle", "machine"),
}
_MATERIAL_WORDS: dict[str, tuple[str, ...]] = {
    "metal": ("metal", "steel", "iron", "tin", "pot", "bell", "clang", "pipe",
              "chain", "brass", "alumin"),
    "wood": ("wood", "plank", "log", "stick", "door", "table", "crate", "timber"),
    "glass": ("glass", "bottle", "ceramic", "porcelain", "cup", "mug", "plate", "window"),
    "plastic": ("plastic", "toy", "box", "bucket"),
    "ball": ("ball", "rubber", "bounc"),
}
_SURFACE_WORDS: dict[str, tuple[str, ...]] = {
    "gravel": ("gravel", "pebble", "stone", "rock", "crunch", "dirt"),
    "soft": ("grass", "snow", "sand", "carpet", "mud", "soft", "leaves", "forest"),
    "metal": ("metal", "grate", "steel", "iron"),
    "hard": ("concrete", "floor", "wood", "tile", "asphalt", "pavement", "street", "hard",
             "marble", "heel"),
}
_PERSON_LABELS = ("person", "people", "man", "woman", "child", "pedestrian", "walker", "runner")
_VEHICLE_LABELS = ("car", "truck", "bus", "vehicle", "motorcycle", "motorbike", "van", "train")


class SoundEntryLike(Protocol):
    """What generation needs of a library entry (audio.library.SoundEntry has these)."""

    id: str
    category: str
    subcategory: str


class LibraryLike(Protocol):
    """The parts of audio.library.SoundLibrary that sound choice and generation use."""

    def search(self, query: str, *, limit: int = ...) -> Sequence[tuple[Any, float]]: ...
    def by_kind(self, kind: str) -> Sequence[Any]: ...
    def load(self, entry_id: str) -> np.ndarray: ...


@dataclass(frozen=True)
class PromptSpec:
    """What a prompt asks for: a sound kind and, for impacts/steps, a material/surface."""

    text: str
    kind: str | None = None
    material: str | None = None
    surface: str | None = None


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def _first_match(words: Sequence[str], table: Mapping[str, tuple[str, ...]]) -> str | None:
    for word in words:
        for key, stems in table.items():
            if any(word.startswith(stem) for stem in stems):
                return key
    return None


def parse_prompt(text: str) -> PromptSpec:
    """Read a free-text prompt into a kind + material/surface (None where it says nothing)."""
    words = _words(text)
    if not words:
        return PromptSpec(text=text)
    kind = _first_match(words, _KIND_WORDS)
    material = _first_match(words, _MATERIAL_WORDS)
    surface = _first_match(words, _SURFACE_WORDS)
    if kind is None and material is not None:
        kind = "impact"             # "glass", "a wooden crate": things hitting things
    return PromptSpec(text=text, kind=kind, material=material, surface=surface)


@dataclass(frozen=True)
class MotionConfig:
    """Speed units: frame diagonals per second. Below `still_speed` an object is still; at
    `moving_speed` it is fully moving; `ref_speed` gives full texture level."""

    smooth_s: float = 0.15
    still_speed: float = 0.015      # a person crossing a wide shot in 15 s moves ~0.07
    moving_speed: float = 0.04
    ref_speed: float = 0.6


@dataclass(frozen=True)
class MotionProfile:
    """Per-frame motion of one object over its tracked span (frames first..last, gaps filled)."""

    times: np.ndarray            # seconds, one per frame of the span
    speed: np.ndarray            # frame diagonals per second (screen + depth), smoothed
    size: np.ndarray             # box diagonal / frame diagonal
    moving_fraction: float       # share of the span spent moving
    mean_speed: float            # mean speed while moving
    steadiness: float            # 1 - coefficient of variation of speed while moving (<=1)
    vertical_ratio: float        # |vertical motion| / |total motion|
    travel: float = 0.0          # how far it gets / how far it moves (1: straight on; ~0: to and fro)


def _smooth(x: np.ndarray, k: int) -> np.ndarray:
    if k <= 1 or len(x) < 3:
        return x
    k = min(k, len(x) if len(x) % 2 else len(x) - 1)
    pad = k // 2
    padded = np.pad(x, pad, mode="edge")
    return np.convolve(padded, np.ones(k) / k, mode="valid")


def motion_profile(track: Track, info: VideoInfo, *, config: MotionConfig = MotionConfig()
                   ) -> MotionProfile:
    """Speed and size of `track` per frame, from box centres normalized by the frame diagonal."""
    diag = float(np.hypot(info.width, info.height))
    if len(track) == 0:
        empty = np.zeros(0)
        return MotionProfile(empty, empty, empty, 0.0, 0.0, 0.0, 0.0)
    frames = np.arange(int(track.frames[0]), int(track.frames[-1]) + 1)
    times = (np.array([info.time_of_frame(int(f)) for f in frames], dtype=np.float64)
             if info.frame_times is not None
             else frames * (info.fps.denominator / info.fps.numerator))
    centers = track.centers / diag
    cx = np.interp(frames, track.frames, centers[:, 0])
    cy = np.interp(frames, track.frames, centers[:, 1])
    boxes = track.boxes
    sizes = np.hypot(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) / diag
    size = np.interp(frames, track.frames, sizes)
    if len(frames) < 2:
        zero = np.zeros(len(frames))
        return MotionProfile(times, zero, size, 0.0, 0.0, 0.0, 0.0)
    k = max(1, int(round(config.smooth_s * float(info.fps)))) | 1
    sx, sy = _smooth(cx, k), _smooth(cy, k)
    dt = np.maximum(np.gradient(times), 1e-6)
    vx, vy = np.gradient(sx) / dt, np.gradient(sy) / dt
    vz = np.gradient(_smooth(size, k)) / dt         # growing/shrinking box: moving in depth
    speed = _smooth(np.sqrt(vx * vx + vy * vy + vz * vz), k)
    moving = speed > config.moving_speed
    frac = float(np.mean(moving))
    if np.any(moving):
        mv = speed[moving]
        mean = float(mv.mean())
        steady = float(1.0 - mv.std() / max(mean, 1e-9))
    else:
        mean, steady = 0.0, 0.0
    total = float(np.sum(np.abs(vx)) + np.sum(np.abs(vy)))
    vert = float(np.sum(np.abs(vy)) / total) if total > 0 else 0.0
    path = float(np.sum(np.hypot(np.diff(sx), np.diff(sy))))
    travel = float(np.hypot(sx[-1] - sx[0], sy[-1] - sy[0])) / path if path > 0 else 0.0
    return MotionProfile(times, speed, size, frac, mean, steady, vert, travel)


@dataclass(frozen=True)
class Source:
    """One sound source: kind, material/surface variant, library entry ids (empty: procedural);
    a recipe's one-shots also set a `level` (1 = full strength) and a modal `size` (None: from
    the box)."""

    kind: str
    variant: str = ""
    entries: tuple[str, ...] = ()
    level: float = 1.0
    size: float | None = None


@dataclass(frozen=True)
class TextureLayer:
    """A recipe's continuous layer: the source chosen for it (bank loop or procedural preset)
    and its recipe entry (gain, speed gate, idle level, pass-by, bed)."""

    source: Source
    spec: TextureSpec


@dataclass(frozen=True)
class SoundPlan:
    """An object's sounds: a source per visual event kind, and its movement texture.

    `implied_events` names a one-shot kind to place from motion (when the prompt asks for
    footsteps or hits but the analysis found no events on this object; "put-down": where it
    comes to rest). A class recipe (`model.foley.recipes`) names itself in `recipe`, adds its
    textures as `layers`, and may play no one-shots at all (`one_shots`: an ambience bed).
    """

    events: Mapping[str, Source]
    texture: Source | None
    texture_gain: float = 1.0
    implied_events: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    layers: tuple[TextureLayer, ...] = ()
    recipe: str = ""
    one_shots: bool = True

    def source_for(self, event_kind: str) -> Source:
        return self.events.get(event_kind) or self.events["impact"]


def _label_has(label: str, names: Sequence[str]) -> bool:
    return any(w in names for w in _words(label))


# something driven gets somewhere: its path's end is at least this share of the path's length from
# its start. Tape flapping on a pole, a hand waving, a lit speck on a bouncing ball move as
# steadily and as level, to and fro (balle-jbart's speck on its ball: 0.58; the demo's cars and
# the tracks that cross play101 and play113: 0.92 to 1.0)
MIN_DRIVEN_TRAVEL = 0.7


def motion_texture_kind(profile: MotionProfile, label: str = "") -> str | None:
    """The movement texture that suits how an object moves (None if it never moves)."""
    if profile.moving_fraction <= 0.0:
        return None
    if _label_has(label, _VEHICLE_LABELS):
        return "engine"
    if profile.moving_fraction > 0.7 and profile.steadiness > 0.65 and \
            profile.vertical_ratio < 0.35 and profile.travel >= MIN_DRIVEN_TRAVEL:
        return "engine"     # long, steady, level travel: something driven
    if profile.vertical_ratio < 0.2 and profile.mean_speed < 0.25:
        return "scrape"     # slow level motion: sliding along a surface
    return "whoosh"


def prompt_kinds(prompt: str) -> tuple[str, ...]:
    """Library kinds ("step", "step/gravel", ...) a prompt asks for, in the library's vocabulary."""
    from audio.synonyms import kinds_for, tokenize

    return kinds_for(tokenize(prompt))


def _entry_kinds(entry: Any) -> tuple[str, ...]:
    kinds = tuple(getattr(entry, "kinds", ()))
    category = str(getattr(entry, "category", "")).lower()
    return kinds or (category,)


def _serves(entry: Any, kind: str, qualifiers: set[str]) -> bool:
    """Whether a library entry can play `kind`, with one of the prompt's qualifiers if any."""
    kinds = _entry_kinds(entry)
    if not any(k == kind or k.startswith(kind + "/") for k in kinds):
        return False
    return not qualifiers or any(f"{kind}/{q}" in kinds for q in qualifiers)


def _library_pick(library: LibraryLike | None, query: str, kind: str, *,
                  fallbacks: Sequence[str] = (), limit: int = 4) -> tuple[str, ...]:
    """Entry ids for `kind` that match the prompt: its best search hits that serve the kind and
    the surface/material/source the prompt names (if it names one), else the library's
    `fallbacks` kinds. A named qualifier is never ignored: for "car engine" a steam engine is
    worse than the procedural engine, for "glass" a metal hit worse than procedural glass."""
    if library is None or not query.strip():
        return ()
    qualifiers = {k.split("/", 1)[1] for k in prompt_kinds(query) if "/" in k} - SURFACE_CLASSES
    hits = [(e, s) for e, s in library.search(query, limit=32)
            if s > 0 and _serves(e, kind, qualifiers)]
    chosen: list[Any] = []
    if hits:
        chosen = [e for e, s in hits if s >= 0.5 * hits[0][1]]
    for extra in [f"{kind}/{q}" for q in sorted(qualifiers)] + list(fallbacks):
        chosen = chosen or list(library.by_kind(extra))
    return tuple(dict.fromkeys(e.id for e in chosen))[:limit]


# a splash plays the library's closest matches to a thing plunging into water: those scoring at
# least this share of the best (a splat of wet cement scores half a plunge's)
SPLASH_MATCH = 0.75


def _splash_source(track: Track, library: LibraryLike | None) -> dict[str, Source]:
    """The source of the track's "splash" events (video.splashes: a thing falling into water)
    when it has some and the library has splashes; without one a splash sounds as the object's
    impact. A wade step is a foot's slosh, long and loudest well after its start: it is used only
    where the library has no splash proper."""
    if library is None or not any(e.kind == "splash" for e in track.events):
        return {}
    hits = [(e, s) for e, s in library.search("plunge splash", limit=32)
            if s > 0 and _serves(e, "splash", set())]
    proper = [(e, s) for e, s in hits if "step" not in _entry_kinds(e)]
    hits = proper or hits
    entries = tuple(dict.fromkeys(e.id for e, s in hits if s >= SPLASH_MATCH * hits[0][1])) \
        if hits else ()
    return {"splash": Source("splash", "", entries[:4])} if entries else {}


def _default_events(material: str, surface: str) -> dict[str, Source]:
    return {"impact": Source("impact", material), "onset": Source("impact", material),
            "step": Source("step", surface), "scrape": Source("scrape")}


# box-shape labels that no longer stand for their class once the recognizer has looked at the
# object and not named it. It knows people well (video.recognize: 40 of vtest's 42 stems are
# `person`, far ones included, and the cartoon characters of Planet Blupi): an upright box it did
# not call one was, on every real clip of docs/EVALUATION.md, something else (a pen tapping a
# coin, a finger at the picture's edge, a window's reflection, a feature of a cartoon shed), and
# a person's recipe gave it cloth rustle and footsteps made up from its motion. A ball keeps its
# shape (the detector has no ball class), and a wide box stays a vehicle (video.tracker keeps
# that label for boxes the size and shape of one).
OVERRULED_SHAPES = frozenset({"walker"})


def sound_label(track: Track) -> str:
    """The label the sound is chosen from: the recognized class, or for an object the detector
    did not recognize ("unknown"), its box-shape label (extra "label_shape": ball, vehicle ...),
    so unrecognized objects keep the motion- and shape-based choice; "object" (the motion-based
    choice alone) for a shape the recognizer overrules (OVERRULED_SHAPES)."""
    if track.label == "unknown":
        shape = str(track.extra.get("label_shape", ""))
        return "object" if shape in OVERRULED_SHAPES else shape
    return track.label


def _motion_texture(track: Track, profile: MotionProfile) -> tuple[str | None, float]:
    """Texture kind and gain from motion alone: quiet air for walkers and bouncing things."""
    label = sound_label(track)
    kind = motion_texture_kind(profile, label)
    if sum(e.kind == "step" for e in track.events) >= 2 or _label_has(label, _PERSON_LABELS):
        return ("whoosh", 0.35) if kind else (None, 1.0)
    if kind == "whoosh" and sum(e.kind == "impact" for e in track.events) >= 2:
        return kind, 0.4        # a bouncing thing is heard by its hits; its flight is quiet
    return kind, 1.0


def _prompt_kind(spec: PromptSpec, prompt: str) -> str | None:
    """The library's reading of the prompt's kind ("door slam" is a door, not an impact),
    else ours."""
    known = [k for k in prompt_kinds(prompt) if "/" not in k] if prompt.strip() else []
    return known[0] if known else spec.kind


def choose_sounds(track: Track, profile: MotionProfile, *, prompt: str = "",
                  pinned: Sequence[str] = (), pinned_kind: str | None = None,
                  library: LibraryLike | None = None, rng: np.random.Generator,
                  recipes: bool = True) -> SoundPlan:
    """Decide an object's sounds: from its class recipe (`model.foley.recipes`) when its label
    has one and no prompt overrides it (`applicable_recipe`); else from its prompt (library
    first, procedural presets otherwise) or, with no prompt, from its motion and events.
    `pinned` entry ids override the choice; `recipes` False ignores class recipes.

    Kinds the procedural presets cannot make (door, splash, animal, explosion as one-shots;
    ambience, fire as textures) are played from the library when it has them and otherwise
    fall back to the motion-based choice."""
    spec = parse_prompt(prompt)
    recipe = applicable_recipe(sound_label(track), prompt, pinned=pinned,
                               pinned_kind=pinned_kind) if recipes else None
    if recipe is not None:
        return recipe_plan(recipe, track, prompt=prompt, library=library)
    material = spec.material if spec.material in MATERIALS else None
    label = sound_label(track)
    material = material or parse_prompt(label).material   # "ball" -> ball
    if material is None:
        material = ("metal" if _label_has(label, _VEHICLE_LABELS)
                    else str(rng.choice(["wood", "plastic", "wood", "metal"])))
    surface = spec.surface if spec.surface in SURFACES else "hard"
    events = _default_events(material, surface)
    if not _label_has(label, _PERSON_LABELS):
        # only people step: a "step" the event network put on a thing (a drawn cup, a car) is
        # one of its contacts, and sounds as its hit, not as a footstep
        events["step"] = events["impact"]
    events.update(_splash_source(track, library))
    texture_kind, texture_gain = _motion_texture(track, profile)
    texture = Source(texture_kind) if texture_kind else None
    kind = pinned_kind or _prompt_kind(spec, prompt)
    implied = None
    if kind in ONE_SHOT_KINDS + LIBRARY_ONE_SHOT_KINDS:
        # a surface class (soft/hard) stands in for an unmatched surface the presets lack
        fallbacks = (f"step/{spec.surface}",) if kind == "step" and spec.surface in \
            SURFACE_CLASSES else ()
        entries = tuple(pinned) or _library_pick(library, prompt, kind, fallbacks=fallbacks)
        if entries or kind in ONE_SHOT_KINDS:
            source = Source(kind, {"impact": material, "step": surface}.get(kind, ""), entries)
            events = {k: source for k in ("impact", "onset", "step", "scrape")}
            texture_gain = min(texture_gain, 0.35) if kind == "step" else texture_gain
            implied = None if contact_events(track) else kind
    if kind is None and not contact_events(track) and _label_has(label, _PERSON_LABELS):
        implied = "step"                  # a walking person with no detected steps still walks
    elif kind in TEXTURE_KINDS + LIBRARY_TEXTURE_KINDS:
        entries = tuple(pinned) or _library_pick(library, prompt, kind)
        if entries or kind in TEXTURE_KINDS:
            texture, texture_gain = Source(kind, "", entries), 1.0
            if kind == "scrape":              # a scraping thing also rubs on its scrape events
                events = {**events, "scrape": Source("scrape", "", entries)}
    return SoundPlan(events=events, texture=texture, texture_gain=texture_gain,
                     implied_events=implied)


def implied_event_times(profile: MotionProfile, kind: str, *,
                        config: MotionConfig = MotionConfig()) -> list[tuple[float, float]]:
    """(time, strength) one-shots implied by motion: a walking cadence for steps, motion starts
    for hits; at least one at the start of the track so the object is never silent."""
    if len(profile.times) == 0:
        return []
    moving = profile.speed > config.moving_speed
    out: list[tuple[float, float]] = []
    if kind == "step":
        next_t = -1.0
        for t, v, m in zip(profile.times, profile.speed, moving, strict=True):
            if m and t >= next_t:
                strength = float(np.clip(0.4 + v / config.ref_speed, 0.3, 1.0))
                out.append((float(t), strength))
                next_t = t + float(np.clip(0.55 - 0.3 * v / config.ref_speed, 0.3, 0.55))
    elif kind == "put-down":      # where a moving object comes to rest
        stops = np.flatnonzero(moving[:-1] & ~moving[1:]) + 1
        out = [(float(profile.times[i]), 0.7) for i in stops]
    else:
        starts = np.flatnonzero(moving[1:] & ~moving[:-1]) + 1
        out = [(float(profile.times[i]), 0.8) for i in starts]
    if not out:
        out = [(float(profile.times[0]), 0.6)]
    return out


# ---------------------------------------------------------------- class recipes
def applicable_recipe(label: str, prompt: str = "", *, pinned: Sequence[str] = (),
                      pinned_kind: str | None = None) -> Recipe | None:
    """The class recipe that decides an object's sounds, or None when the prompt or pinned
    sounds do (or the class has none). A prompt overrides the recipe, except one that only
    picks the recipe's variant: a step surface or footsteps for a recipe with surfaces
    ("gravel", "footsteps on grass"), or an ambience kind for a bed ("rain", "crowd")."""
    recipe = recipe_for(label)
    if recipe is None or pinned:
        return None
    if not prompt.strip():
        return recipe
    if any(t.bed for t in recipe.textures):
        return recipe if prompt_bed(prompt) is not None else None
    if recipe.surfaces:
        # the kind the prompt names in words ("wooden floor" names none: a surface)
        kind = pinned_kind or _first_match(_words(prompt), _KIND_WORDS)
        if kind in (None, "step") and (kind == "step" or prompt_surface(prompt) is not None):
            return recipe
    return None


def _recipe_one_shot(spec: OneShotSpec, library: LibraryLike | None, *,
                     surface: str | None) -> Source:
    """A recipe one-shot as a Source: bank recordings where its query finds some (the step
    sound on `surface` for footsteps), else its procedural preset (bank-only kinds such as a
    door fall back to a wooden knock)."""
    query, variant = spec.query, spec.variant
    if spec.kind == "step" and surface is not None and query:
        query, variant = STEP_SURFACES[surface]
    entries = _library_pick(library, query, spec.kind) if query else ()
    if not entries and spec.kind not in (*ONE_SHOT_KINDS, "scrape"):
        return Source("impact", "wood", (), spec.level, spec.size)
    return Source(spec.kind, variant, entries, spec.level, spec.size)


def _recipe_layer(spec: TextureSpec, library: LibraryLike | None, *, prompt: str
                  ) -> TextureLayer:
    """A recipe texture as a layer: a bank loop where its query finds one, else procedural."""
    query, variant = spec.query, spec.variant
    if spec.bed:
        variant = prompt_bed(prompt) or spec.variant or DEFAULT_BED
        query = BEDS[variant]
    kind = "ambience" if spec.bed else spec.kind
    entries = _library_pick(library, query, kind) if query else ()
    return TextureLayer(Source(spec.kind, variant, entries), spec)


def recipe_plan(recipe: Recipe, track: Track, *, prompt: str = "",
                library: LibraryLike | None = None) -> SoundPlan:
    """The SoundPlan of a class recipe: its one-shot per event kind, its layers, and one-shots
    implied from motion when the analysis found no events (steps for a walker, a put-down where
    a cup comes to rest); no steps are implied for a person the analysis's footsteps pass has
    already looked at (it found no walk). Deterministic: no random choice is involved."""
    surface = (prompt_surface(prompt) or DEFAULT_SURFACE) if recipe.surfaces else None
    events: dict[str, Source] = {}
    for kind in ONE_SHOT_EVENTS:
        spec = recipe.one_shot(kind)
        if spec is not None:
            events[kind] = _recipe_one_shot(spec, library, surface=surface)
    if events:
        events.update(_splash_source(track, library))
    layers = tuple(_recipe_layer(t, library, prompt=prompt) for t in recipe.textures)
    bed = any(layer.spec.bed for layer in layers)
    # a person's steps were decided by the analysis's footsteps pass (pose, bob and the walking
    # cadence; extra "steps_from"): none found there means no walk, not steps to make up
    decided = recipe.implied == "step" and "steps_from" in track.extra
    implied = None if contact_events(track) or bed or decided else recipe.implied
    notes = (f"surface {surface}",) if surface is not None else ()
    return SoundPlan(events=events or {"impact": Source("impact", "wood")}, texture=None,
                     implied_events=implied, notes=notes, layers=layers, recipe=recipe.name,
                     one_shots=not bed)


def describe_plan(plan: SoundPlan, *, prompted: bool = False) -> dict[str, Any]:
    """What was chosen for an object, as saved in a render's project.json: the recipe (or
    "prompt" / "motion" when those decided; `prompted`: the object has a prompt or pinned
    sounds), each event kind's source (kind, variant, bank files) and each continuous layer."""

    def source(s: Source) -> dict[str, Any]:
        return {"kind": s.kind, "variant": s.variant, "bank": list(s.entries)}

    layers = [{**source(layer.source), "gain": layer.spec.gain, "bed": layer.spec.bed}
              for layer in plan.layers]
    if plan.texture is not None:
        layers.insert(0, {**source(plan.texture), "gain": plan.texture_gain, "bed": False})
    return {"recipe": plan.recipe or ("prompt" if prompted else "motion"),
            "events": {k: source(v) for k, v in plan.events.items()} if plan.one_shots else {},
            "implied": plan.implied_events, "layers": layers}


def sound_summary(label: str, prompt: str = "") -> str:
    """What the studio shows for an object's sound: "<recipe>: <what it plays>", "prompt" when
    the prompt decides, "motion" when the class has no recipe and there is no prompt."""
    recipe = applicable_recipe(label, prompt)
    if recipe is not None:
        return f"{recipe.name}: {recipe.summary}"
    return "prompt" if prompt.strip() else "motion"
