"""Checking what a provider wrote before a teacher sees it: repair what can be, drop the rest.

Every draft must have a type that was asked for, a question, an answer key that the question
type can score (for multiple choice: one of the options, exactly once, options distinct), no
near-duplicate among the set or the test's existing questions, and a source passage that is
quoted from the material (found in it, allowing for spacing, case and quote marks; a close
paraphrase of one sentence is replaced by that sentence).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import msgspec

from protolearn.ai.provider import DraftQuestion
from protolearn.ai.text import Sentence, clean_text, matchable, split_sentences
from protolearn.assessment.authoring import checked_question_fields
from protolearn.assessment.errors import InvalidQuestion
from protolearn.assessment.scoring import answer_text, normalize_text
from protolearn.store.tests import QuestionType

__all__ = ("Checked", "Rejection", "SourceMatcher", "check_drafts")

_TYPE_NAMES = {
    "mcq": QuestionType.MCQ,
    "multiple_choice": QuestionType.MCQ,
    "multiple-choice": QuestionType.MCQ,
    "multiplechoice": QuestionType.MCQ,
    "choice": QuestionType.MCQ,
    "true_false": QuestionType.TRUE_FALSE,
    "true/false": QuestionType.TRUE_FALSE,
    "truefalse": QuestionType.TRUE_FALSE,
    "boolean": QuestionType.TRUE_FALSE,
    "short_answer": QuestionType.SHORT_ANSWER,
    "short answer": QuestionType.SHORT_ANSWER,
    "short-answer": QuestionType.SHORT_ANSWER,
    "fill_in_the_blank": QuestionType.SHORT_ANSWER,
    "open": QuestionType.SHORT_ANSWER,
}
_DIFFICULTIES = ("easy", "medium", "hard")
_NUMBERING = re.compile(r"^\s*(?:q(?:uestion)?\s*)?\d+\s*[.):]\s*", re.I)
_OPTION_LABEL = re.compile(r"^\s*(?:\(?[A-Fa-f][).:]|[A-Fa-f]\s*[-\u2013]\s)\s*")
_LETTER_ANSWER = re.compile(r"^\s*(?:option\s+)?\(?([A-Fa-f])\)?[.):]?\s*$", re.I)
_MAX_OPTIONS = 6
_MAX_SHORT_ANSWER_WORDS = 12
_DUPLICATE_RATIO = 0.88
_PARAPHRASE_RATIO = 0.85


class Rejection(msgspec.Struct, frozen=True, kw_only=True):
    question_text: str
    reason: str


@dataclass(frozen=True, slots=True)
class Checked:
    """A draft that passed, in the form it will be stored."""

    question_text: str
    question_type: QuestionType
    options: list[str]
    correct_answer: str
    explanation: str | None
    difficulty: str
    source_passage: str
    repairs: tuple[str, ...]


class SourceMatcher:
    """Finds a quoted passage in the material, or the one sentence it closely paraphrases. A
    passage quoted from the material's Markdown (a table row, a heading) is found there."""

    def __init__(self, material_text: str, material_markdown: str = "") -> None:
        self._haystack = matchable(material_text)
        self._markdown = matchable(material_markdown.replace("|", " "))
        self._sentences: list[Sentence] = split_sentences(clean_text(material_text))
        self._matchable = [matchable(s.text) for s in self._sentences]

    def find(self, passage: str) -> str | None:
        """The passage as the material has it, or None when it is not from the material."""
        needle = matchable(passage).strip(" .")
        if len(needle) < 12:
            return None
        if needle in self._haystack or (self._markdown and needle in self._markdown):
            return passage.strip()
        best, best_ratio = None, 0.0
        for sentence, candidate in zip(self._sentences, self._matchable, strict=True):
            matcher = difflib.SequenceMatcher(None, needle, candidate, autojunk=False)
            if matcher.real_quick_ratio() < _PARAPHRASE_RATIO or matcher.quick_ratio() < _PARAPHRASE_RATIO:
                continue
            ratio = matcher.ratio()
            if ratio > best_ratio:
                best, best_ratio = sentence.text, ratio
        return best if best_ratio >= _PARAPHRASE_RATIO else None


def check_drafts(
    drafts: Iterable[DraftQuestion],
    *,
    material: SourceMatcher,
    wanted_types: Sequence[QuestionType],
    existing_questions: Sequence[str] = (),
    require_source: bool = True,
) -> tuple[list[Checked], list[Rejection]]:
    """The drafts that pass (repaired where they could be), and why each other one was dropped.

    ``require_source=False`` is for refining a hand-written question that no material backs.
    """
    accepted: list[Checked] = []
    rejected: list[Rejection] = []
    seen = [normalize_text(q) for q in existing_questions]
    for draft in drafts:
        try:
            checked = _check(draft, material, wanted_types, require_source)
        except InvalidQuestion as exc:
            rejected.append(Rejection(question_text=draft.question_text[:300], reason=exc.detail))
            continue
        normalized = normalize_text(checked.question_text)
        if any(_near_duplicate(normalized, other) for other in seen):
            rejected.append(
                Rejection(
                    question_text=checked.question_text[:300], reason="near-duplicate of another question"
                )
            )
            continue
        seen.append(normalized)
        accepted.append(checked)
    return accepted, rejected


def _near_duplicate(a: str, b: str) -> bool:
    if a == b:
        return True
    words_a, words_b = set(a.split()), set(b.split())
    if words_a and words_b and len(words_a & words_b) / len(words_a | words_b) >= _DUPLICATE_RATIO:
        return True
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return matcher.quick_ratio() >= _DUPLICATE_RATIO and matcher.ratio() >= _DUPLICATE_RATIO


def _check(
    draft: DraftQuestion, material: SourceMatcher, wanted: Sequence[QuestionType], require_source: bool
) -> Checked:
    repairs: list[str] = []
    question_type = _TYPE_NAMES.get(draft.type.strip().casefold().replace(" ", "_")) or _TYPE_NAMES.get(
        draft.type.strip().casefold()
    )
    if question_type is None:
        raise InvalidQuestion(f"unknown question type {draft.type!r}")
    if question_type not in wanted:
        raise InvalidQuestion(f"a {question_type.value} question was not asked for")
    text = _NUMBERING.sub("", draft.question_text).strip()
    if len(text) < 8:
        raise InvalidQuestion("the question text is missing or too short")
    if len(text) > 2_000:
        raise InvalidQuestion("the question text is too long")
    answer = (answer_text(draft.correct_answer) or "").strip()
    options = [o.strip() for o in draft.options]
    match question_type:
        case QuestionType.MCQ:
            options, answer = _check_options(options, answer, repairs)
        case QuestionType.TRUE_FALSE:
            if options and [o.casefold() for o in options] != ["true", "false"]:
                repairs.append("options of a true/false question reset to true, false")
            options = []
        case QuestionType.SHORT_ANSWER:
            if options:
                repairs.append("options dropped from a short-answer question")
                options = []
            if len(answer.split()) > _MAX_SHORT_ANSWER_WORDS:
                raise InvalidQuestion("the short answer is too long to be marked automatically")
    if not answer:
        raise InvalidQuestion("the answer key is missing")
    options, answer = checked_question_fields(question_type, options, answer)
    source = material.find(draft.source_passage) if draft.source_passage.strip() else None
    if source is None and require_source:
        if not draft.source_passage.strip():
            raise InvalidQuestion("the supporting passage is missing")
        raise InvalidQuestion("the supporting passage is not in the material")
    if source is not None and matchable(source) != matchable(draft.source_passage):
        repairs.append("source passage replaced by the material's own sentence")
    difficulty = draft.difficulty.strip().casefold()
    return Checked(
        question_text=text,
        question_type=question_type,
        options=options,
        correct_answer=answer,
        explanation=draft.explanation.strip() or None,
        difficulty=difficulty if difficulty in _DIFFICULTIES else "medium",
        source_passage=source or "",
        repairs=tuple(repairs),
    )


def _check_options(options: list[str], answer: str, repairs: list[str]) -> tuple[list[str], str]:
    labelled = [_OPTION_LABEL.sub("", o) for o in options]
    if labelled != options and all(labelled):
        repairs.append("option labels (A, B, ...) removed")
        options = labelled
    distinct: list[str] = []
    for option in options:
        if option and normalize_text(option) not in {normalize_text(o) for o in distinct}:
            distinct.append(option)
    if len(distinct) != len(options):
        repairs.append("duplicate options removed")
    options = distinct
    if answer not in options:
        letter = _LETTER_ANSWER.match(answer)
        same = [o for o in options if normalize_text(o) == normalize_text(_OPTION_LABEL.sub("", answer))]
        if letter and ord(letter.group(1).upper()) - ord("A") < len(options):
            answer = options[ord(letter.group(1).upper()) - ord("A")]
            repairs.append("answer key given as a letter, mapped to its option")
        elif len(same) == 1:
            answer = same[0]
            repairs.append("answer key matched to its option's exact text")
        else:
            raise InvalidQuestion("the answer key is not one of the options")
    if len(options) > _MAX_OPTIONS:
        kept = {answer, *[o for o in options if o != answer][: _MAX_OPTIONS - 1]}
        options = [o for o in options if o in kept]
        repairs.append(f"options cut to {_MAX_OPTIONS}")
    if len(options) < 3:
        raise InvalidQuestion("a multiple-choice question needs at least three distinct options")
    return options, answer
