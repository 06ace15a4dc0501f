import subprocess
import sys

import pytest


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
