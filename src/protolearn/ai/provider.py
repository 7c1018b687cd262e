"""The one interface every AI provider implements, and the drafts they hand back.

A provider writes; it never stores or decides what is valid: ``validation.py`` checks every
draft, ``service.py`` stores the survivors. Providers: ``offline.py`` (no network, the
default), ``chat.py`` (Groq and any OpenAI-compatible server).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import msgspec

from protolearn.ai.retrieval import Passage

__all__ = (
    "DraftQuestion",
    "Generated",
    "GenerationSpec",
    "QuestionProvider",
    "Refined",
    "TutorReply",
)


class DraftQuestion(msgspec.Struct, kw_only=True):
    """A question as a provider proposes it: the original design's fields plus its source.

    Lenient on purpose (a model may send ``true`` or ``2`` as an answer, or ``multiple_choice`` as
    a type): ``validation.py`` normalises or drops it.
    """

    question_text: str
    type: str
    correct_answer: str | bool | int | float
    options: list[str] = []
    explanation: str = ""
    difficulty: str = "medium"
    source_passage: str = ""


class GenerationSpec(msgspec.Struct, frozen=True, kw_only=True):
    material_text: str
    # The same material as Markdown (tables, headings, formulas): what a language model reads.
    material_markdown: str = ""
    title: str
    subject: str
    count: int  # drafts to write, margin for what validation drops included: providers add none
    question_types: tuple[str, ...]
    difficulty: str


class Generated(msgspec.Struct, kw_only=True):
    drafts: list[DraftQuestion]
    prompt: str  # what the provider was asked, kept with each question (ai_gen_questions)
    unreadable: int = 0  # drafts the provider sent that were not even question-shaped


class Refined(msgspec.Struct, kw_only=True):
    question: DraftQuestion
    changes: list[str]
    prompt: str


class TutorReply(msgspec.Struct, kw_only=True):
    answer: str
    follow_up_questions: list[str]
    related_topics: list[str]


class QuestionProvider(Protocol):
    """What the service asks of a provider; every method may raise ``ProviderError``."""

    @property
    def name(self) -> str: ...

    @property
    def model(self) -> str: ...

    async def generate(self, spec: GenerationSpec) -> Generated: ...

    async def refine(
        self, question: DraftQuestion, feedback: str, passages: Sequence[Passage]
    ) -> Refined: ...

    async def tutor(
        self, question: str, passages: Sequence[Passage], weak_topics: Sequence[str]
    ) -> TutorReply: ...

    async def explain(
        self, question: DraftQuestion, student_answer: str, is_correct: bool, passages: Sequence[Passage]
    ) -> str: ...

    async def probe(self) -> bool:
        """Whether the provider answers now (a cheap request; no generation)."""
        ...

    async def close(self) -> None: ...
