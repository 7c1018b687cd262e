"""Turning what a file says into a question ProtoLearn can hold, or a reason in a teacher's words.

Every format builds its questions here, so an imported question passes the same checks as one
typed in (the schema's limits, then authoring's rules) and a refusal reads the same everywhere.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import msgspec

from protolearn.assessment.authoring import checked_question_fields
from protolearn.assessment.errors import InvalidQuestion
from protolearn.assessment.exchange.schemas import SkippedItem
from protolearn.assessment.schemas import QuestionIn
from protolearn.store.tests import QuestionType

__all__ = (
    "MAX_QUESTIONS_PER_FILE",
    "Collected",
    "QuestionRefused",
    "build_question",
    "format_points",
    "item_label",
    "parse_points",
    "sentence",
)

MAX_QUESTIONS_PER_FILE = 500
"""Questions read from one file; the ones after are skipped, with one entry saying so."""

_SNIPPET_CHARS = 40
_FIELD_NAMES = {
    "question_text": "The question text",
    "options": "The list of options",
    "correct_answer": "The correct answer",
    "points": "The points",
    "explanation": "The explanation",
}
_VALIDATION = re.compile(r"^(?P<message>.*) - at `\$\.(?P<field>\w+)(?:\[(?P<index>\d+)\])?`$")
_TOO_LONG = re.compile(r"^Expected `str` of length <= (\d+)$")
_EMPTY = re.compile(r"^Expected `str` (?:of length >= 1|matching regex .*)$")
_TOO_MANY = re.compile(r"^Expected `array` of length <= (\d+)$")
_AT_MOST = re.compile(r"^Expected `float` <= ([\d.]+)$")
_AT_LEAST = re.compile(r"^Expected `float` >= ([\d.]+)$")


class QuestionRefused(Exception):
    """A question in the file that ProtoLearn cannot hold; ``reason`` is a sentence for a teacher."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Collected:
    """What a format read so far: the questions to create and the items skipped, in file order."""

    drafts: list[QuestionIn] = field(default_factory=list)
    skipped: list[SkippedItem] = field(default_factory=list)
    seen: int = 0
    first_past_limit: int | None = None
    last_past_limit: int | None = None

    def count_question(self, number: int | None = None) -> bool:
        """Count one more question (``number``: where the file has it, by default its count);
        False once past the per-file limit."""
        self.seen += 1
        if self.seen <= MAX_QUESTIONS_PER_FILE:
            return True
        self.last_past_limit = number if number is not None else self.seen
        if self.first_past_limit is None:
            self.first_past_limit = self.last_past_limit
        return False

    def skip(self, item: str, reason: str) -> None:
        self.skipped.append(SkippedItem(item=item, reason=reason))

    def close(self, what: str = "question") -> None:
        """Add the one entry for the questions past the limit, if any."""
        first, last = self.first_past_limit, self.last_past_limit
        if first is not None and last is not None:
            self.skip(
                f"{what}s {first} to {last}" if last > first else f"{what} {first}",
                f"A file may hold at most {MAX_QUESTIONS_PER_FILE} questions; "
                "import the rest from a second file.",
            )


def build_question(
    *,
    question_text: str,
    question_type: QuestionType,
    options: list[str],
    correct_answer: str,
    points: float = 1.0,
    explanation: str | None = None,
) -> QuestionIn:
    """The question as it will be stored (trimmed, answer key normalised), or ``QuestionRefused``."""
    explanation = (explanation or "").strip() or None
    fields = {
        "question_text": question_text.strip(),
        "question_type": question_type.value,
        "options": [option.strip() for option in options],
        "correct_answer": correct_answer.strip(),
        "points": points,
        "explanation": explanation,
    }
    try:
        spec = msgspec.convert(fields, QuestionIn)
        options, correct_answer = checked_question_fields(
            spec.question_type, spec.options, spec.correct_answer
        )
    except msgspec.ValidationError as exc:
        raise QuestionRefused(_limit_reason(str(exc))) from exc
    except InvalidQuestion as exc:
        raise QuestionRefused(sentence(exc.detail.replace("correct_answer", "correct answer"))) from exc
    return msgspec.structs.replace(spec, options=options, correct_answer=correct_answer)


def parse_points(text: str | None) -> float:
    """Points as a file writes them ("2", "2.5", "2,5", "1.0000000"); empty means 1."""
    if text is None or not text.strip():
        return 1.0
    cleaned = text.strip()
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    try:
        points = float(cleaned)
    except ValueError:
        points = math.nan
    if not math.isfinite(points):
        raise QuestionRefused(f"The points value {text.strip()!r} is not a number.")
    return points


def format_points(points: float) -> str:
    """Points as files write them: ``2``, ``2.5``; read back exactly by ``parse_points``."""
    return str(int(points)) if float(points).is_integer() else repr(float(points))


def item_label(number: int, text: str | None = None, kind: str | None = None) -> str:
    """``question 3 (Moodle type matching): 'Match the capitals…'``: how a skipped item is named."""
    label = f"question {number}"
    if kind:
        label += f" ({kind})"
    snippet = " ".join((text or "").split())
    if snippet:
        if len(snippet) > _SNIPPET_CHARS:
            snippet = snippet[:_SNIPPET_CHARS].rstrip() + "…"
        label += f": {snippet!r}"
    return label


def sentence(text: str) -> str:
    """A phrase as a sentence: capital first letter, full stop."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _limit_reason(message: str) -> str:
    """A msgspec validation message ("Expected `str` of length <= 1000 - at `$.options[2]`") in words."""
    match = _VALIDATION.match(message)
    if match is None:
        return sentence(message)
    problem, name, index = match["message"], match["field"], match["index"]
    subject = f"Option {int(index) + 1}" if index is not None else _FIELD_NAMES.get(name, name)
    if found := _TOO_LONG.match(problem):
        return f"{subject} is longer than {found[1]} characters."
    if _EMPTY.match(problem):
        return f"{subject} is empty."
    if found := _TOO_MANY.match(problem):
        if name == "options":
            return f"The question has more than {found[1]} options."
        return f"{subject} has more than {found[1]} entries."
    if found := _AT_MOST.match(problem):
        return f"{subject} must be at most {float(found[1]):g}."
    if found := _AT_LEAST.match(problem):
        return f"{subject} must be at least {float(found[1]):g}."
    return sentence(f"{subject}: {problem}")
