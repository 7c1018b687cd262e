"""CSV with a header row: ``question_text, question_type, points, correct_answer, explanation,
option_1 ... option_N``, one question a row, as spreadsheets write it (UTF-8, BOM or not).

A cell a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``...) is written after an
apostrophe and read back without it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence

from protolearn.assessment.exchange.drafts import (
    Collected,
    QuestionRefused,
    build_question,
    format_points,
    parse_points,
)
from protolearn.assessment.exchange.errors import UnreadableFile
from protolearn.assessment.schemas import QuestionIn
from protolearn.store.tests import QuestionType

__all__ = ("COLUMNS", "looks_like_csv", "read_csv", "write_csv")

COLUMNS = ("question_text", "question_type", "points", "correct_answer", "explanation")
_REQUIRED = ("question_text", "question_type", "correct_answer")
_ALIASES = {
    "question": "question_text",
    "text": "question_text",
    "type": "question_type",
    "answer": "correct_answer",
}
_OPTION = re.compile(r"^option_?(\d+)$")
_DELIMITERS = (",", ";", "\t")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_TYPES = {
    "mcq": QuestionType.MCQ,
    "multiplechoice": QuestionType.MCQ,
    "multichoice": QuestionType.MCQ,
    "truefalse": QuestionType.TRUE_FALSE,
    "tf": QuestionType.TRUE_FALSE,
    "shortanswer": QuestionType.SHORT_ANSWER,
}


class _Header:
    """Where each column is: the named ones, and the option columns in their number's order."""

    def __init__(self, cells: list[str]) -> None:
        self.index: dict[str, int] = {}
        numbered: list[tuple[int, int]] = []
        for position, cell in enumerate(cells):
            name = re.sub(r"[\s\-]+", "_", cell.strip().lower())
            name = _ALIASES.get(name, name)
            if found := _OPTION.match(name):
                numbered.append((int(found[1]), position))
            else:
                self.index.setdefault(name, position)
        self.options = [position for _, position in sorted(numbered)]

    @property
    def missing(self) -> list[str]:
        return [name for name in _REQUIRED if name not in self.index]

    def cell(self, row: list[str], name: str) -> str:
        position = self.index.get(name)
        return _unguarded(row[position]) if position is not None and position < len(row) else ""


def looks_like_csv(text: str) -> bool:
    """Whether the first line is a header naming the required columns."""
    return _dialect(text.split("\n", 1)[0]) is not None


def _dialect(first_line: str) -> tuple[str, _Header] | None:
    for delimiter in _DELIMITERS:
        header = _Header(next(csv.reader([first_line], delimiter=delimiter), []))
        if not header.missing:
            return delimiter, header
    return None


def read_csv(data: bytes) -> Collected:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile("the CSV file is not UTF-8 text; save it as 'CSV UTF-8'") from exc
    found = _dialect(text.lstrip("\r\n").split("\n", 1)[0].rstrip("\r"))
    if found is None:
        raise UnreadableFile(
            "the first row of a CSV file names its columns: "
            f"{', '.join(_REQUIRED)} at least, and points, explanation, option_1, option_2, ..."
        )
    delimiter, header = found
    collected = Collected()
    rows = csv.reader(io.StringIO(text.lstrip("\r\n"), newline=""), delimiter=delimiter)
    try:
        next(rows)
        for number, row in enumerate(rows, start=2):  # the header is row 1, as in a spreadsheet
            if not any(cell.strip() for cell in row):
                continue
            if not collected.count_question(number):
                continue
            try:
                collected.drafts.append(_question(header, row))
            except QuestionRefused as refused:
                collected.skip(f"row {number}", refused.reason)
    except csv.Error as exc:
        raise UnreadableFile(f"the CSV file cannot be read past row {rows.line_num}: {exc}") from exc
    collected.close("row")
    return collected


def _question(header: _Header, row: list[str]) -> QuestionIn:
    raw_type = header.cell(row, "question_type")
    question_type = _TYPES.get(re.sub(r"[^a-z]", "", raw_type.lower()))
    if question_type is None:
        raise QuestionRefused(
            f"The question type {raw_type.strip()!r} is not one of mcq, true_false, short_answer."
            if raw_type.strip()
            else "The question type is empty; write mcq, true_false or short_answer."
        )
    options = [
        _unguarded(row[position])
        for position in header.options
        if position < len(row) and row[position].strip()
    ]
    return build_question(
        question_text=header.cell(row, "question_text"),
        question_type=question_type,
        options=options,
        correct_answer=header.cell(row, "correct_answer"),
        points=parse_points(header.cell(row, "points")),
        explanation=header.cell(row, "explanation"),
    )


def _unguarded(cell: str) -> str:
    """A cell without the apostrophe that kept a spreadsheet from running it as a formula."""
    if len(cell) > 1 and cell[0] == "'" and cell[1] in (*_FORMULA_START, "'"):
        return cell[1:]
    return cell


def _guarded(value: str) -> str:
    return "'" + value if value.startswith((*_FORMULA_START, "'")) else value


# --- writing ------------------------------------------------------------------------------------


def write_csv(questions: Sequence[QuestionIn]) -> bytes:
    """UTF-8 with a BOM, so spreadsheets open it as UTF-8; CRLF line ends (RFC 4180)."""
    option_columns = max(
        (len(q.options) for q in questions if q.question_type is QuestionType.MCQ), default=0
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([*COLUMNS, *(f"option_{n}" for n in range(1, option_columns + 1))])
    for question in questions:
        options = question.options if question.question_type is QuestionType.MCQ else []
        writer.writerow(
            [
                _guarded(question.question_text),
                question.question_type.value,
                format_points(question.points),
                _guarded(question.correct_answer),
                _guarded(question.explanation or ""),
                *(_guarded(option) for option in options),
                *([""] * (option_columns - len(options))),
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
