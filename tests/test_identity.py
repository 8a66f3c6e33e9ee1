"""Text fingerprints: a syndicated copy is the same document; the digest is stable.

The fingerprints stored in users' state files must not change between versions, so the
fast byte-level implementation is checked against the definition written plainly: the
NFKC-normalised, case-folded text's `\\w+` words joined by single spaces.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mentions.identity import MIN_FINGERPRINT_WORDS, LinksSoFar, canonical_url, text_fingerprint
from mentions.models import Document


def reference_fingerprint(title: str, text: str) -> str | None:
    normal = unicodedata.normalize("NFKC", f"{title}\n{text}").casefold()
    words = re.findall(r"\w+", normal)
    if len(words) < MIN_FINGERPRINT_WORDS:
        return None
    return hashlib.sha256(" ".join(words).encode()).hexdigest()[:32]


def document(text: str, title: str = "") -> Document:
    return Document(source="blog", source_type="feed", text=text, title=title)


# Text as the web writes it: ASCII prose with typographic punctuation, umlauts, ligatures,
# full-width forms, invisible characters, other scripts and emoji.
_PIECES = st.sampled_from([
    "Acme", "Straße", "Müller", " ", "  ", "\n", "\t", ", ", ". ", "—", "–", "„", "“", "”", "’", "…",
    "\u00a0", "\u00ad", "\u200b", "ﬁ", "Ｆｕｌｌ", "½", "²", "١٢٣", "İ", "ǅ", "ΣΑΣ", "東京", "😀", "_", "x_y",
    "a-b", "c.d", "e/f", "#tag", "@handle", "(", ")", "\"", "'", "Café", "e\u0301", "0", "42",
])
_TEXT = st.lists(_PIECES | st.text(max_size=5), max_size=60).map("".join)


@settings(max_examples=400, deadline=None)
@given(title=_TEXT, text=_TEXT)
def test_the_fast_fingerprint_is_the_plain_definition(title: str, text: str) -> None:
    assert text_fingerprint(document(text, title)) == reference_fingerprint(title, text)


def test_a_syndicated_copy_has_the_same_fingerprint() -> None:
    original = document("Die neuen Schuhe von Acme kosten 189 Euro, sagt der Hersteller heute.",
                        "Neue Schuhe von Acme")
    copy = document("die neuen  Schuhe von ACME kosten 189 Euro – sagt der Hersteller heute …",
                    "Neue Schuhe von Acme:")
    other = document("Die neuen Schuhe von Acme kosten 199 Euro, sagt der Hersteller heute.",
                     "Neue Schuhe von Acme")
    assert text_fingerprint(original) == text_fingerprint(copy)
    assert text_fingerprint(original) != text_fingerprint(other)


def test_short_texts_have_no_fingerprint() -> None:
    assert text_fingerprint(document("Thanks Acme!")) is None
    assert text_fingerprint(document("")) is None


@pytest.mark.parametrize(("url", "canonical"), [
    ("HTTPS://Blog.Example:443/post?utm_source=rss&id=7&fbclid=x", "https://blog.example/post?id=7"),
    ("http://blog.example:8080/a/b", "http://blog.example:8080/a/b"),
    ("https://blog.example", "https://blog.example/"),
    ("https://blog.example/post#comment-1201", "https://blog.example/post#comment-1201"),
    ("https://blog.example/post#more", "https://blog.example/post"),
    ("http://scripting.example/2002/09/29#When:12:59:01PM", "http://scripting.example/2002/09/29#When:12:59:01PM"),
    ("https://blog.example/post#:~:text=Acme%202", "https://blog.example/post"),
    ("https://blog.example/post#t=30", "https://blog.example/post"),
    ("https://spa.example/#!/post/5", "https://spa.example/#!/post/5"),
    ("https://n.example/a#.VdT5Bz2rSUk", "https://n.example/a"),  # a share widget's random hash
    ("https://blog.example/post?utm_medium=feed", "https://blog.example/post"),
    ("https://blog.example/s?q=a+b&x=", "https://blog.example/s?q=a+b&x="),
    ("mailto:someone@example.org", "mailto:someone@example.org"),
])
def test_canonical_urls_drop_what_does_not_name_the_document(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


def test_the_links_a_stream_remembers_are_bounded() -> None:
    # `tail -f tickets.jsonl | mentions match` may run for months.
    links = LinksSoFar()
    for n in range(LinksSoFar.LIMIT + 10):
        links.key(Document("s", "file", f"ticket {n}", url=f"https://support.example/t/{n}"))
    assert len(links._first) <= LinksSoFar.LIMIT
    first = Document("s", "file", "Acme broke", url="https://portal.example/")
    assert links.key(first) == links.key(first) != links.key(Document("s", "file", "Acme refund", url="https://portal.example/"))
