"""Material text as pages, sentences, words and key terms. Pure functions, no I/O.

Extracted text keeps pages apart with form feeds (``\\f``); everything here is deterministic, so
the offline generator and the passage search give the same answer for the same material.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = (
    "DETERMINERS",
    "PAGE_BREAK",
    "STOPWORDS",
    "KeyTerm",
    "Sentence",
    "TermKind",
    "clean_text",
    "content_words",
    "key_terms",
    "matchable",
    "split_sentences",
    "stem",
)

PAGE_BREAK = "\f"

# Function words and words too generic to ask about.
_STOPWORD_TEXT = """a about above after again against all almost along also although always am among an
    and another any anyone are around as at be became because become becomes been before being below
    between both but by can cannot could did do does doing done down during each either else enough even every
    few first for from further had has have having he her here hers herself him himself his how however
    i if in into is it its itself just last least less like made make makes many may me might more most
    much must my myself near neither never new next no nor not now of off often on once one only onto or
    other others our ours ourselves out over own per perhaps rather same second see seen several shall
    she should since so some such than that the their theirs them themselves then there these they this
    those though three through thus to too two under until up upon us use used uses using usually very
    was we were what whatever when where whether which while who whom whose why will with within without
    would yet you your yours yourself example examples chapter section figure table page pages part
    thing things way ways lot kind kinds type types number numbers called known form forms called also
    different important include includes including called certain main often several various whole
    instead following called however therefore second third called within across called become usually
    small large big high low good great long short little whole able work works end ends time times
    """
STOPWORDS = frozenset(_STOPWORD_TEXT.split())

_PRONOUN_TEXT = "it this that these those they he she we you i there here its their his her such which what"
_PRONOUN_STARTS = frozenset(_PRONOUN_TEXT.split())
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "cf.", "Dr.", "Mr.", "Mrs.", "Ms.", "Prof.", "St.", "No.")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"\u201d\u2019)]?\s+(?=[\"\u201c(]?[A-Z0-9])")
_WORD = re.compile(r"[A-Za-z][A-Za-z'\u2019\-]*[A-Za-z]|[A-Za-z]|\d+(?:[.,]\d+)*")
_HYPHEN_BREAK = re.compile(r"(\w)-\n(\w)")
_QUOTES = str.maketrans(
    {"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'", "\u2013": "-", "\u2014": "-", "\u00a0": " "}
)
# A run of capitalised words ("Treaty of Versailles"), possibly joined by "of"/"and"/"de".
_PROPER = re.compile(r"\b[A-Z][a-zA-Z'\-]+(?:\s+(?:of|and|de|von|van|the)?\s*[A-Z][a-zA-Z'\-]+)*")
_YEAR = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})\b")
_NUMBER = re.compile(r"\b\d+(?:[.,]\d+)?\b")


class TermKind(StrEnum):
    """Terms of one kind stand in for each other as distractors."""

    PROPER = "proper"  # names of people, places, events
    YEAR = "year"
    NUMBER = "number"
    CONCEPT = "concept"  # common-noun phrases: "cell membrane", "photosynthesis"


@dataclass(frozen=True, slots=True)
class Sentence:
    text: str
    page: int  # from 1
    index: int  # position in the material
    paragraph: int


@dataclass(slots=True)
class KeyTerm:
    text: str  # as it first appears in the material
    kind: TermKind
    count: int = 0
    sentences: list[int] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.text.casefold()

    @property
    def word_count(self) -> int:
        return len(self.text.split())


def clean_text(text: str) -> str:
    """Unicode-normalised text: words split over lines joined, spaces collapsed, pages kept apart."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    text = _HYPHEN_BREAK.sub(r"\1\2", text)
    pages = []
    for page in text.split(PAGE_BREAK):
        paragraphs = [" ".join(block.split()) for block in re.split(r"\n\s*\n", page)]
        pages.append("\n\n".join(p for p in paragraphs if p))
    return PAGE_BREAK.join(pages)


def matchable(text: str) -> str:
    """A form of ``text`` for "is this passage in the material": case, quotes, spacing ignored."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold()
    text = _HYPHEN_BREAK.sub(r"\1\2", text)
    return " ".join(re.sub(r"[^\w%.,;:'\"()-]", " ", text).split())


def split_sentences(text: str) -> list[Sentence]:
    """Every sentence of cleaned material text with its page and paragraph."""
    found: list[Sentence] = []
    paragraph_number = 0
    for page_number, page in enumerate(text.split(PAGE_BREAK), start=1):
        for paragraph in page.split("\n\n"):
            paragraph = " ".join(paragraph.split())
            if not paragraph:
                continue
            for sentence in _sentences_of(paragraph):
                found.append(Sentence(sentence, page_number, len(found), paragraph_number))
            paragraph_number += 1
    return found


def _sentences_of(paragraph: str) -> Iterable[str]:
    protected = paragraph
    for abbreviation in _ABBREVIATIONS:
        protected = protected.replace(abbreviation, abbreviation.replace(".", "\x00"))
    for piece in _SENTENCE_END.split(protected):
        piece = piece.replace("\x00", ".").strip()
        if piece:
            yield piece


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def stem(word: str) -> str:
    """A light English stem, so that "cells" finds "cell" and "proteins" finds "protein"."""
    word = word.casefold().replace("\u2019", "'").removesuffix("'s")
    for suffix, keep in (("ies", "y"), ("sses", "ss"), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith(("ss", "us", "is")):
            return word[: -len(suffix)] + keep
    return word


def content_words(text: str) -> list[str]:
    """Stemmed words of ``text`` that carry meaning (no stopwords, no one-letter words)."""
    return [stem(w) for w in words(text) if len(w) > 1 and w.casefold() not in STOPWORDS]


def key_terms(sentences: Sequence[Sentence]) -> list[KeyTerm]:
    """The material's key terms, most frequent first: names, years, numbers and concepts.

    A name is a run of capitalised words seen at least once away from the start of a sentence;
    a concept is a phrase of one to three content words seen at least twice, at least once after
    a determiner ("the membrane", "a catalyst"), which keeps verbs and adjectives out.
    """
    terms: dict[str, KeyTerm] = {}
    sentences = [s for s in sentences if s.text.rstrip("\"')").endswith((".", "!", "?"))]  # not headings

    def add(surface: str, kind: TermKind, sentence: Sentence) -> None:
        term = terms.get(surface.casefold())
        if term is None:
            term = terms[surface.casefold()] = KeyTerm(surface, kind)
        term.count += 1
        if not term.sentences or term.sentences[-1] != sentence.index:
            term.sentences.append(sentence.index)

    proper_mid_sentence: set[str] = set()
    for sentence in sentences:
        for match in _PROPER.finditer(sentence.text):
            if match.start() > 0:
                proper_mid_sentence.add(match.group().casefold())
    for sentence in sentences:
        for match in _PROPER.finditer(sentence.text):
            surface = match.group()
            if surface.casefold() in STOPWORDS or surface.split()[0].casefold() in _PRONOUN_STARTS:
                continue
            if match.start() == 0 and surface.casefold() not in proper_mid_sentence:
                continue
            add(surface, TermKind.PROPER, sentence)
        for match in _YEAR.finditer(sentence.text):
            add(match.group(), TermKind.YEAR, sentence)
        for match in _NUMBER.finditer(sentence.text):
            if not _YEAR.fullmatch(match.group()):
                add(match.group(), TermKind.NUMBER, sentence)
    for surface, where in _concepts(sentences).items():
        term = terms.setdefault(surface.casefold(), KeyTerm(surface, TermKind.CONCEPT))
        if term.kind is TermKind.CONCEPT:
            term.sentences = where
            term.count = len(where)
    return sorted(terms.values(), key=lambda t: (-t.count, -t.word_count, t.key))


_DETERMINER_TEXT = "the a an this these its their his her our your each every some any of"
DETERMINERS = frozenset(_DETERMINER_TEXT.split())
# Endings of adjectives ("chemical", "particular", "organic"): a concept is a noun.
_ADJECTIVE_ENDINGS = ("al", "ar", "ic", "ous", "ive", "ful", "less", "able", "ible", "ly")


def _concepts(sentences: Sequence[Sentence]) -> dict[str, list[int]]:
    """Common-noun phrases of one to three words, with the sentences they occur in."""
    occurrences: dict[str, list[int]] = defaultdict(list)
    surfaces: dict[str, str] = {}
    after_determiner: Counter[str] = Counter()
    for sentence in sentences:
        tokens = words(sentence.text)
        for start in range(len(tokens)):
            for length in (1, 2, 3):
                phrase = tokens[start : start + length]
                if len(phrase) < length or not _concept_shaped(phrase, sentence_start=start == 0):
                    continue
                key = " ".join(w.casefold() for w in phrase)
                if start > 0 or key not in surfaces:  # prefer the form seen inside a sentence
                    surfaces[key] = " ".join(phrase) if start > 0 else key
                if not occurrences[key] or occurrences[key][-1] != sentence.index:
                    occurrences[key].append(sentence.index)
                if start > 0 and tokens[start - 1].casefold() in DETERMINERS:
                    after_determiner[key] += 1
    kept = {k: v for k, v in occurrences.items() if len(v) >= 2 and after_determiner[k]}
    # A phrase seen as often as a longer phrase that holds it is only part of that phrase.
    for key in sorted(kept, key=len):
        if any(k != key and f" {key} " in f" {k} " and len(kept[k]) >= len(kept[key]) for k in kept):
            del kept[key]
    return {surfaces[k]: v for k, v in kept.items()}


def _concept_shaped(phrase: Sequence[str], *, sentence_start: bool) -> bool:
    for position, word in enumerate(phrase):
        if word.casefold() in STOPWORDS or len(word) < 3 or not word.isalpha():
            return False
        if word[0].isupper() and not (sentence_start and position == 0):
            return False  # a name, not a concept
    last = phrase[-1].casefold()
    if len(phrase) == 1 and last.endswith(_ADJECTIVE_ENDINGS):
        return False
    return not (last.endswith("ly") or (last.endswith("ed") and not last.endswith("eed")))
