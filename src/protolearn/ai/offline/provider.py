"""The offline provider: the embedded default, no network and no model."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from protolearn.ai.offline.generation import generate_offline
from protolearn.ai.offline.refinement import refine_offline
from protolearn.ai.offline.tutoring import explain_offline, tutor_offline
from protolearn.ai.provider import DraftQuestion, Generated, GenerationSpec, Refined, TutorReply
from protolearn.ai.retrieval import Passage

__all__ = ("OFFLINE_MODEL", "OfflineProvider")

OFFLINE_MODEL = "offline-extractive-1"


class OfflineProvider:
    """The embedded default; CPU work runs on a thread so the event loop stays free."""

    name = "offline"
    model = OFFLINE_MODEL

    async def generate(self, spec: GenerationSpec) -> Generated:
        return await asyncio.to_thread(generate_offline, spec)

    async def refine(self, question: DraftQuestion, feedback: str, passages: Sequence[Passage]) -> Refined:
        return await asyncio.to_thread(refine_offline, question, feedback, passages)

    async def tutor(
        self, question: str, passages: Sequence[Passage], weak_topics: Sequence[str]
    ) -> TutorReply:
        return await asyncio.to_thread(tutor_offline, question, passages, weak_topics)

    async def explain(
        self, question: DraftQuestion, student_answer: str, is_correct: bool, passages: Sequence[Passage]
    ) -> str:
        return explain_offline(question, student_answer, is_correct, passages)

    async def probe(self) -> bool:
        return True

    async def close(self) -> None:
        return None
