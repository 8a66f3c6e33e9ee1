"""`feed:` additions: comment feeds followed with `comments: true`, content over summary,
the feed's language."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mentions.sources.feed import comment_feed_links, parse_feed
from tests.localsite import LocalSite
from tests.scanning import scan, write_config

POSTS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:wfw="http://wellformedweb.org/CommentAPI/" xmlns:slash="http://purl.org/rss/1.0/modules/slash/">
<channel><title>Laufblog</title><link>{base}/</link><language>de-DE</language>
<item><title>Mein Wochenrückblick</title><link>{base}/2026/11/rueckblick/</link>
  <pubDate>Mon, 24 Nov 2026 08:00:00 +0000</pubDate><guid isPermaLink="false">{base}/?p=11</guid>
  <description><![CDATA[Diese Woche bin ich […]]]></description>
  <content:encoded><![CDATA[<p>Diese Woche bin ich 40 km gelaufen,
    ganz ohne neue Schuhe.</p>]]></content:encoded>
  <wfw:commentRss>{base}/2026/11/rueckblick/feed/</wfw:commentRss><slash:comments>1</slash:comments>
</item>
<item><title>Alter Beitrag</title><link>{base}/2025/01/alt/</link>
  <pubDate>Mon, 06 Jan 2025 08:00:00 +0000</pubDate>
  <description>Nichts Neues.</description>
  <wfw:commentRss>{base}/2025/01/alt/feed/</wfw:commentRss>
</item>
</channel></rss>"""

COMMENTS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Kommentare zu: Mein Wochenrückblick</title><link>{base}/2026/11/rueckblick/</link>
<item><title>Von: Sabine</title><link>{base}/2026/11/rueckblick/#comment-201</link>
  <dc:creator><![CDATA[Sabine]]></dc:creator><pubDate>Mon, 24 Nov 2026 19:20:00 +0000</pubDate>
  <guid isPermaLink="false">{base}/?p=11#comment-201</guid>
  <description><![CDATA[Mit den Acme Runner X wäre das schneller gegangen!]]></description>
  <content:encoded><![CDATA[<p>Mit den <strong>Acme</strong> Runner X
    wäre das schneller gegangen!</p>]]></content:encoded>
</item></channel></rss>"""


def test_comment_feeds_are_followed_when_asked(site: LocalSite, tmp_path: Path) -> None:
    site.add("/feed/", POSTS.format(base=site.base), content_type="application/rss+xml")
    site.add("/2026/11/rueckblick/feed/", COMMENTS.format(base=site.base), content_type="application/rss+xml")
    # the old post's comment feed is gone (404): no comments, no failure
    without = write_config(tmp_path, f"  - name: blog\n    feed: {site.url('/feed/')}\n", name="a.yaml")
    result, records = scan(without, "--no-state")
    assert result.exit_code == 0 and records == []
    assert site.requests["/2026/11/rueckblick/feed/"] == 0

    with_comments = write_config(
        tmp_path, f"  - name: blog\n    feed: {site.url('/feed/')}\n    comments: true\n", name="b.yaml"
    )
    result, records = scan(with_comments, "--no-state")
    assert result.exit_code == 0, result.stderr
    [record] = records
    assert record["url"] == f"{site.base}/2026/11/rueckblick/#comment-201"
    assert record["author"] == "Sabine"
    assert record["published"] == "2026-11-24T19:20:00Z"
    assert record["lang"] == "de"
    assert "Mit den Acme Runner X" in record["snippet"]
    assert site.requests["/2025/01/alt/feed/"] == 1


def test_a_failing_comment_feed_still_delivers_the_entries_read(site: LocalSite, tmp_path: Path) -> None:
    """The new post's comment feed answers 500: the feed's own entries (and comments read
    before) are delivered, and the source is reported failed (exit 1)."""
    posts = POSTS.format(base=site.base).replace("ganz ohne neue Schuhe", "ganz ohne neue Acme-Schuhe")
    site.add("/feed/", posts, content_type="application/rss+xml")
    site.add("/2026/11/rueckblick/feed/", "down", status=500, content_type="text/plain")
    config = write_config(tmp_path, f"  - name: blog\n    feed: {site.url('/feed/')}\n    comments: true\n")
    result, records = scan(config, "--no-state")
    assert result.exit_code == 1
    assert [record["url"] for record in records] == [f"{site.base}/2026/11/rueckblick/"]
    assert "blog" in result.stderr and "500" in result.stderr


def test_comment_links_newest_first_and_http_only() -> None:
    body = POSTS.format(base="https://blog.example").replace(
        "https://blog.example/2025/01/alt/feed/", "file:///etc/passwd"
    ).encode()
    assert comment_feed_links(body, "https://blog.example/feed/") == [
        "https://blog.example/2026/11/rueckblick/feed/"
    ]


def test_content_wins_over_summary_and_feed_language_is_kept() -> None:
    body = POSTS.format(base="https://blog.example").encode()
    [first, _] = parse_feed(body, "https://blog.example/feed/", "b")
    assert first.text == "Diese Woche bin ich 40 km gelaufen, ganz ohne neue Schuhe."
    assert first.lang == "de-DE"


def test_comments_only_for_feeds(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from mentions.cli import app

    config = write_config(tmp_path, "  - name: p\n    page: https://a.example/\n    comments: true\n")
    result = CliRunner().invoke(app, ["check", "-c", str(config)])
    assert result.exit_code == 2
    assert "`comments: true` is for `feed:` sources" in result.stderr


@pytest.mark.parametrize("kind", ["feed", "sitemap", "file"])
def test_items_and_fields_are_refused_where_nothing_reads_them(tmp_path: Path, kind: str) -> None:
    """A `feed:` with `items:` read every entry, not the posts the selector meant: silently."""
    from typer.testing import CliRunner

    from mentions.cli import app

    location = "notes.txt" if kind == "file" else "https://a.example/feed"
    config = write_config(tmp_path, f"  - name: p\n    {kind}: {location}\n    items: article.post\n"
                                    "    fields: {title: h2}\n")
    result = CliRunner().invoke(app, ["check", "-c", str(config)])
    assert result.exit_code == 2
    assert "`items` and `fields` are for `page:`, `json:`, `search:` and `preset:` sources" in result.stderr


def test_lone_surrogates_in_remote_text_become_replacement_characters(
    site: LocalSite, tmp_path: Path
) -> None:
    """`"\\ud800"` is valid JSON and `&#xD800;` reaches feedparser's loose parser, but neither
    is a character: one such string failed its whole source (UnicodeEncodeError)."""
    json_feed = ('{"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": [{"id": "1", '
                 '"url": "http://x.org/1", "title": "Acme \\ud800 news", "content_text": "Acme \\udc00 wins"}]}')
    xml_feed = ('<?xml version="1.0"?><!DOCTYPE rss><rss version="2.0"><channel><title>t</title><item>'
                '<title>Acme &#xD800; one</title><link>http://x.org/2</link>'
                '<description>Acme &#55296; &#x110000; two</description></item></channel></rss>')
    api = '{"hits": [{"title": "Acme \\ud83d\\ude00 and \\udfff", "url": "http://x.org/3"}]}'
    sources = (f"  - name: jsonfeed\n    feed: {site.add('/feed.json', json_feed, content_type='application/feed+json')}\n"
               f"  - name: loose\n    feed: {site.add('/feed.xml', xml_feed, content_type='application/rss+xml')}\n"
               f"  - name: api\n    json: {site.add('/api', api, content_type='application/json')}\n"
               "    items: hits\n    fields: {title: title, text: title, link: url}\n")
    result, records = scan(write_config(tmp_path, sources), "--no-state")
    assert result.exit_code == 0, result.stderr
    titles = sorted(record["title"] for record in records)
    assert titles == ["Acme \ufffd news", "Acme \ufffd one", "Acme 😀 and \ufffd"]


def test_a_cut_off_feed_fails_its_source_and_gives_no_mentions(site: LocalSite, tmp_path: Path) -> None:
    """A server that errs mid-feed (or drops the connection of an answer with no length)
    leaves XML without its end: feedparser would still read the entries before the cut,
    the last one cut short. SPEC: no mentions come from a partial document."""
    whole = ('<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
             '<item><title>Acme one</title><link>http://x.org/1</link><description>Acme one</description></item>'
             '<item><title>Acme two</title><link>http://x.org/2</link><description>Acme two, the full text')
    (tmp_path / "cut.xml").write_text(whole)
    (tmp_path / "sloppy.xml").write_text(whole.replace("Acme", "Globex") + "</description></item></channel></RSS>")
    sources = (f"  - name: cut\n    feed: {site.add('/cut', whole, content_type='application/rss+xml')}\n"
               "  - name: cutfile\n    file: cut.xml\n  - name: sloppy\n    file: sloppy.xml\n")
    keywords = "  - name: acme\n    terms: [Acme]\n  - name: globex\n    terms: [Globex]\n"
    result, records = scan(write_config(tmp_path, sources, keywords), "--no-state")
    assert result.exit_code == 1
    assert {record["source"] for record in records} == {"sloppy"}  # `</RSS>`: closed, if sloppily
    assert "source 'cut' failed: truncated: the feed ends before its closing </rss>" in result.stderr
    assert "source 'cutfile' failed: truncated" in result.stderr


def test_a_feed_cut_after_an_end_tag_quoted_in_an_item_is_cut_off(site: LocalSite, tmp_path: Path) -> None:
    """`</rss>` quoted in an item's CDATA is not the feed's end; junk after the real end (a
    PHP warning) does not make a whole feed cut off."""
    head = '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
    first = ('<item><title>How to end a feed</title><link>http://x.org/1</link>'
             '<description><![CDATA[Acme tip: always close with </rss> at the end.]]></description></item>')
    cut = head + first + '<item><title>Acme two</title><link>http://x.org/2</link><description>Acme two, the'
    junk = (head + first.replace("Acme", "Globex") + "</channel></rss>\n"
            "<br />\n<b>Warning</b>: Undefined variable $feed in <b>/srv/rss.php</b> on line <b>12</b><br />\n")
    sources = (f"  - name: cut\n    feed: {site.add('/cut', cut, content_type='application/rss+xml')}\n"
               f"  - name: junk\n    feed: {site.add('/junk', junk, content_type='application/rss+xml')}\n")
    keywords = "  - name: acme\n    terms: [Acme]\n  - name: globex\n    terms: [Globex]\n"
    result, records = scan(write_config(tmp_path, sources, keywords), "--no-state")
    assert result.exit_code == 1
    assert [(record["source"], record["url"]) for record in records] == [("junk", "http://x.org/1")]
    assert "source 'cut' failed: truncated: the feed ends before its closing </rss>" in result.stderr


def test_json_feed_fields_of_the_wrong_type_are_left_out_not_shown_as_python(
    site: LocalSite, tmp_path: Path
) -> None:
    feed = ('{"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": ['
            '{"id": 7, "url": "http://x.org/1", "title": ["Acme"], "content_text": "Acme wins",'
            ' "authors": [{"name": ["Ola"]}, {"name": "Kim"}], "language": 5, "date_published": 20261101},'
            '{"id": "8", "url": "http://x.org/2", "title": {"x": "Globex"}, "content_html": "<p>Globex</p>"}]}')
    sources = f"  - name: jf\n    feed: {site.add('/f.json', feed, content_type='application/feed+json')}\n"
    keywords = "  - name: acme\n    terms: [Acme]\n  - name: globex\n    terms: [Globex]\n"
    result, records = scan(write_config(tmp_path, sources, keywords), "--no-state")
    assert result.exit_code == 0, result.stderr
    found = sorted((r["keyword"], r["title"], r["author"], r["lang"], r["published"], r["snippet"])
                   for r in records)
    assert found == [("acme", "", "Kim", None, None, "Acme wins"), ("globex", "", None, None, None, "Globex")]


def test_exclude_urls_also_see_the_canonical_url(site: LocalSite, tmp_path: Path) -> None:
    """`acme\\.de` excludes `https://ACME.DE:443/x`: hosts have no case, 443 is https's port."""
    links = ["https://ACME.DE:443/x/6", "https://shop.acme.de/x/1", "https://EXAMPLE.com/DE/x", "https://news.example/a"]
    items = "".join(f"<item><title>Acme {n}</title><link>{link}</link><description>Acme</description></item>"
                    for n, link in enumerate(links))
    site.add("/feed", f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>',
             content_type="application/rss+xml")
    config = write_config(
        tmp_path,
        f"  - name: s\n    feed: {site.base}/feed\n    exclude_urls: ['acme\\.de', '^https://example\\.com/DE/']\n",
    )
    result, records = scan(config, "--no-state")
    assert result.exit_code == 0, result.stderr
    assert [r["url"] for r in records] == ["https://news.example/a"]


def test_a_feed_that_makes_feedparser_itself_fail_gets_a_second_reading(
    site: LocalSite, tmp_path: Path
) -> None:
    """A stray byte in the encoding declaration made feedparser raise UnicodeDecodeError (a
    fuzzer found this and four more of its own exceptions): read once more as clean UTF-8."""
    feed = (b'<?xml version="1.0" encoding="iso-8859-1\xe9"?><!DOCTYPE rss><rss version="2.0"><channel>'
            b"<title>t</title><item><title>Acme caf\xe9</title><link>http://x.org/1</link>"
            b"<description>Acme im Caf\xe9</description></item><item><title>Leer</title>"
            b"<description/><link>http://x.org/2</link></item></channel></rss>")
    sources = f"  - name: odd\n    feed: {site.add('/odd.xml', feed, content_type='application/rss+xml')}\n"
    result, records = scan(write_config(tmp_path, sources), "--no-state")
    assert result.exit_code == 0, result.stderr
    assert [record["title"] for record in records] == ["Acme café"]


def test_json_feed_titles_and_content_text_are_plain_text(site: LocalSite, tmp_path: Path) -> None:
    """Only `content_html` is HTML: a title that names tags keeps them, and text after a
    quoted `<script>` is still read. References, which WordPress writes in titles anyway,
    are decoded once."""
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": [
        {"id": "1", "url": "http://x.org/1", "title": "Die Rückkehr von <i> und <b>",
         "content_text": "Never put user input in a <script> tag. Acme fixed this in version 2."},
        {"id": "2", "url": "http://x.org/2", "title": "Acme &amp; Globex &#8211; <b>live</b>",
         "content_html": "<p>Acme &amp; <b>Globex</b></p>"},
    ]}
    sources = f"  - name: jf\n    feed: {site.add('/f.json', json.dumps(feed), content_type='application/feed+json')}\n"
    result, records = scan(write_config(tmp_path, sources), "--no-state")
    assert result.exit_code == 0, result.stderr
    assert [(r["title"], r["snippet"]) for r in records] == [
        ("Die Rückkehr von <i> und <b>", "Never put user input in a <script> tag. Acme fixed this in version 2."),
        ("Acme & Globex – <b>live</b>", "Acme & Globex"),
    ]


def test_json_feed_items_without_an_author_are_by_the_feeds_author(site: LocalSite, tmp_path: Path) -> None:
    """JSON Feed names the author once for the whole feed, as blogs of one person do:
    `author` in 1.0, `authors` in 1.1. An item's own author still wins."""
    old = {"version": "https://jsonfeed.org/version/1", "title": "curt",
           "author": {"name": "Curt Clifton", "url": "http://curt.example/about"},
           "items": [{"id": "1", "url": "http://curt.example/1", "content_html": "<p>Acme notes</p>"}]}
    new = {"version": "https://jsonfeed.org/version/1.1", "title": "team",
           "authors": [{"url": "http://team.example/"}, {"name": "Team Acme"}],
           "items": [{"id": "2", "url": "http://team.example/2", "content_text": "Acme news"},
                     {"id": "3", "url": "http://team.example/3", "content_text": "Acme guest post",
                      "authors": [{"name": "Gina Guest"}]}]}
    sources = "".join(
        f"  - name: {name}\n    feed: {site.add(f'/{name}.json', json.dumps(feed), content_type='application/feed+json')}\n"
        for name, feed in (("old", old), ("new", new))
    )
    result, records = scan(write_config(tmp_path, sources), "--no-state")
    assert result.exit_code == 0, result.stderr
    assert sorted((r["url"], r["author"]) for r in records) == [
        ("http://curt.example/1", "Curt Clifton"),
        ("http://team.example/2", "Team Acme"),
        ("http://team.example/3", "Gina Guest"),
    ]


@pytest.mark.parametrize(("items", "reason"), [({"1": {"id": "1"}}, "a dict, not a list"), (None, "missing")])
def test_a_json_feed_whose_items_are_no_list_fails_instead_of_reading_as_quiet(
    site: LocalSite, tmp_path: Path, items: object, reason: str
) -> None:
    """An object where the list of items belongs read as a feed with nothing new, run after
    run: a cron job never learned its source was broken."""
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": "x"}
    if items is not None:
        feed["items"] = items
    url = site.add("/feed.json", json.dumps(feed), content_type="application/feed+json")
    result, records = scan(write_config(tmp_path, f"  - name: broken\n    feed: {url}\n"), "--no-state")
    assert (result.exit_code, records) == (1, [])
    assert f"not a feed: a JSON Feed whose `items` is {reason}" in result.stderr
