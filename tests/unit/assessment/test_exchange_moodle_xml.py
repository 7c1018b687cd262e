"""Moodle XML as Moodle exports it: CDATA and HTML, entities, categories, types we cannot hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from protolearn.assessment.exchange import UnreadableFile
from protolearn.assessment.exchange.moodle_xml import read_moodle_xml, write_moodle_xml
from protolearn.assessment.schemas import QuestionIn
from protolearn.store.tests import QuestionType

EXPORT = (Path(__file__).parent / "exchange_files" / "moodle_export.xml").read_bytes()


def _quiz(*questions: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n' + "\n".join(questions) + "\n</quiz>\n"
    ).encode()


def _multichoice(answers: str, single: str = "true", grade: str = "1.0000000") -> str:
    return f"""<question type="multichoice">
      <name><text>Pick one</text></name>
      <questiontext format="html"><text><![CDATA[<p>Pick one</p>]]></text></questiontext>
      <defaultgrade>{grade}</defaultgrade>
      <single>{single}</single>
      {answers}
    </question>"""


def test_a_moodle_export_gives_its_questions_as_plain_text() -> None:
    collected = read_moodle_xml(EXPORT)
    capital, boiling, rhine, lake = collected.drafts
    assert capital == QuestionIn(
        question_text="What is the capital of France?",
        question_type=QuestionType.MCQ,
        options=["Paris", "Lyon", "Saint\u2011Étienne"],  # &#8209; and &Eacute; unescaped
        correct_answer="Paris",
        points=2.0,
        explanation="Paris has been the capital since 987 & still is.\nSee the map.",
    )
    assert (boiling.question_text, boiling.correct_answer, boiling.options) == (
        "Water boils at 100 °C at sea level.\nTrue or false?",  # &nbsp; as a space, paragraphs as lines
        "true",
        ["true", "false"],
    )
    assert boiling.explanation is None
    assert (rhine.question_text, rhine.correct_answer, rhine.points) == (
        "The Rhine is longer than the Danube & the Volga.",
        "false",
        0.5,
    )
    assert rhine.explanation == "The Danube is about 2850 km long."
    # moodle_auto_format keeps its line break; the first full-marks answer is the key.
    assert (lake.question_type, lake.question_text, lake.correct_answer, lake.points) == (
        QuestionType.SHORT_ANSWER,
        "Which lake is the deepest in the world?\nGive its name only.",
        "Baikal",
        3.0,
    )


def test_categories_are_not_questions_and_unsupported_types_are_skipped_by_name() -> None:
    skipped = read_moodle_xml(EXPORT).skipped
    items = [entry.item for entry in skipped]
    assert items == [
        "question 5 (Moodle type matching): 'Match the capitals'",
        "question 6 (Moodle type essay): 'Climate essay'",
        "question 7: 'Alpine countries'",
        "question 8 (Moodle type numerical): 'Height of Mont Blanc'",
        "question 9 (Moodle type multianswer): 'Cloze about rivers'",
        "question 10 (Moodle type description): 'Section intro'",
        "question 11: 'Duplicate options'",
    ]
    reasons = [entry.reason for entry in skipped]
    assert "matching" in reasons[0] and "multiple-choice" in reasons[0]
    assert "several answers" in reasons[2]
    assert reasons[6] == "Multiple-choice options must be distinct."
    assert not any("category" in item for item in items)


def test_answers_ProtoLearn_cannot_mark_are_refused_with_a_reason() -> None:
    partial = _multichoice(
        '<answer fraction="100"><text>A</text></answer>'
        '<answer fraction="50"><text>B</text></answer>'
        '<answer fraction="0"><text>C</text></answer>'
    )
    two_right = _multichoice(
        '<answer fraction="100"><text>A</text></answer><answer fraction="100"><text>B</text></answer>'
    )
    none_right = _multichoice(
        '<answer fraction="0"><text>A</text></answer><answer fraction="0"><text>B</text></answer>'
    )
    wildcard = """<question type="shortanswer"><name><text>Wild</text></name>
      <questiontext format="plain_text"><text>Name a colour</text></questiontext>
      <answer fraction="100"><text>gr*n</text></answer></question>"""
    too_many_points = _multichoice(
        '<answer fraction="100"><text>A</text></answer><answer fraction="0"><text>B</text></answer>',
        grade="5000",
    )
    collected = read_moodle_xml(_quiz(partial, two_right, none_right, wildcard, too_many_points))
    assert collected.drafts == []
    reasons = [entry.reason for entry in collected.skipped]
    assert "partial credit (50%)" in reasons[0]
    assert "More than one answer gets full marks" in reasons[1]
    assert "no right answer" in reasons[2]
    assert "wildcard" in reasons[3]
    assert reasons[4] == "The points must be at most 1000."


def test_negative_fractions_are_wrong_answers_and_empty_answers_are_refused() -> None:
    penalised = _multichoice(
        '<answer fraction="100.0000000"><text>A</text></answer><answer fraction="-50"><text>B</text></answer>'
    )
    empty_option = _multichoice(
        '<answer fraction="100"><text>A</text></answer><answer fraction="0" format="html">'
        "<text><![CDATA[<p> </p>]]></text></answer>"
    )
    collected = read_moodle_xml(_quiz(penalised, empty_option))
    [draft] = collected.drafts
    assert (draft.options, draft.correct_answer) == (["A", "B"], "A")
    assert [entry.reason for entry in collected.skipped] == ["Option 2 is empty."]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"<quiz><question type='truefalse'></quiz>", "not well-formed XML"),
        (b"not xml at all", "not well-formed XML"),
        (b"<?xml version='1.0'?><questions/>", "<quiz> root element"),
        (
            b'<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
            b"<quiz><question type='essay'><name><text>&lol2;</text></name></question></quiz>",
            "entities",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
            b"<quiz>&secret;</quiz>",
            "entities",
        ),
        (b'<?xml version="1.0" encoding="bogus"?><quiz/>', "encoding"),
        (b'<?xml version="1.0" encoding="shift_jis"?><quiz/>', "encoding"),
        ('<?xml version="1.0" encoding="utf-32"?><quiz/>'.encode("utf-32"), "not well-formed XML"),
    ],
)
def test_unreadable_and_hostile_documents_are_refused(document: bytes, message: str) -> None:
    with pytest.raises(UnreadableFile) as refused:
        read_moodle_xml(document)
    assert message in refused.value.detail


def test_written_xml_reads_back_the_same_and_keeps_markup_as_text() -> None:
    questions = [
        QuestionIn(
            question_text="Is 3 < 5 & 5 > 3?\nThink <b>twice</b>.",
            question_type=QuestionType.TRUE_FALSE,
            options=["true", "false"],
            correct_answer="true",
            points=1.5,
            explanation="Compare <both> sides.",
        ),
        QuestionIn(
            question_text="Pick the tag",
            question_type=QuestionType.MCQ,
            options=["<p>", "<div>", "]]>"],
            correct_answer="]]>",
            points=2,
        ),
        QuestionIn(
            question_text="Symbol of gold?",
            question_type=QuestionType.SHORT_ANSWER,
            options=[],
            correct_answer="Au",
            points=0,
        ),
    ]
    document = write_moodle_xml(questions, category="Chemistry / week 1")
    assert document.startswith(b"<?xml")
    assert b"$course$/top/Chemistry // week 1" in document
    assert b'<question type="truefalse">' in document and b"<defaultgrade>1.5</defaultgrade>" in document
    collected = read_moodle_xml(document)
    assert collected.drafts == questions
    assert collected.skipped == []


def test_hostile_markup_in_a_question_is_read_as_text_in_one_pass() -> None:
    # Unclosed tags by the ten thousand made the standard HTML parser take minutes; "<![" made it raise.
    unclosed = "<a " * 20_000
    collected = read_moodle_xml(
        _quiz(
            f"""<question type="truefalse"><questiontext format="html"><text><![CDATA[{unclosed}]]></text>
            </questiontext><answer fraction="100"><text>true</text></answer>
            <answer fraction="0"><text>false</text></answer></question>""",
            """<question type="truefalse"><questiontext format="html">
            <text><![CDATA[What <![ is 3 < 5?]]></text></questiontext>
            <answer fraction="100"><text>true</text></answer>
            <answer fraction="0"><text>false</text></answer></question>""",
        )
    )
    assert [draft.question_text for draft in collected.drafts] == ["What <![ is 3 < 5?"]  # kept as written
    assert len(collected.skipped) == 1  # 60,000 characters of text: longer than a question may be
    assert "10000" in collected.skipped[0].reason.replace(",", "")
