"""Offline refinement: a teacher's feedback ("make it true/false", "harder", "the answer should
be X") read by pattern and applied to the draft with terms from its source passage.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import msgspec

from protolearn.ai.errors import FeedbackNotUnderstood
from protolearn.ai.offline.material import Material, shuffled, term_of
from protolearn.ai.provider import DraftQuestion, Refined
from protolearn.ai.retrieval import Passage
from protolearn.ai.text import TermKind

__all__ = ("refine_offline",)

_INTENTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("to_true_false", re.compile(r"\btrue[\s/-]*(or|/)?[\s-]*false\b|\bt/f\b", re.I)),
    ("to_short_answer", re.compile(r"\bshort[\s-]answer\b|\bfill[\s-]in\b|\bopen[\s-]ended\b", re.I)),
    ("to_mcq", re.compile(r"\bmultiple[\s-]choice\b|\bmcq\b", re.I)),
    ("easier", re.compile(r"\beasier\b|\btoo (hard|difficult)\b|\bsimpler\b", re.I)),
    ("harder", re.compile(r"\bharder\b|\bmore (difficult|challenging)\b|\btoo easy\b", re.I)),
    (
        "more_options",
        re.compile(r"\bmore (options|choices|distractors)\b|\badd (an? )?(option|choice)", re.I),
    ),
    ("fewer_options", re.compile(r"\bfewer (options|choices)\b|\bremove (an? )?(option|choice)", re.I)),
    ("shorter", re.compile(r"\bshorter\b|\bconcise\b|\btoo long\b|\bbrief", re.I)),
    ("explain", re.compile(r"\bexplanation\b|\bexplain\b", re.I)),
)
_NEW_ANSWER = re.compile(
    r"\b(?:correct )?answer (?:should be|is|must be|to)\s+[\"']?(?P<answer>[^\"'.]+)", re.I
)
_UNDERSTOOD = (
    "make it true/false, short answer or multiple choice; easier or harder; more or fewer options; "
    "shorter; add an explanation; 'the answer should be X'"
)


def refine_offline(question: DraftQuestion, feedback: str, passages: Sequence[Passage]) -> Refined:
    intents = [name for name, pattern in _INTENTS if pattern.search(feedback)]
    new_answer = _NEW_ANSWER.search(feedback)
    if not intents and new_answer is None:
        raise FeedbackNotUnderstood(
            f"the offline assistant did not understand this feedback; it understands: {_UNDERSTOOD}"
        )
    source = question.source_passage or (passages[0].text if passages else "")
    material = Material.of(" ".join([source, *(p.text for p in passages)]))
    draft = msgspec.structs.replace(question, options=list(question.options))  # a copy to change
    changes: list[str] = []
    if new_answer is not None:
        _set_answer(draft, new_answer.group("answer").strip(), changes)
    for intent in intents:
        _apply_intent(intent, draft, material, source, changes)
    if not changes:
        raise FeedbackNotUnderstood(
            "the offline assistant understood the feedback but could not apply it to this question "
            f"(a {question.type} question); it understands: {_UNDERSTOOD}"
        )
    return Refined(question=draft, changes=changes, prompt=f"offline refine: {feedback}")


def _set_answer(draft: DraftQuestion, answer: str, changes: list[str]) -> None:
    if draft.type == "mcq" and answer not in draft.options:
        old = str(draft.correct_answer)
        draft.options = [answer if o == old else o for o in draft.options]
    draft.correct_answer = answer
    changes.append(f"answer set to {answer!r}")


def _apply_intent(
    intent: str, draft: DraftQuestion, material: Material, source: str, changes: list[str]
) -> None:
    answer = str(draft.correct_answer)
    match intent, draft.type:
        case "to_true_false", t if t != "true_false" and source:
            draft.type, draft.question_text = "true_false", f"True or false: {source}"
            draft.options, draft.correct_answer = ["true", "false"], "true"
            changes.append("made a true/false statement from the source passage")
        case ("to_short_answer", "mcq") | ("harder", "mcq"):
            draft.type, draft.options = "short_answer", []
            draft.question_text = draft.question_text.replace(
                "Which answer completes the statement?", "Fill in the blank:"
            )
            changes.append("asked for the answer without options (short answer)")
        case ("to_mcq", "short_answer") | ("easier", "short_answer") | ("more_options", "short_answer"):
            distractors = _distractors_for(material, answer, source)
            if len(distractors) >= 2:
                draft.type, draft.options = "mcq", shuffled([answer, *distractors], draft.question_text)
                draft.question_text = draft.question_text.replace(
                    "Fill in the blank:", "Which answer completes the statement?"
                )
                changes.append(f"offered {len(distractors) + 1} options from the material's key terms")
        case "easier", "mcq" if len(draft.options) > 3:
            removed = next(o for o in reversed(draft.options) if o != answer)
            draft.options.remove(removed)
            changes.append(f"removed the option {removed!r}")
        case "fewer_options", "mcq" if len(draft.options) > 2:
            removed = next(o for o in reversed(draft.options) if o != answer)
            draft.options.remove(removed)
            changes.append(f"removed the option {removed!r}")
        case "more_options", "mcq":
            extra = [d for d in _distractors_for(material, answer, source, limit=6) if d not in draft.options]
            if extra:
                draft.options.append(extra[0])
                changes.append(f"added the option {extra[0]!r}")
        case "shorter", _:
            shorter = re.sub(r"\s*\([^)]*\)", "", draft.question_text)
            shorter = re.sub(r"^(according to the material,?\s*)", "", shorter, flags=re.I)
            if shorter != draft.question_text:
                draft.question_text = shorter
                changes.append("shortened the question")
        case "explain", _ if source:
            draft.explanation = f"The material says: {source}"
            changes.append("explained the answer with the source passage")


def _distractors_for(material: Material, answer: str, source: str, limit: int = 3) -> list[str]:
    term = term_of(material, answer)
    kind = (
        term.kind
        if term
        else (TermKind.YEAR if re.fullmatch(r"1\d{3}|20\d{2}", answer) else TermKind.CONCEPT)
    )
    return material.distractors(answer, kind, avoid=source, near=0, limit=limit)
