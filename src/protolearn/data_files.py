"""Files under the data dir, named by a row's path relative to it (clips, uploaded material).

A path is resolved inside the data dir or not at all: a row pointing out of it (which no code of
ours writes) is never read or deleted.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

__all__ = ("data_file", "delete_data_file")

log = logging.getLogger(__name__)


def data_file(data_dir: Path, relative: str) -> Path | None:
    """The file's absolute path; None when ``relative`` leads outside the data dir."""
    path = (data_dir / relative).resolve()
    return path if path.is_relative_to(data_dir.resolve()) else None


def delete_data_file(data_dir: Path, relative: str) -> None:
    """Deletes the file (blocking: call it on a worker thread); one already gone is deleted."""
    path = data_file(data_dir, relative)
    if path is None:
        log.error("%s is outside the data dir; left alone", relative)
        return
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
