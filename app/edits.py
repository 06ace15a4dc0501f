"""Every studio edit as a plain function on a `Project`, callable without a window.

Each edit validates its input (bad values raise `InputError` with a one-line message and leave the
project untouched), changes the project in place, and returns an `EditResult` saying what must be
re-rendered:

- `dirty_ids`: objects whose stem must be rebuilt;
- `regenerate`: True when their *dry* audio must be generated again (prompt, track, seed changed);
  False when re-spatializing the existing dry audio is enough (pan, gain, distance, width nudges);
- `added_ids` / `removed_ids`: objects that appeared / disappeared;
- `remix`: the mix must be summed again (anything audible changed, mute/solo included);
- `remaster`: only the master stage (loudness target, true-peak ceiling) changed.

So the studio re-renders one object after a nudge instead of the whole scene. `diff_projects`
computes the same answer between two snapshots (used for undo/redo).

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
from model.foley.scene import ObjectSound, RenderSettings, checked_seed
from video.base.errors import InputError
from video.base.tracks import Event, Track

T = TypeVar("T")

MAX_PROMPT_CHARS = 500
MAX_LABEL_CHARS = 80
KEYFRAME_MIN_GAP_S = 1e-3  # two pan keyframes closer than this are the same keyframe


@dataclass(frozen=True)
class EditResult:
    """What an edit changed, so the studio re-renders only what it must (see module doc).

    `regenerate_ids` need new dry audio (then re-spatializing); `respatialize_ids` only need
    their existing dry audio placed again. `dirty_ids` is both; `regenerate` is True when any
    object needs new dry audio.
    """

    regenerate_ids: frozenset[int] = frozenset()
    respatialize_ids: frozenset[int] = frozenset()
    added_ids: frozenset[int] = frozenset()
    removed_ids: frozenset[int] = frozenset()
    remix: bool = False
    remaster: bool = False

    @property
    def dirty_ids(self) -> frozenset[int]:
        """Objects whose stem must be rebuilt (regenerated or re-spatialized)."""
        return self.regenerate_ids | self.respatialize_ids

    @property
    def regenerate(self) -> bool:
        """True when some object's dry audio must be generated again."""
        return bool(self.regenerate_ids)

    @property
    def changed(self) -> bool:
        """True when the edit changed anything that affects the sound."""
        return bool(self.dirty_ids or self.added_ids or self.removed_ids or self.remix
                    or self.remaster)

    def merged(self, other: EditResult) -> EditResult:
        """The union of two results (e.g. several edits applied as one step)."""
        regen = self.regenerate_ids | other.regenerate_ids
        removed = self.removed_ids | other.removed_ids
        return EditResult(regenerate_ids=regen - removed,
                          respatialize_ids=(self.respatialize_ids | other.respatialize_ids)
                          - regen - removed,
                          added_ids=(self.added_ids | other.added_ids) - removed,
                          removed_ids=removed,
                          remix=self.remix or other.remix,
                          remaster=self.remaster or other.remaster)


NO_CHANGE = EditResult()


def _respatialize(object_id: int) -> EditResult:
    return EditResult(respatialize_ids=frozenset({int(object_id)}), remix=True)


def _regenerate(object_ids: Iterable[int]) -> EditResult:
    ids = frozenset(int(i) for i in object_ids)
    return EditResult(regenerate_ids=ids, remix=bool(ids))


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
# sound assignment (these need the dry audio generated again)


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
    return _regenerate({sound.id})


def set_object_seed(project: Project, object_id: int, seed: int) -> EditResult:
    """Set one object's seed offset (a different take of the same prompt)."""
    sound = _sound(project, object_id)
    changed = _validated(replace, sound, seed=seed)  # ObjectSound checks the seed
    if changed == sound:
        return NO_CHANGE
    project.set_object_sound(changed)
    return _regenerate({sound.id})


# ---------------------------------------------------------------------------------------------
# spatial nudges (re-spatialize only)


def set_pan_offset(project: Project, object_id: int, offset: float) -> EditResult:
    """Shift an object's tracked pan by `offset` (-2..2; the result is clipped to -1..1)."""
    value = _finite(offset, "pan offset")
    return _respatialize(object_id) if _with_nudges(project, object_id, pan_offset=value) \
        else NO_CHANGE


def set_gain(project: Project, object_id: int, gain_db: float) -> EditResult:
    """Trim an object's level after distance loudness, in dB (-60..+24)."""
    value = _finite(gain_db, "gain trim")
    return _respatialize(object_id) if _with_nudges(project, object_id, gain_db=value) \
        else NO_CHANGE


def set_distance_scale(project: Project, object_id: int, scale: float) -> EditResult:
    """Scale an object's apparent distance (0.05..20; 2 = twice as far: quieter, duller)."""
    value = _finite(scale, "distance scale")
    return _respatialize(object_id) if _with_nudges(project, object_id, distance_scale=value) \
        else NO_CHANGE


def set_width(project: Project, object_id: int, width: float) -> EditResult:
    """Set an object's stereo width (0 = point source .. 1 = as wide as its box)."""
    value = _finite(width, "width")
    return _respatialize(object_id) if _with_nudges(project, object_id, width=value) \
        else NO_CHANGE


def toggle_mute(project: Project, object_id: int) -> EditResult:
    """Mute/unmute an object in the mix (its stem is unchanged, so only the mix is redone)."""
    sound = _sound(project, object_id)
    _with_nudges(project, object_id, mute=not sound.nudges.mute)
    return EditResult(remix=True)


def toggle_solo(project: Project, object_id: int) -> EditResult:
    """Solo/unsolo an object (while any object is soloed, only soloed objects are heard)."""
    sound = _sound(project, object_id)
    _with_nudges(project, object_id, solo=not sound.nudges.solo)
    return EditResult(remix=True)


def audible_ids(project: Project) -> list[int]:
    """Ids heard in the mix under mute/solo rules: soloed ones if any, else all unmuted."""
    soloed = [o.id for o in project.objects if o.nudges.solo]
    if soloed:
        return soloed
    return [o.id for o in project.objects if not o.nudges.mute]


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
    changed = _with_nudges(project, object_id, pan_keyframes=tuple(keys))
    return _respatialize(object_id) if changed else NO_CHANGE


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
    changed = _with_nudges(project, object_id, pan_keyframes=tuple(keys))
    return _respatialize(object_id) if changed else NO_CHANGE


def remove_pan_keyframe(project: Project, object_id: int, index: int) -> EditResult:
    """Delete keyframe `index` (in time order) of an object."""
    keys = list(_keyframe_index(project, object_id, index))
    del keys[index]
    _with_nudges(project, object_id, pan_keyframes=tuple(keys))
    return _respatialize(object_id)


def clear_nudges(project: Project, object_id: int) -> EditResult:
    """Reset all of an object's nudges (pan, keyframes, gain, distance, width, mute, solo)."""
    sound = _sound(project, object_id)
    if sound.nudges == Nudges():
        return NO_CHANGE
    project.set_object_sound(replace(sound, nudges=Nudges()))
    return _respatialize(sound.id)


# ---------------------------------------------------------------------------------------------
# objects and tracks


def set_label(project: Project, object_id: int, text: str) -> EditResult:
    """Rename an object (display only: nothing to re-render)."""
    if not isinstance(text, str):
        raise InputError(f"label must be text, got {type(text).__name__}")
    label = " ".join(text.split())
    if not label:
        raise InputError("label must not be empty")
    if len(label) > MAX_LABEL_CHARS:
        raise InputError(f"label is too long ({len(label)} characters, at most {MAX_LABEL_CHARS})")
    track = _track(project, object_id)
    if label != track.label:
        _replace_track(project, track.with_changes(label=label))
    return NO_CHANGE


def delete_object(project: Project, object_id: int) -> EditResult:
    """Remove an object, its track and its sound from the project."""
    track = _track(project, object_id)
    project.analysis = project.analysis.with_objects(
        t for t in project.analysis.objects if t.id != track.id)
    project.sync_objects()
    return EditResult(removed_ids=frozenset({track.id}), remix=True)


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
    return EditResult(regenerate_ids=frozenset({keep.id}), removed_ids=frozenset({other.id}),
                      remix=True)


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
    return EditResult(regenerate_ids=frozenset({new_id}), added_ids=frozenset({new_id}),
                      remix=True)


# ---------------------------------------------------------------------------------------------
# render settings


_SPATIAL_SETTINGS = ("pan_law", "air_absorption", "itd", "doppler")
_MASTER_SETTINGS = ("target_lufs", "true_peak_db")


def set_render_settings(project: Project, *, seed: int | None = None,
                        pan_law: str | None = None, target_lufs: float | None = None,
                        true_peak_db: float | None = None, air_absorption: bool | None = None,
                        itd: bool | None = None, doppler: bool | None = None) -> EditResult:
    """Change global render settings; None leaves a setting as it is.

    A new seed regenerates every object; a new pan law / air absorption / ITD / Doppler
    re-spatializes every object; a new loudness target or true-peak ceiling only redoes the
    master stage.
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
    for name, flag in (("air_absorption", air_absorption), ("itd", itd), ("doppler", doppler)):
        if flag is not None:
            changes[name] = bool(flag)
    before = project.render
    after = _validated(replace, before, **changes)  # RenderSettings checks the values
    if after == before:
        return NO_CHANGE
    project.render = after
    return settings_result(project, before, after)


def settings_result(project: Project, before: RenderSettings, after: RenderSettings) -> EditResult:
    """What a change of render settings from `before` to `after` requires."""
    all_ids = frozenset(o.id for o in project.objects)
    result = NO_CHANGE
    if before.seed != after.seed:
        result = result.merged(_regenerate(all_ids))
    if any(getattr(before, n) != getattr(after, n) for n in _SPATIAL_SETTINGS):
        result = result.merged(EditResult(respatialize_ids=all_ids, remix=True))
    if any(getattr(before, n) != getattr(after, n) for n in _MASTER_SETTINGS):
        result = result.merged(EditResult(remaster=True))
    return result


# ---------------------------------------------------------------------------------------------
# comparing snapshots (undo/redo)


def same_track_motion(a: Track, b: Track) -> bool:
    """True when two tracks have the same frames, boxes and events (labels may differ)."""
    return a is b or (np.array_equal(a.frames, b.frames) and np.array_equal(a.boxes, b.boxes)
                      and a.events == b.events)


def _object_diff(object_id: int, before: Project, after: Project) -> EditResult:
    old_sound, new_sound = before.object_sound(object_id), after.object_sound(object_id)
    old_track, new_track = before.analysis.object(object_id), after.analysis.object(object_id)
    if (not same_track_motion(old_track, new_track) or old_sound.prompt != new_sound.prompt
            or old_sound.sounds != new_sound.sounds or old_sound.seed != new_sound.seed):
        return _regenerate({object_id})
    old_n, new_n = old_sound.nudges, new_sound.nudges
    if replace(old_n, mute=False, solo=False) != replace(new_n, mute=False, solo=False):
        return _respatialize(object_id)
    if (old_n.mute, old_n.solo) != (new_n.mute, new_n.solo):
        return EditResult(remix=True)
    return NO_CHANGE


def diff_projects(before: Project, after: Project) -> EditResult:
    """What must be re-rendered to go from the sound of `before` to the sound of `after`."""
    old_ids = {t.id for t in before.analysis.objects}
    new_ids = {t.id for t in after.analysis.objects}
    added, removed = frozenset(new_ids - old_ids), frozenset(old_ids - new_ids)
    result = EditResult(regenerate_ids=added, added_ids=added, removed_ids=removed,
                        remix=bool(added or removed))
    for object_id in sorted(old_ids & new_ids):
        result = result.merged(_object_diff(object_id, before, after))
    return result.merged(settings_result(after, before.render, after.render))


EditFn = Callable[..., EditResult]
"""The shape of every edit: (project, ...) -> EditResult."""
