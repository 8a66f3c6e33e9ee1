"""`mentions scan` end to end: a real local server, real SQLite files, the real CLI."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import signal
import sqlite3
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mentions.cli import app
from tests.conftest import REPO, run_cli, run_on_terminal
from tests.localsite import LocalSite

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Blog</title>
<link>{base}/</link>
{items}
</channel></rss>"""
ITEM = """<item><title>{title}</title><link>{link}</link><dc:creator>{author}</dc:creator>
<pubDate>Wed, 25 Nov 2026 08:14:00 +0100</pubDate><guid>{link}</guid>
<description><![CDATA[{html}]]></description></item>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>News</title><id>urn:x</id><updated>2026-11-25T10:00:00Z</updated>
<entry><title>Globex raises prices</title><id>urn:1</id><link href="/news/globex-prices"/>
<updated>2026-11-25T10:00:00Z</updated><author><name>Reporter</name></author>
<content type="html">&lt;p&gt;Globex, the rival of Acme, raised prices.&lt;/p&gt;</content></entry>
</feed>"""

FORUM = """<!DOCTYPE html><html lang="de"><head><title>Thread</title></head><body>
<nav><a href="/">Home</a> Acme partner area</nav>
<div class="post"><span class="user">anna</span><time datetime="2026-11-20T10:00:00Z">x</time>
<a class="perma" href="/t/1#p1">#1</a><div class="body">Hat jemand den Acme Runner?</div></div>
<div class="post"><span class="user">ben</span><time datetime="2026-11-21T10:00:00Z">x</time>
<a class="perma" href="/t/1#p2">#2</a><div class="body">Ja, läuft gut. Globex ist billiger.</div></div>
<div class="post"><span class="user">cem</span><time datetime="2026-11-22T10:00:00Z">x</time>
<a class="perma" href="/t/1#p3">#3</a><div class="body">Nichts zu sagen.</div></div>
<a rel="next" href="/t/1?page=2">weiter</a>
</body></html>"""

FORUM_PAGE_2 = """<!DOCTYPE html><html><body>
<div class="post"><span class="user">dora</span><time datetime="2026-11-23T10:00:00Z">x</time>
<a class="perma" href="/t/1#p4">#4</a><div class="body">Acme hat mir geantwortet.</div></div>
</body></html>"""

ARTICLE = """<!DOCTYPE html><html lang="en"><head><title>Review: the Acme kettle</title></head><body>
<header><nav><a href="/">Home</a> <a href="/globex">Globex deals</a></nav></header>
<article><h1>Review: the Acme kettle</h1><p>The Acme kettle boils water in two minutes.</p></article>
<footer>Sponsored by Globex</footer></body></html>"""


def blog_feed(base: str, count: int = 2) -> str:
    items = [
        ITEM.format(title="Neue Schuhe von Acme", link=f"{base}/2026/acme-schuhe?utm_source=rss",
                    author="Jana", html="<p>Die neuen Schuhe von <b>Acme</b> kosten 189 Euro.</p>"),
        ITEM.format(title="Herbstlauf", link=f"{base}/2026/herbstlauf", author="Tom",
                    html="<p>Kein Wort über Marken.</p>"),
    ]
    for number in range(2, count):
        items.append(ITEM.format(title=f"Post {number}", link=f"{base}/2026/post-{number}", author="Tom",
                                 html=f"<p>Acme story number {number}.</p>"))
    return RSS.format(base=base, items="\n".join(items))


def write_config(folder: Path, sources: str, extra: str = "") -> Path:
    config = folder / "mentions.yaml"
    config.write_text(
        "version: 1\n"
        f"state: {folder / 'state.db'}\n"
        "http: {timeout: 5, delay: 0, retries: 0, robots: false}\n"
        "keywords:\n"
        "  - name: acme\n    terms: [Acme]\n    tags: [brand]\n"
        "  - name: globex\n    terms: [Globex]\n    tags: [competitor]\n"
        f"{extra}"
        f"sources:\n{sources}",
        encoding="utf-8",
    )
    return config


def jsonl(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_feed_source_yields_records_with_every_field(site: LocalSite, tmp_path: Path, runner: CliRunner) -> None:
    url = site.add("/feed.xml", blog_feed(site.base), content_type="application/rss+xml")
    config = write_config(tmp_path, f"  - name: blog\n    feed: {url}\n")
    result = runner.invoke(app, ["scan", "-c", str(config), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    records = jsonl(result.stdout)
    assert [r["keyword"] for r in records] == ["acme"]
    record = records[0]
    assert set(record) == {"id", "keyword", "tags", "source", "source_type", "url", "title", "author",
                           "published", "found_at", "terms", "count", "snippet", "lang"}
    assert record["source"] == "blog" and record["source_type"] == "feed"
    assert record["tags"] == ["brand"]
    assert record["author"] == "Jana"
    assert record["published"] == "2026-11-25T07:14:00Z"
    assert record["terms"] == ["Acme"]
    assert record["count"] == 2
    assert "Acme" in str(record["snippet"])
    assert str(record["url"]).startswith(site.base + "/2026/acme-schuhe")


def test_atom_feed_resolves_relative_links(site: LocalSite, tmp_path: Path, runner: CliRunner) -> None:
    url = site.add("/atom.xml", ATOM, content_type="application/atom+xml")
    config = write_config(tmp_path, f"  - name: news\n    feed: {url}\n")
    records = jsonl(runner.invoke(app, ["scan", "-c", str(config), "--no-state"]).stdout)
    assert {r["keyword"] for r in records} == {"acme", "globex"}
    assert {r["url"] for r in records} == {site.base + "/news/globex-prices"}
    assert records[0]["author"] == "Reporter"


def test_json_feed_is_read(site: LocalSite, tmp_path: Path, runner: CliRunner) -> None:
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": [
        {"id": "1", "url": "/p/1", "title": "Acme news", "content_text": "Nothing else",
         "date_published": "2026-11-25T08:00:00+01:00", "authors": [{"name": "Kim"}]}]})
    url = site.add("/feed.json", body, content_type="application/feed+json")
    config = write_config(tmp_path, f"  - name: jf\n    feed: {url}\n")
    records = jsonl(runner.invoke(app, ["scan", "-c", str(config), "--no-state"]).stdout)
    assert len(records) == 1
    assert records[0]["url"] == site.base + "/p/1"
    assert records[0]["published"] == "2026-11-25T07:00:00Z"
    assert records[0]["author"] == "Kim"


def test_page_items_follow_next_and_give_one_document_per_post(
    site: LocalSite, tmp_path: Path, runner: CliRunner
) -> None:
    url = site.add("/t/1", FORUM)
    site.add("/t/1?page=2", FORUM_PAGE_2)
    sources = (f"  - name: forum\n    page: {url}\n    items: div.post\n"
               "    fields: {text: .body, author: .user, date: 'time@datetime', link: 'a.perma@href'}\n"
               "    next: 'a[rel=next]@href'\n    max_pages: 3\n")
    config = write_config(tmp_path, sources)
    records = jsonl(runner.invoke(app, ["scan", "-c", str(config), "--no-state"]).stdout)
    found = sorted((r["author"], r["keyword"], r["url"]) for r in records)
    assert found == [
        ("anna", "acme", f"{site.base}/t/1#p1"),
        ("ben", "globex", f"{site.base}/t/1#p2"),
        ("dora", "acme", f"{site.base}/t/1#p4"),
    ]
    assert next(r for r in records if r["author"] == "anna")["published"] == "2026-11-20T10:00:00Z"
    # The menu's "Acme partner area" is not a post, so it is no mention.
    assert site.requests["/t/1?page=2"] == 1


@pytest.mark.parametrize("link", ["file:///etc/passwd", "ftp://files.example/page2"])
def test_a_next_link_that_may_not_be_followed_ends_the_pages_and_keeps_them(
    site: LocalSite, tmp_path: Path, runner: CliRunner, link: str
) -> None:
    """A page cannot lead the scan to local files; its own posts are still read."""
    url = site.add("/t/1", FORUM.replace('href="/t/1?page=2"', f'href="{link}"'))
    assert link in FORUM.replace('href="/t/1?page=2"', f'href="{link}"')
    sources = (f"  - name: forum\n    page: {url}\n    items: div.post\n"
               "    fields: {text: .body, author: .user, link: 'a.perma@href'}\n"
               "    next: 'a[rel=next]@href'\n    max_pages: 3\n")
    config = write_config(tmp_path, sources)
    result = runner.invoke(app, ["scan", "-c", str(config), "--no-state"])
    assert result.exit_code == 0
    assert sorted(r["author"] for r in jsonl(result.stdout)) == ["anna", "ben"]


def test_page_without_items_leaves_navigation_and_footer_out(
    site: LocalSite, tmp_path: Path, runner: CliRunner
) -> None:
    url = site.add("/review", ARTICLE)
    config = write_config(tmp_path, f"  - name: reviews\n    page: {url}\n")
    records = jsonl(runner.invoke(app, ["scan", "-c", str(config), "--no-state"]).stdout)
    assert [r["keyword"] for r in records] == ["acme"]
    assert records[0]["title"] == "Review: the Acme kettle"
    assert records[0]["source_type"] == "page"


def test_file_sources_of_every_kind(tmp_path: Path, runner: CliRunner) -> None:
    (tmp_path / "notes.txt").write_text("Call about Acme on Monday.\n")
    (tmp_path / "tickets.jsonl").write_text(
        json.dumps({"text": "Globex wants a demo", "url": "https://crm.example/t/1", "author": "Ola"}) + "\n"
        + json.dumps({"text": "nothing here"}) + "\n"
        + json.dumps({"text": "Acme invoice", "title": "Ticket 3", "published": "2026-11-01"}) + "\n"
    )
    (tmp_path / "saved.html").write_text(ARTICLE)
    (tmp_path / "feed.xml").write_text(blog_feed("https://blog.example"))
    sources = ("  - name: notes\n    file: notes.txt\n  - name: tickets\n    file: tickets.jsonl\n"
               "  - name: saved\n    file: saved.html\n  - name: feedfile\n    file: feed.xml\n"
               "  - name: localfeed\n    feed: feed.xml\n")
    config = write_config(tmp_path, sources)
    result = runner.invoke(app, ["scan", "-c", str(config), "--no-state"])
    assert result.exit_code == 0, result.output
    records = jsonl(result.stdout)
    by_source = {(r["source"], r["keyword"]) for r in records}
    # The same feed read twice is the same document: reported once, by whichever came first.
    assert len(by_source & {("feedfile", "acme"), ("localfeed", "acme")}) == 1
    assert by_source - {("feedfile", "acme"), ("localfeed", "acme")} == {
        ("notes", "acme"), ("tickets", "globex"), ("tickets", "acme"), ("saved", "acme")}
    ticket = next(r for r in records if r["source"] == "tickets" and r["keyword"] == "globex")
    assert ticket["url"] == "https://crm.example/t/1" and ticket["author"] == "Ola"
    assert all(r["source_type"] in ("file", "feed") for r in records)


def test_a_json_export_that_wraps_its_records_is_read(tmp_path: Path, runner: CliRunner) -> None:
    """`{"count": 2, "tickets": [...]}`, as exports and API dumps come; a file whose records
    hold no text at all fails its source with a reason instead of matching nothing forever."""
    (tmp_path / "tickets.json").write_text(json.dumps({"count": 2, "next": None, "tickets": [
        {"id": "T-1", "body": "Globex wants a demo", "author": "Ola"},
        {"id": "T-2", "body": "Acme invoice overdue", "date": "2026-11-01"}]}))
    (tmp_path / "ids.json").write_text(json.dumps([{"ticket": 1, "summary": "Acme"}, {"ticket": 2}]))
    sources = "  - name: tickets\n    file: tickets.json\n  - name: ids\n    file: ids.json\n"
    config = write_config(tmp_path, sources)
    result = runner.invoke(app, ["scan", "-c", str(config), "--no-state", "--format", "jsonl"])
    assert result.exit_code == 1
    assert sorted((r["keyword"], r["author"]) for r in jsonl(result.stdout)) == [("acme", None), ("globex", "Ola")]
    assert "ids" in result.stderr and "no record has `text`, `body` or `content`" in result.stderr


@pytest.mark.parametrize("export", [[], {"count": 0, "tickets": []}, {"tickets": [], "tags": ["a", "b"]}])
def test_an_empty_json_export_is_no_documents_and_no_failure(
    tmp_path: Path, runner: CliRunner, export: object
) -> None:
    (tmp_path / "tickets.json").write_text(json.dumps(export))
    config = write_config(tmp_path, "  - name: tickets\n    file: tickets.json\n")
    result = runner.invoke(app, ["scan", "-c", str(config), "--no-state", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and "tickets" not in result.stderr


def test_a_glob_into_a_missing_folder_fails_and_an_empty_match_does_not(
    tmp_path: Path, runner: CliRunner
) -> None:
    # A cron job pointed at a wrong export path must say so; a quiet day in the right
    # folder (nothing exported yet) is no failure.
    (tmp_path / "exports").mkdir()
    sources = ("  - name: quiet\n    file: 'exports/*.jsonl'\n"
               "  - name: typo\n    file: 'exprots/*.jsonl'\n")
    config = write_config(tmp_path, sources)
    result = runner.invoke(app, ["scan", "-c", str(config), "--no-state", "--format", "jsonl"])
    assert result.exit_code == 1
    assert "typo" in result.stderr and "no such folder" in result.stderr
    assert "quiet" not in result.stderr


def test_a_local_file_too_large_for_one_document_fails_alone(tmp_path: Path, runner: CliRunner) -> None:
    """An 84 MB text file was one document that took 2.4 GB to match. A text or HTML file is
    one document, as large as a page may be (10 MB); an export of many documents, 100 MB."""
    (tmp_path / "huge.txt").write_bytes(b"Globex " + b"x" * 10_000_000)
    (tmp_path / "notes.txt").write_text("Globex called again.\n", encoding="utf-8")
    (tmp_path / "tickets.jsonl").write_text(json.dumps({"text": "Globex " + "y" * 10_000_000}) + "\n")
    sources = ("  - name: huge\n    file: huge.txt\n  - name: notes\n    file: notes.txt\n"
               "  - name: tickets\n    file: tickets.jsonl\n")
    config = write_config(tmp_path, sources)
    result = runner.invoke(app, ["scan", "-c", str(config), "--no-state", "--format", "jsonl"])
    assert result.exit_code == 1
    assert sorted(r["source"] for r in jsonl(result.stdout)) == ["notes", "tickets"]
    assert "huge" in result.stderr and "more than 10,000,000 bytes" in result.stderr


def test_stdin_past_the_limit_fails_instead_of_being_cut(tmp_path: Path) -> None:
    config = write_config(tmp_path, "  - name: pasted\n    file: '-'\n")
    result = run_cli("scan", "-c", str(config), "--no-state", stdin=b"Globex " * 1_500_000)
    assert result.returncode == 1
    assert result.stdout == b"" and b"more than 10,000,000 bytes" in result.stderr


def test_stdin_file_source(tmp_path: Path) -> None:
    config = write_config(tmp_path, "  - name: pasted\n    file: '-'\n")
    result = run_cli("scan", "-c", str(config), "--no-state", stdin=b"Globex called again.\n")
    assert result.returncode == 0, result.stderr
    # stdin has no URL: `url` is a URL or null, never the word "stdin"
    assert [(r["keyword"], r["url"]) for r in jsonl(result.stdout.decode())] == [("globex", None)]


@pytest.fixture
def tls_site(certificate: tuple[Path, Path]) -> Iterator[LocalSite]:
    """A local HTTPS server with a self-signed certificate for 127.0.0.1."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    server = LocalSite(tls=context).start()
    yield server
    server.stop()


def test_https_with_an_untrusted_certificate_fails_that_source_only(
    tls_site: LocalSite, site: LocalSite, tmp_path: Path
) -> None:
    """Certificates are verified: a self-signed one is refused before any request is sent."""
    secure = tls_site.add("/feed.xml", blog_feed(tls_site.base), content_type="application/rss+xml")
    plain = site.add("/feed.xml", blog_feed(site.base), content_type="application/rss+xml")
    config = write_config(tmp_path, f"  - name: secure\n    feed: {secure}\n  - name: plain\n    feed: {plain}\n")
    result = run_cli("scan", "-c", str(config), "--format", "jsonl")
    stderr = result.stderr.decode()
    assert result.returncode == 1, stderr
    assert {record["source"] for record in jsonl(result.stdout.decode())} == {"plain"}
    assert "source 'secure' failed: connection failed: SSL certificate not accepted: self-signed" in stderr
    assert "Traceback" not in stderr
    assert tls_site.requests["/feed.xml"] == 0


def test_https_with_a_certificate_trusted_through_ssl_cert_file_is_read(
    tls_site: LocalSite, certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    """A company CA in SSL_CERT_FILE is honoured, as curl and Python do."""
    url = tls_site.add("/feed.xml", blog_feed(tls_site.base), content_type="application/rss+xml")
    config = write_config(tmp_path, f"  - name: secure\n    feed: {url}\n")
    result = run_cli("scan", "-c", str(config), "--format", "jsonl", env={"SSL_CERT_FILE": str(certificate[0])})
    assert result.returncode == 0, result.stderr.decode()
    records = jsonl(result.stdout.decode())
    assert [record["keyword"] for record in records] == ["acme"]
    assert records[0]["url"].startswith(f"{tls_site.base}/2026/acme-schuhe")


def test_rerun_reports_only_new_mentions(site: LocalSite, tmp_path: Path, runner: CliRunner) -> None:
    url = site.add("/feed.xml", blog_feed(site.base, count=3), content_type="application/rss+xml")
    config = write_config(tmp_path, f"  - name: blog\n    feed: {url}\n")
    first = jsonl(runner.invoke(app, ["scan", "-c", str(config)]).stdout)
    assert len(first) == 2
    second = runner.invoke(app, ["scan", "-c", str(config)])
    assert second.exit_code == 0 and jsonl(second.stdout) == []
    site.add("/feed.xml", blog_feed(site.base, count=4), content_type="application/rss+xml")
    third = jsonl(runner.invoke(app, ["scan", "-c", str(config)]).stdout)
    assert [r["title"] for r in third] == ["Post 3"]
    again = jsonl(runner.invoke(app, ["scan", "-c", str(config), "--all"]).stdout)
    assert len(again) == 3
    assert {r["id"] for r in again} == {r["id"] for r in first + third}


def test_unchanged_feed_costs_one_304(site: LocalSite, tmp_path: Path, runner: CliRunner) -> None:
    url = site.add("/feed.xml", blog_feed(site.base), content_type="application/rss+xml")
    config = write_config(tmp_path, f"  - name: blog\n    feed: {url}\n")
    runner.invoke(app, ["scan", "-c", str(config)])
    result = runner.invoke(app, ["scan", "-c", str(config)])
    assert result.exit_code == 0
    assert site.requests["/feed.xml"] == 2
    assert site.not_modified["/feed.xml"] == 1


def test_no_state_dry_run_and_seed(site: LocalSite, tmp_path: Path, runner: CliRunner) -> None:
    url = site.add("/feed.xml", blog_feed(site.base), content_type="application/rss+xml")
    config = write_config(tmp_path, f"  - name: blog\n    feed: {url}\n")
    for _ in range(2):
        assert len(jsonl(runner.invoke(app, ["scan", "-c", str(config), "--no-state"]).stdout)) == 1
    assert not (tmp_path / "state.db").exists()
    for _ in range(2):
        assert len(jsonl(runner.invoke(app, ["scan", "-c", str(config), "--dry-run"]).stdout)) == 1
    seeded = runner.invoke(app, ["scan", "-c", str(config), "--seed"])
    assert seeded.exit_code == 0 and seeded.stdout == ""
    site.add("/feed.xml", blog_feed(site.base, count=3), content_type="application/rss+xml")
    assert [r["title"] for r in jsonl(runner.invoke(app, ["scan", "-c", str(config)]).stdout)] == ["Post 2"]


def test_csv_and_json_formats_parse_back(site: LocalSite, tmp_path: Path, runner: CliRunner) -> None:
    url = site.add("/atom.xml", ATOM, content_type="application/atom+xml")
    config = write_config(tmp_path, f"  - name: news\n    feed: {url}\n")
    as_csv = runner.invoke(app, ["scan", "-c", str(config), "--no-state", "--format", "csv"]).stdout
    rows = list(csv.DictReader(io.StringIO(as_csv)))
    assert {row["keyword"] for row in rows} == {"acme", "globex"}
    assert rows[0]["tags"] in ("brand", "competitor") and rows[0]["url"].endswith("/news/globex-prices")
    as_json = json.loads(runner.invoke(app, ["scan", "-c", str(config), "--no-state", "--format", "json"]).stdout)
    assert sorted(r["keyword"] for r in as_json) == ["acme", "globex"]
    empty = tmp_path / "empty.yaml"
    empty.write_text(config.read_text().replace("terms: [Acme]", "terms: [Nomatch]").replace(
        "terms: [Globex]", "terms: [Nomatch2]"))
    assert json.loads(runner.invoke(app, ["scan", "-c", str(empty), "--no-state", "--format", "json"]).stdout) == []


def test_output_file_is_appended(site: LocalSite, tmp_path: Path, runner: CliRunner) -> None:
    url = site.add("/atom.xml", ATOM, content_type="application/atom+xml")
    config = write_config(tmp_path, f"  - name: news\n    feed: {url}\n")
    out = tmp_path / "out.csv"
    for _ in range(2):
        result = runner.invoke(app, ["scan", "-c", str(config), "--no-state", "-o", str(out), "--format", "csv"])
        assert result.exit_code == 0 and result.stdout == ""
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == 4  # two runs of two mentions, one header


def test_table_format_shows_the_mentions(site: LocalSite, tmp_path: Path, runner: CliRunner) -> None:
    url = site.add("/atom.xml", ATOM, content_type="application/atom+xml")
    config = write_config(tmp_path, f"  - name: news\n    feed: {url}\n")
    result = runner.invoke(app, ["scan", "-c", str(config), "--no-state", "--format", "table"])
    assert result.exit_code == 0
    assert "globex" in result.stdout and "acme" in result.stdout
    assert "\x1b[" not in result.stdout


def test_a_failing_source_exits_1_and_the_others_are_written(site: LocalSite, tmp_path: Path) -> None:
    good = site.add("/atom.xml", ATOM, content_type="application/atom+xml")
    broken = site.add("/down.xml", "oops", status=503, content_type="text/plain")
    html = site.add("/notafeed", "<html><body><p>Hello</p></body></html>")
    sources = (f"  - name: good\n    feed: {good}\n  - name: down\n    feed: {broken}\n"
               f"  - name: html\n    feed: {html}\n  - name: missing\n    file: nowhere.txt\n")
    config = write_config(tmp_path, sources)
    result = run_cli("scan", "-c", str(config), "--no-state")
    assert result.returncode == 1
    assert {r["source"] for r in jsonl(result.stdout.decode())} == {"good"}
    stderr = result.stderr.decode()
    assert "'down' failed" in stderr and "503" in stderr
    assert "'html' failed: not a feed" in stderr
    assert "'missing' failed" in stderr
    assert "Traceback" not in stderr


def test_failure_is_named_once_until_it_changes(site: LocalSite, tmp_path: Path) -> None:
    broken = site.add("/down.xml", "oops", status=503, content_type="text/plain")
    config = write_config(tmp_path, f"  - name: down\n    feed: {broken}\n")
    first = run_cli("scan", "-c", str(config))
    second = run_cli("scan", "-c", str(config))
    verbose = run_cli("scan", "-c", str(config), "-v")
    assert first.returncode == second.returncode == 1
    assert b"'down' failed" in first.stderr
    assert b"'down' failed" not in second.stderr
    assert b"'down' failed" in verbose.stderr
    site.add("/down.xml", ATOM, content_type="application/atom+xml")
    recovered = run_cli("scan", "-c", str(config), "--force")  # three failures: it is backing off
    assert recovered.returncode == 0
    assert b"works again" in recovered.stderr


def test_a_retry_after_counting_down_is_the_same_failure(site: LocalSite, tmp_path: Path) -> None:
    """"HTTP 503, retry after 3599 s" and then "3598 s" is one failure: named once, not on
    every cron run."""
    from email.utils import formatdate

    until = formatdate(time.time() + 3600, usegmt=True)  # a date: the seconds left count down
    broken = site.add("/down.xml", "maintenance", status=503, content_type="text/plain",
                      headers={"Retry-After": until})
    config = write_config(tmp_path, f"  - name: down\n    feed: {broken}\n")
    first = run_cli("scan", "-c", str(config))
    time.sleep(1.1)  # the next run computes fewer seconds left (not a timing assertion)
    second = run_cli("scan", "-c", str(config))
    assert first.returncode == second.returncode == 1
    assert b"'down' failed" in first.stderr and b"retry after" in first.stderr
    assert b"'down' failed" not in second.stderr


def test_a_failure_whose_numbers_change_is_the_same_failure_but_another_status_is_not() -> None:
    """Stack Exchange says "more requests available in 80621 seconds", one less each run: a
    cron job's mail repeated the failure on every run. A new HTTP status is news."""
    from mentions.pipeline import is_same_failure

    throttled = "http status: HTTP 400: too many requests from this IP, more requests available in {} seconds"
    assert is_same_failure(throttled.format(80621), throttled.format(79721))
    assert not is_same_failure("http status: HTTP 404", "http status: HTTP 503")


def test_another_status_of_the_same_class_is_named(site: LocalSite, tmp_path: Path) -> None:
    """503 and then 500: only the status's first digit was compared ("HTTP 5#"), so a cron job
    never heard that the failure had changed."""
    broken = site.add("/down.xml", "busy", status=503, content_type="text/plain")
    config = write_config(tmp_path, f"  - name: down\n    feed: {broken}\n")
    first = run_cli("scan", "-c", str(config))
    site.add("/down.xml", "crashed", status=500, content_type="text/plain")
    second = run_cli("scan", "-c", str(config))
    assert first.returncode == second.returncode == 1
    assert b"'down' failed" in first.stderr and b"503" in first.stderr
    assert b"'down' failed" in second.stderr and b"500" in second.stderr, second.stderr


def test_stdout_carries_only_data_when_piped(site: LocalSite, tmp_path: Path) -> None:
    url = site.add("/atom.xml", ATOM, content_type="application/atom+xml")
    config = write_config(tmp_path, f"  - name: news\n    feed: {url}\n")
    result = run_cli("scan", "-c", str(config), "--no-state")
    assert result.returncode == 0
    assert all(json.loads(line) for line in result.stdout.decode().splitlines())
    assert result.stderr == b""  # no summary or progress when stderr is not a terminal


def test_closed_pipe_ends_quietly_and_unwritten_mentions_come_next_time(site: LocalSite, tmp_path: Path) -> None:
    url = site.add("/feed.xml", blog_feed(site.base, count=400), content_type="application/rss+xml")
    config = write_config(tmp_path, f"  - name: blog\n    feed: {url}\n")
    environment = dict(os.environ, PYTHONPATH=str(REPO), NO_COLOR="1")
    scan = subprocess.Popen([sys.executable, "-m", "mentions", "scan", "-c", str(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment)
    assert scan.stdout is not None and scan.stderr is not None
    first_line = scan.stdout.readline()
    scan.stdout.close()
    error = scan.stderr.read()
    scan.stderr.close()
    assert scan.wait(timeout=60) == 0
    assert b"Traceback" not in error and b"Broken pipe" not in error
    assert json.loads(first_line)["keyword"] == "acme"
    rest = run_cli("scan", "-c", str(config))
    ids = {json.loads(line)["id"] for line in rest.stdout.decode().splitlines()}
    # Lines that reached the pipe's buffer count as written; everything else comes now.
    assert ids and json.loads(first_line)["id"] not in ids
    with sqlite3.connect(tmp_path / "state.db") as db:
        assert db.execute("SELECT count(*) FROM mentions").fetchone()[0] == 399


def test_interrupt_exits_130(site: LocalSite, tmp_path: Path) -> None:
    url = site.add("/slow.xml", ATOM, content_type="application/atom+xml", delay=5)
    config = write_config(tmp_path, f"  - name: slow\n    feed: {url}\n")
    environment = dict(os.environ, PYTHONPATH=str(REPO), NO_COLOR="1")
    scan = subprocess.Popen([sys.executable, "-m", "mentions", "scan", "-c", str(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment)
    while not site.requests["/slow.xml"]:
        if scan.poll() is not None:
            pytest.fail("scan ended before it fetched")
    scan.send_signal(signal.SIGINT)
    _, error = scan.communicate(timeout=30)
    assert scan.returncode == 130
    assert b"Traceback" not in error


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_a_stopped_scan_leaves_its_json_array_closed_and_appendable(
    site: LocalSite, tmp_path: Path, stop: int
) -> None:
    """`-o FILE --format json` stopped mid-scan: what was written is complete, the array
    closed, and the next run appends to it (a file left open was refused for good)."""
    fast = site.add("/fast.xml", blog_feed(site.base, count=4), content_type="application/rss+xml")
    slow = site.add("/slow.xml", ATOM, content_type="application/atom+xml", delay=10)
    config = write_config(tmp_path, f"  - name: fast\n    feed: {fast}\n  - name: slow\n    feed: {slow}\n")
    out = tmp_path / "out.json"
    environment = dict(os.environ, PYTHONPATH=str(REPO), NO_COLOR="1")
    scan = subprocess.Popen([sys.executable, "-m", "mentions", "scan", "-c", str(config), "--no-state",
                             "--format", "json", "-o", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment)
    deadline = time.monotonic() + 30
    while not (out.exists() and b"{" in out.read_bytes()) and time.monotonic() < deadline:
        time.sleep(0.05)
    scan.send_signal(stop)
    _, error = scan.communicate(timeout=30)
    assert scan.returncode == (130 if stop == signal.SIGINT else 143), error
    written = json.loads(out.read_text())
    assert written and all(record["source"] == "fast" for record in written)
    site.add("/slow.xml", ATOM, content_type="application/atom+xml")
    again = run_cli("scan", "-c", str(config), "--no-state", "--format", "json", "-o", str(out))
    assert again.returncode == 0, again.stderr
    assert len(json.loads(out.read_text())) > len(written)


def test_an_array_a_killed_scan_left_open_goes_on(tmp_path: Path) -> None:
    from mentions.output import JsonArrayWriter, reopen_json_array

    out = tmp_path / "out.json"
    out.write_text('[\n{"id": 1},\n{"id": 2}')  # `kill -9` after the second record
    continues = reopen_json_array(out)
    with out.open("a", encoding="utf-8") as stream:
        JsonArrayWriter(stream, continues=continues).close()
    assert json.loads(out.read_text()) == [{"id": 1}, {"id": 2}]


def test_sigterm_ends_cleanly_and_what_was_written_is_recorded(site: LocalSite, tmp_path: Path) -> None:
    """`timeout 60 mentions scan` from cron: the lines out before the stop stay recorded."""
    fast = site.add("/fast.xml", blog_feed(site.base, count=4), content_type="application/rss+xml")
    slow = site.add("/slow.xml", ATOM, content_type="application/atom+xml", delay=10)
    config = write_config(tmp_path, f"  - name: fast\n    feed: {fast}\n  - name: slow\n    feed: {slow}\n")
    environment = dict(os.environ, PYTHONPATH=str(REPO), NO_COLOR="1")
    scan = subprocess.Popen([sys.executable, "-m", "mentions", "scan", "-c", str(config), "--format", "jsonl"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment)
    assert scan.stdout is not None
    written = [json.loads(scan.stdout.readline())["id"] for _ in range(3)]
    # The scan now waits for the slow source (5 s until its timeout); while it waits, what
    # it wrote is committed: another reader of the state, such as `mentions history`, sees it.
    deadline = time.monotonic() + 3
    recorded: set[str] = set()
    while time.monotonic() < deadline and not set(written) <= recorded:
        with sqlite3.connect(tmp_path / "state.db") as db:
            recorded = {row[0] for row in db.execute("SELECT id FROM mentions")}
        time.sleep(0.05)
    assert set(written) <= recorded
    scan.send_signal(signal.SIGTERM)
    _, error = scan.communicate(timeout=30)
    assert scan.returncode == 143
    assert b"Traceback" not in error
    with sqlite3.connect(tmp_path / "state.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert set(written) <= {row[0] for row in db.execute("SELECT id FROM mentions")}


def test_keyword_and_source_selection(site: LocalSite, tmp_path: Path, runner: CliRunner) -> None:
    atom = site.add("/atom.xml", ATOM, content_type="application/atom+xml")
    feed = site.add("/feed.xml", blog_feed(site.base), content_type="application/rss+xml")
    config = write_config(tmp_path, f"  - name: news\n    feed: {atom}\n  - name: blog\n    feed: {feed}\n")
    only_globex = jsonl(runner.invoke(app, ["scan", "-c", str(config), "--no-state", "--keyword", "globex"]).stdout)
    assert {r["keyword"] for r in only_globex} == {"globex"}
    only_blog = jsonl(runner.invoke(app, ["scan", "-c", str(config), "--no-state", "--source", "blog"]).stdout)
    assert {r["source"] for r in only_blog} == {"blog"}
    unknown = runner.invoke(app, ["scan", "-c", str(config), "--source", "nope"])
    assert unknown.exit_code == 2 and "no such source" in unknown.output


def test_since_skips_older_documents(site: LocalSite, tmp_path: Path, runner: CliRunner) -> None:
    url = site.add("/feed.xml", blog_feed(site.base), content_type="application/rss+xml")
    config = write_config(tmp_path, f"  - name: blog\n    feed: {url}\n")
    newer = runner.invoke(app, ["scan", "-c", str(config), "--no-state", "--since", "2026-11-26"])
    assert jsonl(newer.stdout) == []
    older = runner.invoke(app, ["scan", "-c", str(config), "--no-state", "--since", "2026-11-24"])
    assert len(jsonl(older.stdout)) == 1
    bad = runner.invoke(app, ["scan", "-c", str(config), "--since", "last tuesday"])
    assert bad.exit_code == 2 and "--since" in bad.output


def test_syndicated_document_is_reported_once(site: LocalSite, tmp_path: Path, runner: CliRunner) -> None:
    first = site.add("/a.xml", blog_feed("https://blog.example"), content_type="application/rss+xml")
    second = site.add("/b.xml", blog_feed("https://BLOG.example"), content_type="application/rss+xml")
    config = write_config(tmp_path, f"  - name: a\n    feed: {first}\n  - name: b\n    feed: {second}\n")
    records = jsonl(runner.invoke(app, ["scan", "-c", str(config)]).stdout)
    assert len(records) == 1


def test_demo_config_runs_offline(tmp_path: Path) -> None:
    result = run_cli("scan", "-c", str(REPO / "examples" / "demo.yaml"), "--no-state", "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    records = jsonl(result.stdout.decode())
    sources = {r["source"] for r in records}
    assert sources == {"laufblog", "laufblog-kommentare", "laufforum", "bewertungen", "support-notizen"}
    # "Acme Street" is excluded, and the sidebar/footer of the forum are not posts.
    assert not any("Acme Street" in r["snippet"] for r in records if r["keyword"] == "acme")


def test_version_help_and_python_m() -> None:
    version = run_cli("--version")
    assert version.returncode == 0 and version.stdout.decode().startswith("mentions ")
    for command in ("scan", "check", "schema"):
        helped = run_cli(command, "--help")
        assert helped.returncode == 0
        assert "Example:" in helped.stdout.decode()


@pytest.mark.parametrize("workers", ["0", "2"])  # on the main thread, and in worker processes
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_runaway_regex_does_not_keep_a_stopped_scan_alive(tmp_path: Path, workers: str, stop: int) -> None:
    """`/(a|aa)+$/` on 42 a's backtracks for minutes; `timeout` or Ctrl-C still ends the scan."""
    (tmp_path / "slow.txt").write_text("a" * 42 + "!", encoding="utf-8")
    sources = "  - name: slow\n    file: slow.txt\n"
    for number in range(17):  # enough sources for worker processes
        (tmp_path / f"plain{number}.txt").write_text(f"plain text {number}", encoding="utf-8")
        sources += f"  - name: plain{number}\n    file: plain{number}.txt\n"
    config = tmp_path / "mentions.yaml"
    config.write_text(
        "version: 1\nkeywords:\n  - name: slow\n    query: '/(a|aa)+$/'\n"
        f"sources:\n{sources}", encoding="utf-8",
    )
    environment = dict(os.environ, PYTHONPATH=str(REPO), NO_COLOR="1", MENTIONS_WORKERS=workers)
    # A session of its own: whatever happens, the test kills the scan and its workers.
    scan = subprocess.Popen([sys.executable, "-m", "mentions", "scan", "-c", str(config), "--no-state"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment,
                            start_new_session=True)
    try:
        time.sleep(2)  # well inside the regex by now
        assert scan.poll() is None
        scan.send_signal(stop)
        _, error = scan.communicate(timeout=20)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(scan.pid, signal.SIGKILL)
    assert scan.returncode == (143 if stop == signal.SIGTERM else 130)
    assert b"Traceback" not in error
    # No worker is left behind, still backtracking (a forked worker has the scan's command line).
    time.sleep(0.5)
    leftovers = [p for p in Path("/proc").glob("[0-9]*/cmdline") if _reads(p).count(str(config).encode())]
    assert leftovers == []


def _reads(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:  # the process ended meanwhile
        return b""


def test_force_color_with_progress_into_a_log_file_gives_plain_lines(site: LocalSite, tmp_path: Path) -> None:
    """docs/ux.md: with --progress and a stderr that is no terminal every finished source gets
    one plain line; FORCE_COLOR (which Rich takes for a terminal) only turns colours on."""
    first = site.add("/a.xml", blog_feed(site.base), content_type="application/rss+xml")
    second = site.add("/b.xml", blog_feed(site.base), content_type="application/rss+xml")
    config = write_config(tmp_path, f"  - name: fa\n    feed: {first}\n  - name: fb\n    feed: {second}\n")
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    environment.update(PYTHONPATH=str(REPO), FORCE_COLOR="1", TERM="xterm-256color")
    log = tmp_path / "progress.log"
    with log.open("wb") as stderr:
        scan = subprocess.run([sys.executable, "-m", "mentions", "scan", "-c", str(config), "--no-state",
                               "--format", "jsonl", "--progress"],
                              stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL, env=environment,
                              timeout=60, check=False)
    assert scan.returncode == 0
    written = log.read_bytes()
    assert b"\x1b[?25l" not in written and b"\r" not in written and b"\x1b[2K" not in written
    lines = written.decode().splitlines()
    assert sorted(line.split("] ")[1].split(":")[0] for line in lines if line.startswith("mentions: [")) == ["fa", "fb"]
    assert any(line.startswith("mentions: [2/2] ") for line in lines)
    assert lines[-1].startswith("2 sources ok, 0 failed")


@pytest.mark.parametrize("no_color", ["", "1"])
def test_no_color_on_a_terminal_means_no_control_codes(site: LocalSite, tmp_path: Path, no_color: str) -> None:
    """SPEC: NO_COLOR gets no colour or control codes: no bold, no links, no redrawn bar."""
    url = site.add("/feed.xml", blog_feed(site.base), content_type="application/rss+xml")
    config = write_config(tmp_path, f"  - name: blog\n    feed: {url}\n")
    environment = dict(os.environ, PYTHONPATH=str(REPO), TERM="xterm-256color", COLUMNS="120")
    environment.pop("NO_COLOR", None)
    if no_color:
        environment["NO_COLOR"] = no_color
    code, shown, _ = run_on_terminal(["scan", "-c", str(config), "--no-state"], environment, stderr_too=True)
    assert code == 0
    assert b"Acme" in shown  # the table came out on the terminal
    if no_color:
        assert b"\x1b" not in shown
    else:  # the same terminal without NO_COLOR does get styles: the check above can fail
        assert b"\x1b[" in shown
