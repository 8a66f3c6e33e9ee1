"""Fetcher.get against a real misbehaving server on 127.0.0.1: one case per misbehaviour."""

from __future__ import annotations

import asyncio
import time
import tracemalloc
import uuid
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import pytest

from mentions.config import HttpConfig
from mentions.errors import FetchError
from mentions.fetch import Fetcher, Response
from mentions.fetch.netguard import AddressPolicy, IPAddress, resolve
from tests.faultserver import ETAG, LAST_MODIFIED, FaultServer, rss
from tests.localsite import LocalSite

TIMEOUT = 1.5
HTTP = HttpConfig(timeout=TIMEOUT, retries=1, delay=0, per_host=8, max_bytes=1_000_000)
# Tests pretend 127.0.0.1 is a public address; 127.0.0.2 plays the private network.
PRETEND_PUBLIC = AddressPolicy(allow=["127.0.0.1/32"])


class FakeDns:
    """Test names: `two-faced.test` has a "public" and a private address; `rebind.test`
    answers "public" first and private after that (DNS rebinding)."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.asked.append(host)
        if host == "two-faced.test":
            return [ip_address("127.0.0.1"), ip_address("::1")]
        if host == "rebind.test":
            return [ip_address("127.0.0.1" if self.asked.count(host) == 1 else "127.0.0.2")]
        return await resolve(host, port)


def fetch(url: str, http: HttpConfig = HTTP, **kwargs: Any) -> tuple[Response | FetchError, float]:
    async def run() -> Response | FetchError:
        async with Fetcher(http, address_policy=PRETEND_PUBLIC, resolver=FakeDns()) as fetcher:
            try:
                return await fetcher.get(url, **kwargs)
            except FetchError as error:
                return error

    started = time.monotonic()
    outcome = asyncio.run(run())
    return outcome, time.monotonic() - started


def unique(path: str) -> str:
    return f"{path}?k={uuid.uuid4().hex}"


BOUND = Fetcher(HTTP).request_bound()

# (path, robots mode, expected reason or None for success, seconds it may take at most)
CASES = [
    ("/ok", "none", None, 1),
    ("/feed", "none", None, 1),
    ("/huge-header", "none", None, 1),
    ("/cookie-storm", "none", None, 1),
    ("/drip", "none", "timeout", TIMEOUT + 1.0),
    ("/drip-headers", "none", "timeout", TIMEOUT + 1.0),
    ("/hang-headers", "none", "timeout", TIMEOUT + 1.0),
    ("/hang-body", "none", "timeout", TIMEOUT + 1.0),
    ("/reset", "none", "connection failed", 2),
    ("/reset-mid-body", "none", "connection failed", 2),
    ("/short", "none", "protocol error", 2),
    ("/close-before-headers", "none", "protocol error", 2),
    ("/always/500", "none", "http status", 2),
    ("/always/404", "none", "http status", 1.0),
    ("/always/410", "none", "http status", 1.0),
    ("/429/86400", "none", "rate-limited", 1.0),
    ("/429-date/tomorrow", "none", "rate-limited", 1.0),
    ("/loop/a", "none", "redirect", 1),
    ("/chain/11", "none", "redirect", 2),
    ("/chain/10", "none", None, 2),
    ("/to-ftp", "none", "redirect", 1.0),
    ("/to-file", "none", "redirect", 1.0),
    ("/relative/a/b", "none", None, 1.0),
    ("/no-location", "none", "http status", 1.0),
    ("/gzip-bomb", "none", "too large", 3),
    ("/double-gzip", "none", "too large", 3),
    ("/gzip-ok", "none", None, 1.0),
    ("/gzip-twice-ok", "none", None, 1.0),
    ("/bad-gzip", "none", "invalid compression", 1.0),
    ("/truncated-gzip", "none", "invalid compression", 1.0),
    ("/deflate-zlib", "none", None, 1.0),
    ("/deflate-raw", "none", None, 1.0),
    ("/brotli", "none", "invalid compression", 1.0),
    ("/huge", "none", "too large", 1),
    ("/huge-chunked", "none", "too large", 1),
    ("/chunked-garbage", "none", "protocol error", 2),
    ("/empty", "none", "empty response", 1.0),
    ("/no-content", "none", "empty response", 1.0),
    ("/html-for-feed", "none", None, 1.0),
    ("/wrong-type", "none", None, 1.0),
    ("/cf-403", "none", "bot challenge", 1.0),
    ("/cf-503", "none", "bot challenge", 1.0),
    ("/cf-200", "none", "bot challenge", 1.0),
    ("/ddos-guard", "none", "bot challenge", 1.0),
    ("/captcha", "none", "bot challenge", 1.0),
    ("/ok", "disallow", "robots.txt", 1.0),
    ("/ok", "error", "robots.txt", 1.0),
    ("/ok", "hang", "robots.txt", TIMEOUT + 1.0),
    ("/ok", "missing", None, 1.0),
    ("/http10", "none", None, 1.0),
    ("/long-header", "none", "protocol error", 2),
    ("/many-headers", "none", "protocol error", 2),
    ("/garbage", "none", "protocol error", 2),
]


@pytest.mark.parametrize(
    ("path", "robots", "reason", "limit"), CASES, ids=[f"{c[0]}@{c[1]}" for c in CASES]
)
def test_fetch_outcome(
    fault_server: FaultServer, path: str, robots: str, reason: str | None, limit: float
) -> None:
    outcome, elapsed = fetch(fault_server.url(path, robots))
    if reason is None:
        assert isinstance(outcome, Response), outcome
        assert outcome.status == 200 and outcome.body
    else:
        assert isinstance(outcome, FetchError), outcome
        assert outcome.reason == reason, f"{outcome.reason}: {outcome.detail}"
        assert outcome.reason in FetchError.REASONS
    assert elapsed < limit, f"took {elapsed:.2f} s"
    assert elapsed < BOUND


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_then_success_is_retried(fault_server: FaultServer, status: int) -> None:
    target = unique(f"/flaky/{status}/1")
    outcome, elapsed = fetch(fault_server.url(target))
    assert isinstance(outcome, Response), outcome
    assert outcome.body == rss(target.split("?")[0])
    assert fault_server.count(target) == 2
    assert elapsed < 2


def test_retries_stop_at_the_configured_count(fault_server: FaultServer) -> None:
    target = unique("/flaky/503/5")
    outcome, _ = fetch(fault_server.url(target), HTTP.model_copy(update={"retries": 2}))
    assert isinstance(outcome, FetchError) and outcome.status == 503
    assert fault_server.count(target) == 3


def test_reset_then_success_is_retried(fault_server: FaultServer) -> None:
    outcome, _ = fetch(fault_server.url(unique("/flaky-reset")))
    assert isinstance(outcome, Response), outcome


@pytest.mark.parametrize("path", ["/429/1", "/429-date/soon", "/429-date/past", "/503-retry-after"])
def test_retry_after_is_honoured(fault_server: FaultServer, path: str) -> None:
    target = unique(path)
    http = HTTP.model_copy(update={"timeout": 2.0})
    outcome, elapsed = fetch(fault_server.url(target), http)
    assert isinstance(outcome, Response), outcome
    assert fault_server.count(target) == 2
    if path in ("/429/1", "/503-retry-after"):
        assert elapsed >= 0.95  # it waited as asked, not in a tight loop
    assert elapsed < 3.5


def test_304_with_etag_and_last_modified(fault_server: FaultServer) -> None:
    first, _ = fetch(fault_server.url("/etag"))
    assert isinstance(first, Response) and first.etag == ETAG
    assert first.last_modified == LAST_MODIFIED
    by_etag, _ = fetch(fault_server.url("/etag"), etag=first.etag)
    by_date, _ = fetch(fault_server.url("/etag"), last_modified=first.last_modified)
    for answer in (by_etag, by_date):
        assert isinstance(answer, Response)
        assert answer.is_not_modified and answer.body == b""


def test_relative_redirect_gives_final_url(fault_server: FaultServer) -> None:
    outcome, _ = fetch(fault_server.url("/relative/a/b"))
    assert isinstance(outcome, Response)
    assert outcome.url == fault_server.url("/feed")


def test_redirect_chain_of_ten_is_followed(fault_server: FaultServer) -> None:
    outcome, _ = fetch(fault_server.url("/chain/10"))
    assert isinstance(outcome, Response) and outcome.url.endswith("/chain/0")


def test_too_large_never_gives_a_partial_body_and_memory_stays_bounded(
    fault_server: FaultServer,
) -> None:
    tracemalloc.start()
    try:
        for path in ("/gzip-bomb", "/double-gzip", "/huge", "/huge-chunked"):
            outcome, _ = fetch(fault_server.url(path))
            assert isinstance(outcome, FetchError) and outcome.reason == "too large"
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * HTTP.max_bytes, f"peak {peak:,} bytes"


def test_secrets_are_not_sent_to_another_origin(fault_server: FaultServer) -> None:
    http = HTTP.model_copy(
        update={"headers": {"Authorization": "Bearer s3cret", "Accept-Language": "de"}}
    )
    outcome, _ = fetch(
        fault_server.url("/to-other-origin"),
        http,
        headers={"X-Api-Key": "k3y", "X-Auth-Token": "t0k"},
        cookies={"session": "c00kie"},
    )
    assert isinstance(outcome, Response), outcome
    seen = fault_server.headers_seen("/echo", "other")
    assert seen["accept-language"] == "de"
    assert not {"authorization", "x-api-key", "x-auth-token", "cookie"} & set(seen)
    assert b"s3cret" not in outcome.body and b"k3y" not in outcome.body


def test_secrets_are_sent_to_the_same_origin(fault_server: FaultServer) -> None:
    outcome, _ = fetch(fault_server.url("/echo"), headers={"X-Api-Key": "k3y"}, cookies={"a": "1"})
    assert isinstance(outcome, Response)
    assert b"k3y" in outcome.body and b"a=1" in outcome.body


def test_a_header_line_beyond_the_bound_is_named_not_quoted(fault_server: FaultServer) -> None:
    outcome, _ = fetch(fault_server.url("/long-header"))
    assert isinstance(outcome, FetchError) and outcome.reason == "protocol error"
    assert outcome.detail == "a header line longer than 65,536 bytes"


def test_header_names_are_sent_as_browsers_write_them(site: LocalSite) -> None:
    url = site.add("/page", "<p>Acme</p>")

    async def run() -> Response:
        async with Fetcher(HTTP) as fetcher:
            return await fetcher.get(url, headers={"Accept-Language": "de"})

    assert asyncio.run(run()).status == 200
    names = site.header_names["/page"]
    assert {"User-Agent", "Accept", "Accept-Encoding", "Accept-Language", "Host"} <= set(names), names


def test_cookies_a_server_sets_are_never_sent_back(fault_server: FaultServer) -> None:
    """A cookie set while reading one source must not follow us to the next."""

    async def run() -> list[Response]:
        async with Fetcher(HTTP, address_policy=PRETEND_PUBLIC, resolver=FakeDns()) as fetcher:
            return [await fetcher.get(fault_server.url(path)) for path in ("/set-cookie", "/echo")]

    first, echo = asyncio.run(run())
    assert "tracker=t0k3n" in first.headers["set-cookie"]
    assert b"cookie" not in echo.body.lower() and b"t0k3n" not in echo.body


def test_user_agent_and_accept_encoding(fault_server: FaultServer) -> None:
    outcome, _ = fetch(fault_server.url("/echo"), HTTP.model_copy(update={"user_agent": "ua/9"}))
    assert isinstance(outcome, Response)
    assert b"'ua/9'" in outcome.body and b"gzip" in outcome.body


@pytest.mark.parametrize(
    ("written", "sent"),
    [
        ("/echo/päth?q=a b&x=ä", "/echo/p%C3%A4th?q=a%20b&x=%C3%A4"),
        ("/echo/p%C3%A4th?q=a%20b", "/echo/p%C3%A4th?q=a%20b"),  # encoded once, never twice
        ("/echo/a/../b?y=%2F#part", "/echo/b?y=%2F"),
    ],
)
def test_a_url_reaches_the_server_encoded_once(fault_server: FaultServer, written: str, sent: str) -> None:
    outcome, _ = fetch(fault_server.url(written))
    assert isinstance(outcome, Response), outcome
    assert fault_server.count(sent) == 1


@pytest.mark.parametrize("path", ["/to-private", "/to-metadata", "/to-localhost"])
def test_redirect_from_public_to_private_is_blocked(fault_server: FaultServer, path: str) -> None:
    outcome, _ = fetch(fault_server.url(path))
    assert isinstance(outcome, FetchError)
    assert outcome.reason == "blocked address", outcome.detail


def test_remote_choice_to_private_is_blocked(fault_server: FaultServer) -> None:
    outcome, _ = fetch(fault_server.private_url("/ok"), is_remote_choice=True)
    assert isinstance(outcome, FetchError) and outcome.reason == "blocked address"


def test_dns_rebinding_is_caught_at_connect_time(fault_server: FaultServer) -> None:
    url = f"http://rebind.test:{fault_server.ports['none']}/ok"
    outcome, _ = fetch(url, is_remote_choice=True, robots=False)
    assert isinstance(outcome, FetchError) and outcome.reason == "blocked address"
    assert "127.0.0.2" in outcome.detail


def test_config_url_may_point_to_private(fault_server: FaultServer) -> None:
    outcome, _ = fetch(fault_server.private_url("/ok"))
    assert isinstance(outcome, Response)


def test_redirect_between_private_addresses_is_allowed(fault_server: FaultServer) -> None:
    """Without the test's pretence, 127.0.0.1 is private: a redirect inside stays allowed."""

    async def run() -> Response:
        async with Fetcher(HTTP) as fetcher:
            return await fetcher.get(fault_server.url("/to-private"))

    assert asyncio.run(run()).url == fault_server.private_url("/ok")


def test_robots_txt_of_a_public_site_may_not_redirect_inside(fault_server: FaultServer) -> None:
    before = fault_server.count("/robots.txt", "private")
    outcome, _ = fetch(fault_server.url("/ok", "to-private"))
    assert isinstance(outcome, Response)  # no usable robots.txt: allowed, as for a 404
    assert fault_server.count("/robots.txt", "private") == before


def test_robots_opt_out(fault_server: FaultServer) -> None:
    outcome, _ = fetch(fault_server.url("/ok", "disallow"), robots=False)
    assert isinstance(outcome, Response)
    off = HTTP.model_copy(update={"robots": False})
    outcome, _ = fetch(fault_server.url("/ok", "error"), off)
    assert isinstance(outcome, Response)


def test_robots_is_fetched_once_per_origin(fault_server: FaultServer) -> None:
    async def run() -> None:
        async with Fetcher(HTTP) as fetcher:
            await asyncio.gather(
                *(fetcher.get(fault_server.url("/ok", "missing")) for _ in range(5))
            )

    before = fault_server.count("/robots.txt", "missing")
    asyncio.run(run())
    assert fault_server.count("/robots.txt", "missing") == before + 1


def test_tls_to_a_plain_port_fails_cleanly(fault_server: FaultServer) -> None:
    url = fault_server.url("/ok").replace("http://", "https://")
    outcome, elapsed = fetch(url)
    assert isinstance(outcome, FetchError) and outcome.reason == "connection failed"
    assert elapsed < 1


def test_nothing_listening(fault_server: FaultServer) -> None:
    outcome, elapsed = fetch("http://127.0.0.1:9/feed")
    assert isinstance(outcome, FetchError) and outcome.reason == "connection failed"
    assert outcome.detail == "connection refused"
    assert elapsed < 2


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.org/",
        "file:///etc/passwd",
        "http://",
        "nonsense",
        "http://[::1",
        "http://host:99999/",
    ],
)
def test_unsupported_urls(url: str) -> None:
    outcome, _ = fetch(url)
    assert isinstance(outcome, FetchError) and outcome.reason == "unsupported url"


def test_query_strings_never_reach_messages(fault_server: FaultServer) -> None:
    outcome, _ = fetch(fault_server.url("/always/404?token=s3cret&key=abc"))
    assert isinstance(outcome, FetchError)
    assert "s3cret" not in outcome.url and "s3cret" not in str(outcome)


def test_per_host_delay_spaces_requests(fault_server: FaultServer) -> None:
    http = HTTP.model_copy(update={"delay": 0.2, "per_host": 4, "robots": False})

    async def run() -> None:
        async with Fetcher(http) as fetcher:
            await asyncio.gather(*(fetcher.get(fault_server.url("/ok")) for _ in range(4)))

    started = time.monotonic()
    asyncio.run(run())
    assert 0.55 < time.monotonic() - started < 2


def test_many_sources_on_one_slow_host_do_not_time_out_while_queueing(
    fault_server: FaultServer,
) -> None:
    """Queueing for a per-host slot is not charged to a request's deadline."""
    http = HTTP.model_copy(
        update={"per_host": 1, "delay": 0.15, "timeout": 0.5, "retries": 0, "robots": False}
    )

    async def run() -> list[Response]:
        async with Fetcher(http) as fetcher:
            return await asyncio.gather(*(fetcher.get(fault_server.url("/ok")) for _ in range(6)))

    assert len(asyncio.run(run())) == 6  # the last waits 0.75 s > its 0.5 s timeout


def test_per_source_timeout_wins(fault_server: FaultServer) -> None:
    outcome, elapsed = fetch(fault_server.url("/hang-headers"), timeout=0.3)
    assert isinstance(outcome, FetchError) and outcome.reason == "timeout"
    assert elapsed < 0.8


def test_remote_choice_from_a_private_page_may_stay_inside(fault_server: FaultServer) -> None:
    private_page = fault_server.private_url("/forum")
    outcome, _ = fetch(
        fault_server.private_url("/ok"), is_remote_choice=True, chosen_by=private_page
    )
    assert isinstance(outcome, Response)
    outcome, _ = fetch(
        fault_server.private_url("/ok"), is_remote_choice=True, chosen_by=fault_server.url("/forum")
    )  # a "public" page
    assert isinstance(outcome, FetchError) and outcome.reason == "blocked address"


def test_per_source_proxy(fault_server: FaultServer) -> None:
    url = "http://feeds.example.invalid/feed"
    outcome, _ = fetch(url, proxy=fault_server.url(""), robots=False)
    assert isinstance(outcome, Response) and b"<rss" in outcome.body
    assert fault_server.hits["proxied:" + url] == 1


def test_proxy_from_the_environment(
    fault_server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", fault_server.url(""))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    url = "http://env-proxy.example.invalid/feed"
    outcome, _ = fetch(url, robots=False)
    assert isinstance(outcome, Response) and b"<rss" in outcome.body
    assert fault_server.hits["proxied:" + url] == 1


def test_decoded_bodies_lose_their_encoding_headers(fault_server: FaultServer) -> None:
    outcome, _ = fetch(fault_server.url("/gzip-ok"))
    assert isinstance(outcome, Response) and b"<rss" in outcome.body
    assert "content-encoding" not in outcome.headers


def test_httpx_request_lines_with_tokens_are_not_logged(
    fault_server: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    with caplog.at_level(logging.DEBUG):
        fetch(fault_server.url("/ok?token=s3cret"))
        fetch(fault_server.url("/always/503?token=s3cret"))
    assert caplog.records, "expected our own redacted log lines"
    assert "s3cret" not in caplog.text


@pytest.mark.parametrize("direct", ["none", '""'])
def test_a_source_with_proxy_none_goes_direct_past_the_global_proxy(
    fault_server: FaultServer, site: LocalSite, tmp_path: Path, direct: str
) -> None:
    """`proxy: ""` passed `check` and was ignored (`proxy or http.proxy`): the source still
    went through `http: {proxy: …}`. Its robots.txt goes direct too."""
    from typer.testing import CliRunner

    from mentions.cli import app

    site.add("/feed", rss("/feed"), content_type="application/rss+xml")
    proxied = f"http://proxied-{uuid.uuid4().hex}.example.invalid/feed"
    config = tmp_path / "mentions.yaml"
    config.write_text(f"""version: 1
http: {{proxy: "{fault_server.url('')}", delay: 0, retries: 0, timeout: 5}}
keywords:
  - {{name: acme, terms: [Acme]}}
sources:
  - name: direct
    feed: {site.url('/feed')}
    proxy: {direct}
  - name: through-the-proxy
    feed: {proxied}
""", encoding="utf-8")
    assert CliRunner().invoke(app, ["check", "-c", str(config)]).exit_code == 0
    result = CliRunner().invoke(app, ["scan", "-c", str(config), "--no-state", "-f", "jsonl"])
    assert result.exit_code == 0, result.stderr
    assert (site.requests["/robots.txt"], site.requests["/feed"]) == (1, 1)
    assert not [hit for hit in fault_server.hits if hit.startswith("proxied:") and site.base in hit]
    assert fault_server.hits["proxied:" + proxied] == 1
