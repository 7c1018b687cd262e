"""GIFT as teachers and Moodle write it: comments, titles, escapes, feedback, every kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from protolearn.assessment.exchange import UnreadableFile
from protolearn.assessment.exchange.gift import read_gift, write_gift
from protolearn.assessment.schemas import QuestionIn
from protolearn.store.tests import QuestionType

SAMPLE = (Path(__file__).parent / "exchange_files" / "sample.gift").read_bytes()


def test_the_supported_kinds_are_read_with_titles_formats_and_escapes() -> None:
    collected = read_gift(SAMPLE)
    capital, boiling, rhine, lake, escapes, missing_word = collected.drafts
    assert capital == QuestionIn(
        question_text="What is the capital of France?",  # [html]: tags stripped
        question_type=QuestionType.MCQ,
        options=["Paris", "Lyon", "Marseille"],  # per-answer feedback dropped
        correct_answer="Paris",
        points=2,  # from "// points: 2"
        explanation="Paris has been the capital since 987.",
    )
    assert (boiling.question_type, boiling.correct_answer, boiling.points) == (
        QuestionType.TRUE_FALSE,
        "true",
        1.0,  # another comment does not carry points over
    )
    assert (rhine.correct_answer, rhine.points, rhine.explanation) == (
        "false",
        0.5,
        "The Danube is about 2850 km long.",
    )
    assert (lake.question_type, lake.correct_answer) == (QuestionType.SHORT_ANSWER, "Baikal")
    assert escapes.question_text == "A set is written {1, 2}; 2 = 1 + 1, and a colon: stays.\nA second line."
    assert (escapes.options, escapes.correct_answer) == (["Math ~ fun", "Math # fun"], "Math ~ fun")
    assert missing_word.question_text == "Moodle costs _____ to download."
    assert (missing_word.options, missing_word.correct_answer) == (
        ["lots of money", "nothing", "a small amount"],
        "nothing",
    )


def test_kinds_ProtoLearn_cannot_hold_are_skipped_with_their_kind() -> None:
    skipped = read_gift(SAMPLE).skipped
    assert [entry.item for entry in skipped] == [
        "question 7 (GIFT essay): 'Essay'",
        "question 8 (GIFT numerical): 'Numerical'",
        "question 9 (GIFT matching): 'Matching'",
        "question 10 (GIFT weighted answers): 'Weighted'",
        "question 11 (GIFT multiple answers): 'Two right'",
        "question 12 (GIFT description): 'Intro'",
        "question 13: 'Same options'",
    ]
    assert "partial credit (50%)" in skipped[3].reason
    assert skipped[6].reason == "Multiple-choice options must be distinct."


def test_odd_but_valid_gift_and_broken_questions() -> None:
    source = (
        "// points: 3\r\n"
        "\r\n"  # a points comment on its own still counts for the next question
        "Pick {~%0%Lyon ~%100%Paris}\r\n"
        "\r\n"
        "::Unclosed title{T}\r\n"
        "\r\n"
        "No closing brace {=a ~b\r\n"
        "\r\n"
        "// points: lots\r\n"
        "Bad points {T}\r\n"
        "\r\n"
        "Junk before answers {x =a ~b}\r\n"
    )
    collected = read_gift(source.encode())
    [pick] = collected.drafts
    assert (pick.options, pick.correct_answer, pick.points) == (["Lyon", "Paris"], "Paris", 3)
    assert [entry.reason for entry in collected.skipped] == [
        "Its title is not closed with '::'.",
        "Its answer block is not closed with '}'.",
        "The points value 'lots' is not a number.",
        "Its answers could not be read: each one starts with = (right) or ~ (wrong).",
    ]


def test_answers_and_feedback_take_the_question_format_unless_they_name_one() -> None:
    source = (
        "[html]<p>Pick&nbsp;one</p>{=<b>Paris</b> ~Lyon &amp; Co ~[plain]<i>Nice</i> ####<p>Since 987.</p>}"
    )
    [draft] = read_gift(source.encode()).drafts
    assert draft.question_text == "Pick one"
    assert draft.options == ["Paris", "Lyon & Co", "<i>Nice</i>"]
    assert draft.explanation == "Since 987."


def test_a_file_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(UnreadableFile, match="UTF-8"):
        read_gift("Caf\u00e9 {T}".encode("latin-1"))


def test_written_gift_reads_back_the_same_whatever_the_text_holds() -> None:
    questions = [
        QuestionIn(
            question_text="// not a comment: {a} = ~b # c:d \\ e\nsecond line",
            question_type=QuestionType.MCQ,
            options=["x = y", "~tilde", "#hash", "back\\slash", "a -> b"],
            correct_answer="~tilde",
            points=2.25,
            explanation="Because:\n#1 {reason}",
        ),
        QuestionIn(
            question_text="[html] is plain here",
            question_type=QuestionType.TRUE_FALSE,
            options=["true", "false"],
            correct_answer="false",
            points=1,
            explanation="::not a title::",
        ),
        QuestionIn(
            question_text="::Looks like a title:: but is not",
            question_type=QuestionType.SHORT_ANSWER,
            options=[],
            correct_answer="a=b",
            points=0,
        ),
        QuestionIn(
            question_text="$CATEGORY: not a category",
            question_type=QuestionType.SHORT_ANSWER,
            options=[],
            correct_answer="ok",
            points=1,
        ),
    ]
    text = write_gift(questions, category="Week 1").decode()
    assert text.startswith("$CATEGORY: $course$/top/Week 1\n\n// points: 2.25\n")
    assert "// points: 0\n" in text
    collected = read_gift(text.encode())
    assert collected.drafts == questions
    assert collected.skipped == []
