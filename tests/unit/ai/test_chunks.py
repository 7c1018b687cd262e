"""Long material reaches a language model in pieces cut at paragraph and sentence ends."""

from __future__ import annotations

from protolearn.ai.chat import chunk_material
from tests.support.ai_material import BIOLOGY, HISTORY, pages_of


def test_chunks_keep_paragraphs_whole_and_lose_nothing() -> None:
    material = pages_of((BIOLOGY + HISTORY) * 5)
    chunks = chunk_material(material, max_chars=2_000)
    assert len(chunks) > 5
    assert all(len(chunk) <= 2_000 for chunk in chunks)
    paragraphs = [" ".join(p.split()) for page in material.split("\f") for p in page.split("\n\n")]
    joined = "\n\n".join(chunks)
    assert all(paragraph in " ".join(joined.split()) for paragraph in paragraphs)


def test_a_paragraph_longer_than_a_chunk_is_cut_at_a_sentence_end() -> None:
    paragraph = " ".join(f"Sentence number {i} is here." for i in range(200))
    chunks = chunk_material(paragraph, max_chars=500)
    assert all(len(c) <= 500 and c.endswith(".") for c in chunks)
    assert " ".join(chunks) == paragraph
