"""Marking rules, edge by edge."""

from __future__ import annotations

import pytest

from protolearn.assessment.scoring import (
    ScoredQuestion,
    answer_text,
    is_correct,
    normalize_text,
    parse_number,
    score_attempt,
)
from protolearn.store.tests import QuestionType

MCQ, TF, SHORT = QuestionType.MCQ, QuestionType.TRUE_FALSE, QuestionType.SHORT_ANSWER


@pytest.mark.parametrize(
    ("kind", "key", "given", "expected"),
    [
        (MCQ, "Paris", "Paris", True),
        (MCQ, "Paris", " Paris ", True),
        (MCQ, "Paris", "paris", False),  # options are exact: "paris" is not one of them
        (MCQ, "Paris", "", False),
        (MCQ, "Paris", None, False),
        (TF, "true", "TRUE", True),
        (TF, "true", "yes", True),
        (TF, "false", "F", True),
        (TF, "false", "true", False),
        (TF, "true", "maybe", False),
        (SHORT, "Au", " au ", True),
        (SHORT, "Photosynthesis", "photosynthesis.", True),
        (SHORT, "New York", "new   york", True),
        (SHORT, "New York", "NewYork", True),
        (SHORT, "café", "CAFÉ", True),
        (SHORT, "H2O", "H₂O", True),  # NFKC folds the subscript
        (SHORT, "Andes", "the Andes", False),
        (SHORT, "Andes", "   ", False),
        (SHORT, "3.14", "3.1416", True),  # within 0.1 % of the key
        (SHORT, "3.14", "3.2", False),
        (SHORT, "1000", "1,000", True),
        (SHORT, "0.5", "1/2", True),
        (SHORT, "42", "42.", True),
        (SHORT, "-7", "\u22127", True),  # a typographic minus
        (SHORT, "0", "0.0000000001", True),
        (SHORT, "0", "0.001", False),
        (SHORT, "42", "forty-two", False),
        (SHORT, "1e3", "1000", True),
        (SHORT, "12", "1/0", False),
    ],
)
def test_is_correct(kind: QuestionType, key: str, given: str | None, expected: bool) -> None:
    assert is_correct(kind, key, given) is expected


def test_normalize_and_parse() -> None:
    assert normalize_text("  Hello,   World!  ") == "hello world"
    assert parse_number("50%") == 50
    assert parse_number("1,234.5") == 1234.5
    assert parse_number("1,23") is None
    assert parse_number("nan") is None
    assert parse_number("inf") is None


@pytest.mark.parametrize(
    ("value", "stored"),
    [(True, "true"), (False, "false"), (3, "3"), (3.0, "3"), (2.5, "2.5"), ("x", "x"), (None, None)],
)
def test_answer_text(value: str | bool | float | None, stored: str | None) -> None:
    assert answer_text(value) == stored


def test_score_sums_partial_points_and_decides_pass() -> None:
    questions = [
        ScoredQuestion(1, MCQ, "A", 2.0),
        ScoredQuestion(2, TF, "true", 0.5),
        ScoredQuestion(3, SHORT, "x", 1.5),
        ScoredQuestion(4, SHORT, "y", 1.0),  # unanswered
    ]
    result = score_attempt(questions, {1: "A", 2: "false", 3: "X"}, passing_score=70)
    assert (result.score, result.max_score, result.percent, result.passed) == (3.5, 5.0, 70.0, True)
    assert [(m.question_id, m.is_correct, m.points_awarded) for m in result.marked] == [
        (1, True, 2.0),
        (2, False, 0.0),
        (3, True, 1.5),
    ]
    assert not score_attempt(questions, {1: "A"}, passing_score=70).passed


def test_score_of_a_test_worth_nothing() -> None:
    result = score_attempt([ScoredQuestion(1, SHORT, "x", 0.0)], {1: "x"}, passing_score=0)
    assert (result.score, result.max_score, result.percent, result.passed) == (0.0, 0.0, 0.0, True)
