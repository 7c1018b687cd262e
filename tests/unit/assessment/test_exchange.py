"""The question-exchange entry point: format detection, bounds, round trips, rich text."""

from __future__ import annotations

import pytest

from protolearn.assessment.exchange import (
    MAX_FILE_BYTES,
    MAX_QUESTIONS_PER_FILE,
    ExchangeFormat,
    FileTooLarge,
    UnreadableFile,
    detect_format,
    read_questions,
    render_questions,
)
from protolearn.assessment.exchange.markup import html_to_text, plain_text
from protolearn.assessment.schemas import QuestionIn
from protolearn.store.tests import QuestionType

QUESTIONS = [
    QuestionIn(
        question_text="Capital of France?\nChoose one.",
        question_type=QuestionType.MCQ,
        options=["Paris", "Lyon", "Nice", "Saint-Étienne"],
        correct_answer="Paris",
        points=2.5,
        explanation="Since 987: {the} = #1 city.",
    ),
    QuestionIn(
        question_text="Water boils at 100 °C.",
        question_type=QuestionType.TRUE_FALSE,
        options=["true", "false"],
        correct_answer="true",
        points=1,
    ),
    QuestionIn(
        question_text="Symbol of gold? <answer> in two letters",
        question_type=QuestionType.SHORT_ANSWER,
        options=[],
        correct_answer="Au",
        points=0.5,
        explanation="From the Latin aurum & co.",
    ),
]


@pytest.mark.parametrize("file_format", list(ExchangeFormat))
def test_every_format_reads_back_what_it_wrote(file_format: ExchangeFormat) -> None:
    data = render_questions(QUESTIONS, file_format, category="Chemistry")
    parsed = read_questions(data)  # the format found from the content alone
    assert parsed.format is file_format
    assert parsed.drafts == QUESTIONS
    assert parsed.skipped == []


@pytest.mark.parametrize(
    ("filename", "data", "expected"),
    [
        ("quiz.XML", b"anything", ExchangeFormat.MOODLE_XML),
        ("bank.csv", b"", ExchangeFormat.CSV),
        ("bank.gift", b"", ExchangeFormat.GIFT),
        ("test-3.gift.txt", b"<looks like xml>", ExchangeFormat.GIFT),
        ("", b"\xef\xbb\xbf  <?xml version='1.0'?><quiz/>", ExchangeFormat.MOODLE_XML),
        ("notes.txt", b"Type,Question,Answer\nmcq,Q,A\n", ExchangeFormat.CSV),
        ("notes.txt", b"// a comment\nQ {T}\n", ExchangeFormat.GIFT),
    ],
)
def test_the_format_comes_from_the_name_then_the_content(
    filename: str, data: bytes, expected: ExchangeFormat
) -> None:
    assert detect_format(filename, data) is expected


def test_a_named_format_wins_over_the_file_name() -> None:
    gift = b"Is it? {T}\n"
    assert read_questions(gift, filename="upload.xml", file_format=ExchangeFormat.GIFT).drafts[
        0
    ].correct_answer == ("true")
    with pytest.raises(UnreadableFile):
        read_questions(gift, filename="upload.xml")


def test_files_too_large_empty_or_without_questions_are_refused() -> None:
    with pytest.raises(FileTooLarge):
        read_questions(b" " * (MAX_FILE_BYTES + 1), filename="big.gift")
    with pytest.raises(UnreadableFile, match="empty"):
        read_questions(b"  \n", filename="empty.gift")
    with pytest.raises(UnreadableFile, match="no questions"):
        read_questions(b"// only a comment\n\n$CATEGORY: x\n", filename="empty.gift")
    with pytest.raises(UnreadableFile, match="no questions"):
        read_questions(b"<quiz><question type='category'/></quiz>", filename="empty.xml")


@pytest.mark.parametrize("file_format", list(ExchangeFormat))
def test_questions_past_the_limit_are_skipped_with_one_entry(file_format: ExchangeFormat) -> None:
    many = [
        QuestionIn(
            question_text=f"Question {n}",
            question_type=QuestionType.SHORT_ANSWER,
            options=[],
            correct_answer=str(n),
            points=1,
        )
        for n in range(MAX_QUESTIONS_PER_FILE + 3)
    ]
    parsed = read_questions(render_questions(many, file_format), file_format=file_format)
    assert parsed.drafts == many[:MAX_QUESTIONS_PER_FILE]
    [skipped] = parsed.skipped
    what = "rows 502 to 504" if file_format is ExchangeFormat.CSV else "questions 501 to 503"
    assert skipped.item == what
    assert f"at most {MAX_QUESTIONS_PER_FILE} questions" in skipped.reason


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ('<p dir="ltr">Hello <b>world</b>!<br></p>', "Hello world!"),
        ("<p>One</p><p>Two</p>", "One\nTwo"),
        ("<p>Line one<br></p><p>Line two</p>", "Line one\nLine two"),  # as Moodle's editor writes it
        ("Line one<br>Line two<br/><br />Line four", "Line one\nLine two\n\nLine four"),
        ("<ul><li>a</li><li>b</li></ul>", "a\nb"),
        ("5 &lt; 6 &amp;&nbsp;7&#8209;8 &eacute;", "5 < 6 & 7\u20118 é"),
        ("<div>  spaced\n   out  </div>", "spaced out"),
        ("<style>p { color: red }</style><script>alert(1)</script>Kept", "Kept"),
        ('<img src="@@PLUGINFILE@@/map.png" alt="A map"> of France', "A map of France"),
        ("<p>Code:</p><pre>def f():\n    return 1</pre>", "Code:\ndef f():\n    return 1"),
    ],
)
def test_html_becomes_plain_text_with_its_line_breaks(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_moodle_text_formats() -> None:
    assert plain_text("Two\nlines & <b>bold</b>", "moodle_auto_format") == "Two\nlines & bold"
    assert plain_text("Keep <b>this</b>", "plain_text") == "Keep <b>this</b>"
    assert plain_text("**Markdown** stays", "markdown") == "**Markdown** stays"
    assert plain_text(None, "html") == ""
