"""How the lab's `python -m model.lab.<tool>` commands end: one line on success, and bad input
as one `error:` line on stderr with exit status 2, like `stereofoley` (app/cli.py)."""

from __future__ import annotations

import sys
from collections.abc import Callable

from video.base.errors import InputError
from video.base.progress import ProgressBar, ProgressFn


def run_with_bar(name: str, work: Callable[[ProgressFn], str]) -> int:
    """Run `work` with a terminal progress bar called `name`, print the summary line it returns
    and exit 0; an InputError becomes one `error:` line and exit status 2."""
    bar = ProgressBar(name)
    try:
        summary = work(bar)
    except InputError as exc:
        bar.close()
        sys.stderr.write(f"error: {exc}\n")
        return 2
    bar.close()
    print(summary)
    return 0
