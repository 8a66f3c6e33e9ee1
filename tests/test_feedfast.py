"""The lxml fast path agrees with feedparser, the reference, on real feeds."""

from __future__ import annotations

import os
from pathlib import Path

import feedparser
import pytest

from mentions.sources.feed import _entry_document, _fast_document, parse_feed
from mentions.sources.feedfast import parse_fast
from mentions.sources.links import absolute

CORPUS = Path(os.environ.get("MENTIONS_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus"))
FEEDS = sorted(
    path for path in (CORPUS / "feeds").rglob("*")
    if path.is_file() and path.suffix not in (".json", ".opml", ".html") and "expected" not in path.name
) if (CORPUS / "feeds").is_dir() else []
BASE = "https://feeds.example.org/feed"


@pytest.mark.skipif(not FEEDS, reason="the shared corpus is not here")
def test_fast_path_agrees_with_feedparser_on_every_corpus_feed_both_read() -> None:
    compared = 0
    for path in FEEDS:
        body = path.read_bytes()
        fast = parse_fast(body, BASE)
        if fast is None:
            continue  # feedparser decides these
        parsed = feedparser.parse(body, response_headers={"content-location": BASE})
        reference = [_entry_document(entry, BASE, "s", version=parsed.version) for entry in parsed.entries]
        ours = [_fast_document(entry, "s") for entry in fast]
        assert len(ours) == len(reference), path
        for mine, theirs in zip(ours, reference, strict=True):
            assert mine.title == theirs.title, path
            if theirs.published is not None:
                assert mine.published == theirs.published, path
            # feedparser resolves an empty href to the feed itself and calls tag:/urn: ids links;
            # the fast path keeps the entry's own http(s) id instead, a better identity.
            if theirs.url and theirs.url.startswith("http") and theirs.url.rstrip("/") not in (
                BASE, "http://onefoottsunami.com/wp-atom.php"
            ):
                assert mine.url == theirs.url, path
        compared += 1
    assert compared >= 80


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaa">]><rss version="2.0"><channel/></rss>',
        b"<rss version='2.0'><channel><item><title>broken</item></channel></rss>",
        b"<html><body>not a feed</body></html>",
        b"",
        b"\x00\xff\xfe garbage",
    ],
)
def test_anything_unusual_goes_to_feedparser(body: bytes) -> None:
    assert parse_fast(body, BASE) is None


def test_rss_atom_and_rdf_entries() -> None:
    rss = (b'<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><item><title>T</title>'
           b"<link>/a</link><dc:creator>Ann</dc:creator><pubDate>Wed, 25 Nov 2026 08:14:00 GMT</pubDate>"
           b"<description>&lt;p&gt;Hi&lt;/p&gt;</description></item></channel></rss>")
    (entry,) = parse_fast(rss, BASE) or []
    assert (entry.title, entry.link, entry.author) == ("T", "https://feeds.example.org/a", "Ann")
    assert entry.published is not None and entry.published.isoformat() == "2026-11-25T08:14:00+00:00"
    atom = (b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title type="html">A &amp;amp; B</title>'
            b'<id>urn:x</id><link rel="alternate" href="https://x.example/1"/><updated>2026-01-02T03:04:05Z</updated>'
            b'<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Acme</p></div></content></entry></feed>')
    (entry,) = parse_fast(atom, BASE) or []
    assert entry.link == "https://x.example/1" and entry.guid == "urn:x"
    assert "Acme" in _fast_document(entry, "s").text


@pytest.mark.parametrize("fast", [True, False])
def test_an_entry_with_a_broken_link_costs_only_its_link(fast: bool) -> None:
    """`http://[` makes urllib raise: the feed's other entries, and this one's text, stay."""
    rss = (b'<rss version="2.0"><channel><item><title>Acme one</title><link>http://[oops</link>'
           b"<description>Acme is here</description></item><item><title>Acme two</title>"
           b"<link>https://blog.example/2</link><description>Acme again</description></item></channel></rss>")
    if not fast:  # a DOCTYPE sends the feed to feedparser
        rss = b"<!DOCTYPE rss>" + rss
    documents = parse_feed(rss, BASE, "s")
    assert [(d.title, d.url) for d in documents] == [("Acme one", None), ("Acme two", "https://blog.example/2")]


@pytest.mark.parametrize(("link", "joined"), [
    ("https://x.example/a/b?c=1#d", "https://x.example/a/b?c=1#d"),
    ("/a", "https://feeds.example.org/a"),
    ("b", "https://feeds.example.org/b"),
    ("HTTPS://X.example/a", "https://X.example/a"),
    ("https://x.example/a?", "https://x.example/a"),
    ("https://x.example/a;p", "https://x.example/a;p"),
    ("//cdn.example/x", "https://cdn.example/x"),
])
def test_links_resolve_as_urljoin_does(link: str, joined: str) -> None:
    assert absolute(BASE, link) == joined


ATOM_TEXT = (b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>urn:1</id><link href="https://x.example/1"/>'
             b'<title type="text">Why &lt;blink&gt; annoys AT&amp;amp;T users</title><content type="text">'
             b"Never put user input in a &lt;script&gt; tag. Acme fixed this in version 2.</content></entry>"
             b'<entry><id>urn:2</id><link href="https://x.example/2"/><title>No type: &lt;i&gt; is text</title>'
             b'<summary type="html">&lt;p&gt;Acme &amp;amp; &lt;b&gt;Globex&lt;/b&gt;&lt;/p&gt;</summary></entry></feed>')
RSS_TITLES = (b'<rss version="2.0"><channel><item><title>Die R\xc3\xbcckkehr von &lt;i&gt; und &lt;b&gt;</title>'
              b"<link>https://x.example/1</link><description>Acme</description></item>"
              b"<item><title>Q&amp;amp;A with &lt;b&gt;Acme&lt;/b&gt;</title><link>https://x.example/2</link>"
              b"<description>&lt;p&gt;Acme &amp;amp; friends&lt;/p&gt;</description></item></channel></rss>")


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize(("feed", "expected"), [
    # Atom says what a text is, and `text` is its default: `&lt;script&gt;` is a script tag
    # written about, not one to run and drop, and `&amp;amp;` is decoded once, by XML.
    (ATOM_TEXT, [("Why <blink> annoys AT&amp;T users",
                  "Never put user input in a <script> tag. Acme fixed this in version 2."),
                 ("No type: <i> is text", "Acme & Globex")]),
    # RSS does not say; like feedparser, a title is HTML only when it looks like HTML.
    (RSS_TITLES, [("Die Rückkehr von <i> und <b>", "Acme"), ("Q&A with Acme", "Acme & friends")]),
], ids=["atom", "rss"])
def test_plain_text_is_shown_as_written_and_html_as_its_text(
    feed: bytes, expected: list[tuple[str, str]], fast: bool
) -> None:
    if not fast:  # a DOCTYPE sends the feed to feedparser
        feed = b"<!DOCTYPE x>" + feed
    assert (parse_fast(feed, BASE) is not None) is fast
    assert [(d.title, d.text) for d in parse_feed(feed, BASE, "s")] == expected


def _both_paths(feed: bytes, fast: bool) -> bytes:
    """`feed` as it is (the fast path reads it), or with a DOCTYPE that sends it to feedparser."""
    if fast:
        assert parse_fast(feed, BASE) is not None
        return feed
    return b"<!DOCTYPE x>" + feed


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize(("feed", "lang"), [
    # Slovak news sites write the channel's language as Dublin Core
    (b'<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Aktuality</title>'
     b"<dc:language>sk</dc:language><item><title>Acme otvorila predaj\xc5\x88u</title>"
     b"<link>https://www.aktuality.sk/clanok/1/</link></item></channel></rss>", "sk"),
    # Vimeo says it once, on the root
    (b'<rss version="2.0" xml:lang="en-US"><channel><title>Vimeo / Acme</title><item>'
     b"<title>Acme harvest update</title><link>https://vimeo.com/1013595996</link></item></channel></rss>", "en-US"),
    # WordPress' Atom writes `xml:lang=""` when the blog has none: unknown, not a language
    (b'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang=""><entry><id>http://ex.example/?p=1</id>'
     b'<title>Acme</title><link rel="alternate" href="http://ex.example/1"/></entry></feed>', None),
], ids=["dc-language", "root-xml-lang", "empty-xml-lang"])
def test_the_feed_language_is_found_where_feeds_write_it(feed: bytes, lang: str | None, fast: bool) -> None:
    [document] = parse_feed(_both_paths(feed, fast), BASE, "s")
    assert document.lang == lang


@pytest.mark.parametrize("fast", [True, False])
def test_rss_links_resolve_against_xml_base(fast: bool) -> None:
    feed = (b'<rss version="2.0" xml:base="https://blog.acme.example/news/"><channel><title>Acme news</title>'
            b"<item><title>Acme opens a shop</title><link>2026/shop.html</link></item>"
            b'<item xml:base="https://shop.acme.example/"><title>Acme sale</title><link>/sale</link></item>'
            b"</channel></rss>")
    assert [d.url for d in parse_feed(_both_paths(feed, fast), BASE, "s")] == [
        "https://blog.acme.example/news/2026/shop.html", "https://shop.acme.example/sale"
    ]


@pytest.mark.parametrize("fast", [True, False])
def test_a_junk_pubdate_leaves_the_other_dates_to_date_the_item(fast: bool) -> None:
    feed = (b'<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/">'
            b"<channel><title>Forum</title>"
            b"<item><title>Acme broke</title><link>https://forum.example/t/1</link><pubDate>unknown</pubDate>"
            b"<dc:date>2026-11-25T08:14:00+01:00</dc:date></item>"
            b"<item><title>Acme fixed</title><link>https://forum.example/t/2</link>"
            b"<dcterms:modified>2026-11-26T09:00:00Z</dcterms:modified></item></channel></rss>")
    documents = parse_feed(_both_paths(feed, fast), BASE, "s")
    assert [d.published.isoformat() if d.published else None for d in documents] == [
        "2026-11-25T07:14:00+00:00", "2026-11-26T09:00:00+00:00"
    ]


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("feed", [
    (b'<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>Acme videos</title><item>'
     b"<link>https://video.example/v/1</link><media:group><media:title>Acme Runner X review</media:title>"
     b"<media:description>We ran 40 km in the Acme Runner X.</media:description></media:group></item></channel></rss>"),
    (b'<feed xmlns="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/"><entry>'
     b'<id>yt:video:abc</id><link rel="alternate" href="https://www.youtube.com/watch?v=abc"/><media:group>'
     b"<media:title>Acme Runner X review</media:title><media:description>We ran 40 km in the Acme Runner X."
     b"</media:description></media:group></entry></feed>"),
], ids=["rss", "atom"])
def test_an_entry_titled_only_by_media_title_has_that_title(feed: bytes, fast: bool) -> None:
    [document] = parse_feed(_both_paths(feed, fast), BASE, "s")
    assert (document.title, document.text) == ("Acme Runner X review", "We ran 40 km in the Acme Runner X.")


@pytest.mark.parametrize("fast", [True, False])
def test_an_atom_entry_links_to_its_web_page_not_to_its_atom_document(fast: bool) -> None:
    feed = (b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>urn:uuid:1</id><title>Acme ships</title>'
            b'<link rel="alternate" type="application/atom+xml" href="https://blog.example/posts/1.atom"/>'
            b'<link rel="alternate" type="text/html" href="https://blog.example/posts/1"/></entry>'
            b'<entry><id>urn:uuid:2</id><title>Acme again</title>'
            b'<link rel="ALTERNATE" type="TEXT/HTML" href="https://blog.example/posts/2"/></entry>'
            # translations: feedparser takes the last; the fast path took the first, so the
            # same entry got another id whenever the feed went down the other path
            b'<entry><id>urn:uuid:3</id><title>Acme abroad</title>'
            b'<link rel="alternate" type="text/html" hreflang="en" href="https://blog.example/en/3"/>'
            b'<link rel="alternate" type="text/html" hreflang="de" href="https://blog.example/de/3"/></entry></feed>')
    assert [d.url for d in parse_feed(_both_paths(feed, fast), BASE, "s")] == [
        "https://blog.example/posts/1", "https://blog.example/posts/2", "https://blog.example/de/3"
    ]


@pytest.mark.parametrize("fast", [True, False])
def test_a_self_closed_video_embed_shows_no_markup(fast: bool) -> None:
    """Blogger writes its video embeds `<iframe … />`: no text, and what follows is shown."""
    feed = (b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>tag:blogger.com,1999:blog-1.post-2</id>'
            b'<title type="text">Acme bloopers</title><link rel="alternate" href="https://acme.blogspot.com/b.html"/>'
            b'<content type="html">Acme outtakes!&lt;br /&gt;&lt;iframe allowFullScreen=&#39;true&#39; '
            b"src=&#39;https://www.blogger.com/video.g?token=AD6v5dyq9&#39; FRAMEBORDER=&#39;0&#39; /&gt;"
            b"&lt;p&gt;More next week.&lt;/p&gt;</content></entry></feed>")
    [document] = parse_feed(_both_paths(feed, fast), BASE, "s")
    assert document.text == "Acme outtakes!\nMore next week."


def test_feedparser_reads_an_undeclared_feed_as_utf8() -> None:
    """A feed without `<?xml encoding?>` is UTF-8. One that is not well-formed (an HTML `&nbsp;`,
    a bare `&`) goes to feedparser, which, given headers without a content type, took it for
    ISO-8859-1 and showed `SchÃ¶ner`."""
    feed = ('<rss version="2.0"><channel><title>Laufblog</title><item><title>Die Rückkehr der Acme-Schuhe</title>'
            "<link>https://lauf.example/1</link><description>Schöner&nbsp;laufen mit Acme &amp; Co, sagt AT&T"
            "</description></item></channel></rss>").encode()
    [document] = parse_feed(feed, BASE, "s")
    assert (document.title, document.text) == ("Die Rückkehr der Acme-Schuhe", "Schöner laufen mit Acme & Co, sagt AT&T")
