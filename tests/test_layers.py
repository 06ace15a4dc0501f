"""House rules checked on the source: the runtime never imports the lab (model.lab), only the
studio UI imports dearpygui, only the detector and the lab import torch (lazily), and no layer
imports one above it (video.base <- video <- audio <- model <- app)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUNTIME = ["model/foley", "model/detector", "app"]
EVAL_ONLY = {"app/cmd_eval.py"}  # `stereofoley eval` is the lab's front end


def imported_modules(path: Path) -> set[str]:
    """Every module an `import` or `from ... import` in the file names (at any depth)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def runtime_files() -> list[Path]:
    files = [p for d in RUNTIME for p in sorted((ROOT / d).rglob("*.py"))]
    return [p for p in files if p.relative_to(ROOT).as_posix() not in EVAL_ONLY]


def test_runtime_files_are_found() -> None:
    found = {p.relative_to(ROOT).as_posix() for p in runtime_files()}
    assert {"model/foley/render.py", "model/detector/event_detection.py",
            "app/cmd_analyze.py", "app/cmd_render.py"} <= found
    assert not found & EVAL_ONLY


@pytest.mark.parametrize("path", runtime_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_runtime_never_imports_the_lab(path: Path) -> None:
    lab = sorted(m for m in imported_modules(path) if m == "model.lab" or m.startswith("model.lab."))
    assert lab == [], f"{path.relative_to(ROOT)} imports {lab}"


def test_the_check_sees_lazy_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from model.lab.metrics import score_events\n"
                      "    import model.lab.semantic\n", encoding="utf-8")
    assert {"model.lab.metrics", "model.lab.semantic"} <= imported_modules(sample)


# -- the house's import rules (issue 14): who may import what ---------------------------------

PACKAGES = ("app", "audio", "model", "video")


def package_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def top_level_imports(path: Path) -> set[str]:
    """Modules imported at module level (not inside functions): what importing the file costs."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _all_files() -> list[Path]:
    return [p for pkg in PACKAGES for p in package_files(pkg)]


def _roots(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


@pytest.mark.parametrize("path", _all_files(), ids=_rel)
def test_only_the_studio_ui_imports_dearpygui(path: Path) -> None:
    if _rel(path).startswith("app/studio/ui/"):
        return
    assert "dearpygui" not in _roots(imported_modules(path)), \
        f"{_rel(path)} imports dearpygui: window code belongs in app/studio/ui/"


@pytest.mark.parametrize("path", _all_files(), ids=_rel)
def test_only_the_detector_and_the_lab_import_torch_and_only_lazily(path: Path) -> None:
    rel = _rel(path)
    if "torch" not in _roots(imported_modules(path)):
        return
    assert rel.startswith(("model/detector/", "model/lab/")), f"{rel} imports torch"
    assert "torch" not in _roots(top_level_imports(path)), \
        f"{rel} imports torch at module level: import it inside the function that needs it"


RAY_ONLY_IN = "app/batch.py"  # the batch runner; ray is an optional extra


@pytest.mark.parametrize("path", _all_files(), ids=_rel)
def test_only_the_batch_runner_imports_ray_and_only_lazily(path: Path) -> None:
    rel = _rel(path)
    if "ray" not in _roots(imported_modules(path)):
        return
    assert rel == RAY_ONLY_IN, f"{rel} imports ray: only {RAY_ONLY_IN} may (it is optional)"
    assert "ray" not in _roots(top_level_imports(path)), \
        f"{rel} imports ray at module level: import it inside the function that needs it"


def test_the_batch_runner_is_checked() -> None:
    assert "ray" in _roots(imported_modules(ROOT / RAY_ONLY_IN))
    assert "ray" not in _roots(top_level_imports(ROOT / RAY_ONLY_IN))


# what each layer may import of the project's own packages (nothing imports upward)
ALLOWED = {
    "video/base/": {"video.base"},
    "video/": {"video"},
    "audio/": {"audio", "video.base"},
    "model/": {"model", "audio", "video"},
    "app/": {"app", "model", "audio", "video"},
}


def _layer(rel: str) -> str:
    return next(prefix for prefix in ALLOWED if rel.startswith(prefix))


@pytest.mark.parametrize("path", _all_files(), ids=_rel)
def test_nothing_imports_upward(path: Path) -> None:
    rel = _rel(path)
    allowed = ALLOWED[_layer(rel)]
    own = {m for m in imported_modules(path) if m.split(".")[0] in PACKAGES}
    wrong = sorted(m for m in own
                   if not any(m == a or m.startswith(a + ".") for a in allowed))
    assert wrong == [], f"{rel} imports {wrong} (its layer may import {sorted(allowed)})"


def test_the_rules_see_real_violations(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import numpy\n\ndef f():\n    import torch\n    from app.cli import main\n",
                      encoding="utf-8")
    assert "torch" not in top_level_imports(sample)
    assert {"torch", "app.cli"} <= imported_modules(sample)
