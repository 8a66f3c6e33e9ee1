"""`feed:` sources: RSS 0.9x/1.0/2.0, Atom and JSON Feed entries as documents."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urljoin

from mentions.config import Source
from mentions.dates import from_struct, parse_date
from mentions.errors import FetchError
from mentions.extract import visible_text
from mentions.models import Document
from mentions.sources import Context
from mentions.sources.feedfast import Entry, parse_fast


async def collect(source: Source, context: Context) -> list[Document]:
    """Fetch the feed and parse it off the event loop."""
    response = await context.fetch(source.location)
    if response is None:
        return []
    return await context.run(parse_feed, response.body, response.url, source.name)


def parse_feed(body: bytes, url: str, source: str) -> list[Document]:
    """Every entry of a feed; FetchError("not a feed") when the body is no feed at all."""
    stripped = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"{"):
        return _parse_json_feed(stripped, url, source)
    entries = parse_fast(body, url)
    if entries is not None:
        return [_fast_document(entry, source) for entry in entries]
    import feedparser

    # feedparser would fetch URLs and open paths given as strings: it only ever gets bytes.
    parsed = feedparser.parse(body, response_headers={"content-location": url})
    entries = parsed.get("entries") or []
    if not parsed.get("version") and not entries:
        raise FetchError("not a feed", url, "the answer is not RSS, Atom or JSON Feed")
    return [_entry_document(entry, url, source) for entry in entries]


def _fast_document(entry: Entry, source: str) -> Document:
    text = entry.content if len(entry.content) >= len(entry.summary) else entry.summary
    return Document(
        source=source,
        source_type="feed",
        text=_html_to_text(text),
        title=_html_to_text(entry.title),
        url=entry.link,
        author=entry.author,
        published=entry.published,
        guid=entry.guid,
    )


def _html_to_text(value: str) -> str:
    if "<" not in value and "&" not in value:
        return " ".join(value.split())
    return visible_text(value)


def _entry_document(entry: Any, feed_url: str, source: str) -> Document:
    contents = entry.get("content") or []
    body = max((c.get("value", "") for c in contents), key=len, default="")
    summary = entry.get("summary", "")
    text = _html_to_text(body if len(body) >= len(summary) else summary)
    link = entry.get("link")
    # Plain dict lookups: feedparser's own mapping warns about updated/published aliases.
    published = from_struct(dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed"))
    return Document(
        source=source,
        source_type="feed",
        text=text,
        title=_html_to_text(entry.get("title", "")),
        url=urljoin(feed_url, link) if link else None,
        author=entry.get("author") or None,
        published=published,
        guid=entry.get("id") or None,
        lang=entry.get("language") or None,
    )


def _parse_json_feed(body: bytes, url: str, source: str) -> list[Document]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise FetchError("not a feed", url, "invalid JSON") from None
    if not isinstance(data, dict) or "jsonfeed.org" not in str(data.get("version", "")):
        raise FetchError("not a feed", url, "JSON, but not a JSON Feed")
    items = data.get("items")
    if not isinstance(items, list):
        return []
    documents = []
    for item in items:
        if not isinstance(item, dict):
            continue
        html = item.get("content_html")
        text = _html_to_text(html) if isinstance(html, str) else str(item.get("content_text") or "")
        link = item.get("url") if isinstance(item.get("url"), str) else None
        authors = item.get("authors") or ([item["author"]] if isinstance(item.get("author"), dict) else [])
        author = next((a.get("name") for a in authors if isinstance(a, dict) and a.get("name")), None)
        published = item.get("date_published") or item.get("date_modified")
        documents.append(
            Document(
                source=source,
                source_type="feed",
                text=text or _html_to_text(str(item.get("summary") or "")),
                title=_html_to_text(str(item.get("title") or "")),
                url=urljoin(url, link) if link else None,
                author=str(author) if author else None,
                published=parse_date(published) if isinstance(published, str) else None,
                guid=str(item["id"]) if item.get("id") is not None else None,
                lang=item.get("language") if isinstance(item.get("language"), str) else None,
            )
        )
    return documents
