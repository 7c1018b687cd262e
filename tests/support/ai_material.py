"""Course material for the AI tests and benchmark: a few pages of a biology and a history text,
and PDFs, scans, photos and Word files made from them the way teachers' files are made; and the
hostile files an outside tester sent (picture, archive and page bombs, broken packages)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterator, Sequence

import pymupdf

__all__ = (
    "ACID_TABLE",
    "BIOLOGY",
    "HISTORY",
    "blank_pdf",
    "docx_bomb",
    "docx_of",
    "docx_with_document",
    "pages_of",
    "patch_zip_entry",
    "png_bomb",
    "png_of_text",
    "scanned_pdf",
    "table_pdf",
    "text_pdf",
)

BIOLOGY = [
    """The Cell

The cell is the basic unit of life. All living organisms are made of one or more cells, and every
new cell comes from an existing cell. This idea is called the cell theory. It was developed in the
nineteenth century by Matthias Schleiden and Theodor Schwann.

The cell membrane is a thin layer that surrounds the cell and controls what enters and leaves it.
The membrane is made of a double layer of phospholipids with proteins embedded in it. Small
molecules such as oxygen pass through the membrane by diffusion.

The nucleus is the organelle that contains the genetic material of the cell. Inside the nucleus,
DNA is packed into chromosomes. The nucleus controls the activities of the cell by directing the
production of proteins.""",
    """Energy in the Cell

The mitochondrion is the organelle where cellular respiration takes place. Cellular respiration is
the process by which cells release energy from glucose. The energy is stored in molecules of ATP,
which the cell uses to power its work.

Photosynthesis is the process by which plants convert light energy into chemical energy.
Photosynthesis takes place in the chloroplast, an organelle found in plant cells but not in animal
cells. The chloroplast contains chlorophyll, a green pigment that absorbs light.

During photosynthesis, plants take in carbon dioxide and water and produce glucose and oxygen. The
oxygen is released into the air through small pores in the leaves called stomata.""",
    """Proteins and Enzymes

A ribosome is a small structure that builds proteins from amino acids. Ribosomes are found in the
cytoplasm and on the rough endoplasmic reticulum. The order of amino acids in a protein is coded
by the DNA in the nucleus.

An enzyme is a protein that speeds up a chemical reaction without being used up. Each enzyme acts
on a particular molecule, called its substrate. The enzyme amylase breaks down starch into sugar
in the mouth. Enzymes work best at a particular temperature, which in the human body is about 37
degrees Celsius. High temperatures change the shape of an enzyme, and the enzyme stops working.

Osmosis is the movement of water across a membrane from a dilute solution to a concentrated
solution. A plant cell placed in pure water takes in water by osmosis and becomes firm.""",
]

HISTORY = [
    """The French Revolution

The French Revolution began in 1789, when the Estates-General met at Versailles for the first time
since 1614. On 14 July 1789 a crowd in Paris stormed the Bastille, a royal fortress and prison.
In August 1789 the National Assembly adopted the Declaration of the Rights of Man and of the
Citizen.

King Louis XVI tried to flee Paris in 1791 but was stopped at Varennes. France became a republic
in 1792, and Louis XVI was executed in 1793. Maximilien Robespierre led the Committee of Public
Safety during the Reign of Terror, when thousands of suspected enemies of the revolution were
executed.

The Reign of Terror ended in 1794 with the fall of Robespierre. In 1799 Napoleon Bonaparte seized
power in a coup and became First Consul. Napoleon crowned himself Emperor of the French in 1804.""",
]


def text_pdf(pages: Sequence[str], *, fontsize: float = 11) -> bytes:
    """A PDF with a real text layer, one page per text, as a word processor would export it."""
    document = pymupdf.open()
    for text in pages:
        page = document.new_page(width=595, height=842)  # A4 in points
        page.insert_textbox(pymupdf.Rect(60, 60, 535, 800), text, fontsize=fontsize, fontname="helv")
    data = document.tobytes()
    document.close()
    return bytes(data)


ACID_TABLE = [
    ["Acid", "Formula", "pKa"],
    ["Hydrochloric acid", "HCl", "-6.3"],
    ["Acetic acid", "CH3COOH", "4.76"],
]
ACID_TABLE += [["Carbonic acid", "H2CO3", "6.35"], ["Phosphoric acid", "H3PO4", "2.15"]]


def table_pdf() -> bytes:
    """A chemistry handout as a word processor exports it: a title, headings, paragraphs, a ruled
    table with a bold header row, and a list."""
    document = pymupdf.open()
    page = document.new_page(width=595, height=842)
    y = 80.0

    def line(text: str, size: float = 11, font: str = "helv", gap: float = 16) -> None:
        nonlocal y
        page.insert_text((60, y), text, fontsize=size, fontname=font)
        y += gap

    line("Acids and Bases", 22, "hebo", 40)
    line("Strong and weak acids", 15, "hebo", 24)
    line("A strong acid dissociates completely in water. A weak acid only partly dissociates,")
    line("so its solution conducts electricity less well at the same concentration.", gap=30)
    widths = (190.0, 120.0, 80.0)
    for row_number, row in enumerate(ACID_TABLE):
        x = 60.0
        for width, cell in zip(widths, row, strict=True):
            page.draw_rect(pymupdf.Rect(x, y, x + width, y + 22), color=(0, 0, 0), width=0.8)
            page.insert_text(
                (x + 5, y + 15), cell, fontsize=10.5, fontname="hebo" if row_number == 0 else "helv"
            )
            x += width
        y += 22
    y += 30
    line("Indicators", 15, "hebo", 24)
    line("- Litmus paper turns red in an acid and blue in a base.")
    line("- Phenolphthalein is colourless in an acid and pink in a base.")
    data = document.tobytes()
    document.close()
    return bytes(data)


def png_of_text(text: str, *, fontsize: float = 14, width: float = 595, height: float = 420) -> bytes:
    """A photo-like image of printed text (rendered at 150 dpi, no text layer)."""
    document = pymupdf.open()
    page = document.new_page(width=width, height=height)
    page.insert_textbox(
        pymupdf.Rect(40, 40, width - 40, height - 40), text, fontsize=fontsize, fontname="helv"
    )
    png = page.get_pixmap(dpi=150).tobytes("png")
    document.close()
    return bytes(png)


def scanned_pdf(pages: Sequence[str]) -> bytes:
    """A PDF of page images only, as a scanner makes it: every page needs OCR."""
    document = pymupdf.open()
    for text in pages:
        image = png_of_text(text, fontsize=13, width=595, height=842)
        page = document.new_page(width=595, height=842)
        page.insert_image(page.rect, stream=image)
    data = document.tobytes()
    document.close()
    return bytes(data)


def docx_of(paragraphs: Sequence[str]) -> bytes:
    import docx  # python-docx, as Word saves it

    document = docx.Document()
    for paragraph in paragraphs:
        for block in paragraph.split("\n\n"):
            document.add_paragraph(" ".join(block.split()))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def pages_of(material: Sequence[str]) -> str:
    """The text of pages as the extractor stores it (form feeds between pages)."""
    return "\f".join(material)


def blank_pdf(pages: int, *, width: float = 595, height: float = 842) -> bytes:
    """A PDF of empty pages (no text layer: every page would need OCR); a few KB for thousands."""
    document = pymupdf.open()
    for _ in range(pages):
        document.new_page(width=width, height=height)
    data = document.tobytes(deflate=True, use_objstms=1)
    document.close()
    return bytes(data)


def png_bomb(width: int, height: int) -> bytes:
    """A real PNG of black pixels, one bit each: a ratio of about 1000 to 1 before decoding to
    three bytes a pixel (30000 x 30000: 109 KB that decode to 2.7 GB)."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    idat = _zlib_of_zeros(height * (1 + (width + 7) // 8))  # each row: filter byte 0, pixels 0
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def _zlib_of_zeros(length: int) -> bytes:
    """The zlib stream of ``length`` zero bytes, made of one compressed block repeated instead of
    compressing them all (a full flush leaves each block independent of those before it)."""
    block_size = 1 << 20
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = deflate.compress(bytes(block_size)) + deflate.flush(zlib.Z_FULL_FLUSH)
    count, rest = divmod(length, block_size)
    tail = deflate.compress(bytes(rest)) + deflate.flush()
    adler32 = (length % 65521) << 16 | 1  # of zeros only: the sum of bytes stays 1
    return b"\x78\xda" + block * count + tail + struct.pack(">I", adler32)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def docx_with_document(chunks: Iterator[bytes] | Sequence[bytes]) -> bytes:
    """A Word file saved by python-docx whose ``word/document.xml`` is replaced by ``chunks``."""
    original = zipfile.ZipFile(io.BytesIO(docx_of(["placeholder"])))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in original.infolist():
            if info.filename == "word/document.xml":
                with archive.open(info.filename, "w", force_zip64=False) as part:
                    for chunk in chunks:
                        part.write(chunk)
            else:
                archive.writestr(info.filename, original.read(info.filename))
    return buffer.getvalue()


_WORD_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def docx_bomb(xml_bytes: int) -> bytes:
    """A Word file whose document holds ``xml_bytes`` of paragraphs (300 MB deflate to ~700 KB)."""
    paragraph = b"<w:p><w:r><w:t>The cell is the basic unit of life.</w:t></w:r></w:p>" * 1000
    head = f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{_WORD_NS}"><w:body>'.encode()

    def chunks() -> Iterator[bytes]:
        yield head
        for _ in range(xml_bytes // len(paragraph)):
            yield paragraph
        yield b"</w:body></w:document>"

    return docx_with_document(chunks())


def patch_zip_entry(
    data: bytes,
    name: str,
    *,
    method: int | None = None,
    flag_bits: int | None = None,
    file_size: int | None = None,
) -> bytes:
    """``data`` with the named entry's compression method, flags or uncompressed size rewritten in
    both its local header and the central directory, as a hostile or odd archiver would write them."""
    patched = bytearray(data)
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    local = info.header_offset
    directory_entry = _central_entry(data, name)
    # (local header offset, central entry offset) of: flags, method, uncompressed size
    for value, local_at, central_at, fmt in (
        (flag_bits, 6, 8, "<H"),
        (method, 8, 10, "<H"),
        (file_size, 22, 24, "<I"),
    ):
        if value is not None:
            struct.pack_into(fmt, patched, local + local_at, value)
            struct.pack_into(fmt, patched, directory_entry + central_at, value)
    return bytes(patched)


def _central_entry(data: bytes, name: str) -> int:
    """The offset of ``name``'s entry in the central directory (found from the end record)."""
    end = data.rindex(b"PK\x05\x06")
    entries, _, at = struct.unpack_from("<HII", data, end + 10)
    for _ in range(entries):
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", data, at + 28)
        if data[at + 46 : at + 46 + name_length].decode() == name:
            return at
        at += 46 + name_length + extra_length + comment_length
    raise KeyError(name)
