"""`mentions discover URL` against a local blog, and `mentions test-source NAME`."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from mentions.cli import app
from tests.conftest import run_cli
from tests.localsite import LocalSite
from tests.scanning import write_config

HOME = """<!doctype html><html lang="de"><head><title>Laufblog</title>
<link rel="alternate" type="application/rss+xml" title="Laufblog &raquo; Feed" href="/feed/">
<link rel="alternate" type="application/rss+xml" title="Laufblog &raquo; Kommentare"
      href="/comments/feed/">
<link rel="alternate" type="application/json" href="/wp-json/">
<link rel="stylesheet" href="/style.css"></head><body><h1>Laufblog</h1></body></html>"""

RSS = """<?xml version="1.0"?><rss version="2.0" xmlns:wfw="http://wellformedweb.org/CommentAPI/"><channel>
<title>{title}</title><link>http://blog/</link>
<item><title>Post</title><link>http://blog/p</link><wfw:commentRss>http://blog/p/feed/</wfw:commentRss></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>\x1b[31mRed\x1b[0m notes</title><id>urn:x</id><updated>2026-11-01T00:00:00Z</updated>
<entry><title>a</title><id>urn:a</id><updated>2026-11-01T00:00:00Z</updated></entry></feed>"""


def _blog(site: LocalSite) -> None:
    site.add("/", HOME)
    site.add("/feed/", RSS.format(title="Laufblog"), content_type="application/rss+xml")
    comments = RSS.format(title="Kommentare für Laufblog")
    comments = comments.replace("<wfw:commentRss>http://blog/p/feed/</wfw:commentRss>", "")
    site.add("/comments/feed/", comments, content_type="application/rss+xml")
    site.add("/atom.xml", ATOM, content_type="application/atom+xml")
    site.add("/robots.txt", f"User-agent: *\nDisallow: /wp-admin/\nSitemap: {site.base}/wp-sitemap.xml\n",
             content_type="text/plain")
    site.add("/wp-sitemap.xml", '<?xml version="1.0"?><sitemapindex><sitemap><loc>'
             f"{site.base}/wp-sitemap-posts-post-1.xml</loc></sitemap></sitemapindex>",
             content_type="application/xml")
    site.add("/feed.json", json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "JSON",
                                       "items": [{"id": "1", "content_text": "x"}]}),
             content_type="application/feed+json")
    site.add("/rss", "<html><body>Not a feed, just a page</body></html>")


def test_discover_prints_working_snippets(site: LocalSite) -> None:
    _blog(site)
    result = CliRunner().invoke(app, ["discover", site.url("/")])
    assert result.exit_code == 0, result.stderr
    sources = yaml.safe_load(result.stdout)
    by_url = {s.get("feed") or s.get("sitemap"): s for s in sources}
    assert set(by_url) == {
        site.url("/feed/"), site.url("/comments/feed/"), site.url("/atom.xml"), site.url("/feed.json"),
        site.url("/wp-sitemap.xml"),
    }
    assert by_url[site.url("/feed/")] == {"name": "127-0-0-1", "feed": site.url("/feed/"), "comments": True}
    assert by_url[site.url("/comments/feed/")]["name"] == "127-0-0-1-comments"
    assert by_url[site.url("/wp-sitemap.xml")]["name"] == "127-0-0-1-sitemap"
    assert "via link rel=alternate" in result.stdout and "via robots.txt" in result.stdout
    assert "\x1b" not in result.stdout and "Red notes" in result.stdout
    assert site.requests["/wp-json/"] == 0


def test_a_page_nested_100000_deep_still_announces_its_feed(site: LocalSite) -> None:
    """`discover` parses pages as the scan does, with its depth limit (lexbor alone took 22 s
    on this page): the feed its head announces is found."""
    site.add("/", '<!doctype html><html><head><link rel="alternate" type="application/rss+xml" '
                  'href="/feed/"></head><body>' + "<div>" * 100_000 + "</body></html>")
    site.add("/feed/", RSS.format(title="Tief"), content_type="application/rss+xml")
    result = CliRunner().invoke(app, ["discover", site.url("/")])
    assert result.exit_code == 0, result.stderr
    assert [source["feed"] for source in yaml.safe_load(result.stdout)] == [site.url("/feed/")]


@pytest.mark.parametrize("bad", ["http://[bad", "http://[127.0.0.1]/feed"])
def test_a_link_that_is_no_url_is_skipped_and_the_others_are_printed(site: LocalSite, bad: str) -> None:
    """`urljoin` raises on these: one such link, on the page or in robots.txt, was an internal
    error that hid every feed found."""
    site.add("/", f"""<!doctype html><html><head>
<link rel="alternate" type="application/rss+xml" href="{bad}">
<link rel="alternate" type="application/rss+xml" href="/feed/"></head></html>""")
    site.add("/feed/", RSS.format(title="Laufblog"), content_type="application/rss+xml")
    site.add("/robots.txt", f"Sitemap: {bad}\nSitemap: {site.base}/posts.xml\n", content_type="text/plain")
    site.add("/posts.xml", f'<?xml version="1.0"?><urlset><url><loc>{site.base}/p</loc></url></urlset>',
             content_type="application/xml")
    result = CliRunner().invoke(app, ["discover", site.url("/")])
    assert result.exit_code == 0, result.stderr
    sources = yaml.safe_load(result.stdout)
    assert [s.get("feed") or s.get("sitemap") for s in sources] == [site.url("/feed/"), site.url("/posts.xml")]
    assert result.stderr == ""


def test_discover_snippet_is_a_valid_config(site: LocalSite, tmp_path: Path) -> None:
    _blog(site)
    snippet = CliRunner().invoke(app, ["discover", site.url("/")]).stdout
    config = tmp_path / "m.yaml"
    config.write_text("version: 1\nkeywords:\n  - name: a\n    terms: [Acme]\nsources:\n" + snippet,
                      encoding="utf-8")
    result = CliRunner().invoke(app, ["check", "-c", str(config)])
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("ending", ["init", "a sources list"])
def test_the_help_example_appends_sources_to_a_config(site: LocalSite, tmp_path: Path, ending: str) -> None:
    """`mentions discover URL >> mentions.yaml`, the example of its --help, printed a
    `sources:` of its own: every config has one already, so the result was always refused
    (`duplicate key 'sources'`)."""
    site.add("/", HOME.replace('href="/comments/feed/"', 'href="/nothing/"'))
    site.add("/feed/", RSS.format(title="Laufblog"), content_type="application/rss+xml")
    config = tmp_path / "mentions.yaml"
    if ending == "init":
        assert run_cli("init", "--brand", "Acme", cwd=tmp_path).returncode == 0
    else:
        config.write_text("version: 1\nkeywords:\n  - name: acme\n    terms: [Acme]\nsources:\n"
                          "  - name: news\n    feed: https://news.example.org/feed\n", encoding="utf-8")
    discovered = run_cli("discover", site.url("/"))
    assert discovered.returncode == 0, discovered.stderr
    with config.open("ab") as appended:  # >> mentions.yaml
        appended.write(discovered.stdout)
    checked = run_cli("check", cwd=tmp_path)
    assert checked.returncode == 0, config.read_text() + checked.stderr.decode()
    listed = run_cli("sources", "--format", "jsonl", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    sources = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [source["name"] for source in sources] == ["news", "127-0-0-1"]
    assert sources[1]["kind"] == "feed" and sources[1]["status"] == "never fetched"


def test_discover_nothing_found(site: LocalSite) -> None:
    site.add("/", "<html><body>Plain site</body></html>")
    result = CliRunner().invoke(app, ["discover", site.url("/")])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "no feed or sitemap found" in result.stderr


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_site_that_cannot_be_reached_is_said_so_in_one_sentence() -> None:
    """It was named, then followed by advice that a `page:` source "can still read it"."""
    url = f"http://127.0.0.1:{_closed_port()}/"
    result = CliRunner().invoke(app, ["discover", url])
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"mentions: cannot fetch {url}: connection failed: connection refused\n"


def test_a_proxy_that_cannot_be_reached_is_named_without_library_detail() -> None:
    """A scheme-less host through a proxy that refuses showed aiohttp's own words
    (`Cannot connect to host … ssl:default [None]`)."""
    proxy = f"127.0.0.1:{_closed_port()}"
    result = run_cli("discover", "blog.example.org", env={"HTTPS_PROXY": f"http://{proxy}", "NO_PROXY": ""})
    assert (result.returncode, result.stdout) == (1, b"")
    assert result.stderr.decode() == (
        f"mentions: cannot fetch https://blog.example.org: connection failed: proxy: cannot connect to {proxy} "
        "(connection refused)\n")


def test_discover_a_feed_url_and_reddit_like_paths(site: LocalSite) -> None:
    site.add("/r/running/.rss", ATOM, content_type="application/atom+xml")
    result = CliRunner().invoke(app, ["discover", site.url("/r/running/")])
    assert result.exit_code == 0, result.stderr
    assert site.url("/r/running/.rss") in result.stdout
    result = CliRunner().invoke(app, ["discover", site.url("/r/running/.rss")])
    assert "via the URL itself" in result.stdout


def test_discover_rejects_other_schemes() -> None:
    result = CliRunner().invoke(app, ["discover", "ftp://example.org/"])
    assert result.exit_code == 2
    assert "http or https" in result.stderr


FORUM = """<html lang="de"><body>
<div class="post" id="p1"><span class="user">laufmaus</span>
  <time datetime="2026-11-20T18:12:00Z">20.11.</time>
  <div class="body">Hat jemand den Acme Runner X? \x1b]0;pwned\x07 Meinungen?</div></div>
<div class="post" id="p2"><span class="user">km</span><div class="body">Nimm lieber Globex.</div></div>
</body></html>"""


def test_test_source_shows_documents_and_matches(site: LocalSite, tmp_path: Path) -> None:
    site.add("/thread", FORUM)
    config = write_config(tmp_path, f"""  - name: forum
    page: {site.url('/thread')}
    items: div.post
    fields: {{text: .body, author: .user, date: "time@datetime"}}
    enabled: false
""")
    result = CliRunner().invoke(app, ["test-source", "forum", "-c", str(config)])
    assert result.exit_code == 0, result.stderr
    assert "author: laufmaus" in result.stdout
    assert "date:    2026-11-20T18:12:00Z" in result.stdout
    assert "matches: acme (Acme)" in result.stdout
    assert "matches: none" in result.stdout
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "2 documents" in result.stderr

    args = ["test-source", "forum", "-c", str(config), "--format", "jsonl", "-n", "1"]
    result = CliRunner().invoke(app, args)
    [record] = [json.loads(line) for line in result.stdout.splitlines()]
    assert record["author"] == "laufmaus" and record["matches"][0]["keyword"] == "acme"
    assert record["lang"] == "de"


def test_test_source_count_belongs_to_the_keyword_not_its_last_term(site: LocalSite, tmp_path: Path) -> None:
    """`acme (Acme GmbH, Acme ×3)` read as three hits of `Acme`; the count is the keyword's."""
    site.add("/page", "<html><body><main><p>Acme GmbH builds shoes. Acme sells them, and Acme"
                      " ships them.</p></main></body></html>")
    config = write_config(tmp_path, f"  - name: shop\n    page: {site.url('/page')}\n",
                          keywords='  - name: acme\n    terms: [Acme, "Acme GmbH"]\n')
    result = CliRunner().invoke(app, ["test-source", "shop", "-c", str(config)])
    assert result.exit_code == 0, result.stderr
    assert "matches: acme ×3 (Acme GmbH, Acme)\n" in result.stdout


def test_test_source_errors(site: LocalSite, tmp_path: Path) -> None:
    config = write_config(tmp_path, f"  - name: forum\n    page: {site.url('/missing')}\n")
    result = CliRunner().invoke(app, ["test-source", "forun", "-c", str(config)])
    assert result.exit_code == 2 and "did you mean 'forum'" in result.stderr
    result = CliRunner().invoke(app, ["test-source", "forum", "-c", str(config)])
    assert result.exit_code == 1 and "HTTP 404" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("url", ["not a url", "https://", "ftp://example.org/"])
def test_a_url_discover_cannot_use_is_a_usage_error(url: str) -> None:
    result = CliRunner().invoke(app, ["discover", url])
    assert result.exit_code == 2
    assert result.stderr.startswith("mentions: ") and len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("label", ["idna", "undefined", "cp037"])
def test_a_charset_that_is_no_web_encoding_is_ignored(site: LocalSite, label: str) -> None:
    """`charset=idna` crashed discover with "internal error"; it counts as no charset."""
    site.add("/", HOME, content_type=f"text/html; charset={label}")
    site.add("/feed/", RSS.format(title="Laufblog f&#252;r L&#228;ufer"),  # ASCII: the label is used
             content_type=f"application/rss+xml; charset={label}")
    result = CliRunner().invoke(app, ["discover", site.url("/")])
    assert result.exit_code == 0, result.stderr
    assert "internal error" not in result.stderr
    assert "'Laufblog für Läufer'" in result.stdout


def test_a_login_in_the_url_is_not_printed_and_reaches_the_linked_feeds(site: LocalSite) -> None:
    """The snippet header shows the URL without `alice:hunter22@`; the feeds the protected
    page links to are fetched with its login (same origin), so they are found."""
    home = HOME.replace('href="/feed/"', 'href="/private/feed/"')
    site.add("/", home, login="alice:hunter22")
    site.add("/private/feed/", RSS.format(title="Privat"), content_type="application/rss+xml",
             login="alice:hunter22")
    url = site.url("/").replace("http://", "http://alice:hunter22@")
    result = CliRunner().invoke(app, ["discover", url])
    assert result.exit_code == 0, result.stderr
    assert "hunter22" not in result.stdout and "alice" not in result.stdout
    assert f"# sources found on {site.url('/')}:" in result.stdout
    assert "'Privat'" in result.stdout and "via link rel=alternate" in result.stdout


def test_a_login_is_not_given_to_a_linked_feed_on_another_origin() -> None:
    from mentions.discover import _with_login

    site = "http://alice:hunter22@blog.example/"
    assert _with_login("http://blog.example/feed/", site) == "http://alice:hunter22@blog.example/feed/"
    assert _with_login("http://other.example/feed/", site) == "http://other.example/feed/"
    assert _with_login("https://blog.example/feed/", site) == "https://blog.example/feed/"


def test_nothing_found_on_a_url_with_a_login_does_not_show_it(site: LocalSite) -> None:
    site.add("/", "<html><body>nothing here</body></html>")
    result = CliRunner().invoke(app, ["discover", site.url("/").replace("http://", "http://alice:hunter22@")])
    assert result.exit_code != 0
    assert "hunter22" not in result.stdout + result.stderr and "no feed or sitemap found" in result.stderr
