"""A login in a source URL (`http://user:pass@host/feed.xml`) is HTTP Basic auth: sent to that
URL's origin only, and never shown or stored."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest

from mentions.errors import FetchError
from mentions.fetch import Fetcher
from tests.conftest import run_cli
from tests.localsite import LocalSite
from tests.test_fetch import HTTP
from tests.test_redact import _state_dump

PASSWORD = "s3cr@t:pw/1"  # `@`, `:` and `/` must be percent-encoded in a URL
WRITTEN = "s3cr%40t%3Apw%2F1"
FEED = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Intern</title>
<item><title>Acme intern</title><link>{base}/1</link><description>Acme im Intranet</description>
<wfw:commentRss xmlns:wfw="http://wellformedweb.org/CommentAPI/">{base}/1/comments.xml</wfw:commentRss>
</item></channel></rss>"""
COMMENTS = """<?xml version="1.0"?><rss version="2.0"><channel><title>c</title>
<item><title>Re: Acme</title><link>{base}/1#c1</link><description>Acme Kommentar</description></item>
</channel></rss>"""


def config(tmp_path: Path, url: str, extra: str = "") -> Path:
    path = tmp_path / "mentions.yaml"
    path.write_text(
        "version: 1\nhttp: {delay: 0, retries: 0, timeout: 5, robots: false}\nstate: ./state.db\n"
        f"keywords:\n  - name: acme\n    terms: [Acme]\nsources:\n  - name: intern\n    feed: \"{url}\"\n{extra}"
    )
    return path


def with_login(url: str, login: str) -> str:
    return url.replace("http://", f"http://{login}@", 1)


def scan(path: Path, env: dict[str, str] | None = None) -> tuple[int, list[dict[str, object]], str]:
    done = run_cli("scan", "-c", str(path), "--format", "jsonl", "-v", env=env)
    records = [json.loads(line) for line in done.stdout.decode().splitlines()]
    return done.returncode, records, done.stdout.decode() + done.stderr.decode()


def test_a_login_in_the_url_is_sent_as_basic_auth_and_shown_nowhere(site: LocalSite, tmp_path: Path) -> None:
    site.add("/feed.xml", FEED.format(base=site.base), content_type="application/rss+xml",
             login=f"editor:{PASSWORD}")
    path = config(tmp_path, with_login(site.url("/feed.xml"), f"editor:{WRITTEN}"))
    code, records, output = scan(path)
    assert code == 0, output
    assert [record["title"] for record in records] == ["Acme intern"]
    assert site.requests["/feed.xml"] == 1  # asked with the login at once, not after a 401
    listed = run_cli("sources", "-c", str(path), "--format", "jsonl")
    for text in (output, listed.stdout.decode() + listed.stderr.decode(), _state_dump(tmp_path)):
        assert "editor" not in text and WRITTEN not in text and PASSWORD not in text


def test_the_fetcher_logs_and_answers_the_url_without_its_login(
    site: LocalSite, caplog: pytest.LogCaptureFixture
) -> None:
    site.add("/feed.xml", FEED.format(base=site.base), login=f"editor:{PASSWORD}")
    site.add("/gone.xml", "gone", status=404, login=f"editor:{PASSWORD}")

    async def run() -> None:
        async with Fetcher(HTTP) as fetcher:
            response = await fetcher.get(with_login(site.url("/feed.xml"), f"editor:{WRITTEN}"))
            assert response.url == site.url("/feed.xml")  # the base of every link in the feed
            with pytest.raises(FetchError) as failed:
                await fetcher.get(with_login(site.url("/gone.xml"), f"editor:{WRITTEN}"))
            assert failed.value.url == site.url("/gone.xml") and failed.value.status == 404

    with caplog.at_level(logging.DEBUG, logger="mentions"):
        asyncio.run(run())
    assert f"GET {site.url('/feed.xml')} -> 200" in caplog.text
    assert "editor" not in caplog.text and WRITTEN not in caplog.text


def test_a_wrong_or_missing_login_fails_with_401_and_no_password(site: LocalSite, tmp_path: Path) -> None:
    site.add("/feed.xml", FEED.format(base=site.base), content_type="application/rss+xml",
             login=f"editor:{PASSWORD}")
    for url in (site.url("/feed.xml"), with_login(site.url("/feed.xml"), "editor:wrong-password")):
        code, records, output = scan(config(tmp_path, url))
        assert code == 1 and records == []
        assert f"source 'intern' failed: http status: HTTP 401: {site.url('/feed.xml')}" in output
        assert "wrong-password" not in output and "editor" not in output


def test_a_login_from_the_environment(site: LocalSite, tmp_path: Path) -> None:
    site.add("/feed.xml", FEED.format(base=site.base), content_type="application/rss+xml",
             login="editor:from-the-env")
    path = config(tmp_path, with_login(site.url("/feed.xml"), "editor:${FEED_PW}"))
    code, records, output = scan(path, env={"FEED_PW": "from-the-env"})
    assert code == 0, output
    assert len(records) == 1 and "from-the-env" not in output


def test_a_login_is_not_sent_on_a_redirect_to_another_origin(site: LocalSite, tmp_path: Path) -> None:
    other = LocalSite().start()  # another port on 127.0.0.1: another origin
    try:
        other.add("/moved.xml", FEED.format(base=other.base), content_type="application/rss+xml")
        site.add("/feed.xml", b"", status=302, headers={"Location": other.url("/moved.xml")},
                 login=f"editor:{PASSWORD}")
        code, records, output = scan(config(tmp_path, with_login(site.url("/feed.xml"), f"editor:{WRITTEN}")))
        assert code == 0, output
        assert site.requests["/feed.xml"] == 1 and other.requests["/moved.xml"] == 1
        assert "authorization" not in other.request_headers["/moved.xml"]
        assert [record["title"] for record in records] == ["Acme intern"]
    finally:
        other.stop()


def test_the_login_reaches_the_same_sites_comment_feeds(site: LocalSite, tmp_path: Path) -> None:
    site.add("/feed.xml", FEED.format(base=site.base), content_type="application/rss+xml",
             login=f"editor:{PASSWORD}")
    site.add("/1/comments.xml", COMMENTS.format(base=site.base), content_type="application/rss+xml",
             login=f"editor:{PASSWORD}")
    path = config(tmp_path, with_login(site.url("/feed.xml"), f"editor:{WRITTEN}"), "    comments: true\n")
    code, records, output = scan(path)
    assert code == 0, output
    assert sorted(str(record["title"]) for record in records) == ["Acme intern", "Re: Acme"]


@pytest.mark.parametrize("name", ["Authorization", "authorization"])
def test_an_authorization_header_of_the_source_wins(site: LocalSite, tmp_path: Path, name: str) -> None:
    site.add("/feed.xml", FEED.format(base=site.base), content_type="application/rss+xml",
             login="token:from-header")
    header = "Basic dG9rZW46ZnJvbS1oZWFkZXI="  # token:from-header
    extra = f"    headers: {{{name}: \"{header}\"}}\n"
    code, records, output = scan(config(tmp_path, with_login(site.url("/feed.xml"), "editor:other"), extra))
    assert code == 0, output
    assert len(records) == 1
    assert site.request_headers["/feed.xml"]["authorization"] == header


def test_a_config_error_about_the_url_does_not_repeat_the_login(tmp_path: Path) -> None:
    path = config(tmp_path, f"http://editor:{WRITTEN}@example.org:99999/feed.xml")
    done = run_cli("check", "-c", str(path))
    assert done.returncode == 2
    assert "http://example.org:99999/feed.xml" in done.stderr.decode() and "port" in done.stderr.decode()
    assert "editor" not in done.stderr.decode() and WRITTEN not in done.stderr.decode()
