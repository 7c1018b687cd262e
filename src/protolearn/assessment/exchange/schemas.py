"""Wire types of question exchange: what an import answers."""

from __future__ import annotations

from enum import StrEnum

from protolearn.store.tests import QuestionType
from protolearn.wire import Response

__all__ = ("ExchangeFormat", "ImportResult", "ImportedQuestion", "SkippedItem")


class ExchangeFormat(StrEnum):
    MOODLE_XML = "moodle-xml"
    GIFT = "gift"
    CSV = "csv"


class SkippedItem(Response, frozen=True):
    """Something in the file that did not become a question, and why, in words for a teacher."""

    item: str
    reason: str


class ImportedQuestion(Response, frozen=True):
    """A question as it will be (dry run) or was created; ``id`` is null on a dry run."""

    question_text: str
    question_type: QuestionType
    options: list[str]
    correct_answer: str
    points: float
    explanation: str | None
    id: int | None = None


class ImportResult(Response, frozen=True):
    test_id: int
    format: ExchangeFormat
    dry_run: bool
    imported: list[ImportedQuestion]
    skipped: list[SkippedItem]
