"""`page:` sources across pages: how `next` is read, where links lead, what a failing page keeps."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.localsite import LocalSite
from tests.scanning import scan, write_config

POST = '<article class="post"><a class="pl" href="{link}">#</a><p class="c">{text}</p></article>'


def thread(*posts: tuple[str, str], next_link: str | None = None, head: str = "") -> str:
    """A forum page of (link, text) posts, with a `rel=next` link when given."""
    body = "".join(POST.format(link=link, text=text) for link, text in posts)
    more = f'<a rel="next" href="{next_link}">next</a>' if next_link else ""
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}{more}</body></html>"


def page_source(url: str, next_selector: str = "a[rel=next]@href") -> str:
    return (f"  - name: forum\n    page: {url}\n    items: article.post\n"
            "    fields: {text: .c, link: 'a.pl@href'}\n"
            f"    next: '{next_selector}'\n    max_pages: 3\n")


def test_next_without_an_attribute_follows_the_links_href(site: LocalSite, tmp_path: Path) -> None:
    """`next: a[rel=next]` means the link's target, not its text ("next")."""
    url = site.add("/t/1", thread(("/t/1#p1", "Acme one"), next_link="/t/2"))
    site.add("/t/2", thread(("/t/2#p2", "Acme two")))
    result, records = scan(write_config(tmp_path, page_source(url, "a[rel=next]")), "--no-state")
    assert result.exit_code == 0, result.output
    assert sorted(r["url"] for r in records) == [f"{site.base}/t/1#p1", f"{site.base}/t/2#p2"]


def test_links_are_resolved_against_the_pages_base_href(site: LocalSite, tmp_path: Path) -> None:
    """As a browser does: `<base href="/real/">` with `href="post-1"` is `/real/post-1`."""
    head = '<base href="/real/">'
    url = site.add("/t/1", thread(("post-1", "Acme one"), next_link="page-2", head=head))
    site.add("/real/page-2", thread(("post-2", "Acme two")))
    result, records = scan(write_config(tmp_path, page_source(url)), "--no-state")
    assert result.exit_code == 0, result.output
    assert sorted(r["url"] for r in records) == [f"{site.base}/real/post-1", f"{site.base}/real/post-2"]


@pytest.mark.parametrize("failure", ["404", "503", "robots"])
def test_a_failing_next_page_keeps_the_pages_read_and_fails_the_source(
    site: LocalSite, tmp_path: Path, failure: str
) -> None:
    """Page 1 is a complete document: its mentions are out, and the failure is reported with
    the reason of page 2, so the next run reads page 1 again in full (no validators kept)."""
    url = site.add("/t/1", thread(("/t/1#p1", "Acme one"), next_link="/t/2"))
    if failure == "robots":
        site.add("/robots.txt", "User-agent: *\nDisallow: /t/2\n", content_type="text/plain")
        site.add("/t/2", thread(("/t/2#p2", "Acme two")))
    else:
        site.add("/t/2", "down", content_type="text/plain", status=int(failure))
    sources = page_source(url) + ("    robots: true\n" if failure == "robots" else "")
    config = write_config(tmp_path, sources)
    result, records = scan(config)
    assert result.exit_code == 1, result.output
    assert [r["url"] for r in records] == [f"{site.base}/t/1#p1"]
    assert f"{site.base}/t/2" in result.stderr
    assert site.requests["/t/2"] == (0 if failure == "robots" else 1)
    again, repeated = scan(config)
    assert again.exit_code == 1 and repeated == []  # page 1's mention was recorded
    assert site.requests["/t/1"] == 2 and site.not_modified["/t/1"] == 0


def test_a_next_link_to_the_same_page_with_a_fragment_is_not_fetched_again(
    site: LocalSite, tmp_path: Path
) -> None:
    url = site.add("/t/1", thread(("/t/1#p1", "Acme one"), next_link="/t/1#comments"))
    result, records = scan(write_config(tmp_path, page_source(url)), "--no-state")
    assert result.exit_code == 0, result.output
    assert len(records) == 1
    assert site.requests["/t/1"] == 1


def test_test_source_shows_the_pages_read_before_a_failing_one(site: LocalSite, tmp_path: Path) -> None:
    """For debugging selectors: the documents of page 1, then why page 2 failed (exit 1)."""
    from typer.testing import CliRunner

    from mentions.cli import app

    url = site.add("/t/1", thread(("/t/1#p1", "Acme one"), next_link="/t/2"))
    site.add("/t/2", "gone", status=404)
    config = write_config(tmp_path, page_source(url))
    result = CliRunner().invoke(app, ["test-source", "forum", "-c", str(config)])
    assert result.exit_code == 1
    assert "Acme one" in result.stdout
    assert "forum: 1 document" in result.stderr
    assert "forum: http status: HTTP 404" in result.stderr and "(after the documents above)" in result.stderr


def test_posts_of_a_page_nested_100000_deep_are_read_through_the_depth_limit(
    site: LocalSite, tmp_path: Path
) -> None:
    """`items:` pages are parsed as main-text pages are, with the depth limit (lexbor alone took
    22 s on this page): the post before the nesting is found; tags nested deeper than 1,500
    levels are dropped with their text kept, so the post down there is no post."""
    post = "<article class='post'><h2>{0}</h2><div class='content'>Acme {0}</div></article>"
    body = ("<html><body>" + post.format("first") + "<div>" * 100_000 + post.format("deep")
            + "</div>" * 100_000 + "</body></html>")
    url = site.add("/forum", body)
    config = write_config(tmp_path, f"  - name: forum\n    page: {url}\n    items: article.post\n"
                                    "    fields: {title: h2, text: .content}\n")
    result, records = scan(config, "--no-state")
    assert result.exit_code == 0, result.stderr
    assert [record["title"] for record in records] == ["first"]


def test_binary_data_served_as_a_page_fails_instead_of_reading_as_empty(site: LocalSite, tmp_path: Path) -> None:
    """An image served as text/html read as a page with no text, run after run, silently;
    UTF-16 pages (NULs at every second byte) and a stray control character are still pages."""
    import zlib

    png = b"\x89PNG\r\n\x1a\n" + zlib.compress(bytes(range(256)) * 40, 0)
    page = "<html><body><p>Acme in UTF-16\x0b</p></body></html>"
    sources = (f"  - name: image\n    page: {site.add('/logo', png)}\n"
               f"  - name: wide\n    page: {site.add('/wide', page.encode('utf-16-le'), content_type='text/html; charset=utf-16le')}\n")
    result, records = scan(write_config(tmp_path, sources), "--no-state")
    assert result.exit_code == 1
    assert "source 'image' failed: not html: the answer is binary data" in result.stderr
    assert [record["source"] for record in records] == ["wide"]
