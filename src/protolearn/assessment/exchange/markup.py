"""Rich text from other systems as the plain text ProtoLearn holds: tags stripped, entities
unescaped, paragraphs and line breaks kept as newlines. Nothing here renders or trusts HTML."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape

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


_TAG_NAME = re.compile(r"(/?)([a-zA-Z][a-zA-Z0-9:-]*)")
_ALT = re.compile(r"""\balt\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)


def _tokens(html: str) -> Iterator[tuple[str, str]]:
    """``("text", data)`` and ``("tag", what is between < and >)`` in order. Every search starts
    where the last one ended and a missing ``>`` ends the markup, so hostile input costs linear
    time (the standard HTMLParser is quadratic on some malformed input)."""
    lowered = html.lower()
    position, size = 0, len(html)
    while position < size:
        start = html.find("<", position)
        if start < 0:
            yield "text", html[position:]
            return
        if start > position:
            yield "text", html[position:start]
        following = html[start + 1 : start + 2]
        if not (following.isalpha() or following in ("/", "!", "?")):
            yield "text", "<"  # "3 < 5" is text
            position = start + 1
            continue
        if html.startswith("<!--", start):
            end = html.find("-->", start + 4)
            position = size if end < 0 else end + 3
            continue
        if html.startswith("<![CDATA[", start):
            end = html.find("]]>", start + 9)
            yield "text", html[start + 9 : size if end < 0 else end]
            position = size if end < 0 else end + 3
            continue
        end = html.find(">", start + 1)
        if end < 0:
            yield "text", html[start:]
            return
        inner = html[start + 1 : end]
        position = end + 1
        name = _TAG_NAME.match(inner)
        if name and not name.group(1) and name.group(2).lower() in _HIDDEN:
            closing = lowered.find(f"</{name.group(2).lower()}", position)  # skip what it holds
            after = -1 if closing < 0 else html.find(">", closing)
            position = size if after < 0 else after + 1
            continue
        yield "tag", inner


def html_to_text(html: str) -> str:
    parts: list[str] = []
    preformatted = 0
    for kind, value in _tokens(html):
        if kind == "text":
            data = unescape(value)
            # Outside <pre>, HTML folds runs of white space, newlines included, into one space.
            parts.append(data.translate(_KEPT) if preformatted else re.sub(r"\s+", " ", data))
            continue
        name = _TAG_NAME.match(value)
        if name is None:
            continue  # <!DOCTYPE>, <?xml ...?>: nothing to show
        closing, tag = bool(name.group(1)), name.group(2).lower()
        if tag == "br" and not closing:
            parts.append("\n")
        elif tag == "img" and not closing:
            alt = _ALT.search(value)
            text = unescape(next((g for g in alt.groups() if g is not None), "")).strip() if alt else ""
            if text:
                parts.append(text)
        elif tag in _BLOCKS:
            parts.append(_SOFT_BREAK)
            if tag == "pre":
                preformatted = max(0, preformatted + (-1 if closing else 1))
    text = _BREAKS.sub("\n", "".join(parts))
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
