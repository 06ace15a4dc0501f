"""Every studio edit as a plain function on a `Project`, callable without a window.

Each edit validates its input (bad values raise `InputError` with a one-line message and leave the
project untouched), changes the project in place, and returns an `EditResult`: whether the project
changed and which objects appeared or disappeared. What must be rendered again is not decided
here: the studio hands the edited project to the scene renderer, which compares it with what it
holds (`model.foley.render.SceneRenderer.sync`), so a nudge re-pans one object and a new prompt
regenerates one. `diff_projects` gives the same answer between two snapshots (undo/redo).

Objects are addressed by their analysis id. Tracks are frozen: edits build new ones with
`Track.with_changes` and a new `Analysis` with `Analysis.with_objects`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import numpy as np

from app.project import Project
from audio.nudges import Nudges, PanKeyframe
from model.foley.scene import ObjectSound, checked_seed
from video.base.errors import InputError
from video.base.tracks import Event, Track

T = TypeVar("T")

MAX_PROMPT_CHARS = 500
MAX_LABEL_CHARS = 80
KEYFRAME_MIN_GAP_S = 1e-3  # two pan keyframes closer than this are the same keyframe


@dataclass(frozen=True)
class EditResult:
    """What an edit did to the project (see the module doc): `changed` is False when it left the
    project as it was; `added_ids` / `removed_ids` are the objects that appeared / disappeared."""

    changed: bool = False
    added_ids: frozenset[int] = frozenset()
    removed_ids: frozenset[int] = frozenset()

    def merged(self, other: EditResult) -> EditResult:
        """The union of two results (e.g. several edits applied as one step)."""
        removed = self.removed_ids | other.removed_ids
        return EditResult(changed=self.changed or other.changed,
                          added_ids=(self.added_ids | other.added_ids) - removed,
                          removed_ids=removed)


NO_CHANGE = EditResult()
CHANGED = EditResult(changed=True)


# ---------------------------------------------------------------------------------------------
# helpers


def _sound(project: Project, object_id: int) -> ObjectSound:
    try:
        return project.object_sound(int(object_id))
    except KeyError:
        raise InputError(f"no object with id {object_id}") from None


def _track(project: Project, object_id: int) -> Track:
    try:
        return project.analysis.object(int(object_id))
    except KeyError:
        raise InputError(f"no object with id {object_id}") from None


def _finite(value: float, what: str) -> float:
    if isinstance(value, bool):
        raise InputError(f"{what} must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise InputError(f"{what} must be finite, got {value!r}")
    return number


def _validated(build: Callable[..., T], *args: Any, **changes: Any) -> T:
    """`build(*args, **changes)` (a value type's constructor or `replace`), its ValueError (the
    value type's own check) reported as the user's InputError."""
    try:
        return build(*args, **changes)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def _in_range(value: float, lo: float, hi: float, what: str) -> float:
    number = _finite(value, what)
    if not lo <= number <= hi:
        raise InputError(f"{what} must be in {lo:g}..{hi:g}, got {number:g}")
    return number


def _changed(changed: bool) -> EditResult:
    return CHANGED if changed else NO_CHANGE


def _with_nudges(project: Project, object_id: int, **changes: Any) -> bool:
    """Replace some nudge fields of one object; True if anything changed."""
    sound = _sound(project, object_id)
    nudges = _validated(replace, sound.nudges, **changes)
    if nudges == sound.nudges:
        return False
    project.set_object_sound(replace(sound, nudges=nudges))
    return True


def _replace_track(project: Project, track: Track) -> None:
    project.analysis = project.analysis.with_objects(
        track if t.id == track.id else t for t in project.analysis.objects)


# ---------------------------------------------------------------------------------------------
# sound assignment


def set_prompt(project: Project, object_id: int, text: str) -> EditResult:
    """Set one object's sound prompt ("footsteps on gravel"); surrounding whitespace is dropped."""
    if not isinstance(text, str):
        raise InputError(f"prompt must be text, got {type(text).__name__}")
    prompt = " ".join(text.split())
    if len(prompt) > MAX_PROMPT_CHARS:
        raise InputError(f"prompt is too long ({len(prompt)} characters, at most {MAX_PROMPT_CHARS})")
    sound = _sound(project, object_id)
    if prompt == sound.prompt:
        return NO_CHANGE
    project.set_object_sound(replace(sound, prompt=prompt))
    return CHANGED


def set_object_seed(project: Project, object_id: int, seed: int) -> EditResult:
    """Set one object's seed offset (a different take of the same prompt)."""
    sound = _sound(project, object_id)
    changed = _validated(replace, sound, seed=seed)  # ObjectSound checks the seed
    if changed == sound:
        return NO_CHANGE
    project.set_object_sound(changed)
    return CHANGED


# ---------------------------------------------------------------------------------------------
# spatial nudges and the mixer


def set_pan_offset(project: Project, object_id: int, offset: float) -> EditResult:
    """Shift an object's tracked pan by `offset` (-2..2; the result is clipped to -1..1)."""
    value = _finite(offset, "pan offset")
    return _changed(_with_nudges(project, object_id, pan_offset=value))


def set_gain(project: Project, object_id: int, gain_db: float) -> EditResult:
    """Trim an object's level after distance loudness, in dB (-60..+24)."""
    value = _finite(gain_db, "gain trim")
    return _changed(_with_nudges(project, object_id, gain_db=value))


def set_distance_scale(project: Project, object_id: int, scale: float) -> EditResult:
    """Scale an object's apparent distance (0.05..20; 2 = twice as far: quieter, duller)."""
    value = _finite(scale, "distance scale")
    return _changed(_with_nudges(project, object_id, distance_scale=value))


def set_width(project: Project, object_id: int, width: float) -> EditResult:
    """Set an object's stereo width (0 = point source .. 1 = as wide as its box)."""
    value = _finite(width, "width")
    return _changed(_with_nudges(project, object_id, width=value))


def toggle_mute(project: Project, object_id: int) -> EditResult:
    """Mute/unmute an object in the mix (mute wins over solo: `audio.mix.active_ids`)."""
    sound = _sound(project, object_id)
    return _changed(_with_nudges(project, object_id, mute=not sound.nudges.mute))


def toggle_solo(project: Project, object_id: int) -> EditResult:
    """Solo/unsolo an object (while any object is soloed, only soloed objects are heard)."""
    sound = _sound(project, object_id)
    return _changed(_with_nudges(project, object_id, solo=not sound.nudges.solo))


# ---------------------------------------------------------------------------------------------
# pan keyframes


def _keyframe_time(project: Project, time_s: float) -> float:
    duration = project.analysis.video.duration
    return _in_range(time_s, 0.0, max(duration, 0.0), "keyframe time (s)")


def add_pan_keyframe(project: Project, object_id: int, time_s: float, pan: float) -> EditResult:
    """Pin the pan (-1..1) of an object at `time_s`; an existing keyframe at that time is replaced."""
    t = _keyframe_time(project, time_s)
    p = _in_range(pan, -1.0, 1.0, "keyframe pan")
    keys = [k for k in _sound(project, object_id).nudges.pan_keyframes
            if abs(k.time - t) >= KEYFRAME_MIN_GAP_S]
    keys.append(PanKeyframe(time=t, pan=p))
    return _changed(_with_nudges(project, object_id, pan_keyframes=tuple(keys)))


def _keyframe_index(project: Project, object_id: int, index: int) -> tuple[PanKeyframe, ...]:
    keys = _sound(project, object_id).nudges.pan_keyframes
    if isinstance(index, bool) or not isinstance(index, int | np.integer):
        raise InputError(f"keyframe index must be an integer, got {index!r}")
    if not 0 <= index < len(keys):
        raise InputError(f"object {object_id} has no pan keyframe {index} "
                         f"(it has {len(keys)})")
    return keys


def move_pan_keyframe(project: Project, object_id: int, index: int, *,
                      time_s: float | None = None, pan: float | None = None) -> EditResult:
    """Move keyframe `index` (in time order) to a new time and/or pan.

    The time is clamped between its neighbours (1 ms away from them), so a keyframe being
    dragged keeps its index for the whole drag.
    """
    keys = list(_keyframe_index(project, object_id, index))
    key = keys[index]
    new_time = key.time
    if time_s is not None:
        new_time = _keyframe_time(project, time_s)
        lo = keys[index - 1].time + KEYFRAME_MIN_GAP_S if index > 0 else 0.0
        hi = keys[index + 1].time - KEYFRAME_MIN_GAP_S if index + 1 < len(keys) else math.inf
        new_time = min(max(new_time, lo), hi)
    new_pan = key.pan if pan is None else _in_range(pan, -1.0, 1.0, "keyframe pan")
    keys[index] = PanKeyframe(time=new_time, pan=new_pan)
    return _changed(_with_nudges(project, object_id, pan_keyframes=tuple(keys)))


def remove_pan_keyframe(project: Project, object_id: int, index: int) -> EditResult:
    """Delete keyframe `index` (in time order) of an object."""
    keys = list(_keyframe_index(project, object_id, index))
    del keys[index]
    return _changed(_with_nudges(project, object_id, pan_keyframes=tuple(keys)))


def clear_nudges(project: Project, object_id: int) -> EditResult:
    """Reset all of an object's nudges (pan, keyframes, gain, distance, width, mute, solo)."""
    sound = _sound(project, object_id)
    if sound.nudges == Nudges():
        return NO_CHANGE
    project.set_object_sound(replace(sound, nudges=Nudges()))
    return CHANGED


# ---------------------------------------------------------------------------------------------
# objects and tracks


def set_label(project: Project, object_id: int, text: str) -> EditResult:
    """Rename an object (the label also guides the sound chosen for an object without a prompt)."""
    if not isinstance(text, str):
        raise InputError(f"label must be text, got {type(text).__name__}")
    label = " ".join(text.split())
    if not label:
        raise InputError("label must not be empty")
    if len(label) > MAX_LABEL_CHARS:
        raise InputError(f"label is too long ({len(label)} characters, at most {MAX_LABEL_CHARS})")
    track = _track(project, object_id)
    if label == track.label:
        return NO_CHANGE
    _replace_track(project, track.with_changes(label=label))
    return CHANGED


def delete_object(project: Project, object_id: int) -> EditResult:
    """Remove an object, its track and its sound from the project."""
    track = _track(project, object_id)
    project.analysis = project.analysis.with_objects(
        t for t in project.analysis.objects if t.id != track.id)
    project.sync_objects()
    return EditResult(changed=True, removed_ids=frozenset({track.id}))


def trim_object(project: Project, object_id: int, *, first_frame: int | None = None,
                last_frame: int | None = None) -> EditResult:
    """Keep an object's track only from `first_frame` to `last_frame` (inclusive; None: its own
    end): a tracker that went on with something else (a drawn box that moved onto a look-alike)
    is cut back. Events outside the kept frames (farther than half a frame) go with them. A trim
    that would leave no frame is an InputError (delete the object instead)."""
    track = _track(project, object_id)
    info = project.analysis.video
    first = int(track.frames[0]) if first_frame is None else int(first_frame)
    last = int(track.frames[-1]) if last_frame is None else int(last_frame)
    keep = (track.frames >= first) & (track.frames <= last)
    if not keep.any():
        raise InputError(f"trimming object {object_id} to frames {first}..{last} would leave "
                         f"none of its frames ({int(track.frames[0])}..{int(track.frames[-1])}); "
                         "delete it instead")
    if keep.all():
        return NO_CHANGE
    frames = track.frames[keep]
    half = 0.5 / float(info.fps)
    start = info.time_of_frame(int(frames[0])) - half
    end = info.time_of_frame(int(frames[-1])) + half
    events = tuple(e for e in track.events if start <= e.time <= end)
    _replace_track(project, track.with_changes(frames=frames, boxes=track.boxes[keep],
                                               events=events))
    return CHANGED


def _merge_events(first: Iterable[Event], second: Iterable[Event]) -> tuple[Event, ...]:
    """Union of two event lists; events of one kind within 1 ms are one (the stronger kept)."""
    merged: list[Event] = []
    for event in sorted([*first, *second], key=lambda e: -e.strength):  # strongest first
        if not any(m.kind == event.kind and abs(m.time - event.time) < 1e-3 for m in merged):
            merged.append(event)
    return tuple(sorted(merged, key=lambda e: (e.time, e.kind)))


def merge_tracks(keep: Track, other: Track) -> Track:
    """`keep` extended by `other`: frames union, keep's box where both have one, events union.

    Label, id and extra keys come from `keep`.
    """
    frames = np.union1d(keep.frames, other.frames)
    boxes = np.empty((frames.shape[0], 4), dtype=np.float64)
    boxes[np.searchsorted(frames, other.frames)] = other.boxes
    boxes[np.searchsorted(frames, keep.frames)] = keep.boxes  # keep wins on shared frames
    return keep.with_changes(frames=frames, boxes=boxes,
                             events=_merge_events(keep.events, other.events))


def merge_objects(project: Project, keep_id: int, other_id: int) -> EditResult:
    """Merge object `other_id` into `keep_id` (one object the tracker split in two).

    The kept object keeps its id, label, prompt and nudges; `other_id` disappears.
    """
    if int(keep_id) == int(other_id):
        raise InputError(f"cannot merge object {keep_id} with itself")
    keep, other = _track(project, keep_id), _track(project, other_id)
    merged = merge_tracks(keep, other)
    project.analysis = project.analysis.with_objects(
        merged if t.id == keep.id else t for t in project.analysis.objects if t.id != other.id)
    project.sync_objects()
    return EditResult(changed=True, removed_ids=frozenset({other.id}))


def next_object_id(project: Project) -> int:
    """An id no object of the project uses (one more than the largest)."""
    return max((t.id for t in project.analysis.objects), default=0) + 1


def add_object(project: Project, track: Track) -> EditResult:
    """Add a user-seeded track as a new object with a new unique id (track.id is ignored).

    Its frames must lie inside the video. The new id is `result.added_ids`.
    """
    if not isinstance(track, Track):
        raise InputError(f"expected a Track, got {type(track).__name__}")
    if not len(track):
        raise InputError("the new object's track has no frames")
    frames = project.analysis.video.frames
    if frames and int(track.frames[-1]) >= frames:
        raise InputError(f"the new object's track reaches frame {int(track.frames[-1])}, "
                         f"but the video has {frames} frames")
    new_id = next_object_id(project)
    project.analysis = project.analysis.with_objects(
        [*project.analysis.objects, track.with_changes(id=new_id)])
    project.sync_objects()
    return EditResult(changed=True, added_ids=frozenset({new_id}))


# ---------------------------------------------------------------------------------------------
# render settings


def set_render_settings(project: Project, *, seed: int | None = None,
                        pan_law: str | None = None, target_lufs: float | None = None,
                        true_peak_db: float | None = None, air_absorption: bool | None = None,
                        itd: bool | None = None, doppler: bool | None = None,
                        max_limiting_db: float | None = None) -> EditResult:
    """Change global render settings; None leaves a setting as it is.

    (The renderer then regenerates every object for a new seed, re-pans every object for a new
    pan law, air absorption, ITD or Doppler, and re-masters for a new loudness target or
    true-peak ceiling or limiting cap.)
    """
    changes: dict[str, Any] = {}
    if seed is not None:
        changes["seed"] = _validated(checked_seed, seed)
    if pan_law is not None:
        changes["pan_law"] = pan_law
    if target_lufs is not None:
        changes["target_lufs"] = _finite(target_lufs, "target loudness (LUFS)")
    if true_peak_db is not None:
        changes["true_peak_db"] = _finite(true_peak_db, "true-peak ceiling (dBTP)")
    if max_limiting_db is not None:
        changes["max_limiting_db"] = _finite(max_limiting_db, "limiting at most (dB)")
    for name, flag in (("air_absorption", air_absorption), ("itd", itd), ("doppler", doppler)):
        if flag is not None:
            changes[name] = bool(flag)
    before = project.render
    after = _validated(replace, before, **changes)  # RenderSettings checks the values
    if after == before:
        return NO_CHANGE
    project.render = after
    return CHANGED


# ---------------------------------------------------------------------------------------------
# comparing snapshots (undo/redo)


def same_track(a: Track, b: Track) -> bool:
    """True when two tracks are equal: id, label, frames, boxes, events and extra keys."""
    return a is b or (a.id == b.id and a.label == b.label and a.events == b.events
                      and a.extra == b.extra and np.array_equal(a.frames, b.frames)
                      and np.array_equal(a.boxes, b.boxes))


def diff_projects(before: Project, after: Project) -> EditResult:
    """What going from `before` to `after` changed, as the edits between them report it."""
    old, new = before.analysis, after.analysis
    old_ids = {t.id for t in old.objects}
    new_ids = {t.id for t in new.objects}
    same_analysis = old is new or (old.video == new.video and old.cuts == new.cuts
                                   and len(old.objects) == len(new.objects)
                                   and all(same_track(a, b) for a, b in
                                           zip(old.objects, new.objects, strict=True)))
    changed = not same_analysis or before.objects != after.objects or before.render != after.render
    return EditResult(changed=changed, added_ids=frozenset(new_ids - old_ids),
                      removed_ids=frozenset(old_ids - new_ids))


EditFn = Callable[..., EditResult]
"""The shape of every edit: (project, ...) -> EditResult."""
