"""Typed field readers for the JSON documents the program reads (TRACKS.json, project files).

Every `from_dict` parser reads its fields through these functions, so a document with the wrong
*type* somewhere (`null` where an object belongs, `"false"` where a bool belongs, `1e999`, NaN, a
number as a string, a box of three numbers) fails in one place with one message that names the
field by its path, e.g. `project objects[2].nudges.mute must be true or false, got "false"`.
Value rules (ranges, ordering) stay in the types' `__post_init__`; `construct` turns their
ValueError into the same kind of message, prefixed with the path of the value being built.

A path starts with the document's name ("project", "tracks"); `key_path` and `index_path`
extend it: "project" -> "project objects" -> "project objects[2]" -> "project objects[2].nudges".
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from itertools import chain
from typing import Any, TypeVar

import numpy as np

from video.base.errors import InputError

T = TypeVar("T")


class FieldError(InputError):
    """A document field of the wrong type or value; the message names the field's path."""


class _Missing:
    """Marker for "no default: the field is required"."""


MISSING: Any = _Missing()


def key_path(where: str, key: str) -> str:
    """The path of `key` inside the value at `where` (a bare document name is followed by a
    space, a deeper path by a dot)."""
    if not where:
        return key
    is_root = not any(c in where for c in " .[")
    return f"{where} {key}" if is_root else f"{where}.{key}"


def index_path(where: str, index: int) -> str:
    """The path of item `index` of the list at `where`."""
    return f"{where}[{index}]"


def shown(value: Any) -> str:
    """A short JSON-like spelling of a bad value for a message (`null`, `"false"`, `Infinity`)."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _get(data: Mapping[str, Any], key: str, where: str, default: Any) -> Any:
    if key in data:
        return data[key]
    if default is MISSING:
        raise FieldError(f"{key_path(where, key)} is missing")
    return default


def as_obj(value: Any, *, where: str) -> Mapping[str, Any]:
    """`value` itself, which must be a JSON object."""
    if not isinstance(value, Mapping):
        raise FieldError(f"{where} must be an object, got {shown(value)}")
    return value


def as_int(value: Any, *, where: str, lo: int | None = None) -> int:
    """`value` as an int: a JSON integer (or a float with no fraction), not a bool or string."""
    if isinstance(value, bool) or not isinstance(value, int | float) or \
            (isinstance(value, float) and not (math.isfinite(value) and value.is_integer())):
        raise FieldError(f"{where} must be an integer, got {shown(value)}")
    number = int(value)
    if lo is not None and number < lo:
        raise FieldError(f"{where} must be >= {lo}, got {shown(value)}")
    return number


def as_finite(value: Any, *, where: str) -> float:
    """`value` as a float: a finite JSON number (not NaN, not 1e999, not a bool or string)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldError(f"{where} must be a number, got {shown(value)}")
    number = float(value)
    if not math.isfinite(number):
        raise FieldError(f"{where} must be a finite number, got {shown(value)}")
    return number


def as_str(value: Any, *, where: str) -> str:
    """`value` itself, which must be a JSON string."""
    if not isinstance(value, str):
        raise FieldError(f"{where} must be a string, got {shown(value)}")
    return value


def as_list(value: Any, *, where: str, length: int | None = None) -> list[Any]:
    """`value` itself, which must be a JSON array (of exactly `length` items when given)."""
    if not isinstance(value, list | tuple):
        raise FieldError(f"{where} must be a list, got {shown(value)}")
    if length is not None and len(value) != length:
        raise FieldError(f"{where} must have {length} items, got {len(value)}")
    return list(value)


def req_obj(data: Mapping[str, Any], key: str, *, where: str,
            default: Any = MISSING) -> Mapping[str, Any]:
    """Field `key` of `data`: a JSON object (`default` when absent; required without one)."""
    return as_obj(_get(data, key, where, default), where=key_path(where, key))


def req_int(data: Mapping[str, Any], key: str, *, where: str, default: Any = MISSING,
            lo: int | None = None) -> int:
    """Field `key` of `data`: an integer (>= `lo` when given)."""
    return as_int(_get(data, key, where, default), where=key_path(where, key), lo=lo)


def req_finite(data: Mapping[str, Any], key: str, *, where: str, default: Any = MISSING) -> float:
    """Field `key` of `data`: a finite number."""
    return as_finite(_get(data, key, where, default), where=key_path(where, key))


def req_bool(data: Mapping[str, Any], key: str, *, where: str, default: Any = MISSING) -> bool:
    """Field `key` of `data`: true or false (never a string such as "false", which is truthy)."""
    value = _get(data, key, where, default)
    if not isinstance(value, bool):
        raise FieldError(f"{key_path(where, key)} must be true or false, got {shown(value)}")
    return value


def req_str(data: Mapping[str, Any], key: str, *, where: str, default: Any = MISSING) -> str:
    """Field `key` of `data`: a string."""
    return as_str(_get(data, key, where, default), where=key_path(where, key))


def req_list(data: Mapping[str, Any], key: str, *, where: str, default: Any = MISSING,
             length: int | None = None) -> list[Any]:
    """Field `key` of `data`: a list (of exactly `length` items when given)."""
    return as_list(_get(data, key, where, default), where=key_path(where, key), length=length)


def req_items(data: Mapping[str, Any], key: str, read: Callable[..., T], *, where: str,
              default: Any = MISSING) -> list[T]:
    """Field `key` of `data`: a list whose every item is read with `read(item, where=...)`
    (e.g. `as_str`, `as_finite`, or a type's own from_dict), each with its own path."""
    here = key_path(where, key)
    items = as_list(_get(data, key, where, default), where=here)
    return [read(item, where=index_path(here, i)) for i, item in enumerate(items)]


_NUMBER_TYPES = frozenset({int, float})  # exact types: a bool is not a number here


def req_numbers(data: Mapping[str, Any], key: str, *, where: str, default: Any = MISSING,
                width: int | None = None) -> np.ndarray:
    """Field `key` of `data`: a list of finite numbers (float64 array (n,)), or with `width` a
    list of lists of `width` finite numbers ((n, width)), e.g. boxes. The common valid case is
    checked in bulk (a long track loads as fast as before); a bad item is then found one by one
    so the message names it (`...boxes[3] must have 4 items, got 3`)."""
    here = key_path(where, key)
    items = as_list(_get(data, key, where, default), where=here)
    if width is None:
        ok = set(map(type, items)) <= _NUMBER_TYPES
    else:
        ok = set(map(type, items)) <= {list} and set(map(len, items)) <= {width} and \
            set(map(type, chain.from_iterable(items))) <= _NUMBER_TYPES
    if ok:
        array = np.asarray(items, dtype=np.float64).reshape((-1,) if width is None else (-1, width))
        if np.all(np.isfinite(array)):
            return array
    for i, item in enumerate(items):  # find the first bad one, for the message
        at = index_path(here, i)
        if width is None:
            as_finite(item, where=at)
        else:
            for j, v in enumerate(as_list(item, where=at, length=width)):
                as_finite(v, where=index_path(at, j))
    raise FieldError(f"{here} must hold finite numbers")  # not reached: an item failed above


def req_indices(data: Mapping[str, Any], key: str, *, where: str, default: Any = MISSING,
                lo: int = 0) -> np.ndarray:
    """Field `key` of `data`: a list of integers >= `lo` (int64 array), checked in bulk first."""
    here = key_path(where, key)
    items = as_list(_get(data, key, where, default), where=here)
    if set(map(type, items)) <= {int} and (not items or min(items) >= lo):
        return np.asarray(items, dtype=np.int64).reshape(-1)
    return np.asarray([as_int(v, where=index_path(here, i), lo=lo) for i, v in enumerate(items)],
                      dtype=np.int64).reshape(-1)


def construct(factory: Callable[..., T], *, where: str, **fields: Any) -> T:
    """`factory(**fields)`, its ValueError (a value rule of the type) raised as a FieldError
    that names `where`."""
    try:
        return factory(**fields)
    except FieldError:
        raise
    except (ValueError, TypeError, OverflowError) as exc:
        raise FieldError(f"{where}: {exc}") from None
