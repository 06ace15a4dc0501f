"""Writing files so that readers see the old file or the new one, never half of one.

Every output the program makes (tracks, projects, stems, checkpoints, caches, clips) goes through
`atomic_path`: the data is written to a temporary file beside the target (same folder, so the
rename cannot cross file systems; same extension, so writers that pick a format from the name
still work) and renamed over the target only when writing succeeded. On any error, including
Ctrl-C, the temporary file is removed. Lives in video/base/, the lowest layer, so all can use it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | os.PathLike[str], *, mode: int = 0o644) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces `path` (with permissions `mode`)."""
    target = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}",
                                dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write a UTF-8 text file atomically (flushed to disk before the rename), making its
    folder if needed."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
