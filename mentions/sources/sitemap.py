"""`sitemap:` sources: the pages of a sitemap that are new or changed since the last run.

Each run notes every page the sitemap lists with its `<lastmod>` (`Context.note`, kept in
the state with the source's validators). A page is read when the sitemap lists it for the
first time, or with another `<lastmod>` than noted: a new article whose `<lastmod>` is its
(older) publication date, or a sitemap without `<lastmod>`, still counts as new. At most
`max_pages` pages are read per run, newest first; the rest are not noted, so the next run
reads them. The first run (nothing noted yet: a new source, a new name, a state from
before these notes, or after runs that note nothing, `--keyword`, `--since` and `--all`)
reads the `max_pages` newest entries and notes the others as they are, so an existing site
is not read from its beginning.

Sitemap index files are followed, newest first, at most `MAX_SITEMAPS` files, none twice; an
index that leads only to sitemaps already read (itself, a loop) fails the source. Every page
is fetched as a remote choice and extracted like a `page:` without `items`. A page that is gone
(404/410), that robots.txt forbids, or that `exclude_urls` leaves out is noted and skipped;
any other failure fails the source after the pages already read (their mentions are
delivered), and the next run tries the same pages again.
"""

from __future__ import annotations

import gzip
import html
import io
import re
from dataclasses import dataclass
from datetime import datetime

from mentions.config import Source
from mentions.dates import parse_date, rfc3339
from mentions.errors import FetchError
from mentions.identity import is_excluded
from mentions.models import Document
from mentions.sources import Context
from mentions.sources.links import absolute

MAX_SITEMAPS = 20
DEFAULT_MAX_PAGES = 20
MAX_ENTRIES = 100_000
MAX_UNZIPPED = 50_000_000
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


async def collect(source: Source, context: Context) -> list[Document]:
    """Read the sitemap (and its children), then fetch and extract the chosen pages."""
    limit = source.max_pages or DEFAULT_MAX_PAGES
    noted = context.notes()
    listed = {entry.url: entry for entry in await _page_entries(source, context, noted)}
    if noted:
        candidates = [entry for entry in listed.values() if noted.get(entry.url) != _mark(entry)]
        # Owed from an earlier run, and not listed now: the sitemap was unchanged (304).
        candidates += [_owed(url, value) for url, value in noted.items()
                       if value.startswith(_OWED) and url not in listed]
    else:
        # The first run (or one after runs that noted nothing: `--keyword`, `--all`, a new
        # name) reads the newest pages and notes the rest as they are.
        candidates = choose(list(listed.values()), limit)
        considered = {entry.url for entry in candidates}
        for entry in listed.values():
            if entry.url not in considered:
                context.note(entry.url, _mark(entry))
    chosen = choose(candidates, limit)
    picked = {entry.url for entry in chosen}
    for entry in candidates:
        if entry.url not in picked:
            context.note(entry.url, _OWED + _mark(entry))  # beyond `max_pages`: the next run
    from mentions.sources.page import parse_page

    excluded = [re.compile(pattern) for pattern in source.exclude_urls]
    documents: list[Document] = []
    for entry in chosen:
        context.note(entry.url, _mark(entry))  # kept only if the whole run succeeds
        if is_excluded(entry.url, excluded):
            continue  # left out anyway: not fetched at all
        try:
            response = await context.fetch(entry.url, is_remote_choice=True)
        except FetchError as error:
            if error.status in (404, 410) or error.reason == "robots.txt":
                continue
            # The pages read are complete: their mentions count; the source still fails, and
            # no note is kept, so the next run reads the same pages again.
            context.fail_after_documents(error)
            break
        if response is None:
            continue
        parsed = await context.run(parse_page, response.body, response.content_type, response.url, source)
        for document in parsed.documents:
            documents.append(_as_sitemap(document, entry))
    return documents


_OWED = "?"  # the note of a page listed as new or changed that a run left for the next
_CHILD = "sitemap "  # the key of a child sitemap's note (its value: the index that lists it)


def _owed(url: str, value: str) -> Entry:
    """The entry of a page an earlier run left unread, from its note."""
    mark = value.removeprefix(_OWED)
    return Entry(url, parse_date(mark) if mark else None, is_sitemap=False)


def _mark(entry: Entry) -> str:
    """What is noted of a page: its `<lastmod>` as written in RFC 3339 ("" for none)."""
    return rfc3339(entry.lastmod) or ""


async def _page_entries(source: Source, context: Context, noted: dict[str, str]) -> list[Entry]:
    """The page entries of the sitemap, with index files followed (bounded).

    The first run (nothing noted) asks for whole files: a 304 would leave it without the
    list it needs. An index file that did not change (304) still leads to its children, as
    noted.

    A child read before (the index itself, or a loop of indexes) is skipped; when that
    leaves no file to read but indexes, the source fails: it would read as a quiet sitemap,
    run after run, and nobody would learn it is broken. An empty `<urlset>` is no error."""
    pending = [source.location]
    seen: set[str] = set()
    pages: list[Entry] = []
    has_repeats = has_leaf = False
    while pending and len(seen) < MAX_SITEMAPS:
        url = pending.pop(0)
        if url in seen:
            continue
        seen.add(url)
        is_remote = url != source.location
        response = await context.fetch(url, is_remote_choice=is_remote, is_conditional=bool(noted))
        if response is None:
            children_urls = [key.removeprefix(_CHILD) for key, parent in noted.items()
                             if key.startswith(_CHILD) and parent == url]
        else:
            entries = await context.run(parse_sitemap, response.body, response.url)
            children = sorted((e for e in entries if e.is_sitemap), key=_newest_first)
            for child in children:
                context.note(_CHILD + child.url, url)
            children_urls = [child.url for child in children]
            pages.extend(e for e in entries if not e.is_sitemap)
        fresh = [child for child in children_urls if child not in seen]
        has_repeats = has_repeats or len(fresh) < len(children_urls)
        has_leaf = has_leaf or not children_urls
        pending.extend(fresh)
    if has_repeats and not pages and not has_leaf:
        raise FetchError("parse error", source.location,
                         "the sitemap index lists only itself or sitemaps already read, no pages")
    return pages


def choose(entries: list[Entry], limit: int) -> list[Entry]:
    """The pages to fetch of `entries`: newest first (undated last), at most `limit`."""
    unique = list({entry.url: entry for entry in entries}.values())
    return sorted(unique, key=_newest_first)[:limit]


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
        entries.append(Entry(location, lastmod, found.group(1).lower() == "sitemap"))
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
