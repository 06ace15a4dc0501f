import argparse
import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import build_parser, main, package_version


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


def _pyproject_version() -> str:
    text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    match = re.search(r'^version = "([^"]+)"', text, re.MULTILINE)
    assert match
    return match.group(1)


def test_version_comes_from_the_package_metadata() -> None:
    proc = subprocess.run([sys.executable, "-m", "app", "--version"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"stereofoley {_pyproject_version()}\n"
    assert package_version() == _pyproject_version() == "0.1.0"


def _all_actions(parser: argparse.ArgumentParser, where: str = "stereofoley"
                 ) -> list[tuple[str, argparse.Action]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _all_actions(sub, f"{where} {name}")
        elif not isinstance(action, argparse._HelpAction):
            found.append((where, action))
    return found


def test_every_argument_of_every_command_has_help() -> None:
    actions = _all_actions(build_parser())
    assert len(actions) >= 25
    missing = [f"{where} {action.dest}" for where, action in actions
               if not action.help or action.help == argparse.SUPPRESS]
    assert missing == []


@pytest.mark.parametrize(("command", "needles"), [
    ("render", ["OUTDIR/project.json", "stereofoley analyze", "default: the project's seed",
                "previous render"]),
    ("analyze", ["--prompt ID=TEXT", "TRACKS document"]),
    ("studio", ["--headless-out", "bundled demo"]),
])
def test_help_says_where_ids_and_defaults_come_from(command: str, needles: list[str],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())      # argparse wraps lines
    for needle in needles:
        assert needle in text, needle


def test_services_remove_their_runtime_folder() -> None:
    """test.sh sources scripts/services.sh: its /tmp/stereofoley-run.* folder goes on exit."""
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(["bash", "-c", "source scripts/services.sh >/dev/null 2>&1; "
                           "test -d \"$SF_RUNTIME\" && echo \"$SF_RUNTIME\""],
                          capture_output=True, text=True, timeout=60, cwd=root)
    runtime = proc.stdout.strip()
    assert runtime.startswith("/tmp/stereofoley-run."), proc.stdout
    assert not Path(runtime).exists()
