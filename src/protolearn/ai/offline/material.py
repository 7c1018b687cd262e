"""What the offline provider knows of a text: its sentences, key terms by kind, and distractors.

Built per material (or per passage set) and shared by generation, refinement and tutoring.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from protolearn.ai.text import KeyTerm, Sentence, TermKind, clean_text, key_terms, split_sentences, stem

__all__ = ("Material", "shuffled", "term_of")


@dataclass(slots=True)
class Material:
    """A text's sentences and key terms, indexed by sentence and by kind; term patterns cached."""

    sentences: list[Sentence]
    terms: list[KeyTerm]
    terms_in: dict[int, list[KeyTerm]] = field(default_factory=dict)
    by_kind: dict[TermKind, list[KeyTerm]] = field(default_factory=dict)
    patterns: dict[str, re.Pattern[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, text: str) -> Material:
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


def term_of(material: Material, text: str) -> KeyTerm | None:
    return next((t for t in material.terms if t.key == text.casefold()), None)


def shuffled(options: list[str], seed: str) -> list[str]:
    """A fixed order per question, so the answer is not always first."""
    return sorted(options, key=lambda o: hashlib.sha256(f"{seed}\x00{o}".encode()).hexdigest())
