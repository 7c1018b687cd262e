"""What the language-model providers are asked, word for word. JSON in, JSON out."""

from __future__ import annotations

import json
from collections.abc import Sequence

from protolearn.ai.provider import DraftQuestion
from protolearn.ai.retrieval import Passage

__all__ = (
    "EXPLAIN_SYSTEM",
    "GENERATE_SYSTEM",
    "JSON_REPAIR",
    "REFINE_SYSTEM",
    "TUTOR_SYSTEM",
    "explain_request",
    "generate_request",
    "refine_request",
    "tutor_request",
)

_QUESTION_SHAPE = (
    '{"question_text": string, "type": "mcq" | "true_false" | "short_answer", '
    '"options": [string] (mcq only: 4 distinct options; [] otherwise), '
    '"correct_answer": string (mcq: exactly the text of the one correct option; true_false: "true" or '
    '"false"; short_answer: a few words), "explanation": string, "difficulty": "easy" | "medium" | "hard", '
    '"source_passage": string (the sentence or sentences of the material the question rests on, '
    "copied word for word)}"
)

GENERATE_SYSTEM = (
    "You write exam questions for a teacher from their course material, given as Markdown: headings, "
    "lists, tables (a table row is a fact too) and formulas in LaTeX between $ signs (keep them so in "
    "questions and answers). Use only facts the material "
    "states. Every question has exactly one correct answer. Reply with one JSON object and nothing else: "
    f'{{"questions": [{_QUESTION_SHAPE}, ...]}}'
)

REFINE_SYSTEM = (
    "You improve one exam question following the teacher's feedback, keeping it faithful to the course "
    "material. Reply with one JSON object and nothing else: "
    f'{{"question": {_QUESTION_SHAPE}, "changes": [string: what you changed]}}'
)

TUTOR_SYSTEM = (
    "You are a patient tutor for a student. Answer from the course passages given when they are "
    "relevant, and say so when they are not. Explain; do not just state answers. Reply with one JSON "
    'object and nothing else: {"answer": string, "follow_up_questions": [string], '
    '"related_topics": [string]}'
)

EXPLAIN_SYSTEM = (
    "You explain to a student, after their test, why their answer to a question is right or wrong, "
    "using the course passages given. Be brief and kind. Reply with one JSON object and nothing else: "
    '{"explanation": string}'
)

JSON_REPAIR = (
    "Your last reply was not the JSON object asked for ({error}). Reply again with only that JSON "
    "object: no prose, no code fences."
)


def generate_request(
    chunk: str,
    *,
    title: str,
    subject: str,
    part: int,
    parts: int,
    count: int,
    types: Sequence[str],
    difficulty: str,
) -> tuple[str, str]:
    """The user message for one chunk, and the same message without the material (kept on record)."""
    instruction = (
        f"Write {count} questions of these types: {', '.join(types)} (spread evenly), "
        f"difficulty {difficulty}, from the material below: '{title}'"
        + (f", subject {subject}" if subject else "")
        + (f", part {part} of {parts}" if parts > 1 else "")
        + "."
    )
    return f"{instruction}\n\n<material>\n{chunk}\n</material>", instruction


def _passages_block(passages: Sequence[Passage]) -> str:
    if not passages:
        return "(no course passage found)"
    return "\n".join(f'- "{p.title}", page {p.page}: {p.text}' for p in passages)


def refine_request(question: DraftQuestion, feedback: str, passages: Sequence[Passage]) -> str:
    current = json.dumps(
        {
            "question_text": question.question_text,
            "type": question.type,
            "options": question.options,
            "correct_answer": question.correct_answer,
            "explanation": question.explanation,
            "difficulty": question.difficulty,
            "source_passage": question.source_passage,
        },
        ensure_ascii=False,
    )
    return (
        f"Question: {current}\n\nTeacher's feedback: {feedback}\n\n"
        f"Course passages:\n{_passages_block(passages)}"
    )


def tutor_request(question: str, passages: Sequence[Passage], weak_topics: Sequence[str]) -> str:
    weak = f"\n\nTopics the student found hard before: {', '.join(weak_topics)}" if weak_topics else ""
    return f"Student's question: {question}\n\nCourse passages:\n{_passages_block(passages)}{weak}"


def explain_request(
    question: DraftQuestion, student_answer: str, is_correct: bool, passages: Sequence[Passage]
) -> str:
    options = f"\nOptions: {', '.join(question.options)}" if question.options else ""
    return (
        f"Question ({question.type}): {question.question_text}{options}\n"
        f"Correct answer: {question.correct_answer}\n"
        f"Student's answer: {student_answer or '(none)'} - {'correct' if is_correct else 'incorrect'}\n"
        f"Teacher's explanation: {question.explanation or '(none)'}\n\n"
        f"Course passages:\n{_passages_block(passages)}"
    )
