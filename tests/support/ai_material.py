"""Course material for the AI tests and benchmark: a few pages of a biology and a history text,
and PDFs, scans, photos and Word files made from them the way teachers' files are made."""

from __future__ import annotations

import io
from collections.abc import Sequence

import pymupdf

__all__ = ("BIOLOGY", "HISTORY", "docx_of", "pages_of", "png_of_text", "scanned_pdf", "text_pdf")

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
