"""The runtime never imports the training/evaluation package (model.lab), not even lazily."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
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
