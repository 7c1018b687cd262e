"""Text out of uploaded material: PDF (text layer, OCR for pages without one), images, DOCX.

Synchronous and CPU-bound: callers run it on a bounded executor. The file's type is sniffed
from its bytes, never from its name. Errors of PyMuPDF, python-docx and OpenCV are translated
here into ``UnsupportedMaterial`` / ``UnreadableMaterial``.
"""

from __future__ import annotations

import io
import re
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
import pymupdf

from protolearn.ai.errors import UnreadableMaterial, UnsupportedMaterial
from protolearn.ai.text import PAGE_BREAK, clean_text

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ("Extraction", "MaterialKind", "OcrEngine", "check_readable", "extract", "sniff")

# A page with fewer characters than this in its text layer is a scan: it is OCR'd.
_MIN_TEXT_LAYER_CHARS = 20
_OCR_DPI = 200


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
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return MaterialKind.PNG
    if data.startswith(b"\xff\xd8\xff"):
        return MaterialKind.JPEG
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if "word/document.xml" in archive.namelist():
                    return MaterialKind.DOCX
        except zipfile.BadZipFile as exc:
            raise UnreadableMaterial("the file looks like a ZIP archive but is broken") from exc
    raise UnsupportedMaterial("upload a PDF, a PNG or JPEG image, or a Word document (DOCX)")


def check_readable(kind: MaterialKind, data: bytes) -> int:
    """The page count, or ``UnreadableMaterial`` for a broken, encrypted or empty file. Cheap."""
    match kind:
        case MaterialKind.PDF:
            with _open_pdf(data) as document:
                return int(document.page_count)
        case MaterialKind.PNG | MaterialKind.JPEG:
            _decode_image(data)
            return 1
        case MaterialKind.DOCX:
            _docx_paragraphs(data)
            return _docx_page_count(data)


def extract(
    kind: MaterialKind,
    data: bytes,
    ocr: OcrEngine,
    on_progress: Callable[[float], None] = lambda _: None,
) -> Extraction:
    match kind:
        case MaterialKind.PDF:
            return _extract_pdf(data, ocr, on_progress)
        case MaterialKind.PNG | MaterialKind.JPEG:
            text, confidence = ocr.read(_decode_image(data))
            on_progress(1.0)
            return Extraction(clean_text(text), 1, 1, confidence)
        case MaterialKind.DOCX:
            text = "\n\n".join(_docx_paragraphs(data))
            on_progress(1.0)
            return Extraction(clean_text(text), _docx_page_count(data), 0, None)


def _open_pdf(data: bytes) -> pymupdf.Document:
    try:
        document = pymupdf.open(stream=data, filetype="pdf")  # type: ignore[no-untyped-call]
    except (RuntimeError, ValueError) as exc:
        raise UnreadableMaterial(f"the PDF cannot be read ({exc})") from exc
    if document.needs_pass:
        document.close()  # type: ignore[no-untyped-call]
        raise UnreadableMaterial("the PDF is password-protected; upload a copy without a password")
    if document.page_count == 0:
        document.close()  # type: ignore[no-untyped-call]
        raise UnreadableMaterial("the PDF has no pages")
    return document


def _extract_pdf(data: bytes, ocr: OcrEngine, on_progress: Callable[[float], None]) -> Extraction:
    pages: list[str] = []
    confidences: list[float] = []
    with _open_pdf(data) as document:
        total = int(document.page_count)
        for number in range(total):
            try:
                page = document.load_page(number)
                blocks = page.get_text("blocks", sort=True)
                text = "\n\n".join(str(b[4]).strip() for b in blocks if b[6] == 0 and str(b[4]).strip())
                if len(text.strip()) < _MIN_TEXT_LAYER_CHARS:
                    pixmap = page.get_pixmap(dpi=_OCR_DPI, colorspace=pymupdf.csRGB, alpha=False)
                    image = np.frombuffer(pixmap.samples, dtype=np.uint8).reshape(pixmap.h, pixmap.w, 3)
                    text, confidence = ocr.read(image[:, :, ::-1].copy())
                    if confidence is not None:
                        confidences.append(confidence)
            except (RuntimeError, ValueError) as exc:
                raise UnreadableMaterial(f"page {number + 1} of the PDF cannot be read ({exc})") from exc
            pages.append(text)
            on_progress((number + 1) / total)
    ocr_pages = len(confidences)
    mean = round(sum(confidences) / ocr_pages, 4) if ocr_pages else None
    return Extraction(clean_text(PAGE_BREAK.join(pages)), total, ocr_pages, mean)


def _decode_image(data: bytes) -> NDArray[np.uint8]:
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise UnreadableMaterial("the image cannot be decoded")
    return np.asarray(image, dtype=np.uint8)


def _docx_paragraphs(data: bytes) -> list[str]:
    import docx  # python-docx loads lxml: only DOCX uploads need it
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise UnreadableMaterial(f"the Word document cannot be read ({exc})") from exc
    paragraphs = [p.text for p in document.paragraphs if p.text.strip()]
    for table in document.tables:
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells if c.text.strip()]
            if cells:
                paragraphs.append(" | ".join(dict.fromkeys(cells)))
    return paragraphs


def _docx_page_count(data: bytes) -> int:
    """Word's own page count from docProps/app.xml when it saved one, else 1."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            properties = archive.read("docProps/app.xml").decode("utf-8", "replace")
    except (KeyError, zipfile.BadZipFile):
        return 1
    found = re.search(r"<Pages>(\d+)</Pages>", properties)
    return max(1, int(found.group(1))) if found else 1


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
