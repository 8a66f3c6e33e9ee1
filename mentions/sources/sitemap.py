"""`sitemap:` sources: the pages of a sitemap that are new or changed since the last run.

The first run (no successful run in the state) takes the `max_pages` newest entries by
`<lastmod>`; later runs take the entries whose `<lastmod>` is newer than the last
successful run (less an hour of overlap for clocks that disagree: a page seen twice gives
the same mention ids, so nothing is reported twice). Entries without `<lastmod>` cannot say
whether they changed: they are taken on the first run only — for such sites a feed is the
better source. Sitemap index files are followed, newest first, at most `MAX_SITEMAPS`
files. Every page is fetched as a remote choice and extracted like a `page:` without
`items`. A page that is gone (404/410) is skipped; any other failure fails the source, so
the next run tries the same pages again.
"""

from __future__ import annotations

import gzip
import html
import io
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from mentions.config import Source
from mentions.dates import parse_date
from mentions.errors import FetchError
from mentions.models import Document
from mentions.sources import Context
from mentions.sources.links import absolute

MAX_SITEMAPS = 20
DEFAULT_MAX_PAGES = 20
MAX_ENTRIES = 100_000
MAX_UNZIPPED = 50_000_000
OVERLAP = timedelta(hours=1)
_ENTRY = re.compile(r"<(?:\w+:)?(url|sitemap)\b[^>]*>(.*?)</(?:\w+:)?\1\s*>", re.DOTALL | re.IGNORECASE)
_LOC = re.compile(r"<(?:\w+:)?loc\b[^>]*>(.*?)</(?:\w+:)?loc\s*>", re.DOTALL | re.IGNORECASE)
_LASTMOD = re.compile(r"<(?:\w+:)?lastmod\b[^>]*>(.*?)</(?:\w+:)?lastmod\s*>", re.DOTALL | re.IGNORECASE)
_CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Entry:
    """One `<url>` (a page) or `<sitemap>` (a child sitemap) of a sitemap file."""

    url: str
    lastmod: datetime | None
    is_sitemap: bool
    is_date_only: bool = False

    def is_newer_than(self, moment: datetime) -> bool:
        """Changed after `moment`; a bare date counts as the whole day."""
        if self.lastmod is None:
            return False
        end = self.lastmod + timedelta(days=1) if self.is_date_only else self.lastmod
        return end > moment


async def collect(source: Source, context: Context) -> list[Document]:
    """Read the sitemap (and its children), then fetch and extract the chosen pages."""
    limit = source.max_pages or DEFAULT_MAX_PAGES
    pages = await _page_entries(source, context)
    since = context.last_success()
    chosen = choose(pages, since - OVERLAP if since else None, limit)
    from mentions.sources.page import parse_page

    documents: list[Document] = []
    for entry in chosen:
        try:
            response = await context.fetch(entry.url, is_remote_choice=True)
        except FetchError as error:
            if error.status in (404, 410):
                continue
            raise
        if response is None:
            continue
        parsed = await context.run(parse_page, response.body, response.content_type, response.url, source)
        for document in parsed.documents:
            documents.append(_as_sitemap(document, entry))
    return documents


async def _page_entries(source: Source, context: Context) -> list[Entry]:
    """The page entries of the sitemap, with index files followed (bounded)."""
    pending = [source.location]
    seen: set[str] = set()
    pages: list[Entry] = []
    while pending and len(seen) < MAX_SITEMAPS:
        url = pending.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = await context.fetch(url, is_remote_choice=url != source.location)
        if response is None:
            continue
        entries = await context.run(parse_sitemap, response.body, response.url)
        children = sorted((e for e in entries if e.is_sitemap), key=_newest_first)
        pending.extend(child.url for child in children)
        pages.extend(e for e in entries if not e.is_sitemap)
    return pages


def choose(entries: list[Entry], since: datetime | None, limit: int) -> list[Entry]:
    """The pages to fetch: new or changed since `since`, newest first, at most `limit`."""
    unique = list({entry.url: entry for entry in entries}.values())
    candidates = unique if since is None else [entry for entry in unique if entry.is_newer_than(since)]
    return sorted(candidates, key=_newest_first)[:limit]


def _newest_first(entry: Entry) -> tuple[bool, float]:
    return (entry.lastmod is None, -(entry.lastmod.timestamp() if entry.lastmod else 0.0))


def parse_sitemap(body: bytes, url: str) -> list[Entry]:
    """The entries of a sitemap or sitemap index (gzip-compressed or not).

    Read with patterns rather than an XML parser: sitemaps are flat, are often slightly
    broken, and a pattern cannot be made to expand entities without end.
    """
    if body[:2] == b"\x1f\x8b":
        body = _gunzip(body, url)
    text = body.decode("utf-8", "replace")
    if not re.search(r"<(?:\w+:)?(urlset|sitemapindex)\b", text[:5000], re.IGNORECASE):
        raise FetchError("parse error", url, "not a sitemap (no <urlset> or <sitemapindex>)")
    entries: list[Entry] = []
    for found in _ENTRY.finditer(text):
        if len(entries) >= MAX_ENTRIES:
            break
        loc = _LOC.search(found.group(2))
        if loc is None:
            continue
        location = html.unescape(_CDATA.sub(r"\1", loc.group(1))).strip()
        location = absolute(url, location) or ""
        if not location.startswith(("http://", "https://")):
            continue
        lastmod_match = _LASTMOD.search(found.group(2))
        lastmod_text = lastmod_match.group(1).strip() if lastmod_match else ""
        lastmod = parse_date(lastmod_text) if lastmod_text else None
        is_date_only = bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", lastmod_text))
        entries.append(Entry(location, lastmod, found.group(1).lower() == "sitemap", is_date_only))
    return entries


def _gunzip(body: bytes, url: str) -> bytes:
    """A `.xml.gz` sitemap, unpacked to a bounded size (a small file can unpack to gigabytes)."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(body)) as unpacked:
            data = unpacked.read(MAX_UNZIPPED + 1)
    except (OSError, EOFError) as error:
        raise FetchError("invalid compression", url, str(error) or "broken gzip") from None
    if len(data) > MAX_UNZIPPED:
        raise FetchError("too large", url, f"unpacks to more than {MAX_UNZIPPED} bytes")
    return data


def _as_sitemap(document: Document, entry: Entry) -> Document:
    from dataclasses import replace

    # `lastmod` says when a page changed, not when it was written: it is no `published` date.
    return replace(document, source_type="sitemap", url=document.url or entry.url)
