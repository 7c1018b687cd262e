"""Question exchange with other systems: Moodle XML, GIFT and CSV files in and out.

Pure functions over bytes and question drafts; storing them is ``exchange.service``'s job. A
question the file holds but ProtoLearn cannot is skipped with a reason, never raised; only a file
that cannot be read at all raises (``UnreadableFile``, ``FileTooLarge``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from protolearn.assessment.exchange.csv_format import looks_like_csv, read_csv, write_csv
from protolearn.assessment.exchange.drafts import MAX_QUESTIONS_PER_FILE
from protolearn.assessment.exchange.errors import FileTooLarge, UnreadableFile
from protolearn.assessment.exchange.gift import read_gift, write_gift
from protolearn.assessment.exchange.moodle_xml import read_moodle_xml, write_moodle_xml
from protolearn.assessment.exchange.schemas import ExchangeFormat, SkippedItem
from protolearn.assessment.schemas import QuestionIn

__all__ = (
    "MAX_FILE_BYTES",
    "MAX_QUESTIONS_PER_FILE",
    "ExchangeFormat",
    "FileTooLarge",
    "ParsedFile",
    "UnreadableFile",
    "detect_format",
    "export_filename",
    "media_type",
    "read_questions",
    "render_questions",
)

MAX_FILE_BYTES = 2 * 1024 * 1024

_SUFFIX = {ExchangeFormat.MOODLE_XML: ".xml", ExchangeFormat.GIFT: ".gift.txt", ExchangeFormat.CSV: ".csv"}
_MEDIA_TYPE = {
    ExchangeFormat.MOODLE_XML: "application/xml",
    ExchangeFormat.GIFT: "text/plain; charset=utf-8",
    ExchangeFormat.CSV: "text/csv; charset=utf-8",
}
_BY_EXTENSION = (
    (".xml", ExchangeFormat.MOODLE_XML),
    (".csv", ExchangeFormat.CSV),
    (".gift", ExchangeFormat.GIFT),
)


@dataclass(frozen=True, slots=True)
class ParsedFile:
    format: ExchangeFormat
    drafts: list[QuestionIn]
    skipped: list[SkippedItem]


def detect_format(filename: str, data: bytes) -> ExchangeFormat:
    """The format a file's name says (``.xml``, ``.csv``, ``.gift``/``.gift.txt``), else its content's."""
    name = filename.strip().lower()
    for extension, file_format in _BY_EXTENSION:
        if name.endswith(extension) or name.endswith(extension + ".txt"):
            return file_format
    head = data[:8192].decode("utf-8-sig", errors="replace").lstrip()
    if head.startswith("<"):
        return ExchangeFormat.MOODLE_XML
    if looks_like_csv(head):
        return ExchangeFormat.CSV
    return ExchangeFormat.GIFT


def read_questions(
    data: bytes, *, filename: str = "", file_format: ExchangeFormat | None = None
) -> ParsedFile:
    """The questions a file holds, ready to create, and what was skipped, both in file order."""
    if len(data) > MAX_FILE_BYTES:
        raise FileTooLarge(
            f"the file has {len(data)} bytes; a question file may have at most {MAX_FILE_BYTES} (2 MiB)",
            max_bytes=MAX_FILE_BYTES,
        )
    if not data.strip():
        raise UnreadableFile("the file is empty")
    file_format = file_format or detect_format(filename, data)
    match file_format:
        case ExchangeFormat.MOODLE_XML:
            collected = read_moodle_xml(data)
        case ExchangeFormat.GIFT:
            collected = read_gift(data)
        case ExchangeFormat.CSV:
            collected = read_csv(data)
    if not collected.drafts and not collected.skipped:
        raise UnreadableFile(f"the file holds no questions (read as {file_format.value})")
    return ParsedFile(file_format, collected.drafts, collected.skipped)


def render_questions(
    questions: Sequence[QuestionIn], file_format: ExchangeFormat, *, category: str = ""
) -> bytes:
    """The questions as a file of ``file_format``; ``category`` names them in Moodle (XML, GIFT)."""
    match file_format:
        case ExchangeFormat.MOODLE_XML:
            return write_moodle_xml(questions, category=category)
        case ExchangeFormat.GIFT:
            return write_gift(questions, category=category)
        case ExchangeFormat.CSV:
            return write_csv(questions)


def export_filename(test_id: int, file_format: ExchangeFormat) -> str:
    return f"test-{test_id}{_SUFFIX[file_format]}"


def media_type(file_format: ExchangeFormat) -> str:
    return _MEDIA_TYPE[file_format]
