"""What a provider writes is checked: repaired where it can be, dropped with a reason otherwise."""

from __future__ import annotations

from typing import Any

from protolearn.ai.provider import DraftQuestion
from protolearn.ai.validation import SourceMatcher, check_drafts
from protolearn.store.tests import QuestionType

MATERIAL = (
    "The mitochondrion is the organelle where cellular respiration takes place.\n\n"
    "Photosynthesis takes place in the chloroplast, an organelle found in plant cells.\f"
    "The French Revolution began in 1789."
)
SOURCE = "Photosynthesis takes place in the chloroplast, an organelle found in plant cells."


def draft(**fields: Any) -> DraftQuestion:
    values: dict[str, Any] = {
        "question_text": "Where does photosynthesis take place?",
        "type": "mcq",
        "options": ["chloroplast", "nucleus", "mitochondrion", "ribosome"],
        "correct_answer": "chloroplast",
        "source_passage": SOURCE,
    }
    return DraftQuestion(**(values | fields))


def check(*drafts: DraftQuestion, existing: tuple[str, ...] = ()) -> tuple[list[Any], list[str]]:
    accepted, rejected = check_drafts(
        drafts, material=SourceMatcher(MATERIAL), wanted_types=list(QuestionType), existing_questions=existing
    )
    return accepted, [r.reason for r in rejected]


def test_a_good_question_passes_unchanged() -> None:
    [checked], reasons = check(draft())
    assert reasons == []
    assert (checked.correct_answer, checked.options, checked.repairs) == (
        "chloroplast",
        ["chloroplast", "nucleus", "mitochondrion", "ribosome"],
        (),
    )


def test_an_answer_key_outside_the_options_is_dropped() -> None:
    assert check(draft(correct_answer="golgi body")) == ([], ["the answer key is not one of the options"])


def test_letters_labels_case_and_duplicates_are_repaired() -> None:
    [by_letter], _ = check(draft(correct_answer="A"))
    assert by_letter.correct_answer == "chloroplast"
    labelled = draft(options=["A) chloroplast", "B) nucleus", "C) ribosome"], correct_answer="a) Chloroplast")
    [relabelled], _ = check(labelled)
    assert (relabelled.options, relabelled.correct_answer) == (
        ["chloroplast", "nucleus", "ribosome"],
        "chloroplast",
    )
    [deduplicated], _ = check(draft(options=["chloroplast", "Chloroplast", "nucleus", "ribosome"]))
    assert deduplicated.options == ["chloroplast", "nucleus", "ribosome"]
    assert "duplicate options removed" in deduplicated.repairs
    assert check(draft(options=["chloroplast", "chloroplast", "nucleus"]))[1] == [
        "a multiple-choice question needs at least three distinct options"
    ]


def test_types_answers_and_options_are_normalised() -> None:
    [true_false], _ = check(draft(type="True/False", options=["Yes", "No"], correct_answer=True))
    assert (true_false.question_type, true_false.correct_answer, true_false.options) == (
        QuestionType.TRUE_FALSE,
        "true",
        ["true", "false"],
    )
    [short], _ = check(draft(type="short answer", correct_answer="the chloroplast"))
    assert (short.question_type, short.options) == (QuestionType.SHORT_ANSWER, [])
    assert check(draft(type="essay")) == ([], ["unknown question type 'essay'"])
    assert check(draft(type="short_answer", correct_answer="a b c d e f g h i j k l m"))[1] == [
        "the short answer is too long to be marked automatically"
    ]


def test_the_source_passage_must_come_from_the_material() -> None:
    assert check(draft(source_passage="Plants make sugar in the vacuole."))[1] == [
        "the supporting passage is not in the material"
    ]
    assert check(draft(source_passage=""))[1] == ["the supporting passage is missing"]
    # Spacing, case and curly quotes do not matter; a close paraphrase becomes the real sentence.
    [spaced], _ = check(draft(source_passage="photosynthesis  takes place in the CHLOROPLAST"))
    assert spaced.source_passage == "photosynthesis  takes place in the CHLOROPLAST"
    [paraphrased], _ = check(
        draft(source_passage="Photosynthesis takes place in a chloroplast, an organelle found in plant cell.")
    )
    assert paraphrased.source_passage == SOURCE


def test_near_duplicates_are_dropped_against_the_set_and_the_test() -> None:
    accepted, reasons = check(
        draft(),
        draft(question_text="Where does photosynthesis take place ?"),
        draft(question_text="Where is ATP made?"),
    )
    assert [q.question_text for q in accepted] == [
        "Where does photosynthesis take place?",
        "Where is ATP made?",
    ]
    assert reasons == ["near-duplicate of another question"]
    assert check(draft(), existing=("where does Photosynthesis take place",))[1] == [
        "near-duplicate of another question"
    ]
