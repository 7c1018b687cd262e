"""Rich text from other systems as the plain text ProtoLearn holds: tags stripped, entities
unescaped, paragraphs and line breaks kept as newlines. Nothing here renders or trusts HTML."""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ("html_to_text", "plain_text")

_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "figcaption", "figure",
        "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "ol", "p", "pre",
        "section", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
_HIDDEN = frozenset({"script", "style", "head", "title", "template"})
_SOFT_BREAK = "\x00"  # a block boundary: one newline however many meet
_BREAKS = re.compile(r"\s*\x00[\s\x00]*")
_SPACES = re.compile(r"[ \t\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")
# Inside <pre>, spaces and newlines are kept: they stand in as private-use characters until the end.
_KEPT = str.maketrans({" ": "\ue100", "\t": "\ue101", "\n": "\ue102"})
_RESTORE = str.maketrans({"\ue100": " ", "\ue101": "\t", "\ue102": "\n"})


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0
        self._preformatted = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt and alt.strip():
                self.parts.append(alt.strip())
        elif tag in _BLOCKS:
            self.parts.append(_SOFT_BREAK)
            if tag == "pre":
                self._preformatted += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HIDDEN:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append(_SOFT_BREAK)
            if tag == "pre":
                self._preformatted = max(0, self._preformatted - 1)

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        # Outside <pre>, HTML folds runs of white space, newlines included, into one space.
        self.parts.append(data.translate(_KEPT) if self._preformatted else re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    text = _BREAKS.sub("\n", "".join(collector.parts))
    text = _SPACES.sub(" ", text)
    lines = [line.strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip().translate(_RESTORE)


def plain_text(text: str | None, text_format: str = "plain_text") -> str:
    """A text in one of Moodle's formats (``html``, ``moodle_auto_format``, ``plain_text``,
    ``markdown``) as plain text."""
    if not text:
        return ""
    match text_format:
        case "html":
            return html_to_text(text)
        case "moodle_auto_format" | "moodle":
            # Moodle's own format: HTML allowed, and a newline is a line break.
            return html_to_text(text.replace("\r\n", "\n").replace("\n", "<br>"))
        case _:  # plain_text, markdown: kept as written
            return text.replace("\r\n", "\n").strip()
