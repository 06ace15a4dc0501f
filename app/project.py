"""The one editable state object, `Project`, and its versioned JSON file format.

Widgets display a Project; callbacks edit it through plain functions (app.edits); renders are a
pure function of it (seeded). Saved atomically (temp file + rename) so a crash never loses a project.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from model.foley.scene import ObjectSound, RenderSettings
from video.base.atomic import atomic_write_text
from video.base.errors import InputError
from video.base.fields import req_items, req_obj, shown
from video.base.tracks import Analysis

PROJECT_SCHEMA = "stereofoley.project/1"


@dataclass
class Project:
    """Analysis + per-object sound/nudges + render settings. Objects are keyed by analysis id."""

    analysis: Analysis
    objects: list[ObjectSound] = field(default_factory=list)
    render: RenderSettings = field(default_factory=RenderSettings)

    def __post_init__(self) -> None:
        self.sync_objects()

    @property
    def video_path(self) -> str:
        return self.analysis.video.path

    def sync_objects(self) -> None:
        """One ObjectSound per analysis object, in analysis order; unknown ids dropped."""
        by_id = {o.id: o for o in self.objects}
        self.objects = [by_id.get(t.id, ObjectSound(id=t.id)) for t in self.analysis.objects]

    def object_sound(self, object_id: int) -> ObjectSound:
        for obj in self.objects:
            if obj.id == object_id:
                return obj
        raise KeyError(f"no object with id {object_id}")

    def set_object_sound(self, sound: ObjectSound) -> None:
        self.objects = [sound if o.id == sound.id else o for o in self.objects]

    def to_dict(self) -> dict[str, Any]:
        return {"schema": PROJECT_SCHEMA, "analysis": self.analysis.to_dict(),
                "objects": [o.to_dict() for o in self.objects], "render": self.render.to_dict()}

    @classmethod
    def from_dict(cls, data: Any) -> Project:
        if not isinstance(data, dict):
            raise InputError(f"project must be a JSON object, got {shown(data)}")
        if data.get("schema") != PROJECT_SCHEMA:
            raise InputError(f"unsupported project schema {data.get('schema')!r} "
                             f"(expected {PROJECT_SCHEMA!r})")
        if "analysis" not in data:
            raise InputError("project has no 'analysis'")
        analysis = Analysis.from_dict(data["analysis"], where="project analysis")
        objects = req_items(data, "objects", ObjectSound.from_dict, where="project", default=[])
        render = RenderSettings.from_dict(req_obj(data, "render", where="project", default={}),
                                          where="project render")
        known = {t.id for t in analysis.objects}
        unknown = [o.id for o in objects if o.id not in known]
        if unknown:
            raise InputError(f"project objects {unknown} are not in its analysis")
        return cls(analysis=analysis, objects=objects, render=render)

    def copy(self) -> Project:
        """A shallow snapshot (all members are immutable or copied lists) for undo."""
        return replace(self, objects=list(self.objects))


def load_project(path: str | os.PathLike[str]) -> Project:
    """Read a project file; bad files raise InputError with a one-line reason."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"project file not found: {p}")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(f"{p} is not a text file") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{p} is not valid JSON: {exc.msg} at line {exc.lineno}") from exc
    project = Project.from_dict(data)
    video = Path(project.video_path)
    if not video.is_absolute():
        resolved = replace(project.analysis.video, path=str((p.parent / video).resolve()))
        project.analysis = replace(project.analysis, video=resolved)
    return project


def save_project(project: Project, path: str | os.PathLike[str]) -> None:
    """Save a project atomically as versioned JSON."""
    atomic_write_text(path, json.dumps(project.to_dict(), indent=1))
