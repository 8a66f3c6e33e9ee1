"""decode.py: charsets as the web really labels them, feeds made safe for feedparser."""

from __future__ import annotations

import codecs

import feedparser
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mentions.decode import decode_html, decode_xml, feed_for_parser, html_for_parser, prepare_feed
from mentions.extract import main_text
from mentions.fetch import Fetcher, looks_like_html
from tests.faultserver import CHARSET_CASES, FRENCH, GERMAN, RUSSIAN, FaultServer
from tests.test_fetch import HTTP

EXPECTED = {
    "utf16-bom": GERMAN,
    "utf8-bom": FRENCH,
    "latin1-as-utf8": GERMAN,
    "utf8-as-latin1": FRENCH,
    "header-vs-meta": RUSSIAN,
    "meta-only": GERMAN,
    "cyrillic-undeclared": RUSSIAN,
    "koi8r-meta": RUSSIAN,
    "damaged-utf8": "Müller, Straße, Äpfel und Öl für 5 €.",
    "garbage-bytes": "Acme",
}


@pytest.mark.parametrize("case", sorted(CHARSET_CASES))
def test_decode_html_cases(case: str) -> None:
    body, content_type = CHARSET_CASES[case]
    assert EXPECTED[case] in decode_html(body, content_type)


@pytest.mark.parametrize("case", sorted(CHARSET_CASES))
def test_html_for_parser_reads_like_decode_html(case: str) -> None:
    """UTF-8 pages go to the parser as their bytes (no decode and re-encode); every page
    extracts to the same text either way."""
    body, content_type = CHARSET_CASES[case]
    given = html_for_parser(body, content_type)
    assert main_text(given) == main_text(decode_html(body, content_type))
    if isinstance(given, bytes):
        assert given.decode("utf-8") == decode_html(body, content_type)


def test_html_for_parser_passes_utf8_bytes_through() -> None:
    body = "<html><head><meta charset=utf-8></head><body><p>Müller trägt Acme.</p></body></html>"
    raw = body.encode("utf-8")
    assert html_for_parser(raw, "text/html") is raw
    assert html_for_parser(raw, "text/html; charset=iso-8859-1") is raw  # UTF-8 mislabelled
    latin = body.replace("utf-8", "iso-8859-1").encode("latin-1")
    assert html_for_parser(latin, "text/html") == decode_html(latin, "text/html")
    assert main_text(html_for_parser(latin)).text == main_text(raw).text == "Müller trägt Acme."


def test_charsets_over_the_wire(fault_server: FaultServer) -> None:
    import asyncio

    async def run() -> None:
        async with Fetcher(HTTP) as fetcher:
            for case, expected in EXPECTED.items():
                response = await fetcher.get(fault_server.url(f"/charset/{case}"))
                assert expected in decode_html(response.body, response.content_type), case

    asyncio.run(run())


def test_damaged_utf8_becomes_replacement_characters() -> None:
    body, content_type = CHARSET_CASES["damaged-utf8"]
    assert "\ufffd" in decode_html(body, content_type)


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (
            "<?xml version='1.0' encoding='ISO-8859-1'?><r>Grüße</r>".encode("latin-1"),
            None,
            "Grüße",
        ),
        (
            "<?xml version='1.0' encoding='koi8-r'?><r>Привет</r>".encode("koi8-r"),
            "text/xml",
            "Привет",
        ),
        (codecs.BOM_UTF16_BE + "<r>Müller</r>".encode("utf-16-be"), None, "Müller"),
        ("<r>Crème brûlée</r>".encode("cp1252"), "application/xml; charset=utf-8", "Crème brûlée"),
        (b"<r>plain</r>", "text/xml; charset=nonsense-9", "plain"),
        (b"<r>x</r>", "text/xml; charset=rot13", "<r>x</r>"),  # a codec that is not a charset
    ],
)
def test_decode_xml(body: bytes, content_type: str | None, expected: str) -> None:
    assert expected in decode_xml(body, content_type)


@settings(deadline=None, max_examples=150)
@given(
    st.binary(max_size=2000),
    st.sampled_from(
        [
            None,
            "text/html",
            "text/html; charset=utf-8",
            "text/html; charset=utf-16",
            "x; charset=zz",
        ]
    ),
)
def test_decode_never_raises(body: bytes, content_type: str | None) -> None:
    assert isinstance(decode_html(body, content_type), str)
    assert isinstance(prepare_feed(body, content_type), bytes)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>t</title>
<item><title>Acme &lol9;</title><description>x</description></item></channel></rss>"""


def test_prepare_feed_defuses_entity_expansion() -> None:
    data = prepare_feed(BILLION_LAUGHS)
    assert b"<!ENTITY" not in data and data.count(b"<!DOCTYPE rss>") == 1
    parsed = feedparser.parse(data)
    assert len(parsed.entries[0].title) < 100


def test_prepare_feed_rewrites_declared_encoding_to_utf8() -> None:
    body = (
        '<?xml version="1.0" encoding="windows-1251"?><rss version="2.0"><channel>'
        "<item><title>Новости Акме</title></item></channel></rss>"
    )
    data = prepare_feed(body.encode("cp1251"), "text/xml")
    assert data.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    assert feedparser.parse(data).entries[0].title == "Новости Акме"


FEED = '<?xml version="1.0"{encoding}?><rss version="2.0"><channel><item><title>{title}</title></item></channel></rss>'


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (FEED.format(encoding=' encoding="utf-8"', title="Müller").encode(), "application/rss+xml"),
        (FEED.format(encoding="", title="Müller").encode(), "text/xml; charset=utf-8"),
        (FEED.format(encoding=' encoding="windows-1251"', title="Цитата").encode("cp1251"), "text/xml"),
        (codecs.BOM_UTF16_LE + FEED.format(encoding="", title="Müller").encode("utf-16-le"), None),
    ],
)
def test_feed_for_parser_keeps_a_feed_that_says_what_it_is(body: bytes, content_type: str | None) -> None:
    """Most feeds go to the parser as their own bytes: nothing decoded and encoded again."""
    assert feed_for_parser(body, content_type) is body


@pytest.mark.parametrize(
    ("body", "content_type", "title"),
    [
        (FEED.format(encoding="", title="Цитата").encode("cp1251"), "text/xml; charset=windows-1251", "Цитата"),
        (FEED.format(encoding=' encoding="ISO-8859-1"', title="Müller").encode(), None, "Müller"),
        (codecs.BOM_UTF8 + FEED.format(encoding=' encoding="ISO-8859-1"', title="Müller").encode(), None, "Müller"),
        (FEED.format(encoding="", title=RUSSIAN).encode("koi8-r"), None, RUSSIAN),  # detected
        # a server that says UTF-8 of everything: detection (which weighs the declaration)
        (FEED.format(encoding=' encoding="iso-8859-2"', title="Żółć").encode("iso-8859-2"),
         "text/xml; charset=utf-8", "Żółć"),
    ],
)
def test_feed_for_parser_reencodes_what_the_parser_would_misread(
    body: bytes, content_type: str | None, title: str
) -> None:
    data = feed_for_parser(body, content_type)
    assert feedparser.parse(data).entries[0].title == title
    from lxml import etree

    assert etree.fromstring(data).findtext("channel/item/title") == title


def test_prepare_feed_utf16_and_control_characters() -> None:
    body = codecs.BOM_UTF16_LE + (
        '<?xml version="1.0" encoding="utf-16"?><rss version="2.0"><channel>'
        "<item><title>Acme\x01 Müller\x0b</title></item></channel></rss>"
    ).encode("utf-16-le")
    parsed = feedparser.parse(prepare_feed(body))
    assert parsed.entries[0].title == "Acme Müller"
    assert not parsed.bozo


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"<!DOCTYPE html><html>", True),
        (b"\n  <html lang='de'>", True),
        (b"<!-- hi --><HTML>", True),
        (b"\xef\xbb\xbf<!doctype html>", True),
        (codecs.BOM_UTF16_LE + "<html>".encode("utf-16-le"), True),
        (b"<?xml version='1.0'?><rss>", False),
        (b'{"items": []}', False),
        (b"", False),
        (b"<feed xmlns='http://www.w3.org/2005/Atom'>", False),
    ],
)
def test_looks_like_html(body: bytes, expected: bool) -> None:
    assert looks_like_html(body) is expected
