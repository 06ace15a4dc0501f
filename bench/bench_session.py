"""Export cost of the DAW sessions (issue 13): a 60 s, 8-object render (bench_render's scene)
exported plain, with `--session rpp,otio,aaf`, and with dry stems too; figures go to
BENCHMARKS.md, section "DAW sessions".

    .venv/bin/python bench/bench_session.py [--duration 60]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from app.export import export_render
from app.project import Project
from bench.bench_render import _scene
from model.foley.render import render_scene

CASES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("plain", {}),
    ("rpp,otio,aaf", {"sessions": ("rpp", "otio", "aaf")}),
    ("rpp,otio,aaf + dry stems", {"sessions": ("rpp", "otio", "aaf"), "dry_stems": True}),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0)
    args = parser.parse_args()
    project = Project(analysis=_scene(args.duration))
    result = render_scene(project.analysis, project.objects, project.render)
    print(f"{args.duration:.0f} s, {len(project.objects)} objects, limiter on "
          f"{result.master['limiter']['samples']} samples")
    with tempfile.TemporaryDirectory() as folder:
        for i, (name, options) in enumerate(CASES):
            start = time.perf_counter()
            out = export_render(Path(folder) / f"case{i}", project, result, **options)
            seconds = time.perf_counter() - start
            extra = ""
            if (out / "session.rpp").exists():
                text = (out / "session.rpp").read_text(encoding="utf-8")
                pan = sum(block.split(">")[0].count("PT ") for block in text.split("<PANENV2")[1:])
                extra = (f", session.rpp {len(text) // 1024} KiB, {text.count('PT ')} envelope "
                         f"points ({pan} pan)")
            print(f"{name}: export {seconds:.2f} s{extra}")


if __name__ == "__main__":
    main()
