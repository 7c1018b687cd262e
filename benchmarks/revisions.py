"""A git revision's sources, to run that revision's server beside this one in the same run."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def export_revision(revision: str, scratch: Path) -> Path:
    """The sources at a git revision, in a scratch folder (git archive: the repository is only
    read), with this checkout's model files (they are not in git)."""
    path = scratch / "before"
    archive = subprocess.run(  # noqa: S603 (git, our arguments)
        ["git", "-C", str(ROOT), "archive", "--format=tar", revision],  # noqa: S607
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(path, filter="data")
    for item in (ROOT / "models").iterdir():
        target = path / "models" / item.name
        if not target.exists() and not target.is_symlink():
            target.symlink_to(item)
    return path
