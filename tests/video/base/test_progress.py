"""The CLI progress bar: `\\r` redraws only on a terminal, one line per stage in a log."""

from __future__ import annotations

import io

from video.base.progress import ProgressBar, stage_of, warn_line


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


# what an analysis reports, in order (counts change every call, stages only four times)
FEED = [(0.0, "opening"), (0.0, "analysing")] + \
       [(0.95 * i / 100, f"frame {i}/100") for i in range(1, 101, 8)] + \
       [(0.96, "linking tracks and finding events"), (1.0, "2 objects")]


def test_in_a_log_one_plain_line_per_stage() -> None:
    stream = io.StringIO()
    bar = ProgressBar("analyze", stream=stream)
    assert not bar.interactive               # a StringIO is not a terminal
    for fraction, message in FEED:
        bar(fraction, message)
    bar.close()
    text = stream.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert [line.split("s ", 1)[1] for line in lines] == \
        ["opening", "analysing", "frame 1/100", "linking tracks and finding events", "2 objects"]
    assert all(line.startswith("analyze: ") for line in lines)
    assert lines[2].startswith("analyze:   1%") and lines[4].startswith("analyze: 100%")


def test_on_a_terminal_one_line_redrawn() -> None:
    stream = _Terminal()
    bar = ProgressBar("render", stream=stream)
    assert bar.interactive
    bar(0.0, "start")
    bar(1.0, "done")
    bar.close()
    text = stream.getvalue()
    assert text.count("\r") == 2 and text.count("\n") == 1 and text.endswith("\n")
    assert "[" + "#" * 30 + "] 100.0%" in text


def test_interactive_can_be_forced() -> None:
    stream = io.StringIO()
    bar = ProgressBar("x", stream=stream, interactive=True)
    bar(0.5, "half")
    assert stream.getvalue().startswith("\rx [")


def test_warning_lines() -> None:
    log, tty = io.StringIO(), _Terminal()
    warn_line("odd file", stream=log)
    warn_line("odd file", stream=tty)
    assert log.getvalue() == "warning: odd file\n"          # no blank line in a log
    assert tty.getvalue() == "\nwarning: odd file\n"        # off the bar's line on a terminal


def test_stage_of_blanks_counts() -> None:
    assert stage_of("frame 12/455") == stage_of("frame 400/455") == "frame #/#"
    assert stage_of("object 3: foley") != stage_of("master")
