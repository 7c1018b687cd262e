"""Wire types of AI authoring and tutoring (``/api/ai``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from protolearn.ai.ocr import PageProvider
from protolearn.ai.validation import Rejection
from protolearn.assessment.schemas import AnswerValue, QuestionOut
from protolearn.store.materials import MaterialStatus
from protolearn.store.tests import QuestionType
from protolearn.wire import RecordId, Request, Response

__all__ = (
    "AiHealth",
    "Difficulty",
    "ExplainRequest",
    "ExplainResult",
    "GenerateRequest",
    "GenerateResult",
    "GeneratedQuestion",
    "LearningResource",
    "MaterialOut",
    "MaterialPage",
    "MaterialSummary",
    "ProviderStatsOut",
    "RefineRequest",
    "RefineResult",
    "TutorContext",
    "TutorRequest",
    "TutorResult",
)

Difficulty = Literal["easy", "medium", "hard"]
_Feedback = Annotated[str, msgspec.Meta(min_length=1, max_length=2_000, pattern=r"\S")]
_Asked = Annotated[str, msgspec.Meta(min_length=1, max_length=2_000, pattern=r"\S")]


class MaterialSummary(Response, frozen=True):
    material_id: int
    title: str
    subject: str
    filename: str
    content_type: str
    size_bytes: int
    status: MaterialStatus
    progress: float  # 0..1 while processing
    error: str | None
    page_count: int
    ocr_pages: int
    ocr_confidence: float | None
    text_chars: int
    created_at: datetime


class MaterialPage(Response, frozen=True):
    """Where one page's text came from."""

    page: int
    provider: PageProvider
    model: str  # the vision model's name, else ""
    ocr_confidence: float | None
    note: str  # why the page was not read as configured, else ""


class MaterialOut(MaterialSummary, frozen=True):
    extracted_text: str  # pages separated by form feeds
    # The same pages as Markdown: headings, lists, pipe tables, formulas in LaTeX between $ signs.
    extracted_markdown: str
    pages: list[MaterialPage]


class GenerateRequest(Request, frozen=True):
    material_id: RecordId
    num_questions: Annotated[int, msgspec.Meta(ge=1, le=50)] = 10
    question_types: Annotated[list[QuestionType], msgspec.Meta(min_length=1, max_length=3)] = msgspec.field(
        default_factory=lambda: list(QuestionType)
    )
    difficulty: Difficulty = "medium"
    # The unpublished test to add the questions to; without it a new draft test is made.
    test_id: RecordId | None = None


class GeneratedQuestion(QuestionOut, frozen=True):
    source_passage: str
    difficulty: str


class GenerateResult(Response, frozen=True):
    test_id: int
    questions: list[GeneratedQuestion]
    requested: int
    dropped: list[Rejection]
    generation_time: float  # seconds
    provider: str
    model: str


class RefineRequest(Request, frozen=True):
    question_id: RecordId
    feedback: _Feedback


class RefineResult(Response, frozen=True):
    refined_question: QuestionOut
    changes: list[str]
    source_passage: str | None
    provider: str
    model: str


class TutorContext(Request, frozen=True):
    test_id: RecordId | None = None
    subject: Annotated[str, msgspec.Meta(max_length=100)] | None = None


class TutorRequest(Request, frozen=True):
    question: _Asked
    context: TutorContext = TutorContext()


class LearningResource(Response, frozen=True):
    material_id: int
    title: str
    page: int
    passage: str


class TutorResult(Response, frozen=True):
    answer: str
    follow_up_questions: list[str]
    related_topics: list[str]
    sources: list[LearningResource]
    provider: str
    model: str


class ExplainRequest(Request, frozen=True):
    question_id: RecordId
    student_answer: AnswerValue


class ExplainResult(Response, frozen=True):
    explanation: str
    is_correct: bool
    correct_answer: str
    learning_resources: list[LearningResource]
    provider: str
    model: str


class ProviderStatsOut(Response, frozen=True):
    calls: int
    errors: int
    error_rate: float
    last_latency_ms: float | None
    p50_latency_ms: float | None
    p95_latency_ms: float | None
    by_operation: dict[str, int]
    last_error: str | None
    last_error_at: datetime | None


class AiHealth(Response, frozen=True):
    provider: str
    model: str
    reachable: bool
    last_latency_ms: float | None
    error_rate: float
    providers: dict[str, ProviderStatsOut]
