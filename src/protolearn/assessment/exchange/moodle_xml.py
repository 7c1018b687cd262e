"""Moodle XML (``<quiz><question type="...">``): read what Moodle exports, write what it imports.

Files come from outside, so they are parsed with entity declarations and external references
refused (no billion laughs, no reading local files).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as parse_untrusted

from protolearn.assessment.exchange.drafts import (
    Collected,
    QuestionRefused,
    build_question,
    format_points,
    item_label,
    parse_points,
)
from protolearn.assessment.exchange.errors import UnreadableFile
from protolearn.assessment.exchange.markup import plain_text
from protolearn.assessment.schemas import QuestionIn
from protolearn.assessment.scoring import parse_truth
from protolearn.store.tests import QuestionType

__all__ = ("read_moodle_xml", "write_moodle_xml")

_FULL_MARKS = 100.0
_FRACTION_TOLERANCE = 1e-4  # Moodle writes fractions like 33.33333
_TYPE_OF = {
    "multichoice": QuestionType.MCQ,
    "truefalse": QuestionType.TRUE_FALSE,
    "shortanswer": QuestionType.SHORT_ANSWER,
}
_MOODLE_TYPE = {kind: name for name, kind in _TYPE_OF.items()}
_HELD = "ProtoLearn holds multiple-choice (one right answer), true/false and short-answer questions"


def read_moodle_xml(data: bytes) -> Collected:
    try:
        root = parse_untrusted(data)
    except DefusedXmlException as exc:
        raise UnreadableFile(
            "the file declares XML entities or external references, which are refused; "
            "export it from Moodle again"
        ) from exc
    except ET.ParseError as exc:
        raise UnreadableFile(f"the file is not well-formed XML ({exc})") from exc
    except (LookupError, ValueError) as exc:  # an unknown or multi-byte declared encoding
        raise UnreadableFile(
            f"the file's declared encoding cannot be read ({exc}); save it as UTF-8"
        ) from exc
    if root.tag != "quiz":
        raise UnreadableFile(f"a Moodle XML file has a <quiz> root element; this one has <{root.tag}>")
    collected = Collected()
    for element in root.findall("question"):
        moodle_type = (element.get("type") or "").strip()
        if moodle_type == "category":
            continue  # where Moodle files the questions that follow; nothing to hold
        if not collected.count_question():
            continue
        number = collected.seen
        text = _rich_text(element.find("questiontext"), default_format="html")
        name = " ".join((element.findtext("name/text") or "").split())
        kind = _TYPE_OF.get(moodle_type)
        if kind is None:
            collected.skip(
                item_label(number, name or text, f"Moodle type {moodle_type or 'unnamed'}"),
                f"Moodle's {moodle_type or 'unnamed'} questions cannot be held: {_HELD}.",
            )
            continue
        try:
            collected.drafts.append(_question(element, kind, text))
        except QuestionRefused as refused:
            collected.skip(item_label(number, name or text), refused.reason)
    collected.close()
    return collected


def _question(element: ET.Element, kind: QuestionType, text: str) -> QuestionIn:
    answers = [(_fraction(answer), _rich_text(answer)) for answer in element.findall("answer")]
    right_at = [
        i for i, (fraction, _) in enumerate(answers) if abs(fraction - _FULL_MARKS) < _FRACTION_TOLERANCE
    ]
    right = [answers[i][1] for i in right_at]
    points = parse_points(element.findtext("defaultgrade"))
    explanation = _rich_text(element.find("generalfeedback"))
    match kind:
        case QuestionType.MCQ:
            single = (element.findtext("single") or "true").strip().casefold()
            if single in ("false", "0"):
                raise QuestionRefused(
                    "It accepts several answers at once (Moodle's 'multiple answers allowed'); "
                    "a ProtoLearn multiple-choice question has exactly one right answer."
                )
            _refuse_partial_credit(answers)
            if len(right) > 1:
                raise QuestionRefused("More than one answer gets full marks; ProtoLearn allows one.")
            options = [answer for _, answer in answers]
        case QuestionType.TRUE_FALSE:
            options = []
            if right:
                truth = parse_truth(right[0])
                if truth is None:  # a translated word: Moodle writes the true answer first
                    truth = right_at[0] == 0
                right = ["true" if truth else "false"]
        case QuestionType.SHORT_ANSWER:
            options = []
            if right and "*" in right[0]:
                raise QuestionRefused(
                    f"Its answer {right[0]!r} uses Moodle's * wildcard, which ProtoLearn does not match."
                )
    if not right:
        raise QuestionRefused("No answer gets full marks (fraction 100), so there is no right answer.")
    return build_question(
        question_text=text,
        question_type=kind,
        options=options,
        correct_answer=right[0],
        points=points,
        explanation=explanation,
    )


def _fraction(answer: ET.Element) -> float:
    raw = answer.get("fraction", "0")
    try:
        return float(raw)
    except ValueError:
        raise QuestionRefused(f"An answer's fraction {raw!r} is not a number.") from None


def _refuse_partial_credit(answers: list[tuple[float, str]]) -> None:
    for fraction, answer in answers:
        if _FRACTION_TOLERANCE < fraction < _FULL_MARKS - _FRACTION_TOLERANCE:
            raise QuestionRefused(
                f"It gives partial credit ({fraction:g}%) for {answer!r}; "
                "ProtoLearn marks an answer right or wrong."
            )


def _rich_text(element: ET.Element | None, default_format: str = "plain_text") -> str:
    """The plain text of an element holding ``<text>`` in its ``format`` (question, answer, feedback)."""
    if element is None:
        return ""
    return plain_text(element.findtext("text"), element.get("format", default_format))


# --- writing ------------------------------------------------------------------------------------


def write_moodle_xml(questions: Sequence[QuestionIn], *, category: str = "") -> bytes:
    """A ``<quiz>`` Moodle imports, texts as ``plain_text`` so nothing in them is taken for HTML."""
    quiz = ET.Element("quiz")
    if category.strip():
        element = ET.SubElement(quiz, "question", type="category")
        _text(ET.SubElement(element, "category"), "$course$/top/" + category.strip().replace("/", "//"))
    for question in questions:
        element = ET.SubElement(quiz, "question", type=_MOODLE_TYPE[question.question_type])
        _text(ET.SubElement(element, "name"), _name(question.question_text))
        _text(ET.SubElement(element, "questiontext", format="plain_text"), question.question_text)
        _text(ET.SubElement(element, "generalfeedback", format="plain_text"), question.explanation or "")
        ET.SubElement(element, "defaultgrade").text = format_points(question.points)
        ET.SubElement(element, "penalty").text = "0"
        ET.SubElement(element, "hidden").text = "0"
        match question.question_type:
            case QuestionType.MCQ:
                ET.SubElement(element, "single").text = "true"
                ET.SubElement(element, "shuffleanswers").text = "false"  # keep the teacher's order
                ET.SubElement(element, "answernumbering").text = "abc"
                for option in question.options:
                    _answer(element, option, right=option == question.correct_answer)
            case QuestionType.TRUE_FALSE:
                for word in ("true", "false"):
                    _answer(element, word, right=word == question.correct_answer)
            case QuestionType.SHORT_ANSWER:
                ET.SubElement(element, "usecase").text = "0"
                _answer(element, question.correct_answer, right=True)
    ET.indent(quiz)
    document: bytes = ET.tostring(quiz, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def _answer(question: ET.Element, text: str, *, right: bool) -> None:
    answer = ET.SubElement(question, "answer", fraction="100" if right else "0", format="plain_text")
    _text(answer, text)
    _text(ET.SubElement(answer, "feedback", format="plain_text"), "")


def _text(parent: ET.Element, text: str) -> None:
    ET.SubElement(parent, "text").text = text


def _name(question_text: str) -> str:
    name = " ".join(question_text.split())
    return name if len(name) <= 60 else name[:59].rstrip() + "…"
