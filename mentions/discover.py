"""Find the feeds and sitemaps a site offers, and write them as config snippets.

Where we look, in order: the page itself (it may be a feed), its `<link rel="alternate">`
feeds, the paths blog engines use (`/feed`, `/rss`, `/atom.xml`, `/feed.xml`,
`/index.xml`, `/comments/feed/`, `URL/.rss` as Reddit offers), and the sitemaps named in
robots.txt or at `/sitemap.xml`. Every candidate is fetched and parsed before it is
suggested, so a snippet never names a feed that does not work today. Links found in the
page are remote choices: the fetch layer keeps them away from private addresses.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

from mentions.decode import feed_for_parser, json_for_parser, load_json
from mentions.errors import FetchError
from mentions.fetch import Fetcher, Response
from mentions.login import login_for, split_login
from mentions.units import counted

FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json", "application/rdf+xml")
COMMON_PATHS = (
    "/feed", "/feed/", "/rss", "/rss.xml", "/atom.xml", "/feed.xml", "/index.xml", "/feed.json",
    "/comments/feed/",
)
SITEMAP_PATHS = ("/sitemap.xml", "/sitemap_index.xml")
_SAFE_YAML = re.compile(r"[A-Za-z0-9_./:?=&%~+-]+")


@dataclass(frozen=True, slots=True)
class Found:
    """One working feed or sitemap."""

    kind: str  # feed | sitemap
    url: str
    format: str  # RSS, Atom, JSON Feed, sitemap, sitemap index
    title: str
    entries: int
    how: str
    has_comment_feeds: bool = False

    @property
    def is_comments(self) -> bool:
        return "comments" in self.url.lower() or self.title.lower().startswith(("comments", "kommentare"))


# The site itself is out of reach: every other path on it would fail the same way.
_UNREACHABLE = frozenset({"timeout", "connection failed", "blocked address", "unsupported url"})


async def discover(url: str, fetcher: Fetcher) -> tuple[list[Found], FetchError | None]:
    """Everything that works, and why the URL itself could not be fetched (None if it could)."""
    candidates: list[tuple[str, str, bool]] = []  # (url, how, is_remote_choice)
    try:
        page = await fetcher.get(url)
    except FetchError as error:
        if error.reason in _UNREACHABLE:
            return [], error
        failure: FetchError | None = error
        page = None
    else:
        failure = None
    found: list[Found] = []
    if page is not None:
        itself = inspect(page, "the URL itself")
        if itself is not None:
            found.append(itself)
        else:
            links = (_with_login(link, url) for link in alternate_links(page))
            candidates.extend((link, "link rel=alternate", True) for link in links)
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    candidates.extend((origin + path, "common path", False) for path in COMMON_PATHS)
    path = urlsplit(url).path.rstrip("/")
    if path:
        candidates.append((f"{origin}{path}/.rss", "common path", False))
    sitemaps = [(origin + p, "common path", False) for p in SITEMAP_PATHS]
    sitemaps[:0] = [(link, "robots.txt", True) for link in await robots_sitemaps(origin, fetcher)]

    first: dict[str, tuple[str, str, bool]] = {}
    for candidate in [*candidates, *sitemaps]:
        first.setdefault(candidate[0], candidate)  # the page's own links say more than a guess
    unique = list(first.values())
    results = await asyncio.gather(*(_try(fetcher, *candidate, chosen_by=url) for candidate in unique))
    seen = {item.url for item in found}
    for result in results:
        if result is not None and result.url not in seen:
            seen.add(result.url)
            found.append(result)
    return found, failure


async def _try(
    fetcher: Fetcher, url: str, how: str, is_remote_choice: bool, *, chosen_by: str
) -> Found | None:
    try:
        # links on a page the user named may stay on its (private) network, never lead inside
        response = await fetcher.get(url, is_remote_choice=is_remote_choice, chosen_by=chosen_by)
    except FetchError:
        return None
    return inspect(response, how)


async def robots_sitemaps(origin: str, fetcher: Fetcher) -> list[str]:
    """The `Sitemap:` lines of a site's robots.txt."""
    try:
        response = await fetcher.get(origin + "/robots.txt")
    except FetchError:
        return []
    text = response.body.decode("utf-8", "replace")
    lines = text.splitlines()
    named = [line.split(":", 1)[1].strip() for line in lines if line.lower().startswith("sitemap:")]
    links = [_absolute(origin + "/", link) for link in named if link]
    return [link for link in links if link is not None][:10]


def alternate_links(page: Response) -> list[str]:
    """The feeds a page announces with `<link rel="alternate" type="…">`."""
    if "html" not in page.content_type.lower() and not page.body.lstrip()[:200].lower().startswith(
        (b"<!doctype html", b"<html")
    ):
        return []
    from mentions.decode import decode_html
    from mentions.extract.dom import parse

    # Through the scan's parser, with its depth limit: 100,000 nested <div>s took 22 s.
    tree = parse(decode_html(page.body, page.content_type))
    links = []
    for node in tree.css("link[href]"):
        rel = (node.attributes.get("rel") or "").lower().split()
        kind = (node.attributes.get("type") or "").lower().split(";")[0].strip()
        href = (node.attributes.get("href") or "").strip()
        if "alternate" in rel and kind in FEED_TYPES and href:
            link = _absolute(page.url, href)
            if link is not None and link.startswith(("http://", "https://")):
                links.append(link)
    return list(dict.fromkeys(links))[:20]


def _with_login(link: str, site: str) -> str:
    """`link` with the login of the `site` URL given when both are on one origin: the page's
    URL (as fetched) has none, so links resolved against it would reach a protected site
    without it. Another origin never gets it."""
    if login_for(link, site) is None:
        return link
    parts = urlsplit(link)
    if "@" in parts.netloc:
        return link
    userinfo = urlsplit(site).netloc.rpartition("@")[0]
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{parts.netloc}"))


def _absolute(base: str, link: str) -> str | None:
    """`link` resolved against `base`, or None when it cannot be a URL.

    Links come from pages and robots.txt we do not control, and `urljoin` raises on some
    (`http://[bad`, `http://[127.0.0.1]/`): one bad link must not hide the good ones."""
    try:
        return urljoin(base, link)
    except ValueError:
        return None


def inspect(response: Response, how: str) -> Found | None:
    """What the answer is, if it is a feed or a sitemap that parses."""
    head = response.body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1000].lower()
    if head.startswith(b"{"):
        return _json_feed(response, how)
    if b"<urlset" in head or b"<sitemapindex" in head or response.body[:2] == b"\x1f\x8b":
        return _sitemap(response, how)
    if not any(tag in head for tag in (b"<rss", b"<feed", b"<rdf:rdf")):
        return None
    from mentions.sources.feed import read_loosely

    body = feed_for_parser(response.body, response.content_type)  # the HTTP charset first
    try:
        parsed = read_loosely(body, response.url)  # as a scan's fallback reads a feed
    except FetchError:
        return None
    if not parsed.get("version"):
        return None
    version = str(parsed.get("version"))
    entries = parsed.get("entries") or []
    return Found(
        kind="feed",
        url=response.url,
        format="Atom" if version.startswith("atom") else "RSS",
        title=str((parsed.get("feed") or {}).get("title") or ""),
        entries=len(entries),
        how=how,
        has_comment_feeds=any(entry.get("wfw_commentrss") for entry in entries),
    )


def _json_feed(response: Response, how: str) -> Found | None:
    try:
        data = load_json(json_for_parser(response.body, response.content_type))
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or "jsonfeed.org" not in str(data.get("version", "")):
        return None
    items = data.get("items")
    return Found("feed", response.url, "JSON Feed", str(data.get("title") or ""),
                 len(items) if isinstance(items, list) else 0, how)


def _sitemap(response: Response, how: str) -> Found | None:
    from mentions.sources.sitemap import parse_sitemap

    try:
        entries = parse_sitemap(response.body, response.url)
    except FetchError:
        return None
    is_index = any(entry.is_sitemap for entry in entries)
    return Found("sitemap", response.url, "sitemap index" if is_index else "sitemap", "", len(entries), how)


def snippets(url: str, found: list[Found]) -> str:
    """Ready-to-paste YAML list items for `sources:`, one per feed or sitemap found."""
    from mentions.console import clean_text

    host = (urlsplit(url).hostname or "site").removeprefix("www.").lower()
    base = re.sub(r"[^a-z0-9]+", "-", host).strip("-") or "site"
    names: set[str] = set()
    where = clean_text(split_login(url)[0], single_line=True)  # never the login (stdout, configs)
    # List items without a `sources:` of their own: appended to a config that ends with its
    # sources (as `mentions init` writes it), they add to that list; a second key would not.
    lines = [f"# sources found on {where}: append to a config that ends with its `sources:` list, "
             "or paste under `sources:`"]
    for item in found:
        suffix = "-comments" if item.is_comments else ("-sitemap" if item.kind == "sitemap" else "")
        name = base + suffix
        number = 2
        while name in names:
            name, number = f"{base}{suffix}-{number}", number + 1
        names.add(name)
        title = clean_text(item.title, single_line=True).replace("#", "")[:60]
        size = (counted(item.entries, "entry", "entries") if item.kind == "feed"
                else counted(item.entries, "URL"))
        note = f"{item.format}{f' {title!r}' if title else ''}, {size}, via {item.how}"
        lines.append(f"  - name: {name}")
        lines.append(f"    {item.kind}: {_yaml_string(item.url)}  # {note}")
        if item.has_comment_feeds:
            lines.append("    comments: true  # its posts have comment feeds; remove to skip them")
    return "\n".join(lines) + "\n"


def _yaml_string(value: str) -> str:
    return value if _SAFE_YAML.fullmatch(value) else json.dumps(value)
