"""Text out of uploaded material: PDF (text layer, OCR for pages without one), images, DOCX.

Synchronous and CPU-bound: ``extract`` runs in the extraction process (``extraction_worker``),
``sniff`` and ``check_readable`` in the server at upload, where they must stay cheap: they read
headers and structure, never decode a picture or render a page. Both sides hold to the same
``ExtractionLimits``. The file's type is sniffed from its bytes, never from its name. Errors of
PyMuPDF and OpenCV are translated here into ``UnsupportedMaterial`` / ``UnreadableMaterial`` /
``MaterialOverLimit``.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
import pymupdf

from protolearn.ai.errors import MaterialOverLimit, UnreadableMaterial, UnsupportedMaterial
from protolearn.ai.image_headers import PNG_SIGNATURE, picture_size
from protolearn.ai.text import PAGE_BREAK, clean_text
from protolearn.ai.word_documents import check_word_document, is_word_document, read_word_document

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from protolearn.ai.limits import ExtractionLimits

__all__ = ("Extraction", "MaterialKind", "OcrEngine", "check_readable", "extract", "sniff")

# A page with fewer characters than this in its text layer is a scan: it is OCR'd.
_MIN_TEXT_LAYER_CHARS = 20
_OCR_DPI = 200
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
class Extraction:
    text: str  # cleaned; pages separated by form feeds
    page_count: int
    ocr_pages: int
    ocr_confidence: float | None  # mean over OCR'd lines, None when nothing was OCR'd


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
    ocr: OcrEngine,
    limits: ExtractionLimits,
    on_progress: Callable[[float], None] = lambda _: None,
) -> Extraction:
    match kind:
        case MaterialKind.PDF:
            return _extract_pdf(data, ocr, limits, on_progress)
        case MaterialKind.PNG | MaterialKind.JPEG:
            text, confidence = ocr.read(_decode_picture(kind, data, limits))
            on_progress(1.0)
            return Extraction(clean_text(text), 1, 1, confidence)
        case MaterialKind.DOCX:
            text, page_count = read_word_document(data, limits)
            on_progress(1.0)
            return Extraction(clean_text(text), page_count, 0, None)


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
    data: bytes, ocr: OcrEngine, limits: ExtractionLimits, on_progress: Callable[[float], None]
) -> Extraction:
    pages: list[str] = []
    confidences: list[float] = []
    ocr_seconds = 0.0
    with _open_pdf(data, limits) as document:
        total = int(document.page_count)
        for number in range(total):
            try:
                page = document.load_page(number)
                blocks = page.get_text("blocks", sort=True)
                text = "\n\n".join(str(b[4]).strip() for b in blocks if b[6] == 0 and str(b[4]).strip())
                if len(text.strip()) < _MIN_TEXT_LAYER_CHARS:
                    # Checked between pages: one page's OCR is bounded by the pixels it reads.
                    if ocr_seconds >= limits.ocr_budget_s:
                        raise MaterialOverLimit(
                            f"reading the scanned pages took longer than the {limits.ocr_budget_s:g} s "
                            f"allowed for one material (stopped before page {number + 1} of {total}); "
                            "upload fewer pages at a time, or a PDF with a text layer"
                        )
                    started = time.monotonic()
                    text, confidence = ocr.read(_render_for_ocr(page, limits.ocr_max_pixels))
                    ocr_seconds += time.monotonic() - started
                    if confidence is not None:
                        confidences.append(confidence)
            except (RuntimeError, ValueError) as exc:
                raise UnreadableMaterial(f"page {number + 1} of the PDF cannot be read ({exc})") from exc
            pages.append(text)
            on_progress((number + 1) / total)
    ocr_pages = len(confidences)
    mean = round(sum(confidences) / ocr_pages, 4) if ocr_pages else None
    return Extraction(clean_text(PAGE_BREAK.join(pages)), total, ocr_pages, mean)


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


class OcrEngine:
    """RapidOCR (PP-OCR ONNX models from its wheel), loaded on first use, one caller at a time."""

    def __init__(self) -> None:
        self._engine: Any = None
        self._lock = threading.Lock()

    def read(self, image: NDArray[np.uint8]) -> tuple[str, float | None]:
        """The text of a BGR image, lines in reading order, and the mean line confidence."""
        with self._lock:
            if self._engine is None:
                from rapidocr import RapidOCR  # 0.5 s and 60 MB: only when a scan arrives

                self._engine = RapidOCR(params={"Global.log_level": "error"})
            result = self._engine(image)
        texts = list(result.txts or ())
        if not texts:
            return "", None
        scores = [float(s) for s in result.scores]
        boxes = np.asarray(result.boxes, dtype=np.float32)
        return _lines_to_text(texts, boxes), round(sum(scores) / len(scores), 4)


def _lines_to_text(texts: list[str], boxes: NDArray[np.float32]) -> str:
    """OCR lines joined into paragraphs: a vertical gap of more than a line height breaks one."""
    lines: list[str] = []
    previous_bottom: float | None = None
    for text, box in zip(texts, boxes, strict=True):
        top, bottom = float(box[:, 1].min()), float(box[:, 1].max())
        height = max(bottom - top, 1.0)
        if previous_bottom is not None and top - previous_bottom > height:
            lines.append("")
        lines.append(text)
        previous_bottom = bottom
    return "\n".join(lines)
