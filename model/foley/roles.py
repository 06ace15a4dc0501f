"""Which mix-stage role an object's foley belongs to: footsteps, vehicles, animals, handling,
impacts, movement or ambience (the group stems of `--stems groups|both`, app.stem_groups).

A mix stage wants a few stems by role, not one per object. The role follows what the object's
stem actually plays, in this order:

1. its class recipe (`model.foley.recipes`; the render's `chosen["recipe"]`): person ->
   footsteps, car/heavy vehicle/motorcycle/bicycle -> vehicles, paws/hooves/bird -> animals,
   tableware/furniture/box/door -> handling, sports ball -> impacts, ambience -> ambience;
2. a prompt that decides the sound (recipe "prompt"): the kind it names ("footsteps" ->
   footsteps, "engine" -> vehicles, "door creak" -> handling, "glass smash" -> impacts,
   "whoosh" -> movement, "rain" -> ambience, "dog bark" -> animals);
3. the recognized class (COCO-style, `video.recognize.CLASS_NAMES`) for classes with no recipe
   (an airplane is a vehicle, an elephant an animal, a cell phone is handled);
4. for the rest (`unknown`, no recipe, no prompt kind) how it was made: an engine texture ->
   vehicles, steps (detected or implied) -> footsteps, impact events -> impacts, otherwise
   movement (a whoosh or scrape following its motion).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from model.foley.recipes import RECIPES, prompt_bed, visual_class


@dataclass(frozen=True)
class Role:
    """A group stem's role: a short upper-case code that starts its file name (UCS-style
    category prefix, `FEET`), a lower-case name (`footsteps`) and what it holds."""

    code: str
    name: str
    summary: str


ROLES: tuple[Role, ...] = (
    Role("FEET", "footsteps", "people: footsteps and cloth"),
    Role("VEHI", "vehicles", "engines, tyres, chains, pass-bys"),
    Role("ANML", "animals", "paws, hooves, wings, animal calls"),
    Role("HNDL", "handling", "props and furniture handled: put-downs, scrapes, doors"),
    Role("IMPT", "impacts", "hits and bounces"),
    Role("MOVE", "movement", "whooshes and scrapes that follow motion"),
    Role("AMBI", "ambience", "beds: wind, crowd, water, fire"),
)
ROLE_CODES = tuple(r.code for r in ROLES)
_BY_CODE: Mapping[str, Role] = MappingProxyType({r.code: r for r in ROLES})

RECIPE_ROLES: Mapping[str, str] = MappingProxyType({
    "person": "FEET",
    "car": "VEHI", "heavy vehicle": "VEHI", "motorcycle": "VEHI", "bicycle": "VEHI",
    "paws": "ANML", "hooves": "ANML", "bird": "ANML",
    "tableware": "HNDL", "furniture": "HNDL", "box": "HNDL", "door": "HNDL",
    "sports ball": "IMPT",
    "ambience": "AMBI",
})

# sound kinds a prompt names (model.foley.choose / audio.synonyms vocabulary) -> role
PROMPT_KIND_ROLES: Mapping[str, str] = MappingProxyType({
    "step": "FEET", "engine": "VEHI", "animal": "ANML", "door": "HNDL",
    "impact": "IMPT", "explosion": "IMPT", "splash": "IMPT",
    "whoosh": "MOVE", "scrape": "MOVE", "ambience": "AMBI", "fire": "AMBI",
})


def _classes(role: str, names: str) -> dict[str, str]:
    return {name.strip(): role for name in names.split(",")}


# recognized classes with no recipe of their own (and those with one, for a prompt that names
# no kind) -> role
CLASS_ROLES: Mapping[str, str] = MappingProxyType({
    **_classes("FEET", "person"),
    **_classes("VEHI", "bicycle, car, motorcycle, airplane, bus, train, truck, boat, skateboard"),
    **_classes("ANML", "bird, cat, dog, horse, sheep, cow, elephant, bear, zebra, giraffe"),
    **_classes("HNDL", "backpack, umbrella, handbag, tie, suitcase, bottle, wine glass, cup, "
                       "fork, knife, spoon, bowl, banana, apple, sandwich, orange, broccoli, "
                       "carrot, hot dog, pizza, donut, cake, chair, couch, potted plant, bed, "
                       "dining table, table, toilet, tv, laptop, mouse, remote, keyboard, "
                       "cell phone, microwave, oven, toaster, sink, refrigerator, book, clock, "
                       "vase, scissors, teddy bear, hair drier, toothbrush, box, shoe, camera, "
                       "bench, door"),
    **_classes("IMPT", "sports ball, frisbee, skis, snowboard, kite, baseball bat, "
                       "baseball glove, surfboard, tennis racket, traffic light, fire hydrant, "
                       "stop sign, parking meter"),
    **_classes("AMBI", "ambience"),
})


def role(code: str) -> Role:
    """The Role of a code (KeyError names the codes for an unknown one)."""
    try:
        return _BY_CODE[code]
    except KeyError:
        raise KeyError(f"unknown role {code!r} (roles: {', '.join(ROLE_CODES)})") from None


def prompt_role(prompt: str) -> str | None:
    """The role of the sound kind a prompt names (the library's reading first, as the choice
    makes it; an ambience word such as "rain" -> ambience), None when it names none."""
    from audio.synonyms import kinds_for, tokenize
    from model.foley.choose import parse_prompt

    if not prompt.strip():
        return None
    kinds = [k for k in kinds_for(tokenize(prompt)) if "/" not in k]
    for kind in (*kinds, parse_prompt(prompt).kind):
        if kind is not None and kind in PROMPT_KIND_ROLES:
            return PROMPT_KIND_ROLES[kind]
    return "AMBI" if prompt_bed(prompt) is not None else None


def _motion_role(chosen: Mapping[str, Any], event_kinds: Sequence[str]) -> str:
    layers = chosen.get("layers") or []
    if any(isinstance(layer, Mapping) and layer.get("bed") for layer in layers):
        return "AMBI"
    if any(isinstance(layer, Mapping) and layer.get("kind") == "engine" for layer in layers):
        return "VEHI"
    if chosen.get("implied") == "step" or sum(k == "step" for k in event_kinds) >= 2:
        return "FEET"
    if any(k in ("impact", "onset", "splash") for k in event_kinds) or chosen.get("implied") == "impact":
        return "IMPT"
    return "MOVE"


def object_role(label: str, *, chosen: Mapping[str, Any] | None = None, prompt: str = "",
                event_kinds: Sequence[str] = ()) -> str:
    """The role code of one object (see the module doc).

    label: its sound label (`model.foley.choose.sound_label`: the recognized class, or the
    box-shape label of an unrecognized one); chosen: what the render made its foley of
    (`RenderResult.chosen[id]`, `describe_plan`), None when unknown (then the class recipe is
    assumed, as the render would choose it without a prompt); prompt: its prompt;
    event_kinds: the kinds of its visual events."""
    chosen = chosen or {}
    recipe = str(chosen.get("recipe", ""))
    if not chosen:
        from model.foley.choose import applicable_recipe

        found = applicable_recipe(label, prompt)
        recipe = found.name if found is not None else ("prompt" if prompt.strip() else "motion")
    if recipe in RECIPE_ROLES:
        return RECIPE_ROLES[recipe]
    if recipe == "prompt" or (recipe not in RECIPES and prompt.strip()):
        by_prompt = prompt_role(prompt)
        if by_prompt is not None:
            return by_prompt
    by_class = CLASS_ROLES.get(visual_class(label))
    if by_class is not None:
        return by_class
    return _motion_role(chosen, event_kinds)
