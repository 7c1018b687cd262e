"""Material as Markdown: what the text layer's reader and a vision model give, made one dialect.

The dialect kept per material: ATX headings (``#``), paragraphs, ``-`` lists, pipe tables, bold
and italics, formulas in LaTeX between ``$`` (inline) and ``$$`` (display). Pure functions.

A vision model answers in its own way: DeepSeek-OCR's "Convert the document to markdown" prompt
with ``<|grounding|>`` puts a ``<|ref|>kind<|/ref|><|det|>[[x0, y0, x1, y1]]<|/det|>`` label before
each block, writes tables as HTML ``<table>`` and formulas between ``\\(``/``\\)`` and
``\\[``/``\\]``. ``from_model_output`` turns that into the dialect above; output already in it
passes through unchanged.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

__all__ = ("from_model_output", "plain_text", "tidy")

# Every span is bounded and none can cross the tag that ends it: hostile or looping output
# (an answer is up to 8,192 tokens) is read in linear time.
_GROUNDING = re.compile(r"<\|ref\|>[^<\n]{0,64}<\|/ref\|>[ \t]*<\|det\|>[^<\n]{0,256}<\|/det\|>[ \t]*\n?")
# The same labels from a server that dropped the special tokens around them.
_BARE_GROUNDING = re.compile(r"^[a-z_]{1,20}\[\[\d+(?:,\s*\d+){3}\]\][ \t]*\n?", re.M)
# DeepSeek's own tokens are written with fullwidth bars: <\uff5cend\u2581of\u2581sentence\uff5c>.
_SPECIAL_TOKEN = re.compile(r"<\|[^|<>]{1,40}\|>|<\uff5c[^\uff5c<>]{1,40}\uff5c>")
_TABLE = re.compile(r"<table\b(?:[^<]|<(?!/?table\b))*</table\s*>", re.I)
_LINE_BREAK = re.compile(r"<br\s*/?>", re.I)
_LAYOUT_TAG = re.compile(r"</?(?:center|div|p|span|html|body)\b[^<>]{0,200}>", re.I)
_MAX_FORMULA_CHARS = 4000
_BLANK_LINES = re.compile(r"\n{3,}")
_BOLD_HEADING = re.compile(r"^(#{1,6}) +\*\*(.+?)\*\*[ \t]*$", re.M)
_HEADING = re.compile(r"^#{1,6} +")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)]) +")
_TABLE_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?$")
_CELL_BAR = re.compile(r"(?<!\\)\|")
_EMPHASIS = re.compile(r"\*\*([^*\n]+)\*\*|__([^_\n]+)__|(?<![\w*])\*(?!\s)([^*\n]+)(?<!\s)\*(?![\w*])")


def tidy(markdown: str) -> str:
    """Trailing spaces and runs of blank lines dropped; a heading's bold (it is bold already)
    unwrapped."""
    lines = "\n".join(line.rstrip() for line in markdown.replace("\r\n", "\n").split("\n"))
    lines = _BOLD_HEADING.sub(r"\1 \2", lines)
    return _BLANK_LINES.sub("\n\n", lines).strip()


def from_model_output(raw: str) -> str:
    """A vision model's answer in the material's Markdown dialect (see the module's docstring)."""
    text = _GROUNDING.sub("", raw)
    text = _BARE_GROUNDING.sub("", _SPECIAL_TOKEN.sub("", text))
    text = _TABLE.sub(lambda match: f"\n\n{_html_table_to_markdown(match.group())}\n\n", text)
    text = _LINE_BREAK.sub("\n", text)
    text = _LAYOUT_TAG.sub("", text)
    text = _delimited(text, "\\[", "\\]", "$$")
    return tidy(_delimited(text, "\\(", "\\)", "$"))


def _delimited(text: str, opening: str, closing: str, mark: str) -> str:
    """Formulas between ``opening`` and ``closing`` (LaTeX's) put between ``mark`` instead; an
    opening without its closing within ``_MAX_FORMULA_CHARS`` is left as it is."""
    parts: list[str] = []
    cursor = 0
    while (start := text.find(opening, cursor)) >= 0:
        end = text.find(closing, start + len(opening), start + len(opening) + _MAX_FORMULA_CHARS)
        if end < 0:
            parts.append(text[cursor : start + len(opening)])
            cursor = start + len(opening)
            continue
        formula = text[start + len(opening) : end].strip()
        parts.append(
            f"{text[cursor:start]}{mark}{formula}{mark}" if formula else text[cursor : end + len(closing)]
        )
        cursor = end + len(closing)
    parts.append(text[cursor:])
    return "".join(parts)


def plain_text(markdown: str) -> str:
    """The words of the Markdown for reading and quoting: headings and list items as lines of
    their own, a table row's cells joined by " | ", emphasis marks dropped, formulas kept."""
    lines: list[str] = []
    for line in markdown.split("\n"):
        stripped = line.strip()
        if _TABLE_RULE.match(stripped) and "-" in stripped:
            continue
        if stripped.startswith("|"):
            cells = [cell.strip().replace("\\|", "|") for cell in _CELL_BAR.split(stripped.strip("|"))]
            lines.extend(("", " | ".join(cell for cell in cells if cell), ""))
            continue
        if _HEADING.match(stripped) or _LIST_ITEM.match(stripped):
            lines.extend(("", _LIST_ITEM.sub("", _HEADING.sub("", stripped)), ""))
            continue
        lines.append(line)
    text = _EMPHASIS.sub(lambda match: next(g for g in match.groups() if g is not None), "\n".join(lines))
    return _BLANK_LINES.sub("\n\n", text).strip()


class _TableReader(HTMLParser):
    """Rows of cells out of one HTML table (``colspan`` repeated as empty cells)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self._span = 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._end_cell()
            if not self.rows:
                self.rows.append([])
            self._cell = []
            span = dict(attrs).get("colspan") or "1"
            self._span = min(int(span), 50) if span.isdigit() and int(span) > 0 else 1
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th", "tr"):
            self._end_cell()

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def close(self) -> None:
        super().close()
        self._end_cell()

    def _end_cell(self) -> None:
        if self._cell is None:
            return
        text = " ".join(unescape("".join(self._cell)).split()).replace("|", "\\|")
        self.rows[-1].extend([text] + [""] * (self._span - 1))
        self._cell, self._span = None, 1


def _html_table_to_markdown(html: str) -> str:
    reader = _TableReader()
    reader.feed(html)
    reader.close()
    rows = [row for row in reader.rows if any(row)]
    if not rows:
        return ""
    width = max(len(row) for row in rows)
    rows = [row + [""] * (width - len(row)) for row in rows]
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * width]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(lines)
