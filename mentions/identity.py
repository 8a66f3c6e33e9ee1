"""Stable identities: canonical URLs, mention ids, and the digest of a source's definition.

A mention's id depends only on the keyword and the document's identity, so the same keyword
in the same document gives the same id on every run and every machine, and consumers can
drop a repeated line.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from mentions.models import Document
from mentions.redact import Redactor

if TYPE_CHECKING:
    from mentions.config import HttpConfig, Source

# What the `http:` section says about the requests of every source: changing one of them may
# fix a source (a bot wall that wants another user agent, a body over `max_bytes`).
_REQUEST_SETTINGS = ("user_agent", "headers", "proxy", "robots", "timeout", "max_bytes")

_TRACKING_PREFIXES = ("utm_", "mtm_", "pk_", "hsa_")
_TRACKING = frozenset(
    {"fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "mc_cid", "mc_eid", "igshid",
     "yclid", "_hsenc", "_hsmi", "ref_src", "ref_url", "wt_mc", "wt.mc_id", "cmpid", "at_medium",
     "at_campaign", "ocid", "spm", "si"}
)


# Fragments that name one comment or post on a page (`#comment-1201`, `#p4711`, Scripting
# News's `#When:12:59:01PM`, a single-page app's `#!/post/5`) identify a document of their
# own; any other fragment (`#more`, `#utm_source=x`, a browser's `#:~:text=…` highlight, a
# share widget's random `#.VdT5Bz2rSUk`) is dropped.
_ITEM_FRAGMENT = re.compile(r"(?![.:])(?=\D{0,20}\d)[\w.:!/-]{1,60}")


def canonical_url(url: str) -> str:
    """`url` with scheme and host lower-cased, default port and tracking parameters dropped."""
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return url.strip()
    if scheme not in ("http", "https"):
        return url.strip()
    netloc = host
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        netloc = f"{host}:{port}"
    query = parts.query and urlencode([  # most links have no query string
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key.lower() not in _TRACKING and not key.lower().startswith(_TRACKING_PREFIXES)
    ])
    fragment = parts.fragment if _ITEM_FRAGMENT.fullmatch(parts.fragment) else ""
    return urlunsplit((scheme, netloc, parts.path or "/", query, fragment))


def is_excluded(url: str, patterns: list[re.Pattern[str]]) -> bool:
    """Whether an `exclude_urls` pattern matches the URL as written or its canonical form.

    The canonical form (host lower-cased, default port dropped) lets `acme\\.de` exclude
    `https://ACME.DE:443/x` as well, whatever spelling a feed or page chose.
    """
    if not patterns:
        return False
    canonical = canonical_url(url)
    return any(pattern.search(url) or pattern.search(canonical) for pattern in patterns)


def document_key(document: Document, shared: SharedLinks | None = None) -> str:
    """What identifies a document across runs: its canonical URL, else its guid, else its text.

    A local file's location (`file://…/notes.txt`, `…/export.jsonl#L3`, stdin) is no identity:
    files are rewritten and exports rotated under the same names, and a new text at an old
    place is a new document. `shared`: the links several entries of the same answer carry,
    which the link alone does not tell apart.
    """
    if document.url and document.is_permalink and not _is_local(document.url):
        key = "url:" + canonical_url(document.url)
        if shared is not None:
            key += shared.distinction(document)
        return key
    if document.guid:
        return f"guid:{document.source}:{document.guid}"
    return _text_key(document)


def _text_key(document: Document) -> str:
    return "text:" + hashlib.sha256(f"{document.title}\n{document.text}".encode()).hexdigest()


def _link_of(url: str) -> str:
    """A link as `canonical_url` would compare it; most links have nothing to drop."""
    return canonical_url(url) if "?" in url or "#" in url else url


class SharedLinks:
    """The links that several different entries of one answer carry, and their titles.

    Link blogs (Daring Fireball) link two posts to one sponsor or article; a feed may point
    every entry at its home page or a product's reviews at the product. Known by the link
    alone, such entries were one document, and all but the first were never reported. They
    are told apart by their title, which stays put; by their guid or text only when the
    titles are alike too, since scrapers invent new guids on every fetch and review texts
    carry counters ("12 people found this helpful"). An entry listed twice (same guid and
    text) is still one document.
    """

    def __init__(self, documents: Sequence[Document]) -> None:
        links = [_link_of(document.url) if document.url else "" for document in documents]
        counts = Counter(links)
        self._titles: dict[str, Counter[str]] = {}
        if all(count == 1 or not link for link, count in counts.items()):
            return  # the usual answer: every entry its own link
        entries: dict[str, list[Document]] = {}
        for link, document in zip(links, documents, strict=True):
            if link and counts[link] > 1:
                entries.setdefault(link, []).append(document)
        for link, group in entries.items():
            if len({document.guid or _text_key(document) for document in group}) > 1:
                self._titles[link] = Counter(document.title for document in group)

    def distinction(self, document: Document) -> str:
        """What tells `document` apart from the other entries with its link ("" if none)."""
        if not self._titles or not document.url:
            return ""
        titles = self._titles.get(_link_of(document.url))
        if titles is None:
            return ""
        if document.title and titles[document.title] == 1:
            return "\ntitle:" + document.title
        return f"\nguid:{document.guid}" if document.guid else "\n" + _text_key(document)


class LinksSoFar:
    """The same for a stream (`mentions match` reading tickets): the first document at a link
    is known by the link, a later, different one by the link plus its title (else its text),
    so that two tickets filed under one portal URL do not share an id."""

    # `tail -f tickets.jsonl | mentions match` may run for months: the links remembered are
    # bounded, and forgotten all at once (a link seen again after that starts afresh).
    LIMIT = 100_000

    def __init__(self) -> None:
        self._first: dict[str, tuple[str, str]] = {}  # key -> (title, text key) of the first

    def key(self, document: Document) -> str:
        key = document_key(document)
        if not key.startswith("url:"):
            return key
        if len(self._first) >= self.LIMIT and key not in self._first:
            self._first.clear()
        identity = (document.title, _text_key(document))
        first = self._first.setdefault(key, identity)
        if first == identity:
            return key
        if document.title and document.title != first[0]:
            return f"{key}\ntitle:{document.title}"
        return f"{key}\n{identity[1]}"


def _is_local(url: str) -> bool:
    return url.startswith("file:") or url == "stdin"


def mention_id(keyword: str, document: Document, key: str | None = None) -> str:
    """The stable id of `keyword` found in `document` (`key`: its document_key, if known)."""
    key = document_key(document) if key is None else key
    return hashlib.sha256(f"{keyword}\n{key}".encode()).hexdigest()[:32]


# Shorter texts ("Thanks Acme!", "Acme rocks") are said by many people independently: only
# texts at least this long are taken to be copies of one document.
MIN_FINGERPRINT_WORDS = 8
# Every ASCII byte that is no word character (`\w`) becomes a space; other bytes stay.
_ASCII_NON_WORD = bytes(b if b >= 0x80 or chr(b).isalnum() or b == 0x5F else 0x20 for b in range(256))
_ASCII = bytes(range(0x80))


def text_fingerprint(document: Document) -> str | None:
    r"""A digest of the normalised title and text, the same for a syndicated copy at another URL.

    Case, compatibility forms (NFKC), punctuation and white space do not count: the digest
    is of the text's words (`\w+`) joined by single spaces. None when the text is too short
    to tell a copy from a coincidence.

    Built on the UTF-8 bytes, in C: ASCII punctuation becomes spaces by a byte table, the
    few distinct non-ASCII non-word characters (typographic quotes, dashes) by replace, and
    the words are split and joined by single spaces. A regex over the text took 1.5x as long.
    """
    text = f"{document.title}\n{document.text}"
    if text.isascii():  # NFKC leaves ASCII as it is; casefold() of ASCII is lower()
        data = text.lower().encode()
    else:
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
        data = text.casefold().encode()
        for char in set(data.translate(None, _ASCII).decode()):
            if not char.isalnum():  # `\w` is alphanumeric or "_"
                data = data.replace(char.encode(), b" ")
    words = data.translate(_ASCII_NON_WORD).split()  # every separator is a space by now
    if len(words) < MIN_FINGERPRINT_WORDS:
        return None
    return hashlib.sha256(b" ".join(words)).hexdigest()[:32]


def definition_digest(source: Source, http: HttpConfig, redactor: Redactor | None = None) -> str:
    """A digest of what `source` fetches and how: its entry in the config (all but `name` and
    `enabled`) and the `http:` settings that shape its requests.

    The state keeps it for a failing source, to try it again once the config changed (see
    docs/state.md). The secrets `${ENV}` gave (`redactor`) count through two hex digits of a
    digest of their own: a new token is a change 255 times in 256, and 8 bits are too few to
    guess even a short secret offline from a copy of the state, as a whole digest would allow."""
    redact = redactor or Redactor()
    used: set[str] = set()

    def shown(value: object) -> object:
        if isinstance(value, str):
            used.update(secret for secret in redact.secrets if secret in value)
            return redact(value)
        if isinstance(value, dict):
            return {str(shown(key)): shown(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [shown(item) for item in value]
        return value

    entry = {field.name: shown(getattr(source, field.name)) for field in dataclasses.fields(source)
             if field.name not in ("name", "enabled")}
    requests = {name: shown(getattr(http, name)) for name in _REQUEST_SETTINGS}
    text = json.dumps({"source": entry, "http": requests}, sort_keys=True, ensure_ascii=False, default=str)
    digest = hashlib.sha256(f"mentions source definition 1\0{text}".encode()).hexdigest()
    if not used:
        return digest
    secrets = "\0".join(sorted(used))
    return digest[:-2] + hashlib.sha256(f"mentions source secrets 1\0{secrets}".encode()).hexdigest()[:2]
