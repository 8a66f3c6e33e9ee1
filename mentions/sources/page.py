"""`page:` sources: a page's main text, or one document per `items` match with `fields`.

Field selectors are CSS, relative to the item; `selector@attr` takes an attribute instead
of the text. `next` is followed up to `max_pages` (its `href` unless another `@attr` is
named); links it yields are chosen by remote content, so the fetch layer keeps them away
from private addresses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mentions.config import Source
from mentions.css import split_selector, written_selector_problem
from mentions.dates import parse_date
from mentions.decode import html_for_parser
from mentions.errors import FetchError
from mentions.extract import main_text, visible_text
from mentions.models import Document
from mentions.sources import Context
from mentions.sources.links import absolute

if TYPE_CHECKING:
    from selectolax.lexbor import LexborHTMLParser, LexborNode


@dataclass(frozen=True, slots=True)
class ParsedPage:
    """The documents of one page and the link to the next one, if any."""

    documents: list[Document]
    next_url: str | None


_REFUSED_LINKS = ("unsupported url", "blocked address")


async def collect(source: Source, context: Context) -> list[Document]:
    """Fetch the page (and its `next` pages) and turn each into documents."""
    documents: list[Document] = []
    url: str | None = source.location
    seen: set[str] = set()
    for number in range(source.max_pages or 1):
        if url is None or _without_fragment(url) in seen:
            break
        seen.add(_without_fragment(url))
        try:
            response = await context.fetch(url, is_remote_choice=number > 0)
            if response is None:
                break
            parsed = await context.run(
                parse_page, response.body, response.content_type, response.url, source
            )
        except FetchError as error:
            if number == 0:
                raise
            # The pages read are complete documents: they are delivered either way. A link a
            # page may not follow (a local file, an inside address) ends the pages as no link
            # would; any other failure (404, robots.txt, timeout) still fails the source.
            if error.reason not in _REFUSED_LINKS:
                context.fail_after_documents(error)
            break
        documents.extend(parsed.documents)
        url = parsed.next_url
    return documents


# The bytes no text holds, as the WHATWG's MIME sniffing counts them ("binary data bytes"),
# looked for where it looks: the first 1,445 bytes.
_BINARY = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")


def _is_binary(body: bytes) -> bool:
    """An image or archive: more than 3 % of its first bytes are such bytes (compressed data:
    about 10 %; a page with a stray control character: one). UTF-16 and UTF-32 text hold
    NULs at every second or fourth byte: not binary."""
    head = body[:1445]
    if len(_BINARY.findall(head)) <= len(head) * 0.03:
        return False
    halves = (head[0::2], head[1::2])
    return not any(half.count(0) >= 0.4 * len(half) for half in halves if half)


def _without_fragment(url: str) -> str:
    """The page `url` names: `/t/1#comments` is `/t/1`, read once."""
    return url.split("#", 1)[0]


def parse_page(body: bytes, content_type: str, url: str, source: Source) -> ParsedPage:
    """Documents from one HTML page."""
    if content_type and not any(t in content_type.lower() for t in ("html", "xml", "text/plain")):
        raise FetchError("not html", url, f"the answer is {content_type.split(';')[0]}")
    if _is_binary(body):
        # An image or archive served as text/html read as a page with no text, run after
        # run, and said nothing.
        raise FetchError("not html", url, "the answer is binary data")
    html = html_for_parser(body, content_type)
    if source.items is None:
        page = main_text(html, url)
        document = Document(
            source=source.name,
            source_type="page",
            text=page.text,
            title=page.title,
            url=url,
            author=page.author,
            published=page.published,
            lang=page.lang,
        )
        return ParsedPage([document] if page.text or page.title else [], None)
    from selectolax.lexbor import SelectolaxError

    from mentions.extract.dom import parse

    tree = parse(html)  # with its depth limit: 100,000 nested divs took lexbor alone 22 s
    try:
        return _parse_items(tree, url, source)
    except SelectolaxError:
        # `check` refuses a `page:` source's bad selectors; a `search:` source's meet HTML
        # only when its answer comes
        raise FetchError("parse error", url, _selector_trouble(source)) from None


def _parse_items(tree: LexborHTMLParser, url: str, source: Source) -> ParsedPage:
    lang = tree.root.attributes.get("lang") if tree.root is not None else None
    base = _base_url(tree, url)
    documents = []
    for item in tree.css(source.items or ""):
        fields = {name: _select(item, selector, base) for name, selector in source.fields.items()}
        text = fields.get("text")
        if "text" not in source.fields:
            text = visible_text(item.html or "")
        link = fields.get("link")
        documents.append(
            Document(
                source=source.name,
                source_type="page",
                text=text or "",
                title=fields.get("title") or "",
                url=link or url,
                author=fields.get("author"),
                published=parse_date(fields.get("date")),
                guid=fields.get("guid"),
                lang=lang if isinstance(lang, str) else None,
                # Without its own link an item is known by its text, which survives reordering.
                is_permalink=link is not None,
            )
        )
    next_url = _next_link(tree.root, source.next, base) if source.next and tree.root else None
    return ParsedPage(documents, next_url)


def _base_url(tree: LexborHTMLParser, url: str) -> str:
    """What the page's relative links are relative to: its `<base href>`, as a browser reads
    them, else its own URL. A base of another scheme (`file:`, `javascript:`) is ignored, as
    an unusable one; where a link then leads is still guarded when it is fetched."""
    node = tree.css_first("base[href]")
    href = node.attributes.get("href") if node is not None else None
    base = absolute(url, href.strip()) if isinstance(href, str) and href.strip() else None
    if base is None:
        return url
    scheme = base.split(":", 1)[0].lower()
    return base if scheme in ("http", "https", url.split(":", 1)[0].lower()) else url


def _next_link(root: LexborNode, selector: str, base_url: str) -> str | None:
    """Where `next` leads. Written without `@attribute` (`a[rel=next]`) it still means the
    link's target: its text ("Next ›") would end the pages after the first."""
    css, attribute = split_selector(selector)
    return _select(root, f"{css}@{attribute or 'href'}", base_url)


_URL_ATTRIBUTES = ("href", "src", "action", "data-href", "data-url", "cite")


def _select(node: LexborNode, selector: str, base_url: str) -> str | None:
    """The text (or `@attribute`) of the first match of `selector` inside `node`."""
    css, attribute = split_selector(selector)
    found = node.css_first(css) if css else node
    if found is None:
        return None
    if attribute:
        value = found.attributes.get(attribute)
        if not isinstance(value, str):
            return None
        value = value.strip()
        return absolute(base_url, value) if attribute in _URL_ATTRIBUTES else value
    text: str = visible_text(found.html or "")
    return " ".join(text.split()) or None


def _selector_trouble(source: Source) -> str:
    """Which of the source's selectors selectolax could not read, in a sentence."""
    selectors = {"next": source.next or "", **{f"fields.{name}": v for name, v in source.fields.items()}}
    problems = {"items": written_selector_problem(source.items or "", is_items=True)}
    problems.update((key, written_selector_problem(selector)) for key, selector in selectors.items())
    for key, problem in problems.items():
        if problem:
            return f"`{key}`: {problem}"
    return "a CSS selector cannot be used"
