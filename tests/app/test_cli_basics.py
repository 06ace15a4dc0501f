import contextlib
import io
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main


@pytest.mark.parametrize(
    "argv",
    [[], ["bogus"], ["analyze"], ["analyze", "x.mp4"], ["render", "x.mp4"]],
)
def test_usage_errors_are_one_error_line(argv: list[str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "app", *argv], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    assert "Traceback" not in proc.stderr


def test_unwritable_output_is_one_error_line(tmp_path: Path) -> None:
    """An output folder the user cannot write to is bad input: exit 2, one line, no traceback."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["analyze", "assets/demo/demo.mp4", "-o", str(blocker / "out.json"),
                     "--events", "motion"])
    assert code == 2
    lines = err.getvalue().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), err.getvalue()
    assert "not a writable folder" in lines[0]
    assert not (blocker / "out.json").exists()
