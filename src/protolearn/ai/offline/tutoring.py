"""Offline tutoring and explanations: answers quoted from the retrieved passages, follow-up
questions from their key terms; nothing is made up.
"""

from __future__ import annotations

from collections.abc import Sequence

from protolearn.ai.offline.material import Material
from protolearn.ai.provider import DraftQuestion, TutorReply
from protolearn.ai.retrieval import Passage
from protolearn.ai.text import TermKind, content_words, stem

__all__ = ("explain_offline", "tutor_offline")


def tutor_offline(question: str, passages: Sequence[Passage], weak_topics: Sequence[str]) -> TutorReply:
    if not passages:
        answer = (
            "I could not find this in the course materials. Try naming the topic the way your "
            "teacher's material does, or ask your teacher."
        )
        return TutorReply(answer=answer, follow_up_questions=[], related_topics=list(weak_topics)[:5])
    quoted = " ".join(f"From \u201c{p.title}\u201d, page {p.page}: {p.text}" for p in passages[:2])
    asked = set(content_words(question))
    material = Material.of("\n\n".join(p.text for p in passages))
    topics = [
        t.text
        for t in material.terms
        if t.kind in (TermKind.CONCEPT, TermKind.PROPER) and stem(t.key.split()[-1]) not in asked
    ]
    follow_up = [f"What is {topics[0]}?"] if topics else []
    if len(topics) >= 2:
        follow_up.append(f"How is {topics[0]} related to {topics[1]}?")
    follow_up.append("Can you explain this in your own words, with an example?")
    related = list(dict.fromkeys([*topics[:4], *weak_topics]))[:6]
    return TutorReply(answer=quoted, follow_up_questions=follow_up, related_topics=related)


def explain_offline(
    question: DraftQuestion, student_answer: str, is_correct: bool, passages: Sequence[Passage]
) -> str:
    given = student_answer.strip() or "no answer"
    parts = [
        f"Your answer \u201c{given}\u201d is {'correct' if is_correct else 'not correct'}.",
    ]
    if not is_correct:
        parts.append(f"The correct answer is \u201c{question.correct_answer}\u201d.")
    if question.explanation:
        parts.append(question.explanation)
    if passages:
        best = passages[0]
        parts.append(f"See \u201c{best.title}\u201d, page {best.page}: {best.text}")
    return " ".join(parts)
