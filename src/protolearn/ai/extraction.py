"""Text out of uploaded material: PDF (text layer, OCR for pages without one), images, DOCX.

Each material gives its plain text and its Markdown (headings, lists, tables; formulas where a
vision model read the page; ``markdown``), both with pages separated by form feeds, and where each
page's text came from. A PDF's text layer is read as Markdown by PyMuPDF4LLM (font sizes for
headings, ruled tables as pipe tables); a page without one goes to the OCR provider (``ocr``).

Synchronous and CPU-bound: ``extract`` runs in the extraction process (``extraction_worker``),
``sniff`` and ``check_readable`` in the server at upload, where they must stay cheap: they read
headers and structure, never decode a picture or render a page. Both sides hold to the same
``ExtractionLimits``. The file's type is sniffed from its bytes, never from its name. Errors of
PyMuPDF and OpenCV are translated here into ``UnsupportedMaterial`` / ``UnreadableMaterial`` /
``MaterialOverLimit``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING

import cv2
import numpy as np
import pymupdf

from protolearn.ai import markdown
from protolearn.ai.errors import (
    MaterialOverLimit,
    ProviderUnavailable,
    UnreadableMaterial,
    UnsupportedMaterial,
)
from protolearn.ai.image_headers import PNG_SIGNATURE, picture_size
from protolearn.ai.ocr import OcrProvider, OcrReading, PageProvider
from protolearn.ai.text import PAGE_BREAK, clean_text
from protolearn.ai.word_documents import check_word_document, is_word_document, read_word_document

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from protolearn.ai.limits import ExtractionLimits

__all__ = ("Extraction", "MaterialKind", "PageSource", "check_readable", "extract", "sniff")

log = logging.getLogger(__name__)

# A page with fewer characters than this in its text layer is a scan: it is OCR'd.
_MIN_TEXT_LAYER_CHARS = 20
_OCR_DPI = 200
_MARKDOWN_CHUNK_PAGES = 10
_MARKDOWN_BUDGET_S = 120
_MARKDOWN_GRAPHICS_LIMIT = 5000
# JPEG decodes at 1/2, 1/4 or 1/8 of its size directly (DCT scaling): a large photo never
# exists in memory at full size. OpenCV decodes other formats whole whatever the flag.
_JPEG_REDUCED = {
    1: cv2.IMREAD_COLOR,
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}


class MaterialKind(StrEnum):
    PDF = "application/pdf"
    PNG = "image/png"
    JPEG = "image/jpeg"
    DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

    @property
    def extension(self) -> str:
        return {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}.get(self.value, "docx")


@dataclass(frozen=True, slots=True)
class PageSource:
    """Where one page's text came from."""

    page: int  # from 1
    provider: PageProvider
    model: str = ""  # the vision model's name
    ocr_confidence: float | None = None
    note: str = ""  # why it was not read as configured (the vision model failed: RapidOCR read it)


@dataclass(frozen=True, slots=True)
class Extraction:
    text: str  # cleaned; pages separated by form feeds
    page_count: int
    ocr_pages: int
    ocr_confidence: float | None  # mean over OCR'd pages, None when nothing was OCR'd
    markdown: str = ""  # the same pages as Markdown (module docstring)
    pages: tuple[PageSource, ...] = ()


def sniff(data: bytes) -> MaterialKind:
    """The material's type from its first bytes (and, for a ZIP, its parts)."""
    if data.startswith(b"%PDF-") or (b"%PDF-" in data[:1024] and data.lstrip().startswith(b"%PDF-")):
        return MaterialKind.PDF
    if data.startswith(PNG_SIGNATURE):
        return MaterialKind.PNG
    if data.startswith(b"\xff\xd8\xff"):
        return MaterialKind.JPEG
    if data.startswith(b"PK\x03\x04") and is_word_document(data):
        return MaterialKind.DOCX
    raise UnsupportedMaterial("upload a PDF, a PNG or JPEG image, or a Word document (DOCX)")


def check_readable(kind: MaterialKind, data: bytes, limits: ExtractionLimits) -> int:
    """The page count, or ``UnreadableMaterial`` for a broken, encrypted or empty file and
    ``MaterialOverLimit`` past a limit. Cheap: headers and structure only."""
    match kind:
        case MaterialKind.PDF:
            with _open_pdf(data, limits) as document:
                return int(document.page_count)
        case MaterialKind.PNG | MaterialKind.JPEG:
            _checked_size(data, limits)
            return 1
        case MaterialKind.DOCX:
            return check_word_document(data, limits)


def extract(
    kind: MaterialKind,
    data: bytes,
    ocr: OcrProvider,
    limits: ExtractionLimits,
    on_progress: Callable[[float], None] = lambda _: None,
) -> Extraction:
    reader = _PageReader(ocr)
    match kind:
        case MaterialKind.PDF:
            return _extract_pdf(data, reader, limits, on_progress)
        case MaterialKind.PNG | MaterialKind.JPEG:
            reading = reader.read(_decode_picture(kind, data, limits))
            on_progress(1.0)
            return _assembled([reading.text], [reading.markdown], [_source_of(1, reading)])
        case MaterialKind.DOCX:
            text, page_count = read_word_document(data, limits)
            on_progress(1.0)
            text = clean_text(text)
            return Extraction(text, page_count, 0, None, text, (PageSource(1, PageProvider.DOCX),))


class _PageReader:
    """One material's OCR: the configured provider until it cannot be reached, then its fallback
    for the rest of the material (a provider that is down is not waited for page after page)."""

    def __init__(self, ocr: OcrProvider) -> None:
        self._ocr = ocr
        self._down: str | None = None

    def read(self, image: NDArray[np.uint8]) -> OcrReading:
        fallback = self._ocr.fallback
        if self._down is None or fallback is None:
            try:
                return self._ocr.read(image)
            except ProviderUnavailable as exc:
                if fallback is None:
                    raise
                log.warning("OCR provider unavailable (%s); reading with its fallback", exc.detail)
                self._down = exc.detail
        reading = fallback.read(image)
        note = f"The vision model could not read this page ({self._down}): offline OCR read it instead"
        return replace(reading, note=note + ", without its tables and formulas.")


def _source_of(page: int, reading: OcrReading) -> PageSource:
    return PageSource(page, reading.provider, reading.model, reading.confidence, reading.note)


def _assembled(texts: Sequence[str], markdowns: Sequence[str], sources: Sequence[PageSource]) -> Extraction:
    confidences = [s.ocr_confidence for s in sources if s.provider not in _NOT_OCR]
    known = [c for c in confidences if c is not None]
    return Extraction(
        text=clean_text(PAGE_BREAK.join(texts)),
        page_count=len(sources),
        ocr_pages=len(confidences),
        ocr_confidence=round(sum(known) / len(known), 4) if known else None,
        markdown=PAGE_BREAK.join(markdown.tidy(m.replace(PAGE_BREAK, "\n")) for m in markdowns),
        pages=tuple(sources),
    )


_NOT_OCR = frozenset({PageProvider.TEXT_LAYER, PageProvider.DOCX})


def _open_pdf(data: bytes, limits: ExtractionLimits) -> pymupdf.Document:
    try:
        document = pymupdf.open(stream=data, filetype="pdf")  # type: ignore[no-untyped-call]
    except (RuntimeError, ValueError) as exc:
        raise UnreadableMaterial(f"the PDF cannot be read ({exc})") from exc
    try:
        if document.needs_pass:
            raise UnreadableMaterial("the PDF is password-protected; upload a copy without a password")
        pages = int(document.page_count)
        if pages == 0:
            raise UnreadableMaterial("the PDF has no pages")
        if pages > limits.max_pdf_pages:
            raise MaterialOverLimit(
                f"the PDF has {pages} pages; at most {limits.max_pdf_pages} are read from one file: split it"
            )
        for number in range(pages):
            box = document.page_cropbox(number)  # type: ignore[no-untyped-call]
            if max(box.width, box.height) > limits.max_pdf_page_points:
                raise MaterialOverLimit(
                    f"page {number + 1} of the PDF is {box.width / 72:.0f} x {box.height / 72:.0f} in; "
                    f"pages up to {limits.max_pdf_page_points / 72:.0f} in a side are read"
                )
    except (RuntimeError, ValueError) as exc:
        document.close()  # type: ignore[no-untyped-call]
        raise UnreadableMaterial(f"the PDF cannot be read ({exc})") from exc
    except (UnreadableMaterial, MaterialOverLimit):
        document.close()  # type: ignore[no-untyped-call]
        raise
    return document


def _extract_pdf(
    data: bytes, reader: _PageReader, limits: ExtractionLimits, on_progress: Callable[[float], None]
) -> Extraction:
    texts: list[str] = []
    markdowns: list[str] = []
    sources: list[PageSource] = []
    ocr_seconds = 0.0
    with _open_pdf(data, limits) as document:
        total = int(document.page_count)
        for number in range(total):
            try:
                page = document.load_page(number)
                blocks = page.get_text("blocks", sort=True)
                text = "\n\n".join(str(b[4]).strip() for b in blocks if b[6] == 0 and str(b[4]).strip())
                if len(text.strip()) >= _MIN_TEXT_LAYER_CHARS:
                    texts.append(text)
                    markdowns.append("")  # filled below, for all text pages at once
                    sources.append(PageSource(number + 1, PageProvider.TEXT_LAYER))
                else:
                    # Checked between pages: one page's OCR is bounded by the pixels it reads.
                    if ocr_seconds >= limits.ocr_budget_s:
                        raise MaterialOverLimit(
                            f"reading the scanned pages took longer than the {limits.ocr_budget_s:g} s "
                            f"allowed for one material (stopped before page {number + 1} of {total}); "
                            "upload fewer pages at a time, or a PDF with a text layer"
                        )
                    started = time.monotonic()
                    reading = reader.read(_render_for_ocr(page, limits.ocr_max_pixels))
                    ocr_seconds += time.monotonic() - started
                    texts.append(reading.text)
                    markdowns.append(reading.markdown)
                    sources.append(_source_of(number + 1, reading))
            except (RuntimeError, ValueError) as exc:
                raise UnreadableMaterial(f"page {number + 1} of the PDF cannot be read ({exc})") from exc
            on_progress((number + 1) / total)
        text_pages = [s.page - 1 for s in sources if s.provider is PageProvider.TEXT_LAYER]
        for number, page_markdown in _text_layer_markdown(document, text_pages).items():
            markdowns[number] = page_markdown
    for number in text_pages:
        markdowns[number] = markdowns[number] or texts[number]
    return _assembled(texts, markdowns, sources)


def _text_layer_markdown(document: pymupdf.Document, pages: list[int]) -> dict[int, str]:
    """The pages' text layer as Markdown, by page index. Read ten pages at a time (a chunk that
    fails, page by page) for at most ``_MARKDOWN_BUDGET_S``; a page PyMuPDF4LLM fails on, or
    one past the budget, keeps its plain text as its Markdown: the heuristics are never to cost
    the material its text. A page with more vector graphics than ``_MARKDOWN_GRAPHICS_LIMIT``
    (a drawing, not a table) is read without them."""
    found: dict[int, str] = {}
    if not pages:
        return found
    try:
        import pymupdf4llm  # 0.4 s: only in the extraction process, when a text layer is read
        from pymupdf4llm.helpers.pymupdf_rag import IdentifyHeaders

        pymupdf4llm.use_layout(False)  # fonts and ruled lines; the layout model is not needed here
        headers = IdentifyHeaders(document, pages=pages)  # heading sizes from the whole material
    except Exception:
        log.warning("the text layer cannot be read as Markdown; its plain text is kept", exc_info=True)
        return found
    deadline = time.monotonic() + _MARKDOWN_BUDGET_S

    def convert(chunk: list[int]) -> None:
        pieces = pymupdf4llm.to_markdown(
            document,
            pages=chunk,
            hdr_info=headers,
            page_chunks=True,
            ignore_images=True,
            graphics_limit=_MARKDOWN_GRAPHICS_LIMIT,
            show_progress=False,
        )
        for piece in pieces:
            page = piece.get("metadata", {}).get("page")
            if isinstance(page, int) and 1 <= page <= document.page_count:
                found[page - 1] = str(piece.get("text") or "")

    for first in range(0, len(pages), _MARKDOWN_CHUNK_PAGES):
        chunk = pages[first : first + _MARKDOWN_CHUNK_PAGES]
        for part in (chunk, *([page] for page in chunk)):  # the chunk, else its pages one by one
            if time.monotonic() > deadline:
                log.warning(
                    "Markdown of the text layer stopped at page %d: past %d s",
                    part[0] + 1,
                    _MARKDOWN_BUDGET_S,
                )
                return found
            if all(page in found for page in part):
                continue
            try:
                convert(part)
            except Exception:
                log.warning("page(s) %s cannot be read as Markdown", [p + 1 for p in part], exc_info=True)
                continue
            if part is chunk:
                break
    return found


def _render_for_ocr(page: pymupdf.Page, max_pixels: int) -> NDArray[np.uint8]:
    """The page as a BGR image at 200 dpi, or less where that would pass ``max_pixels``."""
    width, height = float(page.rect.width), float(page.rect.height)
    zoom = min(_OCR_DPI / 72, math.sqrt(max_pixels / max(width * height, 1.0)))
    while math.ceil(width * zoom) * math.ceil(height * zoom) > max_pixels:
        zoom *= 0.99  # rounding up a row or a column must not pass the cap either
    matrix = pymupdf.Matrix(zoom, zoom)  # type: ignore[no-untyped-call]
    pixmap = page.get_pixmap(matrix=matrix, colorspace=pymupdf.csRGB, alpha=False)
    image = np.frombuffer(pixmap.samples, dtype=np.uint8).reshape(pixmap.h, pixmap.w, 3)
    return image[:, :, ::-1].copy()


def _checked_size(data: bytes, limits: ExtractionLimits) -> tuple[int, int]:
    width, height = picture_size(data)
    if width * height > limits.max_image_pixels:
        raise MaterialOverLimit(
            f"the image is {width} x {height} pixels ({width * height / 1e6:.0f} Mpx); "
            f"images up to {limits.max_image_pixels / 1e6:.0f} Mpx are read: scale it down"
        )
    return width, height


def _decode_picture(kind: MaterialKind, data: bytes, limits: ExtractionLimits) -> NDArray[np.uint8]:
    """The picture as a BGR image of at most ``ocr_max_pixels``: what OCR needs, no more."""
    width, height = _checked_size(data, limits)
    factor = 1
    if kind is MaterialKind.JPEG:  # the largest reduction that still leaves OCR its pixels
        while factor < 8 and width * height / (factor * 2) ** 2 >= limits.ocr_max_pixels:
            factor *= 2
    try:
        image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), _JPEG_REDUCED[factor])
    except cv2.error as exc:
        raise UnreadableMaterial("the image cannot be decoded") from exc
    if image is None or image.size == 0:
        raise UnreadableMaterial("the image cannot be decoded")
    pixels = image.shape[0] * image.shape[1]
    if pixels > limits.ocr_max_pixels:
        scale = math.sqrt(limits.ocr_max_pixels / pixels)
        size = (max(1, int(image.shape[1] * scale)), max(1, int(image.shape[0] * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return np.asarray(image, dtype=np.uint8)
