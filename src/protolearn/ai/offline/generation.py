"""The offline provider: real questions, refinements and tutoring from the material alone.

No network and no model. Deterministic: the same material and request give the same questions.
Question kinds, each quoting the sentence it rests on as ``source_passage``:

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

import asyncio
import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import msgspec

from protolearn.ai.errors import FeedbackNotUnderstood
from protolearn.ai.provider import DraftQuestion, Generated, GenerationSpec, Refined, TutorReply
from protolearn.ai.retrieval import Passage
from protolearn.ai.text import (
    DETERMINERS,
    KeyTerm,
    Sentence,
    TermKind,
    clean_text,
    content_words,
    key_terms,
    split_sentences,
    stem,
)

__all__ = ("OFFLINE_MODEL", "OfflineProvider", "generate_offline")

OFFLINE_MODEL = "offline-extractive-1"
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


@dataclass(slots=True)
class _Material:
    sentences: list[Sentence]
    terms: list[KeyTerm]
    terms_in: dict[int, list[KeyTerm]] = field(default_factory=dict)
    by_kind: dict[TermKind, list[KeyTerm]] = field(default_factory=dict)
    patterns: dict[str, re.Pattern[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, text: str) -> _Material:
        sentences = split_sentences(clean_text(text))
        material = cls(sentences, key_terms(sentences))
        terms_in: dict[int, list[KeyTerm]] = defaultdict(list)
        by_kind: dict[TermKind, list[KeyTerm]] = defaultdict(list)
        for term in material.terms:
            by_kind[term.kind].append(term)
            for index in term.sentences:
                terms_in[index].append(term)
        material.terms_in = dict(terms_in)
        material.by_kind = dict(by_kind)
        return material

    def pattern(self, term: str) -> re.Pattern[str]:
        found = self.patterns.get(term)
        if found is None:
            found = self.patterns[term] = re.compile(rf"(?<![\w-]){re.escape(term)}(?![\w-])", re.I)
        return found

    def distractors(self, answer: str, kind: TermKind, avoid: str, near: int, limit: int = 3) -> list[str]:
        """Other terms of the same kind, absent from ``avoid``, most alike ``answer`` first."""
        folded_answer = answer.casefold()
        folded_avoid = avoid.casefold()
        chosen: list[str] = []
        seen = {folded_answer}
        ranked = sorted(
            self.by_kind.get(kind, ()),
            key=lambda t: (
                _numeric_distance(answer, t.text) if kind in (TermKind.YEAR, TermKind.NUMBER) else 0.0,
                min((abs(i - near) for i in t.sentences), default=0) // 8,  # same topic first
                abs(t.word_count - len(answer.split())),
                -t.count,
                t.key,
            ),
        )
        for term in ranked:
            key = term.key
            if key in seen or key in folded_avoid or key in folded_answer or folded_answer in key:
                continue
            if stem(key) == stem(folded_answer):
                continue
            chosen.append(term.text if kind is not TermKind.CONCEPT else term.text.lower())
            seen.add(key)
            if len(chosen) == limit:
                return chosen
        if kind in (TermKind.YEAR, TermKind.NUMBER):
            for variant in _number_variants(answer):
                if variant.casefold() not in seen and variant.casefold() not in folded_avoid:
                    chosen.append(variant)
                    seen.add(variant.casefold())
                    if len(chosen) == limit:
                        break
        return chosen


def _numeric_distance(a: str, b: str) -> float:
    try:
        return abs(float(a.replace(",", "")) - float(b.replace(",", "")))
    except ValueError:
        return float("inf")


def _number_variants(number: str) -> Iterable[str]:
    """Plausible wrong numbers when the material has too few of its own."""
    try:
        value = float(number.replace(",", ""))
    except ValueError:
        return
    whole = "." not in number
    for delta in (1, -1, 10, -10, 2, -2) if whole and len(number) == 4 else ():
        yield str(int(value) + delta)
    for factor in (2.0, 0.5, 10.0, 1.5):
        other = value * factor
        if whole and other.is_integer():
            yield str(int(other))
        elif not whole:
            yield f"{other:.{len(number.split('.')[-1])}f}"


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


def _with_blank(material: _Material, sentence: str, term: KeyTerm) -> str | None:
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


def _shuffled(options: list[str], seed: str) -> list[str]:
    """A fixed order per question, so the answer is not always first."""
    return sorted(options, key=lambda o: hashlib.sha256(f"{seed}\x00{o}".encode()).hexdigest())


def _hardness(kind: str, sentence: Sentence, term: KeyTerm | None, bonus: float = 0.0) -> float:
    length = min(len(sentence.text.split()) / _MAX_WORDS, 1.0) * 0.2
    rarity = 0.0 if term is None else (1 - min(term.count, 6) / 6) * 0.2
    return max(0.0, min(1.0, _TYPE_BASE_HARDNESS[kind] + length + rarity + bonus))


def _strip_article(term: str) -> str:
    return re.sub(r"^(an?|the)\s+", "", term.strip(), flags=re.I)


def _definitions(material: _Material, askable: Sequence[Sentence]) -> list[tuple[Sentence, str, str]]:
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


def _term_of(material: _Material, text: str) -> KeyTerm | None:
    return next((t for t in material.terms if t.key == text.casefold()), None)


def _definition_candidates(material: _Material, askable: Sequence[Sentence]) -> Iterable[_Candidate]:
    definitions = _definitions(material, askable)
    for sentence, term, definition in definitions:
        key_term = _term_of(material, term)
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
                options=_shuffled(options, question),
                correct_answer=answer,
                explanation=f"The material defines it: {sentence.text}",
                source_passage=sentence.text,
            ),
            sentence,
            f"term:{term.casefold()}",
            _hardness("mcq", sentence, key_term, bonus=-0.1),
        )


def _term_candidates(material: _Material, askable: Sequence[Sentence]) -> Iterable[_Candidate]:
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
                        options=_shuffled([answer, *distractors], question),
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
    material = _Material.of(spec.material_text)
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


# --- refinement ---------------------------------------------------------------------------

_INTENTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("to_true_false", re.compile(r"\btrue[\s/-]*(or|/)?[\s-]*false\b|\bt/f\b", re.I)),
    ("to_short_answer", re.compile(r"\bshort[\s-]answer\b|\bfill[\s-]in\b|\bopen[\s-]ended\b", re.I)),
    ("to_mcq", re.compile(r"\bmultiple[\s-]choice\b|\bmcq\b", re.I)),
    ("easier", re.compile(r"\beasier\b|\btoo (hard|difficult)\b|\bsimpler\b", re.I)),
    ("harder", re.compile(r"\bharder\b|\bmore (difficult|challenging)\b|\btoo easy\b", re.I)),
    (
        "more_options",
        re.compile(r"\bmore (options|choices|distractors)\b|\badd (an? )?(option|choice)", re.I),
    ),
    ("fewer_options", re.compile(r"\bfewer (options|choices)\b|\bremove (an? )?(option|choice)", re.I)),
    ("shorter", re.compile(r"\bshorter\b|\bconcise\b|\btoo long\b|\bbrief", re.I)),
    ("explain", re.compile(r"\bexplanation\b|\bexplain\b", re.I)),
)
_NEW_ANSWER = re.compile(
    r"\b(?:correct )?answer (?:should be|is|must be|to)\s+[\"']?(?P<answer>[^\"'.]+)", re.I
)
_UNDERSTOOD = (
    "make it true/false, short answer or multiple choice; easier or harder; more or fewer options; "
    "shorter; add an explanation; 'the answer should be X'"
)


def refine_offline(question: DraftQuestion, feedback: str, passages: Sequence[Passage]) -> Refined:
    intents = [name for name, pattern in _INTENTS if pattern.search(feedback)]
    new_answer = _NEW_ANSWER.search(feedback)
    if not intents and new_answer is None:
        raise FeedbackNotUnderstood(
            f"the offline assistant did not understand this feedback; it understands: {_UNDERSTOOD}"
        )
    source = question.source_passage or (passages[0].text if passages else "")
    material = _Material.of(" ".join([source, *(p.text for p in passages)]))
    draft = msgspec.structs.replace(question, options=list(question.options))  # a copy to change
    changes: list[str] = []
    if new_answer is not None:
        _set_answer(draft, new_answer.group("answer").strip(), changes)
    for intent in intents:
        _apply_intent(intent, draft, material, source, changes)
    if not changes:
        raise FeedbackNotUnderstood(
            "the offline assistant understood the feedback but could not apply it to this question "
            f"(a {question.type} question); it understands: {_UNDERSTOOD}"
        )
    return Refined(question=draft, changes=changes, prompt=f"offline refine: {feedback}")


def _set_answer(draft: DraftQuestion, answer: str, changes: list[str]) -> None:
    if draft.type == "mcq" and answer not in draft.options:
        old = str(draft.correct_answer)
        draft.options = [answer if o == old else o for o in draft.options]
    draft.correct_answer = answer
    changes.append(f"answer set to {answer!r}")


def _apply_intent(
    intent: str, draft: DraftQuestion, material: _Material, source: str, changes: list[str]
) -> None:
    answer = str(draft.correct_answer)
    match intent, draft.type:
        case "to_true_false", t if t != "true_false" and source:
            draft.type, draft.question_text = "true_false", f"True or false: {source}"
            draft.options, draft.correct_answer = ["true", "false"], "true"
            changes.append("made a true/false statement from the source passage")
        case ("to_short_answer", "mcq") | ("harder", "mcq"):
            draft.type, draft.options = "short_answer", []
            draft.question_text = draft.question_text.replace(
                "Which answer completes the statement?", "Fill in the blank:"
            )
            changes.append("asked for the answer without options (short answer)")
        case ("to_mcq", "short_answer") | ("easier", "short_answer") | ("more_options", "short_answer"):
            distractors = _distractors_for(material, answer, source)
            if len(distractors) >= 2:
                draft.type, draft.options = "mcq", _shuffled([answer, *distractors], draft.question_text)
                draft.question_text = draft.question_text.replace(
                    "Fill in the blank:", "Which answer completes the statement?"
                )
                changes.append(f"offered {len(distractors) + 1} options from the material's key terms")
        case "easier", "mcq" if len(draft.options) > 3:
            removed = next(o for o in reversed(draft.options) if o != answer)
            draft.options.remove(removed)
            changes.append(f"removed the option {removed!r}")
        case "fewer_options", "mcq" if len(draft.options) > 2:
            removed = next(o for o in reversed(draft.options) if o != answer)
            draft.options.remove(removed)
            changes.append(f"removed the option {removed!r}")
        case "more_options", "mcq":
            extra = [d for d in _distractors_for(material, answer, source, limit=6) if d not in draft.options]
            if extra:
                draft.options.append(extra[0])
                changes.append(f"added the option {extra[0]!r}")
        case "shorter", _:
            shorter = re.sub(r"\s*\([^)]*\)", "", draft.question_text)
            shorter = re.sub(r"^(according to the material,?\s*)", "", shorter, flags=re.I)
            if shorter != draft.question_text:
                draft.question_text = shorter
                changes.append("shortened the question")
        case "explain", _ if source:
            draft.explanation = f"The material says: {source}"
            changes.append("explained the answer with the source passage")


def _distractors_for(material: _Material, answer: str, source: str, limit: int = 3) -> list[str]:
    term = _term_of(material, answer)
    kind = (
        term.kind
        if term
        else (TermKind.YEAR if re.fullmatch(r"1\d{3}|20\d{2}", answer) else TermKind.CONCEPT)
    )
    return material.distractors(answer, kind, avoid=source, near=0, limit=limit)


# --- tutoring and explanations ------------------------------------------------------------


def tutor_offline(question: str, passages: Sequence[Passage], weak_topics: Sequence[str]) -> TutorReply:
    if not passages:
        answer = (
            "I could not find this in the course materials. Try naming the topic the way your "
            "teacher's material does, or ask your teacher."
        )
        return TutorReply(answer=answer, follow_up_questions=[], related_topics=list(weak_topics)[:5])
    quoted = " ".join(f"From \u201c{p.title}\u201d, page {p.page}: {p.text}" for p in passages[:2])
    asked = set(content_words(question))
    material = _Material.of("\n\n".join(p.text for p in passages))
    topics = [
        t.text
        for t in material.terms
        if t.kind in (TermKind.CONCEPT, TermKind.PROPER) and stem(t.key.split()[-1]) not in asked
    ]
    follow_up = [f"What is {topics[0]}?"] if topics else []
    if len(topics) >= 2:
        follow_up.append(f"How is {topics[0]} related to {topics[1]}?")
    follow_up.append("Can you explain this in your own words, with an example?")
    related = list(dict.fromkeys([*topics[:4], *weak_topics]))[:6]
    return TutorReply(answer=quoted, follow_up_questions=follow_up, related_topics=related)


def explain_offline(
    question: DraftQuestion, student_answer: str, is_correct: bool, passages: Sequence[Passage]
) -> str:
    given = student_answer.strip() or "no answer"
    parts = [
        f"Your answer \u201c{given}\u201d is {'correct' if is_correct else 'not correct'}.",
    ]
    if not is_correct:
        parts.append(f"The correct answer is \u201c{question.correct_answer}\u201d.")
    if question.explanation:
        parts.append(question.explanation)
    if passages:
        best = passages[0]
        parts.append(f"See \u201c{best.title}\u201d, page {best.page}: {best.text}")
    return " ".join(parts)


class OfflineProvider:
    """The embedded default; CPU work runs on a thread so the event loop stays free."""

    name = "offline"
    model = OFFLINE_MODEL

    async def generate(self, spec: GenerationSpec) -> Generated:
        return await asyncio.to_thread(generate_offline, spec)

    async def refine(self, question: DraftQuestion, feedback: str, passages: Sequence[Passage]) -> Refined:
        return await asyncio.to_thread(refine_offline, question, feedback, passages)

    async def tutor(
        self, question: str, passages: Sequence[Passage], weak_topics: Sequence[str]
    ) -> TutorReply:
        return await asyncio.to_thread(tutor_offline, question, passages, weak_topics)

    async def explain(
        self, question: DraftQuestion, student_answer: str, is_correct: bool, passages: Sequence[Passage]
    ) -> str:
        return explain_offline(question, student_answer, is_correct, passages)

    async def probe(self) -> bool:
        return True

    async def close(self) -> None:
        return None
