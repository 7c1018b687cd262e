"""What reading one material may cost: pixels, pages, page size, XML bytes, OCR time.

Checked twice: at upload from the file's header and structure (cheap, in the server), and again
while the material is read (in the extraction process, which must not trust the first check).
"""

from __future__ import annotations

from dataclasses import dataclass

from protolearn.config import Settings

__all__ = ("ExtractionLimits",)


@dataclass(frozen=True, slots=True)
class ExtractionLimits:
    max_image_pixels: int  # a picture with more is refused
    ocr_max_pixels: int  # a picture or page render with more is scaled down before OCR
    max_pdf_pages: int
    max_pdf_page_points: float  # a page's longer side
    max_docx_xml_bytes: int  # uncompressed, over the parts read
    ocr_budget_s: float  # OCR time of one material; checked between pages

    @classmethod
    def from_settings(cls, settings: Settings) -> ExtractionLimits:
        return cls(
            max_image_pixels=settings.ai_max_image_pixels,
            ocr_max_pixels=settings.ai_ocr_max_pixels,
            max_pdf_pages=settings.ai_max_pdf_pages,
            max_pdf_page_points=settings.ai_max_pdf_page_points,
            max_docx_xml_bytes=settings.ai_max_docx_xml_bytes,
            ocr_budget_s=settings.ai_ocr_budget_seconds,
        )
