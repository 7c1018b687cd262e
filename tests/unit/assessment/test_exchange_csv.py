"""CSV as spreadsheets write it: a BOM, quoted commas and newlines, aliases, rows that fail."""

from __future__ import annotations

import pytest

from protolearn.assessment.exchange import UnreadableFile
from protolearn.assessment.exchange.csv_format import read_csv, write_csv
from protolearn.assessment.schemas import QuestionIn
from protolearn.store.tests import QuestionType


def test_a_spreadsheet_export_with_bom_quotes_and_bad_rows() -> None:
    rows = [
        "question_text,question_type,points,correct_answer,explanation,option_1,option_2,option_3",
        '"Capital of France, the country?",mcq,2,Paris,"Paris, since 987.",Paris,Lyon,Nice',
        '"Water boils at 100 C.\nAt sea level.",true_false,,T,,,,',  # a quoted newline: still row 3
        "Symbol of gold?,short_answer,1.5,Au,,,,",
        ",,,,,,,",  # an empty row is not a question
        "Pick a prime,mcq,1,9,,4,6,8",  # answer not among the options
        "Essay about Rome,essay,1,-,,,,",
        "Half a point?,short_answer,half,x,,,,",
        "Too short,mcq,1,A,,A,,",
        "Pick a city,Multiple Choice,1,Rome,,Oslo,,Rome",  # empty cells between options are skipped
    ]
    collected = read_csv(("\ufeff" + "\r\n".join(rows) + "\r\n").encode())
    capital, water, gold, city = collected.drafts
    assert capital == QuestionIn(
        question_text="Capital of France, the country?",
        question_type=QuestionType.MCQ,
        options=["Paris", "Lyon", "Nice"],
        correct_answer="Paris",
        points=2,
        explanation="Paris, since 987.",
    )
    assert (water.question_text, water.correct_answer, water.points) == (
        "Water boils at 100 C.\nAt sea level.",
        "true",
        1.0,
    )
    assert (gold.correct_answer, gold.points, gold.options) == ("Au", 1.5, [])
    assert (city.options, city.correct_answer) == (["Oslo", "Rome"], "Rome")
    assert [(entry.item, entry.reason) for entry in collected.skipped] == [
        ("row 6", "Correct answer must be one of the options."),
        ("row 7", "The question type 'essay' is not one of mcq, true_false, short_answer."),
        ("row 8", "The points value 'half' is not a number."),
        ("row 9", "A multiple-choice question needs at least two options."),
    ]


def test_aliases_semicolons_and_decimal_commas() -> None:
    text = "Question;Type;Points;Answer;Option 1;Option 2\nDeux plus deux ?;MCQ;2,5;4;3;4\n"
    [draft] = read_csv(text.encode()).drafts
    assert (draft.question_text, draft.options, draft.correct_answer, draft.points) == (
        "Deux plus deux ?",
        ["3", "4"],
        "4",
        2.5,
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"text,kind\nHello,mcq\n", "names its columns"),
        ("question_text,question_type,correct_answer\nCaf\u00e9,short_answer,x\n".encode("cp1252"), "UTF-8"),
    ],
)
def test_files_that_cannot_be_read_as_csv(data: bytes, message: str) -> None:
    with pytest.raises(UnreadableFile) as refused:
        read_csv(data)
    assert message in refused.value.detail


def test_written_csv_reads_back_the_same_and_guards_formulas() -> None:
    questions = [
        QuestionIn(
            question_text="=1+1, really?\nTwo lines.",
            question_type=QuestionType.MCQ,
            options=["2", "-2", "@home", "'quoted"],
            correct_answer="-2",
            points=1,
            explanation='He said "no".',
        ),
        QuestionIn(
            question_text="Is this true?",
            question_type=QuestionType.TRUE_FALSE,
            options=["true", "false"],
            correct_answer="false",
            points=0.75,
        ),
        QuestionIn(
            question_text="+ sign name?",
            question_type=QuestionType.SHORT_ANSWER,
            options=[],
            correct_answer="plus",
            points=3,
        ),
    ]
    data = write_csv(questions)
    assert data.startswith("\ufeff".encode())
    lines = data.decode("utf-8-sig").split("\r\n")
    assert lines[0] == (
        "question_text,question_type,points,correct_answer,explanation,option_1,option_2,option_3,option_4"
    )
    assert lines[1].startswith("\"'=1+1, really?") and ",'-2," in data.decode()
    assert lines[2] == "Is this true?,true_false,0.75,false,,,,,"
    collected = read_csv(data)
    assert collected.drafts == questions
    assert collected.skipped == []
