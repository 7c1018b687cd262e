"""Wire types of assessment: tests, questions, attempts, results."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from protolearn.proctoring_settings import ProctoringSettings
from protolearn.store.attempts import AttemptStatus
from protolearn.store.tests import QuestionType, ReviewMode
from protolearn.wire import RecordId, Request, Response

__all__ = (
    "AnswerOut",
    "AnswerValue",
    "AnswersIn",
    "AttemptOut",
    "AutosaveResult",
    "ExtraTimeIn",
    "QuestionCreate",
    "QuestionIn",
    "QuestionOut",
    "QuestionUpdate",
    "ResultRow",
    "StartedAttempt",
    "StudentHistoryRow",
    "StudentQuestion",
    "StudentTestOut",
    "SubmitRequest",
    "SubmitResult",
    "TestCreate",
    "TestOut",
    "TestUpdate",
)

_Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
_Subject = Annotated[str, msgspec.Meta(max_length=100)]
_LongText = Annotated[str, msgspec.Meta(max_length=10_000)]
_QuestionText = Annotated[str, msgspec.Meta(min_length=1, max_length=10_000, pattern=r"\S")]
_Option = Annotated[str, msgspec.Meta(min_length=1, max_length=1_000, pattern=r"\S")]
_Options = Annotated[list[_Option], msgspec.Meta(max_length=20)]
_CorrectAnswer = Annotated[str, msgspec.Meta(min_length=1, max_length=1_000, pattern=r"\S")]
_Points = Annotated[float, msgspec.Meta(ge=0, le=1_000)]
_Minutes = Annotated[float, msgspec.Meta(gt=0, le=24 * 60, description="minutes; fractions allowed")]
_Percent = Annotated[float, msgspec.Meta(ge=0, le=100)]
_MaxAttempts = Annotated[int, msgspec.Meta(ge=1, le=100)]
_AnswerString = Annotated[str, msgspec.Meta(max_length=10_000)]
_ExtraMinutes = Annotated[
    int, msgspec.Meta(ge=1, le=600, description="whole minutes added to the attempt's deadline")
]
_Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=1_000, pattern=r"\S")]

AnswerValue = _AnswerString | bool | float | None
"""An answer as sent: text, a boolean (true/false), a number, or null to clear it."""
_Answers = Annotated[dict[RecordId, AnswerValue], msgspec.Meta(max_length=1_000)]


class QuestionIn(Request, frozen=True):
    question_text: _QuestionText
    question_type: QuestionType
    correct_answer: _CorrectAnswer
    options: _Options = []
    points: _Points = 1.0
    explanation: _LongText | None = None


class QuestionCreate(QuestionIn, frozen=True, kw_only=True):
    test_id: int


class QuestionUpdate(Request, frozen=True):
    question_text: _QuestionText | msgspec.UnsetType = msgspec.UNSET
    question_type: QuestionType | msgspec.UnsetType = msgspec.UNSET
    correct_answer: _CorrectAnswer | msgspec.UnsetType = msgspec.UNSET
    options: _Options | msgspec.UnsetType = msgspec.UNSET
    points: _Points | msgspec.UnsetType = msgspec.UNSET
    explanation: _LongText | msgspec.UnsetType | None = msgspec.UNSET
    position: Annotated[int, msgspec.Meta(ge=0)] | msgspec.UnsetType = msgspec.UNSET


class QuestionOut(Response, frozen=True):
    id: int
    test_id: int
    position: int
    question_text: str
    question_type: QuestionType
    options: list[str]
    correct_answer: str
    points: float
    ai_generated: bool
    teacher_edited: bool
    explanation: str | None


class StudentQuestion(Response, frozen=True):
    """A question as a student sees it: no answer, no explanation."""

    id: int
    test_id: int
    question_text: str
    question_type: QuestionType
    options: list[str]
    points: float


class TestCreate(Request, frozen=True):
    title: _Title
    time_limit: _Minutes
    subject: _Subject = ""
    description: _LongText = ""
    passing_score: _Percent = 50.0
    is_published: bool = False
    shuffle_questions: bool = False
    max_attempts: _MaxAttempts = 1
    review_mode: ReviewMode = ReviewMode.SCORE
    proctoring: ProctoringSettings = ProctoringSettings()
    questions: Annotated[list[QuestionIn], msgspec.Meta(max_length=500)] = []


class TestUpdate(Request, frozen=True):
    title: _Title | msgspec.UnsetType = msgspec.UNSET
    time_limit: _Minutes | msgspec.UnsetType = msgspec.UNSET
    subject: _Subject | msgspec.UnsetType = msgspec.UNSET
    description: _LongText | msgspec.UnsetType = msgspec.UNSET
    passing_score: _Percent | msgspec.UnsetType = msgspec.UNSET
    is_published: bool | msgspec.UnsetType = msgspec.UNSET
    shuffle_questions: bool | msgspec.UnsetType = msgspec.UNSET
    max_attempts: _MaxAttempts | msgspec.UnsetType = msgspec.UNSET
    review_mode: ReviewMode | msgspec.UnsetType = msgspec.UNSET
    proctoring: ProctoringSettings | msgspec.UnsetType = msgspec.UNSET


class _TestFields(Response, frozen=True):
    id: int
    teacher_id: int
    title: str
    subject: str
    description: str
    time_limit: float
    passing_score: float
    is_published: bool
    shuffle_questions: bool
    max_attempts: int
    review_mode: ReviewMode
    proctoring: ProctoringSettings
    question_count: int
    created_at: datetime
    updated_at: datetime


# A test goes out in one of two views, told apart by ``view`` (a tag every answer carries), so a
# client and the OpenAPI document know which one an answer is even when its questions are absent.
class TestOut(_TestFields, frozen=True, tag_field="view", tag="staff"):
    """A test as its teacher, admins and auditors see it: questions with their answer key."""

    questions: list[QuestionOut] | None = None


class StudentTestOut(_TestFields, frozen=True, tag_field="view", tag="student"):
    """A test as a student sees it: questions without answers."""

    questions: list[StudentQuestion] | None = None


class StartedAttempt(Response, frozen=True):
    attempt_id: int
    test_id: int
    status: AttemptStatus
    started_at: datetime
    deadline: datetime
    server_time: datetime
    time_limit: float
    questions: list[StudentQuestion]
    answers: dict[int, str]


class AnswersIn(Request, frozen=True):
    answers: _Answers


class AutosaveResult(Response, frozen=True):
    attempt_id: int
    saved: int
    saved_at: datetime
    deadline: datetime


class ExtraTimeIn(Request, frozen=True):
    """Extra time for one attempt in progress: an accommodation, or time lost to an outage."""

    minutes: _ExtraMinutes
    reason: _Reason


class SubmitRequest(Request, frozen=True):
    attempt_id: RecordId
    answers: _Answers | None = None


class SubmitResult(Response, frozen=True):
    """Score fields are null when the test's review mode hides results from students."""

    attempt_id: int
    status: AttemptStatus
    score: float | None
    max_score: float | None
    percent: float | None
    passed: bool | None


class AnswerOut(Response, frozen=True):
    question_id: int
    answer: str | None
    is_correct: bool | None = None
    points_awarded: float | None = None
    correct_answer: str | None = None


class AttemptOut(Response, frozen=True):
    id: int
    test_id: int
    test_title: str
    student_id: int
    student_name: str
    status: AttemptStatus
    started_at: datetime
    deadline: datetime
    submitted_at: datetime | None
    score: float | None
    max_score: float | None
    percent: float | None
    passed: bool | None
    violation_count: int
    suspicion_score: float | None
    end_reason: str | None
    answers: list[AnswerOut]


class _AttemptSummary(Response, frozen=True):
    attempt_id: int
    status: AttemptStatus
    started_at: datetime
    submitted_at: datetime | None
    score: float | None
    max_score: float | None
    percent: float | None
    passed: bool | None
    violation_count: int


class ResultRow(_AttemptSummary, frozen=True):
    """One attempt in a teacher's results for a test."""

    student_id: int
    student_name: str
    student_email: str
    suspicion_score: float
    deadline: datetime | None = None


class StudentHistoryRow(_AttemptSummary, frozen=True):
    """One attempt in a student's history."""

    test_id: int
    test_title: str
