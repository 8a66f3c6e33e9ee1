"""`search:` and `preset:` sources: a URL template expanded once per keyword.

`{query}` becomes the keyword in the platform's search syntax: phrases quoted, `OR` between
terms (preset `query: any`), or one request per term (`query: per-term`, for APIs without
OR). For a `query:` keyword the positive terms are searched for: words and phrases that are
not negated and not scoped to `site:`, `url:`, `lang:` or `author:`; prefixes and regexes
only when nothing else is left. `{tag}` becomes each hashtag of the keyword. Other
`{name}` placeholders come from `params:` (and the preset's defaults).

The answer is parsed as a feed, a page or JSON (the preset's `format`, else sniffed). Every
document found is then matched against every keyword like any other document: a search is
only a way to find candidates, so the keyword that searched must still match the text for a
mention to count, and a hit for another keyword counts for that one.

A JSON answer may ask for a pause before the next request (the preset's `backoff` path:
Stack Exchange throttles, then blocks, clients that call a method again sooner). The
requests of one source go to one API method, one after the other: the next waits that
long, while the pauses of the source add up to no more than the fetcher's MAX_WAIT (a cron
scan of 20 terms must not sleep for ten minutes); a longer one ends the source's requests
for this run, and the source fails after the documents already read, like a page whose
`next` page fails.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from mentions.config import Source, did_you_mean, web_address_problem
from mentions.errors import FetchError
from mentions.identity import document_key
from mentions.models import Document
from mentions.sources import Context

if TYPE_CHECKING:
    from mentions.config import Keyword
    from mentions.presets import Preset

MAX_REQUESTS = 20
# A longer pause than this stops the source anyway; the message need not quote 1e308 seconds.
_LONGEST_PAUSE = 86400.0
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_TOKEN = re.compile(
    r'\s*(?:(?P<open>\()|(?P<close>\))|(?P<neg>-)?(?:(?P<field>[A-Za-z]+):)?'
    r'(?:"(?P<phrase>[^"]*)"|/(?P<regex>(?:\\.|[^/\\])+)/|(?P<word>[^\s()"]+)))'
)
_OPERATOR = re.compile(r"(?:AND|OR|NOT|O?NEAR/\d+)")
_UNSEARCHED_SCOPES = ("site", "url", "lang", "author")


async def collect(source: Source, context: Context) -> list[Document]:
    """Fetch the search once per keyword (or term) and parse every answer."""
    from mentions.fetch.client import MAX_WAIT  # here: `mentions check` imports this module, not the fetcher

    preset = _preset(source)
    template = preset.url if preset else source.location
    values = preset.values(source.params) if preset else dict(source.params)
    style = preset.query if preset else "any"
    urls = search_urls(template, values, context.keywords(), style)[:MAX_REQUESTS]
    documents: dict[str, Document] = {}
    loop = asyncio.get_running_loop()
    pause, paused, answered_at, asked_by = 0.0, 0.0, 0.0, ""
    for number, url in enumerate(urls):
        if paused + pause > MAX_WAIT:
            waited = f" after {paused:.0f} s of pauses" if paused else ""
            detail = (f"the API asked for a pause of {pause:.0f} s before its next request{waited}; "
                      f"{len(urls) - number} of {len(urls)} searches wait for the next run")
            context.fail_after_documents(FetchError("rate-limited", asked_by, detail))
            break
        if pause > 0:
            paused += pause
            await asyncio.sleep(max(0.0, answered_at + pause - loop.time()))
        response = await context.fetch(url)
        pause = 0.0
        if response is None:
            continue
        answered_at, asked_by = loop.time(), response.url
        answer = await context.run(
            parse_answer, response.body, response.content_type, response.url, source, preset
        )
        pause = answer.pause or 0.0
        for document in answer.documents:
            documents.setdefault(document_key(document), document)
    return list(documents.values())


def address_problem(source: Source) -> str | None:
    """Why the URLs a `search:` or `preset:` source makes cannot be fetched, or None.

    The URL is filled in as a scan fills it (with `x` for the query) and checked like a
    `feed:` URL, so `site: host/blog` without a scheme or an `ftp://` search is named by
    `mentions check` instead of failing the source on every scan.
    """
    preset = _preset(source)
    template = preset.url if preset else source.location
    values = preset.values(source.params) if preset else dict(source.params)
    try:
        url = _fill(template, values, {"query": "x", "tag": "x"})
    except FetchError as error:
        return f"{error.url!r} is not a valid URL: {error.detail}"
    problem = web_address_problem(url)
    return f"{url!r} is not a valid URL: {problem}" if problem else None


def _preset(source: Source) -> Preset | None:
    if source.kind != "preset":
        return None
    from mentions.presets import get_preset

    preset = get_preset(source.location)
    if preset is None:  # the config validator names unknown presets; this is a safety net
        raise FetchError("unsupported url", source.location, "no such preset")
    return preset


def search_urls(template: str, values: dict[str, str], keywords: list[Keyword], style: str) -> list[str]:
    """Every URL to fetch: the template filled in per keyword (or term), without repeats."""
    placeholders = set(_PLACEHOLDER.findall(template))
    per_keyword = "query" in placeholders or ("tag" in placeholders and not values.get("tag"))
    if not per_keyword:
        return [_fill(template, values, {})]
    urls: list[str] = []
    for keyword in keywords:
        terms = search_terms(keyword)
        if "tag" in placeholders and not values.get("tag"):
            urls.extend(_fill(template, values, {"tag": tag}) for tag in hashtags(terms))
        elif style == "per-term":
            urls.extend(_fill(template, values, {"query": term}) for term in terms)
        elif terms:
            urls.append(_fill(template, values, {"query": any_of(terms)}))
    return list(dict.fromkeys(urls))


def params_problem(template: str, params: dict[str, str]) -> str | None:
    """A `search:` param its URL never uses, or a placeholder no param fills; None if neither.

    Both would otherwise show only on a scan: an unused `hl: de` is dropped without a word
    (the user believes the search is in German), a placeholder without a value fails the
    source on every run.
    """
    placeholders = set(_PLACEHOLDER.findall(template))
    for name in params:
        if name not in placeholders:
            has = ", ".join(f"{{{p}}}" for p in sorted(placeholders))
            hint = did_you_mean(name, placeholders)
            return f"`params` {name!r} is not used: the search URL has no {{{name}}} (it has {has}){hint}"
    missing = sorted(placeholders - {"query", "tag"} - set(params))
    if missing:
        return f"the search URL's {{{missing[0]}}} has no value; add `{missing[0]}` to `params`"
    return None


def _fill(template: str, values: dict[str, str], searched: dict[str, str]) -> str:
    """The template with params verbatim (they come from the config) and searches URL-encoded."""

    def replace(found: re.Match[str]) -> str:
        name = found.group(1)
        if name in searched:
            return quote(searched[name], safe="")
        if name in values:
            # `site: https://b.example/` before `/comments/feed/`: one slash, not two
            is_joined = template.startswith("/", found.end())
            return values[name].rstrip("/") if is_joined else values[name]
        raise FetchError("unsupported url", template, f"no value for {{{name}}}; add it to `params`")

    url = _PLACEHOLDER.sub(replace, template)
    if not url.lower().startswith(("http://", "https://")):
        raise FetchError("unsupported url", url, "a search URL must start with http:// or https://")
    return url


def any_of(terms: list[str]) -> str:
    """Terms in the syntax most search engines share: phrases quoted, OR between terms."""
    quoted = [_phrase(term) for term in terms]
    return " OR ".join(term for term in quoted if term)


def _phrase(term: str) -> str:
    """A term as one search-engine word or "phrase".

    Engines end a phrase at the next quote, so a quote inside one would split it
    (`"say "hi""`); quotes become spaces instead: `say "hi"` is searched as `"say hi"`.
    """
    words = term.replace('"', " ").split()
    return f'"{" ".join(words)}"' if len(words) > 1 else "".join(words)


def hashtags(terms: list[str]) -> list[str]:
    """The hashtags of a keyword: its `#terms`, else its one-word terms, without `#`."""
    tags = [term[1:] for term in terms if term.startswith("#") and len(term) > 1]
    if not tags:
        tags = [term for term in terms if re.fullmatch(r"\w+", term)]
    return list(dict.fromkeys(tag.lower() for tag in tags))


def search_terms(keyword: Keyword) -> list[str]:
    """What to search for: the keyword's terms, or the positive terms of its query."""
    if keyword.query is None:
        return list(dict.fromkeys(keyword.terms))
    return positive_terms(keyword.query)


def positive_terms(query: str) -> list[str]:
    """Words and phrases a matching document must or may contain (never the negated ones)."""
    terms: list[str] = []
    fallbacks: list[str] = []
    negated_groups: list[bool] = []
    is_not_pending = False
    position = 0
    while position < len(query):
        found = _TOKEN.match(query, position)
        if found is None or found.end() == position:
            position += 1
            continue
        position = found.end()
        is_negated = any(negated_groups) or is_not_pending
        if found.group("open"):
            negated_groups.append(is_not_pending or bool(found.group("neg")))
            is_not_pending = False
            continue
        if found.group("close"):
            if negated_groups:
                negated_groups.pop()
            continue
        word = found.group("word")
        if word is not None and not found.group("field") and _OPERATOR.fullmatch(word):
            is_not_pending = word == "NOT"
            continue
        is_not_pending = False
        scope = (found.group("field") or "").lower()
        if is_negated or found.group("neg") or scope in _UNSEARCHED_SCOPES:
            continue
        if found.group("phrase") is not None:
            if found.group("phrase").strip():
                terms.append(found.group("phrase").strip())
        elif found.group("regex") is None and word:
            if word.endswith("*"):
                if len(word) > 1:
                    fallbacks.append(word.rstrip("*"))
            else:
                terms.append(word)
    return list(dict.fromkeys(terms or fallbacks))


@dataclass(frozen=True, slots=True)
class Answer:
    """The documents of one search answer, and the seconds it asks to wait before the next
    request (None: it asks for no pause)."""

    documents: list[Document]
    pause: float | None = None


def parse_answer(
    body: bytes, content_type: str, url: str, source: Source, preset: Preset | None
) -> Answer:
    """Documents from a search answer: feed, page or JSON, as declared or as it looks."""
    declared = preset.format if preset else None
    kind = declared or sniff_format(body, content_type)
    items = preset.items if preset else source.items
    fields = {**(preset.fields if preset else {}), **source.fields}
    if preset is not None:
        values = preset.values(source.params)
        fields = {name: _fill_params(spec, values) for name, spec in fields.items()}
    if kind == "feed":
        from mentions.sources.feed import parse_feed

        return Answer([_as_search(d) for d in parse_feed(body, url, source.name, content_type)])
    if kind == "json":
        from mentions.sources.json_api import documents_from_data, json_answer, lookup

        data = json_answer(body, url, content_type)
        skip_if = preset.skip_if if preset else ()
        found = documents_from_data(data, url, source.name, items, fields, "search", skip_if)
        pause = _seconds(lookup(data, preset.backoff)) if preset and preset.backoff else None
        return Answer(found, pause)
    from mentions.sources.page import parse_page

    page_source = dataclasses.replace(source, items=items, fields=fields)
    return Answer([_as_search(d) for d in parse_page(body, content_type, url, page_source).documents])


def _seconds(value: Any) -> float | None:
    """A pause an answer asks for, in seconds; None for none (absent, zero, not a number)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if math.isnan(value) or value <= 0:
        return None
    return min(float(value), _LONGEST_PAUSE)


def _fill_params(spec: str, values: dict[str, str]) -> str:
    """Preset field templates may name params (`https://{host}/q/{question_id}`)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)) or m.group(0), spec)


def sniff_format(body: bytes, content_type: str) -> str:
    """feed, json or page, from the content type and the first bytes."""
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:512].lower()
    kind = content_type.split(";")[0].strip().lower()
    if head.startswith((b"{", b"[")):
        return "feed" if b"jsonfeed.org" in head else "json"
    if "json" in kind and "feed+json" not in kind:
        return "json"
    if any(t in kind for t in ("rss", "atom", "feed+json")) or any(
        tag in head for tag in (b"<rss", b"<feed", b"<rdf:rdf")
    ):
        return "feed"
    return "page"


def _as_search(document: Document) -> Document:
    from dataclasses import replace

    return replace(document, source_type="search")
