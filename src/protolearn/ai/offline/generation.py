"""Offline question generation: real questions from the material alone, no network and no model.

Deterministic: the same material and request give the same questions. Question kinds, each
quoting the sentence it rests on as ``source_passage``:

- short answer from definitions ("Photosynthesis is the process by which ..." -> "What is the
  term for the process by which ...?") and fill-in-the-blank on a key term;
- multiple choice: which definition fits a term, or which term completes a sentence, with
  distractors drawn from other key terms of the same kind in the same material (names for
  names, years for years, concepts for concepts);
- true/false from the sentence as written (true) or with one key term swapped for another (false).

Difficulty orders the candidates: central terms, short sentences and recognition (true/false,
multiple choice) are easy; rare terms, long sentences and recall (short answer) are hard.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from protolearn.ai.offline.material import Material, shuffled, term_of
from protolearn.ai.provider import DraftQuestion, Generated, GenerationSpec
from protolearn.ai.text import DETERMINERS, KeyTerm, Sentence, TermKind

__all__ = ("generate_offline",)

_BLANK = "_____"
_MIN_WORDS, _MAX_WORDS = 6, 45
_UNASKABLE_STARTS = re.compile(
    r"^(it|this|that|these|those|they|he|she|we|you|such|however|but|and|or|so|thus|also|here|there)\b", re.I
)
_DEFINITION = re.compile(
    r"^(?:(?:an?|the)\s+)?(?P<term>[A-Za-z][\w'-]*(?:\s+[A-Za-z][\w'-]*){0,3}?)\s*,?\s+"
    r"(?P<verb>is|are|was|were|refers to|is defined as|are defined as|means|describes)\s+"
    r"(?P<definition>(?:an?|the|any|one|when|how|where)\s+.+?)\.$",
    re.I,
)
_CALLED = re.compile(
    r"^(?P<definition>(?:an?|the)\s+.+?)\s+(?:is|are)\s+(?:called|known as|termed)\s+"
    r"(?P<term>[A-Za-z][\w'-]*(?:\s+[A-Za-z][\w'-]*){0,3})\.$",
    re.I,
)
_TYPE_BASE_HARDNESS = {"true_false": 0.15, "mcq": 0.4, "short_answer": 0.65}


@dataclass(frozen=True, slots=True)
class _Candidate:
    draft: DraftQuestion
    sentence: Sentence
    answer_key: str  # the term or statement it asks about: asked once per set
    hardness: float


def _askable(sentence: Sentence) -> bool:
    text = sentence.text
    n = len(text.split())
    if not (_MIN_WORDS <= n <= _MAX_WORDS) or not text.endswith(".") or "?" in text:
        return False
    if _UNASKABLE_STARTS.match(text) or not text[0].isupper():
        return False
    if re.search(r"https?://|www\.|\b(figure|fig\.|table|see page|chapter \d)", text, re.I):
        return False
    symbols = sum(1 for ch in text if not (ch.isalnum() or ch.isspace() or ch in ".,;:'\"()-%"))
    return symbols <= len(text) * 0.05


def _with_blank(material: Material, sentence: str, term: KeyTerm) -> str | None:
    """The sentence with ``term`` blanked, or None when blanking it would not make a fair question."""
    pattern = material.pattern(term.text)
    found = list(pattern.finditer(sentence))
    if len(found) != 1:
        return None  # twice in the sentence: the blank would give it away
    before = sentence[: found[0].start()].split()[-1:]
    if (
        term.kind is TermKind.CONCEPT
        and term.word_count == 1
        and (not before or before[0].casefold() not in DETERMINERS)
    ):
        return None  # "enters and leaves it": a verb here, not the concept
    return pattern.sub(_BLANK, sentence)


def _hardness(kind: str, sentence: Sentence, term: KeyTerm | None, bonus: float = 0.0) -> float:
    length = min(len(sentence.text.split()) / _MAX_WORDS, 1.0) * 0.2
    rarity = 0.0 if term is None else (1 - min(term.count, 6) / 6) * 0.2
    return max(0.0, min(1.0, _TYPE_BASE_HARDNESS[kind] + length + rarity + bonus))


def _strip_article(term: str) -> str:
    return re.sub(r"^(an?|the)\s+", "", term.strip(), flags=re.I)


def _definitions(material: Material, askable: Sequence[Sentence]) -> list[tuple[Sentence, str, str]]:
    found = []
    for sentence in askable:
        match = _DEFINITION.match(sentence.text) or _CALLED.match(sentence.text)
        if match is None:
            continue
        term = _strip_article(match.group("term"))
        definition = match.group("definition").strip().rstrip(".")
        first = term.split()[0].casefold()
        if first in {"it", "this", "that", "there", "he", "she", "they", "which", "what"}:
            continue
        if len(definition.split()) < 4 or len(term.split()) > 4:
            continue
        found.append((sentence, term, definition))
    return found


def _definition_candidates(material: Material, askable: Sequence[Sentence]) -> Iterable[_Candidate]:
    definitions = _definitions(material, askable)
    for sentence, term, definition in definitions:
        key_term = term_of(material, term)
        kind = key_term.kind if key_term else TermKind.CONCEPT
        yield _Candidate(
            DraftQuestion(
                question_text=f"What is the term for {definition}?",
                type="short_answer",
                correct_answer=term,
                explanation=f"The material defines it: {sentence.text}",
                source_passage=sentence.text,
            ),
            sentence,
            f"term:{term.casefold()}",
            _hardness("short_answer", sentence, key_term, bonus=-0.1),
        )
        others = [d for s, t, d in definitions if t.casefold() != term.casefold() and d != definition]
        if len(others) >= 2:
            options = [definition, *others[:3]]
            question = f"Which of the following best describes {term}?"
        else:
            alternatives = material.distractors(term, kind, avoid=sentence.text, near=sentence.index)
            if len(alternatives) < 2:
                continue
            options = [term, *alternatives]
            question = f"Which term is described as {definition}?"
        answer = options[0]
        yield _Candidate(
            DraftQuestion(
                question_text=question,
                type="mcq",
                options=shuffled(options, question),
                correct_answer=answer,
                explanation=f"The material defines it: {sentence.text}",
                source_passage=sentence.text,
            ),
            sentence,
            f"term:{term.casefold()}",
            _hardness("mcq", sentence, key_term, bonus=-0.1),
        )


def _term_candidates(material: Material, askable: Sequence[Sentence]) -> Iterable[_Candidate]:
    for sentence in askable:
        for term in material.terms_in.get(sentence.index, ()):
            blanked = _with_blank(material, sentence.text, term)
            if blanked is None or (blanked.startswith(_BLANK) and term.kind is TermKind.CONCEPT):
                continue
            match = material.pattern(term.text).search(sentence.text)
            answer = match.group() if match else term.text
            distractors = material.distractors(answer, term.kind, avoid=sentence.text, near=sentence.index)
            explanation = f"The material says: {sentence.text}"
            if term.word_count <= 3:
                yield _Candidate(
                    DraftQuestion(
                        question_text=f"Fill in the blank: {blanked}",
                        type="short_answer",
                        correct_answer=answer,
                        explanation=explanation,
                        source_passage=sentence.text,
                    ),
                    sentence,
                    f"term:{term.key}",
                    _hardness("short_answer", sentence, term),
                )
            if len(distractors) >= 2:
                question = f"Which answer completes the statement? {blanked}"
                yield _Candidate(
                    DraftQuestion(
                        question_text=question,
                        type="mcq",
                        options=shuffled([answer, *distractors], question),
                        correct_answer=answer,
                        explanation=explanation,
                        source_passage=sentence.text,
                    ),
                    sentence,
                    f"term:{term.key}",
                    _hardness("mcq", sentence, term, bonus=0.1 * (term.kind is TermKind.YEAR)),
                )
            same_length = [d for d in distractors if len(d.split()) == term.word_count]
            if same_length:
                swapped = material.pattern(term.text).sub(
                    _matching_case(answer, same_length[0]), sentence.text
                )
                yield _Candidate(
                    DraftQuestion(
                        question_text=f"True or false: {swapped}",
                        type="true_false",
                        correct_answer="false",
                        explanation=f"False: the material says {sentence.text}",
                        source_passage=sentence.text,
                    ),
                    sentence,
                    f"statement:{sentence.index}",
                    _hardness("true_false", sentence, term, bonus=0.05),
                )
        if material.terms_in.get(sentence.index):
            yield _Candidate(
                DraftQuestion(
                    question_text=f"True or false: {sentence.text}",
                    type="true_false",
                    correct_answer="true",
                    explanation=f"True: the material says {sentence.text}",
                    source_passage=sentence.text,
                ),
                sentence,
                f"statement:{sentence.index}",
                _hardness("true_false", sentence, None),
            )


def _matching_case(original: str, replacement: str) -> str:
    if original[:1].isupper() and replacement[:1].islower():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def _preference(difficulty: str, hardness: float) -> float:
    match difficulty:
        case "easy":
            return hardness
        case "hard":
            return 1 - hardness
        case _:
            return abs(hardness - 0.5)


def _pick(candidates: Sequence[_Candidate], spec: GenerationSpec) -> list[_Candidate]:
    """``spec.count`` candidates: types in turn, nearest the difficulty, spread over the pages."""
    by_type: dict[str, list[_Candidate]] = defaultdict(list)
    for candidate in candidates:
        by_type[candidate.draft.type].append(candidate)
    for kind in by_type:
        by_type[kind].sort(
            key=lambda c: (round(_preference(spec.difficulty, c.hardness), 1), c.sentence.index)
        )
    picked: list[_Candidate] = []
    used_sentences: set[int] = set()
    used_answers: set[str] = set()
    true_false_truth: Counter[str] = Counter()
    page_uses: Counter[int] = Counter()
    turn = [t for t in spec.question_types if by_type.get(t)]
    while len(picked) < spec.count and turn:
        for kind in list(turn):
            if len(picked) == spec.count:
                break
            best: _Candidate | None = None
            best_key: tuple[float, ...] = ()
            for candidate in by_type[kind]:
                if candidate.sentence.index in used_sentences or candidate.answer_key in used_answers:
                    continue
                truth = str(candidate.draft.correct_answer)
                key = (
                    float(page_uses[candidate.sentence.page]),
                    float(true_false_truth[truth]) if kind == "true_false" else 0.0,  # as many true as false
                    round(_preference(spec.difficulty, candidate.hardness), 1),
                    float(candidate.sentence.index),
                )
                if best is None or key < best_key:
                    best, best_key = candidate, key
            if best is None:
                turn.remove(kind)
                continue
            picked.append(best)
            used_sentences.add(best.sentence.index)
            used_answers.add(best.answer_key)
            page_uses[best.sentence.page] += 1
            if kind == "true_false":
                true_false_truth[str(best.draft.correct_answer)] += 1
    return picked


def generate_offline(spec: GenerationSpec) -> Generated:
    material = Material.of(spec.material_text)
    askable = [s for s in material.sentences if _askable(s)]
    wanted = set(spec.question_types)
    candidates = [
        c
        for c in (*_definition_candidates(material, askable), *_term_candidates(material, askable))
        if c.draft.type in wanted
    ]
    for candidate in candidates:
        candidate.draft.difficulty = spec.difficulty
    picked = _pick(candidates, spec)
    prompt = (
        f"offline: {spec.count} question(s) of type(s) {', '.join(spec.question_types)} at {spec.difficulty} "
        f"difficulty from '{spec.title}' ({len(material.sentences)} sentences, "
        f"{len(material.terms)} key terms, {len(candidates)} candidates)"
    )
    return Generated(drafts=[c.draft for c in picked], prompt=prompt)
