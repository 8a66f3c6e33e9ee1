"""`feed:` sources: RSS 0.9x/1.0/2.0, Atom and JSON Feed entries as documents.

With `comments: true` the comment feeds the entries name (`wfw:commentRss`, as WordPress
writes them) are followed too, newest entries first and at most `MAX_COMMENT_FEEDS` of them;
their URLs come from the feed, so they are fetched as remote choices.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from mentions.config import Source
from mentions.dates import from_struct, parse_date
from mentions.decode import feed_for_parser, json_for_parser, load_json, prepare_feed, without_bad_references
from mentions.errors import FetchError
from mentions.extract.markup import escaped_text, field_text, guessed_text
from mentions.models import Document
from mentions.sources import Context
from mentions.sources.feedfast import Entry, parse_fast
from mentions.sources.links import absolute

MAX_COMMENT_FEEDS = 10
_GOOGLE_HOST = re.compile(r"(?:www\.)?google\.[a-z]{2,3}(?:\.[a-z]{2})?")


async def collect(source: Source, context: Context) -> list[Document]:
    """Fetch the feed (and, with `comments: true`, its comment feeds) and parse it off the event loop."""
    response = await context.fetch(source.location)
    if response is None:
        return []
    documents = await context.run(parse_feed, response.body, response.url, source.name, response.content_type)
    if source.comments:
        links = await context.run(comment_feed_links, response.body, response.url, response.content_type)
        for link in links[:MAX_COMMENT_FEEDS]:
            try:
                documents.extend(await _comments(link, source, context))
            except FetchError as error:
                # One post's comment feed failing (a timeout, a bomb) held back every entry
                # already read: they are delivered, and the source is reported failed, as
                # a failed `next` page of a page source is.
                context.fail_after_documents(error)
                break
    return documents


async def _comments(url: str, source: Source, context: Context) -> list[Document]:
    """The entries of one comment feed; a post whose comments are gone (404/410) has none."""
    try:
        response = await context.fetch(url, is_remote_choice=True)
    except FetchError as error:
        if error.status in (404, 410):
            return []
        raise
    if response is None:
        return []
    return await context.run(parse_feed, response.body, response.url, source.name, response.content_type)


def comment_feed_links(body: bytes, url: str, content_type: str | None = None) -> list[str]:
    """The `wfw:commentRss` links of a feed's entries, newest entries first, without repeats."""
    if body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return []
    body = feed_for_parser(body, content_type)
    fast = parse_fast(body, url)
    if fast is not None:
        newest = sorted(fast, key=lambda e: e.published.timestamp() if e.published else 0, reverse=True)
        found = [e.comments_feed for e in newest if e.comments_feed]
        return [link for link in dict.fromkeys(found) if link.startswith(("http://", "https://"))]

    entries = read_loosely(body, url).get("entries") or []
    dated = sorted(
        entries, key=lambda e: tuple(e.get("published_parsed") or e.get("updated_parsed") or ()), reverse=True
    )
    links = [absolute(url, e["wfw_commentrss"]) for e in dated if isinstance(e.get("wfw_commentrss"), str)]
    return [link for link in dict.fromkeys(links) if link and link.startswith(("http://", "https://"))]


def parse_feed(body: bytes, url: str, source: str, content_type: str | None = None) -> list[Document]:
    """Every entry of a feed; FetchError("not a feed") when the body is no feed at all.

    `content_type`: the HTTP header, whose charset comes before the feed's own declaration
    (`decode.feed_for_parser`)."""
    stripped = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"{"):
        return _parse_json_feed(json_for_parser(body, content_type), url, source)
    body = feed_for_parser(body, content_type)
    entries = parse_fast(body, url)
    if entries is not None:
        return [_fast_document(entry, source) for entry in entries]
    root = unclosed_root(body)
    if root is not None:
        # feedparser would read the entries before the cut, the last of them cut short.
        raise FetchError("truncated", url, f"the feed ends before its closing </{root}>")

    # feedparser would fetch URLs and open paths given as strings: it only ever gets bytes.
    parsed = read_loosely(body, url)
    entries = parsed.get("entries") or []
    if not parsed.get("version") and not entries:
        raise FetchError("not a feed", url, "the answer is not RSS, Atom or JSON Feed")
    feed_lang = (parsed.get("feed") or {}).get("language")
    version = parsed.get("version") or ""
    return [_entry_document(entry, url, source, feed_lang, version) for entry in entries]


_ROOT = re.compile(rb"<([A-Za-z_][\w.:-]*)")
_COMMENT = re.compile(rb"<!--.*?-->", re.DOTALL)


def unclosed_root(body: bytes) -> str | None:
    """The name of the root element when the feed never closes it (it was cut off), else None.

    Only a cut-off feed lacks it: other flaws that send a feed to feedparser (an undefined
    entity, a stray `&`) leave the end tag in place. Sloppy case (`</RSS>`) counts as closed.
    The end tag must come after the last item's start: an item's text may quote `</rss>`
    (in CDATA) and the feed be cut after it, while junk after the end (a PHP warning) is
    no cut.
    """
    found = _ROOT.search(_COMMENT.sub(b"", body[:65536]))  # `<?xml`, `<!DOCTYPE` do not match
    if found is None:
        return None  # not XML that we can read as bytes (UTF-16, say): feedparser decides
    name = found.group(1)
    lowered = body.lower()
    last_item = max(lowered.rfind(b"<item"), lowered.rfind(b"<entry"))
    if lowered.rfind(b"</" + name.lower()) > last_item:
        return None
    return name.decode("ascii", "replace")


def _fast_document(entry: Entry, source: str) -> Document:
    # The full content when the feed has it: summaries are often cut after a sentence.
    if entry.content:
        text = field_text(entry.content, entry.content_is_html)
    else:
        text = field_text(entry.summary, entry.summary_is_html)
    return Document(
        source=source,
        source_type="feed",
        text=text,
        title=field_text(entry.title, entry.title_is_html),
        url=unwrap_redirect(entry.link),
        author=entry.author,
        published=entry.published,
        guid=entry.guid,
        lang=entry.lang,
    )


def unwrap_redirect(url: str | None) -> str | None:
    """The address behind a Google redirect (`https://www.google.com/url?...&url=REAL`).

    Google Alerts delivers every link so, with tracking parameters that change from one
    delivery to the next: kept as they are, the same article would be a new mention each
    time, and the record would not say where it is. Other URLs stay as they are.
    """
    if not url or "google." not in url:
        return url
    parts = urlsplit(url)
    if parts.path != "/url" or not _GOOGLE_HOST.fullmatch(parts.hostname or ""):
        return url
    query = parse_qs(parts.query)
    target = (query.get("url") or query.get("q") or [""])[0]
    return target if target.startswith(("http://", "https://")) else url


def read_loosely(body: bytes, url: str) -> Any:
    """feedparser's reading of a feed the fast path refused; FetchError when it fails itself.

    On some broken bytes feedparser raises instead of flagging the feed (an encoding name
    that is no UTF-8, a NUL in the declaration, a media element it half-knows): it gets
    one more try with the body as clean UTF-8 (`decode.prepare_feed`), then the source
    fails with a reason."""
    import feedparser

    # Without a content type feedparser reads an undeclared body as ISO-8859-1 (RFC 3023's
    # text/xml): `feed_for_parser` made the body read right by its own declaration, else UTF-8.
    headers = {"content-location": url, "content-type": "application/xml"}
    try:
        return feedparser.parse(without_bad_references(body), response_headers=headers)
    except Exception:
        pass
    try:
        return feedparser.parse(without_bad_references(prepare_feed(body)), response_headers=headers)
    except Exception as error:
        raise FetchError("parse error", url, f"the feed cannot be read ({type(error).__name__})") from None


_HTML_TYPES = ("text/html", "application/xhtml+xml")


def _detail_text(value: str, detail: Any, is_atom: bool) -> str:
    """A feedparser text read as the fast path reads it: by the type feedparser gives it.

    For RSS's nominally plain texts (titles) that type is feedparser's guess; ours calls
    HTML all that feedparser's does and a few more (an unclosed `<br>`), so a text left
    plain is guessed once more, and both paths agree."""
    kind = detail.get("type") if isinstance(detail, dict) else None
    if not isinstance(kind, str) or kind in _HTML_TYPES:
        return field_text(value, True)
    return guessed_text(value) if not is_atom and kind == "text/plain" else field_text(value, False)


def _entry_document(
    entry: Any, feed_url: str, source: str, feed_lang: str | None = None, version: str = ""
) -> Document:
    """A document from feedparser's reading of an entry; `version` is feedparser's (`atom10`, `rss20`)."""
    is_atom = version.startswith("atom")

    def text_of(key: str) -> str | None:
        # feedparser keeps what the feed wrote: an empty element may be None, not "".
        value = entry.get(key)
        return value if isinstance(value, str) and value else None

    contents = [c for c in entry.get("content") or [] if isinstance(c.get("value"), str)]
    body = max(contents, key=lambda c: len(c["value"]), default=None)
    # The full content when the feed has it: summaries are often cut after a sentence.
    if body is not None and body["value"]:
        text = _detail_text(body["value"], body, is_atom)
    else:
        text = _detail_text(text_of("summary") or "", entry.get("summary_detail"), is_atom)
    link = text_of("link")
    return Document(
        source=source,
        source_type="feed",
        text=text,
        title=_detail_text(text_of("title") or "", entry.get("title_detail"), is_atom),
        url=unwrap_redirect(absolute(feed_url, link)) if link else None,
        author=text_of("author"),
        published=_entry_date(entry),
        guid=text_of("id"),
        lang=text_of("language") or feed_lang or None,
    )


def _entry_date(entry: Any) -> datetime | None:
    """The entry's date read as the fast path reads it, from the text the feed wrote.

    feedparser's own `*_parsed` values can be wrong at the edges: it reads
    `Sat, 01 Jan 0001 00:00:00 +1400` as the year 1400."""
    # Plain dict lookups: feedparser's own mapping warns about updated/published aliases.
    written = [text for key in ("published", "updated") if isinstance(text := dict.get(entry, key), str)]
    if any(text.strip() for text in written):
        return next((found for text in written if (found := parse_date(text)) is not None), None)
    return from_struct(dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed"))


def _parse_json_feed(body: bytes | str, url: str, source: str) -> list[Document]:
    try:
        data = load_json(body)
    except (ValueError, RecursionError):
        raise FetchError("not a feed", url, "invalid JSON") from None
    if not isinstance(data, dict) or "jsonfeed.org" not in str(data.get("version", "")):
        raise FetchError("not a feed", url, "JSON, but not a JSON Feed")
    items = data.get("items")
    if not isinstance(items, list):  # required, a list: an object there read as a quiet feed, for ever
        kind = "missing" if items is None else f"a {type(items).__name__}, not a list"
        raise FetchError("not a feed", url, f"a JSON Feed whose `items` is {kind}")
    feed_authors = _json_feed_authors(data)
    documents = []
    for item in items:
        if not isinstance(item, dict):
            continue

        def text_of(key: str, item: dict[str, Any] = item) -> str:
            # A field of another type (`"title": ["Acme"]`) is no text: its Python repr
            # would be shown, and matched.
            value = item.get(key)
            return value if isinstance(value, str) else ""

        # JSON Feed says which texts are HTML: only `content_html`. A title or `content_text`
        # that quotes `<i>` or `<script>` is shown as written.
        html = text_of("content_html")
        text = field_text(html, True) if html else escaped_text(text_of("content_text"))
        link = text_of("url") or None
        # An item that names no author is by the feed's (JSON Feed 1.1, and 1.0's `author`).
        authors = _json_feed_authors(item)
        author = _json_feed_author(authors if authors else feed_authors)
        published = text_of("date_published") or text_of("date_modified")
        guid = item.get("id")
        documents.append(
            Document(
                source=source,
                source_type="feed",
                text=text or escaped_text(text_of("summary")),
                title=escaped_text(text_of("title")),
                url=absolute(url, link) if link else None,
                author=author,
                published=parse_date(published) if published else None,
                guid=str(guid) if isinstance(guid, str | int) and not isinstance(guid, bool) else None,
                lang=text_of("language") or None,
            )
        )
    return documents


def _json_feed_authors(holder: dict[str, Any]) -> list[Any]:
    """The authors a feed or item gives: 1.1's `authors` list, else 1.0's `author` object."""
    authors = holder.get("authors")
    if isinstance(authors, dict):  # one object where the list belongs: still its author
        authors = [authors]
    if isinstance(authors, list) and authors:
        return authors
    author = holder.get("author")
    return [author] if isinstance(author, dict) else []


def _json_feed_author(authors: list[Any]) -> str | None:
    """The first author with a name (an author may have only a `url` or an `avatar`)."""
    return next((a["name"].strip() for a in authors if isinstance(a, dict) and isinstance(a.get("name"), str)
                 and a["name"].strip()), None)
