"""Claiming a render's output folder so that no user file is ever destroyed.

An export writes into a hidden `.NAME.PID.*.partial` folder beside OUTDIR and renames it into
place at the end (app.export). This module decides, before any work, whether OUTDIR may be
used at all, and holds it for one process:

- a folder that is not empty is replaced only with `force`, and only when it is recognizably a
  previous render (its project.json is a StereoFoley project, its mix.wav is there, and it holds
  nothing a render does not write): a folder with anyone's other files is refused;
- `-o .`, `-o ""`, the current folder or one of its parents, a file, a missing parent, and a
  parent this process cannot write in are refused up front, naming the user's path;
- a lock file beside OUTDIR (created exclusively, holding the owner's pid) makes a second
  render into the same OUTDIR fail at once instead of silently replacing the first;
- partial and old folders left by a process that died (kill -9, power loss) are removed the
  next time anything claims the same OUTDIR.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from video.base.errors import InputError

PROJECT_SCHEMA_MARK = '"stereofoley.project/'
# What a render (and its optional extras) writes into OUTDIR: anything else is the user's.
RENDER_ENTRIES = frozenset({"mix.wav", "stems", "groups", "dry", "project.json", "report.txt",
                            "session.rpp", "session.otio", "session.aaf"})
_REVIEW = re.compile(r"review\.[A-Za-z0-9]+")


def is_previous_render(path: Path) -> bool:
    """True for a folder a render wrote: a StereoFoley project.json and mix.wav, and nothing
    else but what renders write (stems, groups, sessions, report, review video)."""
    if not path.is_dir() or not (path / "mix.wav").is_file():
        return False
    try:
        with open(path / "project.json", encoding="utf-8") as handle:
            head = handle.read(4096)
    except (OSError, UnicodeDecodeError):
        return False
    if PROJECT_SCHEMA_MARK not in head:
        return False
    return all(entry.name in RENDER_ENTRIES or _REVIEW.fullmatch(entry.name)
               for entry in path.iterdir())


def check_outdir(outdir: str | os.PathLike[str], *, force: bool) -> Path:
    """Validate OUTDIR before any work (see the module docstring); returns it as a Path."""
    out = check_place(outdir)
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise InputError(f"output folder {out} is not empty (use --force to replace it)")
        if not is_previous_render(out):
            raise InputError(f"output folder {out} is not a previous render (it holds files a "
                             f"render did not write): refusing to replace it")
    return out


def check_place(outdir: str | os.PathLike[str]) -> Path:
    """Where an output folder may go at all, whatever it holds: a name, not the current folder
    or one holding it, not a file, in an existing parent this process can write in."""
    text = os.fspath(outdir)
    if not text.strip():
        raise InputError("output folder name is empty")
    out = Path(text)
    resolved = out.resolve()
    cwd = Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents:
        raise InputError(f"output folder {text} is the current folder or holds it: "
                         f"name a new folder for the render")
    if out.exists() and not out.is_dir():
        raise InputError(f"output {out} exists and is not a folder")
    if not resolved.parent.is_dir():
        raise InputError(f"output folder's parent {out.parent} does not exist")
    if not os.access(resolved.parent, os.W_OK | os.X_OK):
        raise InputError(f"cannot write in {out.parent}: permission denied")
    return out


def lock_path(out: Path) -> Path:
    """The lock file that claims OUTDIR: beside it, hidden."""
    return out.parent / f".{out.name}.lock"


def temp_prefix(out: Path) -> str:
    """Prefix of this process's partial/old folders for OUTDIR (the pid makes stale ones
    recognizable)."""
    return f".{out.name}.{os.getpid()}."


def pid_alive(pid: int) -> bool:
    """True when a process with this pid exists (it may belong to another user)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _temp_folders(out: Path) -> Iterator[tuple[Path, int, str]]:
    """(folder, pid, "partial" or "old") of the `.NAME.PID.*.partial` / `.old` folders beside
    OUTDIR (any process's)."""
    pattern = re.compile(rf"\.{re.escape(out.name)}\.(\d+)\..*\.(partial|old)")
    for entry in out.parent.iterdir():
        match = pattern.fullmatch(entry.name)
        if match and entry.is_dir():
            yield entry, int(match.group(1)), match.group(2)


def remove_stale_temps(out: Path) -> list[Path]:
    """Delete `.NAME.PID.*.partial` / `.old` folders beside OUTDIR whose process is gone."""
    removed = []
    for entry, pid, _ in _temp_folders(out):
        if not pid_alive(pid):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def remove_own_temps(out: Path) -> None:
    """Delete this process's partial folders for OUTDIR, on the way out of an interrupted
    render: whatever the interrupt cut short (a folder made just before the cleanup was set
    up, a writer thread still adding files while the cleanup ran) goes too."""
    if not out.parent.is_dir():
        return
    for entry, pid, kind in list(_temp_folders(out)):
        if pid == os.getpid() and kind == "partial":
            for _ in range(3):           # a file written meanwhile can fail one pass
                shutil.rmtree(entry, ignore_errors=True)
                if not entry.exists():
                    break


def _lock_owner(lock: Path) -> int | None:
    try:
        return int(lock.read_text(encoding="ascii").strip() or "0")
    except (OSError, ValueError):
        return None


@contextmanager
def claim_outdir(out: Path) -> Iterator[Path]:
    """Hold OUTDIR for this process while the block runs (re-entrant within one process).

    Raises InputError when another live process holds it or the folder beside it cannot be
    written. A lock left by a dead process is taken over, and stale temp folders removed.
    """
    lock = lock_path(out)
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            owner = _lock_owner(lock)
            if owner == os.getpid():
                yield out                       # already ours: an outer claim releases it
                return
            if owner is not None and pid_alive(owner):
                raise InputError(f"output folder {out} is being written by another render "
                                 f"(process {owner})") from None
            lock.unlink(missing_ok=True)        # a dead process's claim
            continue
        except OSError as exc:
            raise InputError(f"cannot write in {out.parent}: "
                             f"{exc.strerror or exc}") from None
        break
    else:
        raise InputError(f"output folder {out} is being claimed by another render")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(f"{os.getpid()}\n")
        remove_stale_temps(out)
        yield out
    finally:
        lock.unlink(missing_ok=True)
