"""Finding the passages of a teacher's materials that bear on a question (BM25 over sentences).

Used by the tutor, explanations and refinement with every provider, so that an answer cites
the course's own material.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from protolearn.ai.text import Sentence, content_words, split_sentences

__all__ = ("Passage", "PassageIndex", "SourceText")

_K1 = 1.2
_B = 0.75
_WINDOW = 2  # sentences per passage: enough context, still a quote


@dataclass(frozen=True, slots=True)
class SourceText:
    material_id: int
    title: str
    text: str  # cleaned, pages separated by form feeds


@dataclass(frozen=True, slots=True)
class Passage:
    material_id: int
    title: str
    page: int
    text: str
    score: float = 0.0


@dataclass(frozen=True, slots=True)
class _Entry:
    passage: Passage
    terms: Counter[str]
    length: int


class PassageIndex:
    """Passages of a few materials, ranked against a query with Okapi BM25."""

    def __init__(self, sources: Iterable[SourceText]) -> None:
        self._entries: list[_Entry] = []
        for source in sources:
            for passage in _passages(source):
                terms = Counter(content_words(passage.text))
                if terms:
                    self._entries.append(_Entry(passage, terms, sum(terms.values())))
        document_frequency: Counter[str] = Counter()
        for entry in self._entries:
            document_frequency.update(entry.terms.keys())
        n = len(self._entries)
        self._idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in document_frequency.items()}
        self._average_length = sum(e.length for e in self._entries) / n if n else 0.0

    def __len__(self) -> int:
        return len(self._entries)

    def search(self, query: str, limit: int = 3) -> list[Passage]:
        """The best ``limit`` passages for ``query``, best first; none when nothing matches."""
        query_terms = set(content_words(query))
        scored: list[tuple[float, int]] = []
        for position, entry in enumerate(self._entries):
            score = 0.0
            for term in query_terms & entry.terms.keys():
                tf = entry.terms[term]
                norm = _K1 * (1 - _B + _B * entry.length / self._average_length)
                score += self._idf[term] * tf * (_K1 + 1) / (tf + norm)
            if score > 0:
                scored.append((score, position))
        scored.sort(key=lambda item: (-item[0], item[1]))
        found: list[Passage] = []
        for score, position in scored[:limit]:
            passage = self._entries[position].passage
            found.append(
                Passage(passage.material_id, passage.title, passage.page, passage.text, round(score, 3))
            )
        return found


def _passages(source: SourceText) -> Iterable[Passage]:
    by_paragraph: dict[int, list[Sentence]] = {}
    for sentence in split_sentences(source.text):
        by_paragraph.setdefault(sentence.paragraph, []).append(sentence)
    for sentences in by_paragraph.values():
        for start in range(0, len(sentences), _WINDOW):
            window: Sequence[Sentence] = sentences[start : start + _WINDOW]
            text = " ".join(s.text for s in window)
            yield Passage(source.material_id, source.title, window[0].page, text)
