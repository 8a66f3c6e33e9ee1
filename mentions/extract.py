"""HTML to the text people read.

INTERIM: visible text without script/style/nav/header/footer/aside; issue 6 replaces
`main_text` with real main-text extraction. The interface stays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from selectolax.lexbor import LexborHTMLParser

_INVISIBLE = "script, style, noscript, template, head, svg, iframe, [hidden]"
_BOILERPLATE = "nav, header, footer, aside, form"


@dataclass(frozen=True, slots=True)
class ExtractedPage:
    """The main text of a page and what it says about itself."""

    title: str
    text: str
    author: str | None = None
    published: datetime | None = None
    lang: str | None = None


def _text(tree: LexborHTMLParser, drop: str) -> str:
    for node in tree.css(drop):
        node.decompose()
    body = tree.body or tree.root
    return "" if body is None else " ".join(body.text(separator=" ").split())


def visible_text(html: str) -> str:
    """All text a reader could see."""
    return _text(LexborHTMLParser(html), _INVISIBLE)


def main_text(html: str, url: str | None = None) -> ExtractedPage:
    """The page's main text, without navigation and other boilerplate."""
    tree = LexborHTMLParser(html)
    title_node = tree.css_first("title")
    title = " ".join(title_node.text().split()) if title_node else ""
    lang = tree.root.attributes.get("lang") if tree.root else None
    return ExtractedPage(title=title, text=_text(tree, f"{_INVISIBLE}, {_BOILERPLATE}"), lang=lang)
