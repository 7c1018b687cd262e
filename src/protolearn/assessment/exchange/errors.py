"""What can go wrong with a question file as a whole (single questions are skipped, not raised)."""

from __future__ import annotations

from protolearn.errors import InvalidInput

__all__ = ("FileTooLarge", "UnreadableFile")


class UnreadableFile(InvalidInput):
    """The file cannot be read in the format it claims or was taken for."""

    title = "Unreadable question file"


class FileTooLarge(InvalidInput):
    title = "Question file too large"
