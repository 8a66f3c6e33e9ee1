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
