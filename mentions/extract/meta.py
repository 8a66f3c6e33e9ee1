"""Title, author, date and language of a page, from the tags publishers fill for
search engines and link previews (Open Graph, JSON-LD, <time>), which are far more
reliable than guessing from the layout."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

from mentions.dates import within_range
from mentions.decode import load_json

from .dom import select

_DATE_META = (
    "article:published_time", "og:published_time", "article:published", "datepublished",
    "pubdate", "publishdate", "publish-date", "publish_date", "date", "dc.date.issued",
    "dc.date", "dcterms.date", "dcterms.created", "sailthru.date", "parsely-pub-date",
    "citation_publication_date", "article.published", "creation_date",
)
_AUTHOR_META = ("author", "article:author", "dc.creator", "parsely-author", "sailthru.author",
                "byl", "citation_author", "twitter:creator")
_LANG = re.compile(r"^[A-Za-z]{2,3}(?=$|[-_])")
_SPACE = re.compile(r"\s+")
MAX_JSON_LD = 1_000_000  # chars; larger blocks are app state, not metadata


@dataclass(slots=True)
class Meta:
    """What the page says about itself (each field may be missing)."""

    title: str = ""
    author: str | None = None
    published: datetime | None = None
    lang: str | None = None
    article_body: str = ""
    description: str = ""  # the publisher's summary (JSON-LD, og:description, description)


def clean(text: str | None) -> str:
    """One line of text: white space collapsed, control characters dropped."""
    if not text:
        return ""
    if not text.isprintable():
        text = "".join(c if c.isprintable() else " " for c in text)
    return _SPACE.sub(" ", text).strip()


def parse_date(value: str | None) -> datetime | None:
    """An ISO 8601 date or datetime as aware UTC (naive ones are taken as UTC)."""
    value = clean(value)
    if not value or len(value) > 40:
        return None
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    # "+0100" -> "+01:00": fromisoformat wants the colon in Python 3.11
    value = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", value)
    for candidate in (value, value[:10]):
        try:
            parsed = datetime.fromisoformat(candidate)
        except ValueError:
            continue
        return within_range(parsed)
    return None


def language(value: str | None) -> str | None:
    """The primary subtag of a language tag, lower-cased: `de-DE`, `de_DE` -> `de`."""
    m = _LANG.match(clean(value))
    return m.group(0).lower() if m else None


_META_SELECTOR = ('meta[content],script[type="application/ld+json"],time[datetime],'
                  '[rel="author"],[itemprop="author"]')
# Only when no og:title, twitter:title or JSON-LD headline names the page (a fifth of pages):
# each alternative of a selector costs on every element of every page.
_TITLE_SELECTOR = "title,h1"


def read_meta(tree: LexborHTMLParser) -> Meta:
    """Collect metadata from <head> meta tags, JSON-LD, <html lang>, <title>, <h1>, <time>.

    One selector query finds the candidates (each query is a pass over the whole page); a
    second one looks for <title> and <h1> when the tags do not name the page."""
    meta = Meta()
    named: dict[str, str] = {}
    scripts: list[LexborNode] = []
    first: dict[str, LexborNode] = {}  # title, h1, time, author: the first in the page
    root = tree.root
    for node in (select(root, _META_SELECTOR) if root is not None else []):
        tag = node.tag or ""
        attrs = node.attributes
        if tag == "meta" and "content" in attrs:
            key = (attrs.get("property") or attrs.get("name") or attrs.get("itemprop")
                   or attrs.get("http-equiv") or "").strip().lower()
            if key and key not in named:
                named[key] = attrs.get("content") or ""
        elif tag == "script":
            scripts.append(node)
        elif tag == "time" and "datetime" in attrs:
            first.setdefault(tag, node)
        if attrs.get("rel") == "author" or attrs.get("itemprop") == "author":
            first.setdefault("author", node)
    ld = _json_ld(scripts)

    title = clean(named.get("og:title") or named.get("twitter:title") or ld.get("headline"))
    if not title and root is not None:
        for node in select(root, _TITLE_SELECTOR):
            first.setdefault(node.tag or "", node)
        title = _text(first.get("title")) or _text(first.get("h1"))
    meta.title = title[:500]

    author = next((clean(named[k]) for k in _AUTHOR_META if named.get(k)), "")
    if not author or author.startswith("http"):
        author = _ld_name(ld.get("author")) or ""
    author = author or _text(first.get("author"))
    meta.author = author[:200] or None

    published = next((parse_date(named[k]) for k in _DATE_META if named.get(k)), None)
    if published is None and isinstance(ld.get("datePublished"), str):
        published = parse_date(ld["datePublished"])
    if published is None and "time" in first:
        published = parse_date(first["time"].attributes.get("datetime"))
    meta.published = published

    html = tree.root
    html_attrs = html.attributes if html is not None and html.tag == "html" else {}
    meta.lang = (language(html_attrs.get("lang"))
                 or language(html_attrs.get("xml:lang"))
                 or language(named.get("content-language"))
                 or language(named.get("og:locale"))
                 or language(ld.get("inLanguage") if isinstance(ld.get("inLanguage"), str)
                             else None))
    body = ld.get("articleBody") or ld.get("text") or ld.get("reviewBody")
    meta.article_body = body.strip() if isinstance(body, str) else ""
    summary = ld.get("description")
    meta.description = clean((summary if isinstance(summary, str) else "")
                             or named.get("og:description") or named.get("description"))
    return meta


def _text(node: LexborNode | None) -> str:
    """The cleaned text of an element, or ""."""
    return clean(node.text(separator=" ")) if node is not None else ""


def _ld_name(value: Any) -> str | None:
    """The name of a JSON-LD Person/Organization, or of the first of a list."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name")
    return clean(value) or None if isinstance(value, str) else None


def _json_ld(scripts: list[LexborNode]) -> dict[str, Any]:
    """The first JSON-LD object that describes an article, posting, review or page."""
    best: dict[str, Any] = {}
    for node in scripts:
        raw = node.text()
        if not raw or len(raw) > MAX_JSON_LD:
            continue
        try:
            data = load_json(raw)
        except (ValueError, RecursionError):
            continue
        for obj in _objects(data):
            kind = obj.get("@type")
            kinds = kind if isinstance(kind, list) else [kind]
            if any(isinstance(k, str) and k.endswith(("Article", "Posting", "Review", "Report",
                                                       "WebPage", "BlogPosting", "Question"))
                   for k in kinds):
                if "articleBody" in obj or not best:
                    best = obj
                if "articleBody" in obj:
                    return best
    return best


def _objects(data: Any) -> list[dict[str, Any]]:
    """Top-level objects of a JSON-LD document (a list, an object, or an @graph)."""
    items = data if isinstance(data, list) else [data]
    out: list[dict[str, Any]] = []
    for item in items[:50]:
        if isinstance(item, dict):
            graph = item.get("@graph")
            if isinstance(graph, list):
                out.extend(g for g in graph[:50] if isinstance(g, dict))
            out.append(item)
    return out
