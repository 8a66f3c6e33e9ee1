"""Main text of HTML pages: what a reader came for, without the page chrome.

Pure functions over `str` (no I/O). The steps, one module each:

    html --dom.parse/flatten--> element table + text lines      (dom.py)
         --score.select_lines--> the lines of the article/thread  (score.py, hints.py)
         --meta.read_meta------> title, author, date, language    (meta.py)

A brand named only in a menu or footer is not a mention; one named in the fifth reply
of a forum thread is. So comments and replies are kept, chrome is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .dom import MAX_HTML, flatten, parse
from .meta import Meta, clean, read_meta
from .plain import visible_text
from .score import select_lines

__all__ = ["MAX_HTML", "ExtractedPage", "main_text", "visible_text"]


@dataclass(frozen=True, slots=True)
class ExtractedPage:
    """The main text of a page and what the page says about itself."""

    title: str
    text: str
    author: str | None = None
    published: datetime | None = None  # timezone-aware UTC
    lang: str | None = None


def main_text(html: str | bytes, url: str | None = None) -> ExtractedPage:
    """The article, post, thread or review of a page, with its comments and replies.

    `html` is the page's text, or its UTF-8 bytes (`mentions.decode.html_for_parser`)."""
    if not html or html.isspace():
        return ExtractedPage(title="", text="")
    try:
        tree = parse(html[:MAX_HTML])
        meta = read_meta(tree)
        page = flatten(tree.body, prune=True)
        lines = [page.line_text[j] for j in select_lines(page)]
    except Exception:  # untrusted input: a heuristic surprise must not stop a scan
        if isinstance(html, bytes):
            html = html.decode("utf-8", "replace")
        return ExtractedPage(title="", text=visible_text(html))
    text = _prefer_json_ld("\n".join(lines), meta)
    if not text and page.line_text:
        # Nothing looked like an article (a page builder's nested layout boxes, say) and the
        # publisher gave none in JSON-LD: all visible text, chrome and all, rather than a
        # page that can never be a mention.
        text = "\n".join(page.line_text)
    return ExtractedPage(title=meta.title, text=text, author=meta.author,
                         published=meta.published, lang=meta.lang)


def _prefer_json_ld(text: str, meta: Meta) -> str:
    """Use the publisher's JSON-LD articleBody when the DOM gave (almost) nothing: pages
    that render their article with JavaScript (or behind a paywall script) often still ship
    it there. Its lead paragraph, which such pages show above the body, is the publisher's
    description of the article: it goes first when the body does not repeat it."""
    if not meta.article_body or len(text) >= 0.3 * len(meta.article_body):
        return text  # (cleaning only shortens the body: no need to clean it to know)
    body = clean(meta.article_body)
    if body and len(text) < 0.3 * len(body):
        lead = meta.description
        if lead and lead[:60] not in body:
            return lead + "\n" + meta.article_body.strip()
        return meta.article_body.strip()
    return text
