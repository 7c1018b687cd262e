"""The offline provider on real course text: questions a teacher could use, each from the material."""

from __future__ import annotations

import pytest

from protolearn.ai.offline.generation import generate_offline
from protolearn.ai.offline.refinement import refine_offline
from protolearn.ai.offline.tutoring import explain_offline, tutor_offline
from protolearn.ai.provider import DraftQuestion, GenerationSpec
from protolearn.ai.retrieval import PassageIndex, SourceText
from protolearn.ai.text import clean_text, key_terms, matchable, split_sentences
from protolearn.ai.validation import SourceMatcher, check_drafts
from protolearn.errors import InvalidInput
from protolearn.store.tests import QuestionType
from tests.support.ai_material import BIOLOGY, HISTORY, pages_of

MATERIAL = clean_text(pages_of(BIOLOGY + HISTORY))
ALL_TYPES = ("mcq", "true_false", "short_answer")


def spec(count: int = 12, types: tuple[str, ...] = ALL_TYPES, difficulty: str = "medium") -> GenerationSpec:
    return GenerationSpec(
        material_text=MATERIAL,
        title="Biology",
        subject="Science",
        count=count,
        question_types=types,
        difficulty=difficulty,
    )


def test_sentences_keep_their_pages_and_abbreviations() -> None:
    sentences = split_sentences(
        clean_text("Dr. Smith, e.g. a chemist, works here. He is old.\fPage two is here.")
    )
    assert [(s.text, s.page) for s in sentences] == [
        ("Dr. Smith, e.g. a chemist, works here.", 1),
        ("He is old.", 1),
        ("Page two is here.", 2),
    ]
    assert clean_text("photo-\nsynthesis  makes\nsugar") == "photosynthesis makes sugar"


def test_key_terms_are_names_years_and_noun_concepts() -> None:
    terms = {t.text: t.kind.value for t in key_terms(split_sentences(MATERIAL))}
    assert terms["1789"] == "year"
    assert terms["Napoleon Bonaparte"] == "proper"
    assert terms["chloroplast"] == "concept"
    assert terms["amino acids"] == "concept"
    for not_a_concept in ("small", "chemical", "particular", "the", "called"):
        assert not_a_concept not in terms


@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_every_question_is_valid_and_quotes_the_material(difficulty: str) -> None:
    generated = generate_offline(spec(difficulty=difficulty))
    accepted, rejected = check_drafts(
        generated.drafts, material=SourceMatcher(MATERIAL), wanted_types=list(QuestionType)
    )
    assert len(generated.drafts) == 12
    assert len(accepted) >= 11, rejected
    assert {q.question_type.value for q in accepted} == set(ALL_TYPES)
    for question in accepted:
        assert matchable(question.source_passage) in matchable(MATERIAL)
        if question.question_type is QuestionType.MCQ:
            assert question.options.count(question.correct_answer) == 1
            assert len(set(question.options)) == len(question.options) >= 3
        if question.question_type is QuestionType.TRUE_FALSE and question.correct_answer == "false":
            assert matchable(question.question_text.removeprefix("True or false: ")) not in matchable(
                MATERIAL
            )
    assert len({q.source_passage for q in accepted}) == len(accepted)  # one question per sentence


def test_distractors_are_key_terms_of_the_same_kind() -> None:
    generated = generate_offline(spec(count=20, types=("mcq",), difficulty="hard"))
    terms = {t.text.casefold(): t.kind for t in key_terms(split_sentences(MATERIAL))}
    blanks = [d for d in generated.drafts if "_____" in d.question_text]
    assert blanks
    for draft in blanks:
        kind = terms[str(draft.correct_answer).casefold()]
        for option in draft.options:
            if option.isdigit():  # numbers: the material's own, or near variants of the answer
                assert str(draft.correct_answer).isdigit()
                continue
            assert option.casefold() in MATERIAL.casefold()  # drawn from the material itself
            assert terms.get(option.casefold(), kind) is kind


def test_generation_is_deterministic_and_difficulty_changes_the_set() -> None:
    assert generate_offline(spec()) == generate_offline(spec())
    easy = {d.question_text for d in generate_offline(spec(difficulty="easy")).drafts}
    hard = {d.question_text for d in generate_offline(spec(difficulty="hard")).drafts}
    assert easy != hard
    true_false = generate_offline(spec(count=8, types=("true_false",))).drafts
    assert {d.correct_answer for d in true_false} == {"true", "false"}


def test_definitions_become_short_answers() -> None:
    drafts = generate_offline(spec(count=30, types=("short_answer",), difficulty="easy")).drafts
    by_answer = {str(d.correct_answer).casefold(): d.question_text for d in drafts}
    assert by_answer["photosynthesis"] == (
        "What is the term for the process by which plants convert light energy into chemical energy?"
    )


def mcq_draft() -> DraftQuestion:
    sentence = (
        "Photosynthesis takes place in the chloroplast, an organelle found in plant cells "
        "but not in animal cells."
    )
    return DraftQuestion(
        question_text=f"Which answer completes the statement? {sentence.replace('chloroplast', '_____')}",
        type="mcq",
        options=["chloroplast", "nucleus", "membrane", "ribosome"],
        correct_answer="chloroplast",
        source_passage=sentence,
    )


def test_refinement_follows_the_feedback() -> None:
    index = PassageIndex([SourceText(1, "Biology", MATERIAL)])
    passages = index.search("chloroplast photosynthesis")
    made_open = refine_offline(mcq_draft(), "Make it harder please", passages)
    assert (made_open.question.type, made_open.question.options) == ("short_answer", [])
    assert made_open.question.question_text.startswith("Fill in the blank:")
    made_true_false = refine_offline(mcq_draft(), "turn this into a true/false question", passages)
    assert made_true_false.question.type == "true_false"
    assert made_true_false.question.correct_answer == "true"
    fewer = refine_offline(mcq_draft(), "fewer options", passages)
    assert len(fewer.question.options) == 3 and "chloroplast" in fewer.question.options
    with pytest.raises(InvalidInput, match="understands"):
        refine_offline(mcq_draft(), "make it sparkle", passages)


def test_the_tutor_cites_the_material_and_explanations_say_why() -> None:
    index = PassageIndex([SourceText(7, "Biology", MATERIAL)])
    passages = index.search("Where does photosynthesis happen in a plant?")
    assert passages and "chloroplast" in passages[0].text
    reply = tutor_offline("Where does photosynthesis happen in a plant?", passages, ["enzyme"])
    assert "chloroplast" in reply.answer and "Biology" in reply.answer
    assert reply.follow_up_questions and "enzyme" in reply.related_topics
    nothing = tutor_offline("Who won the 1966 World Cup?", index.search("Who won the 1966 World Cup?"), [])
    assert "could not find" in nothing.answer
    wrong = explain_offline(mcq_draft(), "nucleus", False, passages)
    assert "not correct" in wrong and "\u201cchloroplast\u201d" in wrong and "page" in wrong
    assert explain_offline(mcq_draft(), "chloroplast", True, passages).startswith(
        "Your answer \u201cchloroplast\u201d is correct."
    )
