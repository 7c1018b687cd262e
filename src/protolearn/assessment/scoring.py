"""Marking one answer and scoring an attempt. Pure functions: no I/O.

- ``mcq``: the chosen option must equal the correct option (surrounding spaces ignored).
- ``true_false``: ``true/false``, ``t/f``, ``yes/no`` and JSON booleans, in any case.
- ``short_answer``: compared after normalisation (Unicode NFKC, case-folded, punctuation dropped,
  whitespace collapsed); when both sides read as numbers they match within
  ``max(NUMBER_ABS_TOLERANCE, NUMBER_REL_TOLERANCE * |expected|)``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from protolearn.store.tests import QuestionType

__all__ = (
    "NUMBER_ABS_TOLERANCE",
    "NUMBER_REL_TOLERANCE",
    "AttemptScore",
    "Marked",
    "ScoredQuestion",
    "answer_text",
    "is_correct",
    "normalize_text",
    "parse_number",
    "parse_truth",
    "score_attempt",
)

NUMBER_REL_TOLERANCE = 1e-3
NUMBER_ABS_TOLERANCE = 1e-9

_TRUE = frozenset({"true", "t", "yes", "y"})
_FALSE = frozenset({"false", "f", "no", "n"})
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_FRACTION = re.compile(r"^([+-]?\d+)\s*/\s*(\d+)$")


def answer_text(value: str | bool | float | None) -> str | None:
    """An answer as stored: booleans as ``true``/``false``, whole numbers without ``.0``."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) or (math.isfinite(value) and value.is_integer()):
        return str(int(value))
    return repr(value)


def normalize_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    kept = "".join(" " if unicodedata.category(ch).startswith(("P", "S")) else ch for ch in text)
    return " ".join(kept.split())


def parse_number(text: str) -> float | None:
    """A number written plainly, with thousands separators, as a fraction or as a percentage."""
    cleaned = unicodedata.normalize("NFKC", text).strip().replace("\u2212", "-")
    cleaned = cleaned.rstrip(".!?;").removesuffix("%").strip()
    if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?", cleaned):
        cleaned = cleaned.replace(",", "")
    if _NUMBER.match(cleaned):
        number = float(cleaned)
        return number if math.isfinite(number) else None
    fraction = _FRACTION.match(cleaned)
    if fraction and int(fraction.group(2)) != 0:
        return int(fraction.group(1)) / int(fraction.group(2))
    return None


def parse_truth(text: str) -> bool | None:
    word = text.strip().casefold()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    return None


def is_correct(question_type: QuestionType, correct_answer: str, given: str | None) -> bool:
    if given is None or not given.strip():
        return False
    match question_type:
        case QuestionType.MCQ:
            return given.strip() == correct_answer.strip()
        case QuestionType.TRUE_FALSE:
            expected = parse_truth(correct_answer)
            return expected is not None and parse_truth(given) == expected
        case QuestionType.SHORT_ANSWER:
            return _short_answer_matches(correct_answer, given)


def _short_answer_matches(correct_answer: str, given: str) -> bool:
    expected_number = parse_number(correct_answer)
    if expected_number is not None:
        given_number = parse_number(given)
        if given_number is None:
            return False
        tolerance = max(NUMBER_ABS_TOLERANCE, NUMBER_REL_TOLERANCE * abs(expected_number))
        return abs(expected_number - given_number) <= tolerance
    expected, answer = normalize_text(correct_answer), normalize_text(given)
    return bool(expected) and (answer == expected or answer.replace(" ", "") == expected.replace(" ", ""))


@dataclass(frozen=True, slots=True)
class Marked:
    question_id: int
    is_correct: bool
    points_awarded: float


@dataclass(frozen=True, slots=True)
class AttemptScore:
    marked: list[Marked]
    score: float
    max_score: float
    percent: float
    passed: bool


@dataclass(frozen=True, slots=True)
class ScoredQuestion:
    id: int
    question_type: QuestionType
    correct_answer: str
    points: float


def score_attempt(
    questions: Iterable[ScoredQuestion], answers: Mapping[int, str], passing_score: float
) -> AttemptScore:
    """Sum the points of correctly answered questions; unanswered questions score zero."""
    marked: list[Marked] = []
    score = max_score = 0.0
    for question in questions:
        max_score += question.points
        if question.id not in answers:
            continue
        correct = is_correct(question.question_type, question.correct_answer, answers[question.id])
        points = question.points if correct else 0.0
        score += points
        marked.append(Marked(question.id, correct, points))
    percent = round(100.0 * score / max_score, 2) if max_score > 0 else 0.0
    return AttemptScore(marked, round(score, 4), round(max_score, 4), percent, percent >= passing_score)
