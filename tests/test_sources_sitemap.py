"""`sitemap:` sources: newest pages first, then only what changed since the last run."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mentions.errors import FetchError
from mentions.sources.sitemap import Entry, choose, parse_sitemap
from tests.localsite import LocalSite
from tests.scanning import scan, write_config


def urlset(entries: list[tuple[str, str | None]]) -> str:
    rows = "".join(
        f"<url><loc>{loc}</loc>{f'<lastmod>{mod}</lastmod>' if mod else ''}</url>" for loc, mod in entries
    )
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{rows}</urlset>'


def article(title: str, text: str) -> str:
    return (f"<html lang='de'><head><title>{title}</title></head><body><nav>Menü Acme-Shop</nav>"
            f"<main><h1>{title}</h1><p>{text}</p></main></body></html>")


def test_first_run_newest_pages_then_only_changed(site: LocalSite, tmp_path: Path) -> None:
    for number in range(1, 4):
        site.add(f"/blog/{number}", article(f"Beitrag {number}", f"Heute über Acme, Teil {number}."))
    entries = [(site.url(f"/blog/{n}"), f"2026-01-0{n}T10:00:00Z") for n in range(1, 4)]
    site.add("/sitemap.xml", urlset(entries), content_type="application/xml")
    config = write_config(
        tmp_path, f"  - name: blog\n    sitemap: {site.url('/sitemap.xml')}\n    max_pages: 2\n"
    )
    state = str(tmp_path / "state.db")

    result, records = scan(config, "--state", state)
    assert result.exit_code == 0, result.stderr
    assert sorted(r["url"] for r in records) == [site.url("/blog/2"), site.url("/blog/3")]
    assert site.requests["/blog/1"] == 0
    assert all(r["source_type"] == "sitemap" and r["lang"] == "de" for r in records)

    fresh = (datetime.now(UTC) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    site.add("/blog/4", article("Beitrag 4", "Neu: Acme GmbH antwortet."))
    site.add("/sitemap.xml", urlset([*entries, (site.url("/blog/4"), fresh)]), content_type="application/xml")
    result, records = scan(config, "--state", state)
    assert result.exit_code == 0, result.stderr
    assert [r["url"] for r in records] == [site.url("/blog/4")]
    assert site.requests["/blog/3"] == 1 and site.requests["/blog/1"] == 0


def test_index_gzip_children_and_gone_pages(site: LocalSite, tmp_path: Path) -> None:
    site.add("/a", article("A", "Acme im Test."))
    child = urlset([(site.url("/a"), "2026-11-01"), (site.url("/gone"), "2026-11-02")])
    site.add("/sitemap-posts.xml.gz", gzip.compress(child.encode()), content_type="application/x-gzip")
    index = (
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{site.url('/sitemap-posts.xml.gz')}</loc><lastmod>2026-11-02</lastmod></sitemap>"
        f"<sitemap><loc>{site.url('/missing.xml')}</loc></sitemap>"
        "</sitemapindex>"
    )
    site.add("/sitemap_index.xml", index, content_type="application/xml")
    site.add("/missing.xml", urlset([]), content_type="application/xml")
    config = write_config(tmp_path, f"  - name: s\n    sitemap: {site.url('/sitemap_index.xml')}\n")
    result, records = scan(config, "--no-state")
    assert result.exit_code == 0, result.stderr
    assert [r["url"] for r in records] == [site.url("/a")]
    assert site.requests["/gone"] == 1


def test_not_a_sitemap_fails_the_source(site: LocalSite, tmp_path: Path) -> None:
    site.add("/sitemap.xml", "<html><body>Welcome</body></html>")
    config = write_config(tmp_path, f"  - name: s\n    sitemap: {site.url('/sitemap.xml')}\n")
    result, _ = scan(config, "--no-state")
    assert result.exit_code == 1
    assert "not a sitemap" in result.stderr


def test_parse_sitemap_is_lenient_and_bounded() -> None:
    body = (b'<?xml version="1.0"?><urlset><url><loc> https://a.example/x?a=1&amp;b=2 </loc>'
            b"<lastmod>2026-11-20</lastmod></url><url><loc><![CDATA[/relative]]></loc></url>"
            b"<url><loc>javascript:alert(1)</loc></url><url><lastmod>2026</lastmod></url>")
    entries = parse_sitemap(body, "https://a.example/sitemap.xml")
    assert [e.url for e in entries] == ["https://a.example/x?a=1&b=2", "https://a.example/relative"]
    assert entries[0].lastmod is not None and entries[1].lastmod is None
    with pytest.raises(FetchError, match="compression"):
        parse_sitemap(b"\x1f\x8b broken", "https://a.example/s.xml.gz")


def test_choose_takes_the_newest_pages_and_the_undated_last() -> None:
    entries = [
        Entry("https://a.example/same-day", datetime(2026, 11, 20, tzinfo=UTC), False),
        Entry("https://a.example/old", datetime(2026, 11, 19, 23, 0, tzinfo=UTC), False),
        Entry("https://a.example/new", datetime(2026, 11, 21, tzinfo=UTC), False),
        Entry("https://a.example/undated", None, False),
    ]
    assert [e.url for e in choose(entries, 2)] == ["https://a.example/new", "https://a.example/same-day"]
    assert choose(entries, 10)[-1].url == "https://a.example/undated"


def test_a_broken_location_costs_only_that_entry() -> None:
    body = (b"<urlset><url><loc>http://[oops</loc></url>"
            b"<url><loc>https://a.example/fine</loc></url></urlset>")
    assert [e.url for e in parse_sitemap(body, "https://a.example/sitemap.xml")] == ["https://a.example/fine"]


def test_changed_pages_beyond_max_pages_are_read_on_the_next_run(site: LocalSite, tmp_path: Path) -> None:
    """Four changed pages and `max_pages: 2`: two now, the other two next time, none lost."""
    site.add("/p/0", article("Start", "Acme zum Start."))
    entries = [(site.url("/p/0"), "2026-01-01T10:00:00Z")]
    site.add("/sitemap.xml", urlset(entries), content_type="application/xml")
    config = write_config(tmp_path, f"  - name: blog\n    sitemap: {site.url('/sitemap.xml')}\n    max_pages: 2\n")
    state = str(tmp_path / "state.db")
    assert [r["url"] for r in scan(config, "--state", state)[1]] == [site.url("/p/0")]

    for number in range(1, 5):
        site.add(f"/p/{number}", article(f"Neu {number}", f"Acme, Teil {number}."))
    entries += [(site.url(f"/p/{n}"), f"2026-02-0{n}T10:00:00Z") for n in range(1, 5)]
    site.add("/sitemap.xml", urlset(entries), content_type="application/xml")
    second = sorted(r["url"] for r in scan(config, "--state", state)[1])
    third = sorted(r["url"] for r in scan(config, "--state", state)[1])
    assert second == [site.url("/p/3"), site.url("/p/4")]  # newest first
    assert third == [site.url("/p/1"), site.url("/p/2")]
    assert scan(config, "--state", state)[1] == []
    assert all(site.requests[f"/p/{n}"] == 1 for n in range(5))


def test_a_new_page_with_an_old_lastmod_or_none_is_still_new(site: LocalSite, tmp_path: Path) -> None:
    """Sitemaps are regenerated late, and `<lastmod>` is often the article's date."""
    site.add("/a/1", article("Eins", "Acme eins."))
    site.add("/sitemap.xml", urlset([(site.url("/a/1"), "2026-01-01")]), content_type="application/xml")
    site.add("/plain.xml", urlset([(site.url("/a/1"), None)]), content_type="application/xml")
    config = write_config(tmp_path, f"  - name: dated\n    sitemap: {site.url('/sitemap.xml')}\n"
                                    f"  - name: undated\n    sitemap: {site.url('/plain.xml')}\n")
    state = str(tmp_path / "state.db")
    scan(config, "--state", state)
    site.add("/a/2", article("Zwei", "Globex und Acme."))
    site.add("/a/3", article("Drei", "Acme drei."))
    site.add("/sitemap.xml", urlset([(site.url("/a/1"), "2026-01-01"), (site.url("/a/2"), "2025-06-01")]),
             content_type="application/xml")
    site.add("/plain.xml", urlset([(site.url("/a/1"), None), (site.url("/a/3"), None)]),
             content_type="application/xml")
    result, records = scan(config, "--state", state)
    assert result.exit_code == 0, result.stderr
    assert sorted((r["source"], r["url"]) for r in records) == [
        ("dated", site.url("/a/2")), ("undated", site.url("/a/3"))]


def test_pages_robots_forbids_or_exclude_urls_leave_out_are_skipped_not_failed(
    site: LocalSite, tmp_path: Path
) -> None:
    site.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    site.add("/open/1", article("Offen", "Acme offen."))
    site.add("/private/1", article("Privat", "Acme privat."))
    site.add("/drafts/1", article("Entwurf", "Acme Entwurf."))
    pages = [(site.url(p), "2026-01-01") for p in ("/open/1", "/private/1", "/drafts/1")]
    site.add("/sitemap.xml", urlset(pages), content_type="application/xml")
    config = write_config(tmp_path, f"  - name: blog\n    sitemap: {site.url('/sitemap.xml')}\n"
                                    "    exclude_urls: ['/drafts/']\n")
    config.write_text(config.read_text().replace("robots: false", "robots: true"))
    state = str(tmp_path / "state.db")
    result, records = scan(config, "--state", state)
    assert result.exit_code == 0, result.stderr
    assert [r["url"] for r in records] == [site.url("/open/1")]
    assert site.requests["/private/1"] == 0 and site.requests["/drafts/1"] == 0
    assert scan(config, "--state", state)[0].exit_code == 0


def test_a_page_that_fails_keeps_the_mentions_of_the_pages_read_before(site: LocalSite, tmp_path: Path) -> None:
    site.add("/n/1", article("Neu", "Acme neu."))
    site.add("/n/2", "down for maintenance", status=503)
    pages = [(site.url("/n/1"), "2026-01-02T10:00:00Z"), (site.url("/n/2"), "2026-01-01T10:00:00Z")]
    site.add("/sitemap.xml", urlset(pages), content_type="application/xml")
    config = write_config(tmp_path, f"  - name: blog\n    sitemap: {site.url('/sitemap.xml')}\n")
    state = str(tmp_path / "state.db")
    result, records = scan(config, "--state", state)
    assert result.exit_code == 1
    assert [r["url"] for r in records] == [site.url("/n/1")]
    assert "source 'blog' failed: http status" in result.stderr
    site.add("/n/2", article("Zwei", "Acme zwei."))
    result, records = scan(config, "--state", state)  # the same pages again, nothing twice
    assert result.exit_code == 0, result.stderr
    assert [r["url"] for r in records] == [site.url("/n/2")]


def index_of(*children: str) -> str:
    rows = "".join(f"<sitemap><loc>{child}</loc></sitemap>" for child in children)
    return f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{rows}</sitemapindex>'


def test_an_unchanged_index_still_leads_to_its_changed_children(site: LocalSite, tmp_path: Path) -> None:
    """The index answers 304 run after run; a new page in one of its children must be read."""
    site.add("/a/1", article("Eins", "Acme eins."))
    site.add("/index.xml", index_of(site.url("/child-a.xml"), site.url("/child-b.xml")),
             content_type="application/xml")
    site.add("/child-a.xml", urlset([(site.url("/a/1"), "2026-01-01")]), content_type="application/xml")
    site.add("/child-b.xml", urlset([]), content_type="application/xml")
    config = write_config(tmp_path, f"  - name: idx\n    sitemap: {site.url('/index.xml')}\n")
    state = str(tmp_path / "state.db")
    assert [r["url"] for r in scan(config, "--state", state)[1]] == [site.url("/a/1")]
    site.add("/b/2", article("Zwei", "Acme zwei."))
    site.add("/child-b.xml", urlset([(site.url("/b/2"), "2025-01-01")]), content_type="application/xml")
    result, records = scan(config, "--state", state)
    assert result.exit_code == 0, result.stderr
    assert site.not_modified["/index.xml"] >= 1
    assert [r["url"] for r in records] == [site.url("/b/2")]


def test_runs_that_note_nothing_lose_no_pages_for_the_next_full_run(site: LocalSite, tmp_path: Path) -> None:
    """`--all` and a `--keyword` run read as if nothing was noted, and must not mark pages as
    read that a full run still owes (or has not matched for every keyword)."""
    for number in range(1, 3):
        site.add(f"/p/{number}", article(f"Alt {number}", f"Acme und Globex {number}."))
    pages = [(site.url(f"/p/{n}"), f"2026-01-0{n}T10:00:00Z") for n in range(1, 3)]
    site.add("/sitemap.xml", urlset(pages), content_type="application/xml")
    keywords = "  - name: acme\n    terms: [Acme]\n  - name: globex\n    terms: [Globex]\n"
    config = write_config(tmp_path, f"  - name: blog\n    sitemap: {site.url('/sitemap.xml')}\n    max_pages: 2\n",
                          keywords)
    state = str(tmp_path / "state.db")
    limited = scan(config, "--state", state, "--keyword", "acme")[1]
    assert sorted(r["keyword"] for r in limited) == ["acme", "acme"]
    full = scan(config, "--state", state)[1]
    assert sorted(r["keyword"] for r in full) == ["globex", "globex"]  # the rest of pages 1-2

    for number in range(3, 7):
        site.add(f"/p/{number}", article(f"Neu {number}", f"Acme neu {number}."))
    pages += [(site.url(f"/p/{n}"), f"2026-02-0{n}T10:00:00Z") for n in range(3, 7)]
    site.add("/sitemap.xml", urlset(pages), content_type="application/xml")
    first = scan(config, "--state", state)[1]  # 5 and 6; 3 and 4 are owed
    assert sorted(r["url"] for r in first) == [site.url("/p/5"), site.url("/p/6")]
    scan(config, "--state", state, "--all")
    rest = scan(config, "--state", state)[1]
    assert sorted(r["url"] for r in rest) == [site.url("/p/3"), site.url("/p/4")]


def test_a_renamed_source_sees_the_whole_sitemap_again(site: LocalSite, tmp_path: Path) -> None:
    """Validators are kept by URL: the renamed source's first run got a 304 and noted nothing,
    so a page added later was taken for part of the site as it already was."""
    site.add("/a/1", article("Eins", "Acme eins."))
    site.add("/sitemap.xml", urlset([(site.url("/a/1"), "2026-01-05")]), content_type="application/xml")
    old = write_config(tmp_path, f"  - name: old\n    sitemap: {site.url('/sitemap.xml')}\n")
    state = str(tmp_path / "state.db")
    scan(old, "--state", state)
    new = write_config(tmp_path, f"  - name: new\n    sitemap: {site.url('/sitemap.xml')}\n")
    scan(new, "--state", state)
    site.add("/a/2", article("Zwei", "Acme zwei."))
    site.add("/sitemap.xml", urlset([(site.url("/a/1"), "2026-01-05"), (site.url("/a/2"), "2026-01-01")]),
             content_type="application/xml")
    result, records = scan(new, "--state", state)
    assert result.exit_code == 0, result.stderr
    assert [r["url"] for r in records] == [site.url("/a/2")]



def test_a_page_another_source_read_is_read_again_in_full(site: LocalSite, tmp_path: Path) -> None:
    """A forum thread read post by post (`items:`) and a sitemap listing the thread's page each
    find their mentions. The validators were kept per URL alone: the sitemap's request for the
    page carried the forum source's ETag, got a 304, and the page's mention was never found,
    in the same scan as in a later one."""
    site.add("/forum/1", "<html><body><article class='post'><h2>Post 1</h2><div class='content'>"
                         "Acme im Forum.</div><a class='permalink' href='/forum/1#post-1'>#</a></article>"
                         "</body></html>")
    site.add("/sitemap.xml", urlset([(site.url("/forum/1"), "2026-11-20")]), content_type="application/xml")
    config = write_config(
        tmp_path,
        f"  - name: forum\n    page: {site.url('/forum/1')}\n    items: article.post\n"
        "    fields: {title: h2, text: .content, link: 'a.permalink@href'}\n"
        f"  - name: map\n    sitemap: {site.url('/sitemap.xml')}\n",
    )
    state = str(tmp_path / "state.db")
    result, records = scan(config, "--state", state, "--source", "forum")
    assert (result.exit_code, [r["url"] for r in records]) == (0, [site.url("/forum/1#post-1")])
    result, records = scan(config, "--state", state, "--source", "map")
    assert result.exit_code == 0, result.stderr
    assert [r["url"] for r in records] == [site.url("/forum/1")]
    assert "if-none-match" not in site.request_headers["/forum/1"]  # its own first request

    fresh = tmp_path / "fresh.db"  # both sources in one scan: the second to ask has no 304 either
    result, records = scan(config, "--state", str(fresh))
    assert sorted(r["url"] for r in records) == [site.url("/forum/1"), site.url("/forum/1#post-1")]


def test_an_index_that_lists_only_itself_fails_the_source(site: LocalSite, tmp_path: Path) -> None:
    """It read as a quiet sitemap, run after run: exit 0 and no pages, a broken source unseen."""
    site.add("/index.xml", index_of(site.url("/index.xml")), content_type="application/xml")
    site.add("/a.xml", index_of(site.url("/b.xml")), content_type="application/xml")
    site.add("/b.xml", index_of(site.url("/a.xml")), content_type="application/xml")
    config = write_config(tmp_path, f"  - name: self\n    sitemap: {site.url('/index.xml')}\n"
                                    f"  - name: loop\n    sitemap: {site.url('/a.xml')}\n")
    state = str(tmp_path / "state.db")
    result, records = scan(config, "--state", state)
    assert (result.exit_code, records) == (1, [])
    for name in ("self", "loop"):
        assert (f"source '{name}' failed: parse error: the sitemap index lists only itself "
                "or sitemaps already read, no pages") in result.stderr
    assert "Traceback" not in result.stderr
    assert site.requests["/index.xml"] == 1
    result, records = scan(config, "--state", state)  # and on the next run (named only once)
    assert (result.exit_code, records, site.requests["/index.xml"]) == (1, [], 2)


def test_a_loop_of_indexes_with_pages_reads_them_once(site: LocalSite, tmp_path: Path) -> None:
    site.add("/b/1", article("Eins", "Acme eins."))
    site.add("/a.xml", index_of(site.url("/b.xml")), content_type="application/xml")
    site.add("/b.xml", index_of(site.url("/a.xml"), site.url("/b-pages.xml")), content_type="application/xml")
    site.add("/b-pages.xml", urlset([(site.url("/b/1"), "2026-01-01")]), content_type="application/xml")
    config = write_config(tmp_path, f"  - name: loop\n    sitemap: {site.url('/a.xml')}\n")
    state = str(tmp_path / "state.db")
    result, records = scan(config, "--state", state)
    assert result.exit_code == 0, result.stderr
    assert [r["url"] for r in records] == [site.url("/b/1")]
    assert (site.requests["/a.xml"], site.requests["/b.xml"], site.requests["/b/1"]) == (1, 1, 1)
    result, records = scan(config, "--state", state)  # every file 304: still no failure
    assert (result.exit_code, records) == (0, []), result.stderr
    assert site.requests["/b-pages.xml"] == 2


def test_an_empty_sitemap_is_no_error(site: LocalSite, tmp_path: Path) -> None:
    site.add("/empty.xml", urlset([]), content_type="application/xml")
    site.add("/index.xml", index_of(site.url("/index.xml"), site.url("/empty.xml")),
             content_type="application/xml")
    config = write_config(tmp_path, f"  - name: empty\n    sitemap: {site.url('/empty.xml')}\n"
                                    f"  - name: idx\n    sitemap: {site.url('/index.xml')}\n")
    result, records = scan(config, "--no-state")
    assert (result.exit_code, records) == (0, []), result.stderr
