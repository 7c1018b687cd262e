"""Bounded extraction: the outside tester's files (picture, archive and page bombs, broken and
odd packages) are refused from their header or structure, or read within the limits; pictures
and page renders larger than OCR needs are scaled down before OCR."""

from __future__ import annotations

import dataclasses
import io
import zipfile

import cv2
import numpy as np
import pytest

from protolearn.ai.errors import MaterialOverLimit, UnreadableMaterial
from protolearn.ai.extraction import MaterialKind, check_readable, extract, sniff
from protolearn.ai.image_headers import picture_size
from protolearn.ai.limits import ExtractionLimits
from protolearn.ai.ocr import OcrReading, RapidOcr
from protolearn.config import Settings
from tests.support.ai_material import (
    BIOLOGY,
    blank_pdf,
    docx_bomb,
    docx_of,
    docx_with_document,
    patch_zip_entry,
    png_bomb,
    png_of_text,
    scanned_pdf,
)

LIMITS = ExtractionLimits.from_settings(Settings.from_env({}))
DOCUMENT = "word/document.xml"
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


class RecordingOcr(RapidOcr):
    """Records the size of each image handed to OCR and reads nothing: the limits are the subject."""

    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[tuple[int, int]] = []

    def read(self, image: np.ndarray) -> OcrReading:  # type: ignore[type-arg]
        self.sizes.append((int(image.shape[1]), int(image.shape[0])))
        return OcrReading("text read from the picture", "text read from the picture", 0.9, "recording")


def jpeg(width: int, height: int) -> bytes:
    picture = np.full((height, width, 3), 255, dtype=np.uint8)
    cv2.putText(picture, "The cell", (width // 10, height // 2), cv2.FONT_HERSHEY_SIMPLEX, width / 400, 0, 8)
    ok, encoded = cv2.imencode(".jpg", picture)
    assert ok
    return encoded.tobytes()


def test_picture_sizes_are_read_from_the_header() -> None:
    assert picture_size(png_of_text("x", width=595, height=420)) == (1240, 875)
    assert picture_size(jpeg(640, 480)) == (640, 480)
    assert picture_size(png_bomb(60000, 60000)) == (60000, 60000)  # 445 KB, never decoded


@pytest.mark.parametrize(("width", "height"), [(30000, 30000), (60000, 60000)])
def test_picture_bombs_are_refused_before_decoding(width: int, height: int) -> None:
    bomb = png_bomb(width, height)
    with pytest.raises(MaterialOverLimit, match=f"{width} x {height} pixels"):
        check_readable(MaterialKind.PNG, bomb, LIMITS)
    with pytest.raises(MaterialOverLimit, match="images up to 120 Mpx are read"):
        extract(MaterialKind.PNG, bomb, RecordingOcr(), LIMITS)


def test_broken_pictures_are_refused_from_their_structure() -> None:
    photo = png_of_text("x")
    with pytest.raises(UnreadableMaterial, match="cut short"):
        check_readable(MaterialKind.PNG, photo[:-20], LIMITS)  # IEND lost
    header_broken = photo[:20] + bytes([photo[20] ^ 0xFF]) + photo[21:]
    with pytest.raises(UnreadableMaterial, match="no valid header"):
        check_readable(MaterialKind.PNG, header_broken, LIMITS)
    with pytest.raises(UnreadableMaterial, match="cut short"):
        check_readable(MaterialKind.JPEG, jpeg(640, 480)[:100], LIMITS)


def test_a_photo_larger_than_ocr_needs_is_scaled_down_first() -> None:
    ocr = RecordingOcr()
    extract(MaterialKind.PNG, png_of_text("x", width=595, height=420), ocr, LIMITS)  # 1.1 Mpx: as is
    extract(MaterialKind.JPEG, jpeg(4032, 3024), ocr, LIMITS)  # a phone's 12 Mpx
    extract(MaterialKind.JPEG, jpeg(12000, 9000), ocr, LIMITS)  # 108 Mpx, decoded at a quarter
    small, phone, huge = ocr.sizes
    assert small == (1240, 875)
    for width, height in (phone, huge):
        assert width * height <= LIMITS.ocr_max_pixels
        assert width * height > 0.9 * LIMITS.ocr_max_pixels  # what OCR needs is kept
        assert width / height == pytest.approx(4 / 3, rel=0.01)


def test_pdfs_past_the_page_limits_are_refused() -> None:
    with pytest.raises(MaterialOverLimit, match="3000 pages; at most 300"):
        check_readable(MaterialKind.PDF, blank_pdf(3000), LIMITS)
    with pytest.raises(MaterialOverLimit, match="page 1 of the PDF is 50 x 50 in"):
        check_readable(MaterialKind.PDF, blank_pdf(1, width=3600, height=3600), LIMITS)
    # A0, the largest paper size, and a normal handout pass.
    assert check_readable(MaterialKind.PDF, blank_pdf(1, width=2384, height=3370), LIMITS) == 1
    assert check_readable(MaterialKind.PDF, blank_pdf(50), LIMITS) == 50


def test_a_big_page_is_rendered_for_ocr_within_the_pixel_cap() -> None:
    ocr = RecordingOcr()
    extract(MaterialKind.PDF, blank_pdf(1), ocr, LIMITS)  # A4: 200 dpi
    extract(MaterialKind.PDF, blank_pdf(1, width=2384, height=3370), ocr, LIMITS)  # A0
    a4, a0 = ocr.sizes
    assert a4 == (pytest.approx(595 / 72 * 200, abs=1), pytest.approx(842 / 72 * 200, abs=1))
    assert a0[0] * a0[1] <= LIMITS.ocr_max_pixels
    assert a0[0] / a0[1] == pytest.approx(2384 / 3370, rel=0.01)


def test_ocr_stops_at_the_budget_of_a_material() -> None:
    ocr = RecordingOcr()
    tight = dataclasses.replace(LIMITS, ocr_budget_s=1e-9)  # spent by the first page
    with pytest.raises(MaterialOverLimit, match="stopped before page 2 of 3"):
        extract(MaterialKind.PDF, scanned_pdf(BIOLOGY), ocr, tight)
    assert len(ocr.sizes) == 1


def test_word_packages_compressed_or_encrypted_oddly_are_refused() -> None:
    document = docx_of(BIOLOGY[:1])
    deflate64 = patch_zip_entry(document, DOCUMENT, method=9)
    with pytest.raises(UnreadableMaterial, match="method 9"):
        check_readable(sniff(deflate64), deflate64, LIMITS)
    encrypted = patch_zip_entry(document, DOCUMENT, flag_bits=0x1)
    with pytest.raises(UnreadableMaterial, match="encrypted"):
        check_readable(sniff(encrypted), encrypted, LIMITS)
    for hostile in (deflate64, encrypted):
        with pytest.raises(UnreadableMaterial):
            extract(MaterialKind.DOCX, hostile, RecordingOcr(), LIMITS)


def test_a_word_document_of_too_much_xml_is_refused_from_its_directory() -> None:
    bomb = docx_bomb(300_000_000)  # about 1 MB
    with pytest.raises(MaterialOverLimit, match="300 MB of XML; at most 50 MB"):
        check_readable(sniff(bomb), bomb, LIMITS)


def test_a_directory_that_lies_about_the_size_does_not_get_past_reading() -> None:
    honest = docx_bomb(5_000_000)
    lying = patch_zip_entry(honest, DOCUMENT, file_size=10_000)
    assert check_readable(MaterialKind.DOCX, lying, LIMITS) == 1  # the directory looks fine
    with pytest.raises(UnreadableMaterial, match="damaged"):
        extract(MaterialKind.DOCX, lying, RecordingOcr(), LIMITS)
    small = dataclasses.replace(LIMITS, max_docx_xml_bytes=1_000_000)
    with pytest.raises(MaterialOverLimit, match="at most 1 MB"):
        extract(MaterialKind.DOCX, honest, RecordingOcr(), small)


def test_broken_xml_is_found_when_the_document_is_read() -> None:
    broken = docx_with_document([b"<w:document><w:body><w:p>"])
    assert check_readable(MaterialKind.DOCX, broken, LIMITS) == 1
    with pytest.raises(UnreadableMaterial, match="not well-formed XML"):
        extract(MaterialKind.DOCX, broken, RecordingOcr(), LIMITS)
    laughs = docx_with_document(
        [
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;">]>',
            f"<w:document {W}><w:body><w:p><w:r><w:t>&b;</w:t></w:r></w:p></w:body></w:document>".encode(),
        ]
    )
    with pytest.raises(UnreadableMaterial, match="DTD or entities"):
        extract(MaterialKind.DOCX, laughs, RecordingOcr(), LIMITS)


def test_word_text_keeps_paragraphs_runs_and_tables() -> None:
    body = (
        "<w:p><w:r><w:t>The cell is </w:t></w:r>"
        "<w:r><w:t>the basic unit</w:t><w:tab/><w:t>of life.</w:t></w:r></w:p>"
        "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Organelle</w:t></w:r></w:p></w:tc>"
        "<w:tc><w:p><w:r><w:t>Job</w:t></w:r></w:p></w:tc></w:tr>"
        "<w:tr><w:tc><w:p><w:r><w:t>Nucleus</w:t></w:r></w:p></w:tc>"
        "<w:tc><w:p><w:r><w:t>holds the DNA</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"
        "<w:p><w:r><w:t>Cells divide.</w:t></w:r></w:p>"
    )
    document = docx_with_document([f"<w:document {W}><w:body>{body}</w:body></w:document>".encode()])
    result = extract(MaterialKind.DOCX, document, RecordingOcr(), LIMITS)
    assert result.text.split("\n\n") == [
        "The cell is the basic unit of life.",
        "Cells divide.",
        "Organelle | Job",
        "Nucleus | holds the DNA",
    ]


def test_a_zip_of_too_many_parts_is_refused_before_it_is_listed() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(DOCUMENT, "<w:document/>")
        for number in range(10_001):
            archive.writestr(f"p{number}", b"")
    with pytest.raises(MaterialOverLimit, match="more than 10000 parts"):
        sniff(buffer.getvalue())
