"""model.foley.roles: the mix-stage role of an object, from its recipe, prompt, class and
motion (the group stem it goes in)."""

from __future__ import annotations

from typing import Any

import pytest

from model.foley.recipes import CLASS_RECIPES, RECIPES
from model.foley.roles import (
    CLASS_ROLES,
    RECIPE_ROLES,
    ROLE_CODES,
    ROLES,
    object_role,
    prompt_role,
    role,
)
from video.recognize import CLASS_NAMES


@pytest.mark.parametrize(("label", "code"), [
    ("person", "FEET"), ("walker", "FEET"), ("pedestrian", "FEET"),
    ("car", "VEHI"), ("vehicle", "VEHI"), ("truck", "VEHI"), ("bus", "VEHI"),
    ("motorcycle", "VEHI"), ("bicycle", "VEHI"), ("airplane", "VEHI"), ("boat", "VEHI"),
    ("dog", "ANML"), ("horse", "ANML"), ("bird", "ANML"), ("elephant", "ANML"),
    ("cup", "HNDL"), ("bottle", "HNDL"), ("chair", "HNDL"), ("door", "HNDL"),
    ("cell phone", "HNDL"), ("box", "HNDL"), ("shoe", "HNDL"),
    ("sports ball", "IMPT"), ("ball", "IMPT"), ("tennis racket", "IMPT"),
    ("ambience", "AMBI"), ("  Ambience ", "AMBI"),
    ("unknown", "MOVE"), ("object", "MOVE"), ("", "MOVE"), ("spaceship", "MOVE"),
])
def test_role_of_a_class_with_no_prompt(label: str, code: str) -> None:
    assert object_role(label) == code


def test_every_recipe_and_every_recognizable_class_has_a_role() -> None:
    assert set(RECIPE_ROLES) == set(RECIPES)
    assert set(RECIPE_ROLES.values()) | set(CLASS_ROLES.values()) <= set(ROLE_CODES)
    missing = [c for c in CLASS_NAMES if c != "unknown" and c not in CLASS_ROLES]
    assert missing == []
    for name, recipe in CLASS_RECIPES.items():       # class and recipe agree
        assert CLASS_ROLES[name] == RECIPE_ROLES[recipe], name


@pytest.mark.parametrize(("label", "prompt", "code"), [
    ("person", "footsteps on gravel", "FEET"),     # the recipe's surface variant: still FEET
    ("person", "metal clang", "IMPT"),             # the prompt decides what it plays
    ("unknown", "car engine", "VEHI"),
    ("unknown", "door creak", "HNDL"),
    ("unknown", "dog bark", "ANML"),
    ("unknown", "whoosh", "MOVE"),
    ("unknown", "rain", "AMBI"),
    ("ambience", "crowd walla", "AMBI"),
    ("cup", "hello there", "HNDL"),                # a prompt with no kind: the class
])
def test_a_prompt_that_decides_the_sound_decides_the_role(label: str, prompt: str,
                                                          code: str) -> None:
    assert object_role(label, prompt=prompt) == code


@pytest.mark.parametrize(("chosen", "events", "code"), [
    ({"recipe": "motion", "layers": [{"kind": "engine", "bed": False}]}, [], "VEHI"),
    ({"recipe": "motion", "layers": [{"kind": "whoosh", "bed": False}],
      "implied": "step"}, [], "FEET"),
    ({"recipe": "motion", "layers": []}, ["step", "step", "impact"], "FEET"),
    ({"recipe": "motion", "layers": [{"kind": "whoosh", "bed": False}]},
     ["impact"], "IMPT"),
    ({"recipe": "motion", "layers": [{"kind": "scrape", "bed": False}]}, [], "MOVE"),
    ({"recipe": "motion", "layers": [{"kind": "bed", "bed": True}]}, [], "AMBI"),
    ({"recipe": "car"}, [], "VEHI"),               # what the render chose wins over the label
])
def test_an_unrecognized_object_by_what_its_stem_plays(chosen: dict[str, Any],
                                                       events: list[str], code: str) -> None:
    assert object_role("unknown", chosen=chosen, event_kinds=events) == code


def test_role_table_and_unknown_codes() -> None:
    assert [r.code for r in ROLES] == list(ROLE_CODES) and len(set(ROLE_CODES)) == 7
    assert role("FEET").name == "footsteps"
    assert all(r.code.isupper() and r.name.islower() for r in ROLES)
    with pytest.raises(KeyError, match="FEET"):
        role("XXXX")
    assert prompt_role("") is None and prompt_role("hello") is None
