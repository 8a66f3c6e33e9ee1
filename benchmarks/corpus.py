"""The benchmark's sources and keywords, generated deterministically from a seed.

Feeds (RSS 2.0 and Atom, 20-100 entries, 50-500 KB, HTML in the content) take their prose
from the shared corpus's `expected.txt` files; pages are the corpus's real `source.html`
files, read at run time and never copied into the repository. Without the corpus, both
fall back to generated words, so the benchmark runs anywhere.

Some entries carry one of the synthetic brand names below, so that a scan finds a steady
trickle of mentions, as a real agency's scan does; a "changed" source gets new entries
(feeds) or a new paragraph (pages), each with a brand in it.
"""

from __future__ import annotations

import os
import random
import re
from dataclasses import dataclass
from functools import cache
from html import escape
from pathlib import Path

CORPUS = Path(os.environ.get("MENTIONS_CORPUS", Path(__file__).resolve().parents[1] / "../shared/corpus"))
FEED_SHARE = 0.6  # of the sources; the rest are HTML pages
_SYLLABLES = ("zen", "tri", "vox", "nor", "da", "lu", "mek", "sa", "ran", "qui")
_SYLLABLES += ("ta", "bel", "or", "fi", "gon", "ex", "ar", "mo", "ki", "plu")
_REAL_TERMS = [
    "Google",
    "Microsoft",
    "Apple",
    "Amazon",
    "Facebook",
    "Twitter",
    "Berlin",
    "London",
    "New York",
    "Bitcoin",
    "Python",
    "Linux",
    "Android",
    "iPhone",
    "Tesla",
    "Netflix",
    "YouTube",
    "Wikipedia",
    "Deutsche Bahn",
    "climate change",
    "European Union",
    "Bundesregierung",
    "NASA",
    "BBC",
    "Reuters",
    "GitHub",
    "Firefox",
    "Samsung",
    "Mozilla",
    "Olympic Games",
]
_QUERIES = [
    "Telekom*",
    "Schuh*",
    "Klima*",
    "Daten*",
    "Regier*",
    '"{0}" AND (price OR Preis) NOT Street',
    "{1} NEAR/5 (review OR Test)",
    "({2} OR {3}) -site:example.org",
    "Google NEAR/3 privacy",
    '"open source" AND (Linux OR Python)',
    "{4} ONEAR/4 launch",
    "title:{5}",
    '"{6}" AND NOT "{7}"',
    "Apple AND NOT fruit*",
    "Amazon NEAR/5 (Prime OR AWS)",
    "{8}* OR {9}*",
    "Berlin AND (Mauer OR wall)",
    '"climate change" NEAR/10 (policy OR Politik)',
    "/zen[a-z]+tri/",
    "Tesla AND (Musk OR Autopilot)",
]


@cache
def brands() -> tuple[str, ...]:
    """Sixty invented brand names that no real text contains."""
    rng = random.Random(7)
    names: list[str] = []
    while len(names) < 60:
        name = "".join(rng.sample(_SYLLABLES, 3)).capitalize()
        if name not in names:
            names.append(name)
    return tuple(names)


def keywords() -> list[dict[str, object]]:
    """A hundred keywords as an agency writes them: brands, phrases, real names, queries."""
    names = brands()
    found: list[dict[str, object]] = []
    for index, name in enumerate(names[:50]):
        terms = [name, f"{name} GmbH", f"#{name.lower()}"] if index % 3 else [name, f"@{name.lower()}"]
        entry: dict[str, object] = {"name": f"brand-{index:02d}", "terms": terms, "tags": ["brand"]}
        if index % 5 == 0:
            entry["exclude"] = [f"{name} Street"]
        found.append(entry)
    found += [
        {"name": f"topic-{i:02d}", "terms": [term], "tags": ["topic"]} for i, term in enumerate(_REAL_TERMS)
    ]
    found += [{"name": f"query-{i:02d}", "query": q.format(*names[50:])} for i, q in enumerate(_QUERIES)]
    return found


@cache
def escaped_paragraphs() -> tuple[str, ...]:
    """`paragraphs()` escaped for HTML once, not once per use."""
    return tuple(escape(p) for p in paragraphs())


@cache
def paragraphs() -> tuple[str, ...]:
    """Prose paragraphs: the corpus's ground-truth texts, else generated words."""
    found = []
    for path in sorted(CORPUS.glob("pages/*/*/expected.txt")):
        text = path.read_text(encoding="utf-8", errors="replace")
        found += [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if len(p) > 80]
    if found:
        return tuple(_xml_safe(p) for p in found)
    rng = random.Random(3)
    words = ["".join(rng.sample(_SYLLABLES, rng.randint(1, 3))) for _ in range(3000)]
    return tuple(" ".join(rng.choices(words, k=rng.randint(20, 120))) + "." for _ in range(5000))


@cache
def page_files() -> tuple[Path, ...]:
    """The corpus's real pages (read when served, never copied)."""
    return tuple(sorted(CORPUS.glob("pages/*/*/source.html")))


def _xml_safe(text: str) -> str:
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "", text)


@dataclass(frozen=True, slots=True)
class Body:
    """One source's answer: what it is and its bytes."""

    content_type: str
    data: bytes


def path_of(index: int) -> str:
    """The URL path of source `index`: feeds and pages interleave in a fixed pattern."""
    is_feed = random.Random(index).random() < FEED_SHARE
    if not is_feed:
        return f"/page/{index}.html"
    return f"/atom/{index}.xml" if index % 3 == 0 else f"/rss/{index}.xml"


def render(index: int, version: int) -> Body:
    """The body of source `index` after `version` changes (0 = as first seen)."""
    path = path_of(index)
    if path.startswith("/page/"):
        return Body("text/html", _page(index, version))
    return Body("application/xml", _feed(index, version, is_atom=path.startswith("/atom/")))


def _brand_sentence(rng: random.Random) -> str:
    name = rng.choice(brands())
    return rng.choice(
        [
            f"We ordered from {name} last week and the delivery was late.",
            f"Has anyone tried the new {name} GmbH app? #{name.lower()}",
            f"Der Kundendienst von {name} hat schnell geantwortet.",
            f"{name} raised the price again, says @{name.lower()}.",
        ]
    )


def _entry_html(rng: random.Random, size: int) -> str:
    pool = escaped_paragraphs()
    parts = []
    if rng.random() < 0.15:
        parts.append(f"<p><strong>{escape(_brand_sentence(rng))}</strong></p>")
    total = 0
    while total < size:
        text = rng.choice(pool)
        if total + len(text) > size:  # cut the last paragraph at a space, so sizes stay on target
            text = text[: max(text.rfind(" ", 0, size - total), 80)]
        link = (
            f' <a href="https://example.net/{rng.randint(1, 10**6)}">more</a>' if rng.random() < 0.3 else ""
        )
        parts.append(f"<p>{text}{link}</p>")
        total += len(text) + 10
    return "\n".join(parts)


def _feed(index: int, version: int, *, is_atom: bool) -> bytes:
    rng = random.Random(index * 7919)
    count = rng.randint(20, 100)
    # Most feeds are small, a few are large: 50-500 KB, median about 85 KB, mean about 100 KB.
    target = int(38_000 + 340_000 * rng.random() ** 5)
    site = f"https://site{index}.example"
    entries = []
    # Each version adds two entries at the top and drops the two oldest, as a live feed does.
    for number in range(count + 2 * version - 1, 2 * version - 1, -1):
        entry_rng = random.Random(index * 1_000_003 + number)
        title = escape(" ".join(entry_rng.choice(paragraphs()).split()[:8]))
        html = _entry_html(entry_rng, target // count)
        if number >= count:
            html = f"<p>{escape(_brand_sentence(entry_rng))}</p>\n{html}"
        day = 1 + number % 28
        link = f"{site}/posts/{number}"
        if is_atom:
            entries.append(
                f'<entry><title>{title}</title><link href="{link}"/><id>{link}</id>'
                f"<updated>2026-10-{day:02d}T08:00:00Z</updated><author><name>Author {number % 7}</name>"
                f'</author><content type="html">{escape(html)}</content></entry>'
            )
        elif index % 2:
            cdata = html.replace("]]>", "]]&gt;")
            entries.append(
                f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>"
                f"<pubDate>Mon, {day:02d} Oct 2026 08:00:00 GMT</pubDate>"
                f"<description>{escape(html[:300])}</description>"
                f"<content:encoded><![CDATA[{cdata}]]></content:encoded></item>"
            )
        else:
            entries.append(
                f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>"
                f"<pubDate>Mon, {day:02d} Oct 2026 08:00:00 GMT</pubDate>"
                f"<description>{escape(html)}</description></item>"
            )
    body = "\n".join(entries)
    if is_atom:
        text = (
            f'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>Site {index}</title><id>{site}/</id><updated>2026-10-28T08:00:00Z</updated>\n"
            f"{body}\n</feed>\n"
        )
    else:
        text = (
            f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
            f'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
            f"<title>Site {index}</title><link>{site}/</link><description>Blog {index}</description>\n"
            f"{body}\n</channel></rss>\n"
        )
    return text.encode("utf-8")


def _page(index: int, version: int) -> bytes:
    files = page_files()
    if files:
        data = files[(index * 31) % len(files)].read_bytes()
    else:
        rng = random.Random(index)
        paras = "".join(f"<p>{escape(rng.choice(paragraphs()))}</p>" for _ in range(rng.randint(5, 60)))
        data = f"<html><head><title>Page {index}</title></head><body><article>{paras}</article>".encode()
        data += b"<footer>Imprint</footer></body></html>"
    if version:
        rng = random.Random(index * 31 + version)
        comment = "".join(
            f"<p>Update {v}: {escape(_brand_sentence(rng))}</p>" for v in range(1, version + 1)
        ).encode()
        at = data.lower().rfind(b"</body>")
        data = data[:at] + comment + data[at:] if at >= 0 else data + comment
    return data
