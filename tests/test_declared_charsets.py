"""Charsets as servers and documents declare them, read through a scan as a user sees it.

The order is the one docs/fetch.md promises: byte-order mark, HTTP charset, the document's
own declaration, then detection; a legacy label on a body that is valid UTF-8 (and that the
label cannot read) is the usual lie, and the body is read as UTF-8.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.localsite import LocalSite
from tests.scanning import scan, write_config

KEYWORDS = '  - name: brand\n    terms: ["Цитата", "übernimmt", "腾讯", "Grüße"]\n'


def rss(title: str, declaration: str = '<?xml version="1.0"?>', doctype: bool = False) -> str:
    """A one-item RSS feed; with `doctype` the fast path refuses it and feedparser reads it."""
    return (
        f"{declaration}\n{'<!DOCTYPE rss>' if doctype else ''}<rss version=\"2.0\"><channel>"
        f"<title>Zitate</title><link>http://example.org/</link>"
        f"<item><title>{title}</title><link>http://example.org/1</link>"
        f"<description>{title} heute</description></item></channel></rss>"
    )


def titles(site: LocalSite, tmp_path: Path, path: str, kind: str = "feed") -> list[str]:
    config = write_config(tmp_path, f"  - name: s\n    {kind}: {site.url(path)}\n", KEYWORDS)
    result, records = scan(config, "--no-state")
    assert result.exit_code == 0, result.stderr
    return [record["title"] for record in records]


@pytest.mark.parametrize("doctype", [False, True], ids=["fast path", "feedparser"])
def test_feed_charset_from_the_http_header(site: LocalSite, tmp_path: Path, doctype: bool) -> None:
    """No `encoding=` in the feed, `charset=windows-1251` in the header: the header decides."""
    body = rss("Цитата #17703", doctype=doctype).encode("cp1251")
    site.add("/feed.xml", body, content_type="application/rss+xml; charset=windows-1251")
    assert titles(site, tmp_path, "/feed.xml") == ["Цитата #17703"]


@pytest.mark.parametrize("doctype", [False, True], ids=["fast path", "feedparser"])
def test_feed_declared_latin1_that_is_utf8(site: LocalSite, tmp_path: Path, doctype: bool) -> None:
    """`<?xml encoding="ISO-8859-1"?>` on a UTF-8 body: read as UTF-8, not as `Ã¼`."""
    declaration = '<?xml version="1.0" encoding="ISO-8859-1"?>'
    body = rss("IBM übernimmt Red Hat", declaration, doctype).encode("utf-8")
    site.add("/feed.xml", body, content_type="application/rss+xml")
    assert titles(site, tmp_path, "/feed.xml") == ["IBM übernimmt Red Hat"]


def test_feed_header_charset_wins_over_the_declaration(site: LocalSite, tmp_path: Path) -> None:
    """RFC 7303: the HTTP charset comes before `<?xml encoding>`."""
    declaration = '<?xml version="1.0" encoding="windows-1252"?>'
    site.add("/feed.xml", rss("Цитата дня", declaration).encode("koi8-r"),
             content_type="text/xml; charset=koi8-r")
    assert titles(site, tmp_path, "/feed.xml") == ["Цитата дня"]


def test_feed_that_declares_its_legacy_charset_stays_in_it(site: LocalSite, tmp_path: Path) -> None:
    declaration = '<?xml version="1.0" encoding="windows-1251"?>'
    site.add("/feed.xml", rss("Цитата дня", declaration).encode("cp1251"), content_type="application/rss+xml")
    assert titles(site, tmp_path, "/feed.xml") == ["Цитата дня"]


def test_json_feed_charset_from_the_http_header(site: LocalSite, tmp_path: Path) -> None:
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": "Blog",
            "items": [{"id": "1", "url": "http://example.org/1", "title": "Grüße aus Köln",
                       "content_text": "Grüße"}]}
    site.add("/feed.json", json.dumps(feed, ensure_ascii=False).encode("latin-1"),
             content_type="application/feed+json; charset=iso-8859-1")
    assert titles(site, tmp_path, "/feed.json") == ["Grüße aus Köln"]


@pytest.mark.parametrize("charset", ["windows-1252", "iso-8859-1"])
def test_json_source_charset_from_the_http_header(site: LocalSite, tmp_path: Path, charset: str) -> None:
    """Latin-1 bytes labelled so are read as labelled; UTF-8 labelled Latin-1 stays UTF-8."""
    answer = [{"id": "1", "url": "http://example.org/1", "title": "Grüße aus Köln", "text": "Grüße"}]
    text = json.dumps(answer, ensure_ascii=False)
    site.add("/latin.json", text.encode("cp1252"), content_type=f"application/json; charset={charset}")
    site.add("/utf8.json", text.encode("utf-8"), content_type=f"application/json; charset={charset}")
    assert titles(site, tmp_path, "/latin.json", "json") == ["Grüße aus Köln"]
    assert titles(site, tmp_path, "/utf8.json", "json") == ["Grüße aus Köln"]


PAGE = """<!DOCTYPE html><html><head><meta charset="{charset}"><title>{title}</title></head>
<body><article><h1>{title}</h1><p>{text}</p></article></body></html>"""
TENCENT = "腾讯发布新一代人工智能平台，腾讯云同步上线。这是一段足够长的正文，用来说明页面的主要内容。"


def test_page_that_declares_gb2312_but_is_utf8(site: LocalSite, tmp_path: Path) -> None:
    """A page converted to UTF-8 that kept `<meta charset=gb2312>`: GB2312 cannot read it."""
    body = PAGE.format(charset="gb2312", title="腾讯新闻", text=TENCENT).encode("utf-8")
    site.add("/news.html", body, content_type="text/html")
    assert titles(site, tmp_path, "/news.html", "page") == ["腾讯新闻"]


def test_page_in_its_declared_gb2312_stays_gb2312(site: LocalSite, tmp_path: Path) -> None:
    body = PAGE.format(charset="gb2312", title="腾讯新闻", text=TENCENT).encode("gb2312")
    site.add("/news.html", body, content_type="text/html")
    assert titles(site, tmp_path, "/news.html", "page") == ["腾讯新闻"]


@pytest.mark.parametrize(("charset", "codec"), [("gb2312", "utf-8"), ("gb2312", "gb2312"),
                                                ("windows-1251", "cp1251")])
def test_match_html_reads_a_file_as_a_page_source_does(
    site: LocalSite, tmp_path: Path, charset: str, codec: str
) -> None:
    """`mentions match --html` and a `page:` source share one rule for the same bytes."""
    from tests.test_match_cli import run

    text = TENCENT if codec != "cp1251" else "Цитата дня: длинный текст статьи о продукте."
    title = "腾讯新闻" if codec != "cp1251" else "Цитата"
    body = PAGE.format(charset=charset, title=title, text=text).encode(codec)
    (tmp_path / "page.html").write_bytes(body)
    site.add("/page.html", body, content_type="text/html")
    term = "腾讯" if codec != "cp1251" else "Цитата"
    code, stdout, stderr = run("-e", term, "--html", "--format", "jsonl", str(tmp_path / "page.html"))
    assert code == 0, stderr
    [record] = [json.loads(line) for line in stdout.splitlines()]
    assert record["title"] == title
    assert titles(site, tmp_path, "/page.html", "page") == [title]


GERMAN = "Herr Müller sagt: »Acme ist groß« – Grüße"


@pytest.mark.parametrize("doctype", [False, True], ids=["fast path", "feedparser"])
def test_feed_served_as_utf8_that_is_the_windows1252_it_declares(
    site: LocalSite, tmp_path: Path, doctype: bool
) -> None:
    """`charset=UTF-8` in the header is a lie the body shows (it is not UTF-8), and its own
    `<?xml encoding="windows-1252"?>` reads it; `ß«` alone is valid UTF-8 and must not sway."""
    declaration = '<?xml version="1.0" encoding="windows-1252"?>'
    site.add("/feed.xml", rss(GERMAN, declaration, doctype).encode("cp1252"),
             content_type="application/rss+xml; charset=UTF-8")
    assert titles(site, tmp_path, "/feed.xml") == [GERMAN]


def test_page_served_as_utf8_that_is_the_windows1252_it_declares(site: LocalSite, tmp_path: Path) -> None:
    text = f"{GERMAN}. Ein längerer Absatz über die Firma, damit die Seite einen Text hat."
    body = PAGE.format(charset="windows-1252", title=GERMAN, text=text).encode("cp1252")
    site.add("/page.html", body, content_type="text/html; charset=UTF-8")
    assert titles(site, tmp_path, "/page.html", "page") == [GERMAN]


@pytest.mark.parametrize("doctype", [False, True], ids=["fast path", "feedparser"])
@pytest.mark.parametrize("where", ["declaration", "header"])
def test_feed_declared_iso_8859_1_is_read_as_windows1252(
    site: LocalSite, tmp_path: Path, doctype: bool, where: str
) -> None:
    """Browsers and feedparser read an ISO-8859-1 label as windows-1252 (WHATWG): bytes
    0x80-0x9F are curly quotes and dashes, never C1 control characters."""
    title = "Acme’s “new” product › details – Grüße"
    declaration = '<?xml version="1.0" encoding="ISO-8859-1"?>' if where == "declaration" else "<?xml version='1.0'?>"
    header = "; charset=ISO-8859-1" if where == "header" else ""
    site.add("/feed.xml", rss(title, declaration, doctype).encode("cp1252"),
             content_type=f"application/rss+xml{header}")
    assert titles(site, tmp_path, "/feed.xml") == [title]


NO_WEB_ENCODINGS = ["idna", "undefined", "punycode", "unicode_escape", "cp037", "utf-7", "iso-2022-kr"]


@pytest.mark.parametrize("label", NO_WEB_ENCODINGS)
@pytest.mark.parametrize("where", ["header", "declaration"])
@pytest.mark.parametrize("ascii_only", [False, True], ids=["utf-8", "ascii"])
def test_a_label_that_is_no_web_encoding_counts_as_none(
    site: LocalSite, tmp_path: Path, label: str, where: str, ascii_only: bool
) -> None:
    """Only WHATWG Encoding Standard labels count: `charset=idna` and the like are ignored
    instead of failing the source (`parse error: UnicodeError`) or garbling it."""
    declaration = f'<?xml version="1.0" encoding="{label}"?>' if where == "declaration" else '<?xml version="1.0"?>'
    header = f"; charset={label}" if where == "header" else ""
    markup = "Gr&#252;&#223;e aus K&#246;ln" if ascii_only else "Grüße aus Köln"
    site.add("/feed.xml", rss(markup, declaration).encode("utf-8"), content_type=f"application/rss+xml{header}")
    body = PAGE.format(charset=label, title=markup, text=f"{markup}, ein l&#228;ngerer Text.")
    site.add("/page.html", body.encode("utf-8"), content_type=f"text/html{header}")
    answer = [{"id": "1", "url": "http://example.org/1", "title": "Grüße aus Köln", "text": "Grüße"}]
    site.add("/a.json", json.dumps(answer, ensure_ascii=ascii_only).encode("utf-8"),
             content_type=f"application/json{header}")
    assert titles(site, tmp_path, "/feed.xml") == ["Grüße aus Köln"]
    assert titles(site, tmp_path, "/page.html", "page") == ["Grüße aus Köln"]
    assert titles(site, tmp_path, "/a.json", "json") == ["Grüße aus Köln"]


def test_a_utf8_bom_beats_the_header_charset_for_json(site: LocalSite, tmp_path: Path) -> None:
    """BOM first, then the header: `charset=windows-1251` on UTF-8 with a BOM is no `MГјller`."""
    answer = [{"id": "1", "url": "http://example.org/1", "title": "Grüße aus Köln", "text": "Grüße"}]
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": "Blog",
            "items": [{"id": "1", "url": "http://example.org/1", "title": "Grüße aus Köln"}]}
    bom = b"\xef\xbb\xbf"
    site.add("/a.json", bom + json.dumps(answer, ensure_ascii=False).encode(),
             content_type="application/json; charset=windows-1251")
    site.add("/feed.json", bom + json.dumps(feed, ensure_ascii=False).encode(),
             content_type="application/feed+json; charset=windows-1251")
    assert titles(site, tmp_path, "/a.json", "json") == ["Grüße aus Köln"]
    assert titles(site, tmp_path, "/feed.json") == ["Grüße aus Köln"]
