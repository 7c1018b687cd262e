"""GIFT, Moodle's text format: one question per paragraph, answers in braces.

GIFT has no points, so ProtoLearn writes a ``// points: N`` comment before each question and
reads it back (1 point without one); other comments are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

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
from protolearn.store.tests import QuestionType

__all__ = ("read_gift", "write_gift")

# Escaped special characters stand in as private-use characters while the structure is parsed.
_SPECIAL = "~=#{}:\\"
_PLACEHOLDER = {char: chr(0xE000 + i) for i, char in enumerate(_SPECIAL)}
_RESTORE = str.maketrans({stand_in: char for char, stand_in in _PLACEHOLDER.items()})
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_POINTS_COMMENT = re.compile(r"^//\s*points\s*:\s*(.*?)\s*$", re.IGNORECASE)
_FORMAT = re.compile(r"^\s*\[(html|moodle|plain|markdown)\]", re.IGNORECASE)
_TRUE_FALSE = re.compile(r"^(T|TRUE|F|FALSE)\s*(#.*)?$", re.IGNORECASE | re.DOTALL)
_ANSWER = re.compile(r"([=~])([^=~]*)")
_WEIGHT = re.compile(r"^\s*%(-?\d+(?:\.\d+)?)%")
_MOODLE_FORMAT = {
    "html": "html",
    "moodle": "moodle_auto_format",
    "plain": "plain_text",
    "markdown": "markdown",
}
_BLANK = "_____"


class _Unsupported(QuestionRefused):
    """A kind of GIFT question ProtoLearn cannot hold; ``kind`` names it in the skipped item."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind


def read_gift(data: bytes) -> Collected:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile("the GIFT file is not UTF-8 text; save it as UTF-8") from exc
    collected = Collected()
    points: str | None = None  # from a "// points:" comment, for the next question
    for block in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
        lines = []
        for line in block.split("\n"):
            stripped = line.strip()
            if stripped.startswith("//"):
                if found := _POINTS_COMMENT.match(stripped):
                    points = found[1]
            elif not stripped.startswith("$CATEGORY:"):
                lines.append(line)
        source = "\n".join(lines).strip()
        if not source:
            continue
        question_points, points = points, None
        if not collected.count_question():
            continue
        _read_question(source, question_points, collected)
    collected.close()
    return collected


def _read_question(source: str, points: str | None, collected: Collected) -> None:
    number = collected.seen
    source = _ESCAPE.sub(lambda m: _PLACEHOLDER.get(m[1], "\n" if m[1] == "n" else m[0]), source)
    title = ""
    if source.startswith("::"):
        end = source.find("::", 2)
        if end < 0:
            collected.skip(item_label(number, _restore(source)), "Its title is not closed with '::'.")
            return
        title, source = _restore(source[2:end]).strip(), source[end + 2 :].lstrip()
    text_format = "plain_text"
    if found := _FORMAT.match(source):
        text_format, source = _MOODLE_FORMAT[found[1].lower()], source[found.end() :]
    start = source.find("{")
    end = source.find("}", start + 1)
    before = source if start < 0 else source[:start]
    label_text = title or plain_text(_restore(before), text_format)
    try:
        if start < 0:
            raise _Unsupported(
                "GIFT description", "It has no answer in braces { }, so it is a description, not a question."
            )
        if end < 0:
            raise QuestionRefused("Its answer block is not closed with '}'.")
        after = source[end + 1 :].strip()
        question_text = _restore(before.rstrip() + (f" {_BLANK} {after}" if after else ""))
        collected.drafts.append(_question(question_text, source[start + 1 : end], points, text_format))
    except _Unsupported as refused:
        collected.skip(item_label(number, label_text, refused.kind), refused.reason)
    except QuestionRefused as refused:
        collected.skip(item_label(number, label_text), refused.reason)


def _question(source_text: str, answer_block: str, points_text: str | None, text_format: str) -> QuestionIn:
    """One question; its answers and feedback are in the question's format unless they name their own."""
    text = plain_text(source_text, text_format)
    points = parse_points(points_text)
    answers, _, general_feedback = answer_block.partition("####")
    explanation = _rich_text(general_feedback, text_format) or None
    answers = answers.strip()
    if not answers:
        raise _Unsupported("GIFT essay", "Essay questions (empty braces {}) cannot be held in ProtoLearn.")
    if answers.startswith("#"):
        raise _Unsupported("GIFT numerical", "Numerical questions ({#...}) cannot be held in ProtoLearn.")
    if found := _TRUE_FALSE.match(answers):
        truth = found[1].upper().startswith("T")
        return build_question(
            question_text=text,
            question_type=QuestionType.TRUE_FALSE,
            options=[],
            correct_answer="true" if truth else "false",
            points=points,
            explanation=explanation,
        )
    if "->" in answers and "~" not in answers:  # as Moodle tells them apart: only choices have ~
        raise _Unsupported("GIFT matching", "Matching questions (a -> b) cannot be held in ProtoLearn.")
    marks = _ANSWER.findall(answers)
    if not marks or answers[: answers.find(marks[0][0])].strip():
        raise QuestionRefused("Its answers could not be read: each one starts with = (right) or ~ (wrong).")
    choices: list[tuple[bool, str]] = []
    for mark, body in marks:
        right = mark == "="
        if weight := _WEIGHT.match(body):
            percent = float(weight[1])
            if not (percent == 0 and mark == "~") and percent != 100:
                raise _Unsupported(
                    "GIFT weighted answers",
                    f"It gives partial credit ({percent:g}%) to an answer; "
                    "ProtoLearn marks an answer right or wrong.",
                )
            right = percent == 100
            body = body[weight.end() :]
        answer_text, _, _feedback = body.partition("#")  # per-answer feedback is not held
        choices.append((right, _rich_text(answer_text, text_format)))
    right_answers = [answer for right, answer in choices if right]
    if all(mark == "=" for mark, _ in marks):
        # Several "=" and no "~" is a short answer with alternatives; the first is the key.
        return build_question(
            question_text=text,
            question_type=QuestionType.SHORT_ANSWER,
            options=[],
            correct_answer=right_answers[0],
            points=points,
            explanation=explanation,
        )
    if not right_answers:
        raise QuestionRefused("None of its answers is marked right with =.")
    if len(right_answers) > 1:
        raise _Unsupported(
            "GIFT multiple answers",
            "More than one answer is marked right; a ProtoLearn multiple-choice question has one.",
        )
    return build_question(
        question_text=text,
        question_type=QuestionType.MCQ,
        options=[answer for _, answer in choices],
        correct_answer=right_answers[0],
        points=points,
        explanation=explanation,
    )


def _restore(text: str) -> str:
    return text.translate(_RESTORE)


def _rich_text(source: str, text_format: str) -> str:
    """An answer's or feedback's text, in its own ``[format]`` if it names one."""
    if found := _FORMAT.match(source):
        text_format, source = _MOODLE_FORMAT[found[1].lower()], source[found.end() :]
    return plain_text(_restore(source), text_format).strip()


# --- writing ------------------------------------------------------------------------------------


def write_gift(questions: Sequence[QuestionIn], *, category: str = "") -> bytes:
    paragraphs = []
    if category.strip():
        paragraphs.append(f"$CATEGORY: $course$/top/{category.strip().replace('/', '//')}")
    for question in questions:
        paragraphs.append(_gift_question(question))
    return ("\n\n".join(paragraphs) + "\n").encode("utf-8")


def _gift_question(question: QuestionIn) -> str:
    text = escape(question.question_text)
    if text.startswith(("//", "[")):  # would read as a comment or a format: say the format
        text = "[plain]" + text
    lines = [f"// points: {format_points(question.points)}"]
    feedback = f"####{escape(question.explanation)}" if question.explanation else ""
    match question.question_type:
        case QuestionType.MCQ:
            lines.append(text + " {")
            lines += [
                ("=" if option == question.correct_answer else "~") + escape(option)
                for option in question.options
            ]
            if feedback:
                lines.append(feedback)
            lines.append("}")
        case QuestionType.TRUE_FALSE:
            lines.append(f"{text} {{{question.correct_answer.upper()}{feedback}}}")
        case QuestionType.SHORT_ANSWER:
            lines.append(f"{text} {{={escape(question.correct_answer)}{feedback}}}")
    return "\n".join(lines)


def escape(text: str) -> str:
    """Text as GIFT writes it: special characters after a backslash, newlines as ``\\n``."""
    escaped = "".join("\\" + char if char in _SPECIAL else char for char in text)
    return escaped.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
