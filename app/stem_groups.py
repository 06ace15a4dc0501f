"""Group stems of a render (`--stems objects|groups|both`): which objects go in which role's
stem, which of them keep a file of their own, the files' names and what project.json and
report.txt say about them.

- `objects` (the default): one stem per object in OUTDIR/stems/, as before; no groups.
- `groups`: one stem per role present (model.foley.roles: footsteps, vehicles, animals,
  handling, impacts, movement, ambience) in OUTDIR/groups/, plus object stems only for the
  objects that are neither short nor quiet (audio.groups.FoldConfig); the short and quiet ones
  are heard only in their group ("folded").
- `both`: the groups and every object's stem.

A group stem is the sum of its members' finished stems (audio.groups.sum_stems), so each member
keeps its own pan and distance, and the group stems of a render sum to its mix: members the
mixer does not let through (muted, or not soloed while another object is) are listed but not
summed, and never folded (their own stem is their only delivery); a role whose objects are all
silenced that way gets no group stem (it would be silence).

File names follow the sound-effects convention of a category code first (as in UCS file names:
CatID_name): `groups/<CODE>_<role>.wav`, e.g. `groups/FEET_footsteps.wav`,
`groups/VEHI_vehicles.wav`; object stems keep `stems/<id>_<label>.wav`.

With dry stems (`--dry-stems`) the group stems are still the baked (wet) sums: one pan lane
cannot pan several objects, so groups carry no automation; the dry stems and their envelopes are
per object, written for the objects that have an object stem.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from app.project import Project
from audio.groups import FoldConfig, StemLevel, fold_reasons, stem_level, sum_stems
from audio.mix import active_ids
from model.foley.render import RenderResult
from model.foley.roles import ROLE_CODES, object_role, role

STEM_MODES = ("objects", "groups", "both")
GROUPS_DIR = "groups"
FOLD = FoldConfig()


def parse_stem_mode(text: str) -> str:
    """`--stems`' value, checked ("Groups" -> "groups"); anything else is a ValueError."""
    mode = text.strip().lower()
    if mode not in STEM_MODES:
        raise ValueError(f"stems must be one of {', '.join(STEM_MODES)}, got {text!r}")
    return mode


def group_path(code: str) -> str:
    """`groups/<CODE>_<role>.wav`, relative to OUTDIR."""
    return f"{GROUPS_DIR}/{code}_{role(code).name}.wav"


@dataclass(frozen=True)
class StemGroup:
    """One group stem: its role code, its path in OUTDIR, every member (project order), the
    members summed into it (the active ones) and the members folded into it (no own file)."""

    code: str
    path: str
    members: tuple[int, ...]
    summed: tuple[int, ...]
    folded: tuple[int, ...] = ()

    @property
    def name(self) -> str:
        return role(self.code).name

    @property
    def track_name(self) -> str:
        """What a DAW track of this group is called: `FEET footsteps`."""
        return f"{self.code} {self.name}"


@dataclass(frozen=True)
class StemLayout:
    """What an export writes: the mode, the groups (none for `objects`), each object's role and
    measured level, and why an object folds (every mode records it; only `groups` acts on it)."""

    mode: str = "objects"
    groups: tuple[StemGroup, ...] = ()
    roles: Mapping[int, str] = field(default_factory=dict)
    levels: Mapping[int, StemLevel] = field(default_factory=dict)
    reasons: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    config: FoldConfig = FOLD

    def has_file(self, object_id: int) -> bool:
        """Whether the object gets its own stem file."""
        return self.mode != "groups" or not any(object_id in g.folded for g in self.groups)

    def group_of(self, object_id: int) -> StemGroup | None:
        return next((g for g in self.groups if object_id in g.members), None)


def object_roles(project: Project, chosen: Mapping[int, Mapping[str, Any]]) -> dict[int, str]:
    """Every object's role code, from what its stem plays (model.foley.roles.object_role;
    `chosen`: RenderResult.chosen)."""
    from model.foley.choose import sound_label

    out = {}
    for sound in project.objects:
        track = project.analysis.object(sound.id)
        out[sound.id] = object_role(sound_label(track), chosen=chosen.get(sound.id),
                                    prompt=sound.prompt,
                                    event_kinds=[e.kind for e in track.events])
    return out


def plan_stems(project: Project, result: RenderResult, *, mode: str = "objects",
               config: FoldConfig = FOLD) -> StemLayout:
    """The stem layout of an export (see the module doc); `objects` measures nothing."""
    mode = parse_stem_mode(mode)
    if mode == "objects":
        return StemLayout(mode=mode, config=config)
    levels = {o.id: stem_level(result.stems[o.id], config=config) for o in project.objects}
    return layout_from_levels(project, result.chosen, levels, stem_level(result.mix, config=config),
                              mode=mode, config=config)


def layout_from_levels(project: Project, chosen: Mapping[int, Mapping[str, Any]],
                       levels: Mapping[int, StemLevel], mix: StemLevel, *, mode: str,
                       config: FoldConfig = FOLD) -> StemLayout:
    """plan_stems from levels already measured (audio.groups.LevelMeter on each finished stem
    and on the mix, as a streamed export measures them block by block)."""
    mode = parse_stem_mode(mode)
    if mode == "objects":
        return StemLayout(mode=mode, config=config)
    roles = object_roles(project, chosen)
    active = active_ids({o.id: o.nudges for o in project.objects})
    reasons = {oid: fold_reasons(level, mix, config=config) if oid in active else ()
               for oid, level in levels.items()}
    groups = []
    for code in ROLE_CODES:
        members = tuple(o.id for o in project.objects if roles[o.id] == code)
        summed = tuple(m for m in members if m in active)
        if not summed:
            continue
        groups.append(StemGroup(code=code, path=group_path(code), members=members,
                                summed=summed, folded=tuple(m for m in members if reasons[m])))
    return StemLayout(mode=mode, groups=tuple(groups), roles=roles, levels=levels,
                      reasons=reasons, config=config)


def group_audio(group: StemGroup, result: RenderResult) -> np.ndarray:
    """A group's stem: the sum of its summed members' finished stems."""
    return sum_stems(result.stems, group.summed, result.n_samples)


def group_bwf_fields(group: StemGroup, *, seed: int, time_reference: int, originator: str
                     ) -> dict[str, Any]:
    """The bext fields of a group stem (what it is and which objects it holds)."""
    ids = ", ".join(str(m) for m in group.summed) or "none"
    description = f"group {group.code} {group.name} ({role(group.code).summary}); objects {ids}"
    return {"description": description[:256], "originator": originator,
            "originator_reference": f"SF{seed}G{group.code}"[:32],
            "time_reference": time_reference,
            "coding_history": "A=PCM,F=48000,W=24,M=stereo,T=StereoFoley group stem"}


def _finite(value: float) -> float | None:
    return round(value, 2) if math.isfinite(value) else None


def layout_doc(layout: StemLayout) -> dict[str, Any]:
    """project.json's "stems" entry: the mode, the fold rule and every group with its members
    (empty for `objects`, where project.json stays as it was)."""
    if layout.mode == "objects":
        return {}
    return {"mode": layout.mode, "fold": asdict(layout.config),
            "groups": [{"code": g.code, "role": g.name, "stem": g.path,
                        "members": list(g.members), "summed": list(g.summed),
                        "folded": list(g.folded)} for g in layout.groups]}


def object_doc(layout: StemLayout, object_id: int) -> dict[str, Any]:
    """What project.json adds to an object under groups: its role, group stem ("" when its role
    has none: all its objects silenced), level and why it folds (empty for `objects`)."""
    if layout.mode == "objects":
        return {}
    group = layout.group_of(object_id)
    level = layout.levels[object_id]
    return {"role": layout.roles[object_id], "group": "" if group is None else group.path,
            "folded": list(layout.reasons[object_id]), "audible_s": round(level.audible_s, 3),
            "level_dbfs": _finite(level.level_db)}


def report_lines(layout: StemLayout, audio_peaks: Mapping[str, float]) -> list[str]:
    """report.txt's "Groups" section (none for `objects`); audio_peaks: peak dBFS by group
    path."""
    if layout.mode == "objects":
        return []
    cfg = layout.config
    lines = ["", f"Groups ({len(layout.groups)}, --stems {layout.mode}; an object folds when "
                 f"heard < {cfg.short_s:g} s or {-cfg.quiet_db:g} dB under the mix)",
             f"  {'code':<5} {'role':<10} {'peak dBFS':>9}  members (folded*)  file"]
    for g in layout.groups:
        peak = audio_peaks.get(g.path, -math.inf)
        text = f"{peak:9.2f}" if math.isfinite(peak) else "  silent "
        members = " ".join(f"{m}{'*' if m in g.folded else ''}"
                           f"{'' if m in g.summed else '(muted)'}" for m in g.members)
        lines.append(f"  {g.code:<5} {g.name:<10} {text}  {members}  {g.path}")
    return lines
