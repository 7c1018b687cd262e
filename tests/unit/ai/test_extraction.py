"""Extraction from files made the way teachers make them: text PDFs, scans, photos, Word files."""

from __future__ import annotations

from typing import Any

import pymupdf
import pytest

from protolearn.ai.errors import UnreadableMaterial, UnsupportedMaterial
from protolearn.ai.extraction import MaterialKind, check_readable, extract, sniff
from protolearn.ai.limits import ExtractionLimits
from protolearn.ai.ocr import RapidOcr
from protolearn.ai.text import PAGE_BREAK
from protolearn.config import Settings
from tests.support.ai_material import (
    ACID_TABLE,
    BIOLOGY,
    docx_of,
    png_of_text,
    scanned_pdf,
    table_pdf,
    text_pdf,
)

PRINTED = "Photosynthesis takes place in the chloroplast.\nThe nucleus contains the genetic material."
LIMITS = ExtractionLimits.from_settings(Settings.from_env({}))


@pytest.fixture(scope="module")
def ocr() -> RapidOcr:
    return RapidOcr()


def test_types_are_sniffed_from_the_bytes() -> None:
    assert sniff(text_pdf(["x"])) is MaterialKind.PDF
    assert sniff(png_of_text("x")) is MaterialKind.PNG
    assert sniff(docx_of(["x"])) is MaterialKind.DOCX
    with pytest.raises(UnsupportedMaterial):
        sniff(b"just some text that calls itself notes.pdf")


def test_a_text_pdf_is_read_page_by_page(ocr: RapidOcr) -> None:
    progress: list[float] = []
    result = extract(MaterialKind.PDF, text_pdf(BIOLOGY), ocr, LIMITS, progress.append)
    pages = result.text.split(PAGE_BREAK)
    assert (result.page_count, result.ocr_pages, result.ocr_confidence) == (3, 0, None)
    assert "The cell is the basic unit of life." in pages[0]
    assert (
        "Photosynthesis is the process by which plants convert light energy into chemical energy." in pages[1]
    )
    assert progress == pytest.approx([1 / 3, 2 / 3, 1.0])


def test_a_pdf_keeps_its_headings_table_and_list_as_markdown(ocr: RapidOcr) -> None:
    mixed = pymupdf.open(stream=table_pdf(), filetype="pdf")
    mixed.insert_pdf(pymupdf.open(stream=scanned_pdf([PRINTED]), filetype="pdf"))
    result = extract(MaterialKind.PDF, mixed.tobytes(), ocr, LIMITS)
    handout, scan = result.markdown.split(PAGE_BREAK)
    lines = [line for line in handout.split("\n") if line]
    assert lines[:2] == ["# Acids and Bases", "## Strong and weak acids"]
    table = [line for line in lines if line.startswith("|")]
    assert table == ["|Acid|Formula|pKa|", "|---|---|---|"] + [
        "|" + "|".join(row) + "|" for row in ACID_TABLE[1:]
    ]
    assert "## Indicators" in lines and "- Litmus paper turns red in an acid and blue in a base." in lines
    assert "Photosynthesis takes place in the chloroplast." in scan  # an OCR'd page: its text
    # The plain text is the text layer's, as before: what the offline generator reads.
    assert "A strong acid dissociates completely in water." in result.text.split(PAGE_BREAK)[0]
    assert [(p.page, p.provider) for p in result.pages] == [(1, "text_layer"), (2, "rapidocr")]
    assert result.pages[1].ocr_confidence == result.ocr_confidence and result.ocr_pages == 1


def test_a_page_the_markdown_reader_fails_on_keeps_its_plain_text(
    ocr: RapidOcr, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pymupdf4llm

    read = pymupdf4llm.to_markdown
    asked: list[list[int]] = []

    def failing_on_page_2(document: pymupdf.Document, *, pages: list[int], **options: Any) -> Any:
        asked.append(pages)
        if 1 in pages:
            raise RuntimeError("a page its heuristics break on")
        return read(document, pages=pages, **options)

    monkeypatch.setattr(pymupdf4llm, "to_markdown", failing_on_page_2)
    handout = pymupdf.open(stream=table_pdf(), filetype="pdf")
    handout.insert_pdf(pymupdf.open(stream=text_pdf(BIOLOGY[:2]), filetype="pdf"))
    result = extract(MaterialKind.PDF, handout.tobytes(), ocr, LIMITS)
    assert asked == [[0, 1, 2], [0], [1], [2]]  # the chunk, then page by page
    first, second, third = result.markdown.split(PAGE_BREAK)
    assert "|Acetic acid|CH3COOH|4.76|" in first and "The mitochondrion is the organelle" in third
    assert second.split() == result.text.split(PAGE_BREAK)[1].split()  # its plain text, nothing lost
    assert "The cell is the basic unit of life." in second


def test_scanned_pages_and_photos_are_read_by_ocr(ocr: RapidOcr) -> None:
    scan = extract(MaterialKind.PDF, scanned_pdf([PRINTED]), ocr, LIMITS)
    assert (scan.page_count, scan.ocr_pages) == (1, 1)
    assert scan.ocr_confidence is not None and scan.ocr_confidence > 0.8
    assert "Photosynthesis takes place in the chloroplast." in scan.text
    photo = extract(MaterialKind.PNG, png_of_text(PRINTED), ocr, LIMITS)
    assert "The nucleus contains the genetic material." in photo.text


def test_word_documents_are_read() -> None:
    result = extract(MaterialKind.DOCX, docx_of(BIOLOGY[:1]), RapidOcr(), LIMITS)
    assert "The nucleus is the organelle that contains the genetic material of the cell." in result.text
    assert result.ocr_pages == 0


def test_broken_encrypted_and_empty_files_are_refused() -> None:
    document = pymupdf.open()
    document.new_page().insert_text((72, 72), "secret")
    encrypted = document.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="pw", owner_pw="pw")
    with pytest.raises(UnreadableMaterial, match="password"):
        check_readable(MaterialKind.PDF, encrypted, LIMITS)
    with pytest.raises(UnreadableMaterial):
        check_readable(MaterialKind.PDF, text_pdf(["a page"])[:300], LIMITS)
    with pytest.raises(UnreadableMaterial, match="image"):
        check_readable(MaterialKind.PNG, png_of_text("x")[:100], LIMITS)
    with pytest.raises(UnreadableMaterial):
        check_readable(MaterialKind.DOCX, docx_of(["x"])[:500], LIMITS)
