"""Text of Word documents (DOCX): the ZIP package checked from its directory, the main part read
as a bounded stream and parsed with DTDs and entities refused, one paragraph at a time.

Only the parts read count against the limit (``word/document.xml``, and ``docProps/app.xml``
for Word's page count); pictures in the package are never opened. Not python-docx: it reads
every part and builds the whole tree (300 MB of XML took 2.5 GB).
"""

from __future__ import annotations

import contextlib
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from protolearn.ai.errors import MaterialOverLimit, UnreadableMaterial

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

    from protolearn.ai.limits import ExtractionLimits

__all__ = ("check_word_document", "is_word_document", "read_word_document")

_DOCUMENT = "word/document.xml"
_PROPERTIES = "docProps/app.xml"
# Word's own properties are about 1 KB; larger ones are not read for a page count.
_MAX_PROPERTIES_BYTES = 1024 * 1024
# A document has a few dozen parts; the directory of a ZIP of many thousands costs memory to list.
_MAX_PARTS = 10_000
_END_OF_DIRECTORY = b"PK\x05\x06"
_ENCRYPTED = 0x1  # general-purpose flag bit 0
_READABLE_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})  # all that Word writes
# What zipfile and zlib raise for damaged archives and parts.
_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError, struct.error)

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_PARAGRAPH, _TABLE_ROW, _TABLE_CELL, _TEXT = f"{_W}p", f"{_W}tr", f"{_W}tc", f"{_W}t"
_RUN_MARKS = {f"{_W}tab": "\t", f"{_W}br": "\n", f"{_W}cr": "\n", f"{_W}noBreakHyphen": "-"}
# Markup compatibility repeats content (a text box) for older readers: read it once.
_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"


def is_word_document(data: bytes) -> bool:
    """Whether a ZIP archive is a Word document; ``UnreadableMaterial`` for a broken archive."""
    with _package(data) as archive:
        return _DOCUMENT in archive.NameToInfo


def check_word_document(data: bytes, limits: ExtractionLimits) -> int:
    """Word's page count (1 when it saved none), after the checks the directory allows: parts
    encrypted or compressed otherwise than Word does, more XML than the limit. Cheap."""
    with _package(data) as archive:
        _check_directory(archive, limits)
        return _page_count(archive)


def read_word_document(data: bytes, limits: ExtractionLimits) -> tuple[str, int]:
    """The document's paragraphs (then its tables' rows, cells joined by " | "), and its page count."""
    with _package(data) as archive:
        budget = _check_directory(archive, limits)
        try:
            with archive.open(_DOCUMENT) as part:
                events = iterparse(_CountedPart(part, budget), events=("start", "end"), forbid_dtd=True)
                blocks = _blocks(events)
        except DefusedXmlException as exc:
            raise UnreadableMaterial(
                "the Word document declares a DTD or entities, which Word never writes"
            ) from exc
        except SyntaxError as exc:  # ElementTree's ParseError
            raise UnreadableMaterial(f"the Word document's text is not well-formed XML ({exc})") from exc
        except (*_DAMAGED, NotImplementedError, RuntimeError) as exc:
            raise UnreadableMaterial(f"the Word document is damaged ({exc})") from exc
        return "\n\n".join(blocks), _page_count(archive)


@contextlib.contextmanager
def _package(data: bytes) -> Iterator[zipfile.ZipFile]:
    _check_part_count(data)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _DAMAGED as exc:
        raise UnreadableMaterial("the file looks like a ZIP archive but is broken") from exc
    with archive:
        yield archive


def _check_part_count(data: bytes) -> None:
    """Refuse a directory too long to list, from the end record, before zipfile lists it."""
    end = data.rfind(_END_OF_DIRECTORY, max(0, len(data) - 65_557))  # 22 bytes and a comment
    if end < 0 or end + 22 > len(data):
        return  # zipfile says it is broken
    (parts,) = struct.unpack_from("<H", data, end + 10)
    if parts == 0xFFFF or parts > _MAX_PARTS:  # 0xFFFF: a ZIP64 count, 65535 or more
        raise MaterialOverLimit(f"the file is a ZIP archive of more than {_MAX_PARTS} parts, not a document")


def _check_directory(archive: zipfile.ZipFile, limits: ExtractionLimits) -> int:
    """The bytes that reading may inflate to, once the directory passes the checks."""
    if _DOCUMENT not in archive.NameToInfo:
        raise UnreadableMaterial("the Word document has no main part (word/document.xml)")
    for info in archive.infolist():
        if info.flag_bits & _ENCRYPTED:
            raise UnreadableMaterial("the Word document is encrypted; save a copy without a password")
        if info.compress_type not in _READABLE_METHODS:
            raise UnreadableMaterial(
                f"the Word document is compressed in a way Word never uses ({info.filename}: method "
                f"{info.compress_type}); open it in Word and save it again"
            )
    declared = archive.NameToInfo[_DOCUMENT].file_size
    if declared > limits.max_docx_xml_bytes:
        raise MaterialOverLimit(
            f"the Word document's text takes {declared / 1e6:.0f} MB of XML; at most "
            f"{limits.max_docx_xml_bytes / 1e6:.0f} MB are read from one document: split it"
        )
    return limits.max_docx_xml_bytes


def _page_count(archive: zipfile.ZipFile) -> int:
    """Word's own page count from docProps/app.xml when it saved one, else 1."""
    info = archive.NameToInfo.get(_PROPERTIES)
    if info is None or info.file_size > _MAX_PROPERTIES_BYTES:
        return 1
    try:
        with archive.open(info) as part:
            properties = _CountedPart(part, _MAX_PROPERTIES_BYTES).read().decode("utf-8", "replace")
    except (*_DAMAGED, NotImplementedError, RuntimeError, MaterialOverLimit):
        return 1
    found = re.search(r"<Pages>(\d{1,9})</Pages>", properties)
    return max(1, int(found.group(1))) if found else 1


class _CountedPart:
    """A part read as a stream that stops past ``budget`` bytes, whatever the directory declared."""

    def __init__(self, part: IO[bytes], budget: int) -> None:
        self._part = part
        self._left = budget

    def read(self, size: int = -1) -> bytes:
        if size >= 0:
            return self._counted(self._part.read(size))
        return b"".join(iter(lambda: self._counted(self._part.read(64 * 1024)), b""))

    def _counted(self, chunk: bytes) -> bytes:
        self._left -= len(chunk)
        if self._left < 0:
            raise MaterialOverLimit("the Word document inflates to more XML than its directory declares")
        return chunk


def _blocks(events: Iterator[tuple[str, Element]]) -> list[str]:
    """Paragraphs of the body, then the rows of its tables, from a stream of parse events; each
    element of the body is dropped once read, so memory stays that of one paragraph or table."""
    paragraphs: list[str] = []
    rows: list[str] = []
    open_paragraphs: list[list[str]] = []  # their text so far, innermost last
    open_cells: list[list[str]] = []  # their paragraphs
    open_rows: list[list[str]] = []  # their cells
    ancestors: list[Element] = []
    skipped = 0  # depth inside markup-compatibility fallbacks
    for event, element in events:
        tag = element.tag
        if event == "start":
            ancestors.append(element)
            if tag == _FALLBACK:
                skipped += 1
            elif skipped:
                continue
            elif tag == _PARAGRAPH:
                open_paragraphs.append([])
            elif tag == _TABLE_CELL:
                open_cells.append([])
            elif tag == _TABLE_ROW:
                open_rows.append([])
            continue
        ancestors.pop()
        if tag == _FALLBACK:
            skipped -= 1
        elif skipped:
            pass
        elif tag == _TEXT and open_paragraphs:
            open_paragraphs[-1].append(element.text or "")
        elif tag in _RUN_MARKS and open_paragraphs:
            open_paragraphs[-1].append(_RUN_MARKS[tag])
        elif tag == _PARAGRAPH and open_paragraphs:
            text = "".join(open_paragraphs.pop())
            if open_cells:
                open_cells[-1].append(text)
            elif text.strip():
                paragraphs.append(text)
        elif tag == _TABLE_CELL and open_cells:
            cell = "\n".join(open_cells.pop()).strip()
            if open_rows:
                open_rows[-1].append(cell)
        elif tag == _TABLE_ROW and open_rows:
            cells = [cell for cell in open_rows.pop() if cell]
            if cells:
                row = " | ".join(dict.fromkeys(cells))  # a merged cell repeats its text
                (open_cells[-1] if open_cells else rows).append(row)
        if len(ancestors) == 2:  # a child of the body (document > body > element): read, let go
            element.clear()
            ancestors[-1].remove(element)
    return paragraphs + rows
